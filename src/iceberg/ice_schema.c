/* Iceberg schema JSON <-> Arrow schemas with field ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/types.h"
#include "firn/text.h"
#include "iceberg/ice_meta.h"

static int corrupt(struct firn_error *err, const char *what, const char *msg, const char *arg)
{
	return firn_error_set(err, FIRN_ECORRUPT, "%s: %s%s", what, msg, arg ? arg : "");
}

static int node_from_type(struct ArrowSchema *out, const char *name, bool required,
			  int32_t id, const json_t *type, const char *what, int32_t *max_id,
			  struct firn_error *err);
static int node_from_type_inner(struct ArrowSchema *out, const char *name, int64_t flags,
				int32_t id, const json_t *type, const char *what, int32_t *max_id,
				struct firn_error *err);

static int set_id(struct ArrowSchema *out, int32_t id, int32_t *max_id)
{
	if (id > *max_id)
		*max_id = id;
	return firn_schema_set_field_id(out, id);
}

static int primitive(struct ArrowSchema *out, const char *name, int64_t flags, const char *t,
		     const char *what, struct firn_error *err)
{
	struct firn_type type;
	int rc = firn_arrow__type_parse(t, &type);
	if (rc == FIRN_EINVAL && type.id == FIRN_A_DECIMAL)
		return corrupt(err, what, "bad decimal type ", t);
	if (rc == FIRN_EINVAL)
		return corrupt(err, what, "bad fixed type ", t);
	if (rc != 0)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: unsupported type %s", what, t);
	return firn_arrow__type_schema(out, &type, name, flags, 0);
}

static int get_int(const json_t *o, const char *key, int32_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return -1;
	json_int_t x = json_integer_value(v);
	if (x < INT32_MIN || x > INT32_MAX)
		return -1;
	*out = (int32_t)x;
	return 0;
}

static int struct_fields(struct ArrowSchema *out, const json_t *fields, const char *what,
			 int32_t *max_id, struct firn_error *err)
{
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		int32_t id;
		json_t *name = json_object_get(f, "name");
		json_t *req = json_object_get(f, "required");
		if (!json_is_object(f) || get_int(f, "id", &id) != 0 || !json_is_string(name))
			return corrupt(err, what, "schema field needs an id and a name", NULL);
		if (json_string_length(name) == 0)
			return firn_error_set(err, FIRN_ECORRUPT, "%s: field id %d has an empty name",
					      what, (int)id);
		FIRN_TRY(node_from_type(out->children[i], json_string_value(name),
					json_is_true(req), id, json_object_get(f, "type"), what,
					max_id, err));
		json_t *doc = json_object_get(f, "doc");
		if (json_is_string(doc))
			FIRN_TRY(firn_schema_add_metadata(out->children[i], "iceberg:doc",
							  json_string_value(doc)));
	}
	return 0;
}

static int node_from_type(struct ArrowSchema *out, const char *name, bool required,
			  int32_t id, const json_t *type, const char *what, int32_t *max_id,
			  struct firn_error *err)
{
	int64_t flags = required ? 0 : ARROW_FLAG_NULLABLE;
	return node_from_type_inner(out, name, flags, id, type, what, max_id, err);
}

/* How deep types nest, counted up to limit (the builders recurse). */
static int type_depth(const json_t *t, int d, int limit)
{
	if (d >= limit || !json_is_object(t))
		return d;
	int max = d;
	json_t *fields = json_object_get(t, "fields");
	for (size_t i = 0; i < json_array_size(fields) && max < limit; i++) {
		int x = type_depth(json_object_get(json_array_get(fields, i), "type"), d + 1, limit);
		max = x > max ? x : max;
	}
	const char *kids[] = { "element", "key", "value" };
	for (int k = 0; k < 3 && max < limit; k++) {
		int x = type_depth(json_object_get(t, kids[k]), d + 1, limit);
		max = x > max ? x : max;
	}
	return max;
}

