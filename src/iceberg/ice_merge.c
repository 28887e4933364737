/* firn merge (upsert by key columns) and overwrite (replace the rows a
 * filter selects), of an Arrow stream or of input files: row-level
 * changes that also add rows, one "overwrite" snapshot each. Stream
 * columns match the table's by name; for a merge, columns the input lacks
 * keep the matched rows' values. */
#include <string.h>

#include "iceberg/ice_batch.h"
#include "iceberg/ice_change.h"
#include "iceberg/ice_expr.h"

static void free_batches(struct ArrowArray *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].release)
			v[i].release(&v[i]);
	firn_free(v);
}

/* Where the absent columns of each input row come from: src[e][i] is
 * (old << 32 | row) of the table row input row i of batch e matched, in
 * olds, the matched rows read; UINT64_MAX: none. */
struct fill {
	const struct firn_ice_rowchange *chg;
	const struct ArrowSchema *schema;
	uint64_t **src;
	struct ArrowArray *olds;
	size_t n_olds;
	int64_t *idx;
};

static void fill_free(struct fill *f)
{
	for (size_t i = 0; i < f->n_olds; i++)
		if (f->olds[i].release)
			f->olds[i].release(&f->olds[i]);
	for (size_t e = 0; f->src && e < f->chg->n_extra; e++)
		firn_free(f->src[e]);
	firn_free(f->src);
	firn_free(f->olds);
	firn_free(f->idx);
}

