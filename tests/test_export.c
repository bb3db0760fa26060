/* test_export.c - the exporters (txt, JSON, hOCR, ALTO) on page trees built
 * by hand: two pages (one empty), blocks, lines, words, a line turned by a
 * few degrees, text with markup characters, non-ASCII, control characters
 * and broken UTF-8. Each format is parsed back (xmllint and libxml2 for the
 * XML ones, jansson for JSON), its words compared with the input after the
 * documented sanitising, and a known word's coordinates checked. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "docrt.h"

/* ---- the fixture ---- */

#define FFFD "\xEF\xBF\xBD"
#define SOURCE "sc\"an<&>\xC3\xA9.tif"

static const char *const word_in[] = {
    "Hello", "w\xC3\xB6rld",                       /* line 0 */
    "Rot", "ated",                                 /* line 1, turned */
    "<a&b>", "\"q'u\"", "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80",
    "c\x01\x02l", "inv\xC3(x\xFF", "t\tab", "cut\xE4\xB8",
    "sur\xED\xA0\x80", "\xEF\xBF\xBE]]>",          /* line 2 */
    "end", "far",                                  /* line 3 */
};
/* What every format must carry for them: docrt_sbuf_put_clean's rules. */
static const char *const word_out[] = {
    "Hello", "w\xC3\xB6rld",
    "Rot", "ated",
    "<a&b>", "\"q'u\"", "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80",
    "c" FFFD FFFD "l", "inv" FFFD "(x" FFFD, "t ab", "cut" FFFD,
    "sur" FFFD FFFD FFFD, FFFD "]]>",
    "end", "far",
};
#define N_WORDS ((int)(sizeof word_in / sizeof word_in[0]))
#define N_TRICKY 9 /* words of line 2 */
#define NAN_WORD 4 /* "<a&b>" has a NaN confidence */

typedef struct {
    docrt_word words[N_WORDS];
    docrt_line lines[4];
    docrt_block blocks[2];
    docrt_page pages[2];
} fixture;

static docrt_quad box_quad(docrt_box b)
{
    docrt_quad q = {{b.x0, b.x1, b.x1, b.x0}, {b.y0, b.y0, b.y1, b.y1}};
    return q;
}

static docrt_quad quad4(float x0, float y0, float x1, float y1, float x2,
                        float y2, float x3, float y3)
{
    docrt_quad q = {{x0, x1, x2, x3}, {y0, y1, y2, y3}};
    return q;
}

static void set_word(docrt_word *w, const char *text, docrt_box b, float c)
{
    memset(w, 0, sizeof *w);
    w->text = text;
    w->box = b;
    w->quad = box_quad(b);
    w->confidence = c;
}

static void make_fixture(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    docrt_word *w = fx->words;
    set_word(&w[0], word_in[0], (docrt_box){100, 100, 200, 130}, 0.98f);
    set_word(&w[1], word_in[1], (docrt_box){210, 100, 330, 130}, 0.875f);
    set_word(&w[2], word_in[2], (docrt_box){100, 185, 253, 230}, 0.5f);
    w[2].quad = quad4(100, 200, 250, 185, 253, 215, 103, 230);
    set_word(&w[3], word_in[3], (docrt_box){260, 170, 403, 214}, 0.6f);
    w[3].quad = quad4(260, 184, 400, 170, 403, 200, 263, 214);
    for (int i = 0; i < N_TRICKY; i++) {
        float x = 100.0f + 90.0f * (float)i;
        set_word(&w[4 + i], word_in[4 + i],
                 (docrt_box){x, 300, x + 80, 340}, 0.9f);
    }
    w[NAN_WORD].confidence = NAN;
    set_word(&w[13], word_in[13], (docrt_box){100, 360, 160, 390}, 1.0f);
    /* Coordinates a broken producer might give: clamped, never UB. */
    set_word(&w[14], word_in[14], (docrt_box){-50, 1e30f, NAN, 2000}, 2.0f);

    docrt_line *l = fx->lines;
    l[0] = (docrt_line){.text = "Hello w\xC3\xB6rld",
                        .box = {100, 100, 330, 130},
                        .confidence = 0.9f, .words = &w[0], .n_words = 2};
    l[0].quad = box_quad(l[0].box);
    l[1] = (docrt_line){.text = "Rot ated", .box = {100, 170, 403, 230},
                        .confidence = 0.55f, .words = &w[2], .n_words = 2};
    l[1].quad = quad4(100, 200, 400, 170, 403, 200, 103, 230);
    l[2] = (docrt_line){.text = "tricky", .box = {100, 300, 900, 340},
                        .confidence = 0.9f, .words = &w[4],
                        .n_words = N_TRICKY};
    l[2].quad = box_quad(l[2].box);
    l[3] = (docrt_line){.text = "end far", .box = {100, 360, 160, 390},
                        .confidence = 1.0f, .words = &w[13], .n_words = 2};
    l[3].quad = box_quad(l[3].box);

    fx->blocks[0] = (docrt_block){.box = {100, 100, 403, 230},
                                  .confidence = 0.7f, .lines = &l[0],
                                  .n_lines = 2};
    fx->blocks[1] = (docrt_block){.box = {100, 300, 900, 390},
                                  .confidence = 0.9f, .lines = &l[2],
                                  .n_lines = 2};

    fx->pages[0] = (docrt_page){.width = 1000, .height = 800,
                                .dpi_x = 300, .dpi_y = 300, .rotation = 90,
                                .page_index = 0, .blocks = fx->blocks,
                                .n_blocks = 2};
    fx->pages[1] = (docrt_page){.width = 1000, .height = 800,
                                .page_index = 1};
}

