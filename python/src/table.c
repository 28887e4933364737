/* firn._firn.Table: a loaded table's writes, scans, changes, maintenance,
 * information, refs and schema evolution. Arguments arrive positional
 * from firn/__init__.py, which names them. */
#include "firnmodule.h"

#include "util_py.h"

#define LL(x) ((long long)(x))

static void table_dealloc(struct py_table *self)
{
	firn_table_free(self->t);
	firn_free(self->ident);
	Py_XDECREF(self->cat);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Runs stmt on self's table under the GIL release and the catalog lock. */
#define TCALL(stmt) FIRN_PY_CALL(self->cat, stmt)
#define RETURN_NONE_OR_RAISE(rc, err)                                                              \
	do {                                                                                       \
		if ((rc) != 0)                                                                     \
			return firn_py_raise(&(err));                                              \
		Py_RETURN_NONE;                                                                    \
	} while (0)

/* snapshot_id (None or int), as_of (None or str), ref (None or str). */
static int parse_sel(PyObject *id, const char *as_of, const char *ref,
		     struct firn_snapshot_sel *sel)
{
	memset(sel, 0, sizeof(*sel));
	if (id != Py_None) {
		sel->snapshot_id = PyLong_AsLongLong(id);
		if (sel->snapshot_id == -1 && PyErr_Occurred())
			return -1;
		sel->has_snapshot_id = true;
	}
	sel->as_of = as_of;
	sel->ref = ref;
	return 0;
}

static PyObject *commit_dict(const struct firn_commit_info *i)
{
	return Py_BuildValue("{s:L,s:L,s:L,s:i}", "snapshot_id", LL(i->snapshot_id),
			     "added_records", LL(i->added_records), "added_files",
			     LL(i->added_files), "attempts", i->attempts);
}

static PyObject *delete_dict(const struct firn_delete_info *i)
{
	return Py_BuildValue("{s:L,s:L,s:L,s:L,s:L}", "snapshot_id", LL(i->snapshot_id), "rows",
			     LL(i->rows), "files_removed", LL(i->files_removed), "files_rewritten",
			     LL(i->files_rewritten), "delete_files", LL(i->delete_files));
}

/* ---- writes ---------------------------------------------------------- */

static PyObject *t_append(struct py_table *self, PyObject *args)
{
	PyObject *data;
	int truncate = 0;
	if (!PyArg_ParseTuple(args, "O|p", &data, &truncate))
		return NULL;
	struct ArrowArrayStream in;
	if (firn_py_import_stream(data, &in) != 0)
		return NULL;
	struct firn_append_options o = FIRN_APPEND_OPTIONS_INIT;
	o.truncate_timestamps = truncate;
	struct firn_commit_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_append_stream(self->t, &in, &o, &info, &err));
	return rc != 0 ? firn_py_raise(&err) : commit_dict(&info);
}

static PyObject *t_overwrite(struct py_table *self, PyObject *args)
{
	PyObject *data;
	const char *where = NULL;
	int truncate = 0;
	if (!PyArg_ParseTuple(args, "O|zp", &data, &where, &truncate))
		return NULL;
	struct ArrowArrayStream in;
	if (firn_py_import_stream(data, &in) != 0)
		return NULL;
	struct firn_append_options o = FIRN_APPEND_OPTIONS_INIT;
	o.truncate_timestamps = truncate;
	struct firn_delete_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_overwrite_stream(self->t, &in, &o, where, &info, &err));
	return rc != 0 ? firn_py_raise(&err) : delete_dict(&info);
}

static PyObject *t_merge(struct py_table *self, PyObject *args)
{
	PyObject *data;
	const char *on, *mode = NULL;
	int truncate = 0;
	if (!PyArg_ParseTuple(args, "Os|zp", &data, &on, &mode, &truncate))
		return NULL;
	struct ArrowArrayStream in;
	if (firn_py_import_stream(data, &in) != 0)
		return NULL;
	struct firn_append_options o = FIRN_APPEND_OPTIONS_INIT;
	o.truncate_timestamps = truncate;
	struct firn_delete_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_merge_stream(self->t, &in, &o, on, mode, &info, &err));
	return rc != 0 ? firn_py_raise(&err) : delete_dict(&info);
}

