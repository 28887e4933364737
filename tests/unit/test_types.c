/* Tests of src/arrow/types.c: the table of Iceberg primitive types, type
 * names both ways, Arrow formats, and decimal text both ways. */
#include <stdio.h>
#include <string.h>

#include "arrow/types.h"
#include "t.h"

static bool same_type(const struct firn_type *a, const struct firn_type *b)
{
	return a->id == b->id && a->precision == b->precision && a->scale == b->scale &&
	       a->width == b->width && a->unit_digits == b->unit_digits && a->tz == b->tz &&
	       a->uuid == b->uuid;
}

/* name -> type -> name, the Arrow format firn writes, the type firn_type_of
 * reads back from that format, and the version, for every name. */
static void both_ways(const char *name, const char *upper, const char *format, int since)
{
	struct firn_type t, back;
	char buf[FIRN_TYPE_NAME_MAX], fb[FIRN_TYPE_NAME_MAX];
	CHECK_EQ_INT(firn_arrow__type_parse(name, &t), 0);
	CHECK_EQ_STR(firn_arrow__type_name(&t, buf), name);
	CHECK_EQ_STR(firn_arrow__type_format(&t, fb), format);
	CHECK_EQ_INT(firn_arrow__type_since(&t), since);
	CHECK_EQ_INT(firn_arrow__type_name_since(name), since);
	struct firn_type u;
	CHECK_EQ_INT(firn_arrow__type_parse(upper, &u), 0);
	CHECK(same_type(&t, &u));
	struct ArrowSchema s;
	CHECK_OK(firn_arrow__type_schema(&s, &t, "x", ARROW_FLAG_NULLABLE, 0));
	CHECK_EQ_STR(s.format, format);
	CHECK_OK(firn_type_of(&s, &back, &t_err));
	CHECK(same_type(&t, &back));
	s.release(&s);
}

TEST(every_primitive_both_ways)
{
	both_ways("unknown", "UNKNOWN", "n", 3);
	both_ways("boolean", "Boolean", "b", 1);
	both_ways("int", "INT", "i", 1);
	both_ways("long", "Long", "l", 1);
	both_ways("float", "FLOAT", "f", 1);
	both_ways("double", "Double", "g", 1);
	both_ways("decimal(10,2)", "DECIMAL( 10 , 2 )", "d:10,2", 1);
	both_ways("decimal(38,38)", "Decimal(38,38)", "d:38,38", 1);
	both_ways("decimal(1,0)", "decimal (1, 0) ", "d:1,0", 1);
	both_ways("date", "DATE", "tdD", 1);
	both_ways("time", "Time", "ttu", 1);
	both_ways("timestamp", "TIMESTAMP", "tsu:", 1);
	both_ways("timestamptz", "TimestampTZ", "tsu:UTC", 1);
	both_ways("timestamp_ns", "TIMESTAMP_NS", "tsn:", 3);
	both_ways("timestamptz_ns", "TimestampTz_Ns", "tsn:UTC", 3);
	both_ways("string", "STRING", "u", 1);
	both_ways("uuid", "UUID", "w:16", 1);
	both_ways("fixed[16]", "FIXED[ 16 ]", "w:16", 1);
	both_ways("fixed[1]", "Fixed[1]", "w:1", 1);
	both_ways("fixed[1073741824]", "fixed[1073741824]", "w:1073741824", 1);
	both_ways("binary", "BINARY", "z", 1);
	/* uuid carries the extension, fixed[16] does not */
	struct firn_type t;
	CHECK_EQ_INT(firn_arrow__type_parse("uuid", &t), 0);
	CHECK(t.uuid && t.width == 16 && t.id == FIRN_A_FIXED);
	CHECK_EQ_INT(firn_arrow__type_parse("fixed[16]", &t), 0);
	CHECK(!t.uuid && t.width == 16 && t.id == FIRN_A_FIXED);
}

