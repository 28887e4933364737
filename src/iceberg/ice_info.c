/* describe, snapshots, history, files: plain structs from the metadata
 * (the command line formats them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_scan.h"
#include "iceberg/ice_table.h"
#include "puffin/puffin.h"

static int oom(struct firn_error *err)
{
	return firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

/* firn_strdup that tells whether it failed: *out stays NULL for NULL s. */
static bool dup_ok(char **out, const char *s)
{
	*out = s ? firn_strdup(s) : NULL;
	return !s || *out;
}

/* The dotted name of field id in the current schema (NULL: none). */
static bool name_of(const struct firn_ice_meta *m, int32_t id, char **out)
{
	struct firn_buf b = { 0 };
	*out = NULL;
	if (firn_ice__schema_name_of(&firn_ice__meta_current_schema(m)->arrow, id, &b) == 0 &&
	    firn_buf_cstr(&b) == 0)
		*out = firn_strdup((const char *)b.data);
	bool ok = *out || b.data == NULL;
	firn_buf_free(&b);
	return ok;
}

static int64_t summary_int(const struct firn_ice_snapshot *s, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(firn_ice__snapshot_json(s), "summary"), key));
	return v ? strtoll(v, NULL, 10) : 0;
}

/* A JSON object of strings as two parallel arrays (non-string values as
 * their JSON text). */
static bool string_map(json_t *o, char ***keys, char ***values, size_t *n)
{
	*n = 0;
	size_t cap = json_object_size(o);
	*keys = firn_calloc(cap + 1, sizeof(char *));
	*values = firn_calloc(cap + 1, sizeof(char *));
	if (!*keys || !*values)
		return false;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		bool ok = dup_ok(&(*keys)[*n], k) && dup_ok(&(*values)[*n], text ? text : json_string_value(v));
		firn_free(text);
		(*n)++;
		if (!ok)
			return false;
	}
	return true;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		firn_free(v[i]);
	firn_free(v);
}

/* Rows removed by position deletes and DVs of the data file a task reads;
 * -1 when equality deletes apply. */
static int task_deleted(const struct firn_ice_task *t, int64_t *out, struct firn_error *err)
{
	*out = 0;
	for (size_t d = 0; d < t->n_deletes; d++)
		if (t->deletes[d]->file.content == 2) {
			*out = -1;
			return 0;
		}
	if (t->n_deletes == 0)
		return 0;
	struct firn_posset s = { 0 };
	int rc = firn_ice__task_positions(t, &s, err);
	*out = (int64_t)s.n;
	firn_posset_free(&s);
	return rc;
}

/* ---- describe ---------------------------------------------------------- */

static bool describe_spec(const struct firn_ice_meta *m, struct firn_table_description *d)
{
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, m->default_spec_id);
	size_t n = sp ? sp->n_fields : 0;
	d->spec_fields = firn_calloc(n + 1, sizeof(*d->spec_fields));
	if (!d->spec_fields)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct firn_partition_field_info *f = &d->spec_fields[d->n_spec_fields++];
		f->source_id = sp->fields[i].source_id;
		f->field_id = sp->fields[i].field_id;
		if (!dup_ok(&f->name, sp->fields[i].name) || !dup_ok(&f->transform, sp->fields[i].transform_text) ||
		    !name_of(m, f->source_id, &f->source))
			return false;
	}
	return true;
}

static bool describe_order(const struct firn_ice_meta *m, struct firn_table_description *d)
{
	const struct firn_ice_sort_order *so = firn_ice__meta_order(m, m->default_sort_order_id);
	size_t n = so ? so->n_fields : 0;
	d->sort_fields = firn_calloc(n + 1, sizeof(*d->sort_fields));
	if (!d->sort_fields)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct firn_sort_field_info *f = &d->sort_fields[d->n_sort_fields++];
		f->descending = so->fields[i].descending;
		f->nulls_first = so->fields[i].nulls_first;
		if (!name_of(m, so->fields[i].source_id, &f->source) ||
		    !dup_ok(&f->transform, so->fields[i].transform_text))
			return false;
	}
	return true;
}

