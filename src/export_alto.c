/* export_alto.c - ALTO v4 (http://www.loc.gov/standards/alto/ns-v4#),
 * streamed page by page through xmlTextWriter:
 *
 *   alto/Description: MeasurementUnit pixel, sourceImageInformation/fileName,
 *                     OCRProcessing/ocrProcessingStep/processingSoftware
 *   alto/Layout/Page (ID page_N, PHYSICAL_IMG_NR N, WIDTH, HEIGHT)
 *     /PrintSpace (the whole page)
 *       /TextBlock (ID block_N_B) /TextLine (ID line_N_L)
 *         /String (ID string_N_W, CONTENT, WC 0..1) with SP between words
 *
 * Positions are whole pixels (HPOS, VPOS, WIDTH, HEIGHT of the box, clamped
 * to the page). A line or word whose quad is turned also gets its corners
 * as Shape/Polygon, which ALTO 3.1+ allows on TextLine and String. ALTO
 * needs a String in every TextLine: a line without words is written as one
 * word (docrt_export_line_words). A document with no pages is well-formed but
 * not schema-valid (Layout needs a Page); docrt writes no such file. */
#include "export.h"

#include <stdlib.h>

#include <libxml/xmlwriter.h>

typedef struct {
    docrt_xml x;
} alto_state;

static const char alto_ns[] = "http://www.loc.gov/standards/alto/ns-v4#";

static int description(docrt_writer *w, docrt_xml *x)
{
    if (docrt_xml_start(x, "Description") ||
        docrt_xml_elem_text(x, "MeasurementUnit", "pixel"))
        return -1;
    if (w->source_name[0] &&
        (docrt_xml_start(x, "sourceImageInformation") ||
         docrt_xml_elem_text(x, "fileName", w->source_name) ||
         docrt_xml_end(x)))
        return -1;
    if (docrt_xml_start(x, "OCRProcessing") ||
        docrt_xml_attr(x, "ID", "OCR_0") ||
        docrt_xml_start(x, "ocrProcessingStep") ||
        docrt_xml_start(x, "processingSoftware") ||
        docrt_xml_elem_text(x, "softwareName", "docrt") ||
        docrt_xml_elem_text(x, "softwareVersion", docrt_version()) ||
        docrt_xml_end(x) || docrt_xml_end(x) || docrt_xml_end(x))
        return -1;
    return docrt_xml_end(x);
}

static docrt_status alto_open(docrt_writer *w)
{
    alto_state *a = calloc(1, sizeof *a);
    if (!a)
        return DOCRT_ERR_NOMEM;
    docrt_xml *x = &a->x;
    docrt_status st = docrt_xml_open(x, w);
    if (st == DOCRT_OK &&
        (xmlTextWriterSetIndent(x->tw, 1) < 0 ||
         xmlTextWriterSetIndentString(x->tw, BAD_CAST "  ") < 0 ||
         docrt_xml_start(x, "alto") || docrt_xml_attr(x, "xmlns", alto_ns) ||
         docrt_xml_attr(x, "xmlns:xsi",
                        "http://www.w3.org/2001/XMLSchema-instance") ||
         docrt_xml_attr(x, "xsi:schemaLocation",
                        "http://www.loc.gov/standards/alto/ns-v4# "
                        "http://www.loc.gov/standards/alto/v4/alto-4-3.xsd") ||
         docrt_xml_attr(x, "SCHEMAVERSION", "4.3") || description(w, x) ||
         docrt_xml_start(x, "Layout")))
        st = DOCRT_ERR_NOMEM;
    if (st != DOCRT_OK) {
        x->bad = 1; /* free without finishing the document */
        docrt_xml_close(x);
        free(a);
        return st;
    }
    w->state = a;
    return DOCRT_OK;
}

static int pos(docrt_xml *x, docrt_ibox b)
{
    if (docrt_xml_attr_int(x, "HPOS", b.x0) ||
        docrt_xml_attr_int(x, "VPOS", b.y0) ||
        docrt_xml_attr_int(x, "WIDTH", b.x1 - b.x0))
        return -1;
    return docrt_xml_attr_int(x, "HEIGHT", b.y1 - b.y0);
}

static int attr_wc(docrt_xml *x, float conf)
{
    char s[16];
    int m = docrt_export_conf_scaled(conf, 1000);
    snprintf(s, sizeof s, "%d.%03d", m / 1000, m % 1000);
    return docrt_xml_attr(x, "WC", s);
}

/* Shape/Polygon with the quad's corners, for turned text only. */
static int shape(docrt_writer *w, docrt_xml *x, const docrt_page *p,
                 const docrt_quad *q, const docrt_box *b)
{
    if (!docrt_export_quad_rotated(q, b))
        return 0;
    docrt_sbuf *t = &w->tmp;
    docrt_sbuf_reset(t);
    for (int i = 0; i < 4; i++) {
        int px, py;
        docrt_export_ipoint(p, q->x[i], q->y[i], &px, &py);
        if (docrt_sbuf_printf(t, i ? " %d,%d" : "%d,%d", px, py))
            return -1;
    }
    if (docrt_xml_start(x, "Shape") || docrt_xml_start(x, "Polygon") ||
        docrt_xml_attr(x, "POINTS", t->p) || docrt_xml_end(x))
        return -1;
    return docrt_xml_end(x);
}

