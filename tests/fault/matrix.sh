#!/bin/sh
#
# matrix.sh - "make check-faults": the socket, lookup and callback suites
# under a matrix of fault rules injected by tests/fault/libwkfault.so
#
# Each cell is one suite run with LD_PRELOAD and WK_FAULT set (see the
# comment at the top of tests/fault/fault.c for the rule syntax); the
# faults hit only calls made from libwirekit's own code.  Rules are of
# two classes:
#
#   transparent  EINTR, short reads and writes, EAGAIN on TCP, delays:
#                things a correct program never notices.  Every test
#                must pass.
#   resource     EMFILE, ENOMEM (malloc NULL), pthread_create EAGAIN,
#                ENOBUFS, ECONNRESET, EAI_AGAIN, and EAGAIN on UDP (a
#                full send buffer is WK_TEMPORARY for a datagram, as
#                documented): a test may fail by a Check assertion (the
#                library reported the error), never by a signal, a
#                timeout, a sanitizer report or an exit that is not
#                Check's.
#
# A cell is "bad" when it crashed (a signal), hung (Check's test timeout
# or the outer timeout), died outside Check, or, for a transparent rule,
# had any failure.  The exit status is 1 when any cell is bad, 77 for a
# sanitizer build (which cannot be measured this way), 99 when the
# preload does not reach the tests.
#
# libtool's execute mode runs the real binary (tests/.libs/check_X, or
# check_lookup itself, which has the static core library) in place of
# its wrapper script, and env starts it with the preload; the summary
# lines the library writes at every exit (WK_FAULT_VERBOSE=1) give the
# table's count of injected faults.
#
# Environment: top_builddir, top_srcdir, LIBTOOL (set by make);
# FAULT_SUITES (default "tcp udp lookup thread serve"), FAULT_RULES (an
# extended regular expression on the rule names to run only some),
# FAULT_TIMEOUT (seconds per suite run, default 900; Check's own test
# timeouts catch a hung test long before), FAULT_JOBS (resource cells
# run at once, default 2; transparent ones always run alone),
# FAULT_LOGDIR (default $top_builddir/tests/fault/logs, where the log of
# every cell stays).
#
# Copyright (C) 2026 The wirekit authors
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
LIBTOOL=${LIBTOOL:-$top_builddir/libtool}
suites=${FAULT_SUITES:-tcp udp lookup thread serve}
only=${FAULT_RULES:-.}
run_timeout=${FAULT_TIMEOUT:-900}
jobs=${FAULT_JOBS:-2}
logdir=${FAULT_LOGDIR:-$top_builddir/tests/fault/logs}
preload=$top_builddir/tests/fault/.libs/libwkfault.so

# Check's own per-test timeout, for the test cases that do not set one,
# and all of them half as long again: some tests give up waiting after
# as long as their test case's timeout (check_lookup: 60 s), and such a
# test must fail by its assertion, not be taken for a hang.
CK_DEFAULT_TIMEOUT=120
CK_TIMEOUT_MULTIPLIER=1.5
export CK_DEFAULT_TIMEOUT CK_TIMEOUT_MULTIPLIER
unset CK_FORK CK_RUN_SUITE CK_RUN_CASE WK_FAULT WK_FAULT_VERBOSE
# The lib/ sources, for a suite linked with the static core library.
WK_FAULT_SOURCES=$(cd "$top_srcdir/lib" && echo *.c)
export WK_FAULT_SOURCES

if test ! -f "$preload"; then
	echo "matrix.sh: $preload is not built (make tests/fault/libwkfault.la)" >&2
	exit 99
fi
for s in $suites; do
	if test ! -x "$top_builddir/tests/check_$s"; then
		echo "matrix.sh: $top_builddir/tests/check_$s is not built" >&2
		exit 99
	fi
done
if command -v timeout >/dev/null 2>&1; then
	timeout="timeout -k 10 $run_timeout"
else
	timeout=
fi

# A sanitizer's runtime would have to come first in LD_PRELOAD, and its
# interceptors would sit between libwirekit and the wrappers (which then
# see the runtime as their caller): a sanitized build cannot be measured.
if grep -q 'libasan\|libtsan\|libubsan' "$top_builddir/lib/libwirekit.la" \
    2>/dev/null || grep -q '^SANITIZER_CFLAGS = .*sanitize' \
    "$top_builddir/Makefile" 2>/dev/null; then
	echo "matrix.sh: skipped: the fault matrix needs a build without sanitizers"
	exit 77
fi

# ---------------------------------------------------------------- the rules

