/* archive_inputs.c - the inputs of an archive run: roots walked, manifest
 * read, names mirrored, collisions resolved, shard kept.
 *
 * Everything is collected first and sorted at the end, so the result does
 * not depend on readdir order, and every shard (each walking the whole
 * selection) agrees on the same rel for every file before it keeps its 1/N.
 * A directory is read to the end and closed before its children are walked:
 * a deep tree holds one descriptor, not one per level. */
#include "archive_inputs.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct {
    char *path;
    char *rel;     /* without the extension */
    char *rel_ext; /* with it, for a colliding rel; NULL: no extension */
    long line;     /* manifest line, to be checked once sharded; 0: found */
} entry;

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct {
    const archive_select *sel;
    archive_report_fn report;
    void *ctx;
    entry *v;
    size_t n, cap;
    dir_id *stack; /* the directories on the current path: a loop is a
                    * directory that is already one of them */
    size_t depth, stack_cap;
} collector;

static void report(collector *c, const char *path, const char *reason)
{
    if (c->report)
        c->report(c->ctx, path, reason);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* "a" + "b" -> "a/b"; one '/' even when a ends with some ("/" + "x"). */
static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *r = malloc(la + (size_t)slash + lb + 1);
    if (!r)
        return NULL;
    memcpy(r, a, la);
    if (slash)
        r[la] = '/';
    memcpy(r + la + (size_t)slash, b, lb + 1);
    return r;
}

static const char *base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Length of name without its extension: a dot that starts the name
 * (".profile") or ends it ("scan.") does not start an extension. */
static size_t stem_len(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name || dot[1] == '\0')
        return strlen(name);
    return (size_t)(dot - name);
}

static int known_extension(const char *name)
{
    static const char *const exts[] = {"tif", "tiff", "png", "jpg", "jpeg"};
    size_t st = stem_len(name);
    if (name[st] != '.')
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(name + st + 1, exts[i]) == 0)
            return 1;
    return 0;
}

/* Same rule as cli_sanitize_name (cli.h), which this module does not link
 * against: [A-Za-z0-9._-] kept, anything else and a leading '.' -> '_', an
 * empty component -> "_". Returns the bytes written (len, or 1). */
static size_t put_component(char *dst, const char *s, size_t len)
{
    if (len == 0) {
        dst[0] = '_';
        return 1;
    }
    for (size_t j = 0; j < len; j++) {
        unsigned char ch = (unsigned char)s[j];
        int safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
                   ch == '-';
        if (j == 0 && ch == '.')
            safe = 0;
        dst[j] = safe ? (char)ch : '_';
    }
    return len;
}

/* raw: '/'-separated, no empty, "." or ".." component (callers ensure it).
 * Each component sanitised; the last one without its extension unless
 * keep_ext. */
static char *make_rel(const char *raw, int keep_ext)
{
    size_t len = strlen(raw);
    char *r = malloc(2 * len + 2); /* an empty component grows by one byte */
    if (!r)
        return NULL;
    size_t j = 0;
    const char *p = raw;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t clen = slash ? (size_t)(slash - p)
                            : (keep_ext ? strlen(p) : stem_len(p));
        j += put_component(r + j, p, clen);
        if (!slash)
            break;
        r[j++] = '/';
        p = slash + 1;
    }
    r[j] = '\0';
    return r;
}

