/* npy.h - NumPy .npy files <-> graph_host_tensor.
 *
 * Used by the CLI (model inputs and outputs) and by tests (reference tensors
 * written by numpy). Format: https://numpy.org/doc/stable/reference/generated/
 * numpy.lib.format.html
 *
 * Reading accepts format versions 1.0, 2.0 and 3.0, C order only, and the
 * dtypes '<f4' (GRAPH_DT_F32) and '<i8' (GRAPH_DT_I64). Any other dtype is
 * refused with GRAPH_ERR_UNSUPPORTED and a message that names it. The file is
 * validated completely (magic, version, header length, header dict, shape,
 * data size == file size), so malformed input gives an error, never a crash.
 *
 * Errors: GRAPH_ERR_IO (missing, unreadable, empty, not a regular file),
 * GRAPH_ERR_PARSE (not a valid .npy), GRAPH_ERR_UNSUPPORTED (valid .npy that
 * docrt does not read: dtype, fortran_order, rank > GRAPH_MAX_RANK),
 * GRAPH_ERR_NOMEM. err receives "PATH: reason" (may be NULL).
 */
#ifndef DOCRT_NPY_H
#define DOCRT_NPY_H

#include <stddef.h>

#include "graph.h"

/* On success *out owns malloc'd data (release with graph_host_tensor_free).
 * On failure *out is zeroed and owns nothing. */
graph_status npy_read(const char *path, graph_host_tensor *out, char *err,
                      size_t errlen);
/* The same parse of a file already in memory (len bytes; `path` names it in
 * messages). The data is copied: buf may be freed after. */
graph_status npy_read_memory(const void *buf, size_t len, const char *path,
                             graph_host_tensor *out, char *err, size_t errlen);

/* Writes a version 1.0 file, header padded to a multiple of 64 bytes as
 * numpy does. Writes F32, I64, and also F64, I32, I8, U8, BOOL. On failure
 * the partial file is removed. */
graph_status npy_write(const char *path, const graph_host_tensor *t,
                       char *err, size_t errlen);

/* Same, from a shape and a data pointer that the caller keeps. */
graph_status npy_write_data(const char *path, int dtype,
                            const graph_shape *shape, const void *data,
                            char *err, size_t errlen);

/* numpy's descr for a graph dtype ("<f4"), or NULL if none. */
const char *npy_descr(int dtype);
/* A shape as numpy prints it: "(1, 3, 48, 320)", "(5,)". */
void npy_shape_str(const graph_shape *s, char *buf, size_t n);

#endif
