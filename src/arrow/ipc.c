/* The Arrow IPC stream format, written: a schema message, one record batch
 * message per batch, the end-of-stream marker. The flatbuffers of the
 * messages (Schema.fbs, Message.fbs) are built here by hand, back to front
 * as flatbuffers are; bodies are little-endian with every buffer padded to
 * 8 bytes; sliced arrays (offset != 0) are written from their offset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firn/arrow.h"
#include "firn/util.h"

/* ---- a minimal flatbuffer builder ------------------------------------
 *
 * Bytes are prepended: an object's reference is its distance from the end
 * of the buffer once written, which the final layout keeps. */

struct fb {
	uint8_t *data; /* cap bytes; used: the last size of them */
	size_t cap, size, minalign;
	bool oom;
};

static bool fb_room(struct fb *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->size + n <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->size + n)
		cap *= 2;
	uint8_t *d = firn_malloc(cap);
	if (!d) {
		b->oom = true;
		return false;
	}
	if (b->size)
		memcpy(d + cap - b->size, b->data + b->cap - b->size, b->size);
	firn_free(b->data);
	b->data = d;
	b->cap = cap;
	return true;
}

/* Pads so that after `extra` more bytes the size is a multiple of align. */
static void fb_prep(struct fb *b, size_t align, size_t extra)
{
	if (align > b->minalign)
		b->minalign = align;
	size_t pad = (align - ((b->size + extra) % align)) % align;
	if (pad && fb_room(b, pad)) {
		memset(b->data + b->cap - b->size - pad, 0, pad);
		b->size += pad;
	}
}

static void fb_put(struct fb *b, const void *p, size_t n)
{
	if (!fb_room(b, n))
		return;
	memcpy(b->data + b->cap - b->size - n, p, n);
	b->size += n;
}

static void fb_u32(struct fb *b, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	fb_put(b, le, 4);
}

static void fb_i64(struct fb *b, int64_t s)
{
	uint64_t v = (uint64_t)s;
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	fb_put(b, le, 8);
}

/* A string; its reference. */
static uint32_t fb_string(struct fb *b, const char *s, size_t n)
{
	fb_prep(b, 4, n + 1);
	uint8_t z = 0;
	fb_put(b, &z, 1);
	fb_put(b, s, n);
	fb_prep(b, 4, 0);
	fb_u32(b, (uint32_t)n);
	return (uint32_t)b->size;
}

/* A vector of references (refs in order); its reference. */
static uint32_t fb_ref_vector(struct fb *b, const uint32_t *refs, size_t n)
{
	fb_prep(b, 4, 4 * n);
	for (size_t i = n; i-- > 0;)
		fb_u32(b, (uint32_t)(b->size + 4 - refs[i]));
	fb_u32(b, (uint32_t)n);
	return (uint32_t)b->size;
}

/* A vector of structs of two longs (FieldNode, Buffer); its reference. */
static uint32_t fb_pair_vector(struct fb *b, const int64_t *v, size_t n)
{
	fb_prep(b, 4, 16 * n);
	fb_prep(b, 8, 16 * n);
	for (size_t i = n; i-- > 0;) {
		fb_i64(b, v[2 * i + 1]);
		fb_i64(b, v[2 * i]);
	}
	fb_u32(b, (uint32_t)n);
	return (uint32_t)b->size;
}

/* A table under construction: up to 8 fields, each a scalar of 1, 2, 4 or
 * 8 bytes or a reference. */
struct fb_table {
	struct { int slot; int size; bool ref; uint64_t v; } f[8];
	int n;
};

static void tb_scalar(struct fb_table *t, int slot, int size, uint64_t v)
{
	t->f[t->n].slot = slot;
	t->f[t->n].size = size;
	t->f[t->n].ref = false;
	t->f[t->n++].v = v;
}

static void tb_ref(struct fb_table *t, int slot, uint32_t ref)
{
	t->f[t->n].slot = slot;
	t->f[t->n].size = 4;
	t->f[t->n].ref = true;
	t->f[t->n++].v = ref;
}

