/* firn update's SET list: `col = expr, ...` where expr is a literal, NULL,
 * a column, or arithmetic (+ - * / and parentheses) on them. Bound to the
 * table schema; applied to batches of rows. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iceberg/ice_batch.h"
#include "iceberg/ice_meta.h"
#include "iceberg/ice_set.h"

enum vk { V_LIT, V_NULL, V_COL, V_ADD, V_SUB, V_MUL, V_DIV, V_NEG };

struct vexpr {
	enum vk kind;
	struct vexpr *l, *r;
	const char *text;  /* literal text / column name */
	bool quoted;
	int col;           /* top-level column index (V_COL) */
	struct firn_type type;
	int pos;
};

struct assign {
	int col; /* top-level column index */
	struct firn_type type;
	bool required;
	struct vexpr *e;
	struct firn_datum lit; /* V_LIT / V_NULL bound to the target type */
};

struct firn_ice_set {
	struct assign *a;
	size_t n;
};

struct sp {
	const char *s;
	size_t i;
	struct firn_arena *a;
	struct firn_error *err;
	const struct ArrowSchema *schema;
	int depth; /* the parser recurses: bounded */
};

static int serr(struct sp *p, size_t at, const char *msg, const char *arg)
{
	return firn_error_set(p->err, FIRN_EINVAL, "set: at %zu: %s%s", at + 1, msg, arg ? arg : "");
}

static void ws(struct sp *p)
{
	while (isspace((unsigned char)p->s[p->i]))
		p->i++;
}

static int find_col(const struct ArrowSchema *s, const char *name)
{
	for (int64_t i = 0; i < s->n_children; i++)
		if (strcmp(s->children[i]->name, name) == 0)
			return (int)i;
	for (int64_t i = 0; i < s->n_children; i++)
		if (strcasecmp(s->children[i]->name, name) == 0)
			return (int)i;
	return -1;
}

static int parse_expr(struct sp *p, struct vexpr **out);

static int parse_factor_inner(struct sp *p, struct vexpr **out);

static int parse_factor(struct sp *p, struct vexpr **out)
{
	if (p->depth >= 200)
		return serr(p, p->i, "the expression nests too deeply", NULL);
	p->depth++;
	int rc = parse_factor_inner(p, out);
	p->depth--;
	return rc;
}

static int parse_factor_inner(struct sp *p, struct vexpr **out)
{
	ws(p);
	size_t at = p->i;
	struct vexpr *e = firn_arena_alloc(p->a, sizeof(*e));
	if (!e)
		return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
	e->pos = (int)at + 1;
	const char *s = p->s;
	if (s[p->i] == '(') {
		p->i++;
		FIRN_TRY(parse_expr(p, out));
		ws(p);
		if (s[p->i] != ')')
			return serr(p, p->i, "expected ')'", NULL);
		p->i++;
		return 0;
	}
	if (s[p->i] == '-') {
		p->i++;
		e->kind = V_NEG;
		FIRN_TRY(parse_factor(p, &e->l));
		*out = e;
		return 0;
	}
	if (s[p->i] == '\'') {
		struct firn_buf b = { 0 };
		p->i++;
		for (;;) {
			if (!s[p->i]) {
				firn_buf_free(&b);
				return serr(p, at, "unterminated string", NULL);
			}
			if (s[p->i] == '\'' && s[p->i + 1] == '\'') {
				firn_buf_putc(&b, '\'');
				p->i += 2;
				continue;
			}
			if (s[p->i] == '\'') {
				p->i++;
				break;
			}
			firn_buf_putc(&b, (uint8_t)s[p->i++]);
		}
		e->kind = V_LIT;
		e->quoted = true;
		e->text = firn_arena_strndup(p->a, b.data ? (const char *)b.data : "", b.len);
		firn_buf_free(&b);
		*out = e;
		return 0;
	}
	size_t j = p->i;
	if (isdigit((unsigned char)s[j]) || s[j] == '.') {
		while (isalnum((unsigned char)s[j]) || s[j] == '.')
			j++;
		e->kind = V_LIT;
	} else if (isalpha((unsigned char)s[j]) || s[j] == '_' || s[j] == '`') {
		if (s[j] == '`') {
			j++;
			while (s[j] && s[j] != '`')
				j++;
			if (!s[j])
				return serr(p, at, "unterminated `name`", NULL);
			e->text = firn_arena_strndup(p->a, s + p->i + 1, j - p->i - 1);
			j++;
			e->kind = V_COL;
			p->i = j;
			*out = e;
			return 0;
		}
		while (isalnum((unsigned char)s[j]) || s[j] == '_')
			j++;
		e->kind = V_COL;
	} else {
		return serr(p, at, s[j] ? "expected a value or a column" : "unexpected end", NULL);
	}
	e->text = firn_arena_strndup(p->a, s + p->i, j - p->i);
	p->i = j;
	if (e->kind == V_COL && strcasecmp(e->text, "null") == 0)
		e->kind = V_NULL;
	else if (e->kind == V_COL && (strcasecmp(e->text, "true") == 0 || strcasecmp(e->text, "false") == 0))
		e->kind = V_LIT;
	*out = e;
	return 0;
}

