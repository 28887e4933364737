/* Local files: the built-in implementation of firn/io.h for plain paths
 * and file: locations. Files are written whole and fsynced on close; the
 * names of new files become durable with the directory's fsync, either at
 * close (FIRN_IO_SYNC_DIR) or once for many files (sync_dir). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firn/util.h"
#include "io/io_local.h"

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

int firn_io__mkdirs(const char *dir, struct firn_error *err)
{
	char *p = firn_strdup(dir);
	if (!p)
		return nomem(err);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST) {
				rc = firn_error_set(err, FIRN_EIO, "%s: cannot create directory: %s", p,
						    strerror(errno));
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	firn_free(p);
	return rc;
}

static int sync_dir_of(const char *path, struct firn_error *err)
{
	char *d = firn_strdup(path);
	if (!d)
		return nomem(err);
	char *slash = strrchr(d, '/');
	if (slash == d)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(d, ".");
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0 || fsync(fd) != 0)
		rc = firn_error_set(err, FIRN_EIO, "%s: fsync: %s", d, strerror(errno));
	if (fd >= 0)
		close(fd);
	firn_free(d);
	return rc;
}

static int64_t mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* ---- reading --------------------------------------------------------- */

struct local_input {
	struct firn_io_input base;
	int fd;
	char path[]; /* for messages */
};

