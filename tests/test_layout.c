/* test_layout.c - layout on hand-made segment sets: lines, columns, full-width
 * elements, tables, line numbers, condensed transcripts, skew; the boxes and
 * confidences of the tree; ownership of what layout_build returns. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"

#define MAXS 1024
#define MAXW 8192

/* A segment set: segments and their words, built from x, y, w, h and a text
 * whose words share the box in proportion to their lengths. */
typedef struct {
    layout_segment segs[MAXS];
    layout_word words[MAXW];
    char *texts[MAXW];
    float *confs[MAXW];
    int ns, nw;
    float conf; /* confidence given to the next words */
} segset;

static segset *S;
static docrt_page P;

static void setup(void)
{
    S = calloc(1, sizeof *S);
    ck_assert_ptr_nonnull(S);
    S->conf = 0.9f;
    memset(&P, 0, sizeof P);
}

static void teardown(void)
{
    layout_page_release(&P);
    for (int i = 0; i < S->nw; i++) {
        free(S->texts[i]);
        free(S->confs[i]);
    }
    free(S);
}

static float lerp(float a, float b, float t) { return a + (b - a) * t; }

/* Adds a segment with quad q and the words of text (split at spaces). */
static layout_segment *add_quad(const docrt_quad *q, const char *text)
{
    ck_assert_int_lt(S->ns, MAXS);
    layout_segment *s = &S->segs[S->ns++];
    s->quad = *q;
    s->confidence = S->conf;
    s->words = &S->words[S->nw];
    s->n_words = 0;
    size_t total = strlen(text);
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " ");
        ck_assert_int_lt(S->nw, MAXW);
        int wi = S->nw++;
        layout_word *w = &S->words[wi];
        char *t = malloc(len + 1);
        float *cc = malloc(sizeof(float) * (len ? len : 1));
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_nonnull(cc);
        memcpy(t, p, len);
        t[len] = 0;
        for (size_t i = 0; i < len; i++)
            cc[i] = S->conf;
        S->texts[wi] = t;
        S->confs[wi] = cc;
        float u0 = (float)(p - text) / (float)total;
        float u1 = (float)(p - text + (long)len) / (float)total;
        w->quad.x[0] = lerp(q->x[0], q->x[1], u0);
        w->quad.y[0] = lerp(q->y[0], q->y[1], u0);
        w->quad.x[1] = lerp(q->x[0], q->x[1], u1);
        w->quad.y[1] = lerp(q->y[0], q->y[1], u1);
        w->quad.x[2] = lerp(q->x[3], q->x[2], u1);
        w->quad.y[2] = lerp(q->y[3], q->y[2], u1);
        w->quad.x[3] = lerp(q->x[3], q->x[2], u0);
        w->quad.y[3] = lerp(q->y[3], q->y[2], u0);
        w->text = t;
        w->confidence = S->conf;
        w->char_conf = cc;
        w->n_chars = (int)len;
        s->n_words++;
        p += len;
    }
    return s;
}

/* An upright segment. */
static layout_segment *seg(float x, float y, float w, float h, const char *text)
{
    docrt_quad q = {{x, x + w, x + w, x}, {y, y, y + h, y + h}};
    return add_quad(&q, text);
}

/* A segment whose top edge starts at (x, y) and turns by angle (radians,
 * clockwise on the page, as y grows downwards). */
static layout_segment *seg_rot(float x, float y, float w, float h, float angle,
                               const char *text)
{
    float c = cosf(angle), s = sinf(angle);
    docrt_quad q = {{x, x + w * c, x + w * c - h * s, x - h * s},
                    {y, y + w * s, y + w * s + h * c, y + h * c}};
    return add_quad(&q, text);
}

static void build(int page_w, int page_h)
{
    layout_params p = {page_w, page_h};
    ck_assert_int_eq(layout_build(S->segs, S->ns, &p, &P), DOCRT_OK);
}

/* The page's text: every line, in reading order, joined by '\n'. */
static char *page_text(const docrt_page *pg)
{
    size_t n = 1;
    for (int b = 0; b < pg->n_blocks; b++)
        for (int l = 0; l < pg->blocks[b].n_lines; l++)
            n += strlen(pg->blocks[b].lines[l].text) + 1;
    char *t = malloc(n), *o = t;
    ck_assert_ptr_nonnull(t);
    *o = 0;
    for (int b = 0; b < pg->n_blocks; b++)
        for (int l = 0; l < pg->blocks[b].n_lines; l++) {
            if (o != t)
                *o++ = '\n';
            size_t k = strlen(pg->blocks[b].lines[l].text);
            memcpy(o, pg->blocks[b].lines[l].text, k + 1);
            o += k;
        }
    return t;
}

#define ASSERT_TEXT(expected)                                                  \
    do {                                                                       \
        char *got_ = page_text(&P);                                            \
        ck_assert_str_eq(got_, expected);                                      \
        free(got_);                                                            \
    } while (0)

