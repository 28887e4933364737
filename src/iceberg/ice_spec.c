/* Partition specs and sort orders from their text forms; spec resolution
 * against a schema. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arrow/types.h"
#include "iceberg/ice_meta.h"

/* One item "name", "fn(arg)", "fn(n, arg)" of a comma list. Splits on
 * top-level commas only. */
struct item {
	char fn[32];
	long param;
	bool has_param;
	char col[256];
	char rest[64]; /* what follows the term (sort: "asc nulls first") */
};

static const char *skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static int read_name(const char **pp, char *out, size_t cap)
{
	const char *p = skip_ws(*pp);
	size_t n = 0;
	if (*p == '`') {
		p++;
		while (*p && *p != '`') {
			if (n + 1 < cap)
				out[n++] = *p;
			p++;
		}
		if (*p != '`')
			return -1;
		p++;
	} else {
		while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.')) {
			if (n + 1 < cap)
				out[n++] = *p;
			p++;
		}
	}
	out[n] = '\0';
	*pp = p;
	return n > 0 ? 0 : -1;
}

static int parse_item(const char **pp, struct item *it, const char *what, struct firn_error *err)
{
	const char *start = *pp;
	memset(it, 0, sizeof(*it));
	char first[256];
	if (read_name(pp, first, sizeof(first)) != 0)
		return firn_error_set(err, FIRN_EINVAL, "%s: expected a column or a transform at '%s'",
				      what, skip_ws(start));
	const char *p = skip_ws(*pp);
	if (*p == '(') {
		snprintf(it->fn, sizeof(it->fn), "%s", first);
		p = skip_ws(p + 1);
		if (isdigit((unsigned char)*p) || *p == '-') {
			char *end;
			it->param = strtol(p, &end, 10);
			it->has_param = true;
			p = skip_ws(end);
			if (*p != ',')
				return firn_error_set(err, FIRN_EINVAL, "%s: expected ',' after %ld in %s(",
						      what, it->param, it->fn);
			p++;
		}
		if (read_name(&p, it->col, sizeof(it->col)) != 0)
			return firn_error_set(err, FIRN_EINVAL, "%s: expected a column in %s(...)",
					      what, it->fn);
		p = skip_ws(p);
		if (*p == ',') { /* truncate(name, 4) order as some tools write it */
			p = skip_ws(p + 1);
			char *end;
			it->param = strtol(p, &end, 10);
			if (end == p)
				return firn_error_set(err, FIRN_EINVAL, "%s: expected a number in %s(...)",
						      what, it->fn);
			it->has_param = true;
			p = skip_ws(end);
		}
		if (*p != ')')
			return firn_error_set(err, FIRN_EINVAL, "%s: expected ')' in %s(...)", what,
					      it->fn);
		p++;
	} else {
		snprintf(it->col, sizeof(it->col), "%s", first);
	}
	/* the rest up to the next top-level comma */
	p = skip_ws(p);
	size_t n = 0;
	while (*p && *p != ',') {
		if (n + 1 < sizeof(it->rest))
			it->rest[n++] = *p;
		p++;
	}
	while (n > 0 && isspace((unsigned char)it->rest[n - 1]))
		n--;
	it->rest[n] = '\0';
	if (*p == ',')
		p++;
	*pp = p;
	return 0;
}

