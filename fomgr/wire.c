#include "wire.h"

#include <errno.h>
#include <string.h>

#include "fo/name.h"

/* Layout: magic u32, version u8, type u8, reserved u16, length u32 (whole message),
 * then for an announce: seq u64, flags u32, digest[32], version (string), held
 * (list), ready (list), checks (u16 count, then string + state u8 each), then
 * the admin state: epoch u64, origin u32, standby (list), pins (u16 count, then
 * group and node strings), then the netstate: three digests of 32 bytes, the
 * corosync and kernel versions (strings), the firewall line hashes (u16 count,
 * then u32 each), and last the groups whose addresses are up (list): "held" is
 * the claim, which comes first, "up" what the kernel has; then, present exactly
 * when the flags say WIRE_F_REACH (an older sender has neither), the nodeids its
 * knet links reach (u16 count, u32 each); then, present exactly when the flags say
 * WIRE_F_ADMIN_MORE, the rest of the admin state: maintenance u8 (0 or 1) and the
 * disabled groups (list); then, present exactly when the flags say
 * WIRE_F_HISTORY, the history part: started and joined (u64 Unix ms each), the
 * admin state's last changes (u16 count, then epoch u64, origin u32, what,
 * target, to (may be empty), uid u32, user (printable, may be empty), node,
 * at u64), and the sender's last transitions (u16 count, then seq u32, at u64,
 * took_us u32, acquired u8, error u16, reason, group, from, to).
 * A string is u8 length + bytes (no NUL); a list is u16 count + strings. */
#define WIRE_HEADER_SIZE 12

struct wbuf {
	uint8_t *p;
	size_t len, size;
	int err;
};

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int err;
};

const char *wire_type_str(enum wire_type type)
{
	return type == WIRE_ANNOUNCE ? "announce" : "invalid";
}

static void put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->err || n > w->size - w->len) {
		w->err = -ENOSPC;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_uint(struct wbuf *w, uint64_t v, size_t bytes)
{
	uint8_t b[8];

	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	put_bytes(w, b, bytes);
}

static void put_str(struct wbuf *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n >= max || n > 255) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	put_uint(w, n, 1);
	put_bytes(w, s, n);
}

static void put_list(struct wbuf *w, char (*names)[WIRE_NAME_MAX], size_t n)
{
	put_uint(w, n, 2);
	for (size_t i = 0; i < n; i++)
		put_str(w, names[i], WIRE_NAME_MAX);
}

static void put_admin(struct wbuf *w, const struct wire_admin *admin)
{
	if (admin->n_standby > WIRE_MAX_NODES || admin->n_pins > WIRE_MAX_HELD) {
		w->err = -EINVAL;
		return;
	}
	put_uint(w, admin->epoch, 8);
	put_uint(w, admin->origin, 4);
	put_list(w, (char (*)[WIRE_NAME_MAX])admin->standby, admin->n_standby);
	put_uint(w, admin->n_pins, 2);
	for (size_t i = 0; i < admin->n_pins; i++) {
		put_str(w, admin->pins[i].group, WIRE_NAME_MAX);
		put_str(w, admin->pins[i].node, WIRE_NAME_MAX);
	}
}

static void put_netstate(struct wbuf *w, const struct wire_netstate *n)
{
	put_bytes(w, n->firewall, sizeof(n->firewall));
	put_bytes(w, n->routes, sizeof(n->routes));
	put_bytes(w, n->corosync_conf, sizeof(n->corosync_conf));
	put_str(w, n->corosync_version, sizeof(n->corosync_version));
	put_str(w, n->kernel_version, sizeof(n->kernel_version));
	if (n->n_fw > WIRE_MAX_FW_LINES) {
		w->err = -EINVAL;
		return;
	}
	put_uint(w, n->n_fw, 2);
	for (size_t i = 0; i < n->n_fw; i++)
		put_uint(w, n->fw[i], 4);
}

