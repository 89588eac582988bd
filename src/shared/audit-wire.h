/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An audit record as org.endpointd.Audit1 carries it (endpointd-dbus(7)):
 * the strings subject, result and detail of the struct (ttsssss), made by
 * the daemon from the record's fields and parsed back by endpointctl.
 *
 * subject: "uid=U gid=G pid=P exe=PATH bus=NAME", only what is known, or
 *   "daemon" when nothing is (the daemon's own events).
 * result: "ok", else the errno name ("EACCES") or "failed" when the record
 *   names no errno.
 * detail: the kind's own fields, then MESSAGE, as "NAME=value NAME=value":
 *   one space between pairs, nothing else. In a value (and in subject's
 *   values) a space, '=', '\', a control byte, DEL and, when the value is
 *   not valid UTF-8, each byte above 0x7f is written as \xNN (two lower-case
 *   hex digits); nothing else is escaped. */

#include <stdbool.h>
#include <stddef.h>

#include "audit-log.h"

typedef struct AuditWire {
        const char *object; /* points into the fields given ("" when none) */
        char *subject, *result, *detail;
} AuditWire;

/* Fills ret from a record's fields, named as the log names them
 * (ENDPOINTD_UID=, ...; the prefix is optional). EVENT and SEQ are left out
 * (they have their places), ERRNO goes to result. -ENOMEM. */
int audit_wire_from_fields(const AuditField *fields, size_t n_fields, AuditWire *ret);
void audit_wire_done(AuditWire *w);

/* Calls cb(name, value) for each pair of a detail or subject string, value
 * unescaped (it may then hold any byte but NUL). A negative return of cb
 * ends the walk with that return. -EBADMSG: not that form (an empty name, a
 * pair without '=', two spaces, a bad or NUL escape); "" and "daemon" have
 * no pairs. */
typedef int (*AuditWirePairFunc)(const char *name, const char *value, void *userdata);
int audit_wire_parse(const char *s, AuditWirePairFunc cb, void *userdata);