static int total_lines(void)
{
    int n = 0;
    for (int b = 0; b < P.n_blocks; b++)
        n += P.blocks[b].n_lines;
    return n;
}

/* A line of n made-up words, "<tag> w2 w3 ...". */
static const char *words_line(char *buf, size_t cap, const char *tag, int n)
{
    static const char *v[] = {"alpha", "beta", "gamma", "delta", "omicron",
                              "sigma", "kappa", "lambda", "theta", "zeta"};
    size_t o = (size_t)snprintf(buf, cap, "%s", tag);
    for (int i = 1; i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, " %s", v[i % 10]);
    return buf;
}

/* ---- lines ---- */

START_TEST(single_column_order)
{
    /* given bottom to top: the order comes from the geometry */
    const char *t[] = {"It was the best of times, it was",
                       "the worst of times, it was the age",
                       "of wisdom, it was the age of",
                       "foolishness, it was the epoch of belief,",
                       "it was the epoch of incredulity."};
    for (int i = 4; i >= 0; i--)
        seg(100, 100 + 40 * (float)i, i == 4 ? 900 : 1700, 30, t[i]);
    build(2000, 2600);
    ASSERT_TEXT("It was the best of times, it was\n"
                "the worst of times, it was the age\n"
                "of wisdom, it was the age of\n"
                "foolishness, it was the epoch of belief,\n"
                "it was the epoch of incredulity.");
    ck_assert_int_eq(P.n_blocks, 1);
}
END_TEST

START_TEST(same_row_segments_join)
{
    /* a word gap (12 px, 0.4 h) and a wider one (45 px, 1.5 h) */
    seg(420, 100, 200, 30, "again here");
    seg(100, 100, 308, 30, "Hello world");
    seg(100, 300, 400, 30, "left part");
    seg(545, 302, 300, 30, "right part");
    build(2000, 2600);
    ASSERT_TEXT("Hello world again here\nleft part right part");
    ck_assert_int_eq(total_lines(), 2);
    const docrt_line *l = &P.blocks[0].lines[0];
    ck_assert_int_eq(l->n_words, 4);
    ck_assert_str_eq(l->words[0].text, "Hello");
    ck_assert_str_eq(l->words[3].text, "here");
}
END_TEST

/* Tokens the detector cut in two at a tabular-figure gap are one word
 * again; a sentence end keeps its space. */
START_TEST(split_tokens_glued)
{
    seg(100, 100, 20, 30, "(");
    seg(124, 100, 140, 30, "TICKER)");
    seg(300, 100, 60, 30, "$31");
    seg(364, 100, 50, 30, ".60");
    seg(440, 100, 100, 30, "end.");
    seg(550, 100, 100, 30, "Next");
    build(2000, 2600);
    ASSERT_TEXT("(TICKER) $31.60 end. Next");
    const docrt_line *l = &P.blocks[0].lines[0];
    ck_assert_int_eq(l->n_words, 4);
    ck_assert_str_eq(l->words[1].text, "$31.60");
    ck_assert_float_eq_tol(l->words[1].box.x0, 300, 0.5);
    ck_assert_float_eq_tol(l->words[1].box.x1, 414, 0.5);
    ck_assert(l->confidence <= 1.0f);
}
END_TEST

/* ---- columns ---- */

static void two_columns(float x1, float x2, float w, int rows, float y0)
{
    char buf[128], tag[32];
    for (int i = 0; i < rows; i++) {
        snprintf(tag, sizeof tag, "L%d", i + 1);
        seg(x1, y0 + 40 * (float)i, w - (float)(i % 3) * 40, 30,
            words_line(buf, sizeof buf, tag, 7));
        snprintf(tag, sizeof tag, "R%d", i + 1);
        seg(x2, y0 + 40 * (float)i, w - (float)(i % 2) * 60, 30,
            words_line(buf, sizeof buf, tag, 7));
    }
}

static char *expected_columns(int rows)
{
    char *e = malloc(8192), buf[128], tag[32];
    ck_assert_ptr_nonnull(e);
    e[0] = 0;
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < rows; i++) {
            snprintf(tag, sizeof tag, "%c%d", c ? 'R' : 'L', i + 1);
            if (e[0])
                strcat(e, "\n");
            strcat(e, words_line(buf, sizeof buf, tag, 7));
        }
    return e;
}

START_TEST(two_columns_aligned)
{
    two_columns(100, 1050, 850, 10, 150);
    build(2000, 2600);
    char *e = expected_columns(10);
    ASSERT_TEXT(e);
    free(e);
}
END_TEST

START_TEST(two_columns_narrow_gutter)
{
    /* a 42 px gutter (1.4 h), as in condensed transcripts */
    two_columns(100, 1002, 860, 12, 150);
    build(2000, 2600);
    char *e = expected_columns(12);
    ASSERT_TEXT(e);
    free(e);
}
END_TEST