# name  class  suites  WK_FAULT
#
# A rule runs on the suites in which libwirekit makes the call it fails:
# check_lookup makes no socket calls of its own (its lookups go through a
# fake backend, its DNS through the test's own server), check_udp no
# accept, pthread_create or getaddrinfo, check_serve no connect or
# getaddrinfo, and check_udp's tests few allocations (4 each at most).
#
# Rules with /run in their name count calls across the whole suite run
# (scope=run): one fault in one test.  The others count per forked test:
# nth=N fails the Nth such call in every test.  check_thread and
# check_lookup take the /run forms: their tests wait up to 30 and 60 s
# for an event a fault has prevented, and a fault in every test would
# take a quarter of an hour per cell.
rules='
eintr-all-30%       transparent tcp,udp,thread,serve  call=all,err=EINTR,rate=0.3,seed=1
short-io-50%        transparent tcp,udp,thread,serve  call=io,short=1,rate=0.5,seed=2
eagain-tcp-30%      transparent tcp,thread,serve      call=io,err=EAGAIN,rate=0.3,type=stream,seed=3
delay-recv-50ms-5%  transparent tcp,udp,thread,serve  call=recv|recvfrom|recvmsg,delay=50,rate=0.05,seed=4
eagain-udp-30%      resource    udp,thread            call=io,err=EAGAIN,rate=0.3,type=dgram,seed=3
emfile-accept-3rd   resource    serve                 call=accept|accept4,err=EMFILE,nth=3
emfile-socket-2nd   resource    tcp,udp,serve         call=socket,err=EMFILE,nth=2
eagain-thread-1st   resource    tcp,serve             call=pthread_create,err=EAGAIN,nth=1
eai-again-1st       resource    tcp                   call=getaddrinfo,err=EAI_AGAIN,nth=1
econnreset-connect  resource    tcp,udp               call=connect,err=ECONNRESET,nth=1
enobufs-connect     resource    tcp,udp               call=connect,err=ENOBUFS,nth=1
enobufs-send-1st    resource    tcp,udp,serve         call=send|sendto|sendmsg,err=ENOBUFS,nth=1
emfile-socket/run   resource    thread                call=socket,err=EMFILE,nth=2,scope=run
eagain-thread/run   resource    thread,lookup         call=pthread_create,err=EAGAIN,nth=1,scope=run
eai-again/run       resource    lookup                call=getaddrinfo,err=EAI_AGAIN,nth=1,scope=run
econnreset/run      resource    thread                call=connect,err=ECONNRESET,nth=1,scope=run
enobufs-send/run    resource    thread                call=send|sendto|sendmsg,err=ENOBUFS,nth=1,scope=run
'
for n in 1 2 3 5 8 13 21 34 55 89; do
	if test "$n" -le 5; then where=tcp,udp,serve; else where=tcp,serve; fi
	rules="$rules
malloc-null-$n resource $where call=alloc,err=ENOMEM,nth=$n"
done
for n in 1 30 1000 10000; do
	rules="$rules
malloc-null-$n/run resource thread,lookup call=alloc,err=ENOMEM,nth=$n,scope=run"
done

# ---------------------------------------------------------------- one cell

mkdir -p "$logdir" || exit 99
rm -f "$logdir"/*.log "$logdir/verdicts"

# Runs suite $2 under rule $3 into log $1; sets rc.
run_cell()
{
	# libtool's execute mode puts the real binary (not its wrapper
	# script) in place of tests/check_X, with libwirekit's directory in
	# the library path; env then starts it with the preload set.
	cell=wkfault-$$-$(basename "$1" .log)
	# $LIBTOOL is a command line ("/bin/bash ./libtool" from make).
	# shellcheck disable=SC2086
	$timeout $LIBTOOL --mode=execute env LD_PRELOAD="$preload" \
	    WK_FAULT="$3" WK_FAULT_VERBOSE=1 WK_FAULT_CELL="$cell" \
	    "$top_builddir/tests/check_$2" >"$1" 2>&1
	rc=$?
	case $rc in 124|137) reap "$cell" ;; esac
}

# After the outer timeout: Check's forked tests are in process groups of
# their own, out of timeout's reach.  Kills, by process id, those whose
# environment carries this cell's mark.
reap()
{
	for env in /proc/[0-9]*/environ; do
		pid=${env#/proc/}
		pid=${pid%/environ}
		if tr '\0' '\n' <"$env" 2>/dev/null | grep -q -x "WK_FAULT_CELL=$1"
		then
			kill -9 "$pid" 2>/dev/null
		fi
	done
}

