/* ocr_recognize_fit.c - recognition with docTR's conventions: every crop
 * (one word box) is scaled to fit the recognizer's fixed height x width
 * (32 x 128), aspect kept, and padded right and bottom; a crop wider than
 * split.max_ratio (8) times its height is cut into int(ratio / target_ratio)
 * pieces, each split.dilation (1.4) times its share of the width around its
 * share's centre, and the pieces' words are merged back by docTR's
 * merge_strings (the overlap found by edit distance). Logits get a softmax;
 * CTC greedy decoding with the blank where the vocabulary says. */
#include "geometry.h"
#include "npy.h"
#include "ocr_internal.h"
#include "raster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int line;
    float u0, u1;     /* fraction of the line quad's width */
    int c_off, c_n;   /* decoded characters in the pool */
} fit_piece;

static int lev(const ocr_char *a, int na, const ocr_char *b, int nb, int *row)
{
    for (int j = 0; j <= nb; j++) row[j] = j;
    for (int i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1].cls != b[j - 1].cls);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* docTR's merge_strings(a, b, dilation) on character runs: appends b to
 * the line's characters in out[0..*n), dropping the overlap. Returns the
 * new count. (docTR 0.6-0.7 returns b when a is non-empty and b empty,
 * losing a; later versions keep a, as here.) */
static int merge_strings(ocr_char *out, int n, const ocr_char *b, int nb, float dil, int *row)
{
    int L = n < nb ? n : nb;
    if (L == 0) {
        memcpy(out + n, b, sizeof *b * (size_t)nb);
        return n + nb;
    }
    int index = 0;
    double s0 = (double)lev(out + n - 1, 1, b, 1, row);
    double s1 = L > 1 ? (double)lev(out + n - 2, 2, b, 2, row) / 2 : 1;
    if (L > 1 && s0 == 0 && s1 == 0) {
        int n_overlap = (int)rint(nb * (dil - 1) / dil), n_zeros = 0;
        for (int i = 1; i <= L; i++)
            if (lev(out + n - i, i, b, i, row) == 0) n_zeros++;
        index = n_zeros < n_overlap ? n_zeros : n_overlap;
    } else {
        double min_score = 1.0;
        for (int i = 1; i <= L; i++) {
            double sc = (double)lev(out + n - i, i, b, i, row) / i;
            if (sc < min_score) { min_score = sc; index = i; }
        }
    }
    if (index == 0) {
        memcpy(out + n, b, sizeof *b * (size_t)nb);
        return n + nb;
    }
    /* a[:-1] + b[index - 1:] */
    n -= 1;
    memcpy(out + n, b + index - 1, sizeof *b * (size_t)(nb - index + 1));
    return n + nb - index + 1;
}

