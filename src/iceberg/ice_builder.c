/* The metadata builder: applies table updates, in order, to a copy of the
 * metadata tree, validating each against what was built so far (Java's
 * TableMetadata.Builder semantics), then stamps the result. */
#include <stdio.h>
#include <string.h>

#include "arrow/types.h"
#include "firn/util.h"
#include "iceberg/ice_update.h"

struct build {
	json_t *root;
	const struct firn_ice_meta *base;
	int fv;
	bool creating;
	bool fv_set; /* an upgrade-format-version was applied at create */
	/* ids added by this build; INT32_MIN: none */
	int32_t last_schema, last_spec, last_order;
	bool schema_set, spec_set, order_set;
	bool removed_snapshots;
	int64_t *added; /* snapshot ids added by this build */
	size_t n_added;
	json_t *props_set, *props_removed; /* keys as sets */
	json_t *log_added; /* snapshot-log entries added by this build (borrowed) */
};

#define NONE INT32_MIN

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static int put(json_t *o, const char *key, json_t *v, struct firn_error *err)
{
	return v && json_object_set_new(o, key, v) == 0 ? 0 : nomem(err);
}

/* o[key] = v, then o appended to arr; o and v are gone either way (o
 * NULL: out of memory). */
static int append_with(json_t *arr, json_t *o, const char *key, json_t *v, struct firn_error *err)
{
	if (json_object_set_new(o, key, v) != 0) {
		json_decref(o);
		return nomem(err);
	}
	return json_array_append_new(arr, o) == 0 ? 0 : nomem(err);
}

static int64_t ival(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* The array root[key], created empty when missing. */
static json_t *array_of(json_t *root, const char *key)
{
	json_t *a = json_object_get(root, key);
	if (!json_is_array(a)) {
		a = json_array();
		if (!a || json_object_set_new(root, key, a) != 0)
			return NULL;
	}
	return a;
}

static json_t *object_of(json_t *root, const char *key)
{
	json_t *o = json_object_get(root, key);
	if (!json_is_object(o)) {
		o = json_object();
		if (!o || json_object_set_new(root, key, o) != 0)
			return NULL;
	}
	return o;
}

/* The element of arr whose integer key is id, or NULL; *idx its index. */
static json_t *find_by(json_t *arr, const char *key, int64_t id, size_t *idx)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);
		json_t *v = json_object_get(e, key);
		if (json_is_integer(v) && json_integer_value(v) == id) {
			if (idx)
				*idx = i;
			return e;
		}
	}
	return NULL;
}

static json_t *find_str(json_t *arr, const char *key, const char *s, size_t *idx)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *v = json_string_value(json_object_get(json_array_get(arr, i), key));
		if (v && strcmp(v, s) == 0) {
			*idx = i;
			return json_array_get(arr, i);
		}
	}
	return NULL;
}

static int64_t max_id(json_t *arr, const char *key, int64_t none)
{
	int64_t mx = none;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_object_get(json_array_get(arr, i), key);
		if (json_is_integer(v) && json_integer_value(v) > mx)
			mx = json_integer_value(v);
	}
	return mx;
}

static bool is_added(const struct build *b, int64_t id)
{
	for (size_t i = 0; i < b->n_added; i++)
		if (b->added[i] == id)
			return true;
	return false;
}

static json_t *snapshot(const struct build *b, int64_t id)
{
	return find_by(json_object_get(b->root, "snapshots"), "snapshot-id", id, NULL);
}

static json_t *no_current(const struct build *b)
{
	/* as firn_table_create writes it: null in v3, -1 before */
	return b->fv >= 3 ? json_null() : json_integer(-1);
}

/* ---- schemas -------------------------------------------------------- */

/* Whether field id `id` is in the schema (struct) JSON t, at any depth. */
static bool has_field(const json_t *t, int64_t id)
{
	if (!json_is_object(t))
		return false;
	json_t *fields = json_object_get(t, "fields");
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		if (ival(f, "id") == id || has_field(json_object_get(f, "type"), id))
			return true;
	}
	if ((json_object_get(t, "element-id") && ival(t, "element-id") == id) ||
	    (json_object_get(t, "key-id") && ival(t, "key-id") == id) ||
	    (json_object_get(t, "value-id") && ival(t, "value-id") == id))
		return true;
	return has_field(json_object_get(t, "element"), id) ||
	       has_field(json_object_get(t, "key"), id) ||
	       has_field(json_object_get(t, "value"), id);
}

/* The first type in t that format version fv cannot hold, or NULL. */
static const char *newer_type(const json_t *t, int fv)
{
	if (json_is_string(t)) {
		const char *s = json_string_value(t);
		return firn_arrow__type_name_since(s) > fv ? s : NULL;
	}
	if (!json_is_object(t))
		return NULL;
	const char *hit = NULL;
	json_t *fields = json_object_get(t, "fields");
	for (size_t i = 0; !hit && i < json_array_size(fields); i++)
		hit = newer_type(json_object_get(json_array_get(fields, i), "type"), fv);
	if (!hit)
		hit = newer_type(json_object_get(t, "element"), fv);
	if (!hit)
		hit = newer_type(json_object_get(t, "key"), fv);
	if (!hit)
		hit = newer_type(json_object_get(t, "value"), fv);
	return hit;
}

