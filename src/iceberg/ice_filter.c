/* The --where language: parser, binder, batch evaluation (SQL three-valued
 * logic), metrics evaluation and inclusive projection onto partitions. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arrow/types.h"
#include "firn/parquet.h"
#include "iceberg/ice_expr.h"
#include "iceberg/ice_meta.h"

/* ---- parsing -------------------------------------------------------- */

struct parser {
	const char *s;
	size_t i;
	struct firn_arena *a;
	struct firn_error *err;
	int depth; /* of parentheses and NOTs: bounded, the parser recurses */
};

#define MAX_DEPTH 200

static int perr(struct parser *p, size_t at, const char *msg)
{
	return firn_error_set(p->err, FIRN_EINVAL, "where: at %zu: %s", at + 1, msg);
}

static void ws(struct parser *p)
{
	while (isspace((unsigned char)p->s[p->i]))
		p->i++;
}

static bool word_at(struct parser *p, const char *w)
{
	ws(p);
	size_t n = strlen(w);
	if (strncasecmp(p->s + p->i, w, n) != 0)
		return false;
	char c = p->s[p->i + n];
	return !(isalnum((unsigned char)c) || c == '_');
}

static bool accept(struct parser *p, const char *w)
{
	if (!word_at(p, w))
		return false;
	p->i += strlen(w);
	return true;
}

static struct firn_expr *node(struct parser *p, enum firn_expr_op op, size_t pos)
{
	struct firn_expr *e = firn_arena_alloc(p->a, sizeof(*e));
	if (e) {
		e->op = op;
		e->pos = (int)pos + 1;
	}
	return e;
}

enum tok { T_NONE, T_NAME, T_STRING, T_NUMBER, T_BOOL };

/* An operand: a column name (plain or `quoted`, dotted) or a literal. */
static int operand(struct parser *p, enum tok *kind, char **text)
{
	ws(p);
	const char *s = p->s;
	size_t start = p->i;
	struct firn_buf b = { 0 };
	*kind = T_NONE;
	/* an operand is no longer than the rest of the text: with the room
	 * taken first, the unchecked appends below cannot drop a character */
	if (firn_buf_reserve(&b, strlen(s + p->i) + 1) != 0)
		return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
	if (s[p->i] == '\'') {
		p->i++;
		for (;;) {
			if (s[p->i] == '\0') {
				firn_buf_free(&b);
				return perr(p, start, "unterminated string");
			}
			if (s[p->i] == '\'') {
				if (s[p->i + 1] == '\'') {
					firn_buf_putc(&b, '\'');
					p->i += 2;
					continue;
				}
				p->i++;
				break;
			}
			firn_buf_putc(&b, (uint8_t)s[p->i++]);
		}
		*kind = T_STRING;
	} else if (isdigit((unsigned char)s[p->i]) || ((s[p->i] == '-' || s[p->i] == '+' || s[p->i] == '.') &&
						       (isdigit((unsigned char)s[p->i + 1]) || s[p->i + 1] == '.'))) {
		size_t j = p->i + 1;
		while (isalnum((unsigned char)s[j]) || s[j] == '.' ||
		       ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E')))
			j++;
		firn_buf_append(&b, s + p->i, j - p->i);
		p->i = j;
		*kind = T_NUMBER;
	} else if (word_at(p, "true") || word_at(p, "false")) {
		bool t = word_at(p, "true");
		firn_buf_puts(&b, t ? "true" : "false");
		p->i += t ? 4 : 5;
		*kind = T_BOOL;
	} else {
		for (;;) {
			if (s[p->i] == '`') {
				p->i++;
				while (s[p->i] && s[p->i] != '`')
					firn_buf_putc(&b, (uint8_t)s[p->i++]);
				if (s[p->i] != '`') {
					firn_buf_free(&b);
					return perr(p, start, "unterminated `name`");
				}
				p->i++;
			} else if (isalpha((unsigned char)s[p->i]) || s[p->i] == '_' || (unsigned char)s[p->i] >= 0x80) {
				while (isalnum((unsigned char)s[p->i]) || s[p->i] == '_' || (unsigned char)s[p->i] >= 0x80)
					firn_buf_putc(&b, (uint8_t)s[p->i++]);
			} else {
				break;
			}
			if (s[p->i] == '.' && (isalpha((unsigned char)s[p->i + 1]) || s[p->i + 1] == '_' || s[p->i + 1] == '`')) {
				firn_buf_putc(&b, '.');
				p->i++;
				continue;
			}
			break;
		}
		if (b.len == 0) {
			firn_buf_free(&b);
			if (s[p->i] == '\0')
				return perr(p, p->i, "unexpected end of the expression");
			char msg[64];
			snprintf(msg, sizeof(msg), "unexpected '%c'", s[p->i]);
			return perr(p, p->i, msg);
		}
		*kind = T_NAME;
	}
	firn_buf_cstr(&b);
	*text = firn_arena_strndup(p->a, b.data ? (const char *)b.data : "", b.len);
	firn_buf_free(&b);
	if (*text == NULL)
		return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
	return 0;
}

static const char *reserved[] = { "and", "or", "not", "in", "is", "null", "like", "nan", "between" };

static bool is_reserved(const char *w)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(w, reserved[i]) == 0)
			return true;
	return false;
}

static int set_values(struct parser *p, struct firn_expr *e, char **texts, bool *quoted, size_t n)
{
	e->texts = firn_arena_alloc(p->a, (n + 1) * sizeof(char *));
	e->text_quoted = firn_arena_alloc(p->a, n + 1);
	if (!e->texts || !e->text_quoted)
		return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		e->texts[i] = texts[i];
		e->text_quoted[i] = quoted[i];
	}
	e->n_values = n;
	return 0;
}

static int parse_or(struct parser *p, struct firn_expr **out);
static int parse_not_inner(struct parser *p, struct firn_expr **out, size_t start);

