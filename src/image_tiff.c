/* image_tiff.c - TIFF pages with libtiff, from memory.
 *
 * Each page is read through its own TIFF handle, opened header-only ("h")
 * and pointed at the page's directory, so a corrupt page (even the first)
 * leaves the others readable and no codec state crosses pages. libtiff's
 * errors go to a per-handle handler (TIFFOpenOptions) that keeps the first
 * message for the page's error; nothing is printed.
 *
 * Fast paths decode strips or tiles straight into the raster: grey and
 * bilevel and RGB at 1, 2, 4, 8 and 16 bits (the archive case is 1-bit
 * G4; JPEG-in-TIFF YCbCr comes out RGB via JPEGCOLORMODE_RGB), palettes
 * up to 8 bits, and 8/16-bit CMYK, all contiguous. The rest (alpha,
 * planar, YCbCr without JPEG, old JPEG) goes through TIFFRGBAImage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "image.h"

/* ---- the directory chain, walked without libtiff ---- */

static uint64_t rd(const uint8_t *p, int n, int big_endian)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Cuts the chain at its first repeated offset (a loop). */
static int cut_loop(const uint64_t *ifd, int n)
{
    uint64_t *s = malloc(((size_t)n * 2 + 1) * sizeof *s);
    if (!s)
        return -1;
    for (int i = 0; i < n; i++) {
        s[2 * i] = ifd[i];
        s[2 * i + 1] = (uint64_t)i;
    }
    qsort(s, (size_t)n, 2 * sizeof *s, cmp_u64); /* pairs sort by offset */
    int cut = n;
    for (int i = 0; i < n;) {
        int j = i + 1;
        uint64_t first = s[2 * i + 1], second = UINT64_MAX;
        while (j < n && s[2 * j] == s[2 * i]) {
            uint64_t k = s[2 * j + 1];
            if (k < first) {
                second = first;
                first = k;
            } else if (k < second) {
                second = k;
            }
            j++;
        }
        if (second < (uint64_t)cut)
            cut = (int)second;
        i = j;
    }
    free(s);
    return cut;
}

/* The header's layout: byte order, classic or BigTIFF. */
typedef struct {
    int be, big;
    uint64_t hdr, first;
} tiff_header;

static int read_header(const uint8_t *d, size_t len, tiff_header *h)
{
    if (len < 8)
        return 0;
    h->be = d[0] == 'M';
    h->big = rd(d + 2, 2, h->be) == 43;
    if (h->big && (len < 16 || rd(d + 4, 2, h->be) != 8 ||
                   rd(d + 6, 2, h->be) != 0))
        return 0;
    h->hdr = h->big ? 16 : 8;
    h->first = rd(d + (h->big ? 8 : 4), h->big ? 8 : 4, h->be);
    return 1;
}

/* Whether the directory at off lies whole in the file; then *next is the
 * offset of the one after it (0 at the end of the chain). */
static int dir_fits(const uint8_t *d, size_t len, const tiff_header *h,
                    uint64_t off, uint64_t *next)
{
    uint64_t csz = h->big ? 8 : 2, esz = h->big ? 20 : 12;
    int osz = h->big ? 8 : 4;
    if (off < h->hdr || off > len || len - off < csz)
        return 0;
    uint64_t count = rd(d + off, (int)csz, h->be);
    uint64_t room = len - off - csz;
    if (count > room / esz || room - count * esz < (uint64_t)osz)
        return 0;
    *next = rd(d + off + csz + count * esz, osz, h->be);
    return 1;
}

