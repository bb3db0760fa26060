/* graph_compile.c - compile every bucket (specialise, fuse, lower, plan) and
 * run it on streams. After graph_compile returns, no primitive is created
 * again: streams only bind memory objects to their arena. */
#include "graph_exec.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

graph_compile_params graph_compile_default_params(void)
{
    /* Every primitive docrt uses is created at compile and held by handle,
     * so the cache never serves the steady state; a small capacity only
     * lets identical layers share JIT code at compile while bounding what
     * the cache can keep after a model is freed. */
    graph_compile_params p = { .n_threads = 1, .cache_capacity = 32, .precision = GRAPH_PREC_F32,
                               .int8_float = GRAPH_PREC_AUTO };
    return p;
}

int graph_cache_capacity_in_force(void)
{
    int c = -1;
    dnnl_get_primitive_cache_capacity(&c);
    return c;
}

int graph_precision_resolve(int precision)
{
    if (precision != GRAPH_PREC_AUTO) return precision;
    /* oneDNN's own dispatch check: AVX512_BF16 (Cooper Lake) or AMX */
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx
        ? GRAPH_PREC_BF16 : GRAPH_PREC_F32;
}

const char *graph_precision_name(int precision)
{
    switch (precision) {
    case GRAPH_PREC_F32: return "f32";
    case GRAPH_PREC_BF16: return "bf16";
    case GRAPH_PREC_AUTO: return "auto";
    case GRAPH_PREC_INT8: return "int8";
    }
    return "unknown";
}

static void bucket_free(bucket *b)
{
    for (int s = 0; s < b->n_steps; s++)
        if (b->steps[s].prim) dnnl_primitive_destroy(b->steps[s].prim);
    for (int i = 0; i < b->n_packed; i++) free(b->packed[i]);
    free(b->packed);
    free(b->steps);
    free(b->rv);
    free(b->in_shapes);
    free(b->out_shapes);
    free(b->out_dtypes);
    graph_ir_free(&b->ir);
}

void graph_compiled_free(graph_compiled *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_buckets; i++) bucket_free(&c->b[i]);
    free(c->b);
    if (c->engine) dnnl_engine_destroy(c->engine);
    free(c);
}

graph_status graph_compile(const graph_model *m, const graph_shape *shapes, int n_buckets,
                           const graph_compile_params *p, graph_compiled **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!m || !shapes || n_buckets < 1) {
        graph_errf(err, errlen, "graph_compile: no buckets");
        return GRAPH_ERR_INVALID;
    }
    graph_compile_params dp = graph_compile_default_params();
    if (!p) p = &dp;
    if (p->n_threads < 1 || p->cache_capacity < 0 || p->precision < 0 || p->precision > GRAPH_PREC_INT8) {
        graph_errf(err, errlen, "graph_compile: threads must be >= 1, cache capacity >= 0, precision f32/bf16/auto/int8");
        return GRAPH_ERR_INVALID;
    }
    if (p->precision == GRAPH_PREC_INT8 && !p->ranges) {
        graph_errf(err, errlen, "graph_compile: int8 needs calibrated ranges");
        return GRAPH_ERR_INVALID;
    }
    if (dnnl_set_primitive_cache_capacity(p->cache_capacity) != dnnl_success) {
        graph_errf(err, errlen, "cannot set the oneDNN primitive cache capacity");
        return GRAPH_ERR_DNNL;
    }
    graph_compiled *c = calloc(1, sizeof *c);
    if (!c) return GRAPH_ERR_NOMEM;
    c->b = calloc((size_t)n_buckets, sizeof *c->b);
    if (!c->b) { free(c); return GRAPH_ERR_NOMEM; }
    c->n_threads = p->n_threads;
    c->precision = graph_precision_resolve(p->precision);
    c->float_prec = c->precision != GRAPH_PREC_INT8 ? c->precision
                  : p->int8_float == GRAPH_PREC_F32 || p->int8_float == GRAPH_PREC_BF16 ? p->int8_float
                  : graph_precision_resolve(GRAPH_PREC_AUTO);
    c->ranges = c->precision == GRAPH_PREC_INT8 ? p->ranges : NULL;
    c->int8_convs = p->int8_convs ? p->int8_convs : GRAPH_INT8_DEFAULT;
    c->int8_min_sqnr = p->int8_min_sqnr > 0 ? p->int8_min_sqnr : GRAPH_INT8_MIN_SQNR;
    c->opset = m->opset;
    c->n_inputs = m->ir.n_inputs;
    c->n_outputs = m->ir.n_outputs;
    graph_status st = GRAPH_OK;
    if (dnnl_engine_create(&c->engine, dnnl_cpu, 0) != dnnl_success) {
        graph_errf(err, errlen, "cannot create the oneDNN CPU engine");
        free(c->b);
        free(c);
        return GRAPH_ERR_DNNL;
    }
    /* the thread count is baked into each primitive at creation */
    int saved = omp_get_max_threads();
    omp_set_num_threads(p->n_threads);
    for (int i = 0; i < n_buckets && !st; i++) {
        bucket *b = &c->b[i];
        c->n_buckets++;
        if ((st = graph_ir_copy(&m->ir, &b->ir))) break;
        if ((st = graph_specialise(&b->ir, shapes + (size_t)i * (size_t)c->n_inputs, m->opset, err, errlen))) break;
        if ((st = graph_fuse(&b->ir, err, errlen))) break;
        if ((st = graph_lower(c, b, err, errlen))) break;
        if ((st = graph_plan(b, err, errlen))) break;
        b->in_shapes = malloc((size_t)(c->n_inputs + 1) * sizeof(graph_shape));
        b->out_shapes = malloc((size_t)c->n_outputs * sizeof(graph_shape));
        b->out_dtypes = malloc((size_t)c->n_outputs * sizeof(int));
        if (!b->in_shapes || !b->out_shapes || !b->out_dtypes) { st = GRAPH_ERR_NOMEM; break; }
        for (int k = 0; k < c->n_inputs; k++) b->in_shapes[k] = b->ir.values[b->ir.inputs[k]].shape;
        for (int k = 0; k < c->n_outputs; k++) {
            graph_value *v = &b->ir.values[b->ir.outputs[k]];
            b->out_shapes[k] = v->shape;
            b->out_dtypes[k] = v->dtype;
        }
    }
    omp_set_num_threads(saved);
    c->ranges = NULL;
    if (st) {
        graph_compiled_free(c);
        return st;
    }
    *out = c;
    return GRAPH_OK;
}

