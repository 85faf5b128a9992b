/* SPDX-License-Identifier: MIT */
/*
 * The protocol's state, shared by proto.c (inputs, outputs, local node) and
 * proto-table.c (the replicated DuraVIP table and the assignment runs).
 *
 * Two kinds of state, kept apart on purpose:
 *   - replicated: members' STATE records, the table (owners, grants). It is
 *     derived only from delivered views and messages, so every member holds
 *     the same copy at the same point of the order;
 *   - local: this node's configuration, quorum, unavailable addresses and
 *     what the engine may have plumbed (lvip). It decides what this node
 *     wants, never what the group computes.
 */
#ifndef VIP_PROTO_INTERNAL_H
#define VIP_PROTO_INTERNAL_H

#include "cluster-internal.h"

/*
 * What records (and this node's list) of one address share: kept once,
 * counted by reference (proto-body.c). Compared and hashed as bytes: the
 * address's bytes past its family's length are zero.
 */
struct pbody {
	struct vip_addr addr;
	uint32_t follow; /* 0, or 1 + the index of the bare body (no digests) of the address it follows */
	uint64_t binding_digest, services_digest;
};

/* The bodies: b[i] is live while ref[i] > 0; a hash chain (next) per bucket, free slots chained too. */
struct pbodies {
	struct pbody *b;
	uint32_t *ref, *next, *bucket;
	uint32_t n;        /* slots used so far (live or free) */
	uint32_t cap;      /* slots allocated */
	uint32_t n_bucket; /* a power of two, or 0 */
	uint32_t free;     /* first free slot, UINT32_MAX: none */
	uint32_t live;
};

/*
 * A record as kept (a member's STATE, a CLOSE): its flags and its body. The
 * wire's struct vip_cl_record is made from it when a message needs it.
 */
struct prec {
	uint32_t body : 24; /* index in p->bodies */
	uint32_t flags : 8; /* VIP_CL_R_* */
};
_Static_assert(sizeof(struct prec) == 4, "a record is 4 bytes");

/*
 * This node's view of one address: configured here and/or possibly plumbed
 * here. One per DuraVIP, so 12 bytes: the address, the digests and the
 * follow target are in its body (a reference: configured, the same body as
 * this node's delivered records of it; else the address's bare body), the
 * preference an index into p->prefs (each distinct string once).
 */
struct lvip {
	uint32_t body; /* proto-body.c */
	uint32_t pref; /* 0, or 1 + the index in p->prefs of its configured preference (display) */
	bool configured : 1;
	bool prefer : 1;   /* Duravip_Preference names this node */
	bool down : 1;     /* set_unavailable */
	bool want : 1;     /* this node wants it plumbed (HOLD issued) */
	bool may_hold : 1; /* HOLD issued and no local_released since */
	bool probe : 1;    /* its last holder left unconfirmed: probe before plumbing (proto-ghost.c) */
	bool no_probe : 1; /* the engine cannot probe it (its link or family): the takeover delay guards it */
	bool early : 1;    /* wanted while the takeover delay runs, for it is probed (guard_probe) */
};

/*
 * A member of the current view. Its records are kept across views while it
 * (same nodeid and pid) stays: a member that falls silent still counts as
 * holding what they say (docs/protocol.md, "Silent members").
 */
struct pmember {
	struct vip_cl_member id;
	char *name;   /* from its STATE, or the CLOSE that made it silent */
	bool heard;   /* its STATE (or MONITOR) of this view is delivered */
	bool foreign; /* speaks another protocol version: not waited for */
	/*
	 * a message of it failed authentication in this view: not waited for,
	 * never an assignment node, ignored
	 */
	bool untrusted;
	uint64_t last_seq; /* highest authenticated sequence number from it (0: none) */
	bool monitor;      /* a monitor (MONITOR delivered): never assigned anything */
	bool known;        /* records are replicated knowledge (a STATE or a CLOSE) */
	bool stale;        /* known from before it left our view and came back */
	bool silent;       /* the round closed without hearing it in this view */
	bool mature;
	uint8_t out;          /* VIP_CL_OUT_* from its STATE of this view (0: a candidate) */
	struct prec *records; /* sorted by address; RELEASED clears HELD, a grant sets it at the next view */
	size_t n_records;
	int anode; /* index in proto->nodes, -1 when not an assignment node */
};

