/* graph.h - the graph builder and executor on oneDNN.
 *
 * Knows nothing of OCR. Loads an ONNX model into an IR, specialises it for a
 * fixed set of input shapes (buckets), fuses, plans one activation arena, and
 * lowers every node to oneDNN primitives that are created once, at compile.
 *
 *   graph_model    parsed ONNX, immutable
 *   graph_compiled all buckets' primitives and prepacked weights; shared
 *                  read-only by every stream
 *   graph_stream   one per worker thread: arena, scratchpad, memory objects;
 *                  allocates nothing after creation
 *
 * Every function that can fail returns a graph_status and, where it takes an
 * err buffer, writes a one-line reason there (op, node, attribute, file).
 */
#ifndef GRAPH_H
#define GRAPH_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    GRAPH_OK = 0,
    GRAPH_ERR_IO,          /* file missing, unreadable, empty */
    GRAPH_ERR_PARSE,       /* not a valid ONNX / tensor protobuf, bad .npy */
    GRAPH_ERR_UNSUPPORTED, /* op, attribute value or dtype not supported */
    GRAPH_ERR_SHAPE,       /* shapes do not agree */
    GRAPH_ERR_NO_BUCKET,   /* input larger than every compiled bucket */
    GRAPH_ERR_DNNL,        /* oneDNN refused a descriptor or primitive */
    GRAPH_ERR_NOMEM,
    GRAPH_ERR_INVALID      /* bad argument from the caller */
} graph_status;

const char *graph_status_str(graph_status s);

/* Element types use ONNX TensorProto.DataType codes. */
enum { GRAPH_DT_F32 = 1, GRAPH_DT_U8 = 2, GRAPH_DT_I8 = 3, GRAPH_DT_I32 = 6,
       GRAPH_DT_I64 = 7, GRAPH_DT_BOOL = 9, GRAPH_DT_F64 = 11,
       GRAPH_DT_BF16 = 16 /* only inside a bf16 plan, never an input/output */ };
size_t graph_dtype_size(int dtype); /* 0 if unknown */
const char *graph_dtype_name(int dtype);

#define GRAPH_MAX_RANK 8
typedef struct {
    int rank;
    int64_t dims[GRAPH_MAX_RANK]; /* -1: dynamic (model inputs only) */
} graph_shape;

int64_t graph_shape_numel(const graph_shape *s); /* 0 with a zero dim; saturates at INT64_MAX */
int graph_shape_eq(const graph_shape *a, const graph_shape *b); /* same rank and dims */

/* A dense row-major host tensor (used for I/O, constants and test files). */
typedef struct {
    int dtype;
    graph_shape shape;
    void *data; /* owned, malloc'd; graph_host_tensor_free releases it */
} graph_host_tensor;
void graph_host_tensor_free(graph_host_tensor *t);

/* Read an ONNX TensorProto file (the .pb files of ONNX's test suite). */
graph_status graph_tensor_read_pb(const char *path, graph_host_tensor *out,
                                  char *err, size_t errlen);

/* ---- model ---- */
typedef struct graph_model graph_model;

graph_status graph_model_load_file(const char *path, graph_model **out,
                                   char *err, size_t errlen);
graph_status graph_model_load_buffer(const void *data, size_t len,
                                     graph_model **out, char *err,
                                     size_t errlen);
void graph_model_free(graph_model *m);

int graph_model_n_inputs(const graph_model *m);
int graph_model_n_outputs(const graph_model *m);
const char *graph_model_input_name(const graph_model *m, int i);
const char *graph_model_output_name(const graph_model *m, int i);
int graph_model_input_dtype(const graph_model *m, int i);
graph_shape graph_model_input_shape(const graph_model *m, int i);

/* Bind a model input to constant data (copied), as if it were an
 * initializer: weights passed as graph inputs, fixed parameters. The input
 * leaves the model's input list. */
graph_status graph_model_bind_constant(graph_model *m, const char *input_name,
                                       const graph_host_tensor *t,
                                       char *err, size_t errlen);

/* ---- activation ranges (int8 calibration) ---- */
/* The smallest and largest value seen at the input of each convolution,
 * keyed by the ONNX name of that input. */
typedef struct {
    char *name;
    float lo, hi;       /* the extremes */
    float clo, chi;     /* the extremes without the outer 1e-4 of the
                         * values at each end (the widest over runs): the
                         * range int8 covers, saturating beyond */
    double sumsq, count; /* sum of squares and count of the values seen:
                          * their RMS says how much of the range the
                          * typical value uses (see GRAPH_INT8_MIN_SQNR) */
} graph_range;
typedef struct {
    int n, cap;
    graph_range *r;
} graph_ranges;
/* Widen name's ranges to cover [lo, hi] and [clo, chi] and add count
 * values whose squares sum to sumsq (added if new). */
graph_status graph_ranges_update(graph_ranges *rs, const char *name, float lo,
                                 float hi, float clo, float chi, double sumsq,
                                 double count);
const graph_range *graph_ranges_find(const graph_ranges *rs, const char *name);
void graph_ranges_free(graph_ranges *rs); /* and zero it */

