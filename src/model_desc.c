/* model_desc.c - parse a model description (see model_desc.h) with jansson.
 * Unknown keys are ignored so descriptions can grow; a missing required key
 * or a wrong type is an error naming the file and the key. */
#include "model_desc.h"
#include "graph.h"
#include "int8_ranges.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *task_name(int t)
{
    return t == MD_DETECTION ? "detection"
         : t == MD_RECOGNITION ? "recognition" : "angle_classification";
}

static int get_num(json_t *o, const char *key, double *v)
{
    json_t *j = json_object_get(o, key);
    if (!j || !json_is_number(j)) return 0;
    *v = json_number_value(j);
    return 1;
}

static int get_vec3(json_t *o, const char *key, float v[3])
{
    json_t *a = json_object_get(o, key);
    if (!json_is_array(a) || json_array_size(a) != 3) return 0;
    for (int i = 0; i < 3; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_number(x)) return 0;
        v[i] = (float)json_number_value(x);
    }
    return 1;
}

void model_desc_pad_values(const model_desc *d, float pad[3])
{
    for (int c = 0; c < 3; c++)
        pad[c] = !isnan(d->pad_pixel) ? (d->pad_pixel * d->scale - d->mean[c]) / d->std[c]
               : !isnan(d->pad_value) ? d->pad_value
               : (255.f * d->scale - d->mean[c]) / d->std[c];
}

