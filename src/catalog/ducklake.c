/* firn import ducklake: one table of a DuckLake catalog (format 1.0, as
 * DuckDB 1.5's ducklake extension writes it, on SQLite or PostgreSQL) read
 * through the SQL catalog's backends and described as a firn_import_plan:
 * one version per DuckLake snapshot that changed the table, its schema
 * from ducklake_column (column ids are the Parquet field ids DuckLake
 * writes, so they stay the Iceberg field ids), its files from
 * ducklake_data_file, and its deleted rows from the delete files (Parquet:
 * file_path, pos) and the inlined deletions. Files holding rows or
 * deletions of several snapshots (_ducklake_internal_snapshot_id: flushed,
 * merged, rewritten delete files) are replayed per snapshot, a row of a
 * later snapshot position-deleted until then. Rows still inlined in the
 * catalog, types Iceberg lacks and partitionings Iceberg cannot express
 * are refused, never imported wrong. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog/ducklake_private.h"
#include "catalog/sql_private.h"
#include "firn/arrow.h"
#include "firn/parquet.h"
#include "firn/util.h"

#define NONE INT64_MAX /* an end_snapshot that has not come */

struct col {
	int64_t id, begin, end, order, parent; /* parent -1: top level */
	const char *name, *type;
	bool nullable, has_initial_default;
};

struct dfile {
	int64_t id, begin, end, records, size, partition_id;
	int64_t partial_max; /* -1: every row is of begin; else rows of begin..partial_max */
	int64_t *row_snap;   /* partial files: the snapshot that inserted each row */
	size_t n_rows;
	int64_t *row_snaps;  /* those snapshots, distinct, ascending */
	size_t n_row_snaps;
	size_t del0, n_del;  /* its delete files: d->dels[del0 .. del0 + n_del) */
	size_t inl0, n_inl;  /* its inlined deletions: d->inl[inl0 .. inl0 + n_inl) */
	const char *location;
	const char **pvalues; /* DuckLake's value per partition key (NULL: null) */
	const char **partition; /* Iceberg's per spec field, for the plan */
};

struct delfile {
	int64_t data_file, begin, end;
	const char *location;
	int64_t *pos, *snap; /* each deleted position and the snapshot that deleted it */
	size_t n;
	int64_t *snaps; /* the snapshots of snap, distinct, ascending */
	size_t n_snaps;
};

struct inlined_del {
	int64_t file, row, begin;
};

struct pkey {
	int64_t column_id;
	const char *transform;
	int rank;     /* identity 0, year 1, month 2, day 3, hour 4 */
	bool in_spec; /* becomes an Iceberg field (a coarser time key does not) */
};

struct snap {
	int64_t id, ms;
};

struct dl {
	const struct sql_backend *be;
	void *db;
	struct firn_arena a;
	const char *uri, *name; /* for messages */
	const char *data_path, *table_dir;
	int64_t table_id, table_begin;
	struct col *cols;
	size_t n_cols;
	struct dfile *files;
	size_t n_files;
	struct delfile *dels;
	size_t n_dels;
	struct inlined_del *inl;
	size_t n_inl;
	int64_t partition_id; /* -1: unpartitioned */
	int64_t partition_begin;
	struct pkey *keys;
	size_t n_keys;
	struct snap *snaps;
	size_t n_snaps;
};

struct firn_ducklake_plan {
	struct dl d;
	struct firn_import_plan plan;
};

/* ---- small helpers ------------------------------------------------------ */

static int oom(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static int q(struct dl *d, const char *sql, const char *const *p, int n, struct sql_rows *rows,
	     struct firn_error *err)
{
	int rc = d->be->exec(d->db, sql, p, n, rows, NULL, err);
	if (rc != 0)
		firn_error_prefix(err, "%s", d->uri);
	return rc;
}

static const char *cell(const struct sql_rows *r, int row, int col)
{
	return r->cells[(size_t)row * r->n_cols + col];
}

/* An integer cell; NULL gives dflt. */
static int int_cell(struct dl *d, const struct sql_rows *r, int row, int col, int64_t dflt,
		    int64_t *out, struct firn_error *err)
{
	const char *s = cell(r, row, col);
	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return firn_error_set(err, FIRN_ECORRUPT, "%s: not an integer in the catalog: %s",
				      d->uri, s);
	*out = v;
	return 0;
}

static bool true_cell(const char *s)
{
	return s && (strcmp(s, "1") == 0 || strcmp(s, "t") == 0 || strcasecmp(s, "true") == 0);
}

static const char *adup(struct dl *d, const char *s)
{
	return s ? firn_arena_strdup(&d->a, s) : NULL;
}

/* base + rel, with one slash between */
static const char *join(struct dl *d, const char *base, const char *rel)
{
	size_t n = strlen(base);
	bool slash = n > 0 && base[n - 1] == '/';
	size_t m = strlen(rel);
	char *p = firn_arena_alloc(&d->a, n + m + 2);
	if (!p)
		return NULL;
	memcpy(p, base, n);
	if (!slash && n > 0)
		p[n++] = '/';
	memcpy(p + n, rel, m + 1);
	return p;
}

static const char *resolve(struct dl *d, const char *base, const char *path, const char *relative)
{
	if (path == NULL)
		return NULL;
	return true_cell(relative) ? join(d, base, path) : adup(d, path);
}

static bool live(int64_t begin, int64_t end, int64_t v)
{
	return begin <= v && v < end;
}

/* d->files is ordered by id */
static struct dfile *find_file(const struct dl *d, int64_t id)
{
	size_t lo = 0, hi = d->n_files;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->files[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n_files && d->files[lo].id == id ? &d->files[lo] : NULL;
}

/* ---- opening the catalog ------------------------------------------------ */

static int dl_open(struct dl *d, const char *uri, struct firn_error *err)
{
	const char *u = uri;
	if (strncmp(u, "ducklake:", 9) == 0)
		u += 9;
	if (strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0) {
		d->be = &firn_sql__pg;
		return firn_sql__pg_open(&d->db, u, err);
	}
	if (strncmp(u, "postgres:", 9) == 0) { /* DuckLake's "postgres:dbname=..." */
		d->be = &firn_sql__pg;
		return firn_sql__pg_open(&d->db, u + 9, err);
	}
	if (strncmp(u, "sqlite:///", 10) == 0)
		u += 9;
	else if (strncmp(u, "sqlite://", 9) == 0)
		u += 9;
	else if (strncmp(u, "sqlite:", 7) == 0)
		u += 7;
	struct firn_catalog_options opts = FIRN_CATALOG_OPTIONS_INIT;
	opts.mode = FIRN_CATALOG_READ;
	d->be = &firn_sql__sqlite;
	return firn_sql__sqlite_open(&d->db, u, &opts, err);
}

static int read_metadata(struct dl *d, struct firn_error *err)
{
	struct sql_rows r = { 0 };
	struct firn_error e = { 0 };
	int rc = d->be->exec(d->db,
			     "SELECT key, value FROM ducklake_metadata WHERE scope IS NULL OR scope = ''",
			     NULL, 0, &r, NULL, &e);
	if (rc != 0)
		return firn_error_set(err, FIRN_EINVAL, "%s: not a DuckLake catalog (%s)", d->uri,
				      e.message);
	const char *version = NULL, *data_path = NULL;
	bool encrypted = false;
	for (int i = 0; i < r.n_rows; i++) {
		const char *k = cell(&r, i, 0), *v = cell(&r, i, 1);
		if (!k || !v)
			continue;
		if (strcmp(k, "version") == 0)
			version = adup(d, v);
		else if (strcmp(k, "data_path") == 0)
			data_path = adup(d, v);
		else if (strcmp(k, "encrypted") == 0)
			encrypted = true_cell(v);
	}
	firn_sql__rows_free(&r);
	if (!version)
		return firn_error_set(err, FIRN_EINVAL, "%s: not a DuckLake catalog (no version)",
				      d->uri);
	if (strncmp(version, "1.", 2) != 0)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "%s: DuckLake catalog version %s: firn reads version 1.x "
				      "(attaching it with DuckDB 1.5 upgrades it)",
				      d->uri, version);
	if (encrypted)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "%s: an encrypted DuckLake catalog (Iceberg readers "
				      "cannot decrypt DuckLake's files)", d->uri);
	if (!data_path)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: DuckLake catalog without data_path",
				      d->uri);
	d->data_path = data_path;
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

