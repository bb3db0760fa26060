/* graph_onnx.c - ONNX protobuf (protobuf-c) -> graph IR. Constant nodes and
 * initializers become constant values; everything is validated here so the
 * rest of graph/ can trust indices and sizes. */
#include "graph_ir.h"
#include "onnx/onnx.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ELEMS ((int64_t)1 << 34)

static graph_status tensor_from_proto(const Onnx__TensorProto *tp,
                                      graph_host_tensor *out, char *err,
                                      size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *nm = tp->name ? tp->name : "";
    if (tp->has_data_location &&
        tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        graph_errf(err, errlen, "tensor '%s': external data is not supported", nm);
        return GRAPH_ERR_UNSUPPORTED;
    }
    if (tp->n_dims > GRAPH_MAX_RANK) {
        graph_errf(err, errlen, "tensor '%s': rank %zu exceeds %d", nm,
                   tp->n_dims, GRAPH_MAX_RANK);
        return GRAPH_ERR_UNSUPPORTED;
    }
    int dt = tp->has_data_type ? tp->data_type : 0;
    size_t es = dt == GRAPH_DT_BF16 ? 0 : graph_dtype_size(dt);
    if (!es) {
        graph_errf(err, errlen, "tensor '%s': data type %s (%d) is not supported",
                   nm, graph_dtype_name(dt), dt);
        return GRAPH_ERR_UNSUPPORTED;
    }
    out->dtype = dt;
    out->shape.rank = (int)tp->n_dims;
    int64_t n = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0 || tp->dims[i] > MAX_ELEMS) {
            graph_errf(err, errlen, "tensor '%s': invalid dimension %lld", nm,
                       (long long)tp->dims[i]);
            return GRAPH_ERR_PARSE;
        }
        out->shape.dims[i] = tp->dims[i];
        if (tp->dims[i] && n > MAX_ELEMS / tp->dims[i]) {
            graph_errf(err, errlen, "tensor '%s': too many elements", nm);
            return GRAPH_ERR_PARSE;
        }
        n *= tp->dims[i];
    }
    size_t bytes = (size_t)n * es;
    /* The data present, checked against the shape before anything is
     * allocated: a forged shape must not allocate what the file lacks. */
    size_t have;
    if (tp->has_raw_data) have = tp->raw_data.len;
    else if (dt == GRAPH_DT_F32) have = tp->n_float_data * 4;
    else if (dt == GRAPH_DT_I64) have = tp->n_int64_data * 8;
    else if (dt == GRAPH_DT_F64) have = tp->n_double_data * 8;
    else have = tp->n_int32_data * es; /* i32; bool, u8, i8 stored widened */
    if (have != bytes) {
        graph_errf(err, errlen, "tensor '%s': %zu bytes of data, shape needs %zu",
                   nm, have, bytes);
        return GRAPH_ERR_PARSE;
    }
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) return GRAPH_ERR_NOMEM;
    if (!bytes) return GRAPH_OK;
    if (tp->has_raw_data) memcpy(out->data, tp->raw_data.data, bytes);
    else if (dt == GRAPH_DT_F32) memcpy(out->data, tp->float_data, bytes);
    else if (dt == GRAPH_DT_I64) memcpy(out->data, tp->int64_data, bytes);
    else if (dt == GRAPH_DT_F64) memcpy(out->data, tp->double_data, bytes);
    else if (dt == GRAPH_DT_I32) memcpy(out->data, tp->int32_data, bytes);
    else
        for (int64_t i = 0; i < n; i++)
            ((uint8_t *)out->data)[i] = (uint8_t)tp->int32_data[i];
    return GRAPH_OK;
}

static graph_status read_file(const char *path, uint8_t **buf, size_t *len,
                              char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        graph_errf(err, errlen, "%s: %s", path, strerror(errno));
        return GRAPH_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        graph_errf(err, errlen, "%s: not a regular file", path);
        return GRAPH_ERR_IO;
    }
    if (st.st_size == 0) {
        graph_errf(err, errlen, "%s: empty file", path);
        return GRAPH_ERR_IO;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        graph_errf(err, errlen, "%s: %s", path, strerror(errno));
        return GRAPH_ERR_IO;
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len);
    if (!*buf) {
        fclose(f);
        return GRAPH_ERR_NOMEM;
    }
    size_t got = fread(*buf, 1, *len, f);
    fclose(f);
    if (got != *len) {
        free(*buf);
        graph_errf(err, errlen, "%s: short read", path);
        return GRAPH_ERR_IO;
    }
    return GRAPH_OK;
}

