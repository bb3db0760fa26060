/* test_geometry.c - convex hull, minimum-area rectangle, unclip, quad
 * measures and the perspective warp, against answers worked out by hand or
 * by an independent (slow, double precision) computation in this file. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geometry.h"

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static double frand(uint32_t *s) /* [0, 1) */
{
    return (double)lcg(s) / (double)(1u << 24);
}

static double shoelace(const docrt_quad *q)
{
    double a = 0;
    for (int i = 0; i < 4; i++) {
        int j = (i + 1) & 3;
        a += (double)q->x[i] * q->y[j] - (double)q->x[j] * q->y[i];
    }
    return a / 2;
}

/* Corner 0 is PaddleOCR's top-left: of the two corners first in (x, y)
 * order, the one with the smaller y; the turn is clockwise on screen. */
static void assert_order(const docrt_quad *q)
{
    ck_assert(shoelace(q) >= -1e-6);
    int idx[4] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (q->x[idx[j]] < q->x[idx[i]] ||
                (q->x[idx[j]] == q->x[idx[i]] && q->y[idx[j]] < q->y[idx[i]])) {
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
    ck_assert(idx[0] == 0 || idx[1] == 0);
    ck_assert_float_le(q->y[0], fmaxf(q->y[idx[0]], q->y[idx[1]]));
    ck_assert_float_le(q->y[0], fminf(q->y[idx[0]], q->y[idx[1]]) + 1e-4f);
}

/* p inside the rectangle q, to within tol. */
static int inside(const docrt_quad *q, double px, double py, double tol)
{
    for (int i = 0; i < 4; i++) {
        int j = (i + 1) & 3;
        double ex = (double)q->x[j] - q->x[i], ey = (double)q->y[j] - q->y[i];
        double len = sqrt(ex * ex + ey * ey);
        if (len == 0)
            continue;
        double c = (ex * (py - q->y[i]) - ey * (px - q->x[i])) / len;
        if (c < -tol)
            return 0;
    }
    return 1;
}

START_TEST(hull_basic)
{
    geo_pt pts[] = {{0, 0}, {4, 0}, {4, 3}, {0, 3}, {2, 1}, {1, 2},
                    {4, 0}, {2, 0}, {0, 1.5f}};
    int n = (int)(sizeof pts / sizeof pts[0]);
    geo_pt hull[2 * 9];
    int k = geo_convex_hull(pts, n, hull);
    ck_assert_int_eq(k, 4); /* collinear (2,0) and (0,1.5) dropped */
    double a = 0;
    for (int i = 0; i < k; i++) {
        geo_pt p = hull[i], q = hull[(i + 1) % k];
        a += (double)p.x * q.y - (double)q.x * p.y;
    }
    ck_assert_double_eq_tol(a / 2, 12.0, 1e-9); /* clockwise on screen */

    geo_pt one[] = {{5, 5}, {5, 5}, {5, 5}};
    ck_assert_int_eq(geo_convex_hull(one, 3, hull), 1);
    ck_assert(hull[0].x == 5 && hull[0].y == 5);
    geo_pt line[] = {{3, 6}, {0, 0}, {1, 2}, {2, 4}};
    ck_assert_int_eq(geo_convex_hull(line, 4, hull), 2);
    ck_assert_int_eq(geo_convex_hull(line, 0, hull), 0);
}
END_TEST

START_TEST(mar_axis_aligned)
{
    geo_pt pts[64];
    int n = 0;
    pts[n++] = (geo_pt){12, 8};
    pts[n++] = (geo_pt){2, 3};
    pts[n++] = (geo_pt){12, 3};
    pts[n++] = (geo_pt){2, 8};
    for (int y = 4; y < 8; y++)
        for (int x = 3; x < 12; x += 2)
            pts[n++] = (geo_pt){(float)x, (float)y};
    docrt_quad q;
    float w, h;
    ck_assert_int_eq(geo_min_area_rect(pts, n, &q, &w, &h), DOCRT_OK);
    const float ex[4] = {2, 12, 12, 2}, ey[4] = {3, 3, 8, 8};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq_tol(q.x[i], ex[i], 1e-5f);
        ck_assert_float_eq_tol(q.y[i], ey[i], 1e-5f);
    }
    ck_assert_float_eq_tol(w, 10, 1e-5f);
    ck_assert_float_eq_tol(h, 5, 1e-5f);
    /* w and h may be NULL */
    ck_assert_int_eq(geo_min_area_rect(pts, n, &q, NULL, NULL), DOCRT_OK);
}
END_TEST

