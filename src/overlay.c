/* overlay.c - a page's geometry drawn over the page, written as PNG: line
 * quads in green, word boxes in thin blue, and the reading order in red (a
 * number at each line's start, 1-based across the page, and a path through
 * the line centres). Coordinates come from the OCR result and are not
 * trusted: anything off the page is clipped, non-finite values skipped.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <png.h>

#include "docrt.h"

typedef struct {
    uint8_t *px;
    int w, h;
    size_t stride;
} canvas;

static const uint8_t GREEN[3] = { 0, 200, 0 };
static const uint8_t BLUE[3] = { 0, 90, 255 };
static const uint8_t RED[3] = { 230, 0, 0 };
static const uint8_t WHITE[3] = { 255, 255, 255 };

static void fill(canvas *c, int x0, int y0, int x1, int y1,
                 const uint8_t rgb[3])
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            memcpy(c->px + (size_t)y * c->stride + (size_t)x * 3, rgb, 3);
}

/* Liang-Barsky: clips the segment to [lo, hi] on both axes; 0 if none. */
static int clip(double *x0, double *y0, double *x1, double *y1, double lox,
                double loy, double hix, double hiy)
{
    double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
    double p[4] = { -dx, dx, -dy, dy };
    double q[4] = { *x0 - lox, hix - *x0, *y0 - loy, hiy - *y0 };
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1) return 0;
            if (t > t0) t0 = t;
        } else {
            if (t < t0) return 0;
            if (t < t1) t1 = t;
        }
    }
    double ax = *x0 + t0 * dx, ay = *y0 + t0 * dy;
    *x1 = *x0 + t1 * dx;
    *y1 = *y0 + t1 * dy;
    *x0 = ax;
    *y0 = ay;
    return 1;
}

/* A line `thick` pixels wide (a square brush stepped along Bresenham). */
static void line(canvas *c, float fx0, float fy0, float fx1, float fy1,
                 int thick, const uint8_t rgb[3])
{
    if (!isfinite(fx0) || !isfinite(fy0) || !isfinite(fx1) || !isfinite(fy1))
        return;
    double x0 = fx0, y0 = fy0, x1 = fx1, y1 = fy1;
    if (!clip(&x0, &y0, &x1, &y1, -thick, -thick, c->w + thick,
              c->h + thick))
        return;
    int ax = (int)lround(x0), ay = (int)lround(y0);
    int bx = (int)lround(x1), by = (int)lround(y1);
    int dx = abs(bx - ax), dy = -abs(by - ay);
    int sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1, e = dx + dy;
    int lo = (thick - 1) / 2, hi = thick / 2;
    for (;;) {
        fill(c, ax - lo, ay - lo, ax + hi + 1, ay + hi + 1, rgb);
        if (ax == bx && ay == by)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; ax += sx; }
        if (e2 <= dx) { e += dx; ay += sy; }
    }
}

static void quad(canvas *c, const docrt_quad *q, int thick,
                 const uint8_t rgb[3])
{
    for (int i = 0; i < 4; i++)
        line(c, q->x[i], q->y[i], q->x[(i + 1) % 4], q->y[(i + 1) % 4], thick,
             rgb);
}

/* 3 x 5 digits, one row per 3 bits, top row first */
static const uint16_t FONT[10] = {
    075557, 026227, 071747, 071717, 055711,
    074717, 074757, 071111, 075757, 075717,
};

/* n at (x, y) (its top-left corner), each font pixel s x s, on white */
static void number(canvas *c, float fx, float fy, int n, int s)
{
    if (!isfinite(fx) || !isfinite(fy) || fx < -1e6f || fx > 1e6f ||
        fy < -1e6f || fy > 1e6f)
        return;
    char digits[16];
    int nd = snprintf(digits, sizeof digits, "%d", n);
    int x = (int)fx, y = (int)fy;
    fill(c, x - s, y - s, x + nd * 4 * s, y + 6 * s, WHITE);
    for (int i = 0; i < nd; i++) {
        uint16_t g = FONT[digits[i] - '0'];
        for (int r = 0; r < 5; r++)
            for (int k = 0; k < 3; k++)
                if (g >> (3 * (4 - r) + (2 - k)) & 1) {
                    int px = x + (i * 4 + k) * s, py = y + r * s;
                    fill(c, px, py, px + s, py + s, RED);
                }
    }
}

