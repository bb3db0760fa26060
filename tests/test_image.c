/* Image input: every TIFF / PNG / JPEG variant docrt reads, decoded and
 * compared with ImageMagick's decode of the same file (or with the pixels
 * the test wrote), and every bad input giving the right status and a
 * message that names the file, the page and the reason.
 *
 * Fixtures are made at test time in $DOCRT_BINARY_DIR/test_image/ with
 * ImageMagick (convert), libtiff-tools (tiffcp, tiffset), and libpng /
 * libtiff / raw bytes from C where the tools cannot be told exactly what to
 * write (PNG bit depths, min-is-black G4, forged headers).
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <png.h>
#include <tiffio.h>

#include "docrt.h"

static char dir[2048];

static void setup(void)
{
    const char *b = getenv("DOCRT_BINARY_DIR");
    snprintf(dir, sizeof dir, "%s/test_image", b && *b ? b : "/tmp/docrt");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A path in the fixture folder; eight live at a time. */
static const char *P(const char *name)
{
    static char buf[8][4096];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

static void sh(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
}

static void write_file(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    if (n)
        ck_assert_uint_eq(fwrite(d, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(len > 0 ? (size_t)len : 1);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(fread(d, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return d;
}

static void read_page(const char *path, int page, docrt_image *img)
{
    char err[1024];
    docrt_document *doc;
    docrt_status st = docrt_document_open(path, NULL, &doc, err, sizeof err);
    ck_assert_msg(st == DOCRT_OK, "open %s: %s", path, err);
    ck_assert_int_gt(docrt_document_n_pages(doc), page);
    st = docrt_document_read_page(doc, page, img, err, sizeof err);
    ck_assert_msg(st == DOCRT_OK, "read %s: %s", path, err);
    ck_assert_int_ge(img->stride, (size_t)img->width * (size_t)img->channels);
    docrt_document_close(doc);
}

/* ImageMagick's decode of path (after opts) as 8-bit grey or RGB. */
static uint8_t *im_decode(const char *path, const char *opts, int ch,
                          size_t want)
{
    char out[4200];
    snprintf(out, sizeof out, "%s.ref.raw", path);
    sh("convert '%s' %s -depth 8 %s:'%s'", path, opts, ch == 1 ? "gray" : "rgb",
       out);
    size_t n;
    uint8_t *d = read_file(out, &n);
    ck_assert_msg(n == want, "%s: ImageMagick gives %zu bytes, docrt %zu",
                  path, n, want);
    return d;
}

static void assert_pixels(const docrt_image *img, const uint8_t *ref, int tol,
                          const char *what)
{
    size_t row = (size_t)img->width * (size_t)img->channels;
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < row; i++) {
            int a = img->data[(size_t)y * img->stride + i];
            int b = ref[(size_t)y * row + i];
            ck_assert_msg(abs(a - b) <= tol,
                          "%s: pixel (%zu, %d) channel %zu is %d, expected %d",
                          what, i / (size_t)img->channels, y,
                          i % (size_t)img->channels, a, b);
        }
}

/* Decodes page 0 of path and compares it with ImageMagick's decode. */
static void check_vs_im(const char *path, const char *opts, int channels,
                        int w, int h, int tol)
{
    docrt_image img;
    read_page(path, 0, &img);
    ck_assert_msg(img.channels == channels, "%s: %d channels, want %d", path,
                  img.channels, channels);
    ck_assert_int_eq(img.width, w);
    ck_assert_int_eq(img.height, h);
    uint8_t *ref = im_decode(path, opts, channels,
                             (size_t)w * (size_t)h * (size_t)channels);
    assert_pixels(&img, ref, tol, path);
    free(ref);
    docrt_image_free(&img);
}

/* The fixtures' sources: bilevel text-like shapes at an odd width (rows
 * end mid-byte), a photo (ImageMagick's rose, 70 x 46) and its grey. */
static void make_sources(void)
{
    sh("convert -size 203x67 xc:white -fill black -draw 'rectangle 10,10 50,30'"
       " -draw 'circle 100,33 120,40' -draw 'line 0,66 202,0' -monochrome "
       "'%s'", P("text.png"));
    sh("convert rose: '%s'", P("rgb.png"));
    sh("convert rose: -colorspace Gray '%s'", P("grey.png"));
}

static void expect_open_fail(const char *path, docrt_status want,
                             const char *reason)
{
    char err[1024];
    docrt_document *doc = NULL;
    docrt_status st = docrt_document_open(path, NULL, &doc, err, sizeof err);
    ck_assert_msg(st == want, "%s: status %d, want %d: %s", path, st, want,
                  err);
    ck_assert_ptr_null(doc);
    size_t n = strlen(path);
    ck_assert_msg(!strncmp(err, path, n) && !strncmp(err + n, ": ", 2),
                  "message does not start with the file: %s", err);
    ck_assert_msg(strstr(err, reason), "message lacks \"%s\": %s", reason,
                  err);
}

/* Page `page` (0-based) of path fails with want and a message
 * "PATH: page N: ...reason..."; every other page reads. */
static void expect_page_fail(const char *path, int page, docrt_status want,
                             const char *reason)
{
    char err[1024], prefix[4200];
    docrt_document *doc;
    docrt_status st = docrt_document_open(path, NULL, &doc, err, sizeof err);
    ck_assert_msg(st == DOCRT_OK, "open %s: %s", path, err);
    for (int i = 0; i < docrt_document_n_pages(doc); i++) {
        docrt_image img;
        st = docrt_document_read_page(doc, i, &img, err, sizeof err);
        if (i != page) {
            ck_assert_msg(st == DOCRT_OK, "page %d: %s", i + 1, err);
            docrt_image_free(&img);
            continue;
        }
        ck_assert_msg(st == want, "%s: status %d, want %d: %s", path, st,
                      want, err);
        ck_assert_ptr_null(img.data);
        snprintf(prefix, sizeof prefix, "%s: page %d: ", path, page + 1);
        ck_assert_msg(!strncmp(err, prefix, strlen(prefix)),
                      "message does not start with \"%s\": %s", prefix, err);
        ck_assert_msg(strstr(err, reason), "message lacks \"%s\": %s", reason,
                      err);
    }
    docrt_document_close(doc);
}

/* ---- writers for what the tools cannot be told to write ---- */

/* A bilevel TIFF from 8-bit pixels (< 128 is black). */
static void write_bilevel_tiff(const char *path, const docrt_image *img,
                               int photometric, int compression,
                               int fillorder)
{
    TIFF *t = TIFFOpen(path, "w");
    ck_assert_ptr_nonnull(t);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photometric);
    TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
    TIFFSetField(t, TIFFTAG_FILLORDER, fillorder);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
    size_t rb = ((size_t)img->width + 7) / 8;
    uint8_t *row = malloc(rb);
    for (int y = 0; y < img->height; y++) {
        memset(row, 0, rb);
        for (int x = 0; x < img->width; x++) {
            int black = img->data[(size_t)y * img->stride + (size_t)x] < 128;
            int bit = photometric == PHOTOMETRIC_MINISWHITE ? black : !black;
            if (bit)
                row[x / 8] |= (uint8_t)(0x80 >> (x % 8));
        }
        ck_assert_int_eq(TIFFWriteScanline(t, row, (uint32_t)y, 0), 1);
    }
    free(row);
    TIFFClose(t);
}

typedef struct {
    int type, depth, interlace;
    int n_pal, n_trns;
    png_color pal[256];
    uint8_t trns[256];
    uint32_t ppm; /* pHYs, pixels per metre; 0 = none */
} png_spec;

/* rows: packed samples as PNG stores them (16-bit big-endian) */
static void write_png(const char *path, int w, int h, const png_spec *s,
                      uint8_t **rows)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                              NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert_int_eq(setjmp(png_jmpbuf(png)), 0);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, s->depth, s->type,
                 s->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (s->n_pal)
        png_set_PLTE(png, info, s->pal, s->n_pal);
    if (s->n_trns)
        png_set_tRNS(png, info, s->trns, s->n_trns, NULL);
    if (s->ppm)
        png_set_pHYs(png, info, s->ppm, s->ppm, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

/* A TIFF header and one directory written byte by byte: 8-bit grey
 * uncompressed unless bps says 1, one strip of `declared` bytes of which
 * `present` are in the file. */
static void write_forged_tiff(const char *path, uint32_t w, uint32_t h,
                              int bps, uint32_t declared, uint32_t present)
{
    const uint16_t tags[9] = { 256, 257, 258, 259, 262, 273, 277, 278, 279 };
    uint32_t data = 8 + 2 + 9 * 12 + 4;
    const uint32_t vals[9] = { w, h, (uint32_t)bps, 1, 1, data, 1, h,
                               declared };
    size_t n = data + present;
    uint8_t *b = calloc(1, n);
    memcpy(b, "II*\0\x08\0\0\0", 8);
    b[8] = 9;
    for (int i = 0; i < 9; i++) {
        uint8_t *e = b + 10 + 12 * i;
        int lng = tags[i] <= 257 || tags[i] == 273 || tags[i] >= 278;
        e[0] = (uint8_t)tags[i];
        e[1] = (uint8_t)(tags[i] >> 8);
        e[2] = lng ? 4 : 3;
        e[4] = 1;
        for (int k = 0; k < (lng ? 4 : 2); k++)
            e[8 + k] = (uint8_t)(vals[i] >> (8 * k));
    }
    for (uint32_t i = 0; i < present; i++)
        b[data + i] = (uint8_t)(i * 7);
    write_file(path, b, n);
    free(b);
}

/* ---- TIFF ---- */

START_TEST(tiff_g4_white_and_black_same_pixels)
{
    make_sources();
    docrt_image src;
    read_page(P("text.png"), 0, &src);
    ck_assert_int_eq(src.channels, 1);
    const char *names[3] = { "g4w.tif", "g4b.tif", "g4w_lsb.tif" };
    write_bilevel_tiff(P(names[0]), &src, PHOTOMETRIC_MINISWHITE,
                       COMPRESSION_CCITTFAX4, FILLORDER_MSB2LSB);
    write_bilevel_tiff(P(names[1]), &src, PHOTOMETRIC_MINISBLACK,
                       COMPRESSION_CCITTFAX4, FILLORDER_MSB2LSB);
    write_bilevel_tiff(P(names[2]), &src, PHOTOMETRIC_MINISWHITE,
                       COMPRESSION_CCITTFAX4, FILLORDER_LSB2MSB);
    for (int i = 0; i < 3; i++) {
        docrt_image img;
        read_page(P(names[i]), 0, &img);
        ck_assert_int_eq(img.channels, 1);
        ck_assert_int_eq(img.width, 203);
        ck_assert_int_eq(img.height, 67);
        uint8_t *ref = malloc((size_t)src.width * (size_t)src.height);
        for (int y = 0; y < src.height; y++)
            memcpy(ref + (size_t)y * (size_t)src.width,
                   src.data + (size_t)y * src.stride, (size_t)src.width);
        assert_pixels(&img, ref, 0, names[i]);
        free(ref);
        docrt_image_free(&img);
    }
    docrt_image_free(&src);
}
END_TEST

START_TEST(tiff_g3_1d_and_2d)
{
    make_sources();
    sh("convert '%s' -compress Group4 '%s'", P("text.png"), P("g4.tif"));
    sh("tiffcp -c g3 '%s' '%s'", P("g4.tif"), P("g3.tif"));
    sh("tiffcp -c g3:2d '%s' '%s'", P("g4.tif"), P("g3_2d.tif"));
    check_vs_im(P("g3.tif"), "", 1, 203, 67, 0);
    check_vs_im(P("g3_2d.tif"), "", 1, 203, 67, 0);
}
END_TEST

START_TEST(tiff_lzw_deflate_packbits)
{
    make_sources();
    sh("convert '%s' -compress LZW '%s'", P("grey.png"), P("lzw.tif"));
    sh("tiffcp -c zip '%s' '%s'", P("lzw.tif"), P("zip.tif"));
    sh("tiffcp -c packbits '%s' '%s'", P("lzw.tif"), P("packbits.tif"));
    sh("convert '%s' -compress LZW '%s'", P("rgb.png"), P("lzw_rgb.tif"));
    sh("tiffcp -c lzw:2 '%s' '%s'", P("lzw_rgb.tif"), P("lzw_pred.tif"));
    check_vs_im(P("lzw.tif"), "", 1, 70, 46, 0);
    check_vs_im(P("zip.tif"), "", 1, 70, 46, 0);
    check_vs_im(P("packbits.tif"), "", 1, 70, 46, 0);
    check_vs_im(P("lzw_rgb.tif"), "", 3, 70, 46, 0);
    check_vs_im(P("lzw_pred.tif"), "", 3, 70, 46, 0);
    /* 1-bit LZW and packbits take the bilevel path without CCITT */
    sh("convert '%s' -compress Group4 '%s'", P("text.png"), P("g4.tif"));
    sh("tiffcp -c lzw '%s' '%s'", P("g4.tif"), P("lzw_1bit.tif"));
    sh("tiffcp -c packbits '%s' '%s'", P("g4.tif"), P("pb_1bit.tif"));
    check_vs_im(P("lzw_1bit.tif"), "", 1, 203, 67, 0);
    check_vs_im(P("pb_1bit.tif"), "", 1, 203, 67, 0);
}
END_TEST

START_TEST(tiff_jpeg)
{
    make_sources();
    sh("convert '%s' -compress JPEG -quality 90 '%s'", P("rgb.png"),
       P("jpeg_rgb.tif"));
    sh("convert '%s' -compress JPEG -quality 90 '%s'", P("grey.png"),
       P("jpeg_grey.tif"));
    /* tiffcp stores colour JPEG as subsampled YCbCr, strips and tiles */
    sh("convert '%s' -compress None '%s'", P("rgb.png"), P("plain.tif"));
    sh("tiffcp -c jpeg -r 16 '%s' '%s'", P("plain.tif"),
       P("jpeg_ycbcr.tif"));
    sh("tiffcp -c jpeg -t -w 32 -l 32 '%s' '%s'", P("plain.tif"),
       P("jpeg_ycbcr_tiled.tif"));
    TIFF *t = TIFFOpen(P("jpeg_ycbcr_tiled.tif"), "r");
    uint16_t photometric = 0;
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);
    TIFFClose(t);
    ck_assert_int_eq(photometric, PHOTOMETRIC_YCBCR);
    check_vs_im(P("jpeg_rgb.tif"), "", 3, 70, 46, 3);
    check_vs_im(P("jpeg_grey.tif"), "", 1, 70, 46, 1);
    check_vs_im(P("jpeg_ycbcr.tif"), "", 3, 70, 46, 3);
    check_vs_im(P("jpeg_ycbcr_tiled.tif"), "", 3, 70, 46, 3);
}
END_TEST

START_TEST(tiff_grey16_rgb_rgba_planar_bigtiff)
{
    make_sources();
    sh("convert '%s' -depth 16 -compress Zip '%s'", P("grey.png"),
       P("grey16.tif"));
    sh("convert '%s' -compress None '%s'", P("rgb.png"), P("rgb.tif"));
    sh("convert '%s' -alpha set -channel A -fx 'i/w' +channel -compress Zip "
       "'%s'", P("rgb.png"), P("rgba.tif"));
    sh("convert '%s' -depth 16 '%s'", P("rgb.png"), P("rgb16.tif"));
    check_vs_im(P("grey16.tif"), "", 1, 70, 46, 1);
    check_vs_im(P("rgb.tif"), "", 3, 70, 46, 0);
    check_vs_im(P("rgb16.tif"), "", 3, 70, 46, 1);
    check_vs_im(P("rgba.tif"), "-background white -flatten", 3, 70, 46, 2);
    /* RGB at 1 bit per sample, as ImageMagick writes a bilevel page
     * asked for TrueColor */
    sh("convert '%s' -depth 1 -type TrueColor -compress LZW '%s'",
       P("text.png"), P("rgb1.tif"));
    TIFF *t = TIFFOpen(P("rgb1.tif"), "r");
    uint16_t bps = 0;
    TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFClose(t);
    ck_assert_int_eq(bps, 1);
    check_vs_im(P("rgb1.tif"), "", 3, 203, 67, 0);
    /* planar RGB and BigTIFF */
    sh("tiffcp -p separate '%s' '%s'", P("rgb.tif"), P("planar.tif"));
    sh("tiffcp -8 '%s' '%s'", P("grey16.tif"), P("bigtiff.tif"));
    check_vs_im(P("planar.tif"), "", 3, 70, 46, 0);
    check_vs_im(P("bigtiff.tif"), "", 1, 70, 46, 1);
}
END_TEST

START_TEST(tiff_palette_and_cmyk)
{
    make_sources();
    sh("convert '%s' -colors 16 -type Palette '%s'", P("rgb.png"),
       P("pal.tif"));
    sh("convert '%s' -colors 8 -type Palette '%s'", P("grey.png"),
       P("pal_grey.tif"));
    sh("convert '%s' -colorspace CMYK -depth 8 '%s'", P("rgb.png"),
       P("cmyk.tif"));
    sh("convert '%s' -colorspace CMYK -depth 16 '%s'", P("rgb.png"),
       P("cmyk16.tif"));
    /* ImageMagick reads palettes through libtiff's RGBA reader, which
     * truncates the 16-bit colormap (v >> 8); docrt rounds (v / 257) */
    check_vs_im(P("pal.tif"), "", 3, 70, 46, 1);
    check_vs_im(P("pal_grey.tif"), "", 1, 70, 46, 1); /* grey palette: 1 */
    check_vs_im(P("cmyk.tif"), "-colorspace sRGB", 3, 70, 46, 2);
    check_vs_im(P("cmyk16.tif"), "-colorspace sRGB", 3, 70, 46, 2);
}
END_TEST

START_TEST(tiff_tiled)
{
    make_sources();
    sh("convert '%s' -define tiff:tile-geometry=32x32 '%s'", P("rgb.png"),
       P("tiled_rgb.tif"));
    sh("convert '%s' -compress LZW '%s'", P("grey.png"), P("g.tif"));
    sh("tiffcp -t -w 16 -l 16 '%s' '%s'", P("g.tif"), P("tiled_grey.tif"));
    sh("convert '%s' -compress Group4 '%s'", P("text.png"), P("g4.tif"));
    sh("tiffcp -t -w 32 -l 16 -c lzw '%s' '%s'", P("g4.tif"),
       P("tiled_1bit.tif"));
    check_vs_im(P("tiled_rgb.tif"), "", 3, 70, 46, 0);
    check_vs_im(P("tiled_grey.tif"), "", 1, 70, 46, 0);
    check_vs_im(P("tiled_1bit.tif"), "", 1, 203, 67, 0);
}
END_TEST

START_TEST(tiff_multipage)
{
    make_sources();
    sh("convert '%s' -resize 50%% '%s'", P("rgb.png"), P("small.png"));
    sh("convert '%s' -compress Group4 '%s'", P("text.png"), P("m1.tif"));
    sh("convert '%s' -compress LZW '%s'", P("grey.png"), P("m2.tif"));
    sh("convert '%s' -compress JPEG '%s'", P("small.png"), P("m3.tif"));
    sh("tiffcp '%s' '%s' '%s' '%s'", P("m1.tif"), P("m2.tif"), P("m3.tif"),
       P("multi.tif"));
    char err[1024];
    docrt_document *doc;
    ck_assert_int_eq(docrt_document_open(P("multi.tif"), NULL, &doc, err,
                                         sizeof err), DOCRT_OK);
    ck_assert_int_eq(docrt_document_n_pages(doc), 3);
    ck_assert_str_eq(docrt_document_name(doc), P("multi.tif"));
    const int w[3] = { 203, 70, 35 }, h[3] = { 67, 46, 23 };
    const int ch[3] = { 1, 1, 3 };
    /* out of order: each page stands alone */
    const int order[3] = { 2, 0, 1 };
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        docrt_image img;
        ck_assert_msg(docrt_document_read_page(doc, i, &img, err, sizeof err)
                      == DOCRT_OK, "%s", err);
        ck_assert_int_eq(img.width, w[i]);
        ck_assert_int_eq(img.height, h[i]);
        ck_assert_int_eq(img.channels, ch[i]);
        char opts[4200];
        snprintf(opts, sizeof opts, "-delete 0--1 '%s[%d]'", P("multi.tif"), i);
        uint8_t *ref = im_decode(P("multi.tif"), opts, ch[i],
                                 (size_t)w[i] * (size_t)h[i] * (size_t)ch[i]);
        assert_pixels(&img, ref, ch[i] == 3 ? 3 : 0, "multi.tif page");
        free(ref);
        docrt_image_free(&img);
    }
    docrt_image img;
    ck_assert_int_eq(docrt_document_read_page(doc, 3, &img, err, sizeof err),
                     DOCRT_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "page 4: no such page"));
    docrt_document_close(doc);
}
END_TEST

/* Where the stored image's top-left and top-right corners land for each
 * orientation, in the upright image of size W x H. */
static void corners(int o, int W, int H, int tl[2], int tr[2])
{
    static const int map[9][4] = {
        { 0 }, { 0, 0, 1, 0 }, { 1, 0, 0, 0 }, { 1, 1, 0, 1 }, { 0, 1, 1, 1 },
        { 0, 0, 0, 1 }, { 1, 0, 1, 1 }, { 1, 1, 1, 0 }, { 0, 1, 0, 0 },
    };
    /* 1 = far side; sample 3 px inside the corner */
    tl[0] = map[o][0] ? W - 4 : 3;
    tl[1] = map[o][1] ? H - 4 : 3;
    tr[0] = map[o][2] ? W - 4 : 3;
    tr[1] = map[o][3] ? H - 4 : 3;
}

static int px(const docrt_image *img, int x, int y)
{
    return img->data[(size_t)y * img->stride +
                     (size_t)x * (size_t)img->channels];
}

/* The stored image (sw x sh) has a black block at its top-left, a grey one
 * at its top-right, white elsewhere. */
static void check_orientation(const char *path, int o, int sw, int sh_,
                              int tol)
{
    docrt_image img;
    read_page(path, 0, &img);
    int W = o >= 5 ? sh_ : sw, H = o >= 5 ? sw : sh_;
    ck_assert_msg(img.width == W && img.height == H,
                  "%s orientation %d: %d x %d, want %d x %d", path, o,
                  img.width, img.height, W, H);
    int tl[2], tr[2];
    corners(o, W, H, tl, tr);
    ck_assert_msg(px(&img, tl[0], tl[1]) < 40,
                  "orientation %d: black marker not at (%d, %d)", o, tl[0],
                  tl[1]);
    ck_assert_msg(abs(px(&img, tr[0], tr[1]) - 128) < 30,
                  "orientation %d: grey marker not at (%d, %d)", o, tr[0],
                  tr[1]);
    uint8_t *ref = im_decode(path, "-auto-orient", img.channels,
                             (size_t)W * (size_t)H * (size_t)img.channels);
    assert_pixels(&img, ref, tol, path);
    free(ref);
    docrt_image_free(&img);
}

START_TEST(tiff_orientation_all_eight)
{
    sh("convert -size 40x24 xc:white -fill black -draw 'rectangle 0,0 7,7' "
       "-fill gray50 -draw 'rectangle 32,0 39,7' -type Grayscale "
       "-compress LZW '%s'", P("orient.tif"));
    for (int o = 1; o <= 8; o++) {
        char name[32];
        snprintf(name, sizeof name, "orient%d.tif", o);
        sh("cp '%s' '%s' && tiffset -s 274 %d '%s'", P("orient.tif"), P(name),
           o, P(name));
        check_orientation(P(name), o, 40, 24, 0);
    }
    /* every decoding path turns the same way: palette, CMYK, and
     * libtiff's RGBA reader (alpha here), told to leave rows as stored */
    const char *kinds[3][2] = {
        { "pal", "-colors 4 -type Palette" },
        { "cmyk", "-colorspace CMYK" },
        { "rgba", "-type TrueColorAlpha" },
    };
    for (int k = 0; k < 3; k++)
        for (int o = 1; o <= 8; o++) {
            char name[40];
            snprintf(name, sizeof name, "orient_%s%d.tif", kinds[k][0], o);
            sh("convert '%s' %s '%s' && tiffset -s 274 %d '%s'",
               P("orient.tif"), kinds[k][1], P(name), o, P(name));
            check_orientation(P(name), o, 40, 24, 0);
        }
}
END_TEST

START_TEST(tiff_resolution)
{
    make_sources();
    sh("convert '%s' -units PixelsPerInch -density 300x200 '%s'",
       P("grey.png"), P("res_in.tif"));
    sh("convert '%s' -units PixelsPerCentimeter -density 100 '%s'",
       P("grey.png"), P("res_cm.tif"));
    sh("convert '%s' -compress LZW '%s'", P("grey.png"), P("res_none.tif"));
    sh("tiffset -s 296 1 '%s'", P("res_none.tif"));
    sh("cp '%s' '%s' && tiffset -s 274 6 '%s'", P("res_in.tif"),
       P("res_turned.tif"), P("res_turned.tif"));
    docrt_image img;
    read_page(P("res_in.tif"), 0, &img);
    ck_assert_float_eq_tol(img.dpi_x, 300, 0.01);
    ck_assert_float_eq_tol(img.dpi_y, 200, 0.01);
    docrt_image_free(&img);
    read_page(P("res_cm.tif"), 0, &img);
    ck_assert_float_eq_tol(img.dpi_x, 254, 0.01);
    ck_assert_float_eq_tol(img.dpi_y, 254, 0.01);
    docrt_image_free(&img);
    read_page(P("res_none.tif"), 0, &img);
    ck_assert_float_eq(img.dpi_x, 0);
    ck_assert_float_eq(img.dpi_y, 0);
    docrt_image_free(&img);
    read_page(P("res_turned.tif"), 0, &img); /* the axes swap with the page */
    ck_assert_float_eq_tol(img.dpi_x, 200, 0.01);
    ck_assert_float_eq_tol(img.dpi_y, 300, 0.01);
    docrt_image_free(&img);
}
END_TEST

/* ---- PNG ---- */

/* Pseudo-random samples, the same each run. */
static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Writes a w x h PNG of `spec` with random samples and returns what docrt
 * must decode: 8-bit, alpha over white, out_ch channels. */
static uint8_t *png_case(const char *path, int w, int h, const png_spec *s,
                         int out_ch)
{
    int ch = s->type == PNG_COLOR_TYPE_GRAY ? 1
           : s->type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
           : s->type == PNG_COLOR_TYPE_RGB ? 3
           : s->type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 1;
    int max = (1 << s->depth) - 1;
    uint8_t **rows = malloc((size_t)h * sizeof *rows);
    uint8_t *want = malloc((size_t)w * (size_t)h * (size_t)out_ch);
    uint32_t seed = (uint32_t)(w * 31 + s->type * 7 + s->depth);
    for (int y = 0; y < h; y++) {
        rows[y] = calloc(1, (size_t)w * (size_t)ch * 2 + 1);
        for (int x = 0; x < w; x++) {
            int v[4], a = 255, rgb[3];
            for (int c = 0; c < ch; c++) {
                v[c] = (int)(rnd(&seed) % (uint32_t)(max + 1));
                if (s->type == PNG_COLOR_TYPE_PALETTE)
                    v[c] %= s->n_pal;
                size_t bit = ((size_t)x * (size_t)ch + (size_t)c) *
                             (size_t)s->depth;
                if (s->depth == 16) {
                    rows[y][bit / 8] = (uint8_t)(v[c] >> 8);
                    rows[y][bit / 8 + 1] = (uint8_t)v[c];
                } else {
                    rows[y][bit / 8] |=
                        (uint8_t)(v[c] << (8 - s->depth - (int)(bit % 8)));
                }
            }
            /* to 8 bits as libpng's scale_16 and expand do */
            int v8[4];
            for (int c = 0; c < ch; c++)
                v8[c] = s->depth == 16 ? (v[c] * 255 + 32895) >> 16
                                       : v[c] * 255 / max;
            if (s->type == PNG_COLOR_TYPE_PALETTE) {
                png_color p = s->pal[v[0]];
                rgb[0] = p.red, rgb[1] = p.green, rgb[2] = p.blue;
                if (v[0] < s->n_trns)
                    a = s->trns[v[0]];
            } else if (ch <= 2) {
                rgb[0] = rgb[1] = rgb[2] = v8[0];
                if (ch == 2)
                    a = v8[1];
            } else {
                rgb[0] = v8[0], rgb[1] = v8[1], rgb[2] = v8[2];
                if (ch == 4)
                    a = v8[3];
            }
            uint8_t *d = want +
                         ((size_t)y * (size_t)w + (size_t)x) * (size_t)out_ch;
            for (int c = 0; c < out_ch; c++)
                d[c] = (uint8_t)((rgb[c] * a + 255 * (255 - a) + 127) / 255);
        }
    }
    write_png(path, w, h, s, rows);
    for (int y = 0; y < h; y++)
        free(rows[y]);
    free(rows);
    return want;
}

static void check_png(const char *name, int type, int depth, int interlace,
                      int out_ch)
{
    png_spec s;
    memset(&s, 0, sizeof s);
    s.type = type;
    s.depth = depth;
    s.interlace = interlace;
    if (type == PNG_COLOR_TYPE_PALETTE) {
        s.n_pal = 1 << depth;
        for (int i = 0; i < s.n_pal; i++) {
            int g = i * 255 / (s.n_pal - 1);
            s.pal[i].red = (png_byte)g;
            s.pal[i].green = (png_byte)(out_ch == 1 ? g : 255 - g);
            s.pal[i].blue = (png_byte)(out_ch == 1 ? g : (i * 77) & 255);
        }
        if (out_ch == 3) { /* a colour palette also carries tRNS */
            s.n_trns = s.n_pal / 2;
            for (int i = 0; i < s.n_trns; i++)
                s.trns[i] = (uint8_t)(i * 40);
        }
    }
    int w = 37, h = 23;
    uint8_t *want = png_case(P(name), w, h, &s, out_ch);
    docrt_image img;
    read_page(P(name), 0, &img);
    ck_assert_msg(img.channels == out_ch, "%s: %d channels, want %d", name,
                  img.channels, out_ch);
    ck_assert_int_eq(img.width, w);
    ck_assert_int_eq(img.height, h);
    assert_pixels(&img, want, 0, name);
    docrt_image_free(&img);
    free(want);
}

START_TEST(png_grey_all_depths)
{
    check_png("g1.png", PNG_COLOR_TYPE_GRAY, 1, 0, 1);
    check_png("g2.png", PNG_COLOR_TYPE_GRAY, 2, 0, 1);
    check_png("g4.png", PNG_COLOR_TYPE_GRAY, 4, 0, 1);
    check_png("g8.png", PNG_COLOR_TYPE_GRAY, 8, 0, 1);
    check_png("g16.png", PNG_COLOR_TYPE_GRAY, 16, 0, 1);
    check_png("ga8.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 1);
    check_png("ga16.png", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, 1);
}
END_TEST

START_TEST(png_rgb_rgba_palette)
{
    check_png("rgb8.png", PNG_COLOR_TYPE_RGB, 8, 0, 3);
    check_png("rgb16.png", PNG_COLOR_TYPE_RGB, 16, 0, 3);
    check_png("rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 3);
    check_png("rgba16.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, 3);
    check_png("pal4_trns.png", PNG_COLOR_TYPE_PALETTE, 4, 0, 3);
    check_png("pal8_trns.png", PNG_COLOR_TYPE_PALETTE, 8, 0, 3);
    check_png("pal2_grey.png", PNG_COLOR_TYPE_PALETTE, 2, 0, 1);
    check_png("pal8_grey.png", PNG_COLOR_TYPE_PALETTE, 8, 0, 1);
}
END_TEST

START_TEST(png_interlaced)
{
    check_png("i_g1.png", PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_ADAM7, 1);
    check_png("i_rgb8.png", PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, 3);
    check_png("i_rgba16.png", PNG_COLOR_TYPE_RGB_ALPHA, 16,
              PNG_INTERLACE_ADAM7, 3);
    check_png("i_pal4.png", PNG_COLOR_TYPE_PALETTE, 4, PNG_INTERLACE_ADAM7, 3);
}
END_TEST

START_TEST(png_matches_imagemagick)
{
    make_sources();
    sh("convert '%s' -alpha set -channel A -fx 'j/h' +channel PNG32:'%s'",
       P("rgb.png"), P("im_rgba.png"));
    sh("convert '%s' -interlace PNG PNG24:'%s'", P("rgb.png"),
       P("im_interlaced.png"));
    check_vs_im(P("im_rgba.png"), "-background white -flatten", 3, 70, 46, 1);
    check_vs_im(P("im_interlaced.png"), "", 3, 70, 46, 0);
    check_vs_im(P("grey.png"), "", 1, 70, 46, 0);
}
END_TEST

START_TEST(png_phys_dpi)
{
    png_spec s;
    memset(&s, 0, sizeof s);
    s.type = PNG_COLOR_TYPE_GRAY;
    s.depth = 8;
    s.ppm = 11811; /* 300 dpi */
    free(png_case(P("phys.png"), 8, 8, &s, 1));
    docrt_image img;
    read_page(P("phys.png"), 0, &img);
    ck_assert_float_eq_tol(img.dpi_x, 300, 0.01);
    ck_assert_float_eq_tol(img.dpi_y, 300, 0.01);
    docrt_image_free(&img);
    s.ppm = 0;
    free(png_case(P("nophys.png"), 8, 8, &s, 1));
    read_page(P("nophys.png"), 0, &img);
    ck_assert_float_eq(img.dpi_x, 0);
    docrt_image_free(&img);
}
END_TEST

/* ---- JPEG ---- */

START_TEST(jpeg_baseline_progressive_grey)
{
    make_sources();
    sh("convert '%s' -quality 90 '%s'", P("rgb.png"), P("base.jpg"));
    sh("convert '%s' -quality 90 -interlace JPEG '%s'", P("rgb.png"),
       P("prog.jpg"));
    sh("convert '%s' -quality 90 '%s'", P("grey.png"), P("grey.jpg"));
    size_t n;
    uint8_t *d = read_file(P("prog.jpg"), &n);
    int sof2 = 0;
    for (size_t i = 0; i + 1 < n; i++)
        sof2 |= d[i] == 0xff && d[i + 1] == 0xc2;
    free(d);
    ck_assert_msg(sof2, "prog.jpg is not progressive");
    check_vs_im(P("base.jpg"), "", 3, 70, 46, 2);
    check_vs_im(P("prog.jpg"), "", 3, 70, 46, 2);
    check_vs_im(P("grey.jpg"), "", 1, 70, 46, 1);
}
END_TEST

START_TEST(jpeg_cmyk)
{
    make_sources();
    sh("convert '%s' -colorspace CMYK -quality 95 '%s'", P("rgb.png"),
       P("cmyk.jpg"));
    check_vs_im(P("cmyk.jpg"), "-colorspace sRGB", 3, 70, 46, 4);
}
END_TEST

/* A copy of a JPEG with an APP1 Exif segment holding only IFD0's
 * Orientation, in either byte order. */
static void add_exif(const char *src, const char *dst, int orientation,
                     int big_endian)
{
    size_t n;
    uint8_t *d = read_file(src, &n);
    ck_assert(n > 2 && d[0] == 0xff && d[1] == 0xd8);
    uint8_t app[36] = { 0xff, 0xe1, 0, 34, 'E', 'x', 'i', 'f', 0, 0 };
    uint8_t *t = app + 10;
    if (big_endian) {
        memcpy(t, "MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01", 18);
        t[18] = 0, t[19] = (uint8_t)orientation;
    } else {
        memcpy(t, "II\x2a\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0", 18);
        t[18] = (uint8_t)orientation, t[19] = 0;
    }
    /* t[20..25]: value padding and a zero next-IFD offset */
    uint8_t *out = malloc(n + sizeof app);
    memcpy(out, d, 2);
    memcpy(out + 2, app, sizeof app);
    memcpy(out + 2 + sizeof app, d + 2, n - 2);
    write_file(dst, out, n + sizeof app);
    free(out);
    free(d);
}

START_TEST(jpeg_exif_orientation)
{
    sh("convert -size 48x32 xc:white -fill black -draw 'rectangle 0,0 7,7' "
       "-fill gray50 -draw 'rectangle 40,0 47,7' -quality 95 '%s'",
       P("marker.jpg"));
    for (int o = 1; o <= 8; o++) {
        char name[32];
        snprintf(name, sizeof name, "exif%d_%s.jpg", o, o % 2 ? "II" : "MM");
        add_exif(P("marker.jpg"), P(name), o, o % 2 == 0);
        check_orientation(P(name), o, 48, 32, 0);
    }
}
END_TEST

START_TEST(jpeg_jfif_density)
{
    make_sources();
    sh("convert '%s' -units PixelsPerInch -density 150x75 '%s'", P("rgb.png"),
       P("d150.jpg"));
    sh("convert '%s' -units PixelsPerCentimeter -density 40 '%s'",
       P("rgb.png"), P("d40cm.jpg"));
    docrt_image img;
    read_page(P("d150.jpg"), 0, &img);
    ck_assert_float_eq_tol(img.dpi_x, 150, 0.01);
    ck_assert_float_eq_tol(img.dpi_y, 75, 0.01);
    docrt_image_free(&img);
    read_page(P("d40cm.jpg"), 0, &img);
    ck_assert_float_eq_tol(img.dpi_x, 101.6, 0.01);
    docrt_image_free(&img);
}
END_TEST

/* ---- limits ---- */

START_TEST(limit_from_the_header)
{
    /* 100000 x 100000 1-bit, one strip "of" 1.25 GB, in a 122-byte file */
    write_forged_tiff(P("huge.tif"), 100000, 100000, 1, 1250000000u, 0);
    expect_page_fail(P("huge.tif"), 0, DOCRT_ERR_LIMIT,
                     "page declares 100000 x 100000 pixels, over the limit "
                     "of 69605736");
    /* each decoder checks before decoding: a limit one pixel short */
    make_sources();
    sh("convert '%s' '%s'", P("rgb.png"), P("limit.jpg"));
    sh("convert '%s' -compress LZW '%s'", P("rgb.png"), P("limit.tif"));
    const char *files[3] = { P("rgb.png"), P("limit.jpg"), P("limit.tif") };
    for (int i = 0; i < 3; i++) {
        docrt_image_limits lim = { .max_pixels = 70 * 46 - 1 };
        char err[1024];
        docrt_document *doc;
        ck_assert_int_eq(docrt_document_open(files[i], &lim, &doc, err,
                                             sizeof err), DOCRT_OK);
        docrt_image img;
        ck_assert_int_eq(docrt_document_read_page(doc, 0, &img, err,
                                                  sizeof err),
                         DOCRT_ERR_LIMIT);
        ck_assert_msg(strstr(err, "page declares 70 x 46 pixels, over the "
                                  "limit of 3219"), "%s", err);
        docrt_document_close(doc);
        lim.max_pixels = 70 * 46;
        ck_assert_int_eq(docrt_document_open(files[i], &lim, &doc, err,
                                             sizeof err), DOCRT_OK);
        ck_assert_int_eq(docrt_document_read_page(doc, 0, &img, err,
                                                  sizeof err), DOCRT_OK);
        docrt_image_free(&img);
        docrt_document_close(doc);
    }
    /* a forged tile size is refused, not allocated (65520^2 bytes) */
    sh("convert '%s' -compress LZW -define tiff:tile-geometry=16x16 '%s'",
       P("grey.png"), P("bigtile.tif"));
    sh("tiffset -s 322 65520 '%s' && tiffset -s 323 65520 '%s'",
       P("bigtile.tif"), P("bigtile.tif"));
    expect_page_fail(P("bigtile.tif"), 0, DOCRT_ERR_FORMAT,
                     "tiles of 65520 x 65520 pixels, over the page limit");
    docrt_image_limits def = docrt_image_default_limits();
    ck_assert_uint_eq(def.max_pixels, 7016ull * 9921ull);
}
END_TEST

/* --max-pages: a 3-page TIFF is refused at open under a limit of 2, read
 * under 3; zero means the default, 10,000. */
START_TEST(page_limit)
{
    make_sources();
    sh("convert '%s' '%s' '%s' -compress LZW '%s'", P("grey.png"),
       P("grey.png"), P("grey.png"), P("three.tif"));
    char err[1024];
    docrt_document *doc = NULL;
    docrt_image_limits lim = docrt_image_default_limits();
    ck_assert_int_eq(lim.max_pages, 10000);
    lim.max_pages = 2;
    ck_assert_int_eq(docrt_document_open(P("three.tif"), &lim, &doc, err,
                                         sizeof err), DOCRT_ERR_LIMIT);
    ck_assert_ptr_null(doc);
    ck_assert_msg(strstr(err, "the TIFF has more than 2 pages"), "%s", err);
    lim.max_pages = 3;
    ck_assert_int_eq(docrt_document_open(P("three.tif"), &lim, &doc, err,
                                         sizeof err), DOCRT_OK);
    ck_assert_int_eq(docrt_document_n_pages(doc), 3);
    docrt_document_close(doc);
    lim.max_pages = 0;
    ck_assert_int_eq(docrt_document_open(P("three.tif"), &lim, &doc, err,
                                         sizeof err), DOCRT_OK);
    docrt_document_close(doc);
}
END_TEST

/* --max-decode-ms: a 4000 x 4000 page of noise takes far more than 1 ms
 * to decode in each format (strips, scanlines, tiles, interlaced passes,
 * progressive scans); with a 1 ms bound each stops with a LIMIT error
 * that says so, and reads with the default bound. */
START_TEST(decode_time_limit)
{
    sh("convert -size 4000x4000 xc:gray +noise Random -colorspace Gray '%s'",
       P("noise.png"));
    sh("convert '%s' -interlace PNG '%s'", P("noise.png"), P("noise_i.png"));
    sh("convert '%s' -quality 90 '%s'", P("noise.png"), P("noise.jpg"));
    sh("convert '%s' -quality 90 -interlace JPEG '%s'", P("noise.png"),
       P("noise_p.jpg"));
    sh("convert '%s' -compress LZW '%s'", P("noise.png"), P("noise.tif"));
    sh("convert '%s' -compress LZW -define tiff:tile-geometry=256x256 '%s'",
       P("noise.png"), P("noise_t.tif"));
    /* YCbCr JPEG-in-TIFF goes through libtiff's RGBA reader */
    sh("convert '%s' -type TrueColor -depth 8 -compress None '%s' && tiffcp -c jpeg "
       "-r 64 '%s' '%s'", P("noise.png"), P("noise_rgb.tif"),
       P("noise_rgb.tif"), P("noise_f.tif"));
    const char *files[] = { P("noise.png"), P("noise_i.png"), P("noise.jpg"),
                            P("noise_p.jpg"), P("noise.tif"),
                            P("noise_t.tif"), P("noise_f.tif") };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        docrt_image_limits lim = docrt_image_default_limits();
        lim.max_decode_ms = 1;
        char err[1024];
        docrt_document *doc;
        ck_assert_int_eq(docrt_document_open(files[i], &lim, &doc, err,
                                             sizeof err), DOCRT_OK);
        docrt_image img;
        docrt_status st = docrt_document_read_page(doc, 0, &img, err,
                                                   sizeof err);
        ck_assert_msg(st == DOCRT_ERR_LIMIT, "%s: status %d: %s", files[i],
                      st, err);
        ck_assert_msg(strstr(err, "page 1: decoding took longer than the "
                                  "limit of 1 ms"), "%s", err);
        ck_assert_ptr_null(img.data);
        docrt_document_close(doc);
        ck_assert_int_eq(docrt_document_open(files[i], NULL, &doc, err,
                                             sizeof err), DOCRT_OK);
        st = docrt_document_read_page(doc, 0, &img, err, sizeof err);
        ck_assert_msg(st == DOCRT_OK, "%s: %s", files[i], err);
        ck_assert_int_eq(img.width, 4000);
        docrt_image_free(&img);
        docrt_document_close(doc);
    }
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_zero_bytes)
{
    write_file(P("empty.tif"), "", 0);
    expect_open_fail(P("empty.tif"), DOCRT_ERR_FORMAT, "empty file (0 bytes)");
}
END_TEST

START_TEST(bad_truncated_tiff)
{
    /* ImageMagick writes the directory after the pixels: cut, the file
     * has no readable first page at all */
    make_sources();
    sh("convert '%s' -compress LZW '%s'", P("grey.png"), P("full.tif"));
    size_t n;
    uint8_t *d = read_file(P("full.tif"), &n);
    write_file(P("cut_dir.tif"), d, n / 2);
    free(d);
    expect_open_fail(P("cut_dir.tif"), DOCRT_ERR_FORMAT,
                     "truncated: the first directory");
    /* directory first, pixels cut: the page reports the strip */
    write_forged_tiff(P("cut_strip.tif"), 16, 16, 8, 256, 100);
    expect_page_fail(P("cut_strip.tif"), 0, DOCRT_ERR_FORMAT,
                     "truncated: strip 0 needs bytes 122 to 378, the file "
                     "has 222");
    /* a header alone */
    write_file(P("cut_header.tif"), "II*\0\x08", 5);
    expect_open_fail(P("cut_header.tif"), DOCRT_ERR_FORMAT,
                     "truncated: the TIFF header");
}
END_TEST

START_TEST(bad_tiff_no_pages)
{
    write_file(P("nopages.tif"), "II*\0\0\0\0\0", 8);
    expect_open_fail(P("nopages.tif"), DOCRT_ERR_FORMAT,
                     "the TIFF has no pages");
    write_file(P("nopages_be.tif"), "MM\0*\0\0\0\0", 8);
    expect_open_fail(P("nopages_be.tif"), DOCRT_ERR_FORMAT,
                     "the TIFF has no pages");
}
END_TEST

START_TEST(bad_tiff_unknown_compression)
{
    make_sources();
    sh("convert '%s' -compress LZW '%s'", P("grey.png"), P("comp.tif"));
    sh("tiffset -s 259 12345 '%s' 2>/dev/null", P("comp.tif"));
    expect_page_fail(P("comp.tif"), 0, DOCRT_ERR_UNSUPPORTED,
                     "unsupported compression 12345");
    /* on the first page of three: the other two still read */
    sh("convert '%s' '%s' '%s' -compress LZW '%s'", P("grey.png"),
       P("rgb.png"), P("text.png"), P("comp3.tif"));
    sh("tiffset -d 0 -s 259 12345 '%s' 2>/dev/null", P("comp3.tif"));
    expect_page_fail(P("comp3.tif"), 0, DOCRT_ERR_UNSUPPORTED,
                     "unsupported compression 12345");
}
END_TEST

START_TEST(bad_tiff_corrupt_page)
{
    make_sources();
    sh("convert '%s' '%s' '%s' -compress Zip '%s'", P("text.png"),
       P("grey.png"), P("rgb.png"), P("corrupt.tif"));
    /* garbage over page 2's compressed strips */
    TIFF *t = TIFFOpen(P("corrupt.tif"), "r");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(TIFFSetDirectory(t, 1), 1);
    uint32_t ns = TIFFNumberOfStrips(t);
    uint64_t off[64], bc[64];
    ck_assert_uint_le(ns, 64);
    for (uint32_t i = 0; i < ns; i++) {
        off[i] = TIFFGetStrileOffset(t, i);
        bc[i] = TIFFGetStrileByteCount(t, i);
    }
    TIFFClose(t);
    size_t n;
    uint8_t *d = read_file(P("corrupt.tif"), &n);
    for (uint32_t i = 0; i < ns; i++)
        memset(d + off[i], 0xff, (size_t)bc[i]);
    write_file(P("corrupt.tif"), d, n);
    free(d);
    expect_page_fail(P("corrupt.tif"), 1, DOCRT_ERR_FORMAT,
                     "cannot decode strip 0 (AdobeDeflate)");
}
END_TEST

START_TEST(bad_png_crc)
{
    make_sources();
    size_t n;
    uint8_t *d = read_file(P("rgb.png"), &n);
    uint8_t *idat = NULL;
    for (size_t i = 8; i + 4 <= n && !idat; i++)
        if (!memcmp(d + i, "IDAT", 4))
            idat = d + i;
    ck_assert_ptr_nonnull(idat);
    idat[4 + 10] ^= 0x55; /* a data byte, not the CRC */
    write_file(P("badcrc.png"), d, n);
    write_file(P("cut.png"), d, n / 2);
    free(d);
    expect_page_fail(P("badcrc.png"), 0, DOCRT_ERR_FORMAT,
                     "PNG CRC error in chunk IDAT");
    expect_page_fail(P("cut.png"), 0, DOCRT_ERR_FORMAT,
                     "truncated: chunk IDAT");
}
END_TEST

START_TEST(bad_truncated_jpeg)
{
    make_sources();
    sh("convert '%s' '%s'", P("rgb.png"), P("full.jpg"));
    sh("convert '%s' -interlace JPEG '%s'", P("rgb.png"), P("fullp.jpg"));
    size_t n;
    uint8_t *d = read_file(P("full.jpg"), &n);
    write_file(P("cut.jpg"), d, n * 2 / 3);
    write_file(P("cut_header.jpg"), d, 40);
    free(d);
    d = read_file(P("fullp.jpg"), &n);
    write_file(P("cutp.jpg"), d, n * 2 / 3);
    free(d);
    expect_page_fail(P("cut.jpg"), 0, DOCRT_ERR_FORMAT, "truncated");
    expect_page_fail(P("cutp.jpg"), 0, DOCRT_ERR_FORMAT, "truncated");
    expect_page_fail(P("cut_header.jpg"), 0, DOCRT_ERR_FORMAT, "truncated");
}
END_TEST

START_TEST(bad_directory_not_found_not_image)
{
    sh("mkdir -p '%s'", P("a_dir.tif"));
    expect_open_fail(P("a_dir.tif"), DOCRT_ERR_IO, "is a directory");
    expect_open_fail(P("no_such_file.tif"), DOCRT_ERR_IO,
                     "cannot open: No such file or directory");
    write_file(P("text.txt"), "hello, world\n", 13);
    expect_open_fail(P("text.txt"), DOCRT_ERR_FORMAT,
                     "not an image docrt reads");
    write_file(P("doc.pdf"), "%PDF-1.4\n", 9);
    expect_open_fail(P("doc.pdf"), DOCRT_ERR_UNSUPPORTED,
                     "PDF files are not supported");
}
END_TEST

START_TEST(bad_unreadable)
{
    if (geteuid() == 0) {
        /* root reads past chmod 000; reading /proc/self/mem at offset 0
         * fails with EIO */
        expect_open_fail("/proc/self/mem", DOCRT_ERR_IO, "cannot read");
        return;
    }
    write_file(P("locked.png"), "\x89PNG", 4);
    ck_assert_int_eq(chmod(P("locked.png"), 0), 0);
    expect_open_fail(P("locked.png"), DOCRT_ERR_IO,
                     "cannot open: Permission denied");
}
END_TEST

START_TEST(open_memory_names_the_source)
{
    make_sources();
    size_t n;
    uint8_t *d = read_file(P("rgb.png"), &n);
    char err[1024];
    docrt_document *doc;
    ck_assert_int_eq(docrt_document_open_memory(d, n, "-", NULL, &doc, err,
                                                 sizeof err), DOCRT_OK);
    memset(d, 0, n); /* the document holds its own copy */
    free(d);
    ck_assert_str_eq(docrt_document_name(doc), "-");
    ck_assert_int_eq(docrt_document_n_pages(doc), 1);
    docrt_image img;
    ck_assert_int_eq(docrt_document_read_page(doc, 0, &img, err, sizeof err),
                     DOCRT_OK);
    ck_assert_int_eq(img.width, 70);
    docrt_image_free(&img);
    ck_assert_ptr_null(img.data);
    docrt_image_free(&img); /* twice is harmless */
    ck_assert_int_eq(docrt_document_read_page(doc, -1, &img, err, sizeof err),
                     DOCRT_ERR_ARG);
    docrt_document_close(doc);
    ck_assert_int_eq(docrt_document_open_memory("", 0, "-", NULL, &doc, err,
                                                sizeof err),
                     DOCRT_ERR_FORMAT);
    ck_assert_str_eq(err, "-: empty file (0 bytes)");
    docrt_document_close(NULL);
}
END_TEST

/* Random byte flips and truncations of valid files: any status is fine,
 * but never a crash or a sanitizer report, every failure names the
 * source, and a failed page hands back no pixels. */
static void mutate_file(const char *path, int rounds, uint32_t seed)
{
    size_t n;
    uint8_t *orig = read_file(path, &n);
    uint8_t *d = malloc(n);
    docrt_image_limits lim = { .max_pixels = 1u << 20 };
    for (int r = 0; r < rounds; r++) {
        memcpy(d, orig, n);
        size_t len = n;
        if (rnd(&seed) % 4 == 0) {
            len = rnd(&seed) % n;
        } else {
            int flips = 1 + (int)(rnd(&seed) % 4);
            for (int k = 0; k < flips; k++)
                d[rnd(&seed) % n] = (uint8_t)rnd(&seed);
        }
        char err[1024];
        docrt_document *doc;
        if (docrt_document_open_memory(d, len, "fuzz", &lim, &doc, err,
                                       sizeof err)) {
            ck_assert_msg(!strncmp(err, "fuzz: ", 6), "%s", err);
            continue;
        }
        for (int i = 0; i < docrt_document_n_pages(doc); i++) {
            docrt_image img;
            if (docrt_document_read_page(doc, i, &img, err, sizeof err)) {
                ck_assert_msg(!strncmp(err, "fuzz: page ", 11), "%s", err);
                ck_assert_ptr_null(img.data);
            } else {
                ck_assert(img.width > 0 && img.height > 0 &&
                          (img.channels == 1 || img.channels == 3));
                docrt_image_free(&img);
            }
        }
        docrt_document_close(doc);
    }
    free(d);
    free(orig);
}

START_TEST(bad_mutations_never_crash)
{
    make_sources();
    sh("convert '%s' -compress Group4 '%s'", P("text.png"), P("f_g4.tif"));
    sh("convert '%s' '%s' -compress LZW '%s'", P("grey.png"), P("rgb.png"),
       P("f_lzw.tif"));
    sh("convert '%s' -compress JPEG '%s'", P("rgb.png"), P("f_jpeg.tif"));
    sh("convert '%s' -colors 16 -type Palette -define "
       "tiff:tile-geometry=16x16 '%s'", P("rgb.png"), P("f_tiled.tif"));
    sh("convert '%s' -alpha set -depth 16 -compress Zip '%s'", P("rgb.png"),
       P("f_rgba.tif"));
    sh("convert '%s' -interlace PNG '%s'", P("rgb.png"), P("f_i.png"));
    sh("convert '%s' -colors 16 PNG8:'%s'", P("rgb.png"), P("f_pal.png"));
    sh("convert '%s' '%s'", P("rgb.png"), P("f_base.jpg"));
    sh("convert '%s' -interlace JPEG '%s'", P("rgb.png"), P("f_prog.jpg"));
    add_exif(P("f_base.jpg"), P("f_exif.jpg"), 6, 1);
    const char *files[] = { "f_g4.tif", "f_lzw.tif", "f_jpeg.tif",
                            "f_tiled.tif", "f_rgba.tif", "f_i.png",
                            "f_pal.png", "f_base.jpg", "f_prog.jpg",
                            "f_exif.jpg" };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        mutate_file(P(files[i]), 150, (uint32_t)i + 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("image");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tiff_g4_white_and_black_same_pixels);
    tcase_add_test(tc, tiff_g3_1d_and_2d);
    tcase_add_test(tc, tiff_lzw_deflate_packbits);
    tcase_add_test(tc, tiff_jpeg);
    tcase_add_test(tc, tiff_grey16_rgb_rgba_planar_bigtiff);
    tcase_add_test(tc, tiff_palette_and_cmyk);
    tcase_add_test(tc, tiff_tiled);
    tcase_add_test(tc, tiff_multipage);
    tcase_add_test(tc, tiff_orientation_all_eight);
    tcase_add_test(tc, tiff_resolution);
    tcase_add_test(tc, png_grey_all_depths);
    tcase_add_test(tc, png_rgb_rgba_palette);
    tcase_add_test(tc, png_interlaced);
    tcase_add_test(tc, png_matches_imagemagick);
    tcase_add_test(tc, png_phys_dpi);
    tcase_add_test(tc, jpeg_baseline_progressive_grey);
    tcase_add_test(tc, jpeg_cmyk);
    tcase_add_test(tc, jpeg_exif_orientation);
    tcase_add_test(tc, jpeg_jfif_density);
    tcase_add_test(tc, limit_from_the_header);
    tcase_add_test(tc, bad_zero_bytes);
    tcase_add_test(tc, bad_truncated_tiff);
    tcase_add_test(tc, bad_tiff_no_pages);
    tcase_add_test(tc, bad_tiff_unknown_compression);
    tcase_add_test(tc, bad_tiff_corrupt_page);
    tcase_add_test(tc, bad_png_crc);
    tcase_add_test(tc, bad_truncated_jpeg);
    tcase_add_test(tc, bad_directory_not_found_not_image);
    tcase_add_test(tc, bad_unreadable);
    tcase_add_test(tc, open_memory_names_the_source);
    tcase_add_test(tc, bad_mutations_never_crash);
    tcase_add_test(tc, page_limit);
    tcase_add_test(tc, decode_time_limit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
