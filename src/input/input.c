/* Table input: CSV, JSON Lines and Parquet files ("-" is stdin) as one Arrow
 * stream of a table's columns, each file's values already in the columns'
 * types, so that errors can name the file, the column and the row.
 *
 * Text files read straight into the table's types (the text reader's target
 * is the table schema); Parquet files read in their own types and are
 * fitted to the table's by name. Files are opened once at the start to
 * learn which columns they hold (a CSV header, a Parquet schema), then
 * closed again and read one after the other (pipes stay open), so that a
 * thousand inputs need not be open at once. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "firn/parquet.h"
#include "firn/table.h"
#include "firn/input.h"
#include "firn/text.h"
#include "iceberg/ice_batch.h"
#include "text/text_internal.h"

struct source {
	const char *path; /* borrowed from the caller until open returns; then from paths */
	enum firn_input_format fmt;
	struct firn_text_reader *text;
	struct firn_parquet_reader *pq;
	struct ArrowSchema pq_schema;
	struct ArrowArrayStream pq_stream;
	int64_t rows; /* rows read so far: Parquet messages count rows per file */
};

struct input {
	struct ArrowSchema table;  /* what the text readers read into */
	struct ArrowSchema schema; /* the stream's: the table columns present */
	bool truncate;
	struct source *src;
	size_t n, cur;
	char *paths; /* copies of the file names, back to back */
	/* FIRN_INPUT_WHOLE: every batch, read at open, in the stream's schema */
	struct ArrowArray *held;
	size_t n_held, next_held;
	struct firn_error error; /* code != 0: failed, every later call says so */
};

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

enum firn_input_format firn_input_format_of(const char *path, enum firn_input_format fmt)
{
	if (fmt != FIRN_INPUT_AUTO)
		return fmt;
	const char *dot = strrchr(path, '.');
	if (dot && strcasecmp(dot, ".parquet") == 0)
		return FIRN_INPUT_PARQUET;
	if (dot && (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".json") == 0 ||
		    strcasecmp(dot, ".ndjson") == 0))
		return FIRN_INPUT_JSONL;
	return FIRN_INPUT_CSV;
}

/* Messages name the file first, once. */
static int at_file(const struct source *s, int rc, struct firn_error *err)
{
	if (rc != 0 && err && strncmp(err->message, s->path, strlen(s->path)) != 0)
		firn_error_prefix(err, "%s", s->path);
	return rc;
}

static void source_close(struct source *s)
{
	if (s->pq_stream.release)
		s->pq_stream.release(&s->pq_stream);
	if (s->pq_schema.release)
		s->pq_schema.release(&s->pq_schema);
	firn_parquet_reader_free(s->pq);
	firn_text_reader_free(s->text);
	s->pq = NULL;
	s->text = NULL;
}

static int source_open(struct input *in, struct source *s, struct firn_error *err)
{
	int rc;
	if (s->fmt != FIRN_INPUT_PARQUET) {
		rc = firn_text_reader_open(&s->text, s->path,
					   s->fmt == FIRN_INPUT_JSONL ? FIRN_TEXT_JSONL : FIRN_TEXT_CSV,
					   &in->table, 0, err);
		if (rc == 0)
			firn_text__reader_set_truncate(s->text, in->truncate);
		return at_file(s, rc, err);
	}
	rc = firn_parquet_reader_open(&s->pq, s->path, err);
	if (rc == 0) {
		firn_parquet_reader_set_strict_int96(s->pq, !in->truncate);
		rc = firn_parquet_reader_schema(s->pq, &s->pq_schema, err);
	}
	if (rc == 0)
		rc = firn_parquet_reader_stream(s->pq, NULL, &s->pq_stream, err);
	if (rc != 0)
		source_close(s);
	return at_file(s, rc, err);
}

/* present[k] |= whether the file has table column k (JSON Lines: a key
 * read so far). */