/* A 20 x 6 rectangle turned 30 degrees about (50, 40), sampled on its
 * sides and inside: the rectangle must come back. */
START_TEST(mar_rotated)
{
    const double a = 30 * M_PI / 180, c = cos(a), s = sin(a);
    const double W = 20, H = 6, cx = 50, cy = 40;
    geo_pt pts[400];
    int n = 0;
    for (int i = 0; i <= 20; i++)
        for (int j = 0; j <= 6; j++) {
            if (i != 0 && i != 20 && j != 0 && j != 6 && (i + j) % 3)
                continue;
            double u = i - W / 2, v = j - H / 2;
            pts[n++] = (geo_pt){(float)(cx + u * c - v * s),
                                (float)(cy + u * s + v * c)};
        }
    docrt_quad q;
    float w, h;
    ck_assert_int_eq(geo_min_area_rect(pts, n, &q, &w, &h), DOCRT_OK);
    ck_assert_float_eq_tol(w * h, 120, 1e-2f);
    ck_assert_float_eq_tol(fmaxf(w, h), 20, 1e-3f);
    ck_assert_float_eq_tol(fminf(w, h), 6, 1e-3f);
    /* The corner of the turned rectangle with the smallest x is its
     * bottom-left (u, v) = (-10, +3); the next one in x is the top-left
     * (-10, -3), which is higher: it starts, and the first edge runs
     * along the long side at +30 degrees. */
    double tlx = cx - 10 * c + 3 * s, tly = cy - 10 * s - 3 * c;
    ck_assert_float_eq_tol(q.x[0], tlx, 1e-3);
    ck_assert_float_eq_tol(q.y[0], tly, 1e-3);
    ck_assert_float_eq_tol(w, 20, 1e-3f);
    double ang = atan2(q.y[1] - q.y[0], q.x[1] - q.x[0]) * 180 / M_PI;
    ck_assert_double_eq_tol(ang, 30, 1e-3);
    assert_order(&q);
    for (int i = 0; i < n; i++)
        ck_assert(inside(&q, pts[i].x, pts[i].y, 1e-3));
}
END_TEST

/* Random point sets: the area equals the brute-force minimum over every
 * direction two points define (a hull edge is one of them), every point
 * is inside, the corners are in order. */
START_TEST(mar_random_vs_bruteforce)
{
    uint32_t seed = 12345;
    geo_pt pts[48];
    for (int it = 0; it < 300; it++) {
        int n = 3 + (int)(lcg(&seed) % 40);
        double ang = frand(&seed) * M_PI, c = cos(ang), s = sin(ang);
        double sw = 1 + frand(&seed) * 200, sh = 1 + frand(&seed) * 30;
        for (int i = 0; i < n; i++) {
            double u = (frand(&seed) - 0.5) * sw, v = (frand(&seed) - 0.5) * sh;
            pts[i] = (geo_pt){(float)(500 + u * c - v * s),
                              (float)(300 + u * s + v * c)};
        }
        double best = INFINITY;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double ex = (double)pts[j].x - pts[i].x;
                double ey = (double)pts[j].y - pts[i].y;
                double len = sqrt(ex * ex + ey * ey);
                if (i == j || len == 0)
                    continue;
                ex /= len;
                ey /= len;
                double u0 = INFINITY, u1 = -INFINITY, v0 = INFINITY,
                       v1 = -INFINITY;
                for (int k = 0; k < n; k++) {
                    double u = pts[k].x * ex + pts[k].y * ey;
                    double v = -pts[k].x * ey + pts[k].y * ex;
                    u0 = fmin(u0, u);
                    u1 = fmax(u1, u);
                    v0 = fmin(v0, v);
                    v1 = fmax(v1, v);
                }
                best = fmin(best, (u1 - u0) * (v1 - v0));
            }
        docrt_quad q;
        float w, h;
        ck_assert_int_eq(geo_min_area_rect(pts, n, &q, &w, &h), DOCRT_OK);
        ck_assert_double_eq_tol((double)w * h, best, 1e-3 * best + 1e-3);
        assert_order(&q);
        for (int i = 0; i < n; i++)
            ck_assert(inside(&q, pts[i].x, pts[i].y, 2e-3));
    }
}
END_TEST

