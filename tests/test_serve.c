/* test_serve.c - `docrt serve` over a loopback port: TIFF, PNG and JPEG pages
 * give their text (raw body and multipart), JSON carries per-page timing,
 * every error path answers its status with a JSON error body, 64 concurrent
 * requests all get 200 or 503 and the server lives on, /metrics parses and
 * its primitive count does not move, and SIGTERM finishes the requests in
 * flight before exit 0.
 *
 * The server runs as a child process (build/docrt serve --listen
 * 127.0.0.1:0); its stderr, with the bound port, is in
 * $DOCRT_BINARY_DIR/test_serve/. Requests use plain sockets. */
#include "ocr_eval.h"
#include "serve_client.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

static const char *pages;
static const char *weights;
static char work[PATH_MAX];
static pid_t server_pid;
static int server_port;

/* ---- the server ---- */

static int start_server(pid_t *pid, const char *tag, char *const extra[])
{
    return start_server_in(work, weights, pid, tag, extra);
}

static void start_main_server(void)
{
    char *extra[] = {"--streams", "2", "--queue", "4", "--max-body", "8M",
                     "--timeout", "10", NULL};
    server_port = start_server(&server_pid, "server", extra);
}

static void stop_main_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        int st;
        waitpid(server_pid, &st, 0);
        server_pid = 0;
    }
}

static char *page_bytes(const char *name, size_t *len)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", pages, name);
    char *d = slurp(p, len);
    ck_assert_msg(d != NULL, "cannot read %s", p);
    return d;
}

static char *gt_text(const char *stem, size_t *len)
{
    char name[128];
    snprintf(name, sizeof name, "%s.txt", stem);
    return page_bytes(name, len);
}

static void expect_text(const char *what, const http_resp *r, const char *stem,
                        double max_cer)
{
    ck_assert_msg(r->status == 200, "%s: status %d\n%s", what, r->status,
                  r->body);
    size_t gl;
    char *gt = gt_text(stem, &gl);
    ocr_score s = ocr_cer(gt, gl, r->body, r->body_len);
    fprintf(stderr, "test_serve: %-28s CER %5.2f%% (%zu/%zu)\n", what,
            100 * s.cer, s.edits, s.gt_len);
    ck_assert_msg(s.cer <= max_cer, "%s: CER %.2f%%\n%s", what, 100 * s.cer,
                  r->body);
    free(gt);
}

/* Asserts a JSON error body {"error": "...", "status": code}. */
static void expect_error(const char *what, const http_resp *r, int code)
{
    ck_assert_msg(r->status == code, "%s: status %d, want %d\n%s", what,
                  r->status, code, r->body ? r->body : "");
    ck_assert_msg(strstr(r->head, "Content-Type: application/json"),
                  "%s: not JSON\n%s", what, r->head);
    json_error_t je;
    json_t *o = json_loads(r->body, 0, &je);
    ck_assert_msg(o && json_is_string(json_object_get(o, "error")) &&
                      json_integer_value(json_object_get(o, "status")) == code,
                  "%s: bad error body %s", what, r->body);
    json_decref(o);
}

/* ---- tests ---- */

