/* test_ocr_bad_input.c - one `docrt ocr` over a dozen broken inputs, a good
 * page, and a 2-page TIFF whose second page is truncated: the process exits
 * 1 (not a crash), still writes every page it could read, and says on stderr,
 * one `docrt: FILE: [page N: ]REASON` line each, what was wrong with which
 * file and page.
 *
 * The broken files are made here, byte by byte (TIFFs with the IFDs first,
 * so a cut lands in the strip data; PNGs with stored deflate blocks). The
 * good page and the TIFF's pages come from tests/pages/make_pages.py. */
#include "ocr_eval.h"

#include <tiffio.h>

static const char *pages, *weights;
static char dir[PATH_MAX]; /* $DOCRT_BINARY_DIR/test_ocr_bad_input */

static const char *dpath(const char *name)
{
    static char buf[4][PATH_MAX + 256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* ---- byte buffers ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void b_reserve(bytes *b, size_t more)
{
    if (b->n + more <= b->cap)
        return;
    b->cap = 2 * (b->n + more) + 256;
    b->p = realloc(b->p, b->cap);
    ck_assert_ptr_nonnull(b->p);
}

static void b_put(bytes *b, const void *d, size_t n)
{
    b_reserve(b, n);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void b_zero(bytes *b, size_t n)
{
    b_reserve(b, n);
    memset(b->p + b->n, 0, n);
    b->n += n;
}

static void le16(uint8_t *p, uint32_t v) { p[0] = v & 0xFF; p[1] = (v >> 8) & 0xFF; }
static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xFF;
}
static void be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (24 - 8 * i)) & 0xFF;
}

/* ---- TIFF, written by hand: header, every IFD, then the strip data ---- */

typedef struct {
    uint32_t width, height;  /* declared; data may disagree */
    uint16_t bps, photometric, compression;
    uint32_t rows_per_strip;
    const uint8_t *data;     /* packed rows */
    size_t data_len;         /* written; strips past it are declared only */
} tiff_page;

static size_t tiff_stride(const tiff_page *pg)
{
    return ((size_t)pg->width * pg->bps + 7) / 8;
}

