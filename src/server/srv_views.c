/* The view routes: list, create, load, exists, commit (replace through
 * view updates), drop, rename, register. The work is catalog.h's view
 * requests; this file checks names and maps the answers to the statuses
 * and exception types Java's REST client expects of views. */
#include <stdio.h>
#include <string.h>

#include "srv_private.h"

/* A view error as its status: the types Java's client turns into
 * NoSuchViewException, NoSuchNamespaceException, AlreadyExistsException,
 * CommitFailedException and IllegalArgumentException. */
static int view_fail(struct srv_call *x, const struct firn_error *err, bool commit)
{
	const char *m = err->message;
	switch (err->code) {
	case FIRN_EINVAL:
		return firn_server__error(x, 400, "IllegalArgumentException", "%s", m);
	case FIRN_EUNSUPPORTED:
		return firn_server__error(x, 400, "BadRequestException", "%s", m);
	case FIRN_ENOTFOUND:
		return firn_server__error(x, 404, strncmp(m, "Namespace ", 10) == 0 ||
					  strncmp(m, "namespace ", 10) == 0
					  ? "NoSuchNamespaceException" : "NoSuchViewException", "%s", m);
	case FIRN_EEXISTS:
		return firn_server__error(x, 409, "AlreadyExistsException", "%s", m);
	case FIRN_ECONFLICT:
		return firn_server__error(x, 409, "CommitFailedException", "%s", m);
	default:
		return firn_server__fail(x, err, commit);
	}
}

/* The namespace of the path and, with_view, its view name (seg[3]);
 * false after answering 400. */
static bool path_view(struct srv_call *x, char **ns, bool with_view)
{
	*ns = firn_server__ns_from_segment(x, x->seg[1]);
	if (*ns && with_view && !firn_server__name_ok(x, x->seg[3], "view")) {
		firn_free(*ns);
		*ns = NULL;
	}
	return *ns != NULL;
}

int firn_server__view_list(struct srv_call *x)
{
	char *ns;
	if (!path_view(x, &ns, false))
		return 0;
	struct firn_catalog *c = firn_server__catalog(x);
	struct firn_error err = { 0 };
	char **names = NULL;
	size_t n = 0;
	if (!c) {
		/* answered */
	} else if (firn_catalog_view_list(c, ns, &names, &n, &err) != 0) {
		view_fail(x, &err, false);
	} else {
		firn_server__identifiers(x, ns, names, n);
	}
	firn_catalog_strings_free(names, n);
	firn_free(ns);
	return 0;
}

/* create and register: a body naming the view, answered by call with a
 * LoadViewResult. */
static int named_request(struct srv_call *x,
			 int (*call)(struct firn_catalog *, const char *, const char *, char **,
				     struct firn_error *))
{
	char *ns;
	if (!path_view(x, &ns, false))
		return 0;
	json_t *body = firn_server__body(x);
	const char *name = body ? json_string_value(json_object_get(body, "name")) : NULL;
	struct firn_catalog *c = NULL;
	if (body && !name)
		firn_server__error(x, 400, "BadRequestException", "the request has no view name");
	else if (name && firn_server__name_ok(x, name, "view") && (c = firn_server__catalog(x))) {
		char *result = NULL;
		struct firn_error err = { 0 };
		if (call(c, ns, x->body, &result, &err) != 0)
			view_fail(x, &err, false);
		else
			firn_server__text(x, 200, result);
	}
	json_decref(body);
	firn_free(ns);
	return 0;
}

int firn_server__view_create(struct srv_call *x)
{
	return named_request(x, firn_catalog_view_create_json);
}

int firn_server__view_load(struct srv_call *x)
{
	char *ns;
	if (!path_view(x, &ns, true))
		return 0;
	struct firn_catalog *c = firn_server__catalog(x);
	if (c) {
		char *result = NULL;
		struct firn_error err = { 0 };
		if (firn_catalog_view_load_json(c, ns, x->seg[3], NULL, &result, &err) != 0)
			view_fail(x, &err, false);
		else
			firn_server__text(x, 200, result);
	}
	firn_free(ns);
	return 0;
}

int firn_server__view_exists(struct srv_call *x)
{
	char *ns;
	if (!path_view(x, &ns, true))
		return 0;
	struct firn_catalog *c = firn_server__catalog(x);
	if (c) {
		char *loc = NULL, *result = NULL;
		struct firn_error err = { 0 };
		int rc = firn_catalog_view_load_json(c, ns, x->seg[3], &loc, &result, &err);
		if (rc == 0 || rc == FIRN_ENOTFOUND)
			firn_server__empty(x, rc == 0 ? 204 : 404);
		else
			view_fail(x, &err, false);
		firn_free(loc);
		firn_free(result);
	}
	firn_free(ns);
	return 0;
}

int firn_server__view_commit(struct srv_call *x)
{
	char *ns;
	if (!path_view(x, &ns, true))
		return 0;
	json_t *body = firn_server__body(x);
	struct firn_catalog *c = body ? firn_server__catalog(x) : NULL;
	if (c) {
		char *result = NULL;
		struct firn_error err = { 0 };
		if (firn_catalog_view_commit_json(c, ns, x->seg[3], x->body, &result, &err) != 0)
			view_fail(x, &err, true);
		else
			firn_server__text(x, 200, result);
	}
	json_decref(body);
	firn_free(ns);
	return 0;
}

int firn_server__view_drop(struct srv_call *x)
{
	char *ns;
	if (!path_view(x, &ns, true))
		return 0;
	struct firn_catalog *c = firn_server__catalog(x);
	if (c) {
		struct firn_error err = { 0 };
		if (firn_catalog_view_drop(c, ns, x->seg[3], &err) != 0)
			view_fail(x, &err, false);
		else
			firn_server__empty(x, 204);
	}
	firn_free(ns);
	return 0;
}

/* A TableIdentifier of a rename body: its namespace (*ns, firn_malloc'd)
 * and name (borrowed); false after answering 400. */
static bool body_ident(struct srv_call *x, json_t *id, const char *what, char **ns,
		       const char **name)
{
	*ns = NULL;
	*name = json_string_value(json_object_get(id, "name"));
	if (!json_is_object(id) || !*name) {
		firn_server__error(x, 400, "BadRequestException", "%s must be an identifier with a "
				   "namespace and a name", what);
		return false;
	}
	*ns = firn_server__ns_from_json(x, json_object_get(id, "namespace"));
	if (*ns && !firn_server__name_ok(x, *name, "view")) {
		firn_free(*ns);
		*ns = NULL;
	}
	return *ns != NULL;
}

int firn_server__view_rename(struct srv_call *x)
{
	json_t *body = firn_server__body(x);
	char *from_ns = NULL, *to_ns = NULL;
	const char *from, *to;
	struct firn_catalog *c = NULL;
	if (body && body_ident(x, json_object_get(body, "source"), "source", &from_ns, &from) &&
	    body_ident(x, json_object_get(body, "destination"), "destination", &to_ns, &to) &&
	    (c = firn_server__catalog(x))) {
		struct firn_error err = { 0 };
		if (firn_catalog_view_rename(c, from_ns, from, to_ns, to, &err) != 0)
			view_fail(x, &err, false);
		else
			firn_server__empty(x, 204);
	}
	firn_free(from_ns);
	firn_free(to_ns);
	json_decref(body);
	return 0;
}

int firn_server__view_register(struct srv_call *x)
{
	return named_request(x, firn_catalog_view_register_json);
}
