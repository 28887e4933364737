/* The catalog interface, defined by the Iceberg core: a versioned struct
 * of operations that a catalog implementation fills (the SQL catalog in
 * src/catalog/ today; a REST client next), as libgit2's backends are.
 * Internal.
 *
 * Everything the core asks of a catalog passes through it: namespaces,
 * table names, and commits as the REST spec's requirements + updates
 * (ice_update.h). The core never swaps a pointer itself: a catalog checks
 * the requirements against the table's current metadata, applies the
 * updates with the metadata builder, writes the new metadata file and
 * makes it current atomically (the SQL catalog: compare-and-swap of
 * metadata_location; a multi-table commit swaps every pointer in one SQL
 * transaction). */
#ifndef FIRN_ICE_CATALOG_H
#define FIRN_ICE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "firn/catalog.h"
#include "firn/table.h"
#include "iceberg/ice_meta.h"
#include "iceberg/ice_update.h"

/* One table's part of a commit. */
struct firn_ice_commit {
	const char *ns, *name;
	const struct firn_ice_change *change;
	/* optional: the metadata the change was computed from and the file it
	 * was read from; a catalog may use it instead of reading that file
	 * again when the table still points at it */
	const struct firn_ice_meta *base;
	const char *base_location;
	/* out, on success: the new metadata and its location (the caller's) */
	struct firn_ice_meta *meta;
	char *location;
};

#define FIRN_ICE_CATALOG_OPS_VERSION 1

struct firn_ice_catalog_ops {
	int version; /* FIRN_ICE_CATALOG_OPS_VERSION */
	const char *kind; /* "sql", "rest": for messages */
	/* true when the catalog picks a new table's location (a REST server:
	 * the client sends one only when its user gave one); false when the
	 * core picks it under the warehouse, clear of every other table's */
	bool picks_locations;
	void (*free)(void *self);

	/* namespaces: as the public firn_catalog_namespace_* (catalog.h) */
	int (*namespace_create)(void *self, const char *ns, const char *const *keys,
				const char *const *values, size_t n, struct firn_error *err);
	int (*namespace_exists)(void *self, const char *ns, struct firn_error *err);
	int (*namespace_list)(void *self, const char *parent, char ***out, size_t *n,
			      struct firn_error *err);
	int (*namespace_properties)(void *self, const char *ns, char ***keys, char ***values,
				    size_t *n, struct firn_error *err);
	int (*namespace_update)(void *self, const char *ns, const char *const *set_keys,
				const char *const *set_values, size_t n_set,
				const char *const *remove_keys, size_t n_remove,
				struct firn_error *err);
	int (*namespace_drop)(void *self, const char *ns, struct firn_error *err);

	/* tables */
	int (*table_list)(void *self, const char *ns, char ***out, size_t *n,
			  struct firn_error *err);
	/* The current metadata location (*location, the caller's) and, when
	 * meta is not NULL, the metadata itself. FIRN_ENOTFOUND. */
	int (*table_load)(void *self, const char *ns, const char *name, char **location,
			  struct firn_ice_meta **meta, struct firn_error *err);
	/* Creates a table from updates applied to no metadata (assign-uuid,
	 * add-schema, ... set-location; the builder's create). staged: build
	 * and return the metadata only; the table comes into being when a
	 * commit_table with assert-create carries these updates. Out: as
	 * firn_ice_commit's (location NULL when staged). FIRN_EEXISTS,
	 * FIRN_ENOTFOUND (namespace). */
	int (*table_create)(void *self, const char *ns, const char *name, const json_t *updates,
			    bool staged, struct firn_ice_meta **meta, char **location,
			    struct firn_error *err);
	/* Records a table whose metadata file exists. FIRN_EEXISTS. */
	int (*table_register)(void *self, const char *ns, const char *name,
			      const char *metadata_location, struct firn_error *err);
	/* Forgets the table; with purge, then deletes the files its metadata
	 * references under its location (firn_ice__purge). */
	int (*table_drop)(void *self, const char *ns, const char *name, bool purge,
			  struct firn_purge_info *info, struct firn_error *err);
	int (*table_rename)(void *self, const char *ns, const char *name, const char *to_ns,
			    const char *to_name, struct firn_error *err);
	/* One table's commit. FIRN_ECONFLICT when a requirement fails or
	 * another writer won the race (retryable); FIRN_EIO when the outcome is
	 * unknown. A commit whose requirements hold assert-create creates the
	 * table (a staged create's commit). */
	int (*commit_table)(void *self, struct firn_ice_commit *c, struct firn_error *err);
	/* All of v or none: every requirement of every table is checked, then
	 * every pointer moves in one transaction. */
	int (*commit_transaction)(void *self, struct firn_ice_commit *v, size_t n,
				  struct firn_error *err);

