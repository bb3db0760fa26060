/* Bad input to graph/ and `docrt run-model`: each gives a clear error and a
 * non-zero status, never a crash (CI runs this under ASan+UBSan too). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph.h"
#include "onnx/onnx.pb-c.h"

static char dir[256], det[4096];

static void setup(void)
{
    const char *src = getenv("DOCRT_SOURCE_DIR");
    snprintf(det, sizeof det, "%s/weights/ch_PP-OCRv4_det_infer.onnx", src ? src : ".");
    snprintf(dir, sizeof dir, "/tmp/docrt_bad_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static const char *path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(path(name), "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* a one-node ONNX model of op `op` on input x [1,4] -> y */
static void write_model(const char *name, const char *op)
{
    Onnx__TensorShapeProto__Dimension d0 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, d1 = d0;
    d0.value_case = d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d0.dim_value = 1;
    d1.dim_value = 4;
    Onnx__TensorShapeProto__Dimension *dims[2] = { &d0, &d1 };
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dims;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = 1;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
    in.name = "x";
    in.type = &type;
    out.name = "y";
    out.type = &type;
    Onnx__ValueInfoProto *ins[1] = { &in }, *outs[1] = { &out };
    char *ni[1] = { "x" }, *no[1] = { "y" };
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
    node.op_type = (char *)op;
    node.name = "n0";
    node.n_input = 1;
    node.input = ni;
    node.n_output = 1;
    node.output = no;
    Onnx__NodeProto *nodes[1] = { &node };
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.n_node = 1;
    g.node = nodes;
    g.n_input = 1;
    g.input = ins;
    g.n_output = 1;
    g.output = outs;
    Onnx__OperatorSetIdProto ops = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    ops.has_version = 1;
    ops.version = 13;
    Onnx__OperatorSetIdProto *opsv[1] = { &ops };
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = 7;
    m.graph = &g;
    m.n_opset_import = 1;
    m.opset_import = opsv;
    size_t n = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    onnx__model_proto__pack(&m, buf);
    write_bytes(name, buf, n);
    free(buf);
}

static int docrt(const char *args, const char *needle)
{
    const char *exe = getenv("DOCRT_EXE");
    ck_assert_msg(exe && *exe, "DOCRT_EXE not set");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd %s && '%s' %s >out.txt 2>err.txt", dir, exe, args);
    int st = system(cmd);
    ck_assert_msg(WIFEXITED(st), "docrt %s did not exit normally", args);
    FILE *f = fopen(path("err.txt"), "r");
    char err[4096] = "";
    if (f) {
        size_t k = fread(err, 1, sizeof err - 1, f);
        err[k] = 0;
        fclose(f);
    }
    ck_assert_msg(strstr(err, needle), "docrt %s: stderr lacks '%s':\n%s", args, needle, err);
    return WEXITSTATUS(st);
}

START_TEST(empty_file)
{
    char err[512] = "";
    graph_model *m = NULL;
    write_bytes("empty.onnx", "", 0);
    ck_assert_int_eq(graph_model_load_file(path("empty.onnx"), &m, err, sizeof err), GRAPH_ERR_IO);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "empty file"));
    ck_assert_int_eq(docrt("run-model empty.onnx --input x=none.npy -o o", "empty file"), 1);
}
END_TEST

