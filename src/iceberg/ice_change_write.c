/* The write phase of a row-level change: the rows it adds, the rewrites
 * (copy-on-write), position delete files (v2) or deletion vectors (v3)
 * for merge-on-read, and the manifests that record all of it. Every file
 * written is remembered, for removal when the change does not commit. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "firn/parquet.h"
#include "iceberg/ice_batch.h"
#include "iceberg/ice_change.h"
#include "io/io_local.h"
#include "puffin/puffin.h"

#define POS_FILE_PATH 2147483546
#define POS_POS 2147483545

/* A file this run wrote: removed if the run fails. When it cannot even be
 * remembered, it goes at once (nothing references it yet). */
int firn_ice__run_wrote(struct firn_ice_run *r, const char *path, struct firn_error *err)
{
	char **v = firn_realloc(r->written, (r->n_written + 1) * sizeof(char *));
	if (v)
		r->written = v;
	if (!v || !(v[r->n_written] = firn_strdup(path))) {
		firn_io_delete(path, NULL);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	r->n_written++;
	return 0;
}

int firn_ice__run_remove(struct firn_ice_run *r, const char *path, struct firn_error *err)
{
	if (firn_ice__run_removed(r, path))
		return 0;
	const char **v = firn_realloc(r->removed_paths, (r->n_removed + 1) * sizeof(char *));
	if (!v)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	r->removed_paths = v;
	v[r->n_removed++] = path;
	return 0;
}

bool firn_ice__run_removed(const struct firn_ice_run *r, const char *path)
{
	for (size_t i = 0; i < r->n_removed; i++)
		if (strcmp(r->removed_paths[i], path) == 0)
			return true;
	return false;
}

bool firn_ice__is_dv(const struct firn_ice_data_file *f)
{
	return f->content == 1 && f->format && strcasecmp(f->format, "puffin") == 0;
}

int firn_ice__run_writer(struct firn_ice_run *r, struct firn_error *err)
{
	return r->writer ? 0 : firn_ice__writer_open(&r->writer, r->m, &r->arena, err);
}

/* The rows of a batch being rewritten: idx (room for b->length) gets
 * the live rows that are (matched) or are not (!matched) in tc->matched. */
static int64_t pick_rows(const struct firn_ice_touched *tc, const struct ArrowArray *b,
			 const uint8_t *live, int64_t first, bool matched, int64_t *idx)
{
	int64_t n = 0;
	for (int64_t i = 0; i < b->length; i++)
		if (live[i] && firn_posset_contains(&tc->matched, first + i) == matched)
			idx[n++] = i;
	return n;
}

/* Update: rows idx[0..n) of b with their new values, to the writer. */
static int write_updated(struct firn_ice_run *r, const struct ArrowSchema *schema,
			 const struct ArrowArray *b, const int64_t *idx, int64_t n,
			 struct firn_error *err)
{
	struct ArrowArray upd;
	int rc = firn_ice__batch_take(schema, b, idx, n, &upd, err);
	if (rc == 0)
		rc = firn_ice__set_apply(r->chg->set, schema, &upd, err);
	if (rc == 0)
		rc = firn_ice__writer_write(r->writer, &upd, err);
	if (upd.release)
		upd.release(&upd);
	r->updated_rows += rc == 0 ? n : 0;
	return rc;
}

/* The rows a rewrite keeps, idx[0..n) of b: to the writer, or held until
 * every input is read when compaction sorts them. */
static int write_kept(struct firn_ice_run *r, const struct ArrowSchema *schema,
		      const struct ArrowArray *b, const int64_t *idx, int64_t n,
		      struct firn_error *err)
{
	if (n == b->length && !r->sorting)
		return firn_ice__writer_write(r->writer, b, err);
	struct ArrowArray part;
	FIRN_TRY(firn_ice__batch_take(schema, b, idx, n, &part, err));
	if (!r->sorting) {
		int rc = firn_ice__writer_write(r->writer, &part, err);
		part.release(&part);
		return rc;
	}
	struct ArrowArray *v = firn_realloc(r->held, (r->n_held + 1) * sizeof(*v));
	if (!v) {
		part.release(&part);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	r->held = v;
	v[r->n_held++] = part;
	return 0;
}

/* Rewrites a data file without its deleted and matched rows (only_updated:
 * writes nothing but the updated versions of the matched rows, for a
 * merge-on-read update). With an update, the matched rows are written
 * with their new values. */
static int rewrite(struct firn_ice_run *r, struct firn_ice_touched *tc, bool only_updated,
		   struct firn_error *err)
{
	const struct ArrowSchema *schema = &firn_ice__meta_current_schema(r->m)->arrow;
	FIRN_TRY(firn_ice__run_writer(r, err));
	struct firn_ice_file_reader *fr = NULL;
	FIRN_TRY(firn_ice__file_open(&r->plan, tc->task, schema, true, &fr, err));
	int rc = 0;
	int64_t *idx = NULL;
	size_t cap = 0;
	while (rc == 0) {
		struct ArrowArray b;
		const uint8_t *live;
		int64_t first, n;
		if ((rc = firn_ice__file_next(fr, &b, &live, &first, err)) != 0 || !b.release)
			break;
		if ((size_t)b.length + 1 > cap) {
			int64_t *v = firn_realloc(idx, ((size_t)b.length + 1) * sizeof(int64_t));
			if (!v) {
				b.release(&b);
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			idx = v;
			cap = (size_t)b.length + 1;
		}
		if (r->chg && r->chg->set && (n = pick_rows(tc, &b, live, first, true, idx)) > 0)
			rc = write_updated(r, schema, &b, idx, n, err);
		if (rc == 0 && !only_updated && (n = pick_rows(tc, &b, live, first, false, idx)) > 0)
			rc = write_kept(r, schema, &b, idx, n, err);
		b.release(&b);
	}
	firn_free(idx);
	firn_ice__file_close(fr);
	return rc;
}

/* Schema of position delete files (spec §6). */
static int pos_schema(struct ArrowSchema *s)
{
	FIRN_TRY(firn_schema_init(s, "+s", "", 0, 2));
	FIRN_TRY(firn_schema_init(s->children[0], "u", "file_path", 0, 0));
	FIRN_TRY(firn_schema_set_field_id(s->children[0], POS_FILE_PATH));
	FIRN_TRY(firn_schema_init(s->children[1], "l", "pos", 0, 0));
	return firn_schema_set_field_id(s->children[1], POS_POS);
}

static struct firn_ice_entry *new_delete_entry(struct firn_ice_run *r, struct firn_error *err)
{
	struct firn_ice_entry *v = firn_realloc(r->added_deletes, (r->n_added_deletes + 1) * sizeof(*v));
	if (!v) {
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
		return NULL;
	}
	r->added_deletes = v;
	struct firn_ice_entry *e = &v[r->n_added_deletes++];
	memset(e, 0, sizeof(*e));
	e->status = FIRN_ICE_ADDED;
	return e;
}

/* v2: a position delete file for one data file. */
static int write_position_deletes(struct firn_ice_run *r, struct firn_ice_touched *tc, struct firn_error *err)
{
	const struct firn_ice_data_file *df = &tc->task->entry->file;
	struct ArrowSchema s = { 0 };
	if (pos_schema(&s) != 0) {
		if (s.release)
			s.release(&s);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	char *path = firn_ice__new_path(r->m, "data", "00000-deletes-", ".parquet");
	struct firn_parquet_writer *w = NULL;
	struct firn_builder b;
	int rc = path ? firn_ice__run_wrote(r, path, err) : FIRN_ENOMEM;
	if (rc == 0)
		rc = firn_builder_init(&b, &s, err);
	else
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc != 0)
		goto done;
	size_t plen = strlen(df->path);
	for (size_t i = 0; rc == 0 && i < tc->matched.n; i++) {
		rc = firn_builder_append_struct(&b);
		if (rc == 0)
			rc = firn_builder_append_bytes(&b.children[0], df->path, plen);
		if (rc == 0)
			rc = firn_builder_append_i64(&b.children[1], tc->matched.v[i]);
	}
	if (rc != 0) /* the builders' bare code */
		rc = firn_error_set(err, rc, "%s", rc == FIRN_ENOMEM ? "out of memory" : "cannot build the deletes");
	struct ArrowArray batch = { 0 };
	if (rc == 0)
		rc = firn_builder_finish(&b, &batch, err);
	firn_builder_free(&b);
	struct firn_parquet_write_options o = FIRN_PARQUET_WRITE_OPTIONS_INIT;
	if (rc == 0)
		rc = firn_parquet_writer_open(&w, path, &s, &o, err);
	if (rc == 0)
		rc = firn_parquet_writer_write(w, &batch, err);
	if (rc == 0)
		rc = firn_parquet_writer_close(w, err);
	if (rc == 0)
		rc = firn_io_sync_dir(path, err);
	if (batch.release)
		batch.release(&batch);
	if (rc == 0) {
		struct firn_ice_entry *e = new_delete_entry(r, err);
		if (!e) {
			rc = FIRN_ENOMEM;
			goto done;
		}
		struct firn_ice_data_file *f = &e->file;
		f->content = 1;
		f->path = firn_arena_strdup(&r->arena, path);
		f->format = "PARQUET";
		if (!f->path) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			goto done;
		}
		f->spec_id = df->spec_id;
		f->partition = df->partition;
		f->n_partition = df->n_partition;
		f->record_count = (int64_t)tc->matched.n;
		f->file_size = firn_parquet_writer_bytes(w); /* closed: the whole file */
		f->referenced_data_file = df->path;
		const struct firn_parquet_column_stats *st;
		int n;
		firn_parquet_writer_stats(w, &st, &n);
		rc = firn_ice__file_metrics(&s, st, n, &r->arena, f, err);
	}
done:
	firn_parquet_writer_free(w);
	firn_free(path);
	if (s.release)
		s.release(&s);
	return rc;
}

/* v3: one Puffin file with a DV per touched data file (merged with the
 * file's previous DV and position deletes). */
static int write_dvs(struct firn_ice_run *r, struct firn_error *err)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_touched; i++)
		n += !r->touched[i].cow && !r->touched[i].drop && r->touched[i].matched.n > 0;
	if (n == 0)
		return 0;
	struct firn_puffin_blob *blobs = firn_calloc(n, sizeof(*blobs));
	struct firn_posset *sets = firn_calloc(n, sizeof(*sets));
	struct firn_ice_touched **who = firn_calloc(n, sizeof(*who));
	char *path = firn_ice__new_path(r->m, "data", "00000-dv-", ".puffin");
	int rc = blobs && sets && who && path ? firn_ice__run_wrote(r, path, err) : FIRN_ENOMEM;
	if (rc != 0) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto done;
	}
	size_t k = 0;
	for (size_t i = 0; rc == 0 && i < r->n_touched; i++) {
		struct firn_ice_touched *tc = &r->touched[i];
		if (tc->cow || tc->drop || tc->matched.n == 0)
			continue;
		rc = firn_ice__task_positions(tc->task, &sets[k], err);
		if (rc == 0 && firn_posset_union(&sets[k], &tc->matched) != 0)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		blobs[k].referenced_data_file = tc->task->entry->file.path;
		blobs[k].positions = &sets[k];
		who[k] = tc;
		k++;
	}
	int64_t size = 0;
	if (rc == 0)
		rc = firn_puffin_write_dvs(path, blobs, n, &size, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct firn_ice_entry *e = new_delete_entry(r, err);
		if (!e) {
			rc = FIRN_ENOMEM;
			break;
		}
		const struct firn_ice_data_file *df = &who[i]->task->entry->file;
		struct firn_ice_data_file *f = &e->file;
		f->content = 1;
		f->path = firn_arena_strdup(&r->arena, path);
		f->format = "PUFFIN";
		if (!f->path) {
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			break;
		}
		f->spec_id = df->spec_id;
		f->partition = df->partition;
		f->n_partition = df->n_partition;
		f->record_count = (int64_t)sets[i].n;
		f->file_size = size;
		f->referenced_data_file = df->path;
		f->has_content_offset = true;
		f->content_offset = blobs[i].offset;
		f->content_size = blobs[i].length;
		/* the previous position files of this data file are merged into
		 * the new DV (its previous DV is retired by referenced data file
		 * when the manifests are rewritten: a Puffin file holds many) */
		for (size_t d = 0; rc == 0 && d < who[i]->task->n_deletes; d++) {
			const struct firn_ice_data_file *old = &who[i]->task->deletes[d]->file;
			if (old->content == 1 && !firn_ice__is_dv(old) && old->referenced_data_file &&
			    strcmp(old->referenced_data_file, df->path) == 0)
				rc = firn_ice__run_remove(r, old->path, err);
		}
	}