static int find_table(struct dl *d, const char *name, struct firn_error *err)
{
	const char *dot = strchr(name, '.');
	char *schema = dot ? firn_arena_strndup(&d->a, name, (size_t)(dot - name))
			   : firn_arena_strdup(&d->a, "main");
	const char *table = dot ? dot + 1 : name;
	if (!schema)
		return oom(err);
	const char *p[] = { schema, table };
	struct sql_rows r = { 0 };
	int rc = q(d,
		   "SELECT t.table_id, t.path, t.path_is_relative, s.path, s.path_is_relative "
		   "FROM ducklake_table t JOIN ducklake_schema s ON s.schema_id = t.schema_id "
		   "WHERE t.end_snapshot IS NULL AND s.end_snapshot IS NULL "
		   "AND s.schema_name = $1 AND t.table_name = $2",
		   p, 2, &r, err);
	if (rc != 0)
		return rc;
	if (r.n_rows == 0) {
		firn_sql__rows_free(&r);
		return firn_error_set(err, FIRN_ENOTFOUND, "%s: no table %s.%s in the DuckLake catalog",
				      d->uri, schema, table);
	}
	rc = int_cell(d, &r, 0, 0, -1, &d->table_id, err);
	if (rc == 0) {
		const char *sdir = resolve(d, d->data_path, cell(&r, 0, 3) ? cell(&r, 0, 3) : "",
					   cell(&r, 0, 4));
		d->table_dir = sdir ? resolve(d, sdir, cell(&r, 0, 1) ? cell(&r, 0, 1) : "",
					      cell(&r, 0, 2))
				    : NULL;
		if (!d->table_dir)
			rc = oom(err);
	}
	firn_sql__rows_free(&r);
	if (rc != 0)
		return rc;
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, d->table_id);
	const char *pid[] = { id };
	rc = q(d, "SELECT MIN(begin_snapshot) FROM ducklake_table WHERE table_id = $1", pid, 1, &r,
	       err);
	if (rc == 0)
		rc = r.n_rows == 1 ? int_cell(d, &r, 0, 0, 0, &d->table_begin, err) : 0;
	firn_sql__rows_free(&r);
	return rc;
}

static bool is_identifier(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Inlined rows live in the catalog, not in a file Iceberg can reference. */
static int check_inlined(struct dl *d, const char *id, struct firn_error *err)
{
	const char *p[] = { id };
	struct sql_rows r = { 0 };
	int rc = q(d, "SELECT table_name FROM ducklake_inlined_data_tables WHERE table_id = $1", p, 1,
		   &r, err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		const char *t = cell(&r, i, 0);
		if (!is_identifier(t)) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: inlined data table named %s",
					    d->uri, t ? t : "NULL");
			break;
		}
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", t);
		struct sql_rows c = { 0 };
		int64_t n = 0;
		rc = q(d, sql, NULL, 0, &c, err);
		if (rc == 0 && c.n_rows == 1)
			rc = int_cell(d, &c, 0, 0, 0, &n, err);
		firn_sql__rows_free(&c);
		if (rc == 0 && n > 0)
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "%s: table %s has %" PRId64 " rows inlined in the DuckLake "
					    "catalog, not in Parquet files (flush them first: CALL "
					    "ducklake_flush_inlined_data(...))",
					    d->uri, d->name, n);
	}
	firn_sql__rows_free(&r);
	return rc;
}

static int read_columns(struct dl *d, const char *id, struct firn_error *err)
{
	const char *p[] = { id };
	struct sql_rows r = { 0 };
	int rc = q(d,
		   "SELECT column_id, begin_snapshot, end_snapshot, column_order, column_name, "
		   "column_type, nulls_allowed, parent_column, initial_default "
		   "FROM ducklake_column WHERE table_id = $1 ORDER BY column_order, begin_snapshot",
		   p, 1, &r, err);
	if (rc != 0)
		return rc;
	d->n_cols = (size_t)r.n_rows;
	d->cols = firn_arena_alloc(&d->a, sizeof(struct col) * (d->n_cols + 1));
	if (!d->cols)
		rc = oom(err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		struct col *c = &d->cols[i];
		rc = int_cell(d, &r, i, 0, -1, &c->id, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 1, 0, &c->begin, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 2, NONE, &c->end, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 3, 0, &c->order, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 7, -1, &c->parent, err);
		if (rc != 0)
			break;
		c->name = adup(d, cell(&r, i, 4) ? cell(&r, i, 4) : "");
		c->type = adup(d, cell(&r, i, 5) ? cell(&r, i, 5) : "");
		c->nullable = cell(&r, i, 6) == NULL || true_cell(cell(&r, i, 6));
		const char *dflt = cell(&r, i, 8);
		c->has_initial_default = dflt && strcmp(dflt, "NULL") != 0;
		if (!c->name || !c->type)
			rc = oom(err);
	}
	firn_sql__rows_free(&r);
	return rc;
}

static int read_files(struct dl *d, const char *id, struct firn_error *err)
{
	const char *p[] = { id };
	struct sql_rows r = { 0 };
	int rc = q(d,
		   "SELECT data_file_id, path, path_is_relative, record_count, file_size_bytes, "
		   "begin_snapshot, end_snapshot, partition_id, file_format, encryption_key, "
		   "mapping_id, partial_max FROM ducklake_data_file WHERE table_id = $1 "
		   "ORDER BY data_file_id",
		   p, 1, &r, err);
	if (rc != 0)
		return rc;
	d->n_files = (size_t)r.n_rows;
	d->files = firn_arena_alloc(&d->a, sizeof(struct dfile) * (d->n_files + 1));
	if (!d->files)
		rc = oom(err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		struct dfile *f = &d->files[i];
		rc = int_cell(d, &r, i, 0, -1, &f->id, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 3, -1, &f->records, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 4, -1, &f->size, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 5, 0, &f->begin, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 6, NONE, &f->end, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 7, -1, &f->partition_id, err);
		if (rc != 0)
			break;
		const char *path = cell(&r, i, 1), *fmt = cell(&r, i, 8);
		f->location = resolve(d, d->table_dir, path ? path : "", cell(&r, i, 2));
		if (!f->location)
			rc = oom(err);
		else if (fmt && strcasecmp(fmt, "parquet") != 0)
			rc = firn_error_set(err, FIRN_EUNSUPPORTED, "%s: data file of format %s",
					    f->location, fmt);
		else if (cell(&r, i, 9))
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "%s: an encrypted data file (Iceberg readers cannot "
					    "decrypt it)", f->location);
		else if (cell(&r, i, 10))
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "%s: a file added with a column mapping "
					    "(ducklake_add_data_files): its columns carry no field ids",
					    f->location);
		else
			rc = int_cell(d, &r, i, 11, -1, &f->partial_max, err);
	}
	firn_sql__rows_free(&r);
	return rc;
}