docrt_status model_desc_load(const char *onnx_path, int task, model_desc *d,
                             char *err, size_t errlen)
{
    char path[1024];
    size_t n = strlen(onnx_path);
    const char *dot = strrchr(onnx_path, '.');
    const char *slash = strrchr(onnx_path, '/');
    if (dot && (!slash || dot > slash)) n = (size_t)(dot - onnx_path);
    if (n + 6 > sizeof path) {
        snprintf(err, errlen, "%s: path too long", onnx_path);
        return DOCRT_ERR_ARG;
    }
    memcpy(path, onnx_path, n);
    memcpy(path + n, ".json", 6);

    memset(d, 0, sizeof *d);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen,
                 "model description %s: %s (line %d) - weights/fetch.sh "
                 "writes it beside the ONNX file",
                 path, je.text, je.line);
        return DOCRT_ERR_MODEL;
    }
    docrt_status st = DOCRT_ERR_MODEL;
    const char *bad = NULL;
    json_t *t = json_object_get(root, "task");
    if (!json_is_string(t) || strcmp(json_string_value(t), task_name(task))) {
        snprintf(err, errlen, "%s: \"task\" must be \"%s\"", path,
                 task_name(task));
        goto out;
    }
    d->task = task;
    json_t *in = json_object_get(root, "input");
    if (!json_is_object(in)) { bad = "input"; goto bad; }
    json_t *nm = json_object_get(in, "name");
    if (json_is_string(nm))
        snprintf(d->input_name, sizeof d->input_name, "%s",
                 json_string_value(nm));
    json_t *co = json_object_get(in, "channel_order");
    d->bgr = json_is_string(co) && !strcmp(json_string_value(co), "BGR");
    double v;
    if (!get_num(in, "scale", &v)) { bad = "input.scale"; goto bad; }
    d->scale = (float)v;
    if (!get_vec3(in, "mean", d->mean)) { bad = "input.mean"; goto bad; }
    if (!get_vec3(in, "std", d->std)) { bad = "input.std"; goto bad; }
    for (int i = 0; i < 3; i++)
        if (!(d->std[i] > 0)) { bad = "input.std"; goto bad; }
    d->pad_value = get_num(in, "pad_value", &v) ? (float)v : NAN;
    d->pad_pixel = get_num(in, "pad_pixel", &v) ? (float)v : NAN;
    json_t *pd = json_object_get(in, "pad");
    if (pd && (!json_is_string(pd) || (strcmp(json_string_value(pd), "symmetric") &&
                                       strcmp(json_string_value(pd), "end")))) {
        bad = "input.pad (\"symmetric\" or \"end\")"; goto bad;
    }
    d->pad_symmetric = pd && !strcmp(json_string_value(pd), "symmetric");
    json_t *ou = json_object_get(root, "output");
    if (ou && (!json_is_string(ou) || (strcmp(json_string_value(ou), "logits") &&
                                       strcmp(json_string_value(ou), "probabilities")))) {
        bad = "output (\"logits\" or \"probabilities\")"; goto bad;
    }
    d->logits = ou && !strcmp(json_string_value(ou), "logits");
    json_t *fam = json_object_get(root, "family");
    d->family_doctr = json_is_string(fam) && !strcmp(json_string_value(fam), "doctr");
    json_t *ap = json_object_get(root, "auto_precision");
    if (ap && (!json_is_string(ap) || (strcmp(json_string_value(ap), "f32") &&
                                       strcmp(json_string_value(ap), "bf16")))) {
        bad = "auto_precision (\"f32\" or \"bf16\")"; goto bad;
    }
    d->auto_f32 = ap && !strcmp(json_string_value(ap), "f32");
    json_t *q8 = json_object_get(root, "int8");
    d->int8_convs = 0;
    d->int8_min_sqnr = 0;
    if (q8) {
        json_t *cv = json_object_get(q8, "convs"), *sq = json_object_get(q8, "min_sqnr_db");
        if (!json_is_object(q8) || (cv && !json_is_array(cv)) ||
            (sq && (!json_is_number(sq) || json_number_value(sq) <= 0 ||
                    json_number_value(sq) >= 100))) {
            bad = "int8 ({\"convs\": [...], \"min_sqnr_db\": 0..100})"; goto bad;
        }
        size_t k;
        json_t *e;
        json_array_foreach(cv, k, e) {
            const char *c = json_string_value(e);
            int bit = c ? int8_conv_class(c, strlen(c)) : 0;
            if (!bit) { bad = "int8.convs (pointwise, dense, grouped)"; goto bad; }
            d->int8_convs |= bit;
        }
        if (cv && !d->int8_convs) { bad = "int8.convs (empty)"; goto bad; }
        if (sq) d->int8_min_sqnr = (float)json_number_value(sq);
    }

    if (task == MD_DETECTION) {
        json_t *b = json_object_get(root, "buckets");
        if (!json_is_array(b) || json_array_size(b) == 0 ||
            json_array_size(b) > 8) { bad = "buckets"; goto bad; }
        d->n_buckets = (int)json_array_size(b);
        for (int i = 0; i < d->n_buckets; i++) {
            json_t *hw = json_array_get(b, i);
            if (!json_is_array(hw) || json_array_size(hw) != 2) {
                bad = "buckets"; goto bad;
            }
            for (int k = 0; k < 2; k++) {
                json_t *x = json_array_get(hw, k);
                if (!json_is_integer(x) || json_integer_value(x) < 32 ||
                    json_integer_value(x) % 32 || json_integer_value(x) > 8192) {
                    bad = "buckets (H, W: multiples of 32)"; goto bad;
                }
                d->buckets[i][k] = (int)json_integer_value(x);
            }
        }
        d->max_side = get_num(root, "max_side", &v) ? (int)v : 0;
        d->text_height = get_num(root, "text_height", &v) ? (float)v : 0.f;
        d->max_side_small_text =
            get_num(root, "max_side_small_text", &v) ? (int)v : 0;
        json_t *pp = json_object_get(root, "postprocess");
        if (!json_is_object(pp)) { bad = "postprocess"; goto bad; }
        if (!get_num(pp, "thresh", &v)) { bad = "postprocess.thresh"; goto bad; }
        d->thresh = (float)v;
        if (!get_num(pp, "box_thresh", &v)) { bad = "postprocess.box_thresh"; goto bad; }
        d->box_thresh = (float)v;
        if (!get_num(pp, "unclip_ratio", &v)) { bad = "postprocess.unclip_ratio"; goto bad; }
        d->unclip_ratio = (float)v;
        d->min_size = get_num(pp, "min_size", &v) ? (float)v : 3.0f;
        d->max_candidates = get_num(pp, "max_candidates", &v) ? (int)v : 1000;
        json_t *sty = json_object_get(pp, "style");
        if (sty && (!json_is_string(sty) || (strcmp(json_string_value(sty), "doctr") &&
                                             strcmp(json_string_value(sty), "ppocr")))) {
            bad = "postprocess.style (\"ppocr\" or \"doctr\")"; goto bad;
        }
        d->pp_doctr = sty && !strcmp(json_string_value(sty), "doctr");
    } else {
        if (!get_num(in, "height", &v) || v < 8 || v > 256) {
            bad = "input.height"; goto bad;
        }
        d->height = (int)v;
    }
    if (task == MD_RECOGNITION) {
        json_t *w = json_object_get(root, "widths");
        if (!json_is_array(w) || json_array_size(w) == 0 ||
            json_array_size(w) > 8) { bad = "widths"; goto bad; }
        d->n_widths = (int)json_array_size(w);
        for (int i = 0; i < d->n_widths; i++) {
            json_t *x = json_array_get(w, i);
            if (!json_is_integer(x) || json_integer_value(x) < 8 ||
                json_integer_value(x) > 8192) { bad = "widths"; goto bad; }
            d->widths[i] = (int)json_integer_value(x);
            if (i && d->widths[i] <= d->widths[i - 1]) {
                bad = "widths (ascending)"; goto bad;
            }
        }
        d->batch = get_num(root, "batch", &v) ? (int)v : 1;
        if (d->batch < 1 || d->batch > 64) { bad = "batch"; goto bad; }
        json_t *rz = json_object_get(in, "resize");
        if (rz && (!json_is_string(rz) || (strcmp(json_string_value(rz), "fit") &&
                                           strcmp(json_string_value(rz), "height")))) {
            bad = "input.resize (\"fit\" or \"height\")"; goto bad;
        }
        d->resize_fit = rz && !strcmp(json_string_value(rz), "fit");
        if (d->resize_fit && d->n_widths != 1) { bad = "widths (one width with \"resize\": \"fit\")"; goto bad; }
        json_t *sp = json_object_get(root, "split");
        d->split_max_ratio = sp && get_num(sp, "max_ratio", &v) ? (float)v : 0.f;
        d->split_target_ratio = sp && get_num(sp, "target_ratio", &v) ? (float)v : 0.f;
        d->split_dilation = sp && get_num(sp, "dilation", &v) ? (float)v : 1.f;
        if (sp && !(d->split_max_ratio >= 1 && d->split_target_ratio >= 1 &&
                    d->split_target_ratio <= d->split_max_ratio && d->split_dilation >= 1)) {
            bad = "split (max_ratio >= target_ratio >= 1, dilation >= 1)"; goto bad;
        }
        json_t *voc = json_object_get(root, "vocab");
        json_t *f = voc ? json_object_get(voc, "file") : NULL;
        if (!json_is_string(f)) { bad = "vocab.file"; goto bad; }
        const char *fn = json_string_value(f);
        if (fn[0] == '/' || !slash)
            snprintf(d->vocab_file, sizeof d->vocab_file, "%s", fn);
        else
            snprintf(d->vocab_file, sizeof d->vocab_file, "%.*s/%s",
                     (int)(slash - onnx_path), onnx_path, fn);
        json_t *bl = json_object_get(voc, "blank");
        d->blank_first = !json_is_string(bl) ||
                         strcmp(json_string_value(bl), "last") != 0;
        d->add_space = json_is_true(json_object_get(voc, "space"));
        d->drop_score = get_num(root, "drop_score", &v) ? (float)v : 0.f;
    }
    if (task == MD_ANGLE) {
        if (!get_num(in, "width", &v) || v < 8 || v > 4096) {
            bad = "input.width"; goto bad;
        }
        d->width = (int)v;
        d->angle_thresh = get_num(root, "thresh", &v) ? (float)v : 0.9f;
    }
    st = DOCRT_OK;
    goto out;
bad:
    snprintf(err, errlen, "%s: missing or invalid \"%s\"", path, bad);
out:
    json_decref(root);
    return st;
}
