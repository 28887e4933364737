/* Tables: load, create, register, drop, rename; the commit loop; refs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrow/types.h"
#include "firn/text.h"
#include "iceberg/ice_catalog.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "io/io_local.h"

int firn_ice__split_ident(const char *ident, char **ns, char **name, struct firn_error *err)
{
	const char *dot = ident ? strrchr(ident, '.') : NULL;
	if (!dot || dot == ident || dot[1] == '\0')
		return firn_error_set(err, FIRN_EINVAL,
				      "'%s' is not a table name: use namespace.table", ident ? ident : "");
	*ns = firn_strndup(ident, (size_t)(dot - ident));
	*name = firn_strdup(dot + 1);
	if (!*ns || !*name) {
		firn_free(*ns);
		firn_free(*name);
		*ns = *name = NULL;
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

int firn_ice__table_refresh(struct firn_table *t, struct firn_error *err)
{
	char *loc = NULL;
	struct firn_ice_meta *m = NULL;
	FIRN_TRY(firn_ice__catalog_load(t->catalog, t->ns, t->name, &loc, &m, err));
	firn_ice__meta_free(t->meta);
	firn_free(t->metadata_location);
	t->meta = m;
	t->metadata_location = loc;
	return 0;
}

int firn_table_load(struct firn_catalog *c, const char *ident, struct firn_table **out,
		    struct firn_error *err)
{
	*out = NULL;
	struct firn_table *t = firn_calloc(1, sizeof(*t));
	if (!t)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	t->catalog = c;
	int rc = firn_ice__split_ident(ident, &t->ns, &t->name, err);
	if (rc == 0)
		rc = firn_ice__table_refresh(t, err);
	if (rc != 0) {
		firn_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void firn_table_free(struct firn_table *t)
{
	if (!t)
		return;
	firn_ice__meta_free(t->meta);
	firn_free(t->metadata_location);
	firn_free(t->ns);
	firn_free(t->name);
	firn_free(t->branch);
	firn_free(t);
}

const char *firn_table_metadata_location(const struct firn_table *t)
{
	return t->metadata_location;
}

int firn_table_format_version(const struct firn_table *t)
{
	return t->meta->format_version;
}

char *firn_ice__new_path(const struct firn_ice_meta *m, const char *dir, const char *prefix,
			 const char *suffix)
{
	uint8_t u[16];
	char us[37];
	firn_uuid_v4(u);
	firn_uuid_format(u, us);
	struct firn_buf b = { 0 };
	if (firn_buf_printf(&b, "%s/%s/%s%s%s", m->location, dir, prefix, us, suffix) != 0 ||
	    firn_buf_cstr(&b) != 0) {
		firn_buf_free(&b);
		return NULL;
	}
	return (char *)firn_buf_detach(&b, NULL);
}

/* After a failed commit: true when the catalog still points at the
 * metadata the last attempt started from, so its swap did not happen (an
 * I/O error may come from the swap itself, whose outcome is then unknown:
 * if the catalog cannot tell, the files stay for remove-orphans). */
bool firn_ice__commit_surely_failed(struct firn_table *t)
{
	char *now = NULL;
	if (firn_catalog_table_load(t->catalog, t->ns, t->name, &now, NULL) != 0)
		return false;
	bool same = strcmp(now, t->metadata_location) == 0;
	firn_free(now);
	return same;
}

/* total = the parent's + added - removed, as Java's SnapshotProducer:
 * set only when the parent's summary has the total (or there is no
 * parent), never below zero. */
static void put_total(json_t *o, const struct firn_ice_snapshot *parent, const char *key,
		      int64_t added, int64_t removed)
{
	int64_t prev = 0;
	if (parent) {
		const char *v = json_string_value(json_object_get(json_object_get(firn_ice__snapshot_json(parent), "summary"), key));
		char *end;
		if (!v)
			return;
		prev = strtoll(v, &end, 10);
		if (end == v || *end != '\0')
			return;
	}
	int64_t total = prev + added - removed;
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)(total < 0 ? 0 : total));
	json_object_set_new(o, key, json_string(buf));
}

static void put_if(json_t *o, const char *key, int64_t v)
{
	if (v <= 0)
		return;
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_object_set_new(o, key, json_string(buf));
}