static bool describe_refs(const struct firn_ice_meta *m, struct firn_table_description *d)
{
	d->refs = firn_calloc(m->n_refs + 1, sizeof(*d->refs));
	if (!d->refs)
		return false;
	for (size_t i = 0; i < m->n_refs; i++) {
		struct firn_ref_info *r = &d->refs[d->n_refs++];
		r->tag = m->refs[i].tag;
		r->snapshot_id = m->refs[i].snapshot_id;
		if (!dup_ok(&r->name, m->refs[i].name))
			return false;
	}
	return true;
}

/* Deleted rows of the current snapshot; failures only leave them out. */
static void describe_deletes(const struct firn_ice_meta *m, const struct firn_ice_snapshot *cur,
			     struct firn_table_description *d)
{
	struct firn_ice_plan p;
	struct firn_error e2 = { 0 };
	int64_t total = 0;
	int rc = firn_ice__plan(&p, m, cur, &firn_ice__meta_current_schema(m)->arrow, NULL, &e2);
	for (size_t i = 0; rc == 0 && i < p.n_tasks; i++) {
		int64_t n;
		rc = task_deleted(&p.tasks[i], &n, &e2);
		total += n > 0 ? n : 0;
	}
	firn_ice__plan_free(&p);
	if (rc != 0)
		return;
	d->has_deleted_records = true;
	d->deleted_records = total;
	d->total_delete_files = summary_int(cur, "total-delete-files");
}

int firn_table_describe(struct firn_table *t, struct firn_table_description *d, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	memset(d, 0, sizeof(*d));
	size_t n = strlen(t->ns) + strlen(t->name) + 2;
	if (!(d->ident = firn_malloc(n)))
		return oom(err);
	snprintf(d->ident, n, "%s.%s", t->ns, t->name);
	d->format_version = m->format_version;
	d->schema_id = m->current_schema_id;
	d->spec_id = m->default_spec_id;
	d->n_snapshots = (int64_t)m->n_snapshots;
	if (!dup_ok(&d->uuid, m->uuid ? m->uuid : "") || !dup_ok(&d->location, m->location) ||
	    !dup_ok(&d->metadata_location, t->metadata_location) || !describe_spec(m, d) ||
	    !describe_order(m, d) || !describe_refs(m, d))
		return oom(err);
	if (firn_schema_copy(&d->schema, &firn_ice__meta_current_schema(m)->arrow) != 0)
		return oom(err);
	json_t *props = json_object_get(m->root, "properties");
	if (!string_map(props, &d->prop_keys, &d->prop_values, &d->n_props))
		return oom(err);
	const struct firn_ice_snapshot *cur = firn_ice__meta_current(m);
	if (cur) {
		d->has_current_snapshot = true;
		d->current_snapshot_id = cur->snapshot_id;
		d->total_records = summary_int(cur, "total-records");
		d->total_data_files = summary_int(cur, "total-data-files");
		d->total_files_size = summary_int(cur, "total-files-size");
		describe_deletes(m, cur, d);
	}
	return 0;
}

void firn_table_description_free(struct firn_table_description *d)
{
	if (!d)
		return;
	firn_free(d->ident);
	firn_free(d->uuid);
	firn_free(d->location);
	firn_free(d->metadata_location);
	if (d->schema.release)
		d->schema.release(&d->schema);
	for (size_t i = 0; i < d->n_spec_fields; i++) {
		firn_free(d->spec_fields[i].name);
		firn_free(d->spec_fields[i].transform);
		firn_free(d->spec_fields[i].source);
	}
	firn_free(d->spec_fields);
	for (size_t i = 0; i < d->n_sort_fields; i++) {
		firn_free(d->sort_fields[i].source);
		firn_free(d->sort_fields[i].transform);
	}
	firn_free(d->sort_fields);
	free_strings(d->prop_keys, d->n_props);
	free_strings(d->prop_values, d->n_props);
	for (size_t i = 0; i < d->n_refs; i++)
		firn_free(d->refs[i].name);
	firn_free(d->refs);
	memset(d, 0, sizeof(*d));
}

