/* archive_reader.c - the decode-ahead reader thread (see archive_reader.h).
 *
 * Requests are queued per worker slot (at most one each) and served in the
 * order they were made. A slot's result has two parts: the opened input
 * (after a FILE request) and one decoded page (after a FILE request that
 * found pages, or a PAGE request). Taking page k queues the request for
 * page k+1, or for the next input after the last page. */
#include "archive_reader.h"
#include "cli.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REQ_NONE, REQ_FILE, REQ_PAGE };

typedef struct {
    int req;            /* what the reader owes this slot */
    int busy;           /* the reader is serving it now (no lock held) */
    int none_left;      /* a FILE request found no input */
    /* the open input (FILE result), until next_file takes it */
    int file_ready;
    archive_file file;
    /* the input the worker holds: PAGE requests decode from it */
    docrt_document *cur_doc;
    int cur_np;
    /* one decoded page */
    int page_ready, page_no;
    docrt_document *page_doc; /* the document the page came from */
    docrt_image img;
    docrt_status page_status;
    char page_err[2048];
    double decode_ms;
} slot;

struct archive_reader {
    const archive_input *in;
    docrt_image_limits lim;
    archive_reader_hooks hooks;
    int n;                 /* slots */
    slot *s;
    int *queue, q_head, q_len; /* ring of slot indices */
    pthread_mutex_t mu;
    pthread_cond_t work;   /* reader: a request or stop */
    pthread_cond_t done;   /* workers: a result */
    int stop;
    pthread_t th;
};

static docrt_status read_stdin(void **data, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return DOCRT_ERR_NOMEM;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return DOCRT_ERR_NOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, stdin);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(stdin)) {
        free(buf);
        return DOCRT_ERR_IO;
    }
    *data = buf;
    *len = n;
    return DOCRT_OK;
}

/* Caller holds mu. */
static void enqueue(archive_reader *r, int w, int req)
{
    r->s[w].req = req;
    r->queue[(r->q_head + r->q_len) % r->n] = w;
    r->q_len++;
    pthread_cond_signal(&r->work);
}

static void open_input(archive_reader *r, int idx, archive_file *f)
{
    const char *path = r->in[idx].path;
    memset(f, 0, sizeof *f);
    f->idx = idx;
    double t0 = cli_now_ms();
    if (strcmp(path, "-") == 0) {
        void *data = NULL;
        size_t len = 0;
        f->status = read_stdin(&data, &len);
        if (f->status == DOCRT_OK)
            f->status = docrt_document_open_memory(
                data, len, "-", &r->lim, &f->doc, f->err, sizeof f->err);
        else
            snprintf(f->err, sizeof f->err, "-: cannot read stdin: %s",
                     docrt_status_str(f->status));
        free(data);
    } else {
        f->status =
            docrt_document_open(path, &r->lim, &f->doc, f->err, sizeof f->err);
    }
    f->open_ms = cli_now_ms() - t0;
    if (f->status != DOCRT_OK) {
        if (!f->err[0])
            snprintf(f->err, sizeof f->err, "%s: %s", path,
                     docrt_status_str(f->status));
        f->doc = NULL;
    } else {
        f->n_pages = docrt_document_n_pages(f->doc);
    }
}

static void decode_page(slot *s, docrt_document *doc, int pg)
{
    memset(&s->img, 0, sizeof s->img);
    s->page_err[0] = '\0';
    double t0 = cli_now_ms();
    s->page_status = docrt_document_read_page(doc, pg, &s->img, s->page_err,
                                              sizeof s->page_err);
    s->decode_ms = cli_now_ms() - t0;
    s->page_no = pg;
    s->page_doc = doc;
}

static void *reader_main(void *arg)
{
    archive_reader *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && r->q_len == 0)
            pthread_cond_wait(&r->work, &r->mu);
        if (r->stop)
            break;
        int w = r->queue[r->q_head];
        r->q_head = (r->q_head + 1) % r->n;
        r->q_len--;
        slot *s = &r->s[w];
        if (s->req == REQ_NONE) /* withdrawn by end_file */
            continue;
        s->busy = 1;
        int req = s->req;
        docrt_document *doc = s->cur_doc;
        int pg = s->page_no + 1; /* REQ_PAGE: the page after the taken one */
        pthread_mutex_unlock(&r->mu);

        /* No lock held: the slot's result fields are the reader's until
         * busy is cleared. */
        if (req == REQ_FILE) {
            int idx = r->hooks.claim(r->hooks.ctx);
            if (idx < 0) {
                s->none_left = 1;
            } else {
                open_input(r, idx, &s->file);
                if (r->hooks.opened)
                    r->hooks.opened(r->hooks.ctx, idx, s->file.n_pages);
                if (s->file.n_pages > 0)
                    decode_page(s, s->file.doc, 0);
            }
        } else {
            decode_page(s, doc, pg);
        }

        pthread_mutex_lock(&r->mu);
        s->busy = 0;
        s->req = REQ_NONE;
        if (req == REQ_FILE && !s->none_left) {
            s->file_ready = 1;
            s->page_ready = s->file.n_pages > 0;
        } else if (req == REQ_PAGE) {
            s->page_ready = 1;
        }
        pthread_cond_broadcast(&r->done);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Everything but the thread (not running, or joined). */
