/* test_db_postprocess.c - DB post-processing on hand-made probability maps:
 * page coordinates worked out by hand (pixel-centre rectangle, unclip
 * offset d = area * ratio / perimeter, half-pixel shift, scale, clamp),
 * filters, padding, scores, and maps that must not break it. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "det_postprocess.h"

static float *new_map(int h, int w, float v)
{
    float *m = malloc(sizeof *m * (size_t)h * (size_t)w);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < (size_t)h * (size_t)w; i++)
        m[i] = v;
    return m;
}

/* columns x0..x1, rows y0..y1, inclusive */
static void fill(float *m, int w, int x0, int y0, int x1, int y1, float v)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            m[(size_t)y * w + x] = v;
}

/* Pixels whose centre lies in the rectangle (centre, length, height,
 * angle in degrees, clockwise on screen). */
static void fill_rotated(float *m, int h, int w, double cx, double cy,
                         double len, double ht, double deg, float v)
{
    double a = deg * M_PI / 180, c = cos(a), s = sin(a);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double dx = x - cx, dy = y - cy;
            double u = dx * c + dy * s, t = -dx * s + dy * c;
            if (fabs(u) <= len / 2 && fabs(t) <= ht / 2)
                m[(size_t)y * w + x] = v;
        }
}

static double unclip_d(double w, double h, double ratio)
{
    return w * h * ratio / (2 * (w + h));
}

/* Clockwise on screen, starting at PaddleOCR's top-left corner: of the
 * two corners first in (x, y) order, the one with the smaller y. */
static void assert_order(const docrt_quad *q)
{
    double a = 0;
    for (int i = 0; i < 4; i++) {
        int j = (i + 1) & 3;
        a += (double)q->x[i] * q->y[j] - (double)q->x[j] * q->y[i];
    }
    ck_assert(a >= 0);
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
    ck_assert_float_le(q->y[0], fminf(q->y[idx[0]], q->y[idx[1]]));
}

static void assert_box(const db_box *b, double x0, double y0, double x1,
                       double y1, double tol)
{
    const double ex[4] = {x0, x1, x1, x0}, ey[4] = {y0, y0, y1, y1};
    for (int i = 0; i < 4; i++) {
        ck_assert_double_eq_tol(b->quad.x[i], ex[i], tol);
        ck_assert_double_eq_tol(b->quad.y[i], ey[i], tol);
    }
}

static int cmp_x0(const void *a, const void *b)
{
    const db_box *p = a, *q = b;
    float u = fminf(p->quad.x[0], p->quad.x[3]);
    float v = fminf(q->quad.x[0], q->quad.x[3]);
    if (u != v)
        return u < v ? -1 : 1;
    return p->quad.y[0] < q->quad.y[0] ? -1 : p->quad.y[0] > q->quad.y[0];
}

