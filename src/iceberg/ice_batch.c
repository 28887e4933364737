/* Fitting batches to schemas, gathering rows. */
#include <stdio.h>
#include <string.h>

#include "arrow/types.h"
#include "iceberg/ice_batch.h"

/* ---- struct arrays over moved children ------------------------------ */

struct sa_private {
	void *validity;
	const void *bufs[1];
	struct ArrowArray *kids;
	struct ArrowArray *kid_ptrs[];
};

static void sa_release(struct ArrowArray *a)
{
	if (!a || !a->release)
		return;
	struct sa_private *p = a->private_data;
	for (int64_t i = 0; i < a->n_children; i++)
		if (p->kids[i].release)
			p->kids[i].release(&p->kids[i]);
	firn_free(p->validity);
	firn_free(p->kids);
	firn_free(p);
	a->release = NULL;
}

/* A struct array of `length` rows with n empty child slots (release NULL
 * until filled) and validity copied from src_validity (bit offset off). */
static int sa_new(struct ArrowArray *out, int64_t length, int64_t n, const uint8_t *src_validity,
		  int64_t off, int64_t null_count)
{
	memset(out, 0, sizeof(*out));
	struct sa_private *p = firn_calloc(1, sizeof(*p) + (size_t)(n + 1) * sizeof(void *));
	if (!p)
		return FIRN_ENOMEM;
	p->kids = firn_calloc((size_t)n + 1, sizeof(struct ArrowArray));
	if (!p->kids) {
		firn_free(p);
		return FIRN_ENOMEM;
	}
	for (int64_t i = 0; i < n; i++)
		p->kid_ptrs[i] = &p->kids[i];
	if (src_validity && null_count != 0) {
		size_t bytes = (size_t)(length + 7) / 8;
		uint8_t *v = firn_calloc(bytes + 1, 1);
		if (!v) {
			firn_free(p->kids);
			firn_free(p);
			return FIRN_ENOMEM;
		}
		for (int64_t i = 0; i < length; i++)
			if (firn_bit_get(src_validity, off + i))
				v[i >> 3] |= (uint8_t)(1u << (i & 7));
		p->validity = v;
	}
	p->bufs[0] = p->validity;
	out->length = length;
	out->null_count = p->validity ? null_count : 0;
	out->n_buffers = 1;
	out->buffers = p->bufs;
	out->n_children = n;
	out->children = p->kid_ptrs;
	out->private_data = p;
	out->release = sa_release;
	return 0;
}

static void move_array(struct ArrowArray *dst, struct ArrowArray *src)
{
	*dst = *src;
	src->release = NULL;
}

/* ---- nulls --------------------------------------------------------- */

static int null_column(const struct ArrowSchema *s, int64_t n, struct ArrowArray *out,
		       struct firn_error *err)
{
	struct firn_builder b;
	FIRN_TRY(firn_builder_init(&b, s, err));
	int rc = 0;
	for (int64_t i = 0; i < n && rc == 0; i++)
		rc = firn_builder_append_null(&b);
	if (rc == 0)
		rc = firn_builder_finish(&b, out, err);
	else
		rc = firn_error_set(err, rc, "out of memory");
	firn_builder_free(&b);
	return rc;
}

int firn_ice__batch_nulls(const struct ArrowSchema *s, int64_t n, struct ArrowArray *out,
			  struct firn_error *err)
{
	FIRN_TRY(sa_new(out, n, s->n_children, NULL, 0, 0));
	for (int64_t i = 0; i < s->n_children; i++) {
		int rc = null_column(s->children[i], n, out->children[i], err);
		if (rc != 0) {
			out->release(out);
			return rc;
		}
	}
	return 0;
}

/* ---- fitting ------------------------------------------------------- */

static const char *nm(const struct ArrowSchema *s)
{
	return s->name ? s->name : "";
}

