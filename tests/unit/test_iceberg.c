/* Iceberg core: schema JSON, metadata views (v1/v2/v3), specs and sort
 * orders from text, manifests and manifest lists round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firn/text.h"
#include "iceberg/ice_manifest.h"
#include "iceberg/ice_meta.h"
#include "io/io_local.h"
#include "t.h"

static const char *V2 =
	"{\"format-version\":2,\"table-uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\","
	"\"location\":\"/tmp/t\",\"last-sequence-number\":34,\"last-updated-ms\":1602638573590,"
	"\"last-column-id\":6,\"current-schema-id\":1,\"schemas\":["
	"{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"x\",\"required\":true,\"type\":\"long\"}]},"
	"{\"type\":\"struct\",\"schema-id\":1,\"identifier-field-ids\":[1],\"fields\":["
	"{\"id\":1,\"name\":\"x\",\"required\":true,\"type\":\"long\"},"
	"{\"id\":2,\"name\":\"d\",\"required\":false,\"type\":\"decimal(9, 2)\"},"
	"{\"id\":3,\"name\":\"l\",\"required\":false,\"type\":{\"type\":\"list\",\"element-id\":4,\"element\":\"string\",\"element-required\":false}},"
	"{\"id\":5,\"name\":\"m\",\"required\":false,\"type\":{\"type\":\"map\",\"key-id\":6,\"key\":\"string\",\"value-id\":7,\"value\":\"fixed[ 4 ]\",\"value-required\":true}}]}],"
	"\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[{\"name\":\"x_bucket\",\"transform\":\"bucket[4]\",\"source-id\":1,\"field-id\":1000}]}],"
	"\"last-partition-id\":1000,\"default-sort-order-id\":3,\"sort-orders\":[{\"order-id\":3,\"fields\":["
	"{\"transform\":\"identity\",\"source-id\":2,\"direction\":\"desc\",\"null-order\":\"nulls-last\"}]}],"
	"\"properties\":{\"commit.retry.num-retries\":\"7\"},\"current-snapshot-id\":3055729675574597004,"
	"\"refs\":{\"main\":{\"snapshot-id\":3055729675574597004,\"type\":\"branch\"},\"t1\":{\"snapshot-id\":3051729675574597004,\"type\":\"tag\"}},"
	"\"snapshots\":[{\"snapshot-id\":3051729675574597004,\"timestamp-ms\":1515100955770,\"sequence-number\":0,"
	"\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"s3://a/b/1.avro\"},"
	"{\"snapshot-id\":3055729675574597004,\"parent-snapshot-id\":3051729675574597004,\"timestamp-ms\":1555100955770,"
	"\"sequence-number\":1,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"s3://a/b/2.avro\",\"schema-id\":1}],"
	"\"snapshot-log\":[{\"snapshot-id\":3051729675574597004,\"timestamp-ms\":1515100955770},"
	"{\"snapshot-id\":3055729675574597004,\"timestamp-ms\":1555100955770}],\"metadata-log\":[]}";

static const char *V1 =
	"{\"format-version\":1,\"location\":\"/tmp/v1\",\"last-updated-ms\":1,\"last-column-id\":2,"
	"\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"},"
	"{\"id\":2,\"name\":\"b\",\"required\":false,\"type\":\"string\"}]},"
	"\"partition-spec\":[{\"name\":\"b\",\"transform\":\"identity\",\"source-id\":2}],"
	"\"properties\":{},\"current-snapshot-id\":-1,\"snapshots\":[]}";

TEST(metadata_v2)
{
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_parse(V2, strlen(V2), "v2.json", &m, &t_err));
	if (!m)
		return;
	CHECK_EQ_INT(m->format_version, 2);
	CHECK_EQ_INT(m->last_sequence_number, 34);
	CHECK_EQ_INT(m->n_schemas, 2);
	const struct firn_ice_schema *s = firn_ice__meta_current_schema(m);
	CHECK_EQ_INT(s->schema_id, 1);
	CHECK_EQ_INT(s->n_identifier, 1);
	CHECK_EQ_INT(s->arrow.n_children, 4);
	CHECK_EQ_STR(s->arrow.children[1]->format, "d:9,2");
	CHECK_EQ_STR(s->arrow.children[3]->children[0]->children[1]->format, "w:4");
	CHECK_EQ_INT(firn_schema_field_id(s->arrow.children[3]->children[0]->children[1]), 7);
	CHECK(firn_ice__schema_find(&s->arrow, 4, NULL) == s->arrow.children[2]->children[0]);
	CHECK_EQ_INT(m->current_snapshot_id, 3055729675574597004LL);
	const struct firn_ice_snapshot *cur = firn_ice__meta_current(m);
	CHECK(cur && cur->has_parent && cur->parent_id == 3051729675574597004LL);
	CHECK_EQ_STR(cur->operation, "append");
	const struct firn_ice_ref *tag = firn_ice__meta_ref(m, "t1");
	CHECK(tag && tag->tag);
	CHECK_EQ_INT(m->specs[0].fields[0].transform.kind, FIRN_TR_BUCKET);
	CHECK_EQ_INT(m->specs[0].fields[0].transform.param, 4);
	CHECK_EQ_INT(m->orders[0].fields[0].descending, 1);
	CHECK_EQ_INT(m->orders[0].fields[0].nulls_first, 0);
	CHECK_EQ_INT(firn_ice__prop_int(m, "commit.retry.num-retries", 4), 7);
	/* the schema survives JSON → Arrow → JSON */
	json_t *j = firn_ice__schema_to_json(&s->arrow, 1, s->identifier_ids, s->n_identifier);
	struct ArrowSchema back;
	CHECK_OK(firn_ice__schema_from_json(j, "x", &back, NULL, &t_err));
	json_t *j2 = firn_ice__schema_to_json(&back, 1, s->identifier_ids, s->n_identifier);
	CHECK(json_equal(j, j2));
	json_decref(j);
	json_decref(j2);
	back.release(&back);
	/* ids stay exact int64 through dump */
	char *text = firn_ice__meta_dump(m);
	CHECK(text && strstr(text, "3055729675574597004") != NULL);
	firn_free(text);
	firn_ice__meta_free(m);
}

