/* The SQL catalog: PyIceberg's SqlCatalog / Java's JdbcCatalog tables on
 * SQLite or PostgreSQL. Namespace rules follow PyIceberg's (a namespace
 * exists when a property row or a table names it or one below it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/rest_private.h"
#include "catalog/sql_private.h"
#include "iceberg/ice_catalog.h"
#include "firn/util.h"
#include "io/io_local.h"
#include "util/alloc.h"

struct sql_catalog {
	const struct sql_backend *be;
	void *db;
	char *warehouse;
	char *name;
	bool has_type; /* iceberg_type column (PyIceberg's "v1" schema) */
};

void firn_sql__rows_free(struct sql_rows *r)
{
	if (!r || !r->cells)
		return;
	for (int i = 0; i < r->n_rows * r->n_cols; i++)
		firn_free(r->cells[i]);
	firn_free(r->cells);
	memset(r, 0, sizeof(*r));
}

static int exec(struct sql_catalog *c, const char *sql, const char *const *p, int n,
		struct sql_rows *rows, int64_t *changes, struct firn_error *err)
{
	return c->be->exec(c->db, sql, p, n, rows, changes, err);
}

static const char *DDL_TABLES =
	"CREATE TABLE IF NOT EXISTS iceberg_tables ("
	"catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, "
	"table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), "
	"previous_metadata_location VARCHAR(1000), iceberg_type VARCHAR(5), "
	"PRIMARY KEY (catalog_name, table_namespace, table_name))";
static const char *DDL_PROPS =
	"CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
	"catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, "
	"property_key VARCHAR(255) NOT NULL, property_value VARCHAR(1000) NOT NULL, "
	"PRIMARY KEY (catalog_name, namespace, property_key))";

/* Creates the catalog tables when missing (not in read mode) and checks
 * that the database has them with the columns firn uses. Only a database
 * that lacks them is "not an Iceberg SQL catalog": an error reading it
 * (permissions, locks, a damaged file) is passed on as it is. */
static int setup(struct sql_catalog *c, const char *where, enum firn_catalog_mode mode,
		 struct firn_error *err)
{
	struct firn_error e = { 0 };
	int rc = 0;
	if (mode != FIRN_CATALOG_READ) {
		rc = exec(c, DDL_TABLES, NULL, 0, NULL, NULL, &e);
		if (rc == 0)
			rc = exec(c, DDL_PROPS, NULL, 0, NULL, NULL, &e);
	}
	if (rc == 0)
		rc = exec(c, "SELECT catalog_name, table_namespace, table_name, metadata_location, "
			     "previous_metadata_location FROM iceberg_tables LIMIT 0", NULL, 0, NULL, NULL, &e);
	if (rc == 0)
		rc = exec(c, "SELECT catalog_name, namespace, property_key, property_value "
			     "FROM iceberg_namespace_properties LIMIT 0", NULL, 0, NULL, NULL, &e);
	if (rc == FIRN_EINVAL && strncmp(e.message, "catalog: ", 9) == 0)
		return firn_error_set(err, FIRN_EINVAL, "%s: not an Iceberg SQL catalog (%s)", where, e.message + 9);
	if (rc != 0) {
		if (err)
			*err = e;
		return rc;
	}
	c->has_type = exec(c, "SELECT iceberg_type FROM iceberg_tables LIMIT 0", NULL, 0, NULL, NULL, NULL) == 0;
	return 0;
}

static void sql_free(void *self)
{
	struct sql_catalog *c = self;
	if (!c)
		return;
	if (c->be && c->db)
		c->be->close(c->db);
	firn_free(c->warehouse);
	firn_free(c->name);
	firn_free(c);
}

static const struct firn_ice_catalog_ops sql_ops;

int firn_catalog_open(struct firn_catalog **out, const char *uri, const char *warehouse,
		      const char *name, struct firn_error *err)
{
	return firn_catalog_open_with(out, uri, warehouse, name, NULL, err);
}