static int source_columns(const struct input *in, const struct source *s, bool *present,
			  struct firn_error *err)
{
	const struct ArrowSchema *t = &in->table;
	if (s->text) {
		bool *seen = firn_calloc((size_t)t->n_children + 1, sizeof(bool));
		if (!seen)
			return nomem(err);
		firn_text_reader_fields_seen(s->text, seen, (size_t)t->n_children);
		for (int64_t k = 0; k < t->n_children; k++)
			present[k] |= seen[k];
		firn_free(seen);
		return 0;
	}
	for (int64_t k = 0; k < t->n_children; k++)
		for (int64_t j = 0; j < s->pq_schema.n_children; j++)
			if (strcmp(s->pq_schema.children[j]->name, t->children[k]->name) == 0)
				present[k] = true;
	return 0;
}

/* The next batch of s, in dst's shape (dst: the table schema, or the
 * stream's when the columns are known); released out at the end. */
static int source_next(struct input *in, struct source *s, const struct ArrowSchema *dst,
		       struct ArrowArray *out, struct firn_error *err)
{
	struct firn_ice_fit_options fo = { in->truncate, s->rows };
	struct ArrowArray b = { 0 }, fit = { 0 };
	int rc;
	memset(out, 0, sizeof(*out));
	if (s->text) {
		if ((rc = firn_text_reader_next(s->text, &b, err)) != 0 || !b.release)
			return at_file(s, rc, err);
		rc = firn_ice__batch_fit_input(&in->table, &b, &in->table, &fo, &fit, err);
		if (rc == 0 && dst != &in->table) /* the columns the input lacks go */
			rc = firn_ice__batch_fit(&in->table, &fit, dst, FIRN_MATCH_ID, out, err);
		else if (rc == 0)
			*out = fit;
	} else {
		int e = s->pq_stream.get_next(&s->pq_stream, &b);
		if (e != 0)
			return at_file(s, firn_error_set(err, FIRN_ECORRUPT, "%s",
							 s->pq_stream.get_last_error(&s->pq_stream)), err);
		if (!b.release)
			return 0;
		rc = firn_ice__batch_fit_input(&s->pq_schema, &b, dst, &fo, out, err);
	}
	if (rc == 0)
		s->rows += out->length;
	return at_file(s, rc, err);
}

static void input_free(struct input *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++)
		source_close(&in->src[i]);
	for (size_t i = in->next_held; i < in->n_held; i++)
		if (in->held[i].release)
			in->held[i].release(&in->held[i]);
	if (in->table.release)
		in->table.release(&in->table);
	if (in->schema.release)
		in->schema.release(&in->schema);
	firn_free(in->held);
	firn_free(in->src);
	firn_free(in->paths);
	firn_free(in);
}

/* The stream's schema: the table's columns marked in present, in table order. */
static int make_schema(struct input *in, const bool *present, struct firn_error *err)
{
	int64_t n = 0;
	for (int64_t k = 0; k < in->table.n_children; k++)
		n += present[k];
	if (firn_schema_init(&in->schema, "+s", "", 0, n) != 0)
		return nomem(err);
	for (int64_t k = 0, j = 0; k < in->table.n_children; k++)
		if (present[k] && firn_schema_copy(in->schema.children[j++], in->table.children[k]) != 0)
			return nomem(err);
	return 0;
}

static int hold(struct input *in, struct ArrowArray *b, struct firn_error *err)
{
	struct ArrowArray *v = firn_realloc(in->held, (in->n_held + 1) * sizeof(*v));
	if (!v)
		return nomem(err);
	in->held = v;
	v[in->n_held++] = *b;
	b->release = NULL; /* moved */
	return 0;
}

/* FIRN_INPUT_WHOLE: reads every file into held (in the table's shape),
 * then keeps only the columns some file had. */
