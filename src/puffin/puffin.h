/* Puffin files and deletion vectors (Iceberg v3): the 64-bit portable
 * Roaring format, the deletion-vector-v1 blob, and Puffin files holding
 * them. Internal. */
#ifndef FIRN_PUFFIN_H
#define FIRN_PUFFIN_H

#include <stddef.h>
#include <stdint.h>

#include "firn/error.h"
#include "firn/util.h"

/* A set of row positions, sorted ascending, without duplicates. */
struct firn_posset {
	int64_t *v;
	size_t n, cap;
};

int firn_posset_add(struct firn_posset *s, int64_t pos);
/* Sorts and removes duplicates (after adds in any order). */
void firn_posset_normalize(struct firn_posset *s);
/* s ∪= o (both normalized; s stays normalized). */
int firn_posset_union(struct firn_posset *s, const struct firn_posset *o);
bool firn_posset_contains(const struct firn_posset *s, int64_t pos);
void firn_posset_free(struct firn_posset *s);

/* A deletion-vector-v1 blob of s (normalized) appended to out: length
 * (BE), magic D1 D3 39 64, the 64-bit portable Roaring bitmap, CRC-32 (BE)
 * of magic and bitmap. */
int firn_dv_encode(const struct firn_posset *s, struct firn_buf *out);
/* Decodes a blob into s (cleared first). Array, bitset and run containers
 * are read; lengths, magic and CRC are checked: FIRN_ECORRUPT. */
int firn_dv_decode(const uint8_t *p, size_t n, struct firn_posset *s, struct firn_error *err);

/* A Puffin file with DV blobs, one per referenced data file. */
struct firn_puffin_blob {
	const char *referenced_data_file;
	const struct firn_posset *positions;
	/* filled by the writer */
	int64_t offset, length;
};

/* Writes path (fsynced, new) holding the blobs; fills their offsets and
 * lengths; *file_size gets the file size. */
int firn_puffin_write_dvs(const char *path, struct firn_puffin_blob *blobs, size_t n,
			  int64_t *file_size, struct firn_error *err);

/* Reads the DV blob at [offset, offset+length) of a Puffin file. */
int firn_puffin_read_dv(const char *path, int64_t offset, int64_t length,
			struct firn_posset *out, struct firn_error *err);

#endif
