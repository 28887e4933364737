/* firn's help: one text per command, shared sections (WHERE, SPEC, TIME,
 * SET, input files, table properties, environment, exit codes), printed as
 * plain text (firn CMD --help, firn help CMD) or as Markdown (firn help
 * --markdown, which docs/reference.md is). The usage line of a command is
 * the one its table gives (cmds[] in cmd_table.c, subs[] in cmd_parquet.c),
 * so that help and usage errors can never disagree about the synopsis.
 *
 * Texts use a small line markup, one block per line:
 *   "# Title"        a heading
 *   "- TERM\tTEXT"   an item (an option, an argument, a property)
 *   "> text"         a literal line (examples), printed as is
 *   anything else    a paragraph, wrapped
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define WIDTH 79
#define TERM_COL 24 /* where item texts start */

enum {
	S_WHERE = 1 << 0,
	S_TIME = 1 << 1,
	S_SPEC = 1 << 2,
	S_SET = 1 << 3,
	S_INPUT = 1 << 4,
};

/* ---- shared sections ---------------------------------------------------- */

struct section {
	unsigned bit;     /* S_*, or 0 for the topics only firn help TOPIC shows */
	const char *id;   /* firn help ID */
	const char *title;
	const char *text;
};

static const char where_text[] =
	"EXPR, the argument of --where, is a small SQL predicate. A row matches when the predicate "
	"is true; a comparison on a NULL value is unknown, so the row does not match (SQL "
	"three-valued logic: NOT unknown is unknown). There is no NULL literal: use IS NULL.\n"
	"- COL = V, COL == V\tequal; also != and <> (not equal), <, <=, >, >=. The value may also "
	"come first (5 < id).\n"
	"- COL IN (V, ...)\tone of the values (at most 1024); COL NOT IN (V, ...) none of them\n"
	"- COL IS NULL\talso IS NOT NULL\n"
	"- COL IS NAN\tfor float and double columns; also IS NOT NAN. NaN equals nothing, is in "
	"no IN list and is neither less nor greater than a value.\n"
	"- COL LIKE 'abc%'\tstarts with abc (a pattern whose only wildcard is a final % also "
	"prunes files by their statistics); % matches any characters and _ one character anywhere "
	"in the pattern; there is no escape character. COL NOT LIKE 'p' is the negation. String "
	"columns only.\n"
	"- starts_with(COL, 'p')\tIceberg's startsWith, the same as COL LIKE 'p%'; "
	"not_starts_with(COL, 'p') its negation\n"
	"- COL BETWEEN A AND B\tA <= COL <= B; COL NOT BETWEEN A AND B is COL < A OR COL > B\n"
	"- A AND B, A OR B, NOT A\tcombine predicates; NOT binds tighter than AND, AND tighter "
	"than OR; parentheses group\n"
	"- COL\ta boolean column alone means COL = true\n"
	"- TRUE, FALSE\tevery row, no row\n"
	"Keywords are case-insensitive. A column is a name (letters, digits, _), a dotted path "
	"into struct columns (loc.lat), or a name in backquotes for other characters "
	"(`my col`). Only primitive columns can be compared; two columns cannot be compared with "
	"each other.\n"
	"Values are numbers (42, -1.5, 1e3), true or false, or strings in single quotes ('it''s' "
	"holds a quote). A value is converted to the column's type: quoted text is read as the "
	"column's JSON single-value form, so dates, times, timestamps, decimals, uuids and "
	"binary (hex) columns are compared with quoted values, and an integer out of the "
	"column's range is an error. Timestamps take the TIME forms (a date alone is midnight; an "
	"offset converts to UTC).\n"
	"> --where \"id IN (1, 2, 3) AND name LIKE 'ab%'\"\n"
	"> --where \"ts >= '2026-01-01' AND (price < 9.5 OR price IS NULL)\"\n"
	"> --where \"d BETWEEN '2026-01-01' AND '2026-01-31' AND starts_with(c, 'EU')\"\n"
	"> --where \"NOT (loc.lat > 40.0) AND `odd name` = 'x'\"";

static const char time_text[] =
	"TIME, the argument of --as-of and --older-than, is either epoch milliseconds (digits, "
	"optionally negative: 1763892000000) or an ISO-8601 timestamp: a date YYYY-MM-DD, "
	"optionally followed by T (or a space) and hh:mm, hh:mm:ss or hh:mm:ss.fraction (up to 9 "
	"digits), optionally followed by Z or an offset +hh:mm, -hh:mm or +hhmm. Without an "
	"offset the time is UTC; a date alone is midnight UTC. now is the moment the command "
	"starts (expire --older-than now keeps only what --retain-last and the refs keep).\n"
	"> 2026-11-23  2026-11-23T10:00:00  2026-11-23 10:00:00.5+01:00  1763892000000\n"
	"> now";

static const char spec_text[] =
	"# Schemas (--schema)\n"
	"A comma-separated list of NAME TYPE [not null] (a colon after the name is allowed). Names "
	"are letters, digits and _ $ - . characters, or any text in backquotes (`` doubles a "
	"backquote). Fields get ids in Iceberg's order: top-level fields first, then the fields "
	"inside each.\n"
	"- primitive types\tboolean, int, long, float, double, decimal(P,S) (P 1..38), date, "
	"time, timestamp, timestamptz, timestamp_ns, timestamptz_ns, string, uuid, binary, "
	"fixed[L]\n"
	"- struct<N: T, ...>\ta struct; its fields need the colon\n"
	"- list<T>\ta list; list<T not null> has required elements\n"
	"- map<K, V>\ta map; keys are required, V not null makes the values required\n"
	"> id long not null, name string, ts timestamptz, price decimal(10,2),\n"
	"> tags list<string>, attrs map<string,string>,\n"
	"> loc struct<lat: double, lon: double>\n"
	"# Partition specs (--partition-by, alter partition-by)\n"
	"A comma-separated list of partition fields: COL (identity) or TRANSFORM(COL): year, "
	"month, day, hour, void, bucket(N, COL), truncate(W, COL) (truncate(COL, W) is read too). "
	"COL may be a dotted path into structs. An empty spec ('') is unpartitioned.\n"
	"> day(ts), bucket(16, id), truncate(4, name), city\n"
	"# Sort orders (--sort-by, alter sort-by)\n"
	"A comma-separated list of COL or TRANSFORM(COL), each optionally followed by asc or desc "
	"(default asc) and nulls first or nulls last (default: first for asc, last for desc). An "
	"empty order ('') is unsorted.\n"
	"> id asc nulls first, ts desc, bucket(8, name)";

static const char set_text[] =
	"The --set list of update: COL = EXPR, ... assigns top-level columns. EXPR is a value "
	"(as in WHERE: numbers, 'strings', true, false, converted to the column's type), NULL, a "
	"column (the row's old value), or + - * / and unary - on them, with parentheses. NULL "
	"cannot go into a required column. Every assignment reads the row's old values.\n"
	"> --set \"price = price * 1.1, note = 'repriced', old = NULL\"";

static const char input_text[] =
	"Input files of append, merge and overwrite are CSV, JSON Lines or Parquet: by --format, "
	"else by extension (.parquet; .jsonl, .json, .ndjson; anything else is CSV). FILE - is "
	"standard input (CSV unless --format says otherwise).\n"
	"Columns match the table's top-level columns by name; a table column the input lacks is "
	"NULL (an error for a required column; merge keeps the matched rows' values there); an "
	"input column the table lacks is an error. Values are converted to the column's type (CSV "
	"and JSON Lines are read in the table's own types; Parquet ints widen with range checks, "
	"strings become dates and timestamps). CSV files have a header line naming the columns; "
	"an unquoted empty field is NULL, a quoted one (\"\") an empty string; nested columns "
	"hold JSON text. A value the column cannot hold fails naming the file, the column and "
	"the row. "
	"Nanosecond input into a microsecond timestamp column fails when it has sub-microsecond "
	"digits, unless --truncate-timestamps drops them.";

