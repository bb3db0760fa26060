/* graph_fuse.c - fusion passes on a specialised graph:
 *   - unary activations and scalar-constant arithmetic become "_Elt" nodes
 *     (a list of oneDNN eltwise steps), and chains of them merge;
 *   - x * hardsigmoid(x) in any decomposed form becomes hardswish;
 *   - x + x * hardsigmoid(s) becomes x * (1 + hardsigmoid(s));
 *   - the decomposed LayerNorm pattern becomes LayerNormalization;
 *   - BatchNormalization, and a constant per-channel Add, fold into the
 *     preceding Conv's or ConvTranspose's weights and bias;
 *   - Conv (+ residual Add as the sum post-op) + eltwise chain fuse;
 *   - MatMul/Gemm + eltwise chain, MatMul + constant bias fuse. */
#include "graph_ir.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <oneapi/dnnl/dnnl_types.h>

typedef struct {
    graph_ir *ir;
    int *cons;   /* consumers of each value (graph outputs count as one) */
    int *prod;   /* producing node of each value, -1 for inputs/constants */
} fctx;

static int is_op(const graph_node *n, const char *op) { return strcmp(n->op, op) == 0; }

static graph_status recount(fctx *c)
{
    graph_ir *ir = c->ir;
    free(c->cons);
    free(c->prod);
    c->cons = calloc((size_t)ir->n_values, sizeof(int));
    c->prod = malloc((size_t)ir->n_values * sizeof(int));
    if (!c->cons || !c->prod) return GRAPH_ERR_NOMEM;
    for (int i = 0; i < ir->n_values; i++) c->prod[i] = -1;
    for (int i = 0; i < ir->n_outputs; i++) c->cons[ir->outputs[i]]++;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *n = &ir->nodes[k];
        if (n->dead) continue;
        for (int i = 0; i < n->n_in; i++) if (n->in[i] >= 0) c->cons[n->in[i]]++;
        for (int p = 0; p < n->n_post; p++)
            if (n->post[p].kind != GP_ELT) c->cons[n->post[p].value]++;
        for (int o = 0; o < n->n_out; o++) if (n->out[o] >= 0) c->prod[n->out[o]] = k;
    }
    return GRAPH_OK;
}

static graph_value *V(fctx *c, int v) { return v >= 0 ? &c->ir->values[v] : NULL; }
static int is_const(fctx *c, int v) { return v >= 0 && c->ir->values[v].data != NULL; }

/* the single consumer node of value v, or -1 */
static int sole_consumer(fctx *c, int v)
{
    if (c->cons[v] != 1) return -1;
    graph_ir *ir = c->ir;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *n = &ir->nodes[k];
        if (n->dead) continue;
        for (int i = 0; i < n->n_in; i++) if (n->in[i] == v) return k;
        for (int p = 0; p < n->n_post; p++)
            if (n->post[p].kind != GP_ELT && n->post[p].value == v) return k;
    }
    return -1;
}

static void add_elt(graph_node *n, int alg, float a, float b)
{
    graph_postop *last = n->n_post ? &n->post[n->n_post - 1] : NULL;
    if (last && last->kind == GP_ELT && last->alg == dnnl_eltwise_linear && alg == dnnl_eltwise_linear) {
        /* a*(a1*x + b1) + b == (a*a1)*x + (a*b1 + b) */
        last->beta = a * last->beta + b;
        last->alpha *= a;
        /* an identity left behind a kept op is dropped (never the last one:
         * an _Elt node must still write its output) */
        if (n->n_post > 1 && fabsf(last->alpha - 1.f) <= 1e-6f && last->beta == 0.f) n->n_post--;
        return;
    }
    if (n->n_post >= GRAPH_MAX_POST) return;
    n->post[n->n_post++] = (graph_postop){ .kind = GP_ELT, .alg = alg, .alpha = a, .beta = b };
}

static int set_op(graph_node *n, const char *op)
{
    char *s = strdup(op);
    if (!s) return -1;
    free(n->op);
    n->op = s;
    return 0;
}

