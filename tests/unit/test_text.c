/* Tests of text forms: schema SPECs, type names, time and float forms, value
 * printing, the CSV / JSON Lines / table writers and the CSV / JSON Lines
 * readers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "firn/text.h"
#include "text/text_internal.h"
#include "t.h"

static char tmpdir[64];

/* Writes text to a file in the test's directory; returns its path. */
static const char *fixture(const char *name, const char *text)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "wb");
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	return p;
}

/* The buffer as a C string (kept in a small ring so CHECK_EQ_STR can take two). */
static const char *cstr(struct firn_buf *b)
{
	firn_buf_cstr(b);
	return (const char *)b->data;
}

static int32_t field_id(const struct ArrowSchema *s) { return firn_schema_field_id(s); }

/* ---- SPEC ---- */

TEST(spec_example)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema("id long not null, name string, ts timestamptz, "
					"price decimal(10,2), tags list<string>, "
					"attrs map<string,string>, "
					"loc struct<lat: double, lon: double not null>", &s, &t_err));
	CHECK_EQ_STR(s.format, "+s");
	CHECK_EQ_INT(s.n_children, 7);
	const char *names[] = { "id", "name", "ts", "price", "tags", "attrs", "loc" };
	const char *fmts[] = { "l", "u", "tsu:UTC", "d:10,2", "+l", "+m", "+s" };
	for (int i = 0; i < 7; i++) {
		CHECK_EQ_STR(s.children[i]->name, names[i]);
		CHECK_EQ_STR(s.children[i]->format, fmts[i]);
		CHECK_EQ_INT(field_id(s.children[i]), i + 1);
		CHECK_EQ_INT(s.children[i]->flags, i == 0 ? 0 : ARROW_FLAG_NULLABLE);
	}
	struct ArrowSchema *tags = s.children[4], *attrs = s.children[5], *loc = s.children[6];
	CHECK_EQ_STR(tags->children[0]->name, "element");
	CHECK_EQ_STR(tags->children[0]->format, "u");
	CHECK_EQ_INT(tags->children[0]->flags, ARROW_FLAG_NULLABLE);
	CHECK_EQ_INT(field_id(tags->children[0]), 8);
	struct ArrowSchema *e = attrs->children[0];
	CHECK_EQ_STR(e->name, "entries");
	CHECK_EQ_STR(e->format, "+s");
	CHECK_EQ_INT(e->flags, 0);
	CHECK_EQ_INT(field_id(e), -1);
	CHECK_EQ_STR(e->children[0]->name, "key");
	CHECK_EQ_INT(e->children[0]->flags, 0);
	CHECK_EQ_STR(e->children[1]->name, "value");
	CHECK_EQ_INT(e->children[1]->flags, ARROW_FLAG_NULLABLE);
	CHECK_EQ_INT(field_id(e->children[0]), 9);
	CHECK_EQ_INT(field_id(e->children[1]), 10);
	CHECK_EQ_INT(field_id(loc->children[0]), 11);
	CHECK_EQ_INT(field_id(loc->children[1]), 12);
	CHECK_EQ_INT(loc->children[1]->flags, 0);
	s.release(&s);
}

/* Java's TypeUtil.assignFreshIds order. */
TEST(spec_nested_ids)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema(
		"a struct<b: list<struct<c: int, d: map<int, string not null>>>, e int>, "
		"f list<int not null>", &s, &t_err));
	struct ArrowSchema *a = s.children[0], *f = s.children[1];
	CHECK_EQ_INT(field_id(a), 1);
	CHECK_EQ_INT(field_id(f), 2);
	struct ArrowSchema *b = a->children[0];
	CHECK_EQ_INT(field_id(b), 3);
	CHECK_EQ_INT(field_id(a->children[1]), 4);
	struct ArrowSchema *el = b->children[0];
	CHECK_EQ_INT(field_id(el), 5);
	CHECK_EQ_INT(field_id(el->children[0]), 6);
	struct ArrowSchema *d = el->children[1];
	CHECK_EQ_INT(field_id(d), 7);
	CHECK_EQ_INT(field_id(d->children[0]->children[0]), 8);
	CHECK_EQ_INT(field_id(d->children[0]->children[1]), 9);
	CHECK_EQ_INT(d->children[0]->children[1]->flags, 0);
	CHECK_EQ_INT(field_id(f->children[0]), 10);
	CHECK_EQ_INT(f->children[0]->flags, 0);
	s.release(&s);
}

TEST(spec_every_type)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema(
		"a boolean, b INT, c Long, d float, e double, f decimal( 9 , 2 ), g date, "
		"h time, i timestamp, j timestamptz, k timestamp_ns, l timestamptz_ns, "
		"m string, n uuid, o fixed[ 16 ], p binary, q struct<>, `r s` int, `t``u`: int, "
		"v decimal(38, 0)", &s, &t_err));
	const char *fmts[] = { "b", "i", "l", "f", "g", "d:9,2", "tdD", "ttu", "tsu:", "tsu:UTC",
			       "tsn:", "tsn:UTC", "u", "w:16", "w:16", "z", "+s", "i", "i",
			       "d:38,0" };
	CHECK_EQ_INT(s.n_children, 20);
	for (int i = 0; i < 20 && i < s.n_children; i++)
		CHECK_EQ_STR(s.children[i]->format, fmts[i]);
	CHECK_EQ_STR(s.children[17]->name, "r s");
	CHECK_EQ_STR(s.children[18]->name, "t`u");
	int32_t len;
	const char *ext = firn_metadata_get(s.children[13]->metadata, "ARROW:extension:name", &len);
	CHECK(ext != NULL && len == 10 && memcmp(ext, "arrow.uuid", 10) == 0);
	CHECK(firn_metadata_get(s.children[14]->metadata, "ARROW:extension:name", &len) == NULL);
	struct firn_type t;
	CHECK_OK(firn_type_of(s.children[13], &t, &t_err));
	CHECK(t.uuid);
	s.release(&s);
}

static void spec_error(const char *spec, const char *msg)
{
	struct ArrowSchema s;
	struct firn_error e;
	int rc = firn_spec_parse_schema(spec, &s, &e);
	CHECK_EQ_INT(rc, FIRN_EINVAL);
	if (rc == FIRN_EINVAL)
		CHECK_EQ_STR(e.message, msg);
	else if (rc == 0)
		s.release(&s);
	CHECK(s.release == NULL);
}

TEST(spec_errors)
{
	spec_error("id long, name strng", "schema: at 15: unknown type 'strng'");
	spec_error("", "schema: empty");
	spec_error("   ", "schema: empty");
	spec_error("id", "schema: at 3: expected a type, found end of input");
	spec_error("id long,", "schema: at 9: expected a field name, found end of input");
	spec_error("d decimal(39,2)", "schema: at 11: decimal precision 39 is out of range (1..38)");
	spec_error("d decimal(10)", "schema: at 13: expected ',', found ')'");
	spec_error("d fixed[0]", "schema: at 9: fixed length 0 is out of range (1..2147483647)");
	spec_error("a list<int", "schema: at 11: expected '>', found end of input");
	spec_error("a int, a long", "schema: at 8: duplicate field name 'a'");
	spec_error("a int not nul", "schema: at 11: expected 'null' after 'not', found 'nul'");
	spec_error("a map<int>", "schema: at 10: expected ',', found '>'");
	spec_error("a int b long", "schema: at 7: expected ',' or the end, found 'b'");
	spec_error("a struct<b int, c: >", "schema: at 20: expected a type, found '>'");
	spec_error("a struct<b: int; c: int>", "schema: at 16: expected ',' or '>', found ';'");
	spec_error("`a int", "schema: at 1: unterminated `name`");
	char deep[1024] = "a ";
	for (int i = 0; i < 100; i++)
		strcat(deep, "list<");
	strcat(deep, "int");
	for (int i = 0; i < 100; i++)
		strcat(deep, ">");
	spec_error(deep, "schema: at 323: types nested too deeply");
}

/* ---- type names and schema text ---- */

static const char *name_of(const char *format, const char *ext)
{
	static struct firn_buf b;
	struct ArrowSchema s;
	firn_buf_reset(&b);
	firn_schema_init(&s, format, "x", ARROW_FLAG_NULLABLE, 0);
	if (ext)
		firn_schema_add_metadata(&s, "ARROW:extension:name", ext);
	int rc = firn_type_name(&b, &s);
	s.release(&s);
	if (rc != 0)
		return rc == FIRN_EUNSUPPORTED ? "(unsupported)" : "(error)";
	return cstr(&b);
}

TEST(type_names)
{
	CHECK_EQ_STR(name_of("b", NULL), "boolean");
	CHECK_EQ_STR(name_of("i", NULL), "int");
	CHECK_EQ_STR(name_of("l", NULL), "long");
	CHECK_EQ_STR(name_of("f", NULL), "float");
	CHECK_EQ_STR(name_of("g", NULL), "double");
	CHECK_EQ_STR(name_of("d:10,2", NULL), "decimal(10,2)");
	CHECK_EQ_STR(name_of("tdD", NULL), "date");
	CHECK_EQ_STR(name_of("ttu", NULL), "time");
	CHECK_EQ_STR(name_of("tsu:", NULL), "timestamp");
	CHECK_EQ_STR(name_of("tsu:UTC", NULL), "timestamptz");
	CHECK_EQ_STR(name_of("tsn:", NULL), "timestamp_ns");
	CHECK_EQ_STR(name_of("tsn:UTC", NULL), "timestamptz_ns");
	CHECK_EQ_STR(name_of("tss:", NULL), "timestamp");
	CHECK_EQ_STR(name_of("tsm:Europe/Paris", NULL), "timestamptz");
	CHECK_EQ_STR(name_of("u", NULL), "string");
	CHECK_EQ_STR(name_of("z", NULL), "binary");
	CHECK_EQ_STR(name_of("w:4", NULL), "fixed[4]");
	CHECK_EQ_STR(name_of("w:16", "arrow.uuid"), "uuid");
	CHECK_EQ_STR(name_of("w:16", NULL), "fixed[16]");
	CHECK_EQ_STR(name_of("n", NULL), "unknown");
	CHECK_EQ_STR(name_of("+s", NULL), "struct");
	CHECK_EQ_STR(name_of("xyz", NULL), "(unsupported)");
}