/* Writes the table and its vtable; the table's reference. */
static uint32_t fb_table_end(struct fb *b, const struct fb_table *t)
{
	uint16_t pos[8] = { 0 };
	size_t at[8];
	int max_slot = -1;
	size_t start = b->size;
	for (int size = 8; size >= 1; size /= 2) /* largest first: least padding */
		for (int i = 0; i < t->n; i++) {
			if (t->f[i].size != size)
				continue;
			fb_prep(b, (size_t)size, 0);
			uint64_t v = t->f[i].ref ? (uint64_t)(b->size + 4 - t->f[i].v) : t->f[i].v;
			uint8_t le[8];
			for (int k = 0; k < size; k++)
				le[k] = (uint8_t)(v >> (8 * k));
			fb_put(b, le, (size_t)size);
			at[i] = b->size;
		}
	fb_prep(b, 4, 0);
	fb_u32(b, 0); /* soffset to the vtable, patched below */
	size_t table = b->size;
	for (int i = 0; i < t->n; i++) {
		pos[t->f[i].slot] = (uint16_t)(table - at[i]);
		if (t->f[i].slot > max_slot)
			max_slot = t->f[i].slot;
	}
	int n_slots = max_slot + 1;
	uint16_t vt[10];
	vt[0] = (uint16_t)(4 + 2 * n_slots);
	vt[1] = (uint16_t)(table - start);
	for (int i = 0; i < n_slots; i++)
		vt[2 + i] = pos[i];
	fb_prep(b, 2, 0);
	for (int i = n_slots + 2; i-- > 0;) {
		uint8_t le[2] = { (uint8_t)vt[i], (uint8_t)(vt[i] >> 8) };
		fb_put(b, le, 2);
	}
	if (!b->oom) {
		uint32_t so = (uint32_t)(b->size - table); /* table - vtable, positive */
		uint8_t *p = b->data + b->cap - table;
		p[0] = (uint8_t)so;
		p[1] = (uint8_t)(so >> 8);
		p[2] = (uint8_t)(so >> 16);
		p[3] = (uint8_t)(so >> 24);
	}
	return (uint32_t)table;
}

static void fb_finish(struct fb *b, uint32_t root)
{
	fb_prep(b, b->minalign > 8 ? b->minalign : 8, 4);
	fb_u32(b, (uint32_t)(b->size + 4 - root));
}

/* ---- types ----------------------------------------------------------- */

/* Schema.fbs's Type union */
enum {
	T_NULL = 1, T_INT = 2, T_FLOAT = 3, T_BINARY = 4, T_UTF8 = 5, T_BOOL = 6, T_DECIMAL = 7,
	T_DATE = 8, T_TIME = 9, T_TIMESTAMP = 10, T_LIST = 12, T_STRUCT = 13, T_FIXED = 15,
	T_MAP = 17, T_LARGE_BINARY = 19, T_LARGE_UTF8 = 20, T_LARGE_LIST = 21
};

/* The buffer layout of one node. */
enum layout { L_NULL, L_BITS, L_FIXED, L_VAR32, L_VAR64, L_STRUCT, L_LIST32, L_LIST64 };

struct node_type {
	int type;  /* T_* */
	enum layout layout;
	int width; /* L_FIXED: bytes */
	int bits;  /* int/time bit width; decimal: 128 */
	bool is_signed;
	int unit;  /* float precision; date/time unit */
	int precision, scale;
	const char *tz; /* timestamp: into the format, tz_len bytes */
	size_t tz_len;
};

static int unit_of(char c)
{
	return c == 's' ? 0 : c == 'm' ? 1 : c == 'u' ? 2 : c == 'n' ? 3 : -1;
}

