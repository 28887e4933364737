/* The Parquet reader: footer, projection, row groups decoded into Arrow
 * batches (one batch per row group; memory bounded by its working set). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "firn/io.h"
#include "firn/parquet.h"
#include "parquet/pq_encoding.h"
#include "parquet/pq_meta.h"
#include "parquet/pq_schema.h"
#include "util/parallel.h"

/* Bytes read from the end at open: footers of files firn and others write
 * are mostly smaller. */
#define TAIL_GUESS (64 * 1024)

struct firn_parquet_reader {
	char *path;
	struct firn_io_input *in; /* only byte ranges are read: the tail once, then chunks */
	int64_t file_size;
	int64_t data_end; /* where the footer starts */
	struct firn_arena arena;
	struct pq_file_meta meta;
	struct pq_schema ps;
	bool int96_strict; /* sub-microsecond INT96 digits are an error */
};

void firn_parquet_reader_set_strict_int96(struct firn_parquet_reader *r, bool strict)
{
	r->int96_strict = strict;
}

static int corrupt(const struct firn_parquet_reader *r, struct firn_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int corrupt(const struct firn_parquet_reader *r, struct firn_error *err, const char *fmt, ...)
{
	char msg[FIRN_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return firn_error_set(err, FIRN_ECORRUPT, "%s: %s", r->path, msg);
}

static int read_at(const struct firn_parquet_reader *r, void *buf, size_t n, int64_t off,
		   struct firn_error *err)
{
	if (off < 0 || off > r->file_size || n > (uint64_t)(r->file_size - off))
		return corrupt(r, err, "truncated at byte %lld", (long long)r->file_size);
	return firn_io_read_at(r->in, off, n, buf, err);
}

/* Checks what the decoder relies on, once, at open. */
static int validate(struct firn_parquet_reader *r, struct firn_error *err)
{
	const struct pq_file_meta *m = &r->meta;
	if (m->num_rows < 0)
		return corrupt(r, err, "negative num_rows");
	int64_t rows = 0;
	for (int g = 0; g < m->n_row_groups; g++) {
		const struct pq_row_group *rg = &m->row_groups[g];
		if (rg->num_rows < 0 || rg->num_rows > INT32_MAX)
			return corrupt(r, err, "row group %d: bad num_rows %lld", g, (long long)rg->num_rows);
		rows += rg->num_rows;
		if (rg->n_columns != r->ps.n_leaves)
			return corrupt(r, err, "row group %d: %d column chunks for %d columns", g,
				       rg->n_columns, r->ps.n_leaves);
		for (int c = 0; c < rg->n_columns; c++) {
			const struct pq_column_chunk *cc = &rg->columns[c];
			const struct pq_node *leaf = &r->ps.nodes[r->ps.leaves[c]];
			if (!cc->has_meta_data)
				return corrupt(r, err, "row group %d: column %d: no metadata", g, c);
			if (cc->file_path != NULL)
				return firn_error_set(err, FIRN_EUNSUPPORTED,
						      "%s: column chunk in another file (%s)", r->path, cc->file_path);
			const struct pq_column_meta *cm = &cc->meta_data;
			if (cm->type != leaf->ptype)
				return corrupt(r, err, "row group %d: column %s: type %d, schema says %d", g,
					       r->ps.leaf_paths[c], cm->type, leaf->ptype);
			if (cm->num_values < 0 || cm->total_compressed_size < 0 ||
			    (cm->num_values > 0 &&
			     (cm->data_page_offset < 4 || cm->data_page_offset >= r->data_end)))
				return corrupt(r, err, "row group %d: column %s: bad offsets or sizes", g,
					       r->ps.leaf_paths[c]);
		}
	}
	(void)rows; /* some writers leave num_rows at 0; row groups decide */
	return 0;
}

int firn_parquet_reader_open(struct firn_parquet_reader **out, const char *path,
			     struct firn_error *err)
{
	*out = NULL;
	struct firn_parquet_reader *r = firn_calloc(1, sizeof(*r));
	if (r == NULL)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc;
	uint8_t *footer = NULL;
	r->path = firn_strdup(path);
	if (r->path == NULL) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = firn_io_open_read(path, &r->in, err)) != 0)
		goto fail;
	r->file_size = r->in->size;
	if (r->file_size < 12) {
		rc = corrupt(r, err, "not a parquet file (%lld bytes)", (long long)r->file_size);
		goto fail;
	}
	/* One read of the tail, which usually holds the whole footer; a second
	 * only for a footer larger than the guess. The leading magic is checked
	 * when the tail read covers it (a remote store pays for every request). */
	size_t tail_n = r->file_size < TAIL_GUESS ? (size_t)r->file_size : TAIL_GUESS;
	int64_t tail_at = r->file_size - (int64_t)tail_n;
	footer = firn_malloc(tail_n);
	if (footer == NULL) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = read_at(r, footer, tail_n, tail_at, err)) != 0)
		goto fail;
	const uint8_t *tail = footer + tail_n - 8;
	if ((tail_at == 0 && memcmp(footer, "PAR1", 4) != 0) || memcmp(tail + 4, "PAR1", 4) != 0) {
		rc = corrupt(r, err, memcmp(tail + 4, "PARE", 4) == 0 ?
			     "encrypted parquet files are not supported" : "not a parquet file (bad magic)");
		goto fail;
	}
	uint32_t flen;
	memcpy(&flen, tail, 4);
	if ((int64_t)flen > r->file_size - 12 || flen == 0) {
		rc = corrupt(r, err, "footer length %u does not fit a %lld-byte file", flen,
			     (long long)r->file_size);
		goto fail;
	}
	r->data_end = r->file_size - 8 - (int64_t)flen;
	const uint8_t *fbytes;
	if ((size_t)flen + 8 <= tail_n) {
		fbytes = footer + (tail_n - 8 - flen);
	} else {
		firn_free(footer);
		footer = firn_malloc(flen);
		if (footer == NULL) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = read_at(r, footer, flen, r->data_end, err)) != 0)
			goto fail;
		fbytes = footer;
	}
	if ((rc = firn_pq__parse_file_meta(fbytes, flen, &r->arena, &r->meta, err)) != 0) {
		firn_error_prefix(err, "%s", path);
		goto fail;
	}
	firn_free(footer);
	footer = NULL;
	if ((rc = firn_pq__schema_from_elements(r->meta.schema, r->meta.n_schema, &r->arena, &r->ps, err)) != 0) {
		firn_error_prefix(err, "%s", path);
		goto fail;
	}
	if ((rc = validate(r, err)) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	firn_free(footer);
	firn_parquet_reader_free(r);
	return rc;
}

void firn_parquet_reader_free(struct firn_parquet_reader *r)
{
	if (r == NULL)
		return;
	firn_io_input_close(r->in);
	firn_arena_free(&r->arena);
	firn_free(r->path);
	firn_free(r);
}

int64_t firn_parquet_reader_num_rows(const struct firn_parquet_reader *r)
{
	int64_t n = 0;
	for (int g = 0; g < r->meta.n_row_groups; g++)
		n += r->meta.row_groups[g].num_rows;
	return n;
}

int firn_parquet_reader_num_row_groups(const struct firn_parquet_reader *r) { return r->meta.n_row_groups; }
int64_t firn_parquet_reader_row_group_rows(const struct firn_parquet_reader *r, int rg)
{
	return rg >= 0 && rg < r->meta.n_row_groups ? r->meta.row_groups[rg].num_rows : 0;
}
const char *firn_parquet_reader_created_by(const struct firn_parquet_reader *r) { return r->meta.created_by; }
int firn_parquet_reader_version(const struct firn_parquet_reader *r) { return r->meta.version; }
int firn_parquet_reader_kv_count(const struct firn_parquet_reader *r) { return r->meta.n_key_value_metadata; }
void firn_parquet_reader_kv(const struct firn_parquet_reader *r, int i, const char **key, const char **value)
{
	*key = r->meta.key_value_metadata[i].key;
	*value = r->meta.key_value_metadata[i].value;
}
int64_t firn_parquet_reader_row_group_bytes(const struct firn_parquet_reader *r, int rg,
					    int64_t *compressed, int64_t *file_offset)
{
	const struct pq_row_group *g = &r->meta.row_groups[rg];
	int64_t comp = 0;
	for (int c = 0; c < g->n_columns; c++)
		comp += g->columns[c].meta_data.total_compressed_size;
	if (compressed)
		*compressed = g->has_total_compressed_size ? g->total_compressed_size : comp;
	if (file_offset) {
		const struct pq_column_meta *m = &g->columns[0].meta_data;
		*file_offset = g->has_file_offset ? g->file_offset :
			       m->has_dictionary_page_offset ? m->dictionary_page_offset : m->data_page_offset;
	}
	return g->total_byte_size;
}

int firn_parquet_reader_schema(const struct firn_parquet_reader *r, struct ArrowSchema *out,
			       struct firn_error *err)
{
	return firn_pq__schema_to_arrow(&r->ps, 0, out, err);
}

int firn_parquet_reader_leaf_count(const struct firn_parquet_reader *r) { return r->ps.n_leaves; }
int32_t firn_parquet_reader_leaf_field_id(const struct firn_parquet_reader *r, int leaf)
{
	return r->ps.nodes[r->ps.leaves[leaf]].field_id;
}
const char *firn_parquet_reader_leaf_path(const struct firn_parquet_reader *r, int leaf)
{
	return r->ps.leaf_paths[leaf];
}

/* ---- field ids through a name mapping ---- */

static int assign_ids(struct pq_schema *ps, int node, int32_t parent_id, firn_parquet_id_fn fn,
		      void *arg)
{
	struct pq_node *n = &ps->nodes[node];
	int count = 0;
	for (int i = 0; i < n->n_children; i++) {
		struct pq_node *c = &ps->nodes[n->children[i]];
		if (n->type.id == FIRN_A_MAP) { /* the entries struct: key and value under the map */
			count += assign_ids(ps, n->children[i], parent_id, fn, arg);
			continue;
		}
		const char *name = n->type.id == FIRN_A_LIST ? "element" : c->name;
		if (c->field_id < 0 && parent_id != -2) {
			c->field_id = fn(arg, parent_id, name);
			count += c->field_id >= 0;
		}
		count += assign_ids(ps, n->children[i], c->field_id >= 0 ? c->field_id : -2, fn, arg);
	}
	return count;
}

int firn_parquet_reader_assign_field_ids(struct firn_parquet_reader *r, firn_parquet_id_fn fn,
					 void *arg)
{
	return assign_ids(&r->ps, 0, -1, fn, arg);
}

int64_t firn_parquet_reader_file_size(const struct firn_parquet_reader *r)
{
	return r->file_size;
}

