/* Avro codec: schema JSON round trips, value round trips through every
 * codec, varint extremes, hand-made containers (negative block counts,
 * zstd frames without a content size), and hostile input (truncations,
 * byte flips, huge counts) that must fail cleanly. Whether the files are
 * right is judged by fastavro in tests/interop/test_avro.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "firn/avro.h"
#include "avro/avro_private.h"
#include "t.h"

static const char *codecs[] = { "null", "deflate", "snappy", "zstandard" };

/* ---- helpers ---- */

static char *schema_json(const struct firn_avro_schema *s)
{
	struct firn_buf b = FIRN_BUF_INIT;
	CHECK_OK(firn_avro_schema_to_json(s, &b, &t_err));
	firn_buf_cstr(&b);
	return (char *)firn_buf_detach(&b, NULL);
}

static bool value_eq(const struct firn_avro_schema *s, const struct firn_avro_value *a,
		     const struct firn_avro_value *b)
{
	const struct firn_avro_schema *sa, *sb;
	a = firn_avro_value_unwrap(a, s, &sa);
	b = firn_avro_value_unwrap(b, s, &sb);
	if (a == NULL || b == NULL || sa != sb || a->type != b->type)
		return false;
	s = sa;
	switch (s->type) {
	case FIRN_AVRO_NULL:
		return true;
	case FIRN_AVRO_BOOLEAN:
		return a->boolean == b->boolean;
	case FIRN_AVRO_INT:
	case FIRN_AVRO_LONG:
		return a->i64 == b->i64;
	case FIRN_AVRO_FLOAT:
		return memcmp(&a->f32, &b->f32, 4) == 0;
	case FIRN_AVRO_DOUBLE:
		return memcmp(&a->f64, &b->f64, 8) == 0;
	case FIRN_AVRO_BYTES:
	case FIRN_AVRO_STRING:
	case FIRN_AVRO_FIXED:
		return a->bytes.len == b->bytes.len &&
		       (a->bytes.len == 0 || memcmp(a->bytes.data, b->bytes.data, a->bytes.len) == 0);
	case FIRN_AVRO_ENUM:
		return a->symbol == b->symbol;
	case FIRN_AVRO_ARRAY:
		if (a->array.n != b->array.n)
			return false;
		for (size_t i = 0; i < a->array.n; i++)
			if (!value_eq(s->items, &a->array.items[i], &b->array.items[i]))
				return false;
		return true;
	case FIRN_AVRO_MAP:
		if (a->map.n != b->map.n)
			return false;
		for (size_t i = 0; i < a->map.n; i++) {
			const struct firn_avro_map_entry *x = &a->map.entries[i], *y = &b->map.entries[i];
			if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
			    !value_eq(s->values, &x->value, &y->value))
				return false;
		}
		return true;
	case FIRN_AVRO_RECORD:
		if (a->record.n != s->n_fields || b->record.n != s->n_fields)
			return false;
		for (int i = 0; i < s->n_fields; i++)
			if (!value_eq(s->fields[i].type, &a->record.fields[i], &b->record.fields[i]))
				return false;
		return true;
	default:
		return false;
	}
}

/* Reads every record of data; returns the count, or -1 on error (t_err). */
static long read_all(const uint8_t *data, size_t len)
{
	struct firn_avro_reader *r;
	if (firn_avro_reader_open_memory(&r, data, len, &t_err) != 0)
		return -1;
	struct firn_arena a = FIRN_ARENA_INIT;
	long n = 0;
	for (;;) {
		const struct firn_avro_value *v;
		if (firn_avro_reader_next(r, &a, &v, &t_err) != 0) {
			n = -1;
			break;
		}
		if (v == NULL)
			break;
		n++;
	}
	firn_arena_free(&a);
	firn_avro_reader_free(r);
	return n;
}

static void put_long(struct firn_buf *b, int64_t v)
{
	uint8_t tmp[10];
	firn_buf_append(b, tmp, firn_avro__put_long(tmp, v));
}

static void put_str(struct firn_buf *b, const char *s)
{
	put_long(b, (int64_t)strlen(s));
	firn_buf_append(b, s, strlen(s));
}

static const uint8_t test_sync[16] = "0123456789abcdef";

/* A container header by hand (sync = test_sync). */
static void hand_header(struct firn_buf *b, const char *schema, const char *codec)
{
	firn_buf_append(b, "Obj\x01", 4);
	put_long(b, 2);
	put_str(b, "avro.schema");
	put_str(b, schema);
	put_str(b, "avro.codec");
	put_str(b, codec);
	put_long(b, 0);
	firn_buf_append(b, test_sync, 16);
}

static void hand_block(struct firn_buf *b, int64_t count, const void *data, size_t len)
{
	put_long(b, count);
	put_long(b, (int64_t)len);
	firn_buf_append(b, data, len);
	firn_buf_append(b, test_sync, 16);
}

/* ---- schemas ---- */

/* Shaped like Iceberg's v2 manifest_entry (abridged), in the compact form
 * firn writes, so the round trip must give the same text back. */
static const char manifest_schema[] =
	"{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
	"{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"
	"{\"name\":\"snapshot_id\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":1},"
	"{\"name\":\"sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":3},"
	"{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\",\"fields\":["
	"{\"name\":\"content\",\"type\":\"int\",\"doc\":\"Contents of the file\",\"field-id\":134},"
	"{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100},"
	"{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":\"r102\",\"fields\":["
	"{\"name\":\"day\",\"type\":[\"null\",{\"type\":\"int\",\"logicalType\":\"date\"}],\"default\":null,\"field-id\":1000},"
	"{\"name\":\"id_x2Dbucket\",\"type\":[\"null\",\"int\"],\"default\":null,\"iceberg-field-name\":\"id-bucket\",\"field-id\":1001}"
	"]},\"field-id\":102},"
	"{\"name\":\"record_count\",\"type\":\"long\",\"field-id\":103},"
	"{\"name\":\"column_sizes\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"k117_v118\",\"fields\":["
	"{\"name\":\"key\",\"type\":\"int\",\"field-id\":117},{\"name\":\"value\",\"type\":\"long\",\"field-id\":118}]},"
	"\"logicalType\":\"map\"}],\"default\":null,\"field-id\":108},"
	"{\"name\":\"lower_bounds\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"k126_v127\",\"fields\":["
	"{\"name\":\"key\",\"type\":\"int\",\"field-id\":126},{\"name\":\"value\",\"type\":\"bytes\",\"field-id\":127}]},"
	"\"logicalType\":\"map\"}],\"default\":null,\"field-id\":125},"
	"{\"name\":\"props\",\"type\":[\"null\",{\"type\":\"map\",\"values\":\"string\",\"key-id\":200,\"value-id\":201}],\"default\":null,\"field-id\":199},"
	"{\"name\":\"split_offsets\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"long\",\"element-id\":133}],\"default\":null,\"field-id\":132},"
	"{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"fixed\",\"name\":\"decimal_9_2\",\"size\":4,\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}],\"default\":null,\"field-id\":150},"
	"{\"name\":\"uid\",\"type\":[\"null\",{\"type\":\"fixed\",\"name\":\"uuid_fixed\",\"size\":16,\"logicalType\":\"uuid\"}],\"default\":null,\"field-id\":151},"
	"{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":true},\"field-id\":152},"
	"{\"name\":\"ratio\",\"type\":\"double\",\"default\":0.1,\"field-id\":153}"
	"]},\"field-id\":2}"
	"]}";