json_t *firn_ice__summary(const struct firn_ice_snapshot *parent, const char *operation,
			  const struct firn_ice_manifest_file *mfs, size_t n)
{
	struct firn_ice_delta d = { 0 };
	size_t n_parts = 0;
	for (size_t i = 0; i < n; i++) {
		const struct firn_ice_delta *x = &mfs[i].delta;
		d.added_data += x->added_data;
		d.removed_data += x->removed_data;
		d.added_records += x->added_records;
		d.removed_records += x->removed_records;
		d.added_size += x->added_size;
		d.removed_size += x->removed_size;
		d.added_pos_files += x->added_pos_files;
		d.removed_pos_files += x->removed_pos_files;
		d.added_dvs += x->added_dvs;
		d.removed_dvs += x->removed_dvs;
		d.added_eq_files += x->added_eq_files;
		d.removed_eq_files += x->removed_eq_files;
		d.added_pos += x->added_pos;
		d.removed_pos += x->removed_pos;
		d.added_eq += x->added_eq;
		d.removed_eq += x->removed_eq;
		n_parts += x->n_parts;
	}
	uint64_t *parts = firn_calloc(n_parts + 1, sizeof(uint64_t));
	size_t k = 0;
	for (size_t i = 0; parts && i < n; i++)
		for (size_t j = 0; j < mfs[i].delta.n_parts; j++)
			parts[k++] = mfs[i].delta.parts[j];
	int64_t changed = (int64_t)firn_ice__unique_u64(parts, k);
	firn_free(parts);
	int64_t added_del = d.added_pos_files + d.added_dvs + d.added_eq_files;
	int64_t removed_del = d.removed_pos_files + d.removed_dvs + d.removed_eq_files;
	/* the keys and order of Java's SnapshotSummary */
	json_t *o = json_object();
	json_object_set_new(o, "operation", json_string(operation));
	put_if(o, "added-data-files", d.added_data);
	put_if(o, "deleted-data-files", d.removed_data);
	put_if(o, "added-equality-delete-files", d.added_eq_files);
	put_if(o, "removed-equality-delete-files", d.removed_eq_files);
	put_if(o, "added-position-delete-files", d.added_pos_files);
	put_if(o, "removed-position-delete-files", d.removed_pos_files);
	put_if(o, "added-dvs", d.added_dvs);
	put_if(o, "removed-dvs", d.removed_dvs);
	put_if(o, "added-delete-files", added_del);
	put_if(o, "removed-delete-files", removed_del);
	put_if(o, "added-records", d.added_records);
	put_if(o, "deleted-records", d.removed_records);
	put_if(o, "added-files-size", d.added_size);
	put_if(o, "removed-files-size", d.removed_size);
	put_if(o, "added-position-deletes", d.added_pos);
	put_if(o, "removed-position-deletes", d.removed_pos);
	put_if(o, "added-equality-deletes", d.added_eq);
	put_if(o, "removed-equality-deletes", d.removed_eq);
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)changed);
	json_object_set_new(o, "changed-partition-count", json_string(buf));
	put_total(o, parent, "total-records", d.added_records, d.removed_records);
	put_total(o, parent, "total-files-size", d.added_size, d.removed_size);
	put_total(o, parent, "total-data-files", d.added_data, d.removed_data);
	put_total(o, parent, "total-delete-files", added_del, removed_del);
	put_total(o, parent, "total-position-deletes", d.added_pos, d.removed_pos);
	put_total(o, parent, "total-equality-deletes", d.added_eq, d.removed_eq);
	json_object_set_new(o, "engine-name", json_string("firn"));
	json_object_set_new(o, "engine-version", json_string(firn_version()));
	return o;
}

/* ---- create / register / drop / rename ------------------------------ */

/* The highest field id; v3-only types in a v2 table are an error. */
static int check_types(const struct ArrowSchema *s, int fv, int32_t *max, struct firn_error *err)
{
	for (int64_t i = 0; i < s->n_children; i++) {
		const struct ArrowSchema *c = s->children[i];
		int32_t id = firn_schema_field_id(c);
		if (id > *max)
			*max = id;
		struct firn_type t;
		if (firn_type_of(c, &t, NULL) == 0 && firn_arrow__type_since(&t) > fv)
			return firn_error_set(err, FIRN_EINVAL,
					      "schema: column '%s': nanosecond timestamps and unknown need format version 3",
					      c->name ? c->name : "");
		FIRN_TRY(check_types(c, fv, max, err));
	}
	return 0;
}

/* The new table's location, normalized: the explicit one when it is free
 * (no other table's location equals, holds or lies inside it, and nothing
 * is there yet), else the default <warehouse>/<ns>.db/<name>, or that with
 * a suffix when it is taken. */