done:
	for (size_t i = 0; sets && i < n; i++)
		firn_posset_free(&sets[i]);
	firn_free(sets);
	firn_free(blobs);
	firn_free(who);
	firn_free(path);
	return rc;
}

/* A manifest rewritten: entries whose file is removed become DELETED,
 * other live entries EXISTING. DVs are matched by referenced data file. */
static int rewrite_manifest(struct firn_ice_run *r, const struct firn_ice_manifest_file *mf,
			    const char *const *dv_targets, size_t n_dv, bool *changed,
			    struct firn_error *err)
{
	struct firn_ice_entry *es;
	size_t n;
	*changed = false;
	FIRN_TRY(firn_ice__manifest_read(mf, r->m, &r->arena, &es, &n, err));
	struct firn_ice_entry *out = firn_calloc(n + 1, sizeof(*out));
	if (!out)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (es[i].status == FIRN_ICE_DELETED)
			continue; /* only the snapshot that deleted a file lists it */
		out[k] = es[i];
		bool gone = firn_ice__run_removed(r, es[i].file.path);
		if (!gone && firn_ice__is_dv(&es[i].file))
			for (size_t d = 0; d < n_dv && !gone; d++)
				gone = strcmp(es[i].file.referenced_data_file, dv_targets[d]) == 0;
		if (!gone && es[i].file.content == 1 && es[i].file.referenced_data_file)
			gone = firn_ice__run_removed(r, es[i].file.referenced_data_file); /* its data file is gone */
		if (gone) {
			out[k].status = FIRN_ICE_DELETED;
			out[k].snapshot_id = r->snap_id;
			*changed = true;
		} else {
			out[k].status = FIRN_ICE_EXISTING;
		}
		out[k].explicit_sequence = true;
		k++;
	}
	int rc = 0;
	if (*changed) {
		const struct firn_ice_spec *spec = firn_ice__meta_spec(r->m, mf->spec_id);
		char *path = firn_ice__new_path(r->m, "metadata", "", "-m1.avro");
		rc = path ? firn_ice__run_wrote(r, path, err) : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		struct firn_ice_manifest_file nm;
		if (rc == 0)
			rc = firn_ice__manifest_write(path, r->m, spec, mf->content, out, k,
						      r->snap_id, &r->arena, &nm, err);
		if (rc == 0 && !(nm.path = firn_arena_strdup(&r->arena, path)))
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		if (rc == 0) {
			nm.content = mf->content;
			r->new_manifests[r->n_new_manifests++] = nm;
		}
		firn_free(path);
	}
	firn_free(out);
	return rc;
}

