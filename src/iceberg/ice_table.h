/* The table handle and the commit loop. Internal. */
#ifndef FIRN_ICE_TABLE_H
#define FIRN_ICE_TABLE_H

#include "firn/table.h"
#include "iceberg/ice_manifest.h"
#include "iceberg/ice_meta.h"

struct firn_table {
	struct firn_catalog *catalog;
	char *ns;
	char *name;
	char *metadata_location;
	struct firn_ice_meta *meta;
	char *branch; /* the branch writes go to (firn_table_set_branch); NULL: main */
	firn_progress_fn progress; /* firn_table_set_progress; NULL: none */
	void *progress_arg;
};

/* Reports p through t's progress callback, if it has one (ice_append.c). */
void firn_ice__progress(const struct firn_table *t, const struct firn_progress *p);

/* Splits "a.b.t" into namespace "a.b" and name "t" (firn_malloc'd).
 * FIRN_EINVAL for a name without a namespace. */
int firn_ice__split_ident(const char *ident, char **ns, char **name, struct firn_error *err);

/* Re-reads the table's metadata from the catalog. */
int firn_ice__table_refresh(struct firn_table *t, struct firn_error *err);

/* ---- commits as requirements + updates (ice_commit.c) -------------- */

struct firn_ice_change;

/* Computes one attempt's change (requirements + updates, ice_update.h)
 * from t->meta, the metadata as read now; `attempt` counts from 0. Return
 * FIRN_ECONFLICT when the operation's own validations no longer hold (the
 * commit fails), other errors fail it too. */
typedef int (*firn_ice_change_fn)(struct firn_table *t, int attempt, void *ctx,
				  struct firn_ice_change *out, struct firn_error *err);

/* The one retry loop (DESIGN §6): fn computes a change against t->meta;
 * the catalog checks its requirements against the current metadata,
 * applies the updates with the metadata builder, writes the new metadata
 * file and swaps the pointer. On FIRN_ECONFLICT (a requirement failed,
 * the race was lost) t is refreshed, the loop backs off with jitter and
 * calls fn again, up to commit.retry.num-retries times. On success t->meta
 * is the new version; a change without updates commits nothing (and
 * succeeds). *attempts (optional) gets the attempts made. */
int firn_ice__commit_change(struct firn_table *t, firn_ice_change_fn fn, void *ctx, int *attempts,
			    struct firn_error *err);

/* Sleeps before retry `attempt` (from 0): wait_ms doubled per attempt up
 * to max_wait, half of it random (jitter). */
void firn_ice__back_off(int attempt, int64_t wait_ms, int64_t max_wait);

/* The one helper that produces a snapshot: appends to c the updates
 * add-snapshot (snap_id, parent, sequence number seq, manifest list,
 * summary (stolen, also on failure), the current schema id, in v3
 * first-row-id and added-rows) and set-snapshot-ref `branch` (keeping the
 * ref's retention settings), and the requirement assert-ref-snapshot-id
 * (branch at its head in m, or absent: only main may be, the callers take
 * parent from firn_ice__branch_head). */
int firn_ice__snapshot_change(const struct firn_ice_meta *m, const char *branch, int64_t snap_id,
			      const struct firn_ice_snapshot *parent, int64_t seq,
			      const char *manifest_list, json_t *summary, int64_t first_row_id,
			      int64_t added_rows, struct firn_ice_change *c, struct firn_error *err);

/* After a failed commit: true when the catalog still points at the
 * metadata the last attempt started from (its files may then be removed);
 * false when the outcome is unknown (an I/O error in the swap itself). */
bool firn_ice__commit_surely_failed(struct firn_table *t);

/* A snapshot summary with the keys and totals Java's SnapshotSummary
 * writes for the same change: the deltas of the manifests this snapshot
 * wrote (mfs[i].delta), totals from the parent's. Caller owns the result. */
json_t *firn_ice__summary(const struct firn_ice_snapshot *parent, const char *operation,
			  const struct firn_ice_manifest_file *mfs, size_t n);

/* ---- names and locations across the catalog (ice_locations.c) ------- */

/* A name level: not empty, not "." or "..", no '/', '\\' or control
 * characters (a name must not reach outside its directory). FIRN_EINVAL. */
int firn_ice__check_name_part(const char *what, const char *part, struct firn_error *err);
/* firn_ice__check_name_part of every level of ns and of name. */
int firn_ice__check_new_ident(const char *ns, const char *name, struct firn_error *err);

struct firn_ice_location {
	char *ident;    /* "ns.table" */
	char *location; /* firn_io__normalize'd */
	char *resolved; /* firn_io__resolve'd (symbolic links followed) */
};

/* Every table of the catalog with its location (read from its metadata).
 * Free with firn_ice__locations_free. */
int firn_ice__catalog_locations(struct firn_catalog *c, struct firn_ice_location **out,
				size_t *n, struct firn_error *err);
void firn_ice__locations_free(struct firn_ice_location *v, size_t n);

/* Whether location equals, contains or lies inside the location of a table
 * other than self (NULL: none), or holds the warehouse: *other is then that
 * table's name (or "the warehouse"), firn_malloc'd; NULL when free. */
int firn_ice__location_conflict(struct firn_catalog *c, const char *location, const char *self,
				char **other, struct firn_error *err);

