/* The firn command: shared helpers of the subcommands. */
#ifndef FIRN_CLI_H
#define FIRN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "firn/catalog.h"
#include "firn/arrow.h"
#include "firn/error.h"
#include "firn/table.h"

/* Exit codes (DESIGN §4). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Prints "firn: error: <message>" (one line, escaped) and returns EXIT_FAIL. */
int cli_fail(const struct firn_error *err);
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "firn: error: <message>" and the usage line of the command being
 * run ("usage: firn ..."); returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The usage line cli_usage prints (without "firn "); borrowed, static. */
void cli_set_usage(const char *line);
/* Whether args hold --help or -h (before a "--"). */
bool cli_wants_help(int argc, char **argv);

/* A tiny option parser: positional arguments and --name value /
 * --name=value / --flag. */
struct cli_opt {
	const char *name;   /* without the dashes */
	bool takes_value;
	const char *value;  /* set when seen (flags get "1"); the last one given */
	bool repeats;       /* may be given more than once: every value below */
	const char **values; /* of a repeating option: cli_parse's, free with cli_opts_free */
	size_t n_values;
};
/* Fills opts[] values and collects positionals (at most max_pos; pass
 * max_pos >= argc for "any number"); unknown options are a usage error.
 * Returns 0 or EXIT_USAGE. */
int cli_parse(int argc, char **argv, struct cli_opt *opts, int n_opts, const char **pos,
	      int max_pos, int *n_pos);
void cli_opts_free(struct cli_opt *opts, int n_opts);
const char *cli_get(const struct cli_opt *opts, int n_opts, const char *name);

/* The one strict integer parser: an optional '-' then decimal digits only
 * (no spaces, no '+', no suffix), within [min, max]. 0 or -1. */
int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* A size in bytes: digits with an optional k/m/g suffix (powers of 1024)
 * and an optional b, at least min. 0 or -1. */
int cli_parse_size(const char *s, int64_t min, int64_t *out);
/* Option value checks that report a usage error (EXIT_USAGE) naming the
 * option and the value; 0 when the option is absent (out untouched) or
 * valid. */
int cli_opt_int(const struct cli_opt *o, int n, const char *name, int64_t min, int64_t max,
		int64_t *out);
int cli_opt_size(const struct cli_opt *o, int n, const char *name, int64_t min, int64_t *out);
/* *index: the position of the value in choices (NULL-terminated). */
int cli_opt_enum(const struct cli_opt *o, int n, const char *name, const char *const *choices,
		 int *index);
/* TIME: epoch milliseconds, an ISO-8601 timestamp, or now (the option's
 * value becomes the current epoch milliseconds). */
int cli_opt_time(struct cli_opt *o, int n, const char *name);

/* The input files args name: a directory is its files (sorted; hidden ones
 * and _markers left out), a pattern that names no file is its matches
 * (sorted), anything else itself. FIRN_ENOTFOUND (an empty directory, no
 * match), FIRN_EIO, FIRN_ENOMEM; free *out with cli_free_inputs. */
int cli_expand_inputs(const char *const *args, size_t n, char ***out, size_t *n_out,
		      struct firn_error *err);
void cli_free_inputs(char **v, size_t n);
/* Standard input copied into a temporary file (*path, malloc'd), removed
 * at exit: for Parquet, whose footer comes last. Once per process. */
int cli_spool_stdin(char **path, struct firn_error *err);

/* An output file: written under a temporary name in its own directory and
 * renamed into place only when complete, so that a failed command leaves
 * an existing file as it was. */
/* Outputs: the writers create them with FIRN_IO_REPLACE (an output appears
 * whole when they close, and a failure leaves it as it was), after
 * cli_not_an_input refused one that is an input. */

/* A text output file as a FILE (fopencookie over firn_io_create with
 * FIRN_IO_REPLACE). */