docrt_status image_tiff_index(const uint8_t *d, size_t len, int max_pages,
                              uint64_t **out, int *n_out, char *why,
                              size_t whylen)
{
    *out = NULL;
    *n_out = 0;
    tiff_header h;
    if (!read_header(d, len, &h))
        return image_reason(why, whylen, DOCRT_ERR_FORMAT,
                            "truncated: the TIFF header needs %d bytes, the "
                            "file has %zu", len < 8 ? 8 : 16, len);
    if (h.first == 0)
        return image_reason(why, whylen, DOCRT_ERR_FORMAT,
                            "the TIFF has no pages (its first directory "
                            "offset is 0)");
    uint64_t next;
    if (!dir_fits(d, len, &h, h.first, &next))
        return image_reason(why, whylen, DOCRT_ERR_FORMAT,
                            "truncated: the first directory (at byte %llu) "
                            "runs past the end of the file (%zu bytes)",
                            (unsigned long long)h.first, len);
    uint64_t *ifd = NULL;
    int n = 0, cap = 0;
    /* a later directory that does not fit is kept as a page (reading it
     * says why) and ends the chain */
    for (uint64_t off = h.first; off != 0 && n <= max_pages;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *ni = realloc(ifd, (size_t)cap * sizeof *ni);
            if (!ni) {
                free(ifd);
                return image_reason(why, whylen, DOCRT_ERR_NOMEM,
                                    "out of memory");
            }
            ifd = ni;
        }
        ifd[n++] = off;
        if (!dir_fits(d, len, &h, off, &off))
            break;
    }
    int cut = cut_loop(ifd, n);
    if (cut < 0 || cut > max_pages) {
        free(ifd);
        return cut < 0 ? image_reason(why, whylen, DOCRT_ERR_NOMEM,
                                      "out of memory")
                       : image_reason(why, whylen, DOCRT_ERR_LIMIT,
                                      "the TIFF has more than %d pages, "
                                      "the limit (--max-pages)", max_pages);
    }
    *out = ifd;
    *n_out = cut;
    return DOCRT_OK;
}

/* ---- libtiff on a memory buffer ---- */

typedef struct {
    const uint8_t *data;
    size_t len;
    uint64_t pos;
} mem_file;

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
    mem_file *m = h;
    if (n <= 0 || m->pos >= m->len)
        return 0;
    size_t k = m->len - (size_t)m->pos;
    if ((uint64_t)n < k)
        k = (size_t)n;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
    (void)h, (void)buf, (void)n;
    return -1;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    mem_file *m = h;
    uint64_t base = whence == SEEK_CUR ? m->pos
                  : whence == SEEK_END ? m->len : 0;
    m->pos = base + off; /* unsigned wrap is how libtiff passes a step back */
    return m->pos;
}

static int mem_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t mem_size(thandle_t h)
{
    return ((mem_file *)h)->len;
}

/* Mapping hands libtiff the buffer itself: no copy of the strips. It only
 * reads through the mapping (a handle opened "r"). */
static int mem_map(thandle_t h, void **base, toff_t *size)
{
    mem_file *m = h;
    *base = (void *)(uintptr_t)m->data;
    *size = m->len;
    return 1;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h, (void)base, (void)size;
}

typedef struct {
    char msg[256]; /* the first error libtiff reported on the page */
} tiff_log;

static int on_error(TIFF *tif, void *ud, const char *module, const char *fmt,
                    va_list ap)
{
    (void)tif, (void)module;
    tiff_log *log = ud;
    if (!log->msg[0])
        vsnprintf(log->msg, sizeof log->msg, fmt, ap);
    return 1; /* handled: libtiff's global handler stays silent */
}

static int on_warning(TIFF *tif, void *ud, const char *module,
                      const char *fmt, va_list ap)
{
    (void)tif, (void)ud, (void)module, (void)fmt, (void)ap;
    return 1;
}

typedef struct {
    const image_src *src;
    TIFF *tif;
    tiff_log log;
    uint32_t w, h;
    uint16_t bps, spp, photo, planar, compression, orient, sfmt;
    int channels;        /* of the raster: 1 or 3 */
    int mode;            /* how read_direct converts rows */
    uint8_t lut[256][3]; /* MODE_PALETTE */
} page;

enum { MODE_RGBA, MODE_GREY, MODE_RGB, MODE_PALETTE, MODE_CMYK };

static docrt_status lib_fail(page *p, docrt_status st, const char *what)
{
    return image_reason(p->src->why, p->src->whylen, st, "%s%s%s", what,
                        p->log.msg[0] ? ": " : "", p->log.msg);
}

/* "cannot decode strip 3 (LZW) at row 57: <libtiff's reason>" */
static docrt_status decode_fail(page *p, const char *kind, uint32_t i,
                                uint32_t row)
{
    const TIFFCodec *c = TIFFFindCODEC(p->compression);
    char what[128];
    snprintf(what, sizeof what, "cannot decode %s %u (%s) at row %u", kind, i,
             c ? c->name : "unknown compression", row);
    return lib_fail(p, DOCRT_ERR_FORMAT, what);
}

/* ---- fast paths: strips or tiles straight into the raster ---- */

/* A row of n samples (1..16 bits, libtiff has byte-swapped 16-bit ones)
 * to 8 bits; min-is-white inverts. */
