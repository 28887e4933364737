/* firn: Parquet files, written and read through Arrow batches.
 *
 * Schemas are ArrowSchema trees whose fields carry their Iceberg field ids
 * as "PARQUET:field_id" metadata (see firn_schema_set_field_id). Types map
 * as Iceberg's spec (Appendix A) says; uuid is fixed(16) with the
 * arrow.uuid extension. */
#ifndef FIRN_PARQUET_H
#define FIRN_PARQUET_H

#include "firn/export.h"

#include <stdbool.h>
#include <stdint.h>

#include "firn/arrow.h"
#include "firn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- writing ------------------------------------------------------- */

enum firn_parquet_codec {
	FIRN_PARQUET_UNCOMPRESSED = 0,
	FIRN_PARQUET_SNAPPY = 1,
	FIRN_PARQUET_GZIP = 2,
	FIRN_PARQUET_ZSTD = 6,
	FIRN_PARQUET_LZ4_RAW = 7
};

struct firn_parquet_write_options {
	unsigned int version;          /* FIRN_PARQUET_WRITE_OPTIONS_VERSION */
	int codec;                     /* enum firn_parquet_codec; default zstd */
	int codec_level;               /* 0: codec default */
	int64_t row_group_size;        /* uncompressed bytes; default 128 MiB */
	int64_t page_size;             /* bytes; default 1 MiB */
	int64_t page_row_limit;        /* default 20000 */
	bool dictionary;               /* default true */
	int64_t dictionary_size_limit; /* bytes; past it, PLAIN; default 1 MiB (as pyarrow) */
	/* Extra footer key/values (both arrays n_kv long), copied. */
	int n_kv;
	const char *const *kv_keys;
	const char *const *kv_values;
	/* enum firn_io_create_flags for the file (0: created or truncated in
	 * place; FIRN_IO_REPLACE: appears whole at close) */
	unsigned io_flags;
};
#define FIRN_PARQUET_WRITE_OPTIONS_VERSION 1
#define FIRN_PARQUET_WRITE_OPTIONS_INIT { FIRN_PARQUET_WRITE_OPTIONS_VERSION, FIRN_PARQUET_ZSTD, 0, \
	128LL << 20, 1LL << 20, 20000, true, 1LL << 20, 0, NULL, NULL }

/* Per-column facts the writer gathered, for Iceberg's manifest metrics. */
struct firn_parquet_column_stats {
	int32_t field_id;
	int64_t value_count;   /* level entries (values incl. nulls) */
	int64_t null_count;
	int64_t nan_count;
	int64_t compressed_size;
	/* min/max in Parquet PLAIN form (no length prefix); len < 0: none */
	const uint8_t *min; int32_t min_len;
	const uint8_t *max; int32_t max_len;
};

struct firn_parquet_writer;

/* Creates path (a location, through firn/io.h; an existing file is
 * replaced; freeing the writer unclosed discards it) and prepares to write schema (a struct "+s"
 * schema; copied). opts NULL: defaults. */
FIRN_API int firn_parquet_writer_open(struct firn_parquet_writer **out, const char *path,
			     const struct ArrowSchema *schema,
			     const struct firn_parquet_write_options *opts, struct firn_error *err);
/* Appends the rows of batch, a struct array matching the schema. The batch
 * stays the caller's. */
FIRN_API int firn_parquet_writer_write(struct firn_parquet_writer *w, const struct ArrowArray *batch,
			      struct firn_error *err);
/* Flushes the last row group, writes the footer, fsyncs and closes. */
FIRN_API int firn_parquet_writer_close(struct firn_parquet_writer *w, struct firn_error *err);
/* The file's size so far, buffered pages included (rolling writers use it). */
FIRN_API int64_t firn_parquet_writer_bytes(const struct firn_parquet_writer *w);
FIRN_API int64_t firn_parquet_writer_rows(const struct firn_parquet_writer *w);
/* After close: one entry per leaf column; valid until free. */
FIRN_API int firn_parquet_writer_stats(const struct firn_parquet_writer *w,
			      const struct firn_parquet_column_stats **out, int *n_out);
/* The file offsets of the row groups written so far (Iceberg's
 * split_offsets), the first max of them into offsets; returns how many
 * there are. */
