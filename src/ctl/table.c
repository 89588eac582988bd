/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <json-c/json.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "pager.h"
#include "table.h"
#include "util.h"

typedef struct Cell {
        CellType type;
        TableColor color;
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

char *format_timestamp(uint64_t usec) {
        char buf[64];
        time_t sec = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0)
                return strdup("never");
        if (!(arg_utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm)) ||
            strftime(buf, sizeof(buf), arg_utc ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
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
        case CELL_DIGEST:
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
        if (!c.text || ((type == CELL_STRING || type == CELL_DIGEST) && !c.string)) {
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
        case CELL_DIGEST:
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

json_object *table_to_json(Table *t) {
        json_object *root;
        size_t stride = t->vertical ? 2 : t->n_columns;

        root = t->vertical ? json_object_new_object() : json_object_new_array();
        if (!root)
                return NULL;
        for (size_t row = 0; row + stride <= t->n_cells; row += stride) {
                if (t->vertical) {
                        _cleanup_(freep) char *k = json_key(t->cells[row].string);
                        if (!k || json_object_object_add(root, k, cell_to_json(&t->cells[row + 1])) < 0)
                                return json_object_put(root), NULL;
                } else {
                        json_object *o = json_object_new_object();
                        if (!o || json_object_array_add(root, o) < 0) {
                                json_object_put(o);
                                return json_object_put(root), NULL;
                        }
                        for (size_t col = 0; col < t->n_columns; col++) {
                                _cleanup_(freep) char *k = json_key(t->columns[col]);
                                if (!k ||
                                    json_object_object_add(o, k, cell_to_json(&t->cells[row + col])) < 0)
                                        return json_object_put(root), NULL;
                        }
                }
        }
        return root;
}

int json_print(json_object *o, FILE *f) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                    (arg_json == JSON_SHORT ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY);
        const char *s;

        if (!o)
                return -ENOMEM;
        s = json_object_to_json_string_ext(o, flags);
        if (s)
                fprintf(f, "%s\n", s);
        json_object_put(o);
        return s ? 0 : -ENOMEM;
}

unsigned terminal_columns(int fd) {
        const char *e = getenv("COLUMNS");
        struct winsize ws = {};
        uint64_t n;

        if (!on_terminal(fd))
                return 0;
        if (e && parse_uint64(e, 10000, &n) >= 0 && n > 0)
                return (unsigned) n;
        if (ioctl(fd, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

static bool locale_is_utf8(void) {
        const char *cs = nl_langinfo(CODESET);
        return cs && streq(cs, "UTF-8");
}

/* Decodes one character at s: its length in bytes and display width. */
static size_t char_next(const char *s, size_t *ret_width) {
        mbstate_t st = {};
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
        int w;

        if (n == (size_t) -1 || n == (size_t) -2 || n == 0) {
                *ret_width = 1;
                return 1;
        }
        w = wcwidth(wc);
        *ret_width = w < 0 ? 1 : (size_t) w;
        return n;
}

size_t text_width(const char *s) {
        size_t w = 0, cw;

        while (*s) {
                s += char_next(s, &cw);
                w += cw;
        }
        return w;
}

char *text_ellipsize(const char *s, size_t width) {
        const char *ellipsis = locale_is_utf8() ? "\u2026" : "...";
        size_t ew = locale_is_utf8() ? 1 : 3, w = 0, cw;
        const char *p = s;
        char *r;

        if (text_width(s) <= width)
                return strdup(s);
        if (width < ew)
                return strndup("...", width);
        if (width == ew)
                return strdup(ellipsis);
        while (*p) {
                size_t n = char_next(p, &cw);
                if (w + cw > width - ew)
                        break;
                w += cw;
                p += n;
        }
        r = malloc((size_t) (p - s) + strlen(ellipsis) + 1);
        if (!r)
                return NULL;
        memcpy(r, s, (size_t) (p - s));
        strcpy(r + (p - s), ellipsis);
        return r;
}

/* What people see of a cell: digests shortened on a terminal. */
static char *cell_display(const Cell *c, bool shorten, size_t width) {
        if (c->type == CELL_DIGEST && shorten && strlen(c->text) > 12) {
                _cleanup_(freep) char *d = text_ellipsize(c->text, locale_is_utf8() ? 13 : 15);
                return d ? text_ellipsize(d, width) : NULL;
        }
        return text_ellipsize(c->text, width);
}

/* Whether column c holds text that can be cut (the values of a vertical table do). */
static bool column_is_text(const Table *t, size_t c) {
        size_t stride = t->vertical ? 2 : t->n_columns;

        if (t->vertical)
                return c == 1;
        for (size_t i = c; i < t->n_cells; i += stride)
                if (t->cells[i].type != CELL_STRING && t->cells[i].type != CELL_DIGEST)
                        return false;
        return true;
}

/* Colour for people on a terminal, unless NO_COLOR is set or TERM=dumb. */
static bool colors_enabled(FILE *f) {
        const char *term = getenv("TERM");

        return on_terminal(fileno(f)) && !getenv("NO_COLOR") && !streq_ptr(term, "dumb");
}

static const char *const color_sequences[_TABLE_COLOR_MAX] = {
        [TABLE_COLOR_NONE] = NULL,
        [TABLE_COLOR_GOOD] = "\033[0;32m",
        [TABLE_COLOR_WARN] = "\033[0;33m",
        [TABLE_COLOR_BAD] = "\033[0;1;31m",
};

int table_set_color(Table *t, TableColor color) {
        if (t->n_cells == 0 || color < 0 || color >= _TABLE_COLOR_MAX)
                return -EINVAL;
        t->cells[t->n_cells - 1].color = color;
        return 0;
}

static void print_padded(FILE *f, const char *s, const char *color, size_t width, bool last) {
        size_t w = text_width(s);

        /* The escape sequences take no columns: padding is by s alone. */
        fprintf(f, "%s%s%s", strempty(color), s, color ? "\033[0m" : "");
        if (!last)
                fprintf(f, "%*s", (int) (width > w ? width - w : 0) + 2, "");
        else
                fputc('\n', f);
}

int table_print(Table *t, JsonFormat json, FILE *f) {
        size_t stride = t->vertical ? 2 : t->n_columns, total = 0;
        unsigned cols = arg_full ? 0 : terminal_columns(fileno(f));
        bool shorten = cols > 0, color = colors_enabled(f);
        size_t width[32] = {};

        if (json != JSON_OFF)
                return json_print(table_to_json(t), f);
        if (stride > ELEMENTSOF(width))
                return -E2BIG;
        if (!t->vertical && arg_legend)
                for (size_t c = 0; c < stride; c++)
                        width[c] = strlen(t->columns[c]);
        for (size_t i = 0; i < t->n_cells; i++) {
                _cleanup_(freep) char *d = cell_display(&t->cells[i], shorten, SIZE_MAX);
                if (!d)
                        return -ENOMEM;
                width[i % stride] = MAX(width[i % stride], text_width(d));
        }
        for (size_t c = 0; c < stride; c++)
                total += width[c] + (c + 1 < stride ? 2 : 0);
        /* On a terminal, take columns from the widest cells until the line
         * fits: text first (names, paths, details), times and numbers only
         * when that is not enough. */
        for (int pass = 0; pass < 2; pass++)
                while (cols > 0 && total > cols) {
                        size_t widest = SIZE_MAX;
                        for (size_t c = 0; c < stride; c++)
                                if ((pass == 1 || column_is_text(t, c)) &&
                                    (widest == SIZE_MAX || width[c] > width[widest]))
                                        widest = c;
                        if (widest == SIZE_MAX || width[widest] <= 4)
                                break;
                        width[widest]--;
                        total--;
                }

        if (!t->vertical && arg_legend) {
                for (size_t c = 0; c < stride; c++) {
                        _cleanup_(freep) char *h = strdup(t->columns[c]), *e = NULL;
                        if (!h)
                                return -ENOMEM;
                        for (char *p = h; *p; p++)
                                *p = (char) toupper_ascii(*p);
                        e = text_ellipsize(h, width[c]);
                        if (!e)
                                return -ENOMEM;
                        print_padded(f, e, NULL, width[c], c + 1 == stride);
                }
        }
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t c = i % stride;
                _cleanup_(freep) char *d = cell_display(&t->cells[i], shorten, width[c]);

                if (!d)
                        return -ENOMEM;
                if (t->vertical && c == 0)
                        fprintf(f, "%*s%s: ", (int) (width[0] - MIN(width[0], text_width(d))), "", d);
                else
                        print_padded(f, d, color ? color_sequences[t->cells[i].color] : NULL, width[c],
                                     c + 1 == stride);
        }
        return 0;
}
