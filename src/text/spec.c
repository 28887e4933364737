/* Schemas as text: the SPEC syntax of the command line, Iceberg type names,
 * the `firn parquet schema` listing, and decoded field trees for print.c,
 * csv.c and jsonl.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "firn/text.h"
#include "arrow/types.h"
#include "text/text_internal.h"

/* ---- SPEC parsing ---- */

enum nkind { N_PRIM, N_STRUCT, N_LIST, N_MAP };

struct node {
	enum nkind kind;
	struct firn_type type; /* of a primitive */
	const char *name;
	bool required;
	int32_t id;
	int n;
	struct node *kids; /* struct fields; list: element; map: key, value */
};

struct parser {
	const char *s;
	size_t pos;
	int depth;
	struct firn_arena arena;
	struct firn_error *err;
};

#define MAX_DEPTH 64

static int fail(struct parser *p, size_t at, const char *fmt, const char *arg)
{
	char what[256];
	snprintf(what, sizeof(what), fmt, arg);
	return firn_error_set(p->err, FIRN_EINVAL, "schema: at %zu: %s", at + 1, what);
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	       p->s[p->pos] == '\r')
		p->pos++;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool name_char(char c)
{
	return word_char(c) || c == '$' || c == '-' || c == '.' || (unsigned char)c >= 0x80;
}

/* What is at pos, for messages. */
static const char *found(struct parser *p, char *buf, size_t cap)
{
	if (p->s[p->pos] == '\0')
		return "end of input";
	size_t n = 0;
	if (word_char(p->s[p->pos]))
		while (word_char(p->s[p->pos + n]) && n < cap - 3)
			n++;
	else
		n = 1;
	snprintf(buf, cap, "'%.*s'", (int)n, p->s + p->pos);
	return buf;
}

static int expect(struct parser *p, char c)
{
	skip_ws(p);
	if (p->s[p->pos] == c) {
		p->pos++;
		return 0;
	}
	char msg[48], f[64];
	snprintf(msg, sizeof(msg), "expected '%c', found %%s", c);
	return fail(p, p->pos, msg, found(p, f, sizeof(f)));
}

/* A plain word, lowercased into buf; length 0 when none. */
static size_t read_word(struct parser *p, char *buf, size_t cap)
{
	size_t n = 0;
	while (word_char(p->s[p->pos + n])) {
		if (n + 1 < cap)
			buf[n] = (char)tolower((unsigned char)p->s[p->pos + n]);
		n++;
	}
	buf[n < cap ? n : cap - 1] = '\0';
	return n;
}

static bool keyword_at(struct parser *p, const char *kw)
{
	size_t n = strlen(kw);
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)p->s[p->pos + i]) != kw[i])
			return false;
	return !name_char(p->s[p->pos + n]);
}

/* [not null] */
static int opt_not_null(struct parser *p, bool *required)
{
	skip_ws(p);
	if (!keyword_at(p, "not"))
		return 0;
	p->pos += 3;
	skip_ws(p);
	if (!keyword_at(p, "null")) {
		char f[64];
		return fail(p, p->pos, "expected 'null' after 'not', found %s", found(p, f, sizeof(f)));
	}
	p->pos += 4;
	*required = true;
	return 0;
}

static int parse_uint(struct parser *p, long lo, long hi, const char *what, int32_t *out)
{
	skip_ws(p);
	size_t at = p->pos;
	long v = 0;
	if (!isdigit((unsigned char)p->s[p->pos])) {
		char f[64];
		char msg[64];
		snprintf(msg, sizeof(msg), "expected the %s, found %%s", what);
		return fail(p, at, msg, found(p, f, sizeof(f)));
	}
	while (isdigit((unsigned char)p->s[p->pos])) {
		if (v < 100000000000L)
			v = v * 10 + (p->s[p->pos] - '0');
		p->pos++;
	}
	if (v < lo || v > hi) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s %ld is out of range (%ld..%ld)", what, v, lo, hi);
		return fail(p, at, "%s", msg);
	}
	*out = (int32_t)v;
	return 0;
}

