/* The server's routes: one table of (method, path, handler), which also
 * gives config's "endpoints" list, so the two cannot disagree; the config,
 * namespace and paging handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_private.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PAGE_SIZE 100000

static int config(struct srv_call *x);
static int ns_list(struct srv_call *x);
static int ns_create(struct srv_call *x);
static int ns_load(struct srv_call *x);
static int ns_exists(struct srv_call *x);
static int ns_drop(struct srv_call *x);
static int ns_properties(struct srv_call *x);

struct route {
	const char *method;
	const char *path;   /* after /v1/ (and the prefix); {x} matches one segment */
	bool prefixed;      /* under /v1/{prefix}/, and listed in config's endpoints */
	int (*run)(struct srv_call *x);
};

static const struct route routes[] = {
	{ "GET", "config", false, config },
	{ "POST", "oauth/tokens", false, firn_server__oauth_token },
	{ "GET", "namespaces", true, ns_list },
	{ "POST", "namespaces", true, ns_create },
	{ "GET", "namespaces/{namespace}", true, ns_load },
	{ "HEAD", "namespaces/{namespace}", true, ns_exists },
	{ "DELETE", "namespaces/{namespace}", true, ns_drop },
	{ "POST", "namespaces/{namespace}/properties", true, ns_properties },
	{ "GET", "namespaces/{namespace}/tables", true, firn_server__table_list },
	{ "POST", "namespaces/{namespace}/tables", true, firn_server__table_create },
	{ "POST", "namespaces/{namespace}/register", true, firn_server__table_register },
	{ "GET", "namespaces/{namespace}/tables/{table}", true, firn_server__table_load },
	{ "HEAD", "namespaces/{namespace}/tables/{table}", true, firn_server__table_exists },
	{ "POST", "namespaces/{namespace}/tables/{table}", true, firn_server__table_commit },
	{ "DELETE", "namespaces/{namespace}/tables/{table}", true, firn_server__table_drop },
	{ "POST", "namespaces/{namespace}/tables/{table}/metrics", true, firn_server__table_metrics },
	{ "POST", "tables/rename", true, firn_server__table_rename },
	{ "POST", "transactions/commit", true, firn_server__transaction },
	{ "GET", "namespaces/{namespace}/views", true, firn_server__view_list },
	{ "POST", "namespaces/{namespace}/views", true, firn_server__view_create },
	{ "GET", "namespaces/{namespace}/views/{view}", true, firn_server__view_load },
	{ "HEAD", "namespaces/{namespace}/views/{view}", true, firn_server__view_exists },
	{ "POST", "namespaces/{namespace}/views/{view}", true, firn_server__view_commit },
	{ "DELETE", "namespaces/{namespace}/views/{view}", true, firn_server__view_drop },
	{ "POST", "views/rename", true, firn_server__view_rename },
	{ "POST", "namespaces/{namespace}/register-view", true, firn_server__view_register },
};

static bool path_matches(const char *pattern, char **seg, size_t n)
{
	const char *p = pattern;
	for (size_t i = 0; i < n; i++) {
		if (!*p)
			return false;
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (p[0] != '{' && (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0))
			return false;
		p += len + (slash != NULL);
	}
	return *p == '\0';
}

/* Answers from the routes of x's path, if any: the method's, or 405.
 * prefixed: the path came without its prefix. */
static bool route(struct srv_call *x, bool prefixed)
{
	const struct route *hit = NULL;
	size_t an = 0;
	x->allow_buf[0] = '\0';
	for (size_t i = 0; i < N(routes); i++) {
		if ((prefixed && !routes[i].prefixed) || !path_matches(routes[i].path, x->seg, x->n_seg))
			continue;
		if (strcmp(routes[i].method, x->method) == 0)
			hit = &routes[i];
		an += (size_t)snprintf(x->allow_buf + an, sizeof(x->allow_buf) - an, "%s%s",
				       an ? ", " : "", routes[i].method);
		if (an >= sizeof(x->allow_buf))
			an = sizeof(x->allow_buf) - 1;
	}
	if (hit) {
		hit->run(x);
		return true;
	}
	if (an == 0)
		return false;
	x->allow = x->allow_buf;
	firn_server__error(x, 405, "MethodNotAllowedException", "%s is not allowed here (only %s)",
			   x->method, x->allow_buf);
	return true;
}