/* Appends files (Parquet, CSV, JSON Lines) in one commit: what
 * firn.ray.write commits once its workers have written their parts. */
static PyObject *t_append_files(struct py_table *self, PyObject *args)
{
	PyObject *files;
	int fmt = FIRN_INPUT_AUTO;
	if (!PyArg_ParseTuple(args, "O|i", &files, &fmt))
		return NULL;
	struct firn_py_kv paths;
	if (firn_py_strs_from(files, &paths) != 0)
		return NULL;
	struct firn_commit_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_append(self->t, paths.keys, paths.n, (enum firn_input_format)fmt,
				     NULL, &info, &err));
	firn_py_kv_free(&paths);
	return rc != 0 ? firn_py_raise(&err) : commit_dict(&info);
}

/* stage_append(data, truncate): (staged manifest location, counts). */
static PyObject *t_stage_append(struct py_table *self, PyObject *args)
{
	PyObject *data;
	int truncate = 0;
	if (!PyArg_ParseTuple(args, "O|p", &data, &truncate))
		return NULL;
	struct ArrowArrayStream in;
	if (firn_py_import_stream(data, &in) != 0)
		return NULL;
	struct firn_append_options o = FIRN_APPEND_OPTIONS_INIT;
	o.truncate_timestamps = truncate;
	struct firn_commit_info info = { 0 };
	struct firn_error err = { 0 };
	char *staged = NULL;
	int rc;
	TCALL(rc = firn_table_stage_append(self->t, &in, &o, &staged, &info, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	PyObject *out = Py_BuildValue("(sN)", staged, commit_dict(&info));
	firn_free(staged);
	return out;
}

static PyObject *t_append_staged(struct py_table *self, PyObject *args)
{
	PyObject *list;
	if (!PyArg_ParseTuple(args, "O", &list))
		return NULL;
	struct firn_py_kv staged;
	if (firn_py_strs_from(list, &staged) != 0)
		return NULL;
	struct firn_commit_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_append_staged(self->t, (const char *const *)staged.keys, staged.n,
					    &info, &err));
	firn_py_kv_free(&staged);
	return rc != 0 ? firn_py_raise(&err) : commit_dict(&info);
}

/* ---- reads ----------------------------------------------------------- */

/* scan(columns, where, limit, snapshot_id, as_of, ref): a Reader over a
 * table handle of its own, loaded afresh (the scan sees the newest commit
 * and is untouched by later commits through this object). */
static PyObject *t_scan(struct py_table *self, PyObject *args)
{
	const char *columns = NULL, *where = NULL, *as_of = NULL, *ref = NULL;
	long long limit = -1;
	PyObject *id = Py_None, *files = Py_None;
	if (!PyArg_ParseTuple(args, "|zzLOzzO", &columns, &where, &limit, &id, &as_of, &ref, &files))
		return NULL;
	struct firn_scan_options o = FIRN_SCAN_OPTIONS_INIT;
	o.columns = columns;
	o.where = where;
	o.limit = limit;
	if (parse_sel(id, as_of, ref, &o.sel) != 0)
		return NULL;
	struct firn_py_kv only = { 0 };
	if (files != Py_None) {
		if (firn_py_strs_from(files, &only) != 0)
			return NULL;
		if (only.n == 0) {
			firn_py_kv_free(&only);
			PyErr_SetString(PyExc_ValueError, "files: an empty list");
			return NULL;
		}
		o.files = (const char *const *)only.keys;
		o.n_files = only.n;
	}
	struct firn_error err = { 0 };
	struct firn_table *t = NULL;
	struct ArrowSchema schema;
	struct ArrowArrayStream st;
	int rc;
	TCALL(rc = firn_table_load(self->cat->c, self->ident, &t, &err));
	if (rc != 0) {
		firn_py_kv_free(&only);
		return firn_py_raise(&err);
	}
	Py_BEGIN_ALLOW_THREADS
	rc = firn_table_scan(t, &o, &schema, &st, &err);
	Py_END_ALLOW_THREADS
	firn_py_kv_free(&only); /* the scan keeps no pointer to the list */
	if (rc != 0) {
		firn_table_free(t);
		return firn_py_raise(&err);
	}
	return firn_py_reader_new(self->cat, t, &schema, &st);
}

static PyObject *t_count(struct py_table *self, PyObject *args)
{
	const char *where = NULL, *as_of = NULL, *ref = NULL;
	PyObject *id = Py_None;
	if (!PyArg_ParseTuple(args, "|zOzz", &where, &id, &as_of, &ref))
		return NULL;
	struct firn_snapshot_sel sel;
	if (parse_sel(id, as_of, ref, &sel) != 0)
		return NULL;
	struct firn_error err = { 0 };
	int64_t n = 0;
	int rc;
	TCALL(rc = firn_table_count(self->t, where, &sel, &n, &err));
	return rc != 0 ? firn_py_raise(&err) : PyLong_FromLongLong(n);
}

static PyObject *t_schema_capsule(struct py_table *self, PyObject *unused);

/* ---- row-level changes and maintenance ------------------------------- */

static PyObject *t_delete(struct py_table *self, PyObject *args)
{
	const char *where, *mode = NULL;
	if (!PyArg_ParseTuple(args, "s|z", &where, &mode))
		return NULL;
	struct firn_delete_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_delete(self->t, where, mode, &info, &err));
	return rc != 0 ? firn_py_raise(&err) : delete_dict(&info);
}

