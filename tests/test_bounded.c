/* Bounded by construction: 1,000 inputs of random sizes, each padded into the
 * smallest bucket that holds it, run on one stream. The primitive counter
 * must not move after compile, and RSS after the first 50 runs must grow by
 * less than 1 MB over the remaining 950. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <malloc.h>

#include "graph.h"

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = -1;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static char model_path[4096];

static void setup(void)
{
    const char *src = getenv("DOCRT_SOURCE_DIR");
    snprintf(model_path, sizeof model_path, "%s/weights/ch_ppocr_mobile_v2.0_cls_infer.onnx", src ? src : ".");
}

START_TEST(thousand_random_shapes)
{
    char err[512] = "";
    graph_model *m = NULL;
    ck_assert_msg(graph_model_load_file(model_path, &m, err, sizeof err) == GRAPH_OK, "%s", err);
    /* width buckets of the 48-px-high line classifier */
    static const int widths[] = { 64, 128, 192, 320 };
    graph_shape b[4];
    for (int i = 0; i < 4; i++) b[i] = (graph_shape){ .rank = 4, .dims = { 1, 3, 48, widths[i] } };
    graph_compile_params p = graph_compile_default_params();
    p.cache_capacity = 16;
    graph_compiled *c = NULL;
    ck_assert_msg(graph_compile(m, b, 4, &p, &c, err, sizeof err) == GRAPH_OK, "%s", err);
    ck_assert_int_eq(graph_cache_capacity_in_force(), 16);
    graph_stream *s = NULL;
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    uint64_t prims = graph_primitives_created();

    float *img = malloc(sizeof(float) * 3 * 48 * 320);
    float *pad = malloc(sizeof(float) * 3 * 48 * 320);
    ck_assert_ptr_nonnull(img);
    ck_assert_ptr_nonnull(pad);
    unsigned seed = 12345;
    long rss50 = 0;
    int used[4] = { 0 };
    for (int it = 0; it < 1000; it++) {
        int h = 8 + (int)(rand_r(&seed) % 41), w = 8 + (int)(rand_r(&seed) % 313);
        graph_shape in = { .rank = 4, .dims = { 1, 3, h, w } };
        for (int i = 0; i < 3 * h * w; i++) img[i] = (float)(rand_r(&seed) % 255) / 127.5f - 1.f;
        int bk = -1;
        ck_assert_int_eq(graph_select_bucket(c, &in, &bk), GRAPH_OK);
        graph_shape bs = graph_compiled_input_shape(c, bk, 0);
        ck_assert(bs.dims[3] >= w && bs.dims[2] >= h);
        ck_assert_int_eq(graph_pad_into(img, &in, pad, &bs, 0.f), GRAPH_OK);
        const void *inputs[1] = { pad };
        const void *outputs[1] = { NULL };
        ck_assert_msg(graph_stream_run(s, bk, inputs, outputs) == GRAPH_OK, "%s", graph_stream_last_error(s));
        const float *prob = outputs[0];
        ck_assert(prob[0] >= 0.f && prob[0] <= 1.f && prob[0] + prob[1] > 0.999f && prob[0] + prob[1] < 1.001f);
        used[bk]++;
        if (it == 49) { malloc_trim(0); rss50 = rss_kb(); }
    }
    malloc_trim(0);
    long rss1000 = rss_kb();
    printf("bounded: primitives %llu before and after 1000 runs; RSS after 50 runs %ld kB, after 1000 %ld kB "
           "(growth %ld kB); runs per bucket %d/%d/%d/%d\n",
           (unsigned long long)prims, rss50, rss1000, rss1000 - rss50, used[0], used[1], used[2], used[3]);
    ck_assert_uint_eq(graph_primitives_created(), prims);
    ck_assert_msg(rss1000 - rss50 < 1024, "RSS grew %ld kB", rss1000 - rss50);
    for (int i = 0; i < 4; i++) ck_assert_int_gt(used[i], 0);

    /* an input larger than every bucket is refused, not run */
    graph_shape big = { .rank = 4, .dims = { 1, 3, 48, 321 } };
    int bk;
    ck_assert_int_eq(graph_select_bucket(c, &big, &bk), GRAPH_ERR_NO_BUCKET);
    free(img);
    free(pad);
    graph_stream_free(s);
    graph_compiled_free(c);
    graph_model_free(m);
}
END_TEST

/* A stream's memory is resident from its creation: the arena is sized for
 * the largest bucket, and running that bucket for the first time, after the
 * small one has run, must not fault in more pages (a service's RSS would
 * otherwise climb the first time a large page arrives). */
START_TEST(stream_resident_at_creation)
{
    char err[512] = "";
    graph_model *m = NULL;
    ck_assert_msg(graph_model_load_file(model_path, &m, err, sizeof err) == GRAPH_OK, "%s", err);
    graph_shape b[2] = { { .rank = 4, .dims = { 1, 3, 48, 64 } },
                         { .rank = 4, .dims = { 16, 3, 48, 1024 } } };
    graph_compile_params p = graph_compile_default_params();
    graph_compiled *c = NULL;
    ck_assert_msg(graph_compile(m, b, 2, &p, &c, err, sizeof err) == GRAPH_OK, "%s", err);
    graph_stream *s = NULL;
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    size_t arena = graph_stream_arena_bytes(s);
    float *in = calloc((size_t)16 * 3 * 48 * 1024, sizeof(float));
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < (size_t)16 * 3 * 48 * 1024; i++) in[i] = (float)(i % 251) / 125.f - 1.f;
    const void *inputs[1] = { in };
    const void *outputs[1] = { NULL };
    for (int i = 0; i < 3; i++)
        ck_assert_msg(graph_stream_run(s, 0, inputs, outputs) == GRAPH_OK, "%s", graph_stream_last_error(s));
    long before = rss_kb();
    ck_assert_msg(graph_stream_run(s, 1, inputs, outputs) == GRAPH_OK, "%s", graph_stream_last_error(s));
    long after = rss_kb();
    printf("bounded: stream arena %zu kB; RSS %ld kB before the large bucket's first run, %ld kB after\n",
           arena / 1024, before, after);
    ck_assert_msg(arena > 8u << 20, "the large bucket should need a large arena (%zu bytes)", arena);
    ck_assert_msg(after - before < 1024, "first run of the large bucket grew RSS by %ld kB", after - before);
    free(in);
    graph_stream_free(s);
    graph_compiled_free(c);
    graph_model_free(m);
}
END_TEST

START_TEST(pad_into_shapes)
{
    float src[6] = { 1, 2, 3, 4, 5, 6 }, dst[12];
    graph_shape a = { .rank = 2, .dims = { 2, 3 } }, b = { .rank = 2, .dims = { 3, 4 } };
    ck_assert_int_eq(graph_pad_into(src, &a, dst, &b, -1.f), GRAPH_OK);
    const float want[12] = { 1, 2, 3, -1, 4, 5, 6, -1, -1, -1, -1, -1 };
    for (int i = 0; i < 12; i++) ck_assert_float_eq(dst[i], want[i]);
    ck_assert_int_eq(graph_pad_into(src, &b, dst, &a, 0.f), GRAPH_ERR_SHAPE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bounded");
    TCase *t = tcase_create("bounded");
    tcase_add_unchecked_fixture(t, setup, NULL);
    tcase_set_timeout(t, 600);
    tcase_add_test(t, thousand_random_shapes);
    tcase_add_test(t, stream_resident_at_creation);
    tcase_add_test(t, pad_into_shapes);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