static int parse_format(const char *f, struct node_type *t, struct firn_error *err)
{
	memset(t, 0, sizeof(*t));
	static const struct { char c; int bits; bool is_signed; } ints[] = {
		{ 'c', 8, true }, { 'C', 8, false }, { 's', 16, true }, { 'S', 16, false },
		{ 'i', 32, true }, { 'I', 32, false }, { 'l', 64, true }, { 'L', 64, false },
	};
	if (f[0] && !f[1]) {
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
			if (f[0] == ints[i].c) {
				*t = (struct node_type){ .type = T_INT, .layout = L_FIXED, .width = ints[i].bits / 8,
							 .bits = ints[i].bits, .is_signed = ints[i].is_signed };
				return 0;
			}
		switch (f[0]) {
		case 'n': t->type = T_NULL; t->layout = L_NULL; return 0;
		case 'b': t->type = T_BOOL; t->layout = L_BITS; return 0;
		case 'e': case 'f': case 'g':
			t->type = T_FLOAT;
			t->layout = L_FIXED;
			t->width = f[0] == 'e' ? 2 : f[0] == 'f' ? 4 : 8;
			t->unit = f[0] == 'e' ? 0 : f[0] == 'f' ? 1 : 2;
			return 0;
		case 'u': t->type = T_UTF8; t->layout = L_VAR32; return 0;
		case 'U': t->type = T_LARGE_UTF8; t->layout = L_VAR64; return 0;
		case 'z': t->type = T_BINARY; t->layout = L_VAR32; return 0;
		case 'Z': t->type = T_LARGE_BINARY; t->layout = L_VAR64; return 0;
		default: break;
		}
	} else if (strcmp(f, "tdD") == 0 || strcmp(f, "tdm") == 0) {
		t->type = T_DATE;
		t->layout = L_FIXED;
		t->width = f[2] == 'D' ? 4 : 8;
		t->unit = f[2] == 'D' ? 0 : 1;
		return 0;
	} else if (f[0] == 't' && f[1] == 't' && unit_of(f[2]) >= 0 && !f[3]) {
		t->type = T_TIME;
		t->layout = L_FIXED;
		t->unit = unit_of(f[2]);
		t->width = t->unit <= 1 ? 4 : 8;
		t->bits = 8 * t->width;
		return 0;
	} else if (f[0] == 't' && f[1] == 's' && unit_of(f[2]) >= 0 && f[3] == ':') {
		t->type = T_TIMESTAMP;
		t->layout = L_FIXED;
		t->width = 8;
		t->unit = unit_of(f[2]);
		t->tz = f + 4;
		t->tz_len = strlen(f + 4);
		return 0;
	} else if (f[0] == 'd' && f[1] == ':') {
		int p, s, bw = 128;
		if (sscanf(f + 2, "%d,%d,%d", &p, &s, &bw) >= 2 && bw == 128) {
			*t = (struct node_type){ .type = T_DECIMAL, .layout = L_FIXED, .width = 16, .bits = 128,
						 .precision = p, .scale = s };
			return 0;
		}
	} else if (f[0] == 'w' && f[1] == ':') {
		int w = atoi(f + 2);
		if (w > 0) {
			*t = (struct node_type){ .type = T_FIXED, .layout = L_FIXED, .width = w };
			return 0;
		}
	} else if (strcmp(f, "+s") == 0) {
		t->type = T_STRUCT;
		t->layout = L_STRUCT;
		return 0;
	} else if (strcmp(f, "+l") == 0 || strcmp(f, "+m") == 0) {
		t->type = f[1] == 'l' ? T_LIST : T_MAP;
		t->layout = L_LIST32;
		return 0;
	} else if (strcmp(f, "+L") == 0) {
		t->type = T_LARGE_LIST;
		t->layout = L_LIST64;
		return 0;
	}
	return firn_error_set(err, FIRN_EUNSUPPORTED, "Arrow IPC: type '%s' is not supported", f);
}

