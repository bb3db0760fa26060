/* test_ort_models.c - the real PP-OCR models through graph/, against ONNX
 * Runtime.
 *
 * The references come from tests/ort/make_reference.sh (CTest test
 * `ort_reference`, fixture ort_ref): inputs cut from a rendered page in
 * REF/inputs/<case>.npy and ONNX Runtime's outputs in
 * REF/<case>/ort/<output name>.npy, REF = $DOCRT_ORT_REF_DIR or
 * $DOCRT_BINARY_DIR/ort_ref. Models: $DOCRT_WEIGHTS_DIR or
 * $DOCRT_SOURCE_DIR/weights.
 *
 * Each case compiles its model with the input's shape as the only bucket,
 * runs it and asserts max |docrt - ort| <= 1e-3 on every output, printing
 * "ort <case> <output>: max_abs_err=..." lines. A last test compiles the
 * detector with both det shapes as two buckets of one graph_compiled and runs
 * both (and the first again) through one stream.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "npy.h"

#define MAX_ABS_ERR 1e-3
#define MAX_OUT 8

typedef struct {
    const char *name;  /* case: input REF/inputs/<name>.npy */
    const char *model; /* file in weights/ */
} ort_case;

static const ort_case CASES[] = {
    {"det_960x960", "ch_PP-OCRv4_det_infer.onnx"},
    {"det_1280x960", "ch_PP-OCRv4_det_infer.onnx"},
    {"rec_1x320", "ch_PP-OCRv4_rec_infer.onnx"},
    {"rec_8x640", "ch_PP-OCRv4_rec_infer.onnx"},
    {"cls_1x192", "ch_ppocr_mobile_v2.0_cls_infer.onnx"},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

/* snprintf for paths; a path that does not fit is a test error, not a
 * silently truncated name. */
static void fmt_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < len, "path too long: %s", buf);
}

static void env_dir(char *buf, size_t len, const char *override,
                    const char *base_env, const char *sub)
{
    const char *o = getenv(override);
    if (o && *o) {
        fmt_path(buf, len, "%s", o);
        return;
    }
    const char *b = getenv(base_env);
    ck_assert_msg(b && *b, "%s is not set (run through ctest)", base_env);
    fmt_path(buf, len, "%s/%s", b, sub);
}

static void ref_dir(char *buf, size_t len)
{
    env_dir(buf, len, "DOCRT_ORT_REF_DIR", "DOCRT_BINARY_DIR", "ort_ref");
}

static void weights_path(char *buf, size_t len, const char *model)
{
    char dir[4096];
    env_dir(dir, sizeof dir, "DOCRT_WEIGHTS_DIR", "DOCRT_SOURCE_DIR", "weights");
    fmt_path(buf, len, "%s/%s", dir, model);
}

/* run_ort.js's file name for an output: [A-Za-z0-9_.-] kept, others '_',
 * leading dots '_'. */
static void sanitize(const char *name, char *out, size_t len)
{
    size_t i = 0;
    int leading = 1;
    for (const char *p = name; *p && i + 1 < len; p++) {
        char ch = *p;
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
                 (ch == '.' && !leading);
        if (ch != '.')
            leading = 0;
        out[i++] = ok ? ch : '_';
    }
    if (i == 0 && len > 1)
        out[i++] = '_';
    out[i] = 0;
}