TEST(the_table)
{
	/* every entry firn holds parses by its own name (decimal and fixed
	 * need their numbers), the others are known by name only */
	int held = 0, by_name = 0;
	for (size_t i = 0; i < firn_arrow__n_prims; i++) {
		const struct firn_arrow__prim *e = &firn_arrow__prims[i];
		struct firn_type t;
		CHECK(firn_arrow__prim_find(e->name, strlen(e->name)) == e);
		int rc = firn_arrow__type_parse(e->name, &t);
		if (e->format == NULL) {
			CHECK_EQ_INT(rc, FIRN_EUNSUPPORTED);
			CHECK_EQ_INT(e->since, 3);
			by_name++;
		} else {
			CHECK_EQ_INT(rc, e->params ? FIRN_EUNSUPPORTED : 0);
			held++;
		}
	}
	CHECK_EQ_INT(held, 17);
	CHECK_EQ_INT(by_name, 3);
	CHECK_EQ_INT(firn_arrow__type_name_since("variant"), 3);
	CHECK_EQ_INT(firn_arrow__type_name_since("geometry(srid:4326)"), 3);
	CHECK_EQ_INT(firn_arrow__type_name_since("geography"), 3);
	CHECK_EQ_INT(firn_arrow__type_name_since("decimal(9,2)"), 1);
	CHECK_EQ_INT(firn_arrow__type_name_since("strng"), 0);
	CHECK(firn_arrow__prim_find("longer", 6) == NULL);
	CHECK(firn_arrow__prim_find("longer", 4) == firn_arrow__prim_find("long", 4));
	CHECK(firn_arrow__prim_find("LONG", 4) != NULL);
}

static int parse_rc(const char *s, enum firn_atype *id)
{
	struct firn_type t;
	int rc = firn_arrow__type_parse(s, &t);
	*id = t.id;
	return rc;
}

TEST(type_parse_errors)
{
	enum firn_atype id;
	CHECK_EQ_INT(parse_rc("decimal(39,2)", &id), FIRN_EINVAL);
	CHECK_EQ_INT(id, FIRN_A_DECIMAL);
	CHECK_EQ_INT(parse_rc("decimal(0,0)", &id), FIRN_EINVAL);
	CHECK_EQ_INT(parse_rc("decimal(10,11)", &id), FIRN_EINVAL);
	CHECK_EQ_INT(parse_rc("decimal(10,-1)", &id), FIRN_EINVAL);
	CHECK_EQ_INT(parse_rc("decimal(99999999999999999999,2)", &id), FIRN_EINVAL);
	CHECK_EQ_INT(parse_rc("fixed[0]", &id), FIRN_EINVAL);
	CHECK_EQ_INT(id, FIRN_A_FIXED);
	CHECK_EQ_INT(parse_rc("fixed[1073741825]", &id), FIRN_EINVAL);
	const char *bad[] = { "", "strng", "long ", " long", "decimal", "decimal(10)",
			      "decimal(9,2)x", "decimal[9,2]", "decimal(9;2)", "decimal(,2)", "fixed", "fixed(4)",
			      "fixed[4", "fixed[x]", "struct", "list", "map", "variant",
			      "geometry", "uuid[16]", "timestamp(6)" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_rc(bad[i], &id);
		if (rc != FIRN_EUNSUPPORTED)
			fprintf(stderr, "'%s' -> %d\n", bad[i], rc);
		CHECK_EQ_INT(rc, FIRN_EUNSUPPORTED);
	}
}

