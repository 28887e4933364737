/* The REST catalog client: the catalog interface (ice_catalog.h) over the
 * Iceberg REST protocol (rest-catalog-open-api 1.11), on libcurl.
 *
 * firn writes a table's data files, manifests and manifest lists to the
 * table's location itself; the server writes the metadata files: a
 * commit is a POST of the change's requirements + updates, and the
 * server's answer (the new metadata and its location) is the outcome.
 * A 409 is FIRN_ECONFLICT, which the core's commit loop answers by
 * reloading and computing the change again. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/rest_private.h"
#include "firn/util.h"
#include "iceberg/ice_catalog.h"
#include "io/curl_dl.h"
#include "io/s3_private.h"
#include "util/alloc.h"

#define REST_BODY_MAX (256u << 20) /* a response larger than this is refused */

struct rest {
	CURL *h;
	char *base;  /* "http://host:port/v1/" (+ "prefix/" from the config) */
	char *root;  /* "http://host:port" and any path before /v1 */
	char *token; /* bearer token, or NULL */
	char *warehouse;
};

/* One response. */
struct reply {
	long status;
	struct firn_buf body;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct firn_buf *b = arg;
	size_t k = size * n;
	if (b->len + k > REST_BODY_MAX || firn_buf_append(b, p, k) != 0)
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	return k;
}

/* ---- names in paths ------------------------------------------------- */

/* s percent-encoded as a path segment (RFC 3986 unreserved kept). */
static int put_segment(struct firn_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~';
		int rc = keep ? firn_buf_putc(b, c)
			      : firn_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A dotted namespace as the REST path wants it: levels joined by 0x1F. */
static int put_namespace(struct firn_buf *b, const char *ns)
{
	for (const char *p = ns;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		FIRN_TRY(put_segment(b, p, n));
		if (!dot)
			return 0;
		FIRN_TRY(firn_buf_puts(b, "%1F"));
		p = dot + 1;
	}
}

/* ["a", "b"] for "a.b". New reference or NULL. */
static json_t *ns_array(const char *ns)
{
	json_t *a = json_array();
	for (const char *p = ns; a;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (json_array_append_new(a, json_stringn(p, n)) != 0) {
			json_decref(a);
			return NULL;
		}
		if (!dot)
			break;
		p = dot + 1;
	}
	return a;
}

/* "a.b" for ["a", "b"] (firn_malloc'd), NULL when not an array of
 * strings free of dots. */
static char *ns_dotted(const json_t *a)
{
	struct firn_buf b = FIRN_BUF_INIT;
	size_t i;
	json_t *v;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return NULL;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v);
		if (!s || !*s || strchr(s, '.') || (i && firn_buf_putc(&b, '.') != 0) ||
		    firn_buf_puts(&b, s) != 0) {
			firn_buf_free(&b);
			return NULL;
		}
	}
	return firn_buf_string(&b, 0);
}

static json_t *ident_json(const char *ns, const char *name)
{
	return json_pack("{s:o,s:s}", "namespace", ns_array(ns), "name", name);
}

/* base + "namespaces/NS" [+ "/" + tail [+ "/" + NAME]] */
static char *ns_url(const struct rest *r, const char *ns, const char *tail, const char *name)
{
	struct firn_buf b = FIRN_BUF_INIT;
	int rc = firn_buf_puts(&b, r->base);
	if (rc == 0)
		rc = firn_buf_puts(&b, "namespaces/");
	if (rc == 0)
		rc = put_namespace(&b, ns);
	if (rc == 0 && tail)
		rc = firn_buf_printf(&b, "/%s", tail);
	if (rc == 0 && name) {
		rc = firn_buf_putc(&b, '/');
		if (rc == 0)
			rc = put_segment(&b, name, strlen(name));
	}
	return firn_buf_string(&b, rc);
}

static char *url_of(const struct rest *r, const char *path)
{
	struct firn_buf b = FIRN_BUF_INIT;
	int rc = firn_buf_puts(&b, r->base);
	return firn_buf_string(&b, rc == 0 ? firn_buf_puts(&b, path) : rc);
}

/* ---- requests --------------------------------------------------------- */

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The error a non-2xx reply means: the server's ErrorModel message, its
 * status mapped to firn's codes. */