bool firn_parquet_reader_has_field_ids(const struct firn_parquet_reader *r)
{
	for (int i = 1; i < r->ps.n_nodes; i++)
		if (r->ps.nodes[i].field_id >= 0)
			return true;
	return false;
}

static const struct pq_statistics *chunk_stats(const struct firn_parquet_reader *r, int rg, int leaf)
{
	if (rg < 0 || rg >= r->meta.n_row_groups || leaf < 0 || leaf >= r->ps.n_leaves)
		return NULL;
	const struct pq_column_meta *m = &r->meta.row_groups[rg].columns[leaf].meta_data;
	return m->has_statistics ? &m->statistics : NULL;
}

/* min/max bytes with the deprecated fields as a fallback for signed types */
static void stat_bounds(const struct firn_parquet_reader *r, int leaf, const struct pq_statistics *s,
			struct pq_bytes *min, struct pq_bytes *max, bool *has)
{
	*has = false;
	if (s->has_min_value && s->has_max_value) {
		*min = s->min_value;
		*max = s->max_value;
		*has = true;
		return;
	}
	const struct pq_node *n = &r->ps.nodes[r->ps.leaves[leaf]];
	bool signed_order = n->ptype != PQ_BYTE_ARRAY && n->ptype != PQ_FIXED_LEN_BYTE_ARRAY &&
			    n->ptype != PQ_INT96 && n->conv != PQ_CONV_U32_TO_I64 &&
			    n->conv != PQ_CONV_U64_TO_DEC;
	if (signed_order && s->has_min && s->has_max) {
		*min = s->min;
		*max = s->max;
		*has = true;
	}
}

int firn_parquet_reader_leaf_stats(const struct firn_parquet_reader *r, int rg, int leaf,
				   struct firn_parquet_column_stats *out)
{
	const struct pq_statistics *s = chunk_stats(r, rg, leaf);
	if (s == NULL)
		return FIRN_ENOTFOUND;
	const struct pq_column_meta *m = &r->meta.row_groups[rg].columns[leaf].meta_data;
	memset(out, 0, sizeof(*out));
	out->field_id = firn_parquet_reader_leaf_field_id(r, leaf);
	out->value_count = m->num_values;
	out->null_count = s->has_null_count ? s->null_count : -1;
	out->nan_count = -1;
	out->compressed_size = m->total_compressed_size;
	struct pq_bytes mn, mx;
	bool has;
	stat_bounds(r, leaf, s, &mn, &mx, &has);
	out->min_len = out->max_len = -1;
	if (has) {
		out->min = mn.ptr; out->min_len = mn.len;
		out->max = mx.ptr; out->max_len = mx.len;
	}
	return 0;
}

/* =================== decoding a column chunk =================== */

/* The decoded levels and dense (non-null) values of one leaf in one row group. */
struct leaf_data {
	const struct pq_node *node;
	struct firn_buf defs, reps;   /* uint16 */
	int64_t n_levels;
	/* dense values in Arrow form: fixed width (bool: a byte each), or
	 * int32 offsets + bytes */
	struct firn_buf values;
	struct firn_buf data;
	int64_t n_values;
	/* the chunk's dictionary, in the same dense form */
	struct firn_buf dict_values, dict_data;
	int64_t dict_count;
	bool has_dict;
	struct firn_buf dict_bad; /* bitmap of entries out of range (empty: none) */
	const char *dict_problem; /* what is wrong with them */
};

static void leaf_data_free(struct leaf_data *ld)
{
	firn_buf_free(&ld->defs); firn_buf_free(&ld->reps);
	firn_buf_free(&ld->values); firn_buf_free(&ld->data);
	firn_buf_free(&ld->dict_values); firn_buf_free(&ld->dict_data);
	firn_buf_free(&ld->dict_bad);
}

struct decode_ctx {
	const struct firn_parquet_reader *r;
	const char *col;          /* leaf path, for messages */
	int rg;
	struct firn_error *err;
	struct firn_buf page;     /* decompressed page */
	struct firn_buf scratch;  /* decoded physical values */
	struct firn_buf scratch2;
	struct firn_buf views;
	struct pq_codec_ctx *codec; /* the stream's, kept across pages; may be NULL */
	/* where emit_fixed's values go, for values out of range: the leaf (NULL:
	 * statistics), whether it is decoding the dictionary, and the dense
	 * index of its first value */
	struct leaf_data *ld;
	bool dict;
	int64_t dense_base;
	/* the rows of the row group to keep (a byte each, 0 or 1), NULL: all;
	 * only for columns without repetition */
	const uint8_t *sel;
	/* the page's non-null values to keep (a byte each), NULL: all; set
	 * vsel_done when decode_values kept only those */
	const uint8_t *vsel;
	bool vsel_done;
	/* firn_parquet_reader_dict_codes: dictionary-encoded pages give their
	 * indices (int32) as the values; any other encoding is FIRN_EUNSUPPORTED */
	bool codes;
};

