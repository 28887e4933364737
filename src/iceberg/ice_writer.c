/* Data files for a table: fan-out by partition, rolling writers, metrics.
 *
 * A batch's rows go to their partitions' open files, which encode them in
 * parallel (each file's columns in parallel too). The open files' buffers
 * share one memory budget (firn.write.memory-budget-bytes): past it, the
 * largest ends its row group early and frees its buffers, so memory stays
 * bounded however many partitions are open and however long the input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iceberg/ice_batch.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_writer.h"
#include "io/io_local.h"
#include "parquet/pq_writer.h"
#include "util/alloc.h"
#include "util/parallel.h"

#define NBUCKETS 1024

struct open_file {
	struct firn_datum *key; /* one per spec field, bytes copied into the arena */
	uint64_t hash;
	char *path;
	struct firn_parquet_writer *pw;
	struct open_file *next; /* hash chain */
	int64_t *idx;           /* rows of the current batch */
	int64_t n_idx, cap_idx;
	bool touched;
	int rc; /* of the parallel step of a batch */
	struct firn_error err;
};

struct firn_ice_writer {
	const struct firn_ice_meta *m;
	const struct firn_ice_schema *schema;
	const struct firn_ice_spec *spec;
	struct firn_pfield *pf;
	int *src_path;    /* per spec field: child index path, -1 terminated */
	int path_len[64];
	struct firn_arena *arena;
	struct firn_parquet_write_options opts;
	char *iceberg_schema;
	int64_t target;
	int64_t budget; /* bytes the open files' buffers may hold together */
	int64_t held;   /* what they held after the last batch */
	int64_t growth; /* how much a batch adds, as the last ones did */
	bool sorted; /* rows arrive in the table's sort order */
	struct open_file *buckets[NBUCKETS];
	struct open_file **touched;
	size_t n_touched, cap_touched;
	struct firn_ice_entry *entries;
	size_t n_entries, cap_entries;
	bool finished; /* finish gave the files to the caller */
};

static int codec_of(const char *name)
{
	if (!name || strcasecmp(name, "zstd") == 0)
		return FIRN_PARQUET_ZSTD;
	if (strcasecmp(name, "snappy") == 0)
		return FIRN_PARQUET_SNAPPY;
	if (strcasecmp(name, "gzip") == 0)
		return FIRN_PARQUET_GZIP;
	if (strcasecmp(name, "lz4") == 0 || strcasecmp(name, "lz4_raw") == 0)
		return FIRN_PARQUET_LZ4_RAW;
	if (strcasecmp(name, "uncompressed") == 0 || strcasecmp(name, "none") == 0)
		return FIRN_PARQUET_UNCOMPRESSED;
	return -1;
}

/* The child-index path from the top-level struct to field id (through
 * structs only). Returns the length, or -1. */
static int find_path(const struct ArrowSchema *s, int32_t id, int *path, int depth)
{
	if (depth >= 16)
		return -1;
	for (int64_t i = 0; i < s->n_children; i++) {
		const struct ArrowSchema *c = s->children[i];
		path[depth] = (int)i;
		if (firn_schema_field_id(c) == id)
			return depth + 1;
		if (c->format[0] == '+' && c->format[1] == 's') {
			int n = find_path(c, id, path, depth + 1);
			if (n > 0)
				return n;
		}
	}
	return -1;
}

