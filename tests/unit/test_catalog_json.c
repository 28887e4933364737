/* The REST spec's table requests as JSON text (catalog.h): create with
 * fresh ids (and staged), load, commit with requirements and the
 * server-side retry, transactions all-or-nothing, confinement to the
 * warehouse, and malformed bodies, each one clear FIRN_EINVAL. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/table.h"
#include "firn/util.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_update.h"
#include "io/io_local.h"
#include "t.h"
#include "util/alloc.h"

static char wh[256];

static struct firn_catalog *fresh_warehouse(const char *name)
{
	snprintf(wh, sizeof(wh), "%s/firn-catjson-%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), name);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", wh);
	CHECK(system(cmd) == 0);
	struct firn_catalog *c = NULL;
	CHECK_OK(firn_catalog_open(&c, NULL, wh, NULL, &t_err));
	CHECK_OK(firn_catalog_namespace_create(c, "db", NULL, NULL, 0, &t_err));
	return c;
}

static json_t *parse(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(j != NULL);
	return j;
}

static int64_t ival(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *sval(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The i-th field of struct JSON st. */
static json_t *field(const json_t *st, size_t i)
{
	return json_array_get(json_object_get(st, "fields"), i);
}

#define SIMPLE_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"}," \
	"{\"id\":2,\"name\":\"s\",\"required\":false,\"type\":\"string\"}]}"

/* Creates db.<name> with the simple schema; the LoadTableResult parsed. */
static json_t *create_simple(struct firn_catalog *c, const char *name)
{
	char body[600];
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"schema\":" SIMPLE_SCHEMA "}", name);
	char *out = NULL;
	CHECK_OK(firn_catalog_table_create_json(c, "db", body, &out, &t_err));
	json_t *j = parse(out);
	firn_free(out);
	return j;
}

/* The current metadata location of db.<name> (firn_malloc'd). */
static char *where(struct firn_catalog *c, const char *name)
{
	char *loc = NULL;
	CHECK_OK(firn_catalog_table_load(c, "db", name, &loc, &t_err));
	return loc;
}

/* The metadata of a LoadTableResult of db.<name> (new reference). */
static json_t *metadata(struct firn_catalog *c, const char *name)
{
	char *out = NULL;
	CHECK_OK(firn_catalog_table_load_json(c, "db", name, NULL, &out, &t_err));
	json_t *j = parse(out);
	firn_free(out);
	json_t *m = json_incref(json_object_get(j, "metadata"));
	json_decref(j);
	return m;
}

static const char *prop_of(const json_t *meta, const char *key)
{
	return sval(json_object_get(meta, "properties"), key);
}

/* ---- create --------------------------------------------------------- */

TEST(create_assigns_fresh_ids)
{
	struct firn_catalog *c = fresh_warehouse("fresh");
	const char *body =
		"{\"name\":\"t\",\"schema\":{\"type\":\"struct\",\"schema-id\":4,\"identifier-field-ids\":[7],"
		"\"fields\":[{\"id\":7,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
		"{\"id\":9,\"name\":\"loc\",\"required\":false,\"type\":{\"type\":\"struct\",\"fields\":["
		"{\"id\":20,\"name\":\"lat\",\"required\":false,\"type\":\"double\"},"
		"{\"id\":21,\"name\":\"lon\",\"required\":false,\"type\":\"double\"}]}},"
		"{\"id\":30,\"name\":\"tags\",\"required\":false,\"type\":{\"type\":\"list\",\"element-id\":31,"
		"\"element\":\"string\",\"element-required\":false}}]},"
		"\"partition-spec\":{\"spec-id\":3,\"fields\":[{\"source-id\":20,\"transform\":\"identity\","
		"\"name\":\"lat\"},{\"source-id\":7,\"field-id\":5,\"transform\":\"bucket[16]\","
		"\"name\":\"id_bucket\"}]},"
		"\"write-order\":{\"order-id\":5,\"fields\":[{\"source-id\":21,\"transform\":\"identity\","
		"\"direction\":\"desc\",\"null-order\":\"nulls-last\"}]},"
		"\"properties\":{\"format-version\":\"3\",\"k\":\"v\"}}";
	char *out = NULL;
	CHECK_OK(firn_catalog_table_create_json(c, "db", body, &out, &t_err));
	json_t *r = parse(out);
	json_t *m = json_object_get(r, "metadata");
	CHECK_EQ_INT(ival(m, "format-version"), 3);
	CHECK_EQ_INT(ival(m, "last-column-id"), 6);
	CHECK_EQ_INT(ival(m, "current-schema-id"), 0);
	json_t *s = json_array_get(json_object_get(m, "schemas"), 0);
	CHECK_EQ_INT(ival(s, "schema-id"), 0);
	/* a struct's own fields first, then what they hold (Java's order) */
	CHECK_EQ_INT(ival(field(s, 0), "id"), 1);
	CHECK_EQ_INT(ival(field(s, 1), "id"), 2);
	CHECK_EQ_INT(ival(field(s, 2), "id"), 3);
	json_t *loc = json_object_get(field(s, 1), "type");
	CHECK_EQ_INT(ival(field(loc, 0), "id"), 4);
	CHECK_EQ_INT(ival(field(loc, 1), "id"), 5);
	CHECK_EQ_INT(ival(json_object_get(field(s, 2), "type"), "element-id"), 6);
	json_t *ids = json_object_get(s, "identifier-field-ids");
	CHECK_EQ_INT(json_array_size(ids), 1);
	CHECK_EQ_INT(json_integer_value(json_array_get(ids, 0)), 1);
	/* the spec's sources follow the renumbering, its field ids from 1000 */
	CHECK_EQ_INT(ival(m, "default-spec-id"), 0);
	CHECK_EQ_INT(ival(m, "last-partition-id"), 1001);
	json_t *spec = json_array_get(json_object_get(m, "partition-specs"), 0);
	CHECK_EQ_INT(ival(spec, "spec-id"), 0);
	CHECK_EQ_INT(ival(field(spec, 0), "source-id"), 4);
	CHECK_EQ_INT(ival(field(spec, 0), "field-id"), 1000);
	CHECK_EQ_INT(ival(field(spec, 1), "source-id"), 1);
	CHECK_EQ_INT(ival(field(spec, 1), "field-id"), 1001);
	CHECK_EQ_STR(sval(field(spec, 1), "transform"), "bucket[16]");
	CHECK_EQ_INT(ival(m, "default-sort-order-id"), 1);
	json_t *orders = json_object_get(m, "sort-orders");
	json_t *order = json_array_get(orders, json_array_size(orders) - 1);
	CHECK_EQ_INT(ival(order, "order-id"), 1);
	CHECK_EQ_INT(ival(field(order, 0), "source-id"), 5);
	CHECK_EQ_STR(sval(field(order, 0), "direction"), "desc");
	/* format-version picked the version and is no property */
	CHECK_EQ_STR(prop_of(m, "k"), "v");
	CHECK_EQ_STR(prop_of(m, "write.parquet.compression-codec"), "zstd");
	CHECK(prop_of(m, "format-version") == NULL);
	/* at the default location, and recorded */
	char want[400];
	snprintf(want, sizeof(want), "%s/db.db/t", wh);
	CHECK_EQ_STR(sval(m, "location"), want);
	char *ml = where(c, "t");
	CHECK_EQ_STR(sval(r, "metadata-location"), ml ? ml : "");
	CHECK(ml && access(ml, F_OK) == 0);
	firn_free(ml);
	json_decref(r);
	firn_free(out);
	firn_catalog_free(c);
}

