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

/* Option structs carry a version first; fill them from their _INIT macro
 * (a zeroed struct, version 0, is read as version 1 with its zeros). */
#define FIRN_TABLE_CREATE_OPTIONS_VERSION 1
struct firn_table_create_options {
	int version;              /* FIRN_TABLE_CREATE_OPTIONS_VERSION */
	const char *schema;       /* SPEC, required */
	const char *partition_by; /* NULL: unpartitioned */
	const char *sort_by;      /* NULL: unsorted */
	int format_version;       /* 0: 2 */
	const char *const *prop_keys;
	const char *const *prop_values;
	size_t n_props;
	const char *location;     /* NULL: <warehouse>/<ns>.db/<table> */
};
#define FIRN_TABLE_CREATE_OPTIONS_INIT { FIRN_TABLE_CREATE_OPTIONS_VERSION }

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

/* ---- progress -------------------------------------------------------
 *
 * Long work on a table handle reports how far it got: compaction and the
 * copy-on-write rewrites of delete, update and merge (stage "rewrite",
 * after each data file rewritten), and expire (stage "expire", as the
 * files of the expired snapshots are deleted). A total is -1 when it is
 * not known; a count that does not apply stays 0. The callback runs on
 * the calling thread, from inside the call it reports on; it must not
 * call back into t. */
struct firn_progress {
	const char *stage;          /* "rewrite", "expire"; static */
	int64_t files, files_total; /* done, and of how many */
	int64_t rows, rows_total;
	int64_t bytes, bytes_total; /* bytes of the files read or deleted */
};
typedef void (*firn_progress_fn)(void *arg, const struct firn_progress *p);

/* Sets (fn NULL: clears) the progress callback of t's calls. */
FIRN_API void firn_table_set_progress(struct firn_table *t, firn_progress_fn fn, void *arg);

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
#define FIRN_APPEND_OPTIONS_VERSION 1
struct firn_append_options {
	int version; /* FIRN_APPEND_OPTIONS_VERSION */
	/* nanosecond input into a microsecond column (timestamp, timestamptz):
	 * drop nonzero sub-microsecond digits instead of failing */
	bool truncate_timestamps;
};
#define FIRN_APPEND_OPTIONS_INIT { FIRN_APPEND_OPTIONS_VERSION, false }

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
/* A distributed append, in two steps: workers stage, one process commits.
 * firn_table_stage_append writes the stream's rows as data files of the
 * table (its current schema and default spec) and one manifest of them,
 * and commits nothing: *staged (firn_free) is the manifest's location, in
 * the table's metadata folder; info counts the files and rows (no
 * snapshot). firn_table_append_staged then commits the staged manifests
 * of any processes as one "append" snapshot and removes them: FIRN_EINVAL
 * for a location that is not a manifest staged for this table,
 * FIRN_ECONFLICT when the schema or partition spec changed since. What is
 * staged and never committed is orphaned: remove-orphans clears it. */
FIRN_API int firn_table_stage_append(struct firn_table *t, struct ArrowArrayStream *in,
				     const struct firn_append_options *opts, char **staged,
				     struct firn_commit_info *info, struct firn_error *err);
FIRN_API int firn_table_append_staged(struct firn_table *t, const char *const *staged, size_t n,
				      struct firn_commit_info *info, struct firn_error *err);
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

#define FIRN_SCAN_OPTIONS_VERSION 2
struct firn_scan_options {
	int version;         /* FIRN_SCAN_OPTIONS_VERSION */
	const char *columns; /* "a,b,loc.lat"; NULL: all (top-level names) */
	const char *where;   /* NULL: all rows */
	int64_t limit;       /* < 0: no limit */
	struct firn_snapshot_sel sel;
	/* version 2: with n_files > 0, only these data files of the plan are
	 * read (locations as firn_table_plan gives them), each with its
	 * deletes: one file task of a plan, read on its own. A location the
	 * plan does not hold (pruned by where, or not in the snapshot) reads
	 * no rows. */
	const char *const *files;
	size_t n_files;
};
#define FIRN_SCAN_OPTIONS_INIT                                                                     \
	{ FIRN_SCAN_OPTIONS_VERSION, NULL, NULL, -1, { false, 0, NULL, NULL }, NULL, 0 }

/* Plans and starts a scan. *schema_out gets the output schema (the
 * snapshot's schema, projected), *out a stream of struct batches; both the
 * caller's. The stream borrows t. */