FIRN_API int firn_parquet_writer_row_groups(const struct firn_parquet_writer *w, int64_t *offsets,
					    int max);
/* Frees; if close was not called, the file is removed. NULL ok. */
FIRN_API void firn_parquet_writer_free(struct firn_parquet_writer *w);

/* ---- reading ------------------------------------------------------- */

struct firn_parquet_reader;

/* Opens path (a location, through firn/io.h) and parses its footer: one
 * read of the file's tail (two for a footer over 64 KiB); batches then
 * read only the column chunks they decode. */
FIRN_API int firn_parquet_reader_open(struct firn_parquet_reader **out, const char *path,
			     struct firn_error *err);
FIRN_API void firn_parquet_reader_free(struct firn_parquet_reader *r); /* NULL ok */
/* With strict, an INT96 value whose nanoseconds are not whole microseconds
 * is an error (FIRN_EINVAL naming the row) instead of being truncated to
 * the microseconds firn reads INT96 as. Default: not strict. */
FIRN_API void firn_parquet_reader_set_strict_int96(struct firn_parquet_reader *r, bool strict);

FIRN_API int64_t firn_parquet_reader_num_rows(const struct firn_parquet_reader *r);
/* The file's size in bytes (known at open). */
FIRN_API int64_t firn_parquet_reader_file_size(const struct firn_parquet_reader *r);
FIRN_API int firn_parquet_reader_num_row_groups(const struct firn_parquet_reader *r);
FIRN_API int64_t firn_parquet_reader_row_group_rows(const struct firn_parquet_reader *r, int rg);
FIRN_API const char *firn_parquet_reader_created_by(const struct firn_parquet_reader *r); /* may be NULL */

/* The file's schema as Arrow (caller releases). */
FIRN_API int firn_parquet_reader_schema(const struct firn_parquet_reader *r, struct ArrowSchema *out,
			       struct firn_error *err);

/* Field ids for a file written without them (a table's name mapping,
 * Iceberg's "Column Projection"): fn gets the id of the column's parent
 * (-1 at the top level) and the column's name ("element" for a list's
 * element, "key" and "value" for a map's) and returns the column's field
 * id, or -1 when the mapping has none (its children then stay without
 * ids too). Columns that already have an id keep it. Returns how many
 * columns got one. */
typedef int32_t (*firn_parquet_id_fn)(void *arg, int32_t parent_id, const char *name);
FIRN_API int firn_parquet_reader_assign_field_ids(struct firn_parquet_reader *r,
						  firn_parquet_id_fn fn, void *arg);
/* Whether any column of the file carries a field id. */
FIRN_API bool firn_parquet_reader_has_field_ids(const struct firn_parquet_reader *r);
/* Column statistics of one leaf in one row group, for pruning. The leaf is
 * named by its index among the file's leaves. min/max point into the
 * reader and stay valid until free. Returns FIRN_ENOTFOUND when the chunk has
 * no statistics. */
FIRN_API int firn_parquet_reader_leaf_count(const struct firn_parquet_reader *r);
FIRN_API int32_t firn_parquet_reader_leaf_field_id(const struct firn_parquet_reader *r, int leaf);
FIRN_API const char *firn_parquet_reader_leaf_path(const struct firn_parquet_reader *r, int leaf); /* "a.b.c" */
FIRN_API int firn_parquet_reader_leaf_stats(const struct firn_parquet_reader *r, int rg, int leaf,
				   struct firn_parquet_column_stats *out);

/* What `firn parquet meta` shows of one column chunk. Strings are static
 * or point into the reader. */
struct firn_parquet_chunk_info {
	const char *path;            /* "a.b.c", Parquet path_in_schema */
	int32_t field_id;            /* -1: none */
	const char *physical_type;   /* "INT64" */
	const char *compression;     /* "ZSTD" */
	int n_encodings;
	const char *encodings[12];   /* "PLAIN", "RLE", ... */
	int64_t num_values, total_compressed_size, total_uncompressed_size;
	int64_t data_page_offset;
	int64_t dictionary_page_offset; /* -1: none */
	bool has_statistics;
	int64_t null_count;          /* -1: not written */
	int64_t distinct_count;      /* -1: not written */
	/* min/max as a 2-row array of the leaf's Arrow type (row 0 min, row 1
	 * max; a null row when absent); owned by the caller when has_minmax */
	bool has_minmax;
	struct ArrowSchema minmax_schema;
	struct ArrowArray minmax;
};
FIRN_API int firn_parquet_reader_chunk_info(const struct firn_parquet_reader *r, int rg, int leaf,
				   struct firn_parquet_chunk_info *out, struct firn_error *err);
