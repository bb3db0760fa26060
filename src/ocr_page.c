/* ocr_page.c - docrt_ocr_image: one page from raster to page tree.
 * detect -> (sideways? turn and detect again) -> crop + recognise ->
 * (upside down? turn and redo) -> words -> layout -> page coordinates. */
#include "geometry.h"
#include "lexicon.h"
#include "ocr_internal.h"
#include "raster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

docrt_ocr_params docrt_ocr_default_params(void)
{
    docrt_ocr_params p;
    memset(&p, 0, sizeof p);
    p.det_thresh = p.box_thresh = p.unclip_ratio = -1.f;
    p.detect_rotation = 1;
    p.angle_cls = 1;
    return p;
}

/* Detector boxes -> lines in reading direction. A box much taller than wide
 * is vertical text on an upright page: read it turned (as PaddleOCR does). */
static docrt_status boxes_to_lines(docrt_stream *s, const db_box *b, int n)
{
    docrt_status st = ocr_lines_reserve(s, n + 16);
    if (st) return ocr_fail(s, st, "out of memory");
    s->n_lines = 0;
    for (int i = 0; i < n; i++) {
        ocr_line *l = &s->lines[s->n_lines++];
        memset(l, 0, sizeof *l);
        l->quad = b[i].quad;
        l->det_score = b[i].score;
        float w = geo_quad_width(&b[i].quad), h = geo_quad_height(&b[i].quad);
        if (h >= 1.5f * w) {
            for (int k = 0; k < 4; k++) {
                l->quad.x[k] = b[i].quad.x[(k + 1) % 4];
                l->quad.y[k] = b[i].quad.y[(k + 1) % 4];
            }
        }
    }
    return DOCRT_OK;
}

/* A page fed sideways shows most of its text length in tall boxes. */
static int looks_sideways(const db_box *b, int n)
{
    double vert = 0, horiz = 0;
    int elongated = 0;
    for (int i = 0; i < n; i++) {
        float w = geo_quad_width(&b[i].quad), h = geo_quad_height(&b[i].quad);
        if (w >= 2 * h) { horiz += w; elongated++; }
        else if (h >= 2 * w) { vert += h; elongated++; }
    }
    return elongated >= 3 && vert > 1.5 * horiz;
}

/* Upside down? Read the longest few lines turned by 180 degrees too and
 * compare the recogniser's confidence. Costs a few extra recognitions. */
static docrt_status looks_upside_down(docrt_stream *s, const docrt_image *img,
                                      int *flip, int *nb)
{
    enum { K = 4 };
    int pick[K] = {0}, n_pick = 0;
    *flip = 0;
    for (int k = 0; k < K; k++) {
        int best = -1;
        for (int i = 0; i < s->n_lines; i++) {
            int used = 0;
            for (int j = 0; j < n_pick; j++) used |= pick[j] == i;
            if (used || s->lines[i].n_chars < 4) continue;
            if (best < 0 || s->lines[i].crop_w > s->lines[best].crop_w) best = i;
        }
        if (best < 0) break;
        pick[n_pick++] = best;
    }
    if (n_pick == 0) return DOCRT_OK;
    /* Upside-down text does not read with high confidence: a page whose
     * longest lines already read well is upright, and costs nothing more. */
    double sure = 0;
    for (int j = 0; j < n_pick; j++) sure += s->lines[pick[j]].conf;
    if (sure >= 0.9 * n_pick) return DOCRT_OK;
    int base = s->n_lines;
    docrt_status st = ocr_lines_reserve(s, base + n_pick);
    if (st) return ocr_fail(s, st, "out of memory");
    int maxw = s->m->rec_w[s->m->n_rec - 1];
    double up = 0, down = 0;
    for (int j = 0; j < n_pick; j++) {
        ocr_line *src = &s->lines[pick[j]], *l = &s->lines[base + j];
        *l = *src;
        /* Only the start of a long line: one bucket is enough to tell. */
        docrt_quad q = src->quad;
        if (src->crop_w > maxw) {
            float u = (float)maxw / src->crop_w;
            geo_pt b = geo_quad_point(&q, u, 0), c = geo_quad_point(&q, u, 1);
            q.x[1] = b.x; q.y[1] = b.y; q.x[2] = c.x; q.y[2] = c.y;
        }
        for (int k = 0; k < 4; k++) {
            l->quad.x[k] = q.x[(k + 2) % 4];
            l->quad.y[k] = q.y[(k + 2) % 4];
        }
        up += src->conf;
    }
    int saved_chars = s->n_chars, nb2 = 0;
    st = ocr_recognize(s, img, base, n_pick, &nb2);
    *nb += nb2;
    for (int j = 0; j < n_pick; j++) down += s->lines[base + j].conf;
    s->n_chars = saved_chars;
    if (st) return st;
    *flip = down > up + 0.1 * n_pick;
    return DOCRT_OK;
}