/* ---- files ---- */

static char tmpdir[4096];

static void make_tmpdir(void)
{
    const char *base = getenv("DOCRT_BINARY_DIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_export_XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(const char *path)
{
    if (path)
        unlink(path);
    rmdir(tmpdir);
}

static char *path_in_tmp(const char *name)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static docrt_status write_doc(docrt_format fmt, const docrt_page *pages,
                              int n, const char *path)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    docrt_writer *w = NULL;
    docrt_status st = docrt_writer_open(f, fmt, SOURCE, &w);
    ck_assert_int_eq(st, DOCRT_OK);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(docrt_writer_add_page(w, &pages[i]), DOCRT_OK);
    st = docrt_writer_close(w);
    ck_assert_int_eq(fclose(f), 0);
    return st;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static void xmllint_ok(const char *path)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "xmllint --noout --nonet '%s'", path);
    ck_assert_msg(system(cmd) == 0, "xmllint rejects %s", path);
}

static xmlDocPtr parse_xml(const char *path)
{
    xmlDocPtr d = xmlReadFile(path, NULL, XML_PARSE_NONET);
    ck_assert_msg(d != NULL, "libxml2 cannot parse %s", path);
    return d;
}

/* ---- format names ---- */

START_TEST(format_ext_names)
{
    ck_assert_str_eq(docrt_format_ext(DOCRT_FORMAT_TXT), "txt");
    ck_assert_str_eq(docrt_format_ext(DOCRT_FORMAT_JSON), "json");
    ck_assert_str_eq(docrt_format_ext(DOCRT_FORMAT_HOCR), "hocr");
    ck_assert_str_eq(docrt_format_ext(DOCRT_FORMAT_ALTO), "xml");
    ck_assert_ptr_null(docrt_format_ext((docrt_format)0));
    ck_assert_ptr_null(docrt_format_ext((docrt_format)3));
}
END_TEST

