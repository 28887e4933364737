/* Tests of firn_table_import / firn_table_import_more (firn/import.h): a
 * plan over Parquet files without field ids, identity-partitioned by a
 * column the files lack, with adds, row deletes (replaced later), a
 * version without files and a removal; read back by tag. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/import.h"
#include "firn/parquet.h"
#include "firn/table.h"
#include "t.h"

static char wh[64], src[96];
static struct firn_catalog *cat;

static const char *SCHEMA =
	"{\"type\": \"struct\", \"fields\": ["
	"{\"id\": 1, \"name\": \"id\", \"required\": false, \"type\": \"long\"},"
	"{\"id\": 2, \"name\": \"p\", \"required\": false, \"type\": \"string\"}]}";
static const char *SCHEMA2 =
	"{\"type\": \"struct\", \"fields\": ["
	"{\"id\": 1, \"name\": \"id\", \"required\": false, \"type\": \"long\"},"
	"{\"id\": 2, \"name\": \"p\", \"required\": false, \"type\": \"string\"},"
	"{\"id\": 3, \"name\": \"extra\", \"required\": false, \"type\": \"int\"}]}";
static const char *SPEC =
	"{\"spec-id\": 0, \"fields\": [{\"name\": \"p\", \"transform\": \"identity\", "
	"\"source-id\": 2, \"field-id\": 1000}]}";

/* A Parquet file of column id (no field id) holding first..first+n-1. */
static void write_ids(const char *path, int64_t first, int n)
{
	struct ArrowSchema s;
	CHECK_OK(firn_schema_init(&s, "+s", "", 0, 1));
	CHECK_OK(firn_schema_init(s.children[0], "l", "id", 2, 0));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	for (int i = 0; i < n; i++) {
		CHECK_OK(firn_builder_append_i64(&b.children[0], first + i));
		CHECK_OK(firn_builder_append_struct(&b));
	}
	struct ArrowArray batch;
	CHECK_OK(firn_builder_finish(&b, &batch, &t_err));
	firn_builder_free(&b);
	struct firn_parquet_writer *w = NULL;
	CHECK_OK(firn_parquet_writer_open(&w, path, &s, NULL, &t_err));
	CHECK_OK(firn_parquet_writer_write(w, &batch, &t_err));
	CHECK_OK(firn_parquet_writer_close(w, &t_err));
	firn_parquet_writer_free(w);
	batch.release(&batch);
	s.release(&s);
}

static int64_t count(struct firn_table *t, const char *where, const char *ref)
{
	struct firn_snapshot_sel sel = { 0 };
	sel.ref = ref;
	int64_t n = -1;
	CHECK_OK(firn_table_count(t, where, &sel, &n, &t_err));
	return n;
}

static char fa[128], fb[128], fc[128];

