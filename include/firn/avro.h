/* firn: Avro schemas, generic values, and object container files (the
 * format of Iceberg manifests and manifest lists). */
#ifndef FIRN_AVRO_H
#define FIRN_AVRO_H

#include "firn/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firn/error.h"
#include "firn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- schemas ----------------------------------------------------------- */

/* Schema node kinds, also the tags of values. FIRN_AVRO_UNSET (0) is only a
 * value tag: a zeroed value is "not set", and the writer rejects it. */
enum firn_avro_type {
	FIRN_AVRO_UNSET = 0,
	FIRN_AVRO_NULL,
	FIRN_AVRO_BOOLEAN,
	FIRN_AVRO_INT,
	FIRN_AVRO_LONG,
	FIRN_AVRO_FLOAT,
	FIRN_AVRO_DOUBLE,
	FIRN_AVRO_BYTES,
	FIRN_AVRO_STRING,
	FIRN_AVRO_RECORD,
	FIRN_AVRO_ENUM,
	FIRN_AVRO_ARRAY,
	FIRN_AVRO_MAP,
	FIRN_AVRO_UNION,
	FIRN_AVRO_FIXED
};

/* "int", "record", ...; "unset" for FIRN_AVRO_UNSET. Never NULL. */
FIRN_API const char *firn_avro_type_name(enum firn_avro_type t);

/* An attribute kept from the schema JSON: the key and its value as compact
 * JSON text (strings quoted: "\"map\"", numbers bare: "117"). */
struct firn_avro_attr {
	const char *key;
	const char *json;
};

struct firn_avro_schema;

/* A record field. Every attribute besides "name" and "type" (field-id,
 * default, doc, iceberg-field-name, ...) is in attrs, in file order, and is
 * written back by firn_avro_schema_to_json; the typed members below are
 * parsed from them for convenience. */
struct firn_avro_field {
	const char *name;
	const struct firn_avro_schema *type;
	bool has_default;
	const char *default_json;     /* compact JSON of "default", NULL when absent */
	bool has_field_id;
	int32_t field_id;             /* "field-id" */
	int n_attrs;
	const struct firn_avro_attr *attrs;
};

/* A schema node. Nodes live in the arena given to the parser and are
 * immutable; a named type referenced again is the same node (so a
 * recursive schema is a graph, not a tree). As for fields, every attribute
 * besides the structural keys (type, name, namespace, fields, symbols,
 * items, values, size) is in attrs, in file order; the typed members are
 * conveniences parsed from them. Unused members are zero/NULL. */
struct firn_avro_schema {
	enum firn_avro_type type;
	/* record, enum, fixed */
	const char *name;             /* short name ("r2") */
	const char *ns;               /* effective namespace, NULL when none */
	const char *fullname;         /* "ns.name", or name */
	/* attributes of any node */
	const char *logical_type;     /* "logicalType" ("map", "date", "decimal", ...) or NULL */
	const char *adjust_to_utc;    /* "adjust-to-utc" as JSON text ("true"/"false") or NULL */
	int32_t precision, scale;     /* decimal; 0 when absent */
	bool has_element_id, has_key_id, has_value_id;
	int32_t element_id;           /* array "element-id" */
	int32_t key_id, value_id;     /* map "key-id" / "value-id" */
	/* record */
	int n_fields;
	const struct firn_avro_field *fields;
	/* enum */
	int n_symbols;
	const char *const *symbols;
	/* array: items; map: values (keys are strings) */
	const struct firn_avro_schema *items;
	const struct firn_avro_schema *values;
	/* union */
	int n_branches;
	const struct firn_avro_schema *const *branches;
	/* fixed */
	int64_t size;
	int n_attrs;
	const struct firn_avro_attr *attrs;
	/* internal: a lower bound of the encoded size of a value, in bytes */
	uint64_t min_size;
};

/* Parses Avro schema JSON text (len bytes; need not be NUL-terminated) into
 * nodes allocated in `arena` (the caller's; the schema lives until the arena
 * is freed). Named-type references are resolved; names, duplicate
 * definitions, union rules (no nested unions, no two branches of one
 * unnamed kind) and ids (JSON integers) are checked.
 * 0, FIRN_EINVAL (bad JSON or schema, message says where) or FIRN_ENOMEM. */
