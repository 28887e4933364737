/* The REST spec's CreateTableRequest as the builder's create: the updates
 * that make the table, with fresh ids as Java's server assigns them
 * (TableMetadata.newTableMetadata): the client's field ids are not
 * trusted, so the schema is renumbered from 1 and the spec's and the sort
 * order's source ids follow the renumbering. */
#include <stdlib.h>
#include <string.h>

#include "firn/catalog.h"
#include "firn/util.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_table.h"
#include "io/io_local.h"
#include "util/alloc.h"

#define FIRST_PARTITION_FIELD_ID 1000
#define MAX_DEPTH 100

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* ---- fresh field ids ------------------------------------------------- */

struct id_pair {
	int64_t old;
	int32_t fresh;
};

/* The client's id of every field → its fresh one (sorted by old once the
 * schema is walked). */
struct idmap {
	struct id_pair *v;
	size_t n, cap;
};

/* Gives holder[key] (the client's id) the next fresh id. */
static int renumber(struct idmap *m, json_t *holder, const char *key, struct firn_error *err)
{
	json_t *v = json_object_get(holder, key);
	if (!json_is_integer(v))
		return firn_error_set(err, FIRN_EINVAL, "schema: %s %s", key,
				      v ? "is not an integer" : "is missing");
	if (m->n >= FIRN_ICE_MAX_USER_ID)
		return firn_error_set(err, FIRN_EINVAL, "schema: too many fields");
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 32;
		struct id_pair *w = firn_realloc(m->v, cap * sizeof(*w));
		if (!w)
			return nomem(err);
		m->v = w;
		m->cap = cap;
	}
	int32_t fresh = (int32_t)m->n + 1;
	m->v[m->n++] = (struct id_pair){ json_integer_value(v), fresh };
	return json_object_set_new(holder, key, json_integer(fresh)) == 0 ? 0 : nomem(err);
}

static int renumber_type(struct idmap *m, json_t *t, int depth, struct firn_error *err);

/* Java's order (TypeUtil.assignFreshIds): a struct's own fields first,
 * then what each of them holds. */
static int renumber_struct(struct idmap *m, json_t *st, int depth, struct firn_error *err)
{
	json_t *fields = json_object_get(st, "fields");
	if (!json_is_array(fields))
		return firn_error_set(err, FIRN_EINVAL, "schema: a struct without a fields array");
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		if (!json_is_object(f))
			return firn_error_set(err, FIRN_EINVAL, "schema: a field is not an object");
		FIRN_TRY(renumber(m, f, "id", err));
	}
	for (size_t i = 0; i < json_array_size(fields); i++)
		FIRN_TRY(renumber_type(m, json_object_get(json_array_get(fields, i), "type"), depth + 1,
				       err));
	return 0;
}

/* Primitive types (and malformed ones: the schema check after says what
 * is wrong) hold no ids. */
static int renumber_type(struct idmap *m, json_t *t, int depth, struct firn_error *err)
{
	if (depth > MAX_DEPTH)
		return firn_error_set(err, FIRN_EINVAL, "schema: types nest too deeply");
	const char *kind = json_string_value(json_object_get(t, "type"));
	if (!json_is_object(t) || !kind)
		return 0;
	if (strcmp(kind, "struct") == 0)
		return renumber_struct(m, t, depth, err);
	if (strcmp(kind, "list") == 0) {
		FIRN_TRY(renumber(m, t, "element-id", err));
		return renumber_type(m, json_object_get(t, "element"), depth + 1, err);
	}
	if (strcmp(kind, "map") == 0) {
		FIRN_TRY(renumber(m, t, "key-id", err));
		FIRN_TRY(renumber(m, t, "value-id", err));
		FIRN_TRY(renumber_type(m, json_object_get(t, "key"), depth + 1, err));
		return renumber_type(m, json_object_get(t, "value"), depth + 1, err);
	}
	return 0;
}

