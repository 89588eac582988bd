/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <tss2/tss2_tpm2_types.h>

#include "log.h"
#include "tpm-tcti.h"

/* How long a command may take before the connection is given up (and the
 * TPM reported lost): far above any swtpm command, bounded so that a hung
 * simulator cannot hold the daemon's TPM calls forever. */
#define TCTI_SWTPM_TIMEOUT_MS (120 * 1000)
#define TCTI_SWTPM_MAGIC UINT64_C(0x6570736b74706d31) /* "epsktpm1" */

typedef enum TctiState {
        TCTI_STATE_TRANSMIT,
        TCTI_STATE_RECEIVE,
} TctiState;

/* The common part must come first: ESYS calls through it. */
typedef struct TctiSwtpm {
        TSS2_TCTI_CONTEXT_COMMON_V2 common;
        int fd;
        /* Keep the connection after a response (see tpm_tcti_swtpm_hold()). */
        bool hold;
        TctiState state;
        char host[256];
        char port[6];
        char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)];
        /* One response, read whole before it is handed out. */
        uint8_t response[TPM2_MAX_RESPONSE_SIZE];
        size_t response_len;
} TctiSwtpm;

static TctiSwtpm *tcti_cast(TSS2_TCTI_CONTEXT *ctx) {
        TctiSwtpm *t = (TctiSwtpm *) ctx;

        return t && t->common.v1.magic == TCTI_SWTPM_MAGIC ? t : NULL;
}

/* Blocking reads bounded by the fixed timeout: recv() fails with EAGAIN
 * when it passes, without a poll() per call. (A command is at most 4 KiB,
 * which a fresh socket's send buffer always takes.) */
static int tcti_set_timeouts(int fd) {
        struct timeval tv = { .tv_sec = TCTI_SWTPM_TIMEOUT_MS / 1000 };

        return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ? -errno : 0;
}

static int tcti_connect(TctiSwtpm *t) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
        int fd = -EBADF, one = 1;

        if (t->path[0]) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };

                memcpy(sa.sun_path, t->path, sizeof(sa.sun_path));
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || tcti_set_timeouts(fd) < 0) {
                        int r = -errno;
                        fd = safe_close(fd);
                        return r;
                }
                t->fd = fd;
                return 0;
        }
        if (getaddrinfo(t->host, t->port, &hints, &ai) != 0 || !ai)
                return -EHOSTUNREACH;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        continue;
                if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 && tcti_set_timeouts(fd) == 0)
                        break;
                fd = safe_close(fd);
        }
        freeaddrinfo(ai);
        if (fd < 0)
                return -ECONNREFUSED;
        /* Commands are small and answered one at a time. */
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        t->fd = fd;
        return 0;
}

static void tcti_disconnect(TctiSwtpm *t) {
        t->fd = safe_close(t->fd);
        t->state = TCTI_STATE_TRANSMIT;
        t->response_len = 0;
}

/* Waits for the response for at most timeout_ms. Returns 1 when there is
 * one, 0 on timeout, -errno on error. */
static int tcti_wait(TctiSwtpm *t, int timeout_ms) {
        struct pollfd p = { .fd = t->fd, .events = POLLIN };
        int r;

        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        return r > 0;
}

