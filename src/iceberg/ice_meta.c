/* Table metadata JSON: views over the jansson tree. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iceberg/ice_meta.h"
#include "util/alloc.h"

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

/* The text a metadata was parsed from, shared by its clones, and the
 * strings the views of its snapshots point to (their objects do not hold
 * them: see struct snap_scalars). */
struct shared_text {
	size_t refs;
	size_t n;
	struct firn_arena strings;
	char data[]; /* n bytes and a NUL */
};

/* What the views need of a snapshot read from a file, read from its text
 * by the parser: its object holds only "snapshot-id" (what the builder
 * finds it by) until firn_ice__snapshot_json completes it. */
struct snap_scalars {
	int64_t id, parent, seq, ts, first_row_id;
	int32_t schema_id;
	bool has_id, has_parent, has_seq, has_ts, has_first_row_id, has_schema_id;
	const char *manifest_list; /* in the text's strings; NULL: none */
	const char *operation;     /* NULL: none */
};

/* A snapshot object with a reference held (so its address cannot come
 * back as another object's while a view may be matched to it), and where
 * its text is in the shared text (len 0: nowhere). */
struct snap_src {
	json_t *json;
	size_t off, len;
	uint32_t n_keys, n_summary_keys; /* in the text */
	bool lazy; /* the object lacks some of the text's values */
	bool has_scalars; /* read by the parser: the views come from sc */
	struct snap_scalars sc;
};

struct firn_ice__meta_priv {
	struct shared_text *text;
	/* after a reparse parallel to m->snapshots (views true); after a
	 * parse, root's snapshots in order, without views yet */
	struct snap_src *src;
	size_t n_src;
	bool views;
};

static void text_unref(struct shared_text *t)
{
	if (t && --t->refs == 0) {
		firn_arena_free(&t->strings);
		firn_free(t);
	}
}

