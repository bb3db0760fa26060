/* serve_http.c - the HTTP side of `docrt serve` (see serve.h): routes,
 * body collection with the size limit, multipart, query parsing, and the
 * responses. Every error is a JSON body {"error", "status"}. */
#define _GNU_SOURCE
#include "serve.h"

#include "cli.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

enum { ROUTE_OTHER, ROUTE_OCR };

typedef struct {
    serve_server *sv;
    int route;
    double t0;
    int status;              /* the status sent, for the metrics */
    char *buf;               /* the image bytes */
    size_t len, cap;
    int too_big;
    struct MHD_PostProcessor *pp;
    int got_file;
    size_t reserved; /* bytes counted in sv->body_bytes */
    serve_job job;
    int submitted;
} req_ctx;

static MHD_RESULT send_body(struct MHD_Connection *c, req_ctx *x, int status,
                            char *body, size_t len, const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
                                x->route == ROUTE_OCR ? "POST" : "GET, HEAD");
    if (x->route == ROUTE_OCR && x->submitted) {
        char v[32];
        snprintf(v, sizeof v, "%d", x->job.req.pages_ok);
        MHD_add_response_header(r, "X-Docrt-Pages", v);
        snprintf(v, sizeof v, "%d", x->job.req.pages_failed);
        MHD_add_response_header(r, "X-Docrt-Page-Errors", v);
    }
    MHD_RESULT ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    x->status = status;
    return ret;
}

static MHD_RESULT send_error(struct MHD_Connection *c, req_ctx *x, int status,
                             const char *reason)
{
    size_t len = 0;
    char *body = serve_error_json(status, reason, &len);
    if (!body)
        return MHD_NO;
    return send_body(c, x, status, body, len, "application/json");
}

static MHD_RESULT send_text(struct MHD_Connection *c, req_ctx *x, int status,
                            const char *text, const char *type)
{
    char *body = strdup(text);
    if (!body)
        return MHD_NO;
    return send_body(c, x, status, body, strlen(body), type);
}

/* Counts n more body bytes against the server's budget; -1 when over. */
static int reserve(req_ctx *x, size_t n)
{
    serve_server *sv = x->sv;
    pthread_mutex_lock(&sv->mu);
    int ok = sv->body_bytes + n <= sv->body_budget;
    if (ok) {
        sv->body_bytes += n;
        x->reserved += n;
    }
    pthread_mutex_unlock(&sv->mu);
    return ok ? 0 : -1;
}

/* Appends to the image buffer, within the body limit and the budget. */
static int take(req_ctx *x, const char *data, size_t n)
{
    if (x->too_big || x->len + n > x->sv->max_body) {
        x->too_big = 1;
        return -1;
    }
    if (x->len + n > x->reserved && reserve(x, x->len + n - x->reserved) != 0)
        return -1; /* too many bodies at once: hang up */
    if (x->len + n > x->cap) {
        size_t cap = x->cap ? x->cap : 65536;
        while (cap < x->len + n)
            cap *= 2;
        char *nb = realloc(x->buf, cap);
        if (!nb)
            return -1;
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    return 0;
}

static MHD_RESULT post_iter(void *cls, enum MHD_ValueKind kind,
                            const char *key, const char *filename,
                            const char *content_type,
                            const char *transfer_encoding, const char *data,
                            uint64_t off, size_t size)
{
    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    (void)off;
    req_ctx *x = cls;
    if (!key || strcmp(key, "file") != 0)
        return MHD_YES; /* other fields are ignored */
    x->got_file = 1;
    if (size && take(x, data, size) != 0)
        return MHD_NO;
    return MHD_YES;
}

/* "N", "N-M", "N-" (1-based); 0 on success. */
static int parse_pages(const char *s, int *first, int *last)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || a < 1 || a > 1000000)
        return -1;
    *first = (int)a;
    if (!*end) {
        *last = (int)a;
        return 0;
    }
    if (*end != '-')
        return -1;
    s = end + 1;
    if (!*s) {
        *last = 0;
        return 0;
    }
    long b = strtol(s, &end, 10);
    if (end == s || *end || b < a || b > 1000000)
        return -1;
    *last = (int)b;
    return 0;
}