static void put_history(struct wbuf *w, const struct wire_announce *a)
{
	if (a->admin.n_changes > WIRE_MAX_CHANGES || a->n_transitions > WIRE_MAX_TRANSITIONS) {
		w->err = -EINVAL;
		return;
	}
	put_uint(w, a->started_ms, 8);
	put_uint(w, a->joined_ms, 8);
	put_uint(w, a->admin.n_changes, 2);
	for (size_t i = 0; i < a->admin.n_changes; i++) {
		const struct wire_admin_change *c = &a->admin.changes[i];
		put_uint(w, c->epoch, 8);
		put_uint(w, c->origin, 4);
		put_str(w, c->what, WIRE_WORD_MAX);
		put_str(w, c->target, WIRE_NAME_MAX);
		put_str(w, c->to, WIRE_NAME_MAX);
		put_uint(w, c->uid, 4);
		put_str(w, c->user, WIRE_NAME_MAX);
		put_str(w, c->node, WIRE_NAME_MAX);
		put_uint(w, c->at_ms, 8);
	}
	put_uint(w, a->n_transitions, 2);
	for (size_t i = 0; i < a->n_transitions; i++) {
		const struct wire_transition *t = &a->transitions[i];
		put_uint(w, t->seq, 4);
		put_uint(w, t->at_ms, 8);
		put_uint(w, t->took_us, 4);
		put_uint(w, t->acquired, 1);
		put_uint(w, t->error, 2);
		put_str(w, t->reason, WIRE_WORD_MAX);
		put_str(w, t->group, WIRE_NAME_MAX);
		put_str(w, t->from, WIRE_NAME_MAX);
		put_str(w, t->to, WIRE_NAME_MAX);
	}
}

int wire_encode_announce(const struct wire_announce *a, uint8_t *buf, size_t size)
{
	struct wbuf w = {.p = buf, .size = size};

	if (a->n_held > WIRE_MAX_HELD || a->n_ready > WIRE_MAX_HELD || a->n_checks > WIRE_MAX_CHECKS ||
	    (a->flags & ~(uint32_t)WIRE_F_ALL))
		return -EINVAL;
	put_uint(&w, WIRE_MAGIC, 4);
	put_uint(&w, WIRE_VERSION, 1);
	put_uint(&w, WIRE_ANNOUNCE, 1);
	put_uint(&w, 0, 2);
	put_uint(&w, 0, 4); /* length, patched below */
	put_uint(&w, a->seq, 8);
	put_uint(&w, a->flags, 4);
	put_bytes(&w, a->config_digest, sizeof(a->config_digest));
	put_str(&w, a->version, sizeof(a->version));
	put_list(&w, (char (*)[WIRE_NAME_MAX])a->held, a->n_held);
	put_list(&w, (char (*)[WIRE_NAME_MAX])a->failback_ready, a->n_ready);
	put_uint(&w, a->n_checks, 2);
	for (size_t i = 0; i < a->n_checks; i++) {
		if (a->checks[i].state >= CHECK_STATE_MAX)
			return -EINVAL;
		put_str(&w, a->checks[i].name, WIRE_NAME_MAX);
		put_uint(&w, a->checks[i].state, 1);
	}
	put_admin(&w, &a->admin);
	put_netstate(&w, &a->netstate);
	if (a->n_up > WIRE_MAX_HELD)
		return -EINVAL;
	put_list(&w, (char (*)[WIRE_NAME_MAX])a->up, a->n_up);
	if (a->n_reach > WIRE_MAX_NODES || (a->n_reach && !(a->flags & WIRE_F_REACH)))
		return -EINVAL;
	if (a->flags & WIRE_F_REACH) {
		put_uint(&w, a->n_reach, 2);
		for (size_t i = 0; i < a->n_reach; i++)
			put_uint(&w, a->reach[i], 4);
	}
	if (a->admin.n_disabled > WIRE_MAX_HELD || (wire_admin_more(&a->admin) && !(a->flags & WIRE_F_ADMIN_MORE)))
		return -EINVAL;
	if (a->flags & WIRE_F_ADMIN_MORE) {
		put_uint(&w, a->admin.maintenance ? 1 : 0, 1);
		put_list(&w, (char (*)[WIRE_NAME_MAX])a->admin.disabled, a->admin.n_disabled);
	}
	if ((a->admin.n_changes || a->n_transitions || a->started_ms || a->joined_ms) && !(a->flags & WIRE_F_HISTORY))
		return -EINVAL;
	if (a->flags & WIRE_F_HISTORY)
		put_history(&w, a);
	if (w.err)
		return w.err;
	for (int i = 0; i < 4; i++)
		buf[8 + i] = (uint8_t)(w.len >> (8 * (3 - i)));
	return (int)w.len;
}

