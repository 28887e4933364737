/* Table._read_file: one data file of a plan read on its own, through
 * libfirn's public Parquet reader. libfirn has no public call to scan one
 * planned file task (with its deletes and the schema mapping of the table
 * scan), so this reads only a file that needs neither: the caller (FileTask)
 * sends the files without deletes; here the file's columns must carry the
 * table's field ids under the table's current names and Arrow types, or
 * firn.Unsupported is raised. */
#include "firnmodule.h"

#include <string.h>

#include "util_py.h"

static const struct ArrowSchema *by_id(const struct ArrowSchema *s, int32_t id)
{
	for (int64_t i = 0; i < s->n_children; i++)
		if (firn_schema_field_id(s->children[i]) == id)
			return s->children[i];
	return NULL;
}

static const struct ArrowSchema *by_name(const struct ArrowSchema *s, const char *name)
{
	for (int64_t i = 0; i < s->n_children; i++)
		if (strcmp(s->children[i]->name, name) == 0)
			return s->children[i];
	return NULL;
}

/* Same Arrow shape: formats equal all the way down. */
static bool same_shape(const struct ArrowSchema *a, const struct ArrowSchema *b)
{
	if (strcmp(a->format, b->format) != 0 || a->n_children != b->n_children)
		return false;
	for (int64_t i = 0; i < a->n_children; i++)
		if (!same_shape(a->children[i], b->children[i]))
			return false;
	return true;
}

/* Field ids of the wanted columns (names NULL: all of the table's), each
 * checked against the file; 0, or -1 with *why set. */
static int pick(const struct ArrowSchema *table, const struct ArrowSchema *file,
		const struct firn_py_kv *want, int32_t *ids, int *n, const char **why)
{
	int64_t count = want->n ? (int64_t)want->n : table->n_children;
	*n = 0;
	for (int64_t i = 0; i < count; i++) {
		const struct ArrowSchema *tc =
			want->n ? by_name(table, want->keys[i]) : table->children[i];
		if (tc == NULL)
			return *why = "a column the table does not have", -1;
		const struct ArrowSchema *fc = by_id(file, firn_schema_field_id(tc));
		if (fc == NULL || strcmp(fc->name, tc->name) != 0 || !same_shape(fc, tc))
			return *why = "the file predates a schema change of the column", -1;
		ids[(*n)++] = firn_schema_field_id(tc);
	}
	return 0;
}

PyObject *firn_py_read_file(struct py_table *self, PyObject *args)
{
	const char *path;
	PyObject *cols = Py_None;
	if (!PyArg_ParseTuple(args, "s|O", &path, &cols))
		return NULL;
	struct firn_py_kv want;
	if (firn_py_strs_from(cols, &want) != 0)
		return NULL;
	struct ArrowSchema ts = { 0 }, fs = { 0 };
	struct firn_parquet_reader *pr = NULL;
	struct firn_error err = { 0 };
	int rc;
	FIRN_PY_CALL(self->cat, rc = firn_table_schema(self->t, &ts, &err));
	if (rc == 0) {
		Py_BEGIN_ALLOW_THREADS
		rc = firn_parquet_reader_open(&pr, path, &err);
		if (rc == 0)
			rc = firn_parquet_reader_schema(pr, &fs, &err);
		Py_END_ALLOW_THREADS
	}
	PyObject *out = NULL;
	int32_t *ids = rc == 0 ? PyMem_Calloc((size_t)ts.n_children + want.n + 1, sizeof(int32_t))
			       : NULL;
	int n = 0;
	const char *why = NULL;
	if (rc != 0) {
		firn_py_raise(&err);
	} else if (ids == NULL) {
		PyErr_NoMemory();
	} else if (pick(&ts, &fs, &want, ids, &n, &why) != 0) {
		err.code = FIRN_EUNSUPPORTED;
		snprintf(err.message, sizeof err.message, "%s: cannot be read on its own: %s", path,
			 why);
		firn_py_raise(&err);
	} else {
		struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
		o.n_field_ids = n;
		o.field_ids = ids;
		struct ArrowArrayStream st;
		struct ArrowSchema os;
		Py_BEGIN_ALLOW_THREADS
		rc = firn_parquet_reader_stream(pr, &o, &st, &err);
		if (rc == 0 && st.get_schema(&st, &os) != 0) {
			st.release(&st);
			rc = firn_error_set(&err, FIRN_EIO, "%s: no schema", path);
		}
		Py_END_ALLOW_THREADS
		if (rc != 0) {
			firn_py_raise(&err);
		} else {
			out = firn_py_reader_new2(self->cat, NULL, pr, &os, &st);
			pr = NULL;
		}
	}
	PyMem_Free(ids);
	firn_py_kv_free(&want);
	if (ts.release)
		ts.release(&ts);
	if (fs.release)
		fs.release(&fs);
	firn_parquet_reader_free(pr);
	return out;
}
