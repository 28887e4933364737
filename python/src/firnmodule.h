/* firn's CPython extension (firn._firn): what the module's files share.
 *
 * Locking: a catalog's handle and the tables loaded from it are not safe to
 * use from two threads at once (a commit re-reads the table's metadata in
 * place), so every call on them holds the catalog's mutex, taken after the
 * GIL is released. A scan gets a table handle of its own, so its batches are
 * decoded without the mutex and without the GIL. */
#ifndef FIRN_PY_MODULE_H
#define FIRN_PY_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>

#include <firn/firn.h>

struct py_catalog {
	PyObject_HEAD
	struct firn_catalog *c;
	pthread_mutex_t lock;
};

struct py_table {
	PyObject_HEAD
	struct py_catalog *cat; /* strong reference */
	struct firn_table *t;
	char *ident;
};

extern PyTypeObject firn_py_catalog_type;
extern PyTypeObject firn_py_table_type;
extern PyTypeObject firn_py_reader_type;

/* Raises the firn.Error subclass for err->code with firn's message;
 * returns NULL. */
PyObject *firn_py_raise(const struct firn_error *err);

/* Runs `stmt` without the GIL, holding the catalog's mutex. */
#define FIRN_PY_CALL(cat, stmt)                                                                    \
	do {                                                                                       \
		Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&(cat)->lock);                           \
		stmt;                                                                              \
		pthread_mutex_unlock(&(cat)->lock);                                                \
		Py_END_ALLOW_THREADS                                                               \
	} while (0)

/* Moves the stream out of obj's __arrow_c_stream__ (or builds a one-batch
 * stream from __arrow_c_array__) into *out, adapted to the Arrow types
 * firn takes (string views and large offsets become plain strings and
 * lists). 0, or -1 with a Python exception set. */
int firn_py_import_stream(PyObject *obj, struct ArrowArrayStream *out);

/* A reader over a scan: owns its table handle and keeps cat alive. */
PyObject *firn_py_reader_new(struct py_catalog *cat, struct firn_table *t,
			     struct ArrowSchema *schema, struct ArrowArrayStream *st);

/* The same over a Parquet file's stream (pr owned, t may be NULL). */
PyObject *firn_py_reader_new2(struct py_catalog *cat, struct firn_table *t,
			      struct firn_parquet_reader *pr, struct ArrowSchema *schema,
			      struct ArrowArrayStream *st);

/* Table._read_file(path, columns): one data file, read on its own. */

/* The SPEC text (firn_spec_parse_schema's input) of an Arrow struct schema;
 * a new Python str, or NULL with an exception set. */
PyObject *firn_py_schema_spec(const struct ArrowSchema *s);

/* Buffer addresses of the last batch a reader handed out (zero-copy check). */
void firn_py_note_batch(const struct ArrowArray *a);
PyObject *firn_py_last_batch_buffers(PyObject *self, PyObject *unused);

#endif
