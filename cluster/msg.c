/* SPDX-License-Identifier: MIT */
/*
 * The cluster message codec. Every message is one binary record in network
 * byte order:
 *
 *   header   u16 magic 'V''C' | u8 version | u8 type | u32 total length
 *   addr     u8 family (4 or 6) | 4 or 16 bytes
 *   name     u8 length (1..255) | bytes 0x21..0x7e
 *   STATE    u8 flags (bit 0: mature, bit 1: standby, bit 2: unhealthy) | name | u64 view digest | u32 serial |
 *            u32 count | count records:
 *            u8 flags (VIP_CL_R_*) | addr | u64 binding digest |
 *            u64 services digest | [addr followed, with VIP_CL_R_FOLLOW]
 *            records strictly increasing by address |
 *            u32 count | count peers (the ghosts the sender knows, as in CLOSE)
 *   RELEASED u32 count (>= 1) | count addrs
 *   MOVE     addr | name
 *   BALANCE  u8 reserved (0)
 *   CLOSE    u64 view digest | u32 count | count peers, strictly increasing by
 *            (nodeid, pid):
 *            u32 nodeid | u32 pid | u8 flags (bit 0: monitor) | name |
 *            u32 count | count records (as in STATE)
 *   MONITOR  name (the node whose monitor sends it)
 *   FLUSHED  name (that node's monitor removed a dead engine's addresses)
 *   NEIGH    name (the node that learnt them) | u32 count (1..VIP_CL_NEIGH_MAX) |
 *            count entries: u8 op (1 seen, 2 forget) | addr |
 *            u8 length (1..15) | interface name bytes 0x21..0x7e |
 *            [seen: 6-byte MAC | u32 seconds since seen]
 *   trailer  u64 view | u64 seq | 32-byte MAC, after every body (the total
 *            length includes it): filled and checked by cluster/auth.c;
 *            the codec writes zeros and does not look at it
 *
 * The decoder checks everything exactly (OpenBSD imsg style): the total
 * length, every count against the bytes left, reserved bits, families,
 * order, and nothing left over. A message from another protocol version is
 * recognised by its header alone and reported as such.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>

#include "cluster-internal.h"

#define MAGIC 0x5643u
#define HEADER_LEN 8
#define MIN_RECORD_LEN (1 + 5 + 16)
#define MIN_ADDR_LEN 5
#define MIN_PEER_LEN (4 + 4 + 1 + 2 + 4)
#define MIN_NEIGH_LEN (1 + 5 + 2)
#define R_KNOWN                                                                                       \
	(VIP_CL_R_CONFIGURED | VIP_CL_R_HELD | VIP_CL_R_RELEASING | VIP_CL_R_PREFER | VIP_CL_R_DOWN | \
	 VIP_CL_R_FOLLOW)

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint8_t get_u8(struct rd *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

static uint32_t get_u32(struct rd *r)
{
	const uint8_t *p = take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static uint64_t get_u64(struct rd *r)
{
	uint64_t hi = get_u32(r);
	return hi << 32 | get_u32(r);
}

static void get_addr(struct rd *r, struct vip_addr *a)
{
	uint8_t fam = get_u8(r);
	size_t n = fam == 4 ? 4 : fam == 6 ? 16 : 0;

	*a = (struct vip_addr){ .family = fam == 6 ? AF_INET6 : AF_INET };
	if (n == 0) {
		r->bad = true;
		return;
	}
	const uint8_t *p = take(r, n);
	if (p)
		memcpy(a->bytes, p, n);
}

/* u8 length (1..max) | bytes 0x21..0x7e, into name (max + 1 bytes). */
static void get_str(struct rd *r, char *name, size_t max)
{
	uint8_t n = get_u8(r);
	const uint8_t *p = take(r, n);

	name[0] = '\0';
	if (!p || n == 0 || n > max) {
		r->bad = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e) {
			r->bad = true;
			return;
		}
	memcpy(name, p, n);
	name[n] = '\0';
}

static void get_name(struct rd *r, char name[static VIP_CL_NAME_MAX + 1])
{
	get_str(r, name, VIP_CL_NAME_MAX);
}

/* u32 count | count records, strictly increasing by address. */
static int decode_records(struct rd *r, struct vip_cl_record **ret, size_t *ret_n)
{
	uint32_t n = get_u32(r);
	if (r->bad || n > r->left / MIN_RECORD_LEN)
		return -EBADMSG;
	struct vip_cl_record *recs = calloc(n ? n : 1, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	*ret = recs; /* owned by the message from here: freed on error too */
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct vip_cl_record *rec = &recs[i];
		rec->flags = get_u8(r);
		if (rec->flags & ~R_KNOWN)
			return -EBADMSG;
		get_addr(r, &rec->addr);
		rec->binding_digest = get_u64(r);
		rec->services_digest = get_u64(r);
		if (rec->flags & VIP_CL_R_FOLLOW)
			get_addr(r, &rec->follow);
		if (i > 0 && !r->bad && vip_addr_cmp(&recs[i - 1].addr, &rec->addr) >= 0)
			return -EBADMSG;
		*ret_n = i + 1;
	}
	return r->bad ? -EBADMSG : 0;
}

