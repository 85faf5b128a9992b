/* SPDX-License-Identifier: MIT */
/*
 * What changed between two configurations, for `config reload`: which parts
 * can be applied live and which need a restart. Only effective values count;
 * a setting that merely moved to another line is no change.
 */
#include <string.h>

#include "schema-internal.h"

static bool strv_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!streq_ptr(a[i], b[i]))
			return false;
	return true;
}

static bool security_equal(const struct vipd_security *a, const struct vipd_security *b)
{
	if (!streq_ptr(a->user, b->user) || a->uid != b->uid || !streq_ptr(a->group, b->group) ||
	    a->gid != b->gid)
		return false;
	if (!streq_ptr(a->capabilities, b->capabilities) || a->cap_permitted != b->cap_permitted ||
	    a->cap_effective != b->cap_effective)
		return false;
	if (!streq_ptr(a->privileges, b->privileges) || !streq_ptr(a->chroot, b->chroot))
		return false;
	if (!strv_equal(a->supplemental_groups, a->n_supplemental, b->supplemental_groups, b->n_supplemental))
		return false;
	return a->n_supplemental == 0 || memcmp(a->supplemental_gids, b->supplemental_gids,
						a->n_supplemental * sizeof(*a->supplemental_gids)) == 0;
}

static bool topology_equal(const struct vipd_cluster *a, const struct vipd_cluster *b)
{
	if (a->n_topology != b->n_topology)
		return false;
	for (size_t i = 0; i < a->n_topology; i++) {
		const struct vipd_topology *x = &a->topology[i], *y = &b->topology[i];
		if (!vip_addr_equal(&x->network, &y->network) || x->network_len != y->network_len ||
		    x->cidrmask != y->cidrmask || !streq_ptr(x->interface, y->interface))
			return false;
	}
	return true;
}

static bool duravip_equal(const struct vipd_config *a, const struct vipd_duravip *x,
			  const struct vipd_config *b, const struct vipd_duravip *y)
{
	return vip_addr_equal(&x->addr, &y->addr) && x->prefix == y->prefix &&
	       streq_ptr(vip_config_duravip_interface(a, x), vip_config_duravip_interface(b, y)) &&
	       streq_ptr(x->binding, y->binding) && streq_ptr(x->preference, y->preference) &&
	       streq_ptr(x->follow, y->follow) &&
	       strv_equal(x->services, x->n_services, y->services, y->n_services);
}

static bool duravips_equal(const struct vipd_config *a, const struct vipd_config *b)
{
	if (a->n_duravips != b->n_duravips)
		return false;
	for (size_t i = 0; i < a->n_duravips; i++)
		if (!duravip_equal(a, &a->duravips[i], b, &b->duravips[i]))
			return false;
	return true;
}

static unsigned cluster_diff(const struct vipd_cluster *a, const struct vipd_cluster *b)
{
	unsigned ch = 0;

	if (a->enabled != b->enabled)
		ch |= VIP_CHANGE_CLUSTER_MODE;
	if (!streq_ptr(a->nodename, b->nodename) || !streq_ptr(a->cluster_group, b->cluster_group) ||
	    !streq_ptr(a->authkey, b->authkey))
		ch |= VIP_CHANGE_IDENTITY;
	if (!topology_equal(a, b))
		ch |= VIP_CHANGE_TOPOLOGY;
	/* cluster behaviour that the engine re-reads live; the quorum policy included */
	if (a->view_mature_time_ms != b->view_mature_time_ms ||
	    a->view_balance_interval_ms != b->view_balance_interval_ms ||
	    a->duravip_balance_set_size != b->duravip_balance_set_size ||
	    a->if_check_interval_ms != b->if_check_interval_ms || a->if_down_limit != b->if_down_limit ||
	    a->quorum_policy != b->quorum_policy ||
	    a->duravip_takeover_delay_ms != b->duravip_takeover_delay_ms ||
	    a->takeover_guard != b->takeover_guard || a->corosync_token_ms != b->corosync_token_ms ||
	    a->duravip_round_timeout_ms != b->duravip_round_timeout_ms ||
	    a->duravip_liveness_timeout_ms != b->duravip_liveness_timeout_ms)
		ch |= VIP_CHANGE_TIMING;
	if (a->arp_all_hosts != b->arp_all_hosts || a->arp_mode != b->arp_mode ||
	    a->arp_cache_size != b->arp_cache_size || a->arp_cache_max_age_ms != b->arp_cache_max_age_ms ||
	    a->arp_repeat != b->arp_repeat || a->arp_repeat_interval_ms != b->arp_repeat_interval_ms ||
	    a->arp_refresh_interval_ms != b->arp_refresh_interval_ms || a->arp_pace != b->arp_pace)
		ch |= VIP_CHANGE_ANNOUNCE;
	if (a->standby != b->standby)
		ch |= VIP_CHANGE_STANDBY;
	return ch;
}

static bool check_equal(const struct vipd_health_check *a, const struct vipd_health_check *b)
{
	return streq_ptr(a->name, b->name) && a->kind == b->kind && streq_ptr(a->target, b->target) &&
	       streq_ptr(a->expect, b->expect) && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->fall == b->fall && a->rise == b->rise &&
	       a->initial_healthy == b->initial_healthy;
}

static bool checks_equal(const struct vipd_config *a, const struct vipd_config *b)
{
	if (a->n_checks != b->n_checks)
		return false;
	for (size_t i = 0; i < a->n_checks; i++)
		if (!check_equal(&a->checks[i], &b->checks[i]))
			return false;
	return true;
}

unsigned vip_config_diff(const struct vipd_config *old, const struct vipd_config *new_)
{
	unsigned ch = 0;

	if (!old || !new_)
		return old == new_ ? 0
				   : VIP_CHANGE_SECURITY | VIP_CHANGE_IDENTITY | VIP_CHANGE_CLUSTER_MODE |
					     VIP_CHANGE_DURAVIPS | VIP_CHANGE_TOPOLOGY | VIP_CHANGE_TIMING |
					     VIP_CHANGE_ANNOUNCE | VIP_CHANGE_CONTROL | VIP_CHANGE_STANDBY |
					     VIP_CHANGE_HEALTH | VIP_CHANGE_NOTIFY;
	if (!security_equal(&old->security, &new_->security))
		ch |= VIP_CHANGE_SECURITY;
	ch |= cluster_diff(&old->cluster, &new_->cluster);
	if (!duravips_equal(old, new_))
		ch |= VIP_CHANGE_DURAVIPS;
	if (!streq_ptr(old->control.admin_group, new_->control.admin_group) ||
	    old->control.admin_gid != new_->control.admin_gid)
		ch |= VIP_CHANGE_CONTROL;
	if (!checks_equal(old, new_))
		ch |= VIP_CHANGE_HEALTH;
	if (!streq_ptr(old->notify.command, new_->notify.command) ||
	    old->notify.timeout_ms != new_->notify.timeout_ms)
		ch |= VIP_CHANGE_NOTIFY;
	return ch;
}
