/* ctc.h - the recognizer's vocabulary and CTC greedy decoding. */
#ifndef DOCRT_CTC_H
#define DOCRT_CTC_H

#include "docrt.h"

typedef struct {
    char **keys;    /* keys[c]: UTF-8 of class c; keys[blank] is "" */
    int n_classes;
    int blank;
    int space;      /* class of " ", or -1 */
    char *storage;  /* owns the strings keys[] point into */
} ctc_vocab;

/* Reads a keys file: one UTF-8 symbol per line, '\n' or "\r\n" line ends,
 * the last line's end optional, a leading UTF-8 BOM skipped. An empty line
 * inside the file is a class whose key is "" (as PaddleOCR reads it). With
 * n_keys lines the classes are:
 *   blank_first != 0 (PP-OCR):  0 = blank, 1..n_keys = the keys in file
 *                               order, then n_keys+1 = " " if add_space
 *                               (PP-OCR's use_space_char: 6625 classes for
 *                               ppocr_keys_v1.txt);
 *   blank_first == 0 (docTR):   0..n_keys-1 = the keys, then " " if
 *                               add_space, then the blank last
 *                               (blank = n_classes - 1).
 * space is the class whose key is " " (the added one, or the first line
 * holding exactly one space), -1 if none.
 * Errors (err names the file): DOCRT_ERR_ARG, DOCRT_ERR_IO (cannot open or
 * read), DOCRT_ERR_FORMAT (no keys, a NUL byte, over 64 MiB),
 * DOCRT_ERR_NOMEM. On error *out is zeroed. */
docrt_status ctc_vocab_load(const char *path, int blank_first, int add_space,
                            ctc_vocab *out, char *err, size_t errlen);
/* Frees what ctc_vocab_load allocated and zeroes *v (NULL and a zeroed
 * vocab are fine). */
void ctc_vocab_free(ctc_vocab *v);

typedef struct {
    int cls;        /* class index */
    float conf;     /* max probability over the collapsed run */
    int t0, t1;     /* first and last timestep of the run */
} ctc_char;

/* Greedy (best path) decoding of T x C probabilities (row-major, one row per
 * timestep; softmax already applied). The argmax of each row (ties: the
 * lowest class; NaN never wins) picks a class; runs of one class collapse to
 * one character and blanks drop, so "aa-b" gives "ab" and "a-a" "aa".
 * Writes up to max_chars characters to out (out may be NULL when max_chars
 * is 0) and returns how many were decoded, which may exceed max_chars: then
 * only the first max_chars were written. Returns -1 for invalid arguments
 * (probs NULL with T > 0, T < 0, C <= 0, blank outside 0..C-1,
 * max_chars < 0, out NULL with max_chars > 0). */
int ctc_greedy_decode(const float *probs, int T, int C, int blank,
                      ctc_char *out, int max_chars);

#endif
