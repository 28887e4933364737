/* S3 helpers that need no network: settings and their precedence, URLs,
 * the little XML S3 answers with, times. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "io/s3_private.h"

void firn_s3__config_free(struct firn_s3__config *c)
{
	firn_free(c->endpoint);
	firn_free(c->region);
	firn_free(c->access_key);
	firn_free(c->secret_key);
	firn_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

static const char *prop(const struct firn_s3__sources *src, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < src->n; i++) /* the last one given wins */
		if (src->keys[i] && strcmp(src->keys[i], key) == 0)
			v = src->values[i];
	return v && *v ? v : NULL;
}

static const char *env(const struct firn_s3__sources *src, const char *name)
{
	const char *v = src->getenv ? src->getenv(name) : NULL;
	return v && *v ? v : NULL;
}

/* The value of key in section [want] (or [profile want]) of an INI file;
 * firn_malloc'd or NULL. */
static char *ini_value(const char *path, const char *want, bool config_file, const char *key)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f)
		return NULL;
	char line[4096], *found = NULL;
	bool in = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		char *e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close)
				continue;
			*close = '\0';
			char *name = s + 1;
			while (isspace((unsigned char)*name))
				name++;
			if (config_file && strncmp(name, "profile ", 8) == 0)
				name += 8;
			while (isspace((unsigned char)*name))
				name++;
			in = strcmp(name, want) == 0;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!in || !eq)
			continue;
		char *k = s, *ke = eq;
		while (ke > k && isspace((unsigned char)ke[-1]))
			ke--;
		char *v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		if ((size_t)(ke - k) == strlen(key) && strncmp(k, key, strlen(key)) == 0 && *v)
			found = firn_strdup(v);
	}
	fclose(f);
	return found;
}

static int set(char **slot, const char *v)
{
	if (*slot || !v)
		return 0;
	*slot = firn_strdup(v);
	return *slot ? 0 : FIRN_ENOMEM;
}

static int set_owned(char **slot, char *v)
{
	if (*slot || !v) {
		firn_free(v);
		return 0;
	}
	*slot = v;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return FIRN_EINVAL;
	return 0;
}

static int parse_size(const char *v, long long lo, long long hi, long long *out)
{
	char *end;
	long long x = strtoll(v, &end, 10);
	if (end == v || *end || x < lo || x > hi)
		return FIRN_EINVAL;
	*out = x;
	return 0;
}

/* Seconds as PyIceberg writes them ("5", "0.5"), in lo..hi. */
static int parse_seconds(const char *v, double lo, double hi, double *out)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end || !(x >= lo && x <= hi))
		return FIRN_EINVAL;
	*out = x;
	return 0;
}

