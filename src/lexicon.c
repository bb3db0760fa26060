/* lexicon.c - word list (an open-addressing hash set of lower-case ASCII
 * words) and look-alike correction. */
#include "lexicon.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexicon {
    char *words;      /* NUL-separated, lower case */
    uint32_t *slot;   /* offset + 1 into words, 0 = empty */
    unsigned char *common; /* per slot: 1 if the list has the word in lower
                            * case, 0 if only capitalised (a proper name) */
    size_t mask, n;
};

/* Look-alike substitutions, as a scan misreads print, in two tiers. Tier
 * 1: a letter broken into two (h -> li, m -> rn, d -> cl, u -> ii, w -> vv),
 * the commonest misreadings of worn type; tier 2: closed or open bowls
 * (e <-> c), m -> rn, v -> y, h -> lh, t -> tl, u <-> n. A word is
 * corrected by the first tier that reaches a word of the list, and only
 * when that tier reaches exactly one ("tlie": tier 1 gives "the", tier 2
 * would also give "tie"). Measured on the dev set with the system word
 * list: looser pairs (f/t, h/b, a/e, o/e, l/i) and two substitutions in one
 * word turned as many right words wrong (fragments of hyphenated words,
 * names) as wrong words right. */
static const struct { const char *from, *to; int tier; } SUBS[] = {
    {"li", "h", 1}, {"rn", "m", 1}, {"cl", "d", 1}, {"ii", "u", 1},
    {"vv", "w", 1},
    {"c", "e", 2}, {"e", "c", 2}, {"m", "rn", 2}, {"y", "v", 2},
    {"lh", "h", 2}, {"tl", "t", 2}, {"u", "n", 2}, {"n", "u", 2},
};
#define N_SUBS (sizeof SUBS / sizeof *SUBS)
#define MAX_WORD 48

static uint64_t hash(const char *w, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211ull;
    }
    return h;
}

static int same(const char *a, const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        if ((unsigned char)a[i] != c) return 0;
    }
    return a[n] == 0;
}

/* the slot holding w, or -1 */
static long find(const lexicon *lx, const char *w, size_t n)
{
    if (!lx || n == 0) return -1;
    for (size_t i = hash(w, n) & lx->mask;; i = (i + 1) & lx->mask) {
        uint32_t s = lx->slot[i];
        if (!s) return -1;
        if (same(lx->words + s - 1, w, n)) return (long)i;
    }
}

int lexicon_has(const lexicon *lx, const char *w, size_t n)
{
    long i = find(lx, w, n);
    return i < 0 ? 0 : lx->common[i] ? 2 : 1;
}

size_t lexicon_size(const lexicon *lx) { return lx ? lx->n : 0; }

void lexicon_free(lexicon *lx)
{
    if (!lx) return;
    free(lx->words);
    free(lx->slot);
    free(lx->common);
    free(lx);
}

docrt_status lexicon_load(const char *path, lexicon **out, char *err,
                          size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the word list", path);
        return DOCRT_ERR_IO;
    }
    lexicon *lx = calloc(1, sizeof *lx);
    size_t cap = 1 << 20, len = 0, nw = 0;
    char *words = malloc(cap);
    char line[256];
    docrt_status st = DOCRT_OK;
    if (!lx || !words) { st = DOCRT_ERR_NOMEM; goto fail; }
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n"), k = 0;
        if (n == 0 || n >= MAX_WORD || line[n] == 0) continue; /* empty, long */
        int lower = line[0] >= 'a' && line[0] <= 'z';
        for (; k < n; k++) {
            char c = line[k];
            if (c >= 'A' && c <= 'Z') line[k] = (char)(c - 'A' + 'a');
            else if (c < 'a' || c > 'z') break;
        }
        if (k < n) continue; /* not letters only (possessives, accents) */
        if (len + n + 2 > cap) {
            if (cap > ((size_t)1 << 30)) { st = DOCRT_ERR_FORMAT; goto fail; }
            char *nwds = realloc(words, cap * 2);
            if (!nwds) { st = DOCRT_ERR_NOMEM; goto fail; }
            words = nwds;
            cap *= 2;
        }
        /* the word, then a byte: '1' lower case in the list, '0' not */
        memcpy(words + len, line, n);
        words[len + n] = 0;
        words[len + n + 1] = (char)(lower ? '1' : '0');
        len += n + 2;
        nw++;
    }
    if (ferror(f)) { st = DOCRT_ERR_IO; goto fail; }
    if (nw == 0) { st = DOCRT_ERR_FORMAT; goto fail; }
    size_t ns = 1;
    while (ns < nw * 2) ns <<= 1;
    lx->slot = calloc(ns, sizeof *lx->slot);
    lx->common = calloc(ns, 1);
    if (!lx->slot || !lx->common) { st = DOCRT_ERR_NOMEM; goto fail; }
    lx->mask = ns - 1;
    lx->words = words;
    for (size_t off = 0; off < len;) {
        size_t n = strlen(words + off);
        int lower = words[off + n + 1] == '1';
        long at = find(lx, words + off, n);
        if (at < 0) {
            size_t i = hash(words + off, n) & lx->mask;
            while (lx->slot[i]) i = (i + 1) & lx->mask;
            lx->slot[i] = (uint32_t)(off + 1);
            at = (long)i;
            lx->n++;
        }
        if (lower) lx->common[at] = 1;
        off += n + 2;
    }
    fclose(f);
    *out = lx;
    return DOCRT_OK;