TEST(schema_json_round_trip_keeps_attributes)
{
	struct firn_arena a = FIRN_ARENA_INIT;
	const struct firn_avro_schema *s;
	CHECK_OK(firn_avro_schema_parse(&s, &a, manifest_schema, strlen(manifest_schema), &t_err));
	char *j = schema_json(s);
	CHECK_EQ_STR(j, manifest_schema);
	/* and again from our own output */
	const struct firn_avro_schema *s2;
	CHECK_OK(firn_avro_schema_parse(&s2, &a, j, strlen(j), &t_err));
	char *j2 = schema_json(s2);
	CHECK_EQ_STR(j2, manifest_schema);
	firn_free(j);
	firn_free(j2);

	CHECK_EQ_INT(s->type, FIRN_AVRO_RECORD);
	CHECK_EQ_STR(s->fullname, "manifest_entry");
	int i = firn_avro_schema_field_index_by_id(s, 2);
	CHECK_EQ_INT(i, 3);
	const struct firn_avro_schema *df = s->fields[i].type;
	CHECK_EQ_STR(df->name, "r2");
	CHECK(s->fields[1].has_default);
	CHECK_EQ_STR(s->fields[1].default_json, "null");
	CHECK(!s->fields[0].has_default);
	const struct firn_avro_schema *cs = firn_avro_schema_nonnull(df->fields[firn_avro_schema_field_index(df, "column_sizes")].type);
	CHECK_EQ_INT(cs->type, FIRN_AVRO_ARRAY);
	CHECK_EQ_STR(cs->logical_type, "map");
	CHECK_EQ_INT(cs->items->fields[0].field_id, 117);
	const struct firn_avro_schema *pr = firn_avro_schema_nonnull(df->fields[firn_avro_schema_field_index_by_id(df, 199)].type);
	CHECK(pr->type == FIRN_AVRO_MAP && pr->has_key_id && pr->has_value_id);
	CHECK_EQ_INT(pr->key_id, 200);
	CHECK_EQ_INT(pr->value_id, 201);
	const struct firn_avro_schema *so = firn_avro_schema_nonnull(df->fields[firn_avro_schema_field_index(df, "split_offsets")].type);
	CHECK(so->has_element_id && so->element_id == 133);
	const struct firn_avro_schema *dec = firn_avro_schema_nonnull(df->fields[firn_avro_schema_field_index(df, "price")].type);
	CHECK(dec->type == FIRN_AVRO_FIXED && dec->size == 4 && dec->precision == 9 && dec->scale == 2);
	CHECK_EQ_STR(dec->logical_type, "decimal");
	CHECK_EQ_STR(firn_avro_schema_attr(dec, "precision"), "9");
	const struct firn_avro_schema *ts = df->fields[firn_avro_schema_field_index(df, "ts")].type;
	CHECK_EQ_STR(ts->logical_type, "timestamp-micros");
	CHECK_EQ_STR(ts->adjust_to_utc, "true");
	const struct firn_avro_schema *part = df->fields[firn_avro_schema_field_index(df, "partition")].type;
	CHECK_EQ_STR(firn_avro_field_attr(&part->fields[1], "iceberg-field-name"), "\"id-bucket\"");
	CHECK_EQ_INT(firn_avro_schema_field_index(s, "nope"), -1);
	CHECK_EQ_INT(firn_avro_schema_field_index_by_id(s, 999), -1);
	firn_arena_free(&a);
}

TEST(schema_names_namespaces_and_references)
{
	struct firn_arena a = FIRN_ARENA_INIT;
	const struct firn_avro_schema *s;
	const char *js = "{\"type\":\"record\",\"name\":\"outer\",\"namespace\":\"a.b\",\"fields\":["
			 "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"f4\",\"size\":4}},"
			 "{\"name\":\"g\",\"type\":\"f4\"},"
			 "{\"name\":\"h\",\"type\":\"a.b.f4\"},"
			 "{\"name\":\"o\",\"type\":{\"type\":\"record\",\"name\":\"x.inner\",\"fields\":["
			 "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}}]}},"
			 "{\"name\":\"e2\",\"type\":\"x.E\"},"
			 "{\"name\":\"self\",\"type\":[\"null\",\"outer\"]}]}";
	CHECK_OK(firn_avro_schema_parse(&s, &a, js, strlen(js), &t_err));
	CHECK_EQ_STR(s->fullname, "a.b.outer");
	CHECK(s->fields[0].type == s->fields[1].type && s->fields[1].type == s->fields[2].type);
	CHECK_EQ_STR(s->fields[0].type->fullname, "a.b.f4");
	const struct firn_avro_schema *inner = s->fields[3].type;
	CHECK_EQ_STR(inner->fullname, "x.inner");
	CHECK_EQ_STR(inner->fields[0].type->fullname, "x.E");
	CHECK(s->fields[4].type == inner->fields[0].type);
	CHECK(s->fields[5].type->branches[1] == s);
	char *out = schema_json(s);
	CHECK_EQ_STR(out, "{\"type\":\"record\",\"name\":\"outer\",\"namespace\":\"a.b\",\"fields\":["
			  "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"f4\",\"size\":4}},"
			  "{\"name\":\"g\",\"type\":\"a.b.f4\"},{\"name\":\"h\",\"type\":\"a.b.f4\"},"
			  "{\"name\":\"o\",\"type\":{\"type\":\"record\",\"name\":\"inner\",\"namespace\":\"x\",\"fields\":["
			  "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}}]}},"
			  "{\"name\":\"e2\",\"type\":\"x.E\"},{\"name\":\"self\",\"type\":[\"null\",\"a.b.outer\"]}]}");
	/* the output parses to the same graph */
	const struct firn_avro_schema *s2;
	CHECK_OK(firn_avro_schema_parse(&s2, &a, out, strlen(out), &t_err));
	CHECK(s2->fields[5].type->branches[1] == s2);
	firn_free(out);

	/* a primitive at the top, with and without attributes */
	CHECK_OK(firn_avro_schema_parse(&s, &a, "\"long\"", 6, &t_err));
	CHECK_EQ_INT(s->type, FIRN_AVRO_LONG);
	out = schema_json(s);
	CHECK_EQ_STR(out, "\"long\"");
	firn_free(out);
	firn_arena_free(&a);
}

