/* ocr_model.c - docrt_model (load once, compile every bucket) and
 * docrt_stream (one per thread: buffers sized for the largest bucket). */
#include "int8_ranges.h"
#include "lexicon.h"
#include "ocr_internal.h"
#include "raster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ocr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

docrt_status ocr_fail(docrt_stream *s, docrt_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

docrt_model_params docrt_model_default_params(void)
{
    docrt_model_params p;
    memset(&p, 0, sizeof p);
    p.model_dir = "weights";
    p.n_threads = 1;
    p.cache_capacity = -1;
    p.precision = DOCRT_PRECISION_AUTO;
    return p;
}

const char *docrt_precision_name(docrt_precision p)
{
    return p == DOCRT_PRECISION_AUTO ? graph_precision_name(GRAPH_PREC_AUTO)
         : p == DOCRT_PRECISION_F32 ? graph_precision_name(GRAPH_PREC_F32)
         : p == DOCRT_PRECISION_BF16 ? graph_precision_name(GRAPH_PREC_BF16)
         : p == DOCRT_PRECISION_INT8 ? graph_precision_name(GRAPH_PREC_INT8) : "unknown";
}

docrt_status docrt_model_precision(const docrt_model *m, docrt_precision *det,
                                   docrt_precision *rec)
{
    if (!m || !det || !rec) return DOCRT_ERR_ARG;
    *det = m->det_prec;
    *rec = m->rec_prec;
    return DOCRT_OK;
}

/* GRAPH_PREC_F32, _BF16 or _INT8 for one model: an explicit choice applies
 * to every model (the caller keeps the classifier out of INT8); AUTO is bf16
 * where the CPU has it unless the model's description keeps it f32. */
static int model_precision(docrt_precision want, const model_desc *d)
{
    int g = want == DOCRT_PRECISION_INT8 ? GRAPH_PREC_INT8
          : want == DOCRT_PRECISION_BF16 ? GRAPH_PREC_BF16
          : want == DOCRT_PRECISION_F32 || d->auto_f32 ? GRAPH_PREC_F32 : GRAPH_PREC_AUTO;
    return graph_precision_resolve(g);
}

static docrt_precision prec_of(int graph_prec)
{
    return graph_prec == GRAPH_PREC_INT8 ? DOCRT_PRECISION_INT8
         : graph_prec == GRAPH_PREC_BF16 ? DOCRT_PRECISION_BF16 : DOCRT_PRECISION_F32;
}

/* a model's int8 calibration: the given file, else the one beside it */
static docrt_status load_ranges(const char *given, const char *model_path,
                                graph_ranges *out, char *err, size_t errlen)
{
    char path[1100];
    if (given && *given) snprintf(path, sizeof path, "%s", given);
    else if (int8_ranges_path(model_path, path, sizeof path)) {
        snprintf(err, errlen, "%s: path too long", model_path);
        return DOCRT_ERR_ARG;
    }
    return int8_ranges_load(path, out, err, errlen);
}

static void join(char *dst, size_t n, const char *dir, const char *given,
                 const char *file)
{
    if (given && *given)
        snprintf(dst, n, "%s", given);
    else
        snprintf(dst, n, "%s/%s", dir && *dir ? dir : ".", file);
}

static docrt_status gstatus(graph_status g)
{
    switch (g) {
    case GRAPH_OK: return DOCRT_OK;
    case GRAPH_ERR_IO: return DOCRT_ERR_IO;
    case GRAPH_ERR_NOMEM: return DOCRT_ERR_NOMEM;
    case GRAPH_ERR_NO_BUCKET: return DOCRT_ERR_LIMIT;
    default: return DOCRT_ERR_MODEL;
    }
}

/* Loads one ONNX model and compiles it for the given NCHW bucket shapes. */
static docrt_status load_graph(const char *path, const model_desc *d,
                               const int (*hw)[2], int n, int batch,
                               const graph_compile_params *cp,
                               graph_model **gm, graph_compiled **gc,
                               char *err, size_t errlen)
{
    char e[512] = "";
    graph_status g = graph_model_load_file(path, gm, e, sizeof e);
    if (g != GRAPH_OK) {
        /* file-level reasons already start with the path */
        if (!strncmp(e, path, strlen(path)))
            snprintf(err, errlen, "%s", e);
        else
            snprintf(err, errlen, "%s: %s", path, e[0] ? e : graph_status_str(g));
        return gstatus(g);
    }
    if (graph_model_n_inputs(*gm) != 1) {
        snprintf(err, errlen, "%s: expected one input, the model has %d",
                 path, graph_model_n_inputs(*gm));
        return DOCRT_ERR_MODEL;
    }
    if (d->input_name[0] &&
        strcmp(graph_model_input_name(*gm, 0), d->input_name) != 0) {
        snprintf(err, errlen, "%s: input is '%s', the description says '%s'",
                 path, graph_model_input_name(*gm, 0), d->input_name);
        return DOCRT_ERR_MODEL;
    }
    graph_shape shapes[8];
    for (int i = 0; i < n; i++) {
        graph_shape *s = &shapes[i];
        memset(s, 0, sizeof *s);
        s->rank = 4;
        s->dims[0] = batch;
        s->dims[1] = 3;
        s->dims[2] = hw[i][0];
        s->dims[3] = hw[i][1];
    }
    g = graph_compile(*gm, shapes, n, cp, gc, e, sizeof e);
    if (g != GRAPH_OK) {
        snprintf(err, errlen, "%s: %s", path, e[0] ? e : graph_status_str(g));
        return gstatus(g);
    }
    return DOCRT_OK;
}

void docrt_model_free(docrt_model *m)
{
    if (!m) return;
    graph_compiled_free(m->det_c);
    graph_compiled_free(m->rec_c);
    graph_compiled_free(m->cls_c);
    graph_model_free(m->det_g);
    graph_model_free(m->rec_g);
    graph_model_free(m->cls_g);
    ctc_vocab_free(&m->vocab);
    graph_ranges_free(&m->det_ranges);
    graph_ranges_free(&m->rec_ranges);
    lexicon_free(m->lex);
    free(m);
}

docrt_status docrt_model_load(const docrt_model_params *pp, docrt_model **out,
                              char *err, size_t errlen)
{
    if (!out) return DOCRT_ERR_ARG;
    *out = NULL;
    char dummy[8];
    if (!err) { err = dummy; errlen = sizeof dummy; }
    err[0] = 0;
    docrt_model *m = calloc(1, sizeof *m);
    if (!m) return DOCRT_ERR_NOMEM;
    m->p = pp ? *pp : docrt_model_default_params();
    const docrt_model_params *p = &m->p;
    join(m->det_path, sizeof m->det_path, p->model_dir, p->det_model,
         "ch_PP-OCRv4_det_infer.onnx");
    join(m->rec_path, sizeof m->rec_path, p->model_dir, p->rec_model,
         "ch_PP-OCRv4_rec_infer.onnx");
    join(m->cls_path, sizeof m->cls_path, p->model_dir, p->cls_model,
         "ch_ppocr_mobile_v2.0_cls_infer.onnx");

    docrt_status st;
    if ((st = model_desc_load(m->det_path, MD_DETECTION, &m->det_d, err,
                              errlen)) ||
        (st = model_desc_load(m->rec_path, MD_RECOGNITION, &m->rec_d, err,
                              errlen)) ||
        (p->angle_cls && (st = model_desc_load(m->cls_path, MD_ANGLE,
                                               &m->cls_d, err, errlen))))
        goto fail;

    /* Buckets: the caller's, else the description's. */
    if (p->n_det_buckets > 0) {
        if (p->n_det_buckets > 8) { st = DOCRT_ERR_ARG; goto bad_arg; }
        for (int i = 0; i < p->n_det_buckets; i++) {
            int h = p->det_buckets[i][0], w = p->det_buckets[i][1];
            if (h < 32 || w < 32 || h % 32 || w % 32 || h > 8192 || w > 8192) {
                snprintf(err, errlen, "detection bucket %dx%d: H and W must "
                         "be multiples of 32 in 32..8192", h, w);
                st = DOCRT_ERR_ARG;
                goto fail;
            }
            m->det_hw[i][0] = h;
            m->det_hw[i][1] = w;
        }
        m->n_det = p->n_det_buckets;
    } else {
        m->n_det = m->det_d.n_buckets;
        memcpy(m->det_hw, m->det_d.buckets, sizeof m->det_hw);
    }
    if (p->n_rec_widths > 0) {
        if (p->n_rec_widths > 8) { st = DOCRT_ERR_ARG; goto bad_arg; }
        for (int i = 0; i < p->n_rec_widths; i++) {
            int w = p->rec_widths[i];
            if (w < 16 || w > 8192 || (i && w <= p->rec_widths[i - 1])) {
                snprintf(err, errlen, "recognizer widths must ascend within "
                         "16..8192");
                st = DOCRT_ERR_ARG;
                goto fail;
            }
            m->rec_w[i] = w;
        }
        m->n_rec = p->n_rec_widths;
    } else {
        m->n_rec = m->rec_d.n_widths;
        memcpy(m->rec_w, m->rec_d.widths, sizeof m->rec_w);
    }
    m->rec_batch = p->rec_batch > 0 ? p->rec_batch : m->rec_d.batch;
    if (m->rec_batch > 64) { st = DOCRT_ERR_ARG; goto bad_arg; }

    st = ctc_vocab_load(m->rec_d.vocab_file, m->rec_d.blank_first,
                        m->rec_d.add_space, &m->vocab, err, errlen);
    if (st) goto fail;
    if (p->lexicon && *p->lexicon) {
        if ((st = lexicon_load(p->lexicon, &m->lex, err, errlen))) goto fail;
    } else if (!p->lexicon && access(DOCRT_SYSTEM_WORDS, R_OK) == 0) {
        char e2[256];
        if (lexicon_load(DOCRT_SYSTEM_WORDS, &m->lex, e2, sizeof e2))
            m->lex = NULL; /* the default is best effort */
    }

    graph_compile_params cp = graph_compile_default_params();
    cp.n_threads = p->n_threads > 0 ? p->n_threads : 1;
    if (p->cache_capacity >= 0) cp.cache_capacity = p->cache_capacity;
    if (p->precision < DOCRT_PRECISION_AUTO || p->precision > DOCRT_PRECISION_INT8) {
        st = DOCRT_ERR_ARG;
        snprintf(err, errlen, "unknown precision %d", (int)p->precision);
        goto fail;
    }
    graph_compile_params cpd = cp, cpr = cp, cpc = cp;
    cpd.precision = model_precision(p->precision, &m->det_d);
    cpr.precision = model_precision(p->precision, &m->rec_d);
    cpc.precision = model_precision(p->precision == DOCRT_PRECISION_INT8
                                    ? DOCRT_PRECISION_AUTO : p->precision, &m->cls_d);
    if (p->precision == DOCRT_PRECISION_INT8) {
        if ((st = load_ranges(p->det_int8, m->det_path, &m->det_ranges, err, errlen)) ||
            (st = load_ranges(p->rec_int8, m->rec_path, &m->rec_ranges, err, errlen)))
            goto fail;
        cpd.ranges = &m->det_ranges;
        cpr.ranges = &m->rec_ranges;
        /* what is not int8 runs as AUTO would run the model */
        cpd.int8_float = model_precision(DOCRT_PRECISION_AUTO, &m->det_d);
        cpr.int8_float = model_precision(DOCRT_PRECISION_AUTO, &m->rec_d);
        cpd.int8_convs = m->det_d.int8_convs;
        cpr.int8_convs = m->rec_d.int8_convs;
        cpd.int8_min_sqnr = m->det_d.int8_min_sqnr;
        cpr.int8_min_sqnr = m->rec_d.int8_min_sqnr;
    }
    m->det_prec = prec_of(cpd.precision);
    m->rec_prec = prec_of(cpr.precision);
    if ((st = load_graph(m->det_path, &m->det_d, (const int (*)[2])m->det_hw,
                         m->n_det, 1, &cpd, &m->det_g, &m->det_c, err, errlen)))
        goto fail;
    int rec_hw[8][2];
    for (int i = 0; i < m->n_rec; i++) {
        rec_hw[i][0] = m->rec_d.height;
        rec_hw[i][1] = m->rec_w[i];
    }
    if ((st = load_graph(m->rec_path, &m->rec_d, (const int (*)[2])rec_hw,
                         m->n_rec, m->rec_batch, &cpr, &m->rec_g, &m->rec_c,
                         err, errlen)))
        goto fail;
    if (p->angle_cls) {
        int cls_hw[1][2] = {{m->cls_d.height, m->cls_d.width}};
        if ((st = load_graph(m->cls_path, &m->cls_d, (const int (*)[2])cls_hw,
                             1, 1, &cpc, &m->cls_g, &m->cls_c, err, errlen)))
            goto fail;
        graph_shape o = graph_compiled_output_shape(m->cls_c, 0, 0);
        if (o.rank != 2 || o.dims[1] != 2) {
            snprintf(err, errlen, "%s: expected an output of [N, 2] "
                     "(0 and 180 degrees)", m->cls_path);
            st = DOCRT_ERR_MODEL;
            goto fail;
        }
    }

    /* Shapes the pipeline relies on. */
    for (int i = 0; i < m->n_det; i++) {
        graph_shape o = graph_compiled_output_shape(m->det_c, i, 0);
        if (o.rank != 4 || o.dims[1] != 1 || o.dims[2] != m->det_hw[i][0] ||
            o.dims[3] != m->det_hw[i][1]) {
            snprintf(err, errlen, "%s: expected a probability map of "
                     "[1, 1, H, W] for bucket %dx%d", m->det_path,
                     m->det_hw[i][0], m->det_hw[i][1]);
            st = DOCRT_ERR_MODEL;
            goto fail;
        }
        size_t n = (size_t)3 * m->det_hw[i][0] * m->det_hw[i][1];
        if (n > m->det_in_floats) m->det_in_floats = n;
    }
    for (int i = 0; i < m->n_rec; i++) {
        graph_shape o = graph_compiled_output_shape(m->rec_c, i, 0);
        if (o.rank != 3 || o.dims[0] != m->rec_batch ||
            o.dims[2] != m->vocab.n_classes || o.dims[1] < 1) {
            snprintf(err, errlen, "%s: expected an output of [N, T, %d] "
                     "(the vocabulary's classes)", m->rec_path,
                     m->vocab.n_classes);
            st = DOCRT_ERR_MODEL;
            goto fail;
        }
        m->rec_T[i] = (int)o.dims[1];
    }
    m->n_classes = m->vocab.n_classes;
    m->rec_in_floats = (size_t)m->rec_batch * 3 * m->rec_d.height *
                       m->rec_w[m->n_rec - 1];
    if (p->angle_cls)
        m->cls_in_floats = (size_t)3 * m->cls_d.height * m->cls_d.width;
    *out = m;
    return DOCRT_OK;
bad_arg:
    snprintf(err, errlen, "too many buckets (at most 8) or batch over 64");
fail:
    docrt_model_free(m);
    return st;
}

void docrt_stream_free(docrt_stream *s)
{
    if (!s) return;
    if (s->page_valid) layout_page_release(&s->page);
    graph_stream_free(s->det_s);
    graph_stream_free(s->rec_s);
    graph_stream_free(s->cls_s);
    free(s->det_in);
    free(s->det_tmp);
    free(s->rec_in);
    free(s->cls_in);
    free(s->rec_probs);
    free(s->det_prob);
    free(s->crop);
    free(s->lines);
    free(s->chars);
    free(s->ctc_tmp);
    free(s->cx0);
    free(s->cx1);
    free(s->ink);
    if (s->calib) {
        graph_ranges_free(&s->calib[0]);
        graph_ranges_free(&s->calib[1]);
        free(s->calib);
    }
    free(s);
}

docrt_status docrt_calibration_begin(docrt_stream *s)
{
    if (!s) return DOCRT_ERR_ARG;
    if (!s->calib) {
        s->calib = calloc(2, sizeof *s->calib);
        if (!s->calib) return DOCRT_ERR_NOMEM;
        s->calib_pages = 0;
    }
    graph_stream_observe(s->det_s, &s->calib[0]);
    graph_stream_observe(s->rec_s, &s->calib[1]);
    return DOCRT_OK;
}

docrt_status docrt_calibration_save(docrt_stream *s, const char *det_path,
                                    const char *rec_path, int *pages,
                                    char *err, size_t errlen)
{
    if (!s || !s->calib) {
        snprintf(err, errlen, "calibration was not begun on this stream");
        return DOCRT_ERR_ARG;
    }
    graph_stream_observe(s->det_s, NULL);
    graph_stream_observe(s->rec_s, NULL);
    if (pages) *pages = s->calib_pages;
    const char *given[2] = {det_path, rec_path};
    const char *model[2] = {s->m->det_path, s->m->rec_path};
    docrt_status st = DOCRT_OK;
    for (int k = 0; k < 2 && !st; k++) {
        char path[1100];
        if (given[k] && *given[k]) snprintf(path, sizeof path, "%s", given[k]);
        else if (int8_ranges_path(model[k], path, sizeof path)) {
            snprintf(err, errlen, "%s: path too long", model[k]);
            st = DOCRT_ERR_ARG;
            break;
        }
        if (s->calib[k].n == 0) {
            snprintf(err, errlen, "%s: no pages were read, nothing to write",
                     path);
            st = DOCRT_ERR_ARG;
            break;
        }
        st = int8_ranges_save(path, &s->calib[k], model[k], s->calib_pages,
                              err, errlen);
    }
    graph_ranges_free(&s->calib[0]);
    graph_ranges_free(&s->calib[1]);
    free(s->calib);
    s->calib = NULL;
    return st;
}

docrt_status docrt_stream_create(const docrt_model *m, docrt_stream **out)
{
    if (!m || !out) return DOCRT_ERR_ARG;
    docrt_stream *s = calloc(1, sizeof *s);
    if (!s) return DOCRT_ERR_NOMEM;
    s->m = m;
    if (graph_stream_create(m->det_c, &s->det_s) ||
        graph_stream_create(m->rec_c, &s->rec_s) ||
        (m->cls_c && graph_stream_create(m->cls_c, &s->cls_s)))
        goto nomem;
    int maxw = 0;
    for (int i = 0; i < m->n_det; i++)
        if (m->det_hw[i][1] > maxw) maxw = m->det_hw[i][1];
    s->det_tmp_floats = raster_resize_tmp_floats(0, 0, maxw, 0);
    s->det_in = malloc(m->det_in_floats * sizeof(float));
    s->det_tmp = malloc(s->det_tmp_floats * sizeof(float));
    s->rec_in = malloc(m->rec_in_floats * sizeof(float));
    s->crop = malloc((size_t)3 * m->rec_d.height * OCR_MAX_CROP_W);
    s->ctc_cap = 0;
    for (int i = 0; i < m->n_rec; i++)
        if (m->rec_T[i] > s->ctc_cap) s->ctc_cap = m->rec_T[i];
    s->ctc_tmp = malloc(sizeof(ctc_char) * ((size_t)s->ctc_cap + 1));
    s->cx0 = malloc(sizeof(float) * (size_t)s->ctc_cap);
    s->cx1 = malloc(sizeof(float) * (size_t)s->ctc_cap);
    s->ink = malloc((size_t)m->rec_batch * (size_t)m->rec_w[m->n_rec - 1]);
    if (m->cls_c) s->cls_in = malloc(m->cls_in_floats * sizeof(float));
    size_t rec_probs_floats = (size_t)m->rec_batch * (size_t)s->ctc_cap * (size_t)m->n_classes;
    if (m->rec_d.logits) s->rec_probs = malloc(sizeof(float) * rec_probs_floats);
    if (m->det_d.logits) s->det_prob = malloc(sizeof(float) * (m->det_in_floats / 3));
    if (!s->det_in || !s->det_tmp || !s->rec_in || !s->crop || !s->ctc_tmp ||
        !s->cx0 || !s->cx1 || !s->ink ||
        (m->cls_c && !s->cls_in) || (m->rec_d.logits && !s->rec_probs) ||
        (m->det_d.logits && !s->det_prob))
        goto nomem;
    /* Fault the input buffers in now (sized for the largest bucket), as the
     * graph arenas are: a stream's RSS does not grow with the page sizes. */
    graph_touch_pages(s->det_in, m->det_in_floats * sizeof(float));
    graph_touch_pages(s->det_tmp, s->det_tmp_floats * sizeof(float));
    graph_touch_pages(s->rec_in, m->rec_in_floats * sizeof(float));
    graph_touch_pages(s->crop, (size_t)3 * m->rec_d.height * OCR_MAX_CROP_W);
    graph_touch_pages(s->ink, (size_t)m->rec_batch * (size_t)m->rec_w[m->n_rec - 1]);
    if (s->cls_in) graph_touch_pages(s->cls_in, m->cls_in_floats * sizeof(float));
    if (s->rec_probs) graph_touch_pages(s->rec_probs, sizeof(float) * rec_probs_floats);
    if (s->det_prob) graph_touch_pages(s->det_prob, sizeof(float) * (m->det_in_floats / 3));
    *out = s;
    return DOCRT_OK;
nomem:
    docrt_stream_free(s);
    return DOCRT_ERR_NOMEM;
}

const char *docrt_stream_error(const docrt_stream *s)
{
    return s ? s->err : "no stream";
}

docrt_status ocr_chars_reserve(docrt_stream *s, int extra)
{
    if (s->n_chars + extra <= s->cap_chars) return DOCRT_OK;
    int cap = s->n_chars + extra + 1024;
    ocr_char *c = realloc(s->chars, sizeof *c * (size_t)cap);
    if (!c) return ocr_fail(s, DOCRT_ERR_NOMEM, "out of memory");
    s->chars = c;
    s->cap_chars = cap;
    return DOCRT_OK;
}

void ocr_lines_conf(docrt_stream *s, int first, int count)
{
    for (int i = first; i < first + count; i++) {
        ocr_line *l = &s->lines[i];
        double sum = 0;
        int n = 0;
        for (int c = 0; c < l->n_chars; c++) {
            if (s->chars[l->chars_off + c].cls == s->m->vocab.space) continue;
            sum += s->chars[l->chars_off + c].conf;
            n++;
        }
        l->conf = n ? (float)(sum / n) : 0.f;
    }
}

docrt_status ocr_lines_reserve(docrt_stream *s, int n)
{
    if (n <= s->cap_lines) return DOCRT_OK;
    int cap = s->cap_lines ? s->cap_lines : 64;
    while (cap < n) cap *= 2;
    ocr_line *l = realloc(s->lines, sizeof *l * (size_t)cap);
    if (!l) return DOCRT_ERR_NOMEM;
    s->lines = l;
    s->cap_lines = cap;
    return DOCRT_OK;
}