int firn_s3__resolve(const struct firn_s3__sources *src, struct firn_s3__config *out,
		     struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = 0;
	rc |= set(&out->endpoint, prop(src, "s3.endpoint"));
	rc |= set(&out->region, prop(src, "s3.region"));
	rc |= set(&out->region, prop(src, "client.region"));
	rc |= set(&out->access_key, prop(src, "s3.access-key-id"));
	rc |= set(&out->secret_key, prop(src, "s3.secret-access-key"));
	rc |= set(&out->session_token, prop(src, "s3.session-token"));
	rc |= set(&out->endpoint, env(src, "AWS_ENDPOINT_URL_S3"));
	rc |= set(&out->endpoint, env(src, "AWS_ENDPOINT_URL"));
	rc |= set(&out->region, env(src, "AWS_REGION"));
	rc |= set(&out->region, env(src, "AWS_DEFAULT_REGION"));
	/* keys come as a pair from one source: a property key with an
	 * environment secret would sign with the wrong one */
	if (!out->access_key && !out->secret_key) {
		rc |= set(&out->access_key, env(src, "AWS_ACCESS_KEY_ID"));
		rc |= set(&out->secret_key, env(src, "AWS_SECRET_ACCESS_KEY"));
		rc |= set(&out->session_token, env(src, "AWS_SESSION_TOKEN"));
	}
	const char *profile = env(src, "AWS_PROFILE");
	if (!profile)
		profile = "default";
	const char *home = env(src, "HOME");
	char path[4096];
	const char *creds = env(src, "AWS_SHARED_CREDENTIALS_FILE"), *conf = env(src, "AWS_CONFIG_FILE");
	if (!creds && home) {
		snprintf(path, sizeof(path), "%s/.aws/credentials", home);
		creds = path;
	}
	if (!out->access_key && !out->secret_key) {
		rc |= set_owned(&out->access_key, ini_value(creds, profile, false, "aws_access_key_id"));
		rc |= set_owned(&out->secret_key, ini_value(creds, profile, false, "aws_secret_access_key"));
		rc |= set_owned(&out->session_token, ini_value(creds, profile, false, "aws_session_token"));
	}
	char cpath[4096];
	if (!conf && home) {
		snprintf(cpath, sizeof(cpath), "%s/.aws/config", home);
		conf = cpath;
	}
	if (!out->region)
		rc |= set_owned(&out->region, ini_value(conf, profile, true, "region"));
	if (!out->endpoint)
		rc |= set_owned(&out->endpoint, ini_value(conf, profile, true, "endpoint_url"));
	rc |= set(&out->region, "us-east-1");
	if (rc != 0) {
		firn_s3__config_free(out);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	/* a custom endpoint (a local server) is addressed by path unless told */
	out->path_style = out->endpoint != NULL;
	out->retries = 6;
	out->part_size = 8u << 20;
	const char *v;
	long long x;
	if ((v = prop(src, "s3.path-style-access")) && parse_bool(v, &out->path_style) != 0)
		rc = firn_error_set(err, FIRN_EINVAL, "s3.path-style-access: '%s' is not true or false", v);
	else if ((v = prop(src, "s3.retries")) && parse_size(v, 1, 100, &x) != 0)
		rc = firn_error_set(err, FIRN_EINVAL, "s3.retries: '%s' is not a number 1-100", v);
	else if (v)
		out->retries = (int)x;
	if (rc == 0 && (v = prop(src, "s3.multipart.part-size"))) {
		if (parse_size(v, 5 << 20, 1LL << 32, &x) != 0)
			rc = firn_error_set(err, FIRN_EINVAL,
					    "s3.multipart.part-size: '%s' is not a size of 5 MiB to 4 GiB", v);
		else
			out->part_size = (size_t)x;
	}
	out->connect_timeout_ms = 10000;
	out->stall_s = 30;
	double sec;
	if (rc == 0 && (v = prop(src, "s3.connect-timeout"))) {
		if (parse_seconds(v, 0.001, 3600, &sec) != 0)
			rc = firn_error_set(err, FIRN_EINVAL,
					    "s3.connect-timeout: '%s' is not a number of seconds (0.001-3600)", v);
		else
			out->connect_timeout_ms = (long)(sec * 1000 + 0.5);
	}
	if (rc == 0 && (v = prop(src, "s3.request-timeout"))) {
		if (parse_seconds(v, 1, 3600, &sec) != 0)
			rc = firn_error_set(err, FIRN_EINVAL,
					    "s3.request-timeout: '%s' is not a number of seconds (1-3600)", v);
		else
			out->stall_s = (long)(sec + 0.999);
	}
	if (rc != 0)
		firn_s3__config_free(out);
	return rc;
}

int firn_s3__split(const char *loc, const char **bucket, size_t *bucket_len, const char **key,
		   struct firn_error *err)
{
	const char *p = strstr(loc, "://");
	if (!p || p[3] == '\0' || p[3] == '/')
		return firn_error_set(err, FIRN_EINVAL, "%s: not an s3://bucket/key location", loc);
	p += 3;
	const char *slash = strchr(p, '/');
	*bucket = p;
	*bucket_len = slash ? (size_t)(slash - p) : strlen(p);
	const char *k = slash ? slash : "";
	while (*k == '/')
		k++;
	*key = k;
	return 0;
}

int firn_s3__encode(struct firn_buf *b, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
			rc = firn_buf_putc(b, c);
		else
			rc = firn_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
		if (rc != 0)
			return FIRN_ENOMEM;
	}
	return 0;
}

