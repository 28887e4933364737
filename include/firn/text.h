/* firn: text forms of schemas and values; CSV / JSON Lines / table output,
 * CSV / JSON Lines input as Arrow batches, and table input: CSV, JSON Lines
 * and Parquet files as one Arrow stream. */
#ifndef FIRN_TEXT_H
#define FIRN_TEXT_H

#include "firn/export.h"

#include <stdint.h>
#include <stdio.h>

#include "firn/arrow.h"
#include "firn/error.h"
#include "firn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- schemas as text ----------------------------------------------- */

/* Parses a schema SPEC (DESIGN §4), e.g.
 *   "id long not null, name string, price decimal(10,2), tags list<string>,
 *    attrs map<string,string>, loc struct<lat: double, lon: double not null>"
 * into a struct ("+s") schema whose children are the top-level fields.
 * Type names are Iceberg's (case-insensitive): boolean int long float double
 * decimal(P,S) date time timestamp timestamptz timestamp_ns timestamptz_ns
 * string uuid fixed[L] binary struct<...> list<T> map<K,V>; whitespace is
 * optional around punctuation. A field is "name type [not null]" (a ':' after
 * the name is optional at the top level and usual inside struct<>). Names
 * that are not plain words go in backticks (`a b`; `` for a backtick).
 * List elements and map values are optional unless written "T not null";
 * map keys are always required. Field ids are assigned as Iceberg assigns
 * fresh ids (TypeUtil.assignFreshIds): top-level fields 1..n, then each
 * nested type's own children in order, depth first. Ids are stored as
 * "PARQUET:field_id" metadata.
 * On success *out is owned by the caller (call out->release). On a bad SPEC,
 * FIRN_EINVAL with "schema: at N: ..." (N is the 1-based character position)
 * and *out is left released. */
FIRN_API int firn_spec_parse_schema(const char *spec, struct ArrowSchema *out,
			   struct firn_error *err);

/* Appends the Iceberg type name of one schema node: "long",
 * "decimal(10,2)", "timestamptz", "timestamp_ns", "fixed[4]", "uuid",
 * "struct", "list", "map" ("unknown" for the Arrow null type). Arrow types
 * Iceberg lacks get the nearest Iceberg reading. 0, FIRN_ENOMEM, or
 * FIRN_EUNSUPPORTED for formats firn_type_of does not handle. */
FIRN_API int firn_type_name(struct firn_buf *out, const struct ArrowSchema *s);

/* Appends the text of `firn parquet schema`: for a struct schema, one line
 * per field "<name>: <type>[ not null][ (id N)]\n", nested children indented
 * two spaces per level (struct fields; a list's "element"; a map's "key" and
 * "value", the entries level skipped). A non-struct schema prints as a
 * single field. 0, FIRN_ENOMEM or FIRN_EUNSUPPORTED. */
FIRN_API int firn_schema_format(struct firn_buf *out, const struct ArrowSchema *schema);

/* Appends schema (a struct) as one line of SPEC that firn_spec_parse_schema
 * reads back to the same types, names and nullability ("id long not null,
 * tags list<string>"); field ids are not part of a SPEC. 0, FIRN_ENOMEM or
 * FIRN_EUNSUPPORTED. */
FIRN_API int firn_schema_spec(struct firn_buf *out, const struct ArrowSchema *schema);

/* ---- values as text ------------------------------------------------ */

/* Appends row i (0 <= i < a->length; a->offset is applied) of array `a`,
 * whose type is `s`, as JSON: null; true/false; numbers; floats in their
 * shortest form with "NaN", "Infinity", "-Infinity" as strings; decimals as
 * strings with exactly `scale` fraction digits; dates, times and timestamps
 * as Iceberg's strings; binary/fixed as lowercase hex strings; uuid in
 * canonical form; struct as an object by field name; list as an array; map
 * as an object when its keys are strings, otherwise an array of
 * {"key":...,"value":...}. 0, FIRN_EINVAL (i out of range), FIRN_ENOMEM, or
 * FIRN_EUNSUPPORTED. Both pointers are borrowed. */
FIRN_API int firn_value_format_json(struct firn_buf *out, const struct ArrowSchema *s,
			   const struct ArrowArray *a, int64_t i);
