/* docrt_overlay_write_png: the page's geometry drawn in the right colours
 * at the right places, read back through docrt's own PNG reader; bad
 * arguments and unwritable paths give errors; wild coordinates (NaN, huge)
 * are clipped, never written out of bounds (run under ASan in CI). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docrt.h"

static char dir[2048];

static void setup(void)
{
    const char *b = getenv("DOCRT_BINARY_DIR");
    snprintf(dir, sizeof dir, "%s/test_overlay", b && *b ? b : "/tmp/docrt");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *P(const char *name)
{
    static char buf[4][4096];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

/* A grey page: 200 everywhere, dpi 300. */
static docrt_image grey_page(int w, int h)
{
    docrt_image img = { .width = w, .height = h, .channels = 1,
                        .stride = (size_t)w, .dpi_x = 300, .dpi_y = 300 };
    img.data = malloc((size_t)w * (size_t)h);
    memset(img.data, 200, (size_t)w * (size_t)h);
    return img;
}

static docrt_quad rect(float x0, float y0, float x1, float y1)
{
    docrt_quad q = { { x0, x1, x1, x0 }, { y0, y0, y1, y1 } };
    return q;
}

static docrt_box box(float x0, float y0, float x1, float y1)
{
    docrt_box b = { x0, y0, x1, y1 };
    return b;
}

static docrt_image read_back(const char *path)
{
    char err[1024];
    docrt_document *doc;
    ck_assert_msg(docrt_document_open(path, NULL, &doc, err, sizeof err) ==
                  DOCRT_OK, "%s", err);
    docrt_image img;
    ck_assert_msg(docrt_document_read_page(doc, 0, &img, err, sizeof err) ==
                  DOCRT_OK, "%s", err);
    docrt_document_close(doc);
    ck_assert_int_eq(img.channels, 3);
    return img;
}

static const uint8_t *at(const docrt_image *img, int x, int y)
{
    return img->data + (size_t)y * img->stride + (size_t)x * 3;
}

static int is(const docrt_image *img, int x, int y, int r, int g, int b)
{
    const uint8_t *p = at(img, x, y);
    return p[0] == r && p[1] == g && p[2] == b;
}

START_TEST(draws_lines_words_and_order)
{
    docrt_image img = grey_page(400, 300);
    /* two blocks; the second's line comes third in reading order */
    docrt_word w0[2] = {
        { .text = "ab", .box = box(30, 30, 80, 50) },
        { .text = "cd", .box = box(100, 30, 150, 50) },
    };
    docrt_line l0[2] = {
        { .text = "ab cd", .quad = rect(25, 25, 160, 55), .words = w0,
          .n_words = 2 },
        { .text = "x", .quad = rect(25, 100, 160, 130) },
    };
    docrt_line l1[1] = { { .text = "y", .quad = rect(250, 200, 380, 240) } };
    docrt_block blocks[2] = { { .lines = l0, .n_lines = 2 },
                              { .lines = l1, .n_lines = 1 } };
    docrt_page page = { .width = 400, .height = 300, .blocks = blocks,
                        .n_blocks = 2 };
    char err[1024];
    ck_assert_int_eq(docrt_overlay_write_png(&img, &page, P("ov.png"), err,
                                             sizeof err), DOCRT_OK);
    docrt_image ov = read_back(P("ov.png"));
    ck_assert_int_eq(ov.width, 400);
    ck_assert_int_eq(ov.height, 300);
    ck_assert_float_eq_tol(ov.dpi_x, 300, 0.01);
    /* line quads green, 2 px: bottom edge of line 1, right edge of line 3 */
    ck_assert(is(&ov, 100, 55, 0, 200, 0));
    ck_assert(is(&ov, 100, 54, 0, 200, 0) || is(&ov, 100, 56, 0, 200, 0));
    ck_assert(is(&ov, 380, 220, 0, 200, 0));
    /* word boxes thin blue: the right edge of the second word */
    ck_assert(is(&ov, 150, 45, 0, 90, 255));
    ck_assert(!is(&ov, 152, 45, 0, 90, 255));
    /* the path from line 2's centre (92.5, 115) to line 3's (315, 220)
     * passes (203.75, 167.5) */
    int red = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            red |= is(&ov, 204 + dx, 167 + dy, 230, 0, 0);
    ck_assert_msg(red, "no red path between the line centres");
    /* numbers at each line's start: red pixels just inside its corner */
    const int cx[3] = { 25, 25, 250 }, cy[3] = { 25, 100, 200 };
    for (int i = 0; i < 3; i++) {
        int n = 0;
        for (int y = cy[i]; y < cy[i] + 8; y++)
            for (int x = cx[i]; x < cx[i] + 8; x++)
                n += is(&ov, x, y, 230, 0, 0);
        ck_assert_msg(n > 0, "no number at line %d", i + 1);
    }
    /* untouched pixels keep the page's grey */
    ck_assert(is(&ov, 5, 290, 200, 200, 200));
    ck_assert(is(&ov, 300, 50, 200, 200, 200));
    docrt_image_free(&ov);
    docrt_image_free(&img);
}
END_TEST

