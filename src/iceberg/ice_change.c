/* The commit phase of a row-level change: one attempt's snapshot computed
 * against the metadata as read now, inside the one retry loop. Appends
 * committed since the run was planned are kept (their manifests join the
 * new snapshot); after any other change the run is prepared again on the
 * new version, its earlier files removed (no commit references them). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "iceberg/ice_change.h"
#include "iceberg/ice_update.h"
#include "io/io_local.h"

/* Frees one preparation; with cleanup, first removes the files it wrote. */
static void run_reset(struct firn_ice_run *r, bool cleanup)
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
	firn_free(r->keep);
	for (size_t i = 0; i < r->n_held; i++)
		if (r->held[i].release)
			r->held[i].release(&r->held[i]);
	firn_free(r->held);
	firn_ice__writer_free(r->writer);
	firn_ice__plan_free(&r->plan);
	firn_arena_free(&r->arena);
	size_t keep = offsetof(struct firn_ice_run, m);
	memset((char *)r + keep, 0, sizeof(*r) - keep);
}

static const char *branch_of(const struct firn_ice_run *r)
{
	return r->branch ? r->branch : "main";
}

/* The snapshot an attempt adds (for the commit loop's snapshot helper). */
struct snap_args {
	const struct firn_ice_snapshot *parent;
	int64_t seq;
	const char *list;
	json_t *summary;
	int64_t first_row_id, added_rows;
};

/* The run's validation on the metadata as read now: *extra gets the
 * manifests of the appends committed since it was planned. FIRN_ECONFLICT
 * when anything else happened since (the files it removes may be gone). */
static int still_holds(const struct firn_ice_run *r, const struct firn_ice_meta *m,
		       struct firn_arena *a, struct firn_ice_manifest_file **extra, size_t *n_extra,
		       struct firn_error *err)
{
	const struct firn_ice_snapshot *parent = NULL;
	*extra = NULL;
	*n_extra = 0;
	if (firn_ice__branch_head(m, branch_of(r), &parent, NULL) != 0 ||
	    (parent == NULL) != (r->base_snapshot == -1))
		return firn_error_set(err, FIRN_ECONFLICT, "the table changed concurrently; planning again");
	return parent ? firn_ice__appended_since_on(m, branch_of(r), r->base_snapshot, a, extra, n_extra,
						    err)
		      : 0;
}

/* Prepares the run again on the current version (the earlier preparation's
 * files are nobody's: no commit of it happened). */
static int prepare_again(struct firn_ice_run *r, struct firn_error *err)
{
	run_reset(r, true);
	return r->prepare(r, err);
}

/* Writes the manifest list of an attempt: the new manifests, the kept ones
 * and those of concurrent appends. */
static int write_list(struct firn_ice_run *r, const struct firn_ice_meta *m, int attempt,
		      const struct firn_ice_manifest_file *extra, size_t n_extra,
		      struct snap_args *s, struct firn_error *err)
{
	size_t n = r->n_new_manifests + r->n_keep + n_extra;
	struct firn_ice_manifest_file *all = firn_calloc(n + 1, sizeof(*all));
	char **lists = firn_realloc(r->lists, (r->n_lists + 1) * sizeof(char *));
	if (lists)
		r->lists = lists;
	if (!all || !lists) {
		firn_free(all);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	memcpy(all, r->new_manifests, r->n_new_manifests * sizeof(*all));
	for (size_t i = 0; i < r->n_keep; i++)
		all[r->n_new_manifests + i] = *r->keep[i];
	if (n_extra)
		memcpy(all + r->n_new_manifests + r->n_keep, extra, n_extra * sizeof(*all));
	/* fresh sequence numbers on retry; min_sequence_number stays what the
	 * manifest writer found: the oldest live entry it kept (EXISTING entries
	 * of earlier commits), or -1 (this commit's) when it has none */
	for (size_t i = 0; i < r->n_new_manifests; i++)
		all[i].sequence_number = -1;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "snap-%lld-%d-", (long long)r->snap_id, attempt + 1);
	char *list = firn_ice__new_path(m, "metadata", prefix, ".avro");
	int64_t next_row_id = m->next_row_id;
	int rc = list ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__manifest_list_write(list, m, r->snap_id, s->parent != NULL,
						   s->parent ? s->parent->snapshot_id : 0, s->seq, all, n,
						   &next_row_id, err);
	firn_free(all);
	if (rc != 0) {
		if (list)
			firn_io_delete(list, NULL);
		firn_free(list);
		return rc;
	}
	firn_io__crash_point("after-manifest-list");
	r->lists[r->n_lists++] = list; /* kept for cleanup: the commit may still fail */
	s->list = list;
	s->first_row_id = m->next_row_id;
	s->added_rows = next_row_id - m->next_row_id;
	return 0;
}