static void grey_row(const uint8_t *s, uint8_t *d, uint32_t n, int bps,
                     int invert)
{
    uint8_t x = invert ? 255 : 0;
    if (bps == 8) {
        for (uint32_t i = 0; i < n; i++)
            d[i] = s[i] ^ x;
    } else if (bps == 16) {
        const uint16_t *s16 = (const uint16_t *)(const void *)s;
        for (uint32_t i = 0; i < n; i++)
            d[i] = (uint8_t)(((uint32_t)s16[i] + 128) / 257) ^ x;
    } else if (bps == 1) {
        uint32_t i = 0;
        for (; i + 8 <= n; i += 8) {
            unsigned b = s[i >> 3];
            for (int k = 0; k < 8; k++)
                d[i + (uint32_t)k] = (uint8_t)(-(int)((b >> (7 - k)) & 1)) ^ x;
        }
        for (; i < n; i++)
            d[i] = (uint8_t)(-(int)((s[i >> 3] >> (7 - (i & 7))) & 1)) ^ x;
    } else { /* 2 or 4 */
        unsigned max = (1u << bps) - 1, per = 8u / (unsigned)bps;
        for (uint32_t i = 0; i < n; i++) {
            unsigned shift = 8 - (unsigned)bps * (i % per + 1);
            unsigned v = (s[i / per] >> shift) & max;
            d[i] = (uint8_t)(v * 255 / max) ^ x;
        }
    }
}

static void palette_row(const page *p, const uint8_t *s, uint8_t *d,
                        uint32_t n)
{
    unsigned bps = p->bps, mask = (1u << bps) - 1;
    for (uint32_t i = 0; i < n; i++, d += p->channels) {
        size_t bit = (size_t)i * bps;
        unsigned v = (s[bit / 8] >> (8 - bps - bit % 8)) & mask;
        memcpy(d, p->lut[v], (size_t)p->channels);
    }
}

/* Inks to RGB as libtiff's RGBA reader does (no colour management),
 * rounded; 16-bit samples first to 8 bits. */
static void cmyk_row(const uint8_t *s, uint8_t *d, uint32_t n, int bps)
{
    const uint16_t *s16 = (const uint16_t *)(const void *)s;
    for (uint32_t i = 0; i < n; i++, d += 3) {
        unsigned v[4];
        for (int k = 0; k < 4; k++)
            v[k] = bps == 16 ? ((unsigned)s16[4 * i + (uint32_t)k] + 128) / 257
                             : s[4 * i + (uint32_t)k];
        unsigned w = 255 - v[3];
        for (int k = 0; k < 3; k++)
            d[k] = (uint8_t)((w * (255 - v[k]) + 127) / 255);
    }
}

static void convert_rows(const page *p, const uint8_t *s, size_t srow,
                         uint8_t *d, size_t drow, uint32_t rows, uint32_t cols)
{
    int invert = p->photo == PHOTOMETRIC_MINISWHITE;
    for (uint32_t r = 0; r < rows; r++, s += srow, d += drow) {
        switch (p->mode) {
        case MODE_GREY: grey_row(s, d, cols, p->bps, invert); break;
        case MODE_RGB: grey_row(s, d, cols * 3, p->bps, 0); break;
        case MODE_PALETTE: palette_row(p, s, d, cols); break;
        default: cmyk_row(s, d, cols, p->bps); break;
        }
    }
}

/* Strip images are read a row at a time: a page stored as one strip (the
 * usual scanner output) then needs one row of buffer, not a second copy
 * of the page. Tiles are read whole, one at a time. */
