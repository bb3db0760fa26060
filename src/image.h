/* image.h - the decoders behind docrt_document (one per file format) and the
 * raster helpers they share.
 *
 * A decoder gets the whole file in memory and writes only the reason for a
 * failure ("truncated: ..."); image.c prefixes the file name and page. Every
 * decoder checks the page's declared size against max_pixels before it
 * allocates anything that grows with the page, delivers an 8-bit raster with
 * 1 channel (grey or bilevel sources) or 3 (RGB, alpha composited over
 * white), and turns it upright by the file's orientation tag.
 */
#ifndef DOCRT_IMAGE_H
#define DOCRT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "docrt.h"

typedef struct {
    const uint8_t *data;
    size_t len;
    uint64_t max_pixels;
    char *why;      /* the reason on failure; never NULL */
    size_t whylen;  /* > 0 */
    unsigned max_decode_ms;
    double deadline_ms; /* image_now_ms() at which decoding must stop */
} image_src;

/* CLOCK_MONOTONIC in milliseconds. */
double image_now_ms(void);
/* Nonzero once src's decoding has run past its deadline; then *why says so
 * (DOCRT_ERR_LIMIT). Decoders call it between rows, tiles and scans. */
int image_out_of_time(const image_src *src);

/* Writes a reason into why and returns st. */
docrt_status image_reason(char *why, size_t whylen, docrt_status st,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* DOCRT_ERR_LIMIT when w x h exceeds max_pixels (or an int), FORMAT for a
 * zero side. */
docrt_status image_check_size(uint64_t w, uint64_t h, uint64_t max_pixels,
                              char *why, size_t whylen);

/* Allocates img->data for w x h x channels, rows packed; dpi zeroed. */
docrt_status image_alloc(docrt_image *img, int w, int h, int channels,
                         char *why, size_t whylen);

/* Turns a raster stored as the TIFF/EXIF orientation tag describes (1..8)
 * upright, in place; 5..8 swap width and height (and dpi). Other values
 * are treated as 1. */
docrt_status image_orient(docrt_image *img, int orientation, char *why,
                          size_t whylen);

/* TIFF: the byte offset of every directory (page) in the file's chain.
 * Stops at a loop; a directory whose entries run past the end of the file
 * is kept as a page (reading it fails) and ends the chain. No directories,
 * the first one unreadable, or more than max_pages of them is an error
 * (DOCRT_ERR_LIMIT for the last). *ifd is malloc'd. */
docrt_status image_tiff_index(const uint8_t *data, size_t len, int max_pages,
                              uint64_t **ifd, int *n, char *why,
                              size_t whylen);
docrt_status image_tiff_read(const image_src *src, uint64_t ifd,
                             docrt_image *out);
docrt_status image_png_read(const image_src *src, docrt_image *out);
docrt_status image_jpeg_read(const image_src *src, docrt_image *out);

#endif
