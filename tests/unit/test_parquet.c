/* Parquet writer -> reader round trips through the public API. (Whether the
 * files are right is judged by pyarrow and DuckDB in tests/interop; these
 * catch regressions fast and run under the sanitizer build.) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firn/parquet.h"
#include "firn/text.h"
#include "parquet/pq_writer.h"
#include "t.h"

static char dir[256];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* JSONL in -> Parquet (opts) -> JSONL out; returns the output text. */
static char *round_trip(const char *spec, const char *jsonl, const struct firn_parquet_write_options *wo)
{
	char in[300], out[300];
	snprintf(in, sizeof(in), "%s/in.jsonl", dir);
	snprintf(out, sizeof(out), "%s/out.parquet", dir);
	write_file(in, jsonl);
	struct ArrowSchema schema;
	CHECK_OK(firn_spec_parse_schema(spec, &schema, &t_err));
	struct firn_text_reader *tr;
	CHECK_OK(firn_text_reader_open(&tr, in, FIRN_TEXT_JSONL, &schema, 3, &t_err));
	struct firn_parquet_writer *w;
	CHECK_OK(firn_parquet_writer_open(&w, out, &schema, wo, &t_err));
	for (;;) {
		struct ArrowArray b;
		CHECK_OK(firn_text_reader_next(tr, &b, &t_err));
		if (b.release == NULL)
			break;
		CHECK_OK(firn_parquet_writer_write(w, &b, &t_err));
		b.release(&b);
	}
	CHECK_OK(firn_parquet_writer_close(w, &t_err));
	firn_parquet_writer_free(w);
	firn_text_reader_free(tr);

	struct firn_parquet_reader *r;
	CHECK_OK(firn_parquet_reader_open(&r, out, &t_err));
	struct ArrowArrayStream st;
	CHECK_OK(firn_parquet_reader_stream(r, NULL, &st, &t_err));
	struct ArrowSchema rs;
	CHECK_EQ_INT(st.get_schema(&st, &rs), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct firn_text_writer *tw;
	CHECK_OK(firn_text_writer_open(&tw, mem, FIRN_TEXT_JSONL, &rs, &t_err));
	for (;;) {
		struct ArrowArray b;
		CHECK_EQ_INT(st.get_next(&st, &b), 0);
		if (b.release == NULL)
			break;
		CHECK_OK(firn_text_writer_write(tw, &b, &t_err));
		b.release(&b);
	}
	CHECK_OK(firn_text_writer_close(tw, &t_err));
	firn_text_writer_free(tw);
	fclose(mem);
	rs.release(&rs);
	st.release(&st);
	firn_parquet_reader_free(r);
	schema.release(&schema);
	return text;
}

static const char nested_spec[] =
	"id long not null, s string, d decimal(20,3), tags list<string>, m map<string,int>, "
	"st struct<a: int, b: list<double>>, ll list<list<int>>";
static const char nested_rows[] =
	"{\"id\":1,\"s\":\"a\",\"d\":\"1.500\",\"tags\":[\"x\",null,\"y\"],\"m\":{\"k\":1,\"l\":null},\"st\":{\"a\":5,\"b\":[1.5,2.0]},\"ll\":[[1,2],[],null,[3]]}\n"
	"{\"id\":2,\"s\":null,\"d\":null,\"tags\":null,\"m\":null,\"st\":null,\"ll\":null}\n"
	"{\"id\":3,\"s\":\"\",\"d\":\"-99999999999999999.999\",\"tags\":[],\"m\":{},\"st\":{\"a\":null,\"b\":null},\"ll\":[]}\n"
	"{\"id\":4,\"s\":\"\xc3\xa9t\xc3\xa9\",\"d\":\"0.000\",\"tags\":[null],\"m\":{\"z\":-7},\"st\":{\"a\":-1,\"b\":[]},\"ll\":[null,[null]]}\n"
	"{\"id\":5,\"s\":\"last\",\"d\":\"12.345\",\"tags\":[\"only\"],\"m\":null,\"st\":{\"a\":0,\"b\":[null,3.25]},\"ll\":[[7]]}\n";

TEST(nested_round_trip_all_codecs)
{
	int codecs[] = { FIRN_PARQUET_UNCOMPRESSED, FIRN_PARQUET_SNAPPY, FIRN_PARQUET_GZIP,
			 FIRN_PARQUET_ZSTD, FIRN_PARQUET_LZ4_RAW };
	for (int c = 0; c < 5; c++)
		for (int dict = 0; dict < 2; dict++) {
			struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
			wo.codec = codecs[c];
			wo.dictionary = dict;
			wo.page_size = 16; /* many pages */
			wo.row_group_size = 64; /* several row groups */
			char *out = round_trip(nested_spec, nested_rows, &wo);
			CHECK(out != NULL);
			if (out != NULL && strcmp(out, nested_rows) != 0)
				fprintf(stderr, "codec %d dict %d: got\n%s", codecs[c], dict, out);
			CHECK(out != NULL && strcmp(out, nested_rows) == 0);
			free(out);
		}
}

static const char flat_spec[] =
	"b boolean, i int, l long not null, f float, d double, dt date, t time, ts timestamp, "
	"tz timestamptz, ns timestamp_ns, u uuid, fx fixed[3], bin binary, d9 decimal(9,2), d18 decimal(18,0)";
static const char flat_rows[] =
	"{\"b\":true,\"i\":-2147483648,\"l\":9223372036854775807,\"f\":1.5,\"d\":\"NaN\",\"dt\":\"1969-12-31\",\"t\":\"23:59:59.999999\",\"ts\":\"2017-11-16T22:31:08.123456\",\"tz\":\"2017-11-16T22:31:08.123456+00:00\",\"ns\":\"2017-11-16T22:31:08.123456789\",\"u\":\"f79c3e09-677c-4bbd-a479-3f349cb785e7\",\"fx\":\"00ff10\",\"bin\":\"\",\"d9\":\"-1234567.89\",\"d18\":\"999999999999999999\"}\n"
	"{\"b\":null,\"i\":null,\"l\":-9223372036854775808,\"f\":null,\"d\":-0.5,\"dt\":null,\"t\":null,\"ts\":null,\"tz\":null,\"ns\":null,\"u\":null,\"fx\":null,\"bin\":null,\"d9\":null,\"d18\":null}\n"
	"{\"b\":false,\"i\":0,\"l\":0,\"f\":\"-Infinity\",\"d\":1e+300,\"dt\":\"9999-12-31\",\"t\":\"00:00:00.000000\",\"ts\":\"0001-01-01T00:00:00.000000\",\"tz\":\"1970-01-01T00:00:00.000000+00:00\",\"ns\":\"1677-09-21T00:12:43.145224192\",\"u\":\"00000000-0000-0000-0000-000000000000\",\"fx\":\"000000\",\"bin\":\"deadbeef\",\"d9\":\"0.01\",\"d18\":\"-5\"}\n";

TEST(flat_types_round_trip)
{
	struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	char *out = round_trip(flat_spec, flat_rows, &wo);
	if (out != NULL && strcmp(out, flat_rows) != 0)
		fprintf(stderr, "got\n%s", out);
	CHECK(out != NULL && strcmp(out, flat_rows) == 0);
	free(out);
}

/* Columns decode on several threads (firn_set_threads); what they give
 * must not depend on how many. */
TEST(same_rows_with_any_number_of_threads)
{
	int threads[] = { 1, 2, 4, 7 };
	for (int k = 0; k < 4; k++) {
		firn_set_threads(threads[k]);
		CHECK_EQ_INT(firn_get_threads(), threads[k]);
		struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
		wo.page_size = 16;
		wo.row_group_size = 2;
		char *out = round_trip(nested_spec, nested_rows, &wo);
		CHECK(out != NULL && strcmp(out, nested_rows) == 0);
		free(out);
		out = round_trip(flat_spec, flat_rows, &wo);
		CHECK(out != NULL && strcmp(out, flat_rows) == 0);
		free(out);
	}
	firn_set_threads(0);
}

TEST(dictionary_fallback_and_stats)
{
	/* 3000 distinct strings overflow a 1 KiB dictionary: later pages PLAIN */
	struct firn_buf in = FIRN_BUF_INIT;
	for (int i = 0; i < 3000; i++)
		firn_buf_printf(&in, "{\"s\":\"value-%05d\",\"n\":%d}\n", (i * 7919) % 3000, i - 1000);
	firn_buf_cstr(&in);
	struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	wo.dictionary_size_limit = 1024;
	wo.page_size = 2048;
	char *out = round_trip("s string, n long", (char *)in.data, &wo);
	CHECK(out != NULL && strcmp(out, (char *)in.data) == 0);
	free(out);
	firn_buf_free(&in);
	char path[300];
	snprintf(path, sizeof(path), "%s/out.parquet", dir);
	struct firn_parquet_reader *r;
	CHECK_OK(firn_parquet_reader_open(&r, path, &t_err));
	struct firn_parquet_chunk_info ci;
	CHECK_OK(firn_parquet_reader_chunk_info(r, 0, 0, &ci, &t_err));
	bool has_plain = false, has_dict = false;
	for (int e = 0; e < ci.n_encodings; e++) {
		has_plain |= strcmp(ci.encodings[e], "PLAIN") == 0;
		has_dict |= strcmp(ci.encodings[e], "RLE_DICTIONARY") == 0;
	}
	CHECK(has_plain && has_dict);
	struct firn_parquet_column_stats s;
	CHECK_OK(firn_parquet_reader_leaf_stats(r, 0, 1, &s));
	int64_t mn, mx;
	memcpy(&mn, s.min, 8);
	memcpy(&mx, s.max, 8);
	CHECK_EQ_INT(mn, -1000);
	CHECK_EQ_INT(mx, 1999);
	CHECK_EQ_INT(s.null_count, 0);
	if (ci.has_minmax) {
		ci.minmax.release(&ci.minmax);
		ci.minmax_schema.release(&ci.minmax_schema);
	}
	firn_parquet_reader_free(r);
}

/* Writes the JSONL file in (rows of spec, read in batches of 5000) to
 * out; flush_every > 0 ends a row group (firn_pq__writer_flush) after
 * every that many batches. */
static void write_jsonl(const char *spec, const char *in, const char *out,
			const struct firn_parquet_write_options *wo, int flush_every)
{
	struct ArrowSchema schema;
	CHECK_OK(firn_spec_parse_schema(spec, &schema, &t_err));
	struct firn_text_reader *tr;
	CHECK_OK(firn_text_reader_open(&tr, in, FIRN_TEXT_JSONL, &schema, 5000, &t_err));
	struct firn_parquet_writer *w;
	CHECK_OK(firn_parquet_writer_open(&w, out, &schema, wo, &t_err));
	for (int n = 1;; n++) {
		struct ArrowArray b;
		CHECK_OK(firn_text_reader_next(tr, &b, &t_err));
		if (b.release == NULL)
			break;
		CHECK_OK(firn_parquet_writer_write(w, &b, &t_err));
		b.release(&b);
		if (flush_every > 0 && n % flush_every == 0) {
			CHECK(firn_pq__writer_memory(w) > 0);
			CHECK_OK(firn_pq__writer_flush(w, &t_err));
			CHECK(firn_pq__writer_memory(w) < 4096);
		}
	}
	CHECK_OK(firn_parquet_writer_close(w, &t_err));
	firn_parquet_writer_free(w);
	firn_text_reader_free(tr);
	schema.release(&schema);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *text = NULL;
	*len = 0;
	FILE *mem = open_memstream(&text, len);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(mem);
	fclose(f);
	return text;
}

/* Columns are encoded and compressed in parallel (issue 13): the file's
 * bytes must be the same with 1, 2 and 4 threads, for every codec, with
 * pages, row groups, dictionary fallbacks, nulls and nested columns, and
 * with row groups ended early (as the fan-out's memory budget does). */
TEST(same_bytes_with_any_number_of_threads)
{
	char in[300], out[300];
	snprintf(in, sizeof(in), "%s/many.jsonl", dir);
	struct firn_buf b = FIRN_BUF_INIT;
	for (int i = 0; i < 40000; i++) {
		firn_buf_printf(&b, "{\"id\":%d,\"k\":\"key-%d\",\"c\":\"comment %08x %d\",", i,
				i % 37, (unsigned)(i * 2654435761u), i);
		if (i % 5 == 0)
			firn_buf_printf(&b, "\"v\":null,\"tags\":null,");
		else
			firn_buf_printf(&b, "\"v\":%d.25,\"tags\":[\"t%d\",null,\"u%d\"],", i % 1000 - 500,
					i % 7, i);
		firn_buf_printf(&b, "\"d\":\"%d.%03d\",\"dt\":\"2026-%02d-%02d\",\"st\":{\"a\":%d,\"b\":[%d.5]}}\n",
				i * 13 - 7000, i % 1000, 1 + i % 12, 1 + i % 28, i % 100, i % 3);
	}
	firn_buf_cstr(&b);
	write_file(in, (char *)b.data);
	firn_buf_free(&b);
	const char *spec = "id long not null, k string, c string, v double, tags list<string>, "
			   "d decimal(20,3), dt date, st struct<a: int, b: list<double>>";
	int codecs[] = { FIRN_PARQUET_ZSTD, FIRN_PARQUET_SNAPPY, FIRN_PARQUET_UNCOMPRESSED };
	for (int c = 0; c < 3; c++)
		for (int flush = 0; flush < 2; flush++) {
			char *first = NULL;
			size_t first_len = 0;
			int threads[] = { 1, 2, 4 };
			for (int k = 0; k < 3; k++) {
				firn_set_threads(threads[k]);
				struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
				wo.codec = codecs[c];
				wo.page_size = 8192;
				wo.row_group_size = 512 << 10;
				wo.dictionary_size_limit = 16 << 10;
				snprintf(out, sizeof(out), "%s/t%d.parquet", dir, threads[k]);
				write_jsonl(spec, in, out, &wo, flush ? 3 : 0);
				size_t len;
				char *bytes = slurp(out, &len);
				CHECK(bytes != NULL && len > 100000);
				if (k == 0) {
					first = bytes;
					first_len = len;
					continue;
				}
				CHECK_EQ_INT(len, first_len);
				CHECK(bytes && first && len == first_len && memcmp(bytes, first, len) == 0);
				free(bytes);
			}
			free(first);
			/* and the rows are all there */
			struct firn_parquet_reader *r;
			CHECK_OK(firn_parquet_reader_open(&r, out, &t_err));
			CHECK_EQ_INT(firn_parquet_reader_num_rows(r), 40000);
			CHECK(firn_parquet_reader_num_row_groups(r) > (flush ? 3 : 1));
			firn_parquet_reader_free(r);
		}
	firn_set_threads(0);
}

TEST(empty_file)
{
	struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	char *out = round_trip("a long, b list<string>", "", &wo);
	CHECK(out != NULL && out[0] == '\0');
	free(out);
}

TEST(bad_files_fail_cleanly)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/bad.parquet", dir);
	write_file(path, "PAR1garbagegarbagePAR1");
	struct firn_parquet_reader *r = NULL;
	CHECK(firn_parquet_reader_open(&r, path, &t_err) == FIRN_ECORRUPT);
	CHECK(strstr(t_err.message, "bad.parquet") != NULL);
	CHECK(r == NULL);
	write_file(path, "");
	CHECK(firn_parquet_reader_open(&r, path, &t_err) == FIRN_ECORRUPT);
	CHECK(firn_parquet_reader_open(&r, "/nonexistent/x.parquet", &t_err) == FIRN_ENOTFOUND);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/firn_test_parquet_%d", (int)getpid());
	mkdir(dir, 0755);
	RUN(nested_round_trip_all_codecs);
	RUN(flat_types_round_trip);
	RUN(same_rows_with_any_number_of_threads);
	RUN(dictionary_fallback_and_stats);
	RUN(same_bytes_with_any_number_of_threads);
	RUN(empty_file);
	RUN(bad_files_fail_cleanly);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_summary();
}