TEST(metadata_v1_and_errors)
{
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_parse(V1, strlen(V1), "v1.json", &m, &t_err));
	if (m) {
		CHECK_EQ_INT(m->format_version, 1);
		CHECK_EQ_INT(m->n_specs, 1);
		CHECK_EQ_INT(m->specs[0].fields[0].field_id, 1000);
		CHECK(!m->has_current_snapshot);
		CHECK_EQ_INT(m->last_partition_id, 1000);
		firn_ice__meta_free(m);
	}
	const char *bad[] = { "{", "[]", "{\"format-version\":9,\"location\":\"x\"}",
			      "{\"format-version\":2,\"location\":\"x\",\"last-column-id\":1}",
			      "{\"format-version\":2,\"location\":\"x\",\"last-column-id\":1,\"current-schema-id\":5,"
			      "\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":[]}]}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct firn_error e = { 0 };
		m = NULL;
		int rc = firn_ice__meta_parse(bad[i], strlen(bad[i]), "bad.json", &m, &e);
		CHECK(rc != 0 && m == NULL);
		CHECK(strstr(e.message, "bad.json") != NULL);
	}
}

/* V2 with one edit: the message names the file and the part. */
static void check_bad_v2(const char *from, const char *to, const char *message)
{
	char *text = firn_strdup(V2), *at = strstr(text, from);
	CHECK(at != NULL);
	if (!at) {
		firn_free(text);
		return;
	}
	struct firn_buf b = { 0 };
	firn_buf_append(&b, text, (size_t)(at - text));
	firn_buf_puts(&b, to);
	firn_buf_puts(&b, at + strlen(from));
	struct firn_ice_meta *m = NULL;
	struct firn_error e = { 0 };
	int rc = firn_ice__meta_parse((const char *)b.data, b.len, "v2.json", &m, &e);
	CHECK(rc != 0 && m == NULL);
	if (strstr(e.message, message) == NULL)
		fprintf(stderr, "got '%s', expected '%s'\n", e.message, message);
	CHECK(strstr(e.message, message) != NULL);
	firn_buf_free(&b);
	firn_free(text);
}

