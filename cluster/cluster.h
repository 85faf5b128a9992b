/* SPDX-License-Identifier: MIT */
/*
 * cluster/: who owns which DuraVIP (docs/design.md §3).
 *
 * Three layers, one header:
 *
 *   1. membership backends (struct vip_cl_backend_ops): corosync CPG and
 *      "solo". They deliver views and messages in one total order and say
 *      whether the partition is quorate. The only part that does I/O.
 *   2. the protocol (struct vip_cl_proto): pure and I/O-free. The caller feeds
 *      it what the backend delivers, the time, and what the engine did; it
 *      answers through one drain (messages to multicast, addresses to hold or
 *      release; a release never waits for the network) and a query API for
 *      the console. A view's STATE round closes when every member spoke, or
 *      at duravip_round_timeout by an ordered CLOSE: members not heard are
 *      silent (they keep what they hold, get nothing new); a crashed engine
 *      whose node runs a monitor leaves a ghost until the monitor flushed its
 *      addresses. The protocol, its messages and its limits: docs/protocol.md.
 *   3. the assignment (vip_cl_assign): one pure, deterministic function every
 *      member runs on the same inputs at the same point of the order.
 *
 * Library code: nothing here logs, prints or exits. Times are milliseconds of
 * CLOCK_MONOTONIC supplied by the caller.
 *
 * Typical daemon wiring (see vipd/):
 *
 *   ops = vip_cl_backend_find(cfg->cluster.enabled ? "cpg" : "solo");
 *   ops->connect(&cbs, ctx, &be);       // as root, before the privilege drop
 *   vip_cl_proto_new(cfg, &proto);
 *   vip_cl_key_load(cfg->cluster.authkey, 0, &key);  // as root; then
 *   vip_cl_proto_set_key(proto, key);                 // every message sealed and checked
 *   ops->set_liveness_timeout(be, cfg->cluster.duravip_liveness_timeout_ms);  // if not NULL
 *   ops->join(be, cfg->cluster.cluster_group);
 *   loop_add_fd(loop, ops->fd(be), EPOLLIN, ...)  -> ops->dispatch(be)
 *     cbs.view     -> vip_cl_proto_on_view(proto, view, now)
 *     cbs.message  -> vip_cl_proto_on_message(proto, sender, data, len, now)
 *     cbs.quorum   -> vip_cl_proto_on_quorum(proto, quorate, now)
 *     cbs.lost     -> vip_cl_proto_on_lost(proto, now); free backend; reconnect with back-off
 *     cbs.liveness -> false: apply the quorum policy as on lost, keep the backend
 *   timer at vip_cl_proto_next_timeout() -> vip_cl_proto_on_tick(proto, now)
 *   after every input: vip_cl_proto_drain(proto, &sink, &blocked):
 *     sink.send    -> ops->send(be, data, len)  (-EAGAIN: blocked, drain again later)
 *     sink.hold    -> engine plumbs addr
 *     sink.release -> engine unplumbs addr, then vip_cl_proto_local_released(proto, addr, now)
 */
#ifndef VIP_CLUSTER_H
#define VIP_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Longest node name carried in a message (bytes, without NUL). */
#define VIP_CL_NAME_MAX 255
/* Members the assignment handles (bit masks). Members past this, in name order, get nothing. */
#define VIP_CL_MAX_MEMBERS 64
/*
 * Protocol version carried in every message. 2: every message ends with the
 * authentication trailer (docs/protocol.md, "Authentication"); 3: STATE
 * says why its sender is no candidate (VIP_CL_OUT_*, docs/protocol.md
 * "Candidacy"). Members of different versions do not work together (each
 * leaves the other out).
 */
#define VIP_CL_PROTO_VERSION 3

/* ------------------------------------------------------------------ */
/* Membership                                                         */
/* ------------------------------------------------------------------ */

/* Why a member joined or left a view (CPG_REASON_*). */
enum vip_cl_reason {
	VIP_CL_REASON_JOIN,     /* joined the group */
	VIP_CL_REASON_LEAVE,    /* left the group on purpose */
	VIP_CL_REASON_NODEDOWN, /* its node left the corosync membership */
	VIP_CL_REASON_PROCDOWN, /* its process died or lost corosync */
	VIP_CL_REASON_UNKNOWN,
	_VIP_CL_REASON_MAX,
};
const char *vip_cl_reason_to_string(enum vip_cl_reason r);

/* One group member: a process on a node. (nodeid, pid) identifies it. */
struct vip_cl_member {
	uint32_t nodeid;           /* corosync node id; solo: 1 */
	uint32_t pid;              /* process id on that node */
	enum vip_cl_reason reason; /* only meaningful in joined/left lists */
};

/*
 * A view: the ordered member list every member sees alike, and what changed.
 * Pointers are valid only during the callback that delivers it.
 */