static bool peer_before(const struct vip_cl_peer *a, const struct vip_cl_peer *b)
{
	return a->nodeid < b->nodeid || (a->nodeid == b->nodeid && a->pid < b->pid);
}

/* u32 count | count peers, strictly increasing by (nodeid, pid). */
static int decode_peers(struct rd *r, struct vip_cl_msg *m)
{
	uint32_t n = get_u32(r);
	if (r->bad || n > r->left / MIN_PEER_LEN)
		return -EBADMSG;
	m->peers = calloc(n ? n : 1, sizeof(*m->peers));
	if (!m->peers)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct vip_cl_peer *pe = &m->peers[i];
		m->n_peers = i + 1;
		pe->nodeid = get_u32(r);
		pe->pid = get_u32(r);
		uint8_t flags = get_u8(r);
		if (flags & ~1u)
			return -EBADMSG;
		pe->monitor = flags & 1;
		get_name(r, pe->name);
		if (r->bad || (i > 0 && !peer_before(&m->peers[i - 1], pe)))
			return -EBADMSG;
		int e = decode_records(r, &pe->records, &pe->n_records);
		if (e < 0)
			return e;
	}
	return 0;
}

static int decode_state(struct rd *r, struct vip_cl_msg *m)
{
	uint8_t flags = get_u8(r);
	if (flags & ~(1u | VIP_CL_OUT_ALL << 1))
		return -EBADMSG;
	m->mature = flags & 1;
	m->out = (uint8_t)(flags >> 1);
	get_name(r, m->name);
	m->view = get_u64(r);
	m->serial = get_u32(r);
	if (r->bad)
		return -EBADMSG;
	int e = decode_records(r, &m->records, &m->n_records);
	return e < 0 ? e : decode_peers(r, m);
}

static int decode_released(struct rd *r, struct vip_cl_msg *m)
{
	uint32_t n = get_u32(r);
	if (r->bad || n == 0 || n > r->left / MIN_ADDR_LEN)
		return -EBADMSG;
	m->addrs = calloc(n, sizeof(*m->addrs));
	if (!m->addrs)
		return -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++)
		get_addr(r, &m->addrs[i]);
	m->n_addrs = n;
	return r->bad ? -EBADMSG : 0;
}

static int decode_neigh(struct rd *r, struct vip_cl_msg *m)
{
	get_name(r, m->name);
	uint32_t n = get_u32(r);
	if (r->bad || n == 0 || n > VIP_CL_NEIGH_MAX || n > r->left / MIN_NEIGH_LEN)
		return -EBADMSG;
	m->neighs = calloc(n, sizeof(*m->neighs));
	if (!m->neighs)
		return -ENOMEM;
	m->n_neighs = n;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct vip_cl_neigh *e = &m->neighs[i];
		e->op = get_u8(r);
		if (e->op != VIP_CL_NEIGH_SEEN && e->op != VIP_CL_NEIGH_FORGET)
			return -EBADMSG;
		get_addr(r, &e->addr);
		get_str(r, e->ifname, VIP_CL_IFNAME_MAX);
		if (e->op != VIP_CL_NEIGH_SEEN)
			continue;
		const uint8_t *mac = take(r, VIP_CL_MAC_LEN);
		if (mac)
			memcpy(e->mac, mac, VIP_CL_MAC_LEN);
		e->age_s = get_u32(r);
	}
	return r->bad ? -EBADMSG : 0;
}

static int decode_body(struct rd *r, struct vip_cl_msg *m)
{
	switch (m->type) {
	case VIP_CL_MSG_STATE:
		return decode_state(r, m);
	case VIP_CL_MSG_RELEASED:
		return decode_released(r, m);
	case VIP_CL_MSG_MOVE:
		get_addr(r, &m->addr);
		get_name(r, m->name);
		return r->bad ? -EBADMSG : 0;
	case VIP_CL_MSG_BALANCE:
		return get_u8(r) != 0 || r->bad ? -EBADMSG : 0;
	case VIP_CL_MSG_CLOSE:
		m->view = get_u64(r);
		return r->bad ? -EBADMSG : decode_peers(r, m);
	case VIP_CL_MSG_MONITOR:
	case VIP_CL_MSG_FLUSHED:
		get_name(r, m->name);
		return r->bad ? -EBADMSG : 0;
	case VIP_CL_MSG_NEIGH:
		return decode_neigh(r, m);
	default:
		return -EBADMSG;
	}
}