static int by_old(const void *a, const void *b)
{
	int64_t x = ((const struct id_pair *)a)->old, y = ((const struct id_pair *)b)->old;
	return (x > y) - (x < y);
}

/* The fresh id of the client's id `old`, 0 when the schema has none. */
static int32_t fresh_id(const struct idmap *m, int64_t old)
{
	struct id_pair key = { old, 0 };
	const struct id_pair *p = m->n ? bsearch(&key, m->v, m->n, sizeof(*m->v), by_old) : NULL;
	return p ? p->fresh : 0;
}

/* The request's schema renumbered (schema-id 0, identifier-field-ids
 * following), checked as the builder will; *map for the spec and order. */
static int fresh_schema(const json_t *given, struct idmap *m, json_t **out, struct firn_error *err)
{
	*out = NULL;
	if (!json_is_object(given))
		return firn_error_set(err, FIRN_EINVAL, "schema: %s", given ? "not an object" : "missing");
	json_t *s = json_deep_copy(given);
	if (!s)
		return nomem(err);
	int rc = renumber_struct(m, s, 0, err);
	if (rc == 0 && m->n > 1) {
		qsort(m->v, m->n, sizeof(*m->v), by_old);
		for (size_t i = 1; rc == 0 && i < m->n; i++)
			if (m->v[i].old == m->v[i - 1].old)
				rc = firn_error_set(err, FIRN_EINVAL, "schema: field id %lld is used twice",
						    (long long)m->v[i].old);
	}
	json_t *ids = json_object_get(s, "identifier-field-ids");
	if (rc == 0 && ids && !json_is_null(ids) && !json_is_array(ids))
		rc = firn_error_set(err, FIRN_EINVAL, "schema: identifier-field-ids is not an array");
	for (size_t i = 0; rc == 0 && i < json_array_size(ids); i++) {
		json_t *v = json_array_get(ids, i);
		int32_t f = json_is_integer(v) ? fresh_id(m, json_integer_value(v)) : 0;
		if (f == 0)
			rc = firn_error_set(err, FIRN_EINVAL,
					    "schema: identifier-field-ids[%zu] is not a field of the schema", i);
		else if (json_array_set_new(ids, i, json_integer(f)) != 0)
			rc = nomem(err);
	}
	if (rc == 0 && json_is_null(ids))
		json_object_del(s, "identifier-field-ids");
	if (rc == 0 && json_object_set_new(s, "schema-id", json_integer(0)) != 0)
		rc = nomem(err);
	struct ArrowSchema parsed = { 0 };
	if (rc == 0 && (rc = firn_ice__schema_from_json(s, "schema", &parsed, NULL, err)) == 0)
		parsed.release(&parsed);
	if (rc == FIRN_ECORRUPT) { /* bad input, not a damaged file */
		if (err)
			err->code = FIRN_EINVAL;
		rc = FIRN_EINVAL;
	}
	if (rc != 0) {
		json_decref(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- spec and sort order --------------------------------------------- */

/* Checks x as the update `action` would carry it under `key` (the forms
 * of ice_update.c), the message prefixed with `what`. */
static int check_as(const char *action, const char *key, const json_t *x, const char *what,
		    struct firn_error *err)
{
	json_t *u = json_object();
	if (!u || json_object_set_new(u, "action", json_string(action)) != 0 ||
	    json_object_set(u, key, (json_t *)x) != 0) {
		json_decref(u);
		return nomem(err);
	}
	const char *name;
	int rc = firn_ice__update_form(u, &name, err);
	json_decref(u);
	if (rc != 0)
		firn_error_prefix(err, "%s", what);
	return rc;
}

/* A copy of field f of `what` with its source id(s) mapped to the fresh
 * ones. */
static int remap_sources(const struct idmap *m, json_t *f, const char *what, size_t i,
			 struct firn_error *err)
{
	json_t *one = json_object_get(f, "source-id");
	json_t *many = json_object_get(f, "source-ids");
	if (json_is_integer(one)) {
		int32_t id = fresh_id(m, json_integer_value(one));
		if (id == 0)
			return firn_error_set(err, FIRN_EINVAL,
					      "%s.fields[%zu].source-id %lld is not in the schema", what, i,
					      (long long)json_integer_value(one));
		if (json_object_set_new(f, "source-id", json_integer(id)) != 0)
			return nomem(err);
	}
	for (size_t k = 0; json_is_array(many) && k < json_array_size(many); k++) {
		json_int_t old = json_integer_value(json_array_get(many, k));
		int32_t id = fresh_id(m, old);
		if (id == 0)
			return firn_error_set(err, FIRN_EINVAL,
					      "%s.fields[%zu].source-ids[%zu] %lld is not in the schema", what, i,
					      k, (long long)old);
		if (json_array_set_new(many, k, json_integer(id)) != 0)
			return nomem(err);
	}
	return 0;
}

/* The request's partition-spec as spec 0, partition field ids from 1000;
 * absent: unpartitioned. */
static int fresh_spec(const json_t *given, const struct idmap *m, json_t **out,
		      struct firn_error *err)
{
	*out = NULL;
	json_t *spec;
	if (!given || json_is_null(given)) {
		spec = json_pack("{s:i,s:[]}", "spec-id", 0, "fields");
		*out = spec;
		return spec ? 0 : nomem(err);
	}
	FIRN_TRY(check_as("add-spec", "spec", given, "partition-spec", err));
	spec = json_deep_copy(given);
	json_t *fields = json_object_get(spec, "fields");
	int rc = spec && json_object_set_new(spec, "spec-id", json_integer(0)) == 0 ? 0 : nomem(err);
	for (size_t i = 0; rc == 0 && i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		rc = remap_sources(m, f, "partition-spec", i, err);
		json_t *id = json_integer(FIRST_PARTITION_FIELD_ID + (json_int_t)i);
		if (rc == 0 && json_object_set_new(f, "field-id", id) != 0)
			rc = nomem(err);
		else if (rc != 0)
			json_decref(id);
	}
	if (rc != 0) {
		json_decref(spec);
		return rc;
	}
	*out = spec;
	return 0;
}

/* The request's write-order as order 1 (0 when unsorted, as Java numbers
 * them); absent: unsorted. */
static int fresh_order(const json_t *given, const struct idmap *m, json_t **out,
		       struct firn_error *err)
{
	*out = NULL;
	json_t *order;
	if (!given || json_is_null(given)) {
		order = json_pack("{s:i,s:[]}", "order-id", 0, "fields");
		*out = order;
		return order ? 0 : nomem(err);
	}
	FIRN_TRY(check_as("add-sort-order", "sort-order", given, "write-order", err));
	order = json_deep_copy(given);
	json_t *fields = json_object_get(order, "fields");
	int rc = order && json_object_set_new(order, "order-id",
					      json_integer(json_array_size(fields) ? 1 : 0)) == 0
			 ? 0
			 : nomem(err);
	for (size_t i = 0; rc == 0 && i < json_array_size(fields); i++)
		rc = remap_sources(m, json_array_get(fields, i), "write-order", i, err);
	if (rc != 0) {
		json_decref(order);
		return rc;
	}
	*out = order;
	return 0;
}

/* ---- properties ------------------------------------------------------ */

/* Java's reserved properties: table state, never stored as properties. */
static const char *const RESERVED[] = { "format-version", "uuid", "snapshot-count",
					"current-snapshot-id", "current-snapshot-summary",
					"current-snapshot-timestamp-ms", "current-schema",
					"default-partition-spec", "default-sort-order" };

static bool reserved(const char *k)
{
	for (size_t i = 0; i < sizeof(RESERVED) / sizeof(RESERVED[0]); i++)
		if (strcmp(RESERVED[i], k) == 0)
			return true;
	return false;
}

/* The properties to set (Java's default for new tables, zstd Parquet,
 * then the request's) and the format version its "format-version" picks. */
static int fresh_properties(const json_t *given, json_t **out, int *fv, struct firn_error *err)
{
	*out = NULL;
	*fv = 2;
	if (given && !json_is_null(given) && !json_is_object(given))
		return firn_error_set(err, FIRN_EINVAL, "properties: not an object");
	json_t *props = json_pack("{s:s}", "write.parquet.compression-codec", "zstd");
	if (!props)
		return nomem(err);
	const char *k;
	json_t *v;
	int rc = 0;
	json_object_foreach((json_t *)given, k, v) {
		const char *s = json_string_value(v);
		if (!s) {
			char shown[64];
			firn_ice__printable(k, shown, sizeof(shown));
			rc = firn_error_set(err, FIRN_EINVAL, "properties: value of '%s' is not a string",
					    shown);
		} else if (strcmp(k, "format-version") == 0) {
			if (strlen(s) != 1 || s[0] < '1' || s[0] > '3') {
				char shown[64];
				firn_ice__printable(s, shown, sizeof(shown));
				rc = firn_error_set(err, FIRN_EINVAL,
						    "properties: format-version '%s' is not 1, 2 or 3", shown);
			}
			*fv = s[0] - '0';
		} else if (!reserved(k) && json_object_set_new(props, k, json_string(s)) != 0) {
			rc = nomem(err);
		}
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		json_decref(props);
		return rc;
	}
	*out = props;
	return 0;
}

/* ---- the request ----------------------------------------------------- */

/* What a create request asks for, checked and with fresh ids. */
struct request {
	const char *name;
	const char *location; /* NULL: the default */
	bool staged;
	int fv;
	json_t *schema, *spec, *order, *props;
};

static void request_free(struct request *r)
{
	json_decref(r->schema);
	json_decref(r->spec);
	json_decref(r->order);
	json_decref(r->props);
}

static int optional_string(const json_t *body, const char *key, const char **out,
			   struct firn_error *err)
{
	const json_t *v = json_object_get(body, key);
	*out = json_string_value(v);
	if (v && !json_is_null(v) && (!*out || !**out))
		return firn_error_set(err, FIRN_EINVAL, "%s is not a non-empty string", key);
	return 0;
}

static int request_read(const json_t *body, const char *ns, struct request *r,
			struct firn_error *err)
{
	const json_t *name = json_object_get(body, "name");
	r->name = json_string_value(name);
	if (!r->name)
		return firn_error_set(err, FIRN_EINVAL, "name: %s", name ? "not a string" : "missing");
	FIRN_TRY(firn_ice__check_new_ident(ns, r->name, err));
	FIRN_TRY(optional_string(body, "location", &r->location, err));
	const json_t *staged = json_object_get(body, "stage-create");
	if (staged && !json_is_null(staged) && !json_is_boolean(staged))
		return firn_error_set(err, FIRN_EINVAL, "stage-create is not a boolean");
	r->staged = json_is_true(staged);
	struct idmap m = { 0 };
	int rc = fresh_schema(json_object_get(body, "schema"), &m, &r->schema, err);
	if (rc == 0)
		rc = fresh_spec(json_object_get(body, "partition-spec"), &m, &r->spec, err);
	if (rc == 0)
		rc = fresh_order(json_object_get(body, "write-order"), &m, &r->order, err);
	if (rc == 0)
		rc = fresh_properties(json_object_get(body, "properties"), &r->props, &r->fv, err);
	firn_free(m.v);
	return rc;
}

/* The builder's create (ice_update.h) for r at location loc (NULL: the
 * catalog picks it). */
static int request_updates(const struct request *r, const char *loc, json_t **out,
			   struct firn_error *err)
{
	uint8_t u[16];
	char us[37];
	firn_uuid_v4(u);
	firn_uuid_format(u, us);
	json_t *v = json_array();
	long failures = firn_alloc__json_failures();
	json_array_append_new(v, firn_ice__upd_assign_uuid(us));
	json_array_append_new(v, firn_ice__upd_upgrade_format_version(r->fv));
	json_array_append_new(v, firn_ice__upd_add_schema(r->schema));
	json_array_append_new(v, firn_ice__upd_set_current_schema(-1));
	json_array_append_new(v, firn_ice__upd_add_spec(r->spec));
	json_array_append_new(v, firn_ice__upd_set_default_spec(-1));
	json_array_append_new(v, firn_ice__upd_add_sort_order(r->order));
	json_array_append_new(v, firn_ice__upd_set_default_sort_order(-1));
	if (loc)
		json_array_append_new(v, firn_ice__upd_set_location(loc));
	json_array_append_new(v, firn_ice__upd_set_properties(r->props));
	/* a constructor that ran out of memory returned NULL, which the
	 * append refused: the array is short */
	if (!v || json_array_size(v) != (loc ? 10u : 9u) || firn_alloc__json_failures() != failures) {
		json_decref(v);
		return nomem(err);
	}
	*out = v;
	return 0;
}

/* The table keeps the location as its client wrote it ("file:/tmp/t"),
 * without trailing slashes, as Java's catalogs do: clients compare it to
 * what they asked for. The checks worked on the normalized form (*loc),
 * which it replaces. */
static int as_given(const char *location, char **loc, struct firn_error *err)
{
	size_t n = strlen(location);
	while (n > 1 && location[n - 1] == '/')
		n--;
	char *s = firn_strndup(location, n);
	if (!s)
		return nomem(err);
	firn_free(*loc);
	*loc = s;
	return 0;
}

/* Java's order: the request is checked (400) before the catalog is asked
 * about the namespace (404) and the name (409). */
static int request_room(struct firn_catalog *c, const char *ns, const char *name,
			struct firn_error *err)
{
	int rc = firn_catalog_namespace_exists(c, ns, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
	char *existing = NULL;
	if (firn_catalog_table_load(c, ns, name, &existing, NULL) == 0) {
		firn_free(existing);
		return firn_error_set(err, FIRN_EEXISTS, "table %s.%s already exists", ns, name);
	}
	return 0;
}

int firn_catalog_table_create_json(struct firn_catalog *c, const char *ns, const char *body,
				   char **result, struct firn_error *err)
{
	*result = NULL;
	json_t *j;
	FIRN_TRY(firn_ice__request_parse(body, "create request", &j, err));
	struct request r = { 0 };
	char *loc = NULL, *mloc = NULL;
	json_t *updates = NULL;
	struct firn_ice_meta *m = NULL;
	int rc = request_read(j, ns, &r, err);
	if (rc == 0 && r.location)
		rc = firn_ice__confine_check(c, r.location, err);
	if (rc == 0)
		rc = request_room(c, ns, r.name, err);
	if (rc == 0 && c->ops->picks_locations && r.location && !(loc = firn_io__normalize(r.location)))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	else if (rc == 0 && !c->ops->picks_locations)
		rc = firn_ice__choose_location(c, ns, r.name, r.location, &loc, err);
	if (rc == 0 && r.location)
		rc = as_given(r.location, &loc, err);
	if (rc == 0)
		rc = request_updates(&r, loc, &updates, err);
	if (rc == 0)
		rc = c->ops->table_create(c->self, ns, r.name, updates, r.staged, &m, &mloc, err);
	if (rc == 0)
		rc = firn_ice__load_result(mloc, m, result, err);
	firn_ice__meta_free(m);
	firn_free(mloc);
	json_decref(updates);
	firn_free(loc);
	request_free(&r);
	json_decref(j);
	return rc;
}
