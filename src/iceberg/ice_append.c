/* firn append: an Arrow stream → data files → one append snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firn/avro.h"
#include "iceberg/ice_batch.h"
#include "iceberg/ice_merge_manifests.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_update.h"
#include "iceberg/ice_writer.h"
#include "io/io_local.h"
#include "util/parallel.h"

struct append_ctx {
	struct firn_ice_manifest_file manifest; /* the new data files' manifest */
	int32_t schema_id, spec_id;
	int64_t added_files, added_records;
	int64_t snapshot_id;
	struct firn_arena *arena;
	char **lists; /* the manifest list of every attempt (the last one commits) */
	size_t n_lists;
	char **merged; /* the merged manifests of every attempt */
	size_t n_merged;
	size_t last_merged;  /* where the last attempt's are in merged */
	bool fresh_merged;   /* the last attempt merged the new manifest into another */
};

/* Removes the merged manifests of the attempts, but the last one's when
 * it committed; and the new manifest when that one merged it. */
static void remove_merged(struct append_ctx *c, bool committed, const char *fresh)
{
	for (size_t i = 0; i < c->n_merged; i++) {
		if (!committed || i < c->last_merged)
			firn_io_delete(c->merged[i], NULL);
		firn_free(c->merged[i]);
	}
	if (committed && c->fresh_merged && fresh)
		firn_io_delete(fresh, NULL);
	firn_free(c->merged);
	c->merged = NULL;
	c->n_merged = 0;
}

/* Java's manifest counts of a snapshot (SnapshotProducer), in its summary. */
static void put_counts(json_t *summary, const struct firn_ice_merged *mg)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)mg->created);
	json_object_set_new(summary, "manifests-created", json_string(buf));
	snprintf(buf, sizeof(buf), "%lld", (long long)mg->kept);
	json_object_set_new(summary, "manifests-kept", json_string(buf));
	snprintf(buf, sizeof(buf), "%lld", (long long)mg->replaced);
	json_object_set_new(summary, "manifests-replaced", json_string(buf));
}

/* Removes the manifest lists of the attempts, but the `keep` last ones. */
static void remove_lists(struct append_ctx *c, size_t keep)
{
	for (size_t i = 0; i + keep < c->n_lists; i++)
		firn_io_delete(c->lists[i], NULL);
	firn_free(c->lists);
	c->lists = NULL;
	c->n_lists = 0;
}

