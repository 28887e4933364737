/* Schema evolution, properties, partition spec and sort order changes,
 * each one commit. Every change computes its result (the new schema, spec,
 * order or properties) from the metadata it is applied to, and one small
 * apply_* function puts that result into the metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arrow/types.h"
#include "firn/text.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"

enum alter_kind {
	ADD_COLUMN,
	DROP_COLUMN,
	RENAME_COLUMN,
	UPDATE_COLUMN_TYPE,
	MAKE_COLUMN_OPTIONAL,
	SET_PROPERTIES,
	REMOVE_PROPERTIES,
	SET_PARTITION_SPEC,
	SET_SORT_ORDER,
};

struct alter_ctx {
	enum alter_kind kind;
	const char *name; /* the column; the spec or order text */
	const char *arg;  /* add: the type; rename: the new name; update: the new type */
	bool required;    /* add */
	const char *doc;  /* add; NULL: none */
	const char *const *keys, *const *values; /* properties */
	size_t n;
};

/* The fields array holding the (dotted) name, and the field's index in it;
 * dots walk through struct fields. */
static json_t *find_field(json_t *fields, const char *name, size_t *index)
{
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		const char *fn = json_string_value(json_object_get(f, "name"));
		if (fn && strcmp(fn, name) == 0) {
			*index = i;
			return fields;
		}
	}
	const char *dot = strchr(name, '.');
	while (dot) {
		for (size_t i = 0; i < json_array_size(fields); i++) {
			json_t *f = json_array_get(fields, i);
			const char *fn = json_string_value(json_object_get(f, "name"));
			json_t *type = json_object_get(f, "type");
			if (fn && strlen(fn) == (size_t)(dot - name) && strncmp(fn, name, (size_t)(dot - name)) == 0 &&
			    json_is_object(type) &&
			    strcmp(json_string_value(json_object_get(type, "type")) ?: "", "struct") == 0) {
				json_t *hit = find_field(json_object_get(type, "fields"), dot + 1, index);
				if (hit)
					return hit;
			}
		}
		dot = strchr(dot + 1, '.');
	}
	return NULL;
}

static void renumber(json_t *type, int32_t *next)
{
	if (!json_is_object(type))
		return;
	const char *kind = json_string_value(json_object_get(type, "type"));
	if (!kind)
		return;
	if (strcmp(kind, "struct") == 0) {
		json_t *fields = json_object_get(type, "fields");
		for (size_t i = 0; i < json_array_size(fields); i++)
			json_object_set_new(json_array_get(fields, i), "id", json_integer(++*next));
		for (size_t i = 0; i < json_array_size(fields); i++)
			renumber(json_object_get(json_array_get(fields, i), "type"), next);
	} else if (strcmp(kind, "list") == 0) {
		json_object_set_new(type, "element-id", json_integer(++*next));
		renumber(json_object_get(type, "element"), next);
	} else if (strcmp(kind, "map") == 0) {
		json_object_set_new(type, "key-id", json_integer(++*next));
		json_object_set_new(type, "value-id", json_integer(++*next));
		renumber(json_object_get(type, "key"), next);
		renumber(json_object_get(type, "value"), next);
	}
}

static bool id_used_by_specs(const struct firn_ice_meta *m, int32_t id, const char **spec_field)
{
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, m->default_spec_id);
	for (size_t i = 0; sp && i < sp->n_fields; i++)
		if (sp->fields[i].source_id == id && sp->fields[i].transform.kind != FIRN_TR_VOID) {
			*spec_field = sp->fields[i].name;
			return true;
		}
	return false;
}

