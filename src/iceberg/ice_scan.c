/* Scans: planning (manifest list → manifests → files, pruned by partition
 * summaries, partition values and column metrics; the delete files that
 * apply to each data file by the spec's sequence-number rules) and reading
 * (row-group pruning, projection by field id, deletes applied, residual
 * filter, limit). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firn/parquet.h"
#include "iceberg/ice_batch.h"
#include "iceberg/ice_expr.h"
#include "iceberg/ice_import.h"
#include "iceberg/ice_scan.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_writer.h"
#include "io/io_local.h"
#include "puffin/puffin.h"
#include "util/parallel.h"

#define POS_FILE_PATH 2147483546
#define POS_POS 2147483545

void firn_ice__plan_free(struct firn_ice_plan *p)
{
	firn_free(p->tasks);
	firn_free(p->live_deletes);
	firn_arena_free(&p->arena);
	memset(p, 0, sizeof(*p));
}

static int64_t kv_get(const struct firn_ice_kv *kv, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (kv[i].id == id)
			return kv[i].value;
	return -1;
}

/* Metrics of a data file for the filter's columns. */
static size_t file_metrics(const struct firn_ice_plan *p, const struct firn_ice_data_file *f,
			   const int32_t *ids, size_t n_ids, struct firn_col_metrics *cols)
{
	size_t n = 0;
	for (size_t i = 0; i < n_ids; i++) {
		const struct ArrowSchema *node = firn_ice__schema_find(p->schema, ids[i], NULL);
		struct firn_type t;
		if (!node || firn_type_of(node, &t, NULL) != 0)
			continue;
		struct firn_col_metrics *c = &cols[n];
		memset(c, 0, sizeof(*c));
		c->field_id = ids[i];
		c->value_count = kv_get(f->value_counts, f->n_value_counts, ids[i]);
		c->null_count = kv_get(f->null_counts, f->n_null_counts, ids[i]);
		c->nan_count = kv_get(f->nan_counts, f->n_nan_counts, ids[i]);
		for (size_t k = 0; k < f->n_lower; k++)
			if (f->lower[k].id == ids[i] &&
			    firn_ice__datum_from_bytes(&t, f->lower[k].p, f->lower[k].n, &c->lower, NULL) == 0)
				c->has_lower = true;
		for (size_t k = 0; k < f->n_upper; k++)
			if (f->upper[k].id == ids[i] &&
			    firn_ice__datum_from_bytes(&t, f->upper[k].p, f->upper[k].n, &c->upper, NULL) == 0)
				c->has_upper = true;
		n++;
	}
	return n;
}

bool firn_ice__same_partition(const struct firn_ice_meta *m, const struct firn_ice_data_file *a,
			   const struct firn_ice_data_file *b)
{
	if (a->spec_id != b->spec_id || a->n_partition != b->n_partition)
		return false;
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, a->spec_id);
	struct firn_pfield *pf = NULL;
	if (!sp || firn_ice__spec_resolve(sp, &firn_ice__meta_current_schema(m)->arrow, &pf, NULL) != 0)
		return false;
	bool eq = true;
	for (size_t k = 0; k < a->n_partition && eq; k++) {
		if (pf[k].result_type.id == FIRN_A_NULL) /* unknown: compare raw presence only */
			eq = a->partition[k].null == b->partition[k].null;
		else
			eq = firn_ice__datum_equal(&pf[k].result_type, &a->partition[k], &b->partition[k]);
	}
	firn_free(pf);
	return eq;
}

static bool spec_unpartitioned(const struct firn_ice_meta *m, int32_t spec_id)
{
	const struct firn_ice_spec *sp = firn_ice__meta_spec(m, spec_id);
	return sp && sp->n_fields == 0;
}

/* The deletes of spec §3.4 that apply to data entry d. */
static int attach_deletes(struct firn_ice_plan *p, struct firn_ice_task *t, struct firn_error *err)
{
	const struct firn_ice_entry *d = t->entry;
	size_t cap = 0, n = 0;
	const struct firn_ice_entry **v = NULL;
	bool has_dv = false;
	for (size_t i = 0; i < p->n_live_deletes; i++) {
		const struct firn_ice_entry *e = p->live_deletes[i];
		const struct firn_ice_data_file *f = &e->file;
		bool dv = f->content == 1 && f->format && strcasecmp(f->format, "puffin") == 0;
		bool applies = false;
		if (f->content == 1) {
			bool path_ok = f->referenced_data_file ? strcmp(f->referenced_data_file, d->file.path) == 0
							       : !dv && firn_ice__same_partition(p->m, f, &d->file);
			applies = path_ok && d->sequence_number <= e->sequence_number;
			if (applies && f->referenced_data_file == NULL && !firn_ice__same_partition(p->m, f, &d->file))
				applies = false;
		} else if (f->content == 2) {
			applies = d->sequence_number < e->sequence_number &&
				  (spec_unpartitioned(p->m, f->spec_id) || firn_ice__same_partition(p->m, f, &d->file));
		}
		if (!applies)
			continue;
		has_dv |= dv;
		if (n == cap) {
			cap = cap ? 2 * cap : 4;
			const struct firn_ice_entry **nv = firn_arena_alloc(&p->arena, cap * sizeof(*nv));
			if (!nv)
				return firn_error_set(err, FIRN_ENOMEM, "out of memory");
			if (n)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
		}
		v[n++] = e;
	}
	if (has_dv) { /* a DV supersedes position delete files */
		size_t w = 0;
		for (size_t i = 0; i < n; i++) {
			const struct firn_ice_data_file *f = &v[i]->file;
			bool dv = f->format && strcasecmp(f->format, "puffin") == 0;
			if (f->content != 1 || dv)
				v[w++] = v[i];
		}
		n = w;
	}
	t->deletes = v;
	t->n_deletes = n;
	return 0;
}

/* Whether the partition summaries of data manifest mf rule the filter out
 * (*pruned); the spec, its fields resolved (*pf, the caller's to free)
 * and the filter projected on them (*pexpr) for its entries. */
static int manifest_prune(struct firn_ice_plan *p, const struct firn_ice_manifest_file *mf,
			  struct firn_col_metrics *cols, const struct firn_ice_spec **spec_out,
			  struct firn_pfield **pf_out, struct firn_expr **pexpr_out, bool *pruned,
			  struct firn_error *err)
{
	const struct firn_ice_meta *m = p->m;
	int rc = 0;
	*pruned = false;
	*pf_out = NULL;
	*pexpr_out = NULL;
	const struct firn_ice_spec *spec = firn_ice__meta_spec(m, mf->spec_id);
	if (!spec)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: unknown partition spec %d", mf->path,
				      mf->spec_id);
	struct firn_pfield *pf = NULL;
	struct firn_expr *pexpr = NULL;
	if ((rc = firn_ice__spec_resolve(spec, p->schema, &pf, err)) != 0)
		return rc;
	if (p->filter && spec->n_fields > 0 && spec->n_fields <= 64) {
		rc = firn_ice__expr_project(p->filter, pf, spec->n_fields, &p->arena, &pexpr, err);
		if (rc != 0) {
			firn_free(pf);
			return rc;
		}
	}
	if (pexpr && mf->partitions && mf->n_partitions == spec->n_fields) {
		size_t nc = 0;
		for (size_t k = 0; k < spec->n_fields; k++) {
			const struct firn_ice_field_summary *s = &mf->partitions[k];
			if (pf[k].result_type.id == FIRN_A_NULL)
				continue;
			struct firn_col_metrics *c = &cols[nc++];
			memset(c, 0, sizeof(*c));
			c->field_id = pf[k].field_id;
			c->value_count = -1;
			c->null_count = s->contains_null ? -1 : 0;
			c->nan_count = s->contains_nan == 0 ? 0 : -1;
			if (s->has_lower && firn_ice__datum_from_bytes(&pf[k].result_type, s->lower, s->lower_n, &c->lower, NULL) == 0)
				c->has_lower = true;
			if (s->has_upper && firn_ice__datum_from_bytes(&pf[k].result_type, s->upper, s->upper_n, &c->upper, NULL) == 0)
				c->has_upper = true;
		}
		struct firn_metrics mm = { -1, cols, nc };
		*pruned = firn_ice__expr_eval_metrics(pexpr, &mm) == FIRN_EVAL_NONE;
	}
	*spec_out = spec;
	*pf_out = pf;
	*pexpr_out = pexpr;
	return 0;
}

/* The manifests a plan reads, in the order it reads them, fetched WARM_AHEAD
 * at a time side by side (into firn_ice__read_immutable's keep) where
 * each read is a request to a remote store. */
#define WARM_AHEAD 32

struct warm {
	const char **paths;
	size_t n, done;
};

static void warm_one(void *arg, size_t i, int slot)
{
	(void)slot;
	struct warm *w = arg;
	uint8_t *d;
	size_t n;
	if (firn_ice__read_immutable(w->paths[w->done + i], &d, &n, NULL) == 0)
		firn_free(d); /* kept; a failure shows again when the plan reads it */
}

/* Has manifests [q, q + WARM_AHEAD) of the order fetched. */
static void warm_upto(struct warm *w, size_t q)
{
	if (!w->paths || q < w->done || w->done >= w->n)
		return;
	size_t k = w->n - w->done < WARM_AHEAD ? w->n - w->done : WARM_AHEAD;
	firn_par__io(k, 8, warm_one, w);
	w->done += k;
}

