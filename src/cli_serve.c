/* cli_serve.c - `docrt serve`: options, model load, start, and the graceful
 * shutdown on SIGTERM/SIGINT (stop accepting, finish what is queued and in
 * flight, send those responses, exit 0). See serve.h for the design. */
#include "cli.h"
#include "cli_model_opts.h"
#include "serve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_serve_usage(FILE *f)
{
    fputs(
"usage: docrt serve [--listen HOST:PORT] [--streams N] [--queue Q]\n"
"                   [--max-body BYTES] [--timeout S] [model options]\n"
"\n"
"An HTTP OCR service. N streams share one model (every primitive built at\n"
"start); requests wait in a queue of Q; a full queue answers 503.\n"
"\n"
"  POST /v1/ocr[?format=json|txt|hocr|alto][&pages=N|N-M|N-]\n"
"       body: the image (Content-Type image/tiff, image/png, image/jpeg),\n"
"       or multipart/form-data with the image in the field 'file'\n"
"  GET  /healthz  alive;  GET /readyz  ready for work (queue not full);\n"
"  GET  /metrics  Prometheus text\n"
"(docs/api.md has the details and curl examples.)\n"
"\n"
"options:\n"
"      --listen HOST:PORT  address to listen on (default 127.0.0.1:8080;\n"
"                          port 0: any free port, printed at start)\n"
"      --streams N         OCR worker streams (default: one per core)\n"
"      --queue Q           requests waiting beyond those in work (default\n"
"                          4 per stream)\n"
"      --max-body BYTES    largest request body (default 64M; K/M/G suffixes);\n"
"                          a larger Content-Length is answered 413 unread;\n"
"                          all bodies held at once stay under BYTES times\n"
"                          (queue + streams + 2), beyond that 503\n"
"      --timeout S         close a connection idle for S seconds (default 30)\n"
"  -h, --help              this text\n"
"\n"
"model and page options:\n", f);
    fputs(cli_model_opts_help, f);
    fputs(
"\n"
"SIGTERM or SIGINT: stop accepting, finish the queued and running requests,\n"
"exit 0. Exit status 2: usage error, or the models or the address failed.\n",
        f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("docrt serve: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see docrt serve --help)\n", stderr);
    return CLI_USAGE;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return 0;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ULL << 10, end++;
    else if (*end == 'M' || *end == 'm') mul = 1ULL << 20, end++;
    else if (*end == 'G' || *end == 'g') mul = 1ULL << 30, end++;
    if (*end || v == 0 || v > (1ULL << 40) / mul)
        return 0;
    *out = (size_t)(v * mul);
    return 1;
}

/* HOST:PORT, [V6]:PORT or :PORT; host is written to buf. */
static int parse_listen(const char *s, char *host, size_t n, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return 0;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0) {
        h = "127.0.0.1";
        hl = strlen(h);
    }
    if (hl >= n)
        return 0;
    memcpy(host, h, hl);
    host[hl] = '\0';
    long p;
    if (!cli_parse_int(colon + 1, 0, 65535, &p))
        return 0;
    *port = (int)p;
    return 1;
}

