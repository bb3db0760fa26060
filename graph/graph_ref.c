/* graph_ref.c - reference kernels on dense row-major tensors. They fold
 * constant sub-graphs at compile time and run the few data-movement ops
 * (Gather, Slice, Cast, ...) that have no oneDNN primitive. */
#include "graph_ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_op(const graph_node *n, const char *op) { return strcmp(n->op, op) == 0; }

static double load(const void *p, int dt, int64_t i)
{
    switch (dt) {
    case GRAPH_DT_F32: return ((const float *)p)[i];
    case GRAPH_DT_F64: return ((const double *)p)[i];
    case GRAPH_DT_I64: return (double)((const int64_t *)p)[i];
    case GRAPH_DT_I32: return ((const int32_t *)p)[i];
    case GRAPH_DT_U8: case GRAPH_DT_BOOL: return ((const uint8_t *)p)[i];
    case GRAPH_DT_I8: return ((const int8_t *)p)[i];
    }
    return 0;
}

/* v as an integer in [lo, hi]: truncated, saturated, NaN as 0 (a float
 * to integer conversion out of range is undefined in C). */
static double sat(double v, double lo, double hi)
{
    if (!(v == v)) return 0;
    return v < lo ? lo : v > hi ? hi : v;
}

static void store(void *p, int dt, int64_t i, double v)
{
    switch (dt) {
    case GRAPH_DT_F32: ((float *)p)[i] = (float)v; break;
    case GRAPH_DT_F64: ((double *)p)[i] = v; break;
    /* 2^63 itself is out of range: the largest double below it */
    case GRAPH_DT_I64: ((int64_t *)p)[i] = (int64_t)sat(v, -9223372036854775808.0, 9223372036854774784.0); break;
    case GRAPH_DT_I32: ((int32_t *)p)[i] = (int32_t)sat(v, INT32_MIN, INT32_MAX); break;
    case GRAPH_DT_U8: ((uint8_t *)p)[i] = (uint8_t)sat(v, 0, 255); break;
    case GRAPH_DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case GRAPH_DT_I8: ((int8_t *)p)[i] = (int8_t)sat(v, -128, 127); break;
    }
}

/* An index element read as an integer, not through a double. */
static int64_t load_index(const void *p, int dt, int64_t i)
{
    if (dt == GRAPH_DT_I64) return ((const int64_t *)p)[i];
    if (dt == GRAPH_DT_I32) return ((const int32_t *)p)[i];
    return (int64_t)sat(load(p, dt, i), -9223372036854775808.0, 9223372036854774784.0);
}

static int64_t idx_of(const int64_t *ix, const graph_shape *s, int r)
{
    /* offset in tensor s (rank <= r, right-aligned, broadcast dims of 1) */
    int64_t off = 0;
    int base = r - s->rank;
    for (int d = 0; d < s->rank; d++) {
        int64_t i = s->dims[d] == 1 ? 0 : ix[base + d];
        off = off * s->dims[d] + i;
    }
    return off;
}

static int next_index(int64_t *ix, const graph_shape *s)
{
    for (int d = s->rank - 1; d >= 0; d--) {
        if (++ix[d] < s->dims[d]) return 1;
        ix[d] = 0;
    }
    return 0;
}

static double binop(const char *op, double a, double b, int isint)
{
    switch (op[0]) {
    case 'A': return a + b;
    case 'S': return a - b;
    case 'M': return a * b;
    case 'D':
        /* ONNX Div on integers truncates */
        if (isint) return b == 0 ? 0 : (double)((int64_t)a / (int64_t)b); /* NOLINT(bugprone-integer-division) */
        return a / b;
    case 'P': return pow(a, b);
    }
    return 0;
}

