/* Scans: planning (manifest list → manifests → files, pruned by partition
 * summaries, partition values and column metrics) and reading (row-group
 * pruning, projection by field id, residual filter, limit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firn/parquet.h"
#include "iceberg/ice_batch.h"
#include "iceberg/ice_expr.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_writer.h"
#include "io/io_local.h"

struct task {
	const struct firn_ice_data_file *file;
	bool all_match; /* metrics decide every row: no residual filter */
};

struct plan {
	struct firn_arena arena;
	const struct firn_ice_meta *m;
	const struct ArrowSchema *schema; /* the schema read (borrowed from m) */
	struct firn_expr *filter;          /* bound, or NULL */
	struct task *tasks;
	size_t n_tasks, cap_tasks;
	int64_t files_total, files_pruned, manifests_total, manifests_pruned;
};

static void plan_free(struct plan *p)
{
	firn_free(p->tasks);
	firn_arena_free(&p->arena);
}

static int add_task(struct plan *p, const struct firn_ice_data_file *f, bool all)
{
	if (p->n_tasks == p->cap_tasks) {
		size_t cap = p->cap_tasks ? 2 * p->cap_tasks : 64;
		struct task *t = firn_realloc(p->tasks, cap * sizeof(*t));
		if (!t)
			return FIRN_ENOMEM;
		p->tasks = t;
		p->cap_tasks = cap;
	}
	p->tasks[p->n_tasks++] = (struct task){ f, all };
	return 0;
}

static int64_t kv_get(const struct firn_ice_kv *kv, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (kv[i].id == id)
			return kv[i].value;
	return -1;
}

