/* fuzz_http.c - raw bytes as one client connection to docrt serve's HTTP
 * handlers (libmicrohttpd underneath) on a loopback port. The server is
 * started once per process, with one worker that decodes the upload
 * (every requested page) instead of running OCR, so the request path
 * (routes, headers, query, Content-Length and chunked bodies, multipart,
 * the body limits, the queue, suspend and resume, the error bodies) runs
 * thousands of times a second. */
#include "fuzz.h"

#include "serve.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static serve_server sv;
static int port = -1;

static void set_error(serve_request *r, int status, const char *why)
{
    r->status = status;
    r->body = serve_error_json(status, why, &r->body_len);
    r->content_type = "application/json";
}

/* The worker: decode the chosen pages, answer with a count of each. */
static void decode_only(docrt_stream *s, const docrt_image_limits *lim,
                        const docrt_ocr_params *op, serve_request *r)
{
    (void)s;
    (void)op;
    char err[1024];
    docrt_document *doc = NULL;
    if (docrt_document_open_memory(r->data, r->len, "upload", lim, &doc, err,
                                   sizeof err) != DOCRT_OK) {
        set_error(r, 422, err);
        return;
    }
    int n = docrt_document_n_pages(doc);
    int first = r->first_page > 0 ? r->first_page : 1;
    int last = r->last_page > 0 && r->last_page < n ? r->last_page : n;
    if (first > n) {
        docrt_document_close(doc);
        set_error(r, 422, "pages past the end of the file");
        return;
    }
    for (int p = first - 1; p < last; p++) {
        docrt_image img;
        if (docrt_document_read_page(doc, p, &img, err, sizeof err) ==
            DOCRT_OK) {
            r->pages_ok++;
            docrt_image_free(&img);
        } else {
            r->pages_failed++;
        }
    }
    docrt_document_close(doc);
    char buf[96];
    int len = snprintf(buf, sizeof buf, "{\"pages_ok\":%d,\"pages_failed\":%d}\n",
                       r->pages_ok, r->pages_failed);
    r->body = malloc((size_t)len + 1);
    if (!r->body) {
        set_error(r, 500, "out of memory");
        return;
    }
    memcpy(r->body, buf, (size_t)len + 1);
    r->body_len = (size_t)len;
    r->status = r->pages_ok ? 200 : 422;
    r->content_type = "application/json";
}

static int start(void)
{
    signal(SIGPIPE, SIG_IGN);
    memset(&sv, 0, sizeof sv);
    sv.lim = docrt_image_default_limits();
    sv.lim.max_pixels = 1u << 22;
    sv.lim.max_pages = 16;
    sv.lim.max_decode_ms = 2000;
    sv.op = docrt_ocr_default_params();
    sv.n_streams = 1;
    sv.queue_cap = 2;
    sv.max_body = 1u << 20;
    sv.body_budget = sv.max_body * (size_t)(sv.queue_cap + sv.n_streams + 2);
    sv.timeout_s = 2;
    sv.run = decode_only;
    pthread_mutex_init(&sv.mu, NULL);
    pthread_cond_init(&sv.cv, NULL);
    pthread_cond_init(&sv.idle, NULL);
    serve_metrics_init(&sv.metrics, sv.queue_cap);
    char err[256];
    int p = 0;
    if (serve_workers_start(&sv, err, sizeof err) != 0 ||
        serve_http_start(&sv, "127.0.0.1", &p, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_http: cannot start the server: %s\n", err);
        abort();
    }
    return p;
}

int fuzz_http_one(const uint8_t *data, size_t size)
{
    if (port < 0)
        port = start();
    /* A socket pair handed to the daemon as an accepted connection: the
     * same code path as a TCP client, without loopback TCP's delayed-ACK
     * stalls (40 ms a request). */
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
        return 0;
    struct sockaddr_in peer = { .sin_family = AF_INET,
                                .sin_port = htons(40000) };
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(sv.daemon, sp[1], (struct sockaddr *)&peer,
                           sizeof peer) != MHD_YES) {
        close(sp[0]);
        return 0;
    }
    int fd = sp[0];
    struct timeval tv = { .tv_sec = 3 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    for (size_t sent = 0; sent < size;) {
        ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server hung up (a refused request) */
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    /* Read the responses until the daemon closes, or until it has been
     * quiet for 2 ms with no job queued or running: an incomplete request
     * (most mutated ones) would otherwise wait out the daemon's timeout. */
    char buf[16384];
    for (;;) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int r = poll(&pf, 1, 2);
        if (r > 0) {
            if (recv(fd, buf, sizeof buf, 0) <= 0)
                break;
            continue;
        }
        pthread_mutex_lock(&sv.mu);
        int busy = sv.queued || sv.in_flight;
        pthread_mutex_unlock(&sv.mu);
        if (r < 0 || !busy)
            break;
    }
    close(fd);
    /* Until the daemon has freed the connection (after the worker's job,
     * if one was queued): each input frees what it allocated before the
     * next starts, which libFuzzer's per-input leak check relies on. */
    for (int i = 0; i < 30000; i++) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(
            sv.daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!di || di->num_connections == 0)
            break;
        usleep(100);
    }
    return 0;
}