char *firn_s3__url(const struct firn_s3__config *c, const char *bucket, size_t bucket_len,
		   const char *key, const char *query)
{
	struct firn_buf b = { 0 };
	int rc = 0;
	const char *ep = c->endpoint;
	if (ep) {
		const char *host = strstr(ep, "://");
		size_t scheme_len = host ? (size_t)(host - ep) + 3 : 0;
		if (!host) {
			rc |= firn_buf_puts(&b, "https://");
			host = ep;
		} else {
			rc |= firn_buf_append(&b, ep, scheme_len);
			host += 3;
		}
		size_t hl = strlen(host);
		while (hl > 0 && host[hl - 1] == '/')
			hl--;
		if (c->path_style) {
			rc |= firn_buf_append(&b, host, hl);
			rc |= firn_buf_putc(&b, '/');
			rc |= firn_buf_append(&b, bucket, bucket_len);
		} else {
			rc |= firn_buf_append(&b, bucket, bucket_len);
			rc |= firn_buf_putc(&b, '.');
			rc |= firn_buf_append(&b, host, hl);
		}
	} else if (c->path_style) {
		rc |= firn_buf_printf(&b, "https://s3.%s.amazonaws.com/%.*s", c->region, (int)bucket_len,
				      bucket);
	} else {
		rc |= firn_buf_printf(&b, "https://%.*s.s3.%s.amazonaws.com", (int)bucket_len, bucket,
				      c->region);
	}
	rc |= firn_buf_putc(&b, '/');
	rc |= firn_s3__encode(&b, key, strlen(key), true);
	if (query && *query) {
		rc |= firn_buf_putc(&b, '?');
		rc |= firn_buf_puts(&b, query);
	}
	return firn_buf_string(&b, rc ? FIRN_ENOMEM : 0);
}

bool firn_s3__xml_elem(const char *p, const char *end, const char *tag, const char **inner,
		       const char **inner_end)
{
	size_t tl = strlen(tag);
	for (const char *s = p; s + tl + 2 <= end; s++) {
		if (*s != '<' || strncmp(s + 1, tag, tl) != 0)
			continue;
		const char *a = s + 1 + tl;
		if (a < end && *a == '/' && a + 1 < end && a[1] == '>') { /* <Tag/> */
			*inner = *inner_end = a + 2;
			return true;
		}
		if (a >= end || (*a != '>' && *a != ' '))
			continue;
		while (a < end && *a != '>')
			a++;
		if (a >= end)
			return false;
		a++;
		for (const char *e = a; e + tl + 3 <= end; e++) {
			if (e[0] == '<' && e[1] == '/' && strncmp(e + 2, tag, tl) == 0 && e[2 + tl] == '>') {
				*inner = a;
				*inner_end = e;
				return true;
			}
		}
		return false;
	}
	return false;
}

bool firn_s3__xml_text(const char *p, const char *end, const char *tag, struct firn_buf *b,
		       const char **next)
{
	const char *s, *e;
	b->len = 0;
	if (!firn_s3__xml_elem(p, end, tag, &s, &e))
		return false;
	if (next)
		*next = e + strlen(tag) + 3;
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' } };
	while (s < e) {
		char c = *s++;
		if (c == '&') {
			bool done = false;
			for (size_t i = 0; i < sizeof(ents) / sizeof(*ents) && !done; i++) {
				size_t n = strlen(ents[i].ent) - 1;
				if ((size_t)(e - s) >= n && strncmp(s, ents[i].ent + 1, n) == 0) {
					c = ents[i].c;
					s += n;
					done = true;
				}
			}
			if (!done && s < e && *s == '#') { /* &#NN; / &#xNN; (ASCII only) */
				char *stop;
				long v = s[1] == 'x' ? strtol(s + 2, &stop, 16) : strtol(s + 1, &stop, 10);
				if (stop < e && *stop == ';' && v > 0 && v < 128) {
					c = (char)v;
					s = stop + 1;
				}
			}
		}
		if (firn_buf_putc(b, (uint8_t)c) != 0)
			return false;
	}
	return firn_buf_cstr(b) == 0;
}

int64_t firn_s3__parse_time(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	if (s[n] == '.') {
		int k = 0;
		for (const char *p = s + n + 1; isdigit((unsigned char)*p); p++, k++)
			if (k < 3)
				ms = ms * 10 + (*p - '0');
		for (; k < 3; k++)
			ms *= 10;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	return (int64_t)t * 1000 + ms;
}
