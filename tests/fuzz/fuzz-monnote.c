/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the monitor's note decoder (vipd/monitor.h): it must never crash, and
 * what it accepts must encode back to the very same bytes (one spelling per
 * note).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum vipd_note n;
	uint8_t back[VIPD_NOTE_LEN];

	if (vipd_note_decode(data, size, &n) < 0)
		return 0;
	if (vipd_note_encode(n, back) < 0 || size != sizeof(back) || memcmp(back, data, size) != 0)
		abort();
	return 0;
}
