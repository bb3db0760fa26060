/* test_onnx_conformance.c - ONNX's node conformance tests through graph/.
 *
 * For every test case directory in ONNX's test data (sorted by name):
 *   load model.onnx, read test_data_set_N/input_K.pb, compile with those
 *   input shapes as the single bucket, run on a fresh stream, and compare
 *   every output with output_K.pb (dtype and shape must match; f32/f64 within
 *   |a-b| <= atol + rtol*|b|, rtol 1e-3, atol 1e-5, NaN equal to NaN;
 *   integer and bool types exactly).
 *
 * Each case is classified:
 *   passed       every data set matched
 *   unsupported  load, compile or reading a .pb said GRAPH_ERR_UNSUPPORTED, or
 *                a model input's dtype is unknown to graph_dtype_size
 *   failed       anything else: a wrong value, another error, a crash, a hang
 *
 * Each case runs in a forked child (nothing is run in the parent, so no
 * OpenMP or oneDNN state crosses a fork), so a crash is reported as that
 * case's failure and the run goes on. The test asserts 0 failed and that every
 * unsupported case is listed in tests/onnx_unsupported.txt; a listed case that
 * now passes is reported ("now passes: remove from list") but is no failure.
 *
 * Environment:
 *   DOCRT_CONFORMANCE_FILTER=sub    run only the cases whose name contains sub
 *   DOCRT_CONFORMANCE_WRITE_LIST=1  rewrite tests/onnx_unsupported.txt instead
 *                                   of asserting it (with a filter, only the
 *                                   entries matching the filter are replaced)
 *   DOCRT_CONFORMANCE_VERBOSE=1     also print every unsupported case's reason
 *                                   and every pass
 *   DOCRT_CONFORMANCE_NOFORK=1      run cases in-process (for gdb / ASan)
 *   DOCRT_CONFORMANCE_TIMEOUT=s     per-case limit in seconds (default 120)
 *   DOCRT_ONNX_TESTDATA=dir         test data (default
 *                                   /usr/share/libonnx-testdata/data/node)
 * The last line printed is exactly "N passed, N failed, N unsupported".
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph.h"

#define DEFAULT_TESTDATA "/usr/share/libonnx-testdata/data/node"
#define RTOL 1e-3
#define ATOL 1e-5
#define MAX_IO 64
#define MSG_LEN 1024

typedef enum { R_PASS = 0, R_FAIL = 1, R_UNSUP = 2 } result_kind;

/* ---- small helpers ---- */

/* snprintf for paths; a path that does not fit is a test error, not a
 * silently truncated name. */
static void fmt_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < len, "path too long: %s", buf);
}