static docrt_status read_direct(page *p, docrt_image *out)
{
    TIFF *tif = p->tif;
    int ch = p->channels;
    docrt_status st = image_alloc(out, (int)p->w, (int)p->h, ch,
                                  p->src->why, p->src->whylen);
    if (st)
        return st;
    int tiled = TIFFIsTiled(tif);
    uint32_t tw = 0, th = 0;
    if (tiled) {
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        /* a forged tile size would otherwise be allocated as given */
        if (!tw || !th || (uint64_t)tw * th > p->src->max_pixels)
            return image_reason(p->src->why, p->src->whylen,
                                DOCRT_ERR_FORMAT,
                                "tiles of %u x %u pixels, over the page "
                                "limit", tw, th);
    }
    tmsize_t bufsize = tiled ? TIFFTileSize(tif) : TIFFScanlineSize(tif);
    uint8_t *buf = bufsize > 0 ? malloc((size_t)bufsize) : NULL;
    if (!buf)
        return lib_fail(p, bufsize > 0 ? DOCRT_ERR_NOMEM : DOCRT_ERR_FORMAT,
                        tiled ? "cannot size a tile" : "cannot size a row");
    if (tiled) {
        size_t trow = (size_t)TIFFTileRowSize(tif);
        for (uint32_t y = 0; y < p->h && !st; y += th) {
            for (uint32_t x = 0; x < p->w && !st; x += tw) {
                uint32_t t = TIFFComputeTile(tif, x, y, 0, 0);
                if (image_out_of_time(p->src)) {
                    st = DOCRT_ERR_LIMIT;
                    break;
                }
                if (TIFFReadEncodedTile(tif, t, buf, bufsize) < 0) {
                    st = decode_fail(p, "tile", t, y);
                    break;
                }
                uint32_t rows = p->h - y < th ? p->h - y : th;
                uint32_t cols = p->w - x < tw ? p->w - x : tw;
                convert_rows(p, buf, trow,
                             out->data + (size_t)y * out->stride +
                                 (size_t)x * (size_t)ch,
                             out->stride, rows, cols);
            }
        }
    } else {
        uint32_t rps = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
        for (uint32_t y = 0; y < p->h; y++) {
            if ((y & 31) == 0 && image_out_of_time(p->src)) {
                st = DOCRT_ERR_LIMIT;
                break;
            }
            if (TIFFReadScanline(tif, buf, y, 0) < 0) {
                st = decode_fail(p, "strip", rps ? y / rps : 0, y);
                break;
            }
            convert_rows(p, buf, 0, out->data + (size_t)y * out->stride, 0, 1,
                         p->w);
        }
    }
    free(buf);
    return st;
}

/* ---- everything else: libtiff's RGBA reader ---- */

static int grey_palette(TIFF *tif, int bps)
{
    uint16_t *r, *g, *b;
    if (bps > 16 || !TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b))
        return 0;
    for (uint32_t i = 0; i < (1u << bps); i++)
        if (r[i] != g[i] || g[i] != b[i])
            return 0;
    return 1;
}

/* The colormap as 8-bit RGB, rounded (libtiff's RGBA reader truncates).
 * A map with no entry above 255 was written 8-bit by an old writer, as
 * libtiff also assumes. */