#define DCORRUPT(ctx, ...) corrupt_col(ctx, __VA_ARGS__)
static int corrupt_col(struct decode_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int corrupt_col(struct decode_ctx *ctx, const char *fmt, ...)
{
	char msg[FIRN_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return firn_error_set(ctx->err, FIRN_ECORRUPT, "%s: row group %d: column %s: %s",
			      ctx->r->path, ctx->rg, ctx->col, msg);
}

static int nomem(struct firn_error *err) { return firn_error_set(err, FIRN_ENOMEM, "out of memory"); }

static int physical_width(const struct pq_node *n)
{
	switch (n->ptype) {
	case PQ_INT32: case PQ_FLOAT: return 4;
	case PQ_INT64: case PQ_DOUBLE: return 8;
	case PQ_INT96: return 12;
	case PQ_FIXED_LEN_BYTE_ARRAY: return n->type_length;
	default: return 0;
	}
}

/* The file row of dense value k of the chunk (the levels decoded so far
 * cover it). */
static int64_t row_of_value(const struct decode_ctx *ctx, const struct leaf_data *ld, int64_t k)
{
	int64_t row = k;
	const struct pq_node *n = ld->node;
	if (n->valid_def > 0 || n->rep > 0) {
		const uint16_t *def = n->valid_def > 0 ? (const uint16_t *)ld->defs.data : NULL;
		const uint16_t *rep = n->rep > 0 ? (const uint16_t *)ld->reps.data : NULL;
		int64_t levels = (int64_t)(def ? ld->defs.len : ld->reps.len) / 2, seen = 0;
		row = -1;
		for (int64_t i = 0; i < levels; i++) {
			if (rep == NULL || rep[i] == 0)
				row++;
			if ((def == NULL || def[i] == n->valid_def) && seen++ == k)
				break;
		}
	}
	for (int g = 0; g < ctx->rg; g++)
		row += ctx->r->meta.row_groups[g].num_rows;
	return row;
}

/* A stored value that does not fit the microsecond value it becomes: an
 * error naming its row, or for a dictionary entry a mark (an error once a
 * row uses it). */
#define OUT_OF_RANGE "is out of range for a microsecond timestamp"
#define SUB_MICROS "has sub-microsecond digits, which a microsecond timestamp cannot hold " \
	"(--truncate-timestamps drops them)"

static int out_of_range(struct decode_ctx *ctx, int64_t i, const char *what, const char *problem)
{
	struct leaf_data *ld = ctx->ld;
	if (ld == NULL)
		return FIRN_EINVAL;
	if (ctx->dict) {
		size_t byte = (size_t)(i >> 3);
		if (ld->dict_bad.len <= byte && firn_buf_zeros(&ld->dict_bad, byte + 1 - ld->dict_bad.len) != 0)
			return nomem(ctx->err);
		ld->dict_bad.data[byte] |= (uint8_t)(1u << (i & 7));
		ld->dict_problem = problem;
		return 0;
	}
	return firn_error_set(ctx->err, FIRN_EINVAL, "%s: column %s: row %lld: %s %s", ctx->r->path, ctx->col,
			      (long long)row_of_value(ctx, ld, ctx->dense_base + i), what, problem);
}

static void be_to_i128(const uint8_t *p, int n, uint8_t out[16])
{
	uint8_t fill = n > 0 && (p[0] & 0x80) ? 0xFF : 0x00;
	memset(out, fill, 16);
	for (int k = 0; k < n && k < 16; k++)
		out[k] = p[n - 1 - k];
}

/* Appends n physical fixed-width values (pw bytes each) as Arrow values. */
static int emit_fixed(struct decode_ctx *ctx, const struct pq_node *node, struct firn_buf *dst,
		      const uint8_t *src, int64_t n)
{
	int aw = node->type.width;
	size_t bytes = (size_t)n * (size_t)aw;
	if (firn_buf_reserve(dst, bytes) != 0)
		return nomem(ctx->err);
	uint8_t *o = dst->data + dst->len;
	switch (node->conv) {
	case PQ_CONV_COPY:
	case PQ_CONV_FIXED:
		memcpy(o, src, bytes);
		break;
	case PQ_CONV_U32_TO_I64:
		for (int64_t i = 0; i < n; i++) {
			uint32_t x; memcpy(&x, src + 4 * i, 4);
			int64_t y = x; memcpy(o + 8 * i, &y, 8);
		}
		break;
	case PQ_CONV_SCALE_I64:
		for (int64_t i = 0; i < n; i++) {
			int64_t x, y = 0; memcpy(&x, src + 8 * i, 8);
			if (__builtin_mul_overflow(x, node->scale_factor, &y)) {
				char what[48];
				snprintf(what, sizeof(what), "%lld ms", (long long)x);
				FIRN_TRY(out_of_range(ctx, i, what, OUT_OF_RANGE));
				y = x; /* a marked dictionary entry keeps it for the message */
			}
			memcpy(o + 8 * i, &y, 8);
		}
		break;
	case PQ_CONV_I32_SCALE_I64:
		for (int64_t i = 0; i < n; i++) {
			int32_t x; memcpy(&x, src + 4 * i, 4);
			int64_t y = (int64_t)x * node->scale_factor; memcpy(o + 8 * i, &y, 8);
		}
		break;
	case PQ_CONV_DEC_I32:
		for (int64_t i = 0; i < n; i++) {
			int32_t x; memcpy(&x, src + 4 * i, 4);
			int64_t lo = x, hi = x < 0 ? -1 : 0;
			memcpy(o + 16 * i, &lo, 8); memcpy(o + 16 * i + 8, &hi, 8);
		}
		break;
	case PQ_CONV_DEC_I64:
		for (int64_t i = 0; i < n; i++) {
			int64_t lo; memcpy(&lo, src + 8 * i, 8);
			int64_t hi = lo < 0 ? -1 : 0;
			memcpy(o + 16 * i, &lo, 8); memcpy(o + 16 * i + 8, &hi, 8);
		}
		break;
	case PQ_CONV_U64_TO_DEC:
		for (int64_t i = 0; i < n; i++) {
			uint64_t lo; memcpy(&lo, src + 8 * i, 8);
			uint64_t hi = 0;
			memcpy(o + 16 * i, &lo, 8); memcpy(o + 16 * i + 8, &hi, 8);
		}
		break;
	case PQ_CONV_DEC_BE:
		for (int64_t i = 0; i < n; i++)
			be_to_i128(src + (size_t)i * (size_t)node->type_length, node->type_length, o + 16 * i);
		break;
	case PQ_CONV_INT96:
		/* 8 bytes nanoseconds of the day, 4 bytes Julian day */
		for (int64_t i = 0; i < n; i++) {
			int64_t nanos, us = 0; int32_t jd;
			memcpy(&nanos, src + 12 * i, 8); memcpy(&jd, src + 12 * i + 8, 4);
			if (__builtin_mul_overflow((int64_t)jd - 2440588, 86400000000LL, &us) ||
			    __builtin_add_overflow(us, nanos / 1000, &us)) {
				char what[64];
				snprintf(what, sizeof(what), "INT96 day %d, %lld ns", jd, (long long)nanos);
				FIRN_TRY(out_of_range(ctx, i, what, OUT_OF_RANGE));
				us = 0;
			} else if (ctx->r->int96_strict && nanos % 1000 != 0) {
				char what[64];
				snprintf(what, sizeof(what), "INT96 day %d, %lld ns", jd, (long long)nanos);
				FIRN_TRY(out_of_range(ctx, i, what, SUB_MICROS));
			}
			memcpy(o + 8 * i, &us, 8);
		}
		break;
	default:
		return DCORRUPT(ctx, "internal: no conversion for fixed values");
	}
	dst->len += bytes;
	return 0;
}

/* Appends n byte strings as Arrow values (offsets + data, or decimals/fixed). */
static int emit_views(struct decode_ctx *ctx, const struct pq_node *node, struct firn_buf *dst,
		      struct firn_buf *data, const struct pq_view *v, int64_t n)
{
	if (node->conv == PQ_CONV_DEC_BE || node->conv == PQ_CONV_FIXED) {
		int aw = node->type.width;
		if (firn_buf_reserve(dst, (size_t)n * (size_t)aw) != 0)
			return nomem(ctx->err);
		for (int64_t i = 0; i < n; i++) {
			uint8_t *o = dst->data + dst->len;
			if (node->conv == PQ_CONV_DEC_BE) {
				if (v[i].len > 16)
					return DCORRUPT(ctx, "decimal of %u bytes", v[i].len);
				be_to_i128(v[i].ptr, (int)v[i].len, o);
			} else {
				if ((int)v[i].len != aw)
					return DCORRUPT(ctx, "value of %u bytes in a fixed[%d] column", v[i].len, aw);
				memcpy(o, v[i].ptr, (size_t)aw);
			}
			dst->len += (size_t)aw;
		}
		return 0;
	}
	if (firn_buf_reserve(dst, (size_t)n * 4) != 0)
		return nomem(ctx->err);
	size_t total = 0;
	for (int64_t i = 0; i < n; i++)
		total += v[i].len;
	if (data->len + total > INT32_MAX)
		return firn_error_set(ctx->err, FIRN_EUNSUPPORTED,
				      "%s: column %s: more than 2 GiB of strings in one row group",
				      ctx->r->path, ctx->col);
	if (firn_buf_reserve(data, total) != 0)
		return nomem(ctx->err);
	if (n == 0)
		return 0;
	if (firn_buf_reserve(data, 1) != 0)
		return nomem(ctx->err);
	int32_t *off = (int32_t *)(dst->data + dst->len);
	uint8_t *d = data->data + data->len;
	size_t pos = data->len;
	for (int64_t i = 0; i < n; i++) {
		if (v[i].len > 0)
			memcpy(d, v[i].ptr, v[i].len);
		d += v[i].len;
		pos += v[i].len;
		off[i] = (int32_t)pos;
	}
	data->len = pos;
	dst->len += (size_t)n * 4;
	return 0;
}

static bool is_bytes(const struct pq_node *n)
{
	return n->ptype == PQ_BYTE_ARRAY && n->conv == PQ_CONV_BYTES;
}

/* Moves the items (w bytes each) of buf[0..n) that keep marks to its
 * front; returns how many. */
static int64_t keep_items(void *buf, size_t w, int64_t n, const uint8_t *keep)
{
	uint8_t *b = buf;
	int64_t k = 0;
	for (int64_t i = 0; i < n; i++)
		if (keep[i]) {
			if (k != i)
				memcpy(b + (size_t)k * w, b + (size_t)i * w, w);
			k++;
		}
	return k;
}

/* Decodes n values in `enc` from p[0..len) and appends them to dst/data;
 * with ctx->vsel (not for the dictionary) only those it marks, where the
 * encoding allows, setting ctx->vsel_done. */
static int decode_values(struct decode_ctx *ctx, struct leaf_data *ld, int enc, const uint8_t *p,
			 size_t len, int64_t n, struct firn_buf *dst, struct firn_buf *data)
{
	const struct pq_node *node = ld->node;
	struct firn_error *err = ctx->err;
	int pw = physical_width(node);
	if (n == 0)
		return 0;
	ctx->ld = ld;
	ctx->dict = dst == &ld->dict_values;
	ctx->dense_base = ld->n_values;
	const uint8_t *vsel = ctx->dict ? NULL : ctx->vsel;
	ctx->vsel_done = false;
	if (ctx->codes && !ctx->dict && enc != PQ_PLAIN_DICTIONARY && enc != PQ_RLE_DICTIONARY)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: row group %d: column %s: a page "
				      "is not dictionary-encoded", ctx->r->path, ctx->rg, ctx->col);
	switch (enc) {
	case PQ_PLAIN:
		if (node->ptype == PQ_BOOLEAN) {
			size_t used;
			if (firn_buf_reserve(dst, (size_t)n) != 0)
				return nomem(err);
			FIRN_TRY(firn_pq__plain_bools_decode(p, len, n, dst->data + dst->len, &used, err));
			dst->len += (size_t)n;
			return 0;
		}
		if (node->ptype == PQ_BYTE_ARRAY) {
			size_t used;
			/* a length prefix each: bound the count before allocating */
			if ((uint64_t)n * 4 > len)
				return DCORRUPT(ctx, "%lld byte arrays cannot fit in %zu bytes", (long long)n, len);
			ctx->views.len = 0;
			if (firn_buf_reserve(&ctx->views, (size_t)n * sizeof(struct pq_view)) != 0)
				return nomem(err);
			struct pq_view *v = (struct pq_view *)ctx->views.data;
			FIRN_TRY(firn_pq__plain_views_decode(p, len, n, v, &used, err));
			if (vsel) {
				n = keep_items(v, sizeof(*v), n, vsel);
				ctx->vsel_done = true;
			}
			return emit_views(ctx, node, dst, data, v, n);
		}
		if ((uint64_t)n * (uint64_t)pw > len)
			return DCORRUPT(ctx, "%lld values need %llu bytes, the page has %zu", (long long)n,
					(unsigned long long)n * (unsigned long long)pw, len);
		if (vsel) {
			ctx->scratch.len = 0;
			if (firn_buf_reserve(&ctx->scratch, (size_t)n * (size_t)pw) != 0)
				return nomem(err);
			uint8_t *o = ctx->scratch.data;
			int64_t k = 0;
			for (int64_t i = 0; i < n; i++)
				if (vsel[i])
					memcpy(o + (size_t)pw * (size_t)k++, p + (size_t)pw * (size_t)i, (size_t)pw);
			ctx->vsel_done = true;
			return emit_fixed(ctx, node, dst, o, k);
		}
		return emit_fixed(ctx, node, dst, p, n);
	case PQ_PLAIN_DICTIONARY:
	case PQ_RLE_DICTIONARY: {
		if (!ld->has_dict)
			return DCORRUPT(ctx, "dictionary-encoded page without a dictionary");
		if (len < 1)
			return DCORRUPT(ctx, "dictionary page data truncated");
		int bw = p[0];
		ctx->scratch.len = 0;
		if (firn_buf_reserve(&ctx->scratch, (size_t)n * 4) != 0)
			return nomem(err);
		uint32_t *idx = (uint32_t *)ctx->scratch.data;
		FIRN_TRY(firn_pq__rle_decode32(p + 1, len - 1, bw, n, idx, err));
		uint32_t dn = (uint32_t)ld->dict_count, past = 0;
		for (int64_t i = 0; i < n; i++)
			past |= idx[i] >= dn;
		for (int64_t i = 0; past && i < n; i++)
			if (idx[i] >= dn)
				return DCORRUPT(ctx, "dictionary index %u past %u entries", idx[i], dn);
		if (ctx->codes) {
			if (firn_buf_append(dst, idx, (size_t)n * 4) != 0)
				return nomem(err);
			return 0;
		}
		for (int64_t i = 0; ld->dict_bad.len > 0 && i < n; i++)
			if ((size_t)(idx[i] >> 3) < ld->dict_bad.len && firn_bit_get(ld->dict_bad.data, idx[i])) {
				char what[48] = "an INT96 value";
				int64_t x;
				memcpy(&x, ld->dict_values.data + 8 * (size_t)idx[i], 8);
				if (node->conv == PQ_CONV_SCALE_I64)
					snprintf(what, sizeof(what), "%lld ms", (long long)x);
				ctx->dict = false;
				return out_of_range(ctx, i, what, ld->dict_problem ? ld->dict_problem : OUT_OF_RANGE);
			}
		if (vsel) {
			n = keep_items(idx, 4, n, vsel);
			ctx->vsel_done = true;
		}
		if (is_bytes(node)) {
			const int32_t *doff = (const int32_t *)ld->dict_values.data;
			size_t total = 0;
			for (int64_t i = 0; i < n; i++) {
				uint32_t k = idx[i];
				total += (size_t)(doff[k + 1] - doff[k]);
			}
			if (data->len + total > INT32_MAX)
				return firn_error_set(err, FIRN_EUNSUPPORTED,
						      "%s: column %s: more than 2 GiB of strings in one row group",
						      ctx->r->path, ctx->col);
			if (firn_buf_reserve(data, total) != 0 || firn_buf_reserve(dst, (size_t)n * 4) != 0)
				return nomem(err);
			int32_t *off = (int32_t *)(dst->data + dst->len);
			size_t pos = data->len;
			for (int64_t i = 0; i < n; i++) {
				uint32_t k = idx[i];
				size_t l = (size_t)(doff[k + 1] - doff[k]);
				if (l > 0)
					memcpy(data->data + pos, ld->dict_data.data + doff[k], l);
				pos += l;
				off[i] = (int32_t)pos;
			}
			data->len = pos;
			dst->len += (size_t)n * 4;
			return 0;
		}
		int aw = node->ptype == PQ_BOOLEAN ? 1 : node->type.width;
		if (firn_buf_reserve(dst, (size_t)n * (size_t)aw) != 0)
			return nomem(err);
		uint8_t *o = dst->data + dst->len;
		const uint8_t *dv = ld->dict_values.data;
		if (aw == 8) {
			for (int64_t i = 0; i < n; i++)
				memcpy(o + 8 * i, dv + 8 * (size_t)idx[i], 8);
		} else if (aw == 4) {
			for (int64_t i = 0; i < n; i++)
				memcpy(o + 4 * i, dv + 4 * (size_t)idx[i], 4);
		} else {
			for (int64_t i = 0; i < n; i++)
				memcpy(o + (size_t)aw * i, dv + (size_t)aw * idx[i], (size_t)aw);
		}
		dst->len += (size_t)n * (size_t)aw;
		return 0;
	}
	case PQ_RLE:
		if (node->ptype != PQ_BOOLEAN)
			return DCORRUPT(ctx, "RLE encoding for a non-boolean column");
		{
			if (len < 4)
				return DCORRUPT(ctx, "RLE boolean data truncated");
			uint32_t l;
			memcpy(&l, p, 4);
			if (l > len - 4)
				return DCORRUPT(ctx, "RLE boolean length %u past the page", l);
			ctx->scratch.len = 0;
			if (firn_buf_reserve(&ctx->scratch, (size_t)n * 2) != 0 ||
			    firn_buf_reserve(dst, (size_t)n) != 0)
				return nomem(err);
			uint16_t *b = (uint16_t *)ctx->scratch.data;
			FIRN_TRY(firn_pq__rle_decode16(p + 4, l, 1, n, b, err));
			for (int64_t i = 0; i < n; i++)
				dst->data[dst->len + (size_t)i] = (uint8_t)(b[i] & 1);
			dst->len += (size_t)n;
			return 0;
		}
	case PQ_DELTA_BINARY_PACKED: {
		if (node->ptype != PQ_INT32 && node->ptype != PQ_INT64)
			return DCORRUPT(ctx, "DELTA_BINARY_PACKED for a non-integer column");
		size_t used;
		ctx->scratch.len = 0;
		if (firn_buf_reserve(&ctx->scratch, (size_t)n * (size_t)pw) != 0)
			return nomem(err);
		FIRN_TRY(firn_pq__delta_binary_decode(p, len, pw, n, ctx->scratch.data, &used, err));
		if (vsel) {
			n = keep_items(ctx->scratch.data, (size_t)pw, n, vsel);
			ctx->vsel_done = true;
		}
		return emit_fixed(ctx, node, dst, ctx->scratch.data, n);
	}
	case PQ_DELTA_LENGTH_BYTE_ARRAY:
	case PQ_DELTA_BYTE_ARRAY: {
		if (node->ptype != PQ_BYTE_ARRAY && node->ptype != PQ_FIXED_LEN_BYTE_ARRAY)
			return DCORRUPT(ctx, "%s for a non-binary column",
					enc == PQ_DELTA_BYTE_ARRAY ? "DELTA_BYTE_ARRAY" : "DELTA_LENGTH_BYTE_ARRAY");
		ctx->views.len = 0;
		if (firn_buf_reserve(&ctx->views, (size_t)n * sizeof(struct pq_view)) != 0)
			return nomem(err);
		struct pq_view *v = (struct pq_view *)ctx->views.data;
		if (enc == PQ_DELTA_LENGTH_BYTE_ARRAY) {
			FIRN_TRY(firn_pq__delta_length_decode(p, len, n, v, err));
		} else {
			ctx->scratch2.len = 0;
			FIRN_TRY(firn_pq__delta_byte_array_decode(p, len, n, v, &ctx->scratch2, err));
		}
		if (vsel) {
			n = keep_items(v, sizeof(*v), n, vsel);
			ctx->vsel_done = true;
		}
		if (node->ptype == PQ_FIXED_LEN_BYTE_ARRAY && node->conv != PQ_CONV_DEC_BE) {
			/* flba through views: check lengths, then pack */
			ctx->scratch.len = 0;
			for (int64_t i = 0; i < n; i++) {
				if ((int)v[i].len != pw)
					return DCORRUPT(ctx, "value of %u bytes in a fixed[%d] column", v[i].len, pw);
				if (firn_buf_append(&ctx->scratch, v[i].ptr, v[i].len) != 0)
					return nomem(err);
			}
			return emit_fixed(ctx, node, dst, ctx->scratch.data, n);
		}
		return emit_views(ctx, node, dst, data, v, n);
	}
	case PQ_BYTE_STREAM_SPLIT: {
		if (pw <= 0 || node->ptype == PQ_INT96)
			return DCORRUPT(ctx, "BYTE_STREAM_SPLIT for a column without a fixed width");
		ctx->scratch.len = 0;
		if (firn_buf_reserve(&ctx->scratch, (size_t)n * (size_t)pw) != 0)
			return nomem(err);
		FIRN_TRY(firn_pq__byte_stream_split_decode(p, len, pw, n, ctx->scratch.data, err));
		if (vsel) {
			n = keep_items(ctx->scratch.data, (size_t)pw, n, vsel);
			ctx->vsel_done = true;
		}
		return emit_fixed(ctx, node, dst, ctx->scratch.data, n);
	}
	default:
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: column %s: unsupported encoding %d",
				      ctx->r->path, ctx->col, enc);
	}
}

