/* Arrow schema <-> Parquet schema, and the levels of every node. */
#include <stdio.h>
#include <stdlib.h>

#include "arrow/types.h"
#include "parquet/pq_schema.h"

/* Largest decimal precision that fits n bytes of two's complement. */
static const int8_t max_precision_of_bytes[17] = { 0, 2, 4, 6, 9, 11, 14, 16, 18, 21, 23, 26,
						   28, 31, 33, 35, 38 };

static int32_t decimal_bytes(int32_t precision)
{
	for (int n = 1; n <= 16; n++)
		if (precision <= max_precision_of_bytes[n])
			return n;
	return 16;
}

/* ---- shared: levels ---- */

static void assign_levels(struct pq_schema *s, int n, int16_t slot_def, int16_t rep)
{
	struct pq_node *node = &s->nodes[n];
	node->slot_def = slot_def;
	node->valid_def = (int16_t)(slot_def + (node->optional ? 1 : 0));
	node->rep = rep;
	if (node->type.id == FIRN_A_LIST || node->type.id == FIRN_A_MAP) {
		node->rep = (int16_t)(rep + 1);
		node->elem_def = (int16_t)(node->valid_def + 1);
		assign_levels(s, node->children[0], node->elem_def, node->rep);
	} else {
		for (int i = 0; i < node->n_children; i++)
			assign_levels(s, node->children[i], node->valid_def, rep);
	}
}

static void assign_leaves(struct pq_schema *s, int n)
{
	struct pq_node *node = &s->nodes[n];
	node->first_leaf = s->n_leaves;
	if (node->n_children == 0) {
		node->leaf = s->n_leaves;
		s->leaves[s->n_leaves++] = n;
		return;
	}
	node->leaf = -1;
	for (int i = 0; i < node->n_children; i++)
		assign_leaves(s, node->children[i]);
}

static int leaf_paths(struct pq_schema *s, struct firn_arena *arena, struct firn_error *err)
{
	s->leaf_paths = firn_arena_alloc(arena, sizeof(char *) * (size_t)(s->n_leaves + 1));
	if (s->leaf_paths == NULL)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	return 0;
}

/* ================= writer side: Arrow -> Parquet ================= */

struct build {
	struct pq_schema *s;
	struct firn_arena *arena;
	struct firn_error *err;
	int cap_nodes, cap_elements;
};

static int count_nodes(const struct ArrowSchema *a, int *nodes, int *elements, int depth)
{
	if (depth > 64)
		return -1;
	(*nodes)++;
	(*elements)++;
	if (a->format && strcmp(a->format, "+l") == 0)
		(*elements)++; /* the middle "list" group */
	for (int64_t i = 0; i < a->n_children; i++)
		if (count_nodes(a->children[i], nodes, elements, depth + 1) != 0)
			return -1;
	return 0;
}

static struct pq_schema_element *new_element(struct build *b, const char *name)
{
	struct pq_schema_element *e = &b->s->elements[b->s->n_elements++];
	e->name = firn_arena_strdup(b->arena, name);
	return e;
}

