/* RLE / bit-packing hybrid (Encodings.md "RLE = 3"): levels, dictionary
 * indices and RLE booleans. Decoding is a hot path; bit-packed groups are
 * unpacked with 8-byte loads and a per-width specialisation. */
#include <string.h>

#include "parquet/pq_encoding.h"

/* Writers never emit longer runs (Encodings.md: 1 .. 2^31-1 values). */
#define RUN_MAX ((uint64_t)INT32_MAX)

int firn_pq__bit_width(uint64_t max)
{
	return max == 0 ? 0 : 64 - __builtin_clzll(max);
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* ULEB128 run header. 0 on success, -1 when truncated or over 64 bits. */
static inline int read_uleb(const uint8_t *p, size_t n, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = *pos;
	for (int shift = 0; shift < 64; shift += 7) {
		if (i >= n)
			return -1;
		uint8_t b = p[i++];
		if (shift == 63 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*pos = i;
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* ---- decoding ---------------------------------------------------------- */

/* Value i (of bit width w) of a packed range that holds `avail` bytes, read
 * byte by byte; the caller guarantees its bits lie inside the range. */
static inline uint32_t get_packed_slow(const uint8_t *in, size_t i, int w)
{
	size_t bit = i * (size_t)w;
	size_t byte = bit >> 3;
	unsigned shift = bit & 7;
	unsigned nbytes = (shift + (unsigned)w + 7) >> 3;
	uint64_t acc = 0;
	for (unsigned k = 0; k < nbytes; k++)
		acc |= (uint64_t)in[byte + k] << (8 * k);
	return (uint32_t)((acc >> shift) & ((UINT64_C(1) << w) - 1));
}

/* Unpacks whole groups of 8 while an 8-byte load at every value stays inside
 * the `avail` bytes at `in`; returns the number of groups done. Inlined with
 * constant w and wide, so shifts and masks become immediates. */
static inline __attribute__((always_inline)) size_t
unpack_groups_fast(const uint8_t *in, size_t avail, const int w, void *out, const int wide,
		   size_t ngroups)
{
	const uint64_t mask = (UINT64_C(1) << w) - 1;
	/* group g's last load reads bytes g*w + (7w/8) .. +8 */
	if (avail < (size_t)w + 8)
		return 0;
	size_t fit = (avail - 8 - (size_t)w) / (size_t)w + 1;
	if (fit > ngroups)
		fit = ngroups;
	for (size_t g = 0; g < fit; g++) {
		const uint8_t *b = in + g * (size_t)w;
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++) {
			const unsigned bit = (unsigned)(i * w);
			uint64_t x = (load_le64(b + (bit >> 3)) >> (bit & 7)) & mask;
			if (wide)
				((uint32_t *)out)[g * 8 + (size_t)i] = (uint32_t)x;
			else
				((uint16_t *)out)[g * 8 + (size_t)i] = (uint16_t)x;
		}
	}
	return fit;
}

#define W1_32(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) \
	X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) \
	X(27) X(28) X(29) X(30) X(31) X(32)

/* Unpacks `nvals` values of width w (1..32) from the `avail` bytes at `in`,
 * which hold at least ceil(nvals * w / 8) bytes. */
static inline __attribute__((always_inline)) void
unpack(const uint8_t *in, size_t avail, int w, void *out, const int wide, size_t nvals)
{
	size_t done = 0;
	switch (w) {
#define CASE(W) case W: done = unpack_groups_fast(in, avail, W, out, wide, nvals / 8); break;
	W1_32(CASE)
#undef CASE
	}
	for (size_t i = done * 8; i < nvals; i++) {
		uint32_t x = get_packed_slow(in, i, w);
		if (wide)
			((uint32_t *)out)[i] = x;
		else
			((uint16_t *)out)[i] = (uint16_t)x;
	}
}

static __attribute__((noinline)) void unpack16(const uint8_t *in, size_t avail, int w,
					       uint16_t *out, size_t nvals)
{
	unpack(in, avail, w, out, 0, nvals);
}

static __attribute__((noinline)) void unpack32(const uint8_t *in, size_t avail, int w,
					       uint32_t *out, size_t nvals)
{
	unpack(in, avail, w, out, 1, nvals);
}

static inline void fill16(uint16_t *o, uint16_t v, size_t k)
{
	if (v == 0) {
		memset(o, 0, k * 2);
		return;
	}
	uint64_t pat = v * UINT64_C(0x0001000100010001);
	size_t i = 0;
	for (; i + 4 <= k; i += 4)
		memcpy(o + i, &pat, 8);
	for (; i < k; i++)
		o[i] = v;
}

static inline void fill32(uint32_t *o, uint32_t v, size_t k)
{
	if (v == 0) {
		memset(o, 0, k * 4);
		return;
	}
	uint64_t pat = v * UINT64_C(0x0000000100000001);
	size_t i = 0;
	for (; i + 2 <= k; i += 2)
		memcpy(o + i, &pat, 8);
	for (; i < k; i++)
		o[i] = v;
}

static inline __attribute__((always_inline)) int
rle_decode(const uint8_t *p, size_t n, int bw, int64_t count, void *out, const int wide,
	   struct firn_error *err)
{
	const char *what = wide ? "RLE/bit-packed values" : "RLE/bit-packed levels";
	if (count < 0)
		return firn_error_set(err, FIRN_EINVAL, "%s: negative count %lld", what,
				      (long long)count);
	if (bw < 0 || bw > (wide ? 32 : 16))
		return firn_error_set(err, FIRN_ECORRUPT, "%s: bit width %d out of range", what, bw);
	size_t total = (size_t)count;
	if (bw == 0) {
		/* every value is 0 and runs carry no value bytes */
		memset(out, 0, total * (wide ? 4 : 2));
		return 0;
	}
	const size_t vbytes = ((size_t)bw + 7) / 8;
	const uint32_t vmask = (uint32_t)((UINT64_C(1) << bw) - 1);
	size_t pos = 0, done = 0;
	while (done < total) {
		size_t hpos = pos;
		uint64_t h;
		if (read_uleb(p, n, &pos, &h) != 0)
			return firn_error_set(err, FIRN_ECORRUPT,
					      "%s: run header truncated or invalid at byte %zu (%zu of %zu values)",
					      what, hpos, done, total);
		size_t left = total - done;
		size_t rest = n - pos;
		if (h & 1) {
			uint64_t groups = h >> 1;
			size_t want = groups > left / 8 + 1 ? left : (size_t)groups * 8;
			if (want > left)
				want = left;
			/* A short final run is fine as long as the values still
			 * needed are there (parquet-java reads it the same way). */
			size_t need = (want * (size_t)bw + 7) / 8;
			if (need > rest)
				return firn_error_set(err, FIRN_ECORRUPT,
						      "%s: bit-packed run at byte %zu needs %zu bytes, %zu remain",
						      what, hpos, need, rest);
			if (wide)
				unpack32(p + pos, rest, bw, (uint32_t *)out + done, want);
			else
				unpack16(p + pos, rest, bw, (uint16_t *)out + done, want);
			done += want;
			pos += groups > rest / (size_t)bw ? rest : (size_t)groups * (size_t)bw;
		} else {
			uint64_t len = h >> 1;
			if (vbytes > rest)
				return firn_error_set(err, FIRN_ECORRUPT,
						      "%s: RLE run value truncated at byte %zu", what, pos);
			uint32_t v = 0;
			for (size_t k = 0; k < vbytes; k++)
				v |= (uint32_t)p[pos + k] << (8 * k);
			v &= vmask;
			pos += vbytes;
			size_t k = len > left ? left : (size_t)len;
			if (wide)
				fill32((uint32_t *)out + done, v, k);
			else
				fill16((uint16_t *)out + done, (uint16_t)v, k);
			done += k;
		}
	}
	return 0;
}

int firn_pq__rle_decode16(const uint8_t *p, size_t n, int bit_width, int64_t count,
			  uint16_t *out, struct firn_error *err)
{
	return rle_decode(p, n, bit_width, count, out, 0, err);
}

int firn_pq__rle_decode32(const uint8_t *p, size_t n, int bit_width, int64_t count,
			  uint32_t *out, struct firn_error *err)
{
	return rle_decode(p, n, bit_width, count, out, 1, err);
}

/* ---- encoding ---------------------------------------------------------- */

static inline uint8_t *put_uleb(uint8_t *d, uint64_t v)
{
	while (v >= 0x80) {
		*d++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*d++ = (uint8_t)v;
	return d;
}

static inline uint32_t get_val(const void *v, int wide, size_t i)
{
	return wide ? ((const uint32_t *)v)[i] : ((const uint16_t *)v)[i];
}

/* One bit-packed run per at most RUN_MAX / 8 groups; values past `end` are
 * the zero padding of the last group. */
static int emit_packed(struct firn_buf *out, const void *v, int wide, size_t start, size_t end,
		       int bw)
{
	const uint64_t mask = (UINT64_C(1) << bw) - 1;
	while (start < end) {
		size_t groups = (end - start + 7) / 8;
		if (groups > RUN_MAX / 8)
			groups = RUN_MAX / 8;
		if (firn_buf_reserve(out, 10 + groups * (size_t)bw) != 0)
			return FIRN_ENOMEM;
		uint8_t *d = put_uleb(out->data + out->len, ((uint64_t)groups << 1) | 1);
		size_t stop = start + groups * 8;
		uint64_t acc = 0;
		int nbits = 0;
		for (size_t i = start; i < stop; i++) {
			uint64_t x = i < end ? get_val(v, wide, i) & mask : 0;
			acc |= x << nbits;
			nbits += bw;
			while (nbits >= 8) {
				*d++ = (uint8_t)acc;
				acc >>= 8;
				nbits -= 8;
			}
		}
		/* 8 values of bw bits end on a byte boundary */
		out->len = (size_t)(d - out->data);
		start = stop < end ? stop : end;
	}
	return 0;
}

static int emit_rle(struct firn_buf *out, uint32_t x, size_t len, int bw)
{
	const size_t vbytes = ((size_t)bw + 7) / 8;
	if (bw < 32)
		x &= (uint32_t)((UINT64_C(1) << bw) - 1);
	while (len > 0) {
		size_t k = len > RUN_MAX ? (size_t)RUN_MAX : len;
		if (firn_buf_reserve(out, 10 + vbytes) != 0)
			return FIRN_ENOMEM;
		uint8_t *d = put_uleb(out->data + out->len, (uint64_t)k << 1);
		for (size_t b = 0; b < vbytes; b++)
			*d++ = (uint8_t)(x >> (8 * b));
		out->len = (size_t)(d - out->data);
		len -= k;
	}
	return 0;
}

/* First index after i whose value differs from v[i]. */
static inline size_t run_end(const void *v, int wide, size_t i, size_t n)
{
	uint32_t x = get_val(v, wide, i);
	size_t j = i + 1;
	while (j < n && j - i < 8 && get_val(v, wide, j) == x)
		j++;
	if (j - i < 8)
		return j;
	/* a long run (all-1 definition levels): compare 8 at a time */
	if (wide) {
		const uint32_t *a = v;
		while (j + 8 <= n) {
			uint32_t d = 0;
			for (int k = 0; k < 8; k++)
				d |= a[j + (size_t)k] ^ x;
			if (d != 0)
				break;
			j += 8;
		}
	} else {
		const uint16_t *a = v;
		while (j + 8 <= n) {
			uint32_t d = 0;
			for (int k = 0; k < 8; k++)
				d |= (uint32_t)(a[j + (size_t)k] ^ x);
			if (d != 0)
				break;
			j += 8;
		}
	}
	while (j < n && get_val(v, wide, j) == x)
		j++;
	return j;
}

static int rle_encode(struct firn_buf *out, const void *v, int wide, int64_t count, int bw)
{
	if (count <= 0)
		return 0;
	if (bw < 0)
		bw = 0;
	if (bw > 32)
		bw = 32;
	size_t n = (size_t)count;
	size_t lit = 0, i = 0;
	while (i < n) {
		size_t j = run_end(v, wide, i, n);
		size_t r = j - i;
		if (r >= 8) {
			/* pending literals must fill whole groups: borrow from
			 * the run, or fold the run into them if too short after */
			size_t odd = (i - lit) % 8;
			if (odd != 0) {
				size_t take = 8 - odd;
				if (r - take < 8) {
					i = j;
					continue;
				}
				i += take;
				r -= take;
			}
			if (i > lit && emit_packed(out, v, wide, lit, i, bw) != 0)
				return FIRN_ENOMEM;
			if (emit_rle(out, get_val(v, wide, i), r, bw) != 0)
				return FIRN_ENOMEM;
			lit = j;
		}
		i = j;
	}
	if (lit < n && emit_packed(out, v, wide, lit, n, bw) != 0)
		return FIRN_ENOMEM;
	return 0;
}

int firn_pq__rle_encode16(struct firn_buf *out, const uint16_t *v, int64_t count, int bit_width)
{
	return rle_encode(out, v, 0, count, bit_width);
}

int firn_pq__rle_encode32(struct firn_buf *out, const uint32_t *v, int64_t count, int bit_width)
{
	return rle_encode(out, v, 1, count, bit_width);
}
