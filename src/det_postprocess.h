/* det_postprocess.h - DB (differentiable binarisation) post-processing:
 * probability map -> text quads in page pixels.
 *
 * Steps, as PaddleOCR's DBPostProcess (score_mode "fast", box_type "quad"):
 * threshold the map, 8-connected regions, minimum-area rotated rectangle of
 * each region, box score = mean probability inside the rectangle, unclip
 * (offset the rectangle outwards by area*ratio/perimeter, as DBNet and
 * PaddleOCR do), size and score filters, map to page pixels.
 *
 * Differences from PaddleOCR, on purpose: regions are 8-connected
 * components, not cv2 contours, so a region with a hole gives one box, not
 * a second one for the hole; page coordinates keep their fraction (no
 * rounding) and are shifted half a map pixel (see db_postprocess). */
#ifndef DOCRT_DET_POSTPROCESS_H
#define DOCRT_DET_POSTPROCESS_H

#include "docrt.h"

typedef struct {
    float thresh;       /* binarisation: p > thresh is text (0.3) */
    float box_thresh;   /* minimum mean probability of a box (0.6) */
    float unclip_ratio; /* 1.5 */
    /* Minimum short side in map pixels, measured between pixel centres as
     * cv2 does (a region 3 pixels tall measures 2), before unclip; after
     * unclip the short side must reach min_size + 2. (3) */
    float min_size;
    /* At most this many regions are considered; when there are more, the
     * largest (by pixel count) are kept. 0 gives no boxes. (1000) */
    int max_candidates;
} db_params;

db_params db_default_params(void);

typedef struct {
    /* Page pixels, clockwise from the top-left corner as geo_min_area_rect
     * orders them (decided on the unclipped box, before clamping). */
    docrt_quad quad;
    float score;     /* mean map probability inside the box, before unclip */
} db_box;

/* prob: map of map_h x map_w floats, row-major. Only the top-left
 * valid_h x valid_w part holds the page (the rest is bucket padding and is
 * never read). Non-finite values count as 0.
 * A map pixel (x, y) covers page pixels (x*sx .. (x+1)*sx, y*sy ..
 * (y+1)*sy). Rectangles are fitted to pixel centres (pixel indices, as
 * cv2.findContours gives them), so a map point (x, y) goes to page point
 * ((x + 0.5) * sx, (y + 0.5) * sy); corners are then clamped to
 * [0, page_w] x [0, page_h]. A region over map columns a..b thus ends up
 * at about ((a + 0.5 - d) * sx .. (b + 0.5 + d) * sx), d the unclip offset.
 * p may be NULL for db_default_params().
 * *out is malloc'ed (free(); NULL when *n_out is 0), *n_out boxes, in
 * scan order of their regions' first pixels. Working memory is allocated
 * per call (a few buffers, none per region) and freed before returning.
 * Errors: DOCRT_ERR_ARG (NULL pointers, negative or inconsistent sizes,
 * scales not finite and > 0, non-finite parameters, unclip_ratio < 0,
 * max_candidates < 0), DOCRT_ERR_LIMIT (valid area over 2^30 pixels),
 * DOCRT_ERR_NOMEM. On error *out is NULL and *n_out 0. */
docrt_status db_postprocess(const float *prob, int map_h, int map_w,
                            int valid_h, int valid_w, float sx, float sy,
                            int page_w, int page_h, const db_params *p,
                            db_box **out, int *n_out);

/* A box as docTR gives it: relative to the map, [0, 1]. */
typedef struct {
    float x0, y0, x1, y1;
    float score;     /* mean probability over the box before unclip */
} db_rel_box;

/* docTR's DBPostProcessor for straight pages (see det_postprocess_doctr.c
 * for the steps). prob: map_h x map_w probabilities (after the sigmoid),
 * the whole detector output including any padding, as docTR reads it.
 * Uses thresh, box_thresh, unclip_ratio and max_candidates of p (NULL:
 * defaults); the minimum size is docTR's 1 + map_h / 512. *out is
 * malloc'ed (NULL when *n_out is 0), in scan order of the regions' first
 * pixels. Errors: DOCRT_ERR_ARG, DOCRT_ERR_LIMIT (over 2^30 pixels),
 * DOCRT_ERR_NOMEM; on error *out is NULL and *n_out 0. */
docrt_status db_postprocess_doctr(const float *prob, int map_h, int map_w, const db_params *p,
                                  db_rel_box **out, int *n_out);

#endif