static void src_free(struct snap_src *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(src[i].json);
	firn_free(src);
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
	struct firn_ice__meta_priv *p = m->priv;
	if (p) {
		src_free(p->src, p->n_src);
		p->src = NULL;
		p->n_src = 0;
		p->views = false;
	}
	json_t *root = m->root;
	memset(m, 0, sizeof(*m));
	m->root = root;
	m->priv = p;
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

/* The view of a snapshot the parser read (its object is a stub). */
static int view_from_scalars(struct firn_ice_snapshot *s, json_t *j, const struct snap_scalars *sc,
			     const char *what, struct firn_error *err)
{
	s->json = j;
	if (!sc->has_id || !sc->has_ts)
		return bad(err, what, "snapshot without snapshot-id or timestamp-ms");
	s->snapshot_id = sc->id;
	s->timestamp_ms = sc->ts;
	s->has_parent = sc->has_parent;
	s->parent_id = sc->parent;
	s->sequence_number = sc->has_seq ? sc->seq : 0;
	s->manifest_list = sc->manifest_list;
	s->operation = sc->operation ? sc->operation : "";
	s->schema_id = sc->has_schema_id ? sc->schema_id : -1;
	s->has_first_row_id = sc->has_first_row_id;
	s->first_row_id = sc->first_row_id;
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

/* The views and sources a reparse may keep. */
struct old_snaps {
	struct firn_ice_snapshot *views; /* NULL: none */
	struct snap_src *src;
	size_t n;
};

/* Where el is among old's sources from k on, or SIZE_MAX. Snapshots are
 * only added and removed, so the next one is almost always at k. */
static size_t find_src(const struct snap_src *src, size_t n, size_t k, const json_t *el)
{
	for (size_t j = k; j < n; j++)
		if (src[j].json == el)
			return j;
	return SIZE_MAX;
}

/* The snapshot views: an object that had one keeps it (history is
 * immutable), the others are parsed. */
static int parse_snapshots(struct firn_ice_meta *m, json_t *snaps, struct old_snaps *old,
			   const char *what, struct firn_error *err)
{
	struct firn_ice__meta_priv *p = m->priv;
	size_t n = json_array_size(snaps);
	if (n == 0)
		return 0;
	m->snapshots = firn_calloc(n, sizeof(*m->snapshots));
	p->src = firn_calloc(n, sizeof(*p->src));
	if (!m->snapshots || !p->src)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *el = json_array_get(snaps, i);
		struct firn_ice_snapshot *s = &m->snapshots[i];
		size_t j = find_src(old->src, old->n, k, el);
		if (j != SIZE_MAX) {
			p->src[p->n_src++] = old->src[j];
			old->src[j].json = NULL; /* moved */
			k = j + 1;
			if (old->views) {
				*s = old->views[j];
			} else {
				const struct snap_src *o = &p->src[p->n_src - 1];
				FIRN_TRY(o->has_scalars ? view_from_scalars(s, el, &o->sc, what, err)
							: parse_snapshot(s, el, what, err));
				if (o->lazy && p->text) {
					s->lazy_text = p->text->data + o->off;
					s->lazy_len = o->len;
					s->n_keys = o->n_keys;
					s->n_summary_keys = o->n_summary_keys;
				}
			}
		} else {
			p->src[p->n_src++] = (struct snap_src){ .json = json_incref(el) };
			FIRN_TRY(parse_snapshot(s, el, what, err));
		}
		m->n_snapshots++;
	}
	p->views = true;
	return 0;
}

static int reparse(struct firn_ice_meta *m, struct old_snaps *old, struct firn_error *err)
{
	const char *what = "table metadata";
	json_t *r = m->root;
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
	FIRN_TRY(parse_snapshots(m, json_object_get(r, "snapshots"), old, what, err));
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

int firn_ice__meta_reparse(struct firn_ice_meta *m, struct firn_error *err)
{
	if (!m->priv && !(m->priv = firn_calloc(1, sizeof(*m->priv))))
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_ice__meta_priv *p = m->priv;
	struct old_snaps old = { p->views && m->n_snapshots == p->n_src ? m->snapshots : NULL,
				 p->src, p->n_src };
	struct firn_ice_snapshot *views = m->snapshots;
	m->snapshots = NULL;
	m->n_snapshots = 0;
	p->src = NULL;
	p->n_src = 0;
	p->views = false;
	free_views(m);
	int rc = reparse(m, &old, err);
	firn_free(views);
	src_free(old.src, old.n);
	/* the view builders return a bare FIRN_ENOMEM: the message is set here */
	if (rc == FIRN_ENOMEM && err && !err->message[0])
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return rc;
}

/* A metadata over root (owned, also on failure) with the private state p
 * (owned, may be NULL): the views are parsed, keeping p's. */
static int from_root(json_t *root, struct firn_ice__meta_priv *p, struct firn_ice_snapshot *views,
		     const char *what, struct firn_ice_meta **out, struct firn_error *err)
{
	*out = NULL;
	struct firn_ice_meta *m = firn_calloc(1, sizeof(*m));
	if (!m) {
		json_decref(root);
		if (p) {
			src_free(p->src, p->n_src);
			text_unref(p->text);
			firn_free(p);
		}
		firn_free(views);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	m->root = root;
	m->priv = p;
	if (views) {
		m->snapshots = views;
		m->n_snapshots = p->n_src;
	}
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

int firn_ice__meta_from_json(json_t *root, const char *what, struct firn_ice_meta **out,
			     struct firn_error *err)
{
	return from_root(root, NULL, NULL, what, out, err);
}

/* ---- a fast reader for metadata JSON -------------------------------- */

/* jansson's parser reads a byte at a time through a stream, the largest
 * cost of loading a long history; this one reads the buffer and builds
 * the same tree. It takes only what jansson takes with the same meaning
 * (strict JSON, valid UTF-8, no NUL, no duplicate keys, numbers in range,
 * bounded depth) and gives up on anything else, for jansson to parse the
 * text and report its errors as ever. It notes where each element of the
 * top-level "snapshots" array is in the text. */
#define JP_MAX_DEPTH 512 /* below jansson's 2048 */

#define JP_INTERN_SLOTS 1024
#define JP_INTERN_MAX 24 /* bytes */

struct jp {
	const char *base, *p, *end;
	int depth;
	struct firn_buf scratch; /* a string with escapes, decoded */
	struct snap_src *spans;
	size_t n_spans, cap_spans;
	/* short strings seen (borrowed from the tree being built): the values
	 * snapshot summaries repeat ("append", "0", "firn") become one shared
	 * string, as nothing edits a string in place */
	json_t *intern[JP_INTERN_SLOTS];
	struct firn_arena *strings; /* the views' strings; NULL: no spans */
};

/* A byte a string holds as it is: not '"', '\\', a control or non-ASCII. */
static inline bool plain(unsigned c)
{
	return c - 0x20u < 0x60u && c != '"' && c != '\\';
}

/* Whether none of the 8 bytes of w is '"', '\\', a control or non-ASCII
 * (the bit tricks of "Bit Twiddling Hacks": a zero byte of x shows as the
 * high bit of (x - 0x01..) & ~x & 0x80..). */
static inline bool plain_word(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
	uint64_t bad = ((quote - ones) & ~quote) | ((slash - ones) & ~slash) |
		       (w - ones * 0x20) | w;
	return (bad & highs) == 0;
}

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

/* The length of the valid UTF-8 sequence (RFC 3629: no overlong forms,
 * no surrogates, at most U+10FFFF) at s, or 0. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	if (c < 0xC2 || c > 0xF4)
		return 0;
	size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if ((size_t)(end - s) < n)
		return 0;
	uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

static bool hex4(const unsigned char *s, const unsigned char *end, uint32_t *out)
{
	if (end - s < 4)
		return false;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i];
		int d = c >= '0' && c <= '9' ? (int)c - '0'
			: c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
			: c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return true;
}

static int put_utf8(struct firn_buf *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xC0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xE0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xF0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return firn_buf_append(b, u, n);
}

/* The escape at s (after the backslash) decoded into b; s moves past it. */
static bool jp_escape(struct firn_buf *b, const unsigned char **sp, const unsigned char *end)
{
	const unsigned char *s = *sp;
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = *s ? strchr(from, *s) : NULL;
	if (e) {
		*sp = s + 1;
		return firn_buf_putc(b, (uint8_t)to[e - from]) == 0;
	}
	uint32_t cp, lo;
	if (*s != 'u' || !hex4(s + 1, end, &cp))
		return false;
	s += 5;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, end, &lo) ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return false;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		s += 6;
	} else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
		return false; /* a lone low surrogate; NUL, which jansson refuses */
	}
	*sp = s;
	return put_utf8(b, cp) == 0;
}

/* The string at j->p (its '"'): *out points into the text or, when it
 * has escapes, *in_scratch, into j->scratch. */
static bool jp_string(struct jp *j, const char **out, size_t *n, bool *in_scratch)
{
	const unsigned char *s = (const unsigned char *)j->p + 1, *end = (const unsigned char *)j->end;
	const unsigned char *start = s;
	for (;;) {
		while (end - s >= 8) { /* eight plain bytes at a time */
			uint64_t w;
			memcpy(&w, s, 8);
			if (!plain_word(w))
				break;
			s += 8;
		}
		while (s < end && plain(*s))
			s++;
		if (s >= end || *s == '"' || *s == '\\')
			break;
		size_t k = *s < 0x20 ? 0 : utf8_len(s, end);
		if (k == 0)
			return false;
		s += k;
	}
	if (s >= end)
		return false;
	if (*s == '"') {
		*out = (const char *)start;
		*n = (size_t)(s - start);
		*in_scratch = false;
		j->p = (const char *)s + 1;
		return true;
	}
	j->scratch.len = 0;
	if (firn_buf_append(&j->scratch, start, (size_t)(s - start)) != 0)
		return false;
	while (s < end && *s != '"') {
		size_t k;
		if (*s == '\\') {
			s++;
			if (s >= end || !jp_escape(&j->scratch, &s, end))
				return false;
			continue;
		}
		if (*s < 0x20 || (k = *s < 0x80 ? 1 : utf8_len(s, end)) == 0 ||
		    firn_buf_append(&j->scratch, s, k) != 0)
			return false;
		s += k;
	}
	if (s >= end)
		return false;
	*out = (const char *)j->scratch.data;
	*n = j->scratch.len;
	*in_scratch = true;
	j->p = (const char *)s + 1;
	return true;
}

static bool is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* The number at j->p, as jansson reads one: an integer in range (int64)
 * or a finite real. Moves j->p past it; false when jansson would refuse it. */
static bool jp_number_scan(struct jp *j, bool *real_out, int64_t *iv, double *dv)
{
	const char *s = j->p, *end = j->end;
	bool real = false;
	if (s < end && *s == '-')
		s++;
	if (s < end && *s == '0')
		s++;
	else if (is_digit(s, end))
		while (is_digit(s, end))
			s++;
	else
		return false;
	if (s < end && *s == '.') {
		real = true;
		if (!is_digit(++s, end))
			return false;
		while (is_digit(s, end))
			s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		real = true;
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			s++;
		if (!is_digit(s, end))
			return false;
		while (is_digit(s, end))
			s++;
	}
	const char *d = j->p;
	bool neg = *d == '-';
	size_t digits = (size_t)(s - d) - neg;
	*real_out = real;
	if (!real && digits <= 19) { /* snapshot ids have 19 digits */
		uint64_t v = 0;
		for (d += neg; d < s; d++)
			v = v * 10 + (uint64_t)(*d - '0'); /* 19 digits fit in 64 bits */
		if (v > (uint64_t)INT64_MAX + neg)
			return false; /* jansson: "too big integer" */
		*iv = neg ? (int64_t)(0 - v) : (int64_t)v;
		j->p = s;
		return true;
	}
	size_t n = (size_t)(s - j->p);
	char tmp[64], *e;
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, j->p, n);
	tmp[n] = '\0';
	j->p = s;
	errno = 0;
	if (!real) {
		long long v = strtoll(tmp, &e, 10);
		*iv = v;
		return errno != ERANGE && !*e;
	}
	*dv = strtod(tmp, &e);
	return !*e && !(errno == ERANGE && (*dv == HUGE_VAL || *dv == -HUGE_VAL));
}

