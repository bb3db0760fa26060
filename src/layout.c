/* layout.c - from recognised segments to the page tree.
 *
 * 1. Segments with words become items; two items of one text row whose gap
 *    is under 0.8 of their mean height (a word space or a little more) join
 *    into one. Wider gaps are left to the reading order: they may be a
 *    column gutter (the gutters of condensed transcripts and of two-column
 *    reports can be as narrow as 1.4 h).
 * 2. Line numbers: an item that is one word of 1-3 digits, in a column of at
 *    least 3 such (left or right edges within h of each other), joins the
 *    nearest item on its row to its right within 6 h, unless something on
 *    its left is closer (then it ends a line rather than starting one).
 * 3. layout_order.c arranges the items into leaves in reading order (columns,
 *    full-width elements, tables). A segment that is one word of separator
 *    marks only (':', ';', '.', ')', '|', '§') is flagged for it: a piece of
 *    the column of marks of a court caption.
 * 4. In a leaf, items of one row (lay_same_row with the row's last item,
 *    which follows a skewed row) make one line, left to right; rows run top
 *    to bottom. A leaf splits into blocks where the distance between row
 *    centres exceeds max(1.5 p, p + 0.8 h), p being the leaf's median row
 *    pitch (1.3 h with fewer than three rows).
 * 5. Everything is copied into one allocation that layout_page_release
 *    frees.
 * Thresholds are in h, the median segment height of the page. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout_int.h"

#define JOIN_GAP_H 0.8f      /* same-row items closer than this join */
#define ROW_OVERLAP 0.5f     /* vertical overlap / smaller height */
#define ROW_HEIGHT_RATIO 2.0f
#define ALIGN_CENTRE 0.25f   /* table cells: centre offset / larger height */
#define LINENO_COLUMN 3      /* numbers in a column to be line numbers */
#define LINENO_MAX_GAP_H 6.0f
#define BLOCK_PITCH_RATIO 1.5f
#define BLOCK_PITCH_EXTRA_H 0.8f
#define DEFAULT_PITCH_H 1.3f
#define SAME_ANGLE 0.02f     /* radians: segments rotated the same way */

/* ---- geometry ---- */

static lay_box quad_bbox(const docrt_quad *q)
{
    lay_box b = {q->x[0], q->y[0], q->x[0], q->y[0]};
    for (int i = 1; i < 4; i++) {
        b.x0 = fminf(b.x0, q->x[i]);
        b.x1 = fmaxf(b.x1, q->x[i]);
        b.y0 = fminf(b.y0, q->y[i]);
        b.y1 = fmaxf(b.y1, q->y[i]);
    }
    return b;
}

static lay_box box_union(lay_box a, lay_box b)
{
    lay_box r = {fminf(a.x0, b.x0), fminf(a.y0, b.y0), fmaxf(a.x1, b.x1),
                 fmaxf(a.y1, b.y1)};
    return r;
}

static int quad_finite(const docrt_quad *q)
{
    for (int i = 0; i < 4; i++)
        if (!isfinite(q->x[i]) || !isfinite(q->y[i]))
            return 0;
    return 1;
}

static float dist(float x0, float y0, float x1, float y1)
{
    return hypotf(x1 - x0, y1 - y0);
}

/* Facing vertical extents of a (left) and b (right): their edges when b
 * lies to the right of a, their bboxes when they overlap horizontally. */
static void facing(const lay_item *a, const lay_item *b, float *a0, float *a1,
                   float *b0, float *b1)
{
    if (b->box.x0 >= a->box.x1 - 0.5f * fminf(a->h, b->h)) {
        *a0 = a->ry0;
        *a1 = a->ry1;
        *b0 = b->ly0;
        *b1 = b->ly1;
    } else {
        *a0 = a->box.y0;
        *a1 = a->box.y1;
        *b0 = b->box.y0;
        *b1 = b->box.y1;
    }
}

float lay_row_overlap(const lay_item *a, const lay_item *b)
{
    float a0, a1, b0, b1;
    facing(a, b, &a0, &a1, &b0, &b1);
    float ha = fmaxf(a1 - a0, 1e-3f), hb = fmaxf(b1 - b0, 1e-3f);
    float mn = fminf(ha, hb), mx = fmaxf(ha, hb);
    if (mx > ROW_HEIGHT_RATIO * mn)
        return 0;
    return (fminf(a1, b1) - fmaxf(a0, b0)) / mn;
}

