/* Merge keys: the input's key tuples in an open-addressing hash set, and
 * the test of a table row's key against it. */
#include <string.h>

#include "iceberg/ice_change.h"
#include "iceberg/ice_datum.h"

static uint64_t key_hash(const struct firn_ice_keyset *k, const struct ArrowArray *const *cols,
			 int64_t row)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < k->n; i++) {
		struct firn_datum d;
		firn_ice__datum_from_array(&k->types[i], cols[i], row, &d);
		h = (h ^ firn_ice__datum_hash(&k->types[i], &d)) * 1099511628211ULL;
	}
	return h;
}

bool firn_ice__keyset_find(const struct firn_ice_keyset *k, const struct ArrowArray *const *cols,
			   int64_t row, uint64_t *found)
{
	size_t at = key_hash(k, cols, row) & (k->cap - 1);
	while (k->slots[at]) {
		uint64_t v = k->slots[at] - 1;
		const struct ArrowArray *b = &k->batches[v >> 32];
		int64_t r = (int64_t)(v & 0xFFFFFFFF);
		bool eq = true;
		for (size_t i = 0; i < k->n && eq; i++) {
			struct firn_datum x, y;
			firn_ice__datum_from_array(&k->types[i], cols[i], row, &x);
			firn_ice__datum_from_array(&k->types[i], b->children[k->cols[i]], r + b->offset, &y);
			eq = firn_ice__datum_equal(&k->types[i], &x, &y);
		}
		if (eq) {
			*found = v;
			return true;
		}
		at = (at + 1) & (k->cap - 1);
	}
	return false;
}

void firn_ice__keyset_free(struct firn_ice_keyset *k)
{
	firn_free(k->ids);
	firn_free(k->cols);
	firn_free(k->types);
	firn_free(k->slots);
}

/* Adds column tok of schema to the key columns. */
static int add_key(struct firn_ice_keyset *k, const struct ArrowSchema *schema, const char *tok,
		   struct firn_error *err)
{
	int col = -1;
	for (int64_t i = 0; i < schema->n_children; i++)
		if (strcmp(schema->children[i]->name, tok) == 0)
			col = (int)i;
	if (col < 0)
		return firn_error_set(err, FIRN_EINVAL, "merge: key '%s' is not a column of the table", tok);
	if (k->n >= 64)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "merge: more than 64 key columns");
	int32_t *ids = firn_realloc(k->ids, (k->n + 1) * sizeof(int32_t));
	if (ids)
		k->ids = ids;
	int *cols = firn_realloc(k->cols, (k->n + 1) * sizeof(int));
	if (cols)
		k->cols = cols;
	struct firn_type *types = firn_realloc(k->types, (k->n + 1) * sizeof(struct firn_type));
	if (types)
		k->types = types;
	if (!ids || !cols || !types)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	k->ids[k->n] = firn_schema_field_id(schema->children[col]);
	k->cols[k->n] = col;
	int rc = firn_type_of(schema->children[col], &k->types[k->n], err);
	enum firn_atype id = k->types[k->n].id;
	k->n++;
	if (rc == 0 && (id == FIRN_A_STRUCT || id == FIRN_A_LIST || id == FIRN_A_MAP))
		rc = firn_error_set(err, FIRN_EINVAL, "merge: key '%s' is not a primitive column", tok);
	return rc;
}

/* The key columns of keys ("a, b"). */
static int parse_keys(struct firn_ice_keyset *k, const struct ArrowSchema *schema, const char *keys,
		      struct firn_error *err)
{
	char *list = firn_strdup(keys);
	if (!list)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	int rc = 0;
	for (char *tok = strtok(list, ","); rc == 0 && tok; tok = strtok(NULL, ",")) {
		while (*tok == ' ')
			tok++;
		size_t l = strlen(tok);
		while (l && tok[l - 1] == ' ')
			tok[--l] = 0;
		rc = add_key(k, schema, tok, err);
	}
	firn_free(list);
	if (rc == 0 && k->n == 0)
		rc = firn_error_set(err, FIRN_EINVAL, "merge: --on needs at least one key column");
	return rc;
}

