/* firn rewrite-manifests: regroups the live data-file entries of the
 * current snapshot into manifests clustered by partition (sorted by spec
 * and partition values, at most 10,000 entries each), so that planning
 * prunes whole manifests. Delete manifests are kept as they are. A
 * "replace" snapshot; concurrent appends are kept. */
#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "io/io_local.h"

#define ENTRIES_PER_MANIFEST 10000

struct sort_ctx {
	const struct firn_ice_meta *m;
	struct firn_pfield *pf; /* of the spec being sorted */
	size_t n;
};

static int by_partition(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *sorting = arg;
	const struct firn_ice_entry *x = a, *y = b;
	for (size_t k = 0; k < sorting->n; k++) {
		const struct firn_datum *p = &x->file.partition[k], *q = &y->file.partition[k];
		if (p->null != q->null)
			return p->null ? -1 : 1;
		if (p->null || sorting->pf[k].result_type.id == FIRN_A_NULL)
			continue;
		int c = firn_ice__datum_compare(&sorting->pf[k].result_type, p, q);
		if (c)
			return c;
	}
	return strcmp(x->file.path, y->file.path);
}

struct remanifest {
	int64_t base;
	int64_t snap_id;
	struct firn_ice_manifest_file *made, *kept;
	size_t n_made, n_kept;
	int64_t entries, replaced;
};

static int remanifest_change(struct firn_table *t, int attempt, void *vctx,
			     struct firn_ice_change *out, struct firn_error *err)
{
	struct remanifest *c = vctx;
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *parent = firn_ice__meta_current(m);
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *extra = NULL;
	size_t n_extra = 0;
	int rc = parent ? firn_ice__appended_since(m, c->base, &a, &extra, &n_extra, err)
			: firn_error_set(err, FIRN_ECONFLICT, "the table changed concurrently");
	size_t n = c->n_made + c->n_kept + n_extra;
	struct firn_ice_manifest_file *all = rc == 0 ? firn_calloc(n + 1, sizeof(*all)) : NULL;
	if (rc == 0 && !all)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	char *list = NULL;
	if (rc == 0) {
		memcpy(all, c->made, c->n_made * sizeof(*all));
		if (c->n_kept)
			memcpy(all + c->n_made, c->kept, c->n_kept * sizeof(*all));
		if (n_extra)
			memcpy(all + c->n_made + c->n_kept, extra, n_extra * sizeof(*all));
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "snap-%lld-%d-", (long long)c->snap_id, attempt + 1);
		list = firn_ice__new_path(m, "metadata", prefix, ".avro");
		if (!list)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	int64_t seq = m->last_sequence_number + 1;
	int64_t next_row_id = m->next_row_id, first_row_id = m->next_row_id;
	if (rc == 0)
		rc = firn_ice__manifest_list_write(list, m, c->snap_id, true, parent->snapshot_id,
						   seq, all, n, &next_row_id, err);
	if (rc == 0) {
		json_t *summary = firn_ice__summary(parent, "replace", c->made, c->n_made);
		char buf[32];
		snprintf(buf, sizeof(buf), "%zu", c->n_made);
		json_object_set_new(summary, "manifests-created", json_string(buf));
		snprintf(buf, sizeof(buf), "%zu", c->n_kept);
		json_object_set_new(summary, "manifests-kept", json_string(buf));
		snprintf(buf, sizeof(buf), "%lld", (long long)c->replaced);
		json_object_set_new(summary, "manifests-replaced", json_string(buf));
		snprintf(buf, sizeof(buf), "%lld", (long long)c->entries);
		json_object_set_new(summary, "entries-processed", json_string(buf));
		rc = firn_ice__snapshot_change(m, "main", c->snap_id, parent, seq, list, summary,
					       first_row_id, next_row_id - first_row_id, out, err);
	}
	if (rc != 0 && list)
		firn_io_delete(list, NULL);
	firn_free(list);
	firn_free(all);
	firn_arena_free(&a);
	return rc;
}