START_TEST(one_rectangle)
{
    float *m = new_map(64, 128, 0.f);
    fill(m, 128, 10, 20, 59, 29, 0.9f); /* 50 x 10 pixels */
    db_params p = db_default_params();
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, 64, 128, 64, 128, 2, 2, 256, 128, &p,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    /* Pixel centres span x 10..59, y 20..29: a 49 x 9 rectangle. */
    double d = unclip_d(49, 9, 1.5); /* 661.5 / 116 = 5.7026 */
    ck_assert_double_eq_tol(d, 5.70259, 1e-4);
    assert_box(&b[0], (10 - d + 0.5) * 2, (20 - d + 0.5) * 2,
               (59 + d + 0.5) * 2, (29 + d + 0.5) * 2, 1e-3);
    ck_assert_float_eq_tol(b[0].score, 0.9f, 1e-6f);
    assert_order(&b[0].quad);
    free(b);
    /* p == NULL means the defaults */
    ck_assert_int_eq(db_postprocess(m, 64, 128, 64, 128, 2, 2, 256, 128, NULL,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    free(b);
    free(m);
}
END_TEST

START_TEST(two_words)
{
    float *m = new_map(40, 140, 0.05f);
    fill(m, 140, 10, 10, 49, 21, 0.95f);
    fill(m, 140, 55, 12, 114, 21, 0.85f); /* 5 columns of gap */
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, 40, 140, 40, 140, 1, 1, 140, 40, NULL,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 2);
    qsort(b, (size_t)n, sizeof *b, cmp_x0);
    double d0 = unclip_d(39, 11, 1.5), d1 = unclip_d(59, 9, 1.5);
    assert_box(&b[0], 10.5 - d0, 10.5 - d0, 49.5 + d0, 21.5 + d0, 1e-3);
    assert_box(&b[1], 55.5 - d1, 12.5 - d1, 114.5 + d1, 21.5 + d1, 1e-3);
    ck_assert_float_eq_tol(b[0].score, 0.95f, 1e-6f);
    ck_assert_float_eq_tol(b[1].score, 0.85f, 1e-6f);
    free(b);
    free(m);
}
END_TEST

START_TEST(rotated_rectangles)
{
    const int H = 240, W = 300; /* room for the unclipped boxes */
    float *m = new_map(H, W, 0.f);
    fill_rotated(m, H, W, 150, 60, 160, 16, 12, 0.9f);
    fill_rotated(m, H, W, 150, 160, 160, 16, -25, 0.9f);
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, H, W, H, W, 1, 1, W, H, NULL, &b, &n),
                     DOCRT_OK);
    ck_assert_int_eq(n, 2);
    for (int i = 0; i < n; i++) {
        const docrt_quad *q = &b[i].quad;
        double ang = atan2(q->y[1] - q->y[0], q->x[1] - q->x[0]) * 180 / M_PI;
        double want = (q->y[0] + q->y[2]) / 2 < 110 ? 12 : -25;
        ck_assert_double_eq_tol(ang, want, 1.0);
        /* long side first: the pixel centres span about 160 x 16 (they
         * were taken inside the exact rectangle), plus 2d */
        double w = hypot(q->x[1] - q->x[0], q->y[1] - q->y[0]);
        double h = hypot(q->x[3] - q->x[0], q->y[3] - q->y[0]);
        double d = unclip_d(160, 16, 1.5);
        ck_assert_double_eq_tol(w, 160 + 2 * d, 1.5);
        ck_assert_double_eq_tol(h, 16 + 2 * d, 1.5);
        ck_assert_double_eq_tol((q->x[0] + q->x[2]) / 2, 150.5, 0.6);
        ck_assert_float_gt(b[i].score, 0.8f);
        assert_order(q);
    }
    free(b);
    free(m);
}
END_TEST

/* A thin, nearly vertical region: its two left-most corners are the
 * bottom ones before unclip and a bottom and a top one after (the thin
 * side grows most). The order is decided on the final box, as PaddleOCR
 * decides it. */
START_TEST(order_after_unclip)
{
    const int H = 80, W = 60;
    float *m = new_map(H, W, 0.f);
    fill_rotated(m, H, W, 30, 40, 42, 5, 83, 0.9f);
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, H, W, H, W, 1, 1, W, H, NULL, &b, &n),
                     DOCRT_OK);
    ck_assert_int_eq(n, 1);
    assert_order(&b[0].quad);
    ck_assert_float_lt(b[0].quad.y[0], 20); /* it starts at the top */
    free(b);
    free(m);
}
END_TEST