static bool contains_id(json_t *type, int32_t id)
{
	if (!json_is_object(type))
		return false;
	const char *kind = json_string_value(json_object_get(type, "type"));
	if (!kind)
		return false;
	json_t *fields = json_object_get(type, "fields");
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		if (json_integer_value(json_object_get(f, "id")) == id || contains_id(json_object_get(f, "type"), id))
			return true;
	}
	if (json_integer_value(json_object_get(type, "element-id")) == id ||
	    json_integer_value(json_object_get(type, "key-id")) == id ||
	    json_integer_value(json_object_get(type, "value-id")) == id)
		return true;
	return contains_id(json_object_get(type, "element"), id) ||
	       contains_id(json_object_get(type, "key"), id) ||
	       contains_id(json_object_get(type, "value"), id);
}

static bool promotion_ok(const char *from, const char *to)
{
	if (strcmp(from, to) == 0)
		return true;
	if (strcmp(from, "int") == 0 && strcmp(to, "long") == 0)
		return true;
	if (strcmp(from, "float") == 0 && strcmp(to, "double") == 0)
		return true;
	struct firn_type a, b;
	if (firn_arrow__type_parse(from, &a) == 0 && firn_arrow__type_parse(to, &b) == 0 &&
	    a.id == FIRN_A_DECIMAL && b.id == FIRN_A_DECIMAL)
		return a.scale == b.scale && b.precision >= a.precision;
	return false;
}

/* The new schema as current (the builder reuses an identical existing
 * one), on the schema and the ids it was made from. Takes schema. */
static int apply_schema(const struct firn_ice_meta *m, json_t *schema, struct firn_ice_change *out,
			struct firn_error *err)
{
	int rc = firn_ice__change_require(out, firn_ice__req_assert_current_schema_id(m->current_schema_id),
					  err);
	if (rc == 0)
		rc = firn_ice__change_require(out, firn_ice__req_assert_last_assigned_field_id(m->last_column_id),
					      err);
	if (rc == 0)
		rc = firn_ice__change_update(out, firn_ice__upd_add_schema(schema), err);
	if (rc == 0)
		rc = firn_ice__change_update(out, firn_ice__upd_set_current_schema(-1), err);
	json_decref(schema);
	return rc;
}

/* ---- schema changes: each edits a copy of the current schema's JSON ---- */

/* `name` quoted for a SPEC (backticks doubled). */
static void spec_name(struct firn_buf *b, const char *name)
{
	firn_buf_puts(b, "`");
	for (const char *p = name; *p; p++)
		firn_buf_puts(b, *p == '`' ? "``" : (char[]){ *p, 0 });
	firn_buf_puts(b, "`");
}

/* The one field "leaf type" as Iceberg field JSON, with fresh ids after *last. */
static int new_field(const char *leaf, const struct alter_ctx *c, int32_t *last, json_t **out,
		     struct firn_error *err)
{
	struct firn_buf spec = { 0 };
	spec_name(&spec, leaf);
	firn_buf_printf(&spec, " %s%s", c->arg ? c->arg : "", c->required ? " not null" : "");
	if (firn_buf_cstr(&spec) != 0) {
		firn_buf_free(&spec);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	struct ArrowSchema parsed = { 0 };
	int rc = firn_spec_parse_schema((const char *)spec.data, &parsed, err);
	firn_buf_free(&spec);
	if (rc != 0) {
		firn_error_prefix(err, "add-column");
		return rc;
	}
	if (parsed.n_children != 1)
		rc = firn_error_set(err, FIRN_EINVAL, "add-column: give one column: NAME TYPE");
	else if (!(parsed.children[0]->flags & ARROW_FLAG_NULLABLE))
		rc = firn_error_set(err, FIRN_EINVAL,
				    "add-column: a required column needs a default for existing rows; add it as optional");
	else if (c->doc && firn_schema_add_metadata(parsed.children[0], "iceberg:doc", c->doc) != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	json_t *wrapper = rc == 0 ? firn_ice__type_to_json(&parsed) : NULL;
	parsed.release(&parsed);
	if (rc != 0)
		return rc;
	if (!wrapper)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	renumber(wrapper, last);
	*out = json_incref(json_array_get(json_object_get(wrapper, "fields"), 0));
	json_decref(wrapper);
	return 0;
}

/* The name may be dotted into a struct column. */
static int edit_add(json_t *fields, const struct alter_ctx *c, int32_t *last, struct firn_error *err)
{
	char *name = firn_strdup(c->name);
	if (!name)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	const char *leaf = name;
	char *dot = strrchr(name, '.');
	json_t *target = fields, *field = NULL;
	size_t idx;
	int rc = 0;
	if (dot && !find_field(fields, name, &idx)) {
		*dot = 0;
		leaf = dot + 1;
		json_t *pf = find_field(fields, name, &idx);
		json_t *ptype = pf ? json_object_get(json_array_get(pf, idx), "type") : NULL;
		if (!ptype || !json_is_object(ptype) ||
		    strcmp(json_string_value(json_object_get(ptype, "type")) ?: "", "struct") != 0)
			rc = firn_error_set(err, FIRN_EINVAL, "add-column: '%s' is not a struct column", name);
		else
			target = json_object_get(ptype, "fields");
		*dot = '.';
	}
	for (size_t i = 0; rc == 0 && i < json_array_size(target); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(target, i), "name")) ?: "", leaf) == 0)
			rc = firn_error_set(err, FIRN_EEXISTS, "add-column: column '%s' already exists", name);
	if (rc == 0 && (rc = new_field(leaf, c, last, &field, err)) == 0)
		json_array_append_new(target, field);
	firn_free(name);
	return rc;
}

