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

/* Quotation marks: each with its other form (single <-> double). */
static const struct { const char *mark, *alt; int dbl; } QUOTES[] = {
    {"'", "\"", 0},       {"\"", "'", 1},
    {"\u2018", "\u201c", 0}, {"\u201c", "\u2018", 1},   /* ‘ “ */
    {"\u2019", "\u201d", 0}, {"\u201d", "\u2019", 1},   /* ’ ” */
    {"\u2032", "\u2033", 0}, {"\u2033", "\u2032", 1},   /* ′ ″ */
    {"`", "\"", 0},       {"\u00b4", "\"", 0},           /* ` ´ */
};

static int find_key(const ctc_vocab *v, const char *k)
{
    for (int c = 0; c < v->n_classes; c++)
        if (c != v->blank && !strcmp(v->keys[c], k)) return c;
    return -1;
}

static void find_quotes(ctc_vocab *v)
{
    v->n_quote = 0;
    for (size_t i = 0; i < sizeof QUOTES / sizeof *QUOTES; i++) {
        int c = find_key(v, QUOTES[i].mark);
        if (c < 0 || v->n_quote == CTC_MAX_QUOTE) continue;
        v->quote[v->n_quote] = c;
        v->quote_alt[v->n_quote] = find_key(v, QUOTES[i].alt);
        v->quote_double[v->n_quote] = (unsigned char)QUOTES[i].dbl;
        v->n_quote++;
    }
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
    find_quotes(out);
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
    return ctc_greedy_decode_grouped(probs, T, C, blank, NULL, 0, out,
                                     max_chars);
}

int ctc_greedy_decode_grouped(const float *probs, int T, int C, int blank,
                              const int *group, int n_group, ctc_char *out,
                              int max_chars)
{
    if (T < 0 || C <= 0 || blank < 0 || blank >= C || max_chars < 0 ||
        (T > 0 && !probs) || (max_chars > 0 && !out) || n_group < 0 ||
        n_group > CTC_MAX_QUOTE || (n_group > 0 && !group))
        return -1;
    for (int g = 0; g < n_group; g++)
        if (group[g] < 0 || group[g] >= C || group[g] == blank)
            return -1;
    int n = 0, prev = -1; /* prev: a class, or C for "a group member" */
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
        int key = best;
        if (n_group > 0) {
            float mass = 0, gv = -1;
            int gbest = -1;
            for (int g = 0; g < n_group; g++) {
                float v = row[group[g]];
                if (!(v == v)) continue;
                mass += v;
                if (v > gv) { gv = v; gbest = group[g]; }
            }
            int in_group = 0;
            for (int g = 0; g < n_group; g++)
                if (group[g] == best) in_group = 1;
            if (gbest >= 0 && (in_group || mass > bv)) {
                best = gbest;
                bv = mass;
                key = C;
            }
        }
        float conf = isfinite(bv) ? bv : 0.f;
        if (conf > 1.f) conf = 1.f;
        if (key != prev) {
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
            if (conf > out[n - 1].conf) {
                out[n - 1].conf = conf;
                out[n - 1].cls = best;
            }
        }
        prev = key;
    }
    return n;
}

int ctc_quote_index(const ctc_vocab *v, int c)
{
    for (int i = 0; v && i < v->n_quote; i++)
        if (v->quote[i] == c) return i;
    return -1;
}