/*
 * A ghost (docs/protocol.md, "Monitors and ghosts"): an engine that left the
 * view (not by node loss) while its records said it held addresses, with a
 * monitor of its node still in the view. Its addresses may still be plumbed
 * until the monitor flushes them: it counts as holding them (releasing).
 */
struct pghost {
	struct vip_cl_member id; /* the engine that left */
	char *label;             /* its node name and " (crashed)": its assignment node name */
	struct vip_addr *addrs;  /* sorted, unique */
	size_t n_addrs;
	bool confirmed; /* a STATE of this view carried it: replicated */
	bool cleared;   /* flushed (or the node's next engine spoke) in this view */
	int anode;
};

/*
 * One DuraVIP of the replicated table (union of every member's records).
 * There is one per DuraVIP, so it keeps only what outlives a rebuild; what
 * the assignment alone reads (candidates, keepers, preferences, digests,
 * the follow target) is derived into a scratch array at each rebuild
 * (proto-table.c).
 */
struct pvip {
	uint32_t body;       /* a body of its address (a reference; proto-body.c) */
	int8_t owner;        /* anode or -1; persistent within a view */
	int8_t move_to;      /* one-shot operator move, anode or -1 */
	uint16_t flags : 12; /* VIP_CL_F_* (they fit: proto-table.c) */
	bool has_follow : 1; /* derived: its configuration follows another address */
	bool pinned : 1;
	bool plumb : 1;
	/*
	 * local: this node multicast RELEASED for it, not delivered yet; kept
	 * across views (it may be delivered in the next one). Our own STATE
	 * queued after it (serial > rel_serial) delivered means it was
	 * delivered or lost.
	 */
	bool rel_pending : 1;
	uint32_t rel_serial;
	/* derived from records at each rebuild (bit = anode) */
	uint64_t held;
	/* persistent within a view */
	uint64_t granted; /* members told they may plumb it (until their RELEASED) */
	uint64_t since;
};
_Static_assert(sizeof(struct pvip) == 40, "a table entry is 40 bytes");
_Static_assert(offsetof(struct pvip, body) == 0 && offsetof(struct lvip, body) == 0, "vip_cl_body_find");

enum lact_type { LACT_HOLD, LACT_RELEASE };

/* A local action for the engine. */
struct lact {
	enum lact_type type;
	struct vip_addr addr;
};

/* A message waiting to be multicast. */
#define SACT_NONE 0 /* type of a STATE replaced by a newer one: skipped */
struct sact {
	int type;      /* enum vip_cl_msg_type, or SACT_NONE */
	uint8_t *data; /* encoded; NULL while a RELEASED batch is open */
	size_t len;
	struct vip_addr *batch; /* RELEASED: the addresses, in the order released */
	size_t n_batch, cap_batch;
	uint32_t serial; /* STATE */
};

/* A FIFO of fixed-size items: head..len in use. */
struct fifo {
	void *items;
	size_t head, len, cap;
};

struct vip_cl_proto {
	char *nodename;
	const struct vip_cl_key *key; /* borrowed (vip_cl_proto_set_key), NULL: unauthenticated */
	uint64_t auth_seq;            /* sequence number of the last message sealed */
	uint32_t mature_ms, balance_ms, set_size;
	enum vip_quorum_policy qpolicy;

	struct lvip *l; /* sorted by address */
	size_t n_l;
	char **prefs; /* the configured preferences, sorted, unique (lvip.pref) */
	size_t n_prefs;

	struct pbodies bodies; /* proto-body.c */

	struct pmember *m; /* view order */
	size_t n_m;
	/* members that left, with what was known of them (proto-view.c), oldest first */
	struct pmember gone[VIP_CL_MAX_MEMBERS];
	size_t n_gone;
	struct pghost ghosts[VIP_CL_MAX_MEMBERS]; /* proto-ghost.c */
	size_t n_ghosts;
	uint32_t cleared[VIP_CL_MAX_MEMBERS]; /* nodes whose ghosts were cleared in this view */
	size_t n_cleared;
	ssize_t self;
	struct vip_cl_anode nodes[VIP_CL_MAX_MEMBERS];
	size_t n_nodes;

