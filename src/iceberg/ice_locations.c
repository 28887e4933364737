/* Table locations across the catalog: no two tables' locations are equal
 * or nested, names cannot reach outside their namespace's directory. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iceberg/ice_table.h"
#include "io/io_local.h"
#include "util/alloc.h"

int firn_ice__check_name_part(const char *what, const char *part, struct firn_error *err)
{
	if (!part[0])
		return firn_error_set(err, FIRN_EINVAL, "%s name is empty", what);
	if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0)
		return firn_error_set(err, FIRN_EINVAL, "%s name '%s' is not allowed", what, part);
	for (const unsigned char *p = (const unsigned char *)part; *p; p++)
		if (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
			return firn_error_set(err, FIRN_EINVAL,
					      "%s name '%s': '/', '\\' and control characters are not allowed",
					      what, part);
	return 0;
}

int firn_ice__check_new_ident(const char *ns, const char *name, struct firn_error *err)
{
	char *copy = firn_strdup(ns);
	if (!copy)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = 0;
	char *save = NULL;
	if (!copy[0] || copy[0] == '.' || copy[strlen(copy) - 1] == '.' || strstr(copy, ".."))
		rc = firn_error_set(err, FIRN_EINVAL, "namespace '%s': empty level", ns);
	for (char *p = strtok_r(copy, ".", &save); rc == 0 && p; p = strtok_r(NULL, ".", &save))
		rc = firn_ice__check_name_part("namespace", p, err);
	firn_free(copy);
	return rc ? rc : firn_ice__check_name_part("table", name, err);
}

void firn_ice__locations_free(struct firn_ice_location *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		firn_free(v[i].ident);
		firn_free(v[i].location);
		firn_free(v[i].resolved);
	}
	firn_free(v);
}

/* The location a table's metadata file names, normalized; when the file
 * cannot be read, the directory above its metadata directory (the usual
 * layout), so that an unreadable table is still protected. */
static char *table_location(const char *metadata_location)
{
	uint8_t *data = NULL;
	size_t n = 0;
	char *out = NULL;
	if (firn_io__read_all(metadata_location, &data, &n, NULL) == 0) {
		json_t *root = firn_json__loadb((const char *)data, n, 0, NULL);
		const char *loc = json_string_value(json_object_get(root, "location"));
		if (loc)
			out = firn_io__normalize(loc);
		json_decref(root);
		firn_free(data);
		if (out)
			return out;
	}
	char *m = firn_io__normalize(metadata_location);
	for (int up = 0; m && up < 2; up++) {
		char *slash = strrchr(m, '/');
		if (slash && slash != m)
			*slash = '\0';
	}
	return m;
}

static int push(struct firn_ice_location **v, size_t *n, size_t *cap, const char *ident,
		const char *metadata_location)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct firn_ice_location *w = firn_realloc(*v, c * sizeof(*w));
		if (!w)
			return FIRN_ENOMEM;
		*v = w;
		*cap = c;
	}
	(*v)[*n].ident = firn_strdup(ident);
	(*v)[*n].location = table_location(metadata_location);
	(*v)[*n].resolved = (*v)[*n].location ? firn_io__resolve((*v)[*n].location) : NULL;
	if (!(*v)[*n].ident || !(*v)[*n].location || !(*v)[*n].resolved) {
		firn_free((*v)[*n].ident);
		firn_free((*v)[*n].location);
		firn_free((*v)[*n].resolved);
		return FIRN_ENOMEM;
	}
	(*n)++;
	return 0;
}

