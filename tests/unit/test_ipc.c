/* The Arrow IPC stream writer (src/arrow/ipc.c): framing, alignment,
 * slices, and the batch size measure. pyarrow and Polars judge the
 * content (tests/interop/test_arrow_ipc.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firn/arrow.h"
#include "firn/util.h"
#include "t.h"

static int sink(void *arg, const void *p, size_t n)
{
	return firn_buf_append(arg, p, n);
}

static int failing(void *arg, const void *p, size_t n)
{
	(void)arg, (void)p, (void)n;
	return -1;
}

static uint32_t u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A struct<id: long, s: string> batch of n rows; every third id null. */
static void batch(struct ArrowSchema *s, struct ArrowArray *a, int n)
{
	CHECK_OK(firn_schema_init(s, "+s", "", 0, 2));
	CHECK_OK(firn_schema_init(s->children[0], "l", "id", ARROW_FLAG_NULLABLE, 0));
	CHECK_OK(firn_schema_init(s->children[1], "u", "s", ARROW_FLAG_NULLABLE, 0));
	struct firn_builder b;
	CHECK_OK(firn_builder_init(&b, s, &t_err));
	for (int i = 0; i < n; i++) {
		if (i % 3 == 0)
			CHECK_OK(firn_builder_append_null(&b.children[0]));
		else
			CHECK_OK(firn_builder_append_i64(&b.children[0], i));
		CHECK_OK(firn_builder_append_bytes(&b.children[1], "abc", (size_t)(i % 4)));
		CHECK_OK(firn_builder_append_struct(&b));
	}
	CHECK_OK(firn_builder_finish(&b, a, &t_err));
	firn_builder_free(&b);
}

/* Walks the messages of a stream: their count, each 8-aligned; EOS last. */
static int messages(const struct firn_buf *b)
{
	size_t at = 0;
	int n = 0;
	while (at + 8 <= b->len) {
		CHECK_EQ_INT(u32(b->data + at), 0xFFFFFFFFu);
		uint32_t len = u32(b->data + at + 4);
		if (len == 0)
			return at + 8 == b->len ? n : -1;
		CHECK_EQ_INT(len % 8, 0);
		/* the flatbuffer's root table; bodyLength is its last long: found
		 * by re-reading the Message's vtable */
		const uint8_t *fb = b->data + at + 8;
		const uint8_t *table = fb + u32(fb);
		int32_t so = (int32_t)u32(table);
		const uint8_t *vt = table - so;
		uint16_t vlen = (uint16_t)(vt[0] | vt[1] << 8);
		int64_t body = 0;
		if (vlen >= 12) {
			uint16_t off = (uint16_t)(vt[10] | vt[11] << 8);
			if (off)
				memcpy(&body, table + off, 8);
		}
		CHECK_EQ_INT(body % 8, 0);
		at += 8 + len + (size_t)body;
		n++;
	}
	return -1;
}

TEST(stream_framing)
{
	struct ArrowSchema s;
	struct ArrowArray a;
	batch(&s, &a, 10);
	struct firn_buf out = FIRN_BUF_INIT;
	struct firn_ipc_writer *w = NULL;
	CHECK_OK(firn_ipc_writer_open(&w, &s, sink, &out, &t_err));
	CHECK_OK(firn_ipc_writer_write(w, &a, &t_err));
	struct ArrowArray slice = a; /* rows 3..9: an offset the format has no field for */
	slice.offset = 3;
	slice.length = 7;
	CHECK_OK(firn_ipc_writer_write(w, &slice, &t_err));
	CHECK_OK(firn_ipc_writer_close(w, &t_err));
	CHECK_OK(firn_ipc_writer_close(w, &t_err)); /* once */
	firn_ipc_writer_free(w);
	CHECK_EQ_INT(messages(&out), 3); /* schema, two batches */
	CHECK_EQ_INT(out.len % 8, 0);
	firn_buf_free(&out);
	/* a failing sink is FIRN_EIO, at open already */
	CHECK(firn_ipc_writer_open(&w, &s, failing, NULL, &t_err) == FIRN_EIO);
	CHECK(w == NULL);
	a.release(&a);
	s.release(&s);
}

TEST(unsupported_types_are_refused)
{
	struct ArrowSchema s;
	CHECK_OK(firn_schema_init(&s, "+s", "", 0, 1));
	CHECK_OK(firn_schema_init(s.children[0], "+ud:0,1", "u", 0, 0)); /* a union */
	struct firn_buf out = FIRN_BUF_INIT;
	struct firn_ipc_writer *w = NULL;
	CHECK(firn_ipc_writer_open(&w, &s, sink, &out, &t_err) == FIRN_EUNSUPPORTED);
	CHECK(strstr(t_err.message, "+ud:0,1") != NULL);
	firn_buf_free(&out);
	s.release(&s);
	CHECK_OK(firn_schema_init(&s, "l", "not a struct", 0, 0));
	CHECK(firn_ipc_writer_open(&w, &s, sink, &out, &t_err) == FIRN_EINVAL);
	s.release(&s);
}

TEST(array_bytes)
{
	struct ArrowSchema s;
	struct ArrowArray a;
	batch(&s, &a, 10);
	/* id: 2 bytes of validity + 80 of values; s (no nulls, no validity): 44
	 * of offsets + 13 of data (0+1+2+3+0+1+2+3+0+1) */
	CHECK_EQ_INT(firn_arrow_array_bytes(&s, &a), 2 + 80 + 44 + 13);
	struct ArrowArray slice = a;
	slice.offset = 4;
	slice.length = 2; /* rows 4, 5: strings "", "a" */
	CHECK_EQ_INT(firn_arrow_array_bytes(&s, &slice), 1 + 16 + 12 + 1);
	CHECK_EQ_INT(firn_arrow_array_bytes(&s, NULL), 0);
	a.release(&a);
	s.release(&s);
}

int main(void)
{
	RUN(stream_framing);
	RUN(unsupported_types_are_refused);
	RUN(array_bytes);
	return t_summary();
}
