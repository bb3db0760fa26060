/* det_postprocess.c - DB post-processing (see det_postprocess.h).
 *
 * Regions are found on runs (maximal horizontal stretches of foreground
 * pixels) with union-find: a text map has a few runs per row, so this
 * touches each map pixel once and keeps no per-pixel label image. The
 * convex hull of a region is the hull of each row's first and last
 * pixel. */
#include "det_postprocess.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geometry.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define DB_MAX_PIXELS (1 << 30)
/* Tolerance, in map pixels, for a pixel centre on a rectangle's side. */
#define DB_EDGE_EPS 1e-3

db_params db_default_params(void)
{
    db_params p = {0.3f, 0.6f, 1.5f, 3.f, 1000};
    return p;
}

typedef struct {
    int y, x0, x1; /* inclusive */
    int parent;    /* union-find; a root is its region's first run */
} db_run;

typedef struct {
    db_run *runs;
    int n, cap;
} run_list;

static int run_push(run_list *l, int y, int x0, int x1)
{
    if (l->n == l->cap) {
        if (l->cap > INT_MAX / 2)
            return -1;
        int ncap = l->cap ? l->cap * 2 : 1024;
        db_run *r = realloc(l->runs, (size_t)ncap * sizeof *r);
        if (!r)
            return -1;
        l->runs = r;
        l->cap = ncap;
    }
    db_run *r = &l->runs[l->n];
    r->y = y;
    r->x0 = x0;
    r->x1 = x1;
    r->parent = l->n;
    return l->n++;
}

static int find_root(db_run *r, int i)
{
    while (r[i].parent != i) {
        r[i].parent = r[r[i].parent].parent; /* path halving */
        i = r[i].parent;
    }
    return i;
}

static void unite(db_run *r, int a, int b)
{
    a = find_root(r, a);
    b = find_root(r, b);
    if (a < b)
        r[b].parent = a;
    else if (b < a)
        r[a].parent = b;
}

static int is_fg(float v, float thresh)
{
    return (v > thresh) & (v <= FLT_MAX); /* NaN and +inf are background */
}

/* mask[x] = is_fg(row[x]) for x < n, mask[n] = 0. GCC vectorises the
 * plain loop only at -O3, so SSE2 does 16 pixels a step where it exists. */
static void fg_mask(const float *row, int n, float thresh, uint8_t *mask)
{
    int x = 0;
#ifdef __SSE2__
    const __m128 t = _mm_set1_ps(thresh), big = _mm_set1_ps(FLT_MAX);
    const __m128i one = _mm_set1_epi8(1);
    for (; x + 16 <= n; x += 16) {
        __m128i m[4];
        for (int k = 0; k < 4; k++) {
            __m128 v = _mm_loadu_ps(row + x + 4 * k);
            m[k] = _mm_castps_si128(
                _mm_and_ps(_mm_cmpgt_ps(v, t), _mm_cmple_ps(v, big)));
        }
        __m128i b = _mm_packs_epi16(_mm_packs_epi32(m[0], m[1]),
                                    _mm_packs_epi32(m[2], m[3]));
        _mm_storeu_si128((__m128i *)(void *)(mask + x), _mm_and_si128(b, one));
    }
#endif
    for (; x < n; x++)
        mask[x] = (uint8_t)is_fg(row[x], thresh);
    mask[n] = 0;
}

/* Runs of the valid region, 8-connected runs united as they are found: a
 * run touches a run of the row above when their column spans overlap or
 * meet diagonally. */