int vip_cl_msg_decode(const void *data, size_t len, struct vip_cl_msg *ret)
{
	struct vip_cl_msg m = { 0 };
	struct rd r = { .p = data, .left = len };

	if (!data || len < HEADER_LEN)
		return -EBADMSG;
	uint32_t magic = (uint32_t)get_u8(&r) << 8;
	magic |= get_u8(&r);
	if (magic != MAGIC)
		return -EBADMSG;
	m.version = get_u8(&r);
	if (m.version != VIP_CL_PROTO_VERSION) {
		*ret = (struct vip_cl_msg){ .version = m.version };
		return -EPROTONOSUPPORT;
	}
	m.type = get_u8(&r);
	if (get_u32(&r) != len || r.left < VIP_CL_AUTH_LEN)
		return -EBADMSG;
	r.left -= VIP_CL_AUTH_LEN; /* the body ends where the trailer starts */
	int e = decode_body(&r, &m);
	if (e == 0 && r.left != 0)
		e = -EBADMSG; /* trailing bytes */
	if (e < 0) {
		vip_cl_msg_clear(&m);
		return e;
	}
	*ret = m;
	return 0;
}

void vip_cl_msg_clear(struct vip_cl_msg *m)
{
	if (!m)
		return;
	free(m->records);
	free(m->addrs);
	for (size_t i = 0; i < m->n_peers; i++)
		free(m->peers[i].records);
	free(m->peers);
	free(m->neighs);
	*m = (struct vip_cl_msg){ 0 };
}

/* ---- encoding ---- */

struct wr {
	uint8_t *buf;
	size_t len;
};

