/* Scan planning (files and the deletes that apply to them) and reading one
 * data file with its deletes. Shared by scan, count, delete and compact.
 * Internal. */
#ifndef FIRN_ICE_SCAN_H
#define FIRN_ICE_SCAN_H

#include "firn/table.h"
#include "iceberg/ice_manifest.h"

struct firn_ice_task {
	const struct firn_ice_entry *entry;      /* the data file's live entry */
	const struct firn_ice_manifest_file *mf; /* the manifest holding it */
	bool all_match;                          /* the filter's metrics decide every row */
	const struct firn_ice_entry **deletes;   /* delete files that apply (spec §3.4) */
	size_t n_deletes;
};

struct firn_ice_plan {
	struct firn_arena arena;
	const struct firn_ice_meta *m;
	const struct firn_ice_snapshot *snap;
	const struct ArrowSchema *schema; /* the schema rows are read in (borrowed) */
	struct firn_expr *filter;         /* bound, or NULL */
	struct firn_ice_task *tasks;
	size_t n_tasks;
	/* every manifest of the snapshot, and the live delete entries */
	struct firn_ice_manifest_file *manifests;
	size_t n_manifests;
	const struct firn_ice_entry **live_deletes;
	size_t n_live_deletes;
	int64_t files_total, files_pruned;
};

/* Plans a scan of snap (NULL: empty) read in `schema` with an optional
 * filter text. With keep_all, files the filter prunes are planned too (as
 * tasks with all_match false; used by maintenance). */
/* Whether two files have the same spec and equal partition values
 * (spec §3.4). */
bool firn_ice__same_partition(const struct firn_ice_meta *m, const struct firn_ice_data_file *a,
			      const struct firn_ice_data_file *b);

int firn_ice__plan(struct firn_ice_plan *p, const struct firn_ice_meta *m,
		   const struct firn_ice_snapshot *snap, const struct ArrowSchema *schema,
		   const char *where, struct firn_error *err);
void firn_ice__plan_free(struct firn_ice_plan *p);

/* Reads one task's data file in projection `proj` (a "+s" schema of
 * top-level fields of the plan's schema), one batch per row group, with
 * row-group pruning by the plan's filter unless no_prune. */
struct firn_ice_file_reader;
int firn_ice__file_open(const struct firn_ice_plan *p, const struct firn_ice_task *t,
			const struct ArrowSchema *proj, bool no_prune,
			struct firn_ice_file_reader **out, struct firn_error *err);
/* The next batch (fitted to proj; out->release NULL at the end), *live a
 * per-row mask (1 = not deleted by the task's deletes; owned by the
 * reader, valid until the next call) and *first_pos the file position of
 * the batch's row 0. */
int firn_ice__file_next(struct firn_ice_file_reader *r, struct ArrowArray *out,
			const uint8_t **live, int64_t *first_pos, struct firn_error *err);
/* Live rows of the row groups pruning skipped (none of them can match). */
int64_t firn_ice__file_skipped_rows(const struct firn_ice_file_reader *r);
void firn_ice__file_close(struct firn_ice_file_reader *r);

/* The schema a selection reads in: the snapshot's own for time travel,
 * the current one otherwise. */
const struct ArrowSchema *firn_ice__read_schema(const struct firn_ice_meta *m,
						const struct firn_snapshot_sel *sel,
						const struct firn_ice_snapshot *snap);

/* Field ids the deletes of a task need in the projection (equality ids),
 * appended to *ids (growable). */
int firn_ice__task_delete_ids(const struct firn_ice_task *t, int32_t **ids, size_t *n);

/* The position deletes (position files and DVs) of a task, as a set. */
struct firn_posset;
int firn_ice__task_positions(const struct firn_ice_task *t, struct firn_posset *out,
			     struct firn_error *err);

/* proj = the top-level fields of schema that hold the field ids (each
 * once, in the order the ids first name them). FIRN_ENOMEM. */
int firn_ice__projection(const struct ArrowSchema *schema, const int32_t *ids, size_t n,
			 struct ArrowSchema *proj, struct firn_error *err);

#endif
