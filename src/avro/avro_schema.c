/* Avro schemas: JSON text -> node graph in an arena, and back to compact
 * JSON keeping every attribute (Iceberg's field-id and friends). */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "avro/avro_private.h"
#include "util/alloc.h"

static const char *const type_names[] = {
	[FIRN_AVRO_UNSET] = "unset",   [FIRN_AVRO_NULL] = "null",     [FIRN_AVRO_BOOLEAN] = "boolean",
	[FIRN_AVRO_INT] = "int",       [FIRN_AVRO_LONG] = "long",     [FIRN_AVRO_FLOAT] = "float",
	[FIRN_AVRO_DOUBLE] = "double", [FIRN_AVRO_BYTES] = "bytes",   [FIRN_AVRO_STRING] = "string",
	[FIRN_AVRO_RECORD] = "record", [FIRN_AVRO_ENUM] = "enum",     [FIRN_AVRO_ARRAY] = "array",
	[FIRN_AVRO_MAP] = "map",       [FIRN_AVRO_UNION] = "union",   [FIRN_AVRO_FIXED] = "fixed",
};

const char *firn_avro_type_name(enum firn_avro_type t)
{
	if ((unsigned)t < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[t];
	return "invalid";
}

void firn_avro__path_format(const struct firn_avro__path *p, const char *top, char *out, size_t cap)
{
	/* frames run innermost first: collect, then print outermost first */
	const struct firn_avro__path *stack[64];
	int n = 0;
	for (; p != NULL && n < 64; p = p->up)
		stack[n++] = p;
	if (n == 0) {
		snprintf(out, cap, "%s", top);
		return;
	}
	size_t len = 0;
	out[0] = '\0';
	if (p != NULL)
		len += (size_t)snprintf(out, cap, "...");
	for (int i = n - 1; i >= 0 && len < cap; i--) {
		const struct firn_avro__path *f = stack[i];
		if (f->name != NULL)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 0 ? "." : "", f->name);
		else
			len += (size_t)snprintf(out + len, cap - len, "[%" PRId64 "]", f->index);
	}
}

/* ---- parsing ---- */

struct named {
	struct firn_avro_schema *node;
	struct named *next;
};

struct parser {
	struct firn_arena *arena;
	bool strict;
	struct named *names;
	struct firn_error *err;
};

static int bad(struct parser *ps, const struct firn_avro__path *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct parser *ps, const struct firn_avro__path *path, const char *fmt, ...)
{
	char where[256], what[256];
	firn_avro__path_format(path, "top level", where, sizeof(where));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return firn_error_set(ps->err, FIRN_EINVAL, "avro schema: %s: %s", where, what);
}

static int oom(struct parser *ps)
{
	return firn_error_set(ps->err, FIRN_ENOMEM, "avro schema: out of memory");
}

static enum firn_avro_type primitive(const char *s)
{
	for (int t = FIRN_AVRO_NULL; t <= FIRN_AVRO_STRING; t++)
		if (strcmp(s, type_names[t]) == 0)
			return (enum firn_avro_type)t;
	return FIRN_AVRO_UNSET;
}

static bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

static bool valid_name(const char *s)
{
	if (!name_start(*s))
		return false;
	for (s++; *s; s++)
		if (!name_char(*s))
			return false;
	return true;
}

/* Dot-separated names, none empty. */
static bool valid_fullname(const char *s)
{
	bool start = true;
	for (; *s; s++) {
		if (*s == '.') {
			if (start)
				return false;
			start = true;
		} else if (start ? !name_start(*s) : !name_char(*s)) {
			return false;
		} else {
			start = false;
		}
	}
	return !start;
}

/* Shortest "%.*g" text that reads back to the same double. */
static int dump_real(struct firn_buf *b, double d)
{
	char tmp[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (strpbrk(tmp, ".eEn") == NULL) /* keep it a real: "1" -> "1.0" */
		strcat(tmp, ".0");
	return firn_buf_puts(b, tmp);
}

int firn_avro__json_string(struct firn_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	FIRN_TRY(firn_buf_putc(b, '"'));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			FIRN_TRY(firn_buf_putc(b, '\\'));
			FIRN_TRY(firn_buf_putc(b, c));
		} else if (c < 0x20) {
			char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
			FIRN_TRY(firn_buf_append(b, esc, 6));
		} else {
			FIRN_TRY(firn_buf_putc(b, c));
		}
	}
	return firn_buf_putc(b, '"');
}