void firn_server__dispatch(struct srv_call *x)
{
	if (route(x, false))
		return;
	const char *prefix = x->srv->prefix;
	if (prefix && x->n_seg > 1 && strcmp(x->seg[0], prefix) == 0) {
		firn_free(x->seg[0]);
		memmove(x->seg, x->seg + 1, (x->n_seg - 1) * sizeof(*x->seg));
		x->n_seg--;
		if (route(x, true))
			return;
	}
	firn_server__error(x, 404, "NotFoundException", "no route for %s %s", x->method,
			   "this path");
}

/* ---- config ---------------------------------------------------------------- */

static int config(struct srv_call *x)
{
	json_t *endpoints = json_array();
	for (size_t i = 0; endpoints && i < N(routes); i++) {
		if (!routes[i].prefixed)
			continue;
		char e[128];
		snprintf(e, sizeof(e), "%s /v1/{prefix}/%s", routes[i].method, routes[i].path);
		json_array_append_new(endpoints, json_string(e));
	}
	json_t *overrides = json_object();
	if (overrides && x->srv->prefix)
		json_object_set_new(overrides, "prefix", json_string(x->srv->prefix));
	return firn_server__json(x, 200, json_pack("{s:{},s:o*,s:o*,s:s}", "defaults", "overrides",
						   overrides, "endpoints", endpoints,
						   "idempotency-key-lifetime", "PT30M"));
}

/* ---- paging -------------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int firn_server__page(struct srv_call *x, char **names, size_t n, size_t *from, size_t *to,
		      const char **next)
{
	qsort(names, n, sizeof(*names), cmp_names);
	bool bad = false;
	char *size_s = firn_server__form_get(x->query, x->query ? strlen(x->query) : 0, "pageSize",
					     &bad);
	char *token = firn_server__form_get(x->query, x->query ? strlen(x->query) : 0, "pageToken",
					    &bad);
	long size = 0;
	if (size_s) {
		char *end;
		size = strtol(size_s, &end, 10);
		bad |= !*size_s || *end || size < 1 || size > MAX_PAGE_SIZE;
	}
	if (bad) {
		firn_free(size_s);
		firn_free(token);
		firn_server__error(x, 400, "BadRequestException", "pageSize must be 1 to %d, and "
				   "pageToken a token a listing gave", MAX_PAGE_SIZE);
		return -1;
	}
	*from = 0;
	if (token && *token)
		while (*from < n && strcmp(names[*from], token) <= 0)
			(*from)++;
	*to = size && n - *from > (size_t)size ? *from + (size_t)size : n;
	*next = *to < n && *to > *from ? names[*to - 1] : NULL;
	firn_free(size_s);
	firn_free(token);
	return 0;
}

int firn_server__identifiers(struct srv_call *x, const char *ns, char **names, size_t n)
{
	size_t from, to;
	const char *next;
	if (firn_server__page(x, names, n, &from, &to, &next) != 0)
		return 0; /* answered */
	json_t *a = json_array();
	for (size_t i = from; a && i < to; i++)
		json_array_append_new(a, json_pack("{s:o*,s:s}", "namespace", firn_server__ns_json(ns),
						   "name", names[i]));
	return firn_server__json(x, 200, json_pack("{s:o*,s:s?}", "identifiers", a,
						   "next-page-token", next));
}

/* ---- namespaces -------------------------------------------------------------- */

static json_t *props_json(char **keys, char **values, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, keys[i], json_string(values[i]));
	return o;
}

