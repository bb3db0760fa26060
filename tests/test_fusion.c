/* test_fusion.c - each fusion pattern of graph/graph_fuse.c on a small
 * model, against PyTorch.
 *
 * tests/fusion/make_fusion_models.py (CTest test `fusion_models_gen`,
 * fixture fusion_models) writes DIR/<case>/model.onnx, input.npy and
 * expected.npy (PyTorch, float64), DIR = $DOCRT_FUSION_DIR or
 * $DOCRT_BINARY_DIR/fusion_models.
 *
 * Each case is compiled three ways: f32, bf16, and f32 with fusion off
 * (GRAPH_DEBUG_NO_FUSE). Asserted:
 *   - f32 within 1e-5 of the expected output, relative to its largest
 *     magnitude (measured: at most 4e-7); bf16 within 2e-2 (measured: at
 *     most 6e-3; bf16 keeps 8 bits of mantissa);
 *   - the fused plan has exactly the steps listed per case, and fewer than
 *     the unfused one wherever a pattern applies: a pattern that stops
 *     matching fails here even when the numbers stay right;
 *   - the fused plans (f32 and bf16) reorder only at the edges: the input
 *     to nhwc and the output back (2).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "npy.h"

typedef struct {
    const char *name;
    int steps;       /* fused f32 plan: every step, reorders at the edges too */
    int steps_unfused;
} fusion_case;

/* steps: the input reorder to nhwc and the output reorder back (2) plus */
static const fusion_case CASES[] = {
    /* 1x1 conv + depth-to-space, twice; the logistic apart (it costs more
     * as a post-op) */
    {"deconv_head", 7, 13},
    /* the deconvolution's own bias and the relu on the 1x1 conv */
    {"deconv_bias_relu", 4, 5},
    /* k3s2 stays a deconvolution; Add + BN fold into its weights and the
     * Add's constant, the relu stays apart */
    {"deconv_k3_bn", 5, 6},
    /* two groups: a plain deconvolution, nothing to fuse */
    {"deconv_grouped", 4, 4},
    /* conv; pool; conv+relu; conv+hardsigmoid(+1); one mul (the Add gone) */
    {"se_residual", 7, 13},
    /* the Add becomes the conv's bias; the logistic apart */
    {"conv_add_bias", 4, 5},
    /* not a fusion: graph_ref.c's resize on the nhwc activations between
     * the two convs (before, a reorder to plain f32 and back around it:
     * 7 steps, 4 reorders) */
    {"resize_align_corners", 5, 5},
    {"resize_down", 5, 5},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

static void case_path(char *buf, size_t len, const char *name, const char *file)
{
    const char *d = getenv("DOCRT_FUSION_DIR");
    const char *b = getenv("DOCRT_BINARY_DIR");
    int n;
    if (d && *d)
        n = snprintf(buf, len, "%s/%s/%s", d, name, file);
    else {
        ck_assert_msg(b && *b, "DOCRT_BINARY_DIR is not set (run through ctest)");
        n = snprintf(buf, len, "%s/fusion_models/%s/%s", b, name, file);
    }
    ck_assert_msg(n > 0 && (size_t)n < len, "path too long");
}

/* Compiles and runs the case; returns the plan's step count and the
 * largest error relative to max(1, max |expected|). */
static int run_case(const fusion_case *fc, int precision, int fuse, double *rel_err,
                    int *reorders)
{
    char path[4096], err[512] = "";
    graph_host_tensor in = {0}, ex = {0};
    case_path(path, sizeof path, fc->name, "input.npy");
    ck_assert_msg(npy_read(path, &in, err, sizeof err) == GRAPH_OK, "%s: %s", path, err);
    case_path(path, sizeof path, fc->name, "expected.npy");
    ck_assert_msg(npy_read(path, &ex, err, sizeof err) == GRAPH_OK, "%s: %s", path, err);
    case_path(path, sizeof path, fc->name, "model.onnx");
    graph_model *m = NULL;
    ck_assert_msg(graph_model_load_file(path, &m, err, sizeof err) == GRAPH_OK, "%s: %s", path, err);

    if (!fuse)
        setenv("GRAPH_DEBUG_NO_FUSE", "1", 1);
    graph_compile_params p = graph_compile_default_params();
    p.precision = precision;
    graph_compiled *c = NULL;
    graph_status st = graph_compile(m, &in.shape, 1, &p, &c, err, sizeof err);
    unsetenv("GRAPH_DEBUG_NO_FUSE");
    ck_assert_msg(st == GRAPH_OK, "compile %s: %s: %s", fc->name, graph_status_str(st), err);
    graph_shape os = graph_compiled_output_shape(c, 0, 0);
    ck_assert_msg(graph_shape_eq(&os, &ex.shape), "%s: output shape", fc->name);

    graph_stream *s = NULL;
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    const void *ins[1] = {in.data};
    const void *outs[1] = {NULL};
    st = graph_stream_run(s, 0, ins, outs);
    ck_assert_msg(st == GRAPH_OK, "run %s: %s", fc->name, graph_stream_last_error(s));
    const float *y = outs[0], *e = ex.data;
    size_t n = (size_t)graph_shape_numel(&ex.shape);
    double emax = 1, dmax = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(isfinite(y[i]), "%s: output %zu is %g", fc->name, i, y[i]);
        emax = fmax(emax, fabs(e[i]));
        dmax = fmax(dmax, fabs((double)y[i] - e[i]));
    }
    *rel_err = dmax / emax;
    int steps = graph_compiled_n_steps(c, 0);
    *reorders = graph_compiled_n_reorders(c, 0);
    printf("fusion %-20s %-4s %s: steps %d, reorders %d, max error %.2e\n", fc->name,
           graph_precision_name(precision), fuse ? "fused  " : "unfused", steps, *reorders, *rel_err);
    graph_stream_free(s);
    graph_compiled_free(c);
    graph_model_free(m);
    graph_host_tensor_free(&in);
    graph_host_tensor_free(&ex);
    return steps;
}

START_TEST(test_fusion_case)
{
    const fusion_case *fc = &CASES[_i];
    double e32, e16, eun;
    int r32, r16, run;
    int steps = run_case(fc, GRAPH_PREC_F32, 1, &e32, &r32);
    int unfused = run_case(fc, GRAPH_PREC_F32, 0, &eun, &run);
    run_case(fc, GRAPH_PREC_BF16, 1, &e16, &r16);
    ck_assert_msg(r32 == 2 && r16 == 2, "%s: %d reorders in f32, %d in bf16, expected 2", fc->name,
                  r32, r16);
    ck_assert_msg(e32 <= 1e-5, "%s f32: error %.3g > 1e-5", fc->name, e32);
    ck_assert_msg(eun <= 1e-5, "%s f32 unfused: error %.3g > 1e-5", fc->name, eun);
    ck_assert_msg(e16 <= 2e-2, "%s bf16: error %.3g > 2e-2", fc->name, e16);
    ck_assert_msg(steps == fc->steps, "%s: %d steps fused, expected %d", fc->name, steps, fc->steps);
    ck_assert_msg(unfused == fc->steps_unfused, "%s: %d steps unfused, expected %d", fc->name,
                  unfused, fc->steps_unfused);
}
END_TEST

static Suite *fusion_suite(void)
{
    Suite *s = suite_create("fusion");
    TCase *tc = tcase_create("cases");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_fusion_case, 0, N_CASES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fusion_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
