# tools/wirelookup.mk - the bulk resolver, its manual page and its test
#
# Copyright (C) 2026 The wirekit authors
# SPDX-License-Identifier: LGPL-2.1-or-later

bin_PROGRAMS += tools/wirelookup
tools_wirelookup_SOURCES = tools/wirelookup.c
tools_wirelookup_LDADD = lib/libwirekit.la $(PTHREAD_LIBS)
dist_man1_MANS += man/wirelookup.1

# The suite runs the program: build it first.
check_suites += tests/check_wirelookup
tests_check_wirelookup_SOURCES = tests/check_wirelookup.c \
	tests/dnsd.c tests/dnsd.h tests/netns.c tests/netns.h
tests_check_wirelookup_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_wirelookup_LDADD = lib/libwirekit.la $(CHECK_LIBS) $(PTHREAD_LIBS)
EXTRA_tests_check_wirelookup_DEPENDENCIES = tools/wirelookup$(EXEEXT)
