/* Fuzz target: the Iceberg decoders. The first byte picks one:
 *   0  table metadata JSON (parse, views)
 *   1  a --where expression (parse, bind, evaluate on a batch, metrics,
 *      projection onto a partition spec)
 *   2  a deletion-vector blob
 *   3  an Avro manifest list, then the same bytes as a manifest of a table
 *      with a partitioned spec */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firn/text.h"
#include "iceberg/ice_expr.h"
#include "iceberg/ice_manifest.h"
#include "iceberg/ice_meta.h"
#include "puffin/puffin.h"

static const char META[] =
	"{\"format-version\":2,\"table-uuid\":\"9c12d441-03fe-4693-9a96-a0705ddf69c1\",\"location\":\"/tmp/t\","
	"\"last-sequence-number\":1,\"last-updated-ms\":1,\"last-column-id\":4,\"current-schema-id\":0,"
	"\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
	"{\"id\":2,\"name\":\"s\",\"required\":false,\"type\":\"string\"},{\"id\":3,\"name\":\"d\",\"required\":false,\"type\":\"decimal(20,2)\"},"
	"{\"id\":4,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\"}]}],"
	"\"default-spec-id\":0,\"partition-specs\":[{\"spec-id\":0,\"fields\":["
	"{\"name\":\"s\",\"transform\":\"identity\",\"source-id\":2,\"field-id\":1000},"
	"{\"name\":\"d_trunc\",\"transform\":\"truncate[10]\",\"source-id\":3,\"field-id\":1001},"
	"{\"name\":\"ts_day\",\"transform\":\"day\",\"source-id\":4,\"field-id\":1002}]}],"
	"\"last-partition-id\":1002,\"default-sort-order-id\":0,\"sort-orders\":[{\"order-id\":0,\"fields\":[]}],"
	"\"properties\":{},\"current-snapshot-id\":-1,\"snapshots\":[]}";

static struct firn_ice_meta *meta;
static struct ArrowArray batch;
static struct firn_pfield pf[3];

static void setup(void)
{
	if (meta)
		return;
	if (firn_ice__meta_parse(META, strlen(META), "fuzz", &meta, NULL) != 0)
		abort();
	const struct ArrowSchema *s = &firn_ice__meta_current_schema(meta)->arrow;
	struct firn_builder b;
	if (firn_builder_init(&b, s, NULL) != 0)
		abort();
	for (int i = 0; i < 8; i++) {
		firn_builder_append_struct(&b);
		firn_builder_append_i64(&b.children[0], i - 3);
		if (i % 3 == 0)
			firn_builder_append_null(&b.children[1]);
		else
			firn_builder_append_bytes(&b.children[1], "abcdefgh", (size_t)i);
		__int128 d = (__int128)i * 12345 - 20000;
		firn_builder_append_fixed(&b.children[2], &d);
		firn_builder_append_i64(&b.children[3], (int64_t)i * 86400000000LL - 1);
	}
	if (firn_builder_finish(&b, &batch, NULL) != 0)
		abort();
	firn_builder_free(&b);
	struct firn_pfield *r = NULL;
	if (firn_ice__spec_resolve(&meta->specs[0], s, &r, NULL) != 0)
		abort();
	memcpy(pf, r, sizeof(pf));
	firn_free(r);
}

static void where(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	struct firn_arena a = { 0 };
	struct firn_expr *e, *p;
	const struct ArrowSchema *s = &firn_ice__meta_current_schema(meta)->arrow;
	if (firn_ice__expr_parse(text, &a, &e, NULL) == 0 && firn_ice__expr_bind(e, s, &a, NULL) == 0) {
		uint8_t sel[8];
		firn_ice__expr_eval(e, s, &batch, sel, NULL);
		struct firn_col_metrics cols[2] = { { 1, true, true, { 0 }, { 0 }, 10, 0, -1 },
						    { 2, false, false, { 0 }, { 0 }, 10, 10, -1 } };
		cols[0].lower.v.i64 = -5;
		cols[0].upper.v.i64 = 5;
		struct firn_metrics m = { 10, cols, 2 };
		firn_ice__expr_eval_metrics(e, &m);
		if (firn_ice__expr_project(e, pf, 3, &a, &p, NULL) == 0)
			firn_ice__expr_eval_metrics(p, &m);
		int32_t *ids = NULL;
		size_t n = 0;
		firn_ice__expr_field_ids(e, &ids, &n);
		firn_free(ids);
	}
	firn_arena_free(&a);
	free(text);
}

static void avro(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.avro", 0);
	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct firn_arena a = { 0 };
		struct firn_ice_manifest_file *mfs;
		size_t n;
		firn_ice__manifest_list_read(path, &a, &mfs, &n, NULL);
		struct firn_ice_manifest_file mf = { 0 };
		mf.path = path;
		mf.spec_id = 0;
		mf.sequence_number = 3;
		mf.added_snapshot_id = 7;
		mf.has_first_row_id = size & 1;
		struct firn_ice_entry *es;
		firn_ice__manifest_read(&mf, meta, &a, &es, &n, NULL);
		firn_arena_free(&a);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup();
	int mode = data[0] & 3;
	data++;
	size--;
	if (mode == 0) {
		struct firn_ice_meta *m = NULL;
		if (firn_ice__meta_parse((const char *)data, size, "fuzz", &m, NULL) == 0) {
			char *text = firn_ice__meta_dump(m);
			firn_free(text);
			struct firn_ice_meta *c = NULL;
			if (firn_ice__meta_clone(m, &c, NULL) == 0)
				firn_ice__meta_free(c);
		}
		firn_ice__meta_free(m);
	} else if (mode == 1) {
		where(data, size);
	} else if (mode == 2) {
		struct firn_posset s = { 0 };
		firn_dv_decode(data, size, &s, NULL);
		firn_posset_free(&s);
	} else {
		avro(data, size);
	}
	return 0;
}