static int dump_json(struct firn_buf *b, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		bool first = true;
		FIRN_TRY(firn_buf_putc(b, '{'));
		json_object_foreach((json_t *)j, k, v) {
			if (!first)
				FIRN_TRY(firn_buf_putc(b, ','));
			first = false;
			FIRN_TRY(firn_avro__json_string(b, k, strlen(k)));
			FIRN_TRY(firn_buf_putc(b, ':'));
			FIRN_TRY(dump_json(b, v));
		}
		return firn_buf_putc(b, '}');
	}
	case JSON_ARRAY: {
		FIRN_TRY(firn_buf_putc(b, '['));
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i > 0)
				FIRN_TRY(firn_buf_putc(b, ','));
			FIRN_TRY(dump_json(b, json_array_get(j, i)));
		}
		return firn_buf_putc(b, ']');
	}
	case JSON_STRING:
		return firn_avro__json_string(b, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return firn_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	case JSON_REAL:
		return dump_real(b, json_real_value(j));
	case JSON_TRUE:
		return firn_buf_puts(b, "true");
	case JSON_FALSE:
		return firn_buf_puts(b, "false");
	case JSON_NULL:
		return firn_buf_puts(b, "null");
	}
	return FIRN_EINVAL;
}

static char *arena_json(struct parser *ps, const json_t *j)
{
	struct firn_buf b = FIRN_BUF_INIT;
	char *s = NULL;
	if (dump_json(&b, j) == 0)
		s = firn_arena_strndup(ps->arena, (const char *)b.data, b.len);
	firn_buf_free(&b);
	return s;
}

static bool is_key(const char *k, const char *const *keys)
{
	for (; *keys != NULL; keys++)
		if (strcmp(k, *keys) == 0)
			return true;
	return false;
}

/* Copies every member of obj not in `skip` into attrs, in order. */
static int collect_attrs(struct parser *ps, const json_t *obj, const char *const *skip,
			 int *n_out, const struct firn_avro_attr **out)
{
	size_t n = json_object_size(obj);
	struct firn_avro_attr *attrs = firn_arena_alloc(ps->arena, (n ? n : 1) * sizeof(*attrs));
	if (attrs == NULL)
		return oom(ps);
	int k = 0;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		if (is_key(key, skip))
			continue;
		attrs[k].key = firn_arena_strdup(ps->arena, key);
		attrs[k].json = arena_json(ps, v);
		if (attrs[k].key == NULL || attrs[k].json == NULL)
			return oom(ps);
		k++;
	}
	*n_out = k;
	*out = attrs;
	return 0;
}

/* An integer id attribute: absent is fine; present must be a JSON integer
 * that fits int32 (strict), or is ignored (lenient). */
static int int_attr(struct parser *ps, const struct firn_avro__path *path, const json_t *obj,
		    const char *key, bool *has, int32_t *val)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX) {
		if (ps->strict)
			return bad(ps, path, "\"%s\" is not a 32-bit integer", key);
		return 0;
	}
	if (has != NULL)
		*has = true;
	*val = (int32_t)json_integer_value(v);
	return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static struct firn_avro_schema *lookup(struct parser *ps, const char *ref, const char *ns)
{
	if (strchr(ref, '.') == NULL && ns != NULL) {
		size_t n = strlen(ns);
		for (struct named *nm = ps->names; nm != NULL; nm = nm->next) {
			const char *f = nm->node->fullname;
			if (strncmp(f, ns, n) == 0 && f[n] == '.' && strcmp(f + n + 1, ref) == 0)
				return nm->node;
		}
	}
	for (struct named *nm = ps->names; nm != NULL; nm = nm->next)
		if (strcmp(nm->node->fullname, ref) == 0)
			return nm->node;
	return NULL;
}

static int parse_type(struct parser *ps, const json_t *j, const char *ns,
		      const struct firn_avro__path *path, int depth, struct firn_avro_schema **out);