static int local_read_at(struct firn_io_input *in, int64_t offset, size_t n, void *buf,
			 struct firn_error *err)
{
	struct local_input *li = (struct local_input *)in;
	if (offset < 0 || offset > in->size || n > (uint64_t)(in->size - offset))
		return firn_error_set(err, FIRN_ECORRUPT, "%s: truncated: %zu bytes at %lld past its %lld",
				      li->path, n, (long long)offset, (long long)in->size);
	size_t done = 0;
	while (done < n) {
		ssize_t k = pread(li->fd, (uint8_t *)buf + done, n - done, (off_t)(offset + (int64_t)done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return firn_error_set(err, FIRN_EIO, "%s: read: %s", li->path, strerror(errno));
		if (k == 0)
			return firn_error_set(err, FIRN_ECORRUPT, "%s: truncated at byte %lld (file shrank)",
					      li->path, (long long)(offset + (int64_t)done));
		done += (size_t)k;
	}
	return 0;
}

/* Asks the kernel to read the ranges ahead (the scan decodes a row group
 * while the next is on its way from a cold disk). */
static int local_prefetch(struct firn_io_input *in, const struct firn_io_range *ranges, size_t n,
			  struct firn_error *err)
{
	struct local_input *li = (struct local_input *)in;
	for (size_t i = 0; i < n; i++) {
		if (ranges[i].offset < 0 || ranges[i].length < 0 ||
		    ranges[i].length > in->size - ranges[i].offset)
			return firn_error_set(err, FIRN_ECORRUPT, "%s: range past the end", li->path);
		(void)posix_fadvise(li->fd, ranges[i].offset, ranges[i].length, POSIX_FADV_WILLNEED);
	}
	return 0;
}

static void local_input_close(struct firn_io_input *in)
{
	struct local_input *li = (struct local_input *)in;
	close(li->fd);
	firn_free(li);
}

static int local_open_read(void *data, const char *location, struct firn_io_input **out,
			   struct firn_error *err)
{
	const char *path = firn_io__path(location);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return firn_error_set(err, e == ENOENT ? FIRN_ENOTFOUND : FIRN_EIO, "%s: cannot open: %s",
				      location, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return firn_error_set(err, FIRN_EINVAL, "%s: not a regular file", location);
	}
	size_t len = strlen(location);
	struct local_input *li = firn_malloc(sizeof(*li) + len + 1);
	if (!li) {
		close(fd);
		return nomem(err);
	}
	li->base = (struct firn_io_input){ .size = st.st_size, .read_at = local_read_at,
					   .close = local_input_close, .private_data = NULL,
					   .prefetch = local_prefetch };
	li->fd = fd;
	memcpy(li->path, location, len + 1);
	*out = &li->base;
	return 0;
}

/* ---- writing --------------------------------------------------------- */

struct local_output {
	struct firn_io_output base;
	int fd;
	unsigned flags;
	bool in_place; /* a pipe, a device or standard output: no fsync, rename or unlink */
	char *final; /* FIRN_IO_REPLACE: where path goes at close */
	char path[]; /* the local path written */
};

static int local_write(struct firn_io_output *o, const void *data, size_t n, struct firn_error *err)
{
	struct local_output *lo = (struct local_output *)o;
	const uint8_t *p = data;
	while (n > 0) {
		ssize_t w = write(lo->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return firn_error_set(err, FIRN_EIO, "%s: write: %s", lo->path,
					      w < 0 ? strerror(errno) : "no progress");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void local_abort(struct firn_io_output *o)
{
	struct local_output *lo = (struct local_output *)o;
	if (lo->fd >= 0)
		close(lo->fd);
	if (!lo->in_place)
		unlink(lo->path);
	firn_free(lo->final);
	firn_free(lo);
}

static int local_close(struct firn_io_output *o, struct firn_error *err)
{
	struct local_output *lo = (struct local_output *)o;
	int rc = 0;
	if (!lo->in_place && fsync(lo->fd) != 0)
		rc = firn_error_set(err, FIRN_EIO, "%s: fsync: %s", lo->path, strerror(errno));
	int fd = lo->fd;
	lo->fd = -1;
	if (close(fd) != 0 && rc == 0)
		rc = firn_error_set(err, FIRN_EIO, "%s: close: %s", lo->path, strerror(errno));
	if (rc == 0 && lo->final && rename(lo->path, lo->final) != 0)
		rc = firn_error_set(err, FIRN_EIO, "%s: cannot put the file in place: %s", lo->final,
				    strerror(errno));
	if (rc == 0 && !lo->in_place && (lo->flags & (FIRN_IO_SYNC_DIR | FIRN_IO_REPLACE)))
		rc = sync_dir_of(lo->final ? lo->final : lo->path, err);
	if (rc != 0) {
		local_abort(o);
		return rc;
	}
	firn_free(lo->final);
	firn_free(lo);
	return 0;
}

/* FIRN_IO_REPLACE: a temporary file beside path (".NAME.firn-XXXXXX"),
 * with the mode a new file gets, renamed over path at close. */
static int create_aside(const char *path, unsigned flags, struct firn_io_output **out,
			struct firn_error *err)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path + 1) : 0, len = strlen(path) + 32;
	struct local_output *lo = firn_malloc(sizeof(*lo) + len + 1);
	char *final = firn_strdup(path);
	if (!lo || !final) {
		firn_free(lo);
		firn_free(final);
		return nomem(err);
	}
	snprintf(lo->path, len, "%.*s.%s.firn-XXXXXX", (int)dlen, path, path + dlen);
	int fd = mkstemp(lo->path);
	if (fd < 0) {
		int e = errno;
		firn_free(lo);
		firn_free(final);
		return firn_error_set(err, FIRN_EIO, "%s: cannot create: %s", path, strerror(e));
	}
	mode_t mask = umask(0); /* mkstemp makes 0600 files */
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	lo->base = (struct firn_io_output){ .write = local_write, .close = local_close,
					    .abort = local_abort, .private_data = NULL };
	lo->fd = fd;
	lo->flags = flags;
	lo->final = final;
	lo->in_place = false;
	*out = &lo->base;
	return 0;
}

/* The descriptor "/dev/stdout", "/dev/fd/N" name (a dup of it), -1 for
 * other paths. */
static int named_fd(const char *path)
{
	int n = -1;
	if (strcmp(path, "/dev/stdout") == 0)
		n = 1;
	else if (strcmp(path, "/dev/stderr") == 0)
		n = 2;
	else if (strncmp(path, "/dev/fd/", 8) == 0 && path[8] >= '0' && path[8] <= '9')
		n = atoi(path + 8);
	return n >= 0 ? fcntl(n, F_DUPFD_CLOEXEC, 3) : -1;
}

/* FIRN_IO_REPLACE onto what is not a regular file (a pipe, a terminal, a
 * device, an inherited descriptor): written where it is, as a stream.
 * Renaming a file over it would destroy it, and fsync means nothing
 * there. 1: not such a path. */
static int create_in_place(const char *path, unsigned flags, struct firn_io_output **out,
			   struct firn_error *err)
{
	struct stat st;
	int fd = named_fd(path);
	if (fd < 0) {
		if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
			return 1;
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return firn_error_set(err, FIRN_EIO, "%s: cannot open: %s", path, strerror(errno));
	}
	size_t len = strlen(path);
	struct local_output *lo = firn_malloc(sizeof(*lo) + len + 1);
	if (!lo) {
		close(fd);
		return nomem(err);
	}
	lo->base = (struct firn_io_output){ .write = local_write, .close = local_close,
					    .abort = local_abort, .private_data = NULL };
	lo->fd = fd;
	lo->flags = flags;
	lo->final = NULL;
	lo->in_place = true;
	memcpy(lo->path, path, len + 1);
	*out = &lo->base;
	return 0;
}

static int local_create(void *data, const char *location, unsigned flags, struct firn_io_output **out,
			struct firn_error *err)
{
	const char *path = firn_io__path(location);
	if (flags & FIRN_IO_REPLACE) { /* a user's file: its directory must be there */
		int rc = create_in_place(path, flags, out, err);
		return rc == 1 ? create_aside(path, flags, out, err) : rc;
	}
	const char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		char *dir = firn_strndup(path, (size_t)(slash - path));
		if (!dir)
			return nomem(err);
		int rc = firn_io__mkdirs(dir, err);
		firn_free(dir);
		FIRN_TRY(rc);
	}
	int oflags = O_WRONLY | O_CREAT | O_CLOEXEC | ((flags & FIRN_IO_EXCL) ? O_EXCL : O_TRUNC);
	int fd = open(path, oflags, 0644);
	if (fd < 0)
		return firn_error_set(err, errno == EEXIST ? FIRN_EEXISTS : FIRN_EIO, "%s: cannot create: %s",
				      path, strerror(errno));
	size_t len = strlen(path);
	struct local_output *lo = firn_malloc(sizeof(*lo) + len + 1);
	if (!lo) {
		close(fd);
		unlink(path);
		return nomem(err);
	}
	lo->final = NULL;
	lo->in_place = false;
	lo->base = (struct firn_io_output){ .write = local_write, .close = local_close,
					    .abort = local_abort, .private_data = NULL };
	lo->fd = fd;
	lo->flags = flags;
	memcpy(lo->path, path, len + 1);
	*out = &lo->base;
	return 0;
}

/* ---- deleting, listing ----------------------------------------------- */

static int local_delete(void *data, const char *location, struct firn_error *err)
{
	if (unlink(firn_io__path(location)) == 0)
		return 0;
	return firn_error_set(err, errno == ENOENT ? FIRN_ENOTFOUND : FIRN_EIO, "%s: cannot delete: %s",
			      location, strerror(errno));
}

static int local_delete_many(void *data, const char *const *locations, size_t n, size_t *deleted,
			     struct firn_error *err)
{
	size_t count = 0;
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = local_delete(data, locations[i], first ? NULL : err);
		if (rc == 0)
			count++;
		else if (rc != FIRN_ENOTFOUND && first == 0)
			first = rc;
	}
	if (first == 0 && err && err->code == FIRN_ENOTFOUND)
		firn_error_clear(err);
	if (deleted)
		*deleted = count;
	return first;
}

/* buf holds the location of a directory; walks it, restoring buf's length. */
static int walk(struct firn_buf *loc, firn_io_list_fn fn, void *arg, struct firn_error *err)
{
	const char *path = firn_io__path((const char *)loc->data);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       firn_error_set(err, FIRN_EIO, "%s: %s", (const char *)loc->data, strerror(errno));
	size_t base = loc->len;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		loc->len = base;
		bool root = base > 0 && loc->data[base - 1] == '/';
		if (firn_buf_printf(loc, "%s%s", root ? "" : "/", e->d_name) != 0 || firn_buf_cstr(loc) != 0) {
			rc = nomem(err);
			break;
		}
		struct stat st;
		if (lstat(firn_io__path((const char *)loc->data), &st) != 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			rc = walk(loc, fn, arg, err);
		} else if (S_ISREG(st.st_mode)) {
			struct firn_io_entry ent = { (const char *)loc->data, st.st_size, mtime_ms(&st) };
			rc = fn(arg, &ent);
		}
	}
	closedir(d);
	loc->len = base;
	if (loc->data)
		loc->data[base] = '\0';
	return rc;
}

