/* errmsg.c - see errmsg.h. */
#include "errmsg.h"

#include <stdio.h>

void errmsg_vset(char *err, size_t errlen, const char *path, const char *fmt,
                 va_list ap)
{
    if (!err || !errlen) return;
    int n = snprintf(err, errlen, "%s: ", path ? path : "(null)");
    if (n < 0) n = 0;
    if ((size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}