FIRN_API int firn_avro_schema_parse(const struct firn_avro_schema **out, struct firn_arena *arena,
			   const char *json, size_t len, struct firn_error *err);

/* Appends the schema as compact JSON to `out` (the caller's buffer, not
 * NUL-terminated). Every kept attribute is written back (field-id,
 * element-id, key-id, value-id, logicalType, adjust-to-utc, default, doc,
 * ...); a named type is defined at its first occurrence and referenced by
 * full name afterwards. 0 or FIRN_ENOMEM. */
FIRN_API int firn_avro_schema_to_json(const struct firn_avro_schema *s, struct firn_buf *out,
			     struct firn_error *err);

/* A node's (or field's) attribute value as compact JSON text, or NULL.
 * Borrowed from the schema. */
FIRN_API const char *firn_avro_schema_attr(const struct firn_avro_schema *s, const char *key);
FIRN_API const char *firn_avro_field_attr(const struct firn_avro_field *f, const char *key);

/* Index of the record field named `name` / with field-id `id`, or -1 (also
 * when s is not a record). */
FIRN_API int firn_avro_schema_field_index(const struct firn_avro_schema *s, const char *name);
FIRN_API int firn_avro_schema_field_index_by_id(const struct firn_avro_schema *s, int32_t id);

/* For a union of "null" and one other type, that other type; otherwise s.
 * Borrowed. */
FIRN_API const struct firn_avro_schema *firn_avro_schema_nonnull(const struct firn_avro_schema *s);

/* ---- values ------------------------------------------------------------ */

struct firn_avro_map_entry;

/* A generic datum. Values never own memory: every pointer in one is
 * borrowed (decoded values point into the arena given to
 * firn_avro_reader_next; built values point wherever the builder chose,
 * which must stay valid until the value is appended). int and long both
 * use i64; bytes, string and fixed use bytes (decoded ones have a NUL after
 * the len bytes, not counted); a union holds its branch index and the
 * branch's value; a record holds its field values in schema order. */
struct firn_avro_value {
	enum firn_avro_type type;
	union {
		bool boolean;
		int64_t i64;
		float f32;
		double f64;
		struct { const uint8_t *data; size_t len; } bytes;
		int32_t symbol;       /* enum index */
		struct { size_t n; struct firn_avro_value *items; } array;
		struct { size_t n; struct firn_avro_map_entry *entries; } map;
		struct { int32_t index; struct firn_avro_value *value; } branch;
		struct { int n; struct firn_avro_value *fields; } record;
	};
};

struct firn_avro_map_entry {
	const char *key;              /* UTF-8, key_len bytes (NUL after it when decoded) */
	size_t key_len;
	struct firn_avro_value value;
};

/* Scalar constructors (no allocation; string/bytes/fixed borrow p). */
static inline struct firn_avro_value firn_avro_null(void)
{ struct firn_avro_value v = { .type = FIRN_AVRO_NULL }; return v; }
static inline struct firn_avro_value firn_avro_boolean(bool b)
{ struct firn_avro_value v = { .type = FIRN_AVRO_BOOLEAN, .boolean = b }; return v; }
static inline struct firn_avro_value firn_avro_int(int32_t i)
{ struct firn_avro_value v = { .type = FIRN_AVRO_INT, .i64 = i }; return v; }
static inline struct firn_avro_value firn_avro_long(int64_t i)
{ struct firn_avro_value v = { .type = FIRN_AVRO_LONG, .i64 = i }; return v; }
static inline struct firn_avro_value firn_avro_float(float f)
{ struct firn_avro_value v = { .type = FIRN_AVRO_FLOAT, .f32 = f }; return v; }
static inline struct firn_avro_value firn_avro_double(double d)
{ struct firn_avro_value v = { .type = FIRN_AVRO_DOUBLE, .f64 = d }; return v; }
static inline struct firn_avro_value firn_avro_string(const char *s)
{ struct firn_avro_value v = { .type = FIRN_AVRO_STRING }; v.bytes.data = (const uint8_t *)s; v.bytes.len = strlen(s); return v; }
static inline struct firn_avro_value firn_avro_stringn(const char *s, size_t n)
{ struct firn_avro_value v = { .type = FIRN_AVRO_STRING }; v.bytes.data = (const uint8_t *)s; v.bytes.len = n; return v; }
static inline struct firn_avro_value firn_avro_bytes(const void *p, size_t n)
{ struct firn_avro_value v = { .type = FIRN_AVRO_BYTES }; v.bytes.data = (const uint8_t *)p; v.bytes.len = n; return v; }
static inline struct firn_avro_value firn_avro_fixed(const void *p, size_t n)
{ struct firn_avro_value v = { .type = FIRN_AVRO_FIXED }; v.bytes.data = (const uint8_t *)p; v.bytes.len = n; return v; }
static inline struct firn_avro_value firn_avro_enum(int32_t symbol)
{ struct firn_avro_value v = { .type = FIRN_AVRO_ENUM, .symbol = symbol }; return v; }

