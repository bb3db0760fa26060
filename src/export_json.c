/* export_json.c - JSON in the shape of docTR's Document.export():
 *
 *   {"pages": [{"page_idx", "dimensions": [h, w],
 *               "orientation": {"value", "confidence"},
 *               "language": {"value", "confidence"},
 *               "blocks": [{"geometry", "lines": [{"geometry",
 *                   "words": [{"value", "confidence", "geometry",
 *                              "crop_orientation": {"value",
 *                                                   "confidence"}}]}],
 *                           "artefacts": []}]}]}
 *
 * Keys and their order follow doctr/io/elements.py (_exported_keys and
 * _children_names of Page, Block, Line, Word). Geometry is relative to the
 * page, clamped to [0, 1] as docTR clips it: [[xmin, ymin], [xmax, ymax]]
 * for straight boxes, and for a word or line whose quad is turned the four
 * corners [[x, y] x 4], clockwise from the text's top-left, which is what
 * docTR gives for rotated documents (assume_straight_pages=False).
 *
 * objectness_score is left out: docTR fills it from the detector's box
 * score, and docrt_page does not carry one. crop_orientation is what docTR
 * writes when no crop classifier ran ({"value": 0, "confidence": null});
 * the page orientation value is docrt_page.rotation, with a null
 * confidence, and the language is unknown (both null). Confidences are
 * clamped to [0, 1]; a NaN one is null.
 *
 * Each page is built as a jansson tree and written when it is added, so
 * memory does not grow with the number of pages; the bytes are those of
 * one document dumped at the end. */
#include "export.h"

#include <math.h>

#include <jansson.h>

/* 7 significant digits: what a float holds, so a confidence of 0.91f reads
 * 0.91 rather than 0.9100000262. Relative coordinates keep 1/1000 pixel on
 * a 10000-pixel page. */
#define JSON_FLAGS (JSON_REAL_PRECISION(7) | JSON_COMPACT)

/* Confidences clamped to [0, 1] as in the XML formats; NaN is null. */
static json_t *confidence(float c)
{
    if (isnan(c))
        return json_null();
    return json_real(c <= 0.0f ? 0.0 : c >= 1.0f ? 1.0 : (double)c);
}

static double rel(float v, int size)
{
    if (!isfinite(v) || v <= 0.0f)
        return 0.0;
    double r = (double)v / (double)size;
    return r > 1.0 ? 1.0 : r;
}

/* json_object_set_new / json_array_append_new take the reference even on
 * failure, so a NULL child just makes the call fail. */
