/* test_ctc.c - CTC greedy decoding on hand-built probability rows, and
 * keys-file loading (PP-OCR and docTR class layouts). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_tmpdir.h"
#include "ctc.h"

static char tmpdir[256];
static char errbuf[512];

static void setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "ctc");
}

static void teardown(void)
{
    test_tmpdir_remove(tmpdir);
}

static const char *write_file(const char *name, const void *b, size_t n)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* T rows over C classes; row t puts p on class cls[t] and spreads the rest
 * evenly over the others. */
static float *rows(const int *cls, const float *p, int T, int C)
{
    float *m = malloc(sizeof *m * (size_t)(T > 0 ? T : 1) * (size_t)C);
    ck_assert_ptr_nonnull(m);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++)
            m[t * C + c] = c == cls[t] ? p[t] : (1 - p[t]) / (float)(C - 1);
    return m;
}

/* classes: 0 blank, 1 'a', 2 'b', 3 'c' */
START_TEST(collapse_repeats)
{
    const int cls[] = {1, 1, 0, 2}; /* "aa-b" */
    const float p[] = {0.6f, 0.8f, 0.7f, 0.9f};
    float *m = rows(cls, p, 4, 4);
    ctc_char out[8];
    ck_assert_int_eq(ctc_greedy_decode(m, 4, 4, 0, out, 8), 2);
    ck_assert_int_eq(out[0].cls, 1);
    ck_assert_int_eq(out[1].cls, 2);
    ck_assert_float_eq_tol(out[0].conf, 0.8f, 1e-7f); /* max over the run */
    ck_assert_float_eq_tol(out[1].conf, 0.9f, 1e-7f);
    ck_assert_int_eq(out[0].t0, 0);
    ck_assert_int_eq(out[0].t1, 1);
    ck_assert_int_eq(out[1].t0, 3);
    ck_assert_int_eq(out[1].t1, 3);
    free(m);
}
END_TEST

START_TEST(blank_separates)
{
    const int cls[] = {1, 0, 1, 1, 1, 0, 0, 3}; /* "a-aaa--c" */
    const float p[] = {0.9f, 0.5f, 0.4f, 0.95f, 0.6f, 0.8f, 0.8f, 0.7f};
    float *m = rows(cls, p, 8, 4);
    ctc_char out[8];
    ck_assert_int_eq(ctc_greedy_decode(m, 8, 4, 0, out, 8), 3);
    ck_assert_int_eq(out[0].cls, 1);
    ck_assert_int_eq(out[1].cls, 1);
    ck_assert_int_eq(out[2].cls, 3);
    ck_assert_int_eq(out[1].t0, 2);
    ck_assert_int_eq(out[1].t1, 4);
    ck_assert_float_eq_tol(out[1].conf, 0.95f, 1e-7f);
    ck_assert_int_eq(out[2].t0, 7);
    ck_assert_int_eq(out[2].t1, 7);
    free(m);
}
END_TEST

START_TEST(all_blank_and_empty)
{
    const int cls[] = {0, 0, 0, 0, 0};
    const float p[] = {0.9f, 0.9f, 0.9f, 0.9f, 0.9f};
    float *m = rows(cls, p, 5, 4);
    ctc_char out[4] = {{-7, 0, 0, 0}};
    ck_assert_int_eq(ctc_greedy_decode(m, 5, 4, 0, out, 4), 0);
    ck_assert_int_eq(out[0].cls, -7); /* nothing written */
    ck_assert_int_eq(ctc_greedy_decode(m, 0, 4, 0, out, 4), 0);
    ck_assert_int_eq(ctc_greedy_decode(NULL, 0, 4, 0, out, 4), 0);
    free(m);
}
END_TEST

START_TEST(max_chars_truncation)
{
    const int cls[] = {1, 2, 2, 3, 0, 1, 2}; /* "abbc-ab" -> "abcab" */
    const float p[] = {0.9f, 0.6f, 0.7f, 0.8f, 0.9f, 0.5f, 0.6f};
    float *m = rows(cls, p, 7, 4);
    ctc_char out[3];
    memset(out, 0x5a, sizeof out);
    ck_assert_int_eq(ctc_greedy_decode(m, 7, 4, 0, out, 2), 5);
    ck_assert_int_eq(out[0].cls, 1);
    ck_assert_int_eq(out[1].cls, 2);
    ck_assert_int_eq(out[1].t1, 2); /* the run still extends when full */
    ck_assert_float_eq_tol(out[1].conf, 0.7f, 1e-7f);
    ctc_char sentinel;
    memset(&sentinel, 0x5a, sizeof sentinel);
    ck_assert(memcmp(&out[2], &sentinel, sizeof sentinel) == 0);
    /* counting only */
    ck_assert_int_eq(ctc_greedy_decode(m, 7, 4, 0, NULL, 0), 5);
    free(m);
}
END_TEST

