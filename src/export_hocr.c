/* export_hocr.c - hOCR 1.2 (https://kba.github.io/hocr-spec/1.2/) as XHTML,
 * streamed page by page through xmlTextWriter:
 *
 *   div.ocr_page   id page_N    image "NAME"; bbox 0 0 W H; ppageno N-1;
 *                               scan_res X Y (when the DPI is known)
 *   div.ocr_carea  id block_N_B bbox
 *   p.ocr_par      id par_N_B   bbox (docrt has no paragraphs: one per block)
 *   span.ocr_line  id line_N_L  bbox; baseline SLOPE OFFSET, or textangle A
 *                               for a line turned by about 90/180/270 degrees
 *   span.ocrx_word id word_N_W  bbox; x_wconf 0..100
 *
 * B, L and W count from 1 within the page, as Tesseract numbers them; N is
 * the 1-based page number. The baseline is the bottom edge of the line's
 * quad in the hOCR convention: slope, and offset from the bottom-left
 * corner of the bbox (y down). The detector box runs a little below the
 * true baseline (descenders, unclipping); readers that find no baseline
 * assume the bbox bottom anyway, so this adds the slope of skewed lines. */
#include "export.h"

#include <math.h>
#include <stdlib.h>

#define DEG_PER_RAD (180.0 / 3.14159265358979323846)

typedef struct {
    docrt_xml x;
} hocr_state;

static const char capabilities[] =
    "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf";

static int nl(docrt_xml *x) { return docrt_xml_text(x, "\n"); }

static int meta(docrt_xml *x, const char *key, const char *name,
                const char *content)
{
    if (docrt_xml_start(x, "meta") || docrt_xml_attr(x, key, name) ||
        docrt_xml_attr(x, "content", content) || docrt_xml_end(x))
        return -1;
    return nl(x);
}

static int head(docrt_writer *w, docrt_xml *x)
{
    docrt_sbuf *t = &w->tmp;
    docrt_sbuf_reset(t);
    if (docrt_sbuf_printf(t, "docrt %s", docrt_version()))
        return -1;
    if (docrt_xml_doctype(x, "html", "-//W3C//DTD XHTML 1.0 Transitional//EN",
                          "http://www.w3.org/TR/xhtml1/DTD/"
                          "xhtml1-transitional.dtd") ||
        nl(x) || docrt_xml_start(x, "html") ||
        docrt_xml_attr(x, "xmlns", "http://www.w3.org/1999/xhtml") ||
        nl(x) || docrt_xml_start(x, "head") || nl(x) ||
        docrt_xml_elem_text(x, "title", w->source_name) || nl(x) ||
        meta(x, "http-equiv", "Content-Type", "text/html;charset=utf-8") ||
        meta(x, "name", "ocr-system", t->p) ||
        meta(x, "name", "ocr-capabilities", capabilities) ||
        docrt_xml_end_full(x) || nl(x) || docrt_xml_start(x, "body") ||
        nl(x))
        return -1;
    return 0;
}

static docrt_status hocr_open(docrt_writer *w)
{
    hocr_state *h = calloc(1, sizeof *h);
    if (!h)
        return DOCRT_ERR_NOMEM;
    docrt_status st = docrt_xml_open(&h->x, w);
    if (st == DOCRT_OK && head(w, &h->x))
        st = DOCRT_ERR_NOMEM;
    if (st != DOCRT_OK) {
        h->x.bad = 1; /* free without finishing the document */
        docrt_xml_close(&h->x);
        free(h);
        return st;
    }
    w->state = h;
    return DOCRT_OK;
}

static int bbox(docrt_sbuf *t, docrt_ibox b)
{
    return docrt_sbuf_printf(t, "bbox %d %d %d %d", b.x0, b.y0, b.x1, b.y1);
}

/* Element with class, id and title, the title taken from w->tmp. */
static int start(docrt_writer *w, docrt_xml *x, const char *tag,
                 const char *cls, const char *id)
{
    if (docrt_xml_start(x, tag) || docrt_xml_attr(x, "class", cls) ||
        docrt_xml_attr(x, "id", id))
        return -1;
    return docrt_xml_attr(x, "title", w->tmp.p);
}

/* v / 1000 with three decimals. Not printf's %f: its decimal point
 * follows the locale, and hOCR wants a dot. */
static int put_milli(docrt_sbuf *t, long v)
{
    if (v == 0)
        return docrt_sbuf_append(t, "0", 1);
    unsigned long a = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    return docrt_sbuf_printf(t, "%s%lu.%03lu", v < 0 ? "-" : "", a / 1000,
                             a % 1000);
}

static int line_geometry(docrt_sbuf *t, const docrt_line *ln, docrt_ibox b)
{
    const docrt_quad *q = &ln->quad;
    if (!docrt_export_quad_rotated(q, &ln->box))
        return docrt_sbuf_append(t, "; baseline 0 0", 14);
    /* Direction of the text: its top edge, corner 0 to corner 1;
     * counter-clockwise degrees, as hOCR's textangle counts them. */
    double a = atan2(-(double)(q->y[1] - q->y[0]),
                     (double)(q->x[1] - q->x[0])) * DEG_PER_RAD;
    if (!isfinite(a))
        return 0;
    long quarter = lround(a / 90.0);
    int angle = (int)(((quarter % 4) + 4) % 4) * 90;
    if (angle != 0)
        return docrt_sbuf_printf(t, "; textangle %d", angle);
    double dx = (double)q->x[2] - q->x[3], dy = (double)q->y[2] - q->y[3];
    if (!(dx > 0.0))
        return 0;
    double slope = dy / dx;
    if (!(fabs(slope) <= 1.0)) /* not a rectangle: no baseline to tell */
        return 0;
    double y_at_x0 = q->y[3] + slope * ((double)b.x0 - q->x[3]);
    if (!isfinite(y_at_x0) || fabs(y_at_x0) > 1e7)
        return 0;
    long off = lround(y_at_x0 - (double)b.y1);
    if (docrt_sbuf_append(t, "; baseline ", 11) ||
        put_milli(t, lround(slope * 1000.0)))
        return -1;
    return docrt_sbuf_printf(t, " %ld", off);
}

