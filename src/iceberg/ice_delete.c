/* firn delete: row-level deletes by the impact-ratio rule (DESIGN.md §5).
 * Per touched data file: copy-on-write (rewrite without the rows) when the
 * share of its rows this change removes is at or above
 * firn.write.cow-threshold (default 0.5), merge-on-read below it (a
 * position delete file in v2, a deletion vector merged with the file's
 * previous one in v3). One snapshot; on a lost race the delete is planned
 * again on the new version. */
#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firn/parquet.h"
#include "iceberg/ice_batch.h"
#include "iceberg/ice_expr.h"
#include "iceberg/ice_scan.h"
#include "iceberg/ice_set.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_writer.h"
#include "io/io_local.h"
#include "puffin/puffin.h"

#define POS_FILE_PATH 2147483546
#define POS_POS 2147483545

struct touched {
	const struct firn_ice_task *task;
	struct firn_posset matched; /* positions this delete removes (live rows only) */
	int64_t live_before;
	bool cow, drop;             /* rewrite / remove the whole file */
};

/* Merge keys: the input's key tuples, in a hash set. */
struct keyset {
	int32_t *ids;
	size_t n;
	int *cols;                     /* top-level column index in the input schema */
	struct firn_type *types;
	const struct ArrowArray *batches;
	size_t n_batches;
	uint64_t *slots;               /* (batch << 32 | row) + 1; 0 empty */
	size_t cap;
};

static uint64_t key_hash(const struct keyset *k, const struct ArrowArray *const *cols, int64_t row)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < k->n; i++) {
		struct firn_datum d;
		firn_ice__datum_from_array(&k->types[i], cols[i], row, &d);
		h = (h ^ firn_ice__datum_hash(&k->types[i], &d)) * 1099511628211ULL;
	}
	return h;
}

/* Finds the tuple (cols,row) in the set; *at gets the matching slot value. */
static bool key_find(const struct keyset *k, const struct ArrowArray *const *cols, int64_t row,
		     uint64_t *found)
{
	size_t at = key_hash(k, cols, row) & (k->cap - 1);
	while (k->slots[at]) {
		uint64_t v = k->slots[at] - 1;
		const struct ArrowArray *b = &k->batches[v >> 32];
		int64_t r = (int64_t)(v & 0xFFFFFFFF);
		bool eq = true;
		for (size_t i = 0; i < k->n && eq; i++) {
			struct firn_datum x, y;
			firn_ice__datum_from_array(&k->types[i], cols[i], row, &x);
			firn_ice__datum_from_array(&k->types[i], b->children[k->cols[i]], r + b->offset, &y);
			eq = firn_ice__datum_equal(&k->types[i], &x, &y);
		}
		if (eq) {
			*found = v;
			return true;
		}
		at = (at + 1) & (k->cap - 1);
	}
	return false;
}

static void keyset_free(struct keyset *k)
{
	firn_free(k->ids);
	firn_free(k->cols);
	firn_free(k->types);
	firn_free(k->slots);
}

static int keyset_build(struct keyset *k, const struct ArrowSchema *schema, const struct ArrowArray *batches,
			size_t n_batches, const char *keys, struct firn_error *err)
{
	memset(k, 0, sizeof(*k));
	char *list = firn_strdup(keys);
	int rc = list ? 0 : FIRN_ENOMEM;
	for (char *tok = list ? strtok(list, ",") : NULL; rc == 0 && tok; tok = strtok(NULL, ",")) {
		while (*tok == ' ')
			tok++;
		size_t l = strlen(tok);
		while (l && tok[l - 1] == ' ')
			tok[--l] = 0;
		int col = -1;
		for (int64_t i = 0; i < schema->n_children; i++)
			if (strcmp(schema->children[i]->name, tok) == 0)
				col = (int)i;
		if (col < 0) {
			rc = firn_error_set(err, FIRN_EINVAL, "merge: key '%s' is not a column of the table", tok);
			break;
		}
		int32_t *ids = firn_realloc(k->ids, (k->n + 1) * sizeof(int32_t));
		int *cols = firn_realloc(k->cols, (k->n + 1) * sizeof(int));
		struct firn_type *types = firn_realloc(k->types, (k->n + 1) * sizeof(struct firn_type));
		if (ids)
			k->ids = ids;
		if (cols)
			k->cols = cols;
		if (types)
			k->types = types;
		if (!ids || !cols || !types) {
			rc = FIRN_ENOMEM;
			break;
		}
		k->ids[k->n] = firn_schema_field_id(schema->children[col]);
		k->cols[k->n] = col;
		rc = firn_type_of(schema->children[col], &k->types[k->n], err);
		if (rc == 0 && (k->types[k->n].id == FIRN_A_STRUCT || k->types[k->n].id == FIRN_A_LIST ||
				k->types[k->n].id == FIRN_A_MAP))
			rc = firn_error_set(err, FIRN_EINVAL, "merge: key '%s' is not a primitive column", tok);
		k->n++;
	}
	firn_free(list);
	if (rc == FIRN_ENOMEM)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0 && k->n == 0)
		rc = firn_error_set(err, FIRN_EINVAL, "merge: --on needs at least one key column");
	if (rc != 0)
		return rc;
	/* a key the input lacks reads as null: both are errors */
	for (size_t b = 0; b < n_batches; b++)
		for (size_t i = 0; i < k->n; i++) {
			const struct ArrowArray *col = batches[b].children[k->cols[i]];
			for (int64_t r = 0; col->null_count != 0 && r < batches[b].length; r++)
				if (!firn_bit_get(col->buffers[0], col->offset + batches[b].offset + r))
					return firn_error_set(err, FIRN_EINVAL,
							      "merge: key '%s' is missing from the input or null in it",
							      schema->children[k->cols[i]]->name);
		}
	k->batches = batches;
	k->n_batches = n_batches;
	size_t rows = 0;
	for (size_t b = 0; b < n_batches; b++)
		rows += (size_t)batches[b].length;
	k->cap = 16;
	while (k->cap < 2 * rows + 16)
		k->cap *= 2;
	k->slots = firn_calloc(k->cap, sizeof(uint64_t));
	if (!k->slots)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	const struct ArrowArray *cols[64];
	if (k->n > 64)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "merge: more than 64 key columns");
	for (size_t b = 0; b < n_batches; b++) {
		for (size_t i = 0; i < k->n; i++)
			cols[i] = batches[b].children[k->cols[i]];
		for (int64_t r = 0; r < batches[b].length; r++) {
			uint64_t found;
			if (key_find(k, cols, r + batches[b].offset, &found)) {
				struct firn_buf t = { 0 };
				for (size_t i = 0; i < k->n; i++) {
					struct firn_datum d;
					firn_ice__datum_from_array(&k->types[i], cols[i], r + batches[b].offset, &d);
					if (i)
						firn_buf_puts(&t, ", ");
					firn_ice__datum_to_text(&k->types[i], &d, &t);
				}
				firn_buf_cstr(&t);
				rc = firn_error_set(err, FIRN_EINVAL, "merge: the input has the key (%s) more than once",
						    t.data ? (const char *)t.data : "");
				firn_buf_free(&t);
				return rc;
			}
			size_t at = key_hash(k, cols, r + batches[b].offset) & (k->cap - 1);
			while (k->slots[at])
				at = (at + 1) & (k->cap - 1);
			k->slots[at] = ((uint64_t)b << 32 | (uint64_t)r) + 1;
		}
	}
	return 0;
}