/* Sets name, ns and fullname of a named node and registers it. */
static int name_node(struct parser *ps, const json_t *obj, const char *enclosing,
		     const struct firn_avro__path *path, struct firn_avro_schema *node)
{
	const json_t *jn = json_object_get(obj, "name");
	if (!json_is_string(jn) || json_string_length(jn) == 0)
		return bad(ps, path, "%s without a name", type_names[node->type]);
	const char *name = json_string_value(jn);
	const char *dot = strrchr(name, '.');
	const char *ns = enclosing;
	if (dot != NULL) {
		node->ns = firn_arena_strndup(ps->arena, name, (size_t)(dot - name));
		node->name = firn_arena_strdup(ps->arena, dot + 1);
		if (node->ns == NULL || node->name == NULL)
			return oom(ps);
	} else {
		const json_t *jns = json_object_get(obj, "namespace");
		if (jns != NULL && !json_is_string(jns) && !json_is_null(jns))
			return bad(ps, path, "namespace of %s is not a string", name);
		if (jns != NULL)
			ns = json_is_string(jns) && json_string_length(jns) > 0 ? json_string_value(jns) : NULL;
		node->name = firn_arena_strdup(ps->arena, name);
		node->ns = ns ? firn_arena_strdup(ps->arena, ns) : NULL;
		if (node->name == NULL || (ns != NULL && node->ns == NULL))
			return oom(ps);
	}
	size_t n = strlen(node->name) + (node->ns ? strlen(node->ns) + 1 : 0);
	char *full = firn_arena_alloc(ps->arena, n + 1);
	if (full == NULL)
		return oom(ps);
	if (node->ns != NULL)
		snprintf(full, n + 1, "%s.%s", node->ns, node->name);
	else
		memcpy(full, node->name, n + 1);
	node->fullname = full;
	if (*node->name == '\0')
		return bad(ps, path, "empty name in %s", name);
	if (ps->strict && !valid_fullname(full))
		return bad(ps, path, "invalid name %s", full);
	if (primitive(node->name) != FIRN_AVRO_UNSET)
		return bad(ps, path, "a named type may not be called %s", node->name);
	if (lookup(ps, full, NULL) != NULL)
		return bad(ps, path, "%s defined twice", full);
	struct named *nm = firn_arena_alloc(ps->arena, sizeof(*nm));
	if (nm == NULL)
		return oom(ps);
	nm->node = node;
	nm->next = ps->names;
	ps->names = nm;
	return 0;
}

static int parse_fields(struct parser *ps, const json_t *obj, const struct firn_avro__path *path,
			int depth, struct firn_avro_schema *node)
{
	static const char *const skip[] = { "name", "type", NULL };
	const json_t *jf = json_object_get(obj, "fields");
	if (!json_is_array(jf))
		return bad(ps, path, "record %s: \"fields\" is not an array", node->fullname);
	size_t n = json_array_size(jf);
	if (n > INT32_MAX)
		return bad(ps, path, "too many fields");
	struct firn_avro_field *fields = firn_arena_alloc(ps->arena, (n ? n : 1) * sizeof(*fields));
	if (fields == NULL)
		return oom(ps);
	node->fields = fields;
	for (size_t i = 0; i < n; i++) {
		const json_t *f = json_array_get(jf, i);
		struct firn_avro__path fp = { path, NULL, (int64_t)i };
		if (!json_is_object(f))
			return bad(ps, &fp, "field is not an object");
		const json_t *jn = json_object_get(f, "name");
		if (!json_is_string(jn) || json_string_length(jn) == 0)
			return bad(ps, &fp, "field without a name");
		struct firn_avro_field *fd = &fields[i];
		fd->name = firn_arena_strdup(ps->arena, json_string_value(jn));
		if (fd->name == NULL)
			return oom(ps);
		fp.name = fd->name;
		if (ps->strict && !valid_name(fd->name))
			return bad(ps, &fp, "invalid field name");
		for (size_t k = 0; k < i; k++)
			if (strcmp(fields[k].name, fd->name) == 0)
				return bad(ps, &fp, "duplicate field name");
		const json_t *jt = json_object_get(f, "type");
		if (jt == NULL)
			return bad(ps, &fp, "field without a type");
		struct firn_avro_schema *t;
		FIRN_TRY(parse_type(ps, jt, node->ns, &fp, depth + 1, &t));
		fd->type = t;
		FIRN_TRY(collect_attrs(ps, f, skip, &fd->n_attrs, &fd->attrs));
		const json_t *def = json_object_get(f, "default");
		if (def != NULL) {
			fd->has_default = true;
			fd->default_json = arena_json(ps, def);
			if (fd->default_json == NULL)
				return oom(ps);
		}
		FIRN_TRY(int_attr(ps, &fp, f, "field-id", &fd->has_field_id, &fd->field_id));
		node->n_fields = (int)i + 1;
	}
	uint64_t min = 0;
	for (int i = 0; i < node->n_fields; i++)
		min = sat_add(min, fields[i].type->min_size);
	node->min_size = min;
	return 0;
}

