/* test_ocr_pages.c - `docrt ocr` end to end on synthetic pages with known
 * text (tests/pages/make_pages.py, into $DOCRT_BINARY_DIR/pages): character
 * error rate per page, the reading order of two columns, table rows kept
 * whole, the form feed between the pages of a multi-page TIFF, stdin, and
 * JSON / hOCR / ALTO output that parses and carries the page's words.
 *
 * One docrt process reads all the pages (one model load); its outputs stay
 * in $DOCRT_BINARY_DIR/test_ocr_pages/ for a look after a failure.
 * CER: Levenshtein over Unicode code points / GT length, after folding
 * quotes, dashes and full-width forms and collapsing whitespace (newlines
 * and form feeds too) to one space. */
#include "ocr_eval.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>


static const char *pages;   /* generated pages and their GT */
static const char *weights; /* --model-dir */
static char work[PATH_MAX]; /* $DOCRT_BINARY_DIR/test_ocr_pages */
static int batch_status;
static char *batch_err;

static const char *wpath(const char *fmt, const char *a)
{
    static char buf[4][PATH_MAX + 256];
    static int k;
    k = (k + 1) % 4;
    char rel[256];
    snprintf(rel, sizeof rel, fmt, a);
    snprintf(buf[k], sizeof buf[k], "%s/%s", work, rel);
    return buf[k];
}

