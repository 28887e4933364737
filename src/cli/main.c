/* firn: the command-line tool. Dispatches to the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "firn/util.h"

static const char usage_text[] =
	"usage: firn [--warehouse DIR] [--catalog URI] COMMAND ...\n"
	"\n"
	"tables (catalog: --catalog URI, default the SQLite file WAREHOUSE/catalog.db;\n"
	"        warehouse: --warehouse DIR, default ./warehouse):\n"
	"  namespace create|list|drop|describe NS [--property K=V]\n"
	"  create TABLE --schema SPEC [--partition-by SPEC] [--sort-by SPEC]\n"
	"               [--property K=V]... [--format-version 2|3]\n"
	"  tables [NS] | describe TABLE | snapshots TABLE | history TABLE   [--json]\n"
	"  files TABLE [--json] [--snapshot ID | --as-of TIME | --ref NAME]\n"
	"  drop TABLE [--purge] | rename FROM TO | register TABLE METADATA_FILE\n"
	"  append TABLE FILE... [--format csv|jsonl|parquet]   (FILE - is stdin)\n"
	"               [--truncate-timestamps]  (append, overwrite, merge: drop sub-µs digits)\n"
	"  scan TABLE [--columns A,B] [--where EXPR] [--limit N]\n"
	"             [--snapshot ID | --as-of TIME | --ref NAME]\n"
	"             [--format table|csv|jsonl|parquet] [--output FILE]\n"
	"  count TABLE [--where EXPR] [--snapshot ID | --as-of TIME | --ref NAME]\n"
	"  delete TABLE --where EXPR [--mode auto|merge-on-read|copy-on-write]\n"
	"  update TABLE --set 'COL = EXPR, ...' --where EXPR [--mode ...]\n"
	"  merge TABLE FILE... --on KEY[,KEY] [--mode ...]      (upsert)\n"
	"  overwrite TABLE FILE... [--where EXPR]\n"
	"  compact TABLE [--where EXPR] [--target-file-size BYTES]\n"
	"  expire TABLE [--older-than TIME] [--retain-last N] [--dry-run]\n"
	"  remove-orphans TABLE [--older-than TIME] [--dry-run] [--force]\n"
	"  rewrite-manifests TABLE          regroup manifests by partition\n"
	"  maintain TABLE                  compact, expire (history.expire.*), remove orphans\n"
	"  tag|branch TABLE NAME [--snapshot ID] | rollback TABLE --to SNAPSHOT_ID\n"
	"  alter TABLE add-column 'NAME TYPE' | drop-column NAME | rename-column NAME NEW\n"
	"              | alter-column NAME TYPE|optional | set-property K=V | unset-property K\n"
	"              | partition-by SPEC | sort-by SPEC\n"
	"\n"
	"files:\n"
	"  parquet schema FILE              the schema, with types and field ids\n"
	"  parquet meta FILE [--json]       row groups, column chunks, statistics\n"
	"  parquet cat FILE [--columns A,B] [--format csv|jsonl] [--limit N]\n"
	"  parquet convert IN OUT [--schema SPEC] [--format csv|jsonl|parquet]\n"
	"                 [--compression C] [--row-group-size BYTES] [--page-size BYTES]\n"
	"                 [--dictionary on|off]\n"
	"  version                          the version\n"
	"\n"
	"environment: FIRN_WAREHOUSE, FIRN_CATALOG (as the options); FIRN_LOCK_TIMEOUT\n"
	"  seconds to wait for a catalog database another process has locked (default 60)\n";

int main(int argc, char **argv)
{
	int i = 1;
	/* global options (the catalog options matter from the table commands on) */
	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0) {
			printf("firn %s\n", firn_version());
			return EXIT_OK;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (strcmp(a, "--warehouse") == 0 || strcmp(a, "--catalog") == 0) {
			if (i + 1 >= argc)
				return cli_usage("option %s needs a value", a);
			setenv(strcmp(a, "--warehouse") == 0 ? "FIRN_WAREHOUSE" : "FIRN_CATALOG", argv[i + 1], 1);
			i += 2;
			continue;
		}
		if (strncmp(a, "--warehouse=", 12) == 0) { setenv("FIRN_WAREHOUSE", a + 12, 1); i++; continue; }
		if (strncmp(a, "--catalog=", 10) == 0) { setenv("FIRN_CATALOG", a + 10, 1); i++; continue; }
		return cli_usage("unknown option %s", a);
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[i];
	if (strcmp(cmd, "parquet") == 0)
		return cmd_parquet(argc - i - 1, argv + i + 1);
	int rc = cmd_table(cmd, argc - i - 1, argv + i + 1);
	if (rc >= 0)
		return rc;
	if (strcmp(cmd, "version") == 0) {
		printf("firn %s\n%s\n", firn_version(), firn_created_by());
		return EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	return cli_usage("unknown command '%s'", cmd);
}
