/* Iceberg view metadata (the view spec, format version 1): parse and
 * check, the builder that applies the REST spec's view updates, dump,
 * and the metadata files. Internal.
 *
 * A view's metadata is kept as its jansson tree: views are small, and
 * every key firn does not know survives a commit. The builder follows
 * Java's ViewMetadata.Builder, whose behaviour clients rely on: an
 * identical schema or version is reused (ids are the server's: highest +
 * 1), -1 means "the one last added", a version may not hold two queries
 * of one dialect (compared case-insensitively), a replace may not drop a
 * dialect unless replace.drop-dialect.allowed is true, and old versions
 * are expired past version.history.num-entries. */
#ifndef FIRN_ICE_VIEW_H
#define FIRN_ICE_VIEW_H

#include <jansson.h>
#include <stddef.h>

#include "firn/error.h"

/* Parses a view metadata file's text and checks it (firn_ice__view_check).
 * FIRN_ECORRUPT "WHAT: ..."; *out is the caller's (json_decref). */
int firn_ice__view_parse(const char *text, size_t n, const char *what, json_t **out,
			 struct firn_error *err);

/* Whether v is view metadata firn can serve: the spec's required fields
 * with their types, format version 1, the current version among the
 * versions, every version's schema among the schemas. code is the error
 * given (FIRN_ECORRUPT for a file, FIRN_EINVAL for a request). */
int firn_ice__view_check(const json_t *v, const char *what, int code, struct firn_error *err);

/* Applies updates (a JSON array of the REST spec's ViewUpdate objects:
 * assign-uuid, upgrade-format-version, add-schema, set-location,
 * set-properties, remove-properties, add-view-version,
 * set-current-view-version) to base (NULL: a new view) and checks the
 * result. *out is new metadata (the caller's); *changes says how many
 * updates changed something (0: the commit has nothing to write).
 * FIRN_EINVAL with Java's messages ("Invalid view version: Cannot add
 * multiple queries for dialect trino"). */
int firn_ice__view_build(const json_t *base, const json_t *updates, json_t **out,
			 size_t *changes, struct firn_error *err);

/* Checks a commit's requirements (assert-view-uuid) against cur.
 * FIRN_ECONFLICT when one does not hold, FIRN_EINVAL when malformed. */
int firn_ice__view_requirements_check(const json_t *cur, const json_t *requirements,
				      struct firn_error *err);

/* The metadata as JSON text (firn_free), NULL when out of memory. */
char *firn_ice__view_dump(const json_t *v);

/* Reads and parses a view metadata file. A missing file is FIRN_ECORRUPT
 * "LOCATION: view metadata file is missing". */
int firn_ice__view_read(const char *location, json_t **out, struct firn_error *err);

/* Writes v as the metadata file after previous (NULL: the first):
 * <dir>/NNNNN-<uuid>.metadata.json, dir the property write.metadata.path
 * or <location>/metadata; created only if absent, made durable with its
 * directory. *location_out is the caller's. */
int firn_ice__view_write(const json_t *v, const char *previous, char **location_out,
			 struct firn_error *err);

#endif
