/* graph_shape.c - specialise a graph for fixed input shapes: infer every
 * shape, fold every node whose inputs are all constant (Shape is always
 * constant once shapes are fixed), and drop nodes no output needs. Anything
 * outside what the runtime implements is refused here, naming op and
 * attribute, so an unsupported model never produces a wrong answer. */
#include "graph_ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UNSUP(...) do { graph_errf(err, errlen, __VA_ARGS__); return GRAPH_ERR_UNSUPPORTED; } while (0)
#define BAD(...) do { graph_errf(err, errlen, __VA_ARGS__); return GRAPH_ERR_SHAPE; } while (0)

static int is_op(const graph_node *n, const char *op) { return strcmp(n->op, op) == 0; }

static graph_value *IN(graph_ir *ir, const graph_node *n, int i)
{
    return i < n->n_in && n->in[i] >= 0 ? &ir->values[n->in[i]] : NULL;
}

static int set_attr_ints(graph_node *n, const char *name, const int64_t *v, int cnt)
{
    /* inference may run again on a node: the value is replaced, not shadowed */
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attrs[i].name, name) && n->attrs[i].type == GA_INTS) {
            int64_t *p = malloc((size_t)cnt * 8 + 8);
            if (!p) return -1;
            memcpy(p, v, (size_t)cnt * 8);
            free(n->attrs[i].ints);
            n->attrs[i].ints = p;
            n->attrs[i].n = cnt;
            return 0;
        }
    graph_attr *na = realloc(n->attrs, (size_t)(n->n_attr + 1) * sizeof *na);
    if (!na) return -1;
    n->attrs = na;
    graph_attr *a = &n->attrs[n->n_attr];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = GA_INTS;
    a->n = cnt;
    a->ints = malloc((size_t)cnt * 8 + 8);
    if (!a->name || !a->ints) return -1;
    memcpy(a->ints, v, (size_t)cnt * 8);
    n->n_attr++;
    return 0;
}

static int is_float(int dt) { return dt == GRAPH_DT_F32; }

/* a * b for dims >= 0, saturating at INT64_MAX: a product of a forged
 * shape never wraps into a plausible size. */
static int64_t mul_sat(int64_t a, int64_t b)
{
    if (a < 0 || b < 0) return -1;
    return b && a > INT64_MAX / b ? INT64_MAX : a * b;
}

/* floor(d * scale) as a dim; -1 (refused later) when not finite or huge. */
static int64_t scaled_dim(int64_t d, float scale)
{
    double v = floor((double)d * scale);
    return v >= 0 && v <= (double)((int64_t)1 << 40) ? (int64_t)v : -1;
}

/* axes from attribute (old opsets) or from a constant input (new opsets) */
static int get_axes(graph_ir *ir, graph_node *n, int input, int64_t *axes,
                    char *err, size_t errlen, int *ok)
{
    const int64_t *a;
    int cnt = graph_attr_ints(n, "axes", &a);
    *ok = 1;
    if (cnt >= 0) {
        if (cnt > GRAPH_MAX_RANK) {
            graph_errf(err, errlen, "%s '%s': more than %d axes", n->op, n->name, GRAPH_MAX_RANK);
            *ok = 0;
            return -1;
        }
        memcpy(axes, a, (size_t)cnt * 8);
        return cnt;
    }
    graph_value *v = IN(ir, n, input);
    if (!v) return -1; /* absent */
    if (!v->data) {
        graph_errf(err, errlen, "%s '%s': axes must be constant", n->op, n->name);
        *ok = 0;
        return -1;
    }
    cnt = graph_value_ints(v, axes, GRAPH_MAX_RANK);
    if (cnt < 0) *ok = 0;
    return cnt;
}

