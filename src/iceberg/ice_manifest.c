/* Manifests and manifest lists on firn's Avro codec. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firn/avro.h"
#include "iceberg/ice_manifest.h"
#include "io/io_local.h"
#include "util/alloc.h"

/* ---- Avro schemas -------------------------------------------------- */

static int decimal_bytes(int precision)
{
	static const int8_t req[39] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8,
					9, 9, 9, 10, 10, 11, 11, 11, 12, 12, 13, 13, 13, 14, 14,
					15, 15, 16, 16, 16 };
	return precision >= 1 && precision <= 38 ? req[precision] : 16;
}

/* An Avro-compatible name (spec §2.1 sanitizing). */
static void avro_name(struct firn_buf *b, const char *name)
{
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = isalpha(c) || c == '_' || (p != name && isdigit(c));
		if (ok)
			firn_buf_putc(b, c);
		else if (p == name && isdigit(c))
			firn_buf_printf(b, "_%c", c);
		else
			firn_buf_printf(b, "_x%X", c);
	}
}

static void avro_type(struct firn_buf *b, const struct firn_type *t)
{
	switch (t->id) {
	case FIRN_A_BOOL: firn_buf_puts(b, "\"boolean\""); break;
	case FIRN_A_INT32: firn_buf_puts(b, "\"int\""); break;
	case FIRN_A_INT64: firn_buf_puts(b, "\"long\""); break;
	case FIRN_A_FLOAT: firn_buf_puts(b, "\"float\""); break;
	case FIRN_A_DOUBLE: firn_buf_puts(b, "\"double\""); break;
	case FIRN_A_DATE32: firn_buf_puts(b, "{\"type\":\"int\",\"logicalType\":\"date\"}"); break;
	case FIRN_A_TIME64: firn_buf_puts(b, "{\"type\":\"long\",\"logicalType\":\"time-micros\"}"); break;
	case FIRN_A_TIMESTAMP:
		firn_buf_printf(b, "{\"type\":\"long\",\"logicalType\":\"%s\",\"adjust-to-utc\":%s}",
				t->unit_digits == 9 ? "timestamp-nanos" : "timestamp-micros",
				t->tz ? "true" : "false");
		break;
	case FIRN_A_STRING: firn_buf_puts(b, "\"string\""); break;
	case FIRN_A_BINARY: firn_buf_puts(b, "\"bytes\""); break;
	case FIRN_A_FIXED:
		if (t->uuid)
			firn_buf_puts(b, "{\"type\":\"fixed\",\"name\":\"uuid_fixed\",\"size\":16,\"logicalType\":\"uuid\"}");
		else
			firn_buf_printf(b, "{\"type\":\"fixed\",\"name\":\"fixed_%d\",\"size\":%d}", t->width, t->width);
		break;
	case FIRN_A_DECIMAL:
		firn_buf_printf(b, "{\"type\":\"fixed\",\"name\":\"decimal_%d_%d\",\"size\":%d,\"logicalType\":\"decimal\",\"precision\":%d,\"scale\":%d}",
				t->precision, t->scale, decimal_bytes(t->precision), t->precision, t->scale);
		break;
	default: firn_buf_puts(b, "\"int\""); break;
	}
}

static void kv_field(struct firn_buf *b, const char *name, int id, int kid, int vid,
		     const char *vtype)
{
	firn_buf_printf(b, ",{\"name\":\"%s\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"k%d_v%d\",\"fields\":[{\"name\":\"key\",\"type\":\"int\",\"field-id\":%d},{\"name\":\"value\",\"type\":\"%s\",\"field-id\":%d}]},\"logicalType\":\"map\"}],\"default\":null,\"field-id\":%d}",
			name, kid, vid, kid, vtype, vid, id);
}

static void opt_field(struct firn_buf *b, const char *name, const char *type, int id)
{
	firn_buf_printf(b, ",{\"name\":\"%s\",\"type\":[\"null\",%s],\"default\":null,\"field-id\":%d}",
			name, type, id);
}

static int entry_schema(struct firn_buf *b, int version, const struct firn_ice_spec *spec,
			const struct firn_pfield *pf)
{
	/* room for all of it first: the appends below do not check, and a
	 * growth failing midway would leave valid JSON missing a field */
	size_t room = 16384;
	for (size_t i = 0; i < spec->n_fields; i++)
		room += 4 * strlen(spec->fields[i].name) + 512;
	if (firn_buf_reserve(b, room) != 0)
		return FIRN_ENOMEM;
	firn_buf_puts(b, "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
			 "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0}");
	opt_field(b, "snapshot_id", "\"long\"", 1);
	opt_field(b, "sequence_number", "\"long\"", 3);
	opt_field(b, "file_sequence_number", "\"long\"", 4);
	firn_buf_puts(b, ",{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\",\"fields\":["
			 "{\"name\":\"content\",\"type\":\"int\",\"field-id\":134},"
			 "{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100},"
			 "{\"name\":\"file_format\",\"type\":\"string\",\"field-id\":101},"
			 "{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":\"r102\",\"fields\":[");
	for (size_t i = 0; i < spec->n_fields; i++) {
		firn_buf_puts(b, i ? ",{\"name\":\"" : "{\"name\":\"");
		avro_name(b, spec->fields[i].name);
		firn_buf_puts(b, "\",\"type\":[\"null\",");
		struct firn_type t = pf[i].result_type;
		if (t.id == FIRN_A_NULL)
			t.id = FIRN_A_INT32;
		avro_type(b, &t);
		firn_buf_printf(b, "],\"default\":null,\"field-id\":%d}", spec->fields[i].field_id);
	}
	firn_buf_puts(b, "]},\"field-id\":102},"
			 "{\"name\":\"record_count\",\"type\":\"long\",\"field-id\":103},"
			 "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"field-id\":104}");
	kv_field(b, "column_sizes", 108, 117, 118, "long");
	kv_field(b, "value_counts", 109, 119, 120, "long");
	kv_field(b, "null_value_counts", 110, 121, 122, "long");
	kv_field(b, "nan_value_counts", 137, 138, 139, "long");
	kv_field(b, "lower_bounds", 125, 126, 127, "bytes");
	kv_field(b, "upper_bounds", 128, 129, 130, "bytes");
	opt_field(b, "key_metadata", "\"bytes\"", 131);
	opt_field(b, "split_offsets", "{\"type\":\"array\",\"items\":\"long\",\"element-id\":133}", 132);
	opt_field(b, "equality_ids", "{\"type\":\"array\",\"items\":\"int\",\"element-id\":136}", 135);
	opt_field(b, "sort_order_id", "\"int\"", 140);
	if (version >= 3)
		opt_field(b, "first_row_id", "\"long\"", 142);
	opt_field(b, "referenced_data_file", "\"string\"", 143);
	if (version >= 3) {
		opt_field(b, "content_offset", "\"long\"", 144);
		opt_field(b, "content_size_in_bytes", "\"long\"", 145);
	}
	firn_buf_puts(b, "]},\"field-id\":2}]}");
	return firn_buf_cstr(b);
}

