/* cli_ocr.c - `docrt ocr`: page OCR of image files into txt/JSON/hOCR/ALTO.
 *
 * Each input is read page by page; a page that fails is reported (file,
 * page, reason) and left empty in the outputs, and the run goes on. Outputs
 * are written to a temporary name and renamed when the input is done, so an
 * interrupted run never leaves a half-written file under the final name. */
#include "cli.h"
#include "docrt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_ocr_usage(FILE *f)
{
    fputs(
"usage: docrt ocr [OPTIONS] INPUT... [-o OUTDIR]\n"
"\n"
"Reads each INPUT (TIFF with all its pages, PNG, JPEG; '-' is stdin) and\n"
"writes OUTDIR/<input stem>.<ext> for each format. A multi-page TIFF gives\n"
"one output holding all its pages (txt: separated by form feeds).\n"
"\n"
"options:\n"
"  -o, --output DIR        output folder (created; default: .)\n"
"  -f, --format LIST       comma list of txt, json, hocr, alto (default txt);\n"
"                          extensions .txt .json .hocr .xml\n"
"  -m, --model-dir DIR     model files and descriptions (default: $DOCRT_MODEL_DIR,\n"
"                          else ./weights)\n"
"  -t, --threads N         oneDNN threads (default 1)\n"
"      --angle-cls         run the 180-degree text line classifier\n"
"      --no-rotate         do not look for pages turned by 90/180/270 degrees\n"
"      --overlay           also write OUTDIR/<stem>[-pN].overlay.png with the\n"
"                          boxes and reading order drawn on the page\n"
"      --det-buckets LIST  detector input shapes, HxW[,HxW...] (multiples of 32)\n"
"      --det-max-side N    longest page side in the detector input\n"
"      --rec-widths LIST   recognizer width buckets, ascending (e.g. 160,320,640)\n"
"      --rec-batch N       recognizer batch per bucket\n"
"      --det-thresh X      probability map threshold (model description: 0.3)\n"
"      --box-thresh X      minimum box score (0.6)\n"
"      --unclip-ratio X    box expansion (1.5)\n"
"      --max-pixels N      refuse pages over N pixels (default A3 at 600 dpi)\n"
"      --cache-capacity N  oneDNN primitive cache capacity\n"
"      --timing            per page: decode/detect/recognize/layout times\n"
"  -q, --quiet             no progress line\n"
"  -h, --help              this text\n"
"\n"
"exit status: 0 every page read, 1 some input or page failed (the others\n"
"are still written), 2 usage error.\n", f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("docrt ocr: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see docrt ocr --help)\n", stderr);
    return CLI_USAGE;
}

static int parse_float(const char *s, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = (float)v;
    return 1;
}

static int parse_buckets(const char *s, docrt_model_params *mp)
{
    int n = 0;
    while (*s) {
        char *end;
        long h = strtol(s, &end, 10);
        if (end == s || (*end != 'x' && *end != 'X')) return 0;
        s = end + 1;
        long w = strtol(s, &end, 10);
        if (end == s || n >= 8) return 0;
        mp->det_buckets[n][0] = (int)h;
        mp->det_buckets[n][1] = (int)w;
        n++;
        s = end;
        if (*s == ',') s++;
        else if (*s) return 0;
    }
    mp->n_det_buckets = n;
    return n > 0;
}

static int parse_widths(const char *s, docrt_model_params *mp)
{
    int n = 0;
    while (*s) {
        char *end;
        long w = strtol(s, &end, 10);
        if (end == s || n >= 8 || w < 16 || w > 8192) return 0;
        mp->rec_widths[n++] = (int)w;
        s = end;
        if (*s == ',') s++;
        else if (*s) return 0;
    }
    mp->n_rec_widths = n;
    return n > 0;
}

/* "dir/name.tif" -> "name"; "-" -> "stdin". */
static void stem_of(const char *path, char *dst, size_t n)
{
    if (strcmp(path, "-") == 0) { snprintf(dst, n, "stdin"); return; }
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", b);
    char *dot = strrchr(tmp, '.');
    if (dot && dot != tmp) *dot = 0;
    cli_sanitize_name(tmp, dst, n);
}

static docrt_status read_stdin(void **data, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    if (!buf) return DOCRT_ERR_NOMEM;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); return DOCRT_ERR_NOMEM; }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, stdin);
        n += r;
        if (r == 0) break;
    }
    if (ferror(stdin)) { free(buf); return DOCRT_ERR_IO; }
    *data = buf;
    *len = n;
    return DOCRT_OK;
}

