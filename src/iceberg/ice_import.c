/* firn_table_import: a plan of another format's versions (firn/import.h)
 * becomes an Iceberg table over the same Parquet files, one snapshot per
 * version that changes files; and what reading such files needs: the
 * name mapping (they carry no field ids) and the identity partition
 * values they do not hold. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firn/import.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_import.h"
#include "iceberg/ice_merge_manifests.h"
#include "iceberg/ice_scan.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "iceberg/ice_writer.h"
#include "io/io_local.h"
#include "util/parallel.h"

#define POS_FILE_PATH 2147483546
#define POS_POS 2147483545
#define NAME_MAPPING "schema.name-mapping.default"

/* ---- the name mapping ------------------------------------------------- */

static json_t *mapping_fields(const struct ArrowSchema *s);

static json_t *mapping_field(const struct ArrowSchema *node, const char *name)
{
	json_t *f = json_pack("{s:i, s:[s]}", "field-id", (int)firn_schema_field_id(node), "names", name);
	if (!f)
		return NULL;
	json_t *sub = NULL;
	struct firn_type t;
	if (firn_type_of(node, &t, NULL) != 0)
		return f;
	if (t.id == FIRN_A_STRUCT) {
		sub = mapping_fields(node);
	} else if (t.id == FIRN_A_LIST && node->n_children == 1) {
		sub = json_array();
		json_array_append_new(sub, mapping_field(node->children[0], "element"));
	} else if (t.id == FIRN_A_MAP && node->n_children == 1 && node->children[0]->n_children == 2) {
		sub = json_array();
		json_array_append_new(sub, mapping_field(node->children[0]->children[0], "key"));
		json_array_append_new(sub, mapping_field(node->children[0]->children[1], "value"));
	}
	if (sub && json_object_set_new(f, "fields", sub) != 0) {
		json_decref(f);
		return NULL;
	}
	return f;
}