/* Pass 1: activations and scalar arithmetic -> _Elt */
static graph_status to_elt(fctx *c)
{
    graph_ir *ir = c->ir;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *n = &ir->nodes[k];
        if (n->dead || n->n_in < 1 || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0) continue;
        if (V(c, n->out[0])->dtype != GRAPH_DT_F32) continue;
        graph_node t = *n;
        t.n_post = 0;
        int x = n->in[0];
        if (is_op(n, "Relu")) add_elt(&t, dnnl_eltwise_relu, 0, 0);
        else if (is_op(n, "Sigmoid")) add_elt(&t, dnnl_eltwise_logistic, 0, 0);
        else if (is_op(n, "Sqrt")) add_elt(&t, dnnl_eltwise_sqrt, 0, 0);
        else if (is_op(n, "HardSwish")) add_elt(&t, dnnl_eltwise_hardswish, 0, 0);
        else if (is_op(n, "HardSigmoid")) {
            add_elt(&t, dnnl_eltwise_linear, graph_attr_float(n, "alpha", 0.2f), graph_attr_float(n, "beta", 0.5f));
            add_elt(&t, dnnl_eltwise_clip_v2, 0, 1);
        } else if (is_op(n, "Clip")) {
            float lo = -FLT_MAX, hi = FLT_MAX;
            const graph_attr *a;
            if ((a = graph_node_attr(n, "min"))) lo = a->f;
            if ((a = graph_node_attr(n, "max"))) hi = a->f;
            if (n->n_in > 1 && n->in[1] >= 0) lo = (float)graph_value_scalar(V(c, n->in[1]));
            if (n->n_in > 2 && n->in[2] >= 0) hi = (float)graph_value_scalar(V(c, n->in[2]));
            if (!(lo <= hi)) continue; /* leave odd clips to the reference path */
            add_elt(&t, dnnl_eltwise_clip_v2, lo, hi);
        } else if (n->n_in == 2 && (is_op(n, "Add") || is_op(n, "Sub") || is_op(n, "Mul") ||
                                    is_op(n, "Div") || is_op(n, "Pow"))) {
            int a = n->in[0], b = n->in[1];
            int ca = is_const(c, a) && graph_shape_numel(&V(c, a)->shape) == 1;
            int cb = is_const(c, b) && graph_shape_numel(&V(c, b)->shape) == 1;
            if (ca == cb) continue;
            graph_value *var = V(c, ca ? b : a), *cst = V(c, ca ? a : b);
            if (!graph_shape_eq(&var->shape, &V(c, n->out[0])->shape)) continue;
            float s = (float)graph_value_scalar(cst);
            x = ca ? b : a;
            if (is_op(n, "Add")) add_elt(&t, dnnl_eltwise_linear, 1, s);
            else if (is_op(n, "Mul")) add_elt(&t, dnnl_eltwise_linear, s, 0);
            else if (is_op(n, "Sub")) add_elt(&t, dnnl_eltwise_linear, ca ? -1.f : 1.f, ca ? s : -s);
            else if (is_op(n, "Div") && cb) add_elt(&t, dnnl_eltwise_linear, 1.f / s, 0);
            else if (is_op(n, "Pow") && cb) add_elt(&t, dnnl_eltwise_pow, 1, s);
            else continue;
        } else continue;
        if (set_op(n, "_Elt")) return GRAPH_ERR_NOMEM;
        n->in[0] = x;
        n->n_in = 1;
        n->n_post = t.n_post;
        memcpy(n->post, t.post, sizeof n->post);
    }
    return recount(c);
}

/* Pass 2: merge _Elt -> _Elt chains */
static graph_status merge_elts(fctx *c)
{
    graph_ir *ir = c->ir;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *n = &ir->nodes[k];
        if (n->dead || !is_op(n, "_Elt")) continue;
        int nx;
        while ((nx = sole_consumer(c, n->out[0])) >= 0) {
            graph_node *m = &ir->nodes[nx];
            if (!is_op(m, "_Elt") || n->n_post + m->n_post > GRAPH_MAX_POST) break;
            for (int p = 0; p < m->n_post; p++) add_elt(n, m->post[p].alg, m->post[p].alpha, m->post[p].beta);
            n->out[0] = m->out[0];
            m->dead = 1;
            graph_status st = recount(c);
            if (st) return st;
        }
    }
    return GRAPH_OK;
}

static float eval_chain(const graph_node *n, float x)
{
    for (int p = 0; p < n->n_post; p++) {
        const graph_postop *o = &n->post[p];
        switch (o->alg) {
        case dnnl_eltwise_linear: x = o->alpha * x + o->beta; break;
        case dnnl_eltwise_clip_v2: x = x < o->alpha ? o->alpha : x > o->beta ? o->beta : x; break;
        case dnnl_eltwise_relu: x = x > 0 ? x : 0; break;
        default: return NAN;
        }
    }
    return x;
}

/* Pass 3: Mul(x, chain(x)) where chain == k * hardsigmoid(1/6, 1/2) ->
 * hardswish (then linear(k)): x * relu6(x + 3) / 6 is the usual export,
 * and the trailing Div(6) merges with linear(6) into nothing. */