static graph_status pool_like(graph_node *n, const graph_shape *x, const graph_shape *w,
                              int transposed, graph_shape *y, char *err, size_t errlen)
{
    /* w: kernel spatial dims come from kernel_shape or the weights tensor */
    int sp = x->rank - 2;
    if (sp != 2) UNSUP("%s '%s': only 2-D spatial inputs are supported (got rank %d)",
                       n->op, n->name, x->rank);
    int64_t k[2], s[2] = { 1, 1 }, d[2] = { 1, 1 }, p[4] = { 0, 0, 0, 0 }, op_[2] = { 0, 0 };
    const int64_t *a;
    int c = graph_attr_ints(n, "kernel_shape", &a);
    if (c == 2) { k[0] = a[0]; k[1] = a[1]; }
    else if (w) { k[0] = w->dims[2]; k[1] = w->dims[3]; }
    else UNSUP("%s '%s': kernel_shape missing", n->op, n->name);
    if (graph_attr_ints(n, "strides", &a) == 2) { s[0] = a[0]; s[1] = a[1]; }
    if (graph_attr_ints(n, "dilations", &a) == 2) { d[0] = a[0]; d[1] = a[1]; }
    if (graph_attr_ints(n, "pads", &a) == 4) memcpy(p, a, sizeof p);
    if (graph_attr_ints(n, "output_padding", &a) == 2) { op_[0] = a[0]; op_[1] = a[1]; }
    if (graph_node_attr(n, "output_shape")) UNSUP("%s '%s': attribute output_shape is not supported", n->op, n->name);
    const char *ap = graph_attr_str(n, "auto_pad", "NOTSET");
    int64_t ceil_mode = graph_attr_int(n, "ceil_mode", 0);
    if (graph_attr_int(n, "storage_order", 0)) UNSUP("%s '%s': storage_order=1 is not supported", n->op, n->name);
    for (int i = 0; i < 2; i++) {
        if (k[i] < 1 || s[i] < 1 || d[i] < 1) BAD("%s '%s': bad kernel/stride/dilation", n->op, n->name);
        /* bounded so that no window arithmetic below can overflow */
        const int64_t lim = (int64_t)1 << 20;
        if (k[i] > lim || s[i] > lim || d[i] > lim || p[i] < -lim || p[i] > lim || p[i + 2] < -lim ||
            p[i + 2] > lim || op_[i] < -lim || op_[i] > lim)
            BAD("%s '%s': kernel, stride, dilation or pad over 2^20", n->op, n->name);
        int64_t in = x->dims[2 + i], ek = (k[i] - 1) * d[i] + 1;
        if (transposed) {
            if (strcmp(ap, "NOTSET") != 0) UNSUP("%s '%s': auto_pad=%s is not supported", n->op, n->name, ap);
            y->dims[2 + i] = s[i] * (in - 1) + op_[i] + ek - p[i] - p[i + 2];
            if (p[i + 2] - op_[i] < 0) UNSUP("%s '%s': output_padding larger than end pad is not supported", n->op, n->name);
            continue;
        }
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            int64_t o = (in + s[i] - 1) / s[i];
            int64_t tot = (o - 1) * s[i] + ek - in;
            if (tot < 0) tot = 0;
            int64_t lo = !strcmp(ap, "SAME_UPPER") ? tot / 2 : tot - tot / 2;
            p[i] = lo;
            p[i + 2] = tot - lo;
        } else if (!strcmp(ap, "VALID")) {
            p[i] = p[i + 2] = 0;
        } else if (strcmp(ap, "NOTSET") != 0) {
            UNSUP("%s '%s': auto_pad=%s is not supported", n->op, n->name, ap);
        }
        int64_t num = in + p[i] + p[i + 2] - ek;
        if (num < 0) BAD("%s '%s': kernel larger than padded input", n->op, n->name);
        int64_t o = ceil_mode ? (num + s[i] - 1) / s[i] + 1 : num / s[i] + 1;
        /* ceil mode: the last window must start inside the input or left pad */
        if (ceil_mode && (o - 1) * s[i] >= in + p[i]) o--;
        if (ceil_mode) {
            /* extend the end pad so oneDNN computes the same number of windows */
            int64_t need = (o - 1) * s[i] + ek - in - p[i];
            if (need > p[i + 2]) p[i + 2] = need;
        }
        y->dims[2 + i] = o;
    }
    int64_t r[4] = { k[0], k[1], 0, 0 };
    if (set_attr_ints(n, "_k", r, 2) || set_attr_ints(n, "_s", s, 2) ||
        set_attr_ints(n, "_d", d, 2) || set_attr_ints(n, "_p", p, 4))
        return GRAPH_ERR_NOMEM;
    return GRAPH_OK;
}

/* LSTM: the only op whose first output (Y) may be absent. */
static graph_status infer_lstm(graph_ir *ir, graph_node *n, int xdt, const graph_shape *xs, graph_value *y,
                               char *err, size_t errlen)
{
    graph_value *w = IN(ir, n, 1), *r = IN(ir, n, 2), *b = IN(ir, n, 3), *sl = IN(ir, n, 4);
    if (!is_float(xdt) || xs->rank != 3) UNSUP("LSTM '%s': only float32 [T,N,I] is supported", n->name);
    if (!w || !r || !w->data || !r->data || (b && !b->data)) UNSUP("LSTM '%s': weights must be constant", n->name);
    if (sl) UNSUP("LSTM '%s': sequence_lens is not supported", n->name);
    if (IN(ir, n, 7)) UNSUP("LSTM '%s': peepholes (input P) are not supported", n->name);
    if (graph_attr_int(n, "layout", 0)) UNSUP("LSTM '%s': layout=1 is not supported", n->name);
    if (graph_attr_int(n, "input_forget", 0)) UNSUP("LSTM '%s': input_forget=1 is not supported", n->name);
    if (graph_node_attr(n, "clip")) UNSUP("LSTM '%s': clip is not supported", n->name);
    if (graph_node_attr(n, "activations")) UNSUP("LSTM '%s': custom activations are not supported", n->name);
    const char *dir = graph_attr_str(n, "direction", "forward");
    int dirs = !strcmp(dir, "bidirectional") ? 2 : 1;
    if (strcmp(dir, "forward") && strcmp(dir, "reverse") && dirs == 1) UNSUP("LSTM '%s': direction=%s is not supported", n->name, dir);
    int64_t H = graph_attr_int(n, "hidden_size", 0);
    if (H <= 0 || w->shape.rank != 3 || w->shape.dims[0] != dirs || w->shape.dims[1] != 4 * H ||
        w->shape.dims[2] != xs->dims[2] || r->shape.dims[2] != H)
        BAD("LSTM '%s': weight shapes do not match hidden_size", n->name);
    for (int i = 5; i < 7; i++) {
        graph_value *v = IN(ir, n, i);
        if (v && (v->shape.rank != 3 || v->shape.dims[0] != dirs || v->shape.dims[1] != xs->dims[1] || v->shape.dims[2] != H))
            BAD("LSTM '%s': initial state shape", n->name);
    }
    int64_t T = xs->dims[0], N = xs->dims[1];
    if (r->shape.rank != 3 || r->shape.dims[0] != dirs || r->shape.dims[1] != 4 * H ||
        (b && (b->shape.rank != 2 || b->shape.dims[0] != dirs || b->shape.dims[1] != 8 * H)))
        BAD("LSTM '%s': recurrence weight or bias shape", n->name);
    if (y) y->shape = (graph_shape){ .rank = 4, .dims = { T, dirs, N, H } };
    for (int i = 1; i < n->n_out && i < 3; i++)
        if (n->out[i] >= 0) {
            graph_value *o = &ir->values[n->out[i]];
            o->dtype = GRAPH_DT_F32;
            o->shape = (graph_shape){ .rank = 3, .dims = { dirs, N, H } };
        }
    if (n->n_out > 3) UNSUP("LSTM '%s': too many outputs", n->name);
    return GRAPH_OK;
}

