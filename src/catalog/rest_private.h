/* The REST catalog client (rest_client.c). Internal. */
#ifndef FIRN_REST_PRIVATE_H
#define FIRN_REST_PRIVATE_H

#include "firn/catalog.h"

/* Opens the REST catalog at uri ("http://host:port[/prefix path]", with or
 * without its "/v1"): GET /v1/config, after an OAuth2 client-credentials
 * token for credential ("ID:SECRET") when no token is given. */
int firn_rest__open(struct firn_catalog **out, const char *uri, const char *warehouse,
		    const char *name, const char *token, const char *credential,
		    struct firn_error *err);

#endif