/* A record value for `record` (a record node), in `arena`. Fields whose type
 * is a union with a "null" branch start as null; all others start
 * FIRN_AVRO_UNSET and must be set before the record is appended. NULL when
 * out of memory or `record` is not a record. */
FIRN_API struct firn_avro_value *firn_avro_record_new(struct firn_arena *arena,
					     const struct firn_avro_schema *record);

/* An array value with n items, or a map value with n entries (keys NULL),
 * in `arena`; items and entry values start FIRN_AVRO_UNSET for the caller
 * to fill. NULL when out of memory. */
FIRN_API struct firn_avro_value *firn_avro_array_new(struct firn_arena *arena, size_t n);
FIRN_API struct firn_avro_value *firn_avro_map_new(struct firn_arena *arena, size_t n);

/* A union value choosing branch `index`, holding a copy of v (in arena).
 * NULL when out of memory. */
FIRN_API struct firn_avro_value *firn_avro_union_new(struct firn_arena *arena, int32_t index,
					    struct firn_avro_value v);

/* Stores v (a shallow copy) as the field named `name` of rec, a record value
 * of `record`. A field whose type is a union accepts the plain value of a
 * branch (firn_avro_null() for a missing optional) as well as a union value.
 * The type is checked when the record is appended. 0, or FIRN_ENOTFOUND
 * when the record has no such field, FIRN_EINVAL when rec is not a record of
 * that shape. */
FIRN_API int firn_avro_record_set(struct firn_avro_value *rec, const struct firn_avro_schema *record,
			 const char *name, struct firn_avro_value v, struct firn_error *err);

/* The value of the field named `name` / with field-id `id` of rec (a record
 * value of `record`), with unions unwrapped: an optional field that is null
 * gives a value of type FIRN_AVRO_NULL. When type_out is not NULL it gets
 * the schema of the returned value (the chosen branch). NULL when there is
 * no such field or rec does not match. Borrowed from rec and the schema. */
FIRN_API const struct firn_avro_value *firn_avro_record_get(const struct firn_avro_value *rec,
						   const struct firn_avro_schema *record,
						   const char *name,
						   const struct firn_avro_schema **type_out);
FIRN_API const struct firn_avro_value *firn_avro_record_field_by_id(const struct firn_avro_value *rec,
							   const struct firn_avro_schema *record,
							   int32_t id,
							   const struct firn_avro_schema **type_out);

/* v with union layers removed (type_out as above, s is v's schema). */
FIRN_API const struct firn_avro_value *firn_avro_value_unwrap(const struct firn_avro_value *v,
						     const struct firn_avro_schema *s,
						     const struct firn_avro_schema **type_out);

/* ---- reading object container files ------------------------------------ */

struct firn_avro_reader;

/* Opens a container held in memory: data is borrowed and must outlive the
 * reader. Reads and checks the header (magic, metadata, schema, codec,
 * sync marker). *out is the caller's, free with firn_avro_reader_free.
 * 0, FIRN_ECORRUPT (also for a bad schema in the header),
 * FIRN_EUNSUPPORTED (unknown codec) or FIRN_ENOMEM. */
FIRN_API int firn_avro_reader_open_memory(struct firn_avro_reader **out, const uint8_t *data, size_t len,
				 struct firn_error *err);

/* As firn_avro_reader_open_memory over data (firn_malloc'd), which the
 * reader takes: freed with it, also when opening fails. name is for
 * messages. */
