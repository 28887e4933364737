/* A program that knows libfirn only as an installed library: firn/firn.h
 * and libfirn.so, found through `pkg-config firn` (tests/lib/run.sh builds
 * it so). It makes a table in the warehouse argv[1], appends two rows as
 * an Arrow stream it builds and one from a CSV file, scans them back and
 * checks what comes out.
 * Prints OK and exits 0, or says what differs and exits 1. */
#include <firn/firn.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, const struct firn_error *err)
{
	fprintf(stderr, "consumer: %s: %s (%s)\n", what, err ? err->message : "",
		firn_code_name(err ? err->code : FIRN_EINVAL));
	return 1;
}

static int write_input(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("id,name\n3,gamma\n", f);
	return fclose(f);
}

/* An Arrow stream of one batch {id: 1, 2; name: alpha, beta}, made with
 * the public builders. */
static int make_stream(struct ArrowArrayStream *out, struct firn_error *err)
{
	static const char *names[] = { "alpha", "beta" };
	struct ArrowSchema s;
	struct firn_builder b;
	struct ArrowArray batch;
	if (firn_spec_parse_schema("id long not null, name string", &s, err) != 0)
		return -1;
	if (firn_builder_init(&b, &s, err) != 0) {
		s.release(&s);
		return -1;
	}
	int rc = 0;
	for (int i = 0; rc == 0 && i < 2; i++) {
		rc = firn_builder_append_i64(&b.children[0], i + 1);
		if (rc == 0)
			rc = firn_builder_append_bytes(&b.children[1], names[i], strlen(names[i]));
		if (rc == 0)
			rc = firn_builder_append_struct(&b);
	}
	if (rc == 0)
		rc = firn_builder_finish(&b, &batch, err);
	firn_builder_free(&b);
	if (rc == 0)
		rc = firn_stream_from_batches(out, &s, &batch, 1);
	else
		s.release(&s);
	return rc;
}

/* The string at row i of a "u" (utf8, int32 offsets) array, in *s and *n. */
static void string_at(const struct ArrowArray *a, int64_t i, const char **s, size_t *n)
{
	const int32_t *offsets = a->buffers[1];
	const char *data = a->buffers[2];
	int64_t row = a->offset + i;
	*s = data + offsets[row];
	*n = (size_t)(offsets[row + 1] - offsets[row]);
}

/* Checks one struct<id long, name string> batch against the input rows;
 * adds its rows to *rows. */
static int check_batch(const struct ArrowArray *b, int64_t *rows)
{
	static const char *names[] = { "alpha", "beta", "gamma" };
	if (b->n_children != 2)
		return fprintf(stderr, "consumer: batch has %" PRId64 " columns\n", b->n_children), 1;
	const struct ArrowArray *ids = b->children[0], *strs = b->children[1];
	const int64_t *id = ids->buffers[1];
	for (int64_t i = 0; i < b->length; i++) {
		int64_t v = id[ids->offset + b->offset + i];
		const char *s;
		size_t n;
		string_at(strs, b->offset + i, &s, &n);
		if (v < 1 || v > 3 || n != strlen(names[v - 1]) || memcmp(s, names[v - 1], n) != 0) {
			fprintf(stderr, "consumer: row %" PRId64 ": id %" PRId64 " name %.*s\n",
				*rows + i, v, (int)n, s);
			return 1;
		}
	}
	*rows += b->length;
	return 0;
}

/* Scans t and checks schema, rows and values. */
static int scan_back(struct firn_table *t)
{
	struct firn_error err = { 0 };
	struct firn_scan_options so = { 0 };
	so.limit = -1;
	struct ArrowSchema schema;
	struct ArrowArrayStream st;
	if (firn_table_scan(t, &so, &schema, &st, &err) != 0)
		return fail("scan", &err);
	int bad = 0;
	if (schema.n_children != 2 || strcmp(schema.children[0]->name, "id") != 0 ||
	    strcmp(schema.children[0]->format, "l") != 0 ||
	    strcmp(schema.children[1]->name, "name") != 0) {
		fprintf(stderr, "consumer: unexpected scan schema\n");
		bad = 1;
	}
	int64_t rows = 0;
	while (!bad) {
		struct ArrowArray b;
		if (st.get_next(&st, &b) != 0) {
			const char *m = st.get_last_error(&st);
			fprintf(stderr, "consumer: get_next: %s\n", m ? m : "failed");
			bad = 1;
			break;
		}
		if (!b.release)
			break;
		bad = check_batch(&b, &rows);
		b.release(&b);
	}
	st.release(&st);
	schema.release(&schema);
	if (!bad && rows != 3) {
		fprintf(stderr, "consumer: scanned %" PRId64 " rows, wanted 3\n", rows);
		bad = 1;
	}
	return bad;
}

/* Creates demo.t, appends the CSV, then loads the table afresh (what the
 * catalog recorded) and reads it. */
static int run(struct firn_catalog *c, const char *csv)
{
	struct firn_error err = { 0 };
	if (firn_catalog_namespace_create(c, "demo", NULL, NULL, 0, &err) != 0)
		return fail("namespace create", &err);
	struct firn_table_create_options co = { 0 };
	co.schema = "id long not null, name string";
	struct firn_table *t = NULL;
	if (firn_table_create(c, "demo.t", &co, &t, &err) != 0)
		return fail("create", &err);
	struct ArrowArrayStream in;
	struct firn_commit_info info = { 0 };
	if (make_stream(&in, &err) != 0) {
		firn_table_free(t);
		return fail("make stream", &err);
	}
	int rc = firn_table_append_stream(t, &in, NULL, &info, &err);
	if (rc != 0) {
		firn_table_free(t);
		return fail("append stream", &err);
	}
	if (info.added_records != 2) {
		firn_table_free(t);
		return fprintf(stderr, "consumer: appended %" PRId64 " rows\n", info.added_records), 1;
	}
	const char *files[] = { csv };
	rc = firn_table_append(t, files, 1, FIRN_INPUT_CSV, NULL, &info, &err);
	firn_table_free(t);
	if (rc != 0)
		return fail("append", &err);
	if (info.added_records != 1)
		return fprintf(stderr, "consumer: appended %" PRId64 " rows\n", info.added_records), 1;
	if (firn_table_load(c, "demo.t", &t, &err) != 0)
		return fail("load", &err);
	int64_t count = -1;
	if (firn_table_count(t, "id >= 2", NULL, &count, &err) != 0) {
		firn_table_free(t);
		return fail("count", &err);
	}
	int bad = count != 2;
	if (bad)
		fprintf(stderr, "consumer: count id >= 2 is %" PRId64 ", wanted 2\n", count);
	if (!bad)
		bad = scan_back(t);
	firn_table_free(t);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: consumer WAREHOUSE_DIR\n");
		return 2;
	}
	char csv[4096];
	snprintf(csv, sizeof csv, "%s/input.csv", argv[1]);
	if (write_input(csv) != 0) {
		perror(csv);
		return 1;
	}
	struct firn_error err = { 0 };
	struct firn_catalog *c = NULL;
	if (firn_catalog_open(&c, NULL, argv[1], NULL, &err) != 0)
		return fail("catalog open", &err);
	int bad = run(c, csv);
	firn_catalog_free(c);
	if (bad)
		return 1;
	printf("OK firn %s\n", firn_version());
	return 0;
}
