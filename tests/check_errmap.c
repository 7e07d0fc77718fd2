/*
 * check_errmap.c - the private error helpers: errno and EAI_* mapping,
 * and the per-object error record
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <netdb.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error-private.h"

static const struct {
	int errnum;
	wk_error code;
} errno_map[] = {
	{ 0, WK_NO_ERROR },
	{ ECONNREFUSED, WK_CONNECTION_REFUSED },
	{ ETIMEDOUT, WK_SOCKET_TIMEOUT },
	{ EMFILE, WK_SOCKET_RESOURCE },
	{ ENFILE, WK_SOCKET_RESOURCE },
	{ ENOBUFS, WK_SOCKET_RESOURCE },
	{ ENOMEM, WK_SOCKET_RESOURCE },
	{ EACCES, WK_SOCKET_ACCESS },
	{ EPERM, WK_SOCKET_ACCESS },
	{ EADDRINUSE, WK_ADDRESS_IN_USE },
	{ EADDRNOTAVAIL, WK_ADDRESS_NOT_AVAILABLE },
	{ ENETUNREACH, WK_NETWORK },
	{ EHOSTUNREACH, WK_NETWORK },
	{ ENETDOWN, WK_NETWORK },
	{ EMSGSIZE, WK_DATAGRAM_TOO_LARGE },
	{ EAGAIN, WK_TEMPORARY },
	{ EWOULDBLOCK, WK_TEMPORARY },
	{ ECONNRESET, WK_REMOTE_HOST_CLOSED },
	{ EPIPE, WK_REMOTE_HOST_CLOSED },
	{ EAFNOSUPPORT, WK_UNSUPPORTED_OPERATION },
	{ EPROTONOSUPPORT, WK_UNSUPPORTED_OPERATION },
	{ EOPNOTSUPP, WK_UNSUPPORTED_OPERATION },
	{ EINPROGRESS, WK_UNFINISHED_OPERATION },
	{ EALREADY, WK_UNFINISHED_OPERATION },
	{ EINVAL, WK_INVALID_ARGUMENT },
	{ EIO, WK_UNKNOWN },
	{ ENOENT, WK_UNKNOWN },
	{ -1, WK_UNKNOWN },
	{ 100000, WK_UNKNOWN },
};

START_TEST(test_errno_map)
{
	ck_assert_msg(wk__error_from_errno(errno_map[_i].errnum) ==
	    errno_map[_i].code, "errno %d: got %s, want %s",
	    errno_map[_i].errnum,
	    wk_error_name(wk__error_from_errno(errno_map[_i].errnum)),
	    wk_error_name(errno_map[_i].code));
}
END_TEST

static const struct {
	int eai, errnum;
	wk_error code;
} gai_map[] = {
	{ 0, 0, WK_NO_ERROR },
	{ EAI_NONAME, 0, WK_HOST_NOT_FOUND },
	{ EAI_NODATA, 0, WK_HOST_NOT_FOUND },
	{ EAI_FAIL, 0, WK_HOST_NOT_FOUND },
	{ EAI_AGAIN, 0, WK_UNKNOWN },
	{ EAI_BADFLAGS, 0, WK_UNKNOWN },
	{ EAI_FAMILY, 0, WK_UNKNOWN },
	{ EAI_SERVICE, 0, WK_UNKNOWN },
	{ EAI_SOCKTYPE, 0, WK_UNKNOWN },
	{ EAI_ADDRFAMILY, 0, WK_UNKNOWN },
	{ EAI_OVERFLOW, 0, WK_UNKNOWN },
	{ EAI_MEMORY, 0, WK_SOCKET_RESOURCE },
	{ EAI_SYSTEM, EMFILE, WK_SOCKET_RESOURCE },
	{ EAI_SYSTEM, ECONNREFUSED, WK_CONNECTION_REFUSED },
	{ EAI_SYSTEM, 0, WK_UNKNOWN },
	{ -12345, 0, WK_UNKNOWN },
};

START_TEST(test_gai_map)
{
	wk_error got = wk__error_from_gai(gai_map[_i].eai, gai_map[_i].errnum);

	ck_assert_msg(got == gai_map[_i].code, "EAI %d errno %d: got %s, want %s",
	    gai_map[_i].eai, gai_map[_i].errnum, wk_error_name(got),
	    wk_error_name(gai_map[_i].code));
}
END_TEST

START_TEST(test_record_plain)
{
	wk__err e = { 0 };

	ck_assert_str_eq(wk__err_string(&e), "No error");
	wk__err_set(&e, WK_OPERATION, "connect to %s:%d", "127.0.0.1", 9);
	ck_assert_int_eq(e.code, WK_OPERATION);
	ck_assert_int_eq(e.sys_errno, 0);
	ck_assert_str_eq(wk__err_string(&e), "connect to 127.0.0.1:9");
	wk__err_set(&e, WK_INVALID_ARGUMENT, "second %s", "message");
	ck_assert_str_eq(wk__err_string(&e), "second message");
	wk__err_clear(&e);
	ck_assert_int_eq(e.code, WK_NO_ERROR);
	ck_assert_ptr_null(e.message);
	ck_assert_str_eq(wk__err_string(&e), "No error");
	wk__err_clear(&e);
}
END_TEST

START_TEST(test_record_sys)
{
	wk__err e = { 0 };

	wk__err_set_sys(&e, ECONNREFUSED, "connect to %s:%u", "127.0.0.1", 9u);
	ck_assert_int_eq(e.code, WK_CONNECTION_REFUSED);
	ck_assert_int_eq(e.sys_errno, ECONNREFUSED);
	ck_assert_str_eq(wk__err_string(&e),
	    "connect to 127.0.0.1:9: Connection refused");
	wk__err_set_sys(&e, EMFILE, "socket");
	ck_assert_int_eq(e.code, WK_SOCKET_RESOURCE);
	ck_assert_str_eq(wk__err_string(&e), "socket: Too many open files");
	wk__err_clear(&e);
}
END_TEST

START_TEST(test_record_gai)
{
	wk__err e = { 0 };
	char want[256];

	wk__err_set_gai(&e, EAI_NONAME, 0, "lookup of %s", "nowhere.invalid");
	ck_assert_int_eq(e.code, WK_HOST_NOT_FOUND);
	snprintf(want, sizeof(want), "lookup of nowhere.invalid: %s",
	    gai_strerror(EAI_NONAME));
	ck_assert_str_eq(wk__err_string(&e), want);
	wk__err_set_gai(&e, EAI_SYSTEM, ENFILE, "lookup of %s", "x");
	ck_assert_int_eq(e.code, WK_SOCKET_RESOURCE);
	ck_assert_int_eq(e.sys_errno, ENFILE);
	ck_assert_str_eq(wk__err_string(&e),
	    "lookup of x: Too many open files in system");
	wk__err_set_gai(&e, EAI_AGAIN, 0, "lookup");
	ck_assert_int_eq(e.code, WK_UNKNOWN);
	wk__err_clear(&e);
}
END_TEST

START_TEST(test_record_long)
{
	wk__err e = { 0 };
	char name[5000];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	wk__err_set_sys(&e, ETIMEDOUT, "connect to %s", name);
	ck_assert_uint_eq(strlen(wk__err_string(&e)),
	    strlen("connect to ") + strlen(name) + strlen(": ") +
	    strlen(strerror(ETIMEDOUT)));
	wk__err_clear(&e);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite *s = suite_create("errmap");
	TCase *tc = tcase_create("map");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_errno_map, 0, COUNT(errno_map));
	tcase_add_loop_test(tc, test_gai_map, 0, COUNT(gai_map));
	suite_add_tcase(s, tc);
	tc = tcase_create("record");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_record_plain);
	tcase_add_test(tc, test_record_sys);
	tcase_add_test(tc, test_record_gai);
	tcase_add_test(tc, test_record_long);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
