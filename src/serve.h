/* serve.h - `docrt serve`: an HTTP OCR service on libmicrohttpd.
 *
 * One libmicrohttpd thread owns every connection (internal polling, epoll).
 * A POST /v1/ocr body is collected (raw image body, or the multipart field
 * "file" through libmicrohttpd's post processor), then the request goes
 * into a bounded queue and its connection is suspended; N worker threads,
 * each with its own docrt_stream on the one shared model, take requests
 * from the queue, OCR them (serve_ocr.c) and resume the connection, which
 * then sends the response. A full queue answers 503 at once.
 *
 * serve_http.c: the handlers; serve_workers.c: the queue and the workers;
 * serve_metrics.c: /metrics; cli_serve.c: options, start and shutdown. */
#ifndef DOCRT_SERVE_H
#define DOCRT_SERVE_H

#include "docrt.h"
#include "serve_metrics.h"
#include "serve_ocr.h"

#include <pthread.h>
#include <stddef.h>

struct MHD_Daemon;
struct MHD_Connection;

typedef struct serve_job serve_job;

/* The work a worker does for one request: serve_ocr_run by default. */
typedef void (*serve_run_fn)(docrt_stream *s, const docrt_image_limits *lim,
                             const docrt_ocr_params *op, serve_request *r);

typedef struct {
    /* configuration */
    const docrt_model *model;
    docrt_image_limits lim;
    docrt_ocr_params op;
    int n_streams, queue_cap;
    size_t max_body;
    unsigned timeout_s;
    /* NULL: OCR (serve_ocr_run) on one stream of `model` per worker. Else
     * called with no stream and no model: the HTTP fuzz target decodes the
     * upload without OCR, so it can run thousands of requests a second. */
    serve_run_fn run;
    /* state */
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* a job queued, or stopping */
    pthread_cond_t idle;  /* queue empty and no job in flight */
    serve_job *head, *tail;
    int queued, in_flight, stopping;
    /* Bytes held by request bodies (being uploaded, queued or in work),
     * and the most they may hold together: --max-body times (queue +
     * streams + 2), so many large uploads at once cannot exhaust memory. */
    size_t body_bytes, body_budget;
    pthread_t *threads;
    int n_threads;
    serve_metrics metrics;
} serve_server;

struct serve_job {
    serve_request req;
    struct MHD_Connection *conn;
    int done;
    serve_job *next;
};

/* Workers: 0, or -1 with a reason when a stream or thread cannot start. */
int serve_workers_start(serve_server *sv, char *err, size_t errlen);
/* Queues a job and suspends its connection (called from the connection's
 * handler); -1 when the queue is full or the server stops. */
int serve_workers_submit(serve_server *sv, serve_job *job);
/* Waits until the queue is empty and no job is in flight (set `stopping`
 * first, so that no new job comes in meanwhile). */
void serve_workers_drain(serve_server *sv);
/* Stops and joins the workers (after serve_workers_drain). */
void serve_workers_stop(serve_server *sv);

/* Starts the HTTP daemon on host:port (port 0: any free port; *port gets
 * the one bound). 0, or -1 with a reason. */
int serve_http_start(serve_server *sv, const char *host, int *port, char *err,
                     size_t errlen);
/* Stops accepting new connections (in-flight ones go on). */
void serve_http_quiesce(serve_server *sv);
void serve_http_stop(serve_server *sv);

#endif