START_TEST(format_parse_accepts_and_rejects)
{
    int f = -1;
    ck_assert_int_eq(docrt_format_parse("txt,json,hocr,alto", &f), DOCRT_OK);
    ck_assert_int_eq(f, 15);
    ck_assert_int_eq(docrt_format_parse("TXT,Hocr", &f), DOCRT_OK);
    ck_assert_int_eq(f, DOCRT_FORMAT_TXT | DOCRT_FORMAT_HOCR);
    ck_assert_int_eq(docrt_format_parse(" json , ALTO ", &f), DOCRT_OK);
    ck_assert_int_eq(f, DOCRT_FORMAT_JSON | DOCRT_FORMAT_ALTO);
    ck_assert_int_eq(docrt_format_parse("txt,txt", &f), DOCRT_OK);
    ck_assert_int_eq(f, DOCRT_FORMAT_TXT);

    static const char *const bad[] = {"", " ", "pdf", "txt,pdf", "txt,,json",
                                      "txt,", ",txt", "xml", "tx", "txtt",
                                      "t xt", "json;hocr"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = 77;
        ck_assert_msg(docrt_format_parse(bad[i], &f) == DOCRT_ERR_ARG,
                      "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(f, 77); /* untouched on error */
    }
    ck_assert_int_eq(docrt_format_parse(NULL, &f), DOCRT_ERR_ARG);
    ck_assert_int_eq(docrt_format_parse("txt", NULL), DOCRT_ERR_ARG);
}
END_TEST

/* ---- txt ---- */

START_TEST(txt_known_pages_byte_exact)
{
    docrt_word w[5];
    set_word(&w[0], "a", (docrt_box){0, 0, 10, 10}, 1);
    set_word(&w[1], "b", (docrt_box){20, 0, 30, 10}, 1);
    set_word(&w[2], "c", (docrt_box){0, 20, 10, 30}, 1);
    set_word(&w[3], "d", (docrt_box){0, 50, 10, 60}, 1);
    set_word(&w[4], "e", (docrt_box){0, 0, 10, 10}, 1);
    docrt_line l[4] = {{.words = &w[0], .n_words = 2},
                       {.words = &w[2], .n_words = 1},
                       {.words = &w[3], .n_words = 1},
                       {.words = &w[4], .n_words = 1}};
    docrt_block b[3] = {{.lines = &l[0], .n_lines = 2},
                        {.lines = &l[2], .n_lines = 1},
                        {.lines = &l[3], .n_lines = 1}};
    docrt_page p[2] = {{.width = 100, .height = 100, .blocks = &b[0],
                        .n_blocks = 2},
                       {.width = 100, .height = 100, .page_index = 1,
                        .blocks = &b[2], .n_blocks = 1}};
    make_tmpdir();
    const char *path = path_in_tmp("known.txt");
    ck_assert_int_eq(write_doc(DOCRT_FORMAT_TXT, p, 2, path), DOCRT_OK);
    size_t n;
    char *s = slurp(path, &n);
    static const char want[] = "a b\nc\n\nd\n\fe\n";
    ck_assert_uint_eq(n, sizeof want - 1);
    ck_assert_mem_eq(s, want, n);
    free(s);
    remove_tmpdir(path);
}
END_TEST

START_TEST(txt_fixture_sanitised_and_paged)
{
    fixture fx;
    make_fixture(&fx);
    make_tmpdir();
    const char *path = path_in_tmp("fixture.txt");
    ck_assert_int_eq(write_doc(DOCRT_FORMAT_TXT, fx.pages, 2, path),
                     DOCRT_OK);
    size_t n;
    char *s = slurp(path, &n);
    char want[1024] = "";
    const int line_end[] = {2, 4, 4 + N_TRICKY, N_WORDS};
    int wi = 0;
    for (int l = 0; l < 4; l++) {
        if (l == 2)
            strcat(want, "\n"); /* blank line between the blocks */
        for (int k = 0; wi < line_end[l]; wi++, k++) {
            if (k)
                strcat(want, " ");
            strcat(want, word_out[wi]);
        }
        strcat(want, "\n");
    }
    strcat(want, "\f"); /* the empty second page is just its separator */
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(s, want, n);
    free(s);
    remove_tmpdir(path);
}
END_TEST

/* ---- JSON ---- */

static void assert_keys(json_t *o, const char *const *keys, int n)
{
    ck_assert(json_is_object(o));
    ck_assert_int_eq((int)json_object_size(o), n);
    int i = 0;
    for (void *it = json_object_iter(o); it;
         it = json_object_iter_next(o, it), i++)
        ck_assert_str_eq(json_object_iter_key(it), keys[i]);
}

static void assert_point(json_t *pt, double x, double y)
{
    ck_assert(json_is_array(pt));
    ck_assert_int_eq((int)json_array_size(pt), 2);
    ck_assert_double_eq_tol(json_number_value(json_array_get(pt, 0)), x,
                            1e-6);
    ck_assert_double_eq_tol(json_number_value(json_array_get(pt, 1)), y,
                            1e-6);
}

START_TEST(json_docTR_shape)
{
    static const char *const page_keys[] = {"page_idx", "dimensions",
                                            "orientation", "language",
                                            "blocks"};
    static const char *const block_keys[] = {"geometry", "lines",
                                             "artefacts"};
    static const char *const line_keys[] = {"geometry", "words"};
    static const char *const word_keys[] = {"value", "confidence",
                                            "geometry", "crop_orientation"};
    static const char *const vc_keys[] = {"value", "confidence"};
    fixture fx;
    make_fixture(&fx);
    make_tmpdir();
    const char *path = path_in_tmp("fixture.json");
    ck_assert_int_eq(write_doc(DOCRT_FORMAT_JSON, fx.pages, 2, path),
                     DOCRT_OK);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    ck_assert_msg(doc != NULL, "json: %s (line %d)", err.text, err.line);
    static const char *const top_keys[] = {"pages"};
    assert_keys(doc, top_keys, 1);
    json_t *pages = json_object_get(doc, "pages");
    ck_assert_int_eq((int)json_array_size(pages), 2);

    json_t *p0 = json_array_get(pages, 0);
    assert_keys(p0, page_keys, 5);
    ck_assert_int_eq(json_integer_value(json_object_get(p0, "page_idx")), 0);
    json_t *dims = json_object_get(p0, "dimensions");
    ck_assert_int_eq(json_integer_value(json_array_get(dims, 0)), 800);
    ck_assert_int_eq(json_integer_value(json_array_get(dims, 1)), 1000);
    json_t *orient = json_object_get(p0, "orientation");
    assert_keys(orient, vc_keys, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(orient, "value")), 90);
    ck_assert(json_is_null(json_object_get(orient, "confidence")));
    json_t *lang = json_object_get(p0, "language");
    assert_keys(lang, vc_keys, 2);
    ck_assert(json_is_null(json_object_get(lang, "value")));

    int wi = 0;
    json_t *blocks = json_object_get(p0, "blocks");
    ck_assert_int_eq((int)json_array_size(blocks), 2);
    for (size_t b = 0; b < json_array_size(blocks); b++) {
        json_t *bl = json_array_get(blocks, b);
        assert_keys(bl, block_keys, 3);
        ck_assert_int_eq((int)json_array_size(json_object_get(bl,
                                                              "artefacts")),
                         0);
        json_t *lines = json_object_get(bl, "lines");
        for (size_t l = 0; l < json_array_size(lines); l++) {
            json_t *ln = json_array_get(lines, l);
            assert_keys(ln, line_keys, 2);
            /* The turned line is a polygon, the others boxes. */
            ck_assert_int_eq((int)json_array_size(json_object_get(ln,
                                                                  "geometry")),
                             (b == 0 && l == 1) ? 4 : 2);
            json_t *words = json_object_get(ln, "words");
            for (size_t k = 0; k < json_array_size(words); k++, wi++) {
                json_t *w = json_array_get(words, k);
                assert_keys(w, word_keys, 4);
                ck_assert_int_lt(wi, N_WORDS);
                ck_assert_str_eq(json_string_value(json_object_get(w,
                                                                   "value")),
                                 word_out[wi]);
                json_t *c = json_object_get(w, "confidence");
                if (wi == NAN_WORD)
                    ck_assert(json_is_null(c));
                else /* "far" says 2.0: clamped */
                    ck_assert_double_eq_tol(json_number_value(c),
                                            fminf(fx.words[wi].confidence,
                                                  1.0f),
                                            1e-6);
                json_t *co = json_object_get(w, "crop_orientation");
                assert_keys(co, vc_keys, 2);
                ck_assert_int_eq(json_integer_value(json_object_get(co,
                                                                    "value")),
                                 0);
                json_t *g = json_object_get(w, "geometry");
                ck_assert_int_eq((int)json_array_size(g),
                                 (wi == 2 || wi == 3) ? 4 : 2);
                for (size_t i = 0; i < json_array_size(g); i++)
                    for (int j = 0; j < 2; j++) {
                        double v = json_number_value(
                            json_array_get(json_array_get(g, i), j));
                        ck_assert(v >= 0.0 && v <= 1.0);
                    }
            }
        }
    }
    ck_assert_int_eq(wi, N_WORDS);

    /* "Hello": (100, 100)-(200, 130) on 1000 x 800. */
    json_t *hello = json_array_get(
        json_object_get(
            json_array_get(json_object_get(json_array_get(blocks, 0),
                                           "lines"),
                           0),
            "words"),
        0);
    json_t *g = json_object_get(hello, "geometry");
    assert_point(json_array_get(g, 0), 0.1, 0.125);
    assert_point(json_array_get(g, 1), 0.2, 0.1625);
    /* "Rot": corners clockwise from the text's top-left. */
    json_t *rot = json_array_get(
        json_object_get(
            json_array_get(json_object_get(json_array_get(blocks, 0),
                                           "lines"),
                           1),
            "words"),
        0);
    g = json_object_get(rot, "geometry");
    assert_point(json_array_get(g, 0), 0.1, 0.25);
    assert_point(json_array_get(g, 1), 0.25, 0.23125);
    assert_point(json_array_get(g, 2), 0.253, 0.26875);
    assert_point(json_array_get(g, 3), 0.103, 0.2875);

    json_t *p1 = json_array_get(pages, 1);
    assert_keys(p1, page_keys, 5);
    ck_assert_int_eq(json_integer_value(json_object_get(p1, "page_idx")), 1);
    ck_assert(json_is_array(json_object_get(p1, "blocks")));
    ck_assert_int_eq((int)json_array_size(json_object_get(p1, "blocks")), 0);
    json_decref(doc);
    remove_tmpdir(path);
}
END_TEST

