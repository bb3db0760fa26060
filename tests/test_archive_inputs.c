/* test_archive_inputs.c - archive mode's input selection: tree walk (hidden
 * entries, symbolic links, loops, unreadable folders), globs, manifest, the
 * mirrored and sanitised output names, collisions, order and shards. Each
 * test builds its own tree under $DOCRT_BINARY_DIR (or $TMPDIR, /tmp). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "archive_inputs.h"

static char tmp[512];

/* ---- fixture ---------------------------------------------------------- */

static void setup(void)
{
    const char *b = getenv("DOCRT_BINARY_DIR");
    if (!b || !*b)
        b = getenv("TMPDIR");
    if (!b || !*b)
        b = "/tmp";
    snprintf(tmp, sizeof tmp, "%s/archive_inputs_XXXXXX", b);
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    if (tmp[0] != '/') { /* the manifest test changes directory */
        char abs[512];
        ck_assert_ptr_nonnull(realpath(tmp, abs));
        snprintf(tmp, sizeof tmp, "%s", abs);
    }
}

/* rm -rf that also opens folders a test made unreadable. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char child[1024];
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void teardown(void)
{
    remove_tree(tmp);
}

/* ---- helpers ---------------------------------------------------------- */

static const char *tp(const char *rel)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, rel);
    return buf[k];
}

static void mkdirs_for(const char *path, int include_last)
{
    char b[1024];
    snprintf(b, sizeof b, "%s", path);
    for (char *p = b + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(b, 0755) != 0)
                ck_assert_int_eq(errno, EEXIST);
            *p = '/';
        }
    }
    if (include_last && mkdir(b, 0755) != 0)
        ck_assert_int_eq(errno, EEXIST);
}

/* A file under tmp (folders made as needed). */
static void mk(const char *rel)
{
    const char *p = tp(rel);
    mkdirs_for(p, 0);
    FILE *f = fopen(p, "w");
    ck_assert_msg(f != NULL, "cannot create %s", p);
    fputs("x", f);
    fclose(f);
}

static void ln(const char *target, const char *rel)
{
    const char *p = tp(rel);
    mkdirs_for(p, 0);
    ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p,
                  strerror(errno));
}

typedef struct {
    char line[64][512];
    int n;
} reports;

static void on_report(void *ctx, const char *path, const char *reason)
{
    reports *r = ctx;
    ck_assert_ptr_nonnull(path);
    ck_assert_ptr_nonnull(reason);
    ck_assert_ptr_null(strchr(reason, '\n'));
    if (r->n < 64)
        snprintf(r->line[r->n], sizeof r->line[0], "%s: %s", path, reason);
    r->n++;
}

/* A report whose line holds both pieces. */
static int reported(const reports *r, const char *a, const char *b)
{
    for (int i = 0; i < r->n && i < 64; i++)
        if (strstr(r->line[i], a) && (!b || strstr(r->line[i], b)))
            return 1;
    return 0;
}

typedef struct {
    archive_input *in;
    int n;
    reports rep;
    char rels[16384]; /* "a,b/c,..." */
} result;

static docrt_status collect(const archive_select *sel, result *r)
{
    memset(r, 0, sizeof *r);
    docrt_status s = archive_collect(sel, &r->in, &r->n, on_report, &r->rep);
    size_t j = 0;
    for (int i = 0; i < r->n; i++) {
        int w = snprintf(r->rels + j, sizeof r->rels - j, "%s%s",
                         i ? "," : "", r->in[i].rel);
        ck_assert(w > 0 && (size_t)w < sizeof r->rels - j);
        j += (size_t)w;
    }
    if (r->n == 0)
        ck_assert_ptr_null(r->in);
    for (int i = 1; i < r->n; i++) /* always sorted by (rel, path) */
        ck_assert(strcmp(r->in[i - 1].rel, r->in[i].rel) < 0 ||
                  (strcmp(r->in[i - 1].rel, r->in[i].rel) == 0 &&
                   strcmp(r->in[i - 1].path, r->in[i].path) < 0));
    return s;
}

static void done(result *r)
{
    archive_inputs_free(r->in, r->n);
    r->in = NULL;
    r->n = 0;
}

static const archive_input *by_rel(const result *r, const char *rel)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->in[i].rel, rel) == 0)
            return &r->in[i];
    return NULL;
}