static int load_palette(page *p)
{
    uint16_t *c[3];
    if (!TIFFGetField(p->tif, TIFFTAG_COLORMAP, &c[0], &c[1], &c[2]))
        return 0;
    uint32_t n = 1u << p->bps;
    int wide = 0;
    for (uint32_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            wide |= c[k][i] > 255;
    for (uint32_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            p->lut[i][k] = (uint8_t)(wide ? (c[k][i] + 128u) / 257u : c[k][i]);
    p->channels = grey_palette(p->tif, p->bps) ? 1 : 3;
    return 1;
}

static docrt_status read_rgba(page *p, docrt_image *out)
{
    char emsg[1024] = "";
    TIFFRGBAImage img;
    if (!TIFFRGBAImageOK(p->tif, emsg) ||
        !TIFFRGBAImageBegin(&img, p->tif, 1, emsg))
        return image_reason(p->src->why, p->src->whylen,
                            DOCRT_ERR_UNSUPPORTED,
                            "unsupported TIFF: photometric %u, %u samples of "
                            "%u bits (libtiff: %s)", p->photo, p->spp, p->bps,
                            emsg);
    int ch = p->photo == PHOTOMETRIC_MINISBLACK ||
             p->photo == PHOTOMETRIC_MINISWHITE ||
             (p->photo == PHOTOMETRIC_PALETTE && grey_palette(p->tif, p->bps))
             ? 1 : 3;
    uint32_t *px = malloc((size_t)p->w * p->h * sizeof *px);
    if (!px) {
        TIFFRGBAImageEnd(&img);
        return image_reason(p->src->why, p->src->whylen, DOCRT_ERR_NOMEM,
                            "out of memory for a %u x %u page", p->w, p->h);
    }
    /* rows as stored: image_orient applies all 8 orientations, where
     * TIFFRGBAImage only flips */
    img.req_orientation = ORIENTATION_TOPLEFT;
    img.orientation = ORIENTATION_TOPLEFT;
    /* In bands of whole strips (tiles), so the time limit is checked
     * between them without decoding any strip twice. */
    uint32_t unit = 0;
    if (TIFFIsTiled(p->tif))
        TIFFGetField(p->tif, TIFFTAG_TILELENGTH, &unit);
    else
        TIFFGetFieldDefaulted(p->tif, TIFFTAG_ROWSPERSTRIP, &unit);
    if (!unit || unit > p->h)
        unit = p->h;
    uint32_t band = unit * (unit < 64 ? (64 + unit - 1) / unit : 1);
    int ok = 1, late = 0;
    for (uint32_t y = 0; y < p->h && ok; y += band) {
        if ((late = image_out_of_time(p->src)))
            break;
        uint32_t rows = p->h - y < band ? p->h - y : band;
        img.row_offset = (int)y;
        ok = TIFFRGBAImageGet(&img, px + (size_t)y * p->w, p->w, rows);
    }
    TIFFRGBAImageEnd(&img);
    docrt_status st = late ? DOCRT_ERR_LIMIT
                    : ok ? image_alloc(out, (int)p->w, (int)p->h, ch,
                                       p->src->why, p->src->whylen)
                         : lib_fail(p, DOCRT_ERR_FORMAT,
                                    "cannot decode the page");
    if (st) {
        free(px);
        return st;
    }
    /* libtiff's RGBA is premultiplied, so over white is c + (255 - a) */
    for (uint32_t y = 0; y < p->h; y++) {
        const uint32_t *s = px + (size_t)y * p->w;
        uint8_t *d = out->data + (size_t)y * out->stride;
        for (uint32_t x = 0; x < p->w; x++, d += ch) {
            uint32_t v = s[x], bg = 255 - TIFFGetA(v);
            uint32_t c[3] = { TIFFGetR(v) + bg, TIFFGetG(v) + bg,
                              TIFFGetB(v) + bg };
            for (int k = 0; k < ch; k++)
                d[k] = (uint8_t)(c[k] > 255 ? 255 : c[k]);
        }
    }
    free(px);
    return DOCRT_OK;
}

/* ---- one page ---- */

/* Strips or tiles that end past the file: name the truncation before a
 * codec reports it as something vaguer. */
static docrt_status check_striles(page *p)
{
    TIFF *tif = p->tif;
    int tiled = TIFFIsTiled(tif);
    uint32_t n = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    uint64_t len = p->src->len;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bc = TIFFGetStrileByteCount(tif, i);
        uint64_t off = TIFFGetStrileOffset(tif, i);
        if (bc && (off > len || bc > len - off))
            return image_reason(p->src->why, p->src->whylen, DOCRT_ERR_FORMAT,
                                "truncated: %s %u needs bytes %llu to %llu, "
                                "the file has %llu",
                                tiled ? "tile" : "strip", i,
                                (unsigned long long)off,
                                (unsigned long long)(off + bc),
                                (unsigned long long)len);
    }
    return DOCRT_OK;
}

static float dpi(TIFF *tif, uint32_t tag, uint16_t unit)
{
    float v = 0;
    if (!TIFFGetField(tif, tag, &v) || !(v > 0 && v < 1e6f))
        return 0;
    return unit == RESUNIT_INCH ? v : unit == RESUNIT_CENTIMETER ? v * 2.54f
                                                                 : 0;
}

static int pick_mode(page *p)
{
    int bps = p->bps;
    if (p->sfmt != SAMPLEFORMAT_UINT)
        return MODE_RGBA;
    int contig = p->spp == 1 || p->planar == PLANARCONFIG_CONTIG;
    int unpacks = bps == 1 || bps == 2 || bps == 4 || bps == 8 || bps == 16;
    uint16_t inkset = INKSET_CMYK;
    switch (p->photo) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE:
        return p->spp == 1 && unpacks ? MODE_GREY : MODE_RGBA;
    case PHOTOMETRIC_RGB: /* samples unpack as grey ones do */
        return p->spp == 3 && unpacks && contig ? MODE_RGB : MODE_RGBA;
    case PHOTOMETRIC_PALETTE:
        return p->spp == 1 && (bps == 1 || bps == 2 || bps == 4 || bps == 8) &&
               load_palette(p) ? MODE_PALETTE : MODE_RGBA;
    case PHOTOMETRIC_SEPARATED:
        TIFFGetFieldDefaulted(p->tif, TIFFTAG_INKSET, &inkset);
        return p->spp == 4 && (bps == 8 || bps == 16) && contig &&
               inkset == INKSET_CMYK ? MODE_CMYK : MODE_RGBA;
    default:
        return MODE_RGBA;
    }
}