int firn_ice__writer_open(struct firn_ice_writer **out, const struct firn_ice_meta *m,
			  struct firn_arena *arena, struct firn_error *err)
{
	*out = NULL;
	struct firn_ice_writer *w = firn_calloc(1, sizeof(*w));
	if (!w)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	w->m = m;
	w->arena = arena;
	w->schema = firn_ice__meta_current_schema(m);
	w->spec = firn_ice__meta_spec(m, m->default_spec_id);
	int rc = firn_ice__spec_resolve(w->spec, &w->schema->arrow, &w->pf, err);
	if (rc != 0)
		goto fail;
	if (w->spec->n_fields > 64) {
		rc = firn_error_set(err, FIRN_EUNSUPPORTED, "more than 64 partition fields");
		goto fail;
	}
	w->src_path = firn_calloc(w->spec->n_fields * 16 + 1, sizeof(int));
	if (!w->src_path) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < w->spec->n_fields; k++) {
		if (w->pf[k].transform.kind == FIRN_TR_UNKNOWN) {
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "partition field %s uses transform %s, which firn cannot write",
					    w->spec->fields[k].name, w->spec->fields[k].transform_text);
			goto fail;
		}
		w->path_len[k] = find_path(&w->schema->arrow, w->pf[k].source_id, w->src_path + 16 * k, 0);
		if (w->path_len[k] < 0 || w->pf[k].result_type.id == FIRN_A_NULL) {
			rc = firn_error_set(err, FIRN_EINVAL,
					    "partition field %s: source column %d is not in the schema",
					    w->spec->fields[k].name, w->pf[k].source_id);
			goto fail;
		}
	}
	struct firn_parquet_write_options o = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	const char *codec = firn_ice__prop(m, "write.parquet.compression-codec");
	o.codec = codec_of(codec);
	if (o.codec < 0) {
		rc = firn_error_set(err, FIRN_EINVAL,
				    "write.parquet.compression-codec: unknown codec '%s'", codec);
		goto fail;
	}
	o.codec_level = (int)firn_ice__prop_int(m, "write.parquet.compression-level", 0);
	o.row_group_size = firn_ice__prop_int(m, "write.parquet.row-group-size-bytes", 128LL << 20);
	o.page_size = firn_ice__prop_int(m, "write.parquet.page-size-bytes", 1LL << 20);
	o.page_row_limit = firn_ice__prop_int(m, "write.parquet.page-row-limit", 20000);
	o.dictionary_size_limit = firn_ice__prop_int(m, "write.parquet.dict-size-bytes", 2LL << 20);
	w->target = firn_ice__prop_int(m, "write.target-file-size-bytes", 512LL << 20);
	w->budget = firn_ice__prop_int(m, "firn.write.memory-budget-bytes", 512LL << 20);
	w->iceberg_schema = firn_json__dumps(w->schema->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (w->iceberg_schema == NULL) { /* not a file without its iceberg.schema */
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	w->opts = o;
	*out = w;
	return 0;
fail:
	firn_ice__writer_free(w);
	return rc;
}

void firn_ice__writer_set_target(struct firn_ice_writer *w, int64_t bytes)
{
	w->target = bytes > 0 ? bytes : w->target;
}

void firn_ice__writer_set_sorted(struct firn_ice_writer *w, bool sorted)
{
	w->sorted = sorted;
}

/* Value of partition source k at row i (struct parents' nulls applied). */
static void source_datum(const struct firn_ice_writer *w, size_t k, const struct ArrowArray *batch,
			 int64_t i, struct firn_datum *d)
{
	const struct ArrowArray *a = batch;
	int64_t row = i + a->offset;
	for (int depth = 0; depth < w->path_len[k]; depth++) {
		a = a->children[w->src_path[16 * k + depth]];
		if (depth + 1 < w->path_len[k]) {
			if (a->null_count != 0 && !firn_bit_get(a->buffers[0], a->offset + row)) {
				d->null = true;
				return;
			}
			row += a->offset;
		}
	}
	firn_ice__datum_from_array(&w->pf[k].source_type, a, row, d);
}

static uint64_t key_hash(const struct firn_ice_writer *w, const struct firn_datum *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t k = 0; k < w->spec->n_fields; k++)
		h = (h ^ firn_ice__datum_hash(&w->pf[k].result_type, &key[k])) * 1099511628211ULL;
	return h;
}

static bool key_equal(const struct firn_ice_writer *w, const struct firn_datum *a,
		      const struct firn_datum *b)
{
	for (size_t k = 0; k < w->spec->n_fields; k++)
		if (!firn_ice__datum_equal(&w->pf[k].result_type, &a[k], &b[k]))
			return false;
	return true;
}

static void escape(struct firn_buf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.')
			firn_buf_putc(b, c);
		else
			firn_buf_printf(b, "%%%02X", c);
	}
}