static bool same_ids(const json_t *a, const json_t *b)
{
	if (json_array_size(a) == 0 && json_array_size(b) == 0)
		return true;
	return json_equal(a, b);
}

static int add_schema(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *given = json_object_get(u, "schema");
	struct ArrowSchema parsed;
	int32_t mx = 0;
	int rc = firn_ice__schema_from_json(given, "schema", &parsed, &mx, err);
	if (rc == FIRN_ENOMEM)
		return rc;
	if (rc != 0) { /* a bad schema in an update is bad input, not a corrupt file */
		if (err)
			err->code = FIRN_EINVAL;
		return FIRN_EINVAL;
	}
	parsed.release(&parsed);
	const char *t = newer_type(given, b->fv);
	if (t)
		return firn_error_set(err, FIRN_EINVAL, "type %s needs format version 3 (the table has %d)",
				      t, b->fv);
	json_t *ids = json_object_get(given, "identifier-field-ids");
	for (size_t i = 0; i < json_array_size(ids); i++)
		if (!has_field(given, json_integer_value(json_array_get(ids, i))))
			return firn_error_set(err, FIRN_EINVAL, "identifier field id %lld is not in the schema",
					      (long long)json_integer_value(json_array_get(ids, i)));
	/* The deprecated last-column-id may raise the table's, never lower
	 * it: a value below is a client's stale view (two writers adding
	 * columns), and Java (1.11) keeps the larger id rather than failing. */
	int64_t last = ival(b->root, "last-column-id");
	json_t *lc = json_object_get(u, "last-column-id");
	if (json_is_integer(lc) && json_integer_value(lc) > last)
		last = json_integer_value(lc);
	if (mx > last)
		last = mx;
	json_t *schemas = array_of(b->root, "schemas");
	if (!schemas)
		return nomem(err);
	/* an identical schema is reused, else the id is the highest + 1 */
	int64_t id = -1;
	for (size_t i = 0; i < json_array_size(schemas); i++) {
		json_t *s = json_array_get(schemas, i);
		if (json_equal(json_object_get(s, "fields"), json_object_get(given, "fields")) &&
		    same_ids(json_object_get(s, "identifier-field-ids"), ids))
			id = ival(s, "schema-id");
	}
	if (id < 0) {
		id = max_id(schemas, "schema-id", -1) + 1;
		FIRN_TRY(append_with(schemas, json_deep_copy(given), "schema-id", json_integer(id), err));
	}
	b->last_schema = (int32_t)id;
	return put(b->root, "last-column-id", json_integer(last), err);
}

/* id, or the last added for -1; NONE with a message when unknown. */
static int resolve(int64_t id, int32_t last, json_t *arr, const char *key, const char *what,
		   int32_t *out, struct firn_error *err)
{
	if (id == -1) {
		if (last == NONE)
			return firn_error_set(err, FIRN_EINVAL, "-1 names the last added %s, but none was added",
					      what);
		id = last;
	}
	if (!find_by(arr, key, id, NULL))
		return firn_error_set(err, FIRN_EINVAL, "%s %lld does not exist", what, (long long)id);
	*out = (int32_t)id;
	return 0;
}

static int set_current_schema(struct build *b, const json_t *u, struct firn_error *err)
{
	int32_t id;
	FIRN_TRY(resolve(ival(u, "schema-id"), b->last_schema, json_object_get(b->root, "schemas"),
			 "schema-id", "schema", &id, err));
	b->schema_set = true;
	return put(b->root, "current-schema-id", json_integer(id), err);
}

/* The schema partition and sort fields bind to: the current one (at
 * create, before set-current-schema, the last added). */
static json_t *bind_schema(const struct build *b)
{
	json_t *schemas = json_object_get(b->root, "schemas");
	int64_t id = b->creating && !b->schema_set ? b->last_schema : ival(b->root, "current-schema-id");
	return find_by(schemas, "schema-id", id, NULL);
}

static int64_t source_of(const json_t *f)
{
	json_t *v = json_object_get(f, "source-id");
	return json_is_integer(v) ? json_integer_value(v)
				  : json_integer_value(json_array_get(json_object_get(f, "source-ids"), 0));
}

/* Each field's source is in the schema (void transforms excepted) and
 * its transform parses (unknown ones are kept, as Java keeps them). */
static int bind_fields(const struct build *b, const json_t *fields, const char *what,
		       struct firn_error *err)
{
	json_t *schema = bind_schema(b);
	if (!schema)
		return firn_error_set(err, FIRN_EINVAL, "%s: the table has no schema yet", what);
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		const char *tr = json_string_value(json_object_get(f, "transform"));
		if (strcmp(tr, "void") != 0 && !has_field(schema, source_of(f)))
			return firn_error_set(err, FIRN_EINVAL,
					      "%s field %zu: source-id %lld is not in schema %lld", what, i,
					      (long long)source_of(f), (long long)ival(schema, "schema-id"));
	}
	return 0;
}

/* ---- partition specs and sort orders -------------------------------- */

