# tools/wirecat.mk - the netcat, its manual page and its test
#
# Copyright (C) 2026 The wirekit authors
# SPDX-License-Identifier: LGPL-2.1-or-later

bin_PROGRAMS += tools/wirecat
tools_wirecat_SOURCES = tools/wirecat.c
tools_wirecat_LDADD = lib/libwirekit.la $(PTHREAD_LIBS)
dist_man1_MANS += man/wirecat.1

# The script runs the installed-to-be program against itself on
# loopback, and in network namespaces of its own (tests/wirecat-netns.sh).
test_scripts += tests/check-wirecat.sh
EXTRA_DIST += tests/wirecat-netns.sh
