/* The server's HTTP pieces: percent-decoding, forms, base64, secret
 * comparison, JSON and ErrorModel responses, names from paths and bodies.
 * Everything here reads what a client sent: every byte is checked. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "srv_private.h"

/* Longest namespace level or table name taken from a request. */
#define NAME_MAX_BYTES 255
#define NS_MAX_LEVELS 16

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *firn_server__decode(const char *s, size_t n, bool plus_space)
{
	char *out = firn_malloc(n + 1);
	if (!out)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
				firn_free(out);
				return NULL;
			}
			c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == '\0') {
			firn_free(out);
			return NULL;
		}
		out[k++] = c;
	}
	out[k] = '\0';
	return out;
}

char *firn_server__form_get(const char *form, size_t n, const char *key, bool *bad)
{
	size_t kn = strlen(key);
	const char *p = form, *end = form + n;
	while (form && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		const char *ke = eq ? eq : e;
		char *k = firn_server__decode(p, (size_t)(ke - p), true);
		bool match = k && strlen(k) == kn && memcmp(k, key, kn) == 0;
		firn_free(k);
		if (match) {
			char *v = eq ? firn_server__decode(eq + 1, (size_t)(e - eq - 1), true)
				     : firn_strdup("");
			if (!v && bad)
				*bad = true;
			return v;
		}
		p = e + 1;
	}
	return NULL;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *firn_server__base64_decode(const char *s, size_t n, size_t *len)
{
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return NULL;
	char *out = firn_malloc(n / 4 * 3 + 3);
	if (!out)
		return NULL;
	size_t k = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);
		if (v < 0) {
			firn_free(out);
			return NULL;
		}
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (char)(acc >> bits & 0xff);
		}
	}
	out[k] = '\0';
	*len = k;
	return out;
}

bool firn_server__secret_equal(const char *given, const char *secret)
{
	size_t gn = strlen(given), sn = strlen(secret);
	unsigned diff = gn != sn;
	for (size_t i = 0; i < sn; i++)
		diff |= (unsigned char)(i < gn ? given[i] : 0) ^ (unsigned char)secret[i];
	return diff == 0;
}

/* ---- responses ------------------------------------------------------- */

int firn_server__json(struct srv_call *x, int status, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(v);
	firn_free(x->out);
	x->out = NULL;
	x->out_len = 0;
	if (!s) {
		static const char oom[] = "{\"error\":{\"message\":\"out of memory\","
					  "\"type\":\"ServiceFailureException\",\"code\":500}}";
		x->out = firn_strdup(oom);
		x->out_len = x->out ? strlen(oom) : 0;
		status = 500;
	} else {
		x->out = s;
		x->out_len = strlen(s);
	}
	x->status = status;
	x->content_type = "application/json";
	return 0;
}

int firn_server__text(struct srv_call *x, int status, char *text)
{
	firn_free(x->out);
	x->out = text;
	x->out_len = strlen(text);
	x->status = status;
	x->content_type = "application/json";
	return 0;
}

int firn_server__empty(struct srv_call *x, int status)
{
	firn_free(x->out);
	x->out = NULL;
	x->out_len = 0;
	x->status = status;
	x->content_type = NULL;
	return 0;
}

/* Whether the request's path is one of the view endpoints'. */
static bool names_views(const struct srv_call *x)
{
	for (size_t i = 0; i < x->n_seg; i++)
		if (strcmp(x->seg[i], "views") == 0)
			return true;
	return false;
}

