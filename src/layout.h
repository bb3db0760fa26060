/* layout.h - from recognised text segments to the page tree: words in
 * lines, lines in blocks, blocks in reading order (columns, tables, marginal
 * line numbers). All coordinates are upright page pixels.
 *
 * Reading order follows the conventions of the ground truth it is scored
 * against: a multi-column page reads column by column, with full-width
 * titles, headers and footers breaking the columns; a table, a caption
 * block or a numbered transcript reads row by row, each row one line with
 * its cells (or its line number first) separated by single spaces. How it
 * is decided, and every threshold, is described in layout.c and
 * layout_order.c. No global state: calls on different pages may run in
 * parallel. */
#ifndef DOCRT_LAYOUT_H
#define DOCRT_LAYOUT_H

#include "docrt.h"

typedef struct {
    const char *text;      /* UTF-8, no spaces; NULL or "" = no word */
    docrt_quad quad;
    float confidence;
    const float *char_conf; /* n_chars values, or NULL */
    int n_chars;
} layout_word;

/* One detector box after recognition: a line or a piece of one (a table
 * cell, one column's part of a row, a line number, a few words). */
typedef struct {
    docrt_quad quad;       /* clockwise from the text's top-left */
    float confidence;      /* not used: lines take their words' mean */
    const layout_word *words; /* left to right */
    int n_words;
} layout_segment;

typedef struct {
    int page_w, page_h;    /* 0 = unknown; page_w sizes what a text column
                            * is (else the segments' extent); page_h unused */
} layout_params;

/* Fills page->blocks / n_blocks with deep copies of the words (text and
 * char_conf), so the segments may be freed afterwards; the rest of *page is
 * left alone. page->blocks is overwritten, not freed: release it first.
 * Segments with no words (or whose quad is not finite) are dropped; n == 0
 * gives zero blocks. p may be NULL.
 *   word:  box = bbox of its quad, the rest copied.
 *   line:  its words left to right, text = words joined by single spaces,
 *          box = bbox of its segments' quads, quad = the segment's quad for
 *          one segment, else the rectangle around them all at their angle
 *          when they are all turned alike (within 0.02 rad), else the box's
 *          corners; confidence = mean of its words'.
 *   block: a paragraph or a piece of column or table; box = bbox of its
 *          lines, confidence = mean of its lines'.
 * DOCRT_ERR_ARG: page NULL, n < 0, or segs NULL with n > 0.
 * DOCRT_ERR_NOMEM: page then holds no blocks. */
docrt_status layout_build(const layout_segment *segs, int n,
                          const layout_params *p, docrt_page *page);
/* Frees what layout_build put in page (one allocation holds blocks, lines,
 * words, strings and char_conf) and sets blocks = NULL, n_blocks = 0. page
 * may be NULL; calling it twice is harmless. */
void layout_page_release(docrt_page *page);

#endif
