/* The Parquet writer: Arrow batches in, a Parquet file out.
 *
 * Each leaf column keeps its current page (levels + values) and the encoded
 * pages of the current row group in memory; a row group is written when its
 * encoded size passes row_group_size, chunk by chunk, dictionary page first.
 * Pages start at row boundaries.
 *
 * Columns are independent until their chunks are written, so a batch's
 * columns are encoded (and their pages compressed) in parallel on firn's
 * threads, each job with a codec context of its own for the while; the
 * chunks then go to the file in column order. Nothing a column does depends on the thread it
 * runs on, so the file is the same for any thread count. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "firn/io.h"
#include "firn/parquet.h"
#include "parquet/pq_encoding.h"
#include "parquet/pq_meta.h"
#include "parquet/pq_schema.h"
#include "parquet/pq_writer.h"
#include "util/parallel.h"

enum order { ORD_BOOL, ORD_I32, ORD_I64, ORD_FLOAT, ORD_DOUBLE, ORD_UNSIGNED, ORD_SIGNED_BE };

struct stats {
	bool has_minmax;
	struct firn_buf min, max;
	int64_t null_count, nan_count, value_count;
};

struct kslot {
	uint64_t key;
	uint32_t index1; /* entry index + 1, 0 = empty */
};

struct dict {
	uint64_t *slots; /* high 32 bits: hash tag; low: entry index + 1 (0 = empty) */
	struct kslot *kslots; /* values of 1..8 bytes: the value beside its index */
	struct kslot last;    /* the previous small value looked up (runs are common) */
	uint32_t cap;    /* power of two */
	uint32_t count;
	struct firn_buf values;  /* PLAIN encoding of the entries, in order */
	struct firn_buf offsets; /* uint32 start of each entry in values (byte arrays) */
};

struct column {
	const struct pq_node *leaf;
	int path[72];        /* node indices from below the root down to the leaf */
	int child_pos[72];   /* position of path[k] among its parent's children */
	int depth;
	int16_t max_def, max_rep;
	enum order order;
	int width;           /* bytes per fixed-width physical value; 0 byte arrays */
	bool use_dict;
	bool dict_full;
	int64_t dict_limit;   /* the dictionary's bound in bytes */
	int64_t plain_bytes;  /* PLAIN size of the values seen in dictionary mode */
	struct dict dict;
	/* the current page */
	struct firn_buf defs, reps;  /* uint16 */
	struct firn_buf plain;       /* PLAIN values (bool: one byte each) */
	struct firn_buf idx;         /* uint32 dictionary indices */
	int64_t page_levels, page_values, page_rows;
	/* the current chunk */
	struct firn_buf pages;
	int64_t chunk_values, chunk_uncompressed, chunk_compressed;
	int n_dict_data_pages, n_plain_data_pages;
	struct stats chunk_stats, file_stats;
	int64_t file_compressed;
	struct firn_buf body, zbody; /* scratch */
	/* the chunk's dictionary page, encoded before the chunk is written */
	struct firn_buf dpage;
	int64_t dpage_uncompressed, dpage_compressed;
	const char **path_in_schema; /* in the writer's arena */
	int n_path;
	/* a parallel step's outcome for this column */
	int rc;
	struct firn_error err;
};

struct firn_parquet_writer {
	char *path;
	struct firn_io_output *file; /* NULL once closed */
	bool closed;
	struct firn_parquet_write_options opts;
	struct ArrowSchema schema;
	struct firn_arena arena;
	struct pq_schema ps;
	int n_columns;
	struct column *cols;
	struct firn_buf out;   /* buffered output */
	int n_slots; /* threads that can have a column at once */
	int64_t offset;        /* bytes handed to the file so far (incl. out) */
	int64_t rows_total, rg_rows;
	struct pq_row_group *rgs;
	int n_rgs, cap_rgs;
	char **kv_keys, **kv_values;
	struct firn_parquet_column_stats *result_stats;
};

/* ---- output ---- */

static int out_flush(struct firn_parquet_writer *w, struct firn_error *err)
{
	if (w->file == NULL)
		return firn_error_set(err, FIRN_EINVAL, "%s: the file is closed", w->path);
	if (w->out.len > 0)
		FIRN_TRY(firn_io_write(w->file, w->out.data, w->out.len, err));
	w->out.len = 0;
	return 0;
}