START_TEST(mar_degenerate)
{
    docrt_quad q;
    float w = -1, h = -1;
    geo_pt one = {7.5f, -2};
    ck_assert_int_eq(geo_min_area_rect(&one, 1, &q, &w, &h), DOCRT_OK);
    for (int i = 0; i < 4; i++)
        ck_assert(q.x[i] == 7.5f && q.y[i] == -2);
    ck_assert(w == 0 && h == 0);

    geo_pt same[3] = {{1, 1}, {1, 1}, {1, 1}};
    ck_assert_int_eq(geo_min_area_rect(same, 3, &q, &w, &h), DOCRT_OK);
    ck_assert(w == 0 && h == 0);

    geo_pt line[4] = {{0, 0}, {1, 2}, {3, 6}, {2, 4}};
    ck_assert_int_eq(geo_min_area_rect(line, 4, &q, &w, &h), DOCRT_OK);
    ck_assert_float_eq_tol(fminf(w, h), 0, 1e-5f);
    ck_assert_float_eq_tol(fmaxf(w, h), sqrtf(45), 1e-4f);

    geo_pt hline[3] = {{5, 2}, {0, 2}, {9, 2}};
    ck_assert_int_eq(geo_min_area_rect(hline, 3, &q, &w, &h), DOCRT_OK);
    ck_assert(w == 9 && h == 0);
    ck_assert(q.x[0] == 0 && q.y[0] == 2 && q.x[1] == 9);

    geo_pt vline[3] = {{4, 7}, {4, 1}, {4, 3}};
    ck_assert_int_eq(geo_min_area_rect(vline, 3, &q, &w, &h), DOCRT_OK);
    ck_assert_float_eq_tol(fminf(w, h), 0, 1e-6f);
    ck_assert_float_eq_tol(fmaxf(w, h), 6, 1e-6f);

    ck_assert_int_eq(geo_min_area_rect(line, 0, &q, &w, &h), DOCRT_ERR_ARG);
    ck_assert_int_eq(geo_min_area_rect(NULL, 3, &q, &w, &h), DOCRT_ERR_ARG);
    ck_assert_int_eq(geo_min_area_rect(line, 4, NULL, &w, &h), DOCRT_ERR_ARG);
    geo_pt bad[2] = {{0, 0}, {NAN, 1}};
    ck_assert_int_eq(geo_min_area_rect(bad, 2, &q, &w, &h), DOCRT_ERR_ARG);
    bad[1].x = INFINITY;
    ck_assert_int_eq(geo_min_area_rect(bad, 2, &q, &w, &h), DOCRT_ERR_ARG);
}
END_TEST

START_TEST(corner_order)
{
    for (int deg = -89; deg <= 89; deg += 4) {
        double a = deg * M_PI / 180, c = cos(a), s = sin(a);
        geo_pt p[4];
        const double u[4] = {-20, 20, 20, -20}, v[4] = {-5, -5, 5, 5};
        for (int i = 0; i < 4; i++)
            p[i] = (geo_pt){(float)(100 + u[i] * c - v[i] * s),
                            (float)(100 + u[i] * s + v[i] * c)};
        docrt_quad q;
        float w, h;
        ck_assert_int_eq(geo_min_area_rect(p, 4, &q, &w, &h), DOCRT_OK);
        assert_order(&q);
        float e01 = hypotf(q.x[1] - q.x[0], q.y[1] - q.y[0]);
        float e12 = hypotf(q.x[2] - q.x[1], q.y[2] - q.y[1]);
        ck_assert_float_eq_tol(w, e01, 1e-4f);
        ck_assert_float_eq_tol(h, e12, 1e-4f);
        ck_assert_float_eq_tol(w * h, 400, 0.05f);
        /* Up to 45 degrees either way the long side comes first. */
        if (abs(deg) < 45)
            ck_assert_float_eq_tol(w, 40, 1e-3f);
    }
    /* Axis-aligned: corner 0 is also the corner with the smallest x + y. */
    geo_pt r[4] = {{30, 5}, {10, 5}, {10, 9}, {30, 9}};
    docrt_quad q;
    ck_assert_int_eq(geo_min_area_rect(r, 4, &q, NULL, NULL), DOCRT_OK);
    ck_assert(q.x[0] == 10 && q.y[0] == 5 && q.x[1] == 30 && q.y[1] == 5);
    ck_assert(q.x[2] == 30 && q.y[2] == 9 && q.x[3] == 10 && q.y[3] == 9);
}
END_TEST