static void one_root(archive_select *sel, const char **roots, const char *dir)
{
    memset(sel, 0, sizeof *sel);
    roots[0] = dir;
    sel->roots = roots;
    sel->n_roots = 1;
}

/* ---- tests ------------------------------------------------------------ */

/* Default selection: the five extensions in any case, at any depth; hidden
 * files and folders, other extensions, "name." and fifos left out. */
START_TEST(tree_default_selection)
{
    mk("t/a.tif");
    mk("t/b.TIFF");
    mk("t/c.Png");
    mk("t/d.jpg");
    mk("t/e.JPEG");
    mk("t/f.txt");
    mk("t/g.pdf");
    mk("t/noext");
    mk("t/z.tif.");
    mk("t/k.tif.bak");
    mk("t/.hidden.tif");
    mk("t/.journal/x.tif");
    mk("t/sub/deep/h.tif");
    mk("t/sub/i.jpeg");
    mk("t/sub/.j.png");
    ck_assert_int_eq(mkfifo(tp("t/p.tif"), 0644), 0);
    ln("p.tif", "t/q.tif"); /* a link to the fifo: not a regular file */

    const char *roots[1];
    archive_select sel;
    one_root(&sel, roots, tp("t"));
    result r;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "a,b,c,d,e,sub/deep/h,sub/i");
    ck_assert_str_eq(by_rel(&r, "sub/deep/h")->path, tp("t/sub/deep/h.tif"));
    ck_assert_str_eq(by_rel(&r, "b")->path, tp("t/b.TIFF"));
    ck_assert_int_eq(r.rep.n, 0);
    done(&r);

    /* a root with a trailing '/' gives the same paths, no "//" */
    char slash[1024];
    snprintf(slash, sizeof slash, "%s/", tp("t"));
    one_root(&sel, roots, slash);
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "a,b,c,d,e,sub/deep/h,sub/i");
    ck_assert_str_eq(by_rel(&r, "a")->path, tp("t/a.tif"));
    done(&r);
}
END_TEST

/* Links to files and folders followed; loops (a link to a folder on the
 * current path, also reached through a followed link) reported and not
 * entered, so each file comes once and the walk ends; a broken link
 * reported. */
START_TEST(symlinks)
{
    mk("t/a/f1.tif");
    mk("t/b/f2.tif");
    mk("out/real.tif");
    mk("out/dir/g.tif");
    ln("..", "t/a/loop");
    ln(".", "t/self");
    ln("../b", "t/b/up");
    ln(tp("t"), "out/dir/back"); /* absolute, reached through t/ldir */
    ln("../out/real.tif", "t/link.tif");
    ln("../out/dir", "t/ldir");
    ln("nowhere.tif", "t/dangling.tif");

    const char *roots[1];
    archive_select sel;
    one_root(&sel, roots, tp("t"));
    result r;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "a/f1,b/f2,ldir/g,link");
    ck_assert_str_eq(by_rel(&r, "link")->path, tp("t/link.tif"));
    ck_assert_str_eq(by_rel(&r, "ldir/g")->path, tp("t/ldir/g.tif"));
    ck_assert(reported(&r.rep, tp("t/a/loop"), "symlink loop"));
    ck_assert(reported(&r.rep, tp("t/self"), "symlink loop"));
    ck_assert(reported(&r.rep, tp("t/b/up"), "symlink loop"));
    ck_assert(reported(&r.rep, tp("t/ldir/back"), "symlink loop"));
    ck_assert(reported(&r.rep, tp("t/dangling.tif"), "broken symbolic link"));
    ck_assert_int_eq(r.rep.n, 5);
    done(&r);
}
END_TEST

/* An unreadable folder (and a missing root) is reported and the rest is
 * still collected. */
START_TEST(unreadable_dir)
{
    mk("t/ok.tif");
    mk("t/locked/x.tif");
    mk("t/z/after.tif");
    ck_assert_int_eq(chmod(tp("t/locked"), 0), 0);
    /* root (or CAP_DAC_READ_SEARCH) reads it anyway: then only the report
     * is not asserted */
    DIR *probe = opendir(tp("t/locked"));
    int readable = probe != NULL;
    if (probe)
        closedir(probe);

    const char *roots[2] = {tp("t"), tp("missing")};
    archive_select sel = {.roots = roots, .n_roots = 2};
    result r;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_ptr_nonnull(by_rel(&r, "ok"));
    ck_assert_ptr_nonnull(by_rel(&r, "z/after"));
    ck_assert(reported(&r.rep, tp("missing"), strerror(ENOENT)));
    if (!readable) {
        ck_assert(reported(&r.rep, tp("t/locked"), strerror(EACCES)));
        ck_assert_ptr_null(by_rel(&r, "locked/x"));
        ck_assert_str_eq(r.rels, "ok,z/after");
        ck_assert_int_eq(r.rep.n, 2);
    } else {
        ck_assert_str_eq(r.rels, "locked/x,ok,z/after");
        ck_assert_int_eq(r.rep.n, 1);
    }
    done(&r);
    chmod(tp("t/locked"), 0755);
}
END_TEST