/* ---- XML walking ---- */

static char *prop(xmlNodePtr n, const char *name)
{
    return (char *)xmlGetProp(n, BAD_CAST name);
}

static int prop_is(xmlNodePtr n, const char *name, const char *v)
{
    char *p = prop(n, name);
    int eq = p && strcmp(p, v) == 0;
    xmlFree(p);
    return eq;
}

typedef struct {
    xmlNodePtr nodes[256];
    int n;
} node_list;

/* Elements named `name` (any namespace) whose class is cls (NULL: any). */
static void collect(xmlNodePtr n, const char *name, const char *cls,
                    node_list *out)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if ((!name || strcmp((const char *)n->name, name) == 0) &&
            (!cls || prop_is(n, "class", cls))) {
            ck_assert_int_lt(out->n, 256);
            out->nodes[out->n++] = n;
        }
        collect(n->children, name, cls, out);
    }
}

static void assert_prop(xmlNodePtr n, const char *name, const char *want)
{
    char *p = prop(n, name);
    ck_assert_msg(p != NULL, "no %s on <%s>", name, n->name);
    ck_assert_str_eq(p, want);
    xmlFree(p);
}

/* ---- hOCR ---- */

START_TEST(hocr_parses_and_round_trips)
{
    fixture fx;
    make_fixture(&fx);
    make_tmpdir();
    const char *path = path_in_tmp("fixture.hocr");
    ck_assert_int_eq(write_doc(DOCRT_FORMAT_HOCR, fx.pages, 2, path),
                     DOCRT_OK);
    xmllint_ok(path);
    xmlDocPtr d = parse_xml(path);
    xmlNodePtr root = xmlDocGetRootElement(d);
    ck_assert_str_eq((const char *)root->name, "html");
    ck_assert_str_eq((const char *)root->ns->href,
                     "http://www.w3.org/1999/xhtml");

    node_list metas = {.n = 0};
    collect(root, "meta", NULL, &metas);
    int seen = 0;
    for (int i = 0; i < metas.n; i++) {
        if (prop_is(metas.nodes[i], "name", "ocr-system")) {
            assert_prop(metas.nodes[i], "content",
                        "docrt " DOCRT_VERSION_STRING);
            seen |= 1;
        }
        if (prop_is(metas.nodes[i], "name", "ocr-capabilities")) {
            assert_prop(metas.nodes[i], "content",
                        "ocr_page ocr_carea ocr_par ocr_line ocrx_word "
                        "ocrp_wconf");
            seen |= 2;
        }
    }
    ck_assert_int_eq(seen, 3);

    node_list pages = {.n = 0}, areas = {.n = 0}, pars = {.n = 0},
              lines = {.n = 0}, words = {.n = 0};
    collect(root, "div", "ocr_page", &pages);
    collect(root, "div", "ocr_carea", &areas);
    collect(root, "p", "ocr_par", &pars);
    collect(root, "span", "ocr_line", &lines);
    collect(root, "span", "ocrx_word", &words);
    ck_assert_int_eq(pages.n, 2);
    ck_assert_int_eq(areas.n, 2);
    ck_assert_int_eq(pars.n, 2);
    ck_assert_int_eq(lines.n, 4);
    ck_assert_int_eq(words.n, N_WORDS);
    assert_prop(pages.nodes[0], "id", "page_1");
    assert_prop(pages.nodes[0], "title",
                "image \"sc\\\"an<&>\xC3\xA9.tif\"; bbox 0 0 1000 800; "
                "ppageno 0; scan_res 300 300");
    assert_prop(pages.nodes[1], "id", "page_2");
    assert_prop(pages.nodes[1], "title",
                "image \"sc\\\"an<&>\xC3\xA9.tif\"; bbox 0 0 1000 800; "
                "ppageno 1");
    ck_assert_ptr_null(pages.nodes[1]->children ?
                       xmlFirstElementChild(pages.nodes[1]) : NULL);
    assert_prop(areas.nodes[1], "id", "block_1_2");
    assert_prop(areas.nodes[0], "title", "bbox 100 100 403 230");
    assert_prop(pars.nodes[0], "id", "par_1_1");
    assert_prop(lines.nodes[0], "title", "bbox 100 100 330 130; baseline 0 0");
    /* The turned line: bottom edge (103,230)-(403,200). */
    assert_prop(lines.nodes[1], "title",
                "bbox 100 170 403 230; baseline -0.100 0");
    assert_prop(lines.nodes[3], "id", "line_1_4");

    for (int i = 0; i < words.n; i++) {
        char id[32];
        snprintf(id, sizeof id, "word_1_%d", i + 1);
        assert_prop(words.nodes[i], "id", id);
        char *text = (char *)xmlNodeGetContent(words.nodes[i]);
        ck_assert_str_eq(text, word_out[i]);
        xmlFree(text);
    }
    assert_prop(words.nodes[0], "title", "bbox 100 100 200 130; x_wconf 98");
    assert_prop(words.nodes[1], "title", "bbox 210 100 330 130; x_wconf 88");
    assert_prop(words.nodes[NAN_WORD], "title",
                "bbox 100 300 180 340; x_wconf 0");
    assert_prop(words.nodes[14], "title", "bbox 0 800 0 800; x_wconf 100");
    /* Words of a line are separated by a space in the text. */
    char *line0 = (char *)xmlNodeGetContent(lines.nodes[0]);
    ck_assert_str_eq(line0, "Hello w\xC3\xB6rld");
    xmlFree(line0);
    xmlFreeDoc(d);
    remove_tmpdir(path);
}
END_TEST

