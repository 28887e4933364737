/* firn: file IO. Every byte firn reads or writes and every file it deletes
 * goes through here. An implementation (a versioned struct of operations)
 * is registered for a URI scheme; the location-level functions below pick
 * it by the location's scheme. Local files (plain paths, "file:/…",
 * "file:///…") are built in; object stores register their own schemes. */
#ifndef FIRN_IO_H
#define FIRN_IO_H

#include "firn/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firn/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A byte range of a file. */
struct firn_io_range {
	int64_t offset;
	int64_t length;
};

/* An open file for reading. Made by an implementation's open_read; the
 * caller reads with firn_io_read_at and ends with firn_io_input_close. */
struct firn_io_input {
	int64_t size; /* the file's size in bytes, known at open */
	/* Reads exactly n bytes at offset into buf (offset + n <= size, else
	 * FIRN_ECORRUPT "truncated"). FIRN_EIO. */
	int (*read_at)(struct firn_io_input *in, int64_t offset, size_t n, void *buf,
		       struct firn_error *err);
	/* Releases the handle (and frees it). */
	void (*close)(struct firn_io_input *in);
	void *private_data;
	/* A hint, may be NULL: the caller reads (parts of) these ranges next,
	 * in any order, and nothing before them is read again. A remote store
	 * fetches them at once, adjacent ones in one request and the requests
	 * side by side, and keeps them until the next prefetch or close; local
	 * files ask the kernel to read ahead. Ranges past the end are an
	 * error (FIRN_ECORRUPT), as are the store's failures (FIRN_EIO). */
	int (*prefetch)(struct firn_io_input *in, const struct firn_io_range *ranges, size_t n,
			struct firn_error *err);
};

/* A file being written. Nothing of it is visible under its name as a
 * complete file before close succeeds; ends with exactly one of close or
 * abort, which free the handle. */
struct firn_io_output {
	/* Appends n bytes. FIRN_EIO. */
	int (*write)(struct firn_io_output *out, const void *data, size_t n, struct firn_error *err);
	/* Makes the file durable (local: fsync; with FIRN_IO_SYNC_DIR also
	 * its directory). On failure the partial file is removed. FIRN_EIO. */
	int (*close)(struct firn_io_output *out, struct firn_error *err);
	/* Discards the partial file. */
	void (*abort)(struct firn_io_output *out);
	void *private_data;
};

/* Flags of create. */
enum firn_io_create_flags {
	/* Create-if-absent: FIRN_EEXISTS when the file is already there
	 * (metadata files, manifests). Without it an existing file is replaced. */
	FIRN_IO_EXCL = 1 << 0,
	/* close also makes the file's name durable (local: fsyncs the
	 * directory). Without it, call firn_io_sync_dir before publishing. */
	FIRN_IO_SYNC_DIR = 1 << 1,
	/* The file appears, replacing any file of that name at once, only when
	 * close succeeds: until then nothing at the location changes (local:
	 * written under a temporary name beside it and renamed over it;
	 * abort or a failed close removes the temporary). What a command
	 * writes for its user (scan --output, parquet convert). */
	FIRN_IO_REPLACE = 1 << 2,
};

/* One file of a listing or firn_io_stat. location is borrowed (valid
 * during the callback only). */
struct firn_io_entry {
	const char *location;
	int64_t size;
	int64_t mtime_ms; /* last modification, epoch milliseconds */
};

/* Called once per file; a non-zero return stops the listing and is
 * returned by list. */
typedef int (*firn_io_list_fn)(void *arg, const struct firn_io_entry *entry);

/* A write begun and never completed that the store still keeps (S3: an
 * incomplete multipart upload, whose parts are billed but are no object).
 * Borrowed during the callback only. */
struct firn_io_pending {
	const char *location; /* where the file would have appeared */
	const char *id;       /* the store's name for the write (S3: the upload id) */
	int64_t started_ms;   /* epoch milliseconds */
};
typedef int (*firn_io_pending_fn)(void *arg, const struct firn_io_pending *p);

#define FIRN_IO_OPS_VERSION 2

/* A file-IO implementation. Every operation gets `data` first and the
 * location as the caller wrote it (scheme included). Operations an
 * implementation has no use for may be NULL where said. */
