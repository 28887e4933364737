/* JSON Lines values into builders (also the JSON text of nested CSV cells),
 * and JSON Lines type inference. Parsing is jansson's.
 *
 * Values take the print forms: a struct is an object by field name (a
 * missing key is null, an unknown key an error), a list an array, a map an
 * object (keys parsed as the key type) or an array of {"key":..,"value":..}.
 * Strings are parsed by the column type (decimals, dates, hex, ...); decimals
 * and floats also take numbers; int and long take integral reals up to 2^53
 * (2.0, not 2.5); a string column takes any value (other than a string, as
 * its compact JSON text).
 *
 * Inference: objects become structs (keys in first-seen order, merged across
 * lines), arrays lists, numbers long or double, booleans boolean, strings
 * date / timestamp / timestamptz / string by their text. A field whose values
 * disagree (say an object in one line and a number in another), an object
 * never seen with keys, or nesting deeper than 32 levels becomes a string
 * column holding the JSON text. Nulls say nothing; a field always null is a
 * string. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "firn/text.h"
#include "text/text_internal.h"
#include "util/alloc.h"

#define JSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES)
#define INFER_MAX_DEPTH 32

static int nomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* "column C: <json> is not a T" */
static int bad_json(const struct firn_text__field *f, const json_t *v, struct firn_error *err)
{
	char text[72];
	size_t n = json_dumpb(v, text, sizeof(text) - 4, JSON_COMPACT | JSON_ENCODE_ANY);
	if (n > sizeof(text) - 4) {
		n = sizeof(text) - 4;
		memcpy(text + n, "...", 3);
		n += 3;
	}
	text[n] = '\0';
	return firn_error_set(err, FIRN_EINVAL, "column %s: %s is not a%s %s", f->path, text,
			      strchr("aeio", f->type_name[0]) ? "n" : "", f->type_name);
}

static int builder_rc(int rc, struct firn_error *err)
{
	return rc == 0 ? 0 : nomem(err);
}

static int append_json(struct firn_builder *b, const struct firn_text__field *f, json_t *v,
		       struct firn_error *err);

static int append_struct(struct firn_builder *b, const struct firn_text__field *f, json_t *v,
			 struct firn_error *err)
{
	if (!json_is_object(v))
		return bad_json(f, v, err);
	FIRN_TRY(builder_rc(firn_builder_append_struct(b), err));
	size_t found = 0;
	for (int64_t k = 0; k < f->n_children; k++) {
		const struct firn_text__field *cf = &f->children[k];
		json_t *cv = json_object_get(v, cf->schema->name);
		if (cv != NULL)
			found++;
		FIRN_TRY(append_json(&b->children[k], cf, cv, err));
	}
	if (found < json_object_size(v)) {
		const char *key;
		json_t *cv;
		json_object_foreach(v, key, cv) {
			int64_t k;
			for (k = 0; k < f->n_children; k++)
				if (strcmp(f->children[k].schema->name, key) == 0)
					break;
			if (k == f->n_children) {
				if (f->path[0] == '\0')
					return firn_error_set(err, FIRN_EINVAL,
							      "unknown column '%.64s'", key);
				return firn_error_set(err, FIRN_EINVAL,
						      "column %s: unknown field '%.64s'", f->path, key);
			}
		}
	}
	return 0;
}

static int append_entry(struct firn_builder *eb, const struct firn_text__field *f,
			const char *key, size_t klen, json_t *kv, json_t *vv,
			struct firn_error *err)
{
	FIRN_TRY(builder_rc(firn_builder_append_struct(eb), err));
	if (kv != NULL)
		FIRN_TRY(append_json(&eb->children[0], &f->children[0], kv, err));
	else
		FIRN_TRY(firn_text__append_scalar(&eb->children[0], &f->children[0], key, klen, err));
	return append_json(&eb->children[1], &f->children[1], vv, err);
}

