/* The REST spec's view requests as JSON text (catalog.h's views): what
 * `firn serve` does with a view request, over the catalog interface's view
 * pointers and the view metadata of ice_view.c. Messages that REST clients
 * match are Java's. */
#include <stdio.h>
#include <string.h>

#include "firn/catalog.h"
#include "firn/io.h"
#include "firn/util.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_view.h"
#include "util/alloc.h"

/* The spec's server-side retry of a commit another writer overtook. */
#define VIEW_COMMIT_ATTEMPTS 10
#define VIEW_COMMIT_WAIT_MS 10
#define VIEW_COMMIT_MAX_WAIT_MS 500

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static int has_views(const struct firn_catalog *c, struct firn_error *err)
{
	const struct firn_ice_catalog_ops *o = c->ops;
	if (o->view_list && o->view_load && o->view_create && o->view_swap && o->view_drop &&
	    o->view_rename)
		return 0;
	return firn_error_set(err, FIRN_EUNSUPPORTED, "the %s catalog keeps no views", o->kind);
}

static int namespace_needed(struct firn_catalog *c, const char *ns, struct firn_error *err)
{
	int e = firn_catalog_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	return e ? 0 : firn_error_set(err, FIRN_ENOTFOUND, "Namespace does not exist: %s", ns);
}

/* FIRN_EEXISTS when ns.name is a view or a table already. */
static int name_free(struct firn_catalog *c, const char *ns, const char *name,
		     struct firn_error *err)
{
	char *loc = NULL;
	struct firn_error e = { 0 };
	int rc = c->ops->view_load(c->self, ns, name, &loc, &e);
	firn_free(loc);
	if (rc == 0)
		return firn_error_set(err, FIRN_EEXISTS, "View already exists: %s.%s", ns, name);
	if (rc != FIRN_ENOTFOUND) {
		if (err)
			*err = e;
		return rc;
	}
	rc = firn_catalog_table_load(c, ns, name, &loc, &e);
	firn_free(loc);
	if (rc == 0)
		return firn_error_set(err, FIRN_EEXISTS, "Table with same name already exists: %s.%s", ns,
				      name);
	if (rc != FIRN_ENOTFOUND && err)
		*err = e;
	return rc == FIRN_ENOTFOUND ? 0 : rc;
}

/* LoadViewResult text; *out the caller's. */
static int load_result(const char *location, const json_t *v, char **out, struct firn_error *err)
{
	*out = NULL;
	json_t *r = json_pack("{s:s,s:O}", "metadata-location", location, "metadata", v);
	*out = r ? firn_json__dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(r);
	return *out ? 0 : nomem(err);
}

/* The view's current metadata and its location. */
static int view_current(struct firn_catalog *c, const char *ns, const char *name, char **loc,
			json_t **v, struct firn_error *err)
{
	*v = NULL;
	FIRN_TRY(c->ops->view_load(c->self, ns, name, loc, err));
	int rc = firn_ice__view_read(*loc, v, err);
	if (rc != 0) {
		firn_free(*loc);
		*loc = NULL;
	}
	return rc;
}

/* ---- list, load, drop, rename ------------------------------------------ */

int firn_catalog_view_list(struct firn_catalog *c, const char *ns, char ***out, size_t *n,
			   struct firn_error *err)
{
	*out = NULL;
	*n = 0;
	FIRN_TRY(has_views(c, err));
	FIRN_TRY(namespace_needed(c, ns, err));
	return c->ops->view_list(c->self, ns, out, n, err);
}

int firn_catalog_view_load_json(struct firn_catalog *c, const char *ns, const char *name,
				char **metadata_location, char **result, struct firn_error *err)
{
	if (metadata_location)
		*metadata_location = NULL;
	*result = NULL;
	FIRN_TRY(has_views(c, err));
	char *loc = NULL;
	json_t *v = NULL;
	FIRN_TRY(view_current(c, ns, name, &loc, &v, err));
	int rc = load_result(loc, v, result, err);
	json_decref(v);
	if (rc == 0 && metadata_location)
		*metadata_location = loc;
	else
		firn_free(loc);
	return rc;
}