int firn_catalog_open_with(struct firn_catalog **out, const char *uri, const char *warehouse,
			   const char *name, const struct firn_catalog_options *opts,
			   struct firn_error *err)
{
	static const struct firn_catalog_options defaults = FIRN_CATALOG_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	*out = NULL;
	if (name && !*name)
		return firn_error_set(err, FIRN_EINVAL, "the catalog name is empty");
	if (uri && (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0))
		return firn_rest__open(out, uri, warehouse, name, opts->version >= 2 ? opts->token : NULL,
				       opts->version >= 2 ? opts->credential : NULL, err);
	struct sql_catalog *c = firn_calloc(1, sizeof(*c));
	if (!c)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	c->warehouse = firn_strdup(warehouse ? warehouse : "warehouse");
	c->name = firn_strdup(name ? name : "default");
	char *path = NULL;
	int rc;
	const char *where = uri;
	if (!c->warehouse || !c->name) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	} else if (!uri || !*uri || strncmp(uri, "sqlite://", 9) == 0) {
		c->be = &firn_sql__sqlite;
		if (!uri || !*uri) {
			/* only a command that creates may create the warehouse */
			if (opts->mode == FIRN_CATALOG_CREATE && (rc = firn_io__mkdirs(c->warehouse, err)) != 0)
				goto fail;
			struct firn_buf b = { 0 };
			firn_buf_printf(&b, "%s/catalog.db", c->warehouse);
			firn_buf_cstr(&b);
			path = (char *)firn_buf_detach(&b, NULL);
		} else {
			path = firn_strdup(uri + 9); /* sqlite:///abs → /abs, sqlite://rel → rel */
		}
		where = path;
		rc = path ? firn_sql__sqlite_open(&c->db, path, opts, err)
			  : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	} else if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
		c->be = &firn_sql__pg;
		rc = firn_sql__pg_open(&c->db, uri, err);
	} else {
		rc = firn_error_set(err, FIRN_EINVAL,
				    "catalog '%s': use sqlite:///PATH, postgresql://... or http(s)://HOST:PORT (REST)", uri);
	}
	if (rc == 0)
		rc = setup(c, where, opts->mode, err);
	firn_free(path);
	if (rc != 0)
		goto fail;
	return firn_ice__catalog_new(&sql_ops, c, c->warehouse, c->name, out, err);
fail:
	sql_free(c);
	return rc;
}

/* LIKE pattern "ns.%" with '!' escaping, as PyIceberg writes it. */
static char *below(const char *ns)
{
	struct firn_buf b = { 0 };
	for (const char *p = ns; *p; p++) {
		if (*p == '!' || *p == '_' || *p == '%')
			firn_buf_putc(&b, '!');
		firn_buf_putc(&b, (uint8_t)*p);
	}
	firn_buf_puts(&b, ".%");
	firn_buf_cstr(&b);
	return (char *)firn_buf_detach(&b, NULL);
}

static bool valid_ns(const char *ns)
{
	if (!ns || !*ns || ns[0] == '.' || ns[strlen(ns) - 1] == '.' || strstr(ns, ".."))
		return false;
	return true;
}

static int sql_namespace_exists(void *self, const char *ns, struct firn_error *err)
{
	struct sql_catalog *c = self;
	if (!valid_ns(ns))
		return firn_error_set(err, FIRN_EINVAL, "'%s' is not a namespace name", ns ? ns : "");
	char *like = below(ns);
	const char *p[] = { c->name, ns, like };
	struct sql_rows r;
	int rc = exec(c, "SELECT 1 FROM iceberg_tables WHERE catalog_name = $1 AND "
			 "(table_namespace = $2 OR table_namespace LIKE $3 ESCAPE '!') "
			 "UNION ALL SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = $1 AND "
			 "(namespace = $2 OR namespace LIKE $3 ESCAPE '!') LIMIT 1", p, 3, &r, NULL, err);
	firn_free(like);
	if (rc != 0)
		return rc;
	int found = r.n_rows > 0;
	firn_sql__rows_free(&r);
	return found;
}

