/* The REST catalog server: its life (start, stop, run until a signal),
 * the libmicrohttpd callbacks that turn a connection's bytes into a call
 * (request line, body, response, access log), the pool of catalog
 * handles and authentication (static token, issued OAuth2 tokens). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srv_private.h"

#define DEFAULT_MAX_BODY ((size_t)8 << 20)
#define MAX_TOKENS 4096     /* issued tokens kept; the oldest go first */
#define STOP_WAIT_MS 30000  /* how long a stop waits for requests in flight */

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void server_log(struct firn_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void server_log(struct firn_server *s, const char *fmt, ...)
{
	if (!s->o.log)
		return;
	char raw[FIRN_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* the request's own bytes (its path) come out escaped, one line */
	struct firn_error e;
	firn_error_set(&e, 0, "%s", raw);
	s->o.log(s->o.log_arg, e.message);
}

/* ---- the catalog pool --------------------------------------------------- */

static int open_catalog(struct firn_server *s, struct firn_catalog **out, struct firn_error *err)
{
	struct firn_catalog_options co = FIRN_CATALOG_OPTIONS_INIT;
	co.mode = FIRN_CATALOG_CREATE;
	co.lock_timeout_ms = s->o.lock_timeout_ms;
	FIRN_TRY(firn_catalog_open_with(out, s->catalog_uri, s->warehouse, s->catalog_name, &co, err));
	firn_catalog_confine(*out, true);
	for (size_t i = 0; i < s->n_allow; i++) {
		int rc = firn_catalog_allow_location(*out, s->allow[i], err);
		if (rc != 0) {
			firn_catalog_free(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
}

struct firn_catalog *firn_server__catalog(struct srv_call *x)
{
	if (x->cat)
		return x->cat;
	struct firn_server *s = x->srv;
	pthread_mutex_lock(&s->lock);
	if (s->n_idle > 0)
		x->cat = s->idle[--s->n_idle];
	pthread_mutex_unlock(&s->lock);
	if (x->cat)
		return x->cat;
	struct firn_error err = { 0 };
	if (open_catalog(s, &x->cat, &err) != 0) {
		x->cat = NULL;
		firn_server__error(x, 503, "ServiceUnavailableException", "the catalog: %s",
				   err.message);
	}
	return x->cat;
}

static void catalog_release(struct firn_server *s, struct firn_catalog *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->n_idle == s->cap_idle) {
		size_t cap = s->cap_idle ? s->cap_idle * 2 : 8;
		struct firn_catalog **p = firn_realloc(s->idle, cap * sizeof(*p));
		if (p) {
			s->idle = p;
			s->cap_idle = cap;
		}
	}
	if (s->n_idle < s->cap_idle) {
		s->idle[s->n_idle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	firn_catalog_free(c);
}

/* ---- authentication ------------------------------------------------------- */

static bool auth_required(const struct firn_server *s)
{
	return s->token || s->client_id;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static bool authorized(struct srv_call *x)
{
	struct firn_server *s = x->srv;
	const char *h = s->mhd->lookup_connection_value(x->conn, MHD_HEADER_KIND, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	const char *t = h + 7;
	while (*t == ' ')
		t++;
	bool ok = s->token && firn_server__secret_equal(t, s->token);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_tokens; i++)
		ok |= before(&now, &s->tokens[i].expires) &&
		      firn_server__secret_equal(t, s->tokens[i].text);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static int oauth_error(struct srv_call *x, int status, const char *error, const char *desc)
{
	if (status == 401)
		x->auth_challenge = true;
	return firn_server__json(x, status, json_pack("{s:s,s:s}", "error", error,
						      "error_description", desc));
}

/* The client's id and secret: the form's fields, else HTTP Basic. */
static void client_of(struct srv_call *x, char **id, char **secret)
{
	*id = firn_server__form_get(x->body, x->body_len, "client_id", NULL);
	*secret = firn_server__form_get(x->body, x->body_len, "client_secret", NULL);
	const char *h = x->srv->mhd->lookup_connection_value(x->conn, MHD_HEADER_KIND,
							     "Authorization");
	if ((*id && *secret) || !h || strncasecmp(h, "Basic ", 6) != 0)
		return;
	size_t n;
	char *plain = firn_server__base64_decode(h + 6, strlen(h + 6), &n);
	char *colon = plain && strlen(plain) == n ? strchr(plain, ':') : NULL;
	if (colon) {
		firn_free(*id);
		firn_free(*secret);
		*id = firn_strndup(plain, (size_t)(colon - plain));
		*secret = firn_strdup(colon + 1);
	}
	firn_free(plain);
}

static int issue(struct srv_call *x)
{
	struct firn_server *s = x->srv;
	uint8_t r[32];
	if (firn_uuid_v4(r) != 0 || firn_uuid_v4(r + 16) != 0)
		return oauth_error(x, 500, "invalid_request", "no randomness for a token");
	struct srv_token tok;
	for (int i = 0; i < 32; i++)
		snprintf(tok.text + 2 * i, 3, "%02x", r[i]);
	clock_gettime(CLOCK_MONOTONIC, &tok.expires);
	tok.expires.tv_sec += s->o.token_ttl;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&s->lock);
	size_t k = 0;
	for (size_t i = 0; i < s->n_tokens; i++)
		if (before(&now, &s->tokens[i].expires))
			s->tokens[k++] = s->tokens[i];
	s->n_tokens = k;
	if (s->n_tokens == MAX_TOKENS) {
		memmove(s->tokens, s->tokens + 1, (MAX_TOKENS - 1) * sizeof(*s->tokens));
		s->n_tokens--;
	}
	if (s->n_tokens == s->cap_tokens) {
		size_t cap = s->cap_tokens ? s->cap_tokens * 2 : 16;
		struct srv_token *p = firn_realloc(s->tokens, cap * sizeof(*p));
		if (p) {
			s->tokens = p;
			s->cap_tokens = cap;
		}
	}
	bool kept = s->n_tokens < s->cap_tokens;
	if (kept)
		s->tokens[s->n_tokens++] = tok;
	pthread_mutex_unlock(&s->lock);
	if (!kept)
		return oauth_error(x, 500, "invalid_request", "out of memory");
	return firn_server__json(x, 200, json_pack("{s:s,s:s,s:i,s:s}", "access_token", tok.text,
						   "token_type", "bearer", "expires_in",
						   s->o.token_ttl, "issued_token_type",
						   "urn:ietf:params:oauth:token-type:access_token"));
}

/* POST /v1/oauth/tokens: the client credentials flow. */
int firn_server__oauth_token(struct srv_call *x)
{
	struct firn_server *s = x->srv;
	char *grant = firn_server__form_get(x->body, x->body_len, "grant_type", NULL);
	int rc;
	if (!grant || strcmp(grant, "client_credentials") != 0) {
		rc = oauth_error(x, 400, "unsupported_grant_type",
				 "only grant_type=client_credentials is supported");
	} else if (!s->client_id) {
		rc = oauth_error(x, 401, "invalid_client", "this server issues no tokens");
	} else {
		char *id, *secret;
		client_of(x, &id, &secret);
		/* both compared, whatever the first says */
		bool ok = id && secret;
		ok &= firn_server__secret_equal(id ? id : "", s->client_id);
		ok &= firn_server__secret_equal(secret ? secret : "", s->client_secret);
		rc = ok ? issue(x) : oauth_error(x, 401, "invalid_client", "unknown client or wrong secret");
		firn_free(id);
		firn_free(secret);
	}
	firn_free(grant);
	return rc;
}

/* ---- requests ----------------------------------------------------------- */

static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	/* the router decodes each path segment itself: %2F and %1F are data */
	return strlen(s);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct firn_server *s = cls;
	struct srv_req *r = firn_calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->srv = s;
	r->uri = firn_strdup(uri ? uri : "");
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	pthread_mutex_lock(&s->lock);
	s->in_flight++;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct firn_server *s = cls;
	struct srv_req *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	server_log(s, "%s %s %d %.2f ms%s", r->method[0] ? r->method : "-", r->uri ? r->uri : "",
		   r->status, ms_since(&r->t0),
		   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed)");
	firn_buf_free(&r->body);
	firn_free(r->uri);
	firn_free(r);
	pthread_mutex_lock(&s->lock);
	s->in_flight--;
	pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result respond(struct srv_req *r, struct MHD_Connection *conn, struct srv_call *x)
{
	const struct firn_server_mhd *m = r->srv->mhd;
	if (x->status == 0)
		firn_server__error(x, 500, "ServiceFailureException", "no response");
	struct MHD_Response *resp =
		m->create_response_from_buffer(x->out_len, x->out ? x->out : (void *)"",
					       MHD_RESPMEM_MUST_COPY);
	firn_free(x->out);
	x->out = NULL;
	if (!resp)
		return MHD_NO;
	if (x->content_type)
		m->add_response_header(resp, "Content-Type", x->content_type);
	if (x->etag[0])
		m->add_response_header(resp, "ETag", x->etag);
	if (x->allow)
		m->add_response_header(resp, "Allow", x->allow);
	if (x->auth_challenge)
		m->add_response_header(resp, "WWW-Authenticate", "Bearer");
	enum MHD_Result ok = m->queue_response(conn, (unsigned)x->status, resp);
	m->destroy_response(resp);
	r->status = x->status;
	return ok;
}

/* Splits the raw path (after "/v1/") into decoded segments; false for a
 * bad escape. */
static bool split_path(struct srv_call *x, const char *path, size_t n)
{
	size_t cap = 1;
	for (size_t i = 0; i < n; i++)
		cap += path[i] == '/';
	if (cap > 32)
		cap = 32; /* no route is this deep: the rest is not looked at */
	x->seg = firn_calloc(cap, sizeof(char *));
	if (!x->seg)
		return false;
	const char *p = path, *end = path + n;
	while (x->n_seg < cap) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		/* '+' is a space, as Java's clients encode it (URLEncoder) */
		char *d = firn_server__decode(p, (size_t)(e - p), true);
		if (!d)
			return false;
		x->seg[x->n_seg++] = d;
		if (!slash)
			break;
		p = slash + 1;
	}
	return true;
}

static void call_free(struct srv_call *x)
{
	for (size_t i = 0; i < x->n_seg; i++)
		firn_free(x->seg[i]);
	firn_free(x->seg);
	firn_free(x->out);
	catalog_release(x->srv, x->cat);
}

static void handle(struct srv_req *r, struct MHD_Connection *conn, struct srv_call *x)
{
	const char *uri = r->uri ? r->uri : "";
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	x->query = q ? q + 1 : NULL;
	if (r->too_large) {
		firn_server__error(x, 413, "BadRequestException", "the request body is over %zu bytes",
				   r->srv->o.max_body);
		return;
	}
	if (plen < 4 || memcmp(uri, "/v1/", 4) != 0) {
		firn_server__error(x, 404, "NotFoundException", "no route for %s %.*s", x->method,
				   (int)(plen > 200 ? 200 : plen), uri);
		return;
	}
	if (!split_path(x, uri + 4, plen - 4)) {
		firn_server__error(x, 400, "BadRequestException", "the path is not valid "
				   "percent-encoding (or holds %%00)");
		return;
	}
	bool token_request = x->n_seg == 2 && strcmp(x->seg[0], "oauth") == 0 &&
			     strcmp(x->seg[1], "tokens") == 0;
	if (auth_required(r->srv) && !token_request && !authorized(x)) {
		firn_server__error(x, 401, "NotAuthorizedException", "not authorized: a valid bearer "
				   "token is required");
		return;
	}
	const char *key = strcmp(x->method, "POST") == 0 || strcmp(x->method, "DELETE") == 0
				  ? r->srv->mhd->lookup_connection_value(conn, MHD_HEADER_KIND,
									 "Idempotency-Key")
				  : NULL;
	struct firn_buf k = FIRN_BUF_INIT;
	if (key && *key && strlen(key) <= 64 &&
	    firn_buf_printf(&k, "%s\n%s %.*s", key, x->method, (int)plen, uri) == 0 &&
	    firn_buf_cstr(&k) == 0) {
		if (firn_server__idem_begin(r->srv->idem, (const char *)k.data, x) == 0) {
			firn_server__dispatch(x);
			firn_server__idem_end(r->srv->idem, (const char *)k.data, x);
		}
	} else {
		firn_server__dispatch(x);
	}
	firn_buf_free(&k);
}

static bool body_over_limit(struct firn_server *s, struct MHD_Connection *conn)
{
	const char *cl = s->mhd->lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	if (!cl)
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(cl, &end, 10);
	return errno != 0 || v > s->o.max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct srv_req *r = *con_cls;
	if (!r || !r->uri)
		return MHD_NO;
	struct firn_server *s = r->srv;
	if (!r->started) {
		r->started = true;
		snprintf(r->method, sizeof(r->method), "%s", method ? method : "");
		if (!body_over_limit(s, conn))
			return MHD_YES;
		r->too_large = true; /* answered before the body is read */
	} else if (*upload_data_size > 0) {
		if (!r->too_large && r->body.len + *upload_data_size > s->o.max_body) {
			r->too_large = true;
			firn_buf_free(&r->body);
		}
		if (!r->too_large && firn_buf_append(&r->body, upload_data, *upload_data_size) != 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (firn_buf_cstr(&r->body) != 0)
		return MHD_NO;
	struct srv_call x = { 0 };
	x.srv = s;
	x.conn = conn;
	x.method = r->method;
	x.body = (const char *)r->body.data;
	x.body_len = r->body.len;
	handle(r, conn, &x);
	enum MHD_Result ok = respond(r, conn, &x);
	call_free(&x);
	return ok;
}

/* ---- start and stop ----------------------------------------------------- */

/* "HOST:PORT" or "[V6]:PORT" into an address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
			struct firn_error *err)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen)
		return firn_error_set(err, FIRN_EINVAL, "--listen '%s': give ADDR:PORT", listen);
	char host[256];
	const char *h = listen;
	size_t hn = (size_t)(colon - listen);
	if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
		h++;
		hn -= 2;
	}
	if (hn == 0 || hn >= sizeof(host))
		return firn_error_set(err, FIRN_EINVAL, "--listen '%s': give ADDR:PORT", listen);
	memcpy(host, h, hn);
	host[hn] = '\0';
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 || port > 65535)
		return firn_error_set(err, FIRN_EINVAL, "--listen '%s': the port must be 0 to 65535",
				      listen);
	struct addrinfo hints = { 0 }, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int g = getaddrinfo(host, NULL, &hints, &ai);
	if (g != 0 || !ai)
		return firn_error_set(err, FIRN_EINVAL, "--listen '%s': %s", listen, gai_strerror(g));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		return firn_error_set(err, FIRN_EINVAL, "--listen '%s': not an IP address", listen);
	return 0;
}

static int copy_options(struct firn_server *s, const struct firn_server_options *o,
			struct firn_error *err)
{
	s->o = *o;
	if (s->o.token_ttl <= 0)
		s->o.token_ttl = 3600;
	if (s->o.threads <= 0)
		s->o.threads = 4;
	if (s->o.max_body == 0)
		s->o.max_body = DEFAULT_MAX_BODY;
	s->listen = firn_strdup(o->listen && *o->listen ? o->listen : "127.0.0.1:8181");
	s->warehouse = firn_strdup(o->warehouse && *o->warehouse ? o->warehouse : "warehouse");
	s->catalog_uri = o->catalog_uri && *o->catalog_uri ? firn_strdup(o->catalog_uri) : NULL;
	s->prefix = o->prefix && *o->prefix ? firn_strdup(o->prefix) : NULL;
	const char *cname = o->version >= 2 ? o->catalog_name : NULL;
	s->catalog_name = firn_strdup(cname && *cname ? cname : "default");
	s->token = o->token && *o->token ? firn_strdup(o->token) : NULL;
	if (!s->listen || !s->warehouse || !s->catalog_name || (o->catalog_uri && *o->catalog_uri && !s->catalog_uri) ||
	    (o->prefix && *o->prefix && !s->prefix) || (o->token && *o->token && !s->token))
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (s->prefix && (strchr(s->prefix, '/') || strcmp(s->prefix, "namespaces") == 0 ||
			  strcmp(s->prefix, "tables") == 0 || strcmp(s->prefix, "transactions") == 0 ||
			  strcmp(s->prefix, "config") == 0 || strcmp(s->prefix, "oauth") == 0))
		return firn_error_set(err, FIRN_EINVAL, "--prefix '%s': one path segment that is not "
				      "a route's own word", s->prefix);
	if (o->n_allow_locations && !(s->allow = firn_calloc(o->n_allow_locations, sizeof(char *))))
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (; s->n_allow < o->n_allow_locations; s->n_allow++)
		if (!(s->allow[s->n_allow] = firn_strdup(o->allow_locations[s->n_allow])))
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (o->credential && *o->credential) {
		const char *colon = strchr(o->credential, ':');
		if (!colon || colon == o->credential || colon[1] == '\0')
			return firn_error_set(err, FIRN_EINVAL, "--credential: give ID:SECRET");
		s->client_id = firn_strndup(o->credential, (size_t)(colon - o->credential));
		s->client_secret = firn_strdup(colon + 1);
		if (!s->client_id || !s->client_secret)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

static void server_free(struct firn_server *s)
{
	firn_server__cache_free(s->cache);
	firn_server__idem_free(s->idem);
	for (size_t i = 0; i < s->n_idle; i++)
		firn_catalog_free(s->idle[i]);
	firn_free(s->idle);
	firn_free(s->tokens);
	firn_free(s->listen);
	firn_free(s->warehouse);
	firn_free(s->catalog_uri);
	firn_free(s->catalog_name);
	firn_free(s->prefix);
	firn_free(s->token);
	firn_free(s->client_id);
	firn_free(s->client_secret);
	for (size_t i = 0; i < s->n_allow; i++)
		firn_free(s->allow[i]);
	firn_free(s->allow);
	pthread_mutex_destroy(&s->lock);
	firn_free(s);
}

static void name_host(struct firn_server *s, const struct sockaddr_storage *ss, socklen_t len)
{
	char h[INET6_ADDRSTRLEN + 1] = "";
	getnameinfo((const struct sockaddr *)ss, len, h, sizeof(h), NULL, 0, NI_NUMERICHOST);
	snprintf(s->host, sizeof(s->host), ss->ss_family == AF_INET6 ? "[%s]" : "%s", h);
}

static int start_daemon(struct firn_server *s, struct sockaddr_storage ss, socklen_t len,
			struct firn_error *err)
{
	name_host(s, &ss, len);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						      : ((struct sockaddr_in *)&ss)->sin_port);
	errno = 0;
	s->daemon = s->mhd->start_daemon(flags, port, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->o.threads,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
		MHD_OPTION_END);
	if (!s->daemon)
		return firn_error_set(err, FIRN_EIO, "cannot listen on %s: %s", s->listen,
				      errno ? strerror(errno) : "libmicrohttpd refused to start");
	const union MHD_DaemonInfo *info = s->mhd->get_daemon_info(s->daemon,
								   MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	return 0;
}

int firn_server_start(const struct firn_server_options *opts, struct firn_server **out,
		      struct firn_error *err)
{
	*out = NULL;
	if (!opts || opts->version != FIRN_SERVER_OPTIONS_VERSION)
		return firn_error_set(err, FIRN_EINVAL, "firn_server_start: options of version %d, "
				      "not %d", opts ? opts->version : 0, FIRN_SERVER_OPTIONS_VERSION);
	struct firn_server *s = firn_calloc(1, sizeof(*s));
	if (!s)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	if (firn_server__cache_new(&s->cache) != 0 || firn_server__idem_new(&s->idem) != 0) {
		firn_server__cache_free(s->cache);
		pthread_mutex_destroy(&s->lock);
		firn_free(s);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	struct firn_catalog *c = NULL;
	struct sockaddr_storage ss;
	socklen_t len = 0;
	/* the options checked before the catalog, which may create a warehouse */
	int rc = copy_options(s, opts, err);
	if (rc == 0)
		rc = parse_listen(s->listen, &ss, &len, err);
	if (rc == 0 && !(s->mhd = firn_server__mhd(err)))
		rc = FIRN_EIO;
	/* the first handle: a catalog that cannot open fails here, not per request */
	if (rc == 0 && (rc = open_catalog(s, &c, err)) == 0) {
		s->idle = firn_malloc(8 * sizeof(*s->idle));
		if (!s->idle) {
			firn_catalog_free(c);
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		} else {
			s->cap_idle = 8;
			s->idle[s->n_idle++] = c;
		}
	}
	if (rc == 0)
		rc = start_daemon(s, ss, len, err);
	if (rc != 0) {
		server_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int firn_server_port(const struct firn_server *s)
{
	return s ? s->port : 0;
}

void firn_server_stop(struct firn_server *s)
{
	if (!s)
		return;
	if (s->daemon) {
		MHD_socket fd = s->mhd->quiesce_daemon(s->daemon);
		for (int waited = 0; waited < STOP_WAIT_MS; waited += 10) {
			pthread_mutex_lock(&s->lock);
			long n = s->in_flight;
			pthread_mutex_unlock(&s->lock);
			if (n <= 0)
				break;
			struct timespec t = { 0, 10 * 1000 * 1000 };
			nanosleep(&t, NULL);
		}
		s->mhd->stop_daemon(s->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	server_free(s);
}

int firn_server_run(const struct firn_server_options *opts, struct firn_error *err)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* blocked before the request threads exist, so they inherit it and
	 * the signal waits for sigwait below */
	pthread_sigmask(SIG_BLOCK, &set, &old);
	struct firn_server *s;
	int rc = firn_server_start(opts, &s, err);
	if (rc == 0) {
		server_log(s, "firn serve: listening on http://%s:%d", s->host, s->port);
		int sig;
		while (sigwait(&set, &sig) != 0)
			;
		server_log(s, "firn serve: %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
		firn_server_stop(s);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