static PyObject *t_update(struct py_table *self, PyObject *args)
{
	const char *set, *where = NULL, *mode = NULL;
	if (!PyArg_ParseTuple(args, "s|zz", &set, &where, &mode))
		return NULL;
	struct firn_delete_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_update(self->t, set, where, mode, &info, &err));
	return rc != 0 ? firn_py_raise(&err) : delete_dict(&info);
}

static PyObject *t_compact(struct py_table *self, PyObject *args)
{
	const char *where = NULL;
	long long target = 0;
	if (!PyArg_ParseTuple(args, "|zL", &where, &target))
		return NULL;
	struct firn_delete_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_compact(self->t, where, target, &info, &err));
	return rc != 0 ? firn_py_raise(&err) : delete_dict(&info);
}

static PyObject *t_expire(struct py_table *self, PyObject *args)
{
	const char *older = NULL;
	long long retain = 0;
	int dry = 0;
	if (!PyArg_ParseTuple(args, "|zLp", &older, &retain, &dry))
		return NULL;
	struct firn_expire_info info = { 0 };
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_expire(self->t, older, retain, dry, &info, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	return Py_BuildValue("{s:L,s:L}", "snapshots_expired", LL(info.snapshots_expired),
			     "files_deleted", LL(info.files_deleted));
}

static PyObject *orphan_dict(const struct firn_orphan_info *i)
{
	return Py_BuildValue("{s:L,s:L,s:L}", "files", LL(i->files), "bytes", LL(i->bytes),
			     "too_young", LL(i->too_young));
}

static PyObject *t_remove_orphans(struct py_table *self, PyObject *args)
{
	const char *older = NULL;
	int dry = 0, force = 0;
	if (!PyArg_ParseTuple(args, "|zpp", &older, &dry, &force))
		return NULL;
	struct firn_orphan_info info = { 0 };
	info.force = force;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_remove_orphans(self->t, older, dry, &info, &err));
	return rc != 0 ? firn_py_raise(&err) : orphan_dict(&info);
}