static int item_transform(const struct item *it, struct firn_transform *tr, char *text,
			  size_t cap, const char *what, struct firn_error *err)
{
	if (it->fn[0] == '\0') {
		tr->kind = FIRN_TR_IDENTITY;
		snprintf(text, cap, "identity");
		return 0;
	}
	if (it->has_param)
		snprintf(text, cap, "%s[%ld]", it->fn, it->param);
	else
		snprintf(text, cap, "%s", it->fn);
	for (char *c = text; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (firn_ice__transform_parse(text, tr, err) != 0) {
		firn_error_prefix(err, "%s", what);
		return FIRN_EINVAL;
	}
	if (tr->kind == FIRN_TR_UNKNOWN)
		return firn_error_set(err, FIRN_EINVAL, "%s: unknown transform %s", what, it->fn);
	bool wants = tr->kind == FIRN_TR_BUCKET || tr->kind == FIRN_TR_TRUNCATE;
	if (wants != it->has_param)
		return firn_error_set(err, FIRN_EINVAL, "%s: %s %s a number", what, it->fn,
				      wants ? "needs" : "does not take");
	return 0;
}

static int source_of(const struct ArrowSchema *schema, const struct item *it,
		     const struct firn_transform *tr, const char *what, int32_t *id,
		     struct firn_error *err)
{
	const struct ArrowSchema *col = firn_ice__schema_find_name(schema, it->col);
	if (!col)
		return firn_error_set(err, FIRN_EINVAL, "%s: unknown column '%s'", what, it->col);
	struct firn_type t, rt;
	FIRN_TRY(firn_type_of(col, &t, err));
	if (firn_ice__transform_result_type(tr, &t, &rt, err) != 0) {
		firn_error_prefix(err, "%s: column '%s'", what, it->col);
		return FIRN_EINVAL;
	}
	*id = firn_schema_field_id(col);
	return 0;
}

int firn_ice__spec_parse(const char *text, const struct ArrowSchema *schema, int32_t spec_id,
			 const struct firn_ice_meta *reuse, int32_t *last_partition_id,
			 json_t **out, struct firn_error *err)
{
	const char *what = "partition-by";
	json_t *spec = json_object(), *fields = json_array();
	json_object_set_new(spec, "spec-id", json_integer(spec_id));
	json_object_set_new(spec, "fields", fields);
	const char *p = text ? text : "";
	int rc = 0;
	while (*skip_ws(p)) {
		struct item it;
		struct firn_transform tr;
		char trtext[64], name[300];
		int32_t src;
		if ((rc = parse_item(&p, &it, what, err)) != 0 ||
		    (rc = item_transform(&it, &tr, trtext, sizeof(trtext), what, err)) != 0 ||
		    (rc = source_of(schema, &it, &tr, what, &src, err)) != 0)
			goto fail;
		if (it.rest[0]) {
			rc = firn_error_set(err, FIRN_EINVAL, "%s: unexpected '%s'", what, it.rest);
			goto fail;
		}
		switch (tr.kind) {
		case FIRN_TR_IDENTITY: snprintf(name, sizeof(name), "%s", it.col); break;
		case FIRN_TR_BUCKET: snprintf(name, sizeof(name), "%s_bucket_%ld", it.col, it.param); break;
		case FIRN_TR_TRUNCATE: snprintf(name, sizeof(name), "%s_trunc_%ld", it.col, it.param); break;
		case FIRN_TR_VOID: snprintf(name, sizeof(name), "%s_null", it.col); break;
		default: snprintf(name, sizeof(name), "%s_%s", it.col, trtext); break;
		}
		int32_t fid = -1;
		const char *reuse_name = NULL;
		for (size_t s = 0; reuse && s < reuse->n_specs && fid < 0; s++)
			for (size_t k = 0; k < reuse->specs[s].n_fields; k++) {
				const struct firn_ice_spec_field *f = &reuse->specs[s].fields[k];
				if (f->source_id == src && strcmp(f->transform_text, trtext) == 0) {
					fid = f->field_id;
					reuse_name = f->name;
					break;
				}
			}
		if (fid < 0)
			fid = ++*last_partition_id;
		/* duplicates within one spec */
		for (size_t k = 0; k < json_array_size(fields); k++) {
			json_t *f = json_array_get(fields, k);
			/* no name: a setter ran out of memory (the caller's check sees it) */
			const char *fname = json_string_value(json_object_get(f, "name"));
			if ((fname && strcmp(fname, reuse_name ? reuse_name : name) == 0) ||
			    json_integer_value(json_object_get(f, "field-id")) == fid) {
				rc = firn_error_set(err, FIRN_EINVAL, "%s: %s(%s) appears twice", what,
						    trtext, it.col);
				goto fail;
			}
		}
		json_t *f = json_object();
		json_object_set_new(f, "name", json_string(reuse_name ? reuse_name : name));
		json_object_set_new(f, "transform", json_string(trtext));
		json_object_set_new(f, "source-id", json_integer(src));
		json_object_set_new(f, "field-id", json_integer(fid));
		json_array_append_new(fields, f);
	}
	*out = spec;
	return 0;
fail:
	json_decref(spec);
	return rc;
}

int firn_ice__order_parse(const char *text, const struct ArrowSchema *schema,
			  int32_t order_id, json_t **out, struct firn_error *err)
{
	const char *what = "sort-by";
	json_t *order = json_object(), *fields = json_array();
	json_object_set_new(order, "order-id", json_integer(order_id));
	json_object_set_new(order, "fields", fields);
	const char *p = text ? text : "";
	int rc = 0;
	while (*skip_ws(p)) {
		struct item it;
		struct firn_transform tr;
		char trtext[64];
		int32_t src;
		if ((rc = parse_item(&p, &it, what, err)) != 0 ||
		    (rc = item_transform(&it, &tr, trtext, sizeof(trtext), what, err)) != 0 ||
		    (rc = source_of(schema, &it, &tr, what, &src, err)) != 0)
			goto fail;
		bool desc = false, nulls_first;
		char rest[64];
		snprintf(rest, sizeof(rest), "%s", it.rest);
		char *words[4];
		int nw = 0;
		for (char *tok = strtok(rest, " \t"); tok && nw < 4; tok = strtok(NULL, " \t"))
			words[nw++] = tok;
		int w = 0;
		if (w < nw && (strcasecmp(words[w], "asc") == 0 || strcasecmp(words[w], "desc") == 0))
			desc = strcasecmp(words[w++], "desc") == 0;
		nulls_first = !desc;
		if (w + 1 < nw && strcasecmp(words[w], "nulls") == 0 &&
		    (strcasecmp(words[w + 1], "first") == 0 || strcasecmp(words[w + 1], "last") == 0)) {
			nulls_first = strcasecmp(words[w + 1], "first") == 0;
			w += 2;
		}
		if (w != nw) {
			rc = firn_error_set(err, FIRN_EINVAL,
					    "%s: expected asc|desc [nulls first|last] after %s, got '%s'",
					    what, it.col, it.rest);
			goto fail;
		}
		json_t *f = json_object();
		json_object_set_new(f, "transform", json_string(trtext));
		json_object_set_new(f, "source-id", json_integer(src));
		json_object_set_new(f, "direction", json_string(desc ? "desc" : "asc"));
		json_object_set_new(f, "null-order", json_string(nulls_first ? "nulls-first" : "nulls-last"));
		json_array_append_new(fields, f);
	}
	*out = order;
	return 0;
fail:
	json_decref(order);
	return rc;
}

int firn_ice__spec_resolve(const struct firn_ice_spec *spec, const struct ArrowSchema *schema,
			   struct firn_pfield **out, struct firn_error *err)
{
	*out = firn_calloc(spec->n_fields ? spec->n_fields : 1, sizeof(**out));
	if (!*out)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < spec->n_fields; i++) {
		const struct firn_ice_spec_field *f = &spec->fields[i];
		struct firn_pfield *pf = &(*out)[i];
		pf->source_id = f->source_id;
		pf->field_id = f->field_id;
		pf->transform = f->transform;
		pf->result_type.id = FIRN_A_NULL;
		const struct ArrowSchema *col = firn_ice__schema_find(schema, f->source_id, NULL);
		if (!col || f->transform.kind == FIRN_TR_UNKNOWN)
			continue;
		if (firn_type_of(col, &pf->source_type, NULL) != 0 ||
		    firn_ice__transform_result_type(&f->transform, &pf->source_type,
						    &pf->result_type, NULL) != 0)
			pf->result_type.id = FIRN_A_NULL;
	}
	return 0;
}

int firn_ice__spec_partition_schema(const struct firn_ice_spec *spec,
				    const struct ArrowSchema *schema, struct ArrowSchema *out,
				    struct firn_error *err)
{
	struct firn_pfield *pf;
	FIRN_TRY(firn_ice__spec_resolve(spec, schema, &pf, err));
	int rc = firn_schema_init(out, "+s", "partition", 0, (int64_t)spec->n_fields);
	for (size_t i = 0; rc == 0 && i < spec->n_fields; i++) {
		struct firn_type t = pf[i].result_type;
		if (t.id == FIRN_A_NULL) /* unknown transform or source: keep as int */
			t.id = FIRN_A_INT32;
		rc = firn_arrow__type_schema(out->children[i], &t, spec->fields[i].name,
					     ARROW_FLAG_NULLABLE, 0);
		if (rc == 0)
			rc = firn_schema_set_field_id(out->children[i], spec->fields[i].field_id);
	}
	firn_free(pf);
	if (rc != 0 && out->release)
		out->release(out);
	return rc == 0 ? 0 : firn_error_set(err, rc, "out of memory");
}
