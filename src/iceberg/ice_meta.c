/* Table metadata JSON: views over the jansson tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iceberg/ice_meta.h"

static int bad(struct firn_error *err, const char *what, const char *msg)
{
	return firn_error_set(err, FIRN_ECORRUPT, "%s: %s", what, msg);
}

static bool get_i64(const json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

static bool get_i32(const json_t *o, const char *key, int32_t *out)
{
	int64_t v;
	if (!get_i64(o, key, &v) || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

static void free_views(struct firn_ice_meta *m)
{
	for (size_t i = 0; i < m->n_schemas; i++) {
		if (m->schemas[i].arrow.release)
			m->schemas[i].arrow.release(&m->schemas[i].arrow);
		firn_free(m->schemas[i].identifier_ids);
	}
	firn_free(m->schemas);
	for (size_t i = 0; i < m->n_specs; i++)
		firn_free(m->specs[i].fields);
	firn_free(m->specs);
	for (size_t i = 0; i < m->n_orders; i++)
		firn_free(m->orders[i].fields);
	firn_free(m->orders);
	firn_free(m->snapshots);
	firn_free(m->refs);
	firn_free(m->snapshot_log);
	json_t *root = m->root;
	memset(m, 0, sizeof(*m));
	m->root = root;
}

static int parse_schema(struct firn_ice_schema *s, json_t *j, struct firn_error *err)
{
	char what[32];
	s->json = j;
	if (!get_i32(j, "schema-id", &s->schema_id))
		s->schema_id = 0;
	snprintf(what, sizeof(what), "schema %d", (int)s->schema_id);
	FIRN_TRY(firn_ice__schema_from_json(j, what, &s->arrow, &s->max_id, err));
	json_t *ids = json_object_get(j, "identifier-field-ids");
	if (json_is_array(ids) && json_array_size(ids) > 0) {
		s->identifier_ids = firn_calloc(json_array_size(ids), sizeof(int32_t));
		if (!s->identifier_ids)
			return FIRN_ENOMEM;
		for (size_t i = 0; i < json_array_size(ids); i++)
			s->identifier_ids[s->n_identifier++] =
				(int32_t)json_integer_value(json_array_get(ids, i));
	}
	return 0;
}

static int parse_spec_fields(struct firn_ice_spec *sp, json_t *fields, bool v1,
			     const char *what, struct firn_error *err)
{
	size_t n = json_array_size(fields);
	sp->fields = firn_calloc(n ? n : 1, sizeof(*sp->fields));
	if (!sp->fields)
		return FIRN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(fields, i);
		struct firn_ice_spec_field *pf = &sp->fields[i];
		if (!get_i32(f, "source-id", &pf->source_id)) {
			json_t *ids = json_object_get(f, "source-ids");
			if (json_array_size(ids) < 1)
				return bad(err, what, "partition field without source-id");
			pf->source_id = (int32_t)json_integer_value(json_array_get(ids, 0));
		}
		if (!get_i32(f, "field-id", &pf->field_id)) {
			if (!v1)
				return bad(err, what, "partition field without field-id");
			pf->field_id = 1000 + (int32_t)i;
		}
		pf->name = json_string_value(json_object_get(f, "name"));
		pf->transform_text = json_string_value(json_object_get(f, "transform"));
		if (!pf->name || !pf->transform_text)
			return bad(err, what, "partition field without name or transform");
		if (firn_ice__transform_parse(pf->transform_text, &pf->transform, NULL) != 0)
			pf->transform.kind = FIRN_TR_UNKNOWN;
		sp->n_fields++;
	}
	return 0;
}

static int parse_order(struct firn_ice_sort_order *o, json_t *j, const char *what,
		       struct firn_error *err)
{
	o->json = j;
	if (!get_i32(j, "order-id", &o->order_id))
		return bad(err, what, "sort order without order-id");
	json_t *fields = json_object_get(j, "fields");
	size_t n = json_array_size(fields);
	o->fields = firn_calloc(n ? n : 1, sizeof(*o->fields));
	if (!o->fields)
		return FIRN_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(fields, i);
		struct firn_ice_sort_field *sf = &o->fields[i];
		if (!get_i32(f, "source-id", &sf->source_id)) {
			json_t *ids = json_object_get(f, "source-ids");
			sf->source_id = (int32_t)json_integer_value(json_array_get(ids, 0));
		}
		sf->transform_text = json_string_value(json_object_get(f, "transform"));
		if (!sf->transform_text ||
		    firn_ice__transform_parse(sf->transform_text, &sf->transform, NULL) != 0)
			sf->transform.kind = FIRN_TR_UNKNOWN;
		const char *dir = json_string_value(json_object_get(f, "direction"));
		const char *no = json_string_value(json_object_get(f, "null-order"));
		sf->descending = dir && strcmp(dir, "desc") == 0;
		sf->nulls_first = no ? strcmp(no, "nulls-first") == 0 : !sf->descending;
		o->n_fields++;
	}
	return 0;
}

static int parse_snapshot(struct firn_ice_snapshot *s, json_t *j, const char *what,
			  struct firn_error *err)
{
	s->json = j;
	if (!get_i64(j, "snapshot-id", &s->snapshot_id) ||
	    !get_i64(j, "timestamp-ms", &s->timestamp_ms))
		return bad(err, what, "snapshot without snapshot-id or timestamp-ms");
	s->has_parent = get_i64(j, "parent-snapshot-id", &s->parent_id);
	if (!get_i64(j, "sequence-number", &s->sequence_number))
		s->sequence_number = 0;
	s->manifest_list = json_string_value(json_object_get(j, "manifest-list"));
	s->operation = json_string_value(json_object_get(json_object_get(j, "summary"), "operation"));
	if (!s->operation)
		s->operation = "";
	if (!get_i32(j, "schema-id", &s->schema_id))
		s->schema_id = -1;
	s->has_first_row_id = get_i64(j, "first-row-id", &s->first_row_id);
	return 0;
}

static bool in_schema(const struct firn_ice_schema *s, const struct firn_transform *t, int32_t id)
{
	return t->kind == FIRN_TR_VOID || firn_ice__schema_find(&s->arrow, id, NULL) != NULL;
}

/* The parts of the metadata that name each other resolve, as Java's
 * TableMetadata requires; each message names the part. */