static int out_write(struct firn_parquet_writer *w, const void *p, size_t n, struct firn_error *err)
{
	if (w->out.len + n > (4u << 20))
		FIRN_TRY(out_flush(w, err));
	if (n >= (4u << 20)) {
		/* large chunk: straight through */
		if (w->file == NULL)
			return firn_error_set(err, FIRN_EINVAL, "%s: the file is closed", w->path);
		FIRN_TRY(firn_io_write(w->file, p, n, err));
	} else if (firn_buf_append(&w->out, p, n) != 0) {
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	w->offset += (int64_t)n;
	return 0;
}

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* ---- statistics ---- */

static int cmp_values(enum order o, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	switch (o) {
	case ORD_BOOL: return (int)a[0] - (int)b[0];
	case ORD_I32: { int32_t x, y; memcpy(&x, a, 4); memcpy(&y, b, 4); return (x > y) - (x < y); }
	case ORD_I64: { int64_t x, y; memcpy(&x, a, 8); memcpy(&y, b, 8); return (x > y) - (x < y); }
	case ORD_FLOAT: { float x, y; memcpy(&x, a, 4); memcpy(&y, b, 4); return (x > y) - (x < y); }
	case ORD_DOUBLE: { double x, y; memcpy(&x, a, 8); memcpy(&y, b, 8); return (x > y) - (x < y); }
	case ORD_SIGNED_BE:
		if ((a[0] ^ b[0]) & 0x80)
			return (a[0] & 0x80) ? -1 : 1;
		return memcmp(a, b, alen);
	case ORD_UNSIGNED: {
		uint32_t n = alen < blen ? alen : blen;
		int c = n ? memcmp(a, b, n) : 0;
		if (c != 0)
			return c;
		return (alen > blen) - (alen < blen);
	}
	}
	return 0;
}

/* Bounds longer than this are not written (as Arrow's max_statistics_size):
 * a bound keeps at most one byte more, enough to compare with, so a huge
 * value is never copied. */
#define STATS_MAX 4096

static inline int stats_set(struct firn_buf *b, const uint8_t *v, uint32_t len)
{
	b->len = 0;
	return firn_buf_append(b, v, len > STATS_MAX ? STATS_MAX + 1 : len);
}

/* A prefix compares like the whole value against anything that fits in
 * STATS_MAX; two long ones may tie, but then the bound is dropped either way. */
static inline int stats_update(struct stats *s, enum order o, const uint8_t *v, uint32_t len)
{
	if (o == ORD_FLOAT || o == ORD_DOUBLE) {
		double d;
		if (o == ORD_FLOAT) { float f; memcpy(&f, v, 4); d = f; } else memcpy(&d, v, 8);
		if (isnan(d)) {
			s->nan_count++;
			return 0;
		}
	}
	/* most strings fall strictly inside the bounds by their first byte */
	if (o == ORD_UNSIGNED && s->has_minmax && len > 0 && s->min.len > 0 && s->max.len > 0 &&
	    v[0] > s->min.data[0] && v[0] < s->max.data[0])
		return 0;
	if (!s->has_minmax) {
		if (stats_set(&s->min, v, len) || stats_set(&s->max, v, len))
			return FIRN_ENOMEM;
		s->has_minmax = true;
		return 0;
	}
	if (len > STATS_MAX + 1)
		len = STATS_MAX + 1;
	if (cmp_values(o, v, len, s->min.data, (uint32_t)s->min.len) < 0) {
		if (stats_set(&s->min, v, len))
			return FIRN_ENOMEM;
	} else if (cmp_values(o, v, len, s->max.data, (uint32_t)s->max.len) > 0) {
		if (stats_set(&s->max, v, len))
			return FIRN_ENOMEM;
	}
	return 0;
}

static int stats_merge(struct stats *into, const struct stats *from, enum order o)
{
	into->null_count += from->null_count;
	into->nan_count += from->nan_count;
	into->value_count += from->value_count;
	if (!from->has_minmax)
		return 0;
	int64_t nan = into->nan_count;
	FIRN_TRY(stats_update(into, o, from->min.data, (uint32_t)from->min.len));
	FIRN_TRY(stats_update(into, o, from->max.data, (uint32_t)from->max.len));
	into->nan_count = nan;
	return 0;
}

static void stats_reset(struct stats *s)
{
	s->has_minmax = false;
	s->min.len = s->max.len = 0;
	s->null_count = s->nan_count = s->value_count = 0;
}

/* Fills the Parquet Statistics of a chunk; byte strings point into s. */
static void stats_to_pq(struct stats *s, enum order o, struct pq_statistics *out)
{
	memset(out, 0, sizeof(*out));
	out->has_null_count = true;
	out->null_count = s->null_count;
	if (!s->has_minmax || s->min.len > STATS_MAX || s->max.len > STATS_MAX)
		return;
	/* a zero bound is written as -0.0 (min) and +0.0 (max) */
	if (o == ORD_FLOAT) {
		float f;
		memcpy(&f, s->min.data, 4);
		if (f == 0) { f = -0.0f; memcpy(s->min.data, &f, 4); }
		memcpy(&f, s->max.data, 4);
		if (f == 0) { f = 0.0f; memcpy(s->max.data, &f, 4); }
	} else if (o == ORD_DOUBLE) {
		double d;
		memcpy(&d, s->min.data, 8);
		if (d == 0) { d = -0.0; memcpy(s->min.data, &d, 8); }
		memcpy(&d, s->max.data, 8);
		if (d == 0) { d = 0.0; memcpy(s->max.data, &d, 8); }
	}
	out->has_min_value = out->has_max_value = true;
	out->min_value = (struct pq_bytes){ s->min.data, (int32_t)s->min.len };
	out->max_value = (struct pq_bytes){ s->max.data, (int32_t)s->max.len };
	if (o != ORD_UNSIGNED && o != ORD_SIGNED_BE) {
		out->has_min = out->has_max = true;
		out->min = out->min_value;
		out->max = out->max_value;
	}
}

/* ---- dictionary ---- */

static inline uint64_t hash_bytes(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
	while (n >= 8) {
		uint64_t k;
		memcpy(&k, p, 8);
		h = (h ^ (k * 0xBF58476D1CE4E5B9ull)) * 0x94D049BB133111EBull;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	uint64_t k = 0;
	memcpy(&k, p, n);
	h = (h ^ (k * 0xBF58476D1CE4E5B9ull)) * 0x94D049BB133111EBull;
	return h ^ (h >> 31);
}

static const uint8_t *dict_entry(const struct dict *d, const struct column *c, uint32_t i,
				 uint32_t *len)
{
	if (c->width > 0) {
		*len = (uint32_t)c->width;
		return d->values.data + (size_t)i * (size_t)c->width;
	}
	uint32_t off = ((const uint32_t *)d->offsets.data)[i];
	memcpy(len, d->values.data + off, 4);
	return d->values.data + off + 4;
}

static inline uint64_t mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	return k ^ (k >> 33);
}

static bool small_width(const struct column *c) { return c->width > 0 && c->width <= 8; }

/* The first slot of a small value (4 or 8 bytes) of a table of cap slots. */
static inline uint32_t small_slot(const uint8_t *v, int width, uint32_t cap)
{
	uint64_t key = 0;
	if (width == 8) {
		memcpy(&key, v, 8);
	} else {
		uint32_t k4;
		memcpy(&k4, v, 4);
		key = k4;
	}
	return (uint32_t)mix64(key) & (cap - 1);
}

/* A byte string's slot comes from its tag (the hash's high 32 bits, kept
 * in the slot), so growing the table never reads the strings again. */
static inline uint32_t tag_slot(uint64_t tagged, uint32_t cap)
{
	return (uint32_t)mix64(tagged >> 32) & (cap - 1);
}

static int dict_grow(struct dict *d, const struct column *c)
{
	uint32_t cap = d->cap ? d->cap * 2 : 1024;
	if (small_width(c)) {
		struct kslot *ks = firn_calloc(cap, sizeof(*ks));
		if (ks == NULL)
			return FIRN_ENOMEM;
		for (uint32_t i = 0; i < d->cap; i++) {
			if (d->kslots[i].index1 == 0)
				continue;
			uint32_t h = (uint32_t)mix64(d->kslots[i].key) & (cap - 1);
			while (ks[h].index1 != 0)
				h = (h + 1) & (cap - 1);
			ks[h] = d->kslots[i];
		}
		firn_free(d->kslots);
		d->kslots = ks;
		d->cap = cap;
		return 0;
	}
	uint64_t *slots = firn_calloc(cap, sizeof(uint64_t));
	if (slots == NULL)
		return FIRN_ENOMEM;
	for (uint32_t i = 0; i < d->cap; i++) {
		uint64_t e = d->slots[i];
		if ((uint32_t)e == 0)
			continue;
		uint32_t h = tag_slot(e, cap);
		while (slots[h] != 0)
			h = (h + 1) & (cap - 1);
		slots[h] = e;
	}
	firn_free(d->slots);
	d->slots = slots;
	d->cap = cap;
	return 0;
}

/* Adds the new entry's bytes to the dictionary's PLAIN values. */
static inline int dict_push(struct dict *d, const struct column *c, const uint8_t *v, uint32_t len)
{
	if (c->width == 0) {
		uint32_t off = (uint32_t)d->values.len;
		if (firn_buf_append(&d->offsets, &off, 4) || firn_buf_append(&d->values, &len, 4))
			return FIRN_ENOMEM;
	}
	return firn_buf_append(&d->values, v, len) ? FIRN_ENOMEM : 0;
}

/* The index of v in the dictionary, adding it when new. Small values sit in
 * their slot (one memory access per probe); byte strings keep a hash tag
 * beside their index, so most probes need no comparison. */
static inline int dict_index(struct column *c, const uint8_t *v, uint32_t len, uint32_t *out)
{
	struct dict *d = &c->dict;
	if ((d->count + 1) * 2 > d->cap && dict_grow(d, c) != 0)
		return FIRN_ENOMEM;
	if (small_width(c)) {
		uint64_t key = 0;
		if (len == 8) {
			memcpy(&key, v, 8);
		} else if (len == 4) {
			uint32_t k4;
			memcpy(&k4, v, 4);
			key = k4;
		} else {
			memcpy(&key, v, len);
		}
		if (d->last.index1 != 0 && d->last.key == key) {
			*out = d->last.index1 - 1;
			return 0;
		}
		uint32_t h = (uint32_t)mix64(key) & (d->cap - 1);
		for (;;) {
			struct kslot *k = &d->kslots[h];
			if (k->index1 == 0)
				break;
			if (k->key == key) {
				d->last = *k;
				*out = k->index1 - 1;
				return 0;
			}
			h = (h + 1) & (d->cap - 1);
		}
		if (dict_push(d, c, v, len) != 0)
			return FIRN_ENOMEM;
		d->kslots[h].key = key;
		d->kslots[h].index1 = d->count + 1;
		d->last = d->kslots[h];
		*out = d->count++;
		return 0;
	}
	uint64_t tag = hash_bytes(v, len) & 0xFFFFFFFF00000000ull;
	uint32_t h = tag_slot(tag, d->cap);
	for (;;) {
		uint64_t e = d->slots[h];
		if (e == 0)
			break;
		if ((e & 0xFFFFFFFF00000000ull) == tag) {
			uint32_t elen;
			const uint8_t *x = dict_entry(d, c, (uint32_t)e - 1, &elen);
			if (elen == len && memcmp(x, v, len) == 0) {
				*out = (uint32_t)e - 1;
				return 0;
			}
		}
		h = (h + 1) & (d->cap - 1);
	}
	if (dict_push(d, c, v, len) != 0)
		return FIRN_ENOMEM;
	d->slots[h] = tag | (d->count + 1);
	*out = d->count++;
	return 0;
}

static void dict_reset(struct dict *d)
{
	if (d->slots)
		memset(d->slots, 0, sizeof(uint64_t) * d->cap);
	if (d->kslots)
		memset(d->kslots, 0, sizeof(struct kslot) * d->cap);
	d->count = 0;
	d->last.index1 = 0;
	d->values.len = 0;
	d->offsets.len = 0;
}

/* ---- pages ---- */

static int64_t page_bytes(const struct column *c)
{
	if (c->use_dict && !c->dict_full)
		return (int64_t)(c->idx.len / 4) * (firn_pq__bit_width(c->dict.count) + 1) / 8 +
		       c->page_levels / 4;
	return (int64_t)c->plain.len + c->page_levels / 4;
}

/* Room left in front of a compressed page body for its header (which has
 * no statistics: some 30 bytes). */
#define HEADER_ROOM 64

/* Appends header + body to out, adding their sizes to *unc and *comp. The
 * body is compressed straight into out and moved up to its header
 * afterwards, so a page is never held twice (a single huge value stays
 * within a few copies of its size). hdr is scratch. */
static int encode_page(const struct firn_parquet_writer *w, struct pq_codec_ctx *z,
		       struct firn_buf *out, struct firn_buf *hdr, struct pq_page_header *h,
		       const struct firn_buf *body, int64_t *unc, int64_t *comp,
		       struct firn_error *err)
{
	if (body->len > INT32_MAX)
		return firn_error_set(err, FIRN_EINVAL, "parquet: page larger than 2 GiB");
	size_t at = out->len, room = w->opts.codec == PQ_UNCOMPRESSED ? 0 : HEADER_ROOM;
	size_t zlen = body->len;
	if (room > 0) {
		if (firn_buf_zeros(out, room) != 0)
			return nomem(err);
		FIRN_TRY(firn_pq__compress(z, w->opts.codec, w->opts.codec_level, body->data,
					   body->len, out, err));
		zlen = out->len - at - room;
		if (zlen > INT32_MAX)
			return firn_error_set(err, FIRN_EINVAL, "parquet: page larger than 2 GiB");
	}
	h->uncompressed_page_size = (int32_t)body->len;
	h->compressed_page_size = (int32_t)zlen;
	hdr->len = 0;
	if (firn_pq__write_page_header(hdr, h) != 0)
		return nomem(err);
	size_t hlen = hdr->len;
	if (room == 0) {
		if (firn_buf_append(out, hdr->data, hlen) != 0 ||
		    firn_buf_append(out, body->data, body->len) != 0)
			return nomem(err);
	} else {
		if (hlen > room && firn_buf_reserve(out, hlen - room) != 0)
			return nomem(err);
		memmove(out->data + at + hlen, out->data + at + room, zlen);
		memcpy(out->data + at, hdr->data, hlen);
		out->len = at + hlen + zlen;
	}
	*unc += (int64_t)(hlen + body->len);
	*comp += (int64_t)(hlen + zlen);
	return 0;
}

static int append_page(const struct firn_parquet_writer *w, struct pq_codec_ctx *z,
		       struct column *c, struct pq_page_header *h, const struct firn_buf *body,
		       struct firn_error *err)
{
	return encode_page(w, z, &c->pages, &c->zbody, h, body, &c->chunk_uncompressed,
			   &c->chunk_compressed, err);
}

static int put_levels(struct firn_buf *body, const struct firn_buf *levels, int64_t n, int max)
{
	size_t at = body->len;
	if (firn_buf_zeros(body, 4) != 0)
		return FIRN_ENOMEM;
	if (firn_pq__rle_encode16(body, (const uint16_t *)levels->data, n, firn_pq__bit_width((uint64_t)max)) != 0)
		return FIRN_ENOMEM;
	uint32_t len = (uint32_t)(body->len - at - 4);
	memcpy(body->data + at, &len, 4);
	return 0;
}

static int flush_page(const struct firn_parquet_writer *w, struct pq_codec_ctx *z, struct column *c,
		      struct firn_error *err)
{
	if (c->page_levels == 0)
		return 0;
	struct firn_buf *b = &c->body;
	b->len = 0;
	if (c->max_rep > 0 && put_levels(b, &c->reps, c->page_levels, c->max_rep) != 0)
		return nomem(err);
	if (c->max_def > 0 && put_levels(b, &c->defs, c->page_levels, c->max_def) != 0)
		return nomem(err);
	bool dict_page = c->use_dict && c->idx.len > 0;
	if (dict_page) {
		int bw = firn_pq__bit_width(c->dict.count > 0 ? c->dict.count - 1 : 0);
		if (firn_buf_putc(b, (uint8_t)bw) != 0 ||
		    firn_pq__rle_encode32(b, (const uint32_t *)c->idx.data, (int64_t)(c->idx.len / 4), bw) != 0)
			return nomem(err);
	} else if (c->leaf->ptype == PQ_BOOLEAN) {
		if (firn_pq__plain_bools_encode(b, c->plain.data, (int64_t)c->plain.len) != 0)
			return nomem(err);
	} else {
		/* the levels go in front of the values, which become the body:
		 * a page's values are not copied */
		if (b->len > 0) {
			if (firn_buf_reserve(&c->plain, b->len) != 0)
				return nomem(err);
			if (c->plain.len > 0)
				memmove(c->plain.data + b->len, c->plain.data, c->plain.len);
			memcpy(c->plain.data, b->data, b->len);
			c->plain.len += b->len;
		}
		b = &c->plain;
	}
	struct pq_page_header h = { 0 };
	h.type = PQ_DATA_PAGE;
	h.has_data_page_header = true;
	h.data_page_header.num_values = (int32_t)c->page_levels;
	h.data_page_header.encoding = dict_page ? PQ_RLE_DICTIONARY : PQ_PLAIN;
	h.data_page_header.definition_level_encoding = PQ_RLE;
	h.data_page_header.repetition_level_encoding = PQ_RLE;
	FIRN_TRY(append_page(w, z, c, &h, b, err));
	if (dict_page)
		c->n_dict_data_pages++;
	else
		c->n_plain_data_pages++;
	/* as parquet-java does: when the first page shows the dictionary (plus
	 * its indices) is no smaller than PLAIN, write the rest PLAIN */
	if (dict_page && c->n_dict_data_pages == 1 && !c->dict_full &&
	    (int64_t)c->dict.values.len + (int64_t)b->len >= c->plain_bytes)
		c->dict_full = true;
	c->chunk_values += c->page_levels;
	c->page_levels = c->page_values = c->page_rows = 0;
	c->defs.len = c->reps.len = c->plain.len = c->idx.len = 0;
	return 0;
}

/* ---- values ---- */

/* A value larger than the whole dictionary bound never goes in: the page's
 * values so far turn PLAIN, and so does the rest of the chunk. */
static int dict_spill(struct column *c)
{
	const uint32_t *idx = (const uint32_t *)c->idx.data;
	for (size_t i = 0; i < c->idx.len / 4; i++) {
		uint32_t len;
		const uint8_t *v = dict_entry(&c->dict, c, idx[i], &len);
		if ((c->width == 0 && firn_buf_append(&c->plain, &len, 4) != 0) ||
		    firn_buf_append(&c->plain, v, len) != 0)
			return FIRN_ENOMEM;
	}
	c->idx.len = 0;
	c->dict_full = true;
	return 0;
}

static inline int add_physical(struct column *c, const uint8_t *v, uint32_t len)
{
	if (stats_update(&c->chunk_stats, c->order, v, len) != 0)
		return FIRN_ENOMEM;
	c->page_values++;
	if (c->use_dict && !c->dict_full && (int64_t)len > c->dict_limit && dict_spill(c) != 0)
		return FIRN_ENOMEM;
	if (c->use_dict && !c->dict_full) {
		c->plain_bytes += len + (c->width == 0 ? 4 : 0);
		uint32_t i;
		if (dict_index(c, v, len, &i) != 0 || firn_buf_append(&c->idx, &i, 4) != 0)
			return FIRN_ENOMEM;
		return 0;
	}
	if (c->width == 0 && firn_buf_append(&c->plain, &len, 4) != 0)
		return FIRN_ENOMEM;
	return firn_buf_append(&c->plain, v, len);
}

/* Converts value idx (offset applied) of a leaf array to its physical form. */
static int add_value(struct column *c, const struct ArrowArray *a, int64_t idx)
{
	const struct pq_node *leaf = c->leaf;
	const uint8_t *vals = a->buffers[1];
	uint8_t tmp[16];
	switch (leaf->ptype) {
	case PQ_BOOLEAN:
		tmp[0] = (vals[idx >> 3] >> (idx & 7)) & 1;
		return add_physical(c, tmp, 1);
	case PQ_INT32:
		/* int32, date32 and int128-backed decimals (low 4 bytes) */
		return add_physical(c, vals + idx * leaf->type.width, 4);
	case PQ_INT64:
		if (leaf->scale_factor != 1) {
			int64_t x;
			memcpy(&x, vals + idx * 8, 8);
			if (__builtin_mul_overflow(x, leaf->scale_factor, &x))
				return FIRN_EINVAL; /* seconds or millis past the microsecond range */
			return add_physical(c, (const uint8_t *)&x, 8);
		}
		return add_physical(c, vals + idx * leaf->type.width, 8);
	case PQ_FLOAT:
		return add_physical(c, vals + idx * 4, 4);
	case PQ_DOUBLE:
		return add_physical(c, vals + idx * 8, 8);
	case PQ_FIXED_LEN_BYTE_ARRAY:
		if (leaf->type.id == FIRN_A_DECIMAL) {
			/* little-endian int128 -> big-endian, low type_length bytes */
			const uint8_t *le = vals + idx * 16;
			int n = leaf->type_length;
			for (int k = 0; k < n; k++)
				tmp[k] = le[n - 1 - k];
			return add_physical(c, tmp, (uint32_t)n);
		}
		return add_physical(c, vals + idx * leaf->type.width, (uint32_t)leaf->type.width);
	case PQ_BYTE_ARRAY: {
		const int32_t *off = a->buffers[1];
		const uint8_t *data = a->buffers[2];
		return add_physical(c, data + off[idx], (uint32_t)(off[idx + 1] - off[idx]));
	}
	default:
		return FIRN_EUNSUPPORTED;
	}
}

static inline int add_level(struct column *c, int16_t d, int16_t r)
{
	uint16_t dv = (uint16_t)d, rv = (uint16_t)r;
	if (c->max_def > 0 && firn_buf_append(&c->defs, &dv, 2) != 0)
		return FIRN_ENOMEM;
	if (c->max_rep > 0 && firn_buf_append(&c->reps, &rv, 2) != 0)
		return FIRN_ENOMEM;
	c->page_levels++;
	return 0;
}

static inline bool valid_at(const struct ArrowArray *a, int64_t idx)
{
	return a->null_count == 0 || firn_bit_get(a->buffers[0], idx);
}

/* Writes the levels and value of one slot of path[k] (array a, logical index i). */
static int shred(const struct firn_parquet_writer *w, struct column *c, int k,
		 const struct ArrowArray *a, int64_t i, int16_t r)
{
	const struct pq_node *node = &w->ps.nodes[c->path[k]];
	int64_t idx = i + a->offset;
	if (node->optional && !valid_at(a, idx)) {
		c->chunk_stats.null_count++;
		return add_level(c, node->slot_def, r);
	}
	if (k == c->depth - 1) {
		FIRN_TRY(add_level(c, node->valid_def, r));
		return add_value(c, a, idx);
	}
	const struct ArrowArray *child = a->children[c->child_pos[k + 1]];
	if (node->type.id == FIRN_A_STRUCT)
		return shred(w, c, k + 1, child, idx, r);
	/* list or map */
	const int32_t *off = a->buffers[1];
	int32_t start = off[idx], end = off[idx + 1];
	if (start == end) {
		c->chunk_stats.null_count++; /* Iceberg counts empty lists' leaves as nulls too */
		return add_level(c, node->valid_def, r);
	}
	for (int32_t j = start; j < end; j++)
		FIRN_TRY(shred(w, c, k + 1, child, j, j == start ? r : node->rep));
	return 0;
}

/* Min and max of n typed values into the chunk statistics (NaN counted). */
#define CHUNK_MINMAX(T, ISNAN) do { \
	const T *v = (const T *)vals; \
	T mn = 0, mx = 0; bool any = false; \
	for (int64_t k = 0; k < n; k++) { \
		T x = v[k]; \
		if (ISNAN) { c->chunk_stats.nan_count++; continue; } \
		if (!any) { mn = mx = x; any = true; } \
		else if (x < mn) mn = x; \
		else if (x > mx) mx = x; \
	} \
	if (any && (stats_update(&c->chunk_stats, c->order, (const uint8_t *)&mn, sizeof(T)) || \
		    stats_update(&c->chunk_stats, c->order, (const uint8_t *)&mx, sizeof(T)))) \
		return FIRN_ENOMEM; \
} while (0)