/* New manifest(s) of added entries, one per spec. */
static int add_manifests(struct firn_ice_run *r, struct firn_ice_entry *es, size_t n, int content,
			 struct firn_error *err)
{
	bool *done = firn_calloc(n + 1, 1);
	struct firn_ice_entry *group = firn_calloc(n + 1, sizeof(*group));
	int rc = done && group ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (done[i])
			continue;
		size_t g = 0;
		for (size_t j = i; j < n; j++)
			if (!done[j] && es[j].file.spec_id == es[i].file.spec_id) {
				group[g++] = es[j];
				done[j] = true;
			}
		const struct firn_ice_spec *spec = firn_ice__meta_spec(r->m, es[i].file.spec_id);
		char *path = firn_ice__new_path(r->m, "metadata", "", content ? "-d0.avro" : "-m0.avro");
		rc = path ? firn_ice__run_wrote(r, path, err) : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		struct firn_ice_manifest_file nm;
		if (rc == 0)
			rc = firn_ice__manifest_write(path, r->m, spec, content, group, g,
						      r->snap_id, &r->arena, &nm, err);
		if (rc == 0 && !(nm.path = firn_arena_strdup(&r->arena, path)))
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		if (rc == 0)
			r->new_manifests[r->n_new_manifests++] = nm;
		firn_free(path);
	}
	firn_free(done);
	firn_free(group);
	return rc;
}