static int parse_term(struct sp *p, struct vexpr **out)
{
	FIRN_TRY(parse_factor(p, out));
	for (;;) {
		ws(p);
		char c = p->s[p->i];
		if (c != '*' && c != '/')
			return 0;
		struct vexpr *e = firn_arena_alloc(p->a, sizeof(*e));
		if (!e)
			return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
		e->pos = (int)p->i + 1;
		p->i++;
		e->kind = c == '*' ? V_MUL : V_DIV;
		e->l = *out;
		FIRN_TRY(parse_factor(p, &e->r));
		*out = e;
	}
}

static int parse_expr(struct sp *p, struct vexpr **out)
{
	FIRN_TRY(parse_term(p, out));
	for (;;) {
		ws(p);
		char c = p->s[p->i];
		if (c != '+' && c != '-')
			return 0;
		struct vexpr *e = firn_arena_alloc(p->a, sizeof(*e));
		if (!e)
			return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
		e->pos = (int)p->i + 1;
		p->i++;
		e->kind = c == '+' ? V_ADD : V_SUB;
		e->l = *out;
		FIRN_TRY(parse_term(p, &e->r));
		*out = e;
	}
}

static bool numeric(const struct firn_type *t)
{
	return t->id == FIRN_A_INT32 || t->id == FIRN_A_INT64 || t->id == FIRN_A_FLOAT ||
	       t->id == FIRN_A_DOUBLE || t->id == FIRN_A_DECIMAL;
}

/* Binds columns in e; checks the shapes the target type allows. */
static int bind(struct sp *p, struct vexpr *e, const struct firn_type *target)
{
	switch (e->kind) {
	case V_NULL:
		return 0;
	case V_LIT:
		if (!e->quoted && !numeric(target) && target->id != FIRN_A_BOOL)
			return firn_error_set(p->err, FIRN_EINVAL, "set: at %d: %s needs a quoted value", e->pos, e->text);
		return 0;
	case V_COL: {
		e->col = find_col(p->schema, e->text);
		if (e->col < 0)
			return firn_error_set(p->err, FIRN_EINVAL, "set: at %d: unknown column '%s'", e->pos, e->text);
		FIRN_TRY(firn_type_of(p->schema->children[e->col], &e->type, p->err));
		bool same = e->type.id == target->id;
		if (!same && !(numeric(&e->type) && numeric(target)))
			return firn_error_set(p->err, FIRN_EINVAL, "set: at %d: column '%s' does not fit the target type",
					      e->pos, e->text);
		return 0;
	}
	default:
		if (!numeric(target))
			return firn_error_set(p->err, FIRN_EINVAL, "set: at %d: arithmetic needs a numeric column", e->pos);
		FIRN_TRY(bind(p, e->l, target));
		if (e->r)
			FIRN_TRY(bind(p, e->r, target));
		return 0;
	}
}

