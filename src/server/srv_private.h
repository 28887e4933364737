/* The REST catalog server's shared internals (src/server/ only). */
#ifndef FIRN_SRV_PRIVATE_H
#define FIRN_SRV_PRIVATE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "firn/catalog.h"
#include "firn/server.h"
#include "firn/util.h"

/* ---- libmicrohttpd, loaded at the first start (srv_mhd.c) ------------ */

struct firn_server_mhd {
	struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port,
					   MHD_AcceptPolicyCallback apc, void *apc_cls,
					   MHD_AccessHandlerCallback dh, void *dh_cls, ...);
	MHD_socket (*quiesce_daemon)(struct MHD_Daemon *d);
	void (*stop_daemon)(struct MHD_Daemon *d);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *d,
						       enum MHD_DaemonInfoType t, ...);
	const char *(*lookup_connection_value)(struct MHD_Connection *c, enum MHD_ValueKind kind,
					       const char *key);
	struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
							    enum MHD_ResponseMemoryMode mode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *r, const char *header,
					       const char *content);
	enum MHD_Result (*queue_response)(struct MHD_Connection *c, unsigned int status,
					  struct MHD_Response *r);
	void (*destroy_response)(struct MHD_Response *r);
};
/* The functions, or NULL with the reason in err (FIRN_EIO). */
const struct firn_server_mhd *firn_server__mhd(struct firn_error *err);

/* ---- the server -------------------------------------------------------- */

struct srv_token {
	char text[65];       /* 64 hex digits */
	struct timespec expires;
};

struct firn_server {
	struct firn_server_options o; /* strings below are the server's copies */
	char *listen, *warehouse, *catalog_uri, *catalog_name, *prefix, *token, *client_id, *client_secret;
	char **allow;                /* the allowed location roots */
	size_t n_allow;
	char host[64];               /* as the listening line shows it */
	int port;
	struct MHD_Daemon *daemon;
	const struct firn_server_mhd *mhd;

	pthread_mutex_t lock;        /* guards what follows */
	struct firn_catalog **idle;  /* catalog handles no request holds */
	size_t n_idle, cap_idle;
	struct srv_token *tokens;    /* issued by /v1/oauth/tokens */
	size_t n_tokens, cap_tokens;
	long in_flight;              /* requests begun and not completed */
	struct srv_cache *cache;     /* load-table answers (srv_cache.c) */
	struct srv_idem *idem;       /* Idempotency-Key answers (srv_idem.c) */
};

/* One request: made when its request line arrives, freed when it is done. */
struct srv_req {
	struct firn_server *srv;
	char *uri;                   /* the raw request target, query included */
	bool started;                /* the access handler has seen it */
	bool too_large;              /* the body passed max_body: dropped */
	struct firn_buf body;
	int status;                  /* what was answered (0: nothing) */
	struct timespec t0;
	char method[16];
};

/* What a handler sees and fills. */
struct srv_call {
	struct firn_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	char **seg;                  /* the decoded path segments after /v1[/prefix] */
	size_t n_seg;
	const char *query;           /* raw, after '?' (NULL: none) */
	const char *body;            /* NUL-terminated (the buffer keeps one) */
	size_t body_len;
	struct firn_catalog *cat;    /* taken from the pool when first needed */
	/* the response */
	int status;
	char *out;                   /* firn_malloc'd body, or NULL */
	size_t out_len;
	const char *content_type;
	char etag[24];               /* "" or the quoted ETag */
	const char *allow;           /* the Allow header of a 405 */
	char allow_buf[64];
	bool auth_challenge;         /* a 401: WWW-Authenticate: Bearer */
	/* What the request names, for the not-found and already-exists
	 * messages in Java's words (firn_server__fail); borrowed, NULL: not
	 * known, the catalog's message stands. */
	const char *about_ns;        /* the namespace ("a.b") */
	const char *about_table;     /* the table it reads ("ns.name") */
	const char *about_new;       /* the table it would make (create, register, rename's
				      * destination) */
};

/* ---- helpers (srv_http.c) --------------------------------------------- */

/* Percent-decodes s[0..n) into a firn_malloc'd string; plus_space also
 * reads '+' as a space (form and query values). NULL for a bad escape,
 * a NUL byte or out of memory. */
char *firn_server__decode(const char *s, size_t n, bool plus_space);
/* The decoded value of key in a form-encoded string (a query, a form
 * body), or NULL (absent or undecodable); firn_malloc'd. *bad is set when
 * the key is present but its value cannot be decoded. */
char *firn_server__form_get(const char *form, size_t n, const char *key, bool *bad);
/* Decodes standard base64 (padding optional); firn_malloc'd, NUL added;
 * NULL when not base64. */
char *firn_server__base64_decode(const char *s, size_t n, size_t *len);
/* Whether a and b are the same bytes; the time does not depend on where
 * they differ (secrets). */
