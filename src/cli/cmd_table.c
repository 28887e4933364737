/* firn's table commands (DESIGN §4): one function per command, in the
 * table at the end, which also says how each opens the catalog: only the
 * commands that make something new may create a warehouse; the ones that
 * only read open it read-only. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "firn/catalog.h"
#include "firn/io.h"
#include "firn/parquet.h"
#include "firn/input.h"
#include "firn/table.h"
#include "firn/text.h"
#include "firn/util.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int cli_open_catalog(struct firn_catalog **c, enum firn_catalog_mode mode, struct firn_error *err)
{
	int rc = cli_catalog_resolve(); /* PyIceberg's catalog of the name, if need be */
	if (rc != 0)
		return rc;
	const char *wh = getenv("FIRN_WAREHOUSE");
	const char *uri = getenv("FIRN_CATALOG");
	const char *lt = getenv("FIRN_LOCK_TIMEOUT");
	struct firn_catalog_options o = FIRN_CATALOG_OPTIONS_INIT;
	o.mode = mode;
	o.token = getenv("FIRN_TOKEN");
	o.credential = getenv("FIRN_CREDENTIAL");
	int64_t secs;
	if (lt && *lt) {
		if (cli_parse_int(lt, 0, 86400, &secs) != 0)
			return cli_usage("FIRN_LOCK_TIMEOUT needs whole seconds from 0 to 86400, not '%s'", lt);
		o.lock_timeout_ms = (int)(secs * 1000);
	}
	bool rest = uri && (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0);
	if (!(wh && *wh))
		wh = rest ? NULL : "warehouse"; /* a REST catalog knows its warehouse */
	const char *name = getenv("FIRN_CATALOG_NAME");
	if (firn_catalog_open_with(c, uri, wh, name && *name ? name : NULL, &o, err) != 0)
		return cli_fail(err);
	return 0;
}

/* ---- rendering JSON for people ------------------------------------- */

/* v as text; numbers and nested values are formatted into b. */
static const char *cell(json_t *v, struct firn_buf *b)
{
	if (!v || json_is_null(v))
		return "";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	firn_buf_reset(b);
	if (json_is_integer(v)) {
		firn_buf_printf(b, "%lld", (long long)json_integer_value(v));
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		firn_buf_puts(b, s ? s : "");
		firn_free(s);
	}
	return firn_buf_cstr(b) == 0 ? (const char *)b->data : "";
}

/* Prints an array of objects as aligned columns: keys[i] (dotted paths
 * into nested objects) under headers[i]. */
static void print_rows(json_t *rows, const char *const *keys, const char *const *headers, int nk)
{
	size_t width[16] = { 0 };
	struct firn_buf buf = FIRN_BUF_INIT;
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
				const char *s = cell(v, &buf);
				if (pass == 0) {
					if (strlen(s) > width[k])
						width[k] = strlen(s);
				} else {
					printf("%-*s%s", k + 1 < nk ? (int)width[k] : 0, s, k + 1 < nk ? "  " : "\n");
				}
			}
		}
	}
	firn_buf_free(&buf);
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

/* ---- the information structs as JSON ---------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *iso_ms(int64_t ms)
{
	char buf[64];
	firn_timestamp_format(ms, 3, true, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *string_map(char *const *keys, char *const *values, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, keys[i], json_string(values[i]));
	return o;
}

/* A schema node as Iceberg's type JSON (the table metadata's form). */
static json_t *type_json(const struct ArrowSchema *node)
{
	struct firn_type t;
	if (firn_type_of(node, &t, NULL) != 0)
		return json_null();
	if (t.id == FIRN_A_STRUCT) {
		json_t *o = json_object(), *fields = json_array();
		json_object_set_new(o, "type", json_string("struct"));
		for (int64_t i = 0; i < node->n_children; i++) {
			const struct ArrowSchema *c = node->children[i];
			json_t *f = json_object();
			const char *doc;
			int32_t dl;
			json_object_set_new(f, "id", json_integer(firn_schema_field_id(c)));
			json_object_set_new(f, "name", json_string(c->name ? c->name : ""));
			json_object_set_new(f, "required", json_boolean(!(c->flags & ARROW_FLAG_NULLABLE)));
			json_object_set_new(f, "type", type_json(c));
			if ((doc = firn_metadata_get(c->metadata, "iceberg:doc", &dl)) != NULL)
				json_object_set_new(f, "doc", json_stringn(doc, (size_t)dl));
			json_array_append_new(fields, f);
		}
		json_object_set_new(o, "fields", fields);
		return o;
	}
	if (t.id == FIRN_A_LIST || t.id == FIRN_A_MAP) {
		bool list = t.id == FIRN_A_LIST;
		const struct ArrowSchema *k = list ? node->children[0] : node->children[0]->children[0];
		const struct ArrowSchema *v = list ? k : node->children[0]->children[1];
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string(list ? "list" : "map"));
		if (!list) {
			json_object_set_new(o, "key-id", json_integer(firn_schema_field_id(k)));
			json_object_set_new(o, "key", type_json(k));
		}
		json_object_set_new(o, list ? "element-id" : "value-id", json_integer(firn_schema_field_id(v)));
		json_object_set_new(o, list ? "element" : "value", type_json(v));
		json_object_set_new(o, list ? "element-required" : "value-required",
				    json_boolean(!(v->flags & ARROW_FLAG_NULLABLE)));
		return o;
	}
	struct firn_buf b = FIRN_BUF_INIT;
	json_t *s = firn_type_name(&b, node) == 0 && firn_buf_cstr(&b) == 0 ? json_string((const char *)b.data)
									  : json_null();
	firn_buf_free(&b);
	return s;
}

static json_t *spec_json(const struct firn_table_description *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->n_spec_fields; i++) {
		const struct firn_partition_field_info *p = &d->spec_fields[i];
		json_t *f = json_object();
		json_object_set_new(f, "name", json_string(p->name));
		json_object_set_new(f, "transform", json_string(p->transform));
		if (p->source)
			json_object_set_new(f, "source", json_string(p->source));
		json_object_set_new(f, "source-id", json_integer(p->source_id));
		json_object_set_new(f, "field-id", json_integer(p->field_id));
		json_array_append_new(a, f);
	}
	return a;
}

static json_t *order_json(const struct firn_table_description *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->n_sort_fields; i++) {
		const struct firn_sort_field_info *s = &d->sort_fields[i];
		json_t *f = json_object();
		if (s->source)
			json_object_set_new(f, "source", json_string(s->source));
		json_object_set_new(f, "transform", json_string(s->transform));
		json_object_set_new(f, "direction", json_string(s->descending ? "desc" : "asc"));
		json_object_set_new(f, "null-order", json_string(s->nulls_first ? "nulls-first" : "nulls-last"));
		json_array_append_new(a, f);
	}
	return a;
}

static json_t *describe_json(const struct firn_table_description *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "table", json_string(d->ident));
	json_object_set_new(o, "format-version", json_integer(d->format_version));
	json_object_set_new(o, "table-uuid", json_string(d->uuid));
	json_object_set_new(o, "location", json_string(d->location));
	json_object_set_new(o, "metadata-location", json_string(d->metadata_location));
	json_object_set_new(o, "schema-id", json_integer(d->schema_id));
	json_t *schema = type_json(&d->schema);
	json_object_set(o, "schema", json_object_get(schema, "fields") ?: json_array());
	json_decref(schema);
	json_object_set_new(o, "spec-id", json_integer(d->spec_id));
	json_object_set_new(o, "partition-spec", spec_json(d));
	json_object_set_new(o, "sort-order", order_json(d));
	json_object_set_new(o, "properties", string_map(d->prop_keys, d->prop_values, d->n_props));
	json_object_set_new(o, "current-snapshot-id",
			    d->has_current_snapshot ? json_integer(d->current_snapshot_id) : json_null());
	json_object_set_new(o, "snapshots", json_integer(d->n_snapshots));
	if (d->has_current_snapshot) {
		json_object_set_new(o, "total-records", json_integer(d->total_records));
		json_object_set_new(o, "total-data-files", json_integer(d->total_data_files));
		json_object_set_new(o, "total-files-size", json_integer(d->total_files_size));
	}
	if (d->has_current_snapshot && d->has_deleted_records) {
		json_object_set_new(o, "deleted-records", json_integer(d->deleted_records));
		json_object_set_new(o, "total-delete-files", json_integer(d->total_delete_files));
	}
	if (d->has_current_snapshot) /* what a scan reads: the files' rows less the deleted */
		json_object_set_new(o, "live-records",
				    json_integer(d->total_records - (d->has_deleted_records ? d->deleted_records : 0)));
	json_t *refs = json_object();
	for (size_t i = 0; i < d->n_refs; i++) {
		json_t *r = json_object();
		json_object_set_new(r, "type", json_string(d->refs[i].tag ? "tag" : "branch"));
		json_object_set_new(r, "snapshot-id", json_integer(d->refs[i].snapshot_id));
		json_object_set_new(refs, d->refs[i].name, r);
	}
	json_object_set_new(o, "refs", refs);
	return o;
}

/* A snapshot's rows a scan of it reads, from its summary: total-records
 * less total-position-deletes (deletion vectors count there too); null
 * when equality deletes (whose reach the summary does not tell) apply or
 * the totals are missing. */
static json_t *live_records(const struct firn_snapshot_info *s)
{
	const char *total = NULL, *pos = NULL, *eq = NULL;
	for (size_t i = 0; i < s->n_summary; i++) {
		const char *k = s->summary_keys[i];
		if (strcmp(k, "total-records") == 0)
			total = s->summary_values[i];
		else if (strcmp(k, "total-position-deletes") == 0)
			pos = s->summary_values[i];
		else if (strcmp(k, "total-equality-deletes") == 0)
			eq = s->summary_values[i];
	}
	if (!total || (eq && strcmp(eq, "0") != 0))
		return json_null();
	return json_integer(strtoll(total, NULL, 10) - (pos ? strtoll(pos, NULL, 10) : 0));
}