static double unop(const graph_node *n, double x, const graph_view *in, int n_in)
{
    const char *op = n->op;
    if (!strcmp(op, "Relu")) return x > 0 ? x : 0;
    if (!strcmp(op, "Sigmoid")) return 1.0 / (1.0 + exp(-x));
    if (!strcmp(op, "Sqrt")) return sqrt(x);
    if (!strcmp(op, "HardSigmoid")) {
        double a = graph_attr_float(n, "alpha", 0.2f), b = graph_attr_float(n, "beta", 0.5f);
        double y = a * x + b;
        return y < 0 ? 0 : y > 1 ? 1 : y;
    }
    if (!strcmp(op, "HardSwish")) {
        double y = x / 6 + 0.5;
        return x * (y < 0 ? 0 : y > 1 ? 1 : y);
    }
    if (!strcmp(op, "Clip")) {
        double lo = -INFINITY, hi = INFINITY;
        const graph_attr *a;
        if ((a = graph_node_attr(n, "min"))) lo = a->f;
        if ((a = graph_node_attr(n, "max"))) hi = a->f;
        if (n_in > 1 && in[1].data) lo = load(in[1].data, in[1].dtype, 0);
        if (n_in > 2 && in[2].data) hi = load(in[2].data, in[2].dtype, 0);
        return x < lo ? lo : x > hi ? hi : x;
    }
    return x; /* Identity, Cast */
}

int graph_ref_supported(const graph_node *n, const graph_view *in, int n_in)
{
    static const char *movers[] = { "Identity", "Reshape", "Flatten", "Squeeze",
                                    "Unsqueeze", "Transpose", "Concat", "Gather",
                                    "Slice", "Shape", "ConstantOfShape", "Cast",
                                    "Expand", NULL };
    for (int i = 0; movers[i]; i++)
        if (is_op(n, movers[i])) return 1;
    static const char *math[] = { "Add", "Sub", "Mul", "Div", "Pow", "Relu",
                                  "Sigmoid", "Sqrt", "Clip", "HardSigmoid",
                                  "HardSwish", NULL };
    for (int i = 0; math[i]; i++)
        if (is_op(n, math[i])) {
            for (int k = 0; k < n_in; k++)
                if (in[k].data && in[k].dtype == GRAPH_DT_BOOL) return 0;
            return 1;
        }
    return 0;
}

static graph_status transpose(const graph_node *n, const graph_view *x, graph_view *y)
{
    int r = x->shape.rank;
    int64_t perm[GRAPH_MAX_RANK];
    const int64_t *p;
    int np = graph_attr_ints(n, "perm", &p);
    for (int i = 0; i < r; i++) perm[i] = np == r ? p[i] : r - 1 - i;
    int64_t xs[GRAPH_MAX_RANK], ix[GRAPH_MAX_RANK] = { 0 };
    graph_shape_strides(&x->shape, xs);
    size_t es = graph_dtype_size(x->dtype);
    int64_t total = graph_shape_numel(&y->shape);
    for (int64_t o = 0; o < total; o++) {
        int64_t off = 0;
        for (int d = 0; d < r; d++) off += ix[d] * xs[perm[d]];
        memcpy((char *)y->data + o * es, (const char *)x->data + off * es, es);
        next_index(ix, &y->shape);
    }
    return GRAPH_OK;
}

static graph_status gather(const graph_node *n, const graph_view *in, graph_view *y,
                           char *err, size_t errlen)
{
    const graph_view *x = &in[0], *ind = &in[1];
    int r = x->shape.rank;
    int64_t axis = graph_attr_int(n, "axis", 0);
    if (axis < 0) axis += r;
    int64_t outer = 1, inner = 1, ax = x->shape.dims[axis];
    for (int d = 0; d < axis; d++) outer *= x->shape.dims[d];
    for (int d = (int)axis + 1; d < r; d++) inner *= x->shape.dims[d];
    int64_t ni = graph_shape_numel(&ind->shape);
    size_t es = graph_dtype_size(x->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < ni; k++) {
            int64_t j = load_index(ind->data, ind->dtype, k);
            if (j < 0) j += ax;
            if (j < 0 || j >= ax) {
                graph_errf(err, errlen, "Gather '%s': index %lld out of range [0,%lld)",
                           n->name, (long long)j, (long long)ax);
                return GRAPH_ERR_INVALID;
            }
            memcpy((char *)y->data + ((o * ni + k) * inner) * es,
                   (const char *)x->data + ((o * ax + j) * inner) * es, (size_t)inner * es);
        }
    return GRAPH_OK;
}