START_TEST(unclip_exact)
{
    /* 100 x 20: d = 2000 * 1.5 / 240 = 12.5 on every side */
    docrt_quad q = {{10, 110, 110, 10}, {10, 10, 30, 30}};
    docrt_quad u = geo_unclip_rect(&q, 1.5f);
    const float ex[4] = {-2.5f, 122.5f, 122.5f, -2.5f};
    const float ey[4] = {-2.5f, -2.5f, 42.5f, 42.5f};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq_tol(u.x[i], ex[i], 1e-4f);
        ck_assert_float_eq_tol(u.y[i], ey[i], 1e-4f);
    }
    /* The same rectangle turned 20 degrees: sides 125 x 45, same centre. */
    double a = 20 * M_PI / 180, c = cos(a), s = sin(a);
    const double uu[4] = {-50, 50, 50, -50}, vv[4] = {-10, -10, 10, 10};
    docrt_quad r;
    for (int i = 0; i < 4; i++) {
        r.x[i] = (float)(200 + uu[i] * c - vv[i] * s);
        r.y[i] = (float)(100 + uu[i] * s + vv[i] * c);
    }
    u = geo_unclip_rect(&r, 1.5f);
    float uw = hypotf(u.x[1] - u.x[0], u.y[1] - u.y[0]);
    float uh = hypotf(u.x[3] - u.x[0], u.y[3] - u.y[0]);
    ck_assert_float_eq_tol(uw, 125, 1e-3f);
    ck_assert_float_eq_tol(uh, 45, 1e-3f);
    ck_assert_float_eq_tol((u.x[0] + u.x[2]) / 2, 200, 1e-3f);
    ck_assert_float_eq_tol((u.y[0] + u.y[2]) / 2, 100, 1e-3f);
    /* zero area or ratio: unchanged */
    docrt_quad z = {{1, 5, 5, 1}, {2, 2, 2, 2}};
    u = geo_unclip_rect(&z, 1.5f);
    ck_assert(memcmp(&u, &z, sizeof u) == 0);
    u = geo_unclip_rect(&q, 0);
    for (int i = 0; i < 4; i++)
        ck_assert(u.x[i] == q.x[i] && u.y[i] == q.y[i]);
}
END_TEST

START_TEST(quad_measures)
{
    docrt_quad t = {{0, 10, 8, 2}, {0, 0, 4, 4}}; /* trapezoid */
    ck_assert_float_eq_tol(geo_quad_width(&t), 8, 1e-6f);
    ck_assert_float_eq_tol(geo_quad_height(&t), sqrtf(20), 1e-5f);
    docrt_box b = geo_quad_bbox(&t);
    ck_assert(b.x0 == 0 && b.y0 == 0 && b.x1 == 10 && b.y1 == 4);
    geo_pt p = geo_quad_point(&t, 0, 0);
    ck_assert(p.x == 0 && p.y == 0);
    p = geo_quad_point(&t, 1, 1);
    ck_assert(p.x == 8 && p.y == 4);
    p = geo_quad_point(&t, 0.5f, 0.5f);
    ck_assert_float_eq_tol(p.x, 5, 1e-6f);
    ck_assert_float_eq_tol(p.y, 2, 1e-6f);
    p = geo_quad_point(&t, 0, 1);
    ck_assert(p.x == 2 && p.y == 4);
}
END_TEST

