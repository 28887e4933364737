/* firn import delta: the Delta log (_delta_log/: _last_checkpoint, the
 * checkpoint Parquet files, the JSON commits after them) replayed into an
 * import plan (firn/import.h), one plan version per Delta version.
 *
 * Checkpoint rows are turned into the JSON actions the commits hold, so
 * one replay reads both. Field ids are given by column path, in the order
 * the columns first appear (an incremental import starts from the
 * table's own ids), so a column keeps its id across versions. What
 * Iceberg cannot carry faithfully is refused by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firn/import.h"
#include "firn/parquet.h"
#include "iceberg/ice_table.h"
#include "io/io_local.h"

#define LOG_DIR "_delta_log"

/* ---- Arrow rows of a checkpoint as JSON actions -------------------------- */

static bool valid(const struct ArrowArray *a, int64_t i)
{
	return a->null_count == 0 || !a->buffers[0] || firn_bit_get(a->buffers[0], a->offset + i);
}

static json_t *cell_json(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i);

static json_t *string_cell(const struct ArrowArray *a, int64_t i)
{
	const int32_t *off = a->buffers[1];
	const char *data = a->buffers[2];
	int64_t k = a->offset + i;
	return json_stringn(data + off[k], (size_t)(off[k + 1] - off[k]));
}

static json_t *cell_json(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i)
{
	if (!valid(a, i))
		return json_null();
	struct firn_type t;
	if (firn_type_of(s, &t, NULL) != 0)
		return json_null();
	int64_t k = a->offset + i;
	switch (t.id) {
	case FIRN_A_BOOL:
		return json_boolean(firn_bit_get(a->buffers[1], k));
	case FIRN_A_INT32:
		return json_integer(((const int32_t *)a->buffers[1])[k]);
	case FIRN_A_INT64:
	case FIRN_A_TIMESTAMP:
		return json_integer(((const int64_t *)a->buffers[1])[k]);
	case FIRN_A_STRING:
		return string_cell(a, i);
	case FIRN_A_STRUCT: {
		json_t *o = json_object();
		for (int64_t c = 0; o && c < s->n_children; c++)
			json_object_set_new(o, s->children[c]->name, cell_json(s->children[c], a->children[c], k));
		return o;
	}
	case FIRN_A_LIST: {
		const int32_t *off = a->buffers[1];
		json_t *l = json_array();
		for (int32_t e = off[k]; l && e < off[k + 1]; e++)
			json_array_append_new(l, cell_json(s->children[0], a->children[0], e));
		return l;
	}
	case FIRN_A_MAP: { /* string keys: an object */
		const int32_t *off = a->buffers[1];
		const struct ArrowArray *en = a->children[0];
		const struct ArrowSchema *es = s->children[0];
		json_t *o = json_object();
		for (int32_t e = off[k]; o && e < off[k + 1]; e++) {
			json_t *key = cell_json(es->children[0], en->children[0], en->offset + e);
			if (json_is_string(key))
				json_object_set_new(o, json_string_value(key),
						    cell_json(es->children[1], en->children[1], en->offset + e));
			json_decref(key);
		}
		return o;
	}
	default:
		return json_null();
	}
}

/* ---- the replay ---------------------------------------------------------- */

struct dfile {
	char *path; /* absolute */
	int64_t size, records;
	const char **partition; /* one per partition column */
};

/* The ids given so far: column path → id. */
struct ids {
	char **paths;
	int32_t *ids;
	size_t n, cap;
	int32_t last;
};

struct replay {
	const char *location; /* the table's root, no trailing '/' */
	struct firn_arena arena;
	struct ids ids;
	/* the state */
	json_t *protocol, *metadata;
	char **part_cols;
	size_t n_part;
	char *schema_text;  /* the last schema given (Iceberg JSON) */
	struct dfile *live; /* by path: a small hash */
	size_t n_live, cap_live;
	uint32_t *slots;
	size_t n_slots;
	/* the plan being built */
	struct firn_import_version *versions;
	size_t n_versions, cap_versions;
	char *spec_text;
	/* the version being read */
	struct firn_import_file *adds;
	size_t n_adds, cap_adds;
	const char **removes;
	size_t *removed_at; /* each removed file's index in live */
	size_t n_removes, cap_removes;
	int64_t ts;
	int64_t max_mtime; /* the newest add's modificationTime: the time of a checkpoint's state */
	bool schema_changed;
	int64_t version;
	const char *what; /* the log file being read, for messages */
};

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = firn_realloc(*v, nc * size);
	if (!p)
		return FIRN_ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

/* The slot of path: its file, or the empty slot where it would go. */
static uint32_t *live_slot(struct replay *r, const char *path)
{
	for (size_t i = hash_str(path) & (r->n_slots - 1);; i = (i + 1) & (r->n_slots - 1)) {
		uint32_t s = r->slots[i];
		if (!s || (r->live[s - 1].path && strcmp(r->live[s - 1].path, path) == 0))
			return &r->slots[i];
	}
}

static struct dfile *live_get(struct replay *r, const char *path)
{
	if (!r->n_slots)
		return NULL;
	uint32_t s = *live_slot(r, path);
	return s && r->live[s - 1].path ? &r->live[s - 1] : NULL;
}

static int live_rehash(struct replay *r)
{
	size_t ns = r->n_slots ? r->n_slots * 2 : 1024;
	uint32_t *old = r->slots;
	r->slots = firn_calloc(ns, sizeof(uint32_t));
	if (!r->slots) {
		r->slots = old;
		return FIRN_ENOMEM;
	}
	r->n_slots = ns;
	firn_free(old);
	for (size_t k = 0; k < r->n_live; k++)
		if (r->live[k].path)
			*live_slot(r, r->live[k].path) = (uint32_t)(k + 1);
	return 0;
}

