/* fuzz_image.c - image decoding through docrt's own entry points. */
#include "fuzz.h"

#include "docrt.h"

int fuzz_image_one(const uint8_t *data, size_t size)
{
    /* Small limits keep each input fast; the checks are the same code at
     * any limit. */
    docrt_image_limits lim = { .max_pixels = 1u << 22, .max_pages = 64,
                               .max_decode_ms = 2000 };
    char err[1024];
    docrt_document *doc = NULL;
    if (docrt_document_open_memory(data, size, "fuzz", &lim, &doc, err,
                                   sizeof err) != DOCRT_OK)
        return 0;
    int n = docrt_document_n_pages(doc);
    for (int p = 0; p < n; p++) {
        docrt_image img;
        if (docrt_document_read_page(doc, p, &img, err, sizeof err) ==
            DOCRT_OK) {
            /* touch the first and last row: the raster is what it says */
            volatile uint8_t sink = img.data[0];
            sink ^= img.data[(size_t)(img.height - 1) * img.stride +
                             (size_t)img.width * (size_t)img.channels - 1];
            (void)sink;
            docrt_image_free(&img);
        }
    }
    docrt_document_close(doc);
    return 0;
}
