# bench/peers/peers.mk - wirekit side by side with raw POSIX, Qt 5, GIO
# and libuv: "make bench-peers" (included by Makefile.am)
#
# Qt, GIO and libuv are optional and configure does not look for them:
# their peers are built by plain rules at "make bench-peers" time, each
# only when pkg-config knows its modules (bench/peers/setup installs
# them on Debian), and shown as "n/a" otherwise.  Nothing here runs or
# needs them during make, make check or make distcheck.
#
# Copyright (C) 2026 The wirekit authors
# SPDX-License-Identifier: LGPL-2.1-or-later

peers_programs = bench/peers/bench_peers bench/peers/peer_posix \
	bench/peers/peer_wirekit
EXTRA_PROGRAMS += $(peers_programs)

# The driver: the DNS server and the namespace of the tests, no wirekit.
bench_peers_bench_peers_SOURCES = bench/peers/bench_peers.c \
	bench/peers/peer.h tests/dnsd.c tests/dnsd.h tests/netns.c \
	tests/netns.h
bench_peers_bench_peers_CFLAGS = $(AM_CFLAGS) -O2
bench_peers_bench_peers_LDADD = $(PTHREAD_LIBS)

bench_peers_peer_posix_SOURCES = bench/peers/peer_posix.c bench/peers/peer.h
bench_peers_peer_posix_CFLAGS = $(AM_CFLAGS) -O2
bench_peers_peer_posix_LDADD = $(PTHREAD_LIBS)

bench_peers_peer_wirekit_SOURCES = bench/peers/peer_wirekit.c \
	bench/peers/peer.h
bench_peers_peer_wirekit_CFLAGS = $(AM_CFLAGS) -O2
bench_peers_peer_wirekit_LDADD = lib/libwirekit.la $(PTHREAD_LIBS)

# The optional peers: sources distributed, never built by "all".
peers_optional = bench/peers/peer_qt bench/peers/peer_gio bench/peers/peer_uv
EXTRA_DIST += bench/peers/setup bench/peers/README bench/peers/RESULTS.md \
	bench/peers/peer_qt.cpp bench/peers/peer_gio.c bench/peers/peer_uv.c
CLEANFILES += $(peers_optional)

peers_cflags = -O2 $(STD_CFLAGS) $(WARN_CFLAGS) $(PTHREAD_CFLAGS) $(CFLAGS)

# Qt 5 wants position-independent code (its headers say so).
bench/peers/peer_qt: $(srcdir)/bench/peers/peer_qt.cpp \
		$(srcdir)/bench/peers/peer.h
	@$(MKDIR_P) bench/peers
	$(CXX) -O2 -fPIC -Wall -Wextra $(CXXFLAGS) \
		`$(PKG_CONFIG) --cflags Qt5Network Qt5Core` \
		-o $@ $(srcdir)/bench/peers/peer_qt.cpp \
		`$(PKG_CONFIG) --libs Qt5Network Qt5Core` $(PTHREAD_LIBS)

bench/peers/peer_gio: $(srcdir)/bench/peers/peer_gio.c \
		$(srcdir)/bench/peers/peer.h
	@$(MKDIR_P) bench/peers
	$(CC) $(peers_cflags) `$(PKG_CONFIG) --cflags gio-2.0 glib-2.0` \
		-o $@ $(srcdir)/bench/peers/peer_gio.c \
		`$(PKG_CONFIG) --libs gio-2.0 glib-2.0` $(PTHREAD_LIBS)

bench/peers/peer_uv: $(srcdir)/bench/peers/peer_uv.c \
		$(srcdir)/bench/peers/peer.h
	@$(MKDIR_P) bench/peers
	$(CC) $(peers_cflags) `$(PKG_CONFIG) --cflags libuv` \
		-o $@ $(srcdir)/bench/peers/peer_uv.c \
		`$(PKG_CONFIG) --libs libuv` $(PTHREAD_LIBS)

# Each optional peer when its modules are there (a stale one goes
# otherwise), then the one table.  A peer that is there but does not
# build is an error, not an "n/a".
bench-peers: bench/peers/bench_peers$(EXEEXT) bench/peers/peer_posix$(EXEEXT) \
		bench/peers/peer_wirekit$(EXEEXT)
	@for m in 'peer_qt:Qt5Network Qt5Core' 'peer_gio:gio-2.0 glib-2.0' \
	    'peer_uv:libuv'; do \
		p=bench/peers/$${m%%:*}; mods=$${m#*:}; \
		if $(PKG_CONFIG) --exists $$mods; then \
			$(MAKE) $(AM_MAKEFLAGS) $$p || exit 1; \
		else \
			echo "bench-peers: pkg-config has no $$mods:" \
			    "$$p is n/a (see bench/peers/setup)"; \
			rm -f $$p; \
		fi; \
	done
	$(top_builddir)/bench/peers/bench_peers $(top_builddir)/bench/peers
.PHONY: bench-peers
