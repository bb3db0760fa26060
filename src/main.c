/* main.c - the docrt command: dispatches to a subcommand (cli_*.c). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"ocr", cli_ocr,
     "OCR of image files (TIFF, PNG, JPEG) into txt, JSON, hOCR, ALTO"},
    {"serve", cli_serve,
     "HTTP OCR service: POST an image, get JSON/txt/hOCR/ALTO back"},
    {"calibrate", cli_calibrate,
     "record activation ranges on sample pages for --precision int8"},
    {"run-model", cli_run_model,
     "run one ONNX model on .npy inputs, write .npy outputs"},
};

static void usage(FILE *f)
{
    fputs("usage: docrt COMMAND [ARGS...]\n"
          "       docrt --help | --version\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'docrt COMMAND --help' describes a command.\n", f);
}

/* Page rasters and request bodies (megabytes each) are allocated and freed
 * per page. glibc raises its mmap threshold to the size of each freed
 * mmap'd block, so after the first large page they come from the heap, and
 * the heap keeps its high-water mark: the server's RSS climbed 2.4 % over
 * 4,000 mixed requests before it settled (perf/results/soak). A fixed
 * threshold keeps them mmap'd and handed back on free. MALLOC_MMAP_THRESHOLD_
 * in the environment still wins. */
static void malloc_policy(void)
{
    if (!getenv("MALLOC_MMAP_THRESHOLD_"))
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

int main(int argc, char **argv)
{
    malloc_policy();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("docrt %s\n", DOCRT_VERSION);
        return CLI_OK;
    }
    /* libxml2 2.9 initialises itself without a lock: do it once, before
     * any worker thread writes hOCR or ALTO. */
    xmlInitParser();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "docrt: unknown command '%s'\n", cmd);
    usage(stderr);
    return CLI_USAGE;
}
