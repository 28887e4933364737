/* Parquet value and level encodings, and page compression. Internal.
 *
 * Decoders take a byte range from an untrusted file: every length is checked,
 * and running off the end is FIRN_ECORRUPT ("<what> truncated at byte N"),
 * never a read past `n`. Counts are the number of values to produce. */
#ifndef FIRN_PQ_ENCODING_H
#define FIRN_PQ_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firn/util.h"

/* A byte string inside some buffer (page, dictionary, scratch). */
struct pq_view {
	const uint8_t *ptr;
	uint32_t len;
};

/* Bits needed for values 0..max (0 for max 0). */
int firn_pq__bit_width(uint64_t max);

/* ---- RLE / bit-packing hybrid (no length prefix: callers handle it) ---- */
int firn_pq__rle_decode16(const uint8_t *p, size_t n, int bit_width, int64_t count,
			  uint16_t *out, struct firn_error *err);
int firn_pq__rle_decode32(const uint8_t *p, size_t n, int bit_width, int64_t count,
			  uint32_t *out, struct firn_error *err);
/* Appends the hybrid encoding of v[0..count) (RLE runs for >= 8 repeats,
 * bit-packed groups of 8 otherwise). 0 or FIRN_ENOMEM. */
int firn_pq__rle_encode16(struct firn_buf *out, const uint16_t *v, int64_t count, int bit_width);
int firn_pq__rle_encode32(struct firn_buf *out, const uint32_t *v, int64_t count, int bit_width);

/* ---- PLAIN ----------------------------------------------------------- */
/* BOOLEAN: count bits, LSB first -> one byte 0/1 per value. *consumed =
 * ceil(count/8). */
int firn_pq__plain_bools_decode(const uint8_t *p, size_t n, int64_t count, uint8_t *out,
				size_t *consumed, struct firn_error *err);
int firn_pq__plain_bools_encode(struct firn_buf *out, const uint8_t *v, int64_t count);
/* BYTE_ARRAY: u32 LE length + bytes, count times -> views into p. */
int firn_pq__plain_views_decode(const uint8_t *p, size_t n, int64_t count, struct pq_view *out,
				size_t *consumed, struct firn_error *err);

/* ---- DELTA_BINARY_PACKED (width 4 = INT32, 8 = INT64) ------------------ */
/* out receives count values of `width` bytes; *consumed is the encoded size
 * (needed by DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY). */
int firn_pq__delta_binary_decode(const uint8_t *p, size_t n, int width, int64_t count,
				 void *out, size_t *consumed, struct firn_error *err);
int firn_pq__delta_binary_encode(struct firn_buf *out, int width, const void *v, int64_t count);

/* ---- DELTA_LENGTH_BYTE_ARRAY: views into p ----------------------------- */
int firn_pq__delta_length_decode(const uint8_t *p, size_t n, int64_t count,
				 struct pq_view *out, struct firn_error *err);

/* ---- DELTA_BYTE_ARRAY (prefix + suffix): values rebuilt into `scratch`
 * (reset by the caller), views point into scratch->data once done. ------ */
int firn_pq__delta_byte_array_decode(const uint8_t *p, size_t n, int64_t count,
				     struct pq_view *out, struct firn_buf *scratch,
				     struct firn_error *err);

/* ---- BYTE_STREAM_SPLIT (width 2, 4, 8 or FLBA length) ------------------ */
int firn_pq__byte_stream_split_decode(const uint8_t *p, size_t n, int width, int64_t count,
				      uint8_t *out, struct firn_error *err);
int firn_pq__byte_stream_split_encode(struct firn_buf *out, int width, const uint8_t *v,
				      int64_t count);

/* ---- compression (enum pq_codec) ---------------------------------------- */
/* Codec state kept across pages (zstd contexts); zero-initialise, free with
 * firn_pq__codec_ctx_free. NULL where one is taken: a context per call. */
struct pq_codec_ctx {
	void *zc; /* ZSTD_CCtx */
	void *zd; /* ZSTD_DCtx */
};
void firn_pq__codec_ctx_free(struct pq_codec_ctx *c);
/* Appends the compressed form of in[0..n) to out. level <= 0: codec default. */
int firn_pq__compress(struct pq_codec_ctx *ctx, int codec, int level, const uint8_t *in, size_t n,
		      struct firn_buf *out, struct firn_error *err);
/* Decompresses in[0..n) into exactly out_len bytes at out; a different
 * size is FIRN_ECORRUPT. */
int firn_pq__decompress(struct pq_codec_ctx *ctx, int codec, const uint8_t *in, size_t n, uint8_t *out,
			size_t out_len, struct firn_error *err);
/* "zstd" -> PQ_ZSTD etc. (uncompressed|none, snappy, gzip, zstd, lz4_raw|lz4);
 * -1 when unknown. And back ("ZSTD"). */
int firn_pq__codec_from_name(const char *name);
const char *firn_pq__codec_name(int codec);

#endif