START_TEST(title_columns_footer)
{
    seg(600, 40, 800, 50, "A Title Across Both Columns");
    two_columns(100, 1050, 850, 8, 150);
    seg(100, 520, 1800, 30, "A footnote that runs the full width of the page below");
    seg(980, 2500, 40, 30, "12");
    build(2000, 2600);
    char *e = expected_columns(8);
    char *full = malloc(strlen(e) + 256);
    ck_assert_ptr_nonnull(full);
    sprintf(full, "A Title Across Both Columns\n%s\n"
                  "A footnote that runs the full width of the page below\n12",
            e);
    ASSERT_TEXT(full);
    free(full);
    free(e);
}
END_TEST

START_TEST(sidebar_not_merged)
{
    char buf[128], tag[32];
    for (int i = 0; i < 12; i++) {
        snprintf(tag, sizeof tag, "M%d", i + 1);
        seg(100, 100 + 40 * (float)i, 1200 - (float)(i % 4) * 30, 30,
            words_line(buf, sizeof buf, tag, 9));
    }
    /* short sidebar lines half a pitch off the main rows */
    seg(1400, 120, 300, 30, "David Risinger");
    seg(1400, 200, 260, 30, "EQUITY ANALYST");
    seg(1400, 280, 320, 30, "Matthew Harrison");
    seg(1400, 360, 260, 30, "EQUITY ANALYST");
    build(2000, 2600);
    char exp[4096] = "";
    for (int i = 0; i < 12; i++) {
        snprintf(tag, sizeof tag, "M%d", i + 1);
        strcat(exp, words_line(buf, sizeof buf, tag, 9));
        strcat(exp, "\n");
    }
    strcat(exp, "David Risinger\nEQUITY ANALYST\nMatthew Harrison\nEQUITY ANALYST");
    ASSERT_TEXT(exp);
}
END_TEST

/* A main column beside a sidebar that stops half-way down, as in a research
 * report (geometry of a real one, h = 30): under the sidebar the main
 * column's ragged lines run up to 50 px further right than beside it, into
 * the gutter but 1.8 h short of the sidebar's edge, and a disclaimer sits
 * beside the column's foot. Those long lines belong to the column: the
 * whole column reads first, then the sidebar, then the disclaimer. */
START_TEST(sidebar_beside_part_of_column)
{
    char buf[128], tag[32], exp[8192] = "";
    for (int i = 0; i < 20; i++) {
        float w = i < 8 ? 1000 + (float)(i % 3) * 15  /* beside the sidebar */
                  : i < 16 ? 1010 + (float)(i % 4) * 15 /* up to x = 1190 */
                           : 990 + (float)(i % 2) * 20;
        snprintf(tag, sizeof tag, "M%d", i + 1);
        seg(135, 100 + 44 * (float)i, w, 30, words_line(buf, sizeof buf, tag, 9));
        strcat(exp, words_line(buf, sizeof buf, tag, 9));
        strcat(exp, "\n");
    }
    const char *side[] = {"MORGAN STANLEY & CO. LLC", "David Risinger",
                          "EQUITY ANALYST", "David.Risinger@morganstanley.com",
                          "Matthew Harrison", "EQUITY ANALYST"};
    for (int i = 0; i < 6; i++) {
        seg(1249, 110 + 48 * (float)i, 40 + 14 * (float)strlen(side[i]), 28,
            side[i]);
        strcat(exp, side[i]);
        strcat(exp, "\n");
    }
    for (int i = 0; i < 4; i++) {
        snprintf(tag, sizeof tag, "D%d", i + 1);
        seg(1250, 100 + 44 * (float)(16 + i) + 6, 590, 30,
            words_line(buf, sizeof buf, tag, 8));
        strcat(exp, words_line(buf, sizeof buf, tag, 8));
        if (i < 3)
            strcat(exp, "\n");
    }
    build(1998, 2536);
    ASSERT_TEXT(exp);
}
END_TEST

/* ---- tables, captions, line numbers ---- */