/* Words: the recogniser emits spaces; characters between them form a word
 * placed along the line's quad by the characters' timesteps. */
typedef struct {
    layout_segment *segs;
    layout_word *words;
    char *text;
    float *conf;
} seg_storage;

static docrt_status build_segments(docrt_stream *s, float drop_score,
                                   seg_storage *o, int *n_segs)
{
    const ctc_vocab *v = &s->m->vocab;
    size_t text_len = 0;
    for (int i = 0; i < s->n_chars; i++)
        text_len += strlen(v->keys[s->chars[i].cls]) + 1;
    o->segs = calloc((size_t)s->n_lines + 1, sizeof *o->segs);
    o->words = calloc((size_t)s->n_chars + 1, sizeof *o->words);
    /* room for a corrected word to grow (m -> rn, twice: 2 bytes and 2
     * characters a word at most) */
    o->text = malloc(text_len + 3 * (size_t)s->n_chars + 1);
    o->conf = malloc(sizeof(float) * (3 * (size_t)s->n_chars + 1));
    if (!o->segs || !o->words || !o->text || !o->conf)
        return ocr_fail(s, DOCRT_ERR_NOMEM, "out of memory");
    int ns = 0, nw = 0;
    size_t tp = 0, cp = 0;
    for (int i = 0; i < s->n_lines; i++) {
        const ocr_line *l = &s->lines[i];
        if (l->n_chars == 0 || l->conf < drop_score) continue;
        layout_segment *sg = &o->segs[ns];
        sg->quad = l->quad;
        sg->confidence = l->conf;
        sg->words = &o->words[nw];
        const ocr_char *ch = s->chars + l->chars_off;
        for (int c = 0; c < l->n_chars;) {
            if (ch[c].cls == v->space) { c++; continue; }
            int e = c;
            while (e < l->n_chars && ch[e].cls != v->space) e++;
            layout_word *w = &o->words[nw++];
            w->text = o->text + tp;
            w->char_conf = o->conf + cp;
            float mn = 1.f;
            for (int k = c; k < e; k++) {
                const char *key = v->keys[ch[k].cls];
                size_t kl = strlen(key);
                memcpy(o->text + tp, key, kl);
                tp += kl;
                o->conf[cp++] = ch[k].conf;
                if (ch[k].conf < mn) mn = ch[k].conf;
            }
            o->text[tp] = 0;
            w->n_chars = e - c;
            char fixed[64];
            if (s->m->lex && lexicon_correct(s->m->lex, w->text, fixed, sizeof fixed)) {
                /* the corrected word's characters take its lowest confidence */
                size_t fl = strlen(fixed);
                memcpy(o->text + (w->text - o->text), fixed, fl + 1);
                tp = (size_t)(w->text - o->text) + fl;
                int nc = 0;
                for (size_t q = 0; q < fl; q++)
                    nc += ((unsigned char)fixed[q] & 0xC0) != 0x80;
                cp = (size_t)(w->char_conf - o->conf);
                for (int q = 0; q < nc; q++) o->conf[cp++] = mn;
                w->n_chars = nc;
            }
            tp++;
            w->confidence = mn;
            float u0 = ch[c].x0 / l->crop_w, u1 = ch[e - 1].x1 / l->crop_w;
            if (u0 < 0) u0 = 0;
            if (u1 > 1) u1 = 1;
            geo_pt a = geo_quad_point(&l->quad, u0, 0),
                   b = geo_quad_point(&l->quad, u1, 0),
                   cc = geo_quad_point(&l->quad, u1, 1),
                   d = geo_quad_point(&l->quad, u0, 1);
            docrt_quad q = {{a.x, b.x, cc.x, d.x}, {a.y, b.y, cc.y, d.y}};
            w->quad = q;
            sg->n_words++;
            c = e;
        }
        if (sg->n_words) ns++;
    }
    *n_segs = ns;
    return DOCRT_OK;
}

