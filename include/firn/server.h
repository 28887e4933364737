/* firn: the Iceberg REST catalog server (`firn serve`).
 *
 * An HTTP server (libmicrohttpd, loaded when a server starts) that answers
 * the REST catalog spec (rest-catalog-open-api 1.11) over a firn catalog:
 * config, OAuth2 client-credentials tokens, namespaces and tables, the
 * multi-table transaction. Requests run on a pool of threads; each takes
 * a catalog handle from a pool of handles the server opens (confined to
 * the warehouse, see firn_catalog_confine), so no handle is ever used by
 * two requests at once. */
#ifndef FIRN_SERVER_H
#define FIRN_SERVER_H

#include "firn/export.h"

#include <stdbool.h>
#include <stddef.h>

#include "firn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct firn_server;

struct firn_server_options {
	int version;             /* FIRN_SERVER_OPTIONS_VERSION */
	/* "ADDR:PORT" ("127.0.0.1:8181", "[::1]:8181", "localhost:8181");
	 * port 0 picks a free one (firn_server_port says which) */
	const char *listen;
	const char *warehouse;   /* the warehouse directory */
	const char *catalog_uri; /* NULL or "": SQLite at <warehouse>/catalog.db */
	/* the {prefix} of /v1/{prefix}/... announced in config (NULL: none);
	 * requests without it are answered too */
	const char *prefix;
	/* a static bearer token every request must carry (NULL: none) */
	const char *token;
	/* "ID:SECRET": POST /v1/oauth/tokens issues tokens to that client
	 * (NULL: none). With a token or a credential set, every request but
	 * the token request needs Authorization: Bearer; else none does. */
	const char *credential;
	int token_ttl;           /* seconds an issued token lasts; <= 0: 3600 */
	int threads;             /* request threads; <= 0: 4 */
	size_t max_body;         /* the largest request body; 0: 8 MiB */
	int lock_timeout_ms;     /* for the catalog (firn_catalog_options) */
	/* one line per request ("GET /v1/config 200 0.31 ms") and the
	 * "listening on" line of firn_server_run, without a newline; NULL:
	 * nothing is logged. Called from the request threads. */
	void (*log)(void *arg, const char *line);
	void *log_arg;
	/* location roots clients may put tables under besides the warehouse
	 * (firn_catalog_allow_location; `--allow-location`); NULL: none */
	const char *const *allow_locations;
	size_t n_allow_locations;
	/* load-table config of tables on s3:// also carries the server's S3
	 * credentials (s3.access-key-id, s3.secret-access-key,
	 * s3.session-token; `--vend-credentials`); false: never */
	bool vend_credentials;
	/* version 2: the SQL catalog's catalog_name (firn_catalog_open_with's
	 * name; `--catalog-name`); NULL or "": "default" */
	const char *catalog_name;
};
#define FIRN_SERVER_OPTIONS_VERSION 2
#define FIRN_SERVER_OPTIONS_INIT \
	{ FIRN_SERVER_OPTIONS_VERSION, "127.0.0.1:8181", "warehouse", NULL, NULL, NULL, NULL, \
	  3600, 4, 0, 60000, NULL, NULL, NULL, 0, false, NULL }

/* Opens the catalog (FIRN_CATALOG_CREATE), binds the address and starts
 * answering. The options' strings are copied. Errors: FIRN_EINVAL (a bad
 * option), the catalog's open errors, FIRN_EIO (libmicrohttpd missing,
 * the address in use). *out is the caller's: stop it with
 * firn_server_stop. */
FIRN_API int firn_server_start(const struct firn_server_options *opts, struct firn_server **out,
			       struct firn_error *err);
/* The port the server listens on (the one picked for port 0). */
FIRN_API int firn_server_port(const struct firn_server *s);
/* Stops accepting connections, lets the requests in flight finish (for
 * at most 30 seconds), stops and frees the server. NULL ok. */
FIRN_API void firn_server_stop(struct firn_server *s);
/* Starts a server, logs "firn serve: listening on http://ADDR:PORT",
 * waits for SIGTERM or SIGINT (blocked in the calling thread meanwhile,
 * and in the request threads), then stops it. 0 after a signal. */
FIRN_API int firn_server_run(const struct firn_server_options *opts, struct firn_error *err);

#ifdef __cplusplus
}
#endif
#endif
