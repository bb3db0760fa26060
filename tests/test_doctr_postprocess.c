/* test_doctr_postprocess.c - docrt's docTR conventions against docTR's own
 * post-processing, on the same model outputs.
 *
 * tools/doctr/reference.py (CTest fixture `doctr_postprocess_ref`) writes
 * into REF = $DOCRT_DOCTR_PP_DIR or $DOCRT_BINARY_DIR/doctr_pp:
 *   det<K>.prob.npy / det<K>.boxes.npy: probability maps (the seeded docTR
 *     detector on rendered pages, and synthetic maps: a ring with a region
 *     in its hole, regions on the border, thin and weak regions, smooth
 *     noise, NaN) and the boxes docTR's DBPostProcessor (OpenCV contours,
 *     pyclipper unclip) makes of them;
 *   rec.logits.npy / rec.txt: the seeded docTR recognizer's logits and
 *     docTR's CTC decoding of them.
 * Asserts: db_postprocess_doctr gives the same boxes (same count, each
 * coordinate within 1e-6, score within 1e-5) and softmax + CTC greedy
 * decoding with the blank last gives the same words. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctc.h"
#include "det_postprocess.h"
#include "npy.h"

static void ref_path(char *buf, size_t n, const char *name)
{
    const char *d = getenv("DOCRT_DOCTR_PP_DIR");
    const char *b = getenv("DOCRT_BINARY_DIR");
    if (d && *d)
        snprintf(buf, n, "%s/%s", d, name);
    else
        snprintf(buf, n, "%s/doctr_pp/%s", b && *b ? b : ".", name);
}

static int by_pos(const void *a, const void *b)
{
    const float *x = a, *y = b;
    for (int k = 0; k < 4; k++)
        if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
    return 0;
}

START_TEST(det_boxes_match_doctr)
{
    int n_maps = 0, n_boxes_total = 0;
    for (int k = 0;; k++) {
        char path[4096], name[64], err[512] = "";
        snprintf(name, sizeof name, "det%d.prob.npy", k);
        ref_path(path, sizeof path, name);
        if (access(path, R_OK) != 0) break;
        graph_host_tensor prob, want;
        ck_assert_msg(npy_read(path, &prob, err, sizeof err) == GRAPH_OK, "%s", err);
        snprintf(name, sizeof name, "det%d.boxes.npy", k);
        ref_path(path, sizeof path, name);
        ck_assert_msg(npy_read(path, &want, err, sizeof err) == GRAPH_OK, "%s", err);
        ck_assert_int_eq(prob.shape.rank, 2);
        int H = (int)prob.shape.dims[0], W = (int)prob.shape.dims[1];
        int n_want = want.shape.rank == 2 ? (int)want.shape.dims[0] : 0;

        db_params p = db_default_params();
        p.thresh = 0.3f;
        p.box_thresh = 0.1f;
        p.unclip_ratio = 1.5f;
        p.max_candidates = 1 << 30;
        db_rel_box *got = NULL;
        int n_got = 0;
        ck_assert_int_eq(db_postprocess_doctr(prob.data, H, W, &p, &got, &n_got), DOCRT_OK);
        printf("doctr det%d: map %dx%d, docTR %d boxes, docrt %d\n", k, H, W, n_want, n_got);
        ck_assert_int_eq(n_got, n_want);
        float *g = malloc(sizeof(float) * 5 * (size_t)(n_got + 1));
        float *w = malloc(sizeof(float) * 5 * (size_t)(n_want + 1));
        ck_assert_ptr_nonnull(g);
        ck_assert_ptr_nonnull(w);
        for (int i = 0; i < n_got; i++) {
            g[5 * i] = got[i].x0;
            g[5 * i + 1] = got[i].y0;
            g[5 * i + 2] = got[i].x1;
            g[5 * i + 3] = got[i].y1;
            g[5 * i + 4] = got[i].score;
        }
        if (n_want) memcpy(w, want.data, sizeof(float) * 5 * (size_t)n_want);
        /* docTR lists boxes in contour order: compare sorted by position */
        qsort(g, (size_t)n_got, 5 * sizeof(float), by_pos);
        qsort(w, (size_t)n_want, 5 * sizeof(float), by_pos);
        for (int i = 0; i < n_got; i++) {
            for (int c = 0; c < 4; c++)
                ck_assert_msg(fabsf(g[5 * i + c] - w[5 * i + c]) <= 1e-6f,
                              "det%d box %d coord %d: docrt %.7f, docTR %.7f", k, i, c, g[5 * i + c],
                              w[5 * i + c]);
            ck_assert_msg(fabsf(g[5 * i + 4] - w[5 * i + 4]) <= 1e-5f, "det%d box %d score: docrt %.7f, docTR %.7f",
                          k, i, g[5 * i + 4], w[5 * i + 4]);
        }
        n_maps++;
        n_boxes_total += n_got;
        free(g);
        free(w);
        free(got);
        graph_host_tensor_free(&prob);
        graph_host_tensor_free(&want);
    }
    ck_assert_msg(n_maps >= 5, "only %d reference maps (run tools/doctr/reference.py)", n_maps);
    ck_assert_int_gt(n_boxes_total, 20);
}
END_TEST

