/* The REST spec's table requests as JSON text (catalog.h): what `firn
 * serve` does with a request body, over the catalog interface. The create
 * request's own work (fresh ids) is in ice_create_request.c. */
#include <stdio.h>
#include <string.h>

#include "firn/catalog.h"
#include "firn/util.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_table.h"
#include "io/io_local.h"
#include "util/alloc.h"

/* How often a commit is tried when other writers keep moving the table
 * while its requirements still hold (the spec's server-side retry), and
 * the first pause between tries. */
#define COMMIT_ATTEMPTS 10
#define COMMIT_WAIT_MS 10
#define COMMIT_MAX_WAIT_MS 500

void firn_catalog_confine(struct firn_catalog *c, bool on)
{
	c->confined = on;
}

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

int firn_catalog_allow_location(struct firn_catalog *c, const char *prefix,
				struct firn_error *err)
{
	char scheme[16];
	bool known = firn_io__scheme(prefix, scheme, sizeof(scheme)) == 0;
	bool remote = known && scheme[0] && strcmp(scheme, "file") != 0;
	bool absolute = remote || (known && firn_io__path(prefix)[0] == '/');
	char *root = absolute ? firn_io__normalize(prefix) : NULL;
	/* "/" or a bucket's root would allow everything: not a confinement */
	bool whole = root && (remote ? !strchr(root + strlen(scheme) + 3, '/')
				     : strcmp(root, "/") == 0);
	if (!root || whole) {
		char shown[160];
		firn_ice__printable(prefix, shown, sizeof(shown));
		firn_free(root);
		return firn_error_set(err, FIRN_EINVAL, "allowed location %s: need an absolute "
				      "directory or a prefix in a bucket, not a relative path or a "
				      "root", shown);
	}
	char **p = firn_realloc(c->allowed, (c->n_allowed + 1) * sizeof(*p));
	if (!p) {
		firn_free(root);
		return nomem(err);
	}
	c->allowed = p;
	c->allowed[c->n_allowed++] = root;
	return 0;
}

/* ---- shared with ice_create_request.c -------------------------------- */

int firn_ice__confine_check(const struct firn_catalog *c, const char *location,
			    struct firn_error *err)
{
	if (!c->confined)
		return 0;
	/* resolved: a link under the warehouse that leads out of it is out */
	char *want = firn_io__resolve(location);
	if (!want)
		return nomem(err);
	int rc = 1; /* not yet inside */
	for (size_t i = 0; rc == 1 && i <= c->n_allowed; i++) {
		char *root = firn_io__resolve(i == 0 ? c->warehouse : c->allowed[i - 1]);
		if (!root)
			rc = nomem(err);
		else if (firn_io__within(want, root) && strcmp(want, root) != 0)
			rc = 0;
		firn_free(root);
	}
	if (rc == 1) {
		char shown[160];
		firn_ice__printable(location, shown, sizeof(shown));
		rc = firn_error_set(err, FIRN_EINVAL, "location %s is outside the warehouse%s",
				    shown, c->n_allowed ? " and the allowed locations" : "");
	}
	firn_free(want);
	return rc;
}

int firn_ice__request_parse(const char *body, const char *what, json_t **out,
			    struct firn_error *err)
{
	*out = NULL;
	if (!body)
		return firn_error_set(err, FIRN_EINVAL, "%s: no body", what);
	json_error_t je;
	json_t *j = firn_json__loadb(body, strlen(body), JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (je.line == -1 && strcmp(je.text, "out of memory") == 0)
			return nomem(err);
		char shown[120];
		firn_ice__printable(je.text, shown, sizeof(shown));
		return firn_error_set(err, FIRN_EINVAL, "%s: not JSON: %s (line %d, column %d)", what,
				      shown, je.line, je.column);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return firn_error_set(err, FIRN_EINVAL, "%s: not a JSON object", what);
	}
	*out = j;
	return 0;
}

/* The metadata text is spliced in as the dump wrote it: it can be large,
 * and parsing it again only to print it would double the work. */
