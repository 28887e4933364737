/* The SET list of firn update: `col = expr, ...` (expr: literal, NULL, a
 * column, or + - * / on them, numeric columns only for arithmetic). Every
 * expression sees the rows' old values. Internal. */
#ifndef FIRN_ICE_SET_H
#define FIRN_ICE_SET_H

#include "firn/arrow.h"
#include "firn/error.h"
#include "firn/util.h"

struct firn_ice_set;

/* Parses and binds text against a struct schema (top-level columns are
 * assigned). FIRN_EINVAL "set: at N: ..." on bad text, unknown columns,
 * values that do not fit, NULL into a required column. */
int firn_ice__set_parse(const char *text, const struct ArrowSchema *schema, struct firn_arena *arena,
			struct firn_ice_set **out, struct firn_error *err);
/* Field ids an update must read (all columns: rows are written whole). */
int firn_ice__set_field_ids(const struct firn_ice_set *s, const struct ArrowSchema *schema,
			    int32_t **ids, size_t *n);
/* Replaces the assigned columns of rows (a struct array shaped as schema,
 * whose children the caller owns through it) with their new values. */
int firn_ice__set_apply(const struct firn_ice_set *s, const struct ArrowSchema *schema,
			struct ArrowArray *rows, struct firn_error *err);

#endif
