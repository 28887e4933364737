/* Commits through the catalog interface: one table's change as
 * requirements + updates, and a transaction over two tables that is
 * all-or-nothing — when a requirement fails, and when the process is
 * killed (SIGKILL) at each step of the commit. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/table.h"
#include "firn/util.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "t.h"

static char wh[256];

static struct firn_catalog *open_wh(void)
{
	struct firn_catalog *c = NULL;
	CHECK_OK(firn_catalog_open(&c, NULL, wh, NULL, &t_err));
	return c;
}

static void fresh_warehouse(const char *name)
{
	snprintf(wh, sizeof(wh), "%s/firn-txn-%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), name);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", wh);
	CHECK(system(cmd) == 0);
	struct firn_catalog *c = open_wh();
	CHECK_OK(firn_catalog_namespace_create(c, "db", NULL, NULL, 0, &t_err));
	struct firn_table_create_options o = { .schema = "id long not null, s string" };
	struct firn_table *t = NULL;
	CHECK_OK(firn_table_create(c, "db.a", &o, &t, &t_err));
	firn_table_free(t);
	CHECK_OK(firn_table_create(c, "db.b", &o, &t, &t_err));
	firn_table_free(t);
	firn_catalog_free(c);
}

/* The value of property k of table ident, or NULL (firn_malloc'd). */
static char *prop(struct firn_catalog *c, const char *ident)
{
	struct firn_table *t = NULL;
	CHECK_OK(firn_table_load(c, ident, &t, &t_err));
	if (!t)
		return NULL;
	const char *v = json_string_value(json_object_get(json_object_get(t->meta->root, "properties"), "k"));
	char *out = v ? firn_strdup(v) : NULL;
	firn_table_free(t);
	return out;
}

/* A change setting k=value on the table as it is now, requiring that its
 * current schema is still `schema_id`. */
static void set_k(struct firn_table *t, const char *value, int32_t schema_id,
		  struct firn_ice_change *ch)
{
	CHECK_OK(firn_ice__change_init(ch, &t_err));
	CHECK_OK(firn_ice__change_require(ch, firn_ice__req_assert_table_uuid(t->meta->uuid), &t_err));
	CHECK_OK(firn_ice__change_require(ch, firn_ice__req_assert_current_schema_id(schema_id), &t_err));
	json_t *set = json_pack("{s:s}", "k", value);
	CHECK_OK(firn_ice__change_update(ch, firn_ice__upd_set_properties(set), &t_err));
	json_decref(set);
}

/* Commits k=value to both tables in one transaction; the schema id b's
 * change requires is b_schema. */
static int commit_both(struct firn_catalog *c, const char *value, int32_t b_schema,
		       struct firn_error *err)
{
	struct firn_table *a = NULL, *b = NULL;
	CHECK_OK(firn_table_load(c, "db.a", &a, &t_err));
	CHECK_OK(firn_table_load(c, "db.b", &b, &t_err));
	struct firn_ice_change ca, cb;
	set_k(a, value, 0, &ca);
	set_k(b, value, b_schema, &cb);
	struct firn_ice_commit v[2] = {
		{ "db", "a", &ca, a->meta, a->metadata_location, NULL, NULL },
		{ "db", "b", &cb, b->meta, b->metadata_location, NULL, NULL },
	};
	int rc = firn_ice__catalog_transaction(c, v, 2, err);
	for (int i = 0; i < 2; i++) {
		firn_ice__meta_free(v[i].meta);
		firn_free(v[i].location);
	}
	firn_ice__change_free(&ca);
	firn_ice__change_free(&cb);
	firn_table_free(a);
	firn_table_free(b);
	return rc;
}

TEST(both_commit)
{
	fresh_warehouse("both");
	struct firn_catalog *c = open_wh();
	CHECK_OK(commit_both(c, "one", 0, &t_err));
	char *a = prop(c, "db.a"), *b = prop(c, "db.b");
	CHECK_EQ_STR(a, "one");
	CHECK_EQ_STR(b, "one");
	firn_free(a);
	firn_free(b);
	firn_catalog_free(c);
}

TEST(a_failed_requirement_commits_neither)
{
	fresh_warehouse("neither");
	struct firn_catalog *c = open_wh();
	struct firn_error e = { 0 };
	CHECK_EQ_INT(commit_both(c, "two", 7, &e), FIRN_ECONFLICT);
	CHECK(strstr(e.message, "schema") != NULL);
	CHECK(prop(c, "db.a") == NULL);
	CHECK(prop(c, "db.b") == NULL);
	/* and the tables still take commits */
	CHECK_OK(commit_both(c, "three", 0, &t_err));
	char *a = prop(c, "db.a");
	CHECK_EQ_STR(a, "three");
	firn_free(a);
	firn_catalog_free(c);
}

TEST(killed_at_each_step_leaves_both_or_neither)
{
	const char *steps[] = { "after-metadata", "before-swap", "mid-transaction", "after-swap" };
	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		fresh_warehouse(steps[i]);
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			setenv("FIRN_CRASH_AT", steps[i], 1);
			struct firn_catalog *c = NULL;
			if (firn_catalog_open(&c, NULL, wh, NULL, NULL) != 0)
				_exit(3);
			commit_both(c, "killed", 0, NULL);
			_exit(0); /* the crash point did not fire */
		}
		int status = 0;
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		struct firn_catalog *c = open_wh();
		char *a = prop(c, "db.a"), *b = prop(c, "db.b");
		bool after = strcmp(steps[i], "after-swap") == 0;
		if (after) {
			CHECK_EQ_STR(a, "killed");
			CHECK_EQ_STR(b, "killed");
		} else {
			if (a || b)
				fprintf(stderr, "step %s: a=%s b=%s\n", steps[i], a ? a : "-", b ? b : "-");
			CHECK(a == NULL && b == NULL);
		}
		firn_free(a);
		firn_free(b);
		firn_catalog_free(c);
	}
}

int main(void)
{
	RUN(both_commit);
	RUN(a_failed_requirement_commits_neither);
	RUN(killed_at_each_step_leaves_both_or_neither);
	return t_summary();
}
