/* cli_model_opts.c - see cli_model_opts.h. */
#include "cli_model_opts.h"

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char cli_model_opts_help[] =
"  -m, --model-dir DIR     model files and descriptions (default: $DOCRT_MODEL_DIR,\n"
"                          else ./weights, else the weights/ of the source tree)\n"
"      --det-model PATH    detector ONNX (default: the model dir's PP-OCRv4\n"
"                          detector); its description PATH.json says which\n"
"                          conventions it follows (PP-OCR or docTR)\n"
"      --rec-model PATH    recognizer ONNX, likewise (e.g. a docTR CRNN\n"
"                          exported by tools/doctr/export.py)\n"
"      --cls-model PATH    line orientation classifier ONNX (--angle-cls)\n"
"  -t, --threads N         oneDNN threads per stream (default 1)\n"
"      --angle-cls         run the 180-degree text line classifier\n"
"      --no-rotate         do not look for pages turned by 90/180/270 degrees\n"
"      --det-buckets LIST  detector input shapes, HxW[,HxW...] (multiples of 32)\n"
"      --det-max-side N    longest page side in the detector input\n"
"      --rec-widths LIST   recognizer width buckets, ascending (e.g. 160,320,640)\n"
"      --rec-batch N       recognizer batch per bucket\n"
"      --det-thresh X      probability map threshold (model description: 0.3)\n"
"      --box-thresh X      minimum box score (0.6)\n"
"      --unclip-ratio X    box expansion (1.5)\n"
"      --max-pixels N      refuse pages over N pixels (default A3 at 600 dpi)\n"
"      --max-pages N       refuse files with more pages (default 10000)\n"
"      --max-decode-ms N   fail a page whose decoding takes longer (20000)\n"
"      --cache-capacity N  oneDNN primitive cache capacity\n"
"      --precision P       auto (default: bf16 where the CPU has AVX512_BF16\n"
"                          or AMX, else f32, for each model whose description\n"
"                          does not keep it f32), f32, bf16, or int8\n"
"                          (the detector's and recognizer's calibrated\n"
"                          convolutions in int8, the rest as auto; needs\n"
"                          <model>.int8.json from docrt calibrate)\n"
"      --det-int8 FILE     detector int8 calibration (default: beside it)\n"
"      --rec-int8 FILE     recognizer int8 calibration (default: beside it)\n"
"      --lexicon FILE      word list for correcting look-alike misreadings\n"
"                          (li for h, c for e, rn for m, ...); default\n"
"                          /usr/share/dict/words when present\n"
"      --no-lexicon        no word list: the recognizer's words as read\n";

/* With no --model-dir and no $DOCRT_MODEL_DIR, ./weights is used when it
 * holds the detector; otherwise the weights/ folder of the source tree the
 * executable was built in (build/docrt -> weights/), so docrt runs from any
 * working directory. Returns dir, filled, or NULL. */
static const char *exe_weights(char *dir, size_t n)
{
    if (access("weights/ch_PP-OCRv4_det_infer.onnx", R_OK) == 0) return NULL;
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return NULL;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = 0;
    int k = snprintf(dir, n, "%s/../weights", exe);
    if (k < 0 || (size_t)k >= n) return NULL;
    char probe[4200];
    k = snprintf(probe, sizeof probe, "%s/ch_PP-OCRv4_det_infer.onnx", dir);
    if (k < 0 || (size_t)k >= sizeof probe || access(probe, R_OK) != 0)
        return NULL;
    return dir;
}

void cli_model_opts_init(cli_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mp = docrt_model_default_params();
    o->op = docrt_ocr_default_params();
    o->op.angle_cls = 0;
    o->lim = docrt_image_default_limits();
    const char *env_dir = getenv("DOCRT_MODEL_DIR");
    if (env_dir && *env_dir) o->mp.model_dir = env_dir;
    else if (exe_weights(o->exe_dir, sizeof o->exe_dir)) o->mp.model_dir = o->exe_dir;
}