TEST(metadata_checks)
{
	check_bad_v2("{\"id\":2,\"name\":\"d\"", "{\"id\":-1,\"name\":\"d\"",
		     "v2.json: schema 1: field 'd': id -1 is not positive");
	check_bad_v2("\"element-id\":4", "\"element-id\":2", "schema 1: field id 2 is used twice ('d' and 'l.element')");
	check_bad_v2("\"value-id\":7", "\"value-id\":0", "field 'm.value': id 0 is not positive");
	check_bad_v2("\"name\":\"d\"", "\"name\":\"\"", "field id 2 has an empty name");
	check_bad_v2("\"name\":\"d\"", "\"name\":\"m.key\"", "two fields have the full name 'm.key' (ids 2 and 6)");
	check_bad_v2("\"default-spec-id\":0", "\"default-spec-id\":4", "default-spec-id 4 names no partition spec");
	check_bad_v2("\"default-sort-order-id\":3", "\"default-sort-order-id\":4", "default-sort-order-id 4");
	check_bad_v2("\"source-id\":1,\"field-id\":1000", "\"source-id\":9,\"field-id\":1000",
		     "partition spec 0: field 'x_bucket': source-id 9 is not in the current schema");
	check_bad_v2("\"source-id\":2,\"direction\"", "\"source-id\":8,\"direction\"", "sort order 3: source-id 8");
	check_bad_v2("\"t1\":{\"snapshot-id\":3051729675574597004", "\"t1\":{\"snapshot-id\":1",
		     "ref 't1': snapshot 1 does not exist");
	check_bad_v2("\"schema-id\":1}]", "\"schema-id\":5}]", "schema-id 5 names no schema");
}

TEST(property_rules)
{
	struct firn_error e = { 0 };
	CHECK(firn_ice__prop_check("commit.retry.min-wait-ms", "-2", &e) == FIRN_EINVAL);
	CHECK_EQ_STR(e.message, "property commit.retry.min-wait-ms=-2: not an integer from 0 to 2147483647");
	CHECK(firn_ice__prop_check("write.delete.mode", "fast\n", &e) == FIRN_EINVAL);
	CHECK_EQ_STR(e.message, "property write.delete.mode=fast?: not one of copy-on-write/merge-on-read");
	CHECK(firn_ice__prop_check("firn.write.cow-threshold", "nan", NULL) == FIRN_EINVAL);
	CHECK(firn_ice__prop_check("write.target-file-size-bytes", "0", NULL) == FIRN_EINVAL);
	CHECK_OK(firn_ice__prop_check("write.parquet.compression-codec", "ZSTD", &t_err));
	CHECK_OK(firn_ice__prop_check("firn.write.cow-threshold", "0.3", &t_err));
	CHECK_OK(firn_ice__prop_check("anything.else", "-2", &t_err));
	/* a bad value reads as absent: the caller's default */
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_parse(V2, strlen(V2), "v2.json", &m, &t_err));
	if (m) {
		CHECK_EQ_INT(firn_ice__prop_int(m, "commit.retry.num-retries", 4), 7);
		json_object_set_new(json_object_get(m->root, "properties"), "commit.retry.min-wait-ms", json_string("-2"));
		CHECK_EQ_INT(firn_ice__prop_int(m, "commit.retry.min-wait-ms", 100), 100);
		CHECK(firn_ice__props_check(m, &e) == FIRN_EINVAL);
		firn_ice__meta_free(m);
	}
}