static void draw(canvas *c, const docrt_page *page)
{
    int side = c->w < c->h ? c->w : c->h;
    int thick = side >= 1500 ? 3 : 2, thin = side >= 3000 ? 2 : 1;
    int s = side / 500 > 1 ? side / 500 : 1;
    for (int b = 0; b < page->n_blocks; b++)
        for (int l = 0; l < page->blocks[b].n_lines; l++) {
            const docrt_line *ln = &page->blocks[b].lines[l];
            for (int w = 0; w < ln->n_words; w++) {
                const docrt_box *bx = &ln->words[w].box;
                docrt_quad q = { { bx->x0, bx->x1, bx->x1, bx->x0 },
                                 { bx->y0, bx->y0, bx->y1, bx->y1 } };
                quad(c, &q, thin, BLUE);
            }
            quad(c, &ln->quad, thick, GREEN);
        }
    float px = 0, py = 0;
    int have = 0;
    for (int b = 0; b < page->n_blocks; b++)
        for (int l = 0; l < page->blocks[b].n_lines; l++) {
            const docrt_quad *q = &page->blocks[b].lines[l].quad;
            float cx = (q->x[0] + q->x[1] + q->x[2] + q->x[3]) / 4;
            float cy = (q->y[0] + q->y[1] + q->y[2] + q->y[3]) / 4;
            if (have)
                line(c, px, py, cx, cy, thin, RED);
            px = cx;
            py = cy;
            have = 1;
        }
    int idx = 0;
    for (int b = 0; b < page->n_blocks; b++)
        for (int l = 0; l < page->blocks[b].n_lines; l++) {
            const docrt_quad *q = &page->blocks[b].lines[l].quad;
            number(c, q->x[0] + (float)s, q->y[0] + (float)s, ++idx, s);
        }
}

static const char *errstr(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
}

typedef struct {
    jmp_buf jmp;
    char msg[200];
} png_err;

static void on_error(png_structp png, png_const_charp msg)
{
    png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jmp, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg;
}

/* setjmp lives here; all state it may need after a longjmp is the
 * caller's. */
static int write_png(png_structp png, png_infop info, png_err *e, FILE *f,
                     const canvas *c, const docrt_image *img)
{
    if (setjmp(e->jmp))
        return 0;
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (img->dpi_x > 0 && img->dpi_y > 0 && img->dpi_x < 1e5f &&
        img->dpi_y < 1e5f)
        png_set_pHYs(png, info, (png_uint_32)lroundf(img->dpi_x / 0.0254f),
                     (png_uint_32)lroundf(img->dpi_y / 0.0254f),
                     PNG_RESOLUTION_METER);
    png_set_compression_level(png, 1); /* a debugging aid: fast over small */
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++)
        png_write_row(png, c->px + (size_t)y * c->stride);
    png_write_end(png, info);
    return 1;
}

docrt_status docrt_overlay_write_png(const docrt_image *img,
                                     const docrt_page *page, const char *path,
                                     char *err, size_t errlen)
{
    const char *name = path ? path : "(null)";
    if (err && errlen)
        err[0] = '\0';
    if (!img || !img->data || !path || img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3) ||
        img->stride < (size_t)img->width * (size_t)img->channels) {
        if (err && errlen)
            snprintf(err, errlen, "%s: no image, or an invalid one", name);
        return DOCRT_ERR_ARG;
    }
    canvas c = { NULL, img->width, img->height, (size_t)img->width * 3 };
    c.px = malloc(c.stride * (size_t)c.h);
    if (!c.px) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory for the overlay", name);
        return DOCRT_ERR_NOMEM;
    }
    for (int y = 0; y < c.h; y++) {
        const uint8_t *s = img->data + (size_t)y * img->stride;
        uint8_t *d = c.px + (size_t)y * c.stride;
        if (img->channels == 3)
            memcpy(d, s, c.stride);
        else
            for (int x = 0; x < c.w; x++, d += 3)
                d[0] = d[1] = d[2] = s[x];
    }
    if (page)
        draw(&c, page);

    docrt_status st = DOCRT_OK;
    char eb[128];
    FILE *f = fopen(path, "wb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open for writing: %s", name,
                     errstr(errno, eb, sizeof eb));
        free(c.px);
        return DOCRT_ERR_IO;
    }
    png_err e;
    e.msg[0] = '\0';
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e,
                                              on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        st = DOCRT_ERR_NOMEM;
        snprintf(e.msg, sizeof e.msg, "out of memory");
    } else if (!write_png(png, info, &e, f, &c, img)) {
        st = DOCRT_ERR_IO;
    }
    png_destroy_write_struct(&png, &info);
    free(c.px);
    if (fclose(f) != 0 && !st) {
        st = DOCRT_ERR_IO;
        snprintf(e.msg, sizeof e.msg, "%s", errstr(errno, eb, sizeof eb));
    }
    if (st) {
        unlink(path);
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot write the PNG: %s", name,
                     e.msg);
    }
    return st;
}