/* ---- snapshots and history ---------------------------------------------- */

int firn_table_snapshots(struct firn_table *t, struct firn_snapshot_info **out, size_t *n,
			 struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	*n = 0;
	if (!(*out = firn_calloc(m->n_snapshots + 1, sizeof(**out))))
		return oom(err);
	for (size_t i = 0; i < m->n_snapshots; i++) {
		const struct firn_ice_snapshot *s = &m->snapshots[i];
		struct firn_snapshot_info *o = &(*out)[(*n)++];
		o->snapshot_id = s->snapshot_id;
		o->has_parent = s->has_parent;
		o->parent_id = s->parent_id;
		o->sequence_number = s->sequence_number;
		o->timestamp_ms = s->timestamp_ms;
		o->schema_id = s->schema_id;
		if (!dup_ok(&o->operation, s->operation) || !dup_ok(&o->manifest_list, s->manifest_list) ||
		    !string_map(json_object_get(firn_ice__snapshot_json(s), "summary"), &o->summary_keys, &o->summary_values,
				&o->n_summary)) {
			firn_snapshot_info_free(*out, *n);
			*out = NULL;
			*n = 0;
			return oom(err);
		}
	}
	return 0;
}

void firn_snapshot_info_free(struct firn_snapshot_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		firn_free(v[i].operation);
		firn_free(v[i].manifest_list);
		free_strings(v[i].summary_keys, v[i].n_summary);
		free_strings(v[i].summary_values, v[i].n_summary);
	}
	firn_free(v);
}

static bool is_current_ancestor(const struct firn_ice_meta *m, int64_t id)
{
	for (const struct firn_ice_snapshot *s = firn_ice__meta_current(m); s;
	     s = s->has_parent ? firn_ice__meta_snapshot(m, s->parent_id) : NULL)
		if (s->snapshot_id == id)
			return true;
	return false;
}

int firn_table_history(struct firn_table *t, struct firn_history_entry **out, size_t *n,
		       struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	*n = 0;
	if (!(*out = firn_calloc(m->n_snapshot_log + 1, sizeof(**out))))
		return oom(err);
	for (size_t i = 0; i < m->n_snapshot_log; i++) {
		const struct firn_ice_log_entry *e = &m->snapshot_log[i];
		const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(m, e->snapshot_id);
		struct firn_history_entry *o = &(*out)[(*n)++];
		o->timestamp_ms = e->timestamp_ms;
		o->snapshot_id = e->snapshot_id;
		o->has_parent = s && s->has_parent;
		o->parent_id = s ? s->parent_id : 0;
		o->is_current_ancestor = is_current_ancestor(m, e->snapshot_id);
		if (!dup_ok(&o->operation, s ? s->operation : NULL)) {
			firn_history_free(*out, *n);
			*out = NULL;
			*n = 0;
			return oom(err);
		}
	}
	return 0;
}

void firn_history_free(struct firn_history_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		firn_free(v[i].operation);
	firn_free(v);
}

/* ---- files ------------------------------------------------------------- */

struct file_list {
	struct firn_file_info *v;
	size_t n, cap;
};

/* Deleted rows per data file path of snap, as a list of the plan's tasks. */
struct del_count {
	const char *path;
	int64_t n;
};

static int del_cmp(const void *a, const void *b)
{
	return strcmp(((const struct del_count *)a)->path, ((const struct del_count *)b)->path);
}

static int deleted_counts(const struct firn_ice_plan *p, struct del_count **out, struct firn_error *err)
{
	if (!(*out = firn_calloc(p->n_tasks + 1, sizeof(**out))))
		return oom(err);
	for (size_t i = 0; i < p->n_tasks; i++) {
		(*out)[i].path = p->tasks[i].entry->file.path;
		FIRN_TRY(task_deleted(&p->tasks[i], &(*out)[i].n, err));
	}
	qsort(*out, p->n_tasks, sizeof(**out), del_cmp);
	return 0;
}

