/* graph_lower.c - one oneDNN primitive per fused node, created once per
 * bucket. Activations are nhwc for 4-D image tensors and plain elsewhere;
 * layout changes are explicit reorder steps, weights are reordered once into
 * the layout each primitive asks for, and every primitive uses a
 * user-provided scratchpad.
 *
 * In a bf16 plan, convolutions and matmuls take and give bf16 activations
 * (weights prepacked to bf16, bias f32); pooling, resize, transpose,
 * concat, element-wise and binary ops follow their input's type; layer norm,
 * softmax, reductions, batch norm, LSTM and reference kernels convert to f32.
 * A value's IR dtype is its storage type (GRAPH_DT_BF16 for bf16), set when
 * its producer is lowered; conversions are reorder steps, one per value and
 * target format at most.
 *
 * In an int8 plan, a convolution whose class the plan quantizes and whose
 * input has a calibrated range with enough SNR reads that input as u8/s8
 * (a quantizing reorder step, one per value), s8 weights with per-channel
 * scales, a bias scaled into the integer sum, and gives the plan's float
 * type through its output scales; everything else is as in the float plan
 * (f32 or bf16). */
#include "graph_exec.h"

#include <float.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct graph_compiled *c;
    bucket *b;
    int *conv[6];       /* per value: its copy in [layout + 2 * bf16], [4]: int8, [5]: u8 with a zero point, or -1 */
    int cap;
    dnnl_stream_t strm; /* for packing weights at compile */
    int *last;          /* per value: last node that reads it (through aliases) */
    int k;              /* node being lowered */
    char *err;
    size_t errlen;
} lctx;

#define DN(call, what) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { \
    graph_errf(L->err, L->errlen, "%s '%s': oneDNN %s failed (status %d)", n ? n->op : "", \
               n ? n->name : "", what, (int)s_); st = s_ == dnnl_unimplemented ? GRAPH_ERR_UNSUPPORTED : GRAPH_ERR_DNNL; goto done; } } while (0)

static int is_op(const graph_node *n, const char *op) { return strcmp(n->op, op) == 0; }

static graph_status grow(lctx *L)
{
    bucket *b = L->b;
    int need = b->ir.n_values;
    if (need <= L->cap) return GRAPH_OK;
    int cap = need * 2;
    rt_value *rv = realloc(b->rv, (size_t)cap * sizeof *rv);
    if (!rv) return GRAPH_ERR_NOMEM;
    b->rv = rv;
    for (int k = 0; k < 6; k++) {
        int *p = realloc(L->conv[k], (size_t)cap * sizeof(int));
        if (!p) return GRAPH_ERR_NOMEM;
        L->conv[k] = p;
    }
    for (int i = L->cap; i < cap; i++) {
        memset(&b->rv[i], 0, sizeof b->rv[i]);
        b->rv[i].root = i;
        for (int k = 0; k < 6; k++) L->conv[k][i] = -1;
    }
    L->cap = cap;
    return GRAPH_OK;
}

static int new_value(lctx *L, int like, int dtype, const graph_shape *shape, int layout)
{
    graph_ir *ir = &L->b->ir;
    char name[64];
    snprintf(name, sizeof name, "_tmp%d", ir->n_values);
    (void)like;
    int v = graph_ir_add_value(ir, name);
    if (v < 0 || grow(L)) return -1;
    ir->values[v].dtype = dtype;
    ir->values[v].shape = *shape;
    L->b->rv[v].layout = layout;
    L->b->rv[v].in_arena = 1;
    return v;
}

/* A constant f32 value the lowering makes up (Gemm's beta*C, the zero shift
 * of a LayerNorm without bias, LSTM zero states). Takes ownership of data,
 * freed on failure too. Returns the value, or -1 when out of memory. */
static int new_const(lctx *L, const char *name, const graph_shape *shape,
                     float *data)
{
    graph_ir *ir = &L->b->ir;
    int v = data ? graph_ir_add_value(ir, name) : -1;
    if (v < 0 || grow(L)) {
        free(data);
        return -1;
    }
    ir->values[v].dtype = GRAPH_DT_F32;
    ir->values[v].shape = *shape;
    ir->values[v].data = data;
    ir->values[v].owns_data = 1;
    return v;
}

static dnnl_data_type_t dnnl_dt(int dt)
{
    switch (dt) {
    case GRAPH_DT_F32: return dnnl_f32;
    case GRAPH_DT_I32: return dnnl_s32;
    case GRAPH_DT_I8: return dnnl_s8;
    case GRAPH_DT_U8: return dnnl_u8;
    case GRAPH_DT_BF16: return dnnl_bf16;
    }
    return dnnl_data_type_undef;
}

/* memory descriptor of a shape in a layout; rank 0 becomes [1] */
static void md_for(dnnl_memory_desc_t *md, const graph_shape *s, int dtype, int layout, int pad_rank)
{
    dnnl_dims_t dims = { 0 }, strides = { 0 };
    int r = s->rank < 0 ? 0 : s->rank > GRAPH_MAX_RANK ? GRAPH_MAX_RANK : s->rank, off = 0;
    if (pad_rank > r) off = pad_rank - r;
    int R = r + off;
    for (int i = 0; i < off; i++) dims[i] = 1;
    for (int i = 0; i < r; i++) dims[off + i] = s->dims[i];
    if (R == 0) { R = 1; dims[0] = 1; }
    if (layout == LAYOUT_NHWC && R == 4) {
        strides[1] = 1;
        strides[3] = dims[1];
        strides[2] = dims[3] * dims[1];
        strides[0] = dims[2] * strides[2];
    } else {
        int64_t st = 1;
        for (int i = R - 1; i >= 0; i--) { strides[i] = st; st *= dims[i]; }
    }
    dnnl_memory_desc_init_by_strides(md, R, dims, dnnl_dt(dtype), strides);
}

static void md_of(lctx *L, dnnl_memory_desc_t *md, int v, int pad_rank)
{
    graph_value *gv = &L->b->ir.values[v];
    md_for(md, &gv->shape, gv->dtype, L->b->rv[v].layout, pad_rank);
}

