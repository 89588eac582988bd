/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* endpointctl's enrolment verbs (endpointd(8), Enrolment):
 *
 * device-csr: a PKCS#10 certification request for the TPM device identity
 * key, for enrolment with a verifier's CA. endpointctl builds the request
 * around the device public key and the device id; the TPM signs it through
 * Keys1.Sign (the key never leaves the TPM), so "openssl req -verify"
 * proves that whoever made the request holds the device key.
 *
 * device-ek, device-ak, activate-credential: the device side of
 * TPM2_MakeCredential / TPM2_ActivateCredential. The verifier takes the
 * endorsement key and the attestation key's public area, runs
 * tpm2_makecredential, and gets its secret back only from the TPM that
 * holds that EK and a key of that Name. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "openssl-util.h"
#include "table.h"
#include "util.h"

DEFINE_CLEANUP_FUNC(X509_REQ *, X509_REQ_free, X509_REQ_freep)
DEFINE_CLEANUP_FUNC(X509_ALGOR *, X509_ALGOR_free, X509_ALGOR_freep)
DEFINE_CLEANUP_FUNC(ASN1_BIT_STRING *, ASN1_BIT_STRING_free, ASN1_BIT_STRING_freep)

/* The device id and the device public key, from the daemon. */
static int read_device(sd_bus *bus, char **ret_id, EVP_PKEY **ret_key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *idr = NULL, *keyr = NULL;
        _cleanup_(BIO_free_allp) BIO *b = NULL;
        const char *id, *pem;
        EVP_PKEY *key;
        int r;

        r = ctl_device_id_read(bus, &idr, &id);
        if (r != 0)
                return r;
        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, "GetDevicePublicKey", &keyr, "read the device public key",
                     NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(keyr, "s", &pem);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        b = BIO_new_mem_buf(pem, -1);
        key = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        if (!key)
                return log_error_errno(EBADMSG, "The daemon's device public key does not parse.");
        *ret_id = strdup(id);
        if (!*ret_id) {
                EVP_PKEY_free(key);
                return log_oom();
        }
        *ret_key = key;
        return 0;
}

/* The request without its signature: version 1, subject CN=device id, the
 * device key, signature algorithm ecdsa-with-SHA256 (what Keys1.Sign
 * makes: a DER ECDSA signature over SHA-256 of the data). */
static int csr_build(const char *id, EVP_PKEY *key, X509_REQ **ret) {
        _cleanup_(X509_REQ_freep) X509_REQ *req = X509_REQ_new();
        _cleanup_(X509_ALGOR_freep) X509_ALGOR *alg = X509_ALGOR_new();
        X509_NAME *name;

        if (!req || !alg || X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
            X509_REQ_set_pubkey(req, key) != 1 ||
            X509_ALGOR_set0(alg, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL) != 1 ||
            X509_REQ_set1_signature_algo(req, alg) != 1)
                return -ENOMEM;
        name = X509_REQ_get_subject_name(req);
        if (!name || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) id, -1,
                                                -1, 0) != 1)
                return -ENOMEM;
        *ret = TAKE_PTR(req);
        return 0;
}

/* Has the TPM sign the request's CertificationRequestInfo and puts the
 * signature in. */
static int csr_sign(sd_bus *bus, X509_REQ *req) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(ASN1_BIT_STRING_freep) ASN1_BIT_STRING *bits = NULL;
        unsigned char *tbs = NULL;
        const void *sig;
        size_t sig_len;
        int len, r;

        len = i2d_re_X509_REQ_tbs(req, &tbs);
        if (len <= 0)
                return log_oom();
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Sign", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', tbs, (size_t) len);
        OPENSSL_free(tbs);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, &reply, "sign the request with the device key");
        if (r != 0)
                return r;
        r = sd_bus_message_read_array(reply, 'y', &sig, &sig_len);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        bits = ASN1_BIT_STRING_new();
        if (!bits || sig_len > INT_MAX || ASN1_BIT_STRING_set(bits, (void *) sig, (int) sig_len) != 1)
                return log_oom();
        /* A whole number of bytes: no unused bits. */
        bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
        bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
        X509_REQ_set0_signature(req, TAKE_PTR(bits));
        return 0;
}

int verb_device_csr(int argc, char *argv[], void *userdata) {
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(BIO_free_allp) BIO *out = NULL;
        _cleanup_(freep) char *id = NULL;
        sd_bus *bus = userdata;
        const char *pem;
        json_object *o;
        long pem_len;
        int r;

        r = read_device(bus, &id, &key);
        if (r != 0)
                return r;
        if (csr_build(id, key, &req) < 0)
                return log_oom();
        r = csr_sign(bus, req);
        if (r != 0)
                return r;
        /* The TPM signed what we sent; check it is the key we put in. */
        if (X509_REQ_verify(req, key) != 1)
                return log_error_errno(EBADMSG, "The signed request does not verify with the device key.");
        out = BIO_new(BIO_s_mem());
        if (!out || PEM_write_bio_X509_REQ(out, req) != 1)
                return log_oom();
        pem_len = BIO_get_mem_data(out, (char **) &pem);
        if (arg_output) {
                r = write_file_atomic(arg_output, pem, (size_t) pem_len, 0644);
                if (r < 0)
                        return log_error_errno(r, "Cannot write '%s': %m", arg_output);
        }
        if (!arg_json) {
                if (arg_output)
                        printf("Wrote the certification request of device %s to %s.\n", id, arg_output);
                else
                        fwrite(pem, 1, (size_t) pem_len, stdout);
                return 0;
        }
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "deviceId", json_object_new_string(id)) < 0 ||
            json_object_object_add(o, "csr", json_object_new_string_len(pem, (int) pem_len)) < 0 ||
            json_object_object_add(o, "output", arg_output ? json_object_new_string(arg_output) : NULL) <
                    0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* Writes data to arg_output (atomically, with mode) or, without
 * --output, to standard output. */
