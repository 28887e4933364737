/* firn parquet schema|meta|cat|convert */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "firn/arrow.h"
#include "firn/io.h"
#include "firn/parquet.h"
#include "firn/text.h"

static int open_reader(const char *path, struct firn_parquet_reader **r)
{
	struct firn_error err = { 0 };
	if (firn_parquet_reader_open(r, path, &err) != 0)
		return cli_fail(&err);
	return 0;
}

static int cmd_schema(int argc, char **argv)
{
	const char *pos[1];
	int n_pos;
	struct cli_opt o[] = { { "spec", false } };
	if (cli_parse(argc, argv, o, 1, pos, 1, &n_pos) != 0)
		return EXIT_USAGE;
	if (n_pos != 1)
		return cli_usage("parquet schema needs a FILE");
	bool spec = cli_get(o, 1, "spec") != NULL;
	struct firn_parquet_reader *r;
	int rc = open_reader(pos[0], &r);
	if (rc != 0)
		return rc;
	struct firn_error err = { 0 };
	struct ArrowSchema s;
	struct firn_buf out = FIRN_BUF_INIT;
	if (firn_parquet_reader_schema(r, &s, &err) != 0) {
		rc = cli_fail(&err);
	} else {
		if ((spec ? firn_schema_spec(&out, &s) : firn_schema_format(&out, &s)) != 0)
			rc = cli_failf("%s: cannot format the schema", pos[0]);
		else
			printf("%.*s%s", (int)out.len, (const char *)out.data, spec ? "\n" : "");
		s.release(&s);
	}
	firn_buf_free(&out);
	firn_parquet_reader_free(r);
	return rc;
}

/* ---- meta ---- */

/* Bounds keep firn's own value text (jansson would reprint floats with 17
 * digits): the tree holds a placeholder string "\x01<n>" for raw text n. */
struct raw_values {
	char **text;
	int n, cap;
};

static json_t *bound_json(const struct firn_parquet_chunk_info *ci, int row, struct raw_values *raw)
{
	if (!ci->has_minmax || !firn_bit_get(ci->minmax.buffers[0], row))
		return json_null();
	struct firn_buf b = FIRN_BUF_INIT;
	if (firn_value_format_json(&b, &ci->minmax_schema, &ci->minmax, row) != 0 || firn_buf_cstr(&b) != 0) {
		firn_buf_free(&b);
		return json_null();
	}
	if (raw->n == raw->cap) {
		int cap = raw->cap ? raw->cap * 2 : 64;
		char **t = realloc(raw->text, sizeof(char *) * (size_t)cap);
		if (t == NULL) {
			firn_buf_free(&b);
			return json_null();
		}
		raw->text = t;
		raw->cap = cap;
	}
	raw->text[raw->n] = (char *)firn_buf_detach(&b, NULL);
	char key[24];
	snprintf(key, sizeof(key), "\x01%d", raw->n++);
	return json_string(key);
}

/* The raw text behind a placeholder, or NULL. */
static const char *raw_of(const struct raw_values *raw, json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	if (s == NULL || s[0] != '\x01')
		return NULL;
	int i = atoi(s + 1);
	return i >= 0 && i < raw->n ? raw->text[i] : NULL;
}

/* Dumps m, replacing each quoted placeholder by its raw text. */
static void dump_with_raw(json_t *m, const struct raw_values *raw, FILE *f)
{
	char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		return;
	for (const char *p = text; *p; p++) {
		if (p[0] == '"' && strncmp(p + 1, "\\u0001", 6) == 0) {
			const char *q = p + 7;
			int i = atoi(q);
			while (*q >= '0' && *q <= '9')
				q++;
			if (*q == '"' && i >= 0 && i < raw->n) {
				fputs(raw->text[i], f);
				p = q;
				continue;
			}
		}
		fputc(*p, f);
	}
	fputc('\n', f);
	firn_free(text);
}

