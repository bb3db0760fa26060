/* ocr_detect.c - one page through the detector: pick the bucket, resize
 * (aspect kept), pad with paper white, run, DB post-processing. */
#include "ocr_internal.h"
#include "raster.h"

#include <math.h>
#include <string.h>

/* The scale a page gets: its longest side brought to max_side (never
 * enlarged), then the smallest bucket that holds it at that scale; when no
 * bucket does, the bucket that allows the largest scale. */
static int pick_bucket(const docrt_model *m, int h, int w, double *scale)
{
    double target = 1.0;
    int side = h > w ? h : w;
    int max_side = m->p.det_max_side > 0 ? m->p.det_max_side
                                         : m->det_d.max_side;
    if (max_side > 0 && side > max_side) target = (double)max_side / side;
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

docrt_status ocr_detect(docrt_stream *s, const docrt_image *img,
                        const docrt_ocr_params *p, db_box **boxes, int *n)
{
    const docrt_model *m = s->m;
    const model_desc *d = &m->det_d;
    double scale;
    int b = pick_bucket(m, img->height, img->width, &scale);
    int bh = m->det_hw[b][0], bw = m->det_hw[b][1];
    int rh = (int)lround(img->height * scale), rw = (int)lround(img->width * scale);
    if (rh < 1) rh = 1;
    if (rw < 1) rw = 1;
    if (rh > bh) rh = bh;
    if (rw > bw) rw = bw;

    raster_norm rn = {d->scale, {d->mean[0], d->mean[1], d->mean[2]},
                      {d->std[0], d->std[1], d->std[2]}, d->bgr};
    raster_resize_norm(img, rw, rh, &rn, s->det_in, bw, bh, s->det_tmp);
    float pad[3];
    for (int c = 0; c < 3; c++)
        pad[c] = isnan(d->pad_value) ? (255.f * d->scale - d->mean[c]) / d->std[c]
                                     : d->pad_value;
    raster_pad_planes(s->det_in, bw, bh, rw, rh, pad);

    const void *in[1] = {s->det_in};
    const void *out[1] = {NULL};
    graph_status g = graph_stream_run(s->det_s, b, in, out);
    if (g != GRAPH_OK)
        return ocr_fail(s, DOCRT_ERR_RUNTIME, "detector (bucket %dx%d): %s",
                        bh, bw, graph_stream_last_error(s->det_s));

    db_params dp = db_default_params();
    dp.thresh = p->det_thresh >= 0 ? p->det_thresh : d->thresh;
    dp.box_thresh = p->box_thresh >= 0 ? p->box_thresh : d->box_thresh;
    dp.unclip_ratio = p->unclip_ratio >= 0 ? p->unclip_ratio : d->unclip_ratio;
    dp.min_size = d->min_size;
    dp.max_candidates = d->max_candidates;
    docrt_status st = db_postprocess((const float *)out[0], bh, bw, rh, rw,
                                     (float)img->width / rw,
                                     (float)img->height / rh, img->width,
                                     img->height, &dp, boxes, n);
    if (st) return ocr_fail(s, st, "detection post-processing: %s",
                            docrt_status_str(st));
    return DOCRT_OK;
}