static int find_runs(const float *prob, int map_w, int vh, int vw,
                     float thresh, uint8_t *mask, run_list *l)
{
    static const uint64_t ones = 0x0101010101010101u;
    int prev_s = 0, prev_e = 0;
    for (int y = 0; y < vh; y++) {
        const float *row = prob + (size_t)y * (size_t)map_w;
        /* A byte mask first (this loop vectorises), then runs are found 8
         * mask bytes at a time: most of a map is background, and most of
         * a text line's row is foreground. mask[vw] = 0 ends the row. */
        fg_mask(row, vw, thresh, mask);
        int cur_s = l->n, p = prev_s;
        int x = 0;
        while (x < vw) {
            uint64_t w8;
            while (x + 8 <= vw && (memcpy(&w8, mask + x, 8), w8 == 0))
                x += 8;
            while (x < vw && !mask[x])
                x++;
            if (x == vw)
                break;
            int x0 = x;
            while (x + 8 <= vw && (memcpy(&w8, mask + x, 8), w8 == ones))
                x += 8;
            while (mask[x])
                x++;
            int r = run_push(l, y, x0, x - 1);
            if (r < 0)
                return -1;
            while (p < prev_e && l->runs[p].x1 < x0 - 1)
                p++;
            for (int q = p; q < prev_e && l->runs[q].x0 <= x; q++)
                unite(l->runs, q, r);
        }
        prev_s = cur_s;
        prev_e = l->n;
    }
    return 0;
}

static float clean(float v)
{
    return isfinite(v) ? v : 0.f;
}

/* Mean map value over pixels whose centre (x, y) lies inside the rectangle
 * q (pixel-index coordinates), restricted to the valid region. The
 * rectangle is a centre, two unit axes and two half sides; each axis makes
 * a slab, and a slab cuts a row in an interval of x. */
static float rect_score(const float *prob, int map_w, int vh, int vw,
                        const docrt_quad *q)
{
    double cx = 0.5 * ((double)q->x[0] + q->x[2]);
    double cy = 0.5 * ((double)q->y[0] + q->y[2]);
    double ax[2] = {(double)q->x[1] - q->x[0], (double)q->x[3] - q->x[0]};
    double ay[2] = {(double)q->y[1] - q->y[0], (double)q->y[3] - q->y[0]};
    double half[2];
    for (int k = 0; k < 2; k++) {
        double len = sqrt(ax[k] * ax[k] + ay[k] * ay[k]);
        half[k] = 0.5 * len + DB_EDGE_EPS;
        if (len > 0) {
            ax[k] /= len;
            ay[k] /= len;
        }
    }
    /* A side of length zero has no direction: take the normal of the
     * other, or the image axes when both are zero. */
    if (ax[0] == 0 && ay[0] == 0 && ax[1] == 0 && ay[1] == 0) {
        ax[0] = 1;
        ay[1] = 1;
    } else if (ax[0] == 0 && ay[0] == 0) {
        ax[0] = ay[1];
        ay[0] = -ax[1];
    } else if (ax[1] == 0 && ay[1] == 0) {
        ax[1] = -ay[0];
        ay[1] = ax[0];
    }
    docrt_box bb = geo_quad_bbox(q);
    double fy0 = ceil(bb.y0 - DB_EDGE_EPS), fy1 = floor(bb.y1 + DB_EDGE_EPS);
    double fx0 = ceil(bb.x0 - DB_EDGE_EPS), fx1 = floor(bb.x1 + DB_EDGE_EPS);
    int y0 = fy0 > 0 ? (int)fy0 : 0;
    int y1 = fy1 < vh - 1 ? (int)fy1 : vh - 1;
    double xlo_b = fx0 > 0 ? fx0 : 0, xhi_b = fx1 < vw - 1 ? fx1 : vw - 1;
    double sum = 0;
    long count = 0;
    for (int y = y0; y <= y1; y++) {
        double lo = xlo_b, hi = xhi_b, dy = y - cy;
        for (int k = 0; k < 2 && lo <= hi; k++) {
            /* |(x - cx) * ax + dy * ay| <= half */
            double off = dy * ay[k];
            if (fabs(ax[k]) > 1e-12) {
                double a = cx + (-half[k] - off) / ax[k];
                double b = cx + (half[k] - off) / ax[k];
                if (a > b) {
                    double t = a;
                    a = b;
                    b = t;
                }
                if (a > lo)
                    lo = a;
                if (b < hi)
                    hi = b;
            } else if (fabs(off) > half[k]) {
                hi = lo - 1;
            }
        }
        lo = ceil(lo);
        hi = floor(hi);
        if (lo > hi)
            continue;
        const float *row = prob + (size_t)y * (size_t)map_w;
        for (int x = (int)lo; x <= (int)hi; x++)
            sum += clean(row[x]);
        count += (long)(hi - lo) + 1;
    }
    return count ? (float)(sum / (double)count) : 0.f;
}