TEST(create_default_version_and_errors)
{
	struct firn_catalog *c = fresh_warehouse("errors");
	json_t *r = create_simple(c, "t");
	json_t *m = json_object_get(r, "metadata");
	CHECK_EQ_INT(ival(m, "format-version"), 2);
	CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(json_object_get(m, "partition-specs"),
								    0), "fields")), 0);
	CHECK_EQ_INT(ival(m, "default-sort-order-id"), 0);
	json_decref(r);
	char *ml = where(c, "t");
	char *out = NULL;
	struct firn_error e = { 0 };
	const char *body = "{\"name\":\"t\",\"schema\":" SIMPLE_SCHEMA "}";
	CHECK_EQ_INT(firn_catalog_table_create_json(c, "db", body, &out, &e), FIRN_EEXISTS);
	CHECK(out == NULL);
	CHECK_EQ_INT(firn_catalog_table_create_json(c, "nope", body, &out, &e), FIRN_ENOTFOUND);
	CHECK(strncmp(e.message, "namespace ", 10) == 0);
	/* a bad schema is 400 before the namespace is asked about */
	CHECK_EQ_INT(firn_catalog_table_create_json(c, "nope", "{\"name\":\"t\",\"schema\":{}}", &out, &e),
		     FIRN_EINVAL);
	char *ml2 = where(c, "t");
	CHECK_EQ_STR(ml2, ml);
	firn_free(ml);
	firn_free(ml2);
	/* format version 1 is there for the asking */
	CHECK_OK(firn_catalog_table_create_json(c, "db", "{\"name\":\"v1\",\"schema\":" SIMPLE_SCHEMA
						",\"properties\":{\"format-version\":\"1\"}}", &out, &t_err));
	r = parse(out);
	CHECK_EQ_INT(ival(json_object_get(r, "metadata"), "format-version"), 1);
	json_decref(r);
	firn_free(out);
	firn_catalog_free(c);
}

/* A commit that creates a staged table: assert-create and the updates of
 * the staged metadata, as a client sends them. */
static char *staged_commit_body(const json_t *m)
{
	json_t *u = json_array();
	json_t *orders = json_object_get(m, "sort-orders");
	json_array_append_new(u, firn_ice__upd_assign_uuid(sval(m, "table-uuid")));
	json_array_append_new(u, firn_ice__upd_upgrade_format_version((int)ival(m, "format-version")));
	json_array_append_new(u, firn_ice__upd_add_schema(json_array_get(json_object_get(m, "schemas"), 0)));
	json_array_append_new(u, firn_ice__upd_set_current_schema(-1));
	json_array_append_new(u, firn_ice__upd_add_spec(json_array_get(json_object_get(m, "partition-specs"),
								       0)));
	json_array_append_new(u, firn_ice__upd_set_default_spec(-1));
	json_array_append_new(u, firn_ice__upd_add_sort_order(json_array_get(orders,
									     json_array_size(orders) - 1)));
	json_array_append_new(u, firn_ice__upd_set_default_sort_order(-1));
	json_array_append_new(u, firn_ice__upd_set_location(sval(m, "location")));
	json_array_append_new(u, firn_ice__upd_set_properties(json_object_get(m, "properties")));
	json_t *body = json_pack("{s:[o],s:o}", "requirements", firn_ice__req_assert_create(), "updates",
				 u);
	char *text = json_dumps(body, 0);
	json_decref(body);
	return text;
}

