/* firn append: input files → data files → one append snapshot. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "firn/parquet.h"
#include "firn/text.h"
#include "arrow/text_internal.h"
#include "iceberg/ice_batch.h"
#include "iceberg/ice_table.h"
#include "iceberg/ice_writer.h"
#include "io/io_local.h"

static enum firn_input_format format_of(const char *path, enum firn_input_format fmt)
{
	if (fmt != FIRN_INPUT_AUTO)
		return fmt;
	const char *dot = strrchr(path, '.');
	if (dot && strcasecmp(dot, ".parquet") == 0)
		return FIRN_INPUT_PARQUET;
	if (dot && (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".json") == 0 ||
		    strcasecmp(dot, ".ndjson") == 0))
		return FIRN_INPUT_JSONL;
	return FIRN_INPUT_CSV;
}

typedef int (*sink_fn)(void *ctx, struct ArrowArray *batch, struct firn_error *err);

static int to_writer(void *ctx, struct ArrowArray *batch, struct firn_error *err)
{
	return firn_ice__writer_write(ctx, batch, err);
}

struct collect {
	struct ArrowArray *v;
	size_t n;
};

static int to_list(void *ctx, struct ArrowArray *batch, struct firn_error *err)
{
	struct collect *c = ctx;
	struct ArrowArray *v = firn_realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	c->v = v;
	v[c->n++] = *batch;
	batch->release = NULL; /* moved */
	return 0;
}

/* Reads one input file and gives its batches, fitted to the table schema,
 * to sink; present (NULL allowed) gets the top-level columns the file has. */
static int feed(sink_fn sink, void *ctx, const struct ArrowSchema *schema, const char *path,
		enum firn_input_format fmt, const struct firn_append_options *opts, int64_t *rows,
		bool *present, struct firn_error *err)
{
	int rc = 0;
	struct firn_ice_fit_options fo = { opts && opts->truncate_timestamps, 0 };
	fmt = format_of(path, fmt);
	if (fmt == FIRN_INPUT_PARQUET) {
		struct firn_parquet_reader *r = NULL;
		struct ArrowArrayStream st = { 0 };
		struct ArrowSchema fs = { 0 };
		FIRN_TRY(firn_parquet_reader_open(&r, path, err));
		firn_parquet_reader_set_strict_int96(r, !(opts && opts->truncate_timestamps));
		rc = firn_parquet_reader_schema(r, &fs, err);
		for (int64_t k = 0; rc == 0 && present && k < schema->n_children; k++)
			for (int64_t j = 0; j < fs.n_children; j++)
				if (strcmp(fs.children[j]->name, schema->children[k]->name) == 0)
					present[k] = true;
		if (rc == 0)
			rc = firn_parquet_reader_stream(r, NULL, &st, err);
		while (rc == 0) {
			struct ArrowArray b = { 0 }, fit;
			int e = st.get_next(&st, &b);
			if (e != 0) {
				rc = firn_error_set(err, FIRN_ECORRUPT, "%s", st.get_last_error(&st));
				break;
			}
			if (!b.release)
				break;
			rc = firn_ice__batch_fit_input(&fs, &b, schema, &fo, &fit, err);
			if (rc != 0)
				break;
			*rows += fit.length;
			fo.first_row += fit.length;
			rc = sink(ctx, &fit, err);
			if (fit.release)
				fit.release(&fit);
		}
		if (st.release)
			st.release(&st);
		if (fs.release)
			fs.release(&fs);
		firn_parquet_reader_free(r);
	} else {
		struct firn_text_reader *r = NULL;
		/* text input reads into the table's own types and names */
		FIRN_TRY(firn_text_reader_open(&r, path, fmt == FIRN_INPUT_JSONL ? FIRN_TEXT_JSONL : FIRN_TEXT_CSV,
					       schema, 0, err));
		firn_text__reader_set_truncate(r, fo.truncate_timestamps);
		while (rc == 0) {
			struct ArrowArray b = { 0 }, fit;
			if ((rc = firn_text_reader_next(r, &b, err)) != 0 || !b.release)
				break;
			rc = firn_ice__batch_fit_input(schema, &b, schema, &fo, &fit, err);
			if (rc != 0)
				break;
			*rows += fit.length;
			rc = sink(ctx, &fit, err);
			if (fit.release)
				fit.release(&fit);
		}
		if (rc == 0 && present) {
			bool *seen = firn_calloc((size_t)schema->n_children + 1, sizeof(bool));
			if (!seen)
				rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
			else
				firn_text_reader_fields_seen(r, seen, (size_t)schema->n_children);
			for (int64_t k = 0; seen && k < schema->n_children; k++)
				present[k] = present[k] || seen[k];
			firn_free(seen);
		}
		firn_text_reader_free(r);
	}
	if (rc != 0 && err && strncmp(err->message, path, strlen(path)) != 0)
		firn_error_prefix(err, "%s", path);
	return rc;
}