FIRN_API int firn_table_scan(struct firn_table *t, const struct firn_scan_options *opts,
		    struct ArrowSchema *schema_out, struct ArrowArrayStream *out,
		    struct firn_error *err);
/* The scan as file tasks: the live data files of the selected snapshot
 * that the filter where (NULL: all) may match, pruned by partition values
 * and column metrics as a scan prunes them; deleted_records counts the
 * rows the task's deletes remove (-1: equality deletes apply). Read one
 * task with firn_table_scan, files = { task.path } and the snapshot id
 * *snapshot_id (the one sel chose; -1 when the table has none, and then
 * no tasks). *out (n entries) is the caller's, freed with
 * firn_file_info_free. */
struct firn_file_info;
FIRN_API int firn_table_plan(struct firn_table *t, const char *where,
			     const struct firn_snapshot_sel *sel, int64_t *snapshot_id,
			     struct firn_file_info **out, size_t *n, struct firn_error *err);
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
	/* merge: rows replaced by an input row of the same key (rows above), and
	 * input rows whose key matched none, inserted; other calls leave 0 */
	int64_t rows_updated, rows_inserted;
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
	/* why the rest stayed (out; each kept snapshot counted once, in this
	 * order): a branch or tag points to it; it is younger than main's
	 * cutoff; it is among the newest min_keep of a branch (or, rarely,
	 * young enough for another branch's own retention) */
	int64_t snapshots_kept, kept_by_ref, kept_by_age, kept_by_count;
	int64_t cutoff_ms;      /* main's cutoff: snapshots from it on are kept */
	int64_t max_age_ms;     /* main's max-snapshot-age-ms; -1 with older_than */
	int64_t min_keep;       /* main's min-snapshots-to-keep in effect */
	bool age_given, count_given; /* from older_than / retain_last, not the table */
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
	int64_t uploads;      /* writes begun and never completed, discarded (S3:
			       * multipart uploads aborted; reported as their
			       * location); too young ones count in too_young */
};

/* Deletes files under the table location that no metadata references
 * (metadata files current and logged, statistics files, manifest lists,
 * manifests, live data and delete files of every snapshot) and that are
 * older than older_than (default: 3 days ago), the window that protects
 * commits in flight; a cutoff within the last 24 hours is refused
 * (FIRN_EINVAL) unless info->force. Locations of other tables of the
 * catalog inside this one, and the catalog's own files, are never entered.
 * Pending writes the store keeps under the location (S3's incomplete
 * multipart uploads), begun before the cutoff, are discarded as well. */
FIRN_API int firn_table_remove_orphans(struct firn_table *t, const char *older_than, bool dry_run,
			      struct firn_orphan_info *info, struct firn_error *err);

/* The nightly job (DESIGN §5), one step after the other: compaction by
 * the delete policy and bin-packing, expiry, orphan removal. Each field
 * left at its FIRN_MAINTAIN_OPTIONS_INIT value takes the table's setting. */
#define FIRN_MAINTAIN_OPTIONS_VERSION 2
struct firn_maintain_options {
	int version; /* FIRN_MAINTAIN_OPTIONS_VERSION; 0 is taken as 1 */
	/* a data file is compacted when the share of its rows that deletes
	 * removed exceeds delete_ratio (< 0: firn.compact.delete-ratio,
	 * default 0.1), or when more than max_delete_files delete files apply
	 * to it (< 0: firn.compact.max-delete-files, default no limit); files
	 * under equality deletes always qualify (their share is unknown) */
	double delete_ratio;
	int64_t max_delete_files;
	/* small files (under 3/4 of it) of a partition holding two or more
	 * are bin-packed to this size (<= 0: write.target-file-size-bytes) */
	int64_t target_file_size;
	const char *expire_older_than; /* NULL: history.expire.max-snapshot-age-ms */
	int64_t retain_last;           /* <= 0: history.expire.min-snapshots-to-keep */
	const char *orphans_older_than; /* NULL: 3 days ago (the safety window) */
	/* version 2: plan every step and change nothing (info says what each
	 * would do: compact.snapshot_id stays 0, compact_files counts the
	 * files compaction would take) */
	bool dry_run;
};
#define FIRN_MAINTAIN_OPTIONS_INIT { FIRN_MAINTAIN_OPTIONS_VERSION, -1.0, -1, 0, NULL, 0, NULL, false }

struct firn_maintain_info {
	int64_t files_over_policy;      /* data files the delete policy picked */
	struct firn_delete_info compact; /* snapshot_id 0: nothing compacted */
	struct firn_expire_info expire;
	struct firn_orphan_info orphans;
	int64_t files_with_deletes_spared; /* data files with deletes under the policy */
	int64_t compact_files, compact_bytes; /* data files compaction took (would take) */
	bool dry_run;
};