TEST(schema_text)
{
	struct ArrowSchema s;
	struct firn_buf b = FIRN_BUF_INIT;
	CHECK_OK(firn_spec_parse_schema("id long not null, name string, ts timestamptz, "
					"price decimal(10,2), tags list<string not null>, "
					"attrs map<string,string>, "
					"loc struct<lat: double, lon: double not null, "
					"m map<int, list<int>>>", &s, &t_err));
	CHECK_OK(firn_schema_format(&b, &s));
	CHECK_EQ_STR(cstr(&b),
		     "id: long not null (id 1)\n"
		     "name: string (id 2)\n"
		     "ts: timestamptz (id 3)\n"
		     "price: decimal(10,2) (id 4)\n"
		     "tags: list (id 5)\n"
		     "  element: string not null (id 8)\n"
		     "attrs: map (id 6)\n"
		     "  key: string not null (id 9)\n"
		     "  value: string (id 10)\n"
		     "loc: struct (id 7)\n"
		     "  lat: double (id 11)\n"
		     "  lon: double not null (id 12)\n"
		     "  m: map (id 13)\n"
		     "    key: int not null (id 14)\n"
		     "    value: list (id 15)\n"
		     "      element: int (id 16)\n");
	s.release(&s);
	/* no ids, not a struct */
	firn_buf_reset(&b);
	CHECK_OK(firn_schema_init(&s, "l", "n", 0, 0));
	CHECK_OK(firn_schema_format(&b, &s));
	CHECK_EQ_STR(cstr(&b), "n: long not null\n");
	s.release(&s);
	firn_buf_free(&b);
}

/* ---- time forms ---- */

static const char *fmt_date(int32_t d)
{
	static char buf[32];
	int n = firn_date_format(d, buf, sizeof(buf));
	return n < 0 ? "(error)" : buf;
}

static const char *fmt_ts(int64_t v, int digits, bool tz)
{
	static char buf[64];
	int n = firn_timestamp_format(v, digits, tz, buf, sizeof(buf));
	return n < 0 ? "(error)" : buf;
}

static const char *fmt_time(int64_t v)
{
	static char buf[32];
	int n = firn_time_format(v, buf, sizeof(buf));
	return n < 0 ? "(error)" : buf;
}

TEST(dates)
{
	CHECK_EQ_STR(fmt_date(0), "1970-01-01");
	CHECK_EQ_STR(fmt_date(-1), "1969-12-31");
	CHECK_EQ_STR(fmt_date(17486), "2017-11-16");
	CHECK_EQ_INT(firn_days_from_civil(1, 1, 1), -719162);
	CHECK_EQ_STR(fmt_date(-719162), "0001-01-01");
	CHECK_EQ_INT(firn_days_from_civil(9999, 12, 31), 2932896);
	CHECK_EQ_STR(fmt_date(2932896), "9999-12-31");
	CHECK_EQ_STR(fmt_date(2932897), "+10000-01-01");
	CHECK_EQ_STR(fmt_date(-719163), "0000-12-31");
	CHECK_EQ_STR(fmt_date(-719528), "0000-01-01");
	CHECK_EQ_STR(fmt_date(-719529), "-0001-12-31");
	CHECK_EQ_STR(fmt_date(INT32_MAX), "+5881580-07-11");
	CHECK_EQ_STR(fmt_date(INT32_MIN), "-5877641-06-23");
	int32_t d;
	CHECK_OK(firn_date_parse("+5881580-07-11", 14, &d));
	CHECK_EQ_INT(d, INT32_MAX);
	CHECK_OK(firn_date_parse("-5877641-06-23", 14, &d));
	CHECK_EQ_INT(d, INT32_MIN);
	CHECK_EQ_INT(firn_date_parse("+5881580-07-12", 14, &d), FIRN_EINVAL);
	CHECK_OK(firn_date_parse("2000-02-29", 10, &d));
	CHECK_EQ_STR(fmt_date(d), "2000-02-29");
	CHECK_OK(firn_date_parse("2024-02-29", 10, &d));
	CHECK_EQ_INT(firn_date_parse("1900-02-29", 10, &d), FIRN_EINVAL);
	CHECK_EQ_INT(firn_date_parse("2023-02-29", 10, &d), FIRN_EINVAL);
	CHECK_EQ_INT(firn_date_parse("2023-13-01", 10, &d), FIRN_EINVAL);
	CHECK_EQ_INT(firn_date_parse("2023-04-31", 10, &d), FIRN_EINVAL);
	CHECK_EQ_INT(firn_date_parse("2023-4-30", 9, &d), FIRN_EINVAL);
	CHECK_EQ_INT(firn_date_parse("12023-04-30", 11, &d), FIRN_EINVAL);
	CHECK_EQ_INT(firn_date_parse("2023-04-30x", 11, &d), FIRN_EINVAL);
	CHECK_EQ_INT(firn_date_parse("", 0, &d), FIRN_EINVAL);
	CHECK_OK(firn_date_parse("0001-01-01", 10, &d));
	CHECK_EQ_INT(d, -719162);
	/* every day for 800 years around the epoch round-trips */
	for (int32_t x = -200000; x < 100000; x += 7) {
		char buf[32];
		int n = firn_date_format(x, buf, sizeof(buf));
		int32_t back;
		if (n < 0 || firn_date_parse(buf, (size_t)n, &back) != 0 || back != x) {
			CHECK(!"date round trip");
			break;
		}
		int64_t y;
		unsigned m, dd;
		firn_civil_from_days(x, &y, &m, &dd);
		if (firn_days_from_civil(y, m, dd) != x) {
			CHECK(!"civil round trip");
			break;
		}
	}
	char small[5];
	CHECK(firn_date_format(0, small, sizeof(small)) < 0);
}

TEST(times)
{
	int64_t v;
	CHECK_EQ_STR(fmt_time(0), "00:00:00.000000");
	CHECK_EQ_STR(fmt_time(86399999999LL), "23:59:59.999999");
	CHECK_EQ_STR(fmt_time(81068123456LL), "22:31:08.123456");
	CHECK_EQ_STR(fmt_time(-1), "(error)");
	CHECK_EQ_STR(fmt_time(86400000000LL), "(error)");
	CHECK_OK(firn_time_parse("22:31:08.123456", 15, &v));
	CHECK_EQ_INT(v, 81068123456LL);
	CHECK_OK(firn_time_parse("22:31:08", 8, &v));
	CHECK_EQ_INT(v, 81068000000LL);
	CHECK_OK(firn_time_parse("22:31", 5, &v));
	CHECK_EQ_INT(v, 81060000000LL);
	CHECK_OK(firn_time_parse("22:31:08.1", 10, &v));
	CHECK_EQ_INT(v, 81068100000LL);
	CHECK_OK(firn_time_parse("22:31:08.123456789", 18, &v));
	CHECK_EQ_INT(v, 81068123456LL);
	CHECK_EQ_INT(firn_time_parse("22:31:08.", 9, &v), FIRN_EINVAL);
	CHECK_EQ_INT(firn_time_parse("22:31:08.1234567890", 19, &v), FIRN_EINVAL);
	CHECK_EQ_INT(firn_time_parse("24:00:00", 8, &v), FIRN_EINVAL);
	CHECK_EQ_INT(firn_time_parse("23:60:00", 8, &v), FIRN_EINVAL);
	CHECK_EQ_INT(firn_time_parse("2:31:00", 7, &v), FIRN_EINVAL);
}