static int leaf_element(struct build *b, struct pq_node *node, struct pq_schema_element *e)
{
	const struct firn_type *t = &node->type;
	e->has_type = true;
	switch (t->id) {
	case FIRN_A_BOOL: e->type = PQ_BOOLEAN; break;
	case FIRN_A_INT32: e->type = PQ_INT32; break;
	case FIRN_A_INT64: e->type = PQ_INT64; break;
	case FIRN_A_FLOAT: e->type = PQ_FLOAT; break;
	case FIRN_A_DOUBLE: e->type = PQ_DOUBLE; break;
	case FIRN_A_DATE32:
		e->type = PQ_INT32;
		e->has_converted_type = true; e->converted_type = PQ_CT_DATE;
		e->logical_type.kind = PQ_LT_DATE;
		break;
	case FIRN_A_DECIMAL:
		if (t->scale < 0 || t->scale > t->precision)
			return firn_error_set(b->err, FIRN_EUNSUPPORTED,
					      "column %s: decimal(%d,%d) cannot be stored", node->name,
					      t->precision, t->scale);
		if (t->precision <= 9) {
			e->type = PQ_INT32;
		} else if (t->precision <= 18) {
			e->type = PQ_INT64;
		} else {
			e->type = PQ_FIXED_LEN_BYTE_ARRAY;
			e->has_type_length = true;
			e->type_length = decimal_bytes(t->precision);
		}
		e->has_converted_type = true; e->converted_type = PQ_CT_DECIMAL;
		e->has_scale = true; e->scale = t->scale;
		e->has_precision = true; e->precision = t->precision;
		e->logical_type.kind = PQ_LT_DECIMAL;
		e->logical_type.scale = t->scale;
		e->logical_type.precision = t->precision;
		break;
	case FIRN_A_TIME64:
		e->type = PQ_INT64;
		e->logical_type.kind = PQ_LT_TIME;
		e->logical_type.is_adjusted_to_utc = false;
		e->logical_type.unit = t->unit_digits == 9 ? PQ_NANOS : PQ_MICROS;
		if (t->unit_digits == 6) {
			e->has_converted_type = true; e->converted_type = PQ_CT_TIME_MICROS;
		}
		break;
	case FIRN_A_TIMESTAMP:
		e->type = PQ_INT64;
		e->logical_type.kind = PQ_LT_TIMESTAMP;
		e->logical_type.is_adjusted_to_utc = t->tz;
		if (t->unit_digits == 9) {
			e->logical_type.unit = PQ_NANOS;
		} else {
			/* seconds and millis are stored as micros */
			e->logical_type.unit = PQ_MICROS;
			e->has_converted_type = true; e->converted_type = PQ_CT_TIMESTAMP_MICROS;
			node->scale_factor = t->unit_digits == 0 ? 1000000 : t->unit_digits == 3 ? 1000 : 1;
		}
		break;
	case FIRN_A_STRING:
		e->type = PQ_BYTE_ARRAY;
		e->has_converted_type = true; e->converted_type = PQ_CT_UTF8;
		e->logical_type.kind = PQ_LT_STRING;
		break;
	case FIRN_A_BINARY: e->type = PQ_BYTE_ARRAY; break;
	case FIRN_A_FIXED:
		e->type = PQ_FIXED_LEN_BYTE_ARRAY;
		e->has_type_length = true; e->type_length = t->width;
		if (t->uuid)
			e->logical_type.kind = PQ_LT_UUID;
		break;
	default:
		return firn_error_set(b->err, FIRN_EUNSUPPORTED, "column %s: type cannot be stored",
				      node->name);
	}
	node->ptype = e->type;
	node->type_length = e->has_type_length ? e->type_length : 0;
	return 0;
}

