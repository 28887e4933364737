/* The text reader: CSV and JSON Lines files (or stdin) into Arrow struct
 * batches, and CSV type inference. Values are parsed by scalar.c, JSON
 * Lines rows and nested cells by jsonl.c.
 *
 * CSV: a header row names the columns; RFC 4180 quoting; an unquoted empty
 * cell is null, a quoted empty cell ("") an empty string or binary. Blank
 * lines are skipped when there is more than one column (with one column an
 * empty line is a null, which is what the writer prints for it). Nested
 * columns hold JSON text.
 *
 * Inference (no schema): every column gets the narrowest of long, double,
 * boolean, date, timestamp, timestamptz, timestamp_ns, timestamptz_ns,
 * string that reads all its non-empty values (timestamptz when some value
 * has an offset, a nanosecond type when some value has non-zero digits past
 * the microseconds; all empty: string).
 * JSON Lines inference is in jsonl.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include "firn/text.h"
#include "firn/io.h"
#include "io/io_local.h"
#include "text/text_internal.h"

#define CHUNK (1 << 20)
#define DEFAULT_BATCH 65536

struct csv_field {
	size_t off, len;
	bool quoted;
	bool scratch; /* text is in r->scratch (quotes were unescaped) */
};

struct firn_text_reader {
	char *path; /* as shown in messages */
	enum firn_text_format fmt;
	FILE *f;                  /* stdin, or a pipe */
	struct firn_io_input *in; /* a file, through firn/io.h */
	int64_t off;              /* where in it the next read starts */
	bool close_f;
	bool in_memory; /* the whole input is in buf (stdin while inferring) */
	struct firn_buf buf;
	size_t pos;
	bool eof;
	int64_t line; /* line number of the next record */

	struct ArrowSchema schema;
	struct firn_text__field root;
	struct firn_builder builder;
	bool builder_ready;
	int64_t batch_rows;
	bool done;
	struct firn_error failed; /* code != 0: every later call returns this */

	/* CSV */
	struct csv_field *flds;
	size_t nflds, flds_cap;
	struct firn_buf scratch;
	int64_t ncsv;        /* columns in the header */
	struct firn_buf hdr; /* their names, back to back */
	size_t *hdr_off;     /* ncsv + 1 offsets into hdr */
	int64_t *field_col;  /* field -> CSV column, or -1 */

	/* JSON Lines: top-level fields some row has had a key for */
	bool *seen;
};

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* ---- scalar values from text ---- */

/* ---- input ---- */

static int fill(struct firn_text_reader *r, struct firn_error *err)
{
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf.data, r->buf.data + r->pos, r->buf.len - r->pos);
		r->buf.len -= r->pos;
		r->pos = 0;
	}
	size_t want = r->buf.len < CHUNK ? CHUNK : r->buf.len;
	if (firn_buf_reserve(&r->buf, want) != 0)
		return nomem(err);
	size_t room = r->buf.cap - r->buf.len, got;
	if (r->in) {
		got = r->in->size - r->off < (int64_t)room ? (size_t)(r->in->size - r->off) : room;
		if (got > 0)
			FIRN_TRY(firn_io_read_at(r->in, r->off, got, r->buf.data + r->buf.len, err));
		r->off += (int64_t)got;
	} else {
		got = fread(r->buf.data + r->buf.len, 1, room, r->f);
		if (got == 0 && ferror(r->f))
			return firn_error_set(err, FIRN_EIO, "%s: read failed", r->path);
	}
	r->buf.len += got;
	if (got == 0)
		r->eof = true;
	return 0;
}

/* Back to the first byte (after a UTF-8 byte order mark). */
static int rewind_input(struct firn_text_reader *r, struct firn_error *err)
{
	r->line = 1;
	if (r->in_memory) {
		r->pos = 0;
	} else {
		if (!r->in)
			return firn_error_set(err, FIRN_EIO, "%s: cannot seek back to the start",
					      r->path);
		r->off = 0;
		r->buf.len = r->pos = 0;
		r->eof = false;
		FIRN_TRY(fill(r, err));
	}
	if (r->buf.len - r->pos >= 3 && memcmp(r->buf.data + r->pos, "\xEF\xBB\xBF", 3) == 0)
		r->pos += 3;
	return 0;
}