static int read_deletes(struct dl *d, const char *id, struct firn_error *err)
{
	const char *p[] = { id };
	struct sql_rows r = { 0 };
	int rc = q(d,
		   "SELECT data_file_id, path, path_is_relative, begin_snapshot, end_snapshot, "
		   "format, encryption_key FROM ducklake_delete_file WHERE table_id = $1 "
		   "ORDER BY delete_file_id",
		   p, 1, &r, err);
	if (rc != 0)
		return rc;
	d->n_dels = (size_t)r.n_rows;
	d->dels = firn_arena_alloc(&d->a, sizeof(struct delfile) * (d->n_dels + 1));
	if (!d->dels)
		rc = oom(err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		struct delfile *f = &d->dels[i];
		rc = int_cell(d, &r, i, 0, -1, &f->data_file, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 3, 0, &f->begin, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 4, NONE, &f->end, err);
		if (rc != 0)
			break;
		const char *path = cell(&r, i, 1), *fmt = cell(&r, i, 5);
		f->location = resolve(d, d->table_dir, path ? path : "", cell(&r, i, 2));
		if (!f->location)
			rc = oom(err);
		else if (fmt && strcasecmp(fmt, "parquet") != 0)
			rc = firn_error_set(err, FIRN_EUNSUPPORTED, "%s: delete file of format %s",
					    f->location, fmt);
		else if (cell(&r, i, 6))
			rc = firn_error_set(err, FIRN_EUNSUPPORTED, "%s: an encrypted delete file",
					    f->location);
	}
	firn_sql__rows_free(&r);
	return rc;
}

/* Deletions DuckLake keeps in the catalog (ducklake_inlined_delete_<id>:
 * file_id, row_id = the row's position in its file, begin_snapshot). */
static int read_inlined_deletes(struct dl *d, const char *id, struct firn_error *err)
{
	char table[64];
	snprintf(table, sizeof(table), "ducklake_inlined_delete_%s", id);
	const char *p[] = { table };
	struct sql_rows r = { 0 };
	int rc = q(d,
		   d->be->is_sqlite
			   ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1"
			   : "SELECT table_name FROM information_schema.tables WHERE table_name = $1 "
			     "AND table_schema = current_schema()",
		   p, 1, &r, err);
	bool exists = rc == 0 && r.n_rows > 0;
	firn_sql__rows_free(&r);
	if (rc != 0 || !exists)
		return rc;
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "SELECT file_id, row_id, begin_snapshot FROM %s ORDER BY file_id, row_id", table);
	rc = q(d, sql, NULL, 0, &r, err);
	if (rc != 0)
		return rc;
	d->n_inl = (size_t)r.n_rows;
	d->inl = firn_arena_alloc(&d->a, sizeof(struct inlined_del) * (d->n_inl + 1));
	if (!d->inl)
		rc = oom(err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		rc = int_cell(d, &r, i, 0, -1, &d->inl[i].file, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 1, -1, &d->inl[i].row, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 2, 0, &d->inl[i].begin, err);
	}
	firn_sql__rows_free(&r);
	return rc;
}

static int read_snapshots(struct dl *d, struct firn_error *err)
{
	struct sql_rows r = { 0 };
	int rc = q(d, "SELECT snapshot_id, snapshot_time FROM ducklake_snapshot ORDER BY snapshot_id",
		   NULL, 0, &r, err);
	if (rc != 0)
		return rc;
	d->n_snaps = (size_t)r.n_rows;
	d->snaps = firn_arena_alloc(&d->a, sizeof(struct snap) * (d->n_snaps + 1));
	if (!d->snaps)
		rc = oom(err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		rc = int_cell(d, &r, i, 0, -1, &d->snaps[i].id, err);
		const char *t = cell(&r, i, 1);
		int64_t us = 0;
		if (rc == 0 && (!t || firn_timestamp_parse(t, strlen(t), 6, &us) != 0))
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: snapshot %" PRId64 ": time %s",
					    d->uri, d->snaps[i].id, t ? t : "NULL");
		d->snaps[i].ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
	}
	firn_sql__rows_free(&r);
	return rc;
}

/* ---- partitioning ------------------------------------------------------- */

static int transform_rank(const char *t)
{
	static const char *const names[] = { "identity", "year", "month", "day", "hour" };
	for (int i = 0; i < 5; i++)
		if (strcmp(t, names[i]) == 0)
			return i;
	return -1;
}

static const struct col *current_col(const struct dl *d, int64_t id)
{
	const struct col *best = NULL;
	for (size_t i = 0; i < d->n_cols; i++)
		if (d->cols[i].id == id && (!best || d->cols[i].begin > best->begin))
			best = &d->cols[i];
	return best;
}

static int read_partitioning(struct dl *d, const char *id, struct firn_error *err)
{
	const char *p[] = { id };
	struct sql_rows r = { 0 };
	d->partition_id = -1;
	int rc = q(d,
		   "SELECT partition_id, begin_snapshot, end_snapshot FROM ducklake_partition_info "
		   "WHERE table_id = $1 ORDER BY begin_snapshot",
		   p, 1, &r, err);
	if (rc != 0)
		return rc;
	if (r.n_rows > 1 || (r.n_rows == 1 && cell(&r, 0, 2) != NULL)) {
		firn_sql__rows_free(&r);
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "%s: table %s changed its partitioning over its history "
				      "(firn imports one partitioning)", d->uri, d->name);
	}
	if (r.n_rows == 1)
		rc = int_cell(d, &r, 0, 0, -1, &d->partition_id, err);
	if (rc == 0 && r.n_rows == 1)
		rc = int_cell(d, &r, 0, 1, 0, &d->partition_begin, err);
	firn_sql__rows_free(&r);
	if (rc != 0 || d->partition_id < 0)
		goto files;
	char pid[24];
	snprintf(pid, sizeof(pid), "%" PRId64, d->partition_id);
	const char *pp[] = { pid, id };
	rc = q(d,
	       "SELECT partition_key_index, column_id, transform FROM ducklake_partition_column "
	       "WHERE partition_id = $1 AND table_id = $2 ORDER BY partition_key_index",
	       pp, 2, &r, err);
	if (rc != 0)
		return rc;
	d->n_keys = (size_t)r.n_rows;
	d->keys = firn_arena_alloc(&d->a, sizeof(struct pkey) * (d->n_keys + 1));
	if (!d->keys)
		rc = oom(err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		int64_t idx;
		struct pkey *k = &d->keys[i];
		rc = int_cell(d, &r, i, 0, -1, &idx, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 1, -1, &k->column_id, err);
		if (rc != 0)
			break;
		const char *t = cell(&r, i, 2) ? cell(&r, i, 2) : "";
		k->transform = adup(d, t);
		k->rank = transform_rank(t);
		const struct col *c = current_col(d, k->column_id);
		if (idx != i)
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: partition keys of table %s are "
					    "not numbered 0..n", d->uri, d->name);
		else if (k->rank < 0)
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "%s: table %s is partitioned by %s, which firn does not "
					    "carry to Iceberg", d->uri, d->name, t);
		else if (!c || c->parent >= 0)
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "%s: table %s is partitioned by column %" PRId64 ", not a "
					    "top-level column", d->uri, d->name, k->column_id);
	}
	firn_sql__rows_free(&r);
	if (rc != 0)
		return rc;
	/* Iceberg keeps the finest time transform of a column: DuckLake's
	 * year(d), month(d) is Iceberg's month(d), whose value names both */
	for (size_t i = 0; i < d->n_keys; i++) {
		d->keys[i].in_spec = true;
		for (size_t j = 0; j < d->n_keys; j++) {
			if (i == j || d->keys[j].column_id != d->keys[i].column_id)
				continue;
			bool both_time = d->keys[i].rank > 0 && d->keys[j].rank > 0;
			if ((both_time && d->keys[j].rank > d->keys[i].rank) ||
			    (d->keys[j].rank == d->keys[i].rank && j < i))
				d->keys[i].in_spec = false;
		}
	}