static bool wanted_delete_manifest(const struct firn_ice_manifest_file *mf)
{
	return mf->content != 0 && (mf->added_files != 0 || mf->existing_files != 0);
}

/* The order of reading when the manifests are remote: live delete
 * manifests, then the data manifests the summaries keep. */
static void warm_init(struct warm *w, struct firn_ice_plan *p, struct firn_col_metrics *cols)
{
	memset(w, 0, sizeof(*w));
	if (p->n_manifests < 2 || !firn_io__is_remote(p->manifests[0].path))
		return;
	if (!(w->paths = firn_calloc(p->n_manifests, sizeof(char *))))
		return;
	for (size_t i = 0; i < p->n_manifests; i++)
		if (wanted_delete_manifest(&p->manifests[i]))
			w->paths[w->n++] = p->manifests[i].path;
	for (size_t i = 0; i < p->n_manifests; i++) {
		const struct firn_ice_manifest_file *mf = &p->manifests[i];
		const struct firn_ice_spec *spec;
		struct firn_pfield *pf = NULL;
		struct firn_expr *pexpr;
		bool pruned = true;
		if (mf->content == 0 && (mf->added_files != 0 || mf->existing_files != 0) &&
		    manifest_prune(p, mf, cols, &spec, &pf, &pexpr, &pruned, NULL) == 0 && !pruned)
			w->paths[w->n++] = mf->path;
		firn_free(pf);
	}
}

int firn_ice__plan(struct firn_ice_plan *p, const struct firn_ice_meta *m,
		   const struct firn_ice_snapshot *snap, const struct ArrowSchema *schema,
		   const char *where, struct firn_error *err)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->snap = snap;
	p->schema = schema;
	int rc = 0;
	if (where && *where) {
		FIRN_TRY(firn_ice__expr_parse(where, &p->arena, &p->filter, err));
		FIRN_TRY(firn_ice__expr_bind(p->filter, p->schema, &p->arena, err));
	}
	if (!snap)
		return 0;
	FIRN_TRY(firn_ice__snapshot_manifests(m, snap, &p->arena, &p->manifests, &p->n_manifests, err));
	int32_t *ids = NULL;
	size_t n_ids = 0;
	if (p->filter && firn_ice__expr_field_ids(p->filter, &ids, &n_ids) != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_col_metrics *cols = firn_calloc(n_ids + 64 + 1, sizeof(*cols));
	size_t cap_tasks = 0, cap_dels = 0;
	if (!cols) {
		firn_free(ids);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	struct warm warm;
	size_t q = 0; /* manifests read so far, in warm's order */
	warm_init(&warm, p, cols);
	/* delete manifests first: their live entries apply to the data files */
	for (size_t i = 0; i < p->n_manifests && rc == 0; i++) {
		const struct firn_ice_manifest_file *mf = &p->manifests[i];
		if (!wanted_delete_manifest(mf))
			continue;
		warm_upto(&warm, q++);
		struct firn_ice_entry *entries;
		size_t n;
		if ((rc = firn_ice__manifest_read(mf, m, &p->arena, &entries, &n, err)) != 0)
			break;
		for (size_t e = 0; e < n; e++) {
			if (entries[e].status == FIRN_ICE_DELETED)
				continue;
			if (p->n_live_deletes == cap_dels) {
				cap_dels = cap_dels ? 2 * cap_dels : 16;
				const struct firn_ice_entry **v = firn_realloc(p->live_deletes, cap_dels * sizeof(*v));
				if (!v) {
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
					break;
				}
				p->live_deletes = v;
			}
			p->live_deletes[p->n_live_deletes++] = &entries[e];
		}
	}
	for (size_t i = 0; i < p->n_manifests && rc == 0; i++) {
		const struct firn_ice_manifest_file *mf = &p->manifests[i];
		if (mf->content != 0 || (mf->added_files == 0 && mf->existing_files == 0))
			continue;
		const struct firn_ice_spec *spec;
		struct firn_pfield *pf;
		struct firn_expr *pexpr;
		bool pruned;
		if ((rc = manifest_prune(p, mf, cols, &spec, &pf, &pexpr, &pruned, err)) != 0)
			break;
		if (pruned) {
			firn_free(pf);
			continue;
		}
		warm_upto(&warm, q++);
		struct firn_ice_entry *entries;
		size_t n_entries;
		rc = firn_ice__manifest_read(mf, m, &p->arena, &entries, &n_entries, err);
		for (size_t e = 0; rc == 0 && e < n_entries; e++) {
			const struct firn_ice_entry *en = &entries[e];
			if (en->status == FIRN_ICE_DELETED || en->file.content != 0)
				continue;
			p->files_total++;
			bool all = p->filter == NULL;
			if (pexpr) {
				size_t nc = 0;
				for (size_t k = 0; k < spec->n_fields; k++) {
					if (pf[k].result_type.id == FIRN_A_NULL)
						continue;
					struct firn_col_metrics *c = &cols[nc++];
					memset(c, 0, sizeof(*c));
					c->field_id = pf[k].field_id;
					c->value_count = en->file.record_count;
					c->null_count = en->file.partition[k].null ? en->file.record_count : 0;
					c->nan_count = -1;
					if (!en->file.partition[k].null) {
						c->has_lower = c->has_upper = true;
						c->lower = c->upper = en->file.partition[k];
					}
				}
				struct firn_metrics mm = { en->file.record_count, cols, nc };
				if (firn_ice__expr_eval_metrics(pexpr, &mm) == FIRN_EVAL_NONE) {
					p->files_pruned++;
					continue;
				}
			}
			if (p->filter) {
				size_t nc = file_metrics(p, &en->file, ids, n_ids, cols);
				struct firn_metrics mm = { en->file.record_count, cols, nc };
				enum firn_eval_result r = firn_ice__expr_eval_metrics(p->filter, &mm);
				if (r == FIRN_EVAL_NONE) {
					p->files_pruned++;
					continue;
				}
				all = r == FIRN_EVAL_ALL;
			}
			if (p->n_tasks == cap_tasks) {
				cap_tasks = cap_tasks ? 2 * cap_tasks : 64;
				struct firn_ice_task *t = firn_realloc(p->tasks, cap_tasks * sizeof(*t));
				if (!t) {
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
					break;
				}
				p->tasks = t;
			}
			struct firn_ice_task *t = &p->tasks[p->n_tasks++];
			memset(t, 0, sizeof(*t));
			t->entry = en;
			t->mf = mf;
			t->all_match = all;
			rc = attach_deletes(p, t, err);
		}
		firn_free(pf);
	}
	firn_free(warm.paths);
	firn_free(cols);
	firn_free(ids);
	return rc;
}

/* ---- deletes of one data file ---------------------------------------- */

int firn_ice__task_delete_ids(const struct firn_ice_task *t, int32_t **ids, size_t *n)
{
	for (size_t i = 0; i < t->n_deletes; i++) {
		const struct firn_ice_data_file *f = &t->deletes[i]->file;
		if (f->content != 2)
			continue;
		for (size_t k = 0; k < f->n_equality_ids; k++) {
			bool dup = false;
			for (size_t j = 0; j < *n && !dup; j++)
				dup = (*ids)[j] == f->equality_ids[k];
			if (dup)
				continue;
			int32_t *v = firn_realloc(*ids, (*n + 1) * sizeof(int32_t));
			if (!v)
				return FIRN_ENOMEM;
			v[(*n)++] = f->equality_ids[k];
			*ids = v;
		}
	}
	return 0;
}

static int read_position_file(const char *path, const char *target, struct firn_posset *out,
			      struct firn_error *err)
{
	struct firn_parquet_reader *r = NULL;
	int rc = firn_parquet_reader_open(&r, path, err);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: delete file is missing", path);
	FIRN_TRY(rc);
	int32_t ids[2] = { POS_FILE_PATH, POS_POS };
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_field_ids = 2;
	o.field_ids = ids;
	struct ArrowArrayStream st = { 0 };
	struct ArrowSchema s = { 0 };
	rc = firn_parquet_reader_stream(r, &o, &st, err);
	if (rc == 0 && st.get_schema(&st, &s) != 0)
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", path, st.get_last_error(&st));
	if (rc == 0 && (s.n_children != 2 || firn_schema_field_id(s.children[0]) != POS_FILE_PATH))
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: not a position delete file", path);
	size_t tl = strlen(target);
	while (rc == 0) {
		struct ArrowArray b = { 0 };
		if (st.get_next(&st, &b) != 0) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", path, st.get_last_error(&st));
			break;
		}
		if (!b.release)
			break;
		const struct ArrowArray *fp = b.children[0], *ps = b.children[1];
		const int32_t *o32 = fp->buffers[1];
		const uint8_t *data = fp->buffers[2];
		const int64_t *pos = ps->buffers[1];
		for (int64_t i = 0; i < b.length && rc == 0; i++) {
			int64_t j = fp->offset + i;
			size_t len = (size_t)(o32[j + 1] - o32[j]);
			if (len == tl && memcmp(data + o32[j], target, tl) == 0)
				if (firn_posset_add(out, pos[ps->offset + i]) != 0)
					rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		b.release(&b);
	}
	if (st.release)
		st.release(&st);
	if (s.release)
		s.release(&s);
	firn_parquet_reader_free(r);
	return rc;
}

int firn_ice__task_positions(const struct firn_ice_task *t, struct firn_posset *out,
			     struct firn_error *err)
{
	for (size_t i = 0; i < t->n_deletes; i++) {
		const struct firn_ice_data_file *f = &t->deletes[i]->file;
		if (f->content != 1)
			continue;
		if (f->format && strcasecmp(f->format, "puffin") == 0) {
			struct firn_posset dv = { 0 };
			int rc = firn_puffin_read_dv(f->path, f->content_offset, f->content_size,
						     &dv, err);
			if (rc == 0)
				rc = firn_posset_union(out, &dv) ? firn_error_set(err, FIRN_ENOMEM, "out of memory") : 0;
			firn_posset_free(&dv);
			FIRN_TRY(rc);
		} else {
			FIRN_TRY(read_position_file(f->path, t->entry->file.path, out, err));
		}
	}
	firn_posset_normalize(out);
	return 0;
}

/* Equality deletes: a hash set of key tuples per delete file. */
struct eq_set {
	int32_t *ids;
	size_t n_ids;
	struct firn_type *types;
	struct ArrowArray batches[64];
	struct ArrowSchema schema;
	size_t n_batches;
	/* open addressing over (batch, row) */
	uint32_t *slots; /* batch << 24 | row, +1; 0 empty (rows < 16M per batch) */
	size_t cap;
};

/* How many positions of the normalized set s lie in [lo, hi). */
static int64_t deleted_in(const struct firn_posset *s, int64_t lo, int64_t hi)
{
	size_t a = 0, b = s->n;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (s->v[mid] < lo)
			a = mid + 1;
		else
			b = mid;
	}
	size_t first = a;
	b = s->n;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (s->v[mid] < hi)
			a = mid + 1;
		else
			b = mid;
	}
	return (int64_t)(a - first);
}