TEST(timestamps)
{
	int64_t v;
	CHECK_EQ_STR(fmt_ts(0, 6, false), "1970-01-01T00:00:00.000000");
	CHECK_EQ_STR(fmt_ts(-1, 6, false), "1969-12-31T23:59:59.999999");
	CHECK_EQ_STR(fmt_ts(-1, 9, true), "1969-12-31T23:59:59.999999999+00:00");
	CHECK_EQ_STR(fmt_ts(1510871468123456LL, 6, false), "2017-11-16T22:31:08.123456");
	CHECK_EQ_STR(fmt_ts(1510871468123456LL, 6, true), "2017-11-16T22:31:08.123456+00:00");
	CHECK_EQ_STR(fmt_ts(1510871468123456789LL, 9, false), "2017-11-16T22:31:08.123456789");
	CHECK_EQ_STR(fmt_ts(INT64_MAX, 6, false), "+294247-01-10T04:00:54.775807");
	CHECK_EQ_STR(fmt_ts(INT64_MIN, 6, false), "-290308-12-21T19:59:05.224192");
	CHECK_EQ_STR(fmt_ts(INT64_MAX, 9, false), "2262-04-11T23:47:16.854775807");
	CHECK_EQ_STR(fmt_ts(INT64_MIN, 9, true), "1677-09-21T00:12:43.145224192+00:00");
	CHECK_EQ_STR(fmt_ts(-62135596800000000LL, 6, false), "0001-01-01T00:00:00.000000");
	CHECK_EQ_STR(fmt_ts(253402300799999999LL, 6, false), "9999-12-31T23:59:59.999999");
	CHECK_EQ_STR(fmt_ts(1, 0, false), "1970-01-01T00:00:01");
	/* parse: both extremes round trip */
	const char *ext[] = { "+294247-01-10T04:00:54.775807", "-290308-12-21T19:59:05.224192" };
	CHECK_OK(firn_timestamp_parse(ext[0], strlen(ext[0]), 6, &v));
	CHECK_EQ_INT(v, INT64_MAX);
	CHECK_OK(firn_timestamp_parse(ext[1], strlen(ext[1]), 6, &v));
	CHECK(v == INT64_MIN);
	CHECK_EQ_INT(firn_timestamp_parse("+294247-01-10T04:00:54.775808", 29, 6, &v), FIRN_EINVAL);
	CHECK_EQ_INT(firn_timestamp_parse("2262-04-11T23:47:16.854775808", 29, 9, &v), FIRN_EINVAL);
	CHECK_OK(firn_timestamp_parse("2262-04-11T23:47:16.854775807", 29, 9, &v));
	CHECK_EQ_INT(v, INT64_MAX);
	CHECK_EQ_INT(firn_timestamp_parse("+999999999-01-01", 16, 6, &v), FIRN_EINVAL);
	/* separators, fractions, offsets */
	struct { const char *s; int digits; int64_t want; } ok[] = {
		{ "2017-11-16T22:31:08.123456", 6, 1510871468123456LL },
		{ "2017-11-16 22:31:08.123456", 6, 1510871468123456LL },
		{ "2017-11-16T22:31:08.123456Z", 6, 1510871468123456LL },
		{ "2017-11-16T22:31:08.123456+00:00", 6, 1510871468123456LL },
		{ "2017-11-16T23:31:08.123456+01:00", 6, 1510871468123456LL },
		{ "2017-11-16T14:31:08.123456-08:00", 6, 1510871468123456LL },
		{ "2017-11-17T04:01:08.123456+0530", 6, 1510871468123456LL },
		{ "2017-11-16T22:31:08.123456789", 6, 1510871468123456LL },
		{ "2017-11-16T22:31:08.123456789", 9, 1510871468123456789LL },
		{ "2017-11-16T22:31:08.1", 9, 1510871468100000000LL },
		{ "2017-11-16T22:31:08", 6, 1510871468000000LL },
		{ "2017-11-16T22:31", 6, 1510871460000000LL },
		{ "2017-11-16", 6, 1510790400000000LL },
		{ "1969-12-31T23:59:59.999999", 6, -1 },
		{ "1970-01-01T00:00:00+01:00", 6, -3600000000LL },
		{ "2000-02-29T12:00:00", 0, 951825600 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = firn_timestamp_parse(ok[i].s, strlen(ok[i].s), ok[i].digits, &v);
		if (rc != 0 || v != ok[i].want) {
			fprintf(stderr, "timestamp '%s': rc %d value %lld\n", ok[i].s, rc, (long long)v);
			CHECK(!"timestamp parse");
		}
	}
	const char *bad[] = { "2017-11-16T", "2017-11-16X22:31:08", "2017-11-16T22:31:08+1",
			      "2017-11-16T22:31:08+01:", "2017-11-16T22:31:08 +01:00",
			      "2017-11-16T25:00:00", "2017-02-29T00:00:00", "2017-11-16T22:31:08.Z",
			      "2017-11-16T22:31:08+19:00", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (firn_timestamp_parse(bad[i], strlen(bad[i]), 6, &v) != FIRN_EINVAL) {
			fprintf(stderr, "timestamp '%s' accepted\n", bad[i]);
			CHECK(!"bad timestamp accepted");
		}
	/* random values round trip, micros and nanos */
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int digits = i % 2 ? 9 : 6;
		int64_t val = (int64_t)x;
		char buf[64];
		int n = firn_timestamp_format(val, digits, i % 3 == 0, buf, sizeof(buf));
		int64_t back;
		if (n < 0 || firn_timestamp_parse(buf, (size_t)n, digits, &back) != 0 || back != val) {
			fprintf(stderr, "round trip of %lld: '%s'\n", (long long)val, buf);
			CHECK(!"timestamp round trip");
			break;
		}
	}
}

/* ---- floats ---- */

static const char *fmt_d(double v)
{
	static char buf[40];
	return firn_double_format(v, buf, sizeof(buf)) < 0 ? "(error)" : buf;
}

static const char *fmt_f(float v)
{
	static char buf[40];
	return firn_float_format(v, buf, sizeof(buf)) < 0 ? "(error)" : buf;
}

/* The definition: the digits of the first %.{1..17}g that reads back. */
static void shortest_ref(double v, char *out)
{
	for (int p = 1; p <= 17; p++) {
		snprintf(out, 40, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* Significant digits of a %g text ("0.00120" -> "12", "1.5e+07" -> "15"). */
static void sig_digits(const char *s, char *out)
{
	int n = 0;
	bool lead = true;
	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9' || (lead && *s == '0'))
			continue;
		lead = false;
		out[n++] = *s;
	}
	while (n > 0 && out[n - 1] == '0')
		n--;
	out[n] = '\0';
}

TEST(doubles)
{
	CHECK_EQ_STR(fmt_d(0.1), "0.1");
	CHECK_EQ_STR(fmt_d(1), "1.0");
	CHECK_EQ_STR(fmt_d(0.5), "0.5");
	CHECK_EQ_STR(fmt_d(1e300), "1e+300");
	CHECK_EQ_STR(fmt_d(-0.0), "-0.0");
	CHECK_EQ_STR(fmt_d(0.1 + 0.2), "0.30000000000000004");
	CHECK_EQ_STR(fmt_d(123456789012345678.0), "1.2345678901234568e+17");
	CHECK_EQ_STR(fmt_d(5e-324), "5e-324");
	CHECK_EQ_STR(fmt_d(NAN), "NaN");
	CHECK_EQ_STR(fmt_d(INFINITY), "Infinity");
	CHECK_EQ_STR(fmt_d(-INFINITY), "-Infinity");
	CHECK_EQ_STR(fmt_d(100), "100.0");
	CHECK_EQ_STR(fmt_d(1e15), "1e+15");
	CHECK_EQ_STR(fmt_d(123456789012345.0), "123456789012345.0");
	CHECK_EQ_STR(fmt_d(0.0001), "0.0001");
	CHECK_EQ_STR(fmt_d(0.00001), "1e-05");
	CHECK_EQ_STR(fmt_f(928190.0f), "928190.0");
	CHECK_EQ_STR(fmt_f(0.1f), "0.1");
	CHECK_EQ_STR(fmt_f(16777217.0f), "16777216.0");
	CHECK_EQ_STR(fmt_f(3.4028235e38f), "3.4028235e+38");
	CHECK_EQ_STR(fmt_f(1e-45f), "1e-45");
	CHECK_EQ_STR(fmt_f(-INFINITY), "-Infinity");
	char tiny[3];
	CHECK(firn_double_format(0.25, tiny, sizeof(tiny)) < 0);
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		uint64_t bits = x;
		if (i % 4 == 1) /* short decimals too */
			v = (double)(int64_t)(x % 2000001 - 1000000) / 1000.0;
		else
			memcpy(&v, &bits, 8);
		if (!isfinite(v))
			continue;
		char ref[40], got[40], dr[40], dg[40];
		shortest_ref(v, ref);
		firn_double_format(v, got, sizeof(got));
		sig_digits(ref, dr);
		sig_digits(got, dg);
		if (strcmp(dr, dg) != 0 || strtod(got, NULL) != v) {
			fprintf(stderr, "double %a: '%s', expected '%s'\n", v, got, ref);
			CHECK(!"double shortest");
			break;
		}
		float fv;
		uint32_t fb = (uint32_t)(x >> 32);
		memcpy(&fv, &fb, 4);
		if (!isfinite(fv))
			continue;
		firn_float_format(fv, got, sizeof(got));
		char fref[40];
		for (int p = 1; p <= 9; p++) {
			snprintf(fref, 40, "%.*g", p, (double)fv);
			if (strtof(fref, NULL) == fv)
				break;
		}
		sig_digits(fref, dr);
		sig_digits(got, dg);
		if (strcmp(dr, dg) != 0 || strtof(got, NULL) != fv) {
			fprintf(stderr, "float %a: '%s', expected '%s'\n", (double)fv, got, fref);
			CHECK(!"float shortest");
			break;
		}
	}
}

/* The reader's number parsing (a fast path for short decimals) agrees with
 * strtod everywhere. */
TEST(double_parse)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema("d double", &s, &t_err));
	struct firn_text__field f;
	CHECK_OK(firn_text__field_init(&f, s.children[0], NULL, &t_err));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, s.children[0], &t_err));
	uint64_t x = 0x2545F4914F6CDD1DULL;
	char text[64];
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (i % 4) {
		case 0:
			snprintf(text, sizeof(text), "%lld.%0*llu", (long long)(x % 100000) - 50000,
				 (int)(x >> 60) % 12 + 1, (unsigned long long)(x >> 20) % 1000000000000ULL);
			break;
		case 1:
			snprintf(text, sizeof(text), "%llue%d", (unsigned long long)(x >> 14),
				 (int)(x % 60) - 30);
			break;
		default: {
			double v;
			memcpy(&v, &x, 8);
			if (!isfinite(v))
				v = 1.5;
			snprintf(text, sizeof(text), i % 4 == 2 ? "%.17g" : "%.15g", v);
		}
		}
		if (firn_text__append_scalar(&b, &f, text, strlen(text), &t_err) != 0) {
			CHECK(!"double parse failed");
			break;
		}
		double got;
		memcpy(&got, b.values.data + 8 * (b.length - 1), 8);
		double want = strtod(text, NULL);
		if (memcmp(&got, &want, 8) != 0) {
			fprintf(stderr, "'%s': %a, strtod %a\n", text, got, want);
			CHECK(!"double parse");
			break;
		}
	}
	firn_builder_free(&b);
	firn_text__field_free(&f);
	s.release(&s);
}

/* ---- value printing ---- */

/* Row i of column c of a struct batch. */
static const char *json_at(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t c,
			   int64_t i)
{
	static struct firn_buf b[4];
	static int next;
	struct firn_buf *o = &b[next++ % 4];
	firn_buf_reset(o);
	int rc = firn_value_format_json(o, s->children[c], a->children[c], i);
	if (rc != 0)
		return "(error)";
	return cstr(o);
}

static const char *text_at(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t c,
			   int64_t i)
{
	static struct firn_buf b[4];
	static int next;
	struct firn_buf *o = &b[next++ % 4];
	firn_buf_reset(o);
	int rc = firn_value_format_text(o, s->children[c], a->children[c], i);
	if (rc != 0)
		return "(error)";
	return cstr(o);
}

static void dec128(uint8_t out[16], __int128 v)
{
	memcpy(out, &v, 16);
}

