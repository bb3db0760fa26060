/* image.c - docrt_document: a file's bytes, its format (found from the magic
 * bytes, never the name) and its pages; decoding is left to image_tiff.c,
 * image_png.c and image_jpeg.c, one page at a time.
 *
 * Messages: "FILE: REASON" when the file as a whole fails (open), and
 * "FILE: page N: REASON" (1-based) for anything docrt_document_read_page
 * reports, PNG and JPEG included, so logs parse the same for every format.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image.h"

enum { FMT_TIFF = 1, FMT_PNG, FMT_JPEG };

struct docrt_document {
    char *name;
    uint8_t *data;
    size_t len;
    docrt_image_limits lim;
    int format;
    int n_pages;
    uint64_t *ifd; /* TIFF: directory offset of each page */
};

docrt_image_limits docrt_image_default_limits(void)
{
    docrt_image_limits l = { .max_pixels = (uint64_t)7016 * 9921,
                             .max_pages = DOCRT_DEFAULT_MAX_PAGES,
                             .max_decode_ms = DOCRT_DEFAULT_MAX_DECODE_MS };
    return l;
}

/* Zero fields take their defaults; max_pages is capped. */
static docrt_image_limits resolve_limits(const docrt_image_limits *lim)
{
    docrt_image_limits d = docrt_image_default_limits();
    if (!lim)
        return d;
    docrt_image_limits l = *lim;
    if (!l.max_pixels)
        l.max_pixels = d.max_pixels;
    if (l.max_pages <= 0)
        l.max_pages = d.max_pages;
    if (l.max_pages > DOCRT_MAX_PAGES_CAP)
        l.max_pages = DOCRT_MAX_PAGES_CAP;
    if (!l.max_decode_ms)
        l.max_decode_ms = d.max_decode_ms;
    return l;
}

double image_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int image_out_of_time(const image_src *src)
{
    if (src->deadline_ms <= 0 || image_now_ms() <= src->deadline_ms)
        return 0;
    image_reason(src->why, src->whylen, DOCRT_ERR_LIMIT,
                 "decoding took longer than the limit of %u ms",
                 src->max_decode_ms);
    return 1;
}

