/* util: errors, buffers, arena, thread pool, arrow schema helpers. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "firn/arrow.h"
#include "firn/util.h"
#include "t.h"

TEST(error_set_and_prefix)
{
	struct firn_error e;
	CHECK_EQ_INT(firn_error_set(&e, FIRN_ECORRUPT, "page at %d\nbad", 7), FIRN_ECORRUPT);
	CHECK_EQ_STR(e.message, "page at 7\\x0abad");
	firn_error_prefix(&e, "f.parquet");
	CHECK_EQ_STR(e.message, "f.parquet: page at 7\\x0abad");
	CHECK_EQ_INT(e.code, FIRN_ECORRUPT);
	CHECK_EQ_INT(firn_error_set(NULL, FIRN_EINVAL, "x"), FIRN_EINVAL);
	CHECK_EQ_STR(firn_code_name(FIRN_ENOTFOUND), "FIRN_ENOTFOUND");
}

/* Messages carry text from files and requests: every byte that is not
 * printable UTF-8 is escaped, valid UTF-8 text is kept as it is. */
TEST(error_escapes_bytes)
{
	struct firn_error e;
	firn_error_set(&e, FIRN_ECORRUPT, "%s: bad", "a\x01\x1b[31m\x7f\r\tb");
	CHECK_EQ_STR(e.message, "a\\x01\\x1b[31m\\x7f\\x0d\\x09b: bad");
	/* valid UTF-8 (2, 3 and 4 bytes) stays; invalid bytes do not */
	firn_error_set(&e, FIRN_EINVAL, "%s", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK_EQ_STR(e.message, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	firn_error_set(&e, FIRN_EINVAL, "%s", "\xff\xfe x \xc3 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xc2\x9b");
	CHECK_EQ_STR(e.message, "\\xff\\xfe x \\xc3 \\xc0\\xaf \\xed\\xa0\\x80 "
			       "\\xf4\\x90\\x80\\x80 \\xc2\\x9b");
	/* a truncated sequence at the end of the text */
	firn_error_set(&e, FIRN_EINVAL, "x%s", "\xe2\x82");
	CHECK_EQ_STR(e.message, "x\\xe2\\x82");
	/* the prefix too; escaped text escapes to itself */
	firn_error_prefix(&e, "\x02" "f");
	CHECK_EQ_STR(e.message, "\\x02f: x\\xe2\\x82");
	/* long messages are cut between units, never inside an escape */
	char big[2000];
	memset(big, 0x01, sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	firn_error_set(&e, FIRN_EINVAL, "%s", big);
	size_t n = strlen(e.message);
	CHECK(n < FIRN_ERROR_MESSAGE_MAX && n % 4 == 0 && n >= FIRN_ERROR_MESSAGE_MAX - 8);
	CHECK(strncmp(e.message + n - 4, "\\x01", 4) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK(e.message[i] >= 0x20 && e.message[i] < 0x7f);
}

TEST(buffers)
{
	struct firn_buf b = FIRN_BUF_INIT;
	for (int i = 0; i < 10000; i++)
		CHECK_OK(firn_buf_printf(&b, "%d,", i));
	CHECK(b.len > 40000 && b.cap >= b.len);
	CHECK(memcmp(b.data, "0,1,2,", 6) == 0);
	CHECK_OK(firn_buf_cstr(&b));
	CHECK(strstr((char *)b.data, ",9999,") != NULL);
	size_t len;
	uint8_t *p = firn_buf_detach(&b, &len);
	CHECK(p != NULL && b.data == NULL && b.len == 0 && len > 40000);
	firn_free(p);
}

TEST(arena)
{
	struct firn_arena a = FIRN_ARENA_INIT;
	char *s = firn_arena_strdup(&a, "hello");
	CHECK_EQ_STR(s, "hello");
	for (int i = 0; i < 1000; i++) {
		uint8_t *q = firn_arena_alloc(&a, (size_t)i * 37 + 1);
		CHECK(q != NULL && ((uintptr_t)q & 15) == 0 && q[0] == 0);
		memset(q, 0xAB, (size_t)i * 37 + 1);
	}
	uint8_t *big = firn_arena_alloc(&a, 1 << 22);
	CHECK(big != NULL);
	CHECK_EQ_STR(s, "hello");
	firn_arena_free(&a);
}

static void add_one(void *arg)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&m);
	(*(int *)arg)++;
	pthread_mutex_unlock(&m);
}

TEST(pool_runs_every_job)
{
	struct firn_pool *p;
	CHECK_OK(firn_pool_new(&p, 3, &t_err));
	int n = 0;
	for (int i = 0; i < 1000; i++)
		CHECK_OK(firn_pool_submit(p, add_one, &n));
	firn_pool_wait(p);
	CHECK_EQ_INT(n, 1000);
	firn_pool_free(p);
	firn_pool_free(NULL);
}

TEST(schema_metadata_and_types)
{
	struct ArrowSchema s;
	CHECK_OK(firn_schema_init(&s, "w:16", "u", ARROW_FLAG_NULLABLE, 0));
	CHECK_EQ_INT(firn_schema_field_id(&s), -1);
	CHECK_OK(firn_schema_set_field_id(&s, 42));
	CHECK_OK(firn_schema_add_metadata(&s, "ARROW:extension:name", "arrow.uuid"));
	CHECK_OK(firn_schema_set_field_id(&s, 43)); /* replaces */
	CHECK_EQ_INT(firn_schema_field_id(&s), 43);
	struct firn_type t;
	CHECK_OK(firn_type_of(&s, &t, &t_err));
	CHECK(t.id == FIRN_A_FIXED && t.uuid && t.width == 16);
	struct ArrowSchema c;
	CHECK_OK(firn_schema_copy(&c, &s));
	CHECK_EQ_INT(firn_schema_field_id(&c), 43);
	c.release(&c);
	s.release(&s);
	const char *formats[] = { "d:38,10", "tsu:UTC", "tsn:", "ttu", "tdD", "u", "z", "+s" };
	enum firn_atype ids[] = { FIRN_A_DECIMAL, FIRN_A_TIMESTAMP, FIRN_A_TIMESTAMP, FIRN_A_TIME64,
				  FIRN_A_DATE32, FIRN_A_STRING, FIRN_A_BINARY, FIRN_A_STRUCT };
	for (int i = 0; i < 8; i++) {
		CHECK_OK(firn_schema_init(&s, formats[i], "x", 0, 0));
		CHECK_OK(firn_type_of(&s, &t, &t_err));
		CHECK_EQ_INT(t.id, ids[i]);
		s.release(&s);
	}
	CHECK_OK(firn_schema_init(&s, "d:39,1", "x", 0, 0));
	CHECK_EQ_INT(firn_type_of(&s, &t, &t_err), FIRN_EUNSUPPORTED);
	s.release(&s);
}

TEST(builder_nested)
{
	struct ArrowSchema s;
	CHECK_OK(firn_schema_init(&s, "+l", "l", ARROW_FLAG_NULLABLE, 1));
	CHECK_OK(firn_schema_init(s.children[0], "u", "element", ARROW_FLAG_NULLABLE, 0));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, &s, &t_err));
	CHECK_OK(firn_builder_append_bytes(&b.children[0], "ab", 2));
	CHECK_OK(firn_builder_append_null(&b.children[0]));
	CHECK_OK(firn_builder_append_list_end(&b));
	CHECK_OK(firn_builder_append_null(&b));
	CHECK_OK(firn_builder_append_list_end(&b));
	struct ArrowArray a;
	CHECK_OK(firn_builder_finish(&b, &a, &t_err));
	CHECK_EQ_INT(a.length, 3);
	CHECK_EQ_INT(a.null_count, 1);
	const int32_t *off = a.buffers[1];
	CHECK(off[0] == 0 && off[1] == 2 && off[2] == 2 && off[3] == 2);
	CHECK_EQ_INT(a.children[0]->length, 2);
	CHECK_EQ_INT(a.children[0]->null_count, 1);
	CHECK(!firn_bit_get(a.buffers[0], 1) && firn_bit_get(a.buffers[0], 2));
	a.release(&a);
	firn_builder_free(&b);
	s.release(&s);
}

