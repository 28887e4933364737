/* Table updates and requirements: JSON forms, checks, the builder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/table.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "t.h"

static const char *SCHEMA =
	"{\"type\":\"struct\",\"schema-id\":0,\"fields\":["
	"{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
	"{\"id\":2,\"name\":\"s\",\"required\":false,\"type\":\"string\"}]}";

/* A v2 table with two snapshots (1 then 2 on main), a tag t on 1 and
 * statistics for both. */
static const char *BASE =
	"{\"format-version\":2,\"table-uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\","
	"\"location\":\"/tmp/u\",\"last-sequence-number\":2,\"last-updated-ms\":1000,"
	"\"last-column-id\":2,\"current-schema-id\":0,\"schemas\":[%SCHEMA%],"
	"\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
	"\"last-partition-id\":999,\"default-sort-order-id\":0,\"sort-orders\":[{\"order-id\":0,\"fields\":[]}],"
	"\"properties\":{\"a\":\"1\"},\"current-snapshot-id\":2,"
	"\"refs\":{\"main\":{\"snapshot-id\":2,\"type\":\"branch\",\"max-ref-age-ms\":5000},"
	"\"t\":{\"snapshot-id\":1,\"type\":\"tag\"}},"
	"\"snapshots\":[{\"snapshot-id\":1,\"timestamp-ms\":100,\"sequence-number\":1,"
	"\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"/tmp/u/1.avro\",\"schema-id\":0},"
	"{\"snapshot-id\":2,\"parent-snapshot-id\":1,\"timestamp-ms\":200,\"sequence-number\":2,"
	"\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"/tmp/u/2.avro\",\"schema-id\":0}],"
	"\"statistics\":[{\"snapshot-id\":1,\"statistics-path\":\"/tmp/u/s1.puffin\",\"file-size-in-bytes\":10,"
	"\"file-footer-size-in-bytes\":5,\"blob-metadata\":[]}],"
	"\"partition-statistics\":[{\"snapshot-id\":1,\"statistics-path\":\"/tmp/u/p1.parquet\",\"file-size-in-bytes\":9}],"
	"\"snapshot-log\":[{\"snapshot-id\":1,\"timestamp-ms\":100},{\"snapshot-id\":2,\"timestamp-ms\":200}],"
	"\"metadata-log\":[],\"x-unknown\":{\"kept\":true}}";

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fprintf(stderr, "bad test JSON: %s: %s\n", je.text, text);
	return j;
}

static struct firn_ice_meta *base_meta(int fv)
{
	const char *mark = strstr(BASE, "%SCHEMA%");
	char text[8192];
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(mark - BASE), BASE, SCHEMA, mark + 8);
	if (fv != 2) {
		char *p = strstr(text, "\"format-version\":2");
		p[17] = (char)('0' + fv);
	}
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_parse(text, strlen(text), "base", &m, &t_err));
	return m;
}

/* Builds base + updates (stolen); NULL on failure (reported). */
static struct firn_ice_meta *build(const struct firn_ice_meta *base, json_t *updates)
{
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_build(base, base ? "/tmp/u/metadata/00001-x.metadata.json" : NULL,
				      updates, &m, &t_err));
	json_decref(updates);
	return m;
}

static struct firn_ice_meta *build1(const struct firn_ice_meta *base, json_t *u)
{
	json_t *a = json_array();
	json_array_append_new(a, u);
	return build(base, a);
}

/* base + [u] must fail with code and a message containing substr. */
#define FAILS(base, u, code, substr) fails(base, u, code, substr, __LINE__)
static void fails(const struct firn_ice_meta *base, json_t *u, int code, const char *substr,
		  int line)
{
	json_t *a = json_is_array(u) ? u : json_array();
	if (a != u)
		json_array_append_new(a, u);
	struct firn_ice_meta *m = NULL;
	struct firn_error e = { 0 };
	int rc = firn_ice__meta_build(base, NULL, a, &m, &e);
	json_decref(a);
	if (rc != code || !strstr(e.message, substr) || m) {
		t_failed_checks++;
		fprintf(stderr, "%s:%d: expected %d '%s', got %d '%s'\n", __FILE__, line, code, substr,
			rc, e.message);
	}
	firn_ice__meta_free(m);
}

static json_t *G(const struct firn_ice_meta *m, const char *key)
{
	return json_object_get(m->root, key);
}

/* The updates firn_table_create's table is made of. */
static json_t *create_updates(int fv, const char *location)
{
	json_t *u = json_array();
	json_array_append_new(u, firn_ice__upd_assign_uuid("11111111-2222-4333-8444-555555555555"));
	json_array_append_new(u, firn_ice__upd_upgrade_format_version(fv));
	json_t *s = J(SCHEMA);
	json_array_append_new(u, firn_ice__upd_add_schema(s));
	json_decref(s);
	json_array_append_new(u, firn_ice__upd_set_current_schema(-1));
	json_t *spec = J("{\"spec-id\":0,\"fields\":[{\"source-id\":1,\"field-id\":1000,"
			 "\"name\":\"id_bucket_4\",\"transform\":\"bucket[4]\"}]}");
	json_array_append_new(u, firn_ice__upd_add_spec(spec));
	json_decref(spec);
	json_array_append_new(u, firn_ice__upd_set_default_spec(-1));
	json_t *order = J("{\"order-id\":1,\"fields\":[{\"transform\":\"identity\",\"source-id\":1,"
			  "\"direction\":\"asc\",\"null-order\":\"nulls-first\"}]}");
	json_array_append_new(u, firn_ice__upd_add_sort_order(order));
	json_decref(order);
	json_array_append_new(u, firn_ice__upd_set_default_sort_order(-1));
	json_array_append_new(u, firn_ice__upd_set_location(location));
	json_t *props = J("{\"write.parquet.compression-codec\":\"zstd\"}");
	json_array_append_new(u, firn_ice__upd_set_properties(props));
	json_decref(props);
	return u;
}

/* A table made by firn_table_create and one built from NULL: same keys in
 * the same order, same values but for the uuid and the time. */