/* The common case in bulk: a top-level column of plain fixed-width values
 * (ints, floats, dates, times, timestamps) with no nulls in [vals, n). */
static int add_dense(struct column *c, const uint8_t *vals, int64_t n)
{
	int wdt = c->width;
	switch (c->order) {
	case ORD_I32: CHUNK_MINMAX(int32_t, 0); break;
	case ORD_I64: CHUNK_MINMAX(int64_t, 0); break;
	case ORD_FLOAT: CHUNK_MINMAX(float, x != x); break;
	case ORD_DOUBLE: CHUNK_MINMAX(double, x != x); break;
	default: return FIRN_EINVAL;
	}
	if (c->max_def > 0) {
		size_t at = c->defs.len;
		if (firn_buf_reserve(&c->defs, (size_t)n * 2) != 0)
			return FIRN_ENOMEM;
		uint16_t *d = (uint16_t *)(c->defs.data + at);
		for (int64_t k = 0; k < n; k++)
			d[k] = (uint16_t)c->max_def;
		c->defs.len += (size_t)n * 2;
	}
	c->page_levels += n;
	c->page_values += n;
	c->page_rows += n;
	if (c->use_dict && !c->dict_full) {
		c->plain_bytes += n * wdt;
		if (firn_buf_reserve(&c->idx, (size_t)n * 4) != 0)
			return FIRN_ENOMEM;
		for (int64_t k = 0; k < n; k++) {
			uint32_t i;
			/* the table is far bigger than the cache: ask for the slot
			 * of a value a few ahead while this one is looked up */
			if (k + 8 < n && c->dict.kslots != NULL)
				__builtin_prefetch(&c->dict.kslots[small_slot(vals + (k + 8) * wdt, wdt,
									   c->dict.cap)]);
			if (dict_index(c, vals + k * wdt, (uint32_t)wdt, &i) != 0)
				return FIRN_ENOMEM;
			memcpy(c->idx.data + c->idx.len, &i, 4);
			c->idx.len += 4;
		}
		return 0;
	}
	return firn_buf_append(&c->plain, vals, (size_t)(n * wdt));
}