static int sql_namespace_create(void *self, const char *ns,
				  const char *const *keys, const char *const *values, size_t n,
				  struct firn_error *err)
{
	struct sql_catalog *c = self;
	int rc = sql_namespace_exists(c, ns, err);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return firn_error_set(err, FIRN_EEXISTS, "namespace %s already exists", ns);
	FIRN_TRY(exec(c, c->be->begin_write, NULL, 0, NULL, NULL, err));
	rc = 0;
	if (n == 0) {
		const char *p[] = { c->name, ns, "exists", "true" };
		rc = exec(c, "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, "
			     "property_value) VALUES ($1, $2, $3, $4)", p, 4, NULL, NULL, err);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *p[] = { c->name, ns, keys[i], values[i] };
		rc = exec(c, "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, "
			     "property_value) VALUES ($1, $2, $3, $4)", p, 4, NULL, NULL, err);
	}
	if (rc == FIRN_EEXISTS)
		firn_error_set(err, FIRN_EEXISTS, "namespace %s already exists", ns);
	exec(c, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, 0, NULL, NULL, NULL);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sql_namespace_list(void *self, const char *parent, char ***out,
				size_t *n, struct firn_error *err)
{
	struct sql_catalog *c = self;
	*out = NULL;
	*n = 0;
	if (parent) {
		int e = sql_namespace_exists(c, parent, err);
		if (e < 0)
			return e;
		if (e == 0)
			return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", parent);
	}
	const char *p[] = { c->name };
	struct sql_rows r;
	FIRN_TRY(exec(c, "SELECT table_namespace FROM iceberg_tables WHERE catalog_name = $1 UNION "
			 "SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = $1",
		      p, 1, &r, NULL, err));
	char **v = firn_calloc((size_t)r.n_rows + 1, sizeof(char *));
	size_t count = 0;
	size_t plen = parent ? strlen(parent) : 0;
	for (int i = 0; v && i < r.n_rows; i++) {
		const char *ns = r.cells[i * r.n_cols];
		if (!ns)
			continue;
		const char *rest = ns;
		if (parent) {
			if (strncmp(ns, parent, plen) != 0 || ns[plen] != '.')
				continue;
			rest = ns + plen + 1;
		}
		const char *dot = strchr(rest, '.');
		size_t len = (size_t)((dot ? dot : rest + strlen(rest)) - ns);
		char *name = firn_strndup(ns, len);
		bool dup = false;
		for (size_t k = 0; k < count && !dup; k++)
			dup = strcmp(v[k], name) == 0;
		if (dup)
			firn_free(name);
		else
			v[count++] = name;
	}
	firn_sql__rows_free(&r);
	if (!v)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	qsort(v, count, sizeof(char *), cmp_str);
	*out = v;
	*n = count;
	return 0;
}

static int sql_namespace_properties(void *self, const char *ns, char ***keys,
				      char ***values, size_t *n, struct firn_error *err)
{
	struct sql_catalog *c = self;
	*keys = *values = NULL;
	*n = 0;
	int e = sql_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
	const char *p[] = { c->name, ns };
	struct sql_rows r;
	FIRN_TRY(exec(c, "SELECT property_key, property_value FROM iceberg_namespace_properties "
			 "WHERE catalog_name = $1 AND namespace = $2 AND property_key <> 'exists' "
			 "ORDER BY property_key", p, 2, &r, NULL, err));
	*keys = firn_calloc((size_t)r.n_rows + 1, sizeof(char *));
	*values = firn_calloc((size_t)r.n_rows + 1, sizeof(char *));
	for (int i = 0; *keys && *values && i < r.n_rows; i++) {
		(*keys)[i] = firn_strdup(r.cells[i * 2] ? r.cells[i * 2] : "");
		(*values)[i] = firn_strdup(r.cells[i * 2 + 1] ? r.cells[i * 2 + 1] : "");
		(*n)++;
	}
	firn_sql__rows_free(&r);
	return 0;
}

static int sql_namespace_update(void *self, const char *ns,
				  const char *const *set_keys, const char *const *set_values,
				  size_t n_set, const char *const *remove_keys, size_t n_remove,
				  struct firn_error *err)
{
	struct sql_catalog *c = self;
	int e = sql_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
	FIRN_TRY(exec(c, c->be->begin_write, NULL, 0, NULL, NULL, err));
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n_remove; i++) {
		const char *p[] = { c->name, ns, remove_keys[i] };
		rc = exec(c, "DELETE FROM iceberg_namespace_properties WHERE catalog_name = $1 AND "
			     "namespace = $2 AND property_key = $3", p, 3, NULL, NULL, err);
	}
	for (size_t i = 0; rc == 0 && i < n_set; i++) {
		const char *p[] = { c->name, ns, set_keys[i], set_values[i] };
		rc = exec(c, "DELETE FROM iceberg_namespace_properties WHERE catalog_name = $1 AND "
			     "namespace = $2 AND property_key = $3", p, 3, NULL, NULL, err);
		if (rc == 0)
			rc = exec(c, "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, "
				     "property_key, property_value) VALUES ($1, $2, $3, $4)", p, 4, NULL, NULL, err);
	}
	exec(c, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, 0, NULL, NULL, NULL);
	return rc;
}