static int add_from_arrow(struct build *b, const struct ArrowSchema *a, int parent, bool is_root,
			  bool force_required, int *out_index)
{
	struct pq_schema *s = b->s;
	int n = s->n_nodes++;
	struct pq_node *node = &s->nodes[n];
	*out_index = n;
	node->name = firn_arena_strdup(b->arena, a->name ? a->name : "");
	node->parent = parent;
	node->optional = !is_root && !force_required && (a->flags & ARROW_FLAG_NULLABLE);
	node->field_id = firn_schema_field_id(a);
	node->scale_factor = 1;
	int rc = firn_type_of(a, &node->type, b->err);
	if (rc != 0)
		return rc;
	node->element = s->n_elements;
	struct pq_schema_element *e = new_element(b, is_root ? "table" : node->name);
	if (e->name == NULL)
		return firn_error_set(b->err, FIRN_ENOMEM, "out of memory");
	if (!is_root) {
		e->has_repetition_type = true;
		e->repetition_type = node->optional ? PQ_OPTIONAL : PQ_REQUIRED;
	}
	if (node->field_id >= 0) {
		e->has_field_id = true;
		e->field_id = node->field_id;
	}
	enum firn_atype id = node->type.id;
	if (id != FIRN_A_STRUCT && id != FIRN_A_LIST && id != FIRN_A_MAP)
		return leaf_element(b, node, e);

	int64_t nc = a->n_children;
	if (id == FIRN_A_STRUCT && nc == 0)
		return firn_error_set(b->err, FIRN_EUNSUPPORTED,
				      "column %s: a struct with no fields cannot be stored", node->name);
	node->n_children = (int)nc;
	node->children = firn_arena_alloc(b->arena, sizeof(int) * (size_t)nc);
	if (node->children == NULL)
		return firn_error_set(b->err, FIRN_ENOMEM, "out of memory");
	e->has_num_children = true;
	e->num_children = (int32_t)nc;
	if (id == FIRN_A_LIST) {
		e->has_converted_type = true; e->converted_type = PQ_CT_LIST;
		e->logical_type.kind = PQ_LT_LIST;
		struct pq_schema_element *mid = new_element(b, "list");
		mid->has_repetition_type = true; mid->repetition_type = PQ_REPEATED;
		mid->has_num_children = true; mid->num_children = 1;
		int c;
		/* the element keeps its own name in Arrow; Parquet wants "element" */
		rc = add_from_arrow(b, a->children[0], n, false, false, &c);
		if (rc != 0)
			return rc;
		s->elements[s->nodes[c].element].name = "element";
		s->nodes[n].children[0] = c;
		return 0;
	}
	if (id == FIRN_A_MAP) {
		e->has_converted_type = true; e->converted_type = PQ_CT_MAP;
		e->logical_type.kind = PQ_LT_MAP;
		const struct ArrowSchema *entries = a->children[0];
		int c;
		/* entries becomes the repeated key_value group */
		int en = s->n_nodes;
		rc = add_from_arrow(b, entries, n, false, true, &c);
		if (rc != 0)
			return rc;
		struct pq_schema_element *kv = &s->elements[s->nodes[en].element];
		kv->name = "key_value";
		kv->repetition_type = PQ_REPEATED;
		kv->has_field_id = false;
		struct pq_node *ent = &s->nodes[en];
		if (ent->n_children != 2)
			return firn_error_set(b->err, FIRN_EINVAL, "column %s: map entries need key and value", node->name);
		/* keys are always required */
		int key = ent->children[0];
		s->nodes[key].optional = false;
		s->elements[s->nodes[key].element].repetition_type = PQ_REQUIRED;
		s->elements[s->nodes[key].element].name = "key";
		s->elements[s->nodes[ent->children[1]].element].name = "value";
		s->nodes[n].children[0] = c;
		return 0;
	}
	for (int64_t i = 0; i < nc; i++) {
		int c;
		rc = add_from_arrow(b, a->children[i], n, false, false, &c);
		if (rc != 0)
			return rc;
		s->nodes[n].children[i] = c;
	}
	return 0;
}

static int finish_schema(struct pq_schema *s, struct firn_arena *arena, struct firn_error *err)
{
	s->leaves = firn_arena_alloc(arena, sizeof(int) * (size_t)(s->n_nodes + 1));
	if (s->leaves == NULL)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	s->n_leaves = 0;
	assign_leaves(s, 0);
	assign_levels(s, 0, 0, 0);
	FIRN_TRY(leaf_paths(s, arena, err));
	/* the Parquet path of each leaf: names of the elements from below the root */
	for (int l = 0; l < s->n_leaves; l++) {
		struct firn_buf p = FIRN_BUF_INIT;
		int chain[130], depth = 0;
		for (int n = s->leaves[l]; n > 0 && depth < 128; n = s->nodes[n].parent)
			chain[depth++] = n;
		for (int i = depth - 1; i >= 0; i--) {
			const struct pq_node *node = &s->nodes[chain[i]];
			const struct pq_node *parent = &s->nodes[node->parent];
			if (parent->element == node->element)
				continue; /* a bare repeated field: one element, two nodes */
			if (p.len)
				firn_buf_putc(&p, '.');
			if (parent->type.id == FIRN_A_LIST && parent->element + 1 != node->element) {
				/* 3-level list: the middle group's name */
				firn_buf_puts(&p, s->elements[parent->element + 1].name);
				firn_buf_putc(&p, '.');
			}
			firn_buf_puts(&p, s->elements[node->element].name);
		}
		firn_buf_cstr(&p);
		s->leaf_paths[l] = firn_arena_strdup(arena, p.data ? (char *)p.data : "");
		firn_buf_free(&p);
		if (s->leaf_paths[l] == NULL)
			return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}

int firn_pq__schema_from_arrow(const struct ArrowSchema *schema, struct firn_arena *arena,
			       struct pq_schema *out, struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	if (schema->format == NULL || strcmp(schema->format, "+s") != 0)
		return firn_error_set(err, FIRN_EINVAL, "parquet schema: the root must be a struct");
	int nodes = 0, elements = 0;
	if (count_nodes(schema, &nodes, &elements, 0) != 0)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "parquet schema: nested too deeply");
	out->nodes = firn_arena_alloc(arena, sizeof(struct pq_node) * (size_t)nodes);
	out->elements = firn_arena_alloc(arena, sizeof(struct pq_schema_element) * (size_t)elements);
	if (out->nodes == NULL || out->elements == NULL)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	struct build b = { out, arena, err, nodes, elements };
	int root;
	FIRN_TRY(add_from_arrow(&b, schema, -1, true, false, &root));
	return finish_schema(out, arena, err);
}