static json_t *mapping_fields(const struct ArrowSchema *s)
{
	json_t *a = json_array();
	for (int64_t i = 0; a && i < s->n_children; i++)
		if (json_array_append_new(a, mapping_field(s->children[i], s->children[i]->name)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *firn_ice__name_mapping(const struct ArrowSchema *schema)
{
	return mapping_fields(schema);
}

/* A mapping flattened: (parent id, name) → id. */
struct map_entry {
	int32_t parent, id;
	const char *name;
};

struct flat_map {
	struct map_entry *v;
	size_t n, cap;
};

static int flatten(struct flat_map *fm, const json_t *fields, int32_t parent)
{
	size_t i;
	const json_t *f;
	if (!json_is_array(fields))
		return fields ? -1 : 0;
	json_array_foreach(fields, i, f) {
		const json_t *id = json_object_get(f, "field-id"), *names = json_object_get(f, "names");
		if (!json_is_array(names) || (id && !json_is_integer(id)))
			return -1;
		if (!id)
			continue; /* a name without an id: its columns stay unmapped */
		size_t k;
		const json_t *nm;
		json_array_foreach(names, k, nm) {
			if (!json_is_string(nm))
				return -1;
			if (fm->n == fm->cap) {
				size_t nc = fm->cap ? fm->cap * 2 : 32;
				struct map_entry *v = firn_realloc(fm->v, nc * sizeof(*v));
				if (!v)
					return -2;
				fm->v = v;
				fm->cap = nc;
			}
			fm->v[fm->n++] = (struct map_entry){ parent, (int32_t)json_integer_value(id),
							     json_string_value(nm) };
		}
		int rc = flatten(fm, json_object_get(f, "fields"), (int32_t)json_integer_value(id));
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int32_t map_lookup(void *arg, int32_t parent, const char *name)
{
	const struct flat_map *fm = arg;
	for (size_t i = 0; i < fm->n; i++)
		if (fm->v[i].parent == parent && strcmp(fm->v[i].name, name) == 0)
			return fm->v[i].id;
	return -1;
}

/* Maps r's columns through mapping (a JSON array, borrowed). */
static int apply_mapping(const json_t *mapping, struct firn_parquet_reader *r, const char *what,
			 struct firn_error *err)
{
	struct flat_map fm = { 0 };
	int rc = flatten(&fm, mapping, -1);
	if (rc == 0)
		firn_parquet_reader_assign_field_ids(r, map_lookup, &fm);
	firn_free(fm.v);
	if (rc == -2)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc != 0)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: %s is not a name mapping", what, NAME_MAPPING);
	return 0;
}

int firn_ice__name_map_reader(const struct firn_ice_meta *m, struct firn_parquet_reader *r,
			      struct firn_error *err)
{
	if (firn_parquet_reader_has_field_ids(r))
		return 0;
	const char *text = firn_ice__prop(m, NAME_MAPPING);
	if (!text)
		return 0;
	json_t *j = json_loads(text, 0, NULL);
	int rc = j ? apply_mapping(j, r, "table property", err)
		   : firn_error_set(err, FIRN_ECORRUPT, "table property %s is not JSON", NAME_MAPPING);
	json_decref(j);
	return rc;
}

/* ---- identity partition values as columns ----------------------------- */

static int append_datum(struct firn_builder *b, const struct firn_type *t, const struct firn_datum *d)
{
	switch (t->id) {
	case FIRN_A_BOOL:
		return firn_builder_append_bool(b, d->v.b);
	case FIRN_A_INT32:
	case FIRN_A_DATE32:
		return firn_builder_append_i32(b, d->v.i32);
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP:
		return firn_builder_append_i64(b, d->v.i64);
	case FIRN_A_FLOAT:
		return firn_builder_append_f32(b, d->v.f32);
	case FIRN_A_DOUBLE:
		return firn_builder_append_f64(b, d->v.f64);
	case FIRN_A_DECIMAL:
		return firn_builder_append_fixed(b, &d->v.dec);
	case FIRN_A_STRING:
	case FIRN_A_BINARY:
		return firn_builder_append_bytes(b, d->v.bin.p, d->v.bin.n);
	case FIRN_A_FIXED:
		return firn_builder_append_fixed(b, d->v.bin.p);
	default:
		return FIRN_EUNSUPPORTED;
	}
}

/* Column k of batch replaced by n copies of d. */
static int constant_column(const struct ArrowSchema *node, const struct firn_datum *d,
			   struct ArrowArray *col, int64_t n, struct firn_error *err)
{
	struct firn_type t;
	FIRN_TRY(firn_type_of(node, &t, err));
	struct firn_builder b;
	FIRN_TRY(firn_builder_init(&b, node, err));
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i < n; i++)
		rc = append_datum(&b, &t, d);
	struct ArrowArray out = { 0 };
	if (rc != 0)
		rc = firn_error_set(err, rc, "cannot fill column %s from its partition value", node->name);
	else
		rc = firn_builder_finish(&b, &out, err);
	firn_builder_free(&b);
	if (rc == 0) {
		if (col->release)
			col->release(col);
		*col = out;
	}
	return rc;
}

static bool file_has(const struct ArrowSchema *file_schema, int32_t id)
{
	for (int64_t k = 0; k < file_schema->n_children; k++)
		if (firn_schema_field_id(file_schema->children[k]) == id)
			return true;
	return false;
}

int firn_ice__fill_identity(const struct firn_ice_meta *m, const struct firn_ice_data_file *f,
			    const struct ArrowSchema *file_schema, const struct ArrowSchema *proj,
			    struct ArrowArray *batch, struct firn_error *err)
{
	const struct firn_ice_spec *spec = f->n_partition ? firn_ice__meta_spec(m, f->spec_id) : NULL;
	for (size_t j = 0; spec && j < spec->n_fields && j < f->n_partition; j++) {
		const struct firn_ice_spec_field *sf = &spec->fields[j];
		if (sf->transform.kind != FIRN_TR_IDENTITY || f->partition[j].null)
			continue;
		for (int64_t k = 0; k < proj->n_children && k < batch->n_children; k++)
			if (firn_schema_field_id(proj->children[k]) == sf->source_id &&
			    !file_has(file_schema, sf->source_id))
				FIRN_TRY(constant_column(proj->children[k], &f->partition[j], batch->children[k],
							 batch->length, err));
	}
	return 0;
}

/* ---- the import's state: the live data files -------------------------- */

struct live {
	const char *path;
	struct firn_datum *partition;
	size_t n_partition;
	int32_t spec_id;
	int64_t records;
	const char *deletes; /* the position delete file firn wrote for it, NULL */
	bool gone;
};

struct imp {
	struct firn_table *t;
	const struct firn_import_plan *plan;
	struct firn_import_info *info;
	struct firn_arena arena; /* the live files' strings and values */
	struct live *live;
	size_t n_live, cap_live;
	uint32_t *slots; /* index + 1, open addressing */
	size_t n_slots;
	json_t *mapping; /* the current schema's name mapping */
};

static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static struct live *live_find(const struct imp *im, const char *path)
{
	if (!im->n_slots)
		return NULL;
	for (size_t i = path_hash(path) & (im->n_slots - 1);; i = (i + 1) & (im->n_slots - 1)) {
		uint32_t s = im->slots[i];
		if (!s)
			return NULL;
		if (strcmp(im->live[s - 1].path, path) == 0)
			return &im->live[s - 1];
	}
}

static int live_rehash(struct imp *im)
{
	size_t ns = im->n_slots ? im->n_slots * 2 : 1024;
	uint32_t *slots = firn_calloc(ns, sizeof(uint32_t));
	if (!slots)
		return FIRN_ENOMEM;
	for (size_t k = 0; k < im->n_live; k++) {
		size_t i = path_hash(im->live[k].path) & (ns - 1);
		while (slots[i])
			i = (i + 1) & (ns - 1);
		slots[i] = (uint32_t)(k + 1);
	}
	firn_free(im->slots);
	im->slots = slots;
	im->n_slots = ns;
	return 0;
}

/* Adds (or revives) a live file; its strings and values are copied. */
static int live_add(struct imp *im, const struct firn_ice_data_file *f, const char *deletes)
{
	struct live *l = live_find(im, f->path);
	if (!l) {
		if (im->n_live == im->cap_live) {
			size_t nc = im->cap_live ? im->cap_live * 2 : 256;
			struct live *v = firn_realloc(im->live, nc * sizeof(*v));
			if (!v)
				return FIRN_ENOMEM;
			im->live = v;
			im->cap_live = nc;
		}
		if ((im->n_live + 1) * 2 > im->n_slots && live_rehash(im) != 0)
			return FIRN_ENOMEM;
		l = &im->live[im->n_live];
		memset(l, 0, sizeof(*l));
		if (!(l->path = firn_arena_strdup(&im->arena, f->path)))
			return FIRN_ENOMEM;
		size_t i = path_hash(l->path) & (im->n_slots - 1);
		while (im->slots[i])
			i = (i + 1) & (im->n_slots - 1);
		im->slots[i] = (uint32_t)(++im->n_live);
	}
	l->gone = false;
	l->spec_id = f->spec_id;
	l->records = f->record_count;
	l->n_partition = f->n_partition;
	l->partition = f->n_partition ? firn_arena_alloc(&im->arena, f->n_partition * sizeof(struct firn_datum))
				      : NULL;
	if (f->n_partition && !l->partition)
		return FIRN_ENOMEM;
	const struct firn_ice_spec *sp = firn_ice__meta_spec(im->t->meta, f->spec_id);
	struct firn_pfield *pf = NULL;
	if (sp && sp->n_fields &&
	    firn_ice__spec_resolve(sp, &firn_ice__meta_current_schema(im->t->meta)->arrow, &pf, NULL) != 0)
		return FIRN_ENOMEM;
	for (size_t k = 0; k < f->n_partition; k++) {
		l->partition[k] = f->partition[k];
		enum firn_atype id = pf && k < sp->n_fields ? pf[k].result_type.id : FIRN_A_NULL;
		if (l->partition[k].null || (id != FIRN_A_STRING && id != FIRN_A_BINARY && id != FIRN_A_FIXED))
			continue;
		/* byte datums borrow: the live set keeps its own copy */
		char *p = firn_arena_strndup(&im->arena, (const char *)f->partition[k].v.bin.p,
					     f->partition[k].v.bin.n);
		if (!p) {
			firn_free(pf);
			return FIRN_ENOMEM;
		}
		l->partition[k].v.bin.p = (const uint8_t *)p;
	}
	firn_free(pf);
	l->deletes = deletes ? firn_arena_strdup(&im->arena, deletes) : NULL;
	return deletes && !l->deletes ? FIRN_ENOMEM : 0;
}

static void imp_free(struct imp *im)
{
	firn_free(im->live);
	firn_free(im->slots);
	firn_arena_free(&im->arena);
	json_decref(im->mapping);
}

/* The live files of t's current snapshot (an incremental import). */
static int live_load(struct imp *im, struct firn_error *err)
{
	const struct firn_ice_meta *m = im->t->meta;
	const struct firn_ice_snapshot *snap = firn_ice__meta_current(m);
	if (!snap)
		return 0;
	struct firn_ice_plan p = { 0 };
	int rc = firn_ice__plan(&p, m, snap, &firn_ice__meta_current_schema(m)->arrow, NULL, err);
	for (size_t i = 0; rc == 0 && i < p.n_tasks; i++) {
		const struct firn_ice_task *tk = &p.tasks[i];
		const char *del = NULL;
		for (size_t d = 0; d < tk->n_deletes; d++)
			if (tk->deletes[d]->file.content == 1)
				del = tk->deletes[d]->file.path;
		if (live_add(im, &tk->entry->file, del) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	firn_ice__plan_free(&p);
	return rc;
}

/* ---- an added file: entry and metrics from its footer ------------------ */

/* Parses a partition value as Iceberg's partition paths print it. */
static int parse_partition(const struct firn_pfield *pf, const char *s, struct firn_arena *a,
			   struct firn_datum *d, struct firn_error *err)
{
	memset(d, 0, sizeof(*d));
	if (!s) {
		d->null = true;
		return 0;
	}
	int y = 0, mo = 1, day = 1, h = 0;
	switch (pf->transform.kind) {
	case FIRN_TR_YEAR:
		if (sscanf(s, "%d", &y) != 1)
			break;
		d->v.i32 = y - 1970;
		return 0;
	case FIRN_TR_MONTH:
		if (sscanf(s, "%d-%d", &y, &mo) != 2 || mo < 1 || mo > 12)
			break;
		d->v.i32 = (y - 1970) * 12 + mo - 1;
		return 0;
	case FIRN_TR_HOUR:
		if (sscanf(s, "%d-%d-%d-%d", &y, &mo, &day, &h) != 4 || mo < 1 || mo > 12 || day < 1 ||
		    day > 31 || h < 0 || h > 23)
			break;
		d->v.i32 = (int32_t)(firn_days_from_civil(y, (unsigned)mo, (unsigned)day) * 24 + h);
		return 0;
	default:
		return firn_ice__datum_parse(&pf->result_type, s, strlen(s), a, d, err);
	}
	return firn_error_set(err, FIRN_EINVAL, "partition value '%s' is not of its transform's form", s);
}

/* A leaf's statistics over every row group: FIRN_ENOTFOUND when a row
 * group has none. */
static int leaf_total(struct firn_parquet_reader *r, int leaf, const struct firn_type *t,
		      struct firn_parquet_column_stats *out)
{
	int n_rg = firn_parquet_reader_num_row_groups(r);
	memset(out, 0, sizeof(*out));
	out->field_id = firn_parquet_reader_leaf_field_id(r, leaf);
	out->nan_count = -1;
	out->min_len = out->max_len = -1;
	bool bounds = t != NULL;
	struct firn_datum lo = { 0 }, hi = { 0 };
	for (int rg = 0; rg < n_rg; rg++) {
		struct firn_parquet_column_stats st;
		if (firn_parquet_reader_leaf_stats(r, rg, leaf, &st) != 0)
			return FIRN_ENOTFOUND;
		out->value_count += st.value_count;
		out->compressed_size += st.compressed_size;
		out->null_count = out->null_count < 0 || st.null_count < 0 ? -1 : out->null_count + st.null_count;
		int64_t rows = firn_parquet_reader_row_group_rows(r, rg);
		if (st.null_count >= 0 && st.null_count == rows)
			continue; /* all null: no bounds, none needed */
		struct firn_datum a, b;
		if (!bounds || !st.min || st.min_len < 0 || !st.max || st.max_len < 0 ||
		    !firn_ice__parquet_stat_datum(t, st.min, st.min_len, &a) ||
		    !firn_ice__parquet_stat_datum(t, st.max, st.max_len, &b)) {
			bounds = false;
			continue;
		}
		if (out->min_len < 0 || firn_ice__datum_compare(t, &a, &lo) < 0) {
			lo = a;
			out->min = st.min;
			out->min_len = st.min_len;
		}
		if (out->max_len < 0 || firn_ice__datum_compare(t, &b, &hi) > 0) {
			hi = b;
			out->max = st.max;
			out->max_len = st.max_len;
		}
	}
	if (!bounds)
		out->min_len = out->max_len = -1;
	return 0;
}

/* Drops the metrics a foreign writer's footer cannot vouch for: unknown
 * null counts, NaN counts (Parquet has none), float bounds (may hold NaN). */
static void trim_metrics(const struct ArrowSchema *schema, struct firn_ice_data_file *f)
{
	size_t k = 0;
	for (size_t i = 0; i < f->n_null_counts; i++)
		if (f->null_counts[i].value >= 0)
			f->null_counts[k++] = f->null_counts[i];
	f->n_null_counts = k;
	f->n_nan_counts = 0;
	struct firn_ice_bound *bs[2] = { f->lower, f->upper };
	size_t *ns[2] = { &f->n_lower, &f->n_upper };
	for (int w = 0; w < 2; w++) {
		k = 0;
		for (size_t i = 0; i < *ns[w]; i++) {
			const struct ArrowSchema *node = firn_ice__schema_find(schema, bs[w][i].id, NULL);
			struct firn_type t;
			if (node && firn_type_of(node, &t, NULL) == 0 && t.id != FIRN_A_FLOAT &&
			    t.id != FIRN_A_DOUBLE)
				bs[w][k++] = bs[w][i];
		}
		*ns[w] = k;
	}
}

static int footer_metrics(struct firn_parquet_reader *r, const struct ArrowSchema *schema,
			  struct firn_arena *a, struct firn_ice_data_file *f, struct firn_error *err)
{
	int n_leaves = firn_parquet_reader_leaf_count(r);
	struct firn_parquet_column_stats *st = firn_calloc((size_t)n_leaves + 1, sizeof(*st));
	if (!st)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int n = 0;
	for (int leaf = 0; leaf < n_leaves; leaf++) {
		int32_t id = firn_parquet_reader_leaf_field_id(r, leaf);
		const struct ArrowSchema *node = id >= 0 ? firn_ice__schema_find(schema, id, NULL) : NULL;
		struct firn_type t;
		if (!node || node->n_children || firn_type_of(node, &t, NULL) != 0)
			continue;
		if (leaf_total(r, leaf, &t, &st[n]) == 0)
			n++;
	}
	int rc = firn_ice__file_metrics(schema, st, n, a, f, err);
	firn_free(st);
	if (rc == 0)
		trim_metrics(schema, f);
	return rc;
}

/* The manifest entry of an adopted file, its footer read. */
static int added_entry(struct imp *im, const struct firn_import_file *src,
		       const struct firn_pfield *pf, size_t n_pf, struct firn_arena *a,
		       struct firn_ice_entry *e, struct firn_error *err)
{
	const struct firn_ice_meta *m = im->t->meta;
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(m)->arrow;
	struct firn_parquet_reader *r = NULL;
	int rc = firn_parquet_reader_open(&r, src->location, err);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ENOTFOUND, "%s: data file is missing", src->location);
	if (rc != 0)
		return rc;
	if (!firn_parquet_reader_has_field_ids(r))
		rc = apply_mapping(im->mapping, r, src->location, err);
	memset(e, 0, sizeof(*e));
	e->status = FIRN_ICE_ADDED;
	struct firn_ice_data_file *f = &e->file;
	f->content = 0;
	f->format = "PARQUET";
	f->spec_id = m->default_spec_id;
	f->record_count = firn_parquet_reader_num_rows(r);
	f->file_size = firn_parquet_reader_file_size(r);
	if (rc == 0 && !(f->path = firn_arena_strdup(a, src->location)))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0 && src->size >= 0 && src->size != f->file_size)
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %lld bytes, but the %s log says %lld",
				    src->location, (long long)f->file_size, im->plan->format,
				    (long long)src->size);
	if (rc == 0 && src->records >= 0 && src->records != f->record_count)
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %lld rows, but the %s log says %lld",
				    src->location, (long long)f->record_count, im->plan->format,
				    (long long)src->records);
	if (rc == 0)
		rc = footer_metrics(r, schema, a, f, err);
	int n_rg = firn_parquet_reader_num_row_groups(r);
	if (rc == 0 && n_rg > 0 && (f->split_offsets = firn_arena_alloc(a, (size_t)n_rg * sizeof(int64_t)))) {
		for (int g = 0; g < n_rg; g++) {
			int64_t off = 0;
			firn_parquet_reader_row_group_bytes(r, g, NULL, &off);
			if (f->n_split_offsets && off <= f->split_offsets[f->n_split_offsets - 1])
				break; /* offsets must ascend; drop them otherwise */
			f->split_offsets[f->n_split_offsets++] = off;
		}
		if (f->n_split_offsets != (size_t)n_rg)
			f->n_split_offsets = 0;
	}
	firn_parquet_reader_free(r);
	if (rc == 0 && n_pf) {
		f->n_partition = n_pf;
		if (!(f->partition = firn_arena_alloc(a, n_pf * sizeof(struct firn_datum))))
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (size_t k = 0; rc == 0 && k < n_pf; k++)
			if ((rc = parse_partition(&pf[k], src->partition ? src->partition[k] : NULL, a,
						  &f->partition[k], err)) != 0)
				firn_error_prefix(err, "%s", src->location);
	}
	return rc;
}

/* ---- position delete files -------------------------------------------- */

static int pos_schema(struct ArrowSchema *s)
{
	FIRN_TRY(firn_schema_init(s, "+s", "", 0, 2));
	FIRN_TRY(firn_schema_init(s->children[0], "u", "file_path", 0, 0));
	FIRN_TRY(firn_schema_set_field_id(s->children[0], POS_FILE_PATH));
	FIRN_TRY(firn_schema_init(s->children[1], "l", "pos", 0, 0));
	return firn_schema_set_field_id(s->children[1], POS_POS);
}

static int pos_batch(const struct ArrowSchema *s, const struct firn_import_deletes *d,
		     struct ArrowArray *out, struct firn_error *err)
{
	struct firn_builder b;
	FIRN_TRY(firn_builder_init(&b, s, err));
	size_t plen = strlen(d->data_file);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < d->n; i++) {
		rc = firn_builder_append_struct(&b);
		if (rc == 0)
			rc = firn_builder_append_bytes(&b.children[0], d->data_file, plen);
		if (rc == 0)
			rc = firn_builder_append_i64(&b.children[1], d->positions[i]);
	}
	rc = rc ? firn_error_set(err, FIRN_ENOMEM, "out of memory") : firn_builder_finish(&b, out, err);
	firn_builder_free(&b);
	return rc;
}