TEST(schema_errors)
{
	static const char *bad[] = {
		"",
		"{",
		"\"nosuch\"",
		"{\"type\":\"record\",\"fields\":[]}",
		"{\"type\":\"record\",\"name\":\"r\"}",
		"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\"}]}",
		"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"a\",\"type\":\"int\"}]}",
		"{\"type\":\"record\",\"name\":\"1r\",\"fields\":[]}",
		"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a-b\",\"type\":\"int\"}]}",
		"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"field-id\":\"5\"}]}",
		"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"field-id\":4294967296}]}",
		"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"record\",\"name\":\"r\",\"fields\":[]}}]}",
		"[\"null\",[\"int\"]]",
		"[\"int\",\"int\"]",
		"[]",
		"{\"type\":\"array\"}",
		"{\"type\":\"map\"}",
		"{\"type\":\"fixed\",\"name\":\"f\"}",
		"{\"type\":\"fixed\",\"name\":\"f\",\"size\":-1}",
		"{\"type\":\"enum\",\"name\":\"e\",\"symbols\":[\"A\",\"A\"]}",
		"{\"type\":\"enum\",\"name\":\"int\",\"symbols\":[]}",
		"{\"type\":17}",
		"{\"name\":\"x\"}",
		"42",
	};
	struct firn_arena a = FIRN_ARENA_INIT;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct firn_avro_schema *s;
		struct firn_error e = { 0 };
		int rc = firn_avro_schema_parse(&s, &a, bad[i], strlen(bad[i]), &e);
		if (rc != FIRN_EINVAL)
			fprintf(stderr, "schema %zu (%s) -> %d\n", i, bad[i], rc);
		CHECK_EQ_INT(rc, FIRN_EINVAL);
		CHECK(strlen(e.message) > 10 && strchr(e.message, '\n') == NULL);
	}
	/* deeply nested arrays stop at the limit instead of exhausting the stack */
	struct firn_buf b = FIRN_BUF_INIT;
	for (int i = 0; i < 1000; i++)
		firn_buf_puts(&b, "{\"type\":\"array\",\"items\":");
	firn_buf_puts(&b, "\"int\"");
	for (int i = 0; i < 1000; i++)
		firn_buf_putc(&b, '}');
	const struct firn_avro_schema *s;
	CHECK_EQ_INT(firn_avro_schema_parse(&s, &a, (const char *)b.data, b.len, NULL), FIRN_EINVAL);
	firn_buf_free(&b);
	firn_arena_free(&a);
}

/* ---- values through every codec ---- */

static const char all_types_schema[] =
	"{\"type\":\"record\",\"name\":\"all\",\"namespace\":\"t\",\"fields\":["
	"{\"name\":\"n\",\"type\":\"null\"},"
	"{\"name\":\"b\",\"type\":\"boolean\"},"
	"{\"name\":\"i\",\"type\":\"int\"},"
	"{\"name\":\"l\",\"type\":\"long\"},"
	"{\"name\":\"f\",\"type\":\"float\"},"
	"{\"name\":\"d\",\"type\":\"double\"},"
	"{\"name\":\"by\",\"type\":\"bytes\"},"
	"{\"name\":\"s\",\"type\":\"string\"},"
	"{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"color\",\"symbols\":[\"RED\",\"GREEN\",\"BLUE\"]}},"
	"{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"long\",\"element-id\":7}},"
	"{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"string\"],\"key-id\":8,\"value-id\":9}},"
	"{\"name\":\"u\",\"type\":[\"null\",\"long\",\"string\"]},"
	"{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"fixed_4\",\"size\":4}},"
	"{\"name\":\"fx2\",\"type\":\"fixed_4\"},"
	"{\"name\":\"rec\",\"type\":{\"type\":\"record\",\"name\":\"inner\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}},"
	"{\"name\":\"recs\",\"type\":{\"type\":\"array\",\"items\":\"inner\"}},"
	"{\"name\":\"opt\",\"type\":[\"null\",\"inner\"],\"default\":null},"
	"{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":false}}"
	"]}";

static char strings[64][32];

/* Record k of the test series; extremes in the first rows. */
static struct firn_avro_value *all_types_record(struct firn_arena *a, const struct firn_avro_schema *s, int k)
{
	static const int64_t longs[] = { INT64_MIN, INT64_MAX, 0, -1, 1, 63, 64, -64, -65 };
	static const int32_t ints[] = { INT32_MIN, INT32_MAX, 0, -1, 1 };
	struct firn_avro_value *r = firn_avro_record_new(a, s);
	const struct firn_avro_schema *inner = s->fields[firn_avro_schema_field_index(s, "rec")].type;
	struct firn_error *e = &t_err;
	snprintf(strings[k % 64], sizeof(strings[0]), "row %d \xc3\xa9\xe2\x82\xac", k);
	CHECK_OK(firn_avro_record_set(r, s, "n", firn_avro_null(), e));
	CHECK_OK(firn_avro_record_set(r, s, "b", firn_avro_boolean(k % 2), e));
	CHECK_OK(firn_avro_record_set(r, s, "i", firn_avro_int(k < 5 ? ints[k] : k * 7919), e));
	CHECK_OK(firn_avro_record_set(r, s, "l", firn_avro_long(k < 9 ? longs[k] : (int64_t)k * 1000003 * 1000003), e));
	CHECK_OK(firn_avro_record_set(r, s, "f", firn_avro_float(k == 0 ? NAN : k == 1 ? -INFINITY : k == 2 ? -0.0f : k * 0.5f), e));
	CHECK_OK(firn_avro_record_set(r, s, "d", firn_avro_double(k == 0 ? 1e308 : k == 1 ? -0.0 : k / 3.0), e));
	CHECK_OK(firn_avro_record_set(r, s, "by", firn_avro_bytes("\0\1\2\xff", (size_t)(k % 5)), e));
	CHECK_OK(firn_avro_record_set(r, s, "s", k == 3 ? firn_avro_string("") : firn_avro_string(strings[k % 64]), e));
	CHECK_OK(firn_avro_record_set(r, s, "e", firn_avro_enum(k % 3), e));
	struct firn_avro_value *arr = firn_avro_array_new(a, (size_t)(k % 4));
	for (size_t i = 0; i < arr->array.n; i++)
		arr->array.items[i] = firn_avro_long((int64_t)i - k);
	CHECK_OK(firn_avro_record_set(r, s, "a", *arr, e));
	struct firn_avro_value *m = firn_avro_map_new(a, (size_t)(k % 3));
	for (size_t i = 0; i < m->map.n; i++) {
		m->map.entries[i].key = i ? "second" : "first";
		m->map.entries[i].key_len = strlen(m->map.entries[i].key);
		m->map.entries[i].value = i ? firn_avro_null() : firn_avro_string("v");
	}
	CHECK_OK(firn_avro_record_set(r, s, "m", *m, e));
	struct firn_avro_value u = k % 3 == 0 ? firn_avro_null() : k % 3 == 1 ? firn_avro_long(-k) : firn_avro_string("u");
	if (k % 7 == 0) /* an explicit union value */
		u = *firn_avro_union_new(a, 1, firn_avro_long(k));
	CHECK_OK(firn_avro_record_set(r, s, "u", u, e));
	CHECK_OK(firn_avro_record_set(r, s, "fx", firn_avro_fixed("abcd", 4), e));
	CHECK_OK(firn_avro_record_set(r, s, "fx2", firn_avro_fixed("\0\0\0\0", 4), e));
	struct firn_avro_value *in = firn_avro_record_new(a, inner);
	CHECK_OK(firn_avro_record_set(in, inner, "x", firn_avro_int(k), e));
	CHECK_OK(firn_avro_record_set(r, s, "rec", *in, e));
	struct firn_avro_value *recs = firn_avro_array_new(a, 2);
	recs->array.items[0] = *in;
	recs->array.items[1] = *in;
	CHECK_OK(firn_avro_record_set(r, s, "recs", *recs, e));
	if (k % 2)
		CHECK_OK(firn_avro_record_set(r, s, "opt", *in, e));
	CHECK_OK(firn_avro_record_set(r, s, "ts", firn_avro_long(1510871468123456LL + k), e));
	return r;
}

