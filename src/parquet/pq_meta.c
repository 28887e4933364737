/* Parquet FileMetaData and PageHeader <-> Thrift compact bytes. */
#include <stdio.h>

#include "parquet/pq_meta.h"
#include "parquet/thrift.h"

/* ---- parsing ---- */

struct parser {
	struct thrift_reader r;
	struct firn_arena *arena; /* NULL: strings point into the input */
	const char *missing;      /* first required field not found */
	bool nomem;
};

#define FIELDS(P, BODY) do { \
	int16_t last_ = 0, id; int type; \
	firn_thrift__enter(&(P)->r); \
	for (;;) { \
		firn_thrift__field(&(P)->r, &type, &id, &last_); \
		if (type == TT_STOP || !(P)->r.ok) break; \
		switch (id) { BODY default: skip(P, type); } \
	} \
	firn_thrift__leave(&(P)->r); \
} while (0)

static void skip(struct parser *p, int type)
{
	if (type != TT_TRUE && type != TT_FALSE)
		firn_thrift__skip(&p->r, type);
}

/* A field of the expected type, or skipped (lenient about odd writers). */
#define WANT(T) if (type != (T) && !((T) == TT_I32 && (type == TT_I16 || type == TT_I64))) { skip(p, type); break; }
#define WANT_BOOL if (type != TT_TRUE && type != TT_FALSE) { skip(p, type); break; }

static int32_t rd_i32(struct parser *p) { return firn_thrift__i32(&p->r); }
static int64_t rd_i64(struct parser *p) { return firn_thrift__i64(&p->r); }

static const char *rd_string(struct parser *p)
{
	int32_t n;
	const uint8_t *s = firn_thrift__binary(&p->r, &n);
	if (s == NULL)
		return "";
	char *c = firn_arena_strndup(p->arena, (const char *)s, (size_t)n);
	if (c == NULL) {
		p->nomem = true;
		firn_thrift__fail(&p->r, "out of memory");
		return "";
	}
	return c;
}

static struct pq_bytes rd_bytes(struct parser *p)
{
	int32_t n;
	const uint8_t *s = firn_thrift__binary(&p->r, &n);
	struct pq_bytes b = { s, n };
	if (s != NULL && p->arena != NULL) {
		uint8_t *c = firn_arena_alloc(p->arena, (size_t)n + 1);
		if (c == NULL) {
			p->nomem = true;
			firn_thrift__fail(&p->r, "out of memory");
			return (struct pq_bytes){ NULL, 0 };
		}
		memcpy(c, s, (size_t)n);
		b.ptr = c;
	}
	return b;
}

static void *rd_array(struct parser *p, size_t elem, int32_t *n, int *etype)
{
	*n = firn_thrift__list(&p->r, etype);
	if (!p->r.ok)
		return NULL;
	void *a = firn_arena_alloc(p->arena, elem * (size_t)(*n ? *n : 1));
	if (a == NULL) {
		p->nomem = true;
		firn_thrift__fail(&p->r, "out of memory");
	}
	return a;
}

static void need(struct parser *p, bool have, const char *what)
{
	if (!have && p->missing == NULL && p->r.ok)
		p->missing = what;
}

static void parse_empty(struct parser *p) { FIELDS(p, ;); }

static void parse_time_unit(struct parser *p, enum pq_time_unit *u)
{
	FIELDS(p,
	case 1: WANT(TT_STRUCT) *u = PQ_MILLIS; parse_empty(p); break;
	case 2: WANT(TT_STRUCT) *u = PQ_MICROS; parse_empty(p); break;
	case 3: WANT(TT_STRUCT) *u = PQ_NANOS; parse_empty(p); break;
	);
}