files:
	for (size_t i = 0; rc == 0 && i < d->n_files; i++)
		if (d->files[i].partition_id != d->partition_id)
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "%s: written under another partitioning than the table's",
					    d->files[i].location);
	if (rc != 0 || d->n_keys == 0)
		return rc;
	rc = q(d,
	       "SELECT data_file_id, partition_key_index, partition_value "
	       "FROM ducklake_file_partition_value WHERE table_id = $1",
	       p, 1, &r, err);
	for (size_t i = 0; rc == 0 && i < d->n_files; i++)
		if (!(d->files[i].pvalues = firn_arena_alloc(&d->a, sizeof(char *) * d->n_keys)))
			rc = oom(err);
	for (int i = 0; rc == 0 && i < r.n_rows; i++) {
		int64_t fid, idx;
		rc = int_cell(d, &r, i, 0, -1, &fid, err);
		if (rc == 0)
			rc = int_cell(d, &r, i, 1, -1, &idx, err);
		if (rc != 0)
			break;
		struct dfile *f = find_file(d, fid);
		if (f && idx >= 0 && (size_t)idx < d->n_keys)
			f->pvalues[idx] = adup(d, cell(&r, i, 2));
	}
	firn_sql__rows_free(&r);
	return rc;
}

/* Iceberg's partition path text of a time transform from its ordinal
 * (years, months, days or hours since 1970). */
static void time_text(int rank, int64_t ord, char *out, size_t cap)
{
	int64_t y;
	unsigned m, dd;
	switch (rank) {
	case 1:
		snprintf(out, cap, "%04" PRId64, 1970 + ord);
		break;
	case 2: {
		int64_t yy = ord >= 0 ? ord / 12 : -((-ord + 11) / 12);
		snprintf(out, cap, "%04" PRId64 "-%02d", 1970 + yy, (int)(ord - yy * 12) + 1);
		break;
	}
	case 3:
		firn_date_format((int32_t)ord, out, cap);
		break;
	default: {
		int64_t days = ord >= 0 ? ord / 24 : -((-ord + 23) / 24);
		firn_civil_from_days(days, &y, &m, &dd);
		snprintf(out, cap, "%04" PRId64 "-%02u-%02u-%02d", y, m, dd, (int)(ord - days * 24));
	}
	}
}

/* The ordinal of a date or timestamp text (min/max statistics). */
static bool time_ordinal(int rank, const char *type, const char *s, int64_t *ord)
{
	int64_t days, micros = 0;
	if (strcmp(type, "date") == 0) {
		int32_t dd;
		if (firn_date_parse(s, strlen(s), &dd) != 0)
			return false;
		days = dd;
	} else {
		if (firn_timestamp_parse(s, strlen(s), 6, &micros) != 0)
			return false;
		int64_t day_us = 86400LL * 1000000;
		days = micros >= 0 ? micros / day_us : -((-micros + day_us - 1) / day_us);
	}
	int64_t y;
	unsigned m, dd;
	firn_civil_from_days(days, &y, &m, &dd);
	switch (rank) {
	case 1:
		*ord = y - 1970;
		return true;
	case 2:
		*ord = (y - 1970) * 12 + (m - 1);
		return true;
	case 3:
		*ord = days;
		return true;
	default: {
		int64_t h_us = 3600LL * 1000000;
		*ord = micros >= 0 ? micros / h_us : -((-micros + h_us - 1) / h_us);
		return strcmp(type, "date") != 0;
	}
	}
}

/* The Iceberg value of time key k of file f: from DuckLake's year, month,
 * day, hour values of the same column when they are all there (DuckLake's
 * month is the month of the year), else from the file's min/max of the
 * column, which must fall in one Iceberg partition. */
static int time_value(struct dl *d, struct dfile *f, const struct pkey *k, const char **out,
		      struct firn_error *err)
{
	const char *part[5] = { NULL };
	bool have[5] = { false };
	for (size_t j = 0; j < d->n_keys; j++)
		if (d->keys[j].column_id == k->column_id && d->keys[j].rank > 0) {
			have[d->keys[j].rank] = true;
			part[d->keys[j].rank] = f->pvalues[j];
		}
	const struct col *c = current_col(d, k->column_id);
	bool complete = true, all_null = true;
	for (int r = 1; r <= k->rank; r++) {
		complete = complete && have[r];
		all_null = all_null && part[r] == NULL;
	}
	char text[48];
	if (complete && all_null) {
		*out = NULL;
		return 0;
	}
	if (complete) {
		long v[5] = { 0, 1970, 1, 1, 0 };
		for (int r = 1; r <= k->rank; r++) {
			char *end;
			v[r] = part[r] ? strtol(part[r], &end, 10) : -1;
			if (!part[r] || *end != '\0' || end == part[r])
				return firn_error_set(err, FIRN_ECORRUPT, "%s: partition value %s of %s",
						      f->location, part[r] ? part[r] : "NULL",
						      k->transform);
		}
		if (k->rank == 1)
			snprintf(text, sizeof(text), "%04ld", v[1]);
		else if (k->rank == 2)
			snprintf(text, sizeof(text), "%04ld-%02ld", v[1], v[2]);
		else if (k->rank == 3)
			snprintf(text, sizeof(text), "%04ld-%02ld-%02ld", v[1], v[2], v[3]);
		else
			snprintf(text, sizeof(text), "%04ld-%02ld-%02ld-%02ld", v[1], v[2], v[3], v[4]);
		*out = adup(d, text);
		return *out ? 0 : oom(err);
	}
	char fid[24], cid[24];
	snprintf(fid, sizeof(fid), "%" PRId64, f->id);
	snprintf(cid, sizeof(cid), "%" PRId64, k->column_id);
	const char *p[] = { fid, cid };
	struct sql_rows r = { 0 };
	int rc = q(d,
		   "SELECT min_value, max_value FROM ducklake_file_column_stats "
		   "WHERE data_file_id = $1 AND column_id = $2",
		   p, 2, &r, err);
	if (rc != 0)
		return rc;
	const char *mn = r.n_rows ? cell(&r, 0, 0) : NULL, *mx = r.n_rows ? cell(&r, 0, 1) : NULL;
	int64_t a, b;
	if (!mn && !mx && part[k->rank] == NULL) {
		*out = NULL; /* all null */
	} else if (!mn || !mx || !time_ordinal(k->rank, c->type, mn, &a) ||
		   !time_ordinal(k->rank, c->type, mx, &b)) {
		rc = firn_error_set(err, FIRN_EUNSUPPORTED,
				    "%s: no statistics of column %s to place the file in an "
				    "Iceberg %s partition (DuckLake's %s value does not name the "
				    "year)", f->location, c->name, k->transform, k->transform);
	} else if (a != b) {
		rc = firn_error_set(err, FIRN_EUNSUPPORTED,
				    "%s: rows of several Iceberg %s(%s) partitions in one file "
				    "(DuckLake's %s value does not name the year)",
				    f->location, k->transform, c->name, k->transform);
	} else {
		time_text(k->rank, a, text, sizeof(text));
		if (!(*out = adup(d, text)))
			rc = oom(err);
	}
	firn_sql__rows_free(&r);
	return rc;
}