int firn_ice__load_result(const char *location, const struct firn_ice_meta *m, char **out,
			  struct firn_error *err)
{
	*out = NULL;
	char *meta = firn_ice__meta_dump(m);
	json_t *loc = location ? json_string(location) : NULL;
	char *quoted = loc ? firn_json__dumps(loc, JSON_ENCODE_ANY) : NULL;
	json_decref(loc);
	struct firn_buf b = { 0 };
	int rc = meta && (!location || quoted) ? 0 : FIRN_ENOMEM;
	if (rc == 0)
		rc = firn_buf_putc(&b, '{');
	if (rc == 0 && quoted)
		rc = firn_buf_printf(&b, "\"metadata-location\":%s,", quoted);
	if (rc == 0)
		rc = firn_buf_puts(&b, "\"metadata\":");
	if (rc == 0)
		rc = firn_buf_puts(&b, meta);
	if (rc == 0)
		rc = firn_buf_putc(&b, '}');
	if (rc == 0)
		rc = firn_buf_cstr(&b);
	firn_free(meta);
	firn_free(quoted);
	if (rc != 0) {
		firn_buf_free(&b);
		return nomem(err);
	}
	*out = (char *)firn_buf_detach(&b, NULL);
	return 0;
}

/* ---- load ----------------------------------------------------------- */

/* After a load found the table's metadata unreadable (rc, err): FIRN_ENOTFOUND
 * when its metadata file is gone (a REST client's NotFoundException, worded
 * as Java's FileIO words it), else rc and err as they were. */
static int metadata_gone(struct firn_catalog *c, const char *ns, const char *name, int rc,
			 struct firn_error *err)
{
	struct firn_error probe = { 0 };
	char *loc = NULL;
	if (firn_ice__catalog_load(c, ns, name, &loc, NULL, &probe) == 0 &&
	    firn_io__size(loc) < 0) {
		char shown[FIRN_ERROR_MESSAGE_MAX / 2];
		firn_ice__printable(loc, shown, sizeof(shown));
		rc = firn_error_set(err, FIRN_ENOTFOUND, "Failed to open input stream for file: %s",
				    shown);
	}
	firn_free(loc);
	return rc;
}

int firn_catalog_table_load_json(struct firn_catalog *c, const char *ns, const char *name,
				 char **metadata_location, char **result, struct firn_error *err)
{
	if (metadata_location)
		*metadata_location = NULL;
	*result = NULL;
	char *loc = NULL;
	struct firn_ice_meta *m = NULL;
	int rc = firn_ice__catalog_load(c, ns, name, &loc, &m, err);
	if (rc == FIRN_ECORRUPT)
		return metadata_gone(c, ns, name, rc, err);
	FIRN_TRY(rc);
	rc = firn_ice__load_result(loc, m, result, err);
	firn_ice__meta_free(m);
	if (rc == 0 && metadata_location)
		*metadata_location = loc;
	else
		firn_free(loc);
	return rc;
}

/* ---- commit --------------------------------------------------------- */

/* Every set-location of the change confined to the warehouse. */
static int confine_updates(const struct firn_catalog *c, const struct firn_ice_change *ch,
			   struct firn_error *err)
{
	size_t i;
	json_t *u;
	json_array_foreach(ch->updates, i, u)
	{
		const char *action = json_string_value(json_object_get(u, "action"));
		if (action && strcmp(action, "set-location") == 0) {
			int rc = firn_ice__confine_check(c, json_string_value(json_object_get(u, "location")),
							 err);
			if (rc != 0) {
				firn_error_prefix(err, "update %zu (set-location)", i);
				return rc;
			}
		}
	}
	return 0;
}

/* A commit body (CommitTableRequest; in a transaction, one of its
 * table-changes) → a checked change, its locations confined. */