static void parse_logical(struct parser *p, struct pq_logical_type *lt)
{
	FIELDS(p,
	case PQ_LT_DECIMAL: WANT(TT_STRUCT)
		lt->kind = PQ_LT_DECIMAL;
		FIELDS(p,
		case 1: WANT(TT_I32) lt->scale = rd_i32(p); break;
		case 2: WANT(TT_I32) lt->precision = rd_i32(p); break;
		);
		break;
	case PQ_LT_TIME:
	case PQ_LT_TIMESTAMP: WANT(TT_STRUCT)
		lt->kind = (enum pq_logical_kind)id;
		lt->unit = PQ_MICROS;
		FIELDS(p,
		case 1: WANT_BOOL lt->is_adjusted_to_utc = type == TT_TRUE; break;
		case 2: WANT(TT_STRUCT) parse_time_unit(p, &lt->unit); break;
		);
		break;
	case PQ_LT_INTEGER: WANT(TT_STRUCT)
		lt->kind = PQ_LT_INTEGER;
		lt->bit_width = 32;
		lt->is_signed = true;
		FIELDS(p,
		case 1: WANT(TT_I8) lt->bit_width = firn_thrift__i8(&p->r); break;
		case 2: WANT_BOOL lt->is_signed = type == TT_TRUE; break;
		);
		break;
	case 1: case 2: case 3: case 4: case 6: case 11: case 12: case 13: case 14: case 15:
	case 16: case 17: case 18: WANT(TT_STRUCT)
		lt->kind = (enum pq_logical_kind)id;
		firn_thrift__skip(&p->r, TT_STRUCT);
		break;
	);
}

static void parse_schema_element(struct parser *p, struct pq_schema_element *e)
{
	bool name = false;
	FIELDS(p,
	case 1: WANT(TT_I32) e->has_type = true; e->type = (enum pq_type)rd_i32(p); break;
	case 2: WANT(TT_I32) e->has_type_length = true; e->type_length = rd_i32(p); break;
	case 3: WANT(TT_I32) e->has_repetition_type = true; e->repetition_type = (enum pq_repetition)rd_i32(p); break;
	case 4: WANT(TT_BINARY) e->name = rd_string(p); name = true; break;
	case 5: WANT(TT_I32) e->has_num_children = true; e->num_children = rd_i32(p); break;
	case 6: WANT(TT_I32) e->has_converted_type = true; e->converted_type = (enum pq_converted)rd_i32(p); break;
	case 7: WANT(TT_I32) e->has_scale = true; e->scale = rd_i32(p); break;
	case 8: WANT(TT_I32) e->has_precision = true; e->precision = rd_i32(p); break;
	case 9: WANT(TT_I32) e->has_field_id = true; e->field_id = rd_i32(p); break;
	case 10: WANT(TT_STRUCT) parse_logical(p, &e->logical_type); break;
	);
	need(p, name, "SchemaElement.name");
	if (e->has_type && (e->type < PQ_BOOLEAN || e->type > PQ_FIXED_LEN_BYTE_ARRAY))
		firn_thrift__fail(&p->r, "unknown physical type");
	if (e->has_repetition_type && (e->repetition_type < PQ_REQUIRED || e->repetition_type > PQ_REPEATED))
		firn_thrift__fail(&p->r, "unknown repetition type");
}

static void parse_statistics(struct parser *p, struct pq_statistics *s)
{
	FIELDS(p,
	case 1: WANT(TT_BINARY) s->has_max = true; s->max = rd_bytes(p); break;
	case 2: WANT(TT_BINARY) s->has_min = true; s->min = rd_bytes(p); break;
	case 3: WANT(TT_I64) s->has_null_count = true; s->null_count = rd_i64(p); break;
	case 4: WANT(TT_I64) s->has_distinct_count = true; s->distinct_count = rd_i64(p); break;
	case 5: WANT(TT_BINARY) s->has_max_value = true; s->max_value = rd_bytes(p); break;
	case 6: WANT(TT_BINARY) s->has_min_value = true; s->min_value = rd_bytes(p); break;
	case 7: WANT_BOOL s->has_is_max_value_exact = true; s->is_max_value_exact = type == TT_TRUE; break;
	case 8: WANT_BOOL s->has_is_min_value_exact = true; s->is_min_value_exact = type == TT_TRUE; break;
	);
}

static void parse_kv_list(struct parser *p, struct pq_key_value **out, int32_t *n)
{
	int et;
	struct pq_key_value *kv = rd_array(p, sizeof(*kv), n, &et);
	for (int32_t i = 0; kv && i < *n && p->r.ok; i++) {
		bool key = false;
		FIELDS(p,
		case 1: WANT(TT_BINARY) kv[i].key = rd_string(p); key = true; break;
		case 2: WANT(TT_BINARY) kv[i].value = rd_string(p); break;
		);
		need(p, key, "KeyValue.key");
		if (!key)
			kv[i].key = "";
	}
	*out = kv;
}