struct cli_file {
	FILE *f;
	void *cookie;
};
int cli_file_replace(struct cli_file *o, const char *path, struct firn_error *err);
/* ok: flushes and puts the file in place (a firn error code on failure);
 * otherwise discards it (0). */
int cli_file_end(struct cli_file *o, bool ok, struct firn_error *err);
/* EXIT_FAIL (with a message) when path is the same file as one of
 * inputs[0..n), else 0. */
int cli_not_an_input(const char *path, const char *const *inputs, size_t n);

/* Help (help.c). Prints the help of the command whose usage line is usage
 * (its table's: cmds[] of cmd_table.c, subs[] of cmd_parquet.c) to stdout,
 * as plain text, or as Markdown while firn help --markdown runs. */
void cli_help(const char *usage);
/* The list of commands and topics (firn help, firn --help) to f. */
void cli_help_list(FILE *f);
/* firn help [COMMAND [SUBCOMMAND] | TOPIC | --all | --markdown]: run
 * dispatches a command line (argv[0] the command); firn help X is run(X
 * --help). Returns the exit code. */
int cli_help_main(int argc, char **argv, int (*run)(int argc, char **argv));

/* Catalog settings (pyiceberg_conf.c). A global --conf KEY=VALUE: applied
 * at once (firn_io_s3_configure), and remembered, so that a PyIceberg
 * catalog's storage keys do not override it. 0, EXIT_USAGE for a pair
 * without '=', EXIT_FAIL. */
int cli_conf_add(const char *kv);
/* Settles the catalog a command opens, in the environment the commands
 * read (FIRN_CATALOG, FIRN_WAREHOUSE, FIRN_TOKEN, FIRN_CREDENTIAL; the
 * flags were put there first): when neither FIRN_CATALOG nor
 * FIRN_WAREHOUSE is set, the catalog FIRN_CATALOG_NAME (default
 * "default") of PyIceberg's configuration, if it has one: its uri,
 * warehouse, token, credential and s3.* / client.* keys fill what is not
 * set. Called by the commands that open a catalog, when they open it
 * (other commands never read the configuration); later calls do nothing. 0, or EXIT_FAIL with
 * the one error line printed (a malformed .pyiceberg.yaml, a catalog firn
 * cannot open). */
int cli_catalog_resolve(void);

/* Opens the catalog the global options and the environment name
 * (cli_catalog_resolve first). 0, or EXIT_FAIL / EXIT_USAGE with the
 * line printed. */
int cli_open_catalog(struct firn_catalog **c, enum firn_catalog_mode mode, struct firn_error *err);
/* Progress on standard error (progress.c): shown while standard error is
 * a terminal, or FIRN_PROGRESS=1; never with FIRN_PROGRESS=0 or --quiet
 * (global, or any table command's). One line, redrawn in place at most
 * five times a second, cleared by cli_progress_end (and by cli_fail). */
void cli_progress_quiet(void);
bool cli_progress_enabled(void);
/* Starts the line of command what (static); a no-op when not enabled. */
void cli_progress_begin(const char *what);
/* The work done so far (totals -1 when unknown). */
void cli_progress_update(const struct firn_progress *p);
/* cli_progress_update as a firn_progress_fn, for firn_table_set_progress. */
void cli_progress_lib(void *arg, const struct firn_progress *p);
void cli_progress_end(void);
/* Makes *in report the rows and bytes read through it (rows_total: -1
 * unknown); nothing when progress is off. 0, or -1 out of memory. */
int cli_progress_wrap(struct ArrowArrayStream *in, int64_t rows_total);

int cmd_parquet(int argc, char **argv);
/* firn import delta|ducklake (cmd_import.c). */
int cmd_import(int argc, char **argv);
/* firn serve (cmd_serve.c). */
int cmd_serve(int argc, char **argv);
/* Runs table command cmd; -1 when cmd is not one. */
int cmd_table(const char *cmd, int argc, char **argv);

#endif