TEST(staged_create_then_commit_creates)
{
	struct firn_catalog *c = fresh_warehouse("staged");
	char *out = NULL;
	CHECK_OK(firn_catalog_table_create_json(c, "db", "{\"name\":\"s\",\"stage-create\":true,\"schema\":"
						SIMPLE_SCHEMA ",\"properties\":{\"p\":\"1\"}}", &out, &t_err));
	json_t *r = parse(out);
	firn_free(out);
	CHECK(json_object_get(r, "metadata-location") == NULL);
	json_t *m = json_object_get(r, "metadata");
	CHECK_EQ_STR(prop_of(m, "p"), "1");
	/* nothing recorded yet */
	char *loc = NULL;
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_catalog_table_load(c, "db", "s", &loc, &e), FIRN_ENOTFOUND);
	char *body = staged_commit_body(m);
	CHECK_OK(firn_catalog_table_commit_json(c, "db", "s", body, &out, &t_err));
	json_t *done = parse(out);
	firn_free(out);
	char *ml = where(c, "s");
	CHECK_EQ_STR(sval(done, "metadata-location"), ml ? ml : "");
	json_t *dm = json_object_get(done, "metadata");
	CHECK_EQ_STR(sval(dm, "table-uuid"), sval(m, "table-uuid"));
	CHECK_EQ_STR(sval(dm, "location"), sval(m, "location"));
	CHECK_EQ_STR(prop_of(dm, "p"), "1");
	/* the same again: the table exists now */
	CHECK_EQ_INT(firn_catalog_table_commit_json(c, "db", "s", body, &out, &e), FIRN_ECONFLICT);
	CHECK(strstr(e.message, "Requirement failed") != NULL);
	char *ml2 = where(c, "s");
	CHECK_EQ_STR(ml2, ml ? ml : "");
	firn_free(body);
	firn_free(ml);
	firn_free(ml2);
	json_decref(done);
	json_decref(r);
	firn_catalog_free(c);
}

/* ---- load ----------------------------------------------------------- */

TEST(load_round_trip)
{
	struct firn_catalog *c = fresh_warehouse("load");
	json_t *created = create_simple(c, "t");
	char *out = NULL, *loc = NULL;
	CHECK_OK(firn_catalog_table_load_json(c, "db", "t", &loc, &out, &t_err));
	json_t *r = parse(out);
	char *ml = where(c, "t");
	CHECK_EQ_STR(loc, ml ? ml : "");
	CHECK_EQ_STR(sval(r, "metadata-location"), ml ? ml : "");
	CHECK(json_equal(json_object_get(r, "metadata"), json_object_get(created, "metadata")));
	/* what the file says, as a metadata parser reads it */
	struct firn_ice_meta *m = NULL;
	CHECK_OK(firn_ice__meta_read(ml, &m, &t_err));
	CHECK_EQ_STR(sval(json_object_get(r, "metadata"), "table-uuid"), m ? m->uuid : "");
	firn_ice__meta_free(m);
	struct firn_error e = { 0 };
	char *none = NULL;
	CHECK_EQ_INT(firn_catalog_table_load_json(c, "db", "nope", NULL, &none, &e), FIRN_ENOTFOUND);
	CHECK(strncmp(e.message, "table ", 6) == 0);
	CHECK(none == NULL);
	firn_free(ml);
	firn_free(loc);
	firn_free(out);
	json_decref(r);
	json_decref(created);
	firn_catalog_free(c);
}

/* ---- commit --------------------------------------------------------- */

static char *commit_body(const char *uuid, const char *more_requirements, const char *updates)
{
	struct firn_buf b = { 0 };
	firn_buf_printf(&b, "{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"t\"},\"requirements\":"
			"[{\"type\":\"assert-table-uuid\",\"uuid\":\"%s\"}%s],\"updates\":%s}", uuid,
			more_requirements, updates);
	firn_buf_cstr(&b);
	return (char *)firn_buf_detach(&b, NULL);
}

TEST(commit_requirements_hold_and_fail)
{
	struct firn_catalog *c = fresh_warehouse("commit");
	json_t *created = create_simple(c, "t");
	const char *uuid = sval(json_object_get(created, "metadata"), "table-uuid");
	char *body = commit_body(uuid, ",{\"type\":\"assert-current-schema-id\",\"current-schema-id\":0}",
				 "[{\"action\":\"set-properties\",\"updates\":{\"k\":\"1\"}}]");
	char *out = NULL;
	CHECK_OK(firn_catalog_table_commit_json(c, "db", "t", body, &out, &t_err));
	firn_free(body);
	json_t *r = parse(out);
	firn_free(out);
	char *ml = where(c, "t");
	CHECK_EQ_STR(sval(r, "metadata-location"), ml ? ml : "");
	CHECK_EQ_STR(prop_of(json_object_get(r, "metadata"), "k"), "1");
	json_decref(r);
	firn_free(ml);
	/* a new schema made current */
	body = commit_body(uuid, ",{\"type\":\"assert-current-schema-id\",\"current-schema-id\":0}",
			   "[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"schema-id\":1,"
			   "\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
			   "{\"id\":2,\"name\":\"s\",\"required\":false,\"type\":\"string\"},"
			   "{\"id\":3,\"name\":\"n\",\"required\":false,\"type\":\"int\"}]}},"
			   "{\"action\":\"set-current-schema\",\"schema-id\":-1}]");
	CHECK_OK(firn_catalog_table_commit_json(c, "db", "t", body, &out, &t_err));
	r = parse(out);
	firn_free(out);
	CHECK_EQ_INT(ival(json_object_get(r, "metadata"), "current-schema-id"), 1);
	CHECK_EQ_INT(ival(json_object_get(r, "metadata"), "last-column-id"), 3);
	json_decref(r);
	/* the same requirement again fails: 409, nothing changes */
	ml = where(c, "t");
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_catalog_table_commit_json(c, "db", "t", body, &out, &e), FIRN_ECONFLICT);
	CHECK(strncmp(e.message, "Requirement failed", 18) == 0);
	CHECK(out == NULL);
	firn_free(body);
	body = commit_body("00000000-0000-0000-0000-000000000000", "",
			   "[{\"action\":\"set-properties\",\"updates\":{\"k\":\"2\"}}]");
	CHECK_EQ_INT(firn_catalog_table_commit_json(c, "db", "t", body, &out, &e), FIRN_ECONFLICT);
	char *ml2 = where(c, "t");
	CHECK_EQ_STR(ml2, ml ? ml : "");
	json_t *now = metadata(c, "t");
	CHECK_EQ_STR(prop_of(now, "k"), "1");
	json_decref(now);
	/* no updates: the table as it is, no new version */
	firn_free(body);
	body = commit_body(uuid, "", "[]");
	CHECK_OK(firn_catalog_table_commit_json(c, "db", "t", body, &out, &t_err));
	r = parse(out);
	firn_free(out);
	CHECK_EQ_STR(sval(r, "metadata-location"), ml ? ml : "");
	CHECK_EQ_STR(prop_of(json_object_get(r, "metadata"), "k"), "1");
	json_decref(r);
	char *ml3 = where(c, "t");
	CHECK_EQ_STR(ml3, ml ? ml : "");
	firn_free(ml3);
	/* a table that is not there is 404 */
	CHECK_EQ_INT(firn_catalog_table_commit_json(c, "db", "nope", body, &out, &e), FIRN_ENOTFOUND);
	CHECK(strncmp(e.message, "table ", 6) == 0);
	firn_free(body);
	firn_free(ml);
	firn_free(ml2);
	json_decref(created);
	firn_catalog_free(c);
}