static int remember_list(struct append_ctx *c, const char *list, struct firn_error *err)
{
	char **v = firn_realloc(c->lists, (c->n_lists + 1) * sizeof(*v));
	if (!v || !(v[c->n_lists] = firn_arena_strdup(c->arena, list))) {
		if (v)
			c->lists = v;
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	c->lists = v;
	c->n_lists++;
	return 0;
}

/* The change of one attempt: a manifest list of the new manifest and the
 * current snapshot's, merged as Java's merge append merges them
 * (ice_merge_manifests.h), and the snapshot; the data files were written
 * for this schema and spec, which must still be the table's. */
static int append_change(struct firn_table *t, int attempt, void *vctx, struct firn_ice_change *out,
			 struct firn_error *err)
{
	struct append_ctx *c = vctx;
	const struct firn_ice_meta *m = t->meta;
	if (m->current_schema_id != c->schema_id || m->default_spec_id != c->spec_id)
		return firn_error_set(err, FIRN_ECONFLICT,
				      "the table's schema or partition spec changed during the append");
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_current_schema_id(c->schema_id), err));
	FIRN_TRY(firn_ice__change_require(out, firn_ice__req_assert_default_spec_id(c->spec_id), err));
	const char *branch = firn_ice__write_branch(t);
	const struct firn_ice_snapshot *parent;
	FIRN_TRY(firn_ice__branch_head(m, branch, &parent, err));
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *old = NULL;
	size_t n_old = 0;
	int rc = 0;
	if (parent && (rc = firn_ice__snapshot_manifests(m, parent, &a, &old, &n_old, err)) != 0) {
		firn_arena_free(&a);
		return rc;
	}
	int64_t seq = m->last_sequence_number + 1;
	int64_t snap_id = firn_ice__new_snapshot_id(m);
	struct firn_ice_manifest_file fresh = c->manifest; /* a copy: sequence numbers still -1 */
	fresh.added_snapshot_id = snap_id;
	struct firn_ice_merged mg;
	c->last_merged = c->n_merged;
	rc = firn_ice__merge_append(m, snap_id, &fresh, old, n_old, &a, &mg, &c->merged, &c->n_merged,
				    err);
	c->fresh_merged = rc == 0 && mg.fresh_merged;
	if (rc != 0) {
		firn_arena_free(&a);
		return rc;
	}
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "snap-%lld-%d-", (long long)snap_id, attempt + 1);
	char *list = firn_ice__new_path(m, "metadata", prefix, ".avro");
	int64_t next_row_id = m->next_row_id, first_row_id = m->next_row_id;
	if (!list)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__manifest_list_write(list, m, snap_id, parent != NULL,
						   parent ? parent->snapshot_id : 0, seq, mg.v, mg.n,
						   &next_row_id, err);
	if (rc == 0)
		firn_io__crash_point("after-manifest-list");
	bool remembered = rc == 0 && (rc = remember_list(c, list, err)) == 0; /* removed by the caller */
	if (rc == 0) {
		json_t *summary = firn_ice__summary(parent, "append", &c->manifest, 1);
		if (summary)
			put_counts(summary, &mg);
		rc = firn_ice__snapshot_change(m, branch, snap_id, parent, seq, list, summary, first_row_id,
					       next_row_id - first_row_id, out, err);
		c->snapshot_id = snap_id;
	}
	if (rc != 0 && list && !remembered)
		firn_io_delete(list, NULL);
	firn_free(list);
	firn_arena_free(&a);
	return rc;
}

/* A get_next failure of a stream: its errno-style code as ours. */
static int stream_error(struct ArrowArrayStream *in, int e, struct firn_error *err)
{
	const char *m = in->get_last_error ? in->get_last_error(in) : NULL;
	int code = e == ENOMEM ? FIRN_ENOMEM : e == EIO ? FIRN_EIO : e == ENOENT ? FIRN_ENOTFOUND
		 : e == ENOTSUP ? FIRN_EUNSUPPORTED : e == EBADMSG ? FIRN_ECORRUPT : FIRN_EINVAL;
	return firn_error_set(err, code, "%s", m ? m : strerror(e));
}

/* One step of the append's pipeline: the current batch written while the
 * next one is read (decoded), the two on different threads when there are. */
struct pipe_step {
	struct firn_ice_writer *w;
	const struct ArrowArray *cur;
	int rc;
	struct firn_error err;
	struct ArrowArrayStream *in;
	struct ArrowArray next;
	int e;
};

static void pipe_run(void *arg, size_t i, int slot)
{
	(void)slot;
	struct pipe_step *p = arg;
	if (i == 0)
		p->rc = firn_ice__writer_write(p->w, p->cur, &p->err);
	else
		p->e = p->in->get_next(p->in, &p->next);
}

/* Writes the batches of in, fitted to the table's schema by name, to w.
 * Batch n is written while batch n + 1 is read: the writer's result is the
 * same as one after the other (batches reach it in order). */
static int write_stream(struct firn_ice_writer *w, const struct ArrowSchema *schema,
			struct ArrowArrayStream *in, const struct firn_append_options *opts,
			struct firn_error *err)
{
	struct firn_ice_fit_options fo = { opts && opts->truncate_timestamps, 0 };
	struct ArrowSchema ins = { 0 };
	int e = in->get_schema(in, &ins), rc = 0;
	if (e != 0)
		return stream_error(in, e, err);
	struct ArrowArray b = { 0 };
	if ((e = in->get_next(in, &b)) != 0)
		rc = stream_error(in, e, err);
	while (rc == 0 && b.release) {
		struct ArrowArray fit;
		int64_t len = b.length;
		if ((rc = firn_ice__batch_fit_input(&ins, &b, schema, &fo, &fit, err)) != 0)
			break;
		fo.first_row += len;
		struct pipe_step p = { 0 };
		p.w = w;
		p.cur = &fit;
		p.in = in;
		firn_par__for(2, 2, pipe_run, &p);
		if (fit.release)
			fit.release(&fit);
		/* b was consumed by the fit; the next batch, unless reading failed */
		b = p.e == 0 ? p.next : (struct ArrowArray){ 0 };
		if (p.rc != 0) {
			if (err)
				*err = p.err;
			rc = p.rc;
		} else if (p.e != 0) {
			rc = stream_error(in, p.e, err);
		}
	}
	if (b.release)
		b.release(&b);
	ins.release(&ins);
	return rc;
}

