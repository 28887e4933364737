/* Manifests and manifest lists (Avro container files, spec §2). Internal.
 * Read: v1, v2 and v3, columns by field id, sequence numbers and snapshot
 * ids inherited. Write: v2 and v3, as Java and PyIceberg lay them out. */
#ifndef FIRN_ICE_MANIFEST_H
#define FIRN_ICE_MANIFEST_H

#include "iceberg/ice_meta.h"

struct firn_ice_kv {
	int32_t id;
	int64_t value;
};

struct firn_ice_bound {
	int32_t id;
	const uint8_t *p;
	size_t n;
};

struct firn_ice_data_file {
	int32_t content; /* 0 data, 1 position deletes, 2 equality deletes */
	const char *path;
	const char *format; /* "PARQUET", "AVRO", "ORC", "PUFFIN" as stored */
	int32_t spec_id;
	struct firn_datum *partition; /* one per spec field, typed by the spec */
	size_t n_partition;
	int64_t record_count;
	int64_t file_size;
	struct firn_ice_kv *column_sizes, *value_counts, *null_counts, *nan_counts;
	size_t n_column_sizes, n_value_counts, n_null_counts, n_nan_counts;
	struct firn_ice_bound *lower, *upper;
	size_t n_lower, n_upper;
	int64_t *split_offsets;
	size_t n_split_offsets;
	int32_t *equality_ids;
	size_t n_equality_ids;
	bool has_sort_order_id;
	int32_t sort_order_id;
	bool has_first_row_id;
	int64_t first_row_id;
	const char *referenced_data_file;
	bool has_content_offset;
	int64_t content_offset, content_size;
};

enum { FIRN_ICE_EXISTING = 0, FIRN_ICE_ADDED = 1, FIRN_ICE_DELETED = 2 };

struct firn_ice_entry {
	int32_t status;
	int64_t snapshot_id;          /* after inheritance */
	int64_t sequence_number;      /* data sequence number, after inheritance */
	int64_t file_sequence_number; /* after inheritance */
	bool explicit_sequence;       /* written with a non-null sequence number */
	struct firn_ice_data_file file;
};

struct firn_ice_field_summary {
	bool contains_null;
	int contains_nan; /* -1 unknown */
	bool has_lower, has_upper;
	const uint8_t *lower, *upper;
	size_t lower_n, upper_n;
};

/* What a manifest written by this snapshot changes: its ADDED and DELETED
 * entries counted as Java's SnapshotSummary counts them (sizes of deletion
 * vectors are their blobs' sizes). parts: hashes of the distinct partitions
 * touched (spec id + values), for changed-partition-count. */
struct firn_ice_delta {
	int64_t added_data, removed_data, added_records, removed_records;
	int64_t added_size, removed_size;
	int64_t added_pos_files, removed_pos_files, added_dvs, removed_dvs;
	int64_t added_eq_files, removed_eq_files;
	int64_t added_pos, removed_pos, added_eq, removed_eq;
	uint64_t *parts;
	size_t n_parts;
};

struct firn_ice_manifest_file {
	const char *path;
	int64_t length;
	int32_t spec_id;
	int32_t content; /* 0 data, 1 deletes */
	int64_t sequence_number;
	int64_t min_sequence_number;
	int64_t added_snapshot_id;
	int32_t added_files, existing_files, deleted_files; /* -1 unknown */
	int64_t added_rows, existing_rows, deleted_rows;
	struct firn_ice_field_summary *partitions;
	size_t n_partitions;
	bool has_first_row_id;
	int64_t first_row_id;
	struct firn_ice_delta delta; /* filled by firn_ice__manifest_write only */
};

/* Writes a manifest of `entries` (all of one content kind, one spec) to
 * path (fsynced, O_EXCL). ADDED entries are written with null snapshot id
 * and sequence numbers (inherited); EXISTING/DELETED ones with theirs.
 * Fills *out (path copied into arena; counts, partition summaries, length,
 * the delta of its ADDED and DELETED entries; sequence number left for the
 * manifest list writer: -1; min_sequence_number the oldest live entry's
 * explicit data sequence number, -1 when every live entry inherits). */
int firn_ice__manifest_write(const char *path, const struct firn_ice_meta *m,
			     const struct firn_ice_spec *spec, int32_t content,
			     const struct firn_ice_entry *entries, size_t n,
			     int64_t snapshot_id, struct firn_arena *arena,
			     struct firn_ice_manifest_file *out, struct firn_error *err);

/* Sorts v and drops repeated values; returns the new count. */
size_t firn_ice__unique_u64(uint64_t *v, size_t n);

/* Writes the manifest list of snapshot `snap_id`. Manifests whose
 * sequence_number is -1 are new: they get seq (and min_sequence_number seq
 * when it is -1). For v3, data manifests without first_row_id get one from
 * *next_row_id onward, which is advanced. */
int firn_ice__manifest_list_write(const char *path, const struct firn_ice_meta *m,
				  int64_t snap_id, bool has_parent, int64_t parent_id, int64_t seq,
				  struct firn_ice_manifest_file *files, size_t n,
				  int64_t *next_row_id, struct firn_error *err);

/* Reads a manifest list; everything in arena. */
/* All of a manifest list or manifest, as firn_io_read_all gives it: read
 * once per process while it stays among the last read (ice_file_cache.c).
 * Only for files written once under a fresh name. */
int firn_ice__read_immutable(const char *path, uint8_t **data, size_t *n, struct firn_error *err);
/* Drops what firn_ice__read_immutable keeps (tests that count reads). */
void firn_ice__forget_immutable(void);

int firn_ice__manifest_list_read(const char *path, struct firn_arena *arena,
				 struct firn_ice_manifest_file **out, size_t *n,
				 struct firn_error *err);

/* Reads the entries of one manifest (DELETED ones too; callers skip
 * them), partition values typed by the table's spec of mf->spec_id,
 * inheritance applied from mf. Everything in arena. */
int firn_ice__manifest_read(const struct firn_ice_manifest_file *mf,
			    const struct firn_ice_meta *m, struct firn_arena *arena,
			    struct firn_ice_entry **out, size_t *n, struct firn_error *err);

/* The manifests of a snapshot (v1 "manifests" lists handled). */
int firn_ice__snapshot_manifests(const struct firn_ice_meta *m,
				 const struct firn_ice_snapshot *s, struct firn_arena *arena,
				 struct firn_ice_manifest_file **out, size_t *n,
				 struct firn_error *err);

#endif
