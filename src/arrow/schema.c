/* ArrowSchema nodes made by firn: formats, metadata, field ids, copies. */
#include <stdio.h>
#include <stdlib.h>

#include "firn/arrow.h"

static void schema_release(struct ArrowSchema *s)
{
	if (s == NULL || s->release == NULL)
		return;
	for (int64_t i = 0; i < s->n_children; i++) {
		struct ArrowSchema *c = s->children[i];
		if (c != NULL) {
			if (c->release != NULL)
				c->release(c);
			firn_free(c);
		}
	}
	firn_free(s->children);
	if (s->dictionary != NULL) {
		if (s->dictionary->release != NULL)
			s->dictionary->release(s->dictionary);
		firn_free(s->dictionary);
	}
	firn_free((void *)s->format);
	firn_free((void *)s->name);
	firn_free((void *)s->metadata);
	s->release = NULL;
}

int firn_schema_init(struct ArrowSchema *out, const char *format, const char *name,
		     int64_t flags, int64_t n_children)
{
	memset(out, 0, sizeof(*out));
	out->release = schema_release;
	out->flags = flags;
	out->format = firn_strdup(format);
	out->name = firn_strdup(name ? name : "");
	if (out->format == NULL || out->name == NULL)
		goto nomem;
	if (n_children > 0) {
		out->children = firn_calloc((size_t)n_children, sizeof(*out->children));
		if (out->children == NULL)
			goto nomem;
		out->n_children = n_children;
		for (int64_t i = 0; i < n_children; i++) {
			out->children[i] = firn_calloc(1, sizeof(struct ArrowSchema));
			if (out->children[i] == NULL)
				goto nomem;
		}
	}
	return 0;
nomem:
	schema_release(out);
	return FIRN_ENOMEM;
}