static int open_file(struct firn_ice_writer *w, const struct firn_datum *key, uint64_t hash,
		     struct open_file **out, struct firn_error *err)
{
	struct open_file *f = firn_arena_alloc(w->arena, sizeof(*f));
	if (!f)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	f->key = firn_arena_alloc(w->arena, (w->spec->n_fields + 1) * sizeof(*f->key));
	if (!f->key)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_buf dir = { 0 };
	firn_buf_puts(&dir, "data");
	for (size_t k = 0; k < w->spec->n_fields; k++) {
		f->key[k] = key[k];
		const struct firn_type *t = &w->pf[k].result_type;
		if (!key[k].null && (t->id == FIRN_A_STRING || t->id == FIRN_A_BINARY ||
				     t->id == FIRN_A_FIXED)) {
			uint8_t *p = firn_arena_alloc(w->arena, key[k].v.bin.n + 1);
			if (!p)
				return firn_error_set(err, FIRN_ENOMEM, "out of memory");
			memcpy(p, key[k].v.bin.p, key[k].v.bin.n);
			f->key[k].v.bin.p = p;
		}
		struct firn_buf human = { 0 };
		if (key[k].null)
			firn_buf_puts(&human, "null");
		else
			firn_ice__transform_to_human(&w->pf[k].transform, t, &key[k], &human);
		firn_buf_putc(&dir, '/');
		escape(&dir, (const uint8_t *)w->spec->fields[k].name, strlen(w->spec->fields[k].name));
		firn_buf_putc(&dir, '=');
		escape(&dir, human.data, human.len);
		firn_buf_free(&human);
	}
	firn_buf_cstr(&dir);
	f->path = firn_ice__new_path(w->m, (const char *)dir.data, "00000-0-", ".parquet");
	firn_buf_free(&dir);
	if (!f->path)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	const char *kk[] = { "iceberg.schema" };
	const char *kv[] = { w->iceberg_schema ? w->iceberg_schema : "{}" };
	struct firn_parquet_write_options o = w->opts;
	o.n_kv = 1;
	o.kv_keys = kk;
	o.kv_values = kv;
	int rc = firn_parquet_writer_open(&f->pw, f->path, &w->schema->arrow, &o, err);
	if (rc != 0) {
		firn_free(f->path);
		f->path = NULL;
		return rc;
	}
	f->hash = hash;
	f->next = w->buckets[hash % NBUCKETS];
	w->buckets[hash % NBUCKETS] = f;
	*out = f;
	return 0;
}

static void unlink_file(struct firn_ice_writer *w, struct open_file *f)
{
	struct open_file **pp = &w->buckets[f->hash % NBUCKETS];
	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
}

/* Drops an open file after a failure: nothing of it stays on disk. */
static void drop_file(struct open_file *f)
{
	firn_parquet_writer_free(f->pw);
	f->pw = NULL;
	if (f->path)
		firn_io_delete(f->path, NULL);
	firn_free(f->path);
	f->path = NULL;
	firn_free(f->idx);
	f->idx = NULL;
	f->n_idx = f->cap_idx = 0;
}

/* Closes f (already out of the hash chains) into an entry; on failure the
 * file is removed. */
