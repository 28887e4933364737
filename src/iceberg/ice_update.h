/* Table updates and requirements (the REST spec's TableUpdate and
 * TableRequirement, the body of a commit) and the metadata builder that
 * applies updates to table metadata. Internal.
 *
 * An update is a JSON object in the REST spec's own form, keyed by
 * "action" ({"action": "add-snapshot", "snapshot": {...}}); a requirement
 * one keyed by "type" ({"type": "assert-ref-snapshot-id", "ref": "main",
 * "snapshot-id": 3}). A change is two JSON arrays of those. Every commit
 * firn makes is a change: the operation computes it from the metadata it
 * read, the catalog checks the requirements against the current metadata
 * and applies the updates with the builder (firn_ice__meta_build). What a
 * REST client sends and a REST server receives is this very JSON. */
#ifndef FIRN_ICE_UPDATE_H
#define FIRN_ICE_UPDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "firn/error.h"
#include "iceberg/ice_meta.h"

/* A change: requirements and updates, both JSON arrays (owned). */
struct firn_ice_change {
	json_t *requirements;
	json_t *updates;
};

/* Empty arrays in both. FIRN_ENOMEM. */
int firn_ice__change_init(struct firn_ice_change *c, struct firn_error *err);
void firn_ice__change_free(struct firn_ice_change *c);
/* Appends an update / a requirement; steals u (also on failure; NULL is
 * FIRN_ENOMEM). */
int firn_ice__change_update(struct firn_ice_change *c, json_t *u, struct firn_error *err);
int firn_ice__change_require(struct firn_ice_change *c, json_t *r, struct firn_error *err);

/* ---- the JSON forms, read ------------------------------------------ */

/* Whether u is a well-formed table update of the REST spec (a known
 * action with its required fields of the right JSON types) / r a
 * well-formed requirement. FIRN_EINVAL "update N: ..." naming what is
 * wrong (for a REST server's 400). */
int firn_ice__update_check(const json_t *u, struct firn_error *err);
int firn_ice__requirement_check(const json_t *r, struct firn_error *err);
/* A commit body {"identifier"?, "requirements": [...], "updates": [...]}
 * → a change (deep copies), each element checked. */
int firn_ice__change_from_json(const json_t *body, struct firn_ice_change *out,
			       struct firn_error *err);
/* {"requirements": [...], "updates": [...]} (new reference). */
json_t *firn_ice__change_to_json(const struct firn_ice_change *c);

/* ---- constructors (new references; NULL only when out of memory) ---- */

json_t *firn_ice__upd_assign_uuid(const char *uuid);
json_t *firn_ice__upd_upgrade_format_version(int version);
/* schema: an Iceberg schema JSON object (borrowed, copied). */
json_t *firn_ice__upd_add_schema(const json_t *schema);
json_t *firn_ice__upd_set_current_schema(int32_t schema_id); /* -1: the last added */
json_t *firn_ice__upd_add_spec(const json_t *spec);
json_t *firn_ice__upd_set_default_spec(int32_t spec_id);      /* -1: the last added */
json_t *firn_ice__upd_add_sort_order(const json_t *order);
json_t *firn_ice__upd_set_default_sort_order(int32_t order_id); /* -1: the last added */
/* snapshot: a snapshot JSON object (borrowed, copied). */
json_t *firn_ice__upd_add_snapshot(const json_t *snapshot);
/* type "branch" or "tag"; retention: an object with any of
 * max-ref-age-ms, max-snapshot-age-ms, min-snapshots-to-keep (borrowed,
 * NULL for none). */
json_t *firn_ice__upd_set_ref(const char *name, const char *type, int64_t snapshot_id,
			      const json_t *retention);
/* set-snapshot-ref of branch `name` to snapshot_id, keeping the
 * retention settings the branch has in m (what moving a branch with a new
 * snapshot needs; set-snapshot-ref replaces the whole ref). */
json_t *firn_ice__upd_move_branch(const struct firn_ice_meta *m, const char *name,
				  int64_t snapshot_id);