static void parse_column_meta(struct parser *p, struct pq_column_meta *m)
{
	bool has_type = false, enc = false, path = false, codec = false, nv = false, tus = false,
	     tcs = false, dpo = false;
	int et;
	FIELDS(p,
	case 1: WANT(TT_I32) m->type = (enum pq_type)rd_i32(p); has_type = true; break;
	case 2: WANT(TT_LIST) {
		m->encodings = rd_array(p, sizeof(*m->encodings), &m->n_encodings, &et);
		for (int32_t i = 0; m->encodings && i < m->n_encodings; i++)
			m->encodings[i] = (enum pq_encoding)rd_i32(p);
		enc = true;
		break;
	}
	case 3: WANT(TT_LIST) {
		m->path_in_schema = rd_array(p, sizeof(char *), &m->n_path, &et);
		for (int32_t i = 0; m->path_in_schema && i < m->n_path; i++)
			m->path_in_schema[i] = rd_string(p);
		path = true;
		break;
	}
	case 4: WANT(TT_I32) m->codec = (enum pq_codec)rd_i32(p); codec = true; break;
	case 5: WANT(TT_I64) m->num_values = rd_i64(p); nv = true; break;
	case 6: WANT(TT_I64) m->total_uncompressed_size = rd_i64(p); tus = true; break;
	case 7: WANT(TT_I64) m->total_compressed_size = rd_i64(p); tcs = true; break;
	case 8: WANT(TT_LIST) parse_kv_list(p, &m->key_value_metadata, &m->n_key_value_metadata); break;
	case 9: WANT(TT_I64) m->data_page_offset = rd_i64(p); dpo = true; break;
	case 10: WANT(TT_I64) m->has_index_page_offset = true; m->index_page_offset = rd_i64(p); break;
	case 11: WANT(TT_I64) m->has_dictionary_page_offset = true; m->dictionary_page_offset = rd_i64(p); break;
	case 12: WANT(TT_STRUCT) m->has_statistics = true; parse_statistics(p, &m->statistics); break;
	case 13: WANT(TT_LIST) {
		m->encoding_stats = rd_array(p, sizeof(*m->encoding_stats), &m->n_encoding_stats, &et);
		for (int32_t i = 0; m->encoding_stats && i < m->n_encoding_stats && p->r.ok; i++) {
			struct pq_page_encoding_stats *s = &m->encoding_stats[i];
			FIELDS(p,
			case 1: WANT(TT_I32) s->page_type = (enum pq_page_type)rd_i32(p); break;
			case 2: WANT(TT_I32) s->encoding = (enum pq_encoding)rd_i32(p); break;
			case 3: WANT(TT_I32) s->count = rd_i32(p); break;
			);
		}
		break;
	}
	case 14: WANT(TT_I64) m->has_bloom_filter_offset = true; m->bloom_filter_offset = rd_i64(p); break;
	case 15: WANT(TT_I32) m->has_bloom_filter_length = true; m->bloom_filter_length = rd_i32(p); break;
	);
	need(p, has_type, "ColumnMetaData.type");
	need(p, enc, "ColumnMetaData.encodings");
	need(p, path, "ColumnMetaData.path_in_schema");
	need(p, codec, "ColumnMetaData.codec");
	need(p, nv, "ColumnMetaData.num_values");
	need(p, tus, "ColumnMetaData.total_uncompressed_size");
	need(p, tcs, "ColumnMetaData.total_compressed_size");
	need(p, dpo, "ColumnMetaData.data_page_offset");
}

static void parse_column_chunk(struct parser *p, struct pq_column_chunk *c)
{
	FIELDS(p,
	case 1: WANT(TT_BINARY) c->file_path = rd_string(p); break;
	case 2: WANT(TT_I64) c->file_offset = rd_i64(p); break;
	case 3: WANT(TT_STRUCT) c->has_meta_data = true; parse_column_meta(p, &c->meta_data); break;
	case 4: WANT(TT_I64) c->has_offset_index_offset = true; c->offset_index_offset = rd_i64(p); break;
	case 5: WANT(TT_I32) c->has_offset_index_length = true; c->offset_index_length = rd_i32(p); break;
	case 6: WANT(TT_I64) c->has_column_index_offset = true; c->column_index_offset = rd_i64(p); break;
	case 7: WANT(TT_I32) c->has_column_index_length = true; c->column_index_length = rd_i32(p); break;
	);
}