static const char *globs(result *r, const char *root, const char **inc,
                         int ninc, const char **exc, int nexc)
{
    const char *roots[1];
    archive_select sel;
    one_root(&sel, roots, root);
    sel.include = inc;
    sel.n_include = ninc;
    sel.exclude = exc;
    sel.n_exclude = nexc;
    ck_assert_int_eq(collect(&sel, r), DOCRT_OK);
    ck_assert_int_eq(r->rep.n, 0);
    return r->rels;
}

/* Globs on the path under the root ('*' crosses '/') or on the name;
 * case-sensitive; an include replaces the extension default; exclude wins. */
START_TEST(include_exclude)
{
    mk("t/x/a.tif");
    mk("t/x/b.png");
    mk("t/y/c.tif");
    mk("t/y/thumbs/d.tif");
    mk("t/notes.pdf");
    mk("t/e.TIF");
    const char *root = tp("t");
    result r;
    const char *tif[] = {"*.tif"}, *thumbs[] = {"*/thumbs/*"};
    ck_assert_str_eq(globs(&r, root, tif, 1, NULL, 0), "x/a,y/c,y/thumbs/d");
    done(&r);
    ck_assert_str_eq(globs(&r, root, tif, 1, thumbs, 1), "x/a,y/c");
    done(&r);
    const char *xdir[] = {"x/*"};
    ck_assert_str_eq(globs(&r, root, xdir, 1, NULL, 0), "x/a,x/b");
    done(&r);
    const char *pdf[] = {"*.pdf"}; /* an include can take any extension */
    ck_assert_str_eq(globs(&r, root, pdf, 1, NULL, 0), "notes");
    done(&r);
    const char *by_name[] = {"b.png", "y/*"}; /* name match, path match */
    ck_assert_str_eq(globs(&r, root, NULL, 0, by_name, 2), "e,x/a");
    done(&r);
    const char *two[] = {"c.*", "notes.pdf"};
    ck_assert_str_eq(globs(&r, root, two, 2, NULL, 0), "notes,y/c");
    done(&r);
    ck_assert_str_eq(globs(&r, root, tif, 1, tif, 1), ""); /* exclude wins */
    ck_assert_int_eq(r.n, 0);
    done(&r);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* --files-from: comments, blank and CRLF lines; paths relative to the
 * working directory; missing entries, ".." and folders reported; the same
 * path twice kept once; any extension taken; globs still apply. */
START_TEST(manifest)
{
    mk("m/one.tif");
    mk("m/two.png");
    mk("m/three.dat");
    mk("abs.tif");
    ck_assert_int_eq(chdir(tmp), 0);
    char text[4096];
    snprintf(text, sizeof text,
             "# scanned in 2019\n"
             "\n"
             "./m/one.tif\r\n"
             "m//./two.png\n"
             "m/three.dat\n"
             "m/missing.tif\n"
             "m/../m/one.tif\n"
             "\r\n"
             "%s\n"
             "m\n"
             "./m/one.tif\n"
             "#m/two.png\n",
             tp("abs.tif"));
    write_file(tp("list.txt"), text);

    archive_select sel = {.files_from = tp("list.txt")};
    result r;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_int_eq(r.n, 4);
    ck_assert_str_eq(by_rel(&r, "m/one")->path, "./m/one.tif");
    ck_assert_str_eq(by_rel(&r, "m/two")->path, "m//./two.png");
    ck_assert_str_eq(by_rel(&r, "m/three")->path, "m/three.dat");
    const archive_input *abs = NULL;
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.in[i].path, tp("abs.tif")) == 0)
            abs = &r.in[i];
    ck_assert_ptr_nonnull(abs);
    ck_assert(abs->rel[0] != '/');
    size_t L = strlen(abs->rel);
    ck_assert(L > 4 && strcmp(abs->rel + L - 4, "/abs") == 0);
    ck_assert(reported(&r.rep, "m/missing.tif", strerror(ENOENT)));
    ck_assert(reported(&r.rep, "m/missing.tif", "line 6"));
    ck_assert(reported(&r.rep, "m/../m/one.tif", "'..'"));
    ck_assert(reported(&r.rep, "m: ", "is a directory"));
    ck_assert_int_eq(r.rep.n, 3);
    done(&r);

    const char *dat[] = {"*.dat"}, *under_m[] = {"m/*"};
    sel.exclude = dat;
    sel.n_exclude = 1;
    sel.include = under_m;
    sel.n_include = 1;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "m/one,m/two");
    done(&r);

    /* rels come from the list's text: a listed scan.png that is missing
     * still moves scan.tif to "s/scan.tif", and only the shard owning the
     * missing entry reports it */
    mk("s/scan.tif");
    write_file(tp("list2.txt"), "s/scan.tif\ns/scan.png\n");
    archive_select l2 = {.files_from = tp("list2.txt")};
    ck_assert_int_eq(collect(&l2, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "s/scan.tif");
    ck_assert(reported(&r.rep, "s/scan.png", strerror(ENOENT)));
    ck_assert_int_eq(r.rep.n, 1);
    done(&r);
    int owner = archive_shard_of("s/scan.png", 2), reports_seen = 0;
    for (int k = 0; k < 2; k++) {
        l2.shard_k = k;
        l2.shard_n = 2;
        ck_assert_int_eq(collect(&l2, &r), DOCRT_OK);
        ck_assert_int_eq(r.rep.n, k == owner);
        reports_seen += r.rep.n;
        if (archive_shard_of("s/scan.tif", 2) == k)
            ck_assert_str_eq(r.rels, "s/scan.tif");
        done(&r);
    }
    ck_assert_int_eq(reports_seen, 1);

    archive_select missing = {.files_from = tp("no-such-list")};
    ck_assert_int_eq(collect(&missing, &r), DOCRT_ERR_IO);
    ck_assert_ptr_null(r.in);
    ck_assert_int_eq(r.n, 0);
    ck_assert(reported(&r.rep, "no-such-list", strerror(ENOENT)));
}
END_TEST

