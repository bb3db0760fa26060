/* cli.h - the docrt command-line tool's subcommands.
 *
 * main.c only dispatches; each subcommand lives in its own cli_*.c inside
 * docrt_core so tests can call it in-process. A subcommand returns the
 * process exit status: 0 ok, 1 runtime/model/input error, 2 usage error. */
#ifndef DOCRT_CLI_H
#define DOCRT_CLI_H

#include <stdio.h>

#ifndef DOCRT_VERSION
#define DOCRT_VERSION "0.1.0"
#endif

enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

/* argv[0] is the subcommand name ("run-model"). */
int cli_run_model(int argc, char **argv);
void cli_run_model_usage(FILE *f);

/* Output names become file names: everything but [A-Za-z0-9._-] turns into
 * '_', and a leading '.' too (no "..", no hidden files). Writes at most n
 * bytes including the NUL; returns dst. An empty name gives "_". */
char *cli_sanitize_name(const char *name, char *dst, size_t n);

/* Shared helpers (cli_util.c). */
/* "docrt: FILE: reason", without doubling FILE when reason starts with it. */
void cli_report(const char *file, const char *reason);
/* "pointwise,dense,grouped" (any subset) as GRAPH_INT8_* bits; -1 if bad */
int cli_parse_int8_convs(const char *list);
/* Warns on stderr when OMP_PROC_BIND is set and more than one stream runs:
 * each stream's OpenMP threads are bound from the same first place, so the
 * streams pile onto the same cores. */
void cli_warn_omp_binding(const char *cmd, int streams);
/* "docrt: FILE: " then the formatted reason. */
void cli_reportf(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whole decimal in [lo, hi]; 0 when not. */
int cli_parse_int(const char *s, long lo, long hi, long *out);
/* A decimal number in [lo, hi] into *out: 1, or 0 if it is not one. */
int cli_parse_float(const char *s, float lo, float hi, float *out);
/* Matches "--long VALUE", "-s VALUE" and "--long=VALUE": 1 and *val set,
 * 0 when argv[*i] is another option, -1 when the value is missing. */
int cli_take_value(int argc, char **argv, int *i, const char *lng,
                   const char *shrt, const char **val);
double cli_now_ms(void);
/* mkdir -p; 0 and a reason in err on failure. */
int cli_make_dirs(const char *dir, char *err, size_t errlen);

int cli_ocr(int argc, char **argv);
void cli_ocr_usage(FILE *f);

int cli_serve(int argc, char **argv);
/* `docrt calibrate` (cli_calibrate.c) */
int cli_calibrate(int argc, char **argv);
void cli_calibrate_usage(FILE *f);
void cli_serve_usage(FILE *f);

#endif
