/* Thrift compact protocol: a bounds-checked reader and an appending writer.
 * Internal to libfirn (Parquet footers and page headers). */
#ifndef FIRN_THRIFT_H
#define FIRN_THRIFT_H

#include <stdbool.h>
#include <stdint.h>

#include "firn/util.h"

enum thrift_type {
	TT_STOP = 0, TT_TRUE = 1, TT_FALSE = 2, TT_I8 = 3, TT_I16 = 4, TT_I32 = 5, TT_I64 = 6,
	TT_DOUBLE = 7, TT_BINARY = 8, TT_LIST = 9, TT_SET = 10, TT_MAP = 11, TT_STRUCT = 12,
	TT_UUID = 13
};

/* Reading: the first error sticks (ok = false) and every later read
 * returns zeros, so parsers check once per struct. */
struct thrift_reader {
	const uint8_t *start, *p, *end;
	int depth;
	bool ok;
	const char *what; /* the first problem */
};

void firn_thrift__reader_init(struct thrift_reader *r, const uint8_t *p, size_t n);
uint64_t firn_thrift__varint(struct thrift_reader *r);
int64_t firn_thrift__i64(struct thrift_reader *r);
int32_t firn_thrift__i32(struct thrift_reader *r);
int8_t firn_thrift__i8(struct thrift_reader *r);
double firn_thrift__double(struct thrift_reader *r);
/* A binary/string: a pointer into the input and its length. */
const uint8_t *firn_thrift__binary(struct thrift_reader *r, int32_t *len);
/* The next field header of the current struct: *type TT_STOP at its end.
 * *last is the previous field id of this struct (start at 0). A bool
 * field's value is its type (TT_TRUE / TT_FALSE). */
void firn_thrift__field(struct thrift_reader *r, int *type, int16_t *id, int16_t *last);
/* A list/set header; the size is checked against the bytes left. */
int32_t firn_thrift__list(struct thrift_reader *r, int *elem_type);
/* Skips one value of the given type (nested to at most 64 levels). */
void firn_thrift__skip(struct thrift_reader *r, int type);
/* Enters / leaves a nested struct (depth limit). */
void firn_thrift__enter(struct thrift_reader *r);
void firn_thrift__leave(struct thrift_reader *r);
void firn_thrift__fail(struct thrift_reader *r, const char *what);

/* Writing: appends to a buffer; 0 or FIRN_ENOMEM sticks in `rc`. */
struct thrift_writer {
	struct firn_buf *b;
	int16_t last[64];
	int depth;
	int rc;
};

void firn_thrift__writer_init(struct thrift_writer *w, struct firn_buf *b);
void firn_thrift__w_field(struct thrift_writer *w, int type, int16_t id);
void firn_thrift__w_varint(struct thrift_writer *w, uint64_t v);
void firn_thrift__w_i32(struct thrift_writer *w, int32_t v);
void firn_thrift__w_i64(struct thrift_writer *w, int64_t v);
void firn_thrift__w_byte(struct thrift_writer *w, uint8_t v);
void firn_thrift__w_binary(struct thrift_writer *w, const void *p, int32_t n);
void firn_thrift__w_list(struct thrift_writer *w, int elem_type, int32_t size);
/* Struct nesting: begin after writing the field header, end writes the stop. */
void firn_thrift__w_begin(struct thrift_writer *w);
void firn_thrift__w_end(struct thrift_writer *w);
/* Field helpers */
void firn_thrift__f_i32(struct thrift_writer *w, int16_t id, int32_t v);
void firn_thrift__f_i64(struct thrift_writer *w, int16_t id, int64_t v);
void firn_thrift__f_bool(struct thrift_writer *w, int16_t id, bool v);
void firn_thrift__f_binary(struct thrift_writer *w, int16_t id, const void *p, int32_t n);
void firn_thrift__f_string(struct thrift_writer *w, int16_t id, const char *s);

#endif