static int page_body(docrt_writer *w, docrt_xml *x, const docrt_page *p,
                     int no)
{
    docrt_sbuf *t = &w->tmp;
    char id[48];
    int nb = 0, nlines = 0, nw = 0;

    docrt_sbuf_reset(t);
    if (w->source_name[0]) {
        /* A quoted hOCR string: backslash and double quote escaped. */
        if (docrt_sbuf_append(t, "image \"", 7))
            return -1;
        for (const char *s = w->source_name; *s; s++) {
            if ((*s == '"' || *s == '\\') && docrt_sbuf_append(t, "\\", 1))
                return -1;
            if (docrt_sbuf_append(t, s, 1))
                return -1;
        }
        if (docrt_sbuf_append(t, "\"; ", 3))
            return -1;
    }
    if (docrt_sbuf_printf(t, "bbox 0 0 %d %d; ppageno %d", p->width,
                          p->height, no - 1))
        return -1;
    if (isfinite(p->dpi_x) && isfinite(p->dpi_y) && p->dpi_x >= 1.0f &&
        p->dpi_y >= 1.0f && p->dpi_x < 1e6f && p->dpi_y < 1e6f &&
        docrt_sbuf_printf(t, "; scan_res %ld %ld", lroundf(p->dpi_x),
                          lroundf(p->dpi_y)))
        return -1;
    snprintf(id, sizeof id, "page_%d", no);
    if (start(w, x, "div", "ocr_page", id) || nl(x))
        return -1;

    for (int bi = 0; bi < p->n_blocks; bi++) {
        const docrt_block *bl = &p->blocks[bi];
        docrt_ibox bb = docrt_export_ibox(p, bl->box);
        nb++;
        docrt_sbuf_reset(t);
        if (bbox(t, bb))
            return -1;
        snprintf(id, sizeof id, "block_%d_%d", no, nb);
        if (start(w, x, "div", "ocr_carea", id) || nl(x))
            return -1;
        snprintf(id, sizeof id, "par_%d_%d", no, nb);
        if (start(w, x, "p", "ocr_par", id) || nl(x))
            return -1;
        for (int li = 0; li < bl->n_lines; li++) {
            const docrt_line *ln = &bl->lines[li];
            docrt_ibox lb = docrt_export_ibox(p, ln->box);
            nlines++;
            docrt_sbuf_reset(t);
            if (bbox(t, lb) || line_geometry(t, ln, lb))
                return -1;
            snprintf(id, sizeof id, "line_%d_%d", no, nlines);
            if (start(w, x, "span", "ocr_line", id))
                return -1;
            docrt_word one;
            int n;
            const docrt_word *words = docrt_export_line_words(ln, &one, &n);
            for (int wi = 0; wi < n; wi++) {
                const docrt_word *wd = &words[wi];
                nw++;
                docrt_sbuf_reset(t);
                if (bbox(t, docrt_export_ibox(p, wd->box)) ||
                    docrt_sbuf_printf(
                        t, "; x_wconf %d",
                        docrt_export_conf_scaled(wd->confidence, 100)))
                    return -1;
                snprintf(id, sizeof id, "word_%d_%d", no, nw);
                docrt_sbuf_reset(&w->text);
                if ((wi && docrt_xml_text(x, " ")) ||
                    start(w, x, "span", "ocrx_word", id) ||
                    docrt_sbuf_put_clean(&w->text, wd->text) ||
                    docrt_xml_text(x, w->text.p) || docrt_xml_end_full(x))
                    return -1;
            }
            if (docrt_xml_end_full(x) || nl(x))
                return -1;
        }
        if (docrt_xml_end_full(x) || nl(x) || docrt_xml_end_full(x) ||
            nl(x))
            return -1;
    }
    if (docrt_xml_end_full(x) || nl(x))
        return -1;
    return 0;
}

static docrt_status hocr_add_page(docrt_writer *w, const docrt_page *p,
                                  int page_no)
{
    hocr_state *h = w->state;
    if (page_body(w, &h->x, p, page_no))
        h->x.bad = 1;
    return docrt_xml_flush(&h->x);
}

static docrt_status hocr_close(docrt_writer *w)
{
    hocr_state *h = w->state;
    docrt_xml *x = &h->x;
    if (!x->bad) {
        /* </body></html> in full: XHTML read as HTML has no <body/>. */
        if (docrt_xml_end_full(x) || nl(x) || docrt_xml_end_full(x))
            x->bad = 1;
        else
            nl(x);
    }
    docrt_status st = docrt_xml_close(x);
    free(h);
    w->state = NULL;
    return st;
}

const docrt_export_ops docrt_export_hocr_ops = {
    "hocr", hocr_open, hocr_add_page, hocr_close,
};
