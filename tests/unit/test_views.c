/* Views: the view metadata builder (ice_view.c) and the catalog's view
 * requests (ice_view_json.c, the SQL catalog's VIEW rows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/util.h"
#include "iceberg/ice_view.h"
#include "t.h"

static const char *SCHEMA_A = "{\"type\":\"struct\",\"schema-id\":5,\"fields\":["
			      "{\"id\":3,\"name\":\"id\",\"required\":true,\"type\":\"int\"}]}";
static const char *SCHEMA_B = "{\"type\":\"struct\",\"schema-id\":7,\"fields\":["
			      "{\"id\":1,\"name\":\"some_id\",\"required\":true,\"type\":\"int\"}]}";

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fprintf(stderr, "bad test JSON: %s: %s\n", je.text, text);
	return j;
}

/* A version (id 1, schema -1: the last added) with the given queries. */
static json_t *version(const char *dialect1, const char *sql1, const char *dialect2)
{
	json_t *reps = json_array();
	json_array_append_new(reps, json_pack("{s:s,s:s,s:s}", "type", "sql", "sql", sql1,
					      "dialect", dialect1));
	if (dialect2)
		json_array_append_new(reps, json_pack("{s:s,s:s,s:s}", "type", "sql", "sql", sql1,
						      "dialect", dialect2));
	return json_pack("{s:i,s:I,s:i,s:{s:s},s:[s],s:o}", "version-id", 1, "timestamp-ms", (json_int_t)1000,
			 "schema-id", -1, "summary", "engine-name", "test", "default-namespace", "ns",
			 "representations", reps);
}

/* The updates of a replace: schema, version on it, made current. A
 * client sends the id of a schema the view has (SCHEMA_A: 0), since no
 * schema is added then. */
static json_t *replace_updates(const char *schema, json_t *ver)
{
	if (schema == SCHEMA_A)
		json_object_set_new(ver, "schema-id", json_integer(0));
	return json_pack("[{s:s,s:o},{s:s,s:o},{s:s,s:i}]", "action", "add-schema", "schema",
			 J(schema), "action", "add-view-version", "view-version", ver, "action",
			 "set-current-view-version", "view-version-id", -1);
}

static json_t *created(const char *props)
{
	json_t *u = json_pack("[{s:s,s:s},{s:s,s:o},{s:s,s:o},{s:s,s:o},{s:s,s:i}]", "action",
			      "set-location", "location", "/tmp/v", "action", "set-properties",
			      "updates", J(props), "action", "add-schema", "schema", J(SCHEMA_A),
			      "action", "add-view-version", "view-version",
			      version("spark", "select 1", "trino"), "action",
			      "set-current-view-version", "view-version-id", -1);
	json_t *v = NULL;
	size_t changes = 0;
	CHECK_OK(firn_ice__view_build(NULL, u, &v, &changes, &t_err));
	CHECK_EQ_INT(changes, strcmp(props, "{}") == 0 ? 4 : 5); /* no properties: no change */
	json_decref(u);
	return v;
}

