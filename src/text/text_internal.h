/* Library-internal helpers shared by the files of src/text: not part of
 * the API. Dependencies run one way: spec.c and scalar.c (fields, scalar
 * values) <- jsonl.c (JSON values) <- csv.c (the reader of both formats);
 * print.c uses spec.c. */
#ifndef FIRN_TEXT_INTERNAL_H
#define FIRN_TEXT_INTERNAL_H

#include "firn/text.h"

/* ---- spec.c ---- */

/* A schema node decoded once for formatting and parsing. */
struct firn_text__field {
	const struct ArrowSchema *schema; /* borrowed */
	struct firn_type type;
	bool nullable;
	bool str_keys;   /* map whose keys are strings */
	bool exact_ts;   /* timestamp digits past the column's precision are an error */
	char *path;      /* "loc.lat", for messages */
	char *type_name; /* "decimal(10,2)", for messages */
	int64_t n_children; /* struct fields; list element; map key and value */
	struct firn_text__field *children;
};
/* Decodes s and its children (map: key and value, the entries level
 * skipped). parent is the parent's path or NULL. Free with _field_free. */
int firn_text__field_init(struct firn_text__field *f, const struct ArrowSchema *s,
			  const char *parent, struct firn_error *err);
void firn_text__field_free(struct firn_text__field *f);
/* Appends name to a SPEC in backticks when it is not a plain word. */
int firn_spec__put_name(struct firn_buf *spec, const char *name, size_t n);

/* ---- csv.c ---- */

/* Table input: a text timestamp with nonzero digits past its column's
 * precision (nanoseconds into a microsecond column) is an error unless
 * truncate. Without this call they are dropped (`firn parquet convert`).
 * Call before the first batch. */
void firn_text__reader_set_truncate(struct firn_text_reader *r, bool truncate);

/* ---- scalar.c ---- */

/* Parses the text of one scalar value of f's type and appends it to b.
 * A bad value: FIRN_EINVAL "column C: 'v' is not a T". */
int firn_text__append_scalar(struct firn_builder *b, const struct firn_text__field *f,
			     const char *s, size_t n, struct firn_error *err);
/* Appends a null, or FIRN_EINVAL "column C: null in a required field". */
int firn_text__append_null(struct firn_builder *b, const struct firn_text__field *f,
			   struct firn_error *err);
/* What a text value can be read as, for inference: a set of FIRN_TEXT__K_*. */
enum {
	FIRN_TEXT__K_LONG = 1,
	FIRN_TEXT__K_DOUBLE = 2,
	FIRN_TEXT__K_BOOL = 4,
	FIRN_TEXT__K_DATE = 8,
	FIRN_TEXT__K_TS = 16,
	FIRN_TEXT__K_TSTZ = 32,
	FIRN_TEXT__K_STRING = 64,
	FIRN_TEXT__K_TSNS = 128,   /* timestamp_ns: sub-microsecond digits */
	FIRN_TEXT__K_TSTZNS = 256,
	FIRN_TEXT__K_ALL = 511
};
unsigned firn_text__kinds(const char *s, size_t n);
/* The narrowest type name in a set of kinds ("long" ... "string"). */
const char *firn_text__kind_name(unsigned kinds);

/* ---- jsonl.c ---- */

/* Parses JSON text (a nested CSV cell) as a value of f's type; appends it. */
int firn_jsonl__append_text(struct firn_builder *b, const struct firn_text__field *f,
			    const char *s, size_t n, struct firn_error *err);
/* Parses one JSON Lines object as a row of the root struct. */
int firn_jsonl__append_row(struct firn_builder *root, const struct firn_text__field *rootf,
			   const char *s, size_t n, bool *seen, struct firn_error *err);

/* JSON Lines type inference: feed every line, then get a schema SPEC. */
struct firn_jsonl__infer;
int firn_jsonl__infer_new(struct firn_jsonl__infer **out);
int firn_jsonl__infer_line(struct firn_jsonl__infer *inf, const char *s, size_t n,
			   struct firn_error *err);
int firn_jsonl__infer_spec(struct firn_jsonl__infer *inf, struct firn_buf *spec);
void firn_jsonl__infer_free(struct firn_jsonl__infer *inf);

/* Whether the reader reads in sequence only (stdin, a pipe): it cannot be
 * opened a second time to read the same input. */
bool firn_text__reader_sequential(const struct firn_text_reader *r);

#endif
