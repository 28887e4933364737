/* firn's table commands (DESIGN §4): namespace, create, tables, describe,
 * drop, rename, register, append, scan, count, snapshots, history, files,
 * tag, branch, rollback, alter. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "firn/catalog.h"
#include "firn/parquet.h"
#include "firn/table.h"
#include "firn/text.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int open_catalog(struct firn_catalog **c, struct firn_error *err)
{
	const char *wh = getenv("FIRN_WAREHOUSE");
	const char *uri = getenv("FIRN_CATALOG");
	return firn_catalog_open(c, uri, wh && *wh ? wh : "warehouse", NULL, err);
}

/* ---- rendering JSON for people ------------------------------------- */

static const char *cell(json_t *v, char *buf, size_t cap)
{
	if (!v || json_is_null(v))
		return "";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	snprintf(buf, cap, "%s", s ? s : "");
	free(s);
	return buf;
}

/* Prints an array of objects as aligned columns: keys[i] (dotted paths
 * into nested objects) under headers[i]. */
static void print_rows(json_t *rows, const char *const *keys, const char *const *headers, int nk)
{
	size_t width[16] = { 0 };
	char buf[1024];
	for (int k = 0; k < nk; k++)
		width[k] = strlen(headers[k]);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (int k = 0; k < nk; k++)
				printf("%-*s%s", k + 1 < nk ? (int)width[k] : 0, headers[k], k + 1 < nk ? "  " : "\n");
		}
		for (size_t i = 0; i < json_array_size(rows); i++) {
			json_t *r = json_array_get(rows, i);
			for (int k = 0; k < nk; k++) {
				json_t *v = r;
				char path[128];
				snprintf(path, sizeof(path), "%s", keys[k]);
				for (char *tok = strtok(path, "/"); tok && v; tok = strtok(NULL, "/"))
					v = json_object_get(v, tok);
				const char *s = cell(v, buf, sizeof(buf));
				if (pass == 0) {
					if (strlen(s) > width[k])
						width[k] = strlen(s);
				} else {
					printf("%-*s%s", k + 1 < nk ? (int)width[k] : 0, s, k + 1 < nk ? "  " : "\n");
				}
			}
		}
	}
}

static void print_type(json_t *type, int indent);

static void print_fields(json_t *fields, int indent)
{
	for (size_t i = 0; i < json_array_size(fields); i++) {
		json_t *f = json_array_get(fields, i);
		json_t *type = json_object_get(f, "type");
		printf("%*s%lld  %s: ", indent, "", (long long)json_integer_value(json_object_get(f, "id")),
		       json_string_value(json_object_get(f, "name")));
		print_type(type, indent);
		printf("%s\n", json_is_true(json_object_get(f, "required")) ? " not null" : "");
		const char *kind = json_is_object(type) ? json_string_value(json_object_get(type, "type")) : NULL;
		if (kind && strcmp(kind, "struct") == 0)
			print_fields(json_object_get(type, "fields"), indent + 4);
	}
}

static void print_type(json_t *type, int indent)
{
	if (json_is_string(type)) {
		printf("%s", json_string_value(type));
		return;
	}
	const char *kind = json_string_value(json_object_get(type, "type"));
	if (!kind) {
		printf("?");
	} else if (strcmp(kind, "struct") == 0) {
		printf("struct");
	} else if (strcmp(kind, "list") == 0) {
		printf("list<");
		print_type(json_object_get(type, "element"), indent);
		printf(">");
	} else if (strcmp(kind, "map") == 0) {
		printf("map<");
		print_type(json_object_get(type, "key"), indent);
		printf(", ");
		print_type(json_object_get(type, "value"), indent);
		printf(">");
	}
}

static int print_json_or(int (*fn)(struct firn_table *, char **, struct firn_error *),
			 struct firn_table *t, bool as_json, void (*human)(json_t *),
			 struct firn_error *err)
{
	char *text = NULL;
	int rc = fn(t, &text, err);
	if (rc != 0)
		return rc;
	if (as_json) {
		printf("%s\n", text);
	} else {
		json_t *j = json_loads(text, 0, NULL);
		human(j);
		json_decref(j);
	}
	firn_free(text);
	return 0;
}

