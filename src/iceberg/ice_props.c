/* The table properties firn reads, one rule each: checked when a property
 * is set (create --property, alter set-property, register) and again each
 * time one is read, so that a bad value another engine wrote falls back to
 * the reader's default instead of reaching its arithmetic. Keys firn does
 * not know are allowed, as Iceberg allows them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iceberg/ice_meta.h"

enum prop_kind { P_INT, P_RATIO, P_BOOL, P_NAME, P_NAME_NOCASE };

struct prop_rule {
	const char *key;
	enum prop_kind kind;
	int64_t min, max;  /* P_INT */
	const char *names; /* P_NAME*: "a|b|c" */
};

#define INT_RULE(k, lo, hi) { k, P_INT, lo, hi, NULL }
#define NAME_RULE(k, kind, names) { k, kind, 0, 0, names }

static const struct prop_rule rules[] = {
	INT_RULE("commit.retry.num-retries", 0, INT32_MAX),
	INT_RULE("commit.retry.min-wait-ms", 0, INT32_MAX),
	INT_RULE("commit.retry.max-wait-ms", 0, INT32_MAX),
	INT_RULE("commit.retry.total-timeout-ms", 0, INT64_MAX),
	INT_RULE("write.target-file-size-bytes", 1, INT64_MAX),
	INT_RULE("firn.write.memory-budget-bytes", 1, INT64_MAX),
	/* Iceberg's codec names; the writer says which of them firn lacks */
	NAME_RULE("write.parquet.compression-codec", P_NAME_NOCASE,
		  "zstd|snappy|gzip|lz4|lz4_raw|brotli|lzo|uncompressed|none"),
	INT_RULE("write.parquet.compression-level", -1, 22),
	INT_RULE("write.parquet.row-group-size-bytes", 1, INT64_MAX),
	INT_RULE("write.parquet.page-size-bytes", 1, INT32_MAX),
	INT_RULE("write.parquet.page-row-limit", 1, INT32_MAX),
	INT_RULE("write.parquet.dict-size-bytes", 0, INT32_MAX),
	NAME_RULE("write.avro.compression-codec", P_NAME, "gzip|zstd|snappy|uncompressed"),
	NAME_RULE("write.delete.mode", P_NAME, "copy-on-write|merge-on-read"),
	NAME_RULE("write.update.mode", P_NAME, "copy-on-write|merge-on-read"),
	NAME_RULE("write.merge.mode", P_NAME, "copy-on-write|merge-on-read"),
	{ "firn.write.cow-threshold", P_RATIO, 0, 0, NULL },
	{ "firn.compact.delete-ratio", P_RATIO, 0, 0, NULL },
	INT_RULE("firn.compact.max-delete-files", 0, INT32_MAX),
	INT_RULE("history.expire.min-snapshots-to-keep", 1, INT32_MAX),
	INT_RULE("history.expire.max-snapshot-age-ms", 0, INT64_MAX),
	INT_RULE("history.expire.max-ref-age-ms", 0, INT64_MAX),
	INT_RULE("write.metadata.previous-versions-max", 1, INT32_MAX),
	{ "write.metadata.delete-after-commit.enabled", P_BOOL, 0, 0, NULL },
};

static const struct prop_rule *rule_of(const char *key)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].key, key) == 0)
			return &rules[i];
	return NULL;
}

static bool int_ok(const struct prop_rule *r, const char *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	return end != v && *end == '\0' && !isspace((unsigned char)*v) && errno == 0 &&
	       x >= r->min && x <= r->max;
}

static bool ratio_ok(const char *v)
{
	char *end;
	double x = strtod(v, &end);
	return end != v && *end == '\0' && !isspace((unsigned char)*v) && x >= 0 && x <= 1;
}

static bool name_ok(const struct prop_rule *r, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = r->names; *p;) {
		size_t len = strcspn(p, "|");
		if (len == n && (r->kind == P_NAME ? strncmp(p, v, n) : strncasecmp(p, v, n)) == 0)
			return true;
		p += len + (p[len] == '|');
	}
	return false;
}

static bool value_ok(const struct prop_rule *r, const char *v)
{
	switch (r->kind) {
	case P_INT: return int_ok(r, v);
	case P_RATIO: return ratio_ok(v);
	case P_BOOL: return strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0;
	default: return name_ok(r, v);
	}
}

void firn_ice__printable(const char *s, char *out, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 4 < cap; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

int firn_ice__prop_check(const char *key, const char *value, struct firn_error *err)
{
	const struct prop_rule *r = rule_of(key);
	if (!r || value_ok(r, value))
		return 0;
	if (!err)
		return FIRN_EINVAL;
	char v[64];
	firn_ice__printable(value, v, sizeof(v));
	key = r->key;
	switch (r->kind) {
	case P_INT:
		return firn_error_set(err, FIRN_EINVAL, "property %s=%s: not an integer from %lld to %lld",
				      key, v, (long long)r->min, (long long)r->max);
	case P_RATIO:
		return firn_error_set(err, FIRN_EINVAL, "property %s=%s: not a number from 0 to 1", key, v);
	case P_BOOL:
		return firn_error_set(err, FIRN_EINVAL, "property %s=%s: not true or false", key, v);
	default: {
		char names[128];
		snprintf(names, sizeof(names), "%s", r->names);
		for (char *p = names; *p; p++)
			if (*p == '|')
				*p = '/';
		return firn_error_set(err, FIRN_EINVAL, "property %s=%s: not one of %s", key, v, names);
	}
	}
}

int firn_ice__props_check(const struct firn_ice_meta *m, struct firn_error *err)
{
	const char *key;
	json_t *val;
	json_object_foreach(json_object_get(m->root, "properties"), key, val) {
		if (!rule_of(key))
			continue;
		if (!json_is_string(val))
			return firn_error_set(err, FIRN_EINVAL, "property %s: the value is not a string", key);
		FIRN_TRY(firn_ice__prop_check(key, json_string_value(val), err));
	}
	return 0;
}