/* Region a ranks before b: more pixels, or as many and found earlier. */
static int ranks_before(int a, int b, const int *px)
{
    return px[a] != px[b] ? px[a] > px[b] : a < b;
}

static void sift_down(int *h, int n, int i, const int *px)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && ranks_before(h[w], h[l], px))
            w = l;
        if (r < n && ranks_before(h[w], h[r], px))
            w = r;
        if (w == i)
            return;
        int t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* Marks in keep[] the k best-ranked of nc regions: a heap of the k best
 * so far with the worst of them on top, O(nc log k). Runs only when a map
 * has more regions than max_candidates (noise, not text). */
static void keep_largest(const int *px, int nc, int k, int *heap,
                         unsigned char *keep)
{
    memset(keep, 0, (size_t)nc);
    if (k <= 0) /* max_candidates 0: keep none (heap[0] would be garbage) */
        return;
    for (int c = 0; c < k; c++)
        heap[c] = c;
    for (int i = k / 2 - 1; i >= 0; i--)
        sift_down(heap, k, i, px);
    for (int c = k; c < nc; c++)
        if (ranks_before(c, heap[0], px)) {
            heap[0] = c;
            sift_down(heap, k, 0, px);
        }
    for (int i = 0; i < k; i++)
        keep[heap[i]] = 1;
}

static float clampf(float v, float hi)
{
    return v > 0.f ? (v < hi ? v : hi) : 0.f;
}

