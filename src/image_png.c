/* image_png.c - PNG with libpng, from memory.
 *
 * Before libpng sees the file, its chunks are walked and every critical
 * chunk's CRC checked here: a flipped byte inside IDAT then reads as "PNG
 * CRC error in chunk IDAT" rather than as whatever zlib makes of the bad
 * data, and truncation names the chunk it cut. libpng's CRC checks of
 * critical chunks are then switched off (each byte is checked once).
 * libpng errors longjmp back to decode(), whose state lives in the
 * caller's png_ctx.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

#include "image.h"

typedef struct {
    const image_src *src;
    size_t pos;
    jmp_buf jmp;
    docrt_status st;  /* set with the reason before any longjmp */
    png_structp png;
    png_infop info;
    uint8_t *tmp;     /* decoded rows, when they need converting */
    png_bytep *rows;
} png_ctx;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static docrt_status check_chunks(const image_src *src)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const uint8_t *d = src->data;
    size_t len = src->len, pos = 8;
    while (pos < len) {
        char name[5] = "????";
        if (len - pos >= 8)
            for (int i = 0; i < 4; i++) {
                uint8_t c = d[pos + 4 + (size_t)i];
                name[i] = (char)(c >= 32 && c < 127 ? c : '?');
            }
        if (len - pos < 12 || be32(d + pos) > len - pos - 12)
            return image_reason(src->why, src->whylen, DOCRT_ERR_FORMAT,
                                "truncated: chunk %s at byte %zu runs past the "
                                "end of the file (%zu bytes)", name, pos, len);
        uint32_t n = be32(d + pos);
        const uint8_t *p = d + pos + 4;
        uint32_t crc = 0xffffffffu;
        for (size_t i = 0; i < (size_t)n + 4; i++)
            crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
        crc ^= 0xffffffffu;
        int critical = !(p[0] & 0x20);
        if (critical && crc != be32(p + 4 + n))
            return image_reason(src->why, src->whylen, DOCRT_ERR_FORMAT,
                                "PNG CRC error in chunk %s (at byte %zu)",
                                name, pos);
        if (!memcmp(p, "IEND", 4))
            break;
        pos += (size_t)n + 12;
    }
    return DOCRT_OK;
}

static void on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    if (c->st == DOCRT_OK)
        c->st = image_reason(c->src->why, c->src->whylen, DOCRT_ERR_FORMAT,
                             "corrupt PNG: %s", msg);
    longjmp(c->jmp, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg;
}

static void on_read(png_structp png, png_bytep buf, size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    if (c->src->len - c->pos < n) {
        c->st = image_reason(c->src->why, c->src->whylen, DOCRT_ERR_FORMAT,
                             "truncated: the PNG data ends at byte %zu",
                             c->src->len);
        png_error(png, "truncated");
    }
    memcpy(buf, c->src->data + c->pos, n);
    c->pos += n;
}

static int grey_palette(png_structp png, png_infop info)
{
    png_colorp pal;
    int n = 0;
    if (!png_get_PLTE(png, info, &pal, &n))
        return 0;
    for (int i = 0; i < n; i++)
        if (pal[i].red != pal[i].green || pal[i].green != pal[i].blue)
            return 0;
    return 1;
}

/* Composites alpha over white and drops the colour of grey palettes:
 * from `in` channels per pixel (1..4) to `out` (1 or 3). */
static void convert(const uint8_t *s, uint8_t *d, size_t n, int in, int out)
{
    int alpha = in == 2 || in == 4;
    for (size_t i = 0; i < n; i++, s += in, d += out) {
        unsigned a = alpha ? s[in - 1] : 255, bg = 255 * (255 - a) + 127;
        for (int k = 0; k < out; k++)
            d[k] = (uint8_t)((s[k] * a + bg) / 255);
    }
}