static int parse_name(struct parser *p, const char **out)
{
	skip_ws(p);
	size_t at = p->pos;
	if (p->s[p->pos] == '`') {
		struct firn_buf b = FIRN_BUF_INIT;
		p->pos++;
		for (;;) {
			char c = p->s[p->pos];
			if (c == '\0') {
				firn_buf_free(&b);
				return fail(p, at, "%s", "unterminated `name`");
			}
			p->pos++;
			if (c == '`') {
				if (p->s[p->pos] != '`')
					break;
				p->pos++;
			}
			if (firn_buf_putc(&b, (uint8_t)c) != 0) {
				firn_buf_free(&b);
				return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
			}
		}
		*out = firn_arena_strndup(&p->arena, b.len ? (const char *)b.data : "", b.len);
		firn_buf_free(&b);
	} else {
		size_t n = 0;
		while (name_char(p->s[p->pos + n]))
			n++;
		if (n == 0) {
			char f[64];
			return fail(p, at, "expected a field name, found %s", found(p, f, sizeof(f)));
		}
		*out = firn_arena_strndup(&p->arena, p->s + p->pos, n);
		p->pos += n;
	}
	if (*out == NULL)
		return firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
	return 0;
}

static int parse_type(struct parser *p, struct node *n);

/* name [:] type [not null] */
static int parse_field(struct parser *p, struct node *f, bool colon_required)
{
	FIRN_TRY(parse_name(p, &f->name));
	skip_ws(p);
	if (p->s[p->pos] == ':')
		p->pos++;
	else if (colon_required)
		return expect(p, ':');
	FIRN_TRY(parse_type(p, f));
	return opt_not_null(p, &f->required);
}

/* Fields up to `end` ('\0' at the top level, '>' in struct<>). */
static int parse_fields(struct parser *p, struct node *st, char end)
{
	struct firn_buf kids = FIRN_BUF_INIT;
	int rc = 0;
	skip_ws(p);
	if (p->s[p->pos] != end || end == '\0') {
		for (;;) {
			struct node f;
			memset(&f, 0, sizeof(f));
			size_t at = p->pos;
			if ((rc = parse_field(p, &f, false)) != 0)
				goto done;
			struct node *prev = (struct node *)kids.data;
			for (size_t i = 0; i < kids.len / sizeof(f); i++) {
				if (strcmp(prev[i].name, f.name) == 0) {
					p->pos = at;
					skip_ws(p);
					rc = fail(p, p->pos, "duplicate field name '%s'", f.name);
					goto done;
				}
			}
			if (firn_buf_append(&kids, &f, sizeof(f)) != 0) {
				rc = firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
				goto done;
			}
			skip_ws(p);
			if (p->s[p->pos] != ',')
				break;
			p->pos++;
		}
	}
	skip_ws(p);
	if (p->s[p->pos] != end) {
		char f[64];
		const char *msg = end == '\0' ? "expected ',' or the end, found %s"
					      : "expected ',' or '>', found %s";
		rc = fail(p, p->pos, msg, found(p, f, sizeof(f)));
		goto done;
	}
	st->n = (int)(kids.len / sizeof(struct node));
	if (st->n > 0) {
		st->kids = firn_arena_alloc(&p->arena, kids.len);
		if (st->kids == NULL) {
			rc = firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
			goto done;
		}
		memcpy(st->kids, kids.data, kids.len);
	}
done:
	firn_buf_free(&kids);
	return rc;
}