static int edit_drop(const struct firn_ice_meta *m, json_t *fields, const char *name, struct firn_error *err)
{
	const struct firn_ice_schema *cur = firn_ice__meta_current_schema(m);
	size_t idx;
	json_t *arr = find_field(fields, name, &idx);
	if (!arr)
		return firn_error_set(err, FIRN_EINVAL, "drop-column: unknown column '%s'", name);
	json_t *f = json_array_get(arr, idx);
	int32_t id = (int32_t)json_integer_value(json_object_get(f, "id"));
	const char *pfname;
	bool ident = false;
	for (size_t i = 0; i < cur->n_identifier; i++)
		ident |= cur->identifier_ids[i] == id || contains_id(json_object_get(f, "type"), cur->identifier_ids[i]);
	if (ident)
		return firn_error_set(err, FIRN_EINVAL, "drop-column: '%s' is an identifier field", name);
	if (id_used_by_specs(m, id, &pfname))
		return firn_error_set(err, FIRN_EINVAL,
				      "drop-column: '%s' is the source of partition field %s; change the partition spec first",
				      name, pfname);
	if (arr == fields && json_array_size(fields) == 1)
		return firn_error_set(err, FIRN_EINVAL, "drop-column: cannot drop the last column");
	json_array_remove(arr, idx);
	return 0;
}

static int edit_rename(json_t *fields, const char *name, const char *to, struct firn_error *err)
{
	size_t idx;
	json_t *arr = find_field(fields, name, &idx);
	if (!arr)
		return firn_error_set(err, FIRN_EINVAL, "rename-column: unknown column '%s'", name);
	if (!to || !*to || strchr(to, '.'))
		return firn_error_set(err, FIRN_EINVAL, "rename-column: give the new name without dots");
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (i != idx && strcmp(json_string_value(json_object_get(json_array_get(arr, i), "name")) ?: "", to) == 0)
			return firn_error_set(err, FIRN_EEXISTS, "rename-column: column '%s' already exists", to);
	json_object_set_new(json_array_get(arr, idx), "name", json_string(to));
	return 0;
}

static int edit_optional(json_t *fields, const char *name, struct firn_error *err)
{
	size_t idx;
	json_t *arr = find_field(fields, name, &idx);
	if (!arr)
		return firn_error_set(err, FIRN_EINVAL, "alter-column: unknown column '%s'", name);
	json_object_set_new(json_array_get(arr, idx), "required", json_false());
	return 0;
}