graph_status graph_tensor_read_pb(const char *path, graph_host_tensor *out,
                                  char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    graph_status st = read_file(path, &buf, &len, err, errlen);
    if (st) return st;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp) {
        graph_errf(err, errlen, "%s: not a valid ONNX TensorProto", path);
        return GRAPH_ERR_PARSE;
    }
    char e2[256] = "";
    st = tensor_from_proto(tp, out, e2, sizeof e2);
    if (st) graph_errf(err, errlen, "%s: %s", path, e2);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return st;
}

/* Name -> latest value index while loading (ONNX graphs have thousands of
 * values; a linear search per input made loading quadratic). */
typedef struct {
    int *slot;
    size_t cap;
} name_index;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static int ni_find(const name_index *x, const graph_ir *ir, const char *name)
{
    for (size_t i = hash_str(name) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
        int v = x->slot[i];
        if (v < 0) return -1;
        if (strcmp(ir->values[v].name, name) == 0) return v;
    }
}

static void ni_put(name_index *x, const graph_ir *ir, int v)
{
    const char *name = ir->values[v].name;
    for (size_t i = hash_str(name) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
        int w = x->slot[i];
        if (w < 0 || strcmp(ir->values[w].name, name) == 0) {
            x->slot[i] = v;
            return;
        }
    }
}

/* Make `name` a constant value that takes ownership of t's data. */
static int add_const(graph_ir *ir, const char *name, graph_host_tensor *t)
{
    int v = graph_ir_add_value(ir, name);
    if (v < 0) return -1;
    ir->values[v].dtype = t->dtype;
    ir->values[v].shape = t->shape;
    ir->values[v].data = t->data;
    ir->values[v].owns_data = 1;
    t->data = NULL;
    return v;
}

static graph_status constant_node(graph_ir *ir, const Onnx__NodeProto *np,
                                  char *err, size_t errlen)
{
    graph_host_tensor t = { 0 };
    const char *nm = np->name ? np->name : "";
    if (np->n_output != 1 || np->n_attribute != 1) {
        graph_errf(err, errlen, "Constant '%s': needs one output and one attribute", nm);
        return GRAPH_ERR_PARSE;
    }
    const Onnx__AttributeProto *a = np->attribute[0];
    const char *an = a->name ? a->name : "";
    if (strcmp(an, "value") == 0 && a->t) {
        graph_status st = tensor_from_proto(a->t, &t, err, errlen);
        if (st) return st;
    } else if (strcmp(an, "value_float") == 0 || strcmp(an, "value_floats") == 0) {
        int scalar = an[11] == 0;
        size_t n = scalar ? 1 : a->n_floats;
        t.dtype = GRAPH_DT_F32;
        t.shape.rank = scalar ? 0 : 1;
        t.shape.dims[0] = (int64_t)n;
        t.data = malloc(n * 4 + 4);
        if (!t.data) return GRAPH_ERR_NOMEM;
        if (scalar) ((float *)t.data)[0] = a->f;
        else if (n) memcpy(t.data, a->floats, n * 4);
    } else if (strcmp(an, "value_int") == 0 || strcmp(an, "value_ints") == 0) {
        int scalar = an[9] == 0;
        size_t n = scalar ? 1 : a->n_ints;
        t.dtype = GRAPH_DT_I64;
        t.shape.rank = scalar ? 0 : 1;
        t.shape.dims[0] = (int64_t)n;
        t.data = malloc(n * 8 + 8);
        if (!t.data) return GRAPH_ERR_NOMEM;
        if (scalar) ((int64_t *)t.data)[0] = a->i;
        else if (n) memcpy(t.data, a->ints, n * 8);
    } else {
        graph_errf(err, errlen, "Constant '%s': attribute '%s' is not supported", nm, an);
        free(t.data); /* NULL on this path; said so that no branch can leak it */
        return GRAPH_ERR_UNSUPPORTED;
    }
    if (add_const(ir, np->output[0], &t) < 0) {
        free(t.data);
        return GRAPH_ERR_NOMEM;
    }
    return GRAPH_OK;
}