static int read_whole(struct input *in, bool *present, struct firn_error *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < in->n; i++) {
		struct source *s = &in->src[i];
		if ((rc = source_open(in, s, err)) != 0)
			break;
		for (;;) {
			struct ArrowArray b;
			if ((rc = source_next(in, s, &in->table, &b, err)) != 0 || !b.release)
				break;
			if ((rc = hold(in, &b, err)) != 0) {
				b.release(&b);
				break;
			}
		}
		if (rc == 0)
			rc = source_columns(in, s, present, err);
		source_close(s);
	}
	if (rc == 0)
		rc = make_schema(in, present, err);
	for (size_t i = 0; rc == 0 && i < in->n_held; i++) {
		struct ArrowArray b = in->held[i];
		in->held[i].release = NULL;
		rc = firn_ice__batch_fit(&in->table, &b, &in->schema, FIRN_MATCH_ID, &in->held[i], err);
	}
	return rc;
}

/* Streaming: learns the columns of every file (a CSV header, a Parquet
 * schema; JSON Lines may hold any), closing them again but stdin. The
 * table's required columns stay in the schema whatever the files hold, so
 * that a file lacking one fails naming the file, as its rows are read. */
static int learn_columns(struct input *in, bool *present, struct firn_error *err)
{
	int rc = 0;
	for (int64_t k = 0; k < in->table.n_children; k++)
		present[k] = !(in->table.children[k]->flags & ARROW_FLAG_NULLABLE);
	for (size_t i = 0; rc == 0 && i < in->n; i++) {
		struct source *s = &in->src[i];
		if (s->fmt == FIRN_INPUT_JSONL) {
			memset(present, 1, (size_t)in->table.n_children * sizeof(bool));
			continue;
		}
		if ((rc = source_open(in, s, err)) != 0)
			break;
		rc = source_columns(in, s, present, err);
		/* a pipe (stdin, a shell's <(...)) cannot be read twice */
		if (!(s->text && firn_text__reader_sequential(s->text)))
			source_close(s);
	}
	return rc == 0 ? make_schema(in, present, err) : rc;
}

static int to_errno(int code)
{
	switch (code) {
	case FIRN_ENOMEM: return ENOMEM;
	case FIRN_EIO: return EIO;
	case FIRN_ENOTFOUND: return ENOENT;
	case FIRN_EUNSUPPORTED: return ENOTSUP;
	case FIRN_ECORRUPT: return EBADMSG;
	default: return EINVAL;
	}
}

static int next_streamed(struct input *in, struct ArrowArray *out)
{
	while (in->cur < in->n) {
		struct source *s = &in->src[in->cur];
		int rc = 0;
		if (!s->text && !s->pq)
			rc = source_open(in, s, &in->error);
		if (rc == 0)
			rc = source_next(in, s, &in->schema, out, &in->error);
		if (rc != 0)
			return rc;
		if (out->release)
			return 0;
		source_close(s);
		in->cur++;
	}
	memset(out, 0, sizeof(*out));
	return 0;
}

static int in_get_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
	struct input *in = st->private_data;
	memset(out, 0, sizeof(*out));
	if (in->error.code != 0)
		return to_errno(in->error.code);
	if (in->held) {
		if (in->next_held < in->n_held) {
			*out = in->held[in->next_held];
			in->held[in->next_held++].release = NULL;
		}
		return 0;
	}
	int rc = next_streamed(in, out);
	if (rc == 0)
		return 0;
	if (in->error.code == 0) /* every path sets one; keep failed whatever */
		in->error.code = rc;
	return to_errno(rc);
}

static int in_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
	struct input *in = st->private_data;
	return firn_schema_copy(out, &in->schema) == 0 ? 0 : ENOMEM;
}

static const char *in_last_error(struct ArrowArrayStream *st)
{
	struct input *in = st->private_data;
	return in->error.code != 0 ? in->error.message : NULL;
}

static void in_release(struct ArrowArrayStream *st)
{
	if (!st->release)
		return;
	input_free(st->private_data);
	st->release = NULL;
	st->private_data = NULL;
}