static step *add_step(lctx *L, int kind)
{
    bucket *b = L->b;
    if (b->n_steps == b->cap_steps) {
        int cap = b->cap_steps ? b->cap_steps * 2 : 64;
        step *s = realloc(b->steps, (size_t)cap * sizeof *s);
        if (!s) return NULL;
        b->steps = s;
        b->cap_steps = cap;
    }
    step *s = &b->steps[b->n_steps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static void arg(step *s, int a, const dnnl_memory_desc_t *md, int value, const void *cptr)
{
    step_arg *x = &s->args[s->n_args++];
    x->arg = a;
    x->md = *md;
    x->value = value;
    x->cptr = cptr;
}

static graph_status finish_prim(lctx *L, const graph_node *n, dnnl_primitive_desc_t pd, step *s)
{
    graph_status st = GRAPH_OK;
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sz = sp ? dnnl_memory_desc_get_size(sp) : 0;
    if (sz > L->b->scratch_bytes) L->b->scratch_bytes = sz;
    DN(dnnl_primitive_create(&s->prim, pd), "primitive creation");
    graph_count_primitive();
    if (sz) {
        dnnl_memory_desc_t smd = *sp;
        arg(s, DNNL_ARG_SCRATCHPAD, &smd, -2, NULL);
    }
done:
    return st;
}

static dnnl_primitive_attr_t new_attr(void)
{
    dnnl_primitive_attr_t a = NULL;
    if (dnnl_primitive_attr_create(&a) != dnnl_success) return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user);
    return a;
}

/* a reorder primitive from src (any strides) into dst, as a step of the
 * plan: a layout or type change, or a Transpose (counted in n_reorders),
 * or a data move inside one op's lowering (depth-to-space: not counted) */
static graph_status copy_step(lctx *L, const graph_node *n, const dnnl_memory_desc_t *smd, int sv,
                              const dnnl_memory_desc_t *dmd, int dv, int layout_change)
{
    graph_status st = GRAPH_OK;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t at = new_attr();
    step *s = add_step(L, STEP_PRIM);
    if (!s || !at) { st = GRAPH_ERR_NOMEM; goto done; }
    DN(dnnl_reorder_primitive_desc_create(&pd, smd, L->c->engine, dmd, L->c->engine, at), "reorder");
    s->node = n;
    if (layout_change) {
        s->is_reorder = 1;
        L->b->n_reorders++;
    }
    arg(s, DNNL_ARG_FROM, smd, sv, NULL);
    arg(s, DNNL_ARG_TO, dmd, dv, NULL);
    st = finish_prim(L, n, pd, s);
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (at) dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status reorder_step(lctx *L, const graph_node *n, const dnnl_memory_desc_t *smd, int sv,
                                 const dnnl_memory_desc_t *dmd, int dv)
{
    return copy_step(L, n, smd, sv, dmd, dv, 1);
}

enum { DT_KEEP = 0 };

static int is_float(int dt) { return dt == GRAPH_DT_F32 || dt == GRAPH_DT_BF16; }

/* value v in the requested layout and, for a float value, type (DT_KEEP,
 * GRAPH_DT_F32 or GRAPH_DT_BF16); one reorder per value and format at most */
static int in_fmt(lctx *L, int v, int layout, int dt, graph_status *st)
{
    bucket *b = L->b;
    graph_value *gv = &b->ir.values[v];
    if (gv->shape.rank != 4 && layout == LAYOUT_NHWC) layout = LAYOUT_PLAIN;
    int want = dt == DT_KEEP || !is_float(gv->dtype) ? gv->dtype : dt;
    if (b->rv[v].layout == layout && gv->dtype == want) return v;
    if (gv->data) { /* constants are stored plain */
        if (layout == LAYOUT_PLAIN && gv->dtype == want) return v;
    }
    int slot = layout + 2 * (want == GRAPH_DT_BF16);
    if (L->conv[slot][v] >= 0) return L->conv[slot][v];
    graph_shape sh = gv->shape;
    int nv = new_value(L, v, want, &sh, layout);
    if (nv < 0) { *st = GRAPH_ERR_NOMEM; return -1; }
    dnnl_memory_desc_t a, c;
    md_of(L, &a, v, 0);
    md_of(L, &c, nv, 0);
    *st = reorder_step(L, NULL, &a, v, &c, nv);
    if (*st) return -1;
    L->conv[slot][v] = nv;
    return nv;
}

static int in_layout(lctx *L, int v, int layout, graph_status *st)
{
    return in_fmt(L, v, layout, DT_KEEP, st);
}

/* f32 ops: the input in f32 */
static int in_f32(lctx *L, int v, int layout, graph_status *st)
{
    return in_fmt(L, v, layout, GRAPH_DT_F32, st);
}

/* the type convs and matmuls compute in */
static int mm_dt(const lctx *L) { return L->c->float_prec == GRAPH_PREC_BF16 ? GRAPH_DT_BF16 : GRAPH_DT_F32; }

/* an output y computed in dt (a float output of a float op only) */
static void set_dt(lctx *L, int y, int dt)
{
    graph_value *gv = &L->b->ir.values[y];
    if (is_float(gv->dtype) && is_float(dt)) gv->dtype = dt;
}

static graph_status set_out(lctx *L, int v, int layout)
{
    graph_value *gv = &L->b->ir.values[v];
    L->b->rv[v].layout = gv->shape.rank == 4 ? layout : LAYOUT_PLAIN;
    L->b->rv[v].in_arena = 1;
    return GRAPH_OK;
}

static graph_status pack_attr(lctx *L, const graph_node *n, const void *data, const dnnl_memory_desc_t *smd,
                              const dnnl_memory_desc_t *dmd, const_dnnl_primitive_attr_t pat, const void **out);

/* buf (NULL: out of memory) becomes the bucket's, freed with it; 0, or -1
 * with buf freed */
static int keep(bucket *b, void *buf)
{
    if (!buf) return -1;
    if (b->n_packed == b->cap_packed) {
        int cap = b->cap_packed ? b->cap_packed * 2 : 64;
        void **pp = realloc(b->packed, (size_t)cap * sizeof *pp);
        if (!pp) { free(buf); return -1; }
        b->packed = pp;
        b->cap_packed = cap;
    }
    b->packed[b->n_packed++] = buf;
    return 0;
}

static graph_status pack(lctx *L, const graph_node *n, const void *data, const dnnl_memory_desc_t *smd,
                         const dnnl_memory_desc_t *dmd, const void **out)
{
    return pack_attr(L, n, data, smd, dmd, NULL, out);
}

/* weights reordered once into the layout (and type) a primitive asks for;
 * pat: the reorder's attributes (int8: per-channel scales) or NULL */
static graph_status pack_attr(lctx *L, const graph_node *n, const void *data, const dnnl_memory_desc_t *smd,
                              const dnnl_memory_desc_t *dmd, const_dnnl_primitive_attr_t pat, const void **out)
{
    graph_status st = GRAPH_OK;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t p = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    bucket *b = L->b;
    size_t sz = dnnl_memory_desc_get_size(dmd);
    void *buf = aligned_alloc(64, (sz + 63) / 64 * 64 + 64);
    if (keep(b, buf)) return GRAPH_ERR_NOMEM;
    DN(dnnl_reorder_primitive_desc_create(&pd, smd, L->c->engine, dmd, L->c->engine, pat), "weights reorder");
    DN(dnnl_primitive_create(&p, pd), "weights reorder");
    graph_count_primitive();
    DN(dnnl_memory_create(&ms, smd, L->c->engine, (void *)data), "memory");
    DN(dnnl_memory_create(&md, dmd, L->c->engine, buf), "memory");
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, ms }, { DNNL_ARG_TO, md } };
    DN(dnnl_primitive_execute(p, L->strm, 2, a), "weights reorder");
    DN(dnnl_stream_wait(L->strm), "stream wait");
    *out = buf;
done:
    if (ms) dnnl_memory_destroy(ms);
    if (md) dnnl_memory_destroy(md);
    if (p) dnnl_primitive_destroy(p);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return st;
}

/* post-ops of a node into attr; binary/sum operands become step args later */
static graph_status post_attr(lctx *L, const graph_node *n, dnnl_primitive_attr_t at, int dst_v, int pad_rank)
{
    graph_status st = GRAPH_OK;
    dnnl_post_ops_t po = NULL;
    if (!n->n_post) return GRAPH_OK;
    DN(dnnl_post_ops_create(&po), "post-ops");
    for (int i = 0; i < n->n_post; i++) {
        const graph_postop *p = &n->post[i];
        if (p->kind == GP_ELT) DN(dnnl_post_ops_append_eltwise(po, 1.f, p->alg, p->alpha, p->beta), "eltwise post-op");
        else if (p->kind == GP_SUM) DN(dnnl_post_ops_append_sum(po, 1.f), "sum post-op");
        else {
            dnnl_memory_desc_t m;
            md_of(L, &m, p->value, pad_rank);
            DN(dnnl_post_ops_append_binary(po, p->kind == GP_BIN_MUL ? dnnl_binary_mul : dnnl_binary_add, &m), "binary post-op");
        }
    }
    DN(dnnl_primitive_attr_set_post_ops(at, po), "post-ops");
done:
    (void)dst_v;
    if (po) dnnl_post_ops_destroy(po);
    return st;
}

static void post_args(lctx *L, const graph_node *n, step *s, int pad_rank)
{
    for (int i = 0; i < n->n_post; i++) {
        const graph_postop *p = &n->post[i];
        if (p->kind == GP_BIN_ADD || p->kind == GP_BIN_MUL) {
            dnnl_memory_desc_t m;
            md_of(L, &m, p->value, pad_rank);
            arg(s, DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1, &m, p->value, NULL);
        }
    }
}

static int sum_operand(const graph_node *n)
{
    for (int i = 0; i < n->n_post; i++)
        if (n->post[i].kind == GP_SUM) return n->post[i].value;
    return -1;
}

/* How a calibrated range (the clipped one) maps onto 8 bits: u8 for a
 * non-negative range; where the conv allows a zero point (zp_ok), u8 over
 * [clo, chi] with zero point -clo * scale, else s8 over [-amax, amax]. A
 * range just below zero (a hardswish output: [-0.04, 2.4]) keeps twice the
 * resolution with the zero point. */
typedef struct {
    float scale;
    int u8;
    int32_t zp;
} int8_quant;

static int8_quant quant_of(const graph_range *r, int zp_ok)
{
    int8_quant q = { 1.f, r->clo >= 0, 0 };
    if (q.u8) {
        if (r->chi > 0) q.scale = 255.f / r->chi;
    } else if (zp_ok && r->chi > r->clo) {
        q.u8 = 1;
        q.scale = 255.f / (r->chi - r->clo);
        q.zp = (int32_t)lrintf(-r->clo * q.scale);
        if (q.zp > 255) q.zp = 255;
    } else {
        float amax = fmaxf(fabsf(r->clo), fabsf(r->chi));
        if (amax > 0) q.scale = 127.f / amax;
    }
    return q;
}

/* A zero point on the input is exact for a conv that reads no padding:
 * the conv of (x * s + zp) is s * conv(x) + zp * (sum of the weights),
 * taken out through the bias. oneDNN's own source zero point would move
 * the conv to a slower kernel (notes). */
static int zp_ok_for(const graph_node *n)
{
    const int64_t *p;
    int np = graph_attr_ints(n, "_p", &p);
    for (int i = 0; i < np; i++)
        if (p[i]) return 0;
    return 1;
}

/* The calibrated range of conv n's input when n runs in int8 (an INT8
 * plan, a convolution of a class the plan quantizes, constant f32 weights
 * and bias), else NULL. */
static const graph_range *int8_range(lctx *L, const graph_node *n, int64_t G, int64_t kh, int64_t kw)
{
    const graph_ir *ir = &L->b->ir;
    if (L->c->precision != GRAPH_PREC_INT8 || !L->c->ranges || !is_op(n, "Conv")) return NULL;
    int cls = G > 1 ? GRAPH_INT8_GROUPED : kh * kw == 1 ? GRAPH_INT8_POINTWISE : GRAPH_INT8_DENSE;
    if (!(L->c->int8_convs & cls)) return NULL;
    const graph_value *w = &ir->values[n->in[1]];
    if (!w->data || w->dtype != GRAPH_DT_F32) return NULL;
    if (n->n_in > 2 && n->in[2] >= 0 &&
        (!ir->values[n->in[2]].data || ir->values[n->in[2]].dtype != GRAPH_DT_F32)) return NULL;
    const graph_range *r = graph_ranges_find(L->c->ranges, ir->values[n->in[0]].name);
    if (!r || !(r->clo <= r->chi) || !isfinite(r->clo) || !isfinite(r->chi) || !(r->count > 0)) return NULL;
    /* the input's signal-to-noise ratio once quantized (uniform rounding
     * noise of step^2 / 12 against the mean square) */
    float step = 1.f / quant_of(r, zp_ok_for(n)).scale;
    double ms = r->sumsq / r->count;
    if (!(ms > 0) || 10.0 * log10(12.0 * ms / ((double)step * step)) < L->c->int8_min_sqnr) return NULL;
    return r;
}

