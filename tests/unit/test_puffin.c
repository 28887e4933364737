/* Deletion vectors and Puffin files: the Java test blobs byte for byte,
 * run containers, multi-key bitmaps, corrupt input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "puffin/puffin.h"
#include "t.h"

static const uint8_t EMPTY_DV[] = { 0x00, 0x00, 0x00, 0x0c, 0xd1, 0xd3, 0x39, 0x64, 0x00, 0x00,
				    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x18, 0x48, 0x0c };
static const uint8_t ODD_DV[] = { 0x00, 0x00, 0x00, 0x2a, 0xd1, 0xd3, 0x39, 0x64, 0x01, 0x00, 0x00, 0x00,
				  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x30, 0x00, 0x00,
				  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x10, 0x00, 0x00, 0x00,
				  0x01, 0x00, 0x03, 0x00, 0x05, 0x00, 0x07, 0x00, 0x09, 0x00, 0xb3, 0xfb,
				  0x20, 0xbe };

TEST(java_blobs)
{
	struct firn_posset s = { 0 };
	struct firn_buf b = { 0 };
	CHECK_OK(firn_dv_encode(&s, &b));
	CHECK(b.len == sizeof(EMPTY_DV) && memcmp(b.data, EMPTY_DV, b.len) == 0);
	firn_buf_reset(&b);
	for (int64_t p = 1; p <= 9; p += 2)
		firn_posset_add(&s, p);
	CHECK_OK(firn_dv_encode(&s, &b));
	CHECK(b.len == sizeof(ODD_DV) && memcmp(b.data, ODD_DV, b.len) == 0);
	struct firn_posset back = { 0 };
	CHECK_OK(firn_dv_decode(ODD_DV, sizeof(ODD_DV), &back, &t_err));
	CHECK_EQ_INT(back.n, 5);
	CHECK(back.n == 5 && back.v[0] == 1 && back.v[4] == 9);
	CHECK_OK(firn_dv_decode(EMPTY_DV, sizeof(EMPTY_DV), &back, &t_err));
	CHECK_EQ_INT(back.n, 0);
	firn_posset_free(&s);
	firn_posset_free(&back);
	firn_buf_free(&b);
}

TEST(big_and_wide_sets)
{
	struct firn_posset s = { 0 }, back = { 0 };
	for (int64_t p = 0; p < 200000; p += 3) /* bitset containers */
		firn_posset_add(&s, p);
	firn_posset_add(&s, (int64_t)5 << 32 | 17); /* a second 32-bit key, gaps before it */
	firn_posset_add(&s, 70000);
	firn_posset_normalize(&s);
	struct firn_buf b = { 0 };
	CHECK_OK(firn_dv_encode(&s, &b));
	CHECK_OK(firn_dv_decode(b.data, b.len, &back, &t_err));
	CHECK_EQ_INT(back.n, s.n);
	CHECK(back.n == s.n && memcmp(back.v, s.v, s.n * sizeof(int64_t)) == 0);
	CHECK(firn_posset_contains(&back, (int64_t)5 << 32 | 17));
	CHECK(!firn_posset_contains(&back, 1));
	/* corruption: CRC, length, magic */
	struct firn_error e = { 0 };
	b.data[b.len - 1] ^= 1;
	CHECK(firn_dv_decode(b.data, b.len, &back, &e) == FIRN_ECORRUPT);
	CHECK(firn_dv_decode(b.data, b.len - 3, &back, &e) == FIRN_ECORRUPT);
	uint8_t bad[sizeof(ODD_DV)];
	memcpy(bad, ODD_DV, sizeof(bad));
	bad[5] = 0;
	CHECK(firn_dv_decode(bad, sizeof(bad), &back, &e) == FIRN_ECORRUPT);
	firn_posset_free(&s);
	firn_posset_free(&back);
	firn_buf_free(&b);
}

TEST(run_containers)
{
	/* one 32-bit bitmap with one run container: positions 10..14 */
	uint8_t body[] = { 0xd1, 0xd3, 0x39, 0x64, 1, 0, 0, 0, 0, 0, 0, 0, /* magic, 1 bitmap */
			   0, 0, 0, 0,             /* key 0 */
			   0x3b, 0x30, 0x00, 0x00, /* SERIAL_COOKIE, 1 container */
			   0x01,                   /* run flags */
			   0, 0, 4, 0,             /* key 0, cardinality 5 */
			   1, 0, 10, 0, 4, 0 };    /* 1 run: start 10, length 5 */
	uint8_t blob[4 + sizeof(body) + 4];
	uint32_t len = sizeof(body);
	blob[0] = 0;
	blob[1] = 0;
	blob[2] = (uint8_t)(len >> 8);
	blob[3] = (uint8_t)len;
	memcpy(blob + 4, body, sizeof(body));
	uint32_t crc = firn_crc32(0, body, sizeof(body));
	for (int i = 0; i < 4; i++)
		blob[4 + sizeof(body) + i] = (uint8_t)(crc >> (24 - 8 * i));
	struct firn_posset s = { 0 };
	CHECK_OK(firn_dv_decode(blob, sizeof(blob), &s, &t_err));
	CHECK_EQ_INT(s.n, 5);
	CHECK(s.n == 5 && s.v[0] == 10 && s.v[4] == 14);
	firn_posset_free(&s);
}

TEST(puffin_file)
{
	char path[] = "/tmp/firn-puffin-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	struct firn_posset a = { 0 }, b = { 0 }, back = { 0 };
	firn_posset_add(&a, 3);
	firn_posset_add(&b, 100);
	firn_posset_add(&b, 101);
	struct firn_puffin_blob blobs[2] = { { "/data/a.parquet", &a, 0, 0 }, { "/data/b.parquet", &b, 0, 0 } };
	int64_t size = 0;
	CHECK_OK(firn_puffin_write_dvs(path, blobs, 2, &size, &t_err));
	CHECK_EQ_INT(blobs[0].offset, 4);
	CHECK(size > 0);
	CHECK_OK(firn_puffin_read_dv(path, blobs[1].offset, blobs[1].length, &back, &t_err));
	CHECK(back.n == 2 && back.v[1] == 101);
	struct firn_error e = { 0 };
	CHECK(firn_puffin_read_dv(path, blobs[1].offset + 1, blobs[1].length, &back, &e) == FIRN_ECORRUPT);
	unlink(path);
	firn_posset_free(&a);
	firn_posset_free(&b);
	firn_posset_free(&back);
}

int main(void)
{
	RUN(java_blobs);
	RUN(big_and_wide_sets);
	RUN(run_containers);
	RUN(puffin_file);
	return t_summary();
}