struct firn_ice_file_reader {
	const struct firn_ice_plan *plan;
	const struct firn_ice_task *task;
	struct firn_parquet_reader *reader;
	struct ArrowArrayStream stream;
	struct ArrowSchema file_schema;
	const struct ArrowSchema *proj;
	int *rgs;
	int n_rgs, next_rg;
	int64_t *rg_start;
	struct firn_posset deleted;
	struct eq_set *eqs;
	size_t n_eqs;
	uint8_t *live;
	size_t live_cap;
	int64_t skipped_rows; /* live rows of the row groups pruned away */
	/* late materialisation (a scan's filter): the filter's columns come
	 * from stream (file_schema, as first_proj), the others from rest
	 * (rest_schema, as rest_proj), decoded only for the rows that pass */
	bool late;
	bool pick_live; /* no filter, position deletes: only live rows decoded */
	struct ArrowArrayStream rest;
	struct ArrowSchema rest_schema, first_proj, rest_proj;
	uint8_t *keep;
	int64_t *idx;
	/* the filter reads one string column, leaf dict_leaf of the file: it is
	 * evaluated on the dictionary of each row group where it can be
	 * (dict_proj: that column alone) */
	bool dict;
	int dict_leaf;
	struct ArrowSchema dict_proj;
	/* when the filter is an AND of which only some terms read that column:
	 * those terms (dict_expr) and the others (dict_rest, evaluated on the
	 * rows the first leave); dict_rest NULL: the dictionary answers all */
	const struct firn_expr *dict_expr, *dict_rest;
	struct firn_expr *and_nodes; /* the AND nodes of the two, owned */
	bool first_flat; /* the filter's columns have no lists or maps: rows of them can be selected */
};

static uint64_t tuple_hash(const struct eq_set *e, const struct ArrowArray *const *cols,
			   const int64_t *offs, int64_t row)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t k = 0; k < e->n_ids; k++) {
		struct firn_datum d;
		firn_ice__datum_from_array(&e->types[k], cols[k], offs[k] + row, &d);
		h = (h ^ firn_ice__datum_hash(&e->types[k], &d)) * 1099511628211ULL;
	}
	return h;
}

static void eq_free(struct eq_set *e)
{
	for (size_t i = 0; i < e->n_batches; i++)
		if (e->batches[i].release)
			e->batches[i].release(&e->batches[i]);
	if (e->schema.release)
		e->schema.release(&e->schema);
	firn_free(e->ids);
	firn_free(e->types);
	firn_free(e->slots);
}

/* column k of a delete batch */
static const struct ArrowArray *eq_col(const struct eq_set *e, size_t b, size_t k)
{
	return e->batches[b].children[k];
}

static int eq_load(struct eq_set *e, const struct firn_ice_plan *p, const struct firn_ice_data_file *f,
		   struct firn_error *err)
{
	memset(e, 0, sizeof(*e));
	e->n_ids = f->n_equality_ids;
	e->ids = firn_calloc(e->n_ids + 1, sizeof(int32_t));
	e->types = firn_calloc(e->n_ids + 1, sizeof(struct firn_type));
	if (!e->ids || !e->types)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	memcpy(e->ids, f->equality_ids, e->n_ids * sizeof(int32_t));
	/* the delete file's columns, in the types of the read schema */
	struct ArrowSchema proj;
	if (firn_schema_init(&proj, "+s", "", 0, (int64_t)e->n_ids) != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t k = 0; k < e->n_ids; k++) {
		const struct ArrowSchema *node = firn_ice__schema_find(p->schema, e->ids[k], NULL);
		for (size_t s = 0; !node && s < p->m->n_schemas; s++) /* a column dropped since */
			node = firn_ice__schema_find(&p->m->schemas[s].arrow, e->ids[k], NULL);
		if (!node || firn_schema_copy(proj.children[k], node) != 0 ||
		    firn_type_of(node, &e->types[k], NULL) != 0) {
			proj.release(&proj);
			return firn_error_set(err, FIRN_ECORRUPT, "%s: equality field %d is not in the table",
					      f->path, e->ids[k]);
		}
		/* nested fields are read by their top-level column; keep it simple: top-level only */
	}
	e->schema = proj;
	struct firn_parquet_reader *r = NULL;
	int rc = firn_parquet_reader_open(&r, f->path, err);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: delete file is missing", f->path);
	FIRN_TRY(rc);
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_field_ids = (int)e->n_ids;
	o.field_ids = e->ids;
	struct ArrowArrayStream st = { 0 };
	struct ArrowSchema fs = { 0 };
	rc = firn_parquet_reader_stream(r, &o, &st, err);
	if (rc == 0 && st.get_schema(&st, &fs) != 0)
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", f->path, st.get_last_error(&st));
	size_t rows = 0;
	while (rc == 0) {
		struct ArrowArray b = { 0 };
		if (st.get_next(&st, &b) != 0) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", f->path, st.get_last_error(&st));
			break;
		}
		if (!b.release)
			break;
		if (e->n_batches == 64 || b.length >= (1 << 24)) {
			b.release(&b);
			rc = firn_error_set(err, FIRN_EUNSUPPORTED, "%s: equality delete file too large", f->path);
			break;
		}
		rc = firn_ice__batch_fit(&fs, &b, &e->schema, FIRN_MATCH_ID, &e->batches[e->n_batches], err);
		if (rc == 0)
			rows += (size_t)e->batches[e->n_batches++].length;
	}
	if (st.release)
		st.release(&st);
	if (fs.release)
		fs.release(&fs);
	firn_parquet_reader_free(r);
	FIRN_TRY(rc);
	e->cap = 16;
	while (e->cap < 2 * rows + 16)
		e->cap *= 2;
	e->slots = firn_calloc(e->cap, sizeof(uint32_t));
	if (!e->slots)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	const struct ArrowArray *cols[64];
	int64_t offs[64] = { 0 };
	if (e->n_ids > 64)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "more than 64 equality fields");
	for (size_t b = 0; b < e->n_batches; b++) {
		for (size_t k = 0; k < e->n_ids; k++)
			cols[k] = eq_col(e, b, k);
		for (int64_t i = 0; i < e->batches[b].length; i++) {
			size_t at = tuple_hash(e, cols, offs, i) & (e->cap - 1);
			while (e->slots[at])
				at = (at + 1) & (e->cap - 1);
			e->slots[at] = (uint32_t)((b << 24) | (size_t)i) + 1;
		}
	}
	return 0;
}

/* Is row (cols, offs, row) of the data in the set? */
static bool eq_contains(const struct eq_set *e, const struct ArrowArray *const *cols,
			const int64_t *offs, int64_t row)
{
	size_t at = tuple_hash(e, cols, offs, row) & (e->cap - 1);
	while (e->slots[at]) {
		uint32_t v = e->slots[at] - 1;
		size_t b = v >> 24;
		int64_t i = v & 0xFFFFFF;
		bool eq = true;
		for (size_t k = 0; k < e->n_ids && eq; k++) {
			struct firn_datum x, y;
			firn_ice__datum_from_array(&e->types[k], cols[k], offs[k] + row, &x);
			firn_ice__datum_from_array(&e->types[k], eq_col(e, b, k), i, &y);
			eq = firn_ice__datum_equal(&e->types[k], &x, &y);
		}
		if (eq)
			return true;
		at = (at + 1) & (e->cap - 1);
	}
	return false;
}

int64_t firn_ice__file_skipped_rows(const struct firn_ice_file_reader *r)
{
	return r->skipped_rows;
}

