/* Named catalogs from PyIceberg's configuration: the first .pyiceberg.yaml
 * of $PYICEBERG_HOME, the home directory and the current directory (as
 * PyIceberg searches), overlaid by PYICEBERG_CATALOG__NAME__KEY variables,
 * so that firn --catalog-name NAME opens the catalog PyIceberg's
 * load_catalog(NAME) does. The YAML read is the subset PyIceberg's files
 * use (strictyaml's: block maps of scalars, comments, quoted values). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "firn/io.h"

extern char **environ;

#define MAX_DEPTH 16

/* The file's values: paths of lower-cased keys joined by '\n'. */
struct yaml_doc {
	char **paths, **values;
	size_t n;
};

static void doc_free(struct yaml_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->paths[i]);
		free(d->values[i]);
	}
	free(d->paths);
	free(d->values);
	memset(d, 0, sizeof(*d));
}

/* Adds (or, with replace, overwrites) path = value. 1 when the path was
 * there and replace is false; -1 out of memory. */
static int doc_put(struct yaml_doc *d, const char *path, const char *value, bool replace)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->paths[i], path) != 0)
			continue;
		if (!replace)
			return 1;
		char *v = strdup(value);
		if (!v)
			return -1;
		free(d->values[i]);
		d->values[i] = v;
		return 0;
	}
	char **p = realloc(d->paths, (d->n + 1) * sizeof(char *));
	if (p)
		d->paths = p;
	char **v = realloc(d->values, (d->n + 1) * sizeof(char *));
	if (v)
		d->values = v;
	if (!p || !v || !(d->paths[d->n] = strdup(path)))
		return -1;
	if (!(d->values[d->n] = strdup(value))) {
		free(d->paths[d->n]);
		return -1;
	}
	d->n++;
	return 0;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Parses a quoted scalar at s (its quote char first) into out (at least
 * strlen(s) + 1 bytes); *end after the closing quote. -1 unterminated. */
