/* firn import delta: the Delta log read into an import plan. */
#include "firn/import.h"

int firn_import_delta(struct firn_catalog *c, const char *location, const char *ident,
		      bool incremental, struct firn_import_info *info, struct firn_error *err)
{
	(void)c;
	(void)location;
	(void)ident;
	(void)incremental;
	(void)info;
	return firn_error_set(err, FIRN_EUNSUPPORTED, "delta import not built yet");
}