int graph_compiled_n_buckets(const graph_compiled *c) { return c->n_buckets; }
int graph_compiled_n_inputs(const graph_compiled *c) { return c->n_inputs; }
int graph_compiled_n_outputs(const graph_compiled *c) { return c->n_outputs; }
graph_shape graph_compiled_input_shape(const graph_compiled *c, int b, int i)
{
    graph_shape z = { 0 };
    return b >= 0 && b < c->n_buckets && i >= 0 && i < c->n_inputs ? c->b[b].in_shapes[i] : z;
}
graph_shape graph_compiled_output_shape(const graph_compiled *c, int b, int i)
{
    graph_shape z = { 0 };
    return b >= 0 && b < c->n_buckets && i >= 0 && i < c->n_outputs ? c->b[b].out_shapes[i] : z;
}
int graph_compiled_output_dtype(const graph_compiled *c, int b, int i)
{
    return b >= 0 && b < c->n_buckets && i >= 0 && i < c->n_outputs ? c->b[b].out_dtypes[i] : 0;
}
int graph_compiled_n_steps(const graph_compiled *c, int b)
{
    return b >= 0 && b < c->n_buckets ? c->b[b].n_steps : -1;
}
int graph_compiled_n_reorders(const graph_compiled *c, int b)
{
    return b >= 0 && b < c->n_buckets ? c->b[b].n_reorders : -1;
}

int graph_compiled_n_int8(const graph_compiled *c, int b)
{
    return b >= 0 && b < c->n_buckets ? c->b[b].n_int8 : -1;
}
int graph_compiled_n_quantize(const graph_compiled *c, int b)
{
    return b >= 0 && b < c->n_buckets ? c->b[b].n_quantize : -1;
}

