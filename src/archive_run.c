/* archive_run.c - the `docrt ocr` run engine (see archive_run.h).
 *
 * A reader thread (archive_reader.c) opens the inputs in sorted order and
 * decodes pages ahead of the workers; each worker has its own stream, so
 * only the shared model is touched by several threads. An
 * input's outputs do not depend on which worker read it nor on what ran
 * before, which is what lets a killed run redo a half-done input and end
 * with the bytes of an uninterrupted run. */
#include "archive_run.h"
#include "archive_journal.h"
#include "archive_reader.h"
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { N_FORMATS = 4 };
static const docrt_format all_formats[N_FORMATS] = {
    DOCRT_FORMAT_TXT, DOCRT_FORMAT_JSON, DOCRT_FORMAT_HOCR, DOCRT_FORMAT_ALTO};

typedef struct {
    const archive_opts *o;
    const docrt_model *model;
    const archive_input *in;
    int n;
    journal_state *js; /* NULL outside archive mode */
    journal jr;
    FILE *jsonl;
    pthread_mutex_t mu; /* next, counters, stderr, jsonl */
    archive_reader *rd;
    int next, next_worker;
    int files_opened, pages_opened; /* by the reader: the page total */
    int files_done, pages_done, files_failed, pages_failed, skipped;
    int files_unwritten; /* outputs not written (disk full...): redo */
    int fatal;
    double t0, last_progress;
} run_ctx;

int archive_output_base(const archive_opts *o, const archive_input *in,
                        char *dst, size_t n)
{
    int k;
    if (o->sidecar && strcmp(in->path, "-") != 0) {
        const char *slash = strrchr(in->path, '/');
        const char *base = slash ? slash + 1 : in->path;
        const char *dot = strrchr(base, '.');
        size_t keep = dot && dot != base ? (size_t)(dot - in->path)
                                         : strlen(in->path);
        k = snprintf(dst, n, "%.*s", (int)keep, in->path);
    } else {
        k = snprintf(dst, n, "%s/%s", o->outdir, in->rel);
    }
    return k >= 0 && (size_t)k < n;
}

/* vsnprintf: a reason cut short is better than no reason. */
static void errf(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

/* ---- stderr: whole lines under the mutex, the progress line redrawn ---- */

static void clear_progress(run_ctx *c)
{
    if (c->o->progress)
        fputs("\r\033[K", stderr);
}

static void draw_progress(run_ctx *c, int force)
{
    double now = cli_now_ms();
    if (!force && now - c->last_progress < 200)
        return;
    c->last_progress = now;
    double s = (now - c->t0) / 1e3;
    int done = c->files_done + c->skipped;
    /* The page total is exact once the reader has opened every input;
     * until then the pages per opened input so far stand for the rest. */
    int unopened = c->n - c->skipped - c->files_opened;
    double total = c->pages_opened;
    if (unopened > 0 && c->files_opened > 0)
        total += (double)unopened * c->pages_opened / c->files_opened;
    if (c->o->progress) {
        double rate = s > 0 ? c->pages_done / s : 0;
        double eta = rate > 0 ? (total - c->pages_done) / rate : 0;
        if (eta < 0)
            eta = 0;
        fprintf(stderr,
                "\r\033[Kdocrt: files %d/%d, pages %d/%s%.0f, %.2f pages/s, "
                "ETA %dh%02dm%02ds, %d failed",
                done, c->n, c->pages_done, unopened > 0 ? "~" : "", total,
                rate, (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60,
                c->files_failed);
    }
    if (c->o->log_json)
        fprintf(stderr,
                "{\"event\":\"progress\",\"files_done\":%d,\"files_total\":%d,"
                "\"pages_done\":%d,\"pages_total\":%.0f,"
                "\"pages_total_exact\":%s,\"files_failed\":%d,"
                "\"pages_failed\":%d,\"elapsed_s\":%.3f}\n",
                done, c->n, c->pages_done, total,
                unopened > 0 ? "false" : "true", c->files_failed,
                c->pages_failed, s);
}

static void report(run_ctx *c, const char *file, const char *reason)
{
    pthread_mutex_lock(&c->mu);
    clear_progress(c);
    cli_report(file, reason);
    if (c->o->progress)
        draw_progress(c, 1);
    pthread_mutex_unlock(&c->mu);
}

/* The reason alone: "FILE: page N: why" -> "why" (errors.jsonl has the
 * path and page in their own fields). */
static const char *bare_reason(const char *err, const char *path)
{
    size_t pl = strlen(path);
    if (strncmp(err, path, pl) == 0 && err[pl] == ':' && err[pl + 1] == ' ')
        err += pl + 2;
    if (strncmp(err, "page ", 5) == 0) {
        const char *p = err + 5;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p > err + 5 && p[0] == ':' && p[1] == ' ')
            err = p + 2;
    }
    return *err ? err : "failed";
}

/* ---- journal lines ---- */

static int jr_line(run_ctx *c, json_t *o, int sync)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    int rc = s ? journal_append(&c->jr, s, sync) : -1;
    free(s);
    if (rc) {
        pthread_mutex_lock(&c->mu);
        if (!c->fatal) {
            clear_progress(c);
            fprintf(stderr, "docrt: %s: cannot write: %s\n", c->jr.path,
                    strerror(errno));
        }
        c->fatal = 1;
        pthread_mutex_unlock(&c->mu);
    }
    return rc;
}