/* Live files are never taken out of the array: a removed one loses its
 * path (its slot stays, as a tombstone that matches nothing). */
static int live_put(struct replay *r, const struct dfile *f)
{
	if ((r->n_live + 1) * 2 > r->n_slots && live_rehash(r) != 0)
		return FIRN_ENOMEM;
	if (grow((void **)&r->live, &r->cap_live, r->n_live, sizeof(*r->live)) != 0)
		return FIRN_ENOMEM;
	r->live[r->n_live] = *f;
	*live_slot(r, f->path) = (uint32_t)(++r->n_live);
	return 0;
}

/* ---- schemas: Delta's JSON → Iceberg's, ids by path ------------------------ */

static int32_t id_of(struct replay *r, const char *path)
{
	for (size_t i = 0; i < r->ids.n; i++)
		if (strcmp(r->ids.paths[i], path) == 0)
			return r->ids.ids[i];
	if (grow((void **)&r->ids.paths, &r->ids.cap, r->ids.n, sizeof(char *)) != 0)
		return -1;
	size_t cap = r->ids.cap;
	int32_t *v = firn_realloc(r->ids.ids, cap * sizeof(int32_t));
	char *p = firn_arena_strdup(&r->arena, path);
	if (!v || !p) {
		if (v)
			r->ids.ids = v;
		return -1;
	}
	r->ids.ids = v;
	r->ids.paths[r->ids.n] = p;
	r->ids.ids[r->ids.n++] = ++r->ids.last;
	return r->ids.last;
}

static int unsupported(struct replay *r, struct firn_error *err, const char *fmt, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, what);
	return firn_error_set(err, FIRN_EUNSUPPORTED, "delta table %s: %s: firn cannot import it faithfully",
			      r->location, msg);
}

static int convert_type(struct replay *r, const json_t *t, const char *path, json_t **out,
			struct firn_error *err);

static int convert_field_meta(struct replay *r, const json_t *meta, const char *name,
			      struct firn_error *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)meta, k, v) {
		if (strcmp(k, "delta.generationExpression") == 0)
			return unsupported(r, err, "generated column %s", name);
		if (strcmp(k, "delta.typeChanges") == 0)
			return unsupported(r, err, "type widening (column %s)", name);
	}
	return 0;
}

static int convert_struct(struct replay *r, const json_t *t, const char *prefix, json_t **out,
			  struct firn_error *err)
{
	const json_t *fields = json_object_get(t, "fields");
	if (!json_is_array(fields))
		return firn_error_set(err, FIRN_ECORRUPT, "%s: a struct without fields in schemaString", r->what);
	json_t *o = json_pack("{s:s, s:[]}", "type", "struct", "fields");
	if (!o)
		return nomem(err);
	size_t i;
	const json_t *f;
	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		if (!name) {
			json_decref(o);
			return firn_error_set(err, FIRN_ECORRUPT, "%s: a field without a name in schemaString",
					      r->what);
		}
		struct firn_buf p = { 0 };
		int rc = (prefix ? firn_buf_printf(&p, "%s.%s", prefix, name) : firn_buf_puts(&p, name)) == 0 &&
				 firn_buf_cstr(&p) == 0 ? 0 : nomem(err);
		const char *path = (const char *)p.data;
		if (rc == 0)
			rc = convert_field_meta(r, json_object_get(f, "metadata"), path, err);
		json_t *ty = NULL;
		if (rc == 0)
			rc = convert_type(r, json_object_get(f, "type"), path, &ty, err);
		int32_t id = rc == 0 ? id_of(r, path) : -1;
		if (rc == 0 && id < 0)
			rc = nomem(err);
		if (rc == 0) {
			json_t *nf = json_pack("{s:i, s:s, s:b, s:o}", "id", (int)id, "name", name, "required",
					       !json_is_true(json_object_get(f, "nullable")), "type", ty);
			ty = NULL;
			if (!nf || json_array_append_new(json_object_get(o, "fields"), nf) != 0)
				rc = nomem(err);
		}
		json_decref(ty);
		firn_buf_free(&p);
		if (rc != 0) {
			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return 0;
}

static int sub_path(const char *path, const char *part, struct firn_buf *b, struct firn_error *err)
{
	return firn_buf_printf(b, "%s.%s", path, part) == 0 && firn_buf_cstr(b) == 0 ? 0 : nomem(err);
}

static int convert_type(struct replay *r, const json_t *t, const char *path, json_t **out,
			struct firn_error *err)
{
	*out = NULL;
	if (json_is_string(t)) {
		const char *s = json_string_value(t);
		static const char *const same[][2] = {
			{ "long", "long" }, { "integer", "int" }, { "short", "int" }, { "byte", "int" },
			{ "float", "float" }, { "double", "double" }, { "boolean", "boolean" },
			{ "string", "string" }, { "binary", "binary" }, { "date", "date" },
			{ "timestamp", "timestamptz" }, { "timestamp_ntz", "timestamp" },
		};
		for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
			if (strcmp(s, same[i][0]) == 0)
				return (*out = json_string(same[i][1])) ? 0 : nomem(err);
		int p, sc;
		if (sscanf(s, "decimal(%d,%d)", &p, &sc) == 2 || sscanf(s, "decimal(%d, %d)", &p, &sc) == 2) {
			if (p < 1 || p > 38 || sc < 0 || sc > p)
				return unsupported(r, err, "type %s", s);
			char buf[32];
			snprintf(buf, sizeof(buf), "decimal(%d, %d)", p, sc);
			return (*out = json_string(buf)) ? 0 : nomem(err);
		}
		char what[128];
		snprintf(what, sizeof(what), "%s (column %s)", s, path);
		return unsupported(r, err, "type %s", what);
	}
	const char *kind = json_string_value(json_object_get(t, "type"));
	if (!kind)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: column %s has no type in schemaString", r->what,
				      path);
	if (strcmp(kind, "struct") == 0)
		return convert_struct(r, t, path, out, err);
	struct firn_buf a = { 0 }, b = { 0 };
	json_t *x = NULL, *y = NULL;
	int rc = 0;
	if (strcmp(kind, "array") == 0) {
		rc = sub_path(path, "element", &a, err);
		if (rc == 0)
			rc = convert_type(r, json_object_get(t, "elementType"), (const char *)a.data, &x, err);
		int32_t id = rc == 0 ? id_of(r, (const char *)a.data) : -1;
		if (rc == 0 && !(*out = json_pack("{s:s, s:i, s:o, s:b}", "type", "list", "element-id", (int)id,
						  "element", x, "element-required",
						  !json_is_true(json_object_get(t, "containsNull")))))
			rc = nomem(err);
		x = NULL;
	} else if (strcmp(kind, "map") == 0) {
		rc = sub_path(path, "key", &a, err);
		if (rc == 0)
			rc = sub_path(path, "value", &b, err);
		if (rc == 0)
			rc = convert_type(r, json_object_get(t, "keyType"), (const char *)a.data, &x, err);
		if (rc == 0)
			rc = convert_type(r, json_object_get(t, "valueType"), (const char *)b.data, &y, err);
		int32_t kid = rc == 0 ? id_of(r, (const char *)a.data) : -1;
		int32_t vid = rc == 0 ? id_of(r, (const char *)b.data) : -1;
		if (rc == 0 && !(*out = json_pack("{s:s, s:i, s:o, s:i, s:o, s:b}", "type", "map", "key-id",
						  (int)kid, "key", x, "value-id", (int)vid, "value", y,
						  "value-required",
						  !json_is_true(json_object_get(t, "valueContainsNull")))))
			rc = nomem(err);
		x = y = NULL;
	} else {
		char what[128];
		snprintf(what, sizeof(what), "%s (column %s)", kind, path);
		rc = unsupported(r, err, "type %s", what);
	}
	json_decref(x);
	json_decref(y);
	firn_buf_free(&a);
	firn_buf_free(&b);
	return rc;
}

