/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one output path of endpointctl: a table of typed cells printed either
 * aligned for people or, with --json, as JSON built by json-c.
 *
 * A vertical table is a list of "Field: value" lines and becomes one JSON
 * object; a horizontal table has a header and becomes an array of objects
 * keyed by the column names. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "ctl.h"
#include "macro.h"

typedef enum CellType {
        CELL_STRING,
        CELL_BOOLEAN,
        CELL_UINT64,
        CELL_TIMESTAMP, /* µs since the epoch, 0 = never; JSON keeps the number */
        CELL_BYTES, /* uint64 byte count, shown as "1.5M" */
        CELL_DIGEST, /* hex string, shortened on a terminal unless --full */
        _CELL_TYPE_MAX,
        _CELL_TYPE_INVALID = -EINVAL,
} CellType;

/* How a cell is shown on a colour terminal: good news, a warning, bad news. */
typedef enum TableColor {
        TABLE_COLOR_NONE,
        TABLE_COLOR_GOOD,
        TABLE_COLOR_WARN,
        TABLE_COLOR_BAD,
        _TABLE_COLOR_MAX,
        _TABLE_COLOR_INVALID = -EINVAL,
} TableColor;

typedef struct Table Table;

/* columns: the column names. For a vertical table pass the two
 * names of the field and value columns; fields are then added as strings. */
Table *table_new_columns(bool vertical, const char *first_column, ...) __attribute__((sentinel));
/* The terminating NULL is added here, typed, so callers list names only. */
#define table_new(vertical, ...) table_new_columns(vertical, __VA_ARGS__, (const char *) NULL)
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Appends one cell; rows wrap after the last column. The value is a const
 * char * for CELL_STRING and CELL_DIGEST, an int for CELL_BOOLEAN, a uint64_t otherwise.
 * Returns 0 or -ENOMEM. */
int table_add(Table *t, CellType type, ...);

/* Colours the cell added last. Shown only on a terminal, and neither with
 * NO_COLOR set nor with TERM=dumb. Returns 0 or -EINVAL. */
int table_set_color(Table *t, TableColor color);

/* Prints the table to f, as JSON unless json is JSON_OFF. For people: the
 * headers of a horizontal table in upper case (none with --no-legend),
 * times in local time (UTC with --utc); on a terminal, unless --full,
 * digests shortened and cells ellipsized so that no line is wider than the
 * terminal. Returns 0 or -ENOMEM. */
int table_print(Table *t, JsonFormat json, FILE *f);

/* The table as JSON (an object for a vertical table, an array of objects
 * otherwise); the caller owns the reference. NULL on OOM. */
json_object *table_to_json(Table *t);

/* Prints o as --json asks (pretty or short; pretty if --json is off) and
 * drops the reference to o. Returns 0 or -ENOMEM. */
int json_print(json_object *o, FILE *f);

/* usec (µs since the epoch) as a person reads it: local time (UTC with
 * --utc), "never" for 0. Returns a malloc'ed string or NULL. */
char *format_timestamp(uint64_t usec);

/* The width of the terminal on fd, $COLUMNS first; 0 when fd is not a
 * terminal (standard output going to the pager counts as one). */
unsigned terminal_columns(int fd);

/* Display width of s in the current locale (bytes that do not decode count
 * one column each). */
size_t text_width(const char *s);

/* A copy of s cut to at most width columns, ending in an ellipsis when cut.
 * NULL on OOM. */
char *text_ellipsize(const char *s, size_t width);
