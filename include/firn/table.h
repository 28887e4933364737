/* firn: Iceberg tables in a catalog — create, load, append, scan, time
 * travel, schema and partition evolution, refs, and the information
 * commands (describe, snapshots, history, files).
 *
 * Table identifiers are "namespace.table" (namespaces may nest: "a.b.t").
 * Every change is one atomic commit: new files are written and fsynced,
 * then the catalog's metadata pointer is swapped; on a lost race the
 * change is re-applied on the new version and retried
 * (commit.retry.num-retries, default 4). */
#ifndef FIRN_TABLE_H
#define FIRN_TABLE_H

#include "firn/export.h"

#include <stdbool.h>
#include <stdint.h>

#include "firn/arrow.h"
#include "firn/catalog.h"
#include "firn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct firn_table;

/* Loads the table's current metadata. FIRN_ENOTFOUND, FIRN_ECORRUPT (the
 * metadata file is missing or broken). *out is the caller's. */
FIRN_API int firn_table_load(struct firn_catalog *c, const char *ident, struct firn_table **out,
		    struct firn_error *err);
FIRN_API void firn_table_free(struct firn_table *t); /* NULL ok */

/* Current metadata file location and format version (borrowed). */
FIRN_API const char *firn_table_metadata_location(const struct firn_table *t);
FIRN_API int firn_table_format_version(const struct firn_table *t);

struct firn_table_create_options {
	const char *schema;       /* SPEC, required */
	const char *partition_by; /* NULL: unpartitioned */
	const char *sort_by;      /* NULL: unsorted */
	int format_version;       /* 0: 2 */
	const char *const *prop_keys;
	const char *const *prop_values;
	size_t n_props;
	const char *location;     /* NULL: <warehouse>/<ns>.db/<table> */
};

/* Creates the table (the namespace must exist; FIRN_EEXISTS). */
FIRN_API int firn_table_create(struct firn_catalog *c, const char *ident,
		      const struct firn_table_create_options *opts, struct firn_table **out,
		      struct firn_error *err);
/* Registers an existing metadata file as table ident. */
FIRN_API int firn_table_register(struct firn_catalog *c, const char *ident, const char *metadata_file,
			struct firn_error *err);
struct firn_purge_info {
	int64_t files_deleted; /* referenced files deleted */
	int64_t kept_outside;  /* referenced files outside the table's location: kept */
};

/* Drops the table from the catalog; with purge, then deletes exactly the
 * files its metadata references (metadata, manifest lists, manifests, data,
 * delete and statistics files) that lie under its location, and the
 * directories that leaves empty. Nothing else is touched. info may be NULL. */
FIRN_API int firn_table_drop(struct firn_catalog *c, const char *ident, bool purge,
		    struct firn_purge_info *info,
		    struct firn_error *err);
FIRN_API int firn_table_rename(struct firn_catalog *c, const char *from, const char *to,
		      struct firn_error *err);

/* A copy of the table's current schema: a struct whose children are the
 * top-level columns, field ids as "PARQUET:field_id" metadata, required
 * columns not nullable. *out is the caller's (release it). */
FIRN_API int firn_table_schema(struct firn_table *t, struct ArrowSchema *out, struct firn_error *err);

/* ---- appending ----------------------------------------------------- */

enum firn_input_format { FIRN_INPUT_AUTO, FIRN_INPUT_CSV, FIRN_INPUT_JSONL, FIRN_INPUT_PARQUET };

struct firn_commit_info {
	int64_t snapshot_id;
	int64_t added_records;
	int64_t added_files;
	int attempts;
};

/* How input files become the table's values (append, overwrite, merge);
 * NULL: the defaults (all false). */
struct firn_append_options {
	/* nanosecond input into a microsecond column (timestamp, timestamptz):
	 * drop nonzero sub-microsecond digits instead of failing */
	bool truncate_timestamps;
};

/* ---- writing Arrow streams -------------------------------------------
 *
 * The stream's columns match the table's top-level columns by name; a
 * value is converted to the column's type as a file's would be (int64
 * into int with range checks, strings into dates and timestamps, ...). A
 * table column the stream's schema lacks is absent: append and overwrite
 * write NULL there (a required one is FIRN_EINVAL); merge keeps the
 * matched rows' values and writes NULL for inserted rows. A stream column
 * the table lacks is FIRN_EINVAL. The call consumes the stream (reads it
 * to its end or error) and releases it, also on failure. */

