/* ocr_recognize.c - text lines through the recognizer: crop each quad with a
 * perspective warp to the model's height, cut lines longer than the widest
 * bucket into overlapping chunks, group chunks by width bucket into fixed
 * batches, run, CTC-decode, and stitch the chunks back together. */
#include "geometry.h"
#include "ocr_internal.h"
#include "raster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int line;
    int start, len;   /* crop pixels of the line this chunk covers */
    int keep_lo, keep_hi; /* characters centred here belong to this chunk */
    int bucket;
    int c_off, c_n;   /* decoded characters in the job pool */
} rec_job;

static int job_by_bucket(const void *a, const void *b)
{
    const rec_job *x = *(const rec_job *const *)a, *y = *(const rec_job *const *)b;
    if (x->bucket != y->bucket) return x->bucket - y->bucket;
    if (x->line != y->line) return x->line - y->line;
    return x->start - y->start;
}

static int bucket_for(const docrt_model *m, int w)
{
    for (int i = 0; i < m->n_rec; i++)
        if (m->rec_w[i] >= w) return i;
    return m->n_rec - 1;
}

docrt_quad ocr_sub_quad(const docrt_quad *q, float u0, float u1)
{
    geo_pt a = geo_quad_point(q, u0, 0), b = geo_quad_point(q, u1, 0),
           c = geo_quad_point(q, u1, 1), d = geo_quad_point(q, u0, 1);
    docrt_quad r = {{a.x, b.x, c.x, d.x}, {a.y, b.y, c.y, d.y}};
    return r;
}

/* A crop pixel's grey level (the mean of RGB). */
static inline int luma(const uint8_t *p, int ch)
{
    return ch == 3 ? (p[0] + p[1] + p[2]) / 3 : p[0];
}

/* Which crop columns hold ink, judged without the top and bottom tenth of
 * the crop (where the neighbouring lines may show). A wider margin hides
 * the bar of a capital T and splits words there ("T herapeutix"). Bit 0 of
 * ink[x]: the column holds ink (all columns when the crop has no contrast
 * to judge by). Bit 1: it holds ink only above the line's x-height band,
 * as a quotation mark's strokes do (see quote_strokes); bit 2: that ink is
 * at least an eighth of the crop height tall (a stroke, not the thin bar
 * of a T). */
static void ink_columns(const uint8_t *crop, int w, int h, int ch,
                        uint8_t *ink)
{
    int hist[256] = {0}, n = 0;
    int y0 = h / 10, y1 = h - h / 10;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++) {
            hist[luma(crop + ((size_t)y * w + x) * ch, ch)]++;
            n++;
        }
    int lo = 0, hi = 255, acc = 0;
    for (int v = 0; v < 256; v++) { acc += hist[v]; if (acc >= n / 20) { lo = v; break; } }
    acc = 0;
    for (int v = 255; v >= 0; v--) { acc += hist[v]; if (acc >= n / 20) { hi = v; break; } }
    if (hi - lo < 48) { memset(ink, 1, (size_t)w); return; }
    int thr = (lo + hi) / 2;
    memset(ink, 0, (size_t)w);
    int rows[OCR_MAX_REC_H] = {0};
    int hh = h < OCR_MAX_REC_H ? h : OCR_MAX_REC_H;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++) {
            if (luma(crop + ((size_t)y * w + x) * ch, ch) < thr) {
                ink[x] = 1;
                if (y < hh) rows[y]++;
            }
        }
    /* The x-height band: the longest run of rows holding at least 40 % of
     * the densest row's ink (lower-case letters fill it; ascenders, capitals
     * and quotation marks rise above it). */
    int mx = 0;
    for (int y = y0; y < y1 && y < hh; y++) if (rows[y] > mx) mx = rows[y];
    if (mx == 0) return;
    int bt = -1, bl = 0;
    for (int y = y0; y < y1 && y < hh;) {
        if (rows[y] * 10 < mx * 4) { y++; continue; }
        int e = y;
        while (e < y1 && e < hh && rows[e] * 10 >= mx * 4) e++;
        if (e - y > bl) { bl = e - y; bt = y; }
        y = e;
    }
    if (bt < 0 || bl < h / 8) return;
    /* Above: the top margin to the band's top; inside: the band's lower
     * half (a quotation mark reaches down to about a third of it). */
    int ia = bt + bl / 2, ib = bt + bl;
    for (int x = 0; x < w; x++) {
        if (!ink[x]) continue;
        int above = 0, tall = 0, inside = 0;
        for (int y = y0; y < ia; y++) {
            if (luma(crop + ((size_t)y * w + x) * ch, ch) < thr) {
                tall++;
                if (y < bt) above = 1;
            }
        }
        for (int y = ia; y < ib && !inside; y++) {
            inside = luma(crop + ((size_t)y * w + x) * ch, ch) < thr;
        }
        if (above && !inside) ink[x] |= tall * 8 >= h ? 6 : 2;
    }
}

