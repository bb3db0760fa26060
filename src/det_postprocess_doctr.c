/* det_postprocess_doctr.c - DB post-processing as docTR's DBPostProcessor
 * does it for straight pages (assume_straight_pages=True), so that docTR
 * models give docTR's boxes:
 *
 *   bitmap = prob >= thresh, opened with a 3x3 square (erode, dilate;
 *   pixels outside the map never erode or dilate, as cv2.morphologyEx's
 *   default border); the outer contours of the bitmap (cv2.RETR_EXTERNAL:
 *   8-connected regions, except those inside a hole of another region);
 *   regions whose extent (max - min of the contour) is under
 *   1 + map_h / 512 in x or y are dropped; box = the bounding rectangle
 *   (x, y, w, h); score = mean probability over rows y..y+h and columns
 *   x..x+w, clipped to the map (inclusive: one pixel past the region);
 *   score < box_thresh drops it; unclip: the rectangle offset by
 *   d = w*h*unclip_ratio / (2*(w+h)) with round joins (pyclipper), whose
 *   integer bounding rectangle is [round(x-d), round(x+w+d)] (Clipper rounds
 *   half away from zero); too small again drops it; relative coordinates
 *   x0/W, y0/H, (x0+w')/W, (y0+h')/H clipped to [0, 1].
 *
 * tests/test_doctr_postprocess.c checks this against docTR's own code path
 * (OpenCV + pyclipper, tools/doctr/reference.py) on the same maps. */
#include "det_postprocess.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double clipper_round(double v) { return v < 0 ? (double)(int64_t)(v - 0.5) : (double)(int64_t)(v + 0.5); }

static float clamp01(double v) { return v < 0 ? 0.f : v > 1 ? 1.f : (float)v; }

