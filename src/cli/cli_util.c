#define _GNU_SOURCE /* fopencookie */
/* Shared helpers of the firn command: messages, options, strict numbers,
 * output files written whole or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "firn/io.h"
#include "firn/util.h"

static const char *usage_line;

void cli_set_usage(const char *line)
{
	usage_line = line;
}

int cli_fail(const struct firn_error *err)
{
	cli_progress_end(); /* the error line starts a clean line */
	fprintf(stderr, "firn: error: %s\n", err->message[0] ? err->message : firn_code_name(err->code));
	return EXIT_FAIL;
}

/* Formats into an error record: the message is escaped there. */
static void vset(struct firn_error *e, const char *fmt, va_list ap)
{
	char raw[4 * FIRN_ERROR_MESSAGE_MAX];
	vsnprintf(raw, sizeof(raw), fmt, ap);
	firn_error_set(e, FIRN_EINVAL, "%s", raw);
}

int cli_failf(const char *fmt, ...)
{
	struct firn_error e;
	va_list ap;
	va_start(ap, fmt);
	vset(&e, fmt, ap);
	va_end(ap);
	return cli_fail(&e);
}

int cli_usage(const char *fmt, ...)
{
	struct firn_error e;
	va_list ap;
	va_start(ap, fmt);
	vset(&e, fmt, ap);
	va_end(ap);
	fprintf(stderr, "firn: error: %s\n", e.message);
	fprintf(stderr, usage_line ? "usage: firn %s\n" : "usage: firn COMMAND ... (see firn help)\n", usage_line);
	return EXIT_USAGE;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static int add_value(struct cli_opt *o, const char *v)
{
	const char **vs = realloc(o->values, (o->n_values + 1) * sizeof(*vs));
	if (!vs)
		return cli_failf("out of memory");
	vs[o->n_values++] = v;
	o->values = vs;
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opt *opts, int n_opts, const char **pos,
	      int max_pos, int *n_pos)
{
	*n_pos = 0;
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] == '-' && a[2] != '\0') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
			struct cli_opt *o = NULL;
			for (int k = 0; k < n_opts; k++)
				if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
					o = &opts[k];
			if (o == NULL)
				return cli_usage("unknown option --%.*s", (int)nlen, name);
			if (o->takes_value) {
				if (eq)
					o->value = eq + 1;
				else if (i + 1 < argc)
					o->value = argv[++i];
				else
					return cli_usage("option --%s needs a value", o->name);
				if (o->repeats && add_value(o, o->value) != 0)
					return EXIT_FAIL;
			} else {
				if (eq)
					return cli_usage("option --%s takes no value", o->name);
				o->value = "1";
			}
			continue;
		}
		if (*n_pos >= max_pos)
			return cli_usage("unexpected argument '%s'", a);
		pos[(*n_pos)++] = a;
	}
	return 0;
}

void cli_opts_free(struct cli_opt *opts, int n_opts)
{
	for (int k = 0; k < n_opts; k++) {
		free(opts[k].values);
		opts[k].values = NULL;
		opts[k].n_values = 0;
	}
}

const char *cli_get(const struct cli_opt *opts, int n_opts, const char *name)
{
	for (int k = 0; k < n_opts; k++)
		if (strcmp(opts[k].name, name) == 0)
			return opts[k].value;
	return NULL;
}

/* ---- numbers ---------------------------------------------------------- */

/* Digits at s (with an optional '-'), accumulated without overflow; *end
 * is where they stop. -1 for no digits or a value outside int64. */
static int digits(const char *s, int64_t *out, const char **end)
{
	bool neg = *s == '-';
	const char *p = s + neg;
	if (*p < '0' || *p > '9')
		return -1;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	*end = p;
	return 0;
}

int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v;
	const char *end;
	if (!s || digits(s, &v, &end) != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_size(const char *s, int64_t min, int64_t *out)
{
	int64_t v;
	const char *end;
	if (!s || *s == '-' || digits(s, &v, &end) != 0)
		return -1;
	int64_t mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1024; end++; break;
	case 'm': case 'M': mul = 1024 * 1024; end++; break;
	case 'g': case 'G': mul = 1024LL * 1024 * 1024; end++; break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || v > INT64_MAX / mul || v * mul < min)
		return -1;
	*out = v * mul;
	return 0;
}