static json_t *snapshots_json(const struct firn_snapshot_info *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct firn_snapshot_info *s = &v[i];
		json_t *o = json_object();
		json_object_set_new(o, "snapshot-id", json_integer(s->snapshot_id));
		json_object_set_new(o, "parent-snapshot-id", s->has_parent ? json_integer(s->parent_id) : json_null());
		json_object_set_new(o, "sequence-number", json_integer(s->sequence_number));
		json_object_set_new(o, "timestamp-ms", json_integer(s->timestamp_ms));
		json_object_set_new(o, "timestamp", iso_ms(s->timestamp_ms));
		json_object_set_new(o, "operation", json_string(s->operation));
		json_object_set_new(o, "schema-id", s->schema_id >= 0 ? json_integer(s->schema_id) : json_null());
		json_object_set_new(o, "manifest-list", str_or_null(s->manifest_list));
		json_object_set_new(o, "summary", string_map(s->summary_keys, s->summary_values, s->n_summary));
		json_object_set_new(o, "live-records", live_records(s));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *history_json(const struct firn_history_entry *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct firn_history_entry *e = &v[i];
		json_t *o = json_object();
		json_object_set_new(o, "made-current-at", iso_ms(e->timestamp_ms));
		json_object_set_new(o, "timestamp-ms", json_integer(e->timestamp_ms));
		json_object_set_new(o, "snapshot-id", json_integer(e->snapshot_id));
		json_object_set_new(o, "parent-id", e->has_parent ? json_integer(e->parent_id) : json_null());
		json_object_set_new(o, "operation", json_string(e->operation ? e->operation : "(expired)"));
		json_object_set_new(o, "is-current-ancestor", json_boolean(e->is_current_ancestor));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *file_json(const struct firn_file_info *f)
{
	static const char *const kinds[] = { "data", "position-deletes", "equality-deletes" };
	json_t *o = json_object();
	json_object_set_new(o, "content", json_string(f->content >= 0 && f->content <= 2 ? kinds[f->content] : "?"));
	json_object_set_new(o, "file-path", json_string(f->path));
	json_object_set_new(o, "file-format", json_string(f->format));
	json_object_set_new(o, "spec-id", json_integer(f->spec_id));
	json_t *part = json_object();
	for (size_t p = 0; p < f->n_partition; p++) {
		json_t *v = f->partition_values[p] ? json_loads(f->partition_values[p], JSON_DECODE_ANY, NULL) : NULL;
		json_object_set_new(part, f->partition_names[p], v ? v : json_null());
	}
	json_object_set_new(o, "partition", part);
	json_t *hum = json_object(); /* as partition paths show them: month 2013-01, not 516 */
	for (size_t p = 0; p < f->n_partition; p++) {
		const char *h = f->partition_human ? f->partition_human[p] : NULL;
		json_object_set_new(hum, f->partition_names[p], h ? json_string(h) : json_null());
	}
	json_object_set_new(o, "partition-human", hum);
	json_object_set_new(o, "record-count", json_integer(f->record_count));
	json_object_set_new(o, "file-size-in-bytes", json_integer(f->file_size));
	if (f->content == FIRN_FILE_DATA) {
		bool known = f->deleted_records >= 0;
		json_object_set_new(o, "deleted-records", known ? json_integer(f->deleted_records) : json_null());
		json_object_set_new(o, "deleted-share",
				    !known ? json_null()
				    : json_real(f->record_count ? (double)f->deleted_records / (double)f->record_count
								: 0.0));
	}
	json_object_set_new(o, "sequence-number", json_integer(f->sequence_number));
	json_object_set_new(o, "snapshot-id", json_integer(f->snapshot_id));
	return o;
}

static json_t *files_json(const struct firn_file_info *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, file_json(&v[i]));
	return a;
}

/* Prints j on one line (a result of --json that is one object); takes j. */
static int print_json_line(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!s)
		return cli_failf("out of memory");
	printf("%s\n", s);
	firn_free(s);
	return 0;
}

/* Prints j as --json does (indented, in order) or for people; takes j. */
static int print_json_or(json_t *j, bool as_json, void (*human)(json_t *))
{
	if (!j)
		return cli_failf("out of memory");
	if (as_json) {
		char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "");
		firn_free(s); /* jansson allocates through firn's hook */
	} else {
		human(j);
	}
	json_decref(j);
	return 0;
}

static void human_describe(json_t *d)
{
	struct firn_buf buf = FIRN_BUF_INIT;
	printf("table             %s\n", json_string_value(json_object_get(d, "table")));
	printf("format version    %lld\n", (long long)json_integer_value(json_object_get(d, "format-version")));
	printf("uuid              %s\n", json_string_value(json_object_get(d, "table-uuid")));
	printf("location          %s\n", json_string_value(json_object_get(d, "location")));
	printf("metadata          %s\n", json_string_value(json_object_get(d, "metadata-location")));
	printf("current snapshot  %s\n", cell(json_object_get(d, "current-snapshot-id"), &buf));
	printf("snapshots         %lld\n", (long long)json_integer_value(json_object_get(d, "snapshots")));
	if (json_object_get(d, "total-records")) {
		printf("records           %lld live (%lld in data files)\n",
		       (long long)json_integer_value(json_object_get(d, "live-records")),
		       (long long)json_integer_value(json_object_get(d, "total-records")));
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
		       cell(json_object_get(f, "source"), &buf),
		       json_string_value(json_object_get(f, "name")));
	}
	printf("\nsorted by         ");
	json_t *order = json_object_get(d, "sort-order");
	if (json_array_size(order) == 0)
		printf("(unsorted)");
	for (size_t i = 0; i < json_array_size(order); i++) {
		json_t *f = json_array_get(order, i);
		printf("%s%s %s %s", i ? ", " : "", cell(json_object_get(f, "source"), &buf),
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
	firn_buf_free(&buf);
}

static void human_snapshots(json_t *a)
{
	const char *keys[] = { "snapshot-id", "parent-snapshot-id", "sequence-number", "timestamp",
			       "operation", "summary/added-records", "summary/total-records", "live-records" };
	const char *heads[] = { "snapshot_id", "parent_id", "seq", "timestamp", "operation",
				"added_records", "records_in_files", "live_records" };
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
	size_t i;
	json_t *f;
	json_array_foreach(a, i, f) { /* the partition as name=value, ... in human form */
		struct firn_buf b = FIRN_BUF_INIT;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(f, "partition-human"), k, v)
			firn_buf_printf(&b, "%s%s=%s", b.len ? ", " : "", k, json_is_string(v) ? json_string_value(v) : "null");
		json_object_set_new(f, "partition-text", json_string(b.len && firn_buf_cstr(&b) == 0 ? (const char *)b.data : ""));
		firn_buf_free(&b);
	}
	const char *keys[] = { "content", "file-path", "partition-text", "record-count", "deleted-records", "file-size-in-bytes" };
	const char *heads[] = { "content", "file_path", "partition", "records", "deleted", "bytes" };
	print_rows(a, keys, heads, N(keys));
}

/* ---- options shared by several commands ----------------------------- */

static int selection(struct cli_opt *o, int n, struct firn_snapshot_sel *sel)
{
	memset(sel, 0, sizeof(*sel));
	FIRN_TRY(cli_opt_time(o, n, "as-of"));
	const char *snap = cli_get(o, n, "snapshot");
	sel->as_of = cli_get(o, n, "as-of");
	sel->ref = cli_get(o, n, "ref");
	if ((snap != NULL) + (sel->as_of != NULL) + (sel->ref != NULL) > 1)
		return cli_usage("give one of --snapshot, --as-of, --ref");
	if (sel->ref && !*sel->ref)
		return cli_usage("--ref needs a branch or tag name");
	FIRN_TRY(cli_opt_int(o, n, "snapshot", INT64_MIN, INT64_MAX, &sel->snapshot_id));
	sel->has_snapshot_id = snap != NULL;
	return 0;
}

static int input_format(const struct cli_opt *o, int n, enum firn_input_format *f)
{
	static const char *const names[] = { "csv", "jsonl", "parquet", NULL };
	static const enum firn_input_format formats[] = { FIRN_INPUT_CSV, FIRN_INPUT_JSONL, FIRN_INPUT_PARQUET };
	int k = -1;
	*f = FIRN_INPUT_AUTO;
	FIRN_TRY(cli_opt_enum(o, n, "format", names, &k));
	if (k >= 0)
		*f = formats[k];
	return 0;
}

static int write_mode(const struct cli_opt *o, int n)
{
	static const char *const modes[] = { "auto", "merge-on-read", "copy-on-write", NULL };
	int k;
	return cli_opt_enum(o, n, "mode", modes, &k);
}

/* "K=V" with a non-empty key; *k and *v point into kv / are malloc'd. */
static int split_kv(const char *kv, char **k, char **v)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -1;
	*k = strndup(kv, (size_t)(eq - kv));
	*v = strdup(eq + 1);
	return *k && *v ? 0 : -1;
}

/* Every --property K=V: keys[i], vals[i] malloc'd (free with free_props). */
struct props {
	char **keys, **vals;
	size_t n;
};

static void free_props(struct props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->keys[i]);
		free(p->vals[i]);
	}
	free(p->keys);
	free(p->vals);
}

static int collect_props(const struct cli_opt *o, struct props *p)
{
	memset(p, 0, sizeof(*p));
	p->keys = calloc(o->n_values + 1, sizeof(char *));
	p->vals = calloc(o->n_values + 1, sizeof(char *));
	if (!p->keys || !p->vals)
		return cli_failf("out of memory");
	for (size_t i = 0; i < o->n_values; i++) {
		if (split_kv(o->values[i], &p->keys[p->n], &p->vals[p->n]) != 0) {
			free(p->keys[p->n]);
			free(p->vals[p->n]);
			return cli_usage("--property needs KEY=VALUE with a key, not '%s'", o->values[i]);
		}
		p->n++;
	}
	return 0;
}

static int load(struct firn_catalog *c, const char *ident, struct firn_table **t,
		struct firn_error *err)
{
	if (firn_table_load(c, ident, t, err) != 0)
		return cli_fail(err);
	firn_table_set_progress(*t, cli_progress_lib, NULL); /* shown only once begun */
	return 0;
}

/* load, then the branch writes go to: --branch NAME (absent: main). */
static int load_for_write(struct firn_catalog *c, const char *ident, const struct cli_opt *o, int n,
			  struct firn_table **t, struct firn_error *err)
{
	const char *branch = cli_get(o, n, "branch");
	*t = NULL;
	if (branch && !*branch)
		return cli_usage("--branch needs a branch name");
	FIRN_TRY(load(c, ident, t, err));
	if (branch && firn_table_set_branch(*t, branch, err) != 0)
		return cli_fail(err);
	return 0;
}

/* s as a JSON string, for names users typed (firn_free; NULL when out of
 * memory). */
static char *json_quote(const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	return q;
}

