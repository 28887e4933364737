/* Parquet footer and page-header structures (parquet.thrift), and their
 * Thrift compact encoding. Internal to libfirn.
 *
 * Field names follow parquet.thrift. An optional field has a has_<name>
 * flag. Strings and binaries of parsed structures live in the arena the
 * parser was given; arrays too. */
#ifndef FIRN_PQ_META_H
#define FIRN_PQ_META_H

#include <stdbool.h>
#include <stdint.h>

#include "firn/util.h"

enum pq_type { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_INT96 = 3, PQ_FLOAT = 4,
	       PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6, PQ_FIXED_LEN_BYTE_ARRAY = 7 };
enum pq_repetition { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum pq_encoding { PQ_PLAIN = 0, PQ_PLAIN_DICTIONARY = 2, PQ_RLE = 3, PQ_BIT_PACKED = 4,
		   PQ_DELTA_BINARY_PACKED = 5, PQ_DELTA_LENGTH_BYTE_ARRAY = 6,
		   PQ_DELTA_BYTE_ARRAY = 7, PQ_RLE_DICTIONARY = 8, PQ_BYTE_STREAM_SPLIT = 9 };
enum pq_codec { PQ_UNCOMPRESSED = 0, PQ_SNAPPY = 1, PQ_GZIP = 2, PQ_LZO = 3, PQ_BROTLI = 4,
		PQ_LZ4 = 5, PQ_ZSTD = 6, PQ_LZ4_RAW = 7 };
enum pq_page_type { PQ_DATA_PAGE = 0, PQ_INDEX_PAGE = 1, PQ_DICTIONARY_PAGE = 2,
		    PQ_DATA_PAGE_V2 = 3 };
enum pq_converted { PQ_CT_UTF8 = 0, PQ_CT_MAP = 1, PQ_CT_MAP_KEY_VALUE = 2, PQ_CT_LIST = 3,
		    PQ_CT_ENUM = 4, PQ_CT_DECIMAL = 5, PQ_CT_DATE = 6, PQ_CT_TIME_MILLIS = 7,
		    PQ_CT_TIME_MICROS = 8, PQ_CT_TIMESTAMP_MILLIS = 9,
		    PQ_CT_TIMESTAMP_MICROS = 10, PQ_CT_UINT_8 = 11, PQ_CT_UINT_16 = 12,
		    PQ_CT_UINT_32 = 13, PQ_CT_UINT_64 = 14, PQ_CT_INT_8 = 15, PQ_CT_INT_16 = 16,
		    PQ_CT_INT_32 = 17, PQ_CT_INT_64 = 18, PQ_CT_JSON = 19, PQ_CT_BSON = 20,
		    PQ_CT_INTERVAL = 21 };
/* LogicalType union member ids. */
enum pq_logical_kind { PQ_LT_NONE = 0, PQ_LT_STRING = 1, PQ_LT_MAP = 2, PQ_LT_LIST = 3,
		       PQ_LT_ENUM = 4, PQ_LT_DECIMAL = 5, PQ_LT_DATE = 6, PQ_LT_TIME = 7,
		       PQ_LT_TIMESTAMP = 8, PQ_LT_INTEGER = 10, PQ_LT_UNKNOWN = 11,
		       PQ_LT_JSON = 12, PQ_LT_BSON = 13, PQ_LT_UUID = 14, PQ_LT_FLOAT16 = 15,
		       PQ_LT_VARIANT = 16, PQ_LT_GEOMETRY = 17, PQ_LT_GEOGRAPHY = 18 };
enum pq_time_unit { PQ_MILLIS = 1, PQ_MICROS = 2, PQ_NANOS = 3 };

struct pq_bytes {
	const uint8_t *ptr;
	int32_t len;
};

struct pq_logical_type {
	enum pq_logical_kind kind; /* PQ_LT_NONE: absent */
	int32_t scale, precision;  /* DECIMAL */
	bool is_adjusted_to_utc;   /* TIME, TIMESTAMP */
	enum pq_time_unit unit;    /* TIME, TIMESTAMP */
	int8_t bit_width;          /* INTEGER */
	bool is_signed;            /* INTEGER */
};

struct pq_schema_element {
	bool has_type; enum pq_type type;
	bool has_type_length; int32_t type_length;
	bool has_repetition_type; enum pq_repetition repetition_type;
	const char *name; /* required */
	bool has_num_children; int32_t num_children;
	bool has_converted_type; enum pq_converted converted_type;
	bool has_scale; int32_t scale;
	bool has_precision; int32_t precision;
	bool has_field_id; int32_t field_id;
	struct pq_logical_type logical_type;
};

struct pq_statistics {
	bool has_max; struct pq_bytes max;           /* 1, deprecated */
	bool has_min; struct pq_bytes min;           /* 2, deprecated */
	bool has_null_count; int64_t null_count;     /* 3 */
	bool has_distinct_count; int64_t distinct_count; /* 4 */
	bool has_max_value; struct pq_bytes max_value;   /* 5 */
	bool has_min_value; struct pq_bytes min_value;   /* 6 */
	bool has_is_max_value_exact; bool is_max_value_exact; /* 7 */
	bool has_is_min_value_exact; bool is_min_value_exact; /* 8 */
};

struct pq_page_encoding_stats {
	enum pq_page_type page_type;
	enum pq_encoding encoding;
	int32_t count;
};

struct pq_key_value {
	const char *key;
	const char *value; /* NULL when absent */
};

struct pq_column_meta {
	enum pq_type type;
	int32_t n_encodings; enum pq_encoding *encodings;
	int32_t n_path; const char **path_in_schema;
	enum pq_codec codec;
	int64_t num_values;
	int64_t total_uncompressed_size;
	int64_t total_compressed_size;
	int32_t n_key_value_metadata; struct pq_key_value *key_value_metadata;
	int64_t data_page_offset;
	bool has_index_page_offset; int64_t index_page_offset;
	bool has_dictionary_page_offset; int64_t dictionary_page_offset;
	bool has_statistics; struct pq_statistics statistics;
	int32_t n_encoding_stats; struct pq_page_encoding_stats *encoding_stats;
	bool has_bloom_filter_offset; int64_t bloom_filter_offset;
	bool has_bloom_filter_length; int32_t bloom_filter_length;
};

struct pq_column_chunk {
	const char *file_path; /* NULL when absent */
	int64_t file_offset;
	bool has_meta_data; struct pq_column_meta meta_data;
	bool has_offset_index_offset; int64_t offset_index_offset;
	bool has_offset_index_length; int32_t offset_index_length;
	bool has_column_index_offset; int64_t column_index_offset;
	bool has_column_index_length; int32_t column_index_length;
};

struct pq_sorting_column {
	int32_t column_idx;
	bool descending;
	bool nulls_first;
};

struct pq_row_group {
	int32_t n_columns; struct pq_column_chunk *columns;
	int64_t total_byte_size;
	int64_t num_rows;
	int32_t n_sorting_columns; struct pq_sorting_column *sorting_columns;
	bool has_file_offset; int64_t file_offset;
	bool has_total_compressed_size; int64_t total_compressed_size;
	bool has_ordinal; int16_t ordinal;
};

/* ColumnOrder union member ids: 1 TYPE_ORDER, 2 IEEE_754_TOTAL_ORDER, ... */
struct pq_file_meta {
	int32_t version;
	int32_t n_schema; struct pq_schema_element *schema;
	int64_t num_rows;
	int32_t n_row_groups; struct pq_row_group *row_groups;
	int32_t n_key_value_metadata; struct pq_key_value *key_value_metadata;
	const char *created_by; /* NULL when absent */
	int32_t n_column_orders; int32_t *column_orders;
};

struct pq_data_page_header {
	int32_t num_values;
	enum pq_encoding encoding;
	enum pq_encoding definition_level_encoding;
	enum pq_encoding repetition_level_encoding;
	bool has_statistics; struct pq_statistics statistics;
};

struct pq_dictionary_page_header {
	int32_t num_values;
	enum pq_encoding encoding;
	bool has_is_sorted; bool is_sorted;
};

struct pq_data_page_header_v2 {
	int32_t num_values;
	int32_t num_nulls;
	int32_t num_rows;
	enum pq_encoding encoding;
	int32_t definition_levels_byte_length;
	int32_t repetition_levels_byte_length;
	bool is_compressed; /* defaults to true when absent */
	bool has_statistics; struct pq_statistics statistics;
};

struct pq_page_header {
	enum pq_page_type type;
	int32_t uncompressed_page_size;
	int32_t compressed_page_size;
	bool has_crc; int32_t crc;
	bool has_data_page_header; struct pq_data_page_header data_page_header;
	bool has_dictionary_page_header; struct pq_dictionary_page_header dictionary_page_header;
	bool has_data_page_header_v2; struct pq_data_page_header_v2 data_page_header_v2;
};

/* Parses a FileMetaData from buf[0..len). Every string, binary and array
 * is allocated in `arena` (caller frees the arena). Unknown fields are
 * skipped; required fields missing, lengths past the end, negative counts,
 * nesting deeper than 64: FIRN_ECORRUPT with the offset in the message. */
int firn_pq__parse_file_meta(const uint8_t *buf, size_t len, struct firn_arena *arena,
			     struct pq_file_meta *out, struct firn_error *err);

/* Parses one PageHeader at the start of buf[0..len); *consumed gets its
 * encoded size. Statistics bytes point into buf (no arena needed). */
int firn_pq__parse_page_header(const uint8_t *buf, size_t len, size_t *consumed,
			       struct pq_page_header *out, struct firn_error *err);

/* Appends the compact encoding of m / h to out. 0 or FIRN_ENOMEM. */
int firn_pq__write_file_meta(struct firn_buf *out, const struct pq_file_meta *m);
int firn_pq__write_page_header(struct firn_buf *out, const struct pq_page_header *h);

#endif