TEST(names_of_other_types)
{
	char buf[FIRN_TYPE_NAME_MAX], fb[FIRN_TYPE_NAME_MAX];
	struct firn_type t = { 0 };
	t.id = FIRN_A_STRUCT;
	CHECK_EQ_STR(firn_arrow__type_name(&t, buf), "struct");
	CHECK_EQ_STR(firn_arrow__type_format(&t, fb), "+s");
	t.id = FIRN_A_LIST;
	CHECK_EQ_STR(firn_arrow__type_name(&t, buf), "list");
	CHECK_EQ_STR(firn_arrow__type_format(&t, fb), "+l");
	t.id = FIRN_A_MAP;
	CHECK_EQ_STR(firn_arrow__type_name(&t, buf), "map");
	CHECK_EQ_STR(firn_arrow__type_format(&t, fb), "+m");
	CHECK_EQ_INT(firn_arrow__type_since(&t), 1);
	/* Arrow types that are no Iceberg type: named and written as the
	 * Iceberg type they read as */
	struct ArrowSchema s;
	const char *formats[] = { "tsm:", "tss:UTC", "ttn", "d:38,-3", "w:2147483647" };
	const char *names[] = { "timestamp", "timestamptz", "time", "decimal(38,-3)",
				"fixed[2147483647]" };
	const char *written[] = { "tsu:", "tsu:UTC", "ttn", "d:38,-3", "w:2147483647" };
	for (int i = 0; i < 5; i++) {
		CHECK_OK(firn_schema_init(&s, formats[i], "x", 0, 0));
		CHECK_OK(firn_type_of(&s, &t, &t_err));
		CHECK_EQ_STR(firn_arrow__type_name(&t, buf), names[i]);
		CHECK_EQ_STR(firn_arrow__type_format(&t, fb), written[i]);
		s.release(&s);
	}
}

/* The text of the value s parses to at (precision, scale), "(fails)" when
 * it does not parse. */
static const char *dec(const char *s, int precision, int scale)
{
	static char buf[4][FIRN_DECIMAL_TEXT_MAX];
	static int next;
	char *b = buf[next++ % 4];
	__int128 v;
	if (!firn_arrow__decimal_parse(s, strlen(s), precision, scale, &v))
		return "(fails)";
	/* the text of the unscaled value itself */
	firn_arrow__decimal_format(v, 0, b);
	return b;
}

#define NINES38 "99999999999999999999999999999999999999"

TEST(decimal_parse)
{
	CHECK_EQ_STR(dec("1.5", 10, 2), "150");
	CHECK_EQ_STR(dec("-0.05", 10, 2), "-5");
	CHECK_EQ_STR(dec("+7", 3, 0), "7");
	CHECK_EQ_STR(dec(".5", 1, 1), "5");
	CHECK_EQ_STR(dec("5.", 1, 0), "5");
	CHECK_EQ_STR(dec("0", 1, 0), "0");
	CHECK_EQ_STR(dec("-0.000", 1, 0), "0");
	CHECK_EQ_STR(dec("0e99999", 1, 0), "0");
	CHECK_EQ_STR(dec("007.50", 3, 1), "75");
	CHECK_EQ_STR(dec("1e3", 4, 0), "1000");
	CHECK_EQ_STR(dec("-12.5E1", 3, 0), "-125");
	CHECK_EQ_STR(dec("1E-2", 3, 2), "1");
	CHECK_EQ_STR(dec("12.30e-1", 3, 2), "123");
	/* precision 38 at its bounds */
	CHECK_EQ_STR(dec(NINES38, 38, 0), NINES38);
	CHECK_EQ_STR(dec("-" NINES38, 38, 0), "-" NINES38);
	CHECK_EQ_STR(dec("9" NINES38, 38, 0), "(fails)");
	CHECK_EQ_STR(dec("1" NINES38, 38, 0), "(fails)");
	CHECK_EQ_STR(dec("1e37", 38, 0), "10000000000000000000000000000000000000");
	CHECK_EQ_STR(dec("1e38", 38, 0), "(fails)");
	CHECK_EQ_STR(dec("0." NINES38, 38, 38), NINES38);
	CHECK_EQ_STR(dec("1." NINES38, 38, 38), "(fails)");
	CHECK_EQ_STR(dec("123", 2, 0), "(fails)");
	CHECK_EQ_STR(dec("1.5", 2, 2), "(fails)");
	/* zeros past the scale go; other digits would need rounding */
	CHECK_EQ_STR(dec("1.50000000000000000000000000000000000000000000000000", 3, 2), "150");
	CHECK_EQ_STR(dec("0.055", 10, 2), "(fails)");
	CHECK_EQ_STR(dec("0.050", 10, 2), "5");
	CHECK_EQ_STR(dec("0.00000000000000000000000000000000000000001", 38, 2), "(fails)");
	/* a negative scale (Arrow allows it): whole thousands */
	CHECK_EQ_STR(dec("2000", 38, -3), "2");
	CHECK_EQ_STR(dec("2e3", 38, -3), "2");
	CHECK_EQ_STR(dec("2500", 38, -3), "(fails)");
	CHECK_EQ_STR(dec("-170141183460469231731687303715884105728000", 38, -3), "(fails)");
	/* not numbers */
	const char *bad[] = { "", "-", "+", ".", "-.", "1e", "1e+", "1e-", "e5", "1x", "12.3.4",
			      "1,5", " 1", "1 ", "0x10", "1e 5", "--1", "NaN", "Infinity" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *got = dec(bad[i], 38, 2);
		if (strcmp(got, "(fails)") != 0)
			fprintf(stderr, "'%s' -> %s\n", bad[i], got);
		CHECK_EQ_STR(got, "(fails)");
	}
	/* the length, not a NUL, ends the text */
	__int128 v;
	CHECK(firn_arrow__decimal_parse("12345", 2, 5, 0, &v) && v == 12);
}