static int close_file(struct firn_ice_writer *w, struct open_file *f, struct firn_error *err)
{
	int rc = firn_parquet_writer_close(f->pw, err);
	if (rc != 0) {
		drop_file(f);
		return rc;
	}
	firn_io__crash_point("after-data-file");
	if (w->n_entries == w->cap_entries) {
		size_t cap = w->cap_entries ? 2 * w->cap_entries : 16;
		struct firn_ice_entry *e = firn_realloc(w->entries, cap * sizeof(*e));
		if (!e) {
			drop_file(f);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		w->entries = e;
		w->cap_entries = cap;
	}
	struct firn_ice_entry *e = &w->entries[w->n_entries];
	memset(e, 0, sizeof(*e));
	e->status = FIRN_ICE_ADDED;
	struct firn_ice_data_file *df = &e->file;
	df->content = 0;
	df->path = firn_arena_strdup(w->arena, f->path);
	df->format = "PARQUET";
	df->spec_id = w->spec->spec_id;
	df->partition = f->key;
	df->n_partition = w->spec->n_fields;
	df->record_count = firn_parquet_writer_rows(f->pw);
	df->file_size = firn_parquet_writer_bytes(f->pw); /* after close: all of it, footer too */
	int n_rgs = firn_parquet_writer_row_groups(f->pw, NULL, 0);
	df->split_offsets = n_rgs > 0 ? firn_arena_alloc(w->arena, (size_t)n_rgs * sizeof(int64_t)) : NULL;
	if (df->split_offsets)
		df->n_split_offsets = (size_t)firn_parquet_writer_row_groups(f->pw, df->split_offsets, n_rgs);
	df->has_sort_order_id = true;
	df->sort_order_id = w->sorted ? w->m->default_sort_order_id : 0; /* 0: unsorted */
	const struct firn_parquet_column_stats *st;
	int n;
	firn_parquet_writer_stats(f->pw, &st, &n);
	rc = firn_ice__file_metrics(&w->schema->arrow, st, n, w->arena, df, err);
	if (rc != 0) {
		drop_file(f);
		return rc;
	}
	w->n_entries++;
	firn_parquet_writer_free(f->pw);
	f->pw = NULL;
	firn_free(f->path);
	f->path = NULL;
	firn_free(f->idx);
	f->idx = NULL;
	f->n_idx = f->cap_idx = 0;
	return 0;
}

static int touch(struct firn_ice_writer *w, struct open_file *f, int64_t row)
{
	if (!f->touched) {
		if (w->n_touched == w->cap_touched) {
			size_t cap = w->cap_touched ? 2 * w->cap_touched : 16;
			struct open_file **t = firn_realloc(w->touched, cap * sizeof(*t));
			if (!t)
				return FIRN_ENOMEM;
			w->touched = t;
			w->cap_touched = cap;
		}
		w->touched[w->n_touched++] = f;
		f->touched = true;
		f->n_idx = 0;
	}
	if (f->n_idx == f->cap_idx) {
		int64_t cap = f->cap_idx ? 2 * f->cap_idx : 1024;
		int64_t *p = firn_realloc(f->idx, (size_t)cap * sizeof(int64_t));
		if (!p)
			return FIRN_ENOMEM;
		f->idx = p;
		f->cap_idx = cap;
	}
	f->idx[f->n_idx++] = row;
	return 0;
}

static int write_rows(struct firn_ice_writer *w, struct open_file *f, const struct ArrowArray *batch,
		      bool whole, struct firn_error *err)
{
	int rc;
	/* small target sizes: write in slices so that files can roll inside a batch */
	int64_t slice = w->target < (8LL << 20) ? 1024 : 8192;
	if (whole && w->target < (64LL << 20) && batch->length > slice) {
		int64_t *idx = firn_malloc((size_t)slice * sizeof(int64_t));
		if (!idx)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		rc = 0;
		for (int64_t start = 0; rc == 0 && start < batch->length; start += slice) {
			int64_t n = batch->length - start < slice ? batch->length - start : slice;
			for (int64_t i = 0; i < n; i++)
				idx[i] = start + i;
			struct ArrowArray part;
			if ((rc = firn_ice__batch_take(&w->schema->arrow, batch, idx, n, &part, err)) != 0)
				break;
			if (!f->pw) { /* the previous slice closed the file: start the next one */
				struct firn_datum *key = f->key;
				uint64_t h = f->hash;
				if ((rc = open_file(w, key, h, &f, err)) != 0) {
					part.release(&part);
					break;
				}
			}
			rc = firn_parquet_writer_write(f->pw, &part, err);
			part.release(&part);
			if (rc == 0 && firn_parquet_writer_bytes(f->pw) >= w->target) {
				unlink_file(w, f);
				rc = close_file(w, f, err);
			}
		}
		firn_free(idx);
		return rc;
	}
	if (whole) {
		rc = firn_parquet_writer_write(f->pw, batch, err);
	} else {
		struct ArrowArray part;
		rc = firn_ice__batch_take(&w->schema->arrow, batch, f->idx, f->n_idx, &part, err);
		if (rc != 0)
			return rc;
		rc = firn_parquet_writer_write(f->pw, &part, err);
		part.release(&part);
	}
	if (rc == 0 && firn_parquet_writer_bytes(f->pw) >= w->target) {
		unlink_file(w, f);
		rc = close_file(w, f, err);
	}
	return rc;
}

/* The partitions' rows of a batch, one job per touched file. */
struct touched_step {
	struct firn_ice_writer *w;
	const struct ArrowArray *batch;
};

static void touched_run(void *arg, size_t i, int slot)
{
	(void)slot;
	struct touched_step *s = arg;
	struct open_file *f = s->w->touched[i];
	struct ArrowArray part;
	f->err.code = 0;
	f->err.message[0] = 0;
	f->rc = firn_ice__batch_take(&s->w->schema->arrow, s->batch, f->idx, f->n_idx, &part, &f->err);
	if (f->rc != 0)
		return;
	f->rc = firn_parquet_writer_write(f->pw, &part, &f->err);
	part.release(&part);
}

/* Many partitions' rows: gathered and encoded in parallel, one file a job
 * (each file is its own; what one writes does not depend on another or on
 * the thread), then files that reached the target close, in the order the
 * batch touched them; the first failing file's error is the batch's. */
static int write_touched(struct firn_ice_writer *w, const struct ArrowArray *batch,
			 struct firn_error *err)
{
	struct touched_step s = { w, batch };
	firn_par__for(w->n_touched, firn_get_threads(), touched_run, &s);
	int rc = 0;
	for (size_t t = 0; t < w->n_touched; t++) {
		struct open_file *f = w->touched[t];
		f->touched = false;
		if (rc != 0)
			continue;
		if (f->rc != 0) {
			if (err) {
				*err = f->err;
				err->code = f->rc;
			}
			rc = f->rc;
		} else if (firn_parquet_writer_bytes(f->pw) >= w->target) {
			unlink_file(w, f);
			rc = close_file(w, f, err);
		}
	}
	return rc;
}

struct held {
	struct open_file *f;
	int64_t bytes;
	size_t order; /* ties go by the order the files were found in */
};

static int held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Keeps the open files' buffers within the budget: a batch grows them by
 * about what the last ones did, so after each batch, while they hold more
 * than the budget less that growth, the largest ends its row group and
 * frees its buffers (a row group early, not a file: the file count stays
 * what the target size makes it). What the files hold does not depend on
 * the thread count, so neither do these flushes. */
static int keep_budget(struct firn_ice_writer *w, struct firn_error *err)
{
	size_t n = 0;
	int64_t total = 0;
	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct open_file *f = w->buckets[b]; f; f = f->next)
			if (f->pw) {
				n++;
				total += firn_pq__writer_memory(f->pw);
			}
	/* the growth of the last batch, or a decaying memory of bigger ones
	 * (buffers grow by doubling, in steps) */
	int64_t grew = total > w->held ? total - w->held : 0;
	w->growth = grew > w->growth - w->growth / 4 ? grew : w->growth - w->growth / 4;
	int64_t limit = w->budget > w->growth ? w->budget - w->growth : 0;
	w->held = total;
	if (total <= limit || n == 0)
		return 0;
	struct held *h = firn_malloc(n * sizeof(*h));
	if (!h)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct open_file *f = w->buckets[b]; f; f = f->next)
			if (f->pw) {
				h[k] = (struct held){ f, firn_pq__writer_memory(f->pw), k };
				k++;
			}
	qsort(h, n, sizeof(*h), held_cmp);
	int rc = 0;
	for (size_t i = 0; i < n && total > limit && rc == 0; i++) {
		rc = firn_pq__writer_flush(h[i].f->pw, err);
		total -= h[i].bytes - firn_pq__writer_memory(h[i].f->pw);
	}
	w->held = total;
	firn_free(h);
	return rc;
}

