/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit-wire.h"
#include "util.h"

static bool wire_byte_escaped(unsigned char c, bool utf8) {
        return c <= ' ' || c == '=' || c == '\\' || c == 0x7f || (c >= 0x80 && !utf8);
}

static void wire_put_value(FILE *f, const char *value) {
        bool utf8 = utf8_is_valid(value, strlen(value));

        for (const unsigned char *p = (const unsigned char *) value; *p; p++)
                if (wire_byte_escaped(*p, utf8))
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
}

static void wire_put_pair(FILE *f, bool *first, const char *name, const char *value) {
        if (!*first)
                fputc(' ', f);
        *first = false;
        fputs(name, f);
        fputc('=', f);
        wire_put_value(f, value);
}

/* The field's name without the journal's prefix. */
static const char *wire_name(const char *name) {
        return strncmp(name, "ENDPOINTD_", 10) == 0 ? name + 10 : name;
}

static const char *wire_find(const AuditField *fields, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(wire_name(fields[i].name), name))
                        return fields[i].value;
        return NULL;
}

/* The pieces of subject, in their order: the log's name, the wire's. */
static const char *const subject_names[][2] = {
        { "UID", "uid" }, { "GID", "gid" }, { "PID", "pid" }, { "EXE", "exe" }, { "BUS_NAME", "bus" },
};

static bool wire_is_common(const char *name) {
        static const char *const common[] = { "OBJECT", "RESULT", "ERRNO", "EVENT", "SEQ", "MESSAGE" };

        for (size_t i = 0; i < ELEMENTSOF(subject_names); i++)
                if (streq(name, subject_names[i][0]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(common); i++)
                if (streq(name, common[i]))
                        return true;
        return false;
}

static char *wire_result(const AuditField *fields, size_t n) {
        const char *result = wire_find(fields, n, "RESULT"), *err = wire_find(fields, n, "ERRNO");
        const char *name = NULL;
        uint32_t e;
        char *s;

        if (!result || streq(result, "ok"))
                return strdup("ok");
        if (err && parse_uint32(err, &e) >= 0 && e > 0 && e < 4096)
                name = strerrorname_np((int) e);
        if (name)
                return strdup(name);
        if (err && asprintf(&s, "errno %s", err) >= 0)
                return s;
        return strdup("failed");
}

int audit_wire_from_fields(const AuditField *fields, size_t n_fields, AuditWire *ret) {
        AuditWire w = { .object = wire_find(fields, n_fields, "OBJECT") };
        const char *message = wire_find(fields, n_fields, "MESSAGE");
        size_t size;
        bool first = true;
        FILE *f;

        if (!w.object)
                w.object = "";
        f = open_memstream(&w.subject, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(subject_names); i++) {
                const char *v = wire_find(fields, n_fields, subject_names[i][0]);

                if (v)
                        wire_put_pair(f, &first, subject_names[i][1], v);
        }
        if (first)
                fputs("daemon", f);
        if (fclose(f) != 0)
                goto oom;

        f = open_memstream(&w.detail, &size);
        if (!f)
                goto oom;
        first = true;
        for (size_t i = 0; i < n_fields; i++)
                if (!wire_is_common(wire_name(fields[i].name)))
                        wire_put_pair(f, &first, wire_name(fields[i].name), fields[i].value);
        if (message)
                wire_put_pair(f, &first, "MESSAGE", message);
        if (fclose(f) != 0)
                goto oom;

        w.result = wire_result(fields, n_fields);
        if (!w.result)
                goto oom;
        *ret = w;
        return 0;
oom:
        audit_wire_done(&w);
        return -ENOMEM;
}

void audit_wire_done(AuditWire *w) {
        w->subject = mfree(w->subject);
        w->result = mfree(w->result);
        w->detail = mfree(w->detail);
}

static int unhex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int audit_wire_parse(const char *s, AuditWirePairFunc cb, void *userdata) {
        _cleanup_(freep) char *buf = NULL;
        char *q;
        int r;

        if (isempty(s) || streq(s, "daemon"))
                return 0;
        /* Unescaping never grows the text: it is done in one copy. */
        buf = malloc(strlen(s) + 1);
        if (!buf)
                return -ENOMEM;
        for (const char *p = s;;) {
                const char *name = buf, *value;

                q = buf;
                while (*p && *p != '=' && *p != ' ' && *p != '\\')
                        *q++ = *p++;
                if (q == buf || *p != '=')
                        return -EBADMSG;
                *q++ = 0;
                p++;
                value = q;
                while (*p && *p != ' ') {
                        if (*p != '\\') {
                                *q++ = *p++;
                                continue;
                        }
                        int hi, lo;
                        if (p[1] != 'x' || (hi = unhex_digit(p[2])) < 0 || (lo = unhex_digit(p[3])) < 0 ||
                            hi * 16 + lo == 0)
                                return -EBADMSG;
                        *q++ = (char) (hi * 16 + lo);
                        p += 4;
                }
                *q = 0;
                r = cb(name, value, userdata);
                if (r < 0)
                        return r;
                if (!*p)
                        return 0;
                p++; /* the space */
                if (!*p)
                        return -EBADMSG;
        }
}