/* value v quantized for an int8 conv: nhwc u8/s8, v * scale (+ zero point)
 * rounded and saturated by a reorder step; one per value and kind. Returns
 * the value, or -1 with *status set. */
static int quant_in(lctx *L, const graph_node *n, int v, const int8_quant *q, graph_status *status)
{
    int slot = q->zp ? 5 : 4;
    if (L->conv[slot][v] >= 0) return L->conv[slot][v];
    int xv = in_layout(L, v, LAYOUT_NHWC, status);
    if (xv < 0) return -1;
    graph_shape sh = L->b->ir.values[v].shape;
    int nv = new_value(L, v, q->u8 ? GRAPH_DT_U8 : GRAPH_DT_I8, &sh, LAYOUT_NHWC);
    if (nv < 0) { *status = GRAPH_ERR_NOMEM; return -1; }
    graph_status st = GRAPH_OK;
    dnnl_memory_desc_t a, c;
    md_of(L, &a, xv, 0);
    md_of(L, &c, nv, 0);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t at = new_attr();
    step *sp = add_step(L, STEP_PRIM);
    if (!sp || !at) { st = GRAPH_ERR_NOMEM; goto done; }
    DN(dnnl_primitive_attr_set_output_scales(at, 1, 0, &q->scale), "quantize scales");
    if (q->zp) DN(dnnl_primitive_attr_set_zero_points(at, DNNL_ARG_DST, 1, 0, &q->zp), "quantize zero point");
    DN(dnnl_reorder_primitive_desc_create(&pd, &a, L->c->engine, &c, L->c->engine, at), "quantize");
    sp->is_reorder = 1;
    L->b->n_quantize++;
    arg(sp, DNNL_ARG_FROM, &a, xv, NULL);
    arg(sp, DNNL_ARG_TO, &c, nv, NULL);
    st = finish_prim(L, n, pd, sp);
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (at) dnnl_primitive_attr_destroy(at);
    if (st) { *status = st; return -1; }
    L->conv[slot][v] = nv;
    return nv;
}

static int const_f32(const graph_ir *ir, int v)
{
    return v >= 0 && ir->values[v].data && ir->values[v].dtype == GRAPH_DT_F32;
}

/* A ConvTranspose with a 2x2 kernel at stride 2 (graph_deconv_as_conv):
 * each input pixel writes its own 2x2 output block, so it is a 1x1
 * convolution to 4 x OC channels, ordered (dy, dx, oc), then a
 * depth-to-space copy into the output. Both run on fast paths that take
 * the bias and post-ops, which oneDNN 2.6's deconvolution does not (with
 * any of them it is 40-300x slower). */
static graph_status lower_deconv_conv(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    graph_ir *ir = &L->b->ir;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t at = new_attr();
    float *w4 = NULL;
    if (!at) return GRAPH_ERR_NOMEM;
    int cdt = mm_dt(L);
    int x = in_fmt(L, n->in[0], LAYOUT_NHWC, cdt, &st);
    if (x < 0) goto done;
    int y = n->out[0];
    set_out(L, y, LAYOUT_NHWC);
    set_dt(L, y, cdt);
    const graph_shape xs = ir->values[x].shape;
    int64_t N = xs.dims[0], IC = xs.dims[1], H = xs.dims[2], W = xs.dims[3];
    int64_t OC = ir->values[y].shape.dims[1], Q = 4 * OC;
    /* weights [IC][OC][dy][dx] -> [(dy, dx, oc)][IC] */
    const float *wf = ir->values[n->in[1]].data;
    w4 = malloc((size_t)(Q * IC) * sizeof *w4);
    int has_b = n->n_in > 2 && n->in[2] >= 0, bias_v = -1;
    float *b4 = has_b ? malloc((size_t)Q * sizeof *b4) : NULL;
    if (!w4 || (has_b && !b4)) { free(b4); st = GRAPH_ERR_NOMEM; goto done; }
    for (int64_t ci = 0; ci < IC; ci++)
        for (int64_t o = 0; o < OC; o++)
            for (int t = 0; t < 4; t++)
                w4[(t * OC + o) * IC + ci] = wf[(ci * OC + o) * 4 + t];
    if (has_b) {
        const float *bf = ir->values[n->in[2]].data;
        for (int t = 0; t < 4; t++)
            for (int64_t o = 0; o < OC; o++) b4[t * OC + o] = bf[o];
        graph_shape bs = { .rank = 1, .dims = { Q } };
        bias_v = new_const(L, "_d2s_bias", &bs, b4);
        if (bias_v < 0) { st = GRAPH_ERR_NOMEM; goto done; }
    }
    graph_shape ts = { .rank = 4, .dims = { N, Q, H, W } };
    int t = new_value(L, y, cdt, &ts, LAYOUT_NHWC);
    if (t < 0) { st = GRAPH_ERR_NOMEM; goto done; }
    dnnl_memory_desc_t src, tmd, wplain, wany, bmd;
    md_of(L, &src, x, 0);
    md_of(L, &tmd, t, 0);
    dnnl_dims_t wd = { Q, IC, 1, 1 }, bd = { Q };
    DN(dnnl_memory_desc_init_by_tag(&wplain, 4, wd, dnnl_f32, dnnl_oihw), "weights md");
    DN(dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_dt(cdt), dnnl_format_tag_any), "weights md");
    DN(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a), "bias md");
    if ((st = post_attr(L, n, at, t, 0))) goto done;
    dnnl_dims_t one = { 1, 1 }, zero = { 0, 0 };
    dnnl_convolution_desc_t cd;
    DN(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wany,
                                          has_b ? &bmd : NULL, &tmd, one, zero, zero),
       "convolution descriptor");
    DN(dnnl_primitive_desc_create(&pd, &cd, at, L->c->engine, NULL), "deconvolution as convolution");
    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const void *wp;
    if ((st = pack(L, n, w4, &wplain, wq, &wp))) goto done;
    step *sp = add_step(L, STEP_PRIM);
    if (!sp) { st = GRAPH_ERR_NOMEM; goto done; }
    sp->node = n;
    arg(sp, DNNL_ARG_SRC, &src, x, NULL);
    arg(sp, DNNL_ARG_WEIGHTS, wq, -1, wp);
    if (has_b) arg(sp, DNNL_ARG_BIAS, &bmd, bias_v, NULL);
    arg(sp, DNNL_ARG_DST, &tmd, t, NULL);
    post_args(L, n, sp, 0);
    if ((st = finish_prim(L, n, pd, sp))) goto done;
    /* depth to space: t[n][h][w][(dy, dx, oc)] -> y[n][2h + dy][2w + dx][oc],
     * both nhwc, as one strided copy over (n, h, dy, w, (dx, oc)) */
    {
        dnnl_memory_desc_t a, b;
        dnnl_dims_t d = { N, H, 2, W, 2 * OC };
        dnnl_dims_t sa = { H * W * Q, W * Q, 2 * OC, Q, 1 };
        dnnl_dims_t sb = { H * W * Q, 4 * W * OC, 2 * W * OC, 2 * OC, 1 };
        DN(dnnl_memory_desc_init_by_strides(&a, 5, d, dnnl_dt(cdt), sa), "depth-to-space md");
        DN(dnnl_memory_desc_init_by_strides(&b, 5, d, dnnl_dt(cdt), sb), "depth-to-space md");
        st = copy_step(L, n, &a, t, &b, y, 0);
    }
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (at) dnnl_primitive_attr_destroy(at);
    free(w4);
    return st;
}