static int identity_value(struct dl *d, const struct dfile *f, size_t key, const char **out,
			  struct firn_error *err)
{
	const char *v = f->pvalues[key];
	const struct col *c = current_col(d, d->keys[key].column_id);
	*out = NULL;
	if (v == NULL)
		return 0;
	bool tz = strcmp(c->type, "timestamptz") == 0;
	if (tz || strcmp(c->type, "timestamp") == 0) {
		int64_t us;
		char text[64];
		if (firn_timestamp_parse(v, strlen(v), 6, &us) != 0 ||
		    firn_timestamp_format(us, 6, tz, text, sizeof(text)) < 0)
			return firn_error_set(err, FIRN_ECORRUPT, "%s: partition value %s of %s",
					      f->location, v, c->name);
		v = text;
		*out = adup(d, v);
	} else {
		*out = adup(d, v);
	}
	return *out ? 0 : oom(err);
}

static int partition_tuples(struct dl *d, int64_t after, struct firn_error *err)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_keys; i++)
		n += d->keys[i].in_spec;
	for (size_t i = 0; i < d->n_files; i++) {
		struct dfile *f = &d->files[i];
		if (n == 0 || f->begin <= after)
			continue;
		if (!(f->partition = firn_arena_alloc(&d->a, sizeof(char *) * n)))
			return oom(err);
		size_t out = 0;
		for (size_t k = 0; k < d->n_keys; k++) {
			if (!d->keys[k].in_spec)
				continue;
			int rc = d->keys[k].rank == 0
					 ? identity_value(d, f, k, &f->partition[out], err)
					 : time_value(d, f, &d->keys[k], &f->partition[out], err);
			if (rc != 0)
				return rc;
			out++;
		}
	}
	return 0;
}

static const char *spec_json(struct dl *d, struct firn_error *err)
{
	json_t *fields = json_array();
	int field_id = 1000;
	for (size_t k = 0; fields && k < d->n_keys; k++) {
		const struct pkey *p = &d->keys[k];
		if (!p->in_spec)
			continue;
		const struct col *c = current_col(d, p->column_id);
		char name[512];
		if (p->rank == 0)
			snprintf(name, sizeof(name), "%s", c->name);
		else
			snprintf(name, sizeof(name), "%s_%s", c->name, p->transform);
		json_array_append_new(fields, json_pack("{s:s, s:s, s:I, s:i}", "name", name,
							"transform", p->transform, "source-id",
							(json_int_t)p->column_id, "field-id",
							field_id++));
	}
	json_t *spec = fields ? json_pack("{s:i, s:o}", "spec-id", 0, "fields", fields) : NULL;
	char *s = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	json_decref(spec);
	const char *out = s ? adup(d, s) : NULL;
	free(s);
	if (!out)
		oom(err);
	return out;
}

/* ---- schemas ------------------------------------------------------------ */

static json_t *field_json(struct dl *d, const struct col *c, int64_t v, struct firn_error *err);

/* The Iceberg type of c (live at v); NULL with err set when it has none. */
static json_t *type_json(struct dl *d, const struct col *c, int64_t v, struct firn_error *err)
{
	static const char *const prim[][2] = {
		{ "int8", "int" },	   { "int16", "int" },	   { "int32", "int" },
		{ "uint8", "int" },	   { "uint16", "int" },	   { "int64", "long" },
		{ "uint32", "long" },	   { "float32", "float" }, { "float64", "double" },
		{ "boolean", "boolean" },  { "bool", "boolean" },  { "varchar", "string" },
		{ "blob", "binary" },	   { "date", "date" },	   { "time", "time" },
		{ "timestamp", "timestamp" }, { "timestamptz", "timestamptz" },
		{ "uuid", "uuid" },
	};
	for (size_t i = 0; i < sizeof(prim) / sizeof(prim[0]); i++)
		if (strcmp(c->type, prim[i][0]) == 0)
			return json_string(prim[i][1]);
	int p, s, used = 0;
	if (sscanf(c->type, "decimal(%d,%d)%n", &p, &s, &used) == 2 && c->type[used] == '\0' &&
	    p >= 1 && p <= 38 && s >= 0 && s <= p) {
		char t[32];
		snprintf(t, sizeof(t), "decimal(%d, %d)", p, s);
		return json_string(t);
	}
	bool is_struct = strcmp(c->type, "struct") == 0, is_list = strcmp(c->type, "list") == 0,
	     is_map = strcmp(c->type, "map") == 0;
	if (!is_struct && !is_list && !is_map) {
		firn_error_set(err, FIRN_EUNSUPPORTED,
			       "%s: column %s of table %s has DuckLake type %s, which firn does not "
			       "carry to Iceberg", d->uri, c->name, d->name, c->type);
		return NULL;
	}
	const struct col *kids[2] = { NULL, NULL };
	size_t n_kids = 0;
	json_t *fields = is_struct ? json_array() : NULL;
	for (size_t i = 0; i < d->n_cols; i++) {
		const struct col *k = &d->cols[i];
		if (k->parent != c->id || !live(k->begin, k->end, v))
			continue;
		if (is_struct) {
			json_t *f = field_json(d, k, v, err);
			if (!f) {
				json_decref(fields);
				return NULL;
			}
			json_array_append_new(fields, f);
		} else if (n_kids < 2) {
			kids[n_kids] = k;
			n_kids++;
		} else {
			n_kids = 3;
		}
	}
	if (is_struct)
		return json_pack("{s:s, s:o}", "type", "struct", "fields", fields);
	if (n_kids != (is_list ? 1u : 2u)) {
		firn_error_set(err, FIRN_ECORRUPT, "%s: %s column %s of table %s has %zu children",
			       d->uri, c->type, c->name, d->name, n_kids);
		return NULL;
	}
	json_t *t0 = type_json(d, kids[0], v, err);
	if (!t0)
		return NULL;
	if (is_list)
		return json_pack("{s:s, s:I, s:o, s:b}", "type", "list", "element-id",
				 (json_int_t)kids[0]->id, "element", t0, "element-required",
				 !kids[0]->nullable);
	json_t *t1 = type_json(d, kids[1], v, err);
	if (!t1) {
		json_decref(t0);
		return NULL;
	}
	return json_pack("{s:s, s:I, s:o, s:I, s:o, s:b}", "type", "map", "key-id",
			 (json_int_t)kids[0]->id, "key", t0, "value-id", (json_int_t)kids[1]->id,
			 "value", t1, "value-required", !kids[1]->nullable);
}

static json_t *field_json(struct dl *d, const struct col *c, int64_t v, struct firn_error *err)
{
	json_t *t = type_json(d, c, v, err);
	if (!t)
		return NULL;
	return json_pack("{s:I, s:s, s:b, s:o}", "id", (json_int_t)c->id, "name", c->name,
			 "required", !c->nullable, "type", t);
}

/* The Iceberg schema of the table at snapshot v, as JSON text (arena). */
static int schema_at(struct dl *d, int64_t v, const char **out, struct firn_error *err)
{
	json_t *fields = json_array();
	for (size_t i = 0; fields && i < d->n_cols; i++) {
		const struct col *c = &d->cols[i];
		if (c->parent >= 0 || !live(c->begin, c->end, v))
			continue;
		if (c->has_initial_default && c->begin > d->table_begin) {
			json_decref(fields);
			return firn_error_set(err, FIRN_EUNSUPPORTED,
					      "%s: column %s of table %s was added with a default "
					      "for the rows before it (Iceberg v2 reads them as null)",
					      d->uri, c->name, d->name);
		}
		struct firn_error e = { 0 };
		json_t *f = field_json(d, c, v, &e);
		if (!f) {
			json_decref(fields);
			if (e.code == 0)
				return oom(err);
			if (err)
				*err = e;
			return e.code;
		}
		json_array_append_new(fields, f);
	}
	json_t *s = fields ? json_pack("{s:s, s:i, s:o}", "type", "struct", "schema-id", 0,
				       "fields", fields)
			   : NULL;
	char *text = s ? json_dumps(s, JSON_COMPACT) : NULL;
	json_decref(s);
	*out = text ? adup(d, text) : NULL;
	free(text);
	return *out ? 0 : oom(err);
}