static void parse_row_group(struct parser *p, struct pq_row_group *g)
{
	bool cols = false, tbs = false, nr = false;
	int et;
	FIELDS(p,
	case 1: WANT(TT_LIST)
		g->columns = rd_array(p, sizeof(*g->columns), &g->n_columns, &et);
		for (int32_t i = 0; g->columns && i < g->n_columns && p->r.ok; i++)
			parse_column_chunk(p, &g->columns[i]);
		cols = true;
		break;
	case 2: WANT(TT_I64) g->total_byte_size = rd_i64(p); tbs = true; break;
	case 3: WANT(TT_I64) g->num_rows = rd_i64(p); nr = true; break;
	case 4: WANT(TT_LIST)
		g->sorting_columns = rd_array(p, sizeof(*g->sorting_columns), &g->n_sorting_columns, &et);
		for (int32_t i = 0; g->sorting_columns && i < g->n_sorting_columns && p->r.ok; i++) {
			struct pq_sorting_column *s = &g->sorting_columns[i];
			FIELDS(p,
			case 1: WANT(TT_I32) s->column_idx = rd_i32(p); break;
			case 2: WANT_BOOL s->descending = type == TT_TRUE; break;
			case 3: WANT_BOOL s->nulls_first = type == TT_TRUE; break;
			);
		}
		break;
	case 5: WANT(TT_I64) g->has_file_offset = true; g->file_offset = rd_i64(p); break;
	case 6: WANT(TT_I64) g->has_total_compressed_size = true; g->total_compressed_size = rd_i64(p); break;
	case 7: WANT(TT_I16) g->has_ordinal = true; g->ordinal = (int16_t)rd_i32(p); break;
	);
	need(p, cols, "RowGroup.columns");
	need(p, tbs, "RowGroup.total_byte_size");
	need(p, nr, "RowGroup.num_rows");
}

static int finish(struct parser *p, const char *what, struct firn_error *err)
{
	if (p->nomem)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (!p->r.ok)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: %s at byte %td", what, p->r.what,
				      p->r.p - p->r.start);
	if (p->missing)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: %s missing", what, p->missing);
	return 0;
}

int firn_pq__parse_file_meta(const uint8_t *buf, size_t len, struct firn_arena *arena,
			     struct pq_file_meta *out, struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	struct parser p = { 0 };
	firn_thrift__reader_init(&p.r, buf, len);
	p.arena = arena;
	bool version = false, schema = false, rows = false, rgs = false;
	int et;
	FIELDS(&p,
	case 1: if (type != TT_I32) { skip(&p, type); break; } out->version = firn_thrift__i32(&p.r); version = true; break;
	case 2: if (type != TT_LIST) { skip(&p, type); break; }
		out->schema = rd_array(&p, sizeof(*out->schema), &out->n_schema, &et);
		for (int32_t i = 0; out->schema && i < out->n_schema && p.r.ok; i++)
			parse_schema_element(&p, &out->schema[i]);
		schema = true;
		break;
	case 3: if (type != TT_I64) { skip(&p, type); break; } out->num_rows = firn_thrift__i64(&p.r); rows = true; break;
	case 4: if (type != TT_LIST) { skip(&p, type); break; }
		out->row_groups = rd_array(&p, sizeof(*out->row_groups), &out->n_row_groups, &et);
		for (int32_t i = 0; out->row_groups && i < out->n_row_groups && p.r.ok; i++)
			parse_row_group(&p, &out->row_groups[i]);
		rgs = true;
		break;
	case 5: if (type != TT_LIST) { skip(&p, type); break; }
		parse_kv_list(&p, &out->key_value_metadata, &out->n_key_value_metadata);
		break;
	case 6: if (type != TT_BINARY) { skip(&p, type); break; } out->created_by = rd_string(&p); break;
	case 7: if (type != TT_LIST) { skip(&p, type); break; }
		out->column_orders = rd_array(&p, sizeof(int32_t), &out->n_column_orders, &et);
		for (int32_t i = 0; out->column_orders && i < out->n_column_orders && p.r.ok; i++) {
			struct parser *pp = &p;
			FIELDS(pp,
			case 1: case 2: case 3: out->column_orders[i] = id; firn_thrift__skip(&pp->r, type); break;
			);
		}
		break;
	);
	struct parser *pp = &p;
	need(pp, version, "FileMetaData.version");
	need(pp, schema, "FileMetaData.schema");
	need(pp, rows, "FileMetaData.num_rows");
	need(pp, rgs, "FileMetaData.row_groups");
	return finish(&p, "parquet footer", err);
}