static json_t *meta_json(struct firn_parquet_reader *r, const char *path, struct raw_values *raw,
			 struct firn_error *err)
{
	json_t *root = json_object();
	const char *cb = firn_parquet_reader_created_by(r);
	json_object_set_new(root, "file", json_string(path));
	json_object_set_new(root, "created_by", cb ? json_string(cb) : json_null());
	json_object_set_new(root, "version", json_integer(firn_parquet_reader_version(r)));
	json_object_set_new(root, "num_rows", json_integer(firn_parquet_reader_num_rows(r)));
	int nrg = firn_parquet_reader_num_row_groups(r);
	json_object_set_new(root, "num_row_groups", json_integer(nrg));
	json_t *kv = json_object();
	for (int i = 0; i < firn_parquet_reader_kv_count(r); i++) {
		const char *k, *v;
		firn_parquet_reader_kv(r, i, &k, &v);
		json_object_set_new(kv, k, v ? json_string(v) : json_null());
	}
	json_object_set_new(root, "key_value_metadata", kv);
	json_t *rgs = json_array();
	for (int g = 0; g < nrg; g++) {
		json_t *rg = json_object();
		int64_t comp, off;
		int64_t total = firn_parquet_reader_row_group_bytes(r, g, &comp, &off);
		json_object_set_new(rg, "num_rows", json_integer(firn_parquet_reader_row_group_rows(r, g)));
		json_object_set_new(rg, "total_byte_size", json_integer(total));
		json_object_set_new(rg, "total_compressed_size", json_integer(comp));
		json_object_set_new(rg, "file_offset", json_integer(off));
		json_t *cols = json_array();
		for (int l = 0; l < firn_parquet_reader_leaf_count(r); l++) {
			struct firn_parquet_chunk_info ci;
			if (firn_parquet_reader_chunk_info(r, g, l, &ci, err) != 0) {
				json_decref(cols);
				json_decref(rg);
				json_decref(rgs);
				json_decref(root);
				return NULL;
			}
			json_t *c = json_object();
			json_object_set_new(c, "path", json_string(ci.path));
			json_object_set_new(c, "field_id", ci.field_id >= 0 ? json_integer(ci.field_id) : json_null());
			json_object_set_new(c, "physical_type", json_string(ci.physical_type));
			json_t *enc = json_array();
			for (int e = 0; e < ci.n_encodings; e++)
				json_array_append_new(enc, json_string(ci.encodings[e]));
			json_object_set_new(c, "encodings", enc);
			json_object_set_new(c, "compression", json_string(ci.compression));
			json_object_set_new(c, "num_values", json_integer(ci.num_values));
			json_object_set_new(c, "total_compressed_size", json_integer(ci.total_compressed_size));
			json_object_set_new(c, "total_uncompressed_size", json_integer(ci.total_uncompressed_size));
			json_object_set_new(c, "data_page_offset", json_integer(ci.data_page_offset));
			json_object_set_new(c, "dictionary_page_offset",
					    ci.dictionary_page_offset >= 0 ? json_integer(ci.dictionary_page_offset) : json_null());
			if (ci.has_statistics) {
				json_t *st = json_object();
				json_object_set_new(st, "null_count",
						    ci.null_count >= 0 ? json_integer(ci.null_count) : json_null());
				if (ci.distinct_count >= 0)
					json_object_set_new(st, "distinct_count", json_integer(ci.distinct_count));
				json_object_set_new(st, "min", bound_json(&ci, 0, raw));
				json_object_set_new(st, "max", bound_json(&ci, 1, raw));
				json_object_set_new(c, "statistics", st);
			} else {
				json_object_set_new(c, "statistics", json_null());
			}
			if (ci.has_minmax) {
				ci.minmax.release(&ci.minmax);
				ci.minmax_schema.release(&ci.minmax_schema);
			}
			json_array_append_new(cols, c);
		}
		json_object_set_new(rg, "columns", cols);
		json_array_append_new(rgs, rg);
	}
	json_object_set_new(root, "row_groups", rgs);
	return root;
}