static int local_list(void *data, const char *dir, firn_io_list_fn fn, void *arg, struct firn_error *err)
{
	struct stat st;
	if (lstat(firn_io__path(dir), &st) != 0)
		return 0;
	if (S_ISREG(st.st_mode)) {
		struct firn_io_entry ent = { dir, st.st_size, mtime_ms(&st) };
		return fn(arg, &ent);
	}
	struct firn_buf loc = FIRN_BUF_INIT;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (firn_buf_append(&loc, dir, n) != 0 || firn_buf_cstr(&loc) != 0) {
		firn_buf_free(&loc);
		return nomem(err);
	}
	int rc = walk(&loc, fn, arg, err);
	firn_buf_free(&loc);
	return rc;
}

static int local_stat(void *data, const char *location, struct firn_io_entry *out, struct firn_error *err)
{
	struct stat st;
	if (stat(firn_io__path(location), &st) != 0)
		return firn_error_set(err, errno == ENOENT ? FIRN_ENOTFOUND : FIRN_EIO, "%s: %s", location,
				      strerror(errno));
	*out = (struct firn_io_entry){ location, st.st_size, mtime_ms(&st) };
	return 0;
}

static int local_sync_dir(void *data, const char *location, struct firn_error *err)
{
	return sync_dir_of(firn_io__path(location), err);
}