/* Decodes one RLE level run section; returns the count of def == max. */
static int decode_levels(struct decode_ctx *ctx, const uint8_t *p, size_t len, int max,
			 int64_t n, struct firn_buf *dst)
{
	if (n == 0)
		return 0;
	size_t at = dst->len;
	if (firn_buf_reserve(dst, (size_t)n * 2) != 0)
		return nomem(ctx->err);
	uint16_t *out = (uint16_t *)(dst->data + at);
	FIRN_TRY(firn_pq__rle_decode16(p, len, firn_pq__bit_width((uint64_t)max), n, out, ctx->err));
	uint16_t top = 0;
	for (int64_t i = 0; i < n; i++)
		top = out[i] > top ? out[i] : top;
	if (top > max)
		for (int64_t i = 0; i < n; i++)
			if (out[i] > max)
				return DCORRUPT(ctx, "level %u above the maximum %d", out[i], max);
	dst->len += (size_t)n * 2;
	return 0;
}

static int decompress_into(struct decode_ctx *ctx, int codec, const uint8_t *p, size_t n,
			   size_t out_len, struct firn_buf *dst)
{
	if (out_len > (1u << 31))
		return DCORRUPT(ctx, "page of %zu bytes", out_len);
	dst->len = 0;
	if (firn_buf_reserve(dst, out_len + 8) != 0)
		return nomem(ctx->err);
	int rc = firn_pq__decompress(ctx->codec, codec, p, n, dst->data, out_len, ctx->err);
	if (rc != 0) {
		firn_error_prefix(ctx->err, "%s: row group %d: column %s", ctx->r->path, ctx->rg, ctx->col);
		return rc;
	}
	dst->len = out_len;
	return 0;
}

/* The page checksum (parquet.thrift: CRC-32 of the page bytes after the
 * header, as stored), when the writer wrote one. Index pages carry none
 * that readers check. */
static int check_page_crc(struct decode_ctx *ctx, const struct pq_page_header *h,
			  const uint8_t *body, size_t blen, int64_t at)
{
	if (!h->has_crc || (h->type != PQ_DATA_PAGE && h->type != PQ_DATA_PAGE_V2 &&
			    h->type != PQ_DICTIONARY_PAGE))
		return 0;
	uint32_t crc = firn_crc32(0, body, blen);
	if (crc == (uint32_t)h->crc)
		return 0;
	return DCORRUPT(ctx, "page at byte %lld: checksum mismatch (header %08x, page %08x)",
			(long long)at, (uint32_t)h->crc, crc);
}

/* Where a column chunk's bytes begin: its dictionary page, if it has one. */
static int64_t chunk_start(const struct pq_column_meta *m)
{
	int64_t start = m->data_page_offset;
	if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
	    m->dictionary_page_offset < start)
		start = m->dictionary_page_offset;
	return start;
}

/* Keeps, of the page just decoded (levels from levels_at on, values after
 * ld->n_values), the rows sel marks: moved down in place, the counts of ld
 * then cover them only. A column without repetition: a level is a row. */
static void keep_selected(struct leaf_data *ld, size_t levels_at, int64_t n, const uint8_t *sel,
			  bool values_kept)
{
	const struct pq_node *node = ld->node;
	uint16_t vdef = (uint16_t)node->valid_def;
	uint16_t *d = vdef > 0 ? (uint16_t *)ld->defs.data + levels_at : NULL;
	int64_t v0 = ld->n_values, w = 0, vr = 0, vw = 0;
	if (values_kept && !d) { /* decode_values kept the values: the levels only */
		for (int64_t i = 0; i < n; i++)
			w += sel[i];
		vw = w;
	} else if (values_kept) {
		for (int64_t i = 0; i < n; i++) {
			uint16_t x = d[i];
			d[w] = x;
			w += sel[i];
			vw += sel[i] & (x == vdef);
		}
	} else if (is_bytes(node)) {
		int32_t *off = (int32_t *)ld->values.data;
		int32_t start = v0 > 0 ? off[v0 - 1] : 0, pos = start;
		for (int64_t i = 0; i < n; i++) {
			bool valid = !d || d[i] == vdef;
			if (sel[i]) {
				if (d)
					d[w] = d[i];
				w++;
			}
			if (!valid)
				continue;
			int32_t end = off[v0 + vr++];
			if (sel[i]) {
				int32_t len = end - start;
				if (len > 0 && pos != start)
					memmove(ld->data.data + pos, ld->data.data + start, (size_t)len);
				pos += len;
				off[v0 + vw++] = pos;
			}
			start = end;
		}
		ld->data.len = (size_t)pos;
		ld->values.len = (size_t)(v0 + vw) * 4;
	} else {
		size_t aw = node->ptype == PQ_BOOLEAN ? 1 : (size_t)node->type.width;
		uint8_t *v = ld->values.data;
		for (int64_t i = 0; i < n; i++) {
			bool valid = !d || d[i] == vdef;
			if (sel[i]) {
				if (d)
					d[w] = d[i];
				w++;
				if (valid && vw != vr)
					memcpy(v + (size_t)(v0 + vw) * aw, v + (size_t)(v0 + vr) * aw, aw);
				vw += valid;
			}
			vr += valid;
		}
		ld->values.len = (size_t)(v0 + vw) * aw;
	}
	if (d)
		ld->defs.len = (levels_at + (size_t)w) * 2;
	ld->n_levels += w;
	ld->n_values += vw;
}

