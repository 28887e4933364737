/* The file-IO interface: the scheme router, the local implementation, and
 * location normalisation (the one place locations are compared). */
#include <fcntl.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firn/io.h"
#include "firn/parquet.h"
#include "firn/text.h"
#include "firn/util.h"
#include "io/io_local.h"
#include "t.h"

static char dir[256];

static void norm_is(const char *in, const char *want)
{
	char *got = firn_io__normalize(in);
	CHECK_EQ_STR(got, want);
	firn_free(got);
}

TEST(normal_forms)
{
	norm_is("/a/b", "/a/b");
	norm_is("/a/b/", "/a/b");
	norm_is("/a//b///c//", "/a/b/c");
	norm_is("file:/a/b", "/a/b");
	norm_is("file:///a/b/", "/a/b");
	norm_is("file://localhost/a/b", "/a/b");
	norm_is("/a/./b/../c", "/a/c");
	norm_is("/a/../../b", "/b");
	norm_is("/", "/");
	norm_is("file:///", "/");
	norm_is("s3://bucket/wh//t/", "s3://bucket/wh/t");
	norm_is("s3a://bucket/", "s3://bucket");
	norm_is("s3n://bucket//k/", "s3://bucket/k");
	norm_is("S3A://bucket/k", "s3://bucket/k");
	norm_is("s3://bucket", "s3://bucket");
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	char want[4200];
	snprintf(want, sizeof(want), "%s/wh/t", strcmp(cwd, "/") == 0 ? "" : cwd);
	norm_is("./wh//t/", want);
	norm_is("wh/x/../t", want);
}

TEST(within)
{
	CHECK(firn_io__within("/a/b", "/a/b"));
	CHECK(firn_io__within("/a/b/c", "/a/b"));
	CHECK(!firn_io__within("/a/bc", "/a/b"));
	CHECK(!firn_io__within("/a", "/a/b"));
	CHECK(firn_io__within("/a", "/"));
	CHECK(firn_io__within("s3://b/x/y", "s3://b/x"));
	CHECK(!firn_io__within("s3://bx/y", "s3://b"));
}

TEST(schemes)
{
	char s[32];
	CHECK_OK(firn_io__scheme("/a/b", s, sizeof(s)));
	CHECK_EQ_STR(s, "");
	CHECK_OK(firn_io__scheme("file:/a", s, sizeof(s)));
	CHECK_EQ_STR(s, "file");
	CHECK_OK(firn_io__scheme("FILE:///a", s, sizeof(s)));
	CHECK_EQ_STR(s, "file");
	CHECK_OK(firn_io__scheme("S3A://b/k", s, sizeof(s)));
	CHECK_EQ_STR(s, "s3a");
	CHECK_OK(firn_io__scheme("rel/a:b", s, sizeof(s)));
	CHECK_EQ_STR(s, "");
	CHECK_OK(firn_io__scheme("c:x", s, sizeof(s)));
	CHECK_EQ_STR(s, "");
}

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

TEST(unknown_scheme)
{
	struct firn_error e = { 0 };
	struct firn_io_input *in = NULL;
	CHECK_EQ_INT(firn_io_open_read("gs://b/x", &in, &e), FIRN_EUNSUPPORTED);
	CHECK_EQ_STR(e.message, "gs://b/x: no file IO for scheme gs");
	CHECK(in == NULL);
	struct firn_io_output *out = NULL;
	CHECK_EQ_INT(firn_io_create("gs://b/y", FIRN_IO_EXCL, &out, &e), FIRN_EUNSUPPORTED);
	CHECK_EQ_STR(e.message, "gs://b/y: no file IO for scheme gs");
	CHECK_EQ_INT(firn_io_delete("gs://b/x", &e), FIRN_EUNSUPPORTED);
	CHECK_EQ_INT(firn_io_list("gs://b", NULL, NULL, &e), FIRN_EUNSUPPORTED);
	/* the parquet reader says the same */
	struct firn_parquet_reader *r = NULL;
	CHECK_EQ_INT(firn_parquet_reader_open(&r, "gs://b/x.parquet", &e), FIRN_EUNSUPPORTED);
	CHECK(strstr(e.message, "no file IO for scheme gs") != NULL);
	/* "file" is the local files' own; bad names are refused */
	CHECK_EQ_INT(firn_io_register("file", &firn_io__local_ops, &e), FIRN_EINVAL);
	CHECK_EQ_INT(firn_io_register("3x", &firn_io__local_ops, &e), FIRN_EINVAL);
	struct firn_io_ops bad = firn_io__local_ops;
	bad.version = 99;
	CHECK_EQ_INT(firn_io_register("zz", &bad, &e), FIRN_EINVAL);
	CHECK_EQ_INT(firn_io_unregister("zz"), FIRN_ENOTFOUND);
}