/* ---- deleted rows ------------------------------------------------------- */

struct posvec {
	int64_t *v;
	size_t n, cap;
};

static int push(struct posvec *p, int64_t x)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		int64_t *nv = firn_realloc(p->v, cap * sizeof(int64_t));
		if (!nv)
			return FIRN_ENOMEM;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n++] = x;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* An int64 column of a batch, checked. */
static const int64_t *i64_column(const struct ArrowArray *c)
{
	if (!c || c->n_buffers < 2 || c->null_count != 0 || !c->buffers[1])
		return NULL;
	return (const int64_t *)c->buffers[1] + c->offset;
}

/* Reads delete file df: its positions, and the snapshot that deleted each
 * (DuckLake 1.0 keeps the deletions of several snapshots in one file, in
 * the column _ducklake_internal_snapshot_id; without it, all are the
 * file's begin_snapshot). */
static int read_delete_file(struct dl *d, struct delfile *df, struct firn_error *err)
{
	const struct dfile *f = find_file(d, df->data_file);
	int64_t records = f ? f->records : -1;
	struct firn_parquet_reader *r = NULL;
	int rc = firn_parquet_reader_open(&r, df->location, err);
	if (rc != 0)
		return rc;
	bool has_snap = false;
	for (int i = 0; i < firn_parquet_reader_leaf_count(r); i++) {
		const char *p = firn_parquet_reader_leaf_path(r, i);
		has_snap = has_snap || (p && strcmp(p, "_ducklake_internal_snapshot_id") == 0);
	}
	const char *names[] = { "pos", "_ducklake_internal_snapshot_id" };
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_names = has_snap ? 2 : 1;
	o.names = names;
	struct ArrowArrayStream st = { 0 };
	struct posvec pos = { 0 }, snap = { 0 };
	rc = firn_parquet_reader_stream(r, &o, &st, err);
	while (rc == 0) {
		struct ArrowArray b = { 0 };
		if (st.get_next(&st, &b) != 0) {
			const char *m = st.get_last_error ? st.get_last_error(&st) : NULL;
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", df->location,
					    m ? m : "read failed");
			break;
		}
		if (!b.release)
			break;
		const int64_t *pv = b.n_children == o.n_names ? i64_column(b.children[0]) : NULL;
		const int64_t *sv = has_snap && pv ? i64_column(b.children[1]) : NULL;
		if (!pv || (has_snap && !sv))
			rc = firn_error_set(err, FIRN_ECORRUPT,
					    "%s: not a DuckLake delete file (pos: int64, no nulls)",
					    df->location);
		for (int64_t i = 0; rc == 0 && i < b.children[0]->length; i++) {
			if (pv[i] < 0 || (records >= 0 && pv[i] >= records))
				rc = firn_error_set(err, FIRN_ECORRUPT,
						    "%s: position %" PRId64 " outside a data file of "
						    "%" PRId64 " rows", df->location, pv[i], records);
			else if (push(&pos, pv[i]) != 0 || push(&snap, sv ? sv[i] : df->begin) != 0)
				rc = oom(err);
		}
		b.release(&b);
	}
	if (st.release)
		st.release(&st);
	firn_parquet_reader_free(r);
	if (rc == 0 && pos.n > 0) {
		df->pos = firn_arena_alloc(&d->a, pos.n * sizeof(int64_t));
		df->snap = firn_arena_alloc(&d->a, pos.n * sizeof(int64_t));
		if (!df->pos || !df->snap)
			rc = oom(err);
		else {
			memcpy(df->pos, pos.v, pos.n * sizeof(int64_t));
			memcpy(df->snap, snap.v, pos.n * sizeof(int64_t));
			df->n = pos.n;
		}
	}
	firn_free(pos.v);
	firn_free(snap.v);
	return rc;
}

/* A partial data file (rows of several snapshots, as DuckLake's flush of
 * inlined rows or its merge of files writes them): the snapshot of each
 * row, from its column _ducklake_internal_snapshot_id. */
static int read_row_snapshots(struct dl *d, struct dfile *f, struct firn_error *err)
{
	struct firn_parquet_reader *r = NULL;
	int rc = firn_parquet_reader_open(&r, f->location, err);
	if (rc != 0)
		return rc;
	const char *names[] = { "_ducklake_internal_snapshot_id" };
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_names = 1;
	o.names = names;
	struct ArrowArrayStream st = { 0 };
	struct posvec snap = { 0 };
	bool found = false;
	for (int i = 0; i < firn_parquet_reader_leaf_count(r); i++) {
		const char *p = firn_parquet_reader_leaf_path(r, i);
		found = found || (p && strcmp(p, names[0]) == 0);
	}
	if (!found)
		rc = firn_error_set(err, FIRN_EUNSUPPORTED,
				    "%s: rows of several snapshots, without the column %s that "
				    "says which", f->location, names[0]);
	if (rc == 0)
		rc = firn_parquet_reader_stream(r, &o, &st, err);
	while (rc == 0) {
		struct ArrowArray b = { 0 };
		if (st.get_next(&st, &b) != 0) {
			const char *m = st.get_last_error ? st.get_last_error(&st) : NULL;
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", f->location,
					    m ? m : "read failed");
			break;
		}
		if (!b.release)
			break;
		const int64_t *sv = b.n_children == 1 ? i64_column(b.children[0]) : NULL;
		if (!sv)
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s is not int64 without nulls",
					    f->location, names[0]);
		for (int64_t i = 0; rc == 0 && i < b.children[0]->length; i++)
			if (push(&snap, sv[i]) != 0)
				rc = oom(err);
		b.release(&b);
	}
	if (st.release)
		st.release(&st);
	firn_parquet_reader_free(r);
	if (rc == 0 && f->records >= 0 && (int64_t)snap.n != f->records)
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %zu rows, the catalog says %" PRId64,
				    f->location, snap.n, f->records);
	if (rc == 0 && snap.n > 0) {
		if (!(f->row_snap = firn_arena_alloc(&d->a, snap.n * sizeof(int64_t))))
			rc = oom(err);
		else
			memcpy(f->row_snap, snap.v, snap.n * sizeof(int64_t));
		f->n_rows = snap.n;
	}
	firn_free(snap.v);
	return rc;
}

/* v[0..n) distinct and ascending, in the arena. */
static int distinct(struct dl *d, const int64_t *v, size_t n, int64_t **out, size_t *n_out,
		    struct firn_error *err)
{
	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return 0;
	int64_t *u = firn_arena_alloc(&d->a, n * sizeof(int64_t));
	if (!u)
		return oom(err);
	memcpy(u, v, n * sizeof(int64_t));
	qsort(u, n, sizeof(int64_t), cmp_i64);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || u[m - 1] != u[i])
			u[m++] = u[i];
	*out = u;
	*n_out = m;
	return 0;
}

static bool has(const int64_t *v, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == x;
}

static int cmp_del(const void *a, const void *b)
{
	const struct delfile *x = a, *y = b;
	if (x->data_file != y->data_file)
		return (x->data_file > y->data_file) - (x->data_file < y->data_file);
	return (x->begin > y->begin) - (x->begin < y->begin);
}