static void jr_page(run_ctx *c, int idx, int page, const char *reason)
{
    if (!c->js || journal_has_page(&c->js[idx], page))
        return;
    json_t *o = json_object();
    json_object_set_new(o, "rel", json_string(c->in[idx].rel));
    json_object_set_new(o, "page", json_integer(page));
    if (reason) {
        json_object_set_new(o, "path", json_string(c->in[idx].path));
        json_object_set_new(o, "reason",
                            json_string(bare_reason(reason, c->in[idx].path)));
    }
    jr_line(c, o, 0);
}

static void jr_done(run_ctx *c, int idx, int pages, int failed)
{
    if (!c->js)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "rel", json_string(c->in[idx].rel));
    json_object_set_new(o, "path", json_string(c->in[idx].path));
    json_object_set_new(o, "done", json_integer(pages));
    json_object_set_new(o, "failed", json_integer(failed));
    jr_line(c, o, 1);
}

/* ---- one input ---- */

static int make_parent(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    struct stat sb;
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return 1;
    return cli_make_dirs(dir, err, errlen);
}

/* The text of a page, lines joined by '\n', blocks by a blank line, and
 * the mean confidence of its lines. */
static json_t *page_json(const archive_input *in, const docrt_page *p,
                         int page)
{
    size_t cap = 256, n = 0;
    char *t = malloc(cap);
    double conf = 0;
    int nl = 0;
    if (!t)
        return NULL;
    t[0] = '\0';
    for (int b = 0; b < p->n_blocks; b++)
        for (int l = 0; l < p->blocks[b].n_lines; l++) {
            const docrt_line *ln = &p->blocks[b].lines[l];
            const char *s = ln->text ? ln->text : "";
            size_t sl = strlen(s);
            if (n + sl + 3 > cap) {
                cap = 2 * (n + sl + 3);
                char *nt = realloc(t, cap);
                if (!nt) {
                    free(t);
                    return NULL;
                }
                t = nt;
            }
            if (n)
                t[n++] = '\n';
            if (n && l == 0)
                t[n++] = '\n';
            memcpy(t + n, s, sl + 1);
            n += sl;
            conf += ln->confidence;
            nl++;
        }
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(in->path));
    json_object_set_new(o, "rel", json_string(in->rel));
    json_object_set_new(o, "page", json_integer(page));
    json_object_set_new(o, "width", json_integer(p->width));
    json_object_set_new(o, "height", json_integer(p->height));
    json_object_set_new(o, "rotation", json_integer(p->rotation));
    json_object_set_new(o, "text", json_string(t));
    json_object_set_new(o, "confidence", json_real(nl ? conf / nl : 0));
    free(t);
    return o;
}

static void append_text(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t sl = strlen(s);
    if (*len + sl + 2 > *cap) {
        size_t nc = 2 * (*len + sl + 2);
        char *nb = realloc(*buf, nc);
        if (!nb)
            return;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, sl);
    *len += sl;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = '\0';
}