static bool dense_ok(const struct column *c, const struct ArrowArray *top)
{
	const struct pq_node *leaf = c->leaf;
	return c->depth == 1 && top->null_count == 0 &&
	       (leaf->ptype == PQ_INT32 || leaf->ptype == PQ_INT64 || leaf->ptype == PQ_FLOAT ||
		leaf->ptype == PQ_DOUBLE);
}

/* The physical values of n dense Arrow values: as they are, or converted
 * (decimal128 -> its low 4/8 bytes, seconds/millis -> micros) into tmp.
 * NULL when a value leaves the microsecond range. */
static const uint8_t *physical_values(const struct column *c, const uint8_t *src, int64_t n,
				      uint8_t *tmp)
{
	const struct pq_node *leaf = c->leaf;
	if (leaf->type.width == c->width && leaf->scale_factor == 1)
		return src;
	int aw = leaf->type.width;
	for (int64_t k = 0; k < n; k++) {
		if (c->width == 8) {
			int64_t x;
			memcpy(&x, src + k * aw, 8);
			if (__builtin_mul_overflow(x, leaf->scale_factor, &x))
				return NULL;
			memcpy(tmp + 8 * k, &x, 8);
		} else {
			memcpy(tmp + 4 * k, src + k * aw, 4);
		}
	}
	return tmp;
}

