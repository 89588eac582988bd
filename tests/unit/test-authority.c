/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Authority's stored grants and licences against the device id: a
 * token for another device found in the state directory is never loaded
 * (so neither listed nor in the way of this device's token with the same
 * id), and tokens bound to a device wait until its id is known. Signed by
 * the real openssl tool; no bus, no TPM (the device id is set by hand, as
 * the TPM component would). The events it makes are caught by a recorder
 * plugged into a real Events sink, as the audit log plugs in. */
#include <stdio.h>

#include "authority.h"
#include "check-main.h"
#include "endpointd/signer-roles.h"
#include "fileio.h"
#include "fixtures.h"

static char dir[] = "/tmp/test-authority-XXXXXX";

/* The kinds of the events recorded, in order. */
static EventKind recorded[64];
static size_t n_recorded;

static int record(const Event *e, uint64_t *ret_seq, void *userdata) {
        if (n_recorded < ELEMENTSOF(recorded))
                recorded[n_recorded] = e->kind;
        *ret_seq = ++n_recorded;
        return 0;
}

static bool recorded_kind(EventKind k) {
        for (size_t i = 0; i < MIN(n_recorded, ELEMENTSOF(recorded)); i++)
                if (recorded[i] == k)
                        return true;
        return false;
}

typedef struct TestManager {
        sd_event *event;
        Config *config;
        Events *events;
        Authority *authority;
} TestManager;

static void make_signer(const char *name, const char *eku) {
        sh("cd %s && printf 'keyUsage=critical,digitalSignature\\nextendedKeyUsage=%s\\n' > %s.ext && "
           "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=%s -keyout %s.key "
           "-out %s.csr 2>/dev/null && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
           "-CAcreateserial -days 30 -extfile %s.ext -out %s.pem 2>/dev/null",
           dir, eku, name, name, name, name, name, name, name);
}

/* Writes a signed token NAME (+ NAME.sig) in dir; device and id as given. */
static void make_token(const char *name, bool grant, const char *id, const char *device) {
        if (grant)
                sh("cd %s && printf '[Grant]\\nId=%s\\nDevice=%s\\nSubject=uid:5\\nRoles=service\\n"
                   "NotBefore=2020-01-01T00:00:00Z\\nNotAfter=2099-01-01T00:00:00Z\\n' > %s",
                   dir, id, device, name);
        else
                sh("cd %s && printf '[Licence]\\nId=%s\\nDevice=%s\\nFeatures=bolus\\n"
                   "NotBefore=2020-01-01T00:00:00Z\\nNotAfter=2099-01-01T00:00:00Z\\n' > %s",
                   dir, id, device, name);
        sh("cd %s && openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in %s -signer %s.pem "
           "-inkey %s.key -out %s.sig",
           dir, name, grant ? "grant-signer" : "licence-signer", grant ? "grant-signer" : "licence-signer",
           name);
}

/* Copies token NAME into the state directory as ID.grant / ID.licence. */
static void plant(const char *name, bool grant, const char *id) {
        const char *d = grant ? "grants" : "licences", *suffix = grant ? "grant" : "licence";

        sh("cd %s && mkdir -p state/%s && cp %s state/%s/%s.%s && cp %s.sig state/%s/%s.%s.sig", dir, d,
           name, d, id, suffix, name, d, id, suffix);
}

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
        sh("cd %s && mkdir trust state && "
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=ca "
           "-keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE 2>/dev/null && cp ca.pem "
           "trust/ "
           "&& printf '[Role]\\nName=service\\nPermissions=policy.reload\\n' > policy.conf",
           dir);
        make_signer("grant-signer", ENDPOINTD_EKU_GRANT_OID);
        make_signer("licence-signer", ENDPOINTD_EKU_LICENCE_OID);
        make_token("visit-other", true, "visit", "dev2");
        make_token("visit-own", true, "visit", "dev1");
        make_token("stay-own", true, "stay", "dev1");
        make_token("lic-other", false, "lic", "dev2");
        make_token("any", false, "any", "*");
}

static void teardown(void) {
        sh("rm -rf %s", dir);
}

static void manager_init(TestManager *m) {
        Config *c = NULL;

        ck_assert_int_eq(config_new_default(&c), 0);
        free(c->state_dir);
        free(c->trust_dir);
        free(c->policy_file);
        ck_assert_int_ge(asprintf(&c->state_dir, "%s/state", dir), 0);
        ck_assert_int_ge(asprintf(&c->trust_dir, "%s/trust", dir), 0);
        ck_assert_int_ge(asprintf(&c->policy_file, "%s/policy.conf", dir), 0);
        *m = (TestManager){ .config = c };
        ck_assert_int_ge(sd_event_new(&m->event), 0);
        ck_assert_int_eq(events_new(&m->events), 0);
        events_set_journal(m->events, false);
        events_set_recorder(m->events, record, NULL);
        n_recorded = 0;
}

