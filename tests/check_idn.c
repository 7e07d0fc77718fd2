/*
 * check_idn.c - IDN conversion (wk_idn_to_ace, wk_idn_to_unicode) and the
 * host name checks done before a lookup (wk__host_to_ace)
 *
 * Non-ASCII text is written as octal escapes of its UTF-8 bytes: octal
 * escapes stop after three digits, hex escapes would swallow a letter or
 * digit that follows, and right-to-left text stays out of the source.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include <wirekit/idn.h>

#include "idn-private.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Big enough for every name built here (the longest is 320 bytes). */
#define NAME_BUF 512

static void
ascii_lower(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = src[i] >= 'A' && src[i] <= 'Z' ?
		    (char)(src[i] - 'A' + 'a') : src[i];
	dst[i] = '\0';
}

/*
 * The sample strings of RFC 3492 section 7.1, each converted as one
 * label.  The RFC's Punycode keeps the case of ASCII letters; UTS 46 maps
 * them to lower case first, and since ASCII letters are copied through
 * Punycode unchanged, what libidn2 gives for an accepted sample is "xn--"
 * and the RFC's Punycode in lower case (test_rfc3492_to_ace checks that).
 * wk_idn_to_unicode() only decodes, so it takes back every sample whose
 * ACE form is well-formed Punycode, even those wk_idn_to_ace() refuses.
 */