static int edit_type(const struct firn_ice_meta *m, json_t *fields, const char *name, const char *type,
		     struct firn_error *err)
{
	size_t idx;
	json_t *arr = find_field(fields, name, &idx);
	if (!arr)
		return firn_error_set(err, FIRN_EINVAL, "alter-column: unknown column '%s'", name);
	json_t *f = json_array_get(arr, idx);
	const char *from = json_string_value(json_object_get(f, "type"));
	char to[64];
	snprintf(to, sizeof(to), "%s", type ? type : "");
	/* the canonical name: "decimal(12, 2)" is "decimal(12,2)" */
	struct firn_type tt;
	char tn[FIRN_TYPE_NAME_MAX];
	if (firn_arrow__type_parse(to, &tt) == 0)
		snprintf(to, sizeof(to), "%s", firn_arrow__type_name(&tt, tn));
	if (!from)
		return firn_error_set(err, FIRN_EINVAL, "alter-column: '%s' is a nested type", name);
	if (!promotion_ok(from, to))
		return firn_error_set(err, FIRN_EINVAL,
				      "alter-column: cannot change %s from %s to %s (allowed: int to long, float to double, decimal precision up)",
				      name, from, to);
	int32_t id = (int32_t)json_integer_value(json_object_get(f, "id"));
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, m->default_spec_id);
	for (size_t i = 0; sp && i < sp->n_fields; i++)
		if (sp->fields[i].source_id == id && strncmp(from, "decimal", 7) == 0 &&
		    sp->fields[i].transform.kind == FIRN_TR_BUCKET)
			return firn_error_set(err, FIRN_EINVAL,
					      "alter-column: %s is bucketed; widening it would change partition values",
					      name);
	json_object_set_new(f, "type", json_string(to));
	return 0;
}

static const char *const change_names[] = { "add-column", "drop-column", "rename-column", "alter-column",
					    "alter-column" };

static int change_schema(const struct firn_ice_meta *m, const struct alter_ctx *c,
			 struct firn_ice_change *out, struct firn_error *err)
{
	const char *what = change_names[c->kind];
	if (!c->name || !*c->name)
		return firn_error_set(err, FIRN_EINVAL, "%s: give a column", what);
	json_t *schema = json_deep_copy(firn_ice__meta_current_schema(m)->json);
	json_t *fields = json_object_get(schema, "fields");
	int32_t last = m->last_column_id;
	int rc;
	switch (c->kind) {
	case ADD_COLUMN:
		rc = edit_add(fields, c, &last, err);
		break;
	case DROP_COLUMN:
		rc = edit_drop(m, fields, c->name, err);
		break;
	case RENAME_COLUMN:
		rc = edit_rename(fields, c->name, c->arg, err);
		break;
	case UPDATE_COLUMN_TYPE:
		rc = edit_type(m, fields, c->name, c->arg, err);
		break;
	default:
		rc = edit_optional(fields, c->name, err);
		break;
	}
	/* the result must still be a valid schema */
	struct ArrowSchema check = { 0 };
	if (rc == 0 && (rc = firn_ice__schema_from_json(schema, what, &check, NULL, err)) == 0)
		check.release(&check);
	if (rc != 0) {
		json_decref(schema);
		return rc;
	}
	(void)last; /* the builder raises last-column-id to the schema's highest id */
	return apply_schema(m, schema, out, err);
}

/* ---- the results, put into the metadata ------------------------------- */

/* The new spec as default (an identical existing one is reused), on the
 * spec and partition ids it was made from. Takes spec. */
static int apply_spec(const struct firn_ice_meta *m, json_t *spec, struct firn_ice_change *out,
		      struct firn_error *err)
{
	int rc = firn_ice__change_require(out, firn_ice__req_assert_default_spec_id(m->default_spec_id), err);
	if (rc == 0)
		rc = firn_ice__change_require(out,
					      firn_ice__req_assert_last_assigned_partition_id(m->last_partition_id),
					      err);
	if (rc == 0)
		rc = firn_ice__change_update(out, firn_ice__upd_add_spec(spec), err);
	if (rc == 0)
		rc = firn_ice__change_update(out, firn_ice__upd_set_default_spec(-1), err);
	json_decref(spec);
	return rc;
}

