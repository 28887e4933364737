/* Datums and partition transforms: the spec's Appendix B bucket vectors,
 * truncate/temporal rules with pre-1970 floors, single-value bytes. */
#include <math.h>
#include <string.h>

#include "iceberg/ice_datum.h"
#include "t.h"

static struct firn_type ty(enum firn_atype id)
{
	struct firn_type t = { 0 };
	t.id = id;
	if (id == FIRN_A_TIMESTAMP || id == FIRN_A_TIME64)
		t.unit_digits = 6;
	return t;
}

static int32_t bucket_hash_via(const struct firn_type *t, const struct firn_datum *d)
{
	/* bucket[2^31-1] leaves the masked hash as is for values below it */
	struct firn_transform tr = { FIRN_TR_BUCKET, 2147483647 };
	struct firn_datum out;
	firn_ice__transform_apply(&tr, t, d, &out);
	return out.v.i32;
}

static int32_t masked(int32_t h)
{
	return (int32_t)(((uint32_t)h & 0x7FFFFFFFu) % 2147483647u);
}

static struct firn_datum parsed(const struct firn_type *t, const char *s, struct firn_arena *a)
{
	struct firn_datum d;
	struct firn_error e = { 0 };
	if (firn_ice__datum_parse(t, s, strlen(s), a, &d, &e) != 0) {
		fprintf(stderr, "parse %s: %s\n", s, e.message);
		memset(&d, 0, sizeof(d));
		d.null = true;
	}
	return d;
}