/* Writes the position delete file of d (under the table's data folder)
 * and fills its entry; *path gets the file (the caller's, to remove when
 * the version does not commit). */
static int write_deletes(struct imp *im, const struct firn_import_deletes *d, const struct live *df,
			 struct firn_arena *a, struct firn_ice_entry *e, char **path,
			 struct firn_error *err)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->positions[i] < 0 || d->positions[i] >= df->records ||
		    (i && d->positions[i] <= d->positions[i - 1]))
			return firn_error_set(err, FIRN_EINVAL, "%s: delete positions must ascend within its "
					      "%lld rows", d->data_file, (long long)df->records);
	struct ArrowSchema s = { 0 };
	if (pos_schema(&s) != 0) {
		if (s.release)
			s.release(&s);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	*path = firn_ice__new_path(im->t->meta, "data", "00000-imported-deletes-", ".parquet");
	struct ArrowArray batch = { 0 };
	struct firn_parquet_writer *w = NULL;
	struct firn_parquet_write_options o = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	int rc = *path ? pos_batch(&s, d, &batch, err) : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_parquet_writer_open(&w, *path, &s, &o, err);
	if (rc == 0)
		rc = firn_parquet_writer_write(w, &batch, err);
	if (rc == 0)
		rc = firn_parquet_writer_close(w, err);
	if (rc == 0)
		rc = firn_io_sync_dir(*path, err);
	if (batch.release)
		batch.release(&batch);
	if (rc == 0) {
		memset(e, 0, sizeof(*e));
		e->status = FIRN_ICE_ADDED;
		struct firn_ice_data_file *f = &e->file;
		f->content = 1;
		f->path = firn_arena_strdup(a, *path);
		f->format = "PARQUET";
		f->spec_id = df->spec_id;
		f->partition = df->partition;
		f->n_partition = df->n_partition;
		f->record_count = (int64_t)d->n;
		f->file_size = firn_parquet_writer_bytes(w);
		f->referenced_data_file = df->path;
		const struct firn_parquet_column_stats *st;
		int n;
		firn_parquet_writer_stats(w, &st, &n);
		rc = f->path ? firn_ice__file_metrics(&s, st, n, a, f, err)
			     : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	firn_parquet_writer_free(w);
	s.release(&s);
	return rc;
}

/* ---- commits ------------------------------------------------------------ */

/* The table updates of a schema change: the schema (a fresh id), current,
 * and its name mapping. Sets im->mapping. */
static int schema_updates(struct imp *im, const char *schema_text, struct firn_ice_change *c,
			  struct firn_error *err)
{
	const struct firn_ice_meta *m = im->t->meta;
	json_t *sj = json_loads(schema_text, 0, NULL);
	if (!json_is_object(sj)) {
		json_decref(sj);
		return firn_error_set(err, FIRN_EINVAL, "the plan's schema is not a JSON object");
	}
	int32_t max_sid = -1;
	for (size_t i = 0; i < m->n_schemas; i++)
		if (m->schemas[i].schema_id > max_sid)
			max_sid = m->schemas[i].schema_id;
	json_object_set_new(sj, "schema-id", json_integer(max_sid + 1));
	struct ArrowSchema arrow = { 0 };
	int32_t max_id = 0;
	int rc = firn_ice__schema_from_json(sj, "the plan's schema", &arrow, &max_id, err);
	json_t *mapping = rc == 0 ? firn_ice__name_mapping(&arrow) : NULL;
	char *text = mapping ? json_dumps(mapping, JSON_COMPACT) : NULL;
	if (rc == 0 && !text)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__change_update(c, firn_ice__upd_add_schema(sj), err);
	if (rc == 0)
		rc = firn_ice__change_update(c, firn_ice__upd_set_current_schema(-1), err);
	json_t *props = text ? json_pack("{s:s}", NAME_MAPPING, text) : NULL;
	if (rc == 0)
		rc = firn_ice__change_update(c, props ? firn_ice__upd_set_properties(props) : NULL, err);
	json_decref(props);
	free(text);
	if (rc == 0) {
		json_decref(im->mapping);
		im->mapping = mapping;
	} else {
		json_decref(mapping);
	}
	if (arrow.release)
		arrow.release(&arrow);
	json_decref(sj);
	return rc;
}

static int version_updates(const struct firn_import_version *v, struct firn_ice_change *c,
			   int64_t tag_snapshot, struct firn_error *err)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)v->id);
	json_t *props = json_pack("{s:s}", "firn.import.version", buf);
	FIRN_TRY(firn_ice__change_update(c, props ? firn_ice__upd_set_properties(props) : NULL, err));
	json_decref(props);
	if (v->tag && tag_snapshot >= 0)
		FIRN_TRY(firn_ice__change_update(c, firn_ice__upd_set_ref(v->tag, "tag", tag_snapshot, NULL),
						 err));
	return 0;
}