TEST(import_versions_and_more)
{
	static const char *px[] = { "x" }, *py[] = { "y" };
	struct firn_import_file v0_add[] = { { fa, -1, -1, px }, { fb, -1, 10, py } };
	static const int64_t del1[] = { 0, 1, 2 }, del4[] = { 0, 1, 2, 3 };
	struct firn_import_deletes v1_del[] = { { fa, del1, 3 } };
	struct firn_import_file v3_add[] = { { fc, -1, -1, py } };
	const char *v3_rm[] = { fb };
	struct firn_import_version vs[] = {
		{ 0, 1000, SCHEMA, v0_add, 2, NULL, 0, NULL, 0, "v-0" },
		{ 1, 2000, NULL, NULL, 0, NULL, 0, v1_del, 1, "v-1" },
		{ 2, 3000, SCHEMA2, NULL, 0, NULL, 0, NULL, 0, "v-2" },
		{ 3, 4000, NULL, v3_add, 1, v3_rm, 1, NULL, 0, "v-3" },
	};
	struct firn_import_plan plan = { "test", src, SPEC, vs, 4 };
	struct firn_import_info info;
	CHECK_OK(firn_table_import(cat, "ns.imp", &plan, &info, &t_err));
	CHECK_EQ_INT(info.versions, 4);
	CHECK_EQ_INT(info.snapshots, 3);
	CHECK_EQ_INT(info.files, 3);
	CHECK_EQ_INT(info.last_version, 3);
	struct firn_table *t = NULL;
	CHECK_OK(firn_table_load(cat, "ns.imp", &t, &t_err));
	if (!t)
		return;
	CHECK_EQ_INT(count(t, NULL, "v-0"), 20);
	CHECK_EQ_INT(count(t, NULL, "v-1"), 17);
	CHECK_EQ_INT(count(t, NULL, "v-2"), 17);
	CHECK_EQ_INT(count(t, NULL, "v-3"), 12);
	CHECK_EQ_INT(count(t, "p = 'x'", NULL), 7);
	CHECK_EQ_INT(count(t, "p = 'y' AND id >= 20", NULL), 5);
	CHECK_EQ_INT(count(t, "id < 5", NULL), 2);
	int64_t v = -1;
	CHECK_OK(firn_table_imported_version(t, "test", &v, &t_err));
	CHECK_EQ_INT(v, 3);

	/* more: the deletes of A replaced (cumulative), a version skipped */
	struct firn_import_deletes v4_del[] = { { fa, del4, 4 } };
	struct firn_import_version more[] = {
		{ 3, 4000, NULL, v3_add, 1, v3_rm, 1, NULL, 0, "v-3" },
		{ 4, 5000, NULL, NULL, 0, NULL, 0, v4_del, 1, "v-4" },
	};
	struct firn_import_plan plan2 = { "test", src, SPEC, more, 2 };
	CHECK_OK(firn_table_import_more(t, &plan2, &info, &t_err));
	CHECK_EQ_INT(info.versions, 1);
	CHECK_EQ_INT(info.snapshots, 1);
	CHECK_EQ_INT(count(t, NULL, "v-4"), 11);
	CHECK_EQ_INT(count(t, NULL, "v-3"), 12);
	CHECK_EQ_INT(count(t, "p = 'x'", NULL), 6);
	firn_table_free(t);

	/* a plan from elsewhere is refused; the source's files stay */
	struct firn_import_plan other = { "test", "/elsewhere", SPEC, more, 2 };
	CHECK_OK(firn_table_load(cat, "ns.imp", &t, &t_err));
	CHECK(firn_table_import_more(t, &other, &info, NULL) == FIRN_EINVAL);
	firn_table_free(t);
	CHECK_OK(firn_table_drop(cat, "ns.imp", true, NULL, &t_err));
	CHECK(access(fa, F_OK) == 0 && access(fb, F_OK) == 0 && access(fc, F_OK) == 0);
}

TEST(failed_import_leaves_no_table)
{
	static const char *px[] = { "x" };
	struct firn_import_file add[] = { { fa, -1, -1, px } };
	const char *rm[] = { "/nowhere/never-added.parquet" };
	struct firn_import_version vs[] = {
		{ 0, 1000, SCHEMA, add, 1, NULL, 0, NULL, 0, NULL },
		{ 1, 2000, NULL, NULL, 0, rm, 1, NULL, 0, NULL },
	};
	struct firn_import_plan plan = { "test", src, SPEC, vs, 2 };
	struct firn_error e;
	CHECK(firn_table_import(cat, "ns.bad", &plan, NULL, &e) == FIRN_EINVAL);
	struct firn_table *t = NULL;
	CHECK(firn_table_load(cat, "ns.bad", &t, NULL) == FIRN_ENOTFOUND);
	firn_table_free(t);
	CHECK(access(fa, F_OK) == 0);
}

int main(void)
{
	strcpy(wh, "/tmp/firn-test-import-XXXXXX");
	if (!mkdtemp(wh))
		return 1;
	snprintf(src, sizeof(src), "%s-src", wh);
	mkdir(src, 0755);
	snprintf(fa, sizeof(fa), "%s/a.parquet", src);
	snprintf(fb, sizeof(fb), "%s/b.parquet", src);
	snprintf(fc, sizeof(fc), "%s/c.parquet", src);
	write_ids(fa, 0, 10);
	write_ids(fb, 10, 10);
	write_ids(fc, 20, 5);
	CHECK_OK(firn_catalog_open(&cat, NULL, wh, NULL, &t_err));
	CHECK_OK(firn_catalog_namespace_create(cat, "ns", NULL, NULL, 0, &t_err));
	RUN(import_versions_and_more);
	RUN(failed_import_leaves_no_table);
	firn_catalog_free(cat);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", wh, src);
	if (system(cmd) != 0)
		return 1;
	return t_summary();
}