TEST(value_scalars)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema(
		"b boolean, i int, l long, f float, d double, dec decimal(38,2), dt date, t time, "
		"ts timestamp, tz timestamptz, ns timestamp_ns, s string, u uuid, fx fixed[3], "
		"bin binary", &s, &t_err));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	struct firn_builder *c = b.children;
	/* row 0: values; row 1: nulls; row 2: other values */
	for (int row = 0; row < 3; row++) {
		firn_builder_append_struct(&b);
		if (row == 1) {
			for (int k = 0; k < 15; k++)
				firn_builder_append_null(&c[k]);
			continue;
		}
		bool r0 = row == 0;
		uint8_t d[16];
		firn_builder_append_bool(&c[0], r0);
		firn_builder_append_i32(&c[1], r0 ? INT32_MIN : 42);
		firn_builder_append_i64(&c[2], r0 ? INT64_MIN : INT64_MAX);
		firn_builder_append_f32(&c[3], r0 ? 0.1f : NAN);
		firn_builder_append_f64(&c[4], r0 ? -INFINITY : 2.5);
		dec128(d, r0 ? -5 : 12340);
		firn_builder_append_fixed(&c[5], d);
		firn_builder_append_i32(&c[6], r0 ? -1 : 17486);
		firn_builder_append_i64(&c[7], r0 ? 0 : 81068123456LL);
		firn_builder_append_i64(&c[8], r0 ? -1 : 1510871468123456LL);
		firn_builder_append_i64(&c[9], r0 ? 0 : 1510871468123456LL);
		firn_builder_append_i64(&c[10], r0 ? 1 : -1);
		firn_builder_append_bytes(&c[11], r0 ? "a\"b\\c\n\x01 é" : "", r0 ? 10 : 0);
		uint8_t u[16] = { 0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56,
				  0x42, 0x66, 0x14, 0x17, 0x40, 0x00 };
		firn_builder_append_fixed(&c[12], u);
		firn_builder_append_fixed(&c[13], r0 ? "\x00\xff\x10" : "abc");
		firn_builder_append_bytes(&c[14], "\xde\xad", r0 ? 2 : 0);
	}
	struct ArrowArray a;
	CHECK_OK(firn_builder_finish(&b, &a, &t_err));
	const char *want0[] = { "true", "-2147483648", "-9223372036854775808", "0.1", "\"-Infinity\"",
				"\"-0.05\"", "\"1969-12-31\"", "\"00:00:00.000000\"",
				"\"1969-12-31T23:59:59.999999\"", "\"1970-01-01T00:00:00.000000+00:00\"",
				"\"1970-01-01T00:00:00.000000001\"", "\"a\\\"b\\\\c\\n\\u0001 é\"",
				"\"123e4567-e89b-12d3-a456-426614174000\"", "\"00ff10\"", "\"dead\"" };
	const char *want2[] = { "false", "42", "9223372036854775807", "\"NaN\"", "2.5", "\"123.40\"",
				"\"2017-11-16\"", "\"22:31:08.123456\"", "\"2017-11-16T22:31:08.123456\"",
				"\"2017-11-16T22:31:08.123456+00:00\"",
				"\"1969-12-31T23:59:59.999999999\"", "\"\"",
				"\"123e4567-e89b-12d3-a456-426614174000\"", "\"616263\"", "\"\"" };
	for (int k = 0; k < 15; k++) {
		CHECK_EQ_STR(json_at(&s, &a, k, 0), want0[k]);
		CHECK_EQ_STR(json_at(&s, &a, k, 1), "null");
		CHECK_EQ_STR(text_at(&s, &a, k, 1), "");
		CHECK_EQ_STR(json_at(&s, &a, k, 2), want2[k]);
	}
	CHECK_EQ_STR(text_at(&s, &a, 3, 2), "NaN");
	CHECK_EQ_STR(text_at(&s, &a, 5, 0), "-0.05");
	CHECK_EQ_STR(text_at(&s, &a, 9, 2), "2017-11-16T22:31:08.123456+00:00");
	CHECK_EQ_STR(text_at(&s, &a, 11, 0), "a\"b\\c\n\x01 é");
	CHECK_EQ_STR(text_at(&s, &a, 12, 0), "123e4567-e89b-12d3-a456-426614174000");
	CHECK_EQ_STR(text_at(&s, &a, 14, 0), "dead");
	/* out of range row */
	struct firn_buf o = FIRN_BUF_INIT;
	CHECK_EQ_INT(firn_value_format_json(&o, s.children[0], a.children[0], 3), FIRN_EINVAL);
	/* the batch's offset: row 0 of a slice starting at 2 is row 2 */
	a.children[1]->offset = 2;
	a.children[1]->length = 1;
	CHECK_EQ_STR(json_at(&s, &a, 1, 0), "42");
	a.children[1]->offset = 0;
	a.children[1]->length = 3;
	firn_buf_free(&o);
	a.release(&a);
	firn_builder_free(&b);
	s.release(&s);
}

TEST(value_decimals)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema("a decimal(38,0), b decimal(38,38), c decimal(10,2), "
					"d decimal(5,5)", &s, &t_err));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	__int128 max38 = 0;
	for (int i = 0; i < 38; i++)
		max38 = max38 * 10 + 9;
	__int128 rows[][4] = {
		{ max38, max38, 0, 0 },
		{ -max38, -max38, -1, -1 },
		{ 0, 1, 100, 12345 },
		{ -((__int128)1 << 126), 5, -12345, -10000 },
	};
	for (int r = 0; r < 4; r++) {
		firn_builder_append_struct(&b);
		for (int k = 0; k < 4; k++) {
			uint8_t d[16];
			dec128(d, rows[r][k]);
			firn_builder_append_fixed(&b.children[k], d);
		}
	}
	struct ArrowArray a;
	CHECK_OK(firn_builder_finish(&b, &a, &t_err));
	CHECK_EQ_STR(text_at(&s, &a, 0, 0), "99999999999999999999999999999999999999");
	CHECK_EQ_STR(text_at(&s, &a, 1, 0), "0.99999999999999999999999999999999999999");
	CHECK_EQ_STR(text_at(&s, &a, 2, 0), "0.00");
	CHECK_EQ_STR(text_at(&s, &a, 3, 0), "0.00000");
	CHECK_EQ_STR(text_at(&s, &a, 0, 1), "-99999999999999999999999999999999999999");
	CHECK_EQ_STR(text_at(&s, &a, 1, 1), "-0.99999999999999999999999999999999999999");
	CHECK_EQ_STR(text_at(&s, &a, 2, 1), "-0.01");
	CHECK_EQ_STR(text_at(&s, &a, 3, 1), "-0.00001");
	CHECK_EQ_STR(text_at(&s, &a, 0, 2), "0");
	CHECK_EQ_STR(text_at(&s, &a, 1, 2), "0.00000000000000000000000000000000000001");
	CHECK_EQ_STR(text_at(&s, &a, 2, 2), "1.00");
	CHECK_EQ_STR(text_at(&s, &a, 3, 2), "0.12345");
	CHECK_EQ_STR(text_at(&s, &a, 0, 3), "-85070591730234615865843651857942052864");
	CHECK_EQ_STR(text_at(&s, &a, 2, 3), "-123.45");
	CHECK_EQ_STR(json_at(&s, &a, 3, 3), "\"-0.10000\"");
	a.release(&a);
	firn_builder_free(&b);
	s.release(&s);
	/* the most negative 128-bit value, and a negative scale */
	struct ArrowSchema n;
	CHECK_OK(firn_schema_init(&n, "+s", "", 0, 1));
	CHECK_OK(firn_schema_init(n.children[0], "d:38,-3", "x", ARROW_FLAG_NULLABLE, 0));
	CHECK_OK(firn_builder_init(&b, &n, &t_err));
	uint8_t d[16];
	dec128(d, (__int128)((unsigned __int128)1 << 127));
	firn_builder_append_struct(&b);
	firn_builder_append_fixed(&b.children[0], d);
	firn_builder_append_struct(&b);
	dec128(d, 2);
	firn_builder_append_fixed(&b.children[0], d);
	CHECK_OK(firn_builder_finish(&b, &a, &t_err));
	CHECK_EQ_STR(text_at(&n, &a, 0, 0), "-170141183460469231731687303715884105728E+3");
	CHECK_EQ_STR(text_at(&n, &a, 0, 1), "2E+3");
	a.release(&a);
	firn_builder_free(&b);
	n.release(&n);
}