FIRN_API int firn_avro_reader_open_buffer(struct firn_avro_reader **out, uint8_t *data, size_t len,
					  const char *name, struct firn_error *err);

/* As above, reading the whole file at `path` first (the reader keeps it).
 * Also FIRN_ENOTFOUND or FIRN_EIO. */
FIRN_API int firn_avro_reader_open(struct firn_avro_reader **out, const char *path, struct firn_error *err);

/* The writer schema from the header. Borrowed, lives as long as the reader. */
FIRN_API const struct firn_avro_schema *firn_avro_reader_schema(const struct firn_avro_reader *r);

/* The codec name ("null" when the header has none). Borrowed. */
FIRN_API const char *firn_avro_reader_codec(const struct firn_avro_reader *r);

/* The header metadata value for `key` (any key: "avro.schema",
 * "partition-spec", ...), or NULL when absent. *len (when len is not NULL)
 * gets its length; a NUL follows it. Borrowed, lives as long as the reader. */
FIRN_API const char *firn_avro_reader_meta(const struct firn_avro_reader *r, const char *key, size_t *len);

/* Header metadata by position, in file order: count, and entry i
 * (0 <= i < count; key and value borrowed as above). */
FIRN_API int firn_avro_reader_meta_count(const struct firn_avro_reader *r);
FIRN_API const char *firn_avro_reader_meta_at(const struct firn_avro_reader *r, int i,
				     const char **value, size_t *len);

/* The next record, decoded with the writer schema, into `arena` (the
 * caller's: the value and everything it points to live until the arena is
 * freed). *out is NULL at the end of the file. Blocks are decompressed and
 * their sync markers checked as they are reached; every count and length is
 * checked against the bytes left. After an error the reader stays failed.
 * 0, FIRN_ECORRUPT or FIRN_ENOMEM. */
FIRN_API int firn_avro_reader_next(struct firn_avro_reader *r, struct firn_arena *arena,
			  const struct firn_avro_value **out, struct firn_error *err);

FIRN_API void firn_avro_reader_free(struct firn_avro_reader *r); /* NULL ok */

/* Limits against bad input: a decompressed block may not exceed this. */
#define FIRN_AVRO_MAX_BLOCK ((size_t)256 << 20)

/* ---- writing object container files ------------------------------------ */

struct firn_avro_writer;

/* Starts a container in memory. schema_json is parsed (and checked) and
 * written back as compact JSON in "avro.schema"; codec is "null",
 * "deflate" (the default when NULL), "snappy" or "zstandard" and is always
 * written as "avro.codec"; then the n_meta user keys/values (C strings,
 * copied), in order. User keys must be unique and may not start with
 * "avro.". *out is the caller's, free with firn_avro_writer_free.
 * 0, FIRN_EINVAL, FIRN_EUNSUPPORTED (codec), FIRN_EIO (no random sync
 * marker) or FIRN_ENOMEM. */
FIRN_API int firn_avro_writer_open(struct firn_avro_writer **out, const char *schema_json, const char *codec,
			  int n_meta, const char *const *meta_keys, const char *const *meta_values,
			  struct firn_error *err);

/* The writer's parsed schema, for building values. Borrowed, lives as long
 * as the writer. */
FIRN_API const struct firn_avro_schema *firn_avro_writer_schema(const struct firn_avro_writer *w);

/* Validates and encodes one record (borrowed; it may be freed after the
 * call). A block is written every 1000 records or ~64 KiB. 0, FIRN_EINVAL
 * (the value does not match the schema; the message gives the field path,
 * "data_file.record_count: expected long, got string", and nothing is
 * written) or FIRN_ENOMEM. */
FIRN_API int firn_avro_writer_append(struct firn_avro_writer *w, const struct firn_avro_value *record,
			    struct firn_error *err);

/* Writes the last block and gives the whole file to the caller: *data is the
 * caller's, free with firn_free. The writer accepts nothing afterwards but
 * firn_avro_writer_free. 0 or FIRN_ENOMEM / FIRN_EINVAL (finished twice). */
FIRN_API int firn_avro_writer_finish(struct firn_avro_writer *w, uint8_t **data, size_t *len,
			    struct firn_error *err);

FIRN_API void firn_avro_writer_free(struct firn_avro_writer *w); /* NULL ok */

#ifdef __cplusplus
}
#endif
#endif