/* The type table of t; its reference. */
static uint32_t type_table(struct fb *b, const struct node_type *t, bool keys_sorted)
{
	struct fb_table tb = { .n = 0 };
	switch (t->type) {
	case T_MAP:
		if (keys_sorted)
			tb_scalar(&tb, 0, 1, 1);
		break;
	case T_INT:
		tb_scalar(&tb, 0, 4, (uint64_t)t->bits);
		tb_scalar(&tb, 1, 1, t->is_signed);
		break;
	case T_FLOAT:
	case T_DATE:
		tb_scalar(&tb, 0, 2, (uint64_t)t->unit);
		break;
	case T_TIME:
		tb_scalar(&tb, 0, 2, (uint64_t)t->unit);
		tb_scalar(&tb, 1, 4, (uint64_t)t->bits);
		break;
	case T_TIMESTAMP:
		if (t->tz_len) {
			uint32_t tz = fb_string(b, t->tz, t->tz_len);
			tb_ref(&tb, 1, tz);
		}
		tb_scalar(&tb, 0, 2, (uint64_t)t->unit);
		break;
	case T_DECIMAL:
		tb_scalar(&tb, 0, 4, (uint64_t)(uint32_t)t->precision);
		tb_scalar(&tb, 1, 4, (uint64_t)(uint32_t)t->scale);
		tb_scalar(&tb, 2, 4, 128);
		break;
	case T_FIXED:
		tb_scalar(&tb, 0, 4, (uint64_t)t->width);
		break;
	default: /* Null, Binary, Utf8, Bool, List, Struct_, Large*: empty tables */
		break;
	}
	return fb_table_end(b, &tb);
}

static int32_t rd32(const char *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Arrow C metadata as a [KeyValue] vector; 0 when there is none. */
static uint32_t metadata_vector(struct fb *b, const char *md)
{
	if (!md)
		return 0;
	int32_t n = rd32(md);
	if (n <= 0 || n > 1024)
		return 0;
	uint32_t refs[1024];
	const char *p = md + 4;
	for (int32_t i = 0; i < n; i++) {
		int32_t kl = rd32(p);
		const char *k = p + 4;
		int32_t vl = rd32(k + kl);
		const char *v = k + kl + 4;
		p = v + vl;
		uint32_t ks = fb_string(b, k, (size_t)kl), vs = fb_string(b, v, (size_t)vl);
		struct fb_table tb = { .n = 0 };
		tb_ref(&tb, 0, ks);
		tb_ref(&tb, 1, vs);
		refs[i] = fb_table_end(b, &tb);
	}
	return fb_ref_vector(b, refs, (size_t)n);
}

/* A Field table for s, children first; its reference. */
static int field_table(struct fb *b, const struct ArrowSchema *s, uint32_t *out, struct firn_error *err)
{
	struct node_type t;
	FIRN_TRY(parse_format(s->format, &t, err));
	if (s->dictionary)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "Arrow IPC: dictionary columns are not supported");
	uint32_t *kids = NULL;
	if (s->n_children > 0) {
		kids = firn_malloc((size_t)s->n_children * sizeof(uint32_t));
		if (!kids)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (int64_t i = 0; i < s->n_children; i++) {
			int rc = field_table(b, s->children[i], &kids[i], err);
			if (rc != 0) {
				firn_free(kids);
				return rc;
			}
		}
	}
	uint32_t children = fb_ref_vector(b, kids, (size_t)(s->n_children > 0 ? s->n_children : 0));
	firn_free(kids);
	uint32_t md = metadata_vector(b, s->metadata);
	uint32_t type = type_table(b, &t, (s->flags & ARROW_FLAG_MAP_KEYS_SORTED) != 0);
	uint32_t name = s->name ? fb_string(b, s->name, strlen(s->name)) : 0;
	struct fb_table tb = { .n = 0 };
	if (name)
		tb_ref(&tb, 0, name);
	tb_scalar(&tb, 1, 1, (s->flags & ARROW_FLAG_NULLABLE) != 0);
	tb_scalar(&tb, 2, 1, (uint64_t)t.type);
	tb_ref(&tb, 3, type);
	tb_ref(&tb, 5, children);
	if (md)
		tb_ref(&tb, 6, md);
	*out = fb_table_end(b, &tb);
	return 0;
}

/* ---- bodies ------------------------------------------------------------ */

/* A record batch's body, as the pieces to write in order: the batch's own
 * buffers where they can go as they are (borrowed for the write), small
 * copies where they cannot (shifted bitmaps, rebased offsets, a masked
 * last byte), and padding. */