static int parse_predicate(struct parser *p, struct firn_expr **out)
{
	ws(p);
	size_t start = p->i;
	enum tok k1;
	char *t1;
	FIRN_TRY(operand(p, &k1, &t1));
	if (k1 == T_NAME && is_reserved(t1))
		return perr(p, start, "expected a column or a value");
	ws(p);
	const char *s = p->s + p->i;
	struct firn_expr *e = NULL;
	if (k1 == T_NAME && word_at(p, "is")) {
		p->i += 2;
		bool neg = accept(p, "not");
		enum firn_expr_op op;
		if (accept(p, "null"))
			op = neg ? FIRN_X_NOT_NULL : FIRN_X_IS_NULL;
		else if (accept(p, "nan"))
			op = neg ? FIRN_X_NOT_NAN : FIRN_X_IS_NAN;
		else
			return perr(p, p->i, "expected NULL or NAN after IS");
		e = node(p, op, start);
		if (!e)
			return FIRN_ENOMEM;
		e->name = t1;
		*out = e;
		return 0;
	}
	bool neg = false;
	size_t save = p->i;
	if (k1 == T_NAME && accept(p, "not")) {
		if (word_at(p, "in") || word_at(p, "like") || word_at(p, "between"))
			neg = true;
		else
			p->i = save;
	}
	if (k1 == T_NAME && accept(p, "in")) {
		ws(p);
		if (p->s[p->i] != '(')
			return perr(p, p->i, "expected '(' after IN");
		p->i++;
		char *texts[1024];
		bool quoted[1024];
		size_t n = 0;
		for (;;) {
			enum tok k;
			char *t;
			size_t at = p->i;
			FIRN_TRY(operand(p, &k, &t));
			if (k == T_NAME)
				return perr(p, at, "IN takes values, not columns");
			if (n == 1024)
				return perr(p, at, "too many values in IN (...)");
			texts[n] = t;
			quoted[n++] = k == T_STRING;
			ws(p);
			if (p->s[p->i] == ',') {
				p->i++;
				continue;
			}
			if (p->s[p->i] == ')') {
				p->i++;
				break;
			}
			return perr(p, p->i, "expected ',' or ')' in IN (...)");
		}
		e = node(p, neg ? FIRN_X_NOT_IN : FIRN_X_IN, start);
		if (!e)
			return FIRN_ENOMEM;
		e->name = t1;
		FIRN_TRY(set_values(p, e, texts, quoted, n));
		*out = e;
		return 0;
	}
	if (k1 == T_NAME && accept(p, "between")) { /* lo <= col <= hi; NOT: col < lo or col > hi */
		enum tok kv[2];
		char *tv[2];
		for (int k = 0; k < 2; k++) {
			size_t at = p->i;
			if (k == 1 && !accept(p, "and"))
				return perr(p, p->i, "expected AND in BETWEEN ... AND ...");
			at = p->i;
			FIRN_TRY(operand(p, &kv[k], &tv[k]));
			if (kv[k] == T_NAME)
				return perr(p, at, "BETWEEN takes values, not columns");
		}
		struct firn_expr *lo = node(p, neg ? FIRN_X_LT : FIRN_X_GE, start);
		struct firn_expr *hi = node(p, neg ? FIRN_X_GT : FIRN_X_LE, start);
		e = node(p, neg ? FIRN_X_OR : FIRN_X_AND, start);
		if (!lo || !hi || !e)
			return FIRN_ENOMEM;
		lo->name = hi->name = t1;
		bool q0 = kv[0] == T_STRING, q1 = kv[1] == T_STRING;
		FIRN_TRY(set_values(p, lo, &tv[0], &q0, 1));
		FIRN_TRY(set_values(p, hi, &tv[1], &q1, 1));
		e->left = lo;
		e->right = hi;
		*out = e;
		return 0;
	}
	if (k1 == T_NAME && !neg && p->s[p->i] == '(' &&
	    (strcasecmp(t1, "starts_with") == 0 || strcasecmp(t1, "not_starts_with") == 0)) {
		/* Iceberg's startsWith / notStartsWith, as a call */
		bool not = strcasecmp(t1, "not_starts_with") == 0;
		p->i++;
		enum tok kc, kv;
		char *col, *prefix;
		size_t at = p->i;
		FIRN_TRY(operand(p, &kc, &col));
		if (kc != T_NAME || is_reserved(col))
			return perr(p, at, "starts_with needs a column first");
		ws(p);
		if (p->s[p->i] != ',')
			return perr(p, p->i, "expected ',' in starts_with(column, 'prefix')");
		p->i++;
		at = p->i;
		FIRN_TRY(operand(p, &kv, &prefix));
		if (kv != T_STRING)
			return perr(p, at, "starts_with needs a 'prefix'");
		ws(p);
		if (p->s[p->i] != ')')
			return perr(p, p->i, "expected ')' after starts_with(column, 'prefix'");
		p->i++;
		e = node(p, not ? FIRN_X_NOT_STARTS_WITH : FIRN_X_STARTS_WITH, start);
		if (!e)
			return FIRN_ENOMEM;
		e->name = col;
		bool q = true;
		FIRN_TRY(set_values(p, e, &prefix, &q, 1));
		*out = e;
		return 0;
	}
	if (k1 == T_NAME && accept(p, "like")) {
		enum tok k;
		char *t;
		size_t at = p->i;
		FIRN_TRY(operand(p, &k, &t));
		if (k != T_STRING)
			return perr(p, at, "LIKE needs a 'pattern'");
		/* 'abc%' with no other wildcard: starts-with */
		size_t len = strlen(t);
		bool prefix = len > 0 && t[len - 1] == '%' && strcspn(t, "%_") == len - 1;
		enum firn_expr_op op = prefix ? (neg ? FIRN_X_NOT_STARTS_WITH : FIRN_X_STARTS_WITH)
					      : (neg ? FIRN_X_NOT_LIKE : FIRN_X_LIKE);
		if (prefix)
			t[len - 1] = '\0';
		e = node(p, op, start);
		if (!e)
			return FIRN_ENOMEM;
		e->name = t1;
		bool q = true;
		FIRN_TRY(set_values(p, e, &t, &q, 1));
		*out = e;
		return 0;
	}
	static const struct {
		const char *sym;
		enum firn_expr_op op, flipped;
	} ops[] = { { "<=", FIRN_X_LE, FIRN_X_GE }, { ">=", FIRN_X_GE, FIRN_X_LE },
		    { "<>", FIRN_X_NE, FIRN_X_NE },  { "!=", FIRN_X_NE, FIRN_X_NE },
		    { "==", FIRN_X_EQ, FIRN_X_EQ },  { "=", FIRN_X_EQ, FIRN_X_EQ },
		    { "<", FIRN_X_LT, FIRN_X_GT },   { ">", FIRN_X_GT, FIRN_X_LT } };
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		size_t n = strlen(ops[k].sym);
		if (strncmp(s, ops[k].sym, n) != 0)
			continue;
		p->i += n;
		enum tok k2;
		char *t2;
		size_t at = p->i;
		FIRN_TRY(operand(p, &k2, &t2));
		if (k2 == T_NAME && is_reserved(t2))
			return perr(p, at, "expected a column or a value");
		if ((k1 == T_NAME) == (k2 == T_NAME))
			return perr(p, start, k1 == T_NAME ? "comparing two columns is not supported"
							   : "a comparison needs a column");
		e = node(p, k1 == T_NAME ? ops[k].op : ops[k].flipped, start);
		if (!e)
			return FIRN_ENOMEM;
		e->name = k1 == T_NAME ? t1 : t2;
		char *lit = k1 == T_NAME ? t2 : t1;
		bool q = (k1 == T_NAME ? k2 : k1) == T_STRING;
		FIRN_TRY(set_values(p, e, &lit, &q, 1));
		*out = e;
		return 0;
	}
	if (k1 == T_NAME) { /* a bare boolean column */
		e = node(p, FIRN_X_EQ, start);
		if (!e)
			return FIRN_ENOMEM;
		e->name = t1;
		char *lit = "true";
		bool q = false;
		FIRN_TRY(set_values(p, e, &lit, &q, 1));
		*out = e;
		return 0;
	}
	if (k1 == T_BOOL) {
		*out = node(p, strcmp(t1, "true") == 0 ? FIRN_X_TRUE : FIRN_X_FALSE, start);
		return *out ? 0 : FIRN_ENOMEM;
	}
	return perr(p, p->i, "expected a comparison operator");
}

