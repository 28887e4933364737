/* S3 file IO over libcurl with its SigV4 signing: ranged GETs (small files
 * whole at open), single PUT or multipart upload, conditional create,
 * ListObjectsV2 paging, retries with backoff and jitter. One curl handle
 * per thread keeps its connections. */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "firn/io.h"
#include "io/curl_dl.h"
#include "io/io_local.h"
#include "io/s3_private.h"
#include "util/parallel.h"

/* The suffix fetched at open: a Parquet footer's usual size (the reader's
 * guess), and all of a file no larger. */
#define TAIL_FETCH (64 * 1024)
/* Ranges of a prefetch this close together are fetched in one GET: the
 * bytes between cost less than another request's round trip. */
#define COALESCE_GAP (64 * 1024)

/* ---- settings ------------------------------------------------------- */

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;
static char **prop_keys, **prop_values;
static size_t n_props;
/* The resolved settings, kept until the next configure: resolving reads
 * the environment and two files, too much for every file opened. */
static struct firn_s3__config cached;
static bool cached_ok;

static const char *real_getenv(const char *name)
{
	return getenv(name);
}

int firn_io_s3_configure(const char *const *keys, const char *const *values, size_t n,
			 struct firn_error *err)
{
	int rc = 0;
	pthread_mutex_lock(&conf_lock);
	if (cached_ok) {
		firn_s3__config_free(&cached);
		cached_ok = false;
	}
	char **k = firn_realloc(prop_keys, (n_props + n + 1) * sizeof(*k));
	if (k)
		prop_keys = k;
	char **v = k ? firn_realloc(prop_values, (n_props + n + 1) * sizeof(*v)) : NULL;
	if (v)
		prop_values = v;
	if (!k || !v) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	} else {
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *ks = firn_strdup(keys[i]), *vs = firn_strdup(values[i] ? values[i] : "");
			if (!ks || !vs) {
				firn_free(ks);
				firn_free(vs);
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			prop_keys[n_props] = ks;
			prop_values[n_props++] = vs;
		}
	}
	/* check the values now, so a bad one is reported where it was given */
	if (rc == 0) {
		struct firn_s3__sources src = { (const char *const *)prop_keys,
						(const char *const *)prop_values, n_props, real_getenv };
		struct firn_s3__config c;
		rc = firn_s3__resolve(&src, &c, err);
		if (rc == 0)
			firn_s3__config_free(&c);
	}
	pthread_mutex_unlock(&conf_lock);
	return rc;
}

static int copy_config(struct firn_s3__config *to, const struct firn_s3__config *from)
{
	*to = *from;
	to->endpoint = to->region = to->access_key = to->secret_key = to->session_token = NULL;
	const char *const src[] = { from->endpoint, from->region, from->access_key, from->secret_key,
				    from->session_token };
	char **dst[] = { &to->endpoint, &to->region, &to->access_key, &to->secret_key,
			 &to->session_token };
	for (size_t i = 0; i < 5; i++) {
		if (src[i] && !(*dst[i] = firn_strdup(src[i]))) {
			firn_s3__config_free(to);
			return FIRN_ENOMEM;
		}
	}
	return 0;
}

static int config(struct firn_s3__config *c, struct firn_error *err)
{
	int rc = 0;
	pthread_mutex_lock(&conf_lock);
	if (!cached_ok) {
		struct firn_s3__sources src = { (const char *const *)prop_keys,
						(const char *const *)prop_values, n_props, real_getenv };
		rc = firn_s3__resolve(&src, &cached, err);
		cached_ok = rc == 0;
	}
	if (rc == 0 && copy_config(c, &cached) != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	pthread_mutex_unlock(&conf_lock);
	return rc;
}

int firn_s3__settings(struct firn_s3__config *out, struct firn_error *err)
{
	return config(out, err);
}

int firn_io_s3_get(const char *key, char **out, struct firn_error *err)
{
	*out = NULL;
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	const char *v = NULL;
	int rc = 0;
	if (strcmp(key, "s3.endpoint") == 0)
		v = c.endpoint;
	else if (strcmp(key, "s3.region") == 0)
		v = c.region;
	else if (strcmp(key, "s3.path-style-access") == 0)
		v = c.path_style ? "true" : "false";
	else if (strcmp(key, "s3.access-key-id") == 0)
		v = c.access_key;
	else if (strcmp(key, "s3.secret-access-key") == 0)
		v = c.secret_key;
	else if (strcmp(key, "s3.session-token") == 0)
		v = c.session_token;
	else
		rc = firn_error_set(err, FIRN_EINVAL, "%s: not an S3 setting", key);
	if (v && !(*out = firn_strdup(v)))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_s3__config_free(&c);
	return rc;
}

int firn_s3__configure_defaults(const char *const *keys, const char *const *values, size_t n,
				struct firn_error *err)
{
	for (size_t i = 0; i < n; i++) {
		bool have = false;
		pthread_mutex_lock(&conf_lock);
		for (size_t k = 0; k < n_props && !have; k++)
			have = strcmp(prop_keys[k], keys[i]) == 0;
		pthread_mutex_unlock(&conf_lock);
		if (!have)
			FIRN_TRY(firn_io_s3_configure(keys + i, values + i, 1, err));
	}
	return 0;
}

/* ---- requests ------------------------------------------------------- */

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
	firn_curl.easy_cleanup(h);
}

static void handle_init(void)
{
	pthread_key_create(&handle_key, handle_free);
}

/* One share for the process: every thread's handle takes connections,
 * DNS answers and TLS sessions from the same pool, so a connection one
 * thread opened serves the next request of any. */
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_once_t share_once = PTHREAD_ONCE_INIT;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	(void)h, (void)access, (void)arg;
	pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	(void)h, (void)arg;
	pthread_mutex_unlock(&share_locks[data]);
}

