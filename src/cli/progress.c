/* Progress of long work on standard error: one line, redrawn in place
 * ("\r") at most five times a second and cleared at the end, shown only
 * when standard error is a terminal (FIRN_PROGRESS=1 forces it, =0 and
 * --quiet silence it). Standard output is never touched. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "firn/util.h"

static struct {
	bool quiet;
	bool active;    /* between begin and end */
	bool drawn;     /* a line is on the terminal */
	const char *what;
	double start, last;
	struct firn_progress p;
} pr;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_quiet(void)
{
	pr.quiet = true;
}

bool cli_progress_enabled(void)
{
	const char *e = getenv("FIRN_PROGRESS");
	if (e && strcmp(e, "0") == 0)
		return false;
	if (pr.quiet)
		return false;
	if (e && strcmp(e, "1") == 0)
		return true;
	return isatty(STDERR_FILENO) == 1;
}

static void human_bytes(char *buf, size_t n, double b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

/* "N" or "N of T" */
static void count(struct firn_buf *b, const char *unit, int64_t done, int64_t total)
{
	if (total >= 0)
		firn_buf_printf(b, ", %lld of %lld %s", (long long)done, (long long)total, unit);
	else
		firn_buf_printf(b, ", %lld %s", (long long)done, unit);
}

static void draw(double t)
{
	const struct firn_progress *p = &pr.p;
	double el = t - pr.start;
	struct firn_buf b = FIRN_BUF_INIT;
	char tmp[32];
	if (p->stage && strcmp(p->stage, pr.what) != 0)
		firn_buf_printf(&b, "firn %s (%s):", pr.what, p->stage);
	else
		firn_buf_printf(&b, "firn %s:", pr.what);
	size_t head = b.len;
	if (p->files_total > 0 || p->files > 0)
		count(&b, "files", p->files, p->files_total);
	if (p->rows_total > 0 || p->rows > 0)
		count(&b, "rows", p->rows, p->rows_total);
	if (p->bytes > 0) {
		human_bytes(tmp, sizeof(tmp), (double)p->bytes);
		firn_buf_printf(&b, ", %s", tmp);
	}
	if (el >= 0.5 && p->bytes > 0) {
		human_bytes(tmp, sizeof(tmp), (double)p->bytes / el);
		firn_buf_printf(&b, ", %s/s", tmp);
	} else if (el >= 0.5 && p->rows > 0) {
		firn_buf_printf(&b, ", %.0f rows/s", (double)p->rows / el);
	}
	/* the share done: of bytes, else rows, else files, when the total is known */
	double share = -1;
	if (p->bytes_total > 0)
		share = (double)p->bytes / (double)p->bytes_total;
	else if (p->rows_total > 0)
		share = (double)p->rows / (double)p->rows_total;
	else if (p->files_total > 0)
		share = (double)p->files / (double)p->files_total;
	if (share >= 0) {
		if (share > 1)
			share = 1;
		firn_buf_printf(&b, " (%.0f%%", share * 100);
		if (el >= 0.5 && share > 0.001 && share < 1) {
			long left = (long)(el / share - el + 0.5);
			firn_buf_printf(&b, ", %ld:%02ld left", left / 60, left % 60);
		}
		firn_buf_puts(&b, ")");
	}
	if (b.data && b.len > head && b.data[head] == ',') { /* "firn x:, 5 rows" */
		memmove(b.data + head, b.data + head + 1, b.len - head - 1);
		b.len--;
	}
	if (b.data) {
		/* \r, the line, and erase what a longer line before left */
		fprintf(stderr, "\r%.*s\033[K", (int)b.len, (const char *)b.data);
		fflush(stderr);
		pr.drawn = true;
	}
	firn_buf_free(&b);
	pr.last = t;
}

void cli_progress_begin(const char *what)
{
	memset(&pr.p, 0, sizeof(pr.p));
	pr.p.files_total = pr.p.rows_total = pr.p.bytes_total = -1;
	pr.what = what;
	pr.active = cli_progress_enabled();
	pr.start = now_s();
	pr.last = -1;
}

void cli_progress_update(const struct firn_progress *p)
{
	if (!pr.active)
		return;
	const char *what = pr.what;
	pr.p = *p;
	pr.what = what;
	double t = now_s();
	if (pr.last < 0 || t - pr.last >= 0.2) /* the first at once, then five a second */
		draw(t);
}

void cli_progress_lib(void *arg, const struct firn_progress *p)
{
	(void)arg;
	cli_progress_update(p);
}

void cli_progress_end(void)
{
	if (pr.drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	pr.drawn = false;
	pr.active = false;
}

/* ---- an input stream that reports the rows and bytes read through it ---- */

struct counting {
	struct ArrowArrayStream in;
	struct ArrowSchema schema;
	struct firn_progress p;
};

static int c_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
	struct counting *c = s->private_data;
	return c->in.get_schema(&c->in, out);
}

static int c_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
	struct counting *c = s->private_data;
	int rc = c->in.get_next(&c->in, out);
	if (rc == 0 && out->release) {
		c->p.rows += out->length;
		if (c->schema.release)
			c->p.bytes += firn_arrow_array_bytes(&c->schema, out);
		cli_progress_update(&c->p);
	}
	return rc;
}

static const char *c_last_error(struct ArrowArrayStream *s)
{
	struct counting *c = s->private_data;
	return c->in.get_last_error(&c->in);
}

static void c_release(struct ArrowArrayStream *s)
{
	struct counting *c = s->private_data;
	if (c->in.release)
		c->in.release(&c->in);
	if (c->schema.release)
		c->schema.release(&c->schema);
	free(c);
	s->release = NULL;
}

int cli_progress_wrap(struct ArrowArrayStream *in, int64_t rows_total)
{
	if (!pr.active)
		return 0;
	struct counting *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->in = *in;
	if (c->in.get_schema(&c->in, &c->schema) != 0)
		c->schema.release = NULL;
	c->p.files_total = c->p.bytes_total = -1;
	c->p.rows_total = rows_total;
	in->get_schema = c_get_schema;
	in->get_next = c_get_next;
	in->get_last_error = c_last_error;
	in->release = c_release;
	in->private_data = c;
	return 0;
}
