/* Benchmark driver for firn's Parquet codec (issue 2; see bench/run.sh).
 *
 *   bench_parquet read FILE
 *       Streams every batch of FILE (firn_parquet_reader_stream, one batch
 *       per row group) and discards it.
 *   bench_parquet write IN OUT --codec zstd|snappy [--row-group-size BYTES]
 *       Reads IN fully into memory as Arrow batches (untimed), then times
 *       firn_parquet_writer_open + write of every batch + close into OUT.
 *
 * One JSON line per run on stdout: rows, seconds, rows/s, MB/s (of the
 * Parquet file: its size over the time), peak memory and ru_maxrss.
 * Single-threaded: firn's reader and writer use no threads.
 *
 * Peak memory is counted exactly through firn's allocator hook: every byte
 * libfirn allocates goes through count_* below (malloc_usable_size, so
 * allocator slack is included). For write it is the peak minus what was
 * held when the write began (the input batches); for read it is the peak
 * during the stream (reader, footer, decode buffers and the batch being
 * built). Memory that libzstd/libsnappy allocate themselves (compression
 * contexts) does not go through the hook; ru_maxrss covers everything.
 *
 * fsync is interposed (timed, then done by the system call) so that the
 * time firn_parquet_writer_close spends in it can be reported apart:
 * pyarrow does not fsync. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "firn/parquet.h"
#include "firn/util.h"

/* ---- counting allocator ---- */

static size_t cur_bytes, peak_bytes;

static void count_add(size_t n)
{
	cur_bytes += n;
	if (cur_bytes > peak_bytes)
		peak_bytes = cur_bytes;
}

static void *count_malloc(size_t n, void *ctx)
{
	(void)ctx;
	void *p = malloc(n);
	if (p)
		count_add(malloc_usable_size(p));
	return p;
}

static void *count_realloc(void *old, size_t n, void *ctx)
{
	(void)ctx;
	size_t before = old ? malloc_usable_size(old) : 0;
	void *p = realloc(old, n);
	if (p) {
		cur_bytes -= before;
		count_add(malloc_usable_size(p));
	} else if (n == 0) {
		cur_bytes -= before; /* realloc(p, 0) freed p */
	}
	return p;
}

static void count_free(void *p, void *ctx)
{
	(void)ctx;
	if (p)
		cur_bytes -= malloc_usable_size(p);
	free(p);
}

/* ---- clocks, sizes ---- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double fsync_seconds;

/* Interposes libc's fsync for libfirn (linked statically): same effect,
 * timed. */
int fsync(int fd)
{
	double t0 = now();
	int rc = (int)syscall(SYS_fsync, fd);
	fsync_seconds += now() - t0;
	return rc;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int64_t file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_parquet: %s: %s\n", what, msg ? msg : "failed");
	exit(1);
}

/* Row groups of a Parquet file: count, and the largest uncompressed size
 * (RowGroup.total_byte_size) and row count. */
struct rg_facts {
	int n;
	int64_t max_bytes, max_rows;
};

static void rg_facts_of(struct firn_parquet_reader *r, struct rg_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->n = firn_parquet_reader_num_row_groups(r);
	for (int g = 0; g < f->n; g++) {
		int64_t b = firn_parquet_reader_row_group_bytes(r, g, NULL, NULL);
		int64_t n = firn_parquet_reader_row_group_rows(r, g);
		if (b > f->max_bytes)
			f->max_bytes = b;
		if (n > f->max_rows)
			f->max_rows = n;
	}
}

/* The bytes an array's buffers hold, as pyarrow's nbytes counts them
 * (lengths, not capacities; the slice at offset). -1: a type not handled. */
