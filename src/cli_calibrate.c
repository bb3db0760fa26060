/* cli_calibrate.c - `docrt calibrate`: read sample pages with the float
 * models, record the range of every convolution's input, and write the
 * int8 calibration of the detector and the recognizer (<model>.int8.json)
 * that --precision int8 reads. */
#include "archive_inputs.h"
#include "cli.h"
#include "cli_model_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"usage: docrt calibrate [OPTIONS] INPUT...\n"
"\n"
"Reads every page of each INPUT (files, or folders searched recursively for\n"
"TIFF, PNG and JPEG) with the models in f32, records the range of each\n"
"convolution's input in the detector and the recognizer, and writes them\n"
"beside the models as <model>.int8.json, the calibration that\n"
"--precision int8 needs. Use pages like the ones int8 will read (a few\n"
"dozen scans of the collection); calibrate again after changing models.\n"
"\n"
"options:\n"
"      --det-out FILE      detector calibration (default: beside the model)\n"
"      --rec-out FILE      recognizer calibration (default: beside the model)\n"
"      --max-files N       read at most N files (default: all)\n"
"  -q, --quiet             no progress line per file\n"
"  -h, --help              this text\n"
"\n"
"model and page options (as for docrt ocr; --precision is ignored: f32):\n";

static void report_select(void *ctx, const char *path, const char *reason)
{
    (void)ctx;
    cli_report(path, reason);
}

void cli_calibrate_usage(FILE *f)
{
    fputs(usage_text, f);
    fputs(cli_model_opts_help, f);
}

int cli_calibrate(int argc, char **argv)
{
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    const char *det_out = NULL, *rec_out = NULL;
    long max_files = 0;
    int quiet = 0, rc = CLI_OK;
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    int n_inputs = 0;
    archive_input *in = NULL;
    int n_in = 0;
    docrt_model *model = NULL;
    docrt_stream *s = NULL;
    char err[2048];
    if (!inputs) return CLI_ERR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_calibrate_usage(stdout);
            goto out;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if ((r = cli_take_value(argc, argv, &i, "--det-out", NULL, &val)) != 0) {
            if (r < 0) goto usage;
            det_out = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--rec-out", NULL, &val)) != 0) {
            if (r < 0) goto usage;
            rec_out = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--max-files", NULL, &val)) != 0) {
            if (r < 0 || !cli_parse_int(val, 1, 1000000, &max_files)) goto usage;
        } else if ((r = cli_model_opts_take(&mo, argc, argv, &i, "calibrate")) != 0) {
            if (r < 0) { rc = CLI_USAGE; goto out; }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "docrt calibrate: unknown option '%s'\n", a);
            rc = CLI_USAGE;
            goto out;
        } else {
            inputs[n_inputs++] = a;
        }
    }
    if (n_inputs == 0) {
        fprintf(stderr, "docrt calibrate: no input files\n");
        rc = CLI_USAGE;
        goto out;
    }
    archive_select sel;
    memset(&sel, 0, sizeof sel);
    sel.roots = inputs;
    sel.n_roots = n_inputs;
    if (archive_collect(&sel, &in, &n_in, report_select, NULL) != DOCRT_OK) {
        fprintf(stderr, "docrt calibrate: cannot list the inputs\n");
        rc = CLI_ERR;
        goto out;
    }
    mo.mp.precision = DOCRT_PRECISION_F32;
    mo.mp.angle_cls = 0;
    docrt_status st = docrt_model_load(&mo.mp, &model, err, sizeof err);
    if (st) {
        fprintf(stderr, "docrt calibrate: %s\n", err);
        rc = CLI_ERR;
        goto out;
    }
    if ((st = docrt_stream_create(model, &s)) || (st = docrt_calibration_begin(s))) {
        fprintf(stderr, "docrt calibrate: %s\n", docrt_status_str(st));
        rc = CLI_ERR;
        goto out;
    }
    int failed = 0, files = 0;
    for (int f = 0; f < n_in && (!max_files || files < max_files); f++) {
        docrt_document *doc = NULL;
        if (docrt_document_open(in[f].path, &mo.lim, &doc, err, sizeof err)) {
            fprintf(stderr, "docrt: %s\n", err);
            failed++;
            continue;
        }
        files++;
        int np = docrt_document_n_pages(doc), ok = 0;
        for (int p = 0; p < np; p++) {
            docrt_image img;
            if (docrt_document_read_page(doc, p, &img, err, sizeof err)) {
                fprintf(stderr, "docrt: %s\n", err);
                failed++;
                continue;
            }
            docrt_ocr_params op = mo.op;
            op.source_name = in[f].path;
            op.page_index = p;
            const docrt_page *pg;
            if (docrt_ocr_image(s, &img, &op, &pg)) {
                fprintf(stderr, "docrt: %s\n", docrt_stream_error(s));
                failed++;
            } else ok++;
            docrt_image_free(&img);
        }
        docrt_document_close(doc);
        if (!quiet)
            fprintf(stderr, "docrt calibrate: %s: %d of %d pages\n", in[f].path, ok, np);
    }
    int pages = 0;
    if (docrt_calibration_save(s, det_out, rec_out, &pages, err, sizeof err)) {
        fprintf(stderr, "docrt calibrate: %s\n", err);
        rc = CLI_ERR;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "docrt calibrate: %d pages recorded%s\n", pages,
                failed ? "; some inputs failed (above)" : "");
    if (failed) rc = CLI_ERR;
    goto out;
usage:
    fprintf(stderr, "docrt calibrate: bad or missing value for %s\n", argv[argc - 1]);
    rc = CLI_USAGE;
out:
    docrt_stream_free(s);
    docrt_model_free(model);
    archive_inputs_free(in, n_in);
    free(inputs);
    return rc;
}