/* ---- actions ---------------------------------------------------------------- */

static int check_protocol(struct replay *r, const json_t *p, struct firn_error *err)
{
	json_int_t rv = json_integer_value(json_object_get(p, "minReaderVersion"));
	if (rv > 3) {
		char v[24];
		snprintf(v, sizeof(v), "%lld", (long long)rv);
		return unsupported(r, err, "reader version %s", v);
	}
	/* the features a reader may meet; what they allow is checked where it
	 * shows (a column mapping mode, a deletion vector, a variant column) */
	static const char *const known[] = { "columnMapping", "deletionVectors", "timestampNtz",
					      "vacuumProtocolCheck", "v2Checkpoint", "typeWidening",
					      "typeWidening-preview", "variantType", "variantType-preview" };
	size_t i;
	const json_t *f;
	json_array_foreach(json_object_get(p, "readerFeatures"), i, f) {
		const char *name = json_string_value(f);
		bool ok = false;
		for (size_t k = 0; name && k < sizeof(known) / sizeof(known[0]); k++)
			ok |= strcmp(name, known[k]) == 0;
		if (!ok)
			return unsupported(r, err, "reader feature %s", name ? name : "?");
		if (strcmp(name, "typeWidening") == 0 || strcmp(name, "typeWidening-preview") == 0)
			return unsupported(r, err, "reader feature %s (type widening)", name);
		if (strcmp(name, "v2Checkpoint") == 0)
			return unsupported(r, err, "reader feature %s (V2 checkpoints)", name);
	}
	return 0;
}

static int set_partition_columns(struct replay *r, const json_t *cols, struct firn_error *err)
{
	size_t n = json_array_size(cols);
	if (r->metadata) { /* Delta keeps them for the table's life, but check */
		bool same = n == r->n_part;
		for (size_t i = 0; same && i < n; i++)
			same = json_is_string(json_array_get(cols, i)) &&
			       strcmp(json_string_value(json_array_get(cols, i)), r->part_cols[i]) == 0;
		if (!same)
			return unsupported(r, err, "%s changes the partition columns", r->what);
		return 0;
	}
	r->part_cols = firn_arena_alloc(&r->arena, (n + 1) * sizeof(char *));
	if (!r->part_cols)
		return nomem(err);
	for (size_t i = 0; i < n; i++) {
		const char *c = json_string_value(json_array_get(cols, i));
		if (!c)
			return firn_error_set(err, FIRN_ECORRUPT, "%s: partitionColumns holds a non-string", r->what);
		if (!(r->part_cols[i] = firn_arena_strdup(&r->arena, c)))
			return nomem(err);
	}
	r->n_part = n;
	return 0;
}

