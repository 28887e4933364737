/* Tests of writing Arrow streams into a table (firn_table_append_stream)
 * and of table input as one stream (firn_input_open). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/table.h"
#include "firn/input.h"
#include "firn/text.h"
#include "t.h"

static char wh[64];

static const char *fixture(const char *name, const char *text)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, 256, "%s/%s", wh, name);
	FILE *f = fopen(p, "wb");
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	return p;
}

/* A stream of one struct batch with columns id long, name string, ... as
 * given by spec; rows give id and name (NULL name: a null). */
static void make_stream(struct ArrowArrayStream *out, const char *spec, const int64_t *ids,
			const char *const *names, int n)
{
	struct ArrowSchema s;
	struct firn_builder b;
	struct ArrowArray batch;
	CHECK_OK(firn_spec_parse_schema(spec, &s, &t_err));
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	for (int i = 0; i < n; i++) {
		CHECK_OK(firn_builder_append_i64(&b.children[0], ids[i]));
		if (names[i])
			CHECK_OK(firn_builder_append_bytes(&b.children[1], names[i], strlen(names[i])));
		else
			CHECK_OK(firn_builder_append_null(&b.children[1]));
		CHECK_OK(firn_builder_append_struct(&b));
	}
	CHECK_OK(firn_builder_finish(&b, &batch, &t_err));
	firn_builder_free(&b);
	CHECK_OK(firn_stream_from_batches(out, &s, &batch, 1));
}

struct rows {
	int n;
	int32_t id[16];
	char name[16][16];
	bool name_null[16], note_null[16];
};

/* Scans id, name, note of t in order of the files' rows. */
static void scan_rows(struct firn_table *t, struct rows *r)
{
	struct firn_scan_options so = FIRN_SCAN_OPTIONS_INIT;
	so.limit = -1;
	struct ArrowSchema s;
	struct ArrowArrayStream st;
	memset(r, 0, sizeof(*r));
	CHECK_OK(firn_table_scan(t, &so, &s, &st, &t_err));
	CHECK_EQ_INT(s.n_children, 3);
	CHECK_EQ_STR(s.children[0]->format, "i");
	for (;;) {
		struct ArrowArray b;
		CHECK(st.get_next(&st, &b) == 0);
		if (!b.release)
			break;
		const struct ArrowArray *id = b.children[0], *nm = b.children[1], *note = b.children[2];
		for (int64_t i = 0; i < b.length && r->n < 16; i++, r->n++) {
			r->id[r->n] = ((const int32_t *)id->buffers[1])[i];
			r->name_null[r->n] = !firn_bit_get(nm->buffers[0], i);
			const int32_t *off = nm->buffers[1];
			snprintf(r->name[r->n], 16, "%.*s", (int)(off[i + 1] - off[i]),
				 (const char *)nm->buffers[2] + off[i]);
			r->note_null[r->n] = note->null_count == note->length || !firn_bit_get(note->buffers[0], i);
		}
		b.release(&b);
	}
	st.release(&st);
	s.release(&s);
}

static struct firn_catalog *cat;

static struct firn_table *new_table(const char *ident)
{
	struct firn_table_create_options co = { 0 };
	struct firn_table *t = NULL;
	co.schema = "id int not null, name string, note string";
	CHECK_OK(firn_table_create(cat, ident, &co, &t, &t_err));
	return t;
}

TEST(append_stream_long_into_int_absent_column)
{
	struct firn_table *t = new_table("ns.a");
	if (!t)
		return;
	struct ArrowArrayStream st;
	const int64_t ids[] = { 7, -2147483648LL, 2147483647 };
	const char *names[] = { "ann", NULL, "cy" };
	make_stream(&st, "id long not null, name string", ids, names, 3);
	struct firn_commit_info info;
	CHECK_OK(firn_table_append_stream(t, &st, NULL, &info, &t_err));
	CHECK(st.release == NULL); /* consumed */
	CHECK_EQ_INT(info.added_records, 3);
	CHECK(info.snapshot_id != 0);
	firn_table_free(t);
	CHECK_OK(firn_table_load(cat, "ns.a", &t, &t_err));
	if (!t)
		return;
	struct rows r;
	scan_rows(t, &r);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(r.id[0], 7);
	CHECK_EQ_INT(r.id[1], -2147483647 - 1);
	CHECK_EQ_INT(r.id[2], 2147483647);
	CHECK_EQ_STR(r.name[0], "ann");
	CHECK(r.name_null[1] && !r.name_null[0] && !r.name_null[2]);
	CHECK_EQ_STR(r.name[2], "cy");
	CHECK(r.note_null[0] && r.note_null[1] && r.note_null[2]); /* absent: NULL */
	firn_table_free(t);
}

