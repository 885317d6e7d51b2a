/* The audit's addresses (see audit_addr.h). */
#include "audit_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>

size_t audit_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

const void *audit_addr_bytes(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((const struct sockaddr_in *)ss)->sin_addr;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

void audit_addr_set(struct sockaddr_storage *ss, int family, const void *addr)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	memcpy((void *)audit_addr_bytes(ss), addr, audit_addr_len(family));
}

const char *audit_addr_str(int family, const void *addr, char *buf, size_t size)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

int audit_local_addrs_read(struct audit_local_addrs *out)
{
	struct ifaddrs *ifa, *i;

	out->n = 0;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && out->n < AUDIT_MAX_LOCAL_ADDRS; i = i->ifa_next) {
		int family = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;

		if (family != AF_INET && family != AF_INET6)
			continue;
		audit_addr_set(&out->addrs[out->n++], family,
			       audit_addr_bytes((const struct sockaddr_storage *)(void *)i->ifa_addr));
	}
	freeifaddrs(ifa);
	return 0;
}

bool audit_local_addrs_has(const struct audit_local_addrs *l, const struct sockaddr_storage *a)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->addrs[i].ss_family == a->ss_family &&
		    memcmp(audit_addr_bytes(&l->addrs[i]), audit_addr_bytes(a), audit_addr_len(a->ss_family)) == 0)
			return true;
	return false;
}