int firn_pq__parse_page_header(const uint8_t *buf, size_t len, size_t *consumed,
			       struct pq_page_header *out, struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	struct parser pr = { 0 }, *p = &pr;
	firn_thrift__reader_init(&p->r, buf, len);
	bool type_ = false, ups = false, cps = false;
	FIELDS(p,
	case 1: WANT(TT_I32) out->type = (enum pq_page_type)rd_i32(p); type_ = true; break;
	case 2: WANT(TT_I32) out->uncompressed_page_size = rd_i32(p); ups = true; break;
	case 3: WANT(TT_I32) out->compressed_page_size = rd_i32(p); cps = true; break;
	case 4: WANT(TT_I32) out->has_crc = true; out->crc = rd_i32(p); break;
	case 5: WANT(TT_STRUCT) {
		struct pq_data_page_header *d = &out->data_page_header;
		out->has_data_page_header = true;
		FIELDS(p,
		case 1: WANT(TT_I32) d->num_values = rd_i32(p); break;
		case 2: WANT(TT_I32) d->encoding = (enum pq_encoding)rd_i32(p); break;
		case 3: WANT(TT_I32) d->definition_level_encoding = (enum pq_encoding)rd_i32(p); break;
		case 4: WANT(TT_I32) d->repetition_level_encoding = (enum pq_encoding)rd_i32(p); break;
		case 5: WANT(TT_STRUCT) d->has_statistics = true; parse_statistics(p, &d->statistics); break;
		);
		break;
	}
	case 7: WANT(TT_STRUCT) {
		struct pq_dictionary_page_header *d = &out->dictionary_page_header;
		out->has_dictionary_page_header = true;
		FIELDS(p,
		case 1: WANT(TT_I32) d->num_values = rd_i32(p); break;
		case 2: WANT(TT_I32) d->encoding = (enum pq_encoding)rd_i32(p); break;
		case 3: WANT_BOOL d->has_is_sorted = true; d->is_sorted = type == TT_TRUE; break;
		);
		break;
	}
	case 8: WANT(TT_STRUCT) {
		struct pq_data_page_header_v2 *d = &out->data_page_header_v2;
		out->has_data_page_header_v2 = true;
		d->is_compressed = true;
		FIELDS(p,
		case 1: WANT(TT_I32) d->num_values = rd_i32(p); break;
		case 2: WANT(TT_I32) d->num_nulls = rd_i32(p); break;
		case 3: WANT(TT_I32) d->num_rows = rd_i32(p); break;
		case 4: WANT(TT_I32) d->encoding = (enum pq_encoding)rd_i32(p); break;
		case 5: WANT(TT_I32) d->definition_levels_byte_length = rd_i32(p); break;
		case 6: WANT(TT_I32) d->repetition_levels_byte_length = rd_i32(p); break;
		case 7: WANT_BOOL d->is_compressed = type == TT_TRUE; break;
		case 8: WANT(TT_STRUCT) d->has_statistics = true; parse_statistics(p, &d->statistics); break;
		);
		break;
	}
	);
	need(p, type_, "PageHeader.type");
	need(p, ups, "PageHeader.uncompressed_page_size");
	need(p, cps, "PageHeader.compressed_page_size");
	*consumed = (size_t)(p->r.p - buf);
	return finish(p, "page header", err);
}

/* ---- writing ---- */

static void w_bytes_field(struct thrift_writer *w, int16_t id, struct pq_bytes b)
{
	firn_thrift__f_binary(w, id, b.ptr, b.len);
}