bool firn_server__secret_equal(const char *a, const char *b);

/* Responses. Each returns 0. */
int firn_server__json(struct srv_call *x, int status, json_t *v);   /* steals v */
/* The answer is JSON text (firn_malloc'd; the call takes it). */
int firn_server__text(struct srv_call *x, int status, char *text);
int firn_server__empty(struct srv_call *x, int status);
/* The spec's ErrorModel with the Java exception name. */
int firn_server__error(struct srv_call *x, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A firn error as the status catalog.h maps it to. commit: a 500 is
 * CommitStateUnknownException (the outcome is unknown). A namespace or
 * table that does not exist or already exists is worded as Java's
 * catalogs word it ("Table does not exist: ns.t"), which REST clients and
 * the REST Compatibility Kit match, naming x's about_* identifiers. */
int firn_server__fail(struct srv_call *x, const struct firn_error *err, bool commit);
/* The request body as JSON (an object), or NULL after answering 400. */
json_t *firn_server__body(struct srv_call *x);

/* A namespace path segment (levels joined by 0x1F) or JSON array as the
 * catalog's dotted form; NULL after answering 400. firn_malloc'd. */
char *firn_server__ns_from_segment(struct srv_call *x, const char *seg);
char *firn_server__ns_from_json(struct srv_call *x, json_t *levels);
/* Whether name is a valid table name (else answers 400). */
bool firn_server__name_ok(struct srv_call *x, const char *name, const char *what);
/* The dotted namespace as a JSON array of its levels. */
json_t *firn_server__ns_json(const char *ns);

/* The call's catalog, from the pool (opened when none is idle); NULL
 * after answering 500. */
struct firn_catalog *firn_server__catalog(struct srv_call *x);

/* ---- routing (srv_routes.c) and the handlers (srv_tables.c) ----------- */

void firn_server__dispatch(struct srv_call *x);
/* POST /v1/oauth/tokens (server.c: it issues the server's tokens). */
int firn_server__oauth_token(struct srv_call *x);

int firn_server__table_list(struct srv_call *x);
int firn_server__table_create(struct srv_call *x);
int firn_server__table_register(struct srv_call *x);
int firn_server__table_load(struct srv_call *x);
int firn_server__table_exists(struct srv_call *x);
int firn_server__table_commit(struct srv_call *x);
int firn_server__table_drop(struct srv_call *x);
int firn_server__table_metrics(struct srv_call *x);
int firn_server__table_rename(struct srv_call *x);
int firn_server__transaction(struct srv_call *x);

/* views (srv_views.c) */
int firn_server__view_list(struct srv_call *x);
int firn_server__view_create(struct srv_call *x);
int firn_server__view_load(struct srv_call *x);
int firn_server__view_exists(struct srv_call *x);
int firn_server__view_commit(struct srv_call *x);
int firn_server__view_drop(struct srv_call *x);
int firn_server__view_rename(struct srv_call *x);
int firn_server__view_register(struct srv_call *x);

/* Paging (pageToken, pageSize) over a sorted list of names: the range
 * [*from, *to) to return and the next page's token (NULL at the end;
 * borrowed from names). 0, or -1 after answering 400. */
int firn_server__page(struct srv_call *x, char **names, size_t n, size_t *from, size_t *to,
		      const char **next);
/* A ListTablesResponse / ListViewsResponse: the page of names (sorted here)
 * the query asks for, as identifiers in ns, with the next page's token. */
int firn_server__identifiers(struct srv_call *x, const char *ns, char **names, size_t n);

/* ---- load-table answers by metadata location (srv_cache.c) ---------- */
struct srv_cache;
int firn_server__cache_new(struct srv_cache **out);
void firn_server__cache_free(struct srv_cache *c);
/* A copy of the answer kept for (location, mode), or NULL. */
char *firn_server__cache_get(struct srv_cache *c, const char *location, const char *mode);
/* Keeps a copy of body (least recently used out); a failure keeps nothing. */
void firn_server__cache_put(struct srv_cache *c, const char *location, const char *mode,
			    const char *body);

/* ---- Idempotency-Key (srv_idem.c) -------------------------------------- */
#define FIRN_SERVER_IDEM_LIFETIME_S 1800 /* announced as "PT30M" */
struct srv_idem;
int firn_server__idem_new(struct srv_idem **out);
void firn_server__idem_free(struct srv_idem *d);
/* 1 when key's first request has been answered: x holds that answer;
 * 0 when this request is to run (then firn_server__idem_end). */
int firn_server__idem_begin(struct srv_idem *d, const char *key, struct srv_call *x);
/* Records x's answer for key when it is final (not a 5xx). */
void firn_server__idem_end(struct srv_idem *d, const char *key, const struct srv_call *x);

#endif