static void human_describe(json_t *d)
{
	char buf[256];
	printf("table             %s\n", json_string_value(json_object_get(d, "table")));
	printf("format version    %lld\n", (long long)json_integer_value(json_object_get(d, "format-version")));
	printf("uuid              %s\n", json_string_value(json_object_get(d, "table-uuid")));
	printf("location          %s\n", json_string_value(json_object_get(d, "location")));
	printf("metadata          %s\n", json_string_value(json_object_get(d, "metadata-location")));
	printf("current snapshot  %s\n", cell(json_object_get(d, "current-snapshot-id"), buf, sizeof(buf)));
	printf("snapshots         %lld\n", (long long)json_integer_value(json_object_get(d, "snapshots")));
	if (json_object_get(d, "total-records")) {
		printf("records           %lld\n", (long long)json_integer_value(json_object_get(d, "total-records")));
		printf("data files        %lld\n", (long long)json_integer_value(json_object_get(d, "total-data-files")));
		printf("size              %lld bytes\n", (long long)json_integer_value(json_object_get(d, "total-files-size")));
		printf("deleted rows      %lld (in %lld delete files; compaction removes them)\n",
		       (long long)json_integer_value(json_object_get(d, "deleted-records")),
		       (long long)json_integer_value(json_object_get(d, "total-delete-files")));
	}
	printf("schema (id %lld):\n", (long long)json_integer_value(json_object_get(d, "schema-id")));
	print_fields(json_object_get(d, "schema"), 2);
	json_t *spec = json_object_get(d, "partition-spec");
	printf("partitioned by    ");
	if (json_array_size(spec) == 0)
		printf("(unpartitioned)");
	for (size_t i = 0; i < json_array_size(spec); i++) {
		json_t *f = json_array_get(spec, i);
		printf("%s%s(%s) as %s", i ? ", " : "", json_string_value(json_object_get(f, "transform")),
		       cell(json_object_get(f, "source"), buf, sizeof(buf)),
		       json_string_value(json_object_get(f, "name")));
	}
	printf("\nsorted by         ");
	json_t *order = json_object_get(d, "sort-order");
	if (json_array_size(order) == 0)
		printf("(unsorted)");
	for (size_t i = 0; i < json_array_size(order); i++) {
		json_t *f = json_array_get(order, i);
		printf("%s%s %s %s", i ? ", " : "", cell(json_object_get(f, "source"), buf, sizeof(buf)),
		       json_string_value(json_object_get(f, "direction")),
		       json_string_value(json_object_get(f, "null-order")));
	}
	printf("\n");
	json_t *refs = json_object_get(d, "refs");
	const char *k;
	json_t *v;
	if (json_object_size(refs) > 0) {
		printf("refs:\n");
		json_object_foreach(refs, k, v)
			printf("  %s  %s %lld\n", k, json_string_value(json_object_get(v, "type")),
			       (long long)json_integer_value(json_object_get(v, "snapshot-id")));
	}
	json_t *props = json_object_get(d, "properties");
	if (json_object_size(props) > 0) {
		printf("properties:\n");
		json_object_foreach(props, k, v)
			printf("  %s = %s\n", k, json_string_value(v));
	}
}

static void human_snapshots(json_t *a)
{
	const char *keys[] = { "snapshot-id", "parent-snapshot-id", "sequence-number", "timestamp",
			       "operation", "summary/added-records", "summary/total-records" };
	const char *heads[] = { "snapshot_id", "parent_id", "seq", "timestamp", "operation",
				"added_records", "total_records" };
	print_rows(a, keys, heads, N(keys));
}

static void human_history(json_t *a)
{
	const char *keys[] = { "made-current-at", "snapshot-id", "parent-id", "operation", "is-current-ancestor" };
	const char *heads[] = { "made_current_at", "snapshot_id", "parent_id", "operation", "is_current_ancestor" };
	print_rows(a, keys, heads, N(keys));
}

static void human_files(json_t *a)
{
	const char *keys[] = { "content", "file-path", "partition", "record-count", "deleted-records", "file-size-in-bytes" };
	const char *heads[] = { "content", "file_path", "partition", "records", "deleted", "bytes" };
	print_rows(a, keys, heads, N(keys));
}

/* ---- snapshot selection options ------------------------------------ */

static int selection(const struct cli_opt *o, int n, struct firn_snapshot_sel *sel)
{
	memset(sel, 0, sizeof(*sel));
	const char *snap = cli_get(o, n, "snapshot");
	sel->as_of = cli_get(o, n, "as-of");
	sel->ref = cli_get(o, n, "ref");
	if ((snap != NULL) + (sel->as_of != NULL) + (sel->ref != NULL) > 1)
		return cli_usage("give one of --snapshot, --as-of, --ref");
	if (snap) {
		char *end;
		errno = 0;
		sel->snapshot_id = strtoll(snap, &end, 10);
		if (*end || end == snap || errno)
			return cli_usage("--snapshot needs a snapshot id, not '%s'", snap);
		sel->has_snapshot_id = true;
	}
	return 0;
}

/* ---- the commands --------------------------------------------------- */

static int split_kv(const char *kv, char **k, char **v)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -1;
	*k = strndup(kv, (size_t)(eq - kv));
	*v = strdup(eq + 1);
	return 0;
}

