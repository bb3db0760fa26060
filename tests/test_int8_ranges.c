/* test_int8_ranges.c - the int8 calibration: range accounting
 * (graph_ranges_update), the calibration file (int8_ranges_save / _load:
 * round trip, and each way a file can be wrong), its default path, and the
 * --int8-convs list. The int8 kernels themselves are checked against ONNX
 * Runtime in test_ort_models (test_ort_case_int8*) and through the whole
 * pipeline in test_ocr_pages (int8_pages). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "graph.h"
#include "int8_ranges.h"
#include "test_tmpdir.h"

static char tmpdir[256];
static char errbuf[1024];

static void setup(void) { test_tmpdir_make(tmpdir, sizeof tmpdir, "int8"); }
static void teardown(void) { test_tmpdir_remove(tmpdir); }

static const char *put(const char *name, const char *text)
{
    const char *p = test_tmpdir_path(tmpdir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

START_TEST(update_widens)
{
    graph_ranges rs;
    memset(&rs, 0, sizeof rs);
    ck_assert_int_eq(graph_ranges_update(&rs, "a", -1, 2, -0.5f, 1, 4, 2), GRAPH_OK);
    ck_assert_int_eq(graph_ranges_update(&rs, "b", 0, 1, 0, 1, 1, 1), GRAPH_OK);
    ck_assert_int_eq(graph_ranges_update(&rs, "a", -3, 2.5f, -0.25f, 1.5f, 6, 3), GRAPH_OK);
    ck_assert_int_eq(rs.n, 2);
    const graph_range *a = graph_ranges_find(&rs, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_float_eq(a->lo, -3);
    ck_assert_float_eq(a->hi, 2.5f);
    ck_assert_float_eq(a->clo, -0.5f);
    ck_assert_float_eq(a->chi, 1.5f);
    ck_assert_double_eq(a->sumsq, 10);
    ck_assert_double_eq(a->count, 5);
    ck_assert_ptr_null(graph_ranges_find(&rs, "c"));
    /* nesting lo <= clo <= chi <= hi is required; NaN is refused */
    ck_assert_int_eq(graph_ranges_update(&rs, "c", 0, 1, -1, 1, 0, 1), GRAPH_ERR_INVALID);
    ck_assert_int_eq(graph_ranges_update(&rs, "c", 0, 1, 0.5f, 0.25f, 0, 1), GRAPH_ERR_INVALID);
    ck_assert_int_eq(graph_ranges_update(&rs, "c", NAN, 1, 0, 1, 0, 1), GRAPH_ERR_INVALID);
    ck_assert_int_eq(graph_ranges_update(&rs, "c", 0, 1, 0, 1, -1, 1), GRAPH_ERR_INVALID);
    ck_assert_int_eq(rs.n, 2);
    graph_ranges_free(&rs);
    ck_assert_int_eq(rs.n, 0);
    ck_assert_ptr_null(rs.r);
}
END_TEST

START_TEST(file_round_trip)
{
    graph_ranges rs, back;
    memset(&rs, 0, sizeof rs);
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "conv_%d.tmp \"q\"", i);
        float lo = -0.5f * (float)i, hi = 1.f + (float)i / 3;
        ck_assert_int_eq(graph_ranges_update(&rs, name, lo, hi, lo / 2, hi / 2,
                                             (double)i * i, 10 + i), GRAPH_OK);
    }
    const char *p = test_tmpdir_path(tmpdir, "m.int8.json");
    ck_assert_int_eq(int8_ranges_save(p, &rs, "/x/m.onnx", 7, errbuf, sizeof errbuf), DOCRT_OK);
    ck_assert_int_eq(int8_ranges_load(p, &back, errbuf, sizeof errbuf), DOCRT_OK);
    ck_assert_int_eq(back.n, 100);
    for (int i = 0; i < rs.n; i++) {
        const graph_range *a = &rs.r[i], *b = graph_ranges_find(&back, a->name);
        ck_assert_ptr_nonnull(b);
        ck_assert_float_eq_tol(b->lo, a->lo, 1e-6f * (1 + fabsf(a->lo)));
        ck_assert_float_eq_tol(b->hi, a->hi, 1e-6f * (1 + fabsf(a->hi)));
        ck_assert_float_eq_tol(b->clo, a->clo, 1e-6f * (1 + fabsf(a->clo)));
        ck_assert_float_eq_tol(b->chi, a->chi, 1e-6f * (1 + fabsf(a->chi)));
        /* the file keeps RMS and count: the mean square survives */
        ck_assert_double_eq_tol(b->sumsq / b->count, a->sumsq / a->count,
                                1e-6 * (1 + a->sumsq / a->count));
    }
    graph_ranges_free(&rs);
    graph_ranges_free(&back);
}
END_TEST

