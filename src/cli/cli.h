/* The firn command: shared helpers of the subcommands. */
#ifndef FIRN_CLI_H
#define FIRN_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "firn/error.h"

/* Exit codes (DESIGN §4). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Prints "firn: error: <message>" and returns EXIT_FAIL. */
int cli_fail(const struct firn_error *err);
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "firn: <message>" and a usage hint; returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A tiny option parser: positional arguments and --name value /
 * --name=value / --flag. */
struct cli_opt {
	const char *name;   /* without the dashes */
	bool takes_value;
	const char *value;  /* set when seen (flags get "1") */
};
/* Fills opts[] values and collects positionals; unknown options are a usage
 * error. Returns 0 or EXIT_USAGE. */
int cli_parse(int argc, char **argv, struct cli_opt *opts, int n_opts, const char **pos,
	      int max_pos, int *n_pos);
const char *cli_get(const struct cli_opt *opts, int n_opts, const char *name);
/* Parses a size with an optional k/m/g suffix (powers of 1024). */
int cli_parse_size(const char *s, int64_t *out);

int cmd_parquet(int argc, char **argv);
int cmd_table(const char *cmd, int argc, char **argv);

#endif