static int ns_list(struct srv_call *x)
{
	bool bad = false;
	char *parent_s = firn_server__form_get(x->query, x->query ? strlen(x->query) : 0, "parent",
					       &bad);
	if (bad)
		return firn_server__error(x, 400, "BadRequestException", "parent: bad percent-encoding");
	char *parent = NULL;
	if (parent_s && *parent_s && !(parent = firn_server__ns_from_segment(x, parent_s))) {
		firn_free(parent_s);
		return 0;
	}
	firn_free(parent_s);
	struct firn_catalog *c = firn_server__catalog(x);
	struct firn_error err = { 0 };
	char **names = NULL;
	size_t n = 0, from, to;
	const char *next;
	int ex = 1;
	if (!c) {
		/* answered */
	} else if (parent && (ex = firn_catalog_namespace_exists(c, parent, &err)) <= 0) {
		if (ex == 0)
			firn_server__error(x, 404, "NoSuchNamespaceException", "Namespace does not "
					   "exist: %s", parent);
		else
			firn_server__fail(x, &err, false);
	} else if (firn_catalog_namespace_list(c, parent, &names, &n, &err) != 0) {
		firn_server__fail(x, &err, false);
	} else if (firn_server__page(x, names, n, &from, &to, &next) == 0) {
		json_t *a = json_array();
		for (size_t i = from; a && i < to; i++)
			json_array_append_new(a, firn_server__ns_json(names[i]));
		firn_server__json(x, 200, json_pack("{s:o*,s:s?}", "namespaces", a,
						    "next-page-token", next));
	}
	firn_catalog_strings_free(names, n);
	firn_free(parent);
	return 0;
}

/* Properties of a request body: an object of strings (absent: none). */
static int string_map(struct srv_call *x, json_t *o, const char *what, const char ***keys,
		      const char ***values, size_t *n)
{
	*keys = *values = NULL;
	*n = 0;
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return firn_server__error(x, 400, "BadRequestException", "%s must be an object", what),
		       -1;
	size_t cap = json_object_size(o);
	*keys = firn_calloc(cap + 1, sizeof(char *));
	*values = firn_calloc(cap + 1, sizeof(char *));
	if (!*keys || !*values)
		return firn_server__error(x, 500, "ServiceFailureException", "out of memory"), -1;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) || !*k)
			return firn_server__error(x, 400, "BadRequestException", "%s: '%s' needs a "
						  "non-empty key and a string value", what, k), -1;
		(*keys)[*n] = k;
		(*values)[(*n)++] = json_string_value(v);
	}
	return 0;
}

static int ns_create(struct srv_call *x)
{
	json_t *body = firn_server__body(x);
	if (!body)
		return 0;
	const char **keys = NULL, **values = NULL;
	size_t n = 0;
	char *ns = firn_server__ns_from_json(x, json_object_get(body, "namespace"));
	struct firn_catalog *c = NULL;
	struct firn_error err = { 0 };
	if (ns && string_map(x, json_object_get(body, "properties"), "properties", &keys, &values,
			     &n) == 0 && (c = firn_server__catalog(x)) != NULL) {
		if (firn_catalog_namespace_create(c, ns, keys, values, n, &err) != 0) {
			if (err.code == FIRN_EEXISTS)
				firn_server__error(x, 409, "AlreadyExistsException",
						   "Namespace already exists: %s", ns);
			else
				firn_server__fail(x, &err, false);
		} else {
			json_t *p = json_object();
			for (size_t i = 0; p && i < n; i++)
				json_object_set_new(p, keys[i], json_string(values[i]));
			firn_server__json(x, 200, json_pack("{s:o*,s:o*}", "namespace",
							    firn_server__ns_json(ns), "properties", p));
		}
	}
	firn_free(keys);
	firn_free(values);
	firn_free(ns);
	json_decref(body);
	return 0;
}

static int ns_load(struct srv_call *x)
{
	char *ns = firn_server__ns_from_segment(x, x->seg[1]);
	struct firn_catalog *c = ns ? firn_server__catalog(x) : NULL;
	x->about_ns = ns;
	if (!c) {
		firn_free(ns);
		return 0;
	}
	char **keys = NULL, **values = NULL;
	size_t n = 0;
	struct firn_error err = { 0 };
	if (firn_catalog_namespace_properties(c, ns, &keys, &values, &n, &err) != 0)
		firn_server__fail(x, &err, false);
	else
		firn_server__json(x, 200, json_pack("{s:o*,s:o*}", "namespace", firn_server__ns_json(ns),
						    "properties", props_json(keys, values, n)));
	firn_catalog_strings_free(keys, n);
	firn_catalog_strings_free(values, n);
	firn_free(ns);
	return 0;
}

