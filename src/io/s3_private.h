/* S3 file IO, internal: settings, URL building and XML parsing
 * (io_s3_util.c, no network) and the operations (io_s3.c). */
#ifndef FIRN_S3_PRIVATE_H
#define FIRN_S3_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firn/error.h"
#include "firn/io.h"
#include "firn/util.h"

/* Resolved settings; strings firn_malloc'd (NULL when unset). */
struct firn_s3__config {
	char *endpoint; /* "http://127.0.0.1:9000"; NULL: AWS */
	char *region;
	char *access_key;
	char *secret_key;
	char *session_token;
	bool path_style;
	int retries;      /* attempts in all */
	size_t part_size; /* multipart part size */
	long connect_timeout_ms; /* s3.connect-timeout */
	long stall_s;            /* s3.request-timeout: no byte for this long ends a try */
};

/* Where settings come from when resolving (tests pass their own). */
struct firn_s3__sources {
	const char *const *keys, *const *values; /* Iceberg properties */
	size_t n;
	const char *(*getenv)(const char *name);
};

/* Resolves the settings: properties, then environment, then the shared
 * files. FIRN_EINVAL, FIRN_ENOMEM. */
int firn_s3__resolve(const struct firn_s3__sources *src, struct firn_s3__config *out,
		     struct firn_error *err);
void firn_s3__config_free(struct firn_s3__config *c);

/* Splits "s3://bucket/key" (s3a, s3n too) into bucket and key (borrowed
 * into loc, lengths out). FIRN_EINVAL when there is no bucket. */
int firn_s3__split(const char *loc, const char **bucket, size_t *bucket_len, const char **key,
		   struct firn_error *err);

/* The request URL for bucket/key with query (may be NULL; already
 * encoded, "a=b&c=d" sorted). firn_malloc'd, NULL when out of memory. */
char *firn_s3__url(const struct firn_s3__config *c, const char *bucket, size_t bucket_len,
		   const char *key, const char *query);

/* Percent-encodes s (n bytes) into b; '/' kept when keep_slash. */
int firn_s3__encode(struct firn_buf *b, const char *s, size_t n, bool keep_slash);

/* The text of the first <tag>…</tag> in [p, end) with entities decoded,
 * into b (reset first); *next (may be NULL) past it. false if absent. */
bool firn_s3__xml_text(const char *p, const char *end, const char *tag, struct firn_buf *b,
		       const char **next);
/* The first <tag>…</tag> element's inner range in [p, end). */
bool firn_s3__xml_elem(const char *p, const char *end, const char *tag, const char **inner,
		       const char **inner_end);

/* "2024-05-01T12:00:00.000Z" → epoch ms; -1 when not such a time. */
int64_t firn_s3__parse_time(const char *s);

/* The settings in force now (firn_io_s3_configure's properties over the
 * environment and the files); free with firn_s3__config_free. */
int firn_s3__settings(struct firn_s3__config *out, struct firn_error *err);

/* firn_io_s3_configure for the keys not given yet: storage settings a
 * REST catalog hands out, below the user's own. */
int firn_s3__configure_defaults(const char *const *keys, const char *const *values, size_t n,
				struct firn_error *err);

/* The built-in implementation for s3:// (s3a://, s3n://). */
extern const struct firn_io_ops firn_io__s3_ops;

#endif