static int list_schema(struct firn_buf *b, int version)
{
	if (firn_buf_reserve(b, 8192) != 0) /* as in entry_schema */
		return FIRN_ENOMEM;
	firn_buf_puts(b, "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
			 "{\"name\":\"manifest_path\",\"type\":\"string\",\"field-id\":500},"
			 "{\"name\":\"manifest_length\",\"type\":\"long\",\"field-id\":501},"
			 "{\"name\":\"partition_spec_id\",\"type\":\"int\",\"field-id\":502},"
			 "{\"name\":\"content\",\"type\":\"int\",\"field-id\":517},"
			 "{\"name\":\"sequence_number\",\"type\":\"long\",\"field-id\":515},"
			 "{\"name\":\"min_sequence_number\",\"type\":\"long\",\"field-id\":516},"
			 "{\"name\":\"added_snapshot_id\",\"type\":\"long\",\"field-id\":503},"
			 "{\"name\":\"added_files_count\",\"type\":\"int\",\"field-id\":504},"
			 "{\"name\":\"existing_files_count\",\"type\":\"int\",\"field-id\":505},"
			 "{\"name\":\"deleted_files_count\",\"type\":\"int\",\"field-id\":506},"
			 "{\"name\":\"added_rows_count\",\"type\":\"long\",\"field-id\":512},"
			 "{\"name\":\"existing_rows_count\",\"type\":\"long\",\"field-id\":513},"
			 "{\"name\":\"deleted_rows_count\",\"type\":\"long\",\"field-id\":514}");
	opt_field(b, "partitions",
		  "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"r508\",\"fields\":["
		  "{\"name\":\"contains_null\",\"type\":\"boolean\",\"field-id\":509},"
		  "{\"name\":\"contains_nan\",\"type\":[\"null\",\"boolean\"],\"default\":null,\"field-id\":518},"
		  "{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":510},"
		  "{\"name\":\"upper_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":511}]},"
		  "\"element-id\":508}",
		  507);
	opt_field(b, "key_metadata", "\"bytes\"", 519);
	if (version >= 3)
		opt_field(b, "first_row_id", "\"long\"", 520);
	firn_buf_puts(b, "]}");
	return firn_buf_cstr(b);
}

/* ---- writing ------------------------------------------------------- */

struct wctx {
	struct firn_arena *arena;
	const struct firn_avro_schema *schema;
	struct firn_error *err;
};

static const struct firn_avro_schema *field_type(const struct firn_avro_schema *rec,
						 const char *name)
{
	int i = firn_avro_schema_field_index(rec, name);
	return i < 0 ? NULL : firn_avro_schema_nonnull(rec->fields[i].type);
}

static struct firn_avro_value kv_array(struct firn_arena *a, const struct firn_avro_schema *arr,
				       const struct firn_ice_kv *kv, size_t n)
{
	if (n == 0)
		return firn_avro_null();
	struct firn_avro_value *v = firn_avro_array_new(a, n);
	for (size_t i = 0; v && i < n; i++) {
		struct firn_avro_value *r = firn_avro_record_new(a, arr->items);
		if (!r)
			return firn_avro_null();
		firn_avro_record_set(r, arr->items, "key", firn_avro_int(kv[i].id), NULL);
		firn_avro_record_set(r, arr->items, "value", firn_avro_long(kv[i].value), NULL);
		v->array.items[i] = *r;
	}
	return v ? *v : firn_avro_null();
}

static struct firn_avro_value bound_array(struct firn_arena *a,
					  const struct firn_avro_schema *arr,
					  const struct firn_ice_bound *bd, size_t n)
{
	if (n == 0)
		return firn_avro_null();
	struct firn_avro_value *v = firn_avro_array_new(a, n);
	for (size_t i = 0; v && i < n; i++) {
		struct firn_avro_value *r = firn_avro_record_new(a, arr->items);
		if (!r)
			return firn_avro_null();
		firn_avro_record_set(r, arr->items, "key", firn_avro_int(bd[i].id), NULL);
		firn_avro_record_set(r, arr->items, "value", firn_avro_bytes(bd[i].p, bd[i].n), NULL);
		v->array.items[i] = *r;
	}
	return v ? *v : firn_avro_null();
}

/* A partition datum as the Avro value of its field type. */
static struct firn_avro_value partition_value(struct firn_arena *a, const struct firn_type *t,
					      const struct firn_datum *d)
{
	if (d->null || t->id == FIRN_A_NULL)
		return firn_avro_null();
	switch (t->id) {
	case FIRN_A_BOOL: return firn_avro_boolean(d->v.b);
	case FIRN_A_INT32:
	case FIRN_A_DATE32: return firn_avro_int(d->v.i32);
	case FIRN_A_INT64:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP: return firn_avro_long(d->v.i64);
	case FIRN_A_FLOAT: return firn_avro_float(d->v.f32);
	case FIRN_A_DOUBLE: return firn_avro_double(d->v.f64);
	case FIRN_A_STRING: return firn_avro_stringn((const char *)d->v.bin.p, d->v.bin.n);
	case FIRN_A_BINARY: return firn_avro_bytes(d->v.bin.p, d->v.bin.n);
	case FIRN_A_FIXED: return firn_avro_fixed(d->v.bin.p, d->v.bin.n);
	case FIRN_A_DECIMAL: {
		int n = decimal_bytes(t->precision);
		uint8_t *p = firn_arena_alloc(a, (size_t)n);
		if (!p)
			return firn_avro_null();
		__int128 v = d->v.dec;
		for (int i = n - 1; i >= 0; i--) {
			p[i] = (uint8_t)(v & 0xff);
			v >>= 8;
		}
		return firn_avro_fixed(p, (size_t)n);
	}
	default: return firn_avro_null();
	}
}