/* Slice parameters are resolved by shape inference into attributes
 * "_starts"/"_steps" (per axis, full rank). */
static graph_status slice(const graph_node *n, const graph_view *x, graph_view *y)
{
    const int64_t *st, *sp;
    graph_attr_ints(n, "_starts", &st);
    graph_attr_ints(n, "_steps", &sp);
    int r = x->shape.rank;
    int64_t xs[GRAPH_MAX_RANK], ix[GRAPH_MAX_RANK] = { 0 };
    graph_shape_strides(&x->shape, xs);
    size_t es = graph_dtype_size(x->dtype);
    int64_t total = graph_shape_numel(&y->shape);
    for (int64_t o = 0; o < total; o++) {
        int64_t off = 0;
        for (int d = 0; d < r; d++) off += (st[d] + ix[d] * sp[d]) * xs[d];
        memcpy((char *)y->data + o * es, (const char *)x->data + off * es, es);
        next_index(ix, &y->shape);
    }
    return GRAPH_OK;
}

static graph_status concat(const graph_node *n, const graph_view *in, int n_in, graph_view *y)
{
    int r = y->shape.rank;
    int64_t axis = graph_attr_int(n, "axis", 0);
    if (axis < 0) axis += r;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= y->shape.dims[d];
    for (int d = (int)axis + 1; d < r; d++) inner *= y->shape.dims[d];
    size_t es = graph_dtype_size(y->dtype);
    int64_t yrow = y->shape.dims[axis] * inner, pos = 0;
    for (int k = 0; k < n_in; k++) {
        int64_t row = in[k].shape.dims[axis] * inner;
        for (int64_t o = 0; o < outer; o++)
            memcpy((char *)y->data + (o * yrow + pos) * es,
                   (const char *)in[k].data + o * row * es, (size_t)row * es);
        pos += row;
    }
    return GRAPH_OK;
}

/* Source coordinate of output index o along an axis (ONNX Resize). */
static double resize_coord(int ctm, int64_t o, int64_t in_len, int64_t out_len, double scale)
{
    switch (ctm) {
    case 1: return (double)o / scale;                                      /* asymmetric */
    case 2: return out_len > 1 ? ((double)o + 0.5) / scale - 0.5 : 0.0;    /* pytorch_half_pixel */
    case 3: { /* align_corners, over the unrounded resized length (ONNX) */
        double len = (double)in_len * scale;
        return out_len > 1 && len > 1 ? (double)o * (double)(in_len - 1) / (len - 1) : 0.0;
    }
    default: return ((double)o + 0.5) / scale - 0.5;                       /* half_pixel */
    }
}