static void compare_create(int fv)
{
	char dir[] = "/tmp/firn_upd_XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	struct firn_catalog *c = NULL;
	struct firn_table *t = NULL;
	CHECK_OK(firn_catalog_open(&c, NULL, dir, NULL, &t_err));
	CHECK_OK(firn_catalog_namespace_create(c, "db", NULL, NULL, 0, &t_err));
	struct firn_table_create_options o = { .schema = "id long not null, s string",
					       .partition_by = "bucket(4, id)", .sort_by = "id",
					       .format_version = fv };
	CHECK_OK(firn_table_create(c, "db.t", &o, &t, &t_err));
	if (!t) {
		firn_catalog_free(c);
		return;
	}
	struct firn_ice_meta *m = build(NULL, create_updates(fv, t->meta->location));
	if (m) {
		json_t *want = json_deep_copy(t->meta->root), *got = json_deep_copy(m->root);
		const char *k1, *k2;
		void *i1 = json_object_iter(want), *i2 = json_object_iter(got);
		for (; i1 && i2; i1 = json_object_iter_next(want, i1), i2 = json_object_iter_next(got, i2)) {
			k1 = json_object_iter_key(i1);
			k2 = json_object_iter_key(i2);
			CHECK_EQ_STR(k2, k1);
		}
		CHECK(!i1 && !i2);
		CHECK(json_is_string(json_object_get(got, "table-uuid")));
		CHECK(json_integer_value(json_object_get(got, "last-updated-ms")) > 0);
		json_object_del(want, "table-uuid");
		json_object_del(got, "table-uuid");
		json_object_del(want, "last-updated-ms");
		json_object_del(got, "last-updated-ms");
		if (!json_equal(want, got)) {
			char *a = json_dumps(want, JSON_COMPACT), *b = json_dumps(got, JSON_COMPACT);
			fprintf(stderr, "create v%d differs:\n%s\n%s\n", fv, a, b);
			free(a);
			free(b);
			CHECK(0);
		}
		json_decref(want);
		json_decref(got);
		CHECK_EQ_INT(m->format_version, fv);
		CHECK(fv < 3 || json_is_null(G(m, "current-snapshot-id")));
		CHECK(fv >= 3 || json_integer_value(G(m, "current-snapshot-id")) == -1);
		CHECK_EQ_INT(json_array_size(G(m, "metadata-log")), 0);
	}
	firn_ice__meta_free(m);
	firn_table_free(t);
	firn_catalog_free(c);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

TEST(create_matches_table_create)
{
	compare_create(2);
	compare_create(3);
}

TEST(create_defaults_and_errors)
{
	/* the least: a schema and a location; uuid, spec, order by default */
	json_t *u = json_array();
	json_t *s = J(SCHEMA);
	json_array_append_new(u, firn_ice__upd_add_schema(s));
	json_array_append_new(u, firn_ice__upd_set_location("/tmp/new"));
	struct firn_ice_meta *m = build(NULL, u);
	if (m) {
		CHECK_EQ_INT(m->format_version, 2);
		CHECK(m->uuid && strlen(m->uuid) == 36);
		CHECK_EQ_INT(m->n_specs, 1);
		CHECK_EQ_INT(m->specs[0].n_fields, 0);
		CHECK_EQ_INT(m->last_partition_id, 999);
		CHECK_EQ_INT(m->default_sort_order_id, 0);
		CHECK_EQ_INT(m->last_column_id, 2);
		CHECK_EQ_INT(m->last_sequence_number, 0);
		CHECK_EQ_INT(json_object_size(G(m, "refs")), 0);
		CHECK_EQ_INT(json_array_size(G(m, "snapshot-log")), 0);
		CHECK(!G(m, "next-row-id"));
	}
	firn_ice__meta_free(m);
	u = json_array();
	json_array_append_new(u, firn_ice__upd_add_schema(s));
	FAILS(NULL, u, FIRN_EINVAL, "no set-location");
	FAILS(NULL, firn_ice__upd_set_location("/tmp/x"), FIRN_EINVAL, "no add-schema");
	/* v1 at create is allowed (no downgrade from the default) */
	u = json_array();
	json_array_append_new(u, firn_ice__upd_upgrade_format_version(1));
	json_array_append_new(u, firn_ice__upd_add_schema(s));
	json_array_append_new(u, firn_ice__upd_set_location("/tmp/v1"));
	m = build(NULL, u);
	if (m) {
		CHECK_EQ_INT(m->format_version, 1);
		CHECK(json_is_object(G(m, "schema")));
		CHECK(json_is_array(G(m, "partition-spec")));
	}
	firn_ice__meta_free(m);
	json_decref(s);
}

TEST(assign_uuid_and_format_version)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	struct firn_ice_meta *m = build1(b, firn_ice__upd_assign_uuid(b->uuid));
	CHECK(m && strcmp(m->uuid, b->uuid) == 0);
	firn_ice__meta_free(m);
	FAILS(b, firn_ice__upd_assign_uuid("00000000-0000-4000-8000-000000000000"), FIRN_EINVAL,
	      "update 0 (assign-uuid): the table already has uuid");
	m = build1(b, firn_ice__upd_upgrade_format_version(3));
	if (m) {
		CHECK_EQ_INT(m->format_version, 3);
		CHECK_EQ_INT(json_integer_value(G(m, "next-row-id")), 0);
	}
	firn_ice__meta_free(m);
	m = build1(b, firn_ice__upd_upgrade_format_version(2));
	CHECK(m && m->format_version == 2);
	firn_ice__meta_free(m);
	FAILS(b, firn_ice__upd_upgrade_format_version(1), FIRN_EINVAL, "cannot downgrade format version 2 to 1");
	FAILS(b, firn_ice__upd_upgrade_format_version(4), FIRN_EINVAL, "format version 4 is not supported");
	firn_ice__meta_free(b);
}

TEST(schemas)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	json_t *s = J("{\"type\":\"struct\",\"schema-id\":7,\"identifier-field-ids\":[1],\"fields\":["
		      "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
		      "{\"id\":3,\"name\":\"n\",\"required\":false,\"type\":\"int\"}]}");
	json_t *u = json_array();
	json_array_append_new(u, firn_ice__upd_add_schema(s));
	json_array_append_new(u, firn_ice__upd_set_current_schema(-1));
	struct firn_ice_meta *m = build(b, u);
	if (m) {
		CHECK_EQ_INT(m->n_schemas, 2);
		CHECK_EQ_INT(m->current_schema_id, 1); /* Java's id: the highest + 1 */
		CHECK_EQ_INT(m->last_column_id, 3);
		CHECK_EQ_INT(firn_ice__meta_current_schema(m)->n_identifier, 1);
	}
	/* the same schema again is reused */
	struct firn_ice_meta *m2 = m ? build1(m, firn_ice__upd_add_schema(s)) : NULL;
	CHECK(m2 && m2->n_schemas == 2);
	firn_ice__meta_free(m2);
	/* remove-schemas: not the current one; others go */
	int32_t zero = 0, one = 1;
	if (m) /* snapshots use schema 0 */
		FAILS(m, firn_ice__upd_remove_schemas(&zero, 1), FIRN_EINVAL,
		      "updates: snapshot 1: schema-id 0 names no schema");
	m2 = m ? build1(m, firn_ice__upd_set_current_schema(0)) : NULL;
	struct firn_ice_meta *m3 = m2 ? build1(m2, firn_ice__upd_remove_schemas(&one, 1)) : NULL;
	CHECK(m3 && m3->n_schemas == 1 && m3->schemas[0].schema_id == 0);
	firn_ice__meta_free(m3);
	firn_ice__meta_free(m2);
	if (m)
		FAILS(m, firn_ice__upd_remove_schemas(&one, 1), FIRN_EINVAL, "cannot remove the current schema 1");
	firn_ice__meta_free(m);
	/* set-current-schema by id */
	m = build1(b, firn_ice__upd_set_current_schema(0));
	CHECK(m && m->current_schema_id == 0);
	firn_ice__meta_free(m);
	FAILS(b, firn_ice__upd_set_current_schema(5), FIRN_EINVAL, "schema 5 does not exist");
	FAILS(b, firn_ice__upd_set_current_schema(-1), FIRN_EINVAL, "none was added");
	/* last-column-id (deprecated) may raise, never lower */
	json_t *a = firn_ice__upd_add_schema(s);
	json_object_set_new(a, "last-column-id", json_integer(10));
	m = build1(b, a);
	CHECK(m && m->last_column_id == 10);
	firn_ice__meta_free(m);
	/* below the table's 2 (a stale client): no error, as in Java; the
	 * larger of the table's and the schema's highest id (3) wins */
	a = firn_ice__upd_add_schema(s);
	json_object_set_new(a, "last-column-id", json_integer(1));
	m = build1(b, a);
	CHECK(m && m->last_column_id == 3);
	firn_ice__meta_free(m);
	json_decref(s);
	/* field ids unique; v3 types need v3 */
	s = J("{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"long\"},"
	      "{\"id\":1,\"name\":\"b\",\"required\":true,\"type\":\"long\"}]}");
	FAILS(b, firn_ice__upd_add_schema(s), FIRN_EINVAL, "field id 1 is used twice");
	json_decref(s);
	s = J("{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":false,\"type\":\"timestamp_ns\"}]}");
	FAILS(b, firn_ice__upd_add_schema(s), FIRN_EINVAL, "type timestamp_ns needs format version 3");
	json_decref(s);
	firn_ice__meta_free(b);
}

