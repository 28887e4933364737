/* firn delete and update: row-level changes by the impact-ratio rule
 * (DESIGN.md §5), one snapshot each. The phases are in ice_change_plan.c
 * (plan, choose), ice_change_write.c (write) and ice_change.c (commit). */
#include <string.h>

#include "iceberg/ice_change.h"

int firn_ice__prepare_rows(struct firn_ice_run *r, struct firn_error *err)
{
	FIRN_TRY(firn_ice__run_plan(r, err));
	FIRN_TRY(firn_ice__run_choose(r, err));
	return r->nothing ? 0 : firn_ice__run_write(r, err);
}

int firn_table_delete(struct firn_table *t, const char *where, const char *mode,
		      struct firn_delete_info *info, struct firn_error *err)
{
	if (info)
		memset(info, 0, sizeof(*info));
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	if (!where || !*where)
		return firn_error_set(err, FIRN_EINVAL, "delete needs --where (use TRUE to delete every row)");
	struct firn_ice_run r;
	FIRN_TRY(firn_ice__run_init(&r, t, where, mode, "write.delete.mode", firn_ice__prepare_rows,
				       err));
	return firn_ice__run_change(&r, info, err);
}

int firn_table_update(struct firn_table *t, const char *set, const char *where, const char *mode,
		      struct firn_delete_info *info, struct firn_error *err)
{
	if (t->meta->format_version < 2)
		return firn_error_set(err, FIRN_EUNSUPPORTED, "format version 1 tables are read-only in firn");
	if (!where || !*where)
		return firn_error_set(err, FIRN_EINVAL, "update needs --where (use TRUE to update every row)");
	struct firn_arena a = { 0 };
	struct firn_ice_set *s = NULL;
	struct firn_ice_run r;
	int rc = firn_ice__set_parse(set, &firn_ice__meta_current_schema(t->meta)->arrow, &a, &s, err);
	if (rc == 0)
		rc = firn_ice__run_init(&r, t, where, mode, "write.update.mode",
					firn_ice__prepare_rows, err);
	if (rc == 0) {
		struct firn_ice_rowchange chg = { .set = s };
		r.chg = &chg;
		r.operation = "overwrite";
		rc = firn_ice__run_change(&r, info, err);
	}
	firn_arena_free(&a);
	return rc;
}
