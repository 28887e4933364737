/* firn import ducklake: a placeholder until the DuckLake importer lands. */
#include "firn/import.h"

int firn_import_ducklake(struct firn_catalog *c, const char *catalog_uri, const char *name,
			 const char *ident, bool incremental, struct firn_import_info *info,
			 struct firn_error *err)
{
	(void)c;
	(void)catalog_uri;
	(void)name;
	(void)ident;
	(void)incremental;
	(void)info;
	return firn_error_set(err, FIRN_EUNSUPPORTED, "ducklake import not built yet");
}
