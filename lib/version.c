/*
 * version.c - the run-time version
 *
 * Copyright (C) 2026 The wirekit authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <wirekit/version.h>

const char *
wk_version(void)
{
	return WK_VERSION_STRING;
}
