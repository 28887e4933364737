/* The Parquet writer's internal controls, for writers that hold many files
 * open at once (the partition fan-out of src/iceberg/ice_writer.c). */
#ifndef FIRN_PQ_WRITER_H
#define FIRN_PQ_WRITER_H

#include <stdint.h>

#include "firn/parquet.h"

/* The bytes of memory the writer's buffers hold (their capacity: pages of
 * the current row group, the current pages, dictionaries, scratch). It
 * does not depend on the thread count. */
int64_t firn_pq__writer_memory(const struct firn_parquet_writer *w);

/* Ends the current row group (when it has rows), hands the bytes to the
 * file and frees the buffers (they grow again on the next write): the
 * writer's memory falls to about nothing. */
int firn_pq__writer_flush(struct firn_parquet_writer *w, struct firn_error *err);

#endif