static int local_remove_empty_dir(void *data, const char *dir, struct firn_error *err)
{
	if (rmdir(firn_io__path(dir)) == 0)
		return 0;
	int e = errno;
	return firn_error_set(err, e == ENOENT ? FIRN_ENOTFOUND : e == ENOTEMPTY || e == EEXIST ?
			      FIRN_EEXISTS : FIRN_EIO, "%s: cannot remove: %s", dir, strerror(e));
}

const struct firn_io_ops firn_io__local_ops = {
	.version = FIRN_IO_OPS_VERSION,
	.open_read = local_open_read,
	.create = local_create,
	.delete_file = local_delete,
	.delete_many = local_delete_many,
	.list = local_list,
	.stat_file = local_stat,
	.sync_dir = local_sync_dir,
	.remove_empty_dir = local_remove_empty_dir,
};

int firn_io__open_sequential(const char *location, FILE **out, struct firn_error *err)
{
	*out = fopen(firn_io__path(location), "rb");
	if (!*out) {
		int e = errno;
		return firn_error_set(err, e == ENOENT ? FIRN_ENOTFOUND : FIRN_EIO, "%s: %s", location,
				      strerror(e));
	}
	return 0;
}

bool firn_io__is_sequential(const char *location)
{
	char scheme[16];
	if (firn_io__scheme(location, scheme, sizeof(scheme)) != 0 ||
	    (scheme[0] && strcmp(scheme, "file") != 0))
		return false;
	struct stat st;
	return stat(firn_io__path(location), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}