static const char *ppath(const char *name)
{
    static char buf[4][PATH_MAX + 256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", pages, name);
    return buf[k];
}

static char *read_gt(const char *stem, size_t *len)
{
    char name[256];
    snprintf(name, sizeof name, "%s.txt", stem);
    char *gt = slurp(ppath(name), len);
    ck_assert_msg(gt != NULL, "no GT %s", ppath(name));
    return gt;
}

/* The txt output of the batch run for stem. */
static char *read_out(const char *stem, size_t *len)
{
    const char *p = wpath("batch/%s.txt", stem);
    char *out = slurp(p, len);
    ck_assert_msg(out != NULL, "no output %s (docrt %s)\nstderr:\n%s", p,
                  batch_status == 0 ? "exited 0" : "failed", batch_err);
    return out;
}

static void expect_cer(const char *what, const char *gt, size_t gl,
                       const char *out, size_t ol, double max)
{
    ocr_score s = ocr_cer(gt, gl, out, ol);
    ck_assert_msg(s.cer <= max, "%s: CER %.2f%% (%zu edits / %zu chars), "
                  "want <= %.1f%%\n%s", what, 100 * s.cer, s.edits, s.gt_len,
                  100 * max, s.where);
    fprintf(stderr, "test_ocr_pages: %-22s CER %5.2f%% (%zu/%zu)\n", what,
            100 * s.cer, s.edits, s.gt_len);
}

static void expect_page(const char *stem, double max)
{
    size_t gl = 0, ol = 0;
    char *gt = read_gt(stem, &gl), *out = read_out(stem, &ol);
    expect_cer(stem, gt, gl, out, ol, max);
    free(gt);
    free(out);
}

/* ---- the batch run: every page in one process ---- */

static const char *const batch_files[] = {
    "clean_g4.tif", "grey8.png", "rgb.jpg", "grey16.png",
    "rotated.png",  "upside_down.png", "twocol.png", "table.png",
    "quotes.png",
};
#define N_BATCH (sizeof batch_files / sizeof batch_files[0])

static void run_batch(void)
{
    mkdir_p(work);
    char *argv[N_BATCH + 12];
    int a = 0;
    argv[a++] = (char *)docrt_exe();
    argv[a++] = "ocr";
    for (size_t i = 0; i < N_BATCH; i++)
        argv[a++] = strdup(ppath(batch_files[i]));
    argv[a++] = "-o";
    argv[a++] = "batch"; /* relative to work, the child's cwd */
    argv[a++] = "--format";
    argv[a++] = "txt";
    argv[a++] = "--model-dir";
    argv[a++] = (char *)weights;
    argv[a] = NULL;
    batch_status = run_argv(argv, work, NULL, wpath("%s", "batch.stdout"),
                            wpath("%s", "batch.stderr"));
    batch_err = slurp(wpath("%s", "batch.stderr"), NULL);
    if (!batch_err)
        batch_err = strdup("");
    for (size_t i = 0; i < N_BATCH; i++)
        free(argv[2 + i]);
}

START_TEST(batch_exit)
{
    char st[96];
    describe_status(batch_status, st, sizeof st);
    ck_assert_msg(WIFEXITED(batch_status) && WEXITSTATUS(batch_status) == 0,
                  "docrt ocr over every page: %s, want exit 0\nstderr:\n%s",
                  st, batch_err);
    ck_assert_msg(strstr(batch_err, "docrt: ") == NULL,
                  "error lines on a clean run:\n%s", batch_err);
    assert_no_sanitizer_report(batch_err);
}
END_TEST

/* (a) Two G4 pages: one output, exactly one form feed between the pages,
 * each page read at the clean-page CER. */
START_TEST(multipage_g4)
{
    size_t gl = 0, ol = 0;
    char *gt = read_gt("clean_g4", &gl), *out = read_out("clean_g4", &ol);
    char *gff = memchr(gt, '\f', gl);
    ck_assert_msg(gff != NULL, "GT clean_g4.txt has no form feed");
    size_t nff = 0;
    for (size_t i = 0; i < ol; i++)
        nff += out[i] == '\f';
    ck_assert_msg(nff == 1, "clean_g4.txt: %zu form feeds, want exactly 1 "
                  "(pages separated, not terminated)", nff);
    char *off = memchr(out, '\f', ol);
    size_t g1 = (size_t)(gff - gt), o1 = (size_t)(off - out);
    expect_cer("clean_g4 page 1", gt, g1, out, o1, CER_CLEAN);
    expect_cer("clean_g4 page 2", gff + 1, gl - g1 - 1, off + 1, ol - o1 - 1,
               CER_CLEAN);
    free(gt);
    free(out);
}
END_TEST

START_TEST(grey8_png) { expect_page("grey8", CER_CLEAN); }
END_TEST

START_TEST(rgb_jpeg) { expect_page("rgb", CER_CLEAN); }
END_TEST

START_TEST(grey16_png) { expect_page("grey16", CER_CLEAN); }
END_TEST

START_TEST(rotated_page) { expect_page("rotated", CER_ROTATED); }
END_TEST

START_TEST(upside_down_page) { expect_page("upside_down", CER_ROTATED); }
END_TEST

/* Quotation marks in UTF-8 text: *dbl gets the double ones (" “ ” ″),
 * *sgl the single ones and apostrophes (' ‘ ’ ′ `). */
static void count_quotes(const char *t, size_t n, int *dbl, int *sgl)
{
    *dbl = *sgl = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *u = (const unsigned char *)t + i;
        if (*u == '"') (*dbl)++;
        else if (*u == '\'' || *u == '`') (*sgl)++;
        else if (i + 2 < n && u[0] == 0xE2 && u[1] == 0x80 &&
                 (u[2] == 0x9C || u[2] == 0x9D)) { (*dbl)++; i += 2; }
        else if (i + 2 < n && u[0] == 0xE2 && u[1] == 0x80 &&
                 (u[2] == 0x98 || u[2] == 0x99 || u[2] == 0xB2)) { (*sgl)++; i += 2; }
        else if (i + 2 < n && u[0] == 0xE2 && u[1] == 0x80 && u[2] == 0xB3) {
            (*dbl)++;
            i += 2;
        }
    }
}

/* (h) Curly double quotation marks come out as one double mark each (the
 * recognizer reads some as a single mark, or as two marks in a row), and
 * apostrophes as single ones; then the page's CER. */
START_TEST(quotation_marks)
{
    size_t gl = 0, ol = 0;
    char *gt = read_gt("quotes", &gl), *out = read_out("quotes", &ol);
    int gd, gs, od, os;
    count_quotes(gt, gl, &gd, &gs);
    count_quotes(out, ol, &od, &os);
    ck_assert_int_gt(gd, 10);
    ck_assert_msg(od == gd && os == gs,
                  "quotes: %d double and %d single marks, want %d and %d\n%s",
                  od, os, gd, gs, out);
    expect_cer("quotes", gt, gl, out, ol, CER_CLEAN);
    free(gt);
    free(out);
}
END_TEST

/* (f) Column 1's last line comes before column 2's first line; then the
 * page's CER (which an interleaved reading order fails too). */
