/* View metadata (ice_view.h): checks, the builder of view updates, files. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firn/io.h"
#include "firn/util.h"
#include "iceberg/ice_meta.h"
#include "iceberg/ice_view.h"
#include "io/io_local.h"
#include "util/alloc.h"

#define VIEW_FORMAT_VERSION 1
#define HISTORY_SIZE_DEFAULT 10
#define LAST_ADDED -1

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static bool is_int(const json_t *j)
{
	return json_is_integer(j);
}

static bool string_map_ok(const json_t *o)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return false;
	json_object_foreach((json_t *)o, k, v) {
		if (!json_is_string(v))
			return false;
	}
	return true;
}

static bool string_array_ok(const json_t *a)
{
	size_t i;
	json_t *v;
	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return false;
	}
	return true;
}

/* ---- checks ----------------------------------------------------------- */

static int check_representations(const json_t *reps, const char *what, int code,
				 struct firn_error *err)
{
	if (!json_is_array(reps) || json_array_size(reps) == 0)
		return firn_error_set(err, code, "%s: representations must be a non-empty array", what);
	size_t i;
	json_t *r;
	json_array_foreach(reps, i, r) {
		const char *type = json_string_value(json_object_get(r, "type"));
		if (!json_is_object(r) || !type)
			return firn_error_set(err, code, "%s: representation %zu has no type", what, i);
		if (strcasecmp(type, "sql") != 0)
			continue; /* kept as it is: another engine's */
		const char *dialect = json_string_value(json_object_get(r, "dialect"));
		if (!json_is_string(json_object_get(r, "sql")) || !dialect || !*dialect)
			return firn_error_set(err, code, "%s: representation %zu needs sql and a dialect",
					      what, i);
	}
	return 0;
}

/* One entry of "versions" (or the view-version of a request). */
static int check_version(const json_t *ver, const char *what, int code, struct firn_error *err)
{
	if (!json_is_object(ver))
		return firn_error_set(err, code, "%s: a view version is not an object", what);
	if (!is_int(json_object_get(ver, "version-id")) ||
	    !is_int(json_object_get(ver, "timestamp-ms")) ||
	    !is_int(json_object_get(ver, "schema-id")))
		return firn_error_set(err, code, "%s: a view version needs integer version-id, "
				      "timestamp-ms and schema-id", what);
	const json_t *summary = json_object_get(ver, "summary");
	if (summary && !string_map_ok(summary))
		return firn_error_set(err, code, "%s: a view version's summary must map strings to "
				      "strings", what);
	if (!string_array_ok(json_object_get(ver, "default-namespace")))
		return firn_error_set(err, code, "%s: a view version's default-namespace must be an "
				      "array of strings", what);
	const json_t *cat = json_object_get(ver, "default-catalog");
	if (cat && !json_is_null(cat) && !json_is_string(cat))
		return firn_error_set(err, code, "%s: a view version's default-catalog must be a string",
				      what);
	return check_representations(json_object_get(ver, "representations"), what, code, err);
}

static const json_t *find_by_id(const json_t *a, const char *key, json_int_t id)
{
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		const json_t *v = json_object_get(e, key);
		if (is_int(v) && json_integer_value(v) == id)
			return e;
	}
	return NULL;
}

