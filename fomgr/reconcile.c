#include "reconcile.h"

#include <string.h>

#include "fo/log.h"
#include "transition.h"
#include "vip.h"

#define RECONCILE_MAX_LABELLED 64

static int group_present(struct vip *vip, const struct config_group *g)
{
	struct vip_addr a;
	int present = 0;

	for (size_t j = 0; j < g->n_addrs; j++) {
		transition_group_addr(g, j, &a);
		present |= vip_present(vip, &a) == 1;
	}
	return present;
}

static int configured(const struct config *config, const struct vip_addr *labelled)
{
	struct vip_addr a;

	for (size_t k = 0; k < config->n_groups; k++) {
		const struct config_group *g = &config->groups[k];
		for (size_t j = 0; j < g->n_addrs; j++) {
			transition_group_addr(g, j, &a);
			if (a.addr.v4.s_addr == labelled->addr.v4.s_addr && strcmp(a.ifname, labelled->ifname) == 0)
				return 1;
		}
	}
	return 0;
}

int reconcile_kernel(struct vip *vip, const struct config *config, reconcile_adopt_fn adopt, void *arg)
{
	struct vip_addr labelled[RECONCILE_MAX_LABELLED];
	int n = vip_list_labelled(vip, labelled, RECONCILE_MAX_LABELLED);

	for (size_t i = 0; i < config->n_groups; i++) {
		const struct config_group *g = &config->groups[i];

		if (group_present(vip, g) && adopt(arg, g->name) == 0)
			log_info("reconcile group=%s: addresses found in the kernel, adopted", g->name);
	}
	for (int i = 0; i < n && i < RECONCILE_MAX_LABELLED; i++) {
		char buf[VIP_ADDR_STR_MAX];

		if (configured(config, &labelled[i]))
			continue;
		log_info("reconcile: removing %s, labelled as fomgr's but in no group",
			 vip_addr_str(&labelled[i], buf, sizeof(buf)));
		vip_del(vip, &labelled[i], NULL, NULL);
	}
	return n < 0 ? n : 0;
}