static void share_init(void)
{
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	CURLSH *s = firn_curl.share_init();
	if (!s)
		return; /* each handle keeps its own connections then */
	firn_curl.share_setopt(s, CURLSHOPT_LOCKFUNC, share_lock);
	firn_curl.share_setopt(s, CURLSHOPT_UNLOCKFUNC, share_unlock);
	firn_curl.share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	firn_curl.share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	firn_curl.share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	share = s;
}

/* This thread's handle, reset, on the shared pool. */
static CURL *handle(void)
{
	pthread_once(&handle_once, handle_init);
	pthread_once(&share_once, share_init);
	CURL *h = pthread_getspecific(handle_key);
	if (h) {
		firn_curl.easy_reset(h);
	} else if ((h = firn_curl.easy_init())) {
		pthread_setspecific(handle_key, h);
	}
	if (h && share)
		firn_curl.easy_setopt(h, CURLOPT_SHARE, share);
	return h;
}

struct req {
	const char *method; /* GET HEAD PUT POST DELETE */
	const char *location; /* for messages */
	const char *bucket;
	size_t bucket_len;
	const char *key;
	const char *query;
	const char *const *headers; /* NULL-terminated, may be NULL */
	const void *body;
	size_t body_len;
	int64_t range_lo, range_hi; /* range_hi < 0: no range */
	/* answer */
	long status;
	struct firn_buf resp;
	char etag[256];
	int64_t length;
	int64_t total; /* of Content-Range, -1 when none */
	int64_t mtime_ms;
	void *into; /* when set, a ranged GET's bytes go straight here */
	size_t into_len, into_got;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct req *r = arg;
	size_t n = sz * nm;
	if (r->into && r->status / 100 == 2) {
		if (r->into_got + n > r->into_len)
			return 0;
		memcpy((char *)r->into + r->into_got, p, n);
		r->into_got += n;
		return n;
	}
	return firn_buf_append(&r->resp, p, n) == 0 ? n : 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct req *r = arg;
	size_t n = sz * nm;
	if (n > 9 && strncmp(p, "HTTP/", 5) == 0) {
		r->status = strtol(strchr(p, ' ') ? strchr(p, ' ') + 1 : p, NULL, 10);
		r->resp.len = 0;
		r->into_got = 0;
	} else if (n > 14 && strncasecmp(p, "Content-Range:", 14) == 0) {
		const char *slash = memchr(p, '/', n);
		if (slash && slash[1] >= '0' && slash[1] <= '9')
			r->total = strtoll(slash + 1, NULL, 10);
	} else if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		size_t k = 5;
		while (k < n && p[k] == ' ')
			k++;
		size_t e = n;
		while (e > k && (p[e - 1] == '\r' || p[e - 1] == '\n'))
			e--;
		snprintf(r->etag, sizeof(r->etag), "%.*s", (int)(e - k), p + k);
	}
	return n;
}