int firn_ice__choose_location(struct firn_catalog *c, const char *ns, const char *name,
			      const char *explicit_loc, char **out, struct firn_error *err)
{
	char *other = NULL;
	int rc;
	if (explicit_loc) {
		char *loc = firn_io__normalize(explicit_loc);
		if (!loc)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		rc = firn_ice__location_conflict(c, loc, NULL, &other, err);
		if (rc == 0 && other)
			rc = firn_error_set(err, FIRN_EEXISTS, "location %s overlaps the location of %s: "
					    "no two tables may share files", loc, other);
		/* a dropped table's leftovers: only where a server's client names
		 * them (Java's REST clients recreate tables there); firn's own
		 * commands keep to empty directories, so that a later
		 * remove-orphans of the new table can never delete the dropped
		 * table's files */
		bool used = false;
		if (rc == 0 && !other)
			rc = firn_ice__dir_check(loc, c->confined, &used, err);
		if (rc == 0 && !other && used)
			rc = firn_error_set(err, FIRN_EEXISTS, "location %s is not empty: it may hold files "
					    "that are not the table's; choose a new or empty directory", loc);
		firn_free(other);
		if (rc != 0)
			firn_free(loc);
		else
			*out = loc;
		return rc;
	}
	for (int attempt = 0; attempt < 8; attempt++) {
		struct firn_buf b = { 0 };
		firn_buf_printf(&b, "%s/%s.db/%s", firn_catalog_warehouse(c), ns, name);
		if (attempt > 0) { /* the default is taken: a fresh one beside it */
			uint8_t u[16];
			char us[37];
			firn_uuid_v4(u);
			firn_uuid_format(u, us);
			firn_buf_printf(&b, "-%.8s", us);
		}
		if (firn_buf_cstr(&b) != 0) {
			firn_buf_free(&b);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		char *loc = firn_io__normalize((const char *)b.data);
		firn_buf_free(&b);
		if (!loc)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		if ((rc = firn_ice__location_conflict(c, loc, NULL, &other, err)) != 0) {
			firn_free(loc);
			return rc;
		}
		bool used = true;
		if (!other && (rc = firn_ice__dir_check(loc, false, &used, err)) != 0) {
			firn_free(loc);
			return rc;
		}
		if (!other && !used) {
			*out = loc;
			return 0;
		}
		firn_free(other);
		other = NULL;
		firn_free(loc);
	}
	return firn_error_set(err, FIRN_EEXISTS, "no free location for %s.%s under the warehouse", ns, name);
}

/* The updates that make a new table: the builder's create (ice_update.h). */
static int create_updates(const struct ArrowSchema *schema, int fv, const char *loc,
			  const struct firn_table_create_options *opts, json_t **out,
			  struct firn_error *err)
{
	struct firn_ice_change c;
	FIRN_TRY(firn_ice__change_init(&c, err));
	int rc = 0;
#define UPD(x) (rc == 0 ? (rc = firn_ice__change_update(&c, (x), err)) : rc)
	uint8_t u[16];
	char us[37];
	firn_uuid_v4(u);
	firn_uuid_format(u, us);
	UPD(firn_ice__upd_assign_uuid(us));
	UPD(firn_ice__upd_upgrade_format_version(fv));
	json_t *sj = firn_ice__schema_to_json(schema, 0, NULL, 0);
	UPD(sj ? firn_ice__upd_add_schema(sj) : NULL);
	json_decref(sj);
	UPD(firn_ice__upd_set_current_schema(-1));
	int32_t last_pid = 999;
	json_t *spec = NULL;
	if (rc == 0 && (rc = firn_ice__spec_parse(opts->partition_by, schema, 0, NULL, &last_pid, &spec,
						 err)) == 0) {
		UPD(firn_ice__upd_add_spec(spec));
		json_decref(spec);
	}
	UPD(firn_ice__upd_set_default_spec(-1));
	json_t *unsorted = json_pack("{s:i, s:[]}", "order-id", 0, "fields");
	UPD(unsorted ? firn_ice__upd_add_sort_order(unsorted) : NULL);
	json_decref(unsorted);
	if (rc == 0 && opts->sort_by && *opts->sort_by) {
		json_t *order = NULL;
		if ((rc = firn_ice__order_parse(opts->sort_by, schema, 1, &order, err)) == 0) {
			UPD(firn_ice__upd_add_sort_order(order));
			json_decref(order);
		}
	}
	UPD(firn_ice__upd_set_default_sort_order(opts->sort_by && *opts->sort_by ? 1 : 0));
	if (loc)
		UPD(firn_ice__upd_set_location(loc));
	json_t *props = json_object();
	if (props)
		json_object_set_new(props, "write.parquet.compression-codec", json_string("zstd"));
	for (size_t i = 0; rc == 0 && props && i < opts->n_props; i++) {
		if (strcmp(opts->prop_keys[i], "format-version") == 0)
			continue;
		if ((rc = firn_ice__prop_check(opts->prop_keys[i], opts->prop_values[i], err)) == 0)
			json_object_set_new(props, opts->prop_keys[i], json_string(opts->prop_values[i]));
	}
	UPD(props ? firn_ice__upd_set_properties(props) : NULL);
	json_decref(props);
#undef UPD
	if (rc != 0) {
		firn_ice__change_free(&c);
		return rc;
	}
	*out = c.updates;
	json_decref(c.requirements);
	return 0;
}

int firn_table_create(struct firn_catalog *c, const char *ident,
		      const struct firn_table_create_options *opts, struct firn_table **out,
		      struct firn_error *err)
{
	char *ns = NULL, *name = NULL, *path = NULL, *loc = NULL;
	struct ArrowSchema schema = { 0 };
	json_t *updates = NULL;
	struct firn_ice_meta *m = NULL;
	int rc;
	*out = NULL;
	FIRN_TRY(firn_ice__split_ident(ident, &ns, &name, err));
	if ((rc = firn_ice__check_new_ident(ns, name, err)) != 0)
		goto done;
	int fv = opts->format_version ? opts->format_version : 2;
	if (fv < 2 || fv > 3) {
		rc = firn_error_set(err, FIRN_EINVAL, "format version %d: firn writes 2 or 3", fv);
		goto done;
	}
	if ((rc = firn_catalog_namespace_exists(c, ns, err)) < 0)
		goto done;
	if (rc == 0) {
		rc = firn_error_set(err, FIRN_ENOTFOUND, "namespace %s does not exist", ns);
		goto done;
	}
	char *existing = NULL;
	if (firn_catalog_table_load(c, ns, name, &existing, NULL) == 0) {
		firn_free(existing);
		rc = firn_error_set(err, FIRN_EEXISTS, "table %s already exists", ident);
		goto done;
	}
	if ((rc = firn_spec_parse_schema(opts->schema, &schema, err)) != 0)
		goto done;
	if (schema.n_children == 0) {
		rc = firn_error_set(err, FIRN_EINVAL, "schema: no columns");
		goto done;
	}
	int32_t max_id = 0;
	if ((rc = check_types(&schema, fv, &max_id, err)) != 0)
		goto done;
	if (c->ops->picks_locations) {
		bool given = opts->location && *opts->location;
		if (given && !(loc = firn_io__normalize(opts->location))) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			goto done;
		}
	} else if ((rc = firn_ice__choose_location(c, ns, name, opts->location, &loc, err)) != 0)
		goto done;
	if ((rc = create_updates(&schema, fv, loc, opts, &updates, err)) != 0)
		goto done;
	if ((rc = c->ops->table_create(c->self, ns, name, updates, false, &m, &path, err)) != 0)
		goto done;
	struct firn_table *t = firn_calloc(1, sizeof(*t));
	if (!t) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto done;
	}
	t->catalog = c;
	t->ns = ns;
	t->name = name;
	t->metadata_location = path;
	t->meta = m;
	ns = name = path = NULL;
	m = NULL;
	*out = t;
