/* test_archive.c - `docrt ocr DIR -o OUTDIR` over a tree of 200 small pages
 * (PNG pages and 10-page TIFFs in nested folders) and three corrupt files:
 * the mirrored outputs hold every page's text, errors.jsonl lists exactly
 * the bad files, the journal has each page once; kill -9 at random moments
 * and the same command again end with the bytes of an uninterrupted run;
 * three shards into one OUTDIR give the unsharded outputs; an OUTDIR that
 * cannot be created is exit 2; an OUTDIR on a full disk (a small tmpfs)
 * leaves no partial output, and the same command once there is room
 * finishes the run; a missing root or manifest entry is in errors.jsonl
 * until it turns up. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "ocr_eval.h"

#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>

enum { N_BOX = 4, N_PNG = 10, N_TIF = 4, TIF_PAGES = 10 };

static const char *weights;
static char dir[1024]; /* $DOCRT_BINARY_DIR/test_archive */
static char in_dir[1040];

static const char *dpath(const char *name)
{
    static char buf[4][PATH_MAX + 256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* The text on page pg (1-based) of a good input, and its rel. */
static void page_text(int box, int kind, int file, int pg, char *t, size_t n)
{
    static const char *const words[] = {"Ledger", "Invoice", "Receipt",
                                        "Letter", "Deed", "Census"};
    snprintf(t, n, "%s %d%d%d%d box %d", words[(file + pg) % 6], box, kind,
             file, pg, box);
}

static void rel_of(int box, int kind, int file, char *r, size_t n)
{
    if (kind == 0)
        snprintf(r, n, "box%d/page%02d", box, file);
    else
        snprintf(r, n, "box%d/reel/film%02d", box, file);
}

static void make_inputs(void)
{
    char marker[PATH_MAX + 16];
    snprintf(marker, sizeof marker, "%s/.made", in_dir);
    if (file_exists(marker))
        return;
    rm_rf(in_dir);
    char *cmd = malloc(1 << 16);
    ck_assert_ptr_nonnull(cmd);
    const char *font = "-font DejaVu-Sans -pointsize 28";
    for (int b = 0; b < N_BOX; b++) {
        char sub[1100], t[128], r[64];
        snprintf(sub, sizeof sub, "%s/box%d/reel", in_dir, b);
        mkdir_p(sub);
        for (int f = 0; f < N_PNG; f++) {
            page_text(b, 0, f, 1, t, sizeof t);
            rel_of(b, 0, f, r, sizeof r);
            snprintf(cmd, 1 << 16,
                     "convert -size 800x160 xc:white %s -annotate +20+60 '%s' "
                     "'%s/%s.png'", font, t, in_dir, r);
            ck_assert_msg(system(cmd) == 0, "%s", cmd);
        }
        for (int f = 0; f < N_TIF; f++) {
            int k = snprintf(cmd, 1 << 16, "convert %s", font);
            for (int p = 1; p <= TIF_PAGES; p++) {
                page_text(b, 1, f, p, t, sizeof t);
                k += snprintf(cmd + k, (1 << 16) - (size_t)k,
                              " \\( -size 800x160 xc:white -annotate +20+60 "
                              "'%s' \\)", t);
            }
            rel_of(b, 1, f, r, sizeof r);
            snprintf(cmd + k, (1 << 16) - (size_t)k,
                     " -compress lzw '%s/%s.tif'", in_dir, r);
            ck_assert_msg(system(cmd) == 0, "%s", cmd);
        }
    }
    /* Three corrupt files: a TIFF cut in half, a PNG with a bad IDAT CRC,
     * an empty file. */
    size_t n = 0;
    char src[PATH_MAX + 64];
    snprintf(src, sizeof src, "%s/box0/reel/film00.tif", in_dir);
    char *tif = slurp(src, &n);
    ck_assert_ptr_nonnull(tif);
    write_bytes(dpath("in/box1/reel/cut.tif"), tif, n / 2);
    free(tif);
    snprintf(src, sizeof src, "%s/box0/page00.png", in_dir);
    char *png = slurp(src, &n);
    ck_assert_ptr_nonnull(png);
    ck_assert(n > 40);
    png[30] ^= 0x55; /* inside IHDR's CRC (8 + 4 + 4 + 13 = 29) */
    write_bytes(dpath("in/box2/badcrc.png"), png, n);
    free(png);
    write_bytes(dpath("in/box3/empty.tif"), "", 0);
    write_bytes(marker, "", 0);
    free(cmd);
}

static const char *const bad_rel[] = {"box1/reel/cut.tif", "box2/badcrc.png",
                                      "box3/empty.tif"};

static int log_json; /* --log-json instead of -q */

/* argv for `docrt ocr IN -o OUT --jobs 2 ...`; extra may be NULL. */
static void ocr_argv(char **argv, const char *out, const char *extra)
{
    int a = 0;
    argv[a++] = (char *)docrt_exe();
    argv[a++] = "ocr";
    argv[a++] = in_dir;
    argv[a++] = "-o";
    argv[a++] = (char *)out;
    argv[a++] = "--jobs";
    argv[a++] = "2";
    argv[a++] = "-f";
    argv[a++] = "txt,json";
    argv[a++] = "-m";
    argv[a++] = (char *)weights;
    argv[a++] = log_json ? "--log-json" : "-q";
    if (extra) {
        argv[a++] = "--shard";
        argv[a++] = (char *)extra;
    }
    argv[a] = NULL;
}

static int run_ocr(const char *out, const char *shard, char **err)
{
    char *argv[20];
    ocr_argv(argv, out, shard);
    char ep[PATH_MAX + 64];
    snprintf(ep, sizeof ep, "%s.stderr", out);
    int st = run_argv(argv, NULL, NULL, "/dev/null", ep);
    *err = slurp(ep, NULL);
    if (!*err)
        *err = strdup("");
    assert_no_sanitizer_report(*err);
    return st;
}

/* Each (rel, page >= 1) line of the journal: asserts none twice and
 * returns how many pages of the good files it holds. */
static int journal_pages_once(const char *out)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/.docrt/journal", out);
    char *j = slurp(p, NULL);
    ck_assert_msg(j != NULL, "no journal %s", p);
    json_t *seen = json_object();
    int good = 0;
    for (char *l = j; *l;) {
        char *e = strchr(l, '\n');
        ck_assert_msg(e != NULL, "journal's last line is not whole");
        *e = '\0';
        json_t *o = json_loads(l, 0, NULL);
        ck_assert_msg(o != NULL, "journal line is not JSON: %s", l);
        json_t *pg = json_object_get(o, "page");
        if (json_is_integer(pg) && json_integer_value(pg) > 0) {
            char key[512];
            snprintf(key, sizeof key, "%s#%lld",
                     json_string_value(json_object_get(o, "rel")),
                     (long long)json_integer_value(pg));
            ck_assert_msg(!json_object_get(seen, key),
                          "page %s twice in the journal", key);
            json_object_set_new(seen, key, json_true());
            const char *rel = json_string_value(json_object_get(o, "rel"));
            int bad = 0;
            for (int i = 0; i < 3; i++)
                if (!strncmp(rel, bad_rel[i], strlen(rel)))
                    bad = 1;
            if (!bad)
                good++;
        }
        json_decref(o);
        l = e + 1;
    }
    json_decref(seen);
    free(j);
    return good;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char ref_out[1040];
static int ref_status = -1;
static char *ref_err;

static void reference_run(void)
{
    if (ref_status != -1)
        return;
    double tg = now_ms();
    make_inputs();
    fprintf(stderr, "test_archive: inputs %.1f s\n", (now_ms() - tg) / 1e3);
    snprintf(ref_out, sizeof ref_out, "%s/out_ref", dir);
    rm_rf(ref_out);
    double t0 = now_ms();
    log_json = 1;
    ref_status = run_ocr(ref_out, NULL, &ref_err);
    log_json = 0;
    fprintf(stderr, "test_archive: uninterrupted run %.1f s\n",
            (now_ms() - t0) / 1e3);
}

/* ---- tree comparison (the .docrt folder left out) ---- */

static const char *cmp_a, *cmp_b;
static char cmp_fail[PATH_MAX * 2 + 64];
static int n_compared;

static int cmp_visit(const char *p, const struct stat *sb, int flag,
                     struct FTW *f)
{
    (void)sb;
    (void)f;
    if (strstr(p, "/.docrt"))
        return 0;
    if (flag != FTW_F)
        return 0;
    const char *rel = p + strlen(cmp_a);
    char q[PATH_MAX * 2];
    snprintf(q, sizeof q, "%s%s", cmp_b, rel);
    size_t na = 0, nb = 0;
    char *a = slurp(p, &na), *b = slurp(q, &nb);
    if (!b || na != nb || memcmp(a, b, na) != 0) {
        snprintf(cmp_fail, sizeof cmp_fail, "%s differs from %s%s", q, p,
                 b ? "" : " (missing)");
        free(a);
        free(b);
        return 1;
    }
    n_compared++;
    free(a);
    free(b);
    return 0;
}

/* Every file of a in b with the same bytes, and the other way. */
static void assert_same_tree(const char *a, const char *b)
{
    cmp_fail[0] = '\0';
    cmp_a = a;
    cmp_b = b;
    n_compared = 0;
    nftw(a, cmp_visit, 16, FTW_PHYS);
    ck_assert_msg(!cmp_fail[0], "%s", cmp_fail);
    int n_ab = n_compared;
    cmp_a = b;
    cmp_b = a;
    n_compared = 0;
    nftw(b, cmp_visit, 16, FTW_PHYS);
    ck_assert_msg(!cmp_fail[0], "%s", cmp_fail);
    ck_assert_int_eq(n_ab, n_compared);
    ck_assert_msg(n_ab > 0, "no files in %s", a);
}

/* --log-json: the last progress line has the exact totals (the reader has
 * opened every input by then) and the summary agrees with the tree. */
static void assert_log_json(char *err, int good_pages)
{
    json_t *last = NULL, *summary = NULL;
    int n_progress = 0;
    for (char *l = err; *l;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = '\0';
        if (*l == '{') {
            json_t *o = json_loads(l, 0, NULL);
            ck_assert_msg(o != NULL, "--log-json line is not JSON: %s", l);
            const char *ev = json_string_value(json_object_get(o, "event"));
            ck_assert_ptr_nonnull(ev);
            if (!strcmp(ev, "progress")) {
                json_decref(last);
                last = o;
                n_progress++;
            } else if (!strcmp(ev, "summary")) {
                summary = o;
            } else {
                json_decref(o);
            }
        }
        if (!e)
            break;
        *e = '\n';
        l = e + 1;
    }
    ck_assert_msg(last && summary, "no progress or summary line:\n%s", err);
    int files = N_BOX * (N_PNG + N_TIF) + 3;
    ck_assert_int_eq(n_progress, files);
#define GETI(o, k) ((int)json_integer_value(json_object_get(o, k)))
    ck_assert_int_eq(GETI(last, "files_total"), files);
    ck_assert_int_eq(GETI(last, "files_done"), files);
    ck_assert(json_is_true(json_object_get(last, "pages_total_exact")));
    ck_assert_int_eq(GETI(last, "pages_total"), GETI(last, "pages_done"));
    ck_assert_int_ge(GETI(last, "pages_done"), good_pages);
    ck_assert_int_eq(GETI(last, "files_failed"), 3);
    ck_assert_int_eq(GETI(summary, "files"), files);
    ck_assert_int_eq(GETI(summary, "files_failed"), 3);
    ck_assert_int_eq(GETI(summary, "pages"), GETI(last, "pages_done"));
    ck_assert_int_gt(GETI(summary, "peak_rss_kb"), 100000);
#undef GETI
    json_decref(last);
    json_decref(summary);
}

START_TEST(tree_run)
{
    reference_run();
    char d[128];
    describe_status(ref_status, d, sizeof d);
    ck_assert_msg(WIFEXITED(ref_status) && WEXITSTATUS(ref_status) == 1,
                  "docrt ocr over the tree: %s, want exit 1\n%s", d, ref_err);
    for (size_t i = 0; i < 3; i++)
        ck_assert_msg(strstr(ref_err, bad_rel[i]),
                      "no stderr line for %s:\n%s", bad_rel[i], ref_err);

    /* Every good page's text in its mirrored output. */
    int n_pages = 0;
    for (int b = 0; b < N_BOX; b++)
        for (int kind = 0; kind < 2; kind++)
            for (int f = 0; f < (kind ? N_TIF : N_PNG); f++) {
                char r[64], p[PATH_MAX + 128], t[128];
                rel_of(b, kind, f, r, sizeof r);
                snprintf(p, sizeof p, "%s/%s.txt", ref_out, r);
                size_t n = 0;
                char *txt = slurp(p, &n);
                ck_assert_msg(txt != NULL, "no output %s\n%s", p, ref_err);
                char *pg = txt;
                for (int k = 1; k <= (kind ? TIF_PAGES : 1); k++) {
                    ck_assert_msg(pg != NULL, "%s: page %d missing", p, k);
                    char *ff = strchr(pg, '\f');
                    size_t len = ff ? (size_t)(ff - pg) : strlen(pg);
                    page_text(b, kind, f, k, t, sizeof t);
                    ocr_score s = ocr_cer(t, strlen(t), pg, len);
                    ck_assert_msg(s.cer <= 0.25,
                                  "%s page %d: CER %.1f%% ('%s' vs '%.*s')",
                                  p, k, 100 * s.cer, t, (int)len, pg);
                    pg = ff ? ff + 1 : NULL;
                    n_pages++;
                }
                free(txt);
            }
    ck_assert_int_eq(n_pages, N_BOX * (N_PNG + N_TIF * TIF_PAGES));

    /* errors.jsonl: exactly the three bad files. */
    char ep[PATH_MAX + 64];
    snprintf(ep, sizeof ep, "%s/errors.jsonl", ref_out);
    char *ej = slurp(ep, NULL);
    ck_assert_msg(ej != NULL, "no %s", ep);
    int found[3] = {0};
    for (char *l = ej; *l;) {
        char *e = strchr(l, '\n');
        ck_assert_ptr_nonnull(e);
        *e = '\0';
        json_t *o = json_loads(l, 0, NULL);
        ck_assert_msg(o != NULL, "errors.jsonl line is not JSON: %s", l);
        const char *path = json_string_value(json_object_get(o, "path"));
        ck_assert_msg(path && json_object_get(o, "reason") &&
                          json_object_get(o, "page"),
                      "errors.jsonl line lacks path/page/reason: %s", l);
        int hit = -1;
        for (int i = 0; i < 3; i++) {
            size_t pl = strlen(path), bl = strlen(bad_rel[i]);
            if (pl >= bl && strcmp(path + pl - bl, bad_rel[i]) == 0)
                hit = i;
        }
        ck_assert_msg(hit >= 0, "errors.jsonl names a good file: %s", l);
        found[hit] = 1;
        json_decref(o);
        l = e + 1;
    }
    for (int i = 0; i < 3; i++)
        ck_assert_msg(found[i], "errors.jsonl lacks %s:\n%s", bad_rel[i], ej);
    free(ej);

    ck_assert_int_eq(journal_pages_once(ref_out), n_pages);
    assert_log_json(ref_err, n_pages);

    /* Run again: everything is done, nothing changes. */
    char cp[1100], cmd[2400];
    snprintf(cp, sizeof cp, "%s/out_again", dir);
    rm_rf(cp);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", ref_out, cp);
    ck_assert(system(cmd) == 0);
    char *err2 = NULL;
    double t0 = now_ms();
    int st = run_ocr(cp, NULL, &err2);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "rerun:\n%s", err2);
    ck_assert_msg(now_ms() - t0 < 20000, "rerun of a done tree took %.1f s",
                  (now_ms() - t0) / 1e3);
    assert_same_tree(ref_out, cp);
    ck_assert_int_eq(journal_pages_once(cp), n_pages);
    free(err2);
}
END_TEST

START_TEST(kill_and_resume)
{
    reference_run();
    char out[1040];
    snprintf(out, sizeof out, "%s/out_killed", dir);
    rm_rf(out);
    unsigned seed = (unsigned)time(NULL);
    fprintf(stderr, "test_archive: kill seed %u\n", seed);
    srand(seed);
    char *argv[20];
    ocr_argv(argv, out, NULL);
    for (int k = 0; k < 5; k++) {
        int ms = 200 + rand() % 2800;
        fflush(NULL);
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
            int dn = open("/dev/null", O_RDWR);
            dup2(dn, 0);
            dup2(dn, 1);
            dup2(dn, 2);
            execv(argv[0], argv);
            _exit(127);
        }
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        while (waitpid(pid, &st, 0) < 0)
            ck_assert(errno == EINTR);
        fprintf(stderr, "test_archive: kill %d after %d ms: %s\n", k + 1, ms,
                WIFSIGNALED(st) ? "killed" : "had finished");
    }
    char *err = NULL;
    int st = run_ocr(out, NULL, &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
                  "final run after the kills: want exit 1\n%s", err);
    assert_same_tree(ref_out, out);
    ck_assert_int_eq(journal_pages_once(out),
                     N_BOX * (N_PNG + N_TIF * TIF_PAGES));
    free(err);
}
END_TEST

