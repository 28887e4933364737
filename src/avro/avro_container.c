/* Avro object container files: header, blocks, sync markers, codecs (null,
 * deflate, snappy + CRC32, zstandard), reading from memory and writing to
 * memory. */
#include <errno.h>
#include <limits.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <zlib.h>
#include <zstd.h>

#include "avro/avro_private.h"
#include "firn/io.h"

static const uint8_t magic[4] = { 'O', 'b', 'j', 1 };

enum codec { CODEC_NULL, CODEC_DEFLATE, CODEC_SNAPPY, CODEC_ZSTD };
static const char *const codec_names[] = { "null", "deflate", "snappy", "zstandard" };

/* Records per block and bytes per block before the writer starts a new one. */
#define WRITE_BLOCK_RECORDS 1000
#define WRITE_BLOCK_BYTES (64 * 1024)

static int find_codec(const char *name, size_t len)
{
	for (int i = 0; i < 4; i++)
		if (strlen(codec_names[i]) == len && memcmp(codec_names[i], name, len) == 0)
			return i;
	return -1;
}

/* ---- reader ---- */

struct meta_entry {
	const char *key;
	const char *value;
	size_t len;
};

struct firn_avro_reader {
	char *name;                 /* path, for messages */
	uint8_t *owned;             /* the file, when we read it */
	const uint8_t *data;
	size_t len;
	size_t pos;                 /* where the next block starts */
	struct firn_arena arena;    /* schema and metadata */
	const struct firn_avro_schema *schema;
	enum codec codec;
	uint8_t sync[16];
	struct meta_entry *meta;
	int n_meta;
	/* the current block */
	struct firn_buf ubuf;       /* decompressed data */
	const uint8_t *bp, *bend;
	int64_t blk_left;           /* records not yet returned */
	int64_t blk_index;          /* 0-based, -1 before the first */
	size_t blk_offset;
	int64_t rec_index;          /* within the block */
	ZSTD_DCtx *zd;
	struct firn_error failed;   /* sticky: code != 0 after an error */
};