static int sql_namespace_drop(void *self, const char *ns, struct firn_error *err)
{
	struct sql_catalog *c = self;
	int e = sql_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
	char *like = below(ns);
	const char *p[] = { c->name, ns, like };
	struct sql_rows r;
	int rc = exec(c, "SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = $1 "
			 "AND (table_namespace = $2 OR table_namespace LIKE $3 ESCAPE '!') LIMIT 1",
		      p, 3, &r, NULL, err);
	firn_free(like);
	if (rc != 0)
		return rc;
	if (r.n_rows > 0) {
		rc = firn_error_set(err, FIRN_EINVAL, "namespace %s is not empty: it has table %s.%s", ns,
				    r.cells[0], r.cells[1]);
		firn_sql__rows_free(&r);
		return rc;
	}
	return exec(c, "DELETE FROM iceberg_namespace_properties WHERE catalog_name = $1 AND namespace = $2",
		    p, 2, NULL, NULL, err);
}

static const char *type_filter(const struct sql_catalog *c)
{
	return c->has_type ? " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)" : "";
}

/* 1 when ns.name is a view (a row of iceberg_type 'VIEW'), 0 if not. */
static int is_view(struct sql_catalog *c, const char *ns, const char *name, struct firn_error *err)
{
	if (!c->has_type)
		return 0;
	const char *p[] = { c->name, ns, name };
	struct sql_rows r;
	FIRN_TRY(exec(c, "SELECT 1 FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 "
			 "AND table_name = $3 AND iceberg_type = 'VIEW'", p, 3, &r, NULL, err));
	int found = r.n_rows > 0;
	firn_sql__rows_free(&r);
	return found;
}

/* A table may not take a view's name (Java's message, which clients match). */
static int view_clash(struct sql_catalog *c, const char *ns, const char *name,
		      struct firn_error *err)
{
	int v = is_view(c, ns, name, err);
	if (v > 0)
		return firn_error_set(err, FIRN_EEXISTS, "View with same name already exists: %s.%s", ns,
				      name);
	return v;
}

static int location_of(struct sql_catalog *c, const char *ns, const char *name,
		       char **metadata_location, struct firn_error *err)
{
	*metadata_location = NULL;
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 "
				   "AND table_namespace = $2 AND table_name = $3%s", type_filter(c));
	const char *p[] = { c->name, ns, name };
	struct sql_rows r;
	FIRN_TRY(exec(c, sql, p, 3, &r, NULL, err));
	int rc = 0;
	if (r.n_rows == 0 || !r.cells[0])
		rc = firn_error_set(err, FIRN_ENOTFOUND, "table %s.%s does not exist", ns, name);
	else if (!(*metadata_location = firn_strdup(r.cells[0])))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_sql__rows_free(&r);
	return rc;
}

static int insert_row(struct sql_catalog *c, const char *ns, const char *name,
		      const char *metadata_location, struct firn_error *err)
{
	int e = sql_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
	FIRN_TRY(view_clash(c, ns, name, err));
	const char *p[] = { c->name, ns, name, metadata_location };
	int rc = exec(c, c->has_type
			     ? "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
			       "metadata_location, previous_metadata_location, iceberg_type) "
			       "VALUES ($1, $2, $3, $4, NULL, 'TABLE')"
			     : "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
			       "metadata_location, previous_metadata_location) VALUES ($1, $2, $3, $4, NULL)",
		      p, 4, NULL, NULL, err);
	if (rc == FIRN_EEXISTS)
		return firn_error_set(err, FIRN_EEXISTS, "table %s.%s already exists", ns, name);
	return rc;
}

/* The commit point: one UPDATE ... WHERE metadata_location = expected,
 * its row count checked. */
static int swap(struct sql_catalog *c, const char *ns, const char *name, const char *expected,
		const char *new_location, struct firn_error *err)
{
	char sql[600];
	snprintf(sql, sizeof(sql),
		 "UPDATE iceberg_tables SET metadata_location = $1, previous_metadata_location = $2 "
		 "WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 "
		 "AND metadata_location = $2%s", type_filter(c));
	const char *p[] = { new_location, expected, c->name, ns, name };
	int64_t changes = 0;
	FIRN_TRY(exec(c, sql, p, 5, NULL, &changes, err));
	if (changes == 1)
		return 0;
	char *now = NULL;
	int rc = location_of(c, ns, name, &now, err);
	firn_free(now);
	if (rc == FIRN_ENOTFOUND)
		return rc;
	return firn_error_set(err, FIRN_ECONFLICT,
			      "the table changed concurrently (another writer committed first)");
}