static uint8_t *write_all_types(const char *codec, int n, size_t *len)
{
	struct firn_avro_writer *w;
	const char *keys[] = { "partition-spec", "format-version" };
	const char *vals[] = { "[{\"name\":\"x\",\"transform\":\"identity\",\"source-id\":1,\"field-id\":1000}]", "2" };
	CHECK_OK(firn_avro_writer_open(&w, all_types_schema, codec, 2, keys, vals, &t_err));
	const struct firn_avro_schema *s = firn_avro_writer_schema(w);
	for (int k = 0; k < n; k++) {
		struct firn_arena a = FIRN_ARENA_INIT;
		CHECK_OK(firn_avro_writer_append(w, all_types_record(&a, s, k), &t_err));
		firn_arena_free(&a);
	}
	uint8_t *data;
	CHECK_OK(firn_avro_writer_finish(w, &data, len, &t_err));
	firn_avro_writer_free(w);
	return data;
}

static int count_syncs(const uint8_t *data, size_t len, const uint8_t *sync)
{
	int n = 0;
	for (size_t i = 0; i + 16 <= len; i++)
		if (memcmp(data + i, sync, 16) == 0)
			n++;
	return n;
}

TEST(values_round_trip_every_codec)
{
	for (int c = 0; c < 4; c++) {
		const int n = 2500; /* 1000 records per block: three blocks */
		size_t len;
		uint8_t *data = write_all_types(codecs[c], n, &len);
		struct firn_avro_reader *r;
		CHECK_OK(firn_avro_reader_open_memory(&r, data, len, &t_err));
		CHECK_EQ_STR(firn_avro_reader_codec(r), codecs[c]);
		const struct firn_avro_schema *s = firn_avro_reader_schema(r);
		/* blocks: the header's sync + one after each block; 1000 records or
		 * 64 KiB end a block, so at least three blocks */
		CHECK(count_syncs(data, len, data + len - 16) >= 4);
		struct firn_arena build = FIRN_ARENA_INIT, ra = FIRN_ARENA_INIT;
		int k = 0;
		for (;; k++) {
			const struct firn_avro_value *v;
			CHECK_OK(firn_avro_reader_next(r, &ra, &v, &t_err));
			if (v == NULL)
				break;
			struct firn_avro_value *want = all_types_record(&build, s, k);
			if (!value_eq(s, v, want)) {
				fprintf(stderr, "codec %s: record %d differs\n", codecs[c], k);
				CHECK(0);
				break;
			}
			if (k % 100 == 0) {
				firn_arena_free(&ra);
				firn_arena_free(&build);
			}
		}
		CHECK_EQ_INT(k, n);
		/* reading past the end stays at the end */
		const struct firn_avro_value *v;
		CHECK_OK(firn_avro_reader_next(r, &ra, &v, &t_err));
		CHECK(v == NULL);
		firn_arena_free(&ra);
		firn_arena_free(&build);
		firn_avro_reader_free(r);
		firn_free(data);
	}
}

TEST(decoded_values_detail)
{
	size_t len;
	uint8_t *data = write_all_types("deflate", 3, &len);
	struct firn_avro_reader *r;
	CHECK_OK(firn_avro_reader_open_memory(&r, data, len, &t_err));
	const struct firn_avro_schema *s = firn_avro_reader_schema(r);
	struct firn_arena a = FIRN_ARENA_INIT;
	const struct firn_avro_value *v;
	CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
	const struct firn_avro_schema *t;
	const struct firn_avro_value *f = firn_avro_record_get(v, s, "l", &t);
	CHECK(f != NULL && f->type == FIRN_AVRO_LONG && f->i64 == INT64_MIN);
	CHECK(t != NULL && t->type == FIRN_AVRO_LONG);
	f = firn_avro_record_get(v, s, "i", NULL);
	CHECK(f && f->i64 == INT32_MIN);
	f = firn_avro_record_get(v, s, "f", NULL);
	CHECK(f && isnan(f->f32));
	f = firn_avro_record_get(v, s, "s", NULL);
	CHECK(f && f->type == FIRN_AVRO_STRING);
	CHECK_EQ_STR((const char *)f->bytes.data, "row 0 \xc3\xa9\xe2\x82\xac"); /* NUL-terminated */
	f = firn_avro_record_get(v, s, "u", &t);
	CHECK(f && f->type == FIRN_AVRO_LONG && t->type == FIRN_AVRO_LONG); /* unwrapped */
	CHECK_EQ_INT(v->record.fields[firn_avro_schema_field_index(s, "u")].type, FIRN_AVRO_UNION);
	f = firn_avro_record_get(v, s, "opt", &t);
	CHECK(f && f->type == FIRN_AVRO_NULL && t->type == FIRN_AVRO_NULL);
	CHECK(firn_avro_record_get(v, s, "nope", &t) == NULL && t == NULL);
	CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
	f = firn_avro_record_get(v, s, "opt", &t);
	CHECK(f && f->type == FIRN_AVRO_RECORD && t->type == FIRN_AVRO_RECORD);
	const struct firn_avro_value *x = firn_avro_record_get(f, t, "x", NULL);
	CHECK(x && x->i64 == 1);
	f = firn_avro_record_get(v, s, "m", NULL);
	CHECK(f && f->map.n == 1 && f->map.entries[0].key_len == 5);
	CHECK_EQ_STR(f->map.entries[0].key, "first");
	/* header keys, in order */
	CHECK_EQ_INT(firn_avro_reader_meta_count(r), 4);
	const char *val;
	size_t vlen;
	CHECK_EQ_STR(firn_avro_reader_meta_at(r, 0, &val, &vlen), "avro.schema");
	CHECK_EQ_STR(firn_avro_reader_meta_at(r, 1, &val, &vlen), "avro.codec");
	CHECK_EQ_STR(val, "deflate");
	CHECK_EQ_STR(firn_avro_reader_meta_at(r, 2, &val, &vlen), "partition-spec");
	CHECK_EQ_STR(firn_avro_reader_meta_at(r, 3, &val, &vlen), "format-version");
	CHECK(firn_avro_reader_meta_at(r, 4, &val, &vlen) == NULL);
	CHECK_EQ_STR(firn_avro_reader_meta(r, "format-version", &vlen), "2");
	CHECK_EQ_INT(vlen, 1);
	CHECK(firn_avro_reader_meta(r, "nope", NULL) == NULL);
	/* the header's schema keeps the ids */
	const char *hs = firn_avro_reader_meta(r, "avro.schema", NULL);
	CHECK(strstr(hs, "\"element-id\":7") != NULL && strstr(hs, "\"key-id\":8") != NULL &&
	      strstr(hs, "\"adjust-to-utc\":false") != NULL);
	firn_arena_free(&a);
	firn_avro_reader_free(r);
	firn_free(data);
}