static int32_t rd32(const char *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

const char *firn_metadata_get(const char *md, const char *key, int32_t *len_out)
{
	if (md == NULL)
		return NULL;
	int32_t n = rd32(md);
	const char *p = md + 4;
	size_t klen = strlen(key);
	for (int32_t i = 0; i < n; i++) {
		int32_t kl = rd32(p);
		const char *k = p + 4;
		p = k + kl;
		int32_t vl = rd32(p);
		const char *v = p + 4;
		p = v + vl;
		if ((size_t)kl == klen && memcmp(k, key, klen) == 0) {
			if (len_out)
				*len_out = vl;
			return v;
		}
	}
	return NULL;
}

static size_t metadata_size(const char *md)
{
	if (md == NULL)
		return 0;
	int32_t n = rd32(md);
	const char *p = md + 4;
	for (int32_t i = 0; i < n; i++) {
		p += 4 + rd32(p);
		p += 4 + rd32(p);
	}
	return (size_t)(p - md);
}

/* Sets key to value, replacing an existing entry. */
int firn_schema_add_metadata(struct ArrowSchema *s, const char *key, const char *value)
{
	struct firn_buf b = FIRN_BUF_INIT;
	int32_t n = 0, kl = (int32_t)strlen(key), vl = (int32_t)strlen(value);
	if (firn_buf_zeros(&b, 4) != 0)
		return FIRN_ENOMEM;
	if (s->metadata != NULL) {
		const char *p = s->metadata + 4;
		int32_t old = rd32(s->metadata);
		for (int32_t i = 0; i < old; i++) {
			int32_t okl = rd32(p);
			const char *k = p + 4;
			int32_t ovl = rd32(k + okl);
			size_t entry = 8 + (size_t)okl + (size_t)ovl;
			if (!(okl == kl && memcmp(k, key, (size_t)kl) == 0)) {
				if (firn_buf_append(&b, p, entry) != 0)
					goto nomem;
				n++;
			}
			p += entry;
		}
	}
	if (firn_buf_append(&b, &kl, 4) || firn_buf_append(&b, key, (size_t)kl) ||
	    firn_buf_append(&b, &vl, 4) || firn_buf_append(&b, value, (size_t)vl))
		goto nomem;
	n++;
	memcpy(b.data, &n, 4);
	firn_free((void *)s->metadata);
	s->metadata = (const char *)firn_buf_detach(&b, NULL);
	return 0;
nomem:
	firn_buf_free(&b);
	return FIRN_ENOMEM;
}

int32_t firn_schema_field_id(const struct ArrowSchema *s)
{
	int32_t len;
	const char *v = firn_metadata_get(s->metadata, "PARQUET:field_id", &len);
	if (v == NULL || len <= 0 || len > 11)
		return -1;
	char tmp[12];
	memcpy(tmp, v, (size_t)len);
	tmp[len] = '\0';
	char *end;
	long id = strtol(tmp, &end, 10);
	if (*end != '\0' || id < 0 || id > INT32_MAX)
		return -1;
	return (int32_t)id;
}

int firn_schema_set_field_id(struct ArrowSchema *s, int32_t id)
{
	char tmp[16];
	snprintf(tmp, sizeof(tmp), "%d", (int)id);
	return firn_schema_add_metadata(s, "PARQUET:field_id", tmp);
}

int firn_schema_copy(struct ArrowSchema *out, const struct ArrowSchema *src)
{
	int rc = firn_schema_init(out, src->format, src->name, src->flags, src->n_children);
	if (rc != 0)
		return rc;
	if (src->metadata != NULL) {
		size_t n = metadata_size(src->metadata);
		char *md = firn_malloc(n);
		if (md == NULL)
			goto nomem;
		memcpy(md, src->metadata, n);
		out->metadata = md;
	}
	for (int64_t i = 0; i < src->n_children; i++)
		if ((rc = firn_schema_copy(out->children[i], src->children[i])) != 0)
			goto fail;
	if (src->dictionary != NULL) {
		out->dictionary = firn_calloc(1, sizeof(*out->dictionary));
		if (out->dictionary == NULL)
			goto nomem;
		if ((rc = firn_schema_copy(out->dictionary, src->dictionary)) != 0)
			goto fail;
	}
	return 0;
nomem:
	rc = FIRN_ENOMEM;
fail:
	out->release(out);
	return rc;
}

static int parse_int(const char *p, int32_t *out, const char **end)
{
	char *e;
	long v = strtol(p, &e, 10);
	if (e == p || v < 0 || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	*end = e;
	return 0;
}

int firn_type_of(const struct ArrowSchema *s, struct firn_type *t, struct firn_error *err)
{
	const char *f = s->format;
	memset(t, 0, sizeof(*t));
	if (f == NULL)
		return firn_error_set(err, FIRN_EINVAL, "arrow schema: no format");
	if (s->dictionary != NULL)
		goto unsupported;
	switch (f[0]) {
	case 'n': t->id = FIRN_A_NULL; return f[1] ? -1 : 0;
	case 'b': t->id = FIRN_A_BOOL; t->width = 1; break;
	case 'i': t->id = FIRN_A_INT32; t->width = 4; break;
	case 'l': t->id = FIRN_A_INT64; t->width = 8; break;
	case 'f': t->id = FIRN_A_FLOAT; t->width = 4; break;
	case 'g': t->id = FIRN_A_DOUBLE; t->width = 8; break;
	case 'u': t->id = FIRN_A_STRING; break;
	case 'z': t->id = FIRN_A_BINARY; break;
	case 'd': {
		const char *p = f + 1, *e;
		if (*p++ != ':' || parse_int(p, &t->precision, &e) || *e != ',')
			goto unsupported;
		long scale = strtol(e + 1, (char **)&p, 10);
		if (*p == ',') { /* bit width */
			if (strcmp(p, ",128") != 0)
				goto unsupported;
		} else if (*p != '\0') {
			goto unsupported;
		}
		if (t->precision < 1 || t->precision > 38 || scale < -38 || scale > 38)
			goto unsupported;
		t->scale = (int32_t)scale;
		t->id = FIRN_A_DECIMAL;
		t->width = 16;
		return 0;
	}
	case 'w': {
		const char *e;
		if (f[1] != ':' || parse_int(f + 2, &t->width, &e) || *e != '\0')
			goto unsupported;
		t->id = FIRN_A_FIXED;
		int32_t len;
		const char *ext = firn_metadata_get(s->metadata, "ARROW:extension:name", &len);
		t->uuid = ext != NULL && t->width == 16 && len == 10 && memcmp(ext, "arrow.uuid", 10) == 0;
		return 0;
	}
	case 't': {
		if (strcmp(f, "tdD") == 0) {
			t->id = FIRN_A_DATE32;
			t->width = 4;
			return 0;
		}
		int digits;
		char unit = f[2];
		if (unit == 's') digits = 0;
		else if (unit == 'm') digits = 3;
		else if (unit == 'u') digits = 6;
		else if (unit == 'n') digits = 9;
		else goto unsupported;
		if (f[1] == 't' && f[3] == '\0' && (unit == 'u' || unit == 'n')) {
			t->id = FIRN_A_TIME64;
			t->width = 8;
			t->unit_digits = digits;
			return 0;
		}
		if (f[1] == 's' && f[3] == ':') {
			t->id = FIRN_A_TIMESTAMP;
			t->width = 8;
			t->unit_digits = digits;
			t->tz = f[4] != '\0';
			return 0;
		}
		goto unsupported;
	}
	case '+':
		if (strcmp(f, "+s") == 0) t->id = FIRN_A_STRUCT;
		else if (strcmp(f, "+l") == 0 && s->n_children == 1) t->id = FIRN_A_LIST;
		else if (strcmp(f, "+m") == 0 && s->n_children == 1 &&
			 s->children[0]->n_children == 2) t->id = FIRN_A_MAP;
		else goto unsupported;
		return 0;
	default:
		goto unsupported;
	}
	if (f[1] != '\0')
		goto unsupported;
	return 0;
unsupported:
	return firn_error_set(err, FIRN_EUNSUPPORTED, "column %s: unsupported arrow type '%s'",
			      s->name ? s->name : "?", f);
}
