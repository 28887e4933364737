/* Benchmark driver for firn's Parquet codec (see bench/run.sh).
 *   bench_parquet read FILE
 *   bench_parquet write IN OUT zstd|snappy [ROW_GROUP_BYTES]
 * One JSON line per run: rows, seconds, rows/s, MB/s (of the Parquet file),
 * and peak memory counted through firn's allocator hook. Single-threaded. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "firn/parquet.h"

static size_t cur_bytes, peak_bytes;

static void *count_malloc(size_t n, void *ctx)
{
	void *p = malloc(n);
	if (p) {
		cur_bytes += malloc_usable_size(p);
		if (cur_bytes > peak_bytes)
			peak_bytes = cur_bytes;
	}
	return p;
}

static void *count_realloc(void *old, size_t n, void *ctx)
{
	size_t before = old ? malloc_usable_size(old) : 0;
	void *p = realloc(old, n);
	if (p) {
		cur_bytes += malloc_usable_size(p) - before;
		if (cur_bytes > peak_bytes)
			peak_bytes = cur_bytes;
	}
	return p;
}

static void count_free(void *p, void *ctx)
{
	if (p)
		cur_bytes -= malloc_usable_size(p);
	free(p);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int64_t file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void die(const char *what, const struct firn_error *err)
{
	fprintf(stderr, "bench_parquet: %s: %s\n", what, err ? err->message : "");
	exit(1);
}

/* Reads every batch; keeps them when `keep` is given. */
static int64_t read_all(const char *path, struct ArrowArray **keep, int64_t *n_keep,
			struct ArrowSchema *schema, int64_t *max_rg_bytes)
{
	struct firn_error err;
	struct firn_parquet_reader *r;
	if (firn_parquet_reader_open(&r, path, &err) != 0)
		die(path, &err);
	if (max_rg_bytes) {
		*max_rg_bytes = 0;
		for (int g = 0; g < firn_parquet_reader_num_row_groups(r); g++) {
			int64_t b = firn_parquet_reader_row_group_bytes(r, g, NULL, NULL);
			if (b > *max_rg_bytes)
				*max_rg_bytes = b;
		}
	}
	struct ArrowArrayStream st;
	if (firn_parquet_reader_stream(r, NULL, &st, &err) != 0)
		die(path, &err);
	if (schema && st.get_schema(&st, schema) != 0)
		die("schema", NULL);
	int64_t rows = 0, cap = 0;
	for (;;) {
		struct ArrowArray b;
		if (st.get_next(&st, &b) != 0) {
			fprintf(stderr, "bench_parquet: %s\n", st.get_last_error(&st));
			exit(1);
		}
		if (b.release == NULL)
			break;
		rows += b.length;
		if (keep) {
			if (*n_keep == cap) {
				cap = cap ? cap * 2 : 64;
				*keep = realloc(*keep, sizeof(**keep) * (size_t)cap);
			}
			(*keep)[(*n_keep)++] = b;
		} else {
			b.release(&b);
		}
	}
	st.release(&st);
	firn_parquet_reader_free(r);
	return rows;
}

int main(int argc, char **argv)
{
	struct firn_allocator a = { count_malloc, count_realloc, count_free, NULL };
	firn_allocator_set(&a);
	if (argc >= 3 && strcmp(argv[1], "read") == 0) {
		int64_t rg_bytes;
		double t0 = now();
		int64_t rows = read_all(argv[2], NULL, NULL, NULL, &rg_bytes);
		double s = now() - t0;
		int64_t size = file_size(argv[2]);
		printf("{\"engine\":\"firn\",\"op\":\"read\",\"file\":\"%s\",\"rows\":%lld,\"seconds\":%.3f,"
		       "\"rows_per_s\":%.0f,\"mb_per_s\":%.1f,\"peak_bytes\":%zu,\"max_row_group_bytes\":%lld,"
		       "\"maxrss_kb\":%ld}\n", argv[2], (long long)rows, s, rows / s, size / s / 1e6,
		       peak_bytes, (long long)rg_bytes, maxrss_kb());
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "write") == 0) {
		struct ArrowArray *batches = NULL;
		int64_t n = 0;
		struct ArrowSchema schema;
		int64_t rows = read_all(argv[2], &batches, &n, &schema, NULL);
		struct firn_parquet_write_options o = FIRN_PARQUET_WRITE_OPTIONS_INIT;
		o.codec = strcmp(argv[4], "snappy") == 0 ? FIRN_PARQUET_SNAPPY : FIRN_PARQUET_ZSTD;
		if (argc >= 6)
			o.row_group_size = atoll(argv[5]);
		size_t base = cur_bytes;
		peak_bytes = cur_bytes;
		struct firn_error err;
		struct firn_parquet_writer *w;
		double t0 = now();
		if (firn_parquet_writer_open(&w, argv[3], &schema, &o, &err) != 0)
			die(argv[3], &err);
		for (int64_t i = 0; i < n; i++)
			if (firn_parquet_writer_write(w, &batches[i], &err) != 0)
				die(argv[3], &err);
		if (firn_parquet_writer_close(w, &err) != 0)
			die(argv[3], &err);
		double s = now() - t0;
		size_t peak = peak_bytes - base;
		firn_parquet_writer_free(w);
		int64_t size = file_size(argv[3]);
		printf("{\"engine\":\"firn\",\"op\":\"write\",\"codec\":\"%s\",\"rows\":%lld,\"seconds\":%.3f,"
		       "\"rows_per_s\":%.0f,\"mb_per_s\":%.1f,\"file_bytes\":%lld,\"peak_bytes\":%zu,"
		       "\"row_group_bytes\":%lld}\n", argv[4], (long long)rows, s, rows / s, size / s / 1e6,
		       (long long)size, peak, (long long)o.row_group_size);
		for (int64_t i = 0; i < n; i++)
			batches[i].release(&batches[i]);
		free(batches);
		schema.release(&schema);
		return 0;
	}
	fprintf(stderr, "usage: bench_parquet read FILE | write IN OUT zstd|snappy [ROW_GROUP_BYTES]\n");
	return 2;
}