/* Runs the steps in order; opts NULL: the defaults. The first step that
 * fails stops the job (the steps before it are committed). */
FIRN_API int firn_table_maintain(struct firn_table *t, const struct firn_maintain_options *opts,
			struct firn_maintain_info *info, struct firn_error *err);

/* Regroups the current snapshot's data manifests by partition (sorted by
 * spec and partition values, 10,000 entries a manifest); delete manifests
 * are kept. A "replace" snapshot. */
FIRN_API int firn_table_rewrite_manifests(struct firn_table *t, int64_t *manifests_before,
				 int64_t *manifests_after, struct firn_error *err);

/* ---- information ----------------------------------------------------
 *
 * Plain structs filled from the table's current metadata; the strings and
 * arrays in them belong to the struct and go with its free function. The
 * command line formats them (text and --json). */

struct firn_partition_field_info {
	char *name;      /* the partition field's name ("ts_day") */
	char *transform; /* "identity", "day", "bucket[16]", "truncate[4]", ... */
	char *source;    /* the source column's dotted name; NULL: not in the current schema */
	int32_t source_id;
	int32_t field_id;
};

struct firn_sort_field_info {
	char *source;    /* the source column's dotted name; NULL: not in the current schema */
	char *transform; /* "identity", ... */
	bool descending;
	bool nulls_first;
};

struct firn_ref_info {
	char *name;
	bool tag; /* false: a branch */
	int64_t snapshot_id;
};

struct firn_table_description {
	char *ident; /* "ns.table" */
	int format_version;
	char *uuid; /* "" when the metadata has none */
	char *location;
	char *metadata_location;
	int32_t schema_id;
	/* the current schema: a struct whose children are the top-level
	 * columns, field ids as "PARQUET:field_id" metadata, docs as
	 * "iceberg:doc" */
	struct ArrowSchema schema;
	int32_t spec_id; /* the default partition spec */
	struct firn_partition_field_info *spec_fields;
	size_t n_spec_fields;
	struct firn_sort_field_info *sort_fields; /* the default sort order */
	size_t n_sort_fields;
	char **prop_keys, **prop_values; /* table properties, in metadata order */
	size_t n_props;
	bool has_current_snapshot;
	int64_t current_snapshot_id;
	int64_t n_snapshots;
	/* from the current snapshot's summary (has_current_snapshot) */
	int64_t total_records, total_data_files, total_files_size;
	/* rows removed by position deletes and deletion vectors, and the live
	 * delete files; has_deleted_records false when they could not be read */
	bool has_deleted_records;
	int64_t deleted_records, total_delete_files;
	struct firn_ref_info *refs;
	size_t n_refs;
};

/* Fills *out (the caller's, freed with firn_table_description_free, also
 * after a failure). FIRN_ENOMEM. */
FIRN_API int firn_table_describe(struct firn_table *t, struct firn_table_description *out,
			struct firn_error *err);
FIRN_API void firn_table_description_free(struct firn_table_description *d); /* NULL ok */

struct firn_snapshot_info {
	int64_t snapshot_id;
	bool has_parent;
	int64_t parent_id;
	int64_t sequence_number;
	int64_t timestamp_ms;
	char *operation;     /* "" when the summary has none */
	int32_t schema_id;   /* -1: not recorded */
	char *manifest_list; /* NULL: none (a v1 snapshot listing manifests) */
	char **summary_keys, **summary_values; /* the summary, in metadata order */
	size_t n_summary;
};

/* Every snapshot of the table, in metadata order: *out (n entries) is the
 * caller's, freed with firn_snapshot_info_free. */
FIRN_API int firn_table_snapshots(struct firn_table *t, struct firn_snapshot_info **out, size_t *n,
			 struct firn_error *err);
FIRN_API void firn_snapshot_info_free(struct firn_snapshot_info *v, size_t n); /* NULL ok */

struct firn_history_entry {
	int64_t timestamp_ms; /* when the snapshot became current */
	int64_t snapshot_id;
	bool has_parent;
	int64_t parent_id;
	char *operation; /* NULL: the snapshot has expired */
	bool is_current_ancestor;
};

/* The snapshot log, oldest first: *out (n entries) is the caller's, freed
 * with firn_history_free. */
FIRN_API int firn_table_history(struct firn_table *t, struct firn_history_entry **out, size_t *n,
		       struct firn_error *err);
