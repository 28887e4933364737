/* Position sets, deletion-vector-v1 blobs (64-bit portable Roaring), and
 * Puffin files of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "firn/io.h"
#include "puffin/puffin.h"
#include "util/alloc.h"

int firn_posset_add(struct firn_posset *s, int64_t pos)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		int64_t *v = firn_realloc(s->v, cap * sizeof(int64_t));
		if (!v)
			return FIRN_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = pos;
	return 0;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

void firn_posset_normalize(struct firn_posset *s)
{
	bool sorted = true;
	for (size_t i = 1; i < s->n && sorted; i++)
		sorted = s->v[i - 1] < s->v[i];
	if (sorted)
		return;
	qsort(s->v, s->n, sizeof(int64_t), cmp64);
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++)
		if (w == 0 || s->v[w - 1] != s->v[i])
			s->v[w++] = s->v[i];
	s->n = w;
}

int firn_posset_union(struct firn_posset *s, const struct firn_posset *o)
{
	for (size_t i = 0; i < o->n; i++)
		FIRN_TRY(firn_posset_add(s, o->v[i]));
	firn_posset_normalize(s);
	return 0;
}

bool firn_posset_contains(const struct firn_posset *s, int64_t pos)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->v[mid] < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->v[lo] == pos;
}

void firn_posset_free(struct firn_posset *s)
{
	firn_free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- roaring -------------------------------------------------------- */

static void put16(struct firn_buf *b, uint16_t v) { uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) }; firn_buf_append(b, x, 2); }
static void put32(struct firn_buf *b, uint32_t v) { for (int i = 0; i < 4; i++) firn_buf_putc(b, (uint8_t)(v >> (8 * i))); }
static void put32be(struct firn_buf *b, uint32_t v) { for (int i = 3; i >= 0; i--) firn_buf_putc(b, (uint8_t)(v >> (8 * i))); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t get32be(const uint8_t *p) { return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24; }

/* One 32-bit Roaring bitmap of the low halves v[0..n) (sorted). */
static void roaring32(struct firn_buf *b, const uint32_t *v, size_t n)
{
	size_t start = b->len;
	/* containers: runs of equal high 16 bits */
	size_t nc = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || (v[i] >> 16) != (v[i - 1] >> 16))
			nc++;
	put32(b, 12346);
	put32(b, (uint32_t)nc);
	size_t i = 0;
	while (i < n) { /* descriptive header */
		size_t j = i;
		while (j < n && (v[j] >> 16) == (v[i] >> 16))
			j++;
		put16(b, (uint16_t)(v[i] >> 16));
		put16(b, (uint16_t)(j - i - 1));
		i = j;
	}
	size_t off_at = b->len;
	for (size_t k = 0; k < nc; k++)
		put32(b, 0);
	i = 0;
	size_t k = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && (v[j] >> 16) == (v[i] >> 16))
			j++;
		uint32_t off = (uint32_t)(b->len - start);
		for (int q = 0; q < 4; q++)
			b->data[off_at + 4 * k + q] = (uint8_t)(off >> (8 * q));
		if (j - i <= 4096) {
			for (size_t q = i; q < j; q++)
				put16(b, (uint16_t)v[q]);
		} else {
			uint8_t bits[8192];
			memset(bits, 0, sizeof(bits));
			for (size_t q = i; q < j; q++) {
				uint16_t low = (uint16_t)v[q];
				bits[low >> 3] |= (uint8_t)(1u << (low & 7));
			}
			firn_buf_append(b, bits, sizeof(bits));
		}
		i = j;
		k++;
	}
}