int firn_catalog_view_drop(struct firn_catalog *c, const char *ns, const char *name,
			   struct firn_error *err)
{
	FIRN_TRY(has_views(c, err));
	return c->ops->view_drop(c->self, ns, name, err);
}

int firn_catalog_view_rename(struct firn_catalog *c, const char *ns, const char *name,
			     const char *to_ns, const char *to_name, struct firn_error *err)
{
	FIRN_TRY(has_views(c, err));
	FIRN_TRY(firn_ice__check_new_ident(to_ns, to_name, err));
	return c->ops->view_rename(c->self, ns, name, to_ns, to_name, err);
}

/* ---- locations --------------------------------------------------------- */

/* A client's view location: in the warehouse when confined, and clear of
 * every table's (a table's orphan removal would take the view's files). */
static int location_allowed(struct firn_catalog *c, const char *loc, struct firn_error *err)
{
	FIRN_TRY(firn_ice__confine_check(c, loc, err));
	char *other = NULL;
	FIRN_TRY(firn_ice__location_conflict(c, loc, NULL, &other, err));
	if (!other)
		return 0;
	char shown[160];
	firn_ice__printable(loc, shown, sizeof(shown));
	int rc = firn_error_set(err, FIRN_EINVAL, "view location %s overlaps the location of %s",
				shown, other);
	firn_free(other);
	return rc;
}

/* Every location an update names (set-location, write.metadata.path). */
static int updates_allowed(struct firn_catalog *c, const json_t *updates, struct firn_error *err)
{
	size_t i;
	json_t *u;
	json_array_foreach(updates, i, u) {
		const char *action = json_string_value(json_object_get(u, "action"));
		const char *loc = NULL;
		if (action && strcmp(action, "set-location") == 0)
			loc = json_string_value(json_object_get(u, "location"));
		else if (action && strcmp(action, "set-properties") == 0)
			loc = json_string_value(json_object_get(json_object_get(u, "updates"),
								"write.metadata.path"));
		int rc = loc ? location_allowed(c, loc, err) : 0;
		if (rc != 0) {
			firn_error_prefix(err, "updates[%zu] (%s)", i, action);
			return rc;
		}
	}
	return 0;
}

/* ---- create and register -------------------------------------------- */

/* Writes a new view's first metadata file and records it; the file goes
 * again when the name was taken meanwhile. */
static int publish_new(struct firn_catalog *c, const char *ns, const char *name, const json_t *v,
		       char **result, struct firn_error *err)
{
	char *file = NULL;
	FIRN_TRY(firn_ice__view_write(v, NULL, &file, err));
	int rc = c->ops->view_create(c->self, ns, name, file, err);
	if (rc == FIRN_EEXISTS || rc == FIRN_ENOTFOUND)
		firn_io_delete(file, NULL);
	if (rc == 0)
		rc = load_result(file, v, result, err);
	firn_free(file);
	return rc;
}

/* The updates Java's server applies for a CreateViewRequest: a fresh
 * uuid, the properties, the location, the schema, the version (id 1, on
 * that schema) made current. */
static json_t *create_updates(const json_t *req, const char *location)
{
	uint8_t u[16];
	char us[37];
	firn_uuid_v4(u);
	firn_uuid_format(u, us);
	const json_t *props = json_object_get(req, "properties");
	json_t *ver = json_deep_copy(json_object_get(req, "view-version"));
	if (!ver || json_object_set_new(ver, "version-id", json_integer(1)) != 0 ||
	    json_object_set_new(ver, "schema-id", json_integer(-1)) != 0) {
		json_decref(ver);
		return NULL;
	}
	return json_pack("[{s:s,s:s},{s:s,s:o},{s:s,s:s},{s:s,s:O},{s:s,s:o},{s:s,s:i}]",
			 "action", "assign-uuid", "uuid", us,
			 "action", "set-properties", "updates", props ? json_deep_copy(props) : json_object(),
			 "action", "set-location", "location", location,
			 "action", "add-schema", "schema", json_object_get(req, "schema"),
			 "action", "add-view-version", "view-version", ver,
			 "action", "set-current-view-version", "view-version-id", -1);
}

