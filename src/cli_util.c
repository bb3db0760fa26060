/* cli_util.c - small helpers shared by the docrt subcommands. */
#include "cli.h"
#include "graph.h"
#include "int8_ranges.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

/* "docrt: FILE: reason", without doubling FILE when reason starts with it. */
void cli_report(const char *file, const char *reason)
{
    size_t fl = strlen(file);
    if (strncmp(reason, file, fl) == 0 && reason[fl] == ':')
        fprintf(stderr, "docrt: %s\n", reason);
    else
        fprintf(stderr, "docrt: %s: %s\n", file, reason[0] ? reason : "failed");
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* Matches "--long VALUE", "-s VALUE" and "--long=VALUE": 1 and *val set,
 * 0 when argv[*i] is another option, -1 when the value is missing. */
int cli_take_value(int argc, char **argv, int *i, const char *lng,
                      const char *shrt, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);
    if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
        if (*i + 1 >= argc)
            return -1;
        *val = argv[++*i];
        return 1;
    }
    if (strncmp(a, lng, n) == 0 && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    return 0;
}

double cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* mkdir -p */
int cli_make_dirs(const char *dir, char *err, size_t errlen)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    memcpy(p, dir, n + 1);
    int ok = 1;
    for (size_t i = 1; i <= n && ok; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory: %s",
                     strerror(errno));
            ok = 0;
        } else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "%s is not a directory", p);
            ok = 0;
        }
        p[i] = c;
    }
    free(p);
    return ok;
}

void cli_reportf(const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "docrt: %s: ", file);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_parse_int8_convs(const char *list)
{
    int bits = 0;
    const char *p = list;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int bit = int8_conv_class(p, n);
        if (!bit) return -1;
        bits |= bit;
        p = e ? e + 1 : NULL;
    }
    return bits ? bits : -1;
}

void cli_warn_omp_binding(const char *cmd, int streams)
{
    const char *b = getenv("OMP_PROC_BIND");
    if (streams < 2 || !b || !*b || !strcasecmp(b, "false")) return;
    fprintf(stderr,
            "docrt %s: warning: OMP_PROC_BIND=%s binds the OpenMP threads of "
            "all %d streams to the same places (measured: 2 streams x 1 "
            "thread ran 1.8x slower bound); unset it, or run one stream with "
            "--threads N\n", cmd, b, streams);
}

int cli_parse_float(const char *s, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return 0;
    *out = (float)v;
    return 1;
}