/* Metrics of a data file for the filter's columns. */
static size_t file_metrics(const struct plan *p, const struct firn_ice_data_file *f,
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

static int plan_scan(struct plan *p, const struct firn_ice_meta *m,
		     const struct firn_ice_snapshot *snap, const char *where,
		     struct firn_error *err)
{
	int rc = 0;
	if (where && *where) {
		FIRN_TRY(firn_ice__expr_parse(where, &p->arena, &p->filter, err));
		FIRN_TRY(firn_ice__expr_bind(p->filter, p->schema, &p->arena, err));
	}
	if (!snap)
		return 0;
	struct firn_ice_manifest_file *mfs;
	size_t n_mfs;
	FIRN_TRY(firn_ice__snapshot_manifests(m, snap, &p->arena, &mfs, &n_mfs, err));
	int32_t *ids = NULL;
	size_t n_ids = 0;
	if (p->filter && firn_ice__expr_field_ids(p->filter, &ids, &n_ids) != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_col_metrics *cols = firn_calloc(n_ids + 64 + 1, sizeof(*cols));
	if (!cols) {
		firn_free(ids);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n_mfs && rc == 0; i++) {
		const struct firn_ice_manifest_file *mf = &mfs[i];
		p->manifests_total++;
		if (mf->content != 0) {
			if (mf->added_files == 0 && mf->existing_files == 0)
				continue;
			rc = firn_error_set(err, FIRN_EUNSUPPORTED,
					    "%s: the table has delete files, which firn does not read yet",
					    mf->path);
			break;
		}
		if (mf->added_files == 0 && mf->existing_files == 0) {
			p->manifests_pruned++;
			continue;
		}
		const struct firn_ice_spec *spec = firn_ice__meta_spec(m, mf->spec_id);
		if (!spec) {
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: unknown partition spec %d", mf->path,
					    mf->spec_id);
			break;
		}
		struct firn_pfield *pf = NULL;
		struct firn_expr *pexpr = NULL;
		if ((rc = firn_ice__spec_resolve(spec, p->schema, &pf, err)) != 0)
			break;
		if (p->filter && spec->n_fields > 0 && spec->n_fields <= 64) {
			rc = firn_ice__expr_project(p->filter, pf, spec->n_fields, &p->arena, &pexpr, err);
			if (rc != 0) {
				firn_free(pf);
				break;
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
			if (firn_ice__expr_eval_metrics(pexpr, &mm) == FIRN_EVAL_NONE) {
				p->manifests_pruned++;
				firn_free(pf);
				continue;
			}
		}
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
			if (add_task(p, &en->file, all) != 0)
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		firn_free(pf);
	}
	firn_free(cols);
	firn_free(ids);
	return rc;
}

/* The schema to read for a selection: the snapshot's own for time travel,
 * the current one otherwise. */
static const struct ArrowSchema *read_schema(const struct firn_ice_meta *m,
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

/* ---- reading ------------------------------------------------------- */

struct scan_state {
	struct plan plan;
	struct ArrowSchema read_proj;   /* top-level columns read (output + filter) */
	int32_t *out_ids;
	size_t n_out;
	int64_t limit, emitted;
	size_t next_task;
	struct firn_parquet_reader *reader;
	struct ArrowArrayStream file_stream;
	struct ArrowSchema file_schema;
	bool file_all;
	struct firn_error err;
	bool count_only;
};

static void close_file(struct scan_state *s)
{
	if (s->file_stream.release)
		s->file_stream.release(&s->file_stream);
	if (s->file_schema.release)
		s->file_schema.release(&s->file_schema);
	firn_parquet_reader_free(s->reader);
	s->reader = NULL;
	memset(&s->file_stream, 0, sizeof(s->file_stream));
	memset(&s->file_schema, 0, sizeof(s->file_schema));
}

static void state_free(struct scan_state *s)
{
	close_file(s);
	if (s->read_proj.release)
		s->read_proj.release(&s->read_proj);
	firn_free(s->out_ids);
	plan_free(&s->plan);
	firn_free(s);
}

/* Row groups of the open file the filter may match. */
static int open_task(struct scan_state *s, const struct task *task)
{
	struct firn_error *err = &s->err;
	const char *path = firn_io__path(task->file->path);
	int rc = firn_parquet_reader_open(&s->reader, path, err);
	if (rc == FIRN_ENOTFOUND)
		return firn_error_set(err, FIRN_ECORRUPT, "%s: data file is missing", task->file->path);
	FIRN_TRY(rc);
	FIRN_TRY(firn_parquet_reader_schema(s->reader, &s->file_schema, err));
	s->file_all = task->all_match;
	int n_rg = firn_parquet_reader_num_row_groups(s->reader);
	int *rgs = firn_calloc((size_t)n_rg + 1, sizeof(int));
	int n_sel = 0;
	if (!rgs)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int n_leaves = firn_parquet_reader_leaf_count(s->reader);
	struct firn_col_metrics *cols = firn_calloc((size_t)n_leaves + 1, sizeof(*cols));
	for (int rg = 0; rg < n_rg; rg++) {
		if (!s->plan.filter || task->all_match || !cols) {
			rgs[n_sel++] = rg;
			continue;
		}
		size_t nc = 0;
		for (int leaf = 0; leaf < n_leaves; leaf++) {
			int32_t id = firn_parquet_reader_leaf_field_id(s->reader, leaf);
			const struct ArrowSchema *node = id >= 0 ? firn_ice__schema_find(s->plan.schema, id, NULL) : NULL;
			struct firn_type t;
			struct firn_parquet_column_stats st;
			if (!node || node->n_children || firn_type_of(node, &t, NULL) != 0 ||
			    firn_parquet_reader_leaf_stats(s->reader, rg, leaf, &st) != 0)
				continue;
			struct firn_col_metrics *c = &cols[nc];
			memset(c, 0, sizeof(*c));
			c->field_id = id;
			c->value_count = -1;
			c->null_count = st.null_count;
			c->nan_count = -1;
			if (st.min && st.min_len >= 0 && firn_ice__parquet_stat_datum(&t, st.min, st.min_len, &c->lower))
				c->has_lower = true;
			if (st.max && st.max_len >= 0 && firn_ice__parquet_stat_datum(&t, st.max, st.max_len, &c->upper))
				c->has_upper = true;
			/* Parquet float bounds may be NaN-polluted by other writers: not trusted */
			if (t.id == FIRN_A_FLOAT || t.id == FIRN_A_DOUBLE)
				c->has_lower = c->has_upper = false;
			nc++;
		}
		struct firn_metrics mm = { firn_parquet_reader_row_group_rows(s->reader, rg), cols, nc };
		if (firn_ice__expr_eval_metrics(s->plan.filter, &mm) != FIRN_EVAL_NONE)
			rgs[n_sel++] = rg;
	}
	firn_free(cols);
	/* project the top-level columns of read_proj the file has */
	int32_t *ids = firn_calloc((size_t)s->read_proj.n_children + 1, sizeof(int32_t));
	int n_ids = 0;
	for (int64_t i = 0; ids && i < s->read_proj.n_children; i++) {
		int32_t id = firn_schema_field_id(s->read_proj.children[i]);
		for (int64_t k = 0; k < s->file_schema.n_children; k++)
			if (firn_schema_field_id(s->file_schema.children[k]) == id)
				ids[n_ids++] = id;
	}
	struct firn_parquet_read_options o = FIRN_PARQUET_READ_OPTIONS_INIT;
	o.n_field_ids = n_ids;
	o.field_ids = ids;
	o.n_row_groups = n_sel;
	o.row_groups = rgs;
	if (n_ids == 0) { /* none of the columns: read one to count rows */
		o.n_field_ids = 0;
	}
	rc = firn_parquet_reader_stream(s->reader, &o, &s->file_stream, err);
	firn_free(ids);
	firn_free(rgs);
	if (rc == 0 && s->file_schema.release) {
		/* the stream's schema is the projection: refresh file_schema */
		s->file_schema.release(&s->file_schema);
		rc = s->file_stream.get_schema(&s->file_stream, &s->file_schema);
		if (rc != 0)
			rc = firn_error_set(err, FIRN_ECORRUPT, "%s: %s", task->file->path,
					    s->file_stream.get_last_error(&s->file_stream));
	}
	return rc;
}

/* Next batch of read_proj rows after the filter; release NULL at the end. */
static int next_filtered(struct scan_state *s, struct ArrowArray *out)
{
	struct firn_error *err = &s->err;
	out->release = NULL;
	for (;;) {
		if (!s->reader) {
			if (s->next_task >= s->plan.n_tasks)
				return 0;
			FIRN_TRY(open_task(s, &s->plan.tasks[s->next_task++]));
		}
		struct ArrowArray raw = { 0 };
		if (s->file_stream.get_next(&s->file_stream, &raw) != 0)
			return firn_error_set(err, FIRN_ECORRUPT, "%s",
					      s->file_stream.get_last_error(&s->file_stream));
		if (!raw.release) {
			close_file(s);
			continue;
		}
		struct ArrowArray fit;
		FIRN_TRY(firn_ice__batch_fit(&s->file_schema, &raw, &s->read_proj, FIRN_MATCH_ID, &fit, err));
		if (!s->plan.filter || s->file_all) {
			*out = fit;
			return 0;
		}
		uint8_t *sel = firn_malloc((size_t)fit.length + 1);
		int64_t *idx = firn_malloc(((size_t)fit.length + 1) * sizeof(int64_t));
		int rc = sel && idx ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		if (rc == 0)
			rc = firn_ice__expr_eval(s->plan.filter, &s->read_proj, &fit, sel, err);
		int64_t n = 0;
		for (int64_t i = 0; rc == 0 && i < fit.length; i++)
			if (sel[i])
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

/* ---- the stream ----------------------------------------------------- */

static int st_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
	struct scan_state *s = st->private_data;
	struct ArrowSchema tmp;
	if (firn_schema_init(&tmp, "+s", "", 0, (int64_t)s->n_out) != 0)
		return ENOMEM;
	for (size_t i = 0; i < s->n_out; i++)
		for (int64_t k = 0; k < s->read_proj.n_children; k++)
			if (firn_schema_field_id(s->read_proj.children[k]) == s->out_ids[i])
				firn_schema_copy(tmp.children[i], s->read_proj.children[k]);
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
	if (firn_ice__batch_select(&s->read_proj, &b, s->out_ids, s->n_out, &tmp, out, &s->err) != 0)
		return EIO;
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

static int start_scan(struct firn_table *t, const char *columns, const char *where,
		      const struct firn_snapshot_sel *sel, struct scan_state **out,
		      struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_snapshot *snap;
	FIRN_TRY(firn_ice__select_snapshot(m, sel, &snap, err));
	struct scan_state *s = firn_calloc(1, sizeof(*s));
	if (!s)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	s->limit = -1;
	s->plan.m = m;
	s->plan.schema = read_schema(m, sel, snap);
	const struct ArrowSchema *schema = s->plan.schema;
	int rc = 0;
	/* output columns */
	s->out_ids = firn_calloc((size_t)schema->n_children + 1, sizeof(int32_t));
	if (!s->out_ids) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	if (columns && *columns) {
		char *list = firn_strdup(columns);
		for (char *tok = strtok(list, ","); tok && rc == 0; tok = strtok(NULL, ",")) {
			while (*tok == ' ')
				tok++;
			size_t l = strlen(tok);
			while (l > 0 && tok[l - 1] == ' ')
				tok[--l] = '\0';
			const struct ArrowSchema *c = NULL;
			for (int64_t i = 0; i < schema->n_children && !c; i++)
				if (strcmp(schema->children[i]->name, tok) == 0)
					c = schema->children[i];
			if (!c)
				c = firn_ice__schema_find_name(schema, tok);
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
	} else {
		for (int64_t i = 0; i < schema->n_children; i++)
			s->out_ids[s->n_out++] = firn_schema_field_id(schema->children[i]);
	}
	if ((rc = plan_scan(&s->plan, m, snap, where, err)) != 0)
		goto fail;
	/* read projection: output columns then filter columns */
	int32_t *fids = NULL;
	size_t n_f = 0;
	if (s->plan.filter && firn_ice__expr_field_ids(s->plan.filter, &fids, &n_f) != 0) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	int32_t *rids = firn_calloc(s->n_out + n_f + 1, sizeof(int32_t));
	size_t n_r = 0;
	for (size_t i = 0; rids && i < s->n_out; i++)
		rids[n_r++] = s->out_ids[i];
	for (size_t i = 0; rids && i < n_f; i++) {
		int32_t top = top_of(schema, fids[i]);
		if (top >= 0 && !has_id(rids, n_r, top))
			rids[n_r++] = top;
	}
	firn_free(fids);
	if (!rids || firn_schema_init(&s->read_proj, "+s", "", 0, (int64_t)n_r) != 0) {
		firn_free(rids);
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n_r; i++)
		for (int64_t k = 0; k < schema->n_children; k++)
			if (firn_schema_field_id(schema->children[k]) == rids[i])
				firn_schema_copy(s->read_proj.children[i], schema->children[k]);
	firn_free(rids);
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
	FIRN_TRY(start_scan(t, opts->columns, opts->where, &opts->sel, &s, err));
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

int firn_table_count(struct firn_table *t, const char *where,
		     const struct firn_snapshot_sel *sel, int64_t *count, struct firn_error *err)
{
	struct scan_state *s;
	*count = 0;
	FIRN_TRY(start_scan(t, NULL, where, sel, &s, err));
	int rc = 0;
	/* files the metrics decide count from metadata; only the rest are read */
	size_t w = 0;
	for (size_t i = 0; i < s->plan.n_tasks; i++) {
		if (s->plan.tasks[i].all_match)
			*count += s->plan.tasks[i].file->record_count;
		else
			s->plan.tasks[w++] = s->plan.tasks[i];
	}
	s->plan.n_tasks = w;
	if (w > 0) {
		/* read only the filter's columns */
		int32_t *fids = NULL;
		size_t n_f = 0;
		firn_ice__expr_field_ids(s->plan.filter, &fids, &n_f);
		struct ArrowSchema proj;
		size_t n_r = 0;
		int32_t *rids = firn_calloc(n_f + 1, sizeof(int32_t));
		for (size_t i = 0; rids && i < n_f; i++) {
			int32_t top = top_of(s->plan.schema, fids[i]);
			if (top >= 0 && !has_id(rids, n_r, top))
				rids[n_r++] = top;
		}
		firn_free(fids);
		if (!rids || firn_schema_init(&proj, "+s", "", 0, (int64_t)n_r) != 0) {
			firn_free(rids);
			state_free(s);
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < n_r; i++)
			for (int64_t k = 0; k < s->plan.schema->n_children; k++)
				if (firn_schema_field_id(s->plan.schema->children[k]) == rids[i])
					firn_schema_copy(proj.children[i], s->plan.schema->children[k]);
		firn_free(rids);
		s->read_proj.release(&s->read_proj);
		s->read_proj = proj;
		for (;;) {
			struct ArrowArray b;
			if ((rc = next_filtered(s, &b)) != 0) {
				firn_error_set(err, rc, "%s", s->err.message);
				break;
			}
			if (!b.release)
				break;
			*count += b.length;
			b.release(&b);
		}
	}
	state_free(s);
	return rc;
}