TEST(specs_and_orders)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	/* a field without field-id gets last-partition-id + 1 */
	json_t *spec = J("{\"fields\":[{\"source-id\":2,\"name\":\"s\",\"transform\":\"identity\"}]}");
	json_t *u = json_array();
	json_array_append_new(u, firn_ice__upd_add_spec(spec));
	json_array_append_new(u, firn_ice__upd_set_default_spec(-1));
	struct firn_ice_meta *m = build(b, u);
	if (m) {
		CHECK_EQ_INT(m->n_specs, 2);
		CHECK_EQ_INT(m->default_spec_id, 1);
		CHECK_EQ_INT(m->last_partition_id, 1000);
		CHECK_EQ_INT(firn_ice__meta_spec(m, 1)->fields[0].field_id, 1000);
		/* the same fields again: the spec is reused */
		struct firn_ice_meta *m2 = build1(m, firn_ice__upd_add_spec(spec));
		CHECK(m2 && m2->n_specs == 2 && m2->last_partition_id == 1000);
		firn_ice__meta_free(m2);
		int32_t zero = 0, one = 1;
		m2 = build1(m, firn_ice__upd_remove_partition_specs(&zero, 1));
		CHECK(m2 && m2->n_specs == 1 && m2->specs[0].spec_id == 1);
		firn_ice__meta_free(m2);
		FAILS(m, firn_ice__upd_remove_partition_specs(&one, 1), FIRN_EINVAL,
		      "cannot remove the default partition spec 1");
	}
	firn_ice__meta_free(m);
	json_decref(spec);
	spec = J("{\"fields\":[{\"source-id\":9,\"name\":\"z\",\"transform\":\"identity\"}]}");
	FAILS(b, firn_ice__upd_add_spec(spec), FIRN_EINVAL, "source-id 9 is not in schema 0");
	json_decref(spec);
	FAILS(b, firn_ice__upd_set_default_spec(4), FIRN_EINVAL, "partition spec 4 does not exist");

	json_t *order = J("{\"order-id\":0,\"fields\":[{\"transform\":\"identity\",\"source-id\":2,"
			  "\"direction\":\"desc\",\"null-order\":\"nulls-last\"}]}");
	u = json_array();
	json_array_append_new(u, firn_ice__upd_add_sort_order(order));
	json_array_append_new(u, firn_ice__upd_set_default_sort_order(-1));
	m = build(b, u);
	if (m) {
		CHECK_EQ_INT(m->n_orders, 2);
		CHECK_EQ_INT(m->default_sort_order_id, 1);
		CHECK_EQ_INT(firn_ice__meta_order(m, 1)->fields[0].descending, 1);
		struct firn_ice_meta *m2 = build1(m, firn_ice__upd_set_default_sort_order(0));
		CHECK(m2 && m2->default_sort_order_id == 0);
		firn_ice__meta_free(m2);
	}
	firn_ice__meta_free(m);
	json_decref(order);
	order = J("{\"order-id\":1,\"fields\":[{\"transform\":\"identity\",\"source-id\":5,"
		  "\"direction\":\"asc\",\"null-order\":\"nulls-first\"}]}");
	FAILS(b, firn_ice__upd_add_sort_order(order), FIRN_EINVAL, "sort field 0: source-id 5");
	json_decref(order);
	FAILS(b, firn_ice__upd_set_default_sort_order(3), FIRN_EINVAL, "sort order 3 does not exist");
	firn_ice__meta_free(b);
}

static json_t *snap(int64_t id, int64_t parent, int64_t seq, int64_t ts)
{
	json_t *s = json_pack("{s:I,s:I,s:I,s:s,s:{s:s},s:i}", "snapshot-id", (json_int_t)id,
			      "sequence-number", (json_int_t)seq, "timestamp-ms", (json_int_t)ts,
			      "manifest-list", "/tmp/u/n.avro", "summary", "operation", "append",
			      "schema-id", 0);
	if (parent >= 0)
		json_object_set_new(s, "parent-snapshot-id", json_integer(parent));
	return s;
}

