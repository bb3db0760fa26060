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

#endif