/* ---- warp ---- */

static docrt_image make_image(int w, int h, int ch, int pad, uint32_t seed)
{
    docrt_image im = {w, h, ch, (size_t)(w * ch + pad), NULL, 0, 0};
    im.data = malloc(im.stride * (size_t)h);
    ck_assert_ptr_nonnull(im.data);
    for (size_t i = 0; i < im.stride * (size_t)h; i++)
        im.data[i] = (uint8_t)(lcg(&seed) & 0xff);
    return im;
}

static double px_at(const docrt_image *im, int x, int y, int c)
{
    return im->data[(size_t)y * im->stride + (size_t)x * im->channels + c];
}

/* Bilinear sample at pixel-index coordinates, border replicated, double. */
static double sample(const docrt_image *im, double x, double y, int c)
{
    x = fmin(fmax(x, 0), im->width - 1);
    y = fmin(fmax(y, 0), im->height - 1);
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < im->width ? x0 + 1 : x0;
    int y1 = y0 + 1 < im->height ? y0 + 1 : y0;
    double ax = x - x0, ay = y - y0;
    double t = px_at(im, x0, y0, c) * (1 - ax) + px_at(im, x1, y0, c) * ax;
    double b = px_at(im, x0, y1, c) * (1 - ax) + px_at(im, x1, y1, c) * ax;
    return t * (1 - ay) + b * ay;
}

/* A separable bilinear resize with half-pixel centres (cv2.resize). */
START_TEST(warp_axis_equals_resize)
{
    for (int ch = 1; ch <= 3; ch += 2) {
        docrt_image im = make_image(37, 23, ch, 5, 7u + (uint32_t)ch);
        const int sizes[3][2] = {{61, 17}, {20, 9}, {37, 23}};
        for (int k = 0; k < 3; k++) {
            int dw = sizes[k][0], dh = sizes[k][1];
            uint8_t *dst = malloc((size_t)dw * dh * ch);
            ck_assert_ptr_nonnull(dst);
            docrt_quad q = {{0, 37, 37, 0}, {0, 0, 23, 23}};
            ck_assert_int_eq(geo_warp_quad(&im, &q, dst, dw, dh), DOCRT_OK);
            for (int j = 0; j < dh; j++)
                for (int i = 0; i < dw; i++)
                    for (int c = 0; c < ch; c++) {
                        double sx = (i + 0.5) * 37.0 / dw - 0.5;
                        double sy = (j + 0.5) * 23.0 / dh - 0.5;
                        double e = sample(&im, sx, sy, c);
                        double g = dst[((size_t)j * dw + i) * ch + c];
                        ck_assert_double_le(fabs(g - e), 1.0);
                        if (k == 2) /* same size: an exact copy */
                            ck_assert(g == px_at(&im, i, j, c));
                    }
            free(dst);
        }
        free(im.data);
    }
}
END_TEST

START_TEST(warp_rot90)
{
    const int W = 23, H = 11;
    for (int ch = 1; ch <= 3; ch += 2) {
        docrt_image im = make_image(W, H, ch, 3, 99);
        /* Corner 0 at the image's top-right: the text runs downwards. */
        docrt_quad q = {{W, W, 0, 0}, {0, H, H, 0}};
        uint8_t *dst = malloc((size_t)W * H * ch);
        ck_assert_ptr_nonnull(dst);
        ck_assert_int_eq(geo_warp_quad(&im, &q, dst, H, W), DOCRT_OK);
        for (int j = 0; j < W; j++)
            for (int i = 0; i < H; i++)
                for (int c = 0; c < ch; c++)
                    ck_assert_int_eq(dst[((size_t)j * H + i) * ch + c],
                                     (int)px_at(&im, W - 1 - j, i, c));
        free(dst);
        free(im.data);
    }
}
END_TEST

/* Solves the 8 x 8 system of the homography taking the dst rectangle's
 * corners to the quad (Gaussian elimination): an independent check of the
 * closed form in geometry.c. */