START_TEST(no_page_is_a_copy_rgb_with_padded_rows)
{
    /* RGB, rows padded past width * 3 */
    docrt_image img = { .width = 33, .height = 17, .channels = 3,
                        .stride = 33 * 3 + 5 };
    img.data = malloc(img.stride * 17);
    for (size_t i = 0; i < img.stride * 17; i++)
        img.data[i] = (uint8_t)(i * 13);
    char err[1024];
    ck_assert_int_eq(docrt_overlay_write_png(&img, NULL, P("copy.png"), err,
                                             sizeof err), DOCRT_OK);
    docrt_image ov = read_back(P("copy.png"));
    ck_assert_int_eq(ov.width, 33);
    for (int y = 0; y < 17; y++)
        ck_assert(!memcmp(ov.data + (size_t)y * ov.stride,
                          img.data + (size_t)y * img.stride, 33 * 3));
    ck_assert_float_eq(ov.dpi_x, 0);
    docrt_image_free(&ov);
    docrt_image_free(&img);
}
END_TEST

START_TEST(wild_coordinates_are_clipped)
{
    docrt_image img = grey_page(64, 48);
    docrt_word w[2] = {
        { .text = "a", .box = box(-1e30f, -5, 1e30f, 1e9f) },
        { .text = "b", .box = box(NAN, 3, 10, INFINITY) },
    };
    docrt_line l[14];
    memset(l, 0, sizeof l);
    for (int i = 0; i < 14; i++) /* two-digit numbers run off the page */
        l[i].quad = rect(-40 + 9 * (float)i, 40, 70, 47);
    l[0].words = w;
    l[0].n_words = 2;
    l[1].quad.x[2] = NAN;
    l[2].quad = rect(-3e9f, -3e9f, 3e9f, 3e9f);
    docrt_block b = { .lines = l, .n_lines = 14 };
    docrt_page page = { .blocks = &b, .n_blocks = 1 };
    char err[1024];
    ck_assert_int_eq(docrt_overlay_write_png(&img, &page, P("wild.png"), err,
                                             sizeof err), DOCRT_OK);
    docrt_image ov = read_back(P("wild.png"));
    ck_assert_int_eq(ov.width, 64);
    docrt_image_free(&ov);
    docrt_image_free(&img);
}
END_TEST

START_TEST(errors)
{
    docrt_image img = grey_page(8, 8);
    char err[1024];
    const char *bad = P("no/such/dir/x.png");
    ck_assert_int_eq(docrt_overlay_write_png(&img, NULL, bad, err,
                                             sizeof err), DOCRT_ERR_IO);
    ck_assert_msg(!strncmp(err, bad, strlen(bad)) &&
                  strstr(err, "cannot open for writing"), "%s", err);
    ck_assert_int_eq(docrt_overlay_write_png(NULL, NULL, P("x.png"), err,
                                             sizeof err), DOCRT_ERR_ARG);
    img.channels = 2;
    ck_assert_int_eq(docrt_overlay_write_png(&img, NULL, P("x.png"), err,
                                             sizeof err), DOCRT_ERR_ARG);
    img.channels = 1;
    ck_assert_int_eq(docrt_overlay_write_png(&img, NULL, NULL, err,
                                             sizeof err), DOCRT_ERR_ARG);
    ck_assert_int_eq(docrt_overlay_write_png(&img, NULL, P("ok.png"), NULL,
                                             0), DOCRT_OK);
    docrt_image_free(&img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("overlay");
    TCase *tc = tcase_create("overlay");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, draws_lines_words_and_order);
    tcase_add_test(tc, no_page_is_a_copy_rgb_with_padded_rows);
    tcase_add_test(tc, wild_coordinates_are_clipped);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