static int quoted(const char *s, char *out, const char **end)
{
	char q = *s++;
	size_t n = 0;
	for (; *s; s++) {
		if (*s == q && q == '\'' && s[1] == '\'') {
			out[n++] = '\'';
			s++;
		} else if (*s == q) {
			out[n] = '\0';
			*end = s + 1;
			return 0;
		} else if (q == '"' && *s == '\\' && s[1]) {
			s++;
			out[n++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		} else {
			out[n++] = *s;
		}
	}
	return -1;
}

/* A value's text (after "key:"): a plain scalar up to a " #" comment, or
 * a quoted one. NULL with *why set for what the subset does not read. */
static char *scalar(const char *s, const char **why)
{
	while (*s == ' ')
		s++;
	char *out = malloc(strlen(s) + 1);
	if (!out) {
		*why = "out of memory";
		return NULL;
	}
	if (*s == '"' || *s == '\'') {
		const char *end;
		if (quoted(s, out, &end) != 0) {
			*why = "a quoted value without its closing quote";
			goto bad;
		}
		while (*end == ' ')
			end++;
		if (*end && *end != '#') {
			*why = "text after a quoted value";
			goto bad;
		}
		return out;
	}
	if (*s == '[' || *s == '{') {
		*why = "a flow-style value ([...] or {...}); write one key a line";
		goto bad;
	}
	if ((*s == '|' || *s == '>') && (s[1] == '\0' || s[1] == ' ' || s[1] == '-' || s[1] == '+')) {
		*why = "a block scalar (| or >); write the value on the key's line";
		goto bad;
	}
	size_t n = 0;
	for (; s[n] && !(s[n] == '#' && n > 0 && s[n - 1] == ' '); n++)
		;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* The path of stack[0..depth) plus key, joined by '\n'. */
static char *join_path(char *const *stack, int depth, const char *key)
{
	size_t len = strlen(key) + 1;
	for (int i = 0; i < depth; i++)
		len += strlen(stack[i]) + 1;
	char *p = malloc(len);
	if (!p)
		return NULL;
	p[0] = '\0';
	for (int i = 0; i < depth; i++) {
		strcat(p, stack[i]);
		strcat(p, "\n");
	}
	strcat(p, key);
	return p;
}

struct parser {
	const char *file;
	int line;
	char *stack[MAX_DEPTH]; /* the keys of the open maps */
	int indent[MAX_DEPTH];
	int depth;
	/* a "key:" without a value: a map if the next line is deeper, else "" */
	char *pending;
	int pending_indent;
	int last_indent;       /* of the last scalar line (-1: none) */
};

static int perr(const struct parser *p, const char *why)
{
	return cli_failf("%s:%d: %s (firn reads PyIceberg's catalog settings: maps of values)",
			 p->file, p->line, why);
}

/* Records the pending "key:" as an empty value. */
static int flush_pending(struct parser *p, struct yaml_doc *d)
{
	if (!p->pending)
		return 0;
	char *path = join_path(p->stack, p->depth, p->pending);
	int rc = path ? doc_put(d, path, "", false) : -1;
	free(path);
	free(p->pending);
	p->pending = NULL;
	return rc < 0 ? cli_failf("out of memory") : rc > 0 ? perr(p, "a key given twice") : 0;
}

/* One line with content, indented by ind. */
static int parse_line(struct parser *p, struct yaml_doc *d, char *s, int ind)
{
	if (p->pending && ind > p->pending_indent) {
		if (p->depth == MAX_DEPTH)
			return perr(p, "maps nested too deep");
		p->stack[p->depth] = p->pending;
		p->indent[p->depth++] = p->pending_indent;
		p->pending = NULL;
	} else if (flush_pending(p, d) != 0) {
		return EXIT_FAIL;
	} else if (p->last_indent >= 0 && ind > p->last_indent) {
		return perr(p, "an indented line under a value");
	}
	while (p->depth > 0 && p->indent[p->depth - 1] >= ind)
		free(p->stack[--p->depth]);
	if (p->depth > 0 && ind <= p->indent[p->depth - 1])
		return perr(p, "inconsistent indentation");
	if (*s == '-' && (s[1] == ' ' || s[1] == '\0'))
		return perr(p, "a list item");
	char key[512];
	const char *rest;
	if (*s == '"' || *s == '\'') {
		if (strlen(s) >= sizeof(key) || quoted(s, key, &rest) != 0 || *rest != ':')
			return perr(p, "a malformed quoted key");
	} else {
		const char *colon = s;
		while ((colon = strchr(colon, ':')) && colon[1] && colon[1] != ' ')
			colon++;
		if (!colon)
			return perr(p, "a line that is not 'key: value'");
		size_t n = (size_t)(colon - s);
		while (n > 0 && s[n - 1] == ' ')
			n--;
		if (n == 0 || n >= sizeof(key))
			return perr(p, n ? "a key too long" : "an empty key");
		memcpy(key, s, n);
		key[n] = '\0';
		rest = colon;
	}
	lower(key);
	rest++; /* the colon */
	while (*rest == ' ')
		rest++;
	if (!*rest || *rest == '#') {
		if (!(p->pending = strdup(key)))
			return cli_failf("out of memory");
		p->pending_indent = ind;
		p->last_indent = -1;
		return 0;
	}
	const char *why = NULL;
	char *v = scalar(rest, &why);
	if (!v)
		return perr(p, why);
	char *path = join_path(p->stack, p->depth, key);
	int rc = path ? doc_put(d, path, v, false) : -1;
	free(path);
	free(v);
	if (rc != 0)
		return rc < 0 ? cli_failf("out of memory") : perr(p, "a key given twice");
	p->last_indent = ind;
	return 0;
}

static int parse_yaml(const char *file, char *text, struct yaml_doc *d)
{
	struct parser p = { .file = file, .last_indent = -1 };
	int rc = 0;
	for (char *line = text, *next; line && rc == 0; line = next) {
		p.line++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		int ind = 0;
		while (line[ind] == ' ')
			ind++;
		char *s = line + ind;
		if (*s == '\t') {
			rc = perr(&p, "a tab in the indentation");
			break;
		}
		while (len > (size_t)ind && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		if (!*s || *s == '#' || (ind == 0 && (strcmp(s, "---") == 0 || strcmp(s, "...") == 0)))
			continue;
		rc = parse_line(&p, d, s, ind);
	}
	if (rc == 0)
		rc = flush_pending(&p, d);
	free(p.pending);
	while (p.depth > 0)
		free(p.stack[--p.depth]);
	return rc;
}

/* Reads the first .pyiceberg.yaml PyIceberg would; *path is "" for none. */
static int read_files(struct yaml_doc *d, char *path, size_t cap)
{
	const char *dirs[3] = { getenv("PYICEBERG_HOME"), getenv("HOME"), "." };
	path[0] = '\0';
	for (int i = 0; i < 3; i++) {
		struct stat st;
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(path, cap, "%s/.pyiceberg.yaml", dirs[i]);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		FILE *f = fopen(path, "rb");
		if (!f)
			return cli_failf("%s: %s", path, strerror(errno));
		char *text = NULL;
		size_t n = 0, got;
		char buf[4096];
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
			char *t = realloc(text, n + got + 1);
			if (!t) {
				free(text);
				fclose(f);
				return cli_failf("out of memory");
			}
			text = t;
			memcpy(text + n, buf, got);
			n += got;
		}
		bool bad = ferror(f);
		fclose(f);
		if (bad) {
			free(text);
			return cli_failf("%s: cannot read the file", path);
		}
		if (!text)
			return 0;
		text[n] = '\0';
		int rc = memchr(text, '\0', n) ? cli_failf("%s: not a text file", path)
					       : parse_yaml(path, text, d);
		free(text);
		return rc;
	}
	path[0] = '\0';
	return 0;
}

/* PYICEBERG_CATALOG__NAME__KEY=VALUE, as PyIceberg reads them: lower-cased,
 * split at the first two "__", each part's "__" a '.' and '_' a '-'. A
 * non-empty value replaces the file's. */
static int read_environment(struct yaml_doc *d)
{
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || strncasecmp(*e, "pyiceberg_", 10) != 0 || !eq[1])
			continue;
		size_t n = (size_t)(eq - *e) - 10;
		char *key = malloc(n + 1), *path = malloc(n + 1);
		if (!key || !path) {
			free(key);
			free(path);
			return cli_failf("out of memory");
		}
		memcpy(key, *e + 10, n);
		key[n] = '\0';
		lower(key);
		size_t o = 0;
		int parts = 1;
		for (size_t i = 0; i < n; i++) {
			if (parts < 3 && key[i] == '_' && key[i + 1] == '_') {
				path[o++] = '\n';
				parts++;
				i++;
			} else if (key[i] == '_' && key[i + 1] == '_') {
				path[o++] = '.';
				i++;
			} else {
				path[o++] = key[i] == '_' ? '-' : key[i];
			}
		}
		path[o] = '\0';
		int rc = doc_put(d, path, eq + 1, true);
		free(key);
		free(path);
		if (rc < 0)
			return cli_failf("out of memory");
	}
	return 0;
}

