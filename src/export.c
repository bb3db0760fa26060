/* export.c - the writer front end: format names, argument and page-tree
 * checks, page numbering, first-error bookkeeping and dispatch to the
 * formats (export_txt.c, export_json.c, export_hocr.c, export_alto.c), plus
 * the helpers they share. */
#include "export.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlwriter.h>

/* ---- format names ---- */

const char *docrt_format_ext(docrt_format f)
{
    switch (f) {
    case DOCRT_FORMAT_TXT: return "txt";
    case DOCRT_FORMAT_JSON: return "json";
    case DOCRT_FORMAT_HOCR: return "hocr";
    case DOCRT_FORMAT_ALTO: return "xml";
    }
    return NULL;
}

static const struct {
    const char *name;
    docrt_format fmt;
} format_names[] = {
    {"txt", DOCRT_FORMAT_TXT},
    {"json", DOCRT_FORMAT_JSON},
    {"hocr", DOCRT_FORMAT_HOCR},
    {"alto", DOCRT_FORMAT_ALTO},
};

/* Names are compared byte-wise in ASCII so the locale cannot change what
 * "TXT" means (tolower() would, in a Turkish locale, for "I"). */
static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int is_blank(int c) { return c == ' ' || c == '\t'; }

docrt_status docrt_format_parse(const char *list, int *formats)
{
    if (!list || !formats)
        return DOCRT_ERR_ARG;
    int set = 0;
    const char *s = list;
    for (;;) {
        while (is_blank((unsigned char)*s))
            s++;
        const char *start = s;
        while (*s && *s != ',')
            s++;
        const char *end = s;
        while (end > start && is_blank((unsigned char)end[-1]))
            end--;
        size_t n = (size_t)(end - start);
        int found = 0;
        for (size_t i = 0; i < sizeof format_names / sizeof format_names[0];
             i++) {
            const char *name = format_names[i].name;
            if (strlen(name) != n)
                continue;
            size_t k = 0;
            while (k < n && ascii_lower((unsigned char)start[k]) == name[k])
                k++;
            if (k == n) {
                set |= (int)format_names[i].fmt;
                found = 1;
                break;
            }
        }
        if (!found)
            return DOCRT_ERR_ARG; /* unknown or empty name */
        if (*s == '\0')
            break;
        s++; /* the comma; a trailing one leaves an empty name: refused */
    }
    *formats = set;
    return DOCRT_OK;
}

/* ---- scratch buffers ---- */

