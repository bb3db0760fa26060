/* raster.h - pixel operations the pipeline needs on docrt_image: turning a
 * page by quarter turns, and resampling into a normalised model input. */
#ifndef DOCRT_RASTER_H
#define DOCRT_RASTER_H

#include "docrt.h"

/* Clockwise turn by 90, 180 or 270 degrees into a new image (dst owned,
 * docrt_image_free). */
docrt_status raster_rotate(const docrt_image *src, int degrees,
                           docrt_image *dst);

/* How a model wants its input: value = (pixel * scale - mean[c]) / std[c],
 * planes in BGR order when bgr. */
typedef struct {
    float scale, mean[3], std[3];
    int bgr;
} raster_norm;

/* Resamples src (any size) to dst_w x dst_h and writes the three normalised
 * planes (NCHW, plane stride plane_w * plane_h, row stride plane_w) into the
 * top-left corner of dst. Shrinking averages the covered area (thin strokes
 * of bilevel scans survive); enlarging is bilinear. tmp: caller scratch
 * of raster_resize_tmp_floats() floats, so nothing is allocated per page. */
size_t raster_resize_tmp_floats(int src_w, int src_h, int dst_w, int dst_h);
void raster_resize_norm(const docrt_image *src, int dst_w, int dst_h,
                        const raster_norm *n, float *dst, int plane_w,
                        int plane_h, float *tmp);

/* Fills the three planes of a plane_w x plane_h NCHW tensor outside the
 * w x h rectangle at (x0, y0) with per-plane values pad[3]. A page centred
 * in its bucket (docTR's symmetric padding) is resized straight into
 * dst + y0 * plane_w + x0 (same plane_w and plane_h), then padded here. */
void raster_pad_around(float *dst, int plane_w, int plane_h, int x0, int y0,
                       int w, int h, const float pad[3]);

/* raster_pad_around with the rectangle in the top-left corner. */
void raster_pad_planes(float *dst, int plane_w, int plane_h, int w, int h,
                       const float pad[3]);

/* Normalises an interleaved 8-bit raster (channels 1 or 3, row stride
 * w*channels) of w x h into the top-left corner of NCHW planes. */
void raster_norm_u8(const uint8_t *src, int w, int h, int channels,
                    const raster_norm *n, float *dst, int plane_w,
                    int plane_h);

#endif