static int fill_init(struct fill *f, struct firn_error *err)
{
	f->src = firn_calloc(f->chg->n_extra + 1, sizeof(uint64_t *));
	for (size_t e = 0; f->src && e < f->chg->n_extra; e++) {
		int64_t n = f->chg->extra[e].length;
		if (!(f->src[e] = firn_malloc(((size_t)n + 1) * sizeof(uint64_t))))
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (int64_t i = 0; i < n; i++)
			f->src[e][i] = UINT64_MAX;
	}
	return f->src ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* Keeps the matched live rows of batch b (file positions from first) as
 * the next old batch, and points the input rows of their keys at them
 * (the last match wins). */
static int keep_matched(struct fill *f, const struct firn_ice_touched *tc, const struct ArrowArray *b,
			const uint8_t *live, int64_t first, struct firn_error *err)
{
	int64_t *v = firn_realloc(f->idx, ((size_t)b->length + 1) * sizeof(int64_t));
	if (v)
		f->idx = v;
	struct ArrowArray *o = firn_realloc(f->olds, (f->n_olds + 1) * sizeof(*o));
	if (o)
		f->olds = o;
	if (!v || !o)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int64_t nu = 0;
	for (int64_t i = 0; i < b->length; i++)
		if (live[i] && firn_posset_contains(&tc->matched, first + i))
			f->idx[nu++] = i;
	if (nu == 0)
		return 0;
	const struct firn_ice_keyset *keys = f->chg->keys;
	const struct ArrowArray *cols[64];
	struct ArrowArray *old = &f->olds[f->n_olds];
	FIRN_TRY(firn_ice__batch_take(f->schema, b, f->idx, nu, old, err));
	for (size_t k = 0; k < keys->n; k++)
		cols[k] = old->children[keys->cols[k]];
	for (int64_t j = 0; j < nu; j++) {
		uint64_t at;
		if (firn_ice__keyset_find(keys, cols, j, &at))
			f->src[at >> 32][at & 0xFFFFFFFF] = (uint64_t)f->n_olds << 32 | (uint64_t)j;
	}
	f->n_olds++;
	return 0;
}

static int read_matched(struct fill *f, struct firn_ice_run *r, const struct firn_ice_touched *tc,
			struct firn_error *err)
{
	struct firn_ice_file_reader *fr = NULL;
	int rc = firn_ice__file_open(&r->plan, tc->task, f->schema, true, &fr, err);
	while (rc == 0) {
		struct ArrowArray b;
		const uint8_t *live;
		int64_t first;
		if ((rc = firn_ice__file_next(fr, &b, &live, &first, err)) != 0 || !b.release)
			break;
		rc = keep_matched(f, tc, &b, live, first, err);
		b.release(&b);
	}
	firn_ice__file_close(fr);
	return rc;
}

/* Merge with columns the input lacks: each input row that matches a row of
 * the table takes those columns from it; the others stay null. Reads the
 * matched rows of every touched file. */
static int fill_absent(struct firn_ice_run *r, const bool *absent, struct firn_error *err)
{
	struct fill f = { r->chg, &firn_ice__meta_current_schema(r->m)->arrow, NULL, NULL, 0, NULL };
	const struct firn_ice_rowchange *chg = r->chg;
	int rc = fill_init(&f, err);
	for (size_t t = 0; rc == 0 && t < r->n_touched; t++)
		rc = read_matched(&f, r, &r->touched[t], err);
	for (size_t e = 0; rc == 0 && e < chg->n_extra; e++)
		for (int64_t c = 0; rc == 0 && c < f.schema->n_children; c++) {
			if (!absent[c])
				continue;
			struct ArrowArray col;
			rc = firn_ice__column_gather(f.schema, c, f.olds, f.src[e], chg->extra[e].length,
						     &col, err);
			if (rc == 0) {
				struct ArrowArray *slot = chg->extra[e].children[c];
				if (slot->release)
					slot->release(slot);
				*slot = col;
			}
		}
	fill_free(&f);
	return rc;
}

/* Merge: required columns hold no nulls once absent columns are filled (a
 * new key cannot take a value the input does not have). */
static int check_required(const struct ArrowSchema *schema, const struct firn_ice_rowchange *chg,
			  const bool *absent, struct firn_error *err)
{
	for (int64_t c = 0; c < schema->n_children; c++) {
		if (schema->children[c]->flags & ARROW_FLAG_NULLABLE)
			continue;
		int64_t nulls = 0;
		for (size_t e = 0; e < chg->n_extra; e++) {
			const struct ArrowArray *a = chg->extra[e].children[c];
			const uint8_t *valid = a->null_count != 0 ? a->buffers[0] : NULL;
			for (int64_t i = 0; valid && i < a->length; i++)
				nulls += !(valid[(a->offset + i) >> 3] >> ((a->offset + i) & 7) & 1);
		}
		if (nulls == 0)
			continue;
		if (absent && absent[c])
			return firn_error_set(err, FIRN_EINVAL, "merge: column '%s' is required and not in the input: "
					      "%lld input rows insert new keys", schema->children[c]->name, (long long)nulls);
		return firn_error_set(err, FIRN_EINVAL, "merge: column '%s' is required but has %lld nulls",
				      schema->children[c]->name, (long long)nulls);
	}
	return 0;
}

/* overwrite --where: every input row must satisfy the filter (Java's
 * overwrite validation), or the rows it adds would escape the part of the
 * table it replaces (and duplicate keys follow). */
static int rows_match(const struct ArrowSchema *schema, const char *where, const struct ArrowArray *batches,
		      size_t nb, struct firn_error *err)
{
	struct firn_arena a = { 0 };
	struct firn_expr *e = NULL;
	uint8_t *sel = NULL;
	int64_t bad = 0, first_bad = -1, row = 0;
	int rc = firn_ice__expr_parse(where, &a, &e, err);
	if (rc == 0)
		rc = firn_ice__expr_bind(e, schema, &a, err);
	for (size_t i = 0; rc == 0 && i < nb; i++) {
		uint8_t *v = firn_realloc(sel, (size_t)batches[i].length + 1);
		if (!v) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			break;
		}
		sel = v;
		rc = firn_ice__expr_eval(e, schema, &batches[i], sel, err);
		for (int64_t k = 0; rc == 0 && k < batches[i].length; k++, row++)
			if (!sel[k] && bad++ == 0)
				first_bad = row + 1;
	}
	if (rc == 0 && bad)
		rc = firn_error_set(err, FIRN_EINVAL, "overwrite: %lld input rows do not match --where (the first is "
				    "input row %lld): an overwrite may only add rows its filter selects",
				    (long long)bad, (long long)first_bad);
	firn_free(sel);
	firn_arena_free(&a);
	return rc;
}