static const struct {
	const char *tag;
	const char *unicode;	/* the sample, UTF-8 */
	const char *punycode;	/* the RFC's Punycode, with its case */
	const char *ace;	/* wk_idn_to_ace()'s result, NULL if refused */
	bool decodes;		/* "xn--" punycode decodes to it */
} rfc3492[] = {
	/*
	 * Refused: the sample ends in U+061F ARABIC QUESTION MARK, which
	 * IDNA2008 disallows (IDN2_DISALLOWED).
	 */
	{ "(A) Arabic (Egyptian)",
	  "\331\204\331\212\331\207\331\205\330\247\330\250\330\252\331\203"
	  "\331\204\331\205\331\210\330\264\330\271\330\261\330\250\331\212"
	  "\330\237",
	  "egbpdaj6bu4bxfgehfvwxn", NULL, true },
	{ "(B) Chinese (simplified)",
	  "\344\273\226\344\273\254\344\270\272\344\273\200\344\271\210\344"
	  "\270\215\350\257\264\344\270\255\346\226\207",
	  "ihqwcrb4cv8a8dqg056pqjye",
	  "xn--ihqwcrb4cv8a8dqg056pqjye", true },
	{ "(C) Chinese (traditional)",
	  "\344\273\226\345\200\221\347\210\262\344\273\200\351\272\275\344"
	  "\270\215\350\252\252\344\270\255\346\226\207",
	  "ihqwctvzc91f659drss3x8bo0yb",
	  "xn--ihqwctvzc91f659drss3x8bo0yb", true },
	/* "P" is mapped to "p": only the case of the Punycode differs. */
	{ "(D) Czech",
	  "Pro\304\215prost\304\233nemluv\303\255\304\215esky",
	  "Proprostnemluvesky-uyb24dma41a",
	  "xn--proprostnemluvesky-uyb24dma41a", true },
	/* Right-to-left only, so the bidi rule is met. */
	{ "(E) Hebrew",
	  "\327\234\327\236\327\224\327\224\327\235\327\244\327\251\327\225"
	  "\327\230\327\234\327\220\327\236\327\223\327\221\327\250\327\231"
	  "\327\235\327\242\327\221\327\250\327\231\327\252",
	  "4dbcagdahymbxekheh6e0a7fei0b",
	  "xn--4dbcagdahymbxekheh6e0a7fei0b", true },
	{ "(F) Hindi (Devanagari)",
	  "\340\244\257\340\244\271\340\244\262\340\245\213\340\244\227\340"
	  "\244\271\340\244\277\340\244\250\340\245\215\340\244\246\340\245"
	  "\200\340\244\225\340\245\215\340\244\257\340\245\213\340\244\202"
	  "\340\244\250\340\244\271\340\245\200\340\244\202\340\244\254\340"
	  "\245\213\340\244\262\340\244\270\340\244\225\340\244\244\340\245"
	  "\207\340\244\271\340\245\210\340\244\202",
	  "i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd",
	  "xn--i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd", true },
	{ "(G) Japanese (kanji and hiragana)",
	  "\343\201\252\343\201\234\343\201\277\343\202\223\343\201\252\346"
	  "\227\245\346\234\254\350\252\236\343\202\222\350\251\261\343\201"
	  "\227\343\201\246\343\201\217\343\202\214\343\201\252\343\201\204"
	  "\343\201\256\343\201\213",
	  "n8jok5ay5dzabd5bym9f0cm5685rrjetr6pdxa",
	  "xn--n8jok5ay5dzabd5bym9f0cm5685rrjetr6pdxa", true },
	/*
	 * Refused: "xn--" and 69 bytes of Punycode is a 73-byte label, over
	 * the 63-byte limit (IDN2_PUNYCODE_BIG_OUTPUT).  Decoding does not
	 * check the length.
	 */
	{ "(H) Korean (Hangul syllables)",
	  "\354\204\270\352\263\204\354\235\230\353\252\250\353\223\240\354"
	  "\202\254\353\236\214\353\223\244\354\235\264\355\225\234\352\265"
	  "\255\354\226\264\353\245\274\354\235\264\355\225\264\355\225\234"
	  "\353\213\244\353\251\264\354\226\274\353\247\210\353\202\230\354"
	  "\242\213\354\235\204\352\271\214",
	  "989aomsvi5e83db1d2a355cv1e0vak1dwrv93d5xbh15a0dt30a5"
	  "jpsd879ccm6fea98c",
	  NULL, true },
	/*
	 * The RFC writes "D" as a case annotation (the first letter of the
	 * sample in upper case); the sample itself is lower case.
	 */
	{ "(I) Russian (Cyrillic)",
	  "\320\277\320\276\321\207\320\265\320\274\321\203\320\266\320\265"
	  "\320\276\320\275\320\270\320\275\320\265\320\263\320\276\320\262"
	  "\320\276\321\200\321\217\321\202\320\277\320\276\321\200\321\203"
	  "\321\201\321\201\320\272\320\270",
	  "b1abfaaepdrnnbgefbaDotcwatmq2g4l",
	  "xn--b1abfaaepdrnnbgefbadotcwatmq2g4l", true },
	/* "P" and "E" are mapped to lower case. */
	{ "(J) Spanish",
	  "Porqu\303\251nopuedensimplementehablarenEspa\303\261ol",
	  "PorqunopuedensimplementehablarenEspaol-fmd56a",
	  "xn--porqunopuedensimplementehablarenespaol-fmd56a", true },
	/* "T" and "V" are mapped to lower case. */
	{ "(K) Vietnamese",
	  "T\341\272\241isaoh\341\273\215kh\303\264ngth\341\273\203ch\341"
	  "\273\211n\303\263iti\341\272\277ngVi\341\273\207t",
	  "TisaohkhngthchnitingVit-kjcr8268qyxafd2f1b9g",
	  "xn--tisaohkhngthchnitingvit-kjcr8268qyxafd2f1b9g", true },
	/*
	 * Accepted: a digit and a Latin letter among Han characters break
	 * no rule (there is no right-to-left text); "B" becomes "b".
	 */
	{ "(L) 3<nen>B<gumi><kinpachi><sensei>",
	  "3\345\271\264B\347\265\204\351\207\221\345\205\253\345\205\210\347"
	  "\224\237",
	  "3B-ww4c5e180e575a65lsy2b",
	  "xn--3b-ww4c5e180e575a65lsy2b", true },
	/* Hyphens inside the label are allowed; the capitals are mapped. */
	{ "(M) <amuro><namie>-with-SUPER-MONKEYS",
	  "\345\256\211\345\256\244\345\245\210\347\276\216\346\201\265"
	  "-with-SUPER-MONKEYS",
	  "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n",
	  "xn---with-super-monkeys-pc58ag80a8qai00g7n9n", true },
	{ "(N) Hello-Another-Way-<sorezore><no><basho>",
	  "Hello-Another-Way-\343\201\235\343\202\214\343\201\236\343\202\214"
	  "\343\201\256\345\240\264\346\211\200",
	  "Hello-Another-Way--fc4qua05auwb3674vfr0b",
	  "xn--hello-another-way--fc4qua05auwb3674vfr0b", true },
	{ "(O) <hitotsu><yane><no><shita>2",
	  "\343\201\262\343\201\250\343\201\244\345\261\213\346\240\271\343"
	  "\201\256\344\270\2132",
	  "2-u9tlzr9756bt3uc0v",
	  "xn--2-u9tlzr9756bt3uc0v", true },
	{ "(P) Maji<de>Koi<suru>5<byou><mae>",
	  "Maji\343\201\247Koi\343\201\231\343\202\2135\347\247\222\345\211"
	  "\215",
	  "MajiKoi5-783gue6qz075azm5e",
	  "xn--majikoi5-783gue6qz075azm5e", true },
	{ "(Q) <pafii>de<runba>",
	  "\343\203\221\343\203\225\343\202\243\343\203\274de\343\203\253\343"
	  "\203\263\343\203\220",
	  "de-jg4avhby1noc0d",
	  "xn--de-jg4avhby1noc0d", true },
	{ "(R) <sono><supiido><de>",
	  "\343\201\235\343\201\256\343\202\271\343\203\224\343\203\274\343"
	  "\203\211\343\201\247",
	  "d9juau41awczczp",
	  "xn--d9juau41awczczp", true },
	/*
	 * Refused both ways: as a host name the sample is the two labels
	 * "-> $1" and "00 <-", and the first starts with a hyphen
	 * (IDN2_HYPHEN_STARTEND); "xn---> $1" is not valid Punycode.
	 */
	{ "(S) -> $1.00 <-",
	  "-> $1.00 <-",
	  "-> $1.00 <--",
	  NULL, false },
};