int cli_opt_int(const struct cli_opt *o, int n, const char *name, int64_t min, int64_t max,
		int64_t *out)
{
	const char *v = cli_get(o, n, name);
	if (!v || cli_parse_int(v, min, max, out) == 0)
		return 0;
	if (min == INT64_MIN && max == INT64_MAX)
		return cli_usage("--%s needs a whole number, not '%s'", name, v);
	if (max == INT64_MAX)
		return cli_usage("--%s needs a whole number of at least %lld, not '%s'", name, (long long)min, v);
	return cli_usage("--%s needs a whole number from %lld to %lld, not '%s'", name, (long long)min,
			 (long long)max, v);
}

int cli_opt_size(const struct cli_opt *o, int n, const char *name, int64_t min, int64_t *out)
{
	const char *v = cli_get(o, n, name);
	if (!v || cli_parse_size(v, min, out) == 0)
		return 0;
	return cli_usage("--%s needs a size in bytes of at least %lld (digits, optionally k, m or g), not '%s'",
			 name, (long long)min, v);
}

int cli_opt_enum(const struct cli_opt *o, int n, const char *name, const char *const *choices,
		 int *index)
{
	const char *v = cli_get(o, n, name);
	if (!v)
		return 0;
	char list[256] = "";
	for (int i = 0; choices[i]; i++) {
		if (strcmp(v, choices[i]) == 0) {
			*index = i;
			return 0;
		}
		size_t len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", choices[i]);
	}
	return cli_usage("--%s is one of %s, not '%s'", name, list, v);
}

int cli_opt_time(struct cli_opt *o, int n, const char *name)
{
	const char *v = cli_get(o, n, name);
	int64_t x;
	if (v && strcasecmp(v, "now") == 0) { /* this very moment, in epoch milliseconds */
		static char now[32];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(now, sizeof(now), "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		for (int i = 0; i < n; i++)
			if (strcmp(o[i].name, name) == 0)
				o[i].value = now;
		return 0;
	}
	if (!v || cli_parse_int(v, INT64_MIN, INT64_MAX, &x) == 0 ||
	    firn_timestamp_parse(v, strlen(v), 6, &x) == 0)
		return 0;
	return cli_usage("--%s needs a timestamp (2026-11-23T10:00:00, UTC unless it has an offset), "
			 "epoch milliseconds or now, not '%s'", name, v);
}

/* ---- output files ------------------------------------------------------- */

int cli_not_an_input(const char *path, const char *const *inputs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!inputs[i] || strcmp(inputs[i], "-") == 0)
			continue;
		if (firn_io_same_file(inputs[i], path))
			return cli_failf("%s: the output is the input %s (the same file): refusing to write "
					 "over what is being read", path, inputs[i]);
	}
	return 0;
}

/* A FILE over a firn_io_output created with FIRN_IO_REPLACE: the file
 * appears at fclose, unless cli_file_discard was called first. */
struct io_cookie {
	struct firn_io_output *out;
	bool discard, failed;
	struct firn_error err;
};

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	struct io_cookie *k = c;
	if (k->failed || firn_io_write(k->out, buf, n, &k->err) != 0) {
		k->failed = true;
		errno = EIO;
		return -1;
	}
	return (ssize_t)n;
}

static int cookie_close(void *c)
{
	struct io_cookie *k = c;
	int rc = 0;
	if (k->discard || k->failed)
		firn_io_output_abort(k->out);
	else if (firn_io_output_close(k->out, &k->err) != 0)
		rc = -1;
	if (rc != 0)
		errno = EIO;
	k->failed |= rc != 0;
	return rc; /* k is freed by cli_file_end, which reads its error */
}