struct firn_delete_info;

/* Appends the stream's rows as one "append" snapshot (no rows: no
 * snapshot). */
FIRN_API int firn_table_append_stream(struct firn_table *t, struct ArrowArrayStream *in,
			     const struct firn_append_options *opts, struct firn_commit_info *info,
			     struct firn_error *err);
/* Replaces the rows matching where (NULL: all rows) with the stream's
 * rows, as one "overwrite" snapshot; rows of the stream outside where are
 * FIRN_EINVAL. */
FIRN_API int firn_table_overwrite_stream(struct firn_table *t, struct ArrowArrayStream *in,
				const struct firn_append_options *opts, const char *where,
				struct firn_delete_info *info, struct firn_error *err);
/* Upsert: rows of the table whose key tuple (keys: "a,b") appears in the
 * stream are replaced by the stream's rows; the other rows are inserted.
 * Duplicate keys in the stream and unknown key columns are FIRN_EINVAL.
 * write.merge.mode / mode pick the delete mode. */
FIRN_API int firn_table_merge_stream(struct firn_table *t, struct ArrowArrayStream *in,
			    const struct firn_append_options *opts, const char *keys,
			    const char *mode, struct firn_delete_info *info,
			    struct firn_error *err);

/* ---- reading ------------------------------------------------------- */

/* Which snapshot to read: the current one by default, or one of these. */
struct firn_snapshot_sel {
	bool has_snapshot_id;
	int64_t snapshot_id;
	const char *as_of; /* ISO-8601 (UTC unless an offset) or epoch millis */
	const char *ref;   /* branch or tag */
};

struct firn_scan_options {
	const char *columns; /* "a,b,loc.lat"; NULL: all (top-level names) */
	const char *where;   /* NULL: all rows */
	int64_t limit;       /* < 0: no limit */
	struct firn_snapshot_sel sel;
};

/* Plans and starts a scan. *schema_out gets the output schema (the
 * snapshot's schema, projected), *out a stream of struct batches; both the
 * caller's. The stream borrows t. */
FIRN_API int firn_table_scan(struct firn_table *t, const struct firn_scan_options *opts,
		    struct ArrowSchema *schema_out, struct ArrowArrayStream *out,
		    struct firn_error *err);
/* Counts the rows matching where (NULL: all), from metadata when the
 * metrics decide every file, reading only the files they cannot. */
FIRN_API int firn_table_count(struct firn_table *t, const char *where,
		     const struct firn_snapshot_sel *sel, int64_t *count, struct firn_error *err);

/* ---- row-level changes --------------------------------------------- */

struct firn_delete_info {
	int64_t snapshot_id;     /* 0: nothing matched, no snapshot */
	int64_t rows;            /* rows deleted */
	int64_t files_removed;   /* data files all of whose rows went */
	int64_t files_rewritten; /* copy-on-write */
	int64_t delete_files;    /* merge-on-read: data files given a delete file / DV */
};

/* Deletes the rows matching where, as one snapshot. mode: NULL or "auto"
 * (the impact-ratio rule: per data file, copy-on-write when the share of its
 * rows this delete removes is at least firn.write.cow-threshold, default
 * 0.5; merge-on-read below; write.delete.mode forces one when mode is
 * NULL), "merge-on-read" or "copy-on-write". Merge-on-read writes position
 * delete files in format v2 and deletion vectors in v3. Nothing matching
 * is a no-op (no snapshot). */
FIRN_API int firn_table_delete(struct firn_table *t, const char *where, const char *mode,
		      struct firn_delete_info *info, struct firn_error *err);

/* Sets columns of the rows matching where: set is "col = expr, ..." (a
 * literal, NULL, a column, or + - * / on them). Per data file the impact
 * rule picks copy-on-write (rewrite with the new values) or merge-on-read
 * (deletes for the old rows, the new rows in new data files);
 * write.update.mode forces one. One "overwrite" snapshot. info->rows is
 * the number of rows updated. */
FIRN_API int firn_table_update(struct firn_table *t, const char *set, const char *where, const char *mode,
		      struct firn_delete_info *info, struct firn_error *err);

/* Compaction: rewrites the data files that have deletes, and the small
 * files (under 3/4 of the target size) of partitions holding two or more,
 * into files of target_file_size (<= 0: write.target-file-size-bytes),
 * deletes applied and dropped. where (NULL: all) limits it to files that
 * may hold matching rows. A "replace" snapshot; concurrent appends are
 * kept, any other concurrent change makes it plan again. info->
 * files_rewritten counts the input files. */