static int parse_not(struct parser *p, struct firn_expr **out)
{
	ws(p);
	size_t start = p->i;
	if (p->depth >= MAX_DEPTH)
		return perr(p, start, "the expression nests too deeply");
	p->depth++;
	int rc = parse_not_inner(p, out, start);
	p->depth--;
	return rc;
}

static int parse_not_inner(struct parser *p, struct firn_expr **out, size_t start)
{
	if (accept(p, "not")) {
		struct firn_expr *c;
		FIRN_TRY(parse_not(p, &c));
		struct firn_expr *e = node(p, FIRN_X_NOT, start);
		if (!e)
			return FIRN_ENOMEM;
		e->left = c;
		*out = e;
		return 0;
	}
	if (p->s[p->i] == '(') {
		p->i++;
		FIRN_TRY(parse_or(p, out));
		ws(p);
		if (p->s[p->i] != ')')
			return perr(p, p->i, "expected ')'");
		p->i++;
		return 0;
	}
	return parse_predicate(p, out);
}

static int parse_and(struct parser *p, struct firn_expr **out)
{
	FIRN_TRY(parse_not(p, out));
	for (;;) {
		size_t at = p->i;
		if (!accept(p, "and"))
			return 0;
		struct firn_expr *r;
		FIRN_TRY(parse_not(p, &r));
		struct firn_expr *e = node(p, FIRN_X_AND, at);
		if (!e)
			return FIRN_ENOMEM;
		e->left = *out;
		e->right = r;
		*out = e;
	}
}

static int parse_or(struct parser *p, struct firn_expr **out)
{
	FIRN_TRY(parse_and(p, out));
	for (;;) {
		size_t at = p->i;
		if (!accept(p, "or"))
			return 0;
		struct firn_expr *r;
		FIRN_TRY(parse_and(p, &r));
		struct firn_expr *e = node(p, FIRN_X_OR, at);
		if (!e)
			return FIRN_ENOMEM;
		e->left = *out;
		e->right = r;
		*out = e;
	}
}

int firn_ice__expr_parse(const char *text, struct firn_arena *arena, struct firn_expr **out,
			 struct firn_error *err)
{
	struct parser p = { text ? text : "", 0, arena, err, 0 };
	*out = NULL;
	ws(&p);
	if (p.s[p.i] == '\0')
		return perr(&p, 0, "empty expression");
	int rc = parse_or(&p, out);
	if (rc == FIRN_ENOMEM)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc != 0)
		return rc;
	ws(&p);
	if (p.s[p.i] != '\0') {
		char msg[80];
		snprintf(msg, sizeof(msg), "unexpected '%.20s'", p.s + p.i);
		return perr(&p, p.i, msg);
	}
	return 0;
}

/* ---- binding -------------------------------------------------------- */

