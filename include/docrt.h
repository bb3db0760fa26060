/* docrt.h - document OCR on oneDNN: the public C API.
 *
 * Usage (error handling shortened; every call returns a docrt_status):
 *
 *     docrt_model_params mp = docrt_model_default_params();
 *     mp.model_dir = "weights";                   // det/rec ONNX + model JSON
 *     docrt_model *model;
 *     char err[256];
 *     if (docrt_model_load(&mp, &model, err, sizeof err) != DOCRT_OK)
 *         fprintf(stderr, "%s\n", err);
 *
 *     docrt_stream *st;                           // one per worker thread
 *     docrt_stream_create(model, &st);
 *
 *     docrt_document *doc;                        // TIFF (all pages), PNG, JPEG
 *     docrt_document_open("scan.tif", NULL, &doc, err, sizeof err);
 *     for (int i = 0; i < docrt_document_n_pages(doc); i++) {
 *         docrt_image img;
 *         if (docrt_document_read_page(doc, i, &img, err, sizeof err)) {
 *             fprintf(stderr, "%s\n", err);        // names file, page, reason
 *             continue;                            // the other pages go on
 *         }
 *         docrt_ocr_params op = docrt_ocr_default_params();
 *         const docrt_page *page;                  // owned by the stream
 *         if (docrt_ocr_image(st, &img, &op, &page) == DOCRT_OK)
 *             puts(page->blocks[0].lines[0].text);
 *         docrt_image_free(&img);
 *     }
 *     docrt_document_close(doc);
 *     docrt_stream_free(st);
 *     docrt_model_free(model);
 *
 * Threading: a docrt_model is immutable after load and shared by any number
 * of threads; a docrt_stream belongs to one thread at a time. All oneDNN
 * primitives are created in docrt_model_load for the configured shape
 * buckets, so running pages allocates no primitives and memory stays flat.
 */
#ifndef DOCRT_H
#define DOCRT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOCRT_VERSION_STRING "0.1.0"

typedef enum {
    DOCRT_OK = 0,
    DOCRT_ERR_ARG,         /* invalid argument */
    DOCRT_ERR_IO,          /* cannot open, read or write a file */
    DOCRT_ERR_FORMAT,      /* not an image docrt reads, or a corrupt one */
    DOCRT_ERR_UNSUPPORTED, /* a valid file using a feature docrt lacks */
    DOCRT_ERR_LIMIT,       /* over a configured limit (pixels per page) */
    DOCRT_ERR_NOMEM,
    DOCRT_ERR_MODEL,       /* model file or description invalid */
    DOCRT_ERR_RUNTIME,     /* inference failed */
} docrt_status;

const char *docrt_status_str(docrt_status s);
const char *docrt_version(void);

/* ---- images ---- */

/* An 8-bit raster, rows top to bottom, already turned upright by the file's
 * orientation tag (TIFF Orientation, EXIF). channels: 1 (grey) or 3 (RGB). */
typedef struct {
    int width, height, channels;
    size_t stride;    /* bytes per row */
    uint8_t *data;    /* owned; release with docrt_image_free */
    float dpi_x, dpi_y; /* 0 when the file does not say */
} docrt_image;

void docrt_image_free(docrt_image *img);

typedef struct {
    /* Pages above this many pixels are refused before any allocation
     * (decompression bombs). Default: A3 at 600 dpi (7016 x 9921). */
    uint64_t max_pixels;
    /* A file with more pages (TIFF directories) than this is refused when
     * it is opened. 0: the default, 10,000; at most 65,536. */
    int max_pages;
    /* A page whose decoding runs longer than this many milliseconds fails
     * ("decoding took longer than ..."); checked between rows, tiles and
     * JPEG scans. 0: the default, 20,000 ms. */
    unsigned max_decode_ms;
} docrt_image_limits;

#define DOCRT_DEFAULT_MAX_PAGES 10000
#define DOCRT_MAX_PAGES_CAP 65536
#define DOCRT_DEFAULT_MAX_DECODE_MS 20000u

docrt_image_limits docrt_image_default_limits(void);

/* A decoded-on-demand image file: every page of a multi-page TIFF, or the
 * single image of a PNG / JPEG. The format is found from the bytes. */
typedef struct docrt_document docrt_document;

/* lim may be NULL for the defaults. Errors name the file and the reason. */
docrt_status docrt_document_open(const char *path,
                                 const docrt_image_limits *lim,
                                 docrt_document **out, char *err,
                                 size_t errlen);
