/*
 * The reading helpers of conf.c, shared with the parsers of its sections
 * that live in files of their own (conf_http.c): one error list per load,
 * every error "file:line: path[.name]: message".
 */
#ifndef CERTMAP_CONF_READ_H
#define CERTMAP_CONF_READ_H

#include <libconfig.h>
#include <stdbool.h>

#include "util.h"

struct conf_ctx {
	const char *file;
	struct cm_buf errs;
	unsigned int n_errs;
	bool nomem;
};

/* Records an error about setting s (or its member name, when not NULL). */
void cm_conf_err(struct conf_ctx *c, const config_setting_t *s, const char *name, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
/* Flags every member of group whose name is not in known (NULL-terminated). */
void cm_conf_check_members(struct conf_ctx *c, const config_setting_t *group,
			   const char *const *known);
/* A non-empty string member into *out (malloc'd, replacing what was there). */
void cm_conf_get_string(struct conf_ctx *c, const config_setting_t *group, const char *name,
			bool required, char **out);

#endif