START_TEST(shards)
{
    reference_run();
    char out[1040];
    snprintf(out, sizeof out, "%s/out_shards", dir);
    rm_rf(out);
    mkdir_p(out);
    static const char *const sh[] = {"0/3", "1/3", "2/3"};
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        char *argv[20];
        ocr_argv(argv, out, sh[i]);
        fflush(NULL);
        pids[i] = fork();
        ck_assert(pids[i] >= 0);
        if (pids[i] == 0) {
            char ep[PATH_MAX + 64];
            snprintf(ep, sizeof ep, "%s/../shard%d.stderr", out, i);
            int dn = open("/dev/null", O_RDWR);
            int e = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(dn, 0);
            dup2(dn, 1);
            dup2(e >= 0 ? e : dn, 2);
            execv(argv[0], argv);
            _exit(127);
        }
    }
    for (int i = 0; i < 3; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0)
            ck_assert(errno == EINTR);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) <= 1,
                      "shard %s: wait status %#x", sh[i], (unsigned)st);
    }
    assert_same_tree(ref_out, out);
    ck_assert_int_eq(journal_pages_once(out),
                     N_BOX * (N_PNG + N_TIF * TIF_PAGES));
}
END_TEST

START_TEST(outdir_not_writable)
{
    write_bytes(dpath("afile"), "x", 1);
    char *argv[20];
    ocr_argv(argv, dpath("afile/out"), NULL);
    int st = run_argv(argv, NULL, NULL, "/dev/null", dpath("nw.stderr"));
    char *err = slurp(dpath("nw.stderr"), NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2,
                  "OUTDIR under a file: want exit 2\n%s", err);
    ck_assert_msg(strncmp(err, "docrt: ", 7) == 0 && strstr(err, "afile/out") &&
                      strstr(err, "output folder"),
                  "no clear message:\n%s", err);
    free(err);
}
END_TEST


