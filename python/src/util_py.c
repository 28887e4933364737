/* Python dicts and lists as C string arrays (util_py.h). */
#include "util_py.h"

/* Appends s's UTF-8 (str() of s) to hold and returns its chars. */
static const char *keep(PyObject *hold, PyObject *s)
{
	PyObject *str = PyObject_Str(s);
	if (str == NULL)
		return NULL;
	PyObject *b = PyUnicode_AsUTF8String(str);
	Py_DECREF(str);
	if (b == NULL || PyList_Append(hold, b) != 0) {
		Py_XDECREF(b);
		return NULL;
	}
	Py_DECREF(b);
	return PyBytes_AS_STRING(b);
}

int firn_py_kv_from(PyObject *dict, struct firn_py_kv *out)
{
	memset(out, 0, sizeof(*out));
	if (dict == Py_None)
		return 0;
	if (!PyDict_Check(dict)) {
		PyErr_SetString(PyExc_TypeError, "properties must be a dict");
		return -1;
	}
	size_t n = (size_t)PyDict_Size(dict);
	out->hold = PyList_New(0);
	out->keys = PyMem_Calloc(n + 1, sizeof(char *));
	out->values = PyMem_Calloc(n + 1, sizeof(char *));
	if (out->hold == NULL || out->keys == NULL || out->values == NULL) {
		firn_py_kv_free(out);
		PyErr_NoMemory();
		return -1;
	}
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	while (PyDict_Next(dict, &pos, &k, &v)) {
		out->keys[out->n] = keep(out->hold, k);
		out->values[out->n] = keep(out->hold, v);
		if (out->keys[out->n] == NULL || out->values[out->n] == NULL) {
			firn_py_kv_free(out);
			return -1;
		}
		out->n++;
	}
	return 0;
}

int firn_py_strs_from(PyObject *seq, struct firn_py_kv *out)
{
	memset(out, 0, sizeof(*out));
	if (seq == Py_None)
		return 0;
	PyObject *list = PySequence_List(seq);
	if (list == NULL)
		return -1;
	size_t n = (size_t)PyList_GET_SIZE(list);
	out->hold = PyList_New(0);
	out->keys = PyMem_Calloc(n + 1, sizeof(char *));
	if (out->hold == NULL || out->keys == NULL) {
		Py_DECREF(list);
		firn_py_kv_free(out);
		PyErr_NoMemory();
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		out->keys[i] = keep(out->hold, PyList_GET_ITEM(list, (Py_ssize_t)i));
		if (out->keys[i] == NULL) {
			Py_DECREF(list);
			firn_py_kv_free(out);
			return -1;
		}
		out->n++;
	}
	Py_DECREF(list);
	return 0;
}

void firn_py_kv_free(struct firn_py_kv *kv)
{
	PyMem_Free(kv->keys);
	PyMem_Free(kv->values);
	Py_CLEAR(kv->hold);
	memset(kv, 0, sizeof(*kv));
}