/* " on branch NAME" after a write to a branch other than main, else "". */
static const char *on_branch(const struct firn_table *t, struct firn_buf *b)
{
	const char *br = firn_table_branch(t);
	if (strcmp(br, "main") == 0)
		return "";
	firn_buf_reset(b);
	firn_buf_printf(b, " on branch %s", br);
	return firn_buf_cstr(b) == 0 ? (const char *)b->data : "";
}

/* The branch field of a write's --json output (firn_free; NULL when out
 * of memory). */
static char *branch_json(const struct firn_table *t)
{
	return json_quote(firn_table_branch(t));
}

static void print_path(void *arg, const char *path)
{
	printf("%s%s\n", (const char *)arg, path);
}

static void print_strings(char **v, size_t n, bool as_json)
{
	if (!as_json) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i]);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	char *s = json_dumps(a, 0);
	printf("%s\n", s ? s : "[]");
	firn_free(s);
	json_decref(a);
}

/* ---- namespaces and tables ------------------------------------------- */

static int ns_describe(struct firn_catalog *c, const char *ns, bool as_json, struct firn_error *err)
{
	char **k, **v;
	size_t n;
	if (firn_catalog_namespace_properties(c, ns, &k, &v, &n, err) != 0)
		return cli_fail(err);
	if (as_json) {
		json_t *ob = json_object();
		for (size_t i = 0; i < n; i++)
			json_object_set_new(ob, k[i], json_string(v[i]));
		json_t *top = json_object();
		json_object_set_new(top, "namespace", json_string(ns));
		json_object_set_new(top, "properties", ob);
		char *s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		firn_free(s);
		json_decref(top);
	} else {
		printf("namespace  %s\n", ns);
		for (size_t i = 0; i < n; i++)
			printf("  %s = %s\n", k[i], v[i]);
	}
	firn_catalog_strings_free(k, n);
	firn_catalog_strings_free(v, n);
	return 0;
}

static int do_namespace(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "property", true, .repeats = true }, { "json", false } };
	const char *pos[2];
	int np;
	struct props p = { 0 };
	int rc = cli_parse(argc - 1, argv + 1, o, N(o), pos, 2, &np);
	if (rc == 0)
		rc = collect_props(&o[0], &p);
	if (rc != 0)
		goto out;
	const char *verb = argv[0];
	bool as_json = cli_get(o, N(o), "json") != NULL;
	if (strcmp(verb, "list") == 0) {
		char **names;
		size_t n;
		if (np > 1) {
			rc = cli_usage("namespace list [PARENT]");
		} else if (firn_catalog_namespace_list(c, np ? pos[0] : NULL, &names, &n, err) != 0) {
			rc = cli_fail(err);
		} else {
			print_strings(names, n, as_json);
			firn_catalog_strings_free(names, n);
		}
	} else if (np != 1 || !*pos[0]) {
		rc = cli_usage("namespace %s needs one namespace name", verb);
	} else if (strcmp(verb, "create") == 0) {
		rc = firn_catalog_namespace_create(c, pos[0], (const char *const *)p.keys,
						   (const char *const *)p.vals, p.n, err) ? cli_fail(err) : 0;
	} else if (strcmp(verb, "drop") == 0) {
		rc = firn_catalog_namespace_drop(c, pos[0], err) ? cli_fail(err) : 0;
	} else {
		rc = ns_describe(c, pos[0], as_json, err);
	}
out:
	free_props(&p);
	cli_opts_free(o, N(o));
	return rc;
}

/* The SPEC of a file's schema: Parquet's own, or what CSV and JSON Lines
 * infer (by the file's extension). */
static int like_spec(const char *path, struct firn_buf *spec, struct firn_error *err)
{
	struct ArrowSchema s = { 0 };
	size_t n = strlen(path);
	bool parquet = n > 8 && strcmp(path + n - 8, ".parquet") == 0;
	bool csv = n > 4 && strcmp(path + n - 4, ".csv") == 0;
	bool jsonl = (n > 6 && strcmp(path + n - 6, ".jsonl") == 0) ||
		     (n > 5 && strcmp(path + n - 5, ".json") == 0) ||
		     (n > 7 && strcmp(path + n - 7, ".ndjson") == 0);
	int rc;
	if (parquet) {
		struct firn_parquet_reader *r = NULL;
		rc = firn_parquet_reader_open(&r, path, err);
		if (rc == 0)
			rc = firn_parquet_reader_schema(r, &s, err);
		firn_parquet_reader_free(r);
	} else if (csv || jsonl) {
		struct firn_text_reader *r = NULL;
		rc = firn_text_reader_open(&r, path, csv ? FIRN_TEXT_CSV : FIRN_TEXT_JSONL, NULL, 0, err);
		if (rc == 0)
			rc = firn_text_reader_schema(r, &s, err);
		firn_text_reader_free(r);
	} else {
		return firn_error_set(err, FIRN_EINVAL,
				      "--like %s: not a .parquet, .csv, .jsonl or .json file", path);
	}
	if (rc == 0 && firn_schema_spec(spec, &s) != 0)
		rc = firn_error_set(err, FIRN_EUNSUPPORTED, "--like %s: a type Iceberg has no form for",
				    path);
	if (rc == 0 && firn_buf_cstr(spec) != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (s.release)
		s.release(&s);
	return rc;
}

static int do_create(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "schema", true }, { "partition-by", true }, { "sort-by", true },
			       { "format-version", true }, { "location", true },
			       { "property", true, .repeats = true }, { "json", false }, { "like", true } };
	const char *pos[2];
	int np;
	struct props p = { 0 };
	struct firn_buf like = FIRN_BUF_INIT;
	int64_t fv = 2;
	int rc = cli_parse(argc, argv, o, N(o), pos, 2, &np);
	if (rc == 0)
		rc = collect_props(&o[5], &p);
	if (rc == 0)
		rc = cli_opt_int(o, N(o), "format-version", 2, 3, &fv);
	const char *like_file = cli_get(o, N(o), "like");
	if (rc == 0 && like_file && cli_get(o, N(o), "schema"))
		rc = cli_usage("give --schema SPEC or --like FILE, not both");
	else if (rc == 0 && (np != 1 || (!cli_get(o, N(o), "schema") && !like_file)))
		rc = cli_usage("create needs TABLE and --schema SPEC (or --like FILE)");
	if (rc == 0 && like_file && like_spec(like_file, &like, err) != 0)
		rc = cli_fail(err);
	if (rc != 0)
		goto out;
	struct firn_table_create_options co = FIRN_TABLE_CREATE_OPTIONS_INIT;
	co.schema = like_file ? (const char *)like.data : cli_get(o, N(o), "schema");
	co.partition_by = cli_get(o, N(o), "partition-by");
	co.sort_by = cli_get(o, N(o), "sort-by");
	co.location = cli_get(o, N(o), "location");
	co.format_version = (int)fv;
	co.prop_keys = (const char *const *)p.keys;
	co.prop_values = (const char *const *)p.vals;
	co.n_props = p.n;
	struct firn_table *t = NULL;
	if (firn_table_create(c, pos[0], &co, &t, err) != 0) {
		rc = cli_fail(err);
		goto out;
	}
	if (cli_get(o, N(o), "json"))
		rc = print_json_line(json_pack("{s:s, s:s, s:I}", "table", pos[0], "metadata-location",
					       firn_table_metadata_location(t), "format-version", (json_int_t)fv));
	else
		printf("created %s\n", pos[0]);
	firn_table_free(t);
out:
	free_props(&p);
	firn_buf_free(&like);
	cli_opts_free(o, N(o));
	return rc;
}

/* "ns.name", malloc'd. */
static char *join_ident(const char *ns, const char *name)
{
	size_t n = strlen(ns) + strlen(name) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s.%s", ns, name);
	return s;
}

static int do_tables(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "json", false } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	char **nss = NULL;
	size_t n_ns = 0;
	if (np == 1) {
		nss = calloc(1, sizeof(char *));
		if (nss && (nss[0] = strdup(pos[0])) != NULL)
			n_ns = 1;
	} else if (firn_catalog_namespace_list(c, NULL, &nss, &n_ns, err) != 0) {
		return cli_fail(err);
	}
	char **all = NULL;
	size_t n_all = 0;
	int rc = 0;
	/* walk namespaces depth first */
	for (size_t i = 0; i < n_ns && rc == 0; i++) {
		char **names, **kids;
		size_t n, nk;
		if (firn_catalog_table_list(c, nss[i], &names, &n, err) != 0) {
			rc = cli_fail(err);
			break;
		}
		char **grown = realloc(all, (n_all + n + 1) * sizeof(char *));
		if (grown)
			all = grown;
		for (size_t k = 0; grown && k < n; k++)
			all[n_all++] = join_ident(nss[i], names[k]);
		firn_catalog_strings_free(names, n);
		if (!grown) {
			rc = cli_failf("out of memory");
			break;
		}
		if (np == 0 && firn_catalog_namespace_list(c, nss[i], &kids, &nk, NULL) == 0) {
			grown = realloc(nss, (n_ns + nk + 1) * sizeof(char *));
			if (grown)
				nss = grown;
			for (size_t k = 0; grown && k < nk; k++)
				nss[n_ns++] = strdup(kids[k]);
			firn_catalog_strings_free(kids, nk);
			if (!grown)
				rc = cli_failf("out of memory");
		}
	}
	if (rc == 0)
		print_strings(all, n_all, cli_get(o, N(o), "json") != NULL);
	for (size_t i = 0; i < n_ns; i++)
		free(nss[i]);
	free(nss);
	for (size_t i = 0; i < n_all; i++)
		free(all[i]);
	free(all);
	return rc;
}

static int info_describe(struct firn_table *t, bool js, struct firn_error *err)
{
	struct firn_table_description d;
	int rc = firn_table_describe(t, &d, err);
	if (rc == 0)
		rc = print_json_or(describe_json(&d), js, human_describe);
	firn_table_description_free(&d);
	return rc;
}

static int info_snapshots(struct firn_table *t, bool js, struct firn_error *err)
{
	struct firn_snapshot_info *v;
	size_t n;
	FIRN_TRY(firn_table_snapshots(t, &v, &n, err));
	int rc = print_json_or(snapshots_json(v, n), js, human_snapshots);
	firn_snapshot_info_free(v, n);
	return rc;
}

static int info_history(struct firn_table *t, bool js, struct firn_error *err)
{
	struct firn_history_entry *v;
	size_t n;
	FIRN_TRY(firn_table_history(t, &v, &n, err));
	int rc = print_json_or(history_json(v, n), js, human_history);
	firn_history_free(v, n);
	return rc;
}