/* Files named on the command line: always taken, rel = sanitised stem;
 * "-" is stdin; a missing one reported; no report function is fine; stdin
 * can't be both an input and the manifest. */
START_TEST(direct_files)
{
    mk("d/notes.dat");
    mk("d/Scan #1.TIF");
    mk("d/.hidden.png");
    mk("d/noext");
    const char *roots[] = {tp("d/notes.dat"), tp("d/Scan #1.TIF"), "-",
                           tp("d/missing.tif"), tp("d/.hidden.png"),
                           tp("d/noext")};
    archive_select sel = {.roots = roots, .n_roots = 6};
    result r;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "Scan__1,_hidden,noext,notes,stdin");
    ck_assert_str_eq(by_rel(&r, "stdin")->path, "-");
    ck_assert_str_eq(by_rel(&r, "Scan__1")->path, tp("d/Scan #1.TIF"));
    ck_assert(reported(&r.rep, tp("d/missing.tif"), strerror(ENOENT)));
    ck_assert_int_eq(r.rep.n, 1);
    done(&r);

    archive_input *in = NULL;
    int n = -1;
    ck_assert_int_eq(archive_collect(&sel, &in, &n, NULL, NULL), DOCRT_OK);
    ck_assert_int_eq(n, 5);
    archive_inputs_free(in, n);

    sel.files_from = "-";
    ck_assert_int_eq(collect(&sel, &r), DOCRT_ERR_ARG);
    ck_assert_ptr_null(r.in);
}
END_TEST

/* The output tree mirrors the input tree, each component sanitised. */
START_TEST(rel_mirror_sanitise)
{
    mk("t/a b/c#d.tif");
    mk("t/box1/reel2/scan0001.tif");
    mk("t/\xc3\xa9.png"); /* UTF-8 e-acute: two bytes, two '_' */
    mk("t/x..y.tif");
    mk("t/-dash.jpg");
    const char *roots[1];
    archive_select sel;
    one_root(&sel, roots, tp("t"));
    result r;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "-dash,__,a_b/c_d,box1/reel2/scan0001,x..y");
    ck_assert_str_eq(by_rel(&r, "a_b/c_d")->path, tp("t/a b/c#d.tif"));
    ck_assert_str_eq(by_rel(&r, "box1/reel2/scan0001")->path,
                     tp("t/box1/reel2/scan0001.tif"));
    done(&r);
}
END_TEST

