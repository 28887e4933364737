/* Fuzz target: CSV and JSON Lines input (the first byte picks the format
 * and whether types are inferred or given), read to the end as batches and
 * written out as JSON Lines. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firn/text.h"

static const char spec[] =
	"id long, s string, d decimal(10,2), ts timestamptz, b boolean, f double, "
	"l list<int>, m map<string, long>, st struct<a: date, u: uuid, x: fixed[2]>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0];
	int fd = memfd_create("fuzz.txt", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct firn_error err;
	struct ArrowSchema given = { 0 };
	bool infer = mode & 2;
	if (!infer && firn_spec_parse_schema(spec, &given, &err) != 0) {
		close(fd);
		return 0;
	}
	struct firn_text_reader *r;
	enum firn_text_format fmt = mode & 1 ? FIRN_TEXT_JSONL : FIRN_TEXT_CSV;
	if (firn_text_reader_open(&r, path, fmt, infer ? NULL : &given, 7, &err) == 0) {
		struct ArrowSchema s;
		if (firn_text_reader_schema(r, &s, &err) == 0) {
			FILE *sink = fopen("/dev/null", "w");
			struct firn_text_writer *w = NULL;
			if (sink && firn_text_writer_open(&w, sink, FIRN_TEXT_JSONL, &s, &err) == 0) {
				for (;;) {
					struct ArrowArray b;
					if (firn_text_reader_next(r, &b, &err) != 0 || b.release == NULL)
						break;
					firn_text_writer_write(w, &b, &err);
					b.release(&b);
				}
				firn_text_writer_close(w, &err);
			}
			firn_text_writer_free(w);
			if (sink)
				fclose(sink);
			s.release(&s);
		}
		firn_text_reader_free(r);
	}
	if (given.release)
		given.release(&given);
	close(fd);
	return 0;
}
