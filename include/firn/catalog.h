/* firn: the catalog: where each table's current metadata file is recorded.
 *
 * The SQL catalog keeps PyIceberg's SqlCatalog / Java's JdbcCatalog tables
 * (iceberg_tables, iceberg_namespace_properties) in SQLite (the embedded
 * default, <warehouse>/catalog.db) or PostgreSQL, so those clients open a
 * firn warehouse unchanged. A commit is the REST spec's requirements +
 * updates: the catalog checks them against the current metadata, writes
 * the new metadata file and swaps metadata_location (compare-and-swap).
 *
 * Namespaces are dotted strings ("a" or "a.b"); table names are plain. */
#ifndef FIRN_CATALOG_H
#define FIRN_CATALOG_H

#include "firn/export.h"

#include <stdbool.h>
#include <stddef.h>

#include "firn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct firn_catalog;

/* How a catalog is opened. */
enum firn_catalog_mode {
	/* read and write; a missing SQLite warehouse directory and database
	 * are created (what creating a namespace or a table needs) */
	FIRN_CATALOG_CREATE = 0,
	/* read and write an existing catalog: a missing SQLite database is
	 * FIRN_ENOTFOUND "no catalog at PATH", and nothing is created */
	FIRN_CATALOG_WRITE = 1,
	/* read only: as WRITE, and nothing is ever written (no DDL, no
	 * journal mode change; SQLite's query_only, or a read-only open where
	 * the file cannot be written). An SQLite database in a directory where
	 * its -shm file cannot be made (a read-only directory or file system)
	 * is read as an immutable file when it has no write-ahead log to
	 * apply. */
	FIRN_CATALOG_READ = 2,
};

struct firn_catalog_options {
	int version;                  /* FIRN_CATALOG_OPTIONS_VERSION */
	enum firn_catalog_mode mode;
	int lock_timeout_ms;          /* how long to wait for a locked SQLite database */
	/* version 2: a REST catalog's bearer token, or the "ID:SECRET" of an
	 * OAuth2 client-credentials grant at its /v1/oauth/tokens (the token
	 * wins when both are given); NULL for none */
	const char *token;
	const char *credential;
};
#define FIRN_CATALOG_OPTIONS_VERSION 2
#define FIRN_CATALOG_OPTIONS_INIT { FIRN_CATALOG_OPTIONS_VERSION, FIRN_CATALOG_CREATE, 60000, NULL, NULL }

/* Opens a catalog.
 *   uri NULL or "": SQLite at <warehouse>/catalog.db
 *   "sqlite:///abs/path.db" or "sqlite://rel/path.db": that SQLite file
 *   "postgresql://user@host:port/db?..." (or "postgres://"): libpq
 *   "http://host:port[/path]" (or "https://"): an Iceberg REST catalog
 *     (its GET /v1/config first; opts' token or credential authenticate)
 * name is the catalog_name column value (NULL → "default"; "" is
 * FIRN_EINVAL): one SQL database may hold several catalogs, and the handle
 * sees only its own namespaces and tables, as PyIceberg's SqlCatalog(name)
 * and JdbcCatalog do (for REST it is only a label); opts NULL is
 * FIRN_CATALOG_OPTIONS_INIT. Except in FIRN_CATALOG_READ mode, the catalog
 * tables are created when missing (IF NOT EXISTS, PyIceberg's DDL, with
 * the iceberg_type column).
 * Errors say what failed and where: FIRN_ENOTFOUND "no catalog at PATH";
 * FIRN_EINVAL "PATH: not an Iceberg SQL catalog (...)" only for a file that
 * is not an SQLite database, or a database without (or with other columns
 * in) the catalog tables; FIRN_ECORRUPT for a damaged SQLite file; FIRN_EIO
 * "PATH: permission denied", "read-only file system", "disk full",
 * "database is locked ...". The handle is the caller's; free with
 * firn_catalog_free. */
FIRN_API int firn_catalog_open_with(struct firn_catalog **out, const char *uri, const char *warehouse,
			   const char *name, const struct firn_catalog_options *opts,
			   struct firn_error *err);
/* firn_catalog_open_with(..., NULL, err): FIRN_CATALOG_CREATE. */
FIRN_API int firn_catalog_open(struct firn_catalog **out, const char *uri, const char *warehouse,
		      const char *name, struct firn_error *err);
FIRN_API void firn_catalog_free(struct firn_catalog *c); /* NULL ok */

/* The warehouse directory given at open (borrowed). */
FIRN_API const char *firn_catalog_warehouse(const struct firn_catalog *c);
/* The catalog name (borrowed). */
FIRN_API const char *firn_catalog_name(const struct firn_catalog *c);

/* ---- namespaces ---------------------------------------------------- */

/* Creates ns with properties (n pairs; n may be 0, then the row
 * ("exists","true") is inserted as PyIceberg does). FIRN_EEXISTS if it
 * exists. */
FIRN_API int firn_catalog_namespace_create(struct firn_catalog *c, const char *ns,
				  const char *const *keys, const char *const *values, size_t n,
				  struct firn_error *err);
/* 1 if ns exists (a property row or a table in it or below it), 0 if not,
 * <0 on error. */