TEST(snapshots_and_refs)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	json_t *s = snap(3, 2, 3, 300);
	json_t *u = json_array();
	json_array_append_new(u, firn_ice__upd_add_snapshot(s));
	json_array_append_new(u, firn_ice__upd_move_branch(b, "main", 3));
	struct firn_ice_meta *m = build(b, u);
	if (m) {
		CHECK_EQ_INT(m->current_snapshot_id, 3);
		CHECK_EQ_INT(m->last_sequence_number, 3);
		CHECK_EQ_INT(m->n_snapshot_log, 3);
		CHECK_EQ_INT(m->snapshot_log[2].snapshot_id, 3);
		CHECK_EQ_INT(m->snapshot_log[2].timestamp_ms, 300); /* the snapshot's time */
		/* the branch kept its retention */
		CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(G(m, "refs"), "main"),
								"max-ref-age-ms")), 5000);
		CHECK(json_is_object(G(m, "x-unknown")));
		CHECK(m->last_updated_ms > b->last_updated_ms);
		CHECK_EQ_INT(json_array_size(G(m, "metadata-log")), 1);
		CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(G(m, "metadata-log"), 0),
							       "metadata-file")),
			     "/tmp/u/metadata/00001-x.metadata.json");
	}
	firn_ice__meta_free(m);
	/* add-snapshot alone leaves main where it is */
	m = build1(b, firn_ice__upd_add_snapshot(s));
	CHECK(m && m->current_snapshot_id == 2 && m->n_snapshots == 3 && m->n_snapshot_log == 2);
	firn_ice__meta_free(m);
	json_decref(s);
	s = snap(2, 1, 3, 300);
	FAILS(b, firn_ice__upd_add_snapshot(s), FIRN_EINVAL, "snapshot 2 already exists");
	json_decref(s);
	s = snap(4, 2, 2, 300);
	/* a race lost to a commit on another branch: retried, not refused */
	FAILS(b, firn_ice__upd_add_snapshot(s), FIRN_ECONFLICT,
	      "sequence number 2 is not above the table's last sequence number 2");
	json_decref(s);
	s = snap(4, 9, 3, 300);
	FAILS(b, firn_ice__upd_add_snapshot(s), FIRN_EINVAL, "parent snapshot 9 does not exist");
	json_decref(s);
	s = snap(4, 2, 3, 300);
	json_object_set_new(s, "schema-id", json_integer(8));
	FAILS(b, firn_ice__upd_add_snapshot(s), FIRN_EINVAL, "schema 8 does not exist");
	json_decref(s);

	/* set-snapshot-ref: a tag, a branch; main to an old snapshot logs now */
	m = build1(b, firn_ice__upd_set_ref("v1", "tag", 2, NULL));
	CHECK(m && firn_ice__meta_ref(m, "v1") && firn_ice__meta_ref(m, "v1")->tag);
	firn_ice__meta_free(m);
	json_t *ret = J("{\"max-snapshot-age-ms\":60000,\"min-snapshots-to-keep\":3}");
	m = build1(b, firn_ice__upd_set_ref("dev", "branch", 1, ret));
	if (m) {
		json_t *dev = json_object_get(G(m, "refs"), "dev");
		CHECK_EQ_INT(json_integer_value(json_object_get(dev, "min-snapshots-to-keep")), 3);
		CHECK_EQ_INT(json_integer_value(json_object_get(dev, "max-snapshot-age-ms")), 60000);
		CHECK_EQ_INT(m->current_snapshot_id, 2);
	}
	firn_ice__meta_free(m);
	FAILS(b, firn_ice__upd_set_ref("old", "tag", 1, ret), FIRN_EINVAL, "a tag has no");
	json_decref(ret);
	int64_t t0 = firn_ice__now_ms();
	m = build1(b, firn_ice__upd_set_ref("main", "branch", 1, NULL));
	if (m) {
		CHECK_EQ_INT(m->current_snapshot_id, 1);
		CHECK_EQ_INT(m->n_snapshot_log, 3);
		CHECK(m->snapshot_log[2].timestamp_ms >= t0);
	}
	firn_ice__meta_free(m);
	/* main to where it is: no log entry */
	m = build1(b, firn_ice__upd_move_branch(b, "main", 2));
	CHECK(m && m->n_snapshot_log == 2);
	firn_ice__meta_free(m);
	FAILS(b, firn_ice__upd_set_ref("main", "branch", 77, NULL), FIRN_EINVAL, "snapshot 77 does not exist");
	FAILS(b, firn_ice__upd_set_ref("main", "tag", 1, NULL), FIRN_EINVAL, "main is the table's branch");

	/* remove-snapshot-ref */
	m = build1(b, firn_ice__upd_remove_ref("t"));
	CHECK(m && !firn_ice__meta_ref(m, "t") && m->current_snapshot_id == 2);
	firn_ice__meta_free(m);
	m = build1(b, firn_ice__upd_remove_ref("main"));
	if (m) {
		CHECK(!m->has_current_snapshot);
		CHECK_EQ_INT(json_integer_value(G(m, "current-snapshot-id")), -1);
		CHECK(!firn_ice__meta_ref(m, "main"));
	}
	firn_ice__meta_free(m);
	firn_ice__meta_free(b);
}

TEST(snapshot_log_of_intermediate_snapshots)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	/* two snapshots committed to main at once: only the last is logged */
	json_t *s3 = snap(3, 2, 3, 300), *s4 = snap(4, 3, 4, 400);
	json_t *u = json_array();
	json_array_append_new(u, firn_ice__upd_add_snapshot(s3));
	json_array_append_new(u, firn_ice__upd_move_branch(b, "main", 3));
	json_array_append_new(u, firn_ice__upd_add_snapshot(s4));
	json_array_append_new(u, firn_ice__upd_move_branch(b, "main", 4));
	struct firn_ice_meta *m = build(b, u);
	if (m) {
		CHECK_EQ_INT(m->n_snapshot_log, 3);
		CHECK_EQ_INT(m->snapshot_log[2].snapshot_id, 4);
		CHECK_EQ_INT(m->last_sequence_number, 4);
	}
	firn_ice__meta_free(m);
	json_decref(s3);
	json_decref(s4);
	firn_ice__meta_free(b);
}

TEST(remove_snapshots)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	int64_t one = 1, two[] = { 1, 2 };
	struct firn_ice_meta *m = build1(b, firn_ice__upd_remove_snapshots(&one, 1));
	if (m) {
		CHECK_EQ_INT(m->n_snapshots, 1);
		CHECK(!firn_ice__meta_ref(m, "t")); /* the tag on 1 went with it */
		CHECK_EQ_INT(m->current_snapshot_id, 2);
		CHECK_EQ_INT(m->n_snapshot_log, 1);
		CHECK_EQ_INT(m->snapshot_log[0].snapshot_id, 2);
		CHECK_EQ_INT(json_array_size(G(m, "statistics")), 0);
		CHECK_EQ_INT(json_array_size(G(m, "partition-statistics")), 0);
	}
	firn_ice__meta_free(m);
	m = build1(b, firn_ice__upd_remove_snapshots(two, 2));
	if (m) {
		CHECK_EQ_INT(m->n_snapshots, 0);
		CHECK(!m->has_current_snapshot);
		CHECK_EQ_INT(m->n_refs, 0);
		CHECK_EQ_INT(m->n_snapshot_log, 0);
	}
	firn_ice__meta_free(m);
	/* unknown ids are ignored, as Java does */
	int64_t none = 99;
	m = build1(b, firn_ice__upd_remove_snapshots(&none, 1));
	CHECK(m && m->n_snapshots == 2 && m->n_snapshot_log == 2);
	firn_ice__meta_free(m);
	firn_ice__meta_free(b);
}

TEST(row_lineage_v3)
{
	struct firn_ice_meta *b2 = base_meta(2);
	struct firn_ice_meta *b = b2 ? build1(b2, firn_ice__upd_upgrade_format_version(3)) : NULL;
	firn_ice__meta_free(b2);
	if (!b)
		return;
	json_t *s = snap(3, 2, 3, 300);
	json_object_set_new(s, "first-row-id", json_integer(0));
	json_object_set_new(s, "added-rows", json_integer(25));
	struct firn_ice_meta *m = build1(b, firn_ice__upd_add_snapshot(s));
	CHECK(m && m->next_row_id == 25);
	if (m) {
		json_t *s2 = snap(4, 3, 4, 400);
		json_object_set_new(s2, "first-row-id", json_integer(10));
		json_object_set_new(s2, "added-rows", json_integer(5));
		FAILS(m, firn_ice__upd_add_snapshot(s2), FIRN_ECONFLICT,
		      "first-row-id 10 is below the table's next-row-id 25");
		json_decref(s2);
	}
	firn_ice__meta_free(m);
	json_object_del(s, "first-row-id");
	FAILS(b, firn_ice__upd_add_snapshot(s), FIRN_EINVAL, "first-row-id is missing");
	json_object_set_new(s, "first-row-id", json_integer(0));
	json_object_del(s, "added-rows");
	FAILS(b, firn_ice__upd_add_snapshot(s), FIRN_EINVAL, "added-rows is missing");
	json_decref(s);
	/* removing main in v3 writes null, as a new v3 table has */
	m = build1(b, firn_ice__upd_remove_ref("main"));
	CHECK(m && json_is_null(G(m, "current-snapshot-id")) && !m->has_current_snapshot);
	firn_ice__meta_free(m);
	firn_ice__meta_free(b);
}