static int parse_type(struct parser *p, struct node *n)
{
	char w[32];
	skip_ws(p);
	size_t at = p->pos;
	size_t len = read_word(p, w, sizeof(w));
	if (len == 0) {
		char f[64];
		return fail(p, at, "expected a type, found %s", found(p, f, sizeof(f)));
	}
	p->pos += len;
	if (++p->depth > MAX_DEPTH)
		return fail(p, at, "%s", "types nested too deeply");
	int rc = 0;
	const struct firn_arrow__prim *e = len < sizeof(w) ? firn_arrow__prim_find(w, len) : NULL;
	if (e != NULL && e->format == NULL) {
		rc = fail(p, at, "type '%s' is not supported", e->name);
	} else if (e != NULL) {
		n->kind = N_PRIM;
		n->type = e->type;
		const long maxp = FIRN_DECIMAL_MAX_PRECISION;
		if (e->params == 2 &&
		    ((rc = expect(p, '(')) ||
		     (rc = parse_uint(p, 1, maxp, "decimal precision", &n->type.precision)) ||
		     (rc = expect(p, ',')) ||
		     (rc = parse_uint(p, 0, maxp, "decimal scale", &n->type.scale)) ||
		     (rc = expect(p, ')'))))
			goto done;
		if (e->params == 1 &&
		    ((rc = expect(p, '[')) ||
		     (rc = parse_uint(p, 1, INT32_MAX, "fixed length", &n->type.width)) ||
		     (rc = expect(p, ']'))))
			goto done;
	} else if (strcmp(w, "struct") == 0) {
		n->kind = N_STRUCT;
		if ((rc = expect(p, '<')) || (rc = parse_fields(p, n, '>')))
			goto done;
		p->pos++;
	} else if (strcmp(w, "list") == 0) {
		n->kind = N_LIST;
		n->n = 1;
		n->kids = firn_arena_alloc(&p->arena, sizeof(struct node));
		if (n->kids == NULL) {
			rc = firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
			goto done;
		}
		n->kids[0].name = "element";
		if ((rc = expect(p, '<')) || (rc = parse_type(p, &n->kids[0])) ||
		    (rc = opt_not_null(p, &n->kids[0].required)) || (rc = expect(p, '>')))
			goto done;
	} else if (strcmp(w, "map") == 0) {
		n->kind = N_MAP;
		n->n = 2;
		n->kids = firn_arena_alloc(&p->arena, 2 * sizeof(struct node));
		if (n->kids == NULL) {
			rc = firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
			goto done;
		}
		n->kids[0].name = "key";
		n->kids[1].name = "value";
		if ((rc = expect(p, '<')) || (rc = parse_type(p, &n->kids[0])) ||
		    (rc = opt_not_null(p, &n->kids[0].required)) || (rc = expect(p, ',')) ||
		    (rc = parse_type(p, &n->kids[1])) ||
		    (rc = opt_not_null(p, &n->kids[1].required)) || (rc = expect(p, '>')))
			goto done;
		n->kids[0].required = true;
	} else {
		char shown[40];
		snprintf(shown, sizeof(shown), "%.*s", (int)(len < 32 ? len : 32), p->s + at);
		rc = fail(p, at, "unknown type '%s'", shown);
	}
done:
	p->depth--;
	return rc;
}

/* TypeUtil.assignFreshIds: a struct's fields first, then into each. */
static void assign_ids(struct node *n, int32_t *next)
{
	switch (n->kind) {
	case N_STRUCT:
	case N_LIST:
	case N_MAP:
		for (int i = 0; i < n->n; i++)
			n->kids[i].id = ++*next;
		for (int i = 0; i < n->n; i++)
			assign_ids(&n->kids[i], next);
		break;
	case N_PRIM:
		break;
	}
}

static int build(struct ArrowSchema *out, const struct node *n)
{
	int64_t flags = n->required ? 0 : ARROW_FLAG_NULLABLE;
	int rc;
	switch (n->kind) {
	case N_PRIM:
		FIRN_TRY(firn_arrow__type_schema(out, &n->type, n->name, flags, 0));
		break;
	case N_STRUCT:
		FIRN_TRY(firn_schema_init(out, "+s", n->name, flags, n->n));
		for (int i = 0; i < n->n; i++)
			FIRN_TRY(build(out->children[i], &n->kids[i]));
		break;
	case N_LIST:
		FIRN_TRY(firn_schema_init(out, "+l", n->name, flags, 1));
		FIRN_TRY(build(out->children[0], &n->kids[0]));
		break;
	case N_MAP: {
		FIRN_TRY(firn_schema_init(out, "+m", n->name, flags, 1));
		struct ArrowSchema *e = out->children[0];
		FIRN_TRY(firn_schema_init(e, "+s", "entries", 0, 2));
		FIRN_TRY(build(e->children[0], &n->kids[0]));
		FIRN_TRY(build(e->children[1], &n->kids[1]));
		break;
	}
	}
	if (n->id > 0 && (rc = firn_schema_set_field_id(out, n->id)) != 0)
		return rc;
	return 0;
}

int firn_spec_parse_schema(const char *spec, struct ArrowSchema *out, struct firn_error *err)
{
	struct parser p = { spec ? spec : "", 0, 0, FIRN_ARENA_INIT, err };
	struct node root;
	memset(&root, 0, sizeof(root));
	memset(out, 0, sizeof(*out));
	root.kind = N_STRUCT;
	root.name = "";
	root.required = true;
	int rc;
	skip_ws(&p);
	if (p.s[p.pos] == '\0') {
		rc = firn_error_set(err, FIRN_EINVAL, "schema: empty");
		goto done;
	}
	if ((rc = parse_fields(&p, &root, '\0')) != 0)
		goto done;
	int32_t next = 0;
	assign_ids(&root, &next);
	if ((rc = build(out, &root)) != 0) {
		if (out->release)
			out->release(out);
		rc = firn_error_set(err, rc, "schema: out of memory");
	}
done:
	firn_arena_free(&p.arena);
	return rc;
}

