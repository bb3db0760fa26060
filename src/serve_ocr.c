/* serve_ocr.c - see serve_ocr.h. */
#define _GNU_SOURCE /* open_memstream */
#include "serve_ocr.h"

#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *serve_error_json(int status, const char *reason, size_t *len)
{
    json_t *o = json_pack("{s:s, s:i}", "error", reason ? reason : "error",
                          "status", status);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        s = strdup("{\"error\":\"out of memory\"}");
        if (!s)
            return NULL;
    }
    size_t n = strlen(s);
    /* One line, as the other JSON bodies. */
    char *t = realloc(s, n + 2);
    if (t) {
        s = t;
        s[n++] = '\n';
        s[n] = '\0';
    }
    *len = n;
    return s;
}

static void fail(serve_request *r, int status, const char *reason)
{
    free(r->body);
    r->status = status;
    r->body = serve_error_json(status, reason, &r->body_len);
    r->content_type = "application/json";
}

static const char *mime_of(docrt_format f)
{
    switch (f) {
    case DOCRT_FORMAT_JSON: return "application/json";
    case DOCRT_FORMAT_HOCR: return "text/html; charset=utf-8";
    case DOCRT_FORMAT_ALTO: return "application/xml";
    default: return "text/plain; charset=utf-8";
    }
}

typedef struct {
    int page; /* 1-based */
    char reason[512];
} page_err;

typedef struct {
    int page;
    docrt_page_timing t;
    double total_ms;
} page_time;

/* Adds timing and errors to the docTR-shaped JSON document in r->body. */
static int decorate_json(serve_request *r, const page_time *pt, int n_pt,
                         const page_err *pe, int n_pe, double total_ms)
{
    json_error_t je;
    json_t *doc = json_loadb(r->body, r->body_len, 0, &je);
    if (!doc)
        return -1;
    json_t *pages = json_object_get(doc, "pages");
    for (int i = 0; i < n_pt && json_is_array(pages); i++) {
        json_t *p = json_array_get(pages, (size_t)i);
        if (!json_is_object(p))
            continue;
        json_object_set_new(p, "page", json_integer(pt[i].page));
        json_object_set_new(
            p, "timing_ms",
            json_pack("{s:f, s:f, s:f, s:f, s:f}", "decode", pt[i].t.decode_ms,
                      "detect", pt[i].t.detect_ms, "recognize",
                      pt[i].t.recognize_ms, "layout", pt[i].t.layout_ms,
                      "total", pt[i].total_ms));
    }
    json_t *errs = json_array();
    for (int i = 0; i < n_pe; i++)
        json_array_append_new(errs, json_pack("{s:i, s:s}", "page", pe[i].page,
                                              "reason", pe[i].reason));
    json_object_set_new(doc, "errors", errs);
    json_object_set_new(doc, "timing_ms", json_real(total_ms));
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                  JSON_REAL_PRECISION(7));
    json_decref(doc);
    if (!s)
        return -1;
    free(r->body);
    r->body_len = strlen(s);
    r->body = s;
    return 0;
}

void serve_ocr_run(docrt_stream *s, const docrt_image_limits *lim,
                   const docrt_ocr_params *op, serve_request *r)
{
    double t0 = cli_now_ms();
    r->body = NULL;
    r->body_len = 0;
    r->pages_ok = r->pages_failed = 0;
    char err[1024] = "";
    docrt_document *doc = NULL;
    docrt_status st = docrt_document_open_memory(r->data, r->len, "upload", lim,
                                                 &doc, err, sizeof err);
    if (st != DOCRT_OK) {
        r->pages_failed = 1;
        fail(r, 422, err[0] ? err : docrt_status_str(st));
        return;
    }
    int n = docrt_document_n_pages(doc);
    int first = r->first_page > 0 ? r->first_page : 1;
    int last = r->last_page > 0 && r->last_page < n ? r->last_page : n;
    if (first > n) {
        char why[128];
        snprintf(why, sizeof why, "page %d asked for: the file has %d page%s", first,
                 n, n == 1 ? "" : "s");
        docrt_document_close(doc);
        fail(r, 422, why);
        return;
    }
    int want = last - first + 1;
    page_err *pe = calloc((size_t)want, sizeof *pe);
    page_time *pt = calloc((size_t)want, sizeof *pt);
    FILE *f = open_memstream(&r->body, &r->body_len);
    docrt_writer *w = NULL;
    if (!pe || !pt || !f ||
        docrt_writer_open(f, r->format, "upload", &w) != DOCRT_OK) {
        if (f)
            fclose(f);
        free(pe);
        free(pt);
        docrt_document_close(doc);
        fail(r, 500, "out of memory");
        return;
    }
    int n_pe = 0, n_pt = 0, write_failed = 0;
    for (int p = first; p <= last; p++) {
        double tp = cli_now_ms();
        docrt_image img = {0};
        err[0] = '\0';
        st = docrt_document_read_page(doc, p - 1, &img, err, sizeof err);
        double decode_ms = cli_now_ms() - tp;
        const docrt_page *page = NULL;
        if (st == DOCRT_OK) {
            docrt_ocr_params o = *op;
            o.source_name = "upload";
            o.page_index = p - 1;
            st = docrt_ocr_image(s, &img, &o, &page);
            if (st != DOCRT_OK)
                snprintf(err, sizeof err, "%s", docrt_stream_error(s));
        }
        docrt_image_free(&img);
        if (st != DOCRT_OK) {
            pe[n_pe].page = p;
            snprintf(pe[n_pe].reason, sizeof pe[n_pe].reason, "%s",
                     err[0] ? err : docrt_status_str(st));
            n_pe++;
            continue;
        }
        pt[n_pt].page = p;
        pt[n_pt].t = page->timing;
        pt[n_pt].t.decode_ms = decode_ms;
        pt[n_pt].total_ms = cli_now_ms() - tp;
        n_pt++;
        if (docrt_writer_add_page(w, page) != DOCRT_OK)
            write_failed = 1;
    }
    docrt_document_close(doc);
    if (docrt_writer_close(w) != DOCRT_OK)
        write_failed = 1;
    if (fclose(f) != 0)
        write_failed = 1;
    r->pages_ok = n_pt;
    r->pages_failed = n_pe;
    if (write_failed) {
        fail(r, 500, "could not write the result");
    } else if (n_pt == 0) {
        fail(r, 422, n_pe ? pe[0].reason : "no page");
    } else {
        r->status = 200;
        r->content_type = mime_of(r->format);
        if (r->format == DOCRT_FORMAT_JSON &&
            decorate_json(r, pt, n_pt, pe, n_pe, cli_now_ms() - t0) != 0)
            fail(r, 500, "could not write the result");
    }
    free(pe);
    free(pt);
}