int firn_ice__writer_write(struct firn_ice_writer *w, const struct ArrowArray *batch,
			   struct firn_error *err)
{
	if (batch->length == 0)
		return 0;
	size_t nf = w->spec->n_fields;
	struct firn_datum key[64], tmp;
	w->n_touched = 0;
	for (int64_t i = 0; i < batch->length; i++) {
		for (size_t k = 0; k < nf; k++) {
			memset(&tmp, 0, sizeof(tmp));
			source_datum(w, k, batch, i, &tmp);
			firn_ice__transform_apply(&w->pf[k].transform, &w->pf[k].source_type, &tmp, &key[k]);
		}
		uint64_t h = key_hash(w, key);
		struct open_file *f = w->buckets[h % NBUCKETS];
		while (f && !(f->hash == h && key_equal(w, f->key, key)))
			f = f->next;
		if (!f)
			FIRN_TRY(open_file(w, key, h, &f, err));
		if (touch(w, f, i) != 0)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		if (nf == 0) { /* unpartitioned: one file takes the whole batch */
			f->n_idx = batch->length;
			break;
		}
	}
	int rc = 0;
	if (w->n_touched > 1 && firn_get_threads() > 1) {
		rc = write_touched(w, batch, err);
	} else {
		for (size_t t = 0; t < w->n_touched; t++) {
			struct open_file *f = w->touched[t];
			f->touched = false;
			if (rc == 0)
				rc = write_rows(w, f, batch, w->n_touched == 1, err);
		}
	}
	return rc == 0 ? keep_budget(w, err) : rc;
}

