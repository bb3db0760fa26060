/* archive_run.h - the `docrt ocr` run engine: N worker threads, each with its
 * own docrt_stream on one shared docrt_model, take the inputs in order and
 * write each input's outputs under a temporary name, renamed into place when
 * the input is done. In archive mode a journal (OUTDIR/.docrt/journal, one
 * JSON line per finished page and per finished file) lets a killed run be
 * started again and end with the same bytes, and OUTDIR/errors.jsonl is
 * regenerated from it at the end. */
#ifndef DOCRT_ARCHIVE_RUN_H
#define DOCRT_ARCHIVE_RUN_H

#include "archive_inputs.h"
#include "docrt.h"

/* An input that could not even be collected (a missing root or manifest
 * entry, an unreadable folder...): listed in errors.jsonl with page null. */
typedef struct {
    char *path;
    char *reason;
} archive_problem;

typedef struct {
    const char *outdir;  /* outputs (mirroring rel), journal, errors.jsonl */
    int sidecar;         /* outputs next to each input instead of in outdir */
    int archive;         /* journal, resume and errors.jsonl */
    int resume;          /* archive: 1 go on from the journal, 0 start over */
    int formats;         /* DOCRT_FORMAT_* bits */
    int overlay, timing;
    int jobs;            /* worker threads (streams), >= 1 */
    int quiet;           /* errors only, no summary */
    int progress;        /* one-line progress bar on stderr (a terminal) */
    int log_json;        /* JSON progress lines on stderr */
    const char *jsonl;   /* one JSON line per page, or NULL */
    const char *precision; /* "f32"/"bf16", for the summary */
    const archive_problem *problems; /* archive: journaled, so that
                                      * errors.jsonl keeps them */
    int n_problems;
    docrt_image_limits lim;
    docrt_ocr_params op;
} archive_opts;

/* Runs every input; returns the exit status: 0 every page read, 1 some
 * input or page failed (this run or, resumed, an earlier one), 2 fatal
 * (journal or outputs cannot be written at all). */
int archive_run(const docrt_model *model, const archive_input *in, int n,
                const archive_opts *o);

/* Where an input's outputs go: "<outdir>/<rel>" or, sidecar, the input's
 * path without its extension. Returns 0 when it does not fit. */
int archive_output_base(const archive_opts *o, const archive_input *in,
                        char *dst, size_t n);

#endif
