/* Out-of-memory injection, as SQLite tests its allocator: each operation
 * runs once to count its allocations, then once per N in a forked child
 * whose Nth allocation fails. The child must return cleanly (an error
 * code, or success), free everything (LeakSanitizer checks the child's
 * exit under FIRN_SANITIZE) and leave the table at the old or the new
 * version, without files of the failed attempt left behind.
 *
 * Environment: FIRN_OOM_ALL=1 runs every N of every operation (make oom);
 * otherwise each operation runs the first 100 N and about 200 spread
 * over the rest.
 * FIRN_OOM_PERSISTENT=1 also fails every allocation after the Nth (run
 * after the one-shot pass). FIRN_OOM_OPS=append,scan picks operations
 * ("all", the default: every one);
 * FIRN_OOM_N=n runs only that N (for a debugger or a sanitizer trace),
 * FIRN_OOM_NOFORK=1 then runs it in the test's own process. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firn/catalog.h"
#include "firn/input.h"
#include "firn/table.h"
#include "firn/util.h"
#include "t.h"
#include "util/alloc.h"

static char base[64] = "/tmp/firn-oom-XXXXXX";
static char wh[128], tmpl[128], input_csv[128];

/* ---- the operations ---------------------------------------------------- */

struct env {
	struct firn_catalog *c;
	struct firn_table *t;
};

static int op_load(struct env *e, struct firn_error *err)
{
	/* the catalog and table the other operations get ready-made */
	firn_table_free(e->t);
	firn_catalog_free(e->c);
	e->t = NULL;
	e->c = NULL;
	int rc = firn_catalog_open(&e->c, NULL, wh, NULL, err);
	if (rc == 0)
		rc = firn_table_load(e->c, "ns.t", &e->t, err);
	return rc;
}

static int op_create(struct env *e, struct firn_error *err)
{
	struct firn_table_create_options o = { .schema = "id long not null, name string, ts timestamp",
					       .partition_by = "bucket(4, id), day(ts)" };
	struct firn_table *t2 = NULL;
	int rc = firn_table_create(e->c, "ns.t2", &o, &t2, err);
	firn_table_free(t2);
	return rc;
}

static int op_append(struct env *e, struct firn_error *err)
{
	const char *files[] = { input_csv };
	return firn_table_append(e->t, files, 1, FIRN_INPUT_CSV, NULL, NULL, err);
}

static int op_delete_mor(struct env *e, struct firn_error *err)
{
	return firn_table_delete(e->t, "id < 8 OR id = 33", "merge-on-read", NULL, err);
}

static int op_delete_cow(struct env *e, struct firn_error *err)
{
	return firn_table_delete(e->t, "id >= 36 OR id = 12", "copy-on-write", NULL, err);
}

static int op_delete_auto(struct env *e, struct firn_error *err)
{
	return firn_table_delete(e->t, "id > 25", NULL, NULL, err);
}

static int op_update(struct env *e, struct firn_error *err)
{
	return firn_table_update(e->t, "name = 'x', v = v * 2", "id = 3 OR id = 30", NULL, NULL, err);
}

static int op_compact(struct env *e, struct firn_error *err)
{
	return firn_table_compact(e->t, NULL, 0, NULL, err);
}

/* Row changes and appends to branch b (the template's, at main's head). */
static int op_branch_delete(struct env *e, struct firn_error *err)
{
	int rc = firn_table_set_branch(e->t, "b", err);
	return rc ? rc : firn_table_delete(e->t, "id < 8 OR id = 33", "merge-on-read", NULL, err);
}

static int op_branch_append(struct env *e, struct firn_error *err)
{
	const char *files[] = { input_csv };
	int rc = firn_table_set_branch(e->t, "b", err);
	return rc ? rc : firn_table_append(e->t, files, 1, FIRN_INPUT_CSV, NULL, NULL, err);
}

/* A tag made, rolled back to, moved with force, dropped; main fast-forwarded. */
static int op_refs(struct env *e, struct firn_error *err)
{
	struct firn_ref_options o = FIRN_REF_OPTIONS_INIT;
	struct firn_snapshot_sel sel = { .ref = "t" };
	o.tag = true;
	int rc = firn_table_set_ref_with(e->t, "t", &o, NULL, err);
	if (rc == 0)
		rc = firn_table_rollback_to(e->t, &sel, NULL, err);
	o.force = true;
	if (rc == 0)
		rc = firn_table_set_ref_with(e->t, "t", &o, NULL, err);
	if (rc == 0)
		rc = firn_table_fast_forward(e->t, "main", "b", NULL, err);
	return rc ? rc : firn_table_drop_ref(e->t, "t", true, NULL, err);
}

