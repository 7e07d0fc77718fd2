/*
 * check_error.c - tests of wirekit/error.h and wk_version()
 *
 * The tables are enumerated through the headers' own X-macros, so a code
 * added to WK_ERROR_TABLE or WK_STATE_TABLE is tested without edits here.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <wirekit/error.h>
#include <wirekit/version.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The sweep reaches this far on either side of zero. */
#define SWEEP 1000

static const struct error_row {
	wk_error code;
	int value;
	const char *name;
	const char *message;
} error_rows[] = {
#define ERROR_ROW_(name, value, msg) { name, value, #name, msg },
	WK_ERROR_TABLE(ERROR_ROW_)
#undef ERROR_ROW_
};

static const struct state_row {
	wk_state state;
	int value;
	const char *name;
} state_rows[] = {
#define STATE_ROW_(name, value) { name, value, #name },
	WK_STATE_TABLE(STATE_ROW_)
#undef STATE_ROW_
};

static bool
is_error_code(int v)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(error_rows); i++)
		if (error_rows[i].value == v)
			return true;
	return false;
}

static bool
is_state(int v)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(state_rows); i++)
		if (state_rows[i].value == v)
			return true;
	return false;
}

static TCase *
new_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

START_TEST(test_error_row)
{
	const struct error_row *r = &error_rows[_i];
	const char *name = wk_error_name(r->code);
	const char *msg = wk_error_message(r->code);

	ck_assert_int_eq((int)r->code, r->value);
	ck_assert_msg(name != NULL && strcmp(name, r->name) == 0,
	    "wk_error_name(%d) is \"%s\", expected \"%s\"", r->value,
	    name ? name : "(NULL)", r->name);
	ck_assert_msg(msg != NULL && strcmp(msg, r->message) == 0,
	    "wk_error_message(%s) is \"%s\", expected \"%s\"", r->name,
	    msg ? msg : "(NULL)", r->message);
}
END_TEST

/* Names and values are unique, so a name identifies its code. */
START_TEST(test_error_table_unique)
{
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(error_rows); i++)
		for (j = i + 1; j < ARRAY_SIZE(error_rows); j++) {
			ck_assert_int_ne(error_rows[i].value,
			    error_rows[j].value);
			ck_assert_str_ne(error_rows[i].name,
			    error_rows[j].name);
		}
	ck_assert_int_eq(WK_NO_ERROR, 0);
}
END_TEST

/* Any int may arrive as a code; the answer is never NULL or empty. */
START_TEST(test_error_sweep)
{
	const char *name, *msg;
	int v;

	for (v = -SWEEP; v <= SWEEP; v++) {
		name = wk_error_name((wk_error)v);
		msg = wk_error_message((wk_error)v);
		ck_assert_msg(name != NULL && *name != '\0',
		    "wk_error_name(%d) is NULL or empty", v);
		ck_assert_msg(msg != NULL && *msg != '\0',
		    "wk_error_message(%d) is NULL or empty", v);
		if (is_error_code(v))
			continue;
		ck_assert_msg(strcmp(name, "WK_UNKNOWN_ERROR_CODE") == 0,
		    "wk_error_name(%d) is \"%s\"", v, name);
		ck_assert_msg(strcmp(msg, "Unknown error code") == 0,
		    "wk_error_message(%d) is \"%s\"", v, msg);
	}
}
END_TEST

/* The far ends of the enum's range, beyond the sweep. */
START_TEST(test_error_extremes)
{
	static const int values[] = { -2147483647 - 1, -65536, 65536,
	    2147483647 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		ck_assert_str_eq(wk_error_name((wk_error)values[i]),
		    "WK_UNKNOWN_ERROR_CODE");
		ck_assert_str_eq(wk_error_message((wk_error)values[i]),
		    "Unknown error code");
	}
}
END_TEST

START_TEST(test_state_row)
{
	const struct state_row *r = &state_rows[_i];
	const char *name = wk_state_name(r->state);

	ck_assert_int_eq((int)r->state, r->value);
	ck_assert_msg(name != NULL && strcmp(name, r->name) == 0,
	    "wk_state_name(%d) is \"%s\", expected \"%s\"", r->value,
	    name ? name : "(NULL)", r->name);
}
END_TEST

START_TEST(test_state_sweep)
{
	const char *name;
	int v;

	for (v = -SWEEP; v <= SWEEP; v++) {
		name = wk_state_name((wk_state)v);
		ck_assert_msg(name != NULL && *name != '\0',
		    "wk_state_name(%d) is NULL or empty", v);
		if (!is_state(v))
			ck_assert_msg(strcmp(name, "WK_STATE_INVALID") == 0,
			    "wk_state_name(%d) is \"%s\"", v, name);
	}
	ck_assert_str_eq(wk_state_name((wk_state)2147483647),
	    "WK_STATE_INVALID");
	ck_assert_str_eq(wk_state_name((wk_state)(-2147483647 - 1)),
	    "WK_STATE_INVALID");
}
END_TEST

START_TEST(test_version)
{
	char want[32];
	const char *v = wk_version();

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, WK_VERSION_STRING);
	snprintf(want, sizeof want, "%d.%d.%d", WK_VERSION_MAJOR,
	    WK_VERSION_MINOR, WK_VERSION_PATCH);
	ck_assert_str_eq(WK_VERSION_STRING, want);
	ck_assert_int_eq(WK_VERSION_NUMBER, (WK_VERSION_MAJOR << 16) |
	    (WK_VERSION_MINOR << 8) | WK_VERSION_PATCH);
}
END_TEST

static Suite *
error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc;

	tc = new_tcase(s, "error");
	tcase_add_loop_test(tc, test_error_row, 0, (int)ARRAY_SIZE(error_rows));
	tcase_add_test(tc, test_error_table_unique);
	tcase_add_test(tc, test_error_sweep);
	tcase_add_test(tc, test_error_extremes);

	tc = new_tcase(s, "state");
	tcase_add_loop_test(tc, test_state_row, 0, (int)ARRAY_SIZE(state_rows));
	tcase_add_test(tc, test_state_sweep);

	tc = new_tcase(s, "version");
	tcase_add_test(tc, test_version);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(error_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