/* A key the input lacks reads as null: both are errors. */
static int check_keys_present(const struct firn_ice_keyset *k, const struct ArrowSchema *schema,
			      const struct ArrowArray *batches, size_t n_batches,
			      struct firn_error *err)
{
	for (size_t b = 0; b < n_batches; b++)
		for (size_t i = 0; i < k->n; i++) {
			const struct ArrowArray *col = batches[b].children[k->cols[i]];
			for (int64_t r = 0; col->null_count != 0 && r < batches[b].length; r++)
				if (!firn_bit_get(col->buffers[0], col->offset + batches[b].offset + r))
					return firn_error_set(err, FIRN_EINVAL,
							      "merge: key '%s' is missing from the input or null in it",
							      schema->children[k->cols[i]]->name);
		}
	return 0;
}

static int duplicate_key(const struct firn_ice_keyset *k, const struct ArrowArray *const *cols,
			 int64_t row, struct firn_error *err)
{
	struct firn_buf t = { 0 };
	for (size_t i = 0; i < k->n; i++) {
		struct firn_datum d;
		firn_ice__datum_from_array(&k->types[i], cols[i], row, &d);
		if (i)
			firn_buf_puts(&t, ", ");
		firn_ice__datum_to_text(&k->types[i], &d, &t);
	}
	firn_buf_cstr(&t);
	int rc = firn_error_set(err, FIRN_EINVAL, "merge: the input has the key (%s) more than once",
				t.data ? (const char *)t.data : "");
	firn_buf_free(&t);
	return rc;
}

/* Every input row into the hash set. */
static int insert_rows(struct firn_ice_keyset *k, struct firn_error *err)
{
	size_t rows = 0;
	for (size_t b = 0; b < k->n_batches; b++)
		rows += (size_t)k->batches[b].length;
	k->cap = 16;
	while (k->cap < 2 * rows + 16)
		k->cap *= 2;
	k->slots = firn_calloc(k->cap, sizeof(uint64_t));
	if (!k->slots)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	const struct ArrowArray *cols[64];
	for (size_t b = 0; b < k->n_batches; b++) {
		const struct ArrowArray *batch = &k->batches[b];
		for (size_t i = 0; i < k->n; i++)
			cols[i] = batch->children[k->cols[i]];
		for (int64_t r = 0; r < batch->length; r++) {
			uint64_t found;
			if (firn_ice__keyset_find(k, cols, r + batch->offset, &found))
				return duplicate_key(k, cols, r + batch->offset, err);
			size_t at = key_hash(k, cols, r + batch->offset) & (k->cap - 1);
			while (k->slots[at])
				at = (at + 1) & (k->cap - 1);
			k->slots[at] = ((uint64_t)b << 32 | (uint64_t)r) + 1;
		}
	}
	return 0;
}

int firn_ice__keyset_build(struct firn_ice_keyset *k, const struct ArrowSchema *schema,
			   const struct ArrowArray *batches, size_t n_batches, const char *keys,
			   struct firn_error *err)
{
	memset(k, 0, sizeof(*k));
	FIRN_TRY(parse_keys(k, schema, keys, err));
	FIRN_TRY(check_keys_present(k, schema, batches, n_batches, err));
	k->batches = batches;
	k->n_batches = n_batches;
	return insert_rows(k, err);
}

int firn_ice__keyset_field_ids(const struct firn_ice_keyset *k, int32_t **ids, size_t *n)
{
	for (size_t i = 0; i < k->n; i++) {
		int32_t *v = firn_realloc(*ids, (*n + 1) * sizeof(int32_t));
		if (!v)
			return FIRN_ENOMEM;
		v[(*n)++] = k->ids[i];
		*ids = v;
	}
	return 0;
}

int firn_ice__keyset_match(const struct firn_ice_keyset *k, const struct ArrowSchema *proj,
			   const struct ArrowArray *b, uint8_t *sel, struct firn_error *err)
{
	const struct ArrowArray *cols[64];
	for (size_t i = 0; i < k->n; i++) {
		cols[i] = NULL;
		for (int64_t c = 0; c < proj->n_children; c++)
			if (firn_schema_field_id(proj->children[c]) == k->ids[i])
				cols[i] = b->children[c];
		if (!cols[i])
			return firn_error_set(err, FIRN_EINVAL, "merge: key column missing from the batch");
	}
	for (int64_t r = 0; r < b->length; r++) {
		uint64_t found;
		if (sel[r])
			sel[r] = firn_ice__keyset_find(k, cols, r + b->offset, &found);
	}
	return 0;
}
