/* The public catalog calls, dispatched to the implementation behind the
 * handle (ice_catalog.h). */
#include <string.h>

#include "firn/util.h"
#include "iceberg/ice_catalog.h"

int firn_ice__catalog_new(const struct firn_ice_catalog_ops *ops, void *self,
			  const char *warehouse, const char *name, struct firn_catalog **out,
			  struct firn_error *err)
{
	*out = NULL;
	if (!ops || ops->version != FIRN_ICE_CATALOG_OPS_VERSION) {
		if (ops && ops->free)
			ops->free(self);
		return firn_error_set(err, FIRN_EINVAL, "catalog implementation of version %d: firn needs %d",
				      ops ? ops->version : -1, FIRN_ICE_CATALOG_OPS_VERSION);
	}
	struct firn_catalog *c = firn_calloc(1, sizeof(*c));
	if (c) {
		c->warehouse = firn_strdup(warehouse ? warehouse : "warehouse");
		c->name = firn_strdup(name ? name : "default");
	}
	if (!c || !c->warehouse || !c->name) {
		ops->free(self);
		if (c) {
			firn_free(c->warehouse);
			firn_free(c->name);
			firn_free(c);
		}
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	c->ops = ops;
	c->self = self;
	*out = c;
	return 0;
}

void firn_catalog_free(struct firn_catalog *c)
{
	if (!c)
		return;
	if (c->ops && c->ops->free)
		c->ops->free(c->self);
	firn_free(c->warehouse);
	firn_free(c->name);
	for (size_t i = 0; i < c->n_allowed; i++)
		firn_free(c->allowed[i]);
	firn_free(c->allowed);
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

int firn_catalog_namespace_create(struct firn_catalog *c, const char *ns,
				  const char *const *keys, const char *const *values, size_t n,
				  struct firn_error *err)
{
	return c->ops->namespace_create(c->self, ns, keys, values, n, err);
}

int firn_catalog_namespace_exists(struct firn_catalog *c, const char *ns, struct firn_error *err)
{
	return c->ops->namespace_exists(c->self, ns, err);
}

int firn_catalog_namespace_list(struct firn_catalog *c, const char *parent, char ***out,
				size_t *n, struct firn_error *err)
{
	return c->ops->namespace_list(c->self, parent, out, n, err);
}

int firn_catalog_namespace_properties(struct firn_catalog *c, const char *ns, char ***keys,
				      char ***values, size_t *n, struct firn_error *err)
{
	return c->ops->namespace_properties(c->self, ns, keys, values, n, err);
}

int firn_catalog_namespace_update(struct firn_catalog *c, const char *ns,
				  const char *const *set_keys, const char *const *set_values,
				  size_t n_set, const char *const *remove_keys, size_t n_remove,
				  struct firn_error *err)
{
	return c->ops->namespace_update(c->self, ns, set_keys, set_values, n_set, remove_keys, n_remove,
					err);
}

int firn_catalog_namespace_drop(struct firn_catalog *c, const char *ns, struct firn_error *err)
{
	return c->ops->namespace_drop(c->self, ns, err);
}

int firn_catalog_table_list(struct firn_catalog *c, const char *ns, char ***out, size_t *n,
			    struct firn_error *err)
{
	return c->ops->table_list(c->self, ns, out, n, err);
}

int firn_catalog_table_load(struct firn_catalog *c, const char *ns, const char *name,
			    char **metadata_location, struct firn_error *err)
{
	*metadata_location = NULL;
	return c->ops->table_load(c->self, ns, name, metadata_location, NULL, err);
}

int firn_ice__catalog_load(struct firn_catalog *c, const char *ns, const char *name,
			   char **location, struct firn_ice_meta **meta, struct firn_error *err)
{
	*location = NULL;
	if (meta)
		*meta = NULL;
	return c->ops->table_load(c->self, ns, name, location, meta, err);
}

int firn_ice__catalog_commit(struct firn_catalog *c, struct firn_ice_commit *commit,
			     struct firn_error *err)
{
	commit->meta = NULL;
	commit->location = NULL;
	return c->ops->commit_table(c->self, commit, err);
}

int firn_ice__catalog_transaction(struct firn_catalog *c, struct firn_ice_commit *v, size_t n,
				  struct firn_error *err)
{
	for (size_t i = 0; i < n; i++) {
		v[i].meta = NULL;
		v[i].location = NULL;
	}
	return c->ops->commit_transaction(c->self, v, n, err);
}