/* firn_ice__snapshot_change, the one helper every snapshot goes through:
 * the snapshot added, main moved to it keeping its retention, the log and
 * last-sequence-number, v3 row lineage, and the requirement on main. */
TEST(snapshot_change_builds_a_snapshot)
{
	for (int fv = 2; fv <= 3; fv++) {
		struct firn_ice_meta *b2 = base_meta(2), *b = NULL;
		if (b2 && fv == 3)
			b = build1(b2, firn_ice__upd_upgrade_format_version(3));
		else
			b = b2, b2 = NULL;
		firn_ice__meta_free(b2);
		if (!b)
			return;
		json_object_set_new(json_object_get(json_object_get(b->root, "refs"), "main"), "max-ref-age-ms",
				    json_integer(12345));
		CHECK_OK(firn_ice__meta_reparse(b, &t_err));
		const struct firn_ice_snapshot *parent = firn_ice__meta_current(b);
		int64_t seq = b->last_sequence_number + 1;
		size_t n_log = json_array_size(json_object_get(b->root, "snapshot-log"));
		struct firn_ice_change c;
		CHECK_OK(firn_ice__change_init(&c, &t_err));
		json_t *summary = json_pack("{s:s}", "operation", "append");
		CHECK_OK(firn_ice__snapshot_change(b, "main", 777, parent, seq, "/tmp/u/777.avro", summary,
						   b->next_row_id, 7, &c, &t_err));
		CHECK_EQ_INT(json_array_size(c.requirements), 1);
		CHECK_OK(firn_ice__requirements_check(b, c.requirements, &t_err));
		struct firn_ice_meta *m = NULL;
		CHECK_OK(firn_ice__meta_build(b, NULL, c.updates, &m, &t_err));
		if (m) {
			const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(m, 777);
			CHECK(s != NULL && m->has_current_snapshot && m->current_snapshot_id == 777);
			CHECK(s && s->has_parent == (parent != NULL) && s->sequence_number == seq);
			CHECK(s && strcmp(s->manifest_list, "/tmp/u/777.avro") == 0 && strcmp(s->operation, "append") == 0);
			CHECK_EQ_INT(m->last_sequence_number, seq);
			CHECK_EQ_INT(json_array_size(json_object_get(m->root, "snapshot-log")), n_log + 1);
			json_t *main_ref = json_object_get(json_object_get(m->root, "refs"), "main");
			CHECK_EQ_INT(json_integer_value(json_object_get(main_ref, "max-ref-age-ms")), 12345);
			CHECK(fv < 3 || m->next_row_id == b->next_row_id + 7);
			/* applied once, the requirement no longer holds: a second
			 * writer from the same base conflicts */
			struct firn_error e = { 0 };
			CHECK_EQ_INT(firn_ice__requirements_check(m, c.requirements, &e), FIRN_ECONFLICT);
		}
		firn_ice__change_free(&c);
		firn_ice__meta_free(m);
		firn_ice__meta_free(b);
	}
}

TEST(properties_location_statistics_keys)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	json_t *set = J("{\"b\":\"2\",\"write.metadata.previous-versions-max\":\"1\"}");
	const char *rm[] = { "a" };
	json_t *u = json_array();
	json_array_append_new(u, firn_ice__upd_set_properties(set));
	json_array_append_new(u, firn_ice__upd_remove_properties(rm, 1));
	json_array_append_new(u, firn_ice__upd_set_location("/tmp/moved"));
	struct firn_ice_meta *m = build(b, u);
	if (m) {
		CHECK_EQ_STR(firn_ice__prop(m, "b"), "2");
		CHECK(!firn_ice__prop(m, "a"));
		CHECK_EQ_STR(m->location, "/tmp/moved");
		/* the log bound comes from the resulting properties */
		struct firn_ice_meta *m2 = NULL;
		json_t *none = json_array();
		CHECK_OK(firn_ice__meta_build(m, "/tmp/u/metadata/00002-y.metadata.json", none, &m2, &t_err));
		json_decref(none);
		CHECK(m2 && json_array_size(G(m2, "metadata-log")) == 1);
		if (m2)
			CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(G(m2, "metadata-log"), 0),
								       "metadata-file")),
				     "/tmp/u/metadata/00002-y.metadata.json");
		firn_ice__meta_free(m2);
	}
	firn_ice__meta_free(m);
	json_decref(set);
	/* set and removed at once; a value that breaks its rule */
	set = J("{\"a\":\"3\"}");
	u = json_array();
	json_array_append_new(u, firn_ice__upd_remove_properties(rm, 1));
	json_array_append_new(u, firn_ice__upd_set_properties(set));
	FAILS(b, u, FIRN_EINVAL, "update 1 (set-properties): property a is both set and removed");
	json_decref(set);
	set = J("{\"commit.retry.num-retries\":\"many\"}");
	FAILS(b, firn_ice__upd_set_properties(set), FIRN_EINVAL, "commit.retry.num-retries");
	json_decref(set);
	FAILS(b, firn_ice__upd_set_location(""), FIRN_EINVAL, "location is empty");

	/* statistics: set replaces the snapshot's, remove drops it */
	json_t *st = J("{\"snapshot-id\":1,\"statistics-path\":\"/tmp/u/s1b.puffin\",\"file-size-in-bytes\":11,"
		       "\"file-footer-size-in-bytes\":6,\"blob-metadata\":[{\"type\":\"apache-datasketches-theta-v1\","
		       "\"snapshot-id\":1,\"sequence-number\":1,\"fields\":[1]}]}");
	m = build1(b, firn_ice__upd_set_statistics(st));
	CHECK(m && json_array_size(G(m, "statistics")) == 1 &&
	      json_integer_value(json_object_get(json_array_get(G(m, "statistics"), 0), "file-size-in-bytes")) == 11);
	firn_ice__meta_free(m);
	json_t *a = firn_ice__upd_set_statistics(st);
	json_object_set_new(a, "snapshot-id", json_integer(2));
	FAILS(b, a, FIRN_EINVAL, "snapshot-id 2 is not the statistics' 1");
	json_decref(st);
	m = build1(b, firn_ice__upd_remove_statistics(1));
	CHECK(m && json_array_size(G(m, "statistics")) == 0);
	firn_ice__meta_free(m);
	st = J("{\"snapshot-id\":2,\"statistics-path\":\"/tmp/u/p2.parquet\",\"file-size-in-bytes\":8}");
	m = build1(b, firn_ice__upd_set_partition_statistics(st));
	CHECK(m && json_array_size(G(m, "partition-statistics")) == 2);
	firn_ice__meta_free(m);
	json_decref(st);
	m = build1(b, firn_ice__upd_remove_partition_statistics(1));
	CHECK(m && json_array_size(G(m, "partition-statistics")) == 0);
	firn_ice__meta_free(m);

	/* encryption keys */
	json_t *key = J("{\"key-id\":\"k1\",\"encrypted-key-metadata\":\"AAEC\"}");
	m = build1(b, firn_ice__upd_add_encryption_key(key));
	CHECK(m && json_array_size(G(m, "encryption-keys")) == 1);
	struct firn_ice_meta *m2 = m ? build1(m, firn_ice__upd_remove_encryption_key("k1")) : NULL;
	CHECK(m2 && json_array_size(G(m2, "encryption-keys")) == 0);
	firn_ice__meta_free(m2);
	firn_ice__meta_free(m);
	json_decref(key);
	firn_ice__meta_free(b);
}