static graph_status hardswish(fctx *c)
{
    graph_ir *ir = c->ir;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *n = &ir->nodes[k];
        if (n->dead || !is_op(n, "Mul") || n->n_in != 2) continue;
        for (int side = 0; side < 2; side++) {
            int x = n->in[side], h = n->in[1 - side];
            int pk = h >= 0 ? c->prod[h] : -1;
            if (pk < 0 || c->cons[h] != 1) continue;
            graph_node *e = &ir->nodes[pk];
            if (!is_op(e, "_Elt") || e->in[0] != x) continue;
            float scale = eval_chain(e, 8.f); /* hardsigmoid(8) == 1 */
            int ok = scale == scale && fabsf(scale) > 1e-6f;
            for (float t = -8; t <= 8 && ok; t += 0.25f) {
                float hs = t / 6 + 0.5f;
                hs = hs < 0 ? 0 : hs > 1 ? 1 : hs;
                if (!(fabsf(eval_chain(e, t) - scale * hs) <= 1e-5f * fmaxf(1.f, fabsf(scale)))) ok = 0;
            }
            if (!ok) continue;
            e->dead = 1;
            if (set_op(n, "_Elt")) return GRAPH_ERR_NOMEM;
            n->in[0] = x;
            n->n_in = 1;
            n->n_post = 0;
            add_elt(n, dnnl_eltwise_hardswish, 0, 0);
            if (scale != 1.f) add_elt(n, dnnl_eltwise_linear, scale, 0);
            graph_status st = recount(c);
            if (st) return st;
            break;
        }
    }
    return merge_elts(c);
}

/* Pass 3b: x + x * g(s), g ending in clip(lo, hi) after linear(a, b) (a
 * hardsigmoid: the squeeze-excite residual of Paddle's RSE layers) ->
 * x * g'(s), g' ending in linear(a, b + 1), clip(lo + 1, hi + 1): one
 * full-size binary op fewer. */
static graph_status se_residual(fctx *c)
{
    graph_ir *ir = c->ir;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *ad = &ir->nodes[k];
        if (ad->dead || !is_op(ad, "Add") || ad->n_in != 2) continue;
        for (int side = 0; side < 2; side++) {
            int mv = ad->in[side], x = ad->in[1 - side];
            int mk = mv >= 0 ? c->prod[mv] : -1;
            if (mk < 0 || c->cons[mv] != 1 || x < 0 || is_const(c, x)) continue;
            graph_node *mu = &ir->nodes[mk];
            if (!is_op(mu, "Mul") || mu->n_in != 2 || (mu->in[0] != x && mu->in[1] != x)) continue;
            int h = mu->in[0] == x ? mu->in[1] : mu->in[0];
            int ek = h >= 0 ? c->prod[h] : -1;
            if (ek < 0 || h == x || c->cons[h] != 1) continue;
            graph_node *e = &ir->nodes[ek];
            if (!is_op(e, "_Elt") || e->n_post < 2) continue;
            graph_postop *lin = &e->post[e->n_post - 2], *clip = &e->post[e->n_post - 1];
            if (lin->alg != dnnl_eltwise_linear || clip->alg != dnnl_eltwise_clip_v2) continue;
            if (!graph_shape_eq(&V(c, x)->shape, &V(c, ad->out[0])->shape) ||
                !graph_shape_eq(&V(c, mv)->shape, &V(c, ad->out[0])->shape))
                continue;
            lin->beta += 1.f;
            clip->alpha += 1.f;
            clip->beta += 1.f;
            mu->out[0] = ad->out[0];
            ad->dead = 1;
            graph_status st = recount(c);
            if (st) return st;
            break;
        }
    }
    return GRAPH_OK;
}

static int last_axis_mean(fctx *c, int v, int *src)
{
    int pk = v >= 0 ? c->prod[v] : -1;
    if (pk < 0) return 0;
    graph_node *r = &c->ir->nodes[pk];
    if (!is_op(r, "ReduceMean") || graph_attr_int(r, "keepdims", 1) != 1) return 0;
    const int64_t *red;
    int cnt = graph_attr_ints(r, "_red", &red);
    for (int i = 0; i < cnt; i++)
        if (red[i] != (i == cnt - 1)) return 0;
    *src = r->in[0];
    return 1;
}

static int add_const_f32(fctx *c, const char *name, const float *d, int64_t cnt)
{
    int v = graph_ir_add_value(c->ir, name);
    if (v < 0) return -1;
    graph_value *gv = &c->ir->values[v];
    gv->dtype = GRAPH_DT_F32;
    gv->shape.rank = 1;
    gv->shape.dims[0] = cnt;
    gv->data = malloc((size_t)cnt * 4);
    if (!gv->data) return -1;
    gv->owns_data = 1;
    memcpy(gv->data, d, (size_t)cnt * 4);
    return v;
}

static int const_vec(fctx *c, int v, int64_t C)
{
    if (!is_const(c, v) || V(c, v)->dtype != GRAPH_DT_F32) return 0;
    graph_value *g = V(c, v);
    if (graph_shape_numel(&g->shape) != C) return 0;
    return g->shape.rank == 0 || g->shape.dims[g->shape.rank - 1] == C;
}