static void print_meta_text(json_t *m, const struct raw_values *raw)
{
	printf("file: %s\n", json_string_value(json_object_get(m, "file")));
	json_t *cb = json_object_get(m, "created_by");
	printf("created by: %s\n", json_is_string(cb) ? json_string_value(cb) : "(unknown)");
	printf("format version: %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(m, "version")));
	printf("rows: %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(m, "num_rows")));
	printf("row groups: %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(m, "num_row_groups")));
	const char *k;
	json_t *v;
	json_t *kv = json_object_get(m, "key_value_metadata");
	if (json_object_size(kv) > 0) {
		printf("key/value metadata:\n");
		json_object_foreach(kv, k, v) {
			const char *s = json_is_string(v) ? json_string_value(v) : "";
			size_t n = strlen(s);
			printf("  %s = %.*s%s\n", k, n > 100 ? 100 : (int)n, s, n > 100 ? "..." : "");
		}
	}
	size_t gi;
	json_t *rg;
	json_array_foreach(json_object_get(m, "row_groups"), gi, rg) {
		printf("row group %zu: %" JSON_INTEGER_FORMAT " rows, %" JSON_INTEGER_FORMAT
		       " bytes (%" JSON_INTEGER_FORMAT " compressed) at offset %" JSON_INTEGER_FORMAT "\n", gi,
		       json_integer_value(json_object_get(rg, "num_rows")),
		       json_integer_value(json_object_get(rg, "total_byte_size")),
		       json_integer_value(json_object_get(rg, "total_compressed_size")),
		       json_integer_value(json_object_get(rg, "file_offset")));
		size_t ci;
		json_t *c;
		json_array_foreach(json_object_get(rg, "columns"), ci, c) {
			json_t *fid = json_object_get(c, "field_id");
			printf("  %s", json_string_value(json_object_get(c, "path")));
			if (json_is_integer(fid))
				printf(" (id %" JSON_INTEGER_FORMAT ")", json_integer_value(fid));
			printf(": %s %s", json_string_value(json_object_get(c, "physical_type")),
			       json_string_value(json_object_get(c, "compression")));
			size_t ei;
			json_t *e;
			printf(" [");
			json_array_foreach(json_object_get(c, "encodings"), ei, e)
				printf("%s%s", ei ? " " : "", json_string_value(e));
			printf("] values %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT " -> %" JSON_INTEGER_FORMAT " bytes",
			       json_integer_value(json_object_get(c, "num_values")),
			       json_integer_value(json_object_get(c, "total_uncompressed_size")),
			       json_integer_value(json_object_get(c, "total_compressed_size")));
			json_t *st = json_object_get(c, "statistics");
			if (json_is_object(st)) {
				json_t *nc = json_object_get(st, "null_count");
				if (json_is_integer(nc))
					printf(", nulls %" JSON_INTEGER_FORMAT, json_integer_value(nc));
				const char *mn = raw_of(raw, json_object_get(st, "min"));
				const char *mx = raw_of(raw, json_object_get(st, "max"));
				if (mn && mx)
					printf(", min %.60s, max %.60s", mn, mx);
			}
			printf("\n");
		}
	}
}

static int cmd_meta(int argc, char **argv)
{
	struct cli_opt opts[] = { { "json", false, NULL } };
	const char *pos[1];
	int n_pos;
	if (cli_parse(argc, argv, opts, 1, pos, 1, &n_pos) != 0)
		return EXIT_USAGE;
	if (n_pos != 1)
		return cli_usage("parquet meta needs a FILE");
	struct firn_parquet_reader *r;
	int rc = open_reader(pos[0], &r);
	if (rc != 0)
		return rc;
	struct firn_error err = { 0 };
	struct raw_values raw = { 0 };
	json_t *m = meta_json(r, pos[0], &raw, &err);
	if (m == NULL) {
		rc = cli_fail(&err);
	} else {
		if (opts[0].value)
			dump_with_raw(m, &raw, stdout);
		else
			print_meta_text(m, &raw);
		json_decref(m);
	}
	for (int i = 0; i < raw.n; i++)
		firn_free(raw.text[i]);
	free(raw.text);
	firn_parquet_reader_free(r);
	return rc;
}

/* ---- cat ---- */

static int split_list(const char *s, char ***out, int *n)
{
	int cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	char **v = calloc((size_t)cap, sizeof(char *));
	char *copy = strdup(s);
	if (v == NULL || copy == NULL) {
		free(v);
		free(copy);
		return -1;
	}
	int k = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		char *e = t + strlen(t);
		while (e > t && e[-1] == ' ')
			*--e = '\0';
		if (*t)
			v[k++] = t;
	}
	*out = v;
	*n = k;
	if (k == 0) {
		free(copy);
		free(v);
		return -1;
	}
	return 0;
}

static int parse_text_format(const char *s, enum firn_text_format *out)
{
	if (strcmp(s, "csv") == 0) *out = FIRN_TEXT_CSV;
	else if (strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0) *out = FIRN_TEXT_JSONL;
	else if (strcmp(s, "table") == 0) *out = FIRN_TEXT_TABLE;
	else return -1;
	return 0;
}

static int cmd_cat(int argc, char **argv)
{
	struct cli_opt opts[] = { { "columns", true, NULL }, { "format", true, NULL }, { "limit", true, NULL } };
	const char *pos[1];
	int n_pos;
	if (cli_parse(argc, argv, opts, 3, pos, 1, &n_pos) != 0)
		return EXIT_USAGE;
	if (n_pos != 1)
		return cli_usage("parquet cat needs a FILE");
	enum firn_text_format fmt = FIRN_TEXT_CSV;
	if (opts[1].value && parse_text_format(opts[1].value, &fmt) != 0)
		return cli_usage("unknown --format '%s' (csv, jsonl, table)", opts[1].value);
	int64_t limit = -1;
	if (cli_opt_int(opts, 3, "limit", 0, INT64_MAX, &limit) != 0)
		return EXIT_USAGE;
	char **names = NULL;
	int n_names = 0;
	if (opts[0].value && split_list(opts[0].value, &names, &n_names) != 0)
		return cli_usage("--columns needs a list of names");
	struct firn_parquet_reader *r;
	int rc = open_reader(pos[0], &r);
	if (rc != 0) {
		if (names) { free(names[0]); free(names); }
		return rc;
	}
	struct firn_error err = { 0 };
	struct firn_parquet_read_options ro = FIRN_PARQUET_READ_OPTIONS_INIT;
	ro.names = (const char *const *)names;
	ro.n_names = n_names;
	struct ArrowArrayStream st = { 0 };
	struct ArrowSchema schema = { 0 };
	struct firn_text_writer *tw = NULL;
	if (firn_parquet_reader_stream(r, &ro, &st, &err) != 0) {
		rc = cli_fail(&err);
		goto done;
	}
	if (st.get_schema(&st, &schema) != 0) {
		rc = cli_failf("%s: out of memory", pos[0]);
		goto done;
	}
	if (firn_text_writer_open(&tw, stdout, fmt, &schema, &err) != 0) {
		rc = cli_fail(&err);
		goto done;
	}
	int64_t written = 0;
	while (limit < 0 || written < limit) {
		struct ArrowArray batch;
		int e = st.get_next(&st, &batch);
		if (e != 0) {
			const char *msg = st.get_last_error(&st);
			rc = cli_failf("%s", msg ? msg : "read failed");
			goto done;
		}
		if (batch.release == NULL)
			break;
		struct ArrowArray view = batch;
		if (limit >= 0 && view.length > limit - written)
			view.length = limit - written;
		int w = firn_text_writer_write(tw, &view, &err);
		written += view.length;
		batch.release(&batch);
		if (w != 0) {
			rc = cli_fail(&err);
			goto done;
		}
	}
	if (firn_text_writer_close(tw, &err) != 0)
		rc = cli_fail(&err);
done:
	firn_text_writer_free(tw);
	if (schema.release)
		schema.release(&schema);
	if (st.release)
		st.release(&st);
	firn_parquet_reader_free(r);
	if (names) {
		free(names[0]);
		free(names);
	}
	return rc;
}

/* ---- convert ---- */

enum in_format { IN_CSV, IN_JSONL, IN_PARQUET, IN_UNKNOWN };

static enum in_format format_of_path(const char *p)
{
	const char *dot = strrchr(p, '.');
	if (dot == NULL)
		return IN_UNKNOWN;
	if (strcmp(dot, ".csv") == 0) return IN_CSV;
	if (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".json") == 0 || strcmp(dot, ".ndjson") == 0) return IN_JSONL;
	if (strcmp(dot, ".parquet") == 0 || strcmp(dot, ".pq") == 0) return IN_PARQUET;
	return IN_UNKNOWN;
}

static int codec_of(const char *s)
{
	if (strcmp(s, "uncompressed") == 0 || strcmp(s, "none") == 0) return FIRN_PARQUET_UNCOMPRESSED;
	if (strcmp(s, "snappy") == 0) return FIRN_PARQUET_SNAPPY;
	if (strcmp(s, "gzip") == 0) return FIRN_PARQUET_GZIP;
	if (strcmp(s, "zstd") == 0) return FIRN_PARQUET_ZSTD;
	if (strcmp(s, "lz4_raw") == 0) return FIRN_PARQUET_LZ4_RAW;
	return -1;
}

/* Reads the next batch of whichever input is open. */
struct input {
	struct firn_text_reader *text;
	struct firn_parquet_reader *pq;
	struct ArrowArrayStream st;
};

static int input_next(struct input *in, struct ArrowArray *out, struct firn_error *err)
{
	if (in->text)
		return firn_text_reader_next(in->text, out, err);
	int e = in->st.get_next(&in->st, out);
	if (e != 0) {
		const char *msg = in->st.get_last_error(&in->st);
		return firn_error_set(err, FIRN_ECORRUPT, "%s", msg ? msg : "read failed");
	}
	return 0;
}

static int cmd_convert(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{ "schema", true, NULL }, { "format", true, NULL }, { "compression", true, NULL },
		{ "row-group-size", true, NULL }, { "page-size", true, NULL }, { "dictionary", true, NULL },
	};
	const int n_opts = 6;
	const char *pos[2];
	int n_pos;
	if (cli_parse(argc, argv, opts, n_opts, pos, 2, &n_pos) != 0)
		return EXIT_USAGE;
	if (n_pos != 2)
		return cli_usage("parquet convert needs IN and OUT");
	const char *in_path = pos[0], *out_path = pos[1];
	enum in_format inf = format_of_path(in_path);
	const char *f = cli_get(opts, n_opts, "format");
	if (f) {
		if (strcmp(f, "csv") == 0) inf = IN_CSV;
		else if (strcmp(f, "jsonl") == 0 || strcmp(f, "json") == 0) inf = IN_JSONL;
		else if (strcmp(f, "parquet") == 0) inf = IN_PARQUET;
		else return cli_usage("unknown --format '%s' (csv, jsonl, parquet)", f);
	}
	if (inf == IN_UNKNOWN)
		return cli_usage("cannot tell the format of %s: give --format csv|jsonl|parquet", in_path);
	struct firn_parquet_write_options wo = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	const char *v;
	if ((v = cli_get(opts, n_opts, "compression")) != NULL) {
		wo.codec = codec_of(v);
		if (wo.codec < 0)
			return cli_usage("unknown --compression '%s' (uncompressed, snappy, gzip, zstd, lz4_raw)", v);
	}
	if (cli_opt_size(opts, n_opts, "row-group-size", 1, &wo.row_group_size) != 0 ||
	    cli_opt_size(opts, n_opts, "page-size", 1, &wo.page_size) != 0)
		return EXIT_USAGE;
	if ((v = cli_get(opts, n_opts, "dictionary")) != NULL) {
		if (strcmp(v, "on") == 0) wo.dictionary = true;
		else if (strcmp(v, "off") == 0) wo.dictionary = false;
		else return cli_usage("--dictionary is on or off, not '%s'", v);
	}
	struct firn_error err = { 0 };
	struct input in = { 0 };
	struct ArrowSchema given = { 0 }, schema = { 0 };
	struct firn_parquet_writer *w = NULL;
	const char *spec = cli_get(opts, n_opts, "schema");
	if (inf == IN_PARQUET && spec)
		return cli_usage("--schema is for CSV and JSON Lines input");
	/* OUT is written aside and renamed over only when complete: IN (even
	 * through a link) is never OUT, and a failure leaves OUT as it was */
	int rc = cli_not_an_input(out_path, &in_path, 1);
	if (rc != 0)
		return rc;
	if (spec && firn_spec_parse_schema(spec, &given, &err) != 0) {
		rc = cli_fail(&err);
		goto done;
	}
	if (inf == IN_PARQUET) {
		if (firn_parquet_reader_open(&in.pq, in_path, &err) != 0 ||
		    firn_parquet_reader_stream(in.pq, NULL, &in.st, &err) != 0) {
			rc = cli_fail(&err);
			goto done;
		}
		if (in.st.get_schema(&in.st, &schema) != 0) {
			rc = cli_failf("out of memory");
			goto done;
		}
	} else {
		if (firn_text_reader_open(&in.text, in_path, inf == IN_CSV ? FIRN_TEXT_CSV : FIRN_TEXT_JSONL,
					  spec ? &given : NULL, 0, &err) != 0 ||
		    firn_text_reader_schema(in.text, &schema, &err) != 0) {
			rc = cli_fail(&err);
			goto done;
		}
	}
	wo.io_flags = FIRN_IO_REPLACE; /* OUT appears whole, or not at all */
	if (firn_parquet_writer_open(&w, out_path, &schema, &wo, &err) != 0) {
		rc = cli_fail(&err);
		goto done;
	}
	for (;;) {
		struct ArrowArray batch;
		if (input_next(&in, &batch, &err) != 0) {
			rc = cli_fail(&err);
			goto done;
		}
		if (batch.release == NULL)
			break;
		int e = firn_parquet_writer_write(w, &batch, &err);
		batch.release(&batch);
		if (e != 0) {
			rc = cli_fail(&err);
			goto done;
		}
	}
	if (firn_parquet_writer_close(w, &err) != 0)
		rc = cli_fail(&err);
done:
	firn_parquet_writer_free(w); /* removes the file unless closed */
	if (given.release)
		given.release(&given);
	if (schema.release)
		schema.release(&schema);
	if (in.st.release)
		in.st.release(&in.st);
	firn_parquet_reader_free(in.pq);
	firn_text_reader_free(in.text);
	return rc;
}

int cmd_parquet(int argc, char **argv)
{
	static const struct {
		const char *name, *usage;
		int (*run)(int argc, char **argv);
	} subs[] = {
		{ "schema", "parquet schema FILE", cmd_schema },
		{ "meta", "parquet meta FILE [--json]", cmd_meta },
		{ "cat", "parquet cat FILE [--columns A,B] [--format csv|jsonl|table] [--limit N]", cmd_cat },
		{ "convert", "parquet convert IN OUT [--schema SPEC] [--format csv|jsonl|parquet] [--compression C] "
			     "[--row-group-size BYTES] [--page-size BYTES] [--dictionary on|off]", cmd_convert },
	};
	cli_set_usage("parquet schema|meta|cat|convert ...");
	if (argc < 1)
		return cli_usage("parquet needs a subcommand: schema, meta, cat, convert");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[0], subs[i].name) != 0)
			continue;
		cli_set_usage(subs[i].usage);
		if (cli_wants_help(argc - 1, argv + 1)) {
			cli_help(subs[i].usage);
			return EXIT_OK;
		}
		return subs[i].run(argc - 1, argv + 1);
	}
	return cli_usage("unknown parquet subcommand '%s'", argv[0]);
}