static int cmd_namespace(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "property", true }, { "json", false } };
	const char *pos[4];
	int np;
	if (argc < 1)
		return cli_usage("namespace needs create|list|drop|describe");
	const char *verb = argv[0];
	/* --property may repeat: collect by hand */
	const char *keys[64], *vals[64];
	char *own[128];
	int nprops = 0, nown = 0;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--property") == 0 && i + 1 < argc && nprops < 64) {
			char *k, *v;
			if (split_kv(argv[++i], &k, &v) != 0) {
				free(rest);
				return cli_usage("--property needs KEY=VALUE");
			}
			keys[nprops] = own[nown++] = k;
			vals[nprops++] = own[nown++] = v;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	int rc = cli_parse(nrest, rest, o, N(o), pos, 4, &np);
	free(rest);
	if (rc != 0)
		goto out;
	bool as_json = cli_get(o, N(o), "json") != NULL;
	if (strcmp(verb, "create") == 0) {
		if (np != 1) { rc = cli_usage("namespace create NS"); goto out; }
		rc = firn_catalog_namespace_create(c, pos[0], keys, vals, (size_t)nprops, err) ? cli_fail(err) : 0;
	} else if (strcmp(verb, "list") == 0) {
		char **names;
		size_t n;
		if (firn_catalog_namespace_list(c, np ? pos[0] : NULL, &names, &n, err) != 0) { rc = cli_fail(err); goto out; }
		if (as_json) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, json_string(names[i]));
			char *s = json_dumps(a, 0);
			printf("%s\n", s);
			free(s);
			json_decref(a);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s\n", names[i]);
		}
		firn_catalog_strings_free(names, n);
	} else if (strcmp(verb, "drop") == 0) {
		if (np != 1) { rc = cli_usage("namespace drop NS"); goto out; }
		rc = firn_catalog_namespace_drop(c, pos[0], err) ? cli_fail(err) : 0;
	} else if (strcmp(verb, "describe") == 0) {
		if (np != 1) { rc = cli_usage("namespace describe NS"); goto out; }
		char **k, **v;
		size_t n;
		if (firn_catalog_namespace_properties(c, pos[0], &k, &v, &n, err) != 0) { rc = cli_fail(err); goto out; }
		if (as_json) {
			json_t *ob = json_object();
			for (size_t i = 0; i < n; i++)
				json_object_set_new(ob, k[i], json_string(v[i]));
			json_t *top = json_object();
			json_object_set_new(top, "namespace", json_string(pos[0]));
			json_object_set_new(top, "properties", ob);
			char *s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("%s\n", s);
			free(s);
			json_decref(top);
		} else {
			printf("namespace  %s\n", pos[0]);
			for (size_t i = 0; i < n; i++)
				printf("  %s = %s\n", k[i], v[i]);
		}
		firn_catalog_strings_free(k, n);
		firn_catalog_strings_free(v, n);
	} else {
		rc = cli_usage("namespace needs create|list|drop|describe, not '%s'", verb);
	}
out:
	for (int i = 0; i < nown; i++)
		free(own[i]);
	return rc;
}

static int cmd_create(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "schema", true }, { "partition-by", true }, { "sort-by", true },
			       { "format-version", true }, { "location", true } };
	const char *keys[64], *vals[64];
	int nprops = 0;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0, rc = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--property") == 0 && i + 1 < argc && nprops < 64) {
			char *k, *v;
			if (split_kv(argv[++i], &k, &v) != 0) {
				free(rest);
				return cli_usage("--property needs KEY=VALUE");
			}
			keys[nprops] = k;
			vals[nprops++] = v;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	const char *pos[2];
	int np;
	if ((rc = cli_parse(nrest, rest, o, N(o), pos, 2, &np)) != 0)
		goto out;
	if (np != 1 || !cli_get(o, N(o), "schema")) {
		rc = cli_usage("create TABLE --schema SPEC [--partition-by SPEC] [--sort-by SPEC] [--property K=V] [--format-version 2|3]");
		goto out;
	}
	struct firn_table_create_options co = { 0 };
	co.schema = cli_get(o, N(o), "schema");
	co.partition_by = cli_get(o, N(o), "partition-by");
	co.sort_by = cli_get(o, N(o), "sort-by");
	co.location = cli_get(o, N(o), "location");
	const char *fv = cli_get(o, N(o), "format-version");
	if (fv && strcmp(fv, "2") != 0 && strcmp(fv, "3") != 0) {
		rc = cli_usage("--format-version is 2 or 3");
		goto out;
	}
	co.format_version = fv ? atoi(fv) : 2;
	co.prop_keys = keys;
	co.prop_values = vals;
	co.n_props = (size_t)nprops;
	struct firn_table *t = NULL;
	if (firn_table_create(c, pos[0], &co, &t, err) != 0) {
		rc = cli_fail(err);
		goto out;
	}
	printf("created %s\n", pos[0]);
	firn_table_free(t);