TEST(manifest_by_field_id)
{
	struct firn_avro_writer *w;
	CHECK_OK(firn_avro_writer_open(&w, manifest_schema, NULL, 0, NULL, NULL, &t_err));
	const struct firn_avro_schema *s = firn_avro_writer_schema(w);
	struct firn_arena a = FIRN_ARENA_INIT;
	const struct firn_avro_schema *df = s->fields[3].type;
	const struct firn_avro_schema *part = df->fields[2].type;
	for (int k = 0; k < 3; k++) {
		struct firn_avro_value *e = firn_avro_record_new(&a, s);
		CHECK_OK(firn_avro_record_set(e, s, "status", firn_avro_int(1), &t_err));
		CHECK_OK(firn_avro_record_set(e, s, "snapshot_id", firn_avro_long(42 + k), &t_err));
		struct firn_avro_value *d = firn_avro_record_new(&a, df);
		CHECK_OK(firn_avro_record_set(d, df, "content", firn_avro_int(0), &t_err));
		CHECK_OK(firn_avro_record_set(d, df, "file_path", firn_avro_string("s3://b/data/1.parquet"), &t_err));
		struct firn_avro_value *p = firn_avro_record_new(&a, part);
		CHECK_OK(firn_avro_record_set(p, part, "day", firn_avro_int(19000 + k), &t_err));
		CHECK_OK(firn_avro_record_set(d, df, "partition", *p, &t_err));
		CHECK_OK(firn_avro_record_set(d, df, "record_count", firn_avro_long(100), &t_err));
		const struct firn_avro_schema *kv = firn_avro_schema_nonnull(df->fields[4].type)->items;
		struct firn_avro_value *cs = firn_avro_array_new(&a, 2);
		for (int i = 0; i < 2; i++) {
			struct firn_avro_value *pair = firn_avro_record_new(&a, kv);
			CHECK_OK(firn_avro_record_set(pair, kv, "key", firn_avro_int(i + 1), &t_err));
			CHECK_OK(firn_avro_record_set(pair, kv, "value", firn_avro_long(1000 * (i + 1)), &t_err));
			cs->array.items[i] = *pair;
		}
		CHECK_OK(firn_avro_record_set(d, df, "column_sizes", *cs, &t_err));
		CHECK_OK(firn_avro_record_set(d, df, "ts", firn_avro_long(1), &t_err));
		CHECK_OK(firn_avro_record_set(d, df, "ratio", firn_avro_double(0.5), &t_err));
		uint8_t uid[16] = { 1, 2, 3 };
		CHECK_OK(firn_avro_record_set(d, df, "uid", firn_avro_fixed(uid, 16), &t_err));
		CHECK_OK(firn_avro_record_set(e, s, "data_file", *d, &t_err));
		CHECK_OK(firn_avro_writer_append(w, e, &t_err));
	}
	uint8_t *data;
	size_t len;
	CHECK_OK(firn_avro_writer_finish(w, &data, &len, &t_err));
	uint8_t *again;
	size_t again_len;
	CHECK_EQ_INT(firn_avro_writer_finish(w, &again, &again_len, NULL), FIRN_EINVAL);
	CHECK(again == NULL && again_len == 0);
	firn_avro_writer_free(w);
	firn_arena_free(&a);

	struct firn_avro_reader *r;
	CHECK_OK(firn_avro_reader_open_memory(&r, data, len, &t_err));
	s = firn_avro_reader_schema(r);
	int k = 0;
	for (;; k++) {
		const struct firn_avro_value *v;
		CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
		if (v == NULL)
			break;
		const struct firn_avro_schema *t, *dt;
		const struct firn_avro_value *f = firn_avro_record_field_by_id(v, s, 1, &t);
		CHECK(f && f->type == FIRN_AVRO_LONG && f->i64 == 42 + k);
		f = firn_avro_record_field_by_id(v, s, 3, &t);
		CHECK(f && f->type == FIRN_AVRO_NULL);
		const struct firn_avro_value *d = firn_avro_record_field_by_id(v, s, 2, &dt);
		CHECK(d && dt && dt->type == FIRN_AVRO_RECORD);
		f = firn_avro_record_field_by_id(d, dt, 100, NULL);
		CHECK(f && f->bytes.len == 21);
		const struct firn_avro_value *p = firn_avro_record_field_by_id(d, dt, 102, &t);
		f = firn_avro_record_field_by_id(p, t, 1000, NULL);
		CHECK(f && f->type == FIRN_AVRO_INT && f->i64 == 19000 + k);
		f = firn_avro_record_field_by_id(p, t, 1001, NULL);
		CHECK(f && f->type == FIRN_AVRO_NULL);
		const struct firn_avro_value *cs = firn_avro_record_field_by_id(d, dt, 108, &t);
		CHECK(cs && cs->type == FIRN_AVRO_ARRAY && cs->array.n == 2 && t->logical_type != NULL);
		if (cs && cs->array.n == 2) {
			f = firn_avro_record_field_by_id(&cs->array.items[1], t->items, 118, NULL);
			CHECK(f && f->i64 == 2000);
		}
		f = firn_avro_record_field_by_id(d, dt, 151, &t);
		CHECK(f && f->type == FIRN_AVRO_FIXED && f->bytes.len == 16 && f->bytes.data[2] == 3);
		CHECK_EQ_STR(t->logical_type, "uuid");
		CHECK(firn_avro_record_field_by_id(d, dt, 9999, NULL) == NULL);
	}
	CHECK_EQ_INT(k, 3);
	firn_avro_reader_free(r);
	firn_arena_free(&a);
	firn_free(data);
}

/* ---- varints ---- */