/* ---- disk full ---- */

static char full_mnt[1100];

static void unmount_full(void)
{
    if (full_mnt[0])
        umount2(full_mnt, MNT_DETACH);
}

/* Every file under a (the .docrt folder left out) in b with the same bytes,
 * and no temporary file left. */
static int n_tmp;
static int tmp_visit(const char *p, const struct stat *sb, int flag,
                     struct FTW *f)
{
    (void)sb;
    if (flag == FTW_F && strstr(p + f->base, ".tmp"))
        n_tmp++;
    return 0;
}

static void assert_subset_tree(const char *a, const char *b)
{
    cmp_fail[0] = '\0';
    cmp_a = a;
    cmp_b = b;
    n_compared = 0;
    nftw(a, cmp_visit, 16, FTW_PHYS);
    ck_assert_msg(!cmp_fail[0], "partial output: %s", cmp_fail);
    n_tmp = 0;
    nftw(a, tmp_visit, 16, FTW_PHYS);
    ck_assert_msg(n_tmp == 0, "%d temporary file(s) left under %s", n_tmp, a);
}

static int run_small(const char *in, const char *out, const char *errp,
                     char **err)
{
    char *argv[] = {(char *)docrt_exe(), "ocr", (char *)in, "-o",
                    (char *)out, "--jobs", "2", "-f", "txt,json", "-m",
                    (char *)weights, "-q", NULL};
    int st = run_argv(argv, NULL, NULL, "/dev/null", errp);
    *err = slurp(errp, NULL);
    if (!*err)
        *err = strdup("");
    assert_no_sanitizer_report(*err);
    return st;
}