	struct pvip *t; /* sorted by address */
	size_t n_t;

	struct fifo lq; /* struct lact: hold/release, handed out in full */
	struct fifo sq; /* struct sact: messages, in order */
	/* NEIGH messages delivered, for sink.neigh (proto-neigh.c); at most NEIGH_INBOX_MAX */
	struct vip_cl_msg *neigh_in;
	size_t n_neigh_in;

	/*
	 * Own STATE of the current view until delivered: queued again at
	 * state_due (round timeout, doubling up to 8 x) when not delivered.
	 */
	uint64_t view_digest;
	uint32_t state_serial; /* of the last STATE queued */
	bool state_pending;
	uint64_t state_due;
	uint32_t state_backoff_ms;
	uint32_t round_timeout_ms;
	/* A RELEASED was dropped: sweep again (say it again) at resweep_due. */
	bool resweep;
	uint64_t resweep_due;
	uint64_t last_now; /* time of the latest input */

	bool in_view, round_complete, quorate, mature;
	uint32_t out;         /* VIP_CL_OUT_*: why this node is no candidate (0: it is one) */
	uint64_t mature_from; /* maturity counts from the view, or from becoming a candidate again */
	bool live;            /* this node's corosync answers (vip_cl_proto_on_liveness) */
	/* A CLOSE for this view was sent; another goes at close_next if none is delivered. */
	uint64_t close_next;
	/*
	 * Quorum came back: plumb nothing new until our own STATE, sent when it
	 * came back, is delivered. The quorum service and CPG are separate
	 * streams; the view that comes with the regained quorum may still be
	 * on its way, and the old view (often just ourselves) would hand us
	 * addresses another member holds.
	 */
	bool quorum_fence;
	/*
	 * A member was lost to node loss, or we regained quorum (a member may be
	 * cut off, not dead, and may notice it later than we do): with
	 * duravip_takeover_delay set,
	 * plumb nothing new until guard_until, so it has released by then — or
	 * is back in the view, keeping its addresses.
	 */
	bool guarded;
	uint64_t guard_until;
	/*
	 * The view brought members this node had not seen in its previous view, or
	 * lost one whose records it never had as they are: they may know of (or be)
	 * holders it never saw (docs/protocol.md, "Unconfirmed releases"), so
	 * everything it plumbs in this view is probed first.
	 */
	bool view_joined;
	uint32_t takeover_delay_ms;
	/*
	 * duravip_takeover_guard = probe: an address the engine probes before
	 * plumbing it is not held back by the takeover delay (its probe is the
	 * guard), unless the engine cannot probe at all (probe_unable) or
	 * cannot probe that address (lvip.no_probe). docs/fault-tolerance.md, "Probing before a takeover".
	 */
	bool guard_probe, probe_unable;
	uint64_t ring_seq, view_since, stable_since, last_balance, generation;
	struct vip_cl_status st;
};

/* A member the round does not wait for and the assignment leaves out. */
static inline bool vip_cl_left_out(const struct pmember *m)
{
	return m->foreign || m->untrusted;
}

/* proto-body.c */
/*
 * The body of (addr, follow or NULL, digests), with a reference taken
 * (vip_cl_body_put gives it back). 0 and *ret, or -ENOMEM.
 */
int vip_cl_body_get(struct vip_cl_proto *p, const struct vip_addr *addr, const struct vip_addr *follow,
		    uint64_t binding_digest, uint64_t services_digest, uint32_t *ret);
void vip_cl_body_put(struct vip_cl_proto *p, uint32_t i);
void vip_cl_body_ref(struct vip_cl_proto *p, uint32_t i);
/* Valid until the next vip_cl_body_get. */
static inline const struct pbody *vip_cl_body(const struct vip_cl_proto *p, uint32_t i)
{
	return &p->bodies.b[i];
}
static inline const struct vip_addr *vip_cl_rec_addr(const struct vip_cl_proto *p, const struct prec *r)
{
	return &p->bodies.b[r->body].addr;
}
/*
 * In arr[0..n), elements of size bytes sorted by address that begin with
 * their uint32_t body (struct lvip, struct pvip): the one of a, or NULL.
 */