static int parse_symbols(struct parser *ps, const json_t *obj, const struct firn_avro__path *path,
			 struct firn_avro_schema *node)
{
	const json_t *js = json_object_get(obj, "symbols");
	if (!json_is_array(js))
		return bad(ps, path, "enum %s: \"symbols\" is not an array", node->fullname);
	size_t n = json_array_size(js);
	if (n > INT32_MAX)
		return bad(ps, path, "too many symbols");
	const char **syms = firn_arena_alloc(ps->arena, (n ? n : 1) * sizeof(*syms));
	if (syms == NULL)
		return oom(ps);
	for (size_t i = 0; i < n; i++) {
		const json_t *s = json_array_get(js, i);
		if (!json_is_string(s))
			return bad(ps, path, "enum %s: symbol %zu is not a string", node->fullname, i);
		syms[i] = firn_arena_strdup(ps->arena, json_string_value(s));
		if (syms[i] == NULL)
			return oom(ps);
		if (ps->strict && !valid_name(syms[i]))
			return bad(ps, path, "enum %s: invalid symbol \"%s\"", node->fullname, syms[i]);
		for (size_t k = 0; k < i; k++)
			if (strcmp(syms[k], syms[i]) == 0)
				return bad(ps, path, "enum %s: duplicate symbol %s", node->fullname, syms[i]);
	}
	node->symbols = syms;
	node->n_symbols = (int)n;
	node->min_size = 1;
	return 0;
}

static int parse_union(struct parser *ps, const json_t *j, const char *ns,
		       const struct firn_avro__path *path, int depth, struct firn_avro_schema *node)
{
	size_t n = json_array_size(j);
	if (n == 0)
		return bad(ps, path, "empty union");
	if (n > INT32_MAX)
		return bad(ps, path, "too many union branches");
	struct firn_avro_schema **br = firn_arena_alloc(ps->arena, n * sizeof(*br));
	if (br == NULL)
		return oom(ps);
	uint64_t min = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		FIRN_TRY(parse_type(ps, json_array_get(j, i), ns, path, depth + 1, &br[i]));
		if (br[i]->type == FIRN_AVRO_UNION)
			return bad(ps, path, "union inside a union");
		for (size_t k = 0; k < i && ps->strict; k++) {
			bool named = br[i]->fullname != NULL;
			if (br[k]->type == br[i]->type &&
			    (!named || strcmp(br[k]->fullname, br[i]->fullname) == 0))
				return bad(ps, path, "union has two branches of type %s",
					   named ? br[i]->fullname : type_names[br[i]->type]);
		}
		if (br[i]->min_size < min)
			min = br[i]->min_size;
	}
	node->branches = (const struct firn_avro_schema *const *)br;
	node->n_branches = (int)n;
	node->min_size = sat_add(1, min);
	return 0;
}