TEST(v1_tables)
{
	static const char *V1 =
		"{\"format-version\":1,\"location\":\"/tmp/v1\",\"last-updated-ms\":1,\"last-column-id\":2,"
		"\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"},"
		"{\"id\":2,\"name\":\"b\",\"required\":false,\"type\":\"string\"}]},"
		"\"partition-spec\":[{\"name\":\"b\",\"transform\":\"identity\",\"source-id\":2}],"
		"\"properties\":{},\"current-snapshot-id\":-1,\"snapshots\":[]}";
	struct firn_ice_meta *b = NULL;
	CHECK_OK(firn_ice__meta_parse(V1, strlen(V1), "v1", &b, &t_err));
	if (!b)
		return;
	struct firn_ice_meta *m = build1(b, firn_ice__upd_upgrade_format_version(2));
	if (m) {
		CHECK_EQ_INT(m->format_version, 2);
		CHECK_EQ_INT(json_array_size(G(m, "schemas")), 1);
		CHECK_EQ_INT(json_array_size(G(m, "partition-specs")), 1);
		CHECK_EQ_INT(m->specs[0].fields[0].field_id, 1000);
		CHECK_EQ_INT(m->last_partition_id, 1000);
		CHECK_EQ_INT(json_integer_value(G(m, "last-sequence-number")), 0);
		CHECK(m->uuid == NULL);
	}
	firn_ice__meta_free(m);
	/* a v1 table keeps "schema" current */
	json_t *s = J("{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"},"
		      "{\"id\":2,\"name\":\"b\",\"required\":false,\"type\":\"string\"},"
		      "{\"id\":3,\"name\":\"c\",\"required\":false,\"type\":\"long\"}]}");
	json_t *u = json_array();
	json_array_append_new(u, firn_ice__upd_add_schema(s));
	json_array_append_new(u, firn_ice__upd_set_current_schema(-1));
	m = build(b, u);
	if (m) {
		CHECK_EQ_INT(m->format_version, 1);
		CHECK_EQ_INT(json_array_size(json_object_get(G(m, "schema"), "fields")), 3);
		CHECK_EQ_INT(json_integer_value(json_object_get(G(m, "schema"), "schema-id")), 1);
	}
	firn_ice__meta_free(m);
	json_decref(s);
	/* a v1 table takes uuids */
	m = build1(b, firn_ice__upd_assign_uuid("11111111-2222-4333-8444-555555555555"));
	CHECK(m && m->uuid && strcmp(m->uuid, "11111111-2222-4333-8444-555555555555") == 0);
	firn_ice__meta_free(m);
	firn_ice__meta_free(b);
}

/* ---- forms ---------------------------------------------------------- */

static void round_trip(json_t *u, bool requirement)
{
	CHECK(u != NULL);
	if (!u)
		return;
	CHECK_OK(requirement ? firn_ice__requirement_check(u, &t_err) : firn_ice__update_check(u, &t_err));
	char *text = json_dumps(u, JSON_COMPACT);
	json_t *back = J(text);
	CHECK(json_equal(u, back));
	free(text);
	json_decref(back);
	json_decref(u);
}

TEST(constructors_round_trip)
{
	json_t *s = J(SCHEMA), *spec = J("{\"spec-id\":0,\"fields\":[]}");
	json_t *order = J("{\"order-id\":0,\"fields\":[]}"), *sn = snap(3, 2, 3, 300);
	json_t *st = J("{\"snapshot-id\":1,\"statistics-path\":\"p\",\"file-size-in-bytes\":1,"
		       "\"file-footer-size-in-bytes\":1,\"blob-metadata\":[]}");
	json_t *ps = J("{\"snapshot-id\":1,\"statistics-path\":\"p\",\"file-size-in-bytes\":1}");
	json_t *props = J("{\"k\":\"v\"}"), *key = J("{\"key-id\":\"k\",\"encrypted-key-metadata\":\"AA==\"}");
	json_t *ret = J("{\"max-ref-age-ms\":1,\"ignored\":2}");
	int64_t ids64[] = { 1, 2 };
	int32_t ids32[] = { 3 };
	const char *keys[] = { "k" };
	round_trip(firn_ice__upd_assign_uuid("u"), false);
	round_trip(firn_ice__upd_upgrade_format_version(3), false);
	round_trip(firn_ice__upd_add_schema(s), false);
	round_trip(firn_ice__upd_set_current_schema(-1), false);
	round_trip(firn_ice__upd_add_spec(spec), false);
	round_trip(firn_ice__upd_set_default_spec(0), false);
	round_trip(firn_ice__upd_add_sort_order(order), false);
	round_trip(firn_ice__upd_set_default_sort_order(0), false);
	round_trip(firn_ice__upd_add_snapshot(sn), false);
	json_t *r = firn_ice__upd_set_ref("main", "branch", 3, ret);
	CHECK(json_integer_value(json_object_get(r, "max-ref-age-ms")) == 1 && !json_object_get(r, "ignored"));
	CHECK_EQ_STR(json_string_value(json_object_get(r, "ref-name")), "main");
	round_trip(r, false);
	round_trip(firn_ice__upd_remove_ref("t"), false);
	round_trip(firn_ice__upd_remove_snapshots(ids64, 2), false);
	round_trip(firn_ice__upd_set_location("/x"), false);
	round_trip(firn_ice__upd_set_properties(props), false);
	round_trip(firn_ice__upd_remove_properties(keys, 1), false);
	round_trip(firn_ice__upd_set_statistics(st), false);
	round_trip(firn_ice__upd_remove_statistics(1), false);
	round_trip(firn_ice__upd_set_partition_statistics(ps), false);
	round_trip(firn_ice__upd_remove_partition_statistics(1), false);
	round_trip(firn_ice__upd_remove_partition_specs(ids32, 1), false);
	round_trip(firn_ice__upd_remove_schemas(ids32, 1), false);
	round_trip(firn_ice__upd_add_encryption_key(key), false);
	round_trip(firn_ice__upd_remove_encryption_key("k"), false);
	round_trip(firn_ice__req_assert_create(), true);
	round_trip(firn_ice__req_assert_table_uuid("u"), true);
	json_t *q = firn_ice__req_assert_ref_snapshot_id("main", false, 0);
	CHECK(json_is_null(json_object_get(q, "snapshot-id")));
	round_trip(q, true);
	round_trip(firn_ice__req_assert_ref_snapshot_id("main", true, 5), true);
	round_trip(firn_ice__req_assert_last_assigned_field_id(2), true);
	round_trip(firn_ice__req_assert_current_schema_id(0), true);
	round_trip(firn_ice__req_assert_last_assigned_partition_id(999), true);
	round_trip(firn_ice__req_assert_default_spec_id(0), true);
	round_trip(firn_ice__req_assert_default_sort_order_id(0), true);
	json_t *all[] = { s, spec, order, sn, st, ps, props, key, ret };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		json_decref(all[i]);

	/* a whole change through the body form and back */
	struct firn_ice_change c, back;
	CHECK_OK(firn_ice__change_init(&c, &t_err));
	CHECK_OK(firn_ice__change_require(&c, firn_ice__req_assert_ref_snapshot_id("main", true, 2), &t_err));
	CHECK_OK(firn_ice__change_update(&c, firn_ice__upd_remove_ref("t"), &t_err));
	CHECK(firn_ice__change_update(&c, NULL, &t_err) == FIRN_ENOMEM);
	json_t *body = firn_ice__change_to_json(&c);
	CHECK_OK(firn_ice__change_from_json(body, &back, &t_err));
	CHECK(json_equal(c.requirements, back.requirements) && json_equal(c.updates, back.updates));
	CHECK_EQ_INT(json_array_size(back.updates), 1);
	json_decref(body);
	firn_ice__change_free(&c);
	firn_ice__change_free(&back);
}

