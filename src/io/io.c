/* The file-IO router: implementations registered per URI scheme, the
 * location-level entry points that pick one, whole-file helpers, and the
 * one normal form of a location. */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "firn/io.h"
#include "firn/util.h"
#include "io/io_local.h"
#include "io/s3_private.h"

/* ---- the registry -------------------------------------------------- */

#define MAX_SCHEMES 16
#define SCHEME_MAX 32

struct scheme_slot {
	char name[SCHEME_MAX];
	struct firn_io_ops ops;
};

/* Registration happens at start-up; lookups copy the ops under the lock
 * so that an unregister never leaves a caller with a torn struct. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scheme_slot registry[MAX_SCHEMES];
static int n_registry;

static int find_slot(const char *scheme)
{
	for (int i = 0; i < n_registry; i++)
		if (strcmp(registry[i].name, scheme) == 0)
			return i;
	return -1;
}

static bool valid_scheme(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= SCHEME_MAX || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int firn_io_register(const char *scheme, const struct firn_io_ops *ops, struct firn_error *err)
{
	if (!scheme || !valid_scheme(scheme) || strcasecmp(scheme, "file") == 0)
		return firn_error_set(err, FIRN_EINVAL, "'%s' is not a scheme one can register",
				      scheme ? scheme : "(null)");
	if (!ops || ops->version != FIRN_IO_OPS_VERSION || !ops->open_read || !ops->create ||
	    !ops->delete_file || !ops->list || !ops->stat_file)
		return firn_error_set(err, FIRN_EINVAL, "%s: file IO ops of version %d, missing operations, "
				      "or not version %d", scheme, ops ? ops->version : 0, FIRN_IO_OPS_VERSION);
	char name[SCHEME_MAX];
	size_t n = strlen(scheme);
	for (size_t i = 0; i <= n; i++)
		name[i] = (char)tolower((unsigned char)scheme[i]);
	int rc = 0;
	pthread_mutex_lock(&registry_lock);
	int i = find_slot(name);
	if (i < 0 && n_registry == MAX_SCHEMES) {
		rc = firn_error_set(err, FIRN_ENOMEM, "%s: no room for another file IO scheme", name);
	} else {
		if (i < 0) {
			i = n_registry++;
			memcpy(registry[i].name, name, n + 1);
		}
		registry[i].ops = *ops;
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

int firn_io_unregister(const char *scheme)
{
	char name[SCHEME_MAX];
	size_t n = scheme ? strlen(scheme) : SCHEME_MAX;
	if (n >= SCHEME_MAX)
		return FIRN_ENOTFOUND;
	for (size_t k = 0; k <= n; k++)
		name[k] = (char)tolower((unsigned char)scheme[k]);
	pthread_mutex_lock(&registry_lock);
	int i = find_slot(name);
	if (i >= 0)
		registry[i] = registry[--n_registry];
	pthread_mutex_unlock(&registry_lock);
	return i >= 0 ? 0 : FIRN_ENOTFOUND;
}

int firn_io__scheme(const char *loc, char *buf, size_t cap)
{
	size_t i = 0;
	if (isalpha((unsigned char)loc[0]))
		while (isalnum((unsigned char)loc[i]) || loc[i] == '+' || loc[i] == '-' || loc[i] == '.')
			i++;
	bool file = i == 4 && strncasecmp(loc, "file:", 5) == 0;
	if (!file && (i == 0 || strncmp(loc + i, "://", 3) != 0))
		i = 0; /* a plain path (even one with a colon in it) */
	if (i >= cap)
		return FIRN_EINVAL;
	for (size_t k = 0; k < i; k++)
		buf[k] = (char)tolower((unsigned char)loc[k]);
	buf[i] = '\0';
	return 0;
}

/* The implementation for location into *ops. */
static int route(const char *location, struct firn_io_ops *ops, struct firn_error *err)
{
	char scheme[SCHEME_MAX];
	if (!location)
		return firn_error_set(err, FIRN_EINVAL, "no location");
	if (firn_io__scheme(location, scheme, sizeof(scheme)) != 0)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: no file IO for this scheme", location);
	if (scheme[0] == '\0' || strcmp(scheme, "file") == 0) {
		*ops = firn_io__local_ops;
		return 0;
	}
	pthread_mutex_lock(&registry_lock);
	int i = find_slot(scheme);
	if (i >= 0)
		*ops = registry[i].ops;
	pthread_mutex_unlock(&registry_lock);
	if (i < 0 && (strcmp(scheme, "s3") == 0 || strcmp(scheme, "s3a") == 0 ||
		      strcmp(scheme, "s3n") == 0)) {
		*ops = firn_io__s3_ops; /* built in, unless one was registered */
		return 0;
	}
	if (i < 0)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: no file IO for scheme %s", location,
				      scheme);
	return 0;
}

