/* firn._firn.Catalog: a catalog handle, its namespaces and its tables. */
#include "firnmodule.h"

#include "util_py.h"

static void catalog_dealloc(struct py_catalog *self)
{
	if (self->c != NULL) {
		firn_catalog_free(self->c);
		pthread_mutex_destroy(&self->lock);
	}
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int catalog_init(struct py_catalog *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "warehouse", "uri", "name", "token", "credential", "mode", NULL };
	const char *warehouse = NULL, *uri = NULL, *name = NULL, *token = NULL, *cred = NULL;
	int mode = FIRN_CATALOG_CREATE;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|zzzzzi", names, &warehouse, &uri, &name,
					 &token, &cred, &mode))
		return -1;
	if (self->c != NULL) {
		PyErr_SetString(PyExc_RuntimeError, "Catalog is initialised already");
		return -1;
	}
	struct firn_catalog_options o = FIRN_CATALOG_OPTIONS_INIT;
	o.mode = (enum firn_catalog_mode)mode;
	o.token = token;
	o.credential = cred;
	struct firn_error err = { 0 };
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = firn_catalog_open_with(&self->c, uri, warehouse, name, &o, &err);
	Py_END_ALLOW_THREADS
	if (rc != 0) {
		self->c = NULL;
		firn_py_raise(&err);
		return -1;
	}
	pthread_mutex_init(&self->lock, NULL);
	return 0;
}

static PyObject *strings_list(char **v, size_t n)
{
	PyObject *out = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; out != NULL && i < n; i++) {
		PyObject *s = PyUnicode_FromString(v[i]);
		if (s == NULL)
			Py_CLEAR(out);
		else
			PyList_SET_ITEM(out, (Py_ssize_t)i, s);
	}
	firn_catalog_strings_free(v, n);
	return out;
}

static PyObject *pairs_dict(char **k, char **v, size_t n)
{
	PyObject *out = PyDict_New();
	for (size_t i = 0; out != NULL && i < n; i++) {
		PyObject *val = PyUnicode_FromString(v[i]);
		if (val == NULL || PyDict_SetItemString(out, k[i], val) != 0)
			Py_CLEAR(out);
		Py_XDECREF(val);
	}
	firn_catalog_strings_free(k, n);
	firn_catalog_strings_free(v, n);
	return out;
}

static PyObject *cat_namespaces(struct py_catalog *self, PyObject *args)
{
	const char *parent = NULL;
	if (!PyArg_ParseTuple(args, "|z", &parent))
		return NULL;
	struct firn_error err = { 0 };
	char **v = NULL;
	size_t n = 0;
	int rc;
	FIRN_PY_CALL(self, rc = firn_catalog_namespace_list(self->c, parent, &v, &n, &err));
	return rc != 0 ? firn_py_raise(&err) : strings_list(v, n);
}

static PyObject *cat_create_namespace(struct py_catalog *self, PyObject *args)
{
	const char *ns;
	PyObject *props = Py_None;
	if (!PyArg_ParseTuple(args, "s|O", &ns, &props))
		return NULL;
	struct firn_py_kv kv;
	if (firn_py_kv_from(props, &kv) != 0)
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	FIRN_PY_CALL(self, rc = firn_catalog_namespace_create(self->c, ns, kv.keys, kv.values, kv.n,
							      &err));
	firn_py_kv_free(&kv);
	if (rc != 0)
		return firn_py_raise(&err);
	Py_RETURN_NONE;
}