/* A catalog whose commits first let another writer in: `lose` times the
 * other writer moves the table between the check and the swap (the swap
 * then fails), or with `schema_race` it adds a schema first and the
 * commit goes on. */
static const struct firn_ice_catalog_ops *real_ops;
static struct firn_ice_catalog_ops racy_ops;
static int lose, calls;
static bool schema_race;

static int other_writer(void *self, const char *updates)
{
	struct firn_ice_change ch = { json_array(), json_loads(updates, 0, NULL) };
	struct firn_ice_commit cm = { "db", "t", &ch, NULL, NULL, NULL, NULL };
	int rc = real_ops->commit_table(self, &cm, &t_err);
	firn_ice__meta_free(cm.meta);
	firn_free(cm.location);
	firn_ice__change_free(&ch);
	return rc;
}

static int racy_commit(void *self, struct firn_ice_commit *cm, struct firn_error *err)
{
	calls++;
	if (schema_race) {
		schema_race = false;
		CHECK_OK(other_writer(self, "[{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\","
				      "\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"}]}},"
				      "{\"action\":\"set-current-schema\",\"schema-id\":-1}]"));
	} else if (lose > 0) {
		char u[100];
		snprintf(u, sizeof(u), "[{\"action\":\"set-properties\",\"updates\":{\"other%d\":\"x\"}}]",
			 lose--);
		CHECK_OK(other_writer(self, u));
		return firn_error_set(err, FIRN_ECONFLICT, "the table changed concurrently (test)");
	}
	return real_ops->commit_table(self, cm, err);
}

TEST(server_side_retry)
{
	struct firn_catalog *c = fresh_warehouse("retry");
	json_t *created = create_simple(c, "t");
	const char *uuid = sval(json_object_get(created, "metadata"), "table-uuid");
	real_ops = c->ops;
	racy_ops = *c->ops;
	racy_ops.commit_table = racy_commit;
	c->ops = &racy_ops;
	/* two races lost, the third try wins, with both writers' changes */
	char *body = commit_body(uuid, "", "[{\"action\":\"set-properties\",\"updates\":{\"k\":\"1\"}}]");
	char *out = NULL;
	lose = 2;
	calls = 0;
	CHECK_OK(firn_catalog_table_commit_json(c, "db", "t", body, &out, &t_err));
	CHECK_EQ_INT(calls, 3);
	json_t *r = parse(out);
	firn_free(out);
	json_t *m = json_object_get(r, "metadata");
	CHECK_EQ_STR(prop_of(m, "k"), "1");
	CHECK_EQ_STR(prop_of(m, "other1"), "x");
	CHECK_EQ_STR(prop_of(m, "other2"), "x");
	json_decref(r);
	/* bounded */
	lose = 50;
	calls = 0;
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_catalog_table_commit_json(c, "db", "t", body, &out, &e), FIRN_ECONFLICT);
	CHECK_EQ_INT(calls, 10);
	CHECK(strstr(e.message, "gave up after 10 attempts") != NULL);
	firn_free(body);
	/* a requirement the other writer broke is the answer, not retried */
	lose = 0;
	calls = 0;
	schema_race = true;
	body = commit_body(uuid, ",{\"type\":\"assert-current-schema-id\",\"current-schema-id\":0}",
			   "[{\"action\":\"set-properties\",\"updates\":{\"k\":\"2\"}}]");
	CHECK_EQ_INT(firn_catalog_table_commit_json(c, "db", "t", body, &out, &e), FIRN_ECONFLICT);
	CHECK_EQ_INT(calls, 1);
	CHECK(strncmp(e.message, "Requirement failed", 18) == 0);
	json_t *now = metadata(c, "t");
	CHECK_EQ_STR(prop_of(now, "k"), "1");
	CHECK_EQ_INT(ival(now, "current-schema-id"), 1);
	json_decref(now);
	firn_free(body);
	c->ops = real_ops;
	json_decref(created);
	firn_catalog_free(c);
}

/* Two processes commit from the same base, over and over: the retry
 * absorbs every lost race, and every commit lands. */
