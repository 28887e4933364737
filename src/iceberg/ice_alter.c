/* firn alter: schema evolution, properties, partition spec and sort order
 * changes, each one commit. Schema changes edit the schema JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arrow/types.h"
#include "firn/text.h"
#include "iceberg/ice_table.h"

struct alter_ctx {
	const char *what, *a, *b;
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

/* Adds the edited schema (new id, or an identical existing one) as current. */
static int set_schema(struct firn_ice_meta *m, json_t *schema, int32_t last_column_id,
		      struct firn_error *err)
{
	json_t *schemas = json_object_get(m->root, "schemas");
	int32_t max_id = -1, same = -1;
	for (size_t i = 0; i < json_array_size(schemas); i++) {
		json_t *s = json_array_get(schemas, i);
		int32_t id = (int32_t)json_integer_value(json_object_get(s, "schema-id"));
		if (id > max_id)
			max_id = id;
		if (json_equal(json_object_get(s, "fields"), json_object_get(schema, "fields")) &&
		    json_equal(json_object_get(s, "identifier-field-ids"), json_object_get(schema, "identifier-field-ids")))
			same = id;
	}
	if (same >= 0) {
		json_decref(schema);
		json_object_set_new(m->root, "current-schema-id", json_integer(same));
	} else {
		json_object_set_new(schema, "schema-id", json_integer(max_id + 1));
		if (m->format_version == 1) {
			json_object_set(m->root, "schema", schema);
		}
		json_array_append_new(schemas, schema);
		json_object_set_new(m->root, "current-schema-id", json_integer(max_id + 1));
	}
	json_object_set_new(m->root, "last-column-id", json_integer(last_column_id));
	return firn_ice__meta_reparse(m, err);
}