json_t *firn_ice__upd_remove_ref(const char *name);
json_t *firn_ice__upd_remove_snapshots(const int64_t *ids, size_t n);
json_t *firn_ice__upd_set_location(const char *location);
/* set: an object of string values (borrowed, copied). */
json_t *firn_ice__upd_set_properties(const json_t *set);
json_t *firn_ice__upd_remove_properties(const char *const *keys, size_t n);
/* statistics: a StatisticsFile object (borrowed, copied). */
json_t *firn_ice__upd_set_statistics(const json_t *statistics);
json_t *firn_ice__upd_remove_statistics(int64_t snapshot_id);
json_t *firn_ice__upd_set_partition_statistics(const json_t *statistics);
json_t *firn_ice__upd_remove_partition_statistics(int64_t snapshot_id);
json_t *firn_ice__upd_remove_partition_specs(const int32_t *ids, size_t n);
json_t *firn_ice__upd_remove_schemas(const int32_t *ids, size_t n);
/* key: an EncryptedKey object (key-id, encrypted-key-metadata; borrowed,
 * copied). */
json_t *firn_ice__upd_add_encryption_key(const json_t *key);
json_t *firn_ice__upd_remove_encryption_key(const char *key_id);

json_t *firn_ice__req_assert_create(void);
json_t *firn_ice__req_assert_table_uuid(const char *uuid);
/* has_id false: the ref must not exist (REST's "snapshot-id": null). */
json_t *firn_ice__req_assert_ref_snapshot_id(const char *ref, bool has_id, int64_t snapshot_id);
json_t *firn_ice__req_assert_last_assigned_field_id(int32_t id);
json_t *firn_ice__req_assert_current_schema_id(int32_t id);
json_t *firn_ice__req_assert_last_assigned_partition_id(int32_t id);
json_t *firn_ice__req_assert_default_spec_id(int32_t id);
json_t *firn_ice__req_assert_default_sort_order_id(int32_t id);

/* ---- checking and applying ----------------------------------------- */

/* Checks every requirement against m (NULL: the table does not exist;
 * only assert-create holds then, and assert-create fails on any m).
 * FIRN_ECONFLICT "requirement failed: ..." (what was expected, what is)
 * on the first that does not hold — REST's 409 CommitFailedException. */
int firn_ice__requirements_check(const struct firn_ice_meta *m, const json_t *requirements,
				 struct firn_error *err);

/* Applies updates, in order, to a copy of base, as Java's
 * TableMetadata.Builder does, and returns the new metadata (views
 * parsed; base untouched). base NULL creates a table: then updates must
 * assign a uuid (or one is assigned), add a schema, a spec, a sort order
 * and set a location; format version from upgrade-format-version
 * (default 2).
 *
 * Each update is validated against the metadata built so far:
 *  - add-schema: schema-id fresh (an identical schema is reused, as
 *    Java does), field ids unique; last-column-id raised to the schema's
 *    highest id; -1 in set-current-schema means the last added;
 *  - add-spec / add-sort-order likewise (last-partition-id raised);
 *  - add-snapshot: id unused; in v2+ sequence-number greater than
 *    last-sequence-number (which becomes it), parent known or absent;
 *    v3 first-row-id at or above next-row-id (next-row-id then moves past
 *    its added-rows); its schema-id known when present;
 *  - set-snapshot-ref: the snapshot exists; "main" also sets
 *    current-snapshot-id and appends to the snapshot log (when it moves);
 *  - remove-snapshots: the snapshots go, with refs that point at them
 *    and their snapshot-log entries; statistics of removed snapshots too;
 *  - remove-snapshot-ref "main": current-snapshot-id becomes null (-1);
 *  - upgrade-format-version: never downgrades, at most 3;
 *  - remove-schemas / remove-partition-specs: never the current/default;
 *  - set-properties / remove-properties: string values; set and removed
 *    at once is an error.
 * FIRN_EINVAL "update N (ACTION): ..." for an update that does not apply.
 *
 * base_location (the metadata file base was read from; NULL at create)
 * goes into the metadata log, which keeps at most
 * write.metadata.previous-versions-max entries (default 100) of the
 * resulting properties. last-updated-ms is set to now (and after base's).
 * Unknown keys of base survive. */
int firn_ice__meta_build(const struct firn_ice_meta *base, const char *base_location,
			 const json_t *updates, struct firn_ice_meta **out,
			 struct firn_error *err);

#endif