static int finish_file(struct firn_avro_writer *w, const char *path, struct firn_error *err,
		       int64_t *length)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = firn_avro_writer_finish(w, &data, &len, err);
	if (rc == 0)
		rc = firn_io_write_all(path, FIRN_IO_EXCL, data, len, err); /* dir synced with the metadata */
	firn_free(data);
	if (length)
		*length = (int64_t)len;
	return rc;
}

/* Partition summaries over every entry (DELETED ones too, as Java's
 * ManifestWriter), per spec field. */
static int summarize(const struct firn_ice_spec *spec, const struct firn_pfield *pf,
		     const struct firn_ice_entry *entries, size_t n, struct firn_arena *arena,
		     struct firn_ice_manifest_file *out, struct firn_error *err)
{
	out->n_partitions = spec->n_fields;
	out->partitions = firn_arena_alloc(arena, (spec->n_fields + 1) * sizeof(*out->partitions));
	if (!out->partitions)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t k = 0; k < spec->n_fields; k++) {
		struct firn_ice_field_summary *s = &out->partitions[k];
		const struct firn_type *t = &pf[k].result_type;
		const struct firn_datum *lo = NULL, *hi = NULL;
		bool floaty = t->id == FIRN_A_FLOAT || t->id == FIRN_A_DOUBLE;
		s->contains_nan = floaty ? 0 : -1;
		for (size_t i = 0; i < n; i++) {
			const struct firn_datum *d = &entries[i].file.partition[k];
			if (d->null || t->id == FIRN_A_NULL) {
				s->contains_null = true;
				continue;
			}
			if (floaty && (t->id == FIRN_A_FLOAT ? d->v.f32 != d->v.f32 : d->v.f64 != d->v.f64)) {
				s->contains_nan = 1;
				continue;
			}
			if (!lo || firn_ice__datum_compare(t, d, lo) < 0)
				lo = d;
			if (!hi || firn_ice__datum_compare(t, d, hi) > 0)
				hi = d;
		}
		struct firn_buf b = { 0 };
		if (lo) {
			if (firn_ice__datum_to_bytes(t, lo, &b) != 0)
				return firn_error_set(err, FIRN_ENOMEM, "out of memory");
			uint8_t *p = firn_arena_alloc(arena, b.len + 1);
			if (!p)
				return FIRN_ENOMEM;
			memcpy(p, b.data, b.len);
			s->has_lower = true;
			s->lower = p;
			s->lower_n = b.len;
			firn_buf_reset(&b);
			firn_ice__datum_to_bytes(t, hi, &b);
			p = firn_arena_alloc(arena, b.len + 1);
			if (!p)
				return FIRN_ENOMEM;
			memcpy(p, b.data, b.len);
			s->has_upper = true;
			s->upper = p;
			s->upper_n = b.len;
		}
		firn_buf_free(&b);
	}
	return 0;
}