START_TEST(bad_files)
{
    graph_ranges rs;
    static const struct { const char *name, *text, *says; int st; } cases[] = {
        {"notjson", "{ranges", "line 1", DOCRT_ERR_FORMAT},
        {"noformat", "{\"ranges\": {}}", "not a docrt-int8-ranges/1", DOCRT_ERR_FORMAT},
        {"otherformat", "{\"format\": \"docrt-int8-ranges/2\", \"ranges\": {}}",
         "not a docrt-int8-ranges/1", DOCRT_ERR_FORMAT},
        {"rangesarray", "{\"format\": \"docrt-int8-ranges/1\", \"ranges\": []}",
         "not a docrt-int8-ranges/1", DOCRT_ERR_FORMAT},
        {"short", "{\"format\": \"docrt-int8-ranges/1\", \"ranges\": {\"x\": [0, 1]}}",
         "range of 'x'", DOCRT_ERR_FORMAT},
        {"order", "{\"format\": \"docrt-int8-ranges/1\", \"ranges\": "
                  "{\"x\": [0, 1, 0.5, 2, 1, 1]}}", "range of 'x'", DOCRT_ERR_FORMAT},
        {"string", "{\"format\": \"docrt-int8-ranges/1\", \"ranges\": "
                   "{\"x\": [0, 1, 0, \"1\", 1, 1]}}", "range of 'x'", DOCRT_ERR_FORMAT},
        {"negcount", "{\"format\": \"docrt-int8-ranges/1\", \"ranges\": "
                     "{\"x\": [0, 1, 0, 1, 1, -1]}}", "range of 'x'", DOCRT_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *p = put(cases[i].name, cases[i].text);
        errbuf[0] = 0;
        ck_assert_int_eq(int8_ranges_load(p, &rs, errbuf, sizeof errbuf), cases[i].st);
        ck_assert_msg(strstr(errbuf, p) && strstr(errbuf, cases[i].says),
                      "%s: error '%s' should name the file and say '%s'",
                      cases[i].name, errbuf, cases[i].says);
        ck_assert_int_eq(rs.n, 0);
        ck_assert_ptr_null(rs.r);
    }
    const char *missing = test_tmpdir_path(tmpdir, "missing.int8.json");
    ck_assert_int_eq(int8_ranges_load(missing, &rs, errbuf, sizeof errbuf), DOCRT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(errbuf, "docrt calibrate"));
    /* an unwritable place is an error, not a crash */
    graph_ranges one;
    memset(&one, 0, sizeof one);
    ck_assert_int_eq(graph_ranges_update(&one, "x", 0, 1, 0, 1, 1, 1), GRAPH_OK);
    ck_assert_int_eq(int8_ranges_save(test_tmpdir_path(tmpdir, "no/such/dir.json"),
                                      &one, "m.onnx", 1, errbuf, sizeof errbuf),
                     DOCRT_ERR_IO);
    graph_ranges_free(&one);
}
END_TEST

START_TEST(paths_and_lists)
{
    char p[64];
    ck_assert_int_eq(int8_ranges_path("w/det.onnx", p, sizeof p), 0);
    ck_assert_str_eq(p, "w/det.int8.json");
    ck_assert_int_eq(int8_ranges_path("model", p, sizeof p), 0);
    ck_assert_str_eq(p, "model.int8.json");
    ck_assert_int_eq(int8_ranges_path("a-rather-long-model-name.onnx", p, 16), -1);
    ck_assert_int_eq(cli_parse_int8_convs("dense"), GRAPH_INT8_DENSE);
    ck_assert_int_eq(cli_parse_int8_convs("pointwise,grouped"),
                     GRAPH_INT8_POINTWISE | GRAPH_INT8_GROUPED);
    ck_assert_int_eq(cli_parse_int8_convs("dense,"), GRAPH_INT8_DENSE);
    ck_assert_int_eq(cli_parse_int8_convs("dens"), -1);
    ck_assert_int_eq(cli_parse_int8_convs(""), -1);
    ck_assert_int_eq(cli_parse_int8_convs("dense,,x"), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("int8_ranges");
    TCase *tc = tcase_create("int8_ranges");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, update_widens);
    tcase_add_test(tc, file_round_trip);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, paths_and_lists);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