/* Fills the file system of path but for `keep` blocks. */
static void fill_but(const char *filler, size_t keep)
{
    unlink(filler);
    struct statvfs sv;
    ck_assert_int_eq(statvfs(full_mnt, &sv), 0);
    ck_assert_msg(sv.f_bavail >= keep, "tmpfs too small");
    size_t n = (size_t)(sv.f_bavail - keep) * sv.f_bsize;
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    char buf[4096];
    memset(buf, 'f', sizeof buf);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < sizeof buf ? n - off : sizeof buf;
        ssize_t w = write(fd, buf, k);
        if (w <= 0) {
            ck_assert_msg(keep == 0 && errno == ENOSPC,
                          "filler: %s", strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    close(fd);
    ck_assert_int_eq(statvfs(full_mnt, &sv), 0);
    ck_assert_msg(sv.f_bavail == keep, "tmpfs has %lu blocks free, want %zu",
                  (unsigned long)sv.f_bavail, keep);
}

START_TEST(disk_full)
{
    make_inputs();
    /* Four inputs (22 pages): two PNGs, two 10-page TIFFs. */
    char in[1100], cmd[9000];
    snprintf(in, sizeof in, "%s/in_small", dir);
    rm_rf(in);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/box0/reel' && cp '%s/box0/page00.png' "
             "'%s/box0/page01.png' '%s/box0' && cp '%s/box0/reel/film00.tif' "
             "'%s/box0/reel/film01.tif' '%s/box0/reel'",
             in, in_dir, in_dir, in, in_dir, in_dir, in);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    char ref[1100], *err = NULL;
    snprintf(ref, sizeof ref, "%s/out_small_ref", dir);
    rm_rf(ref);
    int st = run_small(in, ref, dpath("small_ref.stderr"), &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "reference run of 4 inputs: want exit 0\n%s", err);
    free(err);

    if (geteuid() != 0) {
        /* Mounting a small tmpfs needs root. Without it only the reference
         * run above is checked here; a failing write (to /dev/full) through
         * the exporters is covered by the exporter tests. */
        fprintf(stderr, "test_archive: not root, disk-full run not checked\n");
        return;
    }
    snprintf(full_mnt, sizeof full_mnt, "%s/full_mnt", dir);
    unmount_full();
    mkdir_p(full_mnt);
    if (mount("tmpfs", full_mnt, "tmpfs", 0, "size=1m") != 0) {
        /* A container may deny mount(2) even to root. Then the writes fail
         * another way: a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored, both
         * inherited by docrt) makes every write past 4 KiB fail with EFBIG,
         * which the large JSON outputs of the 10-page TIFFs reach and the
         * journal does not. Same assertions as the "three blocks left" run. */
        ck_assert_msg(errno == EPERM || errno == EACCES,
                      "mount -t tmpfs -o size=1m tmpfs %s: %s", full_mnt,
                      strerror(errno));
        full_mnt[0] = '\0';
        char out[1200];
        snprintf(out, sizeof out, "%s/out_fsize", dir);
        rm_rf(out);
        struct rlimit old, lim;
        ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = 4 * 1024;
        void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
        st = run_small(in, out, dpath("fsize.stderr"), &err);
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, prev);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
                      "file size limit: want exit 1\n%s", err);
        ck_assert_msg(strstr(err, "File too large") &&
                          strstr(err, "cannot write ") && strstr(err, out),
                      "no stderr line naming an output:\n%s", err);
        assert_subset_tree(out, ref);
        free(err);
        st = run_small(in, out, dpath("fsize_after.stderr"), &err);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "without the limit: want exit 0\n%s", err);
        assert_same_tree(ref, out);
        assert_subset_tree(out, ref);
        free(err);
        return;
    }
    char out[1200], filler[1200];
    snprintf(out, sizeof out, "%s/out", full_mnt);
    snprintf(filler, sizeof filler, "%s/filler", full_mnt);

    /* Not a block free: not even the journal can be written: exit 2. */
    fill_but(filler, 0);
    st = run_small(in, out, dpath("full0.stderr"), &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2,
                  "disk full, journal unwritable: want exit 2\n%s", err);
    ck_assert_msg(strstr(err, ".docrt/journal") &&
                      strstr(err, "No space left on device"),
                  "no clear message for the journal:\n%s", err);
    assert_subset_tree(out, ref);
    free(err);

    /* Three blocks free: the journal fits, most outputs do not: exit 1,
     * each missing output named on stderr, none half written. */
    fill_but(filler, 3);
    st = run_small(in, out, dpath("full3.stderr"), &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
                  "disk full: want exit 1\n%s", err);
    ck_assert_msg(strstr(err, "No space left on device") &&
                      strstr(err, "cannot write ") && strstr(err, out),
                  "no stderr line naming an output:\n%s", err);
    assert_subset_tree(out, ref);
    snprintf(cmd, sizeof cmd, "%s/box0/reel/film01.json", out);
    int missing = !file_exists(cmd);
    snprintf(cmd, sizeof cmd, "%s/box0/reel/film00.json", out);
    missing |= !file_exists(cmd);
    ck_assert_msg(missing, "every output fit in 3 blocks?\n%s", err);
    free(err);

    /* Room again: the same command finishes the run, same bytes. */
    ck_assert_int_eq(unlink(filler), 0);
    st = run_small(in, out, dpath("full_after.stderr"), &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "after freeing space: want exit 0\n%s", err);
    assert_same_tree(ref, out);
    assert_subset_tree(out, ref);
    free(err);
    ck_assert_msg(umount2(full_mnt, 0) == 0, "umount %s: %s", full_mnt,
                  strerror(errno));
    full_mnt[0] = '\0';
}
END_TEST