static int parse_buckets(const char *s, docrt_model_params *mp)
{
    int n = 0;
    while (*s) {
        char *end;
        long h = strtol(s, &end, 10);
        if (end == s || (*end != 'x' && *end != 'X')) return 0;
        s = end + 1;
        long w = strtol(s, &end, 10);
        if (end == s || n >= 8) return 0;
        mp->det_buckets[n][0] = (int)h;
        mp->det_buckets[n][1] = (int)w;
        n++;
        s = end;
        if (*s == ',') s++;
        else if (*s) return 0;
    }
    mp->n_det_buckets = n;
    return n > 0;
}

static int parse_widths(const char *s, docrt_model_params *mp)
{
    int n = 0;
    while (*s) {
        char *end;
        long w = strtol(s, &end, 10);
        if (end == s || n >= 8 || w < 16 || w > 8192) return 0;
        mp->rec_widths[n++] = (int)w;
        s = end;
        if (*s == ',') s++;
        else if (*s) return 0;
    }
    mp->n_rec_widths = n;
    return n > 0;
}

static int bad(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "docrt %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see docrt %s --help)\n", cmd);
    return -1;
}

enum {
    OPT_MODEL_DIR, OPT_THREADS, OPT_DET_BUCKETS, OPT_DET_MAX_SIDE,
    OPT_REC_WIDTHS, OPT_REC_BATCH, OPT_DET_THRESH, OPT_BOX_THRESH,
    OPT_UNCLIP, OPT_MAX_PIXELS, OPT_PRECISION, OPT_CACHE, OPT_DET_MODEL,
    OPT_REC_MODEL, OPT_CLS_MODEL, OPT_MAX_PAGES, OPT_MAX_DECODE_MS,
    OPT_DET_INT8, OPT_REC_INT8, OPT_LEXICON, N_OPTS
};

static const struct {
    const char *lng, *shrt;
} valued[N_OPTS] = {
    [OPT_MODEL_DIR] = {"--model-dir", "-m"},
    [OPT_THREADS] = {"--threads", "-t"},
    [OPT_DET_BUCKETS] = {"--det-buckets", NULL},
    [OPT_DET_MAX_SIDE] = {"--det-max-side", NULL},
    [OPT_REC_WIDTHS] = {"--rec-widths", NULL},
    [OPT_REC_BATCH] = {"--rec-batch", NULL},
    [OPT_DET_THRESH] = {"--det-thresh", NULL},
    [OPT_BOX_THRESH] = {"--box-thresh", NULL},
    [OPT_UNCLIP] = {"--unclip-ratio", NULL},
    [OPT_MAX_PIXELS] = {"--max-pixels", NULL},
    [OPT_PRECISION] = {"--precision", NULL},
    [OPT_CACHE] = {"--cache-capacity", NULL},
    [OPT_DET_MODEL] = {"--det-model", NULL},
    [OPT_REC_MODEL] = {"--rec-model", NULL},
    [OPT_CLS_MODEL] = {"--cls-model", NULL},
    [OPT_MAX_PAGES] = {"--max-pages", NULL},
    [OPT_MAX_DECODE_MS] = {"--max-decode-ms", NULL},
    [OPT_DET_INT8] = {"--det-int8", NULL},
    [OPT_REC_INT8] = {"--rec-int8", NULL},
    [OPT_LEXICON] = {"--lexicon", NULL},
};