/* ================= reader side: Parquet -> Arrow ================= */

struct parse {
	const struct pq_schema_element *el;
	int n, pos;
	struct pq_schema *s;
	struct firn_arena *arena;
	struct firn_error *err;
};

static int corrupt(struct parse *p, const char *what, int at)
{
	return firn_error_set(p->err, FIRN_ECORRUPT, "parquet schema: element %d: %s", at, what);
}

static bool is_list(const struct pq_schema_element *e)
{
	return e->logical_type.kind == PQ_LT_LIST ||
	       (e->has_converted_type && e->converted_type == PQ_CT_LIST);
}

static bool is_map(const struct pq_schema_element *e)
{
	return e->logical_type.kind == PQ_LT_MAP ||
	       (e->has_converted_type &&
		(e->converted_type == PQ_CT_MAP || e->converted_type == PQ_CT_MAP_KEY_VALUE));
}

static int new_node(struct parse *p, int parent, int element, const char *name, bool optional)
{
	struct pq_schema *s = p->s;
	int n = s->n_nodes++;
	struct pq_node *node = &s->nodes[n];
	memset(node, 0, sizeof(*node));
	node->name = name;
	node->parent = parent;
	node->element = element;
	node->optional = optional;
	node->field_id = p->el[element].has_field_id ? p->el[element].field_id : -1;
	node->scale_factor = 1;
	node->leaf = -1;
	return n;
}

static int set_children(struct parse *p, int n, int count)
{
	struct pq_node *node = &p->s->nodes[n];
	node->n_children = count;
	node->children = firn_arena_alloc(p->arena, sizeof(int) * (size_t)(count ? count : 1));
	return node->children ? 0 : firn_error_set(p->err, FIRN_ENOMEM, "out of memory");
}