/* A commit without a snapshot: a schema change, or a version that
 * changes no file (its tag on the snapshot before it). */
struct meta_ctx {
	struct imp *im;
	const char *schema;
	const struct firn_import_version *v; /* NULL: no version recorded */
};

static int meta_change(struct firn_table *t, int attempt, void *vctx, struct firn_ice_change *out,
		       struct firn_error *err)
{
	(void)attempt;
	struct meta_ctx *c = vctx;
	const struct firn_ice_snapshot *head = firn_ice__meta_current(t->meta);
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_current_schema_id(t->meta->current_schema_id),
					  err));
	if (c->schema)
		FIRN_TRY(schema_updates(c->im, c->schema, out, err));
	if (c->v)
		FIRN_TRY(version_updates(c->v, out, head ? head->snapshot_id : -1, err));
	return 0;
}

/* What one version's snapshot commits. */
struct snap_ctx {
	struct imp *im;
	const struct firn_import_version *v;
	struct firn_ice_manifest_file data_mf, del_mf;
	bool has_data, has_del;
	const char **gone; /* sorted: data and delete files no longer live */
	size_t n_gone;
	char **written; /* the current attempt's manifests and list */
	size_t n_written;
	bool fresh_merged;
	int64_t snap_id;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_gone(const struct snap_ctx *c, const char *path)
{
	return c->n_gone && bsearch(&path, c->gone, c->n_gone, sizeof(char *), cmp_str);
}

static void drop_written(struct snap_ctx *c, bool remove)
{
	for (size_t i = 0; i < c->n_written; i++) {
		if (remove)
			firn_io_delete(c->written[i], NULL);
		firn_free(c->written[i]);
	}
	firn_free(c->written);
	c->written = NULL;
	c->n_written = 0;
}

static int remember(struct snap_ctx *c, const char *path, struct firn_error *err)
{
	char **v = firn_realloc(c->written, (c->n_written + 1) * sizeof(char *));
	if (v)
		c->written = v;
	if (!v || !(v[c->n_written] = firn_strdup(path))) {
		firn_io_delete(path, NULL);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	c->n_written++;
	return 0;
}

/* A parent's manifest rewritten when it lists a file no longer live:
 * those entries DELETED, the other live ones EXISTING. *out NULL when it
 * lists none. */
static int rewrite_gone(struct snap_ctx *c, const struct firn_ice_meta *m,
			const struct firn_ice_manifest_file *mf, struct firn_arena *a,
			struct firn_ice_manifest_file **out, struct firn_error *err)
{
	struct firn_ice_entry *es;
	size_t n;
	*out = NULL;
	FIRN_TRY(firn_ice__manifest_read(mf, m, a, &es, &n, err));
	bool any = false;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (es[i].status == FIRN_ICE_DELETED)
			continue;
		bool gone = is_gone(c, es[i].file.path);
		any |= gone;
		es[k] = es[i];
		es[k].status = gone ? FIRN_ICE_DELETED : FIRN_ICE_EXISTING;
		if (gone)
			es[k].snapshot_id = c->snap_id;
		es[k].explicit_sequence = true;
		k++;
	}
	if (!any)
		return 0;
	char *path = firn_ice__new_path(m, "metadata", "", "-m1.avro");
	int rc = path ? remember(c, path, err) : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_ice_manifest_file *nm = rc == 0 ? firn_arena_alloc(a, sizeof(*nm)) : NULL;
	if (rc == 0 && !nm)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__manifest_write(path, m, firn_ice__meta_spec(m, mf->spec_id), mf->content, es, k,
					      c->snap_id, a, nm, err);
	if (rc == 0) {
		nm->path = firn_arena_strdup(a, path);
		nm->content = mf->content;
		*out = nm;
	}
	firn_free(path);
	return rc;
}

/* The snapshot's manifests when files go: the new ones, the parent's
 * rewritten where they list a gone file, the rest kept. *changed gets the
 * manifests this snapshot wrote (for the summary). */
static int manifests_with_removals(struct snap_ctx *c, const struct firn_ice_meta *m,
				   const struct firn_ice_manifest_file *old, size_t n_old,
				   struct firn_arena *a, struct firn_ice_manifest_file **all, size_t *n_all,
				   struct firn_ice_manifest_file **changed, size_t *n_changed,
				   struct firn_error *err)
{
	*all = firn_arena_alloc(a, (n_old + 3) * sizeof(**all));
	*changed = firn_arena_alloc(a, (n_old + 3) * sizeof(**changed));
	if (!*all || !*changed)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	*n_all = *n_changed = 0;
	if (c->has_data) {
		(*all)[(*n_all)++] = c->data_mf;
		(*changed)[(*n_changed)++] = c->data_mf;
	}
	if (c->has_del) {
		(*all)[(*n_all)++] = c->del_mf;
		(*changed)[(*n_changed)++] = c->del_mf;
	}
	for (size_t i = 0; i < n_old; i++) {
		struct firn_ice_manifest_file *nm;
		FIRN_TRY(rewrite_gone(c, m, &old[i], a, &nm, err));
		if (nm) {
			(*changed)[(*n_changed)++] = *nm;
			(*all)[(*n_all)++] = *nm;
		} else {
			(*all)[(*n_all)++] = old[i];
		}
	}
	return 0;
}

/* The source's commit time when it keeps the history in order, else now. */
static int set_snapshot_time(struct firn_ice_change *out, const struct firn_ice_snapshot *parent,
			     int64_t ts)
{
	size_t i;
	json_t *u;
	int64_t now = firn_ice__now_ms();
	if (ts <= 0 || ts > now || (parent && ts <= parent->timestamp_ms))
		return 0;
	json_array_foreach(out->updates, i, u) {
		const char *action = json_string_value(json_object_get(u, "action"));
		json_t *s = json_object_get(u, "snapshot");
		if (action && strcmp(action, "add-snapshot") == 0 && s)
			return json_object_set_new(s, "timestamp-ms", json_integer(ts));
	}
	return 0;
}

static const char *operation_of(const struct snap_ctx *c)
{
	bool removes = c->n_gone || c->has_del;
	return c->has_data && removes ? "overwrite" : c->has_data ? "append" : "delete";
}

static int snap_change(struct firn_table *t, int attempt, void *vctx, struct firn_ice_change *out,
		       struct firn_error *err)
{
	struct snap_ctx *c = vctx;
	const struct firn_ice_meta *m = t->meta;
	drop_written(c, true); /* an earlier attempt's: it did not commit */
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_current_schema_id(m->current_schema_id),
					  err));
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_default_spec_id(m->default_spec_id), err));
	const struct firn_ice_snapshot *parent;
	FIRN_TRY(firn_ice__branch_head(m, "main", &parent, err));
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *old = NULL, *all = NULL, *changed = NULL;
	size_t n_old = 0, n_all = 0, n_changed = 0;
	int rc = parent ? firn_ice__snapshot_manifests(m, parent, &a, &old, &n_old, err) : 0;
	c->snap_id = firn_ice__new_snapshot_id(m);
	int64_t seq = m->last_sequence_number + 1;
	c->data_mf.added_snapshot_id = c->del_mf.added_snapshot_id = c->snap_id;
	c->data_mf.sequence_number = c->del_mf.sequence_number = -1;
	c->fresh_merged = false;
	if (rc == 0 && !c->n_gone && !c->has_del) {
		struct firn_ice_merged mg;
		rc = firn_ice__merge_append(m, c->snap_id, &c->data_mf, old, n_old, &a, &mg, &c->written,
					    &c->n_written, err);
		if (rc == 0) {
			all = mg.v;
			n_all = mg.n;
			changed = &c->data_mf;
			n_changed = 1;
			c->fresh_merged = mg.fresh_merged;
		}
	} else if (rc == 0) {
		rc = manifests_with_removals(c, m, old, n_old, &a, &all, &n_all, &changed, &n_changed, err);
	}
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "snap-%lld-%d-", (long long)c->snap_id, attempt + 1);
	char *list = rc == 0 ? firn_ice__new_path(m, "metadata", prefix, ".avro") : NULL;
	if (rc == 0 && !list)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int64_t next_row_id = m->next_row_id;
	if (rc == 0)
		rc = firn_ice__manifest_list_write(list, m, c->snap_id, parent != NULL,
						   parent ? parent->snapshot_id : 0, seq, all, n_all,
						   &next_row_id, err);
	if (rc == 0)
		rc = remember(c, list, err);
	if (rc == 0) {
		json_t *summary = firn_ice__summary(parent, operation_of(c), changed, n_changed);
		rc = firn_ice__snapshot_change(m, "main", c->snap_id, parent, seq, list, summary,
					       m->next_row_id, next_row_id - m->next_row_id, out, err);
	}
	if (rc == 0 && set_snapshot_time(out, parent, c->v->timestamp_ms) != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = version_updates(c->v, out, c->snap_id, err);
	firn_free(list);
	firn_arena_free(&a);
	return rc;
}

