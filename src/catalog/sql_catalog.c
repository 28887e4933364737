/* The SQL catalog: PyIceberg's SqlCatalog / Java's JdbcCatalog tables on
 * SQLite or PostgreSQL. Namespace rules follow PyIceberg's (a namespace
 * exists when a property row or a table names it or one below it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/sql_private.h"
#include "firn/util.h"
#include "io/io_local.h"

struct firn_catalog {
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

static int exec(struct firn_catalog *c, const char *sql, const char *const *p, int n,
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
static int setup(struct firn_catalog *c, const char *where, enum firn_catalog_mode mode,
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
	struct firn_catalog *c = firn_calloc(1, sizeof(*c));
	if (!c)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	c->warehouse = firn_strdup(warehouse ? warehouse : "warehouse");
	c->name = firn_strdup(name ? name : "default");
	char *path = NULL;
	int rc;
	const char *where = uri;
	if (!c->warehouse || !c->name) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if (!uri || !*uri || strncmp(uri, "sqlite://", 9) == 0) {
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
				    "catalog '%s': use sqlite:///PATH or postgresql://... (REST comes later)", uri);
	}
	if (rc == 0)
		rc = setup(c, where, opts->mode, err);
	firn_free(path);
	if (rc != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	firn_catalog_free(c);
	return rc;
}

void firn_catalog_free(struct firn_catalog *c)
{
	if (!c)
		return;
	if (c->be && c->db)
		c->be->close(c->db);
	firn_free(c->warehouse);
	firn_free(c->name);
	firn_free(c);
}

const char *firn_catalog_warehouse(const struct firn_catalog *c)
{
	return c->warehouse;
}

const char *firn_catalog_name(const struct firn_catalog *c)
{
	return c->name;
}

void firn_catalog_strings_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		firn_free(v[i]);
	firn_free(v);
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

int firn_catalog_namespace_exists(struct firn_catalog *c, const char *ns, struct firn_error *err)
{
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

int firn_catalog_namespace_create(struct firn_catalog *c, const char *ns,
				  const char *const *keys, const char *const *values, size_t n,
				  struct firn_error *err)
{
	int rc = firn_catalog_namespace_exists(c, ns, err);
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

int firn_catalog_namespace_list(struct firn_catalog *c, const char *parent, char ***out,
				size_t *n, struct firn_error *err)
{
	*out = NULL;
	*n = 0;
	if (parent) {
		int e = firn_catalog_namespace_exists(c, parent, err);
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

int firn_catalog_namespace_properties(struct firn_catalog *c, const char *ns, char ***keys,
				      char ***values, size_t *n, struct firn_error *err)
{
	*keys = *values = NULL;
	*n = 0;
	int e = firn_catalog_namespace_exists(c, ns, err);
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

int firn_catalog_namespace_update(struct firn_catalog *c, const char *ns,
				  const char *const *set_keys, const char *const *set_values,
				  size_t n_set, const char *const *remove_keys, size_t n_remove,
				  struct firn_error *err)
{
	int e = firn_catalog_namespace_exists(c, ns, err);
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

int firn_catalog_namespace_drop(struct firn_catalog *c, const char *ns, struct firn_error *err)
{
	int e = firn_catalog_namespace_exists(c, ns, err);
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

static const char *type_filter(const struct firn_catalog *c)
{
	return c->has_type ? " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)" : "";
}

int firn_catalog_table_load(struct firn_catalog *c, const char *ns, const char *name,
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

int firn_catalog_table_create(struct firn_catalog *c, const char *ns, const char *name,
			      const char *metadata_location, struct firn_error *err)
{
	int e = firn_catalog_namespace_exists(c, ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
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

int firn_catalog_table_swap(struct firn_catalog *c, const char *ns, const char *name,
			    const char *expected, const char *new_location,
			    struct firn_error *err)
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
	int rc = firn_catalog_table_load(c, ns, name, &now, err);
	firn_free(now);
	if (rc == FIRN_ENOTFOUND)
		return rc;
	return firn_error_set(err, FIRN_ECONFLICT,
			      "the table changed concurrently (another writer committed first)");
}

int firn_catalog_table_drop(struct firn_catalog *c, const char *ns, const char *name,
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

int firn_catalog_table_rename(struct firn_catalog *c, const char *ns, const char *name,
			      const char *to_ns, const char *to_name, struct firn_error *err)
{
	char *loc = NULL;
	FIRN_TRY(firn_catalog_table_load(c, ns, name, &loc, err));
	firn_free(loc);
	int e = firn_catalog_namespace_exists(c, to_ns, err);
	if (e < 0)
		return e;
	if (e == 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", to_ns);
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

int firn_catalog_table_list(struct firn_catalog *c, const char *ns, char ***out, size_t *n,
			    struct firn_error *err)
{
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