out:
	for (int i = 0; i < nprops; i++) {
		free((char *)keys[i]);
		free((char *)vals[i]);
	}
	free(rest);
	return rc;
}

static int cmd_tables(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "json", false } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	char **nss = NULL;
	size_t n_ns = 0;
	json_t *all = json_array();
	if (np == 1) {
		nss = calloc(1, sizeof(char *));
		nss[0] = strdup(pos[0]);
		n_ns = 1;
	} else if (firn_catalog_namespace_list(c, NULL, &nss, &n_ns, err) != 0) {
		json_decref(all);
		return cli_fail(err);
	}
	int rc = 0;
	/* walk namespaces depth first */
	for (size_t i = 0; i < n_ns && rc == 0; i++) {
		char **names, **kids;
		size_t n, nk;
		if (firn_catalog_table_list(c, nss[i], &names, &n, err) != 0) {
			rc = cli_fail(err);
			break;
		}
		for (size_t k = 0; k < n; k++) {
			char buf[1024];
			snprintf(buf, sizeof(buf), "%s.%s", nss[i], names[k]);
			json_array_append_new(all, json_string(buf));
		}
		firn_catalog_strings_free(names, n);
		if (np == 0 && firn_catalog_namespace_list(c, nss[i], &kids, &nk, NULL) == 0) {
			nss = realloc(nss, (n_ns + nk) * sizeof(char *));
			for (size_t k = 0; k < nk; k++)
				nss[n_ns++] = strdup(kids[k]);
			firn_catalog_strings_free(kids, nk);
		}
	}
	for (size_t i = 0; i < n_ns; i++)
		free(nss[i]);
	free(nss);
	if (rc == 0) {
		if (cli_get(o, N(o), "json")) {
			char *s = json_dumps(all, 0);
			printf("%s\n", s);
			free(s);
		} else {
			for (size_t i = 0; i < json_array_size(all); i++)
				printf("%s\n", json_string_value(json_array_get(all, i)));
		}
	}
	json_decref(all);
	return rc;
}

static int write_scan(struct ArrowSchema *schema, struct ArrowArrayStream *st, const char *format,
		      const char *output, struct firn_error *err)
{
	int rc = 0;
	if (strcmp(format, "parquet") == 0) {
		if (!output)
			return cli_usage("--format parquet needs --output FILE");
		struct firn_parquet_writer *w = NULL;
		if (firn_parquet_writer_open(&w, output, schema, NULL, err) != 0)
			return cli_fail(err);
		for (;;) {
			struct ArrowArray b;
			if (st->get_next(st, &b) != 0) {
				rc = cli_failf("%s", st->get_last_error(st));
				break;
			}
			if (!b.release)
				break;
			int wr = firn_parquet_writer_write(w, &b, err);
			b.release(&b);
			if (wr != 0) {
				rc = cli_fail(err);
				break;
			}
		}
		if (rc == 0 && firn_parquet_writer_close(w, err) != 0)
			rc = cli_fail(err);
		firn_parquet_writer_free(w);
		return rc;
	}
	enum firn_text_format tf;
	if (strcmp(format, "table") == 0)
		tf = FIRN_TEXT_TABLE;
	else if (strcmp(format, "csv") == 0)
		tf = FIRN_TEXT_CSV;
	else if (strcmp(format, "jsonl") == 0)
		tf = FIRN_TEXT_JSONL;
	else
		return cli_usage("--format is table, csv, jsonl or parquet");
	FILE *f = stdout;
	if (output && !(f = fopen(output, "w")))
		return cli_failf("%s: %s", output, strerror(errno));
	struct firn_text_writer *w = NULL;
	if (firn_text_writer_open(&w, f, tf, schema, err) != 0) {
		rc = cli_fail(err);
		goto done;
	}
	for (;;) {
		struct ArrowArray b;
		if (st->get_next(st, &b) != 0) {
			rc = cli_failf("%s", st->get_last_error(st));
			break;
		}
		if (!b.release)
			break;
		int wr = firn_text_writer_write(w, &b, err);
		b.release(&b);
		if (wr != 0) {
			rc = cli_fail(err);
			break;
		}
	}
	if (rc == 0 && firn_text_writer_close(w, err) != 0)
		rc = cli_fail(err);
done:
	firn_text_writer_free(w);
	if (f != stdout)
		fclose(f);
	return rc;
}

static void print_path(void *arg, const char *path)
{
	printf("%s%s\n", (const char *)arg, path);
}

static int load(struct firn_catalog *c, const char *ident, struct firn_table **t,
		struct firn_error *err)
{
	return firn_table_load(c, ident, t, err) ? cli_fail(err) : 0;
}