struct piece {
	const uint8_t *p;
	size_t n;
};

struct body {
	size_t len; /* bytes so far, padding included */
	struct piece *pieces;
	size_t n_pieces, cap_pieces;
	void **owned; /* the copies, freed after the write */
	size_t n_owned, cap_owned;
	int64_t *nodes; /* pairs: length, null_count */
	size_t n_nodes, cap_nodes;
	int64_t *bufs;  /* pairs: offset, length */
	size_t n_bufs, cap_bufs;
	bool oom;
};

static const uint8_t zeros8[8];

static void body_free(struct body *bd)
{
	for (size_t i = 0; i < bd->n_owned; i++)
		firn_free(bd->owned[i]);
	firn_free(bd->owned);
	firn_free(bd->pieces);
	firn_free(bd->nodes);
	firn_free(bd->bufs);
}

/* Grows *v (items of size w, *cap of them) to hold one more; false when out
 * of memory. */
static bool grow(struct body *bd, void **v, size_t w, size_t n, size_t *cap)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	void *p = firn_realloc(*v, c * w);
	if (!p) {
		bd->oom = true;
		return false;
	}
	*v = p;
	*cap = c;
	return true;
}

static void push_pair(struct body *bd, int64_t **v, size_t *n, size_t *cap, int64_t a, int64_t b)
{
	if (!grow(bd, (void **)v, 2 * sizeof(int64_t), *n, cap))
		return;
	(*v)[2 * *n] = a;
	(*v)[2 * *n + 1] = b;
	(*n)++;
}

static void body_piece(struct body *bd, const void *p, size_t n)
{
	if (n == 0 || !grow(bd, (void **)&bd->pieces, sizeof(struct piece), bd->n_pieces, &bd->cap_pieces))
		return;
	bd->pieces[bd->n_pieces++] = (struct piece){ p, n };
	bd->len += n;
}

/* Keeps p (firn_malloc'd) until the body is freed; false (and p freed)
 * when out of memory. */
static bool body_own(struct body *bd, void *p)
{
	if (!grow(bd, (void **)&bd->owned, sizeof(void *), bd->n_owned, &bd->cap_owned)) {
		firn_free(p);
		return false;
	}
	bd->owned[bd->n_owned++] = p;
	return true;
}

/* Ends the buffer that began at offset off (its pieces added since):
 * padded to 8 and recorded. */
static void body_end(struct body *bd, size_t off)
{
	size_t n = bd->len - off;
	if (n % 8)
		body_piece(bd, zeros8, 8 - n % 8);
	push_pair(bd, &bd->bufs, &bd->n_bufs, &bd->cap_bufs, (int64_t)off, (int64_t)n);
}

/* n bytes (p NULL: zeros) as one buffer. */
static void body_buffer(struct body *bd, const void *p, size_t n)
{
	size_t off = bd->len;
	if (!p && n > 0) {
		void *z = firn_calloc(n, 1);
		if (!z || !body_own(bd, z)) {
			bd->oom = true;
			return;
		}
		p = z;
	}
	body_piece(bd, p, n);
	body_end(bd, off);
}

/* Bits [lo, lo + n) of bits as a buffer from bit 0, the spare bits of its
 * last byte zero; the count of zeros. */
static int64_t body_bits(struct body *bd, const uint8_t *bits, int64_t lo, int64_t n)
{
	size_t nb = (size_t)((n + 7) / 8);
	int64_t zeros = 0;
	for (int64_t i = 0; i < n; i++)
		zeros += !firn_bit_get(bits, lo + i);
	if (lo % 8 == 0 && n % 8 == 0) {
		body_buffer(bd, bits + lo / 8, nb);
		return zeros;
	}
	if (lo % 8 == 0) { /* all but the last byte as they are */
		uint8_t *last = firn_malloc(1);
		if (!last || !body_own(bd, last)) {
			bd->oom = true;
			return 0;
		}
		*last = bits[lo / 8 + nb - 1] & (uint8_t)((1u << (n % 8)) - 1);
		size_t off = bd->len;
		body_piece(bd, bits + lo / 8, nb - 1);
		body_piece(bd, last, 1);
		body_end(bd, off);
		return zeros;
	}
	uint8_t *tmp = firn_calloc(nb ? nb : 1, 1);
	if (!tmp || !body_own(bd, tmp)) {
		bd->oom = true;
		return 0;
	}
	for (int64_t i = 0; i < n; i++)
		if (firn_bit_get(bits, lo + i))
			tmp[i >> 3] |= (uint8_t)(1u << (i & 7));
	body_buffer(bd, tmp, nb);
	return zeros;
}