/* OCR one input into its outputs; returns the number of failures of the
 * input (0: every page read). *n_pages gets the page count; *out_failed is
 * set when an output could not be written (none of the input's outputs is
 * then put in place, and the input must not be journaled as done). */
static int process_input(run_ctx *c, docrt_stream *st, int w,
                         archive_file *af, int *n_pages, int *out_failed)
{
    const archive_opts *o = c->o;
    int idx = af->idx;
    const archive_input *in = &c->in[idx];
    const char *input = in->path;
    char err[10000] = "", base[4096];
    docrt_status s;
    *n_pages = 0;
    *out_failed = 0;
    if (af->status != DOCRT_OK) {
        report(c, input, af->err);
        jr_page(c, idx, 0, af->err);
        return 1;
    }
    if (!archive_output_base(o, in, base, sizeof base)) {
        report(c, input, "output path too long");
        jr_page(c, idx, 0, "output path too long");
        archive_reader_end_file(c->rd, w, af);
        return 1;
    }
    double open_ms = af->open_ms;

    FILE *files[N_FORMATS] = {0};
    docrt_writer *writers[N_FORMATS] = {0};
    int werr[N_FORMATS] = {0}; /* errno of an output's first write error */
    int discard = 0; /* an input error before any page, or no page read: no outputs */
    char paths[N_FORMATS][4200], tmps[N_FORMATS][4300];
    char *jl = NULL;
    size_t jl_len = 0, jl_cap = 0;
    int failed = 0, np = af->n_pages;
    *n_pages = np;
    if (!make_parent(base, err, sizeof err)) {
        report(c, input, err);
        *out_failed = 1;
        goto done;
    }
    for (int f = 0; f < N_FORMATS; f++) {
        if (!(o->formats & all_formats[f]))
            continue;
        int n1 = snprintf(paths[f], sizeof paths[f], "%s.%s", base,
                          docrt_format_ext(all_formats[f]));
        int n2 = snprintf(tmps[f], sizeof tmps[f], "%s.tmp%ld", paths[f],
                          (long)getpid());
        if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof paths[f] ||
            (size_t)n2 >= sizeof tmps[f]) {
            report(c, input, "output path too long");
            jr_page(c, idx, 0, "output path too long");
            failed = 1;
            discard = 1;
            goto done;
        }
        files[f] = fopen(tmps[f], "wb");
        if (!files[f] ||
            docrt_writer_open(files[f], all_formats[f], input, &writers[f])) {
            errf(err, sizeof err, "cannot write %s: %s", paths[f],
                 strerror(errno));
            report(c, input, err);
            if (files[f])
                unlink(tmps[f]);
            *out_failed = 1;
            goto done;
        }
    }

    for (int pg = 0; pg < np && !c->fatal; pg++) {
        docrt_image img;
        memset(&img, 0, sizeof img);
        double decode_ms = 0;
        err[0] = '\0';
        s = archive_reader_page(c->rd, w, pg, &img, err, sizeof err,
                                &decode_ms);
        decode_ms += pg == 0 ? open_ms : 0;
        docrt_page page;
        memset(&page, 0, sizeof page);
        page.page_index = pg;
        const char *why = NULL;
        char why_buf[10000];
        if (s != DOCRT_OK) {
            why = err[0] ? err : docrt_status_str(s);
        } else {
            docrt_ocr_params op = o->op;
            op.source_name = input;
            op.page_index = pg;
            const docrt_page *res = NULL;
            s = docrt_ocr_image(st, &img, &op, &res);
            if (s != DOCRT_OK) {
                snprintf(why_buf, sizeof why_buf, "%s",
                         docrt_stream_error(st));
                why = why_buf;
                page.width = img.width;
                page.height = img.height;
            } else {
                page = *res;
                page.timing.decode_ms = decode_ms;
                if (o->overlay) {
                    char ov[4300];
                    int k = np > 1
                        ? snprintf(ov, sizeof ov, "%s-p%d.overlay.png", base,
                                   pg + 1)
                        : snprintf(ov, sizeof ov, "%s.overlay.png", base);
                    if (k < 0 || (size_t)k >= sizeof ov) {
                        why = "overlay path too long";
                    } else if (docrt_overlay_write_png(&img, &page, ov, err,
                                                       sizeof err)) {
                        snprintf(why_buf, sizeof why_buf, "%s", err);
                        why = why_buf;
                    }
                }
                if (o->timing) {
                    pthread_mutex_lock(&c->mu);
                    clear_progress(c);
                    const docrt_page_timing *t = &page.timing;
                    fprintf(stderr,
                            "docrt: %s: page %d: %dx%d decode %.0f ms, detect "
                            "%.0f ms (resize %.1f, net %.0f, boxes %.1f), "
                            "recognize %.0f ms (crops %.1f, net %.0f, decode "
                            "%.1f), layout %.1f ms, %d boxes, %d batches, "
                            "rotation %d\n",
                            input, pg + 1, img.width, img.height, decode_ms,
                            t->detect_ms, t->det_resize_ms, t->det_net_ms,
                            t->det_post_ms, t->recognize_ms, t->rec_crop_ms,
                            t->rec_net_ms, t->rec_decode_ms, t->layout_ms,
                            t->n_boxes, t->n_rec_batches, page.rotation);
                    pthread_mutex_unlock(&c->mu);
                }
                if (c->jsonl) {
                    json_t *pj = page_json(in, &page, pg + 1);
                    char *line = pj ? json_dumps(pj, JSON_COMPACT |
                                                         JSON_PRESERVE_ORDER)
                                    : NULL;
                    json_decref(pj);
                    if (line)
                        append_text(&jl, &jl_len, &jl_cap, line);
                    free(line);
                }
            }
        }
        if (why) {
            report(c, input, why);
            failed++;
        }
        /* A write error is no fault of the input: it is reported once per
         * output at the end, not journaled, and the file is not marked done
         * (so the next run redoes it). */
        for (int f = 0; f < N_FORMATS; f++)
            if (writers[f] && !werr[f]) {
                errno = 0;
                if (docrt_writer_add_page(writers[f], &page) != DOCRT_OK ||
                    ferror(files[f]))
                    werr[f] = errno ? errno : EIO;
            }
        docrt_image_free(&img);
        jr_page(c, idx, pg + 1, why);
        pthread_mutex_lock(&c->mu);
        c->pages_done++;
        if (why)
            c->pages_failed++;
        if (o->progress)
            draw_progress(c, 0);
        pthread_mutex_unlock(&c->mu);
    }
    /* Not one page read: no outputs (an empty .txt would read as a blank
     * page), as for a file that cannot be opened. */
    if (np > 0 && failed == np && !c->fatal)
        discard = 1;