static int fail(struct firn_text_reader *r, int rc, struct firn_error *err)
{
	r->failed = *err;
	r->failed.code = rc;
	return rc;
}

/* ---- CSV records ---- */

enum { REC_EOF = 0, REC_OK = 1, REC_MORE = 2 };

static int push_field(struct firn_text_reader *r, const struct csv_field *fl)
{
	if (r->nflds == r->flds_cap) {
		size_t cap = r->flds_cap ? r->flds_cap * 2 : 64;
		struct csv_field *p = firn_realloc(r->flds, cap * sizeof(*p));
		if (p == NULL)
			return FIRN_ENOMEM;
		r->flds = p;
		r->flds_cap = cap;
	}
	r->flds[r->nflds++] = *fl;
	return 0;
}

/* One record from buf at pos: REC_OK (fields in r->flds), REC_EOF, REC_MORE
 * (needs more input; nothing consumed), or an error. */
static int csv_scan(struct firn_text_reader *r, struct firn_error *err)
{
	const uint8_t *d = r->buf.data;
	size_t end = r->buf.len, p = r->pos;
	int64_t nl = 0;
	if (p >= end)
		return r->eof ? REC_EOF : REC_MORE;
	firn_buf_reset(&r->scratch);
	r->nflds = 0;
	for (;;) {
		struct csv_field fl = { 0, 0, false, false };
		if (p < end && d[p] == '"') {
			fl.quoted = true;
			size_t q = p + 1, seg = q;
			for (;;) {
				const uint8_t *hit = q < end ? memchr(d + q, '"', end - q) : NULL;
				if (hit == NULL) {
					if (!r->eof)
						return REC_MORE;
					return firn_error_set(err, FIRN_EINVAL,
							      "%s: line %lld: unterminated quoted field",
							      r->path, (long long)(r->line + nl));
				}
				size_t h = (size_t)(hit - d);
				if (h + 1 == end && !r->eof)
					return REC_MORE;
				if (h + 1 < end && d[h + 1] == '"') {
					if (!fl.scratch) {
						fl.scratch = true;
						fl.off = r->scratch.len;
					}
					if (firn_buf_append(&r->scratch, d + seg, h + 1 - seg) != 0)
						return nomem(err);
					q = seg = h + 2;
					continue;
				}
				if (fl.scratch) {
					if (firn_buf_append(&r->scratch, d + seg, h - seg) != 0)
						return nomem(err);
					fl.len = r->scratch.len - fl.off;
				} else {
					fl.off = p + 1;
					fl.len = h - (p + 1);
				}
				for (const uint8_t *x = d + p + 1;
				     (x = memchr(x, '\n', (size_t)(d + h - x))) != NULL; x++)
					nl++;
				p = h + 1;
				break;
			}
			if (p < end && d[p] != ',' && d[p] != '\n' && d[p] != '\r')
				return firn_error_set(err, FIRN_EINVAL,
						      "%s: line %lld: unexpected '%c' after a closing quote",
						      r->path, (long long)(r->line + nl), d[p]);
		} else {
			size_t s0 = p;
			while (p < end && d[p] != ',' && d[p] != '\n' && d[p] != '\r')
				p++;
			fl.off = s0;
			fl.len = p - s0;
		}
		if (push_field(r, &fl) != 0)
			return nomem(err);
		if (p == end) {
			if (!r->eof)
				return REC_MORE;
			break;
		}
		if (d[p] == ',') {
			p++;
			continue;
		}
		if (d[p] == '\r') {
			if (p + 1 == end && !r->eof)
				return REC_MORE;
			p++;
			if (p < end && d[p] == '\n')
				p++;
		} else {
			p++;
		}
		break;
	}
	r->pos = p;
	r->line += nl + 1;
	return REC_OK;
}

/* The next record, reading more input as needed. 1, 0 at the end, or <0. */
static int csv_record(struct firn_text_reader *r, int64_t *line, struct firn_error *err)
{
	for (;;) {
		*line = r->line;
		int rc = csv_scan(r, err);
		if (rc < 0)
			return rc;
		if (rc != REC_MORE)
			return rc;
		FIRN_TRY(fill(r, err));
	}
}