TEST(create_read_and_exclusive)
{
	char p[300], loc[320];
	path_of(p, sizeof(p), "sub/dir/a.bin");
	snprintf(loc, sizeof(loc), "file://%s", p);
	CHECK_OK(firn_io_write_all(loc, FIRN_IO_EXCL | FIRN_IO_SYNC_DIR, "hello world", 11, &t_err));
	/* create-if-absent: a second create fails and leaves the file alone */
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_io_write_all(p, FIRN_IO_EXCL, "other", 5, &e), FIRN_EEXISTS);
	struct firn_io_input *in;
	CHECK_OK(firn_io_open_read(p, &in, &t_err));
	CHECK_EQ_INT(in->size, 11);
	char buf[8] = { 0 };
	CHECK_OK(firn_io_read_at(in, 6, 5, buf, &t_err));
	CHECK_EQ_STR(buf, "world");
	CHECK_EQ_INT(firn_io_read_at(in, 8, 5, buf, &e), FIRN_ECORRUPT);
	firn_io_input_close(in);
	/* without the flag an existing file is replaced */
	CHECK_OK(firn_io_write_all(p, 0, "bye", 3, &t_err));
	uint8_t *data;
	size_t n;
	CHECK_OK(firn_io_read_all(loc, &data, &n, &t_err));
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_STR((char *)data, "bye");
	firn_free(data);
	/* abort leaves nothing */
	char q[300];
	path_of(q, sizeof(q), "aborted.bin");
	struct firn_io_output *out;
	CHECK_OK(firn_io_create(q, FIRN_IO_EXCL, &out, &t_err));
	CHECK_OK(firn_io_write(out, "xx", 2, &t_err));
	firn_io_output_abort(out);
	CHECK_EQ_INT(firn_io_open_read(q, &in, &e), FIRN_ENOTFOUND);
	CHECK_EQ_INT(firn_io_open_read(dir, &in, &e), FIRN_EINVAL); /* a directory */
	CHECK_OK(firn_io_sync_dir(p, &t_err));
	struct firn_io_entry st;
	CHECK_OK(firn_io_stat(loc, &st, &t_err));
	CHECK_EQ_INT(st.size, 3);
	CHECK_EQ_INT(firn_io_stat(q, &st, &e), FIRN_ENOTFOUND);
}

TEST(delete_many)
{
	char p[4][300];
	const char *locs[5];
	for (int i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "del/f%d", i);
		path_of(p[i], sizeof(p[i]), name);
		CHECK_OK(firn_io_write_all(p[i], 0, "x", 1, &t_err));
		locs[i] = p[i];
	}
	char missing[300];
	path_of(missing, sizeof(missing), "del/never-there");
	locs[4] = missing;
	size_t deleted = 99;
	CHECK_OK(firn_io_delete_many(locs, 5, &deleted, &t_err));
	CHECK_EQ_INT(deleted, 4);
	struct firn_io_input *in;
	struct firn_error e = { 0 };
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(firn_io_open_read(p[i], &in, &e), FIRN_ENOTFOUND);
	CHECK_EQ_INT(firn_io_delete(missing, &e), FIRN_ENOTFOUND);
	/* an unknown scheme among them: the others still go, the error stays */
	CHECK_OK(firn_io_write_all(p[0], 0, "x", 1, &t_err));
	const char *mixed[] = { "gs://b/k", p[0] };
	CHECK_EQ_INT(firn_io_delete_many(mixed, 2, &deleted, &e), FIRN_EUNSUPPORTED);
	CHECK_EQ_INT(deleted, 1);
	char sub[300];
	path_of(sub, sizeof(sub), "del");
	CHECK_OK(firn_io_remove_empty_dir(sub, &t_err));
	CHECK_EQ_INT(firn_io_remove_empty_dir(sub, &e), FIRN_ENOTFOUND);
}