/* The spec: identity of each partition column, over the first schema. */
static int make_spec(struct replay *r, const json_t *schema, struct firn_error *err)
{
	json_t *spec = json_pack("{s:i, s:[]}", "spec-id", 0, "fields");
	if (!spec)
		return nomem(err);
	for (size_t i = 0; i < r->n_part; i++) {
		const json_t *f = NULL;
		size_t k;
		const json_t *x;
		json_array_foreach(json_object_get(schema, "fields"), k, x)
			if (strcmp(json_string_value(json_object_get(x, "name")), r->part_cols[i]) == 0)
				f = x;
		if (!f) {
			json_decref(spec);
			return firn_error_set(err, FIRN_ECORRUPT, "%s: partition column %s is not in the schema",
					      r->what, r->part_cols[i]);
		}
		json_array_append_new(json_object_get(spec, "fields"),
				      json_pack("{s:s, s:s, s:O, s:i}", "name", r->part_cols[i], "transform",
						"identity", "source-id", json_object_get(f, "id"), "field-id",
						(int)(1000 + i)));
	}
	char *t = json_dumps(spec, JSON_COMPACT);
	json_decref(spec);
	if (!t)
		return nomem(err);
	r->spec_text = firn_arena_strdup(&r->arena, t);
	free(t);
	return r->spec_text ? 0 : nomem(err);
}

static int on_metadata(struct replay *r, const json_t *md, struct firn_error *err)
{
	const json_t *conf = json_object_get(md, "configuration");
	const char *mode = json_string_value(json_object_get(conf, "delta.columnMapping.mode"));
	if (mode && strcmp(mode, "none") != 0)
		return unsupported(r, err, "column mapping mode %s", mode);
	const char *fmt = json_string_value(json_object_get(json_object_get(md, "format"), "provider"));
	if (fmt && strcmp(fmt, "parquet") != 0)
		return unsupported(r, err, "data file format %s", fmt);
	const char *ss = json_string_value(json_object_get(md, "schemaString"));
	json_t *ds = ss ? json_loads(ss, 0, NULL) : NULL;
	if (!json_is_object(ds)) {
		json_decref(ds);
		return firn_error_set(err, FIRN_ECORRUPT, "%s: metaData has no valid schemaString", r->what);
	}
	bool first = !r->metadata;
	int rc = set_partition_columns(r, json_object_get(md, "partitionColumns"), err);
	json_t *is = NULL;
	if (rc == 0)
		rc = convert_struct(r, ds, NULL, &is, err);
	json_decref(ds);
	if (rc == 0 && first)
		rc = make_spec(r, is, err);
	char *text = rc == 0 ? json_dumps(is, JSON_COMPACT) : NULL;
	json_decref(is);
	if (rc == 0 && !text)
		rc = nomem(err);
	if (rc == 0 && (!r->schema_text || strcmp(text, r->schema_text) != 0)) {
		if (!(r->schema_text = firn_arena_strdup(&r->arena, text)))
			rc = nomem(err);
		r->schema_changed = true;
	}
	free(text);
	if (rc == 0) {
		json_decref(r->metadata);
		r->metadata = json_deep_copy(md);
	}
	return rc;
}

/* A Delta path (relative to the root and URL-encoded, or an absolute URI)
 * as a location firn's IO takes. */
static char *file_location(struct replay *r, const char *path)
{
	struct firn_buf b = { 0 };
	bool absolute = strstr(path, "://") != NULL || strncmp(path, "file:", 5) == 0;
	const char *p = path;
	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	else if (strncmp(p, "file:", 5) == 0)
		p += 5;
	int rc = absolute ? 0 : firn_buf_printf(&b, "%s/", r->location);
	for (; rc == 0 && *p; p++) {
		int hi, lo;
		if (*p == '%' && p[1] && p[2] && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
			rc = firn_buf_putc(&b, (uint8_t)(hi * 16 + lo));
			p += 2;
		} else {
			rc = firn_buf_putc(&b, (uint8_t)*p);
		}
	}
	if (rc == 0)
		rc = firn_buf_cstr(&b);
	char *s = rc == 0 ? firn_arena_strdup(&r->arena, (const char *)b.data) : NULL;
	firn_buf_free(&b);
	return s;
}

/* A partition value as Iceberg's partition paths print it (NULL: null;
 * Delta's empty string is null for every type). */
static int partition_value(struct replay *r, const char *col, const char *v, const char **out,
			   struct firn_error *err)
{
	*out = NULL;
	if (!v || !*v)
		return 0;
	const char *type = NULL;
	size_t i;
	const json_t *f;
	json_t *s = json_loads(r->schema_text, 0, NULL);
	json_array_foreach(json_object_get(s, "fields"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "name")), col) == 0)
			type = json_string_value(json_object_get(f, "type"));
	struct firn_buf b = { 0 };
	int rc = 0;
	if (type && (strcmp(type, "timestamptz") == 0 || strcmp(type, "timestamp") == 0)) {
		/* "2021-03-01 10:00:00[.ffffff]" or ISO-8601 */
		for (const char *p = v; rc == 0 && *p; p++)
			rc = firn_buf_putc(&b, *p == ' ' ? 'T' : (uint8_t)*p);
	} else if (type && strcmp(type, "binary") == 0) {
		for (const char *p = v; rc == 0 && *p; p++)
			rc = firn_buf_printf(&b, "%02x", (uint8_t)*p);
	} else {
		rc = firn_buf_puts(&b, v);
	}
	json_decref(s);
	if (rc == 0)
		rc = firn_buf_cstr(&b);
	if (rc == 0 && !(*out = firn_arena_strdup(&r->arena, (const char *)b.data)))
		rc = FIRN_ENOMEM;
	firn_buf_free(&b);
	return rc ? nomem(err) : 0;
}