static void homography(const docrt_quad *q, int dw, int dh, double m[9])
{
    const double su[4] = {0, dw, dw, 0}, sv[4] = {0, 0, dh, dh};
    double A[8][9];
    for (int i = 0; i < 4; i++) {
        double u = su[i], v = sv[i], X = q->x[i], Y = q->y[i];
        double r0[9] = {u, v, 1, 0, 0, 0, -u * X, -v * X, X};
        double r1[9] = {0, 0, 0, u, v, 1, -u * Y, -v * Y, Y};
        memcpy(A[2 * i], r0, sizeof r0);
        memcpy(A[2 * i + 1], r1, sizeof r1);
    }
    for (int c = 0; c < 8; c++) {
        int p = c;
        for (int r = c + 1; r < 8; r++)
            if (fabs(A[r][c]) > fabs(A[p][c]))
                p = r;
        for (int k = 0; k < 9; k++) {
            double t = A[c][k];
            A[c][k] = A[p][k];
            A[p][k] = t;
        }
        for (int r = 0; r < 8; r++) {
            if (r == c)
                continue;
            double f = A[r][c] / A[c][c];
            for (int k = c; k < 9; k++)
                A[r][k] -= f * A[c][k];
        }
    }
    for (int i = 0; i < 8; i++)
        m[i] = A[i][8] / A[i][i];
    m[8] = 1;
}

START_TEST(warp_perspective_gradient)
{
    /* R = 2x, G = 2y: bilinear sampling of a linear ramp is exact, so each
     * dst pixel reads back where the homography sent it. */
    const int W = 120, H = 90;
    docrt_image im = {W, H, 3, (size_t)W * 3, malloc((size_t)W * H * 3), 0, 0};
    ck_assert_ptr_nonnull(im.data);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = im.data + (size_t)y * im.stride + (size_t)x * 3;
            p[0] = (uint8_t)(2 * x);
            p[1] = (uint8_t)(2 * y);
            p[2] = 50;
        }
    const docrt_quad quads[3] = {
        {{10, 100, 110, 5}, {20, 10, 80, 70}},    /* perspective */
        {{-30, 140, 150, -20}, {-15, 5, 110, 95}}, /* partly outside */
        {{20.25f, 95.5f, 90.5f, 15.25f}, {30, 35, 55, 50}}, /* rotated rect */
    };
    const int dw = 77, dh = 19;
    uint8_t *dst = malloc((size_t)dw * dh * 3);
    ck_assert_ptr_nonnull(dst);
    for (int k = 0; k < 3; k++) {
        double m[9];
        homography(&quads[k], dw, dh, m);
        ck_assert_int_eq(geo_warp_quad(&im, &quads[k], dst, dw, dh), DOCRT_OK);
        for (int j = 0; j < dh; j++)
            for (int i = 0; i < dw; i++) {
                double u = i + 0.5, v = j + 0.5;
                double d = m[6] * u + m[7] * v + 1;
                double X = (m[0] * u + m[1] * v + m[2]) / d - 0.5;
                double Y = (m[3] * u + m[4] * v + m[5]) / d - 0.5;
                X = fmin(fmax(X, 0), W - 1);
                Y = fmin(fmax(Y, 0), H - 1);
                const uint8_t *o = dst + ((size_t)j * dw + i) * 3;
                ck_assert_double_le(fabs(o[0] - 2 * X), 1.0);
                ck_assert_double_le(fabs(o[1] - 2 * Y), 1.0);
                ck_assert_int_eq(o[2], 50);
            }
    }
    free(dst);
    free(im.data);
}
END_TEST

/* Quads partly or wholly outside the image read only inside it (ASan
 * checks the reads; the image has no row padding to hide behind). */