/* Runs of columns inked only above the x-height band (ink bit 1), at most
 * a quarter of the crop height wide, with a tall column (bit 2): a
 * quotation mark's strokes. Returns how many strokes make the mark whose
 * stroke lies nearest to column c (within a quarter of the height): 2 when
 * another stroke stands within a fifth of the height beside it ('' or "),
 * 1 for a single mark or an apostrophe, 0 when no stroke is near. */
static int quote_strokes(const uint8_t *ink, int len, int H, float c)
{
    int rs[64] = {0}, re[64] = {0}, nr = 0;
    int a = (int)floorf(c - 0.5f * H), b = (int)ceilf(c + 0.5f * H);
    if (a < 0) a = 0;
    if (b > len) b = len;
    for (int x = a; x < b && nr < 64;) {
        if (!(ink[x] & 2)) { x++; continue; }
        int r = x, e = x;
        while (r > 0 && (ink[r - 1] & 2)) r--;
        while (e < len && (ink[e] & 2)) e++;
        int tall = 0;
        for (int t = r; t < e; t++) tall |= ink[t] & 4;
        if ((e - r) * 4 <= H && tall) { rs[nr] = r; re[nr] = e; nr++; }
        x = e;
    }
    int best = -1;
    float bd = 0.25f * H;
    for (int i = 0; i < nr; i++) {
        float d = c < rs[i] ? rs[i] - c : c >= re[i] ? c - re[i] + 1 : 0;
        if (d <= bd) { bd = d; best = i; }
    }
    if (best < 0) return 0;
    int gap = H / 5;
    if ((best > 0 && rs[best] - re[best - 1] <= gap) ||
        (best + 1 < nr && rs[best + 1] - re[best] <= gap))
        return 2;
    return 1;
}

static int is_wordish(const ctc_vocab *v, int cls)
{
    if (cls < 0 || cls >= v->n_classes || ctc_quote_index(v, cls) >= 0)
        return 0;
    unsigned char k = (unsigned char)v->keys[cls][0];
    return (k >= '0' && k <= '9') || (k >= 'A' && k <= 'Z') ||
           (k >= 'a' && k <= 'z') || k >= 0x80;
}

/* The recognizer reads a double quotation mark as a single one ('' as '),
 * or as two marks in a row ('’ for ”). Over the n characters of a crop
 * (spaces included; x0/x1 in crop columns plus off): a quotation mark that
 * touches the one before it (at most gap columns apart) merges into it as
 * a double mark; a mark between two letters or digits is an apostrophe
 * (single); any other mark is single or double as its strokes in the crop
 * say. Marks keep their form (straight, curly, prime). Returns the new
 * count. */