static graph_status infer(graph_ir *ir, graph_node *n, int64_t opset, char *err, size_t errlen)
{
    graph_value *x = IN(ir, n, 0);
    graph_value *y = n->n_out > 0 && n->out[0] >= 0 ? &ir->values[n->out[0]] : NULL;
    /* every op reads its first input (Concat's too) */
    if (!x) UNSUP("%s '%s': first input missing", n->op, n->name);
    int xdt = x->dtype;
    const graph_shape *xs = &x->shape;
    if (y) y->dtype = xdt;
    if (is_op(n, "LSTM")) return infer_lstm(ir, n, xdt, xs, y, err, errlen);
    if (!y) UNSUP("%s '%s': no output", n->op, n->name);
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0) UNSUP("%s '%s': optional output %d is not supported", n->op, n->name, i);

    if (is_op(n, "Relu") || is_op(n, "Sigmoid") || is_op(n, "Sqrt") ||
        is_op(n, "HardSigmoid") || is_op(n, "HardSwish") || is_op(n, "Clip")) {
        if (!is_float(xdt)) UNSUP("%s '%s': dtype %s is not supported", n->op, n->name, graph_dtype_name(xdt));
        if (is_op(n, "Clip"))
            for (int i = 1; i < n->n_in; i++)
                if (IN(ir, n, i) && !IN(ir, n, i)->data)
                    UNSUP("Clip '%s': min/max must be constant", n->name);
        y->shape = *xs;
        return GRAPH_OK;
    }
    if (is_op(n, "Identity")) { y->shape = *xs; return GRAPH_OK; }
    if (is_op(n, "Cast")) {
        int to = (int)graph_attr_int(n, "to", 0);
        if (!graph_dtype_size(to) || !graph_dtype_size(xdt) || to == GRAPH_DT_BF16)
            UNSUP("Cast '%s': cast %s -> %s is not supported", n->name, graph_dtype_name(xdt), graph_dtype_name(to));
        y->dtype = to;
        y->shape = *xs;
        return GRAPH_OK;
    }
    if (is_op(n, "Add") || is_op(n, "Sub") || is_op(n, "Mul") || is_op(n, "Div") ||
        is_op(n, "Pow")) {
        graph_value *b = IN(ir, n, 1);
        if (!b) UNSUP("%s '%s': second input missing", n->op, n->name);
        if (is_op(n, "Pow") ? !(is_float(xdt) && is_float(b->dtype))
                            : (xdt != b->dtype || !(is_float(xdt) || xdt == GRAPH_DT_I64 || xdt == GRAPH_DT_I32)))
            UNSUP("%s '%s': dtypes %s, %s are not supported", n->op, n->name,
                  graph_dtype_name(xdt), graph_dtype_name(b->dtype));
        if (graph_attr_int(n, "broadcast", 0) || graph_node_attr(n, "axis"))
            UNSUP("%s '%s': legacy broadcast attribute is not supported", n->op, n->name);
        if (!graph_broadcast(xs, &b->shape, &y->shape))
            BAD("%s '%s': shapes do not broadcast", n->op, n->name);
        return GRAPH_OK;
    }
    if (is_op(n, "Conv") || is_op(n, "ConvTranspose")) {
        graph_value *w = IN(ir, n, 1), *b = IN(ir, n, 2);
        int tr = is_op(n, "ConvTranspose");
        if (!is_float(xdt) || !w || !is_float(w->dtype)) UNSUP("%s '%s': only float32 is supported", n->op, n->name);
        if (!w->data) UNSUP("%s '%s': weights must be constant", n->op, n->name);
        if (b && !b->data) UNSUP("%s '%s': bias must be constant", n->op, n->name);
        if (xs->rank != 4 || w->shape.rank != 4) UNSUP("%s '%s': only 2-D convolution is supported (input rank %d)", n->op, n->name, xs->rank);
        int64_t g = graph_attr_int(n, "group", 1);
        if (g < 1 || g > (xs->dims[1] > 1 ? xs->dims[1] : 1) || xs->dims[1] % g) BAD("%s '%s': bad group", n->op, n->name);
        int64_t oc = tr ? w->shape.dims[1] * g : w->shape.dims[0];
        if ((tr ? w->shape.dims[0] : w->shape.dims[1] * g) != xs->dims[1])
            BAD("%s '%s': weights do not match %lld input channels", n->op, n->name, (long long)xs->dims[1]);
        if (b && graph_shape_numel(&b->shape) != oc) BAD("%s '%s': bias size", n->op, n->name);
        y->shape = *xs;
        y->shape.dims[1] = oc;
        return pool_like(n, xs, &w->shape, tr, &y->shape, err, errlen);
    }
    if (is_op(n, "MaxPool") || is_op(n, "AveragePool")) {
        if (!is_float(xdt)) UNSUP("%s '%s': only float32 is supported", n->op, n->name);
        if (is_op(n, "AveragePool") && graph_node_attr(n, "dilations")) {
            const int64_t *d;
            int c = graph_attr_ints(n, "dilations", &d);
            for (int i = 0; i < c; i++)
                if (d[i] != 1) UNSUP("AveragePool '%s': dilations are not supported", n->name);
        }
        y->shape = *xs;
        return pool_like(n, xs, NULL, 0, &y->shape, err, errlen);
    }
    if (is_op(n, "GlobalAveragePool")) {
        if (!is_float(xdt) || xs->rank != 4) UNSUP("GlobalAveragePool '%s': only 4-D float32 is supported", n->name);
        y->shape = *xs;
        y->shape.dims[2] = y->shape.dims[3] = 1;
        return GRAPH_OK;
    }
    if (is_op(n, "BatchNormalization")) {
        if (!is_float(xdt) || xs->rank < 2) UNSUP("BatchNormalization '%s': only float32 is supported", n->name);
        if (graph_attr_int(n, "training_mode", 0)) UNSUP("BatchNormalization '%s': training_mode=1 is not supported", n->name);
        for (int i = 1; i < 5; i++) {
            graph_value *p = IN(ir, n, i);
            if (!p || !p->data || !is_float(p->dtype) || graph_shape_numel(&p->shape) != xs->dims[1])
                UNSUP("BatchNormalization '%s': scale/bias/mean/var must be constant float32 [C]", n->name);
        }
        y->shape = *xs;
        return GRAPH_OK;
    }
    if (is_op(n, "MatMul")) {
        graph_value *b = IN(ir, n, 1);
        if (!b || !is_float(xdt) || !is_float(b->dtype)) UNSUP("MatMul '%s': only float32 is supported", n->name);
        if (xs->rank < 2 || b->shape.rank < 2) UNSUP("MatMul '%s': 1-D operands are not supported", n->name);
        const graph_shape *bs = &b->shape;
        if (xs->dims[xs->rank - 1] != bs->dims[bs->rank - 2]) BAD("MatMul '%s': inner dims differ", n->name);
        graph_shape ba = *xs, bb = *bs;
        ba.rank -= 2;
        bb.rank -= 2;
        graph_shape o;
        if (!graph_broadcast(&ba, &bb, &o)) BAD("MatMul '%s': batch dims do not broadcast", n->name);
        o.dims[o.rank] = xs->dims[xs->rank - 2];
        o.dims[o.rank + 1] = bs->dims[bs->rank - 1];
        o.rank += 2;
        y->shape = o;
        return GRAPH_OK;
    }
    if (is_op(n, "Gemm")) {
        graph_value *b = IN(ir, n, 1), *c = IN(ir, n, 2);
        if (!b || !is_float(xdt) || !is_float(b->dtype) || (c && !is_float(c->dtype)))
            UNSUP("Gemm '%s': only float32 is supported", n->name);
        if (xs->rank != 2 || b->shape.rank != 2) BAD("Gemm '%s': operands must be 2-D", n->name);
        int ta = (int)graph_attr_int(n, "transA", 0), tb = (int)graph_attr_int(n, "transB", 0);
        int64_t M = xs->dims[ta ? 1 : 0], K = xs->dims[ta ? 0 : 1];
        int64_t K2 = b->shape.dims[tb ? 1 : 0], N = b->shape.dims[tb ? 0 : 1];
        if (K != K2) BAD("Gemm '%s': inner dims differ", n->name);
        y->shape.rank = 2;
        y->shape.dims[0] = M;
        y->shape.dims[1] = N;
        graph_shape t;
        if (c && !graph_broadcast(&c->shape, &y->shape, &t)) BAD("Gemm '%s': C does not broadcast", n->name);
        if (c && !graph_shape_eq(&t, &y->shape)) BAD("Gemm '%s': C does not broadcast", n->name);
        return GRAPH_OK;
    }
    if (is_op(n, "Softmax")) {
        if (!is_float(xdt)) UNSUP("Softmax '%s': only float32 is supported", n->name);
        int64_t ax = graph_attr_int(n, "axis", opset >= 13 ? -1 : 1);
        if (ax < -xs->rank || ax >= xs->rank) BAD("Softmax '%s': axis out of range", n->name);
        y->shape = *xs;
        return GRAPH_OK;
    }
    if (is_op(n, "LayerNormalization")) {
        if (!is_float(xdt)) UNSUP("LayerNormalization '%s': only float32 is supported", n->name);
        int64_t ax = graph_attr_int(n, "axis", -1);
        if (ax < 0) ax += xs->rank;
        if (ax != xs->rank - 1) UNSUP("LayerNormalization '%s': axis=%lld (only the last axis) is not supported", n->name, (long long)ax);
        if (graph_attr_int(n, "stash_type", 1) != 1) UNSUP("LayerNormalization '%s': stash_type is not supported", n->name);
        graph_value *sc = IN(ir, n, 1), *sh = IN(ir, n, 2);
        int64_t C = xs->dims[xs->rank - 1];
        if (!sc || !sc->data || graph_shape_numel(&sc->shape) != C || (sh && (!sh->data || graph_shape_numel(&sh->shape) != C)))
            UNSUP("LayerNormalization '%s': scale/bias must be constant [C]", n->name);
        y->shape = *xs;
        return GRAPH_OK;
    }
    if (is_op(n, "ReduceMean")) {
        if (!is_float(xdt)) UNSUP("ReduceMean '%s': only float32 is supported", n->name);
        int64_t axes[GRAPH_MAX_RANK];
        int ok, cnt = get_axes(ir, n, 1, axes, err, errlen, &ok);
        if (!ok) return GRAPH_ERR_UNSUPPORTED;
        int keep = (int)graph_attr_int(n, "keepdims", 1);
        if (cnt == 0 && graph_attr_int(n, "noop_with_empty_axes", 0)) { y->shape = *xs; return GRAPH_OK; }
        int red[GRAPH_MAX_RANK] = { 0 };
        if (cnt <= 0) for (int i = 0; i < xs->rank; i++) red[i] = 1;
        for (int i = 0; i < cnt; i++) {
            int64_t a = axes[i] < 0 ? axes[i] + xs->rank : axes[i];
            if (a < 0 || a >= xs->rank) BAD("ReduceMean '%s': axis out of range", n->name);
            red[a] = 1;
        }
        graph_shape o = { 0 };
        for (int i = 0; i < xs->rank; i++) {
            if (!red[i]) o.dims[o.rank++] = xs->dims[i];
            else if (keep) o.dims[o.rank++] = 1;
        }
        int64_t r8[GRAPH_MAX_RANK];
        for (int i = 0; i < xs->rank; i++) r8[i] = red[i];
        if (set_attr_ints(n, "_red", r8, xs->rank)) return GRAPH_ERR_NOMEM;
        y->shape = o;
        return GRAPH_OK;
    }
    if (is_op(n, "Resize") || is_op(n, "Upsample")) {
        if (!is_float(xdt)) UNSUP("%s '%s': only float32 is supported", n->op, n->name);
        const char *mode = graph_attr_str(n, "mode", "nearest");
        const char *ctm = graph_attr_str(n, "coordinate_transformation_mode", "half_pixel");
        const char *nm = graph_attr_str(n, "nearest_mode", "round_prefer_floor");
        if (opset < 11 || is_op(n, "Upsample")) ctm = "asymmetric", nm = "floor";
        if (strcmp(mode, "nearest") && strcmp(mode, "linear") && strcmp(mode, "bilinear"))
            UNSUP("%s '%s': mode=%s is not supported", n->op, n->name, mode);
        if (graph_attr_int(n, "antialias", 0)) UNSUP("%s '%s': antialias=1 is not supported", n->op, n->name);
        if (graph_node_attr(n, "axes")) UNSUP("%s '%s': attribute axes is not supported", n->op, n->name);
        if (strcmp(graph_attr_str(n, "keep_aspect_ratio_policy", "stretch"), "stretch"))
            UNSUP("%s '%s': keep_aspect_ratio_policy is not supported", n->op, n->name);
        if (strcmp(ctm, "half_pixel") && strcmp(ctm, "asymmetric") && strcmp(ctm, "pytorch_half_pixel") && strcmp(ctm, "align_corners"))
            UNSUP("%s '%s': coordinate_transformation_mode=%s is not supported", n->op, n->name, ctm);
        if (!strcmp(mode, "nearest") && strcmp(nm, "floor") && strcmp(nm, "round_prefer_floor") &&
            strcmp(nm, "round_prefer_ceil") && strcmp(nm, "ceil"))
            UNSUP("%s '%s': nearest_mode=%s is not supported", n->op, n->name, nm);
        if (xs->rank != 4) UNSUP("%s '%s': only 4-D inputs are supported", n->op, n->name);
        graph_value *sc = IN(ir, n, opset >= 11 && !is_op(n, "Upsample") ? 2 : 1);
        graph_value *sz = opset >= 11 ? IN(ir, n, 3) : NULL;
        float scale[GRAPH_MAX_RANK];
        graph_shape o = *xs;
        if (sz && graph_shape_numel(&sz->shape) > 0) {
            int64_t d[GRAPH_MAX_RANK];
            if (!sz->data || graph_value_ints(sz, d, GRAPH_MAX_RANK) != xs->rank)
                UNSUP("%s '%s': sizes must be constant of rank length", n->op, n->name);
            for (int i = 0; i < xs->rank; i++) { o.dims[i] = d[i]; scale[i] = (float)d[i] / (float)xs->dims[i]; }
        } else if (sc && graph_shape_numel(&sc->shape) > 0) {
            if (!sc->data || sc->dtype != GRAPH_DT_F32 || graph_shape_numel(&sc->shape) != xs->rank)
                UNSUP("%s '%s': scales must be constant float32 of rank length", n->op, n->name);
            for (int i = 0; i < xs->rank; i++) {
                scale[i] = ((const float *)sc->data)[i];
                o.dims[i] = scaled_dim(xs->dims[i], scale[i]);
            }
        } else if (graph_node_attr(n, "scales")) {
            const graph_attr *a = graph_node_attr(n, "scales");
            if (a->type != GA_FLOATS || a->n != xs->rank) UNSUP("%s '%s': scales", n->op, n->name);
            for (int i = 0; i < xs->rank; i++) {
                scale[i] = a->floats[i];
                o.dims[i] = scaled_dim(xs->dims[i], scale[i]);
            }
        } else UNSUP("%s '%s': needs scales or sizes", n->op, n->name);
        if (o.dims[0] != xs->dims[0] || o.dims[1] != xs->dims[1])
            UNSUP("%s '%s': resizing batch or channel dims is not supported", n->op, n->name);
        for (int i = 2; i < 4; i++)
            if (o.dims[i] < 1) BAD("%s '%s': empty output", n->op, n->name);
        int64_t m[4] = { strcmp(mode, "nearest") ? 1 : 0,
                         !strcmp(ctm, "half_pixel") ? 0 : !strcmp(ctm, "asymmetric") ? 1 : !strcmp(ctm, "pytorch_half_pixel") ? 2 : 3,
                         !strcmp(nm, "round_prefer_floor") ? 0 : !strcmp(nm, "round_prefer_ceil") ? 1 : !strcmp(nm, "floor") ? 2 : 3, 0 };
        int64_t sb[2];
        memcpy(&sb[0], &scale[2], 4);
        memcpy(&sb[1], &scale[3], 4);
        if (set_attr_ints(n, "_mode", m, 3) || set_attr_ints(n, "_scale_bits", sb, 2)) return GRAPH_ERR_NOMEM;
        y->shape = o;
        return GRAPH_OK;
    }
    if (is_op(n, "Concat")) {
        graph_value *f = NULL;
        for (int i = 0; i < n->n_in; i++) if (IN(ir, n, i)) { f = IN(ir, n, i); break; }
        if (!f) UNSUP("Concat '%s': no inputs", n->name);
        int r = f->shape.rank;
        int64_t ax = graph_attr_int(n, "axis", 0);
        if (ax < 0) ax += r;
        if (ax < 0 || ax >= r) BAD("Concat '%s': axis out of range", n->name);
        graph_shape o = f->shape;
        o.dims[ax] = 0;
        for (int i = 0; i < n->n_in; i++) {
            graph_value *v = IN(ir, n, i);
            if (!v) UNSUP("Concat '%s': empty input name", n->name);
            if (v->dtype != f->dtype || v->shape.rank != r) BAD("Concat '%s': inputs differ in dtype or rank", n->name);
            for (int d = 0; d < r; d++)
                if (d != ax && v->shape.dims[d] != f->shape.dims[d]) BAD("Concat '%s': shapes differ", n->name);
            o.dims[ax] += v->shape.dims[ax];
        }
        y->dtype = f->dtype;
        y->shape = o;
        return GRAPH_OK;
    }
    if (is_op(n, "Reshape")) {
        graph_value *s = IN(ir, n, 1);
        int64_t d[GRAPH_MAX_RANK];
        int cnt;
        if (opset < 5) {
            const int64_t *a;
            cnt = graph_attr_ints(n, "shape", &a);
            if (cnt < 0 || cnt > GRAPH_MAX_RANK) UNSUP("Reshape '%s': shape", n->name);
            memcpy(d, a, (size_t)cnt * 8);
        } else {
            if (!s || !s->data) UNSUP("Reshape '%s': a shape computed at run time is not supported", n->name);
            cnt = graph_value_ints(s, d, GRAPH_MAX_RANK);
            if (cnt < 0) UNSUP("Reshape '%s': shape must be int64 of rank <= %d", n->name, GRAPH_MAX_RANK);
        }
        int allowzero = (int)graph_attr_int(n, "allowzero", 0);
        int64_t known = 1, neg = -1, total = graph_shape_numel(xs);
        for (int i = 0; i < cnt; i++) {
            if (d[i] == 0 && !allowzero) {
                if (i >= xs->rank) BAD("Reshape '%s': 0 copies a missing dim", n->name);
                d[i] = xs->dims[i];
            }
            if (d[i] == -1) {
                if (neg >= 0) BAD("Reshape '%s': two -1 dims", n->name);
                neg = i;
            } else if (d[i] < 0) BAD("Reshape '%s': negative dim", n->name);
            else known = mul_sat(known, d[i]);
        }
        if (neg >= 0) {
            if (known == 0 || total % known) BAD("Reshape '%s': cannot infer -1", n->name);
            d[neg] = total / known;
            known = mul_sat(known, d[neg]);
        }
        if (known != total) BAD("Reshape '%s': %lld elements into %lld", n->name, (long long)total, (long long)known);
        y->shape.rank = cnt;
        memcpy(y->shape.dims, d, (size_t)cnt * 8);
        return GRAPH_OK;
    }
    if (is_op(n, "Flatten")) {
        int64_t ax = graph_attr_int(n, "axis", 1);
        if (ax < 0) ax += xs->rank;
        if (ax < 0 || ax > xs->rank) BAD("Flatten '%s': axis", n->name);
        int64_t a = 1, b = 1;
        for (int i = 0; i < xs->rank; i++) {
            if (i < ax) a *= xs->dims[i];
            else b *= xs->dims[i];
        }
        y->shape.rank = 2;
        y->shape.dims[0] = a;
        y->shape.dims[1] = b;
        return GRAPH_OK;
    }
    if (is_op(n, "Squeeze") || is_op(n, "Unsqueeze")) {
        int64_t axes[GRAPH_MAX_RANK];
        int ok, cnt = get_axes(ir, n, 1, axes, err, errlen, &ok);
        if (!ok) return GRAPH_ERR_UNSUPPORTED;
        graph_shape o = { 0 };
        if (is_op(n, "Squeeze")) {
            int drop[GRAPH_MAX_RANK] = { 0 };
            for (int i = 0; i < cnt; i++) {
                int64_t a = axes[i] < 0 ? axes[i] + xs->rank : axes[i];
                if (a < 0 || a >= xs->rank || xs->dims[a] != 1) BAD("Squeeze '%s': axis %lld is not of size 1", n->name, (long long)axes[i]);
                drop[a] = 1;
            }
            for (int i = 0; i < xs->rank; i++)
                if (!(cnt > 0 ? drop[i] : xs->dims[i] == 1)) o.dims[o.rank++] = xs->dims[i];
        } else {
            if (cnt <= 0) BAD("Unsqueeze '%s': axes required", n->name);
            int r = xs->rank + cnt, ins[GRAPH_MAX_RANK * 2] = { 0 };
            if (r > GRAPH_MAX_RANK) UNSUP("Unsqueeze '%s': rank too large", n->name);
            for (int i = 0; i < cnt; i++) {
                int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
                if (a < 0 || a >= r || ins[a]) BAD("Unsqueeze '%s': bad axis", n->name);
                ins[a] = 1;
            }
            for (int i = 0, k = 0; i < r; i++) o.dims[i] = ins[i] ? 1 : xs->dims[k++];
            o.rank = r;
        }
        y->shape = o;
        return GRAPH_OK;
    }
    if (is_op(n, "Transpose")) {
        const int64_t *p;
        int cnt = graph_attr_ints(n, "perm", &p);
        int seen[GRAPH_MAX_RANK] = { 0 };
        if (cnt >= 0 && cnt != xs->rank) BAD("Transpose '%s': perm length", n->name);
        y->shape.rank = xs->rank;
        for (int i = 0; i < xs->rank; i++) {
            int64_t a = cnt >= 0 ? p[i] : xs->rank - 1 - i;
            if (a < 0 || a >= xs->rank || seen[a]) BAD("Transpose '%s': bad perm", n->name);
            seen[a] = 1;
            y->shape.dims[i] = xs->dims[a];
        }
        return GRAPH_OK;
    }
    if (is_op(n, "Shape")) {
        int64_t r = xs->rank, s = graph_attr_int(n, "start", 0), e = graph_attr_int(n, "end", r);
        if (s < 0) s += r;
        if (e < 0) e += r;
        if (s < 0) s = 0;
        if (e > r) e = r;
        y->dtype = GRAPH_DT_I64;
        y->shape.rank = 1;
        y->shape.dims[0] = e > s ? e - s : 0;
        return GRAPH_OK;
    }
    if (is_op(n, "Gather")) {
        graph_value *ind = IN(ir, n, 1);
        if (!ind || (ind->dtype != GRAPH_DT_I64 && ind->dtype != GRAPH_DT_I32))
            UNSUP("Gather '%s': indices must be int32/int64", n->name);
        if (!graph_dtype_size(xdt)) UNSUP("Gather '%s': dtype", n->name);
        int64_t ax = graph_attr_int(n, "axis", 0);
        if (ax < 0) ax += xs->rank;
        if (ax < 0 || ax >= xs->rank) BAD("Gather '%s': axis out of range", n->name);
        if (xs->rank + ind->shape.rank - 1 > GRAPH_MAX_RANK) UNSUP("Gather '%s': rank", n->name);
        graph_shape o = { 0 };
        for (int i = 0; i < ax; i++) o.dims[o.rank++] = xs->dims[i];
        for (int i = 0; i < ind->shape.rank; i++) o.dims[o.rank++] = ind->shape.dims[i];
        for (int i = (int)ax + 1; i < xs->rank; i++) o.dims[o.rank++] = xs->dims[i];
        y->shape = o;
        return GRAPH_OK;
    }
    if (is_op(n, "Slice")) {
        int64_t st[GRAPH_MAX_RANK], en[GRAPH_MAX_RANK], ax[GRAPH_MAX_RANK], sp[GRAPH_MAX_RANK];
        int cnt, c2, c3 = -1, c4 = -1;
        if (opset < 10) {
            const int64_t *a;
            cnt = graph_attr_ints(n, "starts", &a);
            if (cnt < 0 || cnt > GRAPH_MAX_RANK) UNSUP("Slice '%s': starts", n->name);
            memcpy(st, a, (size_t)cnt * 8);
            c2 = graph_attr_ints(n, "ends", &a);
            if (c2 != cnt) UNSUP("Slice '%s': ends", n->name);
            memcpy(en, a, (size_t)cnt * 8);
            c3 = graph_attr_ints(n, "axes", &a);
            if (c3 >= 0 && c3 != cnt) UNSUP("Slice '%s': axes", n->name);
            if (c3 > 0) memcpy(ax, a, (size_t)c3 * 8);
        } else {
            graph_value *vs = IN(ir, n, 1), *ve = IN(ir, n, 2), *va = IN(ir, n, 3), *vp = IN(ir, n, 4);
            if (!vs || !ve || !vs->data || !ve->data || (va && !va->data) || (vp && !vp->data))
                UNSUP("Slice '%s': starts/ends/axes/steps must be constant", n->name);
            cnt = graph_value_ints(vs, st, GRAPH_MAX_RANK);
            c2 = graph_value_ints(ve, en, GRAPH_MAX_RANK);
            if (va) c3 = graph_value_ints(va, ax, GRAPH_MAX_RANK);
            if (vp) c4 = graph_value_ints(vp, sp, GRAPH_MAX_RANK);
            if (cnt < 0 || c2 != cnt || (va && c3 != cnt) || (vp && c4 != cnt)) BAD("Slice '%s': parameter lengths differ", n->name);
        }
        int64_t fs[GRAPH_MAX_RANK], fp[GRAPH_MAX_RANK];
        graph_shape o = *xs;
        for (int i = 0; i < xs->rank; i++) { fs[i] = 0; fp[i] = 1; }
        int seen[GRAPH_MAX_RANK] = { 0 };
        for (int i = 0; i < cnt; i++) {
            int64_t a = c3 >= 0 ? ax[i] : i;
            if (a < 0) a += xs->rank;
            if (a < 0 || a >= xs->rank || seen[a]) BAD("Slice '%s': bad axis", n->name);
            seen[a] = 1;
            int64_t step = c4 >= 0 ? sp[i] : 1, dim = xs->dims[a];
            if (step == 0) BAD("Slice '%s': step 0", n->name);
            int64_t s = st[i], e = en[i];
            if (s < 0) s += dim;
            if (e < 0 && e > INT64_MIN / 2) e += dim;
            int64_t cnt_out;
            if (step > 0) {
                s = s < 0 ? 0 : s > dim ? dim : s;
                e = e < 0 ? 0 : e > dim ? dim : e;
                cnt_out = e > s ? (e - s + step - 1) / step : 0;
            } else {
                s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
                e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
                cnt_out = s > e ? (s - e + (-step) - 1) / (-step) : 0;
            }
            fs[a] = s;
            fp[a] = step;
            o.dims[a] = cnt_out;
        }
        if (set_attr_ints(n, "_starts", fs, xs->rank) || set_attr_ints(n, "_steps", fp, xs->rank))
            return GRAPH_ERR_NOMEM;
        y->shape = o;
        return GRAPH_OK;
    }
    if (is_op(n, "ConstantOfShape")) {
        int64_t d[GRAPH_MAX_RANK];
        int cnt = x->data ? graph_value_ints(x, d, GRAPH_MAX_RANK) : -1;
        if (cnt < 0) UNSUP("ConstantOfShape '%s': shape must be constant", n->name);
        const graph_attr *a = graph_node_attr(n, "value");
        y->dtype = a && a->t ? a->t->dtype : GRAPH_DT_F32;
        y->shape.rank = cnt;
        memcpy(y->shape.dims, d, (size_t)cnt * 8);
        return GRAPH_OK;
    }
    if (is_op(n, "Expand")) {
        graph_value *s = IN(ir, n, 1);
        int64_t d[GRAPH_MAX_RANK];
        int cnt = s && s->data ? graph_value_ints(s, d, GRAPH_MAX_RANK) : -1;
        if (cnt < 0) UNSUP("Expand '%s': shape must be constant", n->name);
        graph_shape t = { .rank = cnt };
        memcpy(t.dims, d, (size_t)cnt * 8);
        if (!graph_broadcast(xs, &t, &y->shape)) BAD("Expand '%s': shapes do not broadcast", n->name);
        return GRAPH_OK;
    }
    UNSUP("op %s (node '%s') is not supported", n->op, n->name);
}