/* describe, snapshots and history: TABLE [--json], printed by info_CMD. */
static int do_info(const char *cmd, struct firn_catalog *c, int argc, char **argv,
		   struct firn_error *err)
{
	int (*info)(struct firn_table *, bool, struct firn_error *) =
		strcmp(cmd, "describe") == 0 ? info_describe
		: strcmp(cmd, "snapshots") == 0 ? info_snapshots : info_history;
	struct cli_opt o[] = { { "json", false } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	if (np != 1)
		return cli_usage("%s needs a TABLE", cmd);
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	int rc = info(t, cli_get(o, N(o), "json") != NULL, err);
	firn_table_free(t);
	return rc < 0 ? cli_fail(err) : rc;
}

/* location TABLE [--json]: the current metadata file, which engines that
 * read a table without a catalog take (DuckDB's iceberg_scan, Polars'
 * scan_iceberg); --json adds the table's own location (what pyiceberg
 * location prints). */
static int do_location(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "json", false } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	if (np != 1)
		return cli_usage("location needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	int rc = 0;
	if (cli_get(o, N(o), "json")) {
		struct firn_table_description d;
		if (firn_table_describe(t, &d, err) != 0) {
			rc = cli_fail(err);
		} else {
			rc = print_json_or(json_pack("{s:s, s:s, s:s}", "table", d.ident, "metadata-location",
						     d.metadata_location, "location", d.location),
					   true, NULL);
			firn_table_description_free(&d);
		}
	} else {
		printf("%s\n", firn_table_metadata_location(t));
	}
	firn_table_free(t);
	return rc;
}

static int do_files(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "json", false }, { "snapshot", true }, { "as-of", true }, { "ref", true } };
	const char *pos[1];
	int np;
	struct firn_snapshot_sel sel;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	FIRN_TRY(selection(o, N(o), &sel));
	if (np != 1)
		return cli_usage("files needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	struct firn_file_info *v;
	size_t n;
	int rc = 0;
	if (firn_table_files(t, &sel, &v, &n, err) != 0) {
		rc = cli_fail(err);
	} else {
		rc = print_json_or(files_json(v, n), cli_get(o, N(o), "json") != NULL, human_files);
		firn_file_info_free(v, n);
	}
	firn_table_free(t);
	return rc;
}

static int do_drop(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "purge", false } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	if (np != 1)
		return cli_usage("drop needs a TABLE");
	struct firn_purge_info pi;
	bool purge = cli_get(o, N(o), "purge") != NULL;
	if (firn_table_drop(c, pos[0], purge, &pi, err) != 0)
		return cli_fail(err);
	if (!purge)
		printf("dropped %s\n", pos[0]);
	else
		printf("dropped %s: purged %lld files; kept %lld referenced files outside its location\n",
		       pos[0], (long long)pi.files_deleted, (long long)pi.kept_outside);
	return 0;
}

static int do_rename(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	const char *pos[2];
	int np;
	FIRN_TRY(cli_parse(argc, argv, NULL, 0, pos, 2, &np));
	if (np != 2)
		return cli_usage("rename needs FROM and TO");
	if (firn_table_rename(c, pos[0], pos[1], err) != 0)
		return cli_fail(err);
	printf("renamed %s\n", pos[0]);
	return 0;
}

static int do_register(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	const char *pos[2];
	int np;
	FIRN_TRY(cli_parse(argc, argv, NULL, 0, pos, 2, &np));
	if (np != 2)
		return cli_usage("register needs TABLE and METADATA_FILE");
	if (firn_table_register(c, pos[0], pos[1], err) != 0)
		return cli_fail(err);
	printf("registered %s\n", pos[0]);
	return 0;
}

/* ---- writing rows ----------------------------------------------------- */

/* The rows of the input files, when all are Parquet (their footers say);
 * else -1: progress then has no total. */
static int64_t input_rows(const char *const *v, size_t n, enum firn_input_format f)
{
	int64_t total = 0;
	for (size_t i = 0; i < n && total >= 0; i++) {
		struct firn_parquet_reader *r = NULL;
		if (firn_input_format_of(v[i], f) != FIRN_INPUT_PARQUET || firn_parquet_reader_open(&r, v[i], NULL) != 0)
			total = -1;
		else
			total += firn_parquet_reader_num_rows(r);
		firn_parquet_reader_free(r);
	}
	return total;
}

/* The input files of append, merge and overwrite as one stream of t's
 * columns (reporting progress as it is read). */
static int open_input(struct firn_table *t, const char *const *files, size_t n, enum firn_input_format f,
		      const struct firn_append_options *ao, unsigned flags, struct ArrowArrayStream *in,
		      struct firn_error *err)
{
	char **v;
	size_t nv;
	FIRN_TRY(cli_expand_inputs(files, n, &v, &nv, err));
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < nv; i++) /* - as Parquet: spooled, footer last */
		if (strcmp(v[i], "-") == 0 && f == FIRN_INPUT_PARQUET) {
			char *path;
			if ((rc = cli_spool_stdin(&path, err)) == 0) {
				free(v[i]);
				v[i] = path;
			}
		}
	struct ArrowSchema ts = { 0 };
	if (rc == 0)
		rc = firn_table_schema(t, &ts, err);
	int64_t total = rc == 0 && cli_progress_enabled() ? input_rows((const char *const *)v, nv, f) : -1;
	if (rc == 0) {
		rc = firn_input_open((const char *const *)v, nv, f, &ts, ao, flags, in, err);
		ts.release(&ts);
	}
	if (rc == 0 && cli_progress_wrap(in, total) != 0) {
		in->release(in);
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	cli_free_inputs(v, nv);
	return rc;
}

static int do_append(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "format", true }, { "json", false }, { "truncate-timestamps", false },
			       { "branch", true } };
	const char **pos = calloc((size_t)argc + 1, sizeof(char *));
	int np, rc;
	enum firn_input_format f;
	struct firn_table *t = NULL;
	if (!pos)
		return cli_failf("out of memory");
	if ((rc = cli_parse(argc, argv, o, N(o), pos, argc, &np)) != 0 || (rc = input_format(o, N(o), &f)) != 0)
		goto out;
	if (np < 2) {
		rc = cli_usage("append needs TABLE and at least one FILE");
		goto out;
	}
	if ((rc = load_for_write(c, pos[0], o, N(o), &t, err)) != 0)
		goto out;
	struct firn_commit_info info;
	struct firn_append_options ao = FIRN_APPEND_OPTIONS_INIT;
	ao.truncate_timestamps = cli_get(o, N(o), "truncate-timestamps") != NULL;
	struct ArrowArrayStream in;
	if (open_input(t, pos + 1, (size_t)(np - 1), f, &ao, 0, &in, err) != 0 ||
	    firn_table_append_stream(t, &in, &ao, &info, err) != 0) {
		rc = cli_fail(err);
		goto out;
	}
	cli_progress_end();
	struct firn_buf note = FIRN_BUF_INIT;
	char *bj = branch_json(t);
	if (cli_get(o, N(o), "json"))
		printf("{\"snapshot-id\": %lld, \"added-records\": %lld, \"added-files\": %lld, \"branch\": %s}\n",
		       (long long)info.snapshot_id, (long long)info.added_records, (long long)info.added_files, bj ? bj : "null");
	else if (info.added_files == 0)
		printf("nothing to append: no rows\n");
	else
		printf("appended %lld rows in %lld files%s: snapshot %lld\n", (long long)info.added_records,
		       (long long)info.added_files, on_branch(t, &note), (long long)info.snapshot_id);
	firn_free(bj);
	firn_buf_free(&note);
out:
	firn_table_free(t);
	free(pos);
	return rc;
}

static void print_change(const char *cmd, const struct cli_opt *o, int n, const struct firn_table *t,
			 const struct firn_delete_info *di)
{
	cli_progress_end();
	struct firn_buf note = FIRN_BUF_INIT;
	char *bj = branch_json(t);
	const char *on = on_branch(t, &note);
	bool merge = strcmp(cmd, "merge") == 0;
	char counts[96] = "";
	if (merge)
		snprintf(counts, sizeof(counts), ", \"rows-updated\": %lld, \"rows-inserted\": %lld",
			 (long long)di->rows_updated, (long long)di->rows_inserted);
	if (cli_get(o, n, "json"))
		printf("{\"snapshot-id\": %lld, \"%s\": %lld%s, \"files-removed\": %lld, "
		       "\"files-rewritten\": %lld, \"delete-files\": %lld, \"branch\": %s}\n", (long long)di->snapshot_id,
		       strcmp(cmd, "delete") == 0 ? "deleted-rows" : "rows", (long long)di->rows, counts,
		       (long long)di->files_removed, (long long)di->files_rewritten, (long long)di->delete_files,
		       bj ? bj : "null");
	else if (merge && di->snapshot_id != 0)
		printf("merge: %lld rows updated, %lld rows inserted; %lld data files removed whole, %lld "
		       "rewritten (copy-on-write), %lld marked by merge-on-read delete files%s: snapshot %lld\n",
		       (long long)di->rows_updated, (long long)di->rows_inserted, (long long)di->files_removed,
		       (long long)di->files_rewritten,
		       (long long)di->delete_files, on, (long long)di->snapshot_id);
	else if (strcmp(cmd, "delete") == 0 && di->snapshot_id == 0)
		printf("no rows matched: nothing deleted\n");
	else if (di->snapshot_id == 0)
		printf("nothing changed\n");
	else if (strcmp(cmd, "delete") == 0)
		printf("deleted %lld rows: %lld data files removed whole, %lld rewritten without them "
		       "(copy-on-write), %lld marked by merge-on-read delete files%s: snapshot %lld\n",
		       (long long)di->rows,
		       (long long)di->files_removed, (long long)di->files_rewritten,
		       (long long)di->delete_files, on, (long long)di->snapshot_id);
	else
		printf("%s: %lld rows replaced or changed, %lld data files rewritten (copy-on-write), %lld "
		       "marked by merge-on-read delete files%s: snapshot %lld\n",
		       cmd, (long long)di->rows, (long long)di->files_rewritten, (long long)di->delete_files,
		       on, (long long)di->snapshot_id);
	firn_free(bj);
	firn_buf_free(&note);
}

