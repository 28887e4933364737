/* Values as text (JSON and plain cells), and the CSV / JSON Lines / table
 * writers built on them. */
#include <stdio.h>
#include <stdlib.h>

#include "arrow/types.h"
#include "firn/text.h"
#include "text/text_internal.h"

/* ---- pieces ---- */

static const char hexdig[] = "0123456789abcdef";

static int put_u64(struct firn_buf *out, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return firn_buf_append(out, tmp + sizeof(tmp) - n, (size_t)n);
}

static int put_i64(struct firn_buf *out, int64_t v)
{
	if (v < 0) {
		FIRN_TRY(firn_buf_putc(out, '-'));
		return put_u64(out, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(out, (uint64_t)v);
}

static int put_hex(struct firn_buf *out, const uint8_t *p, size_t n)
{
	FIRN_TRY(firn_buf_reserve(out, 2 * n));
	uint8_t *d = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		d[2 * i] = (uint8_t)hexdig[p[i] >> 4];
		d[2 * i + 1] = (uint8_t)hexdig[p[i] & 15];
	}
	out->len += 2 * n;
	return 0;
}

static int put_uuid(struct firn_buf *out, const uint8_t *p)
{
	FIRN_TRY(firn_buf_reserve(out, 36));
	char *d = (char *)out->data + out->len;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*d++ = '-';
		*d++ = hexdig[p[i] >> 4];
		*d++ = hexdig[p[i] & 15];
	}
	out->len += 36;
	return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len;
	uint32_t min;
	if (c < 0xC2) return 0;
	if (c < 0xE0) { len = 2; min = 0x80; }
	else if (c < 0xF0) { len = 3; min = 0x800; }
	else if (c < 0xF5) { len = 4; min = 0x10000; }
	else return 0;
	if (len > n)
		return 0;
	uint32_t cp = c & (0x7F >> len);
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* A JSON string: quotes, backslash and control characters escaped, valid
 * UTF-8 as it is, invalid bytes as U+FFFD (the output stays valid JSON). */
static int put_json_str(struct firn_buf *out, const uint8_t *s, size_t n)
{
	FIRN_TRY(firn_buf_reserve(out, n + 2));
	out->data[out->len++] = '"';
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c >= 0x80) {
			size_t k = utf8_seq(s + i, n - i);
			if (k > 0) {
				i += k - 1;
				continue;
			}
			FIRN_TRY(firn_buf_append(out, s + run, i - run));
			run = i + 1;
			FIRN_TRY(firn_buf_puts(out, "\\ufffd"));
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		FIRN_TRY(firn_buf_append(out, s + run, i - run));
		run = i + 1;
		char esc[8];
		switch (c) {
		case '"': memcpy(esc, "\\\"", 3); break;
		case '\\': memcpy(esc, "\\\\", 3); break;
		case '\n': memcpy(esc, "\\n", 3); break;
		case '\r': memcpy(esc, "\\r", 3); break;
		case '\t': memcpy(esc, "\\t", 3); break;
		default: snprintf(esc, sizeof(esc), "\\u%04x", c); break;
		}
		FIRN_TRY(firn_buf_puts(out, esc));
	}
	FIRN_TRY(firn_buf_append(out, s + run, n - run));
	return firn_buf_putc(out, '"');
}

static int64_t rd_i64(const void *buf, int64_t j)
{
	int64_t v;
	memcpy(&v, (const uint8_t *)buf + 8 * j, 8);
	return v;
}

static int32_t rd_i32(const void *buf, int64_t j)
{
	int32_t v;
	memcpy(&v, (const uint8_t *)buf + 4 * j, 4);
	return v;
}

static bool is_null(const struct firn_text__field *f, const struct ArrowArray *a, int64_t j)
{
	if (f->type.id == FIRN_A_NULL)
		return true;
	if (a->null_count == 0 || a->n_buffers < 1 || a->buffers[0] == NULL)
		return false;
	return !firn_bit_get(a->buffers[0], j);
}

