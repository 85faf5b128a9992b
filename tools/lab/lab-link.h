/* SPDX-License-Identifier: MIT */
/*
 * Link tracker: which nodes' switch ports (in <prefix>-sw) are down, from
 * rtnetlink link events (see lab-link.c).
 */
#ifndef VIP_LAB_LINK_H
#define VIP_LAB_LINK_H

#include "lab.h"

struct lab_links;

/* Called when node (0-based) goes down (up false) or comes up (up true). */
typedef void (*lab_link_fn)(void *data, int node, bool up);

/* Open an event and a dump socket in <prefix>-sw for nodes n1..nN and dump
 * once; ports found down are reported to change. Returns 0 or -EIO (message on
 * stderr: this is a tool). */
int lab_links_new(const char *prefix, int n, lab_link_fn change, void *data, struct lab_links **ret);
/* Accepts NULL. */
void lab_links_free(struct lab_links *l);
/* The event socket, to poll for POLLIN. */
int lab_links_fd(struct lab_links *l);
/* Apply every queued link event; returns the number of reads or -EIO. */
int lab_links_drain(struct lab_links *l);
/* Bit i set: node i's port is down now. */
uint32_t lab_links_down(const struct lab_links *l);

#endif
