/* firn serve: the Iceberg REST catalog server (firn/server.h) over the
 * catalog of the global options, until SIGTERM or SIGINT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "firn/server.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char cmd_serve_usage[] = "serve [--listen ADDR:PORT] [--warehouse DIR | --catalog URI] "
			       "[--catalog-name NAME] "
			       "[--prefix P] [--token T] [--credential ID:SECRET] "
			       "[--token-ttl SECONDS] [--threads N] [--vend-credentials] "
			       "[--allow-location PREFIX]...";

static void log_line(void *arg, const char *line)
{
	/* one write per line: the request threads log at once */
	fprintf(stderr, "%s\n", line);
}

int cmd_serve(int argc, char **argv)
{
	cli_set_usage(cmd_serve_usage);
	if (cli_wants_help(argc, argv)) {
		cli_help(cmd_serve_usage);
		return EXIT_OK;
	}
	struct cli_opt o[] = {
		{ "listen", true }, { "warehouse", true }, { "catalog", true }, { "prefix", true },
		{ "token", true }, { "credential", true }, { "token-ttl", true }, { "threads", true },
		{ "vend-credentials", false }, { "catalog-name", true },
		{ "allow-location", true, .repeats = true }, /* last: read as o[N(o) - 1] */
	};
	int n_pos;
	if (cli_parse(argc, argv, o, N(o), NULL, 0, &n_pos) != 0)
		return EXIT_USAGE;
	struct firn_server_options so = FIRN_SERVER_OPTIONS_INIT;
	int64_t ttl = 3600, threads = 4, secs;
	const char *lt = getenv("FIRN_LOCK_TIMEOUT");
	if (cli_opt_int(o, N(o), "token-ttl", 1, 365LL * 86400, &ttl) != 0 ||
	    cli_opt_int(o, N(o), "threads", 1, 256, &threads) != 0)
		return EXIT_USAGE;
	if (lt && *lt) {
		if (cli_parse_int(lt, 0, 86400, &secs) != 0)
			return cli_usage("FIRN_LOCK_TIMEOUT needs whole seconds from 0 to 86400, not '%s'", lt);
		so.lock_timeout_ms = (int)(secs * 1000);
	}
	/* the catalog: these options, else the global ones and FIRN_*, else
	 * PyIceberg's configuration of the catalog name */
	static const char *const vars[][2] = { { "warehouse", "FIRN_WAREHOUSE" },
					       { "catalog", "FIRN_CATALOG" },
					       { "catalog-name", "FIRN_CATALOG_NAME" } };
	for (int i = 0; i < N(vars); i++) {
		const char *v = cli_get(o, N(o), vars[i][0]);
		if (v && i == 2 && !*v) {
			cli_opts_free(o, N(o));
			return cli_usage("--catalog-name needs a name");
		}
		if (v)
			setenv(vars[i][1], v, 1);
	}
	int rc = cli_catalog_resolve();
	if (rc != EXIT_OK) {
		cli_opts_free(o, N(o));
		return rc;
	}
	const char *wh = getenv("FIRN_WAREHOUSE");
	const char *uri = getenv("FIRN_CATALOG");
	so.catalog_name = getenv("FIRN_CATALOG_NAME");
	if (cli_get(o, N(o), "listen"))
		so.listen = cli_get(o, N(o), "listen");
	so.warehouse = wh && *wh ? wh : "warehouse";
	const char *scheme_end = strstr(so.warehouse, "://");
	if (scheme_end && !(scheme_end - so.warehouse == 4 && strncmp(so.warehouse, "file", 4) == 0) &&
	    !(uri && *uri)) {
		cli_opts_free(o, N(o));
		return cli_failf("%s: a warehouse in object storage needs --catalog (a local SQLite "
				 "file or postgresql://...)", so.warehouse);
	}
	so.catalog_uri = uri;
	so.prefix = cli_get(o, N(o), "prefix");
	so.token = cli_get(o, N(o), "token");
	so.credential = cli_get(o, N(o), "credential");
	so.token_ttl = (int)ttl;
	so.threads = (int)threads;
	so.vend_credentials = cli_get(o, N(o), "vend-credentials") != NULL;
	/* locations clients may name besides the warehouse (else confined to it) */
	so.allow_locations = o[N(o) - 1].values;
	so.n_allow_locations = o[N(o) - 1].n_values;
	so.log = log_line;
	setvbuf(stderr, NULL, _IOLBF, 0);
	struct firn_error err = { 0 };
	rc = firn_server_run(&so, &err) == 0 ? EXIT_OK : cli_fail(&err);
	cli_opts_free(o, N(o));
	return rc;
}