static int64_t arrow_nbytes(const struct ArrowSchema *s, const struct ArrowArray *a)
{
	struct firn_type t;
	if (firn_type_of(s, &t, NULL) != 0)
		return -1;
	int64_t n = a->length, off = a->offset, total = 0;
	if (a->n_buffers > 0 && a->buffers[0] != NULL)
		total += (n + 7) / 8;
	switch (t.id) {
	case FIRN_A_NULL:
		return 0;
	case FIRN_A_BOOL:
		return total + (n + 7) / 8;
	case FIRN_A_STRING:
	case FIRN_A_BINARY: {
		const int32_t *o = a->buffers[1];
		return total + (n + 1) * 4 + (n > 0 ? o[off + n] - o[off] : 0);
	}
	case FIRN_A_STRUCT:
		for (int64_t i = 0; i < a->n_children; i++) {
			int64_t c = arrow_nbytes(s->children[i], a->children[i]);
			if (c < 0)
				return -1;
			total += c;
		}
		return total;
	case FIRN_A_LIST:
	case FIRN_A_MAP: {
		int64_t c = arrow_nbytes(s->children[0], a->children[0]);
		return c < 0 ? -1 : total + (n + 1) * 4 + c;
	}
	default:
		return t.width > 0 ? total + n * t.width : -1;
	}
}

/* Streams path; keeps the batches in *keep when keep is not NULL, else
 * releases each one. batch_max: the most memory one batch held (its
 * buffers as allocated); batch_exact: the largest batch's buffer lengths
 * (pyarrow's nbytes). Both are taken outside the timed part's work: a
 * counter read, and a walk of the batch's top-level buffers. */
static int64_t read_all(const char *path, struct ArrowArray **keep, int64_t *n_keep,
			struct ArrowSchema *schema, struct rg_facts *facts, size_t *batch_max,
			int64_t *batch_exact)
{
	struct ArrowSchema own;
	if (schema == NULL && batch_exact != NULL)
		schema = &own;
	struct firn_error err;
	struct firn_parquet_reader *r;
	if (firn_parquet_reader_open(&r, path, &err) != 0)
		die(path, err.message);
	if (facts)
		rg_facts_of(r, facts);
	struct ArrowArrayStream st;
	if (firn_parquet_reader_stream(r, NULL, &st, &err) != 0)
		die(path, err.message);
	if (schema && st.get_schema(&st, schema) != 0)
		die(path, "get_schema");
	int64_t rows = 0, cap = 0;
	if (batch_max)
		*batch_max = 0;
	for (;;) {
		struct ArrowArray b;
		size_t before = cur_bytes;
		int rc = st.get_next(&st, &b);
		if (rc != 0)
			die(path, st.get_last_error(&st));
		if (b.release == NULL)
			break;
		if (batch_max && cur_bytes - before > *batch_max)
			*batch_max = cur_bytes - before;
		if (batch_exact) {
			int64_t e = arrow_nbytes(schema, &b);
			if (e > *batch_exact)
				*batch_exact = e;
		}
		rows += b.length;
		if (keep) {
			if (*n_keep == cap) {
				cap = cap ? cap * 2 : 64;
				*keep = realloc(*keep, sizeof(**keep) * (size_t)cap);
				if (*keep == NULL)
					die(path, "out of memory");
			}
			(*keep)[(*n_keep)++] = b;
		} else {
			b.release(&b);
		}
	}
	st.release(&st);
	firn_parquet_reader_free(r);
	if (schema == &own)
		own.release(&own);
	return rows;
}

static int cmd_read(const char *path)
{
	struct rg_facts f;
	size_t batch_max;
	int64_t batch_exact = 0;
	size_t base = cur_bytes;
	peak_bytes = cur_bytes;
	double c0 = cpu_seconds(), t0 = now();
	int64_t rows = read_all(path, NULL, NULL, NULL, &f, &batch_max, &batch_exact);
	double s = now() - t0, cpu = cpu_seconds() - c0;
	size_t peak = peak_bytes - base;
	int64_t size = file_size(path);
	printf("{\"engine\":\"firn\",\"op\":\"read\",\"api\":\"stream\",\"file\":\"%s\",\"rows\":%lld,"
	       "\"seconds\":%.4f,\"cpu_seconds\":%.4f,\"rows_per_s\":%.0f,\"mb_per_s\":%.2f,\"file_bytes\":%lld,"
	       "\"peak_bytes\":%zu,\"batch_bytes_max\":%zu,\"batch_nbytes_max\":%lld,\"row_groups\":%d,\"row_group_rows_max\":%lld,"
	       "\"row_group_bytes_max\":%lld,\"maxrss_kb\":%ld}\n",
	       path, (long long)rows, s, cpu, (double)rows / s, (double)size / s / 1e6, (long long)size,
	       peak, batch_max, (long long)batch_exact, f.n, (long long)f.max_rows, (long long)f.max_bytes, maxrss_kb());
	return 0;
}