int firn_ice__view_check(const json_t *v, const char *what, int code, struct firn_error *err)
{
	if (!json_is_object(v))
		return firn_error_set(err, code, "%s: view metadata is not an object", what);
	const json_t *fv = json_object_get(v, "format-version");
	if (!is_int(fv))
		return firn_error_set(err, code, "%s: format-version is missing", what);
	if (json_integer_value(fv) != VIEW_FORMAT_VERSION)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: view format version %lld is not "
				      "supported (only 1)", what, (long long)json_integer_value(fv));
	if (!json_is_string(json_object_get(v, "view-uuid")) ||
	    !json_is_string(json_object_get(v, "location")))
		return firn_error_set(err, code, "%s: view-uuid and location must be strings", what);
	const json_t *props = json_object_get(v, "properties");
	if (props && !string_map_ok(props))
		return firn_error_set(err, code, "%s: properties must map strings to strings", what);
	const json_t *schemas = json_object_get(v, "schemas");
	const json_t *versions = json_object_get(v, "versions");
	const json_t *log = json_object_get(v, "version-log");
	if (!json_is_array(schemas) || !json_is_array(versions) || !json_is_array(log))
		return firn_error_set(err, code, "%s: schemas, versions and version-log must be arrays",
				      what);
	size_t i;
	json_t *e;
	json_array_foreach(schemas, i, e) {
		if (!is_int(json_object_get(e, "schema-id")) || !json_is_array(json_object_get(e, "fields")))
			return firn_error_set(err, code, "%s: schema %zu needs a schema-id and fields", what, i);
	}
	json_array_foreach(versions, i, e) {
		FIRN_TRY(check_version(e, what, code, err));
		json_int_t sid = json_integer_value(json_object_get(e, "schema-id"));
		if (!find_by_id(schemas, "schema-id", sid))
			return firn_error_set(err, code, "%s: view version %lld names unknown schema %lld",
					      what, (long long)json_integer_value(json_object_get(e, "version-id")),
					      (long long)sid);
	}
	json_array_foreach(log, i, e) {
		if (!is_int(json_object_get(e, "timestamp-ms")) || !is_int(json_object_get(e, "version-id")))
			return firn_error_set(err, code, "%s: version-log entry %zu needs timestamp-ms and "
					      "version-id", what, i);
	}
	const json_t *cur = json_object_get(v, "current-version-id");
	if (!is_int(cur) || !find_by_id(versions, "version-id", json_integer_value(cur)))
		return firn_error_set(err, code, "%s: current-version-id is not one of the versions", what);
	return 0;
}

int firn_ice__view_parse(const char *text, size_t n, const char *what, json_t **out,
			 struct firn_error *err)
{
	*out = NULL;
	json_error_t je;
	json_t *v = firn_json__loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		if (je.line == -1 && strcmp(je.text, "out of memory") == 0)
			return nomem(err);
		char shown[120];
		firn_ice__printable(je.text, shown, sizeof(shown));
		return firn_error_set(err, FIRN_ECORRUPT, "%s: not JSON: %s (line %d)", what, shown,
				      je.line);
	}
	int rc = firn_ice__view_check(v, what, FIRN_ECORRUPT, err);
	if (rc != 0) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* ---- the builder -------------------------------------------------------- */

struct vb {
	json_t *v;                 /* the metadata being built */
	json_t *schemas, *versions, *props; /* borrowed from v */
	json_t *previous;          /* the base's current version, or NULL */
	json_int_t last_schema, last_version; /* LAST_ADDED: none */
	json_t *added;             /* ids of the versions added here */
	json_t *history;           /* the version-log entry to append, or NULL */
	size_t changes;
};

/* Java's Schema.sameSchema: the same struct and identifier fields (none
 * given and an empty list are the same). */
static bool same_schema(const json_t *a, const json_t *b)
{
	const json_t *ia = json_object_get(a, "identifier-field-ids");
	const json_t *ib = json_object_get(b, "identifier-field-ids");
	bool ids = json_array_size(ia) == 0 && json_array_size(ib) == 0 ? true : json_equal(ia, ib);
	return ids && json_equal(json_object_get(a, "fields"), json_object_get(b, "fields"));
}

static const json_t *null_if_absent(const json_t *j)
{
	return j && !json_is_null(j) ? j : NULL;
}

static bool same_or_both_absent(const json_t *a, const json_t *b)
{
	a = null_if_absent(a);
	b = null_if_absent(b);
	return (!a && !b) || (a && b && json_equal(a, b));
}

/* Whether two versions behave the same: everything but id, time and
 * operation. */
static bool same_version(const json_t *a, const json_t *b)
{
	static const char *const keys[] = { "summary", "representations", "default-catalog",
					    "default-namespace", "schema-id" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!same_or_both_absent(json_object_get(a, keys[i]), json_object_get(b, keys[i])))
			return false;
	return true;
}