static int parse_format(const char *s, docrt_format *f)
{
    if (!s || !strcmp(s, "json")) *f = DOCRT_FORMAT_JSON;
    else if (!strcmp(s, "txt")) *f = DOCRT_FORMAT_TXT;
    else if (!strcmp(s, "hocr")) *f = DOCRT_FORMAT_HOCR;
    else if (!strcmp(s, "alto")) *f = DOCRT_FORMAT_ALTO;
    else return -1;
    return 0;
}

/* The first call of a POST /v1/ocr: limits, type and query. Returns 1 when
 * the body is to be read, 0 when a response was queued (or failed). */
static int ocr_begin(struct MHD_Connection *c, req_ctx *x, MHD_RESULT *ret)
{
    serve_server *sv = x->sv;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > sv->max_body) {
            char why[128];
            snprintf(why, sizeof why, "body of %llu bytes is over the limit "
                     "of %zu", n, sv->max_body);
            *ret = send_error(c, x, 413, why);
            return 0;
        }
        if (end != cl && reserve(x, (size_t)n) != 0) {
            *ret = send_error(c, x, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "busy: too many request bodies in memory, "
                              "retry later");
            return 0;
        }
    }
    serve_request *rq = &x->job.req;
    const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
                                                  "format");
    if (parse_format(fmt, &rq->format) != 0) {
        *ret = send_error(c, x, MHD_HTTP_BAD_REQUEST,
                          "format must be json, txt, hocr or alto");
        return 0;
    }
    const char *pages = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
                                                    "pages");
    if (pages && parse_pages(pages, &rq->first_page, &rq->last_page) != 0) {
        *ret = send_error(c, x, MHD_HTTP_BAD_REQUEST,
                          "pages must be N, N-M or N- (1-based)");
        return 0;
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t tl = ct ? strcspn(ct, "; \t") : 0;
#define TYPE_IS(t) (tl == strlen(t) && !strncasecmp(ct, t, tl))
    if (ct && TYPE_IS("multipart/form-data")) {
        x->pp = MHD_create_post_processor(c, 65536, post_iter, x);
        if (!x->pp) {
            *ret = send_error(c, x, MHD_HTTP_BAD_REQUEST,
                              "multipart/form-data without a usable boundary");
            return 0;
        }
        return 1;
    }
    if (ct && (TYPE_IS("image/tiff") || TYPE_IS("image/png") ||
               TYPE_IS("image/jpeg") || TYPE_IS("image/jpg") ||
               TYPE_IS("application/octet-stream")))
        return 1;
#undef TYPE_IS
    *ret = send_error(c, x, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                      "Content-Type must be image/tiff, image/png, image/jpeg "
                      "or multipart/form-data with a field 'file'");
    return 0;
}

