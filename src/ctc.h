/* ctc.h - the recognizer's vocabulary and CTC greedy decoding. */
#ifndef DOCRT_CTC_H
#define DOCRT_CTC_H

#include "docrt.h"

#define CTC_MAX_QUOTE 16

typedef struct {
    char **keys;    /* keys[c]: UTF-8 of class c; keys[blank] is "" */
    int n_classes;
    int blank;
    int space;      /* class of " ", or -1 */
    char *storage;  /* owns the strings keys[] point into */
    /* The quotation marks in the vocabulary (' " ` and the curly, prime
     * and acute forms), which a recognizer tells apart poorly: quote[i] is
     * a class, quote_alt[i] the class of its other form (single <-> double:
     * ' ", ‘ “, ’ ”, ′ ″; -1 if the vocabulary lacks it) and quote_double[i]
     * says whether quote[i] is a double mark. */
    int n_quote;
    int quote[CTC_MAX_QUOTE], quote_alt[CTC_MAX_QUOTE];
    unsigned char quote_double[CTC_MAX_QUOTE];
} ctc_vocab;

/* Index of class c in v->quote, or -1 when c is not a quotation mark. */
int ctc_quote_index(const ctc_vocab *v, int c);

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

/* Greedy decoding as above, with the n_group classes of group[] (all in
 * 0..C-1, n_group <= CTC_MAX_QUOTE) read as one class: a recognizer spreads
 * a quotation mark's probability over its look-alikes (' ’ ` ") so that no
 * single one beats the blank. A row whose group mass (the sum over group[])
 * exceeds the probability of the row's argmax yields the group's most
 * probable member, with the group mass as its confidence, and consecutive
 * rows yielding members collapse into one character (the member of the
 * run's most confident row). With n_group 0 it is ctc_greedy_decode. */
int ctc_greedy_decode_grouped(const float *probs, int T, int C, int blank,
                              const int *group, int n_group, ctc_char *out,
                              int max_chars);

#endif