void docrt_image_free(docrt_image *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

docrt_status image_reason(char *why, size_t whylen, docrt_status st,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return st;
}

docrt_status image_check_size(uint64_t w, uint64_t h, uint64_t max_pixels,
                              char *why, size_t whylen)
{
    if (w == 0 || h == 0)
        return image_reason(why, whylen, DOCRT_ERR_FORMAT,
                            "page declares %llu x %llu pixels (an empty page)",
                            (unsigned long long)w, (unsigned long long)h);
    /* w, h < 2^32 for every format read, so w * h cannot overflow */
    if (w * h > max_pixels)
        return image_reason(why, whylen, DOCRT_ERR_LIMIT,
                            "page declares %llu x %llu pixels, over the limit "
                            "of %llu pixels",
                            (unsigned long long)w, (unsigned long long)h,
                            (unsigned long long)max_pixels);
    /* 3 bytes per pixel must fit a row in an int-sized width and the
     * whole raster in a size_t */
    if (w > INT_MAX / 4 || h > INT_MAX / 4 || w * h > SIZE_MAX / 4)
        return image_reason(why, whylen, DOCRT_ERR_LIMIT,
                            "page declares %llu x %llu pixels, more than "
                            "docrt can address",
                            (unsigned long long)w, (unsigned long long)h);
    return DOCRT_OK;
}

docrt_status image_alloc(docrt_image *img, int w, int h, int channels,
                         char *why, size_t whylen)
{
    memset(img, 0, sizeof *img);
    size_t stride = (size_t)w * (size_t)channels;
    img->data = malloc(stride * (size_t)h);
    if (!img->data)
        return image_reason(why, whylen, DOCRT_ERR_NOMEM,
                            "out of memory for a %d x %d page", w, h);
    img->width = w;
    img->height = h;
    img->channels = channels;
    img->stride = stride;
    return DOCRT_OK;
}

docrt_status image_orient(docrt_image *img, int orientation, char *why,
                          size_t whylen)
{
    if (orientation < 2 || orientation > 8)
        return DOCRT_OK;
    /* 5..8 store the page's columns as rows; 2, 3, 6, 7 run the visual x
     * axis backwards and 3, 4, 7, 8 the visual y axis */
    int transpose = orientation >= 5;
    int flip_x = orientation == 2 || orientation == 3 || orientation == 6 ||
                 orientation == 7;
    int flip_y = orientation == 3 || orientation == 4 || orientation == 7 ||
                 orientation == 8;
    int ch = img->channels;
    int vw = transpose ? img->height : img->width;
    int vh = transpose ? img->width : img->height;
    docrt_image v;
    docrt_status st = image_alloc(&v, vw, vh, ch, why, whylen);
    if (st)
        return st;
    /* source step per visual pixel along x, and the start of each row */
    ptrdiff_t sstride = (ptrdiff_t)img->stride;
    ptrdiff_t step = transpose ? sstride : ch;
    if (flip_x)
        step = -step;
    for (int y = 0; y < vh; y++) {
        int sy = flip_y ? vh - 1 - y : y;  /* visual row -> stored index */
        int sx0 = flip_x ? vw - 1 : 0;
        const uint8_t *s = transpose
            ? img->data + (ptrdiff_t)sx0 * sstride + (ptrdiff_t)sy * ch
            : img->data + (ptrdiff_t)sy * sstride + (ptrdiff_t)sx0 * ch;
        uint8_t *d = v.data + (size_t)y * v.stride;
        if (ch == 1) {
            for (int x = 0; x < vw; x++, s += step)
                d[x] = *s;
        } else {
            for (int x = 0; x < vw; x++, s += step, d += ch)
                memcpy(d, s, (size_t)ch);
        }
    }
    v.dpi_x = transpose ? img->dpi_y : img->dpi_x;
    v.dpi_y = transpose ? img->dpi_x : img->dpi_y;
    free(img->data);
    *img = v;
    return DOCRT_OK;
}

/* "FILE: REASON" or, page >= 0, "FILE: page N: REASON". */
static docrt_status fail(char *err, size_t errlen, const char *name, int page,
                         docrt_status st, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static docrt_status fail(char *err, size_t errlen, const char *name, int page,
                         docrt_status st, const char *fmt, ...)
{
    if (!err || !errlen)
        return st;
    int n = page >= 0 ? snprintf(err, errlen, "%s: page %d: ", name, page + 1)
                      : snprintf(err, errlen, "%s: ", name);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return st;
}

static const char *errstr(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
}

static int has(const uint8_t *d, size_t len, const char *magic, size_t n)
{
    return len >= n && memcmp(d, magic, n) == 0;
}

/* The format, or 0 with a reason: other image formats are named so the
 * message says what the file is rather than only what it is not. */
static int sniff(const uint8_t *d, size_t len, docrt_status *st,
                 const char **what)
{
    *st = DOCRT_ERR_FORMAT;
    *what = NULL;
    if (has(d, len, "II*\0", 4) || has(d, len, "MM\0*", 4) ||
        has(d, len, "II+\0", 4) || has(d, len, "MM\0+", 4))
        return FMT_TIFF;
    if (has(d, len, "\x89PNG\r\n\x1a\n", 8))
        return FMT_PNG;
    if (has(d, len, "\xff\xd8\xff", 3))
        return FMT_JPEG;
    *st = DOCRT_ERR_UNSUPPORTED;
    if (has(d, len, "%PDF", 4))
        *what = "PDF";
    else if (has(d, len, "GIF8", 4))
        *what = "GIF";
    else if (has(d, len, "BM", 2))
        *what = "BMP";
    else if (has(d, len, "RIFF", 4) && len >= 12 && !memcmp(d + 8, "WEBP", 4))
        *what = "WebP";
    else if (has(d, len, "\0\0\0\x0cjP  ", 8) ||
             has(d, len, "\xff\x4f\xff\x51", 4))
        *what = "JPEG 2000";
    else if (has(d, len, "AT&TFORM", 8))
        *what = "DjVu";
    else
        *st = DOCRT_ERR_FORMAT;
    return 0;
}

/* Takes ownership of data (freed on failure too). */
static docrt_status doc_create(uint8_t *data, size_t len, const char *name,
                               const docrt_image_limits *lim,
                               docrt_document **out, char *err, size_t errlen)
{
    if (len == 0) {
        free(data);
        return fail(err, errlen, name, -1, DOCRT_ERR_FORMAT,
                    "empty file (0 bytes)");
    }
    docrt_status st;
    const char *what;
    int format = sniff(data, len, &st, &what);
    if (!format) {
        free(data);
        if (what)
            return fail(err, errlen, name, -1, st,
                        "%s files are not supported (docrt reads TIFF, PNG "
                        "and JPEG)", what);
        return fail(err, errlen, name, -1, st,
                    "not an image docrt reads (TIFF, PNG or JPEG): the first "
                    "bytes match none of them");
    }
    docrt_document *doc = calloc(1, sizeof *doc);
    char *nm = strdup(name);
    if (!doc || !nm) {
        free(doc);
        free(nm);
        free(data);
        return fail(err, errlen, name, -1, DOCRT_ERR_NOMEM, "out of memory");
    }
    doc->name = nm;
    doc->data = data;
    doc->len = len;
    doc->lim = resolve_limits(lim);
    doc->format = format;
    doc->n_pages = 1;
    if (format == FMT_TIFF) {
        char why[256] = "";
        st = image_tiff_index(data, len, doc->lim.max_pages, &doc->ifd,
                              &doc->n_pages, why, sizeof why);
        if (st) {
            fail(err, errlen, name, -1, st, "%s", why);
            docrt_document_close(doc);
            return st;
        }
    }
    *out = doc;
    if (err && errlen)
        err[0] = '\0';
    return DOCRT_OK;
}

docrt_status docrt_document_open_memory(const void *data, size_t len,
                                        const char *name,
                                        const docrt_image_limits *lim,
                                        docrt_document **out, char *err,
                                        size_t errlen)
{
    if (!name)
        name = "(memory)";
    if (!out || (!data && len))
        return fail(err, errlen, name, -1, DOCRT_ERR_ARG,
                    "no data or no output document");
    *out = NULL;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return fail(err, errlen, name, -1, DOCRT_ERR_NOMEM,
                    "out of memory for %zu bytes", len);
    if (len)
        memcpy(copy, data, len);
    return doc_create(copy, len, name, lim, out, err, errlen);
}

/* Reads to the end whatever st_size says, so pipes and /proc files work. */
static docrt_status read_all(int fd, size_t hint, uint8_t **out, size_t *len,
                             const char *name, char *err, size_t errlen)
{
    size_t cap = hint ? hint + 1 : 65536, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return fail(err, errlen, name, -1, DOCRT_ERR_NOMEM,
                    "out of memory for %zu bytes", cap);
    for (;;) {
        if (n == cap) {
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) {
                free(buf);
                return fail(err, errlen, name, -1, DOCRT_ERR_NOMEM,
                            "out of memory reading the file");
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            char eb[128];
            int e = errno;
            free(buf);
            return fail(err, errlen, name, -1, DOCRT_ERR_IO,
                        "cannot read: %s", errstr(e, eb, sizeof eb));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return DOCRT_OK;
}

docrt_status docrt_document_open(const char *path,
                                 const docrt_image_limits *lim,
                                 docrt_document **out, char *err,
                                 size_t errlen)
{
    if (!path || !out)
        return fail(err, errlen, path ? path : "(null)", -1, DOCRT_ERR_ARG,
                    "no path or no output document");
    *out = NULL;
    char eb[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, path, -1, DOCRT_ERR_IO, "cannot open: %s",
                    errstr(errno, eb, sizeof eb));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, path, -1, DOCRT_ERR_IO, "cannot stat: %s",
                    errstr(e, eb, sizeof eb));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return fail(err, errlen, path, -1, DOCRT_ERR_IO, "is a directory");
    }
    size_t hint = 0;
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uint64_t)sb.st_size < SIZE_MAX)
        hint = (size_t)sb.st_size;
    uint8_t *data = NULL;
    size_t len = 0;
    docrt_status st = read_all(fd, hint, &data, &len, path, err, errlen);
    close(fd);
    if (st)
        return st;
    return doc_create(data, len, path, lim, out, err, errlen);
}