static uint64_t get_uint(struct rbuf *r, size_t bytes)
{
	uint64_t v = 0;

	if (r->err || bytes > r->len - r->off) {
		r->err = -EBADMSG;
		return 0;
	}
	for (size_t i = 0; i < bytes; i++)
		v = (v << 8) | r->p[r->off + i];
	r->off += bytes;
	return v;
}

static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

enum str_kind { STR_PRINTABLE, STR_NAME, STR_NAME_OR_EMPTY };

/* Names follow the one name rule (name_valid); the version strings are printable
 * ASCII. Either way a peer cannot inject control characters into logs. */
static void get_str(struct rbuf *r, char *dst, size_t max, enum str_kind kind)
{
	size_t n = (size_t)get_uint(r, 1);
	char s[UINT8_MAX + 1];

	if (r->err || n >= max || n > r->len - r->off) {
		r->err = -EBADMSG;
		return;
	}
	memcpy(s, r->p + r->off, n);
	s[n] = '\0';
	if (kind == STR_PRINTABLE ? !printable(s, n)
				  : strlen(s) != n || (!(kind == STR_NAME_OR_EMPTY && n == 0) && !name_valid(s, max))) {
		r->err = -EBADMSG;
		return;
	}
	memcpy(dst, s, n + 1);
	r->off += n;
}

static size_t get_list(struct rbuf *r, char (*names)[WIRE_NAME_MAX], size_t max)
{
	size_t n = (size_t)get_uint(r, 2);

	if (n > max) {
		r->err = -EBADMSG;
		return 0;
	}
	for (size_t i = 0; i < n && !r->err; i++)
		get_str(r, names[i], WIRE_NAME_MAX, STR_NAME);
	return r->err ? 0 : n;
}

/* A list's u16 count, refused past max (0 then). */
static size_t get_count(struct rbuf *r, size_t max)
{
	size_t n = (size_t)get_uint(r, 2);

	if (n > max) {
		r->err = -EBADMSG;
		return 0;
	}
	return n;
}

static void get_admin(struct rbuf *r, struct wire_admin *admin)
{
	admin->epoch = get_uint(r, 8);
	admin->origin = (uint32_t)get_uint(r, 4);
	admin->n_standby = get_list(r, admin->standby, WIRE_MAX_NODES);
	admin->n_pins = get_count(r, WIRE_MAX_HELD);
	for (size_t i = 0; i < admin->n_pins && !r->err; i++) {
		get_str(r, admin->pins[i].group, WIRE_NAME_MAX, STR_NAME);
		get_str(r, admin->pins[i].node, WIRE_NAME_MAX, STR_NAME);
	}
}

static void get_digest(struct rbuf *r, uint8_t *dst)
{
	if (r->err || 32 > r->len - r->off) {
		r->err = -EBADMSG;
		return;
	}
	memcpy(dst, r->p + r->off, 32);
	r->off += 32;
}

static void get_netstate(struct rbuf *r, struct wire_netstate *n)
{
	get_digest(r, n->firewall);
	get_digest(r, n->routes);
	get_digest(r, n->corosync_conf);
	get_str(r, n->corosync_version, sizeof(n->corosync_version), STR_PRINTABLE);
	get_str(r, n->kernel_version, sizeof(n->kernel_version), STR_PRINTABLE);
	n->n_fw = get_count(r, WIRE_MAX_FW_LINES);
	for (size_t i = 0; i < n->n_fw && !r->err; i++)
		n->fw[i] = (uint32_t)get_uint(r, 4);
}

