/* npy.c - NumPy .npy reader and writer (see npy.h).
 *
 * The header is a Python dict literal; we parse the small subset numpy
 * writes (strings, True/False, tuples of ints) by hand rather than trust it,
 * since files come from users and tests feed it garbage on purpose. */
#include "npy.h"
#include "errmsg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* Real headers are a few hundred bytes; refuse absurd ones before malloc. */
#define NPY_MAX_HEADER (1u << 20)
/* numpy leaves room for the first axis to grow to this many digits. */
#define NPY_GROWTH_AXIS_MAX_DIGITS 21
#define NPY_ALIGN 64

static graph_status fail(char *err, size_t errlen, const char *path,
                         graph_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static graph_status fail(char *err, size_t errlen, const char *path,
                         graph_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(err, errlen, path, fmt, ap);
    va_end(ap);
    return st;
}

static const struct {
    const char *descr;
    int dtype;
    size_t size;
} npy_types[] = {
    {"<f4", GRAPH_DT_F32, 4}, {"<i8", GRAPH_DT_I64, 8},
    {"<f8", GRAPH_DT_F64, 8}, {"<i4", GRAPH_DT_I32, 4},
    {"|i1", GRAPH_DT_I8, 1},  {"|u1", GRAPH_DT_U8, 1},
    {"|b1", GRAPH_DT_BOOL, 1},
};

const char *npy_descr(int dtype)
{
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == dtype)
            return npy_types[i].descr;
    return NULL;
}

static size_t npy_itemsize(int dtype)
{
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == dtype)
            return npy_types[i].size;
    return 0;
}

/* "big-endian float32", "float64", "unicode string" ... for messages. */
static void describe_descr(const char *d, char *buf, size_t n)
{
    const char *order = "";
    if (*d == '>')
        order = "big-endian ";
    if (*d == '<' || *d == '>' || *d == '|' || *d == '=')
        d++;
    const char *kind;
    switch (*d) {
    case 'f': kind = "float"; break;
    case 'i': kind = "int"; break;
    case 'u': kind = "uint"; break;
    case 'b': kind = "bool"; break;
    case 'c': kind = "complex"; break;
    case 'U': kind = "unicode string"; break;
    case 'S': case 'a': kind = "byte string"; break;
    case 'O': kind = "Python object"; break;
    case 'M': kind = "datetime"; break;
    case 'm': kind = "timedelta"; break;
    case 'V': kind = "raw bytes"; break;
    default: snprintf(buf, n, "unknown"); return;
    }
    char *end;
    long bytes = strtol(d + 1, &end, 10);
    if (*kind == 'f' || *kind == 'i' || *kind == 'u' || *kind == 'c')
        if (end != d + 1 && *end == '\0' && bytes > 0 && bytes <= 64) {
            snprintf(buf, n, "%s%s%ld", order, kind, bytes * 8);
            return;
        }
    snprintf(buf, n, "%s%s", order, kind);
}

/* ---- header dict parser ---- */

typedef struct {
    const char *p, *end;
    char descr[32];
    int descr_structured; /* descr was a list: a structured dtype */
    int fortran;
    graph_shape shape;
    int nrank; /* rank as written, may exceed GRAPH_MAX_RANK */
    int have_descr, have_fortran, have_shape;
    const char *why; /* parse error reason */
} hdr_parser;

static void skip_ws(hdr_parser *h)
{
    while (h->p < h->end &&
           (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int expect(hdr_parser *h, char c)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes, into buf (NUL-terminated). */
static int parse_str(hdr_parser *h, char *buf, size_t n)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) {
        h->why = "expected a quoted string";
        return 0;
    }
    char q = *h->p++;
    const char *s = h->p;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || *h->p == '\0' || *h->p == '\n') {
            h->why = "unexpected character in a string";
            return 0;
        }
        h->p++;
    }
    if (h->p >= h->end) {
        h->why = "unterminated string";
        return 0;
    }
    size_t len = (size_t)(h->p - s);
    h->p++;
    if (len + 1 > n) {
        h->why = "string too long";
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 1;
}

