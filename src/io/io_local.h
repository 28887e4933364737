/* Local file IO for tables: files are written whole, fsynced, and only
 * then referenced; a fault-injection switch for crash tests. Internal. */
#ifndef FIRN_IO_LOCAL_H
#define FIRN_IO_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firn/error.h"

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

/* Creates dir and its parents (0755). */
int firn_io__mkdirs(const char *dir, struct firn_error *err);

/* Creates path (which must not exist: O_EXCL), parents included, writes n
 * bytes and fsyncs the file; with sync_dir also its directory (otherwise
 * the caller fsyncs the directory once, after writing all its files and
 * before publishing any of them). On failure the partial file is removed.
 * FIRN_EEXISTS, FIRN_EIO. */
int firn_io__write_new(const char *path, const void *data, size_t n, bool sync_dir,
		       struct firn_error *err);

/* Fsyncs the directory holding path. */
int firn_io__sync_dir_of(const char *path, struct firn_error *err);

/* Reads a whole file (gunzipped when the name ends in .gz.metadata.json or
 * .metadata.json.gz); *data is firn_malloc'd with a NUL after the n bytes.
 * FIRN_ENOTFOUND, FIRN_EIO, FIRN_ECORRUPT (bad gzip). */
int firn_io__read_all(const char *path, uint8_t **data, size_t *n, struct firn_error *err);

/* 0 exists, FIRN_ENOTFOUND, or FIRN_EIO. */
int firn_io__exists(const char *path);
int64_t firn_io__size(const char *path);

/* Removes a file, ignoring "not found". */
void firn_io__remove(const char *path);
/* Removes a directory tree (drop --purge). */
int firn_io__remove_tree(const char *dir, struct firn_error *err);

/* Crash injection: when the environment variable FIRN_CRASH_AT equals
 * step, the process kills itself with SIGKILL (as kill -9 would). */
void firn_io__crash_point(const char *step);

#endif