static json_int_t ival(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

TEST(test_create)
{
	json_t *v = created("{\"a\":\"b\"}");
	if (!v)
		return;
	CHECK_EQ_INT(ival(v, "format-version"), 1);
	CHECK_EQ_INT(ival(v, "current-version-id"), 1);
	CHECK_EQ_INT(ival(json_array_get(json_object_get(v, "schemas"), 0), "schema-id"), 0);
	const json_t *ver = json_array_get(json_object_get(v, "versions"), 0);
	CHECK_EQ_INT(ival(ver, "schema-id"), 0);
	CHECK_EQ_INT(ival(ver, "timestamp-ms"), 1000);
	const json_t *log = json_object_get(v, "version-log");
	CHECK_EQ_INT(json_array_size(log), 1);
	CHECK_EQ_INT(ival(json_array_get(log, 0), "version-id"), 1);
	CHECK_EQ_INT(ival(json_array_get(log, 0), "timestamp-ms"), 1000);
	CHECK_EQ_STR(json_string_value(json_object_get(v, "location")), "/tmp/v");
	CHECK_EQ_INT(strlen(json_string_value(json_object_get(v, "view-uuid"))), 36);
	/* what is dumped parses back and passes the checks */
	char *text = firn_ice__view_dump(v);
	json_t *back = NULL;
	CHECK_OK(firn_ice__view_parse(text, strlen(text), "dumped", &back, &t_err));
	CHECK(back && json_equal(back, v));
	firn_free(text);
	json_decref(back);
	json_decref(v);
}

TEST(test_dialect_twice)
{
	json_t *u = replace_updates(SCHEMA_A, version("trino", "select 1", "TRINO"));
	json_array_insert_new(u, 0, json_pack("{s:s,s:s}", "action", "set-location", "location", "/x"));
	json_t *v = NULL;
	size_t changes;
	CHECK_EQ_INT(firn_ice__view_build(NULL, u, &v, &changes, &t_err), FIRN_EINVAL);
	CHECK_EQ_STR(t_err.message, "Invalid view version: Cannot add multiple queries for dialect trino");
	CHECK(v == NULL);
	json_decref(u);
}

TEST(test_replace)
{
	json_t *base = created("{\"replace.drop-dialect.allowed\":\"true\"}");
	json_t *u = replace_updates(SCHEMA_B, version("trino", "select 2", NULL));
	json_t *v = NULL;
	size_t changes = 0;
	CHECK_OK(firn_ice__view_build(base, u, &v, &changes, &t_err));
	json_decref(u);
	if (!v) {
		json_decref(base);
		return;
	}
	CHECK_EQ_INT(changes, 3);
	CHECK_EQ_INT(ival(v, "current-version-id"), 2);
	CHECK_EQ_INT(json_array_size(json_object_get(v, "schemas")), 2);
	const json_t *ver = json_array_get(json_object_get(v, "versions"), 1);
	CHECK_EQ_INT(ival(ver, "version-id"), 2);
	CHECK_EQ_INT(ival(ver, "schema-id"), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(v, "version-log")), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(v, "view-uuid")),
		     json_string_value(json_object_get(base, "view-uuid")));

	/* the same version again (a client's retry) is reused: no change */
	json_t *again = NULL;
	u = json_pack("[{s:s,s:o}]", "action", "add-view-version", "view-version",
		      json_deep_copy(ver));
	CHECK_OK(firn_ice__view_build(v, u, &again, &changes, &t_err));
	CHECK_EQ_INT(changes, 0);
	CHECK_EQ_INT(json_array_size(json_object_get(again, "versions")), 2);
	json_decref(u);
	json_decref(again);
	json_decref(v);
	json_decref(base);
}

TEST(test_dialect_dropped)
{
	json_t *base = created("{}");
	json_t *u = replace_updates(SCHEMA_A, version("trino", "select 2", NULL));
	json_t *v = NULL;
	size_t changes;
	CHECK_EQ_INT(firn_ice__view_build(base, u, &v, &changes, &t_err), FIRN_EINVAL);
	CHECK(strstr(t_err.message, "loss of view dialects") != NULL);
	CHECK(strstr(t_err.message, "spark") != NULL);
	json_decref(u);
	json_decref(base);
}

TEST(test_history_expiry)
{
	json_t *v = created("{\"version.history.num-entries\":\"2\","
			    "\"replace.drop-dialect.allowed\":\"true\"}");
	for (int i = 0; v && i < 3; i++) {
		char sql[32];
		snprintf(sql, sizeof(sql), "select %d", i + 10);
		json_t *u = replace_updates(SCHEMA_A, version("spark", sql, NULL));
		json_t *next = NULL;
		size_t changes;
		CHECK_OK(firn_ice__view_build(v, u, &next, &changes, &t_err));
		json_decref(u);
		json_decref(v);
		v = next;
	}
	if (!v)
		return;
	const json_t *versions = json_object_get(v, "versions");
	CHECK_EQ_INT(json_array_size(versions), 2);
	CHECK_EQ_INT(ival(json_array_get(versions, 0), "version-id"), 3);
	CHECK_EQ_INT(ival(json_array_get(versions, 1), "version-id"), 4);
	CHECK_EQ_INT(ival(v, "current-version-id"), 4);
	/* the log keeps only entries of versions still there */
	const json_t *log = json_object_get(v, "version-log");
	CHECK_EQ_INT(json_array_size(log), 2);
	CHECK_EQ_INT(ival(json_array_get(log, 0), "version-id"), 3);
	json_decref(v);
}

