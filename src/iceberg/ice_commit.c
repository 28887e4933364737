/* Commits as requirements + updates: the one retry loop, the one helper
 * that produces a snapshot, and what catalog implementations share
 * (reading and writing metadata files, preparing a commit, purge). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firn/util.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "io/io_local.h"
#include "util/alloc.h"

/* ---- metadata files ------------------------------------------------- */

int firn_ice__meta_read(const char *location, struct firn_ice_meta **out, struct firn_error *err)
{
	uint8_t *data;
	size_t n;
	*out = NULL;
	int rc = firn_io__read_all(location, &data, &n, err);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: metadata file is missing", location);
	FIRN_TRY(rc);
	rc = firn_ice__meta_parse((const char *)data, n, location, out, err);
	firn_free(data);
	return rc;
}

/* The version number of a metadata file name "NNNNN-uuid.metadata.json",
 * -1 when it has none (a registered file may be named anything). */
static int metadata_version(const char *location)
{
	const char *slash = strrchr(location, '/');
	const char *base = slash ? slash + 1 : location;
	char *end;
	long v = strtol(base, &end, 10);
	if (end == base || *end != '-' || v < 0 || v > 99999999)
		return -1;
	return (int)v;
}

int firn_ice__meta_write(const struct firn_ice_meta *m, const char *previous,
			 char **location_out, struct firn_error *err)
{
	int v = previous ? metadata_version(previous) + 1 : 0;
	if (previous && v == 0)
		v = 1; /* after a registered file without a version number */
	uint8_t u[16];
	char us[37];
	firn_uuid_v4(u);
	firn_uuid_format(u, us);
	struct firn_buf b = { 0 };
	int made = firn_buf_printf(&b, "%s/metadata/%05d-%s.metadata.json", m->location, v, us);
	char *path = firn_buf_string(&b, made);
	char *text = firn_ice__meta_dump(m);
	int rc;
	if (!path || !text)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	else /* the directory fsync also makes this commit's manifests durable
	      * (written in the same directory without their own) */
		rc = firn_io_write_all(path, FIRN_IO_EXCL | FIRN_IO_SYNC_DIR, text, strlen(text), err);
	firn_free(text);
	if (rc != 0) {
		firn_free(path);
		return rc;
	}
	*location_out = path;
	return 0;
}

/* ---- the shared core of a commit ------------------------------------ */

int firn_ice__commit_prepare(const struct firn_ice_meta *cur, const char *cur_location,
			     struct firn_ice_commit *c, struct firn_error *err)
{
	c->meta = NULL;
	c->location = NULL;
	FIRN_TRY(firn_ice__requirements_check(cur, c->change->requirements, err));
	long json_failures = firn_alloc__json_failures();
	FIRN_TRY(firn_ice__meta_build(cur, cur_location, c->change->updates, &c->meta, err));
	int rc = 0;
	/* a JSON setter that ran out of memory dropped part of the tree: such
	 * metadata must never be written */
	if (firn_alloc__json_failures() != json_failures)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__meta_write(c->meta, cur_location, &c->location, err);
	if (rc != 0) {
		firn_ice__meta_free(c->meta);
		c->meta = NULL;
		return rc;
	}
	firn_io__crash_point("after-metadata");
	return 0;
}

bool firn_ice__change_creates(const struct firn_ice_change *c)
{
	size_t i;
	json_t *r;
	json_array_foreach(c->requirements, i, r)
	{
		const char *type = json_string_value(json_object_get(r, "type"));
		if (type && strcmp(type, "assert-create") == 0)
			return true;
	}
	return false;
}

void firn_ice__commit_discard(struct firn_ice_commit *c)
{
	if (c->location)
		firn_io_delete(c->location, NULL);
	firn_free(c->location);
	firn_ice__meta_free(c->meta);
	c->location = NULL;
	c->meta = NULL;
}

/* ---- purge ---------------------------------------------------------- */

/* Removes dir and its parents up to (and with) root while they are empty. */
static void remove_empty_dirs(const char *dir, const char *root)
{
	char *p = firn_strdup(dir);
	while (p && firn_io__within(p, root) && firn_io_remove_empty_dir(p, NULL) == 0 &&
	       strcmp(p, root) != 0) {
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
	}
	firn_free(p);
}

/* Files outside the location (imported ones) are not the table's to
 * delete. */
int firn_ice__purge(const struct firn_ice_meta *m, const char *metadata_location,
		    struct firn_purge_info *info, struct firn_error *err)
{
	struct firn_ice_fileset files = { 0 };
	char *root = firn_io__normalize(m->location);
	int rc = root ? firn_ice__table_files(m, metadata_location, &files, err)
		      : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t n = rc == 0 ? firn_ice__fileset_count(&files) : 0;
	const char **doomed = n ? firn_calloc(n, sizeof(*doomed)) : NULL;
	size_t n_doomed = 0, deleted = 0;
	if (n && !doomed)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; doomed && i < n; i++) {
		const char *f = files.v[i];
		if (!firn_io__within(f, root) || strcmp(f, root) == 0) {
			info->kept_outside++;
			continue;
		}
		doomed[n_doomed++] = f;
	}
	firn_io_delete_many(doomed, n_doomed, &deleted, NULL);
	info->files_deleted += (int64_t)deleted;
	firn_free(doomed);
	/* directories left empty, deepest first (the set is sorted) */
	for (size_t i = n; i-- > 0;) {
		char *d = firn_strdup(files.v[i]);
		char *slash = d ? strrchr(d, '/') : NULL;
		if (slash && slash != d) {
			*slash = '\0';
			remove_empty_dirs(d, root);
		}
		firn_free(d);
	}
	firn_free(root);
	firn_ice__fileset_free(&files);
	return rc;
}