/* Takes ownership of path, rel and rel_ext, also on failure. */
static docrt_status add_entry(collector *c, char *path, char *rel,
                              char *rel_ext, long line)
{
    if (!path || !rel || !rel_ext) {
        free(path);
        free(rel);
        free(rel_ext);
        return DOCRT_ERR_NOMEM;
    }
    if (strcmp(rel, rel_ext) == 0) { /* no extension to keep */
        free(rel_ext);
        rel_ext = NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        entry *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            free(path);
            free(rel);
            free(rel_ext);
            return DOCRT_ERR_NOMEM;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (entry){path, rel, rel_ext, line};
    return DOCRT_OK;
}

/* A glob matches the whole relative path ('*' crosses '/') or its last
 * component: "*.tif" takes TIFFs at any depth, "box1/" followed by '*' takes
 * everything under box1. */
static int glob_any(const char *const *globs, int n, const char *relpath)
{
    const char *base = base_of(relpath);
    for (int i = 0; i < n; i++) {
        if (!globs[i])
            continue;
        if (fnmatch(globs[i], relpath, 0) == 0 ||
            fnmatch(globs[i], base, 0) == 0)
            return 1;
    }
    return 0;
}

/* default_ext: no include glob means "the extensions docrt decodes". */
static int selected(const collector *c, const char *relpath, int default_ext)
{
    const archive_select *s = c->sel;
    if (s->n_include > 0) {
        if (!glob_any(s->include, s->n_include, relpath))
            return 0;
    } else if (default_ext && !known_extension(base_of(relpath))) {
        return 0;
    }
    return !glob_any(s->exclude, s->n_exclude, relpath);
}

static docrt_status push_dir(collector *c, const struct stat *st)
{
    if (c->depth == c->stack_cap) {
        size_t cap = c->stack_cap ? 2 * c->stack_cap : 32;
        dir_id *s = realloc(c->stack, cap * sizeof *s);
        if (!s)
            return DOCRT_ERR_NOMEM;
        c->stack = s;
        c->stack_cap = cap;
    }
    c->stack[c->depth++] = (dir_id){st->st_dev, st->st_ino};
    return DOCRT_OK;
}

static int on_path(const collector *c, const struct stat *st)
{
    for (size_t i = 0; i < c->depth; i++)
        if (c->stack[i].dev == st->st_dev && c->stack[i].ino == st->st_ino)
            return 1;
    return 0;
}

typedef struct {
    char *name;
    unsigned char type; /* d_type: DT_UNKNOWN where the file system has none */
} dirent_copy;

static int cmp_dirent(const void *a, const void *b)
{
    return strcmp(((const dirent_copy *)a)->name,
                  ((const dirent_copy *)b)->name);
}

static void free_dirents(dirent_copy *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].name);
    free(d);
}

/* Reads dir's visible entries, sorted. A directory that cannot be opened or
 * read is reported: *n_out is then 0 (or what was read before the error). */
static docrt_status read_dir(collector *c, const char *dir,
                             dirent_copy **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d) {
        report(c, dir, strerror(errno));
        return DOCRT_OK;
    }
    dirent_copy *v = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                report(c, dir, strerror(errno));
            break;
        }
        if (e->d_name[0] == '.') /* hidden, ".", ".." and OUTDIR's journal */
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            dirent_copy *nv = realloc(v, ncap * sizeof *nv);
            if (!nv)
                goto nomem;
            v = nv;
            cap = ncap;
        }
        v[n].name = dup_str(e->d_name);
        if (!v[n].name)
            goto nomem;
        v[n].type = e->d_type;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_dirent);
    *out = v;
    *n_out = n;
    return DOCRT_OK;
nomem:
    closedir(d);
    free_dirents(v, n);
    return DOCRT_ERR_NOMEM;
}

/* dir is on c->stack already; prefix is its path relative to the root ("" for
 * the root itself). */