static int bind_pred(struct firn_expr *e, const struct ArrowSchema *schema,
		     struct firn_arena *arena, struct firn_error *err)
{
	const struct ArrowSchema *col = firn_ice__schema_find_name(schema, e->name);
	if (!col)
		return firn_error_set(err, FIRN_EINVAL, "where: at %d: unknown column '%s'", e->pos, e->name);
	FIRN_TRY(firn_type_of(col, &e->type, err));
	e->field_id = firn_schema_field_id(col);
	char tb[FIRN_TYPE_NAME_MAX];
	const char *tw = firn_arrow__type_name(&e->type, tb);
	if (e->type.id == FIRN_A_STRUCT || e->type.id == FIRN_A_LIST || e->type.id == FIRN_A_MAP)
		return firn_error_set(err, FIRN_EINVAL,
				      "where: at %d: column '%s' is a %s; only primitive columns can be filtered",
				      e->pos, e->name, tw);
	bool stringy = e->type.id == FIRN_A_STRING;
	if ((e->op == FIRN_X_STARTS_WITH || e->op == FIRN_X_NOT_STARTS_WITH || e->op == FIRN_X_LIKE ||
	     e->op == FIRN_X_NOT_LIKE) && !stringy)
		return firn_error_set(err, FIRN_EINVAL, "where: at %d: LIKE needs a string column, '%s' is %s",
				      e->pos, e->name, tw);
	if ((e->op == FIRN_X_IS_NAN || e->op == FIRN_X_NOT_NAN) && e->type.id != FIRN_A_FLOAT &&
	    e->type.id != FIRN_A_DOUBLE)
		return firn_error_set(err, FIRN_EINVAL,
				      "where: at %d: IS NAN needs a float or double column, '%s' is %s",
				      e->pos, e->name, tw);
	if (e->n_values == 0)
		return 0;
	e->values = firn_arena_alloc(arena, e->n_values * sizeof(*e->values));
	if (!e->values)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < e->n_values; i++) {
		const char *t = e->texts[i];
		bool numeric_col = e->type.id == FIRN_A_INT32 || e->type.id == FIRN_A_INT64 ||
				   e->type.id == FIRN_A_FLOAT || e->type.id == FIRN_A_DOUBLE ||
				   e->type.id == FIRN_A_DECIMAL;
		if (e->op == FIRN_X_STARTS_WITH || e->op == FIRN_X_NOT_STARTS_WITH || e->op == FIRN_X_LIKE ||
		    e->op == FIRN_X_NOT_LIKE) {
			e->values[i].v.bin.p = (const uint8_t *)t;
			e->values[i].v.bin.n = strlen(t);
			continue;
		}
		if (!e->text_quoted[i] && !numeric_col && e->type.id != FIRN_A_BOOL) {
			return firn_error_set(err, FIRN_EINVAL, "where: at %d: cannot compare %s column '%s' with %s",
					      e->pos, tw, e->name, t);
		}
		if (!e->text_quoted[i] && e->type.id == FIRN_A_BOOL &&
		    strcasecmp(t, "true") != 0 && strcasecmp(t, "false") != 0)
			return firn_error_set(err, FIRN_EINVAL, "where: at %d: cannot compare boolean column '%s' with %s",
					      e->pos, e->name, t);
		struct firn_error e2 = { 0 };
		if (firn_ice__datum_parse(&e->type, t, strlen(t), arena, &e->values[i], &e2) != 0) {
			if ((e->type.id == FIRN_A_INT32 || e->type.id == FIRN_A_INT64) && !e->text_quoted[i]) {
				char *end;
				strtoll(t, &end, 10);
				if (*end == '\0')
					return firn_error_set(err, FIRN_EINVAL,
							      "where: at %d: %s is out of range for %s column '%s'",
							      e->pos, t, tw, e->name);
			}
			return firn_error_set(err, FIRN_EINVAL, "where: at %d: cannot compare %s column '%s' with '%s'",
					      e->pos, tw, e->name, t);
		}
	}
	return 0;
}

int firn_ice__expr_bind(struct firn_expr *e, const struct ArrowSchema *schema,
			struct firn_arena *arena, struct firn_error *err)
{
	switch (e->op) {
	case FIRN_X_TRUE:
	case FIRN_X_FALSE: return 0;
	case FIRN_X_AND:
	case FIRN_X_OR:
		FIRN_TRY(firn_ice__expr_bind(e->left, schema, arena, err));
		return firn_ice__expr_bind(e->right, schema, arena, err);
	case FIRN_X_NOT: return firn_ice__expr_bind(e->left, schema, arena, err);
	default: return bind_pred(e, schema, arena, err);
	}
}

int firn_ice__expr_field_ids(const struct firn_expr *e, int32_t **ids, size_t *n)
{
	switch (e->op) {
	case FIRN_X_TRUE:
	case FIRN_X_FALSE: return 0;
	case FIRN_X_AND:
	case FIRN_X_OR:
		FIRN_TRY(firn_ice__expr_field_ids(e->left, ids, n));
		return firn_ice__expr_field_ids(e->right, ids, n);
	case FIRN_X_NOT: return firn_ice__expr_field_ids(e->left, ids, n);
	default:
		for (size_t i = 0; i < *n; i++)
			if ((*ids)[i] == e->field_id)
				return 0;
		int32_t *v = firn_realloc(*ids, (*n + 1) * sizeof(int32_t));
		if (!v)
			return FIRN_ENOMEM;
		v[(*n)++] = e->field_id;
		*ids = v;
		return 0;
	}
}

/* ---- evaluation on batches ------------------------------------------ */

enum { F = 0, T = 1, U = 2 };

/* The column array of field id, and whether row i is null through its
 * struct parents (nullmask gets 1 for null rows). */
static bool find_column(const struct ArrowSchema *s, const struct ArrowArray *a, int32_t id,
			uint8_t *null_through, int64_t base_len, const struct ArrowArray **col,
			int64_t *col_offset)
{
	for (int64_t i = 0; i < s->n_children; i++) {
		const struct ArrowSchema *cs = s->children[i];
		const struct ArrowArray *ca = a->children[i];
		if (firn_schema_field_id(cs) == id) {
			*col = ca;
			*col_offset = a->offset;
			return true;
		}
		if (cs->format[0] == '+' && cs->format[1] == 's' && firn_ice__schema_find(cs, id, NULL)) {
			/* mark rows where this struct is null */
			for (int64_t r = 0; r < base_len; r++)
				if (ca->null_count != 0 && !firn_bit_get(ca->buffers[0], ca->offset + a->offset + r))
					null_through[r] = 1;
			struct ArrowArray shifted = *ca;
			shifted.offset = ca->offset + a->offset;
			const struct ArrowArray *inner;
			int64_t off;
			if (!find_column(cs, &shifted, id, null_through, base_len, &inner, &off))
				return false;
			*col = inner;
			*col_offset = off;
			return true;
		}
	}
	return false;
}

static bool like_match(const uint8_t *s, size_t n, const char *pat)
{
	if (*pat == '\0')
		return n == 0;
	if (*pat == '%') {
		for (size_t k = 0; k <= n; k++)
			if (like_match(s + k, n - k, pat + 1))
				return true;
		return false;
	}
	if (n == 0)
		return false;
	if (*pat == '_') {
		size_t k = 1;
		while (k < n && (s[k] & 0xC0) == 0x80)
			k++;
		return like_match(s + k, n - k, pat + 1);
	}
	return (uint8_t)*pat == s[0] && like_match(s + 1, n - 1, pat + 1);
}

static bool is_nan(const struct firn_type *t, const struct firn_datum *d)
{
	return (t->id == FIRN_A_FLOAT && isnan(d->v.f32)) || (t->id == FIRN_A_DOUBLE && isnan(d->v.f64));
}