static int decode_chunk(struct decode_ctx *ctx, struct leaf_data *ld, int leaf)
{
	const struct firn_parquet_reader *r = ctx->r;
	const struct pq_column_meta *m = &r->meta.row_groups[ctx->rg].columns[leaf].meta_data;
	const struct pq_node *node = ld->node;
	struct firn_error *err = ctx->err;
	int max_def = node->valid_def, max_rep = node->rep;
	if (m->num_values == 0)
		return 0;
	int64_t start = chunk_start(m), size = m->total_compressed_size;
	if (start < 4 || size < 0 || size > r->data_end - start)
		return DCORRUPT(ctx, "chunk at %lld of %lld bytes runs past the data", (long long)start,
				(long long)size);
	uint8_t *chunk = firn_malloc((size_t)size + 1);
	if (chunk == NULL)
		return nomem(err);
	int rc = read_at(r, chunk, (size_t)size, start, err);
	int64_t levels = 0, want = m->num_values;
	/* what the footer claims bounds every allocation below: a column
	 * without repetition has exactly one level per row */
	if (max_rep == 0 && want != r->meta.row_groups[ctx->rg].num_rows) {
		firn_free(chunk);
		return DCORRUPT(ctx, "%lld values for %lld rows", (long long)want,
				(long long)r->meta.row_groups[ctx->rg].num_rows);
	}
	size_t pos = 0;
	bool need_dict_first = true;
	struct firn_buf vsel = { 0 }; /* the page's ctx->vsel, when it has nulls */
	while (rc == 0 && levels < want) {
		if (pos >= (size_t)size) {
			rc = DCORRUPT(ctx, "pages hold %lld values, the chunk says %lld", (long long)levels,
				      (long long)want);
			break;
		}
		struct pq_page_header h;
		size_t used;
		int64_t page_at = start + (int64_t)pos;
		if ((rc = firn_pq__parse_page_header(chunk + pos, (size_t)size - pos, &used, &h, err)) != 0) {
			firn_error_prefix(err, "%s: row group %d: column %s: page at byte %lld", r->path,
					  ctx->rg, ctx->col, (long long)page_at);
			break;
		}
		pos += used;
		if (h.compressed_page_size < 0 || (size_t)h.compressed_page_size > (size_t)size - pos ||
		    h.uncompressed_page_size < 0) {
			rc = DCORRUPT(ctx, "page at byte %lld: size %d past the chunk",
				      (long long)(start + (int64_t)pos), h.compressed_page_size);
			break;
		}
		const uint8_t *body = chunk + pos;
		size_t blen = (size_t)h.compressed_page_size;
		pos += blen;
		if ((rc = check_page_crc(ctx, &h, body, blen, page_at)) != 0)
			break;
		if (h.type == PQ_DICTIONARY_PAGE) {
			if (!h.has_dictionary_page_header || !need_dict_first || ld->has_dict) {
				rc = DCORRUPT(ctx, "unexpected dictionary page");
				break;
			}
			const struct pq_dictionary_page_header *dh = &h.dictionary_page_header;
			if (dh->num_values < 0 || (dh->encoding != PQ_PLAIN && dh->encoding != PQ_PLAIN_DICTIONARY)) {
				rc = DCORRUPT(ctx, "bad dictionary page header");
				break;
			}
			const uint8_t *dp = body;
			size_t dlen = blen;
			if (m->codec != PQ_UNCOMPRESSED) {
				if ((rc = decompress_into(ctx, m->codec, body, blen,
							  (size_t)h.uncompressed_page_size, &ctx->page)) != 0)
					break;
				dp = ctx->page.data;
				dlen = ctx->page.len;
			}
			ld->has_dict = true;
			ld->dict_count = dh->num_values;
			if (is_bytes(node)) {
				int32_t zero = 0;
				if (firn_buf_append(&ld->dict_values, &zero, 4) != 0) {
					rc = nomem(err);
					break;
				}
			}
			if ((uint64_t)dh->num_values > dlen * 8 + 8) {
				rc = DCORRUPT(ctx, "dictionary of %d values in %zu bytes", dh->num_values, dlen);
				break;
			}
			rc = decode_values(ctx, ld, PQ_PLAIN, dp, dlen, dh->num_values, &ld->dict_values,
					   &ld->dict_data);
			continue;
		}
		need_dict_first = false;
		if (h.type != PQ_DATA_PAGE && h.type != PQ_DATA_PAGE_V2)
			continue; /* index pages and unknown kinds */
		int64_t n;
		int enc;
		const uint8_t *p;
		size_t plen;
		size_t levels_at = (size_t)ld->n_levels;
		if (h.type == PQ_DATA_PAGE) {
			if (!h.has_data_page_header) {
				rc = DCORRUPT(ctx, "data page without its header");
				break;
			}
			n = h.data_page_header.num_values;
			enc = h.data_page_header.encoding;
			p = body;
			plen = blen;
			if (n < 0 || n > want - levels || n > (1 << 24)) {
				rc = DCORRUPT(ctx, "page of %lld values past the chunk's %lld", (long long)n,
					      (long long)want);
				break;
			}
			if (ctx->sel && !memchr(ctx->sel + levels, 1, (size_t)n)) {
				levels += n; /* no row of the page is wanted */
				continue;
			}
			if (m->codec != PQ_UNCOMPRESSED) {
				if ((rc = decompress_into(ctx, m->codec, body, blen,
							  (size_t)h.uncompressed_page_size, &ctx->page)) != 0)
					break;
				p = ctx->page.data;
				plen = ctx->page.len;
			}
			for (int pass = 0; pass < 2 && rc == 0; pass++) {
				int max = pass == 0 ? max_rep : max_def;
				if (max == 0)
					continue;
				if (plen < 4) {
					rc = DCORRUPT(ctx, "levels truncated");
					break;
				}
				uint32_t l;
				memcpy(&l, p, 4);
				if (l > plen - 4) {
					rc = DCORRUPT(ctx, "levels of %u bytes past the page", l);
					break;
				}
				rc = decode_levels(ctx, p + 4, l, max, n, pass == 0 ? &ld->reps : &ld->defs);
				p += 4 + l;
				plen -= 4 + l;
			}
		} else {
			const struct pq_data_page_header_v2 *v2 = &h.data_page_header_v2;
			if (!h.has_data_page_header_v2) {
				rc = DCORRUPT(ctx, "data page v2 without its header");
				break;
			}
			n = v2->num_values;
			enc = v2->encoding;
			if (n < 0 || n > want - levels || n > (1 << 24) || v2->repetition_levels_byte_length < 0 ||
			    v2->definition_levels_byte_length < 0 ||
			    (uint64_t)v2->repetition_levels_byte_length + (uint64_t)v2->definition_levels_byte_length > blen) {
				rc = DCORRUPT(ctx, "bad data page v2 header");
				break;
			}
			if (ctx->sel && !memchr(ctx->sel + levels, 1, (size_t)n)) {
				levels += n;
				continue;
			}
			size_t rl = (size_t)v2->repetition_levels_byte_length;
			size_t dl = (size_t)v2->definition_levels_byte_length;
			if (max_rep > 0)
				rc = decode_levels(ctx, body, rl, max_rep, n, &ld->reps);
			if (rc == 0 && max_def > 0)
				rc = decode_levels(ctx, body + rl, dl, max_def, n, &ld->defs);
			if (rc != 0)
				break;
			p = body + rl + dl;
			plen = blen - rl - dl;
			if (v2->is_compressed && m->codec != PQ_UNCOMPRESSED) {
				int64_t ulen = (int64_t)h.uncompressed_page_size - (int64_t)rl - (int64_t)dl;
				if (ulen < 0) {
					rc = DCORRUPT(ctx, "bad data page v2 sizes");
					break;
				}
				if ((rc = decompress_into(ctx, m->codec, p, plen, (size_t)ulen, &ctx->page)) != 0)
					break;
				p = ctx->page.data;
				plen = ctx->page.len;
			}
		}
		if (rc != 0)
			break;
		int64_t nonnull = n;
		if (max_def > 0 && n > 0) {
			const uint16_t *d = (const uint16_t *)ld->defs.data + levels_at;
			uint16_t md = (uint16_t)max_def;
			nonnull = 0;
			for (int64_t i = 0; i < n; i++)
				nonnull += d[i] == md;
		}
		ctx->vsel = NULL;
		/* a page whose rows are all kept is decoded as without a selection */
		const uint8_t *psel = ctx->sel && memchr(ctx->sel + levels, 0, (size_t)n) ? ctx->sel : NULL;
		if (psel && (max_def == 0 || nonnull == n)) {
			ctx->vsel = ctx->sel + levels;
		} else if (psel) {
			const uint16_t *d = (const uint16_t *)ld->defs.data + levels_at;
			vsel.len = 0;
			if (firn_buf_reserve(&vsel, (size_t)nonnull + 1) != 0) {
				rc = nomem(err);
				break;
			}
			for (int64_t i = 0, k = 0; i < n; i++)
				if (d[i] == max_def)
					vsel.data[k++] = ctx->sel[levels + i];
			ctx->vsel = vsel.data;
		}
		rc = decode_values(ctx, ld, enc, p, plen, nonnull, &ld->values, &ld->data);
		if (rc == 0 && psel) {
			keep_selected(ld, levels_at, n, ctx->sel + levels, ctx->vsel_done);
		} else {
			ld->n_levels += n;
			ld->n_values += nonnull;
		}
		levels += n;
	}
	ctx->vsel = NULL;
	firn_buf_free(&vsel);
	firn_free(chunk);
	return rc;
}

/* =================== assembling Arrow arrays =================== */

struct assemble {
	struct decode_ctx *ctx;
	struct leaf_data *leaves; /* indexed by leaf number */
	int64_t *cursor;          /* next dense value of each leaf */
};

static inline int bitmap_put(struct firn_buf *bm, int64_t i, bool v)
{
	if ((i & 7) == 0 && firn_buf_putc(bm, 0) != 0)
		return FIRN_ENOMEM;
	if (v)
		bm->data[i >> 3] |= (uint8_t)(1u << (i & 7));
	return 0;
}

/* The leaf of a flat optional column, into an empty builder: each level
 * one slot, valid when its definition level is vdef. */
