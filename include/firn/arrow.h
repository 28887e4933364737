/* firn: the Arrow C Data Interface (firn's one in-memory columnar format),
 * type descriptors and builders.
 *
 * The three structs are the ABI of the Arrow specification
 * ("The Arrow C data interface" / "The Arrow C stream interface"). */
#ifndef FIRN_ARROW_H
#define FIRN_ARROW_H

#include "firn/export.h"

#include <stdbool.h>
#include <stdint.h>

#include "firn/error.h"
#include "firn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
	const char *format;
	const char *name;
	const char *metadata;
	int64_t flags;
	int64_t n_children;
	struct ArrowSchema **children;
	struct ArrowSchema *dictionary;
	void (*release)(struct ArrowSchema *);
	void *private_data;
};

struct ArrowArray {
	int64_t length;
	int64_t null_count;
	int64_t offset;
	int64_t n_buffers;
	int64_t n_children;
	const void **buffers;
	struct ArrowArray **children;
	struct ArrowArray *dictionary;
	void (*release)(struct ArrowArray *);
	void *private_data;
};
#endif

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
	int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
	int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
	const char *(*get_last_error)(struct ArrowArrayStream *);
	void (*release)(struct ArrowArrayStream *);
	void *private_data;
};
#endif

/* ---- types --------------------------------------------------------- */

/* The Arrow types firn uses, i.e. the images of Iceberg's types. */
enum firn_atype {
	FIRN_A_NULL,
	FIRN_A_BOOL,       /* "b" */
	FIRN_A_INT32,      /* "i"  Iceberg int */
	FIRN_A_INT64,      /* "l"  Iceberg long */
	FIRN_A_FLOAT,      /* "f" */
	FIRN_A_DOUBLE,     /* "g" */
	FIRN_A_DECIMAL,    /* "d:P,S" (128-bit) */
	FIRN_A_DATE32,     /* "tdD" */
	FIRN_A_TIME64,     /* "ttu" (micros) / "ttn" */
	FIRN_A_TIMESTAMP,  /* "tsu:" "tsu:UTC" "tsn:" "tsn:UTC" (also tss/tsm on read) */
	FIRN_A_STRING,     /* "u" */
	FIRN_A_BINARY,     /* "z" */
	FIRN_A_FIXED,      /* "w:N"; uuid is w:16 with extension arrow.uuid */
	FIRN_A_STRUCT,     /* "+s" */
	FIRN_A_LIST,       /* "+l" */
	FIRN_A_MAP         /* "+m": child "entries" struct<key, value> */
};

struct firn_type {
	enum firn_atype id;
	int32_t precision, scale; /* decimal */
	int32_t width;            /* fixed: bytes; decimal: 16 */
	int unit_digits;          /* time/timestamp: 0 s, 3 ms, 6 us, 9 ns */
	bool tz;                  /* timestamp with a time zone (UTC) */
	bool uuid;                /* fixed(16) carrying the arrow.uuid extension */
};

/* Decodes schema->format (and the uuid extension from its metadata).
 * FIRN_EUNSUPPORTED for a type firn does not handle. */
FIRN_API int firn_type_of(const struct ArrowSchema *schema, struct firn_type *out,
		 struct firn_error *err);

/* ---- schemas ------------------------------------------------------- */

/* Fills *out as a newly owned schema node (release frees it and its
 * children). format and name are copied. n_children slots are allocated and
 * zeroed; fill them with firn_schema_init on out->children[i]. */
FIRN_API int firn_schema_init(struct ArrowSchema *out, const char *format, const char *name,
		     int64_t flags, int64_t n_children);
/* Adds a key/value to the schema's metadata (copies both). Only for schemas
 * made by firn_schema_init. */
FIRN_API int firn_schema_add_metadata(struct ArrowSchema *s, const char *key, const char *value);
/* Looks a key up in Arrow-encoded metadata; returns a pointer into it and the
 * value length, or NULL. */
FIRN_API const char *firn_metadata_get(const char *metadata, const char *key, int32_t *len_out);
/* The Parquet/Iceberg field id in "PARQUET:field_id" metadata, or -1. */
FIRN_API int32_t firn_schema_field_id(const struct ArrowSchema *s);
FIRN_API int firn_schema_set_field_id(struct ArrowSchema *s, int32_t id);
/* Deep copy of any valid schema into a firn-made one. */
FIRN_API int firn_schema_copy(struct ArrowSchema *out, const struct ArrowSchema *src);

/* ---- builders ------------------------------------------------------ */