static bool added_here(const struct vb *b, json_int_t id)
{
	size_t i;
	json_t *e;
	json_array_foreach(b->added, i, e) {
		if (json_integer_value(e) == id)
			return true;
	}
	return false;
}

static int set_int(json_t *o, const char *key, json_int_t v, struct firn_error *err)
{
	return json_object_set_new(o, key, json_integer(v)) == 0 ? 0 : nomem(err);
}

static int add_schema(struct vb *b, const json_t *u, struct firn_error *err)
{
	const json_t *schema = json_object_get(u, "schema");
	struct ArrowSchema arrow = { 0 };
	int32_t max_id = 0;
	if (!json_is_object(schema))
		return firn_error_set(err, FIRN_EINVAL, "add-schema: schema is not an object");
	struct firn_error e = { 0 };
	int rc = firn_ice__schema_from_json(schema, "add-schema", &arrow, &max_id, &e);
	if (arrow.release)
		arrow.release(&arrow);
	if (rc != 0) /* a request's schema: bad input, not a damaged file */
		return rc == FIRN_ENOMEM ? nomem(err) : firn_error_set(err, FIRN_EINVAL, "%s", e.message);
	json_int_t id = 0;
	size_t i;
	json_t *s;
	json_array_foreach(b->schemas, i, s) {
		json_int_t sid = json_integer_value(json_object_get(s, "schema-id"));
		if (same_schema(s, schema))
			return 0; /* it exists: reused, nothing added */
		if (sid >= id)
			id = sid + 1;
	}
	json_t *copy = json_deep_copy(schema);
	if (!copy || set_int(copy, "schema-id", id, err) != 0 || json_array_append_new(b->schemas, copy)) {
		return nomem(err);
	}
	b->last_schema = id;
	b->changes++;
	return 0;
}

/* The dialects of a version's SQL representations, lowercased, in a
 * JSON array; FIRN_EINVAL when one appears twice. */
static int dialects_of(const json_t *ver, json_t **out, struct firn_error *err)
{
	json_t *d = json_array();
	if (!d)
		return nomem(err);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(ver, "representations"), i, r) {
		const char *type = json_string_value(json_object_get(r, "type"));
		if (!type || strcasecmp(type, "sql") != 0)
			continue;
		char low[256];
		snprintf(low, sizeof(low), "%s", json_string_value(json_object_get(r, "dialect")));
		for (char *p = low; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		size_t k;
		json_t *seen;
		json_array_foreach(d, k, seen) {
			if (strcmp(json_string_value(seen), low) == 0) {
				json_decref(d);
				return firn_error_set(err, FIRN_EINVAL, "Invalid view version: Cannot add "
						      "multiple queries for dialect %s", low);
			}
		}
		if (json_array_append_new(d, json_string(low)) != 0) {
			json_decref(d);
			return nomem(err);
		}
	}
	*out = d;
	return 0;
}

static int add_version(struct vb *b, const json_t *u, struct firn_error *err)
{
	const json_t *ver = json_object_get(u, "view-version");
	FIRN_TRY(check_version(ver, "add-view-version", FIRN_EINVAL, err));
	json_int_t id = json_integer_value(json_object_get(ver, "version-id"));
	size_t i;
	json_t *e;
	json_array_foreach(b->versions, i, e) {
		json_int_t vid = json_integer_value(json_object_get(e, "version-id"));
		if (same_version(e, ver)) {
			b->last_version = added_here(b, vid) ? vid : LAST_ADDED;
			return 0;
		}
		if (vid >= id)
			id = vid + 1;
	}
	json_int_t sid = json_integer_value(json_object_get(ver, "schema-id"));
	if (sid == LAST_ADDED) {
		if (b->last_schema == LAST_ADDED)
			return firn_error_set(err, FIRN_EINVAL, "Cannot set last added schema: no schema "
					      "has been added");
		sid = b->last_schema;
	}
	if (!find_by_id(b->schemas, "schema-id", sid))
		return firn_error_set(err, FIRN_EINVAL, "Cannot add version with unknown schema: %lld",
				      (long long)sid);
	json_t *dialects = NULL;
	FIRN_TRY(dialects_of(ver, &dialects, err));
	json_decref(dialects);
	json_t *copy = json_deep_copy(ver);
	if (!copy || set_int(copy, "version-id", id, err) != 0 ||
	    set_int(copy, "schema-id", sid, err) != 0 || json_array_append_new(b->versions, copy) != 0 ||
	    json_array_append_new(b->added, json_integer(id)) != 0)
		return nomem(err);
	b->last_version = id;
	b->changes++;
	return 0;
}