static void backoff(int attempt)
{
	long ms = 50L << (attempt < 6 ? attempt : 6);
	if (ms > 2000)
		ms = 2000;
	ms = ms / 2 + rand() % (ms / 2 + 1); /* jitter */
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* One attempt; 0 with r->status set, or a transport error (retryable
 * kinds say so in *retry). */
static int attempt(const struct firn_s3__config *c, struct req *r, bool *retry,
		   struct firn_error *err)
{
	CURL *h = handle();
	if (!h)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	char *url = firn_s3__url(c, r->bucket, r->bucket_len, r->key, r->query);
	struct curl_slist *hl = NULL;
	char sigv4[200], userpwd[1024], range[80], token[4200];
	int rc = 0;
	if (!url)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	hl = firn_curl.slist_append(hl, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	hl = firn_curl.slist_append(hl, "Expect:");
	hl = firn_curl.slist_append(hl, "Content-Type:");
	if (c->session_token) {
		snprintf(token, sizeof(token), "x-amz-security-token: %s", c->session_token);
		hl = firn_curl.slist_append(hl, token);
	}
	if (r->range_hi >= 0) {
		snprintf(range, sizeof(range), "Range: bytes=%lld-%lld", (long long)r->range_lo,
			 (long long)r->range_hi);
		hl = firn_curl.slist_append(hl, range);
	} else if (r->range_lo < 0) {
		snprintf(range, sizeof(range), "Range: bytes=%lld", (long long)r->range_lo);
		hl = firn_curl.slist_append(hl, range);
	}
	for (size_t i = 0; r->headers && r->headers[i]; i++)
		hl = firn_curl.slist_append(hl, r->headers[i]);
	firn_curl.easy_setopt(h, CURLOPT_URL, url);
	firn_curl.easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	firn_curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	firn_curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	/* a stalled transfer: under 1 byte/s for stall_s seconds (s3.request-timeout) */
	firn_curl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	firn_curl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_s);
	firn_curl.easy_setopt(h, CURLOPT_FILETIME, 1L);
	if (c->access_key && c->secret_key) {
		snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", c->region);
		snprintf(userpwd, sizeof(userpwd), "%s:%s", c->access_key, c->secret_key);
		firn_curl.easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
		firn_curl.easy_setopt(h, CURLOPT_USERPWD, userpwd);
	}
	firn_curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	firn_curl.easy_setopt(h, CURLOPT_WRITEDATA, r);
	firn_curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	firn_curl.easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (strcmp(r->method, "HEAD") == 0) {
		firn_curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
		firn_curl.easy_setopt(h, CURLOPT_POST, 1L);
		firn_curl.easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		firn_curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		if (strcmp(r->method, "PUT") == 0)
			firn_curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (strcmp(r->method, "DELETE") == 0) {
		firn_curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	r->status = 0;
	r->total = -1;
	r->resp.len = 0;
	r->etag[0] = '\0';
	r->into_got = 0;
	CURLcode cc = firn_curl.easy_perform(h);
	if (cc != CURLE_OK) {
		*retry = cc != CURLE_URL_MALFORMAT && cc != CURLE_UNSUPPORTED_PROTOCOL &&
			 cc != CURLE_WRITE_ERROR && cc != CURLE_OUT_OF_MEMORY;
		if (cc == CURLE_COULDNT_RESOLVE_HOST)
			*retry = false;
		rc = firn_error_set(err, FIRN_EIO, "%s: %s %s", r->location, r->method,
				    firn_curl.easy_strerror(cc));
	} else {
		long code = 0;
		firn_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		r->status = code;
		curl_off_t len = -1, ft = -1;
		firn_curl.easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		firn_curl.easy_getinfo(h, CURLINFO_FILETIME_T, &ft);
		r->length = len;
		r->mtime_ms = ft >= 0 ? (int64_t)ft * 1000 : 0;
	}
	firn_curl.slist_free_all(hl);
	firn_free(url);
	return rc;
}

/* The error for a non-2xx answer, one line with status and S3 code. */
static int status_error(struct req *r, struct firn_error *err)
{
	struct firn_buf code = { 0 }, msg = { 0 };
	const char *p = (const char *)r->resp.data, *e = p ? p + r->resp.len : NULL;
	bool has_code = p && firn_s3__xml_text(p, e, "Code", &code, NULL);
	bool has_msg = p && firn_s3__xml_text(p, e, "Message", &msg, NULL);
	int kind = r->status == 404 ? FIRN_ENOTFOUND : r->status == 412 ? FIRN_EEXISTS : FIRN_EIO;
	int rc = firn_error_set(err, kind, "%s: %s %ld%s%s%s%s", r->location, r->method, r->status,
				has_code ? " " : "", has_code ? (char *)code.data : "",
				has_msg ? ": " : "", has_msg ? (char *)msg.data : "");
	firn_buf_free(&code);
	firn_buf_free(&msg);
	return rc;
}

static bool retryable(const struct req *r)
{
	if (r->status >= 500 || r->status == 429)
		return true;
	const char *p = (const char *)r->resp.data;
	return p && r->resp.len && memmem(p, r->resp.len, "<Code>SlowDown</Code>", 21);
}

/* Sends r with retries; 0 with a 2xx status, else the error (404 →
 * FIRN_ENOTFOUND, 412 → FIRN_EEXISTS). */
static int s3_send(const struct firn_s3__config *c, struct req *r, struct firn_error *err)
{
	FIRN_TRY(firn_curl__load(err));
	for (int i = 0;; i++) {
		bool retry = false;
		int rc = attempt(c, r, &retry, err);
		bool last = i + 1 >= c->retries;
		if (rc == 0) {
			if (r->status / 100 == 2)
				return 0;
			if (!retryable(r) || last)
				return status_error(r, err);
		} else if (!retry || last) {
			return rc;
		}
		backoff(i);
	}
}

static int open_req(struct req *r, const char *method, const char *location, struct firn_error *err)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->location = location;
	r->range_hi = -1;
	return firn_s3__split(location, &r->bucket, &r->bucket_len, &r->key, err);
}

/* ---- reading -------------------------------------------------------- */

struct s3_input {
	struct firn_io_input in;
	struct firn_s3__config conf;
	char *location;
	uint8_t *tail; /* the file's last tail_len bytes (all of a small file), fetched at open */
	size_t tail_len;
	struct s3_block *blocks; /* of the last prefetch, by offset */
	size_t n_blocks;
};

/* Bytes fetched ahead: [offset, offset + len). */
struct s3_block {
	int64_t offset;
	size_t len;
	uint8_t *data;
};

/* The ranged GET of n bytes at offset into buf. */
static int get_range(struct s3_input *s, int64_t offset, size_t n, void *buf,
		     struct firn_error *err)
{
	struct req r;
	FIRN_TRY(open_req(&r, "GET", s->location, err));
	r.range_lo = offset;
	r.range_hi = offset + (int64_t)n - 1;
	r.into = buf;
	r.into_len = n;
	int rc = s3_send(&s->conf, &r, err);
	if (rc == 0 && r.into_got != n)
		rc = firn_error_set(err, FIRN_EIO, "%s: GET of %zu bytes at %lld gave %zu", s->location, n,
				    (long long)offset, r.into_got);
	firn_buf_free(&r.resp);
	return rc;
}

/* The block holding all of [offset, offset + n), or NULL. */
static const struct s3_block *cached_block(const struct s3_input *s, int64_t offset, size_t n)
{
	size_t lo = 0, hi = s->n_blocks;
	while (lo < hi) { /* the last block starting at or before offset */
		size_t mid = lo + (hi - lo) / 2;
		if (s->blocks[mid].offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct s3_block *b = &s->blocks[lo - 1];
	return offset + (int64_t)n <= b->offset + (int64_t)b->len ? b : NULL;
}

static void drop_blocks(struct s3_input *s)
{
	for (size_t i = 0; i < s->n_blocks; i++)
		firn_free(s->blocks[i].data);
	firn_free(s->blocks);
	s->blocks = NULL;
	s->n_blocks = 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct firn_io_range *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

struct fetch {
	struct s3_input *s;
	int *rcs;
	struct firn_error *errs;
};

static void fetch_block(void *arg, size_t i, int slot)
{
	(void)slot;
	struct fetch *f = arg;
	struct s3_block *b = &f->s->blocks[i];
	f->rcs[i] = get_range(f->s, b->offset, b->len, b->data, &f->errs[i]);
}

/* Coalesces the ranges (those in the tail are here already) and fetches
 * the blocks side by side on firn's threads, each with its own handle. */
static int s3_prefetch(struct firn_io_input *in, const struct firn_io_range *ranges, size_t n,
		       struct firn_error *err)
{
	struct s3_input *s = in->private_data;
	int64_t tail_at = in->size - (int64_t)s->tail_len;
	/* asked again for what is here (a read-ahead, then the read): keep it */
	bool have = s->n_blocks > 0;
	for (size_t i = 0; have && i < n; i++) {
		int64_t lo = ranges[i].offset, len = ranges[i].length;
		if (lo >= 0 && len >= 0 && len <= in->size - lo && lo + len > tail_at)
			len = tail_at - lo;
		have = len <= 0 || (lo >= 0 && cached_block(s, lo, (size_t)len));
	}
	if (have)
		return 0;
	drop_blocks(s);
	struct firn_io_range *rs = firn_calloc(n + 1, sizeof(*rs));
	if (!rs)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t lo = ranges[i].offset, len = ranges[i].length;
		if (lo < 0 || len < 0 || len > in->size - lo) {
			firn_free(rs);
			return firn_error_set(err, FIRN_ECORRUPT, "%s: truncated: %lld bytes at %lld of %lld",
					      s->location, (long long)len, (long long)lo,
					      (long long)in->size);
		}
		if (lo + len > tail_at)
			len = tail_at - lo;
		if (len > 0)
			rs[m++] = (struct firn_io_range){ lo, len };
	}
	qsort(rs, m, sizeof(*rs), by_offset);
	size_t nb = 0;
	for (size_t i = 0; i < m; i++) {
		int64_t end = rs[i].offset + rs[i].length;
		if (nb > 0 && rs[i].offset <= rs[nb - 1].offset + rs[nb - 1].length + COALESCE_GAP) {
			int64_t prev_end = rs[nb - 1].offset + rs[nb - 1].length;
			if (end > prev_end)
				rs[nb - 1].length = end - rs[nb - 1].offset;
		} else {
			rs[nb++] = rs[i];
		}
	}
	int rc = 0;
	s->blocks = firn_calloc(nb + 1, sizeof(*s->blocks));
	int *rcs = firn_calloc(nb + 1, sizeof(int));
	struct firn_error *errs = firn_calloc(nb + 1, sizeof(*errs));
	if (!s->blocks || !rcs || !errs)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < nb; i++) {
		s->blocks[i] = (struct s3_block){ rs[i].offset, (size_t)rs[i].length, NULL };
		s->n_blocks = i + 1;
		if (!(s->blocks[i].data = firn_malloc(s->blocks[i].len)))
			rc = firn_error_set(err, FIRN_ENOMEM, "%s: out of memory for %zu bytes",
					    s->location, s->blocks[i].len);
	}
	if (rc == 0) {
		struct fetch f = { s, rcs, errs };
		firn_par__io(nb, 8, fetch_block, &f); /* waits on the network, not the cores */
		for (size_t i = 0; i < nb && rc == 0; i++)
			if (rcs[i] != 0) {
				rc = rcs[i];
				if (err)
					*err = errs[i];
			}
	}
	if (rc != 0)
		drop_blocks(s);
	firn_free(rs);
	firn_free(rcs);
	firn_free(errs);
	return rc;
}

static int s3_read_at(struct firn_io_input *in, int64_t offset, size_t n, void *buf,
		      struct firn_error *err)
{
	struct s3_input *s = in->private_data;
	if (offset < 0 || offset > in->size || (int64_t)n > in->size - offset)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: truncated: %zu bytes at %lld of %lld",
				      s->location, n, (long long)offset, (long long)in->size);
	if (n == 0)
		return 0;
	int64_t tail_at = in->size - (int64_t)s->tail_len;
	if (s->tail && offset >= tail_at) { /* the footer, or all of a small file */
		memcpy(buf, s->tail + (offset - tail_at), n);
		return 0;
	}
	if (s->tail && offset + (int64_t)n > tail_at) { /* the part in the tail is here already */
		size_t head = (size_t)(tail_at - offset);
		memcpy((char *)buf + head, s->tail, n - head);
		n = head;
	}
	const struct s3_block *b = cached_block(s, offset, n);
	if (b) {
		memcpy(buf, b->data + (offset - b->offset), n);
		return 0;
	}
	return get_range(s, offset, n, buf, err);
}

static void s3_input_close(struct firn_io_input *in)
{
	struct s3_input *s = in->private_data;
	firn_s3__config_free(&s->conf);
	firn_free(s->location);
	firn_free(s->tail);
	drop_blocks(s);
	firn_free(s);
}

static int s3_open_read(void *data, const char *location, struct firn_io_input **out,
			struct firn_error *err)
{
	struct s3_input *s = firn_malloc(sizeof(*s));
	if (!s)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	memset(s, 0, sizeof(*s));
	s->in.read_at = s3_read_at;
	s->in.close = s3_input_close;
	s->in.prefetch = s3_prefetch;
	s->in.private_data = s;
	int rc = config(&s->conf, err);
	if (rc == 0 && !(s->location = firn_strdup(location)))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	/* one GET of the last TAIL_FETCH bytes: the size (Content-Range), a
	 * small file whole, a large one's footer */
	struct req r;
	if (rc == 0)
		rc = open_req(&r, "GET", location, err);
	if (rc == 0) {
		r.range_lo = -TAIL_FETCH;
		rc = s3_send(&s->conf, &r, err);
		if (rc == 0 && r.status == 206 && r.total >= (int64_t)r.resp.len) {
			s->in.size = r.total;
		} else if (rc == 0 && r.status == 200) { /* the range ignored: all of it */
			s->in.size = (int64_t)r.resp.len;
		} else if (rc == 0) {
			rc = firn_error_set(err, FIRN_EIO, "%s: GET %ld without the object's size", location,
					    r.status);
		} else if (r.status == 416) { /* an empty object */
			firn_error_clear(err);
			open_req(&r, "HEAD", location, err);
			rc = s3_send(&s->conf, &r, err);
			s->in.size = r.length;
			r.resp.len = 0;
		}
		if (rc == 0) {
			s->tail_len = r.resp.len;
			s->tail = firn_buf_detach(&r.resp, NULL);
		}
		firn_buf_free(&r.resp);
	}
	if (rc != 0) {
		s3_input_close(&s->in);
		return rc;
	}
	*out = &s->in;
	return 0;
}

/* One GET of the whole object. */
static int s3_read_all(void *data, const char *location, uint8_t **out, size_t *n,
		       struct firn_error *err)
{
	(void)data;
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	struct req r;
	int rc = open_req(&r, "GET", location, err);
	if (rc == 0)
		rc = s3_send(&c, &r, err);
	if (rc == 0 && (rc = firn_buf_putc(&r.resp, 0)) != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "%s: out of memory", location);
	if (rc == 0) {
		*n = r.resp.len - 1;
		*out = firn_buf_detach(&r.resp, NULL);
	}
	firn_buf_free(&r.resp);
	firn_s3__config_free(&c);
	return rc;
}

static int s3_stat(void *data, const char *location, struct firn_io_entry *out,
		   struct firn_error *err)
{
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	struct req r;
	int rc = open_req(&r, "HEAD", location, err);
	if (rc == 0)
		rc = s3_send(&c, &r, err);
	if (rc == 0) {
		out->location = location;
		out->size = r.length;
		out->mtime_ms = r.mtime_ms;
	}
	firn_buf_free(&r.resp);
	firn_s3__config_free(&c);
	return rc;
}

/* ---- writing -------------------------------------------------------- */

struct s3_output {
	struct firn_io_output out;
	struct firn_s3__config conf;
	char *location;
	unsigned flags;
	struct firn_buf buf;
	char *upload_id; /* a multipart upload under way */
	struct firn_buf parts; /* <Part>… of the completion */
	int n_parts;
	bool failed;
};

static void s3_output_free(struct s3_output *s)
{
	firn_s3__config_free(&s->conf);
	firn_free(s->location);
	firn_buf_free(&s->buf);
	firn_free(s->upload_id);
	firn_buf_free(&s->parts);
	firn_free(s);
}

static int upload_part(struct s3_output *s, struct firn_error *err)
{
	struct req r;
	struct firn_buf q = { 0 };
	int rc = open_req(&r, "POST", s->location, err);
	if (rc == 0 && !s->upload_id) {
		r.query = "uploads=";
		rc = s3_send(&s->conf, &r, err);
		struct firn_buf id = { 0 };
		if (rc == 0 && !firn_s3__xml_text((char *)r.resp.data, (char *)r.resp.data + r.resp.len,
						  "UploadId", &id, NULL))
			rc = firn_error_set(err, FIRN_EIO, "%s: POST ?uploads: no UploadId", s->location);
		if (rc == 0)
			s->upload_id = firn_buf_string(&id, 0);
		firn_buf_free(&id);
		firn_buf_free(&r.resp);
		if (rc == 0 && !s->upload_id)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		open_req(&r, "PUT", s->location, err);
		firn_buf_printf(&q, "partNumber=%d&uploadId=", s->n_parts + 1);
		firn_s3__encode(&q, s->upload_id, strlen(s->upload_id), false);
		rc = firn_buf_cstr(&q);
		r.query = (char *)q.data;
		r.body = s->buf.data;
		r.body_len = s->buf.len;
		if (rc == 0)
			rc = s3_send(&s->conf, &r, err);
		if (rc == 0 && !r.etag[0])
			rc = firn_error_set(err, FIRN_EIO, "%s: part %d: no ETag", s->location, s->n_parts + 1);
		if (rc == 0) {
			firn_io__crash_point("s3-part-uploaded");
			s->n_parts++;
			rc = firn_buf_printf(&s->parts, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
					     s->n_parts, r.etag);
		}
		firn_buf_free(&r.resp);
		s->buf.len = 0;
	}
	firn_buf_free(&q);
	return rc;
}

static int upload_query(struct s3_output *s, struct firn_buf *q)
{
	firn_buf_puts(q, "uploadId=");
	firn_s3__encode(q, s->upload_id, strlen(s->upload_id), false);
	return firn_buf_cstr(q);
}

static void abort_upload(struct s3_output *s)
{
	if (!s->upload_id)
		return;
	struct req r;
	struct firn_buf q = { 0 };
	struct firn_error e = { 0 };
	if (open_req(&r, "DELETE", s->location, &e) == 0 && upload_query(s, &q) == 0) {
		r.query = (char *)q.data;
		s3_send(&s->conf, &r, &e);
	}
	firn_buf_free(&r.resp);
	firn_buf_free(&q);
}

static int s3_write(struct firn_io_output *out, const void *data, size_t n, struct firn_error *err)
{
	struct s3_output *s = out->private_data;
	if (s->failed)
		return firn_error_set(err, FIRN_EIO, "%s: an earlier write failed", s->location);
	const uint8_t *p = data;
	while (n > 0) {
		size_t room = s->conf.part_size - s->buf.len, k = n < room ? n : room;
		if (firn_buf_append(&s->buf, p, k) != 0) {
			s->failed = true;
			return firn_error_set(err, FIRN_ENOMEM, "%s: out of memory", s->location);
		}
		p += k;
		n -= k;
		/* a full part goes once more bytes follow (the last part may be the full one) */
		if (s->buf.len == s->conf.part_size && n > 0 && upload_part(s, err) != 0) {
			s->failed = true;
			return FIRN_EIO;
		}
	}
	return 0;
}

static void s3_abort(struct firn_io_output *out)
{
	struct s3_output *s = out->private_data;
	abort_upload(s);
	s3_output_free(s);
}

static int s3_close(struct firn_io_output *out, struct firn_error *err)
{
	struct s3_output *s = out->private_data;
	int rc = s->failed ? firn_error_set(err, FIRN_EIO, "%s: an earlier write failed", s->location) : 0;
	struct req r;
	memset(&r, 0, sizeof(r));
	if (rc == 0 && (s->flags & FIRN_IO_EXCL)) {
		/* a server that ignores If-None-Match would replace: look first */
		struct firn_io_entry e;
		struct firn_error e1 = { 0 };
		int st = s3_stat(NULL, s->location, &e, &e1);
		if (st == 0)
			rc = firn_error_set(err, FIRN_EEXISTS, "%s: already exists", s->location);
		else if (st != FIRN_ENOTFOUND && err)
			rc = (*err = e1, st);
	}
	if (rc == 0 && !s->upload_id) {
		const char *hdr[] = { "If-None-Match: *", NULL };
		rc = open_req(&r, "PUT", s->location, err);
		r.body = s->buf.data;
		r.body_len = s->buf.len;
		if (s->flags & FIRN_IO_EXCL)
			r.headers = hdr;
		if (rc == 0)
			rc = s3_send(&s->conf, &r, err);
		firn_buf_free(&r.resp);
	} else if (rc == 0) {
		if (s->buf.len)
			rc = upload_part(s, err);
		struct firn_buf q = { 0 }, body = { 0 };
		if (rc == 0) {
			firn_buf_puts(&body, "<CompleteMultipartUpload>");
			firn_buf_append(&body, s->parts.data, s->parts.len);
			firn_buf_puts(&body, "</CompleteMultipartUpload>");
			rc = open_req(&r, "POST", s->location, err);
			if (rc == 0 && upload_query(s, &q) != 0)
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			r.query = (char *)q.data;
			r.body = body.data;
			r.body_len = body.len;
		}
		if (rc == 0)
			rc = s3_send(&s->conf, &r, err);
		/* a completion can fail inside a 200 answer */
		if (rc == 0 && r.resp.data && memmem(r.resp.data, r.resp.len, "<Error>", 7))
			rc = (r.status = 500, status_error(&r, err));
		firn_buf_free(&r.resp);
		firn_buf_free(&q);
		firn_buf_free(&body);
	}
	if (rc != 0) {
		abort_upload(s);
	} else {
		firn_free(s->upload_id);
		s->upload_id = NULL;
	}
	s3_output_free(s);
	return rc;
}

static int s3_create(void *data, const char *location, unsigned flags, struct firn_io_output **out,
		     struct firn_error *err)
{
	const char *b, *k;
	size_t bl;
	FIRN_TRY(firn_s3__split(location, &b, &bl, &k, err));
	if (!*k)
		return firn_error_set(err, FIRN_EINVAL, "%s: no object key", location);
	struct s3_output *s = firn_malloc(sizeof(*s));
	if (!s)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	memset(s, 0, sizeof(*s));
	int rc = config(&s->conf, err);
	if (rc != 0) {
		firn_free(s);
		return rc;
	}
	s->flags = flags;
	s->location = firn_strdup(location);
	if (!s->location) {
		s3_output_free(s);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	s->out.write = s3_write;
	s->out.close = s3_close;
	s->out.abort = s3_abort;
	s->out.private_data = s;
	*out = &s->out;
	return 0;
}

/* ---- deleting and listing ------------------------------------------ */

static int s3_delete(void *data, const char *location, struct firn_error *err)
{
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	struct req r;
	int rc = open_req(&r, "HEAD", location, err);
	/* S3 answers 204 for an absent key too: HEAD tells which it was */
	if (rc == 0)
		rc = s3_send(&c, &r, err);
	if (rc == 0) {
		open_req(&r, "DELETE", location, err);
		rc = s3_send(&c, &r, err);
	}
	firn_buf_free(&r.resp);
	firn_s3__config_free(&c);
	return rc;
}

static void put_base64(struct firn_buf *b, const uint8_t *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		firn_buf_putc(b, (uint8_t)t[v >> 18 & 63]);
		firn_buf_putc(b, (uint8_t)t[v >> 12 & 63]);
		firn_buf_putc(b, (uint8_t)(i + 1 < n ? t[v >> 6 & 63] : '='));
		firn_buf_putc(b, (uint8_t)(i + 2 < n ? t[v & 63] : '='));
	}
}

static int xml_escape(struct firn_buf *b, const char *s)
{
	int rc = 0;
	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '&': rc = firn_buf_puts(b, "&amp;"); break;
		case '<': rc = firn_buf_puts(b, "&lt;"); break;
		case '>': rc = firn_buf_puts(b, "&gt;"); break;
		case '"': rc = firn_buf_puts(b, "&quot;"); break;
		default: rc = firn_buf_putc(b, (uint8_t)*s);
		}
	}
	return rc;
}

