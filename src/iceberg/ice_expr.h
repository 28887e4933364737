/* Row filters: the `--where` predicate language of DESIGN.md §4, bound to an
 * Iceberg schema, evaluated on Arrow batches and on file/partition metrics.
 * Internal to libfirn.
 *
 * Language: comparisons `= != <> < <= > >=` between a column and a literal
 * (either side), `col [NOT] IN (lit, ...)`, `col IS [NOT] NULL`,
 * `col IS [NOT] NAN`, `col [NOT] LIKE 'pattern'` ('%' any run, '_' one
 * character; 'abc%' is a starts-with), `AND`, `OR`, `NOT`, parentheses,
 * `TRUE`, `FALSE`. Keywords are case-insensitive. Columns are names, dotted
 * for struct fields (`loc.lat`), or `backquoted`. Literals: 'strings' ('' is
 * a quote), numbers (123, -1.5, 1e3), TRUE/FALSE. Literals are coerced to
 * the column's type when the expression is bound (`ts >= '2026-01-01'`).
 *
 * Semantics are SQL's: a comparison with a null value is unknown, and a row
 * passes only when the whole predicate is true. NaN: `= NaN` never matches
 * via comparison; use IS NAN. */
#ifndef FIRN_ICE_EXPR_H
#define FIRN_ICE_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "firn/arrow.h"
#include "firn/error.h"
#include "firn/util.h"
#include "iceberg/ice_datum.h"

enum firn_expr_op {
	FIRN_X_TRUE,
	FIRN_X_FALSE,
	FIRN_X_AND, /* left, right */
	FIRN_X_OR,  /* left, right */
	FIRN_X_NOT, /* left */
	FIRN_X_EQ,  /* the predicates: column op values */
	FIRN_X_NE,
	FIRN_X_LT,
	FIRN_X_LE,
	FIRN_X_GT,
	FIRN_X_GE,
	FIRN_X_IN,
	FIRN_X_NOT_IN,
	FIRN_X_IS_NULL,
	FIRN_X_NOT_NULL,
	FIRN_X_IS_NAN,
	FIRN_X_NOT_NAN,
	FIRN_X_STARTS_WITH,     /* LIKE 'prefix%' */
	FIRN_X_NOT_STARTS_WITH, /* NOT LIKE 'prefix%' */
	FIRN_X_LIKE,            /* any other pattern (not usable for pruning) */
	FIRN_X_NOT_LIKE
};

struct firn_expr {
	enum firn_expr_op op;
	struct firn_expr *left, *right;
	int pos; /* 1-based character position in the text (errors) */

	/* predicates, as parsed */
	const char *name;      /* column reference as written, dots kept */
	const char **texts;    /* literal texts (IN has several; LIKE: pattern) */
	bool *text_quoted;     /* literal was a 'string' */
	size_t n_values;

	/* predicates, after binding (or after projection onto a partition) */
	int32_t field_id;
	struct firn_type type;      /* the column's type */
	struct firn_datum *values;  /* n_values literals coerced to `type` */
};

/* Parses text into a tree allocated in arena (freed with it). FIRN_EINVAL
 * with "where: at N: ..." (N 1-based) on a syntax error. */
int firn_ice__expr_parse(const char *text, struct firn_arena *arena, struct firn_expr **out,
			 struct firn_error *err);

/* Binds every predicate of e (in place) to a struct schema with field ids:
 * resolves the column (exact name first, then a unique case-insensitive
 * match; dotted paths through structs), fills field_id and type, and
 * coerces the literals into values (allocated in arena). Errors,
 * FIRN_EINVAL, one line each:
 *   "where: at N: unknown column 'x'"
 *   "where: at N: cannot compare long column 'id' with 'abc'"
 *   "where: at N: column 'tags' is a list; only primitive columns can be filtered"
 *   "where: at N: LIKE needs a string column" / "IS NAN needs a float or double column"
 *   "where: at N: 3000000000 is out of range for int column 'x'" */
