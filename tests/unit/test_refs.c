/* Tests of refs through the library API (firn/table.h): the write branch
 * of a handle (firn_table_set_branch), refs set with options (force),
 * dropped, fast-forwarded, and rollback to a ref. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/table.h"
#include "firn/text.h"
#include "t.h"

static char wh[64];
static struct firn_catalog *cat;

/* Appends rows ids[0..n) (column id long) to t's write branch. */
static int64_t append_ids(struct firn_table *t, int64_t first, int n)
{
	struct ArrowSchema s;
	struct firn_builder b;
	struct ArrowArray batch;
	struct ArrowArrayStream st;
	CHECK_OK(firn_spec_parse_schema("id long not null", &s, &t_err));
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	for (int i = 0; i < n; i++) {
		CHECK_OK(firn_builder_append_i64(&b.children[0], first + i));
		CHECK_OK(firn_builder_append_struct(&b));
	}
	CHECK_OK(firn_builder_finish(&b, &batch, &t_err));
	firn_builder_free(&b);
	CHECK_OK(firn_stream_from_batches(&st, &s, &batch, 1));
	struct firn_commit_info info = { 0 };
	CHECK_OK(firn_table_append_stream(t, &st, NULL, &info, &t_err));
	return info.snapshot_id;
}

static int64_t count(struct firn_table *t, const char *ref)
{
	struct firn_snapshot_sel sel = { 0 };
	sel.ref = ref;
	int64_t n = -1;
	CHECK_OK(firn_table_count(t, NULL, &sel, &n, &t_err));
	return n;
}

/* The snapshot ref points at (-1: no such ref). */
static int64_t ref_of(struct firn_table *t, const char *ref)
{
	struct firn_table_description d;
	int64_t id = -1;
	CHECK_OK(firn_table_describe(t, &d, &t_err));
	for (size_t i = 0; i < d.n_refs; i++)
		if (strcmp(d.refs[i].name, ref) == 0)
			id = d.refs[i].snapshot_id;
	firn_table_description_free(&d);
	return id;
}

TEST(writes_go_to_the_handles_branch)
{
	struct firn_table_create_options co = FIRN_TABLE_CREATE_OPTIONS_INIT;
	struct firn_table *t = NULL;
	co.schema = "id long not null";
	CHECK_OK(firn_table_create(cat, "ns.w", &co, &t, &t_err));
	if (!t)
		return;
	int64_t s0 = append_ids(t, 0, 4);
	CHECK_EQ_STR(firn_table_branch(t), "main");
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_table_set_branch(t, "audit", &e), FIRN_ENOTFOUND);
	CHECK(strstr(e.message, "audit") != NULL);
	CHECK_EQ_STR(firn_table_branch(t), "main");
	struct firn_ref_change rc;
	CHECK_OK(firn_table_set_ref_with(t, "audit", NULL, &rc, &t_err));
	CHECK(!rc.existed && rc.changed && rc.snapshot_id == s0 && rc.previous_id == -1);
	CHECK_OK(firn_table_set_branch(t, "audit", &t_err));
	CHECK_EQ_STR(firn_table_branch(t), "audit");
	int64_t a1 = append_ids(t, 100, 3);
	struct firn_delete_info di;
	CHECK_OK(firn_table_delete(t, "id = 0", NULL, &di, &t_err));
	CHECK_EQ_INT(di.rows, 1);
	CHECK_EQ_INT(ref_of(t, "main"), s0);
	CHECK_EQ_INT(ref_of(t, "audit"), di.snapshot_id);
	CHECK(a1 != s0 && di.snapshot_id != a1);
	CHECK_EQ_INT(count(t, NULL), 4);
	CHECK_EQ_INT(count(t, "audit"), 6);
	/* a tag is no write target; NULL is main again */
	struct firn_ref_options ro = FIRN_REF_OPTIONS_INIT;
	ro.tag = true;
	CHECK_OK(firn_table_set_ref_with(t, "v1", &ro, NULL, &t_err));
	CHECK_EQ_INT(firn_table_set_branch(t, "v1", NULL), FIRN_EINVAL);
	CHECK_EQ_STR(firn_table_branch(t), "audit");
	/* the branch dropped under the handle: the next write fails, naming it */
	CHECK_OK(firn_table_drop_ref(t, "audit", false, &rc, &t_err));
	CHECK(rc.existed && rc.previous_id == di.snapshot_id);
	memset(&e, 0, sizeof(e));
	CHECK_EQ_INT(firn_table_delete(t, "id = 1", NULL, &di, &e), FIRN_ENOTFOUND);
	CHECK(strstr(e.message, "audit") != NULL);
	CHECK_OK(firn_table_set_branch(t, NULL, &t_err));
	CHECK_EQ_STR(firn_table_branch(t), "main");
	CHECK_OK(firn_table_delete(t, "id = 1", NULL, &di, &t_err));
	CHECK_EQ_INT(count(t, NULL), 3);
	firn_table_free(t);
}