/* The same value as an unquoted text cell: strings raw, other scalars as
 * above without quotes, nested values as their JSON text, null as nothing
 * (the caller decides how to show it). */
FIRN_API int firn_value_format_text(struct firn_buf *out, const struct ArrowSchema *s,
			   const struct ArrowArray *a, int64_t i);

/* ---- writing batches as text --------------------------------------- */

enum firn_text_format {
	FIRN_TEXT_CSV,   /* header row; RFC 4180 quoting; NULL empty, "" an empty string */
	FIRN_TEXT_JSONL, /* one object per row, keys in schema order */
	FIRN_TEXT_TABLE  /* aligned columns for a terminal; NULL shown as "null" */
};

struct firn_text_writer;

/* Opens a writer of rows of `schema` (a struct; one column per top-level
 * field) to f. The schema is copied; f stays the caller's (not closed).
 * *out is the caller's: firn_text_writer_free it. */
FIRN_API int firn_text_writer_open(struct firn_text_writer **out, FILE *f,
			  enum firn_text_format fmt, const struct ArrowSchema *schema,
			  struct firn_error *err);
/* Writes the rows of one struct batch (borrowed). Output is buffered and
 * written in large chunks. TABLE cuts cells to 40 characters ("..." at the
 * end), shows control characters escaped, right-aligns numbers, and holds
 * back the first 10000 rows to size its columns; later rows use those widths
 * (a wider cell then overflows its column rather than being cut). */
FIRN_API int firn_text_writer_write(struct firn_text_writer *w, const struct ArrowArray *batch,
			   struct firn_error *err);
/* Writes what is buffered (for TABLE: the header and the held rows if not
 * yet written) and fflushes f. FIRN_EIO when writing fails. */
FIRN_API int firn_text_writer_close(struct firn_text_writer *w, struct firn_error *err);
/* Frees the writer (without writing anything). NULL is ok. */
FIRN_API void firn_text_writer_free(struct firn_text_writer *w);

/* ---- reading CSV / JSON Lines -------------------------------------- */

struct firn_text_reader;

/* Opens path ("-" = stdin) as FIRN_TEXT_CSV or FIRN_TEXT_JSONL.
 * schema (borrowed, copied): a struct schema to read into; CSV columns match
 * fields by header name, JSON keys by field name; fields the input lacks read
 * as null. NULL schema: the types are inferred from the whole input first
 * (a regular file is read twice; stdin or a pipe is held in memory): each
 * column gets the narrowest of long, double, boolean, date, timestamp,
 * timestamptz, string that reads all its non-empty values (no values:
 * string); JSON objects and arrays become struct and list (a field whose
 * shapes disagree becomes a string of JSON text). Inferred fields are
 * optional, ids as firn_spec_parse_schema assigns them. The rules in full
 * are at the top of csv.c and jsonl.c. batch_rows <= 0 means 65536.
 * CSV: an unquoted empty cell is null, a quoted one ("") an empty string.
 * *out is the caller's: firn_text_reader_free it. FIRN_ENOTFOUND / FIRN_EIO
 * for files, FIRN_EINVAL for bad input found while inferring. */
FIRN_API int firn_text_reader_open(struct firn_text_reader **out, const char *path,
			  enum firn_text_format fmt, const struct ArrowSchema *schema,
			  int64_t batch_rows, struct firn_error *err);
/* A copy of the schema being read (given or inferred); the caller releases. */
FIRN_API int firn_text_reader_schema(struct firn_text_reader *r, struct ArrowSchema *out,
			    struct firn_error *err);
/* Reads the next batch (a struct array, owned by the caller) of up to
 * batch_rows rows. At the end of input out->release is NULL and 0 is
 * returned. Bad input: FIRN_EINVAL with "FILE: line N: column C: ..."; the
 * reader then stays failed. */
FIRN_API int firn_text_reader_next(struct firn_text_reader *r, struct ArrowArray *out,
			  struct firn_error *err);
/* seen[k] (k < n): whether the input has top-level field k at all — a CSV
 * header column, a key of some JSON Lines row read so far. */
FIRN_API int firn_text_reader_fields_seen(struct firn_text_reader *r, bool *seen, size_t n);
/* Closes the input and frees the reader. NULL is ok. */
FIRN_API void firn_text_reader_free(struct firn_text_reader *r);

#ifdef __cplusplus
}
#endif
#endif