done:
    /* Every output is finished and synced under its temporary name first;
     * only when all of them were written are they renamed into place, so a
     * final name never holds a partial file. */
    for (int f = 0; f < N_FORMATS; f++) {
        if (writers[f]) {
            errno = 0;
            if (docrt_writer_close(writers[f]) != DOCRT_OK && !werr[f])
                werr[f] = errno ? errno : EIO;
        }
        if (files[f]) {
            errno = 0;
            if (fflush(files[f]) != 0 || fdatasync(fileno(files[f])) != 0) {
                if (!werr[f])
                    werr[f] = errno ? errno : EIO;
            }
            errno = 0;
            if (fclose(files[f]) != 0 && !werr[f])
                werr[f] = errno ? errno : EIO;
        }
    }
    int out_bad = *out_failed || discard;
    for (int f = 0; f < N_FORMATS; f++)
        if (files[f] && werr[f]) {
            errf(err, sizeof err, "cannot write %s: %s", paths[f],
                 strerror(werr[f]));
            report(c, input, err);
            out_bad = 1;
        }
    for (int f = 0; f < N_FORMATS; f++) {
        if (!files[f])
            continue;
        if (out_bad || c->fatal) {
            unlink(tmps[f]);
        } else if (rename(tmps[f], paths[f]) != 0) {
            errf(err, sizeof err, "cannot rename %s to %s: %s", tmps[f],
                 paths[f], strerror(errno));
            report(c, input, err);
            unlink(tmps[f]);
            out_bad = 1;
        }
    }
    if (out_bad && !discard)
        *out_failed = 1;
    archive_reader_end_file(c->rd, w, af);
    if (jl && c->jsonl && !c->fatal && !out_bad) {
        pthread_mutex_lock(&c->mu);
        if (fwrite(jl, 1, jl_len, c->jsonl) != jl_len ||
            fflush(c->jsonl) != 0) {
            clear_progress(c);
            fprintf(stderr, "docrt: %s: cannot write: %s\n", o->jsonl,
                    strerror(errno));
            c->fatal = 1;
        }
        pthread_mutex_unlock(&c->mu);
    }
    free(jl);
    return failed;
}