static uint64_t partition_key(const struct firn_ice_spec *spec, const struct firn_pfield *pf,
			      const struct firn_ice_data_file *f, struct firn_buf *b)
{
	firn_buf_reset(b);
	firn_buf_append(b, &spec->spec_id, sizeof(spec->spec_id));
	for (size_t k = 0; k < spec->n_fields && k < f->n_partition; k++) {
		uint8_t null = f->partition[k].null;
		firn_buf_append(b, &null, 1);
		if (!null)
			firn_ice__datum_to_bytes(&pf[k].result_type, &f->partition[k], b);
		firn_buf_append(b, "", 1);
	}
	return (uint64_t)firn_murmur3_32(b->data, b->len, 0) << 32 |
	       firn_murmur3_32(b->data, b->len, 0x9747b28c);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

size_t firn_ice__unique_u64(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

/* Counts an ADDED (sign +1) or DELETED (-1) entry into d. */
static void delta_count(struct firn_ice_delta *d, const struct firn_ice_data_file *f, int sign)
{
	bool dv = f->content == 1 && f->format && strcasecmp(f->format, "puffin") == 0;
	int64_t size = dv && f->has_content_offset ? f->content_size : f->file_size;
	int64_t *files, *rows;
	switch (f->content) {
	case 0:
		files = sign > 0 ? &d->added_data : &d->removed_data;
		rows = sign > 0 ? &d->added_records : &d->removed_records;
		break;
	case 1:
		files = dv ? (sign > 0 ? &d->added_dvs : &d->removed_dvs)
			   : (sign > 0 ? &d->added_pos_files : &d->removed_pos_files);
		rows = sign > 0 ? &d->added_pos : &d->removed_pos;
		break;
	default:
		files = sign > 0 ? &d->added_eq_files : &d->removed_eq_files;
		rows = sign > 0 ? &d->added_eq : &d->removed_eq;
		break;
	}
	(*files)++;
	*rows += f->record_count;
	*(sign > 0 ? &d->added_size : &d->removed_size) += size;
}

/* out->delta from the ADDED and DELETED entries. */
static int delta_of(const struct firn_ice_spec *spec, const struct firn_pfield *pf,
		    const struct firn_ice_entry *entries, size_t n, struct firn_arena *arena,
		    struct firn_ice_delta *d, struct firn_error *err)
{
	memset(d, 0, sizeof(*d));
	d->parts = firn_arena_alloc(arena, (n + 1) * sizeof(uint64_t));
	if (!d->parts)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (entries[i].status == FIRN_ICE_EXISTING)
			continue;
		delta_count(d, &entries[i].file, entries[i].status == FIRN_ICE_ADDED ? 1 : -1);
		d->parts[d->n_parts++] = partition_key(spec, pf, &entries[i].file, &b);
	}
	firn_buf_free(&b);
	d->n_parts = firn_ice__unique_u64(d->parts, d->n_parts);
	return 0;
}

int firn_ice__manifest_write(const char *path, const struct firn_ice_meta *m,
			     const struct firn_ice_spec *spec, int32_t content,
			     const struct firn_ice_entry *entries, size_t n,
			     int64_t snapshot_id, struct firn_arena *arena,
			     struct firn_ice_manifest_file *out, struct firn_error *err)
{
	const struct firn_ice_schema *schema = firn_ice__meta_current_schema(m);
	struct firn_pfield *pf = NULL;
	struct firn_buf sj = { 0 };
	struct firn_avro_writer *w = NULL;
	struct firn_arena va = { 0 };
	char *schema_json = NULL, *spec_json = NULL;
	int rc = firn_ice__spec_resolve(spec, &schema->arrow, &pf, err);
	if (rc != 0)
		return rc;
	int version = m->format_version >= 3 ? 3 : 2;
	if ((rc = entry_schema(&sj, version, spec, pf)) != 0) {
		firn_error_set(err, rc, "out of memory");
		goto done;
	}
	schema_json = firn_json__dumps(schema->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
	spec_json = firn_json__dumps(json_object_get(spec->json, "fields"), JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (schema_json == NULL || spec_json == NULL) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto done;
	}
	char spec_id[16], fv[4];
	snprintf(spec_id, sizeof(spec_id), "%d", spec->spec_id);
	snprintf(fv, sizeof(fv), "%d", version);
	const char *keys[] = { "schema", "partition-spec", "partition-spec-id", "format-version",
			       "content" };
	const char *vals[] = { schema_json ? schema_json : "{}", spec_json ? spec_json : "[]",
			       spec_id, fv, content == 0 ? "data" : "deletes" };
	const char *codec = firn_ice__prop(m, "write.avro.compression-codec");
	if (!codec || strcmp(codec, "gzip") == 0)
		codec = "deflate";
	else if (strcmp(codec, "zstd") == 0)
		codec = "zstandard";
	else if (strcmp(codec, "uncompressed") == 0)
		codec = "null";
	if ((rc = firn_avro_writer_open(&w, (const char *)sj.data, codec, 5, keys, vals, err)) != 0)
		goto done;
	const struct firn_avro_schema *es = firn_avro_writer_schema(w);
	const struct firn_avro_schema *ds = field_type(es, "data_file");
	const struct firn_avro_schema *ps = field_type(ds, "partition");

	memset(out, 0, sizeof(*out));
	out->path = firn_arena_strdup(arena, path);
	out->spec_id = spec->spec_id;
	out->content = content == 0 ? 0 : 1;
	out->sequence_number = -1;
	out->min_sequence_number = -1;
	out->added_snapshot_id = snapshot_id;
	int64_t min_seq = INT64_MAX;
	bool all_inherit = true;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct firn_ice_entry *e = &entries[i];
		const struct firn_ice_data_file *f = &e->file;
		struct firn_avro_value *rec = firn_avro_record_new(&va, es);
		struct firn_avro_value *df = firn_avro_record_new(&va, ds);
		struct firn_avro_value *part = firn_avro_record_new(&va, ps);
		if (!rec || !df || !part) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			break;
		}
		firn_avro_record_set(rec, es, "status", firn_avro_int(e->status), NULL);
		if (e->status != FIRN_ICE_ADDED || e->explicit_sequence) {
			if (e->status != FIRN_ICE_ADDED)
				firn_avro_record_set(rec, es, "snapshot_id", firn_avro_long(e->snapshot_id), NULL);
			firn_avro_record_set(rec, es, "sequence_number", firn_avro_long(e->sequence_number), NULL);
			if (e->status != FIRN_ICE_ADDED)
				firn_avro_record_set(rec, es, "file_sequence_number",
						     firn_avro_long(e->file_sequence_number), NULL);
			if (e->status != FIRN_ICE_DELETED && e->sequence_number < min_seq)
				min_seq = e->sequence_number;
			if (e->status != FIRN_ICE_DELETED)
				all_inherit = false;
		}
		for (size_t k = 0; k < spec->n_fields; k++)
			part->record.fields[k] = partition_value(&va, &pf[k].result_type, &f->partition[k]);
		firn_avro_record_set(df, ds, "content", firn_avro_int(f->content), NULL);
		firn_avro_record_set(df, ds, "file_path", firn_avro_string(f->path), NULL);
		firn_avro_record_set(df, ds, "file_format", firn_avro_string(f->format), NULL);
		firn_avro_record_set(df, ds, "partition", *part, NULL);
		firn_avro_record_set(df, ds, "record_count", firn_avro_long(f->record_count), NULL);
		firn_avro_record_set(df, ds, "file_size_in_bytes", firn_avro_long(f->file_size), NULL);
		firn_avro_record_set(df, ds, "column_sizes",
				     kv_array(&va, field_type(ds, "column_sizes"), f->column_sizes, f->n_column_sizes), NULL);
		firn_avro_record_set(df, ds, "value_counts",
				     kv_array(&va, field_type(ds, "value_counts"), f->value_counts, f->n_value_counts), NULL);
		firn_avro_record_set(df, ds, "null_value_counts",
				     kv_array(&va, field_type(ds, "null_value_counts"), f->null_counts, f->n_null_counts), NULL);
		firn_avro_record_set(df, ds, "nan_value_counts",
				     kv_array(&va, field_type(ds, "nan_value_counts"), f->nan_counts, f->n_nan_counts), NULL);
		firn_avro_record_set(df, ds, "lower_bounds",
				     bound_array(&va, field_type(ds, "lower_bounds"), f->lower, f->n_lower), NULL);
		firn_avro_record_set(df, ds, "upper_bounds",
				     bound_array(&va, field_type(ds, "upper_bounds"), f->upper, f->n_upper), NULL);
		if (f->n_split_offsets > 0) {
			struct firn_avro_value *arr = firn_avro_array_new(&va, f->n_split_offsets);
			for (size_t k = 0; arr && k < f->n_split_offsets; k++)
				arr->array.items[k] = firn_avro_long(f->split_offsets[k]);
			if (arr)
				firn_avro_record_set(df, ds, "split_offsets", *arr, NULL);
		}
		if (f->n_equality_ids > 0) {
			struct firn_avro_value *arr = firn_avro_array_new(&va, f->n_equality_ids);
			for (size_t k = 0; arr && k < f->n_equality_ids; k++)
				arr->array.items[k] = firn_avro_int(f->equality_ids[k]);
			if (arr)
				firn_avro_record_set(df, ds, "equality_ids", *arr, NULL);
		}
		if (f->has_sort_order_id)
			firn_avro_record_set(df, ds, "sort_order_id", firn_avro_int(f->sort_order_id), NULL);
		if (version >= 3 && f->has_first_row_id && e->status != FIRN_ICE_ADDED)
			firn_avro_record_set(df, ds, "first_row_id", firn_avro_long(f->first_row_id), NULL);
		if (f->referenced_data_file)
			firn_avro_record_set(df, ds, "referenced_data_file",
					     firn_avro_string(f->referenced_data_file), NULL);
		if (version >= 3 && f->has_content_offset) {
			firn_avro_record_set(df, ds, "content_offset", firn_avro_long(f->content_offset), NULL);
			firn_avro_record_set(df, ds, "content_size_in_bytes",
					     firn_avro_long(f->content_size), NULL);
		}
		firn_avro_record_set(rec, es, "data_file", *df, NULL);
		rc = firn_avro_writer_append(w, rec, err);
		switch (e->status) {
		case FIRN_ICE_ADDED:
			out->added_files++;
			out->added_rows += f->record_count;
			break;
		case FIRN_ICE_EXISTING:
			out->existing_files++;
			out->existing_rows += f->record_count;
			break;
		default:
			out->deleted_files++;
			out->deleted_rows += f->record_count;
			break;
		}
		firn_arena_free(&va);
	}
	if (rc == 0 && !all_inherit)
		out->min_sequence_number = min_seq;
	if (rc == 0)
		rc = summarize(spec, pf, entries, n, arena, out, err);
	if (rc == 0)
		rc = delta_of(spec, pf, entries, n, arena, &out->delta, err);
	if (rc == 0)
		rc = finish_file(w, path, err, &out->length);
done:
	firn_avro_writer_free(w);
	firn_arena_free(&va);
	firn_buf_free(&sj);
	firn_free(pf);
	firn_free(schema_json);
	firn_free(spec_json);
	return rc;
}