static int reply_error(const struct reply *rp, const char *what, struct firn_error *err)
{
	json_t *j = firn_json__loadb((const char *)rp->body.data, rp->body.len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *type = json_string_value(json_object_get(e, "type"));
	char text[300];
	firn_ice__printable(msg ? msg : "", text, sizeof(text));
	int code = rp->status == 404 ? FIRN_ENOTFOUND
		   : rp->status == 409 ? (type && strstr(type, "AlreadyExists") ? FIRN_EEXISTS
								      : FIRN_ECONFLICT)
		   : rp->status == 400 || rp->status == 406 || rp->status == 422 ? FIRN_EINVAL
										 : FIRN_EIO;
	int rc = msg ? firn_error_set(err, code, "%s: %s (REST %ld%s%s)", what, text, rp->status,
				      type ? " " : "", type ? type : "")
		     : firn_error_set(err, code, "%s: the REST catalog answered %ld", what, rp->status);
	json_decref(j);
	return rc;
}

/* One HTTP exchange: method on url with an optional JSON body (or form
 * text with form true). FIRN_EIO when no answer came. */
static int exchange(struct rest *r, const char *method, const char *url, const char *body,
		    bool form, struct reply *rp, struct firn_error *err)
{
	CURL *h = r->h;
	firn_curl.easy_reset(h);
	rp->status = 0;
	rp->body.len = 0;
	struct curl_slist *hd = NULL, *t;
	char auth[4200];
	bool ok = true;
	hd = firn_curl.slist_append(NULL, form ? "Content-Type: application/x-www-form-urlencoded"
					  : "Content-Type: application/json");
	ok = hd != NULL;
	if (ok && r->token && !form) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->token);
		ok = (t = firn_curl.slist_append(hd, auth)) != NULL;
	}
	if (ok)
		ok = (t = firn_curl.slist_append(hd, "X-Client-Version: firn")) != NULL;
	if (!ok) {
		firn_curl.slist_free_all(hd);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	firn_curl.easy_setopt(h, CURLOPT_URL, url);
	firn_curl.easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	firn_curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	firn_curl.easy_setopt(h, CURLOPT_WRITEDATA, &rp->body);
	firn_curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	firn_curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, 300000L);
	firn_curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	firn_curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (strcmp(method, "HEAD") == 0)
		firn_curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		firn_curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		firn_curl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
		firn_curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	CURLcode cc = firn_curl.easy_perform(h);
	firn_curl.slist_free_all(hd);
	if (cc != CURLE_OK)
		return firn_error_set(err, FIRN_EIO, "%s %s: %s", method,
				      strncmp(url, r->root, strlen(r->root)) == 0 ? url + strlen(r->root) : url,
				      firn_curl.easy_strerror(cc));
	firn_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rp->status);
	return 0;
}

/* A request whose reply must be 2xx; *out (optional) gets its JSON body
 * (NULL for an empty one). Reads are tried again on a connection failure
 * or a 5xx, a few times; a write is not (its outcome is unknown). */
static int call(struct rest *r, const char *method, const char *url, const json_t *body,
		const char *what, json_t **out, struct firn_error *err)
{
	if (out)
		*out = NULL;
	if (!url)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	char *text = body ? firn_json__dumps(body, JSON_COMPACT) : NULL;
	if (body && !text)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	bool idempotent = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	struct reply rp = { 0, FIRN_BUF_INIT };
	int rc = 0;
	for (int attempt = 0;; attempt++) {
		rc = exchange(r, method, url, text, false, &rp, err);
		bool again = rc == FIRN_EIO || (rc == 0 && rp.status >= 500);
		if (!idempotent || !again || attempt == 3)
			break;
		pause_ms(50L << attempt);
	}
	firn_free(text);
	if (rc == 0 && (rp.status < 200 || rp.status > 299))
		rc = reply_error(&rp, what, err);
	if (rc == 0 && out && rp.body.len > 0) {
		json_error_t je;
		*out = firn_json__loadb((const char *)rp.body.data, rp.body.len, 0, &je);
		if (!*out)
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: the REST catalog's answer is not JSON: %s",
					    what, je.text);
	}
	firn_buf_free(&rp.body);
	return rc;
}

/* ---- namespaces ------------------------------------------------------- */

