/* DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY
 * (parquet-format Encodings.md). */
#include <stdlib.h>

#include "parquet/pq_encoding.h"

struct cursor {
	const uint8_t *p, *end;
};

static int uleb(struct cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end)
			return -1;
		uint8_t b = *c->p++;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static int zigzag(struct cursor *c, int64_t *out)
{
	uint64_t u;
	if (uleb(c, &u) != 0)
		return -1;
	*out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}

/* Reads value i (bit width w) of a little-endian bit-packed run. */
static inline uint64_t unpack_at(const uint8_t *p, int w, uint32_t i)
{
	uint64_t bit = (uint64_t)i * (uint64_t)w;
	const uint8_t *q = p + (bit >> 3);
	int shift = (int)(bit & 7);
	int nbytes = (shift + w + 7) / 8;
	uint64_t v = 0;
	for (int k = 0; k < nbytes && k < 8; k++)
		v |= (uint64_t)q[k] << (8 * k);
	v >>= shift;
	if (nbytes > 8) /* shift >= 1 here */
		v |= (uint64_t)q[8] << (64 - shift);
	return w == 64 ? v : v & ((1ULL << w) - 1);
}

int firn_pq__delta_binary_decode(const uint8_t *p, size_t n, int width, int64_t count,
				 void *out, size_t *consumed, struct firn_error *err)
{
	struct cursor c = { p, p + n };
	uint64_t block, minis, total;
	int64_t first;
	if (uleb(&c, &block) || uleb(&c, &minis) || uleb(&c, &total) || zigzag(&c, &first))
		return firn_error_set(err, FIRN_ECORRUPT, "DELTA_BINARY_PACKED: header truncated");
	if (block == 0 || block % 128 != 0 || block > (1u << 20) || minis == 0 || block % minis != 0 ||
	    (block / minis) % 32 != 0)
		return firn_error_set(err, FIRN_ECORRUPT,
				      "DELTA_BINARY_PACKED: bad block size %llu / %llu miniblocks",
				      (unsigned long long)block, (unsigned long long)minis);
	if (total < (uint64_t)count)
		return firn_error_set(err, FIRN_ECORRUPT, "DELTA_BINARY_PACKED: %llu values, %lld needed",
				      (unsigned long long)total, (long long)count);
	uint32_t per_mini = (uint32_t)(block / minis);
	uint8_t *o = out;
	int max_w = width * 8;
	if (count > 0) {
		if (width == 4) {
			int32_t v = (int32_t)first;
			memcpy(o, &v, 4);
		} else {
			memcpy(o, &first, 8);
		}
	}
	uint64_t last = (uint64_t)first;
	int64_t i = count > 0 ? 1 : 0;
	/* values beyond `count` are not read, but a header saying there are
	 * more must still parse up to the last miniblock we need */
	while (i < count) {
		int64_t min_delta;
		if (zigzag(&c, &min_delta))
			return firn_error_set(err, FIRN_ECORRUPT, "DELTA_BINARY_PACKED: block header truncated");
		if ((uint64_t)(c.end - c.p) < minis)
			return firn_error_set(err, FIRN_ECORRUPT, "DELTA_BINARY_PACKED: bit widths truncated");
		const uint8_t *widths = c.p;
		c.p += minis;
		for (uint64_t m = 0; m < minis && i < count; m++) {
			int w = widths[m];
			if (w > max_w)
				return firn_error_set(err, FIRN_ECORRUPT, "DELTA_BINARY_PACKED: bit width %d", w);
			size_t bytes = (size_t)per_mini * (size_t)w / 8;
			if ((size_t)(c.end - c.p) < bytes)
				return firn_error_set(err, FIRN_ECORRUPT, "DELTA_BINARY_PACKED: miniblock truncated");
			for (uint32_t k = 0; k < per_mini && i < count; k++, i++) {
				uint64_t d = w ? unpack_at(c.p, w, k) : 0;
				last = last + (uint64_t)min_delta + d;
				if (width == 4) {
					int32_t v = (int32_t)(uint32_t)last;
					memcpy(o + 4 * i, &v, 4);
				} else {
					memcpy(o + 8 * i, &last, 8);
				}
			}
			c.p += bytes;
		}
	}
	*consumed = (size_t)(c.p - p);
	return 0;
}

static void put_uleb(struct firn_buf *b, uint64_t v, int *rc)
{
	while (v >= 0x80) {
		if (firn_buf_putc(b, (uint8_t)(v | 0x80)))
			*rc = FIRN_ENOMEM;
		v >>= 7;
	}
	if (firn_buf_putc(b, (uint8_t)v))
		*rc = FIRN_ENOMEM;
}