static int append_map(struct firn_builder *b, const struct firn_text__field *f, json_t *v,
		      struct firn_error *err)
{
	struct firn_builder *eb = &b->children[0];
	if (json_is_object(v)) {
		const char *key;
		json_t *vv;
		json_object_foreach(v, key, vv)
			FIRN_TRY(append_entry(eb, f, key, strlen(key), NULL, vv, err));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			json_t *kv = json_object_get(e, "key");
			if (!json_is_object(e) || kv == NULL || json_is_null(kv) ||
			    json_object_size(e) != 1 + (json_object_get(e, "value") != NULL))
				return bad_json(f, v, err);
			FIRN_TRY(append_entry(eb, f, NULL, 0, kv, json_object_get(e, "value"), err));
		}
	} else {
		return bad_json(f, v, err);
	}
	return builder_rc(firn_builder_append_list_end(b), err);
}

/* A number as text, for decimals (jansson keeps no text; the shortest
 * double form is what was written for any sane input). */
static int append_number_text(struct firn_builder *b, const struct firn_text__field *f,
			      json_t *v, struct firn_error *err)
{
	char tmp[40];
	int n;
	if (json_is_integer(v))
		n = snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
	else
		n = firn_double_format(json_real_value(v), tmp, sizeof(tmp));
	if (n < 0)
		return bad_json(f, v, err);
	return firn_text__append_scalar(b, f, tmp, (size_t)n, err);
}

static int append_json(struct firn_builder *b, const struct firn_text__field *f, json_t *v,
		       struct firn_error *err)
{
	if (v == NULL || json_is_null(v))
		return firn_text__append_null(b, f, err);
	const struct firn_type *t = &f->type;
	switch (t->id) {
	case FIRN_A_STRUCT:
		return append_struct(b, f, v, err);
	case FIRN_A_LIST: {
		if (!json_is_array(v))
			return bad_json(f, v, err);
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			FIRN_TRY(append_json(&b->children[0], &f->children[0], e, err));
		return builder_rc(firn_builder_append_list_end(b), err);
	}
	case FIRN_A_MAP:
		return append_map(b, f, v, err);
	case FIRN_A_STRING:
		if (json_is_string(v))
			return builder_rc(firn_builder_append_bytes(b, json_string_value(v),
								    json_string_length(v)), err);
		else {
			struct firn_buf tmp = FIRN_BUF_INIT;
			size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
			int rc = firn_buf_reserve(&tmp, n + 1);
			if (rc == 0) {
				json_dumpb(v, (char *)tmp.data, n, JSON_COMPACT | JSON_ENCODE_ANY);
				rc = firn_builder_append_bytes(b, tmp.data, n);
			}
			firn_buf_free(&tmp);
			return builder_rc(rc, err);
		}
	case FIRN_A_BOOL:
		if (json_is_boolean(v))
			return builder_rc(firn_builder_append_bool(b, json_is_true(v)), err);
		break;
	case FIRN_A_INT32:
	case FIRN_A_INT64:
		if (json_is_integer(v)) {
			json_int_t x = json_integer_value(v);
			if (t->id == FIRN_A_INT32) {
				if (x < INT32_MIN || x > INT32_MAX)
					return firn_error_set(err, FIRN_EINVAL,
							      "column %s: %lld is out of range for int",
							      f->path, (long long)x);
				return builder_rc(firn_builder_append_i32(b, (int32_t)x), err);
			}
			return builder_rc(firn_builder_append_i64(b, (int64_t)x), err);
		}
		if (json_is_real(v)) {
			/* 2.0 is an integer; 2.5, or anything past 2^53 (where a
			 * double no longer says which integer was meant), is not */
			double x = json_real_value(v);
			if (x == trunc(x) && fabs(x) <= 9007199254740992.0) {
				json_t *iv = json_integer((json_int_t)x);
				if (iv == NULL)
					return nomem(err);
				int rc = append_json(b, f, iv, err);
				json_decref(iv);
				return rc;
			}
		}
		break;
	case FIRN_A_FLOAT:
		if (json_is_number(v))
			return builder_rc(firn_builder_append_f32(b, (float)json_number_value(v)), err);
		break;
	case FIRN_A_DOUBLE:
		if (json_is_number(v))
			return builder_rc(firn_builder_append_f64(b, json_number_value(v)), err);
		break;
	case FIRN_A_DECIMAL:
		if (json_is_number(v))
			return append_number_text(b, f, v, err);
		break;
	default:
		break;
	}
	if (json_is_string(v))
		return firn_text__append_scalar(b, f, json_string_value(v), json_string_length(v), err);
	return bad_json(f, v, err);
}

