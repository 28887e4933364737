/* firn: table input — CSV, JSON Lines and Parquet files read as one
 * Arrow stream for a table (what the command line appends, overwrites and
 * merges), and the file-based forms of those calls. A layer above the
 * Iceberg core: the core itself takes Arrow streams only. */
#ifndef FIRN_INPUT_H
#define FIRN_INPUT_H

#include "firn/export.h"

#include <stddef.h>

#include "firn/arrow.h"
#include "firn/error.h"
#include "firn/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- table input: files as one Arrow stream ------------------------ */

/* The format of path: fmt unless FIRN_INPUT_AUTO; then by extension,
 * case-insensitive: .parquet Parquet; .jsonl, .json, .ndjson JSON Lines;
 * anything else (stdin "-" too) CSV. */
FIRN_API enum firn_input_format firn_input_format_of(const char *path, enum firn_input_format fmt);

/* firn_input_open flags */
enum {
	/* Read every file at open and hold the batches, so that the schema has
	 * exactly the columns the input has (a JSON Lines key counts once some
	 * row has it); every column is then optional, a required column the
	 * input lacks being the caller's to judge (merge keeps the old values). */
	FIRN_INPUT_WHOLE = 1
};

/* Opens the rows of files[0..n) ("-" is stdin; each file's format by
 * firn_input_format_of) as one stream of struct batches for a table whose
 * schema is table_schema (borrowed, copied). The stream's schema is the
 * table's top-level columns (the table's types, field ids and order) that
 * the input has: the columns of CSV headers and Parquet schemas, and, for
 * JSON Lines, every column (its keys are known only once it is read: an
 * absent key reads as NULL) unless FIRN_INPUT_WHOLE; the table's required
 * columns are always there unless FIRN_INPUT_WHOLE, so that a file lacking
 * one fails naming it. Every file's values are converted to the columns'
 * types (opts as for firn_table_append: NULL is the defaults); a value that
 * does not fit, a column the table lacks, bad text: FIRN_EINVAL naming the
 * file, column and row or line. Files are read one after another as the
 * stream is read (all of them at open with FIRN_INPUT_WHOLE); at most
 * stdin stays open between them. Errors at open are returned; later ones
 * come from get_next as an errno-style code (EINVAL, ENOMEM, EIO, ENOENT,
 * ENOTSUP, EBADMSG for FIRN_ECORRUPT) with the message from
 * get_last_error, and the stream stays failed. *out is the caller's
 * (release it); on failure it is left released. */
FIRN_API int firn_input_open(const char *const *files, size_t n, enum firn_input_format fmt,
		    const struct ArrowSchema *table_schema, const struct firn_append_options *opts,
		    unsigned flags, struct ArrowArrayStream *out, struct firn_error *err);


/* ---- the file-based forms of append, overwrite and merge ------------ */

/* Appends the rows of files ("-" is stdin; AUTO picks by extension, CSV
 * for stdin) as one snapshot: firn_input_open  then firn_table_append_stream. Columns match the table's by
 * name. A value the column cannot hold (a timestamp past its range, or
 * sub-microsecond digits, see opts) is FIRN_EINVAL naming the file, column
 * and row. */
FIRN_API int firn_table_append(struct firn_table *t, const char *const *files, size_t n,
		      enum firn_input_format fmt, const struct firn_append_options *opts,
		      struct firn_commit_info *info, struct firn_error *err);

/* firn_table_merge_stream of the files, read whole (FIRN_INPUT_WHOLE). */
FIRN_API int firn_table_merge(struct firn_table *t, const char *const *files, size_t n, enum firn_input_format fmt,
		     const struct firn_append_options *opts, const char *keys, const char *mode,
		     struct firn_delete_info *info, struct firn_error *err);

/* firn_table_overwrite_stream of the files. */
FIRN_API int firn_table_overwrite(struct firn_table *t, const char *const *files, size_t n,
			 enum firn_input_format fmt, const struct firn_append_options *opts,
			 const char *where, struct firn_delete_info *info, struct firn_error *err);

#ifdef __cplusplus
}
#endif
#endif
