/* firn expire: removes old snapshots (honouring refs and their retention,
 * history.expire.*), then deletes the files only they referenced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "io/io_local.h"

struct expire_ctx {
	int64_t older_than_ms; /* expire snapshots older than this (unless retained) */
	int64_t retain_last;
	int64_t *expired;
	size_t n_expired;
	bool dry_run;
};

static int64_t ref_prop(json_t *ref, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(ref, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static bool in(const int64_t *v, size_t n, int64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Decides which snapshots go (spec §1.4's algorithm, with the command's
 * --older-than / --retain-last taking the place of the defaults). */
static int choose(const struct firn_ice_meta *m, struct expire_ctx *c, int64_t **keep_out,
		  size_t *n_keep, struct firn_error *err)
{
	int64_t now = firn_ice__now_ms();
	int64_t *keep = firn_calloc(m->n_snapshots + 1, sizeof(int64_t));
	size_t nk = 0;
	if (!keep)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int64_t default_min = firn_ice__prop_int(m, "history.expire.min-snapshots-to-keep", 1);
	int64_t default_age = firn_ice__prop_int(m, "history.expire.max-snapshot-age-ms", 5LL * 86400000);
	int64_t default_ref_age = firn_ice__prop_int(m, "history.expire.max-ref-age-ms", INT64_MAX);
	json_t *refs = json_object_get(m->root, "refs");
	for (size_t r = 0; r < m->n_refs; r++) {
		const struct firn_ice_ref *ref = &m->refs[r];
		json_t *rj = json_object_get(refs, ref->name);
		const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(m, ref->snapshot_id);
		if (!s)
			continue;
		int64_t max_ref_age = ref_prop(rj, "max-ref-age-ms", default_ref_age);
		if (strcmp(ref->name, "main") != 0 && max_ref_age != INT64_MAX && now - s->timestamp_ms > max_ref_age)
			continue; /* an expired ref retains nothing */
		if (!in(keep, nk, s->snapshot_id))
			keep[nk++] = s->snapshot_id;
		if (ref->tag)
			continue;
		int64_t min_keep = c->retain_last > 0 ? c->retain_last : ref_prop(rj, "min-snapshots-to-keep", default_min);
		int64_t cutoff = c->older_than_ms >= 0 ? c->older_than_ms : now - ref_prop(rj, "max-snapshot-age-ms", default_age);
		int64_t count = 0;
		for (const struct firn_ice_snapshot *a = s; a;
		     a = a->has_parent ? firn_ice__meta_snapshot(m, a->parent_id) : NULL) {
			count++;
			if (count <= min_keep || a->timestamp_ms >= cutoff) {
				if (!in(keep, nk, a->snapshot_id))
					keep[nk++] = a->snapshot_id;
			} else {
				break;
			}
		}
	}
	/* snapshots on no ref's history: kept while young enough */
	for (size_t i = 0; i < m->n_snapshots; i++) {
		const struct firn_ice_snapshot *s = &m->snapshots[i];
		int64_t cutoff = c->older_than_ms >= 0 ? c->older_than_ms : now - default_age;
		bool on_branch = false;
		for (size_t r = 0; r < m->n_refs && !on_branch; r++)
			for (const struct firn_ice_snapshot *a = firn_ice__meta_snapshot(m, m->refs[r].snapshot_id); a;
			     a = a->has_parent ? firn_ice__meta_snapshot(m, a->parent_id) : NULL)
				if (a->snapshot_id == s->snapshot_id) {
					on_branch = true;
					break;
				}
		if (!on_branch && s->timestamp_ms >= cutoff && !in(keep, nk, s->snapshot_id))
			keep[nk++] = s->snapshot_id;
	}
	*keep_out = keep;
	*n_keep = nk;
	return 0;
}

/* The change: remove-snapshots of every snapshot not kept (the builder
 * drops the refs to them and their snapshot-log entries), computed on
 * refs that must not have moved since. FIRN_ENOTFOUND: nothing to expire. */
static int expire_change(struct firn_table *t, int attempt, void *vctx, struct firn_ice_change *out,
			 struct firn_error *err)
{
	struct expire_ctx *c = vctx;
	const struct firn_ice_meta *m = t->meta;
	int64_t *keep = NULL;
	size_t nk = 0;
	FIRN_TRY(choose(m, c, &keep, &nk, err));
	c->n_expired = 0;
	firn_free(c->expired);
	c->expired = firn_calloc(m->n_snapshots + 1, sizeof(int64_t));
	if (!c->expired) {
		firn_free(keep);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m->n_snapshots; i++)
		if (!in(keep, nk, m->snapshots[i].snapshot_id))
			c->expired[c->n_expired++] = m->snapshots[i].snapshot_id;
	firn_free(keep);
	if (c->n_expired == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "nothing to expire");
	int rc = 0;
	for (size_t r = 0; rc == 0 && r < m->n_refs; r++)
		rc = firn_ice__change_require(out, firn_ice__req_assert_ref_snapshot_id(m->refs[r].name, true,
											 m->refs[r].snapshot_id),
					      err);
	if (rc == 0)
		rc = firn_ice__change_update(out, firn_ice__upd_remove_snapshots(c->expired, c->n_expired), err);
	return rc;
}

/* Why the snapshots that stay, stay (info's kept_* fields), on m before
 * the expiry. */
static int explain(const struct firn_ice_meta *m, struct expire_ctx *c, struct firn_expire_info *info,
		   struct firn_error *err)
{
	int64_t *keep = NULL;
	size_t nk = 0;
	FIRN_TRY(choose(m, c, &keep, &nk, err));
	int64_t now = firn_ice__now_ms();
	json_t *main_ref = json_object_get(json_object_get(m->root, "refs"), "main");
	int64_t age = ref_prop(main_ref, "max-snapshot-age-ms",
			       firn_ice__prop_int(m, "history.expire.max-snapshot-age-ms", 5LL * 86400000));
	info->age_given = c->older_than_ms >= 0;
	info->count_given = c->retain_last > 0;
	info->max_age_ms = info->age_given ? -1 : age;
	info->cutoff_ms = info->age_given ? c->older_than_ms : now - age;
	info->min_keep = info->count_given ? c->retain_last
			 : ref_prop(main_ref, "min-snapshots-to-keep",
				    firn_ice__prop_int(m, "history.expire.min-snapshots-to-keep", 1));
	info->snapshots_kept = (int64_t)nk;
	for (size_t i = 0; i < nk; i++) {
		const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(m, keep[i]);
		bool head = false;
		for (size_t r = 0; r < m->n_refs && !head; r++)
			head = m->refs[r].snapshot_id == keep[i];
		if (head)
			info->kept_by_ref++;
		else if (s && s->timestamp_ms >= info->cutoff_ms)
			info->kept_by_age++;
		else
			info->kept_by_count++;
	}
	firn_free(keep);
	return 0;
}

int firn_table_expire(struct firn_table *t, const char *older_than, int64_t retain_last,
		      bool dry_run, struct firn_expire_info *info, struct firn_error *err)
{
	struct expire_ctx c = { -1, retain_last, NULL, 0, dry_run };
	info->snapshots_expired = info->files_deleted = 0;
	info->snapshots_kept = info->kept_by_ref = info->kept_by_age = info->kept_by_count = 0;
	if (older_than) {
		char *end;
		long long v = strtoll(older_than, &end, 10);
		if (end != older_than && *end == '\0') {
			c.older_than_ms = v;
		} else {
			int64_t us;
			if (firn_timestamp_parse(older_than, strlen(older_than), 6, &us) != 0)
				return firn_error_set(err, FIRN_EINVAL, "--older-than: '%s' is not a timestamp or epoch milliseconds",
						      older_than);
			c.older_than_ms = us / 1000;
		}
	}
	FIRN_TRY(explain(t->meta, &c, info, err));
	/* the files every snapshot references, before */
	struct firn_ice_meta *before = NULL;
	FIRN_TRY(firn_ice__meta_clone(t->meta, &before, err));
	struct firn_error e2 = { 0 };
	struct firn_ice_meta *would = NULL; /* dry run: the state a commit would make */
	int rc;
	if (dry_run) {
		struct firn_ice_change ch;
		rc = firn_ice__change_init(&ch, err);
		if (rc == 0) {
			rc = expire_change(t, 0, &c, &ch, &e2);
			if (rc == FIRN_ENOTFOUND)
				c.n_expired = 0, rc = 0;
			else if (rc != 0)
				firn_error_set(err, rc, "%s", e2.message);
			else
				rc = firn_ice__meta_build(t->meta, t->metadata_location, ch.updates, &would, err);
			firn_ice__change_free(&ch);
		}
	} else {
		rc = firn_ice__commit_change(t, expire_change, &c, NULL, &e2);
		if (rc == FIRN_ENOTFOUND) { /* nothing to expire: not an error */
			rc = 0;
			c.n_expired = 0;
		} else if (rc != 0) {
			firn_error_set(err, rc, "%s", e2.message);
		}
	}
	if (rc != 0 || c.n_expired == 0) {
		firn_ice__meta_free(before);
		firn_ice__meta_free(would);
		firn_free(c.expired);
		return rc;
	}
	info->snapshots_expired = (int64_t)c.n_expired;
	/* files of the expired snapshots no retained snapshot references, and
	 * only those under the table's location (imported files are not its) */
	const struct firn_ice_meta *after = would ? would : t->meta;
	struct firn_ice_fileset live = { 0 }, gone = { 0 };
	char *root = firn_io__normalize(after->location);
	if (!root)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < after->n_snapshots; i++)
		rc = firn_ice__snapshot_files(after, &after->snapshots[i], &live, err);
	for (size_t i = 0; rc == 0 && i < c.n_expired; i++) {
		const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(before, c.expired[i]);
		if (s)
			rc = firn_ice__snapshot_files(before, s, &gone, err);
	}
	size_t n_gone = rc == 0 ? firn_ice__fileset_count(&gone) : 0, n_doomed = 0;
	const char **doomed = n_gone ? firn_calloc(n_gone, sizeof(*doomed)) : NULL;
	if (n_gone && !doomed)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; doomed && i < n_gone; i++) {
		const char *f = gone.v[i];
		if (firn_ice__fileset_has(&live, f) || !firn_io__within(f, root))
			continue;
		info->files_deleted++;
		if (info->report)
			info->report(info->report_arg, f);
		doomed[n_doomed++] = f;
	}
	struct firn_progress pg = { "expire", 0, (int64_t)n_doomed, 0, -1, 0, -1 };
	for (size_t i = 0; !dry_run && i < n_doomed; i += 1000) { /* 1000: one S3 batch */
		size_t k = n_doomed - i < 1000 ? n_doomed - i : 1000;
		firn_io_delete_many(doomed + i, k, NULL, NULL); /* best effort: orphans sweep the rest */
		pg.files += (int64_t)k;
		firn_ice__progress(t, &pg);
	}
	firn_free(doomed);
	firn_free(root);
	firn_ice__fileset_free(&live);
	firn_ice__fileset_free(&gone);
	firn_ice__meta_free(before);
	firn_ice__meta_free(would);
	firn_free(c.expired);
	return rc;
}
