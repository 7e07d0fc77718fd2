/*
 * wirekit.h - the umbrella header: includes every wirekit module
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_H
#define WIREKIT_H

#include <wirekit/version.h>
#include <wirekit/error.h>
#include <wirekit/addr.h>
#include <wirekit/idn.h>
#include <wirekit/lookup.h>
#include <wirekit/socket.h>
#include <wirekit/server.h>
#include <wirekit/iface.h>
#include <wirekit/udp.h>
#include <wirekit/thread.h>

#endif /* WIREKIT_H */