/* The most elements any inferred value may have (as for initializers). */
#define MAX_VALUE_ELEMS ((int64_t)1 << 34)

/* Every inferred output has non-negative dims and at most MAX_VALUE_ELEMS
 * elements, so sizes computed from shapes never overflow. */
static graph_status check_outputs(const graph_ir *ir, const graph_node *n, char *err, size_t errlen)
{
    for (int o = 0; o < n->n_out; o++) {
        if (n->out[o] < 0) continue;
        const graph_shape *s = &ir->values[n->out[o]].shape;
        int64_t cnt = 1;
        for (int d = 0; d < s->rank; d++) {
            if (s->dims[d] < 0) {
                graph_errf(err, errlen, "%s '%s': negative output dimension", n->op, n->name);
                return GRAPH_ERR_SHAPE;
            }
            if (s->dims[d] && cnt > MAX_VALUE_ELEMS / s->dims[d]) {
                char b[160];
                graph_shape_str(s, b, sizeof b);
                graph_errf(err, errlen, "%s '%s': output shape %s has more than 2^34 elements", n->op, n->name, b);
                return GRAPH_ERR_SHAPE;
            }
            cnt *= s->dims[d];
        }
    }
    return GRAPH_OK;
}

graph_status graph_infer_node(graph_ir *ir, graph_node *n, int64_t opset, char *err, size_t errlen)
{
    graph_status st = infer(ir, n, opset, err, errlen);
    if (st) return st;
    if ((st = check_outputs(ir, n, err, errlen))) return st;
    /* fold when every present input is constant */
    graph_view in[16];
    if (n->n_in > 16) return GRAPH_OK;
    int all_const = 1;
    for (int i = 0; i < n->n_in; i++) {
        graph_value *v = IN(ir, n, i);
        if (v && !v->data) all_const = 0;
        in[i] = v ? (graph_view){ .dtype = v->dtype, .shape = v->shape, .data = v->data } : (graph_view){ 0 };
    }
    if (is_op(n, "Shape")) all_const = 1;
    if (!all_const || n->n_out != 1 || n->out[0] < 0 || !graph_ref_supported(n, in, n->n_in)) return GRAPH_OK;
    graph_value *y = &ir->values[n->out[0]];
    int64_t cnt = graph_shape_numel(&y->shape);
    if (cnt > ((int64_t)1 << 26)) return GRAPH_OK; /* leave huge tensors to run time */
    void *data = malloc((size_t)cnt * graph_dtype_size(y->dtype) + 8);
    if (!data) return GRAPH_ERR_NOMEM;
    graph_view out = { .dtype = y->dtype, .shape = y->shape, .data = data };
    st = graph_ref_run(n, opset, in, n->n_in, &out, 1, err, errlen);
    if (st) { free(data); return st; }
    y->data = data;
    y->owns_data = 1;
    n->dead = 1;
    return GRAPH_OK;
}

