/* Manifest merging of an append, by the rules of Java's merge append
 * (MergingSnapshotProducer and ManifestMergeManager; see the header). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iceberg/ice_merge_manifests.h"
#include "io/io_local.h"

#define TARGET_SIZE_DEFAULT 8388608 /* commit.manifest.target-size-bytes */
#define MIN_COUNT_DEFAULT 100       /* commit.manifest.min-count-to-merge */

struct merger {
	const struct firn_ice_meta *m;
	int64_t snap_id;
	int64_t target, min_count;
	struct firn_arena *arena;
	struct firn_ice_merged *out;
	char ***written;
	size_t *n_written;
	const struct firn_ice_manifest_file *fresh;
};

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static void put(struct merger *g, const struct firn_ice_manifest_file *mf)
{
	g->out->v[g->out->n++] = *mf;
	if (mf->added_snapshot_id == g->snap_id)
		g->out->created++;
	else
		g->out->kept++;
}

/* The entries a merged manifest keeps of mf's, as Java's: this
 * snapshot's adds and deletes as they are, older deletes dropped, every
 * other entry EXISTING with its own snapshot id and sequence numbers. */
static int gather(struct merger *g, const struct firn_ice_manifest_file *mf,
		  struct firn_ice_entry **all, size_t *n, struct firn_error *err)
{
	struct firn_ice_entry *es;
	size_t ne;
	FIRN_TRY(firn_ice__manifest_read(mf, g->m, g->arena, &es, &ne, err));
	struct firn_ice_entry *v = firn_realloc(*all, (*n + ne + 1) * sizeof(*v));
	if (!v)
		return nomem(err);
	*all = v;
	for (size_t k = 0; k < ne; k++) {
		struct firn_ice_entry e = es[k];
		bool ours = e.snapshot_id == g->snap_id;
		if (e.status == FIRN_ICE_DELETED && !ours)
			continue;
		if (e.status == FIRN_ICE_EXISTING || (e.status == FIRN_ICE_ADDED && !ours)) {
			e.status = FIRN_ICE_EXISTING;
			e.explicit_sequence = true;
		}
		v[(*n)++] = e;
	}
	return 0;
}

/* bin[0..n) (of one spec and content) as one new manifest. */
static int merge_bin(struct merger *g, const struct firn_ice_manifest_file *const *bin, size_t n,
		     struct firn_error *err)
{
	const struct firn_ice_spec *spec = firn_ice__meta_spec(g->m, bin[0]->spec_id);
	if (!spec)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: partition spec %d does not exist",
				      bin[0]->path, (int)bin[0]->spec_id);
	struct firn_ice_entry *all = NULL;
	size_t n_all = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (bin[i] == g->fresh)
			g->out->fresh_merged = true;
		rc = gather(g, bin[i], &all, &n_all, err);
	}
	char *path = rc == 0 ? firn_ice__new_path(g->m, "metadata", "", "-m1.avro") : NULL;
	char **w = path ? firn_realloc(*g->written, (*g->n_written + 1) * sizeof(*w)) : NULL;
	if (rc == 0 && !w) {
		firn_free(path);
		rc = nomem(err);
	}
	struct firn_ice_manifest_file made;
	if (rc == 0) {
		*g->written = w;
		w[(*g->n_written)++] = path;
		rc = firn_ice__manifest_write(path, g->m, spec, bin[0]->content, all, n_all, g->snap_id,
					      g->arena, &made, err);
	}
	if (rc == 0 && !(made.path = firn_arena_strdup(g->arena, path)))
		rc = nomem(err);
	if (rc == 0) {
		put(g, &made);
		g->out->replaced += (int64_t)n;
	}
	firn_free(all);
	return rc;
}

/* One spec's manifests of one content kind, in order: bins packed from
 * the end (so that the bin left short is the first, merged later), each
 * a run of consecutive manifests. */
