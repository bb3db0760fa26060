/* layout_int.h - what layout.c (segments -> items -> lines -> blocks) and
 * layout_order.c (reading order of the items) share. Internal to layout.
 *
 * Every threshold is a multiple of h, the median segment height of the page
 * (the height of a text line as the detector boxes it), so that the same
 * rules hold at 150 and at 600 dpi. */
#ifndef DOCRT_LAYOUT_INT_H
#define DOCRT_LAYOUT_INT_H

#include "layout.h"

typedef struct { float x0, y0, x1, y1; } lay_box;

/* A segment with at least one word, and its geometry. */
typedef struct {
    const layout_segment *src;
    lay_box box;              /* axis-aligned bbox of the quad */
    float h;                  /* text height: mean of the quad's side edges */
    float ly0, ly1, ry0, ry1; /* y ranges of the left and right edges */
    int nwords;               /* words with non-empty text */
    int next;                 /* next segment of the same item, or -1 */
} lay_seg;

/* An item: segments of one text row that belong together for certain
 * (close on the same row, or a line number and its text), left to right.
 * Items are what the reading order arranges. */
typedef struct {
    int head, tail;           /* segment list through lay_seg.next */
    lay_box box;
    float h;                  /* largest segment height */
    float ly0, ly1;           /* left edge of the first segment */
    float ry0, ry1;           /* right edge of the right-most segment */
    int nwords;
    int numeric;              /* one word of 1-3 digits (a line number?) */
    int separator;            /* one word of separator marks only (':', ')',
                               * '.', ';', '|', '§'): a piece of the column of
                               * marks a court caption draws between the
                               * parties and the case number */
    int alive;                /* 0 once merged into another item */
} lay_item;

typedef struct {
    lay_seg *segs;
    int nsegs;
    lay_item *items;
    int nitems;
    float h;                  /* median segment height, the unit */
    float page_w;
    /* lay_order permutes order[0..n) into reading order and cuts it into
     * leaves: leaf k is order[leaf_end[k-1] .. leaf_end[k]) (leaf_end[-1]
     * = 0). A leaf is a single-column piece or a table: its items are read
     * as rows, top to bottom, each row left to right. */
    int *order;
    int *leaf_end;
    int nleaves;
} lay_ctx;

/* Same text row: a (left) and b (right) overlap vertically by at least
 * half the smaller height, and neither is more than twice the other's
 * height. Compares a's right edge with b's left edge, so that a page
 * skewed by a degree or two still pairs its rows. */
int lay_same_row(const lay_item *a, const lay_item *b);
/* Vertical overlap of a and b (as in lay_same_row) over the smaller
 * height; <= 0 when none. */
float lay_row_overlap(const lay_item *a, const lay_item *b);
/* Tightly aligned as cells of one table row: heights within a factor 2,
 * the facing edges' centres within a quarter of the larger height (a colon
 * or a line number is smaller than the text beside it). */
int lay_aligned(const lay_item *a, const lay_item *b);

/* Sorts idx[0..m) by (k1, k2, idx) ascending; keys[i] belongs to idx[i].
 * Returns -1 when out of memory. */
int lay_sort2(int *idx, const float *k1, const float *k2, int m);

/* Reading order of c->order[0..n); fills leaf_end / nleaves (leaf_end
 * has room for n entries). */
docrt_status lay_order(lay_ctx *c, int n);

#endif
