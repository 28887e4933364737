/* firn._firn: module setup, the error classes, firn's allocator
 * statistics and the zero-copy debug hook. */
#include "firnmodule.h"

#include <stdatomic.h>
#include <stdlib.h>

static PyObject *error_base, *error_by_code[9];

PyObject *firn_py_raise(const struct firn_error *err)
{
	int code = err ? err->code : FIRN_EIO;
	PyObject *cls = code < 0 && code >= -8 ? error_by_code[-code] : error_base;
	const char *msg = err && err->message[0] ? err->message : firn_code_name(code);
	PyObject *args = Py_BuildValue("(si)", msg, code);
	if (args != NULL) {
		PyErr_SetObject(cls, args);
		Py_DECREF(args);
	}
	return NULL;
}

/* ---- allocator statistics -------------------------------------------
 * Every block libfirn allocates goes through these (set before any other
 * libfirn call), so a test can see that scans give back what they took:
 * batches handed to pyarrow are freed by their release callback. */

static atomic_llong live_blocks, total_blocks;

static void *count_malloc(size_t n, void *ctx)
{
	(void)ctx;
	void *p = malloc(n);
	if (p != NULL) {
		atomic_fetch_add_explicit(&live_blocks, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&total_blocks, 1, memory_order_relaxed);
	}
	return p;
}

static void *count_realloc(void *ptr, size_t n, void *ctx)
{
	(void)ctx;
	void *p = realloc(ptr, n);
	if (p != NULL && ptr == NULL) {
		atomic_fetch_add_explicit(&live_blocks, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&total_blocks, 1, memory_order_relaxed);
	}
	return p;
}

static void count_free(void *ptr, void *ctx)
{
	(void)ctx;
	if (ptr != NULL) {
		atomic_fetch_sub_explicit(&live_blocks, 1, memory_order_relaxed);
		free(ptr);
	}
}

static const struct firn_allocator counting = { count_malloc, count_realloc, count_free, NULL };

static PyObject *alloc_stats(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	return Py_BuildValue("{s:L,s:L}", "live_blocks", (long long)atomic_load(&live_blocks),
			     "total_blocks", (long long)atomic_load(&total_blocks));
}

/* ---- zero-copy debug hook -------------------------------------------- */

static pthread_mutex_t note_lock = PTHREAD_MUTEX_INITIALIZER;
#define NOTE_MAX 64
static uintptr_t noted[NOTE_MAX];
static int n_noted;

/* Records the first two buffers of each top-level column of a batch. */
void firn_py_note_batch(const struct ArrowArray *a)
{
	pthread_mutex_lock(&note_lock);
	n_noted = 0;
	for (int64_t i = 0; i < a->n_children && n_noted + 2 <= NOTE_MAX; i++) {
		const struct ArrowArray *c = a->children[i];
		for (int64_t b = 0; b < 2; b++)
			noted[n_noted++] = b < c->n_buffers ? (uintptr_t)c->buffers[b] : 0;
	}
	pthread_mutex_unlock(&note_lock);
}

PyObject *firn_py_last_batch_buffers(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	pthread_mutex_lock(&note_lock);
	PyObject *out = PyList_New(n_noted / 2);
	for (int i = 0; out != NULL && i < n_noted / 2; i++) {
		PyObject *pair = Py_BuildValue("(KK)", (unsigned long long)noted[2 * i],
					       (unsigned long long)noted[2 * i + 1]);
		if (pair == NULL) {
			Py_CLEAR(out);
			break;
		}
		PyList_SET_ITEM(out, i, pair);
	}
	pthread_mutex_unlock(&note_lock);
	return out;
}

static PyObject *schema_spec(PyObject *self, PyObject *obj)
{
	(void)self;
	PyObject *cap = PyObject_CallMethod(obj, "__arrow_c_schema__", NULL);
	if (cap == NULL)
		return NULL;
	struct ArrowSchema *s = PyCapsule_GetPointer(cap, "arrow_schema");
	PyObject *out = s ? firn_py_schema_spec(s) : NULL;
	Py_DECREF(cap);
	return out;
}