static docrt_status walk(collector *c, const char *dir, const char *prefix)
{
    dirent_copy *ents;
    size_t n;
    docrt_status s = read_dir(c, dir, &ents, &n);
    for (size_t i = 0; s == DOCRT_OK && i < n; i++) {
        unsigned char type = ents[i].type;
        if (type != DT_REG && type != DT_DIR && type != DT_LNK &&
            type != DT_UNKNOWN)
            continue; /* fifo, socket, device: never an image */
        char *path = join_path(dir, ents[i].name);
        char *relpath = *prefix ? join_path(prefix, ents[i].name)
                                : dup_str(ents[i].name);
        if (!path || !relpath) {
            free(path);
            free(relpath);
            s = DOCRT_ERR_NOMEM;
            break;
        }
        struct stat st;
        int is_reg = type == DT_REG, is_dir = 0;
        if (!is_reg) { /* a directory's identity, or where a link leads */
            if (stat(path, &st) != 0) {
                int e = errno;
                struct stat lst;
                char reason[256];
                if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
                    snprintf(reason, sizeof reason, "broken symbolic link: %s",
                             strerror(e));
                else
                    snprintf(reason, sizeof reason, "%s", strerror(e));
                report(c, path, reason);
            } else {
                is_reg = S_ISREG(st.st_mode);
                is_dir = S_ISDIR(st.st_mode);
            }
        }
        if (is_dir) {
            if (on_path(c, &st)) {
                report(c, path, "symlink loop");
            } else if ((s = push_dir(c, &st)) == DOCRT_OK) {
                s = walk(c, path, relpath);
                c->depth--;
            }
            free(path);
        } else if (is_reg && selected(c, relpath, 1)) {
            s = add_entry(c, path, make_rel(relpath, 0), make_rel(relpath, 1),
                          0);
        } else {
            free(path);
        }
        free(relpath);
    }
    free_dirents(ents, n);
    return s;
}

static docrt_status add_root(collector *c, const char *root)
{
    if (strcmp(root, "-") == 0)
        return add_entry(c, dup_str("-"), dup_str("stdin"), dup_str("stdin"),
                         0);
    struct stat st;
    if (stat(root, &st) != 0) {
        report(c, root, strerror(errno));
        return DOCRT_OK;
    }
    if (!S_ISDIR(st.st_mode)) { /* taken as it is: the decoder judges it */
        const char *b = base_of(root);
        return add_entry(c, dup_str(root), make_rel(b, 0), make_rel(b, 1), 0);
    }
    docrt_status s = push_dir(c, &st);
    if (s != DOCRT_OK)
        return s;
    s = walk(c, root, "");
    c->depth--;
    return s;
}

/* One manifest line: a path relative to the working directory. Its rel is
 * the path with leading "/", "." components and empty ones dropped; ".."
 * could climb out of OUTDIR and is refused. Whether the file exists is
 * checked after sharding (check_listed): rels then depend on the manifest's
 * text alone, so shards agree even when one sees a file go missing, and
 * each shard looks at its own entries only. */
static docrt_status add_listed(collector *c, const char *line, long lineno)
{
    size_t len = strlen(line);
    char *raw = malloc(len + 1);
    if (!raw)
        return DOCRT_ERR_NOMEM;
    size_t j = 0;
    const char *p = line;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t clen = slash ? (size_t)(slash - p) : strlen(p);
        if (clen == 2 && p[0] == '.' && p[1] == '.') {
            char reason[96];
            snprintf(reason, sizeof reason,
                     "'..' in a listed path (files-from line %ld)", lineno);
            report(c, line, reason);
            free(raw);
            return DOCRT_OK;
        }
        if (clen > 0 && !(clen == 1 && p[0] == '.')) {
            if (j > 0)
                raw[j++] = '/';
            memcpy(raw + j, p, clen);
            j += clen;
        }
        p += clen + (slash ? 1 : 0);
    }
    raw[j] = '\0';
    docrt_status s = DOCRT_OK;
    if (j == 0) { /* "/", ".", "./" */
        char reason[96];
        snprintf(reason, sizeof reason, "is a directory (files-from line %ld)",
                 lineno);
        report(c, line, reason);
    } else if (selected(c, raw, 0)) {
        /* a file named "-" must not read as stdin to whoever opens it */
        char *path = dup_str(strcmp(line, "-") == 0 ? "./-" : line);
        s = add_entry(c, path, make_rel(raw, 0), make_rel(raw, 1), lineno);
    }
    free(raw);
    return s;
}

/* A listed file this shard keeps: 0 (reported) when it is missing or a
 * folder. Anything else is taken, as a file named on the command line. */
static int check_listed(collector *c, const entry *e)
{
    struct stat st;
    char reason[320];
    if (stat(e->path, &st) != 0)
        snprintf(reason, sizeof reason, "%s (files-from line %ld)",
                 strerror(errno), e->line);
    else if (S_ISDIR(st.st_mode))
        snprintf(reason, sizeof reason, "is a directory (files-from line %ld)",
                 e->line);
    else
        return 1;
    report(c, e->path, reason);
    return 0;
}

