/* docrt_status.c - status strings and the library version. */
#include "docrt.h"

const char *docrt_status_str(docrt_status s)
{
    switch (s) {
    case DOCRT_OK: return "ok";
    case DOCRT_ERR_ARG: return "invalid argument";
    case DOCRT_ERR_IO: return "input/output error";
    case DOCRT_ERR_FORMAT: return "unreadable or corrupt image";
    case DOCRT_ERR_UNSUPPORTED: return "unsupported image feature";
    case DOCRT_ERR_LIMIT: return "over a configured limit";
    case DOCRT_ERR_NOMEM: return "out of memory";
    case DOCRT_ERR_MODEL: return "invalid model or model description";
    case DOCRT_ERR_RUNTIME: return "inference failed";
    }
    return "unknown status";
}

const char *docrt_version(void) { return DOCRT_VERSION_STRING; }