static void manager_start(TestManager *m) {
        ck_assert_int_eq(authority_new(m->event, m->config, m->events, NULL, NULL, &m->authority), 0);
}

static void manager_done(TestManager *m) {
        authority_free(m->authority);
        events_free(m->events);
        sd_event_unref(m->event);
        config_free(m->config);
}

static void set_device(TestManager *m, const char *id) {
        authority_set_device_id(m->authority, id);
}

static bool has_grant(const Authority *a, const char *id, const char *device) {
        for (size_t i = 0; i < a->n_grants; i++)
                if (streq(a->grants[i].token->id, id) && streq(a->grants[i].token->device, device))
                        return true;
        return false;
}

START_TEST(test_foreign_tokens) {
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        TestManager m;
        char path[256], error[512];
        const char *id = NULL;
        size_t len, sig_len;
        Authority *a;

        plant("visit-other", true, "visit");
        plant("stay-own", true, "stay");
        plant("lic-other", false, "lic");
        plant("any", false, "any");
        manager_init(&m);
        manager_start(&m);
        a = m.authority;
        /* Before the device id is known only the licence for any device. */
        ck_assert_uint_eq(a->n_grants, 0);
        ck_assert_uint_eq(a->n_licences, 1);
        ck_assert_str_eq(a->licences[0]->id, "any");

        /* Known: this device's grant is loaded, the other device's grant
         * and licence are not. */
        set_device(&m, "dev1");
        ck_assert_uint_eq(a->n_grants, 1);
        ck_assert(has_grant(a, "stay", "dev1"));
        ck_assert_uint_eq(a->n_licences, 1);
        /* Called again with the same id, nothing changes. */
        set_device(&m, "dev1");
        ck_assert_uint_eq(a->n_grants, 1);
        ck_assert_uint_eq(a->n_licences, 1);

        /* The planted grant does not block this device's grant "visit". */
        snprintf(path, sizeof(path), "%s/visit-own", dir);
        ck_assert_int_eq(read_full_file(path, 65536, &data, &len), 0);
        snprintf(path, sizeof(path), "%s/visit-own.sig", dir);
        ck_assert_int_eq(read_full_file(path, 65536, &sig, &sig_len), 0);
        ck_assert(recorded_kind(EVENT_POLICY_RELOADED));
        ck_assert(!recorded_kind(EVENT_GRANT_INSTALLED));
        ck_assert_int_eq(authority_install(m.authority, EVENT_SUBJECT_DAEMON, TOKEN_GRANT, data, len, sig,
                                           sig_len, &id, error, sizeof(error)),
                         0);
        ck_assert_str_eq(id, "visit");
        ck_assert(recorded_kind(EVENT_GRANT_INSTALLED));
        /* The same again is refused, and that is an event too. */
        ck_assert(!recorded_kind(EVENT_TOKEN_REFUSED));
        ck_assert_int_eq(authority_install(m.authority, EVENT_SUBJECT_DAEMON, TOKEN_GRANT, data, len, sig,
                                           sig_len, &id, error, sizeof(error)),
                         -EEXIST);
        ck_assert(recorded_kind(EVENT_TOKEN_REFUSED));
        ck_assert(has_grant(a, "visit", "dev1"));
        ck_assert_uint_eq(a->n_grants, 2);

        /* Another TPM, another device id: dev1's tokens are unloaded, dev2's
         * licence loads; the licence for any device stays. */
        set_device(&m, "dev2");
        ck_assert_uint_eq(a->n_grants, 0);
        ck_assert_uint_eq(a->n_licences, 2);
        manager_done(&m);

        /* At the next start, the stored grants for dev1 are both there again
         * (unloading kept their files). */
        manager_init(&m);
        manager_start(&m);
        set_device(&m, "dev1");
        a = m.authority;
        ck_assert_uint_eq(a->n_grants, 2);
        ck_assert(has_grant(a, "visit", "dev1"));
        ck_assert(has_grant(a, "stay", "dev1"));
        ck_assert_uint_eq(a->n_licences, 1);
        manager_done(&m);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("authority");
        TCase *tc = tcase_create("tokens");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_foreign_tokens);
        suite_add_tcase(s, tc);
        return s;
}