TEST(value_nested)
{
	struct ArrowSchema s;
	CHECK_OK(firn_spec_parse_schema(
		"st struct<a: int, b: list<string>>, li list<struct<x: int>>, "
		"m map<string, int>, mi map<int, list<int>>", &s, &t_err));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	struct firn_builder *st = &b.children[0], *li = &b.children[1], *m = &b.children[2],
			    *mi = &b.children[3];
	/* row 0: full values with nulls inside */
	firn_builder_append_struct(&b);
	firn_builder_append_struct(st);
	firn_builder_append_null(&st->children[0]);
	firn_builder_append_bytes(&st->children[1].children[0], "x", 1);
	firn_builder_append_null(&st->children[1].children[0]);
	firn_builder_append_list_end(&st->children[1]);
	firn_builder_append_struct(&li->children[0]);
	firn_builder_append_i32(&li->children[0].children[0], 7);
	firn_builder_append_null(&li->children[0]);
	firn_builder_append_list_end(li);
	struct firn_builder *e = &m->children[0];
	firn_builder_append_struct(e);
	firn_builder_append_bytes(&e->children[0], "k\"1", 3);
	firn_builder_append_i32(&e->children[1], 1);
	firn_builder_append_struct(e);
	firn_builder_append_bytes(&e->children[0], "k2", 2);
	firn_builder_append_null(&e->children[1]);
	firn_builder_append_list_end(m);
	e = &mi->children[0];
	firn_builder_append_struct(e);
	firn_builder_append_i32(&e->children[0], 5);
	firn_builder_append_i32(&e->children[1].children[0], 1);
	firn_builder_append_i32(&e->children[1].children[0], 2);
	firn_builder_append_list_end(&e->children[1]);
	firn_builder_append_list_end(mi);
	/* row 1: nulls at the top */
	firn_builder_append_struct(&b);
	for (int k = 0; k < 4; k++)
		firn_builder_append_null(&b.children[k]);
	/* row 2: empty containers */
	firn_builder_append_struct(&b);
	firn_builder_append_struct(st);
	firn_builder_append_i32(&st->children[0], 3);
	firn_builder_append_list_end(&st->children[1]);
	firn_builder_append_list_end(li);
	firn_builder_append_list_end(m);
	firn_builder_append_list_end(mi);
	struct ArrowArray a;
	CHECK_OK(firn_builder_finish(&b, &a, &t_err));
	CHECK_EQ_STR(json_at(&s, &a, 0, 0), "{\"a\":null,\"b\":[\"x\",null]}");
	CHECK_EQ_STR(json_at(&s, &a, 1, 0), "[{\"x\":7},null]");
	CHECK_EQ_STR(json_at(&s, &a, 2, 0), "{\"k\\\"1\":1,\"k2\":null}");
	CHECK_EQ_STR(json_at(&s, &a, 3, 0), "[{\"key\":5,\"value\":[1,2]}]");
	CHECK_EQ_STR(text_at(&s, &a, 3, 0), "[{\"key\":5,\"value\":[1,2]}]");
	for (int k = 0; k < 4; k++) {
		CHECK_EQ_STR(json_at(&s, &a, k, 1), "null");
		CHECK_EQ_STR(text_at(&s, &a, k, 1), "");
	}
	CHECK_EQ_STR(json_at(&s, &a, 0, 2), "{\"a\":3,\"b\":[]}");
	CHECK_EQ_STR(json_at(&s, &a, 1, 2), "[]");
	CHECK_EQ_STR(json_at(&s, &a, 2, 2), "{}");
	CHECK_EQ_STR(json_at(&s, &a, 3, 2), "[]");
	/* offsets on a struct apply to its children; on a list to its offsets */
	a.children[0]->offset = 2;
	a.children[1]->offset = 1;
	CHECK_EQ_STR(json_at(&s, &a, 0, 0), "{\"a\":3,\"b\":[]}");
	CHECK_EQ_STR(json_at(&s, &a, 1, 0), "null");
	a.children[0]->offset = a.children[1]->offset = 0;
	a.release(&a);
	firn_builder_free(&b);
	s.release(&s);
}

/* ---- writers ---- */

/* Writes the batches with fmt and returns the text (caller frees). */
static char *write_text(enum firn_text_format fmt, const struct ArrowSchema *s,
			struct ArrowArray *batches, int n)
{
	FILE *f = tmpfile();
	struct firn_text_writer *w;
	int rc = firn_text_writer_open(&w, f, fmt, s, &t_err);
	CHECK_OK(rc);
	if (rc != 0) {
		fclose(f);
		return strdup("(error)");
	}
	for (int i = 0; i < n; i++)
		CHECK_OK(firn_text_writer_write(w, &batches[i], &t_err));
	CHECK_OK(firn_text_writer_close(w, &t_err));
	firn_text_writer_free(w);
	long len = ftell(f);
	rewind(f);
	char *text = malloc((size_t)len + 1);
	text[fread(text, 1, (size_t)len, f)] = '\0';
	fclose(f);
	return text;
}

/* Reads path into batches and writes them back with out_fmt. */
static char *convert(const char *path, enum firn_text_format in_fmt, const char *spec,
		     int64_t batch_rows, enum firn_text_format out_fmt, int *rc_out)
{
	struct ArrowSchema given, s;
	struct firn_text_reader *r;
	int rc;
	*rc_out = 0;
	if (spec != NULL && firn_spec_parse_schema(spec, &given, &t_err) != 0)
		return strdup("(bad spec)");
	rc = firn_text_reader_open(&r, path, in_fmt, spec ? &given : NULL, batch_rows, &t_err);
	if (spec != NULL)
		given.release(&given);
	if (rc != 0) {
		*rc_out = rc;
		return strdup(t_err.message);
	}
	CHECK_OK(firn_text_reader_schema(r, &s, &t_err));
	struct ArrowArray batches[64];
	int n = 0;
	for (;;) {
		rc = firn_text_reader_next(r, &batches[n], &t_err);
		if (rc != 0 || batches[n].release == NULL || n == 63)
			break;
		n++;
	}
	char *text;
	if (rc != 0) {
		*rc_out = rc;
		text = strdup(t_err.message);
		/* the reader stays failed */
		struct ArrowArray again;
		struct firn_error e2;
		CHECK_EQ_INT(firn_text_reader_next(r, &again, &e2), rc);
		CHECK_EQ_STR(e2.message, t_err.message);
	} else {
		text = write_text(out_fmt, &s, batches, n);
	}
	for (int i = 0; i < n; i++)
		batches[i].release(&batches[i]);
	s.release(&s);
	firn_text_reader_free(r);
	return text;
}

static void check_convert(const char *path, enum firn_text_format in, const char *spec,
			  enum firn_text_format out, const char *want, int line)
{
	int rc;
	char *got = convert(path, in, spec, 2, out, &rc);
	if (rc != 0 || strcmp(got, want) != 0) {
		t_failed_checks++;
		fprintf(stderr, "%s:%d: rc %d, got:\n%s\nexpected:\n%s\n", __FILE__, line, rc, got, want);
	}
	free(got);
}

static void check_fails(const char *path, enum firn_text_format in, const char *spec,
			const char *msg, int line)
{
	int rc;
	char *got = convert(path, in, spec, 2, FIRN_TEXT_JSONL, &rc);
	char want[1024];
	snprintf(want, sizeof(want), msg, path);
	if (rc != FIRN_EINVAL || strcmp(got, want) != 0) {
		t_failed_checks++;
		fprintf(stderr, "%s:%d: rc %d, got: %s\nexpected: %s\n", __FILE__, line, rc, got, want);
	}
	free(got);
}
#define CONVERT(path, in, spec, out, want) check_convert(path, in, spec, out, want, __LINE__)
#define FAILS(path, in, spec, msg) check_fails(path, in, spec, msg, __LINE__)

/* The inferred schema's text. */
static char *inferred(const char *path, enum firn_text_format fmt)
{
	struct firn_text_reader *r;
	if (firn_text_reader_open(&r, path, fmt, NULL, 0, &t_err) != 0)
		return strdup(t_err.message);
	struct ArrowSchema s;
	struct firn_buf b = FIRN_BUF_INIT;
	firn_text_reader_schema(r, &s, &t_err);
	firn_schema_format(&b, &s);
	firn_buf_cstr(&b);
	s.release(&s);
	firn_text_reader_free(r);
	char *out = strdup(b.data ? (char *)b.data : "");
	firn_buf_free(&b);
	return out;
}

#define CHECK_INFERRED(path, fmt, want) do { char *t_got = inferred(path, fmt); \
	CHECK_EQ_STR(t_got, want); free(t_got); } while (0)

TEST(csv_writer_quoting)
{
	const char *p = fixture("q.jsonl",
		"{\"a\":\"plain\",\"b\":1}\n"
		"{\"a\":\"x,y\",\"b\":null}\n"
		"{\"a\":\"say \\\"hi\\\"\",\"b\":2}\n"
		"{\"a\":\"two\\nlines\",\"b\":3}\n"
		"{\"a\":\"cr\\rhere\",\"b\":4}\n"
		"{\"a\":\" lead\",\"b\":5}\n"
		"{\"a\":\"trail \",\"b\":6}\n"
		"{\"a\":\"\",\"b\":7}\n"
		"{\"a\":null,\"b\":8}\n");
	const char *csv =
		"a,b\n"
		"plain,1\n"
		"\"x,y\",\n"
		"\"say \"\"hi\"\"\",2\n"
		"\"two\nlines\",3\n"
		"\"cr\rhere\",4\n"
		"\" lead\",5\n"
		"\"trail \",6\n"
		"\"\",7\n"
		",8\n";
	CONVERT(p, FIRN_TEXT_JSONL, "a string, b long", FIRN_TEXT_CSV, csv);
	/* and back: the CSV reader gives the same rows */
	const char *q = fixture("q.csv", csv);
	CONVERT(q, FIRN_TEXT_CSV, "a string, b long", FIRN_TEXT_JSONL,
		"{\"a\":\"plain\",\"b\":1}\n"
		"{\"a\":\"x,y\",\"b\":null}\n"
		"{\"a\":\"say \\\"hi\\\"\",\"b\":2}\n"
		"{\"a\":\"two\\nlines\",\"b\":3}\n"
		"{\"a\":\"cr\\rhere\",\"b\":4}\n"
		"{\"a\":\" lead\",\"b\":5}\n"
		"{\"a\":\"trail \",\"b\":6}\n"
		"{\"a\":\"\",\"b\":7}\n"
		"{\"a\":null,\"b\":8}\n");
	/* header names that need quoting; a header-only output */
	const char *e = fixture("e.jsonl", "");
	CONVERT(e, FIRN_TEXT_JSONL, "`a,b` int, `c\"` int", FIRN_TEXT_CSV, "\"a,b\",\"c\"\"\"\n");
}

TEST(table_writer)
{
	const char *p = fixture("t.jsonl",
		"{\"id\":1,\"name\":\"alice\",\"price\":\"1.50\"}\n"
		"{\"id\":22,\"name\":null,\"price\":\"-10.00\"}\n"
		"{\"id\":333,\"name\":\"a very long name that goes on and on and on and on\",\"price\":null}\n"
		"{\"id\":4,\"name\":\"tab\\there\\nnewline\",\"price\":\"0.00\"}\n"
		"{\"id\":5,\"name\":\"ünïcödé\",\"price\":\"2.00\"}\n");
	CONVERT(p, FIRN_TEXT_JSONL, "id long, name string, price decimal(6,2)", FIRN_TEXT_TABLE,
		"id  | name                                     | price\n"
		"----+------------------------------------------+-------\n"
		"  1 | alice                                    |   1.50\n"
		" 22 | null                                     | -10.00\n"
		"333 | a very long name that goes on and on ... |   null\n"
		"  4 | tab\\there\\nnewline                       |   0.00\n"
		"  5 | ünïcödé                                  |   2.00\n");
	const char *e = fixture("t0.jsonl", "");
	CONVERT(e, FIRN_TEXT_JSONL, "id long, name string", FIRN_TEXT_TABLE,
		"id | name\n"
		"---+-----\n");
}