START_TEST(tiff_png_jpeg_pages)
{
    ck_assert_msg(server_port > 0, "docrt serve did not start (see %s)", work);
    size_t n;
    http_resp r;
    /* A two-page G4 TIFF as the raw body: both pages, form feed between. */
    char *tif = page_bytes("clean_g4.tif", &n);
    ck_assert_int_eq(http(server_port, "POST", "/v1/ocr?format=txt",
                          "Content-Type: image/tiff\r\n", tif, n, &r), 0);
    expect_text("TIFF (G4, 2 pages), raw", &r, "clean_g4", CER_CLEAN);
    ck_assert_msg(strstr(r.head, "X-Docrt-Pages: 2"), "%s", r.head);
    resp_free(&r);
    free(tif);

    char *png = page_bytes("grey8.png", &n);
    ck_assert_int_eq(http(server_port, "POST", "/v1/ocr?format=txt",
                          "Content-Type: image/png\r\n", png, n, &r), 0);
    expect_text("PNG, raw", &r, "grey8", CER_CLEAN);
    resp_free(&r);

    /* The same PNG as multipart/form-data field "file". */
    const char *bd = "docrtTestBoundary7d1";
    char pre[512], hdr[256];
    int pl = snprintf(pre, sizeof pre,
                      "--%s\r\nContent-Disposition: form-data; name=\"note\""
                      "\r\n\r\nignored\r\n--%s\r\nContent-Disposition: "
                      "form-data; name=\"file\"; filename=\"grey8.png\"\r\n"
                      "Content-Type: image/png\r\n\r\n", bd, bd);
    char post[128];
    int ql = snprintf(post, sizeof post, "\r\n--%s--\r\n", bd);
    size_t ml = (size_t)pl + n + (size_t)ql;
    char *mp = malloc(ml);
    memcpy(mp, pre, (size_t)pl);
    memcpy(mp + pl, png, n);
    memcpy(mp + pl + n, post, (size_t)ql);
    snprintf(hdr, sizeof hdr,
             "Content-Type: multipart/form-data; boundary=%s\r\n", bd);
    ck_assert_int_eq(http(server_port, "POST", "/v1/ocr?format=txt", hdr, mp,
                          ml, &r), 0);
    expect_text("PNG, multipart", &r, "grey8", CER_CLEAN);
    resp_free(&r);
    free(mp);
    free(png);

    /* JPEG, JSON: the docTR shape, per-page timing, no errors. */
    char *jpg = page_bytes("rgb.jpg", &n);
    ck_assert_int_eq(http(server_port, "POST", "/v1/ocr",
                          "Content-Type: image/jpeg\r\n", jpg, n, &r), 0);
    ck_assert_msg(r.status == 200, "JPEG: %d %s", r.status, r.body);
    json_error_t je;
    json_t *doc = json_loads(r.body, 0, &je);
    ck_assert_msg(doc != NULL, "JPEG: JSON does not parse: %s", je.text);
    json_t *pg = json_array_get(json_object_get(doc, "pages"), 0);
    ck_assert_msg(json_is_array(json_object_get(pg, "blocks")), "no blocks");
    json_t *t = json_object_get(pg, "timing_ms");
    ck_assert_msg(json_real_value(json_object_get(t, "total")) > 0 &&
                      json_real_value(json_object_get(t, "recognize")) > 0,
                  "no per-page timing: %s", r.body);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "errors")), 0);
    /* Its words, joined, read as the GT. */
    char words[16384] = "";
    size_t bi, li, wi;
    json_t *b, *l, *w;
    json_array_foreach(json_object_get(pg, "blocks"), bi, b)
        json_array_foreach(json_object_get(b, "lines"), li, l) {
            json_array_foreach(json_object_get(l, "words"), wi, w) {
                strncat(words, json_string_value(json_object_get(w, "value")),
                        sizeof words - strlen(words) - 2);
                strncat(words, " ", sizeof words - strlen(words) - 1);
            }
            strncat(words, "\n", sizeof words - strlen(words) - 1);
        }
    http_resp wr = {200, NULL, words, strlen(words)};
    expect_text("JPEG, JSON words", &wr, "rgb", CER_EXPORT);
    json_decref(doc);
    resp_free(&r);
    free(jpg);
}
END_TEST