static int string_el(docrt_writer *w, docrt_xml *x, const docrt_page *p,
                     const char *id, const char *text, docrt_box box,
                     const docrt_quad *q, float conf)
{
    docrt_sbuf_reset(&w->text);
    if (docrt_sbuf_put_clean(&w->text, text))
        return -1;
    if (docrt_xml_start(x, "String") || docrt_xml_attr(x, "ID", id) ||
        pos(x, docrt_export_ibox(p, box)) ||
        docrt_xml_attr(x, "CONTENT", w->text.p) || attr_wc(x, conf) ||
        shape(w, x, p, q, &box))
        return -1;
    return docrt_xml_end(x);
}

/* The space between two words, placed when both are straight and apart. */
static int space(docrt_xml *x, const docrt_page *p, const docrt_word *a,
                 const docrt_word *b, int line_top)
{
    if (docrt_xml_start(x, "SP"))
        return -1;
    if (!docrt_export_quad_rotated(&a->quad, &a->box) &&
        !docrt_export_quad_rotated(&b->quad, &b->box)) {
        docrt_ibox ia = docrt_export_ibox(p, a->box);
        docrt_ibox ib = docrt_export_ibox(p, b->box);
        if (ib.x0 > ia.x1 &&
            (docrt_xml_attr_int(x, "WIDTH", ib.x0 - ia.x1) ||
             docrt_xml_attr_int(x, "VPOS", line_top) ||
             docrt_xml_attr_int(x, "HPOS", ia.x1)))
            return -1;
    }
    return docrt_xml_end(x);
}

static int page_body(docrt_writer *w, docrt_xml *x, const docrt_page *p,
                     int no)
{
    char id[48];
    int nb = 0, nl = 0, nw = 0;
    snprintf(id, sizeof id, "page_%d", no);
    if (docrt_xml_start(x, "Page") || docrt_xml_attr(x, "ID", id) ||
        docrt_xml_attr_int(x, "PHYSICAL_IMG_NR", no) ||
        docrt_xml_attr_int(x, "WIDTH", p->width) ||
        docrt_xml_attr_int(x, "HEIGHT", p->height) ||
        docrt_xml_start(x, "PrintSpace") ||
        docrt_xml_attr_int(x, "HPOS", 0) || docrt_xml_attr_int(x, "VPOS", 0) ||
        docrt_xml_attr_int(x, "WIDTH", p->width) ||
        docrt_xml_attr_int(x, "HEIGHT", p->height))
        return -1;
    for (int bi = 0; bi < p->n_blocks; bi++) {
        const docrt_block *bl = &p->blocks[bi];
        snprintf(id, sizeof id, "block_%d_%d", no, ++nb);
        if (docrt_xml_start(x, "TextBlock") || docrt_xml_attr(x, "ID", id) ||
            pos(x, docrt_export_ibox(p, bl->box)))
            return -1;
        for (int li = 0; li < bl->n_lines; li++) {
            const docrt_line *ln = &bl->lines[li];
            docrt_ibox lb = docrt_export_ibox(p, ln->box);
            snprintf(id, sizeof id, "line_%d_%d", no, ++nl);
            if (docrt_xml_start(x, "TextLine") ||
                docrt_xml_attr(x, "ID", id) || pos(x, lb) ||
                shape(w, x, p, &ln->quad, &ln->box))
                return -1;
            docrt_word one;
            int n;
            const docrt_word *words = docrt_export_line_words(ln, &one, &n);
            for (int wi = 0; wi < n; wi++) {
                const docrt_word *wd = &words[wi];
                if (wi && space(x, p, &words[wi - 1], wd, lb.y0))
                    return -1;
                snprintf(id, sizeof id, "string_%d_%d", no, ++nw);
                if (string_el(w, x, p, id, wd->text, wd->box, &wd->quad,
                              wd->confidence))
                    return -1;
            }
            if (docrt_xml_end(x)) /* TextLine */
                return -1;
        }
        if (docrt_xml_end(x)) /* TextBlock */
            return -1;
    }
    if (docrt_xml_end(x)) /* PrintSpace */
        return -1;
    return docrt_xml_end(x); /* Page */
}

static docrt_status alto_add_page(docrt_writer *w, const docrt_page *p,
                                  int page_no)
{
    alto_state *a = w->state;
    if (page_body(w, &a->x, p, page_no))
        a->x.bad = 1;
    return docrt_xml_flush(&a->x);
}

static docrt_status alto_close(docrt_writer *w)
{
    alto_state *a = w->state;
    docrt_status st = docrt_xml_close(&a->x); /* ends Layout and alto */
    free(a);
    w->state = NULL;
    return st;
}

const docrt_export_ops docrt_export_alto_ops = {
    "alto", alto_open, alto_add_page, alto_close,
};
