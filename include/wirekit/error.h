/*
 * wirekit/error.h - error codes and socket states
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef WIREKIT_ERROR_H
#define WIREKIT_ERROR_H

#include <wirekit/common.h>

WK_BEGIN_DECLS

/*
 * The one table of error codes: enumerator, value, message.  The values
 * are wirekit's own (WK_NO_ERROR is 0); the set is Qt's
 * QAbstractSocket::SocketError plus WK_INVALID_ARGUMENT.
 */
#define WK_ERROR_TABLE(X)                                                   \
	X(WK_NO_ERROR, 0, "No error")                                       \
	X(WK_CONNECTION_REFUSED, 1, "Connection refused")                   \
	X(WK_REMOTE_HOST_CLOSED, 2, "The remote host closed the connection") \
	X(WK_HOST_NOT_FOUND, 3, "Host not found")                           \
	X(WK_SOCKET_ACCESS, 4, "Permission denied")                         \
	X(WK_SOCKET_RESOURCE, 5, "Out of resources")                        \
	X(WK_SOCKET_TIMEOUT, 6, "Operation timed out")                      \
	X(WK_DATAGRAM_TOO_LARGE, 7, "Datagram too large")                   \
	X(WK_NETWORK, 8, "Network error")                                   \
	X(WK_ADDRESS_IN_USE, 9, "Address already in use")                   \
	X(WK_ADDRESS_NOT_AVAILABLE, 10, "Address not available")            \
	X(WK_UNSUPPORTED_OPERATION, 11, "Operation not supported")          \
	X(WK_UNFINISHED_OPERATION, 12, "Operation still in progress")       \
	X(WK_OPERATION, 13, "Operation not allowed in this state")          \
	X(WK_TEMPORARY, 14, "Temporary error, try again")                   \
	X(WK_UNKNOWN, 15, "Unknown error")                                  \
	X(WK_INVALID_ARGUMENT, 16, "Invalid argument")

typedef enum wk_error {
#define WK_ERROR_ENUM_(name, value, msg) name = value,
	WK_ERROR_TABLE(WK_ERROR_ENUM_)
#undef WK_ERROR_ENUM_
} wk_error;

/* The socket states of Qt's QAbstractSocket::SocketState. */
#define WK_STATE_TABLE(X)                                                   \
	X(WK_STATE_UNCONNECTED, 0)                                          \
	X(WK_STATE_HOST_LOOKUP, 1)                                          \
	X(WK_STATE_CONNECTING, 2)                                           \
	X(WK_STATE_CONNECTED, 3)                                            \
	X(WK_STATE_BOUND, 4)                                                \
	X(WK_STATE_LISTENING, 5)                                            \
	X(WK_STATE_CLOSING, 6)

typedef enum wk_state {
#define WK_STATE_ENUM_(name, value) name = value,
	WK_STATE_TABLE(WK_STATE_ENUM_)
#undef WK_STATE_ENUM_
} wk_state;

WK_API const char *wk_error_name(wk_error code);
WK_API const char *wk_error_message(wk_error code);
WK_API const char *wk_state_name(wk_state state);

WK_END_DECLS

#endif /* WIREKIT_ERROR_H */