/* Tables of namespace ns and, recursively, of its children. */
static int collect(struct firn_catalog *c, const char *ns, struct firn_ice_location **v, size_t *n,
		   size_t *cap, struct firn_error *err)
{
	char **names = NULL;
	size_t nn = 0;
	int rc = 0;
	if (ns) {
		rc = firn_catalog_table_list(c, ns, &names, &nn, err);
		for (size_t i = 0; rc == 0 && i < nn; i++) {
			char *mloc = NULL;
			struct firn_buf id = { 0 };
			if (firn_catalog_table_load(c, ns, names[i], &mloc, NULL) != 0)
				continue; /* dropped meanwhile */
			rc = firn_buf_printf(&id, "%s.%s", ns, names[i]);
			if (rc == 0)
				rc = firn_buf_cstr(&id);
			if (rc == 0)
				rc = push(v, n, cap, (const char *)id.data, mloc);
			if (rc == FIRN_ENOMEM)
				firn_error_set(err, FIRN_ENOMEM, "out of memory");
			firn_buf_free(&id);
			firn_free(mloc);
		}
		firn_catalog_strings_free(names, nn);
		names = NULL;
		nn = 0;
	}
	if (rc == 0)
		rc = firn_catalog_namespace_list(c, ns, &names, &nn, err);
	for (size_t i = 0; rc == 0 && i < nn; i++)
		rc = collect(c, names[i], v, n, cap, err);
	firn_catalog_strings_free(names, nn);
	return rc;
}

int firn_ice__catalog_locations(struct firn_catalog *c, struct firn_ice_location **out,
				size_t *n, struct firn_error *err)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc = collect(c, NULL, out, n, &cap, err);
	if (rc != 0) {
		firn_ice__locations_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int firn_ice__location_conflict(struct firn_catalog *c, const char *location, const char *self,
				char **other, struct firn_error *err)
{
	struct firn_ice_location *v;
	size_t n;
	*other = NULL;
	char *want = firn_io__resolve(location);
	if (!want)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = firn_ice__catalog_locations(c, &v, &n, err);
	for (size_t i = 0; rc == 0 && i < n && !*other; i++) {
		if (self && strcmp(v[i].ident, self) == 0)
			continue;
		if (firn_io__within(want, v[i].resolved) || firn_io__within(v[i].resolved, want)) {
			*other = v[i].ident;
			v[i].ident = NULL;
		}
	}
	if (rc == 0 && !*other) {
		/* nor may it hold the warehouse (its catalog file lives there) */
		char *wh = firn_io__resolve(firn_catalog_warehouse(c));
		if (wh && firn_io__within(wh, want))
			*other = firn_strdup("the warehouse");
		firn_free(wh);
	}
	firn_ice__locations_free(v, rc == 0 ? n : 0);
	firn_free(want);
	return rc;
}

/* What a listing of a would-be table location found. */
struct leftover {
	size_t dir_len;     /* the listed directory's, without a trailing '/' */
	size_t files;
	bool metadata_json; /* a metadata/....metadata.json among them */
};

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Stops (returns 1, which no firn error code is) at the first file that is
 * not where a table keeps its files. */
static int table_file(void *arg, const struct firn_io_entry *e)
{
	struct leftover *l = arg;
	const char *rel = e->location + l->dir_len;
	if (*rel == '/')
		rel++;
	l->files++;
	if (strncmp(rel, "metadata/", 9) == 0) {
		l->metadata_json |= ends_with(rel, ".metadata.json");
		return 0;
	}
	return strncmp(rel, "data/", 5) == 0 ? 0 : 1;
}

/* Free: nothing there, or, with leftovers_ok, only what a dropped table
 * left behind (its metadata/ with a metadata file, its data/), which
 * Java's catalogs let a new table reuse; the caller has checked that no
 * live table overlaps. */
int firn_ice__dir_check(const char *location, bool leftovers_ok, bool *in_use,
			struct firn_error *err)
{
	*in_use = true; /* also when the listing fails */
	char *p = firn_io__normalize(location);
	if (!p)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct leftover l = { strlen(p), 0, false };
	while (l.dir_len > 1 && p[l.dir_len - 1] == '/')
		l.dir_len--;
	int rc = firn_io_list(p, table_file, &l, err);
	firn_free(p);
	if (rc == 1) /* table_file stopped at a stranger's file */
		return 0;
	if (rc == 0)
		*in_use = l.files > 0 && !(leftovers_ok && l.metadata_json);
	return rc;
}