static int check_links(const struct firn_ice_meta *m, struct firn_error *err)
{
	char name[96];
	for (size_t i = 0; i < m->n_schemas; i++)
		for (size_t k = i + 1; k < m->n_schemas; k++)
			if (m->schemas[i].schema_id == m->schemas[k].schema_id)
				return firn_error_set(err, FIRN_ECORRUPT, "schema id %d is used twice",
						      (int)m->schemas[i].schema_id);
	const struct firn_ice_schema *cur = firn_ice__meta_current_schema(m);
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, m->default_spec_id);
	for (size_t i = 0; i < sp->n_fields; i++)
		if (!in_schema(cur, &sp->fields[i].transform, sp->fields[i].source_id)) {
			firn_ice__printable(sp->fields[i].name, name, sizeof(name));
			return firn_error_set(err, FIRN_ECORRUPT,
					      "partition spec %d: field '%s': source-id %d is not in the current schema",
					      (int)sp->spec_id, name, (int)sp->fields[i].source_id);
		}
	const struct firn_ice_sort_order *o = firn_ice__meta_order(m, m->default_sort_order_id);
	if (!o && m->n_orders > 0 && m->default_sort_order_id != 0)
		return firn_error_set(err, FIRN_ECORRUPT, "default-sort-order-id %d names no sort order",
				      (int)m->default_sort_order_id);
	for (size_t i = 0; o && i < o->n_fields; i++)
		if (!in_schema(cur, &o->fields[i].transform, o->fields[i].source_id))
			return firn_error_set(err, FIRN_ECORRUPT,
					      "sort order %d: source-id %d is not in the current schema",
					      (int)o->order_id, (int)o->fields[i].source_id);
	for (size_t i = 0; i < m->n_snapshots; i++)
		if (m->snapshots[i].schema_id != -1 && !firn_ice__meta_schema(m, m->snapshots[i].schema_id))
			return firn_error_set(err, FIRN_ECORRUPT, "snapshot %lld: schema-id %d names no schema",
					      (long long)m->snapshots[i].snapshot_id, (int)m->snapshots[i].schema_id);
	for (size_t i = 0; i < m->n_refs; i++)
		if (!firn_ice__meta_snapshot(m, m->refs[i].snapshot_id)) {
			firn_ice__printable(m->refs[i].name, name, sizeof(name));
			return firn_error_set(err, FIRN_ECORRUPT, "ref '%s': snapshot %lld does not exist",
					      name, (long long)m->refs[i].snapshot_id);
		}
	return 0;
}

