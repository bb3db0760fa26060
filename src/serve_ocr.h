/* serve_ocr.h - one OCR request of `docrt serve`, start to response body:
 * the uploaded bytes decoded page by page (docrt_document_open_memory, with
 * the pixel limit), the chosen pages OCR'd on the worker's stream, and
 * written in the asked format. JSON (the docTR export shape) gets, per page,
 * "timing_ms" (decode, detect, recognize, layout, total) and, for the whole
 * request, "errors" (pages that failed: page and reason) and "timing_ms".
 * A page that fails does not fail the others; a request none of whose pages
 * can be read is answered 422. */
#ifndef DOCRT_SERVE_OCR_H
#define DOCRT_SERVE_OCR_H

#include "docrt.h"

#include <stddef.h>

typedef struct {
    /* in */
    const char *data;
    size_t len;
    docrt_format format;
    int first_page, last_page; /* 1-based, inclusive; 0 = open end */
    /* out */
    int status;               /* HTTP status */
    char *body;               /* malloc'd */
    size_t body_len;
    const char *content_type; /* static string */
    int pages_ok, pages_failed;
} serve_request;

/* Fills the out fields. Never fails without a body: errors become a JSON
 * body {"error": reason, "status": code}. */
void serve_ocr_run(docrt_stream *s, const docrt_image_limits *lim,
                   const docrt_ocr_params *op, serve_request *r);

/* A JSON error body {"error": reason, "status": status} (malloc'd). */
char *serve_error_json(int status, const char *reason, size_t *len);

#endif