START_TEST(pages_query)
{
    ck_assert_msg(server_port > 0, "docrt serve did not start (see %s)", work);
    size_t n, gl;
    http_resp r;
    char *tif = page_bytes("clean_g4.tif", &n);
    ck_assert_int_eq(http(server_port, "POST", "/v1/ocr?format=txt&pages=2",
                          "Content-Type: image/tiff\r\n", tif, n, &r), 0);
    ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
    ck_assert_msg(strstr(r.head, "X-Docrt-Pages: 1"), "%s", r.head);
    char *gt = gt_text("clean_g4", &gl);
    char *ff = strchr(gt, '\f');
    ck_assert_msg(ff != NULL, "clean_g4.txt has no form feed");
    ocr_score s = ocr_cer(ff + 1, gl - (size_t)(ff + 1 - gt), r.body,
                          r.body_len);
    ck_assert_msg(s.cer <= CER_CLEAN, "pages=2: CER %.2f%%\n%s", 100 * s.cer,
                  r.body);
    free(gt);
    resp_free(&r);
    ck_assert_int_eq(http(server_port, "POST", "/v1/ocr?pages=3-",
                          "Content-Type: image/tiff\r\n", tif, n, &r), 0);
    expect_error("pages=3- of 2", &r, 422);
    resp_free(&r);
    free(tif);
}
END_TEST