static int set_current(struct vb *b, const json_t *u, struct firn_error *err)
{
	const json_t *idj = json_object_get(u, "view-version-id");
	if (!is_int(idj))
		return firn_error_set(err, FIRN_EINVAL, "set-current-view-version: view-version-id is "
				      "not an integer");
	json_int_t id = json_integer_value(idj);
	if (id == LAST_ADDED) {
		if (b->last_version == LAST_ADDED)
			return firn_error_set(err, FIRN_EINVAL, "Cannot set last version id: no current "
					      "version id has been set");
		id = b->last_version;
	}
	if (json_integer_value(json_object_get(b->v, "current-version-id")) == id)
		return 0;
	const json_t *ver = find_by_id(b->versions, "version-id", id);
	if (!ver)
		return firn_error_set(err, FIRN_EINVAL, "Cannot set current version to unknown version: "
				      "%lld", (long long)id);
	FIRN_TRY(set_int(b->v, "current-version-id", id, err));
	/* a version added now keeps its own time; one made current again is
	 * current from now */
	json_int_t ts = added_here(b, id) ? json_integer_value(json_object_get(ver, "timestamp-ms"))
					  : firn_ice__now_ms();
	json_decref(b->history);
	b->history = json_pack("{s:I,s:I}", "timestamp-ms", (json_int_t)ts, "version-id", id);
	if (!b->history)
		return nomem(err);
	b->changes++;
	return 0;
}

static int set_properties(struct vb *b, const json_t *u, struct firn_error *err)
{
	const json_t *up = json_object_get(u, "updates");
	if (!string_map_ok(up))
		return firn_error_set(err, FIRN_EINVAL, "set-properties: updates must map strings to "
				      "strings");
	if (json_object_size(up) == 0)
		return 0;
	if (json_object_update(b->props, (json_t *)up) != 0)
		return nomem(err);
	b->changes++;
	return 0;
}

static int remove_properties(struct vb *b, const json_t *u, struct firn_error *err)
{
	const json_t *rm = json_object_get(u, "removals");
	if (!string_array_ok(rm))
		return firn_error_set(err, FIRN_EINVAL, "remove-properties: removals must be an array "
				      "of strings");
	size_t i;
	json_t *k;
	json_array_foreach(rm, i, k)
		json_object_del(b->props, json_string_value(k));
	b->changes += json_array_size(rm) > 0;
	return 0;
}

static int set_location(struct vb *b, const json_t *u, struct firn_error *err)
{
	const char *loc = json_string_value(json_object_get(u, "location"));
	if (!loc || !*loc)
		return firn_error_set(err, FIRN_EINVAL, "Invalid location: null");
	const char *now = json_string_value(json_object_get(b->v, "location"));
	if (now && strcmp(now, loc) == 0)
		return 0;
	if (json_object_set_new(b->v, "location", json_string(loc)) != 0)
		return nomem(err);
	b->changes++;
	return 0;
}

static int assign_uuid(struct vb *b, const json_t *u, struct firn_error *err)
{
	const char *id = json_string_value(json_object_get(u, "uuid"));
	uint8_t raw[16];
	if (!id || firn_uuid_parse(id, strlen(id), raw) != 0)
		return firn_error_set(err, FIRN_EINVAL, "assign-uuid: uuid is not a UUID");
	const char *now = json_string_value(json_object_get(b->v, "view-uuid"));
	if (now && strcasecmp(now, id) == 0)
		return 0;
	if (now)
		return firn_error_set(err, FIRN_EINVAL, "Cannot reassign uuid");
	if (json_object_set_new(b->v, "view-uuid", json_string(id)) != 0)
		return nomem(err);
	b->changes++;
	return 0;
}