static int change_of(const struct firn_catalog *c, const json_t *body, struct firn_ice_change *ch,
		     struct firn_error *err)
{
	const json_t *id = json_object_get(body, "identifier");
	if (id && !json_is_null(id) && !json_is_object(id))
		return firn_error_set(err, FIRN_EINVAL, "identifier is not an object");
	FIRN_TRY(firn_ice__change_from_json(body, ch, err));
	int rc = confine_updates(c, ch, err);
	if (rc != 0)
		firn_ice__change_free(ch);
	return rc;
}

/* One attempt on an existing table: the requirements checked against the
 * metadata read now (a failure is the answer: no retry can make it hold),
 * then the commit from that base. FIRN_ECONFLICT with *final false: the
 * pointer moved meanwhile, try again. */
static int attempt_commit(struct firn_catalog *c, struct firn_ice_commit *cm, bool *final,
			  struct firn_error *err)
{
	char *loc = NULL;
	struct firn_ice_meta *m = NULL;
	*final = true;
	FIRN_TRY(firn_ice__catalog_load(c, cm->ns, cm->name, &loc, &m, err));
	int rc = firn_ice__requirements_check(m, cm->change->requirements, err);
	if (rc == 0 && json_array_size(cm->change->updates) == 0) {
		/* nothing to change: the table as it is, no new version (Java's
		 * builder returns its base then, and nothing is committed) */
		cm->meta = m;
		cm->location = loc;
		return 0;
	}
	if (rc == 0) {
		cm->base = m;
		cm->base_location = loc;
		rc = firn_ice__catalog_commit(c, cm, err);
		cm->base = NULL;
		cm->base_location = NULL;
		*final = rc != FIRN_ECONFLICT;
	}
	firn_ice__meta_free(m);
	firn_free(loc);
	return rc;
}

/* The spec's server-side retry, bounded. A creating commit (assert-create)
 * is tried once: a table made meanwhile is its conflict. */
static int commit_with_retry(struct firn_catalog *c, struct firn_ice_commit *cm,
			     struct firn_error *err)
{
	if (firn_ice__change_creates(cm->change)) {
		FIRN_TRY(firn_ice__check_new_ident(cm->ns, cm->name, err));
		return firn_ice__catalog_commit(c, cm, err);
	}
	for (int attempt = 0;; attempt++) {
		bool final;
		int rc = attempt_commit(c, cm, &final, err);
		if (rc == 0 || final)
			return rc;
		if (attempt + 1 >= COMMIT_ATTEMPTS) {
			char why[FIRN_ERROR_MESSAGE_MAX];
			snprintf(why, sizeof(why), "%s", err ? err->message : "");
			return firn_error_set(err, FIRN_ECONFLICT, "%s.%s: gave up after %d attempts: %s",
					      cm->ns, cm->name, attempt + 1, why);
		}
		firn_ice__back_off(attempt, COMMIT_WAIT_MS, COMMIT_MAX_WAIT_MS);
	}
}

int firn_catalog_table_commit_json(struct firn_catalog *c, const char *ns, const char *name,
				   const char *body, char **result, struct firn_error *err)
{
	*result = NULL;
	json_t *j;
	FIRN_TRY(firn_ice__request_parse(body, "commit request", &j, err));
	struct firn_ice_change ch;
	int rc = change_of(c, j, &ch, err);
	json_decref(j);
	if (rc != 0)
		return rc;
	struct firn_ice_commit cm = { ns, name, &ch, NULL, NULL, NULL, NULL };
	rc = commit_with_retry(c, &cm, err);
	if (rc == 0)
		rc = firn_ice__load_result(cm.location, cm.meta, result, err);
	firn_ice__meta_free(cm.meta);
	firn_free(cm.location);
	firn_ice__change_free(&ch);
	return rc;
}

/* ---- transaction ---------------------------------------------------- */

/* {"namespace": ["a", "b"], "name": "t"} → "a.b" and "t" (*ns the
 * caller's; *name borrowed from id). A level cannot hold a dot: firn's
 * namespaces are dotted strings. */