static int keyset_field_ids(const struct keyset *k, int32_t **ids, size_t *n)
{
	for (size_t i = 0; i < k->n; i++) {
		int32_t *v = firn_realloc(*ids, (*n + 1) * sizeof(int32_t));
		if (!v)
			return FIRN_ENOMEM;
		v[(*n)++] = k->ids[i];
		*ids = v;
	}
	return 0;
}

/* sel[i] &= the row's key is in the set */
static int keyset_match(const struct keyset *k, const struct ArrowSchema *proj, const struct ArrowArray *b,
			uint8_t *sel, struct firn_error *err)
{
	const struct ArrowArray *cols[64];
	for (size_t i = 0; i < k->n; i++) {
		cols[i] = NULL;
		for (int64_t c = 0; c < proj->n_children; c++)
			if (firn_schema_field_id(proj->children[c]) == k->ids[i])
				cols[i] = b->children[c];
		if (!cols[i])
			return firn_error_set(err, FIRN_EINVAL, "merge: key column missing from the batch");
	}
	for (int64_t r = 0; r < b->length; r++) {
		uint64_t found;
		if (sel[r])
			sel[r] = key_find(k, cols, r + b->offset, &found);
	}
	return 0;
}

/* What a row-level change does beyond deleting the matched rows. */
struct change {
	const struct firn_ice_set *set; /* update: matched rows rewritten with these values */
	/* merge: rows whose key tuple is in the input replace the matched ones */
	struct keyset *keys;
	/* merge / overwrite: batches appended in the same snapshot */
	struct ArrowArray *extra;
	size_t n_extra;
	const char *operation; /* summary operation, NULL: delete/overwrite by what happened */
	/* merge: top-level columns the input lacks (matched rows keep theirs),
	 * NULL when it has them all */
	const bool *absent;
};

struct del_run {
	struct firn_table *t;
	const struct change *chg;
	const struct firn_ice_meta *m;
	struct firn_ice_plan plan;
	struct firn_arena arena;
	struct touched *touched;
	size_t n_touched;
	int64_t snap_id;
	/* results */
	struct firn_ice_entry *added_data; /* CoW rewrites */
	size_t n_added_data;
	struct firn_ice_entry *added_deletes;
	size_t n_added_deletes;
	const char **removed_paths; /* data and delete files no longer live */
	size_t n_removed;
	char **written;             /* files this run wrote (cleanup on failure) */
	size_t n_written;
	char **lists;               /* manifest lists of every commit attempt */
	size_t n_lists;
	struct firn_ice_manifest_file *new_manifests;
	size_t n_new_manifests;
	int64_t updated_rows;
	struct firn_ice_writer *writer;
	/* compaction of a sorted table: the rows, sorted before writing */
	bool sorting;
	struct ArrowArray *held;
	size_t n_held;
};

static int remember(struct del_run *r, const char *path)
{
	char **v = firn_realloc(r->written, (r->n_written + 1) * sizeof(char *));
	if (!v)
		return FIRN_ENOMEM;
	r->written = v;
	v[r->n_written] = firn_strdup(path);
	return v[r->n_written++] ? 0 : FIRN_ENOMEM;
}

static int remove_path(struct del_run *r, const char *path)
{
	for (size_t i = 0; i < r->n_removed; i++)
		if (strcmp(r->removed_paths[i], path) == 0)
			return 0;
	const char **v = firn_realloc(r->removed_paths, (r->n_removed + 1) * sizeof(char *));
	if (!v)
		return FIRN_ENOMEM;
	r->removed_paths = v;
	v[r->n_removed++] = path;
	return 0;
}

static bool is_removed(const struct del_run *r, const char *path)
{
	for (size_t i = 0; i < r->n_removed; i++)
		if (strcmp(r->removed_paths[i], path) == 0)
			return true;
	return false;
}

static bool is_dv(const struct firn_ice_data_file *f)
{
	return f->content == 1 && f->format && strcasecmp(f->format, "puffin") == 0;
}

static void run_free(struct del_run *r, bool cleanup)
{
	if (cleanup) {
		for (size_t i = 0; i < r->n_written; i++)
			firn_io_delete(r->written[i], NULL);
		for (size_t i = 0; i < r->n_lists; i++)
			firn_io_delete(r->lists[i], NULL);
	}
	for (size_t i = 0; i < r->n_lists; i++)
		firn_free(r->lists[i]);
	firn_free(r->lists);
	for (size_t i = 0; i < r->n_written; i++)
		firn_free(r->written[i]);
	firn_free(r->written);
	for (size_t i = 0; i < r->n_touched; i++)
		firn_posset_free(&r->touched[i].matched);
	firn_free(r->touched);
	firn_free(r->added_deletes);
	firn_free(r->removed_paths);
	firn_free(r->new_manifests);
	for (size_t i = 0; i < r->n_held; i++)
		if (r->held[i].release)
			r->held[i].release(&r->held[i]);
	firn_free(r->held);
	firn_ice__writer_free(r->writer);
	firn_ice__plan_free(&r->plan);
	firn_arena_free(&r->arena);
}

/* proj: the plan schema's top-level fields holding ids */
static int proj_of(const struct ArrowSchema *schema, const int32_t *ids, size_t n,
		   struct ArrowSchema *out, struct firn_error *err)
{
	size_t nt = 0;
	int32_t *top = firn_calloc(n + 1, sizeof(int32_t));
	for (size_t i = 0; top && i < n; i++)
		for (int64_t k = 0; k < schema->n_children; k++) {
			const struct ArrowSchema *c = schema->children[k];
			int32_t id = firn_schema_field_id(c);
			if (id == ids[i] || firn_ice__schema_find(c, ids[i], NULL)) {
				bool dup = false;
				for (size_t j = 0; j < nt && !dup; j++)
					dup = top[j] == id;
				if (!dup)
					top[nt++] = id;
			}
		}
	if (!top || firn_schema_init(out, "+s", "", 0, (int64_t)nt) != 0) {
		firn_free(top);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nt; i++)
		for (int64_t k = 0; k < schema->n_children; k++)
			if (firn_schema_field_id(schema->children[k]) == top[i])
				firn_schema_copy(out->children[i], schema->children[k]);
	firn_free(top);
	return 0;
}

