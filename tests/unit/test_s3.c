/* S3 helpers without a network: URLs, XML answers, times, settings and
 * their precedence (properties, environment, shared files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firn/util.h"
#include "io/s3_private.h"
#include "t.h"

static char dir[256];

/* A fake environment: NAME=VALUE pairs. */
static const char *const *fake_env;
static const char *fake_getenv(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; fake_env && fake_env[i]; i++)
		if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
			return fake_env[i] + n + 1;
	return NULL;
}

static void url_is(const struct firn_s3__config *c, const char *loc, const char *query, const char *want)
{
	const char *b, *k;
	size_t bl;
	CHECK_OK(firn_s3__split(loc, &b, &bl, &k, &t_err));
	char *got = firn_s3__url(c, b, bl, k, query);
	CHECK_EQ_STR(got, want);
	firn_free(got);
}

TEST(urls)
{
	struct firn_s3__config c = { .region = "eu-west-1" };
	url_is(&c, "s3://bkt/a/b.parquet", NULL, "https://bkt.s3.eu-west-1.amazonaws.com/a/b.parquet");
	c.path_style = true;
	url_is(&c, "s3a://bkt/a b/ü+x", NULL, "https://s3.eu-west-1.amazonaws.com/bkt/a%20b/%C3%BC%2Bx");
	c.endpoint = "http://127.0.0.1:9000/";
	url_is(&c, "s3://bkt/k", "list-type=2&prefix=wh%2F", "http://127.0.0.1:9000/bkt/k?list-type=2&prefix=wh%2F");
	url_is(&c, "s3://bkt", NULL, "http://127.0.0.1:9000/bkt/");
	c.path_style = false;
	url_is(&c, "s3://bkt//k", NULL, "http://bkt.127.0.0.1:9000/k");
	c.endpoint = "minio.local:9000";
	url_is(&c, "s3://bkt/k", NULL, "https://bkt.minio.local:9000/k");
	const char *b, *k;
	size_t bl;
	struct firn_error e = { 0 };
	CHECK_EQ_INT(firn_s3__split("s3:///k", &b, &bl, &k, &e), FIRN_EINVAL);
	CHECK_EQ_STR(e.message, "s3:///k: not an s3://bucket/key location");
	CHECK_EQ_INT(firn_s3__split("s3://", &b, &bl, &k, &e), FIRN_EINVAL);
}

