/* Row-level changes (delete, update, merge, overwrite) and compaction, as
 * phases an operation composes (DESIGN.md §5):
 *   plan    what the change reads: the scan of the current snapshot;
 *   choose  per data file: drop it, rewrite it (copy-on-write) or give it
 *           deletes (merge-on-read) — the impact-ratio rule, or
 *           compaction's own choice;
 *   write   data, delete and manifest files;
 *   commit  one attempt's snapshot, computed by the one retry loop
 *           (ice_change.c): concurrent appends are kept, any other
 *           concurrent change prepares the run again on the new version.
 * An operation fills a firn_ice_run and a prepare function (plan, choose,
 * write) and hands both to firn_ice__run_change. Internal. */
#ifndef FIRN_ICE_CHANGE_H
#define FIRN_ICE_CHANGE_H

#include "iceberg/ice_scan.h"
#include "iceberg/ice_set.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_writer.h"
#include "puffin/puffin.h"

enum firn_ice_mode { FIRN_ICE_MODE_AUTO, FIRN_ICE_MODE_MOR, FIRN_ICE_MODE_COW };

/* ---- merge keys: the input's key tuples in a hash set (ice_change_keys.c) */

struct firn_ice_keyset {
	int32_t *ids;
	size_t n;
	int *cols; /* top-level column index in the input schema */
	struct firn_type *types;
	const struct ArrowArray *batches;
	size_t n_batches;
	uint64_t *slots; /* (batch << 32 | row) + 1; 0 empty */
	size_t cap;
};

/* Builds the set of batches' key tuples (keys: "a,b", columns of schema;
 * the batches are borrowed and must outlive k). FIRN_EINVAL for an unknown
 * or nested key column, a null or missing key, a key twice in the input. */
int firn_ice__keyset_build(struct firn_ice_keyset *k, const struct ArrowSchema *schema,
			   const struct ArrowArray *batches, size_t n_batches, const char *keys,
			   struct firn_error *err);
void firn_ice__keyset_free(struct firn_ice_keyset *k);
/* Finds the tuple of row `row` of cols (one array per key); *found gets
 * (batch << 32 | row) of the input row holding it. */
bool firn_ice__keyset_find(const struct firn_ice_keyset *k, const struct ArrowArray *const *cols,
			   int64_t row, uint64_t *found);
/* sel[i] &= row i's key is in the set; b is a batch in proj (which holds
 * the key columns). */
int firn_ice__keyset_match(const struct firn_ice_keyset *k, const struct ArrowSchema *proj,
			   const struct ArrowArray *b, uint8_t *sel, struct firn_error *err);
/* Appends the key field ids to *ids (growable). FIRN_ENOMEM. */
int firn_ice__keyset_field_ids(const struct firn_ice_keyset *k, int32_t **ids, size_t *n);

/* ---- the run ---------------------------------------------------------- */

/* What a row-level change does beyond deleting the matched rows (all
 * borrowed). */
struct firn_ice_rowchange {
	const struct firn_ice_set *set; /* update: matched rows rewritten with these values */
	/* merge: rows whose key tuple is in the input replace the matched ones */
	const struct firn_ice_keyset *keys;
	/* merge / overwrite: batches appended in the same snapshot (merge fills
	 * absent columns in place) */
	struct ArrowArray *extra;
	size_t n_extra;
};

struct firn_ice_touched {
	const struct firn_ice_task *task;
	struct firn_posset matched; /* positions this change removes (live rows only) */
	int64_t live_before;
	bool cow, drop; /* rewrite / remove the whole file */
};

struct firn_ice_run;
/* Plans, chooses and writes against r->t->meta (r freshly reset). Sets
 * r->nothing when there is nothing to commit. */
typedef int (*firn_ice_prepare_fn)(struct firn_ice_run *r, struct firn_error *err);

struct firn_ice_run {
	/* the operation, set before firn_ice__run_change */
	struct firn_table *t;
	firn_ice_prepare_fn prepare;
	void *op;                             /* the prepare function's own */
	const char *where;                    /* NULL: every row */
	enum firn_ice_mode mode;
	double threshold;                     /* firn.write.cow-threshold */
	const struct firn_ice_rowchange *chg; /* NULL: a plain delete or compaction */
	const char *operation;                /* NULL: "overwrite" when data was added, else "delete" */
	const char *branch;                   /* the branch planned on and committed to; NULL: main */