TEST(zigzag_varint_extremes)
{
	struct { int64_t v; const char *bytes; size_t n; } cases[] = {
		{ 0, "\x00", 1 }, { -1, "\x01", 1 }, { 1, "\x02", 1 }, { -64, "\x7f", 1 },
		{ 64, "\x80\x01", 2 }, { -65, "\x81\x01", 2 },
		{ INT32_MAX, "\xfe\xff\xff\xff\x0f", 5 }, { INT32_MIN, "\xff\xff\xff\xff\x0f", 5 },
		{ INT64_MAX, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10 },
		{ INT64_MIN, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[10];
		size_t n = firn_avro__put_long(buf, cases[i].v);
		CHECK_EQ_INT(n, cases[i].n);
		CHECK(memcmp(buf, cases[i].bytes, n) == 0);
		const uint8_t *p = buf;
		int64_t back;
		CHECK_EQ_INT(firn_avro__read_long(&p, buf + n, &back), 0);
		CHECK(back == cases[i].v);
		CHECK(p == buf + n);
		p = buf; /* one byte short */
		CHECK_EQ_INT(firn_avro__read_long(&p, buf + n - 1, &back), -1);
	}
	const uint8_t over[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03 };
	const uint8_t longer[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00 };
	const uint8_t *p = over;
	int64_t v;
	CHECK_EQ_INT(firn_avro__read_long(&p, over + sizeof(over), &v), -2);
	p = longer;
	CHECK_EQ_INT(firn_avro__read_long(&p, longer + sizeof(longer), &v), -2);
}

/* ---- containers ---- */

TEST(empty_container)
{
	for (int c = 0; c < 4; c++) {
		struct firn_avro_writer *w;
		const char *keys[] = { "content" }, *vals[] = { "data" };
		CHECK_OK(firn_avro_writer_open(&w, manifest_schema, codecs[c], 1, keys, vals, &t_err));
		uint8_t *data;
		size_t len;
		CHECK_OK(firn_avro_writer_finish(w, &data, &len, &t_err));
		firn_avro_writer_free(w);
		CHECK_EQ_INT(count_syncs(data, len, data + len - 16), 1); /* header only */
		struct firn_avro_reader *r;
		CHECK_OK(firn_avro_reader_open_memory(&r, data, len, &t_err));
		CHECK_EQ_STR(firn_avro_reader_meta(r, "content", NULL), "data");
		CHECK_EQ_STR(firn_avro_reader_meta(r, "avro.codec", NULL), codecs[c]);
		struct firn_arena a = FIRN_ARENA_INIT;
		const struct firn_avro_value *v = (const void *)1;
		CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
		CHECK(v == NULL);
		firn_avro_reader_free(r);
		firn_free(data);
	}
	/* a header without avro.codec means null; a zero-record block is skipped */
	struct firn_buf b = FIRN_BUF_INIT;
	firn_buf_append(&b, "Obj\x01", 4);
	put_long(&b, -1);
	put_long(&b, 20);
	put_str(&b, "avro.schema");
	put_str(&b, "\"int\"");
	put_long(&b, 0);
	firn_buf_append(&b, test_sync, 16);
	hand_block(&b, 0, "", 0);
	hand_block(&b, 2, "\x02\x04", 2);
	struct firn_avro_reader *r;
	CHECK_OK(firn_avro_reader_open_memory(&r, b.data, b.len, &t_err));
	CHECK_EQ_STR(firn_avro_reader_codec(r), "null");
	struct firn_arena a = FIRN_ARENA_INIT;
	const struct firn_avro_value *v;
	CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
	CHECK(v && v->type == FIRN_AVRO_INT && v->i64 == 1);
	CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
	CHECK(v && v->i64 == 2);
	CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
	CHECK(v == NULL);
	firn_avro_reader_free(r);
	firn_arena_free(&a);
	firn_buf_free(&b);
}

TEST(writer_multi_block_by_bytes_and_file_reader)
{
	/* records of ~10 KiB: a block every ~64 KiB, long before 1000 records */
	const char *schema = "{\"type\":\"record\",\"name\":\"big\",\"fields\":[{\"name\":\"blob\",\"type\":\"bytes\"}]}";
	struct firn_avro_writer *w;
	CHECK_OK(firn_avro_writer_open(&w, schema, "snappy", 0, NULL, NULL, &t_err));
	static uint8_t blob[10000];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 31 / 7);
	struct firn_arena a = FIRN_ARENA_INIT;
	for (int k = 0; k < 20; k++) {
		struct firn_avro_value *r = firn_avro_record_new(&a, firn_avro_writer_schema(w));
		blob[0] = (uint8_t)k;
		r->record.fields[0] = firn_avro_bytes(blob, sizeof(blob));
		CHECK_OK(firn_avro_writer_append(w, r, &t_err));
	}
	uint8_t *data;
	size_t len;
	CHECK_OK(firn_avro_writer_finish(w, &data, &len, &t_err));
	firn_avro_writer_free(w);
	CHECK(count_syncs(data, len, data + len - 16) >= 4);

	char path[] = "/tmp/firn_avro_testXXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, data, len), (long long)len);
	close(fd);
	struct firn_avro_reader *r;
	CHECK_OK(firn_avro_reader_open(&r, path, &t_err));
	int k = 0;
	for (;; k++) {
		const struct firn_avro_value *v;
		CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
		if (v == NULL)
			break;
		CHECK(v->record.fields[0].bytes.len == sizeof(blob) && v->record.fields[0].bytes.data[0] == k &&
		      memcmp(v->record.fields[0].bytes.data + 1, blob + 1, sizeof(blob) - 1) == 0);
	}
	CHECK_EQ_INT(k, 20);
	firn_avro_reader_free(r);
	unlink(path);
	struct firn_error e;
	CHECK_EQ_INT(firn_avro_reader_open(&r, path, &e), FIRN_ENOTFOUND);
	CHECK(strstr(e.message, path) != NULL);
	CHECK(r == NULL);
	firn_arena_free(&a);
	firn_free(data);
}

TEST(writer_rejects_bad_values_and_arguments)
{
	struct firn_avro_writer *w;
	CHECK_OK(firn_avro_writer_open(&w, manifest_schema, "null", 0, NULL, NULL, &t_err));
	const struct firn_avro_schema *s = firn_avro_writer_schema(w);
	const struct firn_avro_schema *df = s->fields[3].type;
	struct firn_arena a = FIRN_ARENA_INIT;
	struct firn_avro_value *e = firn_avro_record_new(&a, s);
	struct firn_avro_value *d = firn_avro_record_new(&a, df);
	struct firn_avro_value *p = firn_avro_record_new(&a, df->fields[2].type);
	CHECK_OK(firn_avro_record_set(e, s, "status", firn_avro_int(1), &t_err));
	CHECK_OK(firn_avro_record_set(d, df, "content", firn_avro_int(0), &t_err));
	CHECK_OK(firn_avro_record_set(d, df, "file_path", firn_avro_string("f"), &t_err));
	CHECK_OK(firn_avro_record_set(d, df, "partition", *p, &t_err));
	CHECK_OK(firn_avro_record_set(d, df, "record_count", firn_avro_string("ten"), &t_err));
	CHECK_OK(firn_avro_record_set(d, df, "ts", firn_avro_long(0), &t_err));
	CHECK_OK(firn_avro_record_set(d, df, "ratio", firn_avro_double(0), &t_err));
	CHECK_OK(firn_avro_record_set(e, s, "data_file", *d, &t_err));
	struct firn_error err;
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "data_file.record_count: expected long, got string") != NULL);
	/* fix it: but the struct in e is a copy, so set it there */
	struct firn_avro_value *ed = &e->record.fields[3];
	CHECK_OK(firn_avro_record_set(ed, df, "record_count", firn_avro_long(10), &t_err));
	CHECK_OK(firn_avro_record_set(ed, df, "price", firn_avro_fixed("abc", 3), &t_err));
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "data_file.price: fixed decimal_9_2 takes 4 bytes, got 3") != NULL);
	CHECK_OK(firn_avro_record_set(ed, df, "price", firn_avro_int(3), &t_err));
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "data_file.price: expected null or fixed, got int") != NULL);
	CHECK_OK(firn_avro_record_set(ed, df, "price", firn_avro_null(), &t_err));
	CHECK_OK(firn_avro_record_set(ed, df, "file_path", firn_avro_stringn("\xc3\x28", 2), &t_err));
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "file_path: string is not UTF-8") != NULL);
	CHECK_OK(firn_avro_record_set(ed, df, "file_path", firn_avro_string("f"), &t_err));
	CHECK_OK(firn_avro_record_set(e, s, "status", firn_avro_long(1), &t_err));
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "status: expected int, got long") != NULL);
	CHECK_OK(firn_avro_record_set(e, s, "status", firn_avro_int(1), &t_err));
	e->record.fields[0].i64 = (int64_t)INT32_MAX + 1;
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "int out of range") != NULL);
	e->record.fields[0].i64 = 2;
	struct firn_avro_value unset = { 0 };
	CHECK_OK(firn_avro_record_set(ed, df, "ts", unset, &t_err));
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "data_file.ts: not set") != NULL);
	CHECK_OK(firn_avro_record_set(ed, df, "ts", firn_avro_long(5), &t_err));
	struct firn_avro_value *bad_union = firn_avro_union_new(&a, 7, firn_avro_long(1));
	CHECK_OK(firn_avro_record_set(e, s, "snapshot_id", *bad_union, &t_err));
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	CHECK(strstr(err.message, "snapshot_id: union branch 7 of 2") != NULL);
	CHECK_OK(firn_avro_record_set(e, s, "snapshot_id", firn_avro_null(), &t_err));
	/* names that do not exist, values that are not records */
	CHECK_EQ_INT(firn_avro_record_set(e, s, "nope", firn_avro_null(), &err), FIRN_ENOTFOUND);
	CHECK_EQ_INT(firn_avro_record_set(ed, s, "status", firn_avro_null(), &err), FIRN_EINVAL);
	CHECK(firn_avro_record_new(&a, df->fields[0].type) == NULL);
	/* now it is right, and the failed appends left nothing behind */
	CHECK_OK(firn_avro_writer_append(w, e, &t_err));
	uint8_t *data;
	size_t len;
	CHECK_OK(firn_avro_writer_finish(w, &data, &len, &t_err));
	CHECK_EQ_INT(firn_avro_writer_append(w, e, &err), FIRN_EINVAL);
	firn_avro_writer_free(w);
	CHECK_EQ_INT(read_all(data, len), 1);
	firn_free(data);
	firn_arena_free(&a);

	/* open arguments */
	const char *k1[] = { "avro.custom" }, *k2[] = { "a", "a" }, *v2[] = { "1", "2" };
	CHECK_EQ_INT(firn_avro_writer_open(&w, manifest_schema, "null", 1, k1, v2, &err), FIRN_EINVAL);
	CHECK_EQ_INT(firn_avro_writer_open(&w, manifest_schema, "null", 2, k2, v2, &err), FIRN_EINVAL);
	CHECK_EQ_INT(firn_avro_writer_open(&w, manifest_schema, "xz", 0, NULL, NULL, &err), FIRN_EUNSUPPORTED);
	CHECK_EQ_INT(firn_avro_writer_open(&w, "{\"type\":\"recor\"}", "null", 0, NULL, NULL, &err), FIRN_EINVAL);
	CHECK(strncmp(err.message, "avro writer: avro schema:", 25) == 0);
	CHECK(w == NULL);
	firn_avro_writer_free(NULL);
	firn_avro_reader_free(NULL);
}