int firn_server__error(struct srv_call *x, int status, const char *type, const char *fmt, ...)
{
	/* through firn_error_set: text from the request comes out escaped */
	char raw[FIRN_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	struct firn_error e;
	firn_error_set(&e, FIRN_EINVAL, "%s", raw);
	json_t *v = json_pack("{s:{s:s,s:s,s:i}}", "error", "message", e.message, "type", type,
			      "code", status);
	if (v && status == 404 && names_views(x)) {
		/* the spec's schema for a view's 404 is the bare ErrorModel (its
		 * example, and Java, wrap it in "error"): both, for every reader */
		json_object_set_new(v, "message", json_string(e.message));
		json_object_set_new(v, "type", json_string(type));
		json_object_set_new(v, "code", json_integer(status));
	}
	if (status == 401)
		x->auth_challenge = true;
	return firn_server__json(x, status, v);
}

/* The catalog's "namespace X ..." / "table X ..." (which of the two its
 * message starts with) in Java's words, naming the request's identifier;
 * the catalog's message when the request names none. */
static int not_found(struct srv_call *x, const char *m)
{
	bool ns = strncmp(m, "namespace ", 10) == 0, table = strncmp(m, "table ", 6) == 0;
	const char *t = x->about_table ? x->about_table : x->about_new;
	if (ns && x->about_ns)
		return firn_server__error(x, 404, "NoSuchNamespaceException",
					  "Namespace does not exist: %s", x->about_ns);
	if (table && t)
		return firn_server__error(x, 404, "NoSuchTableException",
					  "Table does not exist: %s", t);
	/* anything else missing (a metadata file) is Java's NotFoundException */
	return firn_server__error(x, 404, ns ? "NoSuchNamespaceException" : table
				  ? "NoSuchTableException" : "NotFoundException", "%s", m);
}

static int already_exists(struct srv_call *x, const char *m)
{
	const char *t = x->about_new ? x->about_new : x->about_table;
	if (strncmp(m, "namespace ", 10) == 0 && x->about_ns)
		return firn_server__error(x, 409, "AlreadyExistsException",
					  "Namespace already exists: %s", x->about_ns);
	if (strncmp(m, "table ", 6) == 0 && t)
		return firn_server__error(x, 409, "AlreadyExistsException",
					  "Table already exists: %s", t);
	return firn_server__error(x, 409, "AlreadyExistsException", "%s", m);
}

int firn_server__fail(struct srv_call *x, const struct firn_error *err, bool commit)
{
	const char *m = err->message;
	switch (err->code) {
	case FIRN_EINVAL:
	case FIRN_EUNSUPPORTED:
		return firn_server__error(x, 400, "BadRequestException", "%s", m);
	case FIRN_ENOTFOUND:
		return not_found(x, m);
	case FIRN_EEXISTS:
		return already_exists(x, m);
	case FIRN_ECONFLICT:
		return firn_server__error(x, 409, "CommitFailedException", "%s", m);
	default:
		return firn_server__error(x, 500, commit ? "CommitStateUnknownException"
					  : "ServiceFailureException", "%s", m);
	}
}

json_t *firn_server__body(struct srv_call *x)
{
	json_error_t je;
	json_t *v = json_loadb(x->body ? x->body : "", x->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		firn_server__error(x, 400, "BadRequestException", "malformed JSON body: %s (line %d)",
				   je.text, je.line);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		firn_server__error(x, 400, "BadRequestException", "the body is not a JSON object");
		return NULL;
	}
	return v;
}

/* ---- names ------------------------------------------------------------ */

/* A namespace level or table name: not empty, not too long, and none of
 * the characters that would make it two names or a path ('.', '/', '\'),
 * nor control characters. */
static bool level_ok(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '.' || c == '/' || c == '\\')
			return false;
	}
	return true;
}

bool firn_server__name_ok(struct srv_call *x, const char *name, const char *what)
{
	if (level_ok(name, strlen(name)))
		return true;
	firn_server__error(x, 400, "BadRequestException", "invalid %s name '%s': it must be 1 to %d "
			   "bytes without '.', '/', '\\' or control characters", what, name,
			   NAME_MAX_BYTES);
	return false;
}

static char *ns_invalid(struct srv_call *x, const char *shown)
{
	firn_server__error(x, 400, "BadRequestException", "invalid namespace '%s': every level must "
			   "be 1 to %d bytes without '.', '/', '\\' or control characters (at most %d "
			   "levels)", shown, NAME_MAX_BYTES, NS_MAX_LEVELS);
	return NULL;
}

char *firn_server__ns_from_segment(struct srv_call *x, const char *seg)
{
	char *ns = firn_strdup(seg);
	if (!ns) {
		firn_server__error(x, 500, "ServiceFailureException", "out of memory");
		return NULL;
	}
	int levels = 1;
	for (char *p = ns, *start = ns;; p++) {
		if (*p == 0x1f || *p == '\0') {
			if (!level_ok(start, (size_t)(p - start)) || levels > NS_MAX_LEVELS) {
				for (char *q = ns; *q; q++)
					*q = *q == 0x1f ? '.' : *q;
				ns_invalid(x, ns);
				firn_free(ns);
				return NULL;
			}
			if (*p == '\0')
				break;
			*p = '.';
			start = p + 1;
			levels++;
		}
	}
	return ns;
}

char *firn_server__ns_from_json(struct srv_call *x, json_t *levels)
{
	if (!json_is_array(levels) || json_array_size(levels) == 0 ||
	    json_array_size(levels) > NS_MAX_LEVELS)
		return ns_invalid(x, "(not an array of 1 to 16 strings)");
	struct firn_buf b = FIRN_BUF_INIT;
	for (size_t i = 0; i < json_array_size(levels); i++) {
		json_t *l = json_array_get(levels, i);
		const char *s = json_string_value(l);
		if (!s || !level_ok(s, json_string_length(l)) || strlen(s) != json_string_length(l)) {
			firn_buf_free(&b);
			return ns_invalid(x, s ? s : "(not a string)");
		}
		if ((i > 0 && firn_buf_putc(&b, '.') != 0) || firn_buf_puts(&b, s) != 0) {
			firn_buf_free(&b);
			firn_server__error(x, 500, "ServiceFailureException", "out of memory");
			return NULL;
		}
	}
	if (firn_buf_cstr(&b) != 0) {
		firn_buf_free(&b);
		firn_server__error(x, 500, "ServiceFailureException", "out of memory");
		return NULL;
	}
	return (char *)firn_buf_detach(&b, NULL);
}

json_t *firn_server__ns_json(const char *ns)
{
	json_t *a = json_array();
	for (const char *p = ns; a && p;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		json_array_append_new(a, json_stringn(p, n));
		p = dot ? dot + 1 : NULL;
	}
	return a;
}