START_TEST(blank_last_docTR)
{
    /* docTR: classes 0..2 = 'a','b','c', blank = 3 */
    const int cls[] = {3, 0, 0, 3, 1, 3, 1, 2};
    const float p[] = {0.9f, 0.6f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.99f};
    float *m = rows(cls, p, 8, 4);
    ctc_char out[8];
    ck_assert_int_eq(ctc_greedy_decode(m, 8, 4, 3, out, 8), 4);
    const int want[] = {0, 1, 1, 2};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(out[i].cls, want[i]);
    ck_assert_int_eq(out[0].t0, 1);
    ck_assert_int_eq(out[0].t1, 2);
    free(m);
}
END_TEST

START_TEST(ties_and_nan)
{
    const float m[] = {
        0.0f, 0.4f, 0.4f, 0.2f, /* tie: the lower class, 1 */
        NAN,  0.1f, 0.2f, 0.7f, /* NaN never wins: 3 */
        NAN,  NAN,  NAN,  NAN,  /* all NaN: class 0 (blank), conf 0 */
    };
    ctc_char out[4];
    ck_assert_int_eq(ctc_greedy_decode(m, 3, 4, 0, out, 4), 2);
    ck_assert_int_eq(out[0].cls, 1);
    ck_assert_float_eq_tol(out[0].conf, 0.4f, 1e-7f);
    ck_assert_int_eq(out[1].cls, 3);
    ck_assert_float_eq_tol(out[1].conf, 0.7f, 1e-7f);
    /* with the blank last, the all-NaN row decodes as class 0 at conf 0 */
    ck_assert_int_eq(ctc_greedy_decode(m + 8, 1, 4, 3, out, 4), 1);
    ck_assert_int_eq(out[0].cls, 0);
    ck_assert(out[0].conf == 0.f);
}
END_TEST

START_TEST(bad_args)
{
    float m[4] = {1, 0, 0, 0};
    ctc_char out[2];
    ck_assert_int_eq(ctc_greedy_decode(NULL, 1, 4, 0, out, 2), -1);
    ck_assert_int_eq(ctc_greedy_decode(m, -1, 4, 0, out, 2), -1);
    ck_assert_int_eq(ctc_greedy_decode(m, 1, 0, 0, out, 2), -1);
    ck_assert_int_eq(ctc_greedy_decode(m, 1, 4, 4, out, 2), -1);
    ck_assert_int_eq(ctc_greedy_decode(m, 1, 4, -1, out, 2), -1);
    ck_assert_int_eq(ctc_greedy_decode(m, 1, 4, 0, out, -1), -1);
    ck_assert_int_eq(ctc_greedy_decode(m, 1, 4, 0, NULL, 2), -1);
}
END_TEST

