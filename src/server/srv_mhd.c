/* libmicrohttpd, loaded when the first server starts, not linked: it
 * brings GnuTLS and its libraries, whose loading cost every firn process
 * about 1.7 ms, though only `firn serve` answers HTTP. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "srv_private.h"

static struct firn_server_mhd mhd;
static char mhd_error[300];
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static bool mhd_ok;

static void mhd_load(void)
{
	void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(mhd_error, sizeof(mhd_error), "%s", dlerror());
		return;
	}
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&mhd.start_daemon, "MHD_start_daemon" },
		{ (void **)&mhd.quiesce_daemon, "MHD_quiesce_daemon" },
		{ (void **)&mhd.stop_daemon, "MHD_stop_daemon" },
		{ (void **)&mhd.get_daemon_info, "MHD_get_daemon_info" },
		{ (void **)&mhd.lookup_connection_value, "MHD_lookup_connection_value" },
		{ (void **)&mhd.create_response_from_buffer, "MHD_create_response_from_buffer" },
		{ (void **)&mhd.add_response_header, "MHD_add_response_header" },
		{ (void **)&mhd.queue_response, "MHD_queue_response" },
		{ (void **)&mhd.destroy_response, "MHD_destroy_response" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(*syms); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(mhd_error, sizeof(mhd_error), "libmicrohttpd.so.12 has no %s",
				 syms[i].name);
			return;
		}
	}
	mhd_ok = true;
}

const struct firn_server_mhd *firn_server__mhd(struct firn_error *err)
{
	pthread_once(&mhd_once, mhd_load);
	if (!mhd_ok) {
		firn_error_set(err, FIRN_EIO, "cannot load libmicrohttpd (install libmicrohttpd12): %s",
			       mhd_error);
		return NULL;
	}
	return &mhd;
}
