/* archive_reader.h - the decode-ahead reader thread of `docrt ocr`.
 *
 * One thread opens the inputs and decodes their pages ahead of the
 * workers, so a worker's stream never waits on the disk or the decoder.
 * Each worker has one slot with a lookahead of one unit: while the worker
 * runs OCR on page k, the reader decodes page k+1 of the same input or,
 * after the last page, opens the next input and decodes its first page.
 * The memory held is therefore bounded by the number of workers (at most
 * two decoded pages and two open documents per worker), however large the
 * archive, and a long multi-page file never starves the other workers.
 *
 * Which input comes next is the caller's choice (the `claim` callback, run
 * on the reader thread), so skipping inputs the journal has as done stays
 * with the run engine. */
#ifndef DOCRT_ARCHIVE_READER_H
#define DOCRT_ARCHIVE_READER_H

#include "archive_inputs.h"
#include "docrt.h"

typedef struct archive_reader archive_reader;

typedef struct {
    /* Next input index to open, or -1 when there is none (or the run must
     * stop). Called on the reader thread, never under the reader's lock. */
    int (*claim)(void *ctx);
    /* An input was opened (n_pages 0 when it failed); for progress. */
    void (*opened)(void *ctx, int idx, int n_pages);
    void *ctx;
} archive_reader_hooks;

/* An opened input, handed to the worker that will OCR it. */
typedef struct {
    int idx;                /* index into the inputs */
    docrt_document *doc;    /* the worker's from now on; NULL on failure */
    int n_pages;
    docrt_status status;    /* of the open */
    char err[2048];         /* names the file and the reason */
    double open_ms;
} archive_file;

/* Starts the reader thread for n_workers slots. */
docrt_status archive_reader_start(const archive_input *in,
                                  const docrt_image_limits *lim,
                                  int n_workers,
                                  const archive_reader_hooks *hooks,
                                  archive_reader **out);

/* Worker w: the next input. Returns 1 with *f filled, 0 when there are no
 * inputs left. */
int archive_reader_next_file(archive_reader *r, int w, archive_file *f);

/* Worker w: page pg (0-based, in order) of the input last returned by
 * next_file. On success *img is the caller's to free; on failure err names
 * the file, page and reason. */
docrt_status archive_reader_page(archive_reader *r, int w, int pg,
                                 docrt_image *img, char *err, size_t errlen,
                                 double *decode_ms);

/* Worker w is done with its input (all pages taken, or it stops early):
 * waits until the reader no longer uses the document, drops a page decoded
 * for nothing, and closes the document. */
void archive_reader_end_file(archive_reader *r, int w, archive_file *f);

/* Stops the thread (after the workers have returned) and frees all. */
void archive_reader_free(archive_reader *r);

#endif
