/* The SQL catalog's two backends (SQLite, PostgreSQL) behind one small
 * interface: parameterized statements ($1, $2, ... placeholders) returning
 * rows of text. Internal. */
#ifndef FIRN_SQL_PRIVATE_H
#define FIRN_SQL_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "firn/catalog.h"

struct sql_rows {
	int n_rows, n_cols;
	char **cells; /* n_rows * n_cols, NULL for SQL NULL; firn_malloc'd */
};

void firn_sql__rows_free(struct sql_rows *r);

struct sql_backend {
	/* Runs sql with n text parameters (NULL = SQL NULL). rows (optional)
	 * gets the result; changes (optional) the affected row count. */
	int (*exec)(void *db, const char *sql, const char *const *params, int n,
		    struct sql_rows *rows, int64_t *changes, struct firn_error *err);
	void (*close)(void *db);
	const char *begin_write; /* "BEGIN IMMEDIATE" / "BEGIN" */
	bool is_sqlite;
};

extern const struct sql_backend firn_sql__sqlite;
extern const struct sql_backend firn_sql__pg;

/* Opens the backend's connection; *db is its handle. */
/* SQLite: opts->mode as in firn_catalog_open_with. */
int firn_sql__sqlite_open(void **db, const char *path, const struct firn_catalog_options *opts,
			  struct firn_error *err);
int firn_sql__pg_open(void **db, const char *uri, struct firn_error *err);

#endif