/* Scans with a filter and a projection and reads every batch. */
static int op_scan(struct env *e, struct firn_error *err)
{
	struct firn_scan_options o = { .columns = "id,v", .where = "id > 4", .limit = -1 };
	struct ArrowSchema s = { 0 };
	struct ArrowArrayStream st = { 0 };
	int rc = firn_table_scan(e->t, &o, &s, &st, err);
	if (rc != 0)
		return rc;
	int64_t rows = 0;
	for (;;) {
		struct ArrowArray b = { 0 };
		rc = st.get_next(&st, &b);
		if (rc != 0) {
			const char *msg = st.get_last_error(&st);
			rc = firn_error_set(err, rc == ENOMEM ? FIRN_ENOMEM : FIRN_EIO, "scan: %s",
					    msg ? msg : "(no message)");
			break;
		}
		if (b.release == NULL)
			break;
		rows += b.length;
		b.release(&b);
	}
	st.release(&st);
	s.release(&s);
	if (rc == 0 && rows != 35)
		rc = firn_error_set(err, FIRN_EINVAL, "scan read %lld rows, expected 35",
				    (long long)rows);
	return rc;
}

struct op {
	const char *name;
	int (*run)(struct env *e, struct firn_error *err);
	const char *ident; /* the table whose version is checked */
	const char *dir;   /* its location, under the warehouse */
};

static const struct op ops[] = {
	{ "load", op_load, "ns.t", "ns.db/t" },
	{ "create", op_create, "ns.t2", "ns.db/t2" },
	{ "append", op_append, "ns.t", "ns.db/t" },
	{ "delete-mor", op_delete_mor, "ns.t", "ns.db/t" },
	{ "delete-cow", op_delete_cow, "ns.t", "ns.db/t" },
	{ "delete-auto", op_delete_auto, "ns.t", "ns.db/t" },
	{ "update", op_update, "ns.t", "ns.db/t" },
	{ "compact", op_compact, "ns.t", "ns.db/t" },
	{ "scan", op_scan, "ns.t", "ns.db/t" },
	{ "branch-delete", op_branch_delete, "ns.t", "ns.db/t" },
	{ "branch-append", op_branch_append, "ns.t", "ns.db/t" },
	{ "refs", op_refs, "ns.t", "ns.db/t" },
};

/* ---- warehouse and table state ------------------------------------------ */

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static int append_rows(struct firn_table *t, int from, int to)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/in-%d.csv", base, from);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs("id,name,v\n", f);
	for (int i = from; i <= to; i++)
		fprintf(f, "%d,name-%d,%d.5\n", i, i, i);
	fclose(f);
	const char *files[] = { path };
	return firn_table_append(t, files, 1, FIRN_INPUT_CSV, NULL, NULL, &t_err);
}

/* The warehouse every run starts from: ns.t with three small data files
 * and one merge-on-read delete (so compaction and scans meet deletes), and
 * branch b at main's head. */
static int prepare(void)
{
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(wh, sizeof(wh), "%s/wh", base);
	snprintf(tmpl, sizeof(tmpl), "%s/tmpl", base);
	snprintf(input_csv, sizeof(input_csv), "%s/append.csv", base);
	write_file(input_csv, "id,name,v\n100,a,1.0\n101,b,2.5\n102,,3.25\n103,d,\n");
	struct firn_catalog *c = NULL;
	struct firn_table *t = NULL;
	struct firn_table_create_options o = { .schema = "id long not null, name string, v double" };
	int rc = firn_catalog_open(&c, NULL, wh, NULL, &t_err);
	if (rc == 0)
		rc = firn_catalog_namespace_create(c, "ns", NULL, NULL, 0, &t_err);
	if (rc == 0)
		rc = firn_table_create(c, "ns.t", &o, &t, &t_err);
	if (rc == 0)
		rc = append_rows(t, 1, 15);
	if (rc == 0)
		rc = append_rows(t, 16, 30);
	if (rc == 0)
		rc = append_rows(t, 31, 40);
	if (rc == 0)
		rc = firn_table_delete(t, "id = 20", "merge-on-read", NULL, &t_err);
	if (rc == 0)
		rc = firn_table_set_ref(t, "b", false, -1, &t_err); /* for the branch operations */
	firn_table_free(t);
	firn_catalog_free(c);
	if (rc != 0) {
		fprintf(stderr, "prepare: %s\n", t_err.message);
		return rc;
	}
	/* the catalog holds absolute paths: every run uses wh itself */
	return sh("mv '%s' '%s'", wh, tmpl);
}

static void restore(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", wh, tmpl, wh);
	if (system(cmd) != 0) {
		fprintf(stderr, "restore failed\n");
		exit(1);
	}
}

/* The version of a table: rows and snapshots; absent: rows -1. */
struct state {
	int64_t rows, snapshots;
};

