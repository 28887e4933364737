/* Builders: growable Arrow arrays, finished into ArrowArray structs. */
#include <stdlib.h>

#include "firn/arrow.h"

static int offsets_start(struct firn_builder *b)
{
	int32_t zero = 0;
	return firn_buf_append(&b->values, &zero, 4);
}

static bool has_offsets(enum firn_atype id)
{
	return id == FIRN_A_STRING || id == FIRN_A_BINARY || id == FIRN_A_LIST || id == FIRN_A_MAP;
}

int firn_builder_init(struct firn_builder *b, const struct ArrowSchema *schema,
		      struct firn_error *err)
{
	memset(b, 0, sizeof(*b));
	int rc = firn_type_of(schema, &b->type, err);
	if (rc != 0)
		return rc;
	if (schema->n_children > 0 && b->type.id >= FIRN_A_STRUCT) {
		b->children = firn_calloc((size_t)schema->n_children, sizeof(*b->children));
		if (b->children == NULL)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		b->n_children = schema->n_children;
		for (int64_t i = 0; i < schema->n_children; i++) {
			if ((rc = firn_builder_init(&b->children[i], schema->children[i], err)) != 0) {
				firn_builder_free(b);
				return rc;
			}
		}
	}
	if (has_offsets(b->type.id) && offsets_start(b) != 0) {
		firn_builder_free(b);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

void firn_builder_free(struct firn_builder *b)
{
	if (b == NULL)
		return;
	for (int64_t i = 0; i < b->n_children; i++)
		firn_builder_free(&b->children[i]);
	firn_free(b->children);
	firn_buf_free(&b->validity);
	firn_buf_free(&b->values);
	firn_buf_free(&b->data);
	memset(b, 0, sizeof(*b));
}

/* Appends one bit to a bitmap holding `n` bits. */
static inline int bit_append(struct firn_buf *bm, int64_t n, bool v)
{
	if ((n & 7) == 0) {
		if (firn_buf_putc(bm, 0) != 0)
			return FIRN_ENOMEM;
	}
	if (v)
		bm->data[n >> 3] |= (uint8_t)(1u << (n & 7));
	return 0;
}

static inline int mark(struct firn_builder *b, bool valid)
{
	if (bit_append(&b->validity, b->length, valid) != 0)
		return FIRN_ENOMEM;
	b->length++;
	if (!valid)
		b->null_count++;
	return 0;
}

int firn_builder_append_null(struct firn_builder *b)
{
	switch (b->type.id) {
	case FIRN_A_NULL:
		break;
	case FIRN_A_BOOL:
		if (bit_append(&b->values, b->length, false) != 0)
			return FIRN_ENOMEM;
		break;
	case FIRN_A_STRING:
	case FIRN_A_BINARY:
	case FIRN_A_LIST:
	case FIRN_A_MAP: {
		int32_t end = ((int32_t *)b->values.data)[b->length];
		if (firn_buf_append(&b->values, &end, 4) != 0)
			return FIRN_ENOMEM;
		break;
	}
	case FIRN_A_STRUCT:
		for (int64_t i = 0; i < b->n_children; i++)
			FIRN_TRY(firn_builder_append_null(&b->children[i]));
		break;
	default:
		if (firn_buf_zeros(&b->values, (size_t)b->type.width) != 0)
			return FIRN_ENOMEM;
	}
	return mark(b, false);
}

int firn_builder_append_fixed(struct firn_builder *b, const void *value)
{
	if (firn_buf_append(&b->values, value, (size_t)b->type.width) != 0)
		return FIRN_ENOMEM;
	return mark(b, true);
}

int firn_builder_append_bool(struct firn_builder *b, bool v)
{
	if (bit_append(&b->values, b->length, v) != 0)
		return FIRN_ENOMEM;
	return mark(b, true);
}

int firn_builder_append_i32(struct firn_builder *b, int32_t v) { return firn_builder_append_fixed(b, &v); }
int firn_builder_append_i64(struct firn_builder *b, int64_t v) { return firn_builder_append_fixed(b, &v); }
int firn_builder_append_f32(struct firn_builder *b, float v) { return firn_builder_append_fixed(b, &v); }
int firn_builder_append_f64(struct firn_builder *b, double v) { return firn_builder_append_fixed(b, &v); }

int firn_builder_append_bytes(struct firn_builder *b, const void *p, size_t n)
{
	if (n > (size_t)INT32_MAX - b->data.len)
		return FIRN_EINVAL; /* int32 offsets: caller splits the batch */
	if (firn_buf_append(&b->data, p, n) != 0)
		return FIRN_ENOMEM;
	int32_t end = (int32_t)b->data.len;
	if (firn_buf_append(&b->values, &end, 4) != 0)
		return FIRN_ENOMEM;
	return mark(b, true);
}

int firn_builder_append_struct(struct firn_builder *b) { return mark(b, true); }

int firn_builder_append_list_end(struct firn_builder *b)
{
	int64_t n = b->children[0].length;
	if (n > INT32_MAX)
		return FIRN_EINVAL;
	int32_t end = (int32_t)n;
	if (firn_buf_append(&b->values, &end, 4) != 0)
		return FIRN_ENOMEM;
	return mark(b, true);
}

/* ---- finishing ---- */

struct array_private {
	void *buffers[3];
	const void *buffer_ptrs[3];
	struct ArrowArray *child_arrays;
	struct ArrowArray *child_ptrs[];
};

static void array_release(struct ArrowArray *a)
{
	if (a == NULL || a->release == NULL)
		return;
	struct array_private *p = a->private_data;
	for (int64_t i = 0; i < a->n_children; i++)
		if (a->children[i]->release != NULL)
			a->children[i]->release(a->children[i]);
	for (int i = 0; i < 3; i++)
		firn_free(p->buffers[i]);
	firn_free(p->child_arrays);
	firn_free(p);
	a->release = NULL;
}

static int finish(struct firn_builder *b, struct ArrowArray *out)
{
	memset(out, 0, sizeof(*out));
	struct array_private *p = firn_calloc(1, sizeof(*p) + (size_t)b->n_children * sizeof(void *));
	if (p == NULL)
		return FIRN_ENOMEM;
	if (b->n_children > 0) {
		p->child_arrays = firn_calloc((size_t)b->n_children, sizeof(struct ArrowArray));
		if (p->child_arrays == NULL) {
			firn_free(p);
			return FIRN_ENOMEM;
		}
	}
	out->private_data = p;
	out->release = array_release;
	out->buffers = p->buffer_ptrs;
	out->children = p->child_ptrs;
	out->length = b->length;
	out->null_count = b->null_count;
	for (int64_t i = 0; i < b->n_children; i++) {
		p->child_ptrs[i] = &p->child_arrays[i];
		out->n_children = i + 1;
		if (finish(&b->children[i], &p->child_arrays[i]) != 0) {
			out->n_children = i; /* release only the finished ones */
			array_release(out);
			return FIRN_ENOMEM;
		}
	}
	/* validity: dropped when there are no nulls */
	if (b->null_count > 0)
		p->buffers[0] = firn_buf_detach(&b->validity, NULL);
	else
		firn_buf_reset(&b->validity);
	switch (b->type.id) {
	case FIRN_A_NULL:
		out->n_buffers = 0;
		out->null_count = b->length;
		break;
	case FIRN_A_STRUCT:
		out->n_buffers = 1;
		break;
	case FIRN_A_STRING:
	case FIRN_A_BINARY:
		out->n_buffers = 3;
		p->buffers[1] = firn_buf_detach(&b->values, NULL);
		p->buffers[2] = firn_buf_detach(&b->data, NULL);
		if (p->buffers[2] == NULL && (p->buffers[2] = firn_malloc(1)) == NULL)
			goto nomem;
		break;
	default:
		out->n_buffers = 2;
		p->buffers[1] = firn_buf_detach(&b->values, NULL);
		if (p->buffers[1] == NULL && (p->buffers[1] = firn_malloc(8)) == NULL)
			goto nomem;
	}
	for (int i = 0; i < 3; i++)
		p->buffer_ptrs[i] = p->buffers[i];
	b->length = 0;
	b->null_count = 0;
	if (has_offsets(b->type.id) && offsets_start(b) != 0) {
		array_release(out);
		return FIRN_ENOMEM;
	}
	return 0;
nomem:
	for (int i = 0; i < 3; i++)
		p->buffer_ptrs[i] = p->buffers[i];
	array_release(out);
	return FIRN_ENOMEM;
}

int firn_builder_finish(struct firn_builder *b, struct ArrowArray *out, struct firn_error *err)
{
	if (finish(b, out) != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory finishing an array");
	return 0;
}

/* ---- a stream over ready batches ---- */

struct batches_stream {
	struct ArrowSchema schema;
	struct ArrowArray *batches;
	int64_t n, next;
};

static int bs_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
	struct batches_stream *p = s->private_data;
	return firn_schema_copy(out, &p->schema) == 0 ? 0 : 12 /* ENOMEM */;
}

static int bs_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
	struct batches_stream *p = s->private_data;
	if (p->next >= p->n) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	*out = p->batches[p->next];
	p->batches[p->next].release = NULL;
	p->next++;
	return 0;
}

static const char *bs_last_error(struct ArrowArrayStream *s) { return NULL; }

static void bs_release(struct ArrowArrayStream *s)
{
	if (s->release == NULL)
		return;
	struct batches_stream *p = s->private_data;
	if (p->schema.release)
		p->schema.release(&p->schema);
	for (int64_t i = 0; i < p->n; i++)
		if (p->batches[i].release)
			p->batches[i].release(&p->batches[i]);
	firn_free(p->batches);
	firn_free(p);
	s->release = NULL;
}

int firn_stream_from_batches(struct ArrowArrayStream *out, struct ArrowSchema *schema,
			     struct ArrowArray *batches, int64_t n)
{
	struct batches_stream *p = firn_calloc(1, sizeof(*p));
	struct ArrowArray *copy = firn_calloc(n > 0 ? (size_t)n : 1, sizeof(*copy));
	if (p == NULL || copy == NULL) {
		firn_free(p);
		firn_free(copy);
		return FIRN_ENOMEM;
	}
	p->schema = *schema;
	schema->release = NULL;
	for (int64_t i = 0; i < n; i++) {
		copy[i] = batches[i];
		batches[i].release = NULL;
	}
	p->batches = copy;
	p->n = n;
	out->get_schema = bs_get_schema;
	out->get_next = bs_get_next;
	out->get_last_error = bs_last_error;
	out->release = bs_release;
	out->private_data = p;
	return 0;
}