/* ---- location-level entry points ------------------------------------ */

int firn_io_open_read(const char *location, struct firn_io_input **out, struct firn_error *err)
{
	struct firn_io_ops o;
	*out = NULL;
	FIRN_TRY(route(location, &o, err));
	return o.open_read(o.data, location, out, err);
}

int firn_io_create(const char *location, unsigned flags, struct firn_io_output **out,
		   struct firn_error *err)
{
	struct firn_io_ops o;
	*out = NULL;
	FIRN_TRY(route(location, &o, err));
	return o.create(o.data, location, flags, out, err);
}

int firn_io_delete(const char *location, struct firn_error *err)
{
	struct firn_io_ops o;
	FIRN_TRY(route(location, &o, err));
	return o.delete_file(o.data, location, err);
}

/* Locations of one scheme go to their implementation together (an object
 * store deletes them in batches); the first failure is kept. */
int firn_io_delete_many(const char *const *locations, size_t n, size_t *deleted,
			struct firn_error *err)
{
	size_t count = 0;
	int first = 0;
	for (size_t i = 0; i < n;) {
		struct firn_io_ops o;
		struct firn_error e = { 0 };
		int rc = route(locations[i], &o, &e);
		if (rc != 0) {
			if (first == 0 && (first = rc) != 0 && err)
				*err = e;
			i++;
			continue;
		}
		char s0[SCHEME_MAX], s1[SCHEME_MAX];
		firn_io__scheme(locations[i], s0, sizeof(s0));
		size_t j = i + 1;
		while (j < n && firn_io__scheme(locations[j], s1, sizeof(s1)) == 0 && strcmp(s0, s1) == 0)
			j++;
		size_t got = 0;
		if (o.delete_many) {
			rc = o.delete_many(o.data, locations + i, j - i, &got, &e);
		} else {
			rc = 0;
			for (size_t k = i; k < j; k++) {
				struct firn_error e1 = { 0 };
				int r = o.delete_file(o.data, locations[k], &e1);
				if (r == 0)
					got++;
				else if (r != FIRN_ENOTFOUND && rc == 0) {
					rc = r;
					e = e1;
				}
			}
		}
		count += got;
		if (rc != 0 && first == 0) {
			first = rc;
			if (err)
				*err = e;
		}
		i = j;
	}
	if (deleted)
		*deleted = count;
	return first;
}

int firn_io_list(const char *dir, firn_io_list_fn fn, void *arg, struct firn_error *err)
{
	struct firn_io_ops o;
	FIRN_TRY(route(dir, &o, err));
	return o.list(o.data, dir, fn, arg, err);
}

int firn_io_stat(const char *location, struct firn_io_entry *out, struct firn_error *err)
{
	struct firn_io_ops o;
	FIRN_TRY(route(location, &o, err));
	return o.stat_file(o.data, location, out, err);
}

int firn_io_sync_dir(const char *location, struct firn_error *err)
{
	struct firn_io_ops o;
	FIRN_TRY(route(location, &o, err));
	return o.sync_dir ? o.sync_dir(o.data, location, err) : 0;
}

int firn_io_remove_empty_dir(const char *dir, struct firn_error *err)
{
	struct firn_io_ops o;
	FIRN_TRY(route(dir, &o, err));
	if (!o.remove_empty_dir)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: no directories here", dir);
	return o.remove_empty_dir(o.data, dir, err);
}

int firn_io_list_pending(const char *dir, firn_io_pending_fn fn, void *arg,
			 struct firn_error *err)
{
	struct firn_io_ops o;
	FIRN_TRY(route(dir, &o, err));
	return o.list_pending ? o.list_pending(o.data, dir, fn, arg, err) : 0;
}

int firn_io_discard_pending(const char *location, const char *id, struct firn_error *err)
{
	struct firn_io_ops o;
	FIRN_TRY(route(location, &o, err));
	if (!o.discard_pending)
		return firn_error_set(err, FIRN_ENOTFOUND, "%s: no pending write %s", location, id);
	return o.discard_pending(o.data, location, id, err);
}