static json_t *jp_number(struct jp *j)
{
	bool real;
	int64_t iv = 0;
	double dv = 0;
	if (!jp_number_scan(j, &real, &iv, &dv))
		return NULL;
	return real ? json_real(dv) : json_integer((json_int_t)iv);
}

static json_t *jp_value(struct jp *j, bool spans);

/* What the parser notes of an element of the top-level "snapshots". */
struct jp_lazy {
	uint32_t n_keys, n_summary_keys;
	bool skipped;
	struct snap_scalars sc;
};

static json_t *jp_object(struct jp *j);
static json_t *jp_snapshot(struct jp *j, struct jp_lazy *lz);
static bool jp_skip(struct jp *j);

static bool jp_span(struct jp *j, json_t *v, const char *start, const struct jp_lazy *lz)
{
	if (j->n_spans == j->cap_spans) {
		size_t cap = j->cap_spans ? 2 * j->cap_spans : 64;
		struct snap_src *s = firn_realloc(j->spans, cap * sizeof(*s));
		if (!s)
			return false;
		j->spans = s;
		j->cap_spans = cap;
	}
	j->spans[j->n_spans++] = (struct snap_src){
		.json = v, .off = (size_t)(start - j->base), .len = (size_t)(j->p - start),
		.n_keys = lz->n_keys, .n_summary_keys = lz->n_summary_keys, .lazy = lz->skipped,
		.has_scalars = lz->skipped, .sc = lz->sc,
	};
	return true;
}

