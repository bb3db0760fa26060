/* raster.c - quarter turns and area/bilinear resampling into model inputs. */
#include "raster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

docrt_status raster_rotate(const docrt_image *src, int degrees,
                           docrt_image *dst)
{
    if (!src || !dst || !src->data || (degrees != 90 && degrees != 180 &&
                                       degrees != 270))
        return DOCRT_ERR_ARG;
    int W = src->width, H = src->height, c = src->channels;
    int dw = degrees == 180 ? W : H, dh = degrees == 180 ? H : W;
    uint8_t *d = malloc((size_t)dw * dh * c);
    if (!d) return DOCRT_ERR_NOMEM;
    for (int y = 0; y < dh; y++) {
        uint8_t *row = d + (size_t)y * dw * c;
        for (int x = 0; x < dw; x++) {
            int sx, sy;
            if (degrees == 90) { sx = y; sy = H - 1 - x; }
            else if (degrees == 180) { sx = W - 1 - x; sy = H - 1 - y; }
            else { sx = W - 1 - y; sy = x; }
            memcpy(row + (size_t)x * c, src->data + (size_t)sy * src->stride +
                   (size_t)sx * c, (size_t)c);
        }
    }
    *dst = *src;
    dst->data = d;
    dst->width = dw;
    dst->height = dh;
    dst->stride = (size_t)dw * c;
    if (degrees != 180) { dst->dpi_x = src->dpi_y; dst->dpi_y = src->dpi_x; }
    return DOCRT_OK;
}

size_t raster_resize_tmp_floats(int src_w, int src_h, int dst_w, int dst_h)
{
    (void)src_w;
    (void)src_h;
    (void)dst_h;
    /* the destination row being accumulated and one resampled source row */
    return (size_t)6 * (size_t)dst_w;
}

/* Source span [a, b) covered by destination index i when shrinking. */
static void span(int i, double s, int n, int *i0, int *i1, double *w0,
                 double *w1)
{
    double a = i * s, b = (i + 1) * s;
    if (b > n) b = n;
    *i0 = (int)a;
    *i1 = (int)ceil(b) - 1;
    if (*i1 < *i0) *i1 = *i0;
    *w0 = (*i0 + 1) - a; /* weight of the first source pixel */
    *w1 = b - *i1;       /* weight of the last */
    if (*i0 == *i1) *w0 = *w1 = b - a;
}

static void plane_values(const float px[3], const raster_norm *n, int bgr,
                         float out[3])
{
    for (int c = 0; c < 3; c++) {
        int src = bgr ? 2 - c : c;
        out[c] = (px[src] * n->scale - n->mean[c]) / n->std[c];
    }
}