/* A quoted JSON string for json, the bare text otherwise. */
static int put_quoted(struct firn_buf *out, const char *s, int n, bool json)
{
	if (n < 0)
		return FIRN_EINVAL;
	if (json)
		return put_json_str(out, (const uint8_t *)s, (size_t)n);
	return firn_buf_append(out, s, (size_t)n);
}

static int put_time(struct firn_buf *out, int64_t v, int digits, bool json)
{
	char tmp[40];
	int n;
	if (digits == 6) {
		n = firn_time_format(v, tmp, sizeof(tmp));
	} else {
		/* nanoseconds: the timestamp form of day 0 without its date */
		if (v < 0 || v >= 86400LL * 1000000000)
			n = -1;
		else if ((n = firn_timestamp_format(v, 9, false, tmp, sizeof(tmp))) > 11)
			memmove(tmp, tmp + 11, (size_t)(n -= 11) + 1);
	}
	if (n < 0) /* out of range: show the raw number rather than nothing */
		return put_i64(out, v);
	return put_quoted(out, tmp, n, json);
}

static int put_timestamp(struct firn_buf *out, int64_t v, const struct firn_type *t, bool json)
{
	char tmp[64];
	int digits = t->unit_digits;
	/* seconds and millis show as micros, the nearest Iceberg type */
	if (digits < 6) {
		int64_t m = digits == 0 ? 1000000 : 1000, w;
		if (!__builtin_mul_overflow(v, m, &w)) {
			v = w;
			digits = 6;
		}
	}
	int n = firn_timestamp_format(v, digits, t->tz, tmp, sizeof(tmp));
	return put_quoted(out, tmp, n, json);
}

static int put_value(struct firn_buf *out, const struct firn_text__field *f,
		     const struct ArrowArray *a, int64_t i, bool json);

static int put_nested(struct firn_buf *out, const struct firn_text__field *f,
		      const struct ArrowArray *a, int64_t j)
{
	switch (f->type.id) {
	case FIRN_A_STRUCT:
		FIRN_TRY(firn_buf_putc(out, '{'));
		for (int64_t k = 0; k < f->n_children && k < a->n_children; k++) {
			const char *name = f->children[k].schema->name;
			if (k > 0)
				FIRN_TRY(firn_buf_putc(out, ','));
			FIRN_TRY(put_json_str(out, (const uint8_t *)name, strlen(name)));
			FIRN_TRY(firn_buf_putc(out, ':'));
			FIRN_TRY(put_value(out, &f->children[k], a->children[k], j, true));
		}
		return firn_buf_putc(out, '}');
	case FIRN_A_LIST: {
		int32_t start = rd_i32(a->buffers[1], j), end = rd_i32(a->buffers[1], j + 1);
		FIRN_TRY(firn_buf_putc(out, '['));
		for (int32_t k = start; k < end; k++) {
			if (k > start)
				FIRN_TRY(firn_buf_putc(out, ','));
			FIRN_TRY(put_value(out, &f->children[0], a->children[0], k, true));
		}
		return firn_buf_putc(out, ']');
	}
	case FIRN_A_MAP: {
		int32_t start = rd_i32(a->buffers[1], j), end = rd_i32(a->buffers[1], j + 1);
		const struct ArrowArray *e = a->children[0];
		const struct firn_text__field *kf = &f->children[0], *vf = &f->children[1];
		FIRN_TRY(firn_buf_putc(out, f->str_keys ? '{' : '['));
		for (int32_t k = start; k < end; k++) {
			int64_t ek = e->offset + k;
			if (k > start)
				FIRN_TRY(firn_buf_putc(out, ','));
			if (f->str_keys) {
				if (is_null(kf, e->children[0], e->children[0]->offset + ek))
					FIRN_TRY(firn_buf_puts(out, "\"null\""));
				else
					FIRN_TRY(put_value(out, kf, e->children[0], ek, true));
				FIRN_TRY(firn_buf_putc(out, ':'));
				FIRN_TRY(put_value(out, vf, e->children[1], ek, true));
			} else {
				FIRN_TRY(firn_buf_puts(out, "{\"key\":"));
				FIRN_TRY(put_value(out, kf, e->children[0], ek, true));
				FIRN_TRY(firn_buf_puts(out, ",\"value\":"));
				FIRN_TRY(put_value(out, vf, e->children[1], ek, true));
				FIRN_TRY(firn_buf_putc(out, '}'));
			}
		}
		return firn_buf_putc(out, f->str_keys ? '}' : ']');
	}
	default:
		return FIRN_EUNSUPPORTED;
	}
}