/* Footer key/value metadata: count, and the i-th pair (value may be NULL). */
FIRN_API int firn_parquet_reader_kv_count(const struct firn_parquet_reader *r);
FIRN_API void firn_parquet_reader_kv(const struct firn_parquet_reader *r, int i, const char **key,
			    const char **value);
FIRN_API int64_t firn_parquet_reader_row_group_bytes(const struct firn_parquet_reader *r, int rg,
					    int64_t *compressed, int64_t *file_offset);
FIRN_API int firn_parquet_reader_version(const struct firn_parquet_reader *r);

struct firn_parquet_read_options {
	unsigned int version;
	/* Projection of top-level columns, by field id or by name (one of the
	 * two lists, or neither for all columns). Order is the output order. */
	int n_field_ids; const int32_t *field_ids;
	int n_names; const char *const *names;
	/* Row groups to read (NULL: all). */
	int n_row_groups; const int *row_groups;
	int64_t batch_rows; /* reserved: batches are whole row groups for now */
};
#define FIRN_PARQUET_READ_OPTIONS_VERSION 1
#define FIRN_PARQUET_READ_OPTIONS_INIT { FIRN_PARQUET_READ_OPTIONS_VERSION, 0, NULL, 0, NULL, 0, NULL, 0 }

/* A stream of struct batches. The stream borrows r: keep r alive until the
 * stream is released. Errors: get_next returns an errno-style code and
 * get_last_error the message. */
FIRN_API int firn_parquet_reader_stream(struct firn_parquet_reader *r,
			       const struct firn_parquet_read_options *opts,
			       struct ArrowArrayStream *out, struct firn_error *err);

/* Has the file's IO fetch the column chunks the next get_next of st (a
 * stream of firn_parquet_reader_stream) decodes, so that they arrive while
 * the caller does other work (another file); get_next then finds them
 * there. Nothing to do at the end of the stream, or when the chunks come
 * to more than max_bytes (compressed). FIRN_EINVAL for another kind of
 * stream, else the IO's errors. */
FIRN_API int firn_parquet_stream_prefetch(struct ArrowArrayStream *st, int64_t max_bytes,
					  struct firn_error *err);

/* Has the next get_next of st (a stream of firn_parquet_reader_stream)
 * return only the rows of its row group that keep marks (a byte per row of
 * the row group, 1 to keep, 0 to drop; borrowed until that call returns),
 * decoding only the pages that hold one: a filter's columns read first,
 * the others then for the rows that passed. NULL: every row.
 * FIRN_EUNSUPPORTED when a column of the stream has repetition (lists,
 * maps): then read the rows and take them. */
FIRN_API int firn_parquet_stream_select(struct ArrowArrayStream *st, const uint8_t *keep,
					struct firn_error *err);
/* Moves st past its next row group without reading it. */
FIRN_API int firn_parquet_stream_skip(struct ArrowArrayStream *st, struct firn_error *err);

/* The dictionary codes of row group rg's flat string or binary leaf, when
 * every data page of its chunk is dictionary-encoded: the dictionary's
 * n_entries values (Arrow offsets, n_entries + 1 of them, and bytes) and a
 * code per row, the entry it holds or n_entries for a null. A filter on
 * the column can then be evaluated once per entry. FIRN_EUNSUPPORTED when
 * the leaf or the chunk is not like that (then decode the column). */
struct firn_parquet_dict_codes {
	int64_t n_entries;
	int32_t *offsets;
	uint8_t *data;
	int64_t n_rows;
	int32_t *codes;
};
FIRN_API int firn_parquet_reader_dict_codes(struct firn_parquet_reader *r, int rg, int leaf,
					    struct firn_parquet_dict_codes *out, struct firn_error *err);
FIRN_API void firn_parquet_dict_codes_free(struct firn_parquet_dict_codes *c);

#ifdef __cplusplus
}
#endif
#endif
