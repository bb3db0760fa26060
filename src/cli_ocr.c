/* cli_ocr.c - `docrt ocr`: page OCR of image files and folder trees into
 * txt/JSON/hOCR/ALTO. Options are parsed here; archive_inputs.c says which
 * files to read and archive_run.c reads them (threads, journal, resume).
 *
 * Each input is read page by page; a page that fails is reported (file,
 * page, reason) and left empty in the outputs, and the run goes on. Outputs
 * are written to a temporary name and renamed when the input is done, so an
 * interrupted run never leaves a half-written file under the final name. */
#include "archive_inputs.h"
#include "archive_run.h"
#include "cli.h"
#include "cli_model_opts.h"
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
"Reads each INPUT (TIFF with all its pages, PNG, JPEG; '-' is stdin; a\n"
"folder: every such file under it, recursively) and writes\n"
"OUTDIR/<name>.<ext> for each format. A file given directly keeps its stem\n"
"(scan.tif -> OUTDIR/scan.txt); a file found in a folder mirrors its place\n"
"under that folder (DIR/a/b/scan.tif -> OUTDIR/a/b/scan.txt). A multi-page\n"
"TIFF gives one output holding all its pages (txt: separated by form feeds).\n"
"\n"
"options:\n"
"  -o, --output DIR        output folder (created; default: .)\n"
"  -f, --format LIST       comma list of txt, json, hocr, alto (default txt);\n"
"                          extensions .txt .json .hocr .xml\n"
"  -j, --jobs N            pages read in parallel by N streams, one file each\n"
"                          (default: one per core); each stream uses --threads\n"
"      --files-from LIST   also read the paths listed in LIST, one a line\n"
"                          ('-': stdin)\n"
"      --include GLOB      only files whose path under their folder matches\n"
"                          (repeatable; default: *.tif *.tiff *.png *.jpg *.jpeg)\n"
"      --exclude GLOB      skip files whose path under their folder matches\n"
"                          (repeatable)\n"
"      --shard K/N         only the K-th of N shards (0 <= K < N), by a hash of\n"
"                          the output name: N machines, one OUTDIR, no overlap\n"
"      --sidecar           write each output next to its input instead\n"
"                          (OUTDIR still holds the journal and errors.jsonl)\n"
"      --jsonl FILE        also one JSON line per page (path, rel, page, width,\n"
"                          height, rotation, text, confidence); a file's lines\n"
"                          are together, files in the order they finish\n"
"      --resume            go on from OUTDIR/.docrt/journal (archive default)\n"
"      --no-resume         start over: empty the journal, redo every file\n"
"      --log-json          progress and summary as JSON lines on stderr\n"
"      --overlay           also write OUTDIR/<name>[-pN].overlay.png with the\n"
"                          boxes and reading order drawn on the page\n"
"      --timing            per page: decode/detect/recognize/layout times,\n"
"                          and the model load + compile time and precision\n"
"  -q, --quiet             errors only: no progress line, no summary (in a\n"
"                          pipe, only errors are printed anyway)\n"
"  -h, --help              this text\n"
"\n"
"model and page options:\n", f);
    fputs(cli_model_opts_help, f);
    fputs(
"\n"
"Archive mode (an INPUT is a folder, or --files-from, or --resume): progress\n"
"goes to OUTDIR/.docrt/journal, so the same command after an interruption\n"
"(even kill -9) skips the files already done, redoes a half-done file, and\n"
"ends with the outputs an uninterrupted run writes. Every failed file and\n"
"page is listed in OUTDIR/errors.jsonl ({\"path\", \"page\" (null: the whole\n"
"file), \"reason\"}, sorted), as well as on stderr.\n"
"\n"
"exit status: 0 every page read, 1 some input or page failed (the others\n"
"are still written), 2 usage error or fatal error (the models cannot be\n"
"loaded, OUTDIR cannot be written).\n", f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("docrt ocr: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see docrt ocr --help)\n", stderr);
    return CLI_USAGE;
}

typedef struct {
    archive_problem *v;
    int n, cap;
    int reported; /* also those that did not fit in memory */
} problem_list;