static graph_status convert_attr(const Onnx__AttributeProto *a, graph_attr *o,
                                 const char *node, char *err, size_t errlen)
{
    o->name = strdup(a->name ? a->name : "");
    if (!o->name) return GRAPH_ERR_NOMEM;
    o->type = a->has_type ? (int)a->type : 0;
    switch (o->type) {
    case GA_FLOAT: o->f = a->f; break;
    case GA_INT: o->i = a->i; break;
    case GA_STRING:
        o->s = malloc(a->s.len + 1);
        if (!o->s) return GRAPH_ERR_NOMEM;
        if (a->s.len) memcpy(o->s, a->s.data, a->s.len);
        o->s[a->s.len] = 0;
        break;
    case GA_INTS:
        o->n = (int)a->n_ints;
        o->ints = malloc(a->n_ints * 8 + 8);
        if (!o->ints) return GRAPH_ERR_NOMEM;
        if (a->n_ints) memcpy(o->ints, a->ints, a->n_ints * 8);
        break;
    case GA_FLOATS:
        o->n = (int)a->n_floats;
        o->floats = malloc(a->n_floats * 4 + 4);
        if (!o->floats) return GRAPH_ERR_NOMEM;
        if (a->n_floats) memcpy(o->floats, a->floats, a->n_floats * 4);
        break;
    case GA_STRINGS:
        o->n = (int)a->n_strings; /* kept only as a count */
        break;
    case GA_TENSOR: {
        o->t = calloc(1, sizeof *o->t);
        if (!o->t) return GRAPH_ERR_NOMEM;
        if (!a->t) return GRAPH_ERR_PARSE;
        return tensor_from_proto(a->t, o->t, err, errlen);
    }
    default:
        graph_errf(err, errlen, "node '%s': attribute '%s' of type %d is not supported",
                   node, o->name, o->type);
        return GRAPH_ERR_UNSUPPORTED;
    }
    return GRAPH_OK;
}

static graph_status value_info_shape(const Onnx__ValueInfoProto *vi, int *dtype,
                                     graph_shape *shape, char *err, size_t errlen)
{
    const char *nm = vi->name ? vi->name : "";
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !vi->type->tensor_type) {
        graph_errf(err, errlen, "graph input/output '%s' is not a tensor", nm);
        return GRAPH_ERR_UNSUPPORTED;
    }
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    *dtype = tt->has_elem_type ? tt->elem_type : 0;
    memset(shape, 0, sizeof *shape);
    if (!tt->shape) { shape->rank = -1; return GRAPH_OK; }
    if (tt->shape->n_dim > GRAPH_MAX_RANK) {
        graph_errf(err, errlen, "'%s': rank %zu exceeds %d", nm, tt->shape->n_dim, GRAPH_MAX_RANK);
        return GRAPH_ERR_UNSUPPORTED;
    }
    shape->rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        int fixed = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (fixed && (d->dim_value < 0 || d->dim_value > MAX_ELEMS)) {
            graph_errf(err, errlen, "'%s': dimension %zu is %lld (%s)", nm, i, (long long)d->dim_value,
                       d->dim_value < 0 ? "negative" : "more than 2^34 elements");
            return GRAPH_ERR_PARSE;
        }
        shape->dims[i] = fixed ? d->dim_value : -1;
    }
    return GRAPH_OK;
}

static graph_status load_graph_indexed(graph_model *m, const Onnx__ModelProto *mp,
                                       name_index *ix, char *err, size_t errlen);
static graph_status load_graph(graph_model *m, const Onnx__ModelProto *mp,
                               char *err, size_t errlen)
{
    const Onnx__GraphProto *g = mp->graph;
    graph_status st;
    name_index ix = { 0 };
    size_t want = 2 * (g->n_initializer + g->n_input + g->n_output);
    for (size_t k = 0; k < g->n_node; k++) want += 2 * g->node[k]->n_output;
    for (ix.cap = 64; ix.cap < want + 16; ix.cap *= 2) {}
    ix.slot = malloc(ix.cap * sizeof(int));
    if (!ix.slot) return GRAPH_ERR_NOMEM;
    for (size_t i = 0; i < ix.cap; i++) ix.slot[i] = -1;
    st = load_graph_indexed(m, mp, &ix, err, errlen);
    free(ix.slot);
    return st;
}