/* The bytes are copied; `name` is used in error messages ("-" for stdin). */
docrt_status docrt_document_open_memory(const void *data, size_t len,
                                        const char *name,
                                        const docrt_image_limits *lim,
                                        docrt_document **out, char *err,
                                        size_t errlen);
int docrt_document_n_pages(const docrt_document *doc);
const char *docrt_document_name(const docrt_document *doc);
/* Errors name file, page (1-based) and reason. */
docrt_status docrt_document_read_page(docrt_document *doc, int page,
                                      docrt_image *out, char *err,
                                      size_t errlen);
void docrt_document_close(docrt_document *doc);

/* ---- results: page -> blocks -> lines -> words ---- */

typedef struct { float x0, y0, x1, y1; } docrt_box; /* page pixels */
/* Corners clockwise from the text's top-left, page pixels. */
typedef struct { float x[4], y[4]; } docrt_quad;

/* Arithmetic of the convolutions and matmuls: BF16 runs them in bfloat16
 * with f32 accumulation (AVX512_BF16 or AMX), keeping layer norm, softmax
 * and LSTM in f32; AUTO picks BF16 where the CPU has AVX512_BF16 or AMX,
 * for each model whose description does not ask for f32. INT8 runs the
 * detector's and recognizer's calibrated convolutions in int8 (static
 * quantization from <model>.int8.json, written by docrt_calibration_save;
 * per-channel weight scales) and the rest as AUTO would. */
typedef enum {
    DOCRT_PRECISION_AUTO = 0,
    DOCRT_PRECISION_F32,
    DOCRT_PRECISION_BF16,
    DOCRT_PRECISION_INT8
} docrt_precision;

typedef struct {
    const char *text;   /* UTF-8, no spaces */
    docrt_box box;
    docrt_quad quad;    /* equals the box's corners unless the text is rotated */
    float confidence;   /* 0..1: the lowest character confidence */
    const float *char_conf; /* one per character (code point) of text */
    int n_chars;
} docrt_word;

typedef struct {
    const char *text;   /* the words joined by single spaces */
    docrt_box box;
    docrt_quad quad;
    float confidence;   /* mean of the words' confidences */
    docrt_word *words;
    int n_words;
} docrt_line;

typedef struct {
    docrt_box box;
    float confidence;
    docrt_line *lines;  /* in reading order */
    int n_lines;
} docrt_block;

typedef struct {
    double decode_ms, detect_ms, recognize_ms, layout_ms;
    int n_boxes;        /* detected text boxes */
    int n_rec_batches;  /* recognizer runs */
    /* Inside detect_ms: resizing and normalising the page into the bucket,
     * the detector network, DB post-processing. Inside recognize_ms:
     * cutting, warping and normalising the line crops, the recognizer
     * (and line classifier) network, CTC decoding with spaces and quotes. */
    double det_resize_ms, det_net_ms, det_post_ms;
    double rec_crop_ms, rec_net_ms, rec_decode_ms;
} docrt_page_timing;

typedef struct {
    int width, height;  /* of the page as read (upright per its tag) */
    float dpi_x, dpi_y;
    int rotation;       /* 0/90/180/270: clockwise turn docrt applied to read
                         * a sideways page; boxes are in the input's pixels */
    int page_index;     /* 0-based, set by the caller of docrt_ocr_image */
    docrt_block *blocks; /* in reading order */
    int n_blocks;
    docrt_page_timing timing;
} docrt_page;

/* ---- model ---- */

typedef struct {
    /* Folder with the model files and their descriptions. Empty fields below
     * take their names from there. */
    const char *model_dir;        /* default "weights" */
    const char *det_model;        /* default <model_dir>/ch_PP-OCRv4_det_infer.onnx */
    const char *rec_model;        /* default <model_dir>/ch_PP-OCRv4_rec_infer.onnx */
    const char *cls_model;        /* default <model_dir>/ch_ppocr_mobile_v2.0_cls_infer.onnx */
    int angle_cls;                /* load and use the 180-degree line classifier */
    /* Detection buckets, H x W, multiples of 32; 0 entries = the model
     * description's defaults. A page is resized (aspect kept) into the
     * smallest bucket that gives it its target resolution. */
    int n_det_buckets;
    int det_buckets[8][2];
    int det_max_side;             /* longest page side in the detector's
                                   * input; 0 = model description */
    /* Recognizer width buckets (pixels at the model's height) and batch. */
    int n_rec_widths;
    int rec_widths[8];
    int rec_batch;
    int n_threads;                /* per stream; 0 = 1 */
    int cache_capacity;           /* oneDNN primitive cache; <0 = default */
    docrt_precision precision;    /* default AUTO */
    /* INT8: calibration files; default <model without .onnx>.int8.json */
    const char *det_int8;
    const char *rec_int8;
    /* Word list for correcting look-alike misreadings (h read as li, e as
     * c, m as rn, ...): a word not in the list becomes the one word of the
     * list that one or two such substitutions reach. NULL: the system's
     * /usr/share/dict/words when it can be read (Debian: wamerican), else
     * none; "": none. A given file that cannot be read is an error. */
    const char *lexicon;
} docrt_model_params;