TEST(negative_block_counts_in_arrays_and_maps)
{
	const char *schema = "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
			     "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
			     "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"int\"}}]}";
	struct firn_buf rec = FIRN_BUF_INIT;
	/* array: a block of -2 items (2 bytes), then 1 item, then the end */
	put_long(&rec, -2);
	put_long(&rec, 2);
	put_long(&rec, 5);
	put_long(&rec, -6);
	put_long(&rec, 1);
	put_long(&rec, 7);
	put_long(&rec, 0);
	/* map: -1 entry ("k" -> 3: 3 bytes), then the end */
	put_long(&rec, -1);
	put_long(&rec, 3);
	put_str(&rec, "k");
	put_long(&rec, 3);
	put_long(&rec, 0);
	struct firn_buf f = FIRN_BUF_INIT;
	hand_header(&f, schema, "null");
	hand_block(&f, 1, rec.data, rec.len);
	struct firn_avro_reader *r;
	CHECK_OK(firn_avro_reader_open_memory(&r, f.data, f.len, &t_err));
	struct firn_arena a = FIRN_ARENA_INIT;
	const struct firn_avro_value *v;
	CHECK_OK(firn_avro_reader_next(r, &a, &v, &t_err));
	CHECK(v != NULL);
	if (v != NULL) {
		const struct firn_avro_value *arr = &v->record.fields[0], *m = &v->record.fields[1];
		CHECK(arr->array.n == 3 && arr->array.items[0].i64 == 5 && arr->array.items[1].i64 == -6 &&
		      arr->array.items[2].i64 == 7);
		CHECK(m->map.n == 1 && m->map.entries[0].value.i64 == 3);
		CHECK_EQ_STR(m->map.entries[0].key, "k");
	}
	firn_avro_reader_free(r);
	/* a byte size that disagrees with the items is corruption */
	rec.data[1] = 0x06; /* size 3 */
	firn_buf_reset(&f);
	hand_header(&f, schema, "null");
	hand_block(&f, 1, rec.data, rec.len);
	struct firn_error e;
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	CHECK_OK(firn_avro_reader_open_memory(&r, f.data, f.len, &t_err));
	CHECK_EQ_INT(firn_avro_reader_next(r, &a, &v, &e), FIRN_ECORRUPT);
	CHECK(strstr(e.message, "block 0") != NULL && strstr(e.message, "record 0") != NULL &&
	      strstr(e.message, "a: block size does not match") != NULL);
	/* and the failure sticks */
	CHECK_EQ_INT(firn_avro_reader_next(r, &a, &v, &e), FIRN_ECORRUPT);
	firn_avro_reader_free(r);
	firn_arena_free(&a);
	firn_buf_free(&rec);
	firn_buf_free(&f);
}