static int64_t clamp_i(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Per output index along one axis: the two source indices and the weight
 * of the second (linear), or the source index (nearest, in i0). */
static void resize_taps(const int64_t *m, int64_t in_len, int64_t out_len, double scale,
                        int64_t *i0, int64_t *i1, float *w)
{
    for (int64_t o = 0; o < out_len; o++) {
        double x = resize_coord((int)m[1], o, in_len, out_len, scale);
        /* clamped first, so a degenerate scale never converts out of range
         * (every index is clamped into the input below anyway) */
        if (!(x >= -1)) x = -1;
        if (x > (double)in_len) x = (double)in_len;
        if (m[0]) {
            if (x < 0) x = 0;
            int64_t a = (int64_t)floor(x);
            if (a > in_len - 1) a = in_len - 1;
            i0[o] = a;
            i1[o] = a + 1 < in_len ? a + 1 : in_len - 1;
            w[o] = (float)(x - (double)a);
            if (w[o] < 0) w[o] = 0;
        } else {
            double f = floor(x), fr = x - f;
            int64_t a;
            switch (m[2]) {
            case 1: a = fr == 0.5 ? (int64_t)f + 1 : (int64_t)floor(x + 0.5); break; /* round_prefer_ceil */
            case 2: a = (int64_t)f; break;                                        /* floor */
            case 3: a = (int64_t)ceil(x); break;                                  /* ceil */
            default: a = fr == 0.5 ? (int64_t)f : (int64_t)floor(x + 0.5); break; /* round_prefer_floor */
            }
            i0[o] = i1[o] = clamp_i(a, 0, in_len - 1);
            w[o] = 0;
        }
    }
}

static inline float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

/* One output pixel of a bilinear blend over C contiguous channels: p00 +
 * u (p01 - p00) along x, then v along y. Cloned for AVX-512 and AVX2 (the
 * build targets plain x86-64; the loader picks the clone the CPU runs). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GRAPH_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GRAPH_SIMD_CLONES
#endif
GRAPH_SIMD_CLONES
static void blend_f32(const float *p00, const float *p01, const float *p10, const float *p11,
                      float *d, int64_t C, float u, float v)
{
    for (int64_t c = 0; c < C; c++) {
        float a = p00[c] + u * (p01[c] - p00[c]);
        float e = p10[c] + u * (p11[c] - p10[c]);
        d[c] = a + v * (e - a);
    }
}

GRAPH_SIMD_CLONES
static void blend_bf16(const uint16_t *p00, const uint16_t *p01, const uint16_t *p10,
                       const uint16_t *p11, uint16_t *d, int64_t C, float u, float v)
{
    for (int64_t c = 0; c < C; c++) {
        float q00 = bf16_to_f32(p00[c]), q01 = bf16_to_f32(p01[c]);
        float q10 = bf16_to_f32(p10[c]), q11 = bf16_to_f32(p11[c]);
        float a = q00 + u * (q01 - q00), e = q10 + u * (q11 - q10);
        d[c] = f32_to_bf16(a + v * (e - a));
    }
}

/* Per output row and column: the two source rows/columns and the weight
 * of the second (resize_taps), for one node and shape; one allocation,
 * the arrays after the header. */
typedef struct {
    int64_t OH, OW;
    const int64_t *iy, *iy1, *ix, *ix1;
    const float *wy, *wx;
} resize_grid;

void *graph_resize_grid(const graph_node *n, const graph_shape *xs, const graph_shape *ys)
{
    const int64_t *m, *sb;
    if (xs->rank != 4 || ys->rank != 4 || graph_attr_ints(n, "_mode", &m) < 3 ||
        graph_attr_ints(n, "_scale_bits", &sb) < 2)
        return NULL;
    float sc[2];
    memcpy(&sc[0], &sb[0], 4);
    memcpy(&sc[1], &sb[1], 4);
    int64_t OH = ys->dims[2], OW = ys->dims[3];
    resize_grid *g = malloc(sizeof *g + sizeof(int64_t) * (size_t)(2 * OH + 2 * OW) +
                            sizeof(float) * (size_t)(OH + OW));
    if (!g) return NULL;
    unsigned char *base = (unsigned char *)(g + 1);
    void *ip = base, *fp = base + sizeof(int64_t) * (size_t)(2 * OH + 2 * OW);
    int64_t *iy = ip, *iy1 = iy + OH, *ix = iy1 + OH, *ix1 = ix + OW;
    float *wy = fp, *wx = wy + OH;
    resize_taps(m, xs->dims[2], OH, sc[0], iy, iy1, wy);
    resize_taps(m, xs->dims[3], OW, sc[1], ix, ix1, wx);
    *g = (resize_grid){ OH, OW, iy, iy1, ix, ix1, wy, wx };
    return g;
}

/* N x C x H x W f32: one plane at a time. */
static void resize_planes(const resize_grid *g, const graph_view *x, graph_view *y)
{
    int64_t H = x->shape.dims[2], W = x->shape.dims[3];
    int64_t OH = y->shape.dims[2], OW = y->shape.dims[3];
    int64_t planes = x->shape.dims[0] * x->shape.dims[1];
    const float *src = x->data;
    float *dst = y->data;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        const float *sp = src + p * H * W;
        float *dp = dst + p * OH * OW;
        for (int64_t oy = 0; oy < OH; oy++) {
            const float *r0 = sp + g->iy[oy] * W, *r1 = sp + g->iy1[oy] * W;
            float v = g->wy[oy];
            float *d = dp + oy * OW;
            for (int64_t ox = 0; ox < OW; ox++) {
                int64_t i0 = g->ix[ox], i1 = g->ix1[ox];
                float a = r0[i0] + g->wx[ox] * (r0[i1] - r0[i0]);
                float b = r1[i0] + g->wx[ox] * (r1[i1] - r1[i0]);
                d[ox] = a + v * (b - a);
            }
        }
    }
}

