/* The SQL catalog on SQLite. Errors name the database file and what the
 * system said (permission denied, disk full, locked, ...): a catalog that
 * cannot be read is never reported as "not an Iceberg SQL catalog". */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/sql_private.h"
#include "firn/util.h"

struct lite {
	sqlite3 *s;
	char *path;
};

/* An errno in the words people search for. */
static const char *os_cause(int e)
{
	switch (e) {
	case EACCES:
	case EPERM: return "permission denied";
	case EROFS: return "read-only file system";
	case ENOSPC: return "disk full (no space left on device)";
	case EDQUOT: return "disk quota exceeded";
	case EFBIG: return "file too large (the file size limit was reached)";
	}
	return strerror(e);
}

/* Why path cannot be written: the file's errno, else its directory's. */
static int write_errno(const char *path)
{
	if (access(path, W_OK) != 0)
		return errno;
	const char *slash = strrchr(path, '/');
	char *dir = slash ? firn_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : firn_strdup(".");
	int e = dir && access(dir, W_OK | X_OK) != 0 ? errno : 0;
	firn_free(dir);
	return e;
}

/* Sets err from SQLite's result rc on l. */
static int fail(const struct lite *l, int rc, struct firn_error *err)
{
	const char *msg = sqlite3_errmsg(l->s);
	int sys = sqlite3_system_errno(l->s);
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return firn_error_set(err, FIRN_EEXISTS, "catalog: %s", msg);
	case SQLITE_ERROR: /* no such table or column: the schema is not a catalog's */
		return firn_error_set(err, FIRN_EINVAL, "catalog: %s", msg);
	case SQLITE_NOTADB:
		return firn_error_set(err, FIRN_EINVAL, "%s: not an Iceberg SQL catalog (not an SQLite database)",
				      l->path);
	case SQLITE_CORRUPT:
		return firn_error_set(err, FIRN_ECORRUPT, "%s: the catalog database is damaged (%s)", l->path, msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return firn_error_set(err, FIRN_EIO, "%s: database is locked (another process holds it)", l->path);
	case SQLITE_FULL:
		return firn_error_set(err, FIRN_EIO, "%s: disk full", l->path);
	case SQLITE_READONLY:
		if (sys == 0)
			sys = write_errno(l->path);
		return firn_error_set(err, FIRN_EIO, "%s: cannot write the catalog: %s", l->path,
				      sys ? os_cause(sys) : "it is open read-only");
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_PERM:
		return firn_error_set(err, FIRN_EIO, "%s: %s", l->path, sys ? os_cause(sys) : msg);
	}
	return firn_error_set(err, FIRN_EIO, "%s: %s", l->path, msg);
}