/* ---- names ---- */

int firn_spec__put_name(struct firn_buf *spec, const char *name, size_t n)
{
	bool plain = n > 0;
	for (size_t i = 0; i < n && plain; i++)
		plain = word_char(name[i]);
	/* a plain name must not read as "not null" after a type */
	if (plain && n == 3 && strncasecmp(name, "not", 3) == 0)
		plain = false;
	if (plain)
		return firn_buf_append(spec, name, n);
	FIRN_TRY(firn_buf_putc(spec, '`'));
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '`')
			FIRN_TRY(firn_buf_putc(spec, '`'));
		FIRN_TRY(firn_buf_putc(spec, (uint8_t)name[i]));
	}
	return firn_buf_putc(spec, '`');
}

static int type_name(struct firn_buf *out, const struct firn_type *t)
{
	char buf[FIRN_TYPE_NAME_MAX];
	return firn_buf_puts(out, firn_arrow__type_name(t, buf));
}

int firn_type_name(struct firn_buf *out, const struct ArrowSchema *s)
{
	struct firn_type t;
	if (firn_type_of(s, &t, NULL) != 0)
		return FIRN_EUNSUPPORTED;
	return type_name(out, &t);
}

static int format_field(struct firn_buf *out, const struct ArrowSchema *s, int level)
{
	struct firn_type t;
	if (firn_type_of(s, &t, NULL) != 0)
		return FIRN_EUNSUPPORTED;
	for (int i = 0; i < level; i++)
		FIRN_TRY(firn_buf_puts(out, "  "));
	FIRN_TRY(firn_buf_puts(out, s->name ? s->name : ""));
	FIRN_TRY(firn_buf_puts(out, ": "));
	FIRN_TRY(type_name(out, &t));
	if (!(s->flags & ARROW_FLAG_NULLABLE))
		FIRN_TRY(firn_buf_puts(out, " not null"));
	int32_t id = firn_schema_field_id(s);
	if (id >= 0)
		FIRN_TRY(firn_buf_printf(out, " (id %d)", (int)id));
	FIRN_TRY(firn_buf_putc(out, '\n'));
	if (t.id == FIRN_A_MAP)
		s = s->children[0];
	if (t.id == FIRN_A_STRUCT || t.id == FIRN_A_LIST || t.id == FIRN_A_MAP)
		for (int64_t i = 0; i < s->n_children; i++)
			FIRN_TRY(format_field(out, s->children[i], level + 1));
	return 0;
}

int firn_schema_format(struct firn_buf *out, const struct ArrowSchema *schema)
{
	if (schema->format == NULL || strcmp(schema->format, "+s") != 0)
		return format_field(out, schema, 0);
	for (int64_t i = 0; i < schema->n_children; i++)
		FIRN_TRY(format_field(out, schema->children[i], 0));
	return 0;
}

/* A name as SPEC reads it: plain, or in backquotes (`` for one). */
static int spec_name(struct firn_buf *out, const char *name)
{
	bool plain = name && *name;
	for (const char *p = name; plain && *p; p++)
		plain = word_char(*p);
	if (plain)
		return firn_buf_puts(out, name);
	FIRN_TRY(firn_buf_putc(out, '`'));
	for (const char *p = name ? name : ""; *p; p++) {
		FIRN_TRY(firn_buf_putc(out, (uint8_t)*p));
		if (*p == '`')
			FIRN_TRY(firn_buf_putc(out, '`'));
	}
	return firn_buf_putc(out, '`');
}

static int spec_type(struct firn_buf *out, const struct ArrowSchema *s);

/* TYPE, then " not null" when the node is required. */
static int spec_typed(struct firn_buf *out, const struct ArrowSchema *s)
{
	FIRN_TRY(spec_type(out, s));
	return (s->flags & ARROW_FLAG_NULLABLE) ? 0 : firn_buf_puts(out, " not null");
}

