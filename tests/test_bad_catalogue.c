/* test_bad_catalogue.c - the bad-file catalogue (tests/data/bad/make_bad.py,
 * written to $DOCRT_BINARY_DIR/bad by the bad_catalogue fixture), each case
 * asserted against its expected outcome:
 *
 *   ocr     one `docrt ocr` over every image case: exit 1, no crash, no
 *           sanitizer report; each bad file (or page) named on stderr with
 *           its reason fragment; the ok cases and page 1 of a file whose
 *           page 2 is cut are written; no output at all for a file none of
 *           whose pages could be read.
 *   models  each broken model as --det-model: `docrt ocr` exits 2 and
 *           `docrt serve` does not start, both with the fragment on stderr.
 *   serve   every image case POSTed to one `docrt serve`: the expected
 *           status, the fragment in the JSON error, and the server answers
 *           /healthz after all of them.
 *
 * tests/data/bad/README.md holds the same table (make_bad.py --table); the
 * test also checks that every case is listed there. */
#include "ocr_eval.h"
#include "serve_client.h"

#include <jansson.h>

static const char *weights;
static char dir[PATH_MAX], work[PATH_MAX];

typedef struct {
    char name[128], kind[16], outcome[16], fragment[256], serve_fragment[256];
    int http;
} bad_case;

static bad_case cases[128];
static int n_cases;

static void load_cases(void)
{
    if (n_cases)
        return;
    mkdir_p(work);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/cases.tsv", dir);
    char *t = slurp(p, NULL);
    ck_assert_msg(t != NULL, "no %s (the bad_catalogue fixture)", p);
    for (char *line = strtok(t, "\n"); line && n_cases < 128;
         line = strtok(NULL, "\n")) {
        bad_case *c = &cases[n_cases];
        char *f[7] = {0};
        int k = 0;
        for (char *q = line; k < 7; k++) {
            f[k] = q;
            char *tab = strchr(q, '\t');
            if (!tab)
                break;
            *tab = '\0';
            q = tab + 1;
        }
        ck_assert_msg(k >= 6 && f[6], "cases.tsv: short line");
        snprintf(c->name, sizeof c->name, "%s", f[0]);
        snprintf(c->kind, sizeof c->kind, "%s", f[1]);
        snprintf(c->outcome, sizeof c->outcome, "%s", f[2]);
        c->http = atoi(f[3]);
        snprintf(c->fragment, sizeof c->fragment, "%s", f[4]);
        snprintf(c->serve_fragment, sizeof c->serve_fragment, "%s", f[6]);
        n_cases++;
    }
    free(t);
    ck_assert_int_ge(n_cases, 30);
}

/* The stderr line "docrt: NAME: ..." (the first), or NULL. */
static const char *line_for(const char *err, const char *name, char *buf,
                            size_t n)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "docrt: %s: ", name);
    for (const char *l = err; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (!strncmp(l, prefix, strlen(prefix))) {
            snprintf(buf, n, "%.*s", (int)len, l);
            return buf;
        }
        l += len + (e != NULL);
    }
    return NULL;
}

static void stem_path(const char *name, const char *ext, char *out, size_t n)
{
    const char *dot = strrchr(name, '.');
    snprintf(out, n, "%s/out/%.*s.%s", dir, (int)(dot - name), name, ext);
}

START_TEST(ocr)
{
    load_cases();
    char *argv[160];
    int a = 0;
    argv[a++] = (char *)docrt_exe();
    argv[a++] = "ocr";
    for (int i = 0; i < n_cases; i++)
        if (!strcmp(cases[i].kind, "image"))
            argv[a++] = cases[i].name;
    argv[a++] = "-o";
    argv[a++] = "out";
    argv[a++] = "--model-dir";
    argv[a++] = (char *)weights;
    argv[a] = NULL;
    char op[PATH_MAX + 32], ep[PATH_MAX + 32];
    snprintf(op, sizeof op, "%s/ocr.stdout", work);
    snprintf(ep, sizeof ep, "%s/ocr.stderr", work);
    int st = run_argv(argv, dir, NULL, op, ep);
    char *err = slurp(ep, NULL), d[96];
    ck_assert_ptr_nonnull(err);
    describe_status(st, d, sizeof d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
                  "docrt ocr over the catalogue: %s, want exit 1\n%s", d, err);
    assert_no_sanitizer_report(err);
    for (int i = 0; i < n_cases; i++) {
        const bad_case *c = &cases[i];
        if (strcmp(c->kind, "image"))
            continue;
        char line[2048], out[PATH_MAX + 300];
        const char *l = line_for(err, c->name, line, sizeof line);
        stem_path(c->name, "txt", out, sizeof out);
        if (!strcmp(c->outcome, "ok")) {
            ck_assert_msg(!l, "%s: expected to be read, got '%s'", c->name, l);
            ck_assert_msg(file_exists(out), "%s: no %s", c->name, out);
            continue;
        }
        ck_assert_msg(l != NULL, "%s: no 'docrt: %s: ...' line; stderr:\n%s",
                      c->name, c->name, err);
        ck_assert_msg(strstr(l, c->fragment) != NULL,
                      "%s: '%s' does not say '%s'", c->name, l, c->fragment);
        /* a file with no readable page leaves no output; one whose later
         * page fails keeps the pages read */
        if (c->http == 200)
            ck_assert_msg(file_exists(out), "%s: page 1 was not written",
                          c->name);
        else
            ck_assert_msg(!file_exists(out), "%s: %s written for a file with "
                          "no readable page", c->name, out);
    }
    free(err);
}
END_TEST

