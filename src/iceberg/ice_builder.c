/* The metadata builder: applies table updates to metadata. */
#include <string.h>

#include "iceberg/ice_update.h"

int firn_ice__meta_build(const struct firn_ice_meta *base, const char *base_location,
			 const json_t *updates, struct firn_ice_meta **out,
			 struct firn_error *err)
{
	*out = NULL;
	return firn_error_set(err, FIRN_EUNSUPPORTED, "not yet");
}
