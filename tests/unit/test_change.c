/* Row-level changes of an Arrow stream: overwrite and merge match stream
 * columns by name; a column the stream lacks is NULL for overwrite and
 * keeps the matched rows' values for merge; the stream is always released. */
#define _GNU_SOURCE /* mkdtemp */
#include <stdlib.h>

#include "firn/arrow.h"
#include "firn/catalog.h"
#include "firn/table.h"
#include "t.h"

struct row {
	int64_t k;
	const char *a; /* NULL: null */
	int64_t b;     /* < 0: null */
};

static bool released;
static void (*inner_release)(struct ArrowArrayStream *);

static void note_release(struct ArrowArrayStream *s)
{
	released = true;
	s->release = inner_release;
	inner_release(s);
}

/* A stream of one batch with the columns named in cols ("k", "a", "b",
 * or "zz": not in the table), every value from rows. */
static void make_stream(const char *const *cols, int nc, const struct row *rows, int n,
			struct ArrowArrayStream *out)
{
	struct ArrowSchema s;
	CHECK_OK(firn_schema_init(&s, "+s", "", 0, nc));
	for (int c = 0; c < nc; c++)
		CHECK_OK(firn_schema_init(s.children[c], strcmp(cols[c], "a") == 0 ? "u" : "l", cols[c],
					  ARROW_FLAG_NULLABLE, 0));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	for (int i = 0; i < n; i++) {
		firn_builder_append_struct(&b);
		for (int c = 0; c < nc; c++) {
			struct firn_builder *cb = &b.children[c];
			if (strcmp(cols[c], "a") == 0 && rows[i].a)
				firn_builder_append_bytes(cb, rows[i].a, strlen(rows[i].a));
			else if (strcmp(cols[c], "a") == 0 || (strcmp(cols[c], "b") == 0 && rows[i].b < 0))
				firn_builder_append_null(cb);
			else
				firn_builder_append_i64(cb, strcmp(cols[c], "b") == 0 ? rows[i].b : rows[i].k);
		}
	}
	struct ArrowArray batch;
	CHECK_OK(firn_builder_finish(&b, &batch, &t_err));
	firn_builder_free(&b);
	CHECK_OK(firn_stream_from_batches(out, &s, &batch, 1)); /* moves batch and s */
	released = false;
	inner_release = out->release; /* wrapped: the test sees the release */
	out->release = note_release;
}

/* The table's rows, ordered by k, as "k:a:b;" ("-" for null). */
static void table_rows(struct firn_table *t, char *out, size_t cap)
{
	struct firn_scan_options o = { 0 };
	o.limit = -1;
	struct ArrowSchema s;
	struct ArrowArrayStream st;
	char cells[16][64];
	int64_t keys[16];
	int n = 0;
	*out = 0;
	CHECK_OK(firn_table_scan(t, &o, &s, &st, &t_err));
	for (;;) {
		struct ArrowArray b;
		CHECK(st.get_next(&st, &b) == 0);
		if (!b.release)
			break;
		for (int64_t i = 0; i < b.length && n < 16; i++, n++) {
			const struct ArrowArray *k = b.children[0], *a = b.children[1], *bb = b.children[2];
			keys[n] = ((const int64_t *)k->buffers[1])[i];
			char as[32] = "-", bs[32] = "-";
			if (firn_bit_get(a->buffers[0], i)) {
				const int32_t *off = a->buffers[1];
				snprintf(as, sizeof(as), "%.*s", (int)(off[i + 1] - off[i]),
					 (const char *)a->buffers[2] + off[i]);
			}
			if (firn_bit_get(bb->buffers[0], i))
				snprintf(bs, sizeof(bs), "%lld", (long long)((const int64_t *)bb->buffers[1])[i]);
			snprintf(cells[n], sizeof(cells[n]), "%lld:%s:%s;", (long long)keys[n], as, bs);
		}
		b.release(&b);
	}
	st.release(&st);
	s.release(&s);
	for (int64_t want = 0; want < 16; want++)
		for (int i = 0; i < n; i++)
			if (keys[i] == want)
				strncat(out, cells[i], cap - strlen(out) - 1);
}

TEST(overwrite_and_merge_streams)
{
	char dir[] = "/tmp/firn-test-change-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	struct firn_catalog *c = NULL;
	struct firn_table *t = NULL;
	CHECK_OK(firn_catalog_open(&c, NULL, dir, NULL, &t_err));
	CHECK_OK(firn_catalog_namespace_create(c, "m", NULL, NULL, 0, &t_err));
	struct firn_table_create_options co = { .schema = "k long not null, a string, b long" };
	CHECK_OK(firn_table_create(c, "m.t", &co, &t, &t_err));
	char got[512];

	const char *kab[] = { "k", "a", "b" };
	const struct row first[] = { { 1, "p", 10 }, { 2, "q", 20 }, { 3, "r", 30 } };
	struct ArrowArrayStream st;
	struct firn_delete_info info;
	make_stream(kab, 3, first, 3, &st);
	CHECK_OK(firn_table_overwrite_stream(t, &st, NULL, NULL, &info, &t_err));
	CHECK(released);
	CHECK(info.snapshot_id != 0);
	table_rows(t, got, sizeof(got));
	CHECK_EQ_STR(got, "1:p:10;2:q:20;3:r:30;");

	/* merge without b: the matched row keeps its b, the new one has none */
	const char *ka[] = { "k", "a" };
	const struct row upsert[] = { { 2, "x", 0 }, { 4, "y", 0 } };
	make_stream(ka, 2, upsert, 2, &st);
	CHECK_OK(firn_table_merge_stream(t, &st, NULL, "k", "copy-on-write", &info, &t_err));
	CHECK(released);
	CHECK_EQ_INT(info.rows, 1);
	table_rows(t, got, sizeof(got));
	CHECK_EQ_STR(got, "1:p:10;2:x:20;3:r:30;4:y:-;");

	/* overwrite without b: the replaced rows' b is NULL */
	const struct row repl[] = { { 1, "z", 0 } };
	make_stream(ka, 2, repl, 1, &st);
	CHECK_OK(firn_table_overwrite_stream(t, &st, NULL, "k = 1", &info, &t_err));
	CHECK(released);
	CHECK_EQ_INT(info.rows, 1);
	table_rows(t, got, sizeof(got));
	CHECK_EQ_STR(got, "1:z:-;2:x:20;3:r:30;4:y:-;");

	/* a stream column the table lacks: FIRN_EINVAL, released, no change */
	const char *kz[] = { "k", "zz" };
	make_stream(kz, 2, repl, 1, &st);
	struct firn_error e = { 0 };
	CHECK(firn_table_merge_stream(t, &st, NULL, "k", NULL, &info, &e) == FIRN_EINVAL);
	CHECK(strstr(e.message, "'zz'") != NULL);
	CHECK(released);
	make_stream(kz, 2, repl, 1, &st);
	CHECK(firn_table_overwrite_stream(t, &st, NULL, NULL, &info, &e) == FIRN_EINVAL);
	CHECK(released);
	/* merge: the required k missing from the stream */
	const char *a_only[] = { "a" };
	make_stream(a_only, 1, repl, 1, &st);
	CHECK(firn_table_merge_stream(t, &st, NULL, "k", NULL, &info, &e) == FIRN_EINVAL);
	CHECK(released);
	table_rows(t, got, sizeof(got));
	CHECK_EQ_STR(got, "1:z:-;2:x:20;3:r:30;4:y:-;");

	firn_table_free(t);
	firn_catalog_free(c);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	RUN(overwrite_and_merge_streams);
	return t_summary();
}