static int node_from_type_inner(struct ArrowSchema *out, const char *name, int64_t flags,
				int32_t id, const json_t *type, const char *what, int32_t *max_id,
				struct firn_error *err)
{
	if (json_is_string(type)) {
		FIRN_TRY(primitive(out, name, flags, json_string_value(type), what, err));
	} else if (json_is_object(type)) {
		const char *kind = json_string_value(json_object_get(type, "type"));
		if (kind == NULL)
			return corrupt(err, what, "nested type without \"type\"", NULL);
		if (strcmp(kind, "struct") == 0) {
			json_t *fields = json_object_get(type, "fields");
			if (!json_is_array(fields))
				return corrupt(err, what, "struct without fields", NULL);
			FIRN_TRY(firn_schema_init(out, "+s", name, flags,
						  (int64_t)json_array_size(fields)));
			FIRN_TRY(struct_fields(out, fields, what, max_id, err));
		} else if (strcmp(kind, "list") == 0) {
			int32_t eid;
			if (get_int(type, "element-id", &eid) != 0)
				return corrupt(err, what, "list without element-id", NULL);
			FIRN_TRY(firn_schema_init(out, "+l", name, flags, 1));
			FIRN_TRY(node_from_type(out->children[0], "element",
						json_is_true(json_object_get(type, "element-required")),
						eid, json_object_get(type, "element"), what, max_id, err));
		} else if (strcmp(kind, "map") == 0) {
			int32_t kid, vid;
			if (get_int(type, "key-id", &kid) != 0 || get_int(type, "value-id", &vid) != 0)
				return corrupt(err, what, "map without key-id/value-id", NULL);
			FIRN_TRY(firn_schema_init(out, "+m", name, flags, 1));
			struct ArrowSchema *e = out->children[0];
			FIRN_TRY(firn_schema_init(e, "+s", "entries", 0, 2));
			FIRN_TRY(node_from_type(e->children[0], "key", true, kid,
						json_object_get(type, "key"), what, max_id, err));
			FIRN_TRY(node_from_type(e->children[1], "value",
						json_is_true(json_object_get(type, "value-required")),
						vid, json_object_get(type, "value"), what, max_id, err));
		} else {
			return corrupt(err, what, "unknown nested type ", kind);
		}
	} else {
		return corrupt(err, what, "field without a type", NULL);
	}
	return set_id(out, id, max_id);
}

/* ---- the field index: every field's full dotted name and id ---------- */

struct field_ref {
	const char *name; /* full name, "loc.lat", "tags.element", "attrs.key" */
	int32_t id;
};

struct field_index {
	struct field_ref *v;
	size_t n, cap;
	struct firn_arena arena;
};

static int index_add(struct field_index *ix, const struct firn_buf *path, int32_t id)
{
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? 2 * ix->cap : 16;
		struct field_ref *v = firn_realloc(ix->v, cap * sizeof(*v));
		if (!v)
			return FIRN_ENOMEM;
		ix->v = v;
		ix->cap = cap;
	}
	char *name = firn_arena_strndup(&ix->arena, (const char *)path->data, path->len);
	if (!name)
		return FIRN_ENOMEM;
	ix->v[ix->n].name = name;
	ix->v[ix->n++].id = id;
	return 0;
}

static int index_type(struct field_index *ix, const json_t *type, struct firn_buf *path);

/* Adds the child `name` (id) of the node at path, then its own children. */
static int index_child(struct field_index *ix, const char *name, int32_t id, const json_t *type,
		       struct firn_buf *path)
{
	size_t mark = path->len;
	if (mark > 0)
		FIRN_TRY(firn_buf_putc(path, '.'));
	FIRN_TRY(firn_buf_puts(path, name));
	int rc = index_add(ix, path, id);
	if (rc == 0)
		rc = index_type(ix, type, path);
	path->len = mark;
	return rc;
}

/* Called on JSON that node_from_type accepted: ids are int32, names strings. */
static int index_type(struct field_index *ix, const json_t *type, struct firn_buf *path)
{
	const char *kind = json_string_value(json_object_get(type, "type"));
	if (!json_is_object(type) || !kind)
		return 0;
	if (strcmp(kind, "struct") == 0) {
		json_t *fields = json_object_get(type, "fields");
		for (size_t i = 0; i < json_array_size(fields); i++) {
			json_t *f = json_array_get(fields, i);
			FIRN_TRY(index_child(ix, json_string_value(json_object_get(f, "name")),
					     (int32_t)json_integer_value(json_object_get(f, "id")),
					     json_object_get(f, "type"), path));
		}
	} else if (strcmp(kind, "list") == 0) {
		FIRN_TRY(index_child(ix, "element", (int32_t)json_integer_value(json_object_get(type, "element-id")),
				     json_object_get(type, "element"), path));
	} else if (strcmp(kind, "map") == 0) {
		FIRN_TRY(index_child(ix, "key", (int32_t)json_integer_value(json_object_get(type, "key-id")),
				     json_object_get(type, "key"), path));
		FIRN_TRY(index_child(ix, "value", (int32_t)json_integer_value(json_object_get(type, "value-id")),
				     json_object_get(type, "value"), path));
	}
	return 0;
}

static int by_id(const void *a, const void *b)
{
	int32_t x = ((const struct field_ref *)a)->id, y = ((const struct field_ref *)b)->id;
	return (x > y) - (x < y);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct field_ref *)a)->name, ((const struct field_ref *)b)->name);
}

/* Iceberg's rules for a schema's fields, as Java and PyIceberg index them:
 * positive ids, each used once (list elements and map keys/values too),
 * non-empty names, and full dotted names unique ("a.b" beside a struct
 * "a" with a field "b" is two fields with one name). */