struct vip_cl_view {
	/*
	 * cpg: totem ring sequence as last reported (corosync may report it after
	 * the view; 0 before any); solo: a counter
	 */
	uint64_t ring_seq;
	const struct vip_cl_member *members; /* in the backend's (shared) order */
	size_t n_members;
	const struct vip_cl_member *joined;
	size_t n_joined;
	const struct vip_cl_member *left;
	size_t n_left;
	ssize_t self; /* index of this process in members, -1 if absent */
};

/* Callbacks a backend calls from dispatch(), always in delivery order. */
struct vip_cl_backend_cbs {
	/* A new view. */
	void (*view)(void *userdata, const struct vip_cl_view *v);
	/* A message multicast by sender, in agreed order; data valid during the call. */
	void (*message)(void *userdata, const struct vip_cl_member *sender, const void *data, size_t len);
	/*
	 * Quorum changed (also called once after join with the current value).
	 * Optional: when NULL, the corosync backend does not connect to the
	 * quorum service at all (a monitor needs no quorum; its IPC rings cost
	 * memory, docs/port.md "Memory").
	 */
	void (*quorum)(void *userdata, bool quorate);
	/*
	 * The membership engine went away (corosync stopped or the connection
	 * broke): error is a -errno. The backend is dead; the caller frees it,
	 * applies the quorum policy (vip_cl_proto_on_lost) and reconnects with
	 * back-off. A reconnect after the privilege drop works only when the
	 * daemon's user/group is allowed in corosync's uidgid configuration
	 * (/etc/corosync/uidgid.d/); the caller should say so in its log.
	 */
	void (*lost)(void *userdata, int error);
	/*
	 * Optional. The membership engine stopped answering (alive false) or
	 * answers again (true), while the connection still stands: see
	 * set_liveness_timeout. Called once per change; never after lost().
	 * A caller should behave as on lost() (apply the quorum policy) but
	 * keep the backend: it may come back.
	 */
	void (*liveness)(void *userdata, bool alive);
};

struct vip_cl_backend; /* opaque: one connected backend instance */

/* A membership backend. Every member takes the instance returned by connect(). */
struct vip_cl_backend_ops {
	const char *name; /* "cpg", "solo" */
	/*
	 * Connect to the membership engine (as root, before the privilege drop).
	 * cbs is copied; userdata is passed to every callback. 0 or -errno
	 * (-ECONNREFUSED: corosync not running; cpg: -ETIMEDOUT when corosync
	 * did not answer within a second); *ret untouched on failure.
	 */
	int (*connect)(const struct vip_cl_backend_cbs *cbs, void *userdata, struct vip_cl_backend **ret);
	/*
	 * Disconnect and free; accepts NULL. No callbacks run. Never hangs: cpg
	 * sends what is queued and finalizes within a bounded wait, else leaves
	 * that to its worker thread, which finishes once corosync answers or dies.
	 */
	void (*free)(struct vip_cl_backend *b);
	/*
	 * Join the group (cluster_group). The first view (with self) follows via
	 * dispatch. 0 or -errno (cpg: queued; a refusal comes as lost()).
	 */
	int (*join)(struct vip_cl_backend *b, const char *group);
	/* Leave the group (planned stop). 0 or -errno. */
	int (*leave)(struct vip_cl_backend *b);
	/* One pollable fd (EPOLLIN = dispatch() has work). Owned by the backend. */
	int (*fd)(struct vip_cl_backend *b);
	/*
	 * Deliver everything pending, without blocking, through the callbacks.
	 * 0, or -errno after calling lost().
	 */
	int (*dispatch)(struct vip_cl_backend *b);
	/*
	 * Multicast data to the group in agreed (total) order; the sender gets
	 * it back too. Never blocks: data is copied into the backend's bounded
	 * queue and sent in order later (cpg: by its worker thread, which
	 * retries corosync's CS_ERR_TRY_AGAIN itself; a message corosync
	 * refuses for good makes the next dispatch() call lost()). 0 (queued),
	 * -EAGAIN (the queue is full: keep it and retry later, e.g. after the
	 * next dispatch), -ENOTCONN (not joined), -EMSGSIZE, or another -errno.
	 */
	int (*send)(struct vip_cl_backend *b, const void *data, size_t len);
	/* Is this partition quorate now? (solo: always; cpg without a quorum provider: always). */
	bool (*is_quorate)(struct vip_cl_backend *b);
	/* This process as a member (valid after connect). 0 or -errno. */
	int (*local)(struct vip_cl_backend *b, struct vip_cl_member *ret);
	/*
	 * Optional (solo: NULL). Watch the membership engine: not alive when a
	 * request to it has been outstanding longer than timeout_ms (the
	 * backend probes at least every timeout_ms/3), or when the backend's
	 * own heartbeat, multicast every quarter of its deadline, has not been
	 * delivered back within that deadline, max(10 x timeout_ms, 2 s),
	 * counted from when the engine last answered after a stall. Changes
	 * are reported through cbs.liveness from dispatch(); the backend's fd
	 * fires for the checks, so they run while nothing else happens. 0
	 * turns it off (and reports alive if it was not). Call after connect,
	 * again to change it.
	 */
	void (*set_liveness_timeout)(struct vip_cl_backend *b, uint32_t timeout_ms);
};