static int find_child(const struct ArrowSchema *s, const struct ArrowSchema *want,
		      enum firn_match match)
{
	int32_t id = firn_schema_field_id(want);
	for (int64_t i = 0; i < s->n_children; i++) {
		if (match == FIRN_MATCH_ID) {
			if (id >= 0 && firn_schema_field_id(s->children[i]) == id)
				return (int)i;
		} else if (strcmp(nm(s->children[i]), nm(want)) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* Same shape all the way down (so the array can be moved as is). */
static bool same_shape(const struct ArrowSchema *a, const struct ArrowSchema *b,
		       enum firn_match match)
{
	if (strcmp(a->format, b->format) != 0 || a->n_children != b->n_children)
		return false;
	for (int64_t i = 0; i < a->n_children; i++) {
		bool entries = a->format[0] == '+' && a->format[1] != 's';
		if (!entries && match == FIRN_MATCH_ID &&
		    firn_schema_field_id(a->children[i]) != firn_schema_field_id(b->children[i]))
			return false;
		if (!entries && match == FIRN_MATCH_NAME &&
		    strcmp(nm(a->children[i]), nm(b->children[i])) != 0)
			return false;
		if (!same_shape(a->children[i], b->children[i], match))
			return false;
	}
	return true;
}

static int type_text(const struct ArrowSchema *s, char *buf, size_t cap)
{
	struct firn_type t;
	char name[FIRN_TYPE_NAME_MAX];
	if (firn_type_of(s, &t, NULL) != 0) {
		snprintf(buf, cap, "%s", s->format);
		return 0;
	}
	/* seconds and millis are no Iceberg unit: say which the input has */
	bool coarse = t.id == FIRN_A_TIMESTAMP && t.unit_digits < 6;
	snprintf(buf, cap, "%s%s", firn_arrow__type_name(&t, name),
		 !coarse ? "" : t.unit_digits == 3 ? "(ms)" : "(s)");
	return 0;
}

static int mismatch(const struct ArrowSchema *ss, const struct ArrowSchema *ds,
		    struct firn_error *err)
{
	char a[64], b[64];
	type_text(ss, a, sizeof(a));
	type_text(ds, b, sizeof(b));
	return firn_error_set(err, FIRN_EINVAL, "column '%s': cannot read %s as %s", nm(ds), a, b);
}

/* x (a count of 10^-from seconds) in units of 10^-to: 0, or an error when
 * it leaves int64 or (input, unless truncating) drops nonzero digits.
 * Reading data files (o NULL) rounds down, as before. */
static int rescale(int64_t x, int from, int to, const struct ArrowSchema *ds,
		   const struct firn_type *dt, const struct firn_ice_fit_options *o, int64_t row,
		   int64_t *out, struct firn_error *err)
{
	int64_t y = x;
	for (int d = from; d < to; d += 3)
		if (__builtin_mul_overflow(y, 1000, &y))
			return firn_error_set(err, FIRN_EINVAL,
					      "column '%s': row %lld: %lld (10^-%d s) is out of range for %s",
					      nm(ds), (long long)row, (long long)x, from,
					      dt->tz ? "timestamptz" : "timestamp");
	int64_t unit = 1;
	for (int d = to; d < from; d += 3)
		unit *= 1000;
	if (unit > 1 && o != NULL && !o->truncate_timestamps && x % unit != 0) {
		char text[48];
		firn_timestamp_format(x, from, false, text, sizeof(text));
		return firn_error_set(err, FIRN_EINVAL,
				      "row %lld: value %s has sub-microsecond digits; column %s is %s (µs); "
				      "pass --truncate-timestamps to drop them",
				      (long long)row, text, nm(ds), dt->tz ? "timestamptz" : "timestamp");
	}
	if (unit > 1)
		y = x >= 0 ? x / unit : -((-(x + 1)) / unit) - 1;
	*out = y;
	return 0;
}

/* A primitive array of dst type converted from src (validity copied). */
static int convert(const struct ArrowSchema *ss, const struct ArrowArray *sa,
		   const struct ArrowSchema *ds, const struct firn_type *st,
		   const struct firn_type *dt, const struct firn_ice_fit_options *o,
		   struct ArrowArray *out, struct firn_error *err)
{
	int64_t first = o != NULL ? o->first_row : 0;
	struct firn_builder b;
	FIRN_TRY(firn_builder_init(&b, ds, err));
	const uint8_t *valid = sa->null_count != 0 ? sa->buffers[0] : NULL;
	int rc = 0;
	for (int64_t i = 0; i < sa->length && rc == 0; i++) {
		int64_t j = sa->offset + i;
		if (!firn_bit_get(valid, j)) {
			rc = firn_builder_append_null(&b);
			continue;
		}
		const void *v = sa->buffers[1];
		if (st->id == FIRN_A_INT32 && dt->id == FIRN_A_INT64)
			rc = firn_builder_append_i64(&b, ((const int32_t *)v)[j]);
		else if (st->id == FIRN_A_INT64 && dt->id == FIRN_A_INT32) {
			int64_t x = ((const int64_t *)v)[j];
			if (x < INT32_MIN || x > INT32_MAX) {
				firn_builder_free(&b);
				return firn_error_set(err, FIRN_EINVAL,
						      "column '%s': %lld is out of range for int",
						      nm(ds), (long long)x);
			}
			rc = firn_builder_append_i32(&b, (int32_t)x);
		} else if (st->id == FIRN_A_FLOAT && dt->id == FIRN_A_DOUBLE)
			rc = firn_builder_append_f64(&b, ((const float *)v)[j]);
		else if ((st->id == FIRN_A_DATE32 || st->id == FIRN_A_TIMESTAMP) &&
			 dt->id == FIRN_A_TIMESTAMP) {
			int64_t x = st->id == FIRN_A_DATE32 ? (int64_t)((const int32_t *)v)[j] * 86400
							    : ((const int64_t *)v)[j];
			int from = st->id == FIRN_A_DATE32 ? 0 : st->unit_digits;
			if ((rc = rescale(x, from, dt->unit_digits, ds, dt, o, first + i, &x, err)) != 0) {
				firn_builder_free(&b);
				return rc;
			}
			rc = firn_builder_append_i64(&b, x);
		} else {
			firn_builder_free(&b);
			return mismatch(ss, ds, err);
		}
	}
	if (rc == 0)
		rc = firn_builder_finish(&b, out, err);
	else
		rc = firn_error_set(err, rc, "out of memory");
	firn_builder_free(&b);
	return rc;
}

static int fit_struct(const struct ArrowSchema *ss, struct ArrowArray *sa,
		      const struct ArrowSchema *ds, enum firn_match match, bool top,
		      const struct firn_ice_fit_options *o, struct ArrowArray *out,
		      struct firn_error *err);

static int fit_column(const struct ArrowSchema *ss, struct ArrowArray *sa,
		      const struct ArrowSchema *ds, enum firn_match match,
		      const struct firn_ice_fit_options *o, struct ArrowArray *out,
		      struct firn_error *err)
{
	if (match == FIRN_MATCH_NAME && !(ds->flags & ARROW_FLAG_NULLABLE) && sa->null_count != 0) {
		bool nulls = sa->null_count > 0;
		if (sa->null_count < 0) {
			const uint8_t *v = sa->buffers[0];
			for (int64_t i = 0; v && i < sa->length && !nulls; i++)
				nulls = !firn_bit_get(v, sa->offset + i);
		}
		if (nulls)
			return firn_error_set(err, FIRN_EINVAL, "column '%s' is required but has nulls",
					      nm(ds));
	}
	if (same_shape(ss, ds, match)) {
		move_array(out, sa);
		return 0;
	}
	struct firn_type st, dt;
	FIRN_TRY(firn_type_of(ss, &st, err));
	FIRN_TRY(firn_type_of(ds, &dt, err));
	if (st.id == FIRN_A_STRUCT && dt.id == FIRN_A_STRUCT)
		return fit_struct(ss, sa, ds, match, false, o, out, err);
	if (st.id == FIRN_A_DECIMAL && dt.id == FIRN_A_DECIMAL && st.scale == dt.scale &&
	    st.precision <= dt.precision) {
		move_array(out, sa);
		return 0;
	}
	if ((st.id == FIRN_A_LIST && dt.id == FIRN_A_LIST) || (st.id == FIRN_A_MAP && dt.id == FIRN_A_MAP)) {
		/* element types that differ only in names/ids at this level */
		if (same_shape(ss, ds, FIRN_MATCH_NAME) || same_shape(ss, ds, FIRN_MATCH_ID) ||
		    strcmp(ss->format, ds->format) == 0) {
			/* nested evolution inside lists/maps is not rewritten */
			if (same_shape(ss->children[0], ds->children[0], FIRN_MATCH_ID) ||
			    same_shape(ss->children[0], ds->children[0], FIRN_MATCH_NAME)) {
				move_array(out, sa);
				return 0;
			}
		}
		return firn_error_set(err, FIRN_EUNSUPPORTED,
				      "column '%s': reading a %s whose element type changed is not supported yet",
				      nm(ds), st.id == FIRN_A_LIST ? "list" : "map");
	}
	bool timestamps = st.id == FIRN_A_TIMESTAMP && dt.id == FIRN_A_TIMESTAMP && st.tz == dt.tz;
	if ((st.id == FIRN_A_INT32 && dt.id == FIRN_A_INT64) ||
	    (st.id == FIRN_A_FLOAT && dt.id == FIRN_A_DOUBLE) ||
	    (st.id == FIRN_A_DATE32 && dt.id == FIRN_A_TIMESTAMP) || timestamps ||
	    (match == FIRN_MATCH_NAME && st.id == FIRN_A_INT64 && dt.id == FIRN_A_INT32))
		return convert(ss, sa, ds, &st, &dt, o, out, err);
	if (st.id == dt.id && st.id != FIRN_A_DECIMAL && st.id != FIRN_A_FIXED &&
	    st.id != FIRN_A_STRUCT && st.id != FIRN_A_LIST && st.id != FIRN_A_MAP) {
		/* same storage, different metadata (e.g. no field id): move */
		move_array(out, sa);
		return 0;
	}
	if (st.id == FIRN_A_FIXED && dt.id == FIRN_A_FIXED && st.width == dt.width) {
		move_array(out, sa);
		return 0;
	}
	return mismatch(ss, ds, err);
}

static int fit_struct(const struct ArrowSchema *ss, struct ArrowArray *sa,
		      const struct ArrowSchema *ds, enum firn_match match, bool top,
		      const struct firn_ice_fit_options *o, struct ArrowArray *out,
		      struct firn_error *err)
{
	if (sa->offset != 0 && !top)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "column '%s': sliced struct arrays",
				      nm(ds));
	FIRN_TRY(sa_new(out, sa->length, ds->n_children, sa->null_count ? sa->buffers[0] : NULL,
			sa->offset, sa->null_count));
	int rc = 0;
	for (int64_t j = 0; j < ds->n_children && rc == 0; j++) {
		const struct ArrowSchema *dc = ds->children[j];
		int k = find_child(ss, dc, match);
		if (k < 0) {
			if (match == FIRN_MATCH_NAME && !(dc->flags & ARROW_FLAG_NULLABLE))
				rc = firn_error_set(err, FIRN_EINVAL,
						    "column '%s' is required but missing from the input",
						    nm(dc));
			else
				rc = null_column(dc, sa->length, out->children[j], err);
			continue;
		}
		rc = fit_column(ss->children[k], sa->children[k], dc, match, o, out->children[j], err);
	}
	if (rc == 0 && match == FIRN_MATCH_NAME && top) {
		for (int64_t k = 0; k < ss->n_children; k++)
			if (find_child(ds, ss->children[k], match) < 0) {
				rc = firn_error_set(err, FIRN_EINVAL,
						    "input column '%s' is not in the table",
						    nm(ss->children[k]));
				break;
			}
	}
	if (rc != 0)
		out->release(out);
	return rc;
}

int firn_ice__batch_fit(const struct ArrowSchema *src_schema, struct ArrowArray *src,
			const struct ArrowSchema *dst, enum firn_match match,
			struct ArrowArray *out, struct firn_error *err)
{
	int rc = fit_struct(src_schema, src, dst, match, true, NULL, out, err);
	if (rc == FIRN_ENOMEM && err && !err->message[0]) /* the array builders' bare code */
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (src->release)
		src->release(src);
	return rc;
}

int firn_ice__batch_fit_input(const struct ArrowSchema *src_schema, struct ArrowArray *src,
			      const struct ArrowSchema *dst, const struct firn_ice_fit_options *o,
			      struct ArrowArray *out, struct firn_error *err)
{
	struct firn_ice_fit_options def = { 0 };
	int rc = fit_struct(src_schema, src, dst, FIRN_MATCH_NAME, true, o ? o : &def, out, err);
	if (rc == FIRN_ENOMEM && err && !err->message[0]) /* the array builders' bare code */
		firn_error_set(err, FIRN_ENOMEM, "out of memory");
	if (src->release)
		src->release(src);
	return rc;
}

/* ---- take ---------------------------------------------------------- */

static int append_from(struct firn_builder *b, const struct ArrowSchema *s,
		       const struct ArrowArray *a, int64_t i)
{
	int64_t j = a->offset + i;
	if (a->null_count != 0 && a->n_buffers > 0 && !firn_bit_get(a->buffers[0], j))
		return firn_builder_append_null(b);
	const struct firn_type *t = &b->type;
	switch (t->id) {
	case FIRN_A_NULL: return firn_builder_append_null(b);
	case FIRN_A_BOOL: return firn_builder_append_bool(b, firn_bit_get(a->buffers[1], j));
	case FIRN_A_INT32:
	case FIRN_A_DATE32:
	case FIRN_A_FLOAT: return firn_builder_append_fixed(b, (const uint8_t *)a->buffers[1] + 4 * j);
	case FIRN_A_INT64:
	case FIRN_A_DOUBLE:
	case FIRN_A_TIME64:
	case FIRN_A_TIMESTAMP: return firn_builder_append_fixed(b, (const uint8_t *)a->buffers[1] + 8 * j);
	case FIRN_A_DECIMAL: return firn_builder_append_fixed(b, (const uint8_t *)a->buffers[1] + 16 * j);
	case FIRN_A_FIXED:
		return firn_builder_append_fixed(b, (const uint8_t *)a->buffers[1] + (int64_t)t->width * j);
	case FIRN_A_STRING:
	case FIRN_A_BINARY: {
		const int32_t *o = a->buffers[1];
		return firn_builder_append_bytes(b, (const uint8_t *)a->buffers[2] + o[j],
						 (size_t)(o[j + 1] - o[j]));
	}
	case FIRN_A_STRUCT:
		FIRN_TRY(firn_builder_append_struct(b));
		for (int64_t c = 0; c < a->n_children; c++)
			FIRN_TRY(append_from(&b->children[c], s->children[c], a->children[c], j));
		return 0;
	case FIRN_A_LIST:
	case FIRN_A_MAP: {
		const int32_t *o = a->buffers[1];
		for (int32_t k = o[j]; k < o[j + 1]; k++)
			FIRN_TRY(append_from(&b->children[0], s->children[0], a->children[0], k));
		return firn_builder_append_list_end(b);
	}
	}
	return FIRN_EUNSUPPORTED;
}

/* The bulk path of take for a flat column (fixed width or string/binary)
 * into an empty builder: 1 done, 0 not a flat column, <0 error. Rows are
 * a->offset + base + idx[i]. */
/* The end of the run of consecutive rows starting at idx[i]. */
static inline int64_t run_end(const int64_t *idx, int64_t i, int64_t n)
{
	int64_t j = i + 1;
	while (j < n && idx[j] == idx[j - 1] + 1)
		j++;
	return j;
}

static int take_flat(struct firn_builder *b, const struct ArrowArray *a, int64_t base,
		     const int64_t *idx, int64_t n)
{
	const struct firn_type *t = &b->type;
	bool fixed = t->id == FIRN_A_INT32 || t->id == FIRN_A_DATE32 || t->id == FIRN_A_FLOAT ||
		     t->id == FIRN_A_INT64 || t->id == FIRN_A_DOUBLE || t->id == FIRN_A_TIME64 ||
		     t->id == FIRN_A_TIMESTAMP || t->id == FIRN_A_DECIMAL || t->id == FIRN_A_FIXED;
	bool bytes = t->id == FIRN_A_STRING || t->id == FIRN_A_BINARY;
	if (!fixed && !bytes)
		return 0;
	const uint8_t *valid = a->null_count != 0 ? a->buffers[0] : NULL;
	size_t vbytes = (size_t)(n + 7) / 8;
	if (firn_buf_reserve(&b->validity, vbytes + 1) != 0)
		return FIRN_ENOMEM;
	int64_t nulls = 0;
	int64_t off = a->offset + base;
	if (!valid) {
		memset(b->validity.data, 0xff, vbytes);
	} else {
		memset(b->validity.data, 0, vbytes);
		for (int64_t i = 0; i < n; i++) {
			bool v = firn_bit_get(valid, off + idx[i]);
			if (v)
				b->validity.data[i >> 3] |= (uint8_t)(1u << (i & 7));
			else
				nulls++;
		}
	}
	b->validity.len = vbytes;
	/* the rows come in runs of neighbours (a scan that drops a few deleted
	 * rows): each run is one copy */
	if (fixed) {
		size_t w = t->id == FIRN_A_INT32 || t->id == FIRN_A_DATE32 || t->id == FIRN_A_FLOAT ? 4
			   : t->id == FIRN_A_DECIMAL ? 16 : t->id == FIRN_A_FIXED ? (size_t)t->width : 8;
		if (firn_buf_reserve(&b->values, w * (size_t)n + 1) != 0)
			return FIRN_ENOMEM;
		const uint8_t *src = a->buffers[1];
		uint8_t *dst = b->values.data;
		for (int64_t i = 0, j; i < n; i = j) {
			j = run_end(idx, i, n);
			memcpy(dst + w * (size_t)i, src + w * (size_t)(off + idx[i]), w * (size_t)(j - i));
		}
		b->values.len = w * (size_t)n;
	} else {
		const int32_t *o = a->buffers[1];
		const uint8_t *src = a->buffers[2];
		size_t total = 0;
		for (int64_t i = 0; i < n; i++)
			total += (size_t)(o[off + idx[i] + 1] - o[off + idx[i]]);
		if (total > INT32_MAX)
			return FIRN_EINVAL;
		if (firn_buf_reserve(&b->data, total + 1) != 0 ||
		    firn_buf_reserve(&b->values, 4 * (size_t)n + 4) != 0)
			return FIRN_ENOMEM;
		int32_t *dst_o = (int32_t *)b->values.data; /* [0] is already 0 */
		size_t pos = 0;
		for (int64_t i = 0, j; i < n; i = j) {
			j = run_end(idx, i, n);
			int64_t first = off + idx[i], last = off + idx[j - 1];
			memcpy(b->data.data + pos, src + o[first], (size_t)(o[last + 1] - o[first]));
			int32_t shift = (int32_t)pos - o[first];
			for (int64_t k = i; k < j; k++)
				dst_o[k + 1] = o[first + (k - i) + 1] + shift;
			pos += (size_t)(o[last + 1] - o[first]);
		}
		b->data.len = pos;
		b->values.len = 4 * (size_t)n + 4;
	}
	b->length = n;
	b->null_count = nulls;
	return 1;
}

int firn_ice__batch_take(const struct ArrowSchema *s, const struct ArrowArray *a,
			 const int64_t *idx, int64_t n, struct ArrowArray *out,
			 struct firn_error *err)
{
	if (sa_new(out, n, s->n_children, NULL, 0, 0) != 0)
		return firn_error_set(err, FIRN_ENOMEM, "out of memory");
	for (int64_t c = 0; c < s->n_children; c++) {
		struct firn_builder b;
		int rc = firn_builder_init(&b, s->children[c], err);
		int flat = rc == 0 ? take_flat(&b, a->children[c], a->offset, idx, n) : 0;
		if (flat < 0)
			rc = flat;
		for (int64_t i = 0; rc == 0 && flat == 0 && i < n; i++)
			rc = append_from(&b, s->children[c], a->children[c], a->offset + idx[i]);
		if (rc == 0)
			rc = firn_builder_finish(&b, out->children[c], err);
		else
			rc = firn_error_set(err, rc, "column '%s': cannot copy rows", nm(s->children[c]));
		firn_builder_free(&b);
		if (rc != 0) {
			out->release(out);
			return rc;
		}
	}
	return 0;
}

int firn_ice__batch_select(const struct ArrowSchema *s, struct ArrowArray *a,
			   const int32_t *ids, size_t n, struct ArrowSchema *out_schema,
			   struct ArrowArray *out, struct firn_error *err)
{
	int rc = firn_schema_init(out_schema, "+s", "", 0, (int64_t)n);
	if (rc != 0)
		return firn_error_set(err, rc, "out of memory");
	if ((rc = sa_new(out, a->length, (int64_t)n, a->null_count ? a->buffers[0] : NULL,
			 a->offset, a->null_count)) != 0) {
		out_schema->release(out_schema);
		return firn_error_set(err, rc, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		int64_t k = -1;
		for (int64_t c = 0; c < s->n_children && k < 0; c++)
			if (firn_schema_field_id(s->children[c]) == ids[i])
				k = c;
		bool missing = k < 0 || a->children[k]->release == NULL;
		if (missing || firn_schema_copy(out_schema->children[i], s->children[k]) != 0) {
			out->release(out);
			out_schema->release(out_schema);
			return missing ? firn_error_set(err, FIRN_EINVAL, "field id %d is not in the batch", ids[i])
				       : firn_error_set(err, FIRN_ENOMEM, "out of memory");
		}
		if (a->children[k]->offset != 0 || a->offset != 0) {
			/* children keep their own offsets; the parent's is applied by readers */
		}
		move_array(out->children[i], a->children[k]);
	}
	if (a->release)
		a->release(a);
	return 0;
}

/* The child of a (schema s) with field id id, or NULL. */
static struct ArrowArray *child_by_id(const struct ArrowSchema *s, struct ArrowArray *a, int32_t id)
{
	for (int64_t c = 0; c < s->n_children; c++)
		if (firn_schema_field_id(s->children[c]) == id)
			return a->children[c]->release ? a->children[c] : NULL;
	return NULL;
}

int firn_ice__batch_join(const struct ArrowSchema *dst, const struct ArrowSchema *sa,
			 struct ArrowArray *a, const struct ArrowSchema *sb, struct ArrowArray *b,
			 struct ArrowArray *out, struct firn_error *err)
{
	int rc = a->length == b->length && a->offset == 0 && b->offset == 0 ? 0 :
		 firn_error_set(err, FIRN_EINVAL, "batches of %lld and %lld rows cannot be joined",
				(long long)a->length, (long long)b->length);
	if (rc == 0 && (rc = sa_new(out, a->length, dst->n_children, NULL, 0, 0)) != 0)
		rc = firn_error_set(err, rc, "out of memory");
	for (int64_t i = 0; rc == 0 && i < dst->n_children; i++) {
		int32_t id = firn_schema_field_id(dst->children[i]);
		struct ArrowArray *c = child_by_id(sa, a, id);
		if (!c)
			c = child_by_id(sb, b, id);
		if (!c) {
			out->release(out);
			rc = firn_error_set(err, FIRN_EINVAL, "field id %d is not in the batch", id);
		} else {
			move_array(out->children[i], c);
		}
	}
	a->release(a);
	b->release(b);
	return rc;
}

int firn_ice__batch_take_multi(const struct ArrowSchema *s, const struct ArrowArray *batches,
			       const uint64_t *pairs, int64_t n, struct ArrowArray *out,
			       struct firn_error *err)
{
	FIRN_TRY(sa_new(out, n, s->n_children, NULL, 0, 0));
	for (int64_t c = 0; c < s->n_children; c++) {
		struct firn_builder b;
		int rc = firn_builder_init(&b, s->children[c], err);
		for (int64_t i = 0; rc == 0 && i < n; i++) {
			const struct ArrowArray *a = &batches[pairs[i] >> 32];
			rc = append_from(&b, s->children[c], a->children[c], a->offset + (int64_t)(pairs[i] & 0xFFFFFFFF));
		}
		if (rc == 0)
			rc = firn_builder_finish(&b, out->children[c], err);
		else
			rc = firn_error_set(err, rc, "column '%s': cannot copy rows", nm(s->children[c]));
		firn_builder_free(&b);
		if (rc != 0) {
			out->release(out);
			return rc;
		}
	}
	return 0;
}

int firn_ice__column_gather(const struct ArrowSchema *s, int64_t col, const struct ArrowArray *batches,
			    const uint64_t *src, int64_t n, struct ArrowArray *out, struct firn_error *err)
{
	const struct ArrowSchema *cs = s->children[col];
	struct firn_builder b;
	FIRN_TRY(firn_builder_init(&b, cs, err));
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i < n; i++) {
		if (src[i] == UINT64_MAX) {
			rc = firn_builder_append_null(&b);
			continue;
		}
		const struct ArrowArray *a = &batches[src[i] >> 32];
		rc = append_from(&b, cs, a->children[col], a->offset + (int64_t)(src[i] & 0xFFFFFFFF));
	}
	if (rc == 0)
		rc = firn_builder_finish(&b, out, err);
	else
		rc = firn_error_set(err, rc, "column '%s': cannot copy rows", nm(cs));
	firn_builder_free(&b);
	return rc;
}