/* Row i of a (a->offset not yet applied). */
static int put_value(struct firn_buf *out, const struct firn_text__field *f,
		     const struct ArrowArray *a, int64_t i, bool json)
{
	int64_t j = a->offset + i;
	if (is_null(f, a, j))
		return json ? firn_buf_append(out, "null", 4) : 0;
	const void *vals = a->n_buffers > 1 ? a->buffers[1] : NULL;
	char tmp[48], dec[FIRN_DECIMAL_TEXT_MAX];
	int n;
	switch (f->type.id) {
	case FIRN_A_NULL:
		return 0;
	case FIRN_A_BOOL:
		return firn_buf_puts(out, firn_bit_get(vals, j) ? "true" : "false");
	case FIRN_A_INT32:
		return put_i64(out, rd_i32(vals, j));
	case FIRN_A_INT64:
		return put_i64(out, rd_i64(vals, j));
	case FIRN_A_FLOAT:
	case FIRN_A_DOUBLE:
		if (f->type.id == FIRN_A_FLOAT) {
			float v;
			memcpy(&v, (const uint8_t *)vals + 4 * j, 4);
			n = firn_float_format(v, tmp, sizeof(tmp));
		} else {
			double v;
			memcpy(&v, (const uint8_t *)vals + 8 * j, 8);
			n = firn_double_format(v, tmp, sizeof(tmp));
		}
		/* NaN and the infinities are strings in JSON */
		return put_quoted(out, tmp, n, json && (tmp[0] == 'N' || tmp[0] == 'I' ||
							tmp[1] == 'I'));
	case FIRN_A_DECIMAL:
		if (json)
			FIRN_TRY(firn_buf_putc(out, '"'));
		if (f->type.width != 16)
			return FIRN_EUNSUPPORTED;
		n = firn_arrow__decimal_format(
			firn_arrow__i128_load((const uint8_t *)vals + 16 * j), f->type.scale, dec);
		FIRN_TRY(firn_buf_append(out, dec, (size_t)n));
		return json ? firn_buf_putc(out, '"') : 0;
	case FIRN_A_DATE32:
		n = firn_date_format(rd_i32(vals, j), tmp, sizeof(tmp));
		return put_quoted(out, tmp, n, json);
	case FIRN_A_TIME64:
		return put_time(out, rd_i64(vals, j), f->type.unit_digits, json);
	case FIRN_A_TIMESTAMP:
		return put_timestamp(out, rd_i64(vals, j), &f->type, json);
	case FIRN_A_STRING:
	case FIRN_A_BINARY: {
		int32_t start = rd_i32(vals, j), end = rd_i32(vals, j + 1);
		const uint8_t *d = (const uint8_t *)a->buffers[2] + start;
		size_t len = (size_t)(end - start);
		if (f->type.id == FIRN_A_STRING)
			return json ? put_json_str(out, d, len) : firn_buf_append(out, d, len);
		if (json)
			FIRN_TRY(firn_buf_putc(out, '"'));
		FIRN_TRY(put_hex(out, d, len));
		return json ? firn_buf_putc(out, '"') : 0;
	}
	case FIRN_A_FIXED: {
		const uint8_t *d = (const uint8_t *)vals + (int64_t)f->type.width * j;
		if (json)
			FIRN_TRY(firn_buf_putc(out, '"'));
		FIRN_TRY(f->type.uuid ? put_uuid(out, d) : put_hex(out, d, (size_t)f->type.width));
		return json ? firn_buf_putc(out, '"') : 0;
	}
	case FIRN_A_STRUCT:
	case FIRN_A_LIST:
	case FIRN_A_MAP:
		return put_nested(out, f, a, j);
	}
	return FIRN_EUNSUPPORTED;
}

