/* What an HTTP service answers, after libcurl: the status, the body (any bytes) and
 * the certificate's expiry text, judged against a check's expectations. The input is
 * "status(2 bytes) | cert date up to the first NUL | body". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_http.h"
#include "fo/log.h"

static struct hc_config *cfg;

static const char conf_text[] = "[check a]\ntype = https\nurl = https://127.0.0.1/\n"
				"expect_body = ok\nexpect_regex = ^(up|ok)[[:space:]]+v[0-9]+$\n"
				"expect_status = 200-299\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[HC_REASON_MAX];
	const uint8_t *nul;
	time_t expiry;
	long status;
	char *body;

	if (!cfg) {
		struct cfgfile_errors errs;

		log_init("fuzz", LOG_LVL_ERR, 0);
		if (hcconfig_load_buffer("fuzz.conf", conf_text, sizeof(conf_text) - 1, &cfg, &errs) < 0)
			abort();
	}
	if (size < 2)
		return 0;
	status = data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	nul = memchr(data, 0, size);
	if (nul) {
		check_http_parse_cert_date((const char *)data, (size_t)(nul - data), &expiry);
		size -= (size_t)(nul - data) + 1;
		data = nul + 1;
	}
	body = malloc(size + 1); /* as check_http keeps it: NUL after the last byte */
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	reason[0] = '\0';
	if (!check_http_judge(&cfg->checks[0], status, body, size, reason, sizeof(reason)) && !reason[0])
		abort(); /* a failure always says why */
	free(body);
	return 0;
}