static const char props_text[] =
	"Table properties are set with create --property K=V and alter set-property K=V, and "
	"removed with alter unset-property K. Values of the properties below are checked when "
	"they are set; a bad value another engine wrote is ignored in favor of the default. Other "
	"keys are kept as given.\n"
	"- firn.write.cow-threshold\ta ratio from 0 to 1 (default 0.5). Under --mode auto, "
	"delete, update and merge rewrite a data file (copy-on-write) when the share of its rows "
	"the change removes is at least this, and give it a delete file (merge-on-read) "
	"otherwise.\n"
	"- write.delete.mode\tcopy-on-write or merge-on-read: the mode of delete when --mode is "
	"not given (unset: auto). An explicit --mode auto applies the threshold rule anyway.\n"
	"- write.update.mode\tcopy-on-write or merge-on-read: the mode of update when --mode is "
	"not given (unset: auto)\n"
	"- write.merge.mode\tcopy-on-write or merge-on-read: the mode of merge when --mode is "
	"not given (unset: auto)\n"
	"- firn.compact.delete-ratio\ta ratio from 0 to 1 (meant default 0.1), checked when set: "
	"the share of deleted rows from which maintain is to compact a file. Not read yet: "
	"compact and maintain rewrite every data file that has deletes.\n"
	"- firn.compact.max-delete-files\ta whole number (0 or more), checked when set: the "
	"number of delete files from which maintain is to compact a file. Not read yet, as "
	"above.\n"
	"- write.target-file-size-bytes\tthe size at which writers start a new data file "
	"(default 536870912, 512 MiB) and compact's target (--target-file-size overrides it); "
	"files under 3/4 of it are small to compact.\n"
	"- firn.write.memory-budget-bytes\tthe memory the open data files of one write (append, "
	"overwrite, merge, compact, a copy-on-write rewrite) may hold together in their buffered "
	"row groups (default 536870912, 512 MiB). A write to many partitions at once keeps within "
	"it: when the buffers pass it, the file holding the most writes its rows out as a row "
	"group early and frees them. Smaller values mean less memory and smaller row groups.\n"
	"- write.parquet.compression-codec\tthe codec of the Parquet files firn writes: zstd "
	"(the default; tables firn creates have it set), snappy, gzip, lz4 (written as lz4_raw), "
	"uncompressed or none. Case does not matter. brotli and lzo are valid Iceberg values "
	"that firn cannot write: writing fails.\n"
	"- write.parquet.compression-level\tthe codec's level, -1 to 22 (default 0, the codec's "
	"own default)\n"
	"- write.parquet.row-group-size-bytes\tthe row group size (default 134217728, 128 MiB)\n"
	"- write.parquet.page-size-bytes\tthe data page size (default 1048576, 1 MiB)\n"
	"- write.parquet.page-row-limit\tthe most rows in a page (default 20000)\n"
	"- write.parquet.dict-size-bytes\tthe largest dictionary before a column falls back to "
	"plain encoding (default 2097152, 2 MiB)\n"
	"- write.metadata.previous-versions-max\thow many earlier metadata files the metadata "
	"log keeps (default 100, at least 1); the ones dropped from it are left for "
	"remove-orphans.\n"
	"- history.expire.min-snapshots-to-keep\texpire and maintain keep at least this many of "
	"the newest snapshots of each branch (default 1; --retain-last overrides it). A ref's own "
	"min-snapshots-to-keep wins over the table's.\n"
	"- history.expire.max-snapshot-age-ms\texpire and maintain keep the snapshots younger "
	"than this (default 432000000, 5 days; --older-than overrides it). A ref's own "
	"max-snapshot-age-ms wins.\n"
	"- history.expire.max-ref-age-ms\ta branch or tag (never main) whose snapshot is older "
	"than this retains nothing and goes when expire runs (default: refs never expire). A "
	"ref's own max-ref-age-ms wins.\n"
	"- commit.retry.num-retries\thow many times a change that lost the race to another "
	"writer is applied again to the new table version and retried (default 4)\n"
	"- commit.retry.min-wait-ms\tthe first wait before a retry (default 100); it doubles with "
	"each attempt, with jitter\n"
	"- commit.retry.max-wait-ms\tthe longest wait between attempts (default 60000)";

static const char env_text[] =
	"- FIRN_WAREHOUSE\tthe warehouse directory, as --warehouse (default ./warehouse). New "
	"tables live at WAREHOUSE/NS.db/TABLE.\n"
	"- FIRN_CATALOG\tthe catalog, as --catalog: sqlite:///abs/path.db or "
	"sqlite://rel/path.db (an SQLite file), postgresql://user@host:port/db (or postgres://). "
	"Default: the SQLite file WAREHOUSE/catalog.db. The catalog tables are those of "
	"PyIceberg's SqlCatalog and Java's JdbcCatalog.\n"
	"- FIRN_CATALOG_NAME\tthe catalog name, as --catalog-name (default default): the "
	"catalog_name column of the SQL catalog tables, which may hold several catalogs, and "
	"the name of a catalog in PyIceberg's configuration\n"
	"- FIRN_TOKEN, FIRN_CREDENTIAL\ta REST catalog's bearer token, or the ID:SECRET of an "
	"OAuth2 client, as --token and --credential\n"
	"- PYICEBERG_HOME, HOME\twhere PyIceberg's .pyiceberg.yaml is looked for: "
	"$PYICEBERG_HOME, then the home directory, then the current directory (the first one "
	"found is read)\n"
	"- PYICEBERG_CATALOG__NAME__KEY\ta setting of PyIceberg catalog NAME, over the file's "
	"(PYICEBERG_CATALOG__PROD__URI; a further __ is a dot, _ a dash: "
	"PYICEBERG_CATALOG__PROD__S3__ENDPOINT is s3.endpoint)\n"
	"- FIRN_THREADS\thow many threads firn decodes and encodes on, as --threads (default: "
	"the online CPUs)\n"
	"- FIRN_PROGRESS\t1: show progress lines on standard error even when it is not a "
	"terminal; 0: never (as --quiet). Default: while standard error is a terminal, for "
	"append, overwrite, merge, scan to a file or a pipe, compact, maintain and expire, and "
	"the copy-on-write rewrites of delete and update\n"
	"- FIRN_LOCK_TIMEOUT\tseconds (0 to 86400) to wait for an SQLite catalog another process "
	"has locked (default 60)\n"
	"- AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL\tthe S3 endpoint for s3:// locations (s3a:// and "
	"s3n:// are the same), as --conf s3.endpoint=URL; with one, buckets are addressed by path "
	"unless s3.path-style-access=false\n"
	"- AWS_REGION, AWS_DEFAULT_REGION\tthe region, as --conf s3.region (default us-east-1)\n"
	"- AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\tS3 credentials, as --conf "
	"s3.access-key-id, s3.secret-access-key, s3.session-token; else the shared files "
	"AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and AWS_CONFIG_FILE (~/.aws/config), "
	"profile AWS_PROFILE or default\n"
	"A warehouse on s3:// needs --catalog (the SQLite file cannot be in a bucket). "
	"Named catalogs: when neither --catalog nor --warehouse (nor FIRN_CATALOG, "
	"FIRN_WAREHOUSE) is given and PyIceberg's configuration has a catalog of the catalog "
	"name (catalog: NAME: in .pyiceberg.yaml, or the variables), firn opens the catalog "
	"PyIceberg's load_catalog(NAME) does: its uri (sqlite:///REL or sqlite:////ABS, "
	"postgresql[+DRIVER]://..., http(s):// for REST; type sql or rest), warehouse, token, "
	"credential, and s3.* and client.region keys as --conf (which wins). Its "
	"default-catalog key is not read. A malformed file is an error naming its line.\n"
	"Command-line options win over the environment. Commands that only read open the "
	"catalog read-only and never create a warehouse; only create, register and namespace "
	"create make a missing one.";