/* Finds the live rows of a task the filter matches. */
static int match_task(struct del_run *r, struct touched *tc, struct firn_error *err)
{
	const struct firn_ice_task *t = tc->task;
	int32_t *ids = NULL;
	size_t n = 0;
	if ((r->plan.filter && firn_ice__expr_field_ids(r->plan.filter, &ids, &n) != 0) ||
	    (r->chg && r->chg->keys && keyset_field_ids(r->chg->keys, &ids, &n) != 0) ||
	    firn_ice__task_delete_ids(t, &ids, &n) != 0) {
		firn_free(ids);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	struct ArrowSchema proj;
	int rc = proj_of(r->plan.schema, ids, n, &proj, err);
	firn_free(ids);
	FIRN_TRY(rc);
	struct firn_ice_file_reader *fr = NULL;
	rc = firn_ice__file_open(&r->plan, t, &proj, r->plan.filter == NULL, &fr, err); /* row groups pruned by the filter */
	uint8_t *sel = NULL;
	size_t cap = 0;
	while (rc == 0) {
		struct ArrowArray b;
		const uint8_t *live;
		int64_t first;
		if ((rc = firn_ice__file_next(fr, &b, &live, &first, err)) != 0 || !b.release)
			break;
		if ((size_t)b.length + 1 > cap) {
			cap = (size_t)b.length + 1;
			uint8_t *s = firn_realloc(sel, cap);
			if (!s) {
				b.release(&b);
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			sel = s;
		}
		if (r->plan.filter)
			rc = firn_ice__expr_eval(r->plan.filter, &proj, &b, sel, err);
		else
			memset(sel, 1, (size_t)b.length);
		if (rc == 0 && r->chg && r->chg->keys)
			rc = keyset_match(r->chg->keys, &proj, &b, sel, err);
		for (int64_t i = 0; rc == 0 && i < b.length; i++) {
			tc->live_before += live[i];
			if (live[i] && sel[i] && firn_posset_add(&tc->matched, first + i) != 0)
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		b.release(&b);
	}
	/* live rows of pruned row groups were not read: they count, or the
	 * file would look "all matched" and be dropped with them */
	if (fr)
		tc->live_before += firn_ice__file_skipped_rows(fr);
	firn_free(sel);
	firn_ice__file_close(fr);
	proj.release(&proj);
	return rc;
}

/* Rewrites a data file without its deleted and matched rows (only_updated:
 * writes nothing but the updated versions of the matched rows, for a
 * merge-on-read update). With an update, the matched rows are written
 * with their new values. */
static int rewrite(struct del_run *r, struct touched *tc, bool only_updated, struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(r->m)->arrow;
	if (!r->writer)
		FIRN_TRY(firn_ice__writer_open(&r->writer, r->m, &r->arena, err));
	struct firn_ice_file_reader *fr = NULL;
	FIRN_TRY(firn_ice__file_open(&r->plan, tc->task, schema, true, &fr, err));
	int rc = 0;
	int64_t *idx = NULL;
	size_t cap = 0;
	while (rc == 0) {
		struct ArrowArray b;
		const uint8_t *live;
		int64_t first;
		if ((rc = firn_ice__file_next(fr, &b, &live, &first, err)) != 0 || !b.release)
			break;
		if ((size_t)b.length + 1 > cap) {
			cap = (size_t)b.length + 1;
			int64_t *v = firn_realloc(idx, cap * sizeof(int64_t));
			if (!v) {
				b.release(&b);
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			idx = v;
		}
		int64_t n = 0;
		const struct firn_ice_set *set = r->chg ? r->chg->set : NULL;
		if (set) { /* the matched rows, updated */
			int64_t nu = 0;
			for (int64_t i = 0; i < b.length; i++)
				if (live[i] && firn_posset_contains(&tc->matched, first + i))
					idx[nu++] = i;
			if (nu > 0) {
				struct ArrowArray upd;
				rc = firn_ice__batch_take(schema, &b, idx, nu, &upd, err);
				if (rc == 0)
					rc = firn_ice__set_apply(set, schema, &upd, err);
				if (rc == 0)
					rc = firn_ice__writer_write(r->writer, &upd, err);
				if (upd.release)
					upd.release(&upd);
				r->updated_rows += rc == 0 ? nu : 0;
			}
		}
		if (rc != 0 || only_updated) {
			b.release(&b);
			continue;
		}
		for (int64_t i = 0; i < b.length; i++)
			if (live[i] && !firn_posset_contains(&tc->matched, first + i))
				idx[n++] = i;
		if (r->sorting && n > 0) { /* held until every input is read */
			struct ArrowArray part;
			rc = firn_ice__batch_take(schema, &b, idx, n, &part, err);
			struct ArrowArray *v = rc == 0 ? firn_realloc(r->held, (r->n_held + 1) * sizeof(*v)) : NULL;
			if (rc == 0 && !v) {
				part.release(&part);
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			} else if (rc == 0) {
				r->held = v;
				v[r->n_held++] = part;
			}
		} else if (n == b.length) {
			rc = firn_ice__writer_write(r->writer, &b, err);
		} else if (n > 0) {
			struct ArrowArray part;
			rc = firn_ice__batch_take(schema, &b, idx, n, &part, err);
			if (rc == 0) {
				rc = firn_ice__writer_write(r->writer, &part, err);
				part.release(&part);
			}
		}
		b.release(&b);
	}
	firn_free(idx);
	firn_ice__file_close(fr);
	return rc;
}

struct sort_key {
	int col; /* top-level column of the sort field's source */
	struct firn_type type, result;
	struct firn_transform tr;
	bool desc, nulls_first;
};

struct sort_ctx {
	const struct ArrowArray *batches;
	const struct sort_key *keys;
	size_t n;
};

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	const struct ArrowArray *ba = &c->batches[a >> 32], *bb = &c->batches[b >> 32];
	int64_t ra = (int64_t)(a & 0xFFFFFFFF) + ba->offset, rb = (int64_t)(b & 0xFFFFFFFF) + bb->offset;
	for (size_t k = 0; k < c->n; k++) {
		const struct sort_key *sk = &c->keys[k];
		struct firn_datum x, y, tx, ty;
		firn_ice__datum_from_array(&sk->type, ba->children[sk->col], ra, &x);
		firn_ice__datum_from_array(&sk->type, bb->children[sk->col], rb, &y);
		firn_ice__transform_apply(&sk->tr, &sk->type, &x, &tx);
		firn_ice__transform_apply(&sk->tr, &sk->type, &y, &ty);
		if (tx.null || ty.null) {
			if (tx.null && ty.null)
				continue;
			return (tx.null == sk->nulls_first) ? -1 : 1;
		}
		int r = firn_ice__datum_compare(&sk->result, &tx, &ty);
		if (r)
			return sk->desc ? -r : r;
	}
	return (a > b) - (a < b); /* stable */
}

/* Compaction of a sorted table: every held row, in the table's sort order,
 * through the writer (which keeps the order within each partition). */
static int write_sorted(struct del_run *r, struct firn_error *err)
{
	const struct firn_ice_sort_order *so = firn_ice__meta_order(r->m, r->m->default_sort_order_id);
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(r->m)->arrow;
	struct sort_key keys[16];
	size_t nk = 0;
	for (size_t i = 0; i < so->n_fields && nk < 16; i++) {
		const struct firn_ice_sort_field *f = &so->fields[i];
		struct sort_key *k = &keys[nk];
		k->col = -1;
		for (int64_t c = 0; c < schema->n_children; c++)
			if (firn_schema_field_id(schema->children[c]) == f->source_id)
				k->col = (int)c;
		if (k->col < 0 || f->transform.kind == FIRN_TR_UNKNOWN ||
		    firn_type_of(schema->children[k->col], &k->type, NULL) != 0 ||
		    firn_ice__transform_result_type(&f->transform, &k->type, &k->result, NULL) != 0)
			break; /* a nested or dropped source: sort by the fields before it */
		k->tr = f->transform;
		k->desc = f->descending;
		k->nulls_first = f->nulls_first;
		nk++;
	}
	int64_t total = 0;
	for (size_t i = 0; i < r->n_held; i++)
		total += r->held[i].length;
	uint64_t *pairs = firn_malloc((size_t)total * sizeof(uint64_t) + 8);
	if (!pairs)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int64_t p = 0;
	for (size_t i = 0; i < r->n_held; i++)
		for (int64_t row = 0; row < r->held[i].length; row++)
			pairs[p++] = (uint64_t)i << 32 | (uint64_t)row;
	struct sort_ctx sc = { r->held, keys, nk };
	qsort_r(pairs, (size_t)total, sizeof(uint64_t), cmp_rows, &sc);
	int rc = 0;
	for (int64_t start = 0; rc == 0 && start < total; start += 65536) {
		int64_t n = total - start < 65536 ? total - start : 65536;
		struct ArrowArray part;
		rc = firn_ice__batch_take_multi(schema, r->held, pairs + start, n, &part, err);
		if (rc == 0) {
			rc = firn_ice__writer_write(r->writer, &part, err);
			part.release(&part);
		}
	}
	firn_free(pairs);
	return rc;
}

/* Schema of position delete files (spec §6). */
static int pos_schema(struct ArrowSchema *s)
{
	FIRN_TRY(firn_schema_init(s, "+s", "", 0, 2));
	FIRN_TRY(firn_schema_init(s->children[0], "u", "file_path", 0, 0));
	FIRN_TRY(firn_schema_set_field_id(s->children[0], POS_FILE_PATH));
	FIRN_TRY(firn_schema_init(s->children[1], "l", "pos", 0, 0));
	return firn_schema_set_field_id(s->children[1], POS_POS);
}

static struct firn_ice_entry *new_delete_entry(struct del_run *r, struct firn_error *err)
{
	struct firn_ice_entry *v = firn_realloc(r->added_deletes, (r->n_added_deletes + 1) * sizeof(*v));
	if (!v) {
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
		return NULL;
	}
	r->added_deletes = v;
	struct firn_ice_entry *e = &v[r->n_added_deletes++];
	memset(e, 0, sizeof(*e));
	e->status = FIRN_ICE_ADDED;
	return e;
}

/* v2: a position delete file for one data file. */
static int write_position_deletes(struct del_run *r, struct touched *tc, struct firn_error *err)
{
	const struct firn_ice_data_file *df = &tc->task->entry->file;
	struct ArrowSchema s = { 0 };
	if (pos_schema(&s) != 0) {
		if (s.release)
			s.release(&s);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	char *path = firn_ice__new_path(r->m, "data", "00000-deletes-", ".parquet");
	struct firn_parquet_writer *w = NULL;
	struct firn_builder b;
	int rc = path ? remember(r, path) : FIRN_ENOMEM;
	if (rc == 0)
		rc = firn_builder_init(&b, &s, err);
	else
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc != 0)
		goto done;
	size_t plen = strlen(df->path);
	for (size_t i = 0; rc == 0 && i < tc->matched.n; i++) {
		rc = firn_builder_append_struct(&b);
		if (rc == 0)
			rc = firn_builder_append_bytes(&b.children[0], df->path, plen);
		if (rc == 0)
			rc = firn_builder_append_i64(&b.children[1], tc->matched.v[i]);
	}
	struct ArrowArray batch = { 0 };
	if (rc == 0)
		rc = firn_builder_finish(&b, &batch, err);
	firn_builder_free(&b);
	struct firn_parquet_write_options o = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	if (rc == 0)
		rc = firn_parquet_writer_open(&w, path, &s, &o, err);
	if (rc == 0)
		rc = firn_parquet_writer_write(w, &batch, err);
	if (rc == 0)
		rc = firn_parquet_writer_close(w, err);
	if (rc == 0)
		rc = firn_io_sync_dir(path, err);
	if (batch.release)
		batch.release(&batch);
	if (rc == 0) {
		struct firn_ice_entry *e = new_delete_entry(r, err);
		if (!e) {
			rc = FIRN_ENOMEM;
			goto done;
		}
		struct firn_ice_data_file *f = &e->file;
		f->content = 1;
		f->path = firn_arena_strdup(&r->arena, path);
		f->format = "PARQUET";
		f->spec_id = df->spec_id;
		f->partition = df->partition;
		f->n_partition = df->n_partition;
		f->record_count = (int64_t)tc->matched.n;
		f->file_size = firn_io__size(path);
		f->referenced_data_file = df->path;
		const struct firn_parquet_column_stats *st;
		int n;
		firn_parquet_writer_stats(w, &st, &n);
		rc = firn_ice__file_metrics(&s, st, n, &r->arena, f, err);
	}
done:
	firn_parquet_writer_free(w);
	firn_free(path);
	if (s.release)
		s.release(&s);
	return rc;
}

/* v3: one Puffin file with a DV per touched data file (merged with the
 * file's previous DV and position deletes). */
static int write_dvs(struct del_run *r, struct firn_error *err)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_touched; i++)
		n += !r->touched[i].cow && !r->touched[i].drop && r->touched[i].matched.n > 0;
	if (n == 0)
		return 0;
	struct firn_puffin_blob *blobs = firn_calloc(n, sizeof(*blobs));
	struct firn_posset *sets = firn_calloc(n, sizeof(*sets));
	struct touched **who = firn_calloc(n, sizeof(*who));
	char *path = firn_ice__new_path(r->m, "data", "00000-dv-", ".puffin");
	int rc = blobs && sets && who && path ? remember(r, path) : FIRN_ENOMEM;
	if (rc != 0) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto done;
	}
	size_t k = 0;
	for (size_t i = 0; rc == 0 && i < r->n_touched; i++) {
		struct touched *tc = &r->touched[i];
		if (tc->cow || tc->drop || tc->matched.n == 0)
			continue;
		rc = firn_ice__task_positions(tc->task, &sets[k], err);
		if (rc == 0 && firn_posset_union(&sets[k], &tc->matched) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		blobs[k].referenced_data_file = tc->task->entry->file.path;
		blobs[k].positions = &sets[k];
		who[k] = tc;
		k++;
	}
	int64_t size = 0;
	if (rc == 0)
		rc = firn_puffin_write_dvs(path, blobs, n, &size, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct firn_ice_entry *e = new_delete_entry(r, err);
		if (!e) {
			rc = FIRN_ENOMEM;
			break;
		}
		const struct firn_ice_data_file *df = &who[i]->task->entry->file;
		struct firn_ice_data_file *f = &e->file;
		f->content = 1;
		f->path = firn_arena_strdup(&r->arena, path);
		f->format = "PUFFIN";
		f->spec_id = df->spec_id;
		f->partition = df->partition;
		f->n_partition = df->n_partition;
		f->record_count = (int64_t)sets[i].n;
		f->file_size = size;
		f->referenced_data_file = df->path;
		f->has_content_offset = true;
		f->content_offset = blobs[i].offset;
		f->content_size = blobs[i].length;
		/* the previous position files of this data file are merged into
		 * the new DV (its previous DV is retired by referenced data file
		 * when the manifests are rewritten: a Puffin file holds many) */
		for (size_t d = 0; rc == 0 && d < who[i]->task->n_deletes; d++) {
			const struct firn_ice_data_file *old = &who[i]->task->deletes[d]->file;
			if (old->content == 1 && !is_dv(old) && old->referenced_data_file &&
			    strcmp(old->referenced_data_file, df->path) == 0)
				rc = remove_path(r, old->path);
		}
	}
done:
	for (size_t i = 0; sets && i < n; i++)
		firn_posset_free(&sets[i]);
	firn_free(sets);
	firn_free(blobs);
	firn_free(who);
	firn_free(path);
	return rc;
}

/* A manifest rewritten: entries whose file is removed become DELETED,
 * other live entries EXISTING. DVs are matched by referenced data file. */
static int rewrite_manifest(struct del_run *r, const struct firn_ice_manifest_file *mf,
			    const char *const *dv_targets, size_t n_dv, bool *changed,
			    struct firn_error *err)
{
	struct firn_ice_entry *es;
	size_t n;
	*changed = false;
	FIRN_TRY(firn_ice__manifest_read(mf, r->m, &r->arena, &es, &n, err));
	struct firn_ice_entry *out = firn_calloc(n + 1, sizeof(*out));
	if (!out)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (es[i].status == FIRN_ICE_DELETED)
			continue; /* only the snapshot that deleted a file lists it */
		out[k] = es[i];
		bool gone = is_removed(r, es[i].file.path);
		if (!gone && is_dv(&es[i].file))
			for (size_t d = 0; d < n_dv && !gone; d++)
				gone = strcmp(es[i].file.referenced_data_file, dv_targets[d]) == 0;
		if (!gone && es[i].file.content == 1 && es[i].file.referenced_data_file)
			gone = is_removed(r, es[i].file.referenced_data_file); /* its data file is gone */
		if (gone) {
			out[k].status = FIRN_ICE_DELETED;
			out[k].snapshot_id = r->snap_id;
			*changed = true;
		} else {
			out[k].status = FIRN_ICE_EXISTING;
		}
		out[k].explicit_sequence = true;
		k++;
	}
	int rc = 0;
	if (*changed) {
		const struct firn_ice_spec *spec = firn_ice__meta_spec(r->m, mf->spec_id);
		char *path = firn_ice__new_path(r->m, "metadata", "", "-m1.avro");
		rc = path ? remember(r, path) : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		struct firn_ice_manifest_file nm;
		if (rc == 0)
			rc = firn_ice__manifest_write(path, r->m, spec, mf->content, out, k,
						      r->snap_id, &r->arena, &nm, err);
		if (rc == 0) {
			nm.path = firn_arena_strdup(&r->arena, path);
			nm.content = mf->content;
			r->new_manifests[r->n_new_manifests++] = nm;
		}
		firn_free(path);
	}
	firn_free(out);
	return rc;
}