TEST(zstd_frames_without_content_size)
{
	/* two frames written by the streaming API: no content size in either */
	struct firn_buf rec = FIRN_BUF_INIT;
	for (int i = 0; i < 300; i++)
		put_long(&rec, i * 1000);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	/* one-shot streaming calls would record the size; Java's stream does not */
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
	uint8_t comp[8192];
	size_t clen = 0;
	for (int part = 0; part < 2; part++) {
		size_t half = rec.len / 2;
		ZSTD_inBuffer in = { rec.data + part * half, part ? rec.len - half : half, 0 };
		ZSTD_outBuffer out = { comp + clen, sizeof(comp) - clen, 0 };
		size_t z;
		do {
			z = ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end);
		} while (z != 0 && !ZSTD_isError(z));
		CHECK(!ZSTD_isError(z));
		CHECK(ZSTD_getFrameContentSize(comp + clen, out.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
		clen += out.pos;
	}
	ZSTD_freeCCtx(cc);
	struct firn_buf f = FIRN_BUF_INIT;
	hand_header(&f, "\"long\"", "zstandard");
	hand_block(&f, 300, comp, clen);
	CHECK_EQ_INT(read_all(f.data, f.len), 300);
	/* truncated frame */
	firn_buf_reset(&f);
	hand_header(&f, "\"long\"", "zstandard");
	hand_block(&f, 300, comp, clen - 3);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	CHECK_EQ_INT(t_err.code, FIRN_ECORRUPT);
	firn_error_clear(&t_err);
	firn_buf_free(&f);
	firn_buf_free(&rec);
}

TEST(snappy_crc_and_sync_checked)
{
	size_t len;
	uint8_t *data = write_all_types("snappy", 5, &len);
	/* the CRC is the 4 bytes before the final sync marker */
	data[len - 17] ^= 1;
	struct firn_error e;
	struct firn_avro_reader *r;
	CHECK_OK(firn_avro_reader_open_memory(&r, data, len, &t_err));
	struct firn_arena a = FIRN_ARENA_INIT;
	const struct firn_avro_value *v;
	CHECK_EQ_INT(firn_avro_reader_next(r, &a, &v, &e), FIRN_ECORRUPT);
	CHECK(strstr(e.message, "CRC32") != NULL);
	firn_avro_reader_free(r);
	data[len - 17] ^= 1;
	data[len - 1] ^= 1; /* the sync marker */
	CHECK_OK(firn_avro_reader_open_memory(&r, data, len, &t_err));
	CHECK_EQ_INT(firn_avro_reader_next(r, &a, &v, &e), FIRN_ECORRUPT);
	CHECK(strstr(e.message, "sync marker") != NULL);
	firn_avro_reader_free(r);
	firn_arena_free(&a);
	firn_free(data);

	/* unknown codec, bad magic, missing schema */
	struct firn_buf f = FIRN_BUF_INIT;
	hand_header(&f, "\"int\"", "xz");
	CHECK_EQ_INT(firn_avro_reader_open_memory(&r, f.data, f.len, &e), FIRN_EUNSUPPORTED);
	f.data[0] = 'X';
	CHECK_EQ_INT(firn_avro_reader_open_memory(&r, f.data, f.len, &e), FIRN_ECORRUPT);
	firn_buf_reset(&f);
	hand_header(&f, "{\"type\":\"nosuch\"}", "null");
	CHECK_EQ_INT(firn_avro_reader_open_memory(&r, f.data, f.len, &e), FIRN_ECORRUPT);
	CHECK(strstr(e.message, "header") != NULL);
	firn_buf_free(&f);
}

/* Values that would expand into far more memory than the input holds. */
TEST(hostile_counts_fail_without_allocating)
{
	struct firn_buf rec = FIRN_BUF_INIT, f = FIRN_BUF_INIT;
	struct firn_error e;
	/* array<long> claiming 10^15 items in a few bytes */
	put_long(&rec, 1000000000000000LL);
	put_long(&rec, 1);
	hand_header(&f, "{\"type\":\"array\",\"items\":\"long\"}", "null");
	hand_block(&f, 1, rec.data, rec.len);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	CHECK(strstr(t_err.message, "block count") != NULL);
	/* array<array<null>>: zero-width items, nested */
	firn_buf_reset(&rec);
	firn_buf_reset(&f);
	put_long(&rec, 2000);
	for (int i = 0; i < 2000; i++) {
		put_long(&rec, 60000);
		put_long(&rec, 0);
	}
	put_long(&rec, 0);
	hand_header(&f, "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"null\"}}", "null");
	hand_block(&f, 1, rec.data, rec.len);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	CHECK_EQ_INT(t_err.code, FIRN_ECORRUPT);
	/* a string longer than the block, a block longer than the file, huge record counts */
	firn_buf_reset(&rec);
	firn_buf_reset(&f);
	put_long(&rec, INT64_MAX);
	hand_header(&f, "\"string\"", "null");
	hand_block(&f, 1, rec.data, rec.len);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	firn_buf_reset(&f);
	hand_header(&f, "\"string\"", "null");
	put_long(&f, 1);
	put_long(&f, 1 << 30);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	firn_buf_reset(&f);
	hand_header(&f, "\"long\"", "null");
	hand_block(&f, INT64_MAX, "\x02", 1);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	firn_buf_reset(&f);
	hand_header(&f, "\"null\"", "null");
	hand_block(&f, INT64_MAX, "", 0);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	/* leftover bytes after the block's records */
	firn_buf_reset(&f);
	hand_header(&f, "\"long\"", "null");
	hand_block(&f, 1, "\x02\x02", 2);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	CHECK(strstr(t_err.message, "after the last record") != NULL);
	/* a recursive schema with data nested far too deep */
	firn_buf_reset(&rec);
	firn_buf_reset(&f);
	for (int i = 0; i < 5000; i++)
		firn_buf_append(&rec, "\x00\x02", 2); /* v = 0, next = branch 1 */
	firn_buf_append(&rec, "\x00\x00", 2);
	hand_header(&f, "{\"type\":\"record\",\"name\":\"node\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
		    "{\"name\":\"next\",\"type\":[\"null\",\"node\"]}]}", "null");
	hand_block(&f, 1, rec.data, rec.len);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	CHECK(strstr(t_err.message, "nested") != NULL);
	/* a bad deflate stream, a bad boolean, a bad enum index, a bad union branch */
	firn_buf_reset(&f);
	hand_header(&f, "\"long\"", "deflate");
	hand_block(&f, 1, "\xff\xff\xff", 3);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	firn_buf_reset(&f);
	hand_header(&f, "\"boolean\"", "null");
	hand_block(&f, 1, "\x02", 1);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	firn_buf_reset(&f);
	hand_header(&f, "{\"type\":\"enum\",\"name\":\"e\",\"symbols\":[\"A\"]}", "null");
	hand_block(&f, 1, "\x02", 1);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	firn_buf_reset(&f);
	hand_header(&f, "[\"null\",\"int\"]", "null");
	hand_block(&f, 1, "\x04", 1);
	CHECK_EQ_INT(read_all(f.data, f.len), -1);
	CHECK_EQ_INT(t_err.code, FIRN_ECORRUPT);
	(void)e;
	firn_error_clear(&t_err);
	firn_buf_free(&rec);
	firn_buf_free(&f);
}

/* Every prefix and many byte flips of real files: errors, never crashes
 * (this is what the sanitizer build is for). */
TEST(truncations_and_byte_flips_never_crash)
{
	long ok = 0, failed = 0;
	for (int c = 0; c < 4; c++) {
		size_t len;
		uint8_t *data = write_all_types(codecs[c], 4, &len);
		for (size_t n = 0; n < len; n++) {
			uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
			memcpy(copy, data, n);
			long got = read_all(copy, n);
			CHECK(got < 4); /* nothing truncated reads as complete */
			free(copy);
		}
		static const uint8_t flips[] = { 0x01, 0x80, 0xff, 0x40 };
		for (size_t i = 0; i < len; i++) {
			for (size_t f = 0; f < sizeof(flips); f++) {
				uint8_t *copy = malloc(len);
				memcpy(copy, data, len);
				copy[i] ^= flips[f];
				if (read_all(copy, len) < 0)
					failed++;
				else
					ok++;
				free(copy);
			}
		}
		firn_free(data);
	}
	CHECK(failed > 0);
	(void)ok;
	firn_error_clear(&t_err);
}

int main(void)
{
	RUN(schema_json_round_trip_keeps_attributes);
	RUN(schema_names_namespaces_and_references);
	RUN(schema_errors);
	RUN(values_round_trip_every_codec);
	RUN(decoded_values_detail);
	RUN(manifest_by_field_id);
	RUN(zigzag_varint_extremes);
	RUN(empty_container);
	RUN(writer_multi_block_by_bytes_and_file_reader);
	RUN(writer_rejects_bad_values_and_arguments);
	RUN(negative_block_counts_in_arrays_and_maps);
	RUN(zstd_frames_without_content_size);
	RUN(snappy_crc_and_sync_checked);
	RUN(hostile_counts_fail_without_allocating);
	RUN(truncations_and_byte_flips_never_crash);
	return t_summary();
}
