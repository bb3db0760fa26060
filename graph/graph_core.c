/* graph_core.c - status strings, shapes, attributes, IR bookkeeping. */
#include "graph_ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

const char *graph_status_str(graph_status s)
{
    switch (s) {
    case GRAPH_OK: return "ok";
    case GRAPH_ERR_IO: return "i/o error";
    case GRAPH_ERR_PARSE: return "parse error";
    case GRAPH_ERR_UNSUPPORTED: return "unsupported";
    case GRAPH_ERR_SHAPE: return "shape mismatch";
    case GRAPH_ERR_NO_BUCKET: return "input larger than every bucket";
    case GRAPH_ERR_DNNL: return "oneDNN error";
    case GRAPH_ERR_NOMEM: return "out of memory";
    case GRAPH_ERR_INVALID: return "invalid argument";
    }
    return "unknown status";
}

size_t graph_dtype_size(int dt)
{
    switch (dt) {
    case GRAPH_DT_F32: case GRAPH_DT_I32: return 4;
    case GRAPH_DT_I64: case GRAPH_DT_F64: return 8;
    case GRAPH_DT_U8: case GRAPH_DT_I8: case GRAPH_DT_BOOL: return 1;
    case GRAPH_DT_BF16: return 2;
    }
    return 0;
}

const char *graph_dtype_name(int dt)
{
    switch (dt) {
    case GRAPH_DT_F32: return "float32";
    case GRAPH_DT_I32: return "int32";
    case GRAPH_DT_I64: return "int64";
    case GRAPH_DT_F64: return "float64";
    case GRAPH_DT_U8: return "uint8";
    case GRAPH_DT_I8: return "int8";
    case GRAPH_DT_BOOL: return "bool";
    case 10: return "float16";
    case 16: return "bfloat16";
    case 8: return "string";
    }
    return "unknown";
}

int64_t graph_shape_numel(const graph_shape *s)
{
    /* A zero dim makes any product 0 (a .npy file may pair it with dims
     * whose product overflows); otherwise saturate at INT64_MAX. */
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i] == 0) return 0;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i] > 0 && n > INT64_MAX / s->dims[i]) return INT64_MAX;
        n *= s->dims[i];
    }
    return n;
}

void graph_host_tensor_free(graph_host_tensor *t)
{
    if (!t) return;
    free(t->data);
    t->data = NULL;
}

void graph_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is above; clang 14 misreads it */
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int graph_shape_eq(const graph_shape *a, const graph_shape *b)
{
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

void graph_shape_str(const graph_shape *s, char *buf, size_t len)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, len - o, "[");
    for (int i = 0; i < s->rank && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, i ? ",%lld" : "%lld",
                              (long long)s->dims[i]);
    if (o < len) snprintf(buf + o, len - o, "]");
}

void graph_shape_strides(const graph_shape *s, int64_t *strides)
{
    int64_t st = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        strides[i] = st;
        st *= s->dims[i];
    }
}

int graph_broadcast(const graph_shape *a, const graph_shape *b,
                    graph_shape *out)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    graph_shape o = { .rank = r };
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1) o.dims[i] = da;
        else if (da == 1) o.dims[i] = db;
        else return 0;
    }
    *out = o;
    return 1;
}

int graph_value_ints(const graph_value *v, int64_t *out, int max)
{
    if (!v->data) return -1;
    int64_t n = graph_shape_numel(&v->shape);
    if (n > max) return -1;
    for (int64_t i = 0; i < n; i++) {
        if (v->dtype == GRAPH_DT_I64) out[i] = ((const int64_t *)v->data)[i];
        else if (v->dtype == GRAPH_DT_I32) out[i] = ((const int32_t *)v->data)[i];
        else return -1;
    }
    return (int)n;
}