/* The value of key in catalog name's settings, or NULL. */
static const char *get(const struct yaml_doc *d, const char *name, const char *key)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < d->n; i++) {
		const char *p = d->paths[i];
		if (strncmp(p, "catalog\n", 8) == 0 && strncmp(p + 8, name, nl) == 0 && p[8 + nl] == '\n' &&
		    strcmp(p + 9 + nl, key) == 0)
			return d->values[i];
	}
	return NULL;
}

/* Whether the settings name catalog name at all (and how, for errors). */
static int check_catalog(const struct yaml_doc *d, const char *name, const char *src, bool *found)
{
	size_t nl = strlen(name);
	*found = false;
	for (size_t i = 0; i < d->n; i++) {
		const char *p = d->paths[i];
		if (strcmp(p, "catalog") == 0)
			return cli_failf("%s: catalog must hold one map of settings per catalog name", src);
		if (strncmp(p, "catalog\n", 8) != 0 || strncmp(p + 8, name, nl) != 0)
			continue;
		if (p[8 + nl] == '\0')
			return cli_failf("%s: catalog.%s must be a map of settings", src, name);
		if (p[8 + nl] != '\n')
			continue;
		if (strchr(p + 9 + nl, '\n'))
			return cli_failf("%s: catalog.%s: a nested map under a setting (write keys like "
					 "s3.endpoint on one line)", src, name);
		*found = true;
	}
	return 0;
}

/* A PyIceberg (SQLAlchemy) URI as firn's: sqlite:///REL and sqlite:////ABS
 * are paths REL and /ABS; a postgresql+DRIVER:// names the driver. */
static char *firn_uri(const char *uri)
{
	size_t n = strlen(uri) + 1;
	char *out = malloc(n);
	if (!out)
		return NULL;
	const char *plus = strchr(uri, '+'), *sep = strstr(uri, "://");
	if (strncmp(uri, "sqlite:///", 10) == 0)
		snprintf(out, n, "sqlite://%s", uri + 10);
	else if (strncmp(uri, "sqlite+", 7) == 0 && sep && strncmp(sep, ":///", 4) == 0)
		snprintf(out, n, "sqlite://%s", sep + 4);
	else if (plus && sep && plus < sep && (strncmp(uri, "postgresql+", 11) == 0 ||
					       strncmp(uri, "postgres+", 9) == 0))
		snprintf(out, n, "postgresql%s", sep);
	else
		snprintf(out, n, "%s", uri);
	return out;
}