/* An array; with spans (the top-level "snapshots"), each object element is
 * read as a snapshot and where it is in the text noted. */
static json_t *jp_array(struct jp *j, bool spans)
{
	json_t *a = json_array();
	j->p++;
	jp_ws(j);
	if (a && j->p < j->end && *j->p == ']') {
		j->p++;
		return a;
	}
	while (a) {
		jp_ws(j);
		const char *start = j->p;
		json_t *v;
		struct jp_lazy lz;
		memset(&lz, 0, sizeof(lz));
		if (spans && j->p < j->end && *j->p == '{') {
			if (++j->depth > JP_MAX_DEPTH)
				break;
			v = jp_snapshot(j, &lz);
			j->depth--;
		} else {
			v = jp_value(j, false);
		}
		if (!v)
			break;
		if (spans && json_is_object(v) && !jp_span(j, v, start, &lz)) {
			json_decref(v);
			break;
		}
		if (json_array_append_new(a, v) != 0)
			break;
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return a;
		}
		break;
	}
	json_decref(a);
	return NULL;
}

/* Checks the value at j->p as jp_value would read it, building nothing. */
static bool jp_skip(struct jp *j)
{
	jp_ws(j);
	if (j->p >= j->end)
		return false;
	char c = *j->p;
	if (c == '"') {
		const char *str;
		size_t n;
		bool in_scratch;
		return jp_string(j, &str, &n, &in_scratch);
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		bool real;
		int64_t iv;
		double dv;
		return jp_number_scan(j, &real, &iv, &dv);
	}
	if (c != '{' && c != '[') {
		json_t *v = jp_value(j, false);
		json_decref(v);
		return v != NULL;
	}
	if (++j->depth > JP_MAX_DEPTH)
		return false;
	char close = c == '{' ? '}' : ']';
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (c == '{') {
			const char *k;
			size_t kn;
			bool in_scratch;
			jp_ws(j);
			if (j->p >= j->end || *j->p != '"' || !jp_string(j, &k, &kn, &in_scratch))
				return false;
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return false;
			j->p++;
		}
		if (!jp_skip(j))
			return false;
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return false;
	}
}

/* The key at j->p and its ':' (k points into the text or the scratch). */
static bool jp_key(struct jp *j, const char **k, size_t *kn, bool *in_scratch)
{
	jp_ws(j);
	if (j->p >= j->end || *j->p != '"' || !jp_string(j, k, kn, in_scratch))
		return false;
	jp_ws(j);
	if (j->p >= j->end || *j->p != ':')
		return false;
	j->p++;
	jp_ws(j);
	return true;
}

/* After a member: true and *more at ',', true at the closing c. */
static bool jp_next(struct jp *j, char c, bool *more)
{
	jp_ws(j);
	if (j->p < j->end && (*j->p == ',' || *j->p == c)) {
		*more = *j->p++ == ',';
		return true;
	}
	return false;
}