void firn_ice__file_close(struct firn_ice_file_reader *r)
{
	if (!r)
		return;
	if (r->stream.release)
		r->stream.release(&r->stream);
	if (r->file_schema.release)
		r->file_schema.release(&r->file_schema);
	struct ArrowSchema *schemas[] = { &r->rest_schema, &r->first_proj, &r->rest_proj, &r->dict_proj };
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (schemas[i]->release)
			schemas[i]->release(schemas[i]);
	if (r->rest.release)
		r->rest.release(&r->rest);
	firn_free(r->keep);
	firn_free(r->idx);
	firn_free(r->and_nodes);
	firn_parquet_reader_free(r->reader);
	firn_free(r->rgs);
	firn_free(r->rg_start);
	firn_posset_free(&r->deleted);
	for (size_t i = 0; i < r->n_eqs; i++)
		eq_free(&r->eqs[i]);
	firn_free(r->eqs);
	firn_free(r->live);
	firn_free(r);
}

static int32_t top_of(const struct ArrowSchema *s, int32_t id);

/* Whether s (or a field under it) is a list or a map. */
static bool repeats(const struct ArrowSchema *s)
{
	const char *f = s->format;
	if (f[0] == '+' && (f[1] == 'l' || f[1] == 'L' || f[1] == 'm' || f[1] == 'w'))
		return true;
	for (int64_t i = 0; i < s->n_children; i++)
		if (repeats(s->children[i]))
			return true;
	return false;
}

static int open_stream(struct firn_ice_file_reader *r, const int32_t *ids, int n,
		       struct ArrowArrayStream *st, struct ArrowSchema *schema, struct firn_error *err)
{
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_field_ids = n;
	o.field_ids = ids;
	o.n_row_groups = r->n_rgs;
	o.row_groups = r->rgs;
	FIRN_TRY(firn_parquet_reader_stream(r->reader, &o, st, err));
	if (st->get_schema(st, schema) != 0)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: %s", r->task->entry->file.path,
				      st->get_last_error(st));
	return 0;
}

/* Sets r up for late materialisation when the filter reads some of the
 * file's columns (ids, n of them) and not all, and the others have no
 * lists or maps; r stays as it is otherwise. */
static int open_late(struct firn_ice_file_reader *r, const int32_t *ids, int n, struct firn_error *err)
{
	const struct ArrowSchema *proj = r->proj;
	int32_t *fids = NULL, *first = NULL;
	size_t nf = 0;
	int rc = firn_ice__expr_field_ids(r->plan->filter, &fids, &nf);
	int64_t np = proj->n_children;
	int32_t *pf = firn_calloc((size_t)np + 1, sizeof(int32_t)), *pr = firn_calloc((size_t)np + 1, sizeof(int32_t));
	first = firn_calloc((size_t)n * 2 + 1, sizeof(int32_t));
	if (rc != 0 || !pf || !pr || !first) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto done;
	}
	int32_t *rest = first + n;
	int n1 = 0, n2 = 0, npf = 0, npr = 0;
	bool flat = true;
	for (int64_t c = 0; c < np; c++) {
		int32_t id = firn_schema_field_id(proj->children[c]);
		bool in_filter = false;
		for (size_t k = 0; k < nf && !in_filter; k++)
			in_filter = top_of(proj, fids[k]) == id;
		bool in_file = false;
		for (int k = 0; k < n && !in_file; k++)
			in_file = ids[k] == id;
		if (in_filter) {
			pf[npf++] = id;
			if (in_file)
				first[n1++] = id;
		} else {
			pr[npr++] = id;
			if (in_file)
				rest[n2++] = id;
			flat &= !repeats(proj->children[c]);
		}
	}
	if (n1 == 0 || n2 == 0 || !flat)
		goto done;
	if ((rc = firn_ice__projection(proj, pf, (size_t)npf, &r->first_proj, err)) != 0 ||
	    (rc = firn_ice__projection(proj, pr, (size_t)npr, &r->rest_proj, err)) != 0 ||
	    (rc = open_stream(r, first, n1, &r->stream, &r->file_schema, err)) != 0 ||
	    (rc = open_stream(r, rest, n2, &r->rest, &r->rest_schema, err)) != 0)
		goto done;
	r->late = true;
	r->first_flat = !repeats(&r->first_proj);
done:
	firn_free(fids);
	firn_free(first);
	firn_free(pf);
	firn_free(pr);
	return rc;
}

/* The terms of e's top-level ANDs, up to cap; false past cap. */
static bool conjuncts(const struct firn_expr *e, const struct firn_expr **out, size_t *n, size_t cap)
{
	if (e->op == FIRN_X_AND)
		return conjuncts(e->left, out, n, cap) && conjuncts(e->right, out, n, cap);
	if (*n == cap)
		return false;
	out[(*n)++] = e;
	return true;
}

/* The one field id e reads, or -1 (none, several, or out of memory). */
static int32_t only_id(const struct firn_expr *e)
{
	int32_t *ids = NULL;
	size_t n = 0;
	int rc = firn_ice__expr_field_ids(e, &ids, &n);
	int32_t id = rc == 0 && n == 1 ? ids[0] : -1;
	firn_free(ids);
	return id;
}

/* The leaf of a top-level string or binary column id of r's projection
 * and file, or -1. */
static int string_leaf(const struct firn_ice_file_reader *r, int32_t id)
{
	const struct ArrowSchema *col = NULL;
	for (int64_t c = 0; id >= 0 && c < r->proj->n_children; c++)
		if (firn_schema_field_id(r->proj->children[c]) == id)
			col = r->proj->children[c];
	struct firn_type ty;
	if (!col || firn_type_of(col, &ty, NULL) != 0 || (ty.id != FIRN_A_STRING && ty.id != FIRN_A_BINARY))
		return -1;
	int n_leaves = firn_parquet_reader_leaf_count(r->reader);
	for (int leaf = 0; leaf < n_leaves; leaf++)
		if (firn_parquet_reader_leaf_field_id(r->reader, leaf) == id)
			return leaf;
	return -1;
}

/* terms[0..n) as one AND tree, its nodes from nodes[] (n - 1 of them). */
static const struct firn_expr *and_of(const struct firn_expr **terms, size_t n, struct firn_expr *nodes)
{
	const struct firn_expr *e = terms[0];
	for (size_t i = 1; i < n; i++) {
		struct firn_expr *x = &nodes[i - 1];
		x->op = FIRN_X_AND;
		x->left = (struct firn_expr *)e;
		x->right = (struct firn_expr *)terms[i];
		e = x;
	}
	return e;
}

/* Sets r up to evaluate its filter on dictionary codes when the filter, or
 * some terms of its top-level AND, read one column only: a top-level
 * string or binary column of the file. */
static int open_dict(struct firn_ice_file_reader *r, struct firn_error *err)
{
	const struct firn_expr *f = r->plan->filter;
	const struct firn_expr *terms[64], *mine[64] = { 0 }, *others[64] = { 0 };
	size_t n = 0, n_mine = 0, n_others = 0;
	int32_t id = only_id(f);
	int leaf = string_leaf(r, id);
	if (leaf >= 0) {
		r->dict_expr = f;
	} else if (f->op == FIRN_X_AND && conjuncts(f, terms, &n, 64)) {
		for (size_t i = 0; i < n && leaf < 0; i++)
			leaf = string_leaf(r, id = only_id(terms[i]));
		for (size_t i = 0; leaf >= 0 && i < n; i++) {
			if (only_id(terms[i]) == id)
				mine[n_mine++] = terms[i];
			else
				others[n_others++] = terms[i];
		}
		if (leaf < 0 || n_mine == 0 || n_others == 0)
			return 0;
		if (!(r->and_nodes = firn_calloc(n, sizeof(*r->and_nodes))))
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		r->dict_expr = and_of(mine, n_mine, r->and_nodes);
		r->dict_rest = and_of(others, n_others, r->and_nodes + n_mine);
	} else {
		return 0;
	}
	FIRN_TRY(firn_ice__projection(r->proj, &id, 1, &r->dict_proj, err));
	r->dict = true;
	r->dict_leaf = leaf;
	return 0;
}

/* The filter's marks for the rows of row group rg from its dictionary
 * (r->dict): FIRN_EUNSUPPORTED, and r->dict cleared, when the column is not
 * all dictionary-encoded there. */
static int dict_marks(struct firn_ice_file_reader *r, int rg, uint8_t *out, struct firn_error *err)
{
	struct firn_parquet_dict_codes dc;
	struct firn_error e = { 0 };
	int rc = firn_parquet_reader_dict_codes(r->reader, rg, r->dict_leaf, &dc, &e);
	if (rc == FIRN_EUNSUPPORTED) {
		r->dict = false; /* files are written one way: not tried again */
		return rc;
	}
	if (rc != 0) {
		*err = e;
		return rc;
	}
	rc = firn_ice__expr_eval_codes(r->dict_expr, &r->dict_proj, &dc, out, err);
	firn_parquet_dict_codes_free(&dc);
	return rc;
}

/* How a file is read: no_prune reads every row group, late lets a scan
 * read its filter's columns first; part of parts (parts 0: all) keeps
 * only the row groups whose index is part modulo parts. */
struct open_how {
	bool no_prune, late;
	int part, parts;
};

static int open_file(const struct firn_ice_plan *p, const struct firn_ice_task *t,
		     const struct ArrowSchema *proj, const struct open_how *how,
		     struct firn_ice_file_reader **out, struct firn_error *err);

