/* test_cli.c - the docrt command: dispatch, exit statuses, error messages,
 * and `run-model` end to end on the PP-OCRv4 detector (when fetched). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_tmpdir.h"
#include "cli.h"
#include "npy.h"

static char tmpdir[256];
static char det_model[1024];

static void setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "cli");
    const char *src = getenv("DOCRT_SOURCE_DIR");
    snprintf(det_model, sizeof det_model, "%s/weights/ch_PP-OCRv4_det_infer.onnx",
             src ? src : ".");
}

static void teardown(void)
{
    test_tmpdir_remove(tmpdir);
}

static const char *tpath(const char *name)
{
    return test_tmpdir_path(tmpdir, name);
}

static char out_text[8192], err_text[8192];

static void slurp_text(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

/* Runs `docrt ARGS`, stdout/stderr into out_text/err_text; exit status. */
static int docrt(const char *args)
{
    const char *exe = getenv("DOCRT_EXE");
    ck_assert_msg(exe && *exe, "DOCRT_EXE is not set (run through ctest)");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >'%s' 2>'%s'", tmpdir, exe,
             args, tpath("stdout"), tpath("stderr"));
    int st = system(cmd);
    slurp_text(tpath("stdout"), out_text, sizeof out_text);
    slurp_text(tpath("stderr"), err_text, sizeof err_text);
    ck_assert_msg(WIFEXITED(st), "docrt %s: did not exit normally (%d)", args,
                  st);
    return WEXITSTATUS(st);
}

static void expect_run(const char *args, int status, const char *needle)
{
    int rc = docrt(args);
    ck_assert_msg(rc == status, "docrt %s: exit %d, want %d\n%s", args, rc,
                  status, err_text);
    if (needle)
        ck_assert_msg(strstr(err_text, needle) != NULL,
                      "docrt %s: stderr lacks '%s':\n%s", args, needle,
                      err_text);
}

START_TEST(dispatch)
{
    expect_run("", 2, "usage: docrt");
    expect_run("frobnicate", 2, "unknown command 'frobnicate'");
    ck_assert_ptr_nonnull(strstr(err_text, "usage:"));
    expect_run("--version", 0, NULL);
    ck_assert_ptr_nonnull(strstr(out_text, "docrt " DOCRT_VERSION));
    expect_run("--help", 0, NULL);
    ck_assert_ptr_nonnull(strstr(out_text, "run-model"));
    expect_run("run-model --help", 0, NULL);
    ck_assert_ptr_nonnull(strstr(out_text, "--cache-capacity"));
}
END_TEST

START_TEST(usage_errors)
{
    expect_run("run-model", 2, "no MODEL.onnx");
    expect_run("run-model m.onnx -o out", 2, "no --input");
    expect_run("run-model m.onnx -i x=a.npy", 2, "-o DIR");
    expect_run("run-model m.onnx -i x -o out", 2, "NAME=FILE.npy");
    expect_run("run-model m.onnx -i x=a.npy -o", 2, "needs a value");
    expect_run("run-model m.onnx -i x=a.npy -o o --threads 0", 2, "--threads");
    expect_run("run-model m.onnx -i x=a.npy -o o --repeat -1", 2, "--repeat");
    expect_run("run-model m.onnx -i x=a.npy -o o --cache-capacity x", 2,
           "--cache-capacity");
    expect_run("run-model m.onnx -i x=a.npy -o o --frob", 2, "unknown option");
    expect_run("run-model m.onnx n.onnx -i x=a.npy -o o", 2, "one model only");
    expect_run("run-model m.onnx -i x=a.npy -i x=b.npy -o o", 2, "given twice");
}
END_TEST

START_TEST(missing_model)
{
    expect_run("run-model nope.onnx -i x=a.npy -o o", 1, "docrt: nope.onnx");
}
END_TEST

START_TEST(sanitize)
{
    char b[64];
    ck_assert_str_eq(cli_sanitize_name("sigmoid_0.tmp_0", b, sizeof b),
                     "sigmoid_0.tmp_0");
    ck_assert_str_eq(cli_sanitize_name("a/b:c d", b, sizeof b), "a_b_c_d");
    ck_assert_str_eq(cli_sanitize_name("../x", b, sizeof b), "_._x");
    ck_assert_str_eq(cli_sanitize_name("..", b, sizeof b), "_.");
    ck_assert_str_eq(cli_sanitize_name("", b, sizeof b), "_");
    ck_assert_str_eq(cli_sanitize_name("h\xc3\xa9", b, sizeof b), "h__");
    ck_assert_str_eq(cli_sanitize_name("abcdef", b, 4), "abc");
}
END_TEST