typedef struct {
    const char *outdir;
    int formats, overlay, timing, progress;
    docrt_image_limits lim;
    docrt_ocr_params op;
} run_opts;

enum { N_FORMATS = 4 };
static const docrt_format all_formats[N_FORMATS] = {
    DOCRT_FORMAT_TXT, DOCRT_FORMAT_JSON, DOCRT_FORMAT_HOCR, DOCRT_FORMAT_ALTO};

/* OCR one input into its outputs. Returns 0 when every page was read. */
static int process_input(docrt_stream *st, const char *input,
                         const run_opts *o, int idx, int n_inputs)
{
    char err[1024] = "", stem[256];
    stem_of(input, stem, sizeof stem);
    docrt_document *doc = NULL;
    docrt_status s;
    double t0 = cli_now_ms();
    if (strcmp(input, "-") == 0) {
        void *data = NULL;
        size_t len = 0;
        s = read_stdin(&data, &len);
        if (s == DOCRT_OK)
            s = docrt_document_open_memory(data, len, "-", &o->lim, &doc, err,
                                           sizeof err);
        else
            snprintf(err, sizeof err, "-: cannot read stdin: %s",
                     docrt_status_str(s));
        free(data);
    } else {
        s = docrt_document_open(input, &o->lim, &doc, err, sizeof err);
    }
    if (s != DOCRT_OK) {
        cli_report(input, err[0] ? err : docrt_status_str(s));
        return 1;
    }
    double open_ms = cli_now_ms() - t0;

    FILE *files[N_FORMATS] = {0};
    docrt_writer *writers[N_FORMATS] = {0};
    char paths[N_FORMATS][4096], tmps[N_FORMATS][4200];
    int failed = 0;
    for (int f = 0; f < N_FORMATS; f++) {
        if (!(o->formats & all_formats[f])) continue;
        int n1 = snprintf(paths[f], sizeof paths[f], "%s/%s.%s", o->outdir,
                          stem, docrt_format_ext(all_formats[f]));
        int n2 = snprintf(tmps[f], sizeof tmps[f], "%s.tmp%ld", paths[f],
                          (long)getpid());
        if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof paths[f] ||
            (size_t)n2 >= sizeof tmps[f]) {
            cli_reportf(input, "output path too long");
            failed = 1;
            goto done;
        }
        files[f] = fopen(tmps[f], "wb");
        if (!files[f] ||
            docrt_writer_open(files[f], all_formats[f], input, &writers[f])) {
            cli_reportf(input, "cannot write %s: %s", tmps[f], strerror(errno));
            failed = 1;
            goto done;
        }
    }

    int n_pages = docrt_document_n_pages(doc);
    for (int pg = 0; pg < n_pages; pg++) {
        docrt_image img;
        memset(&img, 0, sizeof img);
        double td = cli_now_ms();
        s = docrt_document_read_page(doc, pg, &img, err, sizeof err);
        double decode_ms = cli_now_ms() - td + (pg == 0 ? open_ms : 0);
        docrt_page page;
        memset(&page, 0, sizeof page);
        page.page_index = pg;
        if (s != DOCRT_OK) {
            cli_report(input, err[0] ? err : docrt_status_str(s));
            failed = 1;
        } else {
            docrt_ocr_params op = o->op;
            op.source_name = input;
            op.page_index = pg;
            const docrt_page *res = NULL;
            s = docrt_ocr_image(st, &img, &op, &res);
            if (s != DOCRT_OK) {
                cli_report(input, docrt_stream_error(st));
                failed = 1;
                page.width = img.width;
                page.height = img.height;
            } else {
                page = *res;
                page.timing.decode_ms = decode_ms;
                if (o->overlay) {
                    char ov[4200];
                    int n = n_pages > 1
                        ? snprintf(ov, sizeof ov, "%s/%s-p%d.overlay.png",
                                   o->outdir, stem, pg + 1)
                        : snprintf(ov, sizeof ov, "%s/%s.overlay.png",
                                   o->outdir, stem);
                    if (n < 0 || (size_t)n >= sizeof ov) {
                        cli_reportf(input, "overlay path too long");
                        failed = 1;
                    } else if (docrt_overlay_write_png(&img, &page, ov, err,
                                                       sizeof err)) {
                        cli_report(input, err);
                        failed = 1;
                    }
                }
                if (o->timing)
                    fprintf(stderr,
                            "docrt: %s: page %d: %dx%d decode %.0f ms, detect "
                            "%.0f ms, recognize %.0f ms, layout %.1f ms, %d "
                            "boxes, %d batches, rotation %d\n",
                            input, pg + 1, img.width, img.height, decode_ms,
                            page.timing.detect_ms, page.timing.recognize_ms,
                            page.timing.layout_ms, page.timing.n_boxes,
                            page.timing.n_rec_batches, page.rotation);
            }
        }
        for (int f = 0; f < N_FORMATS; f++)
            if (writers[f] && docrt_writer_add_page(writers[f], &page)) {
                cli_reportf(input, "writing %s failed", tmps[f]);
                failed = 1;
            }
        docrt_image_free(&img);
        if (o->progress)
            fprintf(stderr, "\rdocrt: file %d/%d page %d/%d", idx + 1,
                    n_inputs, pg + 1, n_pages);
    }