START_TEST(table_rows)
{
    seg(100, 40, 1800, 30, "The trademarks and service marks contained in this report are the");
    seg(100, 80, 1200, 30, "property of their respective owners and are used here");
    const char *co[] = {"COMPANY (TICKER)", "Abbvie Inc. (ABBV.N)",
                        "Bristol-Myers Squibb Co (BMY.N)", "Eli Lilly & Co. (LLY.N)",
                        "Pfizer Inc (PFE.N)"};
    const char *ra[] = {"RATING", "E (06/08/2016)", "E (08/05/2016)",
                        "E (07/15/2015)", "E (04/07/2016)"};
    const char *pr[] = {"PRICE*", "$56.04", "$51.01", "$72.49", "$30.00"};
    for (int i = 0; i < 5; i++) {
        float y = 200 + 40 * (float)i;
        /* cells given column by column, columns right to left */
        seg(1400, y + 1, 120, 28, pr[i]);
        seg(800, y, 190, 30, ra[i]);
        seg(100, y, 180 + 40 * (float)(i % 3), 30, co[i]);
    }
    seg(100, 480, 1400, 30, "Stock Ratings are subject to change. Please see latest research.");
    build(2000, 2600);
    ASSERT_TEXT("The trademarks and service marks contained in this report are the\n"
                "property of their respective owners and are used here\n"
                "COMPANY (TICKER) RATING PRICE*\n"
                "Abbvie Inc. (ABBV.N) E (06/08/2016) $56.04\n"
                "Bristol-Myers Squibb Co (BMY.N) E (08/05/2016) $51.01\n"
                "Eli Lilly & Co. (LLY.N) E (07/15/2015) $72.49\n"
                "Pfizer Inc (PFE.N) E (04/07/2016) $30.00\n"
                "Stock Ratings are subject to change. Please see latest research.");
}
END_TEST

START_TEST(caption_block)
{
    seg(560, 40, 880, 34, "IN THE UNITED STATES DISTRICT COURT");
    seg(760, 80, 480, 34, "ATLANTA DIVISION");
    const char *left[] = {"EQUAL EMPLOYMENT", "OPPORTUNITY COMMISSION,",
                          "Plaintiff,", "v.", "HIRE DYNAMICS, LLC,",
                          "Defendant."};
    const float lx[] = {100, 100, 300, 200, 100, 300};
    for (int i = 0; i < 6; i++)
        seg(lx[i], 200 + 50 * (float)i, 60 + 28 * (float)strlen(left[i]), 34,
            left[i]);
    seg(1100, 300, 400, 34, "CIVIL ACTION NO.");
    seg(1100, 400, 520, 34, "JURY TRIAL DEMANDED");
    seg(900, 560, 260, 34, "COMPLAINT");
    seg(250, 640, 1650, 34, "This is an action under Title VII of the Civil Rights Act of 1964");
    seg(100, 720, 1800, 34, "as amended and Title I of the Civil Rights Act of 1991 to correct");
    build(2000, 2600);
    ASSERT_TEXT("IN THE UNITED STATES DISTRICT COURT\n"
                "ATLANTA DIVISION\n"
                "EQUAL EMPLOYMENT\n"
                "OPPORTUNITY COMMISSION,\n"
                "Plaintiff, CIVIL ACTION NO.\n"
                "v.\n"
                "HIRE DYNAMICS, LLC, JURY TRIAL DEMANDED\n"
                "Defendant.\n"
                "COMPLAINT\n"
                "This is an action under Title VII of the Civil Rights Act of 1964\n"
                "as amended and Title I of the Civil Rights Act of 1991 to correct");
}
END_TEST

/* The same caption with the column of colons court filings draw between
 * the parties and the case number: small boxes, two per text row. */
START_TEST(caption_block_colons)
{
    const char *left[] = {"EQUAL EMPLOYMENT", "OPPORTUNITY COMMISSION,",
                          "Plaintiff,", "v.", "HIRE DYNAMICS, LLC,",
                          "Defendant."};
    const float lx[] = {100, 100, 300, 200, 100, 300};
    seg(560, 40, 880, 34, "IN THE UNITED STATES DISTRICT COURT");
    for (int i = 0; i < 6; i++)
        seg(lx[i], 200 + 50 * (float)i, 60 + 28 * (float)strlen(left[i]), 34,
            left[i]);
    for (int i = 0; i < 12; i++)
        seg(1050, 208 + 25 * (float)i, 10, 22, ":");
    seg(1100, 300, 400, 34, "CIVIL ACTION NO.");
    seg(1100, 400, 520, 34, "JURY TRIAL DEMANDED");
    seg(100, 540, 1800, 34, "This is an action under Title VII of the Civil Rights Act of 1964");
    build(2000, 2600);
    ASSERT_TEXT("IN THE UNITED STATES DISTRICT COURT\n"
                "EQUAL EMPLOYMENT :\n:\n"
                "OPPORTUNITY COMMISSION, :\n:\n"
                "Plaintiff, : CIVIL ACTION NO.\n:\n"
                "v. :\n:\n"
                "HIRE DYNAMICS, LLC, : JURY TRIAL DEMANDED\n:\n"
                "Defendant. :\n:\n"
                "This is an action under Title VII of the Civil Rights Act of 1964");
}
END_TEST

/* The caption of a real court filing (2000 px wide, h = 44): the detector
 * finds only some pieces of the column of colons, a few of them as dots,
 * so that too few of the parties' lines have a mark beside them for a
 * table; the column of marks still ties the parties to the case number. */