static int create_request_check(const json_t *j, struct firn_error *err)
{
	const json_t *loc = json_object_get(j, "location");
	const json_t *props = json_object_get(j, "properties");
	if (!json_is_string(json_object_get(j, "name")))
		return firn_error_set(err, FIRN_EINVAL, "create view request: name is missing");
	if (!json_is_object(json_object_get(j, "schema")))
		return firn_error_set(err, FIRN_EINVAL, "create view request: schema is missing");
	if (!json_is_object(json_object_get(j, "view-version")))
		return firn_error_set(err, FIRN_EINVAL, "create view request: view-version is missing");
	if (loc && !json_is_null(loc) && !json_is_string(loc))
		return firn_error_set(err, FIRN_EINVAL, "create view request: location is not a string");
	if (props && !json_is_null(props) && !json_is_object(props))
		return firn_error_set(err, FIRN_EINVAL, "create view request: properties is not an "
				      "object");
	return 0;
}

static int create_view(struct firn_catalog *c, const char *ns, json_t *j, char **result,
		       struct firn_error *err)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *given = json_string_value(json_object_get(j, "location"));
	if (json_is_null(json_object_get(j, "properties")))
		json_object_del(j, "properties");
	FIRN_TRY(firn_ice__check_new_ident(ns, name, err));
	FIRN_TRY(has_views(c, err));
	FIRN_TRY(namespace_needed(c, ns, err));
	FIRN_TRY(name_free(c, ns, name, err));
	char *loc = NULL;
	int rc = given ? location_allowed(c, given, err)
		       : firn_ice__choose_location(c, ns, name, NULL, &loc, err);
	json_t *updates = rc == 0 ? create_updates(j, given ? given : loc) : NULL;
	json_t *v = NULL;
	size_t changes;
	if (rc == 0 && !updates)
		rc = nomem(err);
	if (rc == 0)
		rc = updates_allowed(c, updates, err);
	if (rc == 0)
		rc = firn_ice__view_build(NULL, updates, &v, &changes, err);
	if (rc == 0)
		rc = publish_new(c, ns, name, v, result, err);
	json_decref(v);
	json_decref(updates);
	firn_free(loc);
	return rc;
}

int firn_catalog_view_create_json(struct firn_catalog *c, const char *ns, const char *body,
				  char **result, struct firn_error *err)
{
	*result = NULL;
	json_t *j;
	FIRN_TRY(firn_ice__request_parse(body, "create view request", &j, err));
	int rc = create_request_check(j, err);
	if (rc == 0)
		rc = create_view(c, ns, j, result, err);
	json_decref(j);
	return rc;
}

int firn_catalog_view_register_json(struct firn_catalog *c, const char *ns, const char *body,
				    char **result, struct firn_error *err)
{
	*result = NULL;
	json_t *j;
	FIRN_TRY(firn_ice__request_parse(body, "register view request", &j, err));
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *mloc = json_string_value(json_object_get(j, "metadata-location"));
	json_t *v = NULL;
	int rc = name && mloc && *mloc ? 0 : firn_error_set(err, FIRN_EINVAL, "register view "
							    "request needs name and metadata-location");
	if (rc == 0)
		rc = firn_ice__check_new_ident(ns, name, err);
	if (rc == 0)
		rc = has_views(c, err);
	if (rc == 0)
		rc = namespace_needed(c, ns, err);
	if (rc == 0)
		rc = name_free(c, ns, name, err);
	/* confined before it is read: an error about a file outside the
	 * warehouse would show its bytes */
	if (rc == 0)
		rc = firn_ice__confine_check(c, mloc, err);
	if (rc == 0 && (rc = firn_ice__view_read(mloc, &v, err)) == FIRN_ECORRUPT)
		rc = FIRN_EINVAL; /* the client named it: bad input, not damage here */
	if (rc == FIRN_EINVAL && err)
		err->code = FIRN_EINVAL;
	if (rc == 0)
		rc = c->ops->view_create(c->self, ns, name, mloc, err);
	if (rc == 0)
		rc = load_result(mloc, v, result, err);
	json_decref(v);
	json_decref(j);
	return rc;
}