/* Each data file's delete files and inlined deletions (ranges of the
 * arrays sorted by data file), so that a version looks at its own. */
static void index_deletes(struct dl *d)
{
	if (d->n_dels > 1)
		qsort(d->dels, d->n_dels, sizeof(*d->dels), cmp_del);
	for (size_t i = 0; i < d->n_dels; i++) {
		struct dfile *f = find_file(d, d->dels[i].data_file);
		if (f && f->n_del++ == 0)
			f->del0 = i;
	}
	for (size_t i = 0; i < d->n_inl; i++) { /* ordered by file_id */
		struct dfile *f = find_file(d, d->inl[i].file);
		if (f && f->n_inl++ == 0)
			f->inl0 = i;
	}
}

/* The delete files of data files still live after `after` (the others
 * matter to no version of the plan), and the row snapshots of partial
 * files. */
static int read_delete_files(struct dl *d, int64_t after, struct firn_error *err)
{
	index_deletes(d);
	for (size_t i = 0; i < d->n_dels; i++) {
		struct delfile *df = &d->dels[i];
		const struct dfile *f = find_file(d, df->data_file);
		if (!f || f->end <= after || df->end <= after)
			continue;
		FIRN_TRY(read_delete_file(d, df, err));
		FIRN_TRY(distinct(d, df->snap, df->n, &df->snaps, &df->n_snaps, err));
	}
	for (size_t i = 0; i < d->n_files; i++) {
		struct dfile *f = &d->files[i];
		if (f->partial_max > f->begin && f->end > after) {
			FIRN_TRY(read_row_snapshots(d, f, err));
			FIRN_TRY(distinct(d, f->row_snap, f->n_rows, &f->row_snaps, &f->n_row_snaps, err));
		}
	}
	return 0;
}

static bool deletes_change(const struct dl *d, const struct dfile *f, int64_t v)
{
	/* a partial file's rows of later snapshots are deleted until then */
	if (f->n_row_snaps && ((v == f->begin && f->row_snaps[f->n_row_snaps - 1] > v) ||
			       has(f->row_snaps, f->n_row_snaps, v)))
		return true;
	for (size_t i = f->del0; i < f->del0 + f->n_del; i++) {
		const struct delfile *df = &d->dels[i];
		if (df->begin == v || df->end == v ||
		    (live(df->begin, df->end, v) && has(df->snaps, df->n_snaps, v)))
			return true;
	}
	for (size_t i = f->inl0; i < f->inl0 + f->n_inl; i++)
		if (d->inl[i].begin == v)
			return true;
	return false;
}

/* The rows of f deleted as of v, when that set changed at v: 1 and *out
 * filled; 0 when it did not change. */
static int deletes_at(struct dl *d, const struct dfile *f, int64_t v,
		      struct firn_import_deletes *out, struct firn_error *err)
{
	if (!deletes_change(d, f, v))
		return 0;
	struct posvec p = { 0 };
	int rc = 0;
	for (size_t i = f->del0; rc == 0 && i < f->del0 + f->n_del; i++) {
		const struct delfile *df = &d->dels[i];
		if (!live(df->begin, df->end, v))
			continue;
		for (size_t k = 0; rc == 0 && k < df->n; k++)
			if (df->snap[k] <= v && push(&p, df->pos[k]) != 0)
				rc = oom(err);
	}
	for (size_t i = f->inl0; rc == 0 && i < f->inl0 + f->n_inl; i++)
		if (d->inl[i].begin <= v && push(&p, d->inl[i].row) != 0)
			rc = oom(err);
	for (size_t k = 0; rc == 0 && k < f->n_rows; k++)
		if (f->row_snap[k] > v && push(&p, (int64_t)k) != 0)
			rc = oom(err);
	int64_t *pos = NULL;
	size_t n = 0;
	if (rc == 0 && p.n > 0) {
		qsort(p.v, p.n, sizeof(int64_t), cmp_i64);
		pos = firn_arena_alloc(&d->a, p.n * sizeof(int64_t));
		if (!pos)
			rc = oom(err);
		for (size_t i = 0; rc == 0 && i < p.n; i++)
			if (n == 0 || pos[n - 1] != p.v[i])
				pos[n++] = p.v[i];
	}
	firn_free(p.v);
	if (rc != 0)
		return rc;
	out->data_file = f->location;
	out->positions = pos;
	out->n = n;
	return 1;
}

/* ---- the plan ----------------------------------------------------------- */

static int add_event(int64_t **ev, size_t *n, size_t *cap, int64_t v)
{
	if (v == NONE)
		return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		int64_t *ne = firn_realloc(*ev, c * sizeof(int64_t));
		if (!ne)
			return FIRN_ENOMEM;
		*ev = ne;
		*cap = c;
	}
	(*ev)[(*n)++] = v;
	return 0;
}

/* The snapshots that changed the table, ascending, after `after`. */
static int versions(struct dl *d, int64_t after, int64_t **out, size_t *n_out,
		    struct firn_error *err)
{
	int64_t *ev = NULL;
	size_t n = 0, cap = 0;
	int rc = add_event(&ev, &n, &cap, d->table_begin);
	if (rc == 0 && d->partition_id >= 0)
		rc = add_event(&ev, &n, &cap, d->partition_begin);
	for (size_t i = 0; rc == 0 && i < d->n_cols; i++)
		rc = add_event(&ev, &n, &cap, d->cols[i].begin) ||
		     add_event(&ev, &n, &cap, d->cols[i].end);
	for (size_t i = 0; rc == 0 && i < d->n_files; i++)
		rc = add_event(&ev, &n, &cap, d->files[i].begin) ||
		     add_event(&ev, &n, &cap, d->files[i].end);
	for (size_t i = 0; rc == 0 && i < d->n_dels; i++)
		rc = add_event(&ev, &n, &cap, d->dels[i].begin) ||
		     add_event(&ev, &n, &cap, d->dels[i].end);
	for (size_t i = 0; rc == 0 && i < d->n_dels; i++)
		for (size_t k = 0; rc == 0 && k < d->dels[i].n_snaps; k++)
			rc = add_event(&ev, &n, &cap, d->dels[i].snaps[k]);
	for (size_t i = 0; rc == 0 && i < d->n_inl; i++)
		rc = add_event(&ev, &n, &cap, d->inl[i].begin);
	for (size_t i = 0; rc == 0 && i < d->n_files; i++)
		for (size_t k = 0; rc == 0 && k < d->files[i].n_row_snaps; k++)
			rc = add_event(&ev, &n, &cap, d->files[i].row_snaps[k]);
	if (rc != 0) {
		firn_free(ev);
		return oom(err);
	}
	qsort(ev, n, sizeof(int64_t), cmp_i64);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i] > after && ev[i] >= d->table_begin && (m == 0 || ev[m - 1] != ev[i]))
			ev[m++] = ev[i];
	*out = ev;
	*n_out = m;
	return 0;
}

/* The time of snapshot id; of the next snapshot left when DuckLake has
 * expired it (files of expired snapshots that are still live keep their
 * begin_snapshot). */