/* Offsets [lo, lo + n] rebased to start at 0, as a buffer (as they are
 * when they start at 0); *first and *count: the element range they span. */
static void body_offsets(struct body *bd, const void *offs, bool wide, int64_t lo, int64_t n, int64_t *first,
			 int64_t *count)
{
	size_t w = wide ? 8 : 4;
	const uint8_t *src = (const uint8_t *)offs + (size_t)lo * w;
	int64_t base, end;
	if (wide) {
		memcpy(&base, src, 8);
		memcpy(&end, src + (size_t)n * 8, 8);
	} else {
		int32_t b32, e32;
		memcpy(&b32, src, 4);
		memcpy(&e32, src + (size_t)n * 4, 4);
		base = b32;
		end = e32;
	}
	*first = base;
	*count = end - base;
	if (base == 0) {
		body_buffer(bd, src, (size_t)(n + 1) * w);
		return;
	}
	uint8_t *tmp = firn_malloc((size_t)(n + 1) * w);
	if (!tmp || !body_own(bd, tmp)) {
		bd->oom = true;
		*first = *count = 0;
		return;
	}
	for (int64_t i = 0; i <= n; i++) {
		if (wide) {
			int64_t v;
			memcpy(&v, src + (size_t)i * 8, 8);
			v -= base;
			memcpy(tmp + (size_t)i * 8, &v, 8);
		} else {
			int32_t v32;
			memcpy(&v32, src + (size_t)i * 4, 4);
			v32 = (int32_t)(v32 - base);
			memcpy(tmp + (size_t)i * 4, &v32, 4);
		}
	}
	body_buffer(bd, tmp, (size_t)(n + 1) * w);
}

/* Writes node a's rows [lo, lo + n) (physical positions: a->offset
 * included) and its children's: a FieldNode and its buffers, pre-order. */
static int body_node(struct body *bd, const struct ArrowSchema *s, const struct ArrowArray *a, int64_t lo,
		     int64_t n, struct firn_error *err)
{
	struct node_type t;
	FIRN_TRY(parse_format(s->format, &t, err));
	if (a->n_children != s->n_children)
		return firn_error_set(err, FIRN_EINVAL, "Arrow IPC: column '%s': array and schema disagree",
				      s->name ? s->name : "");
	size_t node = bd->n_nodes;
	push_pair(bd, &bd->nodes, &bd->n_nodes, &bd->cap_nodes, n, 0);
	if (t.layout == L_NULL) {
		if (!bd->oom)
			bd->nodes[2 * node + 1] = n;
		return bd->oom ? firn_error_set(err, FIRN_ENOMEM, "out of memory") : 0;
	}
	const uint8_t *valid = a->n_buffers > 0 ? a->buffers[0] : NULL;
	int64_t nulls = 0;
	if (valid && a->null_count != 0)
		nulls = body_bits(bd, valid, lo, n);
	else
		body_buffer(bd, NULL, 0);
	if (!bd->oom)
		bd->nodes[2 * node + 1] = nulls;
	int64_t first = 0, count = 0;
	switch (t.layout) {
	case L_BITS:
		body_bits(bd, a->buffers[1], lo, n);
		break;
	case L_FIXED:
		body_buffer(bd, (const uint8_t *)a->buffers[1] + (size_t)lo * (size_t)t.width,
			    (size_t)n * (size_t)t.width);
		break;
	case L_VAR32:
	case L_VAR64:
		body_offsets(bd, a->buffers[1], t.layout == L_VAR64, lo, n, &first, &count);
		body_buffer(bd, (const uint8_t *)a->buffers[2] + first, (size_t)count);
		break;
	case L_STRUCT:
		for (int64_t i = 0; i < s->n_children; i++)
			FIRN_TRY(body_node(bd, s->children[i], a->children[i],
					   a->children[i]->offset + (lo - a->offset), n, err));
		break;
	case L_LIST32:
	case L_LIST64:
		body_offsets(bd, a->buffers[1], t.layout == L_LIST64, lo, n, &first, &count);
		FIRN_TRY(body_node(bd, s->children[0], a->children[0], a->children[0]->offset + first, count,
				   err));
		break;
	default:
		break;
	}
	return bd->oom ? firn_error_set(err, FIRN_ENOMEM, "out of memory") : 0;
}