/* Writes the manifest of entries (ADDED data files of the current schema
 * and default spec, in arena) and commits it as one append snapshot. On a
 * failure that surely did not commit, the new manifest goes, and the data
 * files too when drop_files (they are this call's own). */
static int commit_entries(struct firn_table *t, struct firn_ice_entry *entries, size_t n_entries,
			  struct firn_arena *arena, bool drop_files, struct firn_commit_info *info,
			  struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	struct append_ctx ctx = { 0 };
	ctx.schema_id = m->current_schema_id;
	ctx.spec_id = m->default_spec_id;
	ctx.arena = arena;
	for (size_t i = 0; i < n_entries; i++) {
		ctx.added_files++;
		ctx.added_records += entries[i].file.record_count;
	}
	const struct firn_ice_spec *spec = firn_ice__meta_spec(m, m->default_spec_id);
	char *mpath = firn_ice__new_path(m, "metadata", "", "-m0.avro");
	int rc = mpath ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__manifest_write(mpath, m, spec, 0, entries, n_entries, 0, arena,
					      &ctx.manifest, err);
	int attempts = 0;
	if (rc == 0) {
		ctx.manifest.path = firn_arena_strdup(arena, mpath);
		firn_io__crash_point("after-manifest");
		rc = firn_ice__commit_change(t, append_change, &ctx, &attempts, err);
	}
	if (rc == 0 && info) {
		info->snapshot_id = ctx.snapshot_id;
		info->added_records = ctx.added_records;
		info->added_files = ctx.added_files;
		info->attempts = attempts;
	}
	/* nothing references the new files unless a commit may have landed */
	if (rc == 0) {
		remove_lists(&ctx, 1); /* the lists of the attempts that lost */
		remove_merged(&ctx, true, mpath);
	} else if (rc != FIRN_EIO || firn_ice__commit_surely_failed(t)) {
		remove_lists(&ctx, 0);
		remove_merged(&ctx, false, NULL);
		if (mpath)
			firn_io_delete(mpath, NULL);
		for (size_t i = 0; drop_files && i < n_entries; i++)
			firn_io_delete(entries[i].file.path, NULL);
	}
	firn_free(ctx.lists);
	for (size_t i = 0; i < ctx.n_merged; i++) /* kept: the commit may have landed */
		firn_free(ctx.merged[i]);
	firn_free(ctx.merged);
	firn_free(mpath);
	return rc;
}

/* Writes the stream as data files (nothing committed): *entries from w. */
static int write_files(struct firn_table *t, struct ArrowArrayStream *in,
		       const struct firn_append_options *opts, struct firn_arena *arena,
		       struct firn_ice_writer **w, struct firn_ice_entry **entries, size_t *n,
		       struct firn_error *err)
{
	const struct firn_ice_meta *m = t->meta;
	const struct firn_ice_schema *schema = firn_ice__meta_current_schema(m);
	int rc = m->format_version < 2
		 ? firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn")
		 : firn_ice__writer_open(w, m, arena, err);
	if (rc == 0)
		rc = write_stream(*w, &schema->arrow, in, opts, err);
	if (in->release)
		in->release(in);
	if (rc == 0)
		rc = firn_ice__writer_finish(*w, entries, n, err);
	return rc;
}