START_TEST(two_columns)
{
    size_t ol = 0, rl = 0;
    char *out = read_out("twocol", &ol);
    char *order = slurp(ppath("twocol.order"), &rl);
    ck_assert_ptr_nonnull(order);
    char *nl = strchr(order, '\n');
    ck_assert_ptr_nonnull(nl);
    u32str text = ocr_norm_utf8(out, ol);
    u32str end1 = ocr_norm_utf8(order, (size_t)(nl - order));
    u32str start2 = ocr_norm_utf8(nl + 1, rl - (size_t)(nl + 1 - order));
    size_t s1, e1, s2, e2;
    size_t d1 = approx_find(&end1, &text, &s1, &e1);
    size_t d2 = approx_find(&start2, &text, &s2, &e2);
    char p1[256], p2[256];
    u32_put_utf8(p1, sizeof p1, end1.cp, end1.n);
    u32_put_utf8(p2, sizeof p2, start2.cp, start2.n);
    ck_assert_msg(d1 * 10 <= end1.n, "column 1's last line not found (%zu "
                  "edits): '%s'", d1, p1);
    ck_assert_msg(d2 * 10 <= start2.n, "column 2's first line not found (%zu "
                  "edits): '%s'", d2, p2);
    ck_assert_msg(e1 <= s2 + 3,
                  "reading order: column 1's last line '%s' is at chars "
                  "%zu-%zu, after column 2's first line '%s' at %zu-%zu",
                  p1, s1, e1, p2, s2, e2);
    u32_free(&text);
    u32_free(&end1);
    u32_free(&start2);
    free(order);
    free(out);
    expect_page("twocol", CER_CLEAN);
}
END_TEST

/* (g) Every table row (cells left to right) is one output line; then the
 * page's CER. */
START_TEST(table_rows)
{
    size_t ol = 0, rl = 0;
    char *out = read_out("table", &ol);
    char *rows = slurp(ppath("table.rows"), &rl);
    ck_assert_ptr_nonnull(rows);
    int nrows = 0;
    for (char *row = rows, *rnl; (rnl = strchr(row, '\n')); row = rnl + 1) {
        u32str r = ocr_norm_utf8(row, (size_t)(rnl - row));
        if (r.n == 0) {
            u32_free(&r);
            continue;
        }
        nrows++;
        ocr_score best = {0, 0, 2.0, ""};
        char best_line[256] = "";
        const char *line = out;
        while (line < out + ol) {
            const char *e = memchr(line, '\n', (size_t)(out + ol - line));
            if (!e)
                e = out + ol;
            u32str l = ocr_norm_utf8(line, (size_t)(e - line));
            ocr_score s = ocr_cer_u32(&r, &l);
            if (s.cer < best.cer) {
                best = s;
                u32_put_utf8(best_line, sizeof best_line, l.cp,
                             l.n < 60 ? l.n : 60);
            }
            u32_free(&l);
            line = e + 1;
        }
        char want[256];
        u32_put_utf8(want, sizeof want, r.cp, r.n < 60 ? r.n : 60);
        ck_assert_msg(best.cer <= CER_ROW,
                      "table row '%s' is not one output line: closest line "
                      "'%s' (CER %.0f%%)", want, best_line, 100 * best.cer);
        u32_free(&r);
    }
    ck_assert_int_ge(nrows, 9);
    free(rows);
    free(out);
    expect_page("table", CER_CLEAN);
}
END_TEST

/* ---- other runs ---- */

/* `-` reads the image from stdin; the output stem is "stdin". */
START_TEST(from_stdin)
{
    char *argv[] = {(char *)docrt_exe(), "ocr", "-", "-o", "stdin",
                    "--model-dir", (char *)weights, NULL};
    int st = run_argv(argv, work, ppath("rgb.jpg"), wpath("%s", "stdin.stdout"),
                      wpath("%s", "stdin.stderr"));
    char *err = slurp(wpath("%s", "stdin.stderr"), NULL), d[96];
    describe_status(st, d, sizeof d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "docrt ocr - < rgb.jpg: %s\n%s", d, err ? err : "");
    size_t gl = 0, ol = 0;
    char *gt = read_gt("rgb", &gl);
    char *out = slurp(wpath("%s", "stdin/stdin.txt"), &ol);
    ck_assert_msg(out != NULL, "no stdin/stdin.txt");
    expect_cer("stdin (rgb.jpg)", gt, gl, out, ol, CER_CLEAN);
    free(gt);
    free(out);
    free(err);
}
END_TEST

