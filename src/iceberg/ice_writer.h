/* Writing data files for a table: partition fan-out by the spec's
 * transforms, rolling Parquet writers at the target file size, and the
 * data-file entries (partition values, metrics) for the manifest.
 * Internal. */
#ifndef FIRN_ICE_WRITER_H
#define FIRN_ICE_WRITER_H

#include "firn/parquet.h"
#include "iceberg/ice_manifest.h"

struct firn_ice_writer;

/* Starts writing files of the table's current schema and default spec.
 * Entries and their strings live in `arena` (the caller's). The open
 * files' buffered row groups together stay within the table's
 * firn.write.memory-budget-bytes (default 512 MiB; checked after each
 * batch), and the files are the same for any thread count. */
int firn_ice__writer_open(struct firn_ice_writer **out, const struct firn_ice_meta *m,
			  struct firn_arena *arena, struct firn_error *err);
/* Overrides write.target-file-size-bytes (compaction's --target-file-size). */
void firn_ice__writer_set_target(struct firn_ice_writer *w, int64_t bytes);
/* Declares that rows arrive in the table's default sort order (the files
 * then carry its sort_order_id; otherwise 0, unsorted). */
void firn_ice__writer_set_sorted(struct firn_ice_writer *w, bool sorted);
/* Writes a batch shaped as the current schema (borrowed). */
int firn_ice__writer_write(struct firn_ice_writer *w, const struct ArrowArray *batch,
			   struct firn_error *err);
/* Closes every open file and gives the entries (status ADDED) of all files
 * written; the array is the writer's until free. From then on the files
 * are the caller's (to publish, or to remove if its commit fails). */
int firn_ice__writer_finish(struct firn_ice_writer *w, struct firn_ice_entry **entries,
			    size_t *n, struct firn_error *err);
/* Frees. Unless finish succeeded, every file the writer made (closed ones
 * too) is removed: a failed write leaves nothing behind. NULL ok. */
void firn_ice__writer_free(struct firn_ice_writer *w);

/* Iceberg column metrics of a closed Parquet file written from schema s,
 * into f (arrays in arena): value/null/NaN counts, column sizes, bounds
 * truncated to 16 characters/bytes as the default metrics mode. */
int firn_ice__file_metrics(const struct ArrowSchema *s,
			   const struct firn_parquet_column_stats *st, int n_stats,
			   struct firn_arena *arena, struct firn_ice_data_file *f,
			   struct firn_error *err);

/* A Parquet statistics value (PLAIN bytes, n long) as a datum of Iceberg
 * type t; byte datums point into p. false when the length does not fit. */
bool firn_ice__parquet_stat_datum(const struct firn_type *t, const uint8_t *p, int32_t n,
				  struct firn_datum *d);

#endif