docrt_status db_postprocess_doctr(const float *prob, int map_h, int map_w, const db_params *p,
                                  db_rel_box **out, int *n_out)
{
    if (!out || !n_out) return DOCRT_ERR_ARG;
    *out = NULL;
    *n_out = 0;
    db_params dp = p ? *p : db_default_params();
    if (!prob || map_h < 1 || map_w < 1 || !isfinite(dp.thresh) || !isfinite(dp.box_thresh) ||
        !isfinite(dp.unclip_ratio) || dp.unclip_ratio < 0 || dp.max_candidates < 0)
        return DOCRT_ERR_ARG;
    if ((int64_t)map_h * map_w > (1 << 30)) return DOCRT_ERR_LIMIT;
    const int H = map_h, W = map_w;
    const size_t N = (size_t)H * W;
    uint8_t *bm = malloc(N), *er = malloc(N);
    int32_t *lab = malloc(sizeof *lab * N);
    int32_t *stack = malloc(sizeof *stack * N);
    double *sat = malloc(sizeof *sat * (size_t)(H + 1) * (W + 1));
    db_rel_box *boxes = NULL;
    int n = 0, cap = 0;
    docrt_status st = DOCRT_OK;
    if (!bm || !er || !lab || !stack || !sat) { st = DOCRT_ERR_NOMEM; goto done; }

    for (size_t i = 0; i < N; i++) bm[i] = prob[i] >= dp.thresh; /* NaN: 0 */
    /* opening: erosion then dilation, 3x3, the border never counts */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t v = 1;
            for (int dy = -1; dy <= 1 && v; dy++)
                for (int dx = -1; dx <= 1 && v; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy >= 0 && yy < H && xx >= 0 && xx < W && !bm[(size_t)yy * W + xx]) v = 0;
                }
            er[(size_t)y * W + x] = v;
        }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t v = 0;
            for (int dy = -1; dy <= 1 && !v; dy++)
                for (int dx = -1; dx <= 1 && !v; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy >= 0 && yy < H && xx >= 0 && xx < W && er[(size_t)yy * W + xx]) v = 1;
                }
            bm[(size_t)y * W + x] = v;
        }

    /* background reachable from outside the map, 4-connected: label -1 */
    for (size_t i = 0; i < N; i++) lab[i] = 0;
    size_t sp = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            if (y && y != H - 1 && x && x != W - 1) continue;
            size_t i = (size_t)y * W + x;
            if (!bm[i] && !lab[i]) { lab[i] = -1; stack[sp++] = (int32_t)i; }
        }
    while (sp) {
        int32_t i = stack[--sp];
        int y = i / W, x = i % W;
        const int nb[4][2] = { { 0, -1 }, { 0, 1 }, { -1, 0 }, { 1, 0 } };
        for (int k = 0; k < 4; k++) {
            int yy = y + nb[k][0], xx = x + nb[k][1];
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            size_t j = (size_t)yy * W + xx;
            if (!bm[j] && !lab[j]) { lab[j] = -1; stack[sp++] = (int32_t)j; }
        }
    }

    /* summed-area table of the probabilities (non-finite as 0) */
    for (int x = 0; x <= W; x++) sat[x] = 0;
    for (int y = 0; y < H; y++) {
        double row = 0;
        sat[(size_t)(y + 1) * (W + 1)] = 0;
        for (int x = 0; x < W; x++) {
            float v = prob[(size_t)y * W + x];
            row += isfinite(v) ? v : 0.0;
            sat[(size_t)(y + 1) * (W + 1) + x + 1] = sat[(size_t)y * (W + 1) + x + 1] + row;
        }
    }

    const int min_box = 1 + H / 512;
    int label = 0;
    for (size_t start = 0; start < N; start++) {
        if (!bm[start] || lab[start]) continue;
        if (label == dp.max_candidates) break;
        label++;
        int x0 = W, x1 = -1, y0 = H, y1 = -1, external = 0;
        lab[start] = label;
        sp = 0;
        stack[sp++] = (int32_t)start;
        while (sp) {
            int32_t i = stack[--sp];
            int y = i / W, x = i % W;
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
            if (!y || y == H - 1 || !x || x == W - 1) external = 1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if ((!dy && !dx) || yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                    size_t j = (size_t)yy * W + xx;
                    if (bm[j]) {
                        if (!lab[j]) { lab[j] = label; stack[sp++] = (int32_t)j; }
                    } else if (lab[j] == -1 && (!dy || !dx)) {
                        external = 1;
                    }
                }
        }
        if (!external) continue; /* inside a hole of another region */
        if (x1 - x0 < min_box || y1 - y0 < min_box) continue;
        int bx = x0, by = y0, bw = x1 - x0 + 1, bh = y1 - y0 + 1;
        int sx0 = bx, sx1 = bx + bw < W - 1 ? bx + bw : W - 1;
        int sy0 = by, sy1 = by + bh < H - 1 ? by + bh : H - 1;
        double sum = sat[(size_t)(sy1 + 1) * (W + 1) + sx1 + 1] - sat[(size_t)sy0 * (W + 1) + sx1 + 1] -
                     sat[(size_t)(sy1 + 1) * (W + 1) + sx0] + sat[(size_t)sy0 * (W + 1) + sx0];
        double score = sum / ((double)(sx1 - sx0 + 1) * (sy1 - sy0 + 1));
        if (score < dp.box_thresh) continue;
        double d = (double)bw * bh * dp.unclip_ratio / (2.0 * (bw + bh));
        double ux0 = clipper_round(bx - d), ux1 = clipper_round(bx + bw + d);
        double uy0 = clipper_round(by - d), uy1 = clipper_round(by + bh + d);
        double uw = ux1 - ux0 + 1, uh = uy1 - uy0 + 1;
        if (uw < min_box || uh < min_box) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            db_rel_box *nb = realloc(boxes, sizeof *nb * (size_t)cap);
            if (!nb) { st = DOCRT_ERR_NOMEM; goto done; }
            boxes = nb;
        }
        db_rel_box *b = &boxes[n++];
        b->x0 = clamp01(ux0 / W);
        b->y0 = clamp01(uy0 / H);
        b->x1 = clamp01((ux0 + uw) / W);
        b->y1 = clamp01((uy0 + uh) / H);
        b->score = (float)score;
    }
done:
    free(bm);
    free(er);
    free(lab);
    free(stack);
    free(sat);
    if (st) {
        free(boxes);
        return st;
    }
    if (!n) {
        free(boxes);
        boxes = NULL;
    }
    *out = boxes;
    *n_out = n;
    return DOCRT_OK;
}