int cli_model_opts_take(cli_model_opts *o, int argc, char **argv, int *i,
                        const char *cmd)
{
    const char *a = argv[*i], *val = NULL;
    docrt_model_params *mp = &o->mp;
    long lv;
    if (strcmp(a, "--angle-cls") == 0) {
        mp->angle_cls = 1;
        o->op.angle_cls = 1;
        return 1;
    }
    if (strcmp(a, "--no-rotate") == 0) {
        o->op.detect_rotation = 0;
        return 1;
    }
    if (strcmp(a, "--no-lexicon") == 0) {
        mp->lexicon = "";
        return 1;
    }
    int id = 0, r = 0;
    for (; id < N_OPTS; id++)
        if ((r = cli_take_value(argc, argv, i, valued[id].lng, valued[id].shrt,
                                &val)) != 0)
            break;
    if (id == N_OPTS)
        return 0;
    if (r < 0)
        return bad(cmd, "option '%s' needs a value", a);
    switch (id) {
    case OPT_MODEL_DIR:
        mp->model_dir = val;
        break;
    case OPT_DET_MODEL:
        mp->det_model = val;
        break;
    case OPT_REC_MODEL:
        mp->rec_model = val;
        break;
    case OPT_CLS_MODEL:
        mp->cls_model = val;
        break;
    case OPT_DET_INT8:
        mp->det_int8 = val;
        break;
    case OPT_REC_INT8:
        mp->rec_int8 = val;
        break;
    case OPT_LEXICON:
        if (!*val) return bad(cmd, "--lexicon wants a file, got '%s' (--no-lexicon: none)", val);
        mp->lexicon = val;
        break;
    case OPT_THREADS:
        if (!cli_parse_int(val, 1, 1024, &lv)) return bad(cmd, "bad thread count '%s'", val);
        mp->n_threads = (int)lv;
        o->threads_set = 1;
        break;
    case OPT_DET_BUCKETS:
        if (!parse_buckets(val, mp)) return bad(cmd, "bad bucket list '%s' (HxW,HxW)", val);
        break;
    case OPT_DET_MAX_SIDE:
        if (!cli_parse_int(val, 32, 8192, &lv)) return bad(cmd, "bad side '%s'", val);
        mp->det_max_side = (int)lv;
        break;
    case OPT_REC_WIDTHS:
        if (!parse_widths(val, mp)) return bad(cmd, "bad width list '%s'", val);
        break;
    case OPT_REC_BATCH:
        if (!cli_parse_int(val, 1, 64, &lv)) return bad(cmd, "bad batch '%s' (1..64)", val);
        mp->rec_batch = (int)lv;
        break;
    case OPT_DET_THRESH:
        if (!cli_parse_float(val, 0, 1, &o->op.det_thresh)) return bad(cmd, "bad threshold '%s'", val);
        break;
    case OPT_BOX_THRESH:
        if (!cli_parse_float(val, 0, 1, &o->op.box_thresh)) return bad(cmd, "bad threshold '%s'", val);
        break;
    case OPT_UNCLIP:
        if (!cli_parse_float(val, 0, 10, &o->op.unclip_ratio)) return bad(cmd, "bad ratio '%s'", val);
        break;
    case OPT_MAX_PIXELS:
        if (!cli_parse_int(val, 1, 4000000000L, &lv)) return bad(cmd, "bad pixel count '%s'", val);
        o->lim.max_pixels = (uint64_t)lv;
        break;
    case OPT_MAX_PAGES:
        if (!cli_parse_int(val, 1, DOCRT_MAX_PAGES_CAP, &lv)) return bad(cmd, "bad page count '%s' (1..65536)", val);
        o->lim.max_pages = (int)lv;
        break;
    case OPT_MAX_DECODE_MS:
        if (!cli_parse_int(val, 1, 3600000, &lv)) return bad(cmd, "bad time '%s' (1..3600000 ms)", val);
        o->lim.max_decode_ms = (unsigned)lv;
        break;
    case OPT_PRECISION:
        if (!strcmp(val, "auto")) mp->precision = DOCRT_PRECISION_AUTO;
        else if (!strcmp(val, "f32")) mp->precision = DOCRT_PRECISION_F32;
        else if (!strcmp(val, "bf16")) mp->precision = DOCRT_PRECISION_BF16;
        else if (!strcmp(val, "int8")) mp->precision = DOCRT_PRECISION_INT8;
        else return bad(cmd, "--precision wants auto, f32, bf16 or int8, got '%s'", val);
        break;
    default: /* OPT_CACHE */
        if (!cli_parse_int(val, 0, 1000000, &lv)) return bad(cmd, "bad capacity '%s'", val);
        mp->cache_capacity = (int)lv;
        break;
    }
    return 1;
}