static bool same_spec_fields(const json_t *a, const json_t *b)
{
	if (json_array_size(a) != json_array_size(b))
		return false;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
		if (source_of(x) != source_of(y) ||
		    !json_equal(json_object_get(x, "transform"), json_object_get(y, "transform")) ||
		    !json_equal(json_object_get(x, "name"), json_object_get(y, "name")))
			return false;
	}
	return true;
}

static int add_spec(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *spec = json_deep_copy(json_object_get(u, "spec"));
	if (!spec)
		return nomem(err);
	json_t *fields = json_object_get(spec, "fields");
	int64_t last = ival(b->root, "last-partition-id");
	int rc = bind_fields(b, fields, "partition", err);
	for (size_t i = 0; rc == 0 && i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		if (!json_is_integer(json_object_get(f, "field-id")))
			rc = put(f, "field-id", json_integer(++last), err);
		for (size_t k = 0; rc == 0 && k < i; k++) {
			json_t *g = json_array_get(fields, k);
			if (ival(g, "field-id") == ival(f, "field-id"))
				rc = firn_error_set(err, FIRN_EINVAL, "partition field id %lld is used twice",
						    (long long)ival(f, "field-id"));
			else if (json_equal(json_object_get(g, "name"), json_object_get(f, "name")))
				rc = firn_error_set(err, FIRN_EINVAL, "partition field name '%s' is used twice",
						    json_string_value(json_object_get(f, "name")));
		}
	}
	json_t *specs = array_of(b->root, "partition-specs");
	if (rc == 0 && !specs)
		rc = nomem(err);
	if (rc != 0) {
		json_decref(spec);
		return rc;
	}
	for (size_t i = 0; i < json_array_size(specs); i++) {
		json_t *s = json_array_get(specs, i);
		if (same_spec_fields(json_object_get(s, "fields"), fields)) {
			b->last_spec = (int32_t)ival(s, "spec-id");
			json_decref(spec);
			return 0;
		}
	}
	int64_t id = max_id(specs, "spec-id", -1) + 1;
	int64_t top = max_id(fields, "field-id", last);
	b->last_spec = (int32_t)id;
	FIRN_TRY(append_with(specs, spec, "spec-id", json_integer(id), err));
	return put(b->root, "last-partition-id", json_integer(top), err);
}

static int set_default_spec(struct build *b, const json_t *u, struct firn_error *err)
{
	int32_t id;
	FIRN_TRY(resolve(ival(u, "spec-id"), b->last_spec, json_object_get(b->root, "partition-specs"),
			 "spec-id", "partition spec", &id, err));
	b->spec_set = true;
	return put(b->root, "default-spec-id", json_integer(id), err);
}

static int add_sort_order(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *given = json_object_get(u, "sort-order");
	json_t *fields = json_object_get(given, "fields");
	FIRN_TRY(bind_fields(b, fields, "sort", err));
	json_t *orders = array_of(b->root, "sort-orders");
	if (!orders)
		return nomem(err);
	for (size_t i = 0; i < json_array_size(orders); i++) {
		json_t *o = json_array_get(orders, i);
		if (json_equal(json_object_get(o, "fields"), fields)) {
			b->last_order = (int32_t)ival(o, "order-id");
			return 0;
		}
	}
	/* the unsorted order is 0, others from 1 (Java's ids) */
	int64_t id = json_array_size(fields) == 0 ? 0 : max_id(orders, "order-id", 0) + 1;
	FIRN_TRY(append_with(orders, json_deep_copy(given), "order-id", json_integer(id), err));
	b->last_order = (int32_t)id;
	return 0;
}

static int set_default_sort_order(struct build *b, const json_t *u, struct firn_error *err)
{
	int32_t id;
	FIRN_TRY(resolve(ival(u, "sort-order-id"), b->last_order, json_object_get(b->root, "sort-orders"),
			 "order-id", "sort order", &id, err));
	b->order_set = true;
	return put(b->root, "default-sort-order-id", json_integer(id), err);
}

/* ---- snapshots and refs --------------------------------------------- */