static PyObject *t_maintain(struct py_table *self, PyObject *args)
{
	struct firn_maintain_options o = FIRN_MAINTAIN_OPTIONS_INIT;
	long long max_del = -1, target = 0, retain = 0;
	if (!PyArg_ParseTuple(args, "|dLLzLz", &o.delete_ratio, &max_del, &target,
			      &o.expire_older_than, &retain, &o.orphans_older_than))
		return NULL;
	o.max_delete_files = max_del;
	o.target_file_size = target;
	o.retain_last = retain;
	struct firn_maintain_info info;
	memset(&info, 0, sizeof(info));
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_maintain(self->t, &o, &info, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	return Py_BuildValue("{s:L,s:N,s:{s:L,s:L},s:N}", "files_over_policy",
			     LL(info.files_over_policy), "compact", delete_dict(&info.compact),
			     "expire", "snapshots_expired", LL(info.expire.snapshots_expired),
			     "files_deleted", LL(info.expire.files_deleted), "orphans",
			     orphan_dict(&info.orphans));
}

static PyObject *t_rewrite_manifests(struct py_table *self, PyObject *unused)
{
	(void)unused;
	int64_t before = 0, after = 0;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_rewrite_manifests(self->t, &before, &after, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	return Py_BuildValue("(LL)", LL(before), LL(after));
}

/* ---- information ----------------------------------------------------- */

static PyObject *str_or_none(const char *s)
{
	if (s == NULL)
		Py_RETURN_NONE;
	return PyUnicode_FromString(s);
}

static PyObject *pairs(char **k, char **v, size_t n)
{
	PyObject *d = PyDict_New();
	for (size_t i = 0; d != NULL && i < n; i++) {
		PyObject *val = str_or_none(v[i]);
		if (val == NULL || PyDict_SetItemString(d, k[i], val) != 0)
			Py_CLEAR(d);
		Py_XDECREF(val);
	}
	return d;
}

static PyObject *describe_dict(const struct firn_table_description *d)
{
	PyObject *spec = PyList_New(0), *sort = PyList_New(0), *refs = PyList_New(0);
	PyObject *schema = firn_py_schema_spec(&d->schema);
	if (spec == NULL || sort == NULL || refs == NULL || schema == NULL)
		goto fail;
	for (size_t i = 0; i < d->n_spec_fields; i++) {
		const struct firn_partition_field_info *f = &d->spec_fields[i];
		PyObject *e = Py_BuildValue("{s:s,s:s,s:N,s:i,s:i}", "name", f->name, "transform",
					    f->transform, "source", str_or_none(f->source),
					    "source_id", f->source_id, "field_id", f->field_id);
		if (e == NULL || PyList_Append(spec, e) != 0)
			goto fail_e;
		Py_DECREF(e);
		continue;
	fail_e:
		Py_XDECREF(e);
		goto fail;
	}
	for (size_t i = 0; i < d->n_sort_fields; i++) {
		const struct firn_sort_field_info *f = &d->sort_fields[i];
		PyObject *e = Py_BuildValue("{s:N,s:s,s:O,s:O}", "source", str_or_none(f->source),
					    "transform", f->transform, "descending",
					    f->descending ? Py_True : Py_False, "nulls_first",
					    f->nulls_first ? Py_True : Py_False);
		if (e == NULL || PyList_Append(sort, e) != 0) {
			Py_XDECREF(e);
			goto fail;
		}
		Py_DECREF(e);
	}
	for (size_t i = 0; i < d->n_refs; i++) {
		PyObject *e = Py_BuildValue("{s:s,s:s,s:L}", "name", d->refs[i].name, "type",
					    d->refs[i].tag ? "tag" : "branch", "snapshot_id",
					    LL(d->refs[i].snapshot_id));
		if (e == NULL || PyList_Append(refs, e) != 0) {
			Py_XDECREF(e);
			goto fail;
		}
		Py_DECREF(e);
	}
	PyObject *cur = Py_None;
	if (d->has_current_snapshot)
		cur = PyLong_FromLongLong(d->current_snapshot_id);
	else
		Py_INCREF(cur);
	return Py_BuildValue(
		"{s:s,s:i,s:s,s:s,s:s,s:i,s:N,s:i,s:N,s:N,s:N,s:N,s:L,s:L,s:L,s:L,s:L,s:L,s:N}",
		"ident", d->ident, "format_version", d->format_version, "uuid", d->uuid, "location",
		d->location, "metadata_location", d->metadata_location, "schema_id", d->schema_id,
		"schema", schema, "spec_id", d->spec_id, "partition_spec", spec, "sort_order", sort,
		"properties", pairs(d->prop_keys, d->prop_values, d->n_props),
		"current_snapshot_id", cur, "n_snapshots", LL(d->n_snapshots), "total_records",
		LL(d->total_records),
		"total_data_files", LL(d->total_data_files), "total_files_size",
		LL(d->total_files_size), "deleted_records", LL(d->deleted_records),
		"total_delete_files", LL(d->total_delete_files), "refs", refs);
fail:
	Py_XDECREF(spec);
	Py_XDECREF(sort);
	Py_XDECREF(refs);
	Py_XDECREF(schema);
	return NULL;
}

static PyObject *t_describe(struct py_table *self, PyObject *unused)
{
	(void)unused;
	struct firn_table_description d;
	memset(&d, 0, sizeof(d));
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_describe(self->t, &d, &err));
	PyObject *out = rc != 0 ? firn_py_raise(&err) : describe_dict(&d);
	firn_table_description_free(&d);
	return out;
}

static PyObject *t_snapshots(struct py_table *self, PyObject *unused)
{
	(void)unused;
	struct firn_snapshot_info *v = NULL;
	size_t n = 0;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_snapshots(self->t, &v, &n, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	PyObject *out = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; out != NULL && i < n; i++) {
		const struct firn_snapshot_info *s = &v[i];
		PyObject *parent = s->has_parent ? PyLong_FromLongLong(s->parent_id)
						 : (Py_INCREF(Py_None), Py_None);
		PyObject *e = Py_BuildValue(
			"{s:L,s:N,s:L,s:L,s:s,s:i,s:N,s:N}", "snapshot_id", LL(s->snapshot_id),
			"parent_id", parent, "sequence_number", LL(s->sequence_number),
			"timestamp_ms", LL(s->timestamp_ms), "operation", s->operation, "schema_id",
			s->schema_id, "manifest_list", str_or_none(s->manifest_list), "summary",
			pairs(s->summary_keys, s->summary_values, s->n_summary));
		if (e == NULL)
			Py_CLEAR(out);
		else
			PyList_SET_ITEM(out, (Py_ssize_t)i, e);
	}
	firn_snapshot_info_free(v, n);
	return out;
}

static PyObject *t_history(struct py_table *self, PyObject *unused)
{
	(void)unused;
	struct firn_history_entry *v = NULL;
	size_t n = 0;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_history(self->t, &v, &n, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	PyObject *out = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; out != NULL && i < n; i++) {
		const struct firn_history_entry *h = &v[i];
		PyObject *parent = h->has_parent ? PyLong_FromLongLong(h->parent_id)
						 : (Py_INCREF(Py_None), Py_None);
		PyObject *e = Py_BuildValue("{s:L,s:L,s:N,s:N,s:O}", "timestamp_ms",
					    LL(h->timestamp_ms), "snapshot_id", LL(h->snapshot_id),
					    "parent_id", parent, "operation",
					    str_or_none(h->operation),
					    "is_current_ancestor",
					    h->is_current_ancestor ? Py_True : Py_False);
		if (e == NULL)
			Py_CLEAR(out);
		else
			PyList_SET_ITEM(out, (Py_ssize_t)i, e);
	}
	firn_history_free(v, n);
	return out;
}

static const char *content_name(int c)
{
	return c == FIRN_FILE_DATA ? "data" : c == FIRN_FILE_POSITION_DELETES ? "position_deletes"
	     : c == FIRN_FILE_EQUALITY_DELETES ? "equality_deletes" : "unknown";
}

/* File infos as a list of dicts; frees v. */
static PyObject *file_list(struct firn_file_info *v, size_t n)
{
	PyObject *out = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; out != NULL && i < n; i++) {
		const struct firn_file_info *f = &v[i];
		PyObject *e = Py_BuildValue(
			"{s:s,s:s,s:s,s:i,s:N,s:L,s:L,s:L,s:L,s:L}", "content",
			content_name(f->content),
			"path", f->path, "format", f->format, "spec_id", f->spec_id, "partition",
			pairs(f->partition_names, f->partition_values, f->n_partition),
			"record_count", LL(f->record_count), "file_size", LL(f->file_size),
			"deleted_records", LL(f->deleted_records), "sequence_number",
			LL(f->sequence_number), "snapshot_id", LL(f->snapshot_id));
		if (e == NULL)
			Py_CLEAR(out);
		else
			PyList_SET_ITEM(out, (Py_ssize_t)i, e);
	}
	firn_file_info_free(v, n);
	return out;
}