done:
	if (schema.release)
		schema.release(&schema);
	json_decref(updates);
	firn_ice__meta_free(m);
	firn_free(ns);
	firn_free(name);
	firn_free(path);
	firn_free(loc);
	return rc;
}

int firn_table_register(struct firn_catalog *c, const char *ident, const char *metadata_file,
			struct firn_error *err)
{
	char *ns, *name, *other = NULL;
	FIRN_TRY(firn_ice__split_ident(ident, &ns, &name, err));
	struct firn_ice_meta *m = NULL;
	int rc = firn_ice__check_new_ident(ns, name, err);
	if (rc == 0)
		rc = firn_ice__meta_read(metadata_file, &m, err);
	if (rc == 0 && (rc = firn_ice__props_check(m, err)) != 0)
		firn_error_prefix(err, "%s", metadata_file);
	if (rc == 0 && (rc = firn_ice__location_conflict(c, m->location, NULL, &other, err)) == 0 && other)
		rc = firn_error_set(err, FIRN_EEXISTS, "%s: location %s overlaps the location of %s: "
				    "no two tables may share files", metadata_file, m->location, other);
	if (rc == 0)
		rc = c->ops->table_register(c->self, ns, name, metadata_file, err);
	firn_free(other);
	firn_ice__meta_free(m);
	firn_free(ns);
	firn_free(name);
	return rc;
}

int firn_table_drop(struct firn_catalog *c, const char *ident, bool purge_files,
		    struct firn_purge_info *info, struct firn_error *err)
{
	struct firn_purge_info scratch = { 0 };
	if (!info)
		info = &scratch;
	memset(info, 0, sizeof(*info));
	char *ns, *name;
	FIRN_TRY(firn_ice__split_ident(ident, &ns, &name, err));
	int rc = c->ops->table_drop(c->self, ns, name, purge_files, info, err);
	firn_free(ns);
	firn_free(name);
	return rc;
}

int firn_table_rename(struct firn_catalog *c, const char *from, const char *to,
		      struct firn_error *err)
{
	char *ns, *name, *ns2, *name2;
	FIRN_TRY(firn_ice__split_ident(from, &ns, &name, err));
	int rc = firn_ice__split_ident(to, &ns2, &name2, err);
	if (rc == 0) {
		rc = firn_ice__check_new_ident(ns2, name2, err);
		if (rc == 0)
			rc = c->ops->table_rename(c->self, ns, name, ns2, name2, err);
		firn_free(ns2);
		firn_free(name2);
	}
	firn_free(ns);
	firn_free(name);
	return rc;
}

/* ---- snapshot selection --------------------------------------------- */