static int add_snapshot(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *given = json_object_get(u, "snapshot");
	int64_t id = ival(given, "snapshot-id");
	if (snapshot(b, id))
		return firn_error_set(err, FIRN_EINVAL, "snapshot %lld already exists", (long long)id);
	json_t *parent = json_object_get(given, "parent-snapshot-id");
	bool has_parent = json_is_integer(parent);
	if (has_parent && !snapshot(b, json_integer_value(parent)))
		return firn_error_set(err, FIRN_EINVAL, "parent snapshot %lld does not exist",
				      (long long)json_integer_value(parent));
	json_t *sid = json_object_get(given, "schema-id");
	if (json_is_integer(sid) &&
	    !find_by(json_object_get(b->root, "schemas"), "schema-id", json_integer_value(sid), NULL))
		return firn_error_set(err, FIRN_EINVAL, "schema %lld does not exist",
				      (long long)json_integer_value(sid));
	int64_t seq = ival(given, "sequence-number");
	int64_t last_seq = ival(b->root, "last-sequence-number");
	/* Java allows a parentless snapshot any sequence number. Sequence
	 * numbers and row ids are the table's, while requirements guard a
	 * branch: a commit to another branch since the change was computed
	 * took them, a lost race to retry on the new metadata (as Java's
	 * CatalogHandlers since apache/iceberg#15126), not a bad request */
	if (b->fv >= 2 && seq <= last_seq && has_parent)
		return firn_error_set(err, FIRN_ECONFLICT,
				      "sequence number %lld is not above the table's last sequence number %lld",
				      (long long)seq, (long long)last_seq);
	if (b->fv >= 3) {
		json_t *first = json_object_get(given, "first-row-id");
		json_t *added = json_object_get(given, "added-rows");
		int64_t next = ival(b->root, "next-row-id");
		if (!json_is_integer(first))
			return firn_error_set(err, FIRN_EINVAL, "first-row-id is missing (format version 3)");
		if (!json_is_integer(added) || json_integer_value(added) < 0)
			return firn_error_set(err, FIRN_EINVAL, "added-rows is missing or negative (format version 3)");
		if (json_integer_value(first) < next)
			return firn_error_set(err, FIRN_ECONFLICT,
					      "first-row-id %lld is below the table's next-row-id %lld",
					      (long long)json_integer_value(first), (long long)next);
		FIRN_TRY(put(b->root, "next-row-id",
			     json_integer(json_integer_value(first) + json_integer_value(added)), err));
	}
	int64_t *grown = firn_realloc(b->added, (b->n_added + 1) * sizeof(*grown));
	if (!grown)
		return nomem(err);
	b->added = grown;
	b->added[b->n_added++] = id;
	json_t *snaps = array_of(b->root, "snapshots");
	json_t *s = json_deep_copy(given);
	if (!snaps || !s || json_array_append_new(snaps, s) != 0)
		return nomem(err);
	if (b->fv >= 2 && seq > last_seq)
		FIRN_TRY(put(b->root, "last-sequence-number", json_integer(seq), err));
	return 0;
}

static const char *const RETENTION[] = { "max-ref-age-ms", "max-snapshot-age-ms",
					 "min-snapshots-to-keep" };

static int set_ref(struct build *b, const json_t *u, struct firn_error *err)
{
	const char *name = json_string_value(json_object_get(u, "ref-name"));
	const char *type = json_string_value(json_object_get(u, "type"));
	int64_t id = ival(u, "snapshot-id");
	bool main_ref = strcmp(name, "main") == 0;
	json_t *snap = snapshot(b, id);
	if (!snap)
		return firn_error_set(err, FIRN_EINVAL, "snapshot %lld does not exist", (long long)id);
	if (main_ref && strcmp(type, "tag") == 0)
		return firn_error_set(err, FIRN_EINVAL, "main is the table's branch; it cannot be a tag");
	if (strcmp(type, "tag") == 0 && (json_is_integer(json_object_get(u, "max-snapshot-age-ms")) ||
					 json_is_integer(json_object_get(u, "min-snapshots-to-keep"))))
		return firn_error_set(err, FIRN_EINVAL,
				      "a tag has no max-snapshot-age-ms or min-snapshots-to-keep");
	json_t *ref = json_object();
	int rc = ref ? 0 : nomem(err);
	if (rc == 0)
		rc = put(ref, "snapshot-id", json_integer(id), err);
	if (rc == 0)
		rc = put(ref, "type", json_string(type), err);
	for (size_t i = 0; rc == 0 && i < sizeof(RETENTION) / sizeof(RETENTION[0]); i++) {
		json_t *v = json_object_get(u, RETENTION[i]);
		if (json_is_integer(v))
			rc = put(ref, RETENTION[i], json_integer(json_integer_value(v)), err);
	}
	json_t *refs = object_of(b->root, "refs");
	if (rc == 0 && !refs)
		rc = nomem(err);
	if (rc != 0) {
		json_decref(ref);
		return rc;
	}
	json_t *old = json_object_get(refs, name);
	if (old && json_equal(old, ref)) {
		json_decref(ref);
		return 0;
	}
	FIRN_TRY(put(refs, name, ref, err));
	if (!main_ref)
		return 0;
	json_t *cur = json_object_get(b->root, "current-snapshot-id");
	bool moved = !json_is_integer(cur) || json_integer_value(cur) != id;
	FIRN_TRY(put(b->root, "current-snapshot-id", json_integer(id), err));
	if (!moved)
		return 0;
	/* the log entry has the snapshot's time when it is new, as Java's */
	int64_t ts = is_added(b, id) ? ival(snap, "timestamp-ms") : firn_ice__now_ms();
	json_t *log = array_of(b->root, "snapshot-log");
	json_t *e = json_object();
	if (!log || !e || put(e, "timestamp-ms", json_integer(ts), err) != 0 ||
	    put(e, "snapshot-id", json_integer(id), err) != 0 || json_array_append(log, e) != 0 ||
	    json_array_append(b->log_added, e) != 0) {
		json_decref(e);
		return nomem(err);
	}
	json_decref(e);
	return 0;
}

static int drop_ref(struct build *b, const char *name, struct firn_error *err)
{
	json_object_del(json_object_get(b->root, "refs"), name);
	if (strcmp(name, "main") == 0)
		return put(b->root, "current-snapshot-id", no_current(b), err);
	return 0;
}