static uint8_t pred_row(const struct firn_expr *e, const struct firn_datum *d)
{
	const struct firn_type *t = &e->type;
	switch (e->op) {
	case FIRN_X_IS_NULL: return d->null ? T : F;
	case FIRN_X_NOT_NULL: return d->null ? F : T;
	default: break;
	}
	if (d->null)
		return U;
	bool nan = is_nan(t, d);
	switch (e->op) {
	case FIRN_X_IS_NAN: return nan ? T : F;
	case FIRN_X_NOT_NAN: return nan ? F : T;
	case FIRN_X_EQ: return !nan && firn_ice__datum_compare(t, d, &e->values[0]) == 0 ? T : F;
	case FIRN_X_NE: return nan || firn_ice__datum_compare(t, d, &e->values[0]) != 0 ? T : F;
	case FIRN_X_LT: return !nan && firn_ice__datum_compare(t, d, &e->values[0]) < 0 ? T : F;
	case FIRN_X_LE: return !nan && firn_ice__datum_compare(t, d, &e->values[0]) <= 0 ? T : F;
	case FIRN_X_GT: return !nan && firn_ice__datum_compare(t, d, &e->values[0]) > 0 ? T : F;
	case FIRN_X_GE: return !nan && firn_ice__datum_compare(t, d, &e->values[0]) >= 0 ? T : F;
	case FIRN_X_IN:
	case FIRN_X_NOT_IN: {
		bool hit = false;
		for (size_t k = 0; k < e->n_values && !hit && !nan; k++)
			hit = firn_ice__datum_compare(t, d, &e->values[k]) == 0;
		return (hit == (e->op == FIRN_X_IN)) ? T : F;
	}
	case FIRN_X_STARTS_WITH:
	case FIRN_X_NOT_STARTS_WITH: {
		size_t n = e->values[0].v.bin.n;
		bool sw = d->v.bin.n >= n && memcmp(d->v.bin.p, e->values[0].v.bin.p, n) == 0;
		return (sw == (e->op == FIRN_X_STARTS_WITH)) ? T : F;
	}
	case FIRN_X_LIKE:
	case FIRN_X_NOT_LIKE: {
		bool m = like_match(d->v.bin.p, d->v.bin.n, e->texts[0]);
		return (m == (e->op == FIRN_X_LIKE)) ? T : F;
	}
	default: return U;
	}
}

/* out[i] = v[i] OP lit for each comparison OP, as T or F. */
#define CMP_LOOP(TYPE, v, lit, op, n, out)                                              \
	do {                                                                            \
		const TYPE *v_ = (v);                                                   \
		TYPE l_ = (lit);                                                        \
		switch (op) {                                                           \
		case FIRN_X_EQ: for (int64_t i = 0; i < n; i++) out[i] = v_[i] == l_; break; \
		case FIRN_X_NE: for (int64_t i = 0; i < n; i++) out[i] = v_[i] != l_; break; \
		case FIRN_X_LT: for (int64_t i = 0; i < n; i++) out[i] = v_[i] < l_; break;  \
		case FIRN_X_LE: for (int64_t i = 0; i < n; i++) out[i] = v_[i] <= l_; break; \
		case FIRN_X_GT: for (int64_t i = 0; i < n; i++) out[i] = v_[i] > l_; break;  \
		default: for (int64_t i = 0; i < n; i++) out[i] = v_[i] >= l_; break;        \
		}                                                                       \
	} while (0)

/* A comparison of an integer, date, time, timestamp or decimal column (or
 * string equality) with its literal, evaluated on the values directly
 * rather than a datum a row; false when e is not one of those. */
static bool eval_fast(const struct firn_expr *e, const struct ArrowArray *col, int64_t off,
		      const uint8_t *nulls, int64_t n, uint8_t *out)
{
	if (e->op < FIRN_X_EQ || e->op > FIRN_X_GE || col->n_buffers < 2)
		return false;
	int64_t j = col->offset + off;
	const struct firn_datum *lit = &e->values[0];
	switch (e->type.id) {
	case FIRN_A_INT32:
	case FIRN_A_DATE32:
		CMP_LOOP(int32_t, (const int32_t *)col->buffers[1] + j, lit->v.i32, e->op, n, out);
		break;
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP:
		CMP_LOOP(int64_t, (const int64_t *)col->buffers[1] + j, lit->v.i64, e->op, n, out);
		break;
	case FIRN_A_DECIMAL: {
		const uint8_t *v = (const uint8_t *)col->buffers[1] + 16 * j;
		for (int64_t i = 0; i < n; i++) {
			__int128 x;
			memcpy(&x, v + 16 * i, 16);
			int c = (x > lit->v.dec) - (x < lit->v.dec);
			switch (e->op) {
			case FIRN_X_EQ: out[i] = c == 0; break;
			case FIRN_X_NE: out[i] = c != 0; break;
			case FIRN_X_LT: out[i] = c < 0; break;
			case FIRN_X_LE: out[i] = c <= 0; break;
			case FIRN_X_GT: out[i] = c > 0; break;
			default: out[i] = c >= 0; break;
			}
		}
		break;
	}
	case FIRN_A_STRING:
	case FIRN_A_BINARY: {
		if (e->op != FIRN_X_EQ && e->op != FIRN_X_NE)
			return false;
		const int32_t *o = (const int32_t *)col->buffers[1] + j;
		const uint8_t *d = col->buffers[2];
		const uint8_t *lp = lit->v.bin.p;
		size_t ln = lit->v.bin.n;
		uint8_t hit = e->op == FIRN_X_EQ;
		for (int64_t i = 0; i < n; i++) {
			bool eq = (size_t)(o[i + 1] - o[i]) == ln && (ln == 0 || memcmp(d + o[i], lp, ln) == 0);
			out[i] = eq ? hit : (uint8_t)!hit;
		}
		break;
	}
	default:
		return false;
	}
	const uint8_t *valid = col->null_count != 0 ? col->buffers[0] : NULL;
	for (int64_t i = 0; i < n; i++)
		if (nulls[i] || (valid && !firn_bit_get(valid, j + i)))
			out[i] = U;
	return true;
}