START_TEST(models)
{
    load_cases();
    for (int i = 0; i < n_cases; i++) {
        const bad_case *c = &cases[i];
        if (strcmp(c->kind, "model"))
            continue;
        char model[PATH_MAX + 200], op[PATH_MAX + 32], ep[PATH_MAX + 32];
        snprintf(model, sizeof model, "%s/%.127s", dir, c->name);
        snprintf(op, sizeof op, "%s/model.stdout", work);
        snprintf(ep, sizeof ep, "%s/model.stderr", work);
        char *ocr[] = {(char *)docrt_exe(), "ocr", "good.png", "-o", "out_m",
                       "--model-dir", (char *)weights, "--det-model", model,
                       NULL};
        int st = run_argv(ocr, dir, NULL, op, ep);
        char *err = slurp(ep, NULL), d[96];
        ck_assert_ptr_nonnull(err);
        describe_status(st, d, sizeof d);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2,
                      "docrt ocr --det-model %s: %s, want exit 2\n%s", c->name,
                      d, err);
        ck_assert_msg(strstr(err, c->fragment) != NULL,
                      "docrt ocr --det-model %s: stderr does not say '%s':\n%s",
                      c->name, c->fragment, err);
        assert_no_sanitizer_report(err);
        free(err);
        /* serve: exits (does not listen) with the same reason */
        char *srv[] = {(char *)docrt_exe(), "serve", "--listen", "127.0.0.1:0",
                       "--model-dir", (char *)weights, "--det-model", model,
                       NULL};
        st = run_argv(srv, dir, NULL, op, ep);
        err = slurp(ep, NULL);
        ck_assert_ptr_nonnull(err);
        describe_status(st, d, sizeof d);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0 &&
                      !strstr(err, "listening on"),
                      "docrt serve --det-model %s: %s\n%s", c->name, d, err);
        ck_assert_msg(strstr(err, c->fragment) != NULL,
                      "docrt serve --det-model %s: stderr does not say '%s':\n%s",
                      c->name, c->fragment, err);
        assert_no_sanitizer_report(err);
        free(err);
    }
}
END_TEST

START_TEST(serve)
{
    load_cases();
    pid_t pid = 0;
    char *extra[] = {"--streams", "1", "--timeout", "30", NULL};
    int port = start_server_in(work, weights, &pid, "serve", extra);
    ck_assert_msg(port > 0, "docrt serve did not start (%s/serve.stderr)",
                  work);
    for (int i = 0; i < n_cases; i++) {
        const bad_case *c = &cases[i];
        if (strcmp(c->kind, "image"))
            continue;
        char p[PATH_MAX + 200];
        snprintf(p, sizeof p, "%s/%.127s", dir, c->name);
        size_t len = 0;
        char *body = slurp(p, &len);
        ck_assert_ptr_nonnull(body);
        http_resp r;
        int rc = http(port, "POST", "/v1/ocr?format=json",
                      "Content-Type: application/octet-stream\r\n", body,
                      len, &r);
        ck_assert_msg(rc == 0, "%s: no response", c->name);
        ck_assert_msg(r.status == c->http, "%s: status %d, want %d: %s",
                      c->name, r.status, c->http, r.body);
        json_error_t je;
        json_t *j = json_loadb(r.body, r.body_len, 0, &je);
        ck_assert_msg(j != NULL, "%s: body is not JSON: %s", c->name, r.body);
        const char *frag = c->serve_fragment;
        if (frag[0]) {
            /* a refused file: "error"; a page of a read file: "errors" */
            const char *e = json_string_value(json_object_get(j, "error"));
            char *dump = json_dumps(j, JSON_COMPACT);
            ck_assert_msg((e && strstr(e, frag)) ||
                          (!e && dump && strstr(dump, frag)),
                          "%s: response does not say '%s': %s", c->name,
                          frag, r.body);
            free(dump);
        }
        json_decref(j);
        resp_free(&r);
        free(body);
    }
    http_resp r;
    ck_assert_int_eq(http(port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "docrt serve did not exit 0 after SIGTERM");
    char ep[PATH_MAX + 32];
    snprintf(ep, sizeof ep, "%s/serve.stderr", work);
    char *err = slurp(ep, NULL);
    if (err)
        assert_no_sanitizer_report(err);
    free(err);
}
END_TEST

START_TEST(readme_lists_every_case)
{
    load_cases();
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/tests/data/bad/README.md",
             env_or("DOCRT_SOURCE_DIR", "."));
    char *t = slurp(p, NULL);
    ck_assert_msg(t != NULL, "no %s", p);
    for (int i = 0; i < n_cases; i++) {
        char cell[200];
        snprintf(cell, sizeof cell, "| `%.127s` |", cases[i].name);
        ck_assert_msg(strstr(t, cell) != NULL, "%s does not list %s (run "
                      "make_bad.py --table)", p, cases[i].name);
    }
    free(t);
}
END_TEST

int main(void)
{
    weights = model_dir("test_bad_catalogue");
    if (!weights)
        return EXIT_SUCCESS;
    const char *b = env_or("DOCRT_BINARY_DIR", env_or("TMPDIR", "/tmp"));
    snprintf(dir, sizeof dir, "%s/bad", b);
    snprintf(work, sizeof work, "%s/test_bad_catalogue", b);
    rm_rf(work);
    char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "%s/out", dir);
    rm_rf(out);

    Suite *s = suite_create("bad_catalogue");
    TCase *tc = tcase_create("catalogue");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, readme_lists_every_case);
    tcase_add_test(tc, ocr);
    tcase_add_test(tc, models);
    tcase_add_test(tc, serve);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