/* Pass 4: decomposed LayerNorm -> LayerNormalization */
static graph_status layernorm(fctx *c)
{
    graph_ir *ir = c->ir;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *dv = &ir->nodes[k];
        if (dv->dead || !is_op(dv, "Div") || dv->n_in != 2) continue;
        int d = dv->in[0], s = dv->in[1];
        int sk = c->prod[s];
        if (sk < 0 || !is_op(&ir->nodes[sk], "_Elt") || c->cons[s] != 1) continue;
        graph_node *se = &ir->nodes[sk];
        if (se->n_post != 2 || se->post[0].alg != dnnl_eltwise_linear || se->post[0].alpha != 1 ||
            se->post[1].alg != dnnl_eltwise_sqrt)
            continue;
        float eps = se->post[0].beta;
        int var_in, pv = se->in[0];
        if (!last_axis_mean(c, pv, &var_in) || c->cons[pv] != 1) continue;
        int pk = c->prod[var_in];
        if (pk < 0 || c->cons[var_in] != 1) continue;
        graph_node *pw = &ir->nodes[pk];
        int sq = (is_op(pw, "_Elt") && pw->n_post == 1 && pw->post[0].alg == dnnl_eltwise_pow &&
                  pw->post[0].alpha == 1 && pw->post[0].beta == 2 && pw->in[0] == d) ||
                 (is_op(pw, "Mul") && pw->in[0] == d && pw->in[1] == d);
        if (!sq) continue;
        int dk = c->prod[d];
        if (dk < 0 || c->cons[d] != 2 || !is_op(&ir->nodes[dk], "Sub")) continue;
        graph_node *sub = &ir->nodes[dk];
        int x = sub->in[0], m = sub->in[1], xm;
        if (!last_axis_mean(c, m, &xm) || xm != x || c->cons[m] != 1) continue;
        graph_value *xv = V(c, x);
        if (xv->dtype != GRAPH_DT_F32 || xv->shape.rank < 2) continue;
        int64_t C = xv->shape.dims[xv->shape.rank - 1];
        /* absorb a following Mul(gamma) and Add(beta) */
        float *gamma = malloc((size_t)C * 4), *beta = calloc((size_t)C, 4);
        if (!gamma || !beta) { free(gamma); free(beta); return GRAPH_ERR_NOMEM; }
        for (int64_t i = 0; i < C; i++) gamma[i] = 1;
        int out = dv->out[0], nk;
        if ((nk = sole_consumer(c, out)) >= 0 && is_op(&ir->nodes[nk], "Mul")) {
            graph_node *mu = &ir->nodes[nk];
            int g = mu->in[0] == out ? mu->in[1] : mu->in[0];
            if (const_vec(c, g, C)) {
                memcpy(gamma, V(c, g)->data, (size_t)C * 4);
                mu->dead = 1;
                out = mu->out[0];
                graph_status st = recount(c);
                if (st) { free(gamma); free(beta); return st; }
                if ((nk = sole_consumer(c, out)) >= 0 && is_op(&ir->nodes[nk], "Add")) {
                    graph_node *ad = &ir->nodes[nk];
                    int b = ad->in[0] == out ? ad->in[1] : ad->in[0];
                    if (const_vec(c, b, C)) {
                        memcpy(beta, V(c, b)->data, (size_t)C * 4);
                        ad->dead = 1;
                        out = ad->out[0];
                    }
                }
            }
        }
        int gv = add_const_f32(c, "_ln_gamma", gamma, C);
        int bv = gv < 0 ? -1 : add_const_f32(c, "_ln_beta", beta, C);
        free(gamma);
        free(beta);
        if (gv < 0 || bv < 0) return GRAPH_ERR_NOMEM;
        dv = &ir->nodes[k];
        ir->nodes[c->prod[m]].dead = 1;
        ir->nodes[dk].dead = 1;
        ir->nodes[pk].dead = 1;
        ir->nodes[c->prod[pv]].dead = 1;
        ir->nodes[sk].dead = 1;
        if (set_op(dv, "LayerNormalization")) return GRAPH_ERR_NOMEM;
        int *in = realloc(dv->in, 3 * sizeof(int));
        if (!in) return GRAPH_ERR_NOMEM;
        dv->in = in;
        dv->in[0] = x;
        dv->in[1] = gv;
        dv->in[2] = bv;
        dv->n_in = 3;
        dv->out[0] = out;
        /* epsilon travels as a post-op slot so no attribute allocation is needed */
        dv->n_post = 0;
        graph_attr *na = realloc(dv->attrs, (size_t)(dv->n_attr + 1) * sizeof *na);
        if (!na) return GRAPH_ERR_NOMEM;
        dv->attrs = na;
        memset(&na[dv->n_attr], 0, sizeof *na);
        na[dv->n_attr].name = strdup("epsilon");
        na[dv->n_attr].type = GA_FLOAT;
        na[dv->n_attr].f = eps;
        if (!na[dv->n_attr].name) return GRAPH_ERR_NOMEM;
        dv->n_attr++;
        graph_status st = recount(c);
        if (st) return st;
    }
    return GRAPH_OK;
}