/* A growable array for one schema node, children included. Build with the
 * append functions, then firn_builder_finish moves the buffers into an
 * ArrowArray (the builder is empty again and may be reused).
 *
 * Layout, per type:
 *   validity  bitmap (always kept; dropped at finish if there are no nulls)
 *   values    fixed-width values, or int32 offsets for string/binary/list/map
 *   data      bytes of string/binary
 *   children  struct fields, list element, map entries (a struct builder) */
struct firn_builder {
	struct firn_type type;
	struct firn_buf validity;
	struct firn_buf values;
	struct firn_buf data;
	int64_t length;
	int64_t null_count;
	int64_t n_children;
	struct firn_builder *children;
};

FIRN_API int firn_builder_init(struct firn_builder *b, const struct ArrowSchema *schema,
		      struct firn_error *err);
FIRN_API void firn_builder_free(struct firn_builder *b);
/* Appends a null. For struct: also appends a null to every child; for
 * list/map: an empty element range. */
FIRN_API int firn_builder_append_null(struct firn_builder *b);
/* Fixed-width values (bool: 0/1 in one byte; others by width). */
FIRN_API int firn_builder_append_fixed(struct firn_builder *b, const void *value);
FIRN_API int firn_builder_append_bool(struct firn_builder *b, bool v);
FIRN_API int firn_builder_append_i32(struct firn_builder *b, int32_t v);
FIRN_API int firn_builder_append_i64(struct firn_builder *b, int64_t v);
FIRN_API int firn_builder_append_f32(struct firn_builder *b, float v);
FIRN_API int firn_builder_append_f64(struct firn_builder *b, double v);
/* string / binary */
FIRN_API int firn_builder_append_bytes(struct firn_builder *b, const void *p, size_t n);
/* struct: marks one valid row (the caller appends each child itself). */
FIRN_API int firn_builder_append_struct(struct firn_builder *b);
/* list/map: closes one valid row whose elements the caller has already
 * appended to children[0] since the previous row. */
FIRN_API int firn_builder_append_list_end(struct firn_builder *b);
/* Moves what was built into *out (owned by the caller, release frees it). */
FIRN_API int firn_builder_finish(struct firn_builder *b, struct ArrowArray *out,
			struct firn_error *err);

/* Validity bit of row i (offset applied by caller). NULL bitmap = valid. */
static inline bool firn_bit_get(const uint8_t *bits, int64_t i)
{
	return bits == NULL || (bits[i >> 3] >> (i & 7)) & 1;
}

/* A stream over batches that were already built (used by readers that
 * produce a vector of arrays, and by tests). Takes ownership of schema and
 * batches. */
FIRN_API int firn_stream_from_batches(struct ArrowArrayStream *out, struct ArrowSchema *schema,
			     struct ArrowArray *batches, int64_t n_batches);

/* ---- the Arrow IPC stream format -------------------------------------
 *
 * Writes batches as Arrow's IPC *stream* format (a schema message, one
 * record batch message per batch, the end-of-stream marker), which
 * pyarrow.ipc.open_stream, Polars' read_ipc_stream and other Arrow
 * readers read. Types: the ones firn_type_of knows plus the other integer
 * widths, half floats, large strings, binaries and lists; no dictionaries.
 * Field names, nullability and metadata (field ids, the uuid extension)
 * are kept. Sliced arrays are written from their offset. */

/* The sink: writes n bytes, 0 or nonzero on failure. */
typedef int (*firn_ipc_write_fn)(void *arg, const void *p, size_t n);
struct firn_ipc_writer;

/* Writes the schema message of schema (a struct; copied) through write.
 * FIRN_EUNSUPPORTED for a type the format cannot carry here, FIRN_EIO
 * when write fails, FIRN_ENOMEM. *out is the caller's
 * (firn_ipc_writer_free). */
FIRN_API int firn_ipc_writer_open(struct firn_ipc_writer **out, const struct ArrowSchema *schema,
				  firn_ipc_write_fn write, void *arg, struct firn_error *err);
/* Writes batch (a struct array of the schema; borrowed) as one record
 * batch message. */
FIRN_API int firn_ipc_writer_write(struct firn_ipc_writer *w, const struct ArrowArray *batch,
				   struct firn_error *err);
/* Writes the end-of-stream marker (once; later calls do nothing). */
FIRN_API int firn_ipc_writer_close(struct firn_ipc_writer *w, struct firn_error *err);
FIRN_API void firn_ipc_writer_free(struct firn_ipc_writer *w); /* NULL ok */

/* The bytes of array's buffers that its rows use (validity, values,
 * offsets, data; children included), as the IPC format would carry them
 * unpadded: a measure of data processed. 0 for NULL or a released array. */
FIRN_API int64_t firn_arrow_array_bytes(const struct ArrowSchema *schema, const struct ArrowArray *array);

#ifdef __cplusplus
}
#endif
#endif
