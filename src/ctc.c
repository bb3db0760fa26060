/* ctc.c - vocabulary loading and CTC greedy decoding (see ctc.h).
 *
 * The vocabulary keeps every key in one allocation: the file's bytes with
 * line ends turned into NULs, plus "" for the blank and " " for the added
 * space, so loading a 6623-line file costs two mallocs. */
#include "ctc.h"
#include "errmsg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CTC_MAX_FILE (64u << 20)

static docrt_status fail(char *err, size_t errlen, const char *path,
                         docrt_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static docrt_status fail(char *err, size_t errlen, const char *path,
                         docrt_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(err, errlen, path, fmt, ap);
    va_end(ap);
    return st;
}

/* Reads the whole file into storage laid out as "\0" (blank) + file bytes
 * + "\0" + " \0" (space). *len is the file's size. */
static docrt_status slurp(const char *path, char **storage, size_t *len,
                          char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, path, DOCRT_ERR_IO, "cannot open: %s",
                    strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b) {
        fclose(f);
        return fail(err, errlen, path, DOCRT_ERR_NOMEM, "out of memory");
    }
    for (;;) {
        if (cap - n < 4 + 1) { /* room for the tail and one byte */
            size_t ncap = cap * 2 < CTC_MAX_FILE + 5 ? cap * 2
                                                     : CTC_MAX_FILE + 5;
            if (ncap <= cap) {
                free(b);
                fclose(f);
                return fail(err, errlen, path, DOCRT_ERR_FORMAT,
                            "keys file over %u bytes", CTC_MAX_FILE);
            }
            char *nb = realloc(b, ncap);
            if (!nb) {
                free(b);
                fclose(f);
                return fail(err, errlen, path, DOCRT_ERR_NOMEM,
                            "out of memory");
            }
            b = nb;
            cap = ncap;
        }
        size_t want = cap - n - 4;
        size_t got = fread(b + 1 + n, 1, want, f);
        n += got;
        if (got < want) {
            if (ferror(f)) {
                free(b);
                fclose(f);
                return fail(err, errlen, path, DOCRT_ERR_IO, "read error");
            }
            break;
        }
    }
    fclose(f);
    b[0] = '\0';
    b[1 + n] = '\0';
    b[2 + n] = ' ';
    b[3 + n] = '\0';
    *storage = b;
    *len = n;
    return DOCRT_OK;
}

docrt_status ctc_vocab_load(const char *path, int blank_first, int add_space,
                            ctc_vocab *out, char *err, size_t errlen)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return fail(err, errlen, path, DOCRT_ERR_ARG, "invalid argument");
    char *s = NULL;
    size_t len = 0;
    docrt_status st = slurp(path, &s, &len, err, errlen);
    if (st != DOCRT_OK)
        return st;
    if (!s)
        return fail(err, errlen, path, DOCRT_ERR_NOMEM, "out of memory");
    char *text = s + 1, *end = text + len;
    if (memchr(text, '\0', len)) {
        free(s);
        return fail(err, errlen, path, DOCRT_ERR_FORMAT,
                    "NUL byte in keys file");
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3;
    /* Lines: a final '\n' does not start another line. */
    size_t n_keys = 0;
    for (char *p = text; p < end; n_keys++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    if (n_keys == 0) {
        free(s);
        return fail(err, errlen, path, DOCRT_ERR_FORMAT, "no keys");
    }
    size_t n_classes = n_keys + 1 + (add_space ? 1 : 0);
    if (n_classes > (size_t)(1 << 24)) {
        free(s);
        return fail(err, errlen, path, DOCRT_ERR_FORMAT, "too many keys");
    }
    char **keys = malloc(n_classes * sizeof *keys);
    if (!keys) {
        free(s);
        return fail(err, errlen, path, DOCRT_ERR_NOMEM, "out of memory");
    }
    int first_key = blank_first ? 1 : 0;
    int blank = blank_first ? 0 : (int)n_classes - 1;
    int space = -1;
    size_t c = (size_t)first_key;
    for (char *p = text; p < end; c++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        while (e > p && e[-1] == '\r')
            e--;
        *e = '\0';
        keys[c] = p;
        if (space < 0 && strcmp(p, " ") == 0)
            space = (int)c;
        p = nl ? nl + 1 : end;
    }
    keys[blank] = s;
    if (add_space) {
        keys[c] = end + 1;
        if (space < 0)
            space = (int)c;
    }
    out->keys = keys;
    out->n_classes = (int)n_classes;
    out->blank = blank;
    out->space = space;
    out->storage = s;
    return DOCRT_OK;
}

void ctc_vocab_free(ctc_vocab *v)
{
    if (!v)
        return;
    free(v->keys);
    free(v->storage);
    memset(v, 0, sizeof *v);
}

int ctc_greedy_decode(const float *probs, int T, int C, int blank,
                      ctc_char *out, int max_chars)
{
    if (T < 0 || C <= 0 || blank < 0 || blank >= C || max_chars < 0 ||
        (T > 0 && !probs) || (max_chars > 0 && !out))
        return -1;
    int n = 0, prev = -1;
    for (int t = 0; t < T; t++) {
        const float *row = probs + (size_t)t * (size_t)C;
        int best = 0;
        float bv = row[0];
        for (int c = 1; c < C; c++) {
            /* !(bv >= bv) is true only for NaN: a NaN first value yields. */
            if (row[c] > bv || (!(bv >= bv) && row[c] == row[c])) {
                bv = row[c];
                best = c;
            }
        }
        float conf = isfinite(bv) ? bv : 0.f;
        if (best != prev) {
            if (best != blank) {
                if (n < max_chars) {
                    out[n].cls = best;
                    out[n].conf = conf;
                    out[n].t0 = out[n].t1 = t;
                }
                n++;
            }
        } else if (best != blank && n - 1 < max_chars) {
            out[n - 1].t1 = t;
            if (conf > out[n - 1].conf)
                out[n - 1].conf = conf;
        }
        prev = best;
    }
    return n;
}