static const char exit_text[] =
	"- 0\tsuccess\n"
	"- 1\tthe request failed (bad input, not found, a conflict after the retries, an I/O "
	"error), with one line firn: error: MESSAGE on standard error\n"
	"- 2\ta usage error (an unknown command or option, a missing or malformed argument), "
	"with firn: error: MESSAGE and the command's usage line on standard error; nothing was "
	"done\n"
	"Management commands print a summary on standard output; with --json, one JSON object "
	"instead (an array for the lists), whose fields are stable: each command's is described "
	"by a JSON Schema (draft 2020-12) in docs/json/COMMAND.schema.json (parquet meta: "
	"docs/json/parquet-meta.schema.json). Fields may be added; none is renamed or removed.";

static const struct section sections[] = {
	{ S_WHERE, "where", "WHERE expressions (EXPR)", where_text },
	{ S_SET, "set", "SET lists (update --set)", set_text },
	{ S_TIME, "time", "TIME values", time_text },
	{ S_SPEC, "spec", "SPEC: schemas, partition specs, sort orders", spec_text },
	{ S_INPUT, "input", "Input files", input_text },
	{ 0, "properties", "Table properties", props_text },
	{ 0, "environment", "Environment", env_text },
	{ 0, "exit-codes", "Exit codes", exit_text },
};

/* ---- the commands --------------------------------------------------------- */

struct help_cmd {
	const char *name;    /* the words before the arguments: "scan", "parquet convert" */
	const char *summary; /* one line, for the command list */
	const char *text;    /* description, arguments, options (markup) */
	unsigned sections;   /* S_* shown in full after the text */
	const char *props;   /* table properties read, "a b c" (described from props_text) */
};

#define SEL_ITEMS                                                                              \
	"- --snapshot ID\tread that snapshot (see snapshots)\n"                                  \
	"- --as-of TIME\tread the snapshot that was current at TIME (from the snapshot log)\n" \
	"- --ref NAME\tread the snapshot a branch or tag points to. Give at most one of "    \
	"--snapshot, --as-of and --ref; default: the current snapshot.\n"
#define MODE_ITEM(verb, prop)                                                                  \
	"- --mode MODE\thow " verb " records its changes per data file: auto (the impact-ratio "  \
	"rule: copy-on-write when the share of the file's rows removed is at least "              \
	"firn.write.cow-threshold, else merge-on-read), merge-on-read (position delete files "    \
	"in format 2, deletion vectors in format 3; cheap to write, reads pay until compact) or " \
	"copy-on-write (the file is rewritten). Default: the table property " prop ", else "     \
	"auto.\n"
#define FMT_ITEM                                                                                  \
	"- --format F\tthe format of every FILE: csv, jsonl or parquet (default: by extension)\n" \
	"- --truncate-timestamps\tdrop the sub-microsecond digits of nanosecond input into "      \
	"microsecond timestamp columns instead of failing\n"
#define JSON_ITEM "- --json\tprint the result as one JSON object\n"
#define QUIET_ITEM                                                                            \
	"- --quiet\tno progress line: long work otherwise shows one on standard error while it " \
	"is a terminal (rows and bytes done, the rate, the share done and the time left when "   \
	"the total is known; FIRN_PROGRESS=1 shows it anyway, 0 never)\n"
#define BRANCH_ITEM                                                                                \
	"- --branch NAME\tcommit to branch NAME instead of main: the change is planned on the "    \
	"branch's head (its files decide copy-on-write or merge-on-read), the new snapshot's "     \
	"parent is that head, and only the branch moves; main and the current snapshot stay. The " \
	"branch must exist (create it with firn branch TABLE NAME); read it with --ref NAME. "     \
	"--json then says \"branch\".\n"
#define TABLE_ARG "- TABLE\tthe table, NAMESPACE.NAME (namespaces may nest: a.b.t)\n"
#define WRITE_PROPS \
	"write.target-file-size-bytes write.parquet.compression-codec " \
	"write.metadata.previous-versions-max commit.retry.num-retries"