int firn_ice__writer_finish(struct firn_ice_writer *w, struct firn_ice_entry **entries,
			    size_t *n, struct firn_error *err)
{
	for (size_t b = 0; b < NBUCKETS; b++) {
		while (w->buckets[b]) {
			struct open_file *f = w->buckets[b];
			w->buckets[b] = f->next;
			if (f->pw && firn_parquet_writer_rows(f->pw) == 0) {
				firn_parquet_writer_free(f->pw); /* removes the empty file */
				f->pw = NULL;
				firn_free(f->path);
				f->path = NULL;
				firn_free(f->idx);
				f->idx = NULL;
				continue;
			}
			FIRN_TRY(close_file(w, f, err));
		}
	}
	/* the files are fsynced; now their directory entries, once per directory */
	for (size_t i = 0; i < w->n_entries; i++) {
		const char *p = w->entries[i].file.path;
		const char *slash = strrchr(p, '/');
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++) {
			const char *q = w->entries[k].file.path;
			const char *qs = strrchr(q, '/');
			seen = qs - q == slash - p && strncmp(p, q, (size_t)(slash - p)) == 0;
		}
		if (!seen)
			FIRN_TRY(firn_io_sync_dir(p, err));
	}
	*entries = w->entries;
	*n = w->n_entries;
	w->finished = true;
	return 0;
}

void firn_ice__writer_free(struct firn_ice_writer *w)
{
	if (!w)
		return;
	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct open_file *f = w->buckets[b]; f; f = f->next)
			drop_file(f);
	/* a writer that failed (or was dropped) before finish leaves no files */
	for (size_t i = 0; !w->finished && i < w->n_entries; i++)
		firn_io_delete(w->entries[i].file.path, NULL);
	firn_free(w->touched);
	firn_free(w->entries);
	firn_free(w->pf);
	firn_free(w->src_path);
	firn_free(w->iceberg_schema);
	firn_free(w);
}

/* ---- metrics ------------------------------------------------------- */

/* Finds the leaf node for field id and whether it sits under a list/map. */
static const struct ArrowSchema *leaf_of(const struct ArrowSchema *s, int32_t id, bool repeated,
					 bool *under_repeated)
{
	for (int64_t i = 0; i < s->n_children; i++) {
		const struct ArrowSchema *c = s->children[i];
		if (firn_schema_field_id(c) == id && c->n_children == 0) {
			*under_repeated = repeated;
			return c;
		}
		bool rep = repeated || (c->format[0] == '+' && (c->format[1] == 'l' || c->format[1] == 'm'));
		const struct ArrowSchema *hit = leaf_of(c, id, rep, under_repeated);
		if (hit)
			return hit;
	}
	return NULL;
}