static int do_delete(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "where", true }, { "mode", true }, { "json", false }, { "branch", true } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	FIRN_TRY(write_mode(o, N(o)));
	if (np != 1 || !cli_get(o, N(o), "where"))
		return cli_usage("delete needs TABLE and --where EXPR");
	struct firn_table *t = NULL;
	struct firn_delete_info di;
	int rc = load_for_write(c, pos[0], o, N(o), &t, err);
	if (rc == 0 && firn_table_delete(t, cli_get(o, N(o), "where"), cli_get(o, N(o), "mode"), &di, err) != 0)
		rc = cli_fail(err);
	else if (rc == 0)
		print_change("delete", o, N(o), t, &di);
	firn_table_free(t);
	return rc;
}

/* update, merge, overwrite */
static int do_change(const char *cmd, struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "where", true }, { "set", true }, { "on", true }, { "mode", true },
			       { "format", true }, { "json", false }, { "truncate-timestamps", false },
			       { "branch", true } };
	const char **pos = calloc((size_t)argc + 1, sizeof(char *));
	int np, rc;
	enum firn_input_format f;
	struct firn_table *t = NULL;
	if (!pos)
		return cli_failf("out of memory");
	if ((rc = cli_parse(argc, argv, o, N(o), pos, argc, &np)) != 0 || (rc = input_format(o, N(o), &f)) != 0 ||
	    (rc = write_mode(o, N(o))) != 0)
		goto out;
	bool upd = cmd[0] == 'u', mrg = cmd[0] == 'm';
	const char *where = cli_get(o, N(o), "where"), *set = cli_get(o, N(o), "set"), *on = cli_get(o, N(o), "on");
	if (upd && (np != 1 || !set || !where))
		rc = cli_usage("update needs TABLE, --set and --where");
	else if (upd && cli_get(o, N(o), "truncate-timestamps"))
		rc = cli_usage("update takes no --truncate-timestamps");
	else if (mrg && (np < 2 || !on))
		rc = cli_usage("merge needs TABLE, at least one FILE and --on KEY");
	else if (!upd && !mrg && np < 2)
		rc = cli_usage("overwrite needs TABLE and at least one FILE");
	if (rc != 0 || (rc = load_for_write(c, pos[0], o, N(o), &t, err)) != 0)
		goto out;
	struct firn_delete_info di;
	const char *mode = cli_get(o, N(o), "mode");
	const char *const *files = pos + 1;
	size_t nf = (size_t)(np - 1);
	struct firn_append_options ao = FIRN_APPEND_OPTIONS_INIT;
	ao.truncate_timestamps = cli_get(o, N(o), "truncate-timestamps") != NULL;
	int r;
	struct ArrowArrayStream in;
	r = upd ? firn_table_update(t, set, where, mode, &di, err)
	    : open_input(t, files, nf, f, &ao, mrg ? FIRN_INPUT_WHOLE : 0, &in, err) != 0 ? -1
	    : mrg ? firn_table_merge_stream(t, &in, &ao, on, mode, &di, err)
		  : firn_table_overwrite_stream(t, &in, &ao, where, &di, err);
	if (r != 0)
		rc = cli_fail(err);
	else
		print_change(cmd, o, N(o), t, &di);
out:
	firn_table_free(t);
	free(pos);
	return rc;
}

/* ---- reading rows ----------------------------------------------------- */

/* A scan's progress: on while it writes somewhere else than a terminal. */
static struct {
	bool on;
	const struct ArrowSchema *schema;
	struct firn_progress p;
} scan_pg;

static void scan_progress(const struct ArrowArray *b)
{
	if (!scan_pg.on)
		return;
	scan_pg.p.rows += b->length;
	scan_pg.p.bytes += firn_arrow_array_bytes(scan_pg.schema, b);
	cli_progress_update(&scan_pg.p);
}

/* Drains st into w (text or Parquet, by which is set). */
static int drain(struct ArrowArrayStream *st, struct firn_text_writer *tw, struct firn_parquet_writer *pw,
		 struct firn_error *err)
{
	for (;;) {
		struct ArrowArray b;
		if (st->get_next(st, &b) != 0) {
			const char *m = st->get_last_error(st);
			return cli_failf("%s", m ? m : "read failed");
		}
		if (!b.release)
			return 0;
		scan_progress(&b);
		int wr = tw ? firn_text_writer_write(tw, &b, err) : firn_parquet_writer_write(pw, &b, err);
		b.release(&b);
		if (wr != 0)
			return cli_fail(err);
	}
}

/* --format of scan: the text forms, Parquet, or the Arrow IPC stream */
enum { SCAN_TABLE, SCAN_CSV, SCAN_JSONL, SCAN_PARQUET, SCAN_ARROW };

static int ipc_write(void *arg, const void *p, size_t n)
{
	return fwrite(p, 1, n, (FILE *)arg) == n ? 0 : -1;
}

/* Drains st into an Arrow IPC stream on f. */
static int write_ipc(struct ArrowSchema *schema, struct ArrowArrayStream *st, FILE *f, struct firn_error *err)
{
	struct firn_ipc_writer *w = NULL;
	if (firn_ipc_writer_open(&w, schema, ipc_write, f, err) != 0)
		return cli_fail(err);
	int rc = 0;
	for (;;) {
		struct ArrowArray b;
		if (st->get_next(st, &b) != 0) {
			const char *m = st->get_last_error(st);
			rc = cli_failf("%s", m ? m : "read failed");
			break;
		}
		if (!b.release)
			break;
		scan_progress(&b);
		int wr = firn_ipc_writer_write(w, &b, err);
		b.release(&b);
		if (wr != 0) {
			rc = cli_fail(err);
			break;
		}
	}
	if (rc == 0 && firn_ipc_writer_close(w, err) != 0)
		rc = cli_fail(err);
	firn_ipc_writer_free(w);
	return rc;
}

static int write_scan(struct ArrowSchema *schema, struct ArrowArrayStream *st, int format,
		      const char *output, struct firn_error *err)
{
	static const enum firn_text_format text[] = { FIRN_TEXT_TABLE, FIRN_TEXT_CSV, FIRN_TEXT_JSONL };
	int rc = 0;
	if (format == SCAN_PARQUET) {
		struct firn_parquet_writer *w = NULL;
		struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
		wo.io_flags = FIRN_IO_REPLACE;
		if (firn_parquet_writer_open(&w, output, schema, &wo, err) != 0)
			return cli_fail(err);
		rc = drain(st, NULL, w, err);
		if (rc == 0 && firn_parquet_writer_close(w, err) != 0)
			rc = cli_fail(err);
		firn_parquet_writer_free(w);
		return rc;
	}
	FILE *f = stdout;
	struct cli_file out = { 0 };
	if (output) {
		if (cli_file_replace(&out, output, err) != 0)
			return cli_fail(err);
		f = out.f;
	}
	struct firn_text_writer *w = NULL;
	if (format == SCAN_ARROW)
		rc = write_ipc(schema, st, f, err);
	else if (firn_text_writer_open(&w, f, text[format], schema, err) != 0)
		rc = cli_fail(err);
	if (rc == 0 && format != SCAN_ARROW)
		rc = drain(st, w, NULL, err);
	if (rc == 0 && w && firn_text_writer_close(w, err) != 0)
		rc = cli_fail(err);
	firn_text_writer_free(w);
	if (output && cli_file_end(&out, rc == 0, err) != 0 && rc == 0)
		rc = cli_fail(err);
	if (f == stdout && fflush(stdout) != 0 && rc == 0)
		rc = cli_failf("standard output: %s", strerror(errno));
	return rc;
}

/* The local files a scan of sel reads: its data and delete files and the
 * metadata file (a scan's --output must be none of them). */
static int scan_inputs(struct firn_table *t, const struct firn_snapshot_sel *sel, char ***out, size_t *n,
		       struct firn_error *err)
{
	struct firn_file_info *files;
	size_t nf;
	*out = NULL;
	*n = 0;
	if (firn_table_files(t, sel, &files, &nf, err) != 0)
		return cli_fail(err);
	char **v = calloc(nf + 2, sizeof(char *));
	if (!v) {
		firn_file_info_free(files, nf);
		return cli_failf("out of memory");
	}
	const char *meta = firn_table_metadata_location(t);
	v[(*n)++] = strdup(meta);
	for (size_t i = 0; i < nf; i++)
		v[(*n)++] = strdup(files[i].path);
	firn_file_info_free(files, nf);
	for (size_t i = 0; i < *n; i++) { /* file:///a and file:/a are /a */
		char *p = v[i];
		if (p && strncmp(p, "file:", 5) == 0) {
			const char *q = p + 5;
			if (strncmp(q, "//", 2) == 0)
				q += 2;
			memmove(p, q, strlen(q) + 1);
		}
	}
	*out = v;
	return 0;
}

/* The rows a scan will write, when the plan says (no filter, no equality
 * deletes); else -1. */
static int64_t scan_total(struct firn_table *t, const struct firn_scan_options *so)
{
	if (!scan_pg.on || (so->where && *so->where))
		return -1;
	struct firn_file_info *v;
	size_t n;
	int64_t sid, total = 0;
	if (firn_table_plan(t, NULL, &so->sel, &sid, &v, &n, NULL) != 0)
		return -1;
	for (size_t i = 0; i < n && total >= 0; i++)
		total = v[i].deleted_records < 0 ? -1 : total + v[i].record_count - v[i].deleted_records;
	firn_file_info_free(v, n);
	if (so->limit >= 0 && total > so->limit)
		total = so->limit;
	return total;
}

static int scan_to(struct firn_table *t, const struct firn_scan_options *so, int format, const char *output,
		   struct firn_error *err)
{
	char **inputs = NULL;
	size_t n_in = 0;
	int rc = 0;
	struct firn_io_entry e;
	/* an output that does not exist yet cannot be an input: no listing */
	if (output && firn_io_stat(output, &e, NULL) == 0) {
		rc = scan_inputs(t, &so->sel, &inputs, &n_in, err);
		if (rc == 0)
			rc = cli_not_an_input(output, (const char *const *)inputs, n_in);
		for (size_t i = 0; i < n_in; i++)
			free(inputs[i]);
		free(inputs);
		if (rc != 0)
			return rc;
	}
	struct ArrowSchema schema;
	struct ArrowArrayStream st;
	scan_pg.on = cli_progress_enabled() &&
		     ((output && strcmp(output, "/dev/stdout") != 0) || !isatty(STDOUT_FILENO));
	scan_pg.schema = &schema;
	scan_pg.p = (struct firn_progress){ "scan", 0, -1, 0, scan_total(t, so), 0, -1 };
	if (firn_table_scan(t, so, &schema, &st, err) != 0) {
		rc = cli_fail(err);
	} else {
		rc = write_scan(&schema, &st, format, output, err);
		st.release(&st);
		schema.release(&schema);
	}
	return rc;
}