START_TEST(ctc_matches_doctr)
{
    char path[4096], err[512] = "";
    ref_path(path, sizeof path, "rec.vocab.txt");
    ctc_vocab v;
    ck_assert_msg(ctc_vocab_load(path, 0, 0, &v, err, sizeof err) == DOCRT_OK, "%s", err);
    ck_assert_int_eq(v.n_classes, 127);
    ck_assert_int_eq(v.blank, 126);
    graph_host_tensor lg;
    ref_path(path, sizeof path, "rec.logits.npy");
    ck_assert_msg(npy_read(path, &lg, err, sizeof err) == GRAPH_OK, "%s", err);
    ck_assert_int_eq(lg.shape.rank, 3);
    int B = (int)lg.shape.dims[0], T = (int)lg.shape.dims[1], C = (int)lg.shape.dims[2];
    ck_assert_int_eq(C, v.n_classes);
    ref_path(path, sizeof path, "rec.txt");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    float *probs = malloc(sizeof(float) * (size_t)T * C);
    ctc_char *cc = malloc(sizeof *cc * (size_t)T);
    ck_assert_ptr_nonnull(probs);
    ck_assert_ptr_nonnull(cc);
    int nonempty = 0;
    for (int b = 0; b < B; b++) {
        const float *x = (const float *)lg.data + (size_t)b * T * C;
        for (int t = 0; t < T; t++) {
            float mx = -INFINITY;
            for (int c = 0; c < C; c++) mx = fmaxf(mx, x[t * C + c]);
            double s = 0;
            for (int c = 0; c < C; c++) s += exp((double)(x[t * C + c] - mx));
            for (int c = 0; c < C; c++) probs[t * C + c] = (float)(exp((double)(x[t * C + c] - mx)) / s);
        }
        int n = ctc_greedy_decode(probs, T, C, v.blank, cc, T);
        ck_assert_int_ge(n, 0);
        char word[1024] = "";
        for (int i = 0; i < n; i++) strncat(word, v.keys[cc[i].cls], sizeof word - strlen(word) - 1);
        char line[2048];
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = 0;
        ck_assert_msg(strcmp(word, line) == 0, "crop %d: docrt \"%s\", docTR \"%s\"", b, word, line);
        nonempty += n > 0;
    }
    printf("doctr ctc: %d crops decoded as docTR does (%d non-empty)\n", B, nonempty);
    ck_assert_int_gt(nonempty, B / 2);
    fclose(f);
    free(probs);
    free(cc);
    graph_host_tensor_free(&lg);
    ctc_vocab_free(&v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("doctr_postprocess");
    TCase *t = tcase_create("doctr_postprocess");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, det_boxes_match_doctr);
    tcase_add_test(t, ctc_matches_doctr);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
