/* export.h - internals shared by the exporters (export*.c): the writer, the
 * per-format vtable, text sanitising and coordinate helpers.
 *
 * docrt_writer_open/add_page/close (export.c) check their arguments and the
 * page tree, number the pages, keep the first error and dispatch to one
 * docrt_export_ops. A format therefore sees only well-formed pages and never
 * has to remember an earlier failure. */
#ifndef DOCRT_EXPORT_H
#define DOCRT_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "docrt.h"

/* A growable byte buffer, always NUL-terminated once anything is in it.
 * Writers keep two and reuse them, so pages after the first allocate
 * nothing here. */
typedef struct {
    char *p;
    size_t len, cap;
} docrt_sbuf;

void docrt_sbuf_reset(docrt_sbuf *b);
void docrt_sbuf_free(docrt_sbuf *b);
/* These return 0, or -1 when out of memory (b keeps what it had). */
int docrt_sbuf_append(docrt_sbuf *b, const char *s, size_t n);
int docrt_sbuf_printf(docrt_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s (NULL = "") as text every format can carry unchanged: valid
 * UTF-8 (each maximal ill-formed subsequence becomes U+FFFD), no character
 * XML 1.0 forbids (other C0 controls, U+FFFE, U+FFFF become U+FFFD), and
 * tab, CR and LF turned into spaces, since a word or a line is one line in
 * every output. All formats use it, so a word reads the same in each. */
int docrt_sbuf_put_clean(docrt_sbuf *b, const char *s);

/* Integer pixel box: edges rounded to the nearest pixel and clamped to the
 * page, x1 >= x0, y1 >= y0 (what hOCR bbox and ALTO HPOS/VPOS/WIDTH/HEIGHT
 * carry). Non-finite coordinates count as 0. */
typedef struct { int x0, y0, x1, y1; } docrt_ibox;
docrt_ibox docrt_export_ibox(const docrt_page *p, docrt_box b);
/* One quad corner, rounded and clamped the same way. */
void docrt_export_ipoint(const docrt_page *p, float x, float y, int *ix,
                         int *iy);
/* Whether the quad says more than the box: a corner lies over half a pixel
 * from the box corner at its place (top-left, top-right, bottom-right,
 * bottom-left), i.e. the text is skewed, turned or upside down. An all-zero
 * quad (not filled in) is not rotated. */
int docrt_export_quad_rotated(const docrt_quad *q, const docrt_box *b);
/* The words of a line. A line without words (the layout should make none)
 * stands for one word made of the whole line: its text, box, quad and
 * confidence, written to *tmp. So every format still carries its text. */
const docrt_word *docrt_export_line_words(const docrt_line *ln,
                                          docrt_word *tmp, int *n);
/* Confidence 0..1 as an integer 0..scale, rounded; NaN gives 0. */
int docrt_export_conf_scaled(float c, int scale);

typedef struct docrt_export_ops {
    const char *name;
    /* Writes the document head (buffered; errors may show only later).
     * On failure it must leave nothing allocated in w->state. */
    docrt_status (*open)(docrt_writer *w);
    /* page_no is 1-based, unique and increasing within the writer. */
    docrt_status (*add_page)(docrt_writer *w, const docrt_page *p,
                             int page_no);
    /* Ends the document, pushes everything to w->f and frees w->state,
     * also when an earlier call failed (then it may skip writing). */
    docrt_status (*close)(docrt_writer *w);
} docrt_export_ops;

extern const docrt_export_ops docrt_export_txt_ops;
extern const docrt_export_ops docrt_export_json_ops;
extern const docrt_export_ops docrt_export_hocr_ops;
extern const docrt_export_ops docrt_export_alto_ops;

struct docrt_writer {
    FILE *f;                     /* the caller's */
    docrt_format fmt;
    const docrt_export_ops *ops;
    char *source_name;           /* sanitised copy, never NULL */
    int n_pages;                 /* pages written */
    int last_page_no;
    docrt_status err;            /* first failure that spoilt the output */
    int io_failed;               /* a write to f came up short */
    docrt_sbuf text, tmp;        /* scratch for the formats */
    void *state;                 /* the format's own */
};

/* Writes n bytes to w->f, noting a short write in w->io_failed. */
void docrt_export_write(docrt_writer *w, const void *s, size_t n);
/* fflush(w->f) and the error flags: DOCRT_ERR_IO if any write failed. */
docrt_status docrt_export_flush(docrt_writer *w);

/* ---- xmlTextWriter on w->f (hOCR, ALTO) ----
 * The output buffer writes through docrt_export_write rather than
 * xmlOutputBufferCreateFile: same bytes, but a failed write is recorded
 * here instead of libxml2 printing "I/O error" on stderr, and the FILE is
 * never closed. Helpers below do nothing once an earlier call failed and
 * return -1 then; the caller checks once per page. */
struct _xmlTextWriter;
typedef struct {
    struct _xmlTextWriter *tw;
    docrt_writer *w;
    int bad;                     /* an xmlTextWriter call failed */
} docrt_xml;

docrt_status docrt_xml_open(docrt_xml *x, docrt_writer *w);
/* Ends every open element and the document, flushes and frees. */
docrt_status docrt_xml_close(docrt_xml *x);
/* Pushes buffered output to w->f and reports the state so far. */
docrt_status docrt_xml_flush(docrt_xml *x);
int docrt_xml_start(docrt_xml *x, const char *name);
int docrt_xml_end(docrt_xml *x);      /* <a/> when empty */
int docrt_xml_end_full(docrt_xml *x); /* always <a></a> (XHTML) */
int docrt_xml_attr(docrt_xml *x, const char *name, const char *value);
int docrt_xml_attr_int(docrt_xml *x, const char *name, int v);
int docrt_xml_text(docrt_xml *x, const char *s); /* s already clean */
int docrt_xml_doctype(docrt_xml *x, const char *name, const char *pubid,
                      const char *sysid);
/* An element holding only text: <name>s</name>, s sanitised here. */
int docrt_xml_elem_text(docrt_xml *x, const char *name, const char *s);

#endif