/* One DeleteObjects request for locations[0..n) of one bucket (n <= 1000).
 * The body's checksum (required) goes as x-amz-checksum-crc32. */
static int delete_batch(const struct firn_s3__config *c, const char *const *locations, size_t n,
			size_t *deleted, struct firn_error *err)
{
	struct req r;
	struct firn_buf body = { 0 }, hdr = { 0 }, key = { 0 };
	FIRN_TRY(open_req(&r, "POST", locations[0], err));
	int rc = firn_buf_puts(&body, "<Delete><Quiet>false</Quiet>");
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *b, *k;
		size_t bl;
		if (firn_s3__split(locations[i], &b, &bl, &k, err) != 0)
			return FIRN_EINVAL;
		rc |= firn_buf_puts(&body, "<Object><Key>");
		rc |= xml_escape(&body, k);
		rc |= firn_buf_puts(&body, "</Key></Object>");
	}
	rc |= firn_buf_puts(&body, "</Delete>");
	uint32_t crc = (uint32_t)crc32(0L, body.data, (uInt)body.len);
	uint8_t be[4] = { (uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc };
	rc |= firn_buf_puts(&hdr, "x-amz-checksum-crc32: ");
	put_base64(&hdr, be, 4);
	rc |= firn_buf_cstr(&hdr);
	if (rc != 0) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto done;
	}
	const char *headers[] = { (char *)hdr.data, NULL };
	r.headers = headers;
	r.key = "";
	r.query = "delete=";
	r.body = body.data;
	r.body_len = body.len;
	rc = s3_send(c, &r, err);
	if (rc != 0)
		goto done;
	const char *p = (char *)r.resp.data, *end = p + r.resp.len, *s, *e;
	for (const char *q = p; firn_s3__xml_elem(q, end, "Deleted", &s, &e); q = e)
		(*deleted)++;
	if (firn_s3__xml_elem(p, end, "Error", &s, &e)) {
		struct firn_buf code = { 0 };
		firn_s3__xml_text(s, e, "Key", &key, NULL);
		firn_s3__xml_text(s, e, "Code", &code, NULL);
		rc = firn_error_set(err, FIRN_EIO, "%.*s/%s: DeleteObjects: %s", (int)(r.key - locations[0]) - 1,
				    locations[0], key.len ? (char *)key.data : "?",
				    code.len ? (char *)code.data : "error");
		firn_buf_free(&code);
	}
