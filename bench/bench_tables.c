/* In-process timings of firn's table reads, for bench/bench_tables.py: the
 * same work PyIceberg's to_arrow()/plan_files() and DuckDB's
 * fetch-to-Arrow do, without a process start or an output format.
 *
 *   bench_tables scan WAREHOUSE TABLE [WHERE]    open, plan, read every batch
 *   bench_tables count WAREHOUSE TABLE WHERE     open, plan, count
 * Prints "<seconds> <rows>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firn/catalog.h"
#include "firn/table.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_tables scan|count WAREHOUSE TABLE [WHERE]\n");
		return 2;
	}
	const char *where = argc > 4 ? argv[4] : NULL;
	struct firn_error err = { 0 };
	double t0 = now();
	struct firn_catalog *c = NULL;
	struct firn_table *t = NULL;
	int64_t rows = 0;
	if (firn_catalog_open(&c, NULL, argv[2], NULL, &err) != 0 ||
	    firn_table_load(c, argv[3], &t, &err) != 0)
		goto fail;
	if (strcmp(argv[1], "count") == 0) {
		if (firn_table_count(t, where, NULL, &rows, &err) != 0)
			goto fail;
	} else {
		struct firn_scan_options o = { 0 };
		o.where = where;
		o.limit = -1;
		struct ArrowSchema s;
		struct ArrowArrayStream st;
		if (firn_table_scan(t, &o, &s, &st, &err) != 0)
			goto fail;
		for (;;) {
			struct ArrowArray b;
			if (st.get_next(&st, &b) != 0) {
				fprintf(stderr, "%s\n", st.get_last_error(&st));
				return 1;
			}
			if (!b.release)
				break;
			rows += b.length;
			b.release(&b);
		}
		st.release(&st);
		s.release(&s);
	}
	printf("%.6f %lld\n", now() - t0, (long long)rows);
	firn_table_free(t);
	firn_catalog_free(c);
	return 0;
fail:
	fprintf(stderr, "bench_tables: %s\n", err.message);
	return 1;
}