struct append_ctx {
	struct firn_ice_manifest_file manifest; /* the new data files' manifest */
	int32_t schema_id, spec_id;
	int64_t added_files, added_records;
	int64_t snapshot_id;
	struct firn_arena *arena;
	char **lists; /* the manifest list of every attempt (the last one commits) */
	size_t n_lists;
};

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

static int apply_append(struct firn_table *t, struct firn_ice_meta *m, int attempt, void *vctx,
			struct firn_error *err)
{
	struct append_ctx *c = vctx;
	if (m->current_schema_id != c->schema_id || m->default_spec_id != c->spec_id)
		return firn_error_set(err, FIRN_ECONFLICT,
				      "the table's schema or partition spec changed during the append");
	const struct firn_ice_snapshot *parent = firn_ice__meta_current(m);
	struct firn_arena a = { 0 };
	struct firn_ice_manifest_file *old = NULL;
	size_t n_old = 0;
	int rc = 0;
	if (parent && (rc = firn_ice__snapshot_manifests(m, parent, &a, &old, &n_old, err)) != 0) {
		firn_arena_free(&a);
		return rc;
	}
	struct firn_ice_manifest_file *all = firn_calloc(n_old + 1, sizeof(*all));
	if (!all) {
		firn_arena_free(&a);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	all[0] = c->manifest; /* fresh copy: sequence numbers still -1 */
	if (n_old > 0)
		memcpy(all + 1, old, n_old * sizeof(*old));
	int64_t seq = m->last_sequence_number + 1;
	int64_t snap_id = firn_ice__new_snapshot_id(m);
	all[0].added_snapshot_id = snap_id;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "snap-%lld-%d-", (long long)snap_id, attempt + 1);
	char *list = firn_ice__new_path(m, "metadata", prefix, ".avro");
	int64_t next_row_id = m->next_row_id, first_row_id = m->next_row_id;
	if (!list)
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (rc == 0)
		rc = firn_ice__manifest_list_write(list, m, snap_id, parent != NULL,
						   parent ? parent->snapshot_id : 0, seq, all,
						   n_old + 1, &next_row_id, err);
	if (rc == 0)
		firn_io__crash_point("after-manifest-list");
	bool remembered = rc == 0 && (rc = remember_list(c, list, err)) == 0; /* removed by the caller */
	if (rc == 0) {
		json_t *summary = firn_ice__summary(parent, "append", &c->manifest, 1);
		rc = firn_ice__add_snapshot(m, "main", snap_id, parent, seq, list, summary, first_row_id,
					    next_row_id - first_row_id, err);
		c->snapshot_id = snap_id;
	}
	if (rc != 0 && list && !remembered)
		firn_io_delete(list, NULL);
	firn_free(list);
	firn_free(all);
	firn_arena_free(&a);
	return rc;
}