int firn_table_rewrite_manifests(struct firn_table *t, int64_t *manifests_before,
				 int64_t *manifests_after, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *snap = firn_ice__meta_current(m);
	*manifests_before = *manifests_after = 0;
	if (!snap)
		return 0;
	if (m->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *mfs;
	size_t n_mfs;
	struct remanifest c = { snap->snapshot_id, firn_ice__new_snapshot_id(m), NULL, NULL, 0, 0, 0, 0 };
	char **written = NULL;
	size_t n_written = 0;
	int rc = firn_ice__snapshot_manifests(m, snap, &a, &mfs, &n_mfs, err);
	c.made = firn_calloc(n_mfs + 64, sizeof(*c.made));
	c.kept = firn_calloc(n_mfs + 1, sizeof(*c.kept));
	if (rc == 0 && (!c.made || !c.kept))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t made_cap = n_mfs + 64;
	*manifests_before = (int64_t)n_mfs;
	/* per spec: every live data entry, sorted by partition */
	for (size_t s = 0; rc == 0 && s < m->n_specs; s++) {
		const struct firn_ice_spec *spec = &m->specs[s];
		struct firn_ice_entry *all = NULL;
		size_t n_all = 0;
		for (size_t i = 0; rc == 0 && i < n_mfs; i++) {
			if (mfs[i].content != 0 || mfs[i].spec_id != spec->spec_id)
				continue;
			struct firn_ice_entry *es;
			size_t ne;
			if ((rc = firn_ice__manifest_read(&mfs[i], m, &a, &es, &ne, err)) != 0)
				break;
			struct firn_ice_entry *v = firn_realloc(all, (n_all + ne + 1) * sizeof(*v));
			if (!v) {
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			all = v;
			for (size_t k = 0; k < ne; k++) {
				if (es[k].status == FIRN_ICE_DELETED)
					continue;
				all[n_all] = es[k];
				all[n_all].status = FIRN_ICE_EXISTING;
				all[n_all].explicit_sequence = true;
				n_all++;
			}
		}
		if (rc == 0 && n_all > 0) {
			struct sort_ctx sc = { m, NULL, spec->n_fields };
			rc = firn_ice__spec_resolve(spec, &firn_ice__meta_current_schema(m)->arrow, &sc.pf, err);
			if (rc == 0)
				qsort_r(all, n_all, sizeof(*all), by_partition, &sc);
			firn_free(sc.pf);
			c.entries += (int64_t)n_all;
			for (size_t start = 0; rc == 0 && start < n_all; start += ENTRIES_PER_MANIFEST) {
				size_t cnt = n_all - start < ENTRIES_PER_MANIFEST ? n_all - start : ENTRIES_PER_MANIFEST;
				char *path = firn_ice__new_path(m, "metadata", "", "-r.avro");
				if (!path || c.n_made == made_cap) {
					firn_free(path);
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
					break;
				}
				char **w = firn_realloc(written, (n_written + 1) * sizeof(char *));
				if (!w) {
					firn_free(path);
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
					break;
				}
				written = w;
				written[n_written++] = path;
				struct firn_ice_manifest_file *nm = &c.made[c.n_made];
				rc = firn_ice__manifest_write(path, m, spec, 0, all + start, cnt, c.snap_id,
							      &a, nm, err);
				if (rc == 0) {
					nm->path = firn_arena_strdup(&a, path);
					c.n_made++;
				}
			}
		}
		firn_free(all);
	}
	for (size_t i = 0; rc == 0 && i < n_mfs; i++)
		if (mfs[i].content != 0)
			c.kept[c.n_kept++] = mfs[i];
	if (rc == 0) {
		c.replaced = (int64_t)(n_mfs - c.n_kept);
		*manifests_after = (int64_t)(c.n_made + c.n_kept);
		rc = firn_ice__commit_change(t, remanifest_change, &c, NULL, err);
	}
	if (rc != 0 && (rc != FIRN_EIO || firn_ice__commit_surely_failed(t)))
		for (size_t i = 0; i < n_written; i++)
			firn_io_delete(written[i], NULL);
	for (size_t i = 0; i < n_written; i++)
		firn_free(written[i]);
	firn_free(written);
	firn_free(c.made);
	firn_free(c.kept);
	firn_arena_free(&a);
	return rc;
}