docrt_model_params docrt_model_default_params(void);

typedef struct docrt_model docrt_model;

docrt_status docrt_model_load(const docrt_model_params *p, docrt_model **out,
                              char *err, size_t errlen);
void docrt_model_free(docrt_model *m);
/* The precision the detector and recognizer were compiled in (F32, BF16 or
 * INT8; under AUTO a model description may keep its model in f32). */
docrt_status docrt_model_precision(const docrt_model *m, docrt_precision *det,
                                   docrt_precision *rec);
const char *docrt_precision_name(docrt_precision p); /* "auto", "f32", "bf16", "int8" */

/* ---- stream and OCR ---- */

typedef struct docrt_stream docrt_stream;

docrt_status docrt_stream_create(const docrt_model *m, docrt_stream **out);
void docrt_stream_free(docrt_stream *s);
/* The last error on this stream, with file/page context when known. */
const char *docrt_stream_error(const docrt_stream *s);

typedef struct {
    float det_thresh;     /* <0 = model description */
    float box_thresh;     /* <0 = model description */
    float unclip_ratio;   /* <0 = model description */
    int detect_rotation;  /* find and undo 90/180/270 page turns; default 1 */
    int angle_cls;        /* use the 180-degree line classifier if loaded */
    /* Context for error messages and the result (not owned). */
    const char *source_name;
    int page_index;
} docrt_ocr_params;

docrt_ocr_params docrt_ocr_default_params(void);

/* Calibration for INT8: from docrt_calibration_begin on, each page this
 * stream reads records the range of every convolution's input in the
 * detector and recognizer (best with a model loaded in F32, over pages like
 * those it will read); docrt_calibration_save writes them as the int8
 * files (NULL: the default paths beside the models) and stops recording.
 * *pages says how many pages were recorded (may be NULL). */
docrt_status docrt_calibration_begin(docrt_stream *s);
docrt_status docrt_calibration_save(docrt_stream *s, const char *det_path,
                                    const char *rec_path, int *pages,
                                    char *err, size_t errlen);

/* OCR one page. *out is owned by the stream, valid until its next call. */
docrt_status docrt_ocr_image(docrt_stream *s, const docrt_image *img,
                             const docrt_ocr_params *p,
                             const docrt_page **out);

/* ---- exporters ---- */

typedef enum {
    DOCRT_FORMAT_TXT = 1,  /* pages separated by form feed, as Tesseract */
    DOCRT_FORMAT_JSON = 2, /* docTR export() shape */
    DOCRT_FORMAT_HOCR = 4, /* hOCR 1.2 */
    DOCRT_FORMAT_ALTO = 8, /* ALTO v4 */
} docrt_format;

const char *docrt_format_ext(docrt_format f); /* "txt", "json", "hocr", "xml" */
/* Parses "txt,json,hocr,alto" into a bit set. */
docrt_status docrt_format_parse(const char *list, int *formats);

/* A writer streams pages into one output (all pages of one input file).
 * It writes to f, which stays the caller's to close after
 * docrt_writer_close. source_name goes into the document's metadata. */
typedef struct docrt_writer docrt_writer;

docrt_status docrt_writer_open(FILE *f, docrt_format fmt,
                               const char *source_name, docrt_writer **out);
docrt_status docrt_writer_add_page(docrt_writer *w, const docrt_page *page);
/* Finishes the document and frees the writer (also after an error). */
docrt_status docrt_writer_close(docrt_writer *w);

/* Draws the boxes (green, lines as quads) and reading order (numbers and
 * a path from line to line) over the page, written as PNG to path. */
docrt_status docrt_overlay_write_png(const docrt_image *img,
                                     const docrt_page *page, const char *path,
                                     char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