static const struct help_cmd cmds[] = {
	{ "namespace", "create, list, drop or describe namespaces",
	  "Namespaces hold tables; they may nest (a.b). One of:\n"
	  "- create NS\tcreate namespace NS, with the --property values\n"
	  "- list [PARENT]\tlist the namespaces (under PARENT), one a line\n"
	  "- drop NS\tdrop the empty namespace NS\n"
	  "- describe NS\tprint the properties of NS\n"
	  "# options\n"
	  "- --property K=V\ta property of the new namespace (create); may be repeated\n"
	  "- --json\tlist: a JSON array of names; describe: a JSON object", 0, NULL },
	{ "create", "create a table",
	  "Creates table TABLE in an existing namespace, with a first schema, partition spec and "
	  "sort order, and no snapshot.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --schema SPEC\tthe schema (this or --like), see SPEC\n"
	  "- --like FILE\tthe schema of a Parquet file, or the one a CSV or JSON Lines file "
	  "reads as (types inferred as append infers them); firn parquet schema --spec shows a "
	  "Parquet file's\n"
	  "- --partition-by SPEC\tthe partition spec (default unpartitioned)\n"
	  "- --sort-by SPEC\tthe sort order (default unsorted)\n"
	  "- --property K=V\ta table property; may be repeated (see firn help properties; "
	  "write.parquet.compression-codec is zstd unless given)\n"
	  "- --format-version 2|3\tthe Iceberg format version (default 2); format 3 has deletion "
	  "vectors\n"
	  "- --location DIR\twhere the table's files go (default WAREHOUSE/NS.db/NAME)\n"
	  "- --json\tprint {\"table\", \"metadata-location\", \"format-version\"} on one line",
	  S_SPEC, NULL },
	{ "tables", "list tables",
	  "Lists the tables of namespace NS, or of every namespace (nested ones too), as "
	  "NS.NAME, one a line.\n"
	  "# options\n"
	  "- --json\ta JSON array of names", 0, NULL },
	{ "describe", "show a table: schema, spec, sort order, refs, properties",
	  "Prints the table's format version, uuid, location, current metadata file, current "
	  "snapshot and totals (live records, records in data files, data files, size, deleted "
	  "rows and delete files), its "
	  "schema with field ids, partition spec, sort order, refs and properties.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --json\tthe same as one JSON object", 0, NULL },
	{ "snapshots", "list a table's snapshots",
	  "Lists the snapshots: id, parent, sequence number, time, operation, the added records "
	  "and the records in data files of their summaries, and the live records (those less "
	  "the position deletes and deletion vectors; unknown under equality deletes).\n"
	  TABLE_ARG
	  "# options\n"
	  "- --json\ta JSON array of snapshot objects", 0, NULL },
	{ "history", "list when each snapshot became current",
	  "Lists the snapshot log: when each snapshot was made current, its id, parent and "
	  "operation, and whether it is an ancestor of the current snapshot (a rollback leaves "
	  "entries that are not).\n"
	  TABLE_ARG
	  "# options\n"
	  "- --json\ta JSON array of objects", 0, NULL },
	{ "files", "list the live data and delete files of a snapshot",
	  "Lists the data and delete files of a snapshot: content, path, partition, records, "
	  "deleted records and bytes.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --json\ta JSON array of file objects\n"
	  SEL_ITEMS, S_TIME, NULL },
	{ "location", "print a table's current metadata file",
	  "Prints the location of the table's current metadata file: the file engines read a "
	  "table by without a catalog, such as DuckDB's iceberg_scan and Polars' scan_iceberg. "
	  "It changes with every commit. (pyiceberg location prints the table's own location, "
	  "the directory its files go under: --json has both.)\n"
	  TABLE_ARG
	  "# options\n"
	  "- --json\t{\"table\": TABLE, \"metadata-location\": FILE, \"location\": DIR}\n"
	  "> duckdb -c \"SELECT count(*) FROM iceberg_scan('$(firn location db.t)')\"", 0, NULL },
	{ "drop", "drop a table",
	  "Removes the table from the catalog; its files stay unless --purge.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --purge\talso delete the files its metadata references (metadata, manifest lists, "
	  "manifests, data, delete and statistics files) that lie under its location, and the "
	  "directories left empty; referenced files outside the location are kept", 0, NULL },
	{ "rename", "rename a table",
	  "Renames table FROM to TO (TO's namespace must exist). The files do not move.\n"
	  "- FROM\tthe table, NAMESPACE.NAME\n"
	  "- TO\tits new name, NAMESPACE.NAME", 0, NULL },
	{ "register", "add an existing table to the catalog by its metadata file",
	  "Registers the Iceberg table whose metadata file is METADATA_FILE (written by firn or "
	  "any other engine) as TABLE. Nothing is copied.\n"
	  TABLE_ARG
	  "- METADATA_FILE\tthe path of a vN.metadata.json or NNNNN-UUID.metadata.json file", 0,
	  NULL },
	{ "append", "add rows from files",
	  "Appends the rows of the files as one snapshot (an append). No rows: nothing is "
	  "committed.\n"
	  TABLE_ARG
	  "- FILE...\tinput files; - is standard input (Parquet too, with --format parquet); a "
	  "directory is its files (sorted, "
	  "without hidden ones and _markers such as _SUCCESS); a pattern ('in/*.csv') its "
	  "matches, sorted\n"
	  "# options\n"
	  FMT_ITEM
	  BRANCH_ITEM
	  JSON_ITEM QUIET_ITEM, S_INPUT, WRITE_PROPS },
	{ "scan", "read rows",
	  "Prints the rows of a snapshot (the current one by default) that match --where, "
	  "reading only the files that may hold them.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --columns A,B\tthe columns to print, in that order (dotted paths name struct fields); "
	  "default all\n"
	  "- --where EXPR\tonly the rows that match (see WHERE)\n"
	  "- --limit N\tat most N rows (0 or more; default all)\n"
	  SEL_ITEMS
	  "- --format F\ttable (aligned columns, the default), csv, jsonl, parquet or arrow (to "
	  "standard output too: firn scan T --format parquet > t.parquet). CSV and JSON Lines use "
	  "Iceberg's JSON single-value forms: NULL is empty in CSV and null in JSON; NaN and "
	  "infinities print as NaN, Infinity, -Infinity. arrow is the Arrow IPC stream format "
	  "(a schema, record batches, the end-of-stream marker; field ids as PARQUET:field_id "
	  "metadata, uuid as arrow.uuid), read by pyarrow.ipc.open_stream and Polars' "
	  "read_ipc_stream; DuckDB reads it only through its arrow community extension.\n"
	  "- --output FILE\twrite to FILE (written aside and renamed into place when complete; it "
	  "may not be one of the files the scan reads) instead of standard output; a pipe or a "
	  "device is written where it is, and - is standard output\n"
	  QUIET_ITEM,
	  S_WHERE | S_TIME, NULL },
	{ "count", "count rows",
	  "Prints the number of rows that match --where, from the files' metadata where it "
	  "decides, reading only the files it cannot.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --where EXPR\tcount only the rows that match (default all)\n"
	  SEL_ITEMS
	  "- --json\tprint {\"table\", \"count\"} on one line", S_WHERE | S_TIME, NULL },
	{ "delete", "delete the rows that match an expression",
	  "Deletes the rows that match --where, as one snapshot. Nothing matching: nothing is "
	  "committed. A change that loses the race to another writer is planned again.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --where EXPR\tthe rows to delete (required; TRUE deletes every row)\n"
	  MODE_ITEM("delete", "write.delete.mode")
	  BRANCH_ITEM
	  JSON_ITEM QUIET_ITEM, S_WHERE,
	  "write.delete.mode firn.write.cow-threshold " WRITE_PROPS },
	{ "update", "change columns of the rows that match an expression",
	  "Sets columns of the rows that match --where, as one overwrite snapshot: per data file "
	  "the old rows are rewritten with the new values (copy-on-write), or get deletes while "
	  "the new rows go to new files (merge-on-read).\n"
	  TABLE_ARG
	  "# options\n"
	  "- --set 'COL = EXPR, ...'\tthe assignments (required), see SET\n"
	  "- --where EXPR\tthe rows to change (required; TRUE changes every row)\n"
	  MODE_ITEM("update", "write.update.mode")
	  BRANCH_ITEM
	  JSON_ITEM QUIET_ITEM, S_SET | S_WHERE,
	  "write.update.mode firn.write.cow-threshold " WRITE_PROPS },
	{ "merge", "upsert rows from files by key",
	  "Upsert: table rows whose key (the --on columns) appears in the input are replaced by "
	  "the input's rows; the other input rows are inserted. One overwrite snapshot. Duplicate "
	  "keys in the input are an error. Columns the input lacks keep the matched rows' values "
	  "(NULL for inserted rows).\n"
	  TABLE_ARG
	  "- FILE...\tinput files; - is standard input (Parquet too, with --format parquet); a "
	  "directory is its files (sorted, "
	  "without hidden ones and _markers such as _SUCCESS); a pattern ('in/*.csv') its "
	  "matches, sorted\n"
	  "# options\n"
	  "- --on KEY[,KEY]\tthe key columns (required)\n"
	  MODE_ITEM("merge", "write.merge.mode")
	  FMT_ITEM
	  BRANCH_ITEM
	  JSON_ITEM QUIET_ITEM, S_INPUT, "write.merge.mode firn.write.cow-threshold " WRITE_PROPS },
	{ "overwrite", "replace rows with the rows of files",
	  "Replaces the rows that match --where (default every row) with the rows of the files, "
	  "as one overwrite snapshot; the files holding replaced rows are rewritten "
	  "(copy-on-write). Every input row must match --where.\n"
	  TABLE_ARG
	  "- FILE...\tinput files; - is standard input (Parquet too, with --format parquet); a "
	  "directory is its files (sorted, "
	  "without hidden ones and _markers such as _SUCCESS); a pattern ('in/*.csv') its "
	  "matches, sorted\n"
	  "# options\n"
	  "- --where EXPR\tthe rows to replace (default all)\n"
	  FMT_ITEM
	  BRANCH_ITEM
	  JSON_ITEM QUIET_ITEM, S_WHERE | S_INPUT, WRITE_PROPS },
	{ "remove-orphans", "delete files no metadata references",
	  "Deletes the files under the table's location that no metadata references (current "
	  "and logged metadata files, statistics files, manifest lists, manifests, and the data "
	  "and delete files of every snapshot), such as those of crashed or lost commits, when "
	  "they are older than the cutoff: files of commits in flight are younger. The locations "
	  "of other tables inside this one and the catalog's own files are never entered; "
	  "symbolic links are never removed. On S3, multipart uploads left incomplete under the "
	  "location (a writer killed mid-file) and begun before the cutoff are aborted too. Prints "
	  "each file deleted.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --older-than TIME\tthe cutoff (default 3 days ago); a cutoff within the last 24 "
	  "hours is refused without --force\n"
	  "- --dry-run\tonly print what would be deleted\n"
	  "- --force\tallow a cutoff within the last 24 hours\n"
	  JSON_ITEM, S_TIME, NULL },
	{ "rewrite-manifests", "regroup the data manifests by partition",
	  "Rewrites the current snapshot's data manifests, sorted by spec and partition values, "
	  "10,000 entries a manifest, as a replace snapshot; delete manifests are kept. Scans "
	  "that filter on partitions then read fewer manifests.\n"
	  TABLE_ARG, 0, "commit.retry.num-retries write.metadata.previous-versions-max" },
	{ "maintain", "compact, expire and remove orphans: the nightly job",
	  "Runs compact (every file, to write.target-file-size-bytes), then expire (by the "
	  "table's history.expire.* properties), then remove-orphans (older than 3 days), and "
	  "prints what each did and why: the data files compaction took (over the delete policy, "
	  "or small files bin-packed) and their bytes, the data and delete files before and "
	  "after, the snapshots expired and the rule that kept each of the others, the orphans "
	  "removed and those inside the safety window.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --dry-run\tplan every step and change nothing: print what each would do\n"
	  JSON_ITEM QUIET_ITEM, 0,
	  "write.target-file-size-bytes history.expire.min-snapshots-to-keep "
	  "history.expire.max-snapshot-age-ms history.expire.max-ref-age-ms "
	  "firn.compact.delete-ratio firn.compact.max-delete-files "
	  "write.parquet.compression-codec commit.retry.num-retries" },
	{ "compact", "rewrite files with deletes and small files",
	  "Rewrites the data files that have deletes (applying and dropping them) and the small "
	  "files (under 3/4 of the target size) of partitions holding two or more, into files of "
	  "the target size, as one replace snapshot. Appends committed meanwhile are kept; any "
	  "other concurrent change makes it plan again.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --where EXPR\tonly the files that may hold matching rows (default all)\n"
	  "- --target-file-size BYTES\tthe target size: digits with an optional k, m or g "
	  "(powers of 1024) and b (default write.target-file-size-bytes, 512 MiB)\n"
	  JSON_ITEM QUIET_ITEM, S_WHERE, WRITE_PROPS },
	{ "expire", "remove old snapshots and the files only they used",
	  "Expires snapshots: every branch and tag keeps its snapshot (a ref older than its "
	  "max-ref-age-ms goes, main never); each branch keeps its ancestors while they are among "
	  "its newest --retain-last or younger than --older-than; snapshots on no branch stay "
	  "while younger than --older-than. The rest go, and the files only they referenced are "
	  "deleted after the commit. Prints each file deleted, then why the others stayed: a "
	  "branch or tag points to them, they are younger than the cutoff "
	  "(history.expire.max-snapshot-age-ms or --older-than), or they are among the last "
	  "(history.expire.min-snapshots-to-keep or --retain-last).\n"
	  TABLE_ARG
	  "# options\n"
	  "- --older-than TIME\tkeep the snapshots from TIME on (default: now minus "
	  "history.expire.max-snapshot-age-ms, 5 days)\n"
	  "- --retain-last N\tkeep at least the newest N snapshots of each branch (1 or more; "
	  "default history.expire.min-snapshots-to-keep, 1)\n"
	  "- --dry-run\tcommit and delete nothing; print what would go\n"
	  JSON_ITEM QUIET_ITEM, S_TIME,
	  "history.expire.min-snapshots-to-keep history.expire.max-snapshot-age-ms "
	  "history.expire.max-ref-age-ms commit.retry.num-retries" },
	{ "tag", "create, move or drop a tag",
	  "Points tag NAME at a snapshot: creates it, or moves an existing one (only with "
	  "--force), or drops it. A tag names one snapshot for good: read it with --ref NAME "
	  "(scan, count, files), roll back to it with rollback --to NAME; expire keeps its "
	  "snapshot. A tag already at the snapshot is left as it is (nothing is committed).\n"
	  TABLE_ARG
	  "- NAME\tthe tag (not main, not the name of a branch)\n"
	  "# options\n"
	  "- --snapshot ID\tthe snapshot (default the current one)\n"
	  "- --force\tmove the tag when it exists and points elsewhere\n"
	  "- --drop\tdrop the tag (remove-snapshot-ref); its snapshot stays until expire\n"
	  "- --json\t{\"ref\", \"type\": \"tag\", \"action\": created|moved|unchanged|dropped, "
	  "\"snapshot-id\" (null when dropped), \"previous-snapshot-id\" (null when created)}\n"
	  "> firn tag db.t v1\n"
	  "> firn tag db.t v1 --snapshot 4983922184912301 --force\n"
	  "> firn tag db.t v1 --drop", 0, NULL },
	{ "branch", "create, move, fast-forward or drop a branch",
	  "Points branch NAME at a snapshot: creates it, or moves it. A branch moves forward (to "
	  "a snapshot that descends from its head) freely; anywhere else only with --force "
	  "(Iceberg's replaceBranch). Writes go to a branch with --branch NAME (append, "
	  "overwrite, merge, delete, update), which moves only that branch; read it with --ref "
	  "NAME. main is the table's own branch: moving it changes the current snapshot, and it "
	  "can never be dropped.\n"
	  "--fast-forward TO moves NAME to the head of TO (a branch or a tag) when NAME's head is "
	  "an ancestor of it, and fails when the two have diverged (Iceberg's "
	  "fastForwardBranch). With it, write-audit-publish is: create an audit branch, write to "
	  "it, check it with --ref, then fast-forward main to it.\n"
	  TABLE_ARG
	  "- NAME\tthe branch (not the name of a tag)\n"
	  "# options\n"
	  "- --snapshot ID\tthe snapshot (default the current one)\n"
	  "- --force\tmove the branch even when ID does not descend from its head\n"
	  "- --drop\tdrop the branch (remove-snapshot-ref); snapshots only it kept go at the "
	  "next expire\n"
	  "- --fast-forward TO\tmove NAME to the head of branch or tag TO (NAME's head must be "
	  "its ancestor)\n"
	  "- --json\t{\"ref\", \"type\": \"branch\", \"action\": "
	  "created|moved|fast-forwarded|unchanged|dropped, \"snapshot-id\" (null when dropped), "
	  "\"previous-snapshot-id\" (null when created), \"to\" (with --fast-forward)}\n"
	  "> firn branch db.t audit\n"
	  "> firn append db.t new.csv --branch audit\n"
	  "> firn count db.t --ref audit --where 'id IS NULL'\n"
	  "> firn branch db.t main --fast-forward audit\n"
	  "> firn branch db.t audit --drop", 0, NULL },
	{ "rollback", "make an earlier snapshot current again",
	  "Makes a snapshot that is an ancestor of the current one the current snapshot again. "
	  "Later snapshots stay until expire. To make main the head of a branch that went on "
	  "from it, use branch TABLE main --fast-forward BRANCH instead.\n"
	  TABLE_ARG
	  "# options\n"
	  "- --to SNAPSHOT_ID|REF\tthe snapshot (required): a snapshot id, or the name of a tag or "
	  "branch for the snapshot it points to (a number is read as a snapshot id first)\n"
	  "- --json\t{\"snapshot-id\", \"previous-snapshot-id\", \"changed\"}", 0, NULL },
	{ "alter", "change schema, partitioning, sort order or properties",
	  "Makes one change, as one commit. Changes the Iceberg spec forbids fail with the "
	  "reason.\n"
	  TABLE_ARG
	  "# changes\n"
	  "- add-column 'NAME TYPE'\tadd an optional column (a dotted NAME adds into a struct; "
	  "TYPE as in SPEC); existing rows read NULL\n"
	  "- drop-column NAME\tdrop a column (not an identifier field, nor the source of a "
	  "partition field)\n"
	  "- rename-column NAME NEW\trename a column (NEW is the last name component)\n"
	  "- alter-column NAME TYPE\twiden a column's type: int to long, float to double, a "
	  "decimal's precision up\n"
	  "- alter-column NAME optional\tmake a required column optional\n"
	  "- set-property K=V\tset table property K (also set-property K V); see firn help "
	  "properties\n"
	  "- unset-property K\tremove table property K\n"
	  "- partition-by SPEC\ta new partition spec for new data ('' unpartitioned); existing "
	  "files keep theirs\n"
	  "- sort-by SPEC\ta new sort order ('' unsorted)\n"
	  "# options\n"
	  "- --json\tprint {\"table\", \"change\", \"metadata-location\"} on one line",
	  S_SPEC, NULL },
	{ "import", "adopt a Delta Lake or DuckLake table as an Iceberg table",
	  "Creates an Iceberg table over the Parquet files of a table kept in another format, "
	  "metadata only: no data file is copied, rewritten or moved, and each version of the "
	  "source becomes a snapshot. One of:\n"
	  "- delta PATH TABLE\ta Delta Lake table (its _delta_log)\n"
	  "- ducklake URI NAME TABLE\ta table of a DuckLake catalog\n"
	  "firn import FORMAT --help describes each. The imported table is an ordinary firn "
	  "table from then on; files outside its location stay the source's (compaction writes "
	  "new files into the table's own location, and expire, remove-orphans and drop --purge "
	  "never delete a file outside it).", 0, NULL },
	{ "import delta", "adopt a Delta Lake table as an Iceberg table",
	  "Reads the Delta log (the last checkpoint, the JSON commits) and creates TABLE at its "
	  "default location over the same Parquet files, one snapshot per Delta version that "
	  "changes files (append, delete or overwrite), each tagged delta-version-N and "
	  "timestamped as Delta committed it. A version that changes no file (a property set) "
	  "makes no snapshot; its tag points at the snapshot before it. The log is replayed from "
	  "version 0 when all its commits are there, otherwise from the checkpoint the "
	  "remaining commits continue (one snapshot for it). Columns get field ids by name and "
	  "the table the property schema.name-mapping.default (Delta's files carry no ids); "
	  "the partition columns become identity partitions. Types: long, int (also short and "
	  "byte), float, double, boolean, string, binary, date, timestamp (as timestamptz), "
	  "timestamp_ntz (as timestamp), decimal, struct, array (list), map.\n"
	  "What Iceberg cannot carry faithfully is refused, naming the feature, and nothing is "
	  "created: deletion vectors in use, column mapping (name or id), generated columns, "
	  "type widening, unknown reader features, reader versions above 3.\n"
	  "- PATH\tthe Delta table's directory (its _delta_log inside)\n"
	  TABLE_ARG
	  "# options\n"
	  "- --incremental\tbring TABLE, imported from PATH earlier, up to the Delta table's "
	  "latest version: only the versions after its firn.import.version\n"
	  "- --json\tprint {\"table\", \"format\", \"source\", \"incremental\", \"versions\", "
	  "\"snapshots\", \"files\", \"last-version\"} on one line\n"
	  "> firn import delta /data/events db.events\n"
	  "> firn import delta /data/events db.events --incremental", 0, NULL },
	{ "import ducklake", "adopt a DuckLake table as an Iceberg table",
	  "Reads one table of a DuckLake catalog (SQLite or PostgreSQL) and creates TABLE over "
	  "the same Parquet files, one snapshot per DuckLake snapshot that changes the table; "
	  "DuckLake's delete files become Iceberg position deletes.\n"
	  "- CATALOG_URI\tthe DuckLake catalog: an SQLite file, or postgresql://...\n"
	  "- NAME\tthe table in it, SCHEMA.TABLE (or TABLE in schema main)\n"
	  TABLE_ARG
	  "# options\n"
	  "- --incremental\tbring TABLE up to the catalog's latest snapshot\n"
	  "- --json\tas for import delta", 0, NULL },
	{ "serve", "serve the catalog as an Iceberg REST catalog",
	  "Answers the Iceberg REST catalog protocol (the spec's rest-catalog-open-api 1.11) over "
	  "the warehouse's catalog, so that Spark, PyIceberg, DuckDB and Java clients create, "
	  "commit to and read firn's tables over HTTP: config, OAuth2 tokens, namespaces, tables "
	  "(create, staged create, load with ETags, commit, drop, rename, register, metrics) and "
	  "multi-table transactions. Clients may name table locations and metadata files under "
	  "the warehouse only (and --allow-location roots). One line per request goes to standard error; SIGTERM or SIGINT "
	  "lets the requests in flight finish, then firn serve exits 0.\n"
	  "# options\n"
	  "- --listen ADDR:PORT\tthe address to listen on (default 127.0.0.1:8181; [::1]:PORT "
	  "for IPv6; port 0 picks a free port). Once listening, firn serve prints firn serve: "
	  "listening on http://ADDR:PORT.\n"
	  "- --warehouse DIR\tthe warehouse, as the global option\n"
	  "- --catalog URI\tthe catalog, as the global option\n"
	  "- --catalog-name NAME\tthe catalog name, as the global option: the server answers "
	  "for that catalog's namespaces and tables only\n"
	  "- --prefix P\tannounce /v1/P/ as the path prefix in config (requests without it "
	  "are answered too)\n"
	  "- --token T\tevery request must carry Authorization: Bearer T (401 otherwise)\n"
	  "- --credential ID:SECRET\tPOST /v1/oauth/tokens with grant_type=client_credentials "
	  "and this client id and secret (form fields or HTTP Basic) issues bearer tokens; every "
	  "other request must carry one (or the --token)\n"
	  "- --token-ttl SECONDS\thow long an issued token is valid (default 3600)\n"
	  "- --threads N\tthe request threads (default 4)\n"
	  "- --vend-credentials\tfor tables on s3://, load-table config also carries the "
	  "server's S3 keys (s3.access-key-id, s3.secret-access-key, s3.session-token); without "
	  "it, only s3.endpoint, s3.region and s3.path-style-access\n"
	  "- --allow-location PREFIX\ta location root (a directory, file:/DIR or s3://BUCKET/"
	  "PREFIX) where clients may also put tables, besides the warehouse; repeatable. Tables "
	  "still may not share or nest locations; a dropped table's leftover directory (only "
	  "its metadata/ and data/) may be reused.\n"
	  "Without --token or --credential, nothing is checked: keep the default loopback "
	  "address then.\n"
	  "> firn --warehouse wh serve --listen 127.0.0.1:8181 --credential app:s3cret", 0, NULL },
	{ "parquet", "inspect and convert Parquet files",
	  "Commands on Parquet files, outside any table:\n"
	  "- schema FILE\tthe schema, with types and field ids\n"
	  "- meta FILE\trow groups, column chunks, statistics\n"
	  "- cat FILE\tthe rows as CSV, JSON Lines or a table\n"
	  "- convert IN OUT\tCSV, JSON Lines or Parquet into Parquet\n"
	  "firn parquet SUBCOMMAND --help describes each.", 0, NULL },
	{ "parquet schema", "print a Parquet file's schema",
	  "Prints the schema of the Parquet file in SPEC form, with Iceberg field ids where the "
	  "file has them.\n"
	  "- FILE\tthe Parquet file", 0, NULL },
	{ "parquet meta", "print a Parquet file's metadata",
	  "Prints the file's metadata: writer, format version, rows, key/value metadata, and per "
	  "row group its columns' types, codecs, encodings, sizes and statistics.\n"
	  "- FILE\tthe Parquet file\n"
	  "# options\n"
	  "- --json\tthe metadata as one JSON object (statistics bounds keep firn's value text)",
	  0, NULL },
	{ "parquet cat", "print a Parquet file's rows",
	  "Prints the rows of the Parquet file.\n"
	  "- FILE\tthe Parquet file\n"
	  "# options\n"
	  "- --columns A,B\tthe columns to print (default all)\n"
	  "- --format F\tcsv (the default), jsonl (or json) or table\n"
	  "- --limit N\tat most N rows (0 or more; default all)", 0, NULL },
	{ "parquet convert", "convert CSV, JSON Lines or Parquet into Parquet",
	  "Writes the rows of IN as the Parquet file OUT. OUT is written aside and renamed into "
	  "place when complete, so a failure leaves an existing OUT as it was; OUT may not be IN "
	  "(even through a link).\n"
	  "- IN\tthe input file\n"
	  "- OUT\tthe Parquet file to write\n"
	  "# options\n"
	  "- --schema SPEC\tthe schema to read CSV or JSON Lines input with (default: inferred "
	  "from the data); not for Parquet input\n"
	  "- --format F\tIN's format: csv, jsonl (or json) or parquet (default by extension: "
	  ".csv; .jsonl, .json, .ndjson; .parquet, .pq)\n"
	  "- --compression C\tthe codec: zstd (the default), snappy, gzip, lz4_raw, uncompressed "
	  "(or none)\n"
	  "- --row-group-size BYTES\tthe row group size (default 128m); digits with an optional "
	  "k, m or g\n"
	  "- --page-size BYTES\tthe data page size (default 1m)\n"
	  "- --dictionary on|off\tdictionary encoding (default on)", S_SPEC, NULL },
	{ "version", "print the version",
	  "Prints firn's version, and the created-by text it writes into Parquet files.", 0,
	  NULL },
};