static int set_unless_given(const char *var, const char *value)
{
	const char *cur = getenv(var);
	if ((cur && *cur) || !value || !*value)
		return 0;
	return setenv(var, value, 1) == 0 ? 0 : cli_failf("out of memory");
}

static bool given_by_conf(const char *key);

/* Applies catalog name's PyIceberg settings (when neither a catalog nor a
 * warehouse was given). */
static int apply_pyiceberg(const char *name)
{
	struct yaml_doc d = { 0 };
	char path[4096];
	int rc = read_files(&d, path, sizeof(path));
	if (rc == 0)
		rc = read_environment(&d);
	const char *src = path[0] ? path : "PYICEBERG_CATALOG__* variables";
	char *lname = strdup(name);
	bool found = false;
	if (!lname)
		rc = cli_failf("out of memory");
	else
		lower(lname);
	if (rc == 0)
		rc = check_catalog(&d, lname, src, &found);
	if (rc != 0 || !found)
		goto done;
	const char *type = get(&d, lname, "type"), *uri = get(&d, lname, "uri");
	if (type && strcmp(type, "sql") != 0 && strcmp(type, "rest") != 0) {
		rc = cli_failf("%s: catalog %s is of type '%s': firn opens sql and rest catalogs", src,
			       lname, type);
		goto done;
	}
	if (!uri || !*uri) {
		rc = cli_failf("%s: catalog %s has no uri (sqlite:///PATH, postgresql://... or "
			       "http(s)://... for REST)", src, lname);
		goto done;
	}
	char *fu = firn_uri(uri);
	rc = !fu ? cli_failf("out of memory") : set_unless_given("FIRN_CATALOG", fu);
	free(fu);
	if (rc == 0)
		rc = set_unless_given("FIRN_WAREHOUSE", get(&d, lname, "warehouse"));
	if (rc == 0)
		rc = set_unless_given("FIRN_TOKEN", get(&d, lname, "token"));
	if (rc == 0)
		rc = set_unless_given("FIRN_CREDENTIAL", get(&d, lname, "credential"));
	/* storage properties (s3.*, client.region): as --conf, which wins */
	size_t nl = strlen(lname);
	for (size_t i = 0; i < d.n && rc == 0; i++) {
		const char *p = d.paths[i];
		if (strncmp(p, "catalog\n", 8) != 0 || strncmp(p + 8, lname, nl) != 0 || p[8 + nl] != '\n')
			continue;
		const char *k = p + 9 + nl;
		if ((strncmp(k, "s3.", 3) != 0 && strncmp(k, "client.", 7) != 0) || given_by_conf(k))
			continue;
		const char *keys[1] = { k }, *values[1] = { d.values[i] };
		struct firn_error err = { 0 };
		if (firn_io_s3_configure(keys, values, 1, &err) != 0)
			rc = cli_failf("%s: catalog %s: %s", src, lname, err.message);
	}
done:
	free(lname);
	doc_free(&d);
	return rc;
}

/* ---- --conf and the catalog settings ------------------------------------ */

static char **conf_keys; /* the keys --conf gave */
static size_t n_conf_keys;

static bool given_by_conf(const char *key)
{
	for (size_t i = 0; i < n_conf_keys; i++)
		if (strcmp(conf_keys[i], key) == 0)
			return true;
	return false;
}

int cli_conf_add(const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return cli_usage("--conf needs KEY=VALUE, not '%s'", kv);
	char *key = strndup(kv, (size_t)(eq - kv));
	char **keys = key ? realloc(conf_keys, (n_conf_keys + 1) * sizeof(char *)) : NULL;
	if (!keys) {
		free(key);
		return cli_failf("out of memory");
	}
	conf_keys = keys;
	conf_keys[n_conf_keys++] = key; /* kept until the process ends */
	const char *ks[1] = { key }, *vs[1] = { eq + 1 };
	struct firn_error err = { 0 };
	return firn_io_s3_configure(ks, vs, 1, &err) != 0 ? cli_fail(&err) : 0;
}

int cli_catalog_resolve(void)
{
	static bool done;
	if (done)
		return 0;
	done = true;
	const char *name = getenv("FIRN_CATALOG_NAME");
	if (!name || !*name)
		name = "default";
	const char *uri = getenv("FIRN_CATALOG"), *wh = getenv("FIRN_WAREHOUSE");
	if ((uri && *uri) || (wh && *wh))
		return 0;
	return apply_pyiceberg(name);
}
