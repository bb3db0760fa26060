/* serve_metrics.h - the counters of `docrt serve` and their Prometheus text
 * form (GET /metrics): requests by status code, pages, request latency
 * histogram, queue depth, in-flight requests, RSS, oneDNN primitives
 * created (constant after start-up: every primitive is built at load). */
#ifndef DOCRT_SERVE_METRICS_H
#define DOCRT_SERVE_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SERVE_LAT_BUCKETS 11
#define SERVE_MAX_CODES 16

typedef struct {
    pthread_mutex_t mu;
    int codes[SERVE_MAX_CODES];
    uint64_t code_count[SERVE_MAX_CODES];
    int n_codes;
    uint64_t pages, page_errors;
    uint64_t lat_bucket[SERVE_LAT_BUCKETS + 1]; /* last: +Inf */
    double lat_sum;
    uint64_t lat_count;
    int queue_depth, queue_capacity, in_flight;
} serve_metrics;

void serve_metrics_init(serve_metrics *m, int queue_capacity);
void serve_metrics_destroy(serve_metrics *m);
/* A finished request: its status code and seconds from arrival. */
void serve_metrics_request(serve_metrics *m, int code, double seconds);
void serve_metrics_pages(serve_metrics *m, int ok, int failed);
/* The Prometheus text exposition (version 0.0.4), malloc'd; NULL when out of
 * memory. */
char *serve_metrics_text(serve_metrics *m, size_t *len);

#endif
