/* Iceberg table metadata: schemas, partition specs, sort orders, snapshots,
 * refs — parsed from the metadata JSON into read-only views. Internal.
 *
 * The jansson tree `root` is the truth: changes edit the tree (keeping
 * every key firn does not know) and then re-parse the views with
 * firn_ice__meta_reparse. Strings in the views point into the tree.
 *
 * History is immutable: a snapshot object, once in "snapshots", and the
 * entries of "snapshot-log" and "metadata-log" are never edited in place
 * (remove or replace them; add new ones). A clone shares those objects
 * with its original, the views of an unchanged snapshot survive a
 * reparse, and the dump copies an unchanged snapshot's text from the file
 * it was read from: what makes a commit's cost independent of history.
 *
 * Snapshots are read lazily: a snapshot object read from a file holds its
 * scalars and its summary's "operation" (all the views need) until
 * firn_ice__snapshot_json completes it from its text, in place (the
 * values already there are kept, so views stay valid). Read a snapshot's
 * other keys through that function, never from the tree. */
#ifndef FIRN_ICE_META_H
#define FIRN_ICE_META_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "firn/arrow.h"
#include "firn/error.h"
#include "iceberg/ice_datum.h"
#include "iceberg/ice_expr.h"

#define FIRN_ICE_MAX_USER_ID 2147483447

struct firn_ice_schema {
	int32_t schema_id;
	struct ArrowSchema arrow; /* "+s", children carry field ids */
	int32_t *identifier_ids;
	size_t n_identifier;
	int32_t max_id;
	json_t *json; /* borrowed from the metadata tree */
};

struct firn_ice_spec_field {
	int32_t source_id;
	int32_t field_id;
	const char *name;
	const char *transform_text;
	struct firn_transform transform;
};

struct firn_ice_spec {
	int32_t spec_id;
	struct firn_ice_spec_field *fields;
	size_t n_fields;
	json_t *json;
};

struct firn_ice_sort_field {
	int32_t source_id;
	const char *transform_text;
	struct firn_transform transform;
	bool descending;
	bool nulls_first;
};

struct firn_ice_sort_order {
	int32_t order_id;
	struct firn_ice_sort_field *fields;
	size_t n_fields;
	json_t *json;
};

struct firn_ice_snapshot {
	int64_t snapshot_id;
	bool has_parent;
	int64_t parent_id;
	int64_t sequence_number;
	int64_t timestamp_ms;
	const char *manifest_list; /* NULL for a v1 snapshot with "manifests" */
	const char *operation;     /* summary.operation, "" when missing */
	int32_t schema_id;         /* -1 when absent */
	bool has_first_row_id;
	int64_t first_row_id;
	/* The object; read from a file, only its scalars and its summary's
	 * "operation" are there until firn_ice__snapshot_json reads the rest
	 * (lazy: the cost of a long history is its summaries). */
	json_t *json;
	const char *lazy_text; /* its text (in the metadata's), NULL: complete */
	size_t lazy_len;
	uint32_t n_keys, n_summary_keys; /* in its text */
};

struct firn_ice_ref {
	const char *name;
	int64_t snapshot_id;
	bool tag;
};

struct firn_ice_log_entry {
	int64_t timestamp_ms;
	int64_t snapshot_id;
};

struct firn_ice_meta {
	json_t *root;
	int format_version;
	const char *uuid;
	const char *location;
	int64_t last_sequence_number;
	int64_t last_updated_ms;
	int32_t last_column_id;
	int32_t current_schema_id;
	int32_t default_spec_id;
	int32_t last_partition_id;
	int32_t default_sort_order_id;
	bool has_current_snapshot;
	int64_t current_snapshot_id;
	int64_t next_row_id;

	struct firn_ice_schema *schemas;
	size_t n_schemas;
	struct firn_ice_spec *specs;
	size_t n_specs;
	struct firn_ice_sort_order *orders;
	size_t n_orders;
	struct firn_ice_snapshot *snapshots;
	size_t n_snapshots;
	struct firn_ice_ref *refs;
	size_t n_refs;
	struct firn_ice_log_entry *snapshot_log;
	size_t n_snapshot_log;