static int invalid_json(const json_error_t *je, const char *where, struct firn_error *err)
{
	return firn_error_set(err, FIRN_EINVAL, "%s%sinvalid JSON: %s (at byte %d)",
			      where ? where : "", where ? ": " : "", je->text, je->position);
}

int firn_jsonl__append_text(struct firn_builder *b, const struct firn_text__field *f,
			    const char *s, size_t n, struct firn_error *err)
{
	json_error_t je;
	json_t *v = firn_json__loadb(s, n, JSON_FLAGS, &je);
	if (v == NULL) {
		char where[300];
		snprintf(where, sizeof(where), "column %s", f->path);
		return invalid_json(&je, where, err);
	}
	int rc = append_json(b, f, v, err);
	json_decref(v);
	return rc;
}

int firn_jsonl__append_row(struct firn_builder *root, const struct firn_text__field *rootf,
			   const char *s, size_t n, bool *seen, struct firn_error *err)
{
	json_error_t je;
	json_t *v = firn_json__loadb(s, n, JSON_FLAGS, &je);
	if (v == NULL)
		return invalid_json(&je, NULL, err);
	int rc;
	if (!json_is_object(v))
		rc = firn_error_set(err, FIRN_EINVAL, "not a JSON object");
	else
		rc = append_struct(root, rootf, v, err);
	for (int64_t k = 0; rc == 0 && seen && k < rootf->n_children; k++)
		if (json_object_get(v, rootf->children[k].schema->name))
			seen[k] = true;
	json_decref(v);
	return rc;
}

/* ---- inference ---- */

/* What one field's values have been. */
struct inode {
	unsigned kinds;   /* scalars: FIRN_TEXT__K_* still possible */
	bool scalar, object, array, seen_key;
	bool conflict;    /* shapes disagree: string */
	/* object: fields in first-seen order */
	int64_t n, cap;
	char **names;
	struct inode **kids;
	struct inode *elem; /* array */
};

struct firn_jsonl__infer {
	struct inode root;
};

static void inode_free(struct inode *n)
{
	for (int64_t i = 0; i < n->n; i++) {
		firn_free(n->names[i]);
		inode_free(n->kids[i]);
		firn_free(n->kids[i]);
	}
	firn_free(n->names);
	firn_free(n->kids);
	if (n->elem) {
		inode_free(n->elem);
		firn_free(n->elem);
	}
	memset(n, 0, sizeof(*n));
}

static struct inode *inode_new(void)
{
	struct inode *n = firn_calloc(1, sizeof(*n));
	if (n != NULL)
		n->kinds = FIRN_TEXT__K_ALL;
	return n;
}

static struct inode *child(struct inode *n, const char *name)
{
	for (int64_t i = 0; i < n->n; i++)
		if (strcmp(n->names[i], name) == 0)
			return n->kids[i];
	if (n->n == n->cap) {
		int64_t cap = n->cap ? n->cap * 2 : 8;
		char **names = firn_realloc(n->names, (size_t)cap * sizeof(*names));
		if (names == NULL)
			return NULL;
		n->names = names;
		struct inode **kids = firn_realloc(n->kids, (size_t)cap * sizeof(*kids));
		if (kids == NULL)
			return NULL;
		n->kids = kids;
		n->cap = cap;
	}
	char *nm = firn_strdup(name);
	struct inode *k = inode_new();
	if (nm == NULL || k == NULL) {
		firn_free(nm);
		firn_free(k);
		return NULL;
	}
	n->names[n->n] = nm;
	n->kids[n->n++] = k;
	return k;
}