static int identifier_of(const json_t *id, char **ns, const char **name, struct firn_error *err)
{
	*ns = NULL;
	const json_t *levels = json_object_get(id, "namespace");
	*name = json_string_value(json_object_get(id, "name"));
	if (!json_is_object(id))
		return firn_error_set(err, FIRN_EINVAL, "identifier is %s",
				      id ? "not an object" : "missing");
	if (!json_is_array(levels) || json_array_size(levels) == 0)
		return firn_error_set(err, FIRN_EINVAL, "identifier.namespace is not a non-empty array");
	if (!*name || !**name)
		return firn_error_set(err, FIRN_EINVAL, "identifier.name is not a non-empty string");
	struct firn_buf b = { 0 };
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < json_array_size(levels); i++) {
		const char *s = json_string_value(json_array_get(levels, i));
		if (!s || !*s || strchr(s, '.'))
			rc = firn_error_set(err, FIRN_EINVAL, "identifier.namespace[%zu] is not a name "
					    "(a non-empty string without '.')", i);
		else if ((i && firn_buf_putc(&b, '.') != 0) || firn_buf_puts(&b, s) != 0)
			rc = nomem(err);
	}
	if (rc == 0 && firn_buf_cstr(&b) != 0)
		rc = nomem(err);
	if (rc != 0) {
		firn_buf_free(&b);
		return rc;
	}
	*ns = (char *)firn_buf_detach(&b, NULL);
	return 0;
}

struct txn {
	size_t n;
	struct firn_ice_commit *v;
	struct firn_ice_change *changes;
	char **ns;
};

static void txn_free(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		firn_ice__change_free(&t->changes[i]);
		firn_free(t->ns[i]);
		firn_ice__meta_free(t->v[i].meta);
		firn_free(t->v[i].location);
	}
	firn_free(t->v);
	firn_free(t->changes);
	firn_free(t->ns);
}

/* table-changes → one commit per table, every change checked. */
static int txn_read(const struct firn_catalog *c, const json_t *body, struct txn *t,
		    struct firn_error *err)
{
	const json_t *tc = json_object_get(body, "table-changes");
	if (!json_is_array(tc))
		return firn_error_set(err, FIRN_EINVAL, "table-changes: %s",
				      tc ? "not an array" : "missing");
	size_t n = json_array_size(tc);
	if (n == 0)
		return firn_error_set(err, FIRN_EINVAL, "table-changes: empty");
	t->v = firn_calloc(n, sizeof(*t->v));
	t->changes = firn_calloc(n, sizeof(*t->changes));
	t->ns = firn_calloc(n, sizeof(*t->ns));
	if (!t->v || !t->changes || !t->ns)
		return nomem(err);
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(tc, i);
		const char *name = NULL;
		int rc = json_is_object(e) ? 0 : firn_error_set(err, FIRN_EINVAL, "not an object");
		if (rc == 0)
			rc = identifier_of(json_object_get(e, "identifier"), &t->ns[i], &name, err);
		if (rc == 0)
			rc = change_of(c, e, &t->changes[i], err);
		if (rc != 0) {
			firn_error_prefix(err, "table-changes[%zu]", i);
			firn_free(t->ns[i]);
			t->ns[i] = NULL;
			return rc;
		}
		t->v[i] = (struct firn_ice_commit){ t->ns[i], name, &t->changes[i], NULL, NULL, NULL,
						    NULL };
		t->n = i + 1;
	}
	return 0;
}

int firn_catalog_transaction_json(struct firn_catalog *c, const char *body, struct firn_error *err)
{
	json_t *j;
	FIRN_TRY(firn_ice__request_parse(body, "transaction request", &j, err));
	struct txn t = { 0 };
	int rc = txn_read(c, j, &t, err);
	for (size_t i = 0; rc == 0 && i < t.n; i++)
		if (firn_ice__change_creates(&t.changes[i]))
			rc = firn_ice__check_new_ident(t.v[i].ns, t.v[i].name, err);
	if (rc == 0)
		rc = firn_ice__catalog_transaction(c, t.v, t.n, err);
	txn_free(&t);
	json_decref(j);
	return rc;
}
