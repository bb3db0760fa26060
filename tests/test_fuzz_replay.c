/* test_fuzz_replay.c - the fuzz targets' code over their seed corpora
 * (tests/fuzz/make_seeds.py, written to $DOCRT_BINARY_DIR/fuzz_seeds by the
 * fuzz_seeds_gen fixture) and over every input a fuzzer once crashed on
 * (tests/fuzz/regress/TARGET/), in every build: the ASan+UBSan run of CI
 * replays them with the sanitizers on. The seeds are valid files, so they
 * must also read back: a seed image that stops decoding, or a seed model
 * that stops compiling, fails here. */
#include "ocr_eval.h"

#include <dirent.h>

#include "docrt.h"
#include "fuzz.h"
#include "graph.h"
#include "npy.h"

typedef int (*one_fn)(const uint8_t *, size_t);

static char seeds[4096], regress[4096];

typedef void (*check_fn)(const char *name, const uint8_t *d, size_t n);

/* Runs fn (and check, when given) on every file of dir; the count. */
static int replay(const char *dir, one_fn fn, check_fn check)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *b = slurp(p, &len);
        ck_assert_msg(b != NULL, "cannot read %s", p);
        fn((const uint8_t *)b, len);
        if (check)
            check(e->d_name, (const uint8_t *)b, len);
        free(b);
        n++;
    }
    closedir(d);
    return n;
}

static void seed_image_reads(const char *name, const uint8_t *d, size_t n)
{
    char err[1024];
    docrt_document *doc = NULL;
    docrt_status st = docrt_document_open_memory(d, n, name, NULL, &doc, err,
                                                 sizeof err);
    ck_assert_msg(st == DOCRT_OK, "seed %s: %s", name, err);
    ck_assert_int_ge(docrt_document_n_pages(doc), 1);
    for (int p = 0; p < docrt_document_n_pages(doc); p++) {
        docrt_image img;
        st = docrt_document_read_page(doc, p, &img, err, sizeof err);
        ck_assert_msg(st == DOCRT_OK, "seed %s: %s", name, err);
        ck_assert_int_eq(img.width, strstr(name, "exif_rot") ||
                                            strstr(name, "orient8") ? 32 : 48);
        docrt_image_free(&img);
    }
    docrt_document_close(doc);
}

static void seed_npy_reads(const char *name, const uint8_t *d, size_t n)
{
    graph_host_tensor t;
    char err[512];
    graph_status st = npy_read_memory(d, n, name, &t, err, sizeof err);
    int readable = !strncmp(name, "f32_", 4) || !strncmp(name, "i64_", 4);
    if (!strcmp(name, "f32_fortran.npy"))
        readable = 0;
    ck_assert_msg((st == GRAPH_OK) == readable, "seed %s: %s (status %d)",
                  name, err, st);
    if (!readable)
        ck_assert_int_eq(st, GRAPH_ERR_UNSUPPORTED);
    graph_host_tensor_free(&t);
}

/* The models make_seeds.py builds (not ONNX's node tests, some of whose
 * dtypes docrt refuses) load. */
static void seed_onnx_loads(const char *name, const uint8_t *d, size_t n)
{
    if (!strncmp(name, "node_", 5))
        return;
    graph_model *m = NULL;
    char err[1024];
    graph_status st = graph_model_load_buffer(d, n, &m, err, sizeof err);
    ck_assert_msg(st == GRAPH_OK, "seed %s: %s", name, err);
    graph_model_free(m);
}

static void check_target(const char *t, one_fn fn, check_fn check, int min)
{
    char dir[8192];
    snprintf(dir, sizeof dir, "%s/%s", seeds, t);
    int n = replay(dir, fn, check);
    ck_assert_msg(n >= min, "%s: %d seeds, want >= %d (fuzz_seeds_gen ran?)",
                  dir, n, min);
    snprintf(dir, sizeof dir, "%s/%s", regress, t);
    replay(dir, fn, NULL);
}

START_TEST(image) { check_target("image", fuzz_image_one, seed_image_reads, 30); }
END_TEST
START_TEST(npy) { check_target("npy", fuzz_npy_one, seed_npy_reads, 9); }
END_TEST
START_TEST(onnx) { check_target("onnx", fuzz_onnx_one, seed_onnx_loads, 100); }
END_TEST
START_TEST(http) { check_target("http", fuzz_http_one, NULL, 15); }
END_TEST

int main(void)
{
    const char *b = getenv("DOCRT_BINARY_DIR"), *s = getenv("DOCRT_SOURCE_DIR");
    snprintf(seeds, sizeof seeds, "%s/fuzz_seeds", b ? b : ".");
    snprintf(regress, sizeof regress, "%s/tests/fuzz/regress", s ? s : ".");
    Suite *su = suite_create("fuzz_replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, image);
    tcase_add_test(tc, npy);
    tcase_add_test(tc, onnx);
    tcase_add_test(tc, http);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