/* ---- activation ranges ---- */
graph_status graph_ranges_update(graph_ranges *rs, const char *name, float lo, float hi, float clo, float chi,
                                 double sumsq, double count)
{
    if (!rs || !name || !(lo <= clo && clo <= chi && chi <= hi) || !(sumsq >= 0) || !(count >= 0))
        return GRAPH_ERR_INVALID;
    for (int i = 0; i < rs->n; i++)
        if (!strcmp(rs->r[i].name, name)) {
            graph_range *r = &rs->r[i];
            if (lo < r->lo) r->lo = lo;
            if (hi > r->hi) r->hi = hi;
            if (clo < r->clo) r->clo = clo;
            if (chi > r->chi) r->chi = chi;
            r->sumsq += sumsq;
            r->count += count;
            return GRAPH_OK;
        }
    if (rs->n == rs->cap) {
        int cap = rs->cap ? rs->cap * 2 : 64;
        graph_range *r = realloc(rs->r, (size_t)cap * sizeof *r);
        if (!r) return GRAPH_ERR_NOMEM;
        rs->r = r;
        rs->cap = cap;
    }
    char *nm = strdup(name);
    if (!nm) return GRAPH_ERR_NOMEM;
    rs->r[rs->n++] = (graph_range){ nm, lo, hi, clo, chi, sumsq, count };
    return GRAPH_OK;
}

const graph_range *graph_ranges_find(const graph_ranges *rs, const char *name)
{
    for (int i = 0; rs && name && i < rs->n; i++)
        if (!strcmp(rs->r[i].name, name)) return &rs->r[i];
    return NULL;
}

void graph_ranges_free(graph_ranges *rs)
{
    if (!rs) return;
    for (int i = 0; i < rs->n; i++) free(rs->r[i].name);
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

graph_status graph_select_bucket(const graph_compiled *c, const graph_shape *in, int *bucket_out)
{
    int best = -1;
    int64_t best_n = 0;
    for (int b = 0; b < c->n_buckets; b++) {
        int fits = 1;
        int64_t n = 0;
        for (int i = 0; i < c->n_inputs && fits; i++) {
            const graph_shape *s = &c->b[b].in_shapes[i];
            if (s->rank != in[i].rank) fits = 0;
            for (int d = 0; d < s->rank && fits; d++)
                if (in[i].dims[d] > s->dims[d]) fits = 0;
            n += graph_shape_numel(s);
        }
        if (fits && (best < 0 || n < best_n)) { best = b; best_n = n; }
    }
    if (best < 0) return GRAPH_ERR_NO_BUCKET;
    *bucket_out = best;
    return GRAPH_OK;
}

/* ---- streams ---- */
typedef struct {
    dnnl_exec_arg_t *args;
    int n;
} bound_step;

struct graph_stream {
    const graph_compiled *c;
    dnnl_stream_t strm;
    char *arena;
    char *scratch;
    size_t arena_bytes, scratch_bytes;
    bound_step **bs;        /* [bucket][step] */
    dnnl_memory_t *mems;    /* every memory object, for teardown */
    int n_mems, cap_mems;
    graph_ranges *observe;  /* calibration accumulator, or NULL */
    char err[512];
};

static void *value_ptr(graph_stream *s, const bucket *b, int v)
{
    const graph_value *gv = &b->ir.values[v];
    if (gv->data) return gv->data;
    return s->arena + b->rv[v].offset;
}

void graph_stream_free(graph_stream *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_mems; i++) dnnl_memory_destroy(s->mems[i]);
    free(s->mems);
    if (s->bs) {
        for (int b = 0; b < s->c->n_buckets; b++) {
            if (!s->bs[b]) continue;
            for (int k = 0; k < s->c->b[b].n_steps; k++) free(s->bs[b][k].args);
            free(s->bs[b]);
        }
        free(s->bs);
    }
    if (s->strm) dnnl_stream_destroy(s->strm);
    free(s->arena);
    free(s->scratch);
    free(s);
}