static int format_one(struct firn_buf *out, const struct ArrowSchema *s,
		      const struct ArrowArray *a, int64_t i, bool json)
{
	if (i < 0 || i >= a->length)
		return FIRN_EINVAL;
	struct firn_text__field f;
	int rc = firn_text__field_init(&f, s, NULL, NULL);
	if (rc != 0)
		return rc;
	rc = put_value(out, &f, a, i, json);
	firn_text__field_free(&f);
	return rc;
}

int firn_value_format_json(struct firn_buf *out, const struct ArrowSchema *s,
			   const struct ArrowArray *a, int64_t i)
{
	return format_one(out, s, a, i, true);
}

int firn_value_format_text(struct firn_buf *out, const struct ArrowSchema *s,
			   const struct ArrowArray *a, int64_t i)
{
	return format_one(out, s, a, i, false);
}

/* ---- writers ---- */

#define FLUSH_AT (1 << 20)
#define TABLE_HOLD 10000
#define TABLE_MAX_WIDTH 40

struct cell {
	size_t off, len;
	int width;
};

struct firn_text_writer {
	FILE *f;
	enum firn_text_format fmt;
	struct ArrowSchema schema;
	struct firn_text__field root;
	struct firn_buf out;
	struct firn_buf cell;
	bool header_done;
	/* JSONL: "\"name\":" per column, as one buffer with offsets */
	struct firn_buf keys;
	size_t *key_off;
	/* TABLE */
	int64_t ncols;
	struct firn_buf held;   /* cell texts */
	struct firn_buf cells;  /* struct cell per held cell (header row first) */
	int64_t held_rows;
	int *widths;
	bool *right;
	bool widths_fixed;
};

static int flush(struct firn_text_writer *w, struct firn_error *err)
{
	if (w->out.len > 0 && fwrite(w->out.data, 1, w->out.len, w->f) != w->out.len)
		return firn_error_set(err, FIRN_EIO, "writing output: short write");
	firn_buf_reset(&w->out);
	return 0;
}

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

void firn_text_writer_free(struct firn_text_writer *w)
{
	if (w == NULL)
		return;
	firn_text__field_free(&w->root);
	if (w->schema.release)
		w->schema.release(&w->schema);
	firn_buf_free(&w->out);
	firn_buf_free(&w->cell);
	firn_buf_free(&w->keys);
	firn_buf_free(&w->held);
	firn_buf_free(&w->cells);
	firn_free(w->key_off);
	firn_free(w->widths);
	firn_free(w->right);
	firn_free(w);
}

static bool csv_needs_quotes(const uint8_t *s, size_t n)
{
	if (n == 0)
		return false;
	if (s[0] == ' ' || s[n - 1] == ' ' || s[0] == '\t' || s[n - 1] == '\t')
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			return true;
	return false;
}

/* A CSV cell; `empty_quoted` writes "" for an empty (not null) value. */
static int put_csv_cell(struct firn_buf *out, const uint8_t *s, size_t n, bool empty_quoted)
{
	if (n == 0)
		return empty_quoted ? firn_buf_append(out, "\"\"", 2) : 0;
	if (!csv_needs_quotes(s, n))
		return firn_buf_append(out, s, n);
	FIRN_TRY(firn_buf_putc(out, '"'));
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			FIRN_TRY(firn_buf_append(out, s + run, i + 1 - run));
			run = i; /* the quote goes out twice */
		}
	}
	FIRN_TRY(firn_buf_append(out, s + run, n - run));
	return firn_buf_putc(out, '"');
}

/* Display width in code points, and the byte length of the first `max`. */
static int display_width(const uint8_t *s, size_t n, int max, size_t *cut)
{
	int w = 0;
	for (size_t i = 0; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			if (w == max)
				*cut = i;
			w++;
		}
	}
	return w;
}

/* Appends a table cell: control characters escaped, at most `max` wide
 * (longer text ends in "..."). Returns the width through *width. */