static int parse_time_ms(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end != s && *end == '\0') {
		*out = v;
		return 0;
	}
	int64_t us;
	if (firn_timestamp_parse(s, strlen(s), 6, &us) != 0)
		return -1;
	*out = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
	return 0;
}

int firn_ice__select_snapshot(const struct firn_ice_meta *m, const struct firn_snapshot_sel *sel,
			      const struct firn_ice_snapshot **out, struct firn_error *err)
{
	*out = NULL;
	if (sel && sel->has_snapshot_id) {
		*out = firn_ice__meta_snapshot(m, sel->snapshot_id);
		if (!*out)
			return firn_error_set(err, FIRN_ENOTFOUND, "snapshot %lld does not exist",
					      (long long)sel->snapshot_id);
		return 0;
	}
	if (sel && sel->ref) {
		const struct firn_ice_ref *r = firn_ice__meta_ref(m, sel->ref);
		if (!r)
			return firn_error_set(err, FIRN_ENOTFOUND, "no branch or tag named '%s'", sel->ref);
		*out = firn_ice__meta_snapshot(m, r->snapshot_id);
		if (!*out)
			return firn_error_set(err, FIRN_ECORRUPT, "ref '%s' names a missing snapshot",
					      sel->ref);
		return 0;
	}
	if (sel && sel->as_of) {
		int64_t ms;
		if (parse_time_ms(sel->as_of, &ms) != 0)
			return firn_error_set(err, FIRN_EINVAL,
					      "--as-of: '%s' is not a timestamp or epoch milliseconds",
					      sel->as_of);
		int64_t best = -1;
		bool found = false;
		for (size_t i = 0; i < m->n_snapshot_log; i++)
			if (m->snapshot_log[i].timestamp_ms <= ms) {
				best = m->snapshot_log[i].snapshot_id;
				found = true;
			}
		if (!found)
			return firn_error_set(err, FIRN_ENOTFOUND, "the table has no snapshot as of %s",
					      sel->as_of);
		*out = firn_ice__meta_snapshot(m, best);
		if (!*out)
			return firn_error_set(err, FIRN_ENOTFOUND,
					      "the snapshot current as of %s has expired", sel->as_of);
		return 0;
	}
	*out = firn_ice__meta_current(m);
	return 0;
}

/* ---- branches -------------------------------------------------------- */

const char *firn_ice__write_branch(const struct firn_table *t)
{
	return t->branch ? t->branch : "main";
}

int firn_ice__branch_head(const struct firn_ice_meta *m, const char *branch,
			  const struct firn_ice_snapshot **out, struct firn_error *err)
{
	*out = NULL;
	const struct firn_ice_ref *r = firn_ice__meta_ref(m, branch);
	char shown[96];
	firn_ice__printable(branch, shown, sizeof(shown));
	if (r && r->tag)
		return firn_error_set(err, FIRN_EINVAL, "'%s' is a tag: writes go to branches", shown);
	if (!r && strcmp(branch, "main") != 0)
		return firn_error_set(err, FIRN_ENOTFOUND,
				      "branch '%s' does not exist: create it first (firn branch TABLE %s)",
				      shown, shown);
	if (!r)
		return 0; /* main of a table without a snapshot */
	*out = firn_ice__meta_snapshot(m, r->snapshot_id);
	if (!*out)
		return firn_error_set(err, FIRN_ECORRUPT, "branch '%s' names a missing snapshot", shown);
	return 0;
}

bool firn_ice__is_ancestor(const struct firn_ice_meta *m, int64_t ancestor, int64_t id)
{
	const struct firn_ice_snapshot *s = firn_ice__meta_snapshot(m, id);
	/* bounded: a parent cycle in bad metadata must not loop */
	for (size_t steps = 0; s && steps <= m->n_snapshots; steps++) {
		if (s->snapshot_id == ancestor)
			return true;
		s = s->has_parent ? firn_ice__meta_snapshot(m, s->parent_id) : NULL;
	}
	return false;
}

int firn_table_set_branch(struct firn_table *t, const char *branch, struct firn_error *err)
{
	if (!branch || strcmp(branch, "main") == 0) {
		firn_free(t->branch);
		t->branch = NULL;
		return 0;
	}
	if (!*branch)
		return firn_error_set(err, FIRN_EINVAL, "the branch name is empty");
	const struct firn_ice_snapshot *head;
	FIRN_TRY(firn_ice__branch_head(t->meta, branch, &head, err));
	char *copy = firn_strdup(branch);
	if (!copy)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	firn_free(t->branch);
	t->branch = copy;
	return 0;
}

const char *firn_table_branch(const struct firn_table *t)
{
	return firn_ice__write_branch(t);
}

/* ---- refs and rollback ---------------------------------------------- */

enum ref_op { REF_SET, REF_DROP, REF_FAST_FORWARD, REF_ROLLBACK };