int firn_table_append_stream(struct firn_table *t, struct ArrowArrayStream *in,
			     const struct firn_append_options *opts, struct firn_commit_info *info,
			     struct firn_error *err)
{
	struct firn_arena arena = { 0 };
	struct firn_ice_writer *w = NULL;
	struct firn_ice_entry *entries = NULL;
	size_t n_entries = 0;
	if (info)
		memset(info, 0, sizeof(*info));
	int rc = write_files(t, in, opts, &arena, &w, &entries, &n_entries, err);
	if (rc == 0 && n_entries > 0) /* nothing to add: no snapshot */
		rc = commit_entries(t, entries, n_entries, &arena, true, info, err);
	firn_ice__writer_free(w);
	firn_arena_free(&arena);
	return rc;
}

/* ---- staged appends ----------------------------------------------------- */

int firn_table_stage_append(struct firn_table *t, struct ArrowArrayStream *in,
			    const struct firn_append_options *opts, char **staged,
			    struct firn_commit_info *info, struct firn_error *err)
{
	struct firn_arena arena = { 0 };
	struct firn_ice_writer *w = NULL;
	struct firn_ice_entry *entries = NULL;
	size_t n_entries = 0;
	const struct firn_ice_meta *m = t->meta;
	*staged = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	int rc = write_files(t, in, opts, &arena, &w, &entries, &n_entries, err);
	char *mpath = NULL;
	if (rc == 0 && !(mpath = firn_ice__new_path(m, "metadata", "staged-", "-m0.avro")))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct firn_ice_manifest_file mf;
	if (rc == 0)
		rc = firn_ice__manifest_write(mpath, m, firn_ice__meta_spec(m, m->default_spec_id), 0,
					      entries, n_entries, 0, &arena, &mf, err);
	if (rc != 0) {
		for (size_t i = 0; i < n_entries; i++)
			firn_io_delete(entries[i].file.path, NULL);
		firn_free(mpath);
	} else {
		*staged = mpath;
		for (size_t i = 0; info && i < n_entries; i++) {
			info->added_files++;
			info->added_records += entries[i].file.record_count;
		}
	}
	firn_ice__writer_free(w);
	firn_arena_free(&arena);
	return rc;
}

/* The spec and schema a staged manifest was written for must still be the
 * table's defaults. */
static int staged_header(const struct firn_ice_meta *m, const char *path, struct firn_error *err)
{
	struct firn_avro_reader *r = NULL;
	FIRN_TRY(firn_avro_reader_open(&r, path, err));
	const char *spec = firn_avro_reader_meta(r, "partition-spec-id", NULL);
	const char *schema = firn_avro_reader_meta(r, "schema", NULL);
	json_t *sj = schema ? json_loads(schema, 0, NULL) : NULL;
	json_t *sid = json_object_get(sj, "schema-id");
	int rc = 0;
	if (!spec || !json_is_integer(sid))
		rc = firn_error_set(err, FIRN_EINVAL, "%s: not a manifest firn staged", path);
	else if (atoi(spec) != m->default_spec_id || json_integer_value(sid) != m->current_schema_id)
		rc = firn_error_set(err, FIRN_ECONFLICT,
				    "%s: staged for schema %lld and partition spec %s, but the table's are "
				    "now %d and %d", path, (long long)json_integer_value(sid), spec,
				    (int)m->current_schema_id, (int)m->default_spec_id);
	json_decref(sj);
	firn_avro_reader_free(r);
	return rc;
}

/* Reads the ADDED data entries of staged manifest `path`, appending them
 * to *all (growable, in arena). Only the table's own files: the manifest
 * under its metadata folder, the data files under its data folder. */