FIRN_API int firn_catalog_namespace_exists(struct firn_catalog *c, const char *ns,
				  struct firn_error *err);
/* Lists namespaces: with parent NULL, the top-level ones (first components
 * of every namespace known from either table); else the direct children of
 * parent ("a.b" under "a"). *out is a firn_malloc'd array of firn_malloc'd
 * strings, sorted; free with firn_catalog_strings_free. */
FIRN_API int firn_catalog_namespace_list(struct firn_catalog *c, const char *parent, char ***out,
				size_t *n, struct firn_error *err);
/* Properties of ns (without the "exists" marker). FIRN_ENOTFOUND. Arrays as
 * above, sorted by key. */
FIRN_API int firn_catalog_namespace_properties(struct firn_catalog *c, const char *ns, char ***keys,
				      char ***values, size_t *n, struct firn_error *err);
/* Sets (upserts) and removes properties. FIRN_ENOTFOUND if ns is unknown. */
FIRN_API int firn_catalog_namespace_update(struct firn_catalog *c, const char *ns,
				  const char *const *set_keys, const char *const *set_values,
				  size_t n_set, const char *const *remove_keys, size_t n_remove,
				  struct firn_error *err);
/* Drops ns: FIRN_ENOTFOUND if unknown, FIRN_EINVAL "namespace X is not
 * empty" if it has tables (or child namespaces). */
FIRN_API int firn_catalog_namespace_drop(struct firn_catalog *c, const char *ns, struct firn_error *err);

/* ---- tables -------------------------------------------------------- */

/* The table's current metadata location (firn_malloc'd, caller frees).
 * FIRN_ENOTFOUND "table ns.t does not exist". Views (iceberg_type 'VIEW')
 * are not tables. */
FIRN_API int firn_catalog_table_load(struct firn_catalog *c, const char *ns, const char *name,
			    char **metadata_location, struct firn_error *err);
/* Tables are created, dropped, renamed, registered and committed through
 * the table API (table.h): each goes through the catalog interface
 * (commits as requirements + updates), never by editing a pointer. */
/* Table names in ns (exactly that namespace), sorted. */
FIRN_API int firn_catalog_table_list(struct firn_catalog *c, const char *ns, char ***out, size_t *n,
			    struct firn_error *err);

FIRN_API void firn_catalog_strings_free(char **v, size_t n);

/* ---- the REST spec's table requests, as JSON text -------------------
 * What an Iceberg REST catalog server does with a request body, done
 * against this catalog (`firn serve` is these calls behind HTTP; the
 * Python module may use them too). Bodies and results are the JSON of
 * the REST spec (rest-catalog-open-api 1.11); a result is firn_malloc'd
 * NUL-terminated text, the caller's (firn_free). Errors, with the HTTP
 * status a server answers:
 *   FIRN_EINVAL       400 malformed JSON, an unknown or invalid update or
 *                     requirement, a bad value, a location not allowed
 *   FIRN_EUNSUPPORTED 400 valid, but not something firn does
 *   FIRN_ENOTFOUND    404 no such namespace or table (the message says
 *                     which: it starts "namespace " or "table ")
 *   FIRN_EEXISTS      409 the table already exists
 *   FIRN_ECONFLICT    409 CommitFailedException: a requirement does not
 *                     hold against the table's current metadata
 *   FIRN_EIO, others  500 (the outcome of a commit is then unknown)
 */

/* Confines what clients can name to the warehouse: a table location (a
 * create's, a set-location's) and a registered metadata file must be
 * under the warehouse directory after normalisation (FIRN_EINVAL
 * otherwise). Off by default (the command line may put a table where its
 * user says); `firn serve` turns it on. */
FIRN_API void firn_catalog_confine(struct firn_catalog *c, bool on);
/* Allows a confined catalog locations under prefix too, besides the
 * warehouse (an operator's choice, as `firn serve --allow-location`): a
 * local directory ("/data/lake", "file:/data/lake") or an object store
 * prefix ("s3://bucket/lake"), normalized as every location is; links are
 * resolved when a location is checked. Tables still may not share or nest
 * locations. FIRN_EINVAL for a relative path or a root ("/"), FIRN_ENOMEM. */
FIRN_API int firn_catalog_allow_location(struct firn_catalog *c, const char *prefix,
					 struct firn_error *err);

/* LoadTableResult {"metadata-location", "metadata"} for the table's current
 * metadata (its file's text parsed and checked, written back as JSON). The
 * location also comes back in *metadata_location (optional; for an ETag). */
FIRN_API int firn_catalog_table_load_json(struct firn_catalog *c, const char *ns, const char *name,
					  char **metadata_location, char **result,
					  struct firn_error *err);

/* CreateTableRequest {"name", "location"?, "schema", "partition-spec"?,
 * "write-order"?, "stage-create"?, "properties"?} → LoadTableResult. Field
 * ids, spec and order ids are assigned fresh, as Java's server does (the
 * schema's own ids are not trusted); "format-version" among the properties
 * picks the format version (default 2) and is not kept as a property. The
 * location defaults to the warehouse's place for ns.name. With
 * "stage-create": true nothing is recorded: the result has the metadata
 * a later commit with assert-create will create, and no metadata-location.
 * FIRN_EEXISTS, FIRN_ENOTFOUND (namespace). */