struct ref_ctx {
	enum ref_op op;
	const char *name; /* the ref changed */
	bool tag;
	int64_t snapshot_id; /* REF_SET: < 0 the current snapshot */
	bool force;
	const char *to;                      /* REF_FAST_FORWARD: the ref moved to */
	const struct firn_snapshot_sel *sel; /* REF_ROLLBACK */
	struct firn_ref_change info;
};

/* The ref's retention settings (max-ref-age-ms, ...), kept when it moves:
 * set-snapshot-ref replaces the whole ref. Borrowed from m; NULL: none. */
static const json_t *retention_of(const struct firn_ice_meta *m, const char *name)
{
	const json_t *old = json_object_get(json_object_get(m->root, "refs"), name);
	return json_is_object(old) ? old : NULL;
}

/* Moves (or creates, old NULL) ref name to id, guarded by its head. */
static int move_ref(const struct firn_ice_meta *m, const char *name, bool tag,
		    const struct firn_ice_ref *old, int64_t id, struct firn_ice_change *out,
		    struct firn_error *err)
{
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_ref_snapshot_id(name, old != NULL,
										   old ? old->snapshot_id : 0),
					  err));
	return firn_ice__change_update(out, firn_ice__upd_set_ref(name, tag ? "tag" : "branch", id,
								  old ? retention_of(m, name) : NULL),
				       err);
}

static int set_change(const struct firn_ice_meta *m, struct ref_ctx *c, struct firn_ice_change *out,
		      struct firn_error *err)
{
	char shown[96];
	firn_ice__printable(c->name, shown, sizeof(shown));
	int64_t id = c->snapshot_id;
	if (id < 0) {
		if (!m->has_current_snapshot)
			return firn_error_set(err, FIRN_EINVAL, "the table has no snapshot yet");
		id = m->current_snapshot_id;
	}
	if (!firn_ice__meta_snapshot(m, id))
		return firn_error_set(err, FIRN_ENOTFOUND, "snapshot %lld does not exist", (long long)id);
	if (strcmp(c->name, "main") == 0 && c->tag)
		return firn_error_set(err, FIRN_EINVAL, "main is the table's branch; it cannot be a tag");
	const struct firn_ice_ref *old = firn_ice__meta_ref(m, c->name);
	if (old && old->tag != c->tag)
		return firn_error_set(err, FIRN_EEXISTS, "'%s' is already a %s; drop it first to reuse the name",
				      shown, old->tag ? "tag" : "branch");
	c->info.existed = old != NULL;
	c->info.previous_id = old ? old->snapshot_id : -1;
	c->info.snapshot_id = id;
	c->info.changed = !old || old->snapshot_id != id;
	if (!c->info.changed)
		return 0; /* it points there already: nothing to commit */
	if (old && !c->force && c->tag)
		return firn_error_set(err, FIRN_EEXISTS, "tag '%s' exists (snapshot %lld): moving it "
				      "needs --force", shown, (long long)old->snapshot_id);
	if (old && !c->force && !firn_ice__is_ancestor(m, old->snapshot_id, id))
		return firn_error_set(err, FIRN_EINVAL, "snapshot %lld does not descend from the head "
				      "of branch '%s' (%lld): moving it there needs --force",
				      (long long)id, shown, (long long)old->snapshot_id);
	return move_ref(m, c->name, c->tag, old, id, out, err);
}

static int drop_change(const struct firn_ice_meta *m, struct ref_ctx *c, struct firn_ice_change *out,
		       struct firn_error *err)
{
	char shown[96];
	firn_ice__printable(c->name, shown, sizeof(shown));
	const char *kind = c->tag ? "tag" : "branch";
	if (strcmp(c->name, "main") == 0)
		return firn_error_set(err, FIRN_EINVAL, "main is the table's own branch; it cannot be dropped");
	const struct firn_ice_ref *old = firn_ice__meta_ref(m, c->name);
	if (!old)
		return firn_error_set(err, FIRN_ENOTFOUND, "no %s named '%s'", kind, shown);
	if (old->tag != c->tag)
		return firn_error_set(err, FIRN_EINVAL, "'%s' is a %s, not a %s (firn %s TABLE %s --drop)",
				      shown, old->tag ? "tag" : "branch", kind, old->tag ? "tag" : "branch",
				      shown);
	c->info.existed = true;
	c->info.previous_id = old->snapshot_id;
	c->info.snapshot_id = old->snapshot_id;
	c->info.changed = true;
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_ref_snapshot_id(c->name, true,
										   old->snapshot_id),
					  err));
	return firn_ice__change_update(out, firn_ice__upd_remove_ref(c->name), err);
}

/* Iceberg's fastForwardBranch: branch name moves to the head of ref to
 * when its own head is an ancestor of that one. */