static int64_t deleted_of(const struct del_count *v, size_t n, const char *path)
{
	struct del_count key = { path, 0 };
	const struct del_count *hit = v ? bsearch(&key, v, n, sizeof(*v), del_cmp) : NULL;
	return hit ? hit->n : 0;
}

static int file_partition(const struct firn_ice_spec *sp, const struct firn_pfield *pf,
			  const struct firn_ice_data_file *f, struct firn_file_info *o, struct firn_error *err)
{
	size_t n = f->n_partition < sp->n_fields ? f->n_partition : sp->n_fields;
	o->partition_names = firn_calloc(n + 1, sizeof(char *));
	o->partition_values = firn_calloc(n + 1, sizeof(char *));
	o->partition_human = firn_calloc(n + 1, sizeof(char *));
	if (!o->partition_names || !o->partition_values || !o->partition_human)
		return oom(err);
	struct firn_buf b = { 0 };
	int rc = 0;
	for (size_t p = 0; rc == 0 && p < n; p++) {
		firn_buf_reset(&b);
		o->n_partition++;
		if (!dup_ok(&o->partition_names[p], sp->fields[p].name))
			rc = oom(err);
		else if (!f->partition[p].null && pf[p].result_type.id != FIRN_A_NULL &&
			 firn_ice__datum_to_json(&pf[p].result_type, &f->partition[p], &b) == 0 &&
			 firn_buf_cstr(&b) == 0 && !dup_ok(&o->partition_values[p], (const char *)b.data))
			rc = oom(err);
		firn_buf_reset(&b);
		if (rc == 0 && o->partition_values[p] &&
		    firn_ice__transform_to_human(&pf[p].transform, &pf[p].result_type, &f->partition[p], &b) == 0 &&
		    firn_buf_cstr(&b) == 0 && !dup_ok(&o->partition_human[p], (const char *)b.data))
			rc = oom(err);
	}
	firn_buf_free(&b);
	return rc;
}

static int add_file(struct file_list *l, const struct firn_ice_entry *e, const struct firn_ice_spec *sp,
		    const struct firn_pfield *pf, int64_t deleted, struct firn_error *err)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct firn_file_info *v = firn_realloc(l->v, cap * sizeof(*v));
		if (!v)
			return oom(err);
		l->v = v;
		l->cap = cap;
	}
	const struct firn_ice_data_file *f = &e->file;
	struct firn_file_info *o = &l->v[l->n++];
	memset(o, 0, sizeof(*o));
	o->content = f->content;
	o->spec_id = f->spec_id;
	o->record_count = f->record_count;
	o->file_size = f->file_size;
	o->deleted_records = f->content == 0 ? deleted : 0;
	o->sequence_number = e->sequence_number;
	o->snapshot_id = e->snapshot_id;
	if (!dup_ok(&o->path, f->path) || !dup_ok(&o->format, f->format))
		return oom(err);
	return file_partition(sp, pf, f, o, err);
}

/* Hands the list over (an empty one is an allocation too), or frees it
 * when rc says the call failed. */
static int give_list(struct file_list *l, int rc, struct firn_file_info **out, size_t *n,
		     struct firn_error *err)
{
	if (rc == 0 && !l->v && !(l->v = firn_calloc(1, sizeof(*l->v))))
		rc = oom(err);
	if (rc != 0) {
		firn_file_info_free(l->v, l->n);
		return rc;
	}
	*out = l->v;
	*n = l->n;
	return 0;
}

static int manifest_files(const struct firn_ice_meta *m, const struct firn_ice_manifest_file *mf,
			  struct firn_arena *arena, const struct del_count *dels, size_t n_dels,
			  struct file_list *l, struct firn_error *err)
{
	struct firn_ice_entry *es;
	size_t n;
	FIRN_TRY(firn_ice__manifest_read(mf, m, arena, &es, &n, err));
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, mf->spec_id);
	struct firn_pfield *pf = NULL;
	FIRN_TRY(firn_ice__spec_resolve(sp, &firn_ice__meta_current_schema(m)->arrow, &pf, err));
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < n; k++)
		if (es[k].status != FIRN_ICE_DELETED)
			rc = add_file(l, &es[k], sp, pf, deleted_of(dels, n_dels, es[k].file.path), err);
	firn_free(pf);
	return rc;
}

