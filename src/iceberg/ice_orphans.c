/* firn remove-orphans: files under the table location that no metadata
 * references (crashed or lost commits), older than a safety window. Every
 * location is compared in firn_io__normalize's form; other tables'
 * locations inside this one and the catalog's files are never entered.
 * Writes a store keeps pending (S3 multipart uploads) go the same way. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iceberg/ice_table.h"
#include "io/io_local.h"

#define DAY_S 86400

struct walk {
	struct firn_ice_fileset refs;
	struct firn_ice_fileset fenced; /* other owners' directories and files */
	time_t cutoff;
	bool dry_run;
	struct firn_orphan_info *info;
	struct firn_error *err;
};

/* Whether path lies in a fenced location (another owner's directory or file). */
static bool fenced(struct walk *w, const char *path)
{
	for (size_t i = 0; i < firn_ice__fileset_count(&w->fenced); i++)
		if (firn_io__within(path, w->fenced.v[i]))
			return true;
	return false;
}

/* One file of the listing (regular files only: symbolic links and the
 * like are never ours to remove). */
static int visit_entry(void *arg, const struct firn_io_entry *e)
{
	struct walk *w = arg;
	if (fenced(w, e->location) || firn_ice__fileset_has(&w->refs, e->location))
		return 0;
	if (e->mtime_ms / 1000 >= (int64_t)w->cutoff) {
		w->info->too_young++;
		return 0;
	}
	w->info->files++;
	w->info->bytes += e->size;
	if (w->info->report)
		w->info->report(w->info->report_arg, e->location);
	struct firn_error why = { 0 };
	int rc = w->dry_run ? 0 : firn_io_delete(e->location, &why);
	if (rc != 0 && rc != FIRN_ENOTFOUND) {
		if (w->err)
			*w->err = why;
		return rc;
	}
	return 0;
}

/* One pending write (an upload a crashed writer left): never a
 * referenced file, since those are complete. */
static int visit_pending(void *arg, const struct firn_io_pending *p)
{
	struct walk *w = arg;
	if (fenced(w, p->location))
		return 0;
	if (p->started_ms <= 0 || p->started_ms / 1000 >= (int64_t)w->cutoff) { /* or no time */
		w->info->too_young++;
		return 0;
	}
	w->info->uploads++;
	if (w->info->report)
		w->info->report(w->info->report_arg, p->location);
	struct firn_error why = { 0 };
	int rc = w->dry_run ? 0 : firn_io_discard_pending(p->location, p->id, &why);
	if (rc != 0 && rc != FIRN_ENOTFOUND) {
		if (w->err)
			*w->err = why;
		return rc;
	}
	return 0;
}

static int parse_cutoff(const char *older_than, bool force, time_t *out, struct firn_error *err)
{
	time_t now = time(NULL);
	*out = now - 3 * DAY_S;
	if (!older_than)
		return 0;
	char *end;
	long long v = strtoll(older_than, &end, 10);
	int64_t ms;
	if (end != older_than && *end == '\0') {
		ms = v;
	} else {
		int64_t us;
		if (firn_timestamp_parse(older_than, strlen(older_than), 6, &us) != 0)
			return firn_error_set(err, FIRN_EINVAL,
					      "--older-than: '%s' is not a timestamp or epoch milliseconds", older_than);
		ms = us / 1000;
	}
	*out = (time_t)(ms / 1000);
	if (*out > now - DAY_S && !force)
		return firn_error_set(err, FIRN_EINVAL,
				      "--older-than %s is within the last 24 hours: files of commits in flight "
				      "would be deleted; pass --force to do it anyway", older_than);
	return 0;
}

/* Other tables' locations inside root, and the catalog file and its
 * companions in the warehouse. */
static int fence(struct firn_table *t, const char *root, struct firn_ice_fileset *out,
		 struct firn_error *err)
{
	struct firn_ice_location *v;
	size_t n;
	int rc = firn_ice__catalog_locations(t->catalog, &v, &n, err);
	char *self = NULL;
	struct firn_buf id = { 0 };
	if (rc == 0 && firn_buf_printf(&id, "%s.%s", t->ns, t->name) == 0 && firn_buf_cstr(&id) == 0)
		self = (char *)id.data;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((!self || strcmp(v[i].ident, self) != 0) && firn_io__within(v[i].location, root) &&
		    strcmp(v[i].location, root) != 0)
			rc = firn_ice__fileset_add(out, v[i].location);
	const char *suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; rc == 0 && i < 4; i++) {
		struct firn_buf p = { 0 };
		char *wh = firn_io__resolve(firn_catalog_warehouse(t->catalog));
		if (wh && firn_buf_printf(&p, "%s/catalog.db%s", wh, suffixes[i]) == 0 && firn_buf_cstr(&p) == 0)
			rc = firn_ice__fileset_add(out, (const char *)p.data);
		firn_free(wh);
		firn_buf_free(&p);
	}
	firn_buf_free(&id);
	firn_ice__locations_free(v, rc == 0 ? n : 0);
	if (rc == FIRN_ENOMEM)
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return rc;
}

int firn_table_remove_orphans(struct firn_table *t, const char *older_than, bool dry_run,
			      struct firn_orphan_info *info, struct firn_error *err)
{
	info->files = info->bytes = info->too_young = info->uploads = 0;
	struct walk w = { .dry_run = dry_run, .info = info, .err = err };
	FIRN_TRY(parse_cutoff(older_than, info->force, &w.cutoff, err));
	char *root = firn_io__normalize(t->meta->location);
	if (!root)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = firn_ice__table_files(t->meta, t->metadata_location, &w.refs, err);
	if (rc == 0) {
		/* the metadata may have changed while we listed: re-read, union */
		struct firn_error e2 = { 0 };
		if (firn_ice__table_refresh(t, &e2) == 0)
			rc = firn_ice__table_files(t->meta, t->metadata_location, &w.refs, err);
	}
	if (rc == 0)
		rc = fence(t, root, &w.fenced, err);
	if (rc == 0)
		rc = firn_io_list(root, visit_entry, &w, err);
	if (rc == 0)
		rc = firn_io_list_pending(root, visit_pending, &w, err);
	firn_ice__fileset_free(&w.refs);
	firn_ice__fileset_free(&w.fenced);
	firn_free(root);
	return rc;
}
