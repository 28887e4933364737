/* Building generic values in an arena, and finding fields by name or id. */
#include "avro/avro_private.h"

static bool has_null_branch(const struct firn_avro_schema *s)
{
	if (s->type != FIRN_AVRO_UNION)
		return false;
	for (int i = 0; i < s->n_branches; i++)
		if (s->branches[i]->type == FIRN_AVRO_NULL)
			return true;
	return false;
}

struct firn_avro_value *firn_avro_record_new(struct firn_arena *arena,
					     const struct firn_avro_schema *record)
{
	if (record == NULL || record->type != FIRN_AVRO_RECORD)
		return NULL;
	struct firn_avro_value *v = firn_arena_alloc(arena, sizeof(*v));
	struct firn_avro_value *fields = firn_arena_alloc(arena,
		(record->n_fields ? (size_t)record->n_fields : 1) * sizeof(*fields));
	if (v == NULL || fields == NULL)
		return NULL;
	for (int i = 0; i < record->n_fields; i++)
		if (has_null_branch(record->fields[i].type))
			fields[i].type = FIRN_AVRO_NULL;
	v->type = FIRN_AVRO_RECORD;
	v->record.n = record->n_fields;
	v->record.fields = fields;
	return v;
}

struct firn_avro_value *firn_avro_array_new(struct firn_arena *arena, size_t n)
{
	if (n > SIZE_MAX / sizeof(struct firn_avro_value) - 1)
		return NULL;
	struct firn_avro_value *v = firn_arena_alloc(arena, sizeof(*v));
	struct firn_avro_value *items = firn_arena_alloc(arena, (n ? n : 1) * sizeof(*items));
	if (v == NULL || items == NULL)
		return NULL;
	v->type = FIRN_AVRO_ARRAY;
	v->array.n = n;
	v->array.items = items;
	return v;
}

struct firn_avro_value *firn_avro_map_new(struct firn_arena *arena, size_t n)
{
	if (n > SIZE_MAX / sizeof(struct firn_avro_map_entry) - 1)
		return NULL;
	struct firn_avro_value *v = firn_arena_alloc(arena, sizeof(*v));
	struct firn_avro_map_entry *entries = firn_arena_alloc(arena, (n ? n : 1) * sizeof(*entries));
	if (v == NULL || entries == NULL)
		return NULL;
	v->type = FIRN_AVRO_MAP;
	v->map.n = n;
	v->map.entries = entries;
	return v;
}

struct firn_avro_value *firn_avro_union_new(struct firn_arena *arena, int32_t index,
					    struct firn_avro_value v)
{
	struct firn_avro_value *u = firn_arena_alloc(arena, sizeof(*u));
	struct firn_avro_value *inner = firn_arena_alloc(arena, sizeof(*inner));
	if (u == NULL || inner == NULL)
		return NULL;
	*inner = v;
	u->type = FIRN_AVRO_UNION;
	u->branch.index = index;
	u->branch.value = inner;
	return u;
}

static bool record_matches(const struct firn_avro_value *rec, const struct firn_avro_schema *record)
{
	return rec != NULL && record != NULL && record->type == FIRN_AVRO_RECORD &&
	       rec->type == FIRN_AVRO_RECORD && rec->record.n == record->n_fields &&
	       (rec->record.n == 0 || rec->record.fields != NULL);
}

int firn_avro_record_set(struct firn_avro_value *rec, const struct firn_avro_schema *record,
			 const char *name, struct firn_avro_value v, struct firn_error *err)
{
	if (!record_matches(rec, record))
		return firn_error_set(err, FIRN_EINVAL, "avro: setting %s: value is not a record of %s", name,
				      record && record->fullname ? record->fullname : "this schema");
	int i = firn_avro_schema_field_index(record, name);
	if (i < 0)
		return firn_error_set(err, FIRN_ENOTFOUND, "avro: record %s has no field %s",
				      record->fullname, name);
	rec->record.fields[i] = v;
	return 0;
}

const struct firn_avro_value *firn_avro_value_unwrap(const struct firn_avro_value *v,
						     const struct firn_avro_schema *s,
						     const struct firn_avro_schema **type_out)
{
	while (v != NULL && s->type == FIRN_AVRO_UNION) {
		if (v->type == FIRN_AVRO_UNION) {
			if (v->branch.index < 0 || v->branch.index >= s->n_branches)
				return NULL;
			s = s->branches[v->branch.index];
			v = v->branch.value;
			continue;
		}
		/* a plain value put into a union slot by a builder */
		const struct firn_avro_schema *match = NULL;
		for (int i = 0; i < s->n_branches && match == NULL; i++)
			if (s->branches[i]->type == v->type)
				match = s->branches[i];
		if (match == NULL)
			return NULL;
		s = match;
	}
	if (type_out != NULL)
		*type_out = v ? s : NULL;
	return v;
}

static const struct firn_avro_value *field_at(const struct firn_avro_value *rec,
					      const struct firn_avro_schema *record, int i,
					      const struct firn_avro_schema **type_out)
{
	if (type_out != NULL)
		*type_out = NULL;
	if (i < 0 || !record_matches(rec, record))
		return NULL;
	return firn_avro_value_unwrap(&rec->record.fields[i], record->fields[i].type, type_out);
}

const struct firn_avro_value *firn_avro_record_get(const struct firn_avro_value *rec,
						   const struct firn_avro_schema *record,
						   const char *name,
						   const struct firn_avro_schema **type_out)
{
	return field_at(rec, record, firn_avro_schema_field_index(record, name), type_out);
}

const struct firn_avro_value *firn_avro_record_field_by_id(const struct firn_avro_value *rec,
							   const struct firn_avro_schema *record,
							   int32_t id,
							   const struct firn_avro_schema **type_out)
{
	return field_at(rec, record, firn_avro_schema_field_index_by_id(record, id), type_out);
}
