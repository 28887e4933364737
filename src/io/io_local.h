/* Locations and local files, internal to libfirn: the one normal form of
 * a location (every comparison of locations uses it), the built-in local
 * implementation of firn/io.h, crash points. */
#ifndef FIRN_IO_LOCAL_H
#define FIRN_IO_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "firn/error.h"
#include "firn/io.h"

/* A location as a local path: "file:///a/b" and "file:/a/b" → "/a/b";
 * other strings unchanged. Borrowed pointer into loc. */
const char *firn_io__path(const char *loc);

/* The one normal form of a location, for every comparison of locations:
 * local paths (plain, "file:/…", "file:///…", relative to the working
 * directory) become absolute paths; other schemes keep "scheme://authority";
 * repeated slashes collapse, "." and ".." resolve, no trailing slash.
 * firn_malloc'd; NULL when out of memory. */
char *firn_io__normalize(const char *loc);

/* firn_io__normalize, then symbolic links resolved in the longest existing
 * ancestor of a local path (two spellings of one directory compare equal). */
char *firn_io__resolve(const char *loc);

/* Whether normalized location inner is outer or lies inside it. */
bool firn_io__within(const char *inner, const char *outer);

/* The scheme of a location into buf (lower case): "s3" for "s3://b/k",
 * "file" for "file:/…"; "" for a plain path. FIRN_EINVAL when it does not
 * fit buf. */
int firn_io__scheme(const char *loc, char *buf, size_t cap);

/* Creates local directory dir and its parents (0755). */
int firn_io__mkdirs(const char *dir, struct firn_error *err);

/* firn_io_read_all, gunzipped when the name ends in .gz.metadata.json or
 * .metadata.json.gz. FIRN_ENOTFOUND, FIRN_EIO, FIRN_ECORRUPT (bad gzip). */
int firn_io__read_all(const char *location, uint8_t **data, size_t *n, struct firn_error *err);

/* The size of a file (firn_io_stat), -1 when it cannot be had. */
int64_t firn_io__size(const char *location);

/* Opens a local file that is not a regular one (a pipe, a FIFO, a device)
 * for reading in sequence (text input from a shell's <(...)). */
int firn_io__open_sequential(const char *location, FILE **out, struct firn_error *err);
/* Whether location is a local file that is neither regular nor a
 * directory (a pipe, a FIFO, a device), found without opening it. */
bool firn_io__is_sequential(const char *location);
/* Whether location is in an object store or elsewhere off this machine
 * ("scheme://…" other than file), where every request costs a round trip. */
bool firn_io__is_remote(const char *location);

/* The built-in implementation for plain paths and file: locations. */
extern const struct firn_io_ops firn_io__local_ops;

/* Crash injection: when the environment variable FIRN_CRASH_AT equals
 * step, the process kills itself with SIGKILL (as kill -9 would). */
void firn_io__crash_point(const char *step);

#endif
