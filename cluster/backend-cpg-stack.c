/* SPDX-License-Identifier: MIT */
/*
 * Giving back the stack a large delivery left resident (backend-cpg.h).
 *
 * libcpg's cpg_dispatch reads each event into a buffer of IPC_DISPATCH_SIZE
 * (1 MiB) on its caller's stack, filling it from its lowest address up, and
 * the callbacks run below it. A STATE of 10,000 records (about 240 KiB)
 * therefore leaves some 250 KiB of the loop thread's stack resident for the
 * life of the process, in the engine and in the monitor alike: about a
 * twentieth of vipd's whole footprint at that size (docs/port.md, "Memory").
 * Those pages hold nothing once cpg_dispatch has returned, so after a large
 * delivery the backend hands every page below its own frame back to the
 * kernel (MADV_DONTNEED: the next touch maps a zero page). The bounds come
 * from the thread's own stack as glibc reports it, taken once; without
 * them nothing is released.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend-cpg.h"

/* What stays resident below the caller's frame: the next calls' frames. */
#define KEEP_BELOW (16u << 10)

void vip_cl_cpg_stack_release(struct vip_cl_cpg_stack *s)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	long page = sysconf(_SC_PAGESIZE);

	if (!s->known) {
		pthread_attr_t a;
		void *lo = NULL;
		size_t size = 0;

		s->known = true;
		if (pthread_getattr_np(pthread_self(), &a) != 0)
			return;
		if (pthread_attr_getstack(&a, &lo, &size) == 0)
			s->low = (uintptr_t)lo;
		pthread_attr_destroy(&a);
	}
	if (!s->low || page <= 0 || here < s->low + KEEP_BELOW)
		return;
	uintptr_t mask = (uintptr_t)page - 1;
	uintptr_t low = (s->low + mask) & ~mask;
	uintptr_t high = (here - KEEP_BELOW) & ~mask;
	if (high <= low)
		return;
	/* Only the part the stack's mapping covers is touched; the rest is a hole (ENOMEM, harmless). */
	(void)madvise((void *)low, high - low, MADV_DONTNEED);
	s->released++;
}
