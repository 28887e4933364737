/* The manifests of an append, merged as Java's default append
 * (table.newAppend(), a merge append) merges them, so that the manifest
 * list of a table that only ever appends stays short. Internal. */
#ifndef FIRN_ICE_MERGE_MANIFESTS_H
#define FIRN_ICE_MERGE_MANIFESTS_H

#include "iceberg/ice_table.h"

struct firn_ice_merged {
	struct firn_ice_manifest_file *v; /* the snapshot's manifests, in the arena */
	size_t n;
	int64_t created, kept, replaced; /* Java's manifests-created/-kept/-replaced */
	bool fresh_merged;               /* the new manifest is inside a merged one */
};

/* The manifests of append snapshot snap_id: its new data manifest `fresh`
 * (added_snapshot_id snap_id, not yet in a list) and the parent's `old`.
 * Data manifests first, then delete manifests, each grouped by spec (the
 * highest id first) and bin-packed from the end to
 * commit.manifest.target-size-bytes (8 MB); a bin of several manifests
 * becomes one, unless it holds the first manifest of its kind and has
 * fewer than commit.manifest.min-count-to-merge (100); nothing is merged
 * when commit.manifest-merge.enabled is false. A merged manifest keeps its
 * live entries as EXISTING with their snapshot ids and sequence numbers
 * (this snapshot's own adds stay ADDED) and drops older DELETED ones. Each
 * merged manifest written is added to *written (firn_malloc'd paths; the
 * caller removes those its commit does not keep). */
int firn_ice__merge_append(const struct firn_ice_meta *m, int64_t snap_id,
			   const struct firn_ice_manifest_file *fresh,
			   const struct firn_ice_manifest_file *old, size_t n_old,
			   struct firn_arena *arena, struct firn_ice_merged *out, char ***written,
			   size_t *n_written, struct firn_error *err);

#endif
