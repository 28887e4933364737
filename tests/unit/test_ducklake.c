/* Tests of the DuckLake reader (src/catalog/ducklake.c): a DuckLake catalog
 * made here with SQLite (the tables and columns DuckDB's ducklake extension
 * writes, format 1.0) and one delete file, read back as a plan: versions,
 * schemas, files added and removed, deleted positions (a delete file and
 * inlined deletions), partition values, and the refusals.
 *
 * With arguments URI NAME it prints the plan of that catalog's table
 * instead (a debugging aid). */
#define _GNU_SOURCE /* mkdtemp */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/ducklake_private.h"
#include "firn/arrow.h"
#include "firn/parquet.h"
#include "firn/text.h"
#include "t.h"

static char dir[64];
static char uri[128];

static const char *DDL =
	"CREATE TABLE ducklake_metadata(key VARCHAR, value VARCHAR, scope VARCHAR, scope_id BIGINT);"
	"CREATE TABLE ducklake_snapshot(snapshot_id BIGINT, snapshot_time TEXT, schema_version "
	"BIGINT, next_catalog_id BIGINT, next_file_id BIGINT);"
	"CREATE TABLE ducklake_schema(schema_id BIGINT, schema_uuid TEXT, begin_snapshot BIGINT, "
	"end_snapshot BIGINT, schema_name VARCHAR, path VARCHAR, path_is_relative BOOLEAN);"
	"CREATE TABLE ducklake_table(table_id BIGINT, table_uuid TEXT, begin_snapshot BIGINT, "
	"end_snapshot BIGINT, schema_id BIGINT, table_name VARCHAR, path VARCHAR, "
	"path_is_relative BOOLEAN);"
	"CREATE TABLE ducklake_column(column_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, "
	"table_id BIGINT, column_order BIGINT, column_name VARCHAR, column_type VARCHAR, "
	"initial_default VARCHAR, default_value VARCHAR, nulls_allowed BOOLEAN, parent_column "
	"BIGINT);"
	"CREATE TABLE ducklake_data_file(data_file_id BIGINT, table_id BIGINT, begin_snapshot "
	"BIGINT, end_snapshot BIGINT, file_order BIGINT, path VARCHAR, path_is_relative BOOLEAN, "
	"file_format VARCHAR, record_count BIGINT, file_size_bytes BIGINT, footer_size BIGINT, "
	"row_id_start BIGINT, partition_id BIGINT, encryption_key VARCHAR, mapping_id BIGINT, "
	"partial_max BIGINT);"
	"CREATE TABLE ducklake_delete_file(delete_file_id BIGINT, table_id BIGINT, begin_snapshot "
	"BIGINT, end_snapshot BIGINT, data_file_id BIGINT, path VARCHAR, path_is_relative BOOLEAN, "
	"format VARCHAR, delete_count BIGINT, file_size_bytes BIGINT, footer_size BIGINT, "
	"encryption_key VARCHAR, partial_max BIGINT);"
	"CREATE TABLE ducklake_partition_info(partition_id BIGINT, table_id BIGINT, begin_snapshot "
	"BIGINT, end_snapshot BIGINT);"
	"CREATE TABLE ducklake_partition_column(partition_id BIGINT, table_id BIGINT, "
	"partition_key_index BIGINT, column_id BIGINT, transform VARCHAR);"
	"CREATE TABLE ducklake_file_partition_value(data_file_id BIGINT, table_id BIGINT, "
	"partition_key_index BIGINT, partition_value VARCHAR);"
	"CREATE TABLE ducklake_file_column_stats(data_file_id BIGINT, table_id BIGINT, column_id "
	"BIGINT, column_size_bytes BIGINT, value_count BIGINT, null_count BIGINT, min_value "
	"VARCHAR, max_value VARCHAR, contains_nan BOOLEAN, extra_stats VARCHAR);"
	"CREATE TABLE ducklake_inlined_data_tables(table_id BIGINT, table_name VARCHAR, "
	"schema_version BIGINT);";

