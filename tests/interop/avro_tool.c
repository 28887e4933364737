/* A test helper for tests/interop/test_avro.py: firn's Avro codec driven
 * from the command line, so that fastavro can judge what it reads and writes.
 *   avro_tool copy IN OUT CODEC   read IN with firn, write every record and
 *                                 header key (but avro.*) to OUT with firn
 *   avro_tool count IN            the number of records firn reads */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firn/avro.h"

static int fail(const struct firn_error *err)
{
	fprintf(stderr, "avro_tool: %s\n", err->message);
	return 1;
}

int main(int argc, char **argv)
{
	struct firn_error err = { 0 };
	struct firn_avro_reader *r = NULL;
	if (argc < 3 || firn_avro_reader_open(&r, argv[2], &err) != 0)
		return argc < 3 ? 2 : fail(&err);
	struct firn_arena arena = FIRN_ARENA_INIT;
	int rc = 0;
	if (strcmp(argv[1], "count") == 0) {
		long n = 0;
		for (;;) {
			const struct firn_avro_value *v;
			if (firn_avro_reader_next(r, &arena, &v, &err) != 0) {
				rc = fail(&err);
				break;
			}
			if (v == NULL)
				break;
			n++;
		}
		if (rc == 0)
			printf("%ld\n", n);
	} else if (strcmp(argv[1], "copy") == 0 && argc == 5) {
		int nm = firn_avro_reader_meta_count(r), k = 0;
		const char **keys = calloc((size_t)nm + 1, sizeof(char *));
		const char **vals = calloc((size_t)nm + 1, sizeof(char *));
		for (int i = 0; i < nm; i++) {
			const char *v;
			const char *key = firn_avro_reader_meta_at(r, i, &v, NULL);
			if (strncmp(key, "avro.", 5) != 0) {
				keys[k] = key;
				vals[k++] = v;
			}
		}
		struct firn_avro_writer *w = NULL;
		const char *schema = firn_avro_reader_meta(r, "avro.schema", NULL);
		if (firn_avro_writer_open(&w, schema, argv[4], k, keys, vals, &err) != 0) {
			rc = fail(&err);
		} else {
			for (;;) {
				const struct firn_avro_value *v;
				if (firn_avro_reader_next(r, &arena, &v, &err) != 0 ||
				    (v != NULL && firn_avro_writer_append(w, v, &err) != 0)) {
					rc = fail(&err);
					break;
				}
				if (v == NULL)
					break;
			}
			uint8_t *data;
			size_t len;
			if (rc == 0 && firn_avro_writer_finish(w, &data, &len, &err) != 0)
				rc = fail(&err);
			if (rc == 0) {
				FILE *f = fopen(argv[3], "wb");
				if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
					fprintf(stderr, "avro_tool: cannot write %s\n", argv[3]);
					rc = 1;
				}
				firn_free(data);
			}
		}
		firn_avro_writer_free(w);
		free(keys);
		free(vals);
	} else {
		rc = 2;
	}
	firn_arena_free(&arena);
	firn_avro_reader_free(r);
	return rc;
}