static docrt_status read_manifest(collector *c, const char *name)
{
    int is_stdin = strcmp(name, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(name, "r");
    if (!f) {
        report(c, name, strerror(errno));
        return DOCRT_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = 0;
    long lineno = 0;
    docrt_status s = DOCRT_OK;
    while (s == DOCRT_OK && (errno = 0, len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (strlen(line) != (size_t)len) {
            char reason[64];
            snprintf(reason, sizeof reason, "NUL byte in line %ld", lineno);
            report(c, name, reason);
            continue;
        }
        s = add_listed(c, line, lineno);
    }
    if (s == DOCRT_OK && len < 0) {
        if (ferror(f)) {
            report(c, name, strerror(errno ? errno : EIO));
            s = DOCRT_ERR_IO;
        } else if (errno == ENOMEM) {
            s = DOCRT_ERR_NOMEM;
        }
    }
    free(line);
    if (!is_stdin)
        fclose(f);
    return s;
}

static int cmp_path_rel(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int r = strcmp(x->path, y->path);
    return r ? r : strcmp(x->rel, y->rel);
}

static int cmp_rel_path(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int r = strcmp(x->rel, y->rel);
    return r ? r : strcmp(x->path, y->path);
}

static void free_entry(entry *e)
{
    free(e->path);
    free(e->rel);
    free(e->rel_ext);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* Open-addressing set of rels, for the "~2" search. */
typedef struct {
    const char **slot;
    size_t mask;
} rel_set;

static int set_has_or_add(rel_set *set, const char *rel, int add)
{
    size_t i = (size_t)fnv1a(rel) & set->mask;
    while (set->slot[i]) {
        if (strcmp(set->slot[i], rel) == 0)
            return 1;
        i = (i + 1) & set->mask;
    }
    if (add)
        set->slot[i] = rel;
    return 0;
}

/* Entries sorted by (rel, path) with equal rels: the first of each run keeps
 * its rel, the others get the smallest "~K" (K >= 2) no entry has. */
static docrt_status number_duplicates(entry *v, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 16)
        cap *= 2;
    rel_set set = {calloc(cap, sizeof *set.slot), cap - 1};
    if (!set.slot)
        return DOCRT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        set_has_or_add(&set, v[i].rel, 1); /* the run's first one goes in */
    docrt_status s = DOCRT_OK;
    for (size_t i = 0; i < n && s == DOCRT_OK;) {
        size_t j = i + 1;
        for (; j < n && strcmp(v[j].rel, v[i].rel) == 0; j++) {
            size_t blen = strlen(v[i].rel);
            char *r = malloc(blen + 24);
            if (!r) {
                s = DOCRT_ERR_NOMEM;
                break;
            }
            unsigned long k = 2;
            do
                snprintf(r, blen + 24, "%s~%lu", v[i].rel, k++);
            while (set_has_or_add(&set, r, 0));
            free(v[j].rel);
            v[j].rel = r;
            set_has_or_add(&set, r, 1);
        }
        i = j;
    }
    free(set.slot);
    return s;
}

/* Duplicate paths out, colliding rels apart, sorted by (rel, path). */
static docrt_status resolve(collector *c)
{
    entry *v = c->v;
    size_t n = c->n, k = 0;
    if (n == 0)
        return DOCRT_OK;
    qsort(v, n, sizeof *v, cmp_path_rel);
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && strcmp(v[i].path, v[k - 1].path) == 0)
            free_entry(&v[i]); /* the same path twice: keep the smaller rel */
        else
            v[k++] = v[i];
    }
    c->n = n = k;

    qsort(v, n, sizeof *v, cmp_rel_path);
    int collided = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && strcmp(v[j].rel, v[i].rel) == 0)
            j++;
        for (size_t m = i; j - i > 1 && m < j; m++) {
            if (v[m].rel_ext) { /* "scan" -> "scan.tif" */
                free(v[m].rel);
                v[m].rel = v[m].rel_ext;
                v[m].rel_ext = NULL;
                collided = 1;
            }
        }
        i = j;
    }
    if (!collided)
        return DOCRT_OK;
    qsort(v, n, sizeof *v, cmp_rel_path);
    int still = 0;
    for (size_t i = 1; i < n && !still; i++)
        still = strcmp(v[i].rel, v[i - 1].rel) == 0;
    if (!still)
        return DOCRT_OK;
    docrt_status s = number_duplicates(v, n);
    if (s == DOCRT_OK)
        qsort(v, n, sizeof *v, cmp_rel_path);
    return s;
}