/* New manifest(s) of added entries, one per spec. */
static int add_manifests(struct del_run *r, struct firn_ice_entry *es, size_t n, int content,
			 struct firn_error *err)
{
	bool *done = firn_calloc(n + 1, 1);
	struct firn_ice_entry *group = firn_calloc(n + 1, sizeof(*group));
	int rc = done && group ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (done[i])
			continue;
		size_t g = 0;
		for (size_t j = i; j < n; j++)
			if (!done[j] && es[j].file.spec_id == es[i].file.spec_id) {
				group[g++] = es[j];
				done[j] = true;
			}
		const struct firn_ice_spec *spec = firn_ice__meta_spec(r->m, es[i].file.spec_id);
		char *path = firn_ice__new_path(r->m, "metadata", "", content ? "-d0.avro" : "-m0.avro");
		rc = path ? remember(r, path) : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		struct firn_ice_manifest_file nm;
		if (rc == 0)
			rc = firn_ice__manifest_write(path, r->m, spec, content, group, g,
						      r->snap_id, &r->arena, &nm, err);
		if (rc == 0) {
			nm.path = firn_arena_strdup(&r->arena, path);
			r->new_manifests[r->n_new_manifests++] = nm;
		}
		firn_free(path);
	}
	firn_free(done);
	firn_free(group);
	return rc;
}