START_TEST(test_rfc3492_to_ace)
{
	const char *want = rfc3492[_i].ace;
	wk_error err = WK_UNKNOWN;
	char *got = wk_idn_to_ace(rfc3492[_i].unicode, &err);

	if (want) {
		char lower[NAME_BUF];

		ck_assert_msg(got && strcmp(got, want) == 0, "%s: got %s",
		    rfc3492[_i].tag, got ? got : "NULL");
		ck_assert_int_eq(err, WK_NO_ERROR);
		ascii_lower(lower, rfc3492[_i].punycode, sizeof(lower));
		ck_assert_str_eq(want + 4, lower);
	} else {
		ck_assert_msg(got == NULL, "%s: got %s", rfc3492[_i].tag, got);
		ck_assert_int_eq(err, WK_HOST_NOT_FOUND);
	}
	free(got);
}
END_TEST

START_TEST(test_rfc3492_to_unicode)
{
	char ace[NAME_BUF], lower[NAME_BUF];
	wk_error err = WK_UNKNOWN;
	char *got;

	snprintf(ace, sizeof(ace), "xn--%s", rfc3492[_i].punycode);
	got = wk_idn_to_unicode(ace, &err);
	if (rfc3492[_i].decodes) {
		ck_assert_msg(got && strcmp(got, rfc3492[_i].unicode) == 0,
		    "%s: got %s", rfc3492[_i].tag, got ? got : "NULL");
		ck_assert_int_eq(err, WK_NO_ERROR);
	} else {
		ck_assert_ptr_null(got);
		ck_assert_int_eq(err, WK_HOST_NOT_FOUND);
	}
	free(got);
	if (!rfc3492[_i].ace)
		return;
	/* The ACE form we produce decodes to the sample in lower case. */
	got = wk_idn_to_unicode(rfc3492[_i].ace, &err);
	ascii_lower(lower, rfc3492[_i].unicode, sizeof(lower));
	ck_assert_msg(got && strcmp(got, lower) == 0, "%s: got %s",
	    rfc3492[_i].tag, got ? got : "NULL");
	free(got);
}
END_TEST

/* Names wk_idn_to_ace() accepts, and what it makes of them. */
static const struct {
	const char *in, *out;
} to_ace_ok[] = {
	/* UTS 46 mapping: upper case to lower case, then Punycode. */
	{ "B\303\234CHER.example", "xn--bcher-kva.example" },
	{ "M\303\274nchen.DE", "xn--mnchen-3ya.de" },
	/* Non-transitional: sharp s and final sigma are kept. */
	{ "fa\303\237.de", "xn--fa-hia.de" },
	{ "\316\262\317\214\316\273\316\277\317\202.com", "xn--nxasmm1c.com" },
	/* Capital sigma maps to the ordinary sigma, not the final one. */
	{ "\316\222\316\214\316\233\316\237\316\243.gr", "xn--nxasmq6b.gr" },
	/* Full-width dot, ideographic and half-width full stops. */
	{ "fa\303\237\357\274\216de", "xn--fa-hia.de" },
	{ "fa\303\237\343\200\202de", "xn--fa-hia.de" },
	{ "\303\274\357\274\216\303\274\343\200\202\303\274\357\275\241x",
	  "xn--tda.xn--tda.xn--tda.x" },
	/*
	 * An upper-case ACE label after an ideographic full stop (a case
	 * the fuzzer found its own model of labels missing).
	 */
	{ "\344\276\210\343\200\202XN--BCHER-KVA.Example",
	  "xn--csq.xn--bcher-kva.example" },
	/* A trailing dot is kept, also as an ideographic full stop. */
	{ "fa\303\237.de.", "xn--fa-hia.de." },
	{ "fa\303\237.de\343\200\202", "xn--fa-hia.de." },
	/* NFC input: "e" and U+0301 COMBINING ACUTE ACCENT become U+00E9. */
	{ "cafe\314\201.fr", "xn--caf-dma.fr" },
	/* U+216B ROMAN NUMERAL TWELVE maps to plain ASCII. */
	{ "\342\205\253.com", "xii.com" },
	/* U+00AD SOFT HYPHEN is ignored. */
	{ "a\302\255b.\303\274", "ab.xn--tda" },
	/* A right-to-left label next to a left-to-right one is fine. */
	{ "abc.\327\220\327\221\327\222", "abc.xn--4dbcd" },
	{ "\344\276\213\343\201\210.\343\203\206\343\202\271\343\203\210",
	  "xn--r8jz45g.xn--zckzah" },
	{ "\320\237\320\240\320\230\320\234\320\225\320\240.\321\200\321\204",
	  "xn--e1afmkfd.xn--p1ai" },
	/* ASCII names go through libidn2 too: mapped to lower case ... */
	{ "Example.COM", "example.com" },
	{ "XN--BCHER-KVA.example", "xn--bcher-kva.example" },
	{ "xn--bcher-kva.\303\274", "xn--bcher-kva.xn--tda" },
	/* ... without the STD3 rules, and without checks on empty labels. */
	{ "a_b", "a_b" },
	{ "a b", "a b" },
	{ "", "" },
	{ "a..b", "a..b" },
	{ ".a", ".a" },
};