static int prepare_merge(struct firn_ice_run *r, struct firn_error *err)
{
	const bool *absent = r->op;
	FIRN_TRY(firn_ice__run_plan(r, err));
	if (r->nothing)
		return 0;
	FIRN_TRY(firn_ice__run_choose(r, err));
	if (absent)
		FIRN_TRY(fill_absent(r, absent, err));
	FIRN_TRY(check_required(&firn_ice__meta_current_schema(r->m)->arrow, r->chg, absent, err));
	return r->nothing ? 0 : firn_ice__run_write(r, err);
}

/* The columns a merge's input lacks, but its keys (NULL: none). */
static int absent_columns(const struct ArrowSchema *schema, const bool *present,
			  const struct firn_ice_keyset *ks, bool **out, struct firn_error *err)
{
	*out = NULL;
	bool any = false;
	for (int64_t k = 0; k < schema->n_children; k++)
		any = any || !present[k];
	if (!any)
		return 0;
	bool *absent = firn_calloc((size_t)schema->n_children, sizeof(bool));
	if (!absent)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (int64_t k = 0; k < schema->n_children; k++)
		absent[k] = !present[k];
	for (size_t i = 0; i < ks->n; i++)
		absent[ks->cols[i]] = false;
	*out = absent;
	return 0;
}

/* Merge of batches fitted to the current schema; present: the columns
 * the input has. */
static int merge_batches(struct firn_table *t, struct ArrowArray *batches, size_t nb,
			 const bool *present, const char *keys, const char *mode,
			 struct firn_delete_info *info, struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(t->meta)->arrow;
	struct firn_ice_keyset ks;
	bool *absent = NULL;
	struct firn_ice_run r;
	int rc = firn_ice__keyset_build(&ks, schema, batches, nb, keys, err);
	if (rc == 0)
		rc = absent_columns(schema, present, &ks, &absent, err);
	if (rc == 0)
		rc = firn_ice__run_init(&r, t, NULL, mode, "write.merge.mode", prepare_merge, err);
	if (rc == 0) {
		struct firn_ice_rowchange chg = { .keys = &ks, .extra = batches, .n_extra = nb };
		r.chg = &chg;
		r.op = absent;
		r.operation = "overwrite";
		rc = firn_ice__run_change(&r, info, err);
	}
	if (rc == 0 && info) { /* each replaced row had one input row (keys unique in the input) */
		int64_t in = 0;
		for (size_t i = 0; i < nb; i++)
			in += batches[i].length;
		info->rows_updated = info->rows < in ? info->rows : in;
		info->rows_inserted = in - info->rows_updated;
	}
	firn_free(absent);
	firn_ice__keyset_free(&ks);
	return rc;
}

/* Overwrite of batches fitted to the current schema. */
static int overwrite_batches(struct firn_table *t, struct ArrowArray *batches, size_t nb,
			     const char *where, struct firn_delete_info *info, struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(t->meta)->arrow;
	bool filtered = where && *where;
	struct firn_ice_run r;
	int rc = filtered ? rows_match(schema, where, batches, nb, err) : 0;
	if (rc == 0)
		rc = firn_ice__run_init(&r, t, filtered ? where : "true", "copy-on-write",
					"write.delete.mode", firn_ice__prepare_rows, err);
	if (rc == 0) {
		struct firn_ice_rowchange chg = { .extra = batches, .n_extra = nb };
		r.chg = &chg;
		r.operation = "overwrite";
		rc = firn_ice__run_change(&r, info, err);
	}
	return rc;
}

/* ---- the input: a stream or files ------------------------------------ */

/* Marks the table columns the stream has; a stream column the table lacks
 * is FIRN_EINVAL. */
static int stream_columns(const struct ArrowSchema *schema, const struct ArrowSchema *ss,
			  bool *present, struct firn_error *err)
{
	for (int64_t j = 0; j < ss->n_children; j++) {
		bool found = false;
		for (int64_t k = 0; k < schema->n_children && !found; k++)
			if (strcmp(ss->children[j]->name, schema->children[k]->name) == 0)
				found = present[k] = true;
		if (!found)
			return firn_error_set(err, FIRN_EINVAL, "input column '%s' is not in the table",
					      ss->children[j]->name);
	}
	return 0;
}