static int check_fields(const json_t *j, const char *what, struct firn_error *err)
{
	struct field_index ix = { NULL, 0, 0, FIRN_ARENA_INIT };
	struct firn_buf path = { 0 };
	char n1[96], n2[96];
	int rc = index_type(&ix, j, &path);
	for (size_t i = 0; rc == 0 && i < ix.n; i++) {
		firn_ice__printable(ix.v[i].name, n1, sizeof(n1));
		if (ix.v[i].id <= 0)
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: field '%s': id %d is not positive",
					    what, n1, (int)ix.v[i].id);
	}
	if (rc == 0 && ix.n > 1) {
		qsort(ix.v, ix.n, sizeof(*ix.v), by_id);
		for (size_t i = 1; rc == 0 && i < ix.n; i++)
			if (ix.v[i].id == ix.v[i - 1].id) {
				firn_ice__printable(ix.v[i - 1].name, n1, sizeof(n1));
				firn_ice__printable(ix.v[i].name, n2, sizeof(n2));
				rc = firn_error_set(err, FIRN_ECORRUPT, "%s: field id %d is used twice ('%s' and '%s')",
						    what, (int)ix.v[i].id, n1, n2);
			}
		qsort(ix.v, ix.n, sizeof(*ix.v), by_name);
		for (size_t i = 1; rc == 0 && i < ix.n; i++)
			if (strcmp(ix.v[i].name, ix.v[i - 1].name) == 0) {
				firn_ice__printable(ix.v[i].name, n1, sizeof(n1));
				rc = firn_error_set(err, FIRN_EINVAL,
						    "%s: two fields have the full name '%s' (ids %d and %d)", what,
						    n1, (int)ix.v[i - 1].id, (int)ix.v[i].id);
			}
	}
	if (rc == FIRN_ENOMEM)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_free(ix.v);
	firn_arena_free(&ix.arena);
	firn_buf_free(&path);
	return rc;
}

int firn_ice__schema_from_json(const json_t *j, const char *what, struct ArrowSchema *out,
			       int32_t *max_id, struct firn_error *err)
{
	int32_t mx = 0;
	json_t *fields = json_object_get(j, "fields");
	memset(out, 0, sizeof(*out));
	if (!json_is_object(j) || !json_is_array(fields))
		return corrupt(err, what, "schema without fields", NULL);
	if (type_depth(j, 0, 100) >= 100)
		return corrupt(err, what, "types nest too deeply", NULL);
	int rc = firn_schema_init(out, "+s", "", 0, (int64_t)json_array_size(fields));
	if (rc == 0)
		rc = struct_fields(out, fields, what, &mx, err);
	if (rc == 0)
		rc = check_fields(j, what, err);
	/* the Arrow schema builders return a bare FIRN_ENOMEM */
	if (rc == FIRN_ENOMEM && err && err->code != FIRN_ENOMEM)
		firn_error_set(err, rc, "out of memory");
	if (rc != 0) {
		if (out->release)
			out->release(out);
		return rc;
	}
	if (max_id)
		*max_id = mx;
	return 0;
}

json_t *firn_ice__type_to_json(const struct ArrowSchema *node)
{
	struct firn_type t;
	if (firn_type_of(node, &t, NULL) != 0)
		return NULL;
	if (t.id == FIRN_A_STRUCT) {
		json_t *o = json_object(), *fields = json_array();
		json_object_set_new(o, "type", json_string("struct"));
		for (int64_t i = 0; i < node->n_children; i++) {
			const struct ArrowSchema *c = node->children[i];
			json_t *f = json_object();
			json_object_set_new(f, "id", json_integer(firn_schema_field_id(c)));
			json_object_set_new(f, "name", json_string(c->name ? c->name : ""));
			json_object_set_new(f, "required",
					    json_boolean(!(c->flags & ARROW_FLAG_NULLABLE)));
			json_object_set_new(f, "type", firn_ice__type_to_json(c));
			const char *doc;
			int32_t dl;
			if ((doc = firn_metadata_get(c->metadata, "iceberg:doc", &dl)) != NULL)
				json_object_set_new(f, "doc", json_stringn(doc, (size_t)dl));
			json_array_append_new(fields, f);
		}
		json_object_set_new(o, "fields", fields);
		return o;
	}
	if (t.id == FIRN_A_LIST) {
		const struct ArrowSchema *e = node->children[0];
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string("list"));
		json_object_set_new(o, "element-id", json_integer(firn_schema_field_id(e)));
		json_object_set_new(o, "element", firn_ice__type_to_json(e));
		json_object_set_new(o, "element-required",
				    json_boolean(!(e->flags & ARROW_FLAG_NULLABLE)));
		return o;
	}
	if (t.id == FIRN_A_MAP) {
		const struct ArrowSchema *k = node->children[0]->children[0];
		const struct ArrowSchema *v = node->children[0]->children[1];
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string("map"));
		json_object_set_new(o, "key-id", json_integer(firn_schema_field_id(k)));
		json_object_set_new(o, "key", firn_ice__type_to_json(k));
		json_object_set_new(o, "value-id", json_integer(firn_schema_field_id(v)));
		json_object_set_new(o, "value", firn_ice__type_to_json(v));
		json_object_set_new(o, "value-required",
				    json_boolean(!(v->flags & ARROW_FLAG_NULLABLE)));
		return o;
	}
	struct firn_buf b = { 0 };
	if (firn_type_name(&b, node) != 0 || firn_buf_cstr(&b) != 0) {
		firn_buf_free(&b);
		return NULL;
	}
	json_t *s = json_string((const char *)b.data);
	firn_buf_free(&b);
	return s;
}