static int assemble_flat_optional(struct assemble *as, const struct pq_node *node,
				  struct leaf_data *ld, struct firn_builder *b, bool fixed, int aw)
{
	struct firn_error *err = as->ctx->err;
	const uint16_t *def = (const uint16_t *)ld->defs.data;
	int64_t nl = ld->n_levels, nv = ld->n_values;
	uint16_t vdef = (uint16_t)node->valid_def;
	size_t vbytes = (size_t)(nl + 7) / 8;
	b->validity.len = 0;
	if (firn_buf_reserve(&b->validity, vbytes + 1) != 0)
		return nomem(err);
	uint8_t *vb = b->validity.data;
	int64_t valid = 0;
	for (int64_t i = 0; i < nl; i += 8) {
		uint8_t byte = 0;
		int64_t end = i + 8 < nl ? i + 8 : nl;
		for (int64_t k = i; k < end; k++)
			byte |= (uint8_t)((def[k] >= vdef) << (k - i));
		vb[i >> 3] = byte;
		valid += __builtin_popcount(byte);
	}
	b->validity.len = vbytes;
	if (valid != nv)
		return corrupt_col(as->ctx, "%lld defined levels for %lld values", (long long)valid,
				   (long long)nv);
	if (fixed && valid == nl) { /* no nulls: the dense values are the slots */
		firn_buf_free(&b->values);
		b->values = ld->values;
		memset(&ld->values, 0, sizeof(ld->values));
	} else if (fixed) {
		size_t w = (size_t)aw;
		b->values.len = 0;
		if (firn_buf_reserve(&b->values, (size_t)nl * w + 1) != 0)
			return nomem(err);
		uint8_t *dst = b->values.data;
		const uint8_t *src = ld->values.data;
		if (w == 8) {
			int64_t c = 0;
			for (int64_t i = 0; i < nl; i++) {
				uint64_t v = 0;
				if (def[i] >= vdef)
					memcpy(&v, src + 8 * (size_t)c++, 8);
				memcpy(dst + 8 * (size_t)i, &v, 8);
			}
		} else if (w == 4) {
			int64_t c = 0;
			for (int64_t i = 0; i < nl; i++) {
				uint32_t v = 0;
				if (def[i] >= vdef)
					memcpy(&v, src + 4 * (size_t)c++, 4);
				memcpy(dst + 4 * (size_t)i, &v, 4);
			}
		} else {
			int64_t c = 0;
			for (int64_t i = 0; i < nl; i++) {
				if (def[i] >= vdef)
					memcpy(dst + w * (size_t)i, src + w * (size_t)c++, w);
				else
					memset(dst + w * (size_t)i, 0, w);
			}
		}
		b->values.len = (size_t)nl * w;
	} else {
		/* offsets: the builder holds [0]; a null repeats the last end */
		const int32_t *doff = (const int32_t *)ld->values.data;
		if (firn_buf_reserve(&b->values, (size_t)nl * 4 + 1) != 0)
			return nomem(err);
		int32_t *off = (int32_t *)(b->values.data + b->values.len);
		int32_t last = ((const int32_t *)b->values.data)[0];
		int64_t c = 0;
		for (int64_t i = 0; i < nl; i++) {
			if (def[i] >= vdef)
				last = doff[c++];
			off[i] = last;
		}
		b->values.len += (size_t)nl * 4;
		firn_buf_free(&b->data);
		b->data = ld->data;
		memset(&ld->data, 0, sizeof(ld->data));
	}
	b->length = nl;
	b->null_count = nl - valid;
	as->cursor[node->leaf] = nv;
	return 0;
}

/* Slot entries of node n: rep <= rp and def >= a. */
static int assemble_node(struct assemble *as, const struct pq_schema *ps, int n, struct firn_builder *b,
			 int16_t a, int16_t rp)
{
	const struct pq_node *node = &ps->nodes[n];
	struct leaf_data *ld = &as->leaves[node->first_leaf];
	const struct pq_node *lnode = ld->node;
	const uint16_t *def = lnode->valid_def > 0 ? (const uint16_t *)ld->defs.data : NULL;
	const uint16_t *rep = lnode->rep > 0 ? (const uint16_t *)ld->reps.data : NULL;
	int64_t nl = ld->n_levels;
	struct firn_error *err = as->ctx->err;
	int16_t vdef = node->valid_def;

	if (node->type.id == FIRN_A_STRUCT) {
		for (int64_t i = 0; i < nl; i++) {
			int d = def ? def[i] : lnode->valid_def, r = rep ? rep[i] : 0;
			if (r > rp || d < a)
				continue;
			if (bitmap_put(&b->validity, b->length, d >= vdef) != 0)
				return nomem(err);
			if (d < vdef)
				b->null_count++;
			b->length++;
		}
		for (int c = 0; c < node->n_children; c++) {
			FIRN_TRY(assemble_node(as, ps, node->children[c], &b->children[c], a, rp));
			if (b->children[c].length != b->length)
				return corrupt_col(as->ctx, "the fields of struct %s disagree on its length",
						   node->name);
		}
		return 0;
	}
	if (node->type.id == FIRN_A_LIST || node->type.id == FIRN_A_MAP) {
		int16_t R = node->rep, E = node->elem_def;
		int32_t count = 0;
		for (int64_t i = 0; i < nl; i++) {
			int d = def ? def[i] : lnode->valid_def, r = rep ? rep[i] : 0;
			if (r <= rp) {
				if (d < a)
					continue;
				if (b->length > 0 && firn_buf_append(&b->values, &count, 4) != 0)
					return nomem(err);
				if (bitmap_put(&b->validity, b->length, d >= vdef) != 0)
					return nomem(err);
				if (d < vdef)
					b->null_count++;
				b->length++;
				if (d >= E)
					count++;
			} else if (r == R && d >= E) {
				count++;
			}
		}
		if (b->length > 0 && firn_buf_append(&b->values, &count, 4) != 0)
			return nomem(err);
		FIRN_TRY(assemble_node(as, ps, node->children[0], &b->children[0], E, R));
		if (b->children[0].length != count)
			return corrupt_col(as->ctx, "list levels disagree (%lld elements, %d counted)",
					   (long long)b->children[0].length, count);
		return 0;
	}
	/* a leaf */
	int leaf = node->leaf;
	int64_t cur = as->cursor[leaf];
	bool fixed = !is_bytes(node);
	int aw = node->type.id == FIRN_A_BOOL ? 1 : node->type.width;
	/* fast path: every entry is a slot and every slot holds a value */
	if (a == 0 && rp == 0 && rep == NULL && (def == NULL || vdef == 0) && b->length == 0 &&
	    ld->n_values == nl && cur == 0) {
		if (node->type.id == FIRN_A_BOOL) {
			for (int64_t i = 0; i < nl; i++)
				if (bitmap_put(&b->values, i, ld->values.data[i] != 0) != 0)
					return nomem(err);
			firn_buf_free(&ld->values);
		} else if (fixed) {
			firn_buf_free(&b->values);
			b->values = ld->values;
			memset(&ld->values, 0, sizeof(ld->values));
		} else {
			/* offsets: the builder holds [0]; the dense ones are the ends */
			if (firn_buf_append(&b->values, ld->values.data, ld->values.len) != 0)
				return nomem(err);
			firn_buf_free(&b->data);
			b->data = ld->data;
			memset(&ld->data, 0, sizeof(ld->data));
		}
		b->length = nl;
		as->cursor[leaf] = nl;
		return 0;
	}
	/* flat and optional (how Iceberg's columns are): validity and values
	 * filled in one pass, buffers sized once */
	if (a == 0 && rp == 0 && rep == NULL && def != NULL && b->length == 0 && cur == 0 &&
	    node->type.id != FIRN_A_BOOL && (fixed || b->data.len == 0))
		return assemble_flat_optional(as, node, ld, b, fixed, aw);
	const int32_t *doff = fixed ? NULL : (const int32_t *)ld->values.data;
	int32_t base = 0; /* data offset of the builder's data start */
	if (!fixed && b->data.len == 0 && ld->data.len > 0 && b->length == 0) {
		/* take the dense bytes whole; offsets are rebased from dense ones */
		firn_buf_free(&b->data);
		b->data = ld->data;
		memset(&ld->data, 0, sizeof(ld->data));
	} else if (!fixed && ld->data.len > 0) {
		base = (int32_t)b->data.len;
		if (firn_buf_append(&b->data, ld->data.data, ld->data.len) != 0)
			return nomem(err);
	}
	for (int64_t i = 0; i < nl; i++) {
		int d = def ? def[i] : vdef, r = rep ? rep[i] : 0;
		if (r > rp || d < a)
			continue;
		bool valid = d >= vdef;
		if (valid && cur >= ld->n_values)
			return corrupt_col(as->ctx, "more defined levels than values");
		if (bitmap_put(&b->validity, b->length, valid) != 0)
			return nomem(err);
		if (node->type.id == FIRN_A_BOOL) {
			if (bitmap_put(&b->values, b->length, valid && ld->values.data[cur]) != 0)
				return nomem(err);
		} else if (fixed) {
			if (valid) {
				if (firn_buf_append(&b->values, ld->values.data + (size_t)cur * (size_t)aw, (size_t)aw) != 0)
					return nomem(err);
			} else if (firn_buf_zeros(&b->values, (size_t)aw) != 0) {
				return nomem(err);
			}
		} else {
			int32_t end = valid ? base + doff[cur] : ((int32_t *)b->values.data)[b->length];
			if (firn_buf_append(&b->values, &end, 4) != 0)
				return nomem(err);
		}
		if (valid)
			cur++;
		else
			b->null_count++;
		b->length++;
	}
	as->cursor[leaf] = cur;
	return 0;
}

/* =================== dictionary codes =================== */

void firn_parquet_dict_codes_free(struct firn_parquet_dict_codes *c)
{
	firn_free(c->offsets);
	firn_free(c->data);
	firn_free(c->codes);
	memset(c, 0, sizeof(*c));
}