START_TEST(hocr_turned_lines_get_textangle)
{
    docrt_word w[2];
    set_word(&w[0], "up", (docrt_box){10, 20, 30, 100}, 0.5f);
    w[0].quad = quad4(10, 100, 10, 20, 30, 20, 30, 100); /* bottom to top */
    set_word(&w[1], "down", (docrt_box){50, 50, 150, 70}, 0.5f);
    w[1].quad = quad4(150, 70, 50, 70, 50, 50, 150, 50); /* upside down */
    docrt_line l[2] = {{.box = w[0].box, .quad = w[0].quad, .words = &w[0],
                        .n_words = 1},
                       {.box = w[1].box, .quad = w[1].quad, .words = &w[1],
                        .n_words = 1}};
    docrt_block b = {.box = {10, 20, 150, 100}, .lines = l, .n_lines = 2};
    docrt_page p = {.width = 200, .height = 200, .blocks = &b, .n_blocks = 1};
    make_tmpdir();
    const char *path = path_in_tmp("turned.hocr");
    ck_assert_int_eq(write_doc(DOCRT_FORMAT_HOCR, &p, 1, path), DOCRT_OK);
    xmllint_ok(path);
    xmlDocPtr d = parse_xml(path);
    node_list lines = {.n = 0};
    collect(xmlDocGetRootElement(d), "span", "ocr_line", &lines);
    ck_assert_int_eq(lines.n, 2);
    assert_prop(lines.nodes[0], "title", "bbox 10 20 30 100; textangle 90");
    assert_prop(lines.nodes[1], "title", "bbox 50 50 150 70; textangle 180");
    xmlFreeDoc(d);
    remove_tmpdir(path);
}
END_TEST

/* ---- ALTO ---- */

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

