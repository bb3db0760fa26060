/* archive_journal.c - see archive_journal.h. */
#define _GNU_SOURCE /* fallocate, FALLOC_FL_KEEP_SIZE */
#include "archive_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static char *read_all(int fd, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return NULL;
    if (lseek(fd, 0, SEEK_SET) < 0) {
        free(buf);
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Reserves disk blocks past the journal's end (its size unchanged), so that
 * on a filling disk the outputs written meanwhile run out of space first and
 * the journal can still record those failures. Tries a 64 KiB reservation,
 * else just what the next `need` bytes take; a file system without
 * fallocate (EOPNOTSUPP) is left as it is. Called under the flock. */
static void journal_reserve(journal *j, size_t need)
{
    struct stat sb;
    if (fstat(j->fd, &sb) != 0)
        return;
    off_t end = sb.st_size + (off_t)need;
    if (end <= j->reserved)
        return;
    off_t sizes[2] = {64 * 1024, (off_t)((need + 4095) / 4096 * 4096)};
    for (int i = 0; i < 2; i++)
        if (sizes[i] >= (off_t)need &&
            fallocate(j->fd, FALLOC_FL_KEEP_SIZE, sb.st_size, sizes[i]) == 0) {
            j->reserved = sb.st_size + sizes[i];
            return;
        }
}

int journal_open(journal *j, const char *outdir, int resume, char *err,
                 size_t errlen)
{
    j->fd = -1;
    j->path = NULL;
    j->reserved = 0;
    size_t n = strlen(outdir) + 32;
    char *dir = malloc(n);
    j->path = malloc(n);
    if (!dir || !j->path) {
        free(dir);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(dir, n, "%s/.docrt", outdir);
    snprintf(j->path, n, "%s/.docrt/journal", outdir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    free(dir);
    j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (j->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", j->path, strerror(errno));
        return -1;
    }
    flock(j->fd, LOCK_EX);
    int rc = 0;
    if (!resume) {
        if (ftruncate(j->fd, 0) != 0)
            rc = -1;
    } else {
        /* A kill in the middle of a line leaves it torn: drop it, so the
         * next line does not glue onto it. */
        struct stat sb;
        if (fstat(j->fd, &sb) == 0 && sb.st_size > 0) {
            size_t len = 0;
            char *all = read_all(j->fd, &len);
            if (!all)
                rc = -1;
            else if (len && all[len - 1] != '\n') {
                size_t k = len;
                while (k > 0 && all[k - 1] != '\n')
                    k--;
                off_t keep = (off_t)k;
                if (ftruncate(j->fd, keep) != 0)
                    rc = -1;
            }
            free(all);
        }
    }
    if (!rc)
        journal_reserve(j, 1024);
    flock(j->fd, LOCK_UN);
    if (rc) {
        snprintf(err, errlen, "cannot write %s: %s", j->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int cmp_rel(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const archive_input *)elem)->rel);
}

static void add_page(journal_state *s, int page)
{
    if (journal_has_page(s, page))
        return;
    if (s->n_pages == s->cap_pages) {
        int cap = s->cap_pages ? 2 * s->cap_pages : 8;
        int *np = realloc(s->pages, (size_t)cap * sizeof *np);
        if (!np)
            return;
        s->pages = np;
        s->cap_pages = cap;
    }
    s->pages[s->n_pages++] = page;
}

int journal_has_page(const journal_state *s, int page)
{
    for (int i = 0; i < s->n_pages; i++)
        if (s->pages[i] == page)
            return 1;
    return 0;
}

int journal_load(journal *j, const archive_input *in, int n,
                 journal_state *st)
{
    memset(st, 0, (size_t)n * sizeof *st);
    size_t len = 0;
    flock(j->fd, LOCK_SH);
    char *all = read_all(j->fd, &len);
    flock(j->fd, LOCK_UN);
    if (!all)
        return -1;
    for (char *l = all; *l;) {
        char *e = strchr(l, '\n');
        if (!e)
            break; /* torn line of a shard still running */
        *e = '\0';
        json_t *o = json_loads(l, 0, NULL);
        l = e + 1;
        if (!o)
            continue;
        const char *rel = json_string_value(json_object_get(o, "rel"));
        const archive_input *hit =
            rel && n ? bsearch(rel, in, (size_t)n, sizeof *in, cmp_rel) : NULL;
        if (hit) {
            journal_state *s = &st[hit - in];
            json_t *pg = json_object_get(o, "page"), *d;
            if (json_is_integer(pg))
                add_page(s, (int)json_integer_value(pg));
            else if (json_is_integer(d = json_object_get(o, "done"))) {
                s->done = 1;
                s->done_failed =
                    (int)json_integer_value(json_object_get(o, "failed"));
            }
        }
        json_decref(o);
    }
    free(all);
    return 0;
}

void journal_state_free(journal_state *st, int n)
{
    if (!st)
        return;
    for (int i = 0; i < n; i++)
        free(st[i].pages);
    free(st);
}

int journal_append(journal *j, const char *line, int sync)
{
    size_t n = strlen(line);
    char *buf = malloc(n + 2);
    if (!buf)
        return -1;
    memcpy(buf, line, n);
    buf[n] = '\n';
    flock(j->fd, LOCK_EX);
    journal_reserve(j, n + 1);
    size_t off = 0;
    int rc = 0;
    while (off < n + 1) {
        ssize_t w = write(j->fd, buf + off, n + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    if (!rc && sync && fsync(j->fd) != 0)
        rc = -1;
    flock(j->fd, LOCK_UN);
    free(buf);
    return rc;
}

typedef struct {
    char *path;
    long page; /* 0: the whole file */
    char *line;
    size_t seq;  /* line number in the journal */
    int missing; /* not collected (missing root or manifest entry...) */
} err_rec;

typedef struct {
    char *path;
    size_t seq;
} done_rec;

static int cmp_done(const void *a, const void *b)
{
    const done_rec *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A "missing" line is stale once a later "done" line has the same path
 * (the file turned up and was read). */
static int missing_stale(const err_rec *r, const done_rec *d, size_t nd)
{
    size_t lo = 0, hi = nd;
    while (lo < hi) { /* first done_rec with path > r->path */
        size_t mid = (lo + hi) / 2;
        if (strcmp(d[mid].path, r->path) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && !strcmp(d[lo - 1].path, r->path) &&
           d[lo - 1].seq > r->seq;
}

static int cmp_err(const void *a, const void *b)
{
    const err_rec *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    if (x->page != y->page)
        return x->page < y->page ? -1 : 1;
    return strcmp(x->line, y->line);
}

int journal_write_errors(journal *j, const char *outdir, char *err,
                         size_t errlen)
{
    /* Held to the rename: of shards sharing OUTDIR, the one that renames
     * last has read every line the others wrote. */
    size_t len = 0;
    flock(j->fd, LOCK_EX);
    char *all = read_all(j->fd, &len);
    if (!all) {
        snprintf(err, errlen, "cannot read %s: %s", j->path, strerror(errno));
        flock(j->fd, LOCK_UN);
        return -1;
    }
    err_rec *recs = NULL;
    done_rec *dones = NULL;
    size_t nr = 0, cap = 0, nd = 0, dcap = 0, seq = 0;
    for (char *l = all; *l; seq++) {
        char *e = strchr(l, '\n');
        if (!e)
            break;
        *e = '\0';
        json_t *o = json_loads(l, 0, NULL);
        l = e + 1;
        if (!o)
            continue;
        const char *path = json_string_value(json_object_get(o, "path"));
        const char *reason = json_string_value(json_object_get(o, "reason"));
        json_t *pg = json_object_get(o, "page");
        if (path && json_is_integer(json_object_get(o, "done"))) {
            if (nd == dcap) {
                size_t nc = dcap ? 2 * dcap : 16;
                done_rec *nv = realloc(dones, nc * sizeof *nv);
                if (nv) {
                    dones = nv;
                    dcap = nc;
                }
            }
            if (nd < dcap && (dones[nd].path = strdup(path))) {
                dones[nd].seq = seq;
                nd++;
            }
        }
        if (path && reason && json_is_integer(pg)) {
            long page = (long)json_integer_value(pg);
            json_t *r = json_object();
            json_object_set_new(r, "path", json_string(path));
            json_object_set_new(r, "page",
                                page > 0 ? json_integer(page) : json_null());
            json_object_set_new(r, "reason", json_string(reason));
            char *line = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(r);
            if (line && nr == cap) {
                cap = cap ? 2 * cap : 16;
                err_rec *nrecs = realloc(recs, cap * sizeof *recs);
                if (!nrecs) {
                    free(line);
                    line = NULL;
                } else
                    recs = nrecs;
            }
            if (line) {
                recs[nr].path = strdup(path);
                recs[nr].page = page;
                recs[nr].line = line;
                recs[nr].seq = seq;
                recs[nr].missing =
                    json_is_true(json_object_get(o, "missing"));
                if (recs[nr].path)
                    nr++;
                else
                    free(line);
            }
        }
        json_decref(o);
    }
    free(all);
    if (nd)
        qsort(dones, nd, sizeof *dones, cmp_done);
    if (nr)
        qsort(recs, nr, sizeof *recs, cmp_err);
    size_t pn = strlen(outdir) + 64;
    char *final = malloc(pn), *tmp = malloc(pn);
    int rc = -1;
    FILE *f = NULL;
    if (!final || !tmp) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    snprintf(final, pn, "%s/errors.jsonl", outdir);
    snprintf(tmp, pn, "%s/errors.jsonl.tmp%ld", outdir, (long)getpid());
    f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    const err_rec *last = NULL;
    for (size_t i = 0; i < nr; i++) {
        /* The same page twice (two shards, same input): write it once. */
        if (recs[i].missing && missing_stale(&recs[i], dones, nd))
            continue;
        if (last && recs[i].page == last->page &&
            !strcmp(recs[i].path, last->path))
            continue;
        last = &recs[i];
        fputs(recs[i].line, f);
        fputc('\n', f);
    }
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, final) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", final, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < nr; i++) {
        free(recs[i].path);
        free(recs[i].line);
    }
    free(recs);
    for (size_t i = 0; i < nd; i++)
        free(dones[i].path);
    free(dones);
    free(final);
    free(tmp);
    flock(j->fd, LOCK_UN);
    return rc;
}

void journal_close(journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    free(j->path);
    j->path = NULL;
}