int archive_shard_of(const char *rel, int n)
{
    if (n <= 1 || !rel)
        return 0;
    return (int)(fnv1a(rel) % (uint64_t)n);
}

docrt_status archive_collect(const archive_select *sel, archive_input **out,
                             int *n_out, archive_report_fn report_fn,
                             void *ctx)
{
    if (out)
        *out = NULL;
    if (n_out)
        *n_out = 0;
    if (!sel || !out || !n_out || sel->n_roots < 0 ||
        (sel->n_roots > 0 && !sel->roots) || sel->n_include < 0 ||
        (sel->n_include > 0 && !sel->include) || sel->n_exclude < 0 ||
        (sel->n_exclude > 0 && !sel->exclude))
        return DOCRT_ERR_ARG;
    if (sel->shard_n < 0 || sel->shard_k < 0 ||
        (sel->shard_n == 0 && sel->shard_k != 0) ||
        (sel->shard_n > 0 && sel->shard_k >= sel->shard_n))
        return DOCRT_ERR_ARG;
    int stdin_root = 0;
    for (int i = 0; i < sel->n_roots; i++) {
        if (!sel->roots[i])
            return DOCRT_ERR_ARG;
        stdin_root |= strcmp(sel->roots[i], "-") == 0;
    }
    if (stdin_root && sel->files_from && strcmp(sel->files_from, "-") == 0)
        return DOCRT_ERR_ARG; /* stdin can be read once */

    collector c = {.sel = sel, .report = report_fn, .ctx = ctx};
    docrt_status s = DOCRT_OK;
    for (int i = 0; i < sel->n_roots && s == DOCRT_OK; i++) {
        if (sel->roots[i][0] == '\0')
            report(&c, sel->roots[i], "empty path");
        else
            s = add_root(&c, sel->roots[i]);
    }
    if (s == DOCRT_OK && sel->files_from)
        s = read_manifest(&c, sel->files_from);
    if (s == DOCRT_OK)
        s = resolve(&c);

    size_t kept = 0;
    archive_input *res = NULL;
    if (s == DOCRT_OK) {
        for (size_t i = 0; i < c.n; i++) {
            if ((sel->shard_n > 0 &&
                 archive_shard_of(c.v[i].rel, sel->shard_n) != sel->shard_k) ||
                (c.v[i].line > 0 && !check_listed(&c, &c.v[i]))) {
                free_entry(&c.v[i]);
            } else {
                c.v[kept++] = c.v[i];
            }
        }
        c.n = kept;
        if (kept > (size_t)INT_MAX)
            s = DOCRT_ERR_LIMIT;
        else if (kept > 0 && !(res = malloc(kept * sizeof *res)))
            s = DOCRT_ERR_NOMEM;
    }
    if (s != DOCRT_OK) {
        for (size_t i = 0; i < c.n; i++)
            free_entry(&c.v[i]);
        free(c.v);
        free(c.stack);
        return s;
    }
    for (size_t i = 0; i < kept; i++) {
        res[i] = (archive_input){c.v[i].path, c.v[i].rel};
        free(c.v[i].rel_ext);
    }
    free(c.v);
    free(c.stack);
    *out = res;
    *n_out = (int)kept;
    return DOCRT_OK;
}

void archive_inputs_free(archive_input *in, int n)
{
    if (!in)
        return;
    for (int i = 0; i < n; i++) {
        free(in[i].path);
        free(in[i].rel);
    }
    free(in);
}
