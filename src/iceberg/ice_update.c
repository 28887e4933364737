/* Table updates and requirements: the REST spec's JSON forms, their
 * constructors and checks, and requirements against metadata. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iceberg/ice_update.h"

/* ---- changes ------------------------------------------------------- */

int firn_ice__change_init(struct firn_ice_change *c, struct firn_error *err)
{
	c->requirements = json_array();
	c->updates = json_array();
	if (!c->requirements || !c->updates) {
		firn_ice__change_free(c);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

void firn_ice__change_free(struct firn_ice_change *c)
{
	json_decref(c->requirements);
	json_decref(c->updates);
	c->requirements = c->updates = NULL;
}

static int append(json_t *arr, json_t *x, struct firn_error *err)
{
	if (!x || !arr || json_array_append_new(arr, x) != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return 0;
}

int firn_ice__change_update(struct firn_ice_change *c, json_t *u, struct firn_error *err)
{
	return append(c->updates, u, err);
}

int firn_ice__change_require(struct firn_ice_change *c, json_t *r, struct firn_error *err)
{
	return append(c->requirements, r, err);
}

/* ---- constructors --------------------------------------------------- */

/* {"<tag>": name} plus one field; v stolen. NULL when out of memory. */
static json_t *obj1(const char *tag, const char *name, const char *key, json_t *v)
{
	json_t *o = json_object();
	if (!o || !v || json_object_set_new(o, tag, json_string(name)) != 0) {
		json_decref(o);
		json_decref(v);
		return NULL;
	}
	if (!key) {
		json_decref(v);
		return o;
	}
	if (json_object_set_new(o, key, v) != 0) { /* v is gone either way */
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *upd(const char *action, const char *key, json_t *v)
{
	return obj1("action", action, key, v);
}

static json_t *req(const char *type, const char *key, json_t *v)
{
	return obj1("type", type, key, v);
}

static json_t *copy(const json_t *j)
{
	return j ? json_deep_copy(j) : NULL;
}

static json_t *str(const char *s)
{
	return s ? json_string(s) : NULL;
}

json_t *firn_ice__upd_assign_uuid(const char *uuid)
{
	return upd("assign-uuid", "uuid", str(uuid));
}

json_t *firn_ice__upd_upgrade_format_version(int version)
{
	return upd("upgrade-format-version", "format-version", json_integer(version));
}

json_t *firn_ice__upd_add_schema(const json_t *schema)
{
	return upd("add-schema", "schema", copy(schema));
}

json_t *firn_ice__upd_set_current_schema(int32_t schema_id)
{
	return upd("set-current-schema", "schema-id", json_integer(schema_id));
}

json_t *firn_ice__upd_add_spec(const json_t *spec)
{
	return upd("add-spec", "spec", copy(spec));
}

json_t *firn_ice__upd_set_default_spec(int32_t spec_id)
{
	return upd("set-default-spec", "spec-id", json_integer(spec_id));
}

json_t *firn_ice__upd_add_sort_order(const json_t *order)
{
	return upd("add-sort-order", "sort-order", copy(order));
}

json_t *firn_ice__upd_set_default_sort_order(int32_t order_id)
{
	return upd("set-default-sort-order", "sort-order-id", json_integer(order_id));
}

json_t *firn_ice__upd_add_snapshot(const json_t *snapshot)
{
	return upd("add-snapshot", "snapshot", copy(snapshot));
}

static const char *const RETENTION[] = { "max-ref-age-ms", "max-snapshot-age-ms",
					 "min-snapshots-to-keep" };

json_t *firn_ice__upd_set_ref(const char *name, const char *type, int64_t snapshot_id,
			      const json_t *retention)
{
	json_t *u = upd("set-snapshot-ref", "ref-name", str(name));
	if (!u || json_object_set_new(u, "type", str(type)) != 0 ||
	    json_object_set_new(u, "snapshot-id", json_integer(snapshot_id)) != 0) {
		json_decref(u);
		return NULL;
	}
	for (size_t i = 0; retention && i < sizeof(RETENTION) / sizeof(RETENTION[0]); i++) {
		json_t *v = json_object_get(retention, RETENTION[i]);
		if (v && json_object_set(u, RETENTION[i], v) != 0) {
			json_decref(u);
			return NULL;
		}
	}
	return u;
}

json_t *firn_ice__upd_move_branch(const struct firn_ice_meta *m, const char *name,
				  int64_t snapshot_id)
{
	json_t *old = json_object_get(json_object_get(m->root, "refs"), name);
	return firn_ice__upd_set_ref(name, "branch", snapshot_id, json_is_object(old) ? old : NULL);
}

json_t *firn_ice__upd_remove_ref(const char *name)
{
	return upd("remove-snapshot-ref", "ref-name", str(name));
}

static json_t *ints64(const int64_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *ints32(const int32_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *firn_ice__upd_remove_snapshots(const int64_t *ids, size_t n)
{
	return upd("remove-snapshots", "snapshot-ids", ints64(ids, n));
}

json_t *firn_ice__upd_set_location(const char *location)
{
	return upd("set-location", "location", str(location));
}

json_t *firn_ice__upd_set_properties(const json_t *set)
{
	return upd("set-properties", "updates", copy(set));
}

json_t *firn_ice__upd_remove_properties(const char *const *keys, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (!keys[i] || json_array_append_new(a, json_string(keys[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	return upd("remove-properties", "removals", a);
}

json_t *firn_ice__upd_set_statistics(const json_t *statistics)
{
	return upd("set-statistics", "statistics", copy(statistics));
}

json_t *firn_ice__upd_remove_statistics(int64_t snapshot_id)
{
	return upd("remove-statistics", "snapshot-id", json_integer(snapshot_id));
}

json_t *firn_ice__upd_set_partition_statistics(const json_t *statistics)
{
	return upd("set-partition-statistics", "partition-statistics", copy(statistics));
}

json_t *firn_ice__upd_remove_partition_statistics(int64_t snapshot_id)
{
	return upd("remove-partition-statistics", "snapshot-id", json_integer(snapshot_id));
}

json_t *firn_ice__upd_remove_partition_specs(const int32_t *ids, size_t n)
{
	return upd("remove-partition-specs", "spec-ids", ints32(ids, n));
}

json_t *firn_ice__upd_remove_schemas(const int32_t *ids, size_t n)
{
	return upd("remove-schemas", "schema-ids", ints32(ids, n));
}

json_t *firn_ice__upd_add_encryption_key(const json_t *key)
{
	return upd("add-encryption-key", "encryption-key", copy(key));
}

json_t *firn_ice__upd_remove_encryption_key(const char *key_id)
{
	return upd("remove-encryption-key", "key-id", str(key_id));
}

json_t *firn_ice__req_assert_create(void)
{
	return req("assert-create", NULL, json_null());
}

json_t *firn_ice__req_assert_table_uuid(const char *uuid)
{
	return req("assert-table-uuid", "uuid", str(uuid));
}

json_t *firn_ice__req_assert_ref_snapshot_id(const char *ref, bool has_id, int64_t snapshot_id)
{
	json_t *r = req("assert-ref-snapshot-id", "ref", str(ref));
	if (r && json_object_set_new(r, "snapshot-id",
				     has_id ? json_integer(snapshot_id) : json_null()) != 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

json_t *firn_ice__req_assert_last_assigned_field_id(int32_t id)
{
	return req("assert-last-assigned-field-id", "last-assigned-field-id", json_integer(id));
}

json_t *firn_ice__req_assert_current_schema_id(int32_t id)
{
	return req("assert-current-schema-id", "current-schema-id", json_integer(id));
}

json_t *firn_ice__req_assert_last_assigned_partition_id(int32_t id)
{
	return req("assert-last-assigned-partition-id", "last-assigned-partition-id",
		   json_integer(id));
}

json_t *firn_ice__req_assert_default_spec_id(int32_t id)
{
	return req("assert-default-spec-id", "default-spec-id", json_integer(id));
}

json_t *firn_ice__req_assert_default_sort_order_id(int32_t id)
{
	return req("assert-default-sort-order-id", "default-sort-order-id", json_integer(id));
}

/* ---- the JSON forms ------------------------------------------------- */

enum kind { K_STR, K_I32, K_I64, K_I64_NULL, K_OBJ, K_STRMAP, K_ARR_OBJ, K_ARR_I32, K_ARR_I64,
	    K_ARR_STR };

/* One field of a form; sub: the fields of an object (or of each element
 * of an array of objects); one_of: the allowed values of a string, '|'
 * separated. */
struct field {
	const char *key;
	enum kind kind;
	bool required;
	const struct field *sub;
	const char *one_of;
};

struct form {
	const char *name;
	struct field fields[4];
};

static const struct field SUMMARY[] = {
	{ "operation", K_STR, true, NULL, "append|replace|overwrite|delete" }, { NULL }
};
static const struct field SNAPSHOT[] = {
	{ "snapshot-id", K_I64, true }, { "parent-snapshot-id", K_I64 },
	{ "sequence-number", K_I64 }, { "timestamp-ms", K_I64, true },
	{ "manifest-list", K_STR }, { "summary", K_STRMAP, true, SUMMARY },
	{ "schema-id", K_I32 }, { "first-row-id", K_I64 }, { "added-rows", K_I64 }, { NULL }
};
static const struct field SCHEMA[] = {
	{ "fields", K_ARR_OBJ, true }, { "schema-id", K_I32 },
	{ "identifier-field-ids", K_ARR_I32 }, { NULL }
};
static const struct field SPEC_FIELD[] = {
	{ "source-id", K_I32 }, { "source-ids", K_ARR_I32 }, { "field-id", K_I32 },
	{ "transform", K_STR, true }, { "name", K_STR, true }, { NULL }
};
static const struct field SPEC[] = {
	{ "spec-id", K_I32 }, { "fields", K_ARR_OBJ, true, SPEC_FIELD }, { NULL }
};
static const struct field SORT_FIELD[] = {
	{ "source-id", K_I32 }, { "source-ids", K_ARR_I32 }, { "transform", K_STR, true },
	{ "direction", K_STR, true, NULL, "asc|desc" },
	{ "null-order", K_STR, true, NULL, "nulls-first|nulls-last" }, { NULL }
};
static const struct field ORDER[] = {
	{ "order-id", K_I32, true }, { "fields", K_ARR_OBJ, true, SORT_FIELD }, { NULL }
};
static const struct field BLOB[] = {
	{ "type", K_STR, true }, { "snapshot-id", K_I64, true }, { "sequence-number", K_I64, true },
	{ "fields", K_ARR_I32, true }, { "properties", K_STRMAP }, { NULL }
};
static const struct field STATS[] = {
	{ "snapshot-id", K_I64, true }, { "statistics-path", K_STR, true },
	{ "file-size-in-bytes", K_I64, true }, { "file-footer-size-in-bytes", K_I64, true },
	{ "blob-metadata", K_ARR_OBJ, true, BLOB }, { NULL }
};
static const struct field PSTATS[] = {
	{ "snapshot-id", K_I64, true }, { "statistics-path", K_STR, true },
	{ "file-size-in-bytes", K_I64, true }, { NULL }
};
static const struct field KEY[] = {
	{ "key-id", K_STR, true }, { "encrypted-key-metadata", K_STR, true },
	{ "encrypted-by-id", K_STR }, { "properties", K_STRMAP }, { NULL }
};

static const struct form UPDATES[] = {
	{ "assign-uuid", { { "uuid", K_STR, true } } },
	{ "upgrade-format-version", { { "format-version", K_I32, true } } },
	{ "add-schema", { { "schema", K_OBJ, true, SCHEMA }, { "last-column-id", K_I32 } } },
	{ "set-current-schema", { { "schema-id", K_I32, true } } },
	{ "add-spec", { { "spec", K_OBJ, true, SPEC } } },
	{ "set-default-spec", { { "spec-id", K_I32, true } } },
	{ "add-sort-order", { { "sort-order", K_OBJ, true, ORDER } } },
	{ "set-default-sort-order", { { "sort-order-id", K_I32, true } } },
	{ "add-snapshot", { { "snapshot", K_OBJ, true, SNAPSHOT } } },
	{ "set-snapshot-ref",
	  { { "ref-name", K_STR, true }, { "type", K_STR, true, NULL, "branch|tag" },
	    { "snapshot-id", K_I64, true } } },
	{ "remove-snapshots", { { "snapshot-ids", K_ARR_I64, true } } },
	{ "remove-snapshot-ref", { { "ref-name", K_STR, true } } },
	{ "set-location", { { "location", K_STR, true } } },
	{ "set-properties", { { "updates", K_STRMAP, true } } },
	{ "remove-properties", { { "removals", K_ARR_STR, true } } },
	{ "set-statistics", { { "statistics", K_OBJ, true, STATS }, { "snapshot-id", K_I64 } } },
	{ "remove-statistics", { { "snapshot-id", K_I64, true } } },
	{ "set-partition-statistics", { { "partition-statistics", K_OBJ, true, PSTATS } } },
	{ "remove-partition-statistics", { { "snapshot-id", K_I64, true } } },
	{ "remove-partition-specs", { { "spec-ids", K_ARR_I32, true } } },
	{ "remove-schemas", { { "schema-ids", K_ARR_I32, true } } },
	{ "add-encryption-key", { { "encryption-key", K_OBJ, true, KEY } } },
	{ "remove-encryption-key", { { "key-id", K_STR, true } } },
};

static const struct form REQUIREMENTS[] = {
	{ "assert-create", { { NULL } } },
	{ "assert-table-uuid", { { "uuid", K_STR, true } } },
	{ "assert-ref-snapshot-id", { { "ref", K_STR, true }, { "snapshot-id", K_I64_NULL, true } } },
	{ "assert-last-assigned-field-id", { { "last-assigned-field-id", K_I32, true } } },
	{ "assert-current-schema-id", { { "current-schema-id", K_I32, true } } },
	{ "assert-last-assigned-partition-id", { { "last-assigned-partition-id", K_I32, true } } },
	{ "assert-default-spec-id", { { "default-spec-id", K_I32, true } } },
	{ "assert-default-sort-order-id", { { "default-sort-order-id", K_I32, true } } },
};

static bool is_i32(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
	       json_integer_value(v) <= INT32_MAX;
}

static bool one_of(const char *s, const char *list)
{
	size_t n = strlen(s);
	for (const char *p = list; p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, s, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static int check_fields(const json_t *o, const struct field *f, size_t nf, const char *path,
			struct firn_error *err);

static int bad_form(struct firn_error *err, const char *path, const char *key, const char *what)
{
	return firn_error_set(err, FIRN_EINVAL, "%s%s%s %s", path, *path ? "." : "", key, what);
}

static int check_array(const json_t *a, const struct field *f, const char *path,
		       struct firn_error *err)
{
	char sub[160];
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *e = json_array_get(a, i);
		bool ok = f->kind == K_ARR_OBJ ? json_is_object(e) :
			  f->kind == K_ARR_STR ? json_is_string(e) :
			  f->kind == K_ARR_I32 ? is_i32(e) : json_is_integer(e);
		snprintf(sub, sizeof(sub), "%s%s%s[%zu]", path, *path ? "." : "", f->key, i);
		if (!ok)
			return firn_error_set(err, FIRN_EINVAL, "%s is not %s", sub,
					      f->kind == K_ARR_OBJ ? "an object" :
					      f->kind == K_ARR_STR ? "a string" : "an integer");
		if (f->kind == K_ARR_OBJ && f->sub)
			FIRN_TRY(check_fields(e, f->sub, SIZE_MAX, sub, err));
	}
	return 0;
}

static int check_one(const json_t *v, const struct field *f, const char *path,
		     struct firn_error *err)
{
	char sub[160];
	snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", f->key);
	switch (f->kind) {
	case K_STR:
		if (!json_is_string(v))
			return bad_form(err, path, f->key, "is not a string");
		if (f->one_of && !one_of(json_string_value(v), f->one_of)) {
			char shown[64];
			firn_ice__printable(json_string_value(v), shown, sizeof(shown));
			return firn_error_set(err, FIRN_EINVAL, "%s '%s' is not one of %s", sub, shown,
					      f->one_of);
		}
		return 0;
	case K_I32:
		return is_i32(v) ? 0 : bad_form(err, path, f->key, "is not a 32-bit integer");
	case K_I64:
		return json_is_integer(v) ? 0 : bad_form(err, path, f->key, "is not an integer");
	case K_I64_NULL:
		return json_is_integer(v) || json_is_null(v) ? 0 :
		       bad_form(err, path, f->key, "is not an integer or null");
	case K_OBJ:
	case K_STRMAP:
		if (!json_is_object(v))
			return bad_form(err, path, f->key, "is not an object");
		if (f->kind == K_STRMAP) {
			const char *k;
			json_t *x;
			json_object_foreach((json_t *)v, k, x)
				if (!json_is_string(x)) {
					char shown[64];
					firn_ice__printable(k, shown, sizeof(shown));
					return firn_error_set(err, FIRN_EINVAL, "%s: value of '%s' is not a string",
							      sub, shown);
				}
		}
		return f->sub ? check_fields(v, f->sub, SIZE_MAX, sub, err) : 0;
	default:
		if (!json_is_array(v))
			return bad_form(err, path, f->key, "is not an array");
		return check_array(v, f, path, err);
	}
}

/* The fields of o against f (NULL-key terminated or nf long). */
static int check_fields(const json_t *o, const struct field *f, size_t nf, const char *path,
			struct firn_error *err)
{
	for (size_t i = 0; i < nf && f[i].key; i++) {
		const json_t *v = json_object_get(o, f[i].key);
		if (!v) {
			if (f[i].required)
				return bad_form(err, path, f[i].key, "is missing");
			continue;
		}
		/* an optional field may be null, as Java writes absent ones */
		if (json_is_null(v) && !f[i].required)
			continue;
		FIRN_TRY(check_one(v, &f[i], path, err));
	}
	return 0;
}

static int check_form(const json_t *x, const char *tag, const struct form *forms, size_t n,
		      const char *what, const char **name, struct firn_error *err)
{
	*name = NULL;
	if (!json_is_object(x))
		return firn_error_set(err, FIRN_EINVAL, "%s is not an object", what);
	const char *t = json_string_value(json_object_get(x, tag));
	if (!t)
		return firn_error_set(err, FIRN_EINVAL, "%s without \"%s\"", what, tag);
	for (size_t i = 0; i < n; i++)
		if (strcmp(forms[i].name, t) == 0) {
			*name = forms[i].name;
			return check_fields(x, forms[i].fields, 4, "", err);
		}
	char shown[64];
	firn_ice__printable(t, shown, sizeof(shown));
	return firn_error_set(err, FIRN_EINVAL, "unknown %s %s '%s'", what, tag, shown);
}

/* Shared with the builder: checks u, *action its action (static) or NULL,
 * the message without the action. */
int firn_ice__update_form(const json_t *u, const char **action, struct firn_error *err)
{
	int rc = check_form(u, "action", UPDATES, sizeof(UPDATES) / sizeof(UPDATES[0]), "update",
			    action, err);
	if (rc == 0 && strcmp(*action, "add-snapshot") == 0) {
		json_t *s = json_object_get(u, "snapshot");
		if (!json_is_string(json_object_get(s, "manifest-list")) &&
		    !json_is_array(json_object_get(s, "manifests")))
			rc = firn_error_set(err, FIRN_EINVAL, "snapshot.manifest-list is missing");
	}
	if (rc == 0 && strcmp(*action, "add-spec") == 0) {
		json_t *fields = json_object_get(json_object_get(u, "spec"), "fields");
		for (size_t i = 0; rc == 0 && i < json_array_size(fields); i++) {
			json_t *f = json_array_get(fields, i);
			if (!json_is_integer(json_object_get(f, "source-id")) &&
			    json_array_size(json_object_get(f, "source-ids")) == 0)
				rc = firn_error_set(err, FIRN_EINVAL, "spec.fields[%zu].source-id is missing", i);
		}
	}
	return rc;
}

int firn_ice__update_check(const json_t *u, struct firn_error *err)
{
	const char *action;
	int rc = firn_ice__update_form(u, &action, err);
	if (rc != 0 && action)
		firn_error_prefix(err, "%s", action);
	return rc;
}

int firn_ice__requirement_check(const json_t *r, struct firn_error *err)
{
	const char *type;
	int rc = check_form(r, "type", REQUIREMENTS, sizeof(REQUIREMENTS) / sizeof(REQUIREMENTS[0]),
			    "requirement", &type, err);
	if (rc != 0 && type)
		firn_error_prefix(err, "%s", type);
	return rc;
}

static int copy_checked(const json_t *arr, const char *what, json_t **out,
			int (*check)(const json_t *, struct firn_error *), struct firn_error *err)
{
	if (!json_is_array(arr))
		return firn_error_set(err, FIRN_EINVAL, "%ss: %s", what,
				      arr ? "not an array" : "missing");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		int rc = check(json_array_get(arr, i), err);
		if (rc != 0) {
			firn_error_prefix(err, "%s %zu", what, i);
			return rc;
		}
	}
	*out = json_deep_copy(arr);
	return *out ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

int firn_ice__change_from_json(const json_t *body, struct firn_ice_change *out,
			       struct firn_error *err)
{
	out->requirements = out->updates = NULL;
	if (!json_is_object(body))
		return firn_error_set(err, FIRN_EINVAL, "commit request: not a JSON object");
	int rc = copy_checked(json_object_get(body, "requirements"), "requirement",
			      &out->requirements, firn_ice__requirement_check, err);
	if (rc == 0)
		rc = copy_checked(json_object_get(body, "updates"), "update", &out->updates,
				  firn_ice__update_check, err);
	if (rc != 0)
		firn_ice__change_free(out);
	return rc;
}

json_t *firn_ice__change_to_json(const struct firn_ice_change *c)
{
	json_t *o = json_object();
	if (o && (json_object_set_new(o, "requirements", json_deep_copy(c->requirements)) != 0 ||
		  json_object_set_new(o, "updates", json_deep_copy(c->updates)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- requirements against metadata ------------------------------------ */

static int failed(struct firn_error *err, const char *what, int64_t expected, int64_t is)
{
	/* Java's wording (UpdateRequirement): REST clients and the REST
	 * Compatibility Kit match it */
	return firn_error_set(err, FIRN_ECONFLICT,
			      "Requirement failed: %s changed: expected id %lld != %lld",
			      what, (long long)expected, (long long)is);
}

static int check_ref(const struct firn_ice_meta *m, const json_t *r, struct firn_error *err)
{
	const char *name = json_string_value(json_object_get(r, "ref"));
	const json_t *id = json_object_get(r, "snapshot-id");
	const struct firn_ice_ref *ref = firn_ice__meta_ref(m, name);
	char shown[96];
	firn_ice__printable(name, shown, sizeof(shown));
	if (ref && json_is_null(id))
		return firn_error_set(err, FIRN_ECONFLICT,
				      "Requirement failed: %s %s was created concurrently",
				      ref->tag ? "tag" : "branch", shown);
	if (!ref && !json_is_null(id))
		return firn_error_set(err, FIRN_ECONFLICT,
				      "Requirement failed: branch or tag %s is missing, "
				      "expected %lld",
				      shown, (long long)json_integer_value(id));
	if (ref && ref->snapshot_id != json_integer_value(id))
		return firn_error_set(err, FIRN_ECONFLICT,
				      "Requirement failed: %s %s has changed: "
				      "expected id %lld != %lld",
				      ref->tag ? "tag" : "branch", shown,
				      (long long)json_integer_value(id), (long long)ref->snapshot_id);
	return 0;
}

static int check_requirement(const struct firn_ice_meta *m, const json_t *r,
			     struct firn_error *err)
{
	const char *type = json_string_value(json_object_get(r, "type"));
	if (strcmp(type, "assert-create") == 0)
		return m ? firn_error_set(err, FIRN_ECONFLICT,
					  "Requirement failed: table already exists")
			 : 0;
	if (!m)
		return firn_error_set(err, FIRN_ECONFLICT,
				      "Requirement failed: %s: the table does not exist", type);
	if (strcmp(type, "assert-table-uuid") == 0) {
		const char *want = json_string_value(json_object_get(r, "uuid"));
		if (m->uuid && strcasecmp(m->uuid, want) == 0)
			return 0;
		char a[64], b[64];
		firn_ice__printable(m->uuid ? m->uuid : "(none)", a, sizeof(a));
		firn_ice__printable(want, b, sizeof(b));
		/* as Java words it: the table's uuid first, then the one required */
		return firn_error_set(err, FIRN_ECONFLICT,
				      "Requirement failed: UUID does not match: expected %s != %s",
				      a, b);
	}
	if (strcmp(type, "assert-ref-snapshot-id") == 0)
		return check_ref(m, r, err);
	static const struct {
		const char *type, *key, *what;
	} ids[] = {
		{ "assert-last-assigned-field-id", "last-assigned-field-id", "last assigned field id" },
		{ "assert-current-schema-id", "current-schema-id", "current schema" },
		{ "assert-last-assigned-partition-id", "last-assigned-partition-id",
		  "last assigned partition id" },
		{ "assert-default-spec-id", "default-spec-id", "default partition spec" },
		{ "assert-default-sort-order-id", "default-sort-order-id", "default sort order" },
	};
	int32_t is[] = { m->last_column_id, m->current_schema_id, m->last_partition_id,
			 m->default_spec_id, m->default_sort_order_id };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(type, ids[i].type) == 0) {
			int64_t want = json_integer_value(json_object_get(r, ids[i].key));
			return want == is[i] ? 0 : failed(err, ids[i].what, want, is[i]);
		}
	return firn_error_set(err, FIRN_EINVAL, "unknown requirement %s", type);
}

int firn_ice__requirements_check(const struct firn_ice_meta *m, const json_t *requirements,
				 struct firn_error *err)
{
	if (!json_is_array(requirements))
		return firn_error_set(err, FIRN_EINVAL, "requirements: not an array");
	for (size_t i = 0; i < json_array_size(requirements); i++) {
		const json_t *r = json_array_get(requirements, i);
		FIRN_TRY(firn_ice__requirement_check(r, err));
		FIRN_TRY(check_requirement(m, r, err));
	}
	return 0;
}