static int outputs_exist(const archive_opts *o, const archive_input *in)
{
    char base[4096], p[4200];
    if (!archive_output_base(o, in, base, sizeof base))
        return 0;
    for (int f = 0; f < N_FORMATS; f++) {
        if (!(o->formats & all_formats[f]))
            continue;
        snprintf(p, sizeof p, "%s.%s", base, docrt_format_ext(all_formats[f]));
        if (access(p, F_OK) != 0)
            return 0;
    }
    return 1;
}

/* ---- the reader's hooks ---- */

static int claim_input(void *ctx)
{
    run_ctx *c = ctx;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        int idx = c->fatal || c->next >= c->n ? -1 : c->next++;
        pthread_mutex_unlock(&c->mu);
        if (idx < 0)
            return -1;
        if (!(c->js && c->js[idx].done && outputs_exist(c->o, &c->in[idx])))
            return idx;
        pthread_mutex_lock(&c->mu);
        c->skipped++;
        if (c->js[idx].done_failed)
            c->files_failed++;
        pthread_mutex_unlock(&c->mu);
    }
}

static void input_opened(void *ctx, int idx, int n_pages)
{
    run_ctx *c = ctx;
    (void)idx;
    pthread_mutex_lock(&c->mu);
    c->files_opened++;
    c->pages_opened += n_pages;
    pthread_mutex_unlock(&c->mu);
}

static void *worker(void *arg)
{
    run_ctx *c = arg;
    pthread_mutex_lock(&c->mu);
    int w = c->next_worker++;
    pthread_mutex_unlock(&c->mu);
    docrt_stream *st = NULL;
    docrt_status s = docrt_stream_create(c->model, &st);
    if (s != DOCRT_OK) {
        pthread_mutex_lock(&c->mu);
        clear_progress(c);
        fprintf(stderr, "docrt: cannot create a stream: %s\n",
                docrt_status_str(s));
        c->fatal = 1;
        pthread_mutex_unlock(&c->mu);
    }
    archive_file af;
    while (archive_reader_next_file(c->rd, w, &af)) {
        if (c->fatal) {
            if (af.doc)
                archive_reader_end_file(c->rd, w, &af);
            break;
        }
        int pages = 0, out_failed = 0;
        int failed = process_input(c, st, w, &af, &pages, &out_failed);
        if (c->fatal)
            break;
        if (!out_failed)
            jr_done(c, af.idx, pages, failed);
        pthread_mutex_lock(&c->mu);
        c->files_done++;
        if (failed || out_failed)
            c->files_failed++;
        if (out_failed)
            c->files_unwritten++;
        if (c->o->progress || c->o->log_json)
            draw_progress(c, c->o->log_json);
        pthread_mutex_unlock(&c->mu);
    }
    docrt_stream_free(st);
    return NULL;
}

/* ---- start: stale temporaries, the journal, the JSON lines file ---- */