/* ---- commit ------------------------------------------------------------ */

/* One attempt: the requirements checked against the metadata read now,
 * the updates applied, the new file written and the pointer swapped.
 * FIRN_ECONFLICT with *final false: the pointer moved meanwhile. */
static int attempt(struct firn_catalog *c, const char *ns, const char *name, const json_t *req,
		   const json_t *updates, char **result, bool *final, struct firn_error *err)
{
	*final = true;
	char *loc = NULL, *file = NULL;
	json_t *cur = NULL, *v = NULL;
	size_t changes = 0;
	FIRN_TRY(view_current(c, ns, name, &loc, &cur, err));
	int rc = firn_ice__view_requirements_check(cur, req, err);
	if (rc == 0)
		rc = firn_ice__view_build(cur, updates, &v, &changes, err);
	if (rc == 0 && changes == 0) /* nothing changed: nothing to write */
		rc = load_result(loc, cur, result, err);
	else if (rc == 0 && (rc = firn_ice__view_write(v, loc, &file, err)) == 0) {
		rc = c->ops->view_swap(c->self, ns, name, loc, file, err);
		if (rc == FIRN_ECONFLICT || rc == FIRN_ENOTFOUND)
			firn_io_delete(file, NULL); /* nothing points at it */
		*final = rc != FIRN_ECONFLICT;
		if (rc == 0)
			rc = load_result(file, v, result, err);
	}
	firn_free(file);
	firn_free(loc);
	json_decref(cur);
	json_decref(v);
	return rc;
}

int firn_catalog_view_commit_json(struct firn_catalog *c, const char *ns, const char *name,
				  const char *body, char **result, struct firn_error *err)
{
	*result = NULL;
	json_t *j;
	FIRN_TRY(firn_ice__request_parse(body, "commit view request", &j, err));
	const json_t *updates = json_object_get(j, "updates");
	const json_t *req = json_object_get(j, "requirements");
	int rc = json_is_array(updates) ? 0 : firn_error_set(err, FIRN_EINVAL, "commit view "
							     "request: updates is not an array");
	if (rc == 0 && req && !json_is_null(req) && !json_is_array(req))
		rc = firn_error_set(err, FIRN_EINVAL, "commit view request: requirements is not an "
				    "array");
	if (rc == 0)
		rc = has_views(c, err);
	if (rc == 0)
		rc = updates_allowed(c, updates, err);
	for (int n = 0; rc == 0; n++) {
		bool final;
		rc = attempt(c, ns, name, req, updates, result, &final, err);
		if (rc == 0 || final)
			break;
		if (n + 1 >= VIEW_COMMIT_ATTEMPTS) {
			char why[FIRN_ERROR_MESSAGE_MAX];
			snprintf(why, sizeof(why), "%s", err ? err->message : "");
			rc = firn_error_set(err, FIRN_ECONFLICT, "%s.%s: gave up after %d attempts: %s", ns,
					    name, n + 1, why);
			break;
		}
		firn_ice__back_off(n, VIEW_COMMIT_WAIT_MS, VIEW_COMMIT_MAX_WAIT_MS);
		rc = 0;
	}
	json_decref(j);
	return rc;
}