static graph_status lower_conv(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    bucket *b = L->b;
    graph_ir *ir = &b->ir;
    int tr = is_op(n, "ConvTranspose");
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t at = new_attr();
    if (!at) return GRAPH_ERR_NOMEM;
    float *wsc = NULL, *osc = NULL;
    int cdt = mm_dt(L);
    const int64_t *k, *s, *d, *p;
    graph_attr_ints(n, "_k", &k);
    graph_attr_ints(n, "_s", &s);
    graph_attr_ints(n, "_d", &d);
    graph_attr_ints(n, "_p", &p);
    int64_t G = graph_attr_int(n, "group", 1);
    const graph_range *qr = int8_range(L, n, G, k[0], k[1]);
    int8_quant q8 = qr ? quant_of(qr, zp_ok_for(n)) : (int8_quant){ 1.f, 0, 0 };
    float sx = q8.scale;
    int x = qr ? quant_in(L, n, n->in[0], &q8, &st) : in_fmt(L, n->in[0], LAYOUT_NHWC, cdt, &st);
    if (x < 0) goto done;
    int y = n->out[0];
    set_out(L, y, LAYOUT_NHWC);
    set_dt(L, y, cdt);
    graph_value *w = &ir->values[n->in[1]];
    int has_b = n->n_in > 2 && n->in[2] >= 0;
    int bias_v = has_b ? n->in[2] : -1;
    int64_t IC = ir->values[x].shape.dims[1], OC = ir->values[y].shape.dims[1];
    dnnl_memory_desc_t src, dst, wany, wplain, bmd;
    md_of(L, &src, x, 0);
    md_of(L, &dst, y, 0);
    dnnl_dims_t wd, ws;
    int wr;
    int64_t kh = k[0], kw = k[1];
    if (G == 1) {
        wr = 4;
        wd[0] = OC; wd[1] = IC; wd[2] = kh; wd[3] = kw;
        if (!tr) { ws[0] = IC * kh * kw; ws[1] = kh * kw; }
        else { ws[0] = kh * kw; ws[1] = OC * kh * kw; }
        ws[2] = kw; ws[3] = 1;
    } else {
        wr = 5;
        int64_t og = OC / G, ig = IC / G;
        wd[0] = G; wd[1] = og; wd[2] = ig; wd[3] = kh; wd[4] = kw;
        if (!tr) { ws[0] = og * ig * kh * kw; ws[1] = ig * kh * kw; ws[2] = kh * kw; }
        else { ws[0] = ig * og * kh * kw; ws[1] = kh * kw; ws[2] = og * kh * kw; }
        ws[3] = kw; ws[4] = 1;
    }
    DN(dnnl_memory_desc_init_by_strides(&wplain, wr, wd, dnnl_f32, ws), "weights md");
    DN(dnnl_memory_desc_init_by_tag(&wany, wr, wd, qr ? dnnl_s8 : dnnl_dt(cdt), dnnl_format_tag_any), "weights md");
    if (qr) {
        /* s8 weights, one scale per output channel (its largest magnitude
         * to 127); the conv's output scale undoes both scales, and the bias
         * (added to the integer sum) is scaled like the sum */
        int64_t per = OC ? graph_shape_numel(&w->shape) / OC : 0;
        wsc = malloc((size_t)OC * sizeof *wsc);
        osc = malloc((size_t)OC * sizeof *osc);
        /* an input zero point needs a bias to take out zp * sum(weights) */
        int nb = has_b || q8.zp;
        float *bq = nb ? malloc((size_t)OC * sizeof *bq) : NULL;
        if (!wsc || !osc || (nb && !bq)) { free(bq); st = GRAPH_ERR_NOMEM; goto done; }
        const float *wf = w->data;
        const float *bf = has_b ? ir->values[n->in[2]].data : NULL;
        float gmax = 0;
        for (int64_t i = 0; i < OC * per; i++) gmax = fmaxf(gmax, fabsf(wf[i]));
        for (int64_t o = 0; o < OC; o++) {
            float m = 0;
            for (int64_t i = 0; i < per; i++) m = fmaxf(m, fabsf(wf[o * per + i]));
            /* a channel of (near) zeros, e.g. pruned to denormals: its
             * weights quantize to 0 at scale 1 (127 / m would overflow) */
            wsc[o] = m > 1e-6f * gmax && m > 1e-30f ? 127.f / m : 1.f;
            osc[o] = 1.f / (sx * wsc[o]);
            if (bq) {
                bq[o] = bf ? bf[o] * sx * wsc[o] : 0.f;
                if (q8.zp) {
                    /* the s8 weights as the packing reorder rounds them
                     * (to nearest even), summed */
                    double sw = 0;
                    for (int64_t i = 0; i < per; i++) sw += nearbyintf(wf[o * per + i] * wsc[o]);
                    bq[o] -= (float)(q8.zp * sw);
                }
            }
        }
        if (nb) {
            graph_shape bs = { .rank = 1, .dims = { OC } };
            bias_v = new_const(L, "_int8_bias", &bs, bq);
            if (bias_v < 0) { st = GRAPH_ERR_NOMEM; goto done; }
            w = &ir->values[n->in[1]]; /* the value table may have moved */
            has_b = 1;
        }
        DN(dnnl_primitive_attr_set_output_scales(at, OC, 1 << 1, osc), "int8 output scales");
        L->b->n_int8++;
    }
    dnnl_dims_t bd = { OC };
    DN(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a), "bias md");
    dnnl_dims_t strides = { s[0], s[1] }, dil = { d[0] - 1, d[1] - 1 },
                pl = { p[0], p[1] }, pr = { p[2], p[3] };
    if (tr) {
        const int64_t *op_;
        if (graph_attr_ints(n, "output_padding", &op_) == 2) { pr[0] -= op_[0]; pr[1] -= op_[1]; }
    }
    if ((st = post_attr(L, n, at, y, 0))) goto done;
    if (tr) {
        dnnl_deconvolution_desc_t dd;
        DN(dnnl_dilated_deconvolution_forward_desc_init(&dd, dnnl_forward_inference, dnnl_deconvolution_direct,
                                                        &src, &wany, has_b ? &bmd : NULL, &dst, strides, dil, pl, pr),
           "deconvolution descriptor");
        DN(dnnl_primitive_desc_create(&pd, &dd, at, L->c->engine, NULL), "deconvolution");
    } else {
        dnnl_convolution_desc_t cd;
        DN(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                                      &src, &wany, has_b ? &bmd : NULL, &dst, strides, dil, pl, pr),
           "convolution descriptor");
        DN(dnnl_primitive_desc_create(&pd, &cd, at, L->c->engine, NULL), "convolution");
    }
    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const void *wp;
    if (qr) {
        dnnl_primitive_attr_t wat = new_attr();
        if (!wat) { st = GRAPH_ERR_NOMEM; goto done; }
        dnnl_primitive_attr_set_scratchpad_mode(wat, dnnl_scratchpad_mode_library);
        if (dnnl_primitive_attr_set_output_scales(wat, OC, G == 1 ? 1 : 3, wsc) != dnnl_success) {
            dnnl_primitive_attr_destroy(wat);
            graph_errf(L->err, L->errlen, "%s '%s': int8 weight scales refused", n->op, n->name);
            st = GRAPH_ERR_DNNL;
            goto done;
        }
        st = pack_attr(L, n, w->data, &wplain, wq, wat, &wp);
        dnnl_primitive_attr_destroy(wat);
        if (st) goto done;
    } else if ((st = pack(L, n, w->data, &wplain, wq, &wp))) goto done;
    /* the sum post-op accumulates into dst: put the addend there first
     * unless dst already shares its storage (planned in-place) */
    int so = sum_operand(n);
    if (so >= 0) {
        graph_value *sov = &ir->values[so];
        int inplace = !sov->data && b->rv[so].root == so && b->rv[so].layout == LAYOUT_NHWC && L->last[so] == L->k &&
                      sov->dtype == ir->values[y].dtype &&
                      graph_shape_numel(&sov->shape) == graph_shape_numel(&ir->values[y].shape);
        for (int i = 0; i < ir->n_outputs; i++) if (ir->outputs[i] == so) inplace = 0;
        if (inplace) b->rv[y].root = so; /* accumulate in the addend's storage */
        else {
            int sv = in_layout(L, so, LAYOUT_NHWC, &st);
            if (sv < 0) goto done;
            dnnl_memory_desc_t a_, c_;
            md_of(L, &a_, sv, 0);
            md_of(L, &c_, y, 0);
            if ((st = reorder_step(L, n, &a_, sv, &c_, y))) goto done;
        }
    }
    step *sp = add_step(L, STEP_PRIM);
    if (!sp) { st = GRAPH_ERR_NOMEM; goto done; }
    sp->node = n;
    if (!tr) {
        sp->obs_name = ir->values[n->in[0]].name;
        sp->obs_value = x;
    }
    arg(sp, DNNL_ARG_SRC, &src, x, NULL);
    arg(sp, DNNL_ARG_WEIGHTS, wq, -1, wp);
    if (has_b) arg(sp, DNNL_ARG_BIAS, &bmd, bias_v, NULL);
    arg(sp, DNNL_ARG_DST, &dst, y, NULL);
    post_args(L, n, sp, 0);
    st = finish_prim(L, n, pd, sp);
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(at);
    free(wsc);
    free(osc);
    return st;
}

static graph_status simple_prim(lctx *L, const graph_node *n, const_dnnl_op_desc_t od,
                                dnnl_primitive_attr_t at, step **out)
{
    graph_status st = GRAPH_OK;
    dnnl_primitive_desc_t pd = NULL;
    step *sp = add_step(L, STEP_PRIM);
    if (!sp) return GRAPH_ERR_NOMEM;
    sp->node = n;
    DN(dnnl_primitive_desc_create(&pd, od, at, L->c->engine, NULL), "primitive descriptor");
    st = finish_prim(L, n, pd, sp);
    *out = sp;
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    return st;
}