static int delete_row(struct sql_catalog *c, const char *ns, const char *name,
		      struct firn_error *err)
{
	char sql[400];
	snprintf(sql, sizeof(sql), "DELETE FROM iceberg_tables WHERE catalog_name = $1 AND "
				   "table_namespace = $2 AND table_name = $3%s", type_filter(c));
	const char *p[] = { c->name, ns, name };
	int64_t changes = 0;
	FIRN_TRY(exec(c, sql, p, 3, NULL, &changes, err));
	if (changes == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "table %s.%s does not exist", ns, name);
	return 0;
}

static int sql_table_rename(void *self, const char *ns, const char *name,
			      const char *to_ns, const char *to_name, struct firn_error *err)
{
	struct sql_catalog *c = self;
	char *loc = NULL;
	FIRN_TRY(location_of(c, ns, name, &loc, err));
	firn_free(loc);
	int e = sql_namespace_exists(c, to_ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", to_ns);
	if ((e = is_view(c, to_ns, to_name, err)) != 0)
		return e < 0 ? e : firn_error_set(err, FIRN_EEXISTS, "Cannot rename %s.%s to %s.%s. View "
						  "already exists", ns, name, to_ns, to_name);
	char sql[400];
	snprintf(sql, sizeof(sql), "UPDATE iceberg_tables SET table_namespace = $1, table_name = $2 "
				   "WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5%s",
		 type_filter(c));
	const char *p[] = { to_ns, to_name, c->name, ns, name };
	int64_t changes = 0;
	int rc = exec(c, sql, p, 5, NULL, &changes, err);
	if (rc == FIRN_EEXISTS)
		return firn_error_set(err, FIRN_EEXISTS, "table %s.%s already exists", to_ns, to_name);
	if (rc == 0 && changes != 1)
		return firn_error_set(err, FIRN_ENOTFOUND, "table %s.%s does not exist", ns, name);
	return rc;
}

static int sql_table_list(void *self, const char *ns, char ***out, size_t *n,
			    struct firn_error *err)
{
	struct sql_catalog *c = self;
	*out = NULL;
	*n = 0;
	char sql[400];
	snprintf(sql, sizeof(sql), "SELECT table_name FROM iceberg_tables WHERE catalog_name = $1 AND "
				   "table_namespace = $2%s ORDER BY table_name", type_filter(c));
	const char *p[] = { c->name, ns };
	struct sql_rows r;
	FIRN_TRY(exec(c, sql, p, 2, &r, NULL, err));
	char **v = firn_calloc((size_t)r.n_rows + 1, sizeof(char *));
	for (int i = 0; v && i < r.n_rows; i++)
		v[(*n)++] = firn_strdup(r.cells[i] ? r.cells[i] : "");
	firn_sql__rows_free(&r);
	if (!v)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	*out = v;
	return 0;
}

static int sql_table_load(void *self, const char *ns, const char *name, char **location,
			  struct firn_ice_meta **meta, struct firn_error *err)
{
	FIRN_TRY(location_of(self, ns, name, location, err));
	if (!meta)
		return 0;
	int rc = firn_ice__meta_read(*location, meta, err);
	if (rc != 0) {
		firn_free(*location);
		*location = NULL;
	}
	return rc;
}

static int sql_table_register(void *self, const char *ns, const char *name,
			      const char *metadata_location, struct firn_error *err)
{
	return insert_row(self, ns, name, metadata_location, err);
}

static int sql_table_create(void *self, const char *ns, const char *name, const json_t *updates,
			    bool staged, struct firn_ice_meta **meta, char **location,
			    struct firn_error *err)
{
	struct sql_catalog *c = self;
	*meta = NULL;
	*location = NULL;
	char *existing = NULL;
	if (location_of(c, ns, name, &existing, NULL) == 0) {
		firn_free(existing);
		return firn_error_set(err, FIRN_EEXISTS, "table %s.%s already exists", ns, name);
	}
	FIRN_TRY(view_clash(c, ns, name, err));
	int e = sql_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
	long json_failures = firn_alloc__json_failures();
	FIRN_TRY(firn_ice__meta_build(NULL, NULL, updates, meta, err));
	int rc = 0;
	/* a JSON setter that ran out of memory dropped part of the tree */
	if (firn_alloc__json_failures() != json_failures)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	else if (staged)
		return 0;
	if (rc == 0)
		rc = firn_ice__meta_write(*meta, NULL, location, err);
	if (rc == 0 && (rc = insert_row(c, ns, name, *location, err)) != 0)
		firn_io_delete(*location, NULL);
	if (rc != 0) {
		firn_ice__meta_free(*meta);
		firn_free(*location);
		*meta = NULL;
		*location = NULL;
	}
	return rc;
}

static int sql_table_drop(void *self, const char *ns, const char *name, bool purge,
			  struct firn_purge_info *info, struct firn_error *err)
{
	struct sql_catalog *c = self;
	struct firn_ice_meta *m = NULL;
	char *loc = NULL;
	if (purge)
		FIRN_TRY(sql_table_load(c, ns, name, &loc, &m, err));
	int rc = delete_row(c, ns, name, err);
	if (rc == 0 && m)
		rc = firn_ice__purge(m, loc, info, err);
	firn_ice__meta_free(m);
	firn_free(loc);
	return rc;
}

/* The table's current metadata: the base the commit was computed from
 * when the table still points at it (no second read), else read now. A
 * table that does not exist is cur NULL for a commit that asserts create. */
static int current(struct sql_catalog *c, const struct firn_ice_commit *cm, char **loc,
		   struct firn_ice_meta **cur, bool *borrowed, struct firn_error *err)
{
	*cur = NULL;
	*borrowed = false;
	int rc = location_of(c, cm->ns, cm->name, loc, err);
	if (rc == FIRN_ENOTFOUND && firn_ice__change_creates(cm->change))
		return 0;
	FIRN_TRY(rc);
	if (cm->base && cm->base_location && strcmp(cm->base_location, *loc) == 0) {
		*cur = (struct firn_ice_meta *)cm->base;
		*borrowed = true;
		return 0;
	}
	rc = firn_ice__meta_read(*loc, cur, err);
	if (rc != 0) {
		firn_free(*loc);
		*loc = NULL;
	}
	return rc;
}

/* Checks, builds and writes one table's new metadata (not yet current). */
static int prepare(struct sql_catalog *c, struct firn_ice_commit *cm, char **loc,
		   struct firn_error *err)
{
	struct firn_ice_meta *cur = NULL;
	bool borrowed;
	FIRN_TRY(current(c, cm, loc, &cur, &borrowed, err));
	int rc = firn_ice__commit_prepare(cur, *loc, cm, err);
	if (!borrowed)
		firn_ice__meta_free(cur);
	if (rc != 0) {
		firn_free(*loc);
		*loc = NULL;
	}
	return rc;
}

/* Makes a prepared commit current: a new row for a create, else the swap. */
static int publish(struct sql_catalog *c, struct firn_ice_commit *cm, const char *loc,
		   struct firn_error *err)
{
	if (!loc) {
		FIRN_TRY(view_clash(c, cm->ns, cm->name, err));
		int rc = insert_row(c, cm->ns, cm->name, cm->location, err);
		return rc == FIRN_EEXISTS ? firn_error_set(err, FIRN_ECONFLICT, "requirement failed: "
							   "table %s.%s was created concurrently",
							   cm->ns, cm->name)
					  : rc;
	}
	return swap(c, cm->ns, cm->name, loc, cm->location, err);
}

static int sql_commit_table(void *self, struct firn_ice_commit *cm, struct firn_error *err)
{
	struct sql_catalog *c = self;
	char *loc = NULL;
	FIRN_TRY(prepare(c, cm, &loc, err));
	firn_io__crash_point("before-swap");
	int rc = publish(c, cm, loc, err);
	if (rc == 0)
		firn_io__crash_point("after-swap");
	/* a failed swap whose outcome the database cannot tell (an I/O error)
	 * may have happened: then the file stays (remove-orphans). Out of
	 * memory is firn's own, before the statement ran or after it changed
	 * nothing (exec copies no rows for these). */
	if (rc == FIRN_ECONFLICT || rc == FIRN_ENOTFOUND || rc == FIRN_EEXISTS || rc == FIRN_ENOMEM)
		firn_ice__commit_discard(cm);
	else if (rc != 0) {
		firn_ice__meta_free(cm->meta);
		firn_free(cm->location);
		cm->meta = NULL;
		cm->location = NULL;
	}
	firn_free(loc);
	return rc;
}

static int sql_commit_transaction(void *self, struct firn_ice_commit *v, size_t n,
				  struct firn_error *err)
{
	struct sql_catalog *c = self;
	char **locs = firn_calloc(n + 1, sizeof(char *));
	if (!locs)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = prepare(c, &v[i], &locs[i], err);
	if (rc == 0)
		rc = exec(c, c->be->begin_write, NULL, 0, NULL, NULL, err);
	if (rc == 0) {
		firn_io__crash_point("before-swap");
		for (size_t i = 0; rc == 0 && i < n; i++) {
			rc = publish(c, &v[i], locs[i], err);
			if (rc == 0 && i == 0 && n > 1)
				firn_io__crash_point("mid-transaction");
		}
		if (rc == 0)
			rc = exec(c, "COMMIT", NULL, 0, NULL, NULL, err);
		/* also after a failed COMMIT, which may leave the transaction
		 * open: a later COMMIT must not publish pointers to the files
		 * discarded below */
		if (rc != 0)
			exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
		if (rc == 0)
			firn_io__crash_point("after-swap");
	}
	for (size_t i = 0; i < n; i++) {
		if (rc != 0) /* nothing moved: the new files are no one's */
			firn_ice__commit_discard(&v[i]);
		firn_free(locs[i]);
	}
	firn_free(locs);
	return rc;
}

/* ---- views: rows of iceberg_type 'VIEW' (Java's JdbcCatalog) --------- */

static int views_need_type(const struct sql_catalog *c, struct firn_error *err)
{
	if (c->has_type)
		return 0;
	return firn_error_set(err, FIRN_EUNSUPPORTED, "views need the iceberg_type column, which "
			      "this catalog's iceberg_tables lacks");
}

static int sql_view_list(void *self, const char *ns, char ***out, size_t *n,
			 struct firn_error *err)
{
	struct sql_catalog *c = self;
	*out = NULL;
	*n = 0;
	if (!c->has_type) /* no column: no views */
		return (*out = firn_calloc(1, sizeof(char *))) ? 0 : firn_error_set(err, FIRN_ENOMEM,
										 "out of memory");
	const char *p[] = { c->name, ns };
	struct sql_rows r;
	FIRN_TRY(exec(c, "SELECT table_name FROM iceberg_tables WHERE catalog_name = $1 AND "
			 "table_namespace = $2 AND iceberg_type = 'VIEW' ORDER BY table_name", p, 2, &r,
		      NULL, err));
	char **v = firn_calloc((size_t)r.n_rows + 1, sizeof(char *));
	for (int i = 0; v && i < r.n_rows; i++)
		v[(*n)++] = firn_strdup(r.cells[i] ? r.cells[i] : "");
	firn_sql__rows_free(&r);
	if (!v)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	*out = v;
	return 0;
}

static int sql_view_load(void *self, const char *ns, const char *name, char **location,
			 struct firn_error *err)
{
	struct sql_catalog *c = self;
	*location = NULL;
	if (!c->has_type)
		return firn_error_set(err, FIRN_ENOTFOUND, "View does not exist: %s.%s", ns, name);
	const char *p[] = { c->name, ns, name };
	struct sql_rows r;
	FIRN_TRY(exec(c, "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND "
			 "table_namespace = $2 AND table_name = $3 AND iceberg_type = 'VIEW'", p, 3, &r,
		      NULL, err));
	int rc = 0;
	if (r.n_rows == 0 || !r.cells[0])
		rc = firn_error_set(err, FIRN_ENOTFOUND, "View does not exist: %s.%s", ns, name);
	else if (!(*location = firn_strdup(r.cells[0])))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_sql__rows_free(&r);
	return rc;
}

static int sql_view_create(void *self, const char *ns, const char *name,
			   const char *metadata_location, struct firn_error *err)
{
	struct sql_catalog *c = self;
	FIRN_TRY(views_need_type(c, err));
	int e = sql_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "Namespace does not exist: %s", ns);
	if ((e = is_view(c, ns, name, err)) != 0)
		return e < 0 ? e : firn_error_set(err, FIRN_EEXISTS, "View already exists: %s.%s", ns,
						  name);
	const char *p[] = { c->name, ns, name, metadata_location };
	int rc = exec(c, "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
			 "metadata_location, previous_metadata_location, iceberg_type) "
			 "VALUES ($1, $2, $3, $4, NULL, 'VIEW')", p, 4, NULL, NULL, err);
	if (rc != FIRN_EEXISTS)
		return rc;
	/* the name is taken: by a table, or by a view made meanwhile */
	e = is_view(c, ns, name, err);
	if (e < 0)
		return e;
	return firn_error_set(err, FIRN_EEXISTS, e ? "View already exists: %s.%s"
						   : "Table with same name already exists: %s.%s", ns, name);
}

