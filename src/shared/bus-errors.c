/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-errors.h"

const sd_bus_error_map endpointd_error_map[] = {
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_NOT_FOUND, ENOENT),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_EXISTS, EEXIST),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_BAD_SIGNATURE, EKEYREJECTED),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_ROLLBACK, ESTALE),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_EXPIRED, EKEYEXPIRED),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_NOT_YET_VALID, ETIME),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_WRONG_DEVICE, EXDEV),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_PCR_MISMATCH, EBADE),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_TPM_UNAVAILABLE, ENODEV),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_TPM_ERROR, EPROTO),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_BUSY, EBUSY),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_RATE_LIMITED, EDQUOT),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_TAMPERED, EUCLEAN),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_MALFORMED, EBADMSG),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_NO_MANIFEST, ENOMEDIUM),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_TOO_LARGE, EFBIG),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_REVOKED, EKEYREVOKED),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_NOT_APPROVED, ENOKEY),
        SD_BUS_ERROR_MAP(ENDPOINTD_ERROR_NO_SPACE, ENOSPC),
        SD_BUS_ERROR_MAP_END
};

int bus_errors_register(void) {
        int r = sd_bus_error_add_map(endpointd_error_map);
        return r < 0 ? r : 0;
}

int bus_error_set_errnof(sd_bus_error *error, int e, const char *format, ...) {
        char msg[512];
        va_list ap;

        e = abs(e);
        errno = e; /* for %m */
        va_start(ap, format);
        (void) vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);
        for (const sd_bus_error_map *map = endpointd_error_map; map->name; map++)
                if (map->code == e)
                        return sd_bus_error_set(error, map->name, msg);
        return sd_bus_error_set_errnof(error, e, "%s", msg);
}