static int spec_type(struct firn_buf *out, const struct ArrowSchema *s)
{
	struct firn_type t;
	if (firn_type_of(s, &t, NULL) != 0)
		return FIRN_EUNSUPPORTED;
	if (t.id == FIRN_A_STRUCT) {
		FIRN_TRY(firn_buf_puts(out, "struct<"));
		for (int64_t i = 0; i < s->n_children; i++) {
			if (i)
				FIRN_TRY(firn_buf_puts(out, ", "));
			FIRN_TRY(spec_name(out, s->children[i]->name));
			FIRN_TRY(firn_buf_puts(out, ": "));
			FIRN_TRY(spec_typed(out, s->children[i]));
		}
		return firn_buf_putc(out, '>');
	}
	if (t.id == FIRN_A_LIST) {
		FIRN_TRY(firn_buf_puts(out, "list<"));
		FIRN_TRY(spec_typed(out, s->children[0]));
		return firn_buf_putc(out, '>');
	}
	if (t.id == FIRN_A_MAP) {
		const struct ArrowSchema *e = s->children[0];
		FIRN_TRY(firn_buf_puts(out, "map<"));
		FIRN_TRY(spec_type(out, e->children[0]));
		FIRN_TRY(firn_buf_puts(out, ", "));
		FIRN_TRY(spec_typed(out, e->children[1]));
		return firn_buf_putc(out, '>');
	}
	return type_name(out, &t);
}

int firn_schema_spec(struct firn_buf *out, const struct ArrowSchema *schema)
{
	if (schema->format == NULL || strcmp(schema->format, "+s") != 0)
		return FIRN_EUNSUPPORTED;
	for (int64_t i = 0; i < schema->n_children; i++) {
		if (i)
			FIRN_TRY(firn_buf_puts(out, ", "));
		FIRN_TRY(spec_name(out, schema->children[i]->name));
		FIRN_TRY(firn_buf_putc(out, ' '));
		FIRN_TRY(spec_typed(out, schema->children[i]));
	}
	return 0;
}

/* ---- decoded field trees ---- */

void firn_text__field_free(struct firn_text__field *f)
{
	if (f == NULL)
		return;
	for (int64_t i = 0; i < f->n_children; i++)
		firn_text__field_free(&f->children[i]);
	firn_free(f->children);
	firn_free(f->path);
	firn_free(f->type_name);
	memset(f, 0, sizeof(*f));
}

int firn_text__field_init(struct firn_text__field *f, const struct ArrowSchema *s,
			  const char *parent, struct firn_error *err)
{
	memset(f, 0, sizeof(*f));
	f->schema = s;
	int rc = firn_type_of(s, &f->type, err);
	if (rc != 0)
		return rc;
	f->nullable = (s->flags & ARROW_FLAG_NULLABLE) != 0;
	struct firn_buf b = FIRN_BUF_INIT;
	if (parent != NULL && parent[0] != '\0' &&
	    (firn_buf_puts(&b, parent) || firn_buf_putc(&b, '.')))
		goto nomem;
	if (firn_buf_puts(&b, s->name ? s->name : "") || firn_buf_cstr(&b))
		goto nomem;
	f->path = (char *)firn_buf_detach(&b, NULL);
	if (type_name(&b, &f->type) || firn_buf_cstr(&b))
		goto nomem;
	f->type_name = (char *)firn_buf_detach(&b, NULL);

	const struct ArrowSchema *kids = s;
	if (f->type.id == FIRN_A_MAP) {
		kids = s->children[0];
		if (kids->n_children != 2) {
			firn_text__field_free(f);
			return firn_error_set(err, FIRN_EUNSUPPORTED,
					      "column %s: map entries without key and value", s->name);
		}
	}
	if (f->type.id == FIRN_A_STRUCT || f->type.id == FIRN_A_LIST || f->type.id == FIRN_A_MAP) {
		if (kids->n_children > 0) {
			f->children = firn_calloc((size_t)kids->n_children, sizeof(*f->children));
			if (f->children == NULL)
				goto nomem;
		}
		for (int64_t i = 0; i < kids->n_children; i++) {
			f->n_children = i + 1;
			rc = firn_text__field_init(&f->children[i], kids->children[i], f->path, err);
			if (rc != 0) {
				firn_text__field_free(f);
				return rc;
			}
		}
		if (f->type.id == FIRN_A_MAP)
			f->str_keys = f->n_children == 2 && f->children[0].type.id == FIRN_A_STRING;
	}
	return 0;
nomem:
	firn_buf_free(&b);
	firn_text__field_free(f);
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}