START_TEST(alto_parses_and_round_trips)
{
    fixture fx;
    make_fixture(&fx);
    make_tmpdir();
    const char *path = path_in_tmp("fixture.xml");
    ck_assert_int_eq(write_doc(DOCRT_FORMAT_ALTO, fx.pages, 2, path),
                     DOCRT_OK);
    xmllint_ok(path);
    xmlDocPtr d = parse_xml(path);
    xmlNodePtr root = xmlDocGetRootElement(d);
    ck_assert_str_eq((const char *)root->name, "alto");
    ck_assert_ptr_nonnull(root->ns);
    ck_assert_str_eq((const char *)root->ns->href,
                     "http://www.loc.gov/standards/alto/ns-v4#");

    xmlNodePtr desc = child(root, "Description");
    char *unit = (char *)xmlNodeGetContent(child(desc, "MeasurementUnit"));
    ck_assert_str_eq(unit, "pixel");
    xmlFree(unit);
    char *fname = (char *)xmlNodeGetContent(
        child(child(desc, "sourceImageInformation"), "fileName"));
    ck_assert_str_eq(fname, SOURCE);
    xmlFree(fname);
    char *sw = (char *)xmlNodeGetContent(child(
        child(child(child(desc, "OCRProcessing"), "ocrProcessingStep"),
              "processingSoftware"),
        "softwareName"));
    ck_assert_str_eq(sw, "docrt");
    xmlFree(sw);

    node_list pages = {.n = 0}, strings = {.n = 0}, sps = {.n = 0},
              lines = {.n = 0}, blocks = {.n = 0};
    collect(root, "Page", NULL, &pages);
    collect(root, "String", NULL, &strings);
    collect(root, "SP", NULL, &sps);
    collect(root, "TextLine", NULL, &lines);
    collect(root, "TextBlock", NULL, &blocks);
    ck_assert_int_eq(pages.n, 2);
    assert_prop(pages.nodes[0], "ID", "page_1");
    assert_prop(pages.nodes[0], "PHYSICAL_IMG_NR", "1");
    assert_prop(pages.nodes[0], "WIDTH", "1000");
    assert_prop(pages.nodes[0], "HEIGHT", "800");
    assert_prop(pages.nodes[1], "ID", "page_2");
    assert_prop(pages.nodes[1], "PHYSICAL_IMG_NR", "2");
    xmlNodePtr ps = child(pages.nodes[1], "PrintSpace");
    ck_assert_ptr_nonnull(ps);
    ck_assert_ptr_null(child(ps, "TextBlock"));
    ck_assert_int_eq(blocks.n, 2);
    ck_assert_int_eq(lines.n, 4);
    assert_prop(blocks.nodes[1], "ID", "block_1_2");

    ck_assert_int_eq(strings.n, N_WORDS);
    for (int i = 0; i < strings.n; i++) {
        char id[32];
        snprintf(id, sizeof id, "string_1_%d", i + 1);
        assert_prop(strings.nodes[i], "ID", id);
        assert_prop(strings.nodes[i], "CONTENT", word_out[i]);
        char *wc = prop(strings.nodes[i], "WC");
        double v = atof(wc);
        ck_assert(v >= 0.0 && v <= 1.0);
        xmlFree(wc);
    }
    /* A space between the words of each line: 1 + 1 + 8 + 1. */
    ck_assert_int_eq(sps.n, N_WORDS - 4);
    assert_prop(sps.nodes[0], "HPOS", "200");
    assert_prop(sps.nodes[0], "WIDTH", "10");

    xmlNodePtr hello = strings.nodes[0];
    assert_prop(hello, "HPOS", "100");
    assert_prop(hello, "VPOS", "100");
    assert_prop(hello, "WIDTH", "100");
    assert_prop(hello, "HEIGHT", "30");
    assert_prop(hello, "WC", "0.980");
    assert_prop(strings.nodes[NAN_WORD], "WC", "0.000");
    ck_assert_ptr_null(child(hello, "Shape"));
    /* The turned word and line carry their corners. */
    xmlNodePtr poly = child(child(strings.nodes[2], "Shape"), "Polygon");
    ck_assert_ptr_nonnull(poly);
    assert_prop(poly, "POINTS", "100,200 250,185 253,215 103,230");
    poly = child(child(lines.nodes[1], "Shape"), "Polygon");
    ck_assert_ptr_nonnull(poly);
    assert_prop(poly, "POINTS", "100,200 400,170 403,200 103,230");
    ck_assert_ptr_null(child(lines.nodes[0], "Shape"));
    /* Shape comes first in a TextLine. */
    xmlNodePtr first = xmlFirstElementChild(lines.nodes[1]);
    ck_assert_str_eq((const char *)first->name, "Shape");
    assert_prop(strings.nodes[14], "VPOS", "800");
    assert_prop(strings.nodes[14], "HEIGHT", "0");
    xmlFreeDoc(d);
    remove_tmpdir(path);
}
END_TEST

/* ---- the cases every format must handle ---- */

static const docrt_format all_formats[] = {
    DOCRT_FORMAT_TXT, DOCRT_FORMAT_JSON, DOCRT_FORMAT_HOCR, DOCRT_FORMAT_ALTO};

