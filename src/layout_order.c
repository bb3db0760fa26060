/* layout_order.c - reading order: a recursive XY-cut on the items of a
 * page that knows columns, full-width elements that break them, tables and
 * caption blocks.
 *
 * A region (a set of items) is cut into strips at every horizontal
 * whitespace band (items chain into one strip when their heights overlap by
 * more than 0.2 h). A gutter candidate is a vertical whitespace band at
 * least 0.8 h wide that separates content in the strips that do not cross
 * it (found over the elementary x intervals between item edges). The best
 * candidate is the one with the most words on its poorer side, summed over
 * the strips it separates (so the gutter between two text columns wins over
 * the one between line numbers and their text), then the widest (a heading
 * that ends where the gutter starts then crosses it rather than joining a
 * column), then the one fewest strips cross. A strip that covers it only
 * with a line jutting into the whitespace does not count as crossing: with
 * content on both sides still at least 0.8 h apart, or with content on one
 * side only that ends (starts) at least 0.8 h short of the other side's
 * content and no item centred in the gutter (the long ragged lines of a
 * main column under a sidebar that has ended; a heading centred on the
 * gutter, or a page number in it, still crosses).
 *
 * - No candidate: the region is a leaf, read as rows top to bottom.
 * - A candidate that strips cross (titles, headers, footers, footnotes that
 *   span the columns): the region is cut into bands, maximal runs of strips
 *   that all cross it or all leave it free, read top to bottom, each a region
 *   of its own. This is the horizontal cut of XY-cut, made only where it
 *   separates column structure from full-width elements, so that text
 *   columns whose baselines align are not cut into rows.
 * - A candidate no strip crosses: the region is cut there (items go by their
 *   centre) and at every other full-height gap of at least 0.8 h into groups,
 *   and each pair of adjacent groups is either two text columns (read one
 *   after the other) or the columns of a table (read together, row by row):
 *     text column: at least 0.25 of the page width (or 15 h) wide, its items'
 *       median width at least 0.55 of the column's, median 4 words or more;
 *     two text columns stay apart when each has at least 3 items or the
 *       gutter is at least 1.5 h wide;
 *     otherwise the pair is a table when 70% of the items of either side have
 *       a tightly aligned partner on the other side (facing edges' centres
 *       within a quarter of the larger height; at least 2 such items, or 1
 *       when a side has only one).
 *   A run of groups joined as a table is a leaf; a lone group is a region.
 *   A group made of line numbers only is joined to its right neighbour,
 *   never to its left one. A group of at least 3 items, 80% of them
 *   separator marks (the column of ':' or ')' a court caption draws
 *   between the parties and the case number, of which a detector finds
 *   only some pieces), reads as a table with a neighbour that is no text
 *   column as soon as 2 items of each side align (1 when a side has one).
 * Every step works on a strict subset, so the recursion ends; it is cut off
 * at depth 64 (a leaf) to bound the stack on pathological input. Each level
 * costs O(m^2) for m items, from the gutter search.
 *
 * Known limit: a table under two text columns whose cells happen to leave
 * the text gutter free reads as part of the columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout_int.h"

#define GUTTER_MIN_H 0.8f   /* narrowest gutter, in h */
#define STRIP_TOL_H 0.2f    /* overlap that chains items into a strip */
#define TEXTCOL_PAGE 0.25f  /* text column: fraction of the page width */
#define TEXTCOL_H 15.0f     /* ... or this many h */
#define TEXTCOL_FILL 0.55f  /* median item width / column width */
#define TEXTCOL_WORDS 4     /* median words per item */
#define COLUMNS_MIN_ITEMS 3
#define COLUMNS_WIDE_GUTTER_H 1.5f
#define TABLE_ALIGNED 0.7f
#define SEPCOL_MIN_ITEMS 3  /* separator marks that make a caption column */
#define MAX_DEPTH 64

/* A strip seen from a vertical band: items and words left and right of it,
 * the nearest edges on either side, whether it crosses the band. */
typedef struct {
    int nl, nr, wl, wr;
    float lmax, rmin;
    int blocked;
    int spans;        /* an item spans the whole gutter (forgive_jutting) */
    int centred;      /* an item is centred in the gutter (forgive_jutting) */
} strip_acc;

