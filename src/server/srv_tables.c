/* The table routes: list, create (staged too), register, load (with its
 * ETag), exists, commit, drop, rename, metrics, the multi-table
 * transaction. The work is the catalog's (catalog.h's JSON requests and
 * table.h); this file checks names and bodies and maps the answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firn/io.h"
#include "firn/table.h"
#include "srv_private.h"

/* "ns.name", firn_malloc'd (NULL after answering 500). */
static char *ident_of(struct srv_call *x, const char *ns, const char *name)
{
	struct firn_buf b = FIRN_BUF_INIT;
	if (firn_buf_printf(&b, "%s.%s", ns, name) != 0 || firn_buf_cstr(&b) != 0) {
		firn_buf_free(&b);
		firn_server__error(x, 500, "ServiceFailureException", "out of memory");
		return NULL;
	}
	return (char *)firn_buf_detach(&b, NULL);
}

/* The namespace of the path and, given ident, its table "ns.name"
 * (namespaces/{ns}/tables/{t}), both firn_malloc'd and named in the
 * call's errors; false after answering. */
static bool path_ident(struct srv_call *x, char **ns, char **ident)
{
	*ns = firn_server__ns_from_segment(x, x->seg[1]);
	if (!*ns)
		return false;
	x->about_ns = *ns;
	if (!ident)
		return true;
	*ident = firn_server__name_ok(x, x->seg[3], "table") ? ident_of(x, *ns, x->seg[3]) : NULL;
	if (!*ident) {
		x->about_ns = NULL;
		firn_free(*ns);
		*ns = NULL;
		return false;
	}
	x->about_table = *ident;
	return true;
}

/* A TableIdentifier {"namespace": [...], "name": "..."} as "ns.name". */
static char *ident_json(struct srv_call *x, json_t *id, const char *what)
{
	if (!json_is_object(id)) {
		firn_server__error(x, 400, "BadRequestException", "%s must be a table identifier", what);
		return NULL;
	}
	const char *name = json_string_value(json_object_get(id, "name"));
	if (!name) {
		firn_server__error(x, 400, "BadRequestException", "%s has no name", what);
		return NULL;
	}
	char *ns = firn_server__ns_from_json(x, json_object_get(id, "namespace"));
	char *ident = ns && firn_server__name_ok(x, name, "table") ? ident_of(x, ns, name) : NULL;
	firn_free(ns);
	return ident;
}

int firn_server__table_list(struct srv_call *x)
{
	char *ns;
	if (!path_ident(x, &ns, NULL))
		return 0;
	struct firn_catalog *c = firn_server__catalog(x);
	struct firn_error err = { 0 };
	char **names = NULL;
	size_t n = 0;
	int ex = 0;
	if (!c) {
		/* answered */
	} else if ((ex = firn_catalog_namespace_exists(c, ns, &err)) <= 0) {
		if (ex == 0)
			firn_server__error(x, 404, "NoSuchNamespaceException", "Namespace does not "
					   "exist: %s", ns);
		else
			firn_server__fail(x, &err, false);
	} else if (firn_catalog_table_list(c, ns, &names, &n, &err) != 0) {
		firn_server__fail(x, &err, false);
	} else {
		firn_server__identifiers(x, ns, names, n);
	}
	firn_catalog_strings_free(names, n);
	firn_free(ns);
	return 0;
}

int firn_server__table_create(struct srv_call *x)
{
	char *ns;
	if (!path_ident(x, &ns, NULL))
		return 0;
	json_t *body = firn_server__body(x);
	const char *name = body ? json_string_value(json_object_get(body, "name")) : NULL;
	struct firn_catalog *c = NULL;
	char *ident = NULL;
	if (body && !name)
		firn_server__error(x, 400, "BadRequestException", "the request has no table name");
	else if (name && firn_server__name_ok(x, name, "table") &&
		 (ident = ident_of(x, ns, name)) && (c = firn_server__catalog(x))) {
		char *result = NULL;
		struct firn_error err = { 0 };
		x->about_new = ident;
		if (firn_catalog_table_create_json(c, ns, x->body, &result, &err) != 0)
			firn_server__fail(x, &err, false);
		else
			firn_server__text(x, 200, result);
	}
	json_decref(body);
	firn_free(ident);
	firn_free(ns);
	return 0;
}