/* Equal rels keep their extension; still equal -> "~2", "~3" in path
 * order; the same path twice (a root given twice) kept once. */
START_TEST(rel_collisions)
{
    mk("t/scan.tif");
    mk("t/scan.png");
    mk("t/other.tif");
    mk("t/a b.tif");
    mk("t/a_b.tif");
    const char *roots[2];
    archive_select sel;
    one_root(&sel, roots, tp("t"));
    result r;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "a_b.tif,a_b.tif~2,other,scan.png,scan.tif");
    ck_assert_str_eq(by_rel(&r, "a_b.tif")->path, tp("t/a b.tif"));
    ck_assert_str_eq(by_rel(&r, "a_b.tif~2")->path, tp("t/a_b.tif"));
    ck_assert_str_eq(by_rel(&r, "scan.png")->path, tp("t/scan.png"));
    done(&r);

    roots[1] = tp("t"); /* the same tree twice */
    sel.n_roots = 2;
    ck_assert_int_eq(collect(&sel, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "a_b.tif,a_b.tif~2,other,scan.png,scan.tif");
    done(&r);

    mk("r1/scan.tif");
    mk("r2/scan.tif");
    mk("r3/scan.tif");
    const char *three[] = {tp("r3"), tp("r1"), tp("r2")};
    archive_select s3 = {.roots = three, .n_roots = 3};
    ck_assert_int_eq(collect(&s3, &r), DOCRT_OK);
    ck_assert_str_eq(r.rels, "scan.tif,scan.tif~2,scan.tif~3");
    ck_assert_str_eq(r.in[0].path, tp("r1/scan.tif"));
    ck_assert_str_eq(r.in[1].path, tp("r2/scan.tif"));
    ck_assert_str_eq(r.in[2].path, tp("r3/scan.tif"));
    done(&r);
}
END_TEST

static const char *const order_names[] = {
    "B.tif", "a.tif", "_c.tif", "a/z.tif", "a/A.png", "Z/1.jpg", "10.tif",
    "9.tif", "a-b.tif", "a.b.tif", "m/n/o/p.tif", "m/n.tif", "m0.tif",
};
enum { N_ORDER = sizeof order_names / sizeof order_names[0] };

/* Two runs agree, and the order does not depend on creation (readdir)
 * order: plain strcmp (byte) order of rel. */
START_TEST(stable_order)
{
    char name[256];
    for (int i = 0; i < N_ORDER; i++) {
        snprintf(name, sizeof name, "fwd/%s", order_names[i]);
        mk(name);
    }
    for (int i = N_ORDER - 1; i >= 0; i--) {
        snprintf(name, sizeof name, "rev/%s", order_names[i]);
        mk(name);
    }
    const char *roots[1];
    archive_select sel;
    result a, b, c;
    one_root(&sel, roots, tp("fwd"));
    ck_assert_int_eq(collect(&sel, &a), DOCRT_OK);
    ck_assert_int_eq(collect(&sel, &b), DOCRT_OK);
    one_root(&sel, roots, tp("rev"));
    ck_assert_int_eq(collect(&sel, &c), DOCRT_OK);
    ck_assert_int_eq(a.n, N_ORDER);
    ck_assert_str_eq(a.rels, "10,9,B,Z/1,_c,a,a-b,a.b,a/A,a/z,m/n,m/n/o/p,m0");
    ck_assert_str_eq(a.rels, c.rels);
    for (int i = 0; i < a.n; i++) {
        ck_assert_str_eq(a.in[i].path, b.in[i].path);
        ck_assert_str_eq(a.in[i].rel, b.in[i].rel);
    }
    done(&a);
    done(&b);
    done(&c);
}
END_TEST

static int cmp_rel(const void *key, const void *elem)
{
    return strcmp(key, ((const archive_input *)elem)->rel);
}

/* N shards are disjoint and together give the unsharded list; each shard
 * keeps the sorted order; --shard 0/1 is everything. */