/* ---- inputs that cannot be collected go into errors.jsonl ---- */

static int run_missing(const char *cwd, const char *root, const char *out,
                       char **err)
{
    char *argv[] = {(char *)docrt_exe(), "ocr", "--files-from", "list.txt",
                    (char *)root, "-o", (char *)out, "-f", "txt", "-m",
                    (char *)weights, "-q", NULL};
    char ep[1300];
    snprintf(ep, sizeof ep, "%s.stderr", out);
    int st = run_argv(argv, cwd, NULL, "/dev/null", ep);
    *err = slurp(ep, NULL);
    if (!*err)
        *err = strdup("");
    assert_no_sanitizer_report(*err);
    return st;
}

/* errors.jsonl holds exactly the paths given (each page null, a reason). */
static void assert_errors(const char *out, const char *const *paths, int n)
{
    char ep[1300];
    snprintf(ep, sizeof ep, "%s/errors.jsonl", out);
    char *ej = slurp(ep, NULL);
    ck_assert_msg(ej != NULL, "no %s", ep);
    int k = 0;
    for (char *l = ej; *l; k++) {
        char *e = strchr(l, '\n');
        ck_assert_ptr_nonnull(e);
        *e = '\0';
        json_t *o = json_loads(l, 0, NULL);
        ck_assert_msg(o != NULL, "errors.jsonl line is not JSON: %s", l);
        ck_assert_msg(k < n, "errors.jsonl: one line too many: %s", l);
        const char *path = json_string_value(json_object_get(o, "path"));
        const char *reason = json_string_value(json_object_get(o, "reason"));
        ck_assert_msg(path && !strcmp(path, paths[k]),
                      "errors.jsonl line %d: %s, want path %s", k + 1, l,
                      paths[k]);
        ck_assert_msg(json_is_null(json_object_get(o, "page")) && reason &&
                          *reason,
                      "errors.jsonl line %d: want page null and a reason: %s",
                      k + 1, l);
        json_decref(o);
        l = e + 1;
    }
    ck_assert_msg(k == n, "errors.jsonl has %d lines, want %d", k, n);
    free(ej);
}