static int cmd_write(const char *in, const char *out, const char *codec, int64_t rg_size)
{
	struct firn_parquet_write_options o = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	if (strcmp(codec, "zstd") == 0)
		o.codec = FIRN_PARQUET_ZSTD;
	else if (strcmp(codec, "snappy") == 0)
		o.codec = FIRN_PARQUET_SNAPPY;
	else
		die(codec, "codec must be zstd or snappy");
	if (rg_size > 0)
		o.row_group_size = rg_size;

	/* untimed: the input, in memory */
	struct ArrowArray *batches = NULL;
	int64_t n = 0;
	struct ArrowSchema schema;
	int64_t rows = read_all(in, &batches, &n, &schema, NULL, NULL, NULL);
	size_t input_bytes = cur_bytes;

	struct firn_error err;
	struct firn_parquet_writer *w;
	size_t base = cur_bytes;
	peak_bytes = cur_bytes;
	fsync_seconds = 0;
	double c0 = cpu_seconds(), t0 = now();
	if (firn_parquet_writer_open(&w, out, &schema, &o, &err) != 0)
		die(out, err.message);
	for (int64_t i = 0; i < n; i++)
		if (firn_parquet_writer_write(w, &batches[i], &err) != 0)
			die(out, err.message);
	double tc = now();
	if (firn_parquet_writer_close(w, &err) != 0)
		die(out, err.message);
	double s = now() - t0, close_s = now() - tc, cpu = cpu_seconds() - c0;
	size_t peak = peak_bytes - base;
	if (firn_parquet_writer_rows(w) != rows)
		die(out, "writer row count differs from the input's");
	firn_parquet_writer_free(w);

	/* untimed: what was written */
	struct firn_parquet_reader *r;
	struct rg_facts f;
	if (firn_parquet_reader_open(&r, out, &err) != 0)
		die(out, err.message);
	rg_facts_of(r, &f);
	if (firn_parquet_reader_num_rows(r) != rows)
		die(out, "the written file's row count differs from the input's");
	firn_parquet_reader_free(r);
	int64_t size = file_size(out);
	printf("{\"engine\":\"firn\",\"op\":\"write\",\"codec\":\"%s\",\"file\":\"%s\",\"rows\":%lld,"
	       "\"seconds\":%.4f,\"cpu_seconds\":%.4f,\"close_seconds\":%.4f,\"fsync_seconds\":%.4f,"
	       "\"rows_per_s\":%.0f,\"mb_per_s\":%.2f,\"file_bytes\":%lld,\"peak_bytes\":%zu,"
	       "\"input_bytes\":%zu,\"row_group_size\":%lld,\"row_groups\":%d,\"row_group_rows_max\":%lld,"
	       "\"row_group_bytes_max\":%lld,\"maxrss_kb\":%ld}\n",
	       codec, out, (long long)rows, s, cpu, close_s, fsync_seconds, (double)rows / s,
	       (double)size / s / 1e6, (long long)size, peak, input_bytes, (long long)o.row_group_size, f.n,
	       (long long)f.max_rows, (long long)f.max_bytes, maxrss_kb());
	for (int64_t i = 0; i < n; i++)
		batches[i].release(&batches[i]);
	free(batches);
	schema.release(&schema);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_parquet read FILE\n"
			"       bench_parquet write IN OUT --codec zstd|snappy [--row-group-size BYTES]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct firn_allocator a = { count_malloc, count_realloc, count_free, NULL };
	firn_allocator_set(&a); /* before any other libfirn call */
	if (argc == 3 && strcmp(argv[1], "read") == 0)
		return cmd_read(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "write") == 0) {
		const char *codec = NULL;
		int64_t rg = 0;
		for (int i = 4; i < argc; i++) {
			if (strcmp(argv[i], "--codec") == 0 && i + 1 < argc) {
				codec = argv[++i];
			} else if (strcmp(argv[i], "--row-group-size") == 0 && i + 1 < argc) {
				char *end;
				rg = strtoll(argv[++i], &end, 10);
				if (*end != '\0' || rg <= 0)
					return usage();
			} else {
				return usage();
			}
		}
		if (codec == NULL)
			return usage();
		return cmd_write(argv[2], argv[3], codec, rg);
	}
	return usage();
}