/* ---- messages ---------------------------------------------------------- */

struct firn_ipc_writer {
	firn_ipc_write_fn write;
	void *arg;
	struct ArrowSchema schema;
	bool closed;
};

/* One encapsulated message: continuation, metadata length, the flatbuffer
 * padded to 8, the body. */
static int put_message(struct firn_ipc_writer *w, struct fb *b, const struct body *body,
		       struct firn_error *err)
{
	if (b->oom)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t len = b->size, padded = (len + 7) / 8 * 8;
	uint8_t head[8] = { 0xff, 0xff, 0xff, 0xff, (uint8_t)padded, (uint8_t)(padded >> 8),
			    (uint8_t)(padded >> 16), (uint8_t)(padded >> 24) };
	static const uint8_t zeros[8] = { 0 };
	int rc = w->write(w->arg, head, 8);
	if (rc == 0)
		rc = w->write(w->arg, b->data + b->cap - len, len);
	if (rc == 0 && padded > len)
		rc = w->write(w->arg, zeros, padded - len);
	for (size_t i = 0; rc == 0 && body && i < body->n_pieces; i++)
		rc = w->write(w->arg, body->pieces[i].p, body->pieces[i].n);
	if (rc != 0)
		return firn_error_set(err, FIRN_EIO, "Arrow IPC: write failed");
	return 0;
}

/* Message { version V5, header_type, header, bodyLength }; its reference. */
static uint32_t message_table(struct fb *b, int header_type, uint32_t header, int64_t body_len)
{
	struct fb_table tb = { .n = 0 };
	tb_scalar(&tb, 0, 2, 4); /* MetadataVersion V5 */
	tb_scalar(&tb, 1, 1, (uint64_t)header_type);
	tb_ref(&tb, 2, header);
	tb_scalar(&tb, 3, 8, (uint64_t)body_len);
	return fb_table_end(b, &tb);
}