static int remove_ref(struct build *b, const json_t *u, struct firn_error *err)
{
	return drop_ref(b, json_string_value(json_object_get(u, "ref-name")), err);
}

static void remove_by(json_t *arr, const char *key, int64_t id)
{
	size_t i;
	while (find_by(arr, key, id, &i))
		json_array_remove(arr, i);
}

static int remove_snapshots(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *ids = json_object_get(u, "snapshot-ids");
	json_t *snaps = json_object_get(b->root, "snapshots");
	for (size_t i = 0; i < json_array_size(ids); i++) {
		int64_t id = json_integer_value(json_array_get(ids, i));
		remove_by(snaps, "snapshot-id", id);
		remove_by(json_object_get(b->root, "statistics"), "snapshot-id", id);
		remove_by(json_object_get(b->root, "partition-statistics"), "snapshot-id", id);
	}
	b->removed_snapshots = true;
	/* refs to snapshots that are gone go with them */
	json_t *refs = json_object_get(b->root, "refs");
	const char *key;
	json_t *val;
	void *tmp;
	json_object_foreach_safe(refs, tmp, key, val) {
		if (!snapshot(b, ival(val, "snapshot-id"))) {
			bool main_ref = strcmp(key, "main") == 0;
			json_object_del(refs, key);
			if (main_ref)
				FIRN_TRY(put(b->root, "current-snapshot-id", no_current(b), err));
		}
	}
	json_t *cur = json_object_get(b->root, "current-snapshot-id");
	if (json_is_integer(cur) && json_integer_value(cur) != -1 && !snapshot(b, json_integer_value(cur)))
		FIRN_TRY(put(b->root, "current-snapshot-id", no_current(b), err));
	return 0;
}

/* ---- the rest ------------------------------------------------------- */

static int assign_uuid(struct build *b, const json_t *u, struct firn_error *err)
{
	const char *want = json_string_value(json_object_get(u, "uuid"));
	const char *have = json_string_value(json_object_get(b->root, "table-uuid"));
	if (have && strcmp(have, want) != 0)
		return firn_error_set(err, FIRN_EINVAL, "the table already has uuid %s", have);
	return put(b->root, "table-uuid", json_string(want), err);
}

static int upgrade_format_version(struct build *b, const json_t *u, struct firn_error *err)
{
	int64_t v = ival(u, "format-version");
	if (v < 1 || v > 3)
		return firn_error_set(err, FIRN_EINVAL, "format version %lld is not supported (1 to 3 are)",
				      (long long)v);
	bool fresh = b->creating && !b->fv_set && json_array_size(json_object_get(b->root, "snapshots")) == 0;
	if (v < b->fv && !fresh)
		return firn_error_set(err, FIRN_EINVAL, "cannot downgrade format version %d to %lld", b->fv,
				      (long long)v);
	b->fv_set = true;
	b->fv = (int)v;
	if (v >= 2 && !json_is_integer(json_object_get(b->root, "last-sequence-number")))
		FIRN_TRY(put(b->root, "last-sequence-number", json_integer(0), err));
	if (v >= 3 && !json_is_integer(json_object_get(b->root, "next-row-id")))
		FIRN_TRY(put(b->root, "next-row-id", json_integer(0), err));
	return put(b->root, "format-version", json_integer(v), err);
}

static int set_location(struct build *b, const json_t *u, struct firn_error *err)
{
	const char *loc = json_string_value(json_object_get(u, "location"));
	if (!*loc)
		return firn_error_set(err, FIRN_EINVAL, "location is empty");
	return put(b->root, "location", json_string(loc), err);
}

static int set_properties(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *props = object_of(b->root, "properties");
	if (!props)
		return nomem(err);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(u, "updates"), k, v) {
		if (json_object_get(b->props_removed, k))
			return firn_error_set(err, FIRN_EINVAL, "property %s is both set and removed", k);
		FIRN_TRY(firn_ice__prop_check(k, json_string_value(v), err));
		if (json_object_set(b->props_set, k, json_true()) != 0)
			return nomem(err);
		FIRN_TRY(put(props, k, json_string(json_string_value(v)), err));
	}
	return 0;
}

static int remove_properties(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *keys = json_object_get(u, "removals");
	for (size_t i = 0; i < json_array_size(keys); i++) {
		const char *k = json_string_value(json_array_get(keys, i));
		if (json_object_get(b->props_set, k))
			return firn_error_set(err, FIRN_EINVAL, "property %s is both set and removed", k);
		if (json_object_set(b->props_removed, k, json_true()) != 0)
			return nomem(err);
		json_object_del(json_object_get(b->root, "properties"), k);
	}
	return 0;
}

/* Replaces the element of root[key] with the same snapshot-id, or appends. */
static int put_stats(struct build *b, const char *key, const json_t *f, struct firn_error *err)
{
	json_t *arr = array_of(b->root, key);
	json_t *copy = json_deep_copy(f);
	if (!arr || !copy) {
		json_decref(copy);
		return nomem(err);
	}
	size_t i;
	if (find_by(arr, "snapshot-id", ival(f, "snapshot-id"), &i))
		return json_array_set_new(arr, i, copy) == 0 ? 0 : nomem(err);
	return json_array_append_new(arr, copy) == 0 ? 0 : nomem(err);
}