TEST(spec_and_order_text)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema("id long, name string, ts timestamptz, d date, loc struct<lat: double>", &s, &t_err));
	int32_t last = 999;
	json_t *spec = NULL;
	CHECK_OK(firn_ice__spec_parse("day(ts), bucket(16, id), truncate(4, name), d, void(id)", &s, 0, NULL, &last, &spec, &t_err));
	CHECK_EQ_INT(last, 1004);
	json_t *f = json_object_get(spec, "fields");
	CHECK_EQ_INT(json_array_size(f), 5);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(f, 0), "name")), "ts_day");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(f, 1), "transform")), "bucket[16]");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(f, 2), "name")), "name_trunc_4");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(f, 3), "source-id")), 4);
	json_decref(spec);
	const char *bad[] = { "hour(d)", "bucket(id)", "nope", "day(ts", "bucket(0, id)", "frob(id)", "loc", "day(ts), day(ts)" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct firn_error e = { 0 };
		last = 999;
		spec = NULL;
		CHECK(firn_ice__spec_parse(bad[i], &s, 0, NULL, &last, &spec, &e) != 0);
		CHECK(strstr(e.message, "partition-by") != NULL);
	}
	json_t *order = NULL;
	CHECK_OK(firn_ice__order_parse("id desc, name asc nulls last, bucket(4, id)", &s, 1, &order, &t_err));
	json_t *of = json_object_get(order, "fields");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(of, 0), "null-order")), "nulls-last");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(of, 1), "null-order")), "nulls-last");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(of, 2), "direction")), "asc");
	json_decref(order);
	struct firn_error e = { 0 };
	CHECK(firn_ice__order_parse("id sideways", &s, 1, &order, &e) != 0);
	s.release(&s);
}

TEST(manifest_round_trip)
{
	char dir[] = "/tmp/firn-test-iceberg-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	const char *meta =
		"{\"format-version\":2,\"table-uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\",\"location\":\"/tmp/t\","
		"\"last-sequence-number\":0,\"last-updated-ms\":1,\"last-column-id\":3,\"current-schema-id\":0,"
		"\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"x\",\"required\":true,\"type\":\"long\"},"
		"{\"id\":2,\"name\":\"s\",\"required\":false,\"type\":\"string\"},{\"id\":3,\"name\":\"d\",\"required\":false,\"type\":\"decimal(20,2)\"}]}],"
		"\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":["
		"{\"name\":\"s\",\"transform\":\"identity\",\"source-id\":2,\"field-id\":1000},"
		"{\"name\":\"d_trunc\",\"transform\":\"truncate[10]\",\"source-id\":3,\"field-id\":1001}]}],"
		"\"last-partition-id\":1001,\"default-sort-order-id\":0,\"sort-orders\":[{\"order-id\":0,\"fields\":[]}],"
		"\"properties\":{},\"current-snapshot-id\":-1,\"snapshots\":[]}";
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_parse(meta, strlen(meta), "m.json", &m, &t_err));
	if (!m)
		return;
	struct firn_arena a = { 0 };
	struct firn_ice_entry e[2];
	memset(e, 0, sizeof(e));
	struct firn_datum p0[2] = { { .null = false }, { .null = true } };
	p0[0].v.bin.p = (const uint8_t *)"oslo";
	p0[0].v.bin.n = 4;
	struct firn_datum p1[2] = { { .null = true }, { .null = false } };
	p1[1].v.dec = -12345;
	struct firn_ice_kv vc[] = { { 1, 10 }, { 2, 10 } };
	uint8_t lo[8] = { 1 }, hi[8] = { 9 };
	struct firn_ice_bound lb[] = { { 1, lo, 8 } }, ub[] = { { 1, hi, 8 } };
	for (int i = 0; i < 2; i++) {
		e[i].status = FIRN_ICE_ADDED;
		e[i].file.path = i ? "/tmp/t/data/b.parquet" : "/tmp/t/data/a.parquet";
		e[i].file.format = "PARQUET";
		e[i].file.partition = i ? p1 : p0;
		e[i].file.n_partition = 2;
		e[i].file.record_count = 10 + i;
		e[i].file.file_size = 1000 + i;
		e[i].file.value_counts = vc;
		e[i].file.n_value_counts = 2;
		e[i].file.lower = lb;
		e[i].file.n_lower = 1;
		e[i].file.upper = ub;
		e[i].file.n_upper = 1;
	}
	char mpath[256], lpath[256];
	snprintf(mpath, sizeof(mpath), "%s/m0.avro", dir);
	snprintf(lpath, sizeof(lpath), "%s/snap.avro", dir);
	struct firn_ice_manifest_file mf;
	CHECK_OK(firn_ice__manifest_write(mpath, m, &m->specs[0], 0, e, 2, 77, &a, &mf, &t_err));
	CHECK_EQ_INT(mf.added_files, 2);
	CHECK_EQ_INT(mf.added_rows, 21);
	CHECK_EQ_INT(mf.n_partitions, 2);
	CHECK(mf.partitions[0].contains_null);
	CHECK(mf.partitions[0].has_lower && mf.partitions[0].lower_n == 4);
	int64_t next = 0;
	CHECK_OK(firn_ice__manifest_list_write(lpath, m, 77, false, 0, 5, &mf, 1, &next, &t_err));
	CHECK_EQ_INT(mf.sequence_number, 5);
	struct firn_ice_manifest_file *back;
	size_t n;
	CHECK_OK(firn_ice__manifest_list_read(lpath, &a, &back, &n, &t_err));
	CHECK_EQ_INT(n, 1);
	if (n == 1) {
		CHECK_EQ_INT(back[0].sequence_number, 5);
		CHECK_EQ_INT(back[0].added_snapshot_id, 77);
		CHECK_EQ_INT(back[0].added_files, 2);
		struct firn_ice_entry *es;
		size_t ne;
		CHECK_OK(firn_ice__manifest_read(&back[0], m, &a, &es, &ne, &t_err));
		CHECK_EQ_INT(ne, 2);
		if (ne == 2) {
			CHECK_EQ_INT(es[0].sequence_number, 5);
			CHECK_EQ_INT(es[0].snapshot_id, 77);
			CHECK_EQ_STR(es[1].file.path, "/tmp/t/data/b.parquet");
			CHECK(!es[0].file.partition[0].null && es[0].file.partition[0].v.bin.n == 4 &&
			      memcmp(es[0].file.partition[0].v.bin.p, "oslo", 4) == 0);
			CHECK(es[1].file.partition[1].v.dec == -12345);
			CHECK(es[0].file.partition[1].null);
			CHECK_EQ_INT(es[1].file.n_value_counts, 2);
			CHECK_EQ_INT(es[1].file.value_counts[1].value, 10);
			CHECK_EQ_INT(es[0].file.lower[0].p[0], 1);
		}
	}
	firn_arena_free(&a);
	firn_ice__meta_free(m);
	unlink(mpath);
	unlink(lpath);
	rmdir(dir);
}