static PyObject *cat_drop_namespace(struct py_catalog *self, PyObject *args)
{
	const char *ns;
	if (!PyArg_ParseTuple(args, "s", &ns))
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	FIRN_PY_CALL(self, rc = firn_catalog_namespace_drop(self->c, ns, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	Py_RETURN_NONE;
}

static PyObject *cat_namespace_exists(struct py_catalog *self, PyObject *args)
{
	const char *ns;
	if (!PyArg_ParseTuple(args, "s", &ns))
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	FIRN_PY_CALL(self, rc = firn_catalog_namespace_exists(self->c, ns, &err));
	if (rc < 0)
		return firn_py_raise(&err);
	return PyBool_FromLong(rc);
}

static PyObject *cat_namespace_properties(struct py_catalog *self, PyObject *args)
{
	const char *ns;
	if (!PyArg_ParseTuple(args, "s", &ns))
		return NULL;
	struct firn_error err = { 0 };
	char **k = NULL, **v = NULL;
	size_t n = 0;
	int rc;
	FIRN_PY_CALL(self, rc = firn_catalog_namespace_properties(self->c, ns, &k, &v, &n, &err));
	return rc != 0 ? firn_py_raise(&err) : pairs_dict(k, v, n);
}

static PyObject *cat_update_namespace(struct py_catalog *self, PyObject *args)
{
	const char *ns;
	PyObject *set = Py_None, *remove = Py_None;
	if (!PyArg_ParseTuple(args, "s|OO", &ns, &set, &remove))
		return NULL;
	struct firn_py_kv kv, rm;
	if (firn_py_kv_from(set, &kv) != 0)
		return NULL;
	if (firn_py_strs_from(remove, &rm) != 0) {
		firn_py_kv_free(&kv);
		return NULL;
	}
	struct firn_error err = { 0 };
	int rc;
	FIRN_PY_CALL(self, rc = firn_catalog_namespace_update(self->c, ns, kv.keys, kv.values, kv.n,
							      rm.keys, rm.n, &err));
	firn_py_kv_free(&kv);
	firn_py_kv_free(&rm);
	if (rc != 0)
		return firn_py_raise(&err);
	Py_RETURN_NONE;
}

static PyObject *cat_list_tables(struct py_catalog *self, PyObject *args)
{
	const char *ns;
	if (!PyArg_ParseTuple(args, "s", &ns))
		return NULL;
	struct firn_error err = { 0 };
	char **v = NULL;
	size_t n = 0;
	int rc;
	FIRN_PY_CALL(self, rc = firn_catalog_table_list(self->c, ns, &v, &n, &err));
	return rc != 0 ? firn_py_raise(&err) : strings_list(v, n);
}

/* A Table object over t (taken), or NULL with t freed. */
static PyObject *wrap_table(struct py_catalog *self, struct firn_table *t, const char *ident)
{
	struct py_table *pt = PyObject_New(struct py_table, &firn_py_table_type);
	if (pt == NULL) {
		firn_table_free(t);
		return NULL;
	}
	pt->t = t;
	pt->ident = firn_strdup(ident);
	Py_INCREF(self);
	pt->cat = self;
	if (pt->ident == NULL) {
		Py_DECREF(pt);
		return PyErr_NoMemory();
	}
	return (PyObject *)pt;
}

static PyObject *cat_load_table(struct py_catalog *self, PyObject *args)
{
	const char *ident;
	if (!PyArg_ParseTuple(args, "s", &ident))
		return NULL;
	struct firn_error err = { 0 };
	struct firn_table *t = NULL;
	int rc;
	FIRN_PY_CALL(self, rc = firn_table_load(self->c, ident, &t, &err));
	return rc != 0 ? firn_py_raise(&err) : wrap_table(self, t, ident);
}

static PyObject *cat_create_table(struct py_catalog *self, PyObject *args)
{
	const char *ident, *schema, *partition_by = NULL, *sort_by = NULL, *location = NULL;
	PyObject *props = Py_None;
	int format_version = 0;
	if (!PyArg_ParseTuple(args, "ss|zzOiz", &ident, &schema, &partition_by, &sort_by, &props,
			      &format_version, &location))
		return NULL;
	struct firn_py_kv kv;
	if (firn_py_kv_from(props, &kv) != 0)
		return NULL;
	struct firn_table_create_options o = FIRN_TABLE_CREATE_OPTIONS_INIT;
	o.schema = schema;
	o.partition_by = partition_by;
	o.sort_by = sort_by;
	o.format_version = format_version;
	o.prop_keys = kv.keys;
	o.prop_values = kv.values;
	o.n_props = kv.n;
	o.location = location;
	struct firn_error err = { 0 };
	struct firn_table *t = NULL;
	int rc;
	FIRN_PY_CALL(self, rc = firn_table_create(self->c, ident, &o, &t, &err));
	firn_py_kv_free(&kv);
	return rc != 0 ? firn_py_raise(&err) : wrap_table(self, t, ident);
}

static PyObject *cat_drop_table(struct py_catalog *self, PyObject *args)
{
	const char *ident;
	int purge = 0;
	if (!PyArg_ParseTuple(args, "s|p", &ident, &purge))
		return NULL;
	struct firn_error err = { 0 };
	struct firn_purge_info info = { 0 };
	int rc;
	FIRN_PY_CALL(self, rc = firn_table_drop(self->c, ident, purge, &info, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	return Py_BuildValue("{s:L,s:L}", "files_deleted", (long long)info.files_deleted,
			     "kept_outside", (long long)info.kept_outside);
}

static PyObject *cat_rename_table(struct py_catalog *self, PyObject *args)
{
	const char *from, *to;
	if (!PyArg_ParseTuple(args, "ss", &from, &to))
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	FIRN_PY_CALL(self, rc = firn_table_rename(self->c, from, to, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	Py_RETURN_NONE;
}

static PyObject *cat_register_table(struct py_catalog *self, PyObject *args)
{
	const char *ident, *file;
	if (!PyArg_ParseTuple(args, "ss", &ident, &file))
		return NULL;
	struct firn_error err = { 0 };
	struct firn_table *t = NULL;
	int rc;
	FIRN_PY_CALL(self, rc = firn_table_register(self->c, ident, file, &err);
		     if (rc == 0) rc = firn_table_load(self->c, ident, &t, &err));
	return rc != 0 ? firn_py_raise(&err) : wrap_table(self, t, ident);
}

static PyObject *cat_warehouse(struct py_catalog *self, void *closure)
{
	(void)closure;
	const char *w = firn_catalog_warehouse(self->c);
	if (w == NULL)
		Py_RETURN_NONE;
	return PyUnicode_FromString(w);
}

static PyObject *cat_name(struct py_catalog *self, void *closure)
{
	(void)closure;
	return PyUnicode_FromString(firn_catalog_name(self->c));
}

static PyMethodDef catalog_methods[] = {
	{ "namespaces", (PyCFunction)cat_namespaces, METH_VARARGS, "namespaces(parent=None)" },
	{ "create_namespace", (PyCFunction)cat_create_namespace, METH_VARARGS,
	  "create_namespace(ns, properties=None)" },
	{ "drop_namespace", (PyCFunction)cat_drop_namespace, METH_VARARGS, "drop_namespace(ns)" },
	{ "namespace_exists", (PyCFunction)cat_namespace_exists, METH_VARARGS,
	  "namespace_exists(ns)" },
	{ "namespace_properties", (PyCFunction)cat_namespace_properties, METH_VARARGS,
	  "namespace_properties(ns)" },
	{ "update_namespace", (PyCFunction)cat_update_namespace, METH_VARARGS,
	  "update_namespace(ns, set=None, remove=None)" },
	{ "list_tables", (PyCFunction)cat_list_tables, METH_VARARGS, "list_tables(ns)" },
	{ "load_table", (PyCFunction)cat_load_table, METH_VARARGS, "load_table(ident)" },
	{ "create_table", (PyCFunction)cat_create_table, METH_VARARGS,
	  "create_table(ident, spec, partition_by, sort_by, properties, format_version, "
	  "location)" },
	{ "drop_table", (PyCFunction)cat_drop_table, METH_VARARGS,
	  "drop_table(ident, purge=False)" },
	{ "rename_table", (PyCFunction)cat_rename_table, METH_VARARGS, "rename_table(from, to)" },
	{ "register_table", (PyCFunction)cat_register_table, METH_VARARGS,
	  "register_table(ident, metadata_file)" },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef catalog_getset[] = {
	{ "warehouse", (getter)cat_warehouse, NULL, "The warehouse directory.", NULL },
	{ "name", (getter)cat_name, NULL, "The catalog name.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject firn_py_catalog_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "firn._firn.Catalog",
	.tp_basicsize = sizeof(struct py_catalog),
	.tp_dealloc = (destructor)catalog_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Catalog(warehouse=None, uri=None, name=None, token=None, credential=None, "
		  "mode=0)",
	.tp_methods = catalog_methods,
	.tp_getset = catalog_getset,
	.tp_init = (initproc)catalog_init,
	.tp_new = PyType_GenericNew,
};