int firn_ice__manifest_list_write(const char *path, const struct firn_ice_meta *m,
				  int64_t snap_id, bool has_parent, int64_t parent_id, int64_t seq,
				  struct firn_ice_manifest_file *files, size_t n,
				  int64_t *next_row_id, struct firn_error *err)
{
	struct firn_buf sj = { 0 };
	struct firn_avro_writer *w = NULL;
	struct firn_arena va = { 0 };
	int version = m->format_version >= 3 ? 3 : 2;
	int rc = list_schema(&sj, version);
	if (rc != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	char sid[24], pid[24], sq[24], fv[4], frid[24];
	snprintf(sid, sizeof(sid), "%lld", (long long)snap_id);
	if (has_parent)
		snprintf(pid, sizeof(pid), "%lld", (long long)parent_id);
	else
		snprintf(pid, sizeof(pid), "null");
	snprintf(sq, sizeof(sq), "%lld", (long long)seq);
	snprintf(fv, sizeof(fv), "%d", version);
	snprintf(frid, sizeof(frid), "%lld", (long long)(next_row_id ? *next_row_id : 0));
	const char *keys[] = { "snapshot-id", "parent-snapshot-id", "sequence-number",
			       "format-version", "first-row-id" };
	const char *vals[] = { sid, pid, sq, fv, frid };
	rc = firn_avro_writer_open(&w, (const char *)sj.data, "deflate", version >= 3 ? 5 : 4, keys,
				   vals, err);
	const struct firn_avro_schema *ls = rc == 0 ? firn_avro_writer_schema(w) : NULL;
	const struct firn_avro_schema *arr = ls ? field_type(ls, "partitions") : NULL;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct firn_ice_manifest_file *f = &files[i];
		if (f->sequence_number < 0) {
			f->sequence_number = seq;
			if (f->min_sequence_number < 0)
				f->min_sequence_number = seq;
		}
		if (version >= 3 && f->content == 0 && !f->has_first_row_id && next_row_id) {
			f->has_first_row_id = true;
			f->first_row_id = *next_row_id;
			*next_row_id += f->added_rows + f->existing_rows;
		}
		struct firn_avro_value *rec = firn_avro_record_new(&va, ls);
		if (!rec) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			break;
		}
		firn_avro_record_set(rec, ls, "manifest_path", firn_avro_string(f->path), NULL);
		firn_avro_record_set(rec, ls, "manifest_length", firn_avro_long(f->length), NULL);
		firn_avro_record_set(rec, ls, "partition_spec_id", firn_avro_int(f->spec_id), NULL);
		firn_avro_record_set(rec, ls, "content", firn_avro_int(f->content), NULL);
		firn_avro_record_set(rec, ls, "sequence_number", firn_avro_long(f->sequence_number), NULL);
		firn_avro_record_set(rec, ls, "min_sequence_number",
				     firn_avro_long(f->min_sequence_number), NULL);
		firn_avro_record_set(rec, ls, "added_snapshot_id", firn_avro_long(f->added_snapshot_id), NULL);
		firn_avro_record_set(rec, ls, "added_files_count", firn_avro_int(f->added_files < 0 ? 0 : f->added_files), NULL);
		firn_avro_record_set(rec, ls, "existing_files_count", firn_avro_int(f->existing_files < 0 ? 0 : f->existing_files), NULL);
		firn_avro_record_set(rec, ls, "deleted_files_count", firn_avro_int(f->deleted_files < 0 ? 0 : f->deleted_files), NULL);
		firn_avro_record_set(rec, ls, "added_rows_count", firn_avro_long(f->added_rows), NULL);
		firn_avro_record_set(rec, ls, "existing_rows_count", firn_avro_long(f->existing_rows), NULL);
		firn_avro_record_set(rec, ls, "deleted_rows_count", firn_avro_long(f->deleted_rows), NULL);
		if (f->partitions) {
			struct firn_avro_value *pa = firn_avro_array_new(&va, f->n_partitions);
			for (size_t k = 0; pa && k < f->n_partitions; k++) {
				const struct firn_ice_field_summary *s = &f->partitions[k];
				struct firn_avro_value *r = firn_avro_record_new(&va, arr->items);
				if (!r)
					break;
				firn_avro_record_set(r, arr->items, "contains_null", firn_avro_boolean(s->contains_null), NULL);
				if (s->contains_nan >= 0)
					firn_avro_record_set(r, arr->items, "contains_nan",
							     firn_avro_boolean(s->contains_nan == 1), NULL);
				if (s->has_lower)
					firn_avro_record_set(r, arr->items, "lower_bound",
							     firn_avro_bytes(s->lower, s->lower_n), NULL);
				if (s->has_upper)
					firn_avro_record_set(r, arr->items, "upper_bound",
							     firn_avro_bytes(s->upper, s->upper_n), NULL);
				pa->array.items[k] = *r;
			}
			if (pa)
				firn_avro_record_set(rec, ls, "partitions", *pa, NULL);
		}
		if (version >= 3 && f->has_first_row_id)
			firn_avro_record_set(rec, ls, "first_row_id", firn_avro_long(f->first_row_id), NULL);
		rc = firn_avro_writer_append(w, rec, err);
		firn_arena_free(&va);
	}
	if (rc == 0)
		rc = finish_file(w, path, err, NULL);
	firn_avro_writer_free(w);
	firn_arena_free(&va);
	firn_buf_free(&sj);
	return rc;
}

