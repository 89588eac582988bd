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

#include "macro.h"

typedef enum CellType {
        CELL_STRING,
        CELL_BOOLEAN,
        CELL_UINT64,
        CELL_TIMESTAMP, /* µs since the epoch, 0 = never; JSON keeps the number */
        CELL_BYTES,     /* uint64 byte count, shown as "1.5M" */
        _CELL_TYPE_MAX,
        _CELL_TYPE_INVALID = -EINVAL,
} CellType;

typedef struct Table Table;

/* columns: the column names. For a vertical table pass the two
 * names of the field and value columns; fields are then added as strings. */
Table *table_new_columns(bool vertical, const char *first_column, ...) __attribute__((sentinel));
/* The terminating NULL is added here, typed, so callers list names only. */
#define table_new(vertical, ...) table_new_columns(vertical, __VA_ARGS__, (const char *) NULL)
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Appends one cell; rows wrap after the last column. The value is a const
 * char * for CELL_STRING, an int for CELL_BOOLEAN, a uint64_t otherwise.
 * Returns 0 or -ENOMEM. */
int table_add(Table *t, CellType type, ...);

/* Prints the table to f, as JSON when json is true. */
int table_print(Table *t, bool json, FILE *f);