done:
	firn_buf_free(&r.resp);
	firn_buf_free(&body);
	firn_buf_free(&hdr);
	firn_buf_free(&key);
	return rc;
}

static bool same_bucket(const char *a, const char *b)
{
	const char *ba, *bb, *k;
	size_t la, lb;
	return firn_s3__split(a, &ba, &la, &k, NULL) == 0 && firn_s3__split(b, &bb, &lb, &k, NULL) == 0 &&
	       la == lb && memcmp(ba, bb, la) == 0;
}

static int s3_delete_many(void *data, const char *const *locations, size_t n, size_t *deleted,
			  struct firn_error *err)
{
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	size_t count = 0;
	int first = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && j - i < 1000 && same_bucket(locations[i], locations[j]))
			j++;
		struct firn_error e = { 0 };
		int rc = delete_batch(&c, locations + i, j - i, &count, &e);
		if (rc != 0 && first == 0) {
			first = rc;
			if (err)
				*err = e;
		}
		i = j;
	}
	firn_s3__config_free(&c);
	if (deleted)
		*deleted = count;
	return first;
}

/* The key prefix a listing of dir asks for ("a/b/", "" for the bucket)
 * and the length of dir's "s3://bucket" part. */
static int list_prefix(const struct req *r, const char *dir, struct firn_buf *prefix,
		       size_t *base_len)
{
	size_t kl = strlen(r->key);
	while (kl > 0 && r->key[kl - 1] == '/')
		kl--;
	firn_buf_append(prefix, r->key, kl);
	if (kl)
		firn_buf_putc(prefix, '/');
	const char *scheme_end = strstr(dir, "://");
	*base_len = scheme_end ? (size_t)(scheme_end - dir) + 3 + r->bucket_len : 0;
	return firn_buf_cstr(prefix);
}