static int fast_forward_change(const struct firn_ice_meta *m, struct ref_ctx *c,
			       struct firn_ice_change *out, struct firn_error *err)
{
	char shown[96], shown_to[96];
	firn_ice__printable(c->name, shown, sizeof(shown));
	firn_ice__printable(c->to, shown_to, sizeof(shown_to));
	const struct firn_ice_ref *to = firn_ice__meta_ref(m, c->to);
	if (!to)
		return firn_error_set(err, FIRN_ENOTFOUND, "no branch or tag named '%s'", shown_to);
	const struct firn_ice_ref *old = firn_ice__meta_ref(m, c->name);
	if (old && old->tag)
		return firn_error_set(err, FIRN_EINVAL, "'%s' is a tag; only a branch fast-forwards", shown);
	if (!old)
		return firn_error_set(err, FIRN_ENOTFOUND, "branch '%s' does not exist", shown);
	c->info.existed = true;
	c->info.previous_id = old->snapshot_id;
	c->info.snapshot_id = to->snapshot_id;
	c->info.changed = old->snapshot_id != to->snapshot_id;
	if (!c->info.changed)
		return 0;
	if (!firn_ice__is_ancestor(m, old->snapshot_id, to->snapshot_id))
		return firn_error_set(err, FIRN_EINVAL, "cannot fast-forward branch '%s' to '%s': its head "
				      "%lld is not an ancestor of %lld, the head of '%s' (the two have "
				      "diverged)", shown, shown_to, (long long)old->snapshot_id,
				      (long long)to->snapshot_id, shown_to);
	/* the target must not move under the commit either */
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_ref_snapshot_id(c->to, true,
										   to->snapshot_id),
					  err));
	return move_ref(m, c->name, false, old, to->snapshot_id, out, err);
}

static int rollback_change(const struct firn_ice_meta *m, struct ref_ctx *c,
			   struct firn_ice_change *out, struct firn_error *err)
{
	const struct firn_ice_snapshot *s = NULL;
	FIRN_TRY(firn_ice__select_snapshot(m, c->sel, &s, err));
	if (!s)
		return firn_error_set(err, FIRN_EINVAL, "the table has no snapshot yet");
	const struct firn_ice_ref *old = firn_ice__meta_ref(m, "main");
	c->info.existed = old != NULL;
	c->info.previous_id = old ? old->snapshot_id : -1;
	c->info.snapshot_id = s->snapshot_id;
	c->info.changed = !old || old->snapshot_id != s->snapshot_id;
	if (!c->info.changed)
		return 0;
	if (!old || !firn_ice__is_ancestor(m, s->snapshot_id, old->snapshot_id)) {
		char shown[96];
		firn_ice__printable(c->sel->ref ? c->sel->ref : "", shown, sizeof(shown));
		if (c->sel->ref)
			return firn_error_set(err, FIRN_EINVAL,
					      "snapshot %lld ('%s') is not an ancestor of the current snapshot; "
					      "to publish a branch, fast-forward main to it (firn branch TABLE "
					      "main --fast-forward %s)", (long long)s->snapshot_id, shown, shown);
		return firn_error_set(err, FIRN_EINVAL,
				      "snapshot %lld is not an ancestor of the current snapshot",
				      (long long)s->snapshot_id);
	}
	return move_ref(m, "main", false, old, s->snapshot_id, out, err);
}

static int ref_change(struct firn_table *t, int attempt, void *ctx, struct firn_ice_change *out,
		      struct firn_error *err)
{
	struct ref_ctx *c = ctx;
	(void)attempt;
	memset(&c->info, 0, sizeof(c->info));
	switch (c->op) {
	case REF_SET: return set_change(t->meta, c, out, err);
	case REF_DROP: return drop_change(t->meta, c, out, err);
	case REF_FAST_FORWARD: return fast_forward_change(t->meta, c, out, err);
	default: return rollback_change(t->meta, c, out, err);
	}
}