graph_status graph_specialise(graph_ir *ir, const graph_shape *shapes, int64_t opset,
                              char *err, size_t errlen)
{
    for (int i = 0; i < ir->n_inputs; i++) {
        graph_value *v = &ir->values[ir->inputs[i]];
        const graph_shape *s = &shapes[i];
        if (v->shape.rank >= 0 && v->shape.rank != s->rank) {
            graph_errf(err, errlen, "input '%s': rank %d given, model expects %d", v->name, s->rank, v->shape.rank);
            return GRAPH_ERR_SHAPE;
        }
        for (int d = 0; d < s->rank; d++) {
            if (s->dims[d] < 0 || (v->shape.rank >= 0 && v->shape.dims[d] >= 0 && v->shape.dims[d] != s->dims[d])) {
                char a[128], b[128];
                graph_shape_str(s, a, sizeof a);
                graph_shape_str(&v->shape, b, sizeof b);
                graph_errf(err, errlen, "input '%s': shape %s does not match the model's %s", v->name, a, b);
                return GRAPH_ERR_SHAPE;
            }
        }
        v->shape = *s;
    }
    for (int k = 0; k < ir->n_nodes; k++) {
        graph_node *n = &ir->nodes[k];
        graph_status st = graph_infer_node(ir, n, opset, err, errlen);
        if (st) return st;
    }
    /* dead-code elimination: keep what the graph outputs need */
    char *need = calloc((size_t)ir->n_values, 1);
    if (!need) return GRAPH_ERR_NOMEM;
    for (int i = 0; i < ir->n_outputs; i++) need[ir->outputs[i]] = 1;
    for (int k = ir->n_nodes - 1; k >= 0; k--) {
        graph_node *n = &ir->nodes[k];
        if (n->dead) continue;
        int used = 0;
        for (int o = 0; o < n->n_out; o++) if (n->out[o] >= 0 && need[n->out[o]]) used = 1;
        if (!used) { n->dead = 1; continue; }
        for (int i = 0; i < n->n_in; i++) if (n->in[i] >= 0) need[n->in[i]] = 1;
    }
    free(need);
    return GRAPH_OK;
}