int cmd_table(const char *cmd, int argc, char **argv)
{
	struct firn_error err = { 0 };
	struct firn_catalog *c = NULL;
	struct firn_table *t = NULL;
	int rc = 0;
	if (open_catalog(&c, &err) != 0)
		return cli_fail(&err);
	if (strcmp(cmd, "namespace") == 0) {
		rc = cmd_namespace(c, argc, argv, &err);
	} else if (strcmp(cmd, "create") == 0) {
		rc = cmd_create(c, argc, argv, &err);
	} else if (strcmp(cmd, "tables") == 0) {
		rc = cmd_tables(c, argc, argv, &err);
	} else if (strcmp(cmd, "describe") == 0 || strcmp(cmd, "snapshots") == 0 ||
		   strcmp(cmd, "history") == 0) {
		struct cli_opt o[] = { { "json", false } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		if (np != 1) {
			rc = cli_usage("%s TABLE [--json]", cmd);
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		bool js = cli_get(o, N(o), "json") != NULL;
		if (cmd[0] == 'd')
			rc = print_json_or(firn_table_describe_json, t, js, human_describe, &err);
		else if (cmd[0] == 's')
			rc = print_json_or(firn_table_snapshots_json, t, js, human_snapshots, &err);
		else
			rc = print_json_or(firn_table_history_json, t, js, human_history, &err);
		if (rc != 0)
			rc = cli_fail(&err);
	} else if (strcmp(cmd, "files") == 0) {
		struct cli_opt o[] = { { "json", false }, { "snapshot", true }, { "as-of", true }, { "ref", true } };
		const char *pos[1];
		int np;
		struct firn_snapshot_sel sel;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0 || (rc = selection(o, N(o), &sel)) != 0)
			goto out;
		if (np != 1) {
			rc = cli_usage("files TABLE [--json] [--snapshot ID|--as-of TIME|--ref NAME]");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		char *text;
		if (firn_table_files_json(t, &sel, &text, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json")) {
			printf("%s\n", text);
		} else {
			json_t *j = json_loads(text, 0, NULL);
			human_files(j);
			json_decref(j);
		}
		firn_free(text);
	} else if (strcmp(cmd, "drop") == 0) {
		struct cli_opt o[] = { { "purge", false } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		if (np != 1) {
			rc = cli_usage("drop TABLE [--purge]");
			goto out;
		}
		struct firn_purge_info pi;
		bool purge = cli_get(o, N(o), "purge") != NULL;
		if (firn_table_drop(c, pos[0], purge, &pi, &err) != 0)
			rc = cli_fail(&err);
		else if (!purge)
			printf("dropped %s\n", pos[0]);
		else
			printf("dropped %s: purged %lld files; kept %lld referenced files outside its location\n",
			       pos[0], (long long)pi.files_deleted, (long long)pi.kept_outside);
	} else if (strcmp(cmd, "rename") == 0 || strcmp(cmd, "register") == 0) {
		const char *pos[2];
		int np;
		if ((rc = cli_parse(argc, argv, NULL, 0, pos, 2, &np)) != 0)
			goto out;
		if (np != 2) {
			rc = cli_usage(cmd[1] == 'e' && cmd[2] == 'n' ? "rename FROM TO" : "register TABLE METADATA_FILE");
			goto out;
		}
		int r = strcmp(cmd, "rename") == 0 ? firn_table_rename(c, pos[0], pos[1], &err)
						   : firn_table_register(c, pos[0], pos[1], &err);
		if (r != 0)
			rc = cli_fail(&err);
		else
			printf("%s %s\n", strcmp(cmd, "rename") == 0 ? "renamed" : "registered", pos[0]);
	} else if (strcmp(cmd, "append") == 0) {
		struct cli_opt o[] = { { "format", true }, { "json", false }, { "truncate-timestamps", false } };
		const char *pos[256];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 256, &np)) != 0)
			goto out;
		if (np < 2) {
			rc = cli_usage("append TABLE FILE... [--format csv|jsonl|parquet] [--truncate-timestamps]");
			goto out;
		}
		const char *fmt = cli_get(o, N(o), "format");
		enum firn_input_format f = FIRN_INPUT_AUTO;
		if (fmt && strcmp(fmt, "csv") == 0) f = FIRN_INPUT_CSV;
		else if (fmt && strcmp(fmt, "jsonl") == 0) f = FIRN_INPUT_JSONL;
		else if (fmt && strcmp(fmt, "parquet") == 0) f = FIRN_INPUT_PARQUET;
		else if (fmt) {
			rc = cli_usage("--format is csv, jsonl or parquet");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		struct firn_commit_info info;
		struct firn_append_options ao = { cli_get(o, N(o), "truncate-timestamps") != NULL };
		if (firn_table_append(t, pos + 1, (size_t)(np - 1), f, &ao, &info, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json"))
			printf("{\"snapshot-id\": %lld, \"added-records\": %lld, \"added-files\": %lld}\n",
			       (long long)info.snapshot_id, (long long)info.added_records, (long long)info.added_files);
		else if (info.added_files == 0)
			printf("nothing to append: no rows\n");
		else
			printf("appended %lld rows in %lld files: snapshot %lld\n", (long long)info.added_records,
			       (long long)info.added_files, (long long)info.snapshot_id);
	} else if (strcmp(cmd, "scan") == 0 || strcmp(cmd, "count") == 0) {
		struct cli_opt o[] = { { "columns", true }, { "where", true }, { "limit", true },
				       { "snapshot", true }, { "as-of", true }, { "ref", true },
				       { "format", true }, { "output", true } };
		const char *pos[1];
		int np;
		struct firn_snapshot_sel sel;
		int nopt = cmd[0] == 's' ? N(o) : 6;
		if ((rc = cli_parse(argc, argv, o, nopt, pos, 1, &np)) != 0 || (rc = selection(o, N(o), &sel)) != 0)
			goto out;
		if (np != 1) {
			rc = cli_usage("%s TABLE [options]", cmd);
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		if (cmd[0] == 'c') {
			int64_t n;
			if (firn_table_count(t, cli_get(o, N(o), "where"), &sel, &n, &err) != 0)
				rc = cli_fail(&err);
			else
				printf("%lld\n", (long long)n);
			goto out;
		}
		struct firn_scan_options so = { 0 };
		so.columns = cli_get(o, N(o), "columns");
		so.where = cli_get(o, N(o), "where");
		so.limit = -1;
		so.sel = sel;
		const char *lim = cli_get(o, N(o), "limit");
		if (lim) {
			char *end;
			so.limit = strtoll(lim, &end, 10);
			if (*end || end == lim || so.limit < 0) {
				rc = cli_usage("--limit needs a number");
				goto out;
			}
		}
		struct ArrowSchema schema;
		struct ArrowArrayStream st;
		if (firn_table_scan(t, &so, &schema, &st, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		const char *format = cli_get(o, N(o), "format");
		rc = write_scan(&schema, &st, format ? format : "table", cli_get(o, N(o), "output"), &err);
		st.release(&st);
		schema.release(&schema);
	} else if (strcmp(cmd, "delete") == 0) {
		struct cli_opt o[] = { { "where", true }, { "mode", true }, { "json", false } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		if (np != 1 || !cli_get(o, N(o), "where")) {
			rc = cli_usage("delete TABLE --where EXPR [--mode auto|merge-on-read|copy-on-write]");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		struct firn_delete_info di;
		if (firn_table_delete(t, cli_get(o, N(o), "where"), cli_get(o, N(o), "mode"), &di, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json"))
			printf("{\"snapshot-id\": %lld, \"deleted-rows\": %lld, \"files-removed\": %lld, "
			       "\"files-rewritten\": %lld, \"delete-files\": %lld}\n", (long long)di.snapshot_id,
			       (long long)di.rows, (long long)di.files_removed, (long long)di.files_rewritten,
			       (long long)di.delete_files);
		else if (di.snapshot_id == 0)
			printf("no rows matched: nothing deleted\n");
		else
			printf("deleted %lld rows: %lld files removed, %lld rewritten (copy-on-write), "
			       "%lld given deletes (merge-on-read): snapshot %lld\n", (long long)di.rows,
			       (long long)di.files_removed, (long long)di.files_rewritten,
			       (long long)di.delete_files, (long long)di.snapshot_id);
	} else if (strcmp(cmd, "update") == 0 || strcmp(cmd, "merge") == 0 || strcmp(cmd, "overwrite") == 0) {
		struct cli_opt o[] = { { "where", true }, { "set", true }, { "on", true }, { "mode", true },
				       { "format", true }, { "json", false }, { "truncate-timestamps", false } };
		const char *pos[256];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 256, &np)) != 0)
			goto out;
		const char *fmt = cli_get(o, N(o), "format");
		enum firn_input_format f = FIRN_INPUT_AUTO;
		if (fmt && strcmp(fmt, "csv") == 0) f = FIRN_INPUT_CSV;
		else if (fmt && strcmp(fmt, "jsonl") == 0) f = FIRN_INPUT_JSONL;
		else if (fmt && strcmp(fmt, "parquet") == 0) f = FIRN_INPUT_PARQUET;
		else if (fmt) {
			rc = cli_usage("--format is csv, jsonl or parquet");
			goto out;
		}
		bool upd = cmd[0] == 'u', mrg = cmd[0] == 'm';
		if ((upd && (np != 1 || !cli_get(o, N(o), "set") || !cli_get(o, N(o), "where"))) ||
		    (mrg && (np < 2 || !cli_get(o, N(o), "on"))) || (!upd && !mrg && np < 2) ||
		    (upd && cli_get(o, N(o), "truncate-timestamps"))) {
			rc = cli_usage(upd ? "update TABLE --set 'COL = EXPR, ...' --where EXPR [--mode ...]"
				       : mrg ? "merge TABLE FILE... --on KEY[,KEY] [--mode ...]"
					     : "overwrite TABLE FILE... [--where EXPR]");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		struct firn_delete_info di;
		struct firn_append_options ao = { cli_get(o, N(o), "truncate-timestamps") != NULL };
		int r2 = upd ? firn_table_update(t, cli_get(o, N(o), "set"), cli_get(o, N(o), "where"),
						 cli_get(o, N(o), "mode"), &di, &err)
			 : mrg ? firn_table_merge(t, pos + 1, (size_t)(np - 1), f, &ao, cli_get(o, N(o), "on"),
						  cli_get(o, N(o), "mode"), &di, &err)
			       : firn_table_overwrite(t, pos + 1, (size_t)(np - 1), f, &ao, cli_get(o, N(o), "where"),
						      &di, &err);
		if (r2 != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json"))
			printf("{\"snapshot-id\": %lld, \"rows\": %lld, \"files-removed\": %lld, "
			       "\"files-rewritten\": %lld, \"delete-files\": %lld}\n", (long long)di.snapshot_id,
			       (long long)di.rows, (long long)di.files_removed, (long long)di.files_rewritten,
			       (long long)di.delete_files);
		else if (di.snapshot_id == 0)
			printf("nothing changed\n");
		else
			printf("%s: %lld rows replaced or changed, %lld files rewritten, %lld given deletes: snapshot %lld\n",
			       cmd, (long long)di.rows, (long long)di.files_rewritten, (long long)di.delete_files,
			       (long long)di.snapshot_id);
	} else if (strcmp(cmd, "remove-orphans") == 0) {
		struct cli_opt o[] = { { "older-than", true }, { "dry-run", false }, { "json", false },
				       { "force", false } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		if (np != 1) {
			rc = cli_usage("remove-orphans TABLE [--older-than TIME] [--dry-run] [--force]");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		bool dry = cli_get(o, N(o), "dry-run") != NULL;
		struct firn_orphan_info oi = { 0 };
		oi.force = cli_get(o, N(o), "force") != NULL;
		if (!cli_get(o, N(o), "json")) {
			oi.report = print_path;
			oi.report_arg = (void *)(dry ? "would delete " : "deleted ");
		}
		if (firn_table_remove_orphans(t, cli_get(o, N(o), "older-than"), dry, &oi, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json"))
			printf("{\"orphans\": %lld, \"bytes\": %lld, \"kept-too-young\": %lld, \"dry-run\": %s}\n",
			       (long long)oi.files, (long long)oi.bytes, (long long)oi.too_young, dry ? "true" : "false");
		else
			printf("%s%lld orphan files (%lld bytes)%s; %lld unreferenced files are too young to remove\n",
			       dry ? "dry run: " : "", (long long)oi.files, (long long)oi.bytes,
			       dry ? " would be deleted" : " deleted", (long long)oi.too_young);
	} else if (strcmp(cmd, "rewrite-manifests") == 0) {
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, NULL, 0, pos, 1, &np)) != 0)
			goto out;
		if (np != 1) {
			rc = cli_usage("rewrite-manifests TABLE");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		int64_t before, after;
		if (firn_table_rewrite_manifests(t, &before, &after, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		printf("rewrote manifests: %lld before, %lld after\n", (long long)before, (long long)after);
	} else if (strcmp(cmd, "maintain") == 0) {
		struct cli_opt o[] = { { "json", false } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		if (np != 1) {
			rc = cli_usage("maintain TABLE");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		struct firn_delete_info di;
		struct firn_expire_info ei = { 0 };
		struct firn_orphan_info oi = { 0 };
		if (firn_table_compact(t, NULL, 0, &di, &err) != 0 ||
		    firn_table_expire(t, NULL, 0, false, &ei, &err) != 0 ||
		    firn_table_remove_orphans(t, NULL, false, &oi, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json"))
			printf("{\"compacted-files\": %lld, \"compaction-snapshot-id\": %lld, "
			       "\"snapshots-expired\": %lld, \"files-expired\": %lld, \"orphans-removed\": %lld}\n",
			       (long long)di.files_rewritten, (long long)di.snapshot_id, (long long)ei.snapshots_expired,
			       (long long)ei.files_deleted, (long long)oi.files);
		else
			printf("maintain %s:\n  compaction: %lld files rewritten%s\n  expire: %lld snapshots, %lld files\n"
			       "  orphans: %lld files removed (%lld too young to touch)\n", pos[0],
			       (long long)di.files_rewritten, di.snapshot_id ? "" : " (nothing to do)",
			       (long long)ei.snapshots_expired, (long long)ei.files_deleted, (long long)oi.files,
			       (long long)oi.too_young);
	} else if (strcmp(cmd, "compact") == 0) {
		struct cli_opt o[] = { { "where", true }, { "target-file-size", true }, { "json", false } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		int64_t target = 0;
		const char *ts = cli_get(o, N(o), "target-file-size");
		if (np != 1 || (ts && cli_parse_size(ts, &target) != 0)) {
			rc = cli_usage("compact TABLE [--where EXPR] [--target-file-size BYTES]");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		struct firn_delete_info di;
		if (firn_table_compact(t, cli_get(o, N(o), "where"), target, &di, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json"))
			printf("{\"snapshot-id\": %lld, \"files-rewritten\": %lld}\n", (long long)di.snapshot_id,
			       (long long)di.files_rewritten);
		else if (di.snapshot_id == 0)
			printf("nothing to compact\n");
		else
			printf("compacted %lld files: snapshot %lld\n", (long long)di.files_rewritten,
			       (long long)di.snapshot_id);
	} else if (strcmp(cmd, "expire") == 0) {
		struct cli_opt o[] = { { "older-than", true }, { "retain-last", true }, { "dry-run", false },
				       { "json", false } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		const char *rl = cli_get(o, N(o), "retain-last");
		char *end = NULL;
		long long retain = rl ? strtoll(rl, &end, 10) : 0;
		if (np != 1 || (rl && (*end || retain < 1))) {
			rc = cli_usage("expire TABLE [--older-than TIME] [--retain-last N] [--dry-run]");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		bool dry = cli_get(o, N(o), "dry-run") != NULL;
		struct firn_expire_info ei = { 0 };
		if (!cli_get(o, N(o), "json")) {
			ei.report = print_path;
			ei.report_arg = (void *)(dry ? "would delete " : "deleted ");
		}
		if (firn_table_expire(t, cli_get(o, N(o), "older-than"), retain, dry, &ei, &err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		if (cli_get(o, N(o), "json"))
			printf("{\"snapshots-expired\": %lld, \"files-deleted\": %lld, \"dry-run\": %s}\n",
			       (long long)ei.snapshots_expired, (long long)ei.files_deleted, dry ? "true" : "false");
		else
			printf("%s%lld snapshots expired, %lld files deleted\n", dry ? "dry run: " : "",
			       (long long)ei.snapshots_expired, (long long)ei.files_deleted);
	} else if (strcmp(cmd, "tag") == 0 || strcmp(cmd, "branch") == 0) {
		struct cli_opt o[] = { { "snapshot", true } };
		const char *pos[2];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 2, &np)) != 0)
			goto out;
		if (np != 2) {
			rc = cli_usage("%s TABLE NAME [--snapshot ID]", cmd);
			goto out;
		}
		const char *s = cli_get(o, N(o), "snapshot");
		int64_t id = s ? strtoll(s, NULL, 10) : -1;
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		if (firn_table_set_ref(t, pos[1], cmd[0] == 't', id, &err) != 0)
			rc = cli_fail(&err);
		else
			printf("%s %s set\n", cmd, pos[1]);
	} else if (strcmp(cmd, "rollback") == 0) {
		struct cli_opt o[] = { { "to", true } };
		const char *pos[1];
		int np;
		if ((rc = cli_parse(argc, argv, o, N(o), pos, 1, &np)) != 0)
			goto out;
		const char *to = cli_get(o, N(o), "to");
		if (np != 1 || !to) {
			rc = cli_usage("rollback TABLE --to SNAPSHOT_ID");
			goto out;
		}
		if ((rc = load(c, pos[0], &t, &err)) != 0)
			goto out;
		if (firn_table_rollback(t, strtoll(to, NULL, 10), &err) != 0)
			rc = cli_fail(&err);
		else
			printf("rolled back to %s\n", to);
	} else if (strcmp(cmd, "alter") == 0) {
		const char *pos[4];
		int np;
		if ((rc = cli_parse(argc, argv, NULL, 0, pos, 4, &np)) != 0)
			goto out;
		if (np < 3) {
			rc = cli_usage("alter TABLE add-column|drop-column|rename-column|alter-column|set-property|unset-property|partition-by|sort-by ARGS");
			goto out;
		}
		const char *what = pos[1], *a = pos[2], *b = np > 3 ? pos[3] : NULL;
		char *k = NULL, *v = NULL;
		if (strcmp(what, "set-property") == 0 && !b && split_kv(a, &k, &v) == 0) {
			a = k;
			b = v;
		}
		if ((rc = load(c, pos[0], &t, &err)) == 0) {
			if (firn_table_alter(t, what, a, b, &err) != 0)
				rc = cli_fail(&err);
			else
				printf("altered %s: %s\n", pos[0], what);
		}
		free(k);
		free(v);
	} else {
		rc = cli_usage("unknown command '%s'", cmd);
	}
out:
	firn_table_free(t);
	firn_catalog_free(c);
	return rc;
}