START_TEST(test_to_ace_ok)
{
	wk_error err = WK_UNKNOWN;
	char *got = wk_idn_to_ace(to_ace_ok[_i].in, &err);

	ck_assert_msg(got && strcmp(got, to_ace_ok[_i].out) == 0,
	    "%s: got %s, want %s", to_ace_ok[_i].in, got ? got : "NULL",
	    to_ace_ok[_i].out);
	ck_assert_int_eq(err, WK_NO_ERROR);
	free(got);
}
END_TEST

/* Names wk_idn_to_ace() refuses with WK_HOST_NOT_FOUND. */
static const char *const to_ace_bad[] = {
	/* U+0301 COMBINING ACUTE ACCENT at the start of a label. */
	"\314\201a",
	"example.\314\201x",
	/* Labels over 63 bytes, in ASCII and after Punycode. */
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	"\303\274aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	/* The bidi rule: Hebrew with a digit and Latin, either order. */
	"\327\2201a",
	"a\327\220",
	"\327\220a.com",
	/* Arabic-Indic digits mixed with Extended Arabic-Indic digits. */
	"\331\241\333\261",
	/* U+200D ZERO WIDTH JOINER and U+200C outside their contexts. */
	"a\342\200\215b",
	"a\342\200\214b",
	/* Disallowed code points: an emoji, a private use character. */
	"\360\237\230\200.com",
	"\356\200\200.com",
	/* U+10FFFF: well-formed UTF-8, not a character for a name. */
	"\364\217\277\277",
	/* Hyphens: at either end, or in positions 3 and 4 (even ASCII). */
	"-a",
	"a-",
	"ab--c",
	"r3---sn-abc.googlevideo.com",
	"\303\274.ab--c",
	/* ACE labels are decoded and checked, in ASCII names too. */
	"xn--zz",
	"xn--",
	"xn--a",		/* U+0080, a control character */
	"\303\274.xn--zz",
	/* Ill-formed UTF-8. */
	"a\303",
	"\200",
	"a\300\200",
	"\355\240\200",
	"\364\220\200\200",
	"\365\200\200\200",
	"a\377b",
	/* 254 bytes: four labels of 63, three dots, one more byte. */
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
	"ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
	"ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddde",
	/* The RFC 3492 (S) sample. */
	"-> $1.00 <-",
};

START_TEST(test_to_ace_bad)
{
	wk_error err = WK_UNKNOWN;
	char *got = wk_idn_to_ace(to_ace_bad[_i], &err);

	ck_assert_msg(got == NULL, "entry %d: got %s", _i, got);
	ck_assert_int_eq(err, WK_HOST_NOT_FOUND);
	/* err may be NULL. */
	ck_assert_ptr_null(wk_idn_to_ace(to_ace_bad[_i], NULL));
}
END_TEST

/* wk_idn_to_unicode(): in, and the result or NULL when refused. */
static const struct {
	const char *in, *out;
} to_unicode_map[] = {
	{ "xn--fa-hia.de", "fa\303\237.de" },
	{ "xn--nxasmm1c.com", "\316\262\317\214\316\273\316\277\317\202.com" },
	{ "xn--mnchen-3ya.de.", "m\303\274nchen.de." },
	/* The prefix is matched in any case; decoding keeps ASCII's case. */
	{ "XN--BCHER-KVA.Example", "B\303\274CHER.Example" },
	{ "Example.COM", "Example.COM" },
	/* Unicode labels are passed through, not mapped or checked. */
	{ "fa\303\237.de", "fa\303\237.de" },
	{ "B\303\234CHER.example", "B\303\234CHER.example" },
	{ "\314\201a", "\314\201a" },
	/* Decoding checks nothing but the Punycode itself. */
	{ "xn--a", "\302\200" },
	{ "ab--c.-a", "ab--c.-a" },
	{ "", "" },
	/* Refused: bad Punycode, ill-formed UTF-8. */
	{ "xn--zz", NULL },
	{ "xn--", NULL },
	{ "xn--a-", NULL },
	{ "example.xn--zz.com", NULL },
	{ "xn---> $1.00 <--", NULL },
	{ "a\303", NULL },
	{ "\200.com", NULL },
	{ "\355\240\200", NULL },
};