/* A listed key's location: dir's "s3://bucket", then "/" and the key. */
static int listed_location(struct firn_buf *loc, const char *dir, size_t base_len,
			   const struct firn_buf *key)
{
	loc->len = 0;
	firn_buf_append(loc, dir, base_len);
	firn_buf_putc(loc, '/');
	firn_buf_append(loc, key->data, key->len);
	return firn_buf_cstr(loc);
}

static int s3_list(void *data, const char *dir, firn_io_list_fn fn, void *arg,
		   struct firn_error *err)
{
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	struct req r;
	int rc = open_req(&r, "GET", dir, err);
	struct firn_buf prefix = { 0 }, q = { 0 }, token = { 0 }, key = { 0 }, val = { 0 }, loc = { 0 };
	size_t base_len = 0;
	if (rc == 0)
		rc = list_prefix(&r, dir, &prefix, &base_len);
	bool more = rc == 0;
	while (more && rc == 0) {
		q.len = 0;
		if (token.len) {
			firn_buf_puts(&q, "continuation-token=");
			firn_s3__encode(&q, (char *)token.data, token.len, false);
			firn_buf_putc(&q, '&');
		}
		firn_buf_puts(&q, "list-type=2&prefix=");
		firn_s3__encode(&q, (char *)prefix.data, prefix.len, false);
		if ((rc = firn_buf_cstr(&q)) != 0)
			break;
		open_req(&r, "GET", dir, err);
		r.key = "";
		r.query = (char *)q.data;
		rc = s3_send(&c, &r, err);
		if (rc == FIRN_ENOTFOUND && r.resp.data &&
		    memmem(r.resp.data, r.resp.len, "NoSuchBucket", 12) == NULL)
			rc = 0;
		if (rc != 0)
			break;
		const char *p = (char *)r.resp.data, *end = p + r.resp.len, *cs, *ce;
		while (rc == 0 && firn_s3__xml_elem(p, end, "Contents", &cs, &ce)) {
			struct firn_io_entry e = { 0 };
			if (firn_s3__xml_text(cs, ce, "Key", &key, NULL)) {
				if ((rc = listed_location(&loc, dir, base_len, &key)) != 0)
					break;
				e.location = (char *)loc.data;
				if (firn_s3__xml_text(cs, ce, "Size", &val, NULL))
					e.size = strtoll((char *)val.data, NULL, 10);
				if (firn_s3__xml_text(cs, ce, "LastModified", &val, NULL))
					e.mtime_ms = firn_s3__parse_time((char *)val.data);
				rc = fn(arg, &e);
			}
			p = ce;
		}
		more = firn_s3__xml_text((char *)r.resp.data, end, "IsTruncated", &val, NULL) &&
		       strcmp((char *)val.data, "true") == 0 &&
		       firn_s3__xml_text((char *)r.resp.data, end, "NextContinuationToken", &token, NULL);
		firn_buf_free(&r.resp);
	}
	firn_buf_free(&r.resp);
	firn_buf_free(&prefix);
	firn_buf_free(&q);
	firn_buf_free(&token);
	firn_buf_free(&key);
	firn_buf_free(&val);
	firn_buf_free(&loc);
	firn_s3__config_free(&c);
	return rc;
}