static int have_det(void)
{
    if (access(det_model, R_OK) == 0)
        return 1;
    fprintf(stderr, "test_cli: %s missing (weights/fetch.sh); skipped\n",
            det_model);
    return 0;
}

static void write_input(const char *name, int dtype, int h, int w)
{
    graph_shape s = {4, {1, 3, h, w}};
    size_t n = (size_t)3 * h * w;
    char e[512];
    if (dtype == GRAPH_DT_F32) {
        float *d = malloc(n * sizeof *d);
        for (size_t i = 0; i < n; i++)
            d[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
        ck_assert_msg(npy_write_data(tpath(name), dtype, &s, d, e, sizeof e) ==
                          GRAPH_OK, "%s", e);
        free(d);
    } else {
        int64_t *d = calloc(n, sizeof *d);
        ck_assert_msg(npy_write_data(tpath(name), dtype, &s, d, e, sizeof e) ==
                          GRAPH_OK, "%s", e);
        free(d);
    }
}

START_TEST(input_errors)
{
    if (!have_det())
        return;
    char args[2048];
    write_input("i64.npy", GRAPH_DT_I64, 32, 32);
    write_input("f32.npy", GRAPH_DT_F32, 32, 32);
    snprintf(args, sizeof args, "run-model '%s' -i x=i64.npy -o o", det_model);
    expect_run(args, 1, "input 'x' expects float32, got int64");
    ck_assert_ptr_nonnull(strstr(err_text, "docrt: i64.npy: "));
    snprintf(args, sizeof args, "run-model '%s' -i image=f32.npy -o o",
             det_model);
    expect_run(args, 1, "no input 'image'");
    snprintf(args, sizeof args, "run-model '%s' -i x=missing.npy -o o",
             det_model);
    expect_run(args, 1, "docrt: missing.npy: ");
    FILE *f = fopen(tpath("junk.npy"), "w");
    fputs("not numpy", f);
    fclose(f);
    snprintf(args, sizeof args, "run-model '%s' -i x=junk.npy -o o", det_model);
    expect_run(args, 1, "junk.npy: bad magic");
    ck_assert_int_ne(access(tpath("o"), F_OK), 0); /* nothing written */
}
END_TEST

START_TEST(run_detector)
{
    if (!have_det())
        return;
    char args[2048];
    write_input("x.npy", GRAPH_DT_F32, 64, 96);
    snprintf(args, sizeof args,
             "run-model '%s' --input x=x.npy -o out/det --repeat 2 -v",
             det_model);
    expect_run(args, 0, "cache capacity in force");
    ck_assert_msg(strstr(out_text, "median_ms=") &&
                      strstr(out_text, "runs=2 threads=1"),
                  "stdout: %s", out_text);
    graph_host_tensor t;
    char e[512];
    ck_assert_msg(npy_read(tpath("out/det/sigmoid_0.tmp_0.npy"), &t, e,
                           sizeof e) == GRAPH_OK,
                  "%s", e);
    ck_assert_int_eq(t.dtype, GRAPH_DT_F32);
    ck_assert_int_eq(t.shape.rank, 4);
    ck_assert_int_eq(t.shape.dims[0], 1);
    ck_assert_int_eq(t.shape.dims[1], 1);
    ck_assert_int_eq(t.shape.dims[2], 64);
    ck_assert_int_eq(t.shape.dims[3], 96);
    const float *p = t.data;
    for (int i = 0; i < 64 * 96; i++)
        ck_assert_msg(p[i] >= 0.0f && p[i] <= 1.0f, "p[%d] = %g", i, p[i]);
    graph_host_tensor_free(&t);

    /* quiet without -v, no timing line without --repeat */
    snprintf(args, sizeof args, "run-model '%s' -i x=x.npy -o out2 -t 2",
             det_model);
    expect_run(args, 0, NULL);
    ck_assert_str_eq(out_text, "");
    ck_assert_str_eq(err_text, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dispatch);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, missing_model);
    tcase_add_test(tc, sanitize);
    tcase_add_test(tc, input_errors);
    tcase_add_test(tc, run_detector);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