/* Bodies written as the REST spec shows them. */
TEST(rest_shapes)
{
	const char *body =
		"{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"t\"},"
		"\"requirements\":["
		"{\"type\":\"assert-table-uuid\",\"uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\"},"
		"{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\",\"snapshot-id\":2},"
		"{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"dev\",\"snapshot-id\":null},"
		"{\"type\":\"assert-last-assigned-field-id\",\"last-assigned-field-id\":2},"
		"{\"type\":\"assert-current-schema-id\",\"current-schema-id\":0},"
		"{\"type\":\"assert-last-assigned-partition-id\",\"last-assigned-partition-id\":999},"
		"{\"type\":\"assert-default-spec-id\",\"default-spec-id\":0},"
		"{\"type\":\"assert-default-sort-order-id\",\"default-sort-order-id\":0}],"
		"\"updates\":["
		"{\"action\":\"add-snapshot\",\"snapshot\":{\"snapshot-id\":3,\"parent-snapshot-id\":2,"
		"\"sequence-number\":3,\"timestamp-ms\":300,\"manifest-list\":\"/tmp/u/3.avro\","
		"\"summary\":{\"operation\":\"append\",\"added-data-files\":\"1\"},\"schema-id\":0}},"
		"{\"action\":\"set-snapshot-ref\",\"ref-name\":\"main\",\"type\":\"branch\",\"snapshot-id\":3,"
		"\"max-ref-age-ms\":5000},"
		"{\"action\":\"set-snapshot-ref\",\"ref-name\":\"dev\",\"type\":\"branch\",\"snapshot-id\":3,"
		"\"max-snapshot-age-ms\":null,\"min-snapshots-to-keep\":2},"
		"{\"action\":\"set-properties\",\"updates\":{\"owner\":\"me\"}},"
		"{\"action\":\"remove-properties\",\"removals\":[\"a\"]},"
		"{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"schema-id\":1,\"fields\":["
		"{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
		"{\"id\":2,\"name\":\"s\",\"required\":false,\"type\":\"string\"},"
		"{\"id\":3,\"name\":\"n\",\"required\":false,\"type\":\"int\"}]},\"last-column-id\":3},"
		"{\"action\":\"set-current-schema\",\"schema-id\":-1},"
		"{\"action\":\"add-spec\",\"spec\":{\"fields\":[{\"source-id\":3,\"field-id\":1000,"
		"\"name\":\"n_bucket\",\"transform\":\"bucket[8]\"}]}},"
		"{\"action\":\"set-default-spec\",\"spec-id\":-1},"
		"{\"action\":\"add-sort-order\",\"sort-order\":{\"order-id\":1,\"fields\":[{\"transform\":\"identity\","
		"\"source-id\":3,\"direction\":\"asc\",\"null-order\":\"nulls-first\"}]}},"
		"{\"action\":\"set-default-sort-order\",\"sort-order-id\":-1},"
		"{\"action\":\"set-statistics\",\"snapshot-id\":3,\"statistics\":{\"snapshot-id\":3,"
		"\"statistics-path\":\"/tmp/u/s3.puffin\",\"file-size-in-bytes\":413,"
		"\"file-footer-size-in-bytes\":42,\"blob-metadata\":[{\"type\":\"ndv\",\"snapshot-id\":3,"
		"\"sequence-number\":3,\"fields\":[1]}]}},"
		"{\"action\":\"remove-snapshots\",\"snapshot-ids\":[1]}]}";
	json_t *j = J(body);
	struct firn_ice_change c;
	CHECK_OK(firn_ice__change_from_json(j, &c, &t_err));
	json_decref(j);
	struct firn_ice_meta *b = base_meta(2);
	if (!b || !c.updates) {
		firn_ice__meta_free(b);
		firn_ice__change_free(&c);
		return;
	}
	/* the requirements hold on base, except dev (does not exist: holds) */
	CHECK_OK(firn_ice__requirements_check(b, c.requirements, &t_err));
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_build(b, "/tmp/u/metadata/00001-x.metadata.json", c.updates, &m, &t_err));
	if (m) {
		CHECK_EQ_INT(m->current_snapshot_id, 3);
		CHECK_EQ_INT(m->current_schema_id, 1);
		CHECK_EQ_INT(m->last_column_id, 3);
		CHECK_EQ_INT(m->default_spec_id, 1);
		CHECK_EQ_INT(m->default_sort_order_id, 1);
		CHECK_EQ_STR(firn_ice__prop(m, "owner"), "me");
		CHECK(!firn_ice__prop(m, "a"));
		CHECK_EQ_INT(m->n_snapshots, 2);
		CHECK(!firn_ice__meta_ref(m, "t"));
		const struct firn_ice_ref *dev = firn_ice__meta_ref(m, "dev");
		CHECK(dev && dev->snapshot_id == 3 && !dev->tag);
		CHECK(!json_object_get(json_object_get(G(m, "refs"), "dev"), "max-snapshot-age-ms"));
		CHECK_EQ_INT(json_array_size(G(m, "statistics")), 1);
		/* the log drops entries up to the removed snapshot's */
		CHECK_EQ_INT(m->n_snapshot_log, 2);
		CHECK_EQ_INT(m->snapshot_log[0].snapshot_id, 2);
		/* now the requirements no longer hold */
		struct firn_error e = { 0 };
		CHECK(firn_ice__requirements_check(m, c.requirements, &e) == FIRN_ECONFLICT);
		CHECK(strstr(e.message, "Requirement failed: branch main has changed: expected id 2 != 3"));
	}
	firn_ice__meta_free(m);
	firn_ice__meta_free(b);
	firn_ice__change_free(&c);
}

static void bad_body(const char *text, const char *substr)
{
	json_t *j = J(text);
	struct firn_ice_change c;
	struct firn_error e = { 0 };
	int rc = firn_ice__change_from_json(j, &c, &e);
	json_decref(j);
	if (rc != FIRN_EINVAL || !strstr(e.message, substr)) {
		t_failed_checks++;
		fprintf(stderr, "body %s: expected '%s', got %d '%s'\n", text, substr, rc, e.message);
	}
	if (rc == 0)
		firn_ice__change_free(&c);
}