/* Returns the file; strip_at[p][s] gets each strip's file offset. */
static bytes tiff_build(const tiff_page *pg, int np, uint32_t **strip_at)
{
    enum { N_TAGS = 12 };
    bytes b = {0};
    b_zero(&b, 8);
    memcpy(b.p, "II", 2);
    le16(b.p + 2, 42);
    size_t *ifd = calloc((size_t)np, sizeof *ifd);
    size_t *offs_at = calloc((size_t)np, sizeof *offs_at);
    uint32_t *nstrips = calloc((size_t)np, sizeof *nstrips);
    size_t next_link = 4; /* where the next IFD's offset goes */
    for (int p = 0; p < np; p++) {
        const tiff_page *g = &pg[p];
        uint32_t rps = g->rows_per_strip ? g->rows_per_strip : g->height;
        uint32_t ns = (g->height + rps - 1) / rps;
        nstrips[p] = ns;
        ifd[p] = b.n;
        le32(b.p + next_link, (uint32_t)b.n);
        size_t ifd_len = 2 + 12 * N_TAGS + 4;
        b_zero(&b, ifd_len);
        next_link = ifd[p] + ifd_len - 4;
        size_t arrays = b.n; /* StripOffsets, StripByteCounts, 2 rationals */
        b_zero(&b, 8 * (size_t)ns + 16);
        offs_at[p] = arrays;
        uint64_t strip_bytes = (uint64_t)tiff_stride(g) * rps;
        uint64_t last = (uint64_t)tiff_stride(g) * (g->height - (ns - 1) * rps);
        for (uint32_t s = 0; s < ns; s++)
            le32(b.p + arrays + 4 * ns + 4 * s,
                 (uint32_t)(s + 1 < ns ? strip_bytes : last));
        le32(b.p + arrays + 8 * ns, 300);
        le32(b.p + arrays + 8 * ns + 4, 1);
        le32(b.p + arrays + 8 * ns + 8, 300);
        le32(b.p + arrays + 8 * ns + 12, 1);
        struct { uint16_t tag, type; uint32_t count, value; } t[N_TAGS] = {
            {256, 4, 1, g->width},
            {257, 4, 1, g->height},
            {258, 3, 1, g->bps},
            {259, 3, 1, g->compression},
            {262, 3, 1, g->photometric},
            {273, 4, ns, ns == 1 ? 0 : (uint32_t)arrays},
            {277, 3, 1, 1},
            {278, 4, 1, rps},
            {279, 4, ns, ns == 1 ? (uint32_t)strip_bytes : (uint32_t)(arrays + 4 * ns)},
            {282, 5, 1, (uint32_t)(arrays + 8 * ns)},
            {283, 5, 1, (uint32_t)(arrays + 8 * ns + 8)},
            {296, 3, 1, 2},
        };
        uint8_t *e = b.p + ifd[p];
        le16(e, N_TAGS);
        for (int i = 0; i < N_TAGS; i++) {
            uint8_t *x = e + 2 + 12 * i;
            le16(x, t[i].tag);
            le16(x + 2, t[i].type);
            le32(x + 4, t[i].count);
            if (t[i].type == 3)
                le16(x + 8, t[i].value);
            else
                le32(x + 8, t[i].value);
        }
    }
    for (int p = 0; p < np; p++) {
        const tiff_page *g = &pg[p];
        uint32_t rps = g->rows_per_strip ? g->rows_per_strip : g->height;
        uint64_t strip_bytes = (uint64_t)tiff_stride(g) * rps;
        size_t base = b.n;
        b_put(&b, g->data, g->data_len);
        strip_at[p] = calloc(nstrips[p], sizeof(uint32_t));
        for (uint32_t s = 0; s < nstrips[p]; s++) {
            uint32_t at = (uint32_t)(base + s * strip_bytes);
            strip_at[p][s] = at;
            if (nstrips[p] == 1) /* the offset is in the entry itself */
                le32(b.p + ifd[p] + 2 + 12 * 5 + 8, at);
            else
                le32(b.p + offs_at[p] + 4 * s, at);
        }
    }
    free(ifd);
    free(offs_at);
    free(nstrips);
    return b;
}

/* Page `index` of a bilevel TIFF, unpacked as 1-bit rows. */
static uint8_t *read_bilevel(const char *path, int index, uint32_t *w,
                             uint32_t *h, uint16_t *photometric)
{
    TIFF *t = TIFFOpen(path, "r");
    ck_assert_msg(t != NULL, "cannot open %s", path);
    ck_assert(TIFFSetDirectory(t, (tdir_t)index));
    uint16_t bps = 0;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, photometric);
    ck_assert_int_eq(bps, 1);
    size_t stride = (size_t)TIFFScanlineSize(t);
    ck_assert_uint_eq(stride, (*w + 7) / 8);
    uint8_t *d = malloc(stride * *h);
    ck_assert_ptr_nonnull(d);
    for (uint32_t y = 0; y < *h; y++)
        ck_assert(TIFFReadScanline(t, d + y * stride, y, 0) == 1);
    TIFFClose(t);
    return d;
}

/* ---- PNG, written by hand: stored deflate blocks ---- */

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void png_chunk(bytes *b, const char *type, const uint8_t *d, size_t n)
{
    uint8_t h[8];
    be32(h, (uint32_t)n);
    memcpy(h + 4, type, 4);
    b_put(b, h, 8);
    if (n)
        b_put(b, d, n);
    be32(h, crc32_png(b->p + b->n - n - 4, n + 4));
    b_put(b, h, 4);
}