TEST(append_stream_errors)
{
	struct firn_table *t = new_table("ns.b");
	if (!t)
		return;
	struct ArrowArrayStream st;
	struct firn_error e = { 0 };
	const int64_t big[] = { 1, 2147483648LL };
	const char *names[] = { "x", "y" };
	make_stream(&st, "id long not null, name string", big, names, 2);
	CHECK_EQ_INT(firn_table_append_stream(t, &st, NULL, NULL, &e), FIRN_EINVAL);
	CHECK(st.release == NULL); /* released on failure too */
	CHECK_EQ_STR(e.message, "column 'id': 2147483648 is out of range for int");
	/* a column the table lacks */
	make_stream(&st, "id long, extra string", big, names, 1);
	CHECK_EQ_INT(firn_table_append_stream(t, &st, NULL, NULL, &e), FIRN_EINVAL);
	CHECK_EQ_STR(e.message, "input column 'extra' is not in the table");
	/* a required column the stream lacks */
	make_stream(&st, "note long, name string", big, names, 1);
	CHECK_EQ_INT(firn_table_append_stream(t, &st, NULL, NULL, &e), FIRN_EINVAL);
	CHECK_EQ_STR(e.message, "column 'id' is required but missing from the input");
	struct rows r;
	scan_rows(t, &r);
	CHECK_EQ_INT(r.n, 0); /* nothing committed */
	firn_table_free(t);
}

static void names_of(struct ArrowArrayStream *st, char *out, size_t n)
{
	struct ArrowSchema s;
	CHECK(st->get_schema(st, &s) == 0);
	out[0] = 0;
	for (int64_t k = 0; k < s.n_children; k++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s%s", k ? "," : "", s.children[k]->name,
			 s.children[k]->flags & ARROW_FLAG_NULLABLE ? "" : "!");
	s.release(&s);
}

static int64_t drain_rows(struct ArrowArrayStream *st)
{
	int64_t rows = 0;
	for (;;) {
		struct ArrowArray b;
		if (st->get_next(st, &b) != 0)
			return -1;
		if (!b.release)
			return rows;
		rows += b.length;
		b.release(&b);
	}
}

TEST(input_schema_is_columns_present)
{
	struct ArrowSchema ts;
	CHECK_OK(firn_spec_parse_schema("id int not null, name string, note string, n long", &ts, &t_err));
	const char *csv = fixture("a.csv", "name,id\nann,1\nbo,2\n");
	const char *js = fixture("b.jsonl", "{\"id\": 3, \"n\": 30}\n{\"id\": 4, \"note\": \"x\"}\n");
	const char *both[] = { csv, js };
	struct ArrowArrayStream st;
	char names[128];
	/* CSV: the header columns, and the required id whatever */
	CHECK_OK(firn_input_open(both, 1, FIRN_INPUT_AUTO, &ts, NULL, 0, &st, &t_err));
	names_of(&st, names, sizeof(names));
	CHECK_EQ_STR(names, "id!,name");
	CHECK_EQ_INT(drain_rows(&st), 2);
	st.release(&st);
	/* streaming JSON Lines: any column may come */
	CHECK_OK(firn_input_open(both, 2, FIRN_INPUT_AUTO, &ts, NULL, 0, &st, &t_err));
	names_of(&st, names, sizeof(names));
	CHECK_EQ_STR(names, "id!,name,note,n");
	CHECK_EQ_INT(drain_rows(&st), 4);
	st.release(&st);
	/* read whole: the keys seen, all optional */
	CHECK_OK(firn_input_open(both + 1, 1, FIRN_INPUT_AUTO, &ts, NULL, FIRN_INPUT_WHOLE, &st, &t_err));
	names_of(&st, names, sizeof(names));
	CHECK_EQ_STR(names, "id,note,n");
	CHECK_EQ_INT(drain_rows(&st), 2);
	st.release(&st);
	/* bad text: the error names the file and line, at open for a whole read */
	const char *bad = fixture("c.csv", "id,name\n1,a\nzz,b\n");
	const char *two[] = { csv, bad };
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_input_open(two, 2, FIRN_INPUT_AUTO, &ts, NULL, FIRN_INPUT_WHOLE, &st, &e),
		     FIRN_EINVAL);
	CHECK(strstr(e.message, "c.csv: line 3") != NULL);
	CHECK(st.release == NULL);
	/* streamed: from get_next, after the first file's rows */
	CHECK_OK(firn_input_open(two, 2, FIRN_INPUT_AUTO, &ts, NULL, 0, &st, &t_err));
	struct ArrowArray b;
	CHECK(st.get_next(&st, &b) == 0 && b.release && b.length == 2);
	if (b.release)
		b.release(&b);
	CHECK(st.get_next(&st, &b) == EINVAL);
	CHECK(strstr(st.get_last_error(&st), "c.csv: line 3") != NULL);
	st.release(&st);
	const char *none[] = { "/nonexistent/x.csv" };
	CHECK_EQ_INT(firn_input_open(none, 1, FIRN_INPUT_AUTO, &ts, NULL, 0, &st, &e), FIRN_ENOTFOUND);
	ts.release(&ts);
}

