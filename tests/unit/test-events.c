/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event pipeline: the one table of kinds (valid v4 MESSAGE_IDs, unique
 * names and ids, each kind in the journal catalog), and the fan-out of one
 * event: to the recorder first (which gives the sequence number), then to
 * the notifier, with the caller's fields and the code location of the
 * caller. */
#include <stdio.h>

#include "check-main.h"
#include "events.h"
#include "fileio.h"

START_TEST(test_kinds_table) {
        for (EventKind k = 0; k < _EVENT_KIND_MAX; k++) {
                const EventKindInfo *info = event_kind_info(k);
                const char *id;

                ck_assert_ptr_nonnull(info);
                ck_assert_ptr_nonnull(info->name);
                ck_assert_int_eq(event_kind_from_string(info->name), k);
                ck_assert_str_eq(event_kind_to_string(k), info->name);
                id = info->message_id;
                ck_assert_uint_eq(strlen(id), 32);
                ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 32);
                /* A random (v4) id: version nibble 4, variant 10xx. */
                ck_assert_msg(id[12] == '4', "%s: MESSAGE_ID %s is not a v4 id", info->name, id);
                ck_assert_msg(strchr("89ab", id[16]), "%s: MESSAGE_ID %s has the wrong variant", info->name,
                              id);
                for (EventKind j = 0; j < k; j++) {
                        ck_assert_str_ne(event_kind_info(j)->name, info->name);
                        ck_assert_str_ne(event_kind_info(j)->message_id, id);
                }
                for (size_t i = 0; info->fields[i]; i++)
                        ck_assert_uint_eq(strspn(info->fields[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
                                          strlen(info->fields[i]));
        }
        ck_assert_int_eq(event_kind_from_string("no-such-kind"), _EVENT_KIND_INVALID);
        ck_assert_ptr_null(event_kind_info(_EVENT_KIND_MAX));
}
END_TEST

/* endpointd-audit(5), EVENT KINDS: every kind with its MESSAGE_ID and each
 * of its fields. */
START_TEST(test_man_page) {
        _cleanup_(freep) char *data = NULL;
        const char *section;
        size_t len;

        ck_assert_int_eq(read_full_file(TOP_SRCDIR "/man/endpointd-audit.5", 1 << 20, &data, &len), 0);
        section = strstr(data, "\n.SH EVENT KINDS\n");
        ck_assert_ptr_nonnull(section);
        for (EventKind k = 0; k < _EVENT_KIND_MAX; k++) {
                const EventKindInfo *info = event_kind_info(k);
                char line[128];

                (void) snprintf(line, sizeof(line), "\n.B %s\n", info->name);
                ck_assert_msg(strstr(section, line), "endpointd-audit(5) does not list %s", info->name);
                (void) snprintf(line, sizeof(line), "MESSAGE_ID=%s.", info->message_id);
                ck_assert_msg(strstr(section, line), "endpointd-audit(5) lacks the MESSAGE_ID of %s", info->name);
                for (size_t i = 0; info->fields[i]; i++) {
                        (void) snprintf(line, sizeof(line), "ENDPOINTD_%s", info->fields[i]);
                        ck_assert_msg(strstr(section, line), "endpointd-audit(5) lacks %s of %s", line,
                                      info->name);
                }
        }
}
END_TEST

/* endpointd(8) LOGGING: the table lists every kind with its MESSAGE_ID;
 * and no man page names a MESSAGE_ID the table of kinds does not have (an
 * example of journalctl with a made-up id filters nothing). */
static const char *const man_pages[] = {
        "endpointd.8",          "endpointctl.1",      "endpointd.conf.5", "endpointd-audit.5",
        "endpointd-policy.5",   "endpointd-manifest.5", "endpointd-approval.5", "endpointd-dbus.7",
        "endpointd-tpm.7",
};

START_TEST(test_man_message_ids) {
        _cleanup_(freep) char *daemon = NULL;
        size_t len;

        ck_assert_int_eq(read_full_file(TOP_SRCDIR "/man/endpointd.8", 1 << 20, &daemon, &len), 0);
        for (EventKind k = 0; k < _EVENT_KIND_MAX; k++) {
                char line[128];

                (void) snprintf(line, sizeof(line), "\n%s\t%s\n", event_kind_info(k)->name,
                                event_kind_info(k)->message_id);
                ck_assert_msg(strstr(daemon, line), "endpointd(8) LOGGING lacks the line of %s",
                              event_kind_info(k)->name);
        }
        for (size_t i = 0; i < sizeof(man_pages) / sizeof(man_pages[0]); i++) {
                _cleanup_(freep) char *data = NULL;
                _cleanup_(freep) char *path = strjoin_alloc(TOP_SRCDIR "/man", "/", man_pages[i]);
                const char *p;

                ck_assert_ptr_nonnull(path);
                ck_assert_int_eq(read_full_file(path, 1 << 20, &data, &len), 0);
                for (p = data; (p = strstr(p, "MESSAGE_ID=")); p++) {
                        const char *id = p + strlen("MESSAGE_ID=");
                        EventKind k;

                        if (strspn(id, "0123456789abcdef") < 32)
                                continue;
                        for (k = 0; k < _EVENT_KIND_MAX; k++)
                                if (strncmp(id, event_kind_info(k)->message_id, 32) == 0)
                                        break;
                        ck_assert_msg(k < _EVENT_KIND_MAX, "%s names MESSAGE_ID=%.32s, which no event kind has",
                                      man_pages[i], id);
                }
        }
}
END_TEST

/* Every kind has its catalog entry ("-- ID" line), and the catalog has no
 * entry for an id the table does not know. */
START_TEST(test_catalog) {
        _cleanup_(freep) char *data = NULL;
        size_t len, entries = 0;
        const char *p;

        ck_assert_int_eq(read_full_file(TOP_SRCDIR "/catalog/endpointd.catalog", 1 << 20, &data, &len), 0);
        for (EventKind k = 0; k < _EVENT_KIND_MAX; k++) {
                char line[64];

                (void) snprintf(line, sizeof(line), "\n-- %s\n", event_kind_info(k)->message_id);
                ck_assert_msg(strstr(data, line), "catalog has no entry for %s", event_kind_info(k)->name);
        }
        for (p = data; (p = strstr(p, "\n-- ")); p++)
                entries++;
        ck_assert_uint_eq(entries, _EVENT_KIND_MAX);
}
END_TEST

static char order[8];
static size_t n_order;
static Event seen;
static char seen_path[64];

static int record(const Event *e, uint64_t *ret_seq, void *userdata) {
        order[n_order++] = 'r';
        *ret_seq = 41 + n_order;
        return 0;
}

static int record_fail(const Event *e, uint64_t *ret_seq, void *userdata) {
        order[n_order++] = 'f';
        return -ENOSPC;
}

static void notify(const Event *e, void *userdata) {
        order[n_order++] = 'n';
        seen = *e;
        (void) snprintf(seen_path, sizeof(seen_path), "%s", strempty(event_field(e, "PATH")));
        seen.fields = NULL; /* only valid during the call */
}

START_TEST(test_fan_out) {
        _cleanup_(events_freep) Events *ev = NULL;
        EventSubject s = { .uid = 7, .gid = 8, .pid = 9, .bus_name = ":1.5" };
        uint64_t seq;
        unsigned line;

        ck_assert_int_eq(events_new(&ev), 0);
        events_set_journal(ev, false);
        events_set_recorder(ev, record, NULL);
        events_set_notifier(ev, notify, NULL);
        n_order = 0;
        line = __LINE__ + 1;
        seq = events_emit(
                ev, EVENT_VIOLATION, &s, "usr/bin/x", 0,
                EVENT_FIELDS({ "PATH", "usr/bin/x" }, { "VIOLATION", "modified" }, { "DETAIL", NULL }),
                "Integrity violation at %s.", "usr/bin/x");
        ck_assert_uint_eq(seq, 42);
        ck_assert_uint_eq(n_order, 2);
        ck_assert_int_eq(order[0], 'r');
        ck_assert_int_eq(order[1], 'n');
        ck_assert_int_eq(seen.kind, EVENT_VIOLATION);
        ck_assert_uint_eq(seen.seq, 42);
        ck_assert_uint_eq(seen.subject.uid, 7);
        ck_assert_int_eq(seen.subject.pid, 9);
        ck_assert_str_eq(seen_path, "usr/bin/x");
        /* The NULL value is left out. */
        ck_assert_uint_eq(seen.n_fields, 2);
        ck_assert_uint_eq(seen.code_line, line);
        ck_assert(strstr(seen.code_func, "test_fan_out")); /* Check names the function test_fan_out_fn */
        ck_assert(strstr(seen.code_file, "test-events.c"));
        ck_assert_uint_gt(seen.realtime, 0);
        ck_assert_uint_gt(seen.monotonic, 0);

        /* The daemon as subject; a result is always negative. */
        n_order = 0;
        (void) events_emit(ev, EVENT_TPM_LOST, EVENT_SUBJECT_DAEMON, NULL, ENODEV, EVENT_NO_FIELDS, "Lost.");
        ck_assert_uint_eq(seen.subject.uid, UID_INVALID);
        ck_assert_int_eq(seen.result, -ENODEV);
        ck_assert_uint_eq(seen.n_fields, 0);

        /* A log that cannot record: the event still goes on, counted. */
        events_set_recorder(ev, record_fail, NULL);
        n_order = 0;
        seq = events_emit(ev, EVENT_KEY_DELETED, &s, "k", 0, EVENT_FIELDS({ "KEY", "k" }), "Deleted.");
        ck_assert_uint_eq(seq, 0);
        ck_assert_int_eq(order[0], 'f');
        ck_assert_int_eq(order[1], 'n');
        ck_assert_uint_eq(events_get_record_failures(ev), 1);
        ck_assert_uint_eq(events_get_count(ev), 3);

        /* An unknown kind is not an event. */
        n_order = 0;
        ck_assert_uint_eq(events_emit(ev, _EVENT_KIND_MAX, &s, NULL, 0, EVENT_NO_FIELDS, "x"), 0);
        ck_assert_uint_eq(n_order, 0);
}
END_TEST

START_TEST(test_allowed_level) {
        ck_assert_int_eq(events_allowed_level_from_string("none"), EVENTS_ALLOWED_NONE);
        ck_assert_int_eq(events_allowed_level_from_string("changes"), EVENTS_ALLOWED_CHANGES);
        ck_assert_int_eq(events_allowed_level_from_string("all"), EVENTS_ALLOWED_ALL);
        ck_assert_int_eq(events_allowed_level_from_string("some"), _EVENTS_ALLOWED_INVALID);
        ck_assert_str_eq(events_allowed_level_to_string(EVENTS_ALLOWED_ALL), "all");
        /* Without a sink, the default. */
        ck_assert_int_eq(events_get_allowed_level(NULL), EVENTS_ALLOWED_CHANGES);
}
END_TEST

START_TEST(test_subject_copy) {
        EventSubject s = { .uid = 1, .gid = 2, .pid = 3, .exe = "/usr/bin/x", .bus_name = ":1.9" };
        EventSubjectCopy c;

        ck_assert_int_eq(event_subject_copy(&s, &c), 0);
        ck_assert_ptr_ne(c.subject.exe, s.exe);
        ck_assert_str_eq(c.subject.exe, "/usr/bin/x");
        ck_assert_str_eq(c.subject.bus_name, ":1.9");
        event_subject_copy_done(&c);
        ck_assert_ptr_null(c.subject.exe);
        ck_assert_int_eq(event_subject_copy(EVENT_SUBJECT_DAEMON, &c), 0);
        ck_assert_uint_eq(c.subject.uid, UID_INVALID);
        event_subject_copy_done(&c);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("events");
        TCase *tc = tcase_create("events");

        tcase_add_test(tc, test_kinds_table);
        tcase_add_test(tc, test_catalog);
        tcase_add_test(tc, test_man_message_ids);
        tcase_add_test(tc, test_fan_out);
        tcase_add_test(tc, test_allowed_level);
        tcase_add_test(tc, test_man_page);
        tcase_add_test(tc, test_subject_copy);
        suite_add_tcase(s, tc);
        return s;
}