struct del_commit {
	struct del_run *run;
	int64_t base_snapshot; /* -1: none */
	const struct firn_ice_manifest_file **keep;
	size_t n_keep;
	bool replace; /* compaction: a "replace" snapshot */
};

static int apply_delete(struct firn_table *t, struct firn_ice_meta *m, int attempt, void *vctx,
			struct firn_error *err)
{
	struct del_commit *c = vctx;
	struct del_run *r = c->run;
	const struct firn_ice_snapshot *parent = firn_ice__meta_current(m);
	if ((parent == NULL) != (c->base_snapshot == -1))
		return firn_error_set(err, FIRN_ECONFLICT, "the table changed concurrently; planning again");
	/* concurrent appends are kept; any other change re-plans */
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *extra = NULL;
	size_t n_extra = 0;
	int rc = parent ? firn_ice__appended_since(m, c->base_snapshot, &a, &extra, &n_extra, err) : 0;
	if (rc != 0) {
		firn_arena_free(&a);
		return rc;
	}
	size_t n = r->n_new_manifests + c->n_keep + n_extra;
	struct firn_ice_manifest_file *all = firn_calloc(n + 1, sizeof(*all));
	if (!all) {
		firn_arena_free(&a);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	memcpy(all, r->new_manifests, r->n_new_manifests * sizeof(*all));
	for (size_t i = 0; i < c->n_keep; i++)
		all[r->n_new_manifests + i] = *c->keep[i];
	if (n_extra)
		memcpy(all + r->n_new_manifests + c->n_keep, extra, n_extra * sizeof(*all));
	/* fresh sequence numbers on retry; min_sequence_number stays what the
	 * manifest writer found: the oldest live entry it kept (EXISTING entries
	 * of earlier commits), or -1 (this commit's) when it has none */
	for (size_t i = 0; i < r->n_new_manifests; i++)
		all[i].sequence_number = -1;
	int64_t seq = m->last_sequence_number + 1;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "snap-%lld-%d-", (long long)r->snap_id, attempt + 1);
	char *list = firn_ice__new_path(m, "metadata", prefix, ".avro");
	int64_t next_row_id = m->next_row_id, first_row_id = m->next_row_id;
	rc = list ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__manifest_list_write(list, m, r->snap_id, parent != NULL,
						   parent ? parent->snapshot_id : 0, seq, all, n, &next_row_id, err);
	if (rc == 0)
		firn_io__crash_point("after-manifest-list");
	if (rc == 0) {
		const char *op = r->chg && r->chg->operation ? r->chg->operation
				 : c->replace ? "replace" : r->n_added_data ? "overwrite" : "delete";
		json_t *summary = firn_ice__summary(parent, op, r->new_manifests, r->n_new_manifests);
		rc = firn_ice__add_snapshot(m, "main", r->snap_id, parent, seq, list, summary, first_row_id,
					    next_row_id - first_row_id, err);
	}
	if (rc == 0) { /* kept for cleanup: a later attempt or the commit may fail */
		char **v = firn_realloc(r->lists, (r->n_lists + 1) * sizeof(char *));
		if (v) {
			r->lists = v;
			v[r->n_lists] = list;
			r->n_lists++;
			list = NULL;
		}
	}
	if (rc != 0 && list)
		firn_io_delete(list, NULL);
	firn_free(list);
	firn_free(all);
	firn_arena_free(&a);
	return rc;
}

enum { MODE_AUTO, MODE_MOR, MODE_COW };