FIRN_API int firn_catalog_table_create_json(struct firn_catalog *c, const char *ns, const char *body,
					    char **result, struct firn_error *err);

/* CommitTableRequest {"identifier"?, "requirements", "updates"} →
 * CommitTableResponse {"metadata-location", "metadata"}. The requirements
 * are checked against the table's current metadata and the updates applied
 * with the metadata builder; when another writer moved the table between
 * the check and the swap the commit is tried again (bounded) while the
 * requirements still hold — the spec's server-side retry. A commit whose
 * requirements include assert-create creates the table (a staged create's
 * commit; FIRN_ECONFLICT if it exists). */
FIRN_API int firn_catalog_table_commit_json(struct firn_catalog *c, const char *ns, const char *name,
					    const char *body, char **result, struct firn_error *err);

/* CommitTransactionRequest {"table-changes": [CommitTableRequest with
 * "identifier": {"namespace": [...], "name"}, ...]}: every table's
 * requirements are checked and every pointer moves in one transaction,
 * or nothing changes. */
FIRN_API int firn_catalog_transaction_json(struct firn_catalog *c, const char *body,
					   struct firn_error *err);

/* ---- views ----------------------------------------------------------
 * Iceberg views (the view spec, format version 1): the catalog keeps each
 * view's current metadata file (the SQL catalog: an iceberg_tables row of
 * iceberg_type 'VIEW', as Java's JdbcCatalog); every change writes a new
 * <location>/metadata/NNNNN-<uuid>.metadata.json (or under the view's
 * write.metadata.path) and swaps the pointer. A view and a table never
 * share a name. Bodies and results are the REST spec's JSON, errors map
 * to HTTP statuses as for tables; the messages are Java's, which REST
 * clients match: "View does not exist: ns.v" and "Namespace does not
 * exist: ns" (FIRN_ENOTFOUND), "View already exists: ns.v" and "Table
 * with same name already exists: ns.v" (FIRN_EEXISTS). A catalog without
 * views (a REST client) answers FIRN_EUNSUPPORTED. */

/* View names in ns (exactly that namespace), sorted; free with
 * firn_catalog_strings_free. FIRN_ENOTFOUND when ns does not exist. */
FIRN_API int firn_catalog_view_list(struct firn_catalog *c, const char *ns, char ***out, size_t *n,
				    struct firn_error *err);

/* LoadViewResult {"metadata-location", "metadata"} for the view's current
 * metadata (its file read and checked). The location also comes back in
 * *metadata_location (optional; for an ETag or an existence check). */
FIRN_API int firn_catalog_view_load_json(struct firn_catalog *c, const char *ns, const char *name,
					 char **metadata_location, char **result,
					 struct firn_error *err);

/* CreateViewRequest {"name", "location"?, "schema", "view-version",
 * "properties"} → LoadViewResult. The schema gets id 0 and the version id
 * 1 (its schema-id is the schema's); its SQL representations may hold
 * each dialect once (case-insensitively). The location defaults to the
 * warehouse's place for ns.name. */
FIRN_API int firn_catalog_view_create_json(struct firn_catalog *c, const char *ns, const char *body,
					   char **result, struct firn_error *err);

/* CommitViewRequest {"identifier"?, "requirements"?, "updates"} →
 * LoadViewResult. The requirements (assert-view-uuid) are checked against
 * the current metadata and the updates applied with the view builder
 * (add-schema, add-view-version, set-current-view-version, set-location,
 * set-properties, remove-properties, assign-uuid, upgrade-format-version);
 * when another writer moved the view meanwhile, the commit is tried again
 * on the new metadata while the requirements hold. A commit that changes
 * nothing writes nothing. FIRN_ECONFLICT when a requirement fails. */
FIRN_API int firn_catalog_view_commit_json(struct firn_catalog *c, const char *ns, const char *name,
					   const char *body, char **result, struct firn_error *err);

/* Forgets the view; its metadata files stay. FIRN_ENOTFOUND. */
FIRN_API int firn_catalog_view_drop(struct firn_catalog *c, const char *ns, const char *name,
				    struct firn_error *err);

/* Renames a view (to another namespace too). FIRN_ENOTFOUND (the view, or
 * the target namespace), FIRN_EEXISTS "Cannot rename ns.a to ns.b. View
 * already exists" (or "Table already exists"). */
FIRN_API int firn_catalog_view_rename(struct firn_catalog *c, const char *ns, const char *name,
				      const char *to_ns, const char *to_name, struct firn_error *err);

/* RegisterViewRequest {"name", "metadata-location"} → LoadViewResult: a
 * view whose metadata file exists (read and checked first; confined to
 * the warehouse like a table's). FIRN_EEXISTS, FIRN_ENOTFOUND. */
FIRN_API int firn_catalog_view_register_json(struct firn_catalog *c, const char *ns,
					     const char *body, char **result,
					     struct firn_error *err);

#ifdef __cplusplus
}
#endif
#endif