/* ---- compile ---- */
typedef struct {
    int n_threads;      /* threads per stream; baked into the primitives */
    int cache_capacity; /* oneDNN primitive cache capacity, set explicitly */
    int precision;      /* GRAPH_PREC_*: arithmetic of convs and matmuls */
    /* INT8: the calibrated input ranges (read during graph_compile only) */
    const graph_ranges *ranges;
    /* INT8: which convolutions run in int8 (GRAPH_INT8_* bits; 0 = the
     * default, GRAPH_INT8_DEFAULT) */
    int int8_convs;
    /* INT8: the arithmetic of everything not in int8: F32, BF16, or AUTO
     * (the default: what AUTO picks) */
    int int8_float;
    /* INT8: a convolution stays float when quantizing its input would leave
     * a signal-to-noise ratio under this many dB: 10 log10(12 rms^2 /
     * step^2), step = the range / 255. 0 = GRAPH_INT8_MIN_SQNR. */
    float int8_min_sqnr;
} graph_compile_params;
enum {
    GRAPH_INT8_POINTWISE = 1, /* 1x1, one group */
    GRAPH_INT8_DENSE = 2,     /* KxK (K > 1), one group */
    GRAPH_INT8_GROUPED = 4,   /* grouped and depthwise */
    GRAPH_INT8_DEFAULT = GRAPH_INT8_POINTWISE | GRAPH_INT8_DENSE
};
#define GRAPH_INT8_MIN_SQNR 30.0f
/* F32: everything in f32. BF16: convolutions, matmuls and the element-wise
 * ops between them in bf16 (AMX where the CPU has it; f32 accumulation);
 * layer norm, softmax, reductions, LSTM and reference kernels stay f32,
 * inputs and outputs are f32. AUTO: BF16 where the CPU has AVX512_BF16 or
 * AMX, else F32 (graph_precision_resolve says which). */
/* INT8: each convolution of the classes in int8_convs whose input has a
 * calibrated range takes int8 input (u8 when the range is non-negative,
 * or, for a convolution that reads no padding, u8 with a zero point taken
 * out through the bias; else s8; per-tensor scale, a quantizing reorder
 * before it) and s8 weights
 * with per-output-channel scales, and gives the float type of the rest of
 * the plan (int8_float: f32 or bf16). Transposed
 * convolutions and everything else stay float. */
enum { GRAPH_PREC_F32 = 0, GRAPH_PREC_BF16 = 1, GRAPH_PREC_AUTO = 2,
       GRAPH_PREC_INT8 = 3 };
int graph_precision_resolve(int precision); /* AUTO -> F32 or BF16 */
const char *graph_precision_name(int precision);
graph_compile_params graph_compile_default_params(void);

typedef struct graph_compiled graph_compiled;

/* bucket_shapes holds n_buckets * n_inputs shapes, bucket-major. Every
 * primitive of every bucket is created here; nothing is created later. */
graph_status graph_compile(const graph_model *m,
                           const graph_shape *bucket_shapes, int n_buckets,
                           const graph_compile_params *p,
                           graph_compiled **out, char *err, size_t errlen);
void graph_compiled_free(graph_compiled *c);

int graph_compiled_n_buckets(const graph_compiled *c);
int graph_compiled_n_inputs(const graph_compiled *c);
int graph_compiled_n_outputs(const graph_compiled *c);
graph_shape graph_compiled_input_shape(const graph_compiled *c, int bucket,
                                       int input);
graph_shape graph_compiled_output_shape(const graph_compiled *c, int bucket,
                                        int output);
int graph_compiled_output_dtype(const graph_compiled *c, int bucket,
                                int output);
/* Count of each lowered step kind in a bucket's plan, for tests/reports. */
int graph_compiled_n_steps(const graph_compiled *c, int bucket);
int graph_compiled_n_reorders(const graph_compiled *c, int bucket);
/* Convolutions lowered to int8 in a bucket, and the quantizing reorders in
 * front of them (not counted by graph_compiled_n_reorders). */
int graph_compiled_n_int8(const graph_compiled *c, int bucket);
int graph_compiled_n_quantize(const graph_compiled *c, int bucket);
/* Bytes a stream of c allocates for its arena and scratchpad (the largest
 * bucket's), known before any stream exists. */
size_t graph_compiled_stream_bytes(const graph_compiled *c);

/* Smallest bucket (by element count) whose every input dim is >= the given
 * shapes' dims, same ranks. GRAPH_ERR_NO_BUCKET when none fits. */
graph_status graph_select_bucket(const graph_compiled *c,
                                 const graph_shape *input_shapes, int *bucket);

/* Copy a dense tensor of shape `src_shape` into the top-left corner of a
 * dense buffer of shape `dst_shape` (same rank, every dim >=), filling the
 * rest with `pad` (for f32). */
graph_status graph_pad_into(const float *src, const graph_shape *src_shape,
                            float *dst, const graph_shape *dst_shape,
                            float pad);

/* Process-wide facts. */
uint64_t graph_primitives_created(void); /* every primitive ever created */
int graph_cache_capacity_in_force(void); /* as oneDNN reports it */

/* ---- stream ---- */
typedef struct graph_stream graph_stream;

graph_status graph_stream_create(const graph_compiled *c, graph_stream **out);
void graph_stream_free(graph_stream *s);

/* inputs[i]: dense row-major data of exactly the bucket's input shape.
 * outputs[i] receives a pointer to dense row-major data in the bucket's
 * output shape, owned by the stream and valid until its next run. */
graph_status graph_stream_run(graph_stream *s, int bucket,
                              const void *const *inputs,
                              const void **outputs);
const char *graph_stream_last_error(const graph_stream *s);
/* Calibration: while acc is set (NULL stops it), every run widens acc with
 * the range of each convolution's input (f32 and bf16 inputs). */
void graph_stream_observe(graph_stream *s, graph_ranges *acc);
size_t graph_stream_arena_bytes(const graph_stream *s);

/* Write one byte in every page of [p, p + n), so the pages are resident now
 * and not at first use. Not a memset: the compiler may turn malloc+memset(0)
 * into calloc, whose fresh pages stay unmapped until written. */
void graph_touch_pages(void *p, size_t n);

#endif
