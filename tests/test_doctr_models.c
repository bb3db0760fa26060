/* test_doctr_models.c - docTR's architectures through graph/, against
 * PyTorch.
 *
 * tools/doctr/export.py (CTest fixture `doctr_reference`) writes, into
 * REF = $DOCRT_DOCTR_REF_DIR or $DOCRT_BINARY_DIR/doctr_ref, each
 * architecture as ONNX (seeded random weights, exported as docTR's
 * export_model_to_onnx does), seeded inputs ARCH.b<B>.input.npy and
 * PyTorch's logits ARCH.b<B>.logits.npy for two batch sizes.
 *
 * Each architecture is compiled once with both batch shapes as buckets, in
 * f32; each bucket runs on one stream and max |docrt - torch| <= 1e-3 is
 * asserted on the logits (the 2-layer bidirectional LSTM of the CRNNs
 * included). Lines "doctr ARCH bB: max_abs_err=..." report the errors.
 * Then docrt ocr runs with the docTR models, and a page is checked against
 * docTR's own processing of docrt's model outputs (check_page.py).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "npy.h"

#define MAX_ABS_ERR 1e-3

static void ref_dir(char *buf, size_t n)
{
    const char *d = getenv("DOCRT_DOCTR_REF_DIR");
    if (d && *d) {
        snprintf(buf, n, "%s", d);
        return;
    }
    const char *b = getenv("DOCRT_BINARY_DIR");
    snprintf(buf, n, "%s/doctr_ref", b && *b ? b : ".");
}

static void read_npy(const char *arch, int batch, const char *what, graph_host_tensor *t)
{
    char dir[4096], path[4400], err[512] = "";
    ref_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s.b%d.%s.npy", dir, arch, batch, what);
    memset(t, 0, sizeof *t);
    graph_status st = npy_read(path, t, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "%s: %s (run the doctr_reference test / "
                  "tools/doctr/export.py all -o REF --reference B1,B2 first)",
                  path, err);
    ck_assert_int_eq(t->dtype, GRAPH_DT_F32);
}

static void run_arch(const char *arch, int b1, int b2)
{
    char dir[4096], path[4400], err[512] = "";
    ref_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s.onnx", dir, arch);
    graph_model *m = NULL;
    graph_status st = graph_model_load_file(path, &m, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "load %s: %s", path, err);
    ck_assert_int_eq(graph_model_n_inputs(m), 1);
    ck_assert_int_eq(graph_model_n_outputs(m), 1);
    ck_assert_str_eq(graph_model_output_name(m, 0), "logits");

    int batches[2] = { b1, b2 };
    graph_host_tensor in[2], want[2];
    graph_shape shapes[2];
    for (int i = 0; i < 2; i++) {
        read_npy(arch, batches[i], "input", &in[i]);
        read_npy(arch, batches[i], "logits", &want[i]);
        shapes[i] = in[i].shape;
    }
    graph_compile_params p = graph_compile_default_params();
    p.precision = GRAPH_PREC_F32;
    graph_compiled *c = NULL;
    st = graph_compile(m, shapes, 2, &p, &c, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "compile %s: %s", arch, err);
    graph_stream *s = NULL;
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    /* the second bucket first, then the first: buckets share the stream */
    for (int k = 1; k >= 0; k--) {
        const void *inputs[1] = { in[k].data };
        const void *outputs[1] = { NULL };
        st = graph_stream_run(s, k, inputs, outputs);
        ck_assert_msg(st == GRAPH_OK, "%s b%d: %s", arch, batches[k], graph_stream_last_error(s));
        graph_shape gs = graph_compiled_output_shape(c, k, 0);
        ck_assert_msg(graph_shape_eq(&gs, &want[k].shape), "%s b%d: output shape differs from torch",
                      arch, batches[k]);
        const float *got = outputs[0], *ref = want[k].data;
        int64_t n = graph_shape_numel(&gs), at = 0;
        double max_err = 0, max_ref = 0;
        for (int64_t i = 0; i < n; i++) {
            double e = fabs((double)got[i] - (double)ref[i]);
            ck_assert_msg(!isnan(e), "%s b%d: NaN at %lld", arch, batches[k], (long long)i);
            if (e > max_err) { max_err = e; at = i; }
            if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
        }
        printf("doctr %-24s b%d: logits %lld values, |torch| <= %.3f, max_abs_err=%.3e\n", arch,
               batches[k], (long long)n, max_ref, max_err);
        fflush(stdout);
        ck_assert_msg(max_err <= MAX_ABS_ERR, "%s b%d: max abs err %.3e at %lld (docrt %.7g, torch %.7g)",
                      arch, batches[k], max_err, (long long)at, got[at], ref[at]);
    }
    for (int i = 0; i < 2; i++) {
        graph_host_tensor_free(&in[i]);
        graph_host_tensor_free(&want[i]);
    }
    graph_stream_free(s);
    graph_compiled_free(c);
    graph_model_free(m);
}

/* docrt ocr with the docTR recognizer (seeded weights: the words are
 * noise, but every step of the docTR path runs: fit resize, splitting of
 * wide crops, merging, softmax of logits, blank last) behind the PP-OCR
 * detector, then with the docTR detector too (symmetric padding, sigmoid,
 * docTR boxes; random weights find no words). */
