/* Location normalisation: the one place locations are compared. */
#include <stdlib.h>
#include <unistd.h>

#include "firn/util.h"
#include "io/io_local.h"
#include "t.h"

static void norm_is(const char *in, const char *want)
{
	char *got = firn_io__normalize(in);
	CHECK_EQ_STR(got, want);
	firn_free(got);
}

TEST(normal_forms)
{
	norm_is("/a/b", "/a/b");
	norm_is("/a/b/", "/a/b");
	norm_is("/a//b///c//", "/a/b/c");
	norm_is("file:/a/b", "/a/b");
	norm_is("file:///a/b/", "/a/b");
	norm_is("file://localhost/a/b", "/a/b");
	norm_is("/a/./b/../c", "/a/c");
	norm_is("/a/../../b", "/b");
	norm_is("/", "/");
	norm_is("file:///", "/");
	norm_is("s3://bucket/wh//t/", "s3://bucket/wh/t");
	norm_is("s3a://bucket/", "s3a://bucket");
	norm_is("s3://bucket", "s3://bucket");
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	char want[4200];
	snprintf(want, sizeof(want), "%s/wh/t", strcmp(cwd, "/") == 0 ? "" : cwd);
	norm_is("./wh//t/", want);
	norm_is("wh/x/../t", want);
}

TEST(within)
{
	CHECK(firn_io__within("/a/b", "/a/b"));
	CHECK(firn_io__within("/a/b/c", "/a/b"));
	CHECK(!firn_io__within("/a/bc", "/a/b"));
	CHECK(!firn_io__within("/a", "/a/b"));
	CHECK(firn_io__within("/a", "/"));
	CHECK(firn_io__within("s3://b/x/y", "s3://b/x"));
	CHECK(!firn_io__within("s3://bx/y", "s3://b"));
}

int main(void)
{
	(void)t_err;
	RUN(normal_forms);
	RUN(within);
	return t_summary();
}