struct firn_io_ops {
	int version; /* FIRN_IO_OPS_VERSION */
	void *data;
	/* *out is the implementation's, ended with its close. FIRN_ENOTFOUND,
	 * FIRN_EINVAL (not a regular file), FIRN_EIO. */
	int (*open_read)(void *data, const char *location, struct firn_io_input **out,
			 struct firn_error *err);
	/* flags: enum firn_io_create_flags. Creates parent directories where
	 * there are such things. FIRN_EEXISTS (FIRN_IO_EXCL), FIRN_EIO. */
	int (*create)(void *data, const char *location, unsigned flags, struct firn_io_output **out,
		      struct firn_error *err);
	/* 0 when deleted, FIRN_ENOTFOUND when there was no such file, FIRN_EIO. */
	int (*delete_file)(void *data, const char *location, struct firn_error *err);
	/* Deletes every one of locations[0..n) (absent ones are no error);
	 * *deleted (may be NULL) counts those deleted. Tries them all, then
	 * returns 0 or the first failure. NULL: delete_file one by one. */
	int (*delete_many)(void *data, const char *const *locations, size_t n, size_t *deleted,
			   struct firn_error *err);
	/* Every file within dir (firn_io__within: dir itself or under it),
	 * recursively, in no particular order; locations are dir + "/" +
	 * the relative name. Regular files only: symbolic links are not
	 * followed nor reported. A missing dir lists nothing. */
	int (*list)(void *data, const char *dir, firn_io_list_fn fn, void *arg, struct firn_error *err);
	/* Size and modification time of one file (entry->location is the
	 * argument). FIRN_ENOTFOUND. */
	int (*stat_file)(void *data, const char *location, struct firn_io_entry *out,
			 struct firn_error *err);
	/* Makes the names of files created in the directory holding location
	 * durable. NULL when a completed create is durable by itself. */
	int (*sync_dir)(void *data, const char *location, struct firn_error *err);
	/* Removes directory dir if it is empty: 0 removed, FIRN_EEXISTS not
	 * empty, FIRN_ENOTFOUND. NULL where directories do not exist. */
	int (*remove_empty_dir)(void *data, const char *dir, struct firn_error *err);
	/* All of a file at once, as firn_io_read_all gives it (one request
	 * where a store counts them). NULL: open_read and one read_at. */
	int (*read_all)(void *data, const char *location, uint8_t **out, size_t *n,
			struct firn_error *err);
	/* The pending writes within dir, as list does files. NULL where a
	 * failed write leaves nothing behind but a file (local files). */
	int (*list_pending)(void *data, const char *dir, firn_io_pending_fn fn, void *arg,
			    struct firn_error *err);
	/* Discards pending write id of location: 0, or FIRN_ENOTFOUND when
	 * it is gone already. */
	int (*discard_pending)(void *data, const char *location, const char *id,
			       struct firn_error *err);
};

/* Makes ops handle locations "scheme://…" (scheme compared without case;
 * "file" is taken by the built-in local files). The struct is copied;
 * ops->data must outlive every use. Registering a scheme again replaces it.
 * Call before other threads do IO. FIRN_EINVAL (bad version or name),
 * FIRN_ENOMEM. */
FIRN_API int firn_io_register(const char *scheme, const struct firn_io_ops *ops, struct firn_error *err);
/* Forgets scheme; 0, or FIRN_ENOTFOUND. */
FIRN_API int firn_io_unregister(const char *scheme);

/* The location-level entry points: the implementation for location's
 * scheme does the work. An unknown scheme is FIRN_EUNSUPPORTED
 * ("s3://b/x: no file IO for scheme s3"). */
FIRN_API int firn_io_open_read(const char *location, struct firn_io_input **out, struct firn_error *err);
FIRN_API int firn_io_create(const char *location, unsigned flags, struct firn_io_output **out,
		   struct firn_error *err);
FIRN_API int firn_io_delete(const char *location, struct firn_error *err);
FIRN_API int firn_io_delete_many(const char *const *locations, size_t n, size_t *deleted,
			struct firn_error *err);