static int alter_schema(struct firn_ice_meta *m, const struct alter_ctx *c, struct firn_error *err)
{
	const struct firn_ice_schema *cur = firn_ice__meta_current_schema(m);
	json_t *schema = json_deep_copy(cur->json);
	json_t *fields = json_object_get(schema, "fields");
	int32_t last = m->last_column_id;
	size_t idx;
	int rc = 0;
	if (strcmp(c->what, "add-column") == 0) {
		/* "name type [not null]": the name may be dotted into a struct */
		const char *sp = c->a;
		while (*sp && *sp != ' ')
			sp++;
		char *name = firn_strndup(c->a, (size_t)(sp - c->a));
		char *parent = NULL;
		const char *leaf = name;
		char *dot = strrchr(name, '.');
		json_t *target = fields;
		if (dot && !find_field(fields, name, &idx)) {
			parent = firn_strndup(name, (size_t)(dot - name));
			leaf = dot + 1;
			json_t *pf = find_field(fields, parent, &idx);
			json_t *ptype = pf ? json_object_get(json_array_get(pf, idx), "type") : NULL;
			if (!ptype || !json_is_object(ptype) ||
			    strcmp(json_string_value(json_object_get(ptype, "type")) ?: "", "struct") != 0) {
				rc = firn_error_set(err, FIRN_EINVAL, "add-column: '%s' is not a struct column", parent);
				goto add_done;
			}
			target = json_object_get(ptype, "fields");
		}
		for (size_t i = 0; i < json_array_size(target); i++)
			if (strcmp(json_string_value(json_object_get(json_array_get(target, i), "name")) ?: "", leaf) == 0) {
				rc = firn_error_set(err, FIRN_EEXISTS, "add-column: column '%s' already exists", name);
				goto add_done;
			}
		struct firn_buf spec = { 0 };
		firn_buf_printf(&spec, "`%s` %s", leaf, *sp ? sp + 1 : "");
		firn_buf_cstr(&spec);
		struct ArrowSchema parsed = { 0 };
		rc = firn_spec_parse_schema((const char *)spec.data, &parsed, err);
		firn_buf_free(&spec);
		if (rc != 0) {
			firn_error_prefix(err, "add-column");
			goto add_done;
		}
		if (parsed.n_children != 1) {
			parsed.release(&parsed);
			rc = firn_error_set(err, FIRN_EINVAL, "add-column: give one column: NAME TYPE");
			goto add_done;
		}
		if (!(parsed.children[0]->flags & ARROW_FLAG_NULLABLE)) {
			parsed.release(&parsed);
			rc = firn_error_set(err, FIRN_EINVAL,
					    "add-column: a required column needs a default for existing rows; add it as optional");
			goto add_done;
		}
		json_t *wrapper = firn_ice__type_to_json(&parsed);
		parsed.release(&parsed);
		renumber(wrapper, &last);
		json_array_append(target, json_array_get(json_object_get(wrapper, "fields"), 0));
		json_decref(wrapper);
add_done:
		firn_free(name);
		firn_free(parent);
	} else if (strcmp(c->what, "drop-column") == 0) {
		json_t *arr = find_field(fields, c->a, &idx);
		if (!arr) {
			rc = firn_error_set(err, FIRN_EINVAL, "drop-column: unknown column '%s'", c->a);
		} else {
			json_t *f = json_array_get(arr, idx);
			int32_t id = (int32_t)json_integer_value(json_object_get(f, "id"));
			const char *pfname;
			bool ident = false;
			for (size_t i = 0; i < cur->n_identifier; i++)
				ident |= cur->identifier_ids[i] == id || contains_id(json_object_get(f, "type"), cur->identifier_ids[i]);
			if (ident)
				rc = firn_error_set(err, FIRN_EINVAL,
						    "drop-column: '%s' is an identifier field", c->a);
			else if (id_used_by_specs(m, id, &pfname))
				rc = firn_error_set(err, FIRN_EINVAL,
						    "drop-column: '%s' is the source of partition field %s; change the partition spec first",
						    c->a, pfname);
			else if (arr == fields && json_array_size(fields) == 1)
				rc = firn_error_set(err, FIRN_EINVAL, "drop-column: cannot drop the last column");
			else
				json_array_remove(arr, idx);
		}
	} else if (strcmp(c->what, "rename-column") == 0) {
		json_t *arr = find_field(fields, c->a, &idx);
		if (!arr)
			rc = firn_error_set(err, FIRN_EINVAL, "rename-column: unknown column '%s'", c->a);
		else if (!c->b || !*c->b || strchr(c->b, '.'))
			rc = firn_error_set(err, FIRN_EINVAL, "rename-column: give the new name without dots");
		else {
			for (size_t i = 0; i < json_array_size(arr); i++)
				if (i != idx && strcmp(json_string_value(json_object_get(json_array_get(arr, i), "name")) ?: "", c->b) == 0)
					rc = firn_error_set(err, FIRN_EEXISTS, "rename-column: column '%s' already exists", c->b);
			if (rc == 0)
				json_object_set_new(json_array_get(arr, idx), "name", json_string(c->b));
		}
	} else { /* alter-column */
		json_t *arr = find_field(fields, c->a, &idx);
		if (!arr) {
			rc = firn_error_set(err, FIRN_EINVAL, "alter-column: unknown column '%s'", c->a);
		} else if (c->b && strcasecmp(c->b, "optional") == 0) {
			json_object_set_new(json_array_get(arr, idx), "required", json_false());
		} else {
			json_t *f = json_array_get(arr, idx);
			const char *from = json_string_value(json_object_get(f, "type"));
			char to[64];
			snprintf(to, sizeof(to), "%s", c->b ? c->b : "");
			/* the canonical name: "decimal(12, 2)" is "decimal(12,2)" */
			struct firn_type tt;
			char tn[FIRN_TYPE_NAME_MAX];
			if (firn_arrow__type_parse(to, &tt) == 0)
				snprintf(to, sizeof(to), "%s", firn_arrow__type_name(&tt, tn));
			if (!from) {
				rc = firn_error_set(err, FIRN_EINVAL, "alter-column: '%s' is a nested type", c->a);
			} else if (!promotion_ok(from, to)) {
				rc = firn_error_set(err, FIRN_EINVAL,
						    "alter-column: cannot change %s from %s to %s (allowed: int to long, float to double, decimal precision up)",
						    c->a, from, to);
			} else {
				const char *pfname;
				int32_t id = (int32_t)json_integer_value(json_object_get(f, "id"));
				const struct firn_ice_spec *sp = firn_ice__meta_spec(m, m->default_spec_id);
				bool bucket_or_trunc = false;
				for (size_t i = 0; sp && i < sp->n_fields; i++)
					if (sp->fields[i].source_id == id && strncmp(from, "decimal", 7) == 0 &&
					    (sp->fields[i].transform.kind == FIRN_TR_BUCKET))
						bucket_or_trunc = true;
				(void)pfname;
				if (bucket_or_trunc)
					rc = firn_error_set(err, FIRN_EINVAL,
							    "alter-column: %s is bucketed; widening it would change partition values",
							    c->a);
				else
					json_object_set_new(f, "type", json_string(to));
			}
		}
	}
	if (rc != 0) {
		json_decref(schema);
		return rc;
	}
	/* the result must still be a valid schema */
	struct ArrowSchema check = { 0 };
	if ((rc = firn_ice__schema_from_json(schema, c->what, &check, NULL, err)) != 0) {
		json_decref(schema);
		return rc;
	}
	check.release(&check);
	return set_schema(m, schema, last, err);
}