	struct firn_ice__meta_priv *priv; /* ice_meta.c's: what survives a reparse */
};

/* Parses metadata JSON text (a whole file; gzip is handled by the caller).
 * Reads format versions 1, 2 and 3 (v1's "schema"/"partition-spec" become
 * the views' only schema/spec). `what` names the file in messages.
 * FIRN_ECORRUPT "FILE: ..." on malformed metadata, FIRN_EUNSUPPORTED for a
 * format version above 3. *out is the caller's (firn_ice__meta_free). */
int firn_ice__meta_parse(const char *text, size_t n, const char *what,
			 struct firn_ice_meta **out, struct firn_error *err);
/* Takes ownership of root (also on failure) and builds the views. */
int firn_ice__meta_from_json(json_t *root, const char *what, struct firn_ice_meta **out,
			     struct firn_error *err);
/* Rebuilds the views after root was edited (a snapshot object still in
 * "snapshots" keeps its view). */
int firn_ice__meta_reparse(struct firn_ice_meta *m, struct firn_error *err);
/* A copy (for a commit attempt that may be abandoned): deep but for the
 * history objects, which it shares (see above). */
int firn_ice__meta_clone(const struct firn_ice_meta *m, struct firn_ice_meta **out,
			 struct firn_error *err);
void firn_ice__meta_free(struct firn_ice_meta *m);
/* The metadata as compact JSON text (firn_malloc'd, NUL-terminated), keys
 * in order; a snapshot read from a file is its text there. */
char *firn_ice__meta_dump(const struct firn_ice_meta *m);

const struct firn_ice_schema *firn_ice__meta_schema(const struct firn_ice_meta *m, int32_t id);
const struct firn_ice_schema *firn_ice__meta_current_schema(const struct firn_ice_meta *m);
const struct firn_ice_spec *firn_ice__meta_spec(const struct firn_ice_meta *m, int32_t id);
const struct firn_ice_sort_order *firn_ice__meta_order(const struct firn_ice_meta *m, int32_t id);
const struct firn_ice_snapshot *firn_ice__meta_snapshot(const struct firn_ice_meta *m, int64_t id);
/* The current snapshot (main), or NULL for an empty table. */
const struct firn_ice_snapshot *firn_ice__meta_current(const struct firn_ice_meta *m);
const struct firn_ice_ref *firn_ice__meta_ref(const struct firn_ice_meta *m, const char *name);
/* The snapshot's whole object (s->json, completed from its text when it
 * was read lazily; on a memory failure as it is). */
json_t *firn_ice__snapshot_json(const struct firn_ice_snapshot *s);

/* ---- schemas ------------------------------------------------------- */

/* Iceberg schema JSON (a struct with fields) → Arrow schema with field ids,
 * optional fields nullable. FIRN_ECORRUPT with `what` on bad JSON. */
int firn_ice__schema_from_json(const json_t *j, const char *what, struct ArrowSchema *out,
			       int32_t *max_id, struct firn_error *err);
/* Arrow schema (with field ids) → Iceberg schema JSON object with
 * schema-id and identifier-field-ids (n may be 0). New reference. */
json_t *firn_ice__schema_to_json(const struct ArrowSchema *s, int32_t schema_id,
				 const int32_t *identifier_ids, size_t n_identifier);
/* Iceberg type JSON for one node (primitive string or nested object). */
json_t *firn_ice__type_to_json(const struct ArrowSchema *node);
/* The node with field id `id` anywhere in s (struct fields, list
 * elements, map keys/values), or NULL; *parent_out (optional) gets its
 * parent node (NULL at the top level). */
const struct ArrowSchema *firn_ice__schema_find(const struct ArrowSchema *s, int32_t id,
						const struct ArrowSchema **parent_out);