docrt_status db_postprocess(const float *prob, int map_h, int map_w,
                            int valid_h, int valid_w, float sx, float sy,
                            int page_w, int page_h, const db_params *p,
                            db_box **out, int *n_out)
{
    if (out)
        *out = NULL;
    if (n_out)
        *n_out = 0;
    db_params dp = p ? *p : db_default_params();
    if (!out || !n_out || map_h < 0 || map_w < 0 || valid_h < 0 ||
        valid_w < 0 || valid_h > map_h || valid_w > map_w ||
        (!prob && map_h > 0 && map_w > 0) || !isfinite(sx) || !(sx > 0) ||
        !isfinite(sy) || !(sy > 0) || page_w < 0 || page_h < 0 ||
        !isfinite(dp.thresh) || !isfinite(dp.box_thresh) ||
        !isfinite(dp.unclip_ratio) || !(dp.unclip_ratio >= 0) ||
        !isfinite(dp.min_size) || dp.max_candidates < 0)
        return DOCRT_ERR_ARG;
    if ((int64_t)valid_h * valid_w > DB_MAX_PIXELS)
        return DOCRT_ERR_LIMIT;
    if (valid_h == 0 || valid_w == 0 || dp.max_candidates == 0)
        return DOCRT_OK;

    docrt_status st = DOCRT_ERR_NOMEM;
    run_list rl = {NULL, 0, 0};
    int *lab = NULL, *cinfo = NULL, *order = NULL, *sel = NULL;
    geo_pt *pts = NULL;
    db_box *boxes = NULL;
    uint8_t *mask = NULL;
    unsigned char *keep = NULL;

    mask = malloc((size_t)valid_w + 1);
    if (!mask ||
        find_runs(prob, map_w, valid_h, valid_w, dp.thresh, mask, &rl) < 0)
        goto done;
    if (rl.n == 0) {
        st = DOCRT_OK;
        goto done;
    }
    const int nr = rl.n;
    db_run *runs = rl.runs;
    /* Regions numbered in scan order of their first run (the root). */
    lab = malloc((size_t)nr * sizeof *lab);
    order = malloc((size_t)nr * sizeof *order);
    if (!lab || !order)
        goto done;
    int nc = 0;
    for (int i = 0; i < nr; i++) {
        int r = find_root(runs, i);
        lab[i] = r == i ? nc++ : lab[r];
    }
    /* cinfo: start (counting sort of runs by region), runs, pixels. */
    cinfo = calloc((size_t)nc * 3 + 1, sizeof *cinfo);
    if (!cinfo)
        goto done;
    int *cstart = cinfo, *cruns = cinfo + nc, *cpx = cinfo + 2 * nc;
    for (int i = 0; i < nr; i++) {
        cruns[lab[i]]++;
        cpx[lab[i]] += runs[i].x1 - runs[i].x0 + 1;
    }
    int max_runs = 0;
    for (int c = 0, s = 0; c < nc; c++) {
        cstart[c] = s;
        s += cruns[c];
        if (cruns[c] > max_runs)
            max_runs = cruns[c];
    }
    for (int i = 0; i < nr; i++) /* runs stay in scan order per region */
        order[cstart[lab[i]]++] = i;
    for (int c = 0; c < nc; c++)
        cstart[c] -= cruns[c];

    /* Over max_candidates regions: keep the largest, in scan order. */
    int nsel = nc;
    if (nc > dp.max_candidates) {
        nsel = dp.max_candidates;
        sel = malloc(((size_t)nsel + 1) * sizeof *sel);
        keep = malloc((size_t)nc + 1);
        if (!sel || !keep)
            goto done;
        keep_largest(cpx, nc, nsel, sel, keep);
    }

    /* Points (at most two per row, and per run) and the hull (room for
     * twice the points). */
    size_t max_pts = 2 * (size_t)(max_runs < valid_h ? max_runs : valid_h);
    pts = malloc((max_pts * 3 + 1) * sizeof *pts);
    boxes = malloc((size_t)nsel * sizeof *boxes);
    if (!pts || !boxes)
        goto done;
    geo_pt *hull = pts + max_pts;
    int nb = 0;
    for (int c = 0; c < nc; c++) {
        if (keep && !keep[c])
            continue;
        /* Only the first and last pixel of each row can be hull
         * vertices; a region's runs are in scan order. */
        int np = 0;
        const int *ord = order + cstart[c];
        for (int k = 0; k < cruns[c];) {
            const db_run *first = &runs[ord[k]], *last = first;
            while (++k < cruns[c] && runs[ord[k]].y == first->y)
                last = &runs[ord[k]];
            pts[np++] = (geo_pt){(float)first->x0, (float)first->y};
            if (last->x1 != first->x0)
                pts[np++] = (geo_pt){(float)last->x1, (float)first->y};
        }
        int nh = geo_convex_hull(pts, np, hull);
        docrt_quad q;
        float w, h;
        geo_min_area_rect_hull(hull, nh, &q, &w, &h);
        if (fminf(w, h) < dp.min_size)
            continue;
        float score = rect_score(prob, map_w, valid_h, valid_w, &q);
        if (score < dp.box_thresh)
            continue;
        /* Re-take the rectangle of the unclipped one, as PaddleOCR does:
         * the same rectangle, but its corner order is decided anew (the
         * thin side grows most, which can change which corners are the
         * two left-most). */
        docrt_quad uq = geo_unclip_rect(&q, dp.unclip_ratio), u;
        geo_pt c4[4], h4[8];
        for (int i = 0; i < 4; i++)
            c4[i] = (geo_pt){uq.x[i], uq.y[i]};
        int n4 = geo_convex_hull(c4, 4, h4);
        geo_min_area_rect_hull(h4, n4, &u, &w, &h);
        if (fminf(w, h) < dp.min_size + 2)
            continue;
        db_box *b = &boxes[nb++];
        for (int i = 0; i < 4; i++) {
            b->quad.x[i] = clampf((u.x[i] + 0.5f) * sx, (float)page_w);
            b->quad.y[i] = clampf((u.y[i] + 0.5f) * sy, (float)page_h);
        }
        b->score = score;
    }
    if (nb > 0) {
        *out = boxes;
        *n_out = nb;
        boxes = NULL;
    }
    st = DOCRT_OK;
done:
    free(mask);
    free(rl.runs);
    free(lab);
    free(order);
    free(cinfo);
    free(sel);
    free(keep);
    free(pts);
    free(boxes);
    return st;
}