static bytes png_grey(uint32_t w, uint32_t h, uint32_t decl_w, uint32_t decl_h)
{
    bytes b = {0}, raw = {0}, z = {0};
    b_put(&b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = {0};
    be32(ihdr, decl_w);
    be32(ihdr + 4, decl_h);
    ihdr[8] = 8; /* 8-bit grey */
    png_chunk(&b, "IHDR", ihdr, sizeof ihdr);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t f = 0;
        b_put(&raw, &f, 1);
        for (uint32_t x = 0; x < w; x++) {
            uint8_t v = ((x / 8 + y / 8) % 2) ? 40 : 220;
            b_put(&raw, &v, 1);
        }
    }
    uint8_t zh[2] = {0x78, 0x01};
    b_put(&z, zh, 2);
    for (size_t at = 0; at < raw.n || at == 0;) {
        size_t n = raw.n - at > 65535 ? 65535 : raw.n - at;
        uint8_t bh[5] = {at + n == raw.n, n & 0xFF, n >> 8,
                         (~n) & 0xFF, ((~n) >> 8) & 0xFF};
        b_put(&z, bh, 5);
        b_put(&z, raw.p + at, n);
        at += n;
        if (n == 0)
            break;
    }
    uint32_t s1 = 1, s2 = 0;
    for (size_t i = 0; i < raw.n; i++) {
        s1 = (s1 + raw.p[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    uint8_t ad[4];
    be32(ad, (s2 << 16) | s1);
    b_put(&z, ad, 4);
    png_chunk(&b, "IDAT", z.p, z.n);
    png_chunk(&b, "IEND", NULL, 0);
    free(raw.p);
    free(z.p);
    return b;
}

/* ---- the inputs ---- */

typedef struct {
    const char *name;  /* as given to docrt, relative to dir (or absolute) */
    const char *what;  /* for failure messages */
    int bad_page;      /* 0: the whole file fails; N: only page N */
} bad_input;

static bad_input bad[24];
static int n_bad;

static void add_bad(const char *name, const char *what, int page)
{
    bad[n_bad].name = name;
    bad[n_bad].what = what;
    bad[n_bad].bad_page = page;
    n_bad++;
}

static void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *d = slurp(from, &n);
    ck_assert_msg(d != NULL, "cannot read %s", from);
    write_bytes(to, d, n);
    free(d);
}

static void make_inputs(void)
{
    char src[PATH_MAX + 64];

    write_bytes(dpath("empty.png"), "", 0);
    add_bad("empty.png", "zero-byte file", 0);

    /* 8-bit 400 x 300, 19 strips of 16 rows; cut inside strip 10's data. */
    {
        size_t n = 400 * 300;
        uint8_t *px = malloc(n);
        for (size_t i = 0; i < n; i++)
            px[i] = (uint8_t)(((i % 400) / 10 + (i / 400) / 10) % 2 ? 30 : 230);
        tiff_page pg = {400, 300, 8, 1, 1, 16, px, n};
        uint32_t *at[1];
        bytes b = tiff_build(&pg, 1, at);
        write_bytes(dpath("truncated.tif"), b.p, at[0][10] + 16 * 400 / 2);
        free(at[0]);
        free(b.p);
        add_bad("truncated.tif", "truncated strip data", 0);

        /* The same page, compression 12345 (no such codec). */
        pg.compression = 12345;
        b = tiff_build(&pg, 1, at);
        write_bytes(dpath("unknown_comp.tif"), b.p, b.n);
        free(at[0]);
        free(b.p);
        add_bad("unknown_comp.tif", "unknown compression", 0);

        /* 100000 x 100000 declared, 1-bit, 64 bytes of data. */
        tiff_page huge = {100000, 100000, 1, 0, 1, 0, px, 64};
        b = tiff_build(&huge, 1, at);
        write_bytes(dpath("huge_tif.tif"), b.p, b.n);
        free(at[0]);
        free(b.p);
        add_bad("huge_tif.tif", "100000 x 100000 TIFF page", 0);
        free(px);
    }

    /* A TIFF header whose first IFD offset is 0: no pages. */
    write_bytes(dpath("zeropages.tif"), "II*\0\0\0\0\0", 8);
    add_bad("zeropages.tif", "TIFF with no pages", 0);

    /* PNG with a wrong IDAT CRC (data intact), and one declaring 10^10 px. */
    {
        bytes b = png_grey(64, 48, 64, 48);
        b.p[b.n - 12 - 2] ^= 0x5A; /* IDAT's CRC sits before the 12-byte IEND */
        write_bytes(dpath("badcrc.png"), b.p, b.n);
        free(b.p);
        add_bad("badcrc.png", "PNG with a bad IDAT CRC", 0);
        b = png_grey(64, 48, 100000, 100000);
        write_bytes(dpath("huge_png.png"), b.p, b.n);
        free(b.p);
        add_bad("huge_png.png", "100000 x 100000 PNG", 0);
    }

    /* The JPEG page cut at 45%: inside the entropy-coded data. */
    {
        size_t n = 0;
        snprintf(src, sizeof src, "%s/rgb.jpg", pages);
        char *d = slurp(src, &n);
        ck_assert_msg(d != NULL, "cannot read %s", src);
        write_bytes(dpath("truncated.jpg"), d, n * 45 / 100);
        free(d);
        add_bad("truncated.jpg", "truncated JPEG", 0);
    }

    write_bytes(dpath("notimage.png"), "This is not an image.\n", 22);
    add_bad("notimage.png", "text file", 0);

    ck_assert_int_eq(mkdir(dpath("folder.tif"), 0755), 0);
    add_bad("folder.tif", "a directory", 0);

    ck_assert_int_eq(symlink("nowhere.png", dpath("missing.png")), 0);
    add_bad("missing.png", "dangling symlink", 0);

    /* open() works, read() fails (EIO): unreadable even for root. */
    add_bad("/proc/self/mem", "read error", 0);
    if (geteuid() != 0) {
        snprintf(src, sizeof src, "%s/grey8.png", pages);
        copy_file(src, dpath("noperm.png"));
        ck_assert_int_eq(chmod(dpath("noperm.png"), 0), 0);
        add_bad("noperm.png", "no read permission", 0);
    }

    /* Two bilevel pages of clean_g4.tif, uncompressed, 64-row strips; the
     * file ends half way into page 2's fourth strip. */
    {
        snprintf(src, sizeof src, "%s/clean_g4.tif", pages);
        tiff_page pg[2];
        uint8_t *d[2];
        for (int p = 0; p < 2; p++) {
            uint32_t w, h;
            uint16_t ph = 0;
            d[p] = read_bilevel(src, p, &w, &h, &ph);
            tiff_page g = {w, h, 1, ph, 1, 64, d[p], (size_t)(w + 7) / 8 * h};
            pg[p] = g;
        }
        uint32_t *at[2];
        bytes b = tiff_build(pg, 2, at);
        write_bytes(dpath("twopage_bad.tif"), b.p,
                    at[1][3] + tiff_stride(&pg[1]) * 32);
        free(at[0]);
        free(at[1]);
        free(b.p);
        free(d[0]);
        free(d[1]);
        add_bad("twopage_bad.tif", "page 2 truncated", 2);
    }

    snprintf(src, sizeof src, "%s/grey8.png", pages);
    copy_file(src, dpath("good.png"));
}

/* A stderr line "docrt: NAME: " + (page N: ) + a reason. */
static int names_error(const char *err, const char *name, int page)
{
    char prefix[PATH_MAX + 64];
    int n = snprintf(prefix, sizeof prefix, "docrt: %s: ", name);
    if (page)
        snprintf(prefix + n, sizeof prefix - (size_t)n, "page %d: ", page);
    size_t pl = strlen(prefix);
    for (const char *l = err; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len >= pl + 3 && strncmp(l, prefix, pl) == 0)
            return 1;
        l += len + (e != NULL);
    }
    return 0;
}

START_TEST(bad_inputs)
{
    mkdir_p(dir);
    make_inputs();
    char *argv[64];
    int a = 0;
    argv[a++] = (char *)docrt_exe();
    argv[a++] = "ocr";
    /* the good page sits among the bad ones, not first or last */
    for (int i = 0; i < n_bad; i++) {
        argv[a++] = (char *)bad[i].name;
        if (i == n_bad / 2)
            argv[a++] = "good.png";
    }
    argv[a++] = "-o";
    argv[a++] = "out";
    argv[a++] = "--model-dir";
    argv[a++] = (char *)weights;
    argv[a] = NULL;
    int st = run_argv(argv, dir, NULL, dpath("stdout"), dpath("stderr"));
    char *err = slurp(dpath("stderr"), NULL), d[96];
    ck_assert_ptr_nonnull(err);
    describe_status(st, d, sizeof d);
    ck_assert_msg(!WIFSIGNALED(st), "docrt ocr on bad inputs: %s\n%s", d, err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
                  "docrt ocr on bad inputs: %s, want exit 1\n%s", d, err);
    assert_no_sanitizer_report(err);

    /* Every bad file (and the bad page) is named with a reason. */
    for (int i = 0; i < n_bad; i++)
        ck_assert_msg(names_error(err, bad[i].name, bad[i].bad_page),
                      "no 'docrt: %s: %s<reason>' line for the %s; "
                      "stderr:\n%s", bad[i].name,
                      bad[i].bad_page ? "page 2: " : "", bad[i].what, err);
    ck_assert_msg(!strstr(err, "docrt: good.png"),
                  "the good page is reported:\n%s", err);
    ck_assert_msg(!strstr(err, "twopage_bad.tif: page 1:"),
                  "page 1 of twopage_bad.tif is reported:\n%s", err);
    /* Errors are docrt's lines, not a library's chatter. */
    for (const char *l = err; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        ck_assert_msg(len == 0 || strncmp(l, "docrt: ", 7) == 0,
                      "stderr line not from docrt: '%.*s'", (int)len, l);
        l += len + (e != NULL);
    }

    /* The good page and the readable page were still written. */
    size_t gl = 0, ol = 0;
    char gtp[PATH_MAX + 64];
    snprintf(gtp, sizeof gtp, "%s/grey8.txt", pages);
    char *gt = slurp(gtp, &gl);
    ck_assert_msg(gt != NULL, "no GT %s", gtp);
    char *out = slurp(dpath("out/good.txt"), &ol);
    ck_assert_msg(out != NULL, "no out/good.txt; stderr:\n%s", err);
    ocr_score s = ocr_cer(gt, gl, out, ol);
    ck_assert_msg(s.cer <= 0.02, "good.png: CER %.2f%%\n%s", 100 * s.cer,
                  s.where);
    free(gt);
    free(out);

    snprintf(gtp, sizeof gtp, "%s/clean_g4.txt", pages);
    gt = slurp(gtp, &gl);
    ck_assert_msg(gt != NULL, "no GT %s", gtp);
    out = slurp(dpath("out/twopage_bad.txt"), &ol);
    ck_assert_msg(out != NULL, "no out/twopage_bad.txt (page 1 is readable); "
                  "stderr:\n%s", err);
    char *ff = memchr(gt, '\f', gl), *off = memchr(out, '\f', ol);
    ck_assert_ptr_nonnull(ff);
    s = ocr_cer(gt, (size_t)(ff - gt), out, off ? (size_t)(off - out) : ol);
    ck_assert_msg(s.cer <= 0.02, "twopage_bad.tif page 1: CER %.2f%%\n%s",
                  100 * s.cer, s.where);
    free(gt);
    free(out);
    free(err);
}
END_TEST

int main(void)
{
    weights = model_dir("test_ocr_bad_input");
    if (!weights)
        return EXIT_SUCCESS;
    pages = pages_dir();
    if (!pages)
        return EXIT_FAILURE;
    snprintf(dir, sizeof dir, "%s/test_ocr_bad_input",
             env_or("DOCRT_BINARY_DIR", env_or("TMPDIR", "/tmp")));
    rm_rf(dir);

    Suite *s = suite_create("ocr_bad_input");
    TCase *tc = tcase_create("bad_input");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, bad_inputs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