int firn_parquet_reader_dict_codes(struct firn_parquet_reader *r, int rg, int leaf,
				   struct firn_parquet_dict_codes *out, struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	if (rg < 0 || rg >= r->meta.n_row_groups || leaf < 0 || leaf >= r->ps.n_leaves)
		return firn_error_set(err, FIRN_EINVAL, "%s: no row group %d, leaf %d", r->path, rg, leaf);
	const struct pq_node *node = &r->ps.nodes[r->ps.leaves[leaf]];
	const char *col = r->ps.leaf_paths[leaf];
	if (node->rep > 0 || !is_bytes(node))
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: column %s is not a flat byte-array column",
				      r->path, col);
	struct pq_codec_ctx codec = { 0 };
	struct leaf_data ld = { .node = node };
	struct decode_ctx ctx = { .r = r, .col = col, .rg = rg, .err = err, .codec = &codec, .codes = true };
	int64_t rows = r->meta.row_groups[rg].num_rows;
	int rc = decode_chunk(&ctx, &ld, leaf);
	if (rc == 0 && (!ld.has_dict || rows == 0))
		rc = firn_error_set(err, FIRN_EUNSUPPORTED, "%s: row group %d: column %s has no dictionary",
				    r->path, rg, col);
	if (rc == 0 && ld.n_levels != rows)
		rc = DCORRUPT(&ctx, "%lld values for %lld rows", (long long)ld.n_levels, (long long)rows);
	int32_t *codes = rc == 0 ? firn_malloc((size_t)rows * 4 + 4) : NULL;
	if (rc == 0 && !codes)
		rc = nomem(err);
	if (rc == 0) {
		const int32_t *dense = (const int32_t *)ld.values.data;
		int32_t none = (int32_t)ld.dict_count;
		if (node->valid_def == 0) {
			memcpy(codes, dense, (size_t)rows * 4);
		} else {
			const uint16_t *def = (const uint16_t *)ld.defs.data;
			uint16_t vdef = (uint16_t)node->valid_def;
			int64_t c = 0;
			for (int64_t i = 0; i < rows; i++)
				codes[i] = def[i] == vdef && c < ld.n_values ? dense[c++] : none;
			if (c != ld.n_values)
				rc = DCORRUPT(&ctx, "%lld defined levels for %lld values", (long long)c,
					      (long long)ld.n_values);
		}
	}
	if (rc == 0) {
		out->n_entries = ld.dict_count;
		out->offsets = (int32_t *)ld.dict_values.data;
		out->data = ld.dict_data.data;
		out->n_rows = rows;
		out->codes = codes;
		memset(&ld.dict_values, 0, sizeof(ld.dict_values));
		memset(&ld.dict_data, 0, sizeof(ld.dict_data));
	} else {
		firn_free(codes);
	}
	leaf_data_free(&ld);
	firn_buf_free(&ctx.page);
	firn_buf_free(&ctx.scratch);
	firn_buf_free(&ctx.scratch2);
	firn_buf_free(&ctx.views);
	firn_pq__codec_ctx_free(&codec);
	return rc;
}

/* =================== the stream =================== */

/* What one thread decoding columns keeps across row groups: its codec
 * contexts and page buffers. */
struct decode_slot {
	struct pq_codec_ctx codec;
	struct firn_buf page, scratch, scratch2, views;
};

struct stream {
	struct firn_parquet_reader *r;
	int n_sel;
	int *sel;                 /* top-level node indices */
	int *rgs;
	int n_rgs, next;
	struct ArrowSchema schema;
	struct firn_builder root;
	struct decode_slot *slots; /* firn_get_threads() of them, made at the first row group */
	int n_slots;
	const uint8_t *keep;      /* firn_parquet_stream_select's, for the next row group */
	bool flat;                /* no selected column has repetition */
	char last_error[FIRN_ERROR_MESSAGE_MAX];
};

static int st_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
	struct stream *p = s->private_data;
	return firn_schema_copy(out, &p->schema) == 0 ? 0 : ENOMEM;
}

static void slots_free(struct stream *p)
{
	for (int i = 0; i < p->n_slots; i++) {
		struct decode_slot *d = &p->slots[i];
		firn_pq__codec_ctx_free(&d->codec);
		firn_buf_free(&d->page);
		firn_buf_free(&d->scratch);
		firn_buf_free(&d->scratch2);
		firn_buf_free(&d->views);
	}
	firn_free(p->slots);
	p->slots = NULL;
	p->n_slots = 0;
}

/* One row group being read: each selected top-level column is decoded
 * and assembled on its own (into root's child of that column), so that
 * columns go to threads independently. */
struct rg_read {
	struct stream *p;
	int rg;
	int64_t rows;             /* rows the batch gets: the row group's, or those kept */
	const uint8_t *keep;      /* NULL: every row */
	struct leaf_data *leaves;
	int64_t *cursor;
	int *rcs;                 /* per selected column */
	struct firn_error *errs;  /* per selected column */
};

/* The leaves [*first, *last) under node. */
static void leaf_span(const struct pq_schema *ps, int node, int *first, int *last)
{
	int l = ps->nodes[node].first_leaf;
	*first = l;
	while (l < ps->n_leaves) {
		int n = ps->leaves[l];
		while (n > 0 && n != node)
			n = ps->nodes[n].parent;
		if (n != node)
			break;
		l++;
	}
	*last = l;
}

/* Tells the file's IO which chunks of row group rg come next: a remote
 * store fetches them in few requests, side by side. */
static int prefetch_chunks(struct stream *p, int rg, int64_t max_bytes, struct firn_error *err)
{
	struct firn_parquet_reader *r = p->r;
	const struct pq_schema *ps = &r->ps;
	struct firn_io_range *ranges = firn_calloc((size_t)ps->n_leaves + 1, sizeof(*ranges));
	if (!ranges)
		return nomem(err);
	size_t n = 0;
	for (int s = 0; s < p->n_sel; s++) {
		int first, last;
		leaf_span(ps, p->sel[s], &first, &last);
		for (int l = first; l < last; l++) {
			const struct pq_column_meta *m = &r->meta.row_groups[rg].columns[l].meta_data;
			int64_t start = chunk_start(m), size = m->total_compressed_size;
			if (m->num_values > 0 && start >= 4 && size >= 0 && size <= r->data_end - start)
				ranges[n++] = (struct firn_io_range){ start, size };
		}
	}
	int64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += ranges[i].length;
	int rc = total <= max_bytes ? firn_io_prefetch(r->in, ranges, n, err) : 0;
	firn_free(ranges);
	return rc;
}

/* Decodes the leaves under selected column s and assembles them. */
static int read_column(struct rg_read *g, int s, struct decode_slot *slot)
{
	struct stream *p = g->p;
	struct firn_parquet_reader *r = p->r;
	const struct pq_schema *ps = &r->ps;
	struct decode_ctx ctx = { 0 };
	ctx.r = r;
	ctx.rg = g->rg;
	ctx.err = &g->errs[s];
	ctx.sel = g->keep;
	ctx.codec = &slot->codec;
	ctx.page = slot->page;
	ctx.scratch = slot->scratch;
	ctx.scratch2 = slot->scratch2;
	ctx.views = slot->views;
	struct leaf_data *leaves = g->leaves;
	int first, last, rc = 0;
	leaf_span(ps, p->sel[s], &first, &last);
	for (int l = first; l < last && rc == 0; l++) {
		leaves[l].node = &ps->nodes[ps->leaves[l]];
		ctx.col = ps->leaf_paths[l];
		rc = decode_chunk(&ctx, &leaves[l], l);
		if (rc == 0) {
			/* rows of this leaf: entries at rep 0 */
			int64_t nrows = leaves[l].n_levels;
			if (leaves[l].node->rep > 0) {
				const uint16_t *rp = (const uint16_t *)leaves[l].reps.data;
				nrows = 0;
				for (int64_t i = 0; i < leaves[l].n_levels; i++)
					nrows += rp[i] == 0;
			}
			if (nrows != g->rows)
				rc = corrupt_col(&ctx, "%lld rows, the row group has %lld",
						 (long long)nrows, (long long)g->rows);
		}
	}
	if (rc == 0) {
		struct assemble as = { &ctx, leaves, g->cursor };
		rc = assemble_node(&as, ps, p->sel[s], &p->root.children[s], 0, 0);
	}
	for (int l = first; l < last; l++)
		leaf_data_free(&leaves[l]);
	/* the buffers stay the slot's (grown) for its next column */
	slot->page = ctx.page;
	slot->scratch = ctx.scratch;
	slot->scratch2 = ctx.scratch2;
	slot->views = ctx.views;
	return rc;
}

static void read_column_job(void *arg, size_t i, int slot)
{
	struct rg_read *g = arg;
	g->rcs[i] = read_column(g, (int)i, &g->p->slots[slot]);
}

static int read_row_group(struct stream *p, int rg, struct ArrowArray *out, struct firn_error *err)
{
	struct firn_parquet_reader *r = p->r;
	int nleaves = r->ps.n_leaves;
	struct firn_builder *root = &p->root;
	if (!p->slots) {
		int n = firn_get_threads();
		if (!(p->slots = firn_calloc((size_t)n, sizeof(*p->slots))))
			return nomem(err);
		p->n_slots = n;
	}
	struct rg_read g = { p, rg, r->meta.row_groups[rg].num_rows, p->keep, NULL, NULL, NULL, NULL };
	if (g.keep) {
		int64_t kept = 0;
		for (int64_t i = 0; i < g.rows; i++)
			kept += g.keep[i] != 0;
		g.rows = kept;
	}
	g.leaves = firn_calloc((size_t)nleaves + 1, sizeof(*g.leaves));
	g.cursor = firn_calloc((size_t)nleaves + 1, sizeof(int64_t));
	g.rcs = firn_calloc((size_t)p->n_sel + 1, sizeof(int));
	g.errs = firn_calloc((size_t)p->n_sel + 1, sizeof(struct firn_error));
	int rc = 0;
	if (!g.leaves || !g.cursor || !g.rcs || !g.errs) {
		rc = nomem(err);
		goto done;
	}
	if ((rc = prefetch_chunks(p, rg, INT64_MAX, err)) != 0)
		goto done;
	if (p->n_slots > 1) {
		firn_par__for((size_t)p->n_sel, p->n_slots, read_column_job, &g);
	} else {
		for (int s = 0; s < p->n_sel && rc == 0; s++)
			rc = g.rcs[s] = read_column(&g, s, &p->slots[0]);
	}
	/* the first column that failed, as a serial read reports it */
	for (int s = 0; s < p->n_sel; s++)
		if (g.rcs[s] != 0) {
			rc = g.rcs[s];
			*err = g.errs[s];
			break;
		}
	if (rc == 0) {
		root->length = g.rows;
		root->null_count = 0;
		root->validity.len = 0;
		rc = firn_builder_finish(root, out, err);
	}
done:
	if (g.leaves != NULL)
		for (int l = 0; l < nleaves; l++)
			leaf_data_free(&g.leaves[l]);
	firn_free(g.leaves);
	firn_free(g.cursor);
	firn_free(g.rcs);
	firn_free(g.errs);
	if (rc != 0) {
		/* leave the builder empty for a retry */
		firn_builder_free(root);
		firn_builder_init(root, &p->schema, NULL);
	}
	return rc;
}

static int st_get_next(struct ArrowArrayStream *s, struct ArrowArray *out);

int firn_parquet_stream_prefetch(struct ArrowArrayStream *st, int64_t max_bytes,
				 struct firn_error *err)
{
	if (!st || st->get_next != st_get_next)
		return firn_error_set(err, FIRN_EINVAL, "not a stream of a Parquet reader");
	struct stream *p = st->private_data;
	return p->next < p->n_rgs ? prefetch_chunks(p, p->rgs[p->next], max_bytes, err) : 0;
}