/* ---- one version ---------------------------------------------------------- */

#define FOOTER_WIDTH 16 /* footers read at once: round trips overlap on a remote store */
#define FOOTER_PARALLEL 32 /* from this many added files on */

struct version_work {
	struct firn_arena a;
	struct firn_arena slot_arenas[FOOTER_WIDTH]; /* the footer readers' */
	struct firn_ice_entry *adds, *dels;
	size_t n_adds, n_dels;
	char **del_paths; /* the delete files written (removed unless committed) */
	size_t n_del_paths;
	const char **gone;
	size_t n_gone;
	char *data_path, *del_path; /* the new manifests */
};

static void work_free(struct version_work *w, bool failed)
{
	for (size_t i = 0; i < w->n_del_paths; i++) {
		if (failed)
			firn_io_delete(w->del_paths[i], NULL);
		firn_free(w->del_paths[i]);
	}
	if (failed && w->data_path)
		firn_io_delete(w->data_path, NULL);
	if (failed && w->del_path)
		firn_io_delete(w->del_path, NULL);
	firn_free(w->del_paths);
	firn_free(w->adds);
	firn_free(w->dels);
	firn_free(w->gone);
	firn_free(w->data_path);
	firn_free(w->del_path);
	firn_arena_free(&w->a);
	for (int i = 0; i < FOOTER_WIDTH; i++)
		firn_arena_free(&w->slot_arenas[i]);
}