/* output channels of conv node k by its weights */
static int64_t conv_oc(fctx *c, int k)
{
    const graph_node *cv = &c->ir->nodes[k];
    const graph_shape *ws = &V(c, cv->in[1])->shape;
    if (ws->rank < 2) return -1;
    return is_op(cv, "ConvTranspose") ? ws->dims[1] * graph_attr_int(cv, "group", 1) : ws->dims[0];
}

/* Gives conv node k (Conv or ConvTranspose) new constant weights (nw,
 * shaped as its old ones; NULL keeps them) and bias (nb, one per output
 * channel; NULL keeps the node's bias as it is); takes ownership of nw,
 * frees nb. */
static graph_status set_conv_wb(fctx *c, int k, float *nw, float *nb, const char *tag)
{
    graph_ir *ir = c->ir;
    char name[32];
    graph_shape ws = V(c, ir->nodes[k].in[1])->shape;
    if (nw) {
        snprintf(name, sizeof name, "%s_w", tag);
        int wv = graph_ir_add_value(ir, name);
        if (wv < 0) { free(nw); free(nb); return GRAPH_ERR_NOMEM; }
        ir->values[wv].dtype = GRAPH_DT_F32;
        ir->values[wv].shape = ws;
        ir->values[wv].data = nw;
        ir->values[wv].owns_data = 1;
        ir->nodes[k].in[1] = wv;
    }
    if (!nb) return GRAPH_OK;
    snprintf(name, sizeof name, "%s_b", tag);
    int bv = add_const_f32(c, name, nb, conv_oc(c, k));
    free(nb);
    if (bv < 0) return GRAPH_ERR_NOMEM;
    graph_node *cv = &ir->nodes[k];
    if (cv->n_in < 3) {
        int *in = realloc(cv->in, 3 * sizeof(int));
        if (!in) return GRAPH_ERR_NOMEM;
        cv->in = in;
        cv->n_in = 3;
    }
    cv->in[2] = bv;
    return GRAPH_OK;
}

/* Node k's (Conv or ConvTranspose, constant f32 weights) weights with
 * every output channel o scaled by sc[o]. ONNX lays Conv weights out
 * [OC][IC/G][kh][kw] and ConvTranspose weights [IC][OC/G][kh][kw]. */
/* (sc: conv_oc(c, k) scales) */
static float *scaled_weights(fctx *c, int k, const float *sc, int64_t n_sc)
{
    graph_node *cv = &c->ir->nodes[k];
    graph_value *w = V(c, cv->in[1]);
    int tr = is_op(cv, "ConvTranspose");
    int64_t G = graph_attr_int(cv, "group", 1);
    int64_t n = graph_shape_numel(&w->shape), d0 = w->shape.dims[0], d1 = w->shape.dims[1];
    int64_t khw = n / (d0 * d1);
    float *nw = malloc((size_t)n * 4);
    if (!nw) return NULL;
    const float *ow = w->data;
    for (int64_t i = 0; i < d0; i++)
        for (int64_t j = 0; j < d1; j++) {
            /* the output channel of weight row (i, j) */
            int64_t o = tr ? i / (d0 / G) * d1 + j : i;
            if (o < 0 || o >= n_sc) { free(nw); return NULL; }
            for (int64_t t = 0; t < khw; t++)
                nw[(i * d1 + j) * khw + t] = ow[(i * d1 + j) * khw + t] * sc[o];
        }
    return nw;
}

static int const_conv(fctx *c, int k, const char *op)
{
    const graph_node *n = &c->ir->nodes[k];
    return is_op(n, op) && n->n_in >= 2 && is_const(c, n->in[1]) &&
           V(c, n->in[1])->dtype == GRAPH_DT_F32 &&
           (n->n_in < 3 || n->in[2] < 0 || is_const(c, n->in[2]));
}

int graph_deconv_as_conv(const graph_node *n)
{
    const int64_t *k, *s, *d, *p, *op;
    if (!is_op(n, "ConvTranspose") || graph_attr_int(n, "group", 1) != 1 ||
        graph_attr_ints(n, "_k", &k) != 2 || graph_attr_ints(n, "_s", &s) != 2 ||
        graph_attr_ints(n, "_d", &d) != 2 || graph_attr_ints(n, "_p", &p) != 4)
        return 0;
    int nop = graph_attr_ints(n, "output_padding", &op);
    if (nop > 0 && (nop != 2 || op[0] || op[1])) return 0;
    return k[0] == 2 && k[1] == 2 && s[0] == 2 && s[1] == 2 && d[0] == 1 && d[1] == 1 &&
           !p[0] && !p[1] && !p[2] && !p[3];
}