/* DOCRT_DEBUG_SEGMENTS=DIR writes each page's layout input (the upright
 * page's segments and words) as TSV, to study reading order offline:
 * "S  x0 y0 .. x3 y3  conf" per segment, then "W  x0 y0 .. x3 y3  conf text"
 * per word. */
static void dump_segments(const layout_segment *sg, int n, const char *src,
                          int page, const docrt_image *up)
{
    const char *dir = getenv("DOCRT_DEBUG_SEGMENTS");
    if (!dir || !*dir) return;
    const char *b = src ? strrchr(src, '/') : NULL;
    b = b ? b + 1 : src ? src : "page";
    char path[1024];
    int k = snprintf(path, sizeof path, "%s/%s.p%d.tsv", dir, b, page + 1);
    if (k < 0 || (size_t)k >= sizeof path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "P\t%d\t%d\n", up->width, up->height);
    for (int i = 0; i < n; i++) {
        const docrt_quad *q = &sg[i].quad;
        fprintf(f, "S\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\n",
                q->x[0], q->y[0], q->x[1], q->y[1], q->x[2], q->y[2], q->x[3],
                q->y[3], sg[i].confidence);
        for (int w = 0; w < sg[i].n_words; w++) {
            const layout_word *wd = &sg[i].words[w];
            q = &wd->quad;
            fprintf(f, "W\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\t%s\n",
                    q->x[0], q->y[0], q->x[1], q->y[1], q->x[2], q->y[2],
                    q->x[3], q->y[3], wd->confidence, wd->text);
        }
    }
    fclose(f);
}

static void map_point(float *x, float *y, int rot, int W0, int H0)
{
    float xr = *x, yr = *y;
    switch (rot) {
    case 90: *x = yr; *y = H0 - xr; break;
    case 180: *x = W0 - xr; *y = H0 - yr; break;
    case 270: *x = W0 - yr; *y = xr; break;
    default: break;
    }
}

static void map_quad_box(docrt_quad *q, docrt_box *b, int rot, int W0, int H0)
{
    for (int k = 0; k < 4; k++) map_point(&q->x[k], &q->y[k], rot, W0, H0);
    *b = geo_quad_bbox(q);
}

static void map_page(docrt_page *pg, int rot, int W0, int H0)
{
    for (int bi = 0; bi < pg->n_blocks; bi++) {
        docrt_block *bl = &pg->blocks[bi];
        docrt_quad bq = {{bl->box.x0, bl->box.x1, bl->box.x1, bl->box.x0},
                         {bl->box.y0, bl->box.y0, bl->box.y1, bl->box.y1}};
        map_quad_box(&bq, &bl->box, rot, W0, H0);
        for (int li = 0; li < bl->n_lines; li++) {
            docrt_line *ln = &bl->lines[li];
            map_quad_box(&ln->quad, &ln->box, rot, W0, H0);
            for (int wi = 0; wi < ln->n_words; wi++)
                map_quad_box(&ln->words[wi].quad, &ln->words[wi].box, rot,
                             W0, H0);
        }
    }
}

/* Detection again on a turned page: the previous boxes go. */
static docrt_status redetect(docrt_stream *s, const docrt_image *img,
                             const docrt_ocr_params *p, db_box **boxes, int *n)
{
    free(*boxes);
    *boxes = NULL;
    return ocr_detect(s, img, p, boxes, n);
}