TEST(concurrent_writers_all_land)
{
	struct firn_catalog *c = fresh_warehouse("writers");
	json_t *created = create_simple(c, "t");
	char uuid[64];
	snprintf(uuid, sizeof(uuid), "%s", sval(json_object_get(created, "metadata"), "table-uuid"));
	json_decref(created);
	firn_catalog_free(c);
	enum { WRITERS = 2, COMMITS = 8 };
	pid_t pids[WRITERS];
	fflush(NULL);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			struct firn_catalog *cc = NULL;
			if (firn_catalog_open(&cc, NULL, wh, NULL, NULL) != 0)
				_exit(3);
			for (int i = 0; i < COMMITS; i++) {
				char upd[100];
				snprintf(upd, sizeof(upd), "[{\"action\":\"set-properties\",\"updates\":"
					 "{\"w%d-%d\":\"x\"}}]", w, i);
				char *body = commit_body(uuid, "", upd), *out = NULL;
				struct firn_error e = { 0 };
				int rc = firn_catalog_table_commit_json(cc, "db", "t", body, &out, &e);
				firn_free(body);
				firn_free(out);
				if (rc != 0) {
					fprintf(stderr, "writer %d commit %d: %s\n", w, i, e.message);
					_exit(4);
				}
			}
			firn_catalog_free(cc);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status = 0;
		CHECK(waitpid(pids[w], &status, 0) == pids[w]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_OK(firn_catalog_open(&c, NULL, wh, NULL, &t_err));
	json_t *m = metadata(c, "t");
	for (int w = 0; w < WRITERS; w++)
		for (int i = 0; i < COMMITS; i++) {
			char k[32];
			snprintf(k, sizeof(k), "w%d-%d", w, i);
			CHECK_EQ_STR(prop_of(m, k), "x");
		}
	json_decref(m);
	firn_catalog_free(c);
}

/* ---- transactions --------------------------------------------------- */

static char *txn_body(const char *ns_a, const char *a_value, const char *ns_b, int b_schema)
{
	struct firn_buf b = { 0 };
	firn_buf_printf(&b, "{\"table-changes\":["
			"{\"identifier\":{\"namespace\":%s,\"name\":\"a\"},\"requirements\":[],"
			"\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"k\":\"%s\"}}]},"
			"{\"identifier\":{\"namespace\":%s,\"name\":\"b\"},\"requirements\":"
			"[{\"type\":\"assert-current-schema-id\",\"current-schema-id\":%d}],"
			"\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"k\":\"%s\"}}]}]}",
			ns_a, a_value, ns_b, b_schema, a_value);
	firn_buf_cstr(&b);
	return (char *)firn_buf_detach(&b, NULL);
}

TEST(transaction_all_or_nothing)
{
	struct firn_catalog *c = fresh_warehouse("txn");
	CHECK_OK(firn_catalog_namespace_create(c, "x.y", NULL, NULL, 0, &t_err));
	json_decref(create_simple(c, "a"));
	char *out = NULL;
	CHECK_OK(firn_catalog_table_create_json(c, "x.y", "{\"name\":\"b\",\"schema\":" SIMPLE_SCHEMA "}",
						&out, &t_err));
	firn_free(out);
	char *body = txn_body("[\"db\"]", "one", "[\"x\",\"y\"]", 0);
	CHECK_OK(firn_catalog_transaction_json(c, body, &t_err));
	firn_free(body);
	json_t *a = metadata(c, "a");
	CHECK_EQ_STR(prop_of(a, "k"), "one");
	json_decref(a);
	CHECK_OK(firn_catalog_table_load_json(c, "x.y", "b", NULL, &out, &t_err));
	json_t *b = parse(out);
	firn_free(out);
	CHECK_EQ_STR(prop_of(json_object_get(b, "metadata"), "k"), "one");
	json_decref(b);
	/* b's requirement fails: neither moves */
	char *before = where(c, "a");
	body = txn_body("[\"db\"]", "two", "[\"x\",\"y\"]", 7);
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_catalog_transaction_json(c, body, &e), FIRN_ECONFLICT);
	CHECK(strstr(e.message, "Requirement failed") != NULL);
	firn_free(body);
	char *after = where(c, "a");
	CHECK_EQ_STR(after, before ? before : "");
	a = metadata(c, "a");
	CHECK_EQ_STR(prop_of(a, "k"), "one");
	json_decref(a);
	CHECK_OK(firn_catalog_table_load_json(c, "x.y", "b", NULL, &out, &t_err));
	b = parse(out);
	firn_free(out);
	CHECK_EQ_STR(prop_of(json_object_get(b, "metadata"), "k"), "one");
	json_decref(b);
	/* a table that is not there fails it too */
	body = txn_body("[\"db\"]", "three", "[\"db\"]", 0);
	CHECK_EQ_INT(firn_catalog_transaction_json(c, body, &e), FIRN_ENOTFOUND);
	firn_free(body);
	a = metadata(c, "a");
	CHECK_EQ_STR(prop_of(a, "k"), "one");
	json_decref(a);
	firn_free(before);
	firn_free(after);
	firn_catalog_free(c);
}

/* ---- confinement ---------------------------------------------------- */

static int create_at(struct firn_catalog *c, const char *name, const char *location,
		     struct firn_error *err)
{
	char body[1200];
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"location\":\"%s\",\"schema\":" SIMPLE_SCHEMA "}",
		 name, location);
	char *out = NULL;
	int rc = firn_catalog_table_create_json(c, "db", body, &out, err);
	firn_free(out);
	return rc;
}

static int set_location(struct firn_catalog *c, const char *uuid, const char *location,
			struct firn_error *err)
{
	char upd[700];
	snprintf(upd, sizeof(upd), "[{\"action\":\"set-location\",\"location\":\"%s\"}]", location);
	char *body = commit_body(uuid, "", upd), *out = NULL;
	int rc = firn_catalog_table_commit_json(c, "db", "t", body, &out, err);
	firn_free(body);
	firn_free(out);
	return rc;
}

