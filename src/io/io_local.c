/* Local files: write-new-then-publish, whole-file reads, crash points. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "firn/util.h"
#include "io/io_local.h"

const char *firn_io__path(const char *loc)
{
	if (strncmp(loc, "file://", 7) == 0)
		return loc + 7;
	if (strncmp(loc, "file:/", 6) == 0)
		return loc + 5;
	return loc;
}

int firn_io__mkdirs(const char *dir, struct firn_error *err)
{
	char *p = firn_strdup(dir);
	if (!p)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
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

int firn_io__sync_dir_of(const char *path, struct firn_error *err)
{
	char *d = firn_strdup(path);
	if (!d)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
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

int firn_io__write_new(const char *path, const void *data, size_t n, bool sync_dir,
		       struct firn_error *err)
{
	const char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		char *dir = firn_strndup(path, (size_t)(slash - path));
		if (!dir)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		int rc = firn_io__mkdirs(dir, err);
		firn_free(dir);
		FIRN_TRY(rc);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return firn_error_set(err, errno == EEXIST ? FIRN_EEXISTS : FIRN_EIO,
				      "%s: cannot create: %s", path, strerror(errno));
	const uint8_t *p = data;
	size_t left = n;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return sync_dir ? firn_io__sync_dir_of(path, err) : 0;
fail: {
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	return firn_error_set(err, FIRN_EIO, "%s: write: %s", path, strerror(e));
}
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

int firn_io__read_all(const char *path, uint8_t **data, size_t *n, struct firn_error *err)
{
	*data = NULL;
	*n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return firn_error_set(err, errno == ENOENT ? FIRN_ENOTFOUND : FIRN_EIO,
				      "%s: cannot open: %s", path, strerror(errno));
	struct firn_buf b = { 0 };
	for (;;) {
		if (firn_buf_reserve(&b, 1 << 16) != 0) {
			close(fd);
			firn_buf_free(&b);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		ssize_t r = read(fd, b.data + b.len, b.cap - b.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			firn_buf_free(&b);
			return firn_error_set(err, FIRN_EIO, "%s: read: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
	}
	close(fd);
	firn_buf_putc(&b, 0);
	*n = b.len - 1;
	*data = firn_buf_detach(&b, NULL);
	if (ends_with(path, ".gz.metadata.json") || ends_with(path, ".metadata.json.gz"))
		return gunzip(path, data, n, err);
	return 0;
}

int firn_io__exists(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return 0;
	return errno == ENOENT ? FIRN_ENOTFOUND : FIRN_EIO;
}

int64_t firn_io__size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

void firn_io__remove(const char *path)
{
	unlink(path);
}

int firn_io__remove_tree(const char *dir, struct firn_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : firn_error_set(err, FIRN_EIO, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct firn_buf p = { 0 };
		firn_buf_printf(&p, "%s/%s", dir, e->d_name);
		firn_buf_cstr(&p);
		struct stat st;
		if (lstat((char *)p.data, &st) == 0 && S_ISDIR(st.st_mode))
			rc = firn_io__remove_tree((char *)p.data, err);
		else if (unlink((char *)p.data) != 0)
			rc = firn_error_set(err, FIRN_EIO, "%s: %s", (char *)p.data, strerror(errno));
		firn_buf_free(&p);
	}
	closedir(d);
	if (rc == 0 && rmdir(dir) != 0)
		rc = firn_error_set(err, FIRN_EIO, "%s: %s", dir, strerror(errno));
	return rc;
}

void firn_io__crash_point(const char *step)
{
	const char *at = getenv("FIRN_CRASH_AT");
	if (at && strcmp(at, step) == 0)
		kill(getpid(), SIGKILL);
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
		rc = firn_buf_append(&b, loc, auth);
		if (rc == 0)
			rc = put_clean_path(&b, loc + auth);
		if (rc == 0 && b.len == auth + 1) /* "s3://bucket/" → "s3://bucket" */
			b.len = auth;
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
	if (rc == 0)
		rc = firn_buf_cstr(&b);
	if (rc != 0) {
		firn_buf_free(&b);
		return NULL;
	}
	return (char *)firn_buf_detach(&b, NULL);
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