static const char *fmt(__int128 v, int scale)
{
	static char buf[4][FIRN_DECIMAL_TEXT_MAX];
	static int next;
	char *b = buf[next++ % 4];
	int n = firn_arrow__decimal_format(v, scale, b);
	CHECK_EQ_INT(n, (int)strlen(b));
	return b;
}

TEST(decimal_format)
{
	__int128 max38 = 0;
	for (int i = 0; i < 38; i++)
		max38 = max38 * 10 + 9;
	__int128 min128 = (__int128)((unsigned __int128)1 << 127);
	CHECK_EQ_STR(fmt(150, 2), "1.50");
	CHECK_EQ_STR(fmt(-5, 2), "-0.05");
	CHECK_EQ_STR(fmt(5, 1), "0.5");
	CHECK_EQ_STR(fmt(0, 2), "0.00");
	CHECK_EQ_STR(fmt(0, 0), "0");
	CHECK_EQ_STR(fmt(-12345, 0), "-12345");
	CHECK_EQ_STR(fmt(max38, 0), NINES38);
	CHECK_EQ_STR(fmt(-max38, 10), "-9999999999999999999999999999.9999999999");
	CHECK_EQ_STR(fmt(max38, 38), "0." NINES38);
	CHECK_EQ_STR(fmt(-1, 38), "-0.00000000000000000000000000000000000001");
	CHECK_EQ_STR(fmt(2, -3), "2E+3");
	CHECK_EQ_STR(fmt(min128, -38),
		     "-170141183460469231731687303715884105728E+38");
	CHECK_EQ_STR(fmt(min128, 38), "-1.70141183460469231731687303715884105728");
	/* every text it writes at a scale >= 0 reads back as the same value */
	__int128 vals[] = { 0, 1, -1, 7, 10, -100, 123456789, max38, -max38, max38 / 7 };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		for (int scale = 0; scale <= 38; scale++) {
			const char *s = fmt(vals[i], scale);
			__int128 back;
			CHECK(firn_arrow__decimal_parse(s, strlen(s), 38, scale, &back));
			CHECK(back == vals[i]);
		}
}

TEST(decimal128_bytes)
{
	uint8_t b[16];
	firn_arrow__i128_store(b, -2);
	CHECK_EQ_INT(b[0], 0xfe);
	CHECK_EQ_INT(b[1], 0xff);
	CHECK_EQ_INT(b[15], 0xff);
	CHECK(firn_arrow__i128_load(b) == -2);
	firn_arrow__i128_store(b, (__int128)0x0102 << 64);
	CHECK_EQ_INT(b[8], 0x02);
	CHECK_EQ_INT(b[9], 0x01);
	CHECK_EQ_INT(b[0], 0);
	CHECK(firn_arrow__i128_load(b) == (__int128)0x0102 << 64);
}

int main(void)
{
	RUN(every_primitive_both_ways);
	RUN(the_table);
	RUN(type_parse_errors);
	RUN(names_of_other_types);
	RUN(decimal_parse);
	RUN(decimal_format);
	RUN(decimal128_bytes);
	return t_summary();
}