static int mode_of(const struct firn_ice_meta *m, const char *mode, int *out, struct firn_error *err)
{
	if (!mode || strcmp(mode, "auto") == 0) {
		const char *p = firn_ice__prop(m, "write.delete.mode");
		*out = p && strcmp(p, "copy-on-write") == 0 ? MODE_COW
		       : p && strcmp(p, "merge-on-read") == 0 ? MODE_MOR : MODE_AUTO;
		if (mode)
			*out = MODE_AUTO;
		return 0;
	}
	if (strcmp(mode, "merge-on-read") == 0)
		*out = MODE_MOR;
	else if (strcmp(mode, "copy-on-write") == 0)
		*out = MODE_COW;
	else
		return firn_error_set(err, FIRN_EINVAL, "--mode is auto, merge-on-read or copy-on-write, not '%s'", mode);
	return 0;
}

/* Compaction's choice: files with deletes, and small files where a
 * partition has two or more of them. */
static void choose_compaction(struct del_run *r, int64_t target)
{
	size_t n = r->plan.n_tasks;
	for (size_t i = 0; i < n; i++) {
		const struct firn_ice_task *t = &r->plan.tasks[i];
		bool small = t->entry->file.file_size < target * 3 / 4;
		if (!small && t->n_deletes == 0)
			continue;
		size_t peers = 0;
		for (size_t j = 0; j < n; j++) {
			const struct firn_ice_task *u = &r->plan.tasks[j];
			if (j != i && u->entry->file.file_size < target * 3 / 4 &&
			    u->entry->file.spec_id == t->entry->file.spec_id) {
				bool same = true;
				const struct firn_ice_spec *sp = firn_ice__meta_spec(r->m, t->entry->file.spec_id);
				struct firn_pfield *pf = NULL;
				if (sp && firn_ice__spec_resolve(sp, &firn_ice__meta_current_schema(r->m)->arrow, &pf, NULL) == 0) {
					for (size_t k = 0; k < t->entry->file.n_partition && same; k++)
						same = firn_ice__datum_equal(&pf[k].result_type, &t->entry->file.partition[k],
									     &u->entry->file.partition[k]);
					firn_free(pf);
				}
				peers += same;
			}
		}
		if (t->n_deletes == 0 && peers == 0)
			continue;
		struct touched *tc = &r->touched[r->n_touched++];
		tc->task = t;
		tc->cow = true;
		tc->live_before = t->entry->file.record_count;
	}
}

/* Merge with columns the input lacks: each input row that matches a row of
 * the table takes those columns from it (the last match wins); the others
 * stay null. Reads the matched rows of every touched file. */
static int fill_absent(struct del_run *r, const struct change *chg, struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(r->m)->arrow;
	uint64_t **src = firn_calloc(chg->n_extra + 1, sizeof(uint64_t *));
	struct ArrowArray *olds = NULL;
	size_t n_olds = 0;
	int64_t *idx = NULL;
	int rc = src ? 0 : FIRN_ENOMEM;
	for (size_t e = 0; rc == 0 && e < chg->n_extra; e++) {
		src[e] = firn_malloc(((size_t)chg->extra[e].length + 1) * sizeof(uint64_t));
		if (!src[e])
			rc = FIRN_ENOMEM;
		for (int64_t i = 0; src[e] && i < chg->extra[e].length; i++)
			src[e][i] = UINT64_MAX;
	}
	if (rc != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t t = 0; rc == 0 && t < r->n_touched; t++) {
		struct touched *tc = &r->touched[t];
		struct firn_ice_file_reader *fr = NULL;
		rc = firn_ice__file_open(&r->plan, tc->task, schema, true, &fr, err);
		while (rc == 0) {
			struct ArrowArray b;
			const uint8_t *live;
			int64_t first, nu = 0;
			if ((rc = firn_ice__file_next(fr, &b, &live, &first, err)) != 0 || !b.release)
				break;
			int64_t *v = firn_realloc(idx, ((size_t)b.length + 1) * sizeof(int64_t));
			struct ArrowArray *o = firn_realloc(olds, (n_olds + 1) * sizeof(*o));
			if (v)
				idx = v;
			if (o)
				olds = o;
			if (!v || !o) {
				b.release(&b);
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			for (int64_t i = 0; i < b.length; i++)
				if (live[i] && firn_posset_contains(&tc->matched, first + i))
					idx[nu++] = i;
			if (nu > 0 && (rc = firn_ice__batch_take(schema, &b, idx, nu, &olds[n_olds], err)) == 0) {
				const struct ArrowArray *old = &olds[n_olds];
				const struct ArrowArray **cols = firn_calloc(chg->keys->n + 1, sizeof(*cols));
				for (size_t k = 0; cols && k < chg->keys->n; k++)
					cols[k] = old->children[chg->keys->cols[k]];
				for (int64_t j = 0; cols && j < nu; j++) {
					uint64_t at;
					if (key_find(chg->keys, cols, j, &at))
						src[at >> 32][at & 0xFFFFFFFF] = (uint64_t)n_olds << 32 | (uint64_t)j;
				}
				if (!cols)
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				firn_free(cols);
				n_olds++;
			}
			b.release(&b);
		}
		firn_ice__file_close(fr);
	}
	for (size_t e = 0; rc == 0 && e < chg->n_extra; e++)
		for (int64_t c = 0; rc == 0 && c < schema->n_children; c++) {
			if (!chg->absent[c])
				continue;
			struct ArrowArray col;
			rc = firn_ice__column_gather(schema, c, olds, src[e], chg->extra[e].length, &col, err);
			if (rc == 0) {
				struct ArrowArray *slot = chg->extra[e].children[c];
				if (slot->release)
					slot->release(slot);
				*slot = col;
			}
		}
	for (size_t i = 0; i < n_olds; i++)
		if (olds[i].release)
			olds[i].release(&olds[i]);
	for (size_t e = 0; src && e < chg->n_extra; e++)
		firn_free(src[e]);
	firn_free(src);
	firn_free(olds);
	firn_free(idx);
	return rc;
}

/* Merge: required columns hold no nulls once absent columns are filled (a
 * new key cannot take a value the input does not have). */
static int check_required(const struct ArrowSchema *schema, const struct change *chg,
			  struct firn_error *err)
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
		if (chg->absent && chg->absent[c])
			return firn_error_set(err, FIRN_EINVAL, "merge: column '%s' is required and not in the input: "
					      "%lld input rows insert new keys", schema->children[c]->name, (long long)nulls);
		return firn_error_set(err, FIRN_EINVAL, "merge: column '%s' is required but has %lld nulls",
				      schema->children[c]->name, (long long)nulls);
	}
	return 0;
}

