/* cli_model_opts.h - the model and page options that `docrt ocr` and
 * `docrt serve` share: where the models are, their buckets, precision and
 * threads, the detector's thresholds, rotation handling and the pixel limit.
 * One parser, so both commands take the same spelling and limits. */
#ifndef DOCRT_CLI_MODEL_OPTS_H
#define DOCRT_CLI_MODEL_OPTS_H

#include "docrt.h"

typedef struct {
    docrt_model_params mp;
    docrt_ocr_params op;
    docrt_image_limits lim;
    int threads_set; /* --threads was given */
    char exe_dir[4096];
} cli_model_opts;

/* Defaults: $DOCRT_MODEL_DIR, else ./weights when it holds the detector,
 * else the weights/ folder of the source tree the executable was built in;
 * the angle classifier off. */
void cli_model_opts_init(cli_model_opts *o);
/* argv[*i] is one of these options: 1 (consumed, *i past its value), or -1
 * after printing "docrt CMD: reason" for a bad or missing value. 0 when it
 * is not one of them. */
int cli_model_opts_take(cli_model_opts *o, int argc, char **argv, int *i,
                        const char *cmd);

/* The --help lines of these options. */
extern const char cli_model_opts_help[];

#endif