static docrt_status decode(page *p, docrt_image *out)
{
    TIFF *tif = p->tif;
    const image_src *src = p->src;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p->w) ||
        !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p->h))
        return image_reason(src->why, src->whylen, DOCRT_ERR_FORMAT,
                            "the page has no ImageWidth or ImageLength tag");
    docrt_status st = image_check_size(p->w, p->h, src->max_pixels, src->why,
                                       src->whylen);
    if (st)
        return st;
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &p->compression);
    if (!TIFFIsCODECConfigured(p->compression)) {
        const TIFFCodec *c = TIFFFindCODEC(p->compression);
        return image_reason(src->why, src->whylen, DOCRT_ERR_UNSUPPORTED,
                            "unsupported compression %u%s%s%s",
                            p->compression, c ? " (" : "", c ? c->name : "",
                            c ? ")" : "");
    }
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &p->bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &p->spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &p->planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &p->orient);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &p->sfmt);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &p->photo)) {
        /* fax files often omit it; TIFF's default is min-is-white */
        int fax = p->compression == COMPRESSION_CCITTRLE ||
                  p->compression == COMPRESSION_CCITTFAX3 ||
                  p->compression == COMPRESSION_CCITTFAX4;
        p->photo = p->spp >= 3 ? PHOTOMETRIC_RGB
                 : fax ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK;
        TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, p->photo);
    }
    if ((st = check_striles(p)))
        return st;
    if (p->photo == PHOTOMETRIC_YCBCR && p->compression == COMPRESSION_JPEG &&
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
        p->photo = PHOTOMETRIC_RGB; /* libjpeg converts */
    p->mode = pick_mode(p);
    if (p->mode != MODE_PALETTE)
        p->channels = p->mode == MODE_GREY ? 1 : 3;
    st = p->mode == MODE_RGBA ? read_rgba(p, out) : read_direct(p, out);
    if (st)
        return st;
    uint16_t unit = RESUNIT_INCH;
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
    out->dpi_x = dpi(tif, TIFFTAG_XRESOLUTION, unit);
    out->dpi_y = dpi(tif, TIFFTAG_YRESOLUTION, unit);
    return image_orient(out, p->orient, src->why, src->whylen);
}

/* libtiff's own buffers (strips, tiles, tables) may need a few bytes per
 * pixel of the largest page allowed; nothing legitimate needs more, and
 * a forged tile size or count is refused instead of allocated. */
static tmsize_t max_alloc(uint64_t max_pixels)
{
    uint64_t m = max_pixels > (UINT64_MAX - (64u << 20)) / 16
                 ? UINT64_MAX : max_pixels * 16 + (64u << 20);
    return m > (uint64_t)INT64_MAX ? (tmsize_t)INT64_MAX : (tmsize_t)m;
}

docrt_status image_tiff_read(const image_src *src, uint64_t ifd,
                             docrt_image *out)
{
    tiff_header h;
    uint64_t next;
    if (!read_header(src->data, src->len, &h) ||
        !dir_fits(src->data, src->len, &h, ifd, &next))
        return image_reason(src->why, src->whylen, DOCRT_ERR_FORMAT,
                            "truncated: the page's directory (at byte %llu) "
                            "runs past the end of the file (%zu bytes)",
                            (unsigned long long)ifd, src->len);
    page p;
    memset(&p, 0, sizeof p);
    p.src = src;
    mem_file mf = { src->data, src->len, 0 };
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return image_reason(src->why, src->whylen, DOCRT_ERR_NOMEM,
                            "out of memory");
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, &p.log);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, &p.log);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, max_alloc(src->max_pixels));
    p.tif = TIFFClientOpenExt("TIFF", "rh", &mf, mem_read, mem_write,
                              mem_seek, mem_close, mem_size, mem_map,
                              mem_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (!p.tif)
        return lib_fail(&p, DOCRT_ERR_FORMAT, "not a readable TIFF");
    docrt_status st;
    if (!TIFFSetSubDirectory(p.tif, ifd))
        st = lib_fail(&p, DOCRT_ERR_FORMAT, "cannot read the page's directory");
    else
        st = decode(&p, out);
    TIFFClose(p.tif);
    return st;
}