bool firn_io__is_remote(const char *location)
{
	const char *p = strstr(location, "://");
	return p && p > location && !(p - location == 4 && strncasecmp(location, "file", 4) == 0);
}

int64_t firn_io__size(const char *location)
{
	struct firn_io_entry e;
	return firn_io_stat(location, &e, NULL) == 0 ? e.size : -1;
}

/* ---- whole files ---------------------------------------------------- */

int firn_io_read_all(const char *location, uint8_t **data, size_t *n, struct firn_error *err)
{
	*data = NULL;
	*n = 0;
	struct firn_io_ops o;
	FIRN_TRY(route(location, &o, err));
	if (o.read_all)
		return o.read_all(o.data, location, data, n, err);
	struct firn_io_input *in;
	FIRN_TRY(o.open_read(o.data, location, &in, err));
	if (in->size < 0 || (uint64_t)in->size >= SIZE_MAX) {
		firn_io_input_close(in);
		return firn_error_set(err, FIRN_EIO, "%s: bad size", location);
	}
	size_t size = (size_t)in->size;
	uint8_t *buf = firn_malloc(size + 1);
	if (!buf) {
		firn_io_input_close(in);
		return firn_error_set(err, FIRN_ENOMEM, "%s: out of memory for %zu bytes", location, size);
	}
	int rc = size ? firn_io_read_at(in, 0, size, buf, err) : 0;
	firn_io_input_close(in);
	if (rc != 0) {
		firn_free(buf);
		return rc;
	}
	buf[size] = 0;
	*data = buf;
	*n = size;
	return 0;
}

int firn_io_write_all(const char *location, unsigned flags, const void *data, size_t n,
		      struct firn_error *err)
{
	struct firn_io_output *out;
	FIRN_TRY(firn_io_create(location, flags, &out, err));
	int rc = n ? firn_io_write(out, data, n, err) : 0;
	if (rc != 0) {
		firn_io_output_abort(out);
		return rc;
	}
	return firn_io_output_close(out, err);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int gunzip(const char *path, uint8_t **data, size_t *n, struct firn_error *err)
{
	z_stream z = { 0 };
	struct firn_buf out = { 0 };
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	z.next_in = *data;
	z.avail_in = (uInt)*n;
	int zr;
	do {
		if (firn_buf_reserve(&out, 65536) != 0) {
			inflateEnd(&z);
			firn_buf_free(&out);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		z.next_out = out.data + out.len;
		z.avail_out = (uInt)(out.cap - out.len);
		zr = inflate(&z, Z_NO_FLUSH);
		out.len = out.cap - z.avail_out;
	} while (zr == Z_OK);
	inflateEnd(&z);
	if (zr != Z_STREAM_END) {
		firn_buf_free(&out);
		return firn_error_set(err, FIRN_ECORRUPT, "%s: bad gzip data", path);
	}
	firn_buf_putc(&out, 0);
	firn_free(*data);
	*n = out.len - 1;
	*data = firn_buf_detach(&out, NULL);
	return 0;
}

int firn_io__read_all(const char *location, uint8_t **data, size_t *n, struct firn_error *err)
{
	FIRN_TRY(firn_io_read_all(location, data, n, err));
	if (ends_with(location, ".gz.metadata.json") || ends_with(location, ".metadata.json.gz"))
		return gunzip(location, data, n, err);
	return 0;
}

void firn_io__crash_point(const char *step)
{
	const char *at = getenv("FIRN_CRASH_AT");
	if (at && strcmp(at, step) == 0)
		kill(getpid(), SIGKILL);
}

const char *firn_io__path(const char *loc)
{
	if (strncmp(loc, "file://", 7) == 0)
		return loc + 7;
	if (strncmp(loc, "file:/", 6) == 0)
		return loc + 5;
	return loc;
}

/* ---- locations ------------------------------------------------------ */

/* Length of "scheme://authority" when loc has a scheme other than file:,
 * else 0. */
static size_t authority_len(const char *loc)
{
	size_t i = 0;
	while (isalnum((unsigned char)loc[i]) || loc[i] == '+' || loc[i] == '-' || loc[i] == '.')
		i++;
	if (i == 0 || strncmp(loc + i, "://", 3) != 0 || (i == 4 && strncasecmp(loc, "file", 4) == 0))
		return 0;
	i += 3;
	while (loc[i] && loc[i] != '/')
		i++;
	return i;
}

/* Appends path (absolute) to b with repeated slashes collapsed, "." and
 * ".." segments resolved and no trailing slash. */
static int put_clean_path(struct firn_buf *b, const char *path)
{
	size_t root = b->len;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (b->len > root && b->data[b->len - 1] != '/')
				b->len--;
			if (b->len > root)
				b->len--;
			continue;
		}
		if (firn_buf_putc(b, '/') != 0 || firn_buf_append(b, s, n) != 0)
			return FIRN_ENOMEM;
	}
	if (b->len == root && firn_buf_putc(b, '/') != 0)
		return FIRN_ENOMEM;
	return 0;
}