START_TEST(truncated_onnx)
{
    FILE *f = fopen(det, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_eq(n, sizeof buf);
    const size_t cuts[] = { 1, 7, 100, 4096, 300000, 1000000 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char err[512] = "";
        graph_model *m = NULL;
        graph_status st = graph_model_load_buffer(buf, cuts[i], &m, err, sizeof err);
        ck_assert_msg(st == GRAPH_ERR_PARSE, "cut at %zu: status %s (%s)", cuts[i], graph_status_str(st), err);
        ck_assert_ptr_null(m);
    }
    write_bytes("trunc.onnx", buf, 300000);
    ck_assert_int_eq(docrt("run-model trunc.onnx --input x=none.npy -o o", "not a valid ONNX model"), 1);
    write_bytes("text.onnx", "hello, not a model\n", 19);
    ck_assert_int_eq(docrt("run-model text.onnx --input x=none.npy -o o", "text.onnx"), 1);
}
END_TEST

START_TEST(unknown_op)
{
    char err[512] = "";
    graph_model *m = NULL;
    write_model("frob.onnx", "FrobnicateOp");
    ck_assert_int_eq(graph_model_load_file(path("frob.onnx"), &m, err, sizeof err), GRAPH_OK);
    graph_shape s = { .rank = 2, .dims = { 1, 4 } };
    graph_compiled *c = NULL;
    ck_assert_int_eq(graph_compile(m, &s, 1, NULL, &c, err, sizeof err), GRAPH_ERR_UNSUPPORTED);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "FrobnicateOp") && strstr(err, "n0"), "%s", err);
    graph_model_free(m);
    /* a supported op with an unsupported attribute value is refused by name */
    write_model("relu.onnx", "Relu");
    ck_assert_int_eq(graph_model_load_file(path("relu.onnx"), &m, err, sizeof err), GRAPH_OK);
    ck_assert_int_eq(graph_compile(m, &s, 1, NULL, &c, err, sizeof err), GRAPH_OK);
    graph_compiled_free(c);
    /* wrong rank for the model's declared input */
    graph_shape s3 = { .rank = 3, .dims = { 1, 4, 1 } };
    ck_assert_int_eq(graph_compile(m, &s3, 1, NULL, &c, err, sizeof err), GRAPH_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err, "input 'x'"));
    graph_model_free(m);
}
END_TEST

START_TEST(larger_than_every_bucket)
{
    char err[512] = "";
    graph_model *m = NULL;
    ck_assert_int_eq(graph_model_load_file(det, &m, err, sizeof err), GRAPH_OK);
    graph_shape b[2] = { { .rank = 4, .dims = { 1, 3, 64, 64 } }, { .rank = 4, .dims = { 1, 3, 128, 96 } } };
    graph_compiled *c = NULL;
    ck_assert_msg(graph_compile(m, b, 2, NULL, &c, err, sizeof err) == GRAPH_OK, "%s", err);
    int bk = -1;
    graph_shape ok = { .rank = 4, .dims = { 1, 3, 100, 64 } }, big = { .rank = 4, .dims = { 1, 3, 129, 32 } },
                wide = { .rank = 4, .dims = { 1, 3, 32, 97 } }, rank3 = { .rank = 3, .dims = { 3, 32, 32 } };
    ck_assert_int_eq(graph_select_bucket(c, &ok, &bk), GRAPH_OK);
    ck_assert_int_eq(bk, 1);
    ck_assert_int_eq(graph_select_bucket(c, &big, &bk), GRAPH_ERR_NO_BUCKET);
    ck_assert_int_eq(graph_select_bucket(c, &wide, &bk), GRAPH_ERR_NO_BUCKET);
    ck_assert_int_eq(graph_select_bucket(c, &rank3, &bk), GRAPH_ERR_NO_BUCKET);
    /* a bucket index out of range is an error, not a crash */
    graph_stream *s = NULL;
    ck_assert_int_eq(graph_stream_create(c, &s), GRAPH_OK);
    const void *in[1] = { NULL }, *out[1];
    ck_assert_int_eq(graph_stream_run(s, 2, in, out), GRAPH_ERR_INVALID);
    ck_assert_int_eq(graph_stream_run(s, 0, in, out), GRAPH_ERR_INVALID);
    graph_stream_free(s);
    graph_compiled_free(c);
    /* a bucket not matching the model's fixed channel count is refused */
    graph_shape bad = { .rank = 4, .dims = { 1, 4, 64, 64 } };
    ck_assert_int_eq(graph_compile(m, &bad, 1, NULL, &c, err, sizeof err), GRAPH_ERR_SHAPE);
    graph_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bad_input");
    TCase *t = tcase_create("bad_input");
    tcase_add_unchecked_fixture(t, setup, NULL);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, empty_file);
    tcase_add_test(t, truncated_onnx);
    tcase_add_test(t, unknown_op);
    tcase_add_test(t, larger_than_every_bucket);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