static int delete_once(struct firn_table *t, const char *where, int mode, double threshold,
		       int64_t compact_target, const struct change *chg, struct firn_delete_info *info,
		       struct firn_error *err)
{
	struct del_run r = { 0 };
	r.t = t;
	r.chg = chg;
	r.m = t->meta;
	const struct firn_ice_snapshot *snap = firn_ice__meta_current(r.m);
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(r.m)->arrow;
	int rc = firn_ice__plan(&r.plan, r.m, snap, schema, where, err);
	if (rc != 0)
		goto fail;
	if (chg && chg->set) { /* the SET list binds against the current schema */
		if (!r.writer && (rc = firn_ice__writer_open(&r.writer, r.m, &r.arena, err)) != 0)
			goto fail;
	}
	if (!snap && !(chg && chg->n_extra))
		goto done; /* an empty table: nothing to delete */
	r.snap_id = firn_ice__new_snapshot_id(r.m);
	r.touched = firn_calloc(r.plan.n_tasks + 1, sizeof(*r.touched));
	if (!r.touched) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if (compact_target > 0)
		choose_compaction(&r, compact_target);
	for (size_t i = 0; compact_target == 0 && i < r.plan.n_tasks; i++) {
		struct touched *tc = &r.touched[r.n_touched];
		memset(tc, 0, sizeof(*tc)); /* the slot of a task that matched nothing is reused */
		tc->task = &r.plan.tasks[i];
		const struct firn_ice_data_file *df = &tc->task->entry->file;
		if (r.plan.filter && tc->task->all_match && tc->task->n_deletes == 0 &&
		    !(chg && (chg->set || chg->keys))) {
			tc->drop = true;
			tc->live_before = df->record_count;
			r.n_touched++;
			continue;
		}
		if ((rc = match_task(&r, tc, err)) != 0)
			goto fail;
		if (tc->matched.n == 0) {
			firn_posset_free(&tc->matched);
			continue;
		}
		double share = (double)tc->matched.n / (double)(df->record_count ? df->record_count : 1);
		tc->drop = (int64_t)tc->matched.n == tc->live_before && !(chg && chg->set);
		tc->cow = !tc->drop && (mode == MODE_COW || (mode == MODE_AUTO && share >= threshold));
		r.n_touched++;
	}
	if (chg && chg->keys && chg->absent && (rc = fill_absent(&r, chg, err)) != 0)
		goto fail;
	if (chg && chg->keys && (rc = check_required(&firn_ice__meta_current_schema(r.m)->arrow, chg, err)) != 0)
		goto fail;
	if (r.n_touched == 0 && !(chg && chg->n_extra))
		goto done;
	if (chg && chg->n_extra) { /* merge / overwrite: the new rows */
		if (!r.writer && (rc = firn_ice__writer_open(&r.writer, r.m, &r.arena, err)) != 0)
			goto fail;
		const struct ArrowSchema *cur = &firn_ice__meta_current_schema(r.m)->arrow;
		(void)cur;
		for (size_t i = 0; rc == 0 && i < chg->n_extra; i++)
			rc = firn_ice__writer_write(r.writer, &chg->extra[i], err);
		if (rc != 0)
			goto fail;
	}
	if (compact_target > 0) {
		FIRN_TRY(firn_ice__writer_open(&r.writer, r.m, &r.arena, err));
		firn_ice__writer_set_target(r.writer, compact_target);
		const struct firn_ice_sort_order *so = firn_ice__meta_order(r.m, r.m->default_sort_order_id);
		r.sorting = so && so->n_fields > 0;
		firn_ice__writer_set_sorted(r.writer, r.sorting);
	}
	/* the files */
	for (size_t i = 0; i < r.n_touched && rc == 0; i++) {
		struct touched *tc = &r.touched[i];
		const struct firn_ice_data_file *df = &tc->task->entry->file;
		if (tc->drop || tc->cow) {
			rc = remove_path(&r, df->path);
			if (info && compact_target > 0) {
				info->files_rewritten++;
			} else if (info) {
				info->rows += tc->drop ? tc->live_before : (int64_t)tc->matched.n;
				info->files_rewritten += tc->cow;
				info->files_removed += tc->drop;
			}
		}
		if (tc->cow)
			rc = rewrite(&r, tc, false, err);
		else if (rc == 0 && !tc->drop && chg && chg->set)
			rc = rewrite(&r, tc, true, err); /* merge-on-read update: the new rows */
		if (rc == 0 && !tc->cow && !tc->drop && r.m->format_version < 3) {
			rc = write_position_deletes(&r, tc, err);
			if (info) {
				info->rows += (int64_t)tc->matched.n;
				info->delete_files++;
			}
		} else if (!tc->cow && !tc->drop && info) {
			info->rows += (int64_t)tc->matched.n;
			info->delete_files++;
		}
	}
	if (rc == 0 && r.m->format_version >= 3)
		rc = write_dvs(&r, err);
	if (rc == 0 && compact_target > 0 && !(where && *where)) {
		/* delete files that now apply to no live data file (partition-wide
		 * position deletes and equality deletes whose files were all
		 * rewritten) go too; the rewritten files' newer sequence numbers put
		 * them out of reach of every existing delete file */
		for (size_t d = 0; rc == 0 && d < r.plan.n_live_deletes; d++) {
			const struct firn_ice_entry *de = r.plan.live_deletes[d];
			bool used = false;
			for (size_t i = 0; i < r.plan.n_tasks && !used; i++) {
				const struct firn_ice_task *tk = &r.plan.tasks[i];
				if (is_removed(&r, tk->entry->file.path))
					continue;
				for (size_t k = 0; k < tk->n_deletes && !used; k++)
					used = tk->deletes[k] == de;
			}
			if (!used && !is_dv(&de->file))
				rc = remove_path(&r, de->file.path);
		}
	}
	if (rc == 0 && r.sorting && r.n_held)
		rc = write_sorted(&r, err);
	if (info && r.updated_rows)
		info->rows = r.updated_rows;
	if (rc == 0 && r.writer) {
		struct firn_ice_entry *es;
		size_t n;
		rc = firn_ice__writer_finish(r.writer, &es, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = remember(&r, es[i].file.path);
		r.added_data = es;
		r.n_added_data = n;
	}
	if (rc != 0)
		goto fail;
	/* the manifests: rewritten where they list a removed file, new ones for additions */
	r.new_manifests = firn_calloc(r.plan.n_manifests + 8 + r.n_added_deletes + r.n_added_data,
				      sizeof(*r.new_manifests));
	const struct firn_ice_manifest_file **keep = firn_calloc(r.plan.n_manifests + 1, sizeof(*keep));
	const char **dv_targets = firn_calloc(r.n_removed + r.n_touched + 1, sizeof(char *));
	size_t n_keep = 0, n_dv = 0;
	if (!r.new_manifests || !keep || !dv_targets) {
		firn_free(keep);
		firn_free(dv_targets);
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < r.n_added_deletes; i++)
		if (is_dv(&r.added_deletes[i].file))
			dv_targets[n_dv++] = r.added_deletes[i].file.referenced_data_file;
	for (size_t i = 0; rc == 0 && i < r.plan.n_manifests; i++) {
		const struct firn_ice_manifest_file *mf = &r.plan.manifests[i];
		bool changed = false;
		if (mf->added_files != 0 || mf->existing_files != 0)
			rc = rewrite_manifest(&r, mf, dv_targets, n_dv, &changed, err);
		if (rc == 0 && !changed && (mf->added_files != 0 || mf->existing_files != 0))
			keep[n_keep++] = mf;
	}
	firn_free(dv_targets);
	if (rc == 0 && r.n_added_data)
		rc = add_manifests(&r, r.added_data, r.n_added_data, 0, err);
	if (rc == 0 && r.n_added_deletes)
		rc = add_manifests(&r, r.added_deletes, r.n_added_deletes, 1, err);
	if (rc == 0)
		firn_io__crash_point("after-manifest");
	if (rc == 0) {
		struct del_commit c = { &r, snap ? snap->snapshot_id : -1, keep, n_keep, compact_target > 0 };
		/* one attempt: a lost race re-plans the whole delete (the caller) */
		int64_t retries = firn_ice__prop_int(r.m, "commit.retry.num-retries", 4);
		(void)retries;
		rc = firn_ice__commit(t, apply_delete, &c, NULL, err);
		if (rc == 0 && info)
			info->snapshot_id = r.snap_id;
		/* the lists of attempts that lost a race are nobody's */
		const struct firn_ice_snapshot *now = rc == 0 ? firn_ice__meta_current(t->meta) : NULL;
		for (size_t i = 0; now && now->manifest_list && i < r.n_lists; i++)
			if (strcmp(r.lists[i], now->manifest_list) != 0)
				firn_io_delete(r.lists[i], NULL);
	}
	firn_free(keep);
	if (rc != 0)
		goto fail;
done:
	run_free(&r, false);
	return rc;
fail:
	run_free(&r, rc != FIRN_EIO || firn_ice__commit_surely_failed(t));
	return rc;
}

int firn_table_delete(struct firn_table *t, const char *where, const char *mode,
		      struct firn_delete_info *info, struct firn_error *err)
{
	if (info)
		memset(info, 0, sizeof(*info));
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	if (!where || !*where)
		return firn_error_set(err, FIRN_EINVAL, "delete needs --where (use TRUE to delete every row)");
	int m;
	FIRN_TRY(mode_of(t->meta, mode, &m, err));
	const char *th = firn_ice__prop(t->meta, "firn.write.cow-threshold");
	double threshold = th ? strtod(th, NULL) : 0.5;
	int64_t retries = firn_ice__prop_int(t->meta, "commit.retry.num-retries", 4);
	for (int attempt = 0;; attempt++) {
		int rc = delete_once(t, where, m, threshold, 0, NULL, info, err);
		if (rc != FIRN_ECONFLICT || attempt >= retries)
			return rc;
		if (info)
			memset(info, 0, sizeof(*info));
		FIRN_TRY(firn_ice__table_refresh(t, err));
	}
}

int firn_table_compact(struct firn_table *t, const char *where, int64_t target_file_size,
		       struct firn_delete_info *info, struct firn_error *err)
{
	if (info)
		memset(info, 0, sizeof(*info));
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	int64_t target = target_file_size > 0 ? target_file_size
					      : firn_ice__prop_int(t->meta, "write.target-file-size-bytes", 512LL << 20);
	int64_t retries = firn_ice__prop_int(t->meta, "commit.retry.num-retries", 4);
	for (int attempt = 0;; attempt++) {
		int rc = delete_once(t, where, MODE_COW, 0, target, NULL, info, err);
		if (rc != FIRN_ECONFLICT || attempt >= retries)
			return rc;
		if (info)
			memset(info, 0, sizeof(*info));
		FIRN_TRY(firn_ice__table_refresh(t, err));
	}
}

static void free_batches(struct ArrowArray *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].release)
			v[i].release(&v[i]);
	firn_free(v);
}

