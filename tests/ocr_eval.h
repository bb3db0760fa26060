/* ocr_eval.h - helpers shared by test_ocr_pages.c and test_ocr_bad_input.c:
 * CER over Unicode code points, approximate phrase search, running the docrt
 * executable, and generating the synthetic pages (tests/pages/make_pages.py).
 * Header-only (static inline), so each test stays one translation unit. */
#ifndef DOCRT_TESTS_OCR_EVAL_H
#define DOCRT_TESTS_OCR_EVAL_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* ---- CER bounds of the synthetic pages ---- */

/* Clean pages, printed at 11-12 pt, 300 dpi: Tesseract 5.3 reads them at
 * 0-0.3% CER. */
#define CER_CLEAN 0.01
/* The same kind of page fed sideways (turned 90 degrees clockwise). */
#define CER_ROTATED 0.02
/* A table row is found on one output line at no more than this CER. */
#define CER_ROW 0.10
/* Exported words (JSON / hOCR / ALTO) against the GT. */
#define CER_EXPORT 0.02

/* ---- text ---- */

typedef struct {
    uint32_t *cp;
    size_t n;
} u32str;

/* Invalid UTF-8 becomes U+FFFD, one per bad byte, so it costs an edit. */
static inline u32str u32_from_utf8(const char *s, size_t len)
{
    u32str u = {malloc((len + 1) * sizeof(uint32_t)), 0};
    ck_assert_ptr_nonnull(u.cp);
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        uint32_t c = *p;
        int more = c < 0x80 ? 0 : c >= 0xF0 && c < 0xF5 ? 3
                 : c >= 0xE0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : -1;
        if (more > 0 && end - p > more) {
            uint32_t v = c & (0x3F >> more);
            int ok = 1;
            for (int k = 1; k <= more; k++) {
                if ((p[k] & 0xC0) != 0x80)
                    ok = 0;
                v = (v << 6) | (p[k] & 0x3F);
            }
            if (ok) {
                u.cp[u.n++] = v;
                p += more + 1;
                continue;
            }
        }
        u.cp[u.n++] = more == 0 ? c : 0xFFFD;
        p++;
    }
    return u;
}

static inline void u32_free(u32str *u)
{
    free(u->cp);
    u->cp = NULL;
    u->n = 0;
}

static inline int ocr_is_space(uint32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x3000 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0xFEFF;
}

/* Typographic quotes to ASCII (the pages print straight quotes; an engine
 * may "improve" them), and full-width ASCII forms to ASCII and dashes to '-',
 * as the dev set's scorer does through NFKC and its dash folding: the
 * recognizer's dictionary holds both （ and (, and the difference is not a
 * misreading. */
static inline uint32_t ocr_fold(uint32_t c)
{
    switch (c) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032:
    case 0x00B4: case '`':
        return '\'';
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x2033:
    case 0x00AB: case 0x00BB:
        return '"';
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
    case 0x2015: case 0x2212:
        return '-';
    default:
        break;
    }
    if (c >= 0xFF01 && c <= 0xFF5E)
        return c - 0xFEE0;
    return c;
}

/* In place: fold, collapse every whitespace run (newlines and form feeds
 * too) to one space, trim. */
static inline void ocr_normalise(u32str *u)
{
    size_t o = 0;
    int pending_space = 0;
    for (size_t i = 0; i < u->n; i++) {
        uint32_t c = u->cp[i];
        if (ocr_is_space(c)) {
            pending_space = o > 0;
            continue;
        }
        if (pending_space)
            u->cp[o++] = ' ';
        pending_space = 0;
        u->cp[o++] = ocr_fold(c);
    }
    u->n = o;
}

static inline u32str ocr_norm_utf8(const char *s, size_t len)
{
    u32str u = u32_from_utf8(s, len);
    ocr_normalise(&u);
    return u;
}

static inline size_t levenshtein(const uint32_t *a, size_t na,
                                 const uint32_t *b, size_t nb)
{
    size_t *row = malloc((nb + 1) * sizeof *row);
    ck_assert_ptr_nonnull(row);
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[nb];
    free(row);
    return d;
}

typedef struct {
    size_t edits, gt_len;
    double cer;
    char where[400]; /* the first difference, for failure messages */
} ocr_score;