static PyObject *t_files(struct py_table *self, PyObject *args)
{
	const char *as_of = NULL, *ref = NULL;
	PyObject *id = Py_None;
	if (!PyArg_ParseTuple(args, "|Ozz", &id, &as_of, &ref))
		return NULL;
	struct firn_snapshot_sel sel;
	if (parse_sel(id, as_of, ref, &sel) != 0)
		return NULL;
	struct firn_file_info *v = NULL;
	size_t n = 0;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_files(self->t, &sel, &v, &n, &err));
	return rc != 0 ? firn_py_raise(&err) : file_list(v, n);
}

/* plan(where, snapshot_id, as_of, ref): the data files a scan reads. */
static PyObject *t_plan(struct py_table *self, PyObject *args)
{
	const char *where = NULL, *as_of = NULL, *ref = NULL;
	PyObject *id = Py_None;
	if (!PyArg_ParseTuple(args, "|zOzz", &where, &id, &as_of, &ref))
		return NULL;
	struct firn_snapshot_sel sel;
	if (parse_sel(id, as_of, ref, &sel) != 0)
		return NULL;
	struct firn_file_info *v = NULL;
	size_t n = 0;
	int64_t snap = -1;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_plan(self->t, where, &sel, &snap, &v, &n, &err));
	if (rc != 0)
		return firn_py_raise(&err);
	PyObject *files = file_list(v, n);
	if (files == NULL)
		return NULL;
	if (snap < 0)
		return Py_BuildValue("(ON)", Py_None, files);
	return Py_BuildValue("(LN)", LL(snap), files);
}