static int set_statistics(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *f = json_object_get(u, "statistics");
	json_t *old = json_object_get(u, "snapshot-id");
	if (json_is_integer(old) && json_integer_value(old) != ival(f, "snapshot-id"))
		return firn_error_set(err, FIRN_EINVAL, "snapshot-id %lld is not the statistics' %lld",
				      (long long)json_integer_value(old), (long long)ival(f, "snapshot-id"));
	return put_stats(b, "statistics", f, err);
}

static int remove_statistics(struct build *b, const json_t *u, struct firn_error *err)
{
	remove_by(json_object_get(b->root, "statistics"), "snapshot-id", ival(u, "snapshot-id"));
	return 0;
}

static int set_partition_statistics(struct build *b, const json_t *u, struct firn_error *err)
{
	return put_stats(b, "partition-statistics", json_object_get(u, "partition-statistics"), err);
}

static int remove_partition_statistics(struct build *b, const json_t *u, struct firn_error *err)
{
	remove_by(json_object_get(b->root, "partition-statistics"), "snapshot-id",
		  ival(u, "snapshot-id"));
	return 0;
}

static int remove_ids(struct build *b, const json_t *u, const char *ids_key, const char *arr_key,
		      const char *id_key, const char *current_key, const char *what,
		      struct firn_error *err)
{
	json_t *ids = json_object_get(u, ids_key);
	json_t *arr = json_object_get(b->root, arr_key);
	int64_t cur = ival(b->root, current_key);
	for (size_t i = 0; i < json_array_size(ids); i++)
		if (json_integer_value(json_array_get(ids, i)) == cur)
			return firn_error_set(err, FIRN_EINVAL, "cannot remove the %s %lld", what,
					      (long long)cur);
	for (size_t i = 0; i < json_array_size(ids); i++)
		remove_by(arr, id_key, json_integer_value(json_array_get(ids, i)));
	return 0;
}

static int remove_schemas(struct build *b, const json_t *u, struct firn_error *err)
{
	return remove_ids(b, u, "schema-ids", "schemas", "schema-id", "current-schema-id",
			  "current schema", err);
}

static int remove_specs(struct build *b, const json_t *u, struct firn_error *err)
{
	return remove_ids(b, u, "spec-ids", "partition-specs", "spec-id", "default-spec-id",
			  "default partition spec", err);
}

static int add_encryption_key(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *key = json_object_get(u, "encryption-key");
	json_t *arr = array_of(b->root, "encryption-keys");
	json_t *copy = json_deep_copy(key);
	if (!arr || !copy) {
		json_decref(copy);
		return nomem(err);
	}
	size_t i;
	if (find_str(arr, "key-id", json_string_value(json_object_get(key, "key-id")), &i))
		return json_array_set_new(arr, i, copy) == 0 ? 0 : nomem(err);
	return json_array_append_new(arr, copy) == 0 ? 0 : nomem(err);
}

static int remove_encryption_key(struct build *b, const json_t *u, struct firn_error *err)
{
	json_t *arr = json_object_get(b->root, "encryption-keys");
	size_t i;
	while (find_str(arr, "key-id", json_string_value(json_object_get(u, "key-id")), &i))
		json_array_remove(arr, i);
	return 0;
}

static const struct {
	const char *action;
	int (*apply)(struct build *b, const json_t *u, struct firn_error *err);
} APPLY[] = {
	{ "assign-uuid", assign_uuid },
	{ "upgrade-format-version", upgrade_format_version },
	{ "add-schema", add_schema },
	{ "set-current-schema", set_current_schema },
	{ "add-spec", add_spec },
	{ "set-default-spec", set_default_spec },
	{ "add-sort-order", add_sort_order },
	{ "set-default-sort-order", set_default_sort_order },
	{ "add-snapshot", add_snapshot },
	{ "set-snapshot-ref", set_ref },
	{ "remove-snapshots", remove_snapshots },
	{ "remove-snapshot-ref", remove_ref },
	{ "set-location", set_location },
	{ "set-properties", set_properties },
	{ "remove-properties", remove_properties },
	{ "set-statistics", set_statistics },
	{ "remove-statistics", remove_statistics },
	{ "set-partition-statistics", set_partition_statistics },
	{ "remove-partition-statistics", remove_partition_statistics },
	{ "remove-partition-specs", remove_specs },
	{ "remove-schemas", remove_schemas },
	{ "add-encryption-key", add_encryption_key },
	{ "remove-encryption-key", remove_encryption_key },
};

/* ---- start and finish ----------------------------------------------- */

/* A new table's tree, in the key order firn_table_create writes; nulls
 * are filled by the updates or the defaults of finish_create. */
static json_t *skeleton(void)
{
	json_t *unsorted = json_pack("{s:i,s:[]}", "order-id", 0, "fields");
	return json_pack("{s:i,s:n,s:n,s:i,s:i,s:i,s:i,s:[],s:i,s:[],s:i,s:i,s:[o],s:{},s:i,s:n,"
			 "s:{},s:[],s:[],s:[],s:[],s:[]}",
			 "format-version", 2, "table-uuid", "location", "last-sequence-number", 0,
			 "last-updated-ms", 0, "last-column-id", 0, "current-schema-id", 0, "schemas",
			 "default-spec-id", 0, "partition-specs", "last-partition-id", 999,
			 "default-sort-order-id", 0, "sort-orders", unsorted, "properties",
			 "current-snapshot-id", -1, "next-row-id", "refs", "snapshots", "statistics",
			 "partition-statistics", "snapshot-log", "metadata-log");
}

