/* graph_plan.c - liveness of every activation and first-fit offsets in one
 * arena per stream. Aliases (reshapes, in-place sums) share their root's
 * storage and extend its lifetime. */
#include "graph_exec.h"

#include <stdlib.h>
#include <string.h>

static int root_of(bucket *b, int v)
{
    int guard = 0;
    while (b->rv[v].root != v && guard++ < 1 << 20) v = b->rv[v].root;
    return v;
}

static void touch(bucket *b, int v, int s)
{
    if (v < 0 || b->ir.values[v].data || !b->rv[v].in_arena) return;
    rt_value *r = &b->rv[b->rv[v].root];
    if (r->first < 0 || s < r->first) r->first = s;
    if (s > r->last) r->last = s;
}

typedef struct { int v; int64_t bytes; } item;
static int by_size(const void *a, const void *b)
{
    const item *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : x->v - y->v;
}

graph_status graph_plan(bucket *b, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    graph_ir *ir = &b->ir;
    int nv = ir->n_values;
    for (int v = 0; v < nv; v++) b->rv[v].root = root_of(b, v);
    for (int v = 0; v < nv; v++) {
        rt_value *r = &b->rv[v];
        r->first = r->last = -1;
        r->bytes = 0;
        r->offset = 0;
    }
    for (int v = 0; v < nv; v++) {
        if (ir->values[v].data || !b->rv[v].in_arena) continue;
        int64_t bytes = graph_shape_numel(&ir->values[v].shape) * (int64_t)graph_dtype_size(ir->values[v].dtype);
        rt_value *r = &b->rv[b->rv[v].root];
        if (bytes > r->bytes) r->bytes = bytes;
    }
    for (int i = 0; i < ir->n_inputs; i++) touch(b, ir->inputs[i], 0);
    for (int s = 0; s < b->n_steps; s++) {
        step *st = &b->steps[s];
        for (int a = 0; a < st->n_args; a++) touch(b, st->args[a].value, s);
        for (int i = 0; i < st->n_in; i++) touch(b, st->in[i], s);
        for (int i = 0; i < st->n_out; i++) touch(b, st->out[i], s);
    }
    for (int i = 0; i < ir->n_outputs; i++) touch(b, ir->outputs[i], b->n_steps);
    item *items = malloc((size_t)nv * sizeof *items);
    int *placed = malloc((size_t)nv * sizeof(int));
    if (!items || !placed) { free(items); free(placed); return GRAPH_ERR_NOMEM; }
    int ni = 0, np = 0;
    for (int v = 0; v < nv; v++)
        if (b->rv[v].root == v && b->rv[v].first >= 0 && b->rv[v].bytes > 0)
            items[ni++] = (item){ v, (b->rv[v].bytes + 63) / 64 * 64 };
    qsort(items, (size_t)ni, sizeof *items, by_size);
    size_t total = 0;
    for (int i = 0; i < ni; i++) {
        rt_value *r = &b->rv[items[i].v];
        int64_t off = 0;
        for (int again = 1; again;) {
            again = 0;
            for (int j = 0; j < np; j++) {
                rt_value *q = &b->rv[placed[j]];
                int64_t qb = (q->bytes + 63) / 64 * 64;
                if (q->last < r->first || r->last < q->first) continue;
                if (off < q->offset + qb && q->offset < off + items[i].bytes) {
                    off = q->offset + qb;
                    again = 1;
                }
            }
        }
        r->offset = off;
        placed[np++] = items[i].v;
        if ((size_t)(off + items[i].bytes) > total) total = (size_t)(off + items[i].bytes);
    }
    for (int v = 0; v < nv; v++) b->rv[v].offset = b->rv[b->rv[v].root].offset;
    b->arena_bytes = total;
    free(items);
    free(placed);
    return GRAPH_OK;
}
