/* ocr_detect.c - one page through the detector: pick the bucket, resize
 * (aspect kept), pad with paper white, run, DB post-processing. */
#include "ocr_internal.h"
#include "geometry.h"
#include "npy.h"
#include "raster.h"

#include <stdio.h>

#include <stdlib.h>

#include <math.h>
#include <string.h>

/* The bucket for a page at a target scale: the smallest that holds the page
 * at that scale; when none does, the one that allows the largest scale
 * (returned in *scale). */
static int pick_bucket(const docrt_model *m, int h, int w, double target,
                       double *scale)
{
    int best = -1, best_fallback = 0;
    double best_area = 0, best_s = -1;
    for (int i = 0; i < m->n_det; i++) {
        double s = fmin((double)m->det_hw[i][0] / h,
                        (double)m->det_hw[i][1] / w);
        double area = (double)m->det_hw[i][0] * m->det_hw[i][1];
        if (s >= target * 0.999 && (best < 0 || area < best_area)) {
            best = i;
            best_area = area;
        }
        if (s > best_s) { best_s = s; best_fallback = i; }
    }
    if (best >= 0) { *scale = target; return best; }
    *scale = best_s;
    return best_fallback;
}

/* Median short side of the boxes, in page pixels. */
static float median_box_height(const db_box *b, int n)
{
    float *h = malloc(sizeof *h * (size_t)(n ? n : 1));
    if (!h) return 0;
    for (int i = 0; i < n; i++) {
        float a = geo_quad_width(&b[i].quad), c = geo_quad_height(&b[i].quad);
        h[i] = a < c ? a : c;
    }
    /* insertion sort: a page has a few hundred boxes at most */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && h[j - 1] > h[j]; j--) {
            float t = h[j]; h[j] = h[j - 1]; h[j - 1] = t;
        }
    float med = n ? h[n / 2] : 0;
    free(h);
    return med;
}

/* docTR's boxes (relative to the whole map, padding included) on the page:
 * the symmetric padding undone as docTR's predictor does (relative
 * coordinates stretched about the centre by the padded side's ratio,
 * clipped to [0, 1]), then scaled to page pixels. */
static docrt_status doctr_boxes(const float *prob, int bh, int bw, const docrt_image *img,
                                const db_params *dp, db_box **boxes, int *n)
{
    db_rel_box *rb = NULL;
    int nr = 0;
    docrt_status st = db_postprocess_doctr(prob, bh, bw, dp, &rb, &nr);
    if (st) return st;
    *boxes = NULL;
    *n = 0;
    if (!nr) return DOCRT_OK;
    db_box *b = malloc(sizeof *b * (size_t)nr);
    if (!b) { free(rb); return DOCRT_ERR_NOMEM; }
    double W = img->width, H = img->height, fx = 1, fy = 1;
    if (H * bw > W * bh) fx = (double)bh * W / H / bw;   /* padded left and right */
    else if (H * bw < W * bh) fy = (double)bw * H / W / bh;
    int k = 0;
    for (int i = 0; i < nr; i++) {
        double x0 = fmin(1, fmax(0, (rb[i].x0 - 0.5) / fx + 0.5)) * W;
        double x1 = fmin(1, fmax(0, (rb[i].x1 - 0.5) / fx + 0.5)) * W;
        double y0 = fmin(1, fmax(0, (rb[i].y0 - 0.5) / fy + 0.5)) * H;
        double y1 = fmin(1, fmax(0, (rb[i].y1 - 0.5) / fy + 0.5)) * H;
        if (x1 - x0 < 1 || y1 - y0 < 1) continue; /* wholly in the padding */
        docrt_quad q = {{(float)x0, (float)x1, (float)x1, (float)x0},
                        {(float)y0, (float)y0, (float)y1, (float)y1}};
        b[k].quad = q;
        b[k].score = rb[i].score;
        k++;
    }
    free(rb);
    if (!k) { free(b); b = NULL; }
    *boxes = b;
    *n = k;
    return DOCRT_OK;
}

