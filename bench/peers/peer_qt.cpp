/*
 * peer_qt.cpp - Qt 5's share of bench/peers: QTcpSocket and QTcpServer
 * through their waitFor* calls alone (no event loop) for TCP, and
 * QHostInfo::lookupHost() on the event loop of a QCoreApplication for
 * lookups
 *
 * usage: peer_qt tcp WORK COUNT | dns N   (see peer.h)
 *
 * Built only by "make bench-peers", when pkg-config knows Qt5Network.
 * No Q_OBJECT, so no moc: the server thread overrides QThread::run()
 * and the lookups report to a lambda.
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <QtCore/QCoreApplication>
#include <QtCore/QSemaphore>
#include <QtCore/QThread>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QHostInfo>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

#include <vector>

#include "peer.h"

static void
check(QAbstractSocket &s, bool ok, const char *what)
{
	if (!ok)
		peer_die(what, s.errorString().toLocal8Bit().constData());
}

/* ---------------------------------------------------------------- TCP */

/* Waits until n bytes are buffered, then takes them. */
static void
read_exactly(QTcpSocket &s, char *buf, qint64 n)
{
	while (s.bytesAvailable() < n)
		check(s, s.waitForReadyRead(-1), "waitForReadyRead");
	check(s, s.read(buf, n) == n, "read");
}

/* write() buffers it all: wait until the kernel has it, as send(2). */
static void
write_all(QTcpSocket &s, const char *buf, qint64 n)
{
	check(s, s.write(buf, n) == n, "write");
	while (s.bytesToWrite() > 0)
		check(s, s.waitForBytesWritten(-1), "waitForBytesWritten");
}

struct Run {
	enum peer_work work;
	long count;
	quint16 port;
	QSemaphore listening;
	QSemaphore window;
};

/*
 * The server end on a QThread: its socket notifiers need a thread Qt
 * started.  Listening is done before the client's clock starts.
 */
class ServerThread : public QThread {
public:
	explicit ServerThread(Run *r) : run_(r) {}

protected:
	void
	run() override
	{
		static char buf[PEER_BULK_READ];
		QTcpServer srv;
		char msg[PEER_PING_SIZE];
		long n = run_->work == PEER_CONNECT ? run_->count : 1;

		if (!srv.listen(QHostAddress::LocalHost, 0))
			peer_die("listen",
			    srv.errorString().toLocal8Bit().constData());
		run_->port = srv.serverPort();
		run_->listening.release();
		for (long i = 0; i < n; i++) {
			QTcpSocket *c;
			qint64 got;

			/*
			 * A wait accepts every connection the kernel has
			 * queued: wait only when none is pending.
			 */
			if (!srv.hasPendingConnections() &&
			    !srv.waitForNewConnection(-1))
				peer_die("waitForNewConnection",
				    srv.errorString().toLocal8Bit().constData());
			c = srv.nextPendingConnection();
			run_->window.release();
			if (run_->work == PEER_PINGPONG) {
				c->setSocketOption(QAbstractSocket::LowDelayOption,
				    1);
				for (long t = 0; t < run_->count; t++) {
					read_exactly(*c, msg, sizeof(msg));
					write_all(*c, msg, sizeof(msg));
				}
			} else if (run_->work != PEER_CONNECT) {
				/* Waits only when nothing is buffered. */
				for (long left = run_->count; left > 0;
				    left -= got) {
					if (c->bytesAvailable() == 0)
						check(*c, c->waitForReadyRead(-1),
						    "waitForReadyRead");
					check(*c, (got = c->read(buf,
					    sizeof(buf))) > 0, "read");
				}
			}
			delete c;	/* closes it */
		}
	}

private:
	Run *run_;
};

static void
dial(QTcpSocket &s, quint16 port)
{
	s.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
	check(s, s.waitForConnected(-1), "waitForConnected");
}

static void
client_side(Run &r)
{
	static char data[64 * 1024];
	char msg[PEER_PING_SIZE] = "ping";
	QTcpSocket s;

	if (r.work == PEER_CONNECT) {
		/* One socket, reconnected, as wirekit's side does. */
		for (long i = 0; i < r.count; i++) {
			r.window.acquire();
			dial(s, r.port);
			s.abort();
		}
	} else if (r.work == PEER_PINGPONG) {
		s.setSocketOption(QAbstractSocket::LowDelayOption, 1);
		dial(s, r.port);
		for (long i = 0; i < r.count; i++) {
			write_all(s, msg, sizeof(msg));
			read_exactly(s, msg, sizeof(msg));
		}
	} else {
		qint64 chunk = (qint64)peer_chunk(r.work);

		dial(s, r.port);
		for (long left = r.count; left > 0; left -= (long)chunk)
			write_all(s, data, chunk);
	}
}

static void
tcp(enum peer_work w, long count)
{
	Run r;
	double start, cpu;

	r.work = w;
	r.count = count;
	r.port = 0;
	r.window.release(PEER_CONNECT_WINDOW);
	ServerThread server(&r);
	server.start();
	r.listening.acquire();
	cpu = peer_cpu();
	start = peer_now();
	client_side(r);
	server.wait();
	start = peer_now() - start;
	cpu = peer_cpu() - cpu;
	peer_tcp_report(w, count, start, cpu);
}

/* ---------------------------------------------------------------- DNS */

struct Lookup {
	char name[64];
	char want[16];
};

static void
dns(QCoreApplication &app, int n)
{
	std::vector<Lookup> l((size_t)n);
	int done = 0, right = 0;
	double t;

	for (int p = 0; p < PEER_PHASE_COUNT; p++) {
		for (int i = 0; i < n; i++)
			peer_dns_name((enum peer_phase)p, i, l[i].name,
			    sizeof(l[i].name), l[i].want, sizeof(l[i].want));
		done = right = 0;
		t = peer_now();
		for (int i = 0; i < n; i++) {
			const Lookup *want = &l[i];

			QHostInfo::lookupHost(QString::fromLatin1(l[i].name),
			    &app, [&, want](const QHostInfo &info) {
				const QList<QHostAddress> a = info.addresses();
				bool ok = info.error() == QHostInfo::NoError &&
				    !a.isEmpty();

				for (const QHostAddress &one : a)
					ok = ok && one.toString() ==
					    QLatin1String(want->want);
				right += ok;
				if (++done == n)
					app.quit();
			});
		}
		app.exec();
		peer_dns_report((enum peer_phase)p, peer_now() - t, right, n);
	}
}

int
main(int argc, char **argv)
{
	QCoreApplication app(argc, argv);
	long count;
	int w, n;

	if ((w = peer_parse_tcp(argc, argv, &count)) >= 0)
		tcp((enum peer_work)w, count);
	else if ((n = peer_parse_dns(argc, argv)) > 0)
		dns(app, n);
	else {
		fprintf(stderr, "usage: peer_qt tcp WORK COUNT | dns N\n");
		return 2;
	}
	return 0;
}