TEST(bucket_vectors)
{
	struct firn_arena a = { 0 };
	struct firn_type t_int = ty(FIRN_A_INT32), t_long = ty(FIRN_A_INT64), t_date = ty(FIRN_A_DATE32);
	struct firn_type t_time = ty(FIRN_A_TIME64), t_ts = ty(FIRN_A_TIMESTAMP), t_tstz = ty(FIRN_A_TIMESTAMP);
	t_tstz.tz = true;
	struct firn_type t_ns = ty(FIRN_A_TIMESTAMP);
	t_ns.unit_digits = 9;
	struct firn_type t_str = ty(FIRN_A_STRING), t_bin = ty(FIRN_A_BINARY), t_uuid = ty(FIRN_A_FIXED);
	t_uuid.width = 16;
	t_uuid.uuid = true;
	struct firn_type t_fixed = ty(FIRN_A_FIXED);
	t_fixed.width = 4;
	struct firn_type t_dec = ty(FIRN_A_DECIMAL);
	t_dec.precision = 9;
	t_dec.scale = 2;
	struct {
		struct firn_type *t;
		const char *v;
		int32_t h;
	} cases[] = {
		{ &t_int, "34", 2017239379 },
		{ &t_long, "34", 2017239379 },
		{ &t_dec, "14.20", -500754589 },
		{ &t_date, "2017-11-16", -653330422 },
		{ &t_time, "22:31:08", -662762989 },
		{ &t_ts, "2017-11-16T22:31:08", -2047944441 },
		{ &t_ts, "2017-11-16T22:31:08.000001", -1207196810 },
		{ &t_tstz, "2017-11-16T14:31:08-08:00", -2047944441 },
		{ &t_tstz, "2017-11-16T14:31:08.000001-08:00", -1207196810 },
		{ &t_ns, "2017-11-16T22:31:08", -2047944441 },
		{ &t_ns, "2017-11-16T22:31:08.000001001", -1207196810 },
		{ &t_str, "iceberg", 1210000089 },
		{ &t_str, "34", -427558391 },
		{ &t_uuid, "f79c3e09-677c-4bbd-a479-3f349cb785e7", 1488055340 },
		{ &t_fixed, "00010203", -188683207 },
		{ &t_bin, "00010203", -188683207 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct firn_datum d = parsed(cases[i].t, cases[i].v, &a);
		CHECK(!d.null);
		int32_t got = bucket_hash_via(cases[i].t, &d);
		if (got != masked(cases[i].h))
			fprintf(stderr, "case %zu (%s): got %d want %d\n", i, cases[i].v, got, masked(cases[i].h));
		CHECK_EQ_INT(got, masked(cases[i].h));
	}
	struct firn_transform b16 = { FIRN_TR_BUCKET, 16 };
	struct firn_datum d = parsed(&t_long, "34", &a), out;
	firn_ice__transform_apply(&b16, &t_long, &d, &out);
	CHECK_EQ_INT(out.v.i32, 3);
	d = parsed(&t_str, "iceberg", &a);
	firn_ice__transform_apply(&b16, &t_str, &d, &out);
	CHECK_EQ_INT(out.v.i32, 9);
	firn_arena_free(&a);
}

TEST(truncate_rules)
{
	struct firn_arena a = { 0 };
	struct firn_type t_int = ty(FIRN_A_INT32), t_str = ty(FIRN_A_STRING), t_bin = ty(FIRN_A_BINARY);
	struct firn_type t_dec = ty(FIRN_A_DECIMAL);
	t_dec.precision = 9;
	t_dec.scale = 2;
	struct firn_transform t10 = { FIRN_TR_TRUNCATE, 10 }, t50 = { FIRN_TR_TRUNCATE, 50 },
			      t3 = { FIRN_TR_TRUNCATE, 3 };
	struct firn_datum d = parsed(&t_int, "-1", &a), out;
	firn_ice__transform_apply(&t10, &t_int, &d, &out);
	CHECK_EQ_INT(out.v.i32, -10);
	d = parsed(&t_int, "19", &a);
	firn_ice__transform_apply(&t10, &t_int, &d, &out);
	CHECK_EQ_INT(out.v.i32, 10);
	d = parsed(&t_dec, "10.65", &a);
	firn_ice__transform_apply(&t50, &t_dec, &d, &out);
	CHECK(out.v.dec == 1050);
	d = parsed(&t_str, "Żółw€x", &a);
	firn_ice__transform_apply(&t3, &t_str, &d, &out);
	CHECK_EQ_INT(out.v.bin.n, strlen("Żół"));
	d = parsed(&t_bin, "0102030405", &a);
	firn_ice__transform_apply(&t3, &t_bin, &d, &out);
	CHECK_EQ_INT(out.v.bin.n, 3);
	firn_arena_free(&a);
}

TEST(temporal_floors)
{
	struct firn_type t_ts = ty(FIRN_A_TIMESTAMP), t_date = ty(FIRN_A_DATE32);
	struct firn_type t_ns = ty(FIRN_A_TIMESTAMP);
	t_ns.unit_digits = 9;
	struct firn_datum d = { 0 }, out;
	d.v.i64 = -1;
	struct firn_transform y = { FIRN_TR_YEAR, 0 }, m = { FIRN_TR_MONTH, 0 }, dd = { FIRN_TR_DAY, 0 },
			      h = { FIRN_TR_HOUR, 0 };
	firn_ice__transform_apply(&dd, &t_ts, &d, &out);
	CHECK_EQ_INT(out.v.i32, -1);
	firn_ice__transform_apply(&h, &t_ts, &d, &out);
	CHECK_EQ_INT(out.v.i32, -1);
	firn_ice__transform_apply(&m, &t_ts, &d, &out);
	CHECK_EQ_INT(out.v.i32, -1);
	firn_ice__transform_apply(&y, &t_ts, &d, &out);
	CHECK_EQ_INT(out.v.i32, -1);
	firn_ice__transform_apply(&dd, &t_ns, &d, &out);
	CHECK_EQ_INT(out.v.i32, -1);
	d.v.i32 = 17486; /* 2017-11-16 */
	firn_ice__transform_apply(&m, &t_date, &d, &out);
	CHECK_EQ_INT(out.v.i32, 47 * 12 + 10);
	firn_ice__transform_apply(&y, &t_date, &d, &out);
	CHECK_EQ_INT(out.v.i32, 47);
	struct firn_buf b = { 0 };
	struct firn_type r = ty(FIRN_A_INT32);
	out.v.i32 = -1;
	out.null = false;
	firn_ice__transform_to_human(&m, &r, &out, &b);
	firn_buf_cstr(&b);
	CHECK_EQ_STR((const char *)b.data, "1969-12");
	firn_buf_free(&b);
	struct firn_type rt;
	struct firn_error e = { 0 };
	CHECK(firn_ice__transform_result_type(&h, &t_date, &rt, &e) != 0);
	struct firn_transform bk = { FIRN_TR_BUCKET, 4 };
	struct firn_type t_dbl = ty(FIRN_A_DOUBLE);
	CHECK(firn_ice__transform_result_type(&bk, &t_dbl, &rt, &e) != 0);
	CHECK_OK(firn_ice__transform_result_type(&dd, &t_ts, &rt, &t_err));
	CHECK_EQ_INT(rt.id, FIRN_A_DATE32);
}

TEST(single_values)
{
	struct firn_arena a = { 0 };
	struct firn_buf b = { 0 };
	struct firn_type t_dec = ty(FIRN_A_DECIMAL);
	t_dec.precision = 10;
	t_dec.scale = 2;
	struct firn_datum d = parsed(&t_dec, "14.20", &a), back;
	CHECK_OK(firn_ice__datum_to_bytes(&t_dec, &d, &b));
	CHECK_EQ_INT(b.len, 2);
	CHECK(b.data[0] == 0x05 && b.data[1] == 0x8C);
	firn_buf_reset(&b);
	d = parsed(&t_dec, "0", &a);
	firn_ice__datum_to_bytes(&t_dec, &d, &b);
	CHECK(b.len == 1 && b.data[0] == 0);
	firn_buf_reset(&b);
	d = parsed(&t_dec, "-1.28", &a);
	firn_ice__datum_to_bytes(&t_dec, &d, &b);
	CHECK(b.len == 1 && b.data[0] == 0x80);
	CHECK_OK(firn_ice__datum_from_bytes(&t_dec, b.data, b.len, &back, &t_err));
	CHECK(back.v.dec == -128);
	struct firn_error e = { 0 };
	CHECK(firn_ice__datum_parse(&t_dec, "1.234", 5, &a, &d, &e) != 0);
	/* promotions read from older bounds */
	struct firn_type t_long = ty(FIRN_A_INT64), t_dbl = ty(FIRN_A_DOUBLE), t_ts = ty(FIRN_A_TIMESTAMP);
	int32_t four = -7;
	CHECK_OK(firn_ice__datum_from_bytes(&t_long, (const uint8_t *)&four, 4, &back, &t_err));
	CHECK_EQ_INT(back.v.i64, -7);
	float f = 1.5f;
	CHECK_OK(firn_ice__datum_from_bytes(&t_dbl, (const uint8_t *)&f, 4, &back, &t_err));
	CHECK(back.v.f64 == 1.5);
	int32_t days = 1;
	CHECK_OK(firn_ice__datum_from_bytes(&t_ts, (const uint8_t *)&days, 4, &back, &t_err));
	CHECK_EQ_INT(back.v.i64, 86400000000LL);
	CHECK(firn_ice__datum_from_bytes(&t_long, (const uint8_t *)&four, 3, &back, &e) != 0);
	/* float order: -NaN < -Inf < -0 < 0 < NaN */
	struct firn_datum x = { 0 }, y = { 0 };
	x.v.f64 = -0.0;
	y.v.f64 = 0.0;
	CHECK(firn_ice__datum_compare(&t_dbl, &x, &y) < 0);
	x.v.f64 = -INFINITY;
	y.v.f64 = NAN;
	CHECK(firn_ice__datum_compare(&t_dbl, &x, &y) < 0);
	x.v.f64 = -NAN;
	y.v.f64 = -INFINITY;
	CHECK(firn_ice__datum_compare(&t_dbl, &x, &y) < 0);
	/* JSON forms */
	struct firn_type t_tstz = ty(FIRN_A_TIMESTAMP);
	t_tstz.tz = true;
	d = parsed(&t_tstz, "2017-11-16T14:31:08-08:00", &a);
	firn_buf_reset(&b);
	firn_ice__datum_to_json(&t_tstz, &d, &b);
	firn_buf_cstr(&b);
	CHECK_EQ_STR((const char *)b.data, "\"2017-11-16T22:31:08.000000+00:00\"");
	firn_buf_reset(&b);
	d = parsed(&t_dec, "-0.05", &a);
	firn_ice__datum_to_json(&t_dec, &d, &b);
	firn_buf_cstr(&b);
	CHECK_EQ_STR((const char *)b.data, "\"-0.05\"");
	firn_buf_free(&b);
	firn_arena_free(&a);
}

/* Results that would leave their type saturate at its bound (Java wraps
 * around, which sends INT64_MIN to a large positive partition). */
TEST(transform_extremes)
{
	struct firn_type t_int = ty(FIRN_A_INT32), t_long = ty(FIRN_A_INT64), t_ts = ty(FIRN_A_TIMESTAMP);
	struct firn_transform t10 = { FIRN_TR_TRUNCATE, 10 }, tmax = { FIRN_TR_TRUNCATE, 2147483647 },
			      hour = { FIRN_TR_HOUR, 0 }, day = { FIRN_TR_DAY, 0 };
	struct firn_datum d = { 0 }, out;
	d.v.i64 = INT64_MIN;
	firn_ice__transform_apply(&t10, &t_long, &d, &out);
	CHECK(out.v.i64 == INT64_MIN);
	d.v.i64 = INT64_MIN + 7; /* ...801 would truncate to ...810 */
	firn_ice__transform_apply(&t10, &t_long, &d, &out);
	CHECK(out.v.i64 == INT64_MIN);
	d.v.i64 = INT64_MIN + 9; /* ...799 truncates to ...800 */
	firn_ice__transform_apply(&t10, &t_long, &d, &out);
	CHECK(out.v.i64 == INT64_MIN + 8);
	d.v.i64 = INT64_MAX;
	firn_ice__transform_apply(&t10, &t_long, &d, &out);
	CHECK(out.v.i64 == INT64_MAX - 7);
	d.v.i32 = INT32_MIN;
	firn_ice__transform_apply(&t10, &t_int, &d, &out);
	CHECK_EQ_INT(out.v.i32, INT32_MIN);
	firn_ice__transform_apply(&tmax, &t_int, &d, &out);
	CHECK_EQ_INT(out.v.i32, INT32_MIN);
	d.v.i32 = INT32_MAX;
	firn_ice__transform_apply(&tmax, &t_int, &d, &out);
	CHECK_EQ_INT(out.v.i32, INT32_MAX);
	d.v.i64 = INT64_MIN;
	firn_ice__transform_apply(&hour, &t_ts, &d, &out);
	CHECK_EQ_INT(out.v.i32, INT32_MIN);
	firn_ice__transform_apply(&day, &t_ts, &d, &out);
	CHECK_EQ_INT(out.v.i32, -106751992);
	d.v.i64 = INT64_MAX;
	firn_ice__transform_apply(&hour, &t_ts, &d, &out);
	CHECK_EQ_INT(out.v.i32, INT32_MAX);
}

int main(void)
{
	RUN(bucket_vectors);
	RUN(truncate_rules);
	RUN(temporal_floors);
	RUN(single_values);
	RUN(transform_extremes);
	return t_summary();
}