done:
    for (int f = 0; f < N_FORMATS; f++) {
        if (writers[f] && docrt_writer_close(writers[f])) {
            cli_reportf(input, "writing %s failed", tmps[f]);
            failed = 1;
        }
        if (files[f]) {
            if (fclose(files[f]) != 0) failed = 1;
            if (rename(tmps[f], paths[f]) != 0) {
                cli_reportf(input, "cannot rename %s to %s: %s", tmps[f],
                            paths[f], strerror(errno));
                unlink(tmps[f]);
                failed = 1;
            }
        }
    }
    docrt_document_close(doc);
    return failed;
}

int cli_ocr(int argc, char **argv)
{
    docrt_model_params mp = docrt_model_default_params();
    const char *env_dir = getenv("DOCRT_MODEL_DIR");
    if (env_dir && *env_dir) mp.model_dir = env_dir;
    run_opts o;
    memset(&o, 0, sizeof o);
    o.outdir = ".";
    o.formats = DOCRT_FORMAT_TXT;
    o.lim = docrt_image_default_limits();
    o.op = docrt_ocr_default_params();
    o.op.angle_cls = 0;
    int quiet = 0;
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    if (!inputs) return CLI_ERR;
    int n_inputs = 0, rc = CLI_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int r;
        long lv;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_ocr_usage(stdout);
            free(inputs);
            return CLI_OK;
        } else if (strcmp(a, "--") == 0) {
            while (++i < argc) inputs[n_inputs++] = argv[i];
        } else if ((r = cli_take_value(argc, argv, &i, "--output", "-o", &val))) {
            if (r < 0) goto missing;
            o.outdir = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--format", "-f", &val))) {
            if (r < 0) goto missing;
            if (docrt_format_parse(val, &o.formats) != DOCRT_OK)
                { rc = usage_error("unknown format in '%s' (txt, json, hocr, alto)", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--model-dir", "-m", &val))) {
            if (r < 0) goto missing;
            mp.model_dir = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--threads", "-t", &val))) {
            if (r < 0) goto missing;
            if (!cli_parse_int(val, 1, 1024, &lv)) { rc = usage_error("bad thread count '%s'", val); goto out; }
            mp.n_threads = (int)lv;
        } else if (strcmp(a, "--angle-cls") == 0) {
            mp.angle_cls = 1;
            o.op.angle_cls = 1;
        } else if (strcmp(a, "--no-rotate") == 0) {
            o.op.detect_rotation = 0;
        } else if (strcmp(a, "--overlay") == 0) {
            o.overlay = 1;
        } else if (strcmp(a, "--timing") == 0) {
            o.timing = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if ((r = cli_take_value(argc, argv, &i, "--det-buckets", NULL, &val))) {
            if (r < 0) goto missing;
            if (!parse_buckets(val, &mp)) { rc = usage_error("bad bucket list '%s' (HxW,HxW)", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--det-max-side", NULL, &val))) {
            if (r < 0) goto missing;
            if (!cli_parse_int(val, 32, 8192, &lv)) { rc = usage_error("bad side '%s'", val); goto out; }
            mp.det_max_side = (int)lv;
        } else if ((r = cli_take_value(argc, argv, &i, "--rec-widths", NULL, &val))) {
            if (r < 0) goto missing;
            if (!parse_widths(val, &mp)) { rc = usage_error("bad width list '%s'", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--rec-batch", NULL, &val))) {
            if (r < 0) goto missing;
            if (!cli_parse_int(val, 1, 64, &lv)) { rc = usage_error("bad batch '%s' (1..64)", val); goto out; }
            mp.rec_batch = (int)lv;
        } else if ((r = cli_take_value(argc, argv, &i, "--det-thresh", NULL, &val))) {
            if (r < 0) goto missing;
            if (!parse_float(val, 0, 1, &o.op.det_thresh)) { rc = usage_error("bad threshold '%s'", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--box-thresh", NULL, &val))) {
            if (r < 0) goto missing;
            if (!parse_float(val, 0, 1, &o.op.box_thresh)) { rc = usage_error("bad threshold '%s'", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--unclip-ratio", NULL, &val))) {
            if (r < 0) goto missing;
            if (!parse_float(val, 0, 10, &o.op.unclip_ratio)) { rc = usage_error("bad ratio '%s'", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--max-pixels", NULL, &val))) {
            if (r < 0) goto missing;
            if (!cli_parse_int(val, 1, 4000000000L, &lv)) { rc = usage_error("bad pixel count '%s'", val); goto out; }
            o.lim.max_pixels = (uint64_t)lv;
        } else if ((r = cli_take_value(argc, argv, &i, "--cache-capacity", NULL, &val))) {
            if (r < 0) goto missing;
            if (!cli_parse_int(val, 0, 1000000, &lv)) { rc = usage_error("bad capacity '%s'", val); goto out; }
            mp.cache_capacity = (int)lv;
        } else if (a[0] == '-' && a[1] != 0) {
            rc = usage_error("unknown option '%s'", a);
            goto out;
        } else {
            inputs[n_inputs++] = a;
        }
        continue;
missing:
        rc = usage_error("option '%s' needs a value", a);
        goto out;
    }
    if (n_inputs == 0) { rc = usage_error("%s", "no input files"); goto out; }

    char err[1024];
    if (!cli_make_dirs(o.outdir, err, sizeof err)) {
        cli_report(o.outdir, err);
        rc = CLI_ERR;
        goto out;
    }
    docrt_model *model = NULL;
    docrt_stream *st = NULL;
    docrt_status s = docrt_model_load(&mp, &model, err, sizeof err);
    if (s != DOCRT_OK) {
        fprintf(stderr, "docrt: cannot load the models: %s\n",
                err[0] ? err : docrt_status_str(s));
        rc = CLI_ERR;
        goto out;
    }
    if ((s = docrt_stream_create(model, &st)) != DOCRT_OK) {
        fprintf(stderr, "docrt: cannot create a stream: %s\n",
                docrt_status_str(s));
        docrt_model_free(model);
        rc = CLI_ERR;
        goto out;
    }
    o.progress = !quiet && !o.timing && isatty(2);
    int n_failed = 0;
    for (int i = 0; i < n_inputs; i++)
        n_failed += process_input(st, inputs[i], &o, i, n_inputs);
    if (o.progress) fputc('\n', stderr);
    if (n_failed)
        fprintf(stderr, "docrt: %d of %d input%s had errors\n", n_failed,
                n_inputs, n_inputs == 1 ? "" : "s");
    docrt_stream_free(st);
    docrt_model_free(model);
    rc = n_failed ? CLI_ERR : CLI_OK;
out:
    free(inputs);
    return rc;
}