double graph_value_scalar(const graph_value *v)
{
    switch (v->dtype) {
    case GRAPH_DT_F32: return ((const float *)v->data)[0];
    case GRAPH_DT_F64: return ((const double *)v->data)[0];
    case GRAPH_DT_I64: return (double)((const int64_t *)v->data)[0];
    case GRAPH_DT_I32: return ((const int32_t *)v->data)[0];
    }
    return 0;
}

/* ---- IR ---- */
int graph_ir_add_value(graph_ir *ir, const char *name)
{
    if (ir->n_values == ir->cap_values) {
        int cap = ir->cap_values ? ir->cap_values * 2 : 256;
        graph_value *v = realloc(ir->values, (size_t)cap * sizeof *v);
        if (!v) return -1;
        ir->values = v;
        ir->cap_values = cap;
    }
    graph_value *v = &ir->values[ir->n_values];
    memset(v, 0, sizeof *v);
    v->name = strdup(name ? name : "");
    if (!v->name) return -1;
    return ir->n_values++;
}

int graph_ir_find_value(const graph_ir *ir, const char *name)
{
    for (int i = ir->n_values - 1; i >= 0; i--)
        if (strcmp(ir->values[i].name, name) == 0) return i;
    return -1;
}

static void attr_free(graph_attr *a)
{
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
    if (a->t) {
        graph_host_tensor_free(a->t);
        free(a->t);
    }
}

void graph_ir_free(graph_ir *ir)
{
    if (!ir->values) ir->n_values = 0; /* a copy that failed half-way */
    if (!ir->nodes) ir->n_nodes = 0;
    for (int i = 0; i < ir->n_values; i++) {
        free(ir->values[i].name);
        if (ir->values[i].owns_data) free(ir->values[i].data);
    }
    for (int i = 0; i < ir->n_nodes; i++) {
        graph_node *n = &ir->nodes[i];
        free(n->op);
        free(n->name);
        free(n->in);
        free(n->out);
        for (int k = 0; k < n->n_attr; k++) attr_free(&n->attrs[k]);
        free(n->attrs);
    }
    free(ir->values);
    free(ir->nodes);
    free(ir->inputs);
    free(ir->outputs);
    memset(ir, 0, sizeof *ir);
}

static void *dup_mem(const void *p, size_t n)
{
    if (!p || !n) return NULL;
    void *q = malloc(n);
    if (q) memcpy(q, p, n);
    return q;
}

static char *dup_str(const char *s) { return s ? strdup(s) : NULL; }

/* Deep copy of structure; constant payloads are shared (not owned). */
graph_status graph_ir_copy(const graph_ir *src, graph_ir *dst)
{
    memset(dst, 0, sizeof *dst);
    dst->values = calloc((size_t)src->cap_values, sizeof *dst->values);
    dst->nodes = calloc((size_t)(src->n_nodes + 1), sizeof *dst->nodes);
    dst->inputs = dup_mem(src->inputs, (size_t)src->n_inputs * sizeof(int));
    dst->outputs = dup_mem(src->outputs, (size_t)src->n_outputs * sizeof(int));
    if (!dst->values || !dst->nodes) goto nomem;
    dst->cap_values = src->cap_values;
    dst->cap_nodes = src->n_nodes + 1;
    dst->n_inputs = src->n_inputs;
    dst->n_outputs = src->n_outputs;
    for (int i = 0; i < src->n_values; i++) {
        dst->values[i] = src->values[i];
        dst->values[i].owns_data = 0;
        dst->values[i].name = strdup(src->values[i].name);
        dst->n_values++;
        if (!dst->values[i].name) goto nomem;
    }
    for (int i = 0; i < src->n_nodes; i++) {
        const graph_node *s = &src->nodes[i];
        graph_node *d = &dst->nodes[i];
        *d = *s;
        d->op = dup_str(s->op);
        d->name = dup_str(s->name);
        d->in = dup_mem(s->in, (size_t)s->n_in * sizeof(int));
        d->out = dup_mem(s->out, (size_t)s->n_out * sizeof(int));
        d->attrs = calloc((size_t)s->n_attr + 1, sizeof *d->attrs);
        dst->n_nodes++;
        if (!d->op || !d->attrs || (s->n_in && !d->in) || (s->n_out && !d->out))
            goto nomem;
        for (int k = 0; k < s->n_attr; k++) {
            const graph_attr *sa = &s->attrs[k];
            graph_attr *da = &d->attrs[k];
            *da = *sa;
            da->name = dup_str(sa->name);
            da->s = dup_str(sa->s);
            /* a list is never NULL, even empty: callers memcpy from it */
            da->ints = sa->type != GA_INTS ? NULL : sa->n ? dup_mem(sa->ints, (size_t)sa->n * sizeof(int64_t))
                                                          : calloc(1, sizeof(int64_t));
            da->floats = sa->type != GA_FLOATS ? NULL : sa->n ? dup_mem(sa->floats, (size_t)sa->n * sizeof(float))
                                                              : calloc(1, sizeof(float));
            da->t = NULL; /* tensor attributes were turned into values at load */
            if ((sa->type == GA_INTS && !da->ints) || (sa->type == GA_FLOATS && !da->floats)) goto nomem;
        }
    }
    return GRAPH_OK;
nomem:
    graph_ir_free(dst);
    return GRAPH_ERR_NOMEM;
}