TEST(murmur3_spec_vectors)
{
	/* Iceberg spec Appendix B: ints, longs, dates, times, timestamps hash
	 * as 8-byte little-endian longs */
	int64_t v = 34;
	CHECK_EQ_INT((int32_t)firn_murmur3_32(&v, 8, 0), 2017239379);
	v = 17486; /* 2017-11-16 */
	CHECK_EQ_INT((int32_t)firn_murmur3_32(&v, 8, 0), -653330422);
	v = 81068000000LL; /* 22:31:08 */
	CHECK_EQ_INT((int32_t)firn_murmur3_32(&v, 8, 0), -662762989);
	v = 1510871468000000LL; /* 2017-11-16T22:31:08 */
	CHECK_EQ_INT((int32_t)firn_murmur3_32(&v, 8, 0), -2047944441);
	v = 1510871468000001LL;
	CHECK_EQ_INT((int32_t)firn_murmur3_32(&v, 8, 0), -1207196810);
	CHECK_EQ_INT((int32_t)firn_murmur3_32("iceberg", 7, 0), 1210000089);
	const uint8_t dec[] = { 0x05, 0x8C }; /* 14.20 */
	CHECK_EQ_INT((int32_t)firn_murmur3_32(dec, 2, 0), -500754589);
	uint8_t u[16];
	CHECK_OK(firn_uuid_parse("f79c3e09-677c-4bbd-a479-3f349cb785e7", 36, u));
	CHECK_EQ_INT((int32_t)firn_murmur3_32(u, 16, 0), 1488055340);
	const uint8_t fx[] = { 0, 1, 2, 3 };
	CHECK_EQ_INT((int32_t)firn_murmur3_32(fx, 4, 0), -188683207);
}

TEST(uuids_and_crc)
{
	uint8_t u[16], back[16];
	char text[37];
	CHECK_OK(firn_uuid_v4(u));
	CHECK_EQ_INT(u[6] >> 4, 4);
	firn_uuid_format(u, text);
	CHECK_EQ_INT(strlen(text), 36);
	CHECK_OK(firn_uuid_parse(text, 36, back));
	CHECK(memcmp(u, back, 16) == 0);
	CHECK_EQ_INT(firn_uuid_parse("f79c3e09-677c-4bbd-a479-3f349cb785eZ", 36, back), FIRN_EINVAL);
	CHECK_EQ_INT(firn_crc32(0, "123456789", 9), 0xCBF43926u);
}

int main(void)
{
	RUN(murmur3_spec_vectors);
	RUN(uuids_and_crc);
	RUN(error_set_and_prefix);
	RUN(error_escapes_bytes);
	RUN(buffers);
	RUN(arena);
	RUN(pool_runs_every_job);
	RUN(schema_metadata_and_types);
	RUN(builder_nested);
	return t_summary();
}