FIRN_API void firn_history_free(struct firn_history_entry *v, size_t n); /* NULL ok */

enum firn_file_content { FIRN_FILE_DATA, FIRN_FILE_POSITION_DELETES, FIRN_FILE_EQUALITY_DELETES };

struct firn_file_info {
	int content; /* enum firn_file_content; other values as the manifest has them */
	char *path;
	char *format; /* "PARQUET", "PUFFIN", ... */
	int32_t spec_id;
	/* partition values by field name; each value in Iceberg's JSON
	 * single-value form ("\"2026-01-01\"", "3"), NULL for null */
	char **partition_names, **partition_values;
	size_t n_partition;
	int64_t record_count;
	int64_t file_size;
	/* data files: rows removed by position deletes and deletion vectors;
	 * -1 when equality deletes apply (not counted) */
	int64_t deleted_records;
	int64_t sequence_number;
	int64_t snapshot_id;
	/* the partition values as partition paths show them ("2013-01" for a
	 * month, "2013-01-05-10" for an hour, strings unquoted), NULL for null */
	char **partition_human;
};

/* The live data and delete files of the selected snapshot (sel NULL: the
 * current one), manifest by manifest: *out (n entries) is the caller's,
 * freed with firn_file_info_free. */
FIRN_API int firn_table_files(struct firn_table *t, const struct firn_snapshot_sel *sel,
		     struct firn_file_info **out, size_t *n, struct firn_error *err);
FIRN_API void firn_file_info_free(struct firn_file_info *v, size_t n); /* NULL ok */

/* ---- refs and rollback ----------------------------------------------
 *
 * A ref is a branch or a tag naming a snapshot; main is the table's own
 * branch (its head is the current snapshot) and can never be dropped or
 * be a tag. Each call is one commit, guarded by the ref's head
 * (assert-ref-snapshot-id) and re-checked on a lost race. A call that
 * would leave every ref as it is commits nothing and succeeds. */

/* What a ref call did. */
struct firn_ref_change {
	bool existed;        /* the ref was there before */
	int64_t previous_id; /* its snapshot before (-1: it did not exist) */
	int64_t snapshot_id; /* its snapshot now (a dropped ref: the one it had) */
	bool changed;        /* false: nothing to change, nothing committed */
};

#define FIRN_REF_OPTIONS_VERSION 1
struct firn_ref_options {
	int version;          /* FIRN_REF_OPTIONS_VERSION */
	bool tag;             /* a tag; false: a branch */
	bool has_snapshot_id; /* false: the current snapshot (main's head) */
	int64_t snapshot_id;
	/* moving an existing tag, or an existing branch to a snapshot that
	 * does not descend from its head (Java's replaceBranch), needs force;
	 * without it they are FIRN_EEXISTS (a tag) and FIRN_EINVAL (a branch).
	 * Creating a ref or moving a branch forward never does. */
	bool force;
};
#define FIRN_REF_OPTIONS_INIT { FIRN_REF_OPTIONS_VERSION, false, false, 0, false }

/* Creates ref name at a snapshot, or moves it there (its retention
 * settings kept). A name that is the other kind of ref is FIRN_EEXISTS; an
 * unknown snapshot FIRN_ENOTFOUND. opts NULL: a branch at the current
 * snapshot. info may be NULL. */
FIRN_API int firn_table_set_ref_with(struct firn_table *t, const char *name,
				     const struct firn_ref_options *opts,
				     struct firn_ref_change *info, struct firn_error *err);
/* Creates or moves a tag or a branch to snapshot_id (< 0: current), as
 * firn_table_set_ref_with with force. */
FIRN_API int firn_table_set_ref(struct firn_table *t, const char *name, bool tag, int64_t snapshot_id,
		       struct firn_error *err);
/* Drops tag (tag true) or branch name (remove-snapshot-ref); its snapshots
 * stay until expire. FIRN_ENOTFOUND when there is none, FIRN_EINVAL for
 * main or a ref of the other kind. info may be NULL. */
FIRN_API int firn_table_drop_ref(struct firn_table *t, const char *name, bool tag,
				 struct firn_ref_change *info, struct firn_error *err);
/* Iceberg's fastForwardBranch: moves branch to the snapshot of ref to (a
 * branch or a tag) when branch's head is an ancestor of it; FIRN_EINVAL
 * when they have diverged, FIRN_ENOTFOUND for a missing ref. With branch
 * "main" the snapshot becomes the current one (write-audit-publish:
 * write to an audit branch, check it, fast-forward main to it). */