TEST(xml)
{
	const char *x = "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3\"><IsTruncated>true"
			"</IsTruncated><Contents><Key>a&amp;b/&lt;c&gt;&#38;</Key><Size>12</Size>"
			"<LastModified>2024-05-01T12:00:00.250Z</LastModified></Contents><Contents>"
			"<Key>d</Key><Size>0</Size></Contents><NextContinuationToken>t/1=</NextContinuationToken>"
			"<Empty/></ListBucketResult>";
	const char *end = x + strlen(x), *s, *e;
	struct firn_buf b = { 0 };
	CHECK(firn_s3__xml_text(x, end, "IsTruncated", &b, NULL));
	CHECK_EQ_STR((char *)b.data, "true");
	CHECK(firn_s3__xml_elem(x, end, "Contents", &s, &e));
	CHECK(firn_s3__xml_text(s, e, "Key", &b, NULL));
	CHECK_EQ_STR((char *)b.data, "a&b/<c>&");
	CHECK(firn_s3__xml_text(s, e, "Size", &b, NULL));
	CHECK_EQ_STR((char *)b.data, "12");
	CHECK(firn_s3__xml_text(s, e, "LastModified", &b, NULL));
	CHECK_EQ_INT(firn_s3__parse_time((char *)b.data), 1714564800250LL);
	CHECK(firn_s3__xml_elem(e, end, "Contents", &s, &e));
	CHECK(firn_s3__xml_text(s, e, "Key", &b, NULL));
	CHECK_EQ_STR((char *)b.data, "d");
	CHECK(!firn_s3__xml_text(s, e, "LastModified", &b, NULL));
	CHECK(firn_s3__xml_text(x, end, "NextContinuationToken", &b, NULL));
	CHECK_EQ_STR((char *)b.data, "t/1=");
	CHECK(firn_s3__xml_text(x, end, "Empty", &b, NULL));
	CHECK_EQ_STR((char *)b.data, "");
	/* prefixes of another tag's name, and unclosed elements, are not matches */
	const char *y = "<Keys>1</Keys><Key>2";
	CHECK(!firn_s3__xml_text(y, y + strlen(y), "Key", &b, NULL));
	const char *err = "<Error><Code>NoSuchKey</Code><Message>The key does not exist</Message></Error>";
	CHECK(firn_s3__xml_text(err, err + strlen(err), "Code", &b, NULL));
	CHECK_EQ_STR((char *)b.data, "NoSuchKey");
	firn_buf_free(&b);
	CHECK_EQ_INT(firn_s3__parse_time("2024-05-01T12:00:00Z"), 1714564800000LL);
	CHECK_EQ_INT(firn_s3__parse_time("yesterday"), -1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(precedence)
{
	char creds[300], conf[300], home_env[300], creds_env[320], conf_env[320];
	snprintf(creds, sizeof(creds), "%s/credentials", dir);
	snprintf(conf, sizeof(conf), "%s/config", dir);
	write_file(creds, "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key=FILESECRET\n"
			  "[dev]\n  aws_access_key_id = DEVKEY\naws_secret_access_key = DEVSECRET\n"
			  "aws_session_token = DEVTOKEN\n");
	write_file(conf, "[default]\nregion = ap-south-1\n[profile dev]\nregion = sa-east-1\n"
			 "endpoint_url = http://dev:9000\n");
	snprintf(home_env, sizeof(home_env), "HOME=%s/nohome", dir);
	snprintf(creds_env, sizeof(creds_env), "AWS_SHARED_CREDENTIALS_FILE=%s", creds);
	snprintf(conf_env, sizeof(conf_env), "AWS_CONFIG_FILE=%s", conf);
	struct firn_s3__config c;

	/* the files alone */
	const char *env1[] = { home_env, creds_env, conf_env, NULL };
	fake_env = env1;
	struct firn_s3__sources src = { NULL, NULL, 0, fake_getenv };
	CHECK_OK(firn_s3__resolve(&src, &c, &t_err));
	CHECK_EQ_STR(c.access_key, "FILEKEY");
	CHECK_EQ_STR(c.secret_key, "FILESECRET");
	CHECK(c.session_token == NULL);
	CHECK_EQ_STR(c.region, "ap-south-1");
	CHECK(c.endpoint == NULL);
	CHECK(!c.path_style);
	CHECK_EQ_INT(c.retries, 6);
	CHECK_EQ_INT(c.part_size, 8 << 20);
	firn_s3__config_free(&c);

	/* a profile */
	const char *env2[] = { home_env, creds_env, conf_env, "AWS_PROFILE=dev", NULL };
	fake_env = env2;
	CHECK_OK(firn_s3__resolve(&src, &c, &t_err));
	CHECK_EQ_STR(c.access_key, "DEVKEY");
	CHECK_EQ_STR(c.session_token, "DEVTOKEN");
	CHECK_EQ_STR(c.region, "sa-east-1");
	CHECK_EQ_STR(c.endpoint, "http://dev:9000");
	CHECK(c.path_style);
	firn_s3__config_free(&c);

	/* the environment over the files */
	const char *env3[] = { home_env, creds_env, conf_env, "AWS_ACCESS_KEY_ID=ENVKEY",
			       "AWS_SECRET_ACCESS_KEY=ENVSECRET", "AWS_DEFAULT_REGION=us-west-1",
			       "AWS_REGION=us-west-2", "AWS_ENDPOINT_URL=http://generic:1",
			       "AWS_ENDPOINT_URL_S3=http://s3only:2", NULL };
	fake_env = env3;
	CHECK_OK(firn_s3__resolve(&src, &c, &t_err));
	CHECK_EQ_STR(c.access_key, "ENVKEY");
	CHECK_EQ_STR(c.secret_key, "ENVSECRET");
	CHECK_EQ_STR(c.region, "us-west-2");
	CHECK_EQ_STR(c.endpoint, "http://s3only:2");
	firn_s3__config_free(&c);

	/* properties over both; the last of a repeated key wins */
	const char *keys[] = { "s3.access-key-id", "s3.secret-access-key", "client.region", "s3.region",
			       "s3.endpoint", "s3.path-style-access", "s3.retries", "s3.multipart.part-size",
			       "s3.region", "unrelated" };
	const char *vals[] = { "PROPKEY", "PROPSECRET", "eu-north-1", "eu-west-3", "http://prop:3", "false",
			       "3", "6291456", "eu-central-1", "x" };
	struct firn_s3__sources p = { keys, vals, 10, fake_getenv };
	CHECK_OK(firn_s3__resolve(&p, &c, &t_err));
	CHECK_EQ_STR(c.access_key, "PROPKEY");
	CHECK_EQ_STR(c.secret_key, "PROPSECRET");
	CHECK_EQ_STR(c.region, "eu-central-1"); /* s3.region over client.region */
	CHECK_EQ_STR(c.endpoint, "http://prop:3");
	CHECK(!c.path_style);
	CHECK_EQ_INT(c.retries, 3);
	CHECK_EQ_INT(c.part_size, 6291456);
	firn_s3__config_free(&c);

	/* nothing at all: the default region, no keys (anonymous requests) */
	const char *env4[] = { home_env, NULL };
	fake_env = env4;
	CHECK_OK(firn_s3__resolve(&src, &c, &t_err));
	CHECK_EQ_STR(c.region, "us-east-1");
	CHECK(c.access_key == NULL && c.secret_key == NULL);
	firn_s3__config_free(&c);

	/* bad values name the property */
	struct firn_error e = { 0 };
	const char *bk[] = { "s3.path-style-access" }, *bv[] = { "maybe" };
	struct firn_s3__sources bad = { bk, bv, 1, fake_getenv };
	CHECK_EQ_INT(firn_s3__resolve(&bad, &c, &e), FIRN_EINVAL);
	CHECK_EQ_STR(e.message, "s3.path-style-access: 'maybe' is not true or false");
	const char *pk[] = { "s3.multipart.part-size" }, *pv[] = { "1024" };
	struct firn_s3__sources bad2 = { pk, pv, 1, fake_getenv };
	CHECK_EQ_INT(firn_s3__resolve(&bad2, &c, &e), FIRN_EINVAL);
	fake_env = NULL;
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/firn_test_s3_%d", (int)getpid());
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	if (system(cmd) != 0)
		return 1;
	RUN(urls);
	RUN(xml);
	RUN(precedence);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (t_failed == 0 && system(cmd) != 0)
		return 1;
	return t_summary();
}