/* ListMultipartUploads under dir, page by page. */
static int s3_list_pending(void *data, const char *dir, firn_io_pending_fn fn, void *arg,
			   struct firn_error *err)
{
	(void)data;
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	struct req r;
	int rc = open_req(&r, "GET", dir, err);
	struct firn_buf prefix = { 0 }, q = { 0 }, key_marker = { 0 }, id_marker = { 0 }, key = { 0 },
			id = { 0 }, val = { 0 }, loc = { 0 };
	size_t base_len = 0;
	if (rc == 0)
		rc = list_prefix(&r, dir, &prefix, &base_len);
	bool more = rc == 0;
	while (more && rc == 0) {
		q.len = 0; /* the parameters in sorted order, as the signature wants them */
		if (key_marker.len) {
			firn_buf_puts(&q, "key-marker=");
			firn_s3__encode(&q, (char *)key_marker.data, key_marker.len, false);
			firn_buf_putc(&q, '&');
		}
		firn_buf_puts(&q, "prefix=");
		firn_s3__encode(&q, (char *)prefix.data, prefix.len, false);
		if (id_marker.len) {
			firn_buf_puts(&q, "&upload-id-marker=");
			firn_s3__encode(&q, (char *)id_marker.data, id_marker.len, false);
		}
		firn_buf_puts(&q, "&uploads=");
		if ((rc = firn_buf_cstr(&q)) != 0)
			break;
		open_req(&r, "GET", dir, err);
		r.key = "";
		r.query = (char *)q.data;
		if ((rc = s3_send(&c, &r, err)) != 0)
			break;
		const char *p = (char *)r.resp.data, *end = p + r.resp.len, *us, *ue;
		while (rc == 0 && firn_s3__xml_elem(p, end, "Upload", &us, &ue)) {
			if (firn_s3__xml_text(us, ue, "Key", &key, NULL) &&
			    firn_s3__xml_text(us, ue, "UploadId", &id, NULL)) {
				if ((rc = listed_location(&loc, dir, base_len, &key)) != 0)
					break;
				struct firn_io_pending pe = { (char *)loc.data, (char *)id.data, 0 };
				if (firn_s3__xml_text(us, ue, "Initiated", &val, NULL))
					pe.started_ms = firn_s3__parse_time((char *)val.data);
				rc = fn(arg, &pe);
			}
			p = ue;
		}
		const char *rs = (char *)r.resp.data;
		more = firn_s3__xml_text(rs, end, "IsTruncated", &val, NULL) &&
		       strcmp((char *)val.data, "true") == 0 &&
		       firn_s3__xml_text(rs, end, "NextKeyMarker", &key_marker, NULL);
		if (more && !firn_s3__xml_text(rs, end, "NextUploadIdMarker", &id_marker, NULL))
			id_marker.len = 0;
		firn_buf_free(&r.resp);
	}
	firn_buf_free(&r.resp);
	struct firn_buf *bufs[] = { &prefix, &q, &key_marker, &id_marker, &key, &id, &val, &loc };
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		firn_buf_free(bufs[i]);
	firn_s3__config_free(&c);
	return rc;
}

/* AbortMultipartUpload. */
static int s3_discard_pending(void *data, const char *location, const char *id,
			      struct firn_error *err)
{
	(void)data;
	struct firn_s3__config c;
	FIRN_TRY(config(&c, err));
	struct req r;
	struct firn_buf q = { 0 };
	int rc = open_req(&r, "DELETE", location, err);
	if (rc == 0) {
		firn_buf_puts(&q, "uploadId=");
		firn_s3__encode(&q, id, strlen(id), false);
		if ((rc = firn_buf_cstr(&q)) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		r.query = (char *)q.data;
		rc = s3_send(&c, &r, err); /* 404 NoSuchUpload: FIRN_ENOTFOUND */
	}
	firn_buf_free(&r.resp);
	firn_buf_free(&q);
	firn_s3__config_free(&c);
	return rc;
}

const struct firn_io_ops firn_io__s3_ops = {
	.version = FIRN_IO_OPS_VERSION,
	.open_read = s3_open_read,
	.create = s3_create,
	.delete_file = s3_delete,
	.delete_many = s3_delete_many,
	.list = s3_list,
	.stat_file = s3_stat,
	.read_all = s3_read_all,
	.list_pending = s3_list_pending,
	.discard_pending = s3_discard_pending,
};