START_TEST(caption_block_sparse_colons)
{
    seg(560, 244, 893, 40, "IN THE UNITED STATES DISTRICT COURT");
    seg(797, 351, 425, 38, "ATLANTA DIVISION");
    seg(244, 509, 482, 43, "EQUAL EMPLOYMENT");
    seg(244, 564, 625, 39, "OPPORTUNITY COMMISSION,");
    seg(592, 664, 164, 48, "Plaintiff,");
    seg(471, 779, 42, 40, "v.");
    seg(244, 878, 480, 44, "HIRE DYNAMICS, LLC,");
    seg(594, 981, 201, 45, "Defendant.");
    const float cy[] = {567, 622, 672, 731, 785, 839, 887};
    const float ch[] = {35, 36, 34, 22, 21, 18, 27};
    const char *cm[] = {":", ":", ":", ".", ".", ".", ":"};
    for (int i = 0; i < 7; i++)
        seg(1060, cy[i], 24, ch[i], cm[i]);
    seg(1186, 664, 391, 44, "CIVIL ACTION NO.");
    seg(1185, 872, 534, 44, "JURY TRIAL DEMANDED");
    seg(867, 1141, 283, 42, "COMPLAINT");
    seg(360, 1244, 1412, 49, "This is an action under Title VII of the Civil Rights Act of 1964");
    seg(247, 1348, 1527, 51, "as amended and Title I of the Civil Rights Act of 1991 to correct");
    build(2000, 2590);
    ASSERT_TEXT("IN THE UNITED STATES DISTRICT COURT\n"
                "ATLANTA DIVISION\n"
                "EQUAL EMPLOYMENT\n"
                "OPPORTUNITY COMMISSION, :\n:\n"
                "Plaintiff, : CIVIL ACTION NO.\n.\n"
                "v. .\n.\n"
                "HIRE DYNAMICS, LLC, : JURY TRIAL DEMANDED\n"
                "Defendant.\n"
                "COMPLAINT\n"
                "This is an action under Title VII of the Civil Rights Act of 1964\n"
                "as amended and Title I of the Civil Rights Act of 1991 to correct");
}
END_TEST

START_TEST(line_numbers_join)
{
    char num[16], buf[128], tag[32];
    for (int i = 1; i <= 8; i++) {
        float y = 100 + 80 * (float)i;
        snprintf(num, sizeof num, "%d", i);
        float w = i < 10 ? 16 : 32; /* right-aligned at x = 90 */
        seg(90 - w, y + 2, w, 28, num);
        if (i == 4)
            continue; /* a numbered line with no text */
        snprintf(tag, sizeof tag, "T%d", i);
        seg(250, y, 1600 - (i == 8 ? 900 : 0), 30,
            words_line(buf, sizeof buf, tag, 10));
    }
    build(2000, 2600);
    char *got = page_text(&P);
    const char *lines[] = {"1 T1 beta", "2 T2 beta", "3 T3 beta", "4\n5 T5",
                           "6 T6 beta", "7 T7 beta", "8 T8 beta"};
    const char *at = got;
    for (int i = 0; i < 7; i++) {
        const char *f = strstr(at, lines[i]);
        ck_assert_msg(f != NULL, "no \"%s\" after \"%s\" in\n%s", lines[i], at, got);
        at = f;
    }
    ck_assert_int_eq(total_lines(), 8);
    free(got);
}
END_TEST

/* A 2x2 condensed transcript with the geometry of a real sheet (2000 x 2589,
 * h = 30): header; four transcript pages of 25 numbered lines, each with
 * its page number at the top right; footer. Line numbers are right-aligned
 * 48 px left of their text; the left pages' text ends 38 px or more short of
 * the right pages' line numbers, but for one line that juts 22 px further
 * (then its neighbour's "7" is closer to it than to its own text). */
START_TEST(transcript_2x2)
{
    char buf[160], tag[32], num[16];
    seg(700, 40, 600, 34, "30 (b) (6) Deposition of John William Burrud");
    const float numx[2] = {320, 1120}, textx[2] = {368, 1157};
    const float pgx[2] = {990, 1830}, qy[2] = {140, 1270};
    const char *pg[4] = {"64", "65", "66", "67"};
    for (int c = 0; c < 2; c++)
        for (int r = 0; r < 2; r++) {
            int q = 2 * c + r;
            seg(pgx[c], qy[r], 40, 30, pg[q]);
            for (int i = 1; i <= 25; i++) {
                float y = qy[r] + 45 + 38.5f * (float)i;
                snprintf(num, sizeof num, "%d", i);
                float nw = i < 10 ? 16 : 30;
                seg(numx[c] - nw, y + 1, nw, 28, num);
                snprintf(tag, sizeof tag, "p%s.%d", pg[q], i);
                float w = 674 - (float)((i * 37) % 7) * 50;
                if (c == 0 && i == 7)
                    w = 706; /* 30 px from the right page's "7", inside the
                              * gutter the other lines leave */
                seg(textx[c], y, w, 30, words_line(buf, sizeof buf, tag, 8));
            }
        }
    seg(1640, 2330, 260, 30, "17 (Pages 64 to 67)");
    seg(660, 2380, 760, 34, "Calderwood-Mackelprang, Inc. 303.477.3500");
    seg(1240, 2430, 720, 26, "35dc6363-8edc-4824-9853-956b62c03936");
    build(2000, 2589);
    char exp[16384] = "30 (b) (6) Deposition of John William Burrud";
    for (int q = 0; q < 4; q++) {
        strcat(exp, "\n");
        strcat(exp, pg[q]);
        for (int i = 1; i <= 25; i++) {
            snprintf(tag, sizeof tag, "p%s.%d", pg[q], i);
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "\n%d %s", i,
                     words_line(buf, sizeof buf, tag, 8));
        }
    }
    strcat(exp, "\n17 (Pages 64 to 67)\nCalderwood-Mackelprang, Inc. 303.477.3500"
                "\n35dc6363-8edc-4824-9853-956b62c03936");
    ASSERT_TEXT(exp);
}
END_TEST