static int reparse(struct firn_ice_meta *m, struct firn_error *err);

/* The allocations below return a bare FIRN_ENOMEM: the message is set here. */
int firn_ice__meta_reparse(struct firn_ice_meta *m, struct firn_error *err)
{
	int rc = reparse(m, err);
	if (rc == FIRN_ENOMEM && err && err->code != FIRN_ENOMEM)
		firn_error_set(err, rc, "out of memory");
	return rc;
}

static int reparse(struct firn_ice_meta *m, struct firn_error *err)
{
	const char *what = "table metadata";
	json_t *r = m->root;
	free_views(m);
	json_t *loc = json_object_get(r, "location");
	int64_t fv;
	if (!json_is_object(r) || !get_i64(r, "format-version", &fv))
		return bad(err, what, "not Iceberg table metadata (no format-version)");
	if (fv < 1 || fv > 3)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "%s: format version %lld is not supported (1 to 3 are)",
				      what, (long long)fv);
	m->format_version = (int)fv;
	m->uuid = json_string_value(json_object_get(r, "table-uuid"));
	m->location = json_string_value(loc);
	if (!m->location)
		return bad(err, what, "metadata without location");
	if (!get_i64(r, "last-sequence-number", &m->last_sequence_number))
		m->last_sequence_number = 0;
	if (!get_i64(r, "last-updated-ms", &m->last_updated_ms))
		m->last_updated_ms = 0;
	if (!get_i32(r, "last-column-id", &m->last_column_id))
		return bad(err, what, "metadata without last-column-id");
	if (!get_i64(r, "next-row-id", &m->next_row_id))
		m->next_row_id = 0;

	/* schemas */
	json_t *schemas = json_object_get(r, "schemas");
	if (json_is_array(schemas) && json_array_size(schemas) > 0) {
		if (!get_i32(r, "current-schema-id", &m->current_schema_id))
			m->current_schema_id = 0;
		m->schemas = firn_calloc(json_array_size(schemas), sizeof(*m->schemas));
		if (!m->schemas)
			return FIRN_ENOMEM;
		for (size_t i = 0; i < json_array_size(schemas); i++) {
			FIRN_TRY(parse_schema(&m->schemas[i], json_array_get(schemas, i), err));
			m->n_schemas++;
		}
	} else if (json_is_object(json_object_get(r, "schema"))) {
		m->schemas = firn_calloc(1, sizeof(*m->schemas));
		if (!m->schemas)
			return FIRN_ENOMEM;
		FIRN_TRY(parse_schema(&m->schemas[0], json_object_get(r, "schema"), err));
		m->n_schemas = 1;
		m->current_schema_id = m->schemas[0].schema_id;
	} else {
		return bad(err, what, "metadata without schemas");
	}
	if (!firn_ice__meta_current_schema(m))
		return firn_error_set(err, FIRN_ECORRUPT, "current-schema-id %d names no schema",
				      (int)m->current_schema_id);

	/* partition specs */
	json_t *specs = json_object_get(r, "partition-specs");
	if (json_is_array(specs) && json_array_size(specs) > 0) {
		if (!get_i32(r, "default-spec-id", &m->default_spec_id))
			m->default_spec_id = 0;
		m->specs = firn_calloc(json_array_size(specs), sizeof(*m->specs));
		if (!m->specs)
			return FIRN_ENOMEM;
		for (size_t i = 0; i < json_array_size(specs); i++) {
			json_t *sj = json_array_get(specs, i);
			struct firn_ice_spec *sp = &m->specs[i];
			sp->json = sj;
			if (!get_i32(sj, "spec-id", &sp->spec_id))
				return bad(err, what, "partition spec without spec-id");
			m->n_specs++;
			FIRN_TRY(parse_spec_fields(sp, json_object_get(sj, "fields"), fv == 1, what,
						   err));
		}
	} else {
		json_t *fields = json_object_get(r, "partition-spec");
		m->specs = firn_calloc(1, sizeof(*m->specs));
		if (!m->specs)
			return FIRN_ENOMEM;
		m->n_specs = 1;
		FIRN_TRY(parse_spec_fields(&m->specs[0], fields, true, what, err));
		m->default_spec_id = 0;
	}
	if (!firn_ice__meta_spec(m, m->default_spec_id))
		return firn_error_set(err, FIRN_ECORRUPT, "default-spec-id %d names no partition spec",
				      (int)m->default_spec_id);
	if (!get_i32(r, "last-partition-id", &m->last_partition_id)) {
		m->last_partition_id = 999;
		for (size_t i = 0; i < m->n_specs; i++)
			for (size_t k = 0; k < m->specs[i].n_fields; k++)
				if (m->specs[i].fields[k].field_id > m->last_partition_id)
					m->last_partition_id = m->specs[i].fields[k].field_id;
	}

	/* sort orders */
	json_t *orders = json_object_get(r, "sort-orders");
	if (!get_i32(r, "default-sort-order-id", &m->default_sort_order_id))
		m->default_sort_order_id = 0;
	if (json_array_size(orders) > 0) {
		m->orders = firn_calloc(json_array_size(orders), sizeof(*m->orders));
		if (!m->orders)
			return FIRN_ENOMEM;
		for (size_t i = 0; i < json_array_size(orders); i++) {
			m->n_orders++;
			FIRN_TRY(parse_order(&m->orders[i], json_array_get(orders, i), what, err));
		}
	}

	/* snapshots */
	json_t *snaps = json_object_get(r, "snapshots");
	if (json_array_size(snaps) > 0) {
		m->snapshots = firn_calloc(json_array_size(snaps), sizeof(*m->snapshots));
		if (!m->snapshots)
			return FIRN_ENOMEM;
		for (size_t i = 0; i < json_array_size(snaps); i++) {
			FIRN_TRY(parse_snapshot(&m->snapshots[i], json_array_get(snaps, i), what, err));
			m->n_snapshots++;
		}
	}
	int64_t cur;
	m->has_current_snapshot = get_i64(r, "current-snapshot-id", &cur) && cur != -1;
	m->current_snapshot_id = m->has_current_snapshot ? cur : -1;

	/* refs; main defaults to the current snapshot */
	json_t *refs = json_object_get(r, "refs");
	size_t nrefs = json_object_size(refs);
	m->refs = firn_calloc(nrefs + 1, sizeof(*m->refs));
	if (!m->refs)
		return FIRN_ENOMEM;
	const char *key;
	json_t *val;
	json_object_foreach(refs, key, val) {
		struct firn_ice_ref *ref = &m->refs[m->n_refs];
		if (!get_i64(val, "snapshot-id", &ref->snapshot_id))
			return bad(err, what, "ref without snapshot-id");
		const char *type = json_string_value(json_object_get(val, "type"));
		ref->name = key;
		ref->tag = type && strcmp(type, "tag") == 0;
		m->n_refs++;
	}
	if (m->has_current_snapshot && !firn_ice__meta_ref(m, "main")) {
		m->refs[m->n_refs].name = "main";
		m->refs[m->n_refs].snapshot_id = m->current_snapshot_id;
		m->n_refs++;
	}
	if (m->has_current_snapshot && !firn_ice__meta_snapshot(m, m->current_snapshot_id))
		return firn_error_set(err, FIRN_ECORRUPT, "current-snapshot-id %lld names no snapshot",
				      (long long)m->current_snapshot_id);

	json_t *log = json_object_get(r, "snapshot-log");
	if (json_array_size(log) > 0) {
		m->snapshot_log = firn_calloc(json_array_size(log), sizeof(*m->snapshot_log));
		if (!m->snapshot_log)
			return FIRN_ENOMEM;
		for (size_t i = 0; i < json_array_size(log); i++) {
			json_t *e = json_array_get(log, i);
			struct firn_ice_log_entry *le = &m->snapshot_log[m->n_snapshot_log];
			if (get_i64(e, "timestamp-ms", &le->timestamp_ms) &&
			    get_i64(e, "snapshot-id", &le->snapshot_id))
				m->n_snapshot_log++;
		}
	}
	return check_links(m, err);
}