static int rest_namespace_create(void *self, const char *ns, const char *const *keys,
				 const char *const *values, size_t n, struct firn_error *err)
{
	struct rest *r = self;
	json_t *props = json_object();
	for (size_t i = 0; props && i < n; i++)
		if (json_object_set_new(props, keys[i], json_string(values[i])) != 0) {
			json_decref(props);
			props = NULL;
		}
	json_t *body = props ? json_pack("{s:o,s:o}", "namespace", ns_array(ns), "properties", props)
			     : NULL;
	if (!body)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	char *url = url_of(r, "namespaces");
	int rc = call(r, "POST", url, body, "create namespace", NULL, err);
	if (rc == FIRN_ECONFLICT)
		rc = firn_error_set(err, FIRN_EEXISTS, "namespace %s already exists", ns);
	firn_free(url);
	json_decref(body);
	return rc;
}

static int rest_namespace_exists(void *self, const char *ns, struct firn_error *err)
{
	struct rest *r = self;
	char *url = ns_url(r, ns, NULL, NULL);
	int rc = call(r, "HEAD", url, NULL, "namespace exists", NULL, err);
	firn_free(url);
	if (rc == FIRN_ENOTFOUND) {
		firn_error_clear(err);
		return 0;
	}
	return rc == 0 ? 1 : rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every page of a listing: key names the array of each page's answer,
 * each element turned into a string by name_of. */
static int list_all(struct rest *r, const char *url0, const char *key,
		    char *(*name_of)(const json_t *), char ***out, size_t *n, const char *what,
		    struct firn_error *err)
{
	*out = NULL;
	*n = 0;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	char *token = NULL;
	int rc = 0;
	for (int page = 0; rc == 0 && page < 100000; page++) {
		struct firn_buf u = FIRN_BUF_INIT;
		firn_buf_puts(&u, url0);
		if (token) {
			firn_buf_puts(&u, strchr(url0, '?') ? "&pageToken=" : "?pageToken=");
			put_segment(&u, token, strlen(token));
		}
		char *url = firn_buf_string(&u, 0);
		json_t *j;
		rc = call(r, "GET", url, NULL, what, &j, err);
		firn_free(url);
		if (rc != 0)
			break;
		json_t *arr = json_object_get(j, key), *el;
		size_t i;
		json_array_foreach(arr, i, el)
		{
			char *s = name_of(el);
			if (!s)
				continue;
			if (cnt == cap) {
				size_t nc = cap ? 2 * cap : 16;
				char **nv = firn_realloc(v, nc * sizeof(*v));
				if (!nv) {
					firn_free(s);
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
					break;
				}
				v = nv;
				cap = nc;
			}
			v[cnt++] = s;
		}
		const char *next = json_string_value(json_object_get(j, "next-page-token"));
		firn_free(token);
		token = next && *next && rc == 0 ? firn_strdup(next) : NULL;
		json_decref(j);
		if (!token)
			break;
	}
	firn_free(token);
	if (rc != 0) {
		firn_catalog_strings_free(v, cnt);
		return rc;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*out = v;
	*n = cnt;
	return 0;
}

static char *ns_name(const json_t *el)
{
	return ns_dotted(el);
}

static char *table_name(const json_t *el)
{
	const char *s = json_string_value(json_object_get(el, "name"));
	return s ? firn_strdup(s) : NULL;
}

static int rest_namespace_list(void *self, const char *parent, char ***out, size_t *n,
			       struct firn_error *err)
{
	struct rest *r = self;
	struct firn_buf b = FIRN_BUF_INIT;
	firn_buf_puts(&b, r->base);
	firn_buf_puts(&b, "namespaces");
	if (parent) {
		firn_buf_puts(&b, "?parent=");
		put_namespace(&b, parent);
	}
	char *url = firn_buf_string(&b, 0);
	if (!url)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = list_all(r, url, "namespaces", ns_name, out, n, "list namespaces", err);
	firn_free(url);
	return rc;
}

static int rest_namespace_properties(void *self, const char *ns, char ***keys, char ***values,
				     size_t *n, struct firn_error *err)
{
	struct rest *r = self;
	*keys = *values = NULL;
	*n = 0;
	char *url = ns_url(r, ns, NULL, NULL);
	json_t *j;
	int rc = call(r, "GET", url, NULL, "load namespace", &j, err);
	firn_free(url);
	if (rc != 0)
		return rc;
	json_t *props = json_object_get(j, "properties");
	size_t cnt = json_object_size(props), i = 0;
	char **k = cnt ? firn_calloc(cnt, sizeof(*k)) : NULL, **v = cnt ? firn_calloc(cnt, sizeof(*v)) : NULL;
	if (cnt && (!k || !v)) {
		firn_free(k);
		firn_free(v);
		json_decref(j);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	/* sorted by key, as the SQL catalog answers */
	const char *key;
	json_t *val;
	json_object_foreach(props, key, val)
	{
		if (!json_is_string(val))
			continue;
		k[i] = firn_strdup(key);
		v[i] = firn_strdup(json_string_value(val));
		i++;
	}
	for (size_t a = 1; a < i; a++) /* insertion sort: property lists are short */
		for (size_t b = a; b > 0 && strcmp(k[b - 1], k[b]) > 0; b--) {
			char *tk = k[b], *tv = v[b];
			k[b] = k[b - 1];
			v[b] = v[b - 1];
			k[b - 1] = tk;
			v[b - 1] = tv;
		}
	json_decref(j);
	*keys = k;
	*values = v;
	*n = i;
	return 0;
}

static int rest_namespace_update(void *self, const char *ns, const char *const *set_keys,
				 const char *const *set_values, size_t n_set,
				 const char *const *remove_keys, size_t n_remove,
				 struct firn_error *err)
{
	struct rest *r = self;
	json_t *upd = json_object(), *rem = json_array();
	for (size_t i = 0; upd && i < n_set; i++)
		json_object_set_new(upd, set_keys[i], json_string(set_values[i]));
	for (size_t i = 0; rem && i < n_remove; i++)
		json_array_append_new(rem, json_string(remove_keys[i]));
	json_t *body = upd && rem ? json_pack("{s:o,s:o}", "updates", upd, "removals", rem) : NULL;
	if (!body)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	char *url = ns_url(r, ns, "properties", NULL);
	int rc = call(r, "POST", url, body, "update namespace properties", NULL, err);
	firn_free(url);
	json_decref(body);
	return rc;
}

static int rest_namespace_drop(void *self, const char *ns, struct firn_error *err)
{
	struct rest *r = self;
	char *url = ns_url(r, ns, NULL, NULL);
	int rc = call(r, "DELETE", url, NULL, "drop namespace", NULL, err);
	firn_free(url);
	if (rc == FIRN_ECONFLICT)
		rc = firn_error_set(err, FIRN_EINVAL, "namespace %s is not empty", ns);
	return rc;
}

/* ---- tables ----------------------------------------------------------- */

static int rest_table_list(void *self, const char *ns, char ***out, size_t *n,
			   struct firn_error *err)
{
	struct rest *r = self;
	char *url = ns_url(r, ns, "tables", NULL);
	if (!url)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = list_all(r, url, "identifiers", table_name, out, n, "list tables", err);
	firn_free(url);
	return rc;
}

/* The storage settings of a load-table (or config) answer's "config"
 * (s3.endpoint, s3.region, credentials when vended, ...), below the
 * user's own --conf. */
static int take_storage_config(json_t *conf, struct firn_error *err)
{
	const char *k;
	json_t *v;
	if (!json_is_object(conf))
		return 0;
	json_object_foreach(conf, k, v) {
		if (!json_is_string(v) || (strncmp(k, "s3.", 3) != 0 && strcmp(k, "client.region") != 0))
			continue;
		const char *val = json_string_value(v);
		int rc = firn_s3__configure_defaults(&k, &val, 1, err);
		if (rc != 0) {
			firn_error_prefix(err, "the REST catalog's config");
			return rc;
		}
	}
	return 0;
}

/* A LoadTableResult (or CommitTableResponse) as firn's metadata and its
 * location (NULL when the answer has none: a staged create). */
static int take_result(json_t *j, const char *what, struct firn_ice_meta **meta, char **location,
		       struct firn_error *err)
{
	const char *loc = json_string_value(json_object_get(j, "metadata-location"));
	json_t *md = json_object_get(j, "metadata");
	FIRN_TRY(take_storage_config(json_object_get(j, "config"), err));
	if (!json_is_object(md))
		return firn_error_set(err, FIRN_ECORRUPT, "%s: the REST catalog's answer has no metadata",
				      what);
	if (location && loc && !(*location = firn_strdup(loc)))
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (!meta)
		return 0;
	int rc = firn_ice__meta_from_json(json_incref(md), what, meta, err);
	if (rc != 0 && location) {
		firn_free(*location);
		*location = NULL;
	}
	return rc;
}

static int rest_table_load(void *self, const char *ns, const char *name, char **location,
			   struct firn_ice_meta **meta, struct firn_error *err)
{
	struct rest *r = self;
	*location = NULL;
	if (meta)
		*meta = NULL;
	char *url = ns_url(r, ns, "tables", name);
	json_t *j;
	int rc = call(r, "GET", url, NULL, "load table", &j, err);
	firn_free(url);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ENOTFOUND, "table %s.%s does not exist", ns, name);
	if (rc != 0)
		return rc;
	rc = take_result(j, "load table", meta, location, err);
	json_decref(j);
	if (rc == 0 && !*location)
		rc = firn_error_set(err, FIRN_ECORRUPT, "load table: the REST catalog's answer has no "
				    "metadata-location");
	return rc;
}

/* The update of `action` in updates, or NULL. */
static const json_t *find_update(const json_t *updates, const char *action)
{
	size_t i;
	json_t *u;
	json_array_foreach(updates, i, u)
	{
		const char *a = json_string_value(json_object_get(u, "action"));
		if (a && strcmp(a, action) == 0)
			return u;
	}
	return NULL;
}

/* A CreateTableRequest from the builder's create updates. */
static json_t *create_request(const char *name, const json_t *updates, bool staged)
{
	const json_t *schema = json_object_get(find_update(updates, "add-schema"), "schema");
	const json_t *spec = json_object_get(find_update(updates, "add-spec"), "spec");
	const json_t *order = json_object_get(find_update(updates, "add-sort-order"), "sort-order");
	const json_t *loc = json_object_get(find_update(updates, "set-location"), "location");
	const json_t *fv = json_object_get(find_update(updates, "upgrade-format-version"),
					   "format-version");
	json_t *props = json_object();
	size_t i;
	json_t *u;
	json_array_foreach(updates, i, u)
	{
		const char *a = json_string_value(json_object_get(u, "action"));
		if (a && strcmp(a, "set-properties") == 0)
			json_object_update(props, json_object_get(u, "updates"));
	}
	if (json_is_integer(fv)) {
		char v[24];
		snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(fv));
		json_object_set_new(props, "format-version", json_string(v));
	}
	json_t *req = json_pack("{s:s,s:O,s:o,s:b}", "name", name, "schema", schema, "properties",
				props, "stage-create", staged);
	if (req && spec)
		json_object_set(req, "partition-spec", (json_t *)spec);
	if (req && order)
		json_object_set(req, "write-order", (json_t *)order);
	if (req && loc)
		json_object_set(req, "location", (json_t *)loc);
	return req;
}

static int rest_table_create(void *self, const char *ns, const char *name, const json_t *updates,
			     bool staged, struct firn_ice_meta **meta, char **location,
			     struct firn_error *err)
{
	struct rest *r = self;
	*meta = NULL;
	*location = NULL;
	if (!json_object_get(find_update(updates, "add-schema"), "schema"))
		return firn_error_set(err, FIRN_EINVAL, "create %s.%s: no schema", ns, name);
	json_t *body = create_request(name, updates, staged);
	char *url = ns_url(r, ns, "tables", NULL);
	json_t *j = NULL;
	int rc = body ? call(r, "POST", url, body, "create table", &j, err)
		      : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_free(url);
	json_decref(body);
	if (rc == FIRN_ECONFLICT || rc == FIRN_EEXISTS)
		rc = firn_error_set(err, FIRN_EEXISTS, "table %s.%s already exists", ns, name);
	if (rc == 0)
		rc = take_result(j, "create table", meta, staged ? NULL : location, err);
	json_decref(j);
	return rc;
}

static int rest_table_register(void *self, const char *ns, const char *name,
			       const char *metadata_location, struct firn_error *err)
{
	struct rest *r = self;
	json_t *body = json_pack("{s:s,s:s}", "name", name, "metadata-location", metadata_location);
	char *url = ns_url(r, ns, "register", NULL);
	int rc = body ? call(r, "POST", url, body, "register table", NULL, err)
		      : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == FIRN_ECONFLICT)
		rc = firn_error_set(err, FIRN_EEXISTS, "table %s.%s already exists", ns, name);
	firn_free(url);
	json_decref(body);
	return rc;
}