/* Reloads the table's metadata from the catalog (other writers' commits). */
static PyObject *t_refresh(struct py_table *self, PyObject *unused)
{
	(void)unused;
	struct firn_table *t = NULL;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_load(self->cat->c, self->ident, &t, &err);
	      if (rc == 0) { firn_table_free(self->t); self->t = t; });
	RETURN_NONE_OR_RAISE(rc, err);
}

static PyObject *t_schema_capsule(struct py_table *self, PyObject *unused);

/* ---- refs, rollback, alter ------------------------------------------- */

static PyObject *t_set_ref(struct py_table *self, PyObject *args)
{
	const char *name;
	int tag;
	long long id = -1;
	if (!PyArg_ParseTuple(args, "sp|L", &name, &tag, &id))
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_set_ref(self->t, name, tag, id, &err));
	RETURN_NONE_OR_RAISE(rc, err);
}

static PyObject *t_rollback(struct py_table *self, PyObject *args)
{
	long long id;
	if (!PyArg_ParseTuple(args, "L", &id))
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_rollback(self->t, id, &err));
	RETURN_NONE_OR_RAISE(rc, err);
}

static PyObject *t_add_column(struct py_table *self, PyObject *args)
{
	const char *name, *type, *doc = NULL;
	int required = 0;
	if (!PyArg_ParseTuple(args, "ss|pz", &name, &type, &required, &doc))
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_add_column(self->t, name, type, required, doc, &err));
	RETURN_NONE_OR_RAISE(rc, err);
}