/* One touched file: removed or rewritten, its updated rows, its deletes. */
static int write_touched(struct firn_ice_run *r, struct firn_ice_touched *tc, struct firn_error *err)
{
	struct firn_delete_info *info = &r->info;
	bool mor = !tc->cow && !tc->drop;
	if (!mor) {
		FIRN_TRY(firn_ice__run_remove(r, tc->task->entry->file.path, err));
		info->rows += tc->drop ? tc->live_before : (int64_t)tc->matched.n;
		info->files_rewritten += tc->cow;
		info->files_removed += tc->drop;
	}
	if (tc->cow)
		return rewrite(r, tc, false, err);
	if (!mor)
		return 0;
	if (r->chg && r->chg->set)
		FIRN_TRY(rewrite(r, tc, true, err)); /* merge-on-read update: the new rows */
	if (r->m->format_version < 3)
		FIRN_TRY(write_position_deletes(r, tc, err)); /* v3: write_dvs, for all at once */
	info->rows += (int64_t)tc->matched.n;
	info->delete_files++;
	return 0;
}

int firn_ice__run_write_files(struct firn_ice_run *r, struct firn_error *err)
{
	if (r->chg && r->chg->n_extra) { /* merge / overwrite: the new rows */
		FIRN_TRY(firn_ice__run_writer(r, err));
		for (size_t i = 0; i < r->chg->n_extra; i++)
			FIRN_TRY(firn_ice__writer_write(r->writer, &r->chg->extra[i], err));
	}
	struct firn_progress pg = { "rewrite", 0, 0, 0, 0, 0, 0 };
	for (size_t i = 0; i < r->n_touched; i++)
		if (r->touched[i].cow) {
			pg.files_total++;
			pg.rows_total += r->touched[i].task->entry->file.record_count;
			pg.bytes_total += r->touched[i].task->entry->file.file_size;
		}
	for (size_t i = 0; i < r->n_touched; i++) {
		FIRN_TRY(write_touched(r, &r->touched[i], err));
		if (r->touched[i].cow) { /* progress: after each file rewritten */
			pg.files++;
			pg.rows += r->touched[i].task->entry->file.record_count;
			pg.bytes += r->touched[i].task->entry->file.file_size;
			firn_ice__progress(r->t, &pg);
		}
	}
	if (r->m->format_version >= 3)
		FIRN_TRY(write_dvs(r, err));
	return 0;
}