static int upgrade_format(struct vb *b, const json_t *u, struct firn_error *err)
{
	const json_t *fv = json_object_get(u, "format-version");
	json_int_t now = json_integer_value(json_object_get(b->v, "format-version"));
	if (!is_int(fv))
		return firn_error_set(err, FIRN_EINVAL, "upgrade-format-version: format-version is not "
				      "an integer");
	if (json_integer_value(fv) < now)
		return firn_error_set(err, FIRN_EINVAL, "Cannot downgrade v%lld view to v%lld",
				      (long long)now, (long long)json_integer_value(fv));
	if (json_integer_value(fv) > VIEW_FORMAT_VERSION)
		return firn_error_set(err, FIRN_EINVAL, "Unsupported format version: %lld",
				      (long long)json_integer_value(fv));
	return 0; /* only version 1 exists */
}

typedef int (*update_fn)(struct vb *b, const json_t *u, struct firn_error *err);

static const struct {
	const char *action;
	update_fn apply;
} UPDATES[] = {
	{ "assign-uuid", assign_uuid },
	{ "upgrade-format-version", upgrade_format },
	{ "add-schema", add_schema },
	{ "set-location", set_location },
	{ "set-properties", set_properties },
	{ "remove-properties", remove_properties },
	{ "add-view-version", add_version },
	{ "set-current-view-version", set_current },
};

static int apply(struct vb *b, const json_t *u, size_t i, struct firn_error *err)
{
	const char *action = json_string_value(json_object_get(u, "action"));
	if (!json_is_object(u) || !action)
		return firn_error_set(err, FIRN_EINVAL, "updates[%zu]: not an update with an action", i);
	for (size_t k = 0; k < sizeof(UPDATES) / sizeof(UPDATES[0]); k++)
		if (strcmp(UPDATES[k].action, action) == 0)
			return UPDATES[k].apply(b, u, err);
	return firn_error_set(err, FIRN_EINVAL, "updates[%zu]: '%s' is not a view update", i, action);
}

/* A new view's tree, keys in the spec's order. */
static json_t *empty_view(void)
{
	return json_pack("{s:n,s:i,s:n,s:[],s:i,s:[],s:[],s:{}}", "view-uuid", "format-version",
			 VIEW_FORMAT_VERSION, "location", "schemas", "current-version-id", -1,
			 "versions", "version-log", "properties");
}

static bool prop_true(const json_t *props, const char *key)
{
	const char *v = json_string_value(json_object_get(props, key));
	return v && strcasecmp(v, "true") == 0;
}

/* A replace may not lose a dialect, unless the view allows it. */
static int check_dialects_kept(const struct vb *b, const json_t *cur, struct firn_error *err)
{
	if (!b->previous || prop_true(b->props, "replace.drop-dialect.allowed"))
		return 0;
	json_t *before = NULL, *after = NULL;
	int rc = dialects_of(b->previous, &before, err);
	if (rc == 0)
		rc = dialects_of(cur, &after, err);
	size_t i, k;
	json_t *d, *e;
	json_array_foreach(before, i, d) {
		bool kept = false;
		json_array_foreach(after, k, e)
			kept |= json_equal(d, e);
		if (rc == 0 && !kept)
			rc = firn_error_set(err, FIRN_EINVAL, "Cannot replace view due to loss of view "
					    "dialects (replace.drop-dialect.allowed=false): dialect %s is "
					    "dropped", json_string_value(d));
	}
	json_decref(before);
	json_decref(after);
	return rc;
}

static int history_size(const json_t *props, long *out, struct firn_error *err)
{
	const char *s = json_string_value(json_object_get(props, "version.history.num-entries"));
	*out = HISTORY_SIZE_DEFAULT;
	if (!s)
		return 0;
	char *end;
	*out = strtol(s, &end, 10);
	if (!*s || *end || *out <= 0)
		return firn_error_set(err, FIRN_EINVAL, "version.history.num-entries must be positive "
				      "but was %s", s);
	return 0;
}

