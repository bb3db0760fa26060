/* graph_exec.h - the compiled plan: steps (oneDNN primitives or reference
 * kernels) over values that live in one per-stream arena or in constants
 * owned by the compiled model. Internal to graph/. */
#ifndef GRAPH_EXEC_H
#define GRAPH_EXEC_H

#include "graph_ir.h"
#include <oneapi/dnnl/dnnl.h>

enum { LAYOUT_PLAIN = 0, LAYOUT_NHWC = 1 };

typedef struct {
    int layout;
    int root;        /* storage owner (itself unless an alias) */
    int64_t bytes;
    int64_t offset;  /* arena offset of the root */
    int first, last; /* step range in which the root is live */
    int in_arena;
} rt_value;

#define STEP_MAX_ARGS 16
typedef struct {
    int arg;                 /* DNNL_ARG_* */
    dnnl_memory_desc_t md;
    int value;               /* arena/const value, or -1 */
    const void *cptr;        /* prepacked constant when value < 0 */
} step_arg;

enum { STEP_PRIM = 1, STEP_REF = 2 };
typedef struct {
    int kind;
    dnnl_primitive_t prim;
    int is_reorder;
    int n_args;
    step_arg args[STEP_MAX_ARGS];
    const graph_node *node;  /* STEP_REF */
    const void *aux;         /* STEP_REF of a Resize: its grid (graph_resize_grid), owned by the bucket */
    const char *obs_name;    /* a conv: its input's ONNX name (calibration) */
    int obs_value;           /* ... and the value the step reads it from */
    int n_in, n_out;
    int in[16], out[4];
} step;

typedef struct {
    graph_ir ir;             /* specialised, fused graph; owns folded data */
    rt_value *rv;            /* per value */
    step *steps;
    int n_steps, cap_steps;
    size_t arena_bytes;
    size_t scratch_bytes;
    void **packed;           /* prepacked weights owned by the bucket */
    int n_packed, cap_packed;
    graph_shape *in_shapes, *out_shapes;
    int *out_dtypes;
    int n_reorders;
    int n_int8, n_quantize;  /* int8 convs, and the reorders quantizing their input */
} bucket;

struct graph_compiled {
    dnnl_engine_t engine;
    int n_threads;
    int precision;           /* GRAPH_PREC_F32, _BF16 or _INT8 */
    int float_prec;          /* F32 or BF16: the arithmetic of what is not int8 */
    const graph_ranges *ranges; /* INT8, during graph_compile only */
    int int8_convs;          /* GRAPH_INT8_* */
    float int8_min_sqnr;     /* dB */
    int64_t opset;
    int n_inputs, n_outputs;
    int n_buckets;
    bucket *b;
};

/* lower one specialised bucket into steps (graph_lower.c) */
graph_status graph_lower(struct graph_compiled *c, bucket *b, char *err, size_t errlen);
/* arena plan (graph_plan.c) */
graph_status graph_plan(bucket *b, char *err, size_t errlen);

#endif
