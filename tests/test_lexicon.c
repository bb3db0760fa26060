/* test_lexicon.c - the word list and look-alike corrections (lexicon.c):
 * what is corrected, what is left alone, and bad word lists. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "lexicon.h"
#include "test_tmpdir.h"

static char tmpdir[256];
static char errbuf[1024];
static lexicon *lx;

static const char *put(const char *name, const char *text)
{
    const char *p = test_tmpdir_path(tmpdir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

static void setup(void)
{
    test_tmpdir_make(tmpdir, sizeof tmpdir, "lexicon");
    const char *p = put("words",
                        "the\nthat\nwhich\nLouis\nevent\ncommerce\nmodern\ntie\n"
                        "Aaron's\nna\xC3\xAFve\neece\necee\nHouse\nhouse\n"
                        "a-b\n\nTHAT\nwho\r\n");
    ck_assert_int_eq(lexicon_load(p, &lx, errbuf, sizeof errbuf), DOCRT_OK);
}

static void teardown(void)
{
    lexicon_free(lx);
    lx = NULL;
    test_tmpdir_remove(tmpdir);
}

/* word -> expected ("" when it must be left alone) */
static void expect(const char *word, const char *want)
{
    char out[64];
    int r = lexicon_correct(lx, word, out, sizeof out);
    if (!*want)
        ck_assert_msg(r == 0, "'%s' was changed to '%s'", word, out);
    else {
        ck_assert_msg(r == 1, "'%s' was not corrected (want '%s')", word, want);
        ck_assert_str_eq(out, want);
    }
}

START_TEST(loading)
{
    /* the, that, which, louis, event, commerce, modern, tie, eece, ecee,
     * house, who: possessives, accents, hyphens and blank lines are
     * skipped, case and CRLF folded */
    ck_assert_uint_eq(lexicon_size(lx), 12);
    ck_assert_int_eq(lexicon_has(lx, "The", 3), 2);
    ck_assert_int_eq(lexicon_has(lx, "louis", 5), 1);  /* only capitalised */
    ck_assert_int_eq(lexicon_has(lx, "house", 5), 2);  /* both: lower wins */
    ck_assert_int_eq(lexicon_has(lx, "who", 3), 2);
    ck_assert_int_eq(lexicon_has(lx, "aaron", 5), 0);
    ck_assert_int_eq(lexicon_has(lx, "th", 2), 0);
}
END_TEST

START_TEST(corrections)
{
    expect("tlie", "the");          /* h read as li: tier 1 wins over
                                     * tier 2's tl -> t (tie) */
    expect("Tlhat,", "That,");      /* case and punctuation kept */
    expect("(whieh", "(which");     /* c read as e */
    expect("eyent.", "event.");     /* v read as y */
    expect("eommerce", "commerce");
    expect("modem", "modern");      /* m -> rn: the word grows */
    expect("Lonis", "Louis");       /* a proper name from a capital */
    expect("wlio", "who");          /* the word shrinks */
}
END_TEST

START_TEST(left_alone)
{
    expect("lonis", "");      /* a proper name, but read in lower case */
    expect("that", "");       /* a word of the list */
    expect("thc", "");        /* 4 letters or more only (c -> e: the) */
    expect("tlie-", "");      /* cut at the line end */
    expect("eommer-", "");
    expect("tLie", "");       /* capitals inside: an acronym or a code */
    expect("TLIE", "");
    expect("t1ie", "");       /* digits */
    expect("don't", "");      /* inner punctuation */
    expect("ecce", "");       /* two words one step away: eece, ecee */
    expect("xyzzy", "");      /* none */
    expect("", "");
    expect("...", "");
    char small[3]; /* "the" and its NUL do not fit */
    ck_assert_int_eq(lexicon_correct(lx, "tlie", small, sizeof small), 0);
    ck_assert_int_eq(lexicon_correct(NULL, "tlie", small, sizeof small), 0);
}
END_TEST

START_TEST(bad_lists)
{
    lexicon *l2 = NULL;
    const char *missing = test_tmpdir_path(tmpdir, "missing");
    ck_assert_int_eq(lexicon_load(missing, &l2, errbuf, sizeof errbuf), DOCRT_ERR_IO);
    ck_assert_ptr_null(l2);
    ck_assert_ptr_nonnull(strstr(errbuf, missing));
    const char *none = put("none", "Aaron's\n12\n\xC3\xA9t\xC3\xA9\n");
    ck_assert_int_eq(lexicon_load(none, &l2, errbuf, sizeof errbuf), DOCRT_ERR_FORMAT);
    ck_assert_ptr_null(l2);
    ck_assert_ptr_nonnull(strstr(errbuf, none));
    const char *empty = put("empty", "");
    ck_assert_int_eq(lexicon_load(empty, &l2, errbuf, sizeof errbuf), DOCRT_ERR_FORMAT);
    ck_assert_int_eq(lexicon_load(tmpdir, &l2, errbuf, sizeof errbuf) != DOCRT_OK, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lexicon");
    TCase *tc = tcase_create("lexicon");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, loading);
    tcase_add_test(tc, corrections);
    tcase_add_test(tc, left_alone);
    tcase_add_test(tc, bad_lists);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