int docrt_document_n_pages(const docrt_document *doc)
{
    return doc ? doc->n_pages : 0;
}

const char *docrt_document_name(const docrt_document *doc)
{
    return doc ? doc->name : NULL;
}

docrt_status docrt_document_read_page(docrt_document *doc, int page,
                                      docrt_image *out, char *err,
                                      size_t errlen)
{
    if (!out)
        return fail(err, errlen, doc ? doc->name : "(null)", -1,
                    DOCRT_ERR_ARG, "no output image");
    memset(out, 0, sizeof *out);
    if (!doc)
        return fail(err, errlen, "(null)", -1, DOCRT_ERR_ARG, "no document");
    if (page < 0 || page >= doc->n_pages)
        return fail(err, errlen, doc->name, page, DOCRT_ERR_ARG,
                    "no such page (the file has %d)", doc->n_pages);
    char why[512] = "";
    image_src src = { doc->data, doc->len, doc->lim.max_pixels, why,
                      sizeof why, doc->lim.max_decode_ms,
                      image_now_ms() + doc->lim.max_decode_ms };
    docrt_status st;
    switch (doc->format) {
    case FMT_TIFF: st = image_tiff_read(&src, doc->ifd[page], out); break;
    case FMT_PNG: st = image_png_read(&src, out); break;
    default: st = image_jpeg_read(&src, out); break;
    }
    if (st) {
        docrt_image_free(out);
        return fail(err, errlen, doc->name, page, st, "%s",
                    why[0] ? why : "cannot decode the page");
    }
    if (err && errlen)
        err[0] = '\0';
    return DOCRT_OK;
}

void docrt_document_close(docrt_document *doc)
{
    if (!doc)
        return;
    free(doc->name);
    free(doc->data);
    free(doc->ifd);
    free(doc);
}