int firn_ipc_writer_open(struct firn_ipc_writer **out, const struct ArrowSchema *schema,
			 firn_ipc_write_fn write, void *arg, struct firn_error *err)
{
	*out = NULL;
	if (strcmp(schema->format, "+s") != 0)
		return firn_error_set(err, FIRN_EINVAL, "Arrow IPC: the schema must be a struct, not '%s'",
				      schema->format);
	struct firn_ipc_writer *w = firn_malloc(sizeof(*w));
	if (!w)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	memset(w, 0, sizeof(*w));
	w->write = write;
	w->arg = arg;
	int rc = firn_schema_copy(&w->schema, schema);
	if (rc != 0) {
		firn_free(w);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	struct fb b = { 0 };
	uint32_t *fields = firn_malloc((size_t)(schema->n_children + 1) * sizeof(uint32_t));
	if (!fields)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (int64_t i = 0; rc == 0 && i < schema->n_children; i++)
		rc = field_table(&b, schema->children[i], &fields[i], err);
	if (rc == 0) {
		uint32_t fv = fb_ref_vector(&b, fields, (size_t)schema->n_children);
		uint32_t md = metadata_vector(&b, schema->metadata);
		struct fb_table st = { .n = 0 };
		tb_scalar(&st, 0, 2, 0); /* Little endian */
		tb_ref(&st, 1, fv);
		if (md)
			tb_ref(&st, 2, md);
		uint32_t sch = fb_table_end(&b, &st);
		fb_finish(&b, message_table(&b, 1, sch, 0));
		rc = put_message(w, &b, NULL, err);
	}
	firn_free(fields);
	firn_free(b.data);
	if (rc != 0) {
		firn_ipc_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int firn_ipc_writer_write(struct firn_ipc_writer *w, const struct ArrowArray *batch, struct firn_error *err)
{
	const struct ArrowSchema *s = &w->schema;
	if (batch->n_children != s->n_children)
		return firn_error_set(err, FIRN_EINVAL, "Arrow IPC: the batch has %lld columns, the schema %lld",
				      (long long)batch->n_children, (long long)s->n_children);
	struct body bd = { 0 };
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i < s->n_children; i++)
		rc = body_node(&bd, s->children[i], batch->children[i], batch->children[i]->offset + batch->offset,
			       batch->length, err);
	struct fb b = { 0 };
	if (rc == 0) {
		uint32_t bufs = fb_pair_vector(&b, bd.bufs, bd.n_bufs);
		uint32_t nodes = fb_pair_vector(&b, bd.nodes, bd.n_nodes);
		struct fb_table rb = { .n = 0 };
		tb_scalar(&rb, 0, 8, (uint64_t)batch->length);
		tb_ref(&rb, 1, nodes);
		tb_ref(&rb, 2, bufs);
		uint32_t rbt = fb_table_end(&b, &rb);
		fb_finish(&b, message_table(&b, 3, rbt, (int64_t)bd.len));
		rc = put_message(w, &b, &bd, err);
	}
	firn_free(b.data);
	body_free(&bd);
	return rc;
}

int firn_ipc_writer_close(struct firn_ipc_writer *w, struct firn_error *err)
{
	static const uint8_t eos[8] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	if (w->closed)
		return 0;
	w->closed = true;
	if (w->write(w->arg, eos, 8) != 0)
		return firn_error_set(err, FIRN_EIO, "Arrow IPC: write failed");
	return 0;
}

void firn_ipc_writer_free(struct firn_ipc_writer *w)
{
	if (!w)
		return;
	if (w->schema.release)
		w->schema.release(&w->schema);
	firn_free(w);
}

/* ---- the size of a batch ------------------------------------------------ */

static int64_t node_bytes(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t lo, int64_t n)
{
	struct node_type t;
	if (parse_format(s->format, &t, NULL) != 0 || a->n_children != s->n_children || n <= 0)
		return 0;
	int64_t bytes = a->n_buffers > 0 && a->buffers[0] ? (n + 7) / 8 : 0, first = 0, last = 0;
	switch (t.layout) {
	case L_BITS:
		return bytes + (n + 7) / 8;
	case L_FIXED:
		return bytes + n * t.width;
	case L_VAR32:
	case L_LIST32: {
		int32_t f, l;
		memcpy(&f, (const int32_t *)a->buffers[1] + lo, 4);
		memcpy(&l, (const int32_t *)a->buffers[1] + lo + n, 4);
		first = f;
		last = l;
		bytes += 4 * (n + 1);
		break;
	}
	case L_VAR64:
	case L_LIST64:
		memcpy(&first, (const int64_t *)a->buffers[1] + lo, 8);
		memcpy(&last, (const int64_t *)a->buffers[1] + lo + n, 8);
		bytes += 8 * (n + 1);
		break;
	case L_STRUCT:
		for (int64_t i = 0; i < s->n_children; i++)
			bytes += node_bytes(s->children[i], a->children[i], a->children[i]->offset + (lo - a->offset),
					    n);
		return bytes;
	default:
		return bytes;
	}
	if (t.layout == L_VAR32 || t.layout == L_VAR64)
		return bytes + (last - first);
	return bytes + node_bytes(s->children[0], a->children[0], a->children[0]->offset + first, last - first);
}

int64_t firn_arrow_array_bytes(const struct ArrowSchema *schema, const struct ArrowArray *array)
{
	if (!schema || !array || !array->release)
		return 0;
	return node_bytes(schema, array, array->offset, array->length);
}