START_TEST(vocab_layouts)
{
    const char keys[] = "a\r\nb\nc\n"; /* CRLF, LF, final newline */
    const char *path = write_file("keys.txt", keys, strlen(keys));
    ctc_vocab v;

    /* PP-OCR: blank first, space last */
    ck_assert_int_eq(ctc_vocab_load(path, 1, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_OK);
    ck_assert_int_eq(v.n_classes, 5);
    ck_assert_int_eq(v.blank, 0);
    ck_assert_int_eq(v.space, 4);
    const char *pp[] = {"", "a", "b", "c", " "};
    for (int c = 0; c < 5; c++)
        ck_assert_str_eq(v.keys[c], pp[c]);
    ctc_vocab_free(&v);
    ck_assert_ptr_null(v.keys);
    ctc_vocab_free(&v); /* twice is harmless */

    /* docTR: keys, then the blank */
    ck_assert_int_eq(ctc_vocab_load(path, 0, 0, &v, errbuf, sizeof errbuf),
                     DOCRT_OK);
    ck_assert_int_eq(v.n_classes, 4);
    ck_assert_int_eq(v.blank, 3);
    ck_assert_int_eq(v.space, -1);
    ck_assert_str_eq(v.keys[0], "a");
    ck_assert_str_eq(v.keys[2], "c");
    ck_assert_str_eq(v.keys[3], "");
    ctc_vocab_free(&v);

    /* blank last with the space: keys, " ", blank */
    ck_assert_int_eq(ctc_vocab_load(path, 0, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_OK);
    ck_assert_int_eq(v.n_classes, 5);
    ck_assert_int_eq(v.space, 3);
    ck_assert_int_eq(v.blank, 4);
    ck_assert_str_eq(v.keys[3], " ");
    ck_assert_str_eq(v.keys[4], "");
    ctc_vocab_free(&v);
}
END_TEST

START_TEST(vocab_edge_cases)
{
    /* BOM, multi-byte keys, an empty line (a class of its own, as
     * PaddleOCR reads it), a line holding a space, no final newline */
    const char keys[] = "\xEF\xBB\xBF\xE4\xB8\xAD\n\n \n\xC3\xA9\r";
    const char *path = write_file("k2.txt", keys, sizeof keys - 1);
    ctc_vocab v;
    ck_assert_int_eq(ctc_vocab_load(path, 1, 0, &v, errbuf, sizeof errbuf),
                     DOCRT_OK);
    ck_assert_int_eq(v.n_classes, 5);
    ck_assert_str_eq(v.keys[1], "\xE4\xB8\xAD");
    ck_assert_str_eq(v.keys[2], "");
    ck_assert_str_eq(v.keys[3], " ");
    ck_assert_str_eq(v.keys[4], "\xC3\xA9");
    ck_assert_int_eq(v.space, 3); /* found in the file */
    ctc_vocab_free(&v);
    /* the file's space wins over the added one */
    ck_assert_int_eq(ctc_vocab_load(path, 1, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_OK);
    ck_assert_int_eq(v.n_classes, 6);
    ck_assert_int_eq(v.space, 3);
    ctc_vocab_free(&v);

    path = write_file("empty.txt", "", 0);
    ck_assert_int_eq(ctc_vocab_load(path, 1, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(errbuf, "empty.txt"));
    ck_assert_ptr_null(v.keys);
    path = write_file("nul.txt", "a\nb\0c\n", 6);
    ck_assert_int_eq(ctc_vocab_load(path, 1, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_ERR_FORMAT);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such/keys.txt", tmpdir);
    ck_assert_int_eq(ctc_vocab_load(missing, 1, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(errbuf, "no/such/keys.txt"));
    ck_assert_int_eq(ctc_vocab_load(NULL, 1, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_ERR_ARG);
    ck_assert_int_eq(ctc_vocab_load(missing, 1, 1, NULL, NULL, 0),
                     DOCRT_ERR_ARG);
}
END_TEST

/* The PP-OCR vocabulary when weights/ are fetched; otherwise the same
 * assertions on a small file of the same shape (the test needs no
 * weights). */
START_TEST(vocab_ppocr)
{
    const char *src = getenv("DOCRT_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/weights/ppocr_keys_v1.txt",
             src && *src ? src : ".");
    int have = access(path, R_OK) == 0;
    int n_keys = 6623;
    if (!have) {
        const char keys[] = "'\n\xE7\x96\x97\n\xE7\xBB\x9A\n0\n\xE6\x87\xAE";
        const char *small = write_file("ppocr.txt", keys, sizeof keys - 1);
        snprintf(path, sizeof path, "%s", small);
        n_keys = 5;
    }
    ctc_vocab v;
    ck_assert_int_eq(ctc_vocab_load(path, 1, 1, &v, errbuf, sizeof errbuf),
                     DOCRT_OK);
    ck_assert_int_eq(v.n_classes, n_keys + 2); /* 6625 for PP-OCRv4 */
    ck_assert_int_eq(v.blank, 0);
    ck_assert_int_eq(v.space, n_keys + 1);
    ck_assert_str_eq(v.keys[0], "");
    ck_assert_str_eq(v.keys[1], "'");
    ck_assert_str_eq(v.keys[2], "\xE7\x96\x97");
    ck_assert_str_eq(v.keys[n_keys], "\xE6\x87\xAE"); /* the last line */
    ck_assert_str_eq(v.keys[n_keys + 1], " ");
    for (int c = 1; c <= n_keys; c++) {
        ck_assert_int_gt((int)strlen(v.keys[c]), 0);
        ck_assert_ptr_null(strpbrk(v.keys[c], "\r\n"));
    }
    /* decode a path over the vocabulary: "'" "'" blank " " */
    int C = v.n_classes;
    float *m = calloc((size_t)4 * C, sizeof *m);
    ck_assert_ptr_nonnull(m);
    m[0 * C + 1] = 1;
    m[1 * C + 1] = 1;
    m[2 * C + 0] = 1;
    m[3 * C + v.space] = 1;
    ctc_char out[4];
    ck_assert_int_eq(ctc_greedy_decode(m, 4, C, v.blank, out, 4), 2);
    ck_assert_str_eq(v.keys[out[0].cls], "'");
    ck_assert_str_eq(v.keys[out[1].cls], " ");
    free(m);
    ctc_vocab_free(&v);
}
END_TEST

/* classes: 0 blank, 1 'a', 2..4 the quote group (' " and a curly one) */
START_TEST(grouped_quotes)
{
    const int C = 5, grp[] = {2, 3, 4};
    /* row 0: 'a'; row 1: blank 0.4 beats each quote (0.25, 0.2, 0.15) but
     * not their sum 0.6; rows 2-3: class 2 then class 3 (one mark: the
     * group's run, masses 0.7 and 0.9); row 4: blank; row 5: a weak
     * group 0.3 under 'a' 0.7. */
    const float m[] = {
        0.1f, 0.9f, 0, 0, 0,
        0.4f, 0,    0.25f, 0.2f, 0.15f,
        0.1f, 0.2f, 0.5f, 0.2f, 0,
        0.1f, 0,    0.2f, 0.7f, 0,
        1,    0,    0, 0, 0,
        0,    0.7f, 0.1f, 0.1f, 0.1f,
    };
    ctc_char out[8];
    /* plain greedy: a, 2, 3, a (the blank wins row 1) */
    ck_assert_int_eq(ctc_greedy_decode(m, 6, C, 0, out, 8), 4);
    ck_assert_int_eq(out[1].cls, 2);
    ck_assert_int_eq(out[2].cls, 3);
    /* grouped: a, one quote over rows 1-3, a */
    ck_assert_int_eq(ctc_greedy_decode_grouped(m, 6, C, 0, grp, 3, out, 8), 3);
    ck_assert_int_eq(out[0].cls, 1);
    ck_assert_int_eq(out[1].t0, 1);
    ck_assert_int_eq(out[1].t1, 3);
    /* the member of the run's most confident row: row 3's class 3 (0.9) */
    ck_assert_int_eq(out[1].cls, 3);
    ck_assert_float_eq_tol(out[1].conf, 0.9f, 1e-6f);
    ck_assert_int_eq(out[2].cls, 1);
    ck_assert_int_eq(out[2].t0, 5);
    /* an empty group is plain greedy */
    ck_assert_int_eq(ctc_greedy_decode_grouped(m, 6, C, 0, NULL, 0, out, 8), 4);
    /* bad groups */
    const int with_blank[] = {0, 2}, outside[] = {2, 5};
    ck_assert_int_eq(ctc_greedy_decode_grouped(m, 6, C, 0, with_blank, 2, out, 8), -1);
    ck_assert_int_eq(ctc_greedy_decode_grouped(m, 6, C, 0, outside, 2, out, 8), -1);
    ck_assert_int_eq(ctc_greedy_decode_grouped(m, 6, C, 0, NULL, 2, out, 8), -1);
    ck_assert_int_eq(ctc_greedy_decode_grouped(m, 6, C, 0, grp, CTC_MAX_QUOTE + 1, out, 8), -1);
}
END_TEST

START_TEST(vocab_quotes)
{
    /* classes 1..6: ' “ x ’ " ″ (no ‘, ” or ′): pairs where both exist */
    const char keys[] = "'\n\xE2\x80\x9C\nx\n\xE2\x80\x99\n\"\n\xE2\x80\xB3\n";
    const char *path = write_file("quotes.txt", keys, sizeof keys - 1);
    ctc_vocab v;
    ck_assert_int_eq(ctc_vocab_load(path, 1, 0, &v, errbuf, sizeof errbuf),
                     DOCRT_OK);
    ck_assert_int_eq(v.n_quote, 5);
    int apos = ctc_quote_index(&v, 1), dq = ctc_quote_index(&v, 5),
        lq = ctc_quote_index(&v, 2), rs = ctc_quote_index(&v, 4),
        pr = ctc_quote_index(&v, 6);
    ck_assert_int_ge(apos, 0);
    ck_assert_int_ge(dq, 0);
    ck_assert_int_ge(lq, 0);
    ck_assert_int_ge(rs, 0);
    ck_assert_int_ge(pr, 0);
    ck_assert_int_eq(ctc_quote_index(&v, 3), -1); /* x */
    ck_assert_int_eq(ctc_quote_index(&v, 0), -1); /* blank */
    ck_assert_int_eq(v.quote_alt[apos], 5);
    ck_assert_int_eq(v.quote_alt[dq], 1);
    ck_assert(!v.quote_double[apos] && v.quote_double[dq]);
    ck_assert_int_eq(v.quote_alt[lq], -1); /* its single form is absent */
    ck_assert(v.quote_double[lq]);
    ck_assert_int_eq(v.quote_alt[rs], -1); /* ” is absent */
    ck_assert_int_eq(v.quote_alt[pr], -1); /* ′ is absent */
    ctc_vocab_free(&v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctc");
    TCase *tc = tcase_create("ctc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, collapse_repeats);
    tcase_add_test(tc, blank_separates);
    tcase_add_test(tc, all_blank_and_empty);
    tcase_add_test(tc, max_chars_truncation);
    tcase_add_test(tc, blank_last_docTR);
    tcase_add_test(tc, ties_and_nan);
    tcase_add_test(tc, bad_args);
    tcase_add_test(tc, vocab_layouts);
    tcase_add_test(tc, vocab_edge_cases);
    tcase_add_test(tc, vocab_ppocr);
    tcase_add_test(tc, grouped_quotes);
    tcase_add_test(tc, vocab_quotes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
