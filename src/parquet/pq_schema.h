/* The bridge between an Arrow schema tree and a Parquet schema (the flat
 * depth-first SchemaElement list), with the definition and repetition
 * levels of every node. Internal to libfirn.
 *
 * Nodes are the Arrow nodes (a list's middle "list" group has no node; a
 * map's "key_value" group is the map's "entries" struct node). Levels:
 *   slot_def   def level at which the node has a slot (its parent exists)
 *   valid_def  def level at which the node is non-null
 *   elem_def   list/map: def level at which it has at least one element
 *   rep        list/map: its repetition level; others: the enclosing one */
#ifndef FIRN_PQ_SCHEMA_H
#define FIRN_PQ_SCHEMA_H

#include "firn/arrow.h"
#include "parquet/pq_meta.h"

/* How stored values become Arrow values (reader). */
enum pq_conv {
	PQ_CONV_NONE,     /* groups */
	PQ_CONV_BOOL,
	PQ_CONV_COPY,     /* same width as Arrow (int32, int64, float, double) */
	PQ_CONV_I32_TO_I64,  /* uint32 -> long */
	PQ_CONV_U32_TO_I64,
	PQ_CONV_SCALE_I64,   /* int64 * factor (millis -> micros) */
	PQ_CONV_I32_SCALE_I64, /* int32 time millis -> int64 micros */
	PQ_CONV_DEC_I32,  /* int32 unscaled -> decimal128 */
	PQ_CONV_DEC_I64,
	PQ_CONV_U64_TO_DEC, /* uint64 -> decimal(20,0) */
	PQ_CONV_DEC_BE,   /* big-endian two's complement bytes -> decimal128 */
	PQ_CONV_INT96,    /* Impala timestamps -> micros */
	PQ_CONV_BYTES,    /* byte array -> string/binary */
	PQ_CONV_FIXED     /* flba -> fixed_size_binary */
};

struct pq_node {
	const char *name;
	struct firn_type type;     /* the Arrow type */
	int32_t field_id;          /* -1: none */
	bool optional;
	int parent;                /* -1 for the root */
	int n_children;
	int *children;             /* node indices */
	int16_t slot_def, valid_def, elem_def, rep;
	int leaf;                  /* leaf index or -1 */
	int first_leaf;            /* first leaf at or under this node */
	int element;               /* index of the node's SchemaElement */
	/* leaves */
	enum pq_type ptype;
	int32_t type_length;
	enum pq_conv conv;
	int64_t scale_factor;
};

struct pq_schema {
	int n_nodes;
	struct pq_node *nodes;     /* nodes[0] is the root struct */
	int n_leaves;
	int *leaves;               /* node index of each leaf, in leaf order */
	int n_elements;
	struct pq_schema_element *elements;
	char **leaf_paths;         /* "a.b.c" Parquet path of each leaf */
};

/* Writer: builds the Parquet schema of `schema` (a "+s" root). Everything
 * lives in arena. FIRN_EUNSUPPORTED for Arrow types firn cannot store. */
int firn_pq__schema_from_arrow(const struct ArrowSchema *schema, struct firn_arena *arena,
			       struct pq_schema *out, struct firn_error *err);

/* Reader: interprets a footer's SchemaElement list (checked: counts, names,
 * types). Everything lives in arena. */
int firn_pq__schema_from_elements(const struct pq_schema_element *el, int n,
				  struct firn_arena *arena, struct pq_schema *out,
				  struct firn_error *err);

/* The Arrow schema of node `node` (0 = the whole file), a new tree. */
int firn_pq__schema_to_arrow(const struct pq_schema *s, int node, struct ArrowSchema *out,
			     struct firn_error *err);

#endif