void raster_resize_norm(const docrt_image *src, int dst_w, int dst_h,
                        const raster_norm *n, float *dst, int plane_w,
                        int plane_h, float *tmp)
{
    int W = src->width, H = src->height, ch = src->channels;
    size_t plane = (size_t)plane_w * plane_h;
    double sx = (double)W / dst_w, sy = (double)H / dst_h;
    /* acc: dst_w x 3 accumulated values of the current destination row;
     * hrow: one source row resampled horizontally to dst_w x 3. */
    float *acc = tmp, *hrow = tmp + (size_t)3 * dst_w;
    for (int y = 0; y < dst_h; y++) {
        int y0, y1;
        double wy0, wy1;
        double fy = 0;
        int bil = sy < 1.0;
        if (bil) {
            fy = (y + 0.5) * sy - 0.5;
            if (fy < 0) fy = 0;
            y0 = (int)fy;
            y1 = y0 + 1 < H ? y0 + 1 : y0;
            wy1 = fy - y0;
            wy0 = 1 - wy1;
        } else {
            span(y, sy, H, &y0, &y1, &wy0, &wy1);
        }
        memset(acc, 0, sizeof(float) * 3 * dst_w);
        double wsum = 0;
        for (int yy = y0; yy <= y1; yy++) {
            double wy = bil ? (yy == y0 ? wy0 : wy1)
                            : (yy == y0 ? wy0 : yy == y1 ? wy1 : 1.0);
            if (bil && y1 == y0 && yy == y0) wy = 1.0;
            if (wy <= 0) continue;
            const uint8_t *row = src->data + (size_t)yy * src->stride;
            for (int x = 0; x < dst_w; x++) {
                float v[3] = {0, 0, 0};
                if (sx < 1.0) {
                    double fx = (x + 0.5) * sx - 0.5;
                    if (fx < 0) fx = 0;
                    int x0 = (int)fx, x1 = x0 + 1 < W ? x0 + 1 : x0;
                    float t = (float)(fx - x0);
                    for (int c = 0; c < 3; c++) {
                        int cc = ch == 3 ? c : 0;
                        v[c] = row[x0 * ch + cc] * (1 - t) +
                               row[x1 * ch + cc] * t;
                    }
                } else {
                    int x0, x1;
                    double wx0, wx1, ws = 0;
                    span(x, sx, W, &x0, &x1, &wx0, &wx1);
                    double a[3] = {0, 0, 0};
                    for (int xx = x0; xx <= x1; xx++) {
                        double wx = xx == x0 ? wx0 : xx == x1 ? wx1 : 1.0;
                        const uint8_t *p = row + (size_t)xx * ch;
                        if (ch == 3) {
                            a[0] += wx * p[0]; a[1] += wx * p[1];
                            a[2] += wx * p[2];
                        } else {
                            a[0] += wx * p[0];
                        }
                        ws += wx;
                    }
                    if (ch != 3) a[1] = a[2] = a[0];
                    for (int c = 0; c < 3; c++) v[c] = (float)(a[c] / ws);
                }
                hrow[3 * x] = v[0]; hrow[3 * x + 1] = v[1];
                hrow[3 * x + 2] = v[2];
            }
            for (int i = 0; i < 3 * dst_w; i++) acc[i] += (float)wy * hrow[i];
            wsum += wy;
        }
        float inv = wsum > 0 ? (float)(1.0 / wsum) : 0.f;
        for (int x = 0; x < dst_w; x++) {
            float px[3] = {acc[3 * x] * inv, acc[3 * x + 1] * inv,
                           acc[3 * x + 2] * inv}, out[3];
            plane_values(px, n, n->bgr, out);
            for (int c = 0; c < 3; c++)
                dst[c * plane + (size_t)y * plane_w + x] = out[c];
        }
    }
}

void raster_pad_around(float *dst, int plane_w, int plane_h, int x0, int y0,
                       int w, int h, const float pad[3])
{
    size_t plane = (size_t)plane_w * plane_h;
    for (int c = 0; c < 3; c++) {
        float *p = dst + c * plane;
        for (int y = 0; y < plane_h; y++) {
            float *row = p + (size_t)y * plane_w;
            if (y >= y0 && y < y0 + h) {
                for (int x = 0; x < x0; x++) row[x] = pad[c];
                for (int x = x0 + w; x < plane_w; x++) row[x] = pad[c];
            } else {
                for (int x = 0; x < plane_w; x++) row[x] = pad[c];
            }
        }
    }
}

void raster_pad_planes(float *dst, int plane_w, int plane_h, int w, int h,
                       const float pad[3])
{
    raster_pad_around(dst, plane_w, plane_h, 0, 0, w, h, pad);
}

void raster_norm_u8(const uint8_t *src, int w, int h, int channels,
                    const raster_norm *n, float *dst, int plane_w,
                    int plane_h)
{
    size_t plane = (size_t)plane_w * plane_h;
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            lut[c][v] = (v * n->scale - n->mean[c]) / n->std[c];
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * w * channels;
        for (int c = 0; c < 3; c++) {
            int sc = channels == 3 ? (n->bgr ? 2 - c : c) : 0;
            float *d = dst + c * plane + (size_t)y * plane_w;
            for (int x = 0; x < w; x++) d[x] = lut[c][row[x * channels + sc]];
        }
    }
}