TEST(confine_locations)
{
	struct firn_catalog *c = fresh_warehouse("confine");
	char outside[400], inside[400], sneaky[400], txn[1200];
	snprintf(outside, sizeof(outside), "%s-elsewhere/t", wh);
	snprintf(inside, sizeof(inside), "%s/custom/t2", wh);
	snprintf(sneaky, sizeof(sneaky), "%s/custom/../../%s", wh, strrchr(wh, '/') + 1);
	json_t *created = create_simple(c, "t");
	const char *uuid = sval(json_object_get(created, "metadata"), "table-uuid");
	/* off: the caller may put a table where it likes */
	CHECK_OK(create_at(c, "free", outside, &t_err));
	firn_catalog_confine(c, true);
	struct firn_error e = { 0 };
	char *ml = where(c, "t");
	CHECK_EQ_INT(create_at(c, "out", outside, &e), FIRN_EINVAL);
	CHECK(strstr(e.message, "is outside the warehouse") != NULL);
	CHECK_EQ_INT(create_at(c, "out", sneaky, &e), FIRN_EINVAL);
	CHECK_EQ_INT(create_at(c, "out", wh, &e), FIRN_EINVAL);
	char *loc = NULL;
	CHECK_EQ_INT(firn_catalog_table_load(c, "db", "out", &loc, &e), FIRN_ENOTFOUND);
	CHECK_OK(create_at(c, "in", inside, &t_err));
	CHECK_EQ_INT(set_location(c, uuid, outside, &e), FIRN_EINVAL);
	CHECK(strstr(e.message, "is outside the warehouse") != NULL);
	char *ml2 = where(c, "t");
	CHECK_EQ_STR(ml2, ml ? ml : "");
	snprintf(txn, sizeof(txn), "{\"table-changes\":[{\"identifier\":{\"namespace\":[\"db\"],"
		 "\"name\":\"t\"},\"requirements\":[],\"updates\":[{\"action\":\"set-location\","
		 "\"location\":\"%s\"}]}]}", outside);
	CHECK_EQ_INT(firn_catalog_transaction_json(c, txn, &e), FIRN_EINVAL);
	CHECK(strstr(e.message, "is outside the warehouse") != NULL);
	char *ml3 = where(c, "t");
	CHECK_EQ_STR(ml3, ml ? ml : "");
	char moved[400];
	snprintf(moved, sizeof(moved), "%s/moved/t", wh);
	CHECK_OK(set_location(c, uuid, moved, &t_err));
	json_t *m = metadata(c, "t");
	CHECK_EQ_STR(sval(m, "location"), moved);
	json_decref(m);
	/* off again */
	firn_catalog_confine(c, false);
	CHECK_OK(set_location(c, uuid, outside, &t_err));
	firn_free(ml);
	firn_free(ml2);
	firn_free(ml3);
	json_decref(created);
	firn_catalog_free(c);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s-elsewhere'", wh);
	CHECK(system(cmd) == 0);
}

TEST(allow_location)
{
	struct firn_catalog *c = fresh_warehouse("allow");
	char lake[400], given[420], t[420], root_slash[420], up[460], cmd[600];
	snprintf(lake, sizeof(lake), "%s-lake", wh);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", lake, lake);
	CHECK(system(cmd) == 0);
	snprintf(given, sizeof(given), "file:%s/t", lake); /* one slash */
	snprintf(t, sizeof(t), "%s/t", lake);
	snprintf(root_slash, sizeof(root_slash), "file://%s/", lake);
	snprintf(up, sizeof(up), "%s/../%s-other/t", lake, strrchr(wh, '/') + 1);
	firn_catalog_confine(c, true);
	struct firn_error e = { 0 };
	CHECK_EQ_INT(create_at(c, "t", given, &e), FIRN_EINVAL);
	CHECK(strstr(e.message, "is outside the warehouse") != NULL);
	/* no confinement in a root, a relative path or a bucket's root */
	CHECK_EQ_INT(firn_catalog_allow_location(c, "/", &e), FIRN_EINVAL);
	CHECK_EQ_INT(firn_catalog_allow_location(c, "file:/", &e), FIRN_EINVAL);
	CHECK_EQ_INT(firn_catalog_allow_location(c, "rel/dir", &e), FIRN_EINVAL);
	CHECK_EQ_INT(firn_catalog_allow_location(c, "s3://bucket/", &e), FIRN_EINVAL);
	CHECK(strstr(e.message, "allowed location s3://bucket/") != NULL);
	CHECK_OK(firn_catalog_allow_location(c, "s3://bucket/lake", &t_err));
	CHECK_OK(firn_catalog_allow_location(c, root_slash, &t_err));
	/* the root itself is no table's place; ".." does not lead out */
	CHECK_EQ_INT(create_at(c, "t", lake, &e), FIRN_EINVAL);
	CHECK_EQ_INT(create_at(c, "t", up, &e), FIRN_EINVAL);
	CHECK(strstr(e.message, "outside the warehouse and the allowed locations") != NULL);
	CHECK_OK(create_at(c, "t", given, &t_err));
	json_t *m = metadata(c, "t");
	CHECK_EQ_STR(sval(m, "location"), given); /* as given, as Java keeps it */
	json_decref(m);
	/* a missing metadata file: not found (a REST NotFoundException), named */
	char *ml = where(c, "t"), *out = NULL, want[600];
	snprintf(want, sizeof(want), "Failed to open input stream for file: %s", ml ? ml : "");
	snprintf(cmd, sizeof(cmd), "mv '%s' '%s.gone'", firn_io__path(ml ? ml : ""),
		 firn_io__path(ml ? ml : ""));
	CHECK(system(cmd) == 0);
	CHECK_EQ_INT(firn_catalog_table_load_json(c, "db", "t", NULL, &out, &e), FIRN_ENOTFOUND);
	CHECK_EQ_STR(e.message, want);
	CHECK(out == NULL);
	snprintf(cmd, sizeof(cmd), "mv '%s.gone' '%s'", firn_io__path(ml ? ml : ""),
		 firn_io__path(ml ? ml : ""));
	CHECK(system(cmd) == 0);
	/* live tables still may not nest; a dropped table's leftovers are free */
	char sub[440];
	snprintf(sub, sizeof(sub), "%s/sub", t);
	CHECK_EQ_INT(create_at(c, "nested", sub, &e), FIRN_EEXISTS);
	CHECK(strstr(e.message, "overlaps the location of db.t") != NULL);
	CHECK_OK(firn_table_drop(c, "db.t", false, NULL, &t_err));
	CHECK_OK(create_at(c, "again", t, &t_err));
	firn_free(ml);
	firn_catalog_free(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lake);
	CHECK(system(cmd) == 0);
}

/* ---- malformed bodies ----------------------------------------------- */

enum kind { CREATE, COMMIT, TXN, LOAD };

struct bad {
	enum kind kind;
	const char *body;
};

#define F1 "{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"long\"}"
#define UPD(x) "{\"requirements\":[],\"updates\":[" x "]}"