START_TEST(error_paths)
{
    ck_assert_msg(server_port > 0, "docrt serve did not start (see %s)", work);
    size_t n;
    http_resp r;
    char *png = page_bytes("grey8.png", &n);
    static const char garbage[] = "this is not an image, just text bytes";
    struct {
        const char *what, *method, *path, *headers;
        const void *body;
        size_t len;
        int code;
    } cases[] = {
        {"unknown path", "GET", "/v2/ocr", NULL, NULL, 0, 404},
        {"GET /v1/ocr", "GET", "/v1/ocr", NULL, NULL, 0, 405},
        {"POST /metrics", "POST", "/metrics", "Content-Type: text/plain\r\n",
         "x", 1, 405},
        {"unsupported type", "POST", "/v1/ocr", "Content-Type: text/plain\r\n",
         garbage, sizeof garbage - 1, 415},
        {"no type", "POST", "/v1/ocr", NULL, garbage, sizeof garbage - 1, 415},
        {"undecodable image", "POST", "/v1/ocr", "Content-Type: image/png\r\n",
         garbage, sizeof garbage - 1, 422},
        {"truncated PNG", "POST", "/v1/ocr", "Content-Type: image/png\r\n",
         png, n / 3, 422},
        {"empty body", "POST", "/v1/ocr", "Content-Type: image/png\r\n", "",
         0, 400},
        {"bad format", "POST", "/v1/ocr?format=pdf",
         "Content-Type: image/png\r\n", png, n, 400},
        {"bad pages", "POST", "/v1/ocr?pages=0", "Content-Type: image/png\r\n",
         png, n, 400},
        {"multipart without file", "POST", "/v1/ocr",
         "Content-Type: multipart/form-data; boundary=zz\r\n",
         "--zz\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n"
         "--zz--\r\n",
         strlen("--zz\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1"
                "\r\n--zz--\r\n"),
         400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(http(server_port, cases[i].method, cases[i].path,
                           cases[i].headers, cases[i].body, cases[i].len,
                           &r) == 0,
                      "%s: no response", cases[i].what);
        expect_error(cases[i].what, &r, cases[i].code);
        resp_free(&r);
    }
    /* Over --max-body (8M): refused from the header, the body unread. */
    int fd = connect_port(server_port);
    ck_assert_int_ge(fd, 0);
    const char *big = "POST /v1/ocr HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "image/png\r\nContent-Length: 1000000000\r\n\r\n";
    ck_assert_int_eq(send_all(fd, big, strlen(big)), 0);
    char buf[4096];
    ssize_t k = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    ck_assert_msg(k > 0, "no answer to a 1 GB Content-Length");
    buf[k] = '\0';
    ck_assert_msg(strstr(buf, " 413 ") && strstr(buf, "\"status\":413"),
                  "1 GB body: %s", buf);
    /* Bodies held at once stay under --max-body x (queue + streams + 2) =
     * 8 MiB x 8: nine uploads announcing 7 MiB each (none sent yet) fit,
     * the tenth is told to come back (503), before it sends a byte. */
    int hold[9];
    char hdr7[256];
    snprintf(hdr7, sizeof hdr7, "POST /v1/ocr HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: image/png\r\nContent-Length: %d\r\n\r\n",
             7 << 20);
    for (int i = 0; i < 9; i++) {
        hold[i] = connect_port(server_port);
        ck_assert_int_ge(hold[i], 0);
        ck_assert_int_eq(send_all(hold[i], hdr7, strlen(hdr7)), 0);
    }
    usleep(200000); /* all nine announced */
    fd = connect_port(server_port);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(send_all(fd, hdr7, strlen(hdr7)), 0);
    k = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    ck_assert_msg(k > 0, "no answer to the tenth 7 MiB upload");
    buf[k] = '\0';
    ck_assert_msg(strstr(buf, " 503 ") && strstr(buf, "Retry-After") &&
                      strstr(buf, "\"status\":503"),
                  "tenth 7 MiB upload: %s", buf);
    for (int i = 0; i < 9; i++)
        close(hold[i]);
    usleep(200000); /* their budget is given back */
    /* The server is fine after all that. */
    ck_assert_int_eq(http(server_port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    free(png);
}
END_TEST

typedef struct {
    const char *png;
    size_t len;
    int status;
} conc_arg;

static void *conc_one(void *p)
{
    conc_arg *a = p;
    http_resp r;
    a->status = http(server_port, "POST", "/v1/ocr?format=txt",
                     "Content-Type: image/png\r\n", a->png, a->len, &r) == 0
                    ? r.status
                    : -1;
    resp_free(&r);
    return NULL;
}

START_TEST(concurrent_64)
{
    ck_assert_msg(server_port > 0, "docrt serve did not start (see %s)", work);
    size_t n;
    char *png = page_bytes("grey8.png", &n);
    enum { N = 64 };
    pthread_t th[N];
    conc_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (conc_arg){png, n, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, conc_one, &a[i]), 0);
    }
    int ok = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(a[i].status == 200 || a[i].status == 503,
                      "request %d: status %d", i, a[i].status);
        ok += a[i].status == 200;
        busy += a[i].status == 503;
    }
    fprintf(stderr, "test_serve: 64 concurrent: %d x 200, %d x 503\n", ok,
            busy);
    /* 2 streams + 4 queued: at least 6 served, the rest told to retry. */
    ck_assert_int_ge(ok, 6);
    http_resp r;
    ck_assert_int_eq(http(server_port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    /* Still alive (the test runs in a fork: not its child to wait for). */
    ck_assert_int_eq(kill(server_pid, 0), 0);
    free(png);
}
END_TEST

static double metric(const char *text, const char *name)
{
    const char *p = text;
    size_t nl = strlen(name);
    while ((p = strstr(p, name)) != NULL) {
        if ((p == text || p[-1] == '\n') && (p[nl] == ' ' || p[nl] == '{'))
            return strtod(strchr(p, ' ') + 1, NULL);
        p += nl;
    }
    return -1;
}

START_TEST(metrics_parse)
{
    ck_assert_msg(server_port > 0, "docrt serve did not start (see %s)", work);
    http_resp r;
    ck_assert_int_eq(http(server_port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.head, "text/plain; version=0.0.4"), "%s", r.head);
    /* Every line: a comment (# HELP / # TYPE), or NAME[{LABELS}] VALUE. */
    char *save = NULL, *copy = strdup(r.body);
    int samples = 0;
    for (char *ln = strtok_r(copy, "\n", &save); ln;
         ln = strtok_r(NULL, "\n", &save)) {
        if (ln[0] == '#') {
            ck_assert_msg(!strncmp(ln, "# HELP ", 7) || !strncmp(ln, "# TYPE ", 7),
                          "bad comment: %s", ln);
            continue;
        }
        size_t nm = strspn(ln, "abcdefghijklmnopqrstuvwxyz_0123456789");
        ck_assert_msg(nm > 0, "bad line: %s", ln);
        char *v = ln + nm;
        if (*v == '{') {
            v = strchr(v, '}');
            ck_assert_msg(v != NULL, "unclosed labels: %s", ln);
            v++;
        }
        ck_assert_msg(*v == ' ', "no value: %s", ln);
        char *end;
        strtod(v + 1, &end);
        ck_assert_msg(end != v + 1 && *end == '\0', "bad value: %s", ln);
        samples++;
    }
    free(copy);
    ck_assert_int_ge(samples, 10);
    const char *names[] = {"docrt_requests_total", "docrt_pages_total",
                           "docrt_request_duration_seconds_bucket",
                           "docrt_queue_depth", "docrt_in_flight",
                           "docrt_resident_memory_bytes",
                           "docrt_primitives_created_total"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ck_assert_msg(metric(r.body, names[i]) >= 0, "no %s", names[i]);
    double prims = metric(r.body, "docrt_primitives_created_total");
    double pages0 = metric(r.body, "docrt_pages_total");
    ck_assert_msg(prims > 0, "no primitives?");
    resp_free(&r);

    /* A page of a new size: no new primitive (buckets), one more page. */
    size_t n;
    char *jpg = page_bytes("rgb.jpg", &n);
    ck_assert_int_eq(http(server_port, "POST", "/v1/ocr?format=txt",
                          "Content-Type: image/jpeg\r\n", jpg, n, &r), 0);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    free(jpg);
    ck_assert_int_eq(http(server_port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    ck_assert_msg(metric(r.body, "docrt_primitives_created_total") == prims,
                  "primitives created moved: %g -> %g", prims,
                  metric(r.body, "docrt_primitives_created_total"));
    ck_assert_msg(metric(r.body, "docrt_pages_total") >= pages0 + 1,
                  "pages did not count");
    resp_free(&r);
}
END_TEST

START_TEST(sigterm_finishes_in_flight)
{
    pid_t pid;
    char *extra[] = {"--streams", "1", "--queue", "8", NULL};
    int port = start_server(&pid, "sigterm", extra);
    ck_assert_msg(port > 0, "docrt serve did not start (see %s)", work);
    int saved = server_port;
    server_port = port;
    size_t n;
    char *png = page_bytes("grey8.png", &n);
    enum { N = 3 };
    pthread_t th[N];
    conc_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (conc_arg){png, n, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, conc_one, &a[i]), 0);
    }
    /* Until the three are in: one running, two queued. */
    for (int i = 0; i < 100; i++) {
        http_resp r;
        if (http(port, "GET", "/metrics", NULL, NULL, 0, &r) == 0 &&
            metric(r.body, "docrt_queue_depth") +
                    metric(r.body, "docrt_in_flight") >= N) {
            resp_free(&r);
            break;
        }
        resp_free(&r);
        usleep(20000);
    }
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(a[i].status == 200, "request %d in flight at SIGTERM: %d",
                      i, a[i].status);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
    ck_assert_int_lt(connect_port(port), 0); /* no longer listening */
    server_port = saved;
    free(png);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("serve");
    weights = model_dir("test_serve");
    if (weights) {
        pages = pages_dir();
        if (!pages)
            return EXIT_FAILURE;
        snprintf(work, sizeof work, "%s/test_serve",
                 env_or("DOCRT_BINARY_DIR", env_or("TMPDIR", "/tmp")));
        rm_rf(work);
        mkdir(work, 0755);
        TCase *tc = tcase_create("http");
        tcase_set_timeout(tc, 600);
        tcase_add_unchecked_fixture(tc, start_main_server, stop_main_server);
        tcase_add_test(tc, tiff_png_jpeg_pages);
        tcase_add_test(tc, pages_query);
        tcase_add_test(tc, error_paths);
        tcase_add_test(tc, concurrent_64);
        tcase_add_test(tc, metrics_parse);
        tcase_add_test(tc, sigterm_finishes_in_flight);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