/* Rows of one scan (filter, files) counted. */
static int64_t scan_count(struct firn_table *t, const char *where, const char *const *files,
			  size_t n_files, int64_t snapshot_id)
{
	struct firn_scan_options so = FIRN_SCAN_OPTIONS_INIT;
	so.where = where;
	so.files = files;
	so.n_files = n_files;
	so.sel.has_snapshot_id = snapshot_id > 0;
	so.sel.snapshot_id = snapshot_id;
	struct ArrowSchema s;
	struct ArrowArrayStream st;
	int64_t n = 0;
	CHECK_OK(firn_table_scan(t, &so, &s, &st, &t_err));
	for (;;) {
		struct ArrowArray b;
		CHECK(st.get_next(&st, &b) == 0);
		if (!b.release)
			break;
		n += b.length;
		b.release(&b);
	}
	st.release(&st);
	s.release(&s);
	return n;
}

/* Two processes' worth of staged appends, one commit; then the plan's
 * tasks read one by one add up to the scan, deletes applied. */
TEST(stage_append_plan_and_read_tasks)
{
	struct firn_table *t = new_table("ns.staged");
	if (!t)
		return;
	const int64_t ids[] = { 1, 2, 3 };
	const char *names[] = { "a", "b", NULL };
	char *staged[2] = { NULL, NULL };
	struct firn_commit_info info;
	for (int i = 0; i < 2; i++) {
		struct ArrowArrayStream st;
		make_stream(&st, "id long not null, name string", ids, names, 3);
		CHECK_OK(firn_table_stage_append(t, &st, NULL, &staged[i], &info, &t_err));
		CHECK_EQ_INT(info.added_records, 3);
		CHECK_EQ_INT(info.snapshot_id, 0);
	}
	CHECK_EQ_INT(scan_count(t, NULL, NULL, 0, 0), 0);
	CHECK_OK(firn_table_append_staged(t, (const char *const *)staged, 2, &info, &t_err));
	CHECK_EQ_INT(info.added_files, 2);
	CHECK_EQ_INT(info.added_records, 6);
	CHECK(access(staged[0], F_OK) != 0); /* removed once committed */
	CHECK(firn_table_append_staged(t, (const char *const *)staged, 1, &info, &t_err) != 0);
	CHECK_EQ_INT(scan_count(t, NULL, NULL, 0, 0), 6);
	CHECK_OK(firn_table_delete(t, "id = 2", "merge-on-read", NULL, &t_err));
	struct firn_file_info *v = NULL;
	size_t n = 0;
	int64_t snap = 0;
	CHECK_OK(firn_table_plan(t, NULL, NULL, &snap, &v, &n, &t_err));
	CHECK_EQ_INT(n, 2);
	CHECK(snap > 0);
	int64_t sum = 0, deleted = 0;
	for (size_t i = 0; i < n; i++) {
		const char *one[] = { v[i].path };
		sum += scan_count(t, NULL, one, 1, snap);
		deleted += v[i].deleted_records;
	}
	CHECK_EQ_INT(sum, 4);
	CHECK_EQ_INT(deleted, 2);
	const char *none[] = { "/no/such/file.parquet" };
	CHECK_EQ_INT(scan_count(t, NULL, none, 1, 0), 0);
	firn_file_info_free(v, n);
	CHECK_OK(firn_table_plan(t, "id > 100", NULL, &snap, &v, &n, &t_err));
	CHECK_EQ_INT(n, 0); /* pruned by the files' bounds */
	firn_file_info_free(v, n);
	firn_free(staged[0]);
	firn_free(staged[1]);
	firn_table_free(t);
}

int main(void)
{
	strcpy(wh, "/tmp/firn-test-stream-XXXXXX");
	if (!mkdtemp(wh))
		return 1;
	CHECK_OK(firn_catalog_open(&cat, NULL, wh, NULL, &t_err));
	CHECK_OK(firn_catalog_namespace_create(cat, "ns", NULL, NULL, 0, &t_err));
	RUN(append_stream_long_into_int_absent_column);
	RUN(append_stream_errors);
	RUN(input_schema_is_columns_present);
	RUN(stage_append_plan_and_read_tasks);
	firn_catalog_free(cat);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", wh);
	if (system(cmd) != 0)
		return 1;
	return t_summary();
}