static MHD_RESULT handle(void *cls, struct MHD_Connection *c, const char *url,
                         const char *method, const char *version,
                         const char *upload_data, size_t *upload_data_size,
                         void **con_cls)
{
    (void)version;
    serve_server *sv = cls;
    req_ctx *x = *con_cls;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x)
            return MHD_NO;
        x->sv = sv;
        x->t0 = cli_now_ms();
        *con_cls = x;
        int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
        if (!strcmp(url, "/v1/ocr")) {
            x->route = ROUTE_OCR;
            if (strcmp(method, "POST") != 0)
                return send_error(c, x, MHD_HTTP_METHOD_NOT_ALLOWED,
                                  "use POST for /v1/ocr");
            MHD_RESULT ret = MHD_YES;
            if (!ocr_begin(c, x, &ret))
                return ret;
            return MHD_YES;
        }
        if (!strcmp(url, "/healthz") || !strcmp(url, "/readyz") ||
            !strcmp(url, "/metrics")) {
            if (!get)
                return send_error(c, x, MHD_HTTP_METHOD_NOT_ALLOWED,
                                  "use GET");
            if (!strcmp(url, "/healthz"))
                return send_text(c, x, MHD_HTTP_OK, "{\"status\":\"ok\"}\n",
                                 "application/json");
            if (!strcmp(url, "/readyz")) {
                pthread_mutex_lock(&sv->mu);
                int ready = !sv->stopping && sv->queued < sv->queue_cap;
                pthread_mutex_unlock(&sv->mu);
                return ready ? send_text(c, x, MHD_HTTP_OK,
                                         "{\"status\":\"ready\"}\n",
                                         "application/json")
                             : send_error(c, x, MHD_HTTP_SERVICE_UNAVAILABLE,
                                          "not ready: queue full or stopping");
            }
            size_t len = 0;
            char *m = serve_metrics_text(&sv->metrics, &len);
            if (!m)
                return send_error(c, x, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                  "out of memory");
            return send_body(c, x, MHD_HTTP_OK, m, len,
                             "text/plain; version=0.0.4; charset=utf-8");
        }
        return send_error(c, x, MHD_HTTP_NOT_FOUND,
                          "no such path (POST /v1/ocr, GET /healthz, "
                          "/readyz, /metrics)");
    }
    if (x->route != ROUTE_OCR)
        return MHD_YES;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (x->too_big)
            return MHD_NO; /* a chunked body past the limit: hang up */
        int bad = x->pp ? MHD_post_process(x->pp, upload_data, n) != MHD_YES
                        : take(x, upload_data, n) != 0;
        if (bad && x->too_big)
            return MHD_NO;
        if (bad)
            return MHD_NO; /* out of memory or a broken multipart body */
        return MHD_YES;
    }
    if (x->submitted) {
        pthread_mutex_lock(&sv->mu);
        int done = x->job.done;
        pthread_mutex_unlock(&sv->mu);
        if (!done)
            return MHD_YES;
        serve_request *rq = &x->job.req;
        char *body = rq->body;
        rq->body = NULL;
        return send_body(c, x, rq->status, body, rq->body_len,
                         rq->content_type);
    }
    /* The body is complete. */
    if (x->pp && !x->got_file)
        return send_error(c, x, MHD_HTTP_BAD_REQUEST,
                          "no multipart field named 'file'");
    if (x->len == 0)
        return send_error(c, x, MHD_HTTP_BAD_REQUEST, "empty body");
    x->job.req.data = x->buf;
    x->job.req.len = x->len;
    x->job.conn = c;
    if (serve_workers_submit(sv, &x->job) != 0)
        return send_error(c, x, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "busy: the request queue is full, retry later");
    x->submitted = 1;
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)c;
    serve_server *sv = cls;
    req_ctx *x = *con_cls;
    if (!x)
        return;
    /* A request cut before any response counts as 499 (client gone) or 408
     * (timed out). */
    int code = x->status;
    if (!code)
        code = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 499;
    serve_metrics_request(&sv->metrics, code, (cli_now_ms() - x->t0) / 1e3);
    if (x->pp)
        MHD_destroy_post_processor(x->pp);
    if (x->reserved) {
        pthread_mutex_lock(&sv->mu);
        sv->body_bytes -= x->reserved;
        pthread_mutex_unlock(&sv->mu);
    }
    free(x->job.req.body);
    free(x->buf);
    free(x);
    *con_cls = NULL;
}

int serve_http_start(serve_server *sv, const char *host, int *port, char *err,
                     size_t errlen)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", *port);
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g != 0) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(g));
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    sv->daemon = MHD_start_daemon(
        flags, (uint16_t)*port, NULL, NULL, handle, sv, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT, sv->timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, sv,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!sv->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%d (in use, or not an "
                 "address of this machine)", host, *port);
        return -1;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(sv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (di)
        *port = di->port;
    return 0;
}

void serve_http_quiesce(serve_server *sv)
{
    MHD_socket fd = MHD_quiesce_daemon(sv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void serve_http_stop(serve_server *sv)
{
    /* Let the responses of finished requests go out (bounded wait). */
    for (int i = 0; i < 200; i++) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(
            sv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!di || di->num_connections == 0)
            break;
        usleep(25000);
    }
    MHD_stop_daemon(sv->daemon);
    sv->daemon = NULL;
}
