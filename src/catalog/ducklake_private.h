/* firn import ducklake, the reading half: one table's history in a
 * DuckLake catalog as a firn_import_plan (the unit tests check the plan
 * without committing it). Internal. */
#ifndef FIRN_DUCKLAKE_PRIVATE_H
#define FIRN_DUCKLAKE_PRIVATE_H

#include <stdint.h>

#include "firn/error.h"
#include "firn/import.h"

struct firn_ducklake_plan;

/* Reads table name ("schema.table" or "table", in schema main) of the
 * DuckLake catalog at uri and describes its snapshots after after_version
 * (-1: all) as a plan. *out is the caller's (firn_ducklake__plan_free);
 * firn_ducklake__plan_get borrows the plan from it. FIRN_EINVAL: uri is
 * not a DuckLake catalog; FIRN_ENOTFOUND: no such table; FIRN_EUNSUPPORTED:
 * something Iceberg cannot carry (inlined rows, a type, a partitioning
 * change), named in the message. */
int firn_ducklake__plan(const char *uri, const char *name, int64_t after_version,
			struct firn_ducklake_plan **out, struct firn_error *err);
const struct firn_import_plan *firn_ducklake__plan_get(const struct firn_ducklake_plan *p);
void firn_ducklake__plan_free(struct firn_ducklake_plan *p); /* NULL ok */

#endif