/* The added files' entries, their footers read on up to FOOTER_WIDTH
 * threads; the first failure by file order is the one reported. */
struct footers {
	struct imp *im;
	const struct firn_import_version *v;
	struct version_work *w;
	const struct firn_pfield *pf;
	size_t n_pf;
	struct {
		size_t at; /* the failed file, SIZE_MAX: none */
		int rc;
		struct firn_error err;
	} slot[FOOTER_WIDTH];
};

static void footer_one(void *arg, size_t i, int slot)
{
	struct footers *f = arg;
	struct firn_error e = { 0 };
	int rc = added_entry(f->im, &f->v->added[i], f->pf, f->n_pf, &f->w->slot_arenas[slot],
			     &f->w->adds[i], &e);
	if (rc != 0 && i < f->slot[slot].at) {
		f->slot[slot].at = i;
		f->slot[slot].rc = rc;
		f->slot[slot].err = e;
	}
}

static int read_footers(struct imp *im, const struct firn_import_version *v, struct version_work *w,
			const struct firn_pfield *pf, size_t n_pf, struct firn_error *err)
{
	struct footers *f = firn_calloc(1, sizeof(*f));
	if (!f)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	f->im = im;
	f->v = v;
	f->w = w;
	f->pf = pf;
	f->n_pf = n_pf;
	for (int k = 0; k < FOOTER_WIDTH; k++)
		f->slot[k].at = SIZE_MAX;
	if (v->n_added < FOOTER_PARALLEL) /* threads started per call: worth it for many files */
		for (size_t i = 0; i < v->n_added; i++)
			footer_one(f, i, 0);
	else
		firn_par__io(v->n_added, FOOTER_WIDTH, footer_one, f);
	int best = -1;
	for (int k = 0; k < FOOTER_WIDTH; k++)
		if (f->slot[k].at != SIZE_MAX && (best < 0 || f->slot[k].at < f->slot[best].at))
			best = k;
	int rc = 0;
	if (best >= 0) {
		rc = f->slot[best].rc;
		if (err)
			*err = f->slot[best].err;
	} else {
		w->n_adds = v->n_added;
	}
	firn_free(f);
	return rc;
}

static void add_gone(struct version_work *w, const char *path)
{
	w->gone[w->n_gone++] = path;
}

/* The file a version deletes rows of: live, or added by the version. */
static bool deletes_target(struct imp *im, const struct version_work *w, const char *path,
			   struct live *out)
{
	struct live *l = live_find(im, path);
	if (l && !l->gone) {
		*out = *l;
		return true;
	}
	for (size_t i = 0; i < w->n_adds; i++)
		if (strcmp(w->adds[i].file.path, path) == 0) {
			const struct firn_ice_data_file *f = &w->adds[i].file;
			*out = (struct live){ f->path, f->partition, f->n_partition, f->spec_id,
					      f->record_count, NULL, false };
			return true;
		}
	return false;
}

/* Reads the added files' footers, checks the removals, writes the delete
 * files. */