# Classifies the log $1 of a run that exited with $2 under class $3: sets
# result (the table's text), verdict (pass, fail, skip, bad) and inj.
classify()
{
	log=$1 status=$2 class=$3
	inj=$(sed -n 's/^wkfault\[.*calls matched, \([0-9]*\) injected$/\1/p' \
	    "$log" | awk '{ s += $1 } END { print s + 0 }')
	summary=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n 1)
	nfail=$(grep -c ':F:' "$log")
	nsig=$(grep -c 'Received signal' "$log")
	nhang=$(grep -c 'Test timeout expired' "$log")
	nerr=$(grep -c ':E:' "$log")
	nsan=$(grep -c -E 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$log")
	if test "$status" -eq 77; then
		result=skip verdict=skip
	elif test "$status" -eq 124 || test "$status" -eq 137; then
		result="HANG (outer timeout ${run_timeout}s)" verdict=bad
	elif grep -q '^wkfault: ' "$log"; then
		result="BAD RULE ($(grep '^wkfault: ' "$log" | head -n 1))" verdict=bad
	elif test "$nsig" -gt 0; then
		result="CRASH ($nsig tests by a signal)" verdict=bad
	elif test "$nhang" -gt 0; then
		result="HANG ($nhang tests timed out)" verdict=bad
	elif test "$nsan" -gt 0; then
		result="SANITIZER ($nsan reports)" verdict=bad
	elif test -z "$summary"; then
		result="CRASH (exit $status, no Check summary)" verdict=bad
	elif test "$nerr" -gt 0; then
		result="ERROR ($nerr tests died outside Check)" verdict=bad
	elif test "$nfail" -gt 0; then
		result="$nfail tests failed by assertion"
		if test "$class" = transparent; then
			result="FAIL: $result (a transparent fault)"
			verdict=bad
		else
			verdict=fail
		fi
	elif test "$status" -ne 0; then
		result="BAD (exit $status without a failed test)" verdict=bad
	else
		result=pass verdict=pass
	fi
}

# ---------------------------------------------------------------- the check that it reaches

# The preload must reach the test binary itself (not only libtool's shell
# or the wrapper script) and find libwirekit there: a rule that always
# fires on the calls check_udp makes must be seen injecting in it.
probe=$logdir/probe.log
run_cell "$probe" udp 'call=all,err=EINTR,rate=0.3'
if ! grep -q '^wkfault\[[0-9]*\] \(lt-\)\{0,1\}check_udp: .* [1-9][0-9]* injected$' \
    "$probe"; then
	echo "matrix.sh: the preload did not reach tests/check_udp (see $probe)" >&2
	exit 99
fi

# ---------------------------------------------------------------- the matrix

# One cell: runs, classifies, prints its row, records its verdict.
cell()
{
	name=$1 class=$2 s=$3 spec=$4
	log=$logdir/$(echo "$name" | tr '/%' '-p').$s.log
	t0=$(date +%s)
	run_cell "$log" "$s" "$spec"
	t1=$(date +%s)
	classify "$log" "$rc" "$class"
	printf '%-22s | %-11s | %-6s | %8s | %5s | %s\n' "$name" "$class" \
	    "$s" "$inj" $((t1 - t0)) "$result"
	echo "$verdict $name.$s" >>"$logdir/verdicts"
}

cells=0 passed=0 failed=0 bad=0 skipped=0
badlist=
start=$(date +%s)
printf '%-22s | %-11s | %-6s | %8s | %5s | %s\n' rule class suite injected secs result
printf '%s\n' '-----------------------+-------------+--------+----------+-------+-------'
# Transparent cells one at a time; resource cells, which mostly wait for
# what a fault prevented, $jobs at a time (their rows come as they end).
echo "$rules" | {
	running=0
	while read -r name class where spec; do
		test -n "$name" || continue
		echo "$name" | grep -q -E -e "$only" || continue
		for s in $suites; do
			case ",$where," in *",$s,"*) ;; *) continue ;; esac
			if test "$class" = transparent || test "$jobs" -le 1; then
				cell "$name" "$class" "$s" "$spec"
				continue
			fi
			cell "$name" "$class" "$s" "$spec" &
			running=$((running + 1))
			if test "$running" -ge "$jobs"; then
				wait
				running=0
			fi
		done
	done
	wait
}
# (The loop ran in a subshell: the counts come back through the file.)
if test -f "$logdir/verdicts"; then
	cells=$(wc -l <"$logdir/verdicts")
	passed=$(grep -c '^pass ' "$logdir/verdicts")
	failed=$(grep -c '^fail ' "$logdir/verdicts")
	bad=$(grep -c '^bad ' "$logdir/verdicts")
	skipped=$(grep -c '^skip ' "$logdir/verdicts")
	badlist=$(sed -n 's/^bad //p' "$logdir/verdicts" | tr '\n' ' ')
	rm -f "$logdir/verdicts"
fi
end=$(date +%s)

echo
echo "fault matrix: $cells cells, $passed passed, $failed failed-by-assertion (allowed), $bad bad, $skipped skipped ($((end - start)) s; logs in $logdir)"
if test "$bad" -gt 0; then
	echo "bad cells: $badlist"
	exit 1
fi
exit 0