static void write_statistics(struct thrift_writer *w, int16_t id, const struct pq_statistics *s)
{
	firn_thrift__w_field(w, TT_STRUCT, id);
	firn_thrift__w_begin(w);
	if (s->has_max) w_bytes_field(w, 1, s->max);
	if (s->has_min) w_bytes_field(w, 2, s->min);
	if (s->has_null_count) firn_thrift__f_i64(w, 3, s->null_count);
	if (s->has_distinct_count) firn_thrift__f_i64(w, 4, s->distinct_count);
	if (s->has_max_value) w_bytes_field(w, 5, s->max_value);
	if (s->has_min_value) w_bytes_field(w, 6, s->min_value);
	if (s->has_is_max_value_exact) firn_thrift__f_bool(w, 7, s->is_max_value_exact);
	if (s->has_is_min_value_exact) firn_thrift__f_bool(w, 8, s->is_min_value_exact);
	firn_thrift__w_end(w);
}

static void w_empty(struct thrift_writer *w, int16_t id)
{
	firn_thrift__w_field(w, TT_STRUCT, id);
	firn_thrift__w_begin(w);
	firn_thrift__w_end(w);
}

static void write_logical(struct thrift_writer *w, const struct pq_logical_type *lt)
{
	firn_thrift__w_field(w, TT_STRUCT, 10);
	firn_thrift__w_begin(w);
	firn_thrift__w_field(w, TT_STRUCT, (int16_t)lt->kind);
	firn_thrift__w_begin(w);
	switch (lt->kind) {
	case PQ_LT_DECIMAL:
		firn_thrift__f_i32(w, 1, lt->scale);
		firn_thrift__f_i32(w, 2, lt->precision);
		break;
	case PQ_LT_TIME:
	case PQ_LT_TIMESTAMP:
		firn_thrift__f_bool(w, 1, lt->is_adjusted_to_utc);
		firn_thrift__w_field(w, TT_STRUCT, 2);
		firn_thrift__w_begin(w);
		w_empty(w, (int16_t)lt->unit);
		firn_thrift__w_end(w);
		break;
	case PQ_LT_INTEGER:
		firn_thrift__w_field(w, TT_I8, 1);
		firn_thrift__w_byte(w, (uint8_t)lt->bit_width);
		firn_thrift__f_bool(w, 2, lt->is_signed);
		break;
	default:
		break;
	}
	firn_thrift__w_end(w);
	firn_thrift__w_end(w);
}

static void write_kv(struct thrift_writer *w, int16_t id, const struct pq_key_value *kv, int32_t n)
{
	firn_thrift__w_field(w, TT_LIST, id);
	firn_thrift__w_list(w, TT_STRUCT, n);
	for (int32_t i = 0; i < n; i++) {
		firn_thrift__w_begin(w);
		firn_thrift__f_string(w, 1, kv[i].key);
		if (kv[i].value)
			firn_thrift__f_string(w, 2, kv[i].value);
		firn_thrift__w_end(w);
	}
}

