/*
 * service.http, certmapd's HTTP forward-auth listener (certmap.conf(5)):
 * read and checked by conf_http.c when the configuration is loaded.
 */
#ifndef CERTMAP_CONF_HTTP_H
#define CERTMAP_CONF_HTTP_H

#include <libconfig.h>

#include "conf.h"

struct conf_ctx;

/* Reads parent's http group, if any, into h; defaults cert_header and
 * verify_success. Errors go to c. */
void cm_conf_http_load(struct conf_ctx *c, const config_setting_t *parent, struct cm_http_conf *h);
void cm_conf_http_free(struct cm_http_conf *h);

#endif