static graph_status load_graph_indexed(graph_model *m, const Onnx__ModelProto *mp,
                                       name_index *ix, char *err, size_t errlen)
{
    graph_ir *ir = &m->ir;
    const Onnx__GraphProto *g = mp->graph;
    graph_status st;
    m->opset = 0;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0)
            m->opset = o->version;
    }
    if (!m->opset) m->opset = 1;
    if (g->n_sparse_initializer) {
        graph_errf(err, errlen, "sparse initializers are not supported");
        return GRAPH_ERR_UNSUPPORTED;
    }
    for (size_t i = 0; i < g->n_initializer; i++) {
        graph_host_tensor t;
        if ((st = tensor_from_proto(g->initializer[i], &t, err, errlen))) return st;
        int cv = add_const(ir, g->initializer[i]->name ? g->initializer[i]->name : "", &t);
        if (cv < 0) {
            free(t.data);
            return GRAPH_ERR_NOMEM;
        }
        ni_put(ix, ir, cv);
    }
    ir->inputs = calloc(g->n_input + 1, sizeof(int));
    ir->outputs = calloc(g->n_output + 1, sizeof(int));
    if (!ir->inputs || !ir->outputs) return GRAPH_ERR_NOMEM;
    for (size_t i = 0; i < g->n_input; i++) {
        const char *nm = g->input[i]->name ? g->input[i]->name : "";
        if (ni_find(ix, ir, nm) >= 0) continue; /* an initializer */
        int dt;
        graph_shape sh;
        if ((st = value_info_shape(g->input[i], &dt, &sh, err, errlen))) return st;
        /* bf16 exists only inside a compiled bf16 plan, never at its edges */
        if (!graph_dtype_size(dt) || dt == GRAPH_DT_BF16) {
            graph_errf(err, errlen, "graph input '%s': data type %s (%d) is not supported", nm,
                       graph_dtype_name(dt), dt);
            return GRAPH_ERR_UNSUPPORTED;
        }
        int v = graph_ir_add_value(ir, nm);
        if (v < 0) return GRAPH_ERR_NOMEM;
        ir->values[v].dtype = dt;
        ir->values[v].shape = sh;
        ir->inputs[ir->n_inputs++] = v;
        ni_put(ix, ir, v);
    }
    ir->nodes = calloc(g->n_node + 1, sizeof *ir->nodes);
    if (!ir->nodes) return GRAPH_ERR_NOMEM;
    ir->cap_nodes = (int)g->n_node + 1;
    for (size_t k = 0; k < g->n_node; k++) {
        const Onnx__NodeProto *np = g->node[k];
        const char *op = np->op_type ? np->op_type : "";
        const char *nm = np->name && np->name[0] ? np->name : op;
        if (np->domain && np->domain[0] && strcmp(np->domain, "ai.onnx") != 0) {
            graph_errf(err, errlen, "node '%s': op %s of domain '%s' is not supported",
                       nm, op, np->domain);
            return GRAPH_ERR_UNSUPPORTED;
        }
        /* names starting with '_' are docrt's own (fused ops such as _Elt,
         * attributes such as _red that shape inference writes) */
        if (op[0] == '_') {
            graph_errf(err, errlen, "node '%s': op %s is not supported (names starting "
                       "with '_' are reserved)", nm, op);
            return GRAPH_ERR_UNSUPPORTED;
        }
        for (size_t a = 0; a < np->n_attribute; a++)
            if (np->attribute[a]->name && np->attribute[a]->name[0] == '_') {
                graph_errf(err, errlen, "node '%s' (%s): attribute '%s' is not supported (names "
                           "starting with '_' are reserved)", nm, op, np->attribute[a]->name);
                return GRAPH_ERR_UNSUPPORTED;
            }
        for (size_t i = 0; i < np->n_input; i++) {
            if (np->input[i][0] && ni_find(ix, ir, np->input[i]) < 0) {
                graph_errf(err, errlen, "node '%s' (%s): input '%s' is not produced by any "
                           "earlier node, initializer or graph input", nm, op, np->input[i]);
                return GRAPH_ERR_PARSE;
            }
        }
        if (strcmp(op, "Constant") == 0) {
            if ((st = constant_node(ir, np, err, errlen))) return st;
            ni_put(ix, ir, ir->n_values - 1);
            continue;
        }
        graph_node *n = &ir->nodes[ir->n_nodes++];
        n->op = strdup(op);
        n->name = strdup(nm);
        n->n_in = (int)np->n_input;
        n->n_out = (int)np->n_output;
        n->in = calloc(np->n_input + 1, sizeof(int));
        n->out = calloc(np->n_output + 1, sizeof(int));
        n->attrs = calloc(np->n_attribute + 1, sizeof *n->attrs);
        if (!n->op || !n->name || !n->in || !n->out || !n->attrs) return GRAPH_ERR_NOMEM;
        for (size_t i = 0; i < np->n_input; i++)
            n->in[i] = np->input[i][0] ? ni_find(ix, ir, np->input[i]) : -1;
        for (size_t a = 0; a < np->n_attribute; a++) {
            n->n_attr++;
            if ((st = convert_attr(np->attribute[a], &n->attrs[a], nm, err, errlen))) return st;
        }
        for (size_t i = 0; i < np->n_output; i++) {
            if (!np->output[i][0]) { n->out[i] = -1; continue; }
            int v = graph_ir_add_value(ir, np->output[i]);
            if (v < 0) return GRAPH_ERR_NOMEM;
            n->out[i] = v;
            ni_put(ix, ir, v);
        }
    }
    for (size_t i = 0; i < g->n_output; i++) {
        const char *nm = g->output[i]->name ? g->output[i]->name : "";
        int v = ni_find(ix, ir, nm);
        if (v < 0) {
            graph_errf(err, errlen, "graph output '%s' is not produced by any node", nm);
            return GRAPH_ERR_PARSE;
        }
        ir->outputs[ir->n_outputs++] = v;
    }
    if (ir->n_outputs == 0) {
        graph_errf(err, errlen, "graph has no outputs");
        return GRAPH_ERR_PARSE;
    }
    return GRAPH_OK;
}

