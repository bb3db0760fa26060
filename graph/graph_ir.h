/* graph_ir.h - internal IR of graph/: values, nodes, attributes, and the
 * per-bucket specialised graph that lowering consumes. Not a public header. */
#ifndef GRAPH_IR_H
#define GRAPH_IR_H

#include "graph.h"
#include <stdarg.h>

enum { GA_FLOAT = 1, GA_INT = 2, GA_STRING = 3, GA_TENSOR = 4,
       GA_FLOATS = 6, GA_INTS = 7, GA_STRINGS = 8 };

typedef struct {
    char *name;
    int type;
    float f;
    int64_t i;
    char *s;
    int n;          /* element count of ints / floats / strings */
    int64_t *ints;
    float *floats;
    graph_host_tensor *t;
} graph_attr;

typedef struct {
    char *name;
    int dtype;
    graph_shape shape;
    void *data;     /* constant payload, dense row-major, or NULL */
    int owns_data;
} graph_value;

/* Post-operations fused into a node (conv, deconv, matmul, binary, ...). */
enum { GP_ELT = 1, GP_SUM = 2, GP_BIN_MUL = 3, GP_BIN_ADD = 4 };
typedef struct {
    int kind;
    int alg;            /* dnnl_alg_kind_t for GP_ELT */
    float alpha, beta;
    int value;          /* GP_SUM / GP_BIN_*: the other operand */
} graph_postop;

#define GRAPH_MAX_POST 8
typedef struct {
    char *op;
    char *name;
    int n_in, n_out;
    int *in, *out;      /* value indices; -1 for an omitted optional */
    int n_attr;
    graph_attr *attrs;
    int dead;
    int n_post;
    graph_postop post[GRAPH_MAX_POST];
} graph_node;

/* A value table plus nodes in topological order. The model owns one; each
 * bucket's specialisation is a copy whose constants share the model's data. */
typedef struct {
    int n_values, cap_values;
    graph_value *values;
    int n_nodes, cap_nodes;
    graph_node *nodes;
    int n_inputs, n_outputs;
    int *inputs, *outputs;
} graph_ir;

struct graph_model {
    graph_ir ir;
    int64_t opset;
};

/* error helper: writes "fmt" into err if err != NULL */
void graph_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* IR helpers */
int graph_ir_add_value(graph_ir *ir, const char *name);
int graph_ir_find_value(const graph_ir *ir, const char *name);
void graph_ir_free(graph_ir *ir);
graph_status graph_ir_copy(const graph_ir *src, graph_ir *dst);
const graph_attr *graph_node_attr(const graph_node *n, const char *name);
int64_t graph_attr_int(const graph_node *n, const char *name, int64_t dflt);
float graph_attr_float(const graph_node *n, const char *name, float dflt);
const char *graph_attr_str(const graph_node *n, const char *name,
                           const char *dflt);
int graph_attr_ints(const graph_node *n, const char *name,
                    const int64_t **ints); /* count, -1 if absent */
void graph_shape_str(const graph_shape *s, char *buf, size_t len);
/* dense row-major strides */
void graph_shape_strides(const graph_shape *s, int64_t *strides);
/* Broadcast a and b (numpy rules) into out; 0 on mismatch. */
int graph_broadcast(const graph_shape *a, const graph_shape *b,
                    graph_shape *out);
/* read a constant int tensor (i64/i32) into int64 buffer; count or -1 */
int graph_value_ints(const graph_value *v, int64_t *out, int max);
double graph_value_scalar(const graph_value *v); /* first element as double */

/* Specialise a copy of the model graph for fixed input shapes: infer every
 * shape, fold every constant sub-graph, drop dead nodes. */
graph_status graph_specialise(graph_ir *ir, const graph_shape *input_shapes,
                              int64_t opset, char *err, size_t errlen);
/* Fusion passes on a specialised graph. */
graph_status graph_fuse(graph_ir *ir, char *err, size_t errlen);
/* Whether the op (with its attributes) is supported, and shape inference of
 * one node; runs reference kernels to fold when all inputs are constant. */
graph_status graph_infer_node(graph_ir *ir, graph_node *n, int64_t opset,
                              char *err, size_t errlen);

/* Reference kernels on dense row-major tensors. */
typedef struct {
    int dtype;
    /* a 4-D tensor stored N, H, W, C (Resize only: its kernel also runs on
     * the nhwc f32 or bf16 activations between convolutions) */
    int nhwc;
    graph_shape shape;
    void *data;
} graph_view;
/* 1 if the op has a reference kernel for these dtypes */
int graph_ref_supported(const graph_node *n, const graph_view *in, int n_in);
/* Resize's source rows, columns and weights for node n at these shapes,
 * made once (malloc'd; NULL when out of memory or not a 4-D Resize), and
 * the resize that uses them on plain f32 or nhwc f32/bf16 views. */
void *graph_resize_grid(const graph_node *n, const graph_shape *xs, const graph_shape *ys);
graph_status graph_resize_apply(const void *grid, const graph_view *x, graph_view *y);
graph_status graph_ref_run(const graph_node *n, int64_t opset,
                           const graph_view *in, int n_in,
                           graph_view *out, int n_out,
                           char *err, size_t errlen);

/* A ConvTranspose that lowers to a 1x1 convolution to 4 x OC channels
 * and a depth-to-space copy: kernel 2x2, stride 2, no padding, one group,
 * no dilation (graph_fuse.c; shapes inferred). */
int graph_deconv_as_conv(const graph_node *n);

/* counters (graph_core.c) */
void graph_count_primitive(void);

#endif