/* Expires the oldest versions past the history size (keeping the current
 * one and those added here), and the version-log entries before any
 * version no longer kept. */
static int expire(struct vb *b, json_int_t cur, struct firn_error *err)
{
	long keep;
	FIRN_TRY(history_size(b->props, &keep, err));
	size_t must = json_array_size(b->added) + !added_here(b, cur);
	if ((size_t)keep < must)
		keep = (long)must;
	while (json_array_size(b->versions) > (size_t)keep) {
		/* the lowest id not kept by force: ids grow with time */
		size_t drop = (size_t)-1;
		json_int_t low = 0;
		size_t i;
		json_t *e;
		json_array_foreach(b->versions, i, e) {
			json_int_t id = json_integer_value(json_object_get(e, "version-id"));
			if (id != cur && !added_here(b, id) && (drop == (size_t)-1 || id < low)) {
				drop = i;
				low = id;
			}
		}
		if (drop == (size_t)-1)
			break;
		json_array_remove(b->versions, drop);
	}
	json_t *log = json_object_get(b->v, "version-log");
	size_t i = json_array_size(log);
	while (i-- > 0) {
		json_int_t id = json_integer_value(json_object_get(json_array_get(log, i), "version-id"));
		if (!find_by_id(b->versions, "version-id", id)) {
			for (size_t k = 0; k <= i; k++) /* this entry and everything before it */
				json_array_remove(log, 0);
			break;
		}
	}
	return 0;
}

static int finish(struct vb *b, struct firn_error *err)
{
	if (!json_is_string(json_object_get(b->v, "location")))
		return firn_error_set(err, FIRN_EINVAL, "Invalid location: null");
	if (json_array_size(b->versions) == 0)
		return firn_error_set(err, FIRN_EINVAL, "Invalid view: no versions were added");
	json_int_t cur_id = json_integer_value(json_object_get(b->v, "current-version-id"));
	const json_t *cur = find_by_id(b->versions, "version-id", cur_id);
	if (!cur)
		return firn_error_set(err, FIRN_EINVAL, "Cannot find current version %lld in view "
				      "versions", (long long)cur_id);
	if (b->history && json_array_append(json_object_get(b->v, "version-log"), b->history) != 0)
		return nomem(err);
	FIRN_TRY(check_dialects_kept(b, cur, err));
	FIRN_TRY(expire(b, cur_id, err));
	if (json_is_null(json_object_get(b->v, "view-uuid"))) {
		uint8_t u[16];
		char us[37];
		firn_uuid_v4(u);
		firn_uuid_format(u, us);
		if (json_object_set_new(b->v, "view-uuid", json_string(us)) != 0)
			return nomem(err);
	}
	return firn_ice__view_check(b->v, "view", FIRN_EINVAL, err);
}

static int vb_start(struct vb *b, const json_t *base, struct firn_error *err)
{
	memset(b, 0, sizeof(*b));
	b->last_schema = b->last_version = LAST_ADDED;
	b->v = base ? json_deep_copy(base) : empty_view();
	b->added = json_array();
	if (!b->v || !b->added)
		return nomem(err);
	if (!json_object_get(b->v, "properties") &&
	    json_object_set_new(b->v, "properties", json_object()) != 0)
		return nomem(err);
	b->schemas = json_object_get(b->v, "schemas");
	b->versions = json_object_get(b->v, "versions");
	b->props = json_object_get(b->v, "properties");
	if (base) {
		json_int_t cur = json_integer_value(json_object_get(base, "current-version-id"));
		b->previous = json_incref((json_t *)find_by_id(json_object_get(base, "versions"),
							       "version-id", cur));
	}
	return 0;
}

static void vb_free(struct vb *b)
{
	json_decref(b->v);
	json_decref(b->previous);
	json_decref(b->added);
	json_decref(b->history);
}

