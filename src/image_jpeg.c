/* image_jpeg.c - JPEG with libjpeg(-turbo), from memory.
 *
 * libjpeg's errors longjmp back to decode(), whose state lives in the
 * caller's jpeg_ctx. A truncated file is only a warning to libjpeg (it pads
 * the data with an EOI and draws grey): here it is an error. The EXIF
 * orientation is read from the APP1 marker directly.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#include "image.h"

/* A progressive file may hold any number of scans, each a pass over the
 * whole coefficient buffer: refuse files built to make that slow. */
#define MAX_SCANS 1000

typedef struct {
    struct jpeg_error_mgr pub; /* first: libjpeg's err pointer is ours */
    const image_src *src;
    jmp_buf jmp;
    docrt_status st;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    uint8_t *row;     /* one CMYK row */
} jpeg_ctx;

static void fail(j_common_ptr ci, docrt_status st, const char *what)
{
    jpeg_ctx *c = (jpeg_ctx *)(void *)ci->err;
    char msg[JMSG_LENGTH_MAX];
    ci->err->format_message(ci, msg);
    if (c->st == DOCRT_OK)
        c->st = image_reason(c->src->why, c->src->whylen, st, "%s: %s", what,
                             msg);
    longjmp(c->jmp, 1);
}

static void on_error_exit(j_common_ptr ci)
{
    int nomem = ci->err->msg_code == JERR_OUT_OF_MEMORY;
    fail(ci, nomem ? DOCRT_ERR_NOMEM : DOCRT_ERR_FORMAT,
         nomem ? "out of memory" : "corrupt JPEG");
}

static void on_emit(j_common_ptr ci, int level)
{
    if (level < 0 && ci->err->msg_code == JWRN_JPEG_EOF)
        fail(ci, DOCRT_ERR_FORMAT, "truncated");
    if (level < 0)
        ci->err->num_warnings++;
}

static void on_output(j_common_ptr ci)
{
    (void)ci;
}

static void on_progress(j_common_ptr ci)
{
    j_decompress_ptr d = (j_decompress_ptr)ci;
    jpeg_ctx *c = (jpeg_ctx *)(void *)ci->err;
    if (image_out_of_time(c->src)) {
        c->st = DOCRT_ERR_LIMIT;
        longjmp(c->jmp, 1);
    }
    if (d->input_scan_number > MAX_SCANS) {
        c->st = image_reason(c->src->why, c->src->whylen,
                             DOCRT_ERR_UNSUPPORTED,
                             "the JPEG has more than %d scans", MAX_SCANS);
        longjmp(c->jmp, 1);
    }
}

static unsigned u16(const uint8_t *p, int be)
{
    return be ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t u32(const uint8_t *p, int be)
{
    return be ? (uint32_t)u16(p, be) << 16 | u16(p + 2, be)
              : (uint32_t)u16(p + 2, be) << 16 | u16(p, be);
}

/* IFD0's Orientation (tag 0x0112) from an APP1 Exif payload after
 * "Exif\0\0"; 1 when absent or malformed. */
static int exif_orientation(const uint8_t *t, size_t n)
{
    if (n < 8)
        return 1;
    int be;
    if (!memcmp(t, "II\x2a\0", 4))
        be = 0;
    else if (!memcmp(t, "MM\0\x2a", 4))
        be = 1;
    else
        return 1;
    uint32_t ifd = u32(t + 4, be);
    if (ifd > n - 2)
        return 1;
    unsigned count = u16(t + ifd, be);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > n)
            break;
        if (u16(t + e, be) == 0x0112) {
            unsigned v = u16(t + e + 8, be);
            return u16(t + e + 2, be) == 3 && u32(t + e + 4, be) >= 1 &&
                   v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    return 1;
}

static int orientation(j_decompress_ptr ci)
{
    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 &&
            !memcmp(m->data, "Exif\0\0", 6))
            return exif_orientation(m->data + 6, m->data_length - 6);
    return 1;
}

/* Adobe's CMYK JPEGs store inverted inks; others store plain ones. */
static void cmyk_row(const uint8_t *s, uint8_t *d, JDIMENSION w, int inverted)
{
    for (JDIMENSION x = 0; x < w; x++, s += 4, d += 3) {
        unsigned k = inverted ? s[3] : 255u - s[3];
        for (int i = 0; i < 3; i++) {
            unsigned v = inverted ? s[i] : 255u - s[i];
            d[i] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

static docrt_status decode(jpeg_ctx *c, docrt_image *out)
{
    const image_src *src = c->src;
    j_decompress_ptr ci = &c->cinfo;
    if (setjmp(c->jmp))
        return c->st ? c->st : DOCRT_ERR_FORMAT;
    ci->err = jpeg_std_error(&c->pub);
    c->pub.error_exit = on_error_exit;
    c->pub.emit_message = on_emit;
    c->pub.output_message = on_output;
    jpeg_create_decompress(ci);
    c->progress.progress_monitor = on_progress;
    ci->progress = &c->progress;
    jpeg_mem_src(ci, src->data, (unsigned long)src->len);
    jpeg_save_markers(ci, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(ci, TRUE);
    if ((c->st = image_check_size(ci->image_width, ci->image_height,
                                  src->max_pixels, src->why, src->whylen)))
        return c->st;
    int cmyk = ci->jpeg_color_space == JCS_CMYK ||
               ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = ci->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE
                        : cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(ci);
    int ch = ci->out_color_space == JCS_GRAYSCALE ? 1 : 3;
    if ((c->st = image_alloc(out, (int)ci->output_width,
                             (int)ci->output_height, ch, src->why,
                             src->whylen)))
        return c->st;
    if (cmyk && !(c->row = malloc((size_t)ci->output_width * 4)))
        return c->st = image_reason(src->why, src->whylen, DOCRT_ERR_NOMEM,
                                    "out of memory");
    while (ci->output_scanline < ci->output_height) {
        JDIMENSION y = ci->output_scanline;
        JSAMPROW rows[8];
        JDIMENSION n = 0;
        if (cmyk) {
            rows[0] = c->row;
            n = 1;
        } else {
            for (; n < 8 && y + n < ci->output_height; n++)
                rows[n] = out->data + (size_t)(y + n) * out->stride;
        }
        JDIMENSION got = jpeg_read_scanlines(ci, rows, n);
        if (cmyk && got)
            cmyk_row(c->row, out->data + (size_t)y * out->stride,
                     ci->output_width, ci->saw_Adobe_marker);
    }
    int orient = orientation(ci);
    if (ci->saw_JFIF_marker && ci->X_density && ci->Y_density) {
        float f = ci->density_unit == 1 ? 1.0f
                : ci->density_unit == 2 ? 2.54f : 0.0f;
        out->dpi_x = ci->X_density * f;
        out->dpi_y = ci->Y_density * f;
    }
    jpeg_finish_decompress(ci);
    return image_orient(out, orient, src->why, src->whylen);
}

docrt_status image_jpeg_read(const image_src *src, docrt_image *out)
{
    jpeg_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return image_reason(src->why, src->whylen, DOCRT_ERR_NOMEM,
                            "out of memory");
    c->src = src;
    docrt_status st = decode(c, out);
    jpeg_destroy_decompress(&c->cinfo);
    free(c->row);
    free(c);
    return st;
}