/* Parquet statistics bytes → datum of Iceberg type t. */
bool firn_ice__parquet_stat_datum(const struct firn_type *t, const uint8_t *p, int32_t n, struct firn_datum *d)
{
	memset(d, 0, sizeof(*d));
	switch (t->id) {
	case FIRN_A_BOOL: if (n < 1) return false; d->v.b = p[0] != 0; return true;
	case FIRN_A_INT32:
	case FIRN_A_DATE32: if (n != 4) return false; memcpy(&d->v.i32, p, 4); return true;
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP: if (n != 8) return false; memcpy(&d->v.i64, p, 8); return true;
	case FIRN_A_FLOAT: if (n != 4) return false; memcpy(&d->v.f32, p, 4); return true;
	case FIRN_A_DOUBLE: if (n != 8) return false; memcpy(&d->v.f64, p, 8); return true;
	case FIRN_A_DECIMAL:
		if (t->precision <= 9 && n == 4) {
			int32_t v;
			memcpy(&v, p, 4);
			d->v.dec = v;
		} else if (t->precision <= 18 && n == 8) {
			int64_t v;
			memcpy(&v, p, 8);
			d->v.dec = v;
		} else {
			if (n < 1 || n > 16)
				return false;
			__int128 x = (p[0] & 0x80) ? -1 : 0;
			for (int32_t i = 0; i < n; i++)
				x = (__int128)((unsigned __int128)x << 8) | p[i];
			d->v.dec = x;
		}
		return true;
	case FIRN_A_STRING:
	case FIRN_A_BINARY:
	case FIRN_A_FIXED: d->v.bin.p = p; d->v.bin.n = (size_t)n; return true;
	default: return false;
	}
}

/* Truncation as metrics mode truncate(16): strings by code points. */
static size_t prefix_len(const struct firn_type *t, const uint8_t *p, size_t n)
{
	if (t->id == FIRN_A_BINARY) /* fixed and uuid are never truncated */
		return n < 16 ? n : 16;
	if (t->id != FIRN_A_STRING)
		return n;
	size_t i = 0;
	for (int cp = 0; i < n && cp < 16; cp++) {
		i++;
		while (i < n && (p[i] & 0xC0) == 0x80)
			i++;
	}
	return i;
}

static const uint8_t *copy_bytes(struct firn_arena *a, const void *p, size_t n)
{
	uint8_t *c = firn_arena_alloc(a, n + 1);
	if (c && n)
		memcpy(c, p, n);
	return c;
}

/* Rounds a truncated upper bound up: increments the last code point (or
 * byte) that can be; false when none can. */
static bool round_up(const struct firn_type *t, uint8_t *p, size_t *n)
{
	if (t->id == FIRN_A_BINARY) {
		while (*n > 0) {
			if (p[*n - 1] != 0xff) {
				p[*n - 1]++;
				return true;
			}
			(*n)--;
		}
		return false;
	}
	/* strings: decode the last code point, bump it, re-encode */
	while (*n > 0) {
		size_t start = *n - 1;
		while (start > 0 && (p[start] & 0xC0) == 0x80)
			start--;
		uint32_t cp;
		size_t len = *n - start;
		if (len == 1) cp = p[start];
		else if (len == 2) cp = (uint32_t)(p[start] & 0x1F) << 6 | (p[start + 1] & 0x3F);
		else if (len == 3) cp = (uint32_t)(p[start] & 0x0F) << 12 | (uint32_t)(p[start + 1] & 0x3F) << 6 | (p[start + 2] & 0x3F);
		else cp = (uint32_t)(p[start] & 0x07) << 18 | (uint32_t)(p[start + 1] & 0x3F) << 12 | (uint32_t)(p[start + 2] & 0x3F) << 6 | (p[start + 3] & 0x3F);
		cp++;
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xE000;
		*n = start;
		if (cp > 0x10FFFF)
			continue;
		uint8_t enc[4];
		size_t el;
		if (cp < 0x80) { enc[0] = (uint8_t)cp; el = 1; }
		else if (cp < 0x800) { enc[0] = (uint8_t)(0xC0 | cp >> 6); enc[1] = (uint8_t)(0x80 | (cp & 0x3F)); el = 2; }
		else if (cp < 0x10000) { enc[0] = (uint8_t)(0xE0 | cp >> 12); enc[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); enc[2] = (uint8_t)(0x80 | (cp & 0x3F)); el = 3; }
		else { enc[0] = (uint8_t)(0xF0 | cp >> 18); enc[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)); enc[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); enc[3] = (uint8_t)(0x80 | (cp & 0x3F)); el = 4; }
		memcpy(p + start, enc, el);
		*n = start + el;
		return true;
	}
	return false;
}