static int run_ocr(const char *det, const char *rec, const char *outdir)
{
    char cmd[16384], dir[4096];
    ref_dir(dir, sizeof dir);
    const char *exe = getenv("DOCRT_EXE"), *bin = getenv("DOCRT_BINARY_DIR");
    int n = snprintf(cmd, sizeof cmd, "'%s' ocr '%s/pages/grey8.png' -o '%s' --format txt,json", exe ? exe : "docrt",
                     bin ? bin : ".", outdir);
    if (det) n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --det-model '%s/%s.onnx'", dir, det);
    if (rec) n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --rec-model '%s/%s.onnx'", dir, rec);
    return system(cmd);
}

START_TEST(pipeline_with_doctr_models)
{
    char out[4096], path[4200];
    const char *bin = getenv("DOCRT_BINARY_DIR");
    snprintf(out, sizeof out, "%s/doctr_ocr", bin ? bin : ".");
    ck_assert_int_eq(run_ocr(NULL, "crnn_mobilenet_v3_small", out), 0);
    snprintf(path, sizeof path, "%s/grey8.txt", out);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, f))
        if (strlen(line) > 1) lines++;
    fclose(f);
    printf("doctr pipeline: PP-OCR detector + docTR crnn_mobilenet_v3_small: %d text lines\n", lines);
    ck_assert_int_ge(lines, 5);
    ck_assert_int_eq(run_ocr("db_mobilenet_v3_large", "crnn_vgg16_bn", out), 0);
    snprintf(path, sizeof path, "%s/grey8.json", out);
    ck_assert_int_eq(access(path, R_OK), 0);
}
END_TEST

/* The whole page with docTR's conventions against docTR's processing on
 * the same model outputs: docrt ocr --no-rotate dumps the detector map and
 * every recognizer input's logits (DOCRT_DEBUG_DOCTR), and
 * tools/doctr/check_page.py runs docTR's DB post-processing, padding
 * removal, crop splitting, CTC decoding and merge_strings on them; boxes
 * and text must equal docrt's output. The detector is PP-OCRv4's (it finds
 * text; seeded docTR weights find none) behind a docTR-convention
 * description: 1024x1024 symmetric padding, docTR's DB post-processing;
 * the recognizer is the seeded docTR crnn_mobilenet_v3_small. */
START_TEST(page_matches_doctr_reference)
{
    char dir[1024], work[1024], path[1200], cmd[16384];
    ref_dir(dir, sizeof dir);
    const char *exe = getenv("DOCRT_EXE"), *bin = getenv("DOCRT_BINARY_DIR"), *src = getenv("DOCRT_SOURCE_DIR");
    snprintf(work, sizeof work, "%s/doctr_page", bin ? bin : ".");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/dbg' && ln -s '%s/weights/ch_PP-OCRv4_det_infer.onnx' '%s/det.onnx'",
             work, work, src ? src : ".", work);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/det.json", work);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"format\": \"docrt-model-description/1\", \"task\": \"detection\", \"family\": \"doctr\",\n"
          " \"input\": {\"name\": \"x\", \"channel_order\": \"BGR\", \"scale\": 0.00392156862745098,\n"
          "  \"mean\": [0.485, 0.456, 0.406], \"std\": [0.229, 0.224, 0.225], \"pad\": \"symmetric\", \"pad_pixel\": 0},\n"
          " \"output\": \"probabilities\", \"buckets\": [[1024, 1024]], \"max_side\": 1024,\n"
          " \"postprocess\": {\"style\": \"doctr\", \"thresh\": 0.3, \"box_thresh\": 0.1, \"unclip_ratio\": 1.5,\n"
          "  \"max_candidates\": 100000}}\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "DOCRT_DEBUG_DOCTR='%s/dbg' '%s' ocr '%s/pages/grey8.png' -o '%s' --no-rotate --format json "
             "--det-model '%s/det.onnx' --rec-model '%s/crnn_mobilenet_v3_small.onnx' && "
             "/usr/bin/python3 '%s/tools/doctr/check_page.py' '%s/dbg' '%s/grey8.json' "
             "'%s/crnn_mobilenet_v3_small.vocab.txt'",
             work, exe ? exe : "docrt", bin ? bin : ".", work, work, dir, src ? src : ".", work, work, dir);
    fflush(stdout);
    ck_assert_msg(system(cmd) == 0, "docrt's page differs from docTR's processing (see check_page.py above)");
}
END_TEST

START_TEST(db_mobilenet_v3_large) { run_arch("db_mobilenet_v3_large", 1, 2); }
END_TEST
START_TEST(crnn_mobilenet_v3_small) { run_arch("crnn_mobilenet_v3_small", 1, 5); }
END_TEST
START_TEST(crnn_mobilenet_v3_large) { run_arch("crnn_mobilenet_v3_large", 1, 5); }
END_TEST
START_TEST(crnn_vgg16_bn) { run_arch("crnn_vgg16_bn", 1, 5); }
END_TEST

int main(void)
{
    Suite *s = suite_create("doctr_models");
    TCase *t = tcase_create("doctr_models");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, db_mobilenet_v3_large);
    tcase_add_test(t, crnn_mobilenet_v3_small);
    tcase_add_test(t, crnn_mobilenet_v3_large);
    tcase_add_test(t, crnn_vgg16_bn);
    tcase_add_test(t, pipeline_with_doctr_models);
    tcase_add_test(t, page_matches_doctr_reference);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
