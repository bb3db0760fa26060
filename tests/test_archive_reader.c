/* test_archive_reader.c - the decode-ahead reader thread of `docrt ocr`:
 * every page of every input reaches exactly one worker, in page order, with
 * the right pixels; inputs that fail to open are handed over with their
 * error; a worker that stops in the middle of a file loses nothing else;
 * and the reader never runs more than one unit ahead of a worker.
 * The inputs are small multi-page TIFFs written with libtiff, each page
 * filled with a value that encodes its file and page. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "archive_reader.h"

enum { N_FILES = 24, MAX_PAGES = 5, N_WORKERS = 3 };

static char tmp[512];
static archive_input inputs[N_FILES];
static char paths[N_FILES][600];
static int n_pages[N_FILES]; /* 0: a corrupt file */

static int pixel(int f, int p) { return (f * 7 + p * 31) % 251; }

static void write_tiff(const char *path, int f, int pages)
{
    TIFF *t = TIFFOpen(path, "w");
    ck_assert_ptr_nonnull(t);
    uint8_t row[40];
    for (int p = 0; p < pages; p++) {
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 40);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 8 + p);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 4);
        memset(row, pixel(f, p), sizeof row);
        for (int y = 0; y < 8 + p; y++)
            ck_assert_int_eq(TIFFWriteScanline(t, row, (uint32_t)y, 0), 1);
        ck_assert_int_eq(TIFFWriteDirectory(t), 1);
    }
    TIFFClose(t);
}

static void setup(void)
{
    const char *b = getenv("DOCRT_BINARY_DIR");
    if (!b || !*b)
        b = getenv("TMPDIR");
    if (!b || !*b)
        b = "/tmp";
    snprintf(tmp, sizeof tmp, "%s/archive_reader_XXXXXX", b);
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    for (int f = 0; f < N_FILES; f++) {
        snprintf(paths[f], sizeof paths[f], "%s/f%02d.tif", tmp, f);
        inputs[f].path = paths[f];
        inputs[f].rel = paths[f];
        if (f % 7 == 3) { /* not an image at all */
            FILE *fp = fopen(paths[f], "wb");
            ck_assert_ptr_nonnull(fp);
            fputs("this is not a TIFF file", fp);
            fclose(fp);
            n_pages[f] = 0;
        } else {
            n_pages[f] = 1 + (f * 3) % MAX_PAGES;
            write_tiff(paths[f], f, n_pages[f]);
        }
    }
}

static void teardown(void)
{
    for (int f = 0; f < N_FILES; f++)
        unlink(paths[f]);
    rmdir(tmp);
}

/* ---- the run: hooks and workers ---- */

typedef struct {
    pthread_mutex_t mu;
    int next;
    int opened[N_FILES];
    int seen[N_FILES][MAX_PAGES]; /* times each page reached a worker */
    int files_taken[N_FILES];
    int bad_pixels, order_errors, open_errors_ok;
    int outstanding, max_outstanding; /* opened, not yet finished */
    int stop_after_page; /* >= 0: each worker quits its 2nd file there */
    archive_reader *rd;
} run;

static int claim(void *ctx)
{
    run *r = ctx;
    pthread_mutex_lock(&r->mu);
    int idx = r->next < N_FILES ? r->next++ : -1;
    pthread_mutex_unlock(&r->mu);
    return idx;
}

static void opened(void *ctx, int idx, int np)
{
    run *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->opened[idx] = np + 1;
    if (++r->outstanding > r->max_outstanding)
        r->max_outstanding = r->outstanding;
    pthread_mutex_unlock(&r->mu);
}