static int64_t snapshot_ms(const struct dl *d, int64_t id)
{
	size_t lo = 0, hi = d->n_snaps;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->snaps[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n_snaps ? d->snaps[lo].ms : 0;
}

static int build_version(struct dl *d, int64_t v, const char **prev_schema,
			 struct firn_import_version *out, struct firn_error *err)
{
	out->id = v;
	out->timestamp_ms = snapshot_ms(d, v);
	const char *schema;
	int rc = schema_at(d, v, &schema, err);
	if (rc != 0)
		return rc;
	out->schema = *prev_schema && strcmp(*prev_schema, schema) == 0 ? NULL : schema;
	*prev_schema = schema;
	size_t na = 0, nr = 0, nd = 0;
	for (size_t i = 0; i < d->n_files; i++) {
		const struct dfile *f = &d->files[i];
		na += f->begin == v && f->end != v;
		nr += f->end == v && f->begin != v;
		nd += live(f->begin, f->end, v);
	}
	struct firn_import_file *added = firn_arena_alloc(&d->a, sizeof(*added) * (na + 1));
	const char **removed = firn_arena_alloc(&d->a, sizeof(char *) * (nr + 1));
	struct firn_import_deletes *dels = firn_arena_alloc(&d->a, sizeof(*dels) * (nd + 1));
	char *tag = firn_arena_alloc(&d->a, 48);
	if (!added || !removed || !dels || !tag)
		return oom(err);
	snprintf(tag, 48, "ducklake-snapshot-%" PRId64, v);
	out->tag = tag;
	na = nr = nd = 0;
	for (size_t i = 0; i < d->n_files; i++) {
		const struct dfile *f = &d->files[i];
		if (f->begin == v && f->end != v) {
			added[na].location = f->location;
			added[na].size = f->size;
			added[na].records = f->records;
			added[na].partition = f->partition;
			na++;
		}
		if (f->end == v && f->begin != v)
			removed[nr++] = f->location;
		if (live(f->begin, f->end, v)) {
			rc = deletes_at(d, f, v, &dels[nd], err);
			if (rc < 0)
				return rc;
			nd += (size_t)rc;
		}
	}
	out->added = added;
	out->n_added = na;
	out->removed = removed;
	out->n_removed = nr;
	out->deletes = dels;
	out->n_deletes = nd;
	return 0;
}

/* Files DuckLake wrote after snapshot `after` but dated at or before it
 * (ducklake_merge_adjacent_files, a flush of inlined rows) replace files
 * an earlier import adopted: a table imported up to `after` no longer
 * matches the catalog's history. Rewritten delete files are no matter:
 * firn keeps its own deletes, and the positions per snapshot stay. */
static int check_history_kept(struct dl *d, int64_t after, struct firn_error *err)
{
	char v[24];
	snprintf(v, sizeof(v), "%" PRId64, after);
	const char *p[] = { v };
	struct sql_rows r = { 0 };
	int rc = q(d, "SELECT next_file_id FROM ducklake_snapshot WHERE snapshot_id = $1", p, 1, &r,
		   err);
	int64_t next = -1;
	if (rc == 0 && r.n_rows == 1)
		rc = int_cell(d, &r, 0, 0, -1, &next, err);
	firn_sql__rows_free(&r);
	if (rc != 0 || next < 0)
		return rc; /* snapshot expired: nothing to compare with */
	for (size_t i = 0; i < d->n_files; i++)
		if (d->files[i].id >= next && d->files[i].begin <= after && d->files[i].end > after)
			return firn_error_set(err, FIRN_EUNSUPPORTED,
					      "%s: DuckLake rewrote files of snapshots already imported "
					      "(%s, of snapshot %" PRId64 ", written later: a merge of "
					      "files or a flush of inlined rows); import the table anew",
					      d->uri, d->files[i].location, d->files[i].begin);
	return 0;
}

static int read_all(struct dl *d, const char *name, int64_t after, struct firn_error *err)
{
	int rc = read_metadata(d, err);
	if (rc == 0)
		rc = find_table(d, name, err);
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, d->table_id);
	if (rc == 0)
		rc = check_inlined(d, id, err);
	if (rc == 0)
		rc = read_columns(d, id, err);
	if (rc == 0)
		rc = read_files(d, id, err);
	if (rc == 0)
		rc = read_deletes(d, id, err);
	if (rc == 0)
		rc = read_inlined_deletes(d, id, err);
	if (rc == 0)
		rc = read_snapshots(d, err);
	if (rc == 0 && after >= 0)
		rc = check_history_kept(d, after, err);
	if (rc == 0)
		rc = read_partitioning(d, id, err);
	if (rc == 0)
		rc = partition_tuples(d, after, err);
	if (rc == 0)
		rc = read_delete_files(d, after, err);
	return rc;
}

int firn_ducklake__plan(const char *uri, const char *name, int64_t after_version,
			struct firn_ducklake_plan **out, struct firn_error *err)
{
	*out = NULL;
	struct firn_ducklake_plan *p = firn_calloc(1, sizeof(*p));
	if (!p)
		return oom(err);
	struct dl *d = &p->d;
	int64_t *vs = NULL;
	size_t nv = 0;
	d->uri = uri;
	int rc = dl_open(d, uri, err);
	if (rc != 0)
		d->be = NULL;
	char *pname = firn_arena_alloc(&d->a, strlen(name) + 6);
	if (pname)
		snprintf(pname, strlen(name) + 6, "%s%s", strchr(name, '.') ? "" : "main.", name);
	if (rc == 0 && !(d->name = pname))
		rc = oom(err);
	if (rc == 0)
		rc = read_all(d, name, after_version, err);
	if (rc == 0)
		rc = versions(d, after_version, &vs, &nv, err);
	struct firn_import_version *v = NULL;
	if (rc == 0 && !(v = firn_arena_alloc(&d->a, sizeof(*v) * (nv + 1))))
		rc = oom(err);
	const char *prev = NULL;
	if (rc == 0 && after_version >= 0)
		rc = schema_at(d, after_version, &prev, err);
	for (size_t i = 0; rc == 0 && i < nv; i++)
		rc = build_version(d, vs[i], &prev, &v[i], err);
	firn_free(vs);
	if (rc == 0) {
		size_t len = strlen(uri) + strlen(name) + 2;
		char *src = firn_arena_alloc(&d->a, len);
		if (src)
			snprintf(src, len, "%s %s", uri, name);
		p->plan.format = "ducklake";
		p->plan.source = src;
		p->plan.partition_spec = d->n_keys ? spec_json(d, err) : NULL;
		p->plan.versions = v;
		p->plan.n_versions = nv;
		if (!src || (d->n_keys && !p->plan.partition_spec))
			rc = oom(err);
	}
	if (d->be && d->db) {
		d->be->close(d->db);
		d->db = NULL;
	}
	if (rc != 0) {
		firn_ducklake__plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

const struct firn_import_plan *firn_ducklake__plan_get(const struct firn_ducklake_plan *p)
{
	return &p->plan;
}

void firn_ducklake__plan_free(struct firn_ducklake_plan *p)
{
	if (!p)
		return;
	if (p->d.be && p->d.db)
		p->d.be->close(p->d.db);
	firn_arena_free(&p->d.a);
	firn_free(p);
}

int firn_import_ducklake(struct firn_catalog *c, const char *catalog_uri, const char *name,
			 const char *ident, bool incremental, struct firn_import_info *info,
			 struct firn_error *err)
{
	struct firn_table *t = NULL;
	int64_t after = -1;
	int rc = 0;
	if (incremental) {
		rc = firn_table_load(c, ident, &t, err);
		if (rc == 0)
			rc = firn_table_imported_version(t, "ducklake", &after, err);
	}
	struct firn_ducklake_plan *p = NULL;
	if (rc == 0)
		rc = firn_ducklake__plan(catalog_uri, name, after, &p, err);
	if (rc == 0)
		rc = incremental ? firn_table_import_more(t, &p->plan, info, err)
				 : firn_table_import(c, ident, &p->plan, info, err);
	firn_ducklake__plan_free(p);
	firn_table_free(t);
	return rc;
}