FIRN_API int firn_table_compact(struct firn_table *t, const char *where, int64_t target_file_size,
		       struct firn_delete_info *info, struct firn_error *err);

struct firn_expire_info {
	int64_t snapshots_expired;
	int64_t files_deleted;
	/* optional: called with each file deleted (or, dry run, that would be) */
	void (*report)(void *arg, const char *path);
	void *report_arg;
};

/* Expires snapshots: every ref keeps its snapshot (refs older than their
 * max-ref-age-ms go, main never); each branch keeps its ancestors while
 * they are among the newest min-snapshots-to-keep (--retain-last N) or
 * younger than max-snapshot-age-ms (--older-than TIME); the rest go, with
 * the files only they referenced (deleted after the commit). Table
 * defaults: history.expire.min-snapshots-to-keep (1),
 * history.expire.max-snapshot-age-ms (5 days), history.expire.max-ref-age-ms.
 * dry_run: nothing is committed or deleted; info says what would be. */
FIRN_API int firn_table_expire(struct firn_table *t, const char *older_than, int64_t retain_last,
		      bool dry_run, struct firn_expire_info *info, struct firn_error *err);

struct firn_orphan_info {
	bool force;           /* in: allow a cutoff within the last 24 hours */
	int64_t files, bytes; /* removed (dry run: would be) */
	int64_t too_young;    /* unreferenced but inside the safety window: kept */
	void (*report)(void *arg, const char *path);
	void *report_arg;
};

/* Deletes files under the table location that no metadata references
 * (metadata files current and logged, statistics files, manifest lists,
 * manifests, live data and delete files of every snapshot) and that are
 * older than older_than (default: 3 days ago), the window that protects
 * commits in flight; a cutoff within the last 24 hours is refused
 * (FIRN_EINVAL) unless info->force. Locations of other tables of the
 * catalog inside this one, and the catalog's own files, are never entered. */
FIRN_API int firn_table_remove_orphans(struct firn_table *t, const char *older_than, bool dry_run,
			      struct firn_orphan_info *info, struct firn_error *err);

/* Regroups the current snapshot's data manifests by partition (sorted by
 * spec and partition values, 10,000 entries a manifest); delete manifests
 * are kept. A "replace" snapshot. */
FIRN_API int firn_table_rewrite_manifests(struct firn_table *t, int64_t *manifests_before,
				 int64_t *manifests_after, struct firn_error *err);

/* ---- information (JSON text, firn_malloc'd, the caller frees) ------- */

FIRN_API int firn_table_describe_json(struct firn_table *t, char **out, struct firn_error *err);
FIRN_API int firn_table_snapshots_json(struct firn_table *t, char **out, struct firn_error *err);
FIRN_API int firn_table_history_json(struct firn_table *t, char **out, struct firn_error *err);
FIRN_API int firn_table_files_json(struct firn_table *t, const struct firn_snapshot_sel *sel,
			  char **out, struct firn_error *err);

/* ---- refs and rollback ---------------------------------------------- */

/* Creates or moves a tag or a branch to snapshot_id (< 0: current). */
FIRN_API int firn_table_set_ref(struct firn_table *t, const char *name, bool tag, int64_t snapshot_id,
		       struct firn_error *err);
/* Makes snapshot_id (an ancestor of the current one) current again. */
FIRN_API int firn_table_rollback(struct firn_table *t, int64_t snapshot_id, struct firn_error *err);

/* ---- alter ---------------------------------------------------------- */

/* One schema/spec/property change:
 *   "add-column"     a = "name type [not null]" (dotted name adds into a struct)
 *   "drop-column"    a = name
 *   "rename-column"  a = name, b = new name (last component)
 *   "alter-column"   a = name, b = new type ("long", "double", "decimal(12,2)")
 *                    or "optional" (drop not null)
 *   "set-property"   a = key, b = value
 *   "unset-property" a = key
 *   "partition-by"   a = partition spec text ("" unpartitioned)
 *   "sort-by"        a = sort order text ("" unsorted)
 * Changes the spec forbids are FIRN_EINVAL with the reason. */
FIRN_API int firn_table_alter(struct firn_table *t, const char *what, const char *a, const char *b,
		     struct firn_error *err);

#ifdef __cplusplus
}
#endif
#endif