/* A v1 table's "schema" and "partition-spec" as the arrays a v2 writer
 * has, so that updates apply the same way to all versions. */
static int normalize_v1(struct build *b, struct firn_error *err)
{
	const struct firn_ice_meta *m = b->base;
	json_t *r = b->root;
	if (!json_is_array(json_object_get(r, "schemas")) || json_array_size(json_object_get(r, "schemas")) == 0) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < m->n_schemas; i++) {
			if (append_with(a, json_deep_copy(m->schemas[i].json), "schema-id",
					json_integer(m->schemas[i].schema_id), err) != 0) {
				json_decref(a);
				return FIRN_ENOMEM;
			}
		}
		FIRN_TRY(put(r, "schemas", a, err));
		FIRN_TRY(put(r, "current-schema-id", json_integer(m->current_schema_id), err));
	}
	if (!json_is_array(json_object_get(r, "partition-specs")) ||
	    json_array_size(json_object_get(r, "partition-specs")) == 0) {
		json_t *fields = json_array();
		const struct firn_ice_spec *sp = &m->specs[0];
		for (size_t i = 0; fields && i < sp->n_fields; i++) {
			const struct firn_ice_spec_field *f = &sp->fields[i];
			if (json_array_append_new(fields, json_pack("{s:s,s:s,s:i,s:i}", "name", f->name,
								    "transform", f->transform_text,
								    "source-id", (int)f->source_id,
								    "field-id", (int)f->field_id)) != 0) {
				json_decref(fields);
				return nomem(err);
			}
		}
		json_t *specs = fields ? json_pack("[{s:i,s:o}]", "spec-id", 0, "fields", fields) : NULL;
		FIRN_TRY(put(r, "partition-specs", specs, err));
		FIRN_TRY(put(r, "default-spec-id", json_integer(0), err));
		FIRN_TRY(put(r, "last-partition-id", json_integer(m->last_partition_id), err));
	}
	if (!json_is_array(json_object_get(r, "sort-orders"))) {
		FIRN_TRY(put(r, "sort-orders", json_pack("[{s:i,s:[]}]", "order-id", 0, "fields"), err));
		FIRN_TRY(put(r, "default-sort-order-id", json_integer(0), err));
	}
	return 0;
}

static int finish_create(struct build *b, struct firn_error *err)
{
	json_t *r = b->root;
	if (!json_is_string(json_object_get(r, "table-uuid"))) {
		uint8_t u[16];
		char us[37];
		firn_uuid_v4(u);
		firn_uuid_format(u, us);
		FIRN_TRY(put(r, "table-uuid", json_string(us), err));
	}
	if (!json_is_string(json_object_get(r, "location")))
		return firn_error_set(err, FIRN_EINVAL, "creating a table: no set-location");
	if (b->last_schema == NONE)
		return firn_error_set(err, FIRN_EINVAL, "creating a table: no add-schema");
	if (!b->schema_set)
		FIRN_TRY(put(r, "current-schema-id", json_integer(b->last_schema), err));
	json_t *specs = json_object_get(r, "partition-specs");
	if (json_array_size(specs) == 0 &&
	    json_array_append_new(specs, json_pack("{s:i,s:[]}", "spec-id", 0, "fields")) != 0)
		return nomem(err);
	if (!b->spec_set && b->last_spec != NONE)
		FIRN_TRY(put(r, "default-spec-id", json_integer(b->last_spec), err));
	if (!b->order_set && b->last_order != NONE)
		FIRN_TRY(put(r, "default-sort-order-id", json_integer(b->last_order), err));
	if (b->fv < 3)
		json_object_del(r, "next-row-id");
	else if (!json_is_integer(json_object_get(r, "next-row-id")))
		FIRN_TRY(put(r, "next-row-id", json_integer(0), err));
	if (!json_is_integer(json_object_get(r, "current-snapshot-id")) || ival(r, "current-snapshot-id") == -1)
		FIRN_TRY(put(r, "current-snapshot-id", no_current(b), err));
	return 0;
}

/* Java's snapshot log rules: entries of snapshots this build added to main
 * and then replaced go; after remove-snapshots, the log starts after the
 * last entry whose snapshot is gone. */
static void fix_snapshot_log(struct build *b)
{
	json_t *log = json_object_get(b->root, "snapshot-log");
	int64_t cur = ival(b->root, "current-snapshot-id");
	for (size_t i = json_array_size(log); i-- > 0;) {
		json_t *e = json_array_get(log, i);
		int64_t id = ival(e, "snapshot-id");
		bool ours = false;
		for (size_t k = 0; !ours && k < json_array_size(b->log_added); k++)
			ours = json_array_get(b->log_added, k) == e;
		if (ours && id != cur && is_added(b, id))
			json_array_remove(log, i);
	}
	if (!b->removed_snapshots)
		return;
	size_t cut = 0;
	for (size_t i = 0; i < json_array_size(log); i++)
		if (!snapshot(b, ival(json_array_get(log, i), "snapshot-id")))
			cut = i + 1;
	while (cut-- > 0)
		json_array_remove(log, 0);
}

