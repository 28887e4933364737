/* The SQL catalog on PostgreSQL (libpq). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/sql_private.h"
#include "firn/util.h"

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int firn_sql__pg_open(void **db, const char *uri, struct firn_error *err)
{
	PGconn *c = PQconnectdb(uri);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", c ? PQerrorMessage(c) : "out of memory");
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		PQfinish(c);
		return firn_error_set(err, FIRN_EIO, "catalog: cannot connect to PostgreSQL: %s", msg);
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	*db = c;
	return 0;
}

static int exec(void *db, const char *sql, const char *const *params, int n,
		struct sql_rows *rows, int64_t *changes, struct firn_error *err)
{
	PGconn *c = db;
	if (rows)
		memset(rows, 0, sizeof(*rows));
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		/* 23505 unique violation; 42P01, 42703: no such table or column
		 * (a database that is not an Iceberg catalog) */
		int code = state && strcmp(state, "23505") == 0 ? FIRN_EEXISTS
			   : state && (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0) ? FIRN_EINVAL
			   : FIRN_EIO;
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		PQclear(r);
		return firn_error_set(err, code, "catalog: %s", msg);
	}
	if (rows && st == PGRES_TUPLES_OK) {
		int nr = PQntuples(r), nc = PQnfields(r);
		rows->cells = firn_calloc((size_t)nr * (size_t)nc + 1, sizeof(char *));
		if (!rows->cells) {
			PQclear(r);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		rows->n_rows = nr;
		rows->n_cols = nc;
		for (int i = 0; i < nr; i++)
			for (int k = 0; k < nc; k++)
				rows->cells[i * nc + k] = PQgetisnull(r, i, k) ? NULL : firn_strdup(PQgetvalue(r, i, k));
	}
	if (changes) {
		const char *t = PQcmdTuples(r);
		*changes = t && *t ? strtoll(t, NULL, 10) : 0;
	}
	PQclear(r);
	return 0;
}

static void close_db(void *db)
{
	PQfinish(db);
}

const struct sql_backend firn_sql__pg = { exec, close_db, "BEGIN", false };