int cli_file_replace(struct cli_file *o, const char *path, struct firn_error *err)
{
	o->f = NULL;
	o->cookie = calloc(1, sizeof(struct io_cookie));
	struct io_cookie *k = o->cookie;
	if (!k)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = firn_io_create(path, FIRN_IO_REPLACE, &k->out, err);
	if (rc != 0) {
		free(k);
		return rc;
	}
	cookie_io_functions_t fns = { .write = cookie_write, .close = cookie_close };
	o->f = fopencookie(k, "w", fns);
	if (!o->f) {
		firn_io_output_abort(k->out);
		free(k);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

int cli_file_end(struct cli_file *o, bool ok, struct firn_error *err)
{
	struct io_cookie *k = o->cookie;
	k->discard = !ok;
	if (ok && fflush(o->f) != 0)
		k->failed = true;
	int closed = fclose(o->f); /* closes or aborts the output (cookie_close) */
	int rc = 0;
	if (ok && (k->failed || closed != 0))
		rc = k->err.code ? firn_error_set(err, k->err.code, "%s", k->err.message)
				 : firn_error_set(err, FIRN_EIO, "cannot write the output");
	free(k);
	o->f = NULL;
	o->cookie = NULL;
	return rc;
}

/* ---- input files -------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***v, size_t *n, size_t *cap, const char *s)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		char **nv = realloc(*v, c * sizeof(char *));
		if (!nv)
			return -1;
		*v = nv;
		*cap = c;
	}
	return ((*v)[(*n)++] = strdup(s)) ? 0 : -1;
}

/* The regular files of dir, sorted; hidden ones and markers (.crc, _SUCCESS,
 * _delta_log) are not data. */
static int dir_files(const char *dir, char ***v, size_t *n, size_t *cap, struct firn_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return firn_error_set(err, FIRN_EIO, "%s: cannot read the directory: %s", dir, strerror(errno));
	size_t first = *n;
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.' || e->d_name[0] == '_')
			continue;
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && push(v, n, cap, path) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	closedir(d);
	if (rc == 0 && *n == first)
		rc = firn_error_set(err, FIRN_ENOTFOUND, "%s: the directory has no files to read", dir);
	if (rc == 0)
		qsort(*v + first, *n - first, sizeof(char *), by_name);
	return rc;
}

int cli_expand_inputs(const char *const *args, size_t n, char ***out, size_t *n_out,
		      struct firn_error *err)
{
	char **v = NULL;
	size_t nv = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *a = args[i];
		struct stat st;
		bool local = !strstr(a, "://");
		if (local && strcmp(a, "-") != 0 && stat(a, &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = dir_files(a, &v, &nv, &cap, err);
		} else if (local && strcmp(a, "-") != 0 && stat(a, &st) != 0 && strpbrk(a, "*?[")) {
			glob_t g;
			int gr = glob(a, 0, NULL, &g);
			if (gr == GLOB_NOMATCH)
				rc = firn_error_set(err, FIRN_ENOTFOUND, "%s: no file matches", a);
			else if (gr != 0)
				rc = firn_error_set(err, FIRN_EINVAL, "%s: cannot expand the pattern", a);
			for (size_t k = 0; rc == 0 && k < g.gl_pathc; k++) /* glob sorts */
				if (push(&v, &nv, &cap, g.gl_pathv[k]) != 0)
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			if (gr == 0)
				globfree(&g);
		} else if (push(&v, &nv, &cap, a) != 0) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
	}
	if (rc != 0) {
		cli_free_inputs(v, nv);
		return rc;
	}
	*out = v;
	*n_out = nv;
	return 0;
}

void cli_free_inputs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Parquet from standard input: its footer is at the end, so the bytes go to
 * a temporary file first (removed when firn exits). */
static char spooled[4096];

static void remove_spooled(void)
{
	if (spooled[0])
		unlink(spooled);
}

int cli_spool_stdin(char **path, struct firn_error *err)
{
	if (spooled[0])
		return firn_error_set(err, FIRN_EINVAL, "-: standard input can be read once");
	const char *tmp = getenv("TMPDIR");
	snprintf(spooled, sizeof(spooled), "%s/firn-stdin-XXXXXX.parquet", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemps(spooled, 8);
	if (fd < 0) {
		int e = errno;
		spooled[0] = '\0';
		return firn_error_set(err, FIRN_EIO, "-: cannot make a temporary file: %s", strerror(e));
	}
	atexit(remove_spooled);
	char buf[1 << 16];
	int rc = 0;
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = firn_error_set(err, FIRN_EIO, "-: cannot read standard input: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; rc == 0 && off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				rc = firn_error_set(err, FIRN_EIO, "%s: cannot write: %s", spooled, strerror(errno));
			else if (w > 0)
				off += w;
		}
		if (rc != 0)
			break;
	}
	close(fd);
	if (rc == 0 && !(*path = strdup(spooled)))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return rc;
}