static const char *fld_ptr(const struct firn_text_reader *r, const struct csv_field *fl)
{
	const uint8_t *base = fl->scratch ? r->scratch.data : r->buf.data;
	return base ? (const char *)base + fl->off : "";
}

static bool blank_record(const struct firn_text_reader *r)
{
	return r->nflds == 1 && !r->flds[0].quoted && r->flds[0].len == 0;
}

static int check_count(struct firn_text_reader *r, int64_t line, struct firn_error *err)
{
	if ((int64_t)r->nflds != r->ncsv)
		return firn_error_set(err, FIRN_EINVAL, "%s: line %lld: expected %lld fields, found %zu",
				      r->path, (long long)line, (long long)r->ncsv, r->nflds);
	return 0;
}

static const char *hdr_name(const struct firn_text_reader *r, int64_t c, size_t *len)
{
	*len = r->hdr_off[c + 1] - r->hdr_off[c];
	return r->hdr.data ? (const char *)r->hdr.data + r->hdr_off[c] : "";
}

/* Reads the header row (no columns for an empty input). */
static int csv_header(struct firn_text_reader *r, struct firn_error *err)
{
	int64_t line;
	int rc = csv_record(r, &line, err);
	if (rc < 0)
		return rc;
	if (rc == REC_EOF)
		r->nflds = 0;
	r->ncsv = (int64_t)r->nflds;
	firn_buf_reset(&r->hdr);
	firn_free(r->hdr_off);
	r->hdr_off = firn_calloc(r->nflds + 1, sizeof(size_t));
	if (r->hdr_off == NULL)
		return nomem(err);
	for (size_t c = 0; c < r->nflds; c++) {
		if (firn_buf_append(&r->hdr, fld_ptr(r, &r->flds[c]), r->flds[c].len) != 0)
			return nomem(err);
		r->hdr_off[c + 1] = r->hdr.len;
	}
	for (int64_t c = 0; c < r->ncsv; c++) {
		size_t len, klen;
		const char *name = hdr_name(r, c, &len);
		for (int64_t k = 0; k < c; k++) {
			const char *other = hdr_name(r, k, &klen);
			if (klen == len && memcmp(other, name, len) == 0)
				return firn_error_set(err, FIRN_EINVAL,
						      "%s: line 1: duplicate column '%.*s'", r->path,
						      (int)(len > 64 ? 64 : len), name);
		}
	}
	return 0;
}

static int csv_infer(struct firn_text_reader *r, struct firn_buf *spec, struct firn_error *err)
{
	int rc = csv_header(r, err);
	if (rc != 0)
		return rc;
	int64_t nc = r->ncsv;
	unsigned *kinds = firn_calloc((size_t)nc + 1, sizeof(unsigned));
	if (kinds == NULL)
		return nomem(err);
	for (int64_t c = 0; c < nc; c++) {
		size_t len;
		hdr_name(r, c, &len);
		kinds[c] = FIRN_TEXT__K_ALL;
		if (len == 0) {
			rc = firn_error_set(err, FIRN_EINVAL, "%s: line 1: column %lld has no name",
					    r->path, (long long)c + 1);
			goto done;
		}
	}
	for (;;) {
		int64_t line;
		rc = csv_record(r, &line, err);
		if (rc <= 0)
			break;
		if (nc > 1 && blank_record(r))
			continue;
		if ((rc = check_count(r, line, err)) != 0)
			break;
		for (int64_t c = 0; c < nc; c++) {
			const struct csv_field *fl = &r->flds[c];
			if (kinds[c] == FIRN_TEXT__K_STRING || fl->len == 0)
				continue;
			kinds[c] &= firn_text__kinds(fld_ptr(r, fl), fl->len);
		}
	}
	if (rc != 0)
		goto done;
	for (int64_t c = 0; c < nc && rc == 0; c++) {
		size_t len;
		const char *name = hdr_name(r, c, &len);
		if ((c > 0 && firn_buf_append(spec, ", ", 2)) ||
		    firn_spec__put_name(spec, name, len) || firn_buf_putc(spec, ' ') ||
		    firn_buf_puts(spec, firn_text__kind_name(kinds[c])))
			rc = nomem(err);
	}
done:
	firn_free(kinds);
	return rc;
}