static int emit_leaf(lay_ctx *c, int end)
{
    c->leaf_end[c->nleaves++] = end;
    return 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Sorts order[lo..hi) by (y0, x0) or (x0, y0). */
static int sort_region(lay_ctx *c, int lo, int hi, int by_x)
{
    int m = hi - lo;
    float *k = malloc(sizeof(float) * 2 * (size_t)m);
    if (!k)
        return -1;
    for (int i = 0; i < m; i++) {
        const lay_box *b = &c->items[c->order[lo + i]].box;
        k[i] = by_x ? b->x0 : b->y0;
        k[m + i] = by_x ? b->y0 : b->x0;
    }
    int rc = lay_sort2(c->order + lo, k, k + m, m);
    free(k);
    return rc;
}

/* Assigns strip ids to order[lo..hi) (sorted by y0); returns the count. */
static int make_strips(const lay_ctx *c, int lo, int hi, int *sid)
{
    int ns = 0;
    float bottom = 0;
    for (int k = lo; k < hi; k++) {
        const lay_item *it = &c->items[c->order[k]];
        float tol = STRIP_TOL_H * fminf(it->h, c->h);
        if (k == lo || it->box.y0 >= bottom - tol) {
            sid[k - lo] = ns++;
            bottom = it->box.y1;
        } else {
            sid[k - lo] = ns - 1;
            bottom = fmaxf(bottom, it->box.y1);
        }
    }
    return ns;
}

/* Classifies every strip against the vertical band (a, b). */
static void classify(const lay_ctx *c, int lo, int hi, const int *sid,
                     int ns, float a, float b, strip_acc *acc)
{
    for (int s = 0; s < ns; s++) {
        acc[s].nl = acc[s].nr = acc[s].wl = acc[s].wr = 0;
        acc[s].lmax = -INFINITY;
        acc[s].rmin = INFINITY;
        acc[s].blocked = 0;
    }
    for (int k = lo; k < hi; k++) {
        const lay_item *it = &c->items[c->order[k]];
        strip_acc *s = &acc[sid[k - lo]];
        if (it->box.x1 <= a) {
            s->nl++;
            s->wl += it->nwords;
            s->lmax = fmaxf(s->lmax, it->box.x1);
        } else if (it->box.x0 >= b) {
            s->nr++;
            s->wr += it->nwords;
            s->rmin = fminf(s->rmin, it->box.x0);
        } else {
            s->blocked = 1;
        }
    }
    /* A strip whose own gap there is narrower than a gutter crosses it. */
    float g = GUTTER_MIN_H * c->h;
    for (int s = 0; s < ns; s++)
        if (acc[s].nl && acc[s].nr && acc[s].rmin - acc[s].lmax < g)
            acc[s].blocked = 1;
}

typedef struct {
    int valid;
    float a, b;       /* the elementary interval that defines it */
    long score;       /* words on the poorer side, summed over strips */
    int nblocked;
    float left, right; /* the whitespace the strips it separates leave */
    float width;
} gutter;

static void evaluate(const lay_ctx *c, int ns, const strip_acc *acc,
                     float a, float b, gutter *best)
{
    float left = -INFINITY, right = INFINITY;
    long pairs = 0, score = 0;
    int nblocked = 0;
    for (int s = 0; s < ns; s++) {
        const strip_acc *t = &acc[s];
        if (t->blocked) {
            nblocked++;
            continue;
        }
        if (t->nl)
            left = fmaxf(left, t->lmax);
        if (t->nr)
            right = fminf(right, t->rmin);
        if (t->nl && t->nr) {
            pairs += t->nl < t->nr ? t->nl : t->nr;
            score += t->wl < t->wr ? t->wl : t->wr;
        }
    }
    float width = right - left;
    if (pairs < 2 || !(width >= GUTTER_MIN_H * c->h))
        return;
    if (best->valid) {
        if (score < best->score)
            return;
        if (score == best->score) {
            if (width < best->width)
                return;
            if (width == best->width && nblocked >= best->nblocked)
                return;
        }
    }
    best->valid = 1;
    best->a = a;
    best->b = b;
    best->score = score;
    best->nblocked = nblocked;
    best->left = left;
    best->right = right;
    best->width = width;
}

/* A strip that covers the chosen elementary interval but leaves the
 * gutter's whitespace free of any item across its whole width only juts
 * into it: it reads with the columns. Sides are taken by item centre.
 *   - Content on both sides, separated by at least a gutter: a column line
 *     longer than the others.
 *   - Content on one side only, no item centred in the gutter, ending at
 *     least a gutter short of the other side's content: a long line of a
 *     ragged column beside which the other column has no text (e.g. under
 *     a sidebar). A heading centred on the gutter, or a page number in it,
 *     still crosses.
 * Returns the number of strips still crossing. */
static int forgive_jutting(const lay_ctx *c, int lo, int hi, const int *sid,
                           int ns, const gutter *gt, strip_acc *acc)
{
    float mid = 0.5f * (gt->left + gt->right);
    float g = GUTTER_MIN_H * c->h;
    for (int s = 0; s < ns; s++) {
        acc[s].nl = acc[s].nr = 0; /* recounted by centre */
        acc[s].lmax = -INFINITY;
        acc[s].rmin = INFINITY;
        acc[s].spans = 0;
        acc[s].centred = 0;
    }
    for (int k = lo; k < hi; k++) {
        const lay_box *b = &c->items[c->order[k]].box;
        strip_acc *t = &acc[sid[k - lo]];
        float cx2 = b->x0 + b->x1;
        if (b->x0 < gt->left && b->x1 > gt->right) {
            t->spans = 1;
            continue;
        }
        if (cx2 > 2 * gt->left && cx2 < 2 * gt->right)
            t->centred = 1;
        if (cx2 < 2 * mid) {
            t->nl++;
            t->lmax = fmaxf(t->lmax, b->x1);
        } else {
            t->nr++;
            t->rmin = fminf(t->rmin, b->x0);
        }
    }
    int nblocked = 0;
    for (int s = 0; s < ns; s++) {
        strip_acc *t = &acc[s];
        if (t->blocked && !t->spans) {
            if (t->nl && t->nr)
                t->blocked = t->rmin - t->lmax < g;
            else
                t->blocked = t->centred || t->lmax > gt->right - g ||
                             t->rmin < gt->left + g;
        }
        nblocked += t->blocked;
    }
    return nblocked;
}

/* ---- groups of a region cut at its full-height gaps ---- */

typedef struct {
    int lo, hi;        /* positions in order[] */
    float x0, x1;
    int textcol, numcol, sepcol;
} group;

static float median_of(float *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    return v[(n - 1) / 2];
}

static void group_stats(const lay_ctx *c, group *g, float *tmp)
{
    int n = g->hi - g->lo, nnum = 0, nsep = 0;
    for (int k = 0; k < n; k++) {
        const lay_item *it = &c->items[c->order[g->lo + k]];
        tmp[k] = it->box.x1 - it->box.x0;
        nnum += it->numeric;
        nsep += it->separator;
    }
    float width = g->x1 - g->x0;
    float medw = median_of(tmp, n);
    for (int k = 0; k < n; k++)
        tmp[k] = (float)c->items[c->order[g->lo + k]].nwords;
    float medwords = median_of(tmp, n);
    int wide = width >= TEXTCOL_PAGE * c->page_w || width >= TEXTCOL_H * c->h;
    g->textcol = wide && medw >= TEXTCOL_FILL * width &&
                 medwords >= (float)TEXTCOL_WORDS;
    g->numcol = nnum * 5 >= n * 4; /* 80% line numbers */
    g->sepcol = n >= SEPCOL_MIN_ITEMS && nsep * 5 >= n * 4; /* 80% marks */
}

/* Whether adjacent groups a (left) and b read together as table rows. */
static int join_as_table(const lay_ctx *c, const group *a, const group *b,
                         int b_is_last)
{
    int na = a->hi - a->lo, nb = b->hi - b->lo;
    if (b->numcol && !a->numcol && !b_is_last)
        return 0; /* line numbers belong to the text on their right */
    float gap = b->x0 - a->x1;
    if (a->textcol && b->textcol &&
        ((na >= COLUMNS_MIN_ITEMS && nb >= COLUMNS_MIN_ITEMS) ||
         gap >= COLUMNS_WIDE_GUTTER_H * c->h))
        return 0;
    int ala = 0, alb = 0;
    for (int i = a->lo; i < a->hi; i++) {
        const lay_item *x = &c->items[c->order[i]];
        for (int j = b->lo; j < b->hi; j++)
            if (lay_aligned(x, &c->items[c->order[j]])) {
                ala++;
                break;
            }
    }
    for (int j = b->lo; j < b->hi; j++) {
        const lay_item *y = &c->items[c->order[j]];
        for (int i = a->lo; i < a->hi; i++)
            if (lay_aligned(&c->items[c->order[i]], y)) {
                alb++;
                break;
            }
    }
    int need = na < nb ? na : nb;
    if (need > 2)
        need = 2;
    if (ala < need || alb < need)
        return 0;
    /* a column of separator marks exists to tie the rows on either side
     * of it: any beside it that is no text column reads with it */
    if ((a->sepcol && !b->textcol) || (b->sepcol && !a->textcol))
        return 1;
    return ala >= TABLE_ALIGNED * na || alb >= TABLE_ALIGNED * nb;
}

static int region(lay_ctx *c, int lo, int hi, int depth);

/* Cuts order[lo..hi) at x = mid (items go by centre) and at every gap of
 * at least a gutter on either side, then reads the groups as columns or
 * joins neighbours into tables. */
static int split_vertical(lay_ctx *c, int lo, int hi, float mid, int depth)
{
    if (sort_region(c, lo, hi, 1))
        return -1;
    int m = hi - lo;
    group *g = malloc(sizeof(group) * (size_t)m);
    float *tmp = malloc(sizeof(float) * (size_t)m);
    char *join = malloc((size_t)m);
    int *side = malloc(sizeof(int) * (size_t)m);
    if (!g || !tmp || !join || !side) {
        free(g);
        free(tmp);
        free(join);
        free(side);
        return -1;
    }
    /* left of mid first, each side still by x0 */
    int nleft = 0, nright = 0;
    for (int k = lo; k < hi; k++) {
        const lay_box *b = &c->items[c->order[k]].box;
        if (b->x0 + b->x1 < 2 * mid)
            c->order[lo + nleft++] = c->order[k];
        else
            side[nright++] = c->order[k];
    }
    memcpy(c->order + lo + nleft, side, sizeof(int) * (size_t)nright);
    free(side);
    float gap = GUTTER_MIN_H * c->h;
    int ng = 0;
    for (int k = lo; k < hi; k++) {
        const lay_box *b = &c->items[c->order[k]].box;
        if (ng == 0 || k == lo + nleft || b->x0 - g[ng - 1].x1 >= gap) {
            g[ng].lo = k;
            g[ng].x0 = b->x0;
            g[ng].x1 = b->x1;
            ng++;
        } else {
            g[ng - 1].x0 = fminf(g[ng - 1].x0, b->x0);
            g[ng - 1].x1 = fmaxf(g[ng - 1].x1, b->x1);
        }
        g[ng - 1].hi = k + 1;
    }
    for (int i = 0; i < ng; i++)
        group_stats(c, &g[i], tmp);
    int all = 1;
    for (int i = 0; i + 1 < ng; i++) {
        join[i] = (char)join_as_table(c, &g[i], &g[i + 1], i + 2 == ng);
        all &= join[i];
    }
    free(tmp);
    int rc = 0;
    if (ng < 2 || all) {
        rc = emit_leaf(c, hi); /* one table (or nothing to split) */
    } else {
        for (int i = 0; i < ng && !rc;) {
            int j = i;
            while (j + 1 < ng && join[j])
                j++;
            if (j > i)
                rc = emit_leaf(c, g[j].hi);
            else
                rc = region(c, g[i].lo, g[i].hi, depth + 1);
            i = j + 1;
        }
    }
    free(g);
    free(join);
    return rc;
}

static int region(lay_ctx *c, int lo, int hi, int depth)
{
    int m = hi - lo;
    if (m <= 1 || depth >= MAX_DEPTH)
        return emit_leaf(c, hi);
    if (sort_region(c, lo, hi, 0))
        return -1;
    int *sid = malloc(sizeof(int) * (size_t)m);
    float *xs = malloc(sizeof(float) * 2 * (size_t)m);
    strip_acc *acc = calloc((size_t)m, sizeof(strip_acc));
    if (!sid || !xs || !acc) {
        free(sid);
        free(xs);
        free(acc);
        return -1;
    }
    int ns = make_strips(c, lo, hi, sid);
    for (int k = 0; k < m; k++) {
        const lay_box *b = &c->items[c->order[lo + k]].box;
        xs[2 * k] = b->x0;
        xs[2 * k + 1] = b->x1;
    }
    qsort(xs, 2 * (size_t)m, sizeof *xs, cmp_float);
    gutter best = {0};
    for (int i = 0; i + 1 < 2 * m; i++) {
        if (!(xs[i + 1] > xs[i]))
            continue;
        classify(c, lo, hi, sid, ns, xs[i], xs[i + 1], acc);
        evaluate(c, ns, acc, xs[i], xs[i + 1], &best);
    }
    free(xs);
    int rc = 0;
    int nblocked = 0;
    if (best.valid) {
        classify(c, lo, hi, sid, ns, best.a, best.b, acc);
        nblocked = forgive_jutting(c, lo, hi, sid, ns, &best, acc);
    }
    if (!best.valid) {
        rc = emit_leaf(c, hi);
    } else if (nblocked == 0) {
        free(sid);
        free(acc);
        return split_vertical(c, lo, hi, 0.5f * (best.left + best.right),
                              depth);
    } else {
        /* Bands: runs of strips that all cross the gutter or all leave it
         * free. Strips are contiguous in order[] (sorted by y0). */
        int start = lo;
        for (int k = lo + 1; k <= hi && !rc; k++) {
            if (k < hi && acc[sid[k - lo]].blocked ==
                              acc[sid[start - lo]].blocked)
                continue;
            /* order[start..k) is one band; recursion reorders only it */
            rc = region(c, start, k, depth + 1);
            start = k;
        }
    }
    free(sid);
    free(acc);
    return rc;
}

docrt_status lay_order(lay_ctx *c, int n)
{
    c->nleaves = 0;
    if (n <= 0)
        return DOCRT_OK;
    return region(c, 0, n, 0) ? DOCRT_ERR_NOMEM : DOCRT_OK;
}
