/* geometry.h - planar geometry for text boxes: convex hull, minimum-area
 * rectangle, rectangle unclip, and the perspective warp that cuts a text
 * line out of a page.
 *
 * Coordinates are continuous: pixel (x, y) of a raster covers the square
 * [x, x+1) x [y, y+1), so its centre is (x + 0.5, y + 0.5). The detector
 * post-processing (det_postprocess.c) feeds pixel indices (cv2's convention
 * for contours) to the hull and rectangle functions and shifts by half a
 * pixel itself. */
#ifndef DOCRT_GEOMETRY_H
#define DOCRT_GEOMETRY_H

#include "docrt.h"

typedef struct { float x, y; } geo_pt;

/* Convex hull of n points (Andrew's monotone chain). Sorts pts in place
 * and writes the hull vertices to hull, which needs room for 2*n points:
 * clockwise on screen (y down; the same turn as the quads' corners), no
 * three collinear, no duplicates. Returns their number k: 0 for n <= 0, 1
 * when all points are equal, 2 when they are collinear. Coordinates must be
 * finite. */
int geo_convex_hull(geo_pt *pts, int n, geo_pt *hull);

/* Minimum-area enclosing rectangle of n points (rotating calipers on the
 * convex hull, like cv2.minAreaRect). Corners are ordered clockwise on
 * screen (y down) starting at the top-left one, as PaddleOCR's
 * get_mini_boxes orders them: of the two corners with the smallest x (ties:
 * smaller y first), the one with the smaller y. *w is the length of the
 * first edge (corner 0 -> 1), *h of the second (1 -> 2); either pointer may
 * be NULL. One point gives four equal corners and w = h = 0; collinear
 * points give a rectangle of zero height or width.
 * Errors: DOCRT_ERR_ARG (n <= 0, NULL, non-finite coordinates),
 * DOCRT_ERR_NOMEM (it copies the points to build the hull). */
docrt_status geo_min_area_rect(const geo_pt *pts, int n, docrt_quad *out,
                               float *w, float *h);

/* Same, for points that already form a convex hull as geo_convex_hull
 * returns it (k >= 1). Allocates nothing. */
void geo_min_area_rect_hull(const geo_pt *hull, int k, docrt_quad *out,
                            float *w, float *h);

/* Offsets a rectangle (corners in the order geo_min_area_rect gives)
 * outwards by d = area * ratio / perimeter on every side: what Clipper's
 * round-join offset of the rectangle gives, minus the rounded corners,
 * which the min-area rectangle of the offset polygon drops anyway (that is
 * DBNet's and PaddleOCR's unclip). A rectangle of zero area is returned
 * unchanged. */
docrt_quad geo_unclip_rect(const docrt_quad *q, float ratio);

float geo_quad_width(const docrt_quad *q);  /* mean of top and bottom edges */
float geo_quad_height(const docrt_quad *q); /* mean of left and right edges */
docrt_box geo_quad_bbox(const docrt_quad *q);

/* Cuts the quad out of img with a perspective-correct bilinear warp into a
 * dst_w x dst_h raster with img->channels channels (1 or 3; dst is dst_h
 * rows of dst_w*channels bytes, no padding). The homography maps corner 0
 * to (0,0), 1 to (dst_w,0), 2 to (dst_w,dst_h), 3 to (0,dst_h); dst pixel
 * (i, j) takes the image value at the point its centre (i+0.5, j+0.5) maps
 * to, so an axis-aligned quad gives exactly a bilinear resize with
 * half-pixel centres (cv2.resize INTER_LINEAR). Points outside the image
 * replicate the border. A degenerate quad (three corners collinear) gives
 * some border-replicated raster, never an out-of-bounds read.
 * Errors: DOCRT_ERR_ARG (NULL, bad sizes or channels, non-finite corners). */
docrt_status geo_warp_quad(const docrt_image *img, const docrt_quad *q,
                           uint8_t *dst, int dst_w, int dst_h);

/* The page point at fraction (u, v) of the quad (bilinear on its corners:
 * (0,0) is corner 0, (1,0) corner 1, (1,1) corner 2, (0,1) corner 3). */
geo_pt geo_quad_point(const docrt_quad *q, float u, float v);

#endif
