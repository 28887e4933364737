/* PLAIN booleans and byte arrays, and BYTE_STREAM_SPLIT (Encodings.md). */
#include <string.h>

#include "parquet/pq_encoding.h"

int firn_pq__plain_bools_decode(const uint8_t *p, size_t n, int64_t count, uint8_t *out,
				size_t *consumed, struct firn_error *err)
{
	if (count < 0)
		return firn_error_set(err, FIRN_EINVAL, "PLAIN booleans: negative count %lld",
				      (long long)count);
	size_t k = (size_t)count;
	size_t need = k / 8 + (k % 8 != 0);
	if (need > n)
		return firn_error_set(err, FIRN_ECORRUPT,
				      "PLAIN booleans: %zu values need %zu bytes, %zu remain", k, need, n);
	size_t full = k / 8;
	for (size_t b = 0; b < full; b++) {
		uint8_t x = p[b];
		uint8_t *o = out + b * 8;
		for (int i = 0; i < 8; i++)
			o[i] = (x >> i) & 1;
	}
	for (size_t i = full * 8; i < k; i++)
		out[i] = (p[i / 8] >> (i % 8)) & 1;
	if (consumed != NULL)
		*consumed = need;
	return 0;
}

int firn_pq__plain_bools_encode(struct firn_buf *out, const uint8_t *v, int64_t count)
{
	if (count <= 0)
		return 0;
	size_t k = (size_t)count;
	size_t nbytes = k / 8 + (k % 8 != 0);
	if (firn_buf_reserve(out, nbytes) != 0)
		return FIRN_ENOMEM;
	uint8_t *d = out->data + out->len;
	for (size_t b = 0; b < nbytes; b++) {
		uint8_t x = 0;
		size_t end = b * 8 + 8 < k ? b * 8 + 8 : k;
		for (size_t i = b * 8; i < end; i++)
			x |= (uint8_t)((v[i] != 0) << (i % 8));
		d[b] = x;
	}
	out->len += nbytes;
	return 0;
}

int firn_pq__plain_views_decode(const uint8_t *p, size_t n, int64_t count, struct pq_view *out,
				size_t *consumed, struct firn_error *err)
{
	if (count < 0)
		return firn_error_set(err, FIRN_EINVAL, "PLAIN byte arrays: negative count %lld",
				      (long long)count);
	size_t pos = 0;
	for (int64_t i = 0; i < count; i++) {
		if (n - pos < 4)
			return firn_error_set(err, FIRN_ECORRUPT,
					      "PLAIN byte arrays: length of value %lld truncated at byte %zu",
					      (long long)i, pos);
		uint32_t len = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 |
			       (uint32_t)p[pos + 2] << 16 | (uint32_t)p[pos + 3] << 24;
		pos += 4;
		if (len > n - pos)
			return firn_error_set(err, FIRN_ECORRUPT,
					      "PLAIN byte arrays: value %lld at byte %zu has length %u, %zu bytes remain",
					      (long long)i, pos - 4, len, n - pos);
		out[i].ptr = p + pos;
		out[i].len = len;
		pos += len;
	}
	if (consumed != NULL)
		*consumed = pos;
	return 0;
}

/* ---- BYTE_STREAM_SPLIT ------------------------------------------------- */

/* Stream k of `stride` bytes holds byte k of every value. Inlined with a
 * constant width for the common types. */
static inline __attribute__((always_inline)) void
bss_gather(const uint8_t *p, size_t stride, const int width, size_t count, uint8_t *out)
{
	for (size_t i = 0; i < count; i++)
		for (int k = 0; k < width; k++)
			out[i * (size_t)width + (size_t)k] = p[(size_t)k * stride + i];
}

int firn_pq__byte_stream_split_decode(const uint8_t *p, size_t n, int width, int64_t count,
				      uint8_t *out, struct firn_error *err)
{
	if (width <= 0 || count < 0)
		return firn_error_set(err, FIRN_EINVAL,
				      "BYTE_STREAM_SPLIT: bad width %d or count %lld", width,
				      (long long)count);
	/* The streams fill the page, so their length is n / width; a page
	 * with nulls may ask for fewer values than the streams hold. */
	if (n % (size_t)width != 0)
		return firn_error_set(err, FIRN_ECORRUPT,
				      "BYTE_STREAM_SPLIT: %zu bytes is not a multiple of width %d", n,
				      width);
	size_t stride = n / (size_t)width;
	if ((uint64_t)count > stride)
		return firn_error_set(err, FIRN_ECORRUPT,
				      "BYTE_STREAM_SPLIT: %lld values of width %d need %llu bytes, page has %zu",
				      (long long)count, width,
				      (unsigned long long)count * (unsigned long long)width, n);
	size_t k = (size_t)count;
	switch (width) {
	case 2: bss_gather(p, stride, 2, k, out); break;
	case 4: bss_gather(p, stride, 4, k, out); break;
	case 8: bss_gather(p, stride, 8, k, out); break;
	case 16: bss_gather(p, stride, 16, k, out); break;
	default: bss_gather(p, stride, width, k, out); break;
	}
	return 0;
}

int firn_pq__byte_stream_split_encode(struct firn_buf *out, int width, const uint8_t *v,
				      int64_t count)
{
	if (width <= 0)
		return FIRN_EINVAL;
	if (count <= 0)
		return 0;
	size_t k = (size_t)count, w = (size_t)width;
	if (k > SIZE_MAX / w)
		return FIRN_ENOMEM;
	if (firn_buf_reserve(out, k * w) != 0)
		return FIRN_ENOMEM;
	uint8_t *d = out->data + out->len;
	for (size_t s = 0; s < w; s++)
		for (size_t i = 0; i < k; i++)
			d[s * k + i] = v[i * w + s];
	out->len += k * w;
	return 0;
}