static const struct bad BAD[] = {
	{ CREATE, NULL },
	{ CREATE, "" },
	{ CREATE, "not json" },
	{ CREATE, "[]" },
	{ CREATE, "{}" },
	{ CREATE, "{\"name\":5,\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]}}" },
	{ CREATE, "{\"name\":\"bad\"}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":\"x\"}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":7}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"name\":\"a\","
		  "\"required\":true,\"type\":\"long\"}]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":\"1\",\"name\":\"a\","
		  "\"required\":true,\"type\":\"long\"}]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "," F1 "]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":99999999999999999999999,"
		  "\"name\":\"a\",\"required\":true,\"type\":\"long\"}]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1e999,"
		  "\"name\":\"a\",\"required\":true,\"type\":\"long\"}]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"identifier-field-ids\":[5],"
		  "\"fields\":[" F1 "]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"partition-spec\":{\"fields\":[{\"source-id\":2,\"transform\":\"identity\",\"name\":\"x\"}]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"partition-spec\":{\"fields\":[{\"source-id\":1,\"name\":\"x\"}]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"partition-spec\":[]}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"write-order\":{\"order-id\":1,\"fields\":[{\"source-id\":1,\"transform\":\"identity\","
		  "\"direction\":\"up\",\"null-order\":\"nulls-first\"}]}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},\"properties\":[]}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"properties\":{\"a\":1}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"properties\":{\"format-version\":\"4\"}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"properties\":{\"format-version\":\"two\"}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"properties\":{\"commit.retry.num-retries\":\"many\"}}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},"
		  "\"stage-create\":\"yes\"}" },
	{ CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]},\"location\":\"\"}" },
	{ CREATE, "{\"name\":\"a/b\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]}}" },
	{ CREATE, "{\"name\":\"bad\",\"name\":\"bad2\",\"schema\":{\"type\":\"struct\",\"fields\":[" F1 "]}}" },
	{ COMMIT, NULL },
	{ COMMIT, "{" },
	{ COMMIT, "[]" },
	{ COMMIT, "{}" },
	{ COMMIT, "{\"requirements\":{},\"updates\":[]}" },
	{ COMMIT, "{\"requirements\":[]}" },
	{ COMMIT, "{\"identifier\":\"db.t\",\"requirements\":[],\"updates\":[]}" },
	{ COMMIT, UPD("{\"action\":\"make-it-fast\"}") },
	{ COMMIT, UPD("{\"updates\":{}}") },
	{ COMMIT, UPD("{\"action\":\"set-properties\",\"updates\":{\"a\":1}}") },
	{ COMMIT, UPD("{\"action\":\"upgrade-format-version\",\"format-version\":99999999999}") },
	{ COMMIT, UPD("{\"action\":\"upgrade-format-version\",\"format-version\":9}") },
	{ COMMIT, UPD("{\"action\":\"add-schema\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1}]}}") },
	{ COMMIT, UPD("{\"action\":\"set-current-schema\",\"schema-id\":99}") },
	{ COMMIT, UPD("{\"action\":\"set-location\",\"location\":7}") },
	{ COMMIT, "{\"requirements\":[{\"type\":\"assert-nothing\"}],\"updates\":[]}" },
	{ COMMIT, "{\"requirements\":[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\","
		  "\"snapshot-id\":\"x\"}],\"updates\":[]}" },
	{ TXN, NULL },
	{ TXN, "nope" },
	{ TXN, "{}" },
	{ TXN, "{\"table-changes\":{}}" },
	{ TXN, "{\"table-changes\":[]}" },
	{ TXN, "{\"table-changes\":[5]}" },
	{ TXN, "{\"table-changes\":[{\"requirements\":[],\"updates\":[]}]}" },
	{ TXN, "{\"table-changes\":[{\"identifier\":{\"namespace\":\"db\",\"name\":\"t\"},"
	       "\"requirements\":[],\"updates\":[]}]}" },
	{ TXN, "{\"table-changes\":[{\"identifier\":{\"namespace\":[],\"name\":\"t\"},"
	       "\"requirements\":[],\"updates\":[]}]}" },
	{ TXN, "{\"table-changes\":[{\"identifier\":{\"namespace\":[1],\"name\":\"t\"},"
	       "\"requirements\":[],\"updates\":[]}]}" },
	{ TXN, "{\"table-changes\":[{\"identifier\":{\"namespace\":[\"d.b\"],\"name\":\"t\"},"
	       "\"requirements\":[],\"updates\":[]}]}" },
	{ TXN, "{\"table-changes\":[{\"identifier\":{\"namespace\":[\"db\"]},"
	       "\"requirements\":[],\"updates\":[]}]}" },
	{ TXN, "{\"table-changes\":[{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"t\"},"
	       "\"requirements\":[],\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"k\":\"ok\"}}]},"
	       "{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"t\"},"
	       "\"requirements\":[],\"updates\":[{\"action\":\"frobnicate\"}]}]}" },
};

/* Lists nested `depth` deep as a create's schema. */
static char *deep_schema(int depth)
{
	struct firn_buf b = { 0 };
	firn_buf_puts(&b, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,"
		      "\"name\":\"a\",\"required\":true,\"type\":");
	for (int i = 0; i < depth; i++)
		firn_buf_printf(&b, "{\"type\":\"list\",\"element-id\":%d,\"element-required\":true,"
				"\"element\":", i + 2);
	firn_buf_puts(&b, "\"long\"");
	for (int i = 0; i < depth; i++)
		firn_buf_putc(&b, '}');
	firn_buf_puts(&b, "}]}}");
	firn_buf_cstr(&b);
	return (char *)firn_buf_detach(&b, NULL);
}

static int run_bad(struct firn_catalog *c, enum kind k, const char *body, struct firn_error *e)
{
	char *out = NULL;
	int rc = k == CREATE ? firn_catalog_table_create_json(c, "db", body, &out, e)
		 : k == COMMIT ? firn_catalog_table_commit_json(c, "db", "t", body, &out, e)
			       : firn_catalog_transaction_json(c, body, e);
	CHECK(out == NULL);
	firn_free(out);
	return rc;
}