START_TEST(no_pages_and_empty_pages_are_valid)
{
    fixture fx;
    make_fixture(&fx);
    make_tmpdir();
    const char *path = path_in_tmp("empty");
    for (int n = 0; n <= 2; n += 2) {
        /* n = 0: no page at all; n = 2: two empty pages, the first of
         * unknown size (what the CLI writes for a page it cannot read). */
        docrt_page empty[2] = {fx.pages[1], fx.pages[1]};
        empty[0].page_index = 0;
        empty[0].width = empty[0].height = 0;
        for (int i = 0; i < 4; i++) {
            docrt_format fmt = all_formats[i];
            ck_assert_int_eq(write_doc(fmt, empty, n, path), DOCRT_OK);
            size_t len;
            char *s = slurp(path, &len);
            if (fmt == DOCRT_FORMAT_TXT) {
                ck_assert_uint_eq(len, (size_t)(n ? 1 : 0));
                if (n)
                    ck_assert_int_eq(s[0], '\f');
            } else if (fmt == DOCRT_FORMAT_JSON) {
                json_error_t err;
                json_t *doc = json_loads(s, 0, &err);
                ck_assert_ptr_nonnull(doc);
                ck_assert_int_eq(
                    (int)json_array_size(json_object_get(doc, "pages")), n);
                json_decref(doc);
            } else {
                xmllint_ok(path);
                xmlDocPtr d = parse_xml(path);
                node_list pages = {.n = 0};
                collect(xmlDocGetRootElement(d),
                        fmt == DOCRT_FORMAT_ALTO ? "Page" : "div",
                        fmt == DOCRT_FORMAT_ALTO ? NULL : "ocr_page", &pages);
                ck_assert_int_eq(pages.n, n);
                xmlFreeDoc(d);
            }
            free(s);
        }
    }
    remove_tmpdir(path);
}
END_TEST

START_TEST(page_numbers_stay_unique)
{
    fixture fx;
    make_fixture(&fx);
    docrt_page p[3] = {fx.pages[1], fx.pages[1], fx.pages[1]};
    p[0].page_index = 4; /* pages 5, 5 again, then -1: 5, 6, 7 */
    p[1].page_index = 4;
    p[2].page_index = -1;
    make_tmpdir();
    const char *path = path_in_tmp("ids.xml");
    ck_assert_int_eq(write_doc(DOCRT_FORMAT_ALTO, p, 3, path), DOCRT_OK);
    xmllint_ok(path);
    xmlDocPtr d = parse_xml(path);
    node_list pages = {.n = 0};
    collect(xmlDocGetRootElement(d), "Page", NULL, &pages);
    ck_assert_int_eq(pages.n, 3);
    assert_prop(pages.nodes[0], "ID", "page_5");
    assert_prop(pages.nodes[1], "ID", "page_6");
    assert_prop(pages.nodes[2], "ID", "page_7");
    xmlFreeDoc(d);
    remove_tmpdir(path);
}
END_TEST

START_TEST(line_without_words_is_one_word)
{
    docrt_line ln = {.text = "lone <x>", .box = {10, 10, 90, 30},
                     .confidence = 0.5f};
    ln.quad = box_quad(ln.box);
    docrt_block b = {.box = ln.box, .lines = &ln, .n_lines = 1};
    docrt_page p = {.width = 100, .height = 100, .blocks = &b, .n_blocks = 1};
    make_tmpdir();
    const char *path = path_in_tmp("lone");
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(write_doc(all_formats[i], &p, 1, path), DOCRT_OK);
        if (all_formats[i] == DOCRT_FORMAT_TXT) {
            size_t n;
            char *s = slurp(path, &n);
            ck_assert_str_eq(s, "lone <x>\n");
            free(s);
        } else if (all_formats[i] == DOCRT_FORMAT_JSON) {
            json_t *doc = json_load_file(path, 0, NULL);
            ck_assert_ptr_nonnull(doc);
            json_t *wd = json_array_get(
                json_object_get(
                    json_array_get(
                        json_object_get(
                            json_array_get(
                                json_object_get(
                                    json_array_get(
                                        json_object_get(doc, "pages"), 0),
                                    "blocks"),
                                0),
                            "lines"),
                        0),
                    "words"),
                0);
            ck_assert_str_eq(json_string_value(json_object_get(wd, "value")),
                             "lone <x>");
            json_decref(doc);
        } else {
            xmllint_ok(path);
            xmlDocPtr d = parse_xml(path);
            node_list words = {.n = 0};
            int alto = all_formats[i] == DOCRT_FORMAT_ALTO;
            collect(xmlDocGetRootElement(d), alto ? "String" : "span",
                    alto ? NULL : "ocrx_word", &words);
            ck_assert_int_eq(words.n, 1);
            if (alto) {
                assert_prop(words.nodes[0], "CONTENT", "lone <x>");
                assert_prop(words.nodes[0], "WIDTH", "80");
            } else {
                char *t = (char *)xmlNodeGetContent(words.nodes[0]);
                ck_assert_str_eq(t, "lone <x>");
                xmlFree(t);
                assert_prop(words.nodes[0], "title",
                            "bbox 10 10 90 30; x_wconf 50");
            }
            xmlFreeDoc(d);
        }
    }
    remove_tmpdir(path);
}
END_TEST