int firn_pq__delta_binary_encode(struct firn_buf *out, int width, const void *v, int64_t count)
{
	int rc = 0;
	const uint8_t *in = v;
	enum { BLOCK = 128, MINIS = 4, PER = 32 };
	uint64_t vals_prev = 0;
	int64_t first = 0;
	if (count > 0) {
		if (width == 4) { int32_t x; memcpy(&x, in, 4); first = x; }
		else memcpy(&first, in, 8);
	}
	put_uleb(out, BLOCK, &rc);
	put_uleb(out, MINIS, &rc);
	put_uleb(out, (uint64_t)count, &rc);
	put_uleb(out, ((uint64_t)first << 1) ^ (uint64_t)(first >> 63), &rc);
	vals_prev = (uint64_t)first;
	int64_t i = 1;
	uint64_t deltas[BLOCK];
	while (i < count) {
		int n = 0;
		for (; n < BLOCK && i < count; n++, i++) {
			uint64_t cur;
			if (width == 4) { int32_t x; memcpy(&x, in + 4 * i, 4); cur = (uint64_t)(int64_t)x; }
			else memcpy(&cur, in + 8 * i, 8);
			uint64_t d = cur - vals_prev;
			if (width == 4)
				d = (uint64_t)(int64_t)(int32_t)(uint32_t)d;
			deltas[n] = d;
			vals_prev = cur;
		}
		int64_t min = (int64_t)deltas[0];
		for (int k = 1; k < n; k++)
			if ((int64_t)deltas[k] < min)
				min = (int64_t)deltas[k];
		put_uleb(out, ((uint64_t)min << 1) ^ (uint64_t)(min >> 63), &rc);
		uint8_t widths[MINIS] = { 0 };
		for (int m = 0; m < MINIS; m++) {
			uint64_t mx = 0;
			for (int k = m * PER; k < (m + 1) * PER && k < n; k++) {
				uint64_t rel = deltas[k] - (uint64_t)min;
				if (width == 4)
					rel &= 0xFFFFFFFFu;
				if (rel > mx)
					mx = rel;
			}
			widths[m] = (uint8_t)firn_pq__bit_width(mx);
		}
		if (firn_buf_append(out, widths, MINIS))
			rc = FIRN_ENOMEM;
		int used = (n + PER - 1) / PER;
		for (int m = 0; m < used; m++) {
			int w = widths[m];
			size_t at = out->len;
			if (firn_buf_zeros(out, (size_t)PER * (size_t)w / 8)) {
				rc = FIRN_ENOMEM;
				break;
			}
			for (int k = 0; k < PER && w > 0; k++) {
				int idx = m * PER + k;
				uint64_t rel = idx < n ? deltas[idx] - (uint64_t)min : 0;
				if (width == 4)
					rel &= 0xFFFFFFFFu;
				for (int b = 0; b < w; b++)
					if ((rel >> b) & 1) {
						size_t bit = (size_t)k * (size_t)w + (size_t)b;
						out->data[at + bit / 8] |= (uint8_t)(1u << (bit % 8));
					}
			}
		}
	}
	return rc;
}

int firn_pq__delta_length_decode(const uint8_t *p, size_t n, int64_t count,
				 struct pq_view *out, struct firn_error *err)
{
	int32_t *lens = firn_malloc((size_t)(count > 0 ? count : 1) * 4);
	if (lens == NULL)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t used;
	int rc = firn_pq__delta_binary_decode(p, n, 4, count, lens, &used, err);
	if (rc == 0) {
		size_t pos = used;
		for (int64_t i = 0; i < count; i++) {
			if (lens[i] < 0 || (size_t)lens[i] > n - pos) {
				rc = firn_error_set(err, FIRN_ECORRUPT,
						    "DELTA_LENGTH_BYTE_ARRAY: value %lld runs past the page", (long long)i);
				break;
			}
			out[i].ptr = p + pos;
			out[i].len = (uint32_t)lens[i];
			pos += (size_t)lens[i];
		}
	}
	firn_free(lens);
	return rc;
}

int firn_pq__delta_byte_array_decode(const uint8_t *p, size_t n, int64_t count,
				     struct pq_view *out, struct firn_buf *scratch,
				     struct firn_error *err)
{
	int32_t *prefix = firn_malloc((size_t)(count > 0 ? count : 1) * 4);
	if (prefix == NULL)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t used;
	int rc = firn_pq__delta_binary_decode(p, n, 4, count, prefix, &used, err);
	if (rc == 0)
		rc = firn_pq__delta_length_decode(p + used, n - used, count, out, err);
	/* rebuild: value i = value i-1's first prefix[i] bytes + suffix i; the
	 * views first hold offsets into scratch (it may move), pointers at the end */
	size_t prev_at = 0, prev_len = 0;
	size_t *starts = rc == 0 ? firn_malloc((size_t)(count > 0 ? count : 1) * sizeof(size_t)) : NULL;
	if (rc == 0 && starts == NULL)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (int64_t i = 0; rc == 0 && i < count; i++) {
		if (prefix[i] < 0 || (size_t)prefix[i] > prev_len) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "DELTA_BYTE_ARRAY: prefix %d longer than the previous value",
					    prefix[i]);
			break;
		}
		size_t len = (size_t)prefix[i] + out[i].len;
		if (len > UINT32_MAX || firn_buf_reserve(scratch, len) != 0) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			break;
		}
		size_t at = scratch->len;
		if (prefix[i] > 0)
			memmove(scratch->data + at, scratch->data + prev_at, (size_t)prefix[i]);
		if (out[i].len > 0)
			memcpy(scratch->data + at + prefix[i], out[i].ptr, out[i].len);
		scratch->len += len;
		starts[i] = at;
		out[i].len = (uint32_t)len;
		prev_at = at;
		prev_len = len;
	}
	for (int64_t i = 0; rc == 0 && i < count; i++)
		out[i].ptr = scratch->data ? scratch->data + starts[i] : (const uint8_t *)"";
	firn_free(starts);
	firn_free(prefix);
	return rc;
}