fail:
    fclose(f);
    snprintf(err, errlen, "%s: %s", path,
             st == DOCRT_ERR_NOMEM ? "out of memory"
             : st == DOCRT_ERR_IO ? "read error"
             : "no words of ASCII letters (or over 1 GiB)");
    free(words);
    if (lx) lx->words = NULL;
    lexicon_free(lx);
    return st;
}

/* Words of the list one substitution of the tier away from w (n letters,
 * lower case; proper names only when cap is set): found[] gets up to max of
 * them (distinct); returns how many, or max + 1 when there are more. */
static int one_step(const lexicon *lx, const char *w, size_t n, int cap,
                    int tier, char found[][MAX_WORD], int max)
{
    int k = 0;
    char buf[MAX_WORD];
    for (size_t s = 0; s < N_SUBS; s++) {
        if (SUBS[s].tier != tier) continue;
        size_t fl = strlen(SUBS[s].from), tl = strlen(SUBS[s].to);
        for (size_t i = 0; i + fl <= n; i++) {
            if (memcmp(w + i, SUBS[s].from, fl)) continue;
            size_t m = n - fl + tl;
            if (m >= MAX_WORD || m < 1) continue;
            memcpy(buf, w, i);
            memcpy(buf + i, SUBS[s].to, tl);
            memcpy(buf + i + tl, w + i + fl, n - i - fl);
            buf[m] = 0;
            int h = lexicon_has(lx, buf, m);
            if (h == 0 || (h == 1 && !cap)) continue;
            int dup = 0;
            for (int q = 0; q < k; q++) dup |= !strcmp(found[q], buf);
            if (dup) continue;
            if (k == max) return max + 1;
            memcpy(found[k++], buf, m + 1);
        }
    }
    return k;
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int lexicon_correct(const lexicon *lx, const char *word, char *out, size_t cap)
{
    if (!lx || !word) return 0;
    size_t L = strlen(word), a = 0, b = L;
    while (a < L && !is_alpha((unsigned char)word[a])) a++;
    while (b > a && !is_alpha((unsigned char)word[b - 1])) b--;
    size_t n = b - a;
    if (n < 4 || n >= MAX_WORD - 2) return 0;
    for (size_t i = b; i < L; i++)
        if (word[i] == '-') return 0; /* cut at the line end */
    char w[MAX_WORD];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)word[a + i];
        if (!is_alpha(c) || (i > 0 && c >= 'A' && c <= 'Z')) return 0;
        w[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    w[n] = 0;
    if (lexicon_has(lx, w, n)) return 0;
    char found[2][MAX_WORD];
    int capital = word[a] >= 'A' && word[a] <= 'Z';
    int k = one_step(lx, w, n, capital, 1, found, 1);
    if (k == 0) k = one_step(lx, w, n, capital, 2, found, 1);
    if (k != 1) return 0;
    size_t m = strlen(found[0]);
    if (a + m + (L - b) + 1 > cap) return 0;
    memcpy(out, word, a);
    memcpy(out + a, found[0], m);
    if (word[a] >= 'A' && word[a] <= 'Z') out[a] = (char)(out[a] - 'a' + 'A');
    memcpy(out + a + m, word + b, L - b);
    out[a + m + L - b] = 0;
    return 1;
}