json_t *firn_ice__schema_to_json(const struct ArrowSchema *s, int32_t schema_id,
				 const int32_t *identifier_ids, size_t n_identifier)
{
	json_t *o = firn_ice__type_to_json(s);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "schema-id", json_integer(schema_id));
	if (n_identifier > 0) {
		json_t *ids = json_array();
		for (size_t i = 0; i < n_identifier; i++)
			json_array_append_new(ids, json_integer(identifier_ids[i]));
		json_object_set_new(o, "identifier-field-ids", ids);
	}
	return o;
}

const struct ArrowSchema *firn_ice__schema_find(const struct ArrowSchema *s, int32_t id,
						const struct ArrowSchema **parent_out)
{
	for (int64_t i = 0; i < s->n_children; i++) {
		const struct ArrowSchema *c = s->children[i];
		bool entries = s->format[0] == '+' && s->format[1] == 'm';
		if (!entries && firn_schema_field_id(c) == id) {
			if (parent_out)
				*parent_out = s;
			return c;
		}
		const struct ArrowSchema *hit = firn_ice__schema_find(c, id, parent_out);
		if (hit) {
			/* map entries are not a level users see */
			if (parent_out && *parent_out == c && entries)
				*parent_out = s;
			return hit;
		}
	}
	return NULL;
}

static const struct ArrowSchema *child_named(const struct ArrowSchema *s, const char *name,
					     size_t n)
{
	const struct ArrowSchema *hit = NULL;
	int hits = 0;
	for (int64_t i = 0; i < s->n_children; i++) {
		const char *cn = s->children[i]->name ? s->children[i]->name : "";
		if (strlen(cn) == n && memcmp(cn, name, n) == 0)
			return s->children[i];
	}
	for (int64_t i = 0; i < s->n_children; i++) {
		const char *cn = s->children[i]->name ? s->children[i]->name : "";
		if (strlen(cn) == n && strncasecmp(cn, name, n) == 0) {
			hit = s->children[i];
			hits++;
		}
	}
	return hits == 1 ? hit : NULL;
}

const struct ArrowSchema *firn_ice__schema_find_name(const struct ArrowSchema *s,
						     const char *name)
{
	/* the whole name may itself contain dots */
	const struct ArrowSchema *whole = child_named(s, name, strlen(name));
	if (whole)
		return whole;
	const char *dot = strchr(name, '.');
	while (dot) {
		const struct ArrowSchema *c = child_named(s, name, (size_t)(dot - name));
		if (c && c->format[0] == '+' && c->format[1] == 's') {
			const struct ArrowSchema *hit = firn_ice__schema_find_name(c, dot + 1);
			if (hit)
				return hit;
		}
		dot = strchr(dot + 1, '.');
	}
	return NULL;
}

static bool name_of(const struct ArrowSchema *s, int32_t id, struct firn_buf *out)
{
	for (int64_t i = 0; i < s->n_children; i++) {
		const struct ArrowSchema *c = s->children[i];
		bool entries = s->format[0] == '+' && s->format[1] == 'm';
		size_t mark = out->len;
		if (!entries) {
			if (mark > 0)
				firn_buf_putc(out, '.');
			firn_buf_puts(out, c->name ? c->name : "");
			if (firn_schema_field_id(c) == id)
				return true;
		}
		if (name_of(c, id, out))
			return true;
		out->len = mark;
	}
	return false;
}

int firn_ice__schema_name_of(const struct ArrowSchema *s, int32_t id, struct firn_buf *out)
{
	size_t mark = out->len;
	struct firn_buf tmp = { 0 };
	bool found = name_of(s, id, &tmp);
	if (found)
		firn_buf_append(out, tmp.data, tmp.len);
	firn_buf_free(&tmp);
	(void)mark;
	return found ? 0 : FIRN_ENOTFOUND;
}