START_TEST(test_to_unicode)
{
	const char *want = to_unicode_map[_i].out;
	wk_error err = WK_UNKNOWN;
	char *got = wk_idn_to_unicode(to_unicode_map[_i].in, &err);

	if (want) {
		ck_assert_msg(got && strcmp(got, want) == 0, "%s: got %s",
		    to_unicode_map[_i].in, got ? got : "NULL");
		ck_assert_int_eq(err, WK_NO_ERROR);
	} else {
		ck_assert_msg(got == NULL, "%s: got %s",
		    to_unicode_map[_i].in, got);
		ck_assert_int_eq(err, WK_HOST_NOT_FOUND);
		ck_assert_ptr_null(wk_idn_to_unicode(to_unicode_map[_i].in,
		    NULL));
	}
	free(got);
}
END_TEST

START_TEST(test_null)
{
	wk_error err = WK_NO_ERROR;

	ck_assert_ptr_null(wk_idn_to_ace(NULL, &err));
	ck_assert_int_eq(err, WK_INVALID_ARGUMENT);
	err = WK_NO_ERROR;
	ck_assert_ptr_null(wk_idn_to_unicode(NULL, &err));
	ck_assert_int_eq(err, WK_INVALID_ARGUMENT);
	ck_assert_ptr_null(wk_idn_to_ace(NULL, NULL));
	ck_assert_ptr_null(wk_idn_to_unicode(NULL, NULL));
}
END_TEST

/* A success leaves *err at WK_NO_ERROR, and err may be NULL. */
START_TEST(test_error_cleared)
{
	wk_error err = WK_HOST_NOT_FOUND;
	char *s;

	s = wk_idn_to_ace("fa\303\237.de", &err);
	ck_assert_int_eq(err, WK_NO_ERROR);
	free(s);
	err = WK_HOST_NOT_FOUND;
	s = wk_idn_to_unicode("xn--fa-hia.de", &err);
	ck_assert_int_eq(err, WK_NO_ERROR);
	free(s);
	s = wk_idn_to_ace("fa\303\237.de", NULL);
	ck_assert_str_eq(s, "xn--fa-hia.de");
	free(s);
	s = wk_idn_to_unicode("xn--fa-hia.de", NULL);
	ck_assert_str_eq(s, "fa\303\237.de");
	free(s);
}
END_TEST

/* wk_idn_to_unicode(wk_idn_to_ace(in)) gives the name UTS 46 makes. */
static const struct {
	const char *in, *normal;
} round_trip[] = {
	{ "example.com", "example.com" },
	{ "B\303\234CHER.example", "b\303\274cher.example" },
	{ "M\303\274nchen.DE", "m\303\274nchen.de" },
	{ "fa\303\237.de", "fa\303\237.de" },
	{ "\316\262\317\214\316\273\316\277\317\202.com",
	  "\316\262\317\214\316\273\316\277\317\202.com" },
	{ "\316\222\316\214\316\233\316\237\316\243.gr",
	  "\316\262\317\214\316\273\316\277\317\203.gr" },
	{ "cafe\314\201.fr", "caf\303\251.fr" },
	{ "\303\274\357\274\216\303\274\343\200\202\303\274\357\275\241x",
	  "\303\274.\303\274.\303\274.x" },
	{ "\342\205\253.com", "xii.com" },
	{ "abc.\327\220\327\221\327\222", "abc.\327\220\327\221\327\222" },
	{ "\344\276\213\343\201\210.\343\203\206\343\202\271\343\203\210",
	  "\344\276\213\343\201\210.\343\203\206\343\202\271\343\203\210" },
	{ "\320\237\320\240\320\230\320\234\320\225\320\240.\321\200\321\204",
	  "\320\277\321\200\320\270\320\274\320\265\321\200.\321\200\321\204" },
	{ "fa\303\237.de.", "fa\303\237.de." },
};

START_TEST(test_round_trip)
{
	char *ace = wk_idn_to_ace(round_trip[_i].in, NULL);
	char *back;

	ck_assert_msg(ace != NULL, "%s refused", round_trip[_i].in);
	back = wk_idn_to_unicode(ace, NULL);
	ck_assert_msg(back && strcmp(back, round_trip[_i].normal) == 0,
	    "%s -> %s -> %s", round_trip[_i].in, ace, back ? back : "NULL");
	free(back);
	free(ace);
}
END_TEST

/*
 * wk__host_to_ace() on names written out.  For a refusal that comes from
 * libidn2, idn2_rc is its code and the reason is built from its message.
 */