static void json_words(json_t *lines_parent, char **buf, size_t *len,
                       size_t *cap, int *n_words)
{
    json_t *lines = json_object_get(lines_parent, "lines");
    ck_assert_msg(json_is_array(lines), "JSON block without a 'lines' array");
    size_t i, j;
    json_t *line, *word;
    json_array_foreach(lines, i, line) {
        json_t *words = json_object_get(line, "words");
        ck_assert_msg(json_is_array(words), "JSON line without a 'words' array");
        json_array_foreach(words, j, word) {
            const char *v = json_string_value(json_object_get(word, "value"));
            ck_assert_msg(v != NULL, "JSON word without a string 'value'");
            ck_assert_msg(json_is_number(json_object_get(word, "confidence")),
                          "JSON word '%s' without a 'confidence'", v);
            ck_assert_msg(json_is_array(json_object_get(word, "geometry")),
                          "JSON word '%s' without a 'geometry'", v);
            size_t vl = strlen(v);
            if (*len + vl + 2 > *cap) {
                *cap = 2 * (*cap + vl + 2);
                *buf = realloc(*buf, *cap);
                ck_assert_ptr_nonnull(*buf);
            }
            memcpy(*buf + *len, v, vl);
            *len += vl;
            (*buf)[(*len)++] = ' ';
            (*n_words)++;
        }
        (*buf)[*len ? *len - 1 : 0] = '\n';
    }
}

/* docTR's export() shape: pages[].blocks[].lines[].words[] {value,
 * confidence, geometry}. */
static void check_json(const char *path, const char *gt, size_t gl)
{
    json_error_t e;
    json_t *root = json_load_file(path, 0, &e);
    ck_assert_msg(root != NULL, "%s: line %d: %s", path, e.line, e.text);
    json_t *jpages = json_object_get(root, "pages");
    ck_assert_msg(json_is_array(jpages) && json_array_size(jpages) == 1,
                  "%s: want a 'pages' array of 1", path);
    json_t *page = json_array_get(jpages, 0);
    json_t *blocks = json_object_get(page, "blocks");
    ck_assert_msg(json_is_array(blocks), "%s: page without 'blocks'", path);
    size_t cap = 1 << 12, len = 0, i;
    char *text = malloc(cap);
    int n_words = 0;
    json_t *block;
    json_array_foreach(blocks, i, block)
        json_words(block, &text, &len, &cap, &n_words);
    ck_assert_msg(n_words > 100, "%s: %d words", path, n_words);
    expect_cer("json words", gt, gl, text, len, CER_EXPORT);
    free(text);
    json_decref(root);
}

typedef struct {
    char *text;
    size_t len, cap;
    int n_pages, n_words, n_bbox;
} xml_walk;

static void walk_append(xml_walk *w, const char *s)
{
    size_t n = strlen(s);
    if (w->len + n + 2 > w->cap) {
        w->cap = 2 * (w->cap + n + 2);
        w->text = realloc(w->text, w->cap);
        ck_assert_ptr_nonnull(w->text);
    }
    memcpy(w->text + w->len, s, n);
    w->len += n;
    w->text[w->len++] = ' ';
}

static int has_class(xmlNode *n, const char *cls)
{
    xmlChar *c = xmlGetProp(n, (const xmlChar *)"class");
    int hit = 0;
    if (c) {
        size_t l = strlen(cls);
        for (const char *p = (const char *)c; (p = strstr(p, cls)); p += l)
            if ((p == (const char *)c || p[-1] == ' ') &&
                (p[l] == '\0' || p[l] == ' '))
                hit = 1;
        xmlFree(c);
    }
    return hit;
}

static void walk_hocr(xmlNode *n, xml_walk *w)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        w->n_pages += has_class(n, "ocr_page");
        if (has_class(n, "ocrx_word")) {
            xmlChar *t = xmlNodeGetContent(n);
            xmlChar *title = xmlGetProp(n, (const xmlChar *)"title");
            w->n_bbox += title && strstr((const char *)title, "bbox ") != NULL;
            walk_append(w, t ? (const char *)t : "");
            xmlFree(t);
            xmlFree(title);
            w->n_words++;
            continue;
        }
        walk_hocr(n->children, w);
    }
}

static void walk_alto(xmlNode *n, xml_walk *w)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        w->n_pages += strcmp(name, "Page") == 0;
        if (strcmp(name, "String") == 0) {
            xmlChar *c = xmlGetProp(n, (const xmlChar *)"CONTENT");
            w->n_bbox += xmlHasProp(n, (const xmlChar *)"HPOS") &&
                         xmlHasProp(n, (const xmlChar *)"VPOS");
            walk_append(w, c ? (const char *)c : "");
            xmlFree(c);
            w->n_words++;
        }
        walk_alto(n->children, w);
    }
}