static void shape_str(const graph_shape *s, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < s->rank && i < GRAPH_MAX_RANK && o + 1 < len; i++) {
        int w = snprintf(buf + o, len - o, "%s%lld", i ? "x" : "",
                         (long long)s->dims[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static graph_model *load_model(const char *file)
{
    char path[4096], err[512] = "";
    graph_model *m = NULL;
    weights_path(path, sizeof path, file);
    graph_status st = graph_model_load_file(path, &m, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "load %s: %s: %s", path, graph_status_str(st),
                  err);
    ck_assert_int_eq(graph_model_n_inputs(m), 1);
    ck_assert_int_ge(graph_model_n_outputs(m), 1);
    ck_assert_int_le(graph_model_n_outputs(m), MAX_OUT);
    return m;
}

static void read_input(const char *case_name, graph_host_tensor *t)
{
    char dir[4096], path[4200], err[512] = "";
    ref_dir(dir, sizeof dir);
    fmt_path(path, sizeof path, "%s/inputs/%s.npy", dir, case_name);
    graph_status st = npy_read(path, t, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK,
                  "%s: %s: %s (run the ort_reference test / "
                  "tests/ort/make_reference.sh first)",
                  path, graph_status_str(st), err);
    ck_assert_int_eq(t->dtype, GRAPH_DT_F32);
}

/* Compares bucket `bucket`'s outputs (as returned by graph_stream_run) with
 * ORT's for `case_name`; returns the largest max abs error over outputs. */
static double check_outputs(const graph_model *m, const graph_compiled *c,
                            int bucket, const char *case_name,
                            const void *const *outs, const char *tag)
{
    char dir[4096], path[4400], fname[512], err[512] = "", a[256], b[256];
    double worst = 0.0;
    ref_dir(dir, sizeof dir);
    int n_out = graph_model_n_outputs(m);
    for (int k = 0; k < n_out; k++) {
        const char *oname = graph_model_output_name(m, k);
        ck_assert_ptr_nonnull(oname);
        sanitize(oname, fname, sizeof fname);
        fmt_path(path, sizeof path, "%s/%s/ort/%s.npy", dir, case_name, fname);
        graph_host_tensor ref;
        memset(&ref, 0, sizeof ref);
        graph_status st = npy_read(path, &ref, err, sizeof err);
        ck_assert_msg(st == GRAPH_OK, "%s: %s: %s", path, graph_status_str(st),
                      err);
        ck_assert_int_eq(ref.dtype, GRAPH_DT_F32);
        ck_assert_int_eq(graph_compiled_output_dtype(c, bucket, k), GRAPH_DT_F32);
        graph_shape gs = graph_compiled_output_shape(c, bucket, k);
        shape_str(&gs, a, sizeof a);
        shape_str(&ref.shape, b, sizeof b);
        ck_assert_msg(graph_shape_eq(&gs, &ref.shape),
                      "%s output '%s': docrt shape %s, ort %s", case_name,
                      oname, a, b);
        ck_assert_ptr_nonnull(outs[k]);

        const float *got = outs[k], *want = ref.data;
        int64_t n = graph_shape_numel(&ref.shape), at = -1, n_nan = 0;
        double max_err = 0.0, sum_err = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double e = fabs((double)got[i] - (double)want[i]);
            if (isnan(e)) {
                if (!(isnan(got[i]) && isnan(want[i])))
                    n_nan++;
                continue;
            }
            sum_err += e;
            if (e > max_err) {
                max_err = e;
                at = i;
            }
        }
        printf("ort %-13s %s%s%s [%s]: max_abs_err=%.3e mean_abs_err=%.3e%s\n",
               case_name, oname, tag ? " " : "", tag ? tag : "", a, max_err,
               n ? sum_err / (double)n : 0.0, n_nan ? " NaN!" : "");
        fflush(stdout);
        ck_assert_msg(n_nan == 0, "%s output '%s': %lld NaN mismatches",
                      case_name, oname, (long long)n_nan);
        ck_assert_msg(max_err <= MAX_ABS_ERR,
                      "%s output '%s'%s%s: max abs err %.3e > %.0e at %lld "
                      "(docrt %.7g, ort %.7g)",
                      case_name, oname, tag ? " " : "", tag ? tag : "", max_err,
                      MAX_ABS_ERR, (long long)at, at >= 0 ? got[at] : 0.0,
                      at >= 0 ? want[at] : 0.0);
        if (max_err > worst)
            worst = max_err;
        graph_host_tensor_free(&ref);
    }
    return worst;
}


static void check_fast(const graph_model *m, const char *case_name,
                       const char *tag, double flip_max, double agree_min,
                       const void *const *outs);

/* Compiles the case's model for its input shape in the given precision,
 * runs it once and compares with ORT (f32: 1e-3; bf16: check_bf16). */
static void run_case(const ort_case *oc, int precision)
{
    char err[512] = "";
    graph_model *m = load_model(oc->model);
    graph_host_tensor in;
    memset(&in, 0, sizeof in);
    read_input(oc->name, &in);
    graph_compile_params p = graph_compile_default_params();
    p.precision = precision;
    graph_compiled *c = NULL;
    graph_status st = graph_compile(m, &in.shape, 1, &p, &c, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "compile %s for %s (%s): %s: %s", oc->model,
                  oc->name, graph_precision_name(precision),
                  graph_status_str(st), err);
    ck_assert_int_eq(graph_compiled_n_buckets(c), 1);
    graph_shape cs = graph_compiled_input_shape(c, 0, 0);
    ck_assert(graph_shape_eq(&cs, &in.shape));
    ck_assert_int_eq(graph_compiled_output_dtype(c, 0, 0), GRAPH_DT_F32);
    if (!strncmp(oc->name, "det_", 4)) {
        /* the detector is convs and element-wise ops end to end: nhwc (and
         * bf16) inside, so its only reorders are at the edges, the input
         * in and the map out (2), plus in bf16 the f32 -> bf16 conversions
         * of those two (measured 4) */
        int nr = graph_compiled_n_reorders(c, 0);
        printf("ort %-13s %s: %d reorder steps\n", oc->name,
               graph_precision_name(precision), nr);
        ck_assert_int_le(nr, precision == GRAPH_PREC_F32 ? 2 : 4);
    }

    graph_stream *s = NULL;
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    const void *ins[1] = {in.data};
    const void *outs[MAX_OUT] = {0};
    st = graph_stream_run(s, 0, ins, outs);
    ck_assert_msg(st == GRAPH_OK, "run %s: %s: %s", oc->name,
                  graph_status_str(st), graph_stream_last_error(s));
    if (precision == GRAPH_PREC_F32)
        check_outputs(m, c, 0, oc->name, outs, NULL);
    else
        check_fast(m, oc->name, "bf16", 0.005, 0.98, outs);

    graph_stream_free(s);
    graph_compiled_free(c);
    graph_host_tensor_free(&in);
    graph_model_free(m);
}

/* A bf16 or int8 plan against ONNX Runtime's f32 outputs, by what the
 * pipeline uses: the detector's map thresholded at 0.3 (at most flip_max of
 * the pixels flip), the recognizer's and classifier's argmax per step (at
 * least agree_min of the steps agree); the largest probability error is
 * printed, and no output may be NaN. Measured here for bf16: det 0.03-0.06 %
 * of pixels flip; rec_8x640 1 of 640 steps reads another class (the dev
 * set's CER is unchanged with a bf16 recognizer, see README). int8: see
 * test_ort_case_int8. */
static void check_fast(const graph_model *m, const char *case_name,
                       const char *tag, double flip_max, double agree_min,
                       const void *const *outs)
{
    char dir[4096], path[4400], fname[512], err[512] = "";
    ref_dir(dir, sizeof dir);
    const char *oname = graph_model_output_name(m, 0);
    sanitize(oname, fname, sizeof fname);
    fmt_path(path, sizeof path, "%s/%s/ort/%s.npy", dir, case_name, fname);
    graph_host_tensor ref;
    memset(&ref, 0, sizeof ref);
    ck_assert_int_eq(npy_read(path, &ref, err, sizeof err), GRAPH_OK);
    const float *got = outs[0], *want = ref.data;
    int64_t n = graph_shape_numel(&ref.shape);
    double max_err = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)want[i]);
        ck_assert_msg(e == e, "%s %s: NaN at %lld", case_name, tag, (long long)i);
        if (e > max_err) max_err = e;
    }
    if (ref.shape.rank == 4) { /* detector probability map */
        int64_t flip = 0;
        for (int64_t i = 0; i < n; i++)
            flip += (got[i] > 0.3f) != (want[i] > 0.3f);
        printf("ort %-13s %s: max_abs_err=%.3e, %.3f%% of map pixels flip at 0.3\n",
               case_name, tag, max_err, 100.0 * (double)flip / (double)n);
        ck_assert_msg((double)flip <= flip_max * (double)n,
                      "%s %s: %lld of %lld map pixels flip", case_name, tag,
                      (long long)flip, (long long)n);
    } else { /* class probabilities on the last axis */
        int64_t C = ref.shape.dims[ref.shape.rank - 1], steps = n / C, same = 0;
        for (int64_t t = 0; t < steps; t++) {
            int64_t ag = 0, aw = 0;
            for (int64_t k = 1; k < C; k++) {
                if (got[t * C + k] > got[t * C + ag]) ag = k;
                if (want[t * C + k] > want[t * C + aw]) aw = k;
            }
            same += ag == aw;
        }
        printf("ort %-13s %s: max_abs_err=%.3e, argmax agrees on %lld of %lld steps\n",
               case_name, tag, max_err, (long long)same, (long long)steps);
        ck_assert_msg((double)same >= agree_min * (double)steps,
                      "%s %s: argmax agrees on %lld of %lld steps", case_name,
                      tag, (long long)same, (long long)steps);
    }
    graph_host_tensor_free(&ref);
}