static int do_scan(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "columns", true }, { "where", true }, { "limit", true },
			       { "snapshot", true }, { "as-of", true }, { "ref", true },
			       { "format", true }, { "output", true } };
	static const char *const formats[] = { "table", "csv", "jsonl", "parquet", "arrow", NULL }; /* SCAN_* */
	const char *pos[1];
	int np, k = 0;
	struct firn_scan_options so = FIRN_SCAN_OPTIONS_INIT;
	so.limit = -1;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	FIRN_TRY(selection(o, N(o), &so.sel));
	FIRN_TRY(cli_opt_int(o, N(o), "limit", 0, INT64_MAX, &so.limit));
	FIRN_TRY(cli_opt_enum(o, N(o), "format", formats, &k));
	const char *output = cli_get(o, N(o), "output");
	if (np != 1)
		return cli_usage("scan needs a TABLE");
	if (output && !*output)
		return cli_usage("--output needs a file name");
	if (output && strcmp(output, "-") == 0)
		output = NULL;
	if (k == SCAN_PARQUET && !output) /* a stream on standard output: no rename, no fsync */
		output = "/dev/stdout";
	so.columns = cli_get(o, N(o), "columns");
	so.where = cli_get(o, N(o), "where");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	int rc = scan_to(t, &so, k, output, err);
	firn_table_free(t);
	return rc;
}

static int do_count(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "where", true }, { "snapshot", true }, { "as-of", true }, { "ref", true },
			       { "json", false } };
	const char *pos[1];
	int np;
	struct firn_snapshot_sel sel;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	FIRN_TRY(selection(o, N(o), &sel));
	if (np != 1)
		return cli_usage("count needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	int64_t n;
	int rc = 0;
	if (firn_table_count(t, cli_get(o, N(o), "where"), &sel, &n, err) != 0)
		rc = cli_fail(err);
	else if (cli_get(o, N(o), "json"))
		rc = print_json_line(json_pack("{s:s, s:I}", "table", pos[0], "count", (json_int_t)n));
	else
		printf("%lld\n", (long long)n);
	firn_table_free(t);
	return rc;
}

/* ---- maintenance ------------------------------------------------------- */

static int do_remove_orphans(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "older-than", true }, { "dry-run", false }, { "json", false },
			       { "force", false } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	FIRN_TRY(cli_opt_time(o, N(o), "older-than"));
	if (np != 1)
		return cli_usage("remove-orphans needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	bool dry = cli_get(o, N(o), "dry-run") != NULL;
	struct firn_orphan_info oi = { 0 };
	oi.force = cli_get(o, N(o), "force") != NULL;
	if (!cli_get(o, N(o), "json")) {
		oi.report = print_path;
		oi.report_arg = (void *)(dry ? "would delete " : "deleted ");
	}
	int rc = 0;
	if (firn_table_remove_orphans(t, cli_get(o, N(o), "older-than"), dry, &oi, err) != 0)
		rc = cli_fail(err);
	else if (cli_get(o, N(o), "json"))
		printf("{\"orphans\": %lld, \"bytes\": %lld, \"kept-too-young\": %lld, "
		       "\"aborted-uploads\": %lld, \"dry-run\": %s}\n",
		       (long long)oi.files, (long long)oi.bytes, (long long)oi.too_young,
		       (long long)oi.uploads, dry ? "true" : "false");
	else {
		printf("%s%lld orphan files (%lld bytes)%s", dry ? "dry run: " : "", (long long)oi.files,
		       (long long)oi.bytes, dry ? " would be deleted" : " deleted");
		if (oi.uploads)
			printf(", %lld incomplete uploads%s", (long long)oi.uploads,
			       dry ? " would be aborted" : " aborted");
		printf("; %lld unreferenced files are too young to remove\n", (long long)oi.too_young);
	}
	firn_table_free(t);
	return rc;
}

static int do_rewrite_manifests(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, NULL, 0, pos, 1, &np));
	if (np != 1)
		return cli_usage("rewrite-manifests needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	int64_t before, after;
	int rc = 0;
	if (firn_table_rewrite_manifests(t, &before, &after, err) != 0)
		rc = cli_fail(err);
	else
		printf("rewrote manifests: %lld before, %lld after\n", (long long)before, (long long)after);
	firn_table_free(t);
	return rc;
}

/* A duration in the largest whole unit: "5 days", "36 hours", "90 seconds". */
static void duration(char *buf, size_t n, int64_t ms)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{ 86400000, "day" }, { 3600000, "hour" }, { 60000, "minute" }, { 1000, "second" } };
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms >= units[i].ms && ms % units[i].ms == 0) {
			long long v = ms / units[i].ms;
			snprintf(buf, n, "%lld %s%s", v, units[i].unit, v == 1 ? "" : "s");
			return;
		}
	snprintf(buf, n, "%lld ms", (long long)ms);
}

/* Why expire kept what it kept, as lines of text. */
static void print_kept(const struct firn_expire_info *ei, const char *indent)
{
	char age[48];
	printf("%skept %lld snapshots\n", indent, (long long)ei->snapshots_kept);
	if (ei->kept_by_ref)
		printf("%s  %lld that a branch or tag points to\n", indent, (long long)ei->kept_by_ref);
	if (ei->kept_by_age && ei->age_given) {
		json_t *t = iso_ms(ei->cutoff_ms);
		printf("%s  %lld from %s on (--older-than)\n", indent, (long long)ei->kept_by_age, json_string_value(t));
		json_decref(t);
	} else if (ei->kept_by_age) {
		duration(age, sizeof(age), ei->max_age_ms);
		printf("%s  %lld younger than %s (history.expire.max-snapshot-age-ms)\n", indent,
		       (long long)ei->kept_by_age, age);
	}
	if (ei->kept_by_count)
		printf("%s  %lld older, kept as the last %lld of their branch (%s)\n", indent,
		       (long long)ei->kept_by_count, (long long)ei->min_keep,
		       ei->count_given ? "--retain-last" : "history.expire.min-snapshots-to-keep");
}

static json_t *kept_json(const struct firn_expire_info *ei)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:s, s:s}", "snapshots-kept",
			 (json_int_t)ei->snapshots_kept, "kept-by-ref", (json_int_t)ei->kept_by_ref,
			 "kept-by-age", (json_int_t)ei->kept_by_age, "kept-by-count", (json_int_t)ei->kept_by_count,
			 "cutoff", iso_ms(ei->cutoff_ms), "max-snapshot-age-ms",
			 ei->max_age_ms >= 0 ? json_integer(ei->max_age_ms) : json_null(), "min-snapshots-to-keep",
			 (json_int_t)ei->min_keep, "age-rule",
			 ei->age_given ? "--older-than" : "history.expire.max-snapshot-age-ms", "count-rule",
			 ei->count_given ? "--retain-last" : "history.expire.min-snapshots-to-keep");
}

/* The live data and delete files of the current snapshot (-1: none known). */
static void file_counts(struct firn_table *t, int64_t *data, int64_t *deletes)
{
	struct firn_table_description d;
	*data = *deletes = -1;
	if (firn_table_describe(t, &d, NULL) == 0) {
		*data = d.has_current_snapshot ? d.total_data_files : 0;
		*deletes = !d.has_current_snapshot ? 0 : d.has_deleted_records ? d.total_delete_files : -1;
	}
	firn_table_description_free(&d);
}

static int do_maintain(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "json", false }, { "dry-run", false } };
	const char *pos[1];
	int np;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	if (np != 1)
		return cli_usage("maintain needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	struct firn_maintain_options mo = FIRN_MAINTAIN_OPTIONS_INIT;
	mo.dry_run = cli_get(o, N(o), "dry-run") != NULL;
	struct firn_maintain_info mi;
	const struct firn_delete_info *di = &mi.compact;
	const struct firn_expire_info *ei = &mi.expire;
	const struct firn_orphan_info *oi = &mi.orphans;
	int64_t data0, del0, data1, del1;
	file_counts(t, &data0, &del0);
	int rc = 0;
	int r = firn_table_maintain(t, &mo, &mi, err);
	cli_progress_end(); /* before the summary */
	struct firn_table *now = NULL; /* the version maintain left */
	data1 = data0;
	del1 = del0;
	if (r == 0 && !mo.dry_run && firn_table_load(c, pos[0], &now, NULL) == 0)
		file_counts(now, &data1, &del1);
	firn_table_free(now);
	bool dry = mo.dry_run;
	if (r != 0) {
		rc = cli_fail(err);
	} else if (cli_get(o, N(o), "json")) {
		json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "compacted-files", (json_int_t)di->files_rewritten,
				      "compaction-snapshot-id", (json_int_t)di->snapshot_id, "snapshots-expired",
				      (json_int_t)ei->snapshots_expired, "files-expired", (json_int_t)ei->files_deleted,
				      "orphans-removed", (json_int_t)oi->files, "dry-run", dry);
		json_object_set_new(j, "compaction-files", json_integer(mi.compact_files));
		json_object_set_new(j, "bytes-rewritten", json_integer(mi.compact_bytes));
		json_object_set_new(j, "files-over-policy", json_integer(mi.files_over_policy));
		json_object_set_new(j, "files-with-deletes-spared", json_integer(mi.files_with_deletes_spared));
		json_object_set_new(j, "data-files-before", data0 >= 0 ? json_integer(data0) : json_null());
		json_object_set_new(j, "delete-files-before", del0 >= 0 ? json_integer(del0) : json_null());
		json_object_set_new(j, "data-files-after", !dry && data1 >= 0 ? json_integer(data1) : json_null());
		json_object_set_new(j, "delete-files-after", !dry && del1 >= 0 ? json_integer(del1) : json_null());
		json_object_set_new(j, "expire", kept_json(ei));
		json_object_set_new(j, "orphans-too-young", json_integer(oi->too_young));
		json_object_set_new(j, "orphan-bytes", json_integer(oi->bytes));
		rc = print_json_line(j);
	} else {
		const char *would = dry ? "would be " : "";
		printf("maintain %s%s:\n", pos[0], dry ? " (dry run: nothing changed)" : "");
		if (mi.compact_files == 0)
			printf("  compaction: nothing to do (%lld data files over the delete policy, %lld with "
			       "deletes under it, no partition with two or more small files)\n",
			       (long long)mi.files_over_policy, (long long)mi.files_with_deletes_spared);
		else
			printf("  compaction: %lld data files (%lld bytes) %srewritten: %lld over the delete policy "
			       "(firn.compact.delete-ratio, firn.compact.max-delete-files), the rest small files "
			       "bin-packed (write.target-file-size-bytes)\n",
			       (long long)mi.compact_files, (long long)mi.compact_bytes, would,
			       (long long)mi.files_over_policy);
		if (dry)
			printf("  files: %lld data files, %lld delete files now\n", (long long)data0, (long long)del0);
		else
			printf("  files: %lld data files and %lld delete files before, %lld and %lld after\n",
			       (long long)data0, (long long)del0, (long long)data1, (long long)del1);
		printf("  expire: %lld snapshots %sexpired, %lld files %sdeleted\n", (long long)ei->snapshots_expired,
		       would, (long long)ei->files_deleted, would);
		print_kept(ei, "    ");
		printf("  orphans: %lld files (%lld bytes) %sremoved (%lld too young to touch: the 3-day "
		       "safety window)\n", (long long)oi->files, (long long)oi->bytes, would,
		       (long long)oi->too_young);
	}
	firn_table_free(t);
	return rc;
}