/* "file:" URI of path (percent-encoded) with the query q. */
static char *file_uri(const char *path, const char *q)
{
	struct firn_buf b = { 0 };
	firn_buf_puts(&b, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#' || *p < 0x21 || *p >= 0x7f)
			firn_buf_printf(&b, "%%%02X", *p);
		else
			firn_buf_putc(&b, *p);
	firn_buf_printf(&b, "?%s", q);
	if (firn_buf_cstr(&b) != 0) {
		firn_buf_free(&b);
		return NULL;
	}
	return (char *)firn_buf_detach(&b, NULL);
}

static int connect(struct lite *l, const char *name, int flags, int timeout_ms, struct firn_error *err)
{
	int rc = sqlite3_open_v2(name, &l->s, flags | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int r = l->s ? fail(l, rc, err) : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		sqlite3_close(l->s);
		l->s = NULL;
		return r;
	}
	sqlite3_extended_result_codes(l->s, 1);
	sqlite3_busy_timeout(l->s, timeout_ms);
	return 0;
}

/* Read only. Where the database and its directory may be written, the
 * connection may write but PRAGMA query_only refuses every change: closing
 * it then removes the -wal and -shm files, as the last connection to a WAL
 * database does (a read-only connection would leave them behind, owned by
 * whoever read last). Otherwise it opens read-only; a WAL database needs
 * its -shm file, and where that cannot be made (a read-only directory) and
 * no write-ahead log is left to apply, the file itself holds every
 * committed change and reads as immutable. */
static int connect_read(struct lite *l, int timeout_ms, struct firn_error *err)
{
	if (write_errno(l->path) == 0) {
		FIRN_TRY(connect(l, l->path, SQLITE_OPEN_READWRITE, timeout_ms, err));
		int rc = sqlite3_exec(l->s, "PRAGMA query_only = ON", NULL, NULL, NULL);
		return rc == SQLITE_OK ? 0 : fail(l, rc, err);
	}
	FIRN_TRY(connect(l, l->path, SQLITE_OPEN_READONLY, timeout_ms, err));
	int rc = sqlite3_exec(l->s, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if ((rc & 0xff) != SQLITE_CANTOPEN && (rc & 0xff) != SQLITE_READONLY)
		return 0; /* open; other errors show on the first statement */
	struct firn_buf wal = { 0 };
	firn_buf_printf(&wal, "%s-wal", l->path);
	firn_buf_cstr(&wal);
	struct stat st;
	bool pending = wal.data && stat((const char *)wal.data, &st) == 0 && st.st_size > 0;
	firn_buf_free(&wal);
	if (pending)
		return fail(l, rc, err);
	sqlite3_close(l->s);
	l->s = NULL;
	char *uri = file_uri(l->path, "immutable=1");
	if (!uri)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	rc = connect(l, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, timeout_ms, err);
	firn_free(uri);
	return rc;
}

static void close_db(void *db)
{
	struct lite *l = db;
	if (!l)
		return;
	sqlite3_close(l->s);
	firn_free(l->path);
	firn_free(l);
}

int firn_sql__sqlite_open(void **db, const char *path, const struct firn_catalog_options *opts,
			  struct firn_error *err)
{
	struct lite *l = firn_calloc(1, sizeof(*l));
	if (!l || !(l->path = firn_strdup(path))) {
		firn_free(l);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	int rc = 0;
	struct stat st;
	if (opts->mode != FIRN_CATALOG_CREATE && stat(path, &st) != 0)
		rc = errno == ENOENT || errno == ENOTDIR
			     ? firn_error_set(err, FIRN_ENOTFOUND, "no catalog at %s", path)
			     : firn_error_set(err, FIRN_EIO, "%s: %s", path, os_cause(errno));
	else if (opts->mode == FIRN_CATALOG_READ)
		rc = connect_read(l, opts->lock_timeout_ms, err);
	else
		rc = connect(l, path, SQLITE_OPEN_READWRITE | (opts->mode == FIRN_CATALOG_CREATE ? SQLITE_OPEN_CREATE : 0),
			     opts->lock_timeout_ms, err);
	if (rc == 0 && opts->mode != FIRN_CATALOG_READ && sqlite3_db_readonly(l->s, "main") == 1) {
		/* SQLite quietly opens an unwritable file read-only */
		int e = write_errno(path);
		rc = firn_error_set(err, FIRN_EIO, "%s: cannot write the catalog: %s", path,
				    e ? os_cause(e) : "it opens read-only");
	}
	if (rc != 0) {
		close_db(l);
		return rc;
	}
	/* WAL: one fsync per commit instead of three; readers (PyIceberg,
	 * Java's JDBC catalog) open WAL databases as they are */
	if (opts->mode != FIRN_CATALOG_READ)
		sqlite3_exec(l->s, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	*db = l;
	return 0;
}

/* "$1" → "?1": SQLite's numbered parameters. */
static char *convert(const char *sql)
{
	char *out = firn_strdup(sql);
	for (char *p = out; p && *p; p++)
		if (*p == '$')
			*p = '?';
	return out;
}

static int exec(void *db, const char *sql, const char *const *params, int n,
		struct sql_rows *rows, int64_t *changes, struct firn_error *err)
{
	struct lite *l = db;
	sqlite3 *s = l->s;
	sqlite3_stmt *st = NULL;
	/* without parameters (BEGIN, COMMIT, ROLLBACK) nothing to convert: a
	 * ROLLBACK must not fail for want of memory */
	char *q = strchr(sql, '$') ? convert(sql) : NULL;
	if (!q && strchr(sql, '$'))
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = sqlite3_prepare_v2(s, q ? q : sql, -1, &st, NULL);
	firn_free(q);
	if (rows)
		memset(rows, 0, sizeof(*rows));
	if (rc != SQLITE_OK)
		return fail(l, rc, err);
	for (int i = 0; i < n; i++)
		if (params[i])
			sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, i + 1);
	int cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!rows)
			continue;
		int nc = sqlite3_column_count(st);
		if (rows->n_rows == cap) {
			cap = cap ? 2 * cap : 8;
			char **c = firn_realloc(rows->cells, (size_t)cap * (size_t)nc * sizeof(char *));
			if (!c) {
				sqlite3_finalize(st);
				firn_sql__rows_free(rows);
				return firn_error_set(err, FIRN_ENOMEM, "out of memory");
			}
			rows->cells = c;
		}
		rows->n_cols = nc;
		bool lost = false; /* a cell that could not be copied must not read as NULL */
		for (int k = 0; k < nc; k++) {
			const unsigned char *v = sqlite3_column_text(st, k);
			char *cell = v ? firn_strdup((const char *)v) : NULL;
			rows->cells[rows->n_rows * nc + k] = cell;
			lost |= v && !cell;
		}
		rows->n_rows++;
		if (lost) {
			sqlite3_finalize(st);
			firn_sql__rows_free(rows);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
	}
	if (rc != SQLITE_DONE) {
		int r = fail(l, rc, err);
		sqlite3_finalize(st);
		if (rows)
			firn_sql__rows_free(rows);
		return r;
	}
	if (changes)
		*changes = sqlite3_changes(s);
	sqlite3_finalize(st);
	return 0;
}

const struct sql_backend firn_sql__sqlite = { exec, close_db, "BEGIN IMMEDIATE", true };