static void put(struct wr *w, const void *p, size_t n)
{
	if (w->buf)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_u8(struct wr *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_u32(struct wr *w, uint32_t v)
{
	uint32_t be = htonl(v);
	put(w, &be, 4);
}

static void put_u64(struct wr *w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

static void put_addr(struct wr *w, const struct vip_addr *a)
{
	put_u8(w, a->family == AF_INET6 ? 6 : 4);
	put(w, a->bytes, vip_addr_len(a));
}

static void put_name(struct wr *w, const char *name)
{
	size_t n = strlen(name);
	put_u8(w, (uint8_t)n);
	put(w, name, n);
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, VIP_CL_NAME_MAX + 1);
	if (n == 0 || n > VIP_CL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)name[i] < 0x21 || (uint8_t)name[i] > 0x7e)
			return false;
	return true;
}

static bool family_ok(const struct vip_addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

static bool records_ok(const struct vip_cl_record *recs, size_t n)
{
	if (n > UINT32_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct vip_cl_record *rec = &recs[i];
		if (!family_ok(&rec->addr) || (rec->flags & ~R_KNOWN) ||
		    ((rec->flags & VIP_CL_R_FOLLOW) && !family_ok(&rec->follow)) ||
		    (i > 0 && vip_addr_cmp(&recs[i - 1].addr, &rec->addr) >= 0))
			return false;
	}
	return true;
}

static bool peers_ok(const struct vip_cl_peer *pe, size_t n)
{
	if (n > UINT32_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_ok(pe[i].name) || !records_ok(pe[i].records, pe[i].n_records) ||
		    (i > 0 && !peer_before(&pe[i - 1], &pe[i])))
			return false;
	return true;
}

static bool neighs_ok(const struct vip_cl_neigh *e, size_t n)
{
	if (n == 0 || n > VIP_CL_NEIGH_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(e[i].ifname, VIP_CL_IFNAME_MAX + 1);
		if ((e[i].op != VIP_CL_NEIGH_SEEN && e[i].op != VIP_CL_NEIGH_FORGET) ||
		    !family_ok(&e[i].addr) || len > VIP_CL_IFNAME_MAX || !name_ok(e[i].ifname))
			return false;
	}
	return true;
}

static int check(const struct vip_cl_msg *m)
{
	switch (m->type) {
	case VIP_CL_MSG_STATE:
		if (!name_ok(m->name) || (m->out & ~VIP_CL_OUT_ALL) || !records_ok(m->records, m->n_records))
			return -EINVAL;
		return peers_ok(m->peers, m->n_peers) ? 0 : -EINVAL;
	case VIP_CL_MSG_CLOSE:
		return peers_ok(m->peers, m->n_peers) ? 0 : -EINVAL;
	case VIP_CL_MSG_RELEASED:
		if (m->n_addrs == 0 || m->n_addrs > UINT32_MAX)
			return -EINVAL;
		for (size_t i = 0; i < m->n_addrs; i++)
			if (!family_ok(&m->addrs[i]))
				return -EINVAL;
		return 0;
	case VIP_CL_MSG_MOVE:
		return family_ok(&m->addr) && name_ok(m->name) ? 0 : -EINVAL;
	case VIP_CL_MSG_BALANCE:
		return 0;
	case VIP_CL_MSG_MONITOR:
	case VIP_CL_MSG_FLUSHED:
		return name_ok(m->name) ? 0 : -EINVAL;
	case VIP_CL_MSG_NEIGH:
		return name_ok(m->name) && neighs_ok(m->neighs, m->n_neighs) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

static void put_records(struct wr *w, const struct vip_cl_record *recs, size_t n)
{
	put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct vip_cl_record *rec = &recs[i];
		put_u8(w, rec->flags);
		put_addr(w, &rec->addr);
		put_u64(w, rec->binding_digest);
		put_u64(w, rec->services_digest);
		if (rec->flags & VIP_CL_R_FOLLOW)
			put_addr(w, &rec->follow);
	}
}

static void put_peers(struct wr *w, const struct vip_cl_peer *pe, size_t n)
{
	put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put_u32(w, pe[i].nodeid);
		put_u32(w, pe[i].pid);
		put_u8(w, pe[i].monitor ? 1 : 0);
		put_name(w, pe[i].name);
		put_records(w, pe[i].records, pe[i].n_records);
	}
}

static void put_neighs(struct wr *w, const struct vip_cl_neigh *e, size_t n)
{
	put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put_u8(w, e[i].op);
		put_addr(w, &e[i].addr);
		put_name(w, e[i].ifname);
		if (e[i].op != VIP_CL_NEIGH_SEEN)
			continue;
		put(w, e[i].mac, VIP_CL_MAC_LEN);
		put_u32(w, e[i].age_s);
	}
}

static void put_body(struct wr *w, const struct vip_cl_msg *m)
{
	switch (m->type) {
	case VIP_CL_MSG_STATE:
		put_u8(w, (uint8_t)((m->mature ? 1 : 0) | m->out << 1));
		put_name(w, m->name);
		put_u64(w, m->view);
		put_u32(w, m->serial);
		put_records(w, m->records, m->n_records);
		put_peers(w, m->peers, m->n_peers);
		break;
	case VIP_CL_MSG_CLOSE:
		put_u64(w, m->view);
		put_peers(w, m->peers, m->n_peers);
		break;
	case VIP_CL_MSG_RELEASED:
		put_u32(w, (uint32_t)m->n_addrs);
		for (size_t i = 0; i < m->n_addrs; i++)
			put_addr(w, &m->addrs[i]);
		break;
	case VIP_CL_MSG_MOVE:
		put_addr(w, &m->addr);
		put_name(w, m->name);
		break;
	case VIP_CL_MSG_MONITOR:
	case VIP_CL_MSG_FLUSHED:
		put_name(w, m->name);
		break;
	case VIP_CL_MSG_NEIGH:
		put_name(w, m->name);
		put_neighs(w, m->neighs, m->n_neighs);
		break;
	default:
		put_u8(w, 0);
		break;
	}
}

static void put_all(struct wr *w, const struct vip_cl_msg *m, uint32_t total)
{
	put_u8(w, MAGIC >> 8);
	put_u8(w, MAGIC & 0xff);
	put_u8(w, VIP_CL_PROTO_VERSION);
	put_u8(w, (uint8_t)m->type);
	put_u32(w, total);
	put_body(w, m);
	for (size_t i = 0; i < VIP_CL_AUTH_LEN; i++)
		put_u8(w, 0); /* the trailer: cluster/auth.c seals it at send time */
}

int vip_cl_msg_encode(const struct vip_cl_msg *m, uint8_t **ret_data, size_t *ret_len)
{
	struct wr w = { 0 };

	assert(m);
	if (check(m) < 0)
		return -EINVAL;
	put_all(&w, m, 0); /* measure */
	if (w.len > UINT32_MAX)
		return -EINVAL;
	size_t total = w.len;
	w = (struct wr){ .buf = malloc(total) };
	if (!w.buf)
		return -ENOMEM;
	put_all(&w, m, (uint32_t)total);
	*ret_data = w.buf;
	*ret_len = total;
	return 0;
}

const char *vip_cl_msg_type_to_string(enum vip_cl_msg_type t)
{
	static const char *const names[] = {
		[VIP_CL_MSG_STATE] = "STATE",     [VIP_CL_MSG_RELEASED] = "RELEASED",
		[VIP_CL_MSG_MOVE] = "MOVE",       [VIP_CL_MSG_BALANCE] = "BALANCE",
		[VIP_CL_MSG_CLOSE] = "CLOSE",     [VIP_CL_MSG_MONITOR] = "MONITOR",
		[VIP_CL_MSG_FLUSHED] = "FLUSHED", [VIP_CL_MSG_NEIGH] = "NEIGH",
	};
	if ((unsigned)t >= ARRAY_SIZE(names) || !names[t])
		return "unknown";
	return names[t];
}