static int do_compact(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "where", true }, { "target-file-size", true }, { "json", false } };
	const char *pos[1];
	int np;
	int64_t target = 0;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	FIRN_TRY(cli_opt_size(o, N(o), "target-file-size", 1, &target));
	if (np != 1)
		return cli_usage("compact needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	struct firn_delete_info di;
	int rc = 0;
	int r = firn_table_compact(t, cli_get(o, N(o), "where"), target, &di, err);
	cli_progress_end(); /* before the summary */
	if (r != 0)
		rc = cli_fail(err);
	else if (cli_get(o, N(o), "json"))
		printf("{\"snapshot-id\": %lld, \"files-rewritten\": %lld}\n", (long long)di.snapshot_id,
		       (long long)di.files_rewritten);
	else if (di.snapshot_id == 0)
		printf("nothing to compact\n");
	else
		printf("compacted %lld files: snapshot %lld\n", (long long)di.files_rewritten,
		       (long long)di.snapshot_id);
	firn_table_free(t);
	return rc;
}

static int do_expire(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "older-than", true }, { "retain-last", true }, { "dry-run", false },
			       { "json", false } };
	const char *pos[1];
	int np;
	int64_t retain = 0;
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	FIRN_TRY(cli_opt_int(o, N(o), "retain-last", 1, INT64_MAX, &retain));
	FIRN_TRY(cli_opt_time(o, N(o), "older-than"));
	if (np != 1)
		return cli_usage("expire needs a TABLE");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	bool dry = cli_get(o, N(o), "dry-run") != NULL;
	struct firn_expire_info ei = { 0 };
	if (!cli_get(o, N(o), "json")) {
		ei.report = print_path;
		ei.report_arg = (void *)(dry ? "would delete " : "deleted ");
	}
	int rc = 0;
	int r = firn_table_expire(t, cli_get(o, N(o), "older-than"), retain, dry, &ei, err);
	cli_progress_end(); /* before the summary */
	if (r != 0)
		rc = cli_fail(err);
	else if (cli_get(o, N(o), "json")) {
		json_t *j = kept_json(&ei);
		json_object_set_new(j, "snapshots-expired", json_integer(ei.snapshots_expired));
		json_object_set_new(j, "files-deleted", json_integer(ei.files_deleted));
		json_object_set_new(j, "dry-run", json_boolean(dry));
		rc = print_json_line(j);
	} else {
		printf("%s%lld snapshots expired, %lld files deleted\n", dry ? "dry run: " : "",
		       (long long)ei.snapshots_expired, (long long)ei.files_deleted);
		print_kept(&ei, "");
	}
	firn_table_free(t);
	return rc;
}

/* ---- refs, rollback, alter -------------------------------------------- */

/* What a ref command did, as text or as one JSON object: {"ref", "type",
 * "action" (created, moved, unchanged, dropped, fast-forwarded),
 * "snapshot-id" (null when dropped), "previous-snapshot-id" (null when
 * created)}. */
static void print_ref(const char *kind, const char *name, const char *action,
		      const struct firn_ref_change *rc, const char *to, bool as_json)
{
	bool dropped = strcmp(action, "dropped") == 0;
	if (as_json) {
		json_t *o = json_object();
		json_object_set_new(o, "ref", json_string(name));
		json_object_set_new(o, "type", json_string(kind));
		json_object_set_new(o, "action", json_string(action));
		json_object_set_new(o, "snapshot-id", dropped ? json_null() : json_integer(rc->snapshot_id));
		json_object_set_new(o, "previous-snapshot-id",
				    rc->existed ? json_integer(rc->previous_id) : json_null());
		if (to)
			json_object_set_new(o, "to", json_string(to));
		char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", text ? text : "{}");
		firn_free(text);
		json_decref(o);
		return;
	}
	long long id = (long long)rc->snapshot_id, prev = (long long)rc->previous_id;
	if (dropped)
		printf("%s %s dropped (it pointed at snapshot %lld)\n", kind, name, prev);
	else if (strcmp(action, "unchanged") == 0)
		printf("%s %s is already at snapshot %lld%s%s: nothing changed\n", kind, name, id,
		       to ? ", the head of " : "", to ? to : "");
	else if (strcmp(action, "created") == 0)
		printf("%s %s created at snapshot %lld\n", kind, name, id);
	else if (to)
		printf("%s %s fast-forwarded from snapshot %lld to %lld, the head of %s\n", kind, name, prev, id, to);
	else
		printf("%s %s moved from snapshot %lld to %lld\n", kind, name, prev, id);
}

/* tag|branch TABLE NAME: create, move (--force when it is not a forward
 * move), --drop, and for branches --fast-forward TO. */
static int set_ref(const char *cmd, struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	bool tag = cmd[0] == 't';
	struct cli_opt o[] = { { "snapshot", true }, { "force", false }, { "drop", false }, { "json", false },
			       { "fast-forward", true } };
	int no = tag ? N(o) - 1 : N(o); /* a tag does not fast-forward */
	const char *pos[2];
	int np;
	struct firn_ref_options ro = FIRN_REF_OPTIONS_INIT;
	ro.tag = tag;
	FIRN_TRY(cli_parse(argc, argv, o, no, pos, 2, &np));
	FIRN_TRY(cli_opt_int(o, no, "snapshot", 0, INT64_MAX, &ro.snapshot_id));
	ro.has_snapshot_id = cli_get(o, no, "snapshot") != NULL;
	ro.force = cli_get(o, no, "force") != NULL;
	bool drop = cli_get(o, no, "drop") != NULL;
	const char *ff = tag ? NULL : cli_get(o, no, "fast-forward");
	if (np != 2)
		return cli_usage("%s needs TABLE and NAME", cmd);
	if (!*pos[1])
		return cli_usage("the %s name is empty", cmd);
	if (drop && (ro.has_snapshot_id || ro.force || ff))
		return cli_usage("--drop takes no --snapshot, --force or --fast-forward");
	if (ff && !*ff)
		return cli_usage("--fast-forward needs the branch or tag to move to");
	if (ff && (ro.has_snapshot_id || ro.force))
		return cli_usage("--fast-forward takes no --snapshot or --force");
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	struct firn_ref_change info;
	int rc = drop ? firn_table_drop_ref(t, pos[1], tag, &info, err)
		 : ff ? firn_table_fast_forward(t, pos[1], ff, &info, err)
		      : firn_table_set_ref_with(t, pos[1], &ro, &info, err);
	if (rc != 0) {
		rc = cli_fail(err);
	} else {
		const char *action = drop ? "dropped" : !info.changed ? "unchanged" : !info.existed ? "created"
				   : ff ? "fast-forwarded" : "moved";
		print_ref(cmd, pos[1], action, &info, ff, cli_get(o, no, "json") != NULL);
	}
	firn_table_free(t);
	return rc;
}

/* Whether s reads as a snapshot id (an optional '-' and digits). */
static bool looks_like_id(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* rollback TABLE --to SNAPSHOT_ID|REF: a number is a snapshot id (and a
 * ref name when no snapshot has it), anything else a branch or tag. */
static int do_rollback(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	struct cli_opt o[] = { { "to", true }, { "json", false } };
	const char *pos[1];
	int np;
	struct firn_snapshot_sel sel = { 0 };
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 1, &np));
	const char *to = cli_get(o, N(o), "to");
	if (np != 1 || !to)
		return cli_usage("rollback needs TABLE and --to SNAPSHOT_ID or --to REF");
	if (!*to)
		return cli_usage("--to needs a snapshot id, a branch or a tag");
	bool numeric = looks_like_id(to);
	if (numeric)
		FIRN_TRY(cli_opt_int(o, N(o), "to", INT64_MIN, INT64_MAX, &sel.snapshot_id));
	sel.has_snapshot_id = numeric;
	sel.ref = numeric ? NULL : to;
	struct firn_table *t = NULL;
	FIRN_TRY(load(c, pos[0], &t, err));
	struct firn_ref_change info;
	int rc = firn_table_rollback_to(t, &sel, &info, err);
	if (rc == FIRN_ENOTFOUND && numeric) { /* a ref named like a number */
		struct firn_snapshot_sel by_ref = { .ref = to };
		struct firn_error e2 = { 0 };
		rc = firn_table_rollback_to(t, &by_ref, &info, &e2);
		if (rc != FIRN_ENOTFOUND && err)
			*err = e2;
	}
	if (rc != 0) {
		rc = cli_fail(err);
	} else if (cli_get(o, N(o), "json")) {
		printf("{\"snapshot-id\": %lld, \"previous-snapshot-id\": %lld, \"changed\": %s}\n",
		       (long long)info.snapshot_id, (long long)info.previous_id, info.changed ? "true" : "false");
	} else if (!info.changed) {
		printf("snapshot %lld is already the current one: nothing changed\n", (long long)info.snapshot_id);
	} else {
		printf("rolled back to %lld\n", (long long)info.snapshot_id);
	}
	firn_table_free(t);
	return rc;
}

/* add-column 'NAME TYPE [not null]' (NAME up to the first space). */
static int alter_add(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	(void)b;
	const char *sp = strchr(a, ' ');
	char *name = sp ? strndup(a, (size_t)(sp - a)) : strdup(a);
	char *type = strdup(sp ? sp + 1 : "");
	if (!name || !type) {
		free(name);
		free(type);
		return cli_failf("out of memory");
	}
	/* a trailing "not null" asks for a required column */
	size_t n = strlen(type);
	while (n > 0 && type[n - 1] == ' ')
		n--;
	bool required = n >= 8 && strncasecmp(type + n - 8, "not null", 8) == 0 &&
			(n == 8 || type[n - 9] == ' ' || type[n - 9] == '>' || type[n - 9] == ')');
	if (required)
		n -= 8;
	type[n] = 0;
	int rc = firn_table_add_column(t, name, type, required, NULL, err);
	free(name);
	free(type);
	return rc;
}