int cli_serve(int argc, char **argv)
{
    static cli_model_opts mo;
    cli_model_opts_init(&mo);
    char host[256] = "127.0.0.1";
    int port = 8080;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long streams = ncpu > 0 ? ncpu : 1, queue = -1, timeout = 30;
    size_t max_body = 64u << 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int r;
        if ((r = cli_model_opts_take(&mo, argc, argv, &i, "serve")) != 0) {
            if (r < 0)
                return CLI_USAGE;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_serve_usage(stdout);
            return CLI_OK;
        } else if ((r = cli_take_value(argc, argv, &i, "--listen", NULL, &val))) {
            if (r < 0 || !parse_listen(val, host, sizeof host, &port))
                return usage_error("--listen wants HOST:PORT, got '%s'",
                                   val ? val : "");
        } else if ((r = cli_take_value(argc, argv, &i, "--streams", NULL, &val))) {
            if (r < 0 || !cli_parse_int(val, 1, 256, &streams))
                return usage_error("--streams wants 1..256, got '%s'",
                                   val ? val : "");
        } else if ((r = cli_take_value(argc, argv, &i, "--queue", NULL, &val))) {
            if (r < 0 || !cli_parse_int(val, 0, 100000, &queue))
                return usage_error("--queue wants 0..100000, got '%s'",
                                   val ? val : "");
        } else if ((r = cli_take_value(argc, argv, &i, "--max-body", NULL, &val))) {
            if (r < 0 || !parse_size(val, &max_body))
                return usage_error("--max-body wants a size (e.g. 64M), got "
                                   "'%s'", val ? val : "");
        } else if ((r = cli_take_value(argc, argv, &i, "--timeout", NULL, &val))) {
            if (r < 0 || !cli_parse_int(val, 1, 86400, &timeout))
                return usage_error("--timeout wants seconds, got '%s'",
                                   val ? val : "");
        } else {
            return usage_error("unknown argument '%s'", a);
        }
    }
    if (!mo.threads_set)
        mo.mp.n_threads = 1;

    /* Every thread started from here on inherits the blocked signals; this
     * thread takes them with sigwait. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    serve_server sv;
    memset(&sv, 0, sizeof sv);
    sv.lim = mo.lim;
    sv.op = mo.op;
    sv.n_streams = (int)streams;
    cli_warn_omp_binding("serve", sv.n_streams);
    sv.queue_cap = (int)(queue >= 0 ? queue : 4 * streams);
    sv.max_body = max_body;
    sv.body_budget = max_body * (size_t)(sv.queue_cap + sv.n_streams + 2);
    sv.timeout_s = (unsigned)timeout;
    pthread_mutex_init(&sv.mu, NULL);
    pthread_cond_init(&sv.cv, NULL);
    pthread_cond_init(&sv.idle, NULL);
    serve_metrics_init(&sv.metrics, sv.queue_cap);

    int rc = CLI_USAGE;
    char err[1024] = "";
    docrt_model *model = NULL;
    double t0 = cli_now_ms();
    docrt_status st = docrt_model_load(&mo.mp, &model, err, sizeof err);
    if (st != DOCRT_OK) {
        fprintf(stderr, "docrt serve: cannot load the models: %s\n",
                err[0] ? err : docrt_status_str(st));
        goto out;
    }
    sv.model = model;
    docrt_precision pd, pr;
    docrt_model_precision(model, &pd, &pr);
    fprintf(stderr, "docrt serve: models compiled in %.0f ms (detector %s, "
            "recognizer %s)\n", cli_now_ms() - t0, docrt_precision_name(pd),
            docrt_precision_name(pr));
    if (serve_workers_start(&sv, err, sizeof err) != 0) {
        fprintf(stderr, "docrt serve: %s\n", err);
        serve_workers_stop(&sv);
        goto out;
    }
    if (serve_http_start(&sv, host, &port, err, sizeof err) != 0) {
        fprintf(stderr, "docrt serve: %s\n", err);
        serve_workers_stop(&sv);
        goto out;
    }
    fprintf(stderr, "docrt serve: listening on http://%s%s%s:%d (%d streams, "
            "queue %d, max body %zu bytes)\n",
            strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
            port, sv.n_streams, sv.queue_cap, sv.max_body);
    fflush(stderr);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    fprintf(stderr, "docrt serve: %s: finishing %d queued and %d running "
            "requests\n", sig == SIGINT ? "SIGINT" : "SIGTERM", sv.queued,
            sv.in_flight);
    /* From here on a request that completes its upload (a keep-alive
     * client goes on sending) gets 503; the workers go on until the queue
     * is empty. */
    pthread_mutex_lock(&sv.mu);
    sv.stopping = 1;
    pthread_cond_broadcast(&sv.cv);
    pthread_mutex_unlock(&sv.mu);
    serve_http_quiesce(&sv);
    serve_workers_drain(&sv);
    serve_http_stop(&sv);
    serve_workers_stop(&sv);
    fprintf(stderr, "docrt serve: stopped\n");
    rc = CLI_OK;
out:
    docrt_model_free(model);
    serve_metrics_destroy(&sv.metrics);
    pthread_cond_destroy(&sv.idle);
    pthread_cond_destroy(&sv.cv);
    pthread_mutex_destroy(&sv.mu);
    return rc;
}