static int prepare_version(struct imp *im, const struct firn_import_version *v,
			   struct version_work *w, struct firn_error *err)
{
	const struct firn_ice_meta *m = im->t->meta;
	const struct firn_ice_spec *spec = firn_ice__meta_spec(m, m->default_spec_id);
	struct firn_pfield *pf = NULL;
	FIRN_TRY(firn_ice__spec_resolve(spec, &firn_ice__meta_current_schema(m)->arrow, &pf, err));
	size_t cap_gone = 2 * (v->n_removed + v->n_deletes) + 1;
	w->adds = firn_calloc(v->n_added + 1, sizeof(*w->adds));
	w->dels = firn_calloc(v->n_deletes + 1, sizeof(*w->dels));
	w->del_paths = firn_calloc(v->n_deletes + 1, sizeof(char *));
	w->gone = firn_calloc(cap_gone, sizeof(char *));
	int rc = w->adds && w->dels && w->del_paths && w->gone ? 0
		 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < v->n_added; i++) {
		struct live *l = live_find(im, v->added[i].location);
		if (l && !l->gone)
			rc = firn_error_set(err, FIRN_EINVAL, "version %lld adds %s, which is already in the "
					    "table", (long long)v->id, v->added[i].location);
	}
	if (rc == 0)
		rc = read_footers(im, v, w, pf, spec->n_fields, err);
	for (size_t i = 0; rc == 0 && i < v->n_removed; i++) {
		struct live *l = live_find(im, v->removed[i]);
		if (!l || l->gone)
			rc = firn_error_set(err, FIRN_EINVAL, "version %lld removes %s, which is not a live file "
					    "of the table (changed since it was imported?)", (long long)v->id,
					    v->removed[i]);
		else {
			add_gone(w, l->path);
			if (l->deletes)
				add_gone(w, l->deletes);
		}
	}
	for (size_t i = 0; rc == 0 && i < v->n_deletes; i++) {
		const struct firn_import_deletes *d = &v->deletes[i];
		struct live l;
		if (!deletes_target(im, w, d->data_file, &l)) {
			rc = firn_error_set(err, FIRN_EINVAL, "version %lld deletes rows of %s, which is not "
					    "a live file of the table", (long long)v->id, d->data_file);
			break;
		}
		if (l.deletes)
			add_gone(w, l.deletes);
		if (d->n > 0) {
			rc = write_deletes(im, d, &l, &w->a, &w->dels[w->n_dels], &w->del_paths[w->n_del_paths], err);
			if (w->del_paths[w->n_del_paths])
				w->n_del_paths++;
			if (rc == 0)
				w->n_dels++;
		}
	}
	firn_free(pf);
	if (rc == 0 && w->n_gone)
		qsort(w->gone, w->n_gone, sizeof(char *), cmp_str);
	return rc;
}

