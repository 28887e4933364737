/* A table's full scan in one process, timed at several thread counts
 * (issue 13: both cores). Not a test.
 *
 *   build/scan_threads WAREHOUSE TABLE [REPS]
 *
 * For each of 1 and 2 threads (firn_set_threads), REPS scans (default 5),
 * alternating, each read to its end and dropped; prints the best and the
 * median of each. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "firn/firn.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int scan_once(struct firn_table *t, int64_t *rows, double *secs, struct firn_error *err)
{
	double t0 = now();
	struct firn_scan_options o = FIRN_SCAN_OPTIONS_INIT;
	struct ArrowSchema s;
	struct ArrowArrayStream st;
	if (firn_table_scan(t, &o, &s, &st, err) != 0)
		return 1;
	*rows = 0;
	int rc = 0;
	for (;;) {
		struct ArrowArray b;
		if (st.get_next(&st, &b) != 0) {
			fprintf(stderr, "scan: %s\n", st.get_last_error(&st));
			rc = 1;
			break;
		}
		if (!b.release)
			break;
		*rows += b.length;
		b.release(&b);
	}
	st.release(&st);
	s.release(&s);
	*secs = now() - t0;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: scan_threads WAREHOUSE TABLE [REPS]\n");
		return 2;
	}
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	if (reps < 1 || reps > 100)
		reps = 5;
	struct firn_error err = { 0 };
	struct firn_catalog *c = NULL;
	struct firn_table *t = NULL;
	if (firn_catalog_open(&c, NULL, argv[1], NULL, &err) != 0 ||
	    firn_table_load(c, argv[2], &t, &err) != 0) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	double secs[2][100];
	int64_t rows = 0;
	for (int r = 0; r < reps; r++)
		for (int k = 0; k < 2; k++) {
			firn_set_threads(k + 1);
			if (scan_once(t, &rows, &secs[k][r], &err) != 0) {
				fprintf(stderr, "%s\n", err.message);
				return 1;
			}
		}
	for (int k = 0; k < 2; k++) {
		qsort(secs[k], (size_t)reps, sizeof(double), cmp_double);
		printf("threads %d: %lld rows, best %.3f s, median %.3f s\n", k + 1, (long long)rows,
		       secs[k][0], secs[k][reps / 2]);
	}
	firn_table_free(t);
	firn_catalog_free(c);
	return 0;
}
