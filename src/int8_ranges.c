/* int8_ranges.c - read and write int8 calibration files (jansson). */
#include "int8_ranges.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define RANGES_FORMAT "docrt-int8-ranges/1"

int int8_conv_class(const char *name, size_t n)
{
    static const struct { const char *name; int bit; } C[] = {
        {"pointwise", GRAPH_INT8_POINTWISE},
        {"dense", GRAPH_INT8_DENSE},
        {"grouped", GRAPH_INT8_GROUPED},
    };
    for (size_t i = 0; name && i < sizeof C / sizeof *C; i++)
        if (strlen(C[i].name) == n && !strncmp(C[i].name, name, n)) return C[i].bit;
    return 0;
}

int int8_ranges_path(const char *model_path, char *dst, size_t n)
{
    size_t l = strlen(model_path);
    if (l >= 5 && !strcmp(model_path + l - 5, ".onnx")) l -= 5;
    int k = snprintf(dst, n, "%.*s.int8.json", (int)l, model_path);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

docrt_status int8_ranges_load(const char *path, graph_ranges *out, char *err,
                              size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            snprintf(err, errlen, "%s: cannot read the int8 calibration "
                     "(run docrt calibrate first)", path);
            return DOCRT_ERR_IO;
        }
        fclose(f);
        snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return DOCRT_ERR_FORMAT;
    }
    docrt_status st = DOCRT_OK;
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *rs = json_object_get(root, "ranges");
    if (!fmt || strcmp(fmt, RANGES_FORMAT) || !json_is_object(rs)) {
        snprintf(err, errlen, "%s: not a %s file", path, RANGES_FORMAT);
        st = DOCRT_ERR_FORMAT;
        goto done;
    }
    const char *name;
    json_t *v;
    json_object_foreach(rs, name, v) {
        double x[6];
        int ok = json_array_size(v) == 6;
        for (int k = 0; ok && k < 6; k++) {
            json_t *e = json_array_get(v, (size_t)k);
            x[k] = json_number_value(e);
            ok = json_is_number(e) && isfinite(x[k]);
        }
        if (!ok || !(x[0] <= x[2] && x[2] <= x[3] && x[3] <= x[1]) ||
            x[4] < 0 || x[5] < 0) {
            snprintf(err, errlen, "%s: range of '%s' is not [lo, hi, "
                     "clipped lo, clipped hi, rms, count] with lo <= "
                     "clipped lo <= clipped hi <= hi", path, name);
            st = DOCRT_ERR_FORMAT;
            goto done;
        }
        if (graph_ranges_update(out, name, (float)x[0], (float)x[1],
                                (float)x[2], (float)x[3], x[4] * x[4] * x[5],
                                x[5])) {
            snprintf(err, errlen, "out of memory");
            st = DOCRT_ERR_NOMEM;
            goto done;
        }
    }
done:
    json_decref(root);
    if (st) graph_ranges_free(out);
    return st;
}

docrt_status int8_ranges_save(const char *path, const graph_ranges *rs,
                              const char *model, long inputs, char *err,
                              size_t errlen)
{
    json_t *root = json_object(), *r = json_object();
    docrt_status st = DOCRT_OK;
    if (!root || !r) { st = DOCRT_ERR_NOMEM; goto done; }
    json_object_set_new(root, "format", json_string(RANGES_FORMAT));
    const char *b = model ? strrchr(model, '/') : NULL;
    json_object_set_new(root, "model", json_string(b ? b + 1 : model ? model : ""));
    json_object_set_new(root, "inputs", json_integer(inputs));
    for (int i = 0; i < rs->n; i++) {
        const graph_range *g = &rs->r[i];
        double rms = g->count > 0 ? sqrt(g->sumsq / g->count) : 0;
        json_t *a = json_pack("[f, f, f, f, f, f]", (double)g->lo,
                              (double)g->hi, (double)g->clo, (double)g->chi,
                              rms, g->count);
        if (!a || json_object_set_new(r, rs->r[i].name, a)) { st = DOCRT_ERR_NOMEM; goto done; }
    }
    json_object_set(root, "ranges", r);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        st = DOCRT_ERR_ARG;
        goto done;
    }
    if (json_dump_file(root, tmp, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)) ||
        rename(tmp, path)) {
        remove(tmp);
        snprintf(err, errlen, "%s: cannot write", path);
        st = DOCRT_ERR_IO;
    }
done:
    if (st == DOCRT_ERR_NOMEM) snprintf(err, errlen, "out of memory");
    json_decref(r);
    json_decref(root);
    return st;
}