/* ---- the one retry loop ---------------------------------------------- */

/* Exponential backoff with jitter: half the step plus a random half. */
void firn_ice__back_off(int attempt, int64_t wait_ms, int64_t max_wait)
{
	int shift = attempt < 10 ? attempt : 10;
	int64_t ms = wait_ms < 0 ? 0 : wait_ms > (max_wait >> shift) ? max_wait : wait_ms << shift;
	if (ms < 0)
		ms = 0;
	uint8_t r[16];
	firn_uuid_v4(r);
	ms = ms / 2 + (int64_t)(r[0] | r[1] << 8) % (ms / 2 + 1);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int firn_ice__commit_change(struct firn_table *t, firn_ice_change_fn fn, void *ctx, int *attempts,
			    struct firn_error *err)
{
	int64_t retries = firn_ice__prop_int(t->meta, "commit.retry.num-retries", 4);
	int64_t wait_ms = firn_ice__prop_int(t->meta, "commit.retry.min-wait-ms", 100);
	int64_t max_wait = firn_ice__prop_int(t->meta, "commit.retry.max-wait-ms", 60000);
	if (retries < 0)
		retries = 0;
	for (int attempt = 0;; attempt++) {
		if (attempts)
			*attempts = attempt + 1;
		struct firn_ice_change ch;
		FIRN_TRY(firn_ice__change_init(&ch, err));
		/* every change is for this table, not one made anew under its name */
		int rc = firn_ice__change_require(&ch, firn_ice__req_assert_table_uuid(t->meta->uuid), err);
		if (rc == 0)
			rc = fn(t, attempt, ctx, &ch, err);
		struct firn_ice_commit c = { t->ns, t->name, &ch, t->meta, t->metadata_location, NULL, NULL };
		if (rc == 0 && json_array_size(ch.updates) == 0) { /* nothing to commit */
			firn_ice__change_free(&ch);
			return 0;
		}
		if (rc == 0)
			rc = firn_ice__catalog_commit(t->catalog, &c, err);
		firn_ice__change_free(&ch);
		if (rc == 0) {
			firn_ice__meta_free(t->meta);
			firn_free(t->metadata_location);
			t->meta = c.meta;
			t->metadata_location = c.location;
			return 0;
		}
		if (rc == FIRN_ECONFLICT && attempt >= retries) {
			char why[FIRN_ERROR_MESSAGE_MAX];
			snprintf(why, sizeof(why), "%s", err ? err->message : "");
			return firn_error_set(err, FIRN_ECONFLICT, "%s.%s: gave up after %d attempt%s: %s", t->ns,
					      t->name, attempt + 1, attempt ? "s" : "", why);
		}
		if (rc != FIRN_ECONFLICT)
			return rc;
		firn_ice__back_off(attempt, wait_ms, max_wait);
		FIRN_TRY(firn_ice__table_refresh(t, err));
	}
}

/* ---- the one helper that produces a snapshot -------------------------- */

int firn_ice__snapshot_change(const struct firn_ice_meta *m, const char *branch, int64_t snap_id,
			      const struct firn_ice_snapshot *parent, int64_t seq,
			      const char *manifest_list, json_t *summary, int64_t first_row_id,
			      int64_t added_rows, struct firn_ice_change *c, struct firn_error *err)
{
	int64_t now = firn_ice__now_ms();
	if (parent && now <= parent->timestamp_ms)
		now = parent->timestamp_ms + 1;
	json_t *s = json_object();
	if (!s) {
		json_decref(summary);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	json_object_set_new(s, "snapshot-id", json_integer(snap_id));
	if (parent)
		json_object_set_new(s, "parent-snapshot-id", json_integer(parent->snapshot_id));
	json_object_set_new(s, "sequence-number", json_integer(seq));
	json_object_set_new(s, "timestamp-ms", json_integer(now));
	json_object_set_new(s, "manifest-list", json_string(manifest_list));
	json_object_set_new(s, "summary", summary);
	json_object_set_new(s, "schema-id", json_integer(m->current_schema_id));
	if (m->format_version >= 3) {
		json_object_set_new(s, "first-row-id", json_integer(first_row_id));
		json_object_set_new(s, "added-rows", json_integer(added_rows));
	}
	const struct firn_ice_ref *head = firn_ice__meta_ref(m, branch);
	json_t *retention = NULL;
	if (head) { /* keep the ref's retention settings */
		const json_t *refs = json_object_get(m->root, "refs");
		const json_t *old = json_object_get(refs, branch);
		retention = json_object();
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)old, k, v)
			if (strcmp(k, "snapshot-id") != 0 && strcmp(k, "type") != 0)
				json_object_set(retention, k, v);
	}
	int rc = firn_ice__change_require(c, firn_ice__req_assert_ref_snapshot_id(branch, head != NULL,
										 head ? head->snapshot_id : 0),
					  err);
	if (rc == 0)
		rc = firn_ice__change_update(c, firn_ice__upd_add_snapshot(s), err);
	if (rc == 0)
		rc = firn_ice__change_update(c, firn_ice__upd_set_ref(branch, "branch", snap_id, retention), err);
	json_decref(retention);
	json_decref(s);
	return rc;
}
