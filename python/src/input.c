/* Input data for append, overwrite and merge: an object's Arrow PyCapsule
 * stream (or one array) moved into an ArrowArrayStream for libfirn.
 *
 * libfirn's writers take Arrow's plain layouts (utf8 "u", binary "z",
 * list "+l"); Polars hands out string views and 64-bit offsets. When the
 * input's schema has those, the stream is wrapped by one that rewrites
 * just those columns batch by batch (views gathered, offsets narrowed);
 * every other column's buffers are passed through as they are. */
#include "firnmodule.h"

#include <errno.h>
#include <stdlib.h>

/* ---- formats ----------------------------------------------------------- */

static const char *plain_format(const char *f)
{
	if (strcmp(f, "U") == 0 || strcmp(f, "vu") == 0)
		return "u";
	if (strcmp(f, "Z") == 0 || strcmp(f, "vz") == 0)
		return "z";
	if (strcmp(f, "+L") == 0)
		return "+l";
	return NULL;
}

static bool needs_plain(const struct ArrowSchema *s)
{
	if (plain_format(s->format) != NULL)
		return true;
	for (int64_t i = 0; i < s->n_children; i++)
		if (needs_plain(s->children[i]))
			return true;
	return false;
}

/* ---- schemas: a mirror with the plain formats --------------------------- */

struct snode {
	char *name, *metadata;
	struct ArrowSchema **children;
};

static void snode_release(struct ArrowSchema *s)
{
	struct snode *n = s->private_data;
	for (int64_t i = 0; i < s->n_children; i++) {
		if (n->children[i]->release)
			n->children[i]->release(n->children[i]);
		free(n->children[i]);
	}
	free(n->children);
	free(n->name);
	free(n->metadata);
	free(n);
	s->release = NULL;
}

static size_t metadata_len(const char *m)
{
	if (m == NULL)
		return 0;
	int32_t n, len;
	size_t at = 4;
	memcpy(&n, m, 4);
	for (int32_t i = 0; i < 2 * n; i++) {
		memcpy(&len, m + at, 4);
		at += 4 + (size_t)len;
	}
	return at;
}

static int mirror_schema(struct ArrowSchema *out, const struct ArrowSchema *in)
{
	struct snode *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return ENOMEM;
	const char *plain = plain_format(in->format);
	*out = *in;
	out->format = plain ? plain : in->format; /* in's strings outlive the mirror */
	out->private_data = n;
	out->release = snode_release;
	n->name = in->name ? strdup(in->name) : NULL;
	out->name = n->name;
	size_t ml = metadata_len(in->metadata);
	if (ml) {
		n->metadata = malloc(ml);
		if (n->metadata)
			memcpy(n->metadata, in->metadata, ml);
	}
	out->metadata = n->metadata;
	out->n_children = 0;
	n->children = calloc((size_t)in->n_children + 1, sizeof(*n->children));
	out->children = n->children;
	if (n->children == NULL || (in->name && !n->name) || (ml && !n->metadata))
		return snode_release(out), ENOMEM;
	for (int64_t i = 0; i < in->n_children; i++) {
		n->children[i] = calloc(1, sizeof(struct ArrowSchema));
		if (n->children[i] == NULL)
			return snode_release(out), ENOMEM;
		out->n_children = i + 1;
		int rc = mirror_schema(n->children[i], in->children[i]);
		if (rc)
			return snode_release(out), rc;
	}
	return 0;
}

/* ---- arrays ------------------------------------------------------------- */

/* The input batch, released when the last node of its mirror goes. */
struct holder {
	struct ArrowArray batch;
	int refs;
};

struct anode {
	struct holder *h;
	const void *bufs[3];
	void *owned[2]; /* buffers made here */
	struct ArrowArray **children;
};

static void anode_release(struct ArrowArray *a)
{
	struct anode *n = a->private_data;
	for (int64_t i = 0; i < a->n_children; i++) {
		if (n->children[i]->release)
			n->children[i]->release(n->children[i]);
		free(n->children[i]);
	}
	free(n->children);
	free(n->owned[0]);
	free(n->owned[1]);
	if (--n->h->refs == 0) {
		n->h->batch.release(&n->h->batch);
		free(n->h);
	}
	free(n);
	a->release = NULL;
}

