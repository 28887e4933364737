/* The files a table's metadata references, as sets of normalized
 * locations: what purge, expire and remove-orphans may touch. */
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_table.h"
#include "io/io_local.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int firn_ice__fileset_add(struct firn_ice_fileset *s, const char *location)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		char **v = firn_realloc(s->v, cap * sizeof(char *));
		if (!v)
			return FIRN_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = firn_io__normalize(location);
	if (!s->v[s->n])
		return FIRN_ENOMEM;
	s->n++;
	s->sorted = false;
	return 0;
}

static void settle(struct firn_ice_fileset *s)
{
	if (s->sorted)
		return;
	if (s->n > 0) /* an empty set has no array */
		qsort(s->v, s->n, sizeof(char *), cmp_str);
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (k > 0 && strcmp(s->v[i], s->v[k - 1]) == 0)
			firn_free(s->v[i]);
		else
			s->v[k++] = s->v[i];
	}
	s->n = k;
	s->sorted = true;
}

bool firn_ice__fileset_has(struct firn_ice_fileset *s, const char *normalized)
{
	settle(s);
	return bsearch(&normalized, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}

size_t firn_ice__fileset_count(struct firn_ice_fileset *s)
{
	settle(s);
	return s->n;
}

void firn_ice__fileset_free(struct firn_ice_fileset *s)
{
	for (size_t i = 0; i < s->n; i++)
		firn_free(s->v[i]);
	firn_free(s->v);
	memset(s, 0, sizeof(*s));
}

int firn_ice__snapshot_files(const struct firn_ice_meta *m, const struct firn_ice_snapshot *snap,
			     struct firn_ice_fileset *out, struct firn_error *err)
{
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *mfs;
	size_t n;
	int rc = firn_ice__snapshot_manifests(m, snap, &a, &mfs, &n, err);
	if (rc == 0 && snap->manifest_list)
		rc = firn_ice__fileset_add(out, snap->manifest_list);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct firn_ice_entry *es;
		size_t ne;
		rc = firn_ice__fileset_add(out, mfs[i].path);
		if (rc == 0)
			rc = firn_ice__manifest_read(&mfs[i], m, &a, &es, &ne, err);
		/* a DELETED entry is a tombstone, not a reference */
		for (size_t k = 0; rc == 0 && k < ne; k++)
			if (es[k].status != FIRN_ICE_DELETED)
				rc = firn_ice__fileset_add(out, es[k].file.path);
	}
	firn_arena_free(&a);
	if (rc == FIRN_ENOMEM)
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return rc;
}

/* "statistics-path" of each entry of the metadata's array key. */
static int add_stats(const struct firn_ice_meta *m, const char *key, struct firn_ice_fileset *out)
{
	json_t *arr = json_object_get(m->root, key);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *p = json_string_value(json_object_get(json_array_get(arr, i), "statistics-path"));
		if (p && firn_ice__fileset_add(out, p) != 0)
			return FIRN_ENOMEM;
	}
	return 0;
}

int firn_ice__table_files(const struct firn_ice_meta *m, const char *metadata_location,
			  struct firn_ice_fileset *out, struct firn_error *err)
{
	int rc = metadata_location ? firn_ice__fileset_add(out, metadata_location) : 0;
	json_t *log = json_object_get(m->root, "metadata-log");
	for (size_t i = 0; rc == 0 && i < json_array_size(log); i++) {
		const char *f = json_string_value(json_object_get(json_array_get(log, i), "metadata-file"));
		if (f)
			rc = firn_ice__fileset_add(out, f);
	}
	if (rc == 0)
		rc = add_stats(m, "statistics", out);
	if (rc == 0)
		rc = add_stats(m, "partition-statistics", out);
	if (rc == FIRN_ENOMEM)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t s = 0; rc == 0 && s < m->n_snapshots; s++)
		rc = firn_ice__snapshot_files(m, &m->snapshots[s], out, err);
	return rc;
}
