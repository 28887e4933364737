/* The --where language: parse errors with positions, binding, three-valued
 * evaluation on batches, metrics decisions, projection onto partitions. */
#include <math.h>
#include <string.h>

#include "firn/text.h"
#include "iceberg/ice_expr.h"
#include "t.h"

static struct ArrowSchema schema;

static int bind(const char *text, struct firn_arena *a, struct firn_expr **e, struct firn_error *err)
{
	FIRN_TRY(firn_ice__expr_parse(text, a, e, err));
	return firn_ice__expr_bind(*e, &schema, a, err);
}

TEST(parse_and_bind_errors)
{
	struct {
		const char *text, *msg;
	} bad[] = {
		{ "", "where: at 1: empty expression" },
		{ "id = = 3", "where: at 6:" },
		{ "id = 3 and", "unexpected end" },
		{ "(id = 3", "expected ')'" },
		{ "name = 'abc", "unterminated string" },
		{ "nope = 1", "where: at 1: unknown column 'nope'" },
		{ "id = 1 and nope > 2", "where: at 12: unknown column 'nope'" },
		{ "id = 'abc'", "cannot compare long column 'id' with 'abc'" },
		{ "name = 3", "cannot compare string column 'name' with 3" },
		{ "small = 3000000000", "3000000000 is out of range for int column 'small'" },
		{ "tags = 'x'", "column 'tags' is a list" },
		{ "id like 'a%'", "LIKE needs a string column" },
		{ "name is nan", "IS NAN needs a float or double column" },
		{ "price = 1.234", "cannot compare decimal(10,2) column 'price'" },
		{ "id = name", "comparing two columns" },
		{ "id between 1", "expected AND in BETWEEN" },
		{ "id between name and 3", "BETWEEN takes values, not columns" },
		{ "starts_with(name 'a')", "expected ',' in starts_with" },
		{ "starts_with(name, 3)", "starts_with needs a 'prefix'" },
		{ "starts_with('a', name)", "starts_with needs a column first" },
		{ "starts_with(id, 'a')", "LIKE needs a string column" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct firn_arena a = { 0 };
		struct firn_expr *e;
		struct firn_error err = { 0 };
		int rc = bind(bad[i].text, &a, &e, &err);
		CHECK(rc == FIRN_EINVAL);
		if (!strstr(err.message, bad[i].msg))
			fprintf(stderr, "%s -> %s (want %s)\n", bad[i].text, err.message, bad[i].msg);
		CHECK(strstr(err.message, bad[i].msg) != NULL);
		firn_arena_free(&a);
	}
	struct firn_arena a = { 0 };
	struct firn_expr *e;
	CHECK_OK(bind("loc.lat >= -1.5 AND NOT (id IN (1, 2, 3) OR name LIKE 'ab%') and ts < '2026-01-01' "
		      "and `name` not like '%x_' and score is not nan and 3 < id", &a, &e, &t_err));
	int32_t *ids = NULL;
	size_t n = 0;
	CHECK_OK(firn_ice__expr_field_ids(e, &ids, &n));
	CHECK_EQ_INT(n, 5);
	firn_free(ids);
	firn_arena_free(&a);
}

/* rows: id 0..9; name null for id%3==0 else "n<id>"; score NaN for id 4;
 * loc null for id 7, loc.lat = id/2 */
static void make_batch(struct ArrowArray *out)
{
	struct firn_builder b;
	firn_builder_init(&b, &schema, NULL);
	for (int i = 0; i < 10; i++) {
		firn_builder_append_struct(&b);
		firn_builder_append_i64(&b.children[0], i);
		if (i % 3 == 0)
			firn_builder_append_null(&b.children[1]);
		else {
			char s[8];
			snprintf(s, sizeof(s), "n%d", i);
			firn_builder_append_bytes(&b.children[1], s, strlen(s));
		}
		firn_builder_append_i32(&b.children[2], i);
		firn_builder_append_f64(&b.children[3], i == 4 ? NAN : i * 1.5);
		__int128 price = (__int128)i * 100;
		firn_builder_append_fixed(&b.children[4], &price);
		firn_builder_append_i64(&b.children[5], (int64_t)i * 86400000000LL);
		if (i == 7) {
			firn_builder_append_null(&b.children[6]);
		} else {
			firn_builder_append_struct(&b.children[6]);
			firn_builder_append_f64(&b.children[6].children[0], i / 2.0);
			firn_builder_append_null(&b.children[6].children[1]);
		}
		firn_builder_append_null(&b.children[7]);
	}
	firn_builder_finish(&b, out, NULL);
	firn_builder_free(&b);
}

static int matches(const char *text, const struct ArrowArray *batch, char *out)
{
	struct firn_arena a = { 0 };
	struct firn_expr *e;
	uint8_t sel[10];
	int count = -1;
	if (bind(text, &a, &e, &t_err) == 0 && firn_ice__expr_eval(e, &schema, batch, sel, &t_err) == 0) {
		count = 0;
		for (int i = 0; i < 10; i++) {
			out[i] = sel[i] ? '1' : '0';
			count += sel[i];
		}
		out[10] = '\0';
	}
	firn_arena_free(&a);
	return count;
}

TEST(evaluate_batches)
{
	struct ArrowArray batch;
	make_batch(&batch);
	char m[16];
	struct {
		const char *text, *want;
	} cases[] = {
		{ "id < 3", "1110000000" },
		{ "3 < id", "0000111111" },
		{ "name is null", "1001001001" },
		{ "name = 'n1'", "0100000000" },
		{ "name != 'n1'", "0010110110" }, /* nulls are unknown, not true */
		{ "not (name = 'n1')", "0010110110" },
		{ "name = 'n1' or id = 0", "1100000000" },
		{ "not (name = 'n1' or id > 2)", "0010000000" },
		{ "id in (1, 5, 99)", "0100010000" },
		{ "id not in (1, 5)", "1011101111" },
		{ "score is nan", "0000100000" },
		{ "score > 5", "0000011111" }, /* NaN is not > 5 */
		{ "score != 3", "1101111111" }, /* NaN != 3 is true */
		{ "name like 'n%'", "0110110110" },
		{ "name like '_2'", "0010000000" },
		{ "name not like 'n1%'", "0010110110" },
		{ "starts_with(name, 'n1')", "0100000000" },
		{ "not_starts_with(name, 'n1')", "0010110110" },
		{ "id between 2 and 4", "0011100000" },
		{ "id not between 2 and 8", "1100000001" },
		{ "NOT id BETWEEN 2 AND 8 or id = 5", "1100010001" },
		{ "price >= 5", "0000011111" },
		{ "price = 3.00", "0001000000" },
		{ "ts >= '1970-01-04'", "0001111111" },
		{ "loc.lat > 2", "0000011011" }, /* row 7's struct is null */
		{ "loc.lon is null", "1111111111" },
		{ "true", "1111111111" },
		{ "false or id = 9", "0000000001" },
		{ "small = 4", "0000100000" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = matches(cases[i].text, &batch, m);
		CHECK(n >= 0);
		if (n >= 0 && strcmp(m, cases[i].want) != 0)
			fprintf(stderr, "%s: got %s want %s\n", cases[i].text, m, cases[i].want);
		CHECK(n >= 0 && strcmp(m, cases[i].want) == 0);
	}
	/* an offset batch: rows 5..9 */
	struct ArrowArray sliced = batch;
	sliced.offset = 5;
	sliced.length = 5;
	struct firn_arena a = { 0 };
	struct firn_expr *e;
	uint8_t sel[5];
	CHECK_OK(bind("id >= 7", &a, &e, &t_err));
	CHECK_OK(firn_ice__expr_eval(e, &schema, &sliced, sel, &t_err));
	CHECK(sel[0] == 0 && sel[1] == 0 && sel[2] == 1 && sel[4] == 1);
	firn_arena_free(&a);
	batch.release(&batch);
}

static enum firn_eval_result on_metrics(const char *text, const struct firn_metrics *m)
{
	struct firn_arena a = { 0 };
	struct firn_expr *e;
	enum firn_eval_result r = 99;
	if (bind(text, &a, &e, &t_err) == 0)
		r = firn_ice__expr_eval_metrics(e, m);
	firn_arena_free(&a);
	return r;
}

TEST(metrics)
{
	struct firn_col_metrics cols[4];
	memset(cols, 0, sizeof(cols));
	cols[0] = (struct firn_col_metrics){ .field_id = 1, .has_lower = true, .has_upper = true,
					     .value_count = 100, .null_count = 0, .nan_count = -1 };
	cols[0].lower.v.i64 = 10;
	cols[0].upper.v.i64 = 20;
	cols[1] = (struct firn_col_metrics){ .field_id = 2, .has_lower = true, .has_upper = true,
					     .value_count = 100, .null_count = 5, .nan_count = -1 };
	cols[1].lower.v.bin.p = (const uint8_t *)"apple";
	cols[1].lower.v.bin.n = 5;
	cols[1].upper.v.bin.p = (const uint8_t *)"apricou"; /* truncated "apricot..." rounded up */
	cols[1].upper.v.bin.n = 7;
	cols[2] = (struct firn_col_metrics){ .field_id = 4, .has_lower = true, .has_upper = true,
					     .value_count = 100, .null_count = 0, .nan_count = 3 };
	cols[2].lower.v.f64 = 1.0;
	cols[2].upper.v.f64 = 2.0;
	cols[3] = (struct firn_col_metrics){ .field_id = 3, .value_count = 100, .null_count = 100, .nan_count = -1 };
	struct firn_metrics m = { 100, cols, 4 };
	struct {
		const char *text;
		enum firn_eval_result want;
	} cases[] = {
		{ "id < 10", FIRN_EVAL_NONE },   { "id < 11", FIRN_EVAL_SOME },
		{ "id < 21", FIRN_EVAL_ALL },    { "id <= 20", FIRN_EVAL_ALL },
		{ "id > 20", FIRN_EVAL_NONE },   { "id >= 10", FIRN_EVAL_ALL },
		{ "id = 25", FIRN_EVAL_NONE },   { "id = 15", FIRN_EVAL_SOME },
		{ "id != 25", FIRN_EVAL_ALL },   { "id in (1, 2, 30)", FIRN_EVAL_NONE },
		{ "id in (1, 12)", FIRN_EVAL_SOME }, { "id not in (1, 2)", FIRN_EVAL_ALL },
		{ "id is null", FIRN_EVAL_NONE }, { "id is not null", FIRN_EVAL_ALL },
		{ "name = 'banana'", FIRN_EVAL_NONE }, { "name = 'apricot'", FIRN_EVAL_SOME },
		{ "name like 'ap%'", FIRN_EVAL_SOME }, { "name like 'b%'", FIRN_EVAL_NONE },
		{ "name like 'a%'", FIRN_EVAL_SOME }, /* nulls: not all */
		{ "name not like 'ap%'", FIRN_EVAL_NONE },
		{ "name is null", FIRN_EVAL_SOME },
		{ "score > 3", FIRN_EVAL_NONE },  /* NaN rows never compare true */
		{ "score >= 1", FIRN_EVAL_SOME }, /* NaN rows: not all */
		{ "score is nan", FIRN_EVAL_SOME },
		{ "small = 1", FIRN_EVAL_NONE }, /* all null */
		{ "small is null", FIRN_EVAL_ALL },
		{ "id > 15 and small = 1", FIRN_EVAL_NONE },
		{ "id > 25 or id < 30", FIRN_EVAL_ALL },
		{ "not (id > 25)", FIRN_EVAL_SOME },
		{ "not (id < 30)", FIRN_EVAL_NONE },
		{ "price > 3", FIRN_EVAL_SOME }, /* no metrics */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum firn_eval_result r = on_metrics(cases[i].text, &m);
		if (r != cases[i].want)
			fprintf(stderr, "%s: got %d want %d\n", cases[i].text, r, cases[i].want);
		CHECK_EQ_INT(r, cases[i].want);
	}
}

TEST(projection)
{
	struct firn_pfield pf[3];
	memset(pf, 0, sizeof(pf));
	/* bucket(4, id) as 1000, truncate(2, name) as 1001, day(ts) as 1002 */
	pf[0].source_id = 1;
	pf[0].field_id = 1000;
	pf[0].transform = (struct firn_transform){ FIRN_TR_BUCKET, 4 };
	pf[0].source_type.id = FIRN_A_INT64;
	pf[0].result_type.id = FIRN_A_INT32;
	pf[1].source_id = 2;
	pf[1].field_id = 1001;
	pf[1].transform = (struct firn_transform){ FIRN_TR_TRUNCATE, 2 };
	pf[1].source_type.id = FIRN_A_STRING;
	pf[1].result_type.id = FIRN_A_STRING;
	pf[2].source_id = 6;
	pf[2].field_id = 1002;
	pf[2].transform = (struct firn_transform){ FIRN_TR_DAY, 0 };
	pf[2].source_type.id = FIRN_A_TIMESTAMP;
	pf[2].source_type.unit_digits = 6;
	pf[2].result_type.id = FIRN_A_DATE32;
	/* one partition: bucket 3 (id 34 lands in 3), name prefix "n1", day 2 */
	struct firn_col_metrics cols[3];
	memset(cols, 0, sizeof(cols));
	for (int i = 0; i < 3; i++) {
		cols[i].field_id = 1000 + i;
		cols[i].has_lower = cols[i].has_upper = true;
		cols[i].value_count = cols[i].nan_count = -1;
	}
	cols[0].lower.v.i32 = cols[0].upper.v.i32 = 3;
	cols[1].lower.v.bin.p = cols[1].upper.v.bin.p = (const uint8_t *)"n1";
	cols[1].lower.v.bin.n = cols[1].upper.v.bin.n = 2;
	cols[2].lower.v.i32 = cols[2].upper.v.i32 = 2;
	struct firn_metrics m = { 10, cols, 3 };
	struct {
		const char *text;
		enum firn_eval_result want;
	} cases[] = {
		{ "id = 34", FIRN_EVAL_SOME },  { "id = 35", FIRN_EVAL_NONE },
		{ "id in (34, 1)", FIRN_EVAL_SOME }, { "id > 100", FIRN_EVAL_SOME },
		{ "name = 'n15'", FIRN_EVAL_SOME }, { "name = 'x1'", FIRN_EVAL_NONE },
		{ "name like 'n17%'", FIRN_EVAL_SOME }, { "name like 'm%'", FIRN_EVAL_NONE },
		{ "ts >= '1970-01-04'", FIRN_EVAL_NONE }, { "ts < '1970-01-03T05:00:00'", FIRN_EVAL_SOME },
		{ "ts < '1970-01-02'", FIRN_EVAL_NONE }, { "not (ts >= '1970-01-02')", FIRN_EVAL_NONE },
		{ "id = 35 or name = 'n1'", FIRN_EVAL_SOME }, { "score > 1", FIRN_EVAL_SOME },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct firn_arena a = { 0 };
		struct firn_expr *e, *p;
		CHECK_OK(bind(cases[i].text, &a, &e, &t_err));
		CHECK_OK(firn_ice__expr_project(e, pf, 3, &a, &p, &t_err));
		enum firn_eval_result r = firn_ice__expr_eval_metrics(p, &m);
		/* pruning uses NONE only; SOME/ALL both mean "read" */
		bool pruned = r == FIRN_EVAL_NONE;
		if (pruned != (cases[i].want == FIRN_EVAL_NONE))
			fprintf(stderr, "%s: got %d want %d\n", cases[i].text, r, cases[i].want);
		CHECK(pruned == (cases[i].want == FIRN_EVAL_NONE));
		firn_arena_free(&a);
	}
}

int main(void)
{
	if (firn_spec_parse_schema("id long not null, name string, small int, score double, "
				   "price decimal(10,2), ts timestamp, loc struct<lat: double, lon: double>, "
				   "tags list<string>", &schema, &t_err) != 0) {
		fprintf(stderr, "%s\n", t_err.message);
		return 1;
	}
	RUN(parse_and_bind_errors);
	RUN(evaluate_batches);
	RUN(metrics);
	RUN(projection);
	schema.release(&schema);
	return t_summary();
}
