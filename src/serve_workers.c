/* serve_workers.c - the bounded request queue and the OCR worker threads of
 * `docrt serve` (see serve.h). */
#include "serve.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    serve_server *sv;
    docrt_stream *stream;
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg *wa = p;
    serve_server *sv = wa->sv;
    for (;;) {
        pthread_mutex_lock(&sv->mu);
        while (!sv->head && !sv->stopping)
            pthread_cond_wait(&sv->cv, &sv->mu);
        if (!sv->head) { /* stopping and nothing left */
            pthread_mutex_unlock(&sv->mu);
            break;
        }
        serve_job *j = sv->head;
        sv->head = j->next;
        if (!sv->head)
            sv->tail = NULL;
        sv->queued--;
        sv->in_flight++;
        pthread_mutex_lock(&sv->metrics.mu);
        sv->metrics.queue_depth = sv->queued;
        sv->metrics.in_flight = sv->in_flight;
        pthread_mutex_unlock(&sv->metrics.mu);
        pthread_mutex_unlock(&sv->mu);

        (sv->run ? sv->run : serve_ocr_run)(wa->stream, &sv->lim, &sv->op,
                                            &j->req);
        serve_metrics_pages(&sv->metrics, j->req.pages_ok, j->req.pages_failed);

        pthread_mutex_lock(&sv->mu);
        j->done = 1;
        /* Resumed under the lock: the connection's handler reads `done`. */
        MHD_resume_connection(j->conn);
        sv->in_flight--;
        pthread_mutex_lock(&sv->metrics.mu);
        sv->metrics.in_flight = sv->in_flight;
        pthread_mutex_unlock(&sv->metrics.mu);
        if (!sv->head && !sv->in_flight)
            pthread_cond_broadcast(&sv->idle);
        pthread_mutex_unlock(&sv->mu);
    }
    docrt_stream_free(wa->stream);
    free(wa);
    return NULL;
}

int serve_workers_start(serve_server *sv, char *err, size_t errlen)
{
    sv->threads = calloc((size_t)sv->n_streams, sizeof *sv->threads);
    if (!sv->threads) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < sv->n_streams; i++) {
        worker_arg *wa = calloc(1, sizeof *wa);
        docrt_status st = !wa ? DOCRT_ERR_NOMEM
                        : sv->run ? DOCRT_OK
                                  : docrt_stream_create(sv->model, &wa->stream);
        if (st != DOCRT_OK) {
            snprintf(err, errlen, "cannot create stream %d: %s", i + 1,
                     docrt_status_str(st));
            free(wa);
            return -1;
        }
        wa->sv = sv;
        if (pthread_create(&sv->threads[i], NULL, worker_main, wa) != 0) {
            snprintf(err, errlen, "cannot start worker thread %d", i + 1);
            docrt_stream_free(wa->stream);
            free(wa);
            return -1;
        }
        sv->n_threads++;
    }
    return 0;
}

int serve_workers_submit(serve_server *sv, serve_job *job)
{
    pthread_mutex_lock(&sv->mu);
    if (sv->stopping || sv->queued >= sv->queue_cap) {
        pthread_mutex_unlock(&sv->mu);
        return -1;
    }
    job->next = NULL;
    if (sv->tail)
        sv->tail->next = job;
    else
        sv->head = job;
    sv->tail = job;
    sv->queued++;
    /* Suspended before any worker can see the job (they take it under this
     * lock), so the worker's resume always finds it suspended. */
    MHD_suspend_connection(job->conn);
    pthread_mutex_lock(&sv->metrics.mu);
    sv->metrics.queue_depth = sv->queued;
    pthread_mutex_unlock(&sv->metrics.mu);
    pthread_cond_signal(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    return 0;
}

void serve_workers_drain(serve_server *sv)
{
    pthread_mutex_lock(&sv->mu);
    while (sv->head || sv->in_flight)
        pthread_cond_wait(&sv->idle, &sv->mu);
    pthread_mutex_unlock(&sv->mu);
}

void serve_workers_stop(serve_server *sv)
{
    pthread_mutex_lock(&sv->mu);
    sv->stopping = 1;
    pthread_cond_broadcast(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    for (int i = 0; i < sv->n_threads; i++)
        pthread_join(sv->threads[i], NULL);
    free(sv->threads);
    sv->threads = NULL;
    sv->n_threads = 0;
}