/* Runs c through the one retry loop; *info (optional) gets what it did. */
static int commit_ref(struct firn_table *t, struct ref_ctx *c, struct firn_ref_change *info,
		      struct firn_error *err)
{
	if (info)
		memset(info, 0, sizeof(*info));
	if (!c->name || !*c->name)
		return firn_error_set(err, FIRN_EINVAL, "the %s name is empty", c->tag ? "tag" : "branch");
	/* metadata is JSON: a name must be UTF-8 text */
	json_t *probe = json_string(c->name);
	if (!probe) {
		probe = json_string_nocheck(c->name); /* NULL again: out of memory */
		bool invalid = probe != NULL;
		json_decref(probe);
		return invalid ? firn_error_set(err, FIRN_EINVAL, "the %s name is not valid UTF-8",
					      c->tag ? "tag" : "branch")
			       : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	json_decref(probe);
	int rc = firn_ice__commit_change(t, ref_change, c, NULL, err);
	if (rc == 0 && info)
		*info = c->info;
	return rc;
}

int firn_table_set_ref_with(struct firn_table *t, const char *name, const struct firn_ref_options *opts,
			    struct firn_ref_change *info, struct firn_error *err)
{
	struct firn_ref_options o = FIRN_REF_OPTIONS_INIT;
	if (opts)
		o = *opts;
	struct ref_ctx c = { .op = REF_SET, .name = name, .tag = o.tag,
			     .snapshot_id = o.has_snapshot_id ? o.snapshot_id : -1, .force = o.force };
	if (o.has_snapshot_id && o.snapshot_id < 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "snapshot %lld does not exist",
				      (long long)o.snapshot_id);
	return commit_ref(t, &c, info, err);
}

int firn_table_set_ref(struct firn_table *t, const char *name, bool tag, int64_t snapshot_id,
		       struct firn_error *err)
{
	struct ref_ctx c = { .op = REF_SET, .name = name, .tag = tag, .snapshot_id = snapshot_id,
			     .force = true };
	return commit_ref(t, &c, NULL, err);
}

int firn_table_drop_ref(struct firn_table *t, const char *name, bool tag, struct firn_ref_change *info,
			struct firn_error *err)
{
	struct ref_ctx c = { .op = REF_DROP, .name = name, .tag = tag };
	return commit_ref(t, &c, info, err);
}

int firn_table_fast_forward(struct firn_table *t, const char *branch, const char *to,
			    struct firn_ref_change *info, struct firn_error *err)
{
	struct ref_ctx c = { .op = REF_FAST_FORWARD, .name = branch, .to = to };
	if (!to || !*to)
		return firn_error_set(err, FIRN_EINVAL, "fast-forward needs the branch or tag to move to");
	return commit_ref(t, &c, info, err);
}

int firn_table_rollback_to(struct firn_table *t, const struct firn_snapshot_sel *sel,
			   struct firn_ref_change *info, struct firn_error *err)
{
	struct firn_snapshot_sel none = { 0 };
	struct ref_ctx c = { .op = REF_ROLLBACK, .name = "main", .sel = sel ? sel : &none };
	if (!sel || (!sel->has_snapshot_id && !sel->ref && !sel->as_of))
		return firn_error_set(err, FIRN_EINVAL, "rollback needs a snapshot id, a ref or a time");
	return commit_ref(t, &c, info, err);
}

int firn_table_rollback(struct firn_table *t, int64_t snapshot_id, struct firn_error *err)
{
	struct firn_snapshot_sel sel = { .has_snapshot_id = true, .snapshot_id = snapshot_id };
	return firn_table_rollback_to(t, &sel, NULL, err);
}

int firn_ice__appended_since(const struct firn_ice_meta *m, int64_t base, struct firn_arena *arena,
			     struct firn_ice_manifest_file **out, size_t *n, struct firn_error *err)
{
	return firn_ice__appended_since_on(m, "main", base, arena, out, n, err);
}

int firn_ice__appended_since_on(const struct firn_ice_meta *m, const char *branch, int64_t base,
				struct firn_arena *arena, struct firn_ice_manifest_file **out,
				size_t *n, struct firn_error *err)
{
	*out = NULL;
	*n = 0;
	const struct firn_ice_snapshot *cur = NULL;
	if (firn_ice__branch_head(m, branch, &cur, NULL) != 0)
		return firn_error_set(err, FIRN_ECONFLICT, "the branch changed concurrently; planning again");
	if (cur && cur->snapshot_id == base)
		return 0;
	for (const struct firn_ice_snapshot *s = cur; s; s = s->has_parent ? firn_ice__meta_snapshot(m, s->parent_id) : NULL) {
		if (s->snapshot_id == base)
			break;
		if (strcmp(s->operation, "append") != 0 || !s->has_parent)
			return firn_error_set(err, FIRN_ECONFLICT,
					      "the table changed concurrently (%s); planning again", s->operation);
	}
	const struct firn_ice_snapshot *b = firn_ice__meta_snapshot(m, base);
	if (!b || !cur)
		return firn_error_set(err, FIRN_ECONFLICT, "the table changed concurrently; planning again");
	struct firn_ice_manifest_file *now, *then;
	size_t n_now, n_then;
	FIRN_TRY(firn_ice__snapshot_manifests(m, cur, arena, &now, &n_now, err));
	FIRN_TRY(firn_ice__snapshot_manifests(m, b, arena, &then, &n_then, err));
	/* an append that merged manifests (as Java's merge append) rewrote
	 * some of base's: what it added is not only new files */
	for (size_t k = 0; k < n_then; k++) {
		bool kept = false;
		for (size_t i = 0; i < n_now && !kept; i++)
			kept = strcmp(now[i].path, then[k].path) == 0;
		if (!kept)
			return firn_error_set(err, FIRN_ECONFLICT, "the table changed concurrently "
						  "(manifests merged); planning again");
	}
	*out = firn_arena_alloc(arena, (n_now + 1) * sizeof(**out));
	if (!*out)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_now; i++) {
		bool old = false;
		for (size_t k = 0; k < n_then && !old; k++)
			old = strcmp(now[i].path, then[k].path) == 0;
		if (!old)
			(*out)[(*n)++] = now[i];
	}
	return 0;
}