static void check_xml(const char *path, int alto, const char *gt, size_t gl)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    ck_assert_msg(doc != NULL, "%s does not parse as XML (errors above)", path);
    xmlNode *root = xmlDocGetRootElement(doc);
    ck_assert_ptr_nonnull(root);
    xml_walk w = {malloc(4096), 0, 4096, 0, 0, 0};
    if (alto) {
        ck_assert_msg(strcmp((const char *)root->name, "alto") == 0,
                      "%s: root <%s>, want <alto>", path, root->name);
        ck_assert_msg(root->ns && strstr((const char *)root->ns->href,
                                         "www.loc.gov/standards/alto/"),
                      "%s: <alto> outside the ALTO namespace", path);
        walk_alto(root, &w);
    } else {
        ck_assert_msg(strcmp((const char *)root->name, "html") == 0,
                      "%s: root <%s>, want <html>", path, root->name);
        walk_hocr(root, &w);
    }
    ck_assert_msg(w.n_pages == 1, "%s: %d pages, want 1", path, w.n_pages);
    ck_assert_msg(w.n_words > 100, "%s: %d words", path, w.n_words);
    ck_assert_msg(w.n_bbox == w.n_words, "%s: %d of %d words have a box",
                  path, w.n_bbox, w.n_words);
    expect_cer(alto ? "alto words" : "hocr words", gt, gl, w.text, w.len,
               CER_EXPORT);
    free(w.text);
    xmlFreeDoc(doc);
}

/* --precision int8: without a calibration it fails and says how to make
 * one; `docrt calibrate` on one page writes the detector's and the
 * recognizer's calibration; another page then reads as cleanly in int8 as
 * the clean pages must in float. */
START_TEST(int8_pages)
{
    char det[700], rec[700];
    snprintf(det, sizeof det, "%s", wpath("%s", "det.int8.json"));
    snprintf(rec, sizeof rec, "%s", wpath("%s", "rec.int8.json"));
    char *no_cal[] = {(char *)docrt_exe(), "ocr", (char *)ppath("rgb.jpg"),
                      "-o", "i8none", "--precision", "int8", "--det-int8",
                      det, "--model-dir", (char *)weights, NULL};
    int st = run_argv(no_cal, work, NULL, wpath("%s", "i8none.stdout"),
                      wpath("%s", "i8none.stderr"));
    char *err = slurp(wpath("%s", "i8none.stderr"), NULL), d[96];
    describe_status(st, d, sizeof d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0 && err &&
                  strstr(err, "det.int8.json") && strstr(err, "docrt calibrate"),
                  "int8 without a calibration: %s\n%s", d, err ? err : "");
    free(err);

    char *cal[] = {(char *)docrt_exe(), "calibrate", (char *)ppath("grey8.png"),
                   (char *)ppath("table.png"), "--det-out", det, "--rec-out", rec,
                   "--model-dir", (char *)weights, NULL};
    st = run_argv(cal, work, NULL, wpath("%s", "cal.stdout"), wpath("%s", "cal.stderr"));
    err = slurp(wpath("%s", "cal.stderr"), NULL);
    describe_status(st, d, sizeof d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && err &&
                  strstr(err, "2 pages recorded"),
                  "docrt calibrate: %s\n%s", d, err ? err : "");
    free(err);
    ck_assert(file_exists(det) && file_exists(rec));

    char *run[] = {(char *)docrt_exe(), "ocr", (char *)ppath("rgb.jpg"),
                   "-o", "i8", "--precision", "int8", "--det-int8", det,
                   "--rec-int8", rec, "--timing", "--model-dir", (char *)weights,
                   NULL};
    st = run_argv(run, work, NULL, wpath("%s", "i8.stdout"), wpath("%s", "i8.stderr"));
    err = slurp(wpath("%s", "i8.stderr"), NULL);
    describe_status(st, d, sizeof d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && err &&
                  strstr(err, "detector int8, recognizer int8"),
                  "docrt ocr --precision int8: %s\n%s", d, err ? err : "");
    free(err);
    size_t gl = 0, ol = 0;
    char *gt = read_gt("rgb", &gl), *out = slurp(wpath("%s", "i8/rgb.txt"), &ol);
    ck_assert_ptr_nonnull(out);
    expect_cer("rgb (int8)", gt, gl, out, ol, CER_CLEAN);
    free(gt);
    free(out);
}
END_TEST

