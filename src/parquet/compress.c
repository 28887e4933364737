/* Page compression: snappy, gzip, zstd, lz4 (raw, and Hadoop-framed on read). */
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet/pq_encoding.h"
#include "parquet/pq_meta.h"

int firn_pq__codec_from_name(const char *name)
{
	if (strcmp(name, "uncompressed") == 0 || strcmp(name, "none") == 0) return PQ_UNCOMPRESSED;
	if (strcmp(name, "snappy") == 0) return PQ_SNAPPY;
	if (strcmp(name, "gzip") == 0) return PQ_GZIP;
	if (strcmp(name, "zstd") == 0) return PQ_ZSTD;
	if (strcmp(name, "lz4_raw") == 0) return PQ_LZ4_RAW;
	return -1;
}

const char *firn_pq__codec_name(int codec)
{
	switch (codec) {
	case PQ_UNCOMPRESSED: return "UNCOMPRESSED";
	case PQ_SNAPPY: return "SNAPPY";
	case PQ_GZIP: return "GZIP";
	case PQ_LZO: return "LZO";
	case PQ_BROTLI: return "BROTLI";
	case PQ_LZ4: return "LZ4";
	case PQ_ZSTD: return "ZSTD";
	case PQ_LZ4_RAW: return "LZ4_RAW";
	}
	return NULL;
}

static int nomem(struct firn_error *err) { return firn_error_set(err, FIRN_ENOMEM, "out of memory"); }

static int gzip_compress(int level, const uint8_t *in, size_t n, struct firn_buf *out, struct firn_error *err)
{
	z_stream z = { 0 };
	if (deflateInit2(&z, level > 0 ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return nomem(err);
	size_t bound = deflateBound(&z, (uLong)n) + 32;
	if (firn_buf_reserve(out, bound) != 0) {
		deflateEnd(&z);
		return nomem(err);
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out->data + out->len;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	size_t produced = bound - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END)
		return firn_error_set(err, FIRN_EIO, "gzip: compression failed");
	out->len += produced;
	return 0;
}

static int gzip_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t out_len, struct firn_error *err)
{
	z_stream z = { 0 };
	if (inflateInit2(&z, 47) != Z_OK)
		return nomem(err);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)out_len;
	int rc;
	for (;;) {
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0) {
			/* concatenated gzip members */
			if (inflateReset(&z) != Z_OK)
				break;
			continue;
		}
		break;
	}
	size_t produced = out_len - z.avail_out;
	int trailing = z.avail_out == 0 && z.avail_in > 0 && rc != Z_STREAM_END;
	inflateEnd(&z);
	if ((rc != Z_STREAM_END && rc != Z_BUF_ERROR && rc != Z_OK) || trailing)
		return firn_error_set(err, FIRN_ECORRUPT, "gzip: corrupt data");
	if (produced != out_len)
		return firn_error_set(err, FIRN_ECORRUPT, "gzip: decompressed to %zu bytes, header says %zu",
				      produced, out_len);
	return 0;
}

void firn_pq__codec_ctx_free(struct pq_codec_ctx *c)
{
	ZSTD_freeCCtx(c->zc);
	ZSTD_freeDCtx(c->zd);
	c->zc = c->zd = NULL;
}

int firn_pq__compress(struct pq_codec_ctx *ctx, int codec, int level, const uint8_t *in, size_t n,
		      struct firn_buf *out, struct firn_error *err)
{
	switch (codec) {
	case PQ_UNCOMPRESSED:
		return firn_buf_append(out, in, n) == 0 ? 0 : nomem(err);
	case PQ_SNAPPY: {
		size_t cap = snappy_max_compressed_length(n);
		if (firn_buf_reserve(out, cap) != 0)
			return nomem(err);
		if (snappy_compress((const char *)in, n, (char *)out->data + out->len, &cap) != SNAPPY_OK)
			return firn_error_set(err, FIRN_EIO, "snappy: compression failed");
		out->len += cap;
		return 0;
	}
	case PQ_GZIP:
		return gzip_compress(level, in, n, out, err);
	case PQ_ZSTD: {
		size_t cap = ZSTD_compressBound(n);
		if (firn_buf_reserve(out, cap) != 0)
			return nomem(err);
		size_t r;
		if (ctx != NULL) {
			if (ctx->zc == NULL && (ctx->zc = ZSTD_createCCtx()) == NULL)
				return nomem(err);
			r = ZSTD_compressCCtx(ctx->zc, out->data + out->len, cap, in, n, level > 0 ? level : 1);
		} else {
			r = ZSTD_compress(out->data + out->len, cap, in, n, level > 0 ? level : 1);
		}
		if (ZSTD_isError(r))
			return firn_error_set(err, FIRN_EIO, "zstd: %s", ZSTD_getErrorName(r));
		out->len += r;
		return 0;
	}
	case PQ_LZ4_RAW: {
		if (n > LZ4_MAX_INPUT_SIZE)
			return firn_error_set(err, FIRN_EINVAL, "lz4: page of %zu bytes is too large", n);
		int cap = LZ4_compressBound((int)n);
		if (firn_buf_reserve(out, (size_t)cap) != 0)
			return nomem(err);
		int r = LZ4_compress_default((const char *)in, (char *)out->data + out->len, (int)n, cap);
		if (r <= 0 && n > 0)
			return firn_error_set(err, FIRN_EIO, "lz4: compression failed");
		out->len += (size_t)r;
		return 0;
	}
	}
	return firn_error_set(err, FIRN_EUNSUPPORTED, "compression codec %d is not supported", codec);
}