static int put_table_text(struct firn_buf *dst, const uint8_t *s, size_t n, int max, int *width)
{
	size_t start = dst->len, run = 0;
	*width = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c >= 0x20)
			continue;
		FIRN_TRY(firn_buf_append(dst, s + run, i - run));
		run = i + 1;
		char esc[8];
		snprintf(esc, sizeof(esc), c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : "\\x%02x", c);
		FIRN_TRY(firn_buf_puts(dst, esc));
	}
	FIRN_TRY(firn_buf_append(dst, s + run, n - run));
	size_t cut = 0;
	int w = display_width(dst->data + start, dst->len - start, max > 3 ? max - 3 : max, &cut);
	if (w > max) {
		if (max > 3) {
			dst->len = start + cut;
			FIRN_TRY(firn_buf_append(dst, "...", 3));
			w = max;
		} else {
			display_width(dst->data + start, dst->len - start, max, &cut);
			dst->len = start + cut;
			w = max;
		}
	}
	*width = w;
	return 0;
}

static int put_spaces(struct firn_buf *out, int n)
{
	if (n <= 0)
		return 0;
	FIRN_TRY(firn_buf_reserve(out, (size_t)n));
	memset(out->data + out->len, ' ', (size_t)n);
	out->len += (size_t)n;
	return 0;
}

/* One line of cells; `right` aligns numbers right (NULL: all left). The last
 * column gets no trailing padding. */
static int table_put_row(struct firn_text_writer *w, const struct cell *cells,
			 const uint8_t *text, const bool *right)
{
	for (int64_t c = 0; c < w->ncols; c++) {
		int pad = w->widths[c] - cells[c].width;
		bool r = right != NULL && right[c];
		if (c > 0)
			FIRN_TRY(firn_buf_append(&w->out, " | ", 3));
		if (r)
			FIRN_TRY(put_spaces(&w->out, pad));
		if (cells[c].len > 0)
			FIRN_TRY(firn_buf_append(&w->out, text + cells[c].off, cells[c].len));
		if (!r && c < w->ncols - 1)
			FIRN_TRY(put_spaces(&w->out, pad));
	}
	return firn_buf_putc(&w->out, '\n');
}

/* Fixes the widths from the held rows and prints header, rule and rows. */
static int table_release(struct firn_text_writer *w, struct firn_error *err)
{
	const struct cell *cells = (const struct cell *)w->cells.data;
	for (int64_t r = 0; r <= w->held_rows; r++)
		for (int64_t c = 0; c < w->ncols; c++)
			if (cells[r * w->ncols + c].width > w->widths[c])
				w->widths[c] = cells[r * w->ncols + c].width;
	w->widths_fixed = true;
	/* the header is row 0, left-aligned whatever the column */
	int rc = w->ncols > 0 ? table_put_row(w, cells, w->held.data, NULL) : 0;
	for (int64_t c = 0; c < w->ncols && rc == 0; c++) {
		if (c > 0)
			rc = firn_buf_append(&w->out, "-+-", 3);
		for (int k = 0; k < w->widths[c] && rc == 0; k++)
			rc = firn_buf_putc(&w->out, '-');
	}
	if (rc == 0)
		rc = firn_buf_putc(&w->out, '\n');
	for (int64_t r = 1; r <= w->held_rows && rc == 0 && w->ncols > 0; r++) {
		rc = table_put_row(w, cells + r * w->ncols, w->held.data, w->right);
		if (rc == 0 && w->out.len >= FLUSH_AT)
			FIRN_TRY(flush(w, err));
	}
	firn_buf_free(&w->held);
	firn_buf_free(&w->cells);
	w->held_rows = 0;
	return rc == 0 ? 0 : nomem(err);
}

static int table_add_cell(struct firn_text_writer *w, struct firn_buf *text,
			  const uint8_t *s, size_t n, int max, struct cell *c)
{
	c->off = text->len;
	FIRN_TRY(put_table_text(text, s, n, max, &c->width));
	c->len = text->len - c->off;
	return 0;
}