FIRN_API int firn_table_fast_forward(struct firn_table *t, const char *branch, const char *to,
				     struct firn_ref_change *info, struct firn_error *err);
/* Makes the selected snapshot (by id, by ref, or current as of a time),
 * which must be an ancestor of the current one, current again
 * (FIRN_EINVAL otherwise; FIRN_ENOTFOUND when the selection finds none). */
FIRN_API int firn_table_rollback_to(struct firn_table *t, const struct firn_snapshot_sel *sel,
				    struct firn_ref_change *info, struct firn_error *err);
/* Makes snapshot_id (an ancestor of the current one) current again. */
FIRN_API int firn_table_rollback(struct firn_table *t, int64_t snapshot_id, struct firn_error *err);

/* ---- the branch writes go to ------------------------------------------
 *
 * By default a handle's writes commit to main. With another branch set,
 * append (and firn_table_append_staged), overwrite, merge, delete and
 * update plan on that branch's head, commit a snapshot whose parent is the
 * head, and move only that branch: main and the current snapshot stay
 * where they are (the commit requires the branch's head, not main's).
 * Copy-on-write and merge-on-read are decided on the branch's files.
 * Reads are not affected: read a branch with firn_snapshot_sel.ref.
 * Maintenance (compact, rewrite-manifests, expire, maintain) always works
 * on main. */

/* Makes branch (NULL or "main": main) the target of t's writes. A branch
 * that does not exist is FIRN_ENOTFOUND (create it first: writes never
 * create one), a tag FIRN_EINVAL; a branch dropped later makes the next
 * write fail the same way. */
FIRN_API int firn_table_set_branch(struct firn_table *t, const char *branch, struct firn_error *err);
/* The branch t's writes go to: "main" unless set (borrowed, valid until
 * the next firn_table_set_branch). */
FIRN_API const char *firn_table_branch(const struct firn_table *t);

/* ---- alter ----------------------------------------------------------
 *
 * Each call is one commit of one change (re-applied to the newest version
 * on a lost race). Column names are dotted paths into struct columns
 * ("loc.lat"). Changes the spec forbids are FIRN_EINVAL with the reason;
 * a name that exists already is FIRN_EEXISTS. Format version 1 tables
 * take only firn_table_set_properties (FIRN_EUNSUPPORTED otherwise). */

/* Adds an optional column: type is Iceberg type text as in a SPEC ("long",
 * "decimal(12,2)", "struct<a: int, b: string>", "list<string>"); a dotted
 * name adds into that struct column. required is refused (existing rows
 * would need a default). doc (NULL: none) becomes the field's doc. New
 * field ids follow the table's last column id. */
FIRN_API int firn_table_add_column(struct firn_table *t, const char *name, const char *type, bool required,
			  const char *doc, struct firn_error *err);
/* Drops a column (not an identifier field, not the source of a partition
 * field of the current spec, not the last column). */
FIRN_API int firn_table_drop_column(struct firn_table *t, const char *name, struct firn_error *err);
/* Renames the last component of name to new_name (no dots). */
FIRN_API int firn_table_rename_column(struct firn_table *t, const char *name, const char *new_name,
			     struct firn_error *err);
/* Widens a primitive column: int to long, float to double, decimal(P,S)
 * to decimal(P2,S) with P2 >= P. */
FIRN_API int firn_table_update_column_type(struct firn_table *t, const char *name, const char *type,
				  struct firn_error *err);
/* Drops a column's "not null". */
FIRN_API int firn_table_make_column_optional(struct firn_table *t, const char *name, struct firn_error *err);
/* Sets n table properties (keys[i] = values[i]), checked as on create.
 * The key "format-version" upgrades the table's format (to 2 or 3). */
FIRN_API int firn_table_set_properties(struct firn_table *t, const char *const *keys, const char *const *values,
			      size_t n, struct firn_error *err);
/* Removes n table properties; a key the table lacks is FIRN_ENOTFOUND. */
FIRN_API int firn_table_remove_properties(struct firn_table *t, const char *const *keys, size_t n,
				 struct firn_error *err);
/* Makes spec (partition spec text, "" unpartitioned) the default spec; an
 * identical earlier spec is reused. */
FIRN_API int firn_table_set_partition_spec(struct firn_table *t, const char *spec, struct firn_error *err);
/* Makes order (sort order text, "" unsorted) the default sort order. */
FIRN_API int firn_table_set_sort_order(struct firn_table *t, const char *order, struct firn_error *err);

#ifdef __cplusplus
}
#endif
#endif