	/* views: the catalog keeps each view's current metadata location (the
	 * core reads and writes the view metadata files, ice_view_json.c). A
	 * catalog without views leaves these NULL (FIRN_EUNSUPPORTED). A view
	 * and a table never share a name. Messages are Java's, which clients
	 * match: "View does not exist: ns.v", "View already exists: ns.v",
	 * "Table with same name already exists: ns.v", "Namespace does not
	 * exist: ns". */
	/* View names in ns (exactly that namespace), sorted. */
	int (*view_list)(void *self, const char *ns, char ***out, size_t *n,
			 struct firn_error *err);
	/* The current metadata location (*location, the caller's).
	 * FIRN_ENOTFOUND. */
	int (*view_load)(void *self, const char *ns, const char *name, char **location,
			 struct firn_error *err);
	/* Records a new view whose metadata file exists. FIRN_EEXISTS (a view
	 * or a table has the name), FIRN_ENOTFOUND (namespace). */
	int (*view_create)(void *self, const char *ns, const char *name,
			   const char *metadata_location, struct firn_error *err);
	/* The commit point: the pointer moves from expected to location, or
	 * FIRN_ECONFLICT (another writer moved it), FIRN_ENOTFOUND (dropped). */
	int (*view_swap)(void *self, const char *ns, const char *name, const char *expected,
			 const char *location, struct firn_error *err);
	/* Forgets the view (its files stay). FIRN_ENOTFOUND. */
	int (*view_drop)(void *self, const char *ns, const char *name, struct firn_error *err);
	/* FIRN_ENOTFOUND (view, or the target namespace), FIRN_EEXISTS "Cannot
	 * rename ns.a to ns.b. View already exists" (or "Table already
	 * exists"). */
	int (*view_rename)(void *self, const char *ns, const char *name, const char *to_ns,
			   const char *to_name, struct firn_error *err);
};

/* The handle behind the public struct firn_catalog. */
struct firn_catalog {
	const struct firn_ice_catalog_ops *ops;
	void *self;
	char *warehouse;
	char *name;
	bool confined; /* firn_catalog_confine */
	char **allowed; /* firn_catalog_allow_location: normalized roots */
	size_t n_allowed;
};

/* Wraps an implementation; takes self (freed with ops->free, also on
 * failure). */
int firn_ice__catalog_new(const struct firn_ice_catalog_ops *ops, void *self,
			  const char *warehouse, const char *name, struct firn_catalog **out,
			  struct firn_error *err);

/* ---- what the core gives catalog implementations (ice_commit.c) ------ */

/* Reads and parses a metadata file. A missing file is FIRN_ECORRUPT
 * "LOCATION: metadata file is missing". */
int firn_ice__meta_read(const char *location, struct firn_ice_meta **out, struct firn_error *err);

/* Writes m as the next metadata file after previous (NULL: version 0):
 * <location>/metadata/NNNNN-<uuid>.metadata.json, created only if absent
 * and made durable with its directory. *location_out is the caller's. */
int firn_ice__meta_write(const struct firn_ice_meta *m, const char *previous,
			 char **location_out, struct firn_error *err);

/* Deletes exactly the files m references under its location (the file it
 * was read from included), then the directories this leaves empty. */
int firn_ice__purge(const struct firn_ice_meta *m, const char *metadata_location,
		    struct firn_purge_info *info, struct firn_error *err);

/* The core of a commit, for an implementation that keeps pointers: checks
 * c's requirements against cur (NULL: no table), builds the new metadata
 * and writes its file. c->meta and c->location are set on success; the
 * caller makes the location current (and removes the file if it cannot). */
int firn_ice__commit_prepare(const struct firn_ice_meta *cur, const char *cur_location,
			     struct firn_ice_commit *c, struct firn_error *err);

/* Whether a change's requirements include assert-create. */
bool firn_ice__change_creates(const struct firn_ice_change *c);

/* Drops what commit_prepare made (the file and the metadata). */
void firn_ice__commit_discard(struct firn_ice_commit *c);

/* Calls of the interface, with its errors. */
int firn_ice__catalog_load(struct firn_catalog *c, const char *ns, const char *name,
			   char **location, struct firn_ice_meta **meta, struct firn_error *err);
int firn_ice__catalog_commit(struct firn_catalog *c, struct firn_ice_commit *commit,
			     struct firn_error *err);
/* All of v or none (ops->commit_transaction). */
int firn_ice__catalog_transaction(struct firn_catalog *c, struct firn_ice_commit *v, size_t n,
				  struct firn_error *err);

/* ---- the REST spec's table requests (ice_catalog_json.c) ------------ */

/* When c is confined, FIRN_EINVAL "location X is outside the warehouse"
 * unless location lies under the warehouse or under a root allowed with
 * firn_catalog_allow_location (after normalisation, links resolved; the
 * root itself is not a place for a table); 0 otherwise. */
int firn_ice__confine_check(const struct firn_catalog *c, const char *location,
			    struct firn_error *err);
/* Parses a request body: a JSON object (*out, the caller's) or
 * FIRN_EINVAL "WHAT: ...". */
int firn_ice__request_parse(const char *body, const char *what, json_t **out,
			    struct firn_error *err);
/* LoadTableResult text {"metadata-location"?, "metadata"} (location NULL:
 * without it); *out is the caller's (firn_free). */
int firn_ice__load_result(const char *location, const struct firn_ice_meta *m, char **out,
			  struct firn_error *err);

#endif