extern const struct vip_cl_backend_ops vip_cl_backend_solo;
/* The backend by name ("cpg", "solo"), or NULL when unknown or not built in. */
const struct vip_cl_backend_ops *vip_cl_backend_find(const char *name);

/*
 * Why a member is no candidate (docs/protocol.md, "Candidacy"); 0: it is
 * one. Carried in its STATE. Such a member is given nothing, hands off what
 * it holds by the normal hand-off, and counts as joining again (maturity)
 * when it becomes a candidate again.
 */
enum {
	VIP_CL_OUT_STANDBY = 1u << 0,   /* the operator put the node in standby */
	VIP_CL_OUT_UNHEALTHY = 1u << 1, /* a health check of the node fails */
	VIP_CL_OUT_ALL = VIP_CL_OUT_STANDBY | VIP_CL_OUT_UNHEALTHY,
};
/* "standby", "unhealthy", "standby unhealthy" or "-" (none) into buf; returns buf. */
const char *vip_cl_out_format(uint32_t out, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Per-DuraVIP state words                                            */
/* ------------------------------------------------------------------ */

/* Flags shown by `cluster duravip show`, as Momentum names them. */
enum {
	VIP_CL_F_OWNED = 1u << 0,    /* an owner holds it (no hand-off pending) */
	VIP_CL_F_SAFE = 1u << 1,     /* members agree on its binding and services */
	VIP_CL_F_CONFLICT = 1u << 2, /* two or more members prefer it: no preference used */
	VIP_CL_F_UNSAFE = 1u << 3,   /* members disagree on which services use it */
	VIP_CL_F_BROKEN = 1u << 4,   /* members disagree on its binding name: not managed */
	VIP_CL_F_MOVING = 1u << 5,   /* hand-off pending: waiting for the old holder's RELEASED */
	VIP_CL_F_PINNED = 1u << 6,   /* placed by an operator move (until the next view) */
};
/* "owned safe", "UNSAFE MOVING", ... into buf; returns buf ("-" when none). */
const char *vip_cl_flags_format(uint32_t flags, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* The assignment: pure, deterministic, independent of input order    */
/* ------------------------------------------------------------------ */

/* One member as the assignment sees it. Names must be distinct. */
struct vip_cl_anode {
	const char *name;
	bool mature; /* its view is view_mature_time old (rule 4 gate) */
	/*
	 * A silent member (or a ghost, docs/protocol.md): it keeps what it
	 * keeps, no other member may plumb what it holds, and it is given
	 * nothing new (no candidate, no preference, no balancing).
	 */
	bool silent;
	/*
	 * Not a candidate (VIP_CL_OUT_*: standby, unhealthy): given nothing,
	 * keeps nothing (its holds only delay the new owner's plumbing, as in
	 * a move), its preference is ignored, never a balancing source or
	 * target.
	 */
	bool out;
};

/* One DuraVIP. Masks: bit i = nodes[i] of the input. */
struct vip_cl_avip {
	struct vip_addr addr;
	uint64_t candidates; /* members that may be given it (configured, interface up) */
	uint64_t holders;    /* members that may have it plumbed now */
	uint64_t keepers;    /* holders that keep it (not releasing); subset of holders */
	uint64_t prefer;     /* members whose configuration prefers them */
	uint32_t flags;      /* in: VIP_CL_F_UNSAFE / VIP_CL_F_BROKEN from the digests */
	int prev_owner;      /* previous owner (node index) or -1 */
	bool prev_pinned;    /* previous owner came from an operator move */
	int move_to;         /* operator move target (node index) or -1 */
	ssize_t follow;      /* index (in vips) of the DuraVIP it follows, or -1 */
};

struct vip_cl_assign_in {
	const struct vip_cl_anode *nodes;
	size_t n_nodes; /* at most VIP_CL_MAX_MEMBERS */
	const struct vip_cl_avip *vips;
	size_t n_vips;
	bool balance;              /* run one balancing round */
	uint32_t balance_set_size; /* moves per balancing round */
};

struct vip_cl_aout {
	int owner;      /* node index or -1 (unowned / not managed) */
	bool plumb;     /* owner may plumb now: no other member may hold it */
	uint32_t flags; /* VIP_CL_F_* */
};

struct vip_cl_assign_stats {
	size_t moved;    /* DuraVIPs whose owner differs from prev_owner (prev_owner >= 0) */
	size_t placed;   /* DuraVIPs with no previous owner that got one */
	size_t balanced; /* moves made by the balancing round */
};

/*
 * Compute the owner of every DuraVIP (docs/design.md §3 rules 1-6):
 *   - BROKEN: unowned. Kept by a silent node: that node (the highest
 *     rendezvous score among several), nothing else applies.
 *   - no live candidate: unowned. Silent nodes are never candidates, their
 *     preference is ignored, balancing neither takes from nor gives to them.
 *     Nodes that are out (standby, unhealthy) are never candidates either
 *     and keep nothing: what they hold goes to another candidate, which
 *     plumbs once they no longer hold it.
 *   - operator move to a candidate; else the previous owner if still a candidate;
 *     else the one keeper; two or more keepers: the preferred one if it keeps,
 *     else the highest rendezvous hash (node name, address);
 *     else the preferred member; else the least-loaded candidate, ties broken
 *     by rendezvous hash (DuraVIPs taken in address order).
 *   - rule 4: a mature preferred candidate gets it back (not when pinned).
 *   - balance: up to balance_set_size moves from the most to the least loaded
 *     while they differ by more than one (never a preferred or pinned one).
 *   - a follower gets its leader's owner.
 * out has n_vips entries in input order; st may be NULL, in may not, nor
 * nodes, vips or out while their count is non-zero (asserted: a caller's bug).
 * Result depends only on the names, addresses and masks, never on the order
 * of nodes or vips.
 * Returns 0, -EINVAL (more than VIP_CL_MAX_MEMBERS nodes, a NULL or repeated
 * name, a repeated address, an index out of range) or -ENOMEM.
 */
int vip_cl_assign(const struct vip_cl_assign_in *in, struct vip_cl_aout *out, struct vip_cl_assign_stats *st);

/*
 * corosync's effective token timeout from its configuration file (totem {
 * token, token_coefficient } and the nodelist, with corosync's defaults).
 * 0 and *ret_ms, or -errno (-ENOENT: no such file).
 */
int vip_cl_corosync_token(const char *path, uint32_t *ret_ms);
/* corosync's configuration file: $COROSYNC_MAIN_CONFIG_FILE, else /etc/corosync/corosync.conf. */
const char *vip_cl_corosync_conf_path(void);

/*
 * The digest naming a view: a hash of its member list (nodeid, pid) in view
 * order. STATE and CLOSE carry it so that one sent in another view is ignored.
 */
uint64_t vip_cl_view_digest(const struct vip_cl_member *members, size_t n);

/* The rendezvous score of (node name, address): a 64-bit keyed mix. Exposed for tests. */
uint64_t vip_cl_rendezvous(const char *name, const struct vip_addr *a);

/* ------------------------------------------------------------------ */
/* Messages (codec)                                                   */
/* ------------------------------------------------------------------ */

enum vip_cl_msg_type {
	VIP_CL_MSG_STATE = 1,
	VIP_CL_MSG_RELEASED = 2,
	VIP_CL_MSG_MOVE = 3,
	VIP_CL_MSG_BALANCE = 4,
	/* close the current view's STATE round: members not heard are silent */
	VIP_CL_MSG_CLOSE = 5,
	/* name: this member is that node's monitor (vipd/monitor.h), never a candidate */
	VIP_CL_MSG_MONITOR = 6,
	/* name: that node's monitor removed its dead engine's addresses */
	VIP_CL_MSG_FLUSHED = 7,
	/* name: the node that learnt them; neighbour entries (docs/protocol.md §13) */
	VIP_CL_MSG_NEIGH = 8,
	_VIP_CL_MSG_TYPE_MAX,
};

/* Entries one NEIGH message carries at most (about 22 KiB with IPv6 addresses). */
#define VIP_CL_NEIGH_MAX 512
/* Interface name in a NEIGH entry: 1..15 bytes 0x21..0x7e (IFNAMSIZ with the NUL). */
#define VIP_CL_IFNAME_MAX 15
#define VIP_CL_MAC_LEN 6

/* What a NEIGH entry says (vip_cl_neigh.op). */
enum {
	VIP_CL_NEIGH_SEEN = 1,   /* the node talks to the host: mac, age (seconds since seen) */
	VIP_CL_NEIGH_FORGET = 2, /* the host stopped answering: drop the node's entry */
};

/* One neighbour entry of a NEIGH message. */
struct vip_cl_neigh {
	uint8_t op; /* VIP_CL_NEIGH_* */
	struct vip_addr addr;
	char ifname[VIP_CL_IFNAME_MAX + 1];
	uint8_t mac[VIP_CL_MAC_LEN]; /* SEEN */
	uint32_t age_s;              /* SEEN: seconds since the node last saw the host */
};

/* Per-address flags in a STATE record. */
enum {
	VIP_CL_R_CONFIGURED = 1u << 0, /* in the sender's configuration */
	VIP_CL_R_HELD = 1u << 1,       /* the sender may have it plumbed */
	VIP_CL_R_RELEASING = 1u << 2,  /* held but being released */
	VIP_CL_R_PREFER = 1u << 3,     /* Duravip_Preference names the sender */
	VIP_CL_R_DOWN = 1u << 4,       /* the sender cannot host it (interface down) */
	VIP_CL_R_FOLLOW = 1u << 5,     /* follows record.follow */
};

struct vip_cl_record {
	struct vip_addr addr;
	uint8_t flags;            /* VIP_CL_R_* */
	uint64_t binding_digest;  /* hash of the binding name, 0 when none */
	uint64_t services_digest; /* hash of the sorted service list */
	struct vip_addr follow;   /* with VIP_CL_R_FOLLOW */
};

/*
 * A member as another one knows it (docs/protocol.md): CLOSE carries, for
 * each member the closer has not heard in the view, its last known records;
 * STATE carries the ghosts the sender knows (a crashed engine, its records
 * the addresses it may still have plumbed, VIP_CL_R_HELD | VIP_CL_R_RELEASING).
 */
struct vip_cl_peer {
	uint32_t nodeid, pid;
	bool monitor; /* a monitor (no records) */
	char name[VIP_CL_NAME_MAX + 1];
	struct vip_cl_record *records; /* sorted by address, unique; owned */
	size_t n_records;
};

struct vip_cl_msg {
	enum vip_cl_msg_type type;
	uint8_t version;
	/* STATE: sender's node name; MOVE: target node; MONITOR, FLUSHED, NEIGH: the node */
	char name[VIP_CL_NAME_MAX + 1];
	bool mature;                   /* STATE */
	uint8_t out;                   /* STATE: VIP_CL_OUT_*, why the sender is no candidate */
	struct vip_cl_record *records; /* STATE: sorted by address, unique; owned */
	size_t n_records;
	/* RELEASED */
	struct vip_addr *addrs; /* owned */
	size_t n_addrs;
	/* MOVE */
	struct vip_addr addr;
	/* STATE, CLOSE */
	uint64_t view; /* vip_cl_view_digest of the view it was sent in */
	/* STATE */
	uint32_t serial; /* the sender's STATE counter (own-delivery tracking) */
	/* CLOSE: silent members; STATE: ghosts */
	struct vip_cl_peer *peers; /* strictly increasing by (nodeid, pid); owned */
	size_t n_peers;
	/* NEIGH: 1..VIP_CL_NEIGH_MAX entries; owned */
	struct vip_cl_neigh *neighs;
	size_t n_neighs;
};

/*
 * Decode one message. 0 and *ret filled (free with vip_cl_msg_clear);
 * -EPROTONOSUPPORT for another protocol version (ret->version set, nothing
 * else); -EBADMSG when malformed (any length, count, family, order or
 * padding that does not check exactly); -ENOMEM.
 */
int vip_cl_msg_decode(const void *data, size_t len, struct vip_cl_msg *ret);
/* Encode m (not NULL); *ret_data is malloc'ed. 0, -EINVAL (bad field) or -ENOMEM. */
int vip_cl_msg_encode(const struct vip_cl_msg *m, uint8_t **ret_data, size_t *ret_len);
/* Free what a decoded message owns and zero it. Accepts NULL. */
void vip_cl_msg_clear(struct vip_cl_msg *m);
const char *vip_cl_msg_type_to_string(enum vip_cl_msg_type t);

/* ------------------------------------------------------------------ */
/* Authentication (cluster/auth.c, docs/protocol.md "Authentication") */
/* ------------------------------------------------------------------ */

#define VIP_CL_SHA256_LEN 32
/* The trailer every message ends with: u64 view | u64 seq | HMAC-SHA-256. */
#define VIP_CL_AUTH_LEN (8 + 8 + VIP_CL_SHA256_LEN)
/* An authkey file holds this many bytes (vipd --genkey writes the minimum). */
#define VIP_CL_KEY_MIN 32
#define VIP_CL_KEY_MAX 4096

/* SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104) of one buffer. Exposed for tests. */
void vip_cl_sha256(const void *data, size_t len, uint8_t out[VIP_CL_SHA256_LEN]);
void vip_cl_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
			uint8_t out[VIP_CL_SHA256_LEN]);

struct vip_cl_key; /* opaque: the cluster key, wiped when freed */

/* A key from n bytes (VIP_CL_KEY_MIN..MAX). 0, -EMSGSIZE or -ENOMEM. */
int vip_cl_key_new(const uint8_t *bytes, size_t n, struct vip_cl_key **ret);
/*
 * Read an authkey file: a regular file (not a symbolic link) owned by
 * `owner` (root: 0) with no group or other permission bits, holding
 * VIP_CL_KEY_MIN..MAX bytes. 0, -EPERM (owner or mode), -EINVAL (not a
 * regular file), -EMSGSIZE (size), -ELOOP (a symbolic link), or the -errno
 * of open/read; *ret untouched on failure.
 */
int vip_cl_key_load(const char *path, uint32_t owner, struct vip_cl_key **ret);
void vip_cl_key_free(struct vip_cl_key *k); /* accepts NULL; wipes */
/*
 * Write a new key file: VIP_CL_KEY_MIN random bytes (getrandom), created
 * with O_EXCL | O_NOFOLLOW and mode 0600: never overwrites. 0 or -errno
 * (-EEXIST when path exists).
 */
int vip_cl_key_generate(const char *path);

/* What a message's trailer says: the sender's view digest and sequence number. */
struct vip_cl_auth_info {
	uint64_t view;
	uint64_t seq;
};

/*
 * Fill the trailer of an encoded message (vip_cl_msg_encode leaves it
 * zero) in place: view, seq and the MAC under key over (self's nodeid and
 * pid, as corosync will deliver them, the message and view and seq). key
 * NULL: the MAC is left zero (an unauthenticated cluster); self and msg are
 * not NULL. 0 or -EINVAL (len too short for the header and trailer).
 */
int vip_cl_auth_seal(const struct vip_cl_key *key, const struct vip_cl_member *self, uint64_t view,
		     uint64_t seq, uint8_t *msg, size_t len);
/*
 * Check a delivered message's frame and MAC as sent by sender. 0 and *ret
 * filled; -EPROTONOSUPPORT (another protocol version); -EBADMSG (too short,
 * bad magic or length); -EACCES (key set and the MAC does not match: not
 * sealed by a holder of the key as this sender). key NULL: no MAC check.
 * Does not check the view or the sequence (the protocol does).
 */
int vip_cl_auth_verify(const struct vip_cl_key *key, const struct vip_cl_member *sender, const uint8_t *msg,
		       size_t len, struct vip_cl_auth_info *ret);

/* ------------------------------------------------------------------ */
/* The protocol                                                       */
/* ------------------------------------------------------------------ */

struct vip_cl_proto; /* opaque */

/*
 * Where the protocol's outputs go (vip_cl_proto_drain). Every member is
 * required; data is passed to each.
 *   send:    multicast msg/len (valid during the call) in agreed order. 0 sent;
 *            -EAGAIN flow control: the message stays queued, try again later;
 *            another -errno: the message is dropped (counted). Must not call
 *            into the protocol.
 *   hold:    this node owns a now: plumb it.
 *   release: unplumb a, then call vip_cl_proto_local_released (now or later;
 *            calling it from inside release is allowed).
 */
struct vip_cl_sink {
	int (*send)(void *data, const uint8_t *msg, size_t len);
	void (*hold)(void *data, const struct vip_addr *a);
	void (*release)(void *data, const struct vip_addr *a);
	void *data;
	/*
	 * Optional (NULL: dropped). A NEIGH message a member of the view sent,
	 * delivered and authenticated like any other (m valid during the call;
	 * the receiver's own come back too). Must not call into the protocol.
	 */
	void (*neigh)(void *data, const struct vip_cl_msg *m);
};

/*
 * Make the protocol state for this node from the configuration (copied: the
 * config, not NULL, may be freed afterwards). 0, -EINVAL (no node name) or
 * -ENOMEM.
 */
int vip_cl_proto_new(const struct vipd_config *cfg, struct vip_cl_proto **ret);
void vip_cl_proto_free(struct vip_cl_proto *p); /* accepts NULL */
/*
 * Authenticate the cluster's messages with key (docs/protocol.md,
 * "Authentication"): every message drained is sealed (this member's
 * identity, the view, a sequence number), and a delivered message counts
 * only when its MAC verifies for its sender, it was sealed in the current
 * view and its sequence number is above the last one from that sender. A
 * member whose message fails the MAC is left out for the view: not waited
 * for, never given anything, its messages ignored. key is borrowed: it
 * must outlive p. NULL (the default): messages are sealed without a MAC
 * and nothing is checked (any process in the group is trusted). Set it
 * before the first input.
 */
void vip_cl_proto_set_key(struct vip_cl_proto *p, const struct vip_cl_key *key);

/*
 * Inputs. Each returns 0 or -errno and may queue actions (hand them out with
 * vip_cl_proto_drain). Call them in the order the backend delivered the events.
 */
/*
 * A view from the backend. A newer view restarts the STATE round; what is
 * known of members that stay (and of members that left, should they come
 * back) is kept (docs/protocol.md).
 */
int vip_cl_proto_on_view(struct vip_cl_proto *p, const struct vip_cl_view *v, uint64_t now);
/*
 * A delivered message (STATE, RELEASED, MOVE, BALANCE, CLOSE, MONITOR,
 * FLUSHED: docs/protocol.md). 0 accepted (or stale and ignored: sent in
 * another view, from a member not in the view or left out); -EACCES (key
 * set: the MAC does not verify for sender, counted, the sender is left out
 * for the view); -EALREADY (key set: a sequence number already seen from
 * that sender, counted, dropped); -EPROTONOSUPPORT
 * (another version: counted, log once; a member that speaks only another
 * version is left out of the round instead of waited for); -EBADMSG
 * (malformed: counted, dropped); -ENOMEM.
 */
int vip_cl_proto_on_message(struct vip_cl_proto *p, const struct vip_cl_member *sender, const void *data,
			    size_t len, uint64_t now);
/* Quorum changed. Inquorate with policy release: release all, plumb nothing. */
int vip_cl_proto_on_quorum(struct vip_cl_proto *p, bool quorate, uint64_t now);
/*
 * Liveness of this node's corosync (the daemon probes it). alive = false
 * (it stopped answering): as for lost quorum, the quorum policy applies
 * (release: release everything, plumb nothing). alive = true again: as for
 * regained quorum, STATE is sent again and nothing new is plumbed until it
 * is delivered, nor before duravip_takeover_delay. 0 or -errno.
 */
int vip_cl_proto_on_liveness(struct vip_cl_proto *p, bool alive, uint64_t now);
/* The backend was lost: behave as inquorate and alone until the next view. */
int vip_cl_proto_on_lost(struct vip_cl_proto *p, uint64_t now);
/*
 * Timers: maturity, balancing rounds, the round timeout (CLOSE), STATE and
 * RELEASED retries, the takeover delay. Call at vip_cl_proto_next_timeout.
 */
int vip_cl_proto_on_tick(struct vip_cl_proto *p, uint64_t now);
/* Milliseconds from now until on_tick has work, or UINT64_MAX for none. */
uint64_t vip_cl_proto_next_timeout(const struct vip_cl_proto *p, uint64_t now);
/*
 * The engine removed addr from the kernel (or it was never there) after a
 * RELEASE action: the group is told (RELEASED). Ignored when addr is wanted
 * again by then.
 */
int vip_cl_proto_local_released(struct vip_cl_proto *p, const struct vip_addr *addr, uint64_t now);
/*
 * The addresses this node cannot host now (their interface is down past
 * if_down_limit); replaces the previous set. They are released and the group
 * is told, so another member takes them. n = 0 clears.
 */
int vip_cl_proto_set_unavailable(struct vip_cl_proto *p, const struct vip_addr *addrs, size_t n,
				 uint64_t now);
/*
 * This node's candidacy: out is VIP_CL_OUT_* (0: a candidate). Not a
 * candidate, it keeps what it holds until the group, at the delivery of
 * the STATE that says so, gives it to others; then it releases as in a
 * move (a new owner plumbs after its RELEASED). Alone, or when no member
 * is a candidate, nobody holds the addresses. A candidate again, it is
 * not mature (rule 4) until view_mature_time later, as a joining member.
 * 0 or -errno.
 */
int vip_cl_proto_set_candidacy(struct vip_cl_proto *p, uint32_t out, uint64_t now);
uint32_t vip_cl_proto_candidacy(const struct vip_cl_proto *p);
/* Operator: multicast a move of addr to node. -ENOENT unknown address, -EINVAL bad name. */
int vip_cl_proto_request_move(struct vip_cl_proto *p, const struct vip_addr *addr, const char *node,
			      uint64_t now);
/*
 * Multicast a NEIGH message (m->type VIP_CL_MSG_NEIGH, name and entries
 * set; copied). It is delivered back through sink.neigh of every member,
 * after the view checks of any message. At most VIP_CL_NEIGH_QUEUE_MAX wait
 * unsent: 0 queued, -EAGAIN (that many wait: try later), -EINVAL or -ENOMEM.
 */
#define VIP_CL_NEIGH_QUEUE_MAX 8
int vip_cl_proto_send_neigh(struct vip_cl_proto *p, const struct vip_cl_msg *m);
/* Operator: multicast one balancing round. */
int vip_cl_proto_request_balance(struct vip_cl_proto *p, uint64_t now);
/* A reloaded configuration (node name and group changes need a restart and are ignored). */
int vip_cl_proto_reconfigure(struct vip_cl_proto *p, const struct vipd_config *cfg, uint64_t now);

/*
 * Outputs: hand out what is queued. Local actions (hold, release) are
 * always handed out in full and never wait behind a message; messages go
 * out in order until send() returns -EAGAIN (then *ret_blocked is set and
 * that message stays at the head). At most one STATE waits (a newer one
 * replaces it) and consecutive releases are batched into one RELEASED.
 * Returns the number of actions handed out or dropped, or -ENOMEM (what is
 * left stays queued). ret_blocked may be NULL.
 */
int vip_cl_proto_drain(struct vip_cl_proto *p, const struct vip_cl_sink *s, bool *ret_blocked);

/* Level-triggered view: does this node want addr plumbed now? */
bool vip_cl_proto_wants(const struct vip_cl_proto *p, const struct vip_addr *addr);
/*
 * Must the engine probe addr on its link before plumbing it (docs/protocol.md §6,
 * "Unconfirmed releases")? True for every address once a member left with nothing
 * to confirm its removals (node loss, or no monitor of its node left to flush
 * them), until another member's records hold it after the round; and for every
 * address in a view that brought members this node had not seen in its previous
 * one (or lost one whose records it never had as they are). False once the engine
 * said it cannot probe it (vip_cl_proto_probe_unable).
 */
bool vip_cl_proto_probe_first(const struct vip_cl_proto *p, const struct vip_addr *addr);
/*
 * The engine cannot probe addr (its link is not Ethernet, or no socket hears
 * its family's answers), or with addr NULL cannot probe at all (the port):
 * from now on it is plumbed without a probe, and with duravip_takeover_guard
 * = probe it waits for the takeover delay again. Kept across reloads. 0 or
 * -ENOMEM (updating the wanted set).
 */
int vip_cl_proto_probe_unable(struct vip_cl_proto *p, const struct vip_addr *addr);
/*
 * While the takeover delay runs (a member lost to node loss, or quorum back): when it
 * ends (0: not running), and whether this node would want addr then as things stand
 * now, so that its probe can go out before (docs/fault-tolerance.md, "Probing before
 * a takeover"). The view sequence is bumped at every view: a probe's silence counts
 * only in the view it was sent in.
 */
uint64_t vip_cl_proto_guard_until(const struct vip_cl_proto *p);
bool vip_cl_proto_wants_after_guard(const struct vip_cl_proto *p, const struct vip_addr *addr);
uint64_t vip_cl_proto_view_seq(const struct vip_cl_proto *p);
/* Every address this node wants plumbed, sorted; *ret malloc'ed. Count or -ENOMEM. */
ssize_t vip_cl_proto_desired(const struct vip_cl_proto *p, struct vip_addr **ret);
/* Bumped whenever the wanted set changes. */
uint64_t vip_cl_proto_generation(const struct vip_cl_proto *p);

/* ------------------------------------------------------------------ */
/* Queries (console: cluster duravip show, cluster membership, info)  */
/* ------------------------------------------------------------------ */

struct vip_cl_vip_info {
	struct vip_addr addr;
	const char *owner;      /* node name or NULL; valid until the next input */
	const char *holder;     /* MOVING: a member that still holds it, else NULL */
	const char *preference; /* this node's configured preference or NULL */
	uint32_t flags;         /* VIP_CL_F_* */
	uint64_t since;         /* time the owner last changed */
	bool local_hold;        /* this node wants it plumbed */
};

struct vip_cl_member_info {
	struct vip_cl_member member;
	const char *name; /* NULL until its STATE is delivered (or a CLOSE names it) */
	bool self;
	bool mature;
	bool monitor;   /* a node's monitor: never given anything */
	bool silent;    /* the round closed without hearing it in this view */
	bool waiting;   /* the round is open and it has not been heard yet */
	bool untrusted; /* a message of it failed authentication in this view: ignored */
	uint32_t out;   /* VIP_CL_OUT_* its last STATE said (0: a candidate) */
	uint32_t load;  /* DuraVIPs it owns */
};

struct vip_cl_status {
	bool in_view;        /* a view with self has been delivered */
	bool round_complete; /* round closed: every member heard, or a CLOSE delivered */
	bool quorate;
	bool mature; /* this node's view is view_mature_time old */
	uint64_t ring_seq;
	uint64_t view_since;   /* time of the current view */
	uint64_t stable_since; /* time the current round completed */
	size_t n_views;
	size_t n_assign;      /* vip_cl_assign runs */
	size_t n_malformed;   /* dropped messages */
	size_t n_bad_version; /* ignored messages of another version */
	size_t n_stale;       /* valid but ignored (before the round, unknown node, ...) */
	size_t n_moves, n_balances;
	size_t n_send_dropped;  /* messages send() refused with an error other than -EAGAIN */
	size_t n_state_retries; /* own STATE queued again for want of delivery */
	size_t n_waiting;       /* members of the open round not heard yet */
	size_t n_silent;        /* members the closed round did not hear */
	size_t n_ghosts;        /* holds of crashed engines kept until their monitor flushed them */
	size_t n_closes;        /* rounds closed by a CLOSE */
	bool live;              /* this node's corosync answers (vip_cl_proto_on_liveness) */
	bool authenticated;     /* a cluster key is set: messages are sealed and checked */
	size_t n_auth_failed;   /* messages dropped: no valid MAC for their sender (or unsealed) */
	size_t n_auth_replayed; /* messages dropped: valid MAC, sequence number already seen */
	size_t n_neigh;         /* NEIGH messages delivered (handed to sink.neigh) */
};

size_t vip_cl_proto_n_vips(const struct vip_cl_proto *p);
/* i < n_vips, address order. 0 or -ERANGE. */
int vip_cl_proto_vip(const struct vip_cl_proto *p, size_t i, struct vip_cl_vip_info *ret);
size_t vip_cl_proto_n_members(const struct vip_cl_proto *p);
/* i < n_members, view order. 0 or -ERANGE. */
int vip_cl_proto_member(const struct vip_cl_proto *p, size_t i, struct vip_cl_member_info *ret);
void vip_cl_proto_status(const struct vip_cl_proto *p, struct vip_cl_status *ret);

/* Bytes the protocol's per-DuraVIP state holds (the metrics). */
struct vip_cl_mem {
	size_t table;   /* the replicated table */
	size_t local;   /* this node's list, with its follow targets and preferences */
	size_t records; /* the members' (and past members' and ghosts') records */
};
void vip_cl_proto_mem(const struct vip_cl_proto *p, struct vip_cl_mem *ret);

/* This node's name. */
const char *vip_cl_proto_nodename(const struct vip_cl_proto *p);

#endif