START_TEST(test_ort_case)
{
    run_case(&CASES[_i], GRAPH_PREC_F32);
}
END_TEST

START_TEST(test_ort_case_bf16)
{
    run_case(&CASES[_i], GRAPH_PREC_BF16);
}
END_TEST

/* int8: calibrate on the case's input (an f32 run observing every
 * convolution's input range), compile in int8 and compare with ONNX
 * Runtime. Two settings: the ones weights/descriptions ship (detector:
 * dense convolutions; recognizer: pointwise and dense with a 35 dB input
 * SNR floor; the classifier is not run in int8 by docrt, but its kernels
 * are the same): at most 0.5 % of map pixels flip, at least 95 % of steps
 * agree (measured: det 0.03-0.04 %, rec_8x640 612 of 640 on its noise-like
 * input; the dev set's CER moves 1.63 -> 1.64 %). Every class at any SNR
 * (u8 and s8 inputs, grouped and depthwise kernels, a weight channel of
 * denormals): at most 2 % flip, at least 90 % agree (measured: 0.2-0.5 %,
 * 601 of 640). */
static void run_case_int8(const ort_case *oc, int all)
{
    char err[512] = "";
    graph_model *m = load_model(oc->model);
    graph_host_tensor in;
    memset(&in, 0, sizeof in);
    read_input(oc->name, &in);
    const void *ins[1] = {in.data};
    const void *outs[MAX_OUT] = {0};

    graph_compile_params p = graph_compile_default_params();
    graph_compiled *c = NULL;
    graph_stream *s = NULL;
    ck_assert_int_eq(graph_compile(m, &in.shape, 1, &p, &c, err, sizeof err), GRAPH_OK);
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    graph_ranges rs;
    memset(&rs, 0, sizeof rs);
    graph_stream_observe(s, &rs);
    ck_assert_int_eq(graph_stream_run(s, 0, ins, outs), GRAPH_OK);
    graph_stream_observe(s, NULL);
    ck_assert_int_gt(rs.n, 10);
    for (int i = 0; i < rs.n; i++)
        ck_assert(rs.r[i].lo <= rs.r[i].clo && rs.r[i].clo <= rs.r[i].chi &&
                  rs.r[i].chi <= rs.r[i].hi && rs.r[i].count > 0);
    graph_stream_free(s);
    graph_compiled_free(c);

    int det = !strncmp(oc->name, "det_", 4);
    p.precision = GRAPH_PREC_INT8;
    p.ranges = &rs;
    if (all) {
        p.int8_convs = GRAPH_INT8_POINTWISE | GRAPH_INT8_DENSE | GRAPH_INT8_GROUPED;
        p.int8_min_sqnr = 1e-3f;
    } else {
        p.int8_convs = det ? GRAPH_INT8_DENSE : GRAPH_INT8_POINTWISE | GRAPH_INT8_DENSE;
        p.int8_min_sqnr = det ? 0 : 35.f;
    }
    graph_status st = graph_compile(m, &in.shape, 1, &p, &c, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "compile %s int8: %s: %s", oc->name,
                  graph_status_str(st), err);
    int n8 = graph_compiled_n_int8(c, 0), nq = graph_compiled_n_quantize(c, 0);
    printf("ort %-13s int8%s: %d int8 convolutions, %d quantizing reorders, "
           "%d other reorders\n", oc->name, all ? " (all)" : "", n8, nq,
           graph_compiled_n_reorders(c, 0));
    ck_assert_int_gt(n8, 0);
    ck_assert_int_le(nq, n8);
    if (det) ck_assert_int_le(graph_compiled_n_reorders(c, 0), 4);
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    st = graph_stream_run(s, 0, ins, outs);
    ck_assert_msg(st == GRAPH_OK, "run %s int8: %s", oc->name, graph_stream_last_error(s));
    if (all) check_fast(m, oc->name, "int8 all", 0.02, 0.90, outs);
    else check_fast(m, oc->name, "int8", 0.005, 0.95, outs);
    graph_stream_free(s);
    graph_compiled_free(c);
    graph_ranges_free(&rs);
    graph_host_tensor_free(&in);
    graph_model_free(m);
}