int firn_ice__set_parse(const char *text, const struct ArrowSchema *schema, struct firn_arena *arena,
			struct firn_ice_set **out, struct firn_error *err)
{
	struct sp p = { text ? text : "", 0, arena, err, schema, 0 };
	struct firn_ice_set *s = firn_arena_alloc(arena, sizeof(*s));
	if (!s)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	s->a = firn_arena_alloc(arena, ((size_t)schema->n_children + 1) * sizeof(*s->a));
	if (!s->a)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (;;) {
		ws(&p);
		size_t at = p.i;
		size_t j = p.i;
		char name[256];
		if (p.s[j] == '`') {
			j++;
			while (p.s[j] && p.s[j] != '`')
				j++;
			snprintf(name, sizeof(name), "%.*s", (int)(j - p.i - 1), p.s + p.i + 1);
			if (p.s[j] == '`')
				j++;
		} else {
			while (isalnum((unsigned char)p.s[j]) || p.s[j] == '_' || p.s[j] == '.')
				j++;
			snprintf(name, sizeof(name), "%.*s", (int)(j - p.i), p.s + p.i);
		}
		if (!name[0])
			return serr(&p, at, "expected a column", NULL);
		p.i = j;
		ws(&p);
		if (p.s[p.i] != '=')
			return serr(&p, p.i, "expected '=' after ", name);
		p.i++;
		int col = find_col(schema, name);
		if (col < 0)
			return serr(&p, at, "unknown column '", strchr(name, '.') ? "nested fields cannot be set yet'" : name);
		for (size_t k = 0; k < s->n; k++)
			if (s->a[k].col == col)
				return serr(&p, at, "column set twice: ", name);
		if ((size_t)s->n >= (size_t)schema->n_children)
			return serr(&p, at, "too many assignments", NULL);
		struct assign *as = &s->a[s->n++];
		as->col = col;
		as->required = !(schema->children[col]->flags & ARROW_FLAG_NULLABLE);
		FIRN_TRY(firn_type_of(schema->children[col], &as->type, err));
		if (as->type.id == FIRN_A_STRUCT || as->type.id == FIRN_A_LIST || as->type.id == FIRN_A_MAP)
			return serr(&p, at, "nested columns cannot be set: ", name);
		FIRN_TRY(parse_expr(&p, &as->e));
		FIRN_TRY(bind(&p, as->e, &as->type));
		if (as->e->kind == V_NULL && as->required)
			return firn_error_set(err, FIRN_EINVAL, "set: column '%s' is required; it cannot be NULL", name);
		if (as->e->kind == V_LIT &&
		    firn_ice__datum_parse(&as->type, as->e->text, strlen(as->e->text), arena, &as->lit, err) != 0) {
			firn_error_prefix(err, "set: %s", name);
			return FIRN_EINVAL;
		}
		ws(&p);
		if (p.s[p.i] == ',') {
			p.i++;
			continue;
		}
		if (p.s[p.i] == '\0')
			break;
		return serr(&p, p.i, "expected ',' or the end", NULL);
	}
	*out = s;
	return 0;
}

int firn_ice__set_field_ids(const struct firn_ice_set *s, const struct ArrowSchema *schema,
			    int32_t **ids, size_t *n)
{
	/* every column: updated rows are written whole */
	for (int64_t i = 0; i < schema->n_children; i++) {
		int32_t *v = firn_realloc(*ids, (*n + 1) * sizeof(int32_t));
		if (!v)
			return FIRN_ENOMEM;
		v[(*n)++] = firn_schema_field_id(schema->children[i]);
		*ids = v;
	}
	(void)s;
	return 0;
}

/* A numeric value during evaluation: integers exact (int128), else double. */
struct num {
	bool null, real;
	__int128 i; /* scaled to `scale` when the target is a decimal */
	double d;
};

static __int128 pow10i(int n)
{
	__int128 v = 1;
	while (n-- > 0)
		v *= 10;
	return v;
}

static struct num value_of(const struct vexpr *e, const struct ArrowArray *rows, int64_t r,
			   const struct firn_type *target, const char *lit_text)
{
	struct num n = { 0 };
	struct firn_datum d;
	firn_ice__datum_from_array(&e->type, rows->children[e->col], r, &d);
	if (d.null) {
		n.null = true;
		return n;
	}
	int scale = target->id == FIRN_A_DECIMAL ? target->scale : 0;
	switch (e->type.id) {
	case FIRN_A_INT32: n.i = (__int128)d.v.i32 * pow10i(scale); break;
	case FIRN_A_INT64: n.i = (__int128)d.v.i64 * pow10i(scale); break;
	case FIRN_A_FLOAT: n.real = true; n.d = d.v.f32; break;
	case FIRN_A_DOUBLE: n.real = true; n.d = d.v.f64; break;
	case FIRN_A_DECIMAL:
		if (e->type.scale <= scale)
			n.i = d.v.dec * pow10i(scale - e->type.scale);
		else
			n.i = d.v.dec / pow10i(e->type.scale - scale);
		break;
	default: n.null = true; break;
	}
	(void)lit_text;
	return n;
}

