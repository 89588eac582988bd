/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* endpointctl verbs for PCR approvals (endpointd-approval(5)): approval
 * make (the manufacturer's build writes the unsigned approval of the PCR
 * values its release produces) and approval install (Keys1.InstallApproval).
 * Signing stays with openssl; approval make prints the command. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "approval.h"
#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "table.h"
#include "util.h"

/* Neither file is larger than this; the daemon enforces its own limits. */
#define APPROVAL_SIG_MAX (64U * 1024U)

/* Reads "PCR=HEX" (HEX the 64 hex digits of a sha256 PCR value) into
 * values[pcr] and sets its bit in *mask. */
static int parse_pcr_value(const char *arg, uint8_t (*values)[32], uint32_t *mask) {
        _cleanup_(freep) void *bytes = NULL;
        const char *eq = strchr(arg, '=');
        _cleanup_(freep) char *index = NULL;
        uint32_t pcr;
        size_t n;

        if (!eq)
                return verb_usage_error("Invalid PCR value '%s': expected PCR=HEX (like 7=3d45...)", arg);
        index = strndup(arg, (size_t) (eq - arg));
        if (!index)
                return log_oom();
        if (parse_uint32(index, &pcr) < 0 || pcr >= APPROVAL_PCR_MAX)
                return verb_usage_error("Invalid PCR index '%s' in '%s': expected 0-23", index, arg);
        if (*mask & (1U << pcr))
                return verb_usage_error("PCR %" PRIu32 " is given twice", pcr);
        if (unhexmem(eq + 1, &bytes, &n) < 0 || n != 32)
                return verb_usage_error("Invalid value for PCR %" PRIu32 ": expected 64 hex digits (sha256)",
                                        pcr);
        memcpy(values[pcr], bytes, 32);
        *mask |= 1U << pcr;
        return 0;
}

static int approval_print_json(const uint8_t *file, uint32_t mask) {
        _cleanup_(freep) char *digest = hexmem(file + 20, 32), *policy = hexmem(file + 52, 32);
        json_object *o = json_object_new_object();
        Approval a;
        bool ok = o && digest && policy && approval_parse(file, APPROVAL_FILE_SIZE, &a) == 0 &&
                  json_add_pcrs(o, "pcrs", mask) >= 0 &&
                  json_object_object_add(o, "version", json_object_new_uint64(a.version)) >= 0 &&
                  json_object_object_add(o, "pcrDigest", json_object_new_string(digest)) >= 0 &&
                  json_object_object_add(o, "approvedPolicy", json_object_new_string(policy)) >= 0 &&
                  json_add_base64(o, "approval", file, APPROVAL_FILE_SIZE) >= 0 &&
                  json_object_object_add(o, "output",
                                         arg_output ? json_object_new_string(arg_output) : NULL) >= 0;

        if (!ok) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* approval make VERSION PCR=HEX... [--output=FILE] */
int verb_approval_make(int argc, char *argv[], void *userdata) {
        uint8_t values[APPROVAL_PCR_MAX][32], ordered[APPROVAL_PCR_MAX][32], file[APPROVAL_FILE_SIZE];
        uint64_t version;
        uint32_t mask = 0;
        size_t n = 0;
        char pcrs[80];
        int r;

        if (parse_uint64(argv[1], UINT64_MAX, &version) < 0 || version == 0 ||
            version > APPROVAL_VERSION_MAX)
                return verb_usage_error(
                        "Invalid version '%s': expected a security version from 1 to %u (the TPM keeps the "
                        "approval floor as %u bits that can only be set; see endpointd-approval(5))",
                        argv[1], APPROVAL_VERSION_MAX, APPROVAL_VERSION_MAX);
        for (int i = 2; i < argc; i++) {
                r = parse_pcr_value(argv[i], values, &mask);
                if (r < 0)
                        return r;
        }
        /* approval_make() takes the values in ascending PCR order. */
        for (unsigned i = 0; i < APPROVAL_PCR_MAX; i++)
                if (mask & (1U << i))
                        memcpy(ordered[n++], values[i], 32);
        r = approval_make(version, mask, (const uint8_t(*)[32]) ordered, file);
        if (r < 0)
                return log_error_errno(r, "Cannot make the approval: %m");
        if (arg_output) {
                r = write_file_atomic(arg_output, file, sizeof(file), 0644);
                if (r < 0)
                        return log_error_errno(r, "Cannot write '%s': %m", arg_output);
        } else if (!arg_json) {
                if (isatty(STDOUT_FILENO))
                        return verb_usage_error("The approval is binary: give --output=FILE or redirect "
                                                "standard output");
                if (fwrite(file, 1, sizeof(file), stdout) != sizeof(file) || fflush(stdout) != 0)
                        return log_error_errno(EIO, "Cannot write to standard output.");
                return 0;
        }
        if (arg_json)
                return approval_print_json(file, mask);
        format_pcr_list(pcrs, sizeof(pcrs), mask);
        printf("Wrote PCR approval version %" PRIu64 " of PCRs %s to %s.\n"
               "Sign its last %u bytes with the PCR-approval signer (endpointd-approval(5)):\n"
               "  tail -c %u %s >%s.tbs\n"
               "  openssl cms -sign -binary -noattr -nosmimecap -md sha256 -outform DER -in %s.tbs \\\n"
               "      -signer approval-signer.pem -inkey approval-signer.key -out %s.sig\n",
               version, pcrs, arg_output, APPROVAL_SIGNED_SIZE, APPROVAL_SIGNED_SIZE, arg_output, arg_output,
               arg_output, arg_output);
        return 0;
}

/* approval install FILE SIG: checks the file locally first, so it
 * connects itself. */
int verb_approval_install(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        size_t len, sig_len;
        uint64_t version;
        json_object *o;
        Approval a;
        int r;

        r = read_full_file(argv[1], APPROVAL_SIG_MAX, &data, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %m", argv[1]);
        if (approval_parse(data, len, &a) < 0)
                return log_error_errno(EBADMSG, "'%s' is not a PCR approval (endpointd-approval(5)).",
                                       argv[1]);
        r = read_full_file(argv[2], APPROVAL_SIG_MAX, &sig, &sig_len);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %m", argv[2]);
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "InstallApproval", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', data, len);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', sig, sig_len);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, &reply, "install the PCR approval");
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "t", &version);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        if (!arg_json) {
                printf("Installed PCR approval version %" PRIu64 ".\n", version);
                return 0;
        }
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "file", json_object_new_string(argv[1])) < 0 ||
            json_object_object_add(o, "version", json_object_new_uint64(version)) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}