/* Conv, or a ConvTranspose that lowers to one: weights and bias take
 * per-channel folds */
static int conv_like(fctx *c, int k)
{
    return const_conv(c, k, "Conv") ||
           (const_conv(c, k, "ConvTranspose") && graph_deconv_as_conv(&c->ir->nodes[k]));
}

/* The constant operand of Add node k when it is one value per channel of
 * the other operand ([1,]C,1,..,1 against an [N,C,...] tensor of the
 * output's shape), and which input that other operand is; NULL if not. */
static const float *channel_addend(fctx *c, int k, int *var)
{
    const graph_node *ad = &c->ir->nodes[k];
    if (!is_op(ad, "Add") || ad->n_in != 2) return NULL;
    int side = is_const(c, ad->in[0]) ? 1 : 0;
    const graph_value *a = V(c, ad->in[1 - side]), *x = V(c, ad->in[side]);
    if (!is_const(c, ad->in[1 - side]) || is_const(c, ad->in[side]) ||
        a->dtype != GRAPH_DT_F32 || x->shape.rank < 2 ||
        !graph_shape_eq(&V(c, ad->out[0])->shape, &x->shape))
        return NULL;
    int64_t C = x->shape.dims[1];
    int lead = a->shape.rank - (x->shape.rank - 1);
    if (graph_shape_numel(&a->shape) != C || (lead != 0 && lead != 1) ||
        (lead && a->shape.dims[0] != 1) || a->shape.dims[lead] != C)
        return NULL;
    *var = side;
    return a->data;
}

/* Pass 5: BatchNormalization, and an Add of one constant per channel,
 * fold into the node before them:
 *   Conv (or a ConvTranspose that lowers to one) -> BN / Add: weights and
 *   bias;
 *   another ConvTranspose -> Add -> BN (Paddle's export): the scale into
 *   the deconvolution's weights, the shift into the Add's constant. Its
 *   bias stays a separate Add: oneDNN 2.6's bf16 deconvolution with a
 *   bias is 50x slower than without (measured, 89 ms against 1.7 ms at
 *   24x480x480). */
static graph_status fold_bn(fctx *c)
{
    graph_ir *ir = c->ir;
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *bn = &ir->nodes[k];
        if (bn->dead) continue;
        int av = 0;
        const float *bias_add = channel_addend(c, k, &av);
        if (bias_add) {
            /* Conv -> Add(per-channel constant): the conv's bias */
            int x = bn->in[av], pk = c->prod[x];
            if (pk < 0 || c->cons[x] != 1 || !conv_like(c, pk)) continue;
            int64_t OC = V(c, x)->shape.dims[1];
            if (conv_oc(c, pk) != OC) continue;
            float *nb = malloc((size_t)OC * 4);
            if (!nb) return GRAPH_ERR_NOMEM;
            const graph_node *cv = &ir->nodes[pk];
            const float *ob = cv->n_in > 2 && cv->in[2] >= 0 ? V(c, cv->in[2])->data : NULL;
            for (int64_t o = 0; o < OC; o++) nb[o] = (ob ? ob[o] : 0.f) + bias_add[o];
            graph_status st = set_conv_wb(c, pk, NULL, nb, "_bias");
            if (st) return st;
            ir->nodes[pk].out[0] = ir->nodes[k].out[0];
            ir->nodes[k].dead = 1;
            if ((st = recount(c))) return st;
            continue;
        }
        if (!is_op(bn, "BatchNormalization")) continue;
        int x = bn->in[0], pk = c->prod[x], ck = -1, var = 0;
        const float *addend = NULL;
        if (pk < 0 || c->cons[x] != 1) continue;
        if (conv_like(c, pk)) ck = pk;
        else if ((addend = channel_addend(c, pk, &var))) {
            int d = ir->nodes[pk].in[var];
            int dk = c->prod[d];
            /* (a deconvolution without a bias of its own) */
            if (dk >= 0 && c->cons[d] == 1 && const_conv(c, dk, "ConvTranspose") &&
                (ir->nodes[dk].n_in < 3 || ir->nodes[dk].in[2] < 0))
                ck = dk;
        }
        int64_t OC = V(c, x)->shape.dims[1];
        if (ck < 0 || conv_oc(c, ck) != OC) continue;
        const float *g = V(c, bn->in[1])->data, *be = V(c, bn->in[2])->data,
                    *mu = V(c, bn->in[3])->data, *va = V(c, bn->in[4])->data;
        float eps = graph_attr_float(bn, "epsilon", 1e-5f);
        float *sc = malloc((size_t)OC * 4), *nb = malloc((size_t)OC * 4);
        if (!sc || !nb) { free(sc); free(nb); return GRAPH_ERR_NOMEM; }
        const graph_node *cv = &ir->nodes[ck];
        const float *ob = cv->n_in > 2 && cv->in[2] >= 0 ? V(c, cv->in[2])->data : NULL;
        for (int64_t o = 0; o < OC; o++) {
            sc[o] = g[o] / sqrtf(va[o] + eps);
            float b0 = addend ? addend[o] : ob ? ob[o] : 0.f;
            nb[o] = (b0 - mu[o]) * sc[o] + be[o];
        }
        float *nw = scaled_weights(c, ck, sc, OC);
        free(sc);
        if (!nw) { free(nb); return GRAPH_ERR_NOMEM; }
        graph_status st;
        if (!addend) {
            st = set_conv_wb(c, ck, nw, nb, "_bn");
            if (st) return st;
            ir->nodes[ck].out[0] = ir->nodes[k].out[0];
        } else {
            /* new weights for the deconvolution, the shift as the Add's
             * constant */
            int bv = add_const_f32(c, "_bn_shift", nb, OC);
            free(nb);
            if (bv < 0) { free(nw); return GRAPH_ERR_NOMEM; }
            if ((st = set_conv_wb(c, ck, nw, NULL, "_bn"))) return st;
            graph_node *ad = &ir->nodes[pk];
            /* the shift's shape: OC along axis 1 of the output */
            graph_value *sv = &ir->values[bv];
            sv->shape = V(c, ad->in[1 - var])->shape;
            ad->in[1 - var] = bv;
            ad->out[0] = ir->nodes[k].out[0];
        }
        ir->nodes[k].dead = 1;
        if ((st = recount(c))) return st;
    }
    return GRAPH_OK;
}