/* The new sort order as default (an identical one is reused). Takes order. */
static int apply_order(const struct firn_ice_meta *m, json_t *order, struct firn_ice_change *out,
		       struct firn_error *err)
{
	int rc = firn_ice__change_require(out,
					  firn_ice__req_assert_default_sort_order_id(m->default_sort_order_id),
					  err);
	if (rc == 0)
		rc = firn_ice__change_update(out, firn_ice__upd_add_sort_order(order), err);
	if (rc == 0)
		rc = firn_ice__change_update(out, firn_ice__upd_set_default_sort_order(-1), err);
	json_decref(order);
	return rc;
}

/* ---- the changes -------------------------------------------------------- */

static int change_spec(const struct firn_ice_meta *m, const char *text, struct firn_ice_change *out,
		       struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(m)->arrow;
	int32_t last = m->last_partition_id, max_id = -1;
	for (size_t i = 0; i < m->n_specs; i++)
		if (m->specs[i].spec_id > max_id)
			max_id = m->specs[i].spec_id;
	json_t *spec;
	FIRN_TRY(firn_ice__spec_parse(text, schema, max_id + 1, m, &last, &spec, err));
	return apply_spec(m, spec, out, err);
}

static int change_order(const struct firn_ice_meta *m, const char *text, struct firn_ice_change *out,
			struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(m)->arrow;
	int32_t max_id = 0;
	for (size_t i = 0; i < m->n_orders; i++)
		if (m->orders[i].order_id > max_id)
			max_id = m->orders[i].order_id;
	json_t *order;
	FIRN_TRY(firn_ice__order_parse(text, schema, max_id + 1, &order, err));
	if (json_array_size(json_object_get(order, "fields")) == 0)
		json_object_set_new(order, "order-id", json_integer(0));
	return apply_order(m, order, out, err);
}

static int format_version_of(const struct firn_ice_meta *m, const char *value, int *out,
			     struct firn_error *err)
{
	long v = value ? strtol(value, NULL, 10) : 0;
	if (v < m->format_version || v > 3)
		return firn_error_set(err, FIRN_EINVAL,
				      "format-version can only be upgraded (to 2 or 3), not set to %s",
				      value ? value : "");
	*out = (int)v;
	return 0;
}

/* Set (values != NULL) or remove the keys; "format-version" is not a
 * property but the format upgrade. */
static int change_properties(const struct firn_ice_meta *m, const struct alter_ctx *c,
			     struct firn_ice_change *out, struct firn_error *err)
{
	const char *what = c->values ? "set-property" : "unset-property";
	const json_t *old = json_object_get(m->root, "properties");
	json_t *set = json_object();
	const char **removed = firn_calloc(c->n + 1, sizeof(*removed));
	size_t n_removed = 0;
	int version = 0, rc = set && removed ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const char *k = c->keys[i], *v = c->values ? (c->values[i] ? c->values[i] : "") : NULL;
		if (!k || !*k)
			rc = firn_error_set(err, FIRN_EINVAL, "%s: give a key", what);
		else if (strcmp(k, "format-version") == 0 && v)
			rc = format_version_of(m, v, &version, err);
		else if (v && firn_ice__prop_check(k, v, err) != 0)
			rc = FIRN_EINVAL;
		else if (v)
			rc = json_object_set_new(set, k, json_string(v)) == 0
				     ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		else if (!json_object_get(old, k))
			rc = firn_error_set(err, FIRN_ENOTFOUND, "unset-property: no property '%s'", k);
		else
			removed[n_removed++] = k;
	}
	if (rc == 0 && version && version != m->format_version)
		rc = firn_ice__change_update(out, firn_ice__upd_upgrade_format_version(version), err);
	if (rc == 0 && json_object_size(set) > 0)
		rc = firn_ice__change_update(out, firn_ice__upd_set_properties(set), err);
	if (rc == 0 && n_removed > 0)
		rc = firn_ice__change_update(out, firn_ice__upd_remove_properties(removed, n_removed), err);
	json_decref(set);
	firn_free(removed);
	return rc;
}

