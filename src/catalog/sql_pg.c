/* The SQL catalog on PostgreSQL (libpq).
 *
 * libpq is loaded when a PostgreSQL catalog is first opened, not linked:
 * it brings two dozen libraries (TLS, Kerberos, LDAP) whose loading cost
 * every firn process about 6 ms, most of a small commit, although most
 * commands never talk to PostgreSQL. */
#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/sql_private.h"
#include "firn/util.h"

/* The libpq functions firn calls, resolved once. */
static struct {
	PGconn *(*connectdb)(const char *);
	ConnStatusType (*status)(const PGconn *);
	char *(*error_message)(const PGconn *);
	void (*finish)(PGconn *);
	PQnoticeProcessor (*set_notice_processor)(PGconn *, PQnoticeProcessor, void *);
	PGresult *(*exec_params)(PGconn *, const char *, int, const Oid *, const char *const *,
				 const int *, const int *, int);
	ExecStatusType (*result_status)(const PGresult *);
	char *(*result_error_field)(const PGresult *, int);
	void (*clear)(PGresult *);
	int (*ntuples)(const PGresult *);
	int (*nfields)(const PGresult *);
	int (*getisnull)(const PGresult *, int, int);
	char *(*getvalue)(const PGresult *, int, int);
	char *(*cmd_tuples)(PGresult *);
} pq;
static char pq_error[300];
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void pq_load(void)
{
	void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(pq_error, sizeof(pq_error), "%s", dlerror());
		return;
	}
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&pq.connectdb, "PQconnectdb" },
		{ (void **)&pq.status, "PQstatus" },
		{ (void **)&pq.error_message, "PQerrorMessage" },
		{ (void **)&pq.finish, "PQfinish" },
		{ (void **)&pq.set_notice_processor, "PQsetNoticeProcessor" },
		{ (void **)&pq.exec_params, "PQexecParams" },
		{ (void **)&pq.result_status, "PQresultStatus" },
		{ (void **)&pq.result_error_field, "PQresultErrorField" },
		{ (void **)&pq.clear, "PQclear" },
		{ (void **)&pq.ntuples, "PQntuples" },
		{ (void **)&pq.nfields, "PQnfields" },
		{ (void **)&pq.getisnull, "PQgetisnull" },
		{ (void **)&pq.getvalue, "PQgetvalue" },
		{ (void **)&pq.cmd_tuples, "PQcmdTuples" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(*syms); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(pq_error, sizeof(pq_error), "libpq.so.5 has no %s", syms[i].name);
			pq.connectdb = NULL;
			return;
		}
	}
}

#define PQconnectdb pq.connectdb
#define PQstatus pq.status
#define PQerrorMessage pq.error_message
#define PQfinish pq.finish
#define PQsetNoticeProcessor pq.set_notice_processor
#define PQexecParams pq.exec_params
#define PQresultStatus pq.result_status
#define PQresultErrorField pq.result_error_field
#define PQclear pq.clear
#define PQntuples pq.ntuples
#define PQnfields pq.nfields
#define PQgetisnull pq.getisnull
#define PQgetvalue pq.getvalue
#define PQcmdTuples pq.cmd_tuples

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int firn_sql__pg_open(void **db, const char *uri, struct firn_error *err)
{
	pthread_once(&pq_once, pq_load);
	if (!pq.connectdb)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "catalog: cannot load libpq for PostgreSQL (install libpq5): %s",
				      pq_error);
	PGconn *c = PQconnectdb(uri);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", c ? PQerrorMessage(c) : "out of memory");
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		if (c)
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