/* An ETag for the table's state: its metadata file (and what of it the
 * response holds). */
static void etag_of(char out[24], const char *location, const char *mode)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const char *p = location; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (const char *p = mode; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

/* Whether the If-None-Match header names etag (or is "*"). */
static bool etag_matches(struct srv_call *x, const char *etag)
{
	const char *h = x->srv->mhd->lookup_connection_value(x->conn, MHD_HEADER_KIND,
							     "If-None-Match");
	if (!h)
		return false;
	if (strcmp(h, "*") == 0)
		return true;
	return strstr(h, etag) != NULL;
}

static bool referenced(json_t *refs, json_t *snap)
{
	json_t *id = json_object_get(snap, "snapshot-id");
	const char *k;
	json_t *r;
	json_object_foreach(refs, k, r) {
		if (json_equal(json_object_get(r, "snapshot-id"), id))
			return true;
	}
	return false;
}

/* snapshots=refs: only the snapshots a branch or tag points to. */
static char *only_ref_snapshots(char *result)
{
	json_t *v = json_loads(result, 0, NULL);
	json_t *m = v ? json_object_get(v, "metadata") : NULL;
	json_t *snaps = m ? json_object_get(m, "snapshots") : NULL;
	json_t *refs = m ? json_object_get(m, "refs") : NULL;
	if (!json_is_array(snaps) || !json_is_object(refs)) {
		json_decref(v);
		return result;
	}
	for (size_t i = json_array_size(snaps); i-- > 0;)
		if (!referenced(refs, json_array_get(snaps, i)))
			json_array_remove(snaps, i);
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (!s)
		return result;
	firn_free(result);
	return s;
}

/* A table in object storage: the answer's "config" tells clients how to
 * reach it (endpoint, region, addressing; the server's own credentials
 * only with --vend-credentials). */
static char *with_storage_config(const struct srv_call *x, const char *loc, char *result)
{
	if (!loc || strncmp(loc, "s3://", 5) != 0)
		return result;
	json_t *v = json_loads(result, 0, NULL);
	json_t *conf = json_object();
	static const char *const keys[] = { "s3.endpoint", "s3.region", "s3.path-style-access",
					    "s3.access-key-id", "s3.secret-access-key",
					    "s3.session-token" };
	size_t n = x->srv->o.vend_credentials ? 6 : 3;
	for (size_t i = 0; v && conf && i < n; i++) {
		char *val = NULL;
		if (firn_io_s3_get(keys[i], &val, NULL) == 0 && val)
			json_object_set_new(conf, keys[i], json_string(val));
		if (i == 1 && val)
			json_object_set_new(conf, "client.region", json_string(val));
		firn_free(val);
	}
	if (v && conf)
		json_object_set(v, "config", conf);
	json_decref(conf);
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(v);
	if (!s)
		return result;
	firn_free(result);
	return s;
}

int firn_server__table_load(struct srv_call *x)
{
	char *ns, *ident;
	if (!path_ident(x, &ns, &ident))
		return 0;
	bool bad = false;
	char *mode = firn_server__form_get(x->query, x->query ? strlen(x->query) : 0, "snapshots",
					   &bad);
	struct firn_catalog *c = NULL;
	if (bad || (mode && strcmp(mode, "all") != 0 && strcmp(mode, "refs") != 0)) {
		firn_server__error(x, 400, "BadRequestException", "snapshots must be all or refs");
	} else if ((c = firn_server__catalog(x)) != NULL) {
		const char *m = mode ? mode : "all";
		char *loc = NULL, *result = NULL;
		struct firn_error err = { 0 };
		/* where the table is (one catalog query): a client that has it, or
		 * a cached answer for that file, needs no read of the file. A
		 * metadata file never changes, but it can be deleted: one stat,
		 * and a gone file is found by the load below. */
		struct firn_io_entry st;
		struct firn_error serr = { 0 };
		if (firn_catalog_table_load(c, ns, x->seg[3], &loc, &err) == 0 &&
		    firn_io_stat(loc, &st, &serr) == 0) {
			etag_of(x->etag, loc, m);
			if (etag_matches(x, x->etag)) {
				firn_server__empty(x, 304);
				goto done;
			}
			if ((result = firn_server__cache_get(x->srv->cache, loc, m)) != NULL) {
				firn_server__text(x, 200, result);
				goto done;
			}
		}
		firn_free(loc);
		loc = NULL;
		firn_error_clear(&err);
		if (firn_catalog_table_load_json(c, ns, x->seg[3], &loc, &result, &err) != 0) {
			firn_server__fail(x, &err, false);
		} else {
			etag_of(x->etag, loc ? loc : "", m);
			if (etag_matches(x, x->etag)) {
				firn_server__empty(x, 304);
				firn_free(result);
			} else {
				if (strcmp(m, "refs") == 0)
					result = only_ref_snapshots(result);
				result = with_storage_config(x, loc, result);
				if (loc)
					firn_server__cache_put(x->srv->cache, loc, m, result);
				firn_server__text(x, 200, result);
			}
		}
done:
		firn_free(loc);
	}
	firn_free(mode);
	firn_free(ident);
	firn_free(ns);
	return 0;
}

int firn_server__table_exists(struct srv_call *x)
{
	char *ns, *ident;
	if (!path_ident(x, &ns, &ident))
		return 0;
	struct firn_catalog *c = firn_server__catalog(x);
	if (c) {
		char *loc = NULL;
		struct firn_error err = { 0 };
		int rc = firn_catalog_table_load(c, ns, x->seg[3], &loc, &err);
		if (rc == 0 || rc == FIRN_ENOTFOUND)
			firn_server__empty(x, rc == 0 ? 204 : 404);
		else
			firn_server__fail(x, &err, false);
		firn_free(loc);
	}
	firn_free(ident);
	firn_free(ns);
	return 0;
}

int firn_server__table_commit(struct srv_call *x)
{
	char *ns, *ident;
	if (!path_ident(x, &ns, &ident))
		return 0;
	json_t *body = firn_server__body(x);
	struct firn_catalog *c = body ? firn_server__catalog(x) : NULL;
	if (c) {
		char *result = NULL;
		struct firn_error err = { 0 };
		if (firn_catalog_table_commit_json(c, ns, x->seg[3], x->body, &result, &err) != 0)
			firn_server__fail(x, &err, true);
		else
			firn_server__text(x, 200, result);
	}
	json_decref(body);
	firn_free(ident);
	firn_free(ns);
	return 0;
}

int firn_server__table_drop(struct srv_call *x)
{
	char *ns, *ident;
	if (!path_ident(x, &ns, &ident))
		return 0;
	bool bad = false;
	char *purge = firn_server__form_get(x->query, x->query ? strlen(x->query) : 0,
					    "purgeRequested", &bad);
	struct firn_catalog *c = NULL;
	/* any case: PyIceberg sends Python's True and False */
	if (bad || (purge && strcasecmp(purge, "true") != 0 && strcasecmp(purge, "false") != 0)) {
		firn_server__error(x, 400, "BadRequestException", "purgeRequested must be true or false");
	} else if ((c = firn_server__catalog(x)) != NULL) {
		struct firn_error err = { 0 };
		if (firn_table_drop(c, ident, purge && strcasecmp(purge, "true") == 0, NULL, &err) != 0)
			firn_server__fail(x, &err, false);
		else
			firn_server__empty(x, 204);
	}
	firn_free(ident);
	firn_free(purge);
	firn_free(ns);
	return 0;
}

/* A local location's path with links resolved (realpath: it must exist);
 * NULL for anything else. free() it. */
static char *real_local(const char *loc)
{
	if (strncmp(loc, "file://", 7) == 0)
		loc += 7;
	else if (strncmp(loc, "file:", 5) == 0)
		loc += 5;
	return loc[0] == '/' ? realpath(loc, NULL) : NULL;
}

/* Whether a metadata file a client names lies in the warehouse or under
 * an allowed location (--allow-location), links resolved. A guard of its
 * own, in front of the catalog's confinement, because registering reads
 * the file: an error about a file outside would show its bytes. Answers
 * 400 if not. */
static bool in_warehouse(struct srv_call *x, struct firn_catalog *c, const char *loc)
{
	char *want = real_local(loc);
	bool ok = false;
	for (size_t i = 0; want && !ok && i <= x->srv->n_allow; i++) {
		char *root = real_local(i == 0 ? firn_catalog_warehouse(c) : x->srv->allow[i - 1]);
		size_t n = root ? strlen(root) : 0;
		ok = root && strncmp(want, root, n) == 0 && want[n] == '/';
		free(root);
	}
	free(want);
	if (!ok)
		firn_server__error(x, 400, "BadRequestException", "metadata-location %s is not a file in "
				   "the warehouse%s", loc,
				   x->srv->n_allow ? " or an allowed location" : "");
	return ok;
}

/* Whether ns.name exists (then answers 409, as Java does before it looks
 * at anything else the request names), or the check failed (answered). */
static bool taken(struct srv_call *x, struct firn_catalog *c, const char *ns, const char *name)
{
	char *loc = NULL;
	struct firn_error err = { 0 };
	int rc = firn_catalog_table_load(c, ns, name, &loc, &err);
	firn_free(loc);
	if (rc == 0)
		firn_server__error(x, 409, "AlreadyExistsException",
				   "Table already exists: %s.%s", ns, name);
	else if (rc != FIRN_ENOTFOUND)
		firn_server__fail(x, &err, false);
	return rc != FIRN_ENOTFOUND;
}

int firn_server__table_register(struct srv_call *x)
{
	char *ns;
	if (!path_ident(x, &ns, NULL))
		return 0;
	json_t *body = firn_server__body(x);
	const char *name = body ? json_string_value(json_object_get(body, "name")) : NULL;
	const char *meta = body ? json_string_value(json_object_get(body, "metadata-location")) : NULL;
	char *ident = NULL;
	struct firn_catalog *c = NULL;
	if (!body) {
		/* answered */
	} else if (!name || !meta) {
		firn_server__error(x, 400, "BadRequestException", "register needs name and "
				   "metadata-location");
	} else if (json_is_true(json_object_get(body, "overwrite"))) {
		firn_server__error(x, 400, "BadRequestException", "register with overwrite is not "
				   "supported");
	} else if (firn_server__name_ok(x, name, "table") && (ident = ident_of(x, ns, name)) &&
		   (c = firn_server__catalog(x)) && !taken(x, c, ns, name) &&
		   in_warehouse(x, c, meta)) {
		char *result = NULL;
		struct firn_error err = { 0 };
		x->about_new = ident;
		if (firn_table_register(c, ident, meta, &err) != 0 ||
		    firn_catalog_table_load_json(c, ns, name, NULL, &result, &err) != 0)
			firn_server__fail(x, &err, false);
		else
			firn_server__text(x, 200, result);
	}
	firn_free(ident);
	json_decref(body);
	firn_free(ns);
	return 0;
}

int firn_server__table_metrics(struct srv_call *x)
{
	char *ns, *ident;
	if (!path_ident(x, &ns, &ident))
		return 0;
	json_t *body = firn_server__body(x);
	if (body)
		firn_server__empty(x, 204); /* accepted; firn keeps no metrics */
	json_decref(body);
	firn_free(ident);
	firn_free(ns);
	return 0;
}

int firn_server__table_rename(struct srv_call *x)
{
	json_t *body = firn_server__body(x);
	char *from = body ? ident_json(x, json_object_get(body, "source"), "source") : NULL;
	char *to = from ? ident_json(x, json_object_get(body, "destination"), "destination") : NULL;
	/* a missing namespace is the destination's (a missing source is a missing table) */
	char *to_ns = to ? firn_strdup(to) : NULL;
	if (to_ns)
		*strrchr(to_ns, '.') = '\0';
	else if (to)
		firn_server__error(x, 500, "ServiceFailureException", "out of memory");
	struct firn_catalog *c = to_ns ? firn_server__catalog(x) : NULL;
	if (c) {
		struct firn_error err = { 0 };
		x->about_ns = to_ns;
		x->about_table = from;
		x->about_new = to;
		if (firn_table_rename(c, from, to, &err) != 0)
			firn_server__fail(x, &err, false);
		else
			firn_server__empty(x, 204);
	}
	firn_free(from);
	firn_free(to);
	firn_free(to_ns);
	json_decref(body);
	return 0;
}

int firn_server__transaction(struct srv_call *x)
{
	json_t *body = firn_server__body(x);
	struct firn_catalog *c = body ? firn_server__catalog(x) : NULL;
	if (c) {
		struct firn_error err = { 0 };
		if (firn_catalog_transaction_json(c, x->body, &err) != 0)
			firn_server__fail(x, &err, true);
		else
			firn_server__empty(x, 204);
	}
	json_decref(body);
	return 0;
}