START_TEST(three_columns)
{
    char buf[128], tag[32], exp[8192] = "";
    const char *col = "ABC";
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 9; i++) {
            snprintf(tag, sizeof tag, "%c%d", col[c], i + 1);
            seg(100 + 620 * (float)c, 100 + 40 * (float)i,
                560 - (float)(i % 3) * 40, 30, words_line(buf, sizeof buf, tag, 6));
        }
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 9; i++) {
            snprintf(tag, sizeof tag, "%c%d", col[c], i + 1);
            if (exp[0])
                strcat(exp, "\n");
            strcat(exp, words_line(buf, sizeof buf, tag, 6));
        }
    build(2000, 2600);
    ASSERT_TEXT(exp);
}
END_TEST

/* ---- skew ---- */

START_TEST(skewed_rows)
{
    /* rows rotated by 0.6 degree, each cut into three segments: a row drifts
     * by 17 px across the page, more than half the gap between rows */
    float a = 0.0105f;
    char buf[64], tag[32];
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 3; k++) {
            float x = 100 + 570 * (float)k;
            float y = 100 + 40 * (float)i + (x - 100) * tanf(a);
            snprintf(tag, sizeof tag, "r%dk%d", i, k);
            seg_rot(x, y, 560, 30, a, words_line(buf, sizeof buf, tag, 3));
        }
    build(2000, 2600);
    ASSERT_TEXT("r0k0 beta gamma r0k1 beta gamma r0k2 beta gamma\n"
                "r1k0 beta gamma r1k1 beta gamma r1k2 beta gamma\n"
                "r2k0 beta gamma r2k1 beta gamma r2k2 beta gamma\n"
                "r3k0 beta gamma r3k1 beta gamma r3k2 beta gamma\n"
                "r4k0 beta gamma r4k1 beta gamma r4k2 beta gamma\n"
                "r5k0 beta gamma r5k1 beta gamma r5k2 beta gamma");
    /* all segments turned alike: the line's quad turns with them */
    const docrt_quad *q = &P.blocks[0].lines[0].quad;
    ck_assert_float_eq_tol(atan2f(q->y[1] - q->y[0], q->x[1] - q->x[0]), a, 1e-4);
    ck_assert_float_eq_tol(q->x[0], 100, 0.5);
    ck_assert_float_eq_tol(q->y[0], 100, 0.5);
    ck_assert_float_eq_tol(hypotf(q->x[1] - q->x[0], q->y[1] - q->y[0]),
                           1700, 0.5);
}
END_TEST

START_TEST(drifting_table_rows)
{
    /* four cells per row, wide apart, each 4 px lower than the one before */
    char buf[32];
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 4; k++) {
            snprintf(buf, sizeof buf, "c%d%d x", i, k);
            seg(100 + 450 * (float)k, 100 + 40 * (float)i + 4 * (float)k, 200,
                30, buf);
        }
    build(2000, 2600);
    ASSERT_TEXT("c00 x c01 x c02 x c03 x\nc10 x c11 x c12 x c13 x\n"
                "c20 x c21 x c22 x c23 x\nc30 x c31 x c32 x c33 x\n"
                "c40 x c41 x c42 x c43 x");
}
END_TEST

/* ---- degenerate input ---- */

START_TEST(empty_input)
{
    ck_assert_int_eq(layout_build(NULL, 0, NULL, &P), DOCRT_OK);
    ck_assert_ptr_null(P.blocks);
    ck_assert_int_eq(P.n_blocks, 0);
    ck_assert_int_eq(layout_build(S->segs, 0, NULL, &P), DOCRT_OK);
    ck_assert_int_eq(P.n_blocks, 0);
    layout_page_release(&P);
    layout_page_release(&P);
    ck_assert_ptr_null(P.blocks);
}
END_TEST