struct seen {
	char names[8][64];
	int64_t sizes[8], mtimes[8];
	int n;
	size_t root_len;
};

static int collect(void *arg, const struct firn_io_entry *e)
{
	struct seen *s = arg;
	if (s->n == 8)
		return 1;
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->location + s->root_len);
	s->sizes[s->n] = e->size;
	s->mtimes[s->n] = e->mtime_ms;
	s->n++;
	return 0;
}

static int find(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return i;
	return -1;
}

TEST(list_sizes_and_times)
{
	char root[300], p[300];
	path_of(root, sizeof(root), "ls");
	const char *names[] = { "a.txt", "x/b.txt", "x/y/c.txt" };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", root, names[i]);
		CHECK_OK(firn_io_write_all(p, FIRN_IO_EXCL, "0123456789", (size_t)(i + 1) * 3, &t_err));
	}
	/* a known modification time on one of them; a link and an empty dir */
	snprintf(p, sizeof(p), "%s/x/b.txt", root);
	struct timespec ts[2] = { { 1700000000, 250000000 }, { 1700000000, 250000000 } };
	CHECK_EQ_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
	char link[300];
	snprintf(link, sizeof(link), "%s/link.txt", root);
	CHECK_EQ_INT(symlink(p, link), 0);
	snprintf(p, sizeof(p), "%s/empty", root);
	CHECK_EQ_INT(mkdir(p, 0755), 0);

	struct seen s = { .root_len = strlen(root) };
	CHECK_OK(firn_io_list(root, collect, &s, &t_err));
	CHECK_EQ_INT(s.n, 3);
	int a = find(&s, "/a.txt"), b = find(&s, "/x/b.txt"), c = find(&s, "/x/y/c.txt");
	CHECK(a >= 0 && b >= 0 && c >= 0);
	if (a >= 0 && b >= 0 && c >= 0) {
		CHECK_EQ_INT(s.sizes[a], 3);
		CHECK_EQ_INT(s.sizes[b], 6);
		CHECK_EQ_INT(s.sizes[c], 9);
		CHECK_EQ_INT(s.mtimes[b], 1700000000250LL);
		CHECK(s.mtimes[a] > 1700000000250LL);
	}
	/* file: spelling and a trailing slash give the same names */
	char uri[320];
	snprintf(uri, sizeof(uri), "file://%s/", root);
	struct seen s2 = { .root_len = strlen(uri) - 1 };
	CHECK_OK(firn_io_list(uri, collect, &s2, &t_err));
	CHECK_EQ_INT(s2.n, 3);
	CHECK(find(&s2, "/x/y/c.txt") >= 0);
	/* a subtree, a missing directory, and a stop from the callback */
	snprintf(p, sizeof(p), "%s/x", root);
	struct seen s3 = { .root_len = strlen(root) };
	CHECK_OK(firn_io_list(p, collect, &s3, &t_err));
	CHECK_EQ_INT(s3.n, 2);
	snprintf(p, sizeof(p), "%s/nope", root);
	struct seen s4 = { 0 };
	CHECK_OK(firn_io_list(p, collect, &s4, &t_err));
	CHECK_EQ_INT(s4.n, 0);
	struct seen full = { .n = 8 };
	CHECK_EQ_INT(firn_io_list(root, collect, &full, &t_err), 1);
}

/* ---- a counting implementation: "count://<local path>" ---------------- */

static struct {
	int64_t bytes, reads, opens;
} counted;

