/* firn import delta|ducklake: another format's table adopted as an
 * Iceberg table, metadata only (firn/import.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "firn/import.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The summary line, or --json's object. */
static void print_result(const char *format, const char *source, const char *table, bool incremental,
			 bool json, const struct firn_import_info *info)
{
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "table", table, "format", format,
				      "source", source, "incremental", incremental, "versions",
				      (json_int_t)info->versions, "snapshots", (json_int_t)info->snapshots,
				      "files", (json_int_t)info->files, "last-version",
				      (json_int_t)info->last_version);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
		return;
	}
	if (incremental && info->versions == 0) {
		printf("%s is up to date with version %lld of %s table %s\n", table,
		       (long long)info->last_version, format, source);
		return;
	}
	printf("imported %lld version%s of %s table %s into %s: %lld snapshot%s, %lld file%s "
	       "(now at version %lld)\n",
	       (long long)info->versions, info->versions == 1 ? "" : "s", format, source, table,
	       (long long)info->snapshots, info->snapshots == 1 ? "" : "s", (long long)info->files,
	       info->files == 1 ? "" : "s", (long long)info->last_version);
}

static int run_import(const char *format, int n_args, int argc, char **argv)
{
	struct cli_opt opts[] = { { "incremental", false }, { "json", false } };
	const char *pos[4];
	int n_pos = 0;
	int rc = cli_parse(argc, argv, opts, N(opts), pos, 4, &n_pos);
	if (rc != 0)
		return rc;
	if (n_pos != n_args)
		return cli_usage("import %s needs %s", format,
				 n_args == 2 ? "PATH and TABLE" : "CATALOG_URI, NAME and TABLE");
	bool incremental = cli_get(opts, N(opts), "incremental") != NULL;
	bool json = cli_get(opts, N(opts), "json") != NULL;
	struct firn_error err = { 0 };
	struct firn_catalog *c = NULL;
	if ((rc = cli_open_catalog(&c, FIRN_CATALOG_CREATE, &err)) != 0)
		return rc;
	struct firn_import_info info = { 0 };
	const char *table = pos[n_args - 1];
	if (n_args == 2)
		rc = firn_import_delta(c, pos[0], table, incremental, &info, &err);
	else
		rc = firn_import_ducklake(c, pos[0], pos[1], table, incremental, &info, &err);
	firn_catalog_free(c);
	if (rc != 0)
		return cli_fail(&err);
	char source[1024];
	if (n_args == 2)
		snprintf(source, sizeof(source), "%s", pos[0]);
	else
		snprintf(source, sizeof(source), "%s %s", pos[0], pos[1]);
	print_result(format, source, table, incremental, json, &info);
	return EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
	static const struct {
		const char *name, *usage;
		int n_args;
	} subs[] = {
		{ "delta", "import delta PATH TABLE [--incremental] [--json]", 2 },
		{ "ducklake", "import ducklake CATALOG_URI NAME TABLE [--incremental] [--json]", 3 },
	};
	cli_set_usage("import delta|ducklake ...");
	if (argc < 1)
		return cli_usage("import needs a format: delta or ducklake");
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		cli_help("import delta|ducklake ...");
		return EXIT_OK;
	}
	for (int i = 0; i < N(subs); i++) {
		if (strcmp(argv[0], subs[i].name) != 0)
			continue;
		cli_set_usage(subs[i].usage);
		if (cli_wants_help(argc - 1, argv + 1)) {
			cli_help(subs[i].usage);
			return EXIT_OK;
		}
		return run_import(subs[i].name, subs[i].n_args, argc - 1, argv + 1);
	}
	return cli_usage("unknown import format '%s' (delta or ducklake)", argv[0]);
}
