/* test_tmpdir.h - a scratch folder per test case for the Check suites
 * (setup makes it under $TMPDIR or /tmp, teardown removes it) and paths in
 * it. Header-only: each suite is its own executable. */
#ifndef DOCRT_TEST_TMPDIR_H
#define DOCRT_TEST_TMPDIR_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* dir gets "$TMPDIR/docrt_<tag>_XXXXXX", created. */
static inline void test_tmpdir_make(char *dir, size_t n, const char *tag)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, n, "%s/docrt_%s_XXXXXX", t && *t ? t : "/tmp", tag);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void test_tmpdir_remove(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* "<dir>/<name>"; the last 4 results stay valid. */
static inline const char *test_tmpdir_path(const char *dir, const char *name)
{
    static char buf[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

#endif
