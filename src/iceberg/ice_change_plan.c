/* The plan and choose phases of a row-level change: the scan of the head
 * of the branch it writes to (main's: the current snapshot), then per data
 * file the impact-ratio rule (DESIGN.md §5): copy-on-write when the share
 * of its rows the change removes is at or above firn.write.cow-threshold,
 * merge-on-read below, drop when every live row goes. */
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_change.h"
#include "iceberg/ice_expr.h"

int firn_ice__mode_of(const struct firn_ice_meta *m, const char *mode_text, const char *prop,
		      enum firn_ice_mode *out, struct firn_error *err)
{
	if (!mode_text) {
		const char *p = firn_ice__prop(m, prop);
		*out = p && strcmp(p, "copy-on-write") == 0   ? FIRN_ICE_MODE_COW
		       : p && strcmp(p, "merge-on-read") == 0 ? FIRN_ICE_MODE_MOR
							      : FIRN_ICE_MODE_AUTO;
	} else if (strcmp(mode_text, "auto") == 0) {
		*out = FIRN_ICE_MODE_AUTO;
	} else if (strcmp(mode_text, "merge-on-read") == 0) {
		*out = FIRN_ICE_MODE_MOR;
	} else if (strcmp(mode_text, "copy-on-write") == 0) {
		*out = FIRN_ICE_MODE_COW;
	} else {
		return firn_error_set(err, FIRN_EINVAL,
				      "--mode is auto, merge-on-read or copy-on-write, not '%s'", mode_text);
	}
	return 0;
}

double firn_ice__cow_threshold(const struct firn_ice_meta *m)
{
	const char *th = firn_ice__prop(m, "firn.write.cow-threshold");
	return th ? strtod(th, NULL) : 0.5;
}

int firn_ice__run_init(struct firn_ice_run *r, struct firn_table *t, const char *where,
		       const char *mode, const char *mode_prop, firn_ice_prepare_fn prepare,
		       struct firn_error *err)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->prepare = prepare;
	r->where = where;
	r->threshold = firn_ice__cow_threshold(t->meta);
	r->branch = firn_ice__write_branch(t);
	return firn_ice__mode_of(t->meta, mode, mode_prop, &r->mode, err);
}

static bool adds_rows(const struct firn_ice_run *r)
{
	return r->chg && r->chg->n_extra;
}

int firn_ice__run_plan(struct firn_ice_run *r, struct firn_error *err)
{
	r->m = r->t->meta;
	const struct firn_ice_snapshot *snap;
	FIRN_TRY(firn_ice__branch_head(r->m, r->branch ? r->branch : "main", &snap, err));
	r->base_snapshot = snap ? snap->snapshot_id : -1;
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(r->m)->arrow;
	FIRN_TRY(firn_ice__plan(&r->plan, r->m, snap, schema, r->where, err));
	/* the SET list binds against the current schema */
	if (r->chg && r->chg->set)
		FIRN_TRY(firn_ice__run_writer(r, err));
	if (!snap && !adds_rows(r)) {
		r->nothing = true; /* an empty table: nothing to delete */
		return 0;
	}
	r->snap_id = firn_ice__new_snapshot_id(r->m);
	r->touched = firn_calloc(r->plan.n_tasks + 1, sizeof(*r->touched));
	if (!r->touched)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return 0;
}

struct firn_ice_touched *firn_ice__run_touch(struct firn_ice_run *r, const struct firn_ice_task *t)
{
	struct firn_ice_touched *tc = &r->touched[r->n_touched];
	memset(tc, 0, sizeof(*tc)); /* the slot of a task that matched nothing is reused */
	tc->task = t;
	return tc;
}

/* Finds the live rows of a task the filter matches. */
static int match_task(struct firn_ice_run *r, struct firn_ice_touched *tc, struct firn_error *err)
{
	const struct firn_ice_task *t = tc->task;
	int32_t *ids = NULL;
	size_t n = 0;
	if ((r->plan.filter && firn_ice__expr_field_ids(r->plan.filter, &ids, &n) != 0) ||
	    (r->chg && r->chg->keys && firn_ice__keyset_field_ids(r->chg->keys, &ids, &n) != 0) ||
	    firn_ice__task_delete_ids(t, &ids, &n) != 0) {
		firn_free(ids);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	struct ArrowSchema proj;
	int rc = firn_ice__projection(r->plan.schema, ids, n, &proj, err);
	firn_free(ids);
	FIRN_TRY(rc);
	struct firn_ice_file_reader *fr = NULL;
	/* row groups pruned by the filter */
	rc = firn_ice__file_open(&r->plan, t, &proj, r->plan.filter == NULL, &fr, err);
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
			rc = firn_ice__keyset_match(r->chg->keys, &proj, &b, sel, err);
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

/* One task by the impact-ratio rule; tc->matched.n == 0: untouched. */
static int choose_task(struct firn_ice_run *r, struct firn_ice_touched *tc, struct firn_error *err)
{
	const struct firn_ice_data_file *df = &tc->task->entry->file;
	bool rewrites_rows = r->chg && (r->chg->set || r->chg->keys);
	if (r->plan.filter && tc->task->all_match && tc->task->n_deletes == 0 && !rewrites_rows) {
		tc->drop = true; /* the metrics say every row goes: no need to read it */
		tc->live_before = df->record_count;
		return 0;
	}
	FIRN_TRY(match_task(r, tc, err));
	if (tc->matched.n == 0)
		return 0;
	double share = (double)tc->matched.n / (double)(df->record_count ? df->record_count : 1);
	tc->drop = (int64_t)tc->matched.n == tc->live_before && !(r->chg && r->chg->set);
	tc->cow = !tc->drop && (r->mode == FIRN_ICE_MODE_COW ||
				(r->mode == FIRN_ICE_MODE_AUTO && share >= r->threshold));
	return 0;
}

int firn_ice__run_choose(struct firn_ice_run *r, struct firn_error *err)
{
	if (r->nothing)
		return 0;
	for (size_t i = 0; i < r->plan.n_tasks; i++) {
		struct firn_ice_touched *tc = firn_ice__run_touch(r, &r->plan.tasks[i]);
		int rc = choose_task(r, tc, err);
		if (rc != 0) {
			firn_posset_free(&tc->matched);
			return rc;
		}
		if (tc->drop || tc->matched.n > 0)
			r->n_touched++;
		else
			firn_posset_free(&tc->matched);
	}
	r->nothing = r->n_touched == 0 && !adds_rows(r);
	return 0;
}