static int set(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

static int push(json_t *a, json_t *v)
{
    return v ? json_array_append_new(a, v) : -1;
}

static json_t *point(const docrt_page *p, float x, float y)
{
    json_t *a = json_array();
    if (a && (push(a, json_real(rel(x, p->width))) ||
              push(a, json_real(rel(y, p->height))))) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* q: the quad of a word or line, or NULL for a block (boxes only). */
static json_t *geometry(const docrt_page *p, const docrt_box *b,
                        const docrt_quad *q)
{
    json_t *g = json_array();
    if (!g)
        return NULL;
    int bad = 0;
    /* the box's corners copied first: b is never NULL, q often is */
    const docrt_box bx = *b;
    if (q && docrt_export_quad_rotated(q, &bx)) {
        for (int i = 0; i < 4; i++)
            bad |= push(g, point(p, q->x[i], q->y[i]));
    } else {
        bad |= push(g, point(p, bx.x0, bx.y0));
        bad |= push(g, point(p, bx.x1, bx.y1));
    }
    if (bad) {
        json_decref(g);
        return NULL;
    }
    return g;
}

static json_t *value_conf(json_t *value)
{
    json_t *o = json_object();
    if (o && (set(o, "value", value) || set(o, "confidence", json_null()))) {
        json_decref(o);
        return NULL;
    }
    if (!o)
        json_decref(value);
    return o;
}

/* Sanitised UTF-8 from the writer's scratch buffer: json_stringn refuses
 * invalid UTF-8, and the other formats carry the same text. */
static json_t *text(docrt_writer *w, const char *s)
{
    docrt_sbuf_reset(&w->text);
    if (docrt_sbuf_put_clean(&w->text, s))
        return NULL;
    return json_stringn(w->text.p, w->text.len);
}

static json_t *word_json(docrt_writer *w, const docrt_page *p,
                         const docrt_word *wd)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "value", text(w, wd->text)) ||
        set(o, "confidence", confidence(wd->confidence)) ||
        set(o, "geometry", geometry(p, &wd->box, &wd->quad)) ||
        set(o, "crop_orientation", value_conf(json_integer(0)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *line_json(docrt_writer *w, const docrt_page *p,
                         const docrt_line *ln)
{
    json_t *o = json_object(), *words = json_array();
    if (!o || !words)
        goto fail;
    docrt_word one;
    int n;
    const docrt_word *wd = docrt_export_line_words(ln, &one, &n);
    for (int i = 0; i < n; i++)
        if (push(words, word_json(w, p, &wd[i])))
            goto fail;
    if (set(o, "geometry", geometry(p, &ln->box, &ln->quad)))
        goto fail;
    int r = set(o, "words", words);
    words = NULL;
    if (r)
        goto fail;
    return o;
fail:
    json_decref(words);
    json_decref(o);
    return NULL;
}

static json_t *block_json(docrt_writer *w, const docrt_page *p,
                          const docrt_block *bl)
{
    json_t *o = json_object(), *lines = json_array();
    if (!o || !lines)
        goto fail;
    for (int i = 0; i < bl->n_lines; i++)
        if (push(lines, line_json(w, p, &bl->lines[i])))
            goto fail;
    if (set(o, "geometry", geometry(p, &bl->box, NULL)))
        goto fail;
    int r = set(o, "lines", lines);
    lines = NULL;
    if (r || set(o, "artefacts", json_array()))
        goto fail;
    return o;
fail:
    json_decref(lines);
    json_decref(o);
    return NULL;
}

static json_t *page_json(docrt_writer *w, const docrt_page *p, int page_no)
{
    json_t *o = json_object(), *blocks = json_array(), *dims = json_array();
    if (!o || !blocks || !dims)
        goto fail;
    for (int i = 0; i < p->n_blocks; i++)
        if (push(blocks, block_json(w, p, &p->blocks[i])))
            goto fail;
    if (push(dims, json_integer(p->height)) ||
        push(dims, json_integer(p->width)))
        goto fail;
    if (set(o, "page_idx", json_integer(page_no - 1)))
        goto fail;
    int r = set(o, "dimensions", dims);
    dims = NULL;
    if (r || set(o, "orientation", value_conf(json_integer(p->rotation))) ||
        set(o, "language", value_conf(json_null())))
        goto fail;
    r = set(o, "blocks", blocks);
    blocks = NULL;
    if (r)
        goto fail;
    return o;
fail:
    json_decref(dims);
    json_decref(blocks);
    json_decref(o);
    return NULL;
}

static const char head[] = "{\"pages\":[";
static const char tail[] = "]}\n";

static docrt_status json_open(docrt_writer *w)
{
    docrt_export_write(w, head, sizeof head - 1);
    return DOCRT_OK;
}

static docrt_status json_add_page(docrt_writer *w, const docrt_page *p,
                                  int page_no)
{
    json_t *o = page_json(w, p, page_no);
    if (!o)
        return DOCRT_ERR_NOMEM; /* nothing of this page was written */
    if (w->n_pages > 0)
        docrt_export_write(w, ",", 1);
    if (json_dumpf(o, w->f, JSON_FLAGS) != 0)
        w->io_failed = 1;
    json_decref(o);
    return docrt_export_flush(w);
}

static docrt_status json_close(docrt_writer *w)
{
    docrt_export_write(w, tail, sizeof tail - 1);
    return docrt_export_flush(w);
}

const docrt_export_ops docrt_export_json_ops = {
    "json", json_open, json_add_page, json_close,
};
