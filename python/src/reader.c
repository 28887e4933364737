/* firn._firn.Reader: a scan's batches behind the Arrow PyCapsule stream
 * interface. The stream handed to a consumer wraps firn's scan stream only
 * to own the scan's table handle and the catalog reference: each batch is
 * firn's ArrowArray as firn decoded it, passed on untouched. */
#include "firnmodule.h"

#include <stdlib.h>

struct scan_stream {
	struct ArrowArrayStream inner; /* firn's scan stream */
	struct firn_table *t;          /* the handle the scan borrows (or NULL) */
	struct firn_parquet_reader *pr; /* the file a task read borrows (or NULL) */
	PyObject *cat;                 /* keeps the catalog open */
};

static int ss_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
	struct scan_stream *s = st->private_data;
	return s->inner.get_schema(&s->inner, out);
}

/* Consumers call this with or without the GIL (pyarrow drops it, a plain
 * C consumer never had it); the decoding runs without it either way. */
static int ss_get_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
	struct scan_stream *s = st->private_data;
	int rc;
	if (Py_IsInitialized() && PyGILState_Check()) {
		Py_BEGIN_ALLOW_THREADS
		rc = s->inner.get_next(&s->inner, out);
		Py_END_ALLOW_THREADS
	} else {
		rc = s->inner.get_next(&s->inner, out);
	}
	if (rc == 0 && out->release != NULL)
		firn_py_note_batch(out);
	return rc;
}

static const char *ss_last_error(struct ArrowArrayStream *st)
{
	struct scan_stream *s = st->private_data;
	return s->inner.get_last_error(&s->inner);
}

static void ss_release(struct ArrowArrayStream *st)
{
	struct scan_stream *s = st->private_data;
	if (s == NULL)
		return;
	s->inner.release(&s->inner);
	firn_table_free(s->t);
	firn_parquet_reader_free(s->pr);
	if (Py_IsInitialized()) {
		PyGILState_STATE g = PyGILState_Ensure();
		Py_XDECREF(s->cat);
		PyGILState_Release(g);
	}
	free(s);
	st->release = NULL;
	st->private_data = NULL;
}

struct py_reader {
	PyObject_HEAD
	struct ArrowSchema schema;
	struct ArrowArrayStream stream; /* release NULL once handed over */
};

static void reader_dealloc(struct py_reader *self)
{
	if (self->stream.release != NULL)
		self->stream.release(&self->stream);
	if (self->schema.release != NULL)
		self->schema.release(&self->schema);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

PyObject *firn_py_reader_new(struct py_catalog *cat, struct firn_table *t,
			     struct ArrowSchema *schema, struct ArrowArrayStream *st)
{
	return firn_py_reader_new2(cat, t, NULL, schema, st);
}

PyObject *firn_py_reader_new2(struct py_catalog *cat, struct firn_table *t,
			      struct firn_parquet_reader *pr, struct ArrowSchema *schema,
			      struct ArrowArrayStream *st)
{
	struct scan_stream *s = calloc(1, sizeof(*s));
	struct py_reader *r = s ? PyObject_New(struct py_reader, &firn_py_reader_type) : NULL;
	if (r == NULL) {
		free(s);
		st->release(st);
		schema->release(schema);
		firn_table_free(t);
		firn_parquet_reader_free(pr);
		return PyErr_NoMemory();
	}
	s->inner = *st;
	s->t = t;
	s->pr = pr;
	Py_INCREF(cat);
	s->cat = (PyObject *)cat;
	r->schema = *schema;
	r->stream.get_schema = ss_get_schema;
	r->stream.get_next = ss_get_next;
	r->stream.get_last_error = ss_last_error;
	r->stream.release = ss_release;
	r->stream.private_data = s;
	return (PyObject *)r;
}

/* A capsule dropped without being consumed releases what it holds. */
static void stream_capsule_free(PyObject *cap)
{
	struct ArrowArrayStream *st = PyCapsule_GetPointer(cap, "arrow_array_stream");
	if (st == NULL) {
		PyErr_Clear();
		return;
	}
	if (st->release != NULL)
		st->release(st);
	free(st);
}

static void schema_capsule_free(PyObject *cap)
{
	struct ArrowSchema *s = PyCapsule_GetPointer(cap, "arrow_schema");
	if (s == NULL) {
		PyErr_Clear();
		return;
	}
	if (s->release != NULL)
		s->release(s);
	free(s);
}

static PyObject *reader_c_stream(struct py_reader *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "requested_schema", NULL };
	PyObject *requested = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", names, &requested))
		return NULL;
	/* requested_schema is a hint a producer may ignore: the scan's
	 * types are what firn decoded. */
	if (self->stream.release == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "this scan's stream was consumed already");
		return NULL;
	}
	struct ArrowArrayStream *st = malloc(sizeof(*st));
	if (st == NULL)
		return PyErr_NoMemory();
	*st = self->stream;
	PyObject *cap = PyCapsule_New(st, "arrow_array_stream", stream_capsule_free);
	if (cap == NULL) {
		free(st);
		return NULL;
	}
	self->stream.release = NULL;
	return cap;
}

static PyObject *reader_c_schema(struct py_reader *self, PyObject *unused)
{
	(void)unused;
	struct ArrowSchema *s = malloc(sizeof(*s));
	if (s == NULL)
		return PyErr_NoMemory();
	if (firn_schema_copy(s, &self->schema) != 0) {
		free(s);
		return PyErr_NoMemory();
	}
	PyObject *cap = PyCapsule_New(s, "arrow_schema", schema_capsule_free);
	if (cap == NULL) {
		s->release(s);
		free(s);
	}
	return cap;
}

static PyObject *reader_spec(struct py_reader *self, PyObject *unused)
{
	(void)unused;
	return firn_py_schema_spec(&self->schema);
}

static PyObject *reader_consumed(struct py_reader *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->stream.release == NULL);
}

static PyMethodDef reader_methods[] = {
	{ "__arrow_c_stream__", (PyCFunction)(void (*)(void))reader_c_stream,
	  METH_VARARGS | METH_KEYWORDS,
	  "Hands the scan's ArrowArrayStream over in a capsule (once)." },
	{ "__arrow_c_schema__", (PyCFunction)reader_c_schema, METH_NOARGS,
	  "The scan's output schema in a capsule." },
	{ "schema_spec", (PyCFunction)reader_spec, METH_NOARGS, "The output schema as SPEC text." },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef reader_getset[] = {
	{ "consumed", (getter)reader_consumed, NULL, "True once the stream was handed over.",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject firn_py_reader_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "firn._firn.Reader",
	.tp_basicsize = sizeof(struct py_reader),
	.tp_dealloc = (destructor)reader_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "A scan's result: pass it to pyarrow.table, polars.DataFrame or DuckDB.",
	.tp_methods = reader_methods,
	.tp_getset = reader_getset,
};