/* The alter calls that take one or two strings. */
#define ALTER1(fn, call)                                                                           \
	static PyObject *fn(struct py_table *self, PyObject *args)                                 \
	{                                                                                          \
		const char *a;                                                                     \
		if (!PyArg_ParseTuple(args, "s", &a))                                              \
			return NULL;                                                               \
		struct firn_error err = { 0 };                                                     \
		int rc;                                                                            \
		TCALL(rc = call(self->t, a, &err));                                                \
		RETURN_NONE_OR_RAISE(rc, err);                                                     \
	}
#define ALTER2(fn, call)                                                                           \
	static PyObject *fn(struct py_table *self, PyObject *args)                                 \
	{                                                                                          \
		const char *a, *b;                                                                 \
		if (!PyArg_ParseTuple(args, "ss", &a, &b))                                         \
			return NULL;                                                               \
		struct firn_error err = { 0 };                                                     \
		int rc;                                                                            \
		TCALL(rc = call(self->t, a, b, &err));                                             \
		RETURN_NONE_OR_RAISE(rc, err);                                                     \
	}
ALTER1(t_drop_column, firn_table_drop_column)
ALTER2(t_rename_column, firn_table_rename_column)
ALTER2(t_update_column_type, firn_table_update_column_type)
ALTER1(t_make_column_optional, firn_table_make_column_optional)
ALTER1(t_set_partition_spec, firn_table_set_partition_spec)
ALTER1(t_set_sort_order, firn_table_set_sort_order)

static PyObject *t_set_properties(struct py_table *self, PyObject *args)
{
	PyObject *props;
	if (!PyArg_ParseTuple(args, "O", &props))
		return NULL;
	struct firn_py_kv kv;
	if (firn_py_kv_from(props, &kv) != 0)
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_set_properties(self->t, kv.keys, kv.values, kv.n, &err));
	firn_py_kv_free(&kv);
	RETURN_NONE_OR_RAISE(rc, err);
}

static PyObject *t_remove_properties(struct py_table *self, PyObject *args)
{
	PyObject *keys;
	if (!PyArg_ParseTuple(args, "O", &keys))
		return NULL;
	struct firn_py_kv kv;
	if (firn_py_strs_from(keys, &kv) != 0)
		return NULL;
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_remove_properties(self->t, kv.keys, kv.n, &err));
	firn_py_kv_free(&kv);
	RETURN_NONE_OR_RAISE(rc, err);
}

static void schema_capsule_free(PyObject *cap)
{
	struct ArrowSchema *s = PyCapsule_GetPointer(cap, "arrow_schema");
	if (s != NULL) {
		if (s->release != NULL)
			s->release(s);
		PyMem_Free(s);
	}
}

/* __arrow_c_schema__: the current schema (field ids in the metadata). */
static PyObject *t_schema_capsule(struct py_table *self, PyObject *unused)
{
	(void)unused;
	struct ArrowSchema *s = PyMem_Calloc(1, sizeof(*s));
	if (s == NULL)
		return PyErr_NoMemory();
	struct firn_error err = { 0 };
	int rc;
	TCALL(rc = firn_table_schema(self->t, s, &err));
	if (rc != 0) {
		PyMem_Free(s);
		return firn_py_raise(&err);
	}
	PyObject *cap = PyCapsule_New(s, "arrow_schema", schema_capsule_free);
	if (cap == NULL) {
		s->release(s);
		PyMem_Free(s);
	}
	return cap;
}

static PyObject *t_ident(struct py_table *self, void *closure)
{
	(void)closure;
	return PyUnicode_FromString(self->ident);
}

static PyObject *t_metadata_location(struct py_table *self, void *closure)
{
	(void)closure;
	PyObject *out;
	pthread_mutex_lock(&self->cat->lock);
	out = PyUnicode_FromString(firn_table_metadata_location(self->t));
	pthread_mutex_unlock(&self->cat->lock);
	return out;
}

static PyObject *t_format_version(struct py_table *self, void *closure)
{
	(void)closure;
	return PyLong_FromLong(firn_table_format_version(self->t));
}

