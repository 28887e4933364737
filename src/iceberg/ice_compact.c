/* Compaction: rewrites the data files that have deletes, and the small
 * files of partitions holding two or more, into files of the target size
 * with the deletes applied — a "replace" snapshot through the row-level
 * change's write and commit phases, with its own choice of files. A
 * sorted table's rows are written in its sort order. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_batch.h"
#include "iceberg/ice_change.h"

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
static int write_sorted(struct firn_ice_run *r, struct firn_error *err)
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

/* What a compaction is asked to do. */
struct compaction {
	int64_t target;
	firn_ice_compact_pick_fn pick; /* which files with deletes to take (NULL: all) */
	void *pick_arg;
	bool dry_run;          /* choose only */
	int64_t files, bytes;  /* out: the data files chosen (the last attempt's) */
};

/* Compaction's choice: files with deletes (that pick takes), and small
 * files where a partition has two or more of them. */
static void choose_compaction(struct firn_ice_run *r, struct compaction *c)
{
	int64_t target = c->target;
	size_t n = r->plan.n_tasks;
	for (size_t i = 0; i < n; i++) {
		const struct firn_ice_task *t = &r->plan.tasks[i];
		bool small = t->entry->file.file_size < target * 3 / 4;
		bool deletes = t->n_deletes != 0 && (!c->pick || c->pick(c->pick_arg, t));
		if (!small && !deletes)
			continue;
		size_t peers = 0;
		for (size_t j = 0; j < n; j++) {
			const struct firn_ice_task *u = &r->plan.tasks[j];
			if (j != i && u->entry->file.file_size < target * 3 / 4 &&
			    firn_ice__same_partition(r->m, &t->entry->file, &u->entry->file))
				peers++;
		}
		if (!deletes && peers == 0)
			continue;
		struct firn_ice_touched *tc = firn_ice__run_touch(r, t);
		r->n_touched++;
		tc->cow = true;
		tc->live_before = t->entry->file.record_count;
	}
}

/* Delete files that now apply to no live data file (partition-wide
 * position deletes and equality deletes whose files were all rewritten) go
 * too; the rewritten files' newer sequence numbers put them out of reach
 * of every existing delete file. */
static int drop_unused_deletes(struct firn_ice_run *r, struct firn_error *err)
{
	for (size_t d = 0; d < r->plan.n_live_deletes; d++) {
		const struct firn_ice_entry *de = r->plan.live_deletes[d];
		bool used = false;
		for (size_t i = 0; i < r->plan.n_tasks && !used; i++) {
			const struct firn_ice_task *tk = &r->plan.tasks[i];
			if (firn_ice__run_removed(r, tk->entry->file.path))
				continue;
			for (size_t k = 0; k < tk->n_deletes && !used; k++)
				used = tk->deletes[k] == de;
		}
		if (!used && !firn_ice__is_dv(&de->file))
			FIRN_TRY(firn_ice__run_remove(r, de->file.path, err));
	}
	return 0;
}

static int prepare_compaction(struct firn_ice_run *r, struct firn_error *err)
{
	struct compaction *c = r->op;
	int64_t target = c->target;
	FIRN_TRY(firn_ice__run_plan(r, err));
	if (r->nothing)
		return 0;
	choose_compaction(r, c);
	c->files = (int64_t)r->n_touched;
	c->bytes = 0;
	for (size_t i = 0; i < r->n_touched; i++)
		c->bytes += r->touched[i].task->entry->file.file_size;
	r->nothing = r->n_touched == 0 || c->dry_run;
	if (r->nothing)
		return 0;
	FIRN_TRY(firn_ice__run_writer(r, err));
	firn_ice__writer_set_target(r->writer, target);
	const struct firn_ice_sort_order *so = firn_ice__meta_order(r->m, r->m->default_sort_order_id);
	r->sorting = so && so->n_fields > 0;
	firn_ice__writer_set_sorted(r->writer, r->sorting);
	FIRN_TRY(firn_ice__run_write_files(r, err));
	if (!(r->where && *r->where))
		FIRN_TRY(drop_unused_deletes(r, err));
	if (r->sorting && r->n_held)
		FIRN_TRY(write_sorted(r, err));
	return firn_ice__run_write_manifests(r, err);
}

static int compact(struct firn_table *t, const char *where, int64_t target_file_size,
		   firn_ice_compact_pick_fn pick, void *pick_arg, bool dry_run, int64_t *files,
		   int64_t *bytes, struct firn_delete_info *info, struct firn_error *err)
{
	if (info)
		memset(info, 0, sizeof(*info));
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	struct compaction c = { target_file_size > 0 ? target_file_size
						     : firn_ice__prop_int(t->meta, "write.target-file-size-bytes",
									  512LL << 20),
				pick, pick_arg, dry_run, 0, 0 };
	struct firn_ice_run r = { .t = t, .prepare = prepare_compaction, .op = &c,
				  .where = where, .mode = FIRN_ICE_MODE_COW, .operation = "replace" };
	int rc = firn_ice__run_change(&r, info, err);
	if (files)
		*files = rc == 0 ? c.files : 0;
	if (bytes)
		*bytes = rc == 0 ? c.bytes : 0;
	return rc;
}

int firn_ice__compact(struct firn_table *t, int64_t target_file_size, firn_ice_compact_pick_fn pick,
		      void *pick_arg, struct firn_delete_info *info, struct firn_error *err)
{
	return compact(t, NULL, target_file_size, pick, pick_arg, false, NULL, NULL, info, err);
}

int firn_ice__compact_ex(struct firn_table *t, int64_t target_file_size, firn_ice_compact_pick_fn pick,
			 void *pick_arg, bool dry_run, int64_t *files, int64_t *bytes,
			 struct firn_delete_info *info, struct firn_error *err)
{
	return compact(t, NULL, target_file_size, pick, pick_arg, dry_run, files, bytes, info, err);
}

int firn_table_compact(struct firn_table *t, const char *where, int64_t target_file_size,
		       struct firn_delete_info *info, struct firn_error *err)
{
	return compact(t, where, target_file_size, NULL, NULL, false, NULL, NULL, info, err);
}