static int apply_alter(struct firn_table *t, struct firn_ice_meta *m, int attempt, void *vctx,
		       struct firn_error *err)
{
	const struct alter_ctx *c = vctx;
	if (strcmp(c->what, "set-property") == 0 || strcmp(c->what, "unset-property") == 0) {
		json_t *props = json_object_get(m->root, "properties");
		if (!json_is_object(props)) {
			props = json_object();
			json_object_set_new(m->root, "properties", props);
		}
		if (!c->a || !*c->a)
			return firn_error_set(err, FIRN_EINVAL, "%s: give a key", c->what);
		if (strcmp(c->a, "format-version") == 0) {
			long v = c->b ? strtol(c->b, NULL, 10) : 0;
			if (v < m->format_version || v > 3)
				return firn_error_set(err, FIRN_EINVAL,
						      "format-version can only be upgraded (to 2 or 3), not set to %s",
						      c->b ? c->b : "");
			if (v == 3 && m->format_version < 3)
				json_object_set_new(m->root, "next-row-id", json_integer(0));
			json_object_set_new(m->root, "format-version", json_integer(v));
			return 0;
		}
		if (c->what[0] == 's' && firn_ice__prop_check(c->a, c->b ? c->b : "", err) != 0)
			return FIRN_EINVAL;
		if (c->what[0] == 's')
			json_object_set_new(props, c->a, json_string(c->b ? c->b : ""));
		else if (json_object_del(props, c->a) != 0)
			return firn_error_set(err, FIRN_ENOTFOUND, "unset-property: no property '%s'", c->a);
		return 0;
	}
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(m)->arrow;
	if (strcmp(c->what, "partition-by") == 0) {
		int32_t last = m->last_partition_id, max_id = -1;
		for (size_t i = 0; i < m->n_specs; i++)
			if (m->specs[i].spec_id > max_id)
				max_id = m->specs[i].spec_id;
		json_t *spec;
		FIRN_TRY(firn_ice__spec_parse(c->a, schema, max_id + 1, m, &last, &spec, err));
		json_t *specs = json_object_get(m->root, "partition-specs");
		for (size_t i = 0; i < json_array_size(specs); i++) {
			json_t *s = json_array_get(specs, i);
			if (json_equal(json_object_get(s, "fields"), json_object_get(spec, "fields"))) {
				json_object_set(m->root, "default-spec-id", json_object_get(s, "spec-id"));
				json_decref(spec);
				return 0;
			}
		}
		json_array_append_new(specs, spec);
		json_object_set_new(m->root, "default-spec-id", json_integer(max_id + 1));
		json_object_set_new(m->root, "last-partition-id", json_integer(last));
		return 0;
	}
	if (strcmp(c->what, "sort-by") == 0) {
		int32_t max_id = 0;
		for (size_t i = 0; i < m->n_orders; i++)
			if (m->orders[i].order_id > max_id)
				max_id = m->orders[i].order_id;
		json_t *order;
		FIRN_TRY(firn_ice__order_parse(c->a, schema, max_id + 1, &order, err));
		json_t *orders = json_object_get(m->root, "sort-orders");
		if (!json_is_array(orders)) {
			orders = json_array();
			json_object_set_new(m->root, "sort-orders", orders);
		}
		for (size_t i = 0; i < json_array_size(orders); i++) {
			json_t *o = json_array_get(orders, i);
			if (json_equal(json_object_get(o, "fields"), json_object_get(order, "fields"))) {
				json_object_set(m->root, "default-sort-order-id", json_object_get(o, "order-id"));
				json_decref(order);
				return 0;
			}
		}
		if (json_array_size(json_object_get(order, "fields")) == 0)
			json_object_set_new(order, "order-id", json_integer(0));
		json_array_append_new(orders, order);
		json_object_set(m->root, "default-sort-order-id", json_object_get(order, "order-id"));
		return 0;
	}
	if (strcmp(c->what, "add-column") == 0 || strcmp(c->what, "drop-column") == 0 ||
	    strcmp(c->what, "rename-column") == 0 || strcmp(c->what, "alter-column") == 0) {
		if (!c->a || !*c->a)
			return firn_error_set(err, FIRN_EINVAL, "%s: give a column", c->what);
		return alter_schema(m, c, err);
	}
	return firn_error_set(err, FIRN_EINVAL, "alter: unknown change '%s'", c->what);
}

int firn_table_alter(struct firn_table *t, const char *what, const char *a, const char *b,
		     struct firn_error *err)
{
	if (t->meta->format_version < 2 && strcmp(what, "set-property") != 0)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "format version 1 tables are read-only in firn (upgrade with set-property format-version 2)");
	struct alter_ctx c = { what, a, b };
	return firn_ice__commit(t, apply_alter, &c, NULL, err);
}