static bool key_is(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

/* An integer member for a view: read when it is one (a view reads only
 * integers, as get_i64 does), else checked and skipped. */
static bool jp_scalar(struct jp *j, int64_t *v, bool *has)
{
	if (j->p < j->end && (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))) {
		bool real;
		double dv;
		int64_t iv = 0;
		if (!jp_number_scan(j, &real, &iv, &dv))
			return false;
		if (!real) {
			*v = iv;
			*has = true;
		} else {
			*has = false;
		}
		return true;
	}
	*has = false; /* the last of duplicate keys wins, as in jansson */
	return jp_skip(j);
}

/* A string member for a view, copied into the text's strings. */
static bool jp_view_string(struct jp *j, const char **out)
{
	*out = NULL;
	if (j->p >= j->end || *j->p != '"')
		return jp_skip(j);
	const char *str;
	size_t n;
	bool in_scratch;
	if (!jp_string(j, &str, &n, &in_scratch))
		return false;
	static const char *const ops[] = { "append", "overwrite", "delete", "replace" };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (key_is(str, n, ops[i])) {
			*out = ops[i];
			return true;
		}
	if (memchr(str, '\0', n))
		return false; /* a NUL inside: jansson's parse refuses it */
	*out = firn_arena_strndup(j->strings, str, n);
	return *out != NULL;
}

/* A snapshot's summary: its keys counted and "operation" read. */
static bool jp_summary(struct jp *j, struct jp_lazy *lz)
{
	if (j->p >= j->end || *j->p != '{')
		return jp_skip(j);
	if (++j->depth > JP_MAX_DEPTH)
		return false;
	j->p++;
	jp_ws(j);
	bool more = j->p < j->end && *j->p != '}';
	if (!more)
		j->p++;
	while (more) {
		const char *k;
		size_t kn;
		bool in_scratch;
		if (!jp_key(j, &k, &kn, &in_scratch))
			return false;
		lz->n_summary_keys++;
		bool ok = key_is(k, kn, "operation") ? jp_view_string(j, &lz->sc.operation)
						     : jp_skip(j);
		if (!ok || !jp_next(j, '}', &more))
			return false;
	}
	j->depth--;
	return true;
}

/* An element of the top-level "snapshots": an object holding only its
 * "snapshot-id"; the values the views need are read into lz->sc and the
 * rest checked and skipped, to be read from the text when someone asks. */
static json_t *jp_snapshot(struct jp *j, struct jp_lazy *lz)
{
	json_t *o = json_object();
	struct snap_scalars *sc = &lz->sc;
	j->p++;
	jp_ws(j);
	bool more = j->p < j->end && *j->p != '}';
	if (!more)
		j->p++;
	while (o && more) {
		const char *k;
		size_t kn;
		bool in_scratch, ok;
		if (!jp_key(j, &k, &kn, &in_scratch))
			break;
		lz->n_keys++;
		lz->skipped |= !key_is(k, kn, "snapshot-id");
		if (key_is(k, kn, "snapshot-id")) {
			json_t *v = jp_value(j, false);
			ok = v && json_object_setn_new_nocheck(o, k, kn, v) == 0;
			sc->has_id = ok && json_is_integer(v);
			sc->id = sc->has_id ? json_integer_value(v) : 0;
		} else if (key_is(k, kn, "parent-snapshot-id")) {
			ok = jp_scalar(j, &sc->parent, &sc->has_parent);
		} else if (key_is(k, kn, "sequence-number")) {
			ok = jp_scalar(j, &sc->seq, &sc->has_seq);
		} else if (key_is(k, kn, "timestamp-ms")) {
			ok = jp_scalar(j, &sc->ts, &sc->has_ts);
		} else if (key_is(k, kn, "first-row-id")) {
			ok = jp_scalar(j, &sc->first_row_id, &sc->has_first_row_id);
		} else if (key_is(k, kn, "schema-id")) {
			int64_t v = 0;
			ok = jp_scalar(j, &v, &sc->has_schema_id);
			sc->has_schema_id &= v >= INT32_MIN && v <= INT32_MAX;
			sc->schema_id = (int32_t)v;
		} else if (key_is(k, kn, "manifest-list")) {
			ok = jp_view_string(j, &sc->manifest_list);
		} else if (key_is(k, kn, "summary")) {
			sc->operation = NULL;
			ok = jp_summary(j, lz);
		} else {
			ok = jp_skip(j);
		}
		if (!ok || !jp_next(j, '}', &more))
			break;
	}
	if (o && !more)
		return o;
	json_decref(o);
	return NULL;
}