/* ---- rendering ------------------------------------------------------------ */

static bool markdown;
static FILE *out; /* where the texts go: stdout, or stderr for a bare firn */

/* Words of s (up to n bytes) from column col, wrapped at WIDTH with
 * continuation lines indented by indent. Returns the column reached. */
static int wrap(const char *s, size_t n, int col, int indent)
{
	const char *end = s + n;
	while (s < end) {
		while (s < end && *s == ' ')
			s++;
		const char *w = s;
		while (s < end && *s != ' ')
			s++;
		int len = (int)(s - w);
		if (len == 0)
			break;
		if (col > indent && col + 1 + len > WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, w);
		col += len;
	}
	return col;
}

/* Text for a Markdown paragraph: what would be markup is escaped. */
static void md_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr("\\`*_<>[]|", s[i]))
			fputc('\\', out);
		fputc(s[i], out);
	}
}

/* A term as a Markdown code span (a span holding backquotes gets two). */
static void md_code(const char *s, size_t n)
{
	bool bq = memchr(s, '`', n) != NULL;
	fprintf(out, bq ? "`` %.*s ``" : "`%.*s`", (int)n, s);
}

enum block { B_NONE, B_HEAD, B_ITEM, B_CODE, B_PARA };

/* Renders markup text; level is the Markdown heading level of "# ". */
static void render(const char *text, int level)
{
	enum block prev = B_NONE;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		bool code = strncmp(line, "> ", 2) == 0 || (n == 1 && line[0] == '>');
		enum block kind = strncmp(line, "# ", 2) == 0 ? B_HEAD
				  : strncmp(line, "- ", 2) == 0 ? B_ITEM : code ? B_CODE : B_PARA;
		const char *body = kind == B_PARA ? line : line + (n >= 2 ? 2 : n);
		size_t bn = n - (size_t)(body - line);
		if (markdown) {
			if (prev == B_CODE && kind != B_CODE)
				fprintf(out, "```\n");
			if (prev != B_NONE && (kind != prev || kind == B_PARA || kind == B_HEAD))
				fputc('\n', out);
			if (kind == B_CODE && prev != B_CODE)
				fprintf(out, "```\n");
		} else if (prev != B_NONE && (kind != prev || kind == B_PARA) && prev != B_HEAD) {
			fputc('\n', out);
		}
		const char *tab = kind == B_ITEM ? memchr(body, '\t', bn) : NULL;
		size_t tn = tab ? (size_t)(tab - body) : bn;
		switch (kind) {
		case B_HEAD:
			if (markdown)
				fprintf(out, "%.*s %.*s\n", level, "######", (int)bn, body);
			else
				fprintf(out, "%.*s:\n", (int)bn, body);
			break;
		case B_ITEM:
			if (markdown) {
				fprintf(out, "- ");
				md_code(body, tn);
				if (tab) {
					fprintf(out, ": ");
					md_text(tab + 1, bn - tn - 1);
				}
				fputc('\n', out);
			} else {
				fprintf(out, "  %.*s", (int)tn, body);
				int col = 2 + (int)tn;
				if (tab) {
					if (col + 2 > TERM_COL) {
						fprintf(out, "\n%*s", TERM_COL, "");
					} else {
						fprintf(out, "%*s", TERM_COL - col, "");
					}
					wrap(tab + 1, bn - tn - 1, TERM_COL, TERM_COL);
				}
				fputc('\n', out);
			}
			break;
		case B_CODE:
			fprintf(out, markdown ? "%.*s\n" : "    %.*s\n", (int)bn, body);
			break;
		default:
			if (markdown)
				md_text(body, bn);
			else
				wrap(body, bn, 0, 0);
			fputc('\n', out);
			break;
		}
		prev = kind;
		line = nl ? nl + 1 : line + n;
	}
	if (markdown && prev == B_CODE)
		fprintf(out, "```\n");
}