START_TEST(bad_arguments)
{
    seg(100, 100, 300, 30, "text");
    ck_assert_int_eq(layout_build(S->segs, 1, NULL, NULL), DOCRT_ERR_ARG);
    ck_assert_int_eq(layout_build(NULL, 1, NULL, &P), DOCRT_ERR_ARG);
    ck_assert_int_eq(layout_build(S->segs, -1, NULL, &P), DOCRT_ERR_ARG);
    layout_page_release(NULL);
}
END_TEST

START_TEST(segments_without_words_dropped)
{
    seg(100, 100, 400, 30, "kept one");
    layout_segment *e = seg(100, 140, 400, 30, "");
    ck_assert_int_eq(e->n_words, 0);
    seg(100, 180, 400, 30, "blank");
    S->words[S->nw - 1].text = ""; /* a word with nothing in it */
    seg(100, 220, 400, 30, "null");
    S->words[S->nw - 1].text = NULL;
    docrt_quad bad = {{NAN, 10, 10, 0}, {0, 0, 10, 10}};
    add_quad(&bad, "nowhere");
    seg(100, 260, 400, 30, "kept two");
    build(2000, 2600);
    ASSERT_TEXT("kept one\nkept two");

    /* nothing at all to read: no blocks */
    layout_page_release(&P);
    ck_assert_int_eq(layout_build(S->segs + 1, 3, NULL, &P), DOCRT_OK);
    ck_assert_int_eq(P.n_blocks, 0);
    ck_assert_ptr_null(P.blocks);
}
END_TEST

/* ---- boxes, confidences, blocks ---- */

START_TEST(boxes_and_confidences)
{
    S->conf = 0.8f;
    layout_segment *a = seg(100, 100, 200, 30, "ab cd");
    S->words[S->nw - 1].confidence = 0.6f;
    S->conf = 1.0f;
    seg(310, 102, 100, 30, "ef");
    S->conf = 0.4f;
    seg(100, 140, 150, 30, "gh");
    build(2000, 2600);
    ck_assert_int_eq(P.n_blocks, 1);
    const docrt_block *b = &P.blocks[0];
    ck_assert_int_eq(b->n_lines, 2);
    const docrt_line *l = &b->lines[0];
    ck_assert_str_eq(l->text, "ab cd ef");
    ck_assert_int_eq(l->n_words, 3);
    ck_assert_float_eq_tol(l->confidence, (0.8f + 0.6f + 1.0f) / 3, 1e-6);
    ck_assert_float_eq(l->box.x0, 100);
    ck_assert_float_eq(l->box.y0, 100);
    ck_assert_float_eq(l->box.x1, 410);
    ck_assert_float_eq(l->box.y1, 132);
    /* two upright segments: the quad is the box's corners */
    ck_assert_float_eq(l->quad.x[0], 100);
    ck_assert_float_eq(l->quad.y[0], 100);
    ck_assert_float_eq(l->quad.x[2], 410);
    ck_assert_float_eq(l->quad.y[2], 132);
    ck_assert_float_eq(l->quad.x[3], 100);
    ck_assert_float_eq(l->quad.y[3], 132);
    /* words: deep copies with their quads, boxes and confidences */
    const docrt_word *w = &l->words[1];
    ck_assert_str_eq(w->text, "cd");
    ck_assert_ptr_ne(w->text, a->words[1].text);
    ck_assert_float_eq(w->confidence, 0.6f);
    ck_assert_float_eq(w->quad.x[0], a->words[1].quad.x[0]);
    ck_assert_float_eq(w->box.x0, a->words[1].quad.x[0]);
    ck_assert_float_eq(w->box.x1, a->words[1].quad.x[1]);
    ck_assert_float_eq(w->box.y1, 130);
    ck_assert_int_eq(w->n_chars, 2);
    ck_assert_ptr_ne(w->char_conf, a->words[1].char_conf);
    ck_assert_float_eq(w->char_conf[1], 0.8f);
    /* a single segment: the line's quad is the segment's */
    const docrt_line *l2 = &b->lines[1];
    ck_assert_str_eq(l2->text, "gh");
    ck_assert_float_eq(l2->confidence, 0.4f);
    ck_assert_float_eq(l2->quad.x[1], 250);
    /* the block: union of its lines, mean of their confidences */
    ck_assert_float_eq(b->box.x0, 100);
    ck_assert_float_eq(b->box.y0, 100);
    ck_assert_float_eq(b->box.x1, 410);
    ck_assert_float_eq(b->box.y1, 170);
    ck_assert_float_eq_tol(b->confidence, (0.8f + 0.4f) / 2, 1e-6);
}
END_TEST

