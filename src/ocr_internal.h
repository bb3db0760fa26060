/* ocr_internal.h - the model and stream behind docrt.h's OCR calls, shared
 * by the pipeline's files (ocr_model.c, ocr_detect.c, ocr_recognize.c,
 * ocr_page.c). */
#ifndef DOCRT_OCR_INTERNAL_H
#define DOCRT_OCR_INTERNAL_H

#include "ctc.h"
#include "det_postprocess.h"
#include "docrt.h"
#include "graph.h"
#include "layout.h"
#include "model_desc.h"

#define OCR_MAX_CROP_W 16384 /* longest line crop at the recognizer height */
#define OCR_MAX_REC_H 256    /* tallest recognizer input (model_desc.c) */

struct docrt_model {
    docrt_model_params p;
    char det_path[1024], rec_path[1024], cls_path[1024];
    model_desc det_d, rec_d, cls_d;
    graph_model *det_g, *rec_g, *cls_g;
    graph_compiled *det_c, *rec_c, *cls_c;
    docrt_precision det_prec, rec_prec; /* resolved: F32, BF16 or INT8 */
    graph_ranges det_ranges, rec_ranges; /* INT8 calibration (compile only) */
    ctc_vocab vocab;
    struct lexicon *lex;       /* word list for corrections, or NULL */
    int n_det, det_hw[8][2];
    int n_rec, rec_w[8], rec_T[8], rec_batch;
    int n_classes;
    size_t det_in_floats, rec_in_floats, cls_in_floats;
};

/* One recognised character, positioned along its line's crop. */
typedef struct {
    int cls;
    float conf;
    float x0, x1; /* crop pixels */
} ocr_char;

/* A detector box on its way through recognition. */
typedef struct {
    docrt_quad quad;   /* reading direction: corner 0 is the text's top-left */
    float det_score;
    int crop_w;        /* at the recognizer height */
    int n_chars, chars_off; /* into the stream's char pool */
    float conf;        /* mean character confidence */
} ocr_line;

struct docrt_stream {
    const docrt_model *m;
    graph_stream *det_s, *rec_s, *cls_s;
    docrt_page_timing split;   /* the page's fine timing, summed as it runs */
    graph_ranges *calib;       /* [2]: detector, recognizer; NULL unless calibrating */
    int calib_pages;
    float *det_in, *det_tmp;
    size_t det_tmp_floats;
    float *rec_in, *cls_in;
    uint8_t *crop;             /* 3 x rec height x OCR_MAX_CROP_W */
    ocr_line *lines;
    int n_lines, cap_lines;
    ocr_char *chars;
    int n_chars, cap_chars;
    ctc_char *ctc_tmp;
    float *cx0, *cx1;          /* ctc_cap character extents */
    uint8_t *ink;              /* rec batch x widest bucket: ink columns */
    int ctc_cap;
    float *rec_probs;          /* softmax of a logits recognizer's batch */
    float *det_prob;           /* sigmoid of a logits detector's map */
    docrt_page page;
    int page_valid;
    char err[1024];
};

/* Set the stream's error (printf-style); returns st. */
docrt_status ocr_fail(docrt_stream *s, docrt_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Detection on an upright image: boxes in its pixels (malloc'ed). */
docrt_status ocr_detect(docrt_stream *s, const docrt_image *img,
                        const docrt_ocr_params *p, db_box **boxes, int *n);

/* Recognises lines [first, first + count) of s->lines (quads set) on img,
 * appending their characters to s->chars. */
docrt_status ocr_recognize(docrt_stream *s, const docrt_image *img,
                           int first, int count, int *n_batches);

/* The same for a recognizer whose description says "resize": "fit"
 * (docTR): each crop scaled to fit height x width, aspect kept, padded
 * right and bottom; crops wider than split.max_ratio cut into pieces as
 * docTR's split_crops does and their words merged as its merge_strings
 * does (ocr_recognize_fit.c). */
docrt_status ocr_recognize_fit(docrt_stream *s, const docrt_image *img,
                               int first, int count, int *n_batches);

/* The sub-quad of q between fractions u0 and u1 of its width. */
docrt_quad ocr_sub_quad(const docrt_quad *q, float u0, float u1);

/* Softmax of n rows of C logits, into out. */
void ocr_softmax_rows(const float *logits, int n, int C, float *out);

/* Turns lines the angle classifier reads as upside down (needs cls). */
docrt_status ocr_classify_angles(docrt_stream *s, const docrt_image *img);

/* Width of a quad's crop at the given height (aspect kept, clamped). */
int ocr_crop_width(const docrt_quad *q, int height);

/* Room for extra more characters in s->chars (sets the stream error). */
docrt_status ocr_chars_reserve(docrt_stream *s, int extra);

/* Each line's confidence: the mean of its characters', spaces left out. */
void ocr_lines_conf(docrt_stream *s, int first, int count);

/* Resets and appends lines. */
docrt_status ocr_lines_reserve(docrt_stream *s, int n);

double ocr_now_ms(void);

#endif