static docrt_status decode(png_ctx *c, docrt_image *out)
{
    const image_src *src = c->src;
    if (setjmp(c->jmp))
        return c->st ? c->st : DOCRT_ERR_FORMAT;
    png_structp png = c->png;
    png_infop info = c->info;
    png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_DEFAULT);
    /* the page limit below is docrt's, reported as such */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_read_fn(png, c, on_read);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, type, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &type, &interlace, NULL, NULL);
    if ((c->st = image_check_size(w, h, src->max_pixels, src->why,
                                  src->whylen)))
        return c->st;
    int out_ch = (type & PNG_COLOR_MASK_COLOR) ? 3 : 1;
    if (type == PNG_COLOR_TYPE_PALETTE) {
        if (grey_palette(png, info))
            out_ch = 1;
        png_set_palette_to_rgb(png);
    }
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16)
        png_set_scale_16(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int in_ch = png_get_channels(png, info);
    if ((c->st = image_alloc(out, (int)w, (int)h, out_ch, src->why,
                             src->whylen)))
        return c->st;
    /* rows that need converting go through a buffer: one row, or the
     * whole image when Adam7 passes revisit every row */
    int convert_rows = in_ch != out_ch;
    size_t in_row = (size_t)w * (size_t)in_ch;
    size_t n_tmp = !convert_rows ? 0 : interlace ? h : 1;
    if (n_tmp && !(c->tmp = malloc(in_row * n_tmp)))
        return c->st = image_reason(src->why, src->whylen, DOCRT_ERR_NOMEM,
                                    "out of memory for a %u x %u page", w, h);
    if (interlace != PNG_INTERLACE_NONE) {
        if (!(c->rows = malloc(((size_t)h + 1) * sizeof *c->rows)))
            return c->st = image_reason(src->why, src->whylen,
                                        DOCRT_ERR_NOMEM, "out of memory");
        for (png_uint_32 y = 0; y < h; y++)
            c->rows[y] = convert_rows ? c->tmp + (size_t)y * in_row
                                      : out->data + (size_t)y * out->stride;
        /* png_read_image, pass by pass, with the time limit checked */
        for (int pass = 0; pass < passes; pass++)
            for (png_uint_32 y = 0; y < h; y++) {
                if ((y & 31) == 0 && image_out_of_time(src))
                    return c->st = DOCRT_ERR_LIMIT;
                png_read_row(png, c->rows[y], NULL);
            }
        if (convert_rows)
            for (png_uint_32 y = 0; y < h; y++)
                convert(c->rows[y], out->data + (size_t)y * out->stride, w,
                        in_ch, out_ch);
    } else {
        for (png_uint_32 y = 0; y < h; y++) {
            uint8_t *d = out->data + (size_t)y * out->stride;
            if ((y & 31) == 0 && image_out_of_time(src))
                return c->st = DOCRT_ERR_LIMIT;
            png_read_row(png, convert_rows ? c->tmp : d, NULL);
            if (convert_rows)
                convert(c->tmp, d, w, in_ch, out_ch);
        }
    }
    png_uint_32 rx, ry;
    int unit;
    if (png_get_pHYs(png, info, &rx, &ry, &unit) &&
        unit == PNG_RESOLUTION_METER) {
        out->dpi_x = (float)(rx * 0.0254);
        out->dpi_y = (float)(ry * 0.0254);
    }
    return DOCRT_OK;
}

docrt_status image_png_read(const image_src *src, docrt_image *out)
{
    docrt_status st = check_chunks(src);
    if (st)
        return st;
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.src = src;
    c.pos = 0;
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, on_error,
                                   on_warning);
    if (c.png)
        c.info = png_create_info_struct(c.png);
    if (!c.png || !c.info) {
        png_destroy_read_struct(c.png ? &c.png : NULL, NULL, NULL);
        return image_reason(src->why, src->whylen, DOCRT_ERR_NOMEM,
                            "out of memory");
    }
    st = decode(&c, out);
    png_destroy_read_struct(&c.png, &c.info, NULL);
    free(c.tmp);
    free(c.rows);
    return st;
}