char *firn_io__normalize(const char *loc)
{
	struct firn_buf b = { 0 };
	size_t auth = authority_len(loc);
	int rc = 0;
	if (auth) {
		/* s3a:// and s3n:// (Hadoop's names) are s3:// */
		bool hadoop = strncasecmp(loc, "s3a://", 6) == 0 || strncasecmp(loc, "s3n://", 6) == 0;
		if (hadoop)
			rc = firn_buf_puts(&b, "s3") == 0 ? firn_buf_append(&b, loc + 3, auth - 3) : FIRN_ENOMEM;
		else
			rc = firn_buf_append(&b, loc, auth);
		size_t head = b.len;
		if (rc == 0)
			rc = put_clean_path(&b, loc + auth);
		if (rc == 0 && b.len == head + 1) /* "s3://bucket/" → "s3://bucket" */
			b.len = head;
	} else {
		const char *path = loc;
		if (strncmp(path, "file:", 5) == 0) {
			path += 5;
			if (strncmp(path, "//", 2) == 0 && path[2] != '/') {
				/* file://host/path: only the local host is ours */
				const char *slash = strchr(path + 2, '/');
				path = slash ? slash : "/";
			}
		}
		if (path[0] != '/') {
			char cwd[4096];
			if (!getcwd(cwd, sizeof(cwd)))
				return NULL;
			struct firn_buf whole = { 0 };
			rc = firn_buf_printf(&whole, "%s/%s", cwd, path);
			if (rc == 0)
				rc = firn_buf_cstr(&whole);
			if (rc == 0)
				rc = put_clean_path(&b, (const char *)whole.data);
			firn_buf_free(&whole);
		} else {
			rc = put_clean_path(&b, path);
		}
	}
	return firn_buf_string(&b, rc);
}

bool firn_io__within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);
	if (strncmp(inner, outer, n) != 0)
		return false;
	return inner[n] == '\0' || inner[n] == '/' || (n > 0 && outer[n - 1] == '/');
}

char *firn_io__resolve(const char *loc)
{
	char *norm = firn_io__normalize(loc);
	if (!norm || norm[0] != '/')
		return norm;
	/* the longest existing ancestor through realpath (symlinks), the rest as is */
	size_t n = strlen(norm);
	for (;;) {
		char save = norm[n];
		norm[n] = '\0';
		char *real = realpath(n ? norm : "/", NULL);
		norm[n] = save;
		if (real) {
			struct firn_buf b = { 0 };
			firn_buf_printf(&b, "%s%s", strcmp(real, "/") == 0 && norm[n] ? "" : real, norm + n);
			free(real);
			char *out = firn_buf_cstr(&b) == 0 ? firn_io__normalize((const char *)b.data) : NULL;
			firn_buf_free(&b);
			firn_free(norm);
			return out;
		}
		while (n > 0 && norm[n - 1] != '/')
			n--;
		if (n == 0)
			return norm;
		n--;
	}
}

bool firn_io_same_file(const char *a, const char *b)
{
	char sa[16], sb[16];
	if (firn_io__scheme(a, sa, sizeof(sa)) != 0 || firn_io__scheme(b, sb, sizeof(sb)) != 0)
		return false;
	bool la = !sa[0] || strcmp(sa, "file") == 0, lb = !sb[0] || strcmp(sb, "file") == 0;
	if (la && lb) {
		struct stat x, y;
		return stat(firn_io__path(a), &x) == 0 && stat(firn_io__path(b), &y) == 0 &&
		       x.st_dev == y.st_dev && x.st_ino == y.st_ino;
	}
	if (la != lb)
		return false;
	char *na = firn_io__normalize(a), *nb = firn_io__normalize(b);
	bool same = na && nb && strcmp(na, nb) == 0;
	firn_free(na);
	firn_free(nb);
	return same;
}