static int parse_object(struct parser *ps, const json_t *j, const char *ns,
			const struct firn_avro__path *path, int depth, struct firn_avro_schema **out)
{
	static const char *const skip_prim[] = { "type", NULL };
	static const char *const skip_record[] = { "type", "name", "namespace", "fields", NULL };
	static const char *const skip_enum[] = { "type", "name", "namespace", "symbols", NULL };
	static const char *const skip_array[] = { "type", "items", NULL };
	static const char *const skip_map[] = { "type", "values", NULL };
	static const char *const skip_fixed[] = { "type", "name", "namespace", "size", NULL };

	const json_t *jt = json_object_get(j, "type");
	if (jt == NULL)
		return bad(ps, path, "schema object without \"type\"");
	if (!json_is_string(jt))
		return bad(ps, path, "\"type\" is not a string");
	const char *tn = json_string_value(jt);
	enum firn_avro_type t = primitive(tn);
	const char *const *skip = skip_prim;
	if (t == FIRN_AVRO_UNSET) {
		if (strcmp(tn, "record") == 0) {
			t = FIRN_AVRO_RECORD;
			skip = skip_record;
		} else if (strcmp(tn, "enum") == 0) {
			t = FIRN_AVRO_ENUM;
			skip = skip_enum;
		} else if (strcmp(tn, "array") == 0) {
			t = FIRN_AVRO_ARRAY;
			skip = skip_array;
		} else if (strcmp(tn, "map") == 0) {
			t = FIRN_AVRO_MAP;
			skip = skip_map;
		} else if (strcmp(tn, "fixed") == 0) {
			t = FIRN_AVRO_FIXED;
			skip = skip_fixed;
		} else {
			/* {"type": "r2"}: a reference to a named type */
			return parse_type(ps, jt, ns, path, depth, out);
		}
	}
	struct firn_avro_schema *node = firn_arena_alloc(ps->arena, sizeof(*node));
	if (node == NULL)
		return oom(ps);
	node->type = t;
	*out = node;
	FIRN_TRY(collect_attrs(ps, j, skip, &node->n_attrs, &node->attrs));
	const json_t *lt = json_object_get(j, "logicalType");
	if (json_is_string(lt) && (node->logical_type = firn_arena_strdup(ps->arena, json_string_value(lt))) == NULL)
		return oom(ps);
	const json_t *utc = json_object_get(j, "adjust-to-utc");
	if (utc != NULL && (node->adjust_to_utc = arena_json(ps, utc)) == NULL)
		return oom(ps);
	const json_t *prec = json_object_get(j, "precision"), *scale = json_object_get(j, "scale");
	if (json_is_integer(prec) && json_integer_value(prec) >= 0 && json_integer_value(prec) <= INT32_MAX)
		node->precision = (int32_t)json_integer_value(prec);
	if (json_is_integer(scale) && json_integer_value(scale) >= 0 && json_integer_value(scale) <= INT32_MAX)
		node->scale = (int32_t)json_integer_value(scale);

	switch (t) {
	case FIRN_AVRO_RECORD:
		FIRN_TRY(name_node(ps, j, ns, path, node));
		return parse_fields(ps, j, path, depth, node);
	case FIRN_AVRO_ENUM:
		FIRN_TRY(name_node(ps, j, ns, path, node));
		return parse_symbols(ps, j, path, node);
	case FIRN_AVRO_FIXED: {
		FIRN_TRY(name_node(ps, j, ns, path, node));
		const json_t *sz = json_object_get(j, "size");
		if (!json_is_integer(sz) || json_integer_value(sz) < 0)
			return bad(ps, path, "fixed %s: \"size\" is not a non-negative integer", node->fullname);
		node->size = (int64_t)json_integer_value(sz);
		node->min_size = (uint64_t)node->size;
		return 0;
	}
	case FIRN_AVRO_ARRAY: {
		const json_t *it = json_object_get(j, "items");
		if (it == NULL)
			return bad(ps, path, "array without \"items\"");
		struct firn_avro_schema *items;
		struct firn_avro__path ip = { path, "element", -1 };
		FIRN_TRY(parse_type(ps, it, ns, &ip, depth + 1, &items));
		node->items = items;
		node->min_size = 1;
		return int_attr(ps, path, j, "element-id", &node->has_element_id, &node->element_id);
	}
	case FIRN_AVRO_MAP: {
		const json_t *vs = json_object_get(j, "values");
		if (vs == NULL)
			return bad(ps, path, "map without \"values\"");
		struct firn_avro_schema *values;
		struct firn_avro__path vp = { path, "value", -1 };
		FIRN_TRY(parse_type(ps, vs, ns, &vp, depth + 1, &values));
		node->values = values;
		node->min_size = 1;
		FIRN_TRY(int_attr(ps, path, j, "key-id", &node->has_key_id, &node->key_id));
		return int_attr(ps, path, j, "value-id", &node->has_value_id, &node->value_id);
	}
	default: /* a primitive with attributes */
		node->min_size = t == FIRN_AVRO_NULL ? 0 : t == FIRN_AVRO_FLOAT ? 4 : t == FIRN_AVRO_DOUBLE ? 8 : 1;
		return 0;
	}
}