static int fix_quotes(const ctc_vocab *v, ocr_char *ch, int n,
                      const uint8_t *ink, int len, int H, int off, float gap)
{
    if (v->n_quote == 0) return n;
    int k = 0;
    unsigned char merged[512] = {0};
    for (int i = 0; i < n; i++) {
        int qi = ctc_quote_index(v, ch[i].cls);
        int pq = k > 0 ? ctc_quote_index(v, ch[k - 1].cls) : -1;
        if (qi >= 0 && pq >= 0 && ch[i].x0 - ch[k - 1].x1 <= gap) {
            ocr_char *p = &ch[k - 1];
            p->x1 = ch[i].x1;
            if (ch[i].conf > p->conf) p->conf = ch[i].conf;
            if (!v->quote_double[pq] && v->quote_alt[pq] >= 0)
                p->cls = v->quote_alt[pq];
            if (k - 1 < 512) merged[k - 1] = 1;
            continue;
        }
        ch[k++] = ch[i];
    }
    for (int i = 0; i < k; i++) {
        int qi = ctc_quote_index(v, ch[i].cls);
        if (qi < 0 || v->quote_alt[qi] < 0 || (i < 512 && merged[i]))
            continue;
        int dbl;
        if (i > 0 && i + 1 < k && is_wordish(v, ch[i - 1].cls) &&
            is_wordish(v, ch[i + 1].cls))
            dbl = 0;
        else {
            int s = quote_strokes(ink, len, H,
                                  0.5f * (ch[i].x0 + ch[i].x1) - (float)off);
            if (s == 0) continue;
            dbl = s == 2;
        }
        if (dbl != (v->quote_double[qi] != 0))
            ch[i].cls = v->quote_alt[qi];
    }
    return k;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The recognizer (trained mostly on Chinese) drops many word spaces in
 * Latin text. Put back a space between two characters when the crop shows
 * a blank gap between them that is wide for a word space in that line:
 * wider than a fraction of the text height and than the line's typical
 * letter gap (monospaced type has wide letter gaps), or a bit narrower
 * when the recognizer's own space probability rises there. */
static int insert_spaces(const ctc_char *in, int n, const float *x0,
                         const float *x1, const uint8_t *ink, int len, int H,
                         int space, const float *probs, int C, ocr_char *out,
                         int start)
{
    int gaps[512], ng = 0;
    int gap_of[512];
    float mid[512] = {0};
    int np = n < 512 ? n : 512;
    for (int i = 0; i < np; i++) mid[i] = 0.5f * (x0[i] + x1[i]);
    for (int i = 0; i + 1 < np; i++)
        gap_of[i] = (in[i].cls == space || in[i + 1].cls == space) ? -1 : 0;
    /* Each blank run of the crop goes to the pair of characters around its
     * middle: the CTC spikes are not centred on their glyphs, so a run may
     * stick out of the span between two spikes. */
    int i = 0;
    for (int x = 0; x < len;) {
        if (ink[x] & 1) { x++; continue; }
        int r0 = x;
        while (x < len && !(ink[x] & 1)) x++;
        float rm = 0.5f * (r0 + x);
        while (i + 1 < np && mid[i + 1] <= rm) i++;
        if (i + 1 < np && mid[i] <= rm && gap_of[i] >= 0 && x - r0 > gap_of[i])
            gap_of[i] = x - r0;
    }
    for (int k = 0; k + 1 < np; k++)
        if (gap_of[k] >= 0) gaps[ng++] = gap_of[k];
    int med = 0;
    if (ng) {
        qsort(gaps, (size_t)ng, sizeof *gaps, cmp_int);
        med = gaps[ng / 2];
    }
    /* 0.22 of the crop height and 2.5 letter gaps: measured on scans
     * (serif book pages, typewriter reports, tables); see the closing note
     * of issue 3 for the sweep. */
    float thr = 0.22f * H;
    /* too few pairs to know the line's letter gap */
    if (ng >= 6 && 2.5f * med > thr) thr = 2.5f * med;
    /* A narrower gap still counts when the recognizer itself gave the space
     * class some probability between the two characters (it rarely wins
     * the argmax on Latin text): at least 0.03, and a gap of 0.6 of the
     * threshold. Dev set: BoW-WER 6.01 -> 5.06 %, table page 19.7 -> 9.4. */
    const float tau = 0.03f, tfrac = 0.6f;
    int k = 0;
    for (i = 0; i < n; i++) {
        ocr_char *oc = &out[k++];
        oc->cls = in[i].cls;
        oc->conf = in[i].conf;
        oc->x0 = start + x0[i];
        oc->x1 = start + x1[i];
        int put = i + 1 < np && gap_of[i] >= 0 && gap_of[i] >= thr;
        if (!put && i + 1 < np && gap_of[i] >= 0) {
            /* the recognizer's own doubt: space probability between them */
            float pmax = 0;
            for (int t = in[i].t0; t <= in[i + 1].t1; t++) {
                float v = probs[(size_t)t * C + space];
                if (v > pmax) pmax = v;
            }
            put = pmax >= tau && gap_of[i] >= tfrac * thr;
        }
        if (put) {
            ocr_char *sp = &out[k++];
            sp->cls = space;
            sp->conf = 1.f;
            sp->x0 = start + x1[i];
            sp->x1 = start + x0[i + 1];
        }
    }
    return k;
}

int ocr_crop_width(const docrt_quad *q, int height)
{
    float qw = geo_quad_width(q), qh = geo_quad_height(q);
    if (qh < 1) qh = 1;
    double w = ceil(height * (double)qw / qh);
    if (w < 8) w = 8;
    if (w > OCR_MAX_CROP_W) w = OCR_MAX_CROP_W;
    return (int)w;
}

void ocr_softmax_rows(const float *logits, int n, int C, float *out)
{
    for (int r = 0; r < n; r++) {
        const float *x = logits + (size_t)r * C;
        float *y = out + (size_t)r * C, mx = -INFINITY;
        for (int c = 0; c < C; c++) if (x[c] > mx) mx = x[c];
        double sum = 0;
        for (int c = 0; c < C; c++) sum += (y[c] = expf(x[c] - mx));
        float inv = (float)(1.0 / sum);
        for (int c = 0; c < C; c++) y[c] *= inv;
    }
}

docrt_status ocr_recognize(docrt_stream *s, const docrt_image *img,
                           int first, int count, int *n_batches)
{
    const docrt_model *m = s->m;
    if (m->rec_d.resize_fit) return ocr_recognize_fit(s, img, first, count, n_batches);
    const int H = m->rec_d.height, B = m->rec_batch;
    const int maxw = m->rec_w[m->n_rec - 1];
    const int overlap = H * 2; /* about two characters */
    const raster_norm rn = {m->rec_d.scale,
                            {m->rec_d.mean[0], m->rec_d.mean[1], m->rec_d.mean[2]},
                            {m->rec_d.std[0], m->rec_d.std[1], m->rec_d.std[2]},
                            m->rec_d.bgr};
    float pad[3];
    model_desc_pad_values(&m->rec_d, pad);
    *n_batches = 0;

    /* Jobs: one per chunk. */
    int n_jobs = 0, cap_jobs = 0;
    rec_job *jobs = NULL;
    for (int i = first; i < first + count; i++) {
        ocr_line *l = &s->lines[i];
        l->crop_w = ocr_crop_width(&l->quad, H);
        int W = l->crop_w;
        int step = maxw - overlap;
        for (int start = 0;; start += step) {
            if (n_jobs == cap_jobs) {
                cap_jobs = cap_jobs ? cap_jobs * 2 : 128;
                rec_job *nj = realloc(jobs, sizeof *nj * (size_t)cap_jobs);
                if (!nj) { free(jobs); return ocr_fail(s, DOCRT_ERR_NOMEM, "out of memory"); }
                jobs = nj;
            }
            rec_job *j = &jobs[n_jobs++];
            j->line = i;
            j->start = start;
            j->len = W - start < maxw ? W - start : maxw;
            j->keep_lo = start == 0 ? 0 : overlap / 2;
            j->keep_hi = start + j->len >= W ? j->len : j->len - overlap / 2;
            j->bucket = bucket_for(m, j->len);
            j->c_off = j->c_n = 0;
            if (start + j->len >= W) break;
        }
    }
    rec_job **order = malloc(sizeof *order * (size_t)(n_jobs ? n_jobs : 1));
    int maxT = 0;
    for (int i = 0; i < m->n_rec; i++)
        if (m->rec_T[i] > maxT) maxT = m->rec_T[i];
    ocr_char *pool = malloc(sizeof *pool * ((size_t)(n_jobs ? n_jobs : 1) *
                                            (size_t)maxT * 2 + 1));
    if (!order || !pool) {
        free(jobs); free(order); free(pool);
        return ocr_fail(s, DOCRT_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n_jobs; i++) order[i] = &jobs[i];
    qsort(order, (size_t)n_jobs, sizeof *order, job_by_bucket);

    int n_pool = 0;
    docrt_status st = DOCRT_OK;
    for (int k = 0; k < n_jobs;) {
        int b = order[k]->bucket, Wb = m->rec_w[b], T = m->rec_T[b];
        size_t slot = (size_t)3 * H * Wb;
        int n = 0;
        while (k + n < n_jobs && n < B && order[k + n]->bucket == b) n++;
        double t0 = ocr_now_ms();
        for (int q = 0; q < B; q++) {
            float *dst = s->rec_in + q * slot;
            if (q < n) {
                rec_job *j = order[k + q];
                ocr_line *l = &s->lines[j->line];
                docrt_quad sq = ocr_sub_quad(&l->quad, (float)j->start / l->crop_w,
                                         (float)(j->start + j->len) / l->crop_w);
                st = geo_warp_quad(img, &sq, s->crop, j->len, H);
                if (st) { ocr_fail(s, st, "cropping a text line failed"); goto out; }
                raster_norm_u8(s->crop, j->len, H, img->channels, &rn, dst, Wb, H);
                ink_columns(s->crop, j->len, H, img->channels,
                            s->ink + (size_t)q * maxw);
                raster_pad_planes(dst, Wb, H, j->len, H, pad);
            } else {
                raster_pad_planes(dst, Wb, H, 0, 0, pad);
            }
        }
        const void *in[1] = {s->rec_in};
        const void *out[1] = {NULL};
        double t1 = ocr_now_ms();
        graph_status g = graph_stream_run(s->rec_s, b, in, out);
        double t2 = ocr_now_ms();
        s->split.rec_crop_ms += t1 - t0;
        s->split.rec_net_ms += t2 - t1;
        if (g != GRAPH_OK) {
            st = ocr_fail(s, DOCRT_ERR_RUNTIME, "recognizer (width %d): %s",
                          Wb, graph_stream_last_error(s->rec_s));
            goto out;
        }
        (*n_batches)++;
        const float *probs = out[0];
        if (m->rec_d.logits) {
            ocr_softmax_rows(probs, B * T, m->n_classes, s->rec_probs);
            probs = s->rec_probs;
        }
        float px_per_t = (float)Wb / T;
        for (int q = 0; q < n; q++) {
            rec_job *j = order[k + q];
            int nc = ctc_greedy_decode_grouped(
                probs + (size_t)q * T * m->n_classes, T, m->n_classes,
                m->vocab.blank, m->vocab.quote, m->vocab.n_quote, s->ctc_tmp,
                s->ctc_cap);
            if (nc > s->ctc_cap) nc = s->ctc_cap;
            j->c_off = n_pool;
            int kept = 0;
            for (int c = 0; c < nc; c++) {
                const ctc_char *cc = &s->ctc_tmp[c];
                float x0 = cc->t0 * px_per_t, x1 = (cc->t1 + 1) * px_per_t;
                float mid = 0.5f * (x0 + x1);
                if (mid < j->keep_lo || mid >= j->keep_hi || mid >= j->len)
                    continue;
                s->ctc_tmp[kept] = *cc;
                s->cx0[kept] = x0;
                s->cx1[kept] = x1 < j->len ? x1 : j->len;
                kept++;
            }
            int nk = insert_spaces(s->ctc_tmp, kept, s->cx0, s->cx1,
                                   s->ink + (size_t)q * maxw, j->len, H,
                                   m->vocab.space,
                                   probs + (size_t)q * T * m->n_classes,
                                   m->n_classes, pool + n_pool, j->start);
            n_pool += fix_quotes(&m->vocab, pool + n_pool, nk,
                                 s->ink + (size_t)q * maxw, j->len, H,
                                 j->start, 2 * px_per_t);
            j->c_n = n_pool - j->c_off;
        }
        s->split.rec_decode_ms += ocr_now_ms() - t2;
        k += n;
    }

    /* Stitch: jobs are in line order, chunks left to right. */
    if ((st = ocr_chars_reserve(s, n_pool))) goto out;
    for (int i = 0; i < n_jobs; i++) {
        rec_job *j = &jobs[i];
        ocr_line *l = &s->lines[j->line];
        if (j->start == 0) {
            l->chars_off = s->n_chars;
            l->n_chars = 0;
        }
        memcpy(s->chars + s->n_chars, pool + j->c_off,
               sizeof *pool * (size_t)j->c_n);
        s->n_chars += j->c_n;
        l->n_chars += j->c_n;
    }
    ocr_lines_conf(s, first, count);
out:
    free(jobs);
    free(order);
    free(pool);
    return st;
}

docrt_status ocr_classify_angles(docrt_stream *s, const docrt_image *img)
{
    const docrt_model *m = s->m;
    if (!s->cls_s) return DOCRT_OK;
    const model_desc *d = &m->cls_d;
    const raster_norm rn = {d->scale, {d->mean[0], d->mean[1], d->mean[2]},
                            {d->std[0], d->std[1], d->std[2]}, d->bgr};
    float pad[3];
    model_desc_pad_values(d, pad);
    for (int i = 0; i < s->n_lines; i++) {
        ocr_line *l = &s->lines[i];
        int w = ocr_crop_width(&l->quad, d->height);
        if (w > d->width) w = d->width;
        docrt_status st = geo_warp_quad(img, &l->quad, s->crop, w, d->height);
        if (st) return ocr_fail(s, st, "cropping a text line failed");
        raster_norm_u8(s->crop, w, d->height, img->channels, &rn, s->cls_in,
                       d->width, d->height);
        raster_pad_planes(s->cls_in, d->width, d->height, w, d->height, pad);
        const void *in[1] = {s->cls_in};
        const void *out[1] = {NULL};
        double t0 = ocr_now_ms();
        graph_status g = graph_stream_run(s->cls_s, 0, in, out);
        s->split.rec_net_ms += ocr_now_ms() - t0;
        if (g != GRAPH_OK)
            return ocr_fail(s, DOCRT_ERR_RUNTIME, "angle classifier: %s",
                            graph_stream_last_error(s->cls_s));
        const float *pr = out[0];
        if (pr[1] > d->angle_thresh) {
            docrt_quad q = l->quad, r;
            for (int k = 0; k < 4; k++) {
                r.x[k] = q.x[(k + 2) % 4];
                r.y[k] = q.y[(k + 2) % 4];
            }
            l->quad = r;
        }
    }
    return DOCRT_OK;
}