static int eval3(const struct firn_expr *e, const struct ArrowSchema *s, const struct ArrowArray *a,
		 uint8_t *out, struct firn_error *err)
{
	int64_t n = a->length;
	switch (e->op) {
	case FIRN_X_TRUE: memset(out, T, (size_t)n); return 0;
	case FIRN_X_FALSE: memset(out, F, (size_t)n); return 0;
	case FIRN_X_AND:
	case FIRN_X_OR: {
		uint8_t *r = firn_malloc((size_t)n + 1);
		if (!r)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		int rc = eval3(e->left, s, a, out, err);
		if (rc == 0)
			rc = eval3(e->right, s, a, r, err);
		if (rc == 0 && e->op == FIRN_X_AND)
			for (int64_t i = 0; i < n; i++) {
				uint8_t x = out[i], y = r[i];
				out[i] = (x == F || y == F) ? F : (x == U || y == U) ? U : T;
			}
		else if (rc == 0)
			for (int64_t i = 0; i < n; i++) {
				uint8_t x = out[i], y = r[i];
				out[i] = (x == T || y == T) ? T : (x == U || y == U) ? U : F;
			}
		firn_free(r);
		return rc;
	}
	case FIRN_X_NOT:
		FIRN_TRY(eval3(e->left, s, a, out, err));
		for (int64_t i = 0; i < n; i++)
			out[i] = out[i] == U ? U : (uint8_t)(1 - out[i]);
		return 0;
	default: break;
	}
	uint8_t *nulls = firn_calloc((size_t)n + 1, 1);
	if (!nulls)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	const struct ArrowArray *col;
	int64_t off;
	if (!find_column(s, a, e->field_id, nulls, n, &col, &off)) {
		firn_free(nulls);
		return firn_error_set(err, FIRN_EINVAL, "where: column '%s' (id %d) is not in the batch",
				      e->name, e->field_id);
	}
	if (eval_fast(e, col, off, nulls, n, out)) {
		firn_free(nulls);
		return 0;
	}
	struct firn_datum d;
	for (int64_t i = 0; i < n; i++) {
		if (nulls[i])
			memset(&d, 0, sizeof(d)), d.null = true;
		else
			firn_ice__datum_from_array(&e->type, col, off + i, &d);
		out[i] = pred_row(e, &d);
	}
	firn_free(nulls);
	return 0;
}

int firn_ice__expr_eval(const struct firn_expr *e, const struct ArrowSchema *schema,
			const struct ArrowArray *batch, uint8_t *out, struct firn_error *err)
{
	FIRN_TRY(eval3(e, schema, batch, out, err));
	for (int64_t i = 0; i < batch->length; i++)
		out[i] = out[i] == T;
	return 0;
}

/* ---- metrics -------------------------------------------------------- */

static const struct firn_col_metrics *metrics_of(const struct firn_metrics *m, int32_t id)
{
	for (size_t i = 0; i < m->n_cols; i++)
		if (m->cols[i].field_id == id)
			return &m->cols[i];
	return NULL;
}

static bool starts(const struct firn_datum *d, const struct firn_datum *prefix)
{
	return d->v.bin.n >= prefix->v.bin.n && memcmp(d->v.bin.p, prefix->v.bin.p, prefix->v.bin.n) == 0;
}

/* bytes of d cut to n, compared with p */
static int cmp_prefix(const struct firn_datum *d, const struct firn_datum *p)
{
	size_t n = d->v.bin.n < p->v.bin.n ? d->v.bin.n : p->v.bin.n;
	int c = n ? memcmp(d->v.bin.p, p->v.bin.p, n) : 0;
	if (c)
		return c;
	return d->v.bin.n < p->v.bin.n ? -1 : 0;
}

static enum firn_eval_result pred_metrics(const struct firn_expr *e, const struct firn_metrics *m)
{
	const struct firn_col_metrics *c = metrics_of(m, e->field_id);
	if (!c)
		return FIRN_EVAL_SOME;
	const struct firn_type *t = &e->type;
	int64_t rc = m->record_count;
	bool all_null = c->null_count >= 0 && ((rc >= 0 && c->null_count == rc) ||
					       (c->value_count >= 0 && c->null_count == c->value_count && c->value_count > 0));
	bool no_null = c->null_count == 0;
	bool floaty = t->id == FIRN_A_FLOAT || t->id == FIRN_A_DOUBLE;
	bool no_nan = !floaty || c->nan_count == 0;
	bool all_nan = floaty && c->nan_count >= 0 && rc >= 0 && c->nan_count == rc;
	switch (e->op) {
	case FIRN_X_IS_NULL: return no_null ? FIRN_EVAL_NONE : all_null ? FIRN_EVAL_ALL : FIRN_EVAL_SOME;
	case FIRN_X_NOT_NULL: return all_null ? FIRN_EVAL_NONE : no_null ? FIRN_EVAL_ALL : FIRN_EVAL_SOME;
	case FIRN_X_IS_NAN:
		if (!floaty || c->nan_count == 0 || all_null)
			return FIRN_EVAL_NONE;
		return all_nan ? FIRN_EVAL_ALL : FIRN_EVAL_SOME;
	case FIRN_X_NOT_NAN:
		if (all_nan)
			return FIRN_EVAL_NONE;
		return (no_nan && no_null) ? FIRN_EVAL_ALL : all_null ? FIRN_EVAL_NONE : FIRN_EVAL_SOME;
	default: break;
	}
	if (all_null)
		return FIRN_EVAL_NONE;
	const struct firn_datum *L = c->has_lower ? &c->lower : NULL, *H = c->has_upper ? &c->upper : NULL;
	const struct firn_datum *v = e->n_values ? &e->values[0] : NULL;
	bool clean = no_null && no_nan; /* every row has a comparable value */
#define CMP(a, b) firn_ice__datum_compare(t, (a), (b))
	switch (e->op) {
	case FIRN_X_LT:
		if (L && CMP(L, v) >= 0) return FIRN_EVAL_NONE;
		if (H && clean && CMP(H, v) < 0) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	case FIRN_X_LE:
		if (L && CMP(L, v) > 0) return FIRN_EVAL_NONE;
		if (H && clean && CMP(H, v) <= 0) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	case FIRN_X_GT:
		if (H && CMP(H, v) <= 0) return FIRN_EVAL_NONE;
		if (L && clean && CMP(L, v) > 0) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	case FIRN_X_GE:
		if (H && CMP(H, v) < 0) return FIRN_EVAL_NONE;
		if (L && clean && CMP(L, v) >= 0) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	case FIRN_X_EQ:
		if ((L && CMP(L, v) > 0) || (H && CMP(H, v) < 0)) return FIRN_EVAL_NONE;
		if (L && H && clean && CMP(L, v) == 0 && CMP(H, v) == 0) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	case FIRN_X_NE:
		if (L && H && clean && CMP(L, v) == 0 && CMP(H, v) == 0) return FIRN_EVAL_NONE;
		if (no_null && ((L && CMP(L, v) > 0) || (H && CMP(H, v) < 0))) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	case FIRN_X_IN:
	case FIRN_X_NOT_IN: {
		bool any_inside = false, point_in = false;
		for (size_t k = 0; k < e->n_values; k++) {
			const struct firn_datum *x = &e->values[k];
			if (!((L && CMP(L, x) > 0) || (H && CMP(H, x) < 0)))
				any_inside = true;
			if (L && H && CMP(L, x) == 0 && CMP(H, x) == 0)
				point_in = true;
		}
		if (e->op == FIRN_X_IN) {
			if (!any_inside) return FIRN_EVAL_NONE;
			if (point_in && clean) return FIRN_EVAL_ALL;
			return FIRN_EVAL_SOME;
		}
		if (point_in && clean) return FIRN_EVAL_NONE;
		if (!any_inside && no_null) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	}
	case FIRN_X_STARTS_WITH:
		if ((L && cmp_prefix(L, v) > 0) || (H && cmp_prefix(H, v) < 0)) return FIRN_EVAL_NONE;
		if (L && H && no_null && starts(L, v) && starts(H, v)) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	case FIRN_X_NOT_STARTS_WITH:
		if (L && H && starts(L, v) && starts(H, v)) return FIRN_EVAL_NONE;
		if (no_null && ((L && cmp_prefix(L, v) > 0) || (H && cmp_prefix(H, v) < 0))) return FIRN_EVAL_ALL;
		return FIRN_EVAL_SOME;
	default:
		return FIRN_EVAL_SOME;
	}
#undef CMP
}