/* One attempt (the commit phase): validate against t->meta, prepare again
 * when the run no longer holds, write the manifest list, fill *s.
 * r->nothing after preparing again: nothing to commit (*s untouched). */
static int attempt_snapshot(struct firn_ice_run *r, int attempt, struct snap_args *s,
			    struct firn_error *err)
{
	const struct firn_ice_meta *m = r->t->meta;
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *extra = NULL;
	size_t n_extra = 0;
	int rc = still_holds(r, m, &a, &extra, &n_extra, err);
	if (rc == FIRN_ECONFLICT) {
		rc = prepare_again(r, err);
		if (rc == 0 && r->nothing) {
			firn_arena_free(&a);
			return 0;
		}
	}
	if (rc == 0)
		rc = firn_ice__branch_head(m, branch_of(r), &s->parent, err);
	if (rc == 0) {
		s->seq = m->last_sequence_number + 1;
		rc = write_list(r, m, attempt, extra, n_extra, s, err);
	}
	if (rc == 0) {
		const char *op = r->operation ? r->operation : r->n_added_data ? "overwrite" : "delete";
		s->summary = firn_ice__summary(s->parent, op, r->new_manifests, r->n_new_manifests);
	}
	firn_arena_free(&a);
	return rc;
}

/* The change of one attempt: the snapshot, or nothing at all when the run
 * prepared again finds nothing left to change (the loop then commits
 * nothing). */
static int change_attempt(struct firn_table *t, int attempt, void *ctx, struct firn_ice_change *out,
			  struct firn_error *err)
{
	struct firn_ice_run *r = ctx;
	struct snap_args s = { 0 };
	FIRN_TRY(attempt_snapshot(r, attempt, &s, err));
	if (r->nothing)
		return 0;
	return firn_ice__snapshot_change(t->meta, branch_of(r), r->snap_id, s.parent, s.seq, s.list,
					 s.summary, s.first_row_id, s.added_rows, out, err);
}

/* After the commit: the lists of attempts that lost a race are nobody's. */
static void remove_lost_lists(struct firn_ice_run *r)
{
	const struct firn_ice_snapshot *now = NULL;
	firn_ice__branch_head(r->t->meta, branch_of(r), &now, NULL);
	for (size_t i = 0; now && now->manifest_list && i < r->n_lists; i++)
		if (strcmp(r->lists[i], now->manifest_list) != 0)
			firn_io_delete(r->lists[i], NULL);
}

int firn_ice__run_change(struct firn_ice_run *r, struct firn_delete_info *info,
			 struct firn_error *err)
{
	int rc = r->prepare(r, err);
	if (rc == 0 && !r->nothing) {
		rc = firn_ice__commit_change(r->t, change_attempt, r, NULL, err);
		if (rc == 0 && !r->nothing) {
			r->info.snapshot_id = r->snap_id;
			remove_lost_lists(r);
		}
	}
	if (info)
		*info = r->nothing ? (struct firn_delete_info){ 0 } : r->info;
	/* nothing references the files of a failed change, unless the commit's
	 * outcome is unknown */
	run_reset(r, rc != 0 && (rc != FIRN_EIO || firn_ice__commit_surely_failed(r->t)));
	return rc;
}