static int out_of_range(const struct firn_parquet_writer *w, const struct column *c,
			struct firn_error *err)
{
	return firn_error_set(err, FIRN_EINVAL, "%s: column %s: a timestamp past the microsecond range",
			      w->path, c->leaf->name);
}

/* As the dense columns' prefetch, for a flat string column: the slot of
 * value idx (offsets are valid under nulls too; a hint either way). */
static inline void prefetch_string_slot(const struct column *c, const struct ArrowArray *a,
					int64_t idx)
{
	const int32_t *off = a->buffers[1];
	const uint8_t *data = a->buffers[2];
	int32_t n = off[idx + 1] - off[idx];
	if (n < 0 || data == NULL)
		return;
	uint64_t tag = hash_bytes(data + off[idx], (uint32_t)n) & 0xFFFFFFFF00000000ull;
	__builtin_prefetch(&c->dict.slots[tag_slot(tag, c->dict.cap)]);
}

static int write_column_rows(const struct firn_parquet_writer *w, struct pq_codec_ctx *z,
			     struct column *c, const struct ArrowArray *batch, int64_t from,
			     int64_t to, struct firn_error *err)
{
	const struct ArrowArray *top = batch->children[c->child_pos[0]];
	bool flat = c->depth == 1;
	int64_t limit = w->opts.page_size, row_limit = w->opts.page_row_limit;
	if (dense_ok(c, top)) {
		int aw = c->leaf->type.width;
		const uint8_t *base = (const uint8_t *)top->buffers[1] + (batch->offset + top->offset) * aw;
		uint8_t tmp[1024 * 8];
		for (int64_t i = from; i < to;) {
			if (c->page_rows >= row_limit || page_bytes(c) >= limit)
				FIRN_TRY(flush_page(w, z, c, err));
			/* as many values as the page has room for, at most 1024 */
			int64_t per = c->use_dict && !c->dict_full ?
				      (firn_pq__bit_width(c->dict.count) + 8) / 8 : c->width;
			int64_t n = (limit - page_bytes(c)) / per + 1;
			if (n > 1024)
				n = 1024;
			if (n > to - i)
				n = to - i;
			if (n > row_limit - c->page_rows)
				n = row_limit - c->page_rows;
			const uint8_t *pv = physical_values(c, base + i * aw, n, tmp);
			if (pv == NULL)
				return out_of_range(w, c, err);
			if (add_dense(c, pv, n) != 0)
				return nomem(err);
			i += n;
			if (c->use_dict && !c->dict_full &&
			    (int64_t)c->dict.values.len > w->opts.dictionary_size_limit) {
				FIRN_TRY(flush_page(w, z, c, err));
				c->dict_full = true;
			}
		}
		return 0;
	}
	bool strings = flat && c->leaf->ptype == PQ_BYTE_ARRAY;
	for (int64_t i = from; i < to; i++) {
		if (c->page_rows >= row_limit || page_bytes(c) >= limit)
			FIRN_TRY(flush_page(w, z, c, err));
		if (strings && i + 8 < to && c->use_dict && !c->dict_full && c->dict.slots != NULL)
			prefetch_string_slot(c, top, i + 8 + batch->offset + top->offset);
		int rc;
		if (flat) {
			int64_t idx = i + batch->offset + top->offset;
			if (c->max_def > 0 && !valid_at(top, idx)) {
				c->chunk_stats.null_count++;
				rc = add_level(c, 0, 0);
			} else {
				rc = add_level(c, c->max_def, 0);
				if (rc == 0)
					rc = add_value(c, top, idx);
			}
		} else {
			rc = shred(w, c, 0, top, i + batch->offset, 0);
		}
		if (rc == FIRN_EINVAL)
			return out_of_range(w, c, err);
		if (rc != 0)
			return rc == FIRN_ENOMEM ? nomem(err) : firn_error_set(err, rc, "%s: column %s: cannot write value",
									       w->path, c->leaf->name);
		c->page_rows++;
		/* the dictionary passed its bound: this page keeps its indices,
		 * the next pages are PLAIN */
		if (c->use_dict && !c->dict_full && (int64_t)c->dict.values.len > w->opts.dictionary_size_limit) {
			FIRN_TRY(flush_page(w, z, c, err));
			c->dict_full = true;
		}
	}
	return 0;
}

/* ---- row groups ---- */

/* The row group's size so far: uncompressed (as RowGroup.total_byte_size
 * counts, and parquet-java bounds row groups), or as it will land in the
 * file (compressed pages; for rolling files). */
static int64_t row_group_bytes_as(const struct firn_parquet_writer *w, bool compressed)
{
	int64_t n = 0;
	for (int i = 0; i < w->n_columns; i++) {
		const struct column *c = &w->cols[i];
		n += (compressed ? (int64_t)c->pages.len : c->chunk_uncompressed) + page_bytes(c);
		if (c->use_dict)
			n += (int64_t)c->dict.values.len;
	}
	return n;
}

static int64_t row_group_bytes(const struct firn_parquet_writer *w)
{
	return row_group_bytes_as(w, false);
}

/* A chunk's last page and its dictionary page (in c->dpage), encoded:
 * everything of a row group's end that is the column's own. */
static int finish_chunk(const struct firn_parquet_writer *w, struct pq_codec_ctx *z,
			struct column *c, struct firn_error *err)
{
	FIRN_TRY(flush_page(w, z, c, err));
	c->dpage.len = 0;
	c->dpage_uncompressed = c->dpage_compressed = 0;
	if (c->n_dict_data_pages == 0)
		return 0;
	if (c->leaf->ptype == PQ_BOOLEAN) /* never: booleans are not dictionary-encoded */
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: column %s: boolean dictionary",
				      w->path, c->leaf->name);
	struct pq_page_header h = { 0 };
	h.type = PQ_DICTIONARY_PAGE;
	h.has_dictionary_page_header = true;
	h.dictionary_page_header.num_values = (int32_t)c->dict.count;
	h.dictionary_page_header.encoding = PQ_PLAIN;
	return encode_page(w, z, &c->dpage, &c->zbody, &h, &c->dict.values, &c->dpage_uncompressed,
			   &c->dpage_compressed, err);
}

/* The columns' share of a step, run by firn_par__for: rows [from, to) of
 * batch (or, batch NULL, the end of the chunk). */
struct col_step {
	struct firn_parquet_writer *w;
	const struct ArrowArray *batch;
	int64_t from, to;
};

/* Codec contexts (a zstd one is a few MB) are shared by every writer of
 * the process: a job takes one and gives it back, so there are never more
 * than jobs running at once, however many files are open (a partitioned
 * append may have hundreds). A context's past does not change what it
 * compresses to. */