/* The change of one attempt, computed on the table as it is now. */
static int alter_change(struct firn_table *t, int attempt, void *vctx, struct firn_ice_change *out,
			struct firn_error *err)
{
	(void)attempt;
	const struct alter_ctx *c = vctx;
	switch (c->kind) {
	case SET_PROPERTIES:
	case REMOVE_PROPERTIES:
		return change_properties(t->meta, c, out, err);
	case SET_PARTITION_SPEC:
		return change_spec(t->meta, c->name ? c->name : "", out, err);
	case SET_SORT_ORDER:
		return change_order(t->meta, c->name ? c->name : "", out, err);
	default:
		return change_schema(t->meta, c, out, err);
	}
}

static int alter(struct firn_table *t, const struct alter_ctx *c, struct firn_error *err)
{
	if (t->meta->format_version < 2 && c->kind != SET_PROPERTIES)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "format version 1 tables are read-only in firn (upgrade with set-property format-version 2)");
	return firn_ice__commit_change(t, alter_change, (void *)c, NULL, err);
}

int firn_table_add_column(struct firn_table *t, const char *name, const char *type, bool required,
			  const char *doc, struct firn_error *err)
{
	struct alter_ctx c = { .kind = ADD_COLUMN, .name = name, .arg = type, .required = required, .doc = doc };
	return alter(t, &c, err);
}

int firn_table_drop_column(struct firn_table *t, const char *name, struct firn_error *err)
{
	struct alter_ctx c = { .kind = DROP_COLUMN, .name = name };
	return alter(t, &c, err);
}

int firn_table_rename_column(struct firn_table *t, const char *name, const char *new_name,
			     struct firn_error *err)
{
	struct alter_ctx c = { .kind = RENAME_COLUMN, .name = name, .arg = new_name };
	return alter(t, &c, err);
}

int firn_table_update_column_type(struct firn_table *t, const char *name, const char *type,
				  struct firn_error *err)
{
	struct alter_ctx c = { .kind = UPDATE_COLUMN_TYPE, .name = name, .arg = type };
	return alter(t, &c, err);
}

int firn_table_make_column_optional(struct firn_table *t, const char *name, struct firn_error *err)
{
	struct alter_ctx c = { .kind = MAKE_COLUMN_OPTIONAL, .name = name };
	return alter(t, &c, err);
}

int firn_table_set_properties(struct firn_table *t, const char *const *keys, const char *const *values,
			      size_t n, struct firn_error *err)
{
	if (n > 0 && (!keys || !values))
		return firn_error_set(err, FIRN_EINVAL, "set-property: give keys and values");
	struct alter_ctx c = { .kind = SET_PROPERTIES, .keys = keys, .values = values, .n = n };
	return alter(t, &c, err);
}

int firn_table_remove_properties(struct firn_table *t, const char *const *keys, size_t n,
				 struct firn_error *err)
{
	if (n > 0 && !keys)
		return firn_error_set(err, FIRN_EINVAL, "unset-property: give keys");
	struct alter_ctx c = { .kind = REMOVE_PROPERTIES, .keys = keys, .n = n };
	return alter(t, &c, err);
}

int firn_table_set_partition_spec(struct firn_table *t, const char *spec, struct firn_error *err)
{
	struct alter_ctx c = { .kind = SET_PARTITION_SPEC, .name = spec };
	return alter(t, &c, err);
}

int firn_table_set_sort_order(struct firn_table *t, const char *order, struct firn_error *err)
{
	struct alter_ctx c = { .kind = SET_SORT_ORDER, .name = order };
	return alter(t, &c, err);
}