static void get_history(struct rbuf *r, struct wire_announce *a)
{
	a->started_ms = get_uint(r, 8);
	a->joined_ms = get_uint(r, 8);
	a->admin.n_changes = get_count(r, WIRE_MAX_CHANGES);
	for (size_t i = 0; i < a->admin.n_changes && !r->err; i++) {
		struct wire_admin_change *c = &a->admin.changes[i];
		c->epoch = get_uint(r, 8);
		c->origin = (uint32_t)get_uint(r, 4);
		get_str(r, c->what, WIRE_WORD_MAX, STR_NAME);
		get_str(r, c->target, WIRE_NAME_MAX, STR_NAME);
		get_str(r, c->to, WIRE_NAME_MAX, STR_NAME_OR_EMPTY);
		c->uid = (uint32_t)get_uint(r, 4);
		get_str(r, c->user, WIRE_NAME_MAX, STR_PRINTABLE);
		get_str(r, c->node, WIRE_NAME_MAX, STR_NAME);
		c->at_ms = get_uint(r, 8);
	}
	a->n_transitions = get_count(r, WIRE_MAX_TRANSITIONS);
	for (size_t i = 0; i < a->n_transitions && !r->err; i++) {
		struct wire_transition *t = &a->transitions[i];
		t->seq = (uint32_t)get_uint(r, 4);
		t->at_ms = get_uint(r, 8);
		t->took_us = (uint32_t)get_uint(r, 4);
		t->acquired = (uint8_t)get_uint(r, 1);
		t->error = (uint16_t)get_uint(r, 2);
		if (t->acquired > 1)
			r->err = -EBADMSG;
		get_str(r, t->reason, WIRE_WORD_MAX, STR_NAME);
		get_str(r, t->group, WIRE_NAME_MAX, STR_NAME);
		get_str(r, t->from, WIRE_NAME_MAX, STR_NAME);
		get_str(r, t->to, WIRE_NAME_MAX, STR_NAME);
	}
}

static int decode_announce(struct rbuf *r, struct wire_announce *a)
{
	memset(a, 0, sizeof(*a));
	a->seq = get_uint(r, 8);
	a->flags = (uint32_t)get_uint(r, 4);
	if (r->err || (a->flags & ~(uint32_t)WIRE_F_ALL) || sizeof(a->config_digest) > r->len - r->off)
		return -EBADMSG;
	memcpy(a->config_digest, r->p + r->off, sizeof(a->config_digest));
	r->off += sizeof(a->config_digest);
	get_str(r, a->version, sizeof(a->version), STR_PRINTABLE);
	a->n_held = get_list(r, a->held, WIRE_MAX_HELD);
	a->n_ready = get_list(r, a->failback_ready, WIRE_MAX_HELD);
	a->n_checks = (size_t)get_uint(r, 2);
	if (a->n_checks > WIRE_MAX_CHECKS)
		return -EBADMSG;
	for (size_t i = 0; i < a->n_checks && !r->err; i++) {
		get_str(r, a->checks[i].name, WIRE_NAME_MAX, STR_NAME);
		a->checks[i].state = (uint8_t)get_uint(r, 1);
		if (a->checks[i].state >= CHECK_STATE_MAX)
			r->err = -EBADMSG;
	}
	get_admin(r, &a->admin);
	get_netstate(r, &a->netstate);
	a->n_up = get_list(r, a->up, WIRE_MAX_HELD);
	if (a->flags & WIRE_F_REACH) {
		a->n_reach = (size_t)get_uint(r, 2);
		if (a->n_reach > WIRE_MAX_NODES)
			return -EBADMSG;
		for (size_t i = 0; i < a->n_reach && !r->err; i++)
			a->reach[i] = (uint32_t)get_uint(r, 4);
	}
	if (a->flags & WIRE_F_ADMIN_MORE) {
		uint64_t maintenance = get_uint(r, 1);

		if (maintenance > 1)
			return -EBADMSG;
		a->admin.maintenance = (int)maintenance;
		a->admin.n_disabled = get_list(r, a->admin.disabled, WIRE_MAX_HELD);
	}
	if (a->flags & WIRE_F_HISTORY)
		get_history(r, a);
	if (r->err || r->off != r->len)
		return -EBADMSG;
	return 0;
}

