/* Key/value and string lists from Python objects, as the C arrays the
 * libfirn calls take (the strings borrowed from UTF-8 bytes kept in hold). */
#ifndef FIRN_PY_UTIL_H
#define FIRN_PY_UTIL_H

#include "firnmodule.h"

struct firn_py_kv {
	const char **keys, **values;
	size_t n;
	PyObject *hold; /* a list keeping the bytes alive */
};

/* From a dict of str → str-able (None: empty). 0 or -1 with an exception. */
int firn_py_kv_from(PyObject *dict, struct firn_py_kv *out);
/* From an iterable of str into out->keys (None: empty). */
int firn_py_strs_from(PyObject *seq, struct firn_py_kv *out);
void firn_py_kv_free(struct firn_py_kv *kv);

#endif