static int parse_type(struct parser *ps, const json_t *j, const char *ns,
		      const struct firn_avro__path *path, int depth, struct firn_avro_schema **out)
{
	if (depth > FIRN_AVRO__MAX_DEPTH)
		return bad(ps, path, "nested more than %d levels", FIRN_AVRO__MAX_DEPTH);
	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		enum firn_avro_type t = primitive(s);
		if (t != FIRN_AVRO_UNSET) {
			struct firn_avro_schema *node = firn_arena_alloc(ps->arena, sizeof(*node));
			if (node == NULL)
				return oom(ps);
			node->type = t;
			node->min_size = t == FIRN_AVRO_NULL ? 0 : t == FIRN_AVRO_FLOAT ? 4 : t == FIRN_AVRO_DOUBLE ? 8 : 1;
			*out = node;
			return 0;
		}
		struct firn_avro_schema *ref = lookup(ps, s, ns);
		if (ref == NULL)
			return bad(ps, path, "unknown type \"%s\"", s);
		*out = ref;
		return 0;
	}
	if (json_is_array(j)) {
		struct firn_avro_schema *node = firn_arena_alloc(ps->arena, sizeof(*node));
		if (node == NULL)
			return oom(ps);
		node->type = FIRN_AVRO_UNION;
		*out = node;
		return parse_union(ps, j, ns, path, depth, node);
	}
	if (json_is_object(j))
		return parse_object(ps, j, ns, path, depth, out);
	return bad(ps, path, "a schema must be a string, an array or an object");
}

