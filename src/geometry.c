/* geometry.c - convex hull, minimum-area rectangle, unclip, quad warp (see
 * geometry.h). Intermediate arithmetic is in double: page coordinates reach
 * 10^4 and cross products of them lose too much in float. */
#include "geometry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int cmp_pt(const void *a, const void *b)
{
    const geo_pt *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    if (p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return 0;
}

/* > 0 when o -> a -> b turns counter-clockwise in maths orientation (y up),
 * which is clockwise on screen. */
static double cross3(geo_pt o, geo_pt a, geo_pt b)
{
    return ((double)a.x - o.x) * ((double)b.y - o.y) -
           ((double)a.y - o.y) * ((double)b.x - o.x);
}

int geo_convex_hull(geo_pt *pts, int n, geo_pt *hull)
{
    if (!pts || !hull || n <= 0)
        return 0;
    qsort(pts, (size_t)n, sizeof *pts, cmp_pt);
    int m = 1;
    for (int i = 1; i < n; i++)
        if (pts[i].x != pts[m - 1].x || pts[i].y != pts[m - 1].y)
            pts[m++] = pts[i];
    if (m <= 2) {
        memcpy(hull, pts, (size_t)m * sizeof *pts);
        return m;
    }
    int k = 0;
    for (int i = 0; i < m; i++) { /* lower chain */
        while (k >= 2 && cross3(hull[k - 2], hull[k - 1], pts[i]) <= 0)
            k--;
        hull[k++] = pts[i];
    }
    for (int i = m - 2, t = k + 1; i >= 0; i--) { /* upper chain */
        while (k >= t && cross3(hull[k - 2], hull[k - 1], pts[i]) <= 0)
            k--;
        hull[k++] = pts[i];
    }
    return k - 1; /* the last point repeats the first */
}

/* Puts the corners of a rectangle given as a cycle into the documented
 * order: clockwise on screen, starting at PaddleOCR's top-left corner. */
static void order_corners(const double cx[4], const double cy[4],
                          docrt_quad *out)
{
    int cyc[4] = {0, 1, 2, 3};
    double area2 = 0;
    for (int i = 0; i < 4; i++) {
        int j = (i + 1) & 3;
        area2 += cx[i] * cy[j] - cx[j] * cy[i];
    }
    if (area2 < 0) { /* reverse the turn */
        cyc[1] = 3;
        cyc[3] = 1;
    }
    /* The two corners first in (x, y, position) order; of those the one
     * with the smaller y starts. */
    int a = -1, b = -1;
    for (int p = 0; p < 4; p++) {
        int c = cyc[p];
        int better_a = a < 0 || cx[c] < cx[cyc[a]] ||
                       (cx[c] == cx[cyc[a]] && cy[c] < cy[cyc[a]]);
        if (better_a) {
            b = a;
            a = p;
        } else if (b < 0 || cx[c] < cx[cyc[b]] ||
                   (cx[c] == cx[cyc[b]] && cy[c] < cy[cyc[b]])) {
            b = p;
        }
    }
    int start = cy[cyc[b]] < cy[cyc[a]] ? b : a;
    for (int i = 0; i < 4; i++) {
        int c = cyc[(start + i) & 3];
        out->x[i] = (float)cx[c];
        out->y[i] = (float)cy[c];
    }
}

static double dot2(geo_pt p, double ux, double uy)
{
    return p.x * ux + p.y * uy;
}

void geo_min_area_rect_hull(const geo_pt *p, int k, docrt_quad *out,
                            float *w, float *h)
{
    double cx[4], cy[4];
    if (k <= 2) {
        int last = k == 2 ? 1 : 0;
        cx[0] = cx[3] = p[0].x;
        cy[0] = cy[3] = p[0].y;
        cx[1] = cx[2] = p[last].x;
        cy[1] = cy[2] = p[last].y;
    } else {
        /* Rotating calipers: one side of the best rectangle lies on a hull
         * edge. For edge i (direction u, inward normal v) the pointers
         * track the vertices extreme along +u (r), +v (t) and -u (l); they
         * only move forward as i does. */
        double best = INFINITY;
        int r = 0, t = 0, l = 0;
        for (int i = 0; i < k; i++) {
            geo_pt a = p[i], b = p[(i + 1) % k];
            double ex = (double)b.x - a.x, ey = (double)b.y - a.y;
            double len = sqrt(ex * ex + ey * ey);
            double ux = ex / len, uy = ey / len, vx = -uy, vy = ux;
            if (i == 0) {
                for (int j = 1; j < k; j++) {
                    if (dot2(p[j], ux, uy) > dot2(p[r], ux, uy))
                        r = j;
                    if (dot2(p[j], vx, vy) > dot2(p[t], vx, vy))
                        t = j;
                    if (dot2(p[j], ux, uy) < dot2(p[l], ux, uy))
                        l = j;
                }
            } else {
                for (int s = 0; s < k &&
                     dot2(p[(r + 1) % k], ux, uy) > dot2(p[r], ux, uy); s++)
                    r = (r + 1) % k;
                for (int s = 0; s < k &&
                     dot2(p[(t + 1) % k], vx, vy) > dot2(p[t], vx, vy); s++)
                    t = (t + 1) % k;
                for (int s = 0; s < k &&
                     dot2(p[(l + 1) % k], ux, uy) < dot2(p[l], ux, uy); s++)
                    l = (l + 1) % k;
            }
            double u0 = dot2(p[l], ux, uy), u1 = dot2(p[r], ux, uy);
            double v0 = dot2(a, vx, vy), v1 = dot2(p[t], vx, vy);
            double area = (u1 - u0) * (v1 - v0);
            if (area < best) {
                best = area;
                cx[0] = u0 * ux + v0 * vx;
                cy[0] = u0 * uy + v0 * vy;
                cx[1] = u1 * ux + v0 * vx;
                cy[1] = u1 * uy + v0 * vy;
                cx[2] = u1 * ux + v1 * vx;
                cy[2] = u1 * uy + v1 * vy;
                cx[3] = u0 * ux + v1 * vx;
                cy[3] = u0 * uy + v1 * vy;
            }
        }
    }
    order_corners(cx, cy, out);
    if (w)
        *w = hypotf(out->x[1] - out->x[0], out->y[1] - out->y[0]);
    if (h)
        *h = hypotf(out->x[2] - out->x[1], out->y[2] - out->y[1]);
}

docrt_status geo_min_area_rect(const geo_pt *pts, int n, docrt_quad *out,
                               float *w, float *h)
{
    if (!pts || !out || n <= 0)
        return DOCRT_ERR_ARG;
    for (int i = 0; i < n; i++)
        if (!isfinite(pts[i].x) || !isfinite(pts[i].y))
            return DOCRT_ERR_ARG;
    if ((size_t)n > SIZE_MAX / (3 * sizeof *pts))
        return DOCRT_ERR_NOMEM;
    geo_pt *buf = malloc((size_t)n * 3 * sizeof *buf);
    if (!buf)
        return DOCRT_ERR_NOMEM;
    memcpy(buf, pts, (size_t)n * sizeof *buf);
    int k = geo_convex_hull(buf, n, buf + n);
    geo_min_area_rect_hull(buf + n, k, out, w, h);
    free(buf);
    return DOCRT_OK;
}

docrt_quad geo_unclip_rect(const docrt_quad *q, float ratio)
{
    docrt_quad o = *q;
    double wx = (double)q->x[1] - q->x[0], wy = (double)q->y[1] - q->y[0];
    double hx = (double)q->x[3] - q->x[0], hy = (double)q->y[3] - q->y[0];
    double w = sqrt(wx * wx + wy * wy), h = sqrt(hx * hx + hy * hy);
    if (!(w > 0) || !(h > 0))
        return o;
    double d = w * h * ratio / (2 * (w + h));
    double ux = wx / w * d, uy = wy / w * d; /* d along the first edge */
    double vx = hx / h * d, vy = hy / h * d; /* d along the second */
    static const int su[4] = {-1, 1, 1, -1}, sv[4] = {-1, -1, 1, 1};
    for (int i = 0; i < 4; i++) {
        o.x[i] = (float)(q->x[i] + su[i] * ux + sv[i] * vx);
        o.y[i] = (float)(q->y[i] + su[i] * uy + sv[i] * vy);
    }
    return o;
}

float geo_quad_width(const docrt_quad *q)
{
    return 0.5f * (hypotf(q->x[1] - q->x[0], q->y[1] - q->y[0]) +
                   hypotf(q->x[2] - q->x[3], q->y[2] - q->y[3]));
}

float geo_quad_height(const docrt_quad *q)
{
    return 0.5f * (hypotf(q->x[3] - q->x[0], q->y[3] - q->y[0]) +
                   hypotf(q->x[2] - q->x[1], q->y[2] - q->y[1]));
}

docrt_box geo_quad_bbox(const docrt_quad *q)
{
    docrt_box b = {q->x[0], q->y[0], q->x[0], q->y[0]};
    for (int i = 1; i < 4; i++) {
        b.x0 = fminf(b.x0, q->x[i]);
        b.y0 = fminf(b.y0, q->y[i]);
        b.x1 = fmaxf(b.x1, q->x[i]);
        b.y1 = fmaxf(b.y1, q->y[i]);
    }
    return b;
}

geo_pt geo_quad_point(const docrt_quad *q, float u, float v)
{
    float tx = q->x[0] + u * (q->x[1] - q->x[0]);
    float ty = q->y[0] + u * (q->y[1] - q->y[0]);
    float bx = q->x[3] + u * (q->x[2] - q->x[3]);
    float by = q->y[3] + u * (q->y[2] - q->y[3]);
    geo_pt p = {tx + v * (bx - tx), ty + v * (by - ty)};
    return p;
}

/* Projective map of the unit square onto the quad (Heckbert's closed form):
 * X = (m0 u + m1 v + m2) / (m6 u + m7 v + 1), Y = (m3 u + m4 v + m5) / (...),
 * with (0,0) -> corner 0, (1,0) -> 1, (1,1) -> 2, (0,1) -> 3. Returns 1 when
 * the map is affine (m6 = m7 = 0): the quad is a parallelogram to within
 * 0.01 pixel, as every rotated rectangle from the detector is once its
 * corners are rounded to float. */
static int square_to_quad(const docrt_quad *q, double m[8])
{
    double x0 = q->x[0], x1 = q->x[1], x2 = q->x[2], x3 = q->x[3];
    double y0 = q->y[0], y1 = q->y[1], y2 = q->y[2], y3 = q->y[3];
    double sx = x0 - x1 + x2 - x3, sy = y0 - y1 + y2 - y3;
    double g = 0, hh = 0;
    if (fabs(sx) > 1e-2 || fabs(sy) > 1e-2) {
        double dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
        double den = dx1 * dy2 - dx2 * dy1;
        if (fabs(den) > 1e-12 * (fabs(dx1 * dy2) + fabs(dx2 * dy1)) &&
            den != 0) {
            g = (sx * dy2 - dx2 * sy) / den;
            hh = (dx1 * sy - sx * dy1) / den;
        }
        /* else three corners are collinear: no projective map exists and
         * the affine one through corners 0, 1, 3 stands in. */
    }
    m[0] = x1 - x0 + g * x1;
    m[1] = x3 - x0 + hh * x3;
    m[2] = x0;
    m[3] = y1 - y0 + g * y1;
    m[4] = y3 - y0 + hh * y3;
    m[5] = y0;
    m[6] = g;
    m[7] = hh;
    return g == 0 && hh == 0;
}

/* Bilinear interpolation in fixed point with 11-bit weights (cv2.resize's
 * precision): p0 and p1 are the top-left taps of two rows, dx the step to
 * the right-hand taps (0 at the right border). */
#define WBITS 11
#define WONE (1 << WBITS)
#define FRAC32 4294967296.0 /* 2^32 */

static inline uint8_t lerp2(const uint8_t *p0, const uint8_t *p1, int dx,
                            int wx, int wy)
{
    int top = p0[0] * WONE + (p0[dx] - p0[0]) * wx;
    int bot = p1[0] * WONE + (p1[dx] - p1[0]) * wx;
    return (uint8_t)((top * (WONE - wy) + bot * wy +
                      (1 << (2 * WBITS - 1))) >> (2 * WBITS));
}

/* One dst row of an affine map whose samples all have both taps inside the
 * image: positions step in 32.32 fixed point, no clamping. */
static void row_affine_inside(const docrt_image *img, int64_t X, int64_t Y,
                              int64_t dX, int64_t dY, uint8_t *o, int n)
{
    const uint8_t *src = img->data;
    const size_t stride = img->stride;
    if (img->channels == 1) {
        for (int i = 0; i < n; i++, X += dX, Y += dY) {
            const uint8_t *p = src + (size_t)(Y >> 32) * stride +
                               (size_t)(X >> 32);
            int wx = (int)(X >> (32 - WBITS)) & (WONE - 1);
            int wy = (int)(Y >> (32 - WBITS)) & (WONE - 1);
            o[i] = lerp2(p, p + stride, 1, wx, wy);
        }
    } else {
        for (int i = 0; i < n; i++, X += dX, Y += dY) {
            const uint8_t *p = src + (size_t)(Y >> 32) * stride +
                               (size_t)(X >> 32) * 3;
            int wx = (int)(X >> (32 - WBITS)) & (WONE - 1);
            int wy = (int)(Y >> (32 - WBITS)) & (WONE - 1);
            o[3 * i] = lerp2(p, p + stride, 3, wx, wy);
            o[3 * i + 1] = lerp2(p + 1, p + stride + 1, 3, wx, wy);
            o[3 * i + 2] = lerp2(p + 2, p + stride + 2, 3, wx, wy);
        }
    }
}

/* Sample position (pixel-index coordinates) clamped to [0, size-1]: that is
 * border replication for a bilinear tap, and it turns NaN and infinities
 * into the border too. */
#define CLAMP_POS(f, maxf) ((f) > 0.f ? ((f) < (maxf) ? (f) : (maxf)) : 0.f)

docrt_status geo_warp_quad(const docrt_image *img, const docrt_quad *q,
                           uint8_t *dst, int dst_w, int dst_h)
{
    if (!img || !q || !dst || !img->data || dst_w <= 0 || dst_h <= 0 ||
        img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3) ||
        img->stride < (size_t)img->width * (size_t)img->channels)
        return DOCRT_ERR_ARG;
    for (int i = 0; i < 4; i++)
        if (!isfinite(q->x[i]) || !isfinite(q->y[i]))
            return DOCRT_ERR_ARG;
    const int W = img->width, H = img->height, ch = img->channels;
    const float xmax = (float)(W - 1), ymax = (float)(H - 1);
    const size_t stride = img->stride;
    const uint8_t *src = img->data;
    double m[8];
    const int affine = square_to_quad(q, m);
    /* dst pixel (i, j) samples u = (i + 0.5) / dst_w, v = (j + 0.5) / dst_h;
     * the numerators and the denominator are linear in i along a row. */
    const double du = 1.0 / dst_w;
    for (int j = 0; j < dst_h; j++) {
        double v = (j + 0.5) / dst_h, u0 = 0.5 * du;
        uint8_t *o = dst + (size_t)j * (size_t)dst_w * (size_t)ch;
        if (affine) {
            /* Pixel-index coordinates (-0.5) of the row's first and last
             * samples; + half a weight step makes the fixed point round. */
            double xb = m[0] * u0 + m[1] * v + m[2] - 0.5 + 0.5 / WONE;
            double yb = m[3] * u0 + m[4] * v + m[5] - 0.5 + 0.5 / WONE;
            double xe = xb + m[0] * du * (dst_w - 1);
            double ye = yb + m[3] * du * (dst_w - 1);
            if (fmin(xb, xe) >= 0 && fmax(xb, xe) < W - 1 &&
                fmin(yb, ye) >= 0 && fmax(yb, ye) < H - 1) {
                int64_t X = (int64_t)(xb * FRAC32), Y = (int64_t)(yb * FRAC32);
                int64_t dX = (int64_t)llround(m[0] * du * FRAC32);
                int64_t dY = (int64_t)llround(m[3] * du * FRAC32);
                int64_t Xe = X + dX * (dst_w - 1), Ye = Y + dY * (dst_w - 1);
                int64_t lim_x = (int64_t)(W - 1) << 32;
                int64_t lim_y = (int64_t)(H - 1) << 32;
                if (X >= 0 && Xe >= 0 && X < lim_x && Xe < lim_x && Y >= 0 &&
                    Ye >= 0 && Y < lim_y && Ye < lim_y) {
                    row_affine_inside(img, X, Y, dX, dY, o, dst_w);
                    continue;
                }
            }
        }
        /* General row: perspective, or samples near or past the border.
         * Positions first (float, vectorisable), then the taps, in chunks
         * that keep the positions on the stack. */
        const float nx0 = (float)(m[0] * u0 + m[1] * v + m[2]);
        const float ny0 = (float)(m[3] * u0 + m[4] * v + m[5]);
        const float d0 = (float)(m[6] * u0 + m[7] * v + 1);
        const float nxs = (float)(m[0] * du), nys = (float)(m[3] * du);
        const float ds = (float)(m[6] * du);
        enum { CHUNK = 256 };
        int32_t px[CHUNK], py[CHUNK];
        for (int i0 = 0; i0 < dst_w; i0 += CHUNK) {
            int n = dst_w - i0 < CHUNK ? dst_w - i0 : CHUNK;
            int k = 0;
#ifdef __SSE2__
            /* GCC will not vectorise the clamps (NaN ordering), so by hand:
             * max(NaN, 0) is 0 in SSE, as CLAMP_POS has it. */
            const __m128 v_nx0 = _mm_set1_ps(nx0), v_nxs = _mm_set1_ps(nxs);
            const __m128 v_ny0 = _mm_set1_ps(ny0), v_nys = _mm_set1_ps(nys);
            const __m128 v_d0 = _mm_set1_ps(d0), v_ds = _mm_set1_ps(ds);
            const __m128 tiny = _mm_set1_ps(1e-20f), half = _mm_set1_ps(0.5f);
            const __m128 absm = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
            const __m128 zero = _mm_setzero_ps(), one = _mm_set1_ps(WONE);
            const __m128 vxm = _mm_set1_ps(xmax), vym = _mm_set1_ps(ymax);
            for (; k + 4 <= n; k += 4) {
                __m128 fi = _mm_add_ps(_mm_set1_ps((float)(i0 + k)),
                                       _mm_set_ps(3.f, 2.f, 1.f, 0.f));
                __m128 den = _mm_add_ps(v_d0, _mm_mul_ps(v_ds, fi));
                __m128 sm = _mm_cmplt_ps(_mm_and_ps(den, absm), tiny);
                den = _mm_or_ps(_mm_and_ps(sm, tiny), _mm_andnot_ps(sm, den));
                __m128 nx = _mm_add_ps(v_nx0, _mm_mul_ps(v_nxs, fi));
                __m128 ny = _mm_add_ps(v_ny0, _mm_mul_ps(v_nys, fi));
                __m128 fx = _mm_div_ps(nx, den), fy = _mm_div_ps(ny, den);
                fx = _mm_min_ps(_mm_max_ps(_mm_sub_ps(fx, half), zero), vxm);
                fy = _mm_min_ps(_mm_max_ps(_mm_sub_ps(fy, half), zero), vym);
                _mm_storeu_si128((__m128i *)(void *)(px + k),
                    _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(fx, one), half)));
                _mm_storeu_si128((__m128i *)(void *)(py + k),
                    _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(fy, one), half)));
            }