/* The GitHub anchor of a heading: lower case, spaces to '-', the rest of
 * the punctuation dropped. */
static void anchor(const char *title)
{
	for (const char *p = title; *p; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			fputc(c - 'A' + 'a', out);
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
			fputc(c, out);
		else if (c == ' ')
			fputc('-', out);
	}
}

/* Property key's item line in props_text, or NULL. */
static const char *prop_item(const char *key, size_t n, size_t *len)
{
	for (const char *p = props_text; (p = strstr(p, "\n- ")) != NULL; p++) {
		const char *k = p + 3;
		if (strncmp(k, key, n) == 0 && k[n] == '\t') {
			const char *e = strchr(k, '\n');
			*len = e ? (size_t)(e - (p + 1)) : strlen(p + 1);
			return p + 1;
		}
	}
	return NULL;
}

static void print_props(const char *props)
{
	if (markdown)
		fprintf(out, "\nTable properties read: ");
	else
		fprintf(out, "\ntable properties read (see firn help properties):\n");
	bool first = true;
	for (const char *p = props; *p;) {
		size_t n = strcspn(p, " ");
		size_t len;
		const char *item = prop_item(p, n, &len);
		if (markdown) {
			fprintf(out, "%s[`%.*s`](#table-properties)", first ? "" : ", ", (int)n, p);
		} else if (item) {
			char line[1024];
			snprintf(line, sizeof(line), "%.*s", (int)len, item);
			render(line, 4);
		}
		first = false;
		p += n;
		p += *p == ' ';
	}
	if (markdown)
		fprintf(out, ".\n");
}