static struct num lit_num(const struct vexpr *e, const struct firn_type *target, bool *ok)
{
	struct num n = { 0 };
	int scale = target->id == FIRN_A_DECIMAL ? target->scale : 0;
	char *end;
	if (target->id == FIRN_A_FLOAT || target->id == FIRN_A_DOUBLE) {
		n.real = true;
		n.d = strtod(e->text, &end);
		*ok = *end == '\0';
		return n;
	}
	/* exact: digits with an optional fraction at most `scale` long */
	struct firn_type dt = { 0 };
	dt.id = FIRN_A_DECIMAL;
	dt.precision = 38;
	dt.scale = scale;
	struct firn_datum d;
	*ok = firn_ice__datum_parse(&dt, e->text, strlen(e->text), NULL, &d, NULL) == 0;
	n.i = d.v.dec;
	return n;
}

static int eval(const struct vexpr *e, const struct ArrowArray *rows, int64_t r,
		const struct firn_type *target, struct num *out, struct firn_error *err)
{
	struct num a, b;
	bool ok = true;
	switch (e->kind) {
	case V_NULL: out->null = true; return 0;
	case V_LIT:
		*out = lit_num(e, target, &ok);
		if (!ok)
			return firn_error_set(err, FIRN_EINVAL, "set: at %d: '%s' is not a number for this column",
					      e->pos, e->text);
		return 0;
	case V_COL: *out = value_of(e, rows, r, target, NULL); return 0;
	case V_NEG:
		FIRN_TRY(eval(e->l, rows, r, target, out, err));
		out->i = -out->i;
		out->d = -out->d;
		return 0;
	default: break;
	}
	FIRN_TRY(eval(e->l, rows, r, target, &a, err));
	FIRN_TRY(eval(e->r, rows, r, target, &b, err));
	memset(out, 0, sizeof(*out));
	if (a.null || b.null) {
		out->null = true;
		return 0;
	}
	bool real = a.real || b.real || target->id == FIRN_A_FLOAT || target->id == FIRN_A_DOUBLE;
	int scale = target->id == FIRN_A_DECIMAL ? target->scale : 0;
	if (real) {
		double x = a.real ? a.d : (double)a.i / (double)pow10i(scale);
		double y = b.real ? b.d : (double)b.i / (double)pow10i(scale);
		out->real = true;
		switch (e->kind) {
		case V_ADD: out->d = x + y; break;
		case V_SUB: out->d = x - y; break;
		case V_MUL: out->d = x * y; break;
		default: out->d = x / y; break;
		}
		return 0;
	}
	__int128 s = pow10i(scale);
	switch (e->kind) {
	case V_ADD: out->i = a.i + b.i; break;
	case V_SUB: out->i = a.i - b.i; break;
	case V_MUL: out->i = a.i * b.i / s; break;
	default:
		if (b.i == 0)
			return firn_error_set(err, FIRN_EINVAL, "set: at %d: division by zero", e->pos);
		out->i = a.i * s / b.i;
		break;
	}
	return 0;
}

static int append_num(struct firn_builder *b, const struct firn_type *t, const struct num *n,
		      const char *col, struct firn_error *err)
{
	if (n->null)
		return firn_builder_append_null(b);
	int scale = t->id == FIRN_A_DECIMAL ? t->scale : 0;
	__int128 v = n->real ? (__int128)llround(n->d * (double)pow10i(scale)) : n->i;
	switch (t->id) {
	case FIRN_A_INT32:
		if (v < INT32_MIN || v > INT32_MAX)
			return firn_error_set(err, FIRN_EINVAL, "set: %s: result out of range for int", col);
		return firn_builder_append_i32(b, (int32_t)v);
	case FIRN_A_INT64:
		if (v < INT64_MIN || v > INT64_MAX)
			return firn_error_set(err, FIRN_EINVAL, "set: %s: result out of range for long", col);
		return firn_builder_append_i64(b, (int64_t)v);
	case FIRN_A_FLOAT: return firn_builder_append_f32(b, n->real ? (float)n->d : (float)v);
	case FIRN_A_DOUBLE: return firn_builder_append_f64(b, n->real ? n->d : (double)v);
	case FIRN_A_DECIMAL: {
		__int128 lim = pow10i(t->precision);
		if (v >= lim || v <= -lim)
			return firn_error_set(err, FIRN_EINVAL, "set: %s: result does not fit decimal(%d,%d)", col,
					      t->precision, t->scale);
		return firn_builder_append_fixed(b, &v);
	}
	default: return FIRN_EINVAL;
	}
}