const graph_attr *graph_node_attr(const graph_node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t graph_attr_int(const graph_node *n, const char *name, int64_t dflt)
{
    const graph_attr *a = graph_node_attr(n, name);
    return a && a->type == GA_INT ? a->i : dflt;
}

float graph_attr_float(const graph_node *n, const char *name, float dflt)
{
    const graph_attr *a = graph_node_attr(n, name);
    if (!a) return dflt;
    if (a->type == GA_FLOAT) return a->f;
    if (a->type == GA_INT) return (float)a->i;
    return dflt;
}

const char *graph_attr_str(const graph_node *n, const char *name,
                           const char *dflt)
{
    const graph_attr *a = graph_node_attr(n, name);
    return a && a->type == GA_STRING && a->s ? a->s : dflt;
}

int graph_attr_ints(const graph_node *n, const char *name,
                    const int64_t **ints)
{
    const graph_attr *a = graph_node_attr(n, name);
    if (!a || a->type != GA_INTS) return -1;
    *ints = a->ints;
    return a->n;
}

/* ---- padding and counters ---- */
graph_status graph_pad_into(const float *src, const graph_shape *ss,
                            float *dst, const graph_shape *ds, float pad)
{
    if (!src || !dst || !ss || !ds || ss->rank != ds->rank || ss->rank < 1)
        return GRAPH_ERR_INVALID;
    for (int i = 0; i < ss->rank; i++)
        if (ss->dims[i] > ds->dims[i] || ss->dims[i] < 0)
            return GRAPH_ERR_SHAPE;
    int64_t dn = graph_shape_numel(ds);
    for (int64_t i = 0; i < dn; i++) dst[i] = pad;
    int r = ss->rank;
    int64_t rows = graph_shape_numel(ss) / (ss->dims[r - 1] ? ss->dims[r - 1] : 1);
    if (graph_shape_numel(ss) == 0) return GRAPH_OK;
    int64_t sst[GRAPH_MAX_RANK], dst_st[GRAPH_MAX_RANK];
    graph_shape_strides(ss, sst);
    graph_shape_strides(ds, dst_st);
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, doff = 0;
        for (int d = r - 2; d >= 0; d--) {
            int64_t idx = rem % ss->dims[d];
            rem /= ss->dims[d];
            doff += idx * dst_st[d];
        }
        memcpy(dst + doff, src + row * ss->dims[r - 1],
               (size_t)ss->dims[r - 1] * sizeof(float));
    }
    return GRAPH_OK;
}

static atomic_ullong primitives_created;
void graph_count_primitive(void) { atomic_fetch_add(&primitives_created, 1); }
uint64_t graph_primitives_created(void)
{
    return atomic_load(&primitives_created);
}