static inline void u32_put_utf8(char *buf, size_t cap, const uint32_t *cp,
                                size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        uint32_t c = cp[i];
        if (c < 0x80) {
            buf[o++] = (char)c;
        } else if (c < 0x800) {
            buf[o++] = (char)(0xC0 | (c >> 6));
            buf[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            buf[o++] = (char)(0xE0 | (c >> 12));
            buf[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            buf[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            buf[o++] = (char)(0xF0 | (c >> 18));
            buf[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            buf[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            buf[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    buf[o] = '\0';
}

/* CER of hyp against gt, both normalised; an empty GT scores 0 for an
 * empty hypothesis and 1 otherwise. */
static inline ocr_score ocr_cer_u32(const u32str *g, const u32str *h)
{
    ocr_score s = {0, g->n, 0.0, ""};
    s.edits = levenshtein(g->cp, g->n, h->cp, h->n);
    s.cer = g->n ? (double)s.edits / (double)g->n : (h->n ? 1.0 : 0.0);
    size_t i = 0;
    while (i < g->n && i < h->n && g->cp[i] == h->cp[i])
        i++;
    if (i < g->n || i < h->n) {
        size_t from = i > 30 ? i - 30 : 0;
        char a[160], b[160];
        size_t ga = g->n > from ? g->n - from : 0, ha = h->n > from ? h->n - from : 0;
        u32_put_utf8(a, sizeof a, g->cp + (from < g->n ? from : g->n), ga < 70 ? ga : 70);
        u32_put_utf8(b, sizeof b, h->cp + (from < h->n ? from : h->n), ha < 70 ? ha : 70);
        snprintf(s.where, sizeof s.where,
                 "first difference at char %zu:\n  gt:  ...%s\n  out: ...%s", i,
                 a, b);
    }
    return s;
}

static inline ocr_score ocr_cer(const char *gt, size_t gt_len, const char *hyp,
                                size_t hyp_len)
{
    u32str g = ocr_norm_utf8(gt, gt_len), h = ocr_norm_utf8(hyp, hyp_len);
    ocr_score s = ocr_cer_u32(&g, &h);
    u32_free(&g);
    u32_free(&h);
    return s;
}

/* Where pat best matches a substring of txt (Sellers' semi-global edit
 * distance): returns the distance, *start and *end (exclusive) in txt. */
static inline size_t approx_find(const u32str *pat, const u32str *txt,
                                 size_t *start, size_t *end)
{
    size_t np = pat->n;
    size_t *d = malloc((np + 1) * sizeof *d), *s = malloc((np + 1) * sizeof *s);
    ck_assert(d && s);
    for (size_t i = 0; i <= np; i++) {
        d[i] = i;
        s[i] = 0;
    }
    size_t best = d[np], bs = 0, be = 0;
    for (size_t j = 1; j <= txt->n; j++) {
        size_t dprev = d[0], sprev = s[0]; /* column j-1, row i-1 */
        d[0] = 0;
        s[0] = j;
        for (size_t i = 1; i <= np; i++) {
            size_t dd = d[i], ss = s[i]; /* column j-1, row i */
            size_t v = dprev + (pat->cp[i - 1] != txt->cp[j - 1]), vs = sprev;
            if (dd + 1 < v) {
                v = dd + 1;
                vs = ss;
            }
            if (d[i - 1] + 1 < v) {
                v = d[i - 1] + 1;
                vs = s[i - 1];
            }
            dprev = dd;
            sprev = ss;
            d[i] = v;
            s[i] = vs;
        }
        if (d[np] < best) {
            best = d[np];
            bs = s[np];
            be = j;
        }
    }
    free(d);
    free(s);
    *start = bs;
    *end = be;
    return best;
}

/* ---- files ---- */

/* The whole file, NUL-terminated (*len without the NUL); NULL if it cannot
 * be read. */
static inline char *slurp(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static inline int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static inline void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    ck_assert_msg(fwrite(data, 1, n, f) == n, "cannot write %s", path);
    ck_assert_int_eq(fclose(f), 0);
}

static inline void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static inline void mkdir_p(const char *dir)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    ck_assert_msg(system(cmd) == 0, "cannot create %s", dir);
}

/* ---- environment ---- */

static inline const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static inline const char *docrt_exe(void)
{
    const char *exe = getenv("DOCRT_EXE");
    ck_assert_msg(exe && *exe, "DOCRT_EXE is not set (run through ctest)");
    return exe;
}

/* $DOCRT_SOURCE_DIR/weights, or NULL (and a note on stderr) when the
 * detector or recognizer is missing: weights/fetch.sh has not been run. */
static inline const char *model_dir(const char *test)
{
    static char dir[PATH_MAX];
    static const char *files[] = {"ch_PP-OCRv4_det_infer.onnx",
                                  "ch_PP-OCRv4_rec_infer.onnx"};
    snprintf(dir, sizeof dir, "%s/weights", env_or("DOCRT_SOURCE_DIR", "."));
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (access(p, R_OK) != 0) {
            fprintf(stderr, "%s: %s missing (weights/fetch.sh); skipped\n",
                    test, p);
            return NULL;
        }
    }
    return dir;
}

/* $DOCRT_BINARY_DIR/pages, generated when absent or older than the
 * generator (the ctest fixture ocr_pages_gen makes it first). */
static inline const char *pages_dir(void)
{
    static char dir[PATH_MAX];
    char script[PATH_MAX], manifest[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/pages", env_or("DOCRT_BINARY_DIR", "."));
    snprintf(script, sizeof script, "%s/tests/pages/make_pages.py",
             env_or("DOCRT_SOURCE_DIR", "."));
    snprintf(manifest, sizeof manifest, "%s/MANIFEST.tsv", dir);
    struct stat ss, sm;
    if (stat(manifest, &sm) == 0 &&
        (stat(script, &ss) != 0 || ss.st_mtime <= sm.st_mtime))
        return dir;
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'",
             env_or("DOCRT_PYTHON", "/usr/bin/python3"), script, dir);
    int st = system(cmd);
    if (st != 0 || !file_exists(manifest)) {
        fprintf(stderr, "cannot generate the test pages: %s (status %d)\n",
                cmd, st);
        return NULL;
    }
    return dir;
}

/* ---- running docrt ---- */

/* Runs argv (argv[0] is the executable) in cwd, stdin from in_path (or
 * /dev/null), stdout and stderr into files. Returns the raw wait status. */
static inline int run_argv(char *const argv[], const char *cwd,
                           const char *in_path, const char *out_path,
                           const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0 || (cwd && chdir(cwd) != 0))
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        close(in);
        close(out);
        close(err);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ck_assert_msg(errno == EINTR, "waitpid: %s", strerror(errno));
    return st;
}

static inline void describe_status(int st, char *buf, size_t n)
{
    if (WIFEXITED(st))
        snprintf(buf, n, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
    else
        snprintf(buf, n, "wait status %#x", (unsigned)st);
}

/* Sanitizer reports say a test "passed" only by exit status; fail on them. */
static inline void assert_no_sanitizer_report(const char *err)
{
    ck_assert_msg(!strstr(err, "Sanitizer") && !strstr(err, "runtime error:"),
                  "sanitizer report on stderr:\n%s", err);
}

#endif