/* ---- reading ------------------------------------------------------- */

static const struct firn_avro_value *by_id(const struct firn_avro_value *rec,
					   const struct firn_avro_schema *s, int32_t id,
					   const struct firn_avro_schema **t)
{
	const struct firn_avro_value *v = firn_avro_record_field_by_id(rec, s, id, t);
	if (v && v->type == FIRN_AVRO_NULL)
		return NULL;
	return v;
}

static bool get_long(const struct firn_avro_value *rec, const struct firn_avro_schema *s,
		     int32_t id, int64_t *out)
{
	const struct firn_avro_value *v = by_id(rec, s, id, NULL);
	if (!v || (v->type != FIRN_AVRO_LONG && v->type != FIRN_AVRO_INT))
		return false;
	*out = v->i64;
	return true;
}

static const char *get_str(const struct firn_avro_value *rec, const struct firn_avro_schema *s,
			   int32_t id)
{
	const struct firn_avro_value *v = by_id(rec, s, id, NULL);
	if (!v || (v->type != FIRN_AVRO_STRING && v->type != FIRN_AVRO_BYTES))
		return NULL;
	return (const char *)v->bytes.data; /* NUL-terminated when decoded */
}

static int read_kv(const struct firn_avro_value *rec, const struct firn_avro_schema *s,
		   int32_t id, struct firn_arena *a, struct firn_ice_kv **out, size_t *n)
{
	const struct firn_avro_schema *t;
	const struct firn_avro_value *v = by_id(rec, s, id, &t);
	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (v->type == FIRN_AVRO_ARRAY) {
		*out = firn_arena_alloc(a, (v->array.n + 1) * sizeof(**out));
		if (!*out)
			return FIRN_ENOMEM;
		for (size_t i = 0; i < v->array.n; i++) {
			const struct firn_avro_value *r = &v->array.items[i];
			int64_t k, val;
			const struct firn_avro_value *kv_ = r->type == FIRN_AVRO_RECORD && r->record.n == 2 ? r->record.fields : NULL;
			if (!kv_)
				continue;
			const struct firn_avro_value *kk = firn_avro_value_unwrap(&kv_[0], t->items->fields[0].type, NULL);
			const struct firn_avro_value *vv = firn_avro_value_unwrap(&kv_[1], t->items->fields[1].type, NULL);
			if (kk->type != FIRN_AVRO_INT && kk->type != FIRN_AVRO_LONG)
				continue;
			if (vv->type != FIRN_AVRO_INT && vv->type != FIRN_AVRO_LONG)
				continue;
			k = kk->i64;
			val = vv->i64;
			(*out)[*n].id = (int32_t)k;
			(*out)[*n].value = val;
			(*n)++;
		}
	}
	return 0;
}

static int read_bounds(const struct firn_avro_value *rec, const struct firn_avro_schema *s,
		       int32_t id, struct firn_arena *a, struct firn_ice_bound **out, size_t *n)
{
	const struct firn_avro_schema *t;
	const struct firn_avro_value *v = by_id(rec, s, id, &t);
	*out = NULL;
	*n = 0;
	if (!v || v->type != FIRN_AVRO_ARRAY)
		return 0;
	*out = firn_arena_alloc(a, (v->array.n + 1) * sizeof(**out));
	if (!*out)
		return FIRN_ENOMEM;
	for (size_t i = 0; i < v->array.n; i++) {
		const struct firn_avro_value *r = &v->array.items[i];
		if (r->type != FIRN_AVRO_RECORD || r->record.n != 2)
			continue;
		const struct firn_avro_value *kk = firn_avro_value_unwrap(&r->record.fields[0], t->items->fields[0].type, NULL);
		const struct firn_avro_value *vv = firn_avro_value_unwrap(&r->record.fields[1], t->items->fields[1].type, NULL);
		if ((kk->type != FIRN_AVRO_INT && kk->type != FIRN_AVRO_LONG) ||
		    (vv->type != FIRN_AVRO_BYTES && vv->type != FIRN_AVRO_FIXED))
			continue;
		(*out)[*n].id = (int32_t)kk->i64;
		(*out)[*n].p = vv->bytes.data;
		(*out)[*n].n = vv->bytes.len;
		(*n)++;
	}
	return 0;
}

static void datum_from_avro(const struct firn_type *t, const struct firn_avro_value *v,
			    struct firn_datum *d)
{
	memset(d, 0, sizeof(*d));
	d->null = true;
	if (!v || v->type == FIRN_AVRO_NULL)
		return;
	d->null = false;
	switch (v->type) {
	case FIRN_AVRO_BOOLEAN: d->v.b = v->boolean; break;
	case FIRN_AVRO_INT:
	case FIRN_AVRO_LONG:
		if (t->id == FIRN_A_INT32 || t->id == FIRN_A_DATE32)
			d->v.i32 = (int32_t)v->i64;
		else if (t->id == FIRN_A_DECIMAL)
			d->v.dec = v->i64;
		else
			d->v.i64 = v->i64;
		break;
	case FIRN_AVRO_FLOAT:
		if (t->id == FIRN_A_DOUBLE)
			d->v.f64 = v->f32;
		else
			d->v.f32 = v->f32;
		break;
	case FIRN_AVRO_DOUBLE: d->v.f64 = v->f64; break;
	case FIRN_AVRO_STRING:
	case FIRN_AVRO_BYTES:
	case FIRN_AVRO_FIXED:
		if (t->id == FIRN_A_DECIMAL) {
			__int128 x = v->bytes.len > 0 && (v->bytes.data[0] & 0x80) ? -1 : 0;
			for (size_t i = 0; i < v->bytes.len; i++)
				x = (__int128)((unsigned __int128)x << 8) | v->bytes.data[i];
			d->v.dec = x;
		} else {
			d->v.bin.p = v->bytes.data;
			d->v.bin.n = v->bytes.len;
		}
		break;
	default: d->null = true; break;
	}
}

/* An Avro reader over a manifest list or manifest. */
static int open_immutable(struct firn_avro_reader **r, const char *path, struct firn_error *err)
{
	uint8_t *data;
	size_t n;
	FIRN_TRY(firn_ice__read_immutable(path, &data, &n, err));
	return firn_avro_reader_open_buffer(r, data, n, path, err);
}