static PyObject *version(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	return PyUnicode_FromString(firn_version());
}

static PyMethodDef module_methods[] = {
	{ "_alloc_stats", alloc_stats, METH_NOARGS, "libfirn's live and total allocated blocks." },
	{ "_last_batch_buffers", firn_py_last_batch_buffers, METH_NOARGS,
	  "(validity, values) buffer addresses of each column of the last batch a scan "
	  "handed out." },
	{ "schema_spec", schema_spec, METH_O,
	  "The SPEC text of an object exposing __arrow_c_schema__ (a struct schema)." },
	{ "version", version, METH_NOARGS, "libfirn's version." },
	{ NULL, NULL, 0, NULL }
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT, "firn._firn", "The C layer of the firn module (use firn).", -1,
	module_methods, NULL, NULL, NULL, NULL
};

static const struct {
	int code;
	const char *name;
	const char *doc;
} error_classes[] = {
	{ FIRN_EINVAL, "ValidationError", "Bad input or argument (FIRN_EINVAL)." },
	{ FIRN_ENOTFOUND, "NotFound", "No such table, namespace, column, file (FIRN_ENOTFOUND)." },
	{ FIRN_EEXISTS, "AlreadyExists", "It exists already (FIRN_EEXISTS)." },
	{ FIRN_ECONFLICT, "CommitFailed",
	  "A commit lost its race or a requirement failed (FIRN_ECONFLICT)." },
	{ FIRN_EIO, "IOError", "The operating system or a server said no (FIRN_EIO)." },
	{ FIRN_ENOMEM, "OutOfMemory", "Out of memory (FIRN_ENOMEM)." },
	{ FIRN_ECORRUPT, "CorruptFile", "A file does not follow its format (FIRN_ECORRUPT)." },
	{ FIRN_EUNSUPPORTED, "Unsupported",
	  "Valid, but not something firn does (FIRN_EUNSUPPORTED)." },
};

static int add_errors(PyObject *m)
{
	error_base = PyErr_NewExceptionWithDoc("firn.Error", "A libfirn error: args are "
					       "(message, code).", NULL, NULL);
	if (error_base == NULL || PyModule_AddObjectRef(m, "Error", error_base) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(error_classes) / sizeof(error_classes[0]); i++) {
		char full[64];
		snprintf(full, sizeof full, "firn.%s", error_classes[i].name);
		PyObject *bases = error_classes[i].code == FIRN_EIO
					  ? PyTuple_Pack(2, error_base, PyExc_OSError)
					  : PyTuple_Pack(1, error_base);
		if (bases == NULL)
			return -1;
		PyObject *cls = PyErr_NewExceptionWithDoc(full, error_classes[i].doc, bases, NULL);
		Py_DECREF(bases);
		if (cls == NULL || PyModule_AddObjectRef(m, error_classes[i].name, cls) != 0)
			return -1;
		error_by_code[-error_classes[i].code] = cls;
	}
	error_by_code[0] = error_base;
	return 0;
}

PyMODINIT_FUNC PyInit__firn(void)
{
	static int allocator_set;
	if (!allocator_set) {
		firn_allocator_set(&counting);
		allocator_set = 1;
	}
	PyObject *m = PyModule_Create(&module_def);
	if (m == NULL)
		return NULL;
	PyTypeObject *types[] = { &firn_py_catalog_type, &firn_py_table_type,
				  &firn_py_reader_type };
	for (size_t i = 0; i < 3; i++) {
		if (PyType_Ready(types[i]) != 0 ||
		    PyModule_AddObjectRef(m, strrchr(types[i]->tp_name, '.') + 1,
					  (PyObject *)types[i]) != 0)
			goto fail;
	}
	if (add_errors(m) != 0)
		goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