static result_kind set_msg(char *msg, result_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static result_kind set_msg(char *msg, result_kind k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, MSG_LEN, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* keep it one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return k;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int64_t numel_of(const graph_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->dims[i];
    return n;
}

static void shape_str(const graph_shape *s, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = -1; i <= s->rank && i <= GRAPH_MAX_RANK && o + 1 < len; i++) {
        int w = i < 0 ? snprintf(buf + o, len - o, "[")
                : i == s->rank ? snprintf(buf + o, len - o, "]")
                : snprintf(buf + o, len - o, "%s%lld", i ? "," : "",
                           (long long)s->dims[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static const char *dt_name(int dt)
{
    const char *n = graph_dtype_name(dt);
    return n ? n : "?";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in `dir` starting with `prefix` (directories only if
 * want_dirs). Returns the count; *out is malloc'd (free with free_names). */
static int list_names(const char *dir, const char *prefix, int want_dirs,
                      char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (want_dirs) {
            char p[4096];
            struct stat st;
            fmt_path(p, sizeof p, "%s/%s", dir, e->d_name);
            if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            ck_assert_ptr_nonnull(nv);
            v = nv;
        }
        v[n] = strdup(e->d_name);
        ck_assert_ptr_nonnull(v[n]);
        n++;
    }
    closedir(d);
    if (n)
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static void free_names(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- comparison ---- */

static int is_int_dtype(int dt)
{
    return dt == GRAPH_DT_U8 || dt == GRAPH_DT_I8 || dt == GRAPH_DT_I32 ||
           dt == GRAPH_DT_I64 || dt == GRAPH_DT_BOOL;
}

static double elem_as_double(const void *data, int dt, int64_t i)
{
    switch (dt) {
    case GRAPH_DT_F32: return ((const float *)data)[i];
    case GRAPH_DT_F64: return ((const double *)data)[i];
    case GRAPH_DT_U8: return ((const uint8_t *)data)[i];
    case GRAPH_DT_I8: return ((const int8_t *)data)[i];
    case GRAPH_DT_I32: return ((const int32_t *)data)[i];
    case GRAPH_DT_I64: return (double)((const int64_t *)data)[i];
    case GRAPH_DT_BOOL: return ((const uint8_t *)data)[i];
    default: return NAN;
    }
}

static int close_enough(double got, double want)
{
    if (isnan(got) || isnan(want))
        return isnan(got) && isnan(want);
    if (got == want) /* also equal infinities */
        return 1;
    if (isinf(got) || isinf(want))
        return 0;
    return fabs(got - want) <= ATOL + RTOL * fabs(want);
}

/* Compares got (graph output, dtype dt) with want. Returns 1 if equal, else
 * 0 with a reason in why. */
static int compare_values(const void *got, int dt, const graph_host_tensor *want,
                          char *why, size_t whylen)
{
    int64_t n = numel_of(&want->shape);
    if (n == 0)
        return 1;
    if (!got) {
        snprintf(why, whylen, "output pointer is NULL for %lld elements",
                 (long long)n);
        return 0;
    }
    int64_t bad = 0, first = -1;
    double max_err = 0.0;
    if (is_int_dtype(dt)) {
        size_t es = graph_dtype_size(dt);
        for (int64_t i = 0; i < n; i++) {
            int eq;
            if (dt == GRAPH_DT_BOOL) /* any nonzero byte is true */
                eq = (((const uint8_t *)got)[i] != 0) ==
                     (((const uint8_t *)want->data)[i] != 0);
            else
                eq = memcmp((const char *)got + (size_t)i * es,
                            (const char *)want->data + (size_t)i * es, es) == 0;
            if (!eq) {
                if (first < 0)
                    first = i;
                bad++;
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            double a = elem_as_double(got, dt, i);
            double b = elem_as_double(want->data, dt, i);
            if (!close_enough(a, b)) {
                if (first < 0)
                    first = i;
                bad++;
                double e = fabs(a - b);
                if (!(e <= max_err)) /* NaN or inf wins */
                    max_err = e;
            }
        }
    }
    if (!bad)
        return 1;
    int o = snprintf(why, whylen,
                     "%lld of %lld elements differ; first at %lld: got %.9g "
                     "want %.9g",
                     (long long)bad, (long long)n, (long long)first,
                     elem_as_double(got, dt, first),
                     elem_as_double(want->data, dt, first));
    if (!is_int_dtype(dt) && o > 0 && (size_t)o < whylen)
        snprintf(why + o, whylen - (size_t)o, "; max abs err %.3g", max_err);
    return 0;
}

/* ---- one test case ---- */

static int count_pb(const char *set_dir, const char *stem)
{
    int k = 0;
    char p[4096];
    for (;; k++) {
        fmt_path(p, sizeof p, "%s/%s_%d.pb", set_dir, stem, k);
        if (!file_exists(p))
            return k;
    }
}

/* Runs one data set of a loaded model. */
/* In bound mode, inputs 1..n of the case were bound as constants (weights
 * passed as graph inputs), so only input_0.pb is a runtime input. */
static int bound_mode;

static result_kind run_data_set(const graph_model *m, const char *set_dir,
                                const char *set_name, char *msg)
{
    char err[512] = "", why[512] = "", p[4096];
    graph_host_tensor in[MAX_IO], want[MAX_IO];
    graph_shape shapes[MAX_IO];
    const void *in_ptrs[MAX_IO], *out_ptrs[MAX_IO];
    graph_compiled *c = NULL;
    graph_stream *s = NULL;
    int n_in_read = 0, n_want_read = 0;
    result_kind rk = R_PASS;
    graph_status st;

    memset(in, 0, sizeof in);
    memset(want, 0, sizeof want);
    memset(out_ptrs, 0, sizeof out_ptrs);

    int n_in = graph_model_n_inputs(m);
    int n_out = graph_model_n_outputs(m);
    int n_in_pb = bound_mode ? 1 : count_pb(set_dir, "input");
    int n_out_pb = count_pb(set_dir, "output");
    if (n_in < 0 || n_in > MAX_IO || n_out < 0 || n_out > MAX_IO) {
        rk = set_msg(msg, R_FAIL, "model reports %d inputs, %d outputs", n_in,
                     n_out);
        goto done;
    }
    if (n_in_pb != n_in) {
        rk = set_msg(msg, R_FAIL, "%s: %d input_*.pb files, model has %d inputs",
                     set_name, n_in_pb, n_in);
        goto done;
    }
    if (n_out_pb != n_out) {
        rk = set_msg(msg, R_FAIL,
                     "%s: %d output_*.pb files, model has %d outputs", set_name,
                     n_out_pb, n_out);
        goto done;
    }

    for (int i = 0; i < n_in; i++) {
        fmt_path(p, sizeof p, "%s/input_%d.pb", set_dir, i);
        st = graph_tensor_read_pb(p, &in[i], err, sizeof err);
        if (st != GRAPH_OK) {
            rk = set_msg(msg, st == GRAPH_ERR_UNSUPPORTED ? R_UNSUP : R_FAIL,
                         "%s/input_%d.pb: %s: %s", set_name, i,
                         graph_status_str(st), err);
            goto done;
        }
        n_in_read = i + 1;
        int mdt = graph_model_input_dtype(m, i);
        if (in[i].dtype != mdt) {
            rk = set_msg(msg, R_FAIL,
                         "%s/input_%d.pb: dtype %s, model input '%s' is %s",
                         set_name, i, dt_name(in[i].dtype),
                         graph_model_input_name(m, i), dt_name(mdt));
            goto done;
        }
        shapes[i] = in[i].shape;
        in_ptrs[i] = in[i].data;
    }

    graph_compile_params params = graph_compile_default_params();
    st = graph_compile(m, shapes, 1, &params, &c, err, sizeof err);
    if (st != GRAPH_OK) {
        rk = set_msg(msg, st == GRAPH_ERR_UNSUPPORTED ? R_UNSUP : R_FAIL,
                     "compile: %s: %s", graph_status_str(st), err);
        c = NULL;
        goto done;
    }
    if (graph_compiled_n_outputs(c) != n_out) {
        rk = set_msg(msg, R_FAIL, "compiled has %d outputs, model %d",
                     graph_compiled_n_outputs(c), n_out);
        goto done;
    }
    st = graph_stream_create(c, &s);
    if (st != GRAPH_OK) {
        rk = set_msg(msg, R_FAIL, "stream_create: %s", graph_status_str(st));
        s = NULL;
        goto done;
    }
    st = graph_stream_run(s, 0, in_ptrs, out_ptrs);
    if (st != GRAPH_OK) {
        const char *le = graph_stream_last_error(s);
        rk = set_msg(msg, R_FAIL, "run: %s: %s", graph_status_str(st),
                     le ? le : "");
        goto done;
    }

    for (int k = 0; k < n_out; k++) {
        const char *oname = graph_model_output_name(m, k);
        fmt_path(p, sizeof p, "%s/output_%d.pb", set_dir, k);
        st = graph_tensor_read_pb(p, &want[k], err, sizeof err);
        if (st != GRAPH_OK) {
            rk = set_msg(msg, st == GRAPH_ERR_UNSUPPORTED ? R_UNSUP : R_FAIL,
                         "%s/output_%d.pb: %s: %s", set_name, k,
                         graph_status_str(st), err);
            goto done;
        }
        n_want_read = k + 1;
        int dt = graph_compiled_output_dtype(c, 0, k);
        if (dt != want[k].dtype) {
            rk = set_msg(msg, R_FAIL, "output %d '%s': dtype %s, expected %s", k,
                         oname ? oname : "?", dt_name(dt),
                         dt_name(want[k].dtype));
            goto done;
        }
        graph_shape gs = graph_compiled_output_shape(c, 0, k);
        if (!graph_shape_eq(&gs, &want[k].shape)) {
            char a[256], b[256];
            shape_str(&gs, a, sizeof a);
            shape_str(&want[k].shape, b, sizeof b);
            rk = set_msg(msg, R_FAIL, "output %d '%s': shape %s, expected %s", k,
                         oname ? oname : "?", a, b);
            goto done;
        }
        if (!compare_values(out_ptrs[k], dt, &want[k], why, sizeof why)) {
            rk = set_msg(msg, R_FAIL, "output %d '%s' (%s): %s", k,
                         oname ? oname : "?", dt_name(dt), why);
            goto done;
        }
    }

done:
    if (s)
        graph_stream_free(s);
    if (c)
        graph_compiled_free(c);
    for (int i = 0; i < n_in_read; i++)
        graph_host_tensor_free(&in[i]);
    for (int i = 0; i < n_want_read; i++)
        graph_host_tensor_free(&want[i]);
    return rk;
}

static result_kind run_case(const char *case_dir, char *msg)
{
    char err[512] = "", p[4096];
    graph_model *m = NULL;
    result_kind rk = R_PASS;

    msg[0] = 0;
    fmt_path(p, sizeof p, "%s/model.onnx", case_dir);
    graph_status st = graph_model_load_file(p, &m, err, sizeof err);
    if (st != GRAPH_OK)
        return set_msg(msg, st == GRAPH_ERR_UNSUPPORTED ? R_UNSUP : R_FAIL,
                       "load: %s: %s", graph_status_str(st), err);

    int n_in = graph_model_n_inputs(m);
    for (int i = 0; i < n_in; i++) {
        int dt = graph_model_input_dtype(m, i);
        if (graph_dtype_size(dt) == 0) {
            rk = set_msg(msg, R_UNSUP, "model input %d '%s': dtype %d (%s)", i,
                         graph_model_input_name(m, i), dt, dt_name(dt));
            goto done;
        }
    }

    char **sets = NULL;
    int n_sets = list_names(case_dir, "test_data_set_", 1, &sets);
    if (n_sets <= 0) {
        rk = set_msg(msg, R_FAIL, "no test_data_set_* in %s", case_dir);
        free_names(sets, n_sets > 0 ? n_sets : 0);
        goto done;
    }
    for (int i = 0; i < n_sets && rk == R_PASS; i++) {
        fmt_path(p, sizeof p, "%s/%s", case_dir, sets[i]);
        rk = run_data_set(m, p, sets[i], msg);
    }
    /* An op that needs constant weights, axes or shapes is retried with
     * every input but the first bound as a constant, as a model that
     * stores them as initializers would be. */
    if (rk == R_UNSUP && (strstr(msg, "must be constant") || strstr(msg, "computed at run time")) && n_in > 1) {
        rk = R_PASS;
        for (int i = 0; i < n_sets && rk == R_PASS; i++) {
            graph_model *bm = NULL;
            fmt_path(p, sizeof p, "%s/model.onnx", case_dir);
            if (graph_model_load_file(p, &bm, err, sizeof err) != GRAPH_OK) {
                rk = set_msg(msg, R_FAIL, "reload: %s", err);
                break;
            }
            for (int k = n_in - 1; k >= 1 && rk == R_PASS; k--) {
                graph_host_tensor t = { 0 };
                char name[256];
                snprintf(name, sizeof name, "%s", graph_model_input_name(bm, k));
                fmt_path(p, sizeof p, "%s/%s/input_%d.pb", case_dir, sets[i], k);
                graph_status bs = graph_tensor_read_pb(p, &t, err, sizeof err);
                if (bs == GRAPH_OK) bs = graph_model_bind_constant(bm, name, &t, err, sizeof err);
                graph_host_tensor_free(&t);
                if (bs != GRAPH_OK)
                    rk = set_msg(msg, bs == GRAPH_ERR_UNSUPPORTED ? R_UNSUP : R_FAIL, "bind input %d: %s", k, err);
            }
            if (rk == R_PASS) {
                fmt_path(p, sizeof p, "%s/%s", case_dir, sets[i]);
                bound_mode = 1;
                rk = run_data_set(bm, p, sets[i], msg);
                bound_mode = 0;
            }
            graph_model_free(bm);
        }
    }
    free_names(sets, n_sets);

done:
    graph_model_free(m);
    return rk;
}

/* Runs run_case in a child; a crash or hang becomes a failure. */
static result_kind run_case_isolated(const char *case_dir, char *msg,
                                     unsigned timeout_s)
{
    int fd[2];
    if (pipe(fd) != 0)
        return set_msg(msg, R_FAIL, "pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return set_msg(msg, R_FAIL, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fd[0]);
        /* Check's runner handles SIGALRM by killing its whole process
         * group; the child must just die of it. */
        signal(SIGALRM, SIG_DFL);
        alarm(timeout_s);
        char cmsg[MSG_LEN];
        result_kind k = run_case(case_dir, cmsg);
        char buf[MSG_LEN + 4];
        int len = snprintf(buf, sizeof buf, "%d%s", (int)k, cmsg);
        if (len > (int)sizeof buf - 1)
            len = (int)sizeof buf - 1;
        for (int o = 0; o < len;) {
            ssize_t w = write(fd[1], buf + o, (size_t)(len - o));
            if (w <= 0)
                break;
            o += (int)w;
        }
        close(fd[1]);
        /* exit, not _exit: LeakSanitizer checks at exit (stdio buffers
         * were flushed before the fork, so nothing is printed twice). */
        exit(0);
    }
    close(fd[1]);
    char buf[MSG_LEN + 4];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd[0], buf + got, sizeof buf - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == sizeof buf - 1)
            break;
    }
    buf[got] = 0;
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            return set_msg(msg, R_FAIL, "timed out after %u s", timeout_s);
        return set_msg(msg, R_FAIL, "CRASHED: signal %d (%s)", sig,
                       strsignal(sig));
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (got == 0 || buf[0] < '0' || buf[0] > '2')
        return set_msg(msg, R_FAIL, "child exited with status %d without a "
                       "result", code);
    if (code != 0) /* e.g. a sanitizer's leak report, on stderr above */
        return set_msg(msg, R_FAIL, "child exited with status %d after "
                       "reporting %s (see its stderr above)%s%.600s", code,
                       buf[0] == '0' ? "passed" : buf[0] == '1' ? "failed"
                                                                : "unsupported",
                       buf[1] ? ": " : "", buf + 1);
    size_t ml = strlen(buf + 1);
    if (ml > MSG_LEN - 1)
        ml = MSG_LEN - 1;
    memcpy(msg, buf + 1, ml);
    msg[ml] = 0;
    return (result_kind)(buf[0] - '0');
}

/* ---- the unsupported list ---- */

static void list_path(char *buf, size_t len)
{
    const char *src = getenv("DOCRT_SOURCE_DIR");
    if (src && *src) {
        fmt_path(buf, len, "%s/tests/onnx_unsupported.txt", src);
        return;
    }
    /* Fall back to the directory of this file (absolute under CMake). */
    snprintf(buf, len, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash)
        snprintf(slash + 1, len - (size_t)(slash + 1 - buf),
                 "onnx_unsupported.txt");
    else
        snprintf(buf, len, "onnx_unsupported.txt");
}

/* Reads the list (missing file: empty). Lines are trimmed; blank lines and
 * lines starting with '#' are skipped. */
static int read_list(const char *path, char ***out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0, cap = 0;
    char **v = NULL, line[1024];
    while (fgets(line, sizeof line, f)) {
        char *s = line, *e;
        while (*s == ' ' || *s == '\t')
            s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
                         e[-1] == '\t'))
            *--e = 0;
        if (!*s || *s == '#')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 128;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            ck_assert_ptr_nonnull(nv);
            v = nv;
        }
        v[n] = strdup(s);
        ck_assert_ptr_nonnull(v[n]);
        n++;
    }
    fclose(f);
    if (n)
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static int in_sorted(char **v, int n, const char *name)
{
    return n > 0 && bsearch(&name, v, (size_t)n, sizeof *v, cmp_str) != NULL;
}

static int write_list(const char *path, char **v, int n)
{
    char tmp[4200];
    fmt_path(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    const char *prev = NULL;
    for (int i = 0; i < n; i++) {
        if (prev && strcmp(prev, v[i]) == 0)
            continue;
        fprintf(f, "%s\n", v[i]);
        prev = v[i];
    }
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* ---- the test ---- */

START_TEST(test_node_conformance)
{
    const char *data_dir = getenv("DOCRT_ONNX_TESTDATA");
    if (!data_dir || !*data_dir)
        data_dir = DEFAULT_TESTDATA;
    const char *filter = getenv("DOCRT_CONFORMANCE_FILTER");
    if (filter && !*filter)
        filter = NULL;
    int write_mode = env_flag("DOCRT_CONFORMANCE_WRITE_LIST");
    int verbose = env_flag("DOCRT_CONFORMANCE_VERBOSE");
    int nofork = env_flag("DOCRT_CONFORMANCE_NOFORK");
    unsigned timeout_s = 120;
    const char *ts = getenv("DOCRT_CONFORMANCE_TIMEOUT");
    if (ts && atoi(ts) > 0)
        timeout_s = (unsigned)atoi(ts);

    setvbuf(stdout, NULL, _IOLBF, 0);

    char **cases = NULL;
    int n_cases = list_names(data_dir, "test_", 1, &cases);
    ck_assert_msg(n_cases > 0,
                  "no ONNX test cases in %s (Debian package libonnx-testdata)",
                  data_dir);

    char lpath[4096];
    list_path(lpath, sizeof lpath);
    char **listed = NULL;
    int n_listed = read_list(lpath, &listed);

    int n_pass = 0, n_fail = 0, n_unsup = 0, n_unlisted = 0, n_now_pass = 0;
    int n_run = 0;
    char **unsup = calloc((size_t)n_cases, sizeof *unsup);
    ck_assert_ptr_nonnull(unsup);

    for (int i = 0; i < n_cases; i++) {
        const char *name = cases[i];
        if (filter && !strstr(name, filter))
            continue;
        n_run++;
        char dir[4096], msg[MSG_LEN];
        fmt_path(dir, sizeof dir, "%s/%s", data_dir, name);
        result_kind k = nofork ? run_case(dir, msg)
                               : run_case_isolated(dir, msg, timeout_s);
        int is_listed = in_sorted(listed, n_listed, name);
        switch (k) {
        case R_PASS:
            n_pass++;
            if (is_listed) {
                n_now_pass++;
                if (!write_mode)
                    printf("now passes: remove from list: %s\n", name);
            } else if (verbose) {
                printf("ok %s\n", name);
            }
            break;
        case R_UNSUP:
            unsup[n_unsup++] = (char *)name;
            if (!is_listed && !write_mode) {
                n_unlisted++;
                printf("UNSUPPORTED, NOT LISTED %s: %s\n", name, msg);
            } else if (verbose) {
                printf("unsupported %s: %s\n", name, msg);
            }
            break;
        case R_FAIL:
        default:
            n_fail++;
            printf("FAILED %s: %s\n", name, msg);
            break;
        }
    }

    if (write_mode) {
        /* New list: the unsupported cases run now, plus (with a filter) the
         * old entries that the filter did not select. */
        int cap = n_unsup + n_listed, n = 0;
        char **v = calloc((size_t)(cap ? cap : 1), sizeof *v);
        ck_assert_ptr_nonnull(v);
        for (int i = 0; i < n_unsup; i++)
            v[n++] = unsup[i];
        for (int i = 0; i < n_listed; i++)
            if (filter && !strstr(listed[i], filter))
                v[n++] = listed[i];
        ck_assert_msg(write_list(lpath, v, n) == 0, "cannot write %s: %s",
                      lpath, strerror(errno));
        printf("wrote %s (%d unsupported from this run%s)\n", lpath, n_unsup,
               filter ? ", other entries kept" : "");
        free(v);
    } else if (n_now_pass) {
        printf("%d listed test(s) now pass: remove them from %s "
               "(or rerun with DOCRT_CONFORMANCE_WRITE_LIST=1)\n",
               n_now_pass, lpath);
    }

    printf("%d passed, %d failed, %d unsupported\n", n_pass, n_fail, n_unsup);
    fflush(stdout);

    free(unsup);
    free_names(listed, n_listed);
    free_names(cases, n_cases);

    ck_assert_msg(n_run > 0, "DOCRT_CONFORMANCE_FILTER=%s matched no test case",
                  filter ? filter : "");
    ck_assert_msg(n_fail == 0, "%d ONNX conformance case(s) failed", n_fail);
    if (!write_mode)
        ck_assert_msg(n_unlisted == 0,
                      "%d unsupported case(s) not listed in %s (coverage "
                      "shrank, or rerun with DOCRT_CONFORMANCE_WRITE_LIST=1)",
                      n_unlisted, lpath);
}
END_TEST

static Suite *conformance_suite(void)
{
    Suite *s = suite_create("onnx_conformance");
    TCase *tc = tcase_create("node");
    tcase_set_timeout(tc, 3600);
    tcase_add_test(tc, test_node_conformance);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conformance_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
