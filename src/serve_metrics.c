/* serve_metrics.c - see serve_metrics.h. */
#define _GNU_SOURCE /* open_memstream */
#include "serve_metrics.h"

#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const double lat_le[SERVE_LAT_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1,
                                                 2.5,  5,   10,   30,  60,
                                                 120};

void serve_metrics_init(serve_metrics *m, int queue_capacity)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->queue_capacity = queue_capacity;
}

void serve_metrics_destroy(serve_metrics *m)
{
    pthread_mutex_destroy(&m->mu);
}

void serve_metrics_request(serve_metrics *m, int code, double seconds)
{
    pthread_mutex_lock(&m->mu);
    int k = 0;
    while (k < m->n_codes && m->codes[k] != code)
        k++;
    if (k == m->n_codes && m->n_codes < SERVE_MAX_CODES)
        m->codes[m->n_codes++] = code;
    if (k < m->n_codes)
        m->code_count[k]++;
    int b = 0;
    while (b < SERVE_LAT_BUCKETS && seconds > lat_le[b])
        b++;
    m->lat_bucket[b]++;
    m->lat_sum += seconds;
    m->lat_count++;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_pages(serve_metrics *m, int ok, int failed)
{
    pthread_mutex_lock(&m->mu);
    m->pages += (uint64_t)ok;
    m->page_errors += (uint64_t)failed;
    pthread_mutex_unlock(&m->mu);
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE);
}

char *serve_metrics_text(serve_metrics *m, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    pthread_mutex_lock(&m->mu);
    fputs("# HELP docrt_requests_total OCR and other HTTP requests by status "
          "code.\n# TYPE docrt_requests_total counter\n", f);
    for (int k = 0; k < m->n_codes; k++)
        fprintf(f, "docrt_requests_total{code=\"%d\"} %llu\n", m->codes[k],
                (unsigned long long)m->code_count[k]);
    fprintf(f, "# HELP docrt_pages_total Pages OCR'd.\n"
               "# TYPE docrt_pages_total counter\ndocrt_pages_total %llu\n",
            (unsigned long long)m->pages);
    fprintf(f, "# HELP docrt_page_errors_total Pages that could not be read "
               "or OCR'd.\n# TYPE docrt_page_errors_total counter\n"
               "docrt_page_errors_total %llu\n",
            (unsigned long long)m->page_errors);
    fputs("# HELP docrt_request_duration_seconds Time from a request's "
          "arrival to its response.\n"
          "# TYPE docrt_request_duration_seconds histogram\n", f);
    uint64_t cum = 0;
    for (int b = 0; b < SERVE_LAT_BUCKETS; b++) {
        cum += m->lat_bucket[b];
        fprintf(f, "docrt_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                lat_le[b], (unsigned long long)cum);
    }
    cum += m->lat_bucket[SERVE_LAT_BUCKETS];
    fprintf(f, "docrt_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
               "docrt_request_duration_seconds_sum %.6f\n"
               "docrt_request_duration_seconds_count %llu\n",
            (unsigned long long)cum, m->lat_sum,
            (unsigned long long)m->lat_count);
    fprintf(f, "# HELP docrt_queue_depth OCR requests waiting for a stream.\n"
               "# TYPE docrt_queue_depth gauge\ndocrt_queue_depth %d\n"
               "# HELP docrt_queue_capacity Requests the queue holds before "
               "503.\n# TYPE docrt_queue_capacity gauge\n"
               "docrt_queue_capacity %d\n"
               "# HELP docrt_in_flight OCR requests being worked on.\n"
               "# TYPE docrt_in_flight gauge\ndocrt_in_flight %d\n",
            m->queue_depth, m->queue_capacity, m->in_flight);
    pthread_mutex_unlock(&m->mu);
    fprintf(f, "# HELP docrt_resident_memory_bytes Resident set size.\n"
               "# TYPE docrt_resident_memory_bytes gauge\n"
               "docrt_resident_memory_bytes %ld\n"
               "# HELP docrt_primitives_created_total oneDNN primitives "
               "created since start (all at model load).\n"
               "# TYPE docrt_primitives_created_total counter\n"
               "docrt_primitives_created_total %llu\n",
            rss_bytes(), (unsigned long long)graph_primitives_created());
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}