static const struct help_cmd *find_cmd(const char *name, size_t n)
{
	for (int i = 0; i < N(cmds); i++)
		if (strlen(cmds[i].name) == n && strncmp(cmds[i].name, name, n) == 0)
			return &cmds[i];
	return NULL;
}

/* The command words of a usage line: those before the first argument
 * ("parquet convert IN OUT" -> "parquet convert"; "namespace create|list"
 * -> "namespace"). */
static size_t name_len(const char *usage)
{
	size_t n = 0, end = 0;
	for (;;) {
		size_t w = strspn(usage + n, "abcdefghijklmnopqrstuvwxyz-");
		if (w == 0 || (usage[n + w] != ' ' && usage[n + w] != '\0'))
			return end;
		end = n + w;
		if (usage[end] == '\0')
			return end;
		n = end + 1;
	}
}

/* "usage: firn USAGE", wrapped at the spaces outside brackets, the
 * continuation lines under the first argument. */
static void print_usage(const char *usage)
{
	int indent = (int)strlen("usage: firn ") + (int)name_len(usage) + 1;
	int col = fprintf(out, "usage: firn %.*s", (int)name_len(usage), usage);
	const char *p = usage + name_len(usage);
	while (*p == ' ')
		p++;
	while (*p) {
		/* the next group: up to a space at bracket depth 0 */
		int depth = 0;
		const char *e = p;
		for (; *e && (*e != ' ' || depth > 0); e++)
			depth += (*e == '[' || *e == '(') - (*e == ']' || *e == ')');
		int len = (int)(e - p);
		if (col > indent && col + 1 + len > WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', out);
			col++;
		}
		col += fprintf(out, "%.*s", len, p);
		for (p = e; *p == ' '; p++)
			;
	}
	fprintf(out, "\n\n");
}