static int rest_table_drop(void *self, const char *ns, const char *name, bool purge,
			   struct firn_purge_info *info, struct firn_error *err)
{
	struct rest *r = self;
	if (info)
		memset(info, 0, sizeof(*info)); /* the server purges; it does not say what */
	char *url = ns_url(r, ns, "tables", name);
	struct firn_buf b = FIRN_BUF_INIT;
	firn_buf_printf(&b, "%s?purgeRequested=%s", url ? url : "", purge ? "true" : "false");
	firn_free(url);
	url = firn_buf_string(&b, 0);
	int rc = call(r, "DELETE", url, NULL, "drop table", NULL, err);
	firn_free(url);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ENOTFOUND, "table %s.%s does not exist", ns, name);
	return rc;
}

static int rest_table_rename(void *self, const char *ns, const char *name, const char *to_ns,
			     const char *to_name, struct firn_error *err)
{
	struct rest *r = self;
	json_t *body = json_pack("{s:o,s:o}", "source", ident_json(ns, name), "destination",
				 ident_json(to_ns, to_name));
	char *url = url_of(r, "tables/rename");
	int rc = body ? call(r, "POST", url, body, "rename table", NULL, err)
		      : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == FIRN_ECONFLICT)
		rc = firn_error_set(err, FIRN_EEXISTS, "table %s.%s already exists", to_ns, to_name);
	firn_free(url);
	json_decref(body);
	return rc;
}

