/* test_npy.c - .npy reader/writer: round trips, files from numpy itself,
 * and malformed files (which must give an error, never a crash). */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_tmpdir.h"
#include "npy.h"

static char tmpdir[256];
static char errbuf[512];

static const char *python(void)
{
    const char *p = getenv("DOCRT_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

static void setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "npy");
}

static void teardown(void)
{
    test_tmpdir_remove(tmpdir);
}

static const char *tpath(const char *name)
{
    return test_tmpdir_path(tmpdir, name);
}

static void write_bytes(const char *name, const void *b, size_t n)
{
    FILE *f = fopen(tpath(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Runs a Python snippet with numpy imported and D = the temp dir. */
static void py(const char *code)
{
    const char *script = tpath("gen.py");
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "import sys, numpy as np\nD = sys.argv[1]\n%s\n", code);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", python(), script, tmpdir);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "python failed (%d): %s", rc, code);
}

static graph_status rd(const char *name, graph_host_tensor *t)
{
    return npy_read(tpath(name), t, errbuf, sizeof errbuf);
}

/* ---- round trips ---- */

START_TEST(roundtrip_f32)
{
    static const graph_shape shapes[] = {
        {0, {0}}, {1, {7}}, {2, {3, 5}}, {4, {1, 3, 4, 2}}, {3, {2, 0, 4}},
        {8, {1, 2, 1, 2, 1, 2, 1, 3}},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t n = 1;
        for (int i = 0; i < shapes[s].rank; i++)
            n *= shapes[s].dims[i];
        float *d = malloc(n ? (size_t)n * sizeof *d : 1);
        for (int64_t i = 0; i < n; i++)
            d[i] = (float)i * 0.5f - 3.25f;
        graph_host_tensor t = {GRAPH_DT_F32, shapes[s], d};
        ck_assert_int_eq(npy_write(tpath("rt.npy"), &t, errbuf, sizeof errbuf),
                         GRAPH_OK);
        graph_host_tensor u;
        ck_assert_msg(rd("rt.npy", &u) == GRAPH_OK, "%s", errbuf);
        ck_assert_int_eq(u.dtype, GRAPH_DT_F32);
        ck_assert_int_eq(u.shape.rank, shapes[s].rank);
        for (int i = 0; i < u.shape.rank; i++)
            ck_assert_int_eq(u.shape.dims[i], shapes[s].dims[i]);
        ck_assert_int_eq(memcmp(u.data, d, (size_t)n * sizeof *d), 0);
        /* header is 64-byte aligned, as numpy writes it */
        size_t len;
        unsigned char *b = slurp(tpath("rt.npy"), &len);
        size_t hl = b[8] | (size_t)b[9] << 8;
        ck_assert_uint_eq((10 + hl) % 64, 0);
        ck_assert_uint_eq(len, 10 + hl + (size_t)n * 4);
        ck_assert_int_eq(b[10 + hl - 1], '\n');
        free(b);
        graph_host_tensor_free(&u);
        free(d);
    }
}
END_TEST

START_TEST(roundtrip_i64)
{
    int64_t d[6] = {0, -1, INT64_MAX, INT64_MIN, 42, 1LL << 40};
    graph_host_tensor t = {GRAPH_DT_I64, {2, {2, 3}}, d};
    ck_assert_int_eq(npy_write(tpath("i.npy"), &t, errbuf, sizeof errbuf),
                     GRAPH_OK);
    graph_host_tensor u;
    ck_assert_msg(rd("i.npy", &u) == GRAPH_OK, "%s", errbuf);
    ck_assert_int_eq(u.dtype, GRAPH_DT_I64);
    ck_assert_int_eq(u.shape.rank, 2);
    ck_assert_int_eq(memcmp(u.data, d, sizeof d), 0);
    graph_host_tensor_free(&u);
}
END_TEST

/* What we write is byte-identical to numpy.save and numpy loads it. */
START_TEST(writer_matches_numpy)
{
    float f[24];
    for (int i = 0; i < 24; i++)
        f[i] = (float)i / 8.0f;
    graph_host_tensor t = {GRAPH_DT_F32, {4, {1, 2, 3, 4}}, f};
    ck_assert_int_eq(npy_write(tpath("c_f.npy"), &t, errbuf, sizeof errbuf),
                     GRAPH_OK);
    int64_t l[3] = {5, -6, 7};
    graph_host_tensor ti = {GRAPH_DT_I64, {1, {3}}, l};
    ck_assert_int_eq(npy_write(tpath("c_i.npy"), &ti, errbuf, sizeof errbuf),
                     GRAPH_OK);
    float s = 2.5f;
    graph_host_tensor ts = {GRAPH_DT_F32, {0, {0}}, &s};
    ck_assert_int_eq(npy_write(tpath("c_s.npy"), &ts, errbuf, sizeof errbuf),
                     GRAPH_OK);
    py("import os\n"
       "a = np.arange(24, dtype='<f4').reshape(1,2,3,4) / np.float32(8)\n"
       "b = np.array([5,-6,7], dtype='<i8')\n"
       "c = np.array(2.5, dtype='<f4')\n"
       "for n, x in (('c_f', a), ('c_i', b), ('c_s', c)):\n"
       "    y = np.load(os.path.join(D, n + '.npy'))\n"
       "    assert y.dtype == x.dtype and y.shape == x.shape, (n, y.dtype, y.shape)\n"
       "    assert np.array_equal(x, y), n\n"
       "    np.save(os.path.join(D, n + '_np.npy'), x)\n"
       "    p, q = (open(os.path.join(D, n + s), 'rb').read() for s in ('.npy', '_np.npy'))\n"
       "    assert p == q, (n, p[:128], q[:128])\n");
}
END_TEST

/* ---- files written by numpy ---- */

START_TEST(reads_numpy_files)
{
    py("from numpy.lib import format as F\n"
       "np.save(D + '/a.npy', np.arange(6, dtype='<f4').reshape(2, 3))\n"
       "np.save(D + '/b.npy', np.arange(5, dtype='<i8') - 2)\n"
       "np.save(D + '/s.npy', np.float32(7.5))\n"
       "np.save(D + '/z.npy', np.zeros((0, 3), dtype='<f4'))\n"
       "np.save(D + '/big.npy', (np.arange(3*64*64, dtype='<f4') * 0.25).reshape(1, 3, 64, 64))\n"
       "for v in ((1, 0), (2, 0), (3, 0)):\n"
       "    with open(D + '/v%d.npy' % v[0], 'wb') as f:\n"
       "        F.write_array(f, np.arange(12, dtype='<f4').reshape(3, 4), version=v)\n");
    graph_host_tensor t;
    ck_assert_msg(rd("a.npy", &t) == GRAPH_OK, "%s", errbuf);
    ck_assert_int_eq(t.dtype, GRAPH_DT_F32);
    ck_assert_int_eq(t.shape.rank, 2);
    ck_assert_int_eq(t.shape.dims[0], 2);
    ck_assert_int_eq(t.shape.dims[1], 3);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(((float *)t.data)[i], (float)i);
    graph_host_tensor_free(&t);

    ck_assert_msg(rd("b.npy", &t) == GRAPH_OK, "%s", errbuf);
    ck_assert_int_eq(t.dtype, GRAPH_DT_I64);
    ck_assert_int_eq(t.shape.rank, 1);
    ck_assert_int_eq(t.shape.dims[0], 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(((int64_t *)t.data)[i], i - 2);
    graph_host_tensor_free(&t);

    ck_assert_msg(rd("s.npy", &t) == GRAPH_OK, "%s", errbuf);
    ck_assert_int_eq(t.shape.rank, 0);
    ck_assert_float_eq(((float *)t.data)[0], 7.5f);
    graph_host_tensor_free(&t);

    ck_assert_msg(rd("z.npy", &t) == GRAPH_OK, "%s", errbuf);
    ck_assert_int_eq(t.shape.rank, 2);
    ck_assert_int_eq(t.shape.dims[0], 0);
    ck_assert_int_eq(t.shape.dims[1], 3);
    graph_host_tensor_free(&t);

    ck_assert_msg(rd("big.npy", &t) == GRAPH_OK, "%s", errbuf);
    ck_assert_int_eq(t.shape.rank, 4);
    ck_assert_int_eq(t.shape.dims[1], 3);
    ck_assert_int_eq(t.shape.dims[3], 64);
    ck_assert_float_eq(((float *)t.data)[3 * 64 * 64 - 1],
                       (float)(3 * 64 * 64 - 1) * 0.25f);
    graph_host_tensor_free(&t);

    const char *vs[] = {"v1.npy", "v2.npy", "v3.npy"};
    for (int v = 0; v < 3; v++) {
        ck_assert_msg(rd(vs[v], &t) == GRAPH_OK, "%s: %s", vs[v], errbuf);
        ck_assert_int_eq(t.shape.rank, 2);
        ck_assert_int_eq(t.shape.dims[0], 3);
        ck_assert_int_eq(t.shape.dims[1], 4);
        ck_assert_float_eq(((float *)t.data)[11], 11.0f);
        graph_host_tensor_free(&t);
    }
}
END_TEST

/* ---- malformed input ---- */

static void expect_fail(const char *name, graph_status want, const char *needle)
{
    graph_host_tensor t;
    memset(&t, 0xab, sizeof t);
    graph_status st = rd(name, &t);
    ck_assert_msg(st == want, "%s: got status %d want %d (%s)", name, st, want,
                  errbuf);
    ck_assert_ptr_null(t.data);
    ck_assert_msg(strstr(errbuf, tpath(name)) != NULL,
                  "error does not name the file: %s", errbuf);
    if (needle)
        ck_assert_msg(strstr(errbuf, needle) != NULL,
                      "error lacks '%s': %s", needle, errbuf);
}

START_TEST(malformed_basic)
{
    expect_fail("missing.npy", GRAPH_ERR_IO, "cannot open");
    write_bytes("empty.npy", "", 0);
    expect_fail("empty.npy", GRAPH_ERR_IO, "empty");
    ck_assert_int_eq(mkdir(tpath("dir.npy"), 0700), 0);
    expect_fail("dir.npy", GRAPH_ERR_IO, "regular");
    write_bytes("magic.npy", "PK\x03\x04 not numpy at all", 21);
    expect_fail("magic.npy", GRAPH_ERR_PARSE, "magic");
    write_bytes("short.npy", "\x93NUM", 4);
    expect_fail("short.npy", GRAPH_ERR_PARSE, "truncated");
    write_bytes("pre.npy", "\x93NUMPY\x01\x00\x50", 9);
    expect_fail("pre.npy", GRAPH_ERR_PARSE, "truncated");
    /* header length 0x76 but only a few header bytes follow */
    write_bytes("trunc.npy", "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'", 25);
    expect_fail("trunc.npy", GRAPH_ERR_PARSE, "truncated header");
    write_bytes("ver.npy", "\x93NUMPY\x04\x00\x76\x00", 10);
    expect_fail("ver.npy", GRAPH_ERR_UNSUPPORTED, "version 4.0");
}
END_TEST

START_TEST(malformed_numpy)
{
    py("np.save(D + '/f8.npy', np.zeros((2, 2), dtype='<f8'))\n"
       "np.save(D + '/be.npy', np.zeros(3, dtype='>f4'))\n"
       "np.save(D + '/i4.npy', np.zeros(3, dtype='<i4'))\n"
       "np.save(D + '/str.npy', np.array(['ab', 'c']))\n"
       "np.save(D + '/rec.npy', np.zeros(2, dtype=[('x', '<f4'), ('y', '<i8')]))\n"
       "np.save(D + '/fo.npy', np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))\n"
       "np.save(D + '/r9.npy', np.zeros((1,)*9, dtype='<f4'))\n"
       "b = open(D + '/fo.npy', 'rb').read()\n"
       "np.save(D + '/ok.npy', np.arange(6, dtype='<f4').reshape(2, 3))\n"
       "b = open(D + '/ok.npy', 'rb').read()\n"
       "open(D + '/short.npy', 'wb').write(b[:-3])\n"
       "open(D + '/long.npy', 'wb').write(b + b'\\0')\n"
       "open(D + '/nodata.npy', 'wb').write(b[:128])\n");
    expect_fail("f8.npy", GRAPH_ERR_UNSUPPORTED, "dtype '<f8' (float64)");
    expect_fail("be.npy", GRAPH_ERR_UNSUPPORTED, "big-endian float32");
    expect_fail("i4.npy", GRAPH_ERR_UNSUPPORTED, "'<i4' (int32)");
    expect_fail("str.npy", GRAPH_ERR_UNSUPPORTED, "unicode string");
    expect_fail("rec.npy", GRAPH_ERR_UNSUPPORTED, "structured dtype");
    expect_fail("fo.npy", GRAPH_ERR_UNSUPPORTED, "fortran_order");
    expect_fail("r9.npy", GRAPH_ERR_UNSUPPORTED, "rank 9");
    expect_fail("short.npy", GRAPH_ERR_PARSE, "shorter than the shape");
    expect_fail("nodata.npy", GRAPH_ERR_PARSE, "shorter than the shape");
    expect_fail("long.npy", GRAPH_ERR_PARSE, "after the data");
}
END_TEST

static void write_header(const char *name, const char *hdr, size_t datalen)
{
    size_t hl = strlen(hdr);
    unsigned char *b = calloc(1, 10 + hl + datalen);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(hl & 0xff);
    b[9] = (unsigned char)(hl >> 8);
    memcpy(b + 10, hdr, hl);
    write_bytes(name, b, 10 + hl + datalen);
    free(b);
}

START_TEST(malformed_headers)
{
    static const char *bad[] = {
        "",
        "{",
        "}",
        "[]",
        "{'descr': '<f4', 'fortran_order': False}",
        "{'descr': '<f4', 'shape': (1,)}",
        "{'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
        "{'descr': '<f4 'fortran_order': False, 'shape': (1,)}",
        "{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",
        "{descr: '<f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': [('x', '<f4'), 'fortran_order': False, 'shape': (1,)}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_header("h.npy", bad[i], 4);
        graph_host_tensor t;
        graph_status st = rd("h.npy", &t);
        ck_assert_msg(st == GRAPH_ERR_PARSE, "header %zu [%s]: status %d (%s)",
                      i, bad[i], st, errbuf);
        ck_assert_ptr_null(t.data);
    }
    /* valid variations: double quotes, no trailing comma, key order, 3L,
     * huge shape that overflows: must be caught before allocation */
    write_header("h.npy",
                 "{\"shape\": (1L,), \"fortran_order\": False, \"descr\": \"<f4\"}\n",
                 4);
    graph_host_tensor t;
    ck_assert_msg(rd("h.npy", &t) == GRAPH_OK, "%s", errbuf);
    graph_host_tensor_free(&t);
    write_header("h.npy",
                 "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (4294967296, 4294967296, 4294967296), }",
                 4);
    ck_assert_int_eq(rd("h.npy", &t), GRAPH_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(errbuf, "shorter"));
}
END_TEST

/* Every truncation and many single-byte corruptions of a valid file: the
 * reader must return (under ASan in CI) and, when it says OK, be coherent. */
START_TEST(fuzz_mutations)
{
    float d[6] = {1, 2, 3, 4, 5, 6};
    graph_host_tensor t = {GRAPH_DT_F32, {2, {2, 3}}, d};
    ck_assert_int_eq(npy_write(tpath("base.npy"), &t, errbuf, sizeof errbuf),
                     GRAPH_OK);
    size_t n;
    unsigned char *b = slurp(tpath("base.npy"), &n);
    for (size_t len = 0; len < n; len++) {
        write_bytes("m.npy", b, len);
        graph_host_tensor u;
        ck_assert_int_ne(rd("m.npy", &u), GRAPH_OK);
        ck_assert_ptr_null(u.data);
    }
    static const unsigned char vals[] = {0, 1, 0x7f, 0x80, 0xff, '(', ')',
                                         ',', '\'', '9', '}', ' ', 'T'};
    unsigned char *m = malloc(n);
    for (size_t pos = 0; pos < 80 && pos < n; pos++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(m, b, n);
            m[pos] = vals[v];
            write_bytes("m.npy", m, n);
            graph_host_tensor u;
            graph_status st = rd("m.npy", &u);
            if (st == GRAPH_OK) {
                int64_t numel = 1;
                for (int i = 0; i < u.shape.rank; i++)
                    numel *= u.shape.dims[i];
                ck_assert_int_eq(numel, 6);
                graph_host_tensor_free(&u);
            } else {
                ck_assert_ptr_null(u.data);
                ck_assert_uint_gt(strlen(errbuf), 0);
            }
        }
    }
    free(m);
    free(b);
}
END_TEST

START_TEST(writer_errors)
{
    float d = 1;
    graph_host_tensor t = {GRAPH_DT_F32, {1, {1}}, &d};
    ck_assert_int_eq(npy_write(tpath("no/such/dir/x.npy"), &t, errbuf,
                               sizeof errbuf),
                     GRAPH_ERR_IO);
    ck_assert_ptr_nonnull(strstr(errbuf, "no/such/dir/x.npy"));
    t.dtype = 12345;
    ck_assert_int_eq(npy_write(tpath("x.npy"), &t, errbuf, sizeof errbuf),
                     GRAPH_ERR_UNSUPPORTED);
    t.dtype = GRAPH_DT_F32;
    t.shape.dims[0] = -1;
    ck_assert_int_eq(npy_write(tpath("x.npy"), &t, errbuf, sizeof errbuf),
                     GRAPH_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, roundtrip_f32);
    tcase_add_test(tc, roundtrip_i64);
    tcase_add_test(tc, writer_matches_numpy);
    tcase_add_test(tc, reads_numpy_files);
    tcase_add_test(tc, malformed_basic);
    tcase_add_test(tc, malformed_numpy);
    tcase_add_test(tc, malformed_headers);
    tcase_add_test(tc, fuzz_mutations);
    tcase_add_test(tc, writer_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