int firn_ice__file_metrics(const struct ArrowSchema *s,
			   const struct firn_parquet_column_stats *st, int n_stats,
			   struct firn_arena *arena, struct firn_ice_data_file *f,
			   struct firn_error *err)
{
	size_t cap = (size_t)n_stats + 1;
	f->column_sizes = firn_arena_alloc(arena, cap * sizeof(struct firn_ice_kv));
	f->value_counts = firn_arena_alloc(arena, cap * sizeof(struct firn_ice_kv));
	f->null_counts = firn_arena_alloc(arena, cap * sizeof(struct firn_ice_kv));
	f->nan_counts = firn_arena_alloc(arena, cap * sizeof(struct firn_ice_kv));
	f->lower = firn_arena_alloc(arena, cap * sizeof(struct firn_ice_bound));
	f->upper = firn_arena_alloc(arena, cap * sizeof(struct firn_ice_bound));
	if (!f->column_sizes || !f->value_counts || !f->null_counts || !f->nan_counts ||
	    !f->lower || !f->upper)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_buf b = { 0 };
	for (int i = 0; i < n_stats; i++) {
		const struct firn_parquet_column_stats *c = &st[i];
		if (c->field_id < 0)
			continue;
		bool rep = false;
		const struct ArrowSchema *leaf = leaf_of(s, c->field_id, false, &rep);
		struct firn_type t;
		if (!leaf || firn_type_of(leaf, &t, NULL) != 0)
			continue;
		f->column_sizes[f->n_column_sizes++] = (struct firn_ice_kv){ c->field_id, c->compressed_size };
		f->value_counts[f->n_value_counts++] = (struct firn_ice_kv){ c->field_id, c->value_count };
		f->null_counts[f->n_null_counts++] = (struct firn_ice_kv){ c->field_id, c->null_count };
		if (t.id == FIRN_A_FLOAT || t.id == FIRN_A_DOUBLE)
			f->nan_counts[f->n_nan_counts++] = (struct firn_ice_kv){ c->field_id, c->nan_count };
		if (rep || c->min_len < 0 || c->max_len < 0 || !c->min || !c->max)
			continue;
		struct firn_datum lo, hi;
		if (!firn_ice__parquet_stat_datum(&t, c->min, c->min_len, &lo) ||
		    !firn_ice__parquet_stat_datum(&t, c->max, c->max_len, &hi))
			continue;
		firn_buf_reset(&b);
		if (firn_ice__datum_to_bytes(&t, &lo, &b) != 0)
			break;
		size_t ln = prefix_len(&t, b.data, b.len);
		f->lower[f->n_lower++] = (struct firn_ice_bound){ c->field_id, copy_bytes(arena, b.data, ln), ln };
		firn_buf_reset(&b);
		if (firn_ice__datum_to_bytes(&t, &hi, &b) != 0)
			break;
		size_t hn = prefix_len(&t, b.data, b.len);
		if (hn < b.len && !round_up(&t, b.data, &hn))
			continue; /* no upper bound can be given */
		f->upper[f->n_upper++] = (struct firn_ice_bound){ c->field_id, copy_bytes(arena, b.data, hn), hn };
	}
	firn_buf_free(&b);
	return 0;
}