docrt_status ocr_recognize_fit(docrt_stream *s, const docrt_image *img, int first, int count,
                               int *n_batches)
{
    const docrt_model *m = s->m;
    const model_desc *d = &m->rec_d;
    const int H = d->height, Wb = m->rec_w[0], B = m->rec_batch, T = m->rec_T[0], C = m->n_classes;
    const raster_norm rn = {d->scale, {d->mean[0], d->mean[1], d->mean[2]},
                            {d->std[0], d->std[1], d->std[2]}, d->bgr};
    float pad[3];
    model_desc_pad_values(d, pad);
    *n_batches = 0;

    int n_p = 0, cap_p = 0;
    fit_piece *pc = NULL;
    for (int i = first; i < first + count; i++) {
        ocr_line *l = &s->lines[i];
        l->crop_w = ocr_crop_width(&l->quad, H);
        float qw = geo_quad_width(&l->quad), qh = geo_quad_height(&l->quad);
        const docrt_quad *q = &l->quad;
        if (q->y[0] == q->y[1] && q->y[2] == q->y[3] && q->x[0] == q->x[3] && q->x[1] == q->x[2]) {
            /* a straight box: docTR decides on the integer crop it slices */
            qw = (float)(lroundf(q->x[1]) - lroundf(q->x[0]));
            qh = (float)(lroundf(q->y[2]) - lroundf(q->y[1]));
        }
        if (qh < 1) qh = 1;
        if (qw < 1) qw = 1;
        double ar = qw / qh;
        int np = 1;
        if (d->split_max_ratio > 0 && ar > d->split_max_ratio) np = (int)(ar / d->split_target_ratio);
        if (np < 1) np = 1;
        if (n_p + np > cap_p) {
            cap_p = (n_p + np) * 2 + 64;
            fit_piece *q = realloc(pc, sizeof *q * (size_t)cap_p);
            if (!q) { free(pc); return ocr_fail(s, DOCRT_ERR_NOMEM, "out of memory"); }
            memset(q + n_p, 0, sizeof *q * (size_t)(cap_p - n_p));
            pc = q;
        }
        for (int k = 0; k < np; k++) {
            fit_piece *f = &pc[n_p++];
            f->line = i;
            f->c_off = f->c_n = 0;
            if (np == 1) { f->u0 = 0; f->u1 = 1; continue; }
            /* docTR's split_crops, in pixels of the crop's width */
            double w = d->split_dilation * qw / np, c = qw / np * (0.5 + k);
            double a = fmax(0, rint(c - w / 2)), b = fmin(qw - 1, rint(c + w / 2));
            f->u0 = (float)(a / qw);
            f->u1 = (float)(b / qw);
        }
    }
    ocr_char *pool = malloc(sizeof *pool * (size_t)(n_p ? n_p : 1) * (size_t)T);
    int *row = malloc(sizeof *row * (size_t)(T + 1));
    if (!pool || !row) {
        free(pc); free(pool); free(row);
        return ocr_fail(s, DOCRT_ERR_NOMEM, "out of memory");
    }
    docrt_status st = DOCRT_OK;
    int n_pool = 0;
    size_t slot = (size_t)3 * H * Wb;
    /* DOCRT_DEBUG_DOCTR=DIR: every piece's logits and where it came from,
     * for tools/doctr/check_page.py (test_doctr_models) */
    const char *dbg = getenv("DOCRT_DEBUG_DOCTR");
    float *dump = dbg && *dbg ? malloc(sizeof(float) * (size_t)(n_p ? n_p : 1) * T * C) : NULL;
    float *scale = calloc((size_t)B, sizeof *scale);
    if (!scale) { st = ocr_fail(s, DOCRT_ERR_NOMEM, "out of memory"); goto out; }
    for (int k = 0; k < n_p; k += B) {
        int n = n_p - k < B ? n_p - k : B;
        for (int q = 0; q < B; q++) {
            float *dst = s->rec_in + q * slot;
            if (q >= n) { raster_pad_planes(dst, Wb, H, 0, 0, pad); continue; }
            fit_piece *f = &pc[k + q];
            const docrt_quad *lq = &s->lines[f->line].quad;
            docrt_quad sq = ocr_sub_quad(lq, f->u0, f->u1);
            double pw = fmax(1, geo_quad_width(&sq)), ph = fmax(1, geo_quad_height(&sq));
            int cw, ch;
            /* docTR's Resize(preserve_aspect_ratio): fill one side, int() the other */
            if (ph / pw > (double)H / Wb) {
                ch = H;
                cw = (int)(H / (ph / pw)) > 1 ? (int)(H / (ph / pw)) : 1;
            } else {
                cw = Wb;
                ch = (int)(Wb * (ph / pw)) > 1 ? (int)(Wb * (ph / pw)) : 1;
            }
            scale[q] = (float)(cw / pw);
            st = geo_warp_quad(img, &sq, s->crop, cw, ch);
            if (st) { ocr_fail(s, st, "cropping a word failed"); goto out; }
            raster_norm_u8(s->crop, cw, ch, img->channels, &rn, dst, Wb, H);
            raster_pad_planes(dst, Wb, H, cw, ch, pad);
        }
        const void *in[1] = {s->rec_in};
        const void *outp[1] = {NULL};
        if (graph_stream_run(s->rec_s, 0, in, outp) != GRAPH_OK) {
            st = ocr_fail(s, DOCRT_ERR_RUNTIME, "recognizer: %s", graph_stream_last_error(s->rec_s));
            goto out;
        }
        (*n_batches)++;
        const float *probs = outp[0];
        if (dump) memcpy(dump + (size_t)k * T * C, probs, sizeof(float) * (size_t)n * T * C);
        if (d->logits) {
            ocr_softmax_rows(probs, n * T, C, s->rec_probs);
            probs = s->rec_probs;
        }
        for (int q = 0; q < n; q++) {
            fit_piece *f = &pc[k + q];
            ocr_line *l = &s->lines[f->line];
            float qw = fmaxf(1, geo_quad_width(&l->quad));
            int nc = ctc_greedy_decode(probs + (size_t)q * T * C, T, C, m->vocab.blank, s->ctc_tmp, s->ctc_cap);
            if (nc > s->ctc_cap) nc = s->ctc_cap;
            f->c_off = n_pool;
            /* positions: model columns -> piece pixels -> line crop pixels */
            float to_line = (float)l->crop_w / qw, px_t = (float)Wb / T;
            for (int c = 0; c < nc; c++) {
                ocr_char *oc = &pool[n_pool++];
                oc->cls = s->ctc_tmp[c].cls;
                oc->conf = s->ctc_tmp[c].conf;
                oc->x0 = (f->u0 * qw + s->ctc_tmp[c].t0 * px_t / scale[q]) * to_line;
                oc->x1 = (f->u0 * qw + (s->ctc_tmp[c].t1 + 1) * px_t / scale[q]) * to_line;
                if (oc->x1 > l->crop_w) oc->x1 = (float)l->crop_w;
                if (oc->x0 > oc->x1) oc->x0 = oc->x1;
            }
            f->c_n = n_pool - f->c_off;
        }
    }

    if ((st = ocr_chars_reserve(s, n_pool))) goto out;
    for (int i = 0; i < n_p; i++) {
        fit_piece *f = &pc[i];
        ocr_line *l = &s->lines[f->line];
        if (i == 0 || pc[i - 1].line != f->line) {
            l->chars_off = s->n_chars;
            l->n_chars = 0;
        }
        int before = l->n_chars;
        l->n_chars = merge_strings(s->chars + l->chars_off, l->n_chars, pool + f->c_off, f->c_n,
                                   d->split_dilation, row);
        s->n_chars += l->n_chars - before;
    }
    ocr_lines_conf(s, first, count);
    if (dump && n_p) {
        char path[4096];
        snprintf(path, sizeof path, "%s/rec_logits.npy", dbg);
        graph_shape sh = { .rank = 3, .dims = { n_p, T, C } };
        npy_write_data(path, GRAPH_DT_F32, &sh, dump, NULL, 0);
        snprintf(path, sizeof path, "%s/pieces.tsv", dbg);
        FILE *f = fopen(path, "w");
        for (int i = 0; f && i < n_p; i++) {
            const docrt_quad *q = &s->lines[pc[i].line].quad;
            fprintf(f, "%d\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\n", pc[i].line - first, pc[i].u0, pc[i].u1,
                    q->x[0], q->y[0], q->x[2], q->y[2]);
        }
        if (f) fclose(f);
    }
out:
    free(dump);
    free(scale);
    free(pc);
    free(pool);
    free(row);
    return st;
}