/* {"identifier", "requirements", "updates"} of one table's commit. */
static json_t *commit_body(const struct firn_ice_commit *c)
{
	json_t *o = firn_ice__change_to_json(c->change);
	if (o && json_object_set_new(o, "identifier", ident_json(c->ns, c->name)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int rest_commit_table(void *self, struct firn_ice_commit *c, struct firn_error *err)
{
	struct rest *r = self;
	c->meta = NULL;
	c->location = NULL;
	json_t *body = commit_body(c);
	char *url = ns_url(r, c->ns, "tables", c->name);
	json_t *j = NULL;
	int rc = body ? call(r, "POST", url, body, "commit", &j, err)
		      : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_free(url);
	json_decref(body);
	if (rc == FIRN_ENOTFOUND && !firn_ice__change_creates(c->change))
		rc = firn_error_set(err, FIRN_ENOTFOUND, "table %s.%s does not exist", c->ns, c->name);
	if (rc == 0)
		rc = take_result(j, "commit", &c->meta, &c->location, err);
	json_decref(j);
	return rc;
}

static int rest_commit_transaction(void *self, struct firn_ice_commit *v, size_t n,
				   struct firn_error *err)
{
	struct rest *r = self;
	json_t *changes = json_array();
	for (size_t i = 0; changes && i < n; i++)
		if (json_array_append_new(changes, commit_body(&v[i])) != 0) {
			json_decref(changes);
			changes = NULL;
		}
	json_t *body = changes ? json_pack("{s:o}", "table-changes", changes) : NULL;
	char *url = url_of(r, "transactions/commit");
	int rc = body ? call(r, "POST", url, body, "commit transaction", NULL, err)
		      : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_free(url);
	json_decref(body);
	/* the answer is 204: each table's new metadata is loaded */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = rest_table_load(self, v[i].ns, v[i].name, &v[i].location, &v[i].meta, err);
	return rc;
}

/* ---- opening ---------------------------------------------------------- */

static void rest_free(void *self)
{
	struct rest *r = self;
	if (!r)
		return;
	if (r->h)
		firn_curl.easy_cleanup(r->h);
	firn_free(r->base);
	firn_free(r->root);
	firn_free(r->token);
	firn_free(r->warehouse);
	firn_free(r);
}

/* A token for "ID:SECRET" from the server's /v1/oauth/tokens. */
static int fetch_token(struct rest *r, const char *credential, struct firn_error *err)
{
	const char *colon = strchr(credential, ':');
	struct firn_buf f = FIRN_BUF_INIT, u = FIRN_BUF_INIT;
	firn_buf_puts(&f, "grant_type=client_credentials&client_id=");
	put_segment(&f, credential, colon ? (size_t)(colon - credential) : strlen(credential));
	firn_buf_puts(&f, "&client_secret=");
	if (colon)
		put_segment(&f, colon + 1, strlen(colon + 1));
	firn_buf_puts(&f, "&scope=catalog");
	firn_buf_printf(&u, "%s/v1/oauth/tokens", r->root);
	struct reply rp = { 0, FIRN_BUF_INIT };
	int rc = firn_buf_cstr(&f) == 0 && firn_buf_cstr(&u) == 0
			 ? exchange(r, "POST", (const char *)u.data, (const char *)f.data, true, &rp, err)
			 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0 && rp.status != 200)
		rc = reply_error(&rp, "oauth token", err);
	json_t *j = rc == 0 ? firn_json__loadb((const char *)rp.body.data, rp.body.len, 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(j, "access_token"));
	if (rc == 0 && !tok)
		rc = firn_error_set(err, FIRN_EIO, "oauth token: the REST catalog's answer has no "
				    "access_token");
	if (rc == 0 && !(r->token = firn_strdup(tok)))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	json_decref(j);
	firn_buf_free(&rp.body);
	firn_buf_free(&f);
	firn_buf_free(&u);
	return rc;
}

/* GET /v1/config: the prefix the server asks for. */
static int configure(struct rest *r, struct firn_error *err)
{
	struct firn_buf u = FIRN_BUF_INIT;
	firn_buf_printf(&u, "%s/v1/config", r->root);
	if (r->warehouse) {
		firn_buf_puts(&u, "?warehouse=");
		put_segment(&u, r->warehouse, strlen(r->warehouse));
	}
	char *url = firn_buf_string(&u, 0);
	json_t *j;
	int rc = call(r, "GET", url, NULL, "REST catalog config", &j, err);
	firn_free(url);
	if (rc != 0)
		return rc;
	const char *prefix = json_string_value(json_object_get(json_object_get(j, "overrides"),
							       "prefix"));
	if (!prefix)
		prefix = json_string_value(json_object_get(json_object_get(j, "defaults"), "prefix"));
	struct firn_buf b = FIRN_BUF_INIT;
	firn_buf_printf(&b, "%s/v1/", r->root);
	if (prefix && *prefix) {
		put_segment(&b, prefix, strlen(prefix));
		firn_buf_putc(&b, '/');
	}
	json_decref(j);
	if (firn_buf_cstr(&b) != 0) {
		firn_buf_free(&b);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	firn_free(r->base);
	r->base = (char *)firn_buf_detach(&b, NULL);
	return 0;
}

static const struct firn_ice_catalog_ops rest_ops = {
	.version = FIRN_ICE_CATALOG_OPS_VERSION,
	.kind = "rest",
	.picks_locations = true,
	.free = rest_free,
	.namespace_create = rest_namespace_create,
	.namespace_exists = rest_namespace_exists,
	.namespace_list = rest_namespace_list,
	.namespace_properties = rest_namespace_properties,
	.namespace_update = rest_namespace_update,
	.namespace_drop = rest_namespace_drop,
	.table_list = rest_table_list,
	.table_load = rest_table_load,
	.table_create = rest_table_create,
	.table_register = rest_table_register,
	.table_drop = rest_table_drop,
	.table_rename = rest_table_rename,
	.commit_table = rest_commit_table,
	.commit_transaction = rest_commit_transaction,
};

int firn_rest__open(struct firn_catalog **out, const char *uri, const char *warehouse,
		    const char *name, const char *token, const char *credential,
		    struct firn_error *err)
{
	*out = NULL;
	FIRN_TRY(firn_curl__load(err));
	struct rest *r = firn_calloc(1, sizeof(*r));
	if (!r)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t n = strlen(uri);
	while (n > 0 && uri[n - 1] == '/')
		n--;
	if (n >= 3 && memcmp(uri + n - 3, "/v1", 3) == 0) /* a URI given with its /v1 */
		n -= 3;
	r->root = firn_strndup(uri, n);
	r->h = firn_curl.easy_init();
	if (warehouse && *warehouse)
		r->warehouse = firn_strdup(warehouse);
	int rc = 0;
	if (!r->root || !r->h || (warehouse && *warehouse && !r->warehouse))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0 && token && *token && !(r->token = firn_strdup(token)))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0 && !r->token && credential && *credential)
		rc = fetch_token(r, credential, err);
	if (rc == 0)
		rc = configure(r, err);
	if (rc != 0) {
		firn_error_prefix(err, "catalog %.*s", (int)n, uri);
		rest_free(r);
		return rc;
	}
	return firn_ice__catalog_new(&rest_ops, r, warehouse ? warehouse : "", name ? name : "default",
				     out, err);
}
