/* errmsg.h - "PATH: reason" messages into a caller's buffer. */
#ifndef DOCRT_ERRMSG_H
#define DOCRT_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

/* Writes "PATH: " and the formatted reason into err (truncated to errlen;
 * nothing when err is NULL or errlen 0). */
void errmsg_vset(char *err, size_t errlen, const char *path, const char *fmt,
                 va_list ap);

#endif