static int sql_view_swap(void *self, const char *ns, const char *name, const char *expected,
			 const char *location, struct firn_error *err)
{
	struct sql_catalog *c = self;
	FIRN_TRY(views_need_type(c, err));
	const char *p[] = { location, expected, c->name, ns, name };
	int64_t changes = 0;
	FIRN_TRY(exec(c, "UPDATE iceberg_tables SET metadata_location = $1, previous_metadata_location = $2 "
			 "WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 "
			 "AND metadata_location = $2 AND iceberg_type = 'VIEW'", p, 5, NULL, &changes, err));
	if (changes == 1)
		return 0;
	char *now = NULL;
	int rc = sql_view_load(c, ns, name, &now, err);
	firn_free(now);
	if (rc != 0)
		return rc;
	return firn_error_set(err, FIRN_ECONFLICT, "Cannot commit %s.%s: the view changed "
			      "concurrently (another writer committed first)", ns, name);
}

static int sql_view_drop(void *self, const char *ns, const char *name, struct firn_error *err)
{
	struct sql_catalog *c = self;
	int64_t changes = 0;
	const char *p[] = { c->name, ns, name };
	if (c->has_type)
		FIRN_TRY(exec(c, "DELETE FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 "
				 "AND table_name = $3 AND iceberg_type = 'VIEW'", p, 3, NULL, &changes, err));
	if (changes == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "View does not exist: %s.%s", ns, name);
	return 0;
}