START_TEST(paragraph_blocks)
{
    char buf[128], tag[32];
    const float ys[] = {100, 140, 180, 280, 320, 360, 400};
    for (int i = 0; i < 7; i++) {
        snprintf(tag, sizeof tag, "P%d", i + 1);
        seg(100, ys[i], 1700, 30, words_line(buf, sizeof buf, tag, 8));
    }
    build(2000, 2600);
    ck_assert_int_eq(P.n_blocks, 2);
    ck_assert_int_eq(P.blocks[0].n_lines, 3);
    ck_assert_int_eq(P.blocks[1].n_lines, 4);
    ck_assert_float_eq(P.blocks[1].box.y0, 280);
    ck_assert_float_eq(P.blocks[1].box.y1, 430);
}
END_TEST

START_TEST(rotated_and_mixed_quads)
{
    /* segments turned differently: the line's quad is its box's corners */
    seg_rot(100, 100, 300, 30, 0.05f, "tilted one");
    seg(410, 110, 300, 30, "upright two");
    build(2000, 2600);
    ck_assert_int_eq(total_lines(), 1);
    const docrt_line *l = &P.blocks[0].lines[0];
    ck_assert_float_eq(l->quad.x[0], l->box.x0);
    ck_assert_float_eq(l->quad.y[0], l->box.y0);
    ck_assert_float_eq(l->quad.x[2], l->box.x1);
    ck_assert_float_eq(l->quad.y[2], l->box.y1);
}
END_TEST

START_TEST(deep_copies)
{
    seg(100, 100, 400, 30, "copied words");
    seg(100, 140, 400, 30, "second line");
    build(2000, 2600);
    for (int i = 0; i < S->nw; i++) {
        memset(S->texts[i], 'X', strlen(S->texts[i]));
        S->confs[i][0] = -1;
    }
    memset(S->segs, 0xff, sizeof(layout_segment) * 2);
    ASSERT_TEXT("copied words\nsecond line");
    ck_assert_str_eq(P.blocks[0].lines[0].words[0].text, "copied");
    ck_assert_float_eq(P.blocks[0].lines[0].words[0].char_conf[0], 0.9f);
}
END_TEST

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

START_TEST(three_hundred_segments_fast)
{
    /* two columns of 130 lines under a title, a 3x12 table whose middle
     * column crosses the columns' gutter, a footer */
    seg(600, 10, 800, 40, "A Title Across Both Columns");
    two_columns(100, 1050, 850, 130, 80);
    for (int i = 0; i < 12; i++) {
        char b[32];
        snprintf(b, sizeof b, "row %d", i);
        seg(100, 5400 + 40 * (float)i, 200, 30, b);
        seg(800, 5400 + 40 * (float)i, 300, 30, "E (06/08/2016)");
        seg(1400, 5400 + 40 * (float)i, 120, 30, "$1.00");
    }
    seg(100, 6000, 1800, 30, "footer line running the full width of the page");
    seg(100, 6050, 600, 30, "a last note");
    seg(1850, 6050, 40, 30, "7");
    ck_assert_int_eq(S->ns, 300);
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        layout_page_release(&P);
        double t0 = now_ms();
        build(2000, 6100);
        double dt = now_ms() - t0;
        best = dt < best ? dt : best;
    }
    ck_assert_msg(best < 10.0, "layout of 300 segments took %.2f ms", best);
    if (getenv("LAYOUT_TIMING"))
        fprintf(stderr, "300 segments: %.3f ms\n", best);
    char *got = page_text(&P);
    ck_assert_int_eq(strncmp(got, "A Title Across Both Columns\nL1 beta", 35), 0);
    ck_assert_ptr_nonnull(strstr(got, "L130 beta gamma delta omicron sigma kappa\n"
                                      "R1 beta"));
    ck_assert_ptr_nonnull(strstr(got, "\nrow 0 E (06/08/2016) $1.00\n"
                                      "row 1 E (06/08/2016) $1.00\n"));
    free(got);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, single_column_order);
    tcase_add_test(tc, same_row_segments_join);
    tcase_add_test(tc, split_tokens_glued);
    tcase_add_test(tc, two_columns_aligned);
    tcase_add_test(tc, two_columns_narrow_gutter);
    tcase_add_test(tc, title_columns_footer);
    tcase_add_test(tc, sidebar_not_merged);
    tcase_add_test(tc, sidebar_beside_part_of_column);
    tcase_add_test(tc, table_rows);
    tcase_add_test(tc, caption_block);
    tcase_add_test(tc, caption_block_colons);
    tcase_add_test(tc, caption_block_sparse_colons);
    tcase_add_test(tc, line_numbers_join);
    tcase_add_test(tc, transcript_2x2);
    tcase_add_test(tc, three_columns);
    tcase_add_test(tc, skewed_rows);
    tcase_add_test(tc, drifting_table_rows);
    tcase_add_test(tc, empty_input);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, segments_without_words_dropped);
    tcase_add_test(tc, boxes_and_confidences);
    tcase_add_test(tc, paragraph_blocks);
    tcase_add_test(tc, rotated_and_mixed_quads);
    tcase_add_test(tc, deep_copies);
    tcase_add_test(tc, three_hundred_segments_fast);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(layout_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