static int alter_drop(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	(void)b;
	return firn_table_drop_column(t, a, err);
}

static int alter_rename(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	return firn_table_rename_column(t, a, b, err);
}

/* alter-column NAME TYPE | alter-column NAME optional */
static int alter_column(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	if (b && strcasecmp(b, "optional") == 0)
		return firn_table_make_column_optional(t, a, err);
	return firn_table_update_column_type(t, a, b, err);
}

static int alter_set(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	return firn_table_set_properties(t, &a, &b, 1, err);
}

static int alter_unset(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	(void)b;
	return firn_table_remove_properties(t, &a, 1, err);
}

static int alter_partition(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	(void)b;
	return firn_table_set_partition_spec(t, a, err);
}

static int alter_sort(struct firn_table *t, const char *a, const char *b, struct firn_error *err)
{
	(void)b;
	return firn_table_set_sort_order(t, a, err);
}

static const struct {
	const char *name;
	int (*run)(struct firn_table *t, const char *a, const char *b, struct firn_error *err);
} alter_changes[] = {
	{ "add-column", alter_add }, { "drop-column", alter_drop }, { "rename-column", alter_rename },
	{ "alter-column", alter_column }, { "set-property", alter_set }, { "unset-property", alter_unset },
	{ "partition-by", alter_partition }, { "sort-by", alter_sort },
};

static int do_alter(struct firn_catalog *c, int argc, char **argv, struct firn_error *err)
{
	const char *pos[4];
	int np;
	struct cli_opt o[] = { { "json", false } };
	FIRN_TRY(cli_parse(argc, argv, o, N(o), pos, 4, &np));
	if (np < 3)
		return cli_usage("alter needs TABLE, a change and its arguments");
	const char *what = pos[1], *a = pos[2], *b = np > 3 ? pos[3] : NULL;
	int k = -1;
	for (int i = 0; i < N(alter_changes); i++)
		if (strcmp(what, alter_changes[i].name) == 0)
			k = i;
	if (k < 0)
		return cli_usage("'%s' is not a change alter makes", what);
	char *key = NULL, *val = NULL;
	if (strcmp(what, "set-property") == 0 && !b) {
		if (split_kv(a, &key, &val) != 0) {
			free(key);
			free(val);
			return cli_usage("set-property needs KEY=VALUE (or KEY VALUE) with a key, not '%s'", a);
		}
		a = key;
		b = val;
	}
	int rc = 0;
	struct firn_table *t = NULL;
	if (strncmp(what, "partition-by", 12) != 0 && strncmp(what, "sort-by", 7) != 0 && !*a)
		rc = cli_usage("%s needs a non-empty name", what);
	else if ((rc = load(c, pos[0], &t, err)) == 0 && alter_changes[k].run(t, a, b, err) != 0)
		rc = cli_fail(err);
	else if (rc == 0 && cli_get(o, N(o), "json"))
		rc = print_json_line(json_pack("{s:s, s:s, s:s}", "table", pos[0], "change", what,
					       "metadata-location", firn_table_metadata_location(t)));
	else if (rc == 0)
		printf("altered %s: %s\n", pos[0], what);
	firn_table_free(t);
	free(key);
	free(val);
	return rc;
}

/* ---- the table of commands --------------------------------------------- */

enum { BY_VERB = -1 };

struct table_cmd {
	const char *name;
	int mode; /* enum firn_catalog_mode, or BY_VERB */
	const char *usage;
	int (*run)(struct firn_catalog *c, int argc, char **argv, struct firn_error *err);
	/* or, for commands that share one function, that function and the name */
	int (*run_named)(const char *cmd, struct firn_catalog *c, int argc, char **argv,
			 struct firn_error *err);
};

#define SEL "[--snapshot ID | --as-of TIME | --ref NAME]"
#define MODE "[--mode auto|merge-on-read|copy-on-write]"
#define FMT "[--format csv|jsonl|parquet]"
#define BR "[--branch NAME]"

static const struct table_cmd cmds[] = {
	{ "namespace", BY_VERB, "namespace create|list|drop|describe NS [--property K=V]... [--json]", do_namespace },
	{ "create", FIRN_CATALOG_CREATE, "create TABLE --schema SPEC [--partition-by SPEC] [--sort-by SPEC] "
					 "[--property K=V]... [--format-version 2|3] [--location DIR] [--like FILE] [--json]", do_create },
	{ "tables", FIRN_CATALOG_READ, "tables [NS] [--json]", do_tables },
	{ "describe", FIRN_CATALOG_READ, "describe TABLE [--json]", NULL, do_info },
	{ "snapshots", FIRN_CATALOG_READ, "snapshots TABLE [--json]", NULL, do_info },
	{ "history", FIRN_CATALOG_READ, "history TABLE [--json]", NULL, do_info },
	{ "files", FIRN_CATALOG_READ, "files TABLE [--json] " SEL, do_files },
	{ "location", FIRN_CATALOG_READ, "location TABLE [--json]", do_location },
	{ "drop", FIRN_CATALOG_WRITE, "drop TABLE [--purge]", do_drop },
	{ "rename", FIRN_CATALOG_WRITE, "rename FROM TO", do_rename },
	{ "register", FIRN_CATALOG_CREATE, "register TABLE METADATA_FILE", do_register },
	{ "append", FIRN_CATALOG_WRITE, "append TABLE FILE... " FMT " [--truncate-timestamps] " BR " [--json]", do_append },
	{ "scan", FIRN_CATALOG_READ, "scan TABLE [--columns A,B] [--where EXPR] [--limit N] " SEL
				     " [--format table|csv|jsonl|parquet|arrow] [--output FILE]", do_scan },
	{ "count", FIRN_CATALOG_READ, "count TABLE [--where EXPR] " SEL " [--json]", do_count },
	{ "delete", FIRN_CATALOG_WRITE, "delete TABLE --where EXPR " MODE " " BR " [--json]", do_delete },
	{ "update", FIRN_CATALOG_WRITE, "update TABLE --set 'COL = EXPR, ...' --where EXPR " MODE " " BR " [--json]", NULL, do_change },
	{ "merge", FIRN_CATALOG_WRITE, "merge TABLE FILE... --on KEY[,KEY] " MODE " " FMT " [--truncate-timestamps] " BR " [--json]", NULL, do_change },
	{ "overwrite", FIRN_CATALOG_WRITE, "overwrite TABLE FILE... [--where EXPR] " FMT " [--truncate-timestamps] " BR " [--json]", NULL, do_change },
	{ "remove-orphans", FIRN_CATALOG_WRITE, "remove-orphans TABLE [--older-than TIME] [--dry-run] [--force] [--json]",
	  do_remove_orphans },
	{ "rewrite-manifests", FIRN_CATALOG_WRITE, "rewrite-manifests TABLE", do_rewrite_manifests },
	{ "maintain", FIRN_CATALOG_WRITE, "maintain TABLE [--dry-run] [--json]", do_maintain },
	{ "compact", FIRN_CATALOG_WRITE, "compact TABLE [--where EXPR] [--target-file-size BYTES] [--json]", do_compact },
	{ "expire", FIRN_CATALOG_WRITE, "expire TABLE [--older-than TIME] [--retain-last N] [--dry-run] [--json]",
	  do_expire },
	{ "tag", FIRN_CATALOG_WRITE, "tag TABLE NAME [--snapshot ID] [--force] [--drop] [--json]", NULL, set_ref },
	{ "branch", FIRN_CATALOG_WRITE, "branch TABLE NAME [--snapshot ID] [--force] [--drop] [--fast-forward TO] "
					"[--json]", NULL, set_ref },
	{ "rollback", FIRN_CATALOG_WRITE, "rollback TABLE --to SNAPSHOT_ID|REF [--json]", do_rollback },
	{ "alter", FIRN_CATALOG_WRITE, "alter TABLE add-column 'NAME TYPE' | drop-column NAME | rename-column NAME NEW "
				       "| alter-column NAME TYPE|optional | set-property K=V | unset-property K "
				       "| partition-by SPEC | sort-by SPEC [--json]", do_alter },
};

/* How cmd opens the catalog: namespace by its verb; a dry run only reads. */
static int mode_of(const struct table_cmd *e, int argc, char **argv)
{
	if (e->mode == BY_VERB)
		return strcmp(argv[0], "create") == 0 ? FIRN_CATALOG_CREATE
		       : strcmp(argv[0], "drop") == 0 ? FIRN_CATALOG_WRITE : FIRN_CATALOG_READ;
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--dry-run") == 0)
			return FIRN_CATALOG_READ;
	return e->mode;
}

int cmd_table(const char *cmd, int argc, char **argv)
{
	const struct table_cmd *e = NULL;
	for (int i = 0; i < N(cmds) && !e; i++)
		if (strcmp(cmds[i].name, cmd) == 0)
			e = &cmds[i];
	if (!e)
		return -1;
	cli_set_usage(e->usage);
	if (cli_wants_help(argc, argv)) {
		cli_help(e->usage);
		return EXIT_OK;
	}
	if (e->mode == BY_VERB) {
		static const char *const verbs[] = { "create", "list", "drop", "describe" };
		bool ok = false;
		for (int i = 0; argc > 0 && i < N(verbs); i++)
			ok = ok || strcmp(argv[0], verbs[i]) == 0;
		if (!ok)
			return cli_usage(argc ? "namespace needs create, list, drop or describe, not '%s'"
					      : "namespace needs create, list, drop or describe%s", argc ? argv[0] : "");
	}
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--quiet") == 0) { /* every table command's: no progress */
			cli_progress_quiet();
			memmove(argv + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof(char *));
			argc--;
			i--;
		}
	struct firn_error err = { 0 };
	struct firn_catalog *c = NULL;
	int rc = cli_open_catalog(&c, mode_of(e, argc, argv), &err);
	cli_progress_begin(e->name);
	if (rc == 0)
		rc = e->run ? e->run(c, argc, argv, &err) : e->run_named(e->name, c, argc, argv, &err);
	cli_progress_end();
	firn_catalog_free(c);
	return rc;
}