TEST(test_requirements)
{
	json_t *v = created("{}");
	if (!v)
		return;
	json_t *ok = json_pack("[{s:s,s:s}]", "type", "assert-view-uuid", "uuid",
			       json_string_value(json_object_get(v, "view-uuid")));
	json_t *bad = J("[{\"type\":\"assert-view-uuid\",\"uuid\":\"00000000-0000-4000-8000-000000000000\"}]");
	json_t *odd = J("[{\"type\":\"assert-table-uuid\",\"uuid\":\"x\"}]");
	CHECK_OK(firn_ice__view_requirements_check(v, ok, &t_err));
	CHECK_EQ_INT(firn_ice__view_requirements_check(v, bad, &t_err), FIRN_ECONFLICT);
	CHECK_EQ_INT(firn_ice__view_requirements_check(v, odd, &t_err), FIRN_EINVAL);
	json_decref(ok);
	json_decref(bad);
	json_decref(odd);
	json_decref(v);
}

TEST(test_parse_rejects)
{
	static const char *bad[] = {
		"[]",
		"{\"view-uuid\":\"u\",\"format-version\":2,\"location\":\"/x\",\"schemas\":[],"
		"\"current-version-id\":1,\"versions\":[],\"version-log\":[]}",
		"{\"view-uuid\":\"u\",\"format-version\":1,\"location\":\"/x\",\"schemas\":[],"
		"\"current-version-id\":1,\"versions\":[],\"version-log\":[]}",
		"{\"view-uuid\":\"u\",\"format-version\":1,\"location\":\"/x\",\"schemas\":[],"
		"\"current-version-id\":1,\"versions\":[{\"version-id\":1,\"timestamp-ms\":1,"
		"\"schema-id\":0,\"summary\":{},\"default-namespace\":[],\"representations\":[]}],"
		"\"version-log\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = NULL;
		int rc = firn_ice__view_parse(bad[i], strlen(bad[i]), "f", &v, &t_err);
		CHECK(rc == FIRN_ECORRUPT || rc == FIRN_EUNSUPPORTED);
		CHECK(v == NULL);
	}
}

static const char *CREATE =
	"{\"name\":\"v\",\"schema\":{\"type\":\"struct\",\"schema-id\":5,\"fields\":["
	"{\"id\":3,\"name\":\"id\",\"required\":true,\"type\":\"int\"}]},"
	"\"view-version\":{\"version-id\":9,\"timestamp-ms\":1000,\"schema-id\":5,\"summary\":{},"
	"\"default-namespace\":[\"ns\"],\"representations\":[{\"type\":\"sql\",\"sql\":\"select 1\","
	"\"dialect\":\"spark\"}]},\"properties\":{\"p\":\"1\"}}";

static json_t *loaded(struct firn_catalog *c, const char *ns, const char *name, char **loc)
{
	char *r = NULL;
	CHECK_OK(firn_catalog_view_load_json(c, ns, name, loc, &r, &t_err));
	json_t *j = r ? J(r) : NULL;
	firn_free(r);
	return j;
}

