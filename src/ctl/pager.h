/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Long output on a terminal goes through a pager, as with systemctl:
 * $SYSTEMD_PAGER, else $PAGER, else less, else more; "" or "cat" means none.
 * less gets LESS=$SYSTEMD_LESS or "FRSXMK" (quit if one screen, raw colour
 * codes, chop long lines, no screen clearing), and LESSSECURE=1 when run
 * as root, so that the pager cannot be used to run commands. */

#include <stdbool.h>

/* Starts the pager if standard output is a terminal, TERM is not "dumb" and
 * --no-pager was not given; standard output then goes to it. The terminal's
 * width is kept in $COLUMNS so that tables stay fitted to it. Returns 0
 * (also when no pager was started) or a negative errno having printed why. */
int pager_open(bool no_pager);

/* Flushes standard output, ends the pipe and waits for the pager to exit. */
void pager_close(void);

/* Whether fd is a terminal; standard output counts as one while it goes
 * to a pager started for a terminal. */
bool on_terminal(int fd);
