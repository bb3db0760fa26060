/* int8_ranges.h - the calibration file of an int8 model: the range of every
 * convolution's input seen over a set of pages, as JSON beside the model
 * (<model>.int8.json), written by `docrt calibrate` and `docrt run-model
 * --calibrate`, read by --precision int8. */
#ifndef DOCRT_INT8_RANGES_H
#define DOCRT_INT8_RANGES_H

#include <stddef.h>

#include "docrt.h"
#include "graph.h"

/* The GRAPH_INT8_* bit of a convolution class named by the n bytes at
 * name ("pointwise", "dense", "grouped"), or 0 for another name: the
 * spelling of --int8-convs and of a model description's "int8.convs". */
int int8_conv_class(const char *name, size_t n);

/* "<model path without .onnx>.int8.json" into dst. 0, or -1 if it does not
 * fit. */
int int8_ranges_path(const char *model_path, char *dst, size_t n);

/* Reads a calibration file into *out (zeroed first; free with
 * graph_ranges_free). Errors name the file: DOCRT_ERR_IO (cannot read),
 * DOCRT_ERR_FORMAT (not a docrt-int8-ranges/1 object, a range that is not
 * six finite numbers [lo, hi, clipped lo, clipped hi, rms, count] with the
 * ranges nested), DOCRT_ERR_NOMEM. */
docrt_status int8_ranges_load(const char *path, graph_ranges *out, char *err,
                              size_t errlen);

/* Writes rs as a calibration file (atomically: a temporary file renamed);
 * model and inputs are recorded for the reader. */
docrt_status int8_ranges_save(const char *path, const graph_ranges *rs,
                              const char *model, long inputs, char *err,
                              size_t errlen);

#endif