#define M(name, fn, flags, doc) { name, (PyCFunction)fn, flags, doc }
static PyMethodDef table_methods[] = {
	M("append", t_append, METH_VARARGS, "append(data, truncate_timestamps=False)"),
	M("overwrite", t_overwrite, METH_VARARGS, "overwrite(data, where=None, truncate=False)"),
	M("merge", t_merge, METH_VARARGS, "merge(data, on, mode=None, truncate=False)"),
	M("append_files", t_append_files, METH_VARARGS, "append_files(paths, format=0)"),
	M("stage_append", t_stage_append, METH_VARARGS, "stage_append(data, truncate=False)"),
	M("append_staged", t_append_staged, METH_VARARGS, "append_staged(locations)"),
	M("scan", t_scan, METH_VARARGS,
	  "scan(columns, where, limit, snapshot_id, as_of, ref, files=None)"),
	M("plan", t_plan, METH_VARARGS, "plan(where, snapshot_id, as_of, ref) -> (snapshot id or None, files)"),
	M("count", t_count, METH_VARARGS, "count(where, snapshot_id, as_of, ref)"),
	M("delete", t_delete, METH_VARARGS, "delete(where, mode=None)"),
	M("update", t_update, METH_VARARGS, "update(set, where=None, mode=None)"),
	M("compact", t_compact, METH_VARARGS, "compact(where=None, target_file_size=0)"),
	M("expire", t_expire, METH_VARARGS, "expire(older_than, retain_last, dry_run)"),
	M("remove_orphans", t_remove_orphans, METH_VARARGS,
	  "remove_orphans(older_than, dry, force)"),
	M("maintain", t_maintain, METH_VARARGS, "maintain(delete_ratio, max_delete_files, ...)"),
	M("rewrite_manifests", t_rewrite_manifests, METH_NOARGS, "rewrite_manifests()"),
	M("describe", t_describe, METH_NOARGS, "describe()"),
	M("snapshots", t_snapshots, METH_NOARGS, "snapshots()"),
	M("history", t_history, METH_NOARGS, "history()"),
	M("files", t_files, METH_VARARGS, "files(snapshot_id, as_of, ref)"),
	M("refresh", t_refresh, METH_NOARGS, "refresh()"),
	M("set_ref", t_set_ref, METH_VARARGS, "set_ref(name, tag, snapshot_id=-1)"),
	M("rollback", t_rollback, METH_VARARGS, "rollback(snapshot_id)"),
	M("add_column", t_add_column, METH_VARARGS, "add_column(name, type, required, doc)"),
	M("drop_column", t_drop_column, METH_VARARGS, "drop_column(name)"),
	M("rename_column", t_rename_column, METH_VARARGS, "rename_column(name, new_name)"),
	M("update_column_type", t_update_column_type, METH_VARARGS,
	  "update_column_type(name, type)"),
	M("make_column_optional", t_make_column_optional, METH_VARARGS,
	  "make_column_optional(name)"),
	M("set_properties", t_set_properties, METH_VARARGS, "set_properties(dict)"),
	M("remove_properties", t_remove_properties, METH_VARARGS, "remove_properties(keys)"),
	M("set_partition_spec", t_set_partition_spec, METH_VARARGS, "set_partition_spec(spec)"),
	M("set_sort_order", t_set_sort_order, METH_VARARGS, "set_sort_order(order)"),
	M("__arrow_c_schema__", t_schema_capsule, METH_NOARGS, "The table schema as a capsule."),
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef table_getset[] = {
	{ "ident", (getter)t_ident, NULL, "namespace.table", NULL },
	{ "metadata_location", (getter)t_metadata_location, NULL, "current metadata file", NULL },
	{ "format_version", (getter)t_format_version, NULL, "1, 2 or 3", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject firn_py_table_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "firn._firn.Table",
	.tp_basicsize = sizeof(struct py_table),
	.tp_dealloc = (destructor)table_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A loaded table (made by Catalog.load_table / create_table).",
	.tp_methods = table_methods,
	.tp_getset = table_getset,
};