static int leaf_type(struct parse *p, struct pq_node *node, const struct pq_schema_element *e, int at)
{
	struct firn_type *t = &node->type;
	const struct pq_logical_type *lt = &e->logical_type;
	int ct = e->has_converted_type ? (int)e->converted_type : -1;
	node->ptype = e->type;
	node->type_length = e->has_type_length ? e->type_length : 0;
	bool dec = lt->kind == PQ_LT_DECIMAL || ct == PQ_CT_DECIMAL;
	if (dec) {
		t->id = FIRN_A_DECIMAL;
		t->width = 16;
		t->precision = lt->kind == PQ_LT_DECIMAL ? lt->precision : e->precision;
		t->scale = lt->kind == PQ_LT_DECIMAL ? lt->scale : (e->has_scale ? e->scale : 0);
		if (t->precision < 1 || t->precision > 38 || t->scale < 0 || t->scale > t->precision)
			return firn_error_set(p->err, FIRN_EUNSUPPORTED,
					      "parquet schema: column %s: decimal(%d,%d) is not supported",
					      node->name, t->precision, t->scale);
	}
	switch (e->type) {
	case PQ_BOOLEAN:
		t->id = FIRN_A_BOOL; t->width = 1; node->conv = PQ_CONV_BOOL;
		return 0;
	case PQ_INT32:
		if (dec) { node->conv = PQ_CONV_DEC_I32; return 0; }
		if (lt->kind == PQ_LT_DATE || ct == PQ_CT_DATE) {
			t->id = FIRN_A_DATE32; t->width = 4; node->conv = PQ_CONV_COPY;
			return 0;
		}
		if ((lt->kind == PQ_LT_TIME && lt->unit == PQ_MILLIS) || ct == PQ_CT_TIME_MILLIS) {
			t->id = FIRN_A_TIME64; t->width = 8; t->unit_digits = 6;
			node->conv = PQ_CONV_I32_SCALE_I64; node->scale_factor = 1000;
			return 0;
		}
		if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed && lt->bit_width == 32) ||
		    ct == PQ_CT_UINT_32) {
			t->id = FIRN_A_INT64; t->width = 8; node->conv = PQ_CONV_U32_TO_I64;
			return 0;
		}
		t->id = FIRN_A_INT32; t->width = 4; node->conv = PQ_CONV_COPY;
		return 0;
	case PQ_INT64:
		if (dec) { node->conv = PQ_CONV_DEC_I64; return 0; }
		t->width = 8;
		node->conv = PQ_CONV_COPY;
		if (lt->kind == PQ_LT_TIMESTAMP || ct == PQ_CT_TIMESTAMP_MICROS ||
		    ct == PQ_CT_TIMESTAMP_MILLIS) {
			t->id = FIRN_A_TIMESTAMP;
			enum pq_time_unit unit = lt->kind == PQ_LT_TIMESTAMP ? lt->unit :
						 ct == PQ_CT_TIMESTAMP_MILLIS ? PQ_MILLIS : PQ_MICROS;
			t->tz = lt->kind == PQ_LT_TIMESTAMP ? lt->is_adjusted_to_utc : true;
			t->unit_digits = unit == PQ_NANOS ? 9 : 6;
			if (unit == PQ_MILLIS) {
				node->conv = PQ_CONV_SCALE_I64; node->scale_factor = 1000;
			}
			return 0;
		}
		if (lt->kind == PQ_LT_TIME || ct == PQ_CT_TIME_MICROS) {
			t->id = FIRN_A_TIME64;
			t->unit_digits = lt->kind == PQ_LT_TIME && lt->unit == PQ_NANOS ? 9 : 6;
			return 0;
		}
		if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed && lt->bit_width == 64) ||
		    ct == PQ_CT_UINT_64) {
			/* no Iceberg integer holds it; decimal(20,0) does, exactly */
			t->id = FIRN_A_DECIMAL; t->width = 16; t->precision = 20; t->scale = 0;
			node->conv = PQ_CONV_U64_TO_DEC;
			return 0;
		}
		t->id = FIRN_A_INT64;
		return 0;
	case PQ_INT96:
		t->id = FIRN_A_TIMESTAMP; t->width = 8; t->unit_digits = 6; t->tz = true;
		node->conv = PQ_CONV_INT96;
		return 0;
	case PQ_FLOAT:
		t->id = FIRN_A_FLOAT; t->width = 4; node->conv = PQ_CONV_COPY;
		return 0;
	case PQ_DOUBLE:
		t->id = FIRN_A_DOUBLE; t->width = 8; node->conv = PQ_CONV_COPY;
		return 0;
	case PQ_BYTE_ARRAY:
		if (dec) { node->conv = PQ_CONV_DEC_BE; return 0; }
		node->conv = PQ_CONV_BYTES;
		if (lt->kind == PQ_LT_STRING || lt->kind == PQ_LT_ENUM || lt->kind == PQ_LT_JSON ||
		    ct == PQ_CT_UTF8 || ct == PQ_CT_ENUM || ct == PQ_CT_JSON)
			t->id = FIRN_A_STRING;
		else
			t->id = FIRN_A_BINARY;
		return 0;
	case PQ_FIXED_LEN_BYTE_ARRAY:
		if (!e->has_type_length || e->type_length <= 0 || e->type_length > (1 << 24))
			return corrupt(p, "fixed_len_byte_array without a valid type_length", at);
		if (dec) {
			if (e->type_length > 16)
				return firn_error_set(p->err, FIRN_EUNSUPPORTED,
						      "parquet schema: column %s: decimal of %d bytes",
						      node->name, e->type_length);
			node->conv = PQ_CONV_DEC_BE;
			return 0;
		}
		t->id = FIRN_A_FIXED; t->width = e->type_length; node->conv = PQ_CONV_FIXED;
		t->uuid = lt->kind == PQ_LT_UUID && e->type_length == 16;
		return 0;
	}
	return corrupt(p, "unknown physical type", at);
}