/* m's tree with every snapshot completed from its text (a snapshot read
 * from a file is a stub holding its "snapshot-id" until asked). */
static json_t *completed(struct firn_ice_meta *m)
{
	for (size_t i = 0; i < m->n_snapshots; i++)
		firn_ice__snapshot_json(&m->snapshots[i]);
	return m->root;
}

/* The fast reader builds jansson's tree, the dump writes jansson's compact
 * text, a clone shares history but not edits, and what jansson refuses
 * is still refused with jansson's message. */
static char *with_extra(const char *extra)
{
	struct firn_buf b = { 0 };
	firn_buf_append(&b, V2, strlen(V2) - 1);
	firn_buf_puts(&b, extra);
	firn_buf_puts(&b, "}");
	firn_buf_cstr(&b);
	return (char *)firn_buf_detach(&b, NULL);
}

TEST(metadata_reader_and_dump)
{
	char *text = with_extra(",\"x-odd\":{\"s\":\"a\\\"b\\\\c\\/d\\u00e9\\ud83d\\ude00\\n\\t\\u001f\xc3\xa9\","
				"\"r\":[1.5e3,-0.25,1E-2,0.1],\"i\":[-9223372036854775808,9223372036854775807,-0,0],"
				"\"k\\u00e9y\":[true,false,null,{},[]]},\"x-odd2\" : [ 1 , \"1\" , \"1\" ]");
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_parse(text, strlen(text), "m.json", &m, &t_err));
	json_error_t je;
	json_t *want = json_loads(text, 0, &je);
	char *mine = m ? firn_ice__meta_dump(m) : NULL;
	char *theirs = json_dumps(want, JSON_COMPACT);
	CHECK(mine && theirs);
	if (mine && theirs)
		CHECK_EQ_STR(mine, theirs);
	free(theirs);
	firn_free(mine);

	/* a clone with a snapshot removed and one added: the original keeps
	 * its history, the clone's dump is jansson's of the clone's tree */
	struct firn_ice_meta *c = NULL;
	if (m)
		CHECK_OK(firn_ice__meta_clone(m, &c, &t_err));
	if (c) {
		json_t *snaps = json_object_get(c->root, "snapshots");
		json_t *s = json_deep_copy(firn_ice__snapshot_json(&c->snapshots[1]));
		json_object_set_new(s, "snapshot-id", json_integer(77));
		json_object_set_new(s, "sequence-number", json_integer(35));
		json_array_append_new(snaps, s);
		json_object_set_new(json_object_get(c->root, "refs"), "b",
				    json_pack("{s:I,s:s}", "snapshot-id", (json_int_t)77, "type", "branch"));
		json_object_del(json_object_get(c->root, "refs"), "t1");
		json_array_remove(snaps, 0);
		json_array_remove(json_object_get(c->root, "snapshot-log"), 0);
		CHECK_OK(firn_ice__meta_reparse(c, &t_err));
		CHECK_EQ_INT(c->n_snapshots, 2);
		CHECK_EQ_INT(c->snapshots[0].snapshot_id, 3055729675574597004LL);
		CHECK_EQ_INT(c->snapshots[1].snapshot_id, 77);
		CHECK_EQ_INT(c->snapshots[1].sequence_number, 35);
		CHECK_EQ_STR(c->snapshots[1].operation, "append");
		CHECK(firn_ice__meta_snapshot(c, 77) != NULL);
		CHECK(firn_ice__meta_ref(c, "b") && !firn_ice__meta_ref(c, "t1"));
		CHECK_EQ_INT(m->n_snapshots, 2);
		CHECK_EQ_INT(m->snapshots[0].snapshot_id, 3051729675574597004LL);
		CHECK_EQ_INT(json_array_size(json_object_get(m->root, "snapshot-log")), 2);
		CHECK(json_equal(completed(m), want));
		char *cd = firn_ice__meta_dump(c);
		char *cj = json_dumps(completed(c), JSON_COMPACT);
		CHECK(cd && cj);
		if (cd && cj)
			CHECK_EQ_STR(cd, cj);
		free(cj);
		firn_free(cd);
		firn_ice__meta_free(c);
	}
	firn_ice__meta_free(m);
	json_decref(want);
	firn_free(text);

	/* an indented file: the dump means the same */
	const char *snap = "\"snapshots\":[";
	const char *at = strstr(V2, snap);
	struct firn_buf b = { 0 };
	firn_buf_append(&b, V2, (size_t)(at - V2) + strlen(snap));
	firn_buf_puts(&b, "\n  {\n    \"snapshot-id\" : 5,\n    \"timestamp-ms\" : 1,\n"
			  "    \"summary\" : { \"operation\" : \"append\" } },");
	firn_buf_puts(&b, at + strlen(snap));
	firn_buf_cstr(&b);
	m = NULL;
	CHECK_OK(firn_ice__meta_parse((const char *)b.data, b.len, "m.json", &m, &t_err));
	if (m) {
		CHECK_EQ_INT(m->n_snapshots, 3);
		char *d = firn_ice__meta_dump(m);
		json_t *back = d ? json_loads(d, 0, &je) : NULL;
		CHECK(back && json_equal(back, completed(m)));
		json_decref(back);
		firn_free(d);
		firn_ice__meta_free(m);
	}
	firn_buf_free(&b);

	/* jansson decides: a duplicate key (the last wins), and its errors */
	text = with_extra(",\"properties\":{\"commit.retry.num-retries\":\"9\"}");
	m = NULL;
	CHECK_OK(firn_ice__meta_parse(text, strlen(text), "m.json", &m, &t_err));
	if (m)
		CHECK_EQ_INT(firn_ice__prop_int(m, "commit.retry.num-retries", 4), 9);
	firn_ice__meta_free(m);
	firn_free(text);
	const char *bad[] = { ",\"x\":1e999", ",\"x\":99999999999999999999", ",\"x\":\"\\u0000\"",
			      ",\"x\":\"\\udc00\"", ",\"x\":\"\xc0\xaf\"", ",\"x\":01", ",\"x\":1.",
			      ",\"x\":\"\x01\"", ",\"x\":[1,]", "}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct firn_error e = { 0 };
		text = with_extra(bad[i]);
		m = NULL;
		int rc = firn_ice__meta_parse(text, strlen(text), "m.json", &m, &e);
		CHECK(rc == FIRN_ECORRUPT && m == NULL);
		CHECK(strstr(e.message, "m.json: not valid JSON: ") != NULL);
		firn_free(text);
	}
}

