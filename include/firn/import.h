/* firn: tables of other formats (Delta Lake, DuckLake) brought in as
 * Iceberg tables, metadata only.
 *
 * An importer (Delta: src/iceberg/import_delta.c; DuckLake:
 * src/catalog/ducklake.c) reads the other format's log or catalog and
 * describes its history as a plan: the schema, the partition spec, and per
 * source version the data files added and removed and the rows deleted.
 * firn_table_import turns a plan into an ordinary Iceberg table whose
 * snapshots reference the source's Parquet files where they are: no data
 * file is copied, rewritten or moved. Files outside the table's location
 * are never deleted by firn (expire, remove-orphans and compaction keep
 * them), since the source table still owns them. */
#ifndef FIRN_IMPORT_H
#define FIRN_IMPORT_H

#include "firn/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firn/catalog.h"
#include "firn/error.h"
#include "firn/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A data file of the source, adopted as it is. */
struct firn_import_file {
	const char *location; /* absolute: a path or a URI the file IO takes */
	int64_t size;         /* bytes; -1: ask the file IO */
	int64_t records;      /* rows; -1: from the Parquet footer */
	/* The partition tuple: one value per field of the plan's partition
	 * spec, as text in the form Iceberg's partition paths print the
	 * field's result type (identity of a date "2021-03-01", of an int
	 * "42", of a string "abc"; month "2021-03"), NULL for a null value.
	 * NULL when the spec is unpartitioned. */
	const char *const *partition;
};

/* Rows of one data file deleted as of a version: all of them, replacing
 * whatever an earlier version said for that file (DuckLake's delete files
 * are cumulative). firn writes them as Iceberg position deletes under the
 * table's own location. */
struct firn_import_deletes {
	const char *data_file;   /* a location added by this or an earlier version */
	const int64_t *positions; /* ascending row positions, 0-based */
	size_t n;
};

/* One version of the source: one Iceberg snapshot (append when it only
 * adds, delete when it only removes or deletes rows, overwrite when
 * mixed). A version that changes no file makes no snapshot; its schema
 * change still applies and its tag points at the snapshot before it. */
struct firn_import_version {
	int64_t id;           /* the source's version (Delta) / snapshot id (DuckLake) */
	int64_t timestamp_ms; /* when the source committed it */
	/* The Iceberg schema as JSON text (with field ids) when it differs
	 * from the previous version's, NULL when unchanged; the first version
	 * of a plan for a new table must give one. A column keeps its field
	 * id across versions. */
	const char *schema;
	const struct firn_import_file *added;
	size_t n_added;
	const char *const *removed; /* locations added by earlier versions */
	size_t n_removed;
	const struct firn_import_deletes *deletes;
	size_t n_deletes;
	const char *tag; /* a tag for this version's snapshot ("delta-version-3"), NULL: none */
};

struct firn_import_plan {
	const char *format; /* "delta", "ducklake" */
	const char *source; /* the source table: a location, or "CATALOG_URI NAME" */
	/* The Iceberg partition spec JSON ({"spec-id": 0, "fields": [...]})
	 * over the first schema's field ids; NULL: unpartitioned. */
	const char *partition_spec;
	const struct firn_import_version *versions;
	size_t n_versions;
};

/* What an import did. */
struct firn_import_info {
	int64_t versions;  /* versions of the plan applied */
	int64_t snapshots; /* snapshots committed */
	int64_t files;     /* data files adopted */
	int64_t last_version; /* the source version the table now reflects */
};

/* Creates table ident (FIRN_EEXISTS when it exists) at its default
 * location and applies every version of the plan, committing as it goes.
 * The table gets the properties firn.import.format, firn.import.source,
 * firn.import.version (the last version applied) and
 * schema.name-mapping.default (every column by name: the source's files
 * carry no Iceberg field ids). On failure no table is left behind. */
FIRN_API int firn_table_import(struct firn_catalog *c, const char *ident,
			       const struct firn_import_plan *plan, struct firn_import_info *info,
			       struct firn_error *err);

/* Applies the plan's versions to t, a table imported earlier from the same
 * format and source (FIRN_EINVAL otherwise); versions at or below
 * firn.import.version are skipped. */
FIRN_API int firn_table_import_more(struct firn_table *t, const struct firn_import_plan *plan,
				    struct firn_import_info *info, struct firn_error *err);

/* The source version t was last brought up to (firn.import.version) when
 * it was imported from format; FIRN_ENOTFOUND otherwise. */
FIRN_API int firn_table_imported_version(const struct firn_table *t, const char *format,
					 int64_t *version, struct firn_error *err);

/* ---- the importers ---------------------------------------------------- */

/* firn import delta: reads the Delta table at location (its _delta_log)
 * from version after_version + 1 on (-1: all) and imports it into ident
 * (incremental: into the existing table, after its firn.import.version).
 * Features that cannot be carried over faithfully (deletion vectors,
 * column mapping, generated columns, ...) are FIRN_EUNSUPPORTED naming the
 * feature; nothing is created then. */
FIRN_API int firn_import_delta(struct firn_catalog *c, const char *location, const char *ident,
			       bool incremental, struct firn_import_info *info,
			       struct firn_error *err);

/* firn import ducklake: reads table name ("schema.table", or "table" in
 * schema main) of the DuckLake catalog at catalog_uri (a SQLite file, or
 * postgresql://...) and imports it into ident, likewise. Inlined rows not
 * yet flushed to files and types Iceberg lacks are FIRN_EUNSUPPORTED. */
FIRN_API int firn_import_ducklake(struct firn_catalog *c, const char *catalog_uri,
				  const char *name, const char *ident, bool incremental,
				  struct firn_import_info *info, struct firn_error *err);

#ifdef __cplusplus
}
#endif

#endif
