/* cli_run_model.c - `docrt run-model`: run one ONNX model on .npy inputs.
 *
 * A thin harness over graph/: it compiles exactly one bucket, the shapes of
 * the given inputs, so it is how we compare docrt against onnxruntime or
 * PyTorch tensor by tensor, and time a model in isolation (--repeat). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "graph.h"
#include "int8_ranges.h"
#include "npy.h"

#define ERRLEN 1024

void cli_run_model_usage(FILE *f)
{
    fputs("usage: docrt run-model MODEL.onnx --input NAME=FILE.npy ... -o DIR\n"
          "                       [--threads N] [--repeat N] "
          "[--cache-capacity N]\n"
          "                       [--precision auto|f32|bf16|int8] "
          "[--ranges FILE]\n"
          "                       [--int8-convs LIST] [--calibrate FILE] "
          "[--timing-loop] [-v]\n"
          "\n"
          "Runs an ONNX model once on the given inputs and writes every output\n"
          "to DIR/<output name>.npy ('/' and other unsafe characters in names\n"
          "become '_'). One bucket is compiled from the input shapes.\n"
          "\n"
          "  -i, --input NAME=FILE   .npy file for model input NAME (every input\n"
          "                          is required; float32 '<f4' or int64 '<i8')\n"
          "  -o, --output DIR        output folder, created if missing\n"
          "  -t, --threads N         threads per stream (default 1)\n"
          "  -r, --repeat N          then run N more times and print\n"
          "                          median_ms=... min_ms=... runs=N threads=T\n"
          "      --timing-loop       after the first run, read counts from\n"
          "                          stdin, one per line; for each, run that\n"
          "                          many times and print the run times in ms\n"
          "                          on one line (the harness protocol of\n"
          "                          perf/bench_models.py); EOF ends\n"
          "      --cache-capacity N  oneDNN primitive cache capacity\n"
          "                          (default: graph's default)\n"
          "      --precision P       f32, bf16 (convs and matmuls in bf16,\n"
          "                          AMX where present) or auto (bf16 where\n"
          "                          the CPU has AVX512_BF16/AMX; default f32)\n"
          "                          or int8 (calibrated convolutions in int8,\n"
          "                          the rest as auto)\n"
          "      --ranges FILE       int8 calibration (default: MODEL's\n"
          "                          <name>.int8.json)\n"
          "      --int8-convs LIST   which convolutions int8 quantizes: comma\n"
          "                          list of pointwise, dense, grouped\n"
          "                          (default pointwise,dense)\n"
          "      --int8-min-sqnr DB  keep a convolution float when its\n"
          "                          quantized input's signal-to-noise ratio\n"
          "                          would be under DB (default 30)\n"
          "      --calibrate FILE    record the range of every convolution's\n"
          "                          input over the runs and write FILE, an\n"
          "                          int8 calibration\n"
          "  -v, --verbose           timings and primitive counts on stderr\n"
          "  -h, --help              this help\n"
          "\n"
          "Exit status: 0 ok, 1 model/input/runtime error, 2 usage error.\n",
          f);
}

char *cli_sanitize_name(const char *name, char *dst, size_t n)
{
    if (!n)
        return dst;
    size_t j = 0;
    for (const char *p = name ? name : ""; *p && j + 1 < n; p++) {
        unsigned char c = (unsigned char)*p;
        int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (j == 0 && c == '.')
            safe = 0;
        dst[j++] = safe ? (char)c : '_';
    }
    if (j == 0 && n > 1)
        dst[j++] = '_';
    dst[j] = '\0';
    return dst;
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("docrt run-model: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see docrt run-model --help)\n", stderr);
    return CLI_USAGE;
}





static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}


static const char *in_name(const graph_model *m, int i)
{
    const char *s = graph_model_input_name(m, i);
    return s ? s : "";
}

static const char *dt_name(int dt)
{
    const char *s = graph_dtype_name(dt);
    return s ? s : "unknown";
}

typedef struct {
    const char *name; /* points into argv */
    const char *file;
    int model_index;
    graph_host_tensor t;
} given_input;

/* One timed run of the compiled bucket; reports a failure (run k, 0 for
 * an unnumbered one) and returns -1. */
