/* SPDX-License-Identifier: MIT */
/* The backend table: the one place that knows which backends are built in. */
#include "cluster-internal.h"

static const struct vip_cl_backend_ops *const backends[] = {
#if VIP_CL_HAVE_CPG
	&vip_cl_backend_cpg,
#endif
	&vip_cl_backend_solo,
};

const struct vip_cl_backend_ops *vip_cl_backend_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *vip_cl_reason_to_string(enum vip_cl_reason r)
{
	static const char *const names[] = {
		[VIP_CL_REASON_JOIN] = "join",         [VIP_CL_REASON_LEAVE] = "leave",
		[VIP_CL_REASON_NODEDOWN] = "nodedown", [VIP_CL_REASON_PROCDOWN] = "procdown",
		[VIP_CL_REASON_UNKNOWN] = "unknown",
	};
	return (unsigned)r < ARRAY_SIZE(names) ? names[r] : "unknown";
}