static json_t *jp_object(struct jp *j)
{
	json_t *o = json_object();
	bool top = j->depth == 1;
	j->p++;
	jp_ws(j);
	if (o && j->p < j->end && *j->p == '}') {
		j->p++;
		return o;
	}
	while (o) {
		const char *k;
		size_t kn;
		bool in_scratch;
		char *own = NULL;
		jp_ws(j);
		if (j->p >= j->end || *j->p != '"' || !jp_string(j, &k, &kn, &in_scratch))
			break;
		if (in_scratch) { /* the value may need the scratch buffer */
			if (!(own = firn_malloc(kn + 1)))
				break;
			memcpy(own, k, kn);
			k = own;
		}
		jp_ws(j);
		json_t *v = NULL;
		if (j->p < j->end && *j->p == ':') {
			j->p++;
			jp_ws(j);
			v = jp_value(j, top && j->strings && key_is(k, kn, "snapshots"));
		}
		size_t had = json_object_size(o);
		bool ok = v && json_object_setn_new_nocheck(o, k, kn, v) == 0 &&
			  json_object_size(o) == had + 1; /* a duplicate key: jansson's call */
		firn_free(own);
		if (!ok)
			break;
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return o;
		}
		break;
	}
	json_decref(o);
	return NULL;
}

static json_t *jp_value(struct jp *j, bool spans)
{
	jp_ws(j);
	if (j->p >= j->end)
		return NULL;
	const char *s = j->p;
	size_t left = (size_t)(j->end - s);
	json_t *v;
	switch (*s) {
	case '{':
	case '[':
		if (++j->depth > JP_MAX_DEPTH)
			return NULL;
		v = *s == '{' ? jp_object(j) : jp_array(j, spans);
		j->depth--;
		return v;
	case '"': {
		const char *str;
		size_t n;
		bool in_scratch;
		if (!jp_string(j, &str, &n, &in_scratch))
			return NULL;
		if (n > JP_INTERN_MAX)
			return json_stringn_nocheck(str, n);
		uint32_t h = 2166136261u; /* FNV-1a */
		for (size_t i = 0; i < n; i++)
			h = (h ^ (uint8_t)str[i]) * 16777619u;
		json_t **slot = &j->intern[h % JP_INTERN_SLOTS];
		if (*slot && json_string_length(*slot) == n &&
		    memcmp(json_string_value(*slot), str, n) == 0)
			return json_incref(*slot);
		v = json_stringn_nocheck(str, n);
		*slot = v;
		return v;
	}
	case 't':
		if (left < 4 || memcmp(s, "true", 4) != 0)
			return NULL;
		j->p += 4;
		return json_true();
	case 'f':
		if (left < 5 || memcmp(s, "false", 5) != 0)
			return NULL;
		j->p += 5;
		return json_false();
	case 'n':
		if (left < 4 || memcmp(s, "null", 4) != 0)
			return NULL;
		j->p += 4;
		return json_null();
	default:
		return jp_number(j);
	}
}

/* The tree of text[0..n) (NUL-terminated) or NULL; *spans and *n_spans
 * get the top-level snapshots' places (borrowed objects). */
static json_t *jp_parse(const char *text, size_t n, struct firn_arena *strings,
			struct snap_src **spans, size_t *n_spans)
{
	struct jp j;
	memset(&j, 0, sizeof(j));
	j.strings = strings;
	j.base = j.p = text;
	j.end = text + n;
	jp_ws(&j);
	json_t *root = NULL;
	if (j.p < j.end && (*j.p == '{' || *j.p == '['))
		root = jp_value(&j, false);
	jp_ws(&j);
	if (root && j.p != j.end) {
		json_decref(root);
		root = NULL;
	}
	firn_buf_free(&j.scratch);
	if (!root) {
		firn_free(j.spans);
		j.spans = NULL;
		j.n_spans = 0;
	}
	*spans = j.spans;
	*n_spans = j.n_spans;
	return root;
}

int firn_ice__meta_parse(const char *text, size_t n, const char *what,
			 struct firn_ice_meta **out, struct firn_error *err)
{
	*out = NULL;
	struct shared_text *t = n < SIZE_MAX - sizeof(*t) - 1 ? firn_malloc(sizeof(*t) + n + 1) : NULL;
	struct firn_ice__meta_priv *p = firn_calloc(1, sizeof(*p));
	if (!t || !p) {
		firn_free(t);
		firn_free(p);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	t->refs = 1;
	t->n = n;
	t->strings = (struct firn_arena)FIRN_ARENA_INIT;
	memcpy(t->data, text, n);
	t->data[n] = '\0';
	json_t *root = jp_parse(t->data, n, &t->strings, &p->src, &p->n_src);
	if (root) {
		for (size_t i = 0; i < p->n_src; i++)
			json_incref(p->src[i].json);
		p->text = t;
		return from_root(root, p, NULL, what, out, err);
	}
	firn_arena_free(&t->strings);
	firn_free(t);
	firn_free(p);
	json_error_t je;
	root = firn_json__loadb(text, n, 0, &je);
	if (!root)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: not valid JSON: %s (line %d)",
				      what, je.text, je.line);
	return firn_ice__meta_from_json(root, what, out, err);
}