enum firn_eval_result firn_ice__expr_eval_metrics(const struct firn_expr *e,
						  const struct firn_metrics *m)
{
	switch (e->op) {
	case FIRN_X_TRUE: return FIRN_EVAL_ALL;
	case FIRN_X_FALSE: return FIRN_EVAL_NONE;
	case FIRN_X_AND: {
		enum firn_eval_result a = firn_ice__expr_eval_metrics(e->left, m);
		if (a == FIRN_EVAL_NONE)
			return a;
		enum firn_eval_result b = firn_ice__expr_eval_metrics(e->right, m);
		if (b == FIRN_EVAL_NONE)
			return b;
		return (a == FIRN_EVAL_ALL && b == FIRN_EVAL_ALL) ? FIRN_EVAL_ALL : FIRN_EVAL_SOME;
	}
	case FIRN_X_OR: {
		enum firn_eval_result a = firn_ice__expr_eval_metrics(e->left, m);
		if (a == FIRN_EVAL_ALL)
			return a;
		enum firn_eval_result b = firn_ice__expr_eval_metrics(e->right, m);
		if (b == FIRN_EVAL_ALL)
			return b;
		return (a == FIRN_EVAL_NONE && b == FIRN_EVAL_NONE) ? FIRN_EVAL_NONE : FIRN_EVAL_SOME;
	}
	case FIRN_X_NOT:
		/* every row true → none; otherwise rows may be unknown (nulls) */
		return firn_ice__expr_eval_metrics(e->left, m) == FIRN_EVAL_ALL ? FIRN_EVAL_NONE : FIRN_EVAL_SOME;
	default:
		return pred_metrics(e, m);
	}
}

/* ---- projection ------------------------------------------------------ */

static struct firn_expr *mk(struct firn_arena *a, enum firn_expr_op op)
{
	struct firn_expr *e = firn_arena_alloc(a, sizeof(*e));
	if (e)
		e->op = op;
	return e;
}

/* NOT pushed into the predicates (three-valued logic keeps these exact). */
static struct firn_expr *negate(const struct firn_expr *e, struct firn_arena *a)
{
	static const enum firn_expr_op flip[] = {
		[FIRN_X_TRUE] = FIRN_X_FALSE, [FIRN_X_FALSE] = FIRN_X_TRUE,
		[FIRN_X_EQ] = FIRN_X_NE, [FIRN_X_NE] = FIRN_X_EQ,
		[FIRN_X_LT] = FIRN_X_GE, [FIRN_X_GE] = FIRN_X_LT,
		[FIRN_X_LE] = FIRN_X_GT, [FIRN_X_GT] = FIRN_X_LE,
		[FIRN_X_IN] = FIRN_X_NOT_IN, [FIRN_X_NOT_IN] = FIRN_X_IN,
		[FIRN_X_IS_NULL] = FIRN_X_NOT_NULL, [FIRN_X_NOT_NULL] = FIRN_X_IS_NULL,
		[FIRN_X_IS_NAN] = FIRN_X_NOT_NAN, [FIRN_X_NOT_NAN] = FIRN_X_IS_NAN,
		[FIRN_X_STARTS_WITH] = FIRN_X_NOT_STARTS_WITH, [FIRN_X_NOT_STARTS_WITH] = FIRN_X_STARTS_WITH,
		[FIRN_X_LIKE] = FIRN_X_NOT_LIKE, [FIRN_X_NOT_LIKE] = FIRN_X_LIKE,
	};
	struct firn_expr *r;
	switch (e->op) {
	case FIRN_X_NOT: return (struct firn_expr *)e->left;
	case FIRN_X_AND:
	case FIRN_X_OR:
		r = mk(a, e->op == FIRN_X_AND ? FIRN_X_OR : FIRN_X_AND);
		if (r) {
			r->left = negate(e->left, a);
			r->right = negate(e->right, a);
			if (!r->left || !r->right)
				return NULL;
		}
		return r;
	default:
		r = mk(a, e->op);
		if (r) {
			*r = *e;
			r->op = flip[e->op];
		}
		return r;
	}
}