TEST(test_catalog)
{
	char dir[] = "/tmp/firn-test-views-XXXXXX";
	if (!mkdtemp(dir))
		return;
	struct firn_catalog *c = NULL;
	CHECK_OK(firn_catalog_open(&c, NULL, dir, NULL, &t_err));
	if (!c)
		return;
	CHECK_OK(firn_catalog_namespace_create(c, "ns", NULL, NULL, 0, &t_err));
	CHECK_OK(firn_catalog_namespace_create(c, "other", NULL, NULL, 0, &t_err));
	char *r = NULL;
	CHECK_EQ_INT(firn_catalog_view_create_json(c, "nope", CREATE, &r, &t_err), FIRN_ENOTFOUND);
	CHECK_EQ_STR(t_err.message, "Namespace does not exist: nope");
	CHECK_OK(firn_catalog_view_create_json(c, "ns", CREATE, &r, &t_err));
	firn_free(r);
	CHECK_EQ_INT(firn_catalog_view_create_json(c, "ns", CREATE, &r, &t_err), FIRN_EEXISTS);
	CHECK_EQ_STR(t_err.message, "View already exists: ns.v");

	char **names = NULL;
	size_t n = 0;
	CHECK_OK(firn_catalog_view_list(c, "ns", &names, &n, &t_err));
	CHECK_EQ_INT(n, 1);
	CHECK(n == 1 && strcmp(names[0], "v") == 0);
	firn_catalog_strings_free(names, n);
	/* a view is not a table */
	CHECK_OK(firn_catalog_table_list(c, "ns", &names, &n, &t_err));
	CHECK_EQ_INT(n, 0);
	firn_catalog_strings_free(names, n);
	char *tloc = NULL;
	CHECK_EQ_INT(firn_catalog_table_load(c, "ns", "v", &tloc, &t_err), FIRN_ENOTFOUND);

	char *loc = NULL;
	json_t *j = loaded(c, "ns", "v", &loc);
	const json_t *m = json_object_get(j, "metadata");
	CHECK_EQ_INT(ival(m, "current-version-id"), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(m, "properties"), "p")), "1");
	CHECK(loc && strstr(loc, "/ns.db/v/metadata/00000-") != NULL);

	/* a commit: properties set, a new file, the pointer moved */
	char body[256];
	snprintf(body, sizeof(body), "{\"requirements\":[{\"type\":\"assert-view-uuid\",\"uuid\":\"%s\"}],"
		 "\"updates\":[{\"action\":\"set-properties\",\"updates\":{\"k\":\"v\"}}]}",
		 json_string_value(json_object_get(m, "view-uuid")));
	CHECK_OK(firn_catalog_view_commit_json(c, "ns", "v", body, &r, &t_err));
	firn_free(r);
	char *loc2 = NULL;
	json_t *j2 = loaded(c, "ns", "v", &loc2);
	CHECK(loc2 && strstr(loc2, "/metadata/00001-") != NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(
			     json_object_get(json_object_get(j2, "metadata"), "properties"), "k")), "v");
	CHECK_EQ_INT(firn_catalog_view_commit_json(c, "ns", "nope", body, &r, &t_err), FIRN_ENOTFOUND);
	CHECK_EQ_STR(t_err.message, "View does not exist: ns.nope");

	/* rename, then the names it may not take */
	CHECK_OK(firn_catalog_view_rename(c, "ns", "v", "other", "w", &t_err));
	CHECK_EQ_INT(firn_catalog_view_rename(c, "ns", "v", "other", "x", &t_err), FIRN_ENOTFOUND);
	CHECK_EQ_INT(firn_catalog_view_rename(c, "other", "w", "gone", "x", &t_err), FIRN_ENOTFOUND);
	CHECK_EQ_STR(t_err.message, "Namespace does not exist: gone");
	json_t *j3 = loaded(c, "other", "w", NULL);
	CHECK(j3 && json_equal(json_object_get(j3, "metadata"), json_object_get(j2, "metadata")));

	/* a table may not take the view's name, nor the view a table's */
	CHECK_EQ_INT(firn_catalog_table_create_json(c, "other", "{\"name\":\"w\",\"schema\":"
						    "{\"type\":\"struct\",\"fields\":[]}}", &r, &t_err),
		     FIRN_EEXISTS);
	CHECK_EQ_STR(t_err.message, "View with same name already exists: other.w");
	CHECK_OK(firn_catalog_table_create_json(c, "ns", "{\"name\":\"v\",\"schema\":"
						"{\"type\":\"struct\",\"fields\":[]}}", &r, &t_err));
	firn_free(r);
	CHECK_EQ_INT(firn_catalog_view_create_json(c, "ns", CREATE, &r, &t_err), FIRN_EEXISTS);
	CHECK_EQ_STR(t_err.message, "Table with same name already exists: ns.v");
	CHECK_EQ_INT(firn_catalog_view_rename(c, "other", "w", "ns", "v", &t_err), FIRN_EEXISTS);
	CHECK_EQ_STR(t_err.message, "Cannot rename other.w to ns.v. Table already exists");

	/* a namespace with a view in it is not empty */
	CHECK(firn_catalog_namespace_drop(c, "other", &t_err) != 0);
	CHECK_OK(firn_catalog_view_drop(c, "other", "w", &t_err));
	CHECK_EQ_INT(firn_catalog_view_drop(c, "other", "w", &t_err), FIRN_ENOTFOUND);
	CHECK_OK(firn_catalog_namespace_drop(c, "other", &t_err));

	json_decref(j);
	json_decref(j2);
	json_decref(j3);
	firn_free(loc);
	firn_free(loc2);
	firn_catalog_free(c);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
	RUN(test_create);
	RUN(test_dialect_twice);
	RUN(test_replace);
	RUN(test_dialect_dropped);
	RUN(test_history_expiry);
	RUN(test_requirements);
	RUN(test_parse_rejects);
	RUN(test_catalog);
	return t_summary();
}