/* ---- lazy snapshots -------------------------------------------------- */

/* o completed from full (the same object's text, read whole): o's own
 * values are kept (views point into them), the others taken from full,
 * in full's order. */
static int complete(json_t *o, json_t *full)
{
	json_t *tmp = json_object();
	if (!tmp)
		return FIRN_ENOMEM;
	const char *k;
	size_t kn;
	json_t *v;
	json_object_keylen_foreach(full, k, kn, v) {
		json_t *have = json_object_getn(o, k, kn);
		if (have && json_is_object(have) && json_is_object(v) && complete(have, v) != 0) {
			json_decref(tmp);
			return FIRN_ENOMEM;
		}
		if (json_object_setn_nocheck(tmp, k, kn, have ? have : v) != 0) {
			json_decref(tmp);
			return FIRN_ENOMEM;
		}
	}
	json_object_clear(o);
	int rc = json_object_update(o, tmp) == 0 ? 0 : FIRN_ENOMEM;
	json_decref(tmp);
	return rc;
}

json_t *firn_ice__snapshot_json(const struct firn_ice_snapshot *s)
{
	json_t *o = s->json;
	if (!s->lazy_text || (json_object_size(o) == s->n_keys &&
			      json_object_size(json_object_get(o, "summary")) == s->n_summary_keys))
		return o; /* complete (another view of the object completed it) */
	struct snap_src *spans = NULL;
	size_t n_spans = 0;
	json_t *full = jp_parse(s->lazy_text, s->lazy_len, NULL, &spans, &n_spans);
	firn_free(spans);
	if (!full) /* a duplicate key: jansson's way, the last wins */
		full = firn_json__loadb(s->lazy_text, s->lazy_len, 0, NULL);
	if (json_is_object(full))
		complete(o, full);
	json_decref(full);
	return o;
}

/* ---- clone ---------------------------------------------------------- */

static bool is_history(const char *key, size_t n)
{
	return (n == 9 && memcmp(key, "snapshots", 9) == 0) ||
	       (n == 12 && memcmp(key, "snapshot-log", 12) == 0) ||
	       (n == 12 && memcmp(key, "metadata-log", 12) == 0);
}

/* root copied deep, but for the history arrays' elements, shared. */
static json_t *share_copy(json_t *root)
{
	if (!json_is_object(root))
		return json_deep_copy(root);
	json_t *c = json_object();
	if (!c)
		return NULL;
	const char *key;
	size_t kn;
	json_t *v;
	json_object_keylen_foreach(root, key, kn, v) {
		json_t *x;
		if (is_history(key, kn) && json_is_array(v)) {
			x = json_array();
			for (size_t i = 0; x && i < json_array_size(v); i++)
				if (json_array_append(x, json_array_get(v, i)) != 0) {
					json_decref(x);
					x = NULL;
				}
		} else {
			x = json_deep_copy(v);
		}
		if (!x || json_object_setn_new_nocheck(c, key, kn, x) != 0) { /* x is gone */
			json_decref(c);
			return NULL;
		}
	}
	return c;
}

