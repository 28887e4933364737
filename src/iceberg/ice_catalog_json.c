/* The REST spec's table requests as JSON text (catalog.h): what `firn
 * serve` does with a request body, over the catalog interface. */
#include "firn/catalog.h"

#include "iceberg/ice_catalog.h"

void firn_catalog_confine(struct firn_catalog *c, bool on)
{
	(void)c;
	(void)on;
}

static int not_yet(struct firn_error *err)
{
	return firn_error_set(err, FIRN_EUNSUPPORTED, "REST table requests are not implemented yet");
}

int firn_catalog_table_load_json(struct firn_catalog *c, const char *ns, const char *name,
				 char **metadata_location, char **result, struct firn_error *err)
{
	(void)c, (void)ns, (void)name, (void)metadata_location, (void)result;
	return not_yet(err);
}

int firn_catalog_table_create_json(struct firn_catalog *c, const char *ns, const char *body,
				   char **result, struct firn_error *err)
{
	(void)c, (void)ns, (void)body, (void)result;
	return not_yet(err);
}

int firn_catalog_table_commit_json(struct firn_catalog *c, const char *ns, const char *name,
				   const char *body, char **result, struct firn_error *err)
{
	(void)c, (void)ns, (void)name, (void)body, (void)result;
	return not_yet(err);
}

int firn_catalog_transaction_json(struct firn_catalog *c, const char *body, struct firn_error *err)
{
	(void)c, (void)body;
	return not_yet(err);
}
