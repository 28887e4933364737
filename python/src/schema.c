/* Arrow schemas as SPEC text (text.h's firn_spec_parse_schema reads it
 * back), so create_table takes any object exposing __arrow_c_schema__.
 * libfirn has no Arrow-to-SPEC call: firn_type_name names primitives only. */
#include "firnmodule.h"

#include <ctype.h>
#include <string.h>

static int type_text(struct firn_buf *b, const struct ArrowSchema *s);

/* A plain word is written as it is, anything else in backticks. */
static int name_text(struct firn_buf *b, const char *name)
{
	bool plain = name != NULL && *name != '\0' && !isdigit((unsigned char)*name);
	for (const char *p = name; plain && *p; p++)
		plain = isalnum((unsigned char)*p) || *p == '_';
	if (plain)
		return firn_buf_puts(b, name);
	int rc = firn_buf_putc(b, '`');
	for (const char *p = name ? name : ""; rc == 0 && *p; p++)
		rc = *p == '`' ? firn_buf_puts(b, "``") : firn_buf_putc(b, (uint8_t)*p);
	return rc ? rc : firn_buf_putc(b, '`');
}

static int field_text(struct firn_buf *b, const struct ArrowSchema *s, const char *sep)
{
	int rc = name_text(b, s->name);
	if (rc == 0)
		rc = firn_buf_puts(b, sep);
	if (rc == 0)
		rc = type_text(b, s);
	if (rc == 0 && !(s->flags & ARROW_FLAG_NULLABLE))
		rc = firn_buf_puts(b, " not null");
	return rc;
}

/* A list element or map value: its type, "not null" when required. */
static int element_text(struct firn_buf *b, const struct ArrowSchema *s)
{
	int rc = type_text(b, s);
	if (rc == 0 && !(s->flags & ARROW_FLAG_NULLABLE))
		rc = firn_buf_puts(b, " not null");
	return rc;
}

/* Arrow's formats that firn's primitives do not name but that have an
 * obvious Iceberg reading (narrow ints, large and view strings, ...). */
static const char *alias(const char *f)
{
	static const struct { const char *format, *type; } v[] = {
		{ "c", "int" }, { "C", "int" }, { "s", "int" }, { "S", "int" }, { "I", "long" },
		{ "e", "float" }, { "U", "string" }, { "vu", "string" }, { "Z", "binary" },
		{ "vz", "binary" }, { "tss:", "timestamp" }, { "tsm:", "timestamp" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(f, v[i].format) == 0)
			return v[i].type;
	if (strncmp(f, "tss:", 4) == 0 || strncmp(f, "tsm:", 4) == 0)
		return "timestamptz";
	return NULL;
}

static int type_text(struct firn_buf *b, const struct ArrowSchema *s)
{
	const char *f = s->format;
	int rc = 0;
	if (s->dictionary != NULL)
		return type_text(b, s->dictionary);
	if (strcmp(f, "+s") == 0) {
		rc = firn_buf_puts(b, "struct<");
		for (int64_t i = 0; rc == 0 && i < s->n_children; i++) {
			if (i > 0)
				rc = firn_buf_puts(b, ", ");
			if (rc == 0)
				rc = field_text(b, s->children[i], ": ");
		}
		return rc ? rc : firn_buf_putc(b, '>');
	}
	if (strcmp(f, "+l") == 0 || strcmp(f, "+L") == 0 || strncmp(f, "+w:", 3) == 0 ||
	    strcmp(f, "+vl") == 0 || strcmp(f, "+vL") == 0) {
		rc = firn_buf_puts(b, "list<");
		if (rc == 0)
			rc = element_text(b, s->children[0]);
		return rc ? rc : firn_buf_putc(b, '>');
	}
	if (strcmp(f, "+m") == 0) {
		const struct ArrowSchema *e = s->children[0];
		rc = firn_buf_puts(b, "map<");
		if (rc == 0)
			rc = type_text(b, e->children[0]);
		if (rc == 0)
			rc = firn_buf_puts(b, ", ");
		if (rc == 0)
			rc = element_text(b, e->children[1]);
		return rc ? rc : firn_buf_putc(b, '>');
	}
	const char *a = alias(f);
	if (a != NULL)
		return firn_buf_puts(b, a);
	if (f[0] == 'w' && strcmp(f, "w:16") != 0)
		return firn_buf_printf(b, "fixed[%s]", f + 2);
	if (strncmp(f, "tsu:", 4) == 0 && f[4] != '\0')
		return firn_buf_puts(b, "timestamptz");
	if (strncmp(f, "tsn:", 4) == 0 && f[4] != '\0')
		return firn_buf_puts(b, "timestamptz_ns");
	return firn_type_name(b, s);
}

PyObject *firn_py_schema_spec(const struct ArrowSchema *s)
{
	struct firn_buf b = FIRN_BUF_INIT;
	int rc = 0;
	if (strcmp(s->format, "+s") != 0) {
		PyErr_SetString(PyExc_TypeError,
				"a table schema is an Arrow struct (a schema of fields)");
		return NULL;
	}
	for (int64_t i = 0; rc == 0 && i < s->n_children; i++) {
		if (i > 0)
			rc = firn_buf_puts(&b, ", ");
		if (rc == 0)
			rc = field_text(&b, s->children[i], " ");
	}
	if (rc == 0)
		rc = firn_buf_cstr(&b);
	PyObject *out = NULL;
	if (rc == FIRN_EUNSUPPORTED)
		PyErr_SetString(PyExc_TypeError, "the schema has an Arrow type firn does not take");
	else if (rc != 0)
		PyErr_NoMemory();
	else
		out = PyUnicode_FromStringAndSize((const char *)b.data, (Py_ssize_t)b.len);
	firn_buf_free(&b);
	return out;
}