static int sql_view_rename(void *self, const char *ns, const char *name, const char *to_ns,
			   const char *to_name, struct firn_error *err)
{
	struct sql_catalog *c = self;
	char *loc = NULL;
	FIRN_TRY(sql_view_load(c, ns, name, &loc, err));
	firn_free(loc);
	int e = sql_namespace_exists(c, to_ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "Namespace does not exist: %s", to_ns);
	const char *p[] = { to_ns, to_name, c->name, ns, name };
	int64_t changes = 0;
	int rc = exec(c, "UPDATE iceberg_tables SET table_namespace = $1, table_name = $2 "
			 "WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 "
			 "AND iceberg_type = 'VIEW'", p, 5, NULL, &changes, err);
	if (rc == FIRN_EEXISTS) {
		e = is_view(c, to_ns, to_name, err);
		if (e < 0)
			return e;
		return firn_error_set(err, FIRN_EEXISTS, "Cannot rename %s.%s to %s.%s. %s already exists",
				      ns, name, to_ns, to_name, e ? "View" : "Table");
	}
	if (rc == 0 && changes != 1)
		return firn_error_set(err, FIRN_ENOTFOUND, "View does not exist: %s.%s", ns, name);
	return rc;
}

static const struct firn_ice_catalog_ops sql_ops = {
	.version = FIRN_ICE_CATALOG_OPS_VERSION,
	.kind = "sql",
	.free = sql_free,
	.namespace_create = sql_namespace_create,
	.namespace_exists = sql_namespace_exists,
	.namespace_list = sql_namespace_list,
	.namespace_properties = sql_namespace_properties,
	.namespace_update = sql_namespace_update,
	.namespace_drop = sql_namespace_drop,
	.table_list = sql_table_list,
	.table_load = sql_table_load,
	.table_create = sql_table_create,
	.table_register = sql_table_register,
	.table_drop = sql_table_drop,
	.table_rename = sql_table_rename,
	.commit_table = sql_commit_table,
	.commit_transaction = sql_commit_transaction,
	.view_list = sql_view_list,
	.view_load = sql_view_load,
	.view_create = sql_view_create,
	.view_swap = sql_view_swap,
	.view_drop = sql_view_drop,
	.view_rename = sql_view_rename,
};