int firn_text_writer_open(struct firn_text_writer **out, FILE *f, enum firn_text_format fmt,
			  const struct ArrowSchema *schema, struct firn_error *err)
{
	*out = NULL;
	struct firn_text_writer *w = firn_calloc(1, sizeof(*w));
	if (w == NULL)
		return nomem(err);
	w->f = f;
	w->fmt = fmt;
	int rc;
	if (firn_schema_copy(&w->schema, schema) != 0) {
		firn_free(w);
		return nomem(err);
	}
	if ((rc = firn_text__field_init(&w->root, &w->schema, NULL, err)) != 0)
		goto fail;
	if (w->root.type.id != FIRN_A_STRUCT) {
		rc = firn_error_set(err, FIRN_EINVAL, "text writer: the schema is not a struct");
		goto fail;
	}
	w->ncols = w->root.n_children;
	size_t nc = (size_t)w->ncols + 1;
	w->key_off = firn_calloc(nc, sizeof(size_t));
	w->widths = firn_calloc(nc, sizeof(int));
	w->right = firn_calloc(nc, sizeof(bool));
	if (w->key_off == NULL || w->widths == NULL || w->right == NULL)
		goto nomem;
	for (int64_t c = 0; c < w->ncols; c++) {
		const char *name = w->root.children[c].schema->name;
		w->key_off[c] = w->keys.len;
		if ((c > 0 && firn_buf_putc(&w->keys, ',')) ||
		    put_json_str(&w->keys, (const uint8_t *)name, strlen(name)) ||
		    firn_buf_putc(&w->keys, ':'))
			goto nomem;
		enum firn_atype t = w->root.children[c].type.id;
		w->right[c] = t == FIRN_A_INT32 || t == FIRN_A_INT64 || t == FIRN_A_FLOAT ||
			      t == FIRN_A_DOUBLE || t == FIRN_A_DECIMAL;
	}
	w->key_off[w->ncols] = w->keys.len;
	if (fmt == FIRN_TEXT_TABLE) {
		/* the header is held row 0 */
		for (int64_t c = 0; c < w->ncols; c++) {
			const char *name = w->root.children[c].schema->name;
			struct cell cl;
			if (table_add_cell(w, &w->held, (const uint8_t *)name, strlen(name),
					   TABLE_MAX_WIDTH, &cl) ||
			    firn_buf_append(&w->cells, &cl, sizeof(cl)))
				goto nomem;
		}
	} else if (fmt != FIRN_TEXT_CSV && fmt != FIRN_TEXT_JSONL) {
		rc = firn_error_set(err, FIRN_EINVAL, "text writer: unknown format %d", (int)fmt);
		goto fail;
	}
	*out = w;
	return 0;
nomem:
	rc = nomem(err);
fail:
	firn_text_writer_free(w);
	return rc;
}

static int write_csv_header(struct firn_text_writer *w)
{
	for (int64_t c = 0; c < w->ncols; c++) {
		const char *name = w->root.children[c].schema->name;
		if (c > 0)
			FIRN_TRY(firn_buf_putc(&w->out, ','));
		FIRN_TRY(put_csv_cell(&w->out, (const uint8_t *)name, strlen(name), w->ncols == 1));
	}
	return firn_buf_putc(&w->out, '\n');
}

/* Types whose text never needs CSV quoting. */
static bool csv_plain(enum firn_atype t)
{
	return t != FIRN_A_STRING && t != FIRN_A_STRUCT && t != FIRN_A_LIST && t != FIRN_A_MAP;
}