graph_status graph_stream_create(const graph_compiled *c, graph_stream **out)
{
    *out = NULL;
    if (!c) return GRAPH_ERR_INVALID;
    graph_stream *s = calloc(1, sizeof *s);
    if (!s) return GRAPH_ERR_NOMEM;
    s->c = c;
    for (int b = 0; b < c->n_buckets; b++) {
        if (c->b[b].arena_bytes > s->arena_bytes) s->arena_bytes = c->b[b].arena_bytes;
        if (c->b[b].scratch_bytes > s->scratch_bytes) s->scratch_bytes = c->b[b].scratch_bytes;
    }
    s->arena = aligned_alloc(64, (s->arena_bytes + 63) / 64 * 64 + 64);
    s->scratch = aligned_alloc(64, (s->scratch_bytes + 63) / 64 * 64 + 64);
    s->bs = calloc((size_t)c->n_buckets, sizeof *s->bs);
    if (!s->arena || !s->scratch || !s->bs) goto nomem;
    /* Touch every page now. The arena is sized for the largest bucket, but a
     * bucket only writes its own offsets, so untouched pages would be faulted
     * in by whichever page size first needs them: RSS would climb in steps
     * during a service's first hours. Faulted here, the stream's memory is
     * resident from its creation and stays where it is. */
    graph_touch_pages(s->arena, s->arena_bytes);
    graph_touch_pages(s->scratch, s->scratch_bytes);
    if (dnnl_stream_create(&s->strm, c->engine, dnnl_stream_default_flags) != dnnl_success) {
        graph_stream_free(s);
        return GRAPH_ERR_DNNL;
    }
    for (int b = 0; b < c->n_buckets; b++) {
        const bucket *bk = &c->b[b];
        s->bs[b] = calloc((size_t)bk->n_steps + 1, sizeof **s->bs);
        if (!s->bs[b]) goto nomem;
        for (int k = 0; k < bk->n_steps; k++) {
            const step *st = &bk->steps[k];
            if (st->kind != STEP_PRIM) continue;
            bound_step *q = &s->bs[b][k];
            q->args = calloc((size_t)st->n_args + 1, sizeof *q->args);
            if (!q->args) goto nomem;
            for (int a = 0; a < st->n_args; a++) {
                const step_arg *sa = &st->args[a];
                void *ptr = sa->value >= 0 ? value_ptr(s, bk, sa->value)
                          : sa->value == -2 ? (void *)s->scratch : (void *)sa->cptr;
                dnnl_memory_t mem;
                if (dnnl_memory_create(&mem, &sa->md, c->engine, ptr) != dnnl_success) {
                    graph_stream_free(s);
                    return GRAPH_ERR_DNNL;
                }
                if (s->n_mems == s->cap_mems) {
                    int cap = s->cap_mems ? s->cap_mems * 2 : 256;
                    dnnl_memory_t *mm = realloc(s->mems, (size_t)cap * sizeof *mm);
                    if (!mm) { dnnl_memory_destroy(mem); goto nomem; }
                    s->mems = mm;
                    s->cap_mems = cap;
                }
                s->mems[s->n_mems++] = mem;
                q->args[q->n++] = (dnnl_exec_arg_t){ sa->arg, mem };
            }
        }
    }
    *out = s;
    return GRAPH_OK;
nomem:
    graph_stream_free(s);
    return GRAPH_ERR_NOMEM;
}

void graph_touch_pages(void *p, size_t n)
{
    volatile unsigned char *b = p;
    for (size_t i = 0; i < n; i += 4096) b[i] = 0;
    if (n) b[n - 1] = 0;
}

const char *graph_stream_last_error(const graph_stream *s) { return s ? s->err : "no stream"; }
size_t graph_stream_arena_bytes(const graph_stream *s) { return s ? s->arena_bytes + s->scratch_bytes : 0; }

size_t graph_compiled_stream_bytes(const graph_compiled *c)
{
    size_t a = 0, sc = 0;
    for (int b = 0; c && b < c->n_buckets; b++) {
        if (c->b[b].arena_bytes > a) a = c->b[b].arena_bytes;
        if (c->b[b].scratch_bytes > sc) sc = c->b[b].scratch_bytes;
    }
    return a + sc;
}

void graph_stream_observe(graph_stream *s, graph_ranges *acc)
{
    if (s) s->observe = acc;
}