int firn_pq__write_file_meta(struct firn_buf *out, const struct pq_file_meta *m)
{
	struct thrift_writer tw, *w = &tw;
	firn_thrift__writer_init(w, out);
	firn_thrift__f_i32(w, 1, m->version);
	firn_thrift__w_field(w, TT_LIST, 2);
	firn_thrift__w_list(w, TT_STRUCT, m->n_schema);
	for (int32_t i = 0; i < m->n_schema; i++) {
		const struct pq_schema_element *e = &m->schema[i];
		firn_thrift__w_begin(w);
		if (e->has_type) firn_thrift__f_i32(w, 1, e->type);
		if (e->has_type_length) firn_thrift__f_i32(w, 2, e->type_length);
		if (e->has_repetition_type) firn_thrift__f_i32(w, 3, e->repetition_type);
		firn_thrift__f_string(w, 4, e->name ? e->name : "");
		if (e->has_num_children) firn_thrift__f_i32(w, 5, e->num_children);
		if (e->has_converted_type) firn_thrift__f_i32(w, 6, e->converted_type);
		if (e->has_scale) firn_thrift__f_i32(w, 7, e->scale);
		if (e->has_precision) firn_thrift__f_i32(w, 8, e->precision);
		if (e->has_field_id) firn_thrift__f_i32(w, 9, e->field_id);
		if (e->logical_type.kind != PQ_LT_NONE) write_logical(w, &e->logical_type);
		firn_thrift__w_end(w);
	}
	firn_thrift__f_i64(w, 3, m->num_rows);
	firn_thrift__w_field(w, TT_LIST, 4);
	firn_thrift__w_list(w, TT_STRUCT, m->n_row_groups);
	for (int32_t g = 0; g < m->n_row_groups; g++) {
		const struct pq_row_group *rg = &m->row_groups[g];
		firn_thrift__w_begin(w);
		firn_thrift__w_field(w, TT_LIST, 1);
		firn_thrift__w_list(w, TT_STRUCT, rg->n_columns);
		for (int32_t c = 0; c < rg->n_columns; c++) {
			const struct pq_column_chunk *cc = &rg->columns[c];
			firn_thrift__w_begin(w);
			if (cc->file_path) firn_thrift__f_string(w, 1, cc->file_path);
			firn_thrift__f_i64(w, 2, cc->file_offset);
			if (cc->has_meta_data) {
				const struct pq_column_meta *cm = &cc->meta_data;
				firn_thrift__w_field(w, TT_STRUCT, 3);
				firn_thrift__w_begin(w);
				firn_thrift__f_i32(w, 1, cm->type);
				firn_thrift__w_field(w, TT_LIST, 2);
				firn_thrift__w_list(w, TT_I32, cm->n_encodings);
				for (int32_t i = 0; i < cm->n_encodings; i++)
					firn_thrift__w_i32(w, cm->encodings[i]);
				firn_thrift__w_field(w, TT_LIST, 3);
				firn_thrift__w_list(w, TT_BINARY, cm->n_path);
				for (int32_t i = 0; i < cm->n_path; i++)
					firn_thrift__w_binary(w, cm->path_in_schema[i], (int32_t)strlen(cm->path_in_schema[i]));
				firn_thrift__f_i32(w, 4, cm->codec);
				firn_thrift__f_i64(w, 5, cm->num_values);
				firn_thrift__f_i64(w, 6, cm->total_uncompressed_size);
				firn_thrift__f_i64(w, 7, cm->total_compressed_size);
				if (cm->n_key_value_metadata > 0)
					write_kv(w, 8, cm->key_value_metadata, cm->n_key_value_metadata);
				firn_thrift__f_i64(w, 9, cm->data_page_offset);
				if (cm->has_index_page_offset) firn_thrift__f_i64(w, 10, cm->index_page_offset);
				if (cm->has_dictionary_page_offset) firn_thrift__f_i64(w, 11, cm->dictionary_page_offset);
				if (cm->has_statistics) write_statistics(w, 12, &cm->statistics);
				if (cm->n_encoding_stats > 0) {
					firn_thrift__w_field(w, TT_LIST, 13);
					firn_thrift__w_list(w, TT_STRUCT, cm->n_encoding_stats);
					for (int32_t i = 0; i < cm->n_encoding_stats; i++) {
						firn_thrift__w_begin(w);
						firn_thrift__f_i32(w, 1, cm->encoding_stats[i].page_type);
						firn_thrift__f_i32(w, 2, cm->encoding_stats[i].encoding);
						firn_thrift__f_i32(w, 3, cm->encoding_stats[i].count);
						firn_thrift__w_end(w);
					}
				}
				if (cm->has_bloom_filter_offset) firn_thrift__f_i64(w, 14, cm->bloom_filter_offset);
				if (cm->has_bloom_filter_length) firn_thrift__f_i32(w, 15, cm->bloom_filter_length);
				firn_thrift__w_end(w);
			}
			if (cc->has_offset_index_offset) firn_thrift__f_i64(w, 4, cc->offset_index_offset);
			if (cc->has_offset_index_length) firn_thrift__f_i32(w, 5, cc->offset_index_length);
			if (cc->has_column_index_offset) firn_thrift__f_i64(w, 6, cc->column_index_offset);
			if (cc->has_column_index_length) firn_thrift__f_i32(w, 7, cc->column_index_length);
			firn_thrift__w_end(w);
		}
		firn_thrift__f_i64(w, 2, rg->total_byte_size);
		firn_thrift__f_i64(w, 3, rg->num_rows);
		if (rg->n_sorting_columns > 0) {
			firn_thrift__w_field(w, TT_LIST, 4);
			firn_thrift__w_list(w, TT_STRUCT, rg->n_sorting_columns);
			for (int32_t i = 0; i < rg->n_sorting_columns; i++) {
				firn_thrift__w_begin(w);
				firn_thrift__f_i32(w, 1, rg->sorting_columns[i].column_idx);
				firn_thrift__f_bool(w, 2, rg->sorting_columns[i].descending);
				firn_thrift__f_bool(w, 3, rg->sorting_columns[i].nulls_first);
				firn_thrift__w_end(w);
			}
		}
		if (rg->has_file_offset) firn_thrift__f_i64(w, 5, rg->file_offset);
		if (rg->has_total_compressed_size) firn_thrift__f_i64(w, 6, rg->total_compressed_size);
		if (rg->has_ordinal) {
			firn_thrift__w_field(w, TT_I16, 7);
			firn_thrift__w_i32(w, rg->ordinal);
		}
		firn_thrift__w_end(w);
	}
	if (m->n_key_value_metadata > 0)
		write_kv(w, 5, m->key_value_metadata, m->n_key_value_metadata);
	if (m->created_by) firn_thrift__f_string(w, 6, m->created_by);
	if (m->n_column_orders > 0) {
		firn_thrift__w_field(w, TT_LIST, 7);
		firn_thrift__w_list(w, TT_STRUCT, m->n_column_orders);
		for (int32_t i = 0; i < m->n_column_orders; i++) {
			firn_thrift__w_begin(w);
			w_empty(w, (int16_t)(m->column_orders[i] > 0 ? m->column_orders[i] : 1));
			firn_thrift__w_end(w);
		}
	}
	firn_thrift__w_byte(w, 0);
	return tw.rc;
}