static int match_word(hdr_parser *h, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

/* Skip a bracketed list (a structured dtype's descr) without reading it. */
static int skip_list(hdr_parser *h)
{
    int depth = 0;
    char q = 0;
    for (; h->p < h->end; h->p++) {
        char c = *h->p;
        if (q) {
            if (c == q)
                q = 0;
        } else if (c == '\'' || c == '"') {
            q = c;
        } else if (c == '[' || c == '(') {
            depth++;
        } else if (c == ']' || c == ')') {
            if (--depth == 0) {
                h->p++;
                return 1;
            }
        }
    }
    h->why = "unterminated list in descr";
    return 0;
}

static int parse_shape(hdr_parser *h)
{
    if (!expect(h, '(')) {
        h->why = "shape is not a tuple";
        return 0;
    }
    int rank = 0, commas = 0;
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == ')') {
            h->p++;
            break;
        }
        if (rank > commas) {
            h->why = "missing ',' in shape";
            return 0;
        }
        if (h->p >= h->end || *h->p < '0' || *h->p > '9') {
            h->why = "shape holds something other than non-negative integers";
            return 0;
        }
        int64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            int dgt = *h->p++ - '0';
            if (v > (INT64_MAX - dgt) / 10) {
                h->why = "shape dimension too large";
                return 0;
            }
            v = v * 10 + dgt;
        }
        if (h->p < h->end && *h->p == 'L') /* Python 2 numpy wrote 3L */
            h->p++;
        if (rank < GRAPH_MAX_RANK)
            h->shape.dims[rank] = v;
        rank++;
        if (expect(h, ','))
            commas++;
    }
    if (rank == 1 && commas == 0) {
        h->why = "shape is not a tuple (a 1-d shape needs a trailing comma)";
        return 0;
    }
    h->nrank = rank;
    h->shape.rank = rank < GRAPH_MAX_RANK ? rank : GRAPH_MAX_RANK;
    return 1;
}

static int parse_header(hdr_parser *h)
{
    if (!expect(h, '{')) {
        h->why = "header is not a dict";
        return 0;
    }
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == '}') {
            h->p++;
            break;
        }
        char key[32];
        if (!parse_str(h, key, sizeof key))
            return 0;
        if (!expect(h, ':')) {
            h->why = "expected ':' after a key";
            return 0;
        }
        skip_ws(h);
        if (strcmp(key, "descr") == 0) {
            if (h->have_descr++) {
                h->why = "duplicate key 'descr'";
                return 0;
            }
            if (h->p < h->end && *h->p == '[') {
                if (!skip_list(h))
                    return 0;
                h->descr_structured = 1;
                snprintf(h->descr, sizeof h->descr, "[...]");
            } else if (!parse_str(h, h->descr, sizeof h->descr)) {
                return 0;
            }
        } else if (strcmp(key, "fortran_order") == 0) {
            if (h->have_fortran++) {
                h->why = "duplicate key 'fortran_order'";
                return 0;
            }
            if (match_word(h, "True"))
                h->fortran = 1;
            else if (match_word(h, "False"))
                h->fortran = 0;
            else {
                h->why = "fortran_order is not True or False";
                return 0;
            }
        } else if (strcmp(key, "shape") == 0) {
            if (h->have_shape++) {
                h->why = "duplicate key 'shape'";
                return 0;
            }
            if (!parse_shape(h))
                return 0;
        } else {
            h->why = "unknown key in header (numpy allows only descr, "
                     "fortran_order, shape)";
            return 0;
        }
        if (!expect(h, ',')) {
            skip_ws(h);
            if (h->p < h->end && *h->p == '}')
                continue;
            h->why = "expected ',' or '}' in header";
            return 0;
        }
    }
    skip_ws(h);
    if (h->p != h->end) {
        h->why = "unexpected bytes after the header dict";
        return 0;
    }
    if (!h->have_descr || !h->have_fortran || !h->have_shape) {
        h->why = !h->have_descr     ? "header has no 'descr'"
                 : !h->have_fortran ? "header has no 'fortran_order'"
                                    : "header has no 'shape'";
        return 0;
    }
    return 1;
}