int firn_dv_encode(const struct firn_posset *s, struct firn_buf *out)
{
	struct firn_buf body = { 0 };
	static const uint8_t magic[4] = { 0xD1, 0xD3, 0x39, 0x64 };
	firn_buf_append(&body, magic, 4);
	uint64_t max_key = s->n ? (uint64_t)s->v[s->n - 1] >> 32 : 0;
	uint64_t nmaps = s->n ? max_key + 1 : 0;
	for (int q = 0; q < 8; q++)
		firn_buf_putc(&body, (uint8_t)(nmaps >> (8 * q)));
	uint32_t *low = firn_malloc((s->n + 1) * sizeof(uint32_t));
	if (!low) {
		firn_buf_free(&body);
		return FIRN_ENOMEM;
	}
	size_t i = 0;
	for (uint64_t key = 0; key < nmaps; key++) {
		size_t j = i, m = 0;
		while (j < s->n && ((uint64_t)s->v[j] >> 32) == key)
			low[m++] = (uint32_t)s->v[j++];
		put32(&body, (uint32_t)key);
		roaring32(&body, low, m);
		i = j;
	}
	firn_free(low);
	uint32_t crc = firn_crc32(0, body.data, body.len);
	put32be(out, (uint32_t)body.len);
	firn_buf_append(out, body.data, body.len);
	put32be(out, crc);
	int rc = body.data ? 0 : FIRN_ENOMEM;
	firn_buf_free(&body);
	return rc;
}

static int corrupt(struct firn_error *err, const char *what)
{
	return firn_error_set(err, FIRN_ECORRUPT, "deletion vector: %s", what);
}

int firn_dv_decode(const uint8_t *p, size_t n, struct firn_posset *s, struct firn_error *err)
{
	s->n = 0;
	if (n < 12)
		return corrupt(err, "blob too short");
	uint32_t len = get32be(p);
	if ((size_t)len + 8 != n)
		return corrupt(err, "length does not match the blob");
	if (p[4] != 0xD1 || p[5] != 0xD3 || p[6] != 0x39 || p[7] != 0x64)
		return corrupt(err, "bad magic");
	if (firn_crc32(0, p + 4, len) != get32be(p + 4 + len))
		return corrupt(err, "CRC mismatch");
	const uint8_t *q = p + 8, *end = p + 4 + len;
	if (end - q < 8)
		return corrupt(err, "truncated");
	uint64_t nmaps = 0;
	for (int i = 7; i >= 0; i--)
		nmaps = nmaps << 8 | q[i];
	q += 8;
	for (uint64_t m = 0; m < nmaps; m++) {
		if (end - q < 12)
			return corrupt(err, "truncated bitmap");
		uint64_t key = get32(q);
		q += 4;
		uint32_t cookie = get32(q);
		size_t nc;
		const uint8_t *runflags = NULL;
		bool has_offsets;
		if ((cookie & 0xFFFF) == 12347) {
			nc = (cookie >> 16) + 1;
			q += 4;
			if ((size_t)(end - q) < (nc + 7) / 8)
				return corrupt(err, "truncated run flags");
			runflags = q;
			q += (nc + 7) / 8;
			has_offsets = nc >= 4;
		} else if (cookie == 12346) {
			nc = get32(q + 4);
			q += 8;
			has_offsets = true;
		} else {
			return corrupt(err, "bad Roaring cookie");
		}
		if (nc > 65536 || (size_t)(end - q) < 4 * nc)
			return corrupt(err, "truncated container header");
		const uint8_t *desc = q;
		q += 4 * nc;
		if (has_offsets) {
			if ((size_t)(end - q) < 4 * nc)
				return corrupt(err, "truncated offsets");
			q += 4 * nc;
		}
		for (size_t c = 0; c < nc; c++) {
			uint64_t hi = (key << 32) | ((uint64_t)get16(desc + 4 * c) << 16);
			size_t card = (size_t)get16(desc + 4 * c + 2) + 1;
			bool run = runflags && (runflags[c / 8] >> (c % 8) & 1);
			if (run) {
				if (end - q < 2)
					return corrupt(err, "truncated run container");
				size_t nr = get16(q);
				q += 2;
				if ((size_t)(end - q) < 4 * nr)
					return corrupt(err, "truncated run container");
				for (size_t r = 0; r < nr; r++) {
					uint32_t st = get16(q + 4 * r), ln = get16(q + 4 * r + 2);
					for (uint32_t x = st; x <= st + ln; x++)
						FIRN_TRY(firn_posset_add(s, (int64_t)(hi | x)));
				}
				q += 4 * nr;
			} else if (card <= 4096) {
				if ((size_t)(end - q) < 2 * card)
					return corrupt(err, "truncated array container");
				for (size_t r = 0; r < card; r++)
					FIRN_TRY(firn_posset_add(s, (int64_t)(hi | get16(q + 2 * r))));
				q += 2 * card;
			} else {
				if (end - q < 8192)
					return corrupt(err, "truncated bitset container");
				for (uint32_t x = 0; x < 65536; x++)
					if (q[x >> 3] >> (x & 7) & 1)
						FIRN_TRY(firn_posset_add(s, (int64_t)(hi | x)));
				q += 8192;
			}
		}
	}
	firn_posset_normalize(s);
	return 0;
}