void docrt_sbuf_reset(docrt_sbuf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void docrt_sbuf_free(docrt_sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int sbuf_reserve(docrt_sbuf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int docrt_sbuf_append(docrt_sbuf *b, const char *s, size_t n)
{
    if (sbuf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int docrt_sbuf_printf(docrt_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return docrt_sbuf_append(b, small, (size_t)n);
    if (sbuf_reserve(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

static int put_cp(docrt_sbuf *b, uint32_t c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    return docrt_sbuf_append(b, u, n);
}

#define REPLACEMENT 0xFFFDu

/* Decodes one UTF-8 sequence at s (s[0] != 0). Well-formed: the code point
 * and its length. Ill-formed: REPLACEMENT and the length of the maximal
 * subpart (Unicode 15, 3.9 "U+FFFD Substitution of Maximal Subparts"), at
 * least 1, so "\xE4\xB8" gives one U+FFFD and "\xC3(" gives U+FFFD "(".
 * Ranges per Table 3-7: no overlongs, surrogates or values past
 * U+10FFFF. */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *len = 1;
        return REPLACEMENT;
    }
    size_t i = 1;
    for (int k = 0; k < need; k++, i++) {
        unsigned char t = s[i];
        if (t < lo || t > hi) { /* also stops at the NUL */
            *len = i;
            return REPLACEMENT;
        }
        cp = (cp << 6) | (t & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *len = i;
    return cp;
}

int docrt_sbuf_put_clean(docrt_sbuf *b, const char *str)
{
    if (sbuf_reserve(b, 0))
        return -1;
    b->p[b->len] = '\0';
    if (!str)
        return 0;
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        /* Runs of plain printable ASCII go in one copy. */
        const unsigned char *run = s;
        while (*s >= 0x20 && *s < 0x80)
            s++;
        if (s > run && docrt_sbuf_append(b, (const char *)run,
                                         (size_t)(s - run)))
            return -1;
        if (!*s)
            break;
        size_t n;
        uint32_t c = utf8_next(s, &n);
        s += n;
        if (c == '\t' || c == '\n' || c == '\r')
            c = ' ';
        else if (c < 0x20 || c == 0xFFFE || c == 0xFFFF)
            c = REPLACEMENT;
        if (put_cp(b, c))
            return -1;
    }
    return 0;
}

/* ---- coordinates ---- */

static int clamp_round(float v, int hi)
{
    if (!isfinite(v) || v <= 0.0f)
        return 0;
    if (v >= (float)hi)
        return hi;
    return (int)lroundf(v);
}

docrt_ibox docrt_export_ibox(const docrt_page *p, docrt_box b)
{
    docrt_ibox r;
    r.x0 = clamp_round(b.x0, p->width);
    r.y0 = clamp_round(b.y0, p->height);
    r.x1 = clamp_round(b.x1, p->width);
    r.y1 = clamp_round(b.y1, p->height);
    if (r.x1 < r.x0) {
        int t = r.x0;
        r.x0 = r.x1;
        r.x1 = t;
    }
    if (r.y1 < r.y0) {
        int t = r.y0;
        r.y0 = r.y1;
        r.y1 = t;
    }
    return r;
}

void docrt_export_ipoint(const docrt_page *p, float x, float y, int *ix,
                         int *iy)
{
    *ix = clamp_round(x, p->width);
    *iy = clamp_round(y, p->height);
}

int docrt_export_quad_rotated(const docrt_quad *q, const docrt_box *b)
{
    const float bx[4] = {b->x0, b->x1, b->x1, b->x0};
    const float by[4] = {b->y0, b->y0, b->y1, b->y1};
    int zero = 1, off = 0;
    for (int i = 0; i < 4; i++) {
        if (q->x[i] != 0.0f || q->y[i] != 0.0f)
            zero = 0;
        /* Written so that NaN counts as "not rotated". */
        if (fabsf(q->x[i] - bx[i]) > 0.5f || fabsf(q->y[i] - by[i]) > 0.5f)
            off = 1;
    }
    return !zero && off;
}

const docrt_word *docrt_export_line_words(const docrt_line *ln,
                                          docrt_word *tmp, int *n)
{
    if (ln->n_words > 0) {
        *n = ln->n_words;
        return ln->words;
    }
    *tmp = (docrt_word){.text = ln->text, .box = ln->box, .quad = ln->quad,
                        .confidence = ln->confidence};
    *n = 1;
    return tmp;
}

int docrt_export_conf_scaled(float c, int scale)
{
    if (!(c > 0.0f)) /* also NaN */
        return 0;
    if (c >= 1.0f)
        return scale;
    return (int)lroundf(c * (float)scale);
}

/* ---- raw output ---- */

void docrt_export_write(docrt_writer *w, const void *s, size_t n)
{
    if (n && fwrite(s, 1, n, w->f) != n)
        w->io_failed = 1;
}

docrt_status docrt_export_flush(docrt_writer *w)
{
    if (fflush(w->f) != 0)
        w->io_failed = 1;
    if (ferror(w->f))
        w->io_failed = 1;
    return w->io_failed ? DOCRT_ERR_IO : DOCRT_OK;
}

/* ---- xmlTextWriter helpers ---- */

/* Always "succeeds" towards libxml2 (a -1 would make it print an I/O error
 * on stderr); the failure is kept in the writer instead. */
static int xml_out_write(void *ctx, const char *buf, int len)
{
    if (len > 0)
        docrt_export_write(ctx, buf, (size_t)len);
    return len;
}

static int xml_out_close(void *ctx)
{
    (void)ctx; /* the FILE stays the caller's */
    return 0;
}

docrt_status docrt_xml_open(docrt_xml *x, docrt_writer *w)
{
    x->w = w;
    x->bad = 0;
    x->tw = NULL;
    /* Idempotent. libxml2 before 2.11 does not lock it, so a threaded
     * program should also call it once before starting its workers. */
    xmlInitParser();
    xmlOutputBufferPtr out =
        xmlOutputBufferCreateIO(xml_out_write, xml_out_close, w, NULL);
    if (!out)
        return DOCRT_ERR_NOMEM;
    x->tw = xmlNewTextWriter(out); /* owns out once it exists */
    if (!x->tw) {
        xmlOutputBufferClose(out);
        return DOCRT_ERR_NOMEM;
    }
    if (xmlTextWriterStartDocument(x->tw, NULL, "UTF-8", NULL) < 0)
        x->bad = 1;
    return x->bad ? DOCRT_ERR_NOMEM : DOCRT_OK;
}

docrt_status docrt_xml_flush(docrt_xml *x)
{
    if (!x->bad && xmlTextWriterFlush(x->tw) < 0)
        x->bad = 1;
    docrt_status st = docrt_export_flush(x->w);
    if (st == DOCRT_OK && x->bad)
        st = DOCRT_ERR_NOMEM; /* xmlTextWriter fails only on allocation */
    return st;
}

docrt_status docrt_xml_close(docrt_xml *x)
{
    if (!x->tw)
        return DOCRT_OK;
    if (!x->bad && xmlTextWriterEndDocument(x->tw) < 0)
        x->bad = 1;
    if (!x->bad && xmlTextWriterFlush(x->tw) < 0)
        x->bad = 1;
    xmlFreeTextWriter(x->tw); /* flushes and frees its output buffer */
    x->tw = NULL;
    docrt_status st = docrt_export_flush(x->w);
    if (st == DOCRT_OK && x->bad)
        st = DOCRT_ERR_NOMEM;
    return st;
}

#define XML_CALL(x, call)                                                    \
    do {                                                                     \
        if ((x)->bad || (call) < 0) {                                        \
            (x)->bad = 1;                                                    \
            return -1;                                                       \
        }                                                                    \
    } while (0)

int docrt_xml_start(docrt_xml *x, const char *name)
{
    XML_CALL(x, xmlTextWriterStartElement(x->tw, BAD_CAST name));
    return 0;
}

int docrt_xml_end(docrt_xml *x)
{
    XML_CALL(x, xmlTextWriterEndElement(x->tw));
    return 0;
}

int docrt_xml_end_full(docrt_xml *x)
{
    XML_CALL(x, xmlTextWriterFullEndElement(x->tw));
    return 0;
}

int docrt_xml_attr(docrt_xml *x, const char *name, const char *value)
{
    XML_CALL(x, xmlTextWriterWriteAttribute(x->tw, BAD_CAST name,
                                            BAD_CAST value));
    return 0;
}

int docrt_xml_attr_int(docrt_xml *x, const char *name, int v)
{
    char s[16];
    snprintf(s, sizeof s, "%d", v);
    return docrt_xml_attr(x, name, s);
}

int docrt_xml_text(docrt_xml *x, const char *s)
{
    if (!*s)
        return x->bad ? -1 : 0;
    XML_CALL(x, xmlTextWriterWriteString(x->tw, BAD_CAST s));
    return 0;
}

int docrt_xml_doctype(docrt_xml *x, const char *name, const char *pubid,
                      const char *sysid)
{
    XML_CALL(x, xmlTextWriterWriteDTD(x->tw, BAD_CAST name, BAD_CAST pubid,
                                      BAD_CAST sysid, NULL));
    return 0;
}

int docrt_xml_elem_text(docrt_xml *x, const char *name, const char *s)
{
    docrt_sbuf *b = &x->w->text;
    docrt_sbuf_reset(b);
    if (docrt_sbuf_put_clean(b, s)) {
        x->bad = 1;
        return -1;
    }
    if (docrt_xml_start(x, name) || docrt_xml_text(x, b->p))
        return -1;
    return docrt_xml_end_full(x);
}

/* ---- the writer ---- */

static const docrt_export_ops *ops_for(docrt_format fmt)
{
    switch (fmt) {
    case DOCRT_FORMAT_TXT: return &docrt_export_txt_ops;
    case DOCRT_FORMAT_JSON: return &docrt_export_json_ops;
    case DOCRT_FORMAT_HOCR: return &docrt_export_hocr_ops;
    case DOCRT_FORMAT_ALTO: return &docrt_export_alto_ops;
    }
    return NULL;
}

docrt_status docrt_writer_open(FILE *f, docrt_format fmt,
                               const char *source_name, docrt_writer **out)
{
    if (out)
        *out = NULL;
    const docrt_export_ops *ops = ops_for(fmt);
    if (!f || !out || !ops)
        return DOCRT_ERR_ARG;
    if (ferror(f))
        return DOCRT_ERR_IO; /* a stream that already failed stays failed */
    docrt_writer *w = calloc(1, sizeof *w);
    if (!w)
        return DOCRT_ERR_NOMEM;
    w->f = f;
    w->fmt = fmt;
    w->ops = ops;
    docrt_sbuf name = {0};
    if (docrt_sbuf_put_clean(&name, source_name)) {
        free(w);
        return DOCRT_ERR_NOMEM;
    }
    w->source_name = name.p; /* put_clean always allocates */
    docrt_status st = ops->open(w);
    if (st != DOCRT_OK) {
        docrt_sbuf_free(&w->text);
        docrt_sbuf_free(&w->tmp);
        free(w->source_name);
        free(w);
        return st;
    }
    *out = w;
    return DOCRT_OK;
}

/* A page of size 0 x 0 is accepted when it has nothing on it: the CLI
 * writes one for a page it could not read, so the numbering goes on. */
static int page_tree_ok(const docrt_page *p)
{
    if (p->width < 0 || p->height < 0 || p->n_blocks < 0 ||
        (p->n_blocks > 0 && (!p->blocks || p->width == 0 || p->height == 0)))
        return 0;
    for (int b = 0; b < p->n_blocks; b++) {
        const docrt_block *bl = &p->blocks[b];
        if (bl->n_lines < 0 || (bl->n_lines > 0 && !bl->lines))
            return 0;
        for (int l = 0; l < bl->n_lines; l++) {
            const docrt_line *ln = &bl->lines[l];
            if (ln->n_words < 0 || (ln->n_words > 0 && !ln->words))
                return 0;
        }
    }
    return 1;
}

docrt_status docrt_writer_add_page(docrt_writer *w, const docrt_page *page)
{
    if (!w || !page)
        return DOCRT_ERR_ARG;
    if (w->err != DOCRT_OK)
        return w->err;
    if (!page_tree_ok(page))
        return DOCRT_ERR_ARG; /* nothing written: the writer goes on */
    /* The input's page number when it can be; otherwise the next free one
     * (ids and PHYSICAL_IMG_NR must stay unique). */
    int no = page->page_index >= 0 && page->page_index < INT_MAX
                 ? page->page_index + 1
                 : 0;
    if (no <= w->last_page_no)
        no = w->last_page_no + 1;
    docrt_status st = w->ops->add_page(w, page, no);
    if (st != DOCRT_OK) {
        w->err = st;
        return st;
    }
    w->last_page_no = no;
    w->n_pages++;
    return DOCRT_OK;
}

docrt_status docrt_writer_close(docrt_writer *w)
{
    if (!w)
        return DOCRT_ERR_ARG;
    docrt_status st = w->ops->close(w);
    docrt_status first = w->err != DOCRT_OK ? w->err : st;
    if (first == DOCRT_OK && w->io_failed)
        first = DOCRT_ERR_IO;
    docrt_sbuf_free(&w->text);
    docrt_sbuf_free(&w->tmp);
    free(w->source_name);
    free(w);
    return first;
}