void npy_shape_str(const graph_shape *s, char *buf, size_t n)
{
    size_t off = 0;
    int w = snprintf(buf, n, "(");
    off = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < s->rank && i < GRAPH_MAX_RANK && off < n; i++) {
        w = snprintf(buf + off, n - off, i ? ", %" PRId64 : "%" PRId64,
                     s->dims[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    if (off < n)
        snprintf(buf + off, n - off, s->rank == 1 ? ",)" : ")");
}

static uint32_t rd_le(const unsigned char *b, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

graph_status npy_read_memory(const void *buf, size_t len, const char *path,
                             graph_host_tensor *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "no output tensor");
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "no data");
    const unsigned char *pre = buf;
    uint64_t fsize = len;
    if (fsize == 0)
        return fail(err, errlen, path, GRAPH_ERR_IO, "empty file");
    size_t got = len;
    size_t cmp = got < NPY_MAGIC_LEN ? got : NPY_MAGIC_LEN;
    if (memcmp(pre, NPY_MAGIC, cmp) != 0)
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "bad magic: not a .npy file");
    if (got < 10)
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "truncated: %zu bytes is shorter than a .npy preamble",
                    got);
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return fail(err, errlen, path, GRAPH_ERR_UNSUPPORTED,
                    ".npy format version %d.%d (docrt reads 1.0, 2.0, 3.0)",
                    major, minor);
    size_t lenbytes = major == 1 ? 2 : 4;
    size_t prefix = 8 + lenbytes;
    if (got < prefix)
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "truncated: %zu bytes is shorter than a version %d.0 "
                    "preamble", got, major);
    uint32_t hlen = rd_le(pre + 8, (int)lenbytes);
    if (hlen > NPY_MAX_HEADER)
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "header length %" PRIu32 " is implausibly large", hlen);
    if ((uint64_t)prefix + hlen > fsize)
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "truncated header: header length %" PRIu32
                    " but the file has only %" PRIu64
                    " bytes after the preamble", hlen, fsize - prefix);
    if (memchr(pre + prefix, '\0', hlen))
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "header contains a NUL byte");

    hdr_parser h;
    memset(&h, 0, sizeof h);
    h.p = (const char *)pre + prefix;
    h.end = h.p + hlen;
    if (!parse_header(&h))
        return fail(err, errlen, path, GRAPH_ERR_PARSE, "bad header: %s",
                    h.why ? h.why : "malformed");
    if (h.descr_structured)
        return fail(err, errlen, path, GRAPH_ERR_UNSUPPORTED,
                    "structured dtype is not supported (docrt reads '<f4' "
                    "float32 and '<i8' int64)");
    int dtype = 0;
    if (strcmp(h.descr, "<f4") == 0)
        dtype = GRAPH_DT_F32;
    else if (strcmp(h.descr, "<i8") == 0)
        dtype = GRAPH_DT_I64;
    else {
        char what[64];
        describe_descr(h.descr, what, sizeof what);
        return fail(err, errlen, path, GRAPH_ERR_UNSUPPORTED,
                    "dtype '%s' (%s) is not supported (docrt reads '<f4' "
                    "float32 and '<i8' int64)", h.descr, what);
    }
    if (h.fortran)
        return fail(err, errlen, path, GRAPH_ERR_UNSUPPORTED,
                    "fortran_order is True; save with C order "
                    "(numpy.ascontiguousarray)");
    if (h.nrank > GRAPH_MAX_RANK)
        return fail(err, errlen, path, GRAPH_ERR_UNSUPPORTED,
                    "rank %d is above the maximum of %d", h.nrank,
                    GRAPH_MAX_RANK);

    size_t isz = npy_itemsize(dtype);
    uint64_t avail = fsize - prefix - hlen;
    /* Element count, saturating: any product above the file size fails the
     * size check below, so overflow never reaches malloc. */
    uint64_t numel = 1;
    int big = 0;
    for (int i = 0; i < h.shape.rank; i++) {
        uint64_t d = (uint64_t)h.shape.dims[i];
        if (d == 0) {
            numel = 0;
            big = 0;
            break;
        }
        if (big || numel > UINT64_MAX / d)
            big = 1;
        else
            numel *= d;
    }
    char sbuf[256];
    npy_shape_str(&h.shape, sbuf, sizeof sbuf);
    if (big || numel > avail / isz)
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "data is shorter than the shape says: %s %s needs %s%"
                    PRIu64 " bytes, the file has %" PRIu64,
                    sbuf, h.descr, big ? "more than " : "",
                    big ? UINT64_MAX : numel * isz, avail);
    if (numel * isz != avail)
        return fail(err, errlen, path, GRAPH_ERR_PARSE,
                    "%" PRIu64 " bytes after the data: %s %s needs %" PRIu64
                    " bytes, the file has %" PRIu64,
                    avail - numel * isz, sbuf, h.descr, numel * isz, avail);
    size_t nbytes = (size_t)(numel * isz);
    void *data = malloc(nbytes ? nbytes : 1);
    if (!data)
        return fail(err, errlen, path, GRAPH_ERR_NOMEM,
                    "out of memory for %zu bytes", nbytes);
    if (nbytes)
        memcpy(data, pre + prefix + hlen, nbytes);
    out->dtype = dtype;
    out->shape = h.shape;
    out->data = data;
    return GRAPH_OK;
}