/* Parses the element at p->pos (a field of a struct or a list/map child).
 * as_element: the element is a list's element itself (2-level lists and
 * bare repeated fields), so its repetition does not make another list. */
static int parse_node(struct parse *p, int parent, int depth, int *out, bool as_element)
{
	if (depth > 64)
		return corrupt(p, "nested too deeply", p->pos);
	if (p->pos >= p->n)
		return corrupt(p, "num_children runs past the schema", p->pos);
	int at = p->pos++;
	const struct pq_schema_element *e = &p->el[at];
	if (e->name == NULL)
		return corrupt(p, "no name", at);
	bool group = e->has_num_children && e->num_children > 0 && !e->has_type;
	if (!group && !e->has_type)
		return corrupt(p, "neither a group nor a typed leaf", at);
	if (!e->has_repetition_type)
		return corrupt(p, "no repetition_type", at);
	enum pq_repetition rep = e->repetition_type;
	if (group && e->num_children > p->n - p->pos)
		return corrupt(p, "num_children runs past the schema", at);

	if (rep == PQ_REPEATED && !as_element) {
		/* a bare repeated field: a required list of required elements */
		int n = new_node(p, parent, at, e->name, false);
		p->s->nodes[n].type.id = FIRN_A_LIST;
		p->s->nodes[n].field_id = -1;
		FIRN_TRY(set_children(p, n, 1));
		p->pos = at; /* parse the same element again as the element */
		int c;
		FIRN_TRY(parse_node(p, n, depth + 1, &c, true));
		p->s->nodes[c].optional = false;
		p->s->nodes[n].children[0] = c;
		*out = n;
		return 0;
	}
	bool optional = rep == PQ_OPTIONAL;
	int n = new_node(p, parent, at, e->name, optional);
	*out = n;
	if (!group)
		return leaf_type(p, &p->s->nodes[n], e, at);

	if (is_list(e) && e->num_children == 1) {
		p->s->nodes[n].type.id = FIRN_A_LIST;
		FIRN_TRY(set_children(p, n, 1));
		int mid_at = p->pos;
		const struct pq_schema_element *mid = &p->el[mid_at];
		if (!mid->has_repetition_type || mid->repetition_type != PQ_REPEATED)
			return corrupt(p, "a LIST's child is not repeated", mid_at);
		bool mid_group = mid->has_num_children && mid->num_children > 0 && !mid->has_type;
		size_t nl = strlen(e->name);
		bool two_level = !mid_group || mid->num_children != 1 ||
				 strcmp(mid->name ? mid->name : "", "array") == 0 ||
				 (mid->name && strncmp(mid->name, e->name, nl) == 0 &&
				  strcmp(mid->name + nl, "_tuple") == 0);
		int c;
		if (two_level) {
			FIRN_TRY(parse_node(p, n, depth + 1, &c, true));
			p->s->nodes[c].optional = false;
		} else {
			p->pos++; /* the middle group */
			FIRN_TRY(parse_node(p, n, depth + 1, &c, false));
		}
		p->s->nodes[n].children[0] = c;
		return 0;
	}
	if (is_map(e) && e->num_children == 1) {
		p->s->nodes[n].type.id = FIRN_A_MAP;
		FIRN_TRY(set_children(p, n, 1));
		int kv_at = p->pos;
		const struct pq_schema_element *kv = &p->el[kv_at];
		if (!kv->has_repetition_type || kv->repetition_type != PQ_REPEATED ||
		    !kv->has_num_children || kv->num_children != 2 || kv->has_type)
			return corrupt(p, "a MAP's child is not a repeated group of key and value", kv_at);
		p->pos++;
		int en = new_node(p, n, kv_at, "entries", false);
		p->s->nodes[en].type.id = FIRN_A_STRUCT;
		p->s->nodes[en].field_id = -1;
		FIRN_TRY(set_children(p, en, 2));
		for (int i = 0; i < 2; i++) {
			int c;
			FIRN_TRY(parse_node(p, en, depth + 2, &c, false));
			p->s->nodes[en].children[i] = c;
		}
		p->s->nodes[p->s->nodes[en].children[0]].optional = false;
		p->s->nodes[n].children[0] = en;
		return 0;
	}
	/* any other group: a struct (a repeated one was handled above) */
	p->s->nodes[n].type.id = FIRN_A_STRUCT;
	FIRN_TRY(set_children(p, n, e->num_children));
	for (int i = 0; i < e->num_children; i++) {
		int c;
		FIRN_TRY(parse_node(p, n, depth + 1, &c, false));
		p->s->nodes[n].children[i] = c;
	}
	return 0;
}