static int on_add(struct replay *r, const json_t *a, struct firn_error *err)
{
	const char *path = json_string_value(json_object_get(a, "path"));
	if (!path)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: an add action without a path", r->what);
	const json_t *dv = json_object_get(a, "deletionVector");
	if (dv && !json_is_null(dv))
		return unsupported(r, err, "deletion vectors (%s has one)", path);
	struct dfile f = { 0 };
	if (!(f.path = file_location(r, path)))
		return nomem(err);
	if (live_get(r, f.path))
		return 0; /* the same file again (new stats, dataChange false): nothing changes */
	for (size_t i = 0; i < r->n_removes; i++)
		if (strcmp(r->removes[i], f.path) == 0) { /* removed and added back: it stays */
			struct dfile *back = &r->live[r->removed_at[i]];
			back->path = (char *)r->removes[i];
			*live_slot(r, back->path) = (uint32_t)(r->removed_at[i] + 1);
			r->removes[i] = r->removes[--r->n_removes];
			r->removed_at[i] = r->removed_at[r->n_removes];
			return 0;
		}
	const json_t *mt = json_object_get(a, "modificationTime");
	if (json_is_integer(mt) && json_integer_value(mt) > r->max_mtime)
		r->max_mtime = json_integer_value(mt);
	const json_t *size = json_object_get(a, "size");
	f.size = json_is_integer(size) ? json_integer_value(size) : -1;
	f.records = -1;
	const char *stats = json_string_value(json_object_get(a, "stats"));
	json_t *sj = stats ? json_loads(stats, 0, NULL) : NULL;
	const json_t *nr = json_object_get(sj, "numRecords");
	if (json_is_integer(nr))
		f.records = json_integer_value(nr);
	json_decref(sj);
	if (r->n_part && !(f.partition = firn_arena_alloc(&r->arena, r->n_part * sizeof(char *))))
		return nomem(err);
	const json_t *pv = json_object_get(a, "partitionValues");
	for (size_t i = 0; i < r->n_part; i++) {
		const json_t *v = json_object_get(pv, r->part_cols[i]);
		if (v && !json_is_null(v) && !json_is_string(v))
			return firn_error_set(err, FIRN_ECORRUPT, "%s: %s: partition value of %s is not a string",
					      r->what, path, r->part_cols[i]);
		FIRN_TRY(partition_value(r, r->part_cols[i], json_string_value(v), &f.partition[i], err));
	}
	FIRN_TRY(live_put(r, &f) == 0 ? 0 : nomem(err));
	if (grow((void **)&r->adds, &r->cap_adds, r->n_adds, sizeof(*r->adds)) != 0)
		return nomem(err);
	r->adds[r->n_adds++] = (struct firn_import_file){ f.path, f.size, f.records,
							  (const char *const *)f.partition };
	return 0;
}

static int on_remove(struct replay *r, const json_t *a, struct firn_error *err)
{
	const char *path = json_string_value(json_object_get(a, "path"));
	if (!path)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: a remove action without a path", r->what);
	char *loc = file_location(r, path);
	if (!loc)
		return nomem(err);
	struct dfile *f = live_get(r, loc);
	if (!f)
		return 0; /* not live: nothing to remove (Delta allows it) */
	/* added by this very version: it never shows */
	for (size_t i = 0; i < r->n_adds; i++)
		if (strcmp(r->adds[i].location, loc) == 0) {
			r->adds[i] = r->adds[--r->n_adds];
			f->path = NULL;
			return 0;
		}
	size_t cap = r->cap_removes;
	if (grow((void **)&r->removes, &r->cap_removes, r->n_removes, sizeof(char *)) != 0)
		return nomem(err);
	if (r->cap_removes != cap) {
		size_t *v = firn_realloc(r->removed_at, r->cap_removes * sizeof(size_t));
		if (!v)
			return nomem(err);
		r->removed_at = v;
	}
	r->removed_at[r->n_removes] = (size_t)(f - r->live);
	r->removes[r->n_removes++] = f->path;
	f->path = NULL;
	return 0;
}

/* One action; pass 0 takes the table's state (protocol, metaData,
 * commitInfo), pass 1 removes, pass 2 adds: a version's files are read
 * against its own schema, whatever the order of its lines. */
static int on_action(struct replay *r, const json_t *act, int pass, struct firn_error *err)
{
	const json_t *v;
	if (pass == 1)
		return (v = json_object_get(act, "remove")) && json_is_object(v) ? on_remove(r, v, err) : 0;
	if (pass == 2)
		return (v = json_object_get(act, "add")) && json_is_object(v) ? on_add(r, v, err) : 0;
	if ((v = json_object_get(act, "protocol")) && json_is_object(v)) {
		FIRN_TRY(check_protocol(r, v, err));
		json_decref(r->protocol);
		r->protocol = json_deep_copy(v);
	}
	if ((v = json_object_get(act, "metaData")) && json_is_object(v))
		FIRN_TRY(on_metadata(r, v, err));
	if ((v = json_object_get(act, "commitInfo")) && json_is_object(v)) {
		const json_t *ts = json_object_get(v, "inCommitTimestamp");
		if (!json_is_integer(ts))
			ts = json_object_get(v, "timestamp");
		if (json_is_integer(ts))
			r->ts = json_integer_value(ts);
	}
	return 0; /* txn, domainMetadata, cdc, checkpointMetadata, sidecar: nothing to carry */
}