static int st_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
	struct stream *p = s->private_data;
	memset(out, 0, sizeof(*out));
	if (p->next >= p->n_rgs)
		return 0;
	struct firn_error err = { 0 };
	int rc = read_row_group(p, p->rgs[p->next], out, &err);
	p->next++;
	p->keep = NULL;
	if (rc != 0) {
		memcpy(p->last_error, err.message, sizeof(p->last_error));
		return rc == FIRN_ENOMEM ? ENOMEM : rc == FIRN_EIO ? EIO : EINVAL;
	}
	return 0;
}

int firn_parquet_stream_select(struct ArrowArrayStream *st, const uint8_t *keep,
			       struct firn_error *err)
{
	if (!st || st->get_next != st_get_next)
		return firn_error_set(err, FIRN_EINVAL, "not a stream of a Parquet reader");
	struct stream *p = st->private_data;
	if (keep && !p->flat)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "%s: rows of repeated columns cannot be selected", p->r->path);
	p->keep = keep;
	return 0;
}

int firn_parquet_stream_skip(struct ArrowArrayStream *st, struct firn_error *err)
{
	if (!st || st->get_next != st_get_next)
		return firn_error_set(err, FIRN_EINVAL, "not a stream of a Parquet reader");
	struct stream *p = st->private_data;
	if (p->next < p->n_rgs)
		p->next++;
	p->keep = NULL;
	return 0;
}

static const char *st_last_error(struct ArrowArrayStream *s)
{
	struct stream *p = s->private_data;
	return p->last_error[0] ? p->last_error : NULL;
}

static void st_release(struct ArrowArrayStream *s)
{
	if (s->release == NULL)
		return;
	struct stream *p = s->private_data;
	firn_builder_free(&p->root);
	slots_free(p);
	if (p->schema.release)
		p->schema.release(&p->schema);
	firn_free(p->sel);
	firn_free(p->rgs);
	firn_free(p);
	s->release = NULL;
}

int firn_parquet_reader_stream(struct firn_parquet_reader *r,
			       const struct firn_parquet_read_options *opts,
			       struct ArrowArrayStream *out, struct firn_error *err)
{
	struct firn_parquet_read_options def = FIRN_PARQUET_READ_OPTIONS_INIT;
	if (opts == NULL)
		opts = &def;
	const struct pq_node *root = &r->ps.nodes[0];
	struct stream *p = firn_calloc(1, sizeof(*p));
	if (p == NULL)
		return nomem(err);
	p->r = r;
	int rc = 0;
	int want = opts->n_field_ids > 0 ? opts->n_field_ids : opts->n_names > 0 ? opts->n_names :
		   root->n_children;
	p->sel = firn_calloc((size_t)want + 1, sizeof(int));
	if (p->sel == NULL) {
		rc = nomem(err);
		goto fail;
	}
	for (int i = 0; i < want; i++) {
		int found = -1;
		for (int c = 0; c < root->n_children && found < 0; c++) {
			const struct pq_node *n = &r->ps.nodes[root->children[c]];
			if (opts->n_field_ids > 0 ? n->field_id == opts->field_ids[i] :
			    opts->n_names > 0 ? strcmp(n->name, opts->names[i]) == 0 : c == i)
				found = root->children[c];
		}
		if (found < 0) {
			if (opts->n_field_ids > 0)
				rc = firn_error_set(err, FIRN_ENOTFOUND, "%s: no column with field id %d",
						    r->path, opts->field_ids[i]);
			else
				rc = firn_error_set(err, FIRN_ENOTFOUND, "%s: no column named '%s'", r->path,
						    opts->names[i]);
			goto fail;
		}
		p->sel[p->n_sel++] = found;
	}
	p->flat = true;
	for (int s = 0; s < p->n_sel; s++) {
		int first, last;
		leaf_span(&r->ps, p->sel[s], &first, &last);
		for (int l = first; l < last; l++)
			p->flat &= r->ps.nodes[r->ps.leaves[l]].rep == 0;
	}
	int nrg = opts->row_groups ? opts->n_row_groups : r->meta.n_row_groups;
	p->rgs = firn_calloc((size_t)nrg + 1, sizeof(int));
	if (p->rgs == NULL) {
		rc = nomem(err);
		goto fail;
	}
	for (int i = 0; i < nrg; i++) {
		int g = opts->row_groups ? opts->row_groups[i] : i;
		if (g < 0 || g >= r->meta.n_row_groups) {
			rc = firn_error_set(err, FIRN_EINVAL, "%s: no row group %d", r->path, g);
			goto fail;
		}
		p->rgs[p->n_rgs++] = g;
	}
	if ((rc = firn_schema_init(&p->schema, "+s", "", 0, p->n_sel)) != 0) {
		rc = nomem(err);
		goto fail;
	}
	for (int i = 0; i < p->n_sel; i++) {
		/* firn_schema_init allocated the child; fill it in place */
		struct ArrowSchema *child = p->schema.children[i];
		if ((rc = firn_pq__schema_to_arrow(&r->ps, p->sel[i], child, err)) != 0)
			goto fail;
	}
	if ((rc = firn_builder_init(&p->root, &p->schema, err)) != 0) {
		firn_error_prefix(err, "%s", r->path);
		goto fail;
	}
	out->get_schema = st_get_schema;
	out->get_next = st_get_next;
	out->get_last_error = st_last_error;
	out->release = st_release;
	out->private_data = p;
	return 0;
fail:
	{
		struct ArrowArrayStream tmp = { .release = st_release, .private_data = p };
		st_release(&tmp);
	}
	return rc;
}

/* =================== metadata for `firn parquet meta` =================== */

static const char *type_name(int t)
{
	static const char *names[] = { "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
				       "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY" };
	return t >= 0 && t < 8 ? names[t] : "UNKNOWN";
}

static const char *encoding_name(int e)
{
	static const char *names[] = { "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
				       "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
				       "RLE_DICTIONARY", "BYTE_STREAM_SPLIT" };
	return e >= 0 && e < 10 ? names[e] : "UNKNOWN";
}

int firn_parquet_reader_chunk_info(const struct firn_parquet_reader *r, int rg, int leaf,
				   struct firn_parquet_chunk_info *out, struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	if (rg < 0 || rg >= r->meta.n_row_groups || leaf < 0 || leaf >= r->ps.n_leaves)
		return firn_error_set(err, FIRN_EINVAL, "%s: no chunk %d/%d", r->path, rg, leaf);
	const struct pq_column_meta *m = &r->meta.row_groups[rg].columns[leaf].meta_data;
	const struct pq_node *node = &r->ps.nodes[r->ps.leaves[leaf]];
	out->path = r->ps.leaf_paths[leaf];
	out->field_id = node->field_id;
	out->physical_type = type_name(m->type);
	out->compression = firn_pq__codec_name(m->codec);
	if (out->compression == NULL)
		out->compression = "UNKNOWN";
	for (int i = 0; i < m->n_encodings && i < 12; i++)
		out->encodings[out->n_encodings++] = encoding_name(m->encodings[i]);
	out->num_values = m->num_values;
	out->total_compressed_size = m->total_compressed_size;
	out->total_uncompressed_size = m->total_uncompressed_size;
	out->data_page_offset = m->data_page_offset;
	out->dictionary_page_offset = m->has_dictionary_page_offset ? m->dictionary_page_offset : -1;
	out->null_count = out->distinct_count = -1;
	if (!m->has_statistics)
		return 0;
	const struct pq_statistics *s = &m->statistics;
	out->has_statistics = true;
	if (s->has_null_count)
		out->null_count = s->null_count;
	if (s->has_distinct_count)
		out->distinct_count = s->distinct_count;
	struct pq_bytes mn, mx;
	bool has;
	stat_bounds(r, leaf, s, &mn, &mx, &has);
	if (!has)
		return 0;
	/* decode the two bounds as values of the leaf's type */
	struct ArrowSchema holder;
	int rc = firn_schema_init(&holder, "+s", "", 0, 1);
	if (rc != 0)
		return nomem(err);
	if ((rc = firn_pq__schema_to_arrow(&r->ps, r->ps.leaves[leaf], holder.children[0], err)) != 0) {
		holder.release(&holder);
		return rc;
	}
	holder.children[0]->flags |= ARROW_FLAG_NULLABLE;
	struct firn_builder b;
	if ((rc = firn_builder_init(&b, holder.children[0], err)) != 0) {
		holder.release(&holder);
		return rc;
	}
	struct decode_ctx ctx = { 0 };
	ctx.r = r;
	ctx.rg = rg;
	ctx.err = err;
	ctx.col = out->path;
	struct leaf_data ld = { 0 };
	ld.node = node;
	struct pq_bytes both[2] = { mn, mx };
	for (int k = 0; k < 2 && rc == 0; k++) {
		const uint8_t *p = both[k].ptr;
		size_t len = (size_t)both[k].len;
		if (node->ptype == PQ_BOOLEAN) {
			if (len < 1) { rc = FIRN_ECORRUPT; break; }
			firn_buf_putc(&ld.values, p[0] & 1);
		} else if (node->ptype == PQ_BYTE_ARRAY || node->ptype == PQ_FIXED_LEN_BYTE_ARRAY) {
			struct pq_view v = { p, (uint32_t)len };
			rc = emit_views(&ctx, node, &ld.values, &ld.data, &v, 1);
		} else {
			int pw = physical_width(node);
			if ((int)len != pw) { rc = FIRN_ECORRUPT; break; }
			rc = emit_fixed(&ctx, node, &ld.values, p, 1);
		}
	}
	if (rc == 0) {
		ld.n_levels = ld.n_values = 2;
		int64_t cursor = 0;
		struct assemble as = { &ctx, &ld, &cursor };
		/* a bare leaf: every entry a valid value */
		struct pq_node tmp = *node;
		tmp.valid_def = 0;
		tmp.rep = 0;
		tmp.leaf = 0;
		tmp.first_leaf = 0;
		struct pq_schema one = r->ps;
		struct pq_node nodes[1] = { tmp };
		one.nodes = nodes;
		ld.node = &nodes[0];
		rc = assemble_node(&as, &one, 0, &b, 0, 0);
	}
	if (rc == 0)
		rc = firn_builder_finish(&b, &out->minmax, err);
	leaf_data_free(&ld);
	firn_builder_free(&b);
	if (rc != 0) {
		holder.release(&holder);
		/* undecodable bounds are shown as absent */
		return 0;
	}
	out->minmax_schema = *holder.children[0];
	holder.children[0]->release = NULL;
	holder.release(&holder);
	out->has_minmax = true;
	return 0;
}