static int read_staged(const struct firn_ice_meta *m, const char *path, struct firn_arena *arena,
		       struct firn_ice_entry **all, size_t *n_all, size_t *cap, struct firn_error *err)
{
	char *norm = firn_io__normalize(path);
	struct firn_buf md = { 0 }, dd = { 0 };
	int rc = norm && firn_buf_printf(&md, "%s/metadata", m->location) == 0 &&
			 firn_buf_printf(&dd, "%s/data", m->location) == 0 && firn_buf_cstr(&md) == 0 &&
			 firn_buf_cstr(&dd) == 0
		 ? 0 : firn_error_set(err, FIRN_ENOMEM, "out of memory");
	char *mdir = rc == 0 ? firn_io__normalize((const char *)md.data) : NULL;
	char *ddir = rc == 0 ? firn_io__normalize((const char *)dd.data) : NULL;
	if (rc == 0 && (!mdir || !ddir))
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	const char *base = norm ? strrchr(norm, '/') : NULL;
	if (rc == 0 && (!firn_io__within(norm, mdir) || !base || strncmp(base, "/staged-", 8) != 0))
		rc = firn_error_set(err, FIRN_EINVAL, "%s: not a manifest staged for this table (%s/staged-*)",
				    path, mdir);
	if (rc == 0)
		rc = staged_header(m, path, err);
	struct firn_ice_manifest_file mf = { .path = path, .spec_id = m->default_spec_id,
					     .sequence_number = -1, .min_sequence_number = -1 };
	struct firn_ice_entry *es = NULL;
	size_t n = 0;
	if (rc == 0)
		rc = firn_ice__manifest_read(&mf, m, arena, &es, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *f = firn_io__normalize(es[i].file.path);
		if (!f)
			rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		else if (es[i].status != FIRN_ICE_ADDED || es[i].file.content != 0 || es[i].explicit_sequence)
			rc = firn_error_set(err, FIRN_EINVAL, "%s: an entry that is not an added data file", path);
		else if (!firn_io__within(f, ddir))
			rc = firn_error_set(err, FIRN_EINVAL, "%s: data file %s is outside the table's %s", path,
					    es[i].file.path, ddir);
		firn_free(f);
		if (rc == 0 && *n_all == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct firn_ice_entry *v = firn_arena_alloc(arena, nc * sizeof(*v));
			if (!v) {
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
				break;
			}
			if (*n_all)
				memcpy(v, *all, *n_all * sizeof(*v));
			*all = v;
			*cap = nc;
		}
		if (rc == 0)
			(*all)[(*n_all)++] = es[i];
	}
	firn_free(norm);
	firn_free(mdir);
	firn_free(ddir);
	firn_buf_free(&md);
	firn_buf_free(&dd);
	return rc;
}

int firn_table_append_staged(struct firn_table *t, const char *const *staged, size_t n,
			     struct firn_commit_info *info, struct firn_error *err)
{
	struct firn_arena arena = { 0 };
	struct firn_ice_entry *all = NULL;
	size_t n_all = 0, cap = 0;
	if (info)
		memset(info, 0, sizeof(*info));
	int rc = t->meta->format_version < 2
		 ? firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn")
		 : 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = read_staged(t->meta, staged[i], &arena, &all, &n_all, &cap, err);
	if (rc == 0 && n_all > 0)
		rc = commit_entries(t, all, n_all, &arena, false, info, err);
	/* committed: the staged manifests are nobody's now (their entries are
	 * in the snapshot's own manifest) */
	for (size_t i = 0; rc == 0 && i < n; i++)
		firn_io_delete(staged[i], NULL);
	firn_arena_free(&arena);
	return rc;
}

int firn_table_schema(struct firn_table *t, struct ArrowSchema *out, struct firn_error *err)
{
	if (firn_schema_copy(out, &firn_ice__meta_current_schema(t->meta)->arrow) != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return 0;
}

/* TO BE REMOVED once merge and overwrite take streams (firn_table_merge_stream,
 * firn_table_overwrite_stream): the last use of table input in src/iceberg.
 * The batches in the shape of schema (present: its columns relaxed to
 * optional, present[k] whether the input has column k). */

void firn_table_set_progress(struct firn_table *t, firn_progress_fn fn, void *arg)
{
	t->progress = fn;
	t->progress_arg = fn ? arg : NULL;
}

void firn_ice__progress(const struct firn_table *t, const struct firn_progress *p)
{
	if (t && t->progress)
		t->progress(t->progress_arg, p);
}