START_TEST(formats)
{
    char *argv[] = {(char *)docrt_exe(), "ocr", (char *)ppath("grey8.png"),
                    "-o", "fmt", "--format", "json,hocr,alto",
                    "--model-dir", (char *)weights, NULL};
    int st = run_argv(argv, work, NULL, wpath("%s", "fmt.stdout"),
                      wpath("%s", "fmt.stderr"));
    char *err = slurp(wpath("%s", "fmt.stderr"), NULL), d[96];
    describe_status(st, d, sizeof d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "docrt ocr --format json,hocr,alto: %s\n%s", d,
                  err ? err : "");
    free(err);
    size_t gl = 0;
    char *gt = read_gt("grey8", &gl);
    /* The extensions docrt_format_ext() documents in docrt.h; spelled out
     * here so that this test only needs the executable. */
    check_json(wpath("%s", "fmt/grey8.json"), gt, gl);
    check_xml(wpath("%s", "fmt/grey8.hocr"), 0, gt, gl);
    check_xml(wpath("%s", "fmt/grey8.xml"), 1, gt, gl);
    ck_assert_msg(!file_exists(wpath("%s", "fmt/grey8.txt")),
                  "--format json,hocr,alto also wrote txt");
    free(gt);
}
END_TEST

/* Usage errors: exit 2 and a message, before any model is loaded. */
START_TEST(usage_errors)
{
    static const char *cases[][6] = {
        {"ocr", NULL},
        {"ocr", "-o", "u", NULL},
        {"ocr", "x.png", "-o", "u", "--format", "pdf"},
        {"ocr", "x.png", "-o", "u", "--frobnicate", NULL},
        {"ocr", "x.png", "-o", "u", "--threads", "0"},
    };
    const char *tmp = env_or("TMPDIR", "/tmp");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[8] = {(char *)docrt_exe()}, line[256] = "";
        for (int k = 0; k < 6 && cases[i][k]; k++) {
            argv[k + 1] = (char *)cases[i][k];
            strncat(line, " ", sizeof line - strlen(line) - 1);
            strncat(line, cases[i][k], sizeof line - strlen(line) - 1);
        }
        char so[PATH_MAX], se[PATH_MAX];
        snprintf(so, sizeof so, "%s/test_ocr_usage.%ld.out", tmp, (long)getpid());
        snprintf(se, sizeof se, "%s/test_ocr_usage.%ld.err", tmp, (long)getpid());
        int st = run_argv(argv, tmp, NULL, so, se);
        char *err = slurp(se, NULL), d[96];
        describe_status(st, d, sizeof d);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2,
                      "docrt%s: %s, want exit 2\n%s", line, d, err ? err : "");
        ck_assert_msg(err && strstr(err, "docrt"), "docrt%s: no message", line);
        free(err);
        unlink(so);
        unlink(se);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ocr_pages");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, usage_errors);
    suite_add_tcase(s, usage);

    weights = model_dir("test_ocr_pages");
    if (weights) {
        pages = pages_dir();
        if (!pages)
            return EXIT_FAILURE;
        snprintf(work, sizeof work, "%s/test_ocr_pages",
                 env_or("DOCRT_BINARY_DIR", env_or("TMPDIR", "/tmp")));
        rm_rf(work);

        TCase *tc = tcase_create("pages");
        tcase_set_timeout(tc, 600);
        /* Once, in the runner's process, before the tests fork: they all
         * read its outputs. */
        tcase_add_unchecked_fixture(tc, run_batch, NULL);
        tcase_add_test(tc, batch_exit);
        tcase_add_test(tc, multipage_g4);
        tcase_add_test(tc, grey8_png);
        tcase_add_test(tc, rgb_jpeg);
        tcase_add_test(tc, grey16_png);
        tcase_add_test(tc, rotated_page);
        tcase_add_test(tc, upside_down_page);
        tcase_add_test(tc, two_columns);
        tcase_add_test(tc, table_rows);
        tcase_add_test(tc, quotation_marks);
        tcase_add_test(tc, from_stdin);
        tcase_add_test(tc, formats);
        tcase_add_test(tc, int8_pages);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(batch_err);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