struct count_input {
	struct firn_io_input base;
	struct firn_io_input *inner;
};

static const char *inner_path(const char *loc)
{
	return loc + strlen("count://");
}

static int count_read_at(struct firn_io_input *in, int64_t off, size_t n, void *buf,
			 struct firn_error *err)
{
	struct count_input *ci = (struct count_input *)in;
	counted.bytes += (int64_t)n;
	counted.reads++;
	return firn_io_read_at(ci->inner, off, n, buf, err);
}

static void count_close(struct firn_io_input *in)
{
	struct count_input *ci = (struct count_input *)in;
	firn_io_input_close(ci->inner);
	free(ci);
}

static int count_open_read(void *data, const char *loc, struct firn_io_input **out,
			   struct firn_error *err)
{
	struct count_input *ci = calloc(1, sizeof(*ci));
	int rc = firn_io_open_read(inner_path(loc), &ci->inner, err);
	if (rc != 0) {
		free(ci);
		return rc;
	}
	counted.opens++;
	ci->base = (struct firn_io_input){ ci->inner->size, count_read_at, count_close, NULL };
	*out = &ci->base;
	return 0;
}

static int count_create(void *data, const char *loc, unsigned flags, struct firn_io_output **out,
			struct firn_error *err)
{
	return firn_io_create(inner_path(loc), flags, out, err);
}

static int count_delete(void *data, const char *loc, struct firn_error *err)
{
	return firn_io_delete(inner_path(loc), err);
}

static int count_list(void *data, const char *d, firn_io_list_fn fn, void *arg, struct firn_error *err)
{
	return firn_io_list(inner_path(d), fn, arg, err);
}

static int count_stat(void *data, const char *loc, struct firn_io_entry *out, struct firn_error *err)
{
	return firn_io_stat(inner_path(loc), out, err);
}

static const struct firn_io_ops count_ops = {
	.version = FIRN_IO_OPS_VERSION,
	.open_read = count_open_read,
	.create = count_create,
	.delete_file = count_delete,
	.list = count_list,
	.stat_file = count_stat,
};

/* Three columns, 60000 rows, several row groups: written through count://
 * (the writer goes through the router too). */
static void write_wide(const char *loc)
{
	struct ArrowSchema schema;
	CHECK_OK(firn_spec_parse_schema("id long not null, b string, c string", &schema, &t_err));
	struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	wo.codec = FIRN_PARQUET_UNCOMPRESSED;
	wo.row_group_size = 1 << 20;
	struct firn_parquet_writer *w;
	CHECK_OK(firn_parquet_writer_open(&w, loc, &schema, &wo, &t_err));
	for (int chunk = 0; chunk < 6; chunk++) {
		struct firn_builder bld;
		CHECK_OK(firn_builder_init(&bld, &schema, &t_err));
		for (int i = 0; i < 10000; i++) {
			int64_t id = chunk * 10000 + i;
			char text[48];
			snprintf(text, sizeof(text), "%016llx-%016llx",
				 (unsigned long long)(id * 0x9E3779B97F4A7C15ULL),
				 (unsigned long long)(id * 0xC2B2AE3D27D4EB4FULL));
			firn_builder_append_struct(&bld);
			firn_builder_append_i64(&bld.children[0], id);
			firn_builder_append_bytes(&bld.children[1], text, strlen(text));
			firn_builder_append_bytes(&bld.children[2], text + 3, strlen(text) - 3);
		}
		struct ArrowArray batch;
		CHECK_OK(firn_builder_finish(&bld, &batch, &t_err));
		firn_builder_free(&bld);
		CHECK_OK(firn_parquet_writer_write(w, &batch, &t_err));
		batch.release(&batch);
	}
	CHECK_OK(firn_parquet_writer_close(w, &t_err));
	firn_parquet_writer_free(w);
	schema.release(&schema);
}