TEST(ref_options_fast_forward_and_rollback)
{
	struct firn_table_create_options co = FIRN_TABLE_CREATE_OPTIONS_INIT;
	struct firn_table *t = NULL;
	co.schema = "id long not null";
	CHECK_OK(firn_table_create(cat, "ns.r", &co, &t, &t_err));
	if (!t)
		return;
	int64_t s0 = append_ids(t, 0, 2);
	int64_t s1 = append_ids(t, 10, 2);
	struct firn_ref_options ro = FIRN_REF_OPTIONS_INIT;
	struct firn_ref_change rc;
	ro.tag = true;
	ro.has_snapshot_id = true;
	ro.snapshot_id = s0;
	CHECK_OK(firn_table_set_ref_with(t, "t", &ro, &rc, &t_err));
	ro.snapshot_id = s1;
	CHECK_EQ_INT(firn_table_set_ref_with(t, "t", &ro, &rc, NULL), FIRN_EEXISTS);
	CHECK_EQ_INT(ref_of(t, "t"), s0);
	ro.force = true;
	CHECK_OK(firn_table_set_ref_with(t, "t", &ro, &rc, &t_err));
	CHECK(rc.existed && rc.changed && rc.previous_id == s0 && rc.snapshot_id == s1);
	/* the old call moves as before (force) */
	CHECK_OK(firn_table_set_ref(t, "t", true, s0, &t_err));
	CHECK_EQ_INT(ref_of(t, "t"), s0);
	/* a branch: forward freely, back with force */
	struct firn_ref_options bo = FIRN_REF_OPTIONS_INIT;
	bo.has_snapshot_id = true;
	bo.snapshot_id = s0;
	CHECK_OK(firn_table_set_ref_with(t, "b", &bo, &rc, &t_err));
	bo.snapshot_id = s1;
	CHECK_OK(firn_table_set_ref_with(t, "b", &bo, &rc, &t_err));
	bo.snapshot_id = s0;
	CHECK_EQ_INT(firn_table_set_ref_with(t, "b", &bo, &rc, NULL), FIRN_EINVAL);
	CHECK_EQ_INT(ref_of(t, "b"), s1);
	/* fast-forward b to main (equal: nothing), then onward */
	CHECK_OK(firn_table_fast_forward(t, "b", "main", &rc, &t_err));
	CHECK(!rc.changed && rc.snapshot_id == s1);
	CHECK_OK(firn_table_set_branch(t, "b", &t_err));
	int64_t b2 = append_ids(t, 20, 1);
	CHECK_OK(firn_table_fast_forward(t, "main", "b", &rc, &t_err));
	CHECK(rc.changed && rc.previous_id == s1 && rc.snapshot_id == b2);
	CHECK_EQ_INT(count(t, NULL), 5);
	/* rollback to the tag; then main and b have diverged */
	struct firn_snapshot_sel sel = { 0 };
	sel.ref = "t";
	CHECK_OK(firn_table_rollback_to(t, &sel, &rc, &t_err));
	CHECK(rc.changed && rc.previous_id == b2 && rc.snapshot_id == s0);
	CHECK_OK(firn_table_set_branch(t, NULL, &t_err));
	append_ids(t, 30, 1);
	CHECK_EQ_INT(firn_table_fast_forward(t, "main", "b", &rc, NULL), FIRN_EINVAL);
	CHECK_EQ_INT(firn_table_drop_ref(t, "main", false, &rc, NULL), FIRN_EINVAL);
	CHECK_EQ_INT(firn_table_drop_ref(t, "b", true, &rc, NULL), FIRN_EINVAL);
	CHECK_EQ_INT(firn_table_drop_ref(t, "nope", false, &rc, NULL), FIRN_ENOTFOUND);
	CHECK_EQ_INT(count(t, NULL), 3);
	firn_table_free(t);
}

int main(void)
{
	strcpy(wh, "/tmp/firn-test-refs-XXXXXX");
	if (!mkdtemp(wh))
		return 1;
	CHECK_OK(firn_catalog_open(&cat, NULL, wh, NULL, &t_err));
	CHECK_OK(firn_catalog_namespace_create(cat, "ns", NULL, NULL, 0, &t_err));
	RUN(writes_go_to_the_handles_branch);
	RUN(ref_options_fast_forward_and_rollback);
	firn_catalog_free(cat);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", wh);
	if (system(cmd) != 0)
		return 1;
	return t_summary();
}
