#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Not written yet.
. "$top_srcdir/tests/attack/lib.sh"
ep_skip "not written yet"