void cli_help(const char *usage)
{
	out = stdout;
	const struct help_cmd *c = find_cmd(usage, name_len(usage));
	if (markdown)
		fprintf(out, "### firn %.*s\n\n```\nfirn %s\n```\n\n", (int)name_len(usage), usage,
			usage);
	else
		print_usage(usage);
	if (!c) {
		fprintf(out, "(no further help for this command yet)\n");
		return;
	}
	render(c->text, 4);
	if (c->props)
		print_props(c->props);
	if (markdown && c->sections) {
		fprintf(out, "\nSee ");
		bool first = true;
		for (int i = 0; i < N(sections); i++) {
			if (!(c->sections & sections[i].bit))
				continue;
			fprintf(out, "%s[%s](#", first ? "" : ", ", sections[i].title);
			anchor(sections[i].title);
			fprintf(out, ")");
			first = false;
		}
		fprintf(out, ".\n");
	}
	if (markdown) {
		fprintf(out, "\n");
		return;
	}
	for (int i = 0; i < N(sections); i++) {
		if (!(c->sections & sections[i].bit))
			continue;
		fprintf(out, "\n%s:\n\n", sections[i].title);
		render(sections[i].text, 4);
	}
	static const char tail[] =
		"Exit codes: 0 done, 1 failed, 2 usage error (firn help exit-codes). "
		"Environment: firn help environment.";
	fputc('\n', out);
	wrap(tail, strlen(tail), 0, 0);
	fputc('\n', out);
}

static const char global_text[] =
	"firn manages Apache Iceberg tables in a catalog (an SQLite file by default, or "
	"PostgreSQL) and inspects Parquet files. Global options come before the command:\n"
	"- --warehouse DIR\tthe warehouse directory (default ./warehouse, or FIRN_WAREHOUSE)\n"
	"- --catalog URI\tthe catalog (default the SQLite file WAREHOUSE/catalog.db, or "
	"FIRN_CATALOG)\n"
	"- --catalog-name NAME\tthe catalog's name (default default, or FIRN_CATALOG_NAME): an "
	"SQL catalog may hold several (PyIceberg's SqlCatalog(NAME, ...), JdbcCatalog's "
	"catalog name), and a catalog of that name in PyIceberg's .pyiceberg.yaml is opened "
	"when no --catalog or --warehouse is given (firn help environment)\n"
	"- --threads N\tthreads for decoding and encoding (default the CPUs, or FIRN_THREADS); "
	"results are the same for any N\n"
	"- --conf KEY=VALUE\ta storage property, repeatable: s3.endpoint, s3.region, "
	"s3.access-key-id, s3.secret-access-key, s3.session-token, s3.path-style-access, "
	"s3.retries, s3.multipart.part-size (see firn help environment)\n"
	"- --quiet\tno progress lines on standard error (see firn help environment, "
	"FIRN_PROGRESS)\n"
	"- --version\tprint the version\n"
	"- --help, -h\tthis list";

void cli_help_list(FILE *f)
{
	out = f;
	fprintf(out, "usage: firn [--warehouse DIR] [--catalog URI] [--catalog-name NAME]\n"
		     "            [--conf KEY=VALUE] COMMAND ...\n\n");
	render(global_text, 2);
	fprintf(out, "\ncommands:\n");
	for (int i = 0; i < N(cmds); i++)
		fprintf(out, "  %-20s%s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\ntopics:\n");
	for (int i = 0; i < N(sections); i++)
		fprintf(out, "  %-20s%s\n", sections[i].id, sections[i].title);
	static const char tail[] =
		"firn help COMMAND (or firn COMMAND --help) describes a command and its options, "
		"firn help TOPIC a topic, firn help --all everything, as Markdown.";
	fputc('\n', out);
	wrap(tail, strlen(tail), 0, 0);
	fputc('\n', out);
	out = stdout;
}

/* The whole reference, as Markdown: every command's help as the command
 * itself prints it (run dispatches "CMD ... --help"), then the sections. */
static int print_markdown(int (*run)(int argc, char **argv))
{
	markdown = true;
	fprintf(out, "# firn command reference\n\n"
	       "<!-- Generated by `firn help --markdown`; do not edit. Regenerate with\n"
	       "     build/firn help --markdown > docs/reference.md -->\n\n"
	       "```\nfirn [--warehouse DIR] [--catalog URI] [--catalog-name NAME] COMMAND ...\n```\n\n");
	render(global_text, 3);
	fprintf(out, "\n## Commands\n\n");
	for (int i = 0; i < N(cmds); i++) {
		fprintf(out, "- [firn %s](#firn-", cmds[i].name);
		anchor(cmds[i].name);
		fprintf(out, "): ");
		md_text(cmds[i].summary, strlen(cmds[i].summary));
		fputc('\n', out);
	}
	fprintf(out, "\n");
	int rc = 0;
	for (int i = 0; i < N(cmds) && rc == 0; i++) {
		char words[64];
		snprintf(words, sizeof(words), "%s", cmds[i].name);
		char *argv[4];
		int argc = 0;
		for (char *w = strtok(words, " "); w && argc < 3; w = strtok(NULL, " "))
			argv[argc++] = w;
		argv[argc++] = "--help";
		rc = run(argc, argv);
	}
	fprintf(out, "## Topics\n\n");
	for (int i = 0; i < N(sections); i++) {
		fprintf(out, "### %s\n\n", sections[i].title);
		render(sections[i].text, 4);
		fprintf(out, "\n");
	}
	markdown = false;
	return rc;
}

int cli_help_main(int argc, char **argv, int (*run)(int argc, char **argv))
{
	out = stdout;
	if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		cli_help_list(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[0], "--all") == 0 || strcmp(argv[0], "--markdown") == 0) {
		if (argc > 1)
			return cli_usage("help %s takes nothing more", argv[0]);
		return print_markdown(run);
	}
	for (int i = 0; i < N(sections); i++) {
		if (argc == 1 && strcmp(argv[0], sections[i].id) == 0) {
			fprintf(out, "%s:\n\n", sections[i].title);
			render(sections[i].text, 4);
			return EXIT_OK;
		}
	}
	if (!find_cmd(argv[0], strlen(argv[0]))) {
		cli_failf("no command or topic '%s' (firn help lists them)", argv[0]);
		return EXIT_USAGE;
	}
	/* firn help X Y is firn X Y --help, by construction the same text */
	char *v[8];
	int n = 0;
	for (int i = 0; i < argc && n < 6; i++)
		v[n++] = argv[i];
	v[n++] = "--help";
	v[n] = NULL;
	return run(n, v);
}