/* "NAME.EXT.tmpPID" of ours, PID no longer running. */
static int stale_tmp(const char *name)
{
    static const char *const exts[] = {".txt.tmp", ".json.tmp", ".hocr.tmp",
                                       ".xml.tmp", ".png.tmp", ".jsonl.tmp"};
    const char *t = strstr(name, ".tmp");
    if (!t)
        return 0;
    for (const char *u; (u = strstr(t + 1, ".tmp"));)
        t = u;
    const char *d = t + 4;
    if (!*d)
        return 0;
    long pid = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || pid > 100000000)
            return 0;
        pid = pid * 10 + (*d - '0');
    }
    int ours = 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t el = strlen(exts[i]);
        if ((size_t)(t + 4 - name) >= el &&
            strncmp(t + 4 - el, exts[i], el) == 0)
            ours = 1;
    }
    if (!ours || pid <= 0 || pid == (long)getpid())
        return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static void clean_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!stale_tmp(e->d_name))
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static void clean_stale(const archive_opts *o, const archive_input *in, int n)
{
    char last[4096] = "", base[4096];
    clean_dir(o->outdir);
    for (int i = 0; i < n; i++) {
        if (!archive_output_base(o, &in[i], base, sizeof base))
            continue;
        char *slash = strrchr(base, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(base, sizeof base, ".");
        if (strcmp(base, last) != 0) {
            clean_dir(base);
            snprintf(last, sizeof last, "%s", base);
        }
    }
}

/* Resuming: keep the JSON lines of inputs the journal has done, each
 * (rel, page) once; drop those of a half-done input (it is redone). */
static int filter_jsonl(run_ctx *c, char *err, size_t errlen)
{
    const char *path = c->o->jsonl;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *w = fopen(tmp, "wb");
    if (!w) {
        fclose(f);
        errf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    journal_state *seen = calloc((size_t)c->n + 1, sizeof *seen);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (seen && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break;
        json_t *o = json_loads(line, 0, NULL);
        if (!o)
            continue;
        const char *rel = json_string_value(json_object_get(o, "rel"));
        int page = (int)json_integer_value(json_object_get(o, "page"));
        int keep = 1;
        const archive_input *hit = NULL;
        if (rel && c->n) {
            int lo = 0, hi = c->n - 1;
            while (lo <= hi) {
                int mid = (lo + hi) / 2, k = strcmp(rel, c->in[mid].rel);
                if (!k) {
                    hit = &c->in[mid];
                    break;
                }
                if (k < 0)
                    hi = mid - 1;
                else
                    lo = mid + 1;
            }
        }
        if (hit) {
            int i = (int)(hit - c->in);
            if (!c->js[i].done || journal_has_page(&seen[i], page))
                keep = 0;
            else {
                journal_state *s = &seen[i];
                if (s->n_pages == s->cap_pages) {
                    int nc = s->cap_pages ? 2 * s->cap_pages : 8;
                    int *np = realloc(s->pages, (size_t)nc * sizeof *np);
                    if (np) {
                        s->pages = np;
                        s->cap_pages = nc;
                    }
                }
                if (s->n_pages < s->cap_pages)
                    s->pages[s->n_pages++] = page;
            }
        }
        json_decref(o);
        if (keep)
            fwrite(line, 1, (size_t)len, w);
    }
    free(line);
    journal_state_free(seen, c->n + 1);
    fclose(f);
    int bad = fflush(w) != 0 || fsync(fileno(w)) != 0;
    bad |= fclose(w) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int archive_run(const docrt_model *model, const archive_input *in, int n,
                const archive_opts *o)
{
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.model = model;
    c.in = in;
    c.n = n;
    c.jr.fd = -1;
    c.t0 = cli_now_ms();
    char err[10000];
    int rc = CLI_OK;
    if (pthread_mutex_init(&c.mu, NULL) != 0)
        return CLI_USAGE;
    if (o->archive) {
        clean_stale(o, in, n);
        if (journal_open(&c.jr, o->outdir, o->resume, err, sizeof err) != 0) {
            fprintf(stderr, "docrt: %s: %s\n", o->outdir, err);
            rc = CLI_USAGE;
            goto out;
        }
        c.js = calloc((size_t)n + 1, sizeof *c.js);
        if (!c.js || journal_load(&c.jr, in, n, c.js) != 0) {
            fprintf(stderr, "docrt: %s: cannot read the journal\n",
                    c.jr.path);
            rc = CLI_USAGE;
            goto out;
        }
    }
    /* Inputs that could not be collected: a journal line each (no rel, so
     * no input's state; "missing" so that a later "done" of the same path
     * drops it from errors.jsonl). */
    for (int i = 0; o->archive && i < o->n_problems && !c.fatal; i++) {
        json_t *pj = json_object();
        json_object_set_new(pj, "path", json_string(o->problems[i].path));
        json_object_set_new(pj, "page", json_integer(0));
        json_object_set_new(pj, "reason", json_string(o->problems[i].reason));
        json_object_set_new(pj, "missing", json_true());
        jr_line(&c, pj, i == o->n_problems - 1);
    }
    if (c.fatal) {
        rc = CLI_USAGE;
        goto out;
    }
    if (o->jsonl) {
        if (o->archive && o->resume && filter_jsonl(&c, err, sizeof err)) {
            fprintf(stderr, "docrt: %s: %s\n", o->jsonl, err);
            rc = CLI_USAGE;
            goto out;
        }
        c.jsonl = fopen(o->jsonl, o->archive && o->resume ? "ab" : "wb");
        if (!c.jsonl) {
            fprintf(stderr, "docrt: %s: cannot write: %s\n", o->jsonl,
                    strerror(errno));
            rc = CLI_USAGE;
            goto out;
        }
    }

    int jobs = o->jobs < 1 ? 1 : o->jobs;
    if (jobs > n)
        jobs = n ? n : 1;
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    archive_reader_hooks hooks = {claim_input, input_opened, &c};
    if (!th || archive_reader_start(in, &o->lim, jobs, &hooks, &c.rd)) {
        fprintf(stderr, "docrt: cannot start the reader thread\n");
        free(th);
        rc = CLI_USAGE;
        goto out;
    }
    int started = 0;
    for (int i = 0; i < jobs; i++) {
        if (pthread_create(&th[i], NULL, worker, &c) != 0)
            break;
        started++;
    }
    if (!started) {
        fprintf(stderr, "docrt: cannot start a worker thread\n");
        c.fatal = 1;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    archive_reader_free(c.rd);
    c.rd = NULL;
    if (o->progress)
        fputs("\r\033[K", stderr);
    if (c.fatal) {
        rc = CLI_USAGE;
        goto out;
    }
    /* errors.jsonl is rebuilt from the journal, which holds every failure:
     * when it cannot be written (a full disk), the run still ends with
     * exit 1 if inputs failed, and the next run writes it. */
    if (o->archive &&
        journal_write_errors(&c.jr, o->outdir, err, sizeof err) != 0) {
        fprintf(stderr, "docrt: %s\n", err);
        if (!c.files_failed) {
            rc = CLI_USAGE;
            goto out;
        }
    }
    rc = c.files_failed ? CLI_ERR : CLI_OK;
    double wall = (cli_now_ms() - c.t0) / 1e3;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    getrusage(RUSAGE_SELF, &ru);
    if (c.files_failed && !o->log_json)
        fprintf(stderr, "docrt: %d of %d input%s had errors\n",
                c.files_failed, n, n == 1 ? "" : "s");
    if (c.files_unwritten)
        fprintf(stderr,
                "docrt: the outputs of %d input%s could not be written; the "
                "same command again finishes them\n",
                c.files_unwritten, c.files_unwritten == 1 ? "" : "s");
    if (o->log_json)
        fprintf(stderr,
                "{\"event\":\"summary\",\"files\":%d,\"files_skipped\":%d,"
                "\"pages\":%d,\"files_failed\":%d,\"pages_failed\":%d,"
                "\"pages_per_s\":%.3f,\"wall_s\":%.3f,\"peak_rss_kb\":%ld,"
                "\"precision\":\"%s\"}\n",
                c.files_done, c.skipped, c.pages_done, c.files_failed,
                c.pages_failed, wall > 0 ? c.pages_done / wall : 0, wall,
                (long)ru.ru_maxrss, o->precision ? o->precision : "f32");
    else if (!o->quiet && o->progress) /* a pipe: errors only */
        fprintf(stderr,
                "docrt: %d file%s (%d already done), %d pages, %d failed, "
                "%.2f pages/s, %.1f s, peak RSS %.0f MB, %s\n",
                c.files_done + c.skipped, n == 1 ? "" : "s", c.skipped,
                c.pages_done, c.files_failed,
                wall > 0 ? c.pages_done / wall : 0, wall,
                (double)ru.ru_maxrss / 1024.0,
                o->precision ? o->precision : "f32");
out:
    if (c.jsonl && fclose(c.jsonl) != 0 && rc != CLI_USAGE) {
        fprintf(stderr, "docrt: %s: cannot write\n", o->jsonl);
        rc = CLI_USAGE;
    }
    journal_state_free(c.js, n + 1);
    journal_close(&c.jr);
    pthread_mutex_destroy(&c.mu);
    return rc;
}