TEST(malformed_bodies_are_einval)
{
	struct firn_catalog *c = fresh_warehouse("bad");
	json_decref(create_simple(c, "t"));
	char *ml = where(c, "t");
	size_t n = sizeof(BAD) / sizeof(BAD[0]);
	CHECK(n >= 20);
	for (size_t i = 0; i < n; i++) {
		struct firn_error e = { 0 };
		int rc = run_bad(c, BAD[i].kind, BAD[i].body, &e);
		if (rc != FIRN_EINVAL || getenv("T_VERBOSE"))
			fprintf(stderr, "case %zu (%s): rc %d: %s\n", i, BAD[i].body ? BAD[i].body : "NULL",
				rc, e.message);
		CHECK_EQ_INT(rc, FIRN_EINVAL);
		CHECK(e.message[0] != '\0');
		CHECK(strchr(e.message, '\n') == NULL);
	}
	/* a type firn does not know is 400 too, as "not something firn does" */
	struct firn_error e = { 0 };
	CHECK_EQ_INT(run_bad(c, CREATE, "{\"name\":\"bad\",\"schema\":{\"type\":\"struct\",\"fields\":"
			     "[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"longer\"}]}}", &e),
		     FIRN_EUNSUPPORTED);
	CHECK(strstr(e.message, "longer") != NULL);
	/* nesting: too deep for firn's schema rules, and for the JSON parser */
	int depths[] = { 150, 5000 };
	for (size_t i = 0; i < 2; i++) {
		char *body = deep_schema(depths[i]);
		struct firn_error e = { 0 };
		CHECK_EQ_INT(run_bad(c, CREATE, body, &e), FIRN_EINVAL);
		firn_free(body);
	}
	/* nothing moved, nothing was made */
	char *ml2 = where(c, "t");
	CHECK_EQ_STR(ml2, ml ? ml : "");
	char **names = NULL;
	size_t nn = 0;
	CHECK_OK(firn_catalog_table_list(c, "db", &names, &nn, &t_err));
	CHECK_EQ_INT(nn, 1);
	firn_catalog_strings_free(names, nn);
	firn_free(ml);
	firn_free(ml2);
	firn_catalog_free(c);
}

/* ---- out of memory ---------------------------------------------------- */

/* Runs one request with its n-th allocation failing, for every n until
 * one runs through: each must come back as an error (or success), never a
 * crash, and free what it took (LeakSanitizer in the sanitizer build). */
static void oom_sweep(struct firn_catalog *c, enum kind k, const char *ns, const char *name,
		      const char *body, long *runs)
{
	for (long n = 1; n < 20000; n++) {
		char *out = NULL;
		struct firn_error e = { 0 };
		firn_alloc__fail_at(n, false);
		int rc = k == CREATE ? firn_catalog_table_create_json(c, ns, body, &out, &e)
			 : k == COMMIT ? firn_catalog_table_commit_json(c, ns, name, body, &out, &e)
			 : k == TXN    ? firn_catalog_transaction_json(c, body, &e)
				       : firn_catalog_table_load_json(c, ns, name, NULL, &out, &e);
		long failed = firn_alloc__failures();
		firn_alloc__fail_at(0, false);
		CHECK(rc == 0 || e.message[0] != '\0');
		if (rc != 0 && rc != FIRN_ENOMEM && getenv("T_VERBOSE"))
			fprintf(stderr, "sweep %d n=%ld: %d %s\n", (int)k, n, rc, e.message);
		CHECK(rc != 0 || out || k == TXN);
		firn_free(out);
		(*runs)++;
		if (failed == 0) {
			CHECK_OK(rc);
			return;
		}
	}
	CHECK(!"the sweep did not end");
}

TEST(out_of_memory_fails_cleanly)
{
	struct firn_catalog *c = fresh_warehouse("oom");
	json_t *created = create_simple(c, "t");
	json_decref(create_simple(c, "u"));
	const char *uuid = sval(json_object_get(created, "metadata"), "table-uuid");
	long runs = 0;
	oom_sweep(c, LOAD, "db", "t", NULL, &runs);
	oom_sweep(c, CREATE, "db", NULL, "{\"name\":\"s\",\"stage-create\":true,\"schema\":"
		  SIMPLE_SCHEMA ",\"partition-spec\":{\"fields\":[{\"source-id\":1,"
		  "\"transform\":\"bucket[4]\",\"name\":\"b\"}]}}", &runs);
	char *body = commit_body(uuid, "", "[{\"action\":\"set-properties\",\"updates\":{\"k\":\"1\"}}]");
	oom_sweep(c, COMMIT, "db", "t", body, &runs);
	firn_free(body);
	oom_sweep(c, TXN, NULL, NULL, "{\"table-changes\":[{\"identifier\":{\"namespace\":[\"db\"],"
		  "\"name\":\"t\"},\"requirements\":[],\"updates\":[{\"action\":\"set-properties\","
		  "\"updates\":{\"k\":\"2\"}}]},{\"identifier\":{\"namespace\":[\"db\"],\"name\":\"u\"},"
		  "\"requirements\":[],\"updates\":[{\"action\":\"set-properties\",\"updates\":"
		  "{\"k\":\"2\"}}]}]}", &runs);
	CHECK(runs > 100);
	/* the tables are whole: loadable, at the old or the new version */
	json_t *m = metadata(c, "t");
	CHECK(m != NULL);
	json_decref(m);
	json_decref(created);
	firn_catalog_free(c);
}

int main(void)
{
	RUN(create_assigns_fresh_ids);
	RUN(create_default_version_and_errors);
	RUN(staged_create_then_commit_creates);
	RUN(load_round_trip);
	RUN(commit_requirements_hold_and_fail);
	RUN(server_side_retry);
	RUN(concurrent_writers_all_land);
	RUN(transaction_all_or_nothing);
	RUN(confine_locations);
	RUN(allow_location);
	RUN(malformed_bodies_are_einval);
	RUN(out_of_memory_fails_cleanly);
	return t_summary();
}