/* More rows than the table holds back: later rows use the widths fixed by
 * the first 10000 (and are cut to them). */
TEST(table_writer_long)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/long.csv", tmpdir);
	FILE *f = fopen(path, "w");
	fprintf(f, "n,s\n");
	for (int i = 0; i < 10005; i++)
		fprintf(f, "%d,%s\n", i, i == 10003 ? "much wider than before" : "ab");
	fclose(f);
	int rc;
	char *text = convert(path, FIRN_TEXT_CSV, "n int, s string", 4096, FIRN_TEXT_TABLE, &rc);
	CHECK_EQ_INT(rc, 0);
	const char *want_tail = "10002 | ab\n10003 | much wider than before\n10004 | ab\n";
	CHECK_EQ_STR(text + strlen(text) - strlen(want_tail), want_tail);
	const char *want_head = "n    | s\n-----+---\n   0 | ab\n";
	CHECK(strncmp(text, want_head, strlen(want_head)) == 0);
	if (strncmp(text, want_head, strlen(want_head)) != 0)
		fprintf(stderr, "%.60s\n", text);
	free(text);
}

/* ---- readers ---- */

static const char *all_types_spec =
	"b boolean, i int, l long, f float, d double, dec decimal(10,2), dt date, t time, "
	"ts timestamp, tz timestamptz, ns timestamp_ns, s string, u uuid, fx fixed[2], "
	"bin binary, st struct<x: int, y: list<string>>, li list<long>, m map<string,int>, "
	"mi map<int,string>";

TEST(csv_all_types)
{
	const char *p = fixture("all.csv",
		"b,i,l,f,d,dec,dt,t,ts,tz,ns,s,u,fx,bin,st,li,m,mi\r\n"
		"true,-2147483648,-9223372036854775808,0.1,-Infinity,-0.05,1969-12-31,"
		"22:31:08.123456,2017-11-16T22:31:08.123456,2017-11-16T23:31:08.123456+01:00,"
		"1969-12-31T23:59:59.999999999,héllo,123E4567-E89B-12D3-A456-426614174000,00FF,dead,"
		"\"{\"\"x\"\":1,\"\"y\"\":[\"\"a\"\",null]}\",\"[1,2]\",\"{\"\"k\"\":1}\","
		"\"[{\"\"key\"\":1,\"\"value\"\":\"\"v\"\"}]\"\r\n"
		"FALSE,42,9223372036854775807,NaN,2.5e300,123.4,2017-11-16,00:00,"
		"2017-11-16,2017-11-16 22:31:08Z,2017-11-16T22:31:08.1, spaced ,"
		"123e4567e89b12d3a456426614174000,0a0b,,{},[],{},[]\r\n"
		",,,,,,,,,,,,,,,,,,\r\n"
		"1, 7 ,0,-0,1e-5,  100 ,0001-01-01,23:59:59.999999,9999-12-31T23:59:59.999999,"
		"1970-01-01T00:00:00-00:30,1970-01-01,\"\",00000000-0000-0000-0000-000000000000,"
		"ffff,\"\",\"{\"\"x\"\":null}\",\"[null]\",\"{\"\"a\"\":null}\",\"{\"\"1\"\":\"\"one\"\"}\"");
	CONVERT(p, FIRN_TEXT_CSV, all_types_spec, FIRN_TEXT_JSONL,
		"{\"b\":true,\"i\":-2147483648,\"l\":-9223372036854775808,\"f\":0.1,\"d\":\"-Infinity\","
		"\"dec\":\"-0.05\",\"dt\":\"1969-12-31\",\"t\":\"22:31:08.123456\","
		"\"ts\":\"2017-11-16T22:31:08.123456\",\"tz\":\"2017-11-16T22:31:08.123456+00:00\","
		"\"ns\":\"1969-12-31T23:59:59.999999999\",\"s\":\"héllo\","
		"\"u\":\"123e4567-e89b-12d3-a456-426614174000\",\"fx\":\"00ff\",\"bin\":\"dead\","
		"\"st\":{\"x\":1,\"y\":[\"a\",null]},\"li\":[1,2],\"m\":{\"k\":1},"
		"\"mi\":[{\"key\":1,\"value\":\"v\"}]}\n"
		"{\"b\":false,\"i\":42,\"l\":9223372036854775807,\"f\":\"NaN\",\"d\":2.5e+300,"
		"\"dec\":\"123.40\",\"dt\":\"2017-11-16\",\"t\":\"00:00:00.000000\","
		"\"ts\":\"2017-11-16T00:00:00.000000\",\"tz\":\"2017-11-16T22:31:08.000000+00:00\","
		"\"ns\":\"2017-11-16T22:31:08.100000000\",\"s\":\" spaced \","
		"\"u\":\"123e4567-e89b-12d3-a456-426614174000\",\"fx\":\"0a0b\",\"bin\":null,"
		"\"st\":{\"x\":null,\"y\":null},\"li\":[],\"m\":{},\"mi\":[]}\n"
		"{\"b\":null,\"i\":null,\"l\":null,\"f\":null,\"d\":null,\"dec\":null,\"dt\":null,"
		"\"t\":null,\"ts\":null,\"tz\":null,\"ns\":null,\"s\":null,\"u\":null,\"fx\":null,"
		"\"bin\":null,\"st\":null,\"li\":null,\"m\":null,\"mi\":null}\n"
		"{\"b\":true,\"i\":7,\"l\":0,\"f\":-0.0,\"d\":1e-05,\"dec\":\"100.00\","
		"\"dt\":\"0001-01-01\",\"t\":\"23:59:59.999999\",\"ts\":\"9999-12-31T23:59:59.999999\","
		"\"tz\":\"1970-01-01T00:30:00.000000+00:00\",\"ns\":\"1970-01-01T00:00:00.000000000\","
		"\"s\":\"\",\"u\":\"00000000-0000-0000-0000-000000000000\",\"fx\":\"ffff\",\"bin\":\"\","
		"\"st\":{\"x\":null,\"y\":null},\"li\":[null],\"m\":{\"a\":null},"
		"\"mi\":[{\"key\":1,\"value\":\"one\"}]}\n");
	/* and the JSONL just printed reads back to itself */
	const char *j = fixture("all.jsonl",
		"{\"b\":true,\"i\":-2147483648,\"l\":-9223372036854775808,\"f\":0.1,\"d\":\"-Infinity\","
		"\"dec\":\"-0.05\",\"dt\":\"1969-12-31\",\"t\":\"22:31:08.123456\","
		"\"ts\":\"2017-11-16T22:31:08.123456\",\"tz\":\"2017-11-16T22:31:08.123456+00:00\","
		"\"ns\":\"1969-12-31T23:59:59.999999999\",\"s\":\"héllo\","
		"\"u\":\"123e4567-e89b-12d3-a456-426614174000\",\"fx\":\"00ff\",\"bin\":\"dead\","
		"\"st\":{\"x\":1,\"y\":[\"a\",null]},\"li\":[1,2],\"m\":{\"k\":1},"
		"\"mi\":[{\"key\":1,\"value\":\"v\"}]}\n"
		"{\"b\":null,\"i\":null,\"l\":null,\"f\":null,\"d\":null,\"dec\":null,\"dt\":null,"
		"\"t\":null,\"ts\":null,\"tz\":null,\"ns\":null,\"s\":null,\"u\":null,\"fx\":null,"
		"\"bin\":null,\"st\":null,\"li\":null,\"m\":null,\"mi\":null}\n");
	int rc;
	char *got = convert(j, FIRN_TEXT_JSONL, all_types_spec, 1, FIRN_TEXT_JSONL, &rc);
	CHECK_EQ_INT(rc, 0);
	FILE *f = fopen(j, "r");
	char want[4096];
	want[fread(want, 1, sizeof(want) - 1, f)] = '\0';
	fclose(f);
	CHECK_EQ_STR(got, want);
	free(got);
	/* CSV out and back in again */
	got = convert(j, FIRN_TEXT_JSONL, all_types_spec, 0, FIRN_TEXT_CSV, &rc);
	const char *c2 = fixture("all2.csv", got);
	free(got);
	got = convert(c2, FIRN_TEXT_CSV, all_types_spec, 0, FIRN_TEXT_JSONL, &rc);
	CHECK_EQ_STR(got, want);
	free(got);
}