static int input_new(struct input **out, const char *const *files, size_t n,
		     enum firn_input_format fmt, const struct ArrowSchema *table_schema,
		     const struct firn_append_options *opts, unsigned flags, struct firn_error *err)
{
	struct input *in = firn_calloc(1, sizeof(*in));
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(files[i]) + 1;
	if (!in || !(in->src = firn_calloc(n + 1, sizeof(*in->src))) ||
	    !(in->paths = firn_malloc(len + 1)) || firn_schema_copy(&in->table, table_schema) != 0) {
		input_free(in);
		return nomem(err);
	}
	in->n = n;
	in->truncate = opts && opts->truncate_timestamps;
	/* in a whole read, required columns may be absent: the caller decides */
	for (int64_t k = 0; (flags & FIRN_INPUT_WHOLE) && k < in->table.n_children; k++)
		in->table.children[k]->flags |= ARROW_FLAG_NULLABLE;
	char *p = in->paths;
	for (size_t i = 0; i < n; i++) {
		size_t m = strlen(files[i]) + 1;
		memcpy(p, files[i], m);
		in->src[i].path = p;
		in->src[i].fmt = firn_input_format_of(p, fmt);
		p += m;
	}
	*out = in;
	return 0;
}

int firn_input_open(const char *const *files, size_t n, enum firn_input_format fmt,
		    const struct ArrowSchema *table_schema, const struct firn_append_options *opts,
		    unsigned flags, struct ArrowArrayStream *out, struct firn_error *err)
{
	struct input *in = NULL;
	memset(out, 0, sizeof(*out));
	FIRN_TRY(input_new(&in, files, n, fmt, table_schema, opts, flags, err));
	bool *present = firn_calloc((size_t)in->table.n_children + 1, sizeof(bool));
	int rc = present ? 0 : nomem(err);
	if (rc == 0)
		rc = (flags & FIRN_INPUT_WHOLE) ? read_whole(in, present, err)
						: learn_columns(in, present, err);
	firn_free(present);
	if (rc == 0 && (flags & FIRN_INPUT_WHOLE) && !in->held &&
	    !(in->held = firn_calloc(1, sizeof(*in->held)))) /* held marks a whole read */
		rc = nomem(err);
	if (rc != 0) {
		input_free(in);
		return rc;
	}
	out->get_schema = in_get_schema;
	out->get_next = in_get_next;
	out->get_last_error = in_last_error;
	out->release = in_release;
	out->private_data = in;
	return 0;
}

int firn_table_append(struct firn_table *t, const char *const *files, size_t n,
		      enum firn_input_format fmt, const struct firn_append_options *opts,
		      struct firn_commit_info *info, struct firn_error *err)
{
	struct ArrowSchema schema = { 0 };
	struct ArrowArrayStream st;
	if (info)
		memset(info, 0, sizeof(*info));
	FIRN_TRY(firn_table_schema(t, &schema, err));
	int rc = firn_input_open(files, n, fmt, &schema, opts, 0, &st, err);
	schema.release(&schema);
	return rc != 0 ? rc : firn_table_append_stream(t, &st, opts, info, err);
}

int firn_table_overwrite(struct firn_table *t, const char *const *files, size_t n,
			 enum firn_input_format fmt, const struct firn_append_options *opts,
			 const char *where, struct firn_delete_info *info, struct firn_error *err)
{
	struct ArrowSchema schema = { 0 };
	struct ArrowArrayStream st;
	FIRN_TRY(firn_table_schema(t, &schema, err));
	int rc = firn_input_open(files, n, fmt, &schema, opts, 0, &st, err);
	schema.release(&schema);
	return rc != 0 ? rc : firn_table_overwrite_stream(t, &st, opts, where, info, err);
}

/* Merge reads its input whole: the columns a JSON Lines input has are
 * known only at its end. */
int firn_table_merge(struct firn_table *t, const char *const *files, size_t n,
		     enum firn_input_format fmt, const struct firn_append_options *opts,
		     const char *keys, const char *mode, struct firn_delete_info *info,
		     struct firn_error *err)
{
	struct ArrowSchema schema = { 0 };
	struct ArrowArrayStream st;
	FIRN_TRY(firn_table_schema(t, &schema, err));
	int rc = firn_input_open(files, n, fmt, &schema, opts, FIRN_INPUT_WHOLE, &st, err);
	schema.release(&schema);
	return rc != 0 ? rc : firn_table_merge_stream(t, &st, opts, keys, mode, info, err);
}