void *vip_cl_body_find(const struct vip_cl_proto *p, const void *arr, size_t n, size_t size,
		       const struct vip_addr *a);
void vip_cl_bodies_init(struct vip_cl_proto *p);
void vip_cl_bodies_free(struct vip_cl_proto *p);
/* Bytes the bodies hold (allocated slots and buckets). */
size_t vip_cl_bodies_mem(const struct vip_cl_proto *p);
/* In records r[0..n) sorted by address: where a is or would go; the record of a or NULL. */
size_t vip_cl_rec_lower_bound(const struct vip_cl_proto *p, const struct prec *r, size_t n,
			      const struct vip_addr *a);
struct prec *vip_cl_rec_find(const struct vip_cl_proto *p, struct prec *r, size_t n,
			     const struct vip_addr *a);
/* Records from a message's (each takes a body reference); *ret malloc'ed (NULL when n is 0). 0 or -ENOMEM. */
int vip_cl_recs_from_msg(struct vip_cl_proto *p, const struct vip_cl_record *in, size_t n, struct prec **ret);
/* Give back r's body references and free r (accepts NULL with n 0). */
void vip_cl_recs_free(struct vip_cl_proto *p, struct prec *r, size_t n);
/* The wire's record of r; of r[0..n) into *ret (malloc'ed). 0 or -ENOMEM. */
void vip_cl_rec_expand(const struct vip_cl_proto *p, const struct prec *r, struct vip_cl_record *ret);
int vip_cl_recs_expand(const struct vip_cl_proto *p, const struct prec *r, size_t n,
		       struct vip_cl_record **ret);

/* proto-table.c */
/* Rebuild the table from the members' records and the local configuration. 0 or -ENOMEM. */
int vip_cl_table_rebuild(struct vip_cl_proto *p);
/* Rebuild, run vip_cl_assign, apply. 0 or -errno. */
int vip_cl_table_recompute(struct vip_cl_proto *p, uint64_t now, bool balance);
/* Give back the table's bodies and free it. */
void vip_cl_table_free(struct vip_cl_proto *p);
/* e's address (valid until the next vip_cl_body_get). */
static inline const struct vip_addr *vip_cl_table_addr(const struct vip_cl_proto *p, const struct pvip *e)
{
	return &p->bodies.b[e->body].addr;
}
/* Forget owners and grants (a new view restarts the round). */
void vip_cl_table_reset(struct vip_cl_proto *p);
/* Table entry for addr or NULL. */
struct pvip *vip_cl_table_find(const struct vip_cl_proto *p, const struct vip_addr *a);
/* Map members with names to assignment nodes (round completion). */
void vip_cl_table_map_nodes(struct vip_cl_proto *p);
/* Give m an assignment node (a member heard after the round closed). */
void vip_cl_table_add_node(struct vip_cl_proto *p, struct pmember *m);
/* This node's assignment node or -1. */
int vip_cl_table_self_anode(const struct vip_cl_proto *p);
/* True when the most and least loaded members differ by more than one. */
bool vip_cl_table_unbalanced(const struct vip_cl_proto *p);

/* proto-local.c */
struct lvip *vip_cl_local_find(const struct vip_cl_proto *p, const struct vip_addr *a);
/* l's address (valid until the next vip_cl_body_get). */
static inline const struct vip_addr *vip_cl_local_addr(const struct vip_cl_proto *p, const struct lvip *l)
{
	return &p->bodies.b[l->body].addr;
}
/* l's configured preference or NULL. */
static inline const char *vip_cl_local_pref(const struct vip_cl_proto *p, const struct lvip *l)
{
	return l->pref ? p->prefs[l->pref - 1] : NULL;
}
/* Bytes this node's list holds (entries and preferences). */
size_t vip_cl_local_mem(const struct vip_cl_proto *p);
/* (Re)load the local list from cfg, keeping what the engine may hold. 0 or -ENOMEM. */
int vip_cl_local_load(struct vip_cl_proto *p, const struct vipd_config *cfg);
void vip_cl_local_free(struct vip_cl_proto *p);
/* Queue this node's STATE of the current view (replacing an unsent one) and arm its retry. */
int vip_cl_send_state(struct vip_cl_proto *p, uint64_t now);