static void sql(sqlite3 *db, const char *s)
{
	char *msg = NULL;
	if (sqlite3_exec(db, s, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s: %s\n", msg, s);
		CHECK(0);
	}
	sqlite3_free(msg);
}

/* A delete file as DuckLake writes it: file_path, pos, and with snap the
 * snapshot of each deletion (_ducklake_internal_snapshot_id). */
static void write_delete_file(const char *path, const char *data_file, const int64_t *pos,
			      const int64_t *snap, int n)
{
	struct ArrowSchema s;
	struct firn_builder b;
	struct ArrowArray batch;
	CHECK_OK(firn_spec_parse_schema(snap ? "file_path string not null, pos long not null, "
						"_ducklake_internal_snapshot_id long not null"
					      : "file_path string not null, pos long not null",
					&s, &t_err));
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	for (int i = 0; i < n; i++) {
		CHECK_OK(firn_builder_append_bytes(&b.children[0], data_file, strlen(data_file)));
		CHECK_OK(firn_builder_append_i64(&b.children[1], pos[i]));
		if (snap)
			CHECK_OK(firn_builder_append_i64(&b.children[2], snap[i]));
		CHECK_OK(firn_builder_append_struct(&b));
	}
	CHECK_OK(firn_builder_finish(&b, &batch, &t_err));
	struct firn_parquet_writer *w = NULL;
	CHECK_OK(firn_parquet_writer_open(&w, path, &s, NULL, &t_err));
	CHECK_OK(firn_parquet_writer_write(w, &batch, &t_err));
	CHECK_OK(firn_parquet_writer_close(w, &t_err));
	firn_parquet_writer_free(w);
	batch.release(&batch);
	firn_builder_free(&b);
	s.release(&s);
}

/* Table main.t (id 1): snapshot 1 creates it (id int32, name varchar),
 * 2 adds file 10, 3 adds file 11, 4 deletes rows 1 and 3 of file 10
 * (delete file 20) and row 0 of file 11 (inlined), 5 adds column x int64,
 * 6 removes file 11 and deletes row 2 of file 10 (the same delete file,
 * its deletions dated by snapshot). Table main.p (id 2): partitioned by year(d),
 * month(d), s; main.m (id 3) by month(d) alone. */
static void make_catalog(void)
{
	strcpy(dir, "/tmp/firn-ducklake-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	char path[128], stmt[1024];
	snprintf(path, sizeof(path), "%s/meta.sqlite", dir);
	snprintf(uri, sizeof(uri), "sqlite:///%s", path);
	sqlite3 *db = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	sql(db, DDL);
	snprintf(stmt, sizeof(stmt),
		 "INSERT INTO ducklake_metadata VALUES ('version','1.0',NULL,NULL),"
		 "('data_path','%s/data/',NULL,NULL),('encrypted','false',NULL,NULL)", dir);
	sql(db, stmt);
	sql(db, "INSERT INTO ducklake_snapshot VALUES (0,'2026-01-01 00:00:00+00',0,1,0),"
		"(1,'2026-01-01 00:00:01.5+00',1,2,0),(2,'2026-01-01 00:00:02+00',1,2,11),"
		"(3,'2026-01-01 00:00:03+00',1,2,12),(4,'2026-01-01 00:00:04+00',1,2,21),"
		"(5,'2026-01-01 00:00:05+00',2,2,21),(6,'2026-01-01 00:00:06+00',2,2,21),"
		"(7,'2026-01-01 00:00:07+00',3,3,21),(8,'2026-01-01 00:00:08+00',3,3,30)");
	sql(db, "INSERT INTO ducklake_schema VALUES (0,'u',0,NULL,'main','main/',1)");
	sql(db, "INSERT INTO ducklake_table VALUES (1,'u1',1,NULL,0,'t','t/',1),"
		"(2,'u2',7,NULL,0,'p','p/',1),(3,'u3',7,NULL,0,'m','m/',1),"
		"(4,'u4',7,NULL,0,'j','j/',1),(5,'u5',7,NULL,0,'inl','inl/',1)");
	sql(db, "INSERT INTO ducklake_column VALUES "
		"(1,1,NULL,1,1,'id','int32',NULL,'NULL',0,NULL),"
		"(2,1,NULL,1,2,'name','varchar',NULL,'NULL',1,NULL),"
		"(3,5,NULL,1,3,'x','int64',NULL,'NULL',1,NULL),"
		"(4,5,NULL,1,4,'tags','list',NULL,NULL,1,NULL),"
		"(5,5,NULL,1,5,'element','varchar',NULL,NULL,1,4),"
		"(1,7,NULL,2,1,'id','int32',NULL,'NULL',1,NULL),"
		"(2,7,NULL,2,2,'d','date',NULL,'NULL',1,NULL),"
		"(3,7,NULL,2,3,'s','varchar',NULL,'NULL',1,NULL),"
		"(1,7,NULL,3,1,'d','date',NULL,'NULL',1,NULL),"
		"(1,7,NULL,4,1,'j','json',NULL,'NULL',1,NULL),"
		"(1,7,NULL,5,1,'i','int32',NULL,'NULL',1,NULL)");
	sql(db, "INSERT INTO ducklake_data_file VALUES "
		"(10,1,2,NULL,NULL,'a.parquet',1,'parquet',4,100,10,0,NULL,NULL,NULL,NULL),"
		"(11,1,3,6,NULL,'/elsewhere/b.parquet',0,'parquet',2,200,10,4,NULL,NULL,NULL,NULL),"
		"(12,2,8,NULL,NULL,'year=2021/month=3/s=x/c.parquet',1,'parquet',1,300,10,0,5,NULL,"
		"NULL,NULL),"
		"(13,2,8,NULL,NULL,'e.parquet',1,'parquet',1,300,10,1,5,NULL,NULL,NULL),"
		"(14,3,8,NULL,NULL,'f.parquet',1,'parquet',2,300,10,0,6,NULL,NULL,NULL),"
		"(15,3,8,NULL,NULL,'g.parquet',1,'parquet',2,300,10,2,6,NULL,NULL,NULL)");
	sql(db, "INSERT INTO ducklake_delete_file VALUES "
		"(20,1,4,NULL,10,'a-delete.parquet',1,'parquet',2,50,10,NULL,NULL)");
	sql(db, "CREATE TABLE ducklake_inlined_delete_1(file_id BIGINT, row_id BIGINT, "
		"begin_snapshot BIGINT); INSERT INTO ducklake_inlined_delete_1 VALUES (11,0,4)");
	sql(db, "INSERT INTO ducklake_partition_info VALUES (5,2,7,NULL),(6,3,7,NULL)");
	sql(db, "INSERT INTO ducklake_partition_column VALUES (5,2,0,2,'year'),(5,2,1,2,'month'),"
		"(5,2,2,3,'identity'),(6,3,0,1,'month')");
	sql(db, "INSERT INTO ducklake_file_partition_value VALUES (12,2,0,'2021'),(12,2,1,'3'),"
		"(12,2,2,'x'),(13,2,0,NULL),(13,2,1,NULL),(13,2,2,NULL),(14,3,0,'7'),(15,3,0,'7')");
	sql(db, "INSERT INTO ducklake_file_column_stats VALUES "
		"(14,3,1,10,2,0,'2024-07-01','2024-07-31',NULL,NULL),"
		"(15,3,1,10,2,0,'2023-07-01','2024-07-31',NULL,NULL)");
	sql(db, "CREATE TABLE ducklake_inlined_data_5_1(row_id BIGINT, begin_snapshot BIGINT, "
		"end_snapshot BIGINT, i INTEGER); INSERT INTO ducklake_inlined_data_5_1 VALUES "
		"(0,7,NULL,1); INSERT INTO ducklake_inlined_data_tables VALUES "
		"(5,'ducklake_inlined_data_5_1',1)");
	sqlite3_close(db);
	snprintf(path, sizeof(path), "%s/data", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/data/main", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/data/main/t", dir);
	CHECK(mkdir(path, 0755) == 0);
	char del[160], data[160];
	snprintf(del, sizeof(del), "%s/data/main/t/a-delete.parquet", dir);
	snprintf(data, sizeof(data), "%s/data/main/t/a.parquet", dir);
	/* rows 3 and 1 deleted at 4, row 2 at 6: one file, as DuckLake 1.0
	 * rewrites a delete file holding several snapshots' deletions */
	int64_t pos[] = { 3, 1, 2 }, snap[] = { 4, 4, 6 };
	write_delete_file(del, data, pos, snap, 3);
}

static const struct firn_import_version *version(const struct firn_import_plan *p, int64_t id)
{
	for (size_t i = 0; i < p->n_versions; i++)
		if (p->versions[i].id == id)
			return &p->versions[i];
	return NULL;
}

TEST(plan_of_a_table)
{
	struct firn_ducklake_plan *dp = NULL;
	CHECK_OK(firn_ducklake__plan(uri, "t", -1, &dp, &t_err));
	if (!dp)
		return;
	const struct firn_import_plan *p = firn_ducklake__plan_get(dp);
	char loc[160];
	CHECK_EQ_STR(p->format, "ducklake");
	CHECK(p->partition_spec == NULL);
	CHECK_EQ_INT(p->n_versions, 6); /* 1..6 */
	const struct firn_import_version *v1 = version(p, 1), *v2 = version(p, 2),
					 *v3 = version(p, 3), *v4 = version(p, 4),
					 *v5 = version(p, 5), *v6 = version(p, 6);
	CHECK(v1 && v2 && v3 && v4 && v5 && v6);
	if (!v1 || !v2 || !v3 || !v4 || !v5 || !v6)
		goto done;
	CHECK_EQ_INT(v1->timestamp_ms, 1767225601500LL);
	CHECK_EQ_STR(v1->tag, "ducklake-snapshot-1");
	CHECK_EQ_STR(v1->schema, "{\"type\":\"struct\",\"schema-id\":0,\"fields\":"
				 "[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"int\"},"
				 "{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":"
				 "\"string\"}]}");
	CHECK_EQ_INT(v1->n_added, 0);
	CHECK(v2->schema == NULL);
	CHECK_EQ_INT(v2->n_added, 1);
	snprintf(loc, sizeof(loc), "%s/data/main/t/a.parquet", dir);
	CHECK_EQ_STR(v2->added[0].location, loc);
	CHECK_EQ_INT(v2->added[0].records, 4);
	CHECK_EQ_INT(v2->added[0].size, 100);
	CHECK(v2->added[0].partition == NULL);
	CHECK_EQ_INT(v3->n_added, 1);
	CHECK_EQ_STR(v3->added[0].location, "/elsewhere/b.parquet");
	/* snapshot 4: a delete file for a.parquet, an inlined deletion for b */
	CHECK_EQ_INT(v4->n_added, 0);
	CHECK_EQ_INT(v4->n_deletes, 2);
	if (v4->n_deletes == 2) {
		CHECK_EQ_STR(v4->deletes[0].data_file, loc);
		CHECK_EQ_INT(v4->deletes[0].n, 2);
		CHECK_EQ_INT(v4->deletes[0].positions[0], 1);
		CHECK_EQ_INT(v4->deletes[0].positions[1], 3);
		CHECK_EQ_STR(v4->deletes[1].data_file, "/elsewhere/b.parquet");
		CHECK_EQ_INT(v4->deletes[1].n, 1);
		CHECK_EQ_INT(v4->deletes[1].positions[0], 0);
	}
	/* snapshot 5: a column added (a list), no file changed */
	CHECK(v5->schema != NULL && strstr(v5->schema, "{\"id\":3,\"name\":\"x\",\"required\":"
						       "false,\"type\":\"long\"}") != NULL);
	CHECK(v5->schema != NULL && strstr(v5->schema, "\"type\":{\"type\":\"list\","
						       "\"element-id\":5,\"element\":\"string\","
						       "\"element-required\":false}") != NULL);
	CHECK_EQ_INT(v5->n_added + v5->n_removed + v5->n_deletes, 0);
	CHECK_EQ_INT(v6->n_removed, 1);
	CHECK_EQ_STR(v6->removed[0], "/elsewhere/b.parquet");
	CHECK_EQ_INT(v6->n_deletes, 1);
	if (v6->n_deletes == 1) {
		CHECK_EQ_STR(v6->deletes[0].data_file, loc);
		CHECK_EQ_INT(v6->deletes[0].n, 3);
		CHECK_EQ_INT(v6->deletes[0].positions[2], 3);
	}
done:
	firn_ducklake__plan_free(dp);
}

TEST(incremental_plan)
{
	struct firn_ducklake_plan *dp = NULL;
	CHECK_OK(firn_ducklake__plan(uri, "main.t", 4, &dp, &t_err));
	if (!dp)
		return;
	const struct firn_import_plan *p = firn_ducklake__plan_get(dp);
	CHECK_EQ_INT(p->n_versions, 2);
	CHECK_EQ_INT(p->versions[0].id, 5);
	CHECK(p->versions[0].schema != NULL); /* x added at 5 */
	CHECK_EQ_INT(p->versions[1].id, 6);
	CHECK(p->versions[1].schema == NULL);
	firn_ducklake__plan_free(dp);
	CHECK_OK(firn_ducklake__plan(uri, "main.t", 6, &dp, &t_err));
	if (dp)
		CHECK_EQ_INT(firn_ducklake__plan_get(dp)->n_versions, 0);
	firn_ducklake__plan_free(dp);
	CHECK_OK(firn_ducklake__plan(uri, "main.t", 2, &dp, &t_err));
	if (dp)
		CHECK_EQ_INT(firn_ducklake__plan_get(dp)->n_versions, 4); /* 3..6 */
	firn_ducklake__plan_free(dp);
}

TEST(partition_values)
{
	struct firn_ducklake_plan *dp = NULL;
	CHECK_OK(firn_ducklake__plan(uri, "p", -1, &dp, &t_err));
	if (!dp)
		return;
	const struct firn_import_plan *p = firn_ducklake__plan_get(dp);
	/* year(d), month(d) in DuckLake is Iceberg's month(d) */
	CHECK_EQ_STR(p->partition_spec,
		     "{\"spec-id\":0,\"fields\":[{\"name\":\"d_month\",\"transform\":"
		     "\"month\",\"source-id\":2,\"field-id\":1000},{\"name\":\"s\","
		     "\"transform\":\"identity\",\"source-id\":3,\"field-id\":1001}]}");
	const struct firn_import_version *v8 = version(p, 8);
	CHECK(v8 && v8->n_added == 2);
	if (v8 && v8->n_added == 2) {
		CHECK_EQ_STR(v8->added[0].partition[0], "2021-03");
		CHECK_EQ_STR(v8->added[0].partition[1], "x");
		CHECK(v8->added[1].partition[0] == NULL);
		CHECK(v8->added[1].partition[1] == NULL);
	}
	firn_ducklake__plan_free(dp);
}

TEST(month_alone_from_statistics)
{
	/* m's month(d) values (7) do not name the year: f.parquet's min and max
	 * place it in 2024-07; g.parquet spans 2023-07..2024-07 */
	struct firn_ducklake_plan *dp = NULL;
	int rc = firn_ducklake__plan(uri, "m", -1, &dp, &t_err);
	CHECK_EQ_INT(rc, FIRN_EUNSUPPORTED);
	CHECK(strstr(t_err.message, "g.parquet: rows of several Iceberg month(d) partitions") !=
	      NULL);
	CHECK(dp == NULL);
}

TEST(refusals)
{
	struct firn_ducklake_plan *dp = NULL;
	CHECK_EQ_INT(firn_ducklake__plan(uri, "nope", -1, &dp, &t_err), FIRN_ENOTFOUND);
	CHECK(strstr(t_err.message, "no table main.nope") != NULL);
	CHECK_EQ_INT(firn_ducklake__plan(uri, "j", -1, &dp, &t_err), FIRN_EUNSUPPORTED);
	CHECK(strstr(t_err.message, "column j of table main.j has DuckLake type json") != NULL);
	CHECK_EQ_INT(firn_ducklake__plan(uri, "inl", -1, &dp, &t_err), FIRN_EUNSUPPORTED);
	CHECK(strstr(t_err.message, "1 rows inlined") != NULL);
	/* a SQLite file that is no DuckLake catalog, and a file that is no
	 * SQLite database */
	char path[128];
	snprintf(path, sizeof(path), "%s/other.sqlite", dir);
	sqlite3 *db = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	sql(db, "CREATE TABLE x(a INT)");
	sqlite3_close(db);
	CHECK_EQ_INT(firn_ducklake__plan(path, "t", -1, &dp, &t_err), FIRN_EINVAL);
	CHECK(strstr(t_err.message, "not a DuckLake catalog") != NULL);
	snprintf(path, sizeof(path), "%s/text.sqlite", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("this is no database, only some text that goes on for a while\n", f);
		fclose(f);
	}
	CHECK_EQ_INT(firn_ducklake__plan(path, "t", -1, &dp, &t_err), FIRN_EINVAL);
	CHECK(dp == NULL);
}

static void dump(const char *u, const char *name)
{
	struct firn_ducklake_plan *dp = NULL;
	if (firn_ducklake__plan(u, name, -1, &dp, &t_err) != 0) {
		printf("error %d: %s\n", t_err.code, t_err.message);
		return;
	}
	const struct firn_import_plan *p = firn_ducklake__plan_get(dp);
	printf("spec %s\n", p->partition_spec ? p->partition_spec : "-");
	for (size_t i = 0; i < p->n_versions; i++) {
		const struct firn_import_version *v = &p->versions[i];
		printf("version %" PRId64 " at %" PRId64 " tag %s\n", v->id, v->timestamp_ms, v->tag);
		if (v->schema)
			printf("  schema %s\n", v->schema);
		for (size_t j = 0; j < v->n_added; j++) {
			printf("  + %s (%" PRId64 " rows, %" PRId64 " bytes)", v->added[j].location,
			       v->added[j].records, v->added[j].size);
			if (v->added[j].partition)
				printf(" partition[0] %s", v->added[j].partition[0] ? v->added[j].partition[0] : "null");
			printf("\n");
		}
		for (size_t j = 0; j < v->n_removed; j++)
			printf("  - %s\n", v->removed[j]);
		for (size_t j = 0; j < v->n_deletes; j++) {
			printf("  deletes %s:", v->deletes[j].data_file);
			for (size_t k = 0; k < v->deletes[j].n; k++)
				printf(" %" PRId64, v->deletes[j].positions[k]);
			printf("\n");
		}
	}
	firn_ducklake__plan_free(dp);
}

int main(int argc, char **argv)
{
	if (argc == 3) {
		dump(argv[1], argv[2]);
		return 0;
	}
	make_catalog();
	RUN(plan_of_a_table);
	RUN(incremental_plan);
	RUN(partition_values);
	RUN(month_alone_from_statistics);
	RUN(refusals);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_summary();
}