static void add_problem(problem_list *l, const char *path, const char *reason)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        archive_problem *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv) return;
        l->v = nv;
        l->cap = cap;
    }
    char *p = strdup(path), *r = strdup(reason);
    if (!p || !r) {
        free(p);
        free(r);
        return;
    }
    l->v[l->n].path = p;
    l->v[l->n].reason = r;
    l->n++;
}

/* Counted (exit 1), reported, and kept for errors.jsonl. */
static void report_select(void *ctx, const char *path, const char *reason)
{
    problem_list *l = ctx;
    l->reported++;
    add_problem(l, path, reason);
    cli_report(path, reason);
}

int cli_ocr(int argc, char **argv)
{
    static cli_model_opts mo; /* holds the exe_dir path the params point to */
    cli_model_opts_init(&mo);
    docrt_model_params *mp = &mo.mp;
    archive_opts o;
    memset(&o, 0, sizeof o);
    o.outdir = ".";
    o.formats = DOCRT_FORMAT_TXT;
    o.resume = 1;
    int quiet = 0, resume_set = 0;
    long jobs = 0;
    archive_select sel;
    memset(&sel, 0, sizeof sel);
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    const char **incl = calloc((size_t)argc + 1, sizeof *incl);
    const char **excl = calloc((size_t)argc + 1, sizeof *excl);
    archive_input *in = NULL;
    problem_list problems = {NULL, 0, 0, 0};
    int n_in = 0;
    if (!inputs || !incl || !excl) {
        free(inputs);
        free(incl);
        free(excl);
        return CLI_USAGE;
    }
    int n_inputs = 0, rc = CLI_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int r;
        if ((r = cli_model_opts_take(&mo, argc, argv, &i, "ocr")) != 0) {
            if (r < 0) { rc = CLI_USAGE; goto out; }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_ocr_usage(stdout);
            goto out;
        } else if (strcmp(a, "--") == 0) {
            while (++i < argc) inputs[n_inputs++] = argv[i];
        } else if ((r = cli_take_value(argc, argv, &i, "--output", "-o", &val))) {
            if (r < 0) goto missing;
            o.outdir = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--format", "-f", &val))) {
            if (r < 0) goto missing;
            if (docrt_format_parse(val, &o.formats) != DOCRT_OK)
                { rc = usage_error("unknown format in '%s' (txt, json, hocr, alto)", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--jobs", "-j", &val))) {
            if (r < 0) goto missing;
            if (!cli_parse_int(val, 1, 1024, &jobs)) { rc = usage_error("bad job count '%s' (1..1024)", val); goto out; }
        } else if ((r = cli_take_value(argc, argv, &i, "--files-from", NULL, &val))) {
            if (r < 0) goto missing;
            sel.files_from = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--include", NULL, &val))) {
            if (r < 0) goto missing;
            incl[sel.n_include++] = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--exclude", NULL, &val))) {
            if (r < 0) goto missing;
            excl[sel.n_exclude++] = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--shard", NULL, &val))) {
            if (r < 0) goto missing;
            int k = -1, nn = -1, used = 0;
            if (sscanf(val, "%d/%d%n", &k, &nn, &used) != 2 || val[used] ||
                nn < 1 || k < 0 || k >= nn)
                { rc = usage_error("bad shard '%s' (K/N, 0 <= K < N)", val); goto out; }
            sel.shard_k = k;
            sel.shard_n = nn;
        } else if ((r = cli_take_value(argc, argv, &i, "--jsonl", NULL, &val))) {
            if (r < 0) goto missing;
            o.jsonl = val;
        } else if (strcmp(a, "--sidecar") == 0) {
            o.sidecar = 1;
        } else if (strcmp(a, "--resume") == 0) {
            o.resume = 1;
            resume_set = 1;
        } else if (strcmp(a, "--no-resume") == 0) {
            o.resume = 0;
            resume_set = 1;
        } else if (strcmp(a, "--log-json") == 0) {
            o.log_json = 1;
        } else if (strcmp(a, "--overlay") == 0) {
            o.overlay = 1;
        } else if (strcmp(a, "--timing") == 0) {
            o.timing = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
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
    o.lim = mo.lim;
    o.op = mo.op;
    if (n_inputs == 0 && !sel.files_from) { rc = usage_error("%s", "no input files"); goto out; }

    /* Archive mode: a folder, a manifest, or --resume asked for. A plain
     * list of files keeps the old behaviour: no journal, every file redone. */
    o.archive = sel.files_from != NULL || resume_set;
    for (int i = 0; i < n_inputs && !o.archive; i++) {
        struct stat sb;
        if (strcmp(inputs[i], "-") != 0 && stat(inputs[i], &sb) == 0 &&
            S_ISDIR(sb.st_mode))
            o.archive = 1;
    }

    char err[1024];
    if (!cli_make_dirs(o.outdir, err, sizeof err) ||
        access(o.outdir, W_OK) != 0) {
        if (!err[0] || access(o.outdir, F_OK) == 0)
            snprintf(err, sizeof err, "cannot write there: %s", strerror(errno));
        fprintf(stderr, "docrt: %s: output folder: %s\n", o.outdir, err);
        rc = CLI_USAGE;
        goto out;
    }

    sel.roots = inputs;
    sel.n_roots = n_inputs;
    sel.include = incl;
    sel.exclude = excl;
    docrt_status s = archive_collect(&sel, &in, &n_in, report_select, &problems);
    if (s != DOCRT_OK) {
        if (s == DOCRT_ERR_ARG)
            rc = usage_error("%s", "bad selection (--shard K/N needs K < N)");
        else {
            fprintf(stderr, "docrt: %s: cannot read the list of files: %s\n",
                    sel.files_from ? sel.files_from : "(inputs)",
                    docrt_status_str(s));
            rc = CLI_USAGE;
        }
        goto out;
    }

    /* A folder with nothing docrt reads is an error, as a missing file is. */
    for (int i = 0; i < n_inputs; i++) {
        struct stat sb;
        if (strcmp(inputs[i], "-") == 0 || stat(inputs[i], &sb) != 0 ||
            !S_ISDIR(sb.st_mode))
            continue;
        size_t rl = strlen(inputs[i]);
        int any = 0;
        for (int k = 0; k < n_in && !any; k++)
            any = strncmp(in[k].path, inputs[i], rl) == 0 &&
                  (in[k].path[rl] == '/' || inputs[i][rl - 1] == '/');
        if (!any) {
            report_select(&problems, inputs[i],
                          "a folder with no image files docrt reads (TIFF, "
                          "PNG, JPEG) selected");
        }
    }

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = (int)(jobs > 0 ? jobs : ncpu > 0 ? ncpu : 1);
    if (o.jobs > n_in) o.jobs = n_in > 0 ? n_in : 1;
    if (!mo.threads_set) mp->n_threads = 1; /* per stream: jobs share the cores */
    cli_warn_omp_binding("ocr", o.jobs);
    o.quiet = quiet;
    o.progress = !quiet && !o.timing && !o.log_json && isatty(2);

    docrt_model *model = NULL;
    err[0] = '\0';
    double t_load = cli_now_ms();
    s = docrt_model_load(mp, &model, err, sizeof err);
    t_load = cli_now_ms() - t_load;
    if (s != DOCRT_OK) {
        fprintf(stderr, "docrt: cannot load the models: %s\n",
                err[0] ? err : docrt_status_str(s));
        rc = CLI_USAGE;
        goto out;
    }
    docrt_precision pd = DOCRT_PRECISION_F32, pr = DOCRT_PRECISION_F32;
    docrt_model_precision(model, &pd, &pr);
    char prec[64];
    snprintf(prec, sizeof prec, "detector %s, recognizer %s",
             docrt_precision_name(pd), docrt_precision_name(pr));
    o.precision = prec;
    if (o.timing)
        fprintf(stderr, "docrt: models compiled: %s, in %.0f ms (load, "
                "every bucket compiled)\n", prec, t_load);
    o.problems = problems.v;
    o.n_problems = problems.n;
    rc = archive_run(model, in, n_in, &o);
    if (rc == CLI_OK && problems.reported) rc = CLI_ERR;
    docrt_model_free(model);
out:
    for (int i = 0; i < problems.n; i++) {
        free(problems.v[i].path);
        free(problems.v[i].reason);
    }
    free(problems.v);
    archive_inputs_free(in, n_in);
    free(inputs);
    free(incl);
    free(excl);
    return rc;
}
