/* archive_inputs.h - what an archive run reads: files and directory trees
 * (walked recursively in a stable order), a manifest (--files-from),
 * include/exclude globs and a deterministic shard (--shard K/N), each input
 * with the relative output name that mirrors the input tree.
 *
 * Every shard collects the whole selection and then keeps its part, so all
 * machines agree on each file's rel (collisions included) without talking to
 * each other; the walk costs little next to the OCR of one page. */
#ifndef DOCRT_ARCHIVE_INPUTS_H
#define DOCRT_ARCHIVE_INPUTS_H

#include "docrt.h"

typedef struct {
    char *path; /* as given or found: the file to open ("-" for stdin) */
    char *rel;  /* output name without extension, '/'-separated, relative
                 * to OUTDIR: "box1/reel2/scan0001" for a file found under a
                 * directory root (root's own name not included), the file's
                 * stem for a file given directly, "stdin" for "-", the listed
                 * path for a manifest entry. Each component is sanitised as
                 * by cli_sanitize_name ([A-Za-z0-9._-], anything else and a
                 * leading '.' -> '_'), so rel never holds "..", an absolute
                 * path or a hidden name. */
} archive_input;

typedef struct {
    const char *const *roots; /* files and directories from the command line;
                               * a file is always taken (whatever its
                               * extension: the decoder judges it), "-" is
                               * stdin */
    int n_roots;
    const char *files_from;   /* manifest or NULL: one path per line, relative
                               * to the working directory, "-" = stdin; blank
                               * lines and lines starting with '#' skipped,
                               * CRLF accepted. A listed file is taken
                               * whatever its extension, but the globs below
                               * apply (to the path without leading "/" and
                               * "./"); a path with a ".." component is
                               * reported and skipped. Rels come from the
                               * text alone: a missing or folder entry is
                               * reported (and dropped) by the shard that
                               * owns it, after collisions are resolved. */
    const char *const *include; /* fnmatch globs on the path relative to its
                                 * root, without FNM_PATHNAME ('*' crosses
                                 * '/'), also tried on the last component;
                                 * case-sensitive. None = every file docrt
                                 * can read by extension (tif tiff png jpg
                                 * jpeg, any case) */
    int n_include;
    const char *const *exclude; /* same matching; exclude wins over include */
    int n_exclude;
    int shard_k, shard_n;     /* keep inputs with hash(rel) % n == k; n = 0: all */
} archive_select;

/* Called for each problem that does not stop the walk (unreadable folder,
 * symlink loop, broken link, missing or refused manifest entry), and with
 * the reason before archive_collect returns DOCRT_ERR_IO for the manifest;
 * path and reason are one line each. May be NULL. */
typedef void (*archive_report_fn)(void *ctx, const char *path,
                                  const char *reason);

/* Collects the inputs, sorted by rel (then path; strcmp, so the order is the
 * same on every machine and locale) so every run and every shard sees the
 * same order. Walks follow symbolic links to files and folders; a folder
 * already on the current path is a loop (reported, skipped). Hidden entries
 * (a name starting with '.') are skipped, so OUTDIR's journal and temporary
 * files must be named that way when OUTDIR lies inside a root; only regular
 * files are taken from a walk. The same path found twice is kept once. Two
 * inputs with the same rel (scan.tif and scan.png in one folder) keep their
 * extension in rel ("scan.tif", "scan.png") so no output is overwritten;
 * rels still equal after that get "~2", "~3"... in path order. The shard is
 * kept after that. DOCRT_ERR_ARG for a bad selection (shard_k >= shard_n,
 * a negative count, "-" both as a root and as files_from), DOCRT_ERR_IO when
 * the manifest cannot be read, DOCRT_ERR_NOMEM; a missing root is reported
 * and skipped. On success *out (NULL when *n_out is 0) is the caller's, freed
 * with archive_inputs_free; on error *out is NULL and *n_out 0. */
docrt_status archive_collect(const archive_select *sel, archive_input **out,
                             int *n_out, archive_report_fn report, void *ctx);
void archive_inputs_free(archive_input *in, int n);

/* The shard a relative name belongs to: a stable 64-bit FNV-1a of rel's
 * bytes, modulo n (0 when n <= 1). The same on every machine and every run. */
int archive_shard_of(const char *rel, int n);

#endif