static int write_rows(struct firn_text_writer *w, const struct ArrowArray *batch,
		      struct firn_error *err)
{
	int64_t nc = w->ncols;
	const struct firn_text__field *cols = w->root.children;
	for (int64_t r = 0; r < batch->length; r++) {
		/* the batch's own offset and validity apply to every column */
		int64_t row = batch->offset + r;
		bool row_null = batch->null_count != 0 && batch->n_buffers > 0 &&
				!firn_bit_get(batch->buffers[0], row);
		switch (w->fmt) {
		case FIRN_TEXT_CSV:
			for (int64_t c = 0; c < nc; c++) {
				const struct ArrowArray *a = batch->children[c];
				if (c > 0)
					FIRN_TRY(firn_buf_putc(&w->out, ','));
				if (row_null || is_null(&cols[c], a, a->offset + row))
					continue;
				if (csv_plain(cols[c].type.id)) {
					FIRN_TRY(put_value(&w->out, &cols[c], a, row, false));
				} else {
					firn_buf_reset(&w->cell);
					FIRN_TRY(put_value(&w->cell, &cols[c], a, row, false));
					FIRN_TRY(put_csv_cell(&w->out, w->cell.data, w->cell.len, true));
				}
			}
			if (nc == 0)
				continue;
			FIRN_TRY(firn_buf_putc(&w->out, '\n'));
			break;
		case FIRN_TEXT_JSONL:
			FIRN_TRY(firn_buf_putc(&w->out, '{'));
			for (int64_t c = 0; c < nc; c++) {
				FIRN_TRY(firn_buf_append(&w->out, w->keys.data + w->key_off[c],
							 w->key_off[c + 1] - w->key_off[c]));
				if (row_null)
					FIRN_TRY(firn_buf_append(&w->out, "null", 4));
				else
					FIRN_TRY(put_value(&w->out, &cols[c], batch->children[c], row, true));
			}
			FIRN_TRY(firn_buf_append(&w->out, "}\n", 2));
			break;
		case FIRN_TEXT_TABLE: {
			struct cell cl[64];
			struct cell *cells = nc <= 64 ? cl : firn_calloc((size_t)nc, sizeof(*cells));
			if (cells == NULL)
				return FIRN_ENOMEM;
			/* held rows keep their text; later rows reuse the buffer */
			struct firn_buf *text = &w->held;
			if (w->widths_fixed)
				firn_buf_reset(text);
			int rc = 0;
			for (int64_t c = 0; c < nc && rc == 0; c++) {
				const struct ArrowArray *a = batch->children[c];
				firn_buf_reset(&w->cell);
				if (row_null || is_null(&cols[c], a, a->offset + row))
					rc = firn_buf_puts(&w->cell, "null");
				else
					rc = put_value(&w->cell, &cols[c], a, row, false);
				if (rc == 0)
					rc = table_add_cell(w, text, w->cell.data, w->cell.len,
							    TABLE_MAX_WIDTH, &cells[c]);
			}
			if (rc == 0) {
				if (w->widths_fixed) {
					rc = table_put_row(w, cells, text->data, w->right);
				} else {
					rc = firn_buf_append(&w->cells, cells, (size_t)nc * sizeof(*cells));
					w->held_rows++;
				}
			}
			if (cells != cl)
				firn_free(cells);
			FIRN_TRY(rc);
			if (!w->widths_fixed && w->held_rows >= TABLE_HOLD)
				FIRN_TRY(table_release(w, err));
			break;
		}
		}
		if (w->out.len >= FLUSH_AT)
			FIRN_TRY(flush(w, err));
	}
	return 0;
}

int firn_text_writer_write(struct firn_text_writer *w, const struct ArrowArray *batch,
			   struct firn_error *err)
{
	if (batch->n_children != w->ncols)
		return firn_error_set(err, FIRN_EINVAL,
				      "text writer: batch has %lld columns, the schema %lld",
				      (long long)batch->n_children, (long long)w->ncols);
	if (w->fmt == FIRN_TEXT_CSV && !w->header_done) {
		if (write_csv_header(w) != 0)
			return nomem(err);
		w->header_done = true;
	}
	int rc = write_rows(w, batch, err);
	if (rc == FIRN_EIO)
		return rc;
	if (rc == FIRN_ENOMEM)
		return nomem(err);
	if (rc != 0)
		return firn_error_set(err, rc, "text writer: cannot format a value");
	return 0;
}

int firn_text_writer_close(struct firn_text_writer *w, struct firn_error *err)
{
	if (w->fmt == FIRN_TEXT_CSV && !w->header_done) {
		if (write_csv_header(w) != 0)
			return nomem(err);
		w->header_done = true;
	}
	if (w->fmt == FIRN_TEXT_TABLE && !w->widths_fixed)
		FIRN_TRY(table_release(w, err));
	FIRN_TRY(flush(w, err));
	if (fflush(w->f) != 0)
		return firn_error_set(err, FIRN_EIO, "writing output: flush failed");
	return 0;
}
