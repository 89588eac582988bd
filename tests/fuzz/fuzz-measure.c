/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the measurement log's record parser
 * (measure_record_parse(), the lines of measurements.log in the state
 * directory, which someone with write access to it can edit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Measurement m = {};
        char *line = malloc(size + 1);

        if (!line)
                return 0;
        memcpy(line, data, size);
        line[size] = 0;
        if (measure_record_parse(line, &m) == 0) {
                /* A record that parses names a PCR of the sha256 bank. */
                if (m.pcr > 23 || !m.description)
                        abort();
                free(m.description);
        }
        free(line);
        return 0;
}