int firn_ice__meta_from_json(json_t *root, const char *what, struct firn_ice_meta **out,
			     struct firn_error *err)
{
	*out = NULL;
	struct firn_ice_meta *m = firn_calloc(1, sizeof(*m));
	if (!m) {
		json_decref(root);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	m->root = root;
	int rc = firn_ice__meta_reparse(m, err);
	if (rc != 0) {
		if (what && err)
			firn_error_prefix(err, "%s", what);
		firn_ice__meta_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int firn_ice__meta_parse(const char *text, size_t n, const char *what,
			 struct firn_ice_meta **out, struct firn_error *err)
{
	json_error_t je;
	*out = NULL;
	json_t *root = firn_json__loadb(text, n, 0, &je);
	if (!root)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: not valid JSON: %s (line %d)",
				      what, je.text, je.line);
	return firn_ice__meta_from_json(root, what, out, err);
}

int firn_ice__meta_clone(const struct firn_ice_meta *m, struct firn_ice_meta **out,
			 struct firn_error *err)
{
	json_t *copy = json_deep_copy(m->root);
	if (!copy)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return firn_ice__meta_from_json(copy, NULL, out, err);
}

void firn_ice__meta_free(struct firn_ice_meta *m)
{
	if (!m)
		return;
	free_views(m);
	json_decref(m->root);
	firn_free(m);
}

char *firn_ice__meta_dump(const struct firn_ice_meta *m)
{
	char *s = firn_json__dumps(m->root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		return NULL;
	char *copy = firn_strdup(s);
	firn_free(s);
	return copy;
}

const struct firn_ice_schema *firn_ice__meta_schema(const struct firn_ice_meta *m, int32_t id)
{
	for (size_t i = 0; i < m->n_schemas; i++)
		if (m->schemas[i].schema_id == id)
			return &m->schemas[i];
	return NULL;
}

const struct firn_ice_schema *firn_ice__meta_current_schema(const struct firn_ice_meta *m)
{
	return firn_ice__meta_schema(m, m->current_schema_id);
}

const struct firn_ice_spec *firn_ice__meta_spec(const struct firn_ice_meta *m, int32_t id)
{
	for (size_t i = 0; i < m->n_specs; i++)
		if (m->specs[i].spec_id == id)
			return &m->specs[i];
	return NULL;
}

const struct firn_ice_sort_order *firn_ice__meta_order(const struct firn_ice_meta *m, int32_t id)
{
	for (size_t i = 0; i < m->n_orders; i++)
		if (m->orders[i].order_id == id)
			return &m->orders[i];
	return NULL;
}

const struct firn_ice_snapshot *firn_ice__meta_snapshot(const struct firn_ice_meta *m, int64_t id)
{
	for (size_t i = 0; i < m->n_snapshots; i++)
		if (m->snapshots[i].snapshot_id == id)
			return &m->snapshots[i];
	return NULL;
}

const struct firn_ice_snapshot *firn_ice__meta_current(const struct firn_ice_meta *m)
{
	return m->has_current_snapshot ? firn_ice__meta_snapshot(m, m->current_snapshot_id) : NULL;
}

const struct firn_ice_ref *firn_ice__meta_ref(const struct firn_ice_meta *m, const char *name)
{
	for (size_t i = 0; i < m->n_refs; i++)
		if (strcmp(m->refs[i].name, name) == 0)
			return &m->refs[i];
	return NULL;
}

int64_t firn_ice__new_snapshot_id(const struct firn_ice_meta *m)
{
	for (;;) {
		uint8_t u[16];
		firn_uuid_v4(u);
		uint64_t hi = 0, lo = 0;
		for (int i = 0; i < 8; i++) {
			hi = hi << 8 | u[i];
			lo = lo << 8 | u[8 + i];
		}
		int64_t id = (int64_t)((hi ^ lo) & 0x7FFFFFFFFFFFFFFFULL);
		if (id != 0 && (!m || !firn_ice__meta_snapshot(m, id)))
			return id;
	}
}

int64_t firn_ice__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *firn_ice__prop(const struct firn_ice_meta *m, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(m->root, "properties"), key));
	return v && firn_ice__prop_check(key, v, NULL) == 0 ? v : NULL;
}

int64_t firn_ice__prop_int(const struct firn_ice_meta *m, const char *key, int64_t dflt)
{
	const char *v = firn_ice__prop(m, key);
	if (!v || !*v)
		return dflt;
	char *end;
	long long x = strtoll(v, &end, 10);
	return *end ? dflt : (int64_t)x;
}