/* The version read becomes a plan version. */
static int end_version(struct replay *r, struct firn_error *err)
{
	if (!r->metadata || !r->protocol)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: version %lld has no %s", r->what,
				      (long long)r->version, r->metadata ? "protocol" : "metaData");
	if (grow((void **)&r->versions, &r->cap_versions, r->n_versions, sizeof(*r->versions)) != 0)
		return nomem(err);
	struct firn_import_version *v = &r->versions[r->n_versions];
	memset(v, 0, sizeof(*v));
	v->id = r->version;
	v->timestamp_ms = r->ts ? r->ts : r->max_mtime; /* no commitInfo (a checkpoint): its files' time */
	v->schema = r->schema_changed ? r->schema_text : NULL;
	size_t na = r->n_adds, nr = r->n_removes;
	struct firn_import_file *adds = firn_arena_alloc(&r->arena, (na + 1) * sizeof(*adds));
	const char **rms = firn_arena_alloc(&r->arena, (nr + 1) * sizeof(char *));
	char tag[48];
	snprintf(tag, sizeof(tag), "delta-version-%lld", (long long)r->version);
	v->tag = firn_arena_strdup(&r->arena, tag);
	if (!adds || !rms || !v->tag)
		return nomem(err);
	if (na)
		memcpy(adds, r->adds, na * sizeof(*adds));
	if (nr)
		memcpy(rms, r->removes, nr * sizeof(char *));
	v->added = adds;
	v->n_added = na;
	v->removed = rms;
	v->n_removed = nr;
	r->n_versions++;
	r->n_adds = r->n_removes = 0;
	r->schema_changed = false;
	r->ts = r->max_mtime = 0;
	return 0;
}

/* ---- the log's files ------------------------------------------------------- */

struct log_files {
	int64_t *commits; /* versions with a JSON commit, sorted */
	size_t n_commits, cap_commits;
	struct { int64_t version; int parts; } *cps; /* checkpoints (single or multi-part, complete or not) */
	size_t n_cps, cap_cps;
	bool failed;
};

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

static int on_log_file(void *arg, const struct firn_io_entry *e)
{
	struct log_files *lf = arg;
	const char *name = strrchr(e->location, '/');
	name = name ? name + 1 : e->location;
	size_t n = strlen(name);
	if (n < 21 || !all_digits(name, 20))
		return 0;
	int64_t v = strtoll(name, NULL, 10);
	const char *rest = name + 20;
	if (strcmp(rest, ".json") == 0) {
		if (grow((void **)&lf->commits, &lf->cap_commits, lf->n_commits, sizeof(int64_t)) != 0)
			return FIRN_ENOMEM;
		lf->commits[lf->n_commits++] = v;
	} else if (strncmp(rest, ".checkpoint.", 12) == 0) {
		int part = 0, parts = 1;
		if (strcmp(rest, ".checkpoint.parquet") != 0 &&
		    sscanf(rest, ".checkpoint.%d.%d.parquet", &part, &parts) != 2)
			return 0; /* a V2 checkpoint (UUID-named): refused through its reader feature */
		if (grow((void **)&lf->cps, &lf->cap_cps, lf->n_cps, sizeof(*lf->cps)) != 0)
			return FIRN_ENOMEM;
		lf->cps[lf->n_cps].version = v;
		lf->cps[lf->n_cps++].parts = parts;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Whether every part of the checkpoint at version v was listed. */
static bool checkpoint_complete(const struct log_files *lf, int64_t v, int *parts)
{
	int want = 0, have = 0;
	for (size_t i = 0; i < lf->n_cps; i++)
		if (lf->cps[i].version == v) {
			want = lf->cps[i].parts;
			have++;
		}
	*parts = want;
	return want > 0 && have == want;
}

static char *log_path(struct replay *r, int64_t v, const char *suffix)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "/" LOG_DIR "/%020lld%s", (long long)v, suffix);
	size_t n = strlen(r->location) + strlen(buf) + 1;
	char *p = firn_arena_alloc(&r->arena, n);
	if (p)
		snprintf(p, n, "%s%s", r->location, buf);
	return p;
}

static int read_commit(struct replay *r, int64_t v, struct firn_error *err)
{
	char *path = log_path(r, v, ".json");
	if (!path)
		return nomem(err);
	uint8_t *data = NULL;
	size_t n = 0;
	int rc = firn_io_read_all(path, &data, &n, err);
	if (rc != 0)
		return rc;
	r->what = path;
	r->version = v;
	json_t *acts = json_array();
	if (!acts)
		rc = nomem(err);
	size_t line = 0;
	for (size_t i = 0; rc == 0 && i < n;) {
		size_t j = i;
		while (j < n && data[j] != '\n')
			j++;
		line++;
		size_t k = i;
		while (k < j && (data[k] == ' ' || data[k] == '\r' || data[k] == '\t'))
			k++;
		if (k < j) {
			json_error_t je;
			json_t *act = json_loadb((const char *)data + i, j - i, 0, &je);
			if (!json_is_object(act))
				rc = firn_error_set(err, FIRN_ECORRUPT, "%s: line %zu: not a JSON action (%s)", path,
						    line, act ? "not an object" : je.text);
			if (act && json_array_append_new(acts, act) != 0 && rc == 0)
				rc = nomem(err);
		}
		i = j + 1;
	}
	firn_free(data);
	for (int pass = 0; rc == 0 && pass < 3; pass++) {
		size_t i;
		json_t *act;
		json_array_foreach(acts, i, act)
			if (rc == 0)
				rc = on_action(r, act, pass, err);
	}
	json_decref(acts);
	return rc == 0 ? end_version(r, err) : rc;
}