#endif
            for (; k < n; k++) {
                float fi = (float)(i0 + k);
                float den = d0 + ds * fi; /* 1 when affine */
                den = fabsf(den) < 1e-20f ? 1e-20f : den;
                float fx = (nx0 + nxs * fi) / den, fy = (ny0 + nys * fi) / den;
                fx = CLAMP_POS(fx - 0.5f, xmax);
                fy = CLAMP_POS(fy - 0.5f, ymax);
                px[k] = (int32_t)(fx * WONE + 0.5f);
                py[k] = (int32_t)(fy * WONE + 0.5f);
            }
            uint8_t *oc = o + (size_t)i0 * (size_t)ch;
            for (k = 0; k < n; k++) {
                int x0 = px[k] >> WBITS, y0 = py[k] >> WBITS;
                int wx = px[k] & (WONE - 1), wy = py[k] & (WONE - 1);
                int dx = x0 < W - 1 ? ch : 0;
                const uint8_t *p0 = src + (size_t)y0 * stride +
                                    (size_t)x0 * (size_t)ch;
                const uint8_t *p1 = y0 < H - 1 ? p0 + stride : p0;
                if (ch == 1) {
                    oc[k] = lerp2(p0, p1, dx, wx, wy);
                } else {
                    oc[3 * k] = lerp2(p0, p1, dx, wx, wy);
                    oc[3 * k + 1] = lerp2(p0 + 1, p1 + 1, dx, wx, wy);
                    oc[3 * k + 2] = lerp2(p0 + 2, p1 + 2, dx, wx, wy);
                }
            }
        }
    }
    return DOCRT_OK;
}