int firn_ice__view_build(const json_t *base, const json_t *updates, json_t **out,
			 size_t *changes, struct firn_error *err)
{
	*out = NULL;
	*changes = 0;
	if (!json_is_array(updates))
		return firn_error_set(err, FIRN_EINVAL, "updates must be an array");
	struct vb b;
	int rc = vb_start(&b, base, err);
	size_t i;
	json_t *u;
	json_array_foreach(updates, i, u) {
		if (rc == 0)
			rc = apply(&b, u, i, err);
	}
	if (rc == 0)
		rc = finish(&b, err);
	if (rc == 0) {
		*out = b.v;
		*changes = b.changes;
		b.v = NULL;
	}
	vb_free(&b);
	return rc;
}

int firn_ice__view_requirements_check(const json_t *cur, const json_t *requirements,
				      struct firn_error *err)
{
	if (!requirements || json_is_null(requirements))
		return 0;
	if (!json_is_array(requirements))
		return firn_error_set(err, FIRN_EINVAL, "requirements must be an array");
	size_t i;
	json_t *r;
	json_array_foreach(requirements, i, r) {
		const char *type = json_string_value(json_object_get(r, "type"));
		if (!json_is_object(r) || !type || strcmp(type, "assert-view-uuid") != 0)
			return firn_error_set(err, FIRN_EINVAL, "requirements[%zu]: not a view "
					      "requirement (assert-view-uuid)", i);
		const char *want = json_string_value(json_object_get(r, "uuid"));
		const char *have = json_string_value(json_object_get(cur, "view-uuid"));
		if (!want)
			return firn_error_set(err, FIRN_EINVAL, "requirements[%zu]: uuid is missing", i);
		if (!have || strcasecmp(want, have) != 0)
			return firn_error_set(err, FIRN_ECONFLICT, "Requirement failed: view UUID does not "
					      "match: expected %s != %s", have ? have : "(none)", want);
	}
	return 0;
}

/* ---- files ----------------------------------------------------------- */

char *firn_ice__view_dump(const json_t *v)
{
	return firn_json__dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

int firn_ice__view_read(const char *location, json_t **out, struct firn_error *err)
{
	uint8_t *data;
	size_t n;
	*out = NULL;
	int rc = firn_io__read_all(location, &data, &n, err);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: view metadata file is missing", location);
	FIRN_TRY(rc);
	rc = firn_ice__view_parse((const char *)data, n, location, out, err);
	firn_free(data);
	return rc;
}

/* The number NNNNN of a file named NNNNN-<uuid>.metadata.json, -1 when it
 * has none (a registered file may be named anything). */
static int file_number(const char *location)
{
	const char *slash = strrchr(location, '/');
	const char *base = slash ? slash + 1 : location;
	char *end;
	long v = strtol(base, &end, 10);
	return end == base || *end != '-' || v < 0 || v > 99999998 ? -1 : (int)v;
}

int firn_ice__view_write(const json_t *v, const char *previous, char **location_out,
			 struct firn_error *err)
{
	*location_out = NULL;
	const char *dir = json_string_value(json_object_get(json_object_get(v, "properties"),
							    "write.metadata.path"));
	const char *loc = json_string_value(json_object_get(v, "location"));
	int num = previous ? file_number(previous) + 1 : 0;
	if (previous && num == 0)
		num = 1;
	uint8_t u[16];
	char us[37];
	firn_uuid_v4(u);
	firn_uuid_format(u, us);
	struct firn_buf b = { 0 };
	const char *root = dir && *dir ? dir : loc;
	size_t rn = strlen(root);
	while (rn > 1 && root[rn - 1] == '/')
		rn--;
	firn_buf_printf(&b, "%.*s%s/%05d-%s.metadata.json", (int)rn, root,
			dir && *dir ? "" : "/metadata", num, us);
	char *path = firn_buf_string(&b, 0);
	char *text = firn_ice__view_dump(v);
	int rc = path && text ? firn_io_write_all(path, FIRN_IO_EXCL | FIRN_IO_SYNC_DIR, text,
						 strlen(text), err)
			      : nomem(err);
	firn_free(text);
	if (rc != 0) {
		firn_free(path);
		return rc;
	}
	*location_out = path;
	return 0;
}