/* The plan's manifests: rewritten where they list a removed file, kept
 * (r->keep) where they do not. */
static int rewrite_manifests(struct firn_ice_run *r, struct firn_error *err)
{
	r->keep = firn_calloc(r->plan.n_manifests + 1, sizeof(*r->keep));
	const char **dv_targets = firn_calloc(r->n_added_deletes + 1, sizeof(char *));
	size_t n_dv = 0;
	int rc = r->keep && dv_targets ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < r->n_added_deletes; i++)
		if (firn_ice__is_dv(&r->added_deletes[i].file))
			dv_targets[n_dv++] = r->added_deletes[i].file.referenced_data_file;
	for (size_t i = 0; rc == 0 && i < r->plan.n_manifests; i++) {
		const struct firn_ice_manifest_file *mf = &r->plan.manifests[i];
		bool changed = false;
		if (mf->added_files == 0 && mf->existing_files == 0)
			continue;
		rc = rewrite_manifest(r, mf, dv_targets, n_dv, &changed, err);
		if (rc == 0 && !changed)
			r->keep[r->n_keep++] = mf;
	}
	firn_free(dv_targets);
	return rc;
}

int firn_ice__run_write_manifests(struct firn_ice_run *r, struct firn_error *err)
{
	if (r->updated_rows)
		r->info.rows = r->updated_rows;
	if (r->writer) {
		struct firn_ice_entry *es;
		size_t n;
		FIRN_TRY(firn_ice__writer_finish(r->writer, &es, &n, err));
		r->added_data = es;
		r->n_added_data = n;
		for (size_t i = 0; i < n; i++)
			FIRN_TRY(firn_ice__run_wrote(r, es[i].file.path, err));
	}
	r->new_manifests = firn_calloc(r->plan.n_manifests + 8 + r->n_added_deletes + r->n_added_data,
				       sizeof(*r->new_manifests));
	if (!r->new_manifests)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	FIRN_TRY(rewrite_manifests(r, err));
	if (r->n_added_data)
		FIRN_TRY(add_manifests(r, r->added_data, r->n_added_data, 0, err));
	if (r->n_added_deletes)
		FIRN_TRY(add_manifests(r, r->added_deletes, r->n_added_deletes, 1, err));
	firn_io__crash_point("after-manifest");
	return 0;
}

int firn_ice__run_write(struct firn_ice_run *r, struct firn_error *err)
{
	FIRN_TRY(firn_ice__run_write_files(r, err));
	return firn_ice__run_write_manifests(r, err);
}