	/* one preparation: what it planned on, wrote and will commit */
	const struct firn_ice_meta *m;
	int64_t base_snapshot; /* the snapshot planned on, -1: none */
	struct firn_ice_plan plan;
	struct firn_arena arena;
	struct firn_ice_touched *touched;
	size_t n_touched;
	int64_t snap_id;
	struct firn_ice_writer *writer;
	struct firn_ice_entry *added_data; /* the writer's files */
	size_t n_added_data;
	struct firn_ice_entry *added_deletes;
	size_t n_added_deletes;
	const char **removed_paths; /* data and delete files no longer live */
	size_t n_removed;
	char **written; /* files this preparation wrote (removed when it fails) */
	size_t n_written;
	char **lists;   /* manifest lists of its commit attempts */
	size_t n_lists;
	struct firn_ice_manifest_file *new_manifests;
	size_t n_new_manifests;
	const struct firn_ice_manifest_file **keep; /* the plan's manifests kept as they are */
	size_t n_keep;
	int64_t updated_rows;
	struct firn_delete_info info; /* snapshot_id set at the commit */
	bool nothing;                 /* nothing to commit: no snapshot */
	/* compaction of a sorted table: the kept rows, sorted before writing */
	bool sorting;
	struct ArrowArray *held;
	size_t n_held;
};

/* Prepares r (r->prepare) and commits it as one snapshot through the one
 * retry loop; *info (optional) gets what happened. Frees the run's state
 * (not its operation fields); the files of a failed change are removed
 * unless the commit's outcome is unknown. */
int firn_ice__run_change(struct firn_ice_run *r, struct firn_delete_info *info,
			 struct firn_error *err);

/* The mode for mode_text (NULL or "auto": the table property prop when
 * mode_text is NULL, else the impact-ratio rule). FIRN_EINVAL. */
int firn_ice__mode_of(const struct firn_ice_meta *m, const char *mode_text, const char *prop,
		      enum firn_ice_mode *out, struct firn_error *err);
/* A row-level change's run on t: where, the mode for mode_text (see
 * firn_ice__mode_of), the threshold, prepare, t's write branch; other
 * fields zero. */
int firn_ice__run_init(struct firn_ice_run *r, struct firn_table *t, const char *where,
		       const char *mode_text, const char *mode_prop, firn_ice_prepare_fn prepare,
		       struct firn_error *err);
/* firn.write.cow-threshold (default 0.5). */
double firn_ice__cow_threshold(const struct firn_ice_meta *m);

/* ---- plan and choose (ice_change_plan.c) ----------------------------- */

/* The prepare function of delete, update and overwrite: plan, the
 * impact-ratio rule, write (ice_delete.c). */
int firn_ice__prepare_rows(struct firn_ice_run *r, struct firn_error *err);

/* Plans the scan of the head of r->branch for r->where and takes a new
 * snapshot id. An empty table without rows to add sets r->nothing. */
int firn_ice__run_plan(struct firn_ice_run *r, struct firn_error *err);
/* The impact-ratio rule: reads the rows of each task that r->where (and
 * merge keys) match and decides per file drop / copy-on-write /
 * merge-on-read. Nothing touched and nothing to add sets r->nothing. */
int firn_ice__run_choose(struct firn_ice_run *r, struct firn_error *err);
/* Adds a touched file (the slot after the last). */
struct firn_ice_touched *firn_ice__run_touch(struct firn_ice_run *r, const struct firn_ice_task *t);

/* ---- write (ice_change_write.c) -------------------------------------- */

/* Writes r->chg's extra rows, then per touched file its rewrite, updated
 * rows or position deletes, and in v3 the deletion vectors. */
int firn_ice__run_write_files(struct firn_ice_run *r, struct firn_error *err);
/* Closes the writer and writes the manifests: rewritten where they list a
 * removed file, new ones for the added data and delete files. */
int firn_ice__run_write_manifests(struct firn_ice_run *r, struct firn_error *err);
/* Both of the above, in order. */
int firn_ice__run_write(struct firn_ice_run *r, struct firn_error *err);
/* Opens r->writer when it is not. */
int firn_ice__run_writer(struct firn_ice_run *r, struct firn_error *err);
/* Marks a data or delete file as no longer live. FIRN_ENOMEM. */
int firn_ice__run_remove(struct firn_ice_run *r, const char *path, struct firn_error *err);
bool firn_ice__run_removed(const struct firn_ice_run *r, const char *path);
/* Remembers a file the run wrote (removed if it fails). FIRN_ENOMEM. */
int firn_ice__run_wrote(struct firn_ice_run *r, const char *path, struct firn_error *err);
/* Whether f is a deletion vector. */
bool firn_ice__is_dv(const struct firn_ice_data_file *f);

#endif