/* Matches the header to the schema's fields. */
static int csv_map_columns(struct firn_text_reader *r, struct firn_error *err)
{
	int64_t nf = r->root.n_children;
	r->field_col = firn_calloc((size_t)nf + 1, sizeof(int64_t));
	if (r->field_col == NULL)
		return nomem(err);
	for (int64_t k = 0; k < nf; k++)
		r->field_col[k] = -1;
	for (int64_t c = 0; c < r->ncsv; c++) {
		size_t len;
		const char *name = hdr_name(r, c, &len);
		int64_t k;
		for (k = 0; k < nf; k++) {
			const char *fn = r->root.children[k].schema->name;
			if (strlen(fn) == len && memcmp(fn, name, len) == 0)
				break;
		}
		if (k == nf)
			return firn_error_set(err, FIRN_EINVAL,
					      "%s: line 1: column '%.*s' is not in the schema",
					      r->path, (int)(len > 64 ? 64 : len), name);
		r->field_col[k] = c;
	}
	for (int64_t k = 0; k < nf; k++)
		if (r->field_col[k] < 0 && !r->root.children[k].nullable)
			return firn_error_set(err, FIRN_EINVAL,
					      "%s: column %s is required but not in the header",
					      r->path, r->root.children[k].path);
	return 0;
}

static int csv_row(struct firn_text_reader *r, struct firn_error *err)
{
	struct firn_builder *b = &r->builder;
	FIRN_TRY(firn_builder_append_struct(b) == 0 ? 0 : nomem(err));
	for (int64_t k = 0; k < r->root.n_children; k++) {
		const struct firn_text__field *f = &r->root.children[k];
		struct firn_builder *cb = &b->children[k];
		int64_t c = r->field_col[k];
		if (c < 0) {
			FIRN_TRY(firn_text__append_null(cb, f, err));
			continue;
		}
		const struct csv_field *fl = &r->flds[c];
		if (fl->len == 0 && !(fl->quoted && (f->type.id == FIRN_A_STRING ||
						     f->type.id == FIRN_A_BINARY))) {
			FIRN_TRY(firn_text__append_null(cb, f, err));
			continue;
		}
		FIRN_TRY(firn_text__append_scalar(cb, f, fld_ptr(r, fl), fl->len, err));
	}
	return 0;
}

/* ---- JSON Lines ---- */

/* The next line (without its \r\n); 1, 0 at the end, or <0. */
static int next_line(struct firn_text_reader *r, const char **s, size_t *n, int64_t *line,
		     struct firn_error *err)
{
	for (;;) {
		size_t avail = r->buf.len - r->pos;
		const uint8_t *start = r->buf.data ? r->buf.data + r->pos : NULL;
		const uint8_t *nl = avail ? memchr(start, '\n', avail) : NULL;
		if (nl == NULL && !r->eof) {
			FIRN_TRY(fill(r, err));
			continue;
		}
		if (avail == 0)
			return 0;
		size_t len = nl ? (size_t)(nl - start) : avail;
		r->pos += nl ? len + 1 : len;
		*line = r->line++;
		if (len > 0 && start[len - 1] == '\r')
			len--;
		*s = (const char *)start;
		*n = len;
		return 1;
	}
}

static bool blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

static int jsonl_infer(struct firn_text_reader *r, struct firn_buf *spec, struct firn_error *err)
{
	struct firn_jsonl__infer *inf;
	if (firn_jsonl__infer_new(&inf) != 0)
		return nomem(err);
	int rc;
	const char *s;
	size_t n;
	int64_t line;
	while ((rc = next_line(r, &s, &n, &line, err)) == 1) {
		if (blank_line(s, n))
			continue;
		if ((rc = firn_jsonl__infer_line(inf, s, n, err)) != 0) {
			firn_error_prefix(err, "%s: line %lld", r->path, (long long)line);
			break;
		}
	}
	if (rc == 0 && firn_jsonl__infer_spec(inf, spec) != 0)
		rc = nomem(err);
	firn_jsonl__infer_free(inf);
	return rc;
}