int firn_table_files(struct firn_table *t, const struct firn_snapshot_sel *sel,
		     struct firn_file_info **out, size_t *n, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *snap;
	*out = NULL;
	*n = 0;
	FIRN_TRY(firn_ice__select_snapshot(m, sel, &snap, err));
	struct file_list l = { 0 };
	struct del_count *dels = NULL;
	struct firn_ice_plan p = { 0 };
	struct firn_arena arena = { 0 };
	struct firn_ice_manifest_file *mfs = NULL;
	size_t n_mfs = 0;
	int rc = 0;
	if (snap) {
		rc = firn_ice__plan(&p, m, snap, &firn_ice__meta_current_schema(m)->arrow, NULL, err);
		if (rc == 0)
			rc = deleted_counts(&p, &dels, err);
		if (rc == 0)
			rc = firn_ice__snapshot_manifests(m, snap, &arena, &mfs, &n_mfs, err);
	}
	for (size_t i = 0; rc == 0 && i < n_mfs; i++)
		rc = manifest_files(m, &mfs[i], &arena, dels, p.n_tasks, &l, err);
	firn_free(dels);
	if (snap)
		firn_ice__plan_free(&p);
	firn_arena_free(&arena);
	return give_list(&l, rc, out, n, err);
}

/* The plan's tasks as file infos, partition values named by the spec of
 * each file (resolved once per spec). */
static int plan_files(const struct firn_ice_meta *m, const struct firn_ice_plan *p,
		      struct file_list *l, struct firn_error *err)
{
	const struct firn_ice_spec *sp = NULL;
	struct firn_pfield *pf = NULL;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->n_tasks; i++) {
		const struct firn_ice_task *tk = &p->tasks[i];
		if (!sp || sp->spec_id != tk->entry->file.spec_id) {
			firn_free(pf);
			pf = NULL;
			sp = firn_ice__meta_spec(m, tk->entry->file.spec_id);
			if (!sp) {
				rc = firn_error_set(err, FIRN_ECORRUPT, "%s: partition spec %d is not in the metadata",
						    tk->entry->file.path, (int)tk->entry->file.spec_id);
				break;
			}
			if ((rc = firn_ice__spec_resolve(sp, &firn_ice__meta_current_schema(m)->arrow, &pf,
							 err)) != 0)
				break;
		}
		int64_t deleted = 0;
		if ((rc = task_deleted(tk, &deleted, err)) == 0)
			rc = add_file(l, tk->entry, sp, pf, deleted, err);
	}
	firn_free(pf);
	return rc;
}

int firn_table_plan(struct firn_table *t, const char *where, const struct firn_snapshot_sel *sel,
		    int64_t *snapshot_id, struct firn_file_info **out, size_t *n,
		    struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *snap;
	*out = NULL;
	*n = 0;
	*snapshot_id = -1;
	FIRN_TRY(firn_ice__select_snapshot(m, sel, &snap, err));
	if (snap)
		*snapshot_id = snap->snapshot_id;
	struct file_list l = { 0 };
	int rc = 0;
	if (snap) {
		struct firn_ice_plan p = { 0 };
		rc = firn_ice__plan(&p, m, snap, firn_ice__read_schema(m, sel, snap), where, err);
		if (rc == 0)
			rc = plan_files(m, &p, &l, err);
		firn_ice__plan_free(&p);
	}
	return give_list(&l, rc, out, n, err);
}

void firn_file_info_free(struct firn_file_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		firn_free(v[i].path);
		firn_free(v[i].format);
		free_strings(v[i].partition_names, v[i].n_partition);
		free_strings(v[i].partition_values, v[i].n_partition);
		free_strings(v[i].partition_human, v[i].n_partition);
	}
	firn_free(v);
}