/* The shared retry loop of the row-level commands. */
static int run_change(struct firn_table *t, const char *where, const char *mode_text, const char *mode_prop,
		      const struct change *chg, struct firn_delete_info *info, struct firn_error *err)
{
	int m;
	if (!mode_text || strcmp(mode_text, "auto") == 0) {
		const char *p = firn_ice__prop(t->meta, mode_prop);
		m = mode_text ? MODE_AUTO
		    : p && strcmp(p, "copy-on-write") == 0 ? MODE_COW
		    : p && strcmp(p, "merge-on-read") == 0 ? MODE_MOR : MODE_AUTO;
	} else {
		FIRN_TRY(mode_of(t->meta, mode_text, &m, err));
	}
	const char *th = firn_ice__prop(t->meta, "firn.write.cow-threshold");
	double threshold = th ? strtod(th, NULL) : 0.5;
	int64_t retries = firn_ice__prop_int(t->meta, "commit.retry.num-retries", 4);
	for (int attempt = 0;; attempt++) {
		if (info)
			memset(info, 0, sizeof(*info));
		int rc = delete_once(t, where, m, threshold, 0, chg, info, err);
		if (rc != FIRN_ECONFLICT || attempt >= retries)
			return rc;
		FIRN_TRY(firn_ice__table_refresh(t, err));
	}
}

int firn_table_update(struct firn_table *t, const char *set, const char *where, const char *mode,
		      struct firn_delete_info *info, struct firn_error *err)
{
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	if (!where || !*where)
		return firn_error_set(err, FIRN_EINVAL, "update needs --where (use TRUE to update every row)");
	struct firn_arena a = { 0 };
	struct firn_ice_set *s = NULL;
	int rc = firn_ice__set_parse(set, &firn_ice__meta_current_schema(t->meta)->arrow, &a, &s, err);
	if (rc == 0) {
		struct change chg = { s, NULL, NULL, 0, "overwrite" };
		rc = run_change(t, where, mode, "write.update.mode", &chg, info, err);
	}
	firn_arena_free(&a);
	return rc;
}

int firn_table_merge(struct firn_table *t, const char *const *files, size_t n, enum firn_input_format fmt,
		     const struct firn_append_options *opts, const char *keys, const char *mode,
		     struct firn_delete_info *info, struct firn_error *err)
{
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(t->meta)->arrow;
	struct ArrowArray *batches = NULL;
	size_t nb = 0;
	bool *present = firn_calloc((size_t)schema->n_children + 1, sizeof(bool));
	if (!present)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc0 = firn_ice__read_inputs(schema, files, n, fmt, opts, present, &batches, &nb, err);
	if (rc0 != 0) {
		firn_free(present);
		return rc0;
	}
	struct keyset ks;
	int rc = keyset_build(&ks, schema, batches, nb, keys, err);
	if (rc == 0) {
		bool *absent = NULL;
		for (int64_t k = 0; k < schema->n_children; k++)
			if (!present[k] && !absent && !(absent = firn_calloc((size_t)schema->n_children, sizeof(bool))))
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (int64_t k = 0; absent && k < schema->n_children; k++)
			absent[k] = !present[k];
		for (size_t i = 0; absent && i < ks.n; i++)
			absent[ks.cols[i]] = false;
		struct change chg = { NULL, &ks, batches, nb, "overwrite", absent };
		if (rc == 0)
			rc = run_change(t, NULL, mode, "write.merge.mode", &chg, info, err);
		firn_free(absent);
	}
	keyset_free(&ks);
	free_batches(batches, nb);
	firn_free(present);
	return rc;
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

int firn_table_overwrite(struct firn_table *t, const char *const *files, size_t n,
			 enum firn_input_format fmt, const struct firn_append_options *opts,
			 const char *where, struct firn_delete_info *info, struct firn_error *err)
{
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(t->meta)->arrow;
	struct ArrowArray *batches = NULL;
	size_t nb = 0;
	FIRN_TRY(firn_ice__read_inputs(schema, files, n, fmt, opts, NULL, &batches, &nb, err));
	struct change chg = { NULL, NULL, batches, nb, "overwrite", NULL };
	int rc = where && *where ? rows_match(schema, where, batches, nb, err) : 0;
	if (rc == 0)
		rc = run_change(t, where && *where ? where : "true", "copy-on-write", "write.delete.mode", &chg, info, err);
	free_batches(batches, nb);
	return rc;
}