static int output_bytes(const void *data, size_t len, mode_t mode) {
        int r;

        if (!arg_output) {
                if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
                        return log_error_errno(EIO, "Cannot write to standard output: %m");
                return 0;
        }
        r = write_file_atomic(arg_output, data, len, mode);
        if (r < 0)
                return log_error_errno(r, "Cannot write '%s': %m", arg_output);
        return 0;
}

/* A method of Keys1 that returns one string (the PEM public keys). */
static int read_pem(sd_bus *bus, const char *method, const char *what, sd_bus_message **ret_reply,
                    const char **ret_pem) {
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, method, ret_reply, what, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(*ret_reply, "s", ret_pem);
        return r < 0 ? log_error_errno(r, "Cannot parse the reply: %m") : 0;
}

int verb_device_ek(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *pem;
        json_object *o;
        int r;

        r = read_pem(userdata, "GetEndorsementPublicKey", "read the endorsement key", &reply, &pem);
        if (r != 0)
                return r;
        if (!arg_json) {
                r = output_bytes(pem, strlen(pem), 0644);
                if (r == 0 && arg_output)
                        printf("Wrote the endorsement public key to %s.\n", arg_output);
                return r;
        }
        if (arg_output && (r = output_bytes(pem, strlen(pem), 0644)) != 0)
                return r;
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "publicKey", json_object_new_string(pem)) < 0 ||
            json_object_object_add(o, "output", arg_output ? json_object_new_string(arg_output) : NULL) <
                    0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* The Name of a key whose TPM2B_PUBLIC (SHA-256 nameAlg) is pub: 0x000b
 * || SHA-256 of the TPMT_PUBLIC (pub without its 2-byte size), in hex.
 * -EBADMSG when the size field does not match. */
static int tpm2b_public_name(const uint8_t *pub, size_t len, char **ret) {
        uint8_t name[2 + 32] = { 0x00, 0x0b };

        if (len < 4 || (size_t) (pub[0] << 8 | pub[1]) != len - 2 || pub[2] != 0x00 || pub[3] == 0)
                return -EBADMSG;
        /* nameAlg follows the 2-byte type. */
        if (len < 6 || pub[4] != 0x00 || pub[5] != 0x0b)
                return -EBADMSG;
        if (sha256_buffer(pub + 2, len - 2, name + 2) < 0)
                return -EIO;
        *ret = hexmem(name, sizeof(name));
        return *ret ? 0 : -ENOMEM;
}

int verb_device_ak(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *pemr = NULL;
        _cleanup_(freep) char *name = NULL;
        sd_bus *bus = userdata;
        const void *pub;
        const char *pem;
        json_object *o;
        size_t len;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, "GetAttestationKeyPublic", &reply,
                     "read the attestation key's public area", NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read_array(reply, 'y', &pub, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        r = tpm2b_public_name(pub, len, &name);
        if (r < 0)
                return log_error_errno(r, "The daemon's TPM2B_PUBLIC does not parse: %m");
        r = read_pem(bus, "GetAttestationPublicKey", "read the attestation key", &pemr, &pem);
        if (r != 0)
                return r;
        if (arg_output) {
                r = output_bytes(pub, len, 0644);
                if (r != 0)
                        return r;
        }
        if (!arg_json) {
                if (arg_output)
                        printf("Wrote the attestation key's public area (TPM2B_PUBLIC) to %s.\nName: %s\n",
                               arg_output, name);
                else
                        fputs(pem, stdout);
                return 0;
        }
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "publicKey", json_object_new_string(pem)) < 0 ||
            json_add_base64(o, "publicArea", pub, len) < 0 ||
            json_object_object_add(o, "name", json_object_new_string(name)) < 0 ||
            json_object_object_add(o, "output", arg_output ? json_object_new_string(arg_output) : NULL) <
                    0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* The largest credential file endpointctl sends; the daemon has its own,
 * smaller limit. */
#define CREDENTIAL_FILE_MAX 4096U

/* activate-credential FILE: reads the file first, so it connects itself. */
int verb_activate_credential(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *data = NULL;
        const void *secret;
        size_t len, secret_len;
        json_object *o;
        int r;

        r = read_full_file(argv[1], CREDENTIAL_FILE_MAX, &data, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot read '%s': %m", argv[1]);
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "ActivateCredential", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', data, len);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, &reply, "activate the credential");
        if (r != 0)
                return r;
        r = sd_bus_message_read_array(reply, 'y', &secret, &secret_len);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        if (!arg_json)
                return output_bytes(secret, secret_len, 0600);
        if (arg_output && (r = output_bytes(secret, secret_len, 0600)) != 0)
                return r;
        o = json_object_new_object();
        if (!o || json_add_base64(o, "secret", secret, secret_len) < 0 ||
            json_object_object_add(o, "output", arg_output ? json_object_new_string(arg_output) : NULL) <
                    0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}