static graph_status lower_pool(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    dnnl_primitive_attr_t at = new_attr();
    int x = in_layout(L, n->in[0], LAYOUT_NHWC, &st);
    if (x < 0 || !at) goto done;
    int y = n->out[0];
    set_out(L, y, LAYOUT_NHWC);
    set_dt(L, y, L->b->ir.values[x].dtype);
    dnnl_memory_desc_t src, dst;
    md_of(L, &src, x, 0);
    md_of(L, &dst, y, 0);
    const graph_shape *xs = &L->b->ir.values[x].shape;
    dnnl_dims_t k = { xs->dims[2], xs->dims[3] }, s = { 1, 1 }, d = { 0, 0 }, pl = { 0, 0 }, pr = { 0, 0 };
    dnnl_alg_kind_t alg = dnnl_pooling_avg_exclude_padding;
    if (!is_op(n, "GlobalAveragePool")) {
        const int64_t *kk, *ss, *dd, *pp;
        graph_attr_ints(n, "_k", &kk);
        graph_attr_ints(n, "_s", &ss);
        graph_attr_ints(n, "_d", &dd);
        graph_attr_ints(n, "_p", &pp);
        for (int i = 0; i < 2; i++) {
            k[i] = kk[i]; s[i] = ss[i]; d[i] = dd[i] - 1; pl[i] = pp[i]; pr[i] = pp[i + 2];
        }
        if (is_op(n, "MaxPool")) alg = dnnl_pooling_max;
        else if (graph_attr_int(n, "count_include_pad", 0)) alg = dnnl_pooling_avg_include_padding;
    }
    dnnl_pooling_v2_desc_t pd;
    step *sp;
    DN(dnnl_pooling_v2_forward_desc_init(&pd, dnnl_forward_inference, alg, &src, &dst, s, k, d, pl, pr), "pooling descriptor");
    if ((st = simple_prim(L, n, &pd, at, &sp))) goto done;
    arg(sp, DNNL_ARG_SRC, &src, x, NULL);
    arg(sp, DNNL_ARG_DST, &dst, y, NULL);
done:
    if (at) dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status lower_elt(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    dnnl_primitive_attr_t at = new_attr();
    int x = n->in[0];
    if (!at) return GRAPH_ERR_NOMEM;
    int lay = L->b->rv[x].layout;
    if (L->b->ir.values[x].data) lay = LAYOUT_PLAIN;
    int y = n->out[0];
    set_out(L, y, lay);
    set_dt(L, y, L->b->ir.values[x].dtype);
    dnnl_memory_desc_t src, dst;
    md_of(L, &src, x, 0);
    md_of(L, &dst, y, 0);
    for (int i = 0; i < n->n_post; i++) {
        const graph_postop *p = &n->post[i];
        dnnl_eltwise_desc_t ed;
        step *sp;
        DN(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, p->alg, &dst, p->alpha, p->beta), "eltwise descriptor");
        if ((st = simple_prim(L, n, &ed, at, &sp))) goto done;
        arg(sp, DNNL_ARG_SRC, i ? &dst : &src, i ? y : x, NULL);
        arg(sp, DNNL_ARG_DST, &dst, y, NULL);
    }
done:
    dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status lower_ref(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    step *sp;
    int ins[16];
    if (n->n_in > 16 || n->n_out > 4) return GRAPH_ERR_UNSUPPORTED;
    for (int i = 0; i < n->n_in; i++) {
        ins[i] = n->in[i] >= 0 ? in_f32(L, n->in[i], LAYOUT_PLAIN, &st) : -1;
        if (st) return st;
    }
    sp = add_step(L, STEP_REF);
    if (!sp) return GRAPH_ERR_NOMEM;
    sp->node = n;
    sp->n_in = n->n_in;
    sp->n_out = n->n_out;
    memcpy(sp->in, ins, (size_t)n->n_in * sizeof(int));
    for (int i = 0; i < n->n_out; i++) {
        sp->out[i] = n->out[i];
        if (n->out[i] >= 0) set_out(L, n->out[i], LAYOUT_PLAIN);
    }
    return GRAPH_OK;
}

static graph_status lower_binary(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    bucket *b = L->b;
    graph_ir *ir = &b->ir;
    int a = n->in[0], c = n->in[1], y = n->out[0];
    int comm = is_op(n, "Add") || is_op(n, "Mul");
    const graph_shape *ys = &ir->values[y].shape;
    if (ir->values[y].dtype != GRAPH_DT_F32 || is_op(n, "Pow")) return lower_ref(L, n);
    if (!is_float(ir->values[a].dtype) || !is_float(ir->values[c].dtype)) return lower_ref(L, n);
    if (!graph_shape_eq(&ir->values[a].shape, ys)) {
        if (comm && graph_shape_eq(&ir->values[c].shape, ys)) { int t = a; a = c; c = t; }
        else return lower_ref(L, n);
    }
    if (ir->values[a].data) return lower_ref(L, n);
    int lay = b->rv[a].layout, adt = ir->values[a].dtype;
    /* a full-size second operand in another layout or type is converted
     * once; a broadcast one of another type too */
    if (graph_shape_eq(&ir->values[c].shape, ys) && !ir->values[c].data) {
        c = in_fmt(L, c, lay, adt, &st);
        if (c < 0) return st;
    } else if (ir->values[c].dtype != adt && !ir->values[c].data) {
        c = in_fmt(L, c, b->rv[c].layout, adt, &st);
        if (c < 0) return st;
    }
    dnnl_primitive_attr_t at = new_attr();
    if (!at) return GRAPH_ERR_NOMEM;
    set_out(L, y, lay);
    set_dt(L, y, adt);
    dnnl_memory_desc_t s0, s1, dst;
    md_of(L, &s0, a, 0);
    md_of(L, &s1, c, ys->rank ? ys->rank : 1);
    md_of(L, &dst, y, 0);
    dnnl_alg_kind_t alg = is_op(n, "Add") ? dnnl_binary_add : is_op(n, "Sub") ? dnnl_binary_sub
                        : is_op(n, "Mul") ? dnnl_binary_mul : dnnl_binary_div;
    dnnl_binary_desc_t bd;
    step *sp;
    DN(dnnl_binary_desc_init(&bd, alg, &s0, &s1, &dst), "binary descriptor");
    if ((st = simple_prim(L, n, &bd, at, &sp))) goto done;
    arg(sp, DNNL_ARG_SRC_0, &s0, a, NULL);
    arg(sp, DNNL_ARG_SRC_1, &s1, c, NULL);
    arg(sp, DNNL_ARG_DST, &dst, y, NULL);
done:
    dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status lower_concat(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    bucket *b = L->b;
    int y = n->out[0];
    if (b->ir.values[y].dtype != GRAPH_DT_F32 || n->n_in > 12) return lower_ref(L, n);
    int lay = LAYOUT_PLAIN, dt = GRAPH_DT_F32;
    for (int i = 0; i < n->n_in; i++)
        if (!b->ir.values[n->in[i]].data) {
            lay = b->rv[n->in[i]].layout;
            dt = b->ir.values[n->in[i]].dtype;
            break;
        }
    int xs[12];
    dnnl_memory_desc_t mds[12], dst;
    for (int i = 0; i < n->n_in; i++) {
        xs[i] = in_fmt(L, n->in[i], lay, dt, &st);
        if (xs[i] < 0) return st;
        md_of(L, &mds[i], xs[i], 0);
    }
    set_out(L, y, lay);
    set_dt(L, y, dt);
    md_of(L, &dst, y, 0);
    int r = b->ir.values[y].shape.rank;
    int64_t ax = graph_attr_int(n, "axis", 0);
    if (ax < 0) ax += r;
    dnnl_primitive_attr_t at = new_attr();
    dnnl_primitive_desc_t pd = NULL;
    step *sp = add_step(L, STEP_PRIM);
    if (!at || !sp) { st = GRAPH_ERR_NOMEM; goto done; }
    sp->node = n;
    DN(dnnl_concat_primitive_desc_create(&pd, &dst, n->n_in, (int)ax, mds, at, L->c->engine), "concat");
    for (int i = 0; i < n->n_in; i++) arg(sp, DNNL_ARG_MULTIPLE_SRC + i, &mds[i], xs[i], NULL);
    arg(sp, DNNL_ARG_DST, &dst, y, NULL);
    st = finish_prim(L, n, pd, sp);
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (at) dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status lower_matmul(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    bucket *b = L->b;
    graph_ir *ir = &b->ir;
    int gemm = is_op(n, "Gemm");
    int cdt = mm_dt(L);
    int a = in_fmt(L, n->in[0], LAYOUT_PLAIN, cdt, &st);
    if (a < 0) return st;
    /* constant bf16 weights are prepacked (format chosen by oneDNN) */
    int wpack = cdt == GRAPH_DT_BF16 && ir->values[n->in[1]].data && ir->values[n->in[1]].dtype == GRAPH_DT_F32;
    int w = wpack ? n->in[1] : in_fmt(L, n->in[1], LAYOUT_PLAIN, cdt, &st);
    if (w < 0) return st;
    int y = n->out[0];
    set_out(L, y, LAYOUT_PLAIN);
    /* bf16 inputs, f32 output: matmuls feed softmax, layer norm and the
     * logits, where a bf16 result costs accuracy and saves little */
    int R = ir->values[y].shape.rank;
    dnnl_memory_desc_t sa, sw, dst;
    md_of(L, &sa, a, R);
    md_of(L, &sw, w, R);
    md_of(L, &dst, y, 0);
    dnnl_primitive_attr_t at = new_attr();
    dnnl_primitive_desc_t pd = NULL;
    if (!at) return GRAPH_ERR_NOMEM;
    graph_node tmp = *n;
    if (gemm) {
        if (graph_attr_int(n, "transA", 0)) {
            dnnl_dims_t d = { sa.dims[1], sa.dims[0] }, s = { 1, sa.dims[1] };
            dnnl_memory_desc_init_by_strides(&sa, 2, d, sa.data_type, s);
        }
        if (graph_attr_int(n, "transB", 0)) {
            dnnl_dims_t d = { sw.dims[1], sw.dims[0] }, s = { 1, sw.dims[1] };
            dnnl_memory_desc_init_by_strides(&sw, 2, d, sw.data_type, s);
        }
        float alpha = graph_attr_float(n, "alpha", 1.f), beta = graph_attr_float(n, "beta", 1.f);
        if (alpha != 1.f) dnnl_primitive_attr_set_output_scales(at, 1, 0, &alpha);
        if (n->n_in > 2 && n->in[2] >= 0 && beta != 0.f) {
            int cv = n->in[2];
            graph_value *C = &ir->values[cv];
            if (beta != 1.f) {
                if (!C->data) { st = GRAPH_ERR_UNSUPPORTED; graph_errf(L->err, L->errlen, "Gemm '%s': beta != 1 with a non-constant C is not supported", n->name); goto done; }
                int64_t cnt = graph_shape_numel(&C->shape);
                float *d = malloc((size_t)cnt * 4 + 4);
                if (d)
                    for (int64_t i = 0; i < cnt; i++) d[i] = beta * ((const float *)C->data)[i];
                graph_shape cs = C->shape;
                if ((cv = new_const(L, "_gemm_c", &cs, d)) < 0) { st = GRAPH_ERR_NOMEM; goto done; }
            } else {
                cv = in_layout(L, cv, LAYOUT_PLAIN, &st);
                if (cv < 0) goto done;
            }
            if (tmp.n_post >= GRAPH_MAX_POST) { st = GRAPH_ERR_UNSUPPORTED; goto done; }
            memmove(tmp.post + 1, tmp.post, (size_t)tmp.n_post * sizeof tmp.post[0]);
            tmp.post[0] = (graph_postop){ .kind = GP_BIN_ADD, .value = cv };
            tmp.n_post++;
        }
    }
    if ((st = post_attr(L, &tmp, at, y, R))) goto done;
    dnnl_matmul_desc_t md;
    dnnl_memory_desc_t swd = sw; /* what the primitive reads */
    if (wpack) DN(dnnl_memory_desc_init_by_tag(&swd, sw.ndims, sw.dims, dnnl_bf16, dnnl_format_tag_any), "weights md");
    DN(dnnl_matmul_desc_init(&md, &sa, &swd, NULL, &dst), "matmul descriptor");
    DN(dnnl_primitive_desc_create(&pd, &md, at, L->c->engine, NULL), "matmul");
    const void *wp = NULL;
    if (wpack) {
        swd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        if ((st = pack(L, n, ir->values[w].data, &sw, &swd, &wp))) goto done;
    }
    step *sp = add_step(L, STEP_PRIM);
    if (!sp) { st = GRAPH_ERR_NOMEM; goto done; }
    sp->node = n;
    arg(sp, DNNL_ARG_SRC, &sa, a, NULL);
    arg(sp, DNNL_ARG_WEIGHTS, &swd, wpack ? -1 : w, wp);
    arg(sp, DNNL_ARG_DST, &dst, y, NULL);
    post_args(L, &tmp, sp, R);
    st = finish_prim(L, n, pd, sp);
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(at);
    return st;
}

/* view a plain tensor as 2-D [outer, inner] split before axis */
static void md_2d(dnnl_memory_desc_t *md, const graph_shape *s, int axis)
{
    int64_t o = 1, i = 1;
    for (int d = 0; d < s->rank; d++) {
        if (d < axis) o *= s->dims[d];
        else i *= s->dims[d];
    }
    dnnl_dims_t dims = { o, i };
    dnnl_memory_desc_init_by_tag(md, 2, dims, dnnl_f32, dnnl_ab);
}

static graph_status lower_norm_softmax(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    bucket *b = L->b;
    graph_ir *ir = &b->ir;
    int x = in_f32(L, n->in[0], LAYOUT_PLAIN, &st);
    if (x < 0) return st;
    int y = n->out[0];
    set_out(L, y, LAYOUT_PLAIN);
    const graph_shape *xs = &ir->values[x].shape;
    dnnl_primitive_attr_t at = new_attr();
    if (!at) return GRAPH_ERR_NOMEM;
    dnnl_memory_desc_t md;
    step *sp;
    if (is_op(n, "Softmax")) {
        int64_t ax = graph_attr_int(n, "axis", L->c->opset >= 13 ? -1 : 1);
        if (ax < 0) ax += xs->rank;
        dnnl_softmax_desc_t sd;
        int dax;
        if (L->c->opset < 13) { md_2d(&md, xs, (int)ax); dax = 1; }
        else { md_for(&md, xs, GRAPH_DT_F32, LAYOUT_PLAIN, 0); dax = (int)ax; }
        if (xs->rank == 0) dax = 0;
        DN(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &md, dax), "softmax descriptor");
        if ((st = simple_prim(L, n, &sd, at, &sp))) goto done;
        arg(sp, DNNL_ARG_SRC, &md, x, NULL);
        arg(sp, DNNL_ARG_DST, &md, y, NULL);
    } else {
        float eps = graph_attr_float(n, "epsilon", 1e-5f);
        md_2d(&md, xs, xs->rank - 1);
        int64_t C = md.dims[1];
        dnnl_layer_normalization_desc_t ld;
        DN(dnnl_layer_normalization_forward_desc_init(&ld, dnnl_forward_inference, &md, NULL, eps,
                                                      dnnl_use_scale | dnnl_use_shift), "layer norm descriptor");
        if ((st = simple_prim(L, n, &ld, at, &sp))) goto done;
        dnnl_memory_desc_t cm;
        dnnl_dims_t cd = { C };
        dnnl_memory_desc_init_by_tag(&cm, 1, cd, dnnl_f32, dnnl_a);
        int sh = n->n_in > 2 ? n->in[2] : -1;
        if (sh < 0) {
            graph_shape zs = { .rank = 1, .dims = { C } };
            if ((sh = new_const(L, "_ln_zero", &zs, calloc((size_t)C, 4))) < 0) { st = GRAPH_ERR_NOMEM; goto done; }
        }
        arg(sp, DNNL_ARG_SRC, &md, x, NULL);
        arg(sp, DNNL_ARG_DST, &md, y, NULL);
        arg(sp, DNNL_ARG_SCALE, &cm, n->in[1], NULL);
        arg(sp, DNNL_ARG_SHIFT, &cm, sh, NULL);
    }
done:
    dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status lower_reduce(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    graph_ir *ir = &L->b->ir;
    int x = in_f32(L, n->in[0], LAYOUT_PLAIN, &st);
    if (x < 0) return st;
    int y = n->out[0];
    set_out(L, y, LAYOUT_PLAIN);
    const graph_shape *xs = &ir->values[x].shape;
    const int64_t *red;
    int cnt = graph_attr_ints(n, "_red", &red);
    if (cnt < 0) return lower_ref(L, n); /* noop_with_empty_axes */
    graph_shape ks = *xs;
    for (int i = 0; i < xs->rank; i++) if (red[i]) ks.dims[i] = 1;
    dnnl_memory_desc_t s, d;
    md_for(&s, xs, GRAPH_DT_F32, LAYOUT_PLAIN, 0);
    md_for(&d, &ks, GRAPH_DT_F32, LAYOUT_PLAIN, 0);
    dnnl_primitive_attr_t at = new_attr();
    if (!at) return GRAPH_ERR_NOMEM;
    dnnl_reduction_desc_t rd;
    step *sp;
    DN(dnnl_reduction_desc_init(&rd, dnnl_reduction_mean, &s, &d, 0.f, 0.f), "reduction descriptor");
    if ((st = simple_prim(L, n, &rd, at, &sp))) goto done;
    arg(sp, DNNL_ARG_SRC, &s, x, NULL);
    arg(sp, DNNL_ARG_DST, &d, y, NULL);
done:
    dnnl_primitive_attr_destroy(at);
    return st;
}

/* graph_ref.c's resize kernel, with its grid made here once: on the nhwc
 * f32 or bf16 activations as they are, so no reorder to plain f32 and back
 * is needed around it (docTR's FPN upsamples with align_corners, at up to
 * 256 x 256 x 256), else on plain f32. */
static graph_status lower_resize_ref(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    graph_ir *ir = &L->b->ir;
    int x = n->in[0], y = n->out[0];
    if (ir->values[x].shape.rank != 4 || ir->values[y].shape.rank != 4) return lower_ref(L, n);
    if (ir->values[x].data || !is_float(ir->values[x].dtype) || L->b->rv[x].layout != LAYOUT_NHWC) {
        x = in_f32(L, x, LAYOUT_PLAIN, &st);
        if (x < 0) return st;
    }
    void *grid = graph_resize_grid(n, &ir->values[x].shape, &ir->values[y].shape);
    if (keep(L->b, grid)) return GRAPH_ERR_NOMEM;
    step *sp = add_step(L, STEP_REF);
    if (!sp) return GRAPH_ERR_NOMEM;
    sp->node = n;
    sp->aux = grid;
    sp->n_in = 1;
    sp->n_out = 1;
    sp->in[0] = x;
    sp->out[0] = y;
    set_out(L, y, L->b->rv[x].layout);
    set_dt(L, y, ir->values[x].dtype);
    return st;
}

static graph_status lower_resize(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    graph_ir *ir = &L->b->ir;
    const int64_t *m, *sb;
    graph_attr_ints(n, "_mode", &m);
    graph_attr_ints(n, "_scale_bits", &sb);
    float f[2];
    memcpy(&f[0], &sb[0], 4);
    memcpy(&f[1], &sb[1], 4);
    int x0 = n->in[0], y = n->out[0];
    const graph_shape *xs = &ir->values[x0].shape, *ys = &ir->values[y].shape;
    int linear = m[0] == 1, ctm = (int)m[1], nm = (int)m[2];
    int ok;
    if (!linear) {
        int integer = 1;
        for (int i = 2; i < 4; i++)
            if (ys->dims[i] % xs->dims[i] ||
                f[i - 2] != (float)(ys->dims[i] / xs->dims[i])) /* NOLINT(bugprone-integer-division): exact, checked by % */
                integer = 0;
        ok = integer && ((ctm == 1 && nm == 2) || ((ctm == 0 || ctm == 2) && nm == 0));
    } else {
        /* oneDNN's linear matches ONNX's half_pixel when upsampling only */
        ok = (ctm == 0 || (ctm == 2 && ys->dims[2] > 1 && ys->dims[3] > 1)) && f[0] >= 1.f && f[1] >= 1.f;
    }
    if (!ok) /* align_corners, downsampling: graph_ref.c's kernel */
        return lower_resize_ref(L, n);
    int x = in_layout(L, x0, LAYOUT_NHWC, &st);
    if (x < 0) return st;
    set_out(L, y, LAYOUT_NHWC);
    set_dt(L, y, ir->values[x].dtype);
    dnnl_memory_desc_t s, d;
    md_of(L, &s, x, 0);
    md_of(L, &d, y, 0);
    dnnl_primitive_attr_t at = new_attr();
    if (!at) return GRAPH_ERR_NOMEM;
    dnnl_resampling_desc_t rd;
    step *sp;
    DN(dnnl_resampling_forward_desc_init(&rd, dnnl_forward_inference,
                                         linear ? dnnl_resampling_linear : dnnl_resampling_nearest, f, &s, &d),
       "resampling descriptor");
    if ((st = simple_prim(L, n, &rd, at, &sp))) goto done;
    arg(sp, DNNL_ARG_SRC, &s, x, NULL);
    arg(sp, DNNL_ARG_DST, &d, y, NULL);
done:
    dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status lower_bn(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    graph_ir *ir = &L->b->ir;
    int x = in_f32(L, n->in[0], LAYOUT_NHWC, &st);
    if (x < 0) return st;
    int y = n->out[0];
    set_out(L, y, L->b->rv[x].layout);
    dnnl_memory_desc_t s, cm;
    md_of(L, &s, x, 0);
    dnnl_dims_t cd = { ir->values[x].shape.dims[1] };
    dnnl_memory_desc_init_by_tag(&cm, 1, cd, dnnl_f32, dnnl_a);
    dnnl_primitive_attr_t at = new_attr();
    if (!at) return GRAPH_ERR_NOMEM;
    dnnl_batch_normalization_desc_t bd;
    step *sp;
    DN(dnnl_batch_normalization_forward_desc_init(&bd, dnnl_forward_inference, &s, graph_attr_float(n, "epsilon", 1e-5f),
                                                  dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift),
       "batch norm descriptor");
    if ((st = simple_prim(L, n, &bd, at, &sp))) goto done;
    arg(sp, DNNL_ARG_SRC, &s, x, NULL);
    arg(sp, DNNL_ARG_DST, &s, y, NULL);
    arg(sp, DNNL_ARG_SCALE, &cm, n->in[1], NULL);
    arg(sp, DNNL_ARG_SHIFT, &cm, n->in[2], NULL);
    arg(sp, DNNL_ARG_MEAN, &cm, n->in[3], NULL);
    arg(sp, DNNL_ARG_VARIANCE, &cm, n->in[4], NULL);
done:
    dnnl_primitive_attr_destroy(at);
    return st;
}

static graph_status lower_transpose(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    graph_ir *ir = &L->b->ir;
    int x = in_layout(L, n->in[0], LAYOUT_PLAIN, &st);
    if (x < 0) return st;
    int y = n->out[0];
    set_out(L, y, LAYOUT_PLAIN);
    const graph_shape *xs = &ir->values[x].shape;
    if (!is_float(ir->values[x].dtype) || xs->rank == 0) return lower_ref(L, n);
    set_dt(L, y, ir->values[x].dtype);
    int64_t xst[GRAPH_MAX_RANK];
    graph_shape_strides(xs, xst);
    const int64_t *p;
    int np = graph_attr_ints(n, "perm", &p);
    dnnl_dims_t d, s;
    for (int i = 0; i < xs->rank; i++) {
        int64_t a = np == xs->rank ? p[i] : xs->rank - 1 - i;
        d[i] = xs->dims[a];
        s[i] = xst[a];
    }
    dnnl_memory_desc_t sm, dm;
    dnnl_memory_desc_init_by_strides(&sm, xs->rank, d, dnnl_dt(ir->values[x].dtype), s);
    md_of(L, &dm, y, 0);
    return reorder_step(L, n, &sm, x, &dm, y);
}

/* Reshape-like ops on a plain tensor share its storage. */
static graph_status lower_alias(lctx *L, const graph_node *n)
{
    graph_status st = GRAPH_OK;
    int x = in_layout(L, n->in[0], LAYOUT_PLAIN, &st);
    if (x < 0) return st;
    int y = n->out[0];
    set_out(L, y, LAYOUT_PLAIN);
    set_dt(L, y, L->b->ir.values[x].dtype);
    L->b->rv[y].root = x; /* resolved to the final root by the planner */
    return GRAPH_OK;
}

/* ONNX LSTM (gates i,o,f,c; W [D,4H,I]; B = Wb|Rb) onto oneDNN's LSTM
 * (gates i,f,c,o; weights ldigo; one bias). Y [T,D,N,H] is a reorder of
 * oneDNN's [T,N,D*H] output. */
static graph_status lower_lstm(lctx *L, const graph_node *n)
{
    static const int from_onnx[4] = { 0, 2, 3, 1 }; /* dnnl gate g <- onnx gate */
    graph_status st = GRAPH_OK;
    bucket *b = L->b;
    graph_ir *ir = &b->ir;
    int x = in_f32(L, n->in[0], LAYOUT_PLAIN, &st);
    if (x < 0) return st;
    const graph_shape *xs = &ir->values[x].shape;
    const char *dir = graph_attr_str(n, "direction", "forward");
    int D = !strcmp(dir, "bidirectional") ? 2 : 1;
    dnnl_rnn_direction_t dd = D == 2 ? dnnl_bidirectional_concat
                            : !strcmp(dir, "reverse") ? dnnl_unidirectional_right2left : dnnl_unidirectional_left2right;
    int64_t T = xs->dims[0], N = xs->dims[1], I = xs->dims[2], H = graph_attr_int(n, "hidden_size", 0);
    const float *W = ir->values[n->in[1]].data, *R = ir->values[n->in[2]].data;
    const float *B = n->n_in > 3 && n->in[3] >= 0 ? ir->values[n->in[3]].data : NULL;
    float *wl = malloc((size_t)(D * I * 4 * H) * 4), *wi = malloc((size_t)(D * H * 4 * H) * 4),
          *bias = calloc((size_t)(D * 4 * H), 4);
    dnnl_primitive_attr_t at = new_attr();
    dnnl_primitive_desc_t pd = NULL;
    if (!wl || !wi || !bias || !at) { st = GRAPH_ERR_NOMEM; goto done; }
    for (int64_t d = 0; d < D; d++)
        for (int g = 0; g < 4; g++) {
            int64_t og = from_onnx[g];
            for (int64_t h = 0; h < H; h++) {
                for (int64_t i = 0; i < I; i++)
                    wl[((d * I + i) * 4 + g) * H + h] = W[(d * 4 * H + og * H + h) * I + i];
                for (int64_t i = 0; i < H; i++)
                    wi[((d * H + i) * 4 + g) * H + h] = R[(d * 4 * H + og * H + h) * H + i];
                if (B) bias[(d * 4 + g) * H + h] = B[d * 8 * H + og * H + h] + B[d * 8 * H + 4 * H + og * H + h];
            }
        }
    dnnl_memory_desc_t sl, si, sc, wlp, wip, wla, wia, bm, dl, di, dc;
    dnnl_dims_t d_sl = { T, N, I }, d_it = { 1, D, N, H }, d_wl = { 1, D, I, 4, H }, d_wi = { 1, D, H, 4, H },
                d_b = { 1, D, 4, H }, d_dl = { T, N, D * H };
    dnnl_memory_desc_init_by_tag(&sl, 3, d_sl, dnnl_f32, dnnl_tnc);
    dnnl_memory_desc_init_by_tag(&si, 4, d_it, dnnl_f32, dnnl_ldnc);
    sc = si;
    dnnl_memory_desc_init_by_tag(&wlp, 5, d_wl, dnnl_f32, dnnl_ldigo);
    dnnl_memory_desc_init_by_tag(&wip, 5, d_wi, dnnl_f32, dnnl_ldigo);
    dnnl_memory_desc_init_by_tag(&wla, 5, d_wl, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&wia, 5, d_wi, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bm, 4, d_b, dnnl_f32, dnnl_ldgo);
    dnnl_memory_desc_init_by_tag(&dl, 3, d_dl, dnnl_f32, dnnl_tnc);
    di = si;
    dc = si;
    /* oneDNN wants all four state tensors: absent inputs read zeros, absent
     * outputs go to scratch values */
    graph_shape hs = { .rank = 3, .dims = { D, N, H } };
    int st_v[4] = { n->n_in > 5 ? n->in[5] : -1, n->n_in > 6 ? n->in[6] : -1,
                    n->n_out > 1 ? n->out[1] : -1, n->n_out > 2 ? n->out[2] : -1 };
    for (int i = 0; i < 4; i++) {
        if (st_v[i] >= 0) {
            if (i < 2 && (st_v[i] = in_f32(L, st_v[i], LAYOUT_PLAIN, &st)) < 0) goto done;
            if (i >= 2) set_out(L, st_v[i], LAYOUT_PLAIN);
            continue;
        }
        if (i >= 2) {
            if ((st_v[i] = new_value(L, x, GRAPH_DT_F32, &hs, LAYOUT_PLAIN)) < 0) { st = GRAPH_ERR_NOMEM; goto done; }
            continue;
        }
        if ((st_v[i] = new_const(L, "_lstm_zero", &hs, calloc((size_t)(D * N * H), 4))) < 0) { st = GRAPH_ERR_NOMEM; goto done; }
    }
    int h0 = st_v[0], c0 = st_v[1], yh = st_v[2], yc = st_v[3];
    dnnl_rnn_desc_t rd;
    DN(dnnl_lstm_forward_desc_init(&rd, dnnl_forward_inference, dd, &sl, &si, &sc,
                                   &wla, &wia, &bm, &dl, &di, &dc, 0),
       "LSTM descriptor");
    DN(dnnl_primitive_desc_create(&pd, &rd, at, L->c->engine, NULL), "LSTM");
    const void *pwl, *pwi, *pb;
    if ((st = pack(L, n, wl, &wlp, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &pwl))) goto done;
    if ((st = pack(L, n, wi, &wip, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1), &pwi))) goto done;
    if ((st = pack(L, n, bias, &bm, &bm, &pb))) goto done;
    graph_shape ts = { .rank = 3, .dims = { T, N, D * H } };
    int tmp = new_value(L, x, GRAPH_DT_F32, &ts, LAYOUT_PLAIN);
    if (tmp < 0) { st = GRAPH_ERR_NOMEM; goto done; }
    step *sp = add_step(L, STEP_PRIM);
    if (!sp) { st = GRAPH_ERR_NOMEM; goto done; }
    sp->node = n;
    arg(sp, DNNL_ARG_SRC_LAYER, &sl, x, NULL);
    arg(sp, DNNL_ARG_SRC_ITER, &si, h0, NULL);
    arg(sp, DNNL_ARG_SRC_ITER_C, &sc, c0, NULL);
    arg(sp, DNNL_ARG_WEIGHTS_LAYER, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), -1, pwl);
    arg(sp, DNNL_ARG_WEIGHTS_ITER, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1), -1, pwi);
    arg(sp, DNNL_ARG_BIAS, &bm, -1, pb);
    arg(sp, DNNL_ARG_DST_LAYER, &dl, tmp, NULL);
    arg(sp, DNNL_ARG_DST_ITER, &di, yh, NULL);
    arg(sp, DNNL_ARG_DST_ITER_C, &dc, yc, NULL);
    if ((st = finish_prim(L, n, pd, sp))) goto done;
    if (n->out[0] >= 0) {
        int y = n->out[0];
        set_out(L, y, LAYOUT_PLAIN);
        dnnl_dims_t yd = { T, D, N, H }, ys = { N * D * H, H, D * H, 1 };
        dnnl_memory_desc_t vm, ym;
        dnnl_memory_desc_init_by_strides(&vm, 4, yd, dnnl_f32, ys);
        md_of(L, &ym, y, 0);
        st = reorder_step(L, n, &vm, tmp, &ym, y);
    }
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (at) dnnl_primitive_attr_destroy(at);
    free(wl);
    free(wi);
    free(bias);
    return st;
}

/* Ops that run only as reference kernels (never a oneDNN primitive). */
static int is_ref_only(const graph_node *n)
{
    static const char *prim[] = { "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
                                  "_Elt", "Add", "Sub", "Mul", "Div", "Pow", "Concat", "MatMul", "Gemm",
                                  "Softmax", "LayerNormalization", "ReduceMean", "Resize", "Upsample",
                                  "BatchNormalization", "Transpose", "LSTM" };
    for (size_t i = 0; i < sizeof prim / sizeof *prim; i++)
        if (is_op(n, prim[i])) return 0;
    return 1;
}

/* A run-time input or an output with zero elements (constant inputs, such
 * as Resize's empty roi, are read at compile and do not count). */
static int has_empty_tensor(const graph_ir *ir, const graph_node *n)
{
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && !ir->values[n->in[i]].data &&
            graph_shape_numel(&ir->values[n->in[i]].shape) == 0)
            return 1;
    for (int o = 0; o < n->n_out; o++)
        if (n->out[o] >= 0 && graph_shape_numel(&ir->values[n->out[o]].shape) == 0) return 1;
    return 0;
}