/* int64 offsets to int32 (the first offset+length+1 entries). */
static int narrow_offsets(struct anode *n, const struct ArrowArray *in)
{
	const int64_t *o = in->buffers[1];
	int64_t count = in->offset + in->length + 1;
	int32_t *v = malloc((size_t)count * sizeof(int32_t));
	if (v == NULL)
		return ENOMEM;
	for (int64_t i = 0; i < count; i++) {
		if (o[i] > INT32_MAX) {
			free(v);
			return EOVERFLOW;
		}
		v[i] = (int32_t)o[i];
	}
	n->owned[0] = v;
	n->bufs[1] = v;
	return 0;
}

/* A string/binary view array gathered into offsets + data. */
static int gather_views(struct anode *n, const struct ArrowArray *in)
{
	const uint8_t *views = in->buffers[1];
	int64_t count = in->offset + in->length;
	int64_t total = 0;
	for (int64_t i = in->offset; i < count; i++) {
		int32_t len;
		memcpy(&len, views + 16 * i, 4);
		total += len;
	}
	if (total > INT32_MAX)
		return EOVERFLOW;
	int32_t *off = calloc((size_t)count + 1, sizeof(int32_t));
	uint8_t *data = malloc((size_t)total + 1);
	if (off == NULL || data == NULL) {
		free(off);
		free(data);
		return ENOMEM;
	}
	int32_t at = 0;
	for (int64_t i = in->offset; i < count; i++) {
		const uint8_t *v = views + 16 * i;
		int32_t len, buf, pos;
		memcpy(&len, v, 4);
		if (len <= 12) {
			memcpy(data + at, v + 4, (size_t)len);
		} else {
			memcpy(&buf, v + 8, 4);
			memcpy(&pos, v + 12, 4);
			memcpy(data + at, (const uint8_t *)in->buffers[2 + buf] + pos, (size_t)len);
		}
		at += len;
		off[i + 1] = at;
	}
	n->owned[0] = off;
	n->owned[1] = data;
	n->bufs[1] = off;
	n->bufs[2] = data;
	return 0;
}

static int mirror_array(struct ArrowArray *out, const struct ArrowArray *in,
			const struct ArrowSchema *s, struct holder *h)
{
	struct anode *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return ENOMEM;
	n->h = h;
	h->refs++;
	*out = *in;
	out->private_data = n;
	out->release = anode_release;
	out->n_children = 0;
	n->children = calloc((size_t)in->n_children + 1, sizeof(*n->children));
	out->children = n->children;
	if (n->children == NULL)
		return anode_release(out), ENOMEM;
	int rc = 0;
	const char *f = s->format;
	if (strcmp(f, "U") == 0 || strcmp(f, "Z") == 0 || strcmp(f, "+L") == 0) {
		n->bufs[0] = in->buffers[0];
		n->bufs[2] = strcmp(f, "+L") ? in->buffers[2] : NULL;
		out->buffers = n->bufs;
		out->n_buffers = strcmp(f, "+L") ? 3 : 2;
		rc = narrow_offsets(n, in);
	} else if (strcmp(f, "vu") == 0 || strcmp(f, "vz") == 0) {
		n->bufs[0] = in->buffers[0];
		out->buffers = n->bufs;
		out->n_buffers = 3;
		rc = gather_views(n, in);
	}
	if (rc)
		return anode_release(out), rc;
	for (int64_t i = 0; i < in->n_children; i++) {
		n->children[i] = calloc(1, sizeof(struct ArrowArray));
		if (n->children[i] == NULL)
			return anode_release(out), ENOMEM;
		out->n_children = i + 1;
		rc = mirror_array(n->children[i], in->children[i], s->children[i], h);
		if (rc)
			return anode_release(out), rc;
	}
	return 0;
}

/* ---- the wrapping stream -------------------------------------------------- */

struct plain_stream {
	struct ArrowArrayStream inner;
	struct ArrowSchema schema; /* the input's */
	const char *error;
};

static int ps_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
	struct plain_stream *p = st->private_data;
	return mirror_schema(out, &p->schema);
}

static int ps_get_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
	struct plain_stream *p = st->private_data;
	struct holder *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return ENOMEM;
	int rc = p->inner.get_next(&p->inner, &h->batch);
	if (rc != 0) {
		p->error = p->inner.get_last_error(&p->inner);
		free(h);
		return rc;
	}
	p->error = NULL;
	if (h->batch.release == NULL) {
		free(h);
		out->release = NULL;
		return 0;
	}
	h->refs = 1; /* this function's, dropped below */
	rc = mirror_array(out, &h->batch, &p->schema, h);
	if (rc == EOVERFLOW)
		p->error = "a string, binary or list column over 2 GiB in one batch";
	if (--h->refs == 0) {
		h->batch.release(&h->batch);
		free(h);
	}
	return rc;
}