#define SPARE_MAX 64
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pq_codec_ctx *spare[SPARE_MAX];
static int n_spare;

static struct pq_codec_ctx *codec_take(void)
{
	struct pq_codec_ctx *z = NULL;
	pthread_mutex_lock(&spare_lock);
	if (n_spare > 0)
		z = spare[--n_spare];
	pthread_mutex_unlock(&spare_lock);
	return z ? z : firn_calloc(1, sizeof(*z));
}

static void codec_give(struct pq_codec_ctx *z)
{
	pthread_mutex_lock(&spare_lock);
	if (n_spare < SPARE_MAX) {
		spare[n_spare++] = z;
		z = NULL;
	}
	pthread_mutex_unlock(&spare_lock);
	if (z) {
		firn_pq__codec_ctx_free(z);
		firn_free(z);
	}
}

static void col_step_run(void *arg, size_t i, int slot)
{
	(void)slot;
	struct col_step *s = arg;
	struct column *c = &s->w->cols[i];
	c->err.code = 0;
	c->err.message[0] = 0;
	struct pq_codec_ctx *z = codec_take();
	if (z == NULL) {
		c->rc = nomem(&c->err);
		return;
	}
	c->rc = s->batch ? write_column_rows(s->w, z, c, s->batch, s->from, s->to, &c->err)
			 : finish_chunk(s->w, z, c, &c->err);
	codec_give(z);
}

/* Runs the step on every column, in parallel when it is worth a hand-off;
 * the first failing column's error (by column order) is the step's. */
static int columns_step(struct firn_parquet_writer *w, const struct ArrowArray *batch,
			int64_t from, int64_t to, struct firn_error *err)
{
	struct col_step s = { w, batch, from, to };
	/* a few rows are not worth a hand-off: the result is the same either way */
	bool par = w->n_slots > 1 && (batch == NULL || to - from >= 256);
	if (par) {
		firn_par__for((size_t)w->n_columns, w->n_slots, col_step_run, &s);
	} else {
		for (int i = 0; i < w->n_columns; i++) {
			col_step_run(&s, (size_t)i, 0);
			if (w->cols[i].rc != 0)
				break;
		}
	}
	for (int i = 0; i < w->n_columns; i++) {
		struct column *c = &w->cols[i];
		if (c->rc != 0) {
			if (err) {
				*err = c->err;
				err->code = c->rc;
			}
			return c->rc;
		}
	}
	return 0;
}

static int flush_row_group(struct firn_parquet_writer *w, struct firn_error *err)
{
	if (w->rg_rows == 0)
		return 0;
	if (w->n_rgs == w->cap_rgs) {
		int cap = w->cap_rgs ? w->cap_rgs * 2 : 16;
		struct pq_row_group *r = firn_realloc(w->rgs, sizeof(*r) * (size_t)cap);
		if (r == NULL)
			return nomem(err);
		w->rgs = r;
		w->cap_rgs = cap;
	}
	FIRN_TRY(columns_step(w, NULL, 0, 0, err));
	struct pq_row_group *rg = &w->rgs[w->n_rgs];
	memset(rg, 0, sizeof(*rg));
	rg->columns = firn_arena_alloc(&w->arena, sizeof(struct pq_column_chunk) * (size_t)w->n_columns);
	if (rg->columns == NULL)
		return nomem(err);
	rg->n_columns = w->n_columns;
	rg->num_rows = w->rg_rows;
	rg->has_file_offset = true;
	rg->file_offset = w->offset;
	int64_t start = w->offset;
	for (int ci = 0; ci < w->n_columns; ci++) {
		struct column *c = &w->cols[ci];
		struct pq_column_chunk *cc = &rg->columns[ci];
		struct pq_column_meta *m = &cc->meta_data;
		cc->has_meta_data = true;
		m->type = c->leaf->ptype;
		m->codec = (enum pq_codec)w->opts.codec;
		m->n_path = 0;
		bool has_dict = c->n_dict_data_pages > 0;
		int64_t unc = c->dpage_uncompressed, comp = c->dpage_compressed;
		if (has_dict) {
			/* the dictionary page, written first */
			m->has_dictionary_page_offset = true;
			m->dictionary_page_offset = w->offset;
			int rc = out_write(w, c->dpage.data, c->dpage.len, err);
			firn_buf_free(&c->dpage); /* as big as the dictionary: not kept */
			if (rc != 0)
				return rc;
		}
		m->data_page_offset = w->offset;
		FIRN_TRY(out_write(w, c->pages.data, c->pages.len, err));
		m->num_values = c->chunk_values;
		m->total_uncompressed_size = c->chunk_uncompressed + unc;
		m->total_compressed_size = c->chunk_compressed + comp;
		c->file_compressed += m->total_compressed_size;
		/* encodings */
		enum pq_encoding *enc = firn_arena_alloc(&w->arena, sizeof(*enc) * 3);
		struct pq_page_encoding_stats *es = firn_arena_alloc(&w->arena, sizeof(*es) * 3);
		if (enc == NULL || es == NULL)
			return nomem(err);
		int ne = 0, ns = 0;
		enc[ne++] = PQ_PLAIN;
		enc[ne++] = PQ_RLE;
		if (has_dict) {
			enc[ne++] = PQ_RLE_DICTIONARY;
			es[ns++] = (struct pq_page_encoding_stats){ PQ_DICTIONARY_PAGE, PQ_PLAIN, 1 };
			es[ns++] = (struct pq_page_encoding_stats){ PQ_DATA_PAGE, PQ_RLE_DICTIONARY, c->n_dict_data_pages };
		}
		if (c->n_plain_data_pages > 0)
			es[ns++] = (struct pq_page_encoding_stats){ PQ_DATA_PAGE, PQ_PLAIN, c->n_plain_data_pages };
		m->encodings = enc;
		m->n_encodings = ne;
		m->encoding_stats = es;
		m->n_encoding_stats = ns;
		/* path: the same for every row group, so made once */
		if (c->path_in_schema == NULL) {
			const char *p = w->ps.leaf_paths[ci];
			int np = 1;
			for (const char *q = p; *q; q++)
				np += *q == '.';
			const char **path = firn_arena_alloc(&w->arena, sizeof(char *) * (size_t)np);
			char *copy = firn_arena_strdup(&w->arena, p);
			if (path == NULL || copy == NULL)
				return nomem(err);
			np = 0;
			char *save = NULL;
			for (char *t = strtok_r(copy, ".", &save); t; t = strtok_r(NULL, ".", &save))
				path[np++] = t;
			c->path_in_schema = path;
			c->n_path = np;
		}
		m->path_in_schema = c->path_in_schema;
		m->n_path = c->n_path;
		/* statistics: copy the bytes into the arena (the buffers are reused) */
		c->chunk_stats.value_count = c->chunk_values;
		struct pq_statistics st;
		stats_to_pq(&c->chunk_stats, c->order, &st);
		if (st.has_min_value) {
			uint8_t *mn = firn_arena_alloc(&w->arena, (size_t)st.min_value.len + 1);
			uint8_t *mx = firn_arena_alloc(&w->arena, (size_t)st.max_value.len + 1);
			if (mn == NULL || mx == NULL)
				return nomem(err);
			if (st.min_value.len > 0)
				memcpy(mn, st.min_value.ptr, (size_t)st.min_value.len);
			if (st.max_value.len > 0)
				memcpy(mx, st.max_value.ptr, (size_t)st.max_value.len);
			st.min_value.ptr = mn;
			st.max_value.ptr = mx;
			if (st.has_min) {
				st.min = st.min_value;
				st.max = st.max_value;
			}
		}
		m->has_statistics = true;
		m->statistics = st;
		if (stats_merge(&c->file_stats, &c->chunk_stats, c->order) != 0)
			return nomem(err);
		/* reset the chunk */
		stats_reset(&c->chunk_stats);
		c->pages.len = 0;
		c->chunk_values = c->chunk_uncompressed = c->chunk_compressed = 0;
		c->n_dict_data_pages = c->n_plain_data_pages = 0;
		c->dict_full = false;
		c->plain_bytes = 0;
		dict_reset(&c->dict);
		rg->total_byte_size += m->total_uncompressed_size;
	}
	rg->has_total_compressed_size = true;
	rg->total_compressed_size = w->offset - start;
	rg->has_ordinal = w->n_rgs < INT16_MAX;
	rg->ordinal = (int16_t)w->n_rgs;
	w->n_rgs++;
	w->rg_rows = 0;
	return 0;
}