int firn_pq__schema_from_elements(const struct pq_schema_element *el, int n,
				  struct firn_arena *arena, struct pq_schema *out,
				  struct firn_error *err)
{
	memset(out, 0, sizeof(*out));
	if (n < 1 || !el[0].has_num_children || el[0].num_children < 0 || el[0].has_type)
		return firn_error_set(err, FIRN_ECORRUPT, "parquet schema: no root group");
	/* every child is an element of its own: bound the count before allocating */
	if (el[0].num_children > n - 1)
		return firn_error_set(err, FIRN_ECORRUPT,
				      "parquet schema: the root claims %d children, the schema has %d elements",
				      el[0].num_children, n);
	/* a node per element at most, plus one per bare repeated field */
	out->nodes = firn_arena_alloc(arena, sizeof(struct pq_node) * (size_t)(2 * n + 1));
	if (out->nodes == NULL)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	out->elements = (struct pq_schema_element *)el;
	out->n_elements = n;
	struct parse p = { el, n, 1, out, arena, err };
	int root = new_node(&p, -1, 0, el[0].name ? el[0].name : "schema", false);
	out->nodes[root].type.id = FIRN_A_STRUCT;
	out->nodes[root].field_id = -1;
	FIRN_TRY(set_children(&p, root, el[0].num_children));
	for (int i = 0; i < el[0].num_children; i++) {
		int c;
		FIRN_TRY(parse_node(&p, root, 1, &c, false));
		out->nodes[root].children[i] = c;
	}
	if (p.pos != n)
		return firn_error_set(err, FIRN_ECORRUPT,
				      "parquet schema: %d elements, but the tree uses %d", n, p.pos);
	/* leaves: the nodes without children that are not empty groups */
	for (int i = 0; i < out->n_nodes; i++) {
		const struct pq_node *node = &out->nodes[i];
		if (node->n_children == 0 && (node->type.id == FIRN_A_STRUCT))
			return firn_error_set(err, FIRN_ECORRUPT, "parquet schema: group %s has no fields",
					      node->name);
	}
	FIRN_TRY(finish_schema(out, arena, err));
	for (int l = 0; l < out->n_leaves; l++) {
		const struct pq_node *leaf = &out->nodes[out->leaves[l]];
		if (leaf->valid_def > 255 || leaf->rep > 255)
			return firn_error_set(err, FIRN_EUNSUPPORTED, "parquet schema: too many levels");
	}
	return 0;
}

int firn_pq__schema_to_arrow(const struct pq_schema *s, int n, struct ArrowSchema *out,
			     struct firn_error *err)
{
	const struct pq_node *node = &s->nodes[n];
	int64_t flags = node->optional ? ARROW_FLAG_NULLABLE : 0;
	int rc = firn_arrow__type_schema(out, &node->type, node->name, flags, node->n_children);
	if (rc == 0 && node->field_id >= 0)
		rc = firn_schema_set_field_id(out, node->field_id);
	for (int i = 0; rc == 0 && i < node->n_children; i++) {
		rc = firn_pq__schema_to_arrow(s, node->children[i], out->children[i], err);
		if (rc != 0) {
			out->release(out);
			return rc;
		}
	}
	if (rc != 0) {
		if (out->release)
			out->release(out);
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	}
	return 0;
}