static docrt_status detect_at(docrt_stream *s, const docrt_image *img,
                              const docrt_ocr_params *p, double target,
                              db_box **boxes, int *n)
{
    const docrt_model *m = s->m;
    const model_desc *d = &m->det_d;
    double scale;
    int b = pick_bucket(m, img->height, img->width, target, &scale);
    int bh = m->det_hw[b][0], bw = m->det_hw[b][1];
    int rh = (int)lround(img->height * scale), rw = (int)lround(img->width * scale);
    if (rh < 1) rh = 1;
    if (rw < 1) rw = 1;
    if (rh > bh) rh = bh;
    if (rw > bw) rw = bw;

    int ox = 0, oy = 0;
    if (d->pad_symmetric) {
        /* docTR: the page fills the bucket along one side (int() of the
         * other), centred, the odd pixel of padding before it */
        double r = (double)img->height / img->width;
        if (r > (double)bh / bw) {
            rh = bh;
            rw = (int)(bh / r) > 1 ? (int)(bh / r) : 1;
        } else {
            rw = bw;
            rh = (int)(bw * r) > 1 ? (int)(bw * r) : 1;
        }
        ox = (bw - rw + 1) / 2;
        oy = (bh - rh + 1) / 2;
    }

    double t0 = ocr_now_ms();
    raster_norm rn = {d->scale, {d->mean[0], d->mean[1], d->mean[2]},
                      {d->std[0], d->std[1], d->std[2]}, d->bgr};
    raster_resize_norm(img, rw, rh, &rn, s->det_in + (size_t)oy * bw + ox, bw, bh, s->det_tmp);
    float pad[3];
    model_desc_pad_values(d, pad);
    raster_pad_around(s->det_in, bw, bh, ox, oy, rw, rh, pad);

    const void *in[1] = {s->det_in};
    const void *out[1] = {NULL};
    double t1 = ocr_now_ms();
    graph_status g = graph_stream_run(s->det_s, b, in, out);
    double t2 = ocr_now_ms();
    s->split.det_resize_ms += t1 - t0;
    s->split.det_net_ms += t2 - t1;
    if (g != GRAPH_OK)
        return ocr_fail(s, DOCRT_ERR_RUNTIME, "detector (bucket %dx%d): %s",
                        bh, bw, graph_stream_last_error(s->det_s));

    db_params dp = db_default_params();
    dp.thresh = p->det_thresh >= 0 ? p->det_thresh : d->thresh;
    dp.box_thresh = p->box_thresh >= 0 ? p->box_thresh : d->box_thresh;
    dp.unclip_ratio = p->unclip_ratio >= 0 ? p->unclip_ratio : d->unclip_ratio;
    dp.min_size = d->min_size;
    dp.max_candidates = d->max_candidates;
    const float *prob = out[0];
    if (d->logits) { /* the model ends before its sigmoid (docTR's export) */
        size_t np = (size_t)bh * bw;
        for (size_t i = 0; i < np; i++) s->det_prob[i] = 1.f / (1.f + expf(-prob[i]));
        prob = s->det_prob;
    }
    docrt_status st;
    if (d->pp_doctr) {
        /* DOCRT_DEBUG_DOCTR=DIR: the map docTR's post-processing reads, for
         * tools/doctr/check_page.py (test_doctr_models) */
        const char *dbg = getenv("DOCRT_DEBUG_DOCTR");
        if (dbg && *dbg) {
            char path[4096];
            snprintf(path, sizeof path, "%s/det_prob.npy", dbg);
            graph_shape sh = { .rank = 2, .dims = { bh, bw } };
            npy_write_data(path, GRAPH_DT_F32, &sh, prob, NULL, 0);
        }
        st = doctr_boxes(prob, bh, bw, img, &dp, boxes, n);
    }
    else
        st = db_postprocess(prob + (size_t)oy * bw + ox, bh - oy, bw, rh, rw,
                            (float)img->width / rw, (float)img->height / rh,
                            img->width, img->height, &dp, boxes, n);
    s->split.det_post_ms += ocr_now_ms() - t2;
    if (st) return ocr_fail(s, st, "detection post-processing: %s",
                            docrt_status_str(st));
    return DOCRT_OK;
}

/* The detector reads text best at a certain size in its input. The first
 * pass runs at the description's max_side; when the text it finds is small
 * there (dense small print, condensed transcripts, footnotes), the page is
 * detected again at the scale that brings the median box height to the
 * description's text_height, up to max_side_small_text. */
docrt_status ocr_detect(docrt_stream *s, const docrt_image *img,
                        const docrt_ocr_params *p, db_box **boxes, int *n)
{
    const docrt_model *m = s->m;
    const model_desc *d = &m->det_d;
    int side = img->height > img->width ? img->height : img->width;
    int max_side = m->p.det_max_side > 0 ? m->p.det_max_side : d->max_side;
    double target = 1.0;
    if (max_side > 0 && side > max_side) target = (double)max_side / side;
    docrt_status st = detect_at(s, img, p, target, boxes, n);
    if (st || m->p.det_max_side > 0 || d->text_height <= 0 || *n < 3)
        return st;
    double med = median_box_height(*boxes, *n) * target;
    double cap = d->max_side_small_text > 0
                     ? fmin(1.0, (double)d->max_side_small_text / side) : 1.0;
    double want = fmin(cap, target * d->text_height / fmax(med, 1.0));
    if (want < target * 1.15) return DOCRT_OK;
    free(*boxes);
    *boxes = NULL;
    *n = 0;
    return detect_at(s, img, p, want, boxes, n);
}