/* ---- the reader ---- */

void firn_text_reader_free(struct firn_text_reader *r)
{
	if (r == NULL)
		return;
	firn_io_input_close(r->in);
	if (r->close_f && r->f != NULL)
		fclose(r->f);
	if (r->builder_ready)
		firn_builder_free(&r->builder);
	firn_text__field_free(&r->root);
	if (r->schema.release)
		r->schema.release(&r->schema);
	firn_buf_free(&r->buf);
	firn_buf_free(&r->scratch);
	firn_free(r->flds);
	firn_free(r->field_col);
	firn_free(r->seen);
	firn_buf_free(&r->hdr);
	firn_free(r->hdr_off);
	firn_free(r->path);
	firn_free(r);
}

/* Reads all of r->f into memory (for inference on a stream). */
static int slurp(struct firn_text_reader *r, struct firn_error *err)
{
	while (!r->eof)
		FIRN_TRY(fill(r, err));
	r->in_memory = true;
	return 0;
}

static int open_input(struct firn_text_reader *r, const char *path, bool infer,
		      struct firn_error *err)
{
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
		r->path = firn_strdup("stdin");
	} else {
		r->path = firn_strdup(path);
		/* a pipe is read in sequence (opening it twice would wait for a
		 * writer that has gone) */
		FIRN_TRY(firn_io__is_sequential(path) ? firn_io__open_sequential(path, &r->f, err)
						       : firn_io_open_read(path, &r->in, err));
		r->close_f = r->f != NULL;
	}
	if (r->path == NULL)
		return nomem(err);
	bool seekable = r->in != NULL;
	if (infer && !seekable)
		FIRN_TRY(slurp(r, err));
	else
		FIRN_TRY(fill(r, err));
	r->line = 1;
	if (r->buf.len >= 3 && memcmp(r->buf.data, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
	return 0;
}

int firn_text_reader_open(struct firn_text_reader **out, const char *path,
			  enum firn_text_format fmt, const struct ArrowSchema *schema,
			  int64_t batch_rows, struct firn_error *err)
{
	*out = NULL;
	if (fmt != FIRN_TEXT_CSV && fmt != FIRN_TEXT_JSONL)
		return firn_error_set(err, FIRN_EINVAL, "text reader: only CSV and JSON Lines");
	struct firn_text_reader *r = firn_calloc(1, sizeof(*r));
	if (r == NULL)
		return nomem(err);
	r->fmt = fmt;
	r->batch_rows = batch_rows > 0 ? batch_rows : DEFAULT_BATCH;
	struct firn_buf spec = FIRN_BUF_INIT;
	int rc = open_input(r, path, schema == NULL, err);
	if (rc != 0)
		goto fail;
	if (schema != NULL) {
		if (firn_schema_copy(&r->schema, schema) != 0) {
			rc = nomem(err);
			goto fail;
		}
	} else {
		rc = fmt == FIRN_TEXT_CSV ? csv_infer(r, &spec, err) : jsonl_infer(r, &spec, err);
		if (rc != 0)
			goto fail;
		if (spec.len == 0) {
			rc = firn_schema_init(&r->schema, "+s", "", 0, 0);
			if (rc != 0)
				rc = nomem(err);
		} else if ((rc = firn_buf_cstr(&spec)) != 0) {
			rc = nomem(err);
		} else if ((rc = firn_spec_parse_schema((const char *)spec.data, &r->schema, err)) != 0) {
			firn_error_prefix(err, "%s: inferred", r->path);
		}
		if (rc != 0)
			goto fail;
		if ((rc = rewind_input(r, err)) != 0)
			goto fail;
	}
	if ((rc = firn_text__field_init(&r->root, &r->schema, NULL, err)) != 0)
		goto fail;
	if (r->root.type.id != FIRN_A_STRUCT) {
		rc = firn_error_set(err, FIRN_EINVAL, "text reader: the schema is not a struct");
		goto fail;
	}
	if (fmt == FIRN_TEXT_JSONL &&
	    !(r->seen = firn_calloc((size_t)r->root.n_children + 1, sizeof(bool)))) {
		rc = nomem(err);
		goto fail;
	}
	if ((rc = firn_builder_init(&r->builder, &r->schema, err)) != 0)
		goto fail;
	r->builder_ready = true;
	if (fmt == FIRN_TEXT_CSV) {
		if ((rc = csv_header(r, err)) != 0 || (rc = csv_map_columns(r, err)) != 0)
			goto fail;
	}
	firn_buf_free(&spec);
	*out = r;
	return 0;
fail:
	firn_buf_free(&spec);
	firn_text_reader_free(r);
	return rc;
}

int firn_text_reader_schema(struct firn_text_reader *r, struct ArrowSchema *out,
			    struct firn_error *err)
{
	if (firn_schema_copy(out, &r->schema) != 0)
		return nomem(err);
	return 0;
}

static void set_exact_ts(struct firn_text__field *f, bool exact)
{
	f->exact_ts = exact;
	for (int64_t i = 0; i < f->n_children; i++)
		set_exact_ts(&f->children[i], exact);
}

void firn_text__reader_set_truncate(struct firn_text_reader *r, bool truncate)
{
	set_exact_ts(&r->root, !truncate);
}

/* After a batch, buffers grown for a huge record go back to their usual
 * size: they are not held while the caller works on the batch (a record's
 * memory stays within a few times its size). */
static void shrink_buffers(struct firn_text_reader *r)
{
	if (r->scratch.cap > 4 * CHUNK)
		firn_buf_free(&r->scratch);
	size_t left = r->buf.len - r->pos;
	if (r->in_memory || r->buf.cap <= 4 * CHUNK || left > CHUNK)
		return;
	memmove(r->buf.data, r->buf.data + r->pos, left);
	r->buf.len = left;
	r->pos = 0;
	uint8_t *p = firn_realloc(r->buf.data, CHUNK);
	if (p != NULL) {
		r->buf.data = p;
		r->buf.cap = CHUNK;
	}
}

int firn_text_reader_next(struct firn_text_reader *r, struct ArrowArray *out,
			  struct firn_error *err)
{
	struct firn_error local;
	if (err == NULL)
		err = &local;
	memset(out, 0, sizeof(*out));
	if (r->failed.code != 0) {
		if (err != NULL)
			*err = r->failed;
		return r->failed.code;
	}
	if (r->done)
		return 0;
	int64_t rows = 0;
	int rc = 0;
	while (rows < r->batch_rows) {
		int64_t line;
		if (r->fmt == FIRN_TEXT_CSV) {
			rc = csv_record(r, &line, err);
			if (rc <= 0)
				break;
			if (r->ncsv > 1 && blank_record(r))
				continue;
			if ((rc = check_count(r, line, err)) != 0)
				break;
			rc = csv_row(r, err);
		} else {
			const char *s;
			size_t n;
			rc = next_line(r, &s, &n, &line, err);
			if (rc <= 0)
				break;
			if (blank_line(s, n))
				continue;
			rc = firn_jsonl__append_row(&r->builder, &r->root, s, n, r->seen, err);
		}
		if (rc != 0) {
			/* messages from the value parsers say the column, not where */
			if (strncmp(err->message, r->path, strlen(r->path)) != 0)
				firn_error_prefix(err, "%s: line %lld", r->path, (long long)line);
			break;
		}
		rows++;
	}
	if (rc < 0)
		return fail(r, rc, err);
	if (rows == 0) {
		r->done = true;
		return 0;
	}
	shrink_buffers(r);
	if ((rc = firn_builder_finish(&r->builder, out, err)) != 0)
		return fail(r, rc, err);
	return 0;
}

int firn_text_reader_fields_seen(struct firn_text_reader *r, bool *seen, size_t n)
{
	for (size_t k = 0; k < n && (int64_t)k < r->root.n_children; k++)
		seen[k] = r->fmt == FIRN_TEXT_CSV ? r->field_col && r->field_col[k] >= 0
						  : r->seen && r->seen[k];
	return 0;
}

bool firn_text__reader_sequential(const struct firn_text_reader *r)
{
	return r->in == NULL;
}