int firn_ice__set_apply(const struct firn_ice_set *s, const struct ArrowSchema *schema,
			struct ArrowArray *rows, struct firn_error *err)
{
	/* every expression sees the old values: build all columns, then swap */
	struct ArrowArray *cols = firn_calloc(s->n + 1, sizeof(*cols));
	if (!cols)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc_all = 0;
	for (size_t k = 0; k < s->n && rc_all == 0; k++) {
		const struct assign *as = &s->a[k];
		const struct ArrowSchema *cs = schema->children[as->col];
		struct firn_builder b;
		if ((rc_all = firn_builder_init(&b, cs, err)) != 0)
			break; /* the columns built so far are released below */
		int rc = 0;
		for (int64_t r = 0; rc == 0 && r < rows->length; r++) {
			if (as->e->kind == V_NULL) {
				rc = firn_builder_append_null(&b);
			} else if (as->e->kind == V_LIT && !numeric(&as->type)) {
				struct firn_builder *bb = &b;
				const struct firn_datum *d = &as->lit;
				switch (as->type.id) {
				case FIRN_A_BOOL: rc = firn_builder_append_bool(bb, d->v.b); break;
				case FIRN_A_DATE32: rc = firn_builder_append_i32(bb, d->v.i32); break;
				case FIRN_A_TIME64:
				case FIRN_A_TIMESTAMP: rc = firn_builder_append_i64(bb, d->v.i64); break;
				case FIRN_A_STRING:
				case FIRN_A_BINARY: rc = firn_builder_append_bytes(bb, d->v.bin.p, d->v.bin.n); break;
				case FIRN_A_FIXED: rc = firn_builder_append_fixed(bb, d->v.bin.p); break;
				default: rc = FIRN_EINVAL; break;
				}
			} else if (as->e->kind == V_COL && !numeric(&as->type)) {
				/* same-type column copy */
				struct firn_datum d;
				firn_ice__datum_from_array(&as->type, rows->children[as->e->col], r, &d);
				if (d.null) {
					rc = firn_builder_append_null(&b);
				} else {
					switch (as->type.id) {
					case FIRN_A_BOOL: rc = firn_builder_append_bool(&b, d.v.b); break;
					case FIRN_A_DATE32: rc = firn_builder_append_i32(&b, d.v.i32); break;
					case FIRN_A_TIME64:
					case FIRN_A_TIMESTAMP: rc = firn_builder_append_i64(&b, d.v.i64); break;
					case FIRN_A_STRING:
					case FIRN_A_BINARY: rc = firn_builder_append_bytes(&b, d.v.bin.p, d.v.bin.n); break;
					case FIRN_A_FIXED: rc = firn_builder_append_fixed(&b, d.v.bin.p); break;
					default: rc = FIRN_EINVAL; break;
					}
				}
			} else {
				struct num n;
				rc = eval(as->e, rows, r, &as->type, &n, err);
				if (rc == 0 && n.null && as->required)
					rc = firn_error_set(err, FIRN_EINVAL, "set: column '%s' is required; the result is NULL",
							    cs->name);
				if (rc == 0)
					rc = append_num(&b, &as->type, &n, cs->name, err);
			}
		}
		if (rc == 0)
			rc = firn_builder_finish(&b, &cols[k], err);
		else if (err && err->code == 0)
			firn_error_set(err, rc, "set: %s: cannot build the column", cs->name);
		firn_builder_free(&b);
		rc_all = rc;
	}
	for (size_t k = 0; k < s->n; k++) {
		if (rc_all == 0) {
			/* rows is a struct array over moved children: swap the column */
			struct ArrowArray *slot = rows->children[s->a[k].col];
			if (slot->release)
				slot->release(slot);
			*slot = cols[k];
		} else if (cols[k].release) {
			cols[k].release(&cols[k]);
		}
	}
	firn_free(cols);
	return rc_all;
}