/* ---- Puffin --------------------------------------------------------- */

int firn_puffin_write_dvs(const char *path, struct firn_puffin_blob *blobs, size_t n,
			  int64_t *file_size, struct firn_error *err)
{
	struct firn_buf b = { 0 };
	firn_buf_append(&b, "PFA1", 4);
	json_t *meta = json_object(), *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		blobs[i].offset = (int64_t)b.len;
		if (firn_dv_encode(blobs[i].positions, &b) != 0) {
			json_decref(meta);
			json_decref(arr);
			firn_buf_free(&b);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		blobs[i].length = (int64_t)b.len - blobs[i].offset;
		json_t *bm = json_object(), *fields = json_array(), *props = json_object();
		json_array_append_new(fields, json_integer(2147483645));
		char card[24];
		snprintf(card, sizeof(card), "%zu", blobs[i].positions->n);
		json_object_set_new(bm, "type", json_string("deletion-vector-v1"));
		json_object_set_new(bm, "fields", fields);
		json_object_set_new(bm, "snapshot-id", json_integer(-1));
		json_object_set_new(bm, "sequence-number", json_integer(-1));
		json_object_set_new(bm, "offset", json_integer(blobs[i].offset));
		json_object_set_new(bm, "length", json_integer(blobs[i].length));
		json_object_set_new(props, "referenced-data-file", json_string(blobs[i].referenced_data_file));
		json_object_set_new(props, "cardinality", json_string(card));
		json_object_set_new(bm, "properties", props);
		json_array_append_new(arr, bm);
	}
	json_object_set_new(meta, "blobs", arr);
	json_t *fp = json_object();
	json_object_set_new(fp, "created-by", json_string(firn_created_by()));
	json_object_set_new(meta, "properties", fp);
	char *text = firn_json__dumps(meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(meta);
	size_t tl = text ? strlen(text) : 0;
	firn_buf_append(&b, "PFA1", 4);
	firn_buf_append(&b, text, tl);
	firn_free(text);
	put32(&b, (uint32_t)tl);
	put32(&b, 0);
	firn_buf_append(&b, "PFA1", 4);
	int rc = b.data ? firn_io_write_all(path, FIRN_IO_EXCL | FIRN_IO_SYNC_DIR, b.data, b.len, err)
			: firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0 && file_size)
		*file_size = (int64_t)b.len;
	firn_buf_free(&b);
	return rc;
}

int firn_puffin_read_dv(const char *path, int64_t offset, int64_t length,
			struct firn_posset *out, struct firn_error *err)
{
	/* only the blob's bytes: the blob carries its own magic and checksum */
	struct firn_io_input *in;
	int rc = firn_io_open_read(path, &in, err);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: deletion vector file is missing", path);
	FIRN_TRY(rc);
	if (offset < 4 || length < 12 || length > in->size || offset > in->size - length) {
		firn_io_input_close(in);
		return firn_error_set(err, FIRN_ECORRUPT, "%s: no deletion vector at %lld+%lld", path,
				      (long long)offset, (long long)length);
	}
	uint8_t *data = firn_malloc((size_t)length);
	rc = data ? firn_io_read_at(in, offset, (size_t)length, data, err)
		  : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_io_input_close(in);
	if (rc != 0) {
		firn_free(data);
		return rc;
	}
	rc = firn_dv_decode(data, (size_t)length, out, err);
	firn_free(data);
	if (rc != 0)
		firn_error_prefix(err, "%s", path);
	return rc;
}