static int table_state(const char *ident, struct state *s, char *msg, size_t n)
{
	struct firn_catalog *c = NULL;
	struct firn_table *t = NULL;
	struct firn_error err = { 0 };
	s->rows = -1;
	s->snapshots = -1;
	int rc = firn_catalog_open(&c, NULL, wh, NULL, &err);
	if (rc == 0) {
		rc = firn_table_load(c, ident, &t, &err);
		if (rc == FIRN_ENOTFOUND && strstr(err.message, "does not exist")) {
			firn_catalog_free(c);
			return 0;
		}
	}
	if (rc == 0)
		rc = firn_table_count(t, NULL, NULL, &s->rows, &err);
	struct firn_snapshot_info *snaps = NULL;
	size_t n_snaps = 0;
	if (rc == 0)
		rc = firn_table_snapshots(t, &snaps, &n_snaps, &err);
	if (rc == 0)
		s->snapshots = (int64_t)n_snaps;
	if (rc != 0)
		snprintf(msg, n, "reload: %s", err.message);
	firn_snapshot_info_free(snaps, n_snaps);
	firn_table_free(t);
	firn_catalog_free(c);
	return rc;
}

/* ---- files under the table's location ---------------------------------- */

static struct firn_buf listing;

static int list_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	if (type == FTW_F)
		return firn_buf_append(&listing, path, strlen(path) + 1);
	return 0;
}

/* Every file under dir, as one NUL-separated firn_buf (caller frees). */
static struct firn_buf list_files(const char *dir)
{
	listing = (struct firn_buf)FIRN_BUF_INIT;
	nftw(dir, list_one, 16, FTW_PHYS);
	return listing;
}

static bool listed(const struct firn_buf *b, const char *path)
{
	for (size_t i = 0; i < b->len; i += strlen((const char *)b->data + i) + 1)
		if (strcmp((const char *)b->data + i, path) == 0)
			return true;
	return false;
}

/* ---- one run ------------------------------------------------------------ */

/* What a child reports back through its pipe. */
struct report {
	long allocs, failures;
	int rc;
	struct state st;
	char msg[FIRN_ERROR_MESSAGE_MAX];
	char problem[600];
};

/* In the child: run op with the Nth allocation failing (n 0: none). */
static void child(const struct op *op, long n, bool persistent, const struct state *old,
		  const struct state *new, int fd)
{
	struct report r = { 0 };
	struct env e = { 0 };
	struct firn_error err = { 0 };
	char table_dir[256];
	snprintf(table_dir, sizeof(table_dir), "%s/%s", wh, op->dir);
	struct firn_buf before = list_files(table_dir);
	int rc = op_load(&e, &err);
	if (rc != 0) {
		snprintf(r.problem, sizeof(r.problem), "setup: %s", err.message);
		goto out;
	}
	firn_alloc__fail_at(n, persistent);
	rc = op->run(&e, &err);
	r.allocs = firn_alloc__count();
	r.failures = firn_alloc__failures();
	firn_alloc__fail_at(0, false);
	r.rc = rc;
	snprintf(r.msg, sizeof(r.msg), "%s", err.message);
	firn_table_free(e.t);
	firn_catalog_free(e.c);
	e.t = NULL;
	e.c = NULL;
	if (rc != 0 && err.message[0] == '\0')
		snprintf(r.problem, sizeof(r.problem), "error %d without a message", rc);
	if (table_state(op->ident, &r.st, r.problem, sizeof(r.problem)) != 0)
		goto out;
	bool is_old = old && r.st.rows == old->rows && r.st.snapshots == old->snapshots;
	bool is_new = new && r.st.rows == new->rows && r.st.snapshots == new->snapshots;
	if (new == NULL)
		;	/* the counting run: the parent takes its state as "new" */
	else if (rc == 0 && !is_new)
		snprintf(r.problem, sizeof(r.problem),
			 "succeeded but the table has %lld rows, %lld snapshots",
			 (long long)r.st.rows, (long long)r.st.snapshots);
	else if (!is_old && !is_new)
		snprintf(r.problem, sizeof(r.problem),
			 "table at neither version: %lld rows, %lld snapshots",
			 (long long)r.st.rows, (long long)r.st.snapshots);
	else if (rc != 0 && is_old && !(new && old->rows == new->rows &&
					 old->snapshots == new->snapshots)) {
		/* a failed change removes what it wrote */
		struct firn_buf after = list_files(table_dir);
		for (size_t i = 0; i < after.len; i += strlen((const char *)after.data + i) + 1) {
			const char *p = (const char *)after.data + i;
			if (!listed(&before, p)) {
				snprintf(r.problem, sizeof(r.problem), "left behind %s",
					 p + strlen(table_dir) + 1);
				break;
			}
		}
		firn_buf_free(&after);
	}
out:
	firn_table_free(e.t);
	firn_catalog_free(e.c);
	firn_buf_free(&before);
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(3);
	close(fd);
	exit(0); /* normally, so that LeakSanitizer looks */
}