static int write_new_manifest(const struct firn_ice_meta *m, struct firn_ice_entry *es, size_t n,
			      int content, struct firn_arena *a, char **path,
			      struct firn_ice_manifest_file *out, struct firn_error *err)
{
	*path = firn_ice__new_path(m, "metadata", "", content ? "-d0.avro" : "-m0.avro");
	if (!*path)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	FIRN_TRY(firn_ice__manifest_write(*path, m, firn_ice__meta_spec(m, m->default_spec_id), content, es,
					  n, 0, a, out, err));
	out->path = firn_arena_strdup(a, *path);
	out->content = content;
	return out->path ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* The live set after a committed version. */
static int live_update(struct imp *im, const struct firn_import_version *v, struct version_work *w)
{
	for (size_t i = 0; i < v->n_removed; i++) {
		struct live *l = live_find(im, v->removed[i]);
		if (l)
			l->gone = true;
	}
	for (size_t i = 0; i < w->n_adds; i++)
		if (live_add(im, &w->adds[i].file, NULL) != 0)
			return FIRN_ENOMEM;
	for (size_t i = 0; i < w->n_dels; i++) {
		struct live *l = live_find(im, w->dels[i].file.referenced_data_file);
		if (l && !(l->deletes = firn_arena_strdup(&im->arena, w->dels[i].file.path)))
			return FIRN_ENOMEM;
	}
	for (size_t i = 0; i < v->n_deletes; i++) { /* deletes of no rows: the old file went */
		struct live *l = live_find(im, v->deletes[i].data_file);
		if (l && v->deletes[i].n == 0)
			l->deletes = NULL;
	}
	return 0;
}

/* Whether schema_text has the current schema's fields (an incremental
 * import's first version repeats it). */
static bool same_schema(const struct firn_ice_meta *m, const char *schema_text)
{
	json_t *j = json_loads(schema_text, 0, NULL);
	const struct firn_ice_schema *cur = firn_ice__meta_current_schema(m);
	bool same = j && cur && cur->json &&
		    json_equal(json_object_get(j, "fields"), json_object_get(cur->json, "fields"));
	json_decref(j);
	return same;
}

static int apply_version(struct imp *im, const struct firn_import_version *v, bool schema_done,
			 struct firn_error *err)
{
	struct firn_table *t = im->t;
	if (v->schema && !schema_done && !same_schema(t->meta, v->schema)) {
		struct meta_ctx mc = { im, v->schema, NULL };
		FIRN_TRY(firn_ice__commit_change(t, meta_change, &mc, NULL, err));
	}
	struct version_work w = { 0 };
	int rc = prepare_version(im, v, &w, err);
	bool files = w.n_adds || w.n_gone || w.n_dels;
	if (rc == 0 && !files) {
		struct meta_ctx mc = { im, NULL, v };
		rc = firn_ice__commit_change(t, meta_change, &mc, NULL, err);
		work_free(&w, rc != 0);
		return rc;
	}
	struct snap_ctx sc = { 0 };
	sc.im = im;
	sc.v = v;
	sc.gone = w.gone;
	sc.n_gone = w.n_gone;
	if (rc == 0 && w.n_adds) {
		sc.has_data = true;
		rc = write_new_manifest(t->meta, w.adds, w.n_adds, 0, &w.a, &w.data_path, &sc.data_mf, err);
	}
	if (rc == 0 && w.n_dels) {
		sc.has_del = true;
		rc = write_new_manifest(t->meta, w.dels, w.n_dels, 1, &w.a, &w.del_path, &sc.del_mf, err);
	}
	if (rc == 0)
		rc = firn_ice__commit_change(t, snap_change, &sc, NULL, err);
	bool unknown = rc == FIRN_EIO && !firn_ice__commit_surely_failed(t);
	if (rc == 0 && sc.fresh_merged && w.data_path)
		firn_io_delete(w.data_path, NULL); /* merged into another manifest */
	drop_written(&sc, rc != 0 && !unknown);
	if (rc == 0) {
		im->info->snapshots++;
		im->info->files += (int64_t)w.n_adds;
		if (live_update(im, v, &w) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	work_free(&w, rc != 0 && !unknown);
	return rc;
}

static int apply_plan(struct imp *im, int64_t after, bool first_schema_done, struct firn_error *err)
{
	const struct firn_import_plan *p = im->plan;
	for (size_t i = 0; i < p->n_versions; i++) {
		const struct firn_import_version *v = &p->versions[i];
		if (after >= 0 && v->id <= after)
			continue;
		FIRN_TRY(apply_version(im, v, first_schema_done && i == 0, err));
		im->info->versions++;
		im->info->last_version = v->id;
	}
	return 0;
}

/* ---- creating the table ---------------------------------------------------- */

static int create_updates(const struct firn_import_plan *p, const char *loc, json_t **out,
			  struct firn_error *err)
{
	const struct firn_import_version *v0 = &p->versions[0];
	json_t *sj = json_loads(v0->schema, 0, NULL);
	json_t *spec = p->partition_spec ? json_loads(p->partition_spec, 0, NULL)
					 : json_pack("{s:i, s:[]}", "spec-id", 0, "fields");
	if (!json_is_object(sj) || !json_is_object(spec)) {
		json_decref(sj);
		json_decref(spec);
		return firn_error_set(err, FIRN_EINVAL, "the plan's schema or partition spec is not JSON");
	}
	json_object_set_new(sj, "schema-id", json_integer(0));
	struct ArrowSchema arrow = { 0 };
	int32_t max_id = 0;
	int rc = firn_ice__schema_from_json(sj, "the plan's schema", &arrow, &max_id, err);
	json_t *mapping = rc == 0 ? firn_ice__name_mapping(&arrow) : NULL;
	char *mtext = mapping ? json_dumps(mapping, JSON_COMPACT) : NULL;
	if (arrow.release)
		arrow.release(&arrow);
	json_decref(mapping);
	struct firn_ice_change c = { 0 };
	if (rc == 0 && !mtext)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__change_init(&c, err);
#define UPD(x) (rc == 0 ? (rc = firn_ice__change_update(&c, (x), err)) : rc)
	uint8_t u[16];
	char us[37];
	firn_uuid_v4(u);
	firn_uuid_format(u, us);
	UPD(firn_ice__upd_assign_uuid(us));
	UPD(firn_ice__upd_upgrade_format_version(2));
	UPD(firn_ice__upd_add_schema(sj));
	UPD(firn_ice__upd_set_current_schema(-1));
	UPD(firn_ice__upd_add_spec(spec));
	UPD(firn_ice__upd_set_default_spec(-1));
	json_t *unsorted = json_pack("{s:i, s:[]}", "order-id", 0, "fields");
	UPD(unsorted ? firn_ice__upd_add_sort_order(unsorted) : NULL);
	json_decref(unsorted);
	UPD(firn_ice__upd_set_default_sort_order(0));
	if (loc)
		UPD(firn_ice__upd_set_location(loc));
	json_t *props = mtext ? json_pack("{s:s, s:s, s:s, s:s}", "write.parquet.compression-codec", "zstd",
					  "firn.import.format", p->format, "firn.import.source", p->source,
					  NAME_MAPPING, mtext)
			      : NULL;
	UPD(props ? firn_ice__upd_set_properties(props) : NULL);
	json_decref(props);
#undef UPD
	free(mtext);
	json_decref(sj);
	json_decref(spec);
	if (rc != 0) {
		firn_ice__change_free(&c);
		return rc;
	}
	*out = c.updates;
	json_decref(c.requirements);
	return 0;
}

static int create_table(struct firn_catalog *c, const char *ident, const struct firn_import_plan *p,
			struct firn_error *err)
{
	char *ns = NULL, *name = NULL, *loc = NULL, *path = NULL;
	json_t *updates = NULL;
	struct firn_ice_meta *m = NULL;
	FIRN_TRY(firn_ice__split_ident(ident, &ns, &name, err));
	int rc = firn_ice__check_new_ident(ns, name, err);
	if (rc == 0 && (rc = firn_catalog_namespace_exists(c, ns, err)) >= 0) {
		rc = rc ? 0 : firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
	}
	char *existing = NULL;
	if (rc == 0 && firn_catalog_table_load(c, ns, name, &existing, NULL) == 0) {
		firn_free(existing);
		rc = firn_error_set(err, FIRN_EEXISTS, "table %s already exists", ident);
	}
	if (rc == 0 && !c->ops->picks_locations)
		rc = firn_ice__choose_location(c, ns, name, NULL, &loc, err);
	if (rc == 0)
		rc = create_updates(p, loc, &updates, err);
	if (rc == 0)
		rc = c->ops->table_create(c->self, ns, name, updates, false, &m, &path, err);
	json_decref(updates);
	firn_ice__meta_free(m);
	firn_free(ns);
	firn_free(name);
	firn_free(loc);
	firn_free(path);
	return rc;
}

static int check_plan(const struct firn_import_plan *p, struct firn_error *err)
{
	if (!p->format || !p->source)
		return firn_error_set(err, FIRN_EINVAL, "an import plan needs a format and a source");
	if (p->n_versions == 0)
		return firn_error_set(err, FIRN_EINVAL, "the %s table has no version to import", p->format);
	if (!p->versions[0].schema)
		return firn_error_set(err, FIRN_EINVAL, "the first version of an import plan needs a schema");
	return 0;
}

int firn_table_import(struct firn_catalog *c, const char *ident, const struct firn_import_plan *plan,
		      struct firn_import_info *info, struct firn_error *err)
{
	struct firn_import_info local;
	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	info->last_version = -1;
	FIRN_TRY(check_plan(plan, err));
	FIRN_TRY(create_table(c, ident, plan, err));
	struct imp im = { 0 };
	im.plan = plan;
	im.info = info;
	int rc = firn_table_load(c, ident, &im.t, err);
	if (rc == 0) {
		const char *mt = firn_ice__prop(im.t->meta, NAME_MAPPING);
		if (!(im.mapping = mt ? json_loads(mt, 0, NULL) : NULL))
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = apply_plan(&im, -1, true, err);
	imp_free(&im);
	firn_table_free(im.t);
	if (rc != 0) /* no table is left behind; the source's files stay where they are */
		firn_table_drop(c, ident, true, NULL, NULL);
	return rc;
}

int firn_table_imported_version(const struct firn_table *t, const char *format, int64_t *version,
				struct firn_error *err)
{
	const char *f = firn_ice__prop(t->meta, "firn.import.format");
	const char *v = firn_ice__prop(t->meta, "firn.import.version");
	char *end = NULL;
	long long n = v ? strtoll(v, &end, 10) : 0;
	if (!f || strcmp(f, format) != 0 || !v || end == v || *end)
		return firn_error_set(err, FIRN_ENOTFOUND, "%s.%s was not imported from %s", t->ns, t->name,
				      format);
	*version = n;
	return 0;
}

int firn_table_import_more(struct firn_table *t, const struct firn_import_plan *plan,
			   struct firn_import_info *info, struct firn_error *err)
{
	struct firn_import_info local;
	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	int64_t after = -1;
	FIRN_TRY(firn_table_imported_version(t, plan->format, &after, err));
	info->last_version = after;
	const char *src = firn_ice__prop(t->meta, "firn.import.source");
	if (!src || !plan->source || strcmp(src, plan->source) != 0)
		return firn_error_set(err, FIRN_EINVAL, "%s.%s was imported from %s, not %s", t->ns, t->name,
				      src ? src : "?", plan->source ? plan->source : "?");
	struct imp im = { 0 };
	im.t = t;
	im.plan = plan;
	im.info = info;
	const char *mt = firn_ice__prop(t->meta, NAME_MAPPING);
	int rc = mt && (im.mapping = json_loads(mt, 0, NULL)) ? 0
		 : firn_error_set(err, FIRN_ECORRUPT, "%s.%s has no valid %s", t->ns, t->name, NAME_MAPPING);
	if (rc == 0)
		rc = live_load(&im, err);
	if (rc == 0)
		rc = apply_plan(&im, after, false, err);
	imp_free(&im);
	return rc;
}