static docrt_status write_to(FILE *f, docrt_format fmt, const docrt_page *p,
                             docrt_status *add)
{
    docrt_writer *w = NULL;
    docrt_status st = docrt_writer_open(f, fmt, "x.tif", &w);
    if (st != DOCRT_OK) {
        *add = st;
        return st;
    }
    *add = docrt_writer_add_page(w, p);
    if (*add != DOCRT_OK) /* the error sticks */
        ck_assert_int_eq(docrt_writer_add_page(w, p), *add);
    return docrt_writer_close(w);
}

START_TEST(write_errors_are_reported)
{
    fixture fx;
    make_fixture(&fx);
    make_tmpdir();
    const char *path = path_in_tmp("readonly");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    for (int i = 0; i < 4; i++) {
        docrt_status add, st;
        /* Opened for reading: every write fails at once. */
        f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        st = write_to(f, all_formats[i], &fx.pages[0], &add);
        ck_assert_msg(st == DOCRT_ERR_IO, "%s read-only: close %d",
                      docrt_format_ext(all_formats[i]), st);
        ck_assert(add == DOCRT_ERR_IO || add == DOCRT_OK);
        fclose(f);
        /* A full device: the writes fail when the buffer is flushed. */
        f = fopen("/dev/full", "w");
        if (f) {
            st = write_to(f, all_formats[i], &fx.pages[0], &add);
            ck_assert_msg(st == DOCRT_ERR_IO, "%s /dev/full: close %d",
                          docrt_format_ext(all_formats[i]), st);
            ck_assert_int_eq(add, DOCRT_ERR_IO); /* flushed per page */
            fclose(f);
        }
    }
    remove_tmpdir(path);
}
END_TEST

START_TEST(bad_arguments)
{
    fixture fx;
    make_fixture(&fx);
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    docrt_writer *w = (docrt_writer *)&fx; /* must be reset to NULL */
    ck_assert_int_eq(docrt_writer_open(NULL, DOCRT_FORMAT_TXT, "a", &w),
                     DOCRT_ERR_ARG);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(docrt_writer_open(f, (docrt_format)3, "a", &w),
                     DOCRT_ERR_ARG);
    ck_assert_int_eq(docrt_writer_open(f, (docrt_format)0, "a", &w),
                     DOCRT_ERR_ARG);
    ck_assert_int_eq(docrt_writer_open(f, DOCRT_FORMAT_TXT, "a", NULL),
                     DOCRT_ERR_ARG);
    ck_assert_int_eq(docrt_writer_add_page(NULL, &fx.pages[0]),
                     DOCRT_ERR_ARG);
    ck_assert_int_eq(docrt_writer_close(NULL), DOCRT_ERR_ARG);

    for (int i = 0; i < 4; i++) {
        /* A NULL source name is allowed. */
        ck_assert_int_eq(docrt_writer_open(f, all_formats[i], NULL, &w),
                         DOCRT_OK);
        ck_assert_int_eq(docrt_writer_add_page(w, NULL), DOCRT_ERR_ARG);
        docrt_page bad = fx.pages[0];
        bad.blocks = NULL;
        ck_assert_int_eq(docrt_writer_add_page(w, &bad), DOCRT_ERR_ARG);
        bad = fx.pages[0];
        bad.width = 0; /* text on a page of no size */
        ck_assert_int_eq(docrt_writer_add_page(w, &bad), DOCRT_ERR_ARG);
        bad.width = -5;
        bad.n_blocks = 0;
        ck_assert_int_eq(docrt_writer_add_page(w, &bad), DOCRT_ERR_ARG);
        docrt_block blk = fx.blocks[0];
        blk.n_lines = -1;
        bad = fx.pages[0];
        bad.blocks = &blk;
        bad.n_blocks = 1;
        ck_assert_int_eq(docrt_writer_add_page(w, &bad), DOCRT_ERR_ARG);
        docrt_line ln = fx.lines[0];
        ln.words = NULL;
        blk = fx.blocks[0];
        blk.lines = &ln;
        blk.n_lines = 1;
        ck_assert_int_eq(docrt_writer_add_page(w, &bad), DOCRT_ERR_ARG);
        /* Refused pages write nothing: the writer goes on. */
        ck_assert_int_eq(docrt_writer_add_page(w, &fx.pages[0]), DOCRT_OK);
        ck_assert_int_eq(docrt_writer_close(w), DOCRT_OK);
    }
    fclose(f);
}
END_TEST

static Suite *export_suite(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, format_ext_names);
    tcase_add_test(tc, format_parse_accepts_and_rejects);
    tcase_add_test(tc, txt_known_pages_byte_exact);
    tcase_add_test(tc, txt_fixture_sanitised_and_paged);
    tcase_add_test(tc, json_docTR_shape);
    tcase_add_test(tc, hocr_parses_and_round_trips);
    tcase_add_test(tc, hocr_turned_lines_get_textangle);
    tcase_add_test(tc, alto_parses_and_round_trips);
    tcase_add_test(tc, no_pages_and_empty_pages_are_valid);
    tcase_add_test(tc, page_numbers_stay_unique);
    tcase_add_test(tc, line_without_words_is_one_word);
    tcase_add_test(tc, write_errors_are_reported);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(export_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