/* N x H x W x C, f32 or bf16 (blended in f32): the channels of a pixel are
 * contiguous, so each output pixel is four contiguous runs of C values
 * blended (blend_*). */
static void resize_nhwc(const resize_grid *g, const graph_view *x, graph_view *y)
{
    int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
    int64_t OH = y->shape.dims[2], OW = y->shape.dims[3];
    int bf = x->dtype == GRAPH_DT_BF16;
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < N; b++)
        for (int64_t oy = 0; oy < OH; oy++) {
            const int64_t s0 = (b * H + g->iy[oy]) * W, s1 = (b * H + g->iy1[oy]) * W;
            const int64_t d0 = (b * OH + oy) * OW;
            const float v = g->wy[oy];
            for (int64_t ox = 0; ox < OW; ox++) {
                int64_t o00 = (s0 + g->ix[ox]) * C, o01 = (s0 + g->ix1[ox]) * C;
                int64_t o10 = (s1 + g->ix[ox]) * C, o11 = (s1 + g->ix1[ox]) * C;
                int64_t od = (d0 + ox) * C;
                if (bf) {
                    const uint16_t *s = x->data;
                    blend_bf16(s + o00, s + o01, s + o10, s + o11, (uint16_t *)y->data + od, C, g->wx[ox], v);
                } else {
                    const float *s = x->data;
                    blend_f32(s + o00, s + o01, s + o10, s + o11, (float *)y->data + od, C, g->wx[ox], v);
                }
            }
        }
}

graph_status graph_resize_apply(const void *grid, const graph_view *x, graph_view *y)
{
    const resize_grid *g = grid;
    if (x->shape.rank != 4 || y->shape.rank != 4 || g->OH != y->shape.dims[2] || g->OW != y->shape.dims[3])
        return GRAPH_ERR_INVALID;
    if (x->nhwc) resize_nhwc(g, x, y);
    else resize_planes(g, x, y);
    return GRAPH_OK;
}

/* Resize of the last two axes of a 4-D float tensor, any mode and
 * coordinate transformation graph_shape.c accepts: the kernel for what
 * oneDNN's resampling cannot express (align_corners, as PyTorch's
 * nn.Upsample(align_corners=True) exports; downsampling with half_pixel),
 * on plain f32 or on the nhwc f32/bf16 activations between convs. A
 * compiled plan makes the grid once (graph_lower.c); this is the path of
 * constant folding. */
static graph_status resize(const graph_node *n, const graph_view *x, graph_view *y)
{
    void *g = graph_resize_grid(n, &x->shape, &y->shape);
    if (!g) return GRAPH_ERR_NOMEM;
    graph_status st = graph_resize_apply(g, x, y);
    free(g);
    return st;
}

