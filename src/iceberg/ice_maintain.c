/* firn maintain (DESIGN §5): the nightly job. The delete policy picks the
 * data files worth rewriting (their deleted share passed
 * firn.compact.delete-ratio, or more than firn.compact.max-delete-files
 * delete files apply); compaction rewrites them and bin-packs small files;
 * then snapshots expire and orphans go. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_local.h"
#include "iceberg/ice_datum.h"
#include "iceberg/ice_scan.h"
#include "iceberg/ice_table.h"
#include "puffin/puffin.h"

struct policy {
	double ratio;
	int64_t max_delete_files;
	int64_t target;
};

/* What the policy found in the current snapshot. */
struct survey {
	struct firn_ice_fileset picked; /* data files over the policy */
	int64_t spared;                 /* data files with deletes under it */
	bool binpack;                   /* some partition holds two or more small files */
};

static void policy_of(const struct firn_ice_meta *m, const struct firn_maintain_options *o,
		      struct policy *p)
{
	const char *r = firn_ice__prop(m, "firn.compact.delete-ratio");
	p->ratio = o->delete_ratio >= 0 ? o->delete_ratio : r ? strtod(r, NULL) : 0.1;
	p->max_delete_files = o->max_delete_files >= 0 ? o->max_delete_files
				: firn_ice__prop_int(m, "firn.compact.max-delete-files", INT64_MAX);
	p->target = o->target_file_size > 0 ? o->target_file_size
		    : firn_ice__prop_int(m, "write.target-file-size-bytes", 512LL << 20);
}

/* Whether the task's data file is over the delete policy. */
static int over_policy(const struct firn_ice_task *t, const struct policy *p, bool *out,
		       struct firn_error *err)
{
	*out = false;
	if (t->n_deletes == 0)
		return 0;
	if ((int64_t)t->n_deletes > p->max_delete_files) {
		*out = true;
		return 0;
	}
	for (size_t d = 0; d < t->n_deletes; d++)
		if (t->deletes[d]->file.content == 2) { /* equality deletes: the share is unknown */
			*out = true;
			return 0;
		}
	struct firn_posset s = { 0 };
	int rc = firn_ice__task_positions(t, &s, err);
	int64_t rows = t->entry->file.record_count;
	*out = rc == 0 && rows > 0 && (double)s.n / (double)rows > p->ratio;
	firn_posset_free(&s);
	return rc;
}

/* Whether a partition holds two or more files under 3/4 of the target
 * (compaction's own rule for small files). */
static bool has_small_peers(const struct firn_ice_plan *pl, int64_t target)
{
	for (size_t i = 0; i < pl->n_tasks; i++) {
		const struct firn_ice_data_file *a = &pl->tasks[i].entry->file;
		if (a->file_size >= target * 3 / 4)
			continue;
		for (size_t j = i + 1; j < pl->n_tasks; j++) {
			const struct firn_ice_data_file *b = &pl->tasks[j].entry->file;
			if (b->file_size < target * 3 / 4 && firn_ice__same_partition(pl->m, a, b))
				return true;
		}
	}
	return false;
}

static int survey(const struct firn_table *t, const struct policy *p, struct survey *s,
		  struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *snap = firn_ice__meta_current(m);
	if (!snap)
		return 0;
	struct firn_ice_plan pl;
	int rc = firn_ice__plan(&pl, m, snap, &firn_ice__meta_current_schema(m)->arrow, NULL, err);
	for (size_t i = 0; rc == 0 && i < pl.n_tasks; i++) {
		bool over;
		if ((rc = over_policy(&pl.tasks[i], p, &over, err)) != 0)
			break;
		if (over && firn_ice__fileset_add(&s->picked, pl.tasks[i].entry->file.path) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		s->spared += !over && pl.tasks[i].n_deletes > 0;
	}
	if (rc == 0)
		s->binpack = has_small_peers(&pl, p->target);
	firn_ice__plan_free(&pl);
	return rc;
}

static bool picked(void *arg, const struct firn_ice_task *task)
{
	struct firn_ice_fileset *set = arg;
	char *norm = firn_io__normalize(task->entry->file.path);
	bool hit = norm && firn_ice__fileset_has(set, norm);
	firn_free(norm);
	return hit;
}

/* The compaction of the picked files and the small ones. */
static int compact_picked(struct firn_table *t, const struct policy *p, struct survey *s,
			  struct firn_maintain_info *mi, struct firn_error *err)
{
	if (firn_ice__fileset_count(&s->picked) == 0 && !s->binpack)
		return 0;
	return firn_ice__compact_ex(t, p->target, picked, &s->picked, mi->dry_run, &mi->compact_files,
				    &mi->compact_bytes, &mi->compact, err);
}

/* A struct filled without FIRN_MAINTAIN_OPTIONS_INIT: its zeros mean
 * "the table's setting". */
static void version0(const struct firn_maintain_options *in, struct firn_maintain_options *o)
{
	if (in->delete_ratio > 0)
		o->delete_ratio = in->delete_ratio;
	if (in->max_delete_files > 0)
		o->max_delete_files = in->max_delete_files;
	o->target_file_size = in->target_file_size;
	o->expire_older_than = in->expire_older_than;
	o->retain_last = in->retain_last;
	o->orphans_older_than = in->orphans_older_than;
}

int firn_table_maintain(struct firn_table *t, const struct firn_maintain_options *opts,
			struct firn_maintain_info *info, struct firn_error *err)
{
	static const struct firn_maintain_options defaults = FIRN_MAINTAIN_OPTIONS_INIT;
	struct firn_maintain_info local;
	struct firn_maintain_options o = defaults;
	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	if (opts && opts->version > FIRN_MAINTAIN_OPTIONS_VERSION)
		return firn_error_set(err, FIRN_EINVAL, "maintain: options version %d is newer than this library's %d",
				      opts->version, FIRN_MAINTAIN_OPTIONS_VERSION);
	if (opts && opts->version == 0)
		version0(opts, &o);
	else if (opts && opts->version == 1) /* a version 1 struct ends before dry_run */
		memcpy(&o, opts, offsetof(struct firn_maintain_options, dry_run));
	else if (opts)
		o = *opts;
	opts = &o;
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	struct policy p;
	policy_of(t->meta, opts, &p);
	struct survey s = { 0 };
	int rc = survey(t, &p, &s, err);
	info->files_over_policy = (int64_t)firn_ice__fileset_count(&s.picked);
	info->files_with_deletes_spared = s.spared;
	info->dry_run = opts->version >= 2 && opts->dry_run;
	if (rc == 0)
		rc = compact_picked(t, &p, &s, info, err);
	firn_ice__fileset_free(&s.picked);
	if (rc == 0)
		rc = firn_table_expire(t, opts->expire_older_than, opts->retain_last > 0 ? opts->retain_last : 0,
				       info->dry_run, &info->expire, err);
	if (rc == 0)
		rc = firn_table_remove_orphans(t, opts->orphans_older_than, info->dry_run, &info->orphans, err);
	return rc;
}