static int read_checkpoint_part(struct replay *r, const char *path, int pass, struct firn_error *err)
{
	struct firn_parquet_reader *pr = NULL;
	int rc = firn_parquet_reader_open(&pr, path, err);
	static const char *const cols[] = { "protocol", "metaData", "add" };
	struct ArrowSchema fs = { 0 };
	if (rc == 0)
		rc = firn_parquet_reader_schema(pr, &fs, err);
	const char *have[3];
	int n_have = 0;
	for (int c = 0; rc == 0 && c < 3; c++)
		for (int64_t k = 0; k < fs.n_children; k++)
			if (strcmp(fs.children[k]->name, cols[c]) == 0)
				have[n_have++] = cols[c];
	if (fs.release)
		fs.release(&fs);
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_names = n_have;
	o.names = have;
	struct ArrowArrayStream st = { 0 };
	if (rc == 0)
		rc = firn_parquet_reader_stream(pr, &o, &st, err);
	struct ArrowSchema s = { 0 };
	if (rc == 0 && st.get_schema(&st, &s) != 0)
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", path, st.get_last_error(&st));
	while (rc == 0) {
		struct ArrowArray b = { 0 };
		if (st.get_next(&st, &b) != 0) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", path, st.get_last_error(&st));
			break;
		}
		if (!b.release)
			break;
		for (int64_t i = 0; rc == 0 && i < b.length; i++) {
			json_t *act = json_object();
			for (int64_t c = 0; act && c < s.n_children; c++) {
				bool is_add = strcmp(s.children[c]->name, "add") == 0;
				if (is_add == (pass == 2) && valid(b.children[c], i))
					json_object_set_new(act, s.children[c]->name,
							    cell_json(s.children[c], b.children[c], i));
			}
			rc = act ? on_action(r, act, pass, err) : nomem(err);
			json_decref(act);
		}
		b.release(&b);
	}
	if (s.release)
		s.release(&s);
	if (st.release)
		st.release(&st);
	firn_parquet_reader_free(pr);
	return rc;
}

static int read_checkpoint(struct replay *r, int64_t v, int parts, struct firn_error *err)
{
	r->version = v;
	/* the state from every part first (metaData may be in any), then the files */
	for (int k = 0; k < 2 * parts; k++) {
		int pass = k < parts ? 0 : 2, p = k % parts + 1;
		char suffix[48];
		if (parts == 1)
			snprintf(suffix, sizeof(suffix), ".checkpoint.parquet");
		else
			snprintf(suffix, sizeof(suffix), ".checkpoint.%010d.%010d.parquet", p, parts);
		char *path = log_path(r, v, suffix);
		if (!path)
			return nomem(err);
		r->what = path;
		FIRN_TRY(read_checkpoint_part(r, path, pass, err));
	}
	return end_version(r, err);
}

/* Replays the log: from version 0 when every commit is there, else from
 * the newest checkpoint the commits after it continue. */
static int replay(struct replay *r, struct firn_error *err)
{
	struct log_files lf = { 0 };
	char *dir = firn_arena_alloc(&r->arena, strlen(r->location) + sizeof(LOG_DIR) + 2);
	if (!dir)
		return nomem(err);
	sprintf(dir, "%s/%s", r->location, LOG_DIR);
	int rc = firn_io_list(dir, on_log_file, &lf, err);
	if (rc == FIRN_ENOMEM)
		rc = nomem(err);
	if (rc == 0 && lf.n_commits == 0 && lf.n_cps == 0)
		rc = firn_error_set(err, FIRN_ENOTFOUND, "%s is not a Delta table (no %s/ commits)", r->location,
				    LOG_DIR);
	if (rc == 0)
		qsort(lf.commits, lf.n_commits, sizeof(int64_t), cmp_i64);
	int64_t last = lf.n_commits ? lf.commits[lf.n_commits - 1] : -1;
	/* the commits must run without a gap up to the last */
	size_t first = lf.n_commits;
	for (size_t i = lf.n_commits; rc == 0 && i-- > 0;) {
		if (i + 1 < lf.n_commits && lf.commits[i] + 1 != lf.commits[i + 1])
			break;
		first = i;
	}
	int64_t start = first < lf.n_commits ? lf.commits[first] : -1;
	int64_t cp = -1;
	int parts = 0;
	if (rc == 0 && start != 0) {
		for (size_t i = 0; i < lf.n_cps; i++) {
			int p;
			int64_t v = lf.cps[i].version;
			if (v > cp && v + 1 >= start && (last < 0 || v <= last) && checkpoint_complete(&lf, v, &p)) {
				cp = v;
				parts = p;
			}
		}
		if (cp < 0)
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s/%s: the commits before version %lld are gone and "
					    "no complete checkpoint continues them", r->location, LOG_DIR,
					    (long long)start);
	}
	if (rc == 0 && cp >= 0)
		rc = read_checkpoint(r, cp, parts, err);
	for (size_t i = first; rc == 0 && i < lf.n_commits; i++)
		if (lf.commits[i] > cp)
			rc = read_commit(r, lf.commits[i], err);
	firn_free(lf.commits);
	firn_free(lf.cps);
	return rc;
}

/* ---- the importer ----------------------------------------------------------- */