docrt_status docrt_ocr_image(docrt_stream *s, const docrt_image *img,
                             const docrt_ocr_params *pp,
                             const docrt_page **out)
{
    if (!s || !img || !out || !img->data || img->width < 1 ||
        img->height < 1 || (img->channels != 1 && img->channels != 3))
        return s ? ocr_fail(s, DOCRT_ERR_ARG, "invalid image") : DOCRT_ERR_ARG;
    *out = NULL;
    s->err[0] = 0;
    docrt_ocr_params p = pp ? *pp : docrt_ocr_default_params();
    if (s->page_valid) {
        layout_page_release(&s->page);
        s->page_valid = 0;
    }
    memset(&s->page, 0, sizeof s->page);
    docrt_page *pg = &s->page;
    pg->width = img->width;
    pg->height = img->height;
    pg->dpi_x = img->dpi_x;
    pg->dpi_y = img->dpi_y;
    pg->page_index = p.page_index;

    if (s->calib) s->calib_pages++;
    memset(&s->split, 0, sizeof s->split);
    double t0 = ocr_now_ms(), t_det = 0, t_rec = 0;
    docrt_image turned = {0};
    const docrt_image *up = img;
    int rot = 0, nb = 0;
    db_box *boxes = NULL;
    int n_boxes = 0;
    seg_storage sg = {0};
    docrt_status st = redetect(s, up, &p, &boxes, &n_boxes);
    if (st) goto out;
    if (p.detect_rotation && looks_sideways(boxes, n_boxes)) {
        rot = 90;
        if ((st = raster_rotate(img, rot, &turned))) {
            ocr_fail(s, st, "turning the page: %s", docrt_status_str(st));
            goto out;
        }
        up = &turned;
        if ((st = redetect(s, up, &p, &boxes, &n_boxes))) goto out;
    }
    for (int pass = 0; pass < 2; pass++) {
        double t1 = ocr_now_ms();
        t_det += t1 - t0;
        if ((st = boxes_to_lines(s, boxes, n_boxes))) goto out;
        if (p.angle_cls && s->cls_s && (st = ocr_classify_angles(s, up)))
            goto out;
        s->n_chars = 0;
        int nb1 = 0;
        if ((st = ocr_recognize(s, up, 0, s->n_lines, &nb1))) goto out;
        nb += nb1;
        int flip = 0;
        if (pass == 0 && p.detect_rotation &&
            (st = looks_upside_down(s, up, &flip, &nb)))
            goto out;
        t0 = ocr_now_ms();
        t_rec += t0 - t1;
        if (!flip) break;
        rot = (rot + 180) % 360;
        docrt_image_free(&turned);
        if (rot && (st = raster_rotate(img, rot, &turned))) {
            ocr_fail(s, st, "turning the page: %s", docrt_status_str(st));
            goto out;
        }
        up = rot ? &turned : img;
        if ((st = redetect(s, up, &p, &boxes, &n_boxes))) goto out;
    }

    double t2 = ocr_now_ms();
    int n_segs = 0;
    if ((st = build_segments(s, s->m->rec_d.drop_score, &sg, &n_segs)))
        goto out;
    dump_segments(sg.segs, n_segs, p.source_name, p.page_index, up);
    layout_params lp = {up->width, up->height};
    if ((st = layout_build(sg.segs, n_segs, &lp, pg))) {
        ocr_fail(s, st, "layout: %s", docrt_status_str(st));
        goto out;
    }
    s->page_valid = 1;
    if (rot) map_page(pg, rot, img->width, img->height);
    pg->rotation = rot;
    pg->timing = s->split;
    pg->timing.detect_ms = t_det;
    pg->timing.recognize_ms = t_rec;
    pg->timing.layout_ms = ocr_now_ms() - t2;
    pg->timing.n_boxes = n_boxes;
    pg->timing.n_rec_batches = nb;
    *out = pg;
out:
    free(boxes);
    free(sg.segs);
    free(sg.words);
    free(sg.text);
    free(sg.conf);
    docrt_image_free(&turned);
    if (st && p.source_name && s->err[0]) {
        char tmp[sizeof s->err];
        int n = snprintf(tmp, sizeof tmp, "%s: page %d: %s", p.source_name,
                         p.page_index + 1, s->err);
        if (n > 0) memcpy(s->err, tmp, sizeof tmp);
    }
    return st;
}