static int rcorrupt(const struct firn_avro_reader *r, struct firn_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int rcorrupt(const struct firn_avro_reader *r, struct firn_error *err, const char *fmt, ...)
{
	char msg[FIRN_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return firn_error_set(err, FIRN_ECORRUPT, "%s: %s", r->name, msg);
}

static int rnomem(const struct firn_avro_reader *r, struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "%s: out of memory", r->name);
}

static int read_long(struct firn_avro_reader *r, const uint8_t **p, const uint8_t *end, int64_t *v,
		     const char *what, struct firn_error *err)
{
	size_t off = (size_t)(*p - r->data);
	int rc = firn_avro__read_long(p, end, v);
	if (rc == -1)
		return rcorrupt(r, err, "%s truncated at offset %zu", what, off);
	if (rc != 0)
		return rcorrupt(r, err, "%s at offset %zu: varint longer than 64 bits", what, off);
	return 0;
}

/* A bytes/string in the header, copied into the arena with a NUL. */
static int read_header_bytes(struct firn_avro_reader *r, const uint8_t **p, const uint8_t *end,
			     const char **out, size_t *len, const char *what, struct firn_error *err)
{
	int64_t n;
	FIRN_TRY(read_long(r, p, end, &n, what, err));
	if (n < 0 || (uint64_t)n > (size_t)(end - *p))
		return rcorrupt(r, err, "header: %s length %lld with %zu bytes left", what, (long long)n,
				(size_t)(end - *p));
	char *s = firn_arena_strndup(&r->arena, (const char *)*p, (size_t)n);
	if (s == NULL)
		return rnomem(r, err);
	*p += n;
	*out = s;
	*len = (size_t)n;
	return 0;
}

static int read_header(struct firn_avro_reader *r, struct firn_error *err)
{
	const uint8_t *p = r->data, *end = r->data + r->len;
	if (r->len < 4 || memcmp(p, magic, 4) != 0)
		return rcorrupt(r, err, "not an Avro container file (no 'Obj\\x01' magic)");
	p += 4;
	int cap = 0;
	for (;;) {
		int64_t count;
		FIRN_TRY(read_long(r, &p, end, &count, "header metadata count", err));
		if (count == 0)
			break;
		if (count < 0) {
			if (count == INT64_MIN)
				return rcorrupt(r, err, "header: metadata count out of range");
			count = -count;
			int64_t size;
			FIRN_TRY(read_long(r, &p, end, &size, "header metadata size", err));
			if (size < 0 || (uint64_t)size > (size_t)(end - p))
				return rcorrupt(r, err, "header: metadata block size %lld with %zu bytes left",
						(long long)size, (size_t)(end - p));
		}
		/* each entry takes at least two bytes (two lengths) */
		if ((uint64_t)count > (size_t)(end - p) / 2 || count > INT32_MAX - r->n_meta)
			return rcorrupt(r, err, "header: %lld metadata entries with %zu bytes left",
					(long long)count, (size_t)(end - p));
		if (r->n_meta + count > cap) {
			int ncap = (int)(r->n_meta + count);
			struct meta_entry *m = firn_realloc(r->meta, (size_t)ncap * sizeof(*m));
			if (m == NULL)
				return rnomem(r, err);
			r->meta = m;
			cap = ncap;
		}
		for (int64_t i = 0; i < count; i++) {
			struct meta_entry *e = &r->meta[r->n_meta];
			size_t klen;
			FIRN_TRY(read_header_bytes(r, &p, end, &e->key, &klen, "metadata key", err));
			FIRN_TRY(read_header_bytes(r, &p, end, &e->value, &e->len, "metadata value", err));
			if (strlen(e->key) != klen)
				return rcorrupt(r, err, "header: metadata key with a NUL byte");
			r->n_meta++;
		}
	}
	if ((size_t)(end - p) < 16)
		return rcorrupt(r, err, "header: sync marker truncated");
	memcpy(r->sync, p, 16);
	p += 16;
	r->pos = (size_t)(p - r->data);

	size_t len;
	const char *schema = firn_avro_reader_meta(r, "avro.schema", &len);
	if (schema == NULL)
		return rcorrupt(r, err, "header: no avro.schema");
	int rc = firn_avro__schema_parse(&r->schema, &r->arena, schema, len, false, err);
	if (rc != 0) {
		if (rc == FIRN_EINVAL && err != NULL)
			err->code = rc = FIRN_ECORRUPT;
		firn_error_prefix(err, "%s: header", r->name);
		return rc;
	}
	const char *codec = firn_avro_reader_meta(r, "avro.codec", &len);
	r->codec = CODEC_NULL;
	if (codec != NULL) {
		int c = find_codec(codec, len);
		if (c < 0)
			return firn_error_set(err, FIRN_EUNSUPPORTED, "%s: codec \"%.40s\" not supported",
					      r->name, codec);
		r->codec = (enum codec)c;
	}
	return 0;
}

/* Opens over data, taking `owned` (freed with the reader, also on failure);
 * name is used in messages. */
static int open_named(struct firn_avro_reader **out, const uint8_t *data, size_t len,
		      uint8_t *owned, const char *name, struct firn_error *err)
{
	*out = NULL;
	struct firn_avro_reader *r = firn_calloc(1, sizeof(*r));
	char *nm = firn_strdup(name);
	if (r == NULL || nm == NULL) {
		firn_free(r);
		firn_free(nm);
		firn_free(owned);
		return firn_error_set(err, FIRN_ENOMEM, "%s: out of memory", name);
	}
	r->name = nm;
	r->owned = owned;
	r->data = data;
	r->len = len;
	r->blk_index = -1;
	int rc = read_header(r, err);
	if (rc != 0) {
		firn_avro_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int firn_avro_reader_open(struct firn_avro_reader **out, const char *path, struct firn_error *err)
{
	*out = NULL;
	uint8_t *buf;
	size_t size;
	FIRN_TRY(firn_io_read_all(path, &buf, &size, err));
	return open_named(out, buf, size, buf, path, err);
}

int firn_avro_reader_open_buffer(struct firn_avro_reader **out, uint8_t *data, size_t len,
				 const char *name, struct firn_error *err)
{
	return open_named(out, data, len, data, name, err);
}

int firn_avro_reader_open_memory(struct firn_avro_reader **out, const uint8_t *data, size_t len,
				 struct firn_error *err)
{
	return open_named(out, data, len, NULL, "avro data", err);
}

const struct firn_avro_schema *firn_avro_reader_schema(const struct firn_avro_reader *r)
{
	return r->schema;
}

const char *firn_avro_reader_codec(const struct firn_avro_reader *r)
{
	return codec_names[r->codec];
}

const char *firn_avro_reader_meta(const struct firn_avro_reader *r, const char *key, size_t *len)
{
	for (int i = 0; i < r->n_meta; i++)
		if (strcmp(r->meta[i].key, key) == 0) {
			if (len != NULL)
				*len = r->meta[i].len;
			return r->meta[i].value;
		}
	return NULL;
}

int firn_avro_reader_meta_count(const struct firn_avro_reader *r)
{
	return r->n_meta;
}

const char *firn_avro_reader_meta_at(const struct firn_avro_reader *r, int i,
				     const char **value, size_t *len)
{
	if (i < 0 || i >= r->n_meta)
		return NULL;
	if (value != NULL)
		*value = r->meta[i].value;
	if (len != NULL)
		*len = r->meta[i].len;
	return r->meta[i].key;
}

/* Makes room for more output, up to FIRN_AVRO_MAX_BLOCK. */
static int grow_out(struct firn_avro_reader *r, size_t hint, struct firn_error *err)
{
	if (r->ubuf.cap >= FIRN_AVRO_MAX_BLOCK)
		return rcorrupt(r, err, "block %lld: decompresses to more than %zu bytes",
				(long long)r->blk_index, FIRN_AVRO_MAX_BLOCK);
	size_t want = r->ubuf.cap ? r->ubuf.cap * 2 : hint;
	if (want < 4096)
		want = 4096;
	if (want > FIRN_AVRO_MAX_BLOCK)
		want = FIRN_AVRO_MAX_BLOCK;
	if (firn_buf_reserve(&r->ubuf, want - r->ubuf.len) != 0)
		return rnomem(r, err);
	return 0;
}

static int inflate_block(struct firn_avro_reader *r, const uint8_t *src, size_t n, struct firn_error *err)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return rnomem(r, err);
	zs.next_in = (Bytef *)src;
	zs.avail_in = (uInt)n;
	int rc = 0;
	for (;;) {
		if (r->ubuf.len == r->ubuf.cap && (rc = grow_out(r, n * 4, err)) != 0)
			break;
		zs.next_out = r->ubuf.data + r->ubuf.len;
		zs.avail_out = (uInt)(r->ubuf.cap - r->ubuf.len);
		int z = inflate(&zs, Z_NO_FLUSH);
		r->ubuf.len = (size_t)(zs.next_out - r->ubuf.data);
		if (z == Z_STREAM_END)
			break;
		if (z == Z_OK || (z == Z_BUF_ERROR && zs.avail_out == 0))
			continue;
		if (z == Z_MEM_ERROR) {
			rc = rnomem(r, err);
		} else {
			rc = rcorrupt(r, err, "block %lld at offset %zu: deflate data %s", (long long)r->blk_index,
				      r->blk_offset, z == Z_BUF_ERROR ? "truncated" : zs.msg ? zs.msg : "bad");
		}
		break;
	}
	inflateEnd(&zs);
	return rc;
}

static int unsnappy_block(struct firn_avro_reader *r, const uint8_t *src, size_t n, struct firn_error *err)
{
	if (n < 4)
		return rcorrupt(r, err, "block %lld at offset %zu: snappy block without its CRC",
				(long long)r->blk_index, r->blk_offset);
	n -= 4;
	size_t ulen;
	if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK)
		return rcorrupt(r, err, "block %lld at offset %zu: bad snappy length", (long long)r->blk_index,
				r->blk_offset);
	if (ulen > FIRN_AVRO_MAX_BLOCK)
		return rcorrupt(r, err, "block %lld: decompresses to more than %zu bytes",
				(long long)r->blk_index, FIRN_AVRO_MAX_BLOCK);
	if (firn_buf_reserve(&r->ubuf, ulen ? ulen : 1) != 0)
		return rnomem(r, err);
	size_t got = ulen;
	if (snappy_uncompress((const char *)src, n, (char *)r->ubuf.data, &got) != SNAPPY_OK || got != ulen)
		return rcorrupt(r, err, "block %lld at offset %zu: bad snappy data", (long long)r->blk_index,
				r->blk_offset);
	r->ubuf.len = ulen;
	uint32_t want = (uint32_t)src[n] << 24 | (uint32_t)src[n + 1] << 16 | (uint32_t)src[n + 2] << 8 | src[n + 3];
	uint32_t crc = (uint32_t)crc32(0, r->ubuf.data, (uInt)ulen);
	if (crc != want)
		return rcorrupt(r, err, "block %lld at offset %zu: snappy CRC32 %08x, expected %08x",
				(long long)r->blk_index, r->blk_offset, crc, want);
	return 0;
}

static int unzstd_block(struct firn_avro_reader *r, const uint8_t *src, size_t n, struct firn_error *err)
{
	if (r->zd == NULL && (r->zd = ZSTD_createDCtx()) == NULL)
		return rnomem(r, err);
	ZSTD_DCtx_reset(r->zd, ZSTD_reset_session_only);
	/* frames may lack a content size (Java's ZstdOutputStream): stream */
	ZSTD_inBuffer in = { src, n, 0 };
	for (;;) {
		if (r->ubuf.len == r->ubuf.cap)
			FIRN_TRY(grow_out(r, n * 4, err));
		ZSTD_outBuffer out = { r->ubuf.data, r->ubuf.cap, r->ubuf.len };
		size_t z = ZSTD_decompressStream(r->zd, &out, &in);
		if (ZSTD_isError(z))
			return rcorrupt(r, err, "block %lld at offset %zu: zstandard: %s", (long long)r->blk_index,
					r->blk_offset, ZSTD_getErrorName(z));
		r->ubuf.len = out.pos;
		if (in.pos == in.size && z == 0)
			return 0;
		if (in.pos == in.size && out.pos < out.size)
			return rcorrupt(r, err, "block %lld at offset %zu: zstandard frame truncated",
					(long long)r->blk_index, r->blk_offset);
	}
}

/* Moves to the next block. 0, or 1 at the end of the file. */
static int next_block(struct firn_avro_reader *r, struct firn_error *err)
{
	if (r->pos == r->len)
		return 1;
	const uint8_t *p = r->data + r->pos, *end = r->data + r->len;
	r->blk_index++;
	r->blk_offset = r->pos;
	int64_t count, size;
	FIRN_TRY(read_long(r, &p, end, &count, "block count", err));
	FIRN_TRY(read_long(r, &p, end, &size, "block size", err));
	size_t avail = (size_t)(end - p);
	if (count < 0 || size < 0 || (uint64_t)size > avail || avail - (size_t)size < 16)
		return rcorrupt(r, err, "block %lld at offset %zu: %lld records in %lld bytes with %zu bytes left",
				(long long)r->blk_index, r->blk_offset, (long long)count, (long long)size, avail);
	if ((uint64_t)size > FIRN_AVRO_MAX_BLOCK)
		return rcorrupt(r, err, "block %lld at offset %zu: %lld bytes, more than %zu",
				(long long)r->blk_index, r->blk_offset, (long long)size, FIRN_AVRO_MAX_BLOCK);
	const uint8_t *src = p;
	if (memcmp(p + size, r->sync, 16) != 0)
		return rcorrupt(r, err, "block %lld at offset %zu: sync marker does not match the header's",
				(long long)r->blk_index, r->blk_offset);
	r->pos = (size_t)(p + size + 16 - r->data);

	r->ubuf.len = 0;
	if (count == 0) {
		r->bp = r->bend = src; /* nothing to decode; the data is ignored */
		r->blk_left = 0;
		return 0;
	}
	switch (r->codec) {
	case CODEC_NULL:
		r->bp = src;
		r->bend = src + size;
		break;
	case CODEC_DEFLATE:
		FIRN_TRY(inflate_block(r, src, (size_t)size, err));
		break;
	case CODEC_SNAPPY:
		FIRN_TRY(unsnappy_block(r, src, (size_t)size, err));
		break;
	case CODEC_ZSTD:
		FIRN_TRY(unzstd_block(r, src, (size_t)size, err));
		break;
	}
	if (r->codec != CODEC_NULL) {
		r->bp = r->ubuf.data;
		r->bend = r->ubuf.data + r->ubuf.len;
	}
	size_t ulen = (size_t)(r->bend - r->bp);
	uint64_t min = r->schema->min_size;
	uint64_t max = min > 0 ? ulen / min : (uint64_t)ulen + (1u << 20);
	if ((uint64_t)count > max)
		return rcorrupt(r, err, "block %lld at offset %zu: %lld records in %zu bytes",
				(long long)r->blk_index, r->blk_offset, (long long)count, ulen);
	r->blk_left = count;
	r->rec_index = 0;
	return 0;
}

static int reader_next(struct firn_avro_reader *r, struct firn_arena *arena,
		       const struct firn_avro_value **out, struct firn_error *err)
{
	while (r->blk_left == 0) {
		if (r->bp != r->bend)
			return rcorrupt(r, err, "block %lld at offset %zu: %zu bytes after the last record",
					(long long)r->blk_index, r->blk_offset, (size_t)(r->bend - r->bp));
		int rc = next_block(r, err);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return 0;
	}
	struct firn_avro_value *v = firn_arena_alloc(arena, sizeof(*v));
	if (v == NULL)
		return rnomem(r, err);
	size_t n = (size_t)(r->bend - r->bp);
	/* every value but records, nulls and union wrappers takes a byte: a
	 * value count far beyond the bytes left means a hostile input */
	struct firn_avro__decoder d = { r->bp, r->bend, arena,
		(n > (UINT64_MAX - 65536) / 4 ? UINT64_MAX : 4 * (uint64_t)n + 65536) };
	int rc = firn_avro__decode(&d, r->schema, v, err);
	if (rc != 0) {
		if (rc == FIRN_ECORRUPT)
			firn_error_prefix(err, "%s: block %lld at offset %zu: record %lld", r->name,
					  (long long)r->blk_index, r->blk_offset, (long long)r->rec_index);
		return rc;
	}
	r->bp = d.p;
	r->blk_left--;
	r->rec_index++;
	*out = v;
	return 0;
}

int firn_avro_reader_next(struct firn_avro_reader *r, struct firn_arena *arena,
			  const struct firn_avro_value **out, struct firn_error *err)
{
	*out = NULL;
	if (r->failed.code != 0)
		return firn_error_set(err, r->failed.code, "%s", r->failed.message);
	int rc = reader_next(r, arena, out, &r->failed);
	if (rc != 0) {
		if (r->failed.code == 0)
			r->failed.code = rc;
		firn_error_set(err, rc, "%s", r->failed.message);
		if (rc == FIRN_ENOMEM) /* not sticky: the caller may free memory and retry */
			firn_error_clear(&r->failed);
		return rc;
	}
	return 0;
}

void firn_avro_reader_free(struct firn_avro_reader *r)
{
	if (r == NULL)
		return;
	firn_arena_free(&r->arena);
	firn_buf_free(&r->ubuf);
	ZSTD_freeDCtx(r->zd);
	firn_free(r->meta);
	firn_free(r->owned);
	firn_free(r->name);
	firn_free(r);
}

/* ---- writer ---- */

struct firn_avro_writer {
	struct firn_arena arena;     /* schema */
	const struct firn_avro_schema *schema;
	enum codec codec;
	uint8_t sync[16];
	struct firn_buf out;         /* the file so far */
	struct firn_buf block;       /* encoded records of the open block */
	struct firn_buf tmp;         /* compressed block */
	int64_t count;               /* records in the open block */
	int64_t total;
	ZSTD_CCtx *zc;
	bool finished;
};

static int put_long(struct firn_buf *b, int64_t v)
{
	uint8_t tmp[10];
	return firn_buf_append(b, tmp, firn_avro__put_long(tmp, v));
}

static int put_str(struct firn_buf *b, const char *s)
{
	size_t n = strlen(s);
	FIRN_TRY(put_long(b, (int64_t)n));
	return firn_buf_append(b, s, n);
}

static int wnomem(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "avro writer: out of memory");
}