static const struct {
	const char *name;
	wk_error code;
	const char *ace;	/* the result on success */
	const char *why;	/* the reason on failure */
	int idn2_rc;
} host[] = {
	{ "", WK_HOST_NOT_FOUND, NULL, "empty host name", 0 },
	{ "a", WK_NO_ERROR, "a", NULL, 0 },
	{ "example.com", WK_NO_ERROR, "example.com", NULL, 0 },
	{ "WWW.Example.COM", WK_NO_ERROR, "www.example.com", NULL, 0 },
	{ "example.com.", WK_NO_ERROR, "example.com.", NULL, 0 },
	{ "a.", WK_NO_ERROR, "a.", NULL, 0 },
	{ "a..b", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	{ ".a", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	{ ".", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	{ "..", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	{ "a..", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	/*
	 * The ASCII fast path never calls libidn2, which would refuse all
	 * of these; getaddrinfo() decides.
	 */
	{ "r3---sn-abc.googlevideo.com", WK_NO_ERROR,
	  "r3---sn-abc.googlevideo.com", NULL, 0 },
	{ "-a.example", WK_NO_ERROR, "-a.example", NULL, 0 },
	{ "xn--zz.example", WK_NO_ERROR, "xn--zz.example", NULL, 0 },
	{ "XN--BCHER-KVA.Example", WK_NO_ERROR, "xn--bcher-kva.example",
	  NULL, 0 },
	{ "_sip._tcp.Example.ORG", WK_NO_ERROR, "_sip._tcp.example.org",
	  NULL, 0 },
	/* Names with non-ASCII bytes go through UTS 46. */
	{ "fa\303\237.de", WK_NO_ERROR, "xn--fa-hia.de", NULL, 0 },
	{ "B\303\234CHER.example.", WK_NO_ERROR, "xn--bcher-kva.example.",
	  NULL, 0 },
	{ "fa\303\237\343\200\202de", WK_NO_ERROR, "xn--fa-hia.de", NULL, 0 },
	{ "\303\274.", WK_NO_ERROR, "xn--tda.", NULL, 0 },
	{ "\342\205\253.COM", WK_NO_ERROR, "xii.com", NULL, 0 },
	{ "\303\274..a", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	{ "\303\274\343\200\202\343\200\202a", WK_HOST_NOT_FOUND, NULL,
	  "empty label", 0 },
	{ ".\303\274", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	{ "\303\274..", WK_HOST_NOT_FOUND, NULL, "empty label", 0 },
	/* A lone soft hyphen maps to nothing. */
	{ "\302\255", WK_HOST_NOT_FOUND, NULL, "empty host name", 0 },
	{ "\314\201a", WK_HOST_NOT_FOUND, NULL, NULL, IDN2_LEADING_COMBINING },
	{ "\327\2201a.com", WK_HOST_NOT_FOUND, NULL, NULL, IDN2_BIDI },
	{ "\360\237\230\200.com", WK_HOST_NOT_FOUND, NULL, NULL,
	  IDN2_DISALLOWED },
	{ "a\342\200\215b.\303\274", WK_HOST_NOT_FOUND, NULL, NULL,
	  IDN2_CONTEXTJ },
	/* Next to a non-ASCII label, libidn2 checks the ASCII ones too. */
	{ "\303\274.xn--zz", WK_HOST_NOT_FOUND, NULL, NULL,
	  IDN2_PUNYCODE_BAD_INPUT },
	{ "\303\274.ab--c", WK_HOST_NOT_FOUND, NULL, NULL, IDN2_2HYPHEN },
	/* Ill-formed UTF-8, with the offset of the bad sequence. */
	{ "\200", WK_HOST_NOT_FOUND, NULL, "invalid UTF-8 at byte 0", 0 },
	{ "ab\303", WK_HOST_NOT_FOUND, NULL, "invalid UTF-8 at byte 2", 0 },
	{ "a\300\200", WK_HOST_NOT_FOUND, NULL, "invalid UTF-8 at byte 1", 0 },
	{ "a\301\277", WK_HOST_NOT_FOUND, NULL, "invalid UTF-8 at byte 1", 0 },
	{ "abc\355\240\200", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 3", 0 },
	{ "\355\277\277", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 0", 0 },
	{ "\340\237\277", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 0", 0 },
	{ "\360\217\277\277", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 0", 0 },
	{ "\364\220\200\200", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 0", 0 },
	{ "x\365\200\200\200", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 1", 0 },
	{ "x.\377", WK_HOST_NOT_FOUND, NULL, "invalid UTF-8 at byte 2", 0 },
	{ "\376", WK_HOST_NOT_FOUND, NULL, "invalid UTF-8 at byte 0", 0 },
	{ "\303\274\277", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 2", 0 },
	{ "\303\251\342\202", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 2", 0 },
	{ "\342\202(", WK_HOST_NOT_FOUND, NULL, "invalid UTF-8 at byte 0", 0 },
	{ "\360\237\230", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 0", 0 },
	{ "example.com\200", WK_HOST_NOT_FOUND, NULL,
	  "invalid UTF-8 at byte 11", 0 },
	/* The edges of well-formed UTF-8 pass the check, then libidn2's. */
	{ "\355\237\277", WK_HOST_NOT_FOUND, NULL, NULL, IDN2_DISALLOWED },
	{ "\356\200\200", WK_HOST_NOT_FOUND, NULL, NULL, IDN2_DISALLOWED },
	{ "\364\217\277\277", WK_HOST_NOT_FOUND, NULL, NULL, IDN2_DISALLOWED },
};

START_TEST(test_host)
{
	char why[256], want[256];
	char *ace = (char *)"unset";
	wk_error code;

	memset(why, 'X', sizeof(why));
	code = wk__host_to_ace(host[_i].name, &ace, why, sizeof(why));
	ck_assert_msg(code == host[_i].code, "entry %d: got %s (%s), want %s",
	    _i, wk_error_name(code), why, wk_error_name(host[_i].code));
	if (code == WK_NO_ERROR) {
		ck_assert_str_eq(ace, host[_i].ace);
		ck_assert_str_eq(why, "");
		free(ace);
		return;
	}
	ck_assert_ptr_null(ace);
	if (host[_i].idn2_rc)
		snprintf(want, sizeof(want), "IDN conversion failed: %s",
		    idn2_strerror(host[_i].idn2_rc));
	else
		snprintf(want, sizeof(want), "%s", host[_i].why);
	ck_assert_str_eq(why, want);
}
END_TEST

/*
 * Writes labels of lens[i] bytes (a list ending in 0), the first made of
 * 'a', the next of 'b' and so on, joined by dots, then tail.
 */
static void
make_name(char *buf, const int *lens, const char *tail)
{
	char *p = buf;
	int i;

	for (i = 0; lens[i]; i++) {
		if (i)
			*p++ = '.';
		memset(p, 'a' + i, (size_t)lens[i]);
		p += lens[i];
	}
	strcpy(p, tail);
}

static const struct {
	int lens[6];
	const char *tail;
	const char *why;	/* NULL when accepted */
} lengths[] = {
	{ { 63 }, "", NULL },
	{ { 63 }, ".", NULL },
	{ { 64 }, "",
	  "label \"aaaaaaaaaaaaaaaa...\" is 64 bytes; the limit is 63" },
	{ { 1, 64 }, ".",
	  "label \"bbbbbbbbbbbbbbbb...\" is 64 bytes; the limit is 63" },
	{ { 63, 63, 200 }, "",
	  "label \"cccccccccccccccc...\" is 200 bytes; the limit is 63" },
	/* 253 bytes, with and without the trailing dot. */
	{ { 63, 63, 63, 61 }, "", NULL },
	{ { 63, 63, 63, 61 }, ".", NULL },
	/* 254 bytes; the trailing dot is not counted. */
	{ { 63, 63, 63, 62 }, "",
	  "name is 254 bytes in ASCII form; the limit is 253" },
	{ { 63, 63, 63, 62 }, ".",
	  "name is 254 bytes in ASCII form; the limit is 253" },
	{ { 63, 63, 63, 63 }, "",
	  "name is 255 bytes in ASCII form; the limit is 253" },
	{ { 63, 63, 63, 63, 63 }, ".",
	  "name is 319 bytes in ASCII form; the limit is 253" },
	/* An empty label is found before the length. */
	{ { 63, 63, 63, 63 }, "..", "empty label" },
};

START_TEST(test_host_lengths)
{
	char name[NAME_BUF], why[128];
	char *ace = NULL;
	wk_error code;

	make_name(name, lengths[_i].lens, lengths[_i].tail);
	code = wk__host_to_ace(name, &ace, why, sizeof(why));
	if (!lengths[_i].why) {
		ck_assert_msg(code == WK_NO_ERROR, "entry %d: %s", _i, why);
		ck_assert_str_eq(ace, name);
		free(ace);
	} else {
		ck_assert_int_eq(code, WK_HOST_NOT_FOUND);
		ck_assert_ptr_null(ace);
		ck_assert_str_eq(why, lengths[_i].why);
	}
}
END_TEST

/* "\303\274" and 55 "a": 57 bytes of UTF-8, 63 in ACE form. */
#define IDN_57 "\303\274aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACE_63 "xn--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-oxf"
#define D_61 "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

/* Names that grow past a limit only in their ACE form. */
static const struct {
	const char *name, *ace, *why;
} idn_lengths[] = {
	/* One label: 63 bytes in ACE form, then 64. */
	{ IDN_57, ACE_63, NULL },
	{ IDN_57 "a", NULL, "a label is over 63 bytes in ASCII form" },
	/* 236 bytes of UTF-8: 253 bytes in ACE form, then 254, then 255. */
	{ IDN_57 "." IDN_57 "." IDN_57 "." D_61,
	  ACE_63 "." ACE_63 "." ACE_63 "." D_61, NULL },
	{ IDN_57 "." IDN_57 "." IDN_57 "." D_61 ".",
	  ACE_63 "." ACE_63 "." ACE_63 "." D_61 ".", NULL },
	{ IDN_57 "." IDN_57 "." IDN_57 "." D_61 "d", NULL,
	  "name is over 253 bytes in ASCII form" },
	{ IDN_57 "." IDN_57 "." IDN_57 "." IDN_57, NULL,
	  "name is over 253 bytes in ASCII form" },
};

START_TEST(test_host_idn_lengths)
{
	char why[128];
	char *ace = NULL;
	wk_error code;

	ck_assert_uint_le(strlen(idn_lengths[_i].name), 253);
	code = wk__host_to_ace(idn_lengths[_i].name, &ace, why, sizeof(why));
	if (idn_lengths[_i].ace) {
		ck_assert_msg(code == WK_NO_ERROR, "entry %d: %s", _i, why);
		ck_assert_str_eq(ace, idn_lengths[_i].ace);
		free(ace);
	} else {
		ck_assert_int_eq(code, WK_HOST_NOT_FOUND);
		ck_assert_ptr_null(ace);
		ck_assert_str_eq(why, idn_lengths[_i].why);
	}
}
END_TEST

/* A label quoted in a reason shows only printable ASCII. */
START_TEST(test_host_quote)
{
	char name[80], why[128];
	char *ace = NULL;

	memset(name, '\001', 64);
	strcpy(name + 64, ".com");
	name[1] = 'A';
	name[2] = ' ';
	ck_assert_int_eq(wk__host_to_ace(name, &ace, why, sizeof(why)),
	    WK_HOST_NOT_FOUND);
	ck_assert_str_eq(why,
	    "label \"?A??????????????...\" is 64 bytes; the limit is 63");
}
END_TEST

/* The reason is cut to fit, always NUL-terminated, never overrun. */
START_TEST(test_host_why_size)
{
	static const char long_label[] =
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char why[16];
	char *ace = NULL;

	memset(why, 'X', sizeof(why));
	ck_assert_int_eq(wk__host_to_ace("", &ace, why, 1), WK_HOST_NOT_FOUND);
	ck_assert_int_eq(why[0], '\0');
	ck_assert_int_eq(why[1], 'X');
	memset(why, 'X', sizeof(why));
	ck_assert_int_eq(wk__host_to_ace("", &ace, why, 6), WK_HOST_NOT_FOUND);
	ck_assert_str_eq(why, "empty");
	ck_assert_int_eq(why[6], 'X');
	memset(why, 'X', sizeof(why));
	ck_assert_int_eq(wk__host_to_ace(long_label, &ace, why, 10),
	    WK_HOST_NOT_FOUND);
	ck_assert_str_eq(why, "label \"aa");
	ck_assert_int_eq(why[10], 'X');
	memset(why, 'X', sizeof(why));
	ck_assert_int_eq(wk__host_to_ace("\314\201a", &ace, why, 4),
	    WK_HOST_NOT_FOUND);
	ck_assert_str_eq(why, "IDN");
	ck_assert_int_eq(why[4], 'X');
	/* No room at all: why is not touched and may be NULL. */
	ck_assert_int_eq(wk__host_to_ace("a..b", &ace, NULL, 0),
	    WK_HOST_NOT_FOUND);
	ck_assert_int_eq(wk__host_to_ace("\200", &ace, NULL, 0),
	    WK_HOST_NOT_FOUND);
	ck_assert_int_eq(wk__host_to_ace("a.b", &ace, NULL, 0), WK_NO_ERROR);
	ck_assert_str_eq(ace, "a.b");
	free(ace);
}
END_TEST

START_TEST(test_host_null)
{
	char why[64];
	char *ace = (char *)"unset";

	ck_assert_int_eq(wk__host_to_ace(NULL, &ace, why, sizeof(why)),
	    WK_INVALID_ARGUMENT);
	ck_assert_ptr_null(ace);
	ck_assert_str_eq(why, "the host name is NULL");
	ck_assert_int_eq(wk__host_to_ace("a", NULL, why, sizeof(why)),
	    WK_INVALID_ARGUMENT);
	ck_assert_str_eq(why, "the result pointer is NULL");
	ck_assert_int_eq(wk__host_to_ace(NULL, NULL, NULL, 0),
	    WK_INVALID_ARGUMENT);
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	return tc;
}

int
main(void)
{
	Suite *s = suite_create("idn");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase("rfc3492");
	tcase_add_loop_test(tc, test_rfc3492_to_ace, 0, COUNT(rfc3492));
	tcase_add_loop_test(tc, test_rfc3492_to_unicode, 0, COUNT(rfc3492));
	suite_add_tcase(s, tc);
	tc = tcase("convert");
	tcase_add_loop_test(tc, test_to_ace_ok, 0, COUNT(to_ace_ok));
	tcase_add_loop_test(tc, test_to_ace_bad, 0, COUNT(to_ace_bad));
	tcase_add_loop_test(tc, test_to_unicode, 0, COUNT(to_unicode_map));
	tcase_add_loop_test(tc, test_round_trip, 0, COUNT(round_trip));
	tcase_add_test(tc, test_null);
	tcase_add_test(tc, test_error_cleared);
	suite_add_tcase(s, tc);
	tc = tcase("host");
	tcase_add_loop_test(tc, test_host, 0, COUNT(host));
	tcase_add_loop_test(tc, test_host_lengths, 0, COUNT(lengths));
	tcase_add_loop_test(tc, test_host_idn_lengths, 0, COUNT(idn_lengths));
	tcase_add_test(tc, test_host_quote);
	tcase_add_test(tc, test_host_why_size);
	tcase_add_test(tc, test_host_null);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
