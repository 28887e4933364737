/* describe, snapshots, history, files: JSON documents for the CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_scan.h"
#include "iceberg/ice_table.h"
#include "puffin/puffin.h"

static int dump(json_t *o, char **out, struct firn_error *err)
{
	char *s = firn_json__dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	*out = firn_strdup(s);
	firn_free(s);
	return *out ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
}

static int deleted_counts(const struct firn_ice_meta *m, const struct firn_ice_snapshot *snap,
			  json_t *out, struct firn_error *err);

static json_t *iso_ms(int64_t ms)
{
	char buf[64];
	firn_timestamp_format(ms, 3, true, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *columns(const struct firn_ice_schema *s)
{
	return json_deep_copy(json_object_get(s->json, "fields"));
}

static json_t *spec_json(const struct firn_ice_meta *m, const struct firn_ice_spec *sp)
{
	json_t *a = json_array();
	const struct firn_ice_schema *s = firn_ice__meta_current_schema(m);
	for (size_t i = 0; i < sp->n_fields; i++) {
		json_t *f = json_object();
		struct firn_buf b = { 0 };
		json_object_set_new(f, "name", json_string(sp->fields[i].name));
		json_object_set_new(f, "transform", json_string(sp->fields[i].transform_text));
		if (firn_ice__schema_name_of(&s->arrow, sp->fields[i].source_id, &b) == 0 &&
		    firn_buf_cstr(&b) == 0)
			json_object_set_new(f, "source", json_string((const char *)b.data));
		firn_buf_free(&b);
		json_object_set_new(f, "source-id", json_integer(sp->fields[i].source_id));
		json_object_set_new(f, "field-id", json_integer(sp->fields[i].field_id));
		json_array_append_new(a, f);
	}
	return a;
}

int firn_table_describe_json(struct firn_table *t, char **out, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	json_t *o = json_object();
	char ident[600];
	snprintf(ident, sizeof(ident), "%s.%s", t->ns, t->name);
	json_object_set_new(o, "table", json_string(ident));
	json_object_set_new(o, "format-version", json_integer(m->format_version));
	json_object_set_new(o, "table-uuid", json_string(m->uuid ? m->uuid : ""));
	json_object_set_new(o, "location", json_string(m->location));
	json_object_set_new(o, "metadata-location", json_string(t->metadata_location));
	json_object_set_new(o, "schema-id", json_integer(m->current_schema_id));
	json_object_set_new(o, "schema", columns(firn_ice__meta_current_schema(m)));
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, m->default_spec_id);
	json_object_set_new(o, "spec-id", json_integer(m->default_spec_id));
	json_object_set_new(o, "partition-spec", spec_json(m, sp));
	const struct firn_ice_sort_order *so = firn_ice__meta_order(m, m->default_sort_order_id);
	json_t *order = json_array();
	for (size_t i = 0; so && i < so->n_fields; i++) {
		json_t *f = json_object();
		struct firn_buf b = { 0 };
		if (firn_ice__schema_name_of(&firn_ice__meta_current_schema(m)->arrow,
					     so->fields[i].source_id, &b) == 0 && firn_buf_cstr(&b) == 0)
			json_object_set_new(f, "source", json_string((const char *)b.data));
		firn_buf_free(&b);
		json_object_set_new(f, "transform", json_string(so->fields[i].transform_text));
		json_object_set_new(f, "direction", json_string(so->fields[i].descending ? "desc" : "asc"));
		json_object_set_new(f, "null-order",
				    json_string(so->fields[i].nulls_first ? "nulls-first" : "nulls-last"));
		json_array_append_new(order, f);
	}
	json_object_set_new(o, "sort-order", order);
	json_t *props = json_object_get(m->root, "properties");
	json_object_set_new(o, "properties", props ? json_deep_copy(props) : json_object());
	const struct firn_ice_snapshot *cur = firn_ice__meta_current(m);
	json_object_set_new(o, "current-snapshot-id", cur ? json_integer(cur->snapshot_id) : json_null());
	json_object_set_new(o, "snapshots", json_integer((json_int_t)m->n_snapshots));
	if (cur) {
		json_t *sum = json_object_get(cur->json, "summary");
		const char *tr = json_string_value(json_object_get(sum, "total-records"));
		const char *tf = json_string_value(json_object_get(sum, "total-data-files"));
		const char *ts = json_string_value(json_object_get(sum, "total-files-size"));
		json_object_set_new(o, "total-records", json_integer(tr ? strtoll(tr, NULL, 10) : 0));
		json_object_set_new(o, "total-data-files", json_integer(tf ? strtoll(tf, NULL, 10) : 0));
		json_object_set_new(o, "total-files-size", json_integer(ts ? strtoll(ts, NULL, 10) : 0));
	}
	if (cur) {
		json_t *dels = json_object();
		struct firn_error e2 = { 0 };
		if (deleted_counts(m, cur, dels, &e2) == 0) {
			int64_t total = 0;
			const char *k;
			json_t *v;
			json_object_foreach(dels, k, v)
				total += json_integer_value(v);
			json_object_set_new(o, "deleted-records", json_integer(total));
			json_t *sum = json_object_get(cur->json, "summary");
			const char *tdf = json_string_value(json_object_get(sum, "total-delete-files"));
			json_object_set_new(o, "total-delete-files", json_integer(tdf ? strtoll(tdf, NULL, 10) : 0));
		}
		json_decref(dels);
	}
	json_t *refs = json_object();
	for (size_t i = 0; i < m->n_refs; i++) {
		json_t *r = json_object();
		json_object_set_new(r, "type", json_string(m->refs[i].tag ? "tag" : "branch"));
		json_object_set_new(r, "snapshot-id", json_integer(m->refs[i].snapshot_id));
		json_object_set_new(refs, m->refs[i].name, r);
	}
	json_object_set_new(o, "refs", refs);
	return dump(o, out, err);
}

int firn_table_snapshots_json(struct firn_table *t, char **out, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	json_t *a = json_array();
	for (size_t i = 0; i < m->n_snapshots; i++) {
		const struct firn_ice_snapshot *s = &m->snapshots[i];
		json_t *o = json_object();
		json_object_set_new(o, "snapshot-id", json_integer(s->snapshot_id));
		json_object_set_new(o, "parent-snapshot-id", s->has_parent ? json_integer(s->parent_id) : json_null());
		json_object_set_new(o, "sequence-number", json_integer(s->sequence_number));
		json_object_set_new(o, "timestamp-ms", json_integer(s->timestamp_ms));
		json_object_set_new(o, "timestamp", iso_ms(s->timestamp_ms));
		json_object_set_new(o, "operation", json_string(s->operation));
		json_object_set_new(o, "schema-id", s->schema_id >= 0 ? json_integer(s->schema_id) : json_null());
		json_object_set_new(o, "manifest-list", s->manifest_list ? json_string(s->manifest_list) : json_null());
		json_t *sum = json_object_get(s->json, "summary");
		json_object_set_new(o, "summary", sum ? json_deep_copy(sum) : json_object());
		json_array_append_new(a, o);
	}
	return dump(a, out, err);
}

int firn_table_history_json(struct firn_table *t, char **out, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	json_t *a = json_array();
	for (size_t i = 0; i < m->n_snapshot_log; i++) {
		const struct firn_ice_log_entry *e = &m->snapshot_log[i];
		bool ancestor = false;
		for (const struct firn_ice_snapshot *s = firn_ice__meta_current(m); s;
		     s = s->has_parent ? firn_ice__meta_snapshot(m, s->parent_id) : NULL)
			if (s->snapshot_id == e->snapshot_id) {
				ancestor = true;
				break;
			}
		const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(m, e->snapshot_id);
		json_t *o = json_object();
		json_object_set_new(o, "made-current-at", iso_ms(e->timestamp_ms));
		json_object_set_new(o, "timestamp-ms", json_integer(e->timestamp_ms));
		json_object_set_new(o, "snapshot-id", json_integer(e->snapshot_id));
		json_object_set_new(o, "parent-id", s && s->has_parent ? json_integer(s->parent_id) : json_null());
		json_object_set_new(o, "operation", json_string(s ? s->operation : "(expired)"));
		json_object_set_new(o, "is-current-ancestor", json_boolean(ancestor));
		json_array_append_new(a, o);
	}
	return dump(a, out, err);
}

/* Rows removed by position deletes and DVs, per data file of snap. */
static int deleted_counts(const struct firn_ice_meta *m, const struct firn_ice_snapshot *snap,
			  json_t *out, struct firn_error *err)
{
	struct firn_ice_plan p;
	int rc = firn_ice__plan(&p, m, snap, &firn_ice__meta_current_schema(m)->arrow, NULL, err);
	for (size_t i = 0; rc == 0 && i < p.n_tasks; i++) {
		const struct firn_ice_task *t = &p.tasks[i];
		bool eq = false;
		for (size_t d = 0; d < t->n_deletes; d++)
			eq |= t->deletes[d]->file.content == 2;
		struct firn_posset s = { 0 };
		if (t->n_deletes && !eq)
			rc = firn_ice__task_positions(t, &s, err);
		json_object_set_new(out, t->entry->file.path, eq ? json_null() : json_integer((json_int_t)s.n));
		firn_posset_free(&s);
	}
	firn_ice__plan_free(&p);
	return rc;
}