static int tcti_send(TctiSwtpm *t, const uint8_t *buf, size_t len) {
        while (len > 0) {
                ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Reads into buf (of size max) until it holds at least want bytes; swtpm
 * sends nothing but the one response, so a read never takes bytes of
 * another. Returns the bytes held or -errno (-EAGAIN: timed out). */
static ssize_t tcti_recv(TctiSwtpm *t, uint8_t *buf, size_t have, size_t want, size_t max) {
        while (have < want) {
                ssize_t n = recv(t->fd, buf + have, max - have, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -ECONNRESET;
                have += (size_t) n;
        }
        return (ssize_t) have;
}

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static TSS2_RC tcti_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *cmd) {
        TctiSwtpm *t = tcti_cast(ctx);

        if (!t || !cmd)
                return TSS2_TCTI_RC_BAD_REFERENCE;
        if (t->state != TCTI_STATE_TRANSMIT)
                return TSS2_TCTI_RC_BAD_SEQUENCE;
        if (size < 10 || size > TPM2_MAX_COMMAND_SIZE || be32(cmd + 2) != size)
                return TSS2_TCTI_RC_BAD_VALUE;
        /* One connection while held; made again after an error (the next
         * command then tells whether the TPM is still the one we talked to:
         * a restarted simulator answers TPM_RC_INITIALIZE). */
        if (t->fd < 0 && tcti_connect(t) < 0)
                return TSS2_TCTI_RC_IO_ERROR;
        /* The words of tcti-swtpm's TSS2_LOG line, which bench/tpm counts. */
        log_debug("Sending command with TPM_CC 0x%" PRIx32 " and size %zu", be32(cmd + 6), size);
        if (tcti_send(t, cmd, size) < 0) {
                tcti_disconnect(t);
                return TSS2_TCTI_RC_IO_ERROR;
        }
        t->state = TCTI_STATE_RECEIVE;
        t->response_len = 0;
        return TSS2_RC_SUCCESS;
}

static TSS2_RC tcti_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *response, int32_t timeout) {
        TctiSwtpm *t = tcti_cast(ctx);
        size_t len;

        if (!t || !size)
                return TSS2_TCTI_RC_BAD_REFERENCE;
        if (t->state != TCTI_STATE_RECEIVE)
                return TSS2_TCTI_RC_BAD_SEQUENCE;
        if (t->response_len == 0) {
                ssize_t n;

                if (timeout >= 0) {
                        int r = tcti_wait(t, timeout);
                        if (r == 0)
                                return TSS2_TCTI_RC_TRY_AGAIN;
                }
                n = tcti_recv(t, t->response, 0, 10, sizeof(t->response));
                if (n >= 0) {
                        len = be32(t->response + 2);
                        if (len < 10 || len > sizeof(t->response) || (size_t) n > len)
                                n = -EBADMSG;
                        else
                                n = tcti_recv(t, t->response, (size_t) n, len, len);
                }
                if (n < 0) {
                        tcti_disconnect(t);
                        return TSS2_TCTI_RC_IO_ERROR;
                }
                t->response_len = len;
        }
        if (!response) {
                *size = t->response_len;
                return TSS2_RC_SUCCESS;
        }
        if (*size < t->response_len) {
                *size = t->response_len;
                return TSS2_TCTI_RC_INSUFFICIENT_BUFFER;
        }
        memcpy(response, t->response, t->response_len);
        *size = t->response_len;
        t->response_len = 0;
        t->state = TCTI_STATE_TRANSMIT;
        if (!t->hold)
                tcti_disconnect(t);
        return TSS2_RC_SUCCESS;
}

static void tcti_finalize(TSS2_TCTI_CONTEXT *ctx) {
        TctiSwtpm *t = tcti_cast(ctx);

        if (t)
                tcti_disconnect(t);
}

static TSS2_RC tcti_cancel(TSS2_TCTI_CONTEXT *ctx) {
        (void) ctx;
        return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

static TSS2_RC tcti_get_poll_handles(TSS2_TCTI_CONTEXT *ctx, TSS2_TCTI_POLL_HANDLE *handles, size_t *n) {
        (void) ctx, (void) handles, (void) n;
        return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

static TSS2_RC tcti_set_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality) {
        /* Locality 0 is what swtpm starts in and all the daemon uses. */
        (void) ctx;
        return locality == 0 ? TSS2_RC_SUCCESS : TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

static TSS2_RC tcti_make_sticky(TSS2_TCTI_CONTEXT *ctx, TPM2_HANDLE *handle, uint8_t sticky) {
        (void) ctx, (void) handle, (void) sticky;
        return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

/* "host=H,port=P" or "path=SOCKET" in any order, as tcti-swtpm reads them. */
static int tcti_parse(TctiSwtpm *t, const char *conf) {
        snprintf(t->host, sizeof(t->host), "localhost");
        snprintf(t->port, sizeof(t->port), "2321");
        while (conf && *conf) {
                size_t n = strcspn(conf, ","), k;
                const char *eq = memchr(conf, '=', n);
                char *dst;
                size_t cap;

                if (!eq)
                        return -EINVAL;
                k = (size_t) (eq - conf);
                if (k == 4 && strncmp(conf, "host", 4) == 0)
                        dst = t->host, cap = sizeof(t->host);
                else if (k == 4 && strncmp(conf, "port", 4) == 0)
                        dst = t->port, cap = sizeof(t->port);
                else if (k == 4 && strncmp(conf, "path", 4) == 0)
                        dst = t->path, cap = sizeof(t->path);
                else
                        return -EINVAL;
                if (n - k - 1 == 0 || n - k - 1 >= cap)
                        return -EINVAL;
                memcpy(dst, eq + 1, n - k - 1);
                dst[n - k - 1] = 0;
                conf += n + (conf[n] == ',');
        }
        if (strspn(t->port, "0123456789") != strlen(t->port) || atoi(t->port) <= 0 || atoi(t->port) > 65535)
                return -EINVAL;
        return 0;
}

int tpm_tcti_swtpm_new(const char *tcti, TSS2_TCTI_CONTEXT **ret) {
        TctiSwtpm *t;
        int r;

        if (!tcti || strncmp(tcti, "swtpm", 5) != 0 || (tcti[5] != 0 && tcti[5] != ':'))
                return -EOPNOTSUPP;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->fd = -EBADF;
        r = tcti_parse(t, tcti[5] == ':' ? tcti + 6 : NULL);
        if (r >= 0)
                r = tcti_connect(t);
        if (r >= 0)
                t->fd = safe_close(t->fd);
        if (r < 0) {
                free(t);
                return r;
        }
        t->common.v1.magic = TCTI_SWTPM_MAGIC;
        t->common.v1.version = 2;
        t->common.v1.transmit = tcti_transmit;
        t->common.v1.receive = tcti_receive;
        t->common.v1.finalize = tcti_finalize;
        t->common.v1.cancel = tcti_cancel;
        t->common.v1.getPollHandles = tcti_get_poll_handles;
        t->common.v1.setLocality = tcti_set_locality;
        t->common.makeSticky = tcti_make_sticky;
        *ret = (TSS2_TCTI_CONTEXT *) t;
        return 0;
}

TSS2_TCTI_CONTEXT *tpm_tcti_swtpm_free(TSS2_TCTI_CONTEXT *ctx) {
        tcti_finalize(ctx);
        free(tcti_cast(ctx));
        return NULL;
}

void tpm_tcti_swtpm_hold(TSS2_TCTI_CONTEXT *ctx, bool hold) {
        TctiSwtpm *t = tcti_cast(ctx);

        if (!t)
                return;
        t->hold = hold;
        if (!hold && t->state == TCTI_STATE_TRANSMIT)
                t->fd = safe_close(t->fd);
}

bool tpm_tcti_is_swtpm(TSS2_TCTI_CONTEXT *ctx) {
        return tcti_cast(ctx) != NULL;
}