/* proto-view.c */
void vip_cl_members_free(struct vip_cl_proto *p);
void vip_cl_gone_free(struct vip_cl_proto *p);

/* proto-ghost.c */
/* At a view: drop ghosts whose monitor left, make ghosts of engines that left, and mark
 * for probing what members that left (or dropped ghosts) held unconfirmed. 0 or -ENOMEM. */
int vip_cl_ghosts_on_view(struct vip_cl_proto *p, const struct pmember *old, size_t n_old,
			  const struct vip_cl_view *v);
/* A STATE of this view from an engine on node `nodeid` carried peers (its ghosts). 0 or -ENOMEM. */
int vip_cl_ghosts_from_state(struct vip_cl_proto *p, uint32_t nodeid, const struct vip_cl_msg *msg);
/* That node's monitor flushed (or its next engine spoke): its ghosts hold nothing. */
void vip_cl_ghosts_clear_node(struct vip_cl_proto *p, uint32_t nodeid);
/* The round closes: ghosts no delivered STATE carried are forgotten. */
void vip_cl_ghosts_close(struct vip_cl_proto *p);
/* The ghosts this node knows, for its STATE; *ret malloc'ed (free each records too). Count or -ENOMEM. */
ssize_t vip_cl_ghosts_peers(const struct vip_cl_proto *p, struct vip_cl_peer **ret);
void vip_cl_ghosts_free(struct vip_cl_proto *p);
/* Ghosts counted as holders now. */
size_t vip_cl_ghosts_active(const struct vip_cl_proto *p);

/* proto-round.c */
/* Before a new view: a member told to plumb counts as holding it (its records say HELD). 0 or -ENOMEM. */
int vip_cl_round_fold_grants(struct vip_cl_proto *p);
/* When this node multicasts CLOSE for the open round (UINT64_MAX: never). */
uint64_t vip_cl_round_close_time(const struct vip_cl_proto *p);
/* Multicast CLOSE with what this node knows of every member it has not heard. 0 or -errno. */
int vip_cl_round_send_close(struct vip_cl_proto *p, uint64_t now);
/* The lowest live assignment node is the one that starts balancing rounds. */
bool vip_cl_round_is_leader(const struct vip_cl_proto *p);

/* proto-queue.c */
/* Queue a hold or release for the engine. 0 or -ENOMEM. */
int vip_cl_queue_local(struct vip_cl_proto *p, enum lact_type t, const struct vip_addr *a);
/*
 * Encode m and queue it for multicast; a STATE replaces an unsent STATE (the
 * new one at the tail). 0 or -errno.
 */
int vip_cl_queue_send(struct vip_cl_proto *p, const struct vip_cl_msg *m);
/* Add addr to the open RELEASED at the tail, or queue a new one. 0 or -ENOMEM. */
int vip_cl_queue_released(struct vip_cl_proto *p, const struct vip_addr *addr);
/* Is a STATE waiting in the send queue? */
bool vip_cl_queue_has_state(const struct vip_cl_proto *p);
void vip_cl_queue_free(struct vip_cl_proto *p);

/* proto-neigh.c: NEIGH messages (docs/protocol.md §13), outside the ownership protocol */
/* A delivered NEIGH from member m: kept for sink.neigh (*msg is moved out). 0 or -ENOMEM. */
int vip_cl_neigh_deliver(struct vip_cl_proto *p, const struct pmember *m, struct vip_cl_msg *msg);
/* Hand the delivered NEIGH messages to s->neigh (or drop them). Returns how many. */
size_t vip_cl_neigh_drain(struct vip_cl_proto *p, const struct vip_cl_sink *s);
void vip_cl_neigh_free(struct vip_cl_proto *p);
/* Recompute what this node wants; queue HOLD/RELEASE and a RELEASED for stale claims. */
int vip_cl_update_wants(struct vip_cl_proto *p);
/* Queue a RELEASED for e if the group still counts this node as its holder. */
int vip_cl_sweep_one(struct vip_cl_proto *p, struct pvip *e);

#endif