/* element i of a f32 or bf16 tensor */
static inline float elem(const void *p, int dt, int64_t i)
{
    if (dt == GRAPH_DT_F32) return ((const float *)p)[i];
    uint32_t u = (uint32_t)((const uint16_t *)p)[i] << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#define OBS_BINS 4096
#define OBS_TAIL 1e-4

/* the range of a conv's input, and the range without its outer OBS_TAIL
 * at each end (from a histogram), into the calibration accumulator */
static graph_status observe_range(graph_stream *s, const bucket *b, const step *st)
{
    dnnl_stream_wait(s->strm);
    const graph_value *gv = &b->ir.values[st->obs_value];
    int dt = gv->dtype;
    if (dt != GRAPH_DT_F32 && dt != GRAPH_DT_BF16) return GRAPH_OK;
    int64_t n = graph_shape_numel(&gv->shape), finite = 0;
    const void *p = value_ptr(s, b, st->obs_value);
    float lo = INFINITY, hi = -INFINITY;
    double ss = 0;
    for (int64_t i = 0; i < n; i++) {
        float f = elem(p, dt, i);
        if (!isfinite(f)) continue;
        finite++;
        ss += (double)f * f;
        if (f < lo) lo = f;
        if (f > hi) hi = f;
    }
    if (!finite) return GRAPH_OK;
    float clo = lo, chi = hi;
    if (hi > lo) {
        int64_t hist[OBS_BINS] = { 0 };
        double w = (double)OBS_BINS / ((double)hi - lo);
        for (int64_t i = 0; i < n; i++) {
            float f = elem(p, dt, i);
            if (!isfinite(f)) continue;
            int k = (int)(((double)f - lo) * w);
            hist[k < 0 ? 0 : k >= OBS_BINS ? OBS_BINS - 1 : k]++;
        }
        int64_t tail = (int64_t)(OBS_TAIL * (double)finite), acc = 0;
        int k0 = 0, k1 = OBS_BINS - 1;
        while (k0 < OBS_BINS - 1 && acc + hist[k0] <= tail) acc += hist[k0++];
        acc = 0;
        while (k1 > k0 && acc + hist[k1] <= tail) acc += hist[k1--];
        clo = (float)(lo + k0 / w);
        chi = (float)(lo + (k1 + 1) / w);
        if (clo < lo) clo = lo;
        if (chi > hi) chi = hi;
        if (clo > chi) clo = chi;
    }
    graph_status r = graph_ranges_update(s->observe, st->obs_name, lo, hi, clo, chi, ss, (double)finite);
    if (r) snprintf(s->err, sizeof s->err, "calibration: out of memory");
    return r;
}

/* value v as a reference kernel sees it */
static graph_view ref_view(graph_stream *s, const bucket *b, int v)
{
    return (graph_view){ .dtype = b->ir.values[v].dtype,
                         .nhwc = b->rv[v].layout == LAYOUT_NHWC && b->ir.values[v].shape.rank == 4,
                         .shape = b->ir.values[v].shape,
                         .data = value_ptr(s, b, v) };
}

graph_status graph_stream_run(graph_stream *s, int bi, const void *const *inputs, const void **outputs)
{
    if (!s || !inputs || !outputs || bi < 0 || bi >= s->c->n_buckets) {
        if (s) snprintf(s->err, sizeof s->err, "graph_stream_run: bad arguments (bucket %d)", bi);
        return GRAPH_ERR_INVALID;
    }
    const graph_compiled *c = s->c;
    const bucket *b = &c->b[bi];
    omp_set_num_threads(c->n_threads);
    for (int i = 0; i < c->n_inputs; i++) {
        int v = b->ir.inputs[i];
        if (!inputs[i]) {
            snprintf(s->err, sizeof s->err, "input %d is NULL", i);
            return GRAPH_ERR_INVALID;
        }
        if (b->rv[v].first < 0) continue; /* input not used by this bucket */
        size_t bytes = (size_t)graph_shape_numel(&b->ir.values[v].shape) * graph_dtype_size(b->ir.values[v].dtype);
        memcpy(s->arena + b->rv[v].offset, inputs[i], bytes);
    }
    for (int k = 0; k < b->n_steps; k++) {
        const step *st = &b->steps[k];
        if (st->kind == STEP_PRIM) {
            bound_step *q = &s->bs[bi][k];
            if (s->observe && st->obs_name) {
                graph_status os = observe_range(s, b, st);
                if (os) return os;
            }
            if (dnnl_primitive_execute(st->prim, s->strm, q->n, q->args) != dnnl_success) {
                snprintf(s->err, sizeof s->err, "oneDNN execution failed at step %d (%s)", k,
                         st->node ? st->node->name : "reorder");
                return GRAPH_ERR_DNNL;
            }
            continue;
        }
        dnnl_stream_wait(s->strm);
        graph_view in[16], out[4];
        for (int i = 0; i < st->n_in; i++) {
            int v = st->in[i];
            in[i] = v >= 0 ? ref_view(s, b, v) : (graph_view){ 0 };
        }
        for (int i = 0; i < st->n_out; i++) {
            int v = st->out[i];
            out[i] = v >= 0 ? ref_view(s, b, v) : (graph_view){ 0 };
        }
        graph_status rs = st->aux ? graph_resize_apply(st->aux, &in[0], &out[0])
                                  : graph_ref_run(st->node, c->opset, in, st->n_in, out, st->n_out, s->err, sizeof s->err);
        if (rs) return rs;
    }
    dnnl_stream_wait(s->strm);
    for (int i = 0; i < c->n_outputs; i++) {
        int v = b->ir.outputs[i];
        outputs[i] = value_ptr(s, b, v);
    }
    return GRAPH_OK;
}