int firn_ice__file_open(const struct firn_ice_plan *p, const struct firn_ice_task *t,
			const struct ArrowSchema *proj, bool no_prune,
			struct firn_ice_file_reader **out, struct firn_error *err)
{
	struct open_how how = { .no_prune = no_prune };
	return open_file(p, t, proj, &how, out, err);
}

static int open_file(const struct firn_ice_plan *p, const struct firn_ice_task *t,
		     const struct ArrowSchema *proj, const struct open_how *how,
		     struct firn_ice_file_reader **out, struct firn_error *err)
{
	bool no_prune = how->no_prune, late = how->late;
	*out = NULL;
	struct firn_ice_file_reader *r = firn_calloc(1, sizeof(*r));
	if (!r)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	r->plan = p;
	r->task = t;
	r->proj = proj;
	const char *loc = t->entry->file.path;
	int rc = firn_parquet_reader_open(&r->reader, loc, err);
	if (rc == FIRN_ENOTFOUND)
		rc = firn_error_set(err, FIRN_ECORRUPT, "%s: data file is missing", loc);
	if (rc == 0) /* files without field ids: the table's name mapping */
		rc = firn_ice__name_map_reader(p->m, r->reader, err);
	if (rc == 0)
		rc = firn_parquet_reader_schema(r->reader, &r->file_schema, err);
	if (rc == 0)
		rc = firn_ice__task_positions(t, &r->deleted, err);
	size_t n_eq = 0;
	for (size_t i = 0; i < t->n_deletes; i++)
		n_eq += t->deletes[i]->file.content == 2;
	if (rc == 0 && n_eq) {
		r->eqs = firn_calloc(n_eq, sizeof(*r->eqs));
		if (!r->eqs)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (size_t i = 0; rc == 0 && i < t->n_deletes; i++)
			if (t->deletes[i]->file.content == 2) {
				rc = eq_load(&r->eqs[r->n_eqs], p, &t->deletes[i]->file, err);
				r->n_eqs++;
			}
	}
	if (rc != 0) {
		firn_ice__file_close(r);
		return rc;
	}
	int n_rg = firn_parquet_reader_num_row_groups(r->reader);
	r->rgs = firn_calloc((size_t)n_rg + 1, sizeof(int));
	r->rg_start = firn_calloc((size_t)n_rg + 1, sizeof(int64_t));
	int n_leaves = firn_parquet_reader_leaf_count(r->reader);
	struct firn_col_metrics *cols = firn_calloc((size_t)n_leaves + 1, sizeof(*cols));
	if (!r->rgs || !r->rg_start || !cols) {
		firn_free(cols);
		firn_ice__file_close(r);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	int64_t pos = 0;
	for (int rg = 0; rg < n_rg; rg++) {
		r->rg_start[rg] = pos;
		pos += firn_parquet_reader_row_group_rows(r->reader, rg);
		if (how->parts > 1 && rg % how->parts != how->part)
			continue;
		if (!p->filter || t->all_match || no_prune) {
			r->rgs[r->n_rgs++] = rg;
			continue;
		}
		size_t nc = 0;
		for (int leaf = 0; leaf < n_leaves; leaf++) {
			int32_t id = firn_parquet_reader_leaf_field_id(r->reader, leaf);
			const struct ArrowSchema *node = id >= 0 ? firn_ice__schema_find(p->schema, id, NULL) : NULL;
			struct firn_type ty;
			struct firn_parquet_column_stats st;
			if (!node || node->n_children || firn_type_of(node, &ty, NULL) != 0 ||
			    firn_parquet_reader_leaf_stats(r->reader, rg, leaf, &st) != 0)
				continue;
			struct firn_col_metrics *c = &cols[nc];
			memset(c, 0, sizeof(*c));
			c->field_id = id;
			c->value_count = -1;
			c->null_count = st.null_count;
			c->nan_count = -1;
			if (st.min && st.min_len >= 0 && firn_ice__parquet_stat_datum(&ty, st.min, st.min_len, &c->lower))
				c->has_lower = true;
			if (st.max && st.max_len >= 0 && firn_ice__parquet_stat_datum(&ty, st.max, st.max_len, &c->upper))
				c->has_upper = true;
			/* Parquet float bounds from other writers may include NaN: not trusted */
			if (ty.id == FIRN_A_FLOAT || ty.id == FIRN_A_DOUBLE)
				c->has_lower = c->has_upper = false;
			nc++;
		}
		struct firn_metrics mm = { firn_parquet_reader_row_group_rows(r->reader, rg), cols, nc };
		if (firn_ice__expr_eval_metrics(p->filter, &mm) != FIRN_EVAL_NONE)
			r->rgs[r->n_rgs++] = rg;
		else
			r->skipped_rows += mm.record_count - deleted_in(&r->deleted, r->rg_start[rg],
									 r->rg_start[rg] + mm.record_count);
	}
	firn_free(cols);
	/* the top-level columns of proj the file has */
	int32_t *ids = firn_calloc((size_t)proj->n_children + 1, sizeof(int32_t));
	int n_ids = 0;
	for (int64_t i = 0; ids && i < proj->n_children; i++) {
		int32_t id = firn_schema_field_id(proj->children[i]);
		for (int64_t k = 0; k < r->file_schema.n_children; k++)
			if (firn_schema_field_id(r->file_schema.children[k]) == id)
				ids[n_ids++] = id;
	}
	r->file_schema.release(&r->file_schema);
	if (!ids)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0 && p->filter && !t->all_match && !no_prune && r->n_eqs == 0 && r->n_rgs > 0)
		rc = open_dict(r, err);
	if (rc == 0 && late && p->filter && !t->all_match && !no_prune && r->n_eqs == 0 && r->n_rgs > 0)
		rc = open_late(r, ids, n_ids, err);
	if (rc == 0 && !r->late)
		rc = open_stream(r, ids, n_ids, &r->stream, &r->file_schema, err);
	if (rc == 0 && late && !r->late && r->deleted.n > 0 && r->n_eqs == 0 && (!p->filter || t->all_match))
		r->pick_live = firn_parquet_stream_select(&r->stream, NULL, NULL) == 0 && !repeats(proj);
	firn_free(ids);
	if (rc != 0) {
		firn_ice__file_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* r->live[0..n): 1 for the rows at file positions base.. that the
 * position deletes leave. FIRN_ENOMEM. */
static int mark_live(struct firn_ice_file_reader *r, int64_t base, int64_t n)
{
	if ((size_t)n + 1 > r->live_cap) {
		uint8_t *l = firn_realloc(r->live, (size_t)n + 1);
		if (l)
			r->live = l;
		uint8_t *kp = firn_realloc(r->keep, (size_t)n + 1);
		if (kp)
			r->keep = kp;
		int64_t *x = firn_realloc(r->idx, ((size_t)n + 1) * sizeof(int64_t));
		if (x)
			r->idx = x;
		if (!l || !kp || !x)
			return FIRN_ENOMEM;
		r->live_cap = (size_t)n + 1;
	}
	memset(r->live, 1, (size_t)n);
	if (r->deleted.n) { /* the deleted positions inside [base, base + n): O(deleted) */
		size_t lo = 0, hi = r->deleted.n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (r->deleted.v[mid] < base)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < r->deleted.n && r->deleted.v[k] < base + n; k++)
			r->live[r->deleted.v[k] - base] = 0;
	}
	return 0;
}

/* One part of a late reader's next row group: st's batch (schema fs) as
 * proj, only the rows keep marks (NULL: all). */
static int late_part(struct firn_ice_file_reader *r, struct ArrowArrayStream *st,
		     const struct ArrowSchema *fs, const struct ArrowSchema *proj, const uint8_t *keep,
		     struct ArrowArray *out, struct firn_error *err)
{
	out->release = NULL;
	FIRN_TRY(firn_parquet_stream_select(st, keep, err));
	struct ArrowArray raw = { 0 };
	if (st->get_next(st, &raw) != 0)
		return firn_error_set(err, FIRN_ECORRUPT, "%s", st->get_last_error(st));
	if (!raw.release)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: columns end early", r->task->entry->file.path);
	FIRN_TRY(firn_ice__batch_fit(fs, &raw, proj, FIRN_MATCH_ID, out, err));
	int rc = firn_ice__fill_identity(r->plan->m, &r->task->entry->file, fs, proj, out, err);
	if (rc != 0)
		out->release(out);
	return rc;
}

/* The next batch of a late reader: its filter and position deletes
 * applied, the other columns decoded for the rows that pass only (the
 * pages that hold one), or read whole and taken when most rows pass. The
 * terms of the filter on one dictionary-encoded string column are answered
 * from the dictionary first; the filter's other columns are then decoded
 * only for the rows those terms leave, and the rest for the rows that
 * pass. */
static int late_next(struct firn_ice_file_reader *r, struct ArrowArray *out, struct firn_error *err)
{
	for (;;) {
		out->release = NULL;
		if (r->next_rg >= r->n_rgs)
			return 0;
		int rg = r->rgs[r->next_rg];
		int64_t n = firn_parquet_reader_row_group_rows(r->reader, rg), k1 = 0, k = 0;
		if (mark_live(r, r->rg_start[rg], n) != 0)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		uint8_t *keep = r->keep;
		/* first: the dictionary's terms, or none */
		const struct firn_expr *second = r->plan->filter;
		int rc = r->dict ? dict_marks(r, rg, keep, err) : FIRN_EUNSUPPORTED;
		if (rc == 0) {
			second = r->dict_rest;
		} else if (rc == FIRN_EUNSUPPORTED) {
			rc = 0;
			memset(keep, 1, (size_t)n);
		}
		r->next_rg++;
		for (int64_t i = 0; rc == 0 && i < n; i++)
			k1 += keep[i] = keep[i] && r->live[i];
		/* then the other terms, on the filter's columns of the rows left */
		struct ArrowArray a = { 0 }, b = { 0 };
		bool a_sel = second && k1 < n && r->first_flat; /* a holds only the k1 rows */
		int64_t *jdx = NULL, kj = 0;   /* rows of a that pass, when a_sel */
		if (rc == 0 && k1 > 0 && second) {
			rc = late_part(r, &r->stream, &r->file_schema, &r->first_proj, a_sel ? keep : NULL, &a, err);
			if (rc == 0 && a.length != (a_sel ? k1 : n))
				rc = firn_error_set(err, FIRN_ECORRUPT, "%s: row group %d: %lld rows, not %lld",
						    r->task->entry->file.path, rg, (long long)a.length,
						    (long long)(a_sel ? k1 : n));
			uint8_t *m = rc == 0 ? firn_malloc((size_t)a.length + 1) : NULL;
			jdx = rc == 0 && a_sel ? firn_malloc(((size_t)k1 + 1) * sizeof(int64_t)) : NULL;
			if (rc == 0 && (!m || (a_sel && !jdx)))
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			if (rc == 0)
				rc = firn_ice__expr_eval(second, &r->first_proj, &a, m, err);
			for (int64_t i = 0, j = 0; rc == 0 && i < n; i++) {
				if (!keep[i])
					continue;
				if (a_sel) {
					if (m[j])
						jdx[kj++] = j;
					keep[i] = m[j++];
				} else {
					keep[i] = m[i];
				}
			}
			firn_free(m);
		}
		for (int64_t i = 0; rc == 0 && i < n; i++)
			if (keep[i])
				r->idx[k++] = i;
		if (rc == 0 && k == 0) {
			if (!a.release)
				rc = firn_parquet_stream_skip(&r->stream, err);
			if (rc == 0)
				rc = firn_parquet_stream_skip(&r->rest, err);
			if (a.release)
				a.release(&a);
			firn_free(jdx);
			if (rc != 0)
				return rc;
			continue;
		}
		/* most rows pass: decode them all, then take */
		bool pick = rc == 0 && k * 2 <= n;
		const uint8_t *sel = pick ? keep : NULL;
		bool a_done = false; /* a holds the k rows */
		if (rc == 0 && !second) {
			rc = late_part(r, &r->stream, &r->file_schema, &r->first_proj, sel, &a, err);
			a_done = pick;
		}
		if (rc == 0)
			rc = late_part(r, &r->rest, &r->rest_schema, &r->rest_proj, sel, &b, err);
		if (rc == 0 && !pick && k < n) {
			struct ArrowArray t;
			rc = firn_ice__batch_take(&r->rest_proj, &b, r->idx, k, &t, err);
			b.release(&b);
			b = t;
		}
		if (rc == 0 && !a_done && (a_sel ? k < k1 : k < n)) {
			struct ArrowArray t;
			rc = firn_ice__batch_take(&r->first_proj, &a, a_sel ? jdx : r->idx, k, &t, err);
			a.release(&a);
			a = t;
		}
		firn_free(jdx);
		if (rc != 0) {
			if (a.release)
				a.release(&a);
			if (b.release)
				b.release(&b);
			return rc;
		}
		return firn_ice__batch_join(r->proj, &r->first_proj, &a, &r->rest_proj, &b, out, err);
	}
}

/* The next batch of a reader whose deletes are its only selection: the
 * rows they leave, decoded alone. */
static int live_next(struct firn_ice_file_reader *r, struct ArrowArray *out, struct firn_error *err)
{
	for (;;) {
		out->release = NULL;
		if (r->next_rg >= r->n_rgs)
			return 0;
		int rg = r->rgs[r->next_rg];
		int64_t base = r->rg_start[rg], n = firn_parquet_reader_row_group_rows(r->reader, rg), k = 0;
		if (mark_live(r, base, n) != 0)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (int64_t i = 0; i < n; i++)
			k += r->live[i];
		if (k == 0) {
			r->next_rg++;
			FIRN_TRY(firn_parquet_stream_skip(&r->stream, err));
			continue;
		}
		FIRN_TRY(firn_parquet_stream_select(&r->stream, k < n ? r->live : NULL, err));
		struct ArrowArray raw = { 0 };
		if (r->stream.get_next(&r->stream, &raw) != 0)
			return firn_error_set(err, FIRN_ECORRUPT, "%s", r->stream.get_last_error(&r->stream));
		if (!raw.release)
			return 0;
		r->next_rg++;
		FIRN_TRY(firn_ice__batch_fit(&r->file_schema, &raw, r->proj, FIRN_MATCH_ID, out, err));
		int rc = firn_ice__fill_identity(r->plan->m, &r->task->entry->file, &r->file_schema, r->proj,
						 out, err);
		if (rc != 0)
			out->release(out);
		return rc;
	}
}

int firn_ice__file_next(struct firn_ice_file_reader *r, struct ArrowArray *out,
			const uint8_t **live, int64_t *first_pos, struct firn_error *err)
{
	out->release = NULL;
	if (r->next_rg >= r->n_rgs)
		return 0;
	struct ArrowArray raw = { 0 };
	if (r->stream.get_next(&r->stream, &raw) != 0)
		return firn_error_set(err, FIRN_ECORRUPT, "%s", r->stream.get_last_error(&r->stream));
	if (!raw.release)
		return 0;
	int64_t base = r->rg_start[r->rgs[r->next_rg++]];
	FIRN_TRY(firn_ice__batch_fit(&r->file_schema, &raw, r->proj, FIRN_MATCH_ID, out, err));
	int rc = firn_ice__fill_identity(r->plan->m, &r->task->entry->file, &r->file_schema, r->proj, out,
					 err);
	if (rc != 0) {
		out->release(out);
		return rc;
	}
	int64_t n = out->length;
	if (mark_live(r, base, n) != 0) {
		out->release(out);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	for (size_t q = 0; q < r->n_eqs; q++) {
		struct eq_set *e = &r->eqs[q];
		const struct ArrowArray *cols[64];
		int64_t offs[64];
		bool ok = true;
		for (size_t k = 0; k < e->n_ids; k++) {
			cols[k] = NULL;
			for (int64_t c = 0; c < r->proj->n_children; c++)
				if (firn_schema_field_id(r->proj->children[c]) == e->ids[k]) {
					cols[k] = out->children[c];
					offs[k] = out->offset;
				}
			ok &= cols[k] != NULL;
		}
		if (!ok) {
			out->release(out);
			return firn_error_set(err, FIRN_EUNSUPPORTED,
					      "equality deletes on nested fields are not supported");
		}
		for (int64_t i = 0; i < n; i++)
			if (r->live[i] && eq_contains(e, cols, offs, i))
				r->live[i] = 0;
	}
	*live = r->live;
	*first_pos = base;
	return 0;
}

/* ---- the scan stream ------------------------------------------------- */

/* The schema to read for a selection: the snapshot's own for time travel,
 * the current one otherwise. */
const struct ArrowSchema *firn_ice__read_schema(const struct firn_ice_meta *m,
						const struct firn_snapshot_sel *sel,
						const struct firn_ice_snapshot *snap)
{
	bool travel = sel && (sel->has_snapshot_id || sel->as_of || sel->ref);
	if (travel && snap && snap->schema_id >= 0) {
		const struct firn_ice_schema *s = firn_ice__meta_schema(m, snap->schema_id);
		if (s)
			return &s->arrow;
	}
	return &firn_ice__meta_current_schema(m)->arrow;
}

/* The next files of a scan, each opened on a thread of its own while the
 * caller reads the current one: footer and deletes read and the first
 * chunks fetched (up to AHEAD_BYTES a file), so that a remote store's
 * round trips overlap each other and the work. */
#define AHEAD 4
#define AHEAD_BYTES (16 << 20)

struct ahead {
	pthread_t thread;
	bool running;
	const struct firn_ice_plan *plan;
	const struct firn_ice_task *task;
	const struct ArrowSchema *proj;
	struct firn_ice_file_reader *file;
	int rc;
	struct firn_error err;
};

static void *ahead_run(void *arg)
{
	struct ahead *a = arg;
	struct open_how how = { .late = true };
	a->rc = open_file(a->plan, a->task, a->proj, &how, &a->file, &a->err);
	if (a->rc == 0 && a->file->n_rgs > 0)
		a->rc = firn_parquet_stream_prefetch(&a->file->stream, AHEAD_BYTES, &a->err);
	return NULL;
}

/* Starts opening task; false when no thread could be had (the caller then
 * opens it itself). */
static bool ahead_start(struct ahead *a, const struct firn_ice_plan *p,
			const struct firn_ice_task *task, const struct ArrowSchema *proj)
{
	*a = (struct ahead){ .plan = p, .task = task, .proj = proj };
	a->running = pthread_create(&a->thread, NULL, ahead_run, a) == 0;
	return a->running;
}

/* Waits for the file being opened: 0 with *out, or its error. */
static int ahead_take(struct ahead *a, struct firn_ice_file_reader **out, struct firn_error *err)
{
	pthread_join(a->thread, NULL);
	a->running = false;
	if (a->rc != 0) {
		firn_ice__file_close(a->file);
		if (err)
			*err = a->err;
		return a->rc;
	}
	*out = a->file;
	return 0;
}

static void ahead_stop(struct ahead *a)
{
	struct firn_ice_file_reader *f = NULL;
	if (a->running && ahead_take(a, &f, NULL) == 0)
		firn_ice__file_close(f);
}

struct scan_state {
	struct firn_ice_plan plan;
	struct ahead ahead[AHEAD]; /* task j in ahead[j % AHEAD], when running */
	struct ArrowSchema read_proj; /* top-level columns read (output + filter + deletes) */
	int32_t *out_ids;
	size_t n_out;
	int64_t limit, emitted;
	size_t next_task;
	struct firn_ice_file_reader *file;
	struct firn_error err;
};

static void state_free(struct scan_state *s)
{
	for (int i = 0; i < AHEAD; i++)
		ahead_stop(&s->ahead[i]);
	firn_ice__file_close(s->file);
	if (s->read_proj.release)
		s->read_proj.release(&s->read_proj);
	firn_free(s->out_ids);
	firn_ice__plan_free(&s->plan);
	firn_free(s);
}

/* Next batch of read_proj rows: deletes applied, then the filter. */
static int next_filtered(struct scan_state *s, struct ArrowArray *out)
{
	struct firn_error *err = &s->err;
	out->release = NULL;
	for (;;) {
		if (!s->file) {
			if (s->next_task >= s->plan.n_tasks)
				return 0;
			size_t j = s->next_task++;
			const struct firn_ice_task *task = &s->plan.tasks[j];
			struct ahead *a = &s->ahead[j % AHEAD];
			struct open_how how = { .late = true };
			if (a->running && a->task == task)
				FIRN_TRY(ahead_take(a, &s->file, err));
			else
				FIRN_TRY(open_file(&s->plan, task, &s->read_proj, &how, &s->file, err));
			/* the next files ahead, when there are threads to spare */
			for (size_t k = j + 1; firn_get_threads() > 1 && k < s->plan.n_tasks && k <= j + AHEAD;
			     k++)
				if (!s->ahead[k % AHEAD].running)
					ahead_start(&s->ahead[k % AHEAD], &s->plan, &s->plan.tasks[k],
						    &s->read_proj);
		}
		if (s->file->late || s->file->pick_live) {
			FIRN_TRY(s->file->late ? late_next(s->file, out, err) : live_next(s->file, out, err));
			if (out->release)
				return 0;
			firn_ice__file_close(s->file);
			s->file = NULL;
			continue;
		}
		struct ArrowArray fit;
		const uint8_t *live;
		int64_t first;
		FIRN_TRY(firn_ice__file_next(s->file, &fit, &live, &first, err));
		if (!fit.release) {
			firn_ice__file_close(s->file);
			s->file = NULL;
			continue;
		}
		bool deletes = s->file->deleted.n > 0 || s->file->n_eqs > 0;
		bool filter = s->plan.filter && !s->plan.tasks[s->next_task - 1].all_match;
		if (!deletes && !filter) {
			*out = fit;
			return 0;
		}
		uint8_t *sel = firn_malloc((size_t)fit.length + 1);
		int64_t *idx = firn_malloc(((size_t)fit.length + 1) * sizeof(int64_t));
		int rc = sel && idx ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		if (rc == 0 && filter)
			rc = firn_ice__expr_eval(s->plan.filter, &s->read_proj, &fit, sel, err);
		else if (rc == 0)
			memset(sel, 1, (size_t)fit.length);
		int64_t n = 0;
		for (int64_t i = 0; rc == 0 && i < fit.length; i++)
			if (sel[i] && live[i])
				idx[n++] = i;
		if (rc == 0 && n == fit.length) {
			*out = fit;
		} else if (rc == 0 && n > 0) {
			rc = firn_ice__batch_take(&s->read_proj, &fit, idx, n, out, err);
			fit.release(&fit);
		} else {
			fit.release(&fit);
		}
		firn_free(sel);
		firn_free(idx);
		if (rc != 0 || out->release)
			return rc;
	}
}

static int st_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
	struct scan_state *s = st->private_data;
	struct ArrowSchema tmp;
	if (firn_schema_init(&tmp, "+s", "", 0, (int64_t)s->n_out) != 0)
		return ENOMEM;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->n_out; i++)
		for (int64_t k = 0; rc == 0 && k < s->read_proj.n_children; k++)
			if (firn_schema_field_id(s->read_proj.children[k]) == s->out_ids[i])
				rc = firn_schema_copy(tmp.children[i], s->read_proj.children[k]);
	if (rc != 0) {
		tmp.release(&tmp);
		return ENOMEM;
	}
	*out = tmp;
	return 0;
}