graph_status graph_lower(struct graph_compiled *c, bucket *b, char *err, size_t errlen)
{
    lctx L = { .c = c, .b = b, .err = err, .errlen = errlen };
    graph_status st = grow(&L);
    if (st) {
        for (int k = 0; k < 6; k++) free(L.conv[k]);
        return st;
    }
    if (dnnl_stream_create(&L.strm, c->engine, dnnl_stream_default_flags) != dnnl_success) {
        for (int k = 0; k < 6; k++) free(L.conv[k]);
        return GRAPH_ERR_DNNL;
    }
    graph_ir *ir = &b->ir;
    L.last = malloc((size_t)(ir->n_values + 1) * sizeof(int));
    if (!L.last) st = GRAPH_ERR_NOMEM;
    for (int i = 0; !st && i < ir->n_values; i++) L.last[i] = -1;
    for (int i = 0; !st && i < ir->n_outputs; i++) L.last[ir->outputs[i]] = ir->n_nodes;
    for (int k = ir->n_nodes - 1; !st && k >= 0; k--) {
        const graph_node *n = &ir->nodes[k];
        if (n->dead) continue;
        int alias = is_op(n, "Reshape") || is_op(n, "Flatten") || is_op(n, "Squeeze") ||
                    is_op(n, "Unsqueeze") || is_op(n, "Identity");
        int use = k;
        if (alias && n->out[0] >= 0 && L.last[n->out[0]] > use) use = L.last[n->out[0]];
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] >= 0 && L.last[n->in[i]] < use) L.last[n->in[i]] = use;
        for (int i = 0; i < n->n_post; i++)
            if (n->post[i].kind != GP_ELT && L.last[n->post[i].value] < k) L.last[n->post[i].value] = k;
    }
    for (int i = 0; i < ir->n_inputs; i++) {
        b->rv[ir->inputs[i]].in_arena = 1;
        b->rv[ir->inputs[i]].layout = LAYOUT_PLAIN;
    }
    for (int k = 0; k < ir->n_nodes && !st; k++) {
        const graph_node *n = &ir->nodes[k];
        if (n->dead) continue;
        L.k = k;
        if (!is_ref_only(n) && has_empty_tensor(ir, n)) {
            /* oneDNN 2.6 divides by zero on some empty shapes (a [0,5] MatMul) */
            graph_errf(err, errlen, "%s '%s': a tensor with zero elements is not supported", n->op, n->name);
            st = GRAPH_ERR_UNSUPPORTED;
            break;
        }
        if (graph_deconv_as_conv(n) && const_f32(ir, n->in[1]) && (n->n_in < 3 || n->in[2] < 0 || const_f32(ir, n->in[2])))
            st = lower_deconv_conv(&L, n);
        else if (is_op(n, "Conv") || is_op(n, "ConvTranspose")) st = lower_conv(&L, n);
        else if (is_op(n, "MaxPool") || is_op(n, "AveragePool") || is_op(n, "GlobalAveragePool")) st = lower_pool(&L, n);
        else if (is_op(n, "_Elt")) st = lower_elt(&L, n);
        else if (is_op(n, "Add") || is_op(n, "Sub") || is_op(n, "Mul") || is_op(n, "Div") || is_op(n, "Pow")) st = lower_binary(&L, n);
        else if (is_op(n, "Concat")) st = lower_concat(&L, n);
        else if (is_op(n, "MatMul") || is_op(n, "Gemm")) st = lower_matmul(&L, n);
        else if (is_op(n, "Softmax") || is_op(n, "LayerNormalization")) st = lower_norm_softmax(&L, n);
        else if (is_op(n, "ReduceMean")) st = lower_reduce(&L, n);
        else if (is_op(n, "Resize") || is_op(n, "Upsample")) st = lower_resize(&L, n);
        else if (is_op(n, "BatchNormalization")) st = lower_bn(&L, n);
        else if (is_op(n, "Transpose")) st = lower_transpose(&L, n);
        else if ((is_op(n, "Reshape") || is_op(n, "Flatten") || is_op(n, "Squeeze") ||
                  is_op(n, "Unsqueeze") || is_op(n, "Identity")) && !ir->values[n->in[0]].data)
            st = lower_alias(&L, n);
        else if (is_op(n, "LSTM")) st = lower_lstm(&L, n);
        else {
            graph_view in[16];
            int ni = n->n_in < 16 ? n->n_in : 16;
            for (int i = 0; i < ni; i++) {
                int v = n->in[i];
                in[i] = v >= 0 ? (graph_view){ .dtype = ir->values[v].dtype, .shape = ir->values[v].shape, .data = ir->values[v].data } : (graph_view){ 0 };
            }
            if (!graph_ref_supported(n, in, ni)) {
                graph_errf(err, errlen, "op %s (node '%s') has no implementation for these inputs", n->op, n->name);
                st = GRAPH_ERR_UNSUPPORTED;
            } else st = lower_ref(&L, n);
        }
    }
    /* graph outputs are handed out plain */
    for (int i = 0; i < ir->n_outputs && !st; i++) {
        int v = ir->outputs[i];
        if (!ir->values[v].data && (b->rv[v].layout != LAYOUT_PLAIN || ir->values[v].dtype == GRAPH_DT_BF16)) {
            int nv = in_f32(&L, v, LAYOUT_PLAIN, &st);
            if (nv >= 0) ir->outputs[i] = nv;
        }
    }
    dnnl_stream_destroy(L.strm);
    free(L.last);
    for (int k = 0; k < 6; k++) free(L.conv[k]);
    return st;
}