typedef struct {
    run *r;
    int w;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *a = arg;
    run *r = a->r;
    archive_file f;
    int files = 0;
    while (archive_reader_next_file(r->rd, a->w, &f)) {
        pthread_mutex_lock(&r->mu);
        r->files_taken[f.idx]++;
        pthread_mutex_unlock(&r->mu);
        usleep(2000);
        if (f.status != DOCRT_OK) {
            /* the error names the file */
            if (n_pages[f.idx] == 0 && strstr(f.err, paths[f.idx]) &&
                !f.doc) {
                pthread_mutex_lock(&r->mu);
                r->open_errors_ok++;
                pthread_mutex_unlock(&r->mu);
            }
            pthread_mutex_lock(&r->mu);
            r->outstanding--;
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        files++;
        for (int p = 0; p < f.n_pages; p++) {
            if (r->stop_after_page >= 0 && files == 2 &&
                p > r->stop_after_page)
                break;
            docrt_image img;
            char err[512];
            double ms = -1;
            docrt_status s =
                archive_reader_page(r->rd, a->w, p, &img, err, sizeof err, &ms);
            pthread_mutex_lock(&r->mu);
            if (s != DOCRT_OK || ms < 0)
                r->order_errors++;
            else {
                r->seen[f.idx][p]++;
                if (img.height != 8 + p ||
                    img.data[0] != pixel(f.idx, p) ||
                    img.data[(size_t)img.stride * (size_t)(img.height - 1)] !=
                        pixel(f.idx, p))
                    r->bad_pixels++;
            }
            pthread_mutex_unlock(&r->mu);
            docrt_image_free(&img);
            usleep(500); /* the worker is the slow side, as with OCR */
        }
        archive_reader_end_file(r->rd, a->w, &f);
        pthread_mutex_lock(&r->mu);
        r->outstanding--;
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

static void run_all(run *r)
{
    pthread_mutex_init(&r->mu, NULL);
    docrt_image_limits lim = docrt_image_default_limits();
    archive_reader_hooks h = {claim, opened, r};
    ck_assert_int_eq(
        archive_reader_start(inputs, &lim, N_WORKERS, &h, &r->rd), DOCRT_OK);
    pthread_t th[N_WORKERS];
    worker_arg wa[N_WORKERS];
    for (int w = 0; w < N_WORKERS; w++) {
        wa[w].r = r;
        wa[w].w = w;
        ck_assert_int_eq(pthread_create(&th[w], NULL, worker, &wa[w]), 0);
    }
    for (int w = 0; w < N_WORKERS; w++)
        pthread_join(th[w], NULL);
    archive_reader_free(r->rd);
    pthread_mutex_destroy(&r->mu);
}

START_TEST(every_page_once_in_order)
{
    run r;
    memset(&r, 0, sizeof r);
    r.stop_after_page = -1;
    run_all(&r);
    int bad_files = 0;
    for (int f = 0; f < N_FILES; f++) {
        ck_assert_int_eq(r.files_taken[f], 1);
        ck_assert_int_eq(r.opened[f], n_pages[f] + 1);
        bad_files += n_pages[f] == 0;
        for (int p = 0; p < MAX_PAGES; p++)
            ck_assert_int_eq(r.seen[f][p], p < n_pages[f] ? 1 : 0);
    }
    ck_assert_int_eq(r.order_errors, 0);
    ck_assert_int_eq(r.bad_pixels, 0);
    ck_assert_int_eq(r.open_errors_ok, bad_files);
    ck_assert_int_gt(bad_files, 0);
    /* bounded lookahead: the file each worker holds plus the next one */
    ck_assert_int_le(r.max_outstanding, 2 * N_WORKERS);
    ck_assert_int_ge(r.max_outstanding, N_WORKERS);
}
END_TEST

/* Each worker leaves its second file after its first page: the page the
 * reader had decoded ahead is dropped (ASan's leak check sees it), and all
 * the other files still arrive whole. */
START_TEST(worker_leaves_a_file_early)
{
    run r;
    memset(&r, 0, sizeof r);
    r.stop_after_page = 0;
    run_all(&r);
    int cut = 0;
    for (int f = 0; f < N_FILES; f++) {
        ck_assert_int_eq(r.files_taken[f], 1);
        int got = 0;
        for (int p = 0; p < MAX_PAGES; p++) {
            ck_assert_int_le(r.seen[f][p], 1);
            got += r.seen[f][p];
        }
        if (got < n_pages[f]) {
            ck_assert_int_eq(got, 1);
            cut++;
        }
    }
    ck_assert_int_le(cut, N_WORKERS);
    ck_assert_int_eq(r.order_errors, 0);
    ck_assert_int_eq(r.bad_pixels, 0);
}
END_TEST

/* Pages must be taken in order: asking for page 2 right after opening is
 * refused, not served out of order or waited on forever. */
START_TEST(out_of_order_page_refused)
{
    run r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    for (int f = 0; f < N_FILES; f++)
        if (n_pages[f] >= 3) {
            r.next = f;
            break;
        }
    int want = r.next;
    docrt_image_limits lim = docrt_image_default_limits();
    archive_reader_hooks h = {claim, NULL, &r};
    ck_assert_int_eq(archive_reader_start(inputs, &lim, 1, &h, &r.rd),
                     DOCRT_OK);
    archive_file f;
    ck_assert_int_eq(archive_reader_next_file(r.rd, 0, &f), 1);
    ck_assert_int_eq(f.idx, want);
    docrt_image img;
    char err[256];
    double ms;
    ck_assert_int_eq(archive_reader_page(r.rd, 0, 2, &img, err, sizeof err,
                                         &ms),
                     DOCRT_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "in order"));
    ck_assert_int_eq(archive_reader_page(r.rd, 0, 0, &img, err, sizeof err,
                                         &ms),
                     DOCRT_OK);
    ck_assert_int_eq(img.data[0], pixel(want, 0));
    docrt_image_free(&img);
    archive_reader_end_file(r.rd, 0, &f);
    archive_reader_free(r.rd);
    pthread_mutex_destroy(&r.mu);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("archive_reader");
    TCase *tc = tcase_create("reader");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_page_once_in_order);
    tcase_add_test(tc, worker_leaves_a_file_early);
    tcase_add_test(tc, out_of_order_page_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