static int st_get_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
	struct scan_state *s = st->private_data;
	out->release = NULL;
	if (s->limit >= 0 && s->emitted >= s->limit)
		return 0;
	struct ArrowArray b;
	if (next_filtered(s, &b) != 0)
		return EIO;
	if (!b.release)
		return 0;
	if (s->limit >= 0 && s->emitted + b.length > s->limit) {
		int64_t keep = s->limit - s->emitted;
		int64_t *idx = firn_malloc((size_t)keep * sizeof(int64_t) + 8);
		struct ArrowArray cut;
		for (int64_t i = 0; idx && i < keep; i++)
			idx[i] = i;
		int rc = idx ? firn_ice__batch_take(&s->read_proj, &b, idx, keep, &cut, &s->err) : FIRN_ENOMEM;
		firn_free(idx);
		b.release(&b);
		if (rc != 0)
			return EIO;
		b = cut;
	}
	s->emitted += b.length;
	struct ArrowSchema tmp;
	if (firn_ice__batch_select(&s->read_proj, &b, s->out_ids, s->n_out, &tmp, out, &s->err) != 0) {
		if (b.release) /* select takes b only when it succeeds */
			b.release(&b);
		return EIO;
	}
	tmp.release(&tmp);
	return 0;
}

static const char *st_last_error(struct ArrowArrayStream *st)
{
	struct scan_state *s = st->private_data;
	return s->err.message;
}

