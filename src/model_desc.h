/* model_desc.h - the model description: a small JSON file beside each ONNX
 * file (same name, .json) that says which conventions the model uses, so
 * that PP-OCR and docTR models differ in data, not in code. */
#ifndef DOCRT_MODEL_DESC_H
#define DOCRT_MODEL_DESC_H

#include "docrt.h"

enum { MD_DETECTION = 1, MD_RECOGNITION, MD_ANGLE };

typedef struct {
    int task;
    char input_name[64];
    int bgr;              /* channel order the model was trained on */
    float scale;          /* pixel * scale, then (v - mean) / std */
    float mean[3], std[3];
    float pad_value;      /* in normalised units; NAN = pad with white */
    float pad_pixel;      /* "pad_pixel": pad with this pixel value before
                           * normalising (docTR: 0, black); NAN = unset */
    int pad_symmetric;    /* "pad": "symmetric": the page centred in the
                           * detector input (docTR), else top-left */
    int logits;           /* "output": "logits": the detector gives logits
                           * (sigmoid applied here), the recognizer logits
                           * (softmax applied here) */
    int family_doctr;     /* "family": "doctr" */
    /* detection */
    int n_buckets;
    int buckets[8][2];    /* H, W */
    int max_side;         /* longest side of the page in the first pass */
    float text_height;    /* wanted median box height in the map (0: off) */
    int max_side_small_text; /* longest side allowed for a second pass */
    float thresh, box_thresh, unclip_ratio, min_size;
    int max_candidates;
    int pp_doctr;         /* "postprocess.style": "doctr": straight boxes as
                           * docTR's DBPostProcessor makes them */
    /* recognition / angle */
    int height;
    int width;            /* angle classifier's fixed width */
    int n_widths;
    int widths[8];
    int batch;
    int resize_fit;       /* "input.resize": "fit": a crop is scaled to fit
                           * height x widths[0], aspect kept, and padded
                           * right/bottom (docTR); else scaled to the
                           * height and bucketed by width (PP-OCR) */
    float split_max_ratio, split_target_ratio, split_dilation; /* "split" */
    char vocab_file[512]; /* resolved against the description's folder */
    int blank_first;      /* CTC blank is class 0 (else last) */
    int add_space;        /* a " " class follows the keys */
    float drop_score;     /* recognition: lines below this mean confidence
                           * are dropped (figures, noise) */
    float angle_thresh;   /* angle classifier: flip when p(180) > this */
    int auto_f32;         /* "auto_precision": "f32": under precision AUTO
                           * this model stays f32 (bf16 measured worse) */
    int int8_convs;       /* "int8": {"convs": ["pointwise", "dense",
                           * "grouped"]}: which convolutions --precision
                           * int8 quantizes (GRAPH_INT8_* bits; 0 = graph's
                           * default) */
    float int8_min_sqnr;  /* "int8": {"min_sqnr_db": X}: 0 = graph's default */
} model_desc;

/* The normalised value of the padding per channel: pad_pixel through the
 * normalisation when set (docTR: black), else pad_value when set, else
 * white paper through the normalisation (PP-OCR detection). */
void model_desc_pad_values(const model_desc *d, float pad[3]);

/* Reads onnx_path with ".onnx" replaced by ".json". */
docrt_status model_desc_load(const char *onnx_path, int task, model_desc *out,
                             char *err, size_t errlen);

#endif