/* The ids of an imported table's schema, by path (an incremental import). */
static int seed_ids(struct replay *r, const json_t *fields, const char *prefix, struct firn_error *err)
{
	size_t i;
	const json_t *f;
	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		json_int_t id = json_integer_value(json_object_get(f, "id"));
		struct firn_buf p = { 0 };
		if ((prefix ? firn_buf_printf(&p, "%s.%s", prefix, name) : firn_buf_puts(&p, name ? name : "")) != 0 ||
		    firn_buf_cstr(&p) != 0 ||
		    grow((void **)&r->ids.paths, &r->ids.cap, r->ids.n, sizeof(char *)) != 0) {
			firn_buf_free(&p);
			return nomem(err);
		}
		int32_t *v = firn_realloc(r->ids.ids, r->ids.cap * sizeof(int32_t));
		char *s = firn_arena_strdup(&r->arena, (const char *)p.data);
		if (v)
			r->ids.ids = v;
		if (!v || !s) {
			firn_buf_free(&p);
			return nomem(err);
		}
		r->ids.paths[r->ids.n] = s;
		r->ids.ids[r->ids.n++] = (int32_t)id;
		if (id > r->ids.last)
			r->ids.last = (int32_t)id;
		const json_t *t = json_object_get(f, "type");
		int rc = 0;
		if (json_is_object(t)) { /* nested: the struct's fields, a list's element, a map's key and value */
			json_t *sub = json_array();
			const char *kind = json_string_value(json_object_get(t, "type"));
			if (kind && strcmp(kind, "struct") == 0) {
				json_decref(sub);
				sub = json_incref(json_object_get(t, "fields"));
			} else if (kind && strcmp(kind, "list") == 0) {
				json_array_append_new(sub, json_pack("{s:s, s:O, s:O}", "name", "element", "id",
								     json_object_get(t, "element-id"), "type",
								     json_object_get(t, "element")));
			} else if (kind && strcmp(kind, "map") == 0) {
				json_array_append_new(sub, json_pack("{s:s, s:O, s:O}", "name", "key", "id",
								     json_object_get(t, "key-id"), "type",
								     json_object_get(t, "key")));
				json_array_append_new(sub, json_pack("{s:s, s:O, s:O}", "name", "value", "id",
								     json_object_get(t, "value-id"), "type",
								     json_object_get(t, "value")));
			}
			rc = seed_ids(r, sub, s, err);
			json_decref(sub);
		}
		firn_buf_free(&p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void replay_free(struct replay *r)
{
	json_decref(r->protocol);
	json_decref(r->metadata);
	firn_free(r->ids.paths);
	firn_free(r->ids.ids);
	firn_free(r->live);
	firn_free(r->slots);
	firn_free(r->versions);
	firn_free(r->adds);
	firn_free(r->removes);
	firn_free(r->removed_at);
	firn_arena_free(&r->arena);
}

static char *root_of(struct firn_arena *a, const char *location)
{
	const char *p = location;
	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	else if (strncmp(p, "file:", 5) == 0)
		p += 5;
	char *s = firn_arena_strdup(a, p);
	size_t n = s ? strlen(s) : 0;
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

int firn_import_delta(struct firn_catalog *c, const char *location, const char *ident,
		      bool incremental, struct firn_import_info *info, struct firn_error *err)
{
	struct firn_import_info local;
	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	info->last_version = -1;
	struct replay r = { 0 };
	struct firn_table *t = NULL;
	int rc = 0;
	const char *root = root_of(&r.arena, location);
	char *abs = NULL;
	if (!root)
		rc = nomem(err);
	else if (root[0] != '/' && !strstr(root, "://")) { /* relative to the working directory */
		abs = firn_io__normalize(root);
		root = abs ? firn_arena_strdup(&r.arena, abs) : NULL;
		if (!root)
			rc = nomem(err);
	}
	firn_free(abs);
	r.location = root;
	int64_t after = -1;
	if (rc == 0 && incremental) {
		rc = firn_table_load(c, ident, &t, err);
		if (rc == 0)
			rc = firn_table_imported_version(t, "delta", &after, err);
		const struct firn_ice_schema *cur = rc == 0 ? firn_ice__meta_current_schema(t->meta) : NULL;
		if (cur)
			rc = seed_ids(&r, json_object_get(cur->json, "fields"), NULL, err);
		if (rc == 0)
			r.ids.last = t->meta->last_column_id > r.ids.last ? t->meta->last_column_id : r.ids.last;
	}
	if (rc == 0)
		rc = replay(&r, err);
	if (rc == 0 && incremental && r.n_versions && r.versions[0].id > after + 1)
		rc = firn_error_set(err, FIRN_EUNSUPPORTED, "%s: the Delta log before version %lld is gone, "
				    "but %s reflects version %lld: import the table anew", r.location,
				    (long long)r.versions[0].id, ident, (long long)after);
	if (rc == 0 && incremental && r.n_versions) { /* the first new version carries its schema */
		for (size_t i = 0; i < r.n_versions; i++)
			if (r.versions[i].id == after + 1 && !r.versions[i].schema) {
				const char *s = NULL;
				for (size_t k = 0; k <= i; k++)
					if (r.versions[k].schema)
						s = r.versions[k].schema;
				r.versions[i].schema = s;
			}
	}
	struct firn_import_plan plan = { "delta", r.location, r.spec_text, r.versions, r.n_versions };
	if (rc == 0 && incremental)
		rc = firn_table_import_more(t, &plan, info, err);
	else if (rc == 0)
		rc = firn_table_import(c, ident, &plan, info, err);
	firn_table_free(t);
	replay_free(&r);
	return rc;
}