static int infer_value(struct inode *n, json_t *v, int depth)
{
	if (json_is_null(v) || n->conflict)
		return 0;
	if (json_is_object(v)) {
		n->object = true;
		if (n->scalar || n->array || depth >= INFER_MAX_DEPTH) {
			n->conflict = true;
			return 0;
		}
		const char *key;
		json_t *cv;
		json_object_foreach(v, key, cv) {
			struct inode *k = child(n, key);
			if (k == NULL)
				return FIRN_ENOMEM;
			n->seen_key = true;
			FIRN_TRY(infer_value(k, cv, depth + 1));
		}
		return 0;
	}
	if (json_is_array(v)) {
		n->array = true;
		if (n->scalar || n->object || depth >= INFER_MAX_DEPTH) {
			n->conflict = true;
			return 0;
		}
		if (n->elem == NULL && (n->elem = inode_new()) == NULL)
			return FIRN_ENOMEM;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			FIRN_TRY(infer_value(n->elem, e, depth + 1));
		return 0;
	}
	n->scalar = true;
	if (n->object || n->array) {
		n->conflict = true;
		return 0;
	}
	unsigned k;
	if (json_is_boolean(v))
		k = FIRN_TEXT__K_BOOL | FIRN_TEXT__K_STRING;
	else if (json_is_integer(v))
		k = FIRN_TEXT__K_LONG | FIRN_TEXT__K_DOUBLE | FIRN_TEXT__K_STRING;
	else if (json_is_real(v))
		k = FIRN_TEXT__K_DOUBLE | FIRN_TEXT__K_STRING;
	else /* a string is not a number or a boolean here, only a date or a time */
		k = firn_text__kinds(json_string_value(v), json_string_length(v)) &
		    (FIRN_TEXT__K_DATE | FIRN_TEXT__K_TS | FIRN_TEXT__K_TSTZ | FIRN_TEXT__K_TSNS |
		     FIRN_TEXT__K_TSTZNS | FIRN_TEXT__K_STRING);
	n->kinds &= k;
	return 0;
}

static int spec_type(struct firn_buf *spec, const struct inode *n)
{
	if (n->conflict || (n->object && !n->seen_key))
		return firn_buf_puts(spec, "string");
	if (n->object) {
		FIRN_TRY(firn_buf_puts(spec, "struct<"));
		for (int64_t i = 0; i < n->n; i++) {
			if (i > 0)
				FIRN_TRY(firn_buf_puts(spec, ", "));
			FIRN_TRY(firn_spec__put_name(spec, n->names[i], strlen(n->names[i])));
			FIRN_TRY(firn_buf_puts(spec, ": "));
			FIRN_TRY(spec_type(spec, n->kids[i]));
		}
		return firn_buf_putc(spec, '>');
	}
	if (n->array) {
		FIRN_TRY(firn_buf_puts(spec, "list<"));
		FIRN_TRY(spec_type(spec, n->elem));
		return firn_buf_putc(spec, '>');
	}
	return firn_buf_puts(spec, firn_text__kind_name(n->kinds));
}

int firn_jsonl__infer_new(struct firn_jsonl__infer **out)
{
	*out = firn_calloc(1, sizeof(**out));
	if (*out == NULL)
		return FIRN_ENOMEM;
	(*out)->root.kinds = FIRN_TEXT__K_ALL;
	return 0;
}

int firn_jsonl__infer_line(struct firn_jsonl__infer *inf, const char *s, size_t n,
			   struct firn_error *err)
{
	json_error_t je;
	json_t *v = firn_json__loadb(s, n, JSON_FLAGS, &je);
	if (v == NULL)
		return invalid_json(&je, NULL, err);
	int rc = 0;
	if (!json_is_object(v))
		rc = firn_error_set(err, FIRN_EINVAL, "not a JSON object");
	else if (infer_value(&inf->root, v, 0) != 0)
		rc = nomem(err);
	json_decref(v);
	return rc;
}

int firn_jsonl__infer_spec(struct firn_jsonl__infer *inf, struct firn_buf *spec)
{
	const struct inode *r = &inf->root;
	for (int64_t i = 0; i < r->n; i++) {
		if (i > 0)
			FIRN_TRY(firn_buf_puts(spec, ", "));
		FIRN_TRY(firn_spec__put_name(spec, r->names[i], strlen(r->names[i])));
		FIRN_TRY(firn_buf_putc(spec, ' '));
		FIRN_TRY(spec_type(spec, r->kids[i]));
	}
	return 0;
}

void firn_jsonl__infer_free(struct firn_jsonl__infer *inf)
{
	if (inf == NULL)
		return;
	inode_free(&inf->root);
	firn_free(inf);
}
