/* A tiny test harness: each tests/unit/test_*.c is its own program.
 *   TEST(name) { CHECK(cond); CHECK_EQ_INT(a, b); CHECK_OK(rc); }
 *   int main(void) { RUN(name); ...; return t_summary(); }           */
#ifndef FIRN_T_H
#define FIRN_T_H
#include <stdio.h>
#include <string.h>
#include <inttypes.h>

static int t_failed_checks, t_passed, t_failed;
#define TEST(name) static void name(void)
#define CHECK(c) do { if (!(c)) { t_failed_checks++; \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long t_a = (long long)(a), t_b = (long long)(b); \
	if (t_a != t_b) { t_failed_checks++; fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
	__FILE__, __LINE__, #a, t_a, t_b); } } while (0)
#define CHECK_EQ_STR(a, b) do { const char *t_a = (a), *t_b = (b); \
	if (t_a == NULL || strcmp(t_a, t_b) != 0) { t_failed_checks++; \
	fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
	t_a ? t_a : "(null)", t_b); } } while (0)
#define CHECK_OK(rc_expr) do { struct firn_error *t_e = &t_err; (void)t_e; int t_rc = (rc_expr); \
	if (t_rc != 0) { t_failed_checks++; fprintf(stderr, "%s:%d: %s -> %d (%s)\n", __FILE__, \
	__LINE__, #rc_expr, t_rc, t_err.message); } } while (0)
static struct firn_error t_err;
#define RUN(name) do { int t_before = t_failed_checks; name(); \
	if (t_failed_checks == t_before) t_passed++; else { t_failed++; \
	fprintf(stderr, "FAIL %s\n", #name); } } while (0)
static inline int t_summary(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}
#endif