static int ns_exists(struct srv_call *x)
{
	char *ns = firn_server__ns_from_segment(x, x->seg[1]);
	struct firn_catalog *c = ns ? firn_server__catalog(x) : NULL;
	x->about_ns = ns;
	if (c) {
		struct firn_error err = { 0 };
		int ex = firn_catalog_namespace_exists(c, ns, &err);
		if (ex < 0)
			firn_server__fail(x, &err, false);
		else
			firn_server__empty(x, ex ? 204 : 404);
	}
	firn_free(ns);
	return 0;
}

static int ns_drop(struct srv_call *x)
{
	char *ns = firn_server__ns_from_segment(x, x->seg[1]);
	struct firn_catalog *c = ns ? firn_server__catalog(x) : NULL;
	x->about_ns = ns;
	if (c) {
		struct firn_error err = { 0 };
		if (firn_catalog_namespace_drop(c, ns, &err) == 0)
			firn_server__empty(x, 204);
		else if (err.code == FIRN_EINVAL)
			firn_server__error(x, 409, "NamespaceNotEmptyException", "%s", err.message);
		else
			firn_server__fail(x, &err, false);
	}
	firn_free(ns);
	return 0;
}

static bool has_key(char **keys, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], k) == 0)
			return true;
	return false;
}

/* The removals of a properties request: distinct strings, none also an
 * update. */
static int removals_of(struct srv_call *x, json_t *r, const char **set, size_t n_set,
		       const char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!r || json_is_null(r))
		return 0;
	if (!json_is_array(r))
		return firn_server__error(x, 400, "BadRequestException", "removals must be an array"), -1;
	*out = firn_calloc(json_array_size(r) + 1, sizeof(char *));
	if (!*out)
		return firn_server__error(x, 500, "ServiceFailureException", "out of memory"), -1;
	for (size_t i = 0; i < json_array_size(r); i++) {
		const char *k = json_string_value(json_array_get(r, i));
		if (!k)
			return firn_server__error(x, 400, "BadRequestException", "removals must be "
						  "strings"), -1;
		if (has_key((char **)set, n_set, k))
			return firn_server__error(x, 422, "UnprocessableEntityException", "'%s' is both "
						  "updated and removed", k), -1;
		if (!has_key((char **)*out, *n, k))
			(*out)[(*n)++] = k;
	}
	return 0;
}

static int ns_properties(struct srv_call *x)
{
	json_t *body = firn_server__body(x);
	char *ns = body ? firn_server__ns_from_segment(x, x->seg[1]) : NULL;
	const char **sk = NULL, **sv = NULL, **rk = NULL;
	size_t ns_ = 0, nr = 0, n = 0;
	char **keys = NULL, **values = NULL;
	struct firn_catalog *c = NULL;
	struct firn_error err = { 0 };
	if (!ns || string_map(x, json_object_get(body, "updates"), "updates", &sk, &sv, &ns_) != 0 ||
	    removals_of(x, json_object_get(body, "removals"), sk, ns_, &rk, &nr) != 0 ||
	    !(c = firn_server__catalog(x)))
		goto done;
	x->about_ns = ns;
	if (firn_catalog_namespace_properties(c, ns, &keys, &values, &n, &err) != 0 ||
	    firn_catalog_namespace_update(c, ns, sk, sv, ns_, rk, nr, &err) != 0) {
		firn_server__fail(x, &err, false);
		goto done;
	}
	json_t *updated = json_array(), *removed = json_array(), *missing = json_array();
	for (size_t i = 0; i < ns_; i++)
		json_array_append_new(updated, json_string(sk[i]));
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(has_key(keys, n, rk[i]) ? removed : missing, json_string(rk[i]));
	firn_server__json(x, 200, json_pack("{s:o*,s:o*,s:o*}", "updated", updated, "removed",
					    removed, "missing", missing));
done:
	firn_catalog_strings_free(keys, n);
	firn_catalog_strings_free(values, n);
	firn_free(sk);
	firn_free(sv);
	firn_free(rk);
	firn_free(ns);
	json_decref(body);
	return 0;
}