/* v1 keeps "schema" and "partition-spec" beside the arrays, as Java's v1
 * writer does. */
static int sync_v1(struct build *b, struct firn_error *err)
{
	json_t *r = b->root;
	json_t *s = find_by(json_object_get(r, "schemas"), "schema-id", ival(r, "current-schema-id"), NULL);
	json_t *sp = find_by(json_object_get(r, "partition-specs"), "spec-id", ival(r, "default-spec-id"),
			     NULL);
	if (s)
		FIRN_TRY(put(r, "schema", json_deep_copy(s), err));
	if (sp)
		FIRN_TRY(put(r, "partition-spec", json_deep_copy(json_object_get(sp, "fields")), err));
	return 0;
}

/* last-updated-ms (after base's) and the metadata log, bounded by the
 * resulting write.metadata.previous-versions-max. */
static int stamp(struct build *b, const char *base_location, struct firn_error *err)
{
	int64_t prev = b->base ? b->base->last_updated_ms : 0;
	int64_t now = firn_ice__now_ms();
	if (now <= prev)
		now = prev + 1;
	FIRN_TRY(put(b->root, "last-updated-ms", json_integer(now), err));
	if (!b->base || !base_location)
		return 0;
	json_t *log = array_of(b->root, "metadata-log");
	json_t *e = json_pack("{s:I,s:s}", "timestamp-ms", (json_int_t)prev, "metadata-file",
			      base_location);
	if (!log || !e) {
		json_decref(e);
		return nomem(err);
	}
	if (json_array_append_new(log, e) != 0)
		return nomem(err);
	struct firn_ice_meta view = { .root = b->root };
	int64_t max = firn_ice__prop_int(&view, "write.metadata.previous-versions-max", 100);
	if (max < 1)
		max = 1;
	while ((int64_t)json_array_size(log) > max)
		json_array_remove(log, 0);
	return 0;
}

static int apply_all(struct build *b, const json_t *updates, struct firn_error *err)
{
	if (!json_is_array(updates))
		return firn_error_set(err, FIRN_EINVAL, "updates: not an array");
	for (size_t i = 0; i < json_array_size(updates); i++) {
		const json_t *u = json_array_get(updates, i);
		const char *action;
		int rc = firn_ice__update_form(u, &action, err);
		for (size_t k = 0; rc == 0 && k < sizeof(APPLY) / sizeof(APPLY[0]); k++)
			if (strcmp(APPLY[k].action, action) == 0)
				rc = APPLY[k].apply(b, u, err);
		if (rc != 0) {
			if (action)
				firn_error_prefix(err, "update %zu (%s)", i, action);
			else
				firn_error_prefix(err, "update %zu", i);
			return rc;
		}
	}
	return 0;
}

int firn_ice__meta_build(const struct firn_ice_meta *base, const char *base_location,
			 const json_t *updates, struct firn_ice_meta **out,
			 struct firn_error *err)
{
	*out = NULL;
	struct build b = { .base = base, .creating = !base, .last_schema = NONE, .last_spec = NONE,
			   .last_order = NONE };
	/* a clone shares the history (snapshots, log entries: never edited in
	 * place, ice_meta.h) and its parsed views with base */
	struct firn_ice_meta *work = NULL;
	if (base && firn_ice__meta_clone(base, &work, NULL) == 0)
		b.root = work->root;
	else if (!base)
		b.root = skeleton();
	b.fv = base ? base->format_version : 2;
	b.props_set = json_object();
	b.props_removed = json_object();
	b.log_added = json_array();
	int rc = b.root && b.props_set && b.props_removed && b.log_added ? 0 : nomem(err);
	if (rc == 0 && base)
		rc = normalize_v1(&b, err);
	if (rc == 0)
		rc = apply_all(&b, updates, err);
	if (rc == 0 && b.creating)
		rc = finish_create(&b, err);
	if (rc == 0) {
		fix_snapshot_log(&b);
		if (b.fv == 1)
			rc = sync_v1(&b, err);
	}
	if (rc == 0)
		rc = stamp(&b, base_location, err);
	json_decref(b.props_set);
	json_decref(b.props_removed);
	json_decref(b.log_added);
	firn_free(b.added);
	if (rc != 0) {
		if (work)
			firn_ice__meta_free(work);
		else
			json_decref(b.root);
		return rc;
	}
	if (work) {
		rc = firn_ice__meta_reparse(work, err);
		if (rc == 0)
			*out = work;
		else
			firn_ice__meta_free(work);
	} else {
		rc = firn_ice__meta_from_json(b.root, NULL, out, err);
	}
	if (rc != 0 && rc != FIRN_ENOMEM) {
		/* the updates made metadata that does not hold together */
		firn_error_prefix(err, "updates");
		if (err)
			err->code = FIRN_EINVAL;
		rc = FIRN_EINVAL;
	}
	return rc;
}