int firn_avro__schema_parse(const struct firn_avro_schema **out, struct firn_arena *arena,
			    const char *json, size_t len, bool strict, struct firn_error *err)
{
	json_error_t jerr;
	json_t *j = firn_json__loadb(json, len, JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		return firn_error_set(err, FIRN_EINVAL, "avro schema: bad JSON at line %d column %d: %s",
				      jerr.line, jerr.column, jerr.text);
	struct parser ps = { arena, strict, NULL, err };
	struct firn_avro_schema *s = NULL;
	int rc = parse_type(&ps, j, NULL, NULL, 0, &s);
	json_decref(j);
	if (rc == 0)
		*out = s;
	return rc;
}

int firn_avro_schema_parse(const struct firn_avro_schema **out, struct firn_arena *arena,
			   const char *json, size_t len, struct firn_error *err)
{
	return firn_avro__schema_parse(out, arena, json, len, true, err);
}

/* ---- writing ---- */

struct emitter {
	struct firn_buf *b;
	const struct firn_avro_schema **done; /* named types already defined */
	size_t n_done, cap_done;
};

static int emit_attrs(struct emitter *e, int n, const struct firn_avro_attr *attrs)
{
	for (int i = 0; i < n; i++) {
		FIRN_TRY(firn_buf_putc(e->b, ','));
		FIRN_TRY(firn_avro__json_string(e->b, attrs[i].key, strlen(attrs[i].key)));
		FIRN_TRY(firn_buf_putc(e->b, ':'));
		FIRN_TRY(firn_buf_puts(e->b, attrs[i].json));
	}
	return 0;
}

static int emit_key(struct emitter *e, const char *key, const char *value)
{
	FIRN_TRY(firn_buf_printf(e->b, ",\"%s\":", key));
	return firn_avro__json_string(e->b, value, strlen(value));
}

static bool same_ns(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int emit(struct emitter *e, const struct firn_avro_schema *s, const char *ns)
{
	struct firn_buf *b = e->b;
	if (s->type == FIRN_AVRO_UNION) {
		FIRN_TRY(firn_buf_putc(b, '['));
		for (int i = 0; i < s->n_branches; i++) {
			if (i > 0)
				FIRN_TRY(firn_buf_putc(b, ','));
			FIRN_TRY(emit(e, s->branches[i], ns));
		}
		return firn_buf_putc(b, ']');
	}
	if (s->fullname != NULL) {
		for (size_t i = 0; i < e->n_done; i++)
			if (e->done[i] == s)
				return firn_avro__json_string(b, s->fullname, strlen(s->fullname));
		if (e->n_done == e->cap_done) {
			size_t cap = e->cap_done ? e->cap_done * 2 : 16;
			const struct firn_avro_schema **d = firn_realloc(e->done, cap * sizeof(*d));
			if (d == NULL)
				return FIRN_ENOMEM;
			e->done = d;
			e->cap_done = cap;
		}
		e->done[e->n_done++] = s;
	}
	if (s->type <= FIRN_AVRO_STRING && s->n_attrs == 0)
		return firn_buf_printf(b, "\"%s\"", type_names[s->type]);
	FIRN_TRY(firn_buf_printf(b, "{\"type\":\"%s\"", type_names[s->type]));
	if (s->fullname != NULL) {
		FIRN_TRY(emit_key(e, "name", s->name));
		if (!same_ns(s->ns, ns))
			FIRN_TRY(emit_key(e, "namespace", s->ns ? s->ns : ""));
	}
	switch (s->type) {
	case FIRN_AVRO_RECORD:
		FIRN_TRY(firn_buf_puts(b, ",\"fields\":["));
		for (int i = 0; i < s->n_fields; i++) {
			const struct firn_avro_field *f = &s->fields[i];
			FIRN_TRY(firn_buf_puts(b, i > 0 ? ",{\"name\":" : "{\"name\":"));
			FIRN_TRY(firn_avro__json_string(b, f->name, strlen(f->name)));
			FIRN_TRY(firn_buf_puts(b, ",\"type\":"));
			FIRN_TRY(emit(e, f->type, s->ns));
			FIRN_TRY(emit_attrs(e, f->n_attrs, f->attrs));
			FIRN_TRY(firn_buf_putc(b, '}'));
		}
		FIRN_TRY(firn_buf_putc(b, ']'));
		break;
	case FIRN_AVRO_ENUM:
		FIRN_TRY(firn_buf_puts(b, ",\"symbols\":["));
		for (int i = 0; i < s->n_symbols; i++) {
			if (i > 0)
				FIRN_TRY(firn_buf_putc(b, ','));
			FIRN_TRY(firn_avro__json_string(b, s->symbols[i], strlen(s->symbols[i])));
		}
		FIRN_TRY(firn_buf_putc(b, ']'));
		break;
	case FIRN_AVRO_FIXED:
		FIRN_TRY(firn_buf_printf(b, ",\"size\":%" PRId64, s->size));
		break;
	case FIRN_AVRO_ARRAY:
		FIRN_TRY(firn_buf_puts(b, ",\"items\":"));
		FIRN_TRY(emit(e, s->items, ns));
		break;
	case FIRN_AVRO_MAP:
		FIRN_TRY(firn_buf_puts(b, ",\"values\":"));
		FIRN_TRY(emit(e, s->values, ns));
		break;
	default:
		break;
	}
	FIRN_TRY(emit_attrs(e, s->n_attrs, s->attrs));
	return firn_buf_putc(b, '}');
}

int firn_avro_schema_to_json(const struct firn_avro_schema *s, struct firn_buf *out,
			     struct firn_error *err)
{
	struct emitter e = { out, NULL, 0, 0 };
	int rc = emit(&e, s, NULL);
	firn_free(e.done);
	if (rc != 0)
		return firn_error_set(err, rc, "avro schema: out of memory writing JSON");
	return 0;
}

/* ---- lookups ---- */

static const char *find_attr(int n, const struct firn_avro_attr *attrs, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(attrs[i].key, key) == 0)
			return attrs[i].json;
	return NULL;
}

const char *firn_avro_schema_attr(const struct firn_avro_schema *s, const char *key)
{
	return find_attr(s->n_attrs, s->attrs, key);
}

const char *firn_avro_field_attr(const struct firn_avro_field *f, const char *key)
{
	return find_attr(f->n_attrs, f->attrs, key);
}

int firn_avro_schema_field_index(const struct firn_avro_schema *s, const char *name)
{
	if (s == NULL || s->type != FIRN_AVRO_RECORD)
		return -1;
	for (int i = 0; i < s->n_fields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return i;
	return -1;
}

int firn_avro_schema_field_index_by_id(const struct firn_avro_schema *s, int32_t id)
{
	if (s == NULL || s->type != FIRN_AVRO_RECORD)
		return -1;
	for (int i = 0; i < s->n_fields; i++)
		if (s->fields[i].has_field_id && s->fields[i].field_id == id)
			return i;
	return -1;
}

const struct firn_avro_schema *firn_avro_schema_nonnull(const struct firn_avro_schema *s)
{
	if (s->type != FIRN_AVRO_UNION || s->n_branches != 2)
		return s;
	if (s->branches[0]->type == FIRN_AVRO_NULL)
		return s->branches[1];
	if (s->branches[1]->type == FIRN_AVRO_NULL)
		return s->branches[0];
	return s;
}

int firn_avro__fail(const struct firn_avro__path *path, struct firn_error *err, int code,
		    const char *fmt, ...)
{
	char where[256], what[256];
	firn_avro__path_format(path, "record", where, sizeof(where));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return firn_error_set(err, code, "%s: %s", where, what);
}
