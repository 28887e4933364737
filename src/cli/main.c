/* firn: the command-line tool. Dispatches to the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "firn/util.h"

/* The usage line of firn parquet without a subcommand (cmd_parquet's). */
#define PARQUET_USAGE "parquet schema|meta|cat|convert ..."

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Runs the command line argv[0..argc) (argv[0] the command). */
static int dispatch(int argc, char **argv)
{
	const char *cmd = argv[0];
	if (strcmp(cmd, "parquet") == 0) {
		if (argc > 1 && is_help(argv[1])) {
			cli_help(PARQUET_USAGE);
			return EXIT_OK;
		}
		return cmd_parquet(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	int rc = cmd_table(cmd, argc - 1, argv + 1);
	if (rc >= 0)
		return rc;
	if (strcmp(cmd, "version") == 0) {
		if (cli_wants_help(argc - 1, argv + 1))
			cli_help("version");
		else
			printf("firn %s\n%s\n", firn_version(), firn_created_by());
		return EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0)
		return cli_help_main(argc - 1, argv + 1, dispatch);
	return cli_usage("unknown command '%s'", cmd);
}

/* The environment variable a global option ("--catalog" or
 * "--catalog=URI") sets, or NULL: the commands read the catalog options
 * from there, as a user's environment may set them. */
static const char *global_env(const char *a)
{
	static const char *const opts[][2] = {
		{ "--warehouse", "FIRN_WAREHOUSE" },
		{ "--catalog", "FIRN_CATALOG" },
		{ "--catalog-name", "FIRN_CATALOG_NAME" },
		{ "--token", "FIRN_TOKEN" },
		{ "--credential", "FIRN_CREDENTIAL" },
		{ "--threads", "FIRN_THREADS" },
	};
	size_t n = strcspn(a, "=");
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strlen(opts[i][0]) == n && strncmp(a, opts[i][0], n) == 0)
			return opts[i][1];
	return NULL;
}

static bool threads_ok(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	return *v && *end == '\0' && n >= 1 && n <= 256;
}

/* A warehouse in object storage keeps its catalog elsewhere: the default
 * SQLite file WAREHOUSE/catalog.db cannot live in a bucket. */
static bool remote_warehouse_without_catalog(void)
{
	const char *wh = getenv("FIRN_WAREHOUSE"), *uri = getenv("FIRN_CATALOG");
	if (!wh || !*wh || (uri && *uri))
		return false;
	const char *p = strstr(wh, "://");
	return p && !(p - wh == 4 && strncmp(wh, "file", 4) == 0);
}

/* glibc hands a block of 128 KiB or more back to the kernel when it is
 * freed and maps it afresh at the next malloc; the dynamic threshold only
 * moves after the first free. A scan or a count frees and takes its row
 * groups' buffers over and over, and the page faults of the fresh memory
 * were up to half its time: keep blocks up to 32 MiB on the heap for
 * reuse, and give the heap back only past 256 MiB of free top. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int main(int argc, char **argv)
{
	int i = 1;
	tune_malloc();
	/* global options (the catalog options matter from the table commands on) */
	while (i < argc && (strncmp(argv[i], "--", 2) == 0 || strcmp(argv[i], "-h") == 0)) {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0) {
			printf("firn %s\n", firn_version());
			return EXIT_OK;
		}
		if (is_help(a)) {
			cli_help_list(stdout);
			return EXIT_OK;
		}
		if (strcmp(a, "--quiet") == 0) { /* no progress lines */
			cli_progress_quiet();
			i++;
			continue;
		}
		if (strncmp(a, "--conf", 6) == 0 && (a[6] == '\0' || a[6] == '=')) {
			if (a[6] == '\0' && i + 1 >= argc)
				return cli_usage("option --conf needs KEY=VALUE");
			int rc = cli_conf_add(a[6] ? a + 7 : argv[i + 1]);
			if (rc != EXIT_OK)
				return rc;
			i += a[6] ? 1 : 2;
			continue;
		}
		const char *env = global_env(a);
		size_t n = strcspn(a, "=");
		const char *val = NULL;
		if (env && a[n] == '=') {
			val = a + n + 1;
			i++;
		} else if (env) {
			if (i + 1 >= argc)
				return cli_usage("option %s needs a value", a);
			val = argv[i + 1];
			i += 2;
		}
		if (env) {
			if (strcmp(env, "FIRN_THREADS") == 0 && !threads_ok(val))
				return cli_usage("--threads %s: a number of threads from 1 to 256", val);
			if (strcmp(env, "FIRN_CATALOG_NAME") == 0 && !*val)
				return cli_usage("--catalog-name needs a name");
			setenv(env, val, 1);
			continue;
		}
		return cli_usage("unknown option %s", a);
	}
	if (i >= argc) {
		cli_help_list(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[i];
	if (strcmp(cmd, "parquet") != 0 && strcmp(cmd, "version") != 0 && strcmp(cmd, "help") != 0 &&
	    !(i + 1 < argc && is_help(argv[i + 1])) && remote_warehouse_without_catalog())
		return cli_failf("%s: a warehouse in object storage needs --catalog (a local SQLite "
				 "file, postgresql://... or a REST catalog)", getenv("FIRN_WAREHOUSE"));
	return dispatch(argc - i, argv + i);
}
