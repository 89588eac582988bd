/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <time.h>

#include "table.h"
#include "util.h"

typedef struct Cell {
        CellType type;
        char *text;   /* what people see */
        char *string; /* CELL_STRING: the raw value */
        uint64_t number;
        bool boolean;
} Cell;

struct Table {
        bool vertical;
        char **columns;
        size_t n_columns;
        Cell *cells;
        size_t n_cells;
};

Table *table_new_columns(bool vertical, const char *first_column, ...) {
        _cleanup_(table_freep) Table *t = calloc(1, sizeof(Table));
        va_list ap;

        if (!t)
                return NULL;
        t->vertical = vertical;
        va_start(ap, first_column);
        for (const char *c = first_column; c; c = va_arg(ap, const char *)) {
                char **n = realloc(t->columns, (t->n_columns + 1) * sizeof(char *));
                if (!n || !(n[t->n_columns] = strdup(c))) {
                        if (n)
                                t->columns = n;
                        va_end(ap);
                        return NULL;
                }
                t->columns = n;
                t->n_columns++;
        }
        va_end(ap);
        return t->n_columns > 0 ? TAKE_PTR(t) : NULL;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_columns; i++)
                free(t->columns[i]);
        for (size_t i = 0; i < t->n_cells; i++) {
                free(t->cells[i].text);
                free(t->cells[i].string);
        }
        free(t->columns);
        free(t->cells);
        free(t);
        return NULL;
}

static char *format_bytes(uint64_t n) {
        static const char suffix[] = "BKMGTP";
        double v = (double) n;
        size_t i = 0;
        char *s;

        while (v >= 1024.0 && i < sizeof(suffix) - 2) {
                v /= 1024.0;
                i++;
        }
        if (i == 0)
                return asprintf(&s, "%" PRIu64 "B", n) < 0 ? NULL : s;
        return asprintf(&s, "%.1f%c", v, suffix[i]) < 0 ? NULL : s;
}

static char *format_timestamp(uint64_t usec) {
        char buf[64];
        time_t sec = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0)
                return strdup("never");
        if (!gmtime_r(&sec, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                return strdup("invalid");
        return strdup(buf);
}

int table_add(Table *t, CellType type, ...) {
        Cell c = { .type = type };
        Cell *n;
        va_list ap;

        va_start(ap, type);
        switch (type) {
        case CELL_STRING:
                c.string = strdup(strempty(va_arg(ap, const char *)));
                c.text = c.string ? strdup(c.string) : NULL;
                break;
        case CELL_BOOLEAN:
                c.boolean = va_arg(ap, int);
                c.text = strdup(c.boolean ? "yes" : "no");
                break;
        case CELL_UINT64:
                c.number = va_arg(ap, uint64_t);
                if (asprintf(&c.text, "%" PRIu64, c.number) < 0)
                        c.text = NULL;
                break;
        case CELL_TIMESTAMP:
                c.number = va_arg(ap, uint64_t);
                c.text = format_timestamp(c.number);
                break;
        case CELL_BYTES:
                c.number = va_arg(ap, uint64_t);
                c.text = format_bytes(c.number);
                break;
        default:
                va_end(ap);
                return -EINVAL;
        }
        va_end(ap);
        if (!c.text || (type == CELL_STRING && !c.string)) {
                free(c.text);
                free(c.string);
                return -ENOMEM;
        }
        n = realloc(t->cells, (t->n_cells + 1) * sizeof(Cell));
        if (!n) {
                free(c.text);
                free(c.string);
                return -ENOMEM;
        }
        t->cells = n;
        t->cells[t->n_cells++] = c;
        return 0;
}

static json_object *cell_to_json(const Cell *c) {
        switch (c->type) {
        case CELL_STRING:
                return json_object_new_string(c->string);
        case CELL_BOOLEAN:
                return json_object_new_boolean(c->boolean);
        default:
                return json_object_new_uint64(c->number);
        }
}

/* JSON keys are the column or field names in lower camel case without spaces. */
static char *json_key(const char *name) {
        char *k = malloc(strlen(name) + 1), *o = k;
        bool up = false;

        if (!k)
                return NULL;
        for (const char *p = name; *p; p++) {
                if (*p == ' ' || *p == '-') {
                        up = true;
                        continue;
                }
                char ch = o == k ? (char) tolower_ascii(*p) : up ? (char) toupper_ascii(*p) : *p;
                *o++ = ch;
                up = false;
        }
        *o = 0;
        return k;
}

static int print_json(Table *t, FILE *f) {
        json_object *root;
        size_t stride = t->vertical ? 2 : t->n_columns;

        root = t->vertical ? json_object_new_object() : json_object_new_array();
        if (!root)
                return -ENOMEM;
        for (size_t row = 0; row + stride <= t->n_cells; row += stride) {
                if (t->vertical) {
                        _cleanup_(freep) char *k = json_key(t->cells[row].string);
                        if (k)
                                json_object_object_add(root, k, cell_to_json(&t->cells[row + 1]));
                } else {
                        json_object *o = json_object_new_object();
                        for (size_t col = 0; o && col < t->n_columns; col++) {
                                _cleanup_(freep) char *k = json_key(t->columns[col]);
                                if (k)
                                        json_object_object_add(o, k, cell_to_json(&t->cells[row + col]));
                        }
                        json_object_array_add(root, o);
                }
        }
        fprintf(f, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
        return 0;
}

int table_print(Table *t, bool json, FILE *f) {
        size_t stride = t->vertical ? 2 : t->n_columns;
        size_t width[32] = {};

        if (json)
                return print_json(t, f);
        if (stride > ELEMENTSOF(width))
                return -E2BIG;
        if (!t->vertical)
                for (size_t c = 0; c < stride; c++)
                        width[c] = strlen(t->columns[c]);
        for (size_t i = 0; i < t->n_cells; i++)
                width[i % stride] = MAX(width[i % stride], strlen(t->cells[i].text));

        if (!t->vertical) {
                for (size_t c = 0; c < stride; c++)
                        fprintf(f, "%-*s%s", c + 1 < stride ? (int) width[c] : 0, t->columns[c],
                                c + 1 < stride ? "  " : "\n");
        }
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t c = i % stride;
                if (t->vertical && c == 0)
                        fprintf(f, "%*s: ", (int) width[0], t->cells[i].text);
                else if (t->vertical)
                        fprintf(f, "%s\n", t->cells[i].text);
                else
                        fprintf(f, "%-*s%s", c + 1 < stride ? (int) width[c] : 0, t->cells[i].text,
                                c + 1 < stride ? "  " : "\n");
        }
        return 0;
}