static int lz4_raw(const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
	if (n > INT32_MAX || out_len > INT32_MAX)
		return -1;
	int r = LZ4_decompress_safe((const char *)in, (char *)out, (int)n, (int)out_len);
	return r;
}

/* Hadoop's framing: blocks of [u32 BE raw size][u32 BE compressed size][lz4 data]. */
static int lz4_hadoop(const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
	size_t ip = 0, op = 0;
	while (ip < n) {
		if (n - ip < 8)
			return -1;
		uint32_t raw = (uint32_t)in[ip] << 24 | (uint32_t)in[ip + 1] << 16 | (uint32_t)in[ip + 2] << 8 | in[ip + 3];
		uint32_t comp = (uint32_t)in[ip + 4] << 24 | (uint32_t)in[ip + 5] << 16 | (uint32_t)in[ip + 6] << 8 | in[ip + 7];
		ip += 8;
		if (comp > n - ip || raw > out_len - op)
			return -1;
		int r = lz4_raw(in + ip, comp, out + op, raw);
		if (r < 0 || (uint32_t)r != raw)
			return -1;
		ip += comp;
		op += raw;
	}
	return (int)op;
}

int firn_pq__decompress(struct pq_codec_ctx *ctx, int codec, const uint8_t *in, size_t n, uint8_t *out,
			size_t out_len, struct firn_error *err)
{
	switch (codec) {
	case PQ_UNCOMPRESSED:
		if (n != out_len)
			return firn_error_set(err, FIRN_ECORRUPT, "page of %zu bytes, header says %zu", n, out_len);
		memcpy(out, in, n);
		return 0;
	case PQ_SNAPPY: {
		size_t len;
		if (snappy_uncompressed_length((const char *)in, n, &len) != SNAPPY_OK)
			return firn_error_set(err, FIRN_ECORRUPT, "snappy: corrupt data");
		if (len != out_len)
			return firn_error_set(err, FIRN_ECORRUPT, "snappy: decompressed to %zu bytes, header says %zu",
					      len, out_len);
		if (snappy_uncompress((const char *)in, n, (char *)out, &len) != SNAPPY_OK)
			return firn_error_set(err, FIRN_ECORRUPT, "snappy: corrupt data");
		return 0;
	}
	case PQ_GZIP:
		return gzip_decompress(in, n, out, out_len, err);
	case PQ_ZSTD: {
		ZSTD_DCtx *z = ctx != NULL ? ctx->zd : NULL;
		if (z == NULL && (z = ZSTD_createDCtx()) == NULL)
			return nomem(err);
		if (ctx != NULL) {
			ctx->zd = z;
			ZSTD_DCtx_reset(z, ZSTD_reset_session_only);
		}
		ZSTD_inBuffer ib = { in, n, 0 };
		ZSTD_outBuffer ob = { out, out_len, 0 };
		uint8_t spare;
		while (ib.pos < ib.size) {
			size_t in_before = ib.pos, out_before = ob.pos;
			/* once the page is full, decode into a 1-byte spare: any
			 * output there means the data is longer than the header says */
			ZSTD_outBuffer sp = { &spare, 1, 0 };
			size_t r = ZSTD_decompressStream(z, ob.pos < ob.size ? &ob : &sp, &ib);
			if (ZSTD_isError(r)) {
				if (ctx == NULL)
					ZSTD_freeDCtx(z);
				else
					ZSTD_DCtx_reset(z, ZSTD_reset_session_only);
				return firn_error_set(err, FIRN_ECORRUPT, "zstd: %s", ZSTD_getErrorName(r));
			}
			if (sp.pos > 0) {
				if (ctx == NULL)
					ZSTD_freeDCtx(z);
				return firn_error_set(err, FIRN_ECORRUPT, "zstd: decompressed to more than %zu bytes",
						      out_len);
			}
			if (ib.pos == in_before && ob.pos == out_before && sp.pos == 0)
				break; /* no progress: truncated frame */
		}
		if (ctx == NULL)
			ZSTD_freeDCtx(z);
		if (ob.pos != out_len)
			return firn_error_set(err, FIRN_ECORRUPT, "zstd: decompressed to %zu bytes, header says %zu",
					      ob.pos, out_len);
		return 0;
	}
	case PQ_LZ4_RAW:
	case PQ_LZ4: {
		int r = -1;
		if (codec == PQ_LZ4)
			r = lz4_hadoop(in, n, out, out_len);
		if (r < 0 || (size_t)r != out_len)
			r = lz4_raw(in, n, out, out_len);
		if (r < 0)
			return firn_error_set(err, FIRN_ECORRUPT, "lz4: corrupt data");
		if ((size_t)r != out_len)
			return firn_error_set(err, FIRN_ECORRUPT, "lz4: decompressed to %d bytes, header says %zu",
					      r, out_len);
		return 0;
	}
	}
	const char *name = firn_pq__codec_name(codec);
	return firn_error_set(err, FIRN_EUNSUPPORTED, "compression codec %s is not supported",
			      name ? name : "unknown");
}