int firn_ice__meta_clone(const struct firn_ice_meta *m, struct firn_ice_meta **out,
			 struct firn_error *err)
{
	*out = NULL;
	const struct firn_ice__meta_priv *mp = m->priv;
	json_t *copy = share_copy(m->root);
	struct firn_ice__meta_priv *p = firn_calloc(1, sizeof(*p));
	size_t n = mp ? mp->n_src : 0;
	struct snap_src *src = n ? firn_malloc(n * sizeof(*src)) : NULL;
	bool views = mp && mp->views && m->n_snapshots == n && n > 0;
	struct firn_ice_snapshot *v = views ? firn_malloc(n * sizeof(*v)) : NULL;
	if (!copy || !p || (n && !src) || (views && !v)) {
		json_decref(copy);
		firn_free(p);
		firn_free(src);
		firn_free(v);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	/* the original's sources and views, for the reparse to keep */
	for (size_t i = 0; i < n; i++) {
		src[i] = mp->src[i];
		json_incref(src[i].json);
	}
	if (views)
		memcpy(v, m->snapshots, n * sizeof(*v));
	p->src = src;
	p->n_src = n;
	p->views = views;
	if (mp && mp->text) {
		p->text = mp->text;
		p->text->refs++;
	}
	return from_root(copy, p, v, NULL, out, err);
}

void firn_ice__meta_free(struct firn_ice_meta *m)
{
	if (!m)
		return;
	free_views(m);
	if (m->priv) {
		text_unref(m->priv->text);
		firn_free(m->priv);
	}
	json_decref(m->root);
	firn_free(m);
}

/* ---- dump ----------------------------------------------------------- */

/* As jansson escapes (JSON_COMPACT without JSON_ENSURE_ASCII or
 * JSON_ESCAPE_SLASH): the same bytes as json_dumps. */
static int put_string(struct firn_buf *b, const char *s, size_t n)
{
	FIRN_TRY(firn_buf_putc(b, '"'));
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		FIRN_TRY(firn_buf_append(b, s + run, i - run));
		run = i + 1;
		char esc[8];
		const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
			      : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
			      : c == '\t' ? "\\t" : NULL;
		if (!e) {
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			e = esc;
		}
		FIRN_TRY(firn_buf_puts(b, e));
	}
	FIRN_TRY(firn_buf_append(b, s + run, n - run));
	return firn_buf_putc(b, '"');
}

static int put_int(struct firn_buf *b, json_int_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *s = e;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--s = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--s = '-';
	return firn_buf_append(b, s, (size_t)(e - s));
}

static int dump_value(struct firn_buf *b, const json_t *v);

/* The snapshots array: an element with a place in the text it was read
 * from is that text (the element is unchanged: history is immutable). */
static int dump_snapshots(struct firn_buf *b, const json_t *a, const struct firn_ice__meta_priv *p)
{
	FIRN_TRY(firn_buf_putc(b, '['));
	size_t k = 0;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *el = json_array_get(a, i);
		if (i)
			FIRN_TRY(firn_buf_putc(b, ','));
		size_t j = find_src(p->src, p->n_src, k, el);
		if (j != SIZE_MAX && p->src[j].len > 0) {
			FIRN_TRY(firn_buf_append(b, p->text->data + p->src[j].off, p->src[j].len));
			k = j + 1;
		} else {
			FIRN_TRY(dump_value(b, el));
			if (j != SIZE_MAX)
				k = j + 1;
		}
	}
	return firn_buf_putc(b, ']');
}

static int dump_object(struct firn_buf *b, const json_t *o, const struct firn_ice__meta_priv *p)
{
	const char *key;
	size_t kn;
	json_t *v;
	bool first = true;
	FIRN_TRY(firn_buf_putc(b, '{'));
	json_object_keylen_foreach((json_t *)o, key, kn, v) {
		if (!first)
			FIRN_TRY(firn_buf_putc(b, ','));
		first = false;
		FIRN_TRY(put_string(b, key, kn));
		FIRN_TRY(firn_buf_putc(b, ':'));
		if (p && p->text && json_is_array(v) && kn == 9 && memcmp(key, "snapshots", 9) == 0)
			FIRN_TRY(dump_snapshots(b, v, p));
		else
			FIRN_TRY(dump_value(b, v));
	}
	return firn_buf_putc(b, '}');
}

static int dump_value(struct firn_buf *b, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return dump_object(b, v, NULL);
	case JSON_ARRAY:
		FIRN_TRY(firn_buf_putc(b, '['));
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				FIRN_TRY(firn_buf_putc(b, ','));
			FIRN_TRY(dump_value(b, json_array_get(v, i)));
		}
		return firn_buf_putc(b, ']');
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return put_int(b, json_integer_value(v));
	case JSON_REAL: { /* rare in metadata: jansson's own digits */
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		int rc = s ? firn_buf_puts(b, s) : FIRN_ENOMEM;
		firn_free(s); /* jansson allocates through firn's hook */
		return rc;
	}
	case JSON_TRUE:
		return firn_buf_puts(b, "true");
	case JSON_FALSE:
		return firn_buf_puts(b, "false");
	case JSON_NULL:
		return firn_buf_puts(b, "null");
	}
	return FIRN_EINVAL;
}

char *firn_ice__meta_dump(const struct firn_ice_meta *m)
{
	struct firn_buf b = FIRN_BUF_INIT;
	const struct firn_ice__meta_priv *p = m->priv;
	int rc = firn_buf_reserve(&b, p && p->text ? p->text->n + 4096 : 4096);
	if (rc == 0)
		rc = json_is_object(m->root) ? dump_object(&b, m->root, p) : dump_value(&b, m->root);
	return firn_buf_string(&b, rc);
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