static int64_t scan_rows(struct firn_parquet_reader *r, const struct firn_parquet_read_options *o,
			 int64_t *sum)
{
	struct ArrowArrayStream st;
	CHECK_OK(firn_parquet_reader_stream(r, o, &st, &t_err));
	int64_t rows = 0;
	*sum = 0;
	for (;;) {
		struct ArrowArray b;
		CHECK_EQ_INT(st.get_next(&st, &b), 0);
		if (b.release == NULL)
			break;
		const int64_t *v = b.children[0]->buffers[1];
		for (int64_t i = 0; i < b.length; i++)
			*sum += v[i + b.children[0]->offset];
		rows += b.length;
		b.release(&b);
	}
	st.release(&st);
	return rows;
}

TEST(projected_scan_reads_few_bytes)
{
	CHECK_OK(firn_io_register("count", &count_ops, &t_err));
	char loc[320];
	snprintf(loc, sizeof(loc), "count://%s/wide.parquet", dir);
	write_wide(loc);
	struct firn_io_entry st;
	CHECK_OK(firn_io_stat(loc, &st, &t_err));
	int64_t size = st.size;
	CHECK(size > 2000000);

	memset(&counted, 0, sizeof(counted));
	struct firn_parquet_reader *r;
	CHECK_OK(firn_parquet_reader_open(&r, loc, &t_err));
	int n_rg = firn_parquet_reader_num_row_groups(r);
	CHECK(n_rg >= 3);
	/* the footer: one read of the tail */
	CHECK_EQ_INT(counted.opens, 1);
	CHECK_EQ_INT(counted.reads, 1);
	CHECK(counted.bytes <= 64 * 1024);
	int64_t footer_bytes = counted.bytes;

	const char *cols[] = { "id" };
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_names = 1;
	o.names = cols;
	int64_t sum;
	CHECK_EQ_INT(scan_rows(r, &o, &sum), 60000);
	CHECK_EQ_INT(sum, 60000LL * 59999 / 2);
	/* one chunk per row group, 8 bytes a row plus page headers */
	CHECK_EQ_INT(counted.reads, 1 + n_rg);
	int64_t scanned = counted.bytes - footer_bytes;
	/* exactly column 0's chunks: the bytes its footer entries name */
	int64_t want = 0;
	for (int g = 0; g < n_rg; g++) {
		struct firn_parquet_chunk_info ci;
		CHECK_OK(firn_parquet_reader_chunk_info(r, g, 0, &ci, &t_err));
		want += ci.total_compressed_size;
		if (ci.has_minmax) { /* the caller's */
			ci.minmax.release(&ci.minmax);
			ci.minmax_schema.release(&ci.minmax_schema);
		}
	}
	CHECK_EQ_INT(scanned, want);
	CHECK(counted.bytes * 4 < size);

	/* one row group of the one column: less again */
	memset(&counted, 0, sizeof(counted));
	int one[] = { 1 };
	o.n_row_groups = 1;
	o.row_groups = one;
	int64_t rows1 = scan_rows(r, &o, &sum);
	CHECK_EQ_INT(rows1, firn_parquet_reader_row_group_rows(r, 1));
	CHECK_EQ_INT(counted.reads, 1);
	CHECK(counted.bytes < scanned / 2);
	firn_parquet_reader_free(r);

	/* a whole-file scan reads about the file */
	memset(&counted, 0, sizeof(counted));
	CHECK_OK(firn_parquet_reader_open(&r, loc, &t_err));
	CHECK_EQ_INT(scan_rows(r, NULL, &sum), 60000);
	CHECK(counted.bytes > size * 9 / 10);
	firn_parquet_reader_free(r);

	CHECK_OK(firn_io_delete(loc, &t_err));
	CHECK_EQ_INT(firn_io_stat(loc, &st, NULL), FIRN_ENOTFOUND);
	CHECK_OK(firn_io_unregister("count"));
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_io_stat(loc, &st, &e), FIRN_EUNSUPPORTED);
}