START_TEST(test_ort_case_int8)
{
    run_case_int8(&CASES[_i], 0);
}
END_TEST

START_TEST(test_ort_case_int8_all)
{
    run_case_int8(&CASES[_i], 1);
}
END_TEST

/* Both detector shapes as two buckets of one graph_compiled, one stream. */
START_TEST(test_ort_det_two_buckets)
{
    const char *names[2] = {"det_960x960", "det_1280x960"};
    char err[512] = "";
    graph_model *m = load_model("ch_PP-OCRv4_det_infer.onnx");
    graph_host_tensor in[2];
    memset(in, 0, sizeof in);
    graph_shape buckets[2];
    for (int b = 0; b < 2; b++) {
        read_input(names[b], &in[b]);
        buckets[b] = in[b].shape;
    }

    graph_compile_params p = graph_compile_default_params();
    graph_compiled *c = NULL;
    graph_status st = graph_compile(m, buckets, 2, &p, &c, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "compile det with 2 buckets: %s: %s",
                  graph_status_str(st), err);
    ck_assert_int_eq(graph_compiled_n_buckets(c), 2);
    for (int b = 0; b < 2; b++) {
        graph_shape cs = graph_compiled_input_shape(c, b, 0);
        ck_assert(graph_shape_eq(&cs, &buckets[b]));
        int sel = -1;
        ck_assert_int_eq(graph_select_bucket(c, &in[b].shape, &sel), GRAPH_OK);
        ck_assert_int_eq(sel, b); /* 960x960 fits both; it is the smaller */
    }

    graph_stream *s = NULL;
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    /* 0, 1, then 0 again: the second run of bucket 0 must not see bucket
     * 1's leftovers in the shared arena. */
    const int order[3] = {0, 1, 0};
    const char *tags[3] = {"(2 buckets, run 1)", "(2 buckets, run 2)",
                           "(2 buckets, run 3)"};
    for (int r = 0; r < 3; r++) {
        int b = order[r];
        const void *ins[1] = {in[b].data};
        const void *outs[MAX_OUT] = {0};
        st = graph_stream_run(s, b, ins, outs);
        ck_assert_msg(st == GRAPH_OK, "run bucket %d: %s: %s", b,
                      graph_status_str(st), graph_stream_last_error(s));
        check_outputs(m, c, b, names[b], outs, tags[r]);
    }

    graph_stream_free(s);
    graph_compiled_free(c);
    for (int b = 0; b < 2; b++)
        graph_host_tensor_free(&in[b]);
    graph_model_free(m);
}
END_TEST

static Suite *ort_suite(void)
{
    Suite *s = suite_create("ort_models");
    TCase *tc = tcase_create("ort");
    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, test_ort_case, 0, N_CASES);
    tcase_add_test(tc, test_ort_det_two_buckets);
    tcase_add_loop_test(tc, test_ort_case_bf16, 0, N_CASES);
    tcase_add_loop_test(tc, test_ort_case_int8, 0, N_CASES);
    tcase_add_loop_test(tc, test_ort_case_int8_all, 0, N_CASES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ort_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