START_TEST(warp_outside)
{
    const int W = 64, H = 48;
    docrt_image im = make_image(W, H, 1, 0, 5);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (x == 0 || y == 0 || x == W - 1 || y == H - 1)
                im.data[(size_t)y * im.stride + x] = 77;
    const docrt_quad quads[] = {
        {{-50, 200, 210, -40}, {-30, -10, 150, 120}},
        {{-1e6f, -9e5f, -9e5f, -1e6f}, {-1e6f, -1e6f, 1e6f, 1e6f}},
        {{1e7f, 2e7f, 2e7f, 1e7f}, {5, 5, 6, 6}},
        {{63.9f, 64.1f, 64.1f, 63.9f}, {47.9f, 47.9f, 48.1f, 48.1f}},
        {{0, 64, 0, 64}, {0, 48, 48, 0}},      /* self-crossing */
        {{10, 10, 10, 10}, {10, 20, 30, 40}},  /* collinear corners */
        {{5, 5, 5, 5}, {5, 5, 5, 5}},          /* a point */
    };
    uint8_t dst[40 * 13 * 3];
    for (size_t k = 0; k < sizeof quads / sizeof quads[0]; k++)
        ck_assert_int_eq(geo_warp_quad(&im, &quads[k], dst, 40, 13), DOCRT_OK);
    /* wholly outside: only the replicated border shows */
    ck_assert_int_eq(geo_warp_quad(&im, &quads[1], dst, 40, 13), DOCRT_OK);
    for (int i = 0; i < 40 * 13; i++)
        ck_assert_int_eq(dst[i], 77);
    ck_assert_int_eq(geo_warp_quad(&im, &quads[2], dst, 40, 13), DOCRT_OK);
    for (int i = 0; i < 40 * 13; i++)
        ck_assert_int_eq(dst[i], 77);
    /* 1 x 1 images */
    docrt_image tiny = make_image(1, 1, 3, 0, 8);
    ck_assert_int_eq(geo_warp_quad(&tiny, &quads[0], dst, 40, 13), DOCRT_OK);
    for (int i = 0; i < 40 * 13 * 3; i++)
        ck_assert_int_eq(dst[i], tiny.data[i % 3]);
    free(tiny.data);
    free(im.data);
}
END_TEST

START_TEST(warp_args)
{
    docrt_image im = make_image(8, 8, 1, 0, 1);
    docrt_quad q = {{0, 8, 8, 0}, {0, 0, 8, 8}};
    uint8_t dst[64 * 3];
    ck_assert_int_eq(geo_warp_quad(NULL, &q, dst, 8, 8), DOCRT_ERR_ARG);
    ck_assert_int_eq(geo_warp_quad(&im, NULL, dst, 8, 8), DOCRT_ERR_ARG);
    ck_assert_int_eq(geo_warp_quad(&im, &q, NULL, 8, 8), DOCRT_ERR_ARG);
    ck_assert_int_eq(geo_warp_quad(&im, &q, dst, 0, 8), DOCRT_ERR_ARG);
    ck_assert_int_eq(geo_warp_quad(&im, &q, dst, 8, -1), DOCRT_ERR_ARG);
    im.channels = 2;
    ck_assert_int_eq(geo_warp_quad(&im, &q, dst, 8, 8), DOCRT_ERR_ARG);
    im.channels = 3; /* stride 8 < 8 * 3 */
    ck_assert_int_eq(geo_warp_quad(&im, &q, dst, 8, 8), DOCRT_ERR_ARG);
    im.channels = 1;
    q.x[2] = NAN;
    ck_assert_int_eq(geo_warp_quad(&im, &q, dst, 8, 8), DOCRT_ERR_ARG);
    q.x[2] = INFINITY;
    ck_assert_int_eq(geo_warp_quad(&im, &q, dst, 8, 8), DOCRT_ERR_ARG);
    free(im.data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("geometry");
    TCase *tc = tcase_create("geometry");
    tcase_add_test(tc, hull_basic);
    tcase_add_test(tc, mar_axis_aligned);
    tcase_add_test(tc, mar_rotated);
    tcase_add_test(tc, mar_random_vs_bruteforce);
    tcase_add_test(tc, mar_degenerate);
    tcase_add_test(tc, corner_order);
    tcase_add_test(tc, unclip_exact);
    tcase_add_test(tc, quad_measures);
    tcase_add_test(tc, warp_axis_equals_resize);
    tcase_add_test(tc, warp_rot90);
    tcase_add_test(tc, warp_perspective_gradient);
    tcase_add_test(tc, warp_outside);
    tcase_add_test(tc, warp_args);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