/* A snapshot read from a file holds only its "snapshot-id" (its view has
 * the rest the views need) until firn_ice__snapshot_json completes it from
 * its text, in place and in the text's order, for every metadata sharing
 * it. */
TEST(metadata_lazy_snapshots)
{
	const char *snap = "\"snapshots\":[";
	const char *at = strstr(V2, snap);
	struct firn_buf b = { 0 };
	firn_buf_append(&b, V2, (size_t)(at - V2) + strlen(snap));
	firn_buf_puts(&b, "{\"snapshot-id\":5,\"timestamp-ms\":1,\"summary\":{\"added-records\":\"3\","
			  "\"operation\":\"append\",\"total-records\":\"7\",\"x\":{\"y\":[1,2]}},"
			  "\"manifests\":[\"a\",\"b\"],\"schema-id\":1},");
	firn_buf_puts(&b, at + strlen(snap));
	firn_buf_cstr(&b);
	struct firn_ice_meta *m = NULL, *c = NULL;
	CHECK_OK(firn_ice__meta_parse((const char *)b.data, b.len, "m.json", &m, &t_err));
	if (m)
		CHECK_OK(firn_ice__meta_clone(m, &c, &t_err));
	if (m && c) {
		const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(m, 5);
		CHECK(s != NULL);
		CHECK_EQ_STR(s->operation, "append");
		CHECK_EQ_INT(s->schema_id, 1);
		CHECK_EQ_INT(json_object_size(s->json), 1);
		CHECK(json_object_get(s->json, "summary") == NULL);
		CHECK(json_object_get(s->json, "manifests") == NULL);
		json_t *id = json_object_get(s->json, "snapshot-id");
		json_t *o = firn_ice__snapshot_json(s);
		CHECK(o == s->json && json_object_get(o, "snapshot-id") == id);
		CHECK_EQ_STR(s->operation, "append");
		char *d = json_dumps(o, JSON_COMPACT);
		CHECK(d != NULL);
		if (d)
			CHECK_EQ_STR(d, "{\"snapshot-id\":5,\"timestamp-ms\":1,\"summary\":{\"added-records\":\"3\","
					"\"operation\":\"append\",\"total-records\":\"7\",\"x\":{\"y\":[1,2]}},"
					"\"manifests\":[\"a\",\"b\"],\"schema-id\":1}");
		free(d);
		/* the clone shares the object: complete there too */
		const struct firn_ice_snapshot *cs = firn_ice__meta_snapshot(c, 5);
		CHECK(cs && cs->json == o && json_object_size(json_object_get(cs->json, "summary")) == 4);
		CHECK(cs && firn_ice__snapshot_json(cs) == o);
		json_error_t je;
		json_t *want = json_loadb((const char *)b.data, b.len, 0, &je);
		CHECK(want && json_equal(completed(m), want));
		json_decref(want);
		char *md = firn_ice__meta_dump(c);
		char *cj = json_dumps(c->root, JSON_COMPACT);
		CHECK(md && cj);
		if (md && cj)
			CHECK_EQ_STR(md, cj);
		free(cj);
		firn_free(md);
	}
	firn_ice__meta_free(c);
	firn_ice__meta_free(m);
	firn_buf_free(&b);
}

int main(void)
{
	RUN(metadata_v2);
	RUN(metadata_lazy_snapshots);
	RUN(metadata_v1_and_errors);
	RUN(metadata_checks);
	RUN(metadata_reader_and_dump);
	RUN(property_rules);
	RUN(spec_and_order_text);
	RUN(manifest_round_trip);
	return t_summary();
}