/* oneDNN 2.6 trap (measured, brgconv and brdgmm): a post-op chain with two
 * eltwise post-ops of one algorithm but different alpha/beta computes the
 * second with the first one's parameters ([linear(a), relu, linear(b)] is
 * wrong by 20 on unit-scale data). Such chains are left unfused. */
static int chain_ok(const graph_node *n)
{
    for (int i = 0; i < n->n_post; i++)
        for (int j = i + 1; j < n->n_post; j++) {
            const graph_postop *a = &n->post[i], *b = &n->post[j];
            if (a->kind == GP_ELT && b->kind == GP_ELT && a->alg == b->alg &&
                (a->alpha != b->alpha || a->beta != b->beta))
                return 0;
        }
    return 1;
}

/* Whether the chain of _Elt e can join n's post-ops, the first `skip` of
 * e's post-ops being folded into n's weights instead. */
static int elt_ok_for(const graph_node *n, const graph_node *e, int skip)
{
    /* a deconvolution with any post-op is 40-300x slower (notes; measured
     * here 90 ms against 1.7 ms in bf16); one that lowers to a 1x1
     * convolution takes them */
    if (is_op(n, "ConvTranspose") && !graph_deconv_as_conv(n)) return 0;
    if (n->n_post + e->n_post - skip > GRAPH_MAX_POST) return 0;
    /* a logistic post-op costs more than a separate pass (measured: the
     * detector's last 1x1 conv with it 3.8 ms f32 / 2.3 ms bf16, without
     * it and a separate logistic 1.1 / 0.6 ms) */
    for (int p = skip; p < e->n_post; p++)
        if (e->post[p].alg == dnnl_eltwise_logistic) return 0;
    graph_node t = *n;
    for (int p = skip; p < e->n_post; p++) add_elt(&t, e->post[p].alg, e->post[p].alpha, e->post[p].beta);
    return chain_ok(&t);
}

/* Conv (or a ConvTranspose that lowers to one) followed by linear(a, b):
 * the same conv with weights * a and bias * a + b (exact up to rounding;
 * it also keeps the chain after it free of a second linear, see
 * chain_ok). */
static graph_status fold_linear(fctx *c, int k, float a, float b)
{
    graph_ir *ir = c->ir;
    graph_node *cv = &ir->nodes[k];
    int64_t OC = conv_oc(c, k);
    if (OC < 1) return GRAPH_ERR_SHAPE;
    float *sc = malloc((size_t)OC * 4), *nb = malloc((size_t)OC * 4);
    if (!sc || !nb) { free(sc); free(nb); return GRAPH_ERR_NOMEM; }
    const float *ob = cv->n_in > 2 && cv->in[2] >= 0 ? V(c, cv->in[2])->data : NULL;
    for (int64_t o = 0; o < OC; o++) {
        sc[o] = a;
        nb[o] = (ob ? ob[o] : 0.f) * a + b;
    }
    float *nw = scaled_weights(c, k, sc, OC);
    free(sc);
    if (!nw) { free(nb); return GRAPH_ERR_NOMEM; }
    return set_conv_wb(c, k, nw, nb, "_lin");
}

