/* archive_journal.h - the progress journal of an archive run
 * (OUTDIR/.docrt/journal): append-only, one compact JSON line per finished
 * page ({"rel","page"[,"path","reason"]}) and per finished file
 * ({"rel","path","done":pages,"failed":n}); page 0 is an error of the whole
 * file. An input that could not be collected (missing root or manifest
 * entry) is a line {"path","page":0,"reason","missing":true}, without rel;
 * errors.jsonl leaves it out once a later "done" line has its path.
 * Lines are written with one write(2) on an O_APPEND descriptor under an
 * flock, so shards sharing an OUTDIR may append at the same time. Disk
 * blocks past its end are reserved ahead of the writes (fallocate with
 * KEEP_SIZE), so a disk filled by the outputs still takes journal lines. */
#ifndef DOCRT_ARCHIVE_JOURNAL_H
#define DOCRT_ARCHIVE_JOURNAL_H

#include "archive_inputs.h"

#include <stddef.h>

/* What the journal says of one input (index as in the sorted inputs). */
typedef struct {
    int done;        /* a "done" line was found */
    int done_failed; /* its failed count */
    int *pages;      /* journaled page numbers (0 = whole-file error) */
    int n_pages, cap_pages;
} journal_state;

typedef struct {
    int fd;
    char *path;
    long long reserved; /* file offset up to which blocks are reserved */
} journal;

/* Opens (creating OUTDIR/.docrt) the journal; truncates it when !resume,
 * else drops a torn last line. err gets a reason on failure (returns -1). */
int journal_open(journal *j, const char *outdir, int resume, char *err,
                 size_t errlen);
/* Fills st[i] for each input from the journal's lines. */
int journal_load(journal *j, const archive_input *in, int n,
                 journal_state *st);
int journal_has_page(const journal_state *s, int page);
void journal_state_free(journal_state *st, int n);
/* Appends one line (a NUL-terminated JSON object, no newline); fsyncs
 * when sync. 0 on success. */
int journal_append(journal *j, const char *line, int sync);
/* Rewrites OUTDIR/errors.jsonl from every error line of the journal,
 * sorted by path and page, through a temporary name. */
int journal_write_errors(journal *j, const char *outdir, char *err,
                         size_t errlen);
void journal_close(journal *j);

#endif