graph_status npy_read(const char *path, graph_host_tensor *out, char *err,
                      size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "no output tensor");
    memset(out, 0, sizeof *out);
    if (!path)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "no path");

    graph_status st = GRAPH_OK;
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, path, GRAPH_ERR_IO, "cannot open: %s",
                    strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        st = fail(err, errlen, path, GRAPH_ERR_IO, "cannot stat: %s",
                  strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = fail(err, errlen, path, GRAPH_ERR_IO, "not a regular file");
        goto done;
    }
    if (sb.st_size == 0) {
        st = fail(err, errlen, path, GRAPH_ERR_IO, "empty file");
        goto done;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX / 2) {
        st = fail(err, errlen, path, GRAPH_ERR_NOMEM, "tensor too large");
        goto done;
    }
    size_t len = (size_t)sb.st_size;
    buf = malloc(len);
    if (!buf) {
        st = fail(err, errlen, path, GRAPH_ERR_NOMEM,
                  "out of memory for %zu bytes", len);
        goto done;
    }
    if (fread(buf, 1, len, f) != len) {
        st = fail(err, errlen, path, GRAPH_ERR_IO, "read error: %s",
                  ferror(f) ? strerror(errno) : "file shrank while read");
        goto done;
    }
    st = npy_read_memory(buf, len, path, out, err, errlen);
done:
    free(buf);
    fclose(f);
    return st;
}

graph_status npy_write_data(const char *path, int dtype,
                            const graph_shape *shape, const void *data,
                            char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !shape)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "no path or shape");
    const char *descr = npy_descr(dtype);
    if (!descr)
        return fail(err, errlen, path, GRAPH_ERR_UNSUPPORTED,
                    "cannot write dtype %d to .npy", dtype);
    if (shape->rank < 0 || shape->rank > GRAPH_MAX_RANK)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "bad rank %d",
                    shape->rank);
    size_t isz = npy_itemsize(dtype);
    uint64_t numel = 1;
    for (int i = 0; i < shape->rank; i++) {
        int64_t d = shape->dims[i];
        if (d < 0)
            return fail(err, errlen, path, GRAPH_ERR_INVALID,
                        "dimension %d is %" PRId64, i, d);
        if (d && numel > SIZE_MAX / isz / (uint64_t)d)
            return fail(err, errlen, path, GRAPH_ERR_INVALID,
                        "tensor too large");
        numel *= (uint64_t)d;
    }
    size_t nbytes = (size_t)numel * isz;
    if (nbytes && !data)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "no data");

    /* Byte-identical to numpy.save: sorted keys, repr() of the shape, room
     * for the first axis to grow, spaces and '\n' to a 64-byte boundary. */
    char sbuf[256], hdr[512];
    npy_shape_str(shape, sbuf, sizeof sbuf);
    int n = snprintf(hdr, sizeof hdr,
                     "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr, sbuf);
    if (n < 0 || (size_t)n >= sizeof hdr - 128)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "header too long");
    size_t len = (size_t)n;
    if (shape->rank > 0) {
        char d0[32];
        int dl = snprintf(d0, sizeof d0, "%" PRId64, shape->dims[0]);
        for (int i = dl; i < NPY_GROWTH_AXIS_MAX_DIGITS; i++)
            hdr[len++] = ' ';
    }
    size_t pad = NPY_ALIGN - ((10 + len + 1) % NPY_ALIGN);
    memset(hdr + len, ' ', pad);
    len += pad;
    hdr[len++] = '\n';

    unsigned char pre[10];
    memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(len & 0xff);
    pre[9] = (unsigned char)(len >> 8);

    FILE *f = fopen(path, "wb");
    if (!f)
        return fail(err, errlen, path, GRAPH_ERR_IO, "cannot create: %s",
                    strerror(errno));
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
             fwrite(hdr, 1, len, f) == len &&
             (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(path);
        return fail(err, errlen, path, GRAPH_ERR_IO, "write error: %s",
                    strerror(saved));
    }
    return GRAPH_OK;
}

graph_status npy_write(const char *path, const graph_host_tensor *t,
                       char *err, size_t errlen)
{
    if (!t)
        return fail(err, errlen, path, GRAPH_ERR_INVALID, "no tensor");
    return npy_write_data(path, t->dtype, &t->shape, t->data, err, errlen);
}