/* Pass 6: Conv + residual Add (sum) and eltwise post-ops; MatMul/Gemm too */
static graph_status post_ops(fctx *c)
{
    graph_ir *ir = c->ir;
    const char *dbg = getenv("GRAPH_DEBUG_SKIP");
    if (!dbg) dbg = "";
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *n = &ir->nodes[k];
        if (n->dead) continue;
        int conv = is_op(n, "Conv"), mm = is_op(n, "MatMul") || is_op(n, "Gemm");
        if (!conv && !mm && !is_op(n, "ConvTranspose")) continue;
        for (;;) {
            n = &ir->nodes[k];
            int out = n->out[0], nx = sole_consumer(c, out);
            if (nx < 0) break;
            graph_node *m = &ir->nodes[nx];
            int has_sum = 0;
            for (int p = 0; p < n->n_post; p++) has_sum |= n->post[p].kind == GP_SUM;
            int fold = conv_like(c, k) && is_op(m, "_Elt") && !n->n_post && m->n_post &&
                       m->post[0].alg == dnnl_eltwise_linear;
            if (fold && m->n_post > 1 && !elt_ok_for(n, m, 1) && !(conv && strchr(dbg, 'c'))) {
                /* the rest of the chain stays apart (a logistic): its
                 * leading linear still folds into the weights */
                graph_status fs = fold_linear(c, k, m->post[0].alpha, m->post[0].beta);
                if (fs) return fs;
                m = &ir->nodes[nx];
                memmove(m->post, m->post + 1, (size_t)(m->n_post - 1) * sizeof m->post[0]);
                m->n_post--;
                if ((fs = recount(c))) return fs;
                break;
            }
            if (is_op(m, "_Elt") && elt_ok_for(n, m, fold) && !(mm && strchr(dbg, 'm')) && !(conv && strchr(dbg, 'c'))) {
                if (fold) {
                    graph_status fs = fold_linear(c, k, m->post[0].alpha, m->post[0].beta);
                    if (fs) return fs;
                    n = &ir->nodes[k];
                    m = &ir->nodes[nx];
                }
                for (int p = fold; p < m->n_post; p++) add_elt(n, m->post[p].alg, m->post[p].alpha, m->post[p].beta);
            } else if (conv && !has_sum && !strchr(dbg, 's') && n->n_post < GRAPH_MAX_POST && is_op(m, "Add") && m->n_in == 2) {
                int o = m->in[0] == out ? m->in[1] : m->in[0];
                if (o == out || is_const(c, o)) break;
                if (!graph_shape_eq(&V(c, o)->shape, &V(c, out)->shape)) break;
                if (c->prod[o] > k) break; /* the addend must exist before the conv runs */
                n->post[n->n_post++] = (graph_postop){ .kind = GP_SUM, .value = o };
            } else if (mm && !strchr(dbg, 'a') && n->n_post < GRAPH_MAX_POST && is_op(m, "Add") && m->n_in == 2) {
                int o = m->in[0] == out ? m->in[1] : m->in[0];
                graph_shape bs;
                if (o == out || !is_const(c, o)) break;
                if (!graph_broadcast(&V(c, out)->shape, &V(c, o)->shape, &bs) ||
                    !graph_shape_eq(&bs, &V(c, out)->shape))
                    break;
                n->post[n->n_post++] = (graph_postop){ .kind = GP_BIN_ADD, .value = o };
            } else break;
            n->out[0] = m->out[0];
            m->dead = 1;
            graph_status st = recount(c);
            if (st) return st;
        }
    }
    return GRAPH_OK;
}

graph_status graph_fuse(graph_ir *ir, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    fctx c = { .ir = ir };
    if (getenv("GRAPH_DEBUG_NO_FUSE")) return GRAPH_OK;
    graph_status st = recount(&c);
    if (!st) st = to_elt(&c);
    if (!st) st = merge_elts(&c);
    const char *skip = getenv("GRAPH_DEBUG_SKIP");
    if (!skip) skip = "";
    if (!st && !strchr(skip, 'h')) st = hardswish(&c);
    if (!st && !strchr(skip, 'r')) st = se_residual(&c);
    if (!st && !strchr(skip, 'l')) st = layernorm(&c);
    if (!st && !strchr(skip, 'b')) st = fold_bn(&c);
    if (!st && !strchr(skip, 'p')) st = post_ops(&c);
    if (getenv("GRAPH_DEBUG_DUMP"))
        for (int k = 0; k < ir->n_nodes; k++) {
            graph_node *n = &ir->nodes[k];
            if (n->dead || !n->n_post) continue;
            fprintf(stderr, "%s %s:", n->op, n->name);
            for (int p = 0; p < n->n_post; p++)
                fprintf(stderr, " [%d alg=%x %g %g v=%d]", n->post[p].kind, n->post[p].alg, n->post[p].alpha, n->post[p].beta, n->post[p].value);
            fprintf(stderr, "\n");
        }
    free(c.cons);
    free(c.prod);
    return st;
}
