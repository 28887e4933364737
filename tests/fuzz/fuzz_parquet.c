/* Fuzz target: a whole Parquet file through the reader (footer, schema,
 * every row group of every column, the statistics shown by `meta`). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firn/parquet.h"
#include "firn/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.parquet", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct firn_error err;
	struct firn_parquet_reader *r;
	if (firn_parquet_reader_open(&r, path, &err) == 0) {
		for (int g = 0; g < firn_parquet_reader_num_row_groups(r); g++)
			for (int l = 0; l < firn_parquet_reader_leaf_count(r); l++) {
				struct firn_parquet_chunk_info ci;
				if (firn_parquet_reader_chunk_info(r, g, l, &ci, &err) == 0 && ci.has_minmax) {
					ci.minmax.release(&ci.minmax);
					ci.minmax_schema.release(&ci.minmax_schema);
				}
			}
		struct ArrowArrayStream st;
		if (firn_parquet_reader_stream(r, NULL, &st, &err) == 0) {
			struct ArrowSchema schema;
			if (st.get_schema(&st, &schema) == 0) {
				struct firn_buf b = FIRN_BUF_INIT;
				for (;;) {
					struct ArrowArray batch;
					if (st.get_next(&st, &batch) != 0 || batch.release == NULL)
						break;
					/* format a few rows: the arrays must be well-formed */
					for (int64_t i = 0; i < batch.length && i < 64; i++)
						for (int64_t c = 0; c < batch.n_children; c++) {
							b.len = 0;
							firn_value_format_json(&b, schema.children[c], batch.children[c], i);
						}
					batch.release(&batch);
				}
				firn_buf_free(&b);
				schema.release(&schema);
			}
			st.release(&st);
		}
		firn_parquet_reader_free(r);
	}
	close(fd);
	return 0;
}