int firn_pq__write_page_header(struct firn_buf *out, const struct pq_page_header *h)
{
	struct thrift_writer tw, *w = &tw;
	firn_thrift__writer_init(w, out);
	firn_thrift__f_i32(w, 1, h->type);
	firn_thrift__f_i32(w, 2, h->uncompressed_page_size);
	firn_thrift__f_i32(w, 3, h->compressed_page_size);
	if (h->has_crc) firn_thrift__f_i32(w, 4, h->crc);
	if (h->has_data_page_header) {
		const struct pq_data_page_header *d = &h->data_page_header;
		firn_thrift__w_field(w, TT_STRUCT, 5);
		firn_thrift__w_begin(w);
		firn_thrift__f_i32(w, 1, d->num_values);
		firn_thrift__f_i32(w, 2, d->encoding);
		firn_thrift__f_i32(w, 3, d->definition_level_encoding);
		firn_thrift__f_i32(w, 4, d->repetition_level_encoding);
		if (d->has_statistics) write_statistics(w, 5, &d->statistics);
		firn_thrift__w_end(w);
	}
	if (h->has_dictionary_page_header) {
		const struct pq_dictionary_page_header *d = &h->dictionary_page_header;
		firn_thrift__w_field(w, TT_STRUCT, 7);
		firn_thrift__w_begin(w);
		firn_thrift__f_i32(w, 1, d->num_values);
		firn_thrift__f_i32(w, 2, d->encoding);
		if (d->has_is_sorted) firn_thrift__f_bool(w, 3, d->is_sorted);
		firn_thrift__w_end(w);
	}
	if (h->has_data_page_header_v2) {
		const struct pq_data_page_header_v2 *d = &h->data_page_header_v2;
		firn_thrift__w_field(w, TT_STRUCT, 8);
		firn_thrift__w_begin(w);
		firn_thrift__f_i32(w, 1, d->num_values);
		firn_thrift__f_i32(w, 2, d->num_nulls);
		firn_thrift__f_i32(w, 3, d->num_rows);
		firn_thrift__f_i32(w, 4, d->encoding);
		firn_thrift__f_i32(w, 5, d->definition_levels_byte_length);
		firn_thrift__f_i32(w, 6, d->repetition_levels_byte_length);
		firn_thrift__f_bool(w, 7, d->is_compressed);
		if (d->has_statistics) write_statistics(w, 8, &d->statistics);
		firn_thrift__w_end(w);
	}
	firn_thrift__w_byte(w, 0);
	return tw.rc;
}
