/* fuzz_onnx.c - the ONNX loader, the graph specialised for one shape and
 * compiled to oneDNN primitives, and one run when the arena is small. */
#include "fuzz.h"

#include "graph.h"

#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 8
/* A bucket whose tensors need more than this is compiled, not run. */
#define MAX_RUN_BYTES ((size_t)64 << 20)

int fuzz_onnx_one(const uint8_t *data, size_t size)
{
    char err[1024];
    graph_model *m = NULL;
    if (graph_model_load_buffer(data, size, &m, err, sizeof err) != GRAPH_OK)
        return 0;
    int ni = graph_model_n_inputs(m);
    graph_shape shapes[MAX_INPUTS];
    if (ni < 0 || ni > MAX_INPUTS)
        goto out;
    /* dynamic dims: 1 for the first (batch), 5 elsewhere */
    for (int i = 0; i < ni; i++) {
        shapes[i] = graph_model_input_shape(m, i);
        if (shapes[i].rank < 0 || shapes[i].rank > GRAPH_MAX_RANK)
            goto out;
        for (int d = 0; d < shapes[i].rank; d++)
            if (shapes[i].dims[d] < 0)
                shapes[i].dims[d] = d == 0 ? 1 : 5;
    }
    graph_compile_params p = graph_compile_default_params();
    p.n_threads = 1;
    p.precision = GRAPH_PREC_F32;
    graph_compiled *c = NULL;
    if (graph_compile(m, shapes, 1, &p, &c, err, sizeof err) != GRAPH_OK)
        goto out;
    size_t in_bytes = 0;
    void *in[MAX_INPUTS] = { 0 };
    for (int i = 0; i < ni; i++) {
        graph_shape s = graph_compiled_input_shape(c, 0, i);
        size_t n = (size_t)graph_shape_numel(&s) *
                   graph_dtype_size(graph_model_input_dtype(m, i));
        in_bytes += n;
        if (in_bytes > MAX_RUN_BYTES)
            break;
        /* zeros: finite for every dtype, valid as indices */
        in[i] = calloc(1, n + 8);
    }
    graph_stream *s = NULL;
    int ok = in_bytes <= MAX_RUN_BYTES &&
             graph_compiled_stream_bytes(c) <= MAX_RUN_BYTES;
    for (int i = 0; i < ni && ok; i++)
        ok = in[i] != NULL;
    if (ok && graph_stream_create(c, &s) == GRAPH_OK) {
        const void *outs[64];
        if (graph_compiled_n_outputs(c) <= 64)
            graph_stream_run(s, 0, (const void *const *)in, outs);
        graph_stream_free(s);
    }
    for (int i = 0; i < ni; i++)
        free(in[i]);
    graph_compiled_free(c);
out:
    graph_model_free(m);
    return 0;
}