int firn_ice__manifest_list_read(const char *path, struct firn_arena *arena,
				 struct firn_ice_manifest_file **out, size_t *n,
				 struct firn_error *err)
{
	struct firn_avro_reader *r = NULL;
	*out = NULL;
	*n = 0;
	int rc = open_immutable(&r, path, err);
	if (rc != 0) {
		if (rc == FIRN_ENOTFOUND)
			firn_error_set(err, FIRN_ECORRUPT, "%s: manifest list is missing", path);
		return rc == FIRN_ENOTFOUND ? FIRN_ECORRUPT : rc;
	}
	const struct firn_avro_schema *s = firn_avro_reader_schema(r);
	size_t cap = 16;
	struct firn_ice_manifest_file *v = firn_arena_alloc(arena, cap * sizeof(*v));
	if (!v)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	while (rc == 0) {
		const struct firn_avro_value *rec;
		if ((rc = firn_avro_reader_next(r, arena, &rec, err)) != 0 || !rec)
			break;
		if (*n == cap) {
			struct firn_ice_manifest_file *nv = firn_arena_alloc(arena, 2 * cap * sizeof(*v));
			if (!nv) {
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			memcpy(nv, v, cap * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		struct firn_ice_manifest_file *f = &v[*n];
		memset(f, 0, sizeof(*f));
		int64_t x;
		f->path = get_str(rec, s, 500);
		if (!f->path || !get_long(rec, s, 501, &f->length)) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: manifest entry without path or length", path);
			break;
		}
		f->spec_id = get_long(rec, s, 502, &x) ? (int32_t)x : 0;
		f->content = get_long(rec, s, 517, &x) ? (int32_t)x : 0;
		if (!get_long(rec, s, 515, &f->sequence_number))
			f->sequence_number = 0;
		if (!get_long(rec, s, 516, &f->min_sequence_number))
			f->min_sequence_number = 0;
		if (!get_long(rec, s, 503, &f->added_snapshot_id))
			f->added_snapshot_id = 0;
		f->added_files = get_long(rec, s, 504, &x) ? (int32_t)x : -1;
		f->existing_files = get_long(rec, s, 505, &x) ? (int32_t)x : -1;
		f->deleted_files = get_long(rec, s, 506, &x) ? (int32_t)x : -1;
		if (!get_long(rec, s, 512, &f->added_rows))
			f->added_rows = -1;
		if (!get_long(rec, s, 513, &f->existing_rows))
			f->existing_rows = -1;
		if (!get_long(rec, s, 514, &f->deleted_rows))
			f->deleted_rows = -1;
		f->has_first_row_id = get_long(rec, s, 520, &f->first_row_id);
		const struct firn_avro_schema *pt;
		const struct firn_avro_value *parts = by_id(rec, s, 507, &pt);
		if (parts && parts->type == FIRN_AVRO_ARRAY) {
			f->n_partitions = parts->array.n;
			f->partitions = firn_arena_alloc(arena, (parts->array.n + 1) * sizeof(*f->partitions));
			if (!f->partitions) {
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			for (size_t k = 0; k < parts->array.n; k++) {
				const struct firn_avro_value *ps = &parts->array.items[k];
				const struct firn_avro_schema *rs = pt->items;
				struct firn_ice_field_summary *su = &f->partitions[k];
				const struct firn_avro_value *cv = by_id(ps, rs, 509, NULL);
				su->contains_null = !cv || cv->type != FIRN_AVRO_BOOLEAN || cv->boolean;
				cv = by_id(ps, rs, 518, NULL);
				su->contains_nan = cv && cv->type == FIRN_AVRO_BOOLEAN ? cv->boolean : -1;
				cv = by_id(ps, rs, 510, NULL);
				if (cv && cv->type == FIRN_AVRO_BYTES) {
					su->has_lower = true;
					su->lower = cv->bytes.data;
					su->lower_n = cv->bytes.len;
				}
				cv = by_id(ps, rs, 511, NULL);
				if (cv && cv->type == FIRN_AVRO_BYTES) {
					su->has_upper = true;
					su->upper = cv->bytes.data;
					su->upper_n = cv->bytes.len;
				}
			}
		}
		(*n)++;
	}
	/* strings point into the arena the reader decoded into: keep them */
	firn_avro_reader_free(r);
	if (rc != 0)
		return rc;
	*out = v;
	return 0;
}

int firn_ice__manifest_read(const struct firn_ice_manifest_file *mf,
			    const struct firn_ice_meta *m, struct firn_arena *arena,
			    struct firn_ice_entry **out, size_t *n, struct firn_error *err)
{
	struct firn_avro_reader *r = NULL;
	*out = NULL;
	*n = 0;
	const struct firn_ice_spec *spec = firn_ice__meta_spec(m, mf->spec_id);
	if (!spec)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: partition spec %d is not in the table",
				      mf->path, mf->spec_id);
	struct firn_pfield *pf = NULL;
	FIRN_TRY(firn_ice__spec_resolve(spec, &firn_ice__meta_current_schema(m)->arrow, &pf, err));
	/* partition fields whose source column is gone: type from any schema */
	for (size_t k = 0; k < spec->n_fields; k++)
		for (size_t s = 0; pf[k].result_type.id == FIRN_A_NULL && s < m->n_schemas; s++) {
			struct firn_pfield *alt = NULL;
			if (firn_ice__spec_resolve(spec, &m->schemas[s].arrow, &alt, NULL) == 0)
				pf[k] = alt[k];
			firn_free(alt);
		}
	int rc = open_immutable(&r, mf->path, err);
	if (rc != 0) {
		firn_free(pf);
		if (rc == FIRN_ENOTFOUND)
			return firn_error_set(err, FIRN_ECORRUPT, "%s: manifest is missing", mf->path);
		return rc;
	}
	const struct firn_avro_schema *es = firn_avro_reader_schema(r);
	int di = firn_avro_schema_field_index_by_id(es, 2);
	const struct firn_avro_schema *ds = di >= 0 ? firn_avro_schema_nonnull(es->fields[di].type) : NULL;
	if (!ds || ds->type != FIRN_AVRO_RECORD) {
		firn_avro_reader_free(r);
		firn_free(pf);
		return firn_error_set(err, FIRN_ECORRUPT, "%s: not a manifest (no data_file)", mf->path);
	}
	size_t cap = 64;
	struct firn_ice_entry *v = firn_arena_alloc(arena, cap * sizeof(*v));
	if (!v)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	while (rc == 0) {
		const struct firn_avro_value *rec;
		if ((rc = firn_avro_reader_next(r, arena, &rec, err)) != 0 || !rec)
			break;
		if (*n == cap) {
			struct firn_ice_entry *nv = firn_arena_alloc(arena, 2 * cap * sizeof(*v));
			if (!nv) {
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			memcpy(nv, v, cap * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		struct firn_ice_entry *e = &v[*n];
		memset(e, 0, sizeof(*e));
		int64_t x;
		e->status = get_long(rec, es, 0, &x) ? (int32_t)x : FIRN_ICE_ADDED;
		if (!get_long(rec, es, 1, &e->snapshot_id))
			e->snapshot_id = mf->added_snapshot_id;
		e->explicit_sequence = get_long(rec, es, 3, &e->sequence_number);
		if (!e->explicit_sequence)
			e->sequence_number = e->status == FIRN_ICE_ADDED ? mf->sequence_number : 0;
		if (!get_long(rec, es, 4, &e->file_sequence_number))
			e->file_sequence_number = e->status == FIRN_ICE_ADDED ? mf->sequence_number : 0;
		const struct firn_avro_value *df = by_id(rec, es, 2, NULL);
		struct firn_ice_data_file *f = &e->file;
		f->spec_id = mf->spec_id;
		f->content = get_long(df, ds, 134, &x) ? (int32_t)x : 0;
		f->path = get_str(df, ds, 100);
		f->format = get_str(df, ds, 101);
		if (!f->path || !get_long(df, ds, 103, &f->record_count) ||
		    !get_long(df, ds, 104, &f->file_size)) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: entry without path or counts", mf->path);
			break;
		}
		if (!f->format)
			f->format = "PARQUET";
		const struct firn_avro_schema *pt;
		const struct firn_avro_value *part = by_id(df, ds, 102, &pt);
		f->n_partition = spec->n_fields;
		f->partition = firn_arena_alloc(arena, (spec->n_fields + 1) * sizeof(*f->partition));
		if (!f->partition) {
			rc = FIRN_ENOMEM;
			break;
		}
		for (size_t k = 0; k < spec->n_fields; k++) {
			const struct firn_avro_value *pv = NULL;
			if (part && part->type == FIRN_AVRO_RECORD) {
				pv = by_id(part, pt, spec->fields[k].field_id, NULL);
				if (!pv && m->format_version == 1 && (int)k < part->record.n)
					pv = firn_avro_value_unwrap(&part->record.fields[k], pt->fields[k].type, NULL);
			}
			datum_from_avro(&pf[k].result_type, pv, &f->partition[k]);
		}
		if ((rc = read_kv(df, ds, 108, arena, &f->column_sizes, &f->n_column_sizes)) != 0 ||
		    (rc = read_kv(df, ds, 109, arena, &f->value_counts, &f->n_value_counts)) != 0 ||
		    (rc = read_kv(df, ds, 110, arena, &f->null_counts, &f->n_null_counts)) != 0 ||
		    (rc = read_kv(df, ds, 137, arena, &f->nan_counts, &f->n_nan_counts)) != 0 ||
		    (rc = read_bounds(df, ds, 125, arena, &f->lower, &f->n_lower)) != 0 ||
		    (rc = read_bounds(df, ds, 128, arena, &f->upper, &f->n_upper)) != 0)
			break;
		const struct firn_avro_value *arr = by_id(df, ds, 132, NULL);
		if (arr && arr->type == FIRN_AVRO_ARRAY) {
			f->split_offsets = firn_arena_alloc(arena, (arr->array.n + 1) * sizeof(int64_t));
			for (size_t k = 0; f->split_offsets && k < arr->array.n; k++)
				f->split_offsets[f->n_split_offsets++] = arr->array.items[k].i64;
		}
		arr = by_id(df, ds, 135, NULL);
		if (arr && arr->type == FIRN_AVRO_ARRAY) {
			f->equality_ids = firn_arena_alloc(arena, (arr->array.n + 1) * sizeof(int32_t));
			for (size_t k = 0; f->equality_ids && k < arr->array.n; k++)
				f->equality_ids[f->n_equality_ids++] = (int32_t)arr->array.items[k].i64;
		}
		f->has_sort_order_id = get_long(df, ds, 140, &x);
		f->sort_order_id = f->has_sort_order_id ? (int32_t)x : 0;
		f->has_first_row_id = get_long(df, ds, 142, &f->first_row_id);
		f->referenced_data_file = get_str(df, ds, 143);
		f->has_content_offset = get_long(df, ds, 144, &f->content_offset);
		if (!get_long(df, ds, 145, &f->content_size))
			f->content_size = 0;
		(*n)++;
	}
	firn_avro_reader_free(r);
	firn_free(pf);
	if (rc != 0) {
		if (err && rc != FIRN_ENOMEM && strstr(err->message, mf->path) == NULL)
			firn_error_prefix(err, "%s", mf->path);
		return rc;
	}
	/* v3 row lineage: inherit first_row_id for ADDED/EXISTING data files */
	if (mf->has_first_row_id && mf->content == 0) {
		int64_t next = mf->first_row_id;
		for (size_t i = 0; i < *n; i++) {
			struct firn_ice_data_file *f = &v[i].file;
			if (v[i].status == FIRN_ICE_DELETED || f->has_first_row_id)
				continue;
			f->has_first_row_id = true;
			f->first_row_id = next;
			next += f->record_count;
		}
	}
	*out = v;
	return 0;
}

int firn_ice__snapshot_manifests(const struct firn_ice_meta *m,
				 const struct firn_ice_snapshot *s, struct firn_arena *arena,
				 struct firn_ice_manifest_file **out, size_t *n,
				 struct firn_error *err)
{
	if (s->manifest_list)
		return firn_ice__manifest_list_read(s->manifest_list, arena, out, n, err);
	json_t *list = json_object_get(firn_ice__snapshot_json(s), "manifests");
	*n = json_array_size(list);
	*out = firn_arena_alloc(arena, (*n + 1) * sizeof(**out));
	if (!*out)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < *n; i++) {
		struct firn_ice_manifest_file *f = &(*out)[i];
		f->path = json_string_value(json_array_get(list, i));
		f->spec_id = m->default_spec_id;
		f->added_snapshot_id = s->snapshot_id;
		f->added_files = f->existing_files = f->deleted_files = -1;
		f->added_rows = f->existing_rows = f->deleted_rows = -1;
		if (!f->path)
			return firn_error_set(err, FIRN_ECORRUPT, "snapshot %lld: bad manifests list",
					      (long long)s->snapshot_id);
	}
	return 0;
}