START_TEST(box_thresh_drops_faint)
{
    float *m = new_map(40, 80, 0.f);
    fill(m, 80, 10, 10, 69, 24, 0.45f); /* above thresh, below box_thresh */
    db_params p = db_default_params();
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, 40, 80, 40, 80, 1, 1, 80, 40, &p, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(b);
    p.box_thresh = 0.4f;
    ck_assert_int_eq(db_postprocess(m, 40, 80, 40, 80, 1, 1, 80, 40, &p, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_float_eq_tol(b[0].score, 0.45f, 1e-6f);
    free(b);
    p.thresh = 0.5f; /* now below the binarisation threshold */
    ck_assert_int_eq(db_postprocess(m, 40, 80, 40, 80, 1, 1, 80, 40, &p, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    free(m);
}
END_TEST

START_TEST(min_size_filters)
{
    float *m = new_map(60, 100, 0.f);
    fill(m, 100, 10, 5, 39, 7, 0.9f);   /* 3 rows: 2 between centres */
    fill(m, 100, 10, 15, 39, 18, 0.9f); /* 4 rows: 3, kept */
    fill(m, 100, 60, 5, 62, 7, 0.9f);   /* 3 x 3 */
    fill(m, 100, 70, 30, 70, 30, 1.f);  /* one pixel */
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, 60, 100, 60, 100, 1, 1, 100, 60, NULL,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    double d = unclip_d(29, 3, 1.5);
    assert_box(&b[0], 10.5 - d, 15.5 - d, 39.5 + d, 18.5 + d, 1e-3);
    free(b);
    /* Without unclip the 4-row region measures 3 < min_size + 2 after it:
     * the second filter drops it; 6 rows (5) pass. */
    db_params p = db_default_params();
    p.unclip_ratio = 0;
    ck_assert_int_eq(db_postprocess(m, 60, 100, 60, 100, 1, 1, 100, 60, &p,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    fill(m, 100, 10, 40, 39, 45, 0.9f);
    ck_assert_int_eq(db_postprocess(m, 60, 100, 60, 100, 1, 1, 100, 60, &p,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    assert_box(&b[0], 10.5, 40.5, 39.5, 45.5, 1e-4);
    free(b);
    free(m);
}
END_TEST

START_TEST(padding_ignored)
{
    const int H = 64, W = 128, VH = 32, VW = 64;
    float *m = new_map(H, W, 0.f);
    fill(m, W, 10, 40, 40, 50, 1.f);   /* only in the padding rows */
    fill(m, W, 80, 2, 120, 12, 1.f);   /* only in the padding columns */
    fill(m, W, 50, 10, 100, 19, 0.9f); /* crosses the valid edge */
    m[(size_t)60 * W + 100] = NAN;     /* garbage in the padding */
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, H, W, VH, VW, 2, 2, 128, 64, NULL, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    /* the region is cut at column 63: 13 x 9 between centres */
    double d = unclip_d(13, 9, 1.5);
    assert_box(&b[0], (50.5 - d) * 2, (10.5 - d) * 2, 128 /* clamped */,
               (19.5 + d) * 2, 1e-3);
    ck_assert_float_eq_tol(b[0].score, 0.9f, 1e-6f);
    free(b);
    free(m);
}
END_TEST

START_TEST(score_is_mean_inside_rectangle)
{
    float *m = new_map(30, 30, 0.f);
    fill(m, 30, 5, 5, 14, 14, 0.9f);
    m[10 * 30 + 10] = 0.f; /* a hole: inside the rectangle, not the region */
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, 30, 30, 30, 30, 1, 1, 30, 30, NULL, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_float_eq_tol(b[0].score, 0.9f * 99 / 100, 1e-5f);
    free(b);
    for (int y = 5; y <= 14; y++) /* rows alternate 0.7 / 0.9 */
        fill(m, 30, 5, y, 14, y, y % 2 ? 0.7f : 0.9f);
    ck_assert_int_eq(db_postprocess(m, 30, 30, 30, 30, 1, 1, 30, 30, NULL, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_float_eq_tol(b[0].score, 0.8f, 1e-5f);
    free(b);
    free(m);
}
END_TEST

START_TEST(non_finite_values)
{
    float *m = new_map(20, 50, 0.f);
    fill(m, 50, 5, 5, 44, 14, 0.9f);
    m[8 * 50 + 10] = NAN;
    m[9 * 50 + 20] = NAN;
    m[10 * 50 + 30] = INFINITY; /* background too, and 0 in the score */
    m[1 * 50 + 1] = -INFINITY;
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, 20, 50, 20, 50, 1, 1, 50, 20, NULL, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_float_eq_tol(b[0].score, 0.9f * 397 / 400, 1e-5f);
    free(b);
    for (int i = 0; i < 20 * 50; i++)
        m[i] = i % 2 ? NAN : INFINITY;
    ck_assert_int_eq(db_postprocess(m, 20, 50, 20, 50, 1, 1, 50, 20, NULL, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    free(m);
}
END_TEST

START_TEST(empty_and_full_maps)
{
    db_box *b = (db_box *)&b; /* must be reset */
    int n = -1;
    ck_assert_int_eq(db_postprocess(NULL, 0, 0, 0, 0, 1, 1, 0, 0, NULL, &b, &n),
                     DOCRT_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(b);
    float *m = new_map(96, 128, 0.f);
    ck_assert_int_eq(db_postprocess(m, 96, 128, 0, 128, 1, 1, 1, 1, NULL, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(db_postprocess(m, 96, 128, 96, 128, 1, 1, 128, 96, NULL,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    /* all ones: one box, the whole page after clamping */
    for (int i = 0; i < 96 * 128; i++)
        m[i] = 1.f;
    ck_assert_int_eq(db_postprocess(m, 96, 128, 96, 128, 1.5f, 1.5f, 192, 144,
                                    NULL, &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 1);
    assert_box(&b[0], 0, 0, 192, 144, 1e-6);
    ck_assert_float_eq(b[0].score, 1.f);
    free(b);
    /* one pixel: no box, no crash */
    memset(m, 0, sizeof *m * 96 * 128);
    m[50 * 128 + 60] = 1.f;
    ck_assert_int_eq(db_postprocess(m, 96, 128, 96, 128, 1, 1, 128, 96, NULL,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    free(m);
}
END_TEST

START_TEST(diagonals_and_borders)
{
    const int H = 120, W = 160;
    float *m = new_map(H, W, 0.f);
    for (int i = 0; i < 40; i++) /* 1-pixel 8-connected diagonal */
        m[(size_t)(30 + i) * W + 30 + i] = 1.f;
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, H, W, H, W, 1, 1, W, H, NULL, &b, &n),
                     DOCRT_OK);
    ck_assert_int_eq(n, 0); /* collinear: zero width */
    /* a thick 45-degree band */
    fill_rotated(m, H, W, 110, 60, 70, 7, 45, 0.9f);
    /* regions touching the map's edges */
    fill(m, W, 0, 0, 20, 9, 0.9f);
    fill(m, W, 100, 110, 159, 119, 0.9f);
    ck_assert_int_eq(db_postprocess(m, H, W, H, W, 1, 1, W, H, NULL, &b, &n),
                     DOCRT_OK);
    ck_assert_int_eq(n, 3);
    int diag = 0;
    for (int i = 0; i < n; i++) {
        const docrt_quad *q = &b[i].quad;
        for (int k = 0; k < 4; k++) {
            ck_assert(q->x[k] >= 0 && q->x[k] <= W);
            ck_assert(q->y[k] >= 0 && q->y[k] <= H);
        }
        assert_order(q);
        double ang = atan2(q->y[1] - q->y[0], q->x[1] - q->x[0]) * 180 / M_PI;
        if (fabs(fabs(ang) - 45) < 1.5)
            diag++;
    }
    ck_assert_int_eq(diag, 1);
    qsort(b, (size_t)n, sizeof *b, cmp_x0);
    double d = unclip_d(20, 9, 1.5);
    assert_box(&b[0], 0, 0, 20.5 + d, 9.5 + d, 1e-3);
    free(b);
    free(m);
}
END_TEST

START_TEST(max_candidates_keeps_largest)
{
    float *m = new_map(100, 100, 0.f);
    const int widths[5] = {10, 50, 20, 40, 30};
    for (int i = 0; i < 5; i++)
        fill(m, 100, 5, 5 + 15 * i, 5 + widths[i] - 1, 12 + 15 * i, 0.9f);
    db_params p = db_default_params();
    p.max_candidates = 2;
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, 100, 100, 100, 100, 1, 1, 100, 100, &p,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 2);
    /* the 50- and 40-wide ones, in scan order */
    double d50 = unclip_d(49, 7, 1.5), d40 = unclip_d(39, 7, 1.5);
    ck_assert_double_eq_tol(b[0].quad.x[1], 5 + 49 + 0.5 + d50, 1e-3);
    ck_assert_double_eq_tol(b[1].quad.x[1], 5 + 39 + 0.5 + d40, 1e-3);
    free(b);
    p.max_candidates = 0;
    ck_assert_int_eq(db_postprocess(m, 100, 100, 100, 100, 1, 1, 100, 100, &p,
                                    &b, &n), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    free(m);
}
END_TEST

/* Uniform noise: thousands of regions, the cap, nothing read out of place. */
START_TEST(noise_map)
{
    const int H = 257, W = 263;
    float *m = new_map(H, W, 0.f);
    uint32_t s = 42;
    for (int i = 0; i < H * W; i++) {
        s = s * 1664525u + 1013904223u;
        m[i] = (float)(s >> 8) / (float)(1u << 24);
    }
    db_params p = db_default_params();
    p.box_thresh = 0;
    db_box *b;
    int n;
    ck_assert_int_eq(db_postprocess(m, H, W, H - 7, W - 5, 0.7f, 1.3f, 200, 300,
                                    &p, &b, &n), DOCRT_OK);
    ck_assert_int_le(n, 1000);
    for (int i = 0; i < n; i++)
        assert_order(&b[i].quad);
    free(b);
    p.max_candidates = 10;
    p.thresh = 0.7f; /* many small regions */
    ck_assert_int_eq(db_postprocess(m, H, W, H, W, 1, 1, W, H, &p, &b, &n),
                     DOCRT_OK);
    ck_assert_int_le(n, 10);
    free(b);
    free(m);
}
END_TEST

/* Sixty lines in two columns on a 960 x 1280 map, as a page gives. */
START_TEST(page_of_lines)
{
    const int H = 960, W = 1280;
    float *m = new_map(H, W, 0.02f);
    for (int i = 0; i < 60; i++) {
        int col = i % 2, row = i / 2;
        fill(m, W, 20 + col * 640, 20 + row * 31, 20 + col * 640 + 499 - row,
             20 + row * 31 + 11, 0.93f);
    }
    db_box *b;
    int n;
    const float s = 2480.f / 1280.f;
    ck_assert_int_eq(db_postprocess(m, H, W, H, W, s, s, 2480, 1860, NULL, &b,
                                    &n), DOCRT_OK);
    ck_assert_int_eq(n, 60);
    for (int k = 0; k < n; k++) {
        /* scan order: row by row, left column first */
        int col = k % 2, row = k / 2, x0 = 20 + col * 640, y0 = 20 + row * 31;
        int w = 499 - row, h = 11;
        double d = unclip_d(w, h, 1.5);
        assert_box(&b[k], (x0 + 0.5 - d) * s, (y0 + 0.5 - d) * s,
                   (x0 + w + 0.5 + d) * s, (y0 + h + 0.5 + d) * s, 2e-3);
        ck_assert_float_eq_tol(b[k].score, 0.93f, 1e-5f);
    }
    free(b);
    free(m);
}
END_TEST

START_TEST(bad_args)
{
    float m[16] = {0};
    db_box *b = (db_box *)m;
    int n = 5;
    db_params p = db_default_params();
#define BAD(...)                                                              \
    do {                                                                      \
        b = (db_box *)m;                                                      \
        n = 5;                                                                \
        ck_assert_int_eq(db_postprocess(__VA_ARGS__), DOCRT_ERR_ARG);         \
        ck_assert_ptr_null(b);                                                \
        ck_assert_int_eq(n, 0);                                               \
    } while (0)
    BAD(NULL, 4, 4, 4, 4, 1, 1, 4, 4, &p, &b, &n);
    BAD(m, 4, 4, 5, 4, 1, 1, 4, 4, &p, &b, &n);
    BAD(m, 4, 4, 4, 5, 1, 1, 4, 4, &p, &b, &n);
    BAD(m, -1, 4, 0, 4, 1, 1, 4, 4, &p, &b, &n);
    BAD(m, 4, 4, 4, 4, 0, 1, 4, 4, &p, &b, &n);
    BAD(m, 4, 4, 4, 4, 1, NAN, 4, 4, &p, &b, &n);
    BAD(m, 4, 4, 4, 4, INFINITY, 1, 4, 4, &p, &b, &n);
    BAD(m, 4, 4, 4, 4, 1, 1, -4, 4, &p, &b, &n);
    p.thresh = NAN;
    BAD(m, 4, 4, 4, 4, 1, 1, 4, 4, &p, &b, &n);
    p = db_default_params();
    p.unclip_ratio = -1;
    BAD(m, 4, 4, 4, 4, 1, 1, 4, 4, &p, &b, &n);
    p = db_default_params();
    p.max_candidates = -1;
    BAD(m, 4, 4, 4, 4, 1, 1, 4, 4, &p, &b, &n);
    p = db_default_params();
    ck_assert_int_eq(db_postprocess(m, 4, 4, 4, 4, 1, 1, 4, 4, &p, NULL, &n),
                     DOCRT_ERR_ARG);
    ck_assert_int_eq(db_postprocess(m, 4, 4, 4, 4, 1, 1, 4, 4, &p, &b, NULL),
                     DOCRT_ERR_ARG);
#undef BAD
}
END_TEST

START_TEST(default_params)
{
    db_params p = db_default_params();
    ck_assert_float_eq(p.thresh, 0.3f);
    ck_assert_float_eq(p.box_thresh, 0.6f);
    ck_assert_float_eq(p.unclip_ratio, 1.5f);
    ck_assert_float_eq(p.min_size, 3.f);
    ck_assert_int_eq(p.max_candidates, 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db_postprocess");
    TCase *tc = tcase_create("db_postprocess");
    tcase_add_test(tc, default_params);
    tcase_add_test(tc, one_rectangle);
    tcase_add_test(tc, two_words);
    tcase_add_test(tc, rotated_rectangles);
    tcase_add_test(tc, order_after_unclip);
    tcase_add_test(tc, box_thresh_drops_faint);
    tcase_add_test(tc, min_size_filters);
    tcase_add_test(tc, padding_ignored);
    tcase_add_test(tc, score_is_mean_inside_rectangle);
    tcase_add_test(tc, non_finite_values);
    tcase_add_test(tc, empty_and_full_maps);
    tcase_add_test(tc, diagonals_and_borders);
    tcase_add_test(tc, max_candidates_keeps_largest);
    tcase_add_test(tc, noise_map);
    tcase_add_test(tc, page_of_lines);
    tcase_add_test(tc, bad_args);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