static void st_release(struct ArrowArrayStream *st)
{
	if (!st->release)
		return;
	state_free(st->private_data);
	st->release = NULL;
}

static bool has_id(const int32_t *ids, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Top-level field id holding field id `id`. */
static int32_t top_of(const struct ArrowSchema *s, int32_t id)
{
	for (int64_t i = 0; i < s->n_children; i++) {
		const struct ArrowSchema *c = s->children[i];
		if (firn_schema_field_id(c) == id || firn_ice__schema_find(c, id, NULL))
			return firn_schema_field_id(c);
	}
	return -1;
}

int firn_ice__projection(const struct ArrowSchema *schema, const int32_t *ids, size_t n,
			 struct ArrowSchema *proj, struct firn_error *err)
{
	int32_t *top = firn_calloc(n + 1, sizeof(int32_t));
	size_t nt = 0;
	for (size_t i = 0; top && i < n; i++) {
		int32_t t = top_of(schema, ids[i]);
		if (t >= 0 && !has_id(top, nt, t))
			top[nt++] = t;
	}
	if (!top || firn_schema_init(proj, "+s", "", 0, (int64_t)nt) != 0) {
		firn_free(top);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < nt; i++)
		for (int64_t k = 0; rc == 0 && k < schema->n_children; k++)
			if (firn_schema_field_id(schema->children[k]) == top[i])
				rc = firn_schema_copy(proj->children[i], schema->children[k]);
	firn_free(top);
	if (rc != 0) {
		proj->release(proj);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

static bool listed(const char *const *files, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (files[i] && strcmp(files[i], path) == 0)
			return true;
	return false;
}

/* Keeps the plan's tasks of the listed data files only. */
static void keep_files(struct firn_ice_plan *p, const char *const *files, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < p->n_tasks; i++)
		if (listed(files, n, p->tasks[i].entry->file.path))
			p->tasks[w++] = p->tasks[i];
	p->n_tasks = w;
}

/* files, n_files: firn_scan_options' (n_files 0: every file). */
static int start_scan(struct firn_table *t, const char *columns, const char *where,
		      const struct firn_snapshot_sel *sel, const char *const *files, size_t n_files,
		      bool count_only, struct scan_state **out, struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *snap;
	FIRN_TRY(firn_ice__select_snapshot(m, sel, &snap, err));
	struct scan_state *s = firn_calloc(1, sizeof(*s));
	if (!s)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	s->limit = -1;
	const struct ArrowSchema *schema = firn_ice__read_schema(m, sel, snap);
	int rc = 0;
	s->out_ids = firn_calloc((size_t)schema->n_children + 1, sizeof(int32_t));
	if (!s->out_ids) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if (columns && *columns) {
		char *list = firn_strdup(columns);
		if (!list)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		for (char *tok = list ? strtok(list, ",") : NULL; tok && rc == 0; tok = strtok(NULL, ",")) {
			while (*tok == ' ')
				tok++;
			size_t l = strlen(tok);
			while (l > 0 && tok[l - 1] == ' ')
				tok[--l] = '\0';
			const struct ArrowSchema *c = firn_ice__schema_find_name(schema, tok);
			if (!c) {
				rc = firn_error_set(err, FIRN_EINVAL, "--columns: unknown column '%s'", tok);
				break;
			}
			int32_t id = top_of(schema, firn_schema_field_id(c));
			if (id != firn_schema_field_id(c)) {
				rc = firn_error_set(err, FIRN_EINVAL,
						    "--columns: '%s' is a nested field; select its top-level column",
						    tok);
				break;
			}
			if (!has_id(s->out_ids, s->n_out, id) && s->n_out < (size_t)schema->n_children)
				s->out_ids[s->n_out++] = id;
		}
		firn_free(list);
		if (rc != 0)
			goto fail;
	} else if (!count_only) {
		for (int64_t i = 0; i < schema->n_children; i++)
			s->out_ids[s->n_out++] = firn_schema_field_id(schema->children[i]);
	}
	if ((rc = firn_ice__plan(&s->plan, m, snap, schema, where, err)) != 0)
		goto fail;
	if (n_files > 0)
		keep_files(&s->plan, files, n_files);
	/* read projection: output columns, filter columns, equality-delete columns */
	int32_t *ids = NULL;
	size_t n = 0;
	for (size_t i = 0; i < s->n_out; i++) {
		int32_t *v = firn_realloc(ids, (n + 1) * sizeof(int32_t));
		if (!v) {
			firn_free(ids);
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			goto fail;
		}
		ids = v;
		ids[n++] = s->out_ids[i];
	}
	if (s->plan.filter && firn_ice__expr_field_ids(s->plan.filter, &ids, &n) != 0)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < s->plan.n_tasks; i++)
		if (firn_ice__task_delete_ids(&s->plan.tasks[i], &ids, &n) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__projection(schema, ids, n, &s->read_proj, err);
	firn_free(ids);
	if (rc != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	state_free(s);
	return rc;
}

int firn_table_scan(struct firn_table *t, const struct firn_scan_options *opts,
		    struct ArrowSchema *schema_out, struct ArrowArrayStream *out,
		    struct firn_error *err)
{
	struct scan_state *s;
	bool v2 = opts->version >= 2;
	FIRN_TRY(start_scan(t, opts->columns, opts->where, &opts->sel, v2 ? opts->files : NULL,
			    v2 ? opts->n_files : 0, false, &s, err));
	s->limit = opts->limit;
	memset(out, 0, sizeof(*out));
	out->get_schema = st_get_schema;
	out->get_next = st_get_next;
	out->get_last_error = st_last_error;
	out->release = st_release;
	out->private_data = s;
	if (st_get_schema(out, schema_out) != 0) {
		st_release(out);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

/* One job of a count: the rows of part `part` of `parts` of a file's row
 * groups that pass the filter and the deletes. */
struct count_job {
	size_t task;
	int part, parts;
	int64_t rows;
	int rc;
	struct firn_error err;
};

struct count_ctx {
	struct scan_state *s;
	struct count_job *jobs;
};

static int count_file(struct scan_state *s, struct count_job *j)
{
	const struct firn_ice_task *task = &s->plan.tasks[j->task];
	struct open_how how = { .part = j->part, .parts = j->parts };
	struct firn_ice_file_reader *f;
	FIRN_TRY(open_file(&s->plan, task, &s->read_proj, &how, &f, &j->err));
	bool filter = s->plan.filter && !task->all_match;
	uint8_t *sel = NULL;
	size_t cap = 0;
	int rc = 0;
	for (;;) {
		struct ArrowArray b;
		const uint8_t *live;
		int64_t first;
		if (filter && f->dict && (!f->dict_rest || !repeats(f->proj)) && f->next_rg < f->n_rgs) {
			int rg = f->rgs[f->next_rg];
			int64_t n = firn_parquet_reader_row_group_rows(f->reader, rg);
			if (mark_live(f, f->rg_start[rg], n) != 0) {
				rc = firn_error_set(&j->err, FIRN_ENOMEM, "out of memory");
				break;
			}
			rc = dict_marks(f, rg, f->keep, &j->err);
			int64_t k1 = 0;
			for (int64_t i = 0; rc == 0 && i < n; i++)
				k1 += f->keep[i] = f->keep[i] & f->live[i];
			if (rc == 0 && (!f->dict_rest || k1 == 0)) {
				j->rows += f->dict_rest ? 0 : k1;
				f->next_rg++;
				if ((rc = firn_parquet_stream_skip(&f->stream, &j->err)) != 0)
					break;
				continue;
			}
			if (rc == 0) { /* the other terms, on the rows the dictionary's leave */
				f->next_rg++;
				struct ArrowArray a;
				rc = late_part(f, &f->stream, &f->file_schema, f->proj, k1 < n ? f->keep : NULL, &a,
					       &j->err);
				if (rc == 0 && (size_t)a.length + 1 > cap) {
					uint8_t *x = firn_realloc(sel, (size_t)a.length + 1);
					if (x) {
						sel = x;
						cap = (size_t)a.length + 1;
					} else {
						rc = firn_error_set(&j->err, FIRN_ENOMEM, "out of memory");
					}
				}
				if (rc == 0)
					rc = firn_ice__expr_eval(f->dict_rest, f->proj, &a, sel, &j->err);
				for (int64_t i = 0; rc == 0 && i < a.length; i++)
					j->rows += sel[i];
				if (a.release)
					a.release(&a);
				if (rc != 0)
					break;
				continue;
			}
			if (rc != FIRN_EUNSUPPORTED)
				break;
			rc = 0;
		}
		if ((rc = firn_ice__file_next(f, &b, &live, &first, &j->err)) != 0 || !b.release)
			break;
		if (filter && (size_t)b.length + 1 > cap) {
			uint8_t *x = firn_realloc(sel, (size_t)b.length + 1);
			if (!x) {
				b.release(&b);
				rc = firn_error_set(&j->err, FIRN_ENOMEM, "out of memory");
				break;
			}
			sel = x;
			cap = (size_t)b.length + 1;
		}
		if (filter)
			rc = firn_ice__expr_eval(s->plan.filter, &s->read_proj, &b, sel, &j->err);
		for (int64_t i = 0; rc == 0 && i < b.length; i++)
			j->rows += live[i] & (filter ? sel[i] : 1);
		b.release(&b);
		if (rc != 0)
			break;
	}
	firn_free(sel);
	firn_ice__file_close(f);
	return rc;
}

static void count_job_run(void *arg, size_t i, int slot)
{
	(void)slot;
	struct count_ctx *c = arg;
	c->jobs[i].rc = count_file(c->s, &c->jobs[i]);
}

/* Counts the rows of s's tasks that pass, files and their row groups
 * spread over firn's threads. */
static int count_read(struct scan_state *s, int64_t *count, struct firn_error *err)
{
	int threads = firn_get_threads();
	size_t n = 0;
	for (size_t i = 0; i < s->plan.n_tasks; i++) {
		size_t rgs = s->plan.tasks[i].entry->file.n_split_offsets;
		n += threads > 1 && rgs > 1 ? (size_t)(rgs < (size_t)threads ? rgs : (size_t)threads) : 1;
	}
	struct count_job *jobs = firn_calloc(n + 1, sizeof(*jobs));
	if (!jobs)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < s->plan.n_tasks; i++) {
		size_t rgs = s->plan.tasks[i].entry->file.n_split_offsets;
		int parts = threads > 1 && rgs > 1 ? (int)(rgs < (size_t)threads ? rgs : (size_t)threads) : 1;
		for (int p = 0; p < parts; p++)
			jobs[k++] = (struct count_job){ .task = i, .part = p, .parts = parts };
	}
	struct count_ctx c = { s, jobs };
	firn_par__for(n, threads, count_job_run, &c);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].rc != 0 && rc == 0) {
			rc = jobs[i].rc;
			*err = jobs[i].err;
		}
		*count += jobs[i].rows;
	}
	firn_free(jobs);
	return rc;
}

int firn_table_count(struct firn_table *t, const char *where,
		     const struct firn_snapshot_sel *sel, int64_t *count, struct firn_error *err)
{
	struct scan_state *s;
	*count = 0;
	FIRN_TRY(start_scan(t, NULL, where, sel, NULL, 0, true, &s, err));
	int rc = 0;
	/* files the metrics decide (and that have no deletes) count from
	 * metadata; only the rest are read */
	size_t w = 0;
	for (size_t i = 0; rc == 0 && i < s->plan.n_tasks; i++) {
		const struct firn_ice_task *tk = &s->plan.tasks[i];
		bool eq = false;
		for (size_t d = 0; d < tk->n_deletes; d++)
			eq |= tk->deletes[d]->file.content == 2;
		if (tk->all_match && tk->n_deletes == 0) {
			*count += tk->entry->file.record_count;
		} else if (tk->all_match && !eq) {
			/* position deletes only: the count needs the positions, not the rows */
			struct firn_posset ps = { 0 };
			rc = firn_ice__task_positions(tk, &ps, err);
			*count += tk->entry->file.record_count - (int64_t)ps.n;
			firn_posset_free(&ps);
		} else {
			s->plan.tasks[w++] = s->plan.tasks[i];
		}
	}
	if (rc != 0) {
		state_free(s);
		return rc;
	}
	s->plan.n_tasks = w;
	rc = count_read(s, count, err);
	state_free(s);
	return rc;
}