graph_status graph_model_load_buffer(const void *data, size_t len,
                                     graph_model **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!data || !len) {
        graph_errf(err, errlen, "empty model");
        return GRAPH_ERR_PARSE;
    }
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    if (!mp) {
        graph_errf(err, errlen, "not a valid ONNX model (protobuf parse failed; "
                   "truncated or not ONNX)");
        return GRAPH_ERR_PARSE;
    }
    if (!mp->graph) {
        onnx__model_proto__free_unpacked(mp, NULL);
        graph_errf(err, errlen, "ONNX model has no graph");
        return GRAPH_ERR_PARSE;
    }
    graph_model *m = calloc(1, sizeof *m);
    if (!m) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return GRAPH_ERR_NOMEM;
    }
    graph_status st = load_graph(m, mp, err, errlen);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st) {
        graph_model_free(m);
        return st;
    }
    *out = m;
    return GRAPH_OK;
}

graph_status graph_model_load_file(const char *path, graph_model **out,
                                   char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    graph_status st = read_file(path, &buf, &len, err, errlen);
    if (st) return st;
    char e2[512] = "";
    st = graph_model_load_buffer(buf, len, out, e2, sizeof e2);
    free(buf);
    if (st) graph_errf(err, errlen, "%s: %s", path, e2);
    return st;
}

void graph_model_free(graph_model *m)
{
    if (!m) return;
    graph_ir_free(&m->ir);
    free(m);
}

int graph_model_n_inputs(const graph_model *m) { return m->ir.n_inputs; }
int graph_model_n_outputs(const graph_model *m) { return m->ir.n_outputs; }
const char *graph_model_input_name(const graph_model *m, int i)
{
    return i >= 0 && i < m->ir.n_inputs ? m->ir.values[m->ir.inputs[i]].name : NULL;
}
const char *graph_model_output_name(const graph_model *m, int i)
{
    return i >= 0 && i < m->ir.n_outputs ? m->ir.values[m->ir.outputs[i]].name : NULL;
}
int graph_model_input_dtype(const graph_model *m, int i)
{
    return i >= 0 && i < m->ir.n_inputs ? m->ir.values[m->ir.inputs[i]].dtype : 0;
}
graph_shape graph_model_input_shape(const graph_model *m, int i)
{
    graph_shape s = { 0 };
    if (i >= 0 && i < m->ir.n_inputs) s = m->ir.values[m->ir.inputs[i]].shape;
    return s;
}

graph_status graph_model_bind_constant(graph_model *m, const char *name, const graph_host_tensor *t,
                                       char *err, size_t errlen)
{
    graph_ir *ir = &m->ir;
    for (int i = 0; i < ir->n_inputs; i++) {
        graph_value *v = &ir->values[ir->inputs[i]];
        if (strcmp(v->name, name) != 0) continue;
        if (v->dtype != t->dtype) {
            graph_errf(err, errlen, "input '%s': %s given, model expects %s", name,
                       graph_dtype_name(t->dtype), graph_dtype_name(v->dtype));
            return GRAPH_ERR_SHAPE;
        }
        size_t bytes = (size_t)graph_shape_numel(&t->shape) * graph_dtype_size(t->dtype);
        void *d = malloc(bytes ? bytes : 1);
        if (!d) return GRAPH_ERR_NOMEM;
        if (bytes) memcpy(d, t->data, bytes);
        v->data = d;
        v->owns_data = 1;
        v->shape = t->shape;
        memmove(&ir->inputs[i], &ir->inputs[i + 1], (size_t)(ir->n_inputs - i - 1) * sizeof(int));
        ir->n_inputs--;
        return GRAPH_OK;
    }
    graph_errf(err, errlen, "model has no input '%s'", name);
    return GRAPH_ERR_INVALID;
}