TEST(csv_quoting_edges)
{
	/* quoted newline (CRLF inside), escaped quotes, trailing empty field,
	 * no final newline, BOM, blank lines skipped */
	const char *p = fixture("edge.csv",
		"\xEF\xBB\xBF" "a,b\n"
		"\"line1\r\nline2\",\"\"\"\"\n"
		"\n"
		"x,\n"
		"\"a\"\"b\"\"c\",\"\"\"q\"\n"
		"last,\"end\"");
	CONVERT(p, FIRN_TEXT_CSV, "a string, b string", FIRN_TEXT_JSONL,
		"{\"a\":\"line1\\r\\nline2\",\"b\":\"\\\"\"}\n"
		"{\"a\":\"x\",\"b\":null}\n"
		"{\"a\":\"a\\\"b\\\"c\",\"b\":\"\\\"q\"}\n"
		"{\"a\":\"last\",\"b\":\"end\"}\n");
	/* one column: an empty line is a null, "" an empty string */
	const char *one = fixture("one.csv", "a\nx\n\n\"\"\ny\n");
	CONVERT(one, FIRN_TEXT_CSV, "a string", FIRN_TEXT_JSONL,
		"{\"a\":\"x\"}\n{\"a\":null}\n{\"a\":\"\"}\n{\"a\":\"y\"}\n");
	CONVERT(one, FIRN_TEXT_CSV, "a string", FIRN_TEXT_CSV, "a\nx\n\n\"\"\ny\n");
	/* columns in another order, a schema field missing from the file */
	const char *ord = fixture("ord.csv", "c,a\n3,1\n");
	CONVERT(ord, FIRN_TEXT_CSV, "a int, b string, c int", FIRN_TEXT_JSONL,
		"{\"a\":1,\"b\":null,\"c\":3}\n");
	/* a quoted field that spans the reader's 1 MiB buffer */
	char path[256];
	snprintf(path, sizeof(path), "%s/big.csv", tmpdir);
	FILE *f = fopen(path, "w");
	fprintf(f, "a,b\n");
	for (int i = 0; i < 40000; i++)
		fprintf(f, "%d,\"some \"\"quoted\"\" text, with a comma %d\"\n", i, i);
	fprintf(f, "big,\"");
	for (int i = 0; i < 3000000; i++)
		fputc('x', f);
	fprintf(f, "\"\nafter,1\n");
	fclose(f);
	struct ArrowSchema s;
	struct firn_text_reader *r;
	CHECK_OK(firn_spec_parse_schema("a string, b string", &s, &t_err));
	CHECK_OK(firn_text_reader_open(&r, path, FIRN_TEXT_CSV, &s, 0, &t_err));
	int64_t rows = 0;
	struct ArrowArray a;
	struct firn_buf b = FIRN_BUF_INIT;
	for (;;) {
		CHECK_OK(firn_text_reader_next(r, &a, &t_err));
		if (a.release == NULL)
			break;
		if (rows == 0) {
			firn_buf_reset(&b);
			firn_value_format_text(&b, s.children[1], a.children[1], 39999);
			CHECK_EQ_STR(cstr(&b), "some \"quoted\" text, with a comma 39999");
			firn_buf_reset(&b);
			firn_value_format_text(&b, s.children[1], a.children[1], 40000);
			CHECK_EQ_INT(b.len, 3000000);
			firn_buf_reset(&b);
			firn_value_format_text(&b, s.children[0], a.children[0], 40001);
			CHECK_EQ_STR(cstr(&b), "after");
		}
		rows += a.length;
		a.release(&a);
	}
	CHECK_EQ_INT(rows, 40002);
	firn_buf_free(&b);
	firn_text_reader_free(r);
	s.release(&s);
}

TEST(csv_errors)
{
	const char *p;
	p = fixture("e1.csv", "a,b\n1,2\n1,2,3\n");
	FAILS(p, FIRN_TEXT_CSV, "a int, b int", "%s: line 3: expected 2 fields, found 3");
	p = fixture("e2.csv", "a,b\n1,2\n3\n");
	FAILS(p, FIRN_TEXT_CSV, "a int, b int", "%s: line 3: expected 2 fields, found 1");
	p = fixture("e3.csv", "id,price\n1,2.50\n\"2\",abc\n");
	FAILS(p, FIRN_TEXT_CSV, "id long, price decimal(10,2)",
	      "%s: line 3: column price: 'abc' is not a decimal(10,2)");
	p = fixture("e4.csv", "price\n1.234\n");
	FAILS(p, FIRN_TEXT_CSV, "price decimal(10,2)",
	      "%s: line 2: column price: '1.234' is not a decimal(10,2)");
	p = fixture("e5.csv", "price\n123456789.00\n");
	FAILS(p, FIRN_TEXT_CSV, "price decimal(10,2)",
	      "%s: line 2: column price: '123456789.00' is not a decimal(10,2)");
	p = fixture("e6.csv", "i\n2147483648\n");
	FAILS(p, FIRN_TEXT_CSV, "i int", "%s: line 2: column i: '2147483648' is out of range for int");
	p = fixture("e7.csv", "l\n-9223372036854775809\n");
	FAILS(p, FIRN_TEXT_CSV, "l long",
	      "%s: line 2: column l: '-9223372036854775809' is out of range for long");
	p = fixture("e8.csv", "a,b\n\"x\ny\",1\n\"unterminated,2\n");
	FAILS(p, FIRN_TEXT_CSV, "a string, b int", "%s: line 4: unterminated quoted field");
	p = fixture("e9.csv", "a,b\n\"x\"y,1\n");
	FAILS(p, FIRN_TEXT_CSV, "a string, b int", "%s: line 2: unexpected 'y' after a closing quote");
	p = fixture("e10.csv", "a,zz\n1,2\n");
	FAILS(p, FIRN_TEXT_CSV, "a int", "%s: line 1: column 'zz' is not in the schema");
	p = fixture("e11.csv", "b\n1\n");
	FAILS(p, FIRN_TEXT_CSV, "a int not null, b int",
	      "%s: column a is required but not in the header");
	p = fixture("e12.csv", "a,b\n,1\n");
	FAILS(p, FIRN_TEXT_CSV, "a int not null, b int",
	      "%s: line 2: column a: null in a required field");
	p = fixture("e13.csv", "a,a\n1,1\n");
	FAILS(p, FIRN_TEXT_CSV, "a int", "%s: line 1: duplicate column 'a'");
	p = fixture("e14.csv", "f\n1e39\n");
	FAILS(p, FIRN_TEXT_CSV, "f float", "%s: line 2: column f: '1e39' is not a float");
	p = fixture("e15.csv", "b,d,t,ts,u,fx,bin,s\nyes,,,,,,,\n");
	FAILS(p, FIRN_TEXT_CSV, "b boolean, d date, t time, ts timestamp, u uuid, fx fixed[2], "
	      "bin binary, s string", "%s: line 2: column b: 'yes' is not a boolean");
	p = fixture("e16.csv", "d\n2023-02-29\n");
	FAILS(p, FIRN_TEXT_CSV, "d date", "%s: line 2: column d: '2023-02-29' is not a date");
	p = fixture("e17.csv", "u\n123e4567-e89b-12d3-a456-42661417400\n");
	FAILS(p, FIRN_TEXT_CSV, "u uuid",
	      "%s: line 2: column u: '123e4567-e89b-12d3-a456-42661417400' is not a uuid");
	p = fixture("e18.csv", "fx\nabcdef\n");
	FAILS(p, FIRN_TEXT_CSV, "fx fixed[2]", "%s: line 2: column fx: 'abcdef' is not a fixed[2]");
	p = fixture("e19.csv", "bin\nabc\n");
	FAILS(p, FIRN_TEXT_CSV, "bin binary", "%s: line 2: column bin: 'abc' is not a binary");
	p = fixture("e20.csv", "s\n\xff\xfe\n");
	FAILS(p, FIRN_TEXT_CSV, "s string", "%s: line 2: column s: not valid UTF-8");
	p = fixture("e21.csv", "st\n\"{\"\"x\"\":\"\"a\"\"}\"\n");
	FAILS(p, FIRN_TEXT_CSV, "st struct<x: int>", "%s: line 2: column st.x: 'a' is not an int");
	p = fixture("e22.csv", "li\n\"[1,\"\n");
	FAILS(p, FIRN_TEXT_CSV, "li list<int>",
	      "%s: line 2: column li: invalid JSON: ']' expected near end of file (at byte 3)");
	p = fixture("e23.csv", "a\n1\n");
	FAILS(p, FIRN_TEXT_CSV, "a struct<x: int not null>",
	      "%s: line 2: column a: 1 is not a struct");
}

TEST(jsonl_reading)
{
	const char *p = fixture("j.jsonl",
		"{\"id\": 1, \"price\": 12.5, \"tags\": [\"a\"], \"m\": {\"k\": 1}, \"f\": 1}\n"
		"\n"
		"  \r\n"
		"{\"id\": \"2\", \"price\": \"0.10\", \"m\": [{\"key\": \"k\", \"value\": 2}], \"f\": \"Infinity\"}\r\n"
		"{\"price\": 3, \"loc\": {\"lat\": 1.5}, \"f\": \"inf\"}\n"
		"{\"s\": {\"nested\": [1, true]}, \"f\": 0.30000000000000004}");
	CONVERT(p, FIRN_TEXT_JSONL,
		"id long, price decimal(5,2), tags list<string>, m map<string, long>, "
		"loc struct<lat: double, lon: double>, s string, f double", FIRN_TEXT_JSONL,
		"{\"id\":1,\"price\":\"12.50\",\"tags\":[\"a\"],\"m\":{\"k\":1},\"loc\":null,\"s\":null,\"f\":1.0}\n"
		"{\"id\":2,\"price\":\"0.10\",\"tags\":null,\"m\":{\"k\":2},\"loc\":null,\"s\":null,\"f\":\"Infinity\"}\n"
		"{\"id\":null,\"price\":\"3.00\",\"tags\":null,\"m\":null,\"loc\":{\"lat\":1.5,\"lon\":null},\"s\":null,\"f\":\"Infinity\"}\n"
		"{\"id\":null,\"price\":null,\"tags\":null,\"m\":null,\"loc\":null,\"s\":\"{\\\"nested\\\":[1,true]}\",\"f\":0.30000000000000004}\n");
	const char *q;
	q = fixture("je1.jsonl", "{\"id\": 1}\n{\"id\": 1, \"zz\": 2}\n");
	FAILS(q, FIRN_TEXT_JSONL, "id long", "%s: line 2: unknown column 'zz'");
	q = fixture("je2.jsonl", "{\"loc\": {\"lat\": 1, \"q\": 2}}\n");
	FAILS(q, FIRN_TEXT_JSONL, "loc struct<lat: double>", "%s: line 1: column loc: unknown field 'q'");
	q = fixture("ji.jsonl", "{\"id\": 2.0, \"i\": -3e2}\n{\"id\": 9007199254740992.0, \"i\": \"7\"}\n");
	CONVERT(q, FIRN_TEXT_JSONL, "id long, i int", FIRN_TEXT_JSONL,
		"{\"id\":2,\"i\":-300}\n{\"id\":9007199254740992,\"i\":7}\n");
	q = fixture("je3b.jsonl", "{\"id\": 1e16}\n");
	FAILS(q, FIRN_TEXT_JSONL, "id long", "%s: line 1: column id: 10000000000000000.0 is not a long");
	q = fixture("je3.jsonl", "{\"id\": 1.5}\n");
	FAILS(q, FIRN_TEXT_JSONL, "id long", "%s: line 1: column id: 1.5 is not a long");
	q = fixture("je4.jsonl", "{\"id\": 1}\n{\"id\": }\n");
	FAILS(q, FIRN_TEXT_JSONL, "id long",
	      "%s: line 2: invalid JSON: unexpected token near '}' (at byte 8)");
	q = fixture("je5.jsonl", "[1]\n");
	FAILS(q, FIRN_TEXT_JSONL, "id long", "%s: line 1: not a JSON object");
	q = fixture("je6.jsonl", "{\"id\": 99999999999999999999}\n");
	FAILS(q, FIRN_TEXT_JSONL, "id long",
	      "%s: line 1: invalid JSON: too big integer near '99999999999999999999' (at byte 27)");
	q = fixture("je7.jsonl", "{\"i\": 3000000000}\n");
	FAILS(q, FIRN_TEXT_JSONL, "i int", "%s: line 1: column i: 3000000000 is out of range for int");
	q = fixture("je8.jsonl", "{\"p\": 1.234}\n");
	FAILS(q, FIRN_TEXT_JSONL, "p decimal(5,2)", "%s: line 1: column p: '1.234' is not a decimal(5,2)");
	q = fixture("je9.jsonl", "{\"l\": [1, null]}\n");
	FAILS(q, FIRN_TEXT_JSONL, "l list<int not null>",
	      "%s: line 1: column l.element: null in a required field");
	q = fixture("je10.jsonl", "{\"m\": [{\"key\": null, \"value\": 1}]}\n");
	FAILS(q, FIRN_TEXT_JSONL, "m map<int, int>",
	      "%s: line 1: column m: [{\"key\":null,\"value\":1}] is not a map");
	q = fixture("je11.jsonl", "{\"a\": 1, \"a\": 2}\n");
	FAILS(q, FIRN_TEXT_JSONL, "a int",
	      "%s: line 1: invalid JSON: duplicate object key near '\"a\"' (at byte 12)");
	q = fixture("je12.jsonl", "{\"d\": 17486}\n");
	FAILS(q, FIRN_TEXT_JSONL, "d date", "%s: line 1: column d: 17486 is not a date");
}