/* A new table's location, normalized (ice_table.c): explicit_loc when it
 * is free (no other table's location equals, holds or lies inside it,
 * nothing is there yet; FIRN_EEXISTS otherwise), else the default
 * <warehouse>/<ns>.db/<name>, or that with a suffix when it is taken.
 * *out is the caller's. */
int firn_ice__choose_location(struct firn_catalog *c, const char *ns, const char *name,
			      const char *explicit_loc, char **out, struct firn_error *err);

/* *in_use: whether location holds files that may not be a new table's:
 * any file (firn_io_list finds one), unless leftovers_ok and all lie under
 * metadata/ and data/ with a metadata file among them (a dropped table's
 * leftovers: reusable, as in Java, once no live table overlaps). A listing
 * that fails (a missing bucket, a refused request) is the error returned,
 * with *in_use true. */
int firn_ice__dir_check(const char *location, bool leftovers_ok, bool *in_use,
			struct firn_error *err);

/* ---- the files a table references (ice_files.c) ---------------------- */

/* A set of locations, each kept in firn_io__normalize's form. */
struct firn_ice_fileset {
	char **v;
	size_t n, cap;
	bool sorted;
};

/* Adds location (normalized on the way in). FIRN_ENOMEM. */
int firn_ice__fileset_add(struct firn_ice_fileset *s, const char *location);
/* Whether the set holds an already normalized location. */
bool firn_ice__fileset_has(struct firn_ice_fileset *s, const char *normalized);
/* The number of distinct locations. */
size_t firn_ice__fileset_count(struct firn_ice_fileset *s);
void firn_ice__fileset_free(struct firn_ice_fileset *s);

/* Adds what snapshot snap references: its manifest list, its manifests and
 * their live (ADDED, EXISTING) data and delete files. */
int firn_ice__snapshot_files(const struct firn_ice_meta *m, const struct firn_ice_snapshot *snap,
			     struct firn_ice_fileset *out, struct firn_error *err);

/* Adds every file the table's metadata references: metadata_location (may
 * be NULL), the metadata log, statistics and partition-statistics files, and
 * firn_ice__snapshot_files of every snapshot. */
int firn_ice__table_files(const struct firn_ice_meta *m, const char *metadata_location,
			  struct firn_ice_fileset *out, struct firn_error *err);

/* A new unique file name under the table: <location>/<dir>/<prefix><uuid><suffix>. */
char *firn_ice__new_path(const struct firn_ice_meta *m, const char *dir, const char *prefix,
			 const char *suffix);

/* The manifests that snapshots committed after `base` (an ancestor of the
 * current snapshot) added, when all of them were appends; FIRN_ECONFLICT
 * when any other change happened since (the caller re-plans). */
int firn_ice__appended_since(const struct firn_ice_meta *m, int64_t base, struct firn_arena *arena,
			     struct firn_ice_manifest_file **out, size_t *n, struct firn_error *err);

/* ---- branches (ice_table.c) ----------------------------------------- */

/* The branch t's writes go to: "main" unless firn_table_set_branch said
 * otherwise (borrowed). */
const char *firn_ice__write_branch(const struct firn_table *t);

/* The head of branch in m: *out NULL for main without a snapshot.
 * FIRN_ENOTFOUND when a branch other than main does not exist, FIRN_EINVAL
 * when the name is a tag. */
int firn_ice__branch_head(const struct firn_ice_meta *m, const char *branch,
			  const struct firn_ice_snapshot **out, struct firn_error *err);

/* Whether snapshot `ancestor` is snapshot `id` or one of its ancestors. */
bool firn_ice__is_ancestor(const struct firn_ice_meta *m, int64_t ancestor, int64_t id);

/* firn_ice__appended_since on a branch: the appends committed on branch
 * since base (an ancestor of its head). */
int firn_ice__appended_since_on(const struct firn_ice_meta *m, const char *branch, int64_t base,
				struct firn_arena *arena, struct firn_ice_manifest_file **out,
				size_t *n, struct firn_error *err);

/* Resolves a snapshot selection to a snapshot (NULL: the table is empty
 * and nothing was asked for). FIRN_ENOTFOUND for an unknown id or ref, or a
 * time before the first snapshot. */
int firn_ice__select_snapshot(const struct firn_ice_meta *m, const struct firn_snapshot_sel *sel,
			      const struct firn_ice_snapshot **out, struct firn_error *err);

/* ---- compaction with a choice of files (ice_compact.c) ---------------- */

struct firn_ice_task;
/* Whether compaction takes this data file for its deletes. */
typedef bool (*firn_ice_compact_pick_fn)(void *arg, const struct firn_ice_task *task);

/* firn_table_compact of the whole table, taking a file for its deletes
 * only when pick (NULL: every file) says so; small files are bin-packed
 * as always (deletes applied). pick is called on every planning attempt. */
int firn_ice__compact(struct firn_table *t, int64_t target_file_size, firn_ice_compact_pick_fn pick,
		      void *pick_arg, struct firn_delete_info *info, struct firn_error *err);
/* What that compaction takes: *files data files of *bytes; with dry_run
 * it plans and chooses only, writing and committing nothing. */
int firn_ice__compact_ex(struct firn_table *t, int64_t target_file_size, firn_ice_compact_pick_fn pick,
			 void *pick_arg, bool dry_run, int64_t *files, int64_t *bytes,
			 struct firn_delete_info *info, struct firn_error *err);

#endif