graph_status graph_ref_run(const graph_node *n, int64_t opset, const graph_view *in,
                           int n_in, graph_view *out, int n_out, char *err, size_t errlen)
{
    (void)opset;
    (void)n_out;
    graph_view *y = &out[0];
    int64_t total = graph_shape_numel(&y->shape);
    size_t es = graph_dtype_size(y->dtype);
    if (is_op(n, "Identity") || is_op(n, "Reshape") || is_op(n, "Flatten") ||
        is_op(n, "Squeeze") || is_op(n, "Unsqueeze")) {
        memmove(y->data, in[0].data, (size_t)total * es);
        return GRAPH_OK;
    }
    if (is_op(n, "Shape")) {
        int64_t r = in[0].shape.rank, s = graph_attr_int(n, "start", 0),
                e = graph_attr_int(n, "end", r);
        if (s < 0) s += r;
        if (e < 0) e += r;
        if (s < 0) s = 0;
        if (e > r) e = r;
        for (int64_t i = s; i < e; i++) ((int64_t *)y->data)[i - s] = in[0].shape.dims[i];
        return GRAPH_OK;
    }
    if (is_op(n, "ConstantOfShape")) {
        const graph_attr *a = graph_node_attr(n, "value");
        for (int64_t i = 0; i < total; i++) {
            if (a && a->t) memcpy((char *)y->data + i * es, a->t->data, es);
            else store(y->data, y->dtype, i, 0);
        }
        return GRAPH_OK;
    }
    if (is_op(n, "Transpose")) return transpose(n, &in[0], y);
    if (is_op(n, "Resize") || is_op(n, "Upsample")) {
        /* plain f32, or nhwc f32/bf16; the output as the input */
        int dt_ok = in[0].dtype == GRAPH_DT_F32 || (in[0].nhwc && in[0].dtype == GRAPH_DT_BF16);
        if (in[0].shape.rank != 4 || in[0].nhwc != y->nhwc || y->dtype != in[0].dtype || !dt_ok)
            return GRAPH_ERR_UNSUPPORTED;
        return resize(n, &in[0], y);
    }
    if (is_op(n, "Gather")) return gather(n, in, y, err, errlen);
    if (is_op(n, "Slice")) return slice(n, &in[0], y);
    if (is_op(n, "Concat")) return concat(n, in, n_in, y);
    if (is_op(n, "Expand")) {
        int64_t ix[GRAPH_MAX_RANK] = { 0 };
        for (int64_t o = 0; o < total; o++) {
            memcpy((char *)y->data + o * es,
                   (const char *)in[0].data + idx_of(ix, &in[0].shape, y->shape.rank) * es, es);
            next_index(ix, &y->shape);
        }
        return GRAPH_OK;
    }
    if (n_in >= 2 && (is_op(n, "Add") || is_op(n, "Sub") || is_op(n, "Mul") ||
                      is_op(n, "Div") || is_op(n, "Pow"))) {
        int64_t ix[GRAPH_MAX_RANK] = { 0 };
        int r = y->shape.rank;
        int isint = y->dtype == GRAPH_DT_I64 || y->dtype == GRAPH_DT_I32;
        for (int64_t o = 0; o < total; o++) {
            double a = load(in[0].data, in[0].dtype, idx_of(ix, &in[0].shape, r));
            double b = load(in[1].data, in[1].dtype, idx_of(ix, &in[1].shape, r));
            store(y->data, y->dtype, o, binop(n->op, a, b, isint));
            next_index(ix, &y->shape);
        }
        return GRAPH_OK;
    }
    /* unary math and Cast */
    for (int64_t i = 0; i < total; i++)
        store(y->data, y->dtype, i, unop(n, load(in[0].data, in[0].dtype, i), in, n_in));
    return GRAPH_OK;
}
