/* firn remove-orphans: files under the table location that no metadata
 * references (crashed or lost commits), older than a safety window. */
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

struct names {
	char **v;
	size_t n, cap;
};

static int add(struct names *s, const char *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		char **v = firn_realloc(s->v, cap * sizeof(char *));
		if (!v)
			return FIRN_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = firn_strdup(firn_io__path(p));
	return s->v[s->n++] ? 0 : FIRN_ENOMEM;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		firn_free(s->v[i]);
	firn_free(s->v);
}

/* Every file the metadata references: metadata files (current and logged),
 * manifest lists, manifests, data and delete files of every snapshot. */
static int referenced(struct firn_table *t, struct names *out, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	int rc = add(out, t->metadata_location);
	json_t *log = json_object_get(m->root, "metadata-log");
	for (size_t i = 0; rc == 0 && i < json_array_size(log); i++) {
		const char *f = json_string_value(json_object_get(json_array_get(log, i), "metadata-file"));
		if (f)
			rc = add(out, f);
	}
	struct firn_arena a = { 0 };
	for (size_t s = 0; rc == 0 && s < m->n_snapshots; s++) {
		struct firn_ice_manifest_file *mfs;
		size_t n;
		if (m->snapshots[s].manifest_list)
			rc = add(out, m->snapshots[s].manifest_list);
		if (rc == 0)
			rc = firn_ice__snapshot_manifests(m, &m->snapshots[s], &a, &mfs, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct firn_ice_entry *es;
			size_t ne;
			rc = add(out, mfs[i].path);
			if (rc == 0)
				rc = firn_ice__manifest_read(&mfs[i], m, &a, &es, &ne, err);
			for (size_t k = 0; rc == 0 && k < ne; k++)
				rc = add(out, es[k].file.path);
		}
		firn_arena_free(&a);
	}
	if (rc == FIRN_ENOMEM)
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
	qsort(out->v, out->n, sizeof(char *), cmp);
	return rc;
}

static bool known(const struct names *s, const char *p)
{
	return bsearch(&p, s->v, s->n, sizeof(char *), cmp) != NULL;
}

static int walk(const char *dir, const struct names *refs, time_t cutoff, bool dry_run,
		struct firn_orphan_info *info, struct firn_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : firn_error_set(err, FIRN_EIO, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct firn_buf p = { 0 };
		firn_buf_printf(&p, "%s/%s", dir, e->d_name);
		firn_buf_cstr(&p);
		const char *path = (const char *)p.data;
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = walk(path, refs, cutoff, dry_run, info, err);
		} else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && !known(refs, path)) {
			if (st.st_mtime < cutoff) {
				info->files++;
				info->bytes += st.st_size;
				if (info->report)
					info->report(info->report_arg, path);
				if (!dry_run && unlink(path) != 0)
					rc = firn_error_set(err, FIRN_EIO, "%s: %s", path, strerror(errno));
			} else {
				info->too_young++;
			}
		}
		firn_buf_free(&p);
	}
	closedir(d);
	return rc;
}

int firn_table_remove_orphans(struct firn_table *t, const char *older_than, bool dry_run,
			      struct firn_orphan_info *info, struct firn_error *err)
{
	info->files = info->bytes = info->too_young = 0;
	time_t cutoff = time(NULL) - 3 * 86400;
	if (older_than) {
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
		cutoff = (time_t)(ms / 1000);
	}
	struct names refs = { 0 };
	int rc = referenced(t, &refs, err);
	if (rc == 0) {
		/* the metadata may have changed while we listed: re-read, union */
		struct firn_error e2 = { 0 };
		if (firn_ice__table_refresh(t, &e2) == 0) {
			struct names again = { 0 };
			rc = referenced(t, &again, err);
			for (size_t i = 0; rc == 0 && i < again.n; i++)
				rc = add(&refs, again.v[i]);
			qsort(refs.v, refs.n, sizeof(char *), cmp);
			free_names(&again);
		}
	}
	if (rc == 0)
		rc = walk(firn_io__path(t->meta->location), &refs, cutoff, dry_run, info, err);
	free_names(&refs);
	return rc;
}
