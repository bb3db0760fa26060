/* lexicon.h - a word list, and the correction of words the recognizer
 * misread in the ways a scan's broken or filled-in strokes make it misread
 * (h as li, e as c, m as rn, ...): a word not in the list becomes the one
 * word of the list such look-alike substitutions reach. */
#ifndef DOCRT_LEXICON_H
#define DOCRT_LEXICON_H

#include <stddef.h>

#include "docrt.h"

typedef struct lexicon lexicon;

#define DOCRT_SYSTEM_WORDS "/usr/share/dict/words"

/* Reads a word list (one word a line, as /usr/share/dict/words); words of
 * ASCII letters only are kept, lower-cased. Errors name the file:
 * DOCRT_ERR_IO, DOCRT_ERR_FORMAT (no such word in it), DOCRT_ERR_NOMEM. */
docrt_status lexicon_load(const char *path, lexicon **out, char *err,
                          size_t errlen);
void lexicon_free(lexicon *lx);
/* Whether the n letters of w (any case) are a word of the list: 0 no,
 * 1 only capitalised there (a proper name), 2 in lower case. */
int lexicon_has(const lexicon *lx, const char *w, size_t n);
size_t lexicon_size(const lexicon *lx);

/* Corrects word (NUL-terminated UTF-8, as recognized, punctuation
 * included) into out (cap bytes) and returns 1, or returns 0 and leaves it
 * alone. Only a word whose letters (after leading and before trailing
 * punctuation) are 4 or more ASCII letters, lower-case after the first,
 * not followed by a hyphen (a word cut at the line end), and not in the
 * list is corrected: one look-alike substitution must reach exactly one
 * word of the list, from the first of two tiers of substitutions that
 * reaches any (see lexicon.c), and a proper name (a word the list has only
 * capitalised) only from a capitalised word. The first letter's case and
 * the punctuation are kept. */
int lexicon_correct(const lexicon *lx, const char *word, char *out,
                    size_t cap);

#endif
