/* libcurl loaded on first use (curl_dl.h). */
#include "io/curl_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct firn_curl_api firn_curl;
static char load_error[300];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return;
	}
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&firn_curl.easy_init, "curl_easy_init" },
		{ (void **)&firn_curl.easy_cleanup, "curl_easy_cleanup" },
		{ (void **)&firn_curl.easy_reset, "curl_easy_reset" },
		{ (void **)&firn_curl.easy_setopt, "curl_easy_setopt" },
		{ (void **)&firn_curl.easy_perform, "curl_easy_perform" },
		{ (void **)&firn_curl.easy_getinfo, "curl_easy_getinfo" },
		{ (void **)&firn_curl.easy_strerror, "curl_easy_strerror" },
		{ (void **)&firn_curl.slist_append, "curl_slist_append" },
		{ (void **)&firn_curl.slist_free_all, "curl_slist_free_all" },
		{ (void **)&firn_curl.share_init, "curl_share_init" },
		{ (void **)&firn_curl.share_setopt, "curl_share_setopt" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(*syms); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(load_error, sizeof(load_error), "libcurl.so.4 has no %s", syms[i].name);
			firn_curl.easy_init = NULL;
			return;
		}
	}
	CURLcode (*global_init)(long) = (CURLcode(*)(long))dlsym(h, "curl_global_init");
	if (!global_init || global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "curl_global_init failed");
		firn_curl.easy_init = NULL;
	}
}

int firn_curl__load(struct firn_error *err)
{
	pthread_once(&once, load);
	if (!firn_curl.easy_init)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "libcurl is not installed (%s)", load_error);
	return 0;
}