static const char *ps_last_error(struct ArrowArrayStream *st)
{
	struct plain_stream *p = st->private_data;
	return p->error;
}

static void ps_release(struct ArrowArrayStream *st)
{
	struct plain_stream *p = st->private_data;
	p->inner.release(&p->inner);
	p->schema.release(&p->schema);
	free(p);
	st->release = NULL;
}

/* Wraps *st when its schema needs plain layouts; st is replaced in place. */
static int plain_wrap(struct ArrowArrayStream *st)
{
	struct ArrowSchema s;
	int rc = st->get_schema(st, &s);
	if (rc != 0) /* libfirn reports it when it asks */
		return 0;
	if (!needs_plain(&s)) {
		s.release(&s);
		return 0;
	}
	struct plain_stream *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		s.release(&s);
		return ENOMEM;
	}
	p->inner = *st;
	p->schema = s;
	st->get_schema = ps_get_schema;
	st->get_next = ps_get_next;
	st->get_last_error = ps_last_error;
	st->release = ps_release;
	st->private_data = p;
	return 0;
}

/* ---- one array as a stream ------------------------------------------------ */

struct one_stream {
	struct ArrowSchema schema;
	struct ArrowArray array; /* release NULL once handed out */
};

static int os_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
	struct one_stream *o = st->private_data;
	return mirror_schema(out, &o->schema);
}

static int os_get_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
	struct one_stream *o = st->private_data;
	*out = o->array;
	o->array.release = NULL;
	return 0;
}

static const char *os_last_error(struct ArrowArrayStream *st)
{
	(void)st;
	return NULL;
}

static void os_release(struct ArrowArrayStream *st)
{
	struct one_stream *o = st->private_data;
	if (o->array.release)
		o->array.release(&o->array);
	o->schema.release(&o->schema);
	free(o);
	st->release = NULL;
}

static int import_array(PyObject *obj, struct ArrowArrayStream *out)
{
	PyObject *pair = PyObject_CallMethod(obj, "__arrow_c_array__", NULL);
	if (pair == NULL)
		return -1;
	PyObject *sc, *ac;
	if (!PyArg_ParseTuple(pair, "OO", &sc, &ac)) {
		Py_DECREF(pair);
		return -1;
	}
	struct ArrowSchema *s = PyCapsule_GetPointer(sc, "arrow_schema");
	struct ArrowArray *a = s ? PyCapsule_GetPointer(ac, "arrow_array") : NULL;
	struct one_stream *o = a ? calloc(1, sizeof(*o)) : NULL;
	if (o == NULL) {
		Py_DECREF(pair);
		if (!PyErr_Occurred())
			PyErr_NoMemory();
		return -1;
	}
	/* moved: the capsules' destructors see released structs */
	o->schema = *s;
	s->release = NULL;
	o->array = *a;
	a->release = NULL;
	Py_DECREF(pair);
	out->get_schema = os_get_schema;
	out->get_next = os_get_next;
	out->get_last_error = os_last_error;
	out->release = os_release;
	out->private_data = o;
	return 0;
}

int firn_py_import_stream(PyObject *obj, struct ArrowArrayStream *out)
{
	int rc;
	if (PyObject_HasAttrString(obj, "__arrow_c_stream__")) {
		PyObject *cap = PyObject_CallMethod(obj, "__arrow_c_stream__", NULL);
		if (cap == NULL)
			return -1;
		struct ArrowArrayStream *st = PyCapsule_GetPointer(cap, "arrow_array_stream");
		if (st == NULL) {
			Py_DECREF(cap);
			return -1;
		}
		*out = *st;
		st->release = NULL;
		Py_DECREF(cap);
	} else if (PyObject_HasAttrString(obj, "__arrow_c_array__")) {
		if (import_array(obj, out) != 0)
			return -1;
	} else {
		PyErr_Format(PyExc_TypeError,
			     "%s exposes neither __arrow_c_stream__ nor __arrow_c_array__",
			     Py_TYPE(obj)->tp_name);
		return -1;
	}
	Py_BEGIN_ALLOW_THREADS
	rc = plain_wrap(out);
	Py_END_ALLOW_THREADS
	if (rc != 0) {
		out->release(out);
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}