TEST(inference)
{
	const char *p = fixture("inf.csv",
		"i,d,b,dt,ts,tz,s,e,mix,bits,`odd name`\n"
		"1,1,true,2020-01-01,2020-01-01T10:00:00,2020-01-01T10:00:00Z,x,,1,0,a\n"
		"-5,2.5,FALSE,1999-12-31,2020-01-01,2020-01-01T10:00:00,7,,true,1,b\n"
		",NaN,,,,,,,,true,\n");
	CHECK_INFERRED(p, FIRN_TEXT_CSV,
		       "i: long (id 1)\n"
		       "d: double (id 2)\n"
		       "b: boolean (id 3)\n"
		       "dt: date (id 4)\n"
		       "ts: timestamp (id 5)\n"
		       "tz: timestamptz (id 6)\n"
		       "s: string (id 7)\n"
		       "e: string (id 8)\n"
		       "mix: boolean (id 9)\n"
		       "bits: boolean (id 10)\n"
		       "`odd name`: string (id 11)\n");
	CONVERT(p, FIRN_TEXT_CSV, NULL, FIRN_TEXT_JSONL,
		"{\"i\":1,\"d\":1.0,\"b\":true,\"dt\":\"2020-01-01\",\"ts\":\"2020-01-01T10:00:00.000000\","
		"\"tz\":\"2020-01-01T10:00:00.000000+00:00\",\"s\":\"x\",\"e\":null,\"mix\":true,"
		"\"bits\":false,\"`odd name`\":\"a\"}\n"
		"{\"i\":-5,\"d\":2.5,\"b\":false,\"dt\":\"1999-12-31\",\"ts\":\"2020-01-01T00:00:00.000000\","
		"\"tz\":\"2020-01-01T10:00:00.000000+00:00\",\"s\":\"7\",\"e\":null,\"mix\":true,"
		"\"bits\":true,\"`odd name`\":\"b\"}\n"
		"{\"i\":null,\"d\":\"NaN\",\"b\":null,\"dt\":null,\"ts\":null,\"tz\":null,\"s\":null,"
		"\"e\":null,\"mix\":null,\"bits\":true,\"`odd name`\":null}\n");
	/* long and double mix to double; huge integers are doubles */
	const char *q = fixture("inf2.csv", "a,b,c\n1,9223372036854775808,x\n2.5,1,\n");
	CHECK_INFERRED(q, FIRN_TEXT_CSV, "a: double (id 1)\nb: double (id 2)\nc: string (id 3)\n");
	const char *empty = fixture("inf3.csv", "");
	CHECK_INFERRED(empty, FIRN_TEXT_CSV, "");
	const char *noname = fixture("inf4.csv", "a,,c\n1,2,3\n");
	char *got = inferred(noname, FIRN_TEXT_CSV);
	char want[512];
	snprintf(want, sizeof(want), "%s: line 1: column 2 has no name", noname);
	CHECK_EQ_STR(got, want);
	free(got);
	const char *bad = fixture("inf5.csv", "a,b\n1,2\n3\n");
	got = inferred(bad, FIRN_TEXT_CSV);
	snprintf(want, sizeof(want), "%s: line 3: expected 2 fields, found 1", bad);
	CHECK_EQ_STR(got, want);
	free(got);

	const char *j = fixture("inf.jsonl",
		"{\"id\": 1, \"v\": 1, \"loc\": {\"lat\": 1.5}, \"tags\": [\"a\"], \"when\": \"2020-01-01\", \"x\": null}\n"
		"{\"id\": 2, \"v\": 2.5, \"loc\": {\"lon\": 2, \"lat\": null}, \"tags\": [], \"ok\": true, \"when\": \"2020-01-01 10:00\"}\n"
		"{\"id\": 3, \"v\": \"str\", \"loc\": null, \"mixed\": {\"a\": 1}, \"deep\": [[{\"q\": \"12:00:00\"}]], \"e\": {}}\n"
		"{\"mixed\": [1], \"n\": \"123\"}\n");
	CHECK_INFERRED(j, FIRN_TEXT_JSONL,
		       "id: long (id 1)\n"
		       "v: string (id 2)\n"
		       "loc: struct (id 3)\n"
		       "  lat: double (id 12)\n"
		       "  lon: long (id 13)\n"
		       "tags: list (id 4)\n"
		       "  element: string (id 14)\n"
		       "when: timestamp (id 5)\n"
		       "x: string (id 6)\n"
		       "ok: boolean (id 7)\n"
		       "mixed: string (id 8)\n"
		       "deep: list (id 9)\n"
		       "  element: list (id 15)\n"
		       "    element: struct (id 16)\n"
		       "      q: string (id 17)\n"
		       "e: string (id 10)\n"
		       "n: string (id 11)\n");
	CONVERT(j, FIRN_TEXT_JSONL, NULL, FIRN_TEXT_JSONL,
		"{\"id\":1,\"v\":\"1\",\"loc\":{\"lat\":1.5,\"lon\":null},\"tags\":[\"a\"],"
		"\"when\":\"2020-01-01T00:00:00.000000\",\"x\":null,\"ok\":null,\"mixed\":null,"
		"\"deep\":null,\"e\":null,\"n\":null}\n"
		"{\"id\":2,\"v\":\"2.5\",\"loc\":{\"lat\":null,\"lon\":2},\"tags\":[],"
		"\"when\":\"2020-01-01T10:00:00.000000\",\"x\":null,\"ok\":true,\"mixed\":null,"
		"\"deep\":null,\"e\":null,\"n\":null}\n"
		"{\"id\":3,\"v\":\"str\",\"loc\":null,\"tags\":null,\"when\":null,\"x\":null,"
		"\"ok\":null,\"mixed\":\"{\\\"a\\\":1}\",\"deep\":[[{\"q\":\"12:00:00\"}]],"
		"\"e\":\"{}\",\"n\":null}\n"
		"{\"id\":null,\"v\":null,\"loc\":null,\"tags\":null,\"when\":null,\"x\":null,"
		"\"ok\":null,\"mixed\":\"[1]\",\"deep\":null,\"e\":null,\"n\":\"123\"}\n");
	/* stdin is held in memory while inferring */
	FILE *saved = fdopen(dup(0), "r");
	if (freopen(j, "r", stdin) != NULL) {
		got = inferred("-", FIRN_TEXT_JSONL);
		CHECK(strncmp(got, "id: long (id 1)\nv: string (id 2)\n", 33) == 0);
		if (strncmp(got, "id: long (id 1)\nv: string (id 2)\n", 33) != 0)
			fprintf(stderr, "stdin: %s\n", got);
		free(got);
		if (freopen(q, "r", stdin) != NULL)
			CONVERT("-", FIRN_TEXT_CSV, NULL, FIRN_TEXT_CSV, "a,b,c\n1.0,9.223372036854776e+18,x\n2.5,1.0,\n");
	}
	dup2(fileno(saved), 0);
	fclose(saved);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/firn_test_text.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(spec_example);
	RUN(spec_nested_ids);
	RUN(spec_every_type);
	RUN(spec_errors);
	RUN(type_names);
	RUN(schema_text);
	RUN(dates);
	RUN(times);
	RUN(timestamps);
	RUN(doubles);
	RUN(double_parse);
	RUN(value_scalars);
	RUN(value_decimals);
	RUN(value_nested);
	RUN(csv_writer_quoting);
	RUN(table_writer);
	RUN(table_writer_long);
	RUN(csv_all_types);
	RUN(csv_quoting_edges);
	RUN(csv_errors);
	RUN(jsonl_reading);
	RUN(inference);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return t_summary();
}