static bool env_on(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

/* Forks a child for one run; false (and a message) when it misbehaved. */
static bool run(const struct op *op, long n, bool persistent, const struct state *old,
		const struct state *new, struct report *r)
{
	int fds[2];
	if (pipe(fds) != 0)
		return false;
	restore();
	fflush(NULL);
	/* FIRN_OOM_NOFORK=1 (with FIRN_OOM_N): the run in this process, for gdb */
	pid_t pid = n > 0 && env_on("FIRN_OOM_NOFORK") ? 0 : fork();
	if (pid == 0) {
		close(fds[0]);
		child(op, n, persistent, old, new, fds[1]);
	}
	close(fds[1]);
	memset(r, 0, sizeof(*r));
	ssize_t got = read(fds[0], r, sizeof(*r));
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		snprintf(r->problem, sizeof(r->problem), "killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0 && r->problem[0] == '\0')
		snprintf(r->problem, sizeof(r->problem), "exit status %d%s", WEXITSTATUS(status),
			 got == (ssize_t)sizeof(*r) ? " (leak or sanitizer report above)" : "");
	else if (got != (ssize_t)sizeof(*r) && r->problem[0] == '\0')
		snprintf(r->problem, sizeof(r->problem), "no report");
	return r->problem[0] == '\0';
}


static bool selected(const char *name)
{
	/* every operation, unless FIRN_OOM_OPS names some */
	const char *v = getenv("FIRN_OOM_OPS");
	if (v == NULL || *v == '\0')
		v = "all";
	if (strcmp(v, "all") == 0)
		return true;
	size_t n = strlen(name);
	for (const char *p = v; (p = strstr(p, name)) != NULL; p += n)
		if ((p == v || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

static void oom_op(const struct op *op, bool persistent)
{
	struct report r;
	struct state old, new;
	/* the old version, from a run that does nothing */
	char msg[600] = "";
	restore();
	if (table_state(op->ident, &old, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "%s: %s\n", op->name, msg);
		CHECK(0);
		return;
	}
	if (!run(op, 0, false, NULL, NULL, &r) || r.rc != 0) {
		fprintf(stderr, "%s: plain run: %s %s\n", op->name, r.problem, r.msg);
		CHECK(0);
		return;
	}
	new = r.st;
	long total = r.allocs;
	CHECK(total > 0);
	bool all = env_on("FIRN_OOM_ALL");
	long only = getenv("FIRN_OOM_N") ? atol(getenv("FIRN_OOM_N")) : 0;
	long ran = 0, errors = 0, enomem = 0, swallowed = 0, bad = 0;
	/* the ordinary run: every N of the first 100 (opening, parsing), then
	 * about 200 more spread evenly (odd strides, so that the phase moves
	 * between operations), and the last; FIRN_OOM_ALL: every N */
	long stride = (total - 100) / 200 | 1;
	if (stride < 7)
		stride = 7;
	for (long n = 1; n <= total + 1; n++) {
		if (only ? n != only : !all && n > 100 && n % stride != 0 && n <= total)
			continue;
		ran++;
		if (!run(op, n, persistent, &old, &new, &r)) {
			if (bad++ < 8)
				fprintf(stderr, "%s: N=%ld%s: %s (rc %d: %s)\n", op->name, n,
					persistent ? " persistent" : "", r.problem, r.rc, r.msg);
			continue;
		}
		if (r.rc != 0) {
			errors++;
			enomem += r.rc == FIRN_ENOMEM;
		} else if (r.failures > 0) {
			swallowed++;
		}
	}
	printf("%-12s %s allocations %ld, ran %ld N: %ld errors (%ld FIRN_ENOMEM), "
	       "%ld succeeded past a failure, %ld bad\n", op->name,
	       persistent ? "persistent" : "one-shot  ", total, ran, errors, enomem, swallowed, bad);
	fflush(stdout);
	CHECK_EQ_INT(bad, 0);
}

int main(void)
{
	/* one thread: the Nth allocation is then the same one in every run,
	 * and no pool thread is alive when the children fork */
	firn_set_threads(1);
	if (prepare() != 0) {
		fprintf(stderr, "cannot prepare the warehouse\n");
		return 1;
	}
	int passes = env_on("FIRN_OOM_PERSISTENT") ? 2 : 1;
	for (int p = 0; p < passes; p++)
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (selected(ops[i].name)) {
				int before = t_failed_checks;
				oom_op(&ops[i], p == 1);
				if (t_failed_checks == before)
					t_passed++;
				else
					t_failed++;
			}
	if (t_failed == 0)
		sh("rm -rf '%s'%s", base, "");
	else
		fprintf(stderr, "warehouse kept at %s\n", base);
	return t_summary();
}