static int timed_run(graph_stream *stream, const void **in,
                     const void **out, const char *model_path, long k,
                     double *ms)
{
    double t0 = cli_now_ms();
    graph_status st = graph_stream_run(stream, 0, in, out);
    *ms = cli_now_ms() - t0;
    if (st == GRAPH_OK)
        return 0;
    const char *why = graph_stream_last_error(stream);
    if (k > 0)
        fprintf(stderr, "docrt: %s: run %ld failed: %s\n", model_path, k,
                why && *why ? why : graph_status_str(st));
    else
        fprintf(stderr, "docrt: %s: run failed: %s\n", model_path,
                why && *why ? why : graph_status_str(st));
    return -1;
}

int cli_run_model(int argc, char **argv)
{
    const char *model_path = NULL, *outdir = NULL;
    long threads = 1, repeat = 0, cache_capacity = -1;
    int timing_loop = 0;
    int precision = GRAPH_PREC_F32;
    const char *ranges_path = NULL, *calib_path = NULL;
    int int8_convs = 0;
    float int8_min_sqnr = 0;
    graph_ranges ranges = { 0 }, observed = { 0 };
    int verbose = 0;
    int rc = CLI_ERR;

    given_input *gin = calloc((size_t)(argc > 0 ? argc : 1), sizeof *gin);
    if (!gin) {
        fprintf(stderr, "docrt: out of memory\n");
        return CLI_ERR;
    }
    int n_given = 0;

    graph_model *model = NULL;
    graph_compiled *comp = NULL;
    graph_stream *stream = NULL;
    graph_shape *bucket = NULL;
    const void **in_ptrs = NULL, **out_ptrs = NULL;
    double *times = NULL;
    char *path = NULL;
    char **out_names = NULL;
    int n_out = 0;
    char err[ERRLEN] = "";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int r;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_run_model_usage(stdout);
            rc = CLI_OK;
            goto out;
        } else if (strcmp(a, "--timing-loop") == 0) {
            timing_loop = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else if ((r = cli_take_value(argc, argv, &i, "--input", "-i", &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            const char *eq = strchr(val, '=');
            if (!eq || eq == val || !eq[1]) {
                rc = usage_error("--input wants NAME=FILE.npy, got '%s'", val);
                goto out;
            }
            /* The name is the text before the first '='; split in a copy of
             * argv's string so argv stays untouched. */
            char *name = strdup(val);
            if (!name) {
                fprintf(stderr, "docrt: out of memory\n");
                goto out;
            }
            name[eq - val] = '\0';
            for (int k = 0; k < n_given; k++)
                if (strcmp(gin[k].name, name) == 0) {
                    rc = usage_error("input '%s' given twice", name);
                    free(name);
                    goto out;
                }
            gin[n_given].name = name;
            gin[n_given].file = eq + 1;
            gin[n_given].model_index = -1;
            n_given++;
        } else if ((r = cli_take_value(argc, argv, &i, "--output", "-o", &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            outdir = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--threads", "-t", &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            if (!cli_parse_int(val, 1, 4096, &threads)) {
                rc = usage_error("--threads wants an integer >= 1, got '%s'",
                                 val);
                goto out;
            }
        } else if ((r = cli_take_value(argc, argv, &i, "--repeat", "-r", &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            if (!cli_parse_int(val, 0, 100000000, &repeat)) {
                rc = usage_error("--repeat wants an integer >= 0, got '%s'",
                                 val);
                goto out;
            }
        } else if ((r = cli_take_value(argc, argv, &i, "--cache-capacity", NULL, &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            if (!cli_parse_int(val, 0, INT_MAX, &cache_capacity)) {
                rc = usage_error(
                    "--cache-capacity wants an integer >= 0, got '%s'", val);
                goto out;
            }
        } else if ((r = cli_take_value(argc, argv, &i, "--precision", NULL, &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            if (!strcmp(val, "f32")) precision = GRAPH_PREC_F32;
            else if (!strcmp(val, "bf16")) precision = GRAPH_PREC_BF16;
            else if (!strcmp(val, "auto")) precision = GRAPH_PREC_AUTO;
            else if (!strcmp(val, "int8")) precision = GRAPH_PREC_INT8;
            else {
                rc = usage_error("--precision wants auto, f32, bf16 or int8, got '%s'", val);
                goto out;
            }
        } else if ((r = cli_take_value(argc, argv, &i, "--ranges", NULL, &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            ranges_path = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--int8-min-sqnr", NULL, &val)) != 0) {
            if (r < 0 || !cli_parse_float(val, 0, 100, &int8_min_sqnr) ||
                int8_min_sqnr <= 0 || int8_min_sqnr >= 100) {
                rc = usage_error("--int8-min-sqnr wants dB in (0, 100), got '%s'", val ? val : "");
                goto out;
            }
        } else if ((r = cli_take_value(argc, argv, &i, "--calibrate", NULL, &val)) != 0) {
            if (r < 0) {
                rc = usage_error("%s needs a value", a);
                goto out;
            }
            calib_path = val;
        } else if ((r = cli_take_value(argc, argv, &i, "--int8-convs", NULL, &val)) != 0) {
            if (r < 0 || (int8_convs = cli_parse_int8_convs(val)) <= 0) {
                rc = usage_error("--int8-convs wants a comma list of pointwise, "
                                 "dense, grouped, got '%s'", val ? val : "");
                goto out;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            rc = usage_error("unknown option '%s'", a);
            goto out;
        } else if (!model_path) {
            model_path = a;
        } else {
            rc = usage_error("unexpected argument '%s' (one model only)", a);
            goto out;
        }
    }
    if (!model_path) {
        rc = usage_error("%s", "no MODEL.onnx given");
        goto out;
    }
    if (n_given == 0) {
        rc = usage_error("%s", "no --input NAME=FILE.npy given");
        goto out;
    }
    if (!outdir) {
        rc = usage_error("%s", "no output folder given (-o DIR)");
        goto out;
    }

    double t0 = cli_now_ms();
    graph_status st = graph_model_load_file(model_path, &model, err, sizeof err);
    if (st != GRAPH_OK) {
        cli_report(model_path, err[0] ? err : graph_status_str(st));
        goto out;
    }
    double t_load = cli_now_ms() - t0;

    int n_in = graph_model_n_inputs(model);
    n_out = graph_model_n_outputs(model);

    /* Match names first, so a typo is reported before any file is read. */
    for (int k = 0; k < n_given; k++) {
        for (int j = 0; j < n_in; j++)
            if (strcmp(in_name(model, j), gin[k].name) == 0)
                gin[k].model_index = j;
        if (gin[k].model_index < 0) {
            char list[512] = "";
            size_t off = 0;
            for (int j = 0; j < n_in && off < sizeof list; j++) {
                int w = snprintf(list + off, sizeof list - off, "%s%s",
                                 j ? ", " : "", in_name(model, j));
                if (w < 0)
                    break;
                off += (size_t)w;
            }
            fprintf(stderr, "docrt: %s: model has no input '%s' (inputs: %s)\n",
                    model_path, gin[k].name, list);
            goto out;
        }
    }
    given_input **by_model = NULL;
    bucket = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *bucket);
    in_ptrs = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *in_ptrs);
    out_ptrs = calloc((size_t)(n_out > 0 ? n_out : 1), sizeof *out_ptrs);
    out_names = calloc((size_t)(n_out > 0 ? n_out : 1), sizeof *out_names);
    by_model = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *by_model);
    if (!bucket || !in_ptrs || !out_ptrs || !out_names || !by_model) {
        free(by_model);
        fprintf(stderr, "docrt: out of memory\n");
        goto out;
    }
    for (int k = 0; k < n_given; k++)
        by_model[gin[k].model_index] = &gin[k];
    for (int j = 0; j < n_in; j++)
        if (!by_model[j]) {
            const char *nm = in_name(model, j);
            fprintf(stderr,
                    "docrt: %s: input '%s' not given (--input %s=FILE.npy)\n",
                    model_path, nm, nm);
            free(by_model);
            goto out;
        }
    free(by_model);

    for (int k = 0; k < n_given; k++) {
        given_input *g = &gin[k];
        int j = g->model_index;
        st = npy_read(g->file, &g->t, err, sizeof err);
        if (st != GRAPH_OK) {
            cli_report(g->file, err[0] ? err : graph_status_str(st));
            goto out;
        }
        int want = graph_model_input_dtype(model, j);
        if (g->t.dtype != want) {
            fprintf(stderr,
                    "docrt: %s: input '%s' expects %s, got %s\n", g->file,
                    g->name, dt_name(want), dt_name(g->t.dtype));
            goto out;
        }
        graph_shape ms = graph_model_input_shape(model, j);
        char sm[256], sg[256];
        npy_shape_str(&ms, sm, sizeof sm);
        npy_shape_str(&g->t.shape, sg, sizeof sg);
        int bad = ms.rank > 0 && ms.rank != g->t.shape.rank;
        for (int d = 0; !bad && ms.rank > 0 && d < ms.rank; d++)
            bad = ms.dims[d] >= 0 && ms.dims[d] != g->t.shape.dims[d];
        if (bad) {
            fprintf(stderr,
                    "docrt: %s: input '%s' has shape %s, the model wants %s "
                    "(-1: any)\n",
                    g->file, g->name, sg, sm);
            goto out;
        }
        bucket[j] = g->t.shape;
        in_ptrs[j] = g->t.data;
    }

    graph_compile_params cp = graph_compile_default_params();
    cp.n_threads = (int)threads;
    cp.precision = precision;
    cp.int8_convs = int8_convs;
    cp.int8_min_sqnr = int8_min_sqnr;
    if (precision == GRAPH_PREC_INT8) {
        char rp[4096];
        if (!ranges_path) {
            if (int8_ranges_path(model_path, rp, sizeof rp)) {
                cli_report(model_path, "path too long");
                goto out;
            }
            ranges_path = rp;
        }
        if (int8_ranges_load(ranges_path, &ranges, err, sizeof err) != DOCRT_OK) {
            fprintf(stderr, "docrt: %s\n", err);
            goto out;
        }
        cp.ranges = &ranges;
    }
    if (cache_capacity >= 0)
        cp.cache_capacity = (int)cache_capacity;
    uint64_t prims0 = graph_primitives_created();
    t0 = cli_now_ms();
    st = graph_compile(model, bucket, 1, &cp, &comp, err, sizeof err);
    if (st != GRAPH_OK) {
        cli_report(model_path, err[0] ? err : graph_status_str(st));
        goto out;
    }
    double t_compile = cli_now_ms() - t0;
    uint64_t prims1 = graph_primitives_created();

    st = graph_stream_create(comp, &stream);
    if (st != GRAPH_OK) {
        fprintf(stderr, "docrt: %s: cannot create a stream: %s\n", model_path,
                graph_status_str(st));
        goto out;
    }
    if (calib_path) graph_stream_observe(stream, &observed);
    if (verbose) {
        fprintf(stderr,
                "docrt: load %.1f ms, compile %.1f ms, primitives created %"
                PRIu64 ", steps %d, reorders %d, int8 convs %d (quantizing "
                "reorders %d), cache capacity in force %d, "
                "arena %zu bytes, threads %ld, precision %s\n",
                t_load, t_compile, prims1 - prims0,
                graph_compiled_n_steps(comp, 0),
                graph_compiled_n_reorders(comp, 0),
                graph_compiled_n_int8(comp, 0),
                graph_compiled_n_quantize(comp, 0),
                graph_cache_capacity_in_force(),
                graph_stream_arena_bytes(stream), threads,
                graph_precision_name(graph_precision_resolve(precision)));
    }

    double t_first;
    if (timed_run(stream, in_ptrs, out_ptrs, model_path, 0, &t_first) != 0)
        goto out;
    if (verbose)
        fprintf(stderr, "docrt: first run %.2f ms\n", t_first);

    if (!cli_make_dirs(outdir, err, sizeof err)) {
        cli_report(outdir, err);
        goto out;
    }
    size_t plen = strlen(outdir) + 512;
    path = malloc(plen);
    if (!path) {
        fprintf(stderr, "docrt: out of memory\n");
        goto out;
    }
    for (int o = 0; o < n_out; o++) {
        const char *oname = graph_model_output_name(model, o);
        char base[256];
        cli_sanitize_name(oname, base, 200);
        /* Distinct names can sanitize alike ("a/b", "a_b"): keep both. */
        for (int p = 0; p < o; p++)
            if (strcmp(out_names[p], base) == 0) {
                size_t bl = strlen(base);
                snprintf(base + bl, sizeof base - bl, "_%d", o);
                break;
            }
        out_names[o] = strdup(base);
        if (!out_names[o]) {
            fprintf(stderr, "docrt: out of memory\n");
            goto out;
        }
        snprintf(path, plen, "%s/%s.npy", outdir, base);
        graph_shape os = graph_compiled_output_shape(comp, 0, o);
        int odt = graph_compiled_output_dtype(comp, 0, o);
        st = npy_write_data(path, odt, &os, out_ptrs[o], err, sizeof err);
        if (st != GRAPH_OK) {
            cli_report(path, err);
            goto out;
        }
        if (verbose) {
            char ss[256];
            npy_shape_str(&os, ss, sizeof ss);
            fprintf(stderr, "docrt: wrote %s %s %s\n", path, ss, dt_name(odt));
        }
    }

    if (repeat > 0) {
        times = malloc((size_t)repeat * sizeof *times);
        if (!times) {
            fprintf(stderr, "docrt: out of memory\n");
            goto out;
        }
        uint64_t p0 = graph_primitives_created();
        for (long r = 0; r < repeat; r++) {
            if (timed_run(stream, in_ptrs, out_ptrs, model_path, r + 2,
                          &times[r]) != 0)
                goto out;
        }
        uint64_t p1 = graph_primitives_created();
        qsort(times, (size_t)repeat, sizeof *times, cmp_double);
        double median = repeat % 2
                            ? times[repeat / 2]
                            : (times[repeat / 2 - 1] + times[repeat / 2]) / 2;
        printf("median_ms=%.3f min_ms=%.3f runs=%ld threads=%ld\n", median,
               times[0], repeat, threads);
        fflush(stdout);
        if (verbose)
            fprintf(stderr,
                    "docrt: primitives created during the %ld repeats: %" PRIu64
                    "\n",
                    repeat, p1 - p0);
    }
    if (timing_loop) {
        /* One line per request, so a driver can interleave systems run by
         * run. The times go to stdout, flushed per line. */
        printf("ready\n");
        fflush(stdout);
        char line[64];
        while (fgets(line, sizeof line, stdin)) {
            long n = 0;
            char *tok = strtok(line, " \t\r\n");
            if (!tok)
                continue;
            if (!cli_parse_int(tok, 1, 100000, &n)) {
                fprintf(stderr, "docrt: --timing-loop wants a count per line\n");
                goto out;
            }
            for (long r = 0; r < n; r++) {
                double ms;
                if (timed_run(stream, in_ptrs, out_ptrs, model_path, 0,
                              &ms) != 0)
                    goto out;
                printf(r ? " %.3f" : "%.3f", ms);
            }
            printf("\n");
            fflush(stdout);
        }
    }
    if (calib_path) {
        graph_stream_observe(stream, NULL);
        if (int8_ranges_save(calib_path, &observed, model_path, 1, err,
                             sizeof err) != DOCRT_OK) {
            fprintf(stderr, "docrt: %s\n", err);
            goto out;
        }
        if (verbose)
            fprintf(stderr, "docrt: wrote %s (%d convolution inputs)\n",
                    calib_path, observed.n);
    }
    rc = CLI_OK;

out:
    graph_ranges_free(&ranges);
    graph_ranges_free(&observed);
    if (stream)
        graph_stream_free(stream);
    if (comp)
        graph_compiled_free(comp);
    if (model)
        graph_model_free(model);
    for (int k = 0; k < n_given; k++) {
        graph_host_tensor_free(&gin[k].t);
        free((char *)gin[k].name);
    }
    free(gin);
    if (out_names)
        for (int o = 0; o < n_out; o++)
            free(out_names[o]);
    free(out_names);
    free(bucket);
    free(in_ptrs);
    free(out_ptrs);
    free(times);
    free(path);
    return rc;
}