TEST(malformed_forms)
{
	bad_body("[]", "not a JSON object");
	bad_body("{\"updates\":[]}", "requirements: missing");
	bad_body("{\"requirements\":[],\"updates\":{}}", "updates: not an array");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"frobnicate\"}]}",
		 "update 0: unknown update action 'frobnicate'");
	bad_body("{\"requirements\":[],\"updates\":[{\"uuid\":\"x\"}]}", "update 0: update without \"action\"");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"assign-uuid\"}]}",
		 "update 0: assign-uuid: uuid is missing");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"set-location\",\"location\":3}]}",
		 "set-location: location is not a string");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"remove-snapshots\",\"snapshot-ids\":[1,\"2\"]}]}",
		 "remove-snapshots: snapshot-ids[1] is not an integer");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"a\":1}}]}",
		 "set-properties: updates: value of 'a' is not a string");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"set-snapshot-ref\",\"ref-name\":\"x\","
		 "\"type\":\"leaf\",\"snapshot-id\":1}]}", "type 'leaf' is not one of branch|tag");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"add-snapshot\",\"snapshot\":"
		 "{\"snapshot-id\":1,\"timestamp-ms\":1,\"manifest-list\":\"m\",\"summary\":{}}}]}",
		 "add-snapshot: snapshot.summary.operation is missing");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"add-snapshot\",\"snapshot\":"
		 "{\"snapshot-id\":1,\"timestamp-ms\":1,\"summary\":{\"operation\":\"append\"}}}]}",
		 "snapshot.manifest-list is missing");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"set-current-schema\",\"schema-id\":4294967296}]}",
		 "schema-id is not a 32-bit integer");
	bad_body("{\"requirements\":[],\"updates\":[{\"action\":\"add-sort-order\",\"sort-order\":{\"order-id\":1,"
		 "\"fields\":[{\"source-id\":1,\"transform\":\"identity\",\"direction\":\"up\",\"null-order\":\"nulls-first\"}]}}]}",
		 "sort-order.fields[0].direction 'up' is not one of asc|desc");
	bad_body("{\"requirements\":[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\"}],\"updates\":[]}",
		 "requirement 0: assert-ref-snapshot-id: snapshot-id is missing");
	bad_body("{\"requirements\":[{\"type\":\"assert-nothing\"}],\"updates\":[]}",
		 "unknown requirement type 'assert-nothing'");
	bad_body("{\"requirements\":[{\"type\":\"assert-current-schema-id\",\"current-schema-id\":\"0\"}],"
		 "\"updates\":[]}", "current-schema-id is not a 32-bit integer");
	/* the builder checks forms too, and names the update */
	struct firn_ice_meta *b = base_meta(2);
	if (b)
		FAILS(b, J("{\"action\":\"set-location\"}"), FIRN_EINVAL,
		      "update 0 (set-location): location is missing");
	firn_ice__meta_free(b);
}

static void req_fails(const struct firn_ice_meta *m, json_t *r, const char *substr)
{
	json_t *a = json_array();
	json_array_append_new(a, r);
	struct firn_error e = { 0 };
	int rc = firn_ice__requirements_check(m, a, &e);
	json_decref(a);
	if (rc != FIRN_ECONFLICT || !strstr(e.message, substr)) {
		t_failed_checks++;
		fprintf(stderr, "requirement: expected '%s', got %d '%s'\n", substr, rc, e.message);
	}
}

static void req_holds(const struct firn_ice_meta *m, json_t *r)
{
	json_t *a = json_array();
	json_array_append_new(a, r);
	CHECK_OK(firn_ice__requirements_check(m, a, &t_err));
	json_decref(a);
}

TEST(requirements)
{
	struct firn_ice_meta *b = base_meta(2);
	if (!b)
		return;
	req_holds(NULL, firn_ice__req_assert_create());
	req_fails(b, firn_ice__req_assert_create(), "Requirement failed: table already exists");
	req_fails(NULL, firn_ice__req_assert_table_uuid("x"), "the table does not exist");
	req_holds(b, firn_ice__req_assert_table_uuid("9C12D441-03FE-4693-9A96-A0705DDF69C1"));
	req_fails(b, firn_ice__req_assert_table_uuid("00000000-0000-4000-8000-000000000000"),
		  "Requirement failed: UUID does not match: expected 9c12d441-03fe-4693-9a96-a0705ddf69c1 != 00000000-0000-4000-8000-000000000000");
	req_holds(b, firn_ice__req_assert_ref_snapshot_id("main", true, 2));
	req_holds(b, firn_ice__req_assert_ref_snapshot_id("t", true, 1));
	req_holds(b, firn_ice__req_assert_ref_snapshot_id("new", false, 0));
	req_fails(b, firn_ice__req_assert_ref_snapshot_id("main", true, 1),
		  "Requirement failed: branch main has changed: expected id 1 != 2");
	req_fails(b, firn_ice__req_assert_ref_snapshot_id("t", false, 0),
		  "Requirement failed: tag t was created concurrently");
	req_fails(b, firn_ice__req_assert_ref_snapshot_id("gone", true, 1),
		  "Requirement failed: branch or tag gone is missing, expected 1");
	req_holds(b, firn_ice__req_assert_last_assigned_field_id(2));
	req_fails(b, firn_ice__req_assert_last_assigned_field_id(3),
		  "Requirement failed: last assigned field id changed: expected id 3 != 2");
	req_holds(b, firn_ice__req_assert_current_schema_id(0));
	req_fails(b, firn_ice__req_assert_current_schema_id(1), "Requirement failed: current schema changed: expected id 1 != 0");
	req_holds(b, firn_ice__req_assert_last_assigned_partition_id(999));
	req_fails(b, firn_ice__req_assert_last_assigned_partition_id(1000),
		  "Requirement failed: last assigned partition id changed: expected id 1000 != 999");
	req_holds(b, firn_ice__req_assert_default_spec_id(0));
	req_fails(b, firn_ice__req_assert_default_spec_id(1), "Requirement failed: default partition spec changed: expected id 1 != 0");
	req_holds(b, firn_ice__req_assert_default_sort_order_id(0));
	req_fails(b, firn_ice__req_assert_default_sort_order_id(2), "Requirement failed: default sort order changed: expected id 2 != 0");
	/* a malformed requirement is bad input, not a conflict */
	json_t *a = J("[{\"type\":\"assert-table-uuid\"}]");
	struct firn_error e = { 0 };
	CHECK(firn_ice__requirements_check(b, a, &e) == FIRN_EINVAL);
	json_decref(a);
	firn_ice__meta_free(b);
}

int main(void)
{
	RUN(create_matches_table_create);
	RUN(create_defaults_and_errors);
	RUN(assign_uuid_and_format_version);
	RUN(schemas);
	RUN(specs_and_orders);
	RUN(snapshots_and_refs);
	RUN(snapshot_log_of_intermediate_snapshots);
	RUN(remove_snapshots);
	RUN(row_lineage_v3);
	RUN(snapshot_change_builds_a_snapshot);
	RUN(properties_location_statistics_keys);
	RUN(v1_tables);
	RUN(constructors_round_trip);
	RUN(rest_shapes);
	RUN(malformed_forms);
	RUN(requirements);
	return t_summary();
}
