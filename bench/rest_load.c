/* A keep-alive HTTP load generator for REST catalog servers (issue 10's
 * Measure; bench/rest_bench.py's Python clients cannot keep up with a fast
 * server on two cores).
 *
 *   rest_load HOST PORT SECONDS CLIENTS METHOD PATH [BODY]
 *
 * CLIENTS threads, each with one HTTP/1.1 connection, send the request
 * back to back for SECONDS; prints one JSON line: requests, errors (a
 * status other than 2xx), requests/s, p50 and p99 latency in ms. A "%d" in
 * PATH or BODY becomes the client's number (each client on its own table);
 * a second "%d" in BODY, the request's number (each commit a change). */
#define _GNU_SOURCE /* memmem, strncasecmp */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
	int id;
	pthread_t th;
	double *lat; /* ms */
	size_t n, cap;
	long errors;
};

static const char *host, *method, *path_fmt, *body_fmt;
static int port;
static double deadline;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int connect_to(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, host, &a.sin_addr);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one response; its status, or -1 when the connection broke. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end = NULL;
	while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
		ssize_t k = read(fd, buf + have, cap - have);
		if (k <= 0)
			return -1;
		have += (size_t)k;
	}
	int status = atoi(buf + 9);
	size_t head = (size_t)(end + 4 - buf);
	long len = 0;
	for (char *p = buf; p < end; p++)
		if (strncasecmp(p, "\r\ncontent-length:", 17) == 0)
			len = atol(p + 17);
	size_t body = have - head;
	while ((long)body < len) {
		ssize_t k = read(fd, buf, cap);
		if (k <= 0)
			return -1;
		body += (size_t)k;
	}
	return status;
}

static void *run(void *arg)
{
	struct client *c = arg;
	char path[512], body[4096], req[8192], buf[1 << 16];
	snprintf(path, sizeof(path), path_fmt, c->id);
	int fd = connect_to();
	for (long count = 0; fd >= 0 && now_ms() < deadline; count++) {
		double t = now_ms();
		snprintf(body, sizeof(body), body_fmt ? body_fmt : "", c->id, (int)count);
		int n = body_fmt ? snprintf(req, sizeof(req),
					    "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
					    "Content-Length: %zu\r\n\r\n%s", method, path, host, strlen(body), body)
				 : snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", method,
					    path, host);
		if (write(fd, req, (size_t)n) != n)
			break;
		int status = read_response(fd, buf, sizeof(buf));
		if (status < 0) {
			close(fd);
			fd = connect_to();
			c->errors++;
			continue;
		}
		if (status < 200 || status > 299)
			c->errors++;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 4096;
			c->lat = realloc(c->lat, c->cap * sizeof(*c->lat));
		}
		c->lat[c->n++] = now_ms() - t;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: rest_load HOST PORT SECONDS CLIENTS METHOD PATH [BODY]\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	double secs = atof(argv[3]);
	int nc = atoi(argv[4]);
	method = argv[5];
	path_fmt = argv[6];
	body_fmt = argc > 7 ? argv[7] : NULL;
	struct client *cs = calloc((size_t)nc, sizeof(*cs));
	double t0 = now_ms();
	deadline = t0 + secs * 1e3;
	for (int i = 0; i < nc; i++) {
		cs[i].id = i;
		pthread_create(&cs[i].th, NULL, run, &cs[i]);
	}
	size_t total = 0;
	long errors = 0;
	for (int i = 0; i < nc; i++) {
		pthread_join(cs[i].th, NULL);
		total += cs[i].n;
		errors += cs[i].errors;
	}
	double wall = (now_ms() - t0) / 1e3;
	double *all = malloc((total ? total : 1) * sizeof(*all));
	size_t k = 0;
	for (int i = 0; i < nc; i++) {
		memcpy(all + k, cs[i].lat, cs[i].n * sizeof(*all));
		k += cs[i].n;
		free(cs[i].lat);
	}
	qsort(all, total, sizeof(*all), cmp);
	printf("{\"requests\": %zu, \"errors\": %ld, \"rps\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
	       total, errors, total / wall, total ? all[total / 2] : 0.0,
	       total ? all[(size_t)(total * 0.99)] : 0.0);
	free(all);
	free(cs);
	return 0;
}