int firn_table_append(struct firn_table *t, const char *const *files, size_t n,
		      enum firn_input_format fmt, const struct firn_append_options *opts,
		      struct firn_commit_info *info, struct firn_error *err)
{
	struct firn_arena arena = { 0 };
	struct firn_ice_writer *w = NULL;
	struct firn_ice_entry *entries = NULL;
	size_t n_entries = 0;
	int64_t rows = 0;
	char *mpath = NULL;
	struct append_ctx ctx = { 0 };
	const struct firn_ice_meta *m = t->meta;
	if (info)
		memset(info, 0, sizeof(*info));
	if (m->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "format version 1 tables are read-only in firn");
	const struct firn_ice_schema *schema = firn_ice__meta_current_schema(m);
	int rc = firn_ice__writer_open(&w, m, &arena, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = feed(to_writer, w, &schema->arrow, files[i], fmt, opts, &rows, NULL, err);
	if (rc == 0)
		rc = firn_ice__writer_finish(w, &entries, &n_entries, err);
	if (rc != 0)
		goto done;
	if (n_entries == 0) { /* nothing to add: no snapshot */
		goto done;
	}
	ctx.schema_id = m->current_schema_id;
	ctx.spec_id = m->default_spec_id;
	ctx.arena = &arena;
	for (size_t i = 0; i < n_entries; i++) {
		ctx.added_files++;
		ctx.added_records += entries[i].file.record_count;
	}
	const struct firn_ice_spec *spec = firn_ice__meta_spec(m, m->default_spec_id);
	mpath = firn_ice__new_path(m, "metadata", "", "-m0.avro");
	if (!mpath) {
		rc = firn_error_set(err, FIRN_ENOMEM, "out of memory");
		goto done;
	}
	rc = firn_ice__manifest_write(mpath, m, spec, 0, entries, n_entries, 0, &arena,
				      &ctx.manifest, err);
	if (rc != 0)
		goto done;
	ctx.manifest.path = firn_arena_strdup(&arena, mpath);
	firn_io__crash_point("after-manifest");
	int attempts = 0;
	rc = firn_ice__commit(t, apply_append, &ctx, &attempts, err);
	if (rc != 0)
		goto done;
	if (info) {
		info->snapshot_id = ctx.snapshot_id;
		info->added_records = ctx.added_records;
		info->added_files = ctx.added_files;
		info->attempts = attempts;
	}
done:
	/* nothing references the new files unless a commit may have landed */
	if (rc == 0) {
		remove_lists(&ctx, 1); /* the lists of the attempts that lost */
	} else if (rc != FIRN_EIO || firn_ice__commit_surely_failed(t)) {
		remove_lists(&ctx, 0);
		if (mpath)
			firn_io_delete(mpath, NULL);
		for (size_t i = 0; i < n_entries; i++)
			firn_io_delete(entries[i].file.path, NULL);
	}
	firn_free(ctx.lists);
	firn_ice__writer_free(w);
	firn_free(mpath);
	firn_arena_free(&arena);
	(void)rows;
	return rc;
}

int firn_ice__read_inputs(const struct ArrowSchema *schema, const char *const *files, size_t n,
			  enum firn_input_format fmt, const struct firn_append_options *opts,
			  bool *present, struct ArrowArray **batches, size_t *n_batches,
			  struct firn_error *err)
{
	struct collect c = { 0 };
	int64_t rows = 0;
	struct ArrowSchema relaxed = { 0 };
	int rc = 0;
	if (present) { /* required columns may be absent: the caller decides */
		rc = firn_schema_copy(&relaxed, schema);
		for (int64_t k = 0; rc == 0 && k < relaxed.n_children; k++)
			relaxed.children[k]->flags |= ARROW_FLAG_NULLABLE;
		if (rc != 0)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
		memset(present, 0, (size_t)schema->n_children * sizeof(bool));
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = feed(to_list, &c, present ? &relaxed : schema, files[i], fmt, opts, &rows, present, err);
	if (relaxed.release)
		relaxed.release(&relaxed);
	if (rc != 0) {
		for (size_t i = 0; i < c.n; i++)
			if (c.v[i].release)
				c.v[i].release(&c.v[i]);
		firn_free(c.v);
		return rc;
	}
	*batches = c.v;
	*n_batches = c.n;
	return 0;
}