/* Reads every batch of in, fitted by name to dst, into *out. */
static int collect_stream(struct ArrowArrayStream *in, const struct ArrowSchema *ss,
			  const struct ArrowSchema *dst, const struct firn_append_options *opts,
			  struct ArrowArray **out, size_t *n, struct firn_error *err)
{
	struct firn_ice_fit_options fo = { opts && opts->truncate_timestamps, 0 };
	for (;;) {
		struct ArrowArray b = { 0 };
		int e = in->get_next(in, &b);
		if (e != 0) {
			const char *why = in->get_last_error ? in->get_last_error(in) : NULL;
			return firn_error_set(err, FIRN_EINVAL, "input stream: %s",
					      why ? why : "reading a batch failed");
		}
		if (!b.release)
			return 0;
		struct ArrowArray *v = firn_realloc(*out, (*n + 1) * sizeof(*v));
		if (!v) {
			b.release(&b);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		*out = v;
		FIRN_TRY(firn_ice__batch_fit_input(ss, &b, dst, &fo, &v[*n], err));
		fo.first_row += v[(*n)++].length;
	}
}

/* Reads the stream to its end into batches fitted to schema, and releases
 * it. With present (one bool per top-level column), the columns the
 * stream has are marked and required columns may be absent (the caller
 * decides). *batches is firn_malloc'd, each batch the caller's. */
static int read_stream(const struct ArrowSchema *schema, struct ArrowArrayStream *in,
		       const struct firn_append_options *opts, bool *present,
		       struct ArrowArray **batches, size_t *nb, struct firn_error *err)
{
	struct ArrowSchema ss = { 0 }, relaxed = { 0 };
	*batches = NULL;
	*nb = 0;
	int rc = 0;
	if (in->get_schema(in, &ss) != 0) {
		const char *why = in->get_last_error ? in->get_last_error(in) : NULL;
		rc = firn_error_set(err, FIRN_EINVAL, "input stream: %s", why ? why : "no schema");
	}
	if (rc == 0 && present) {
		memset(present, 0, (size_t)schema->n_children * sizeof(bool));
		rc = stream_columns(schema, &ss, present, err);
		if (rc == 0 && firn_schema_copy(&relaxed, schema) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (int64_t k = 0; rc == 0 && k < relaxed.n_children; k++)
			relaxed.children[k]->flags |= ARROW_FLAG_NULLABLE;
	}
	if (rc == 0)
		rc = collect_stream(in, &ss, present ? &relaxed : schema, opts, batches, nb, err);
	if (rc != 0) {
		free_batches(*batches, *nb);
		*batches = NULL;
		*nb = 0;
	}
	if (relaxed.release)
		relaxed.release(&relaxed);
	if (ss.release)
		ss.release(&ss);
	in->release(in);
	return rc;
}

static int check_writable(const struct firn_table *t, struct firn_error *err)
{
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	return 0;
}

int firn_table_merge_stream(struct firn_table *t, struct ArrowArrayStream *in,
			    const struct firn_append_options *opts, const char *keys,
			    const char *mode, struct firn_delete_info *info,
			    struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(t->meta)->arrow;
	int rc = check_writable(t, err);
	if (rc != 0) {
		in->release(in);
		return rc;
	}
	bool *present = firn_calloc((size_t)schema->n_children + 1, sizeof(bool));
	if (!present) {
		in->release(in);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	struct ArrowArray *batches;
	size_t nb;
	rc = read_stream(schema, in, opts, present, &batches, &nb, err);
	if (rc == 0)
		rc = merge_batches(t, batches, nb, present, keys, mode, info, err);
	free_batches(batches, nb);
	firn_free(present);
	return rc;
}

int firn_table_overwrite_stream(struct firn_table *t, struct ArrowArrayStream *in,
				const struct firn_append_options *opts, const char *where,
				struct firn_delete_info *info, struct firn_error *err)
{
	int rc = check_writable(t, err);
	if (rc != 0) {
		in->release(in);
		return rc;
	}
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(t->meta)->arrow;
	struct ArrowArray *batches;
	size_t nb;
	rc = read_stream(schema, in, opts, NULL, &batches, &nb, err);
	if (rc == 0)
		rc = overwrite_batches(t, batches, nb, where, info, err);
	free_batches(batches, nb);
	return rc;
}
