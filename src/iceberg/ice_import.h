/* Imported tables (firn/import.h): the name mapping their files are read
 * through and the identity partition values their files lack. Internal. */
#ifndef FIRN_ICE_IMPORT_H
#define FIRN_ICE_IMPORT_H

#include <jansson.h>

#include "firn/parquet.h"
#include "iceberg/ice_manifest.h"

/* Iceberg's name mapping of a schema (every field by its name; list
 * elements "element", map keys and values "key" and "value"): a JSON array
 * as schema.name-mapping.default holds it. New reference, NULL when out
 * of memory. */
json_t *firn_ice__name_mapping(const struct ArrowSchema *schema);

/* Gives the columns of r field ids through the table's
 * schema.name-mapping.default when the file carries none (spec "Column
 * Projection"); a file with ids, or a table without a mapping, is left as
 * it is. FIRN_ECORRUPT for a mapping that is not valid JSON. */
int firn_ice__name_map_reader(const struct firn_ice_meta *m, struct firn_parquet_reader *r,
			      struct firn_error *err);

/* The columns of batch (shaped as proj, read from a file whose stream
 * schema is file_schema) that the file lacks and that an identity field
 * of f's partition spec has a value for: filled with that value (spec:
 * "Return the value from partition metadata if an Identity Transform
 * exists"). Other columns are left as they are. */
int firn_ice__fill_identity(const struct firn_ice_meta *m, const struct firn_ice_data_file *f,
			    const struct ArrowSchema *file_schema, const struct ArrowSchema *proj,
			    struct ArrowArray *batch, struct firn_error *err);

#endif
