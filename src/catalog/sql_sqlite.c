/* The SQL catalog on SQLite. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "catalog/sql_private.h"
#include "firn/util.h"

int firn_sql__sqlite_open(void **db, const char *path, struct firn_error *err)
{
	sqlite3 *s = NULL;
	int rc = sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int r = firn_error_set(err, FIRN_EIO, "%s: cannot open the catalog: %s", path,
				       s ? sqlite3_errmsg(s) : sqlite3_errstr(rc));
		sqlite3_close(s);
		return r;
	}
	sqlite3_busy_timeout(s, 60000);
	/* WAL: one fsync per commit instead of three; readers (PyIceberg,
	 * Java's JDBC catalog) open WAL databases as they are */
	sqlite3_exec(s, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	*db = s;
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
	sqlite3 *s = db;
	sqlite3_stmt *st = NULL;
	char *q = convert(sql);
	if (!q)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = sqlite3_prepare_v2(s, q, -1, &st, NULL);
	firn_free(q);
	if (rows)
		memset(rows, 0, sizeof(*rows));
	if (rc != SQLITE_OK) {
		int code = rc == SQLITE_NOTADB ? FIRN_EINVAL : FIRN_EIO;
		return firn_error_set(err, code, "catalog: %s", sqlite3_errmsg(s));
	}
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
		for (int k = 0; k < nc; k++) {
			const unsigned char *v = sqlite3_column_text(st, k);
			rows->cells[rows->n_rows * nc + k] = v ? firn_strdup((const char *)v) : NULL;
		}
		rows->n_rows++;
	}
	if (rc != SQLITE_DONE) {
		int code = rc == SQLITE_CONSTRAINT ? FIRN_EEXISTS : rc == SQLITE_NOTADB ? FIRN_EINVAL : FIRN_EIO;
		int r = firn_error_set(err, code, "catalog: %s", sqlite3_errmsg(s));
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

static void close_db(void *db)
{
	sqlite3_close(db);
}

const struct sql_backend firn_sql__sqlite = { exec, close_db, "BEGIN IMMEDIATE", true };