int lay_same_row(const lay_item *a, const lay_item *b)
{
    return lay_row_overlap(a, b) >= ROW_OVERLAP;
}

int lay_aligned(const lay_item *a, const lay_item *b)
{
    float a0, a1, b0, b1;
    facing(a, b, &a0, &a1, &b0, &b1);
    float ha = fmaxf(a1 - a0, 1e-3f), hb = fmaxf(b1 - b0, 1e-3f);
    float mn = fminf(ha, hb), mx = fmaxf(ha, hb);
    return mx <= ROW_HEIGHT_RATIO * mn &&
           fabsf((a0 + a1) - (b0 + b1)) * 0.5f <= ALIGN_CENTRE * mx;
}

typedef struct {
    float k1, k2;
    int i;
} sort_key;

static int cmp_key(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    if (a->k2 != b->k2)
        return a->k2 < b->k2 ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

int lay_sort2(int *idx, const float *k1, const float *k2, int m)
{
    if (m < 2)
        return 0;
    sort_key *k = malloc(sizeof(sort_key) * (size_t)m);
    if (!k)
        return -1;
    for (int i = 0; i < m; i++) {
        k[i].k1 = k1[i];
        k[i].k2 = k2[i];
        k[i].i = idx[i];
    }
    qsort(k, (size_t)m, sizeof *k, cmp_key);
    for (int i = 0; i < m; i++)
        idx[i] = k[i].i;
    free(k);
    return 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* ---- segments and items ---- */

static int word_ok(const layout_word *w)
{
    return w->text && w->text[0];
}

static int is_number(const char *t)
{
    int n = 0;
    while (t[n] >= '0' && t[n] <= '9')
        n++;
    return n >= 1 && n <= 3 && t[n] == 0;
}

/* Only separator marks: ':', ';', '.', ')', '|', U+00A7 '§'. */
static int is_separator(const char *t)
{
    int n = 0;
    for (; *t; t++, n++) {
        if (strchr(":;.)|", *t))
            continue;
        if ((unsigned char)t[0] == 0xC2 && (unsigned char)t[1] == 0xA7) {
            t++;
            continue;
        }
        return 0;
    }
    return n > 0;
}

static const layout_word *only_word(const lay_ctx *c, const lay_item *it)
{
    const layout_segment *s = c->segs[it->head].src;
    for (int i = 0; i < s->n_words; i++)
        if (word_ok(&s->words[i]))
            return &s->words[i];
    return NULL;
}

/* b (on the right of a) joins a. */
static void merge_into(lay_ctx *c, lay_item *a, lay_item *b)
{
    c->segs[a->tail].next = b->head;
    a->tail = b->tail;
    if (b->box.x1 >= a->box.x1) {
        a->ry0 = b->ry0;
        a->ry1 = b->ry1;
    }
    a->box = box_union(a->box, b->box);
    a->h = fmaxf(a->h, b->h);
    a->nwords += b->nwords;
    a->numeric = 0;
    a->separator = 0;
    b->alive = 0;
}

/* Step 1: joins same-row items closer than JOIN_GAP_H, scanning left to
 * right so that an item grows along its row. */
static int join_close(lay_ctx *c)
{
    int n = c->nitems;
    int *idx = malloc(sizeof(int) * (size_t)n);
    float *k = calloc(2 * (size_t)n, sizeof(float));
    if (!idx || !k) {
        free(idx);
        free(k);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        k[i] = c->items[i].box.x0;
        k[n + i] = c->items[i].box.y0;
    }
    if (lay_sort2(idx, k, k + n, n)) {
        free(idx);
        free(k);
        return -1;
    }
    for (int a = 1; a < n; a++) {
        lay_item *s = &c->items[idx[a]];
        lay_item *best = NULL;
        float best_gap = 0;
        for (int b = 0; b < a; b++) {
            lay_item *p = &c->items[idx[b]];
            if (!p->alive || !lay_same_row(p, s))
                continue;
            float gap = s->box.x0 - p->box.x1;
            float lim = JOIN_GAP_H * 0.5f * (p->h + s->h);
            if (gap < lim && (!best || gap < best_gap)) {
                best = p;
                best_gap = gap;
            }
        }
        if (best)
            merge_into(c, best, s);
    }
    free(idx);
    free(k);
    return 0;
}

/* Step 2: line numbers join the text on their right. */
static int join_line_numbers(lay_ctx *c)
{
    int n = c->nitems;
    float h = c->h;
    char *cand = calloc((size_t)n + 1, 1);
    if (!cand)
        return -1;
    for (int i = 0; i < n; i++) {
        const lay_item *a = &c->items[i];
        if (!a->alive || !a->numeric)
            continue;
        int mates = 0;
        for (int j = 0; j < n && mates + 1 < LINENO_COLUMN; j++) {
            const lay_item *b = &c->items[j];
            if (j == i || !b->alive || !b->numeric)
                continue;
            float dy = fabsf((a->box.y0 + a->box.y1) - (b->box.y0 + b->box.y1));
            if (dy * 0.5f < 0.5f * h)
                continue; /* same row: not a column mate */
            if (fabsf(a->box.x1 - b->box.x1) <= h ||
                fabsf(a->box.x0 - b->box.x0) <= h)
                mates++;
        }
        cand[i] = mates + 1 >= LINENO_COLUMN;
    }
    for (int i = 0; i < n; i++) {
        lay_item *a = &c->items[i];
        if (!cand[i] || !a->alive)
            continue;
        lay_item *right = NULL, *left = NULL;
        float rgap = 0, lgap = 0;
        for (int j = 0; j < n; j++) {
            lay_item *b = &c->items[j];
            if (j == i || !b->alive)
                continue;
            if (b->box.x0 >= a->box.x1 - 0.25f * h && !cand[j] &&
                lay_same_row(a, b)) {
                float g = b->box.x0 - a->box.x1;
                if (g <= LINENO_MAX_GAP_H * h && (!right || g < rgap)) {
                    right = b;
                    rgap = g;
                }
            } else if (b->box.x1 <= a->box.x0 + 0.25f * h &&
                       lay_same_row(b, a)) {
                float g = a->box.x0 - b->box.x1;
                if (!left || g < lgap) {
                    left = b;
                    lgap = g;
                }
            }
        }
        if (right && (!left || lgap >= rgap))
            merge_into(c, a, right);
    }
    free(cand);
    return 0;
}

/* ---- rows and blocks of the leaves ---- */

typedef struct {
    int *row_items; /* items, row after row, in reading order */
    int *row_end;   /* row r is row_items[row_end[r-1] .. row_end[r]) */
    int nrows;
    int *block_end; /* block b is rows [block_end[b-1] .. block_end[b]) */
    int nblocks;
} lay_tree;

static float item_cy(const lay_item *it)
{
    return 0.5f * (it->box.y0 + it->box.y1);
}

/* Groups the items of order[lo..hi) into rows; appends rows and blocks. */
static int leaf_rows(const lay_ctx *c, int lo, int hi, lay_tree *t,
                     int *scratch, float *fscratch)
{
    int m = hi - lo;
    int *idx = c->order + lo;
    float *k1 = fscratch, *k2 = fscratch + m;
    for (int i = 0; i < m; i++) {
        k1[i] = c->items[idx[i]].box.x0;
        k2[i] = c->items[idx[i]].box.y0;
    }
    if (lay_sort2(idx, k1, k2, m))
        return -1;
    int *row_of = scratch, *last = scratch + m, *cnt = scratch + 2 * m;
    int *rord = scratch + 3 * m, *pos = scratch + 4 * m;
    float *sumcy = fscratch, *firstx = fscratch + m;
    int nr = 0;
    for (int i = 0; i < m; i++) {
        const lay_item *it = &c->items[idx[i]];
        int best = -1;
        float best_ov = 0;
        for (int r = 0; r < nr; r++) {
            float ov = lay_row_overlap(&c->items[last[r]], it);
            if (ov >= ROW_OVERLAP && ov > best_ov) {
                best = r;
                best_ov = ov;
            }
        }
        if (best < 0) {
            best = nr++;
            cnt[best] = 0;
            sumcy[best] = 0;
            firstx[best] = it->box.x0;
        }
        row_of[i] = best;
        last[best] = idx[i];
        cnt[best]++;
        sumcy[best] += item_cy(it);
    }
    for (int r = 0; r < nr; r++) {
        rord[r] = r;
        sumcy[r] /= (float)cnt[r];
    }
    /* rows top to bottom by mean centre (sumcy now holds it) */
    {
        float *ka = malloc(sizeof(float) * (2 * (size_t)nr + 1));
        if (!ka)
            return -1;
        for (int r = 0; r < nr; r++) {
            ka[r] = sumcy[r];
            ka[nr + r] = firstx[r];
        }
        int rc = lay_sort2(rord, ka, ka + nr, nr);
        free(ka);
        if (rc)
            return -1;
    }
    /* pos[r] = first slot of row id r in row_items */
    int base = t->nrows ? t->row_end[t->nrows - 1] : 0;
    int off = base;
    for (int q = 0; q < nr; q++) {
        int r = rord[q];
        pos[r] = off;
        off += cnt[r];
        t->row_end[t->nrows + q] = off;
    }
    for (int i = 0; i < m; i++)
        t->row_items[pos[row_of[i]]++] = idx[i];
    /* blocks: split where the row pitch jumps */
    float *pitch = fscratch + 2 * m;
    int np = 0;
    for (int q = 0; q + 1 < nr; q++)
        pitch[np++] = sumcy[rord[q + 1]] - sumcy[rord[q]];
    float p = DEFAULT_PITCH_H * c->h;
    if (np >= 2) {
        float *tmp = fscratch + 3 * m;
        memcpy(tmp, pitch, sizeof(float) * (size_t)np);
        qsort(tmp, (size_t)np, sizeof *tmp, cmp_float);
        p = tmp[(np - 1) / 2];
    }
    float lim = fmaxf(BLOCK_PITCH_RATIO * p, p + BLOCK_PITCH_EXTRA_H * c->h);
    for (int q = 0; q + 1 < nr; q++)
        if (pitch[q] > lim)
            t->block_end[t->nblocks++] = t->nrows + q + 1;
    t->nrows += nr;
    t->block_end[t->nblocks++] = t->nrows;
    return 0;
}

/* ---- output ---- */

static size_t align_up(size_t n)
{
    size_t a = _Alignof(max_align_t);
    return (n + a - 1) / a * a;
}

static void line_quad(const lay_ctx *c, const lay_tree *t, int r,
                      docrt_quad *out, lay_box *box)
{
    int start = r ? t->row_end[r - 1] : 0, end = t->row_end[r];
    int nseg = 0, same = 1;
    float a0 = 0, sum_a = 0;
    const docrt_quad *first = NULL;
    for (int k = start; k < end; k++) {
        const lay_item *it = &c->items[t->row_items[k]];
        for (int s = it->head; s >= 0; s = c->segs[s].next) {
            const docrt_quad *q = &c->segs[s].src->quad;
            float a = atan2f(q->y[1] - q->y[0], q->x[1] - q->x[0]);
            if (!nseg) {
                a0 = a;
                first = q;
                *box = c->segs[s].box;
            } else {
                *box = box_union(*box, c->segs[s].box);
                if (fabsf(a - a0) > SAME_ANGLE)
                    same = 0;
            }
            sum_a += a;
            nseg++;
        }
    }
    if (nseg <= 1) {
        if (first)
            *out = *first;
        return;
    }
    if (!same) {
        docrt_quad q = {{box->x0, box->x1, box->x1, box->x0},
                        {box->y0, box->y0, box->y1, box->y1}};
        *out = q;
        return;
    }
    /* all rotated alike: the rectangle at their mean angle around them */
    float ang = sum_a / (float)nseg, ux = cosf(ang), uy = sinf(ang);
    float umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    for (int k = start; k < end; k++) {
        const lay_item *it = &c->items[t->row_items[k]];
        for (int s = it->head; s >= 0; s = c->segs[s].next) {
            const docrt_quad *q = &c->segs[s].src->quad;
            for (int i = 0; i < 4; i++) {
                float u = q->x[i] * ux + q->y[i] * uy;
                float v = -q->x[i] * uy + q->y[i] * ux;
                umin = fminf(umin, u);
                umax = fmaxf(umax, u);
                vmin = fminf(vmin, v);
                vmax = fmaxf(vmax, v);
            }
        }
    }
    float us[4] = {umin, umax, umax, umin}, vs[4] = {vmin, vmin, vmax, vmax};
    for (int i = 0; i < 4; i++) {
        out->x[i] = us[i] * ux - vs[i] * uy;
        out->y[i] = us[i] * uy + vs[i] * ux;
    }
}

static int ends_with(const char *t, const char *set)
{
    size_t n = strlen(t);
    return n && strchr(set, t[n - 1]) != NULL;
}

/* Two neighbouring words that Latin typography writes as one token: after
 * an opening bracket or a currency sign, before a closing bracket, and a
 * '.' or ',' that runs straight on into a letter or digit ("31" ".60",
 * "ICPT" ".O"). The detector often cuts such tokens into two boxes at a
 * tabular-figure gap, and the line would read "( TICKER)" or "$31 .60". */
static int glued(const char *a, const char *b)
{
    if (ends_with(a, "([$") || (b[0] && strchr(")]", b[0])))
        return 1;
    size_t n = strlen(a);
    return n && isalnum((unsigned char)a[n - 1]) && (b[0] == '.' || b[0] == ',') &&
           isalnum((unsigned char)b[1]);
}

/* Joins glued words in place. Their texts and confidences are adjacent in
 * the arena (copied in order), so word w's text moves left over the NUL of
 * word w-1. Returns the new word count. */
static int glue_words(docrt_word *words, int n)
{
    int k = 0;
    for (int w = 0; w < n; w++) {
        if (k > 0 && glued(words[k - 1].text, words[w].text)) {
            docrt_word *a = &words[k - 1];
            const docrt_word *b = &words[w];
            size_t la = strlen(a->text), lb = strlen(b->text);
            char *dst = (char *)a->text + la;
            memmove(dst, b->text, lb + 1);
            if (a->char_conf && b->char_conf &&
                a->char_conf + a->n_chars == b->char_conf)
                a->n_chars += b->n_chars;
            else {
                a->char_conf = NULL;
                a->n_chars = 0;
            }
            a->box.x0 = fminf(a->box.x0, b->box.x0);
            a->box.y0 = fminf(a->box.y0, b->box.y0);
            a->box.x1 = fmaxf(a->box.x1, b->box.x1);
            a->box.y1 = fmaxf(a->box.y1, b->box.y1);
            a->quad.x[1] = b->quad.x[1];
            a->quad.y[1] = b->quad.y[1];
            a->quad.x[2] = b->quad.x[2];
            a->quad.y[2] = b->quad.y[2];
            if (b->confidence < a->confidence) a->confidence = b->confidence;
            continue;
        }
        words[k++] = words[w];
    }
    return k;
}

static docrt_status build_output(const lay_ctx *c, const lay_tree *t,
                                 docrt_page *page)
{
    /* sizes */
    size_t nwords = 0, nfloats = 0, nchars = 0;
    for (int r = 0; r < t->nrows; r++) {
        int start = r ? t->row_end[r - 1] : 0;
        size_t lw = 0;
        for (int k = start; k < t->row_end[r]; k++) {
            const lay_item *it = &c->items[t->row_items[k]];
            for (int s = it->head; s >= 0; s = c->segs[s].next) {
                const layout_segment *sg = c->segs[s].src;
                for (int w = 0; w < sg->n_words; w++) {
                    const layout_word *wd = &sg->words[w];
                    if (!word_ok(wd))
                        continue;
                    size_t len = strlen(wd->text);
                    nchars += 2 * (len + 1); /* word copy + line text */
                    if (wd->char_conf && wd->n_chars > 0)
                        nfloats += (size_t)wd->n_chars;
                    lw++;
                }
            }
        }
        nwords += lw;
    }
    size_t off_lines = align_up(sizeof(docrt_block) * (size_t)t->nblocks);
    size_t off_words = off_lines + align_up(sizeof(docrt_line) * (size_t)t->nrows);
    size_t off_floats = off_words + align_up(sizeof(docrt_word) * nwords);
    size_t off_chars = off_floats + align_up(sizeof(float) * nfloats);
    size_t total = off_chars + nchars;
    char *arena = malloc(total ? total : 1);
    if (!arena)
        return DOCRT_ERR_NOMEM;
    docrt_block *blocks = (docrt_block *)(void *)arena;
    docrt_line *lines = (docrt_line *)(void *)(arena + off_lines);
    docrt_word *words = (docrt_word *)(void *)(arena + off_words);
    float *floats = (float *)(void *)(arena + off_floats);
    char *chars = arena + off_chars;

    int li = 0;
    size_t wi = 0;
    for (int b = 0; b < t->nblocks; b++) {
        int r0 = b ? t->block_end[b - 1] : 0, r1 = t->block_end[b];
        docrt_block *bk = &blocks[b];
        bk->lines = &lines[li];
        bk->n_lines = r1 - r0;
        double bconf = 0;
        for (int r = r0; r < r1; r++, li++) {
            docrt_line *ln = &lines[li];
            lay_box lb = {0, 0, 0, 0};
            line_quad(c, t, r, &ln->quad, &lb);
            ln->box.x0 = lb.x0;
            ln->box.y0 = lb.y0;
            ln->box.x1 = lb.x1;
            ln->box.y1 = lb.y1;
            ln->words = &words[wi];
            ln->n_words = 0;
            double conf = 0;
            int start = r ? t->row_end[r - 1] : 0;
            for (int k = start; k < t->row_end[r]; k++) {
                const lay_item *it = &c->items[t->row_items[k]];
                for (int s = it->head; s >= 0; s = c->segs[s].next) {
                    const layout_segment *sg = c->segs[s].src;
                    for (int w = 0; w < sg->n_words; w++) {
                        const layout_word *wd = &sg->words[w];
                        if (!word_ok(wd))
                            continue;
                        size_t len = strlen(wd->text);
                        docrt_word *dw = &words[wi++];
                        memcpy(chars, wd->text, len + 1);
                        dw->text = chars;
                        chars += len + 1;
                        lay_box wb = quad_bbox(&wd->quad);
                        dw->box.x0 = wb.x0;
                        dw->box.y0 = wb.y0;
                        dw->box.x1 = wb.x1;
                        dw->box.y1 = wb.y1;
                        dw->quad = wd->quad;
                        dw->confidence = wd->confidence;
                        dw->char_conf = NULL;
                        dw->n_chars = 0;
                        if (wd->char_conf && wd->n_chars > 0) {
                            memcpy(floats, wd->char_conf,
                                   sizeof(float) * (size_t)wd->n_chars);
                            dw->char_conf = floats;
                            dw->n_chars = wd->n_chars;
                            floats += wd->n_chars;
                        }
                        conf += wd->confidence;
                        ln->n_words++;
                    }
                }
            }
            ln->n_words = glue_words(ln->words, ln->n_words);
            wi = (size_t)(ln->words - words) + (size_t)ln->n_words;
            conf = 0;
            for (int w = 0; w < ln->n_words; w++) conf += ln->words[w].confidence;
            /* the line's text: its words' copies joined by single spaces */
            char *text = chars;
            for (int w = 0; w < ln->n_words; w++) {
                size_t len = strlen(ln->words[w].text);
                memcpy(chars, ln->words[w].text, len);
                chars += len;
                *chars++ = w + 1 < ln->n_words ? ' ' : 0;
            }
            ln->text = text;
            ln->confidence = ln->n_words ? (float)(conf / ln->n_words) : 0;
            bconf += ln->confidence;
            if (r == r0) {
                bk->box = ln->box;
            } else {
                bk->box.x0 = fminf(bk->box.x0, ln->box.x0);
                bk->box.y0 = fminf(bk->box.y0, ln->box.y0);
                bk->box.x1 = fmaxf(bk->box.x1, ln->box.x1);
                bk->box.y1 = fmaxf(bk->box.y1, ln->box.y1);
            }
        }
        bk->confidence = bk->n_lines ? (float)(bconf / bk->n_lines) : 0;
    }
    page->blocks = t->nblocks ? blocks : NULL;
    page->n_blocks = t->nblocks;
    if (!t->nblocks)
        free(arena);
    return DOCRT_OK;
}

/* ---- entry points ---- */

static float median_height(const lay_seg *s, int n)
{
    float *v = malloc(sizeof(float) * (size_t)n);
    if (!v)
        return -1;
    for (int i = 0; i < n; i++)
        v[i] = s[i].h;
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    float m = v[(n - 1) / 2];
    free(v);
    return m;
}

docrt_status layout_build(const layout_segment *segs, int n,
                          const layout_params *p, docrt_page *page)
{
    if (!page || n < 0 || (n > 0 && !segs))
        return DOCRT_ERR_ARG;
    page->blocks = NULL;
    page->n_blocks = 0;
    if (n == 0)
        return DOCRT_OK;

    docrt_status st = DOCRT_ERR_NOMEM;
    lay_ctx c = {0};
    lay_tree t = {0};
    int *scratch = NULL;
    float *fscratch = NULL;
    c.segs = malloc(sizeof(lay_seg) * (size_t)n);
    c.items = malloc(sizeof(lay_item) * (size_t)n);
    if (!c.segs || !c.items)
        goto out;
    float max_x = 0;
    for (int i = 0; i < n; i++) {
        const layout_segment *sg = &segs[i];
        int nw = 0;
        if (sg->words && sg->n_words > 0)
            for (int w = 0; w < sg->n_words; w++)
                nw += word_ok(&sg->words[w]);
        if (!nw || !quad_finite(&sg->quad))
            continue; /* nothing to read, or nowhere to put it */
        const docrt_quad *q = &sg->quad;
        lay_seg *s = &c.segs[c.nsegs];
        s->src = sg;
        s->box = quad_bbox(q);
        s->h = 0.5f * (dist(q->x[0], q->y[0], q->x[3], q->y[3]) +
                       dist(q->x[1], q->y[1], q->x[2], q->y[2]));
        if (!(s->h >= 1))
            s->h = fmaxf(s->box.y1 - s->box.y0, 1);
        s->ly0 = fminf(q->y[0], q->y[3]);
        s->ly1 = fmaxf(q->y[0], q->y[3]);
        s->ry0 = fminf(q->y[1], q->y[2]);
        s->ry1 = fmaxf(q->y[1], q->y[2]);
        s->nwords = nw;
        s->next = -1;
        max_x = fmaxf(max_x, s->box.x1);
        c.nsegs++;
    }
    if (!c.nsegs) {
        st = DOCRT_OK;
        goto out;
    }
    c.h = median_height(c.segs, c.nsegs);
    if (c.h < 0)
        goto out;
    c.page_w = p && p->page_w > 0 ? (float)p->page_w : max_x;
    for (int i = 0; i < c.nsegs; i++) {
        const lay_seg *s = &c.segs[i];
        lay_item *it = &c.items[i];
        it->head = it->tail = i;
        it->box = s->box;
        it->h = s->h;
        it->ly0 = s->ly0;
        it->ly1 = s->ly1;
        it->ry0 = s->ry0;
        it->ry1 = s->ry1;
        it->nwords = s->nwords;
        it->alive = 1;
        it->numeric = 0;
        it->separator = 0;
    }
    c.nitems = c.nsegs;
    for (int i = 0; i < c.nitems; i++) {
        const layout_word *w = only_word(&c, &c.items[i]);
        c.items[i].numeric = c.segs[i].nwords == 1 && w && is_number(w->text);
        c.items[i].separator =
            c.segs[i].nwords == 1 && w && is_separator(w->text);
    }
    if (join_close(&c) || join_line_numbers(&c))
        goto out;

    int m = 0;
    c.order = malloc(sizeof(int) * (size_t)c.nitems);
    c.leaf_end = malloc(sizeof(int) * (size_t)c.nitems);
    if (!c.order || !c.leaf_end)
        goto out;
    for (int i = 0; i < c.nitems; i++)
        if (c.items[i].alive)
            c.order[m++] = i;
    st = lay_order(&c, m);
    if (st != DOCRT_OK)
        goto out;
    st = DOCRT_ERR_NOMEM;

    t.row_items = malloc(sizeof(int) * ((size_t)m + 1));
    t.row_end = malloc(sizeof(int) * (size_t)m);
    t.block_end = malloc(sizeof(int) * (size_t)m);
    scratch = calloc(5 * (size_t)m + 1, sizeof(int));
    fscratch = malloc(sizeof(float) * 4 * (size_t)m);
    if (!t.row_items || !t.row_end || !t.block_end || !scratch || !fscratch)
        goto out;
    for (int k = 0, lo = 0; k < c.nleaves; k++) {
        if (leaf_rows(&c, lo, c.leaf_end[k], &t, scratch, fscratch))
            goto out;
        lo = c.leaf_end[k];
    }
    st = build_output(&c, &t, page);
out:
    free(c.segs);
    free(c.items);
    free(c.order);
    free(c.leaf_end);
    free(t.row_items);
    free(t.row_end);
    free(t.block_end);
    free(scratch);
    free(fscratch);
    return st;
}

void layout_page_release(docrt_page *page)
{
    if (!page)
        return;
    free(page->blocks); /* one allocation holds the whole tree */
    page->blocks = NULL;
    page->n_blocks = 0;
}