static struct firn_expr *project(const struct firn_expr *e, const struct firn_pfield *f, size_t nf,
				 struct firn_arena *a);

static struct firn_expr *project_pred(const struct firn_expr *e, const struct firn_pfield *pf,
				      struct firn_arena *a)
{
	const struct firn_transform *tr = &pf->transform;
	if (tr->kind == FIRN_TR_VOID || tr->kind == FIRN_TR_UNKNOWN || pf->result_type.id == FIRN_A_NULL)
		return NULL;
	bool ident = tr->kind == FIRN_TR_IDENTITY;
	bool ordered = firn_ice__transform_preserves_order(tr);
	enum firn_expr_op op = e->op;
	switch (e->op) {
	case FIRN_X_IS_NULL:
	case FIRN_X_NOT_NULL: break;
	case FIRN_X_EQ:
	case FIRN_X_IN: break;
	case FIRN_X_LT:
	case FIRN_X_LE:
		if (!ordered)
			return NULL;
		op = ident ? e->op : FIRN_X_LE;
		break;
	case FIRN_X_GT:
	case FIRN_X_GE:
		if (!ordered)
			return NULL;
		op = ident ? e->op : FIRN_X_GE;
		break;
	case FIRN_X_NE:
	case FIRN_X_NOT_IN:
	case FIRN_X_IS_NAN:
	case FIRN_X_NOT_NAN:
	case FIRN_X_NOT_STARTS_WITH:
		if (!ident)
			return NULL;
		break;
	case FIRN_X_STARTS_WITH:
		if (ident)
			break;
		if (tr->kind == FIRN_TR_TRUNCATE && pf->source_type.id == FIRN_A_STRING) {
			/* code points in the prefix */
			size_t cps = 0;
			const struct firn_datum *v = &e->values[0];
			for (size_t i = 0; i < v->v.bin.n; i++)
				cps += (v->v.bin.p[i] & 0xC0) != 0x80;
			op = cps >= (size_t)tr->param ? FIRN_X_EQ : FIRN_X_STARTS_WITH;
			break;
		}
		return NULL;
	default:
		return NULL;
	}
	struct firn_expr *r = mk(a, op);
	if (!r)
		return NULL;
	r->pos = e->pos;
	r->name = e->name;
	r->field_id = pf->field_id;
	r->type = pf->result_type;
	r->n_values = e->n_values;
	r->texts = e->texts;
	r->text_quoted = e->text_quoted;
	if (e->n_values) {
		r->values = firn_arena_alloc(a, e->n_values * sizeof(*r->values));
		if (!r->values)
			return NULL;
		for (size_t k = 0; k < e->n_values; k++) {
			if (op == FIRN_X_STARTS_WITH && !ident)
				r->values[k] = e->values[k]; /* the prefix itself: p starts with it */
			else
				firn_ice__transform_apply(tr, &pf->source_type, &e->values[k], &r->values[k]);
		}
	}
	return r;
}

static struct firn_expr *project(const struct firn_expr *e, const struct firn_pfield *f, size_t nf,
				 struct firn_arena *a)
{
	switch (e->op) {
	case FIRN_X_TRUE:
	case FIRN_X_FALSE: return mk(a, e->op);
	case FIRN_X_AND:
	case FIRN_X_OR: {
		struct firn_expr *r = mk(a, e->op);
		if (!r)
			return NULL;
		r->left = project(e->left, f, nf, a);
		r->right = project(e->right, f, nf, a);
		return r->left && r->right ? r : NULL;
	}
	case FIRN_X_NOT: {
		struct firn_expr *n = negate(e->left, a);
		return n ? project(n, f, nf, a) : NULL;
	}
	default: {
		struct firn_expr *acc = NULL;
		for (size_t i = 0; i < nf; i++) {
			if (f[i].source_id != e->field_id)
				continue;
			struct firn_expr *p = project_pred(e, &f[i], a);
			if (!p)
				continue;
			if (!acc) {
				acc = p;
			} else {
				struct firn_expr *and = mk(a, FIRN_X_AND);
				if (!and)
					return NULL;
				and->left = acc;
				and->right = p;
				acc = and;
			}
		}
		return acc ? acc : mk(a, FIRN_X_TRUE);
	}
	}
}

int firn_ice__expr_project(const struct firn_expr *e, const struct firn_pfield *fields,
			   size_t n_fields, struct firn_arena *arena, struct firn_expr **out,
			   struct firn_error *err)
{
	*out = project(e, fields, n_fields, arena);
	return *out ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

int firn_ice__expr_eval_codes(const struct firn_expr *e, const struct ArrowSchema *schema,
			      const struct firn_parquet_dict_codes *dc, uint8_t *out,
			      struct firn_error *err)
{
	if (schema->n_children != 1)
		return firn_error_set(err, FIRN_EINVAL, "where: dictionary codes of one column only");
	/* the entries, then a null, as one batch */
	struct firn_builder b;
	FIRN_TRY(firn_builder_init(&b, schema, err));
	const uint8_t *d = dc->data ? dc->data : (const uint8_t *)"";
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i <= dc->n_entries; i++) {
		if (i < dc->n_entries)
			rc = firn_builder_append_bytes(&b.children[0], d + dc->offsets[i],
						       (size_t)(dc->offsets[i + 1] - dc->offsets[i]));
		else
			rc = firn_builder_append_null(&b.children[0]);
		if (rc == 0)
			rc = firn_builder_append_struct(&b);
	}
	struct ArrowArray entries = { 0 };
	if (rc != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	else
		rc = firn_builder_finish(&b, &entries, err);
	firn_builder_free(&b);
	uint8_t *marks = rc == 0 ? firn_malloc((size_t)dc->n_entries + 1) : NULL;
	if (rc == 0 && !marks)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__expr_eval(e, schema, &entries, marks, err);
	if (entries.release)
		entries.release(&entries);
	if (rc == 0) {
		const int32_t *c = dc->codes;
		for (int64_t i = 0; i < dc->n_rows; i++)
			out[i] = marks[c[i]];
	}
	firn_free(marks);
	return rc;
}