int firn_table_files_json(struct firn_table *t, const struct firn_snapshot_sel *sel,
			  char **out, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *snap;
	FIRN_TRY(firn_ice__select_snapshot(m, sel, &snap, err));
	json_t *dels = json_object();
	if (snap) {
		int r0 = deleted_counts(m, snap, dels, err);
		if (r0 != 0) {
			json_decref(dels);
			return r0;
		}
	}
	json_t *a = json_array();
	struct firn_arena arena = { 0 };
	struct firn_ice_manifest_file *mfs = NULL;
	size_t n_mfs = 0;
	int rc = snap ? firn_ice__snapshot_manifests(m, snap, &arena, &mfs, &n_mfs, err) : 0;
	struct firn_buf b = { 0 };
	for (size_t i = 0; rc == 0 && i < n_mfs; i++) {
		struct firn_ice_entry *es;
		size_t n;
		if ((rc = firn_ice__manifest_read(&mfs[i], m, &arena, &es, &n, err)) != 0)
			break;
		const struct firn_ice_spec *sp = firn_ice__meta_spec(m, mfs[i].spec_id);
		struct firn_pfield *pf = NULL;
		if ((rc = firn_ice__spec_resolve(sp, &firn_ice__meta_current_schema(m)->arrow, &pf, err)) != 0)
			break;
		for (size_t k = 0; k < n; k++) {
			if (es[k].status == FIRN_ICE_DELETED)
				continue;
			const struct firn_ice_data_file *f = &es[k].file;
			json_t *o = json_object();
			static const char *kinds[] = { "data", "position-deletes", "equality-deletes" };
			json_object_set_new(o, "content", json_string(f->content >= 0 && f->content <= 2 ? kinds[f->content] : "?"));
			json_object_set_new(o, "file-path", json_string(f->path));
			json_object_set_new(o, "file-format", json_string(f->format));
			json_object_set_new(o, "spec-id", json_integer(f->spec_id));
			json_t *part = json_object();
			for (size_t p = 0; p < f->n_partition && p < sp->n_fields; p++) {
				firn_buf_reset(&b);
				json_t *v = NULL;
				if (!f->partition[p].null && pf[p].result_type.id != FIRN_A_NULL &&
				    firn_ice__datum_to_json(&pf[p].result_type, &f->partition[p], &b) == 0 &&
				    firn_buf_cstr(&b) == 0)
					v = firn_json__loadb((const char *)b.data, b.len, JSON_DECODE_ANY, NULL);
				json_object_set_new(part, sp->fields[p].name, v ? v : json_null());
			}
			json_object_set_new(o, "partition", part);
			json_object_set_new(o, "record-count", json_integer(f->record_count));
			json_object_set_new(o, "file-size-in-bytes", json_integer(f->file_size));
			if (f->content == 0) {
				json_t *dc = json_object_get(dels, f->path);
				json_object_set(o, "deleted-records", dc ? dc : json_integer(0));
				if (!dc || json_is_integer(dc))
					json_object_set_new(o, "deleted-share",
							    json_real(f->record_count ? (double)(dc ? json_integer_value(dc) : 0) /
										    (double)f->record_count : 0.0));
				else
					json_object_set_new(o, "deleted-share", json_null());
			}
			json_object_set_new(o, "sequence-number", json_integer(es[k].sequence_number));
			json_object_set_new(o, "snapshot-id", json_integer(es[k].snapshot_id));
			json_array_append_new(a, o);
		}
		firn_free(pf);
	}
	firn_buf_free(&b);
	firn_arena_free(&arena);
	json_decref(dels);
	if (rc != 0) {
		json_decref(a);
		return rc;
	}
	return dump(a, out, err);
}
