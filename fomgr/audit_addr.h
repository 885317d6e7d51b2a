/* Addresses as the audit's parts keep them (socket addresses, port 0), and this
 * node's own: rules bound to an address apply only where the address is local (a
 * VIP is only local on its holder), and probes do not go to ourselves. */
#ifndef FOMGR_AUDIT_ADDR_H
#define FOMGR_AUDIT_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Bytes of an address of family: 4 for AF_INET, else 16. */
size_t audit_addr_len(int family);
/* The address in ss (IPv4 or IPv6), in network order. */
const void *audit_addr_bytes(const struct sockaddr_storage *ss);
/* ss = family's addr, port 0. */
void audit_addr_set(struct sockaddr_storage *ss, int family, const void *addr);
/* inet_ntop() into buf, or "?"; returns buf. */
const char *audit_addr_str(int family, const void *addr, char *buf, size_t size);

#define AUDIT_MAX_LOCAL_ADDRS 256
struct audit_local_addrs {
	size_t n;
	struct sockaddr_storage addrs[AUDIT_MAX_LOCAL_ADDRS]; /* port 0 */
};
/* From getifaddrs(). 0 or -errno. */
int audit_local_addrs_read(struct audit_local_addrs *out);
bool audit_local_addrs_has(const struct audit_local_addrs *l, const struct sockaddr_storage *a);

#endif
