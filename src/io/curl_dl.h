/* libcurl, loaded when first needed (the REST catalog client; S3 next),
 * not linked: it brings thirty libraries (TLS, HTTP/2, SSH, LDAP, ...)
 * whose loading would cost every firn process about 5 ms. Internal.
 *
 * firn_curl__load() once, then call through firn_curl. */
#ifndef FIRN_CURL_DL_H
#define FIRN_CURL_DL_H

#include <curl/curl.h>

#include "firn/error.h"

struct firn_curl_api {
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLSH *(*share_init)(void);
	CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
};

extern struct firn_curl_api firn_curl;

/* Loads libcurl.so.4 and initialises it (thread-safe, once). FIRN_EUNSUPPORTED
 * "libcurl is not installed (...)" when it cannot be loaded. */
int firn_curl__load(struct firn_error *err);

#endif