int wire_decode(const uint8_t *buf, size_t len, enum wire_type *type, struct wire_announce *a)
{
	struct rbuf r = {.p = buf, .len = len};
	uint64_t magic, version, reserved, length;

	if (len > WIRE_MAX_SIZE)
		return -EBADMSG;
	magic = get_uint(&r, 4);
	version = get_uint(&r, 1);
	*type = (enum wire_type)get_uint(&r, 1);
	reserved = get_uint(&r, 2);
	length = get_uint(&r, 4);
	if (r.err || magic != WIRE_MAGIC || reserved != 0)
		return -EBADMSG;
	if (version != WIRE_VERSION)
		return -EPROTONOSUPPORT;
	if (length != len || *type != WIRE_ANNOUNCE)
		return -EBADMSG;
	return decode_announce(&r, a);
}

static int list_has(const char (*names)[WIRE_NAME_MAX], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

int wire_announce_holds(const struct wire_announce *a, const char *group)
{
	return list_has(a->held, a->n_held, group);
}

int wire_announce_up(const struct wire_announce *a, const char *group)
{
	return list_has(a->up, a->n_up, group);
}

int wire_announce_reaches(const struct wire_announce *a, uint32_t nodeid)
{
	if (!(a->flags & WIRE_F_REACH))
		return 0;
	for (size_t i = 0; i < a->n_reach; i++)
		if (a->reach[i] == nodeid)
			return 1;
	return 0;
}

int wire_announce_ready(const struct wire_announce *a, const char *group)
{
	return list_has(a->failback_ready, a->n_ready, group);
}

enum check_state wire_announce_check(const struct wire_announce *a, const char *check)
{
	for (size_t i = 0; i < a->n_checks; i++)
		if (strcmp(a->checks[i].name, check) == 0)
			return (enum check_state)a->checks[i].state;
	return CHECK_UNKNOWN;
}

int wire_admin_standby(const struct wire_admin *admin, const char *node)
{
	return list_has(admin->standby, admin->n_standby, node);
}

int wire_admin_disabled(const struct wire_admin *admin, const char *group)
{
	return list_has(admin->disabled, admin->n_disabled, group);
}

int wire_admin_more(const struct wire_admin *admin)
{
	return admin->maintenance || admin->n_disabled;
}

const char *wire_admin_pin(const struct wire_admin *admin, const char *group)
{
	for (size_t i = 0; i < admin->n_pins; i++)
		if (strcmp(admin->pins[i].group, group) == 0)
			return admin->pins[i].node;
	return NULL;
}

int wire_admin_newer(const struct wire_admin *a, const struct wire_admin *b)
{
	if (a->epoch != b->epoch)
		return a->epoch > b->epoch;
	return a->origin < b->origin;
}

int wire_admin_equal(const struct wire_admin *a, const struct wire_admin *b)
{
	if (a->epoch != b->epoch || a->origin != b->origin || a->n_standby != b->n_standby ||
	    a->n_pins != b->n_pins || !a->maintenance != !b->maintenance || a->n_disabled != b->n_disabled)
		return 0;
	for (size_t i = 0; i < a->n_disabled; i++)
		if (strcmp(a->disabled[i], b->disabled[i]) != 0)
			return 0;
	for (size_t i = 0; i < a->n_standby; i++)
		if (strcmp(a->standby[i], b->standby[i]) != 0)
			return 0;
	for (size_t i = 0; i < a->n_pins; i++)
		if (strcmp(a->pins[i].group, b->pins[i].group) != 0 || strcmp(a->pins[i].node, b->pins[i].node) != 0)
			return 0;
	return 1;
}