/* Resolves a dotted column name through structs (exact, then a unique
 * case-insensitive match). NULL if none. */
const struct ArrowSchema *firn_ice__schema_find_name(const struct ArrowSchema *s,
						     const char *name);
/* The dotted name of field id `id` ("loc.lat"; list/map children as
 * "tags.element", "attrs.key"), appended to out. FIRN_ENOTFOUND. */
int firn_ice__schema_name_of(const struct ArrowSchema *s, int32_t id, struct firn_buf *out);

/* ---- specs and sort orders ---------------------------------------- */

/* Parses "day(ts), bucket(16, id), truncate(4, name), city, void(x)" against
 * a schema, assigning partition field ids from *last_partition_id + 1 and
 * default names (ts_day, id_bucket_16, name_trunc_4, city, x_null as Java
 * names them: identity → source name; year/month/day/hour → source_year...;
 * bucket → source_bucket_N; truncate → source_trunc_W). A field equal (source
 * and transform) to one in a spec of `reuse` (may be NULL) keeps that
 * field's id and name, as the spec asks. Returns a new spec
 * JSON object {"spec-id": spec_id, "fields": [...]}. FIRN_EINVAL with
 * "partition-by: ..." on unknown columns, bad transforms, or transforms that
 * do not apply to the column's type. */
int firn_ice__spec_parse(const char *text, const struct ArrowSchema *schema, int32_t spec_id,
			 const struct firn_ice_meta *reuse, int32_t *last_partition_id,
			 json_t **out, struct firn_error *err);
/* Parses "id asc nulls first, ts desc, bucket(4, x)" into a sort order JSON
 * object. Default direction asc; default null order nulls-first for asc,
 * nulls-last for desc. FIRN_EINVAL "sort-by: ...". */
int firn_ice__order_parse(const char *text, const struct ArrowSchema *schema,
			  int32_t order_id, json_t **out, struct firn_error *err);
/* The partition fields of spec resolved against schema for projection and
 * fan-out; fields whose source column is missing from the schema or whose
 * transform is unknown are returned with field_id as usual and
 * result_type.id FIRN_A_NULL (they are skipped by the caller). *out is
 * firn_malloc'd. */
int firn_ice__spec_resolve(const struct firn_ice_spec *spec, const struct ArrowSchema *schema,
			   struct firn_pfield **out, struct firn_error *err);
/* The partition struct type's Arrow schema ("+s", children named as the
 * spec's fields, ids = partition field ids, all nullable). */
int firn_ice__spec_partition_schema(const struct firn_ice_spec *spec,
				    const struct ArrowSchema *schema, struct ArrowSchema *out,
				    struct firn_error *err);

/* ---- helpers over the tree ----------------------------------------- */

/* A random positive snapshot id (Java's method) not used in m. */
int64_t firn_ice__new_snapshot_id(const struct firn_ice_meta *m);
int64_t firn_ice__now_ms(void);
/* The property value or NULL; with a default. A value that breaks its
 * key's rule (firn_ice__prop_check) reads as absent, so the caller's
 * default applies to tables other engines wrote with bad values. */
const char *firn_ice__prop(const struct firn_ice_meta *m, const char *key);
int64_t firn_ice__prop_int(const struct firn_ice_meta *m, const char *key, int64_t dflt);

/* ---- property rules (ice_props.c) ----------------------------------- */

/* Checks a value against the rule of a property firn reads (type, range,
 * codec or mode names). Unknown keys pass. FIRN_EINVAL "property K=V: ..."
 * (err may be NULL). */
int firn_ice__prop_check(const char *key, const char *value, struct firn_error *err);
/* firn_ice__prop_check over every property of m. */
int firn_ice__props_check(const struct firn_ice_meta *m, struct firn_error *err);
/* s (a name or value read from a file) as a message may show it: control
 * characters as '?', cut with "..." to fit cap (>= 8) bytes with the NUL. */
void firn_ice__printable(const char *s, char *out, size_t cap);

#endif