int firn_ice__expr_bind(struct firn_expr *e, const struct ArrowSchema *schema,
			struct firn_arena *arena, struct firn_error *err);

/* Appends the distinct field ids a bound e references to *ids (growable,
 * firn_realloc'd; *n is the count). */
int firn_ice__expr_field_ids(const struct firn_expr *e, int32_t **ids, size_t *n);

/* Evaluates a bound e on one batch. `schema` is the batch's struct schema
 * (children carry field ids; columns are found by field id, through
 * structs), `batch` the struct array. out[i] is set to 1 when row i
 * satisfies e (true, not unknown), else 0; out has batch->length bytes.
 * FIRN_EINVAL if a referenced field id is not in the batch. */
int firn_ice__expr_eval(const struct firn_expr *e, const struct ArrowSchema *schema,
			const struct ArrowArray *batch, uint8_t *out, struct firn_error *err);

struct firn_parquet_dict_codes;
/* firn_ice__expr_eval for a bound e that reads one string or binary column
 * only, given as a row group's dictionary codes: e evaluated once per
 * dictionary entry (and once for null), then out[i] is the answer of row
 * i's entry. `schema` is a struct of that one column. */
int firn_ice__expr_eval_codes(const struct firn_expr *e, const struct ArrowSchema *schema,
			      const struct firn_parquet_dict_codes *dc, uint8_t *out,
			      struct firn_error *err);

/* ---- metrics ------------------------------------------------------- */

/* What is known about one column over a set of rows (a data file, a row
 * group, a partition). Counts are -1 when unknown. Bounds are over non-null,
 * non-NaN values, typed as the column; may be truncated (lower a prefix,
 * upper rounded up). */
struct firn_col_metrics {
	int32_t field_id;
	bool has_lower, has_upper;
	struct firn_datum lower, upper;
	int64_t value_count; /* includes nulls and NaNs */
	int64_t null_count;
	int64_t nan_count;
};

struct firn_metrics {
	int64_t record_count; /* -1 unknown */
	const struct firn_col_metrics *cols;
	size_t n_cols;
};

enum firn_eval_result {
	FIRN_EVAL_NONE = -1, /* no row can match */
	FIRN_EVAL_SOME = 0,  /* some rows may match: read them and filter */
	FIRN_EVAL_ALL = 1    /* every row matches: no filter needed */
};

/* Decides a bound e against metrics, conservatively: NONE only when no row
 * can match, ALL only when every row must. A column absent from m is
 * unknown (SOME), except that a column known to be all null (null_count ==
 * record_count) decides IS NULL / NOT NULL and comparisons. */
enum firn_eval_result firn_ice__expr_eval_metrics(const struct firn_expr *e,
						  const struct firn_metrics *m);

/* A partition field, as projection sees it. */
struct firn_pfield {
	int32_t source_id;
	int32_t field_id; /* the partition field id (1000+) */
	struct firn_transform transform;
	struct firn_type source_type, result_type;
};

/* Inclusive projection of a bound e onto a partition spec: a new tree (in
 * arena) over partition field ids whose result is true for a partition
 * whenever e is true for some row in it. NOT is pushed down to the
 * predicates first. A predicate with no usable partition field becomes
 * TRUE. Rules: for any transform, col = v → p = t(v), IN likewise;
 * order-preserving transforms project < <= to p <= t(v) and > >= to
 * p >= t(v); IS NULL / NOT NULL carry over (not for void); starts-with
 * carries over for identity, and for truncate[W] on strings as p = prefix
 * when the prefix has >= W code points, else p starts-with prefix. The
 * result evaluates with firn_ice__expr_eval_metrics over the partition
 * values as metrics (field ids = partition field ids). */
int firn_ice__expr_project(const struct firn_expr *e, const struct firn_pfield *fields,
			   size_t n_fields, struct firn_arena *arena, struct firn_expr **out,
			   struct firn_error *err);

#endif