static void destroy(archive_reader *r)
{
    pthread_cond_destroy(&r->work);
    pthread_cond_destroy(&r->done);
    pthread_mutex_destroy(&r->mu);
    free(r->s);
    free(r->queue);
    free(r);
}

docrt_status archive_reader_start(const archive_input *in,
                                  const docrt_image_limits *lim,
                                  int n_workers,
                                  const archive_reader_hooks *hooks,
                                  archive_reader **out)
{
    *out = NULL;
    if (n_workers < 1 || !hooks || !hooks->claim)
        return DOCRT_ERR_ARG;
    archive_reader *r = calloc(1, sizeof *r);
    if (!r)
        return DOCRT_ERR_NOMEM;
    r->in = in;
    r->lim = *lim;
    r->hooks = *hooks;
    r->n = n_workers;
    r->s = calloc((size_t)n_workers, sizeof *r->s);
    r->queue = calloc((size_t)n_workers, sizeof *r->queue);
    if (!r->s || !r->queue) {
        free(r->s);
        free(r->queue);
        free(r);
        return DOCRT_ERR_NOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->done, NULL);
    /* Every worker's first input is asked for at once, in worker order. */
    for (int w = 0; w < n_workers; w++)
        enqueue(r, w, REQ_FILE);
    if (pthread_create(&r->th, NULL, reader_main, r) != 0) {
        destroy(r);
        return DOCRT_ERR_RUNTIME;
    }
    *out = r;
    return DOCRT_OK;
}

int archive_reader_next_file(archive_reader *r, int w, archive_file *f)
{
    slot *s = &r->s[w];
    pthread_mutex_lock(&r->mu);
    if (s->req == REQ_NONE && !s->file_ready && !s->none_left)
        enqueue(r, w, REQ_FILE);
    while (!s->file_ready && !s->none_left)
        pthread_cond_wait(&r->done, &r->mu);
    int got = s->file_ready;
    if (got) {
        *f = s->file;
        s->file_ready = 0;
        s->cur_doc = f->doc;
        s->cur_np = f->n_pages;
        if (f->n_pages == 0) /* nothing to decode: ask for the next now */
            enqueue(r, w, REQ_FILE);
    }
    pthread_mutex_unlock(&r->mu);
    return got;
}

docrt_status archive_reader_page(archive_reader *r, int w, int pg,
                                 docrt_image *img, char *err, size_t errlen,
                                 double *decode_ms)
{
    slot *s = &r->s[w];
    memset(img, 0, sizeof *img);
    pthread_mutex_lock(&r->mu);
    if (!s->cur_doc || pg < 0 || pg >= s->cur_np ||
        (!s->page_ready && s->req != REQ_PAGE) ||
        (s->page_ready && s->page_no != pg)) {
        pthread_mutex_unlock(&r->mu);
        snprintf(err, errlen, "page %d: pages must be read in order",
                 pg + 1);
        return DOCRT_ERR_ARG;
    }
    while (!s->page_ready)
        pthread_cond_wait(&r->done, &r->mu);
    *img = s->img;
    memset(&s->img, 0, sizeof s->img);
    docrt_status st = s->page_status;
    snprintf(err, errlen, "%s", s->page_err);
    *decode_ms = s->decode_ms;
    s->page_ready = 0;
    /* page_no stays: the PAGE request decodes page_no + 1 */
    enqueue(r, w, pg + 1 < s->cur_np ? REQ_PAGE : REQ_FILE);
    pthread_mutex_unlock(&r->mu);
    return st;
}

void archive_reader_end_file(archive_reader *r, int w, archive_file *f)
{
    slot *s = &r->s[w];
    pthread_mutex_lock(&r->mu);
    if (s->req == REQ_PAGE) {
        if (!s->busy)
            s->req = REQ_NONE; /* still queued: withdrawn */
        while (s->busy)
            pthread_cond_wait(&r->done, &r->mu);
    }
    if (s->page_ready && s->page_doc == f->doc) {
        docrt_image_free(&s->img);
        s->page_ready = 0;
    }
    s->cur_doc = NULL;
    s->cur_np = 0;
    pthread_mutex_unlock(&r->mu);
    docrt_document_close(f->doc);
    f->doc = NULL;
}

void archive_reader_free(archive_reader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    for (int w = 0; w < r->n; w++) {
        slot *s = &r->s[w];
        if (s->file_ready)
            docrt_document_close(s->file.doc);
        if (s->page_ready)
            docrt_image_free(&s->img);
    }
    destroy(r);
}