START_TEST(shards_cover_once)
{
    char name[256];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "t/box%d/reel%d/scan%04d.tif", i % 4,
                 i % 7, i);
        mk(name);
    }
    const char *roots[1];
    archive_select sel;
    one_root(&sel, roots, tp("t"));
    result all;
    ck_assert_int_eq(collect(&sel, &all), DOCRT_OK);
    ck_assert_int_eq(all.n, 200);

    int seen[200] = {0}, total = 0;
    for (int k = 0; k < 3; k++) {
        sel.shard_k = k;
        sel.shard_n = 3;
        result s;
        ck_assert_int_eq(collect(&sel, &s), DOCRT_OK);
        ck_assert_int_gt(s.n, 0);
        total += s.n;
        for (int i = 0; i < s.n; i++) {
            ck_assert_int_eq(archive_shard_of(s.in[i].rel, 3), k);
            const archive_input *hit =
                bsearch(s.in[i].rel, all.in, (size_t)all.n, sizeof *all.in,
                        cmp_rel);
            ck_assert_ptr_nonnull(hit);
            ck_assert_str_eq(hit->path, s.in[i].path);
            seen[hit - all.in]++;
        }
        done(&s);
    }
    ck_assert_int_eq(total, 200);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(seen[i], 1);

    sel.shard_k = 0;
    sel.shard_n = 1;
    result one;
    ck_assert_int_eq(collect(&sel, &one), DOCRT_OK);
    ck_assert_str_eq(one.rels, all.rels);
    done(&one);
    done(&all);
}
END_TEST

/* 64-bit FNV-1a, checked against values computed independently (Python):
 * fnv1a64("a") = 0xaf63dc4c8601ec8c,
 * fnv1a64("box1/reel2/scan0001") = 0xb35a1a444c33e3a7. */
START_TEST(shard_of_known)
{
    ck_assert_int_eq(archive_shard_of("box1/reel2/scan0001", 1000), 919);
    ck_assert_int_eq(archive_shard_of("box1/reel2/scan0001", 7), 3);
    ck_assert_int_eq(archive_shard_of("box1/reel2/scan0001", 3), 2);
    ck_assert_int_eq(archive_shard_of("box1/reel2/scan0001", 2), 1);
    ck_assert_int_eq(archive_shard_of("a", 1000), 996);
    ck_assert_int_eq(archive_shard_of("a", 7), 5);
    ck_assert_int_eq(archive_shard_of("", 1000), 37);
    ck_assert_int_eq(archive_shard_of("a", 1), 0);
    ck_assert_int_eq(archive_shard_of("a", 0), 0);
}
END_TEST

START_TEST(bad_selection)
{
    mk("t/a.tif");
    const char *roots[1];
    archive_select sel;
    one_root(&sel, roots, tp("t"));
    static const int kn[][2] = {{3, 3}, {4, 3}, {-1, 3}, {0, -1}, {1, 0}};
    for (size_t i = 0; i < sizeof kn / sizeof kn[0]; i++) {
        sel.shard_k = kn[i][0];
        sel.shard_n = kn[i][1];
        archive_input *in = (archive_input *)&sel; /* must be reset */
        int n = 99;
        ck_assert_int_eq(archive_collect(&sel, &in, &n, NULL, NULL),
                         DOCRT_ERR_ARG);
        ck_assert_ptr_null(in);
        ck_assert_int_eq(n, 0);
    }
    sel.shard_k = sel.shard_n = 0;
    sel.n_roots = -1;
    archive_input *in;
    int n;
    ck_assert_int_eq(archive_collect(&sel, &in, &n, NULL, NULL), DOCRT_ERR_ARG);
    ck_assert_int_eq(archive_collect(NULL, &in, &n, NULL, NULL), DOCRT_ERR_ARG);
    archive_select none = {0}; /* nothing selected: fine, empty */
    ck_assert_int_eq(archive_collect(&none, &in, &n, NULL, NULL), DOCRT_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(in);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("archive_inputs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tree_default_selection);
    tcase_add_test(tc, symlinks);
    tcase_add_test(tc, unreadable_dir);
    tcase_add_test(tc, include_exclude);
    tcase_add_test(tc, manifest);
    tcase_add_test(tc, direct_files);
    tcase_add_test(tc, rel_mirror_sanitise);
    tcase_add_test(tc, rel_collisions);
    tcase_add_test(tc, stable_order);
    tcase_add_test(tc, shards_cover_once);
    tcase_add_test(tc, shard_of_known);
    tcase_add_test(tc, bad_selection);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
