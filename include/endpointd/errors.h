/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* D-Bus error names of endpointd and the errno each maps to, in both
 * directions (see src/shared/bus-errors.c). Documented in endpointd-dbus(7).
 * Denials use org.freedesktop.DBus.Error.AccessDenied (EACCES), bad
 * arguments org.freedesktop.DBus.Error.InvalidArgs (EINVAL). */

#include <errno.h>

#define ENDPOINTD_ERROR_NOT_FOUND        "org.endpointd.Error.NotFound"        /* ENOENT */
#define ENDPOINTD_ERROR_EXISTS           "org.endpointd.Error.Exists"          /* EEXIST */
#define ENDPOINTD_ERROR_BAD_SIGNATURE    "org.endpointd.Error.BadSignature"    /* EKEYREJECTED */
#define ENDPOINTD_ERROR_ROLLBACK         "org.endpointd.Error.Rollback"        /* ESTALE */
#define ENDPOINTD_ERROR_EXPIRED          "org.endpointd.Error.Expired"         /* EKEYEXPIRED */
#define ENDPOINTD_ERROR_NOT_YET_VALID    "org.endpointd.Error.NotYetValid"     /* ETIME */
#define ENDPOINTD_ERROR_WRONG_DEVICE     "org.endpointd.Error.WrongDevice"     /* EXDEV */
#define ENDPOINTD_ERROR_PCR_MISMATCH     "org.endpointd.Error.PcrMismatch"     /* EBADE */
#define ENDPOINTD_ERROR_TPM_UNAVAILABLE  "org.endpointd.Error.TpmUnavailable"  /* ENODEV */
#define ENDPOINTD_ERROR_TPM_ERROR        "org.endpointd.Error.TpmError"        /* EPROTO */
#define ENDPOINTD_ERROR_BUSY             "org.endpointd.Error.Busy"            /* EBUSY */
#define ENDPOINTD_ERROR_RATE_LIMITED     "org.endpointd.Error.RateLimited"     /* EDQUOT */
#define ENDPOINTD_ERROR_TAMPERED         "org.endpointd.Error.Tampered"        /* EUCLEAN */
#define ENDPOINTD_ERROR_MALFORMED        "org.endpointd.Error.Malformed"       /* EBADMSG */
#define ENDPOINTD_ERROR_NO_MANIFEST      "org.endpointd.Error.NoManifest"      /* ENOMEDIUM */
#define ENDPOINTD_ERROR_TOO_LARGE        "org.endpointd.Error.TooLarge"        /* EFBIG */
#define ENDPOINTD_ERROR_REVOKED          "org.endpointd.Error.Revoked"         /* EKEYREVOKED */
#define ENDPOINTD_ERROR_NOT_APPROVED     "org.endpointd.Error.NotApproved"     /* ENOKEY */
#define ENDPOINTD_ERROR_NO_SPACE         "org.endpointd.Error.NoSpace"         /* ENOSPC */