TEST(large_footer_takes_a_second_read)
{
	/* many footer key/values push the footer past the 64 KiB guess */
	CHECK_OK(firn_io_register("count", &count_ops, &t_err));
	char loc[320];
	snprintf(loc, sizeof(loc), "count://%s/bigfooter.parquet", dir);
	static char big[100 * 1024];
	memset(big, 'v', sizeof(big) - 1);
	const char *keys[] = { "big" };
	const char *vals[] = { big };
	struct ArrowSchema schema;
	CHECK_OK(firn_spec_parse_schema("id long", &schema, &t_err));
	struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	wo.n_kv = 1;
	wo.kv_keys = keys;
	wo.kv_values = vals;
	struct firn_parquet_writer *w;
	CHECK_OK(firn_parquet_writer_open(&w, loc, &schema, &wo, &t_err));
	CHECK_OK(firn_parquet_writer_close(w, &t_err));
	firn_parquet_writer_free(w);
	schema.release(&schema);
	memset(&counted, 0, sizeof(counted));
	struct firn_parquet_reader *r;
	CHECK_OK(firn_parquet_reader_open(&r, loc, &t_err));
	CHECK_EQ_INT(counted.reads, 2);
	CHECK_EQ_INT(firn_parquet_reader_kv_count(r), 1);
	firn_parquet_reader_free(r);
	CHECK_OK(firn_io_unregister("count"));
}

/* FIRN_IO_REPLACE: nothing changes at the location until close; abort
 * leaves the old file; close replaces it whole. */
TEST(replace_appears_at_close)
{
	char path[400], other[400];
	snprintf(path, sizeof(path), "%s/replace.txt", dir);
	snprintf(other, sizeof(other), "%s/replace-link.txt", dir);
	CHECK_OK(firn_io_write_all(path, 0, "old", 3, &t_err));
	struct firn_io_output *o = NULL;
	CHECK_OK(firn_io_create(path, FIRN_IO_REPLACE, &o, &t_err));
	CHECK_OK(firn_io_write(o, "new!", 4, &t_err));
	uint8_t *data = NULL;
	size_t n = 0;
	CHECK_OK(firn_io_read_all(path, &data, &n, &t_err));
	CHECK(n == 3 && memcmp(data, "old", 3) == 0); /* not yet */
	firn_free(data);
	firn_io_output_abort(o);
	CHECK_OK(firn_io_read_all(path, &data, &n, &t_err));
	CHECK(n == 3 && memcmp(data, "old", 3) == 0); /* abort kept it */
	firn_free(data);
	CHECK_OK(firn_io_create(path, FIRN_IO_REPLACE, &o, &t_err));
	CHECK_OK(firn_io_write(o, "new!", 4, &t_err));
	CHECK_OK(firn_io_output_close(o, &t_err));
	CHECK_OK(firn_io_read_all(path, &data, &n, &t_err));
	CHECK(n == 4 && memcmp(data, "new!", 4) == 0);
	firn_free(data);
	/* no temporary left beside it */
	int files = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		files += strstr(e->d_name, ".firn-") != NULL;
	if (d)
		closedir(d);
	CHECK_EQ_INT(files, 0);
	/* a missing directory is an error, not created */
	char deep[450];
	snprintf(deep, sizeof(deep), "%s/no/such/dir/x", dir);
	struct firn_error e = { 0 };
	CHECK(firn_io_create(deep, FIRN_IO_REPLACE, &o, &e) == FIRN_EIO);
	/* one file under two names */
	CHECK(symlink(path, other) == 0);
	CHECK(firn_io_same_file(path, other));
	CHECK(!firn_io_same_file(path, deep));
	CHECK(!firn_io_same_file("s3://b/x", path));
	CHECK(firn_io_same_file("s3://b//x", "s3://b/x"));
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/firn_test_io_%d", (int)getpid());
	mkdir(dir, 0755);
	RUN(normal_forms);
	RUN(within);
	RUN(schemes);
	RUN(unknown_scheme);
	RUN(create_read_and_exclusive);
	RUN(delete_many);
	RUN(list_sizes_and_times);
	RUN(projected_scan_reads_few_bytes);
	RUN(large_footer_takes_a_second_read);
	RUN(replace_appears_at_close);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (t_failed == 0 && system(cmd) != 0)
		return 1;
	return t_summary();
}