START_TEST(missing_listed)
{
    make_inputs();
    char w[1100], cmd[6000], root[1200], out[1200];
    snprintf(w, sizeof w, "%s/missing_cwd", dir);
    rm_rf(w);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/ok' && cp '%s/box0/page00.png' '%s/ok/' && "
             "printf 'ok/page00.png\\nnope/gone.png\\n' > '%s/list.txt'",
             w, in_dir, w, w);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    snprintf(root, sizeof root, "%s/no_such_root", w);
    snprintf(out, sizeof out, "%s/out", w);
    const char *both[] = {root, "nope/gone.png"};

    char *err = NULL;
    int st = run_missing(w, root, out, &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
                  "a missing root and manifest entry: want exit 1\n%s", err);
    ck_assert_msg(strstr(err, "nope/gone.png") && strstr(err, "no_such_root"),
                  "stderr does not name the missing inputs:\n%s", err);
    assert_errors(out, both, 2);
    free(err);

    /* Resumed: regenerated from the journal, still each once. */
    st = run_missing(w, root, out, &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "rerun:\n%s", err);
    assert_errors(out, both, 2);
    free(err);

    /* The manifest entry turns up: read, and no longer listed. */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/nope' && cp '%s/box0/page01.png' "
             "'%s/nope/gone.png'", w, in_dir, w);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    st = run_missing(w, root, out, &err);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
                  "root still missing: want exit 1\n%s", err);
    assert_errors(out, both, 1);
    snprintf(cmd, sizeof cmd, "%s/nope/gone.txt", out);
    ck_assert_msg(file_exists(cmd), "no %s\n%s", cmd, err);
    free(err);
}
END_TEST

int main(void)
{
    weights = model_dir("test_archive");
    if (!weights)
        return EXIT_SUCCESS;
    snprintf(dir, sizeof dir, "%s/test_archive",
             env_or("DOCRT_BINARY_DIR", env_or("TMPDIR", "/tmp")));
    snprintf(in_dir, sizeof in_dir, "%s/in", dir);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        return EXIT_FAILURE;

    Suite *s = suite_create("archive");
    TCase *tc = tcase_create("archive");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, outdir_not_writable);
    tcase_add_test(tc, tree_run);
    tcase_add_test(tc, shards);
    tcase_add_test(tc, disk_full);
    tcase_add_test(tc, missing_listed);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create("kill");
    tcase_set_timeout(slow, 900);
    tcase_add_test(slow, kill_and_resume);
    suite_add_tcase(s, slow);
    SRunner *sr = srunner_create(s);
    /* One process: the reference run is shared by the tests. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    unmount_full();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
