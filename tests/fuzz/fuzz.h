/* fuzz.h - docrt's fuzz targets, one function each: the libFuzzer entry
 * (fuzz_entry.c, built with -DDOCRT_FUZZ=ON and clang) and the corpus
 * replay test (tests/test_fuzz_replay.c, every build) call the same code.
 * Each returns 0; bugs show as crashes or sanitizer reports. */
#ifndef DOCRT_FUZZ_H
#define DOCRT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* TIFF / PNG / JPEG through docrt_document_open_memory and every page's
 * docrt_document_read_page, with small limits (pixels, pages, time). */
int fuzz_image_one(const uint8_t *data, size_t size);
/* The .npy reader (npy_read_memory). */
int fuzz_npy_one(const uint8_t *data, size_t size);
/* The ONNX loader, then the graph specialised and compiled for one shape
 * (dynamic dims set small) and, when its arena is small, one run. */
int fuzz_onnx_one(const uint8_t *data, size_t size);
/* The bytes sent as one HTTP connection to docrt serve's handlers on a
 * loopback port (multipart, headers, query, body limits); the workers
 * decode the upload instead of running OCR. */
int fuzz_http_one(const uint8_t *data, size_t size);

#endif