FIRN_API int firn_io_list(const char *dir, firn_io_list_fn fn, void *arg, struct firn_error *err);
/* out->location is location. */
FIRN_API int firn_io_stat(const char *location, struct firn_io_entry *out, struct firn_error *err);
FIRN_API int firn_io_sync_dir(const char *location, struct firn_error *err);
/* FIRN_EUNSUPPORTED where directories do not exist. */
FIRN_API int firn_io_remove_empty_dir(const char *dir, struct firn_error *err);
/* Nothing to list (0) where the scheme has no pending writes. */
FIRN_API int firn_io_list_pending(const char *dir, firn_io_pending_fn fn, void *arg,
				  struct firn_error *err);
FIRN_API int firn_io_discard_pending(const char *location, const char *id, struct firn_error *err);
/* Whether a and b are one file (local: the same device and inode, so
 * symbolic and hard links count; other schemes: the same normalized
 * location). 0 when either does not exist. */
FIRN_API bool firn_io_same_file(const char *a, const char *b);

/* Handle shorthands. */
static inline int firn_io_read_at(struct firn_io_input *in, int64_t offset, size_t n, void *buf,
				  struct firn_error *err)
{
	return in->read_at(in, offset, n, buf, err);
}
/* The hint of struct firn_io_input's prefetch; 0 where there is none. */
static inline int firn_io_prefetch(struct firn_io_input *in, const struct firn_io_range *ranges,
				   size_t n, struct firn_error *err)
{
	return in->prefetch ? in->prefetch(in, ranges, n, err) : 0;
}
/* NULL allowed. */
static inline void firn_io_input_close(struct firn_io_input *in)
{
	if (in)
		in->close(in);
}
static inline int firn_io_write(struct firn_io_output *out, const void *data, size_t n,
				struct firn_error *err)
{
	return out->write(out, data, n, err);
}
static inline int firn_io_output_close(struct firn_io_output *out, struct firn_error *err)
{
	return out->close(out, err);
}
/* NULL allowed. */
static inline void firn_io_output_abort(struct firn_io_output *out)
{
	if (out)
		out->abort(out);
}

/* The whole file; *data is firn_malloc'd (the caller frees it) with a NUL
 * after the *n bytes. FIRN_ENOTFOUND, FIRN_EIO. */
FIRN_API int firn_io_read_all(const char *location, uint8_t **data, size_t *n, struct firn_error *err);
/* create + write + close in one. */
FIRN_API int firn_io_write_all(const char *location, unsigned flags, const void *data, size_t n,
		      struct firn_error *err);

/* S3: s3:// (and s3a://, s3n://) locations are handled by a built-in
 * implementation over libcurl (SigV4 signing). Its settings come, highest
 * first, from the Iceberg properties given to firn_io_s3_configure, the
 * AWS_* environment variables (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
 * AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), then the shared credentials and config files
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CONFIG_FILE or
 * ~/.aws/config; profile AWS_PROFILE or default). With a custom endpoint,
 * buckets are addressed by path unless s3.path-style-access=false. */
/* Sets Iceberg storage properties (keys[i] = values[i], copied):
 * s3.endpoint, s3.access-key-id, s3.secret-access-key, s3.session-token,
 * s3.region, client.region, s3.path-style-access, s3.retries,
 * s3.multipart.part-size. Other keys are ignored. A later call replaces
 * earlier values of the same keys. Call before other threads do IO.
 * FIRN_EINVAL (a bad number), FIRN_ENOMEM. */
FIRN_API int firn_io_s3_configure(const char *const *keys, const char *const *values, size_t n,
				  struct firn_error *err);

/* The setting in force for key (s3.endpoint, s3.region,
 * s3.path-style-access, s3.access-key-id, s3.secret-access-key,
 * s3.session-token), as the properties, environment and files give it:
 * *out is firn_malloc'd (the caller frees it), NULL when unset. What a
 * REST catalog server hands its clients. FIRN_EINVAL (another key),
 * FIRN_ENOMEM. */
FIRN_API int firn_io_s3_get(const char *key, char **out, struct firn_error *err);

#ifdef __cplusplus
}
#endif
#endif