static int compress_block(struct firn_avro_writer *w, const uint8_t **data, size_t *len,
			  struct firn_error *err)
{
	const uint8_t *src = w->block.data;
	size_t n = w->block.len;
	struct firn_buf *t = &w->tmp;
	t->len = 0;
	if (w->codec == CODEC_NULL) {
		*data = src;
		*len = n;
		return 0;
	}
	if (n > UINT32_MAX)
		return firn_error_set(err, FIRN_EINVAL, "avro writer: block of %zu bytes is too large", n);
	switch (w->codec) {
	case CODEC_DEFLATE: {
		z_stream zs;
		memset(&zs, 0, sizeof(zs));
		if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return wnomem(err);
		size_t bound = deflateBound(&zs, (uLong)n);
		if (firn_buf_reserve(t, bound) != 0) {
			deflateEnd(&zs);
			return wnomem(err);
		}
		zs.next_in = (Bytef *)src;
		zs.avail_in = (uInt)n;
		zs.next_out = t->data;
		zs.avail_out = (uInt)(bound > UINT32_MAX ? UINT32_MAX : bound);
		int z = deflate(&zs, Z_FINISH);
		t->len = (size_t)(zs.next_out - t->data);
		deflateEnd(&zs);
		if (z != Z_STREAM_END)
			return firn_error_set(err, FIRN_ENOMEM, "avro writer: deflate failed (%d)", z);
		break;
	}
	case CODEC_SNAPPY: {
		size_t bound = snappy_max_compressed_length(n);
		if (firn_buf_reserve(t, bound + 4) != 0)
			return wnomem(err);
		size_t clen = bound;
		if (snappy_compress((const char *)src, n, (char *)t->data, &clen) != SNAPPY_OK)
			return firn_error_set(err, FIRN_ENOMEM, "avro writer: snappy failed");
		uint32_t crc = (uint32_t)crc32(0, src, (uInt)n);
		t->len = clen;
		uint8_t be[4] = { (uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc };
		firn_buf_append(t, be, 4); /* reserved above */
		break;
	}
	case CODEC_ZSTD: {
		if (w->zc == NULL && (w->zc = ZSTD_createCCtx()) == NULL)
			return wnomem(err);
		size_t bound = ZSTD_compressBound(n);
		if (firn_buf_reserve(t, bound) != 0)
			return wnomem(err);
		size_t z = ZSTD_compressCCtx(w->zc, t->data, bound, src, n, ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(z))
			return firn_error_set(err, FIRN_ENOMEM, "avro writer: zstandard: %s", ZSTD_getErrorName(z));
		t->len = z;
		break;
	}
	case CODEC_NULL:
		break;
	}
	*data = t->data;
	*len = t->len;
	return 0;
}

static int flush_block(struct firn_avro_writer *w, struct firn_error *err)
{
	if (w->count == 0)
		return 0;
	const uint8_t *data = NULL;
	size_t len = 0;
	FIRN_TRY(compress_block(w, &data, &len, err));
	if (put_long(&w->out, w->count) != 0 || put_long(&w->out, (int64_t)len) != 0 ||
	    firn_buf_append(&w->out, data, len) != 0 || firn_buf_append(&w->out, w->sync, 16) != 0)
		return wnomem(err);
	w->count = 0;
	w->block.len = 0;
	return 0;
}

static int write_header(struct firn_avro_writer *w, int n_meta, const char *const *keys,
			const char *const *values, struct firn_error *err)
{
	struct firn_buf js = FIRN_BUF_INIT;
	int rc = firn_avro_schema_to_json(w->schema, &js, err);
	if (rc == 0)
		rc = firn_buf_cstr(&js);
	struct firn_buf *o = &w->out;
	if (rc == 0)
		rc = firn_buf_append(o, magic, 4) || put_long(o, 2 + (int64_t)n_meta) ||
		     put_str(o, "avro.schema") || put_str(o, (const char *)js.data) ||
		     put_str(o, "avro.codec") || put_str(o, codec_names[w->codec]);
	for (int i = 0; rc == 0 && i < n_meta; i++)
		rc = put_str(o, keys[i]) || put_str(o, values[i]);
	if (rc == 0)
		rc = put_long(o, 0) || firn_buf_append(o, w->sync, 16);
	firn_buf_free(&js);
	return rc ? wnomem(err) : 0;
}

int firn_avro_writer_open(struct firn_avro_writer **out, const char *schema_json, const char *codec,
			  int n_meta, const char *const *meta_keys, const char *const *meta_values,
			  struct firn_error *err)
{
	*out = NULL;
	if (schema_json == NULL)
		return firn_error_set(err, FIRN_EINVAL, "avro writer: no schema");
	int c = codec == NULL ? CODEC_DEFLATE : find_codec(codec, strlen(codec));
	if (c < 0)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "avro writer: codec \"%s\" not supported "
				      "(null, deflate, snappy, zstandard)", codec);
	if (n_meta < 0 || (n_meta > 0 && (meta_keys == NULL || meta_values == NULL)))
		return firn_error_set(err, FIRN_EINVAL, "avro writer: bad metadata arguments");
	for (int i = 0; i < n_meta; i++) {
		if (meta_keys[i] == NULL || meta_values[i] == NULL)
			return firn_error_set(err, FIRN_EINVAL, "avro writer: metadata entry %d is NULL", i);
		if (strncmp(meta_keys[i], "avro.", 5) == 0)
			return firn_error_set(err, FIRN_EINVAL, "avro writer: metadata key %s: the avro. prefix is reserved",
					      meta_keys[i]);
		for (int k = 0; k < i; k++)
			if (strcmp(meta_keys[k], meta_keys[i]) == 0)
				return firn_error_set(err, FIRN_EINVAL, "avro writer: metadata key %s given twice",
						      meta_keys[i]);
	}
	struct firn_avro_writer *w = firn_calloc(1, sizeof(*w));
	if (w == NULL)
		return wnomem(err);
	w->codec = (enum codec)c;
	int rc = firn_avro__schema_parse(&w->schema, &w->arena, schema_json, strlen(schema_json), true, err);
	if (rc != 0) {
		firn_error_prefix(err, "avro writer");
		goto fail;
	}
	size_t got = 0;
	while (got < 16) {
		ssize_t n = getrandom(w->sync + got, 16 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = firn_error_set(err, FIRN_EIO, "avro writer: getrandom: %s", strerror(errno));
			goto fail;
		}
		got += (size_t)n;
	}
	if ((rc = write_header(w, n_meta, meta_keys, meta_values, err)) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	firn_avro_writer_free(w);
	return rc;
}

const struct firn_avro_schema *firn_avro_writer_schema(const struct firn_avro_writer *w)
{
	return w->schema;
}

int firn_avro_writer_append(struct firn_avro_writer *w, const struct firn_avro_value *record,
			    struct firn_error *err)
{
	if (w->finished)
		return firn_error_set(err, FIRN_EINVAL, "avro writer: append after finish");
	if (record == NULL)
		return firn_error_set(err, FIRN_EINVAL, "avro writer: record %lld is NULL", (long long)w->total);
	size_t mark = w->block.len;
	int rc = firn_avro__encode(&w->block, w->schema, record, err);
	if (rc != 0) {
		w->block.len = mark;
		firn_error_prefix(err, "avro writer: record %lld", (long long)w->total);
		return rc;
	}
	w->count++;
	w->total++;
	if (w->count >= WRITE_BLOCK_RECORDS || w->block.len >= WRITE_BLOCK_BYTES)
		return flush_block(w, err);
	return 0;
}

int firn_avro_writer_finish(struct firn_avro_writer *w, uint8_t **data, size_t *len,
			    struct firn_error *err)
{
	*data = NULL;
	*len = 0;
	if (w->finished)
		return firn_error_set(err, FIRN_EINVAL, "avro writer: finished twice");
	FIRN_TRY(flush_block(w, err));
	w->finished = true;
	*data = firn_buf_detach(&w->out, len);
	return 0;
}

void firn_avro_writer_free(struct firn_avro_writer *w)
{
	if (w == NULL)
		return;
	firn_arena_free(&w->arena);
	firn_buf_free(&w->out);
	firn_buf_free(&w->block);
	firn_buf_free(&w->tmp);
	ZSTD_freeCCtx(w->zc);
	firn_free(w);
}