static int merge_group(struct merger *g, const struct firn_ice_manifest_file *const *group,
		       size_t n, const struct firn_ice_manifest_file *first, struct firn_error *err)
{
	size_t *starts = firn_calloc(n + 1, sizeof(*starts)); /* bins backwards, by first index */
	if (!starts)
		return nomem(err);
	size_t n_bins = 0;
	int64_t weight = 0;
	for (size_t i = n; i-- > 0;) {
		int64_t w = group[i]->length;
		if (n_bins == 0 || weight + w > g->target) {
			starts[n_bins++] = i;
			weight = w;
		} else {
			starts[n_bins - 1] = i;
			weight += w;
		}
	}
	int rc = 0;
	for (size_t b = n_bins; rc == 0 && b-- > 0;) {
		size_t start = starts[b], stop = b > 0 ? starts[b - 1] : n;
		size_t size = stop - start;
		bool has_first = false;
		for (size_t i = start; i < stop; i++)
			has_first |= group[i] == first;
		if (size == 1 || (has_first && (int64_t)size < g->min_count)) {
			for (size_t i = start; i < stop; i++)
				put(g, group[i]);
		} else {
			rc = merge_bin(g, group + start, size, err);
		}
	}
	firn_free(starts);
	return rc;
}

static int by_spec_desc(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return x > y ? -1 : x < y;
}

/* The manifests v[0..n) of one content kind: by spec, the highest id
 * first, each spec's in their order. */
static int merge_kind(struct merger *g, const struct firn_ice_manifest_file *const *v, size_t n,
		      bool enabled, struct firn_error *err)
{
	if (n == 0)
		return 0;
	if (!enabled) {
		for (size_t i = 0; i < n; i++)
			put(g, v[i]);
		return 0;
	}
	int32_t *specs = firn_calloc(n, sizeof(*specs));
	const struct firn_ice_manifest_file **group = firn_calloc(n, sizeof(*group));
	int rc = specs && group ? 0 : nomem(err);
	size_t n_specs = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		bool seen = false;
		for (size_t k = 0; k < n_specs && !seen; k++)
			seen = specs[k] == v[i]->spec_id;
		if (!seen)
			specs[n_specs++] = v[i]->spec_id;
	}
	if (rc == 0)
		qsort(specs, n_specs, sizeof(*specs), by_spec_desc);
	for (size_t s = 0; rc == 0 && s < n_specs; s++) {
		size_t n_group = 0;
		for (size_t i = 0; i < n; i++)
			if (v[i]->spec_id == specs[s])
				group[n_group++] = v[i];
		rc = merge_group(g, group, n_group, v[0], err);
	}
	firn_free(specs);
	firn_free(group);
	return rc;
}

static bool merge_enabled(const struct firn_ice_meta *m)
{
	const char *v = firn_ice__prop(m, "commit.manifest-merge.enabled");
	return !v || strcasecmp(v, "true") == 0; /* Java's Boolean.parseBoolean */
}

int firn_ice__merge_append(const struct firn_ice_meta *m, int64_t snap_id,
			   const struct firn_ice_manifest_file *fresh,
			   const struct firn_ice_manifest_file *old, size_t n_old,
			   struct firn_arena *arena, struct firn_ice_merged *out, char ***written,
			   size_t *n_written, struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	struct merger g = { m, snap_id,
			    firn_ice__prop_int(m, "commit.manifest.target-size-bytes", TARGET_SIZE_DEFAULT),
			    firn_ice__prop_int(m, "commit.manifest.min-count-to-merge", MIN_COUNT_DEFAULT),
			    arena, out, written, n_written, fresh };
	out->v = firn_arena_alloc(arena, (n_old + 2) * sizeof(*out->v));
	const struct firn_ice_manifest_file **data = firn_calloc(n_old + 1, sizeof(*data));
	const struct firn_ice_manifest_file **dels = firn_calloc(n_old + 1, sizeof(*dels));
	int rc = out->v && data && dels ? 0 : nomem(err);
	size_t n_data = 0, n_dels = 0;
	if (rc == 0) {
		data[n_data++] = fresh;
		for (size_t i = 0; i < n_old; i++) {
			if (old[i].content == 0)
				data[n_data++] = &old[i];
			else
				dels[n_dels++] = &old[i];
		}
		bool enabled = merge_enabled(m);
		rc = merge_kind(&g, data, n_data, enabled, err);
		if (rc == 0)
			rc = merge_kind(&g, dels, n_dels, enabled, err);
	}
	firn_free(data);
	firn_free(dels);
	return rc;
}