/* ---- public ---- */

static enum order order_of(const struct pq_node *leaf)
{
	switch (leaf->ptype) {
	case PQ_BOOLEAN: return ORD_BOOL;
	case PQ_INT32: return ORD_I32;
	case PQ_INT64: return ORD_I64;
	case PQ_FLOAT: return ORD_FLOAT;
	case PQ_DOUBLE: return ORD_DOUBLE;
	case PQ_FIXED_LEN_BYTE_ARRAY:
		return leaf->type.id == FIRN_A_DECIMAL ? ORD_SIGNED_BE : ORD_UNSIGNED;
	default: return ORD_UNSIGNED;
	}
}

static int physical_width(const struct pq_node *leaf)
{
	switch (leaf->ptype) {
	case PQ_BOOLEAN: return 1;
	case PQ_INT32: case PQ_FLOAT: return 4;
	case PQ_INT64: case PQ_DOUBLE: return 8;
	case PQ_FIXED_LEN_BYTE_ARRAY: return leaf->type_length;
	default: return 0;
	}
}

int firn_parquet_writer_open(struct firn_parquet_writer **out, const char *path,
			     const struct ArrowSchema *schema,
			     const struct firn_parquet_write_options *opts, struct firn_error *err)
{
	*out = NULL;
	struct firn_parquet_writer *w = firn_calloc(1, sizeof(*w));
	if (w == NULL)
		return nomem(err);
	struct firn_parquet_write_options def = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	w->opts = opts ? *opts : def;
	int rc;
	if (w->opts.row_group_size <= 0) w->opts.row_group_size = def.row_group_size;
	if (w->opts.page_size <= 0) w->opts.page_size = def.page_size;
	if (w->opts.page_row_limit <= 0) w->opts.page_row_limit = def.page_row_limit;
	if (w->opts.dictionary_size_limit <= 0) w->opts.dictionary_size_limit = def.dictionary_size_limit;
	if (firn_pq__codec_name(w->opts.codec) == NULL) {
		rc = firn_error_set(err, FIRN_EINVAL, "%s: unknown compression codec %d", path, w->opts.codec);
		goto fail;
	}
	w->path = firn_strdup(path);
	if (w->path == NULL || firn_schema_copy(&w->schema, schema) != 0) {
		rc = nomem(err);
		goto fail;
	}
	if ((rc = firn_pq__schema_from_arrow(&w->schema, &w->arena, &w->ps, err)) != 0) {
		firn_error_prefix(err, "%s", path);
		goto fail;
	}
	w->n_columns = w->ps.n_leaves;
	w->cols = firn_calloc((size_t)(w->n_columns ? w->n_columns : 1), sizeof(struct column));
	w->n_slots = firn_get_threads();
	if (w->n_slots > w->n_columns)
		w->n_slots = w->n_columns;
	if (w->cols == NULL) {
		rc = nomem(err);
		goto fail;
	}
	for (int i = 0; i < w->n_columns; i++) {
		struct column *c = &w->cols[i];
		c->leaf = &w->ps.nodes[w->ps.leaves[i]];
		c->max_def = c->leaf->valid_def;
		c->max_rep = c->leaf->rep;
		c->order = order_of(c->leaf);
		c->width = physical_width(c->leaf);
		c->use_dict = w->opts.dictionary && c->leaf->ptype != PQ_BOOLEAN;
		c->dict_limit = w->opts.dictionary_size_limit;
		int chain[72], depth = 0;
		for (int n = w->ps.leaves[i]; n > 0; n = w->ps.nodes[n].parent) {
			if (depth >= 70) {
				rc = firn_error_set(err, FIRN_EUNSUPPORTED, "%s: schema nested too deeply", path);
				goto fail;
			}
			chain[depth++] = n;
		}
		c->depth = depth;
		for (int k = 0; k < depth; k++) {
			int n = chain[depth - 1 - k];
			c->path[k] = n;
			const struct pq_node *parent = &w->ps.nodes[w->ps.nodes[n].parent];
			for (int j = 0; j < parent->n_children; j++)
				if (parent->children[j] == n)
					c->child_pos[k] = j;
		}
	}
	for (int i = 0; i < w->opts.n_kv; i++)
		if (w->opts.kv_keys[i] == NULL) {
			rc = firn_error_set(err, FIRN_EINVAL, "%s: footer key %d is NULL", path, i);
			goto fail;
		}
	if (w->opts.n_kv > 0) {
		w->kv_keys = firn_calloc((size_t)w->opts.n_kv, sizeof(char *));
		w->kv_values = firn_calloc((size_t)w->opts.n_kv, sizeof(char *));
		if (w->kv_keys == NULL || w->kv_values == NULL) {
			rc = nomem(err);
			goto fail;
		}
		for (int i = 0; i < w->opts.n_kv; i++) {
			w->kv_keys[i] = firn_strdup(w->opts.kv_keys[i]);
			w->kv_values[i] = w->opts.kv_values[i] ? firn_strdup(w->opts.kv_values[i]) : NULL;
			if (!w->kv_keys[i] || (w->opts.kv_values[i] && !w->kv_values[i])) {
				rc = nomem(err);
				goto fail;
			}
		}
	}
	if ((rc = firn_io_create(path, w->opts.io_flags, &w->file, err)) != 0)
		goto fail;
	if ((rc = out_write(w, "PAR1", 4, err)) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	firn_parquet_writer_free(w);
	return rc;
}

int firn_parquet_writer_write(struct firn_parquet_writer *w, const struct ArrowArray *batch,
			      struct firn_error *err)
{
	if (w->closed)
		return firn_error_set(err, FIRN_EINVAL, "%s: writer already closed", w->path);
	if (batch->n_children != w->schema.n_children)
		return firn_error_set(err, FIRN_EINVAL, "%s: batch has %lld columns, schema %lld", w->path,
				      (long long)batch->n_children, (long long)w->schema.n_children);
	for (int64_t from = 0, to; from < batch->length; from = to) {
		/* slices small enough that a row group ends near its size bound */
		int64_t slice = 4096;
		int64_t have = row_group_bytes(w);
		if (w->rg_rows > 0 && have > 0) {
			int64_t per_row = have / w->rg_rows + 1;
			int64_t room = (w->opts.row_group_size - have) / per_row;
			slice = room < 1 ? 1 : room < slice ? room : slice;
		} else if (w->opts.row_group_size < (1 << 20)) {
			slice = 1; /* small bounds: learn the row size first */
		}
		to = from + slice < batch->length ? from + slice : batch->length;
		FIRN_TRY(columns_step(w, batch, from, to, err));
		w->rg_rows += to - from;
		w->rows_total += to - from;
		if (row_group_bytes(w) >= w->opts.row_group_size)
			FIRN_TRY(flush_row_group(w, err));
	}
	return 0;
}

int firn_parquet_writer_close(struct firn_parquet_writer *w, struct firn_error *err)
{
	if (w->closed)
		return 0;
	FIRN_TRY(flush_row_group(w, err));
	struct pq_file_meta m = { 0 };
	m.version = 1;
	m.schema = w->ps.elements;
	m.n_schema = w->ps.n_elements;
	m.num_rows = w->rows_total;
	m.row_groups = w->rgs;
	m.n_row_groups = w->n_rgs;
	m.created_by = firn_created_by();
	int32_t *orders = firn_arena_alloc(&w->arena, sizeof(int32_t) * (size_t)(w->n_columns + 1));
	struct pq_key_value *kv = firn_arena_alloc(&w->arena, sizeof(*kv) * (size_t)(w->opts.n_kv + 1));
	if (orders == NULL || kv == NULL)
		return nomem(err);
	for (int i = 0; i < w->n_columns; i++)
		orders[i] = 1; /* TYPE_ORDER */
	m.column_orders = orders;
	m.n_column_orders = w->n_columns;
	for (int i = 0; i < w->opts.n_kv; i++)
		kv[i] = (struct pq_key_value){ w->kv_keys[i], w->kv_values[i] };
	m.key_value_metadata = kv;
	m.n_key_value_metadata = w->opts.n_kv;
	struct firn_buf footer = FIRN_BUF_INIT;
	if (firn_pq__write_file_meta(&footer, &m) != 0 || footer.len > INT32_MAX) {
		firn_buf_free(&footer);
		return nomem(err);
	}
	uint32_t flen = (uint32_t)footer.len;
	int rc = out_write(w, footer.data, footer.len, err);
	firn_buf_free(&footer);
	if (rc == 0)
		rc = out_write(w, &flen, 4, err);
	if (rc == 0)
		rc = out_write(w, "PAR1", 4, err);
	if (rc == 0)
		rc = out_flush(w, err);
	if (rc != 0)
		return rc;
	struct firn_io_output *file = w->file;
	w->file = NULL; /* close ends the handle, whatever it returns */
	FIRN_TRY(firn_io_output_close(file, err));
	w->closed = true;
	/* the gathered per-column facts */
	w->result_stats = firn_calloc((size_t)(w->n_columns + 1), sizeof(*w->result_stats));
	if (w->result_stats == NULL)
		return nomem(err);
	for (int i = 0; i < w->n_columns; i++) {
		struct column *c = &w->cols[i];
		struct firn_parquet_column_stats *s = &w->result_stats[i];
		struct pq_statistics st;
		stats_to_pq(&c->file_stats, c->order, &st);
		s->field_id = c->leaf->field_id;
		s->value_count = c->file_stats.value_count;
		s->null_count = c->file_stats.null_count;
		s->nan_count = c->file_stats.nan_count;
		s->compressed_size = c->file_compressed;
		s->min_len = s->max_len = -1;
		if (st.has_min_value) {
			s->min = st.min_value.ptr; s->min_len = st.min_value.len;
			s->max = st.max_value.ptr; s->max_len = st.max_value.len;
		}
	}
	return 0;
}

int64_t firn_parquet_writer_bytes(const struct firn_parquet_writer *w)
{
	return w->offset + row_group_bytes_as(w, true);
}

int64_t firn_parquet_writer_rows(const struct firn_parquet_writer *w) { return w->rows_total; }

int firn_parquet_writer_stats(const struct firn_parquet_writer *w,
			      const struct firn_parquet_column_stats **out, int *n_out)
{
	if (!w->closed || w->result_stats == NULL)
		return FIRN_EINVAL;
	*out = w->result_stats;
	*n_out = w->n_columns;
	return 0;
}

int firn_parquet_writer_row_groups(const struct firn_parquet_writer *w, int64_t *offsets, int max)
{
	int n = 0;
	for (int i = 0; i < w->n_rgs && n < max; i++)
		offsets[n++] = w->rgs[i].file_offset;
	return w->n_rgs;
}

static int64_t dict_memory(const struct column *c)
{
	const struct dict *d = &c->dict;
	int64_t n = (int64_t)(d->values.cap + d->offsets.cap);
	if (d->slots)
		n += (int64_t)d->cap * (int64_t)sizeof(uint64_t);
	if (d->kslots)
		n += (int64_t)d->cap * (int64_t)sizeof(struct kslot);
	return n;
}

int64_t firn_pq__writer_memory(const struct firn_parquet_writer *w)
{
	int64_t n = (int64_t)w->out.cap;
	for (int i = 0; i < w->n_columns; i++) {
		const struct column *c = &w->cols[i];
		n += (int64_t)(c->defs.cap + c->reps.cap + c->plain.cap + c->idx.cap + c->pages.cap +
			       c->body.cap + c->zbody.cap + c->dpage.cap);
		n += (int64_t)(c->chunk_stats.min.cap + c->chunk_stats.max.cap);
		n += dict_memory(c);
	}
	return n;
}

static void dict_free(struct dict *d)
{
	firn_free(d->slots);
	firn_free(d->kslots);
	firn_buf_free(&d->values);
	firn_buf_free(&d->offsets);
	memset(d, 0, sizeof(*d));
}

int firn_pq__writer_flush(struct firn_parquet_writer *w, struct firn_error *err)
{
	if (w->closed)
		return firn_error_set(err, FIRN_EINVAL, "%s: writer already closed", w->path);
	/* the row group ends for want of memory, not because it is full: a
	 * column that gave up its dictionary in it goes on PLAIN in the next,
	 * as it would have in one row group (and does not build a dictionary
	 * again just to give it up again) */
	bool *full = firn_calloc((size_t)w->n_columns + 1, sizeof(bool));
	if (full == NULL)
		return nomem(err);
	for (int i = 0; i < w->n_columns; i++)
		full[i] = w->cols[i].dict_full;
	int rc = flush_row_group(w, err);
	for (int i = 0; rc == 0 && i < w->n_columns; i++)
		w->cols[i].dict_full = full[i];
	firn_free(full);
	FIRN_TRY(rc);
	FIRN_TRY(out_flush(w, err));
	firn_buf_free(&w->out);
	for (int i = 0; i < w->n_columns; i++) {
		struct column *c = &w->cols[i];
		/* all empty now: the row group took every page */
		firn_buf_free(&c->defs); firn_buf_free(&c->reps);
		firn_buf_free(&c->plain); firn_buf_free(&c->idx);
		firn_buf_free(&c->pages);
		firn_buf_free(&c->body); firn_buf_free(&c->zbody);
		firn_buf_free(&c->dpage);
		dict_free(&c->dict);
	}
	return 0;
}

void firn_parquet_writer_free(struct firn_parquet_writer *w)
{
	if (w == NULL)
		return;
	firn_io_output_abort(w->file); /* not closed: the partial file goes */
	for (int i = 0; w->cols && i < w->n_columns; i++) {
		struct column *c = &w->cols[i];
		firn_free(c->dict.slots);
		firn_free(c->dict.kslots);
		firn_buf_free(&c->dict.values);
		firn_buf_free(&c->dict.offsets);
		firn_buf_free(&c->defs); firn_buf_free(&c->reps);
		firn_buf_free(&c->plain); firn_buf_free(&c->idx);
		firn_buf_free(&c->pages);
		firn_buf_free(&c->body); firn_buf_free(&c->zbody);
		firn_buf_free(&c->dpage);
		firn_buf_free(&c->chunk_stats.min); firn_buf_free(&c->chunk_stats.max);
		firn_buf_free(&c->file_stats.min); firn_buf_free(&c->file_stats.max);
	}
	firn_free(w->cols);
	if (w->kv_keys && w->kv_values)
		for (int i = 0; i < w->opts.n_kv; i++) {
			firn_free(w->kv_keys[i]);
			firn_free(w->kv_values[i]);
		}
	firn_free(w->kv_keys);
	firn_free(w->kv_values);
	firn_free(w->rgs);
	firn_free(w->result_stats);
	firn_buf_free(&w->out);
	if (w->schema.release)
		w->schema.release(&w->schema);
	firn_arena_free(&w->arena);
	firn_free(w->path);
	firn_free(w);
}
