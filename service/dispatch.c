/*
 * certmapd's methods: the dispatch table {method, who may call, handler},
 * the cache in front of Map, the statistics and reloads.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "cache.h"
#include "context.h"
#include "daemon.h"

const unsigned int cmd_lat_bounds_us[CMD_LAT_BUCKETS] = {
	10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, 1000000,
};

static const char mapper_idl[] =
	"# certmap: map a verified TLS client certificate to a system account.\n"
	"interface org.certmap.Mapper\n"
	"\n"
	"type Candidate (user: string, domain: string, status: string, note: ?string)\n"
	"type TraceEntry (rule: string, priority: int, matched: bool, note: string,\n"
	"  candidates: []Candidate)\n"
	"\n"
	"# certificate: PEM, or base64 DER. Refusals are replies, not errors.\n"
	"method Map(certificate: string, chain: ?[]string, user: ?string,\n"
	"  upn_hint: ?string, domain_hint: ?string, trace: ?bool) ->\n"
	"  (verdict: string, user: ?string, uid: ?int, gid: ?int, groups: ?[]string,\n"
	"   home: ?string, rule: ?string, domain: ?string, reason: ?string,\n"
	"   message: ?string, cert_sha256: string, trace: ?[]TraceEntry)\n"
	"\n"
	"method GetStats() -> (requests: int, hits: int, misses: int, errors: int,\n"
	"  mapped: int, refused: int, ambiguous: int, failed: int, rejected_peers: int,\n"
	"  timeouts: int, reloads: int, reload_failures: int, connections: int,\n"
	"  cache_entries: int, uptime_ms: int, latency_us: [](le: int, count: int))\n"
	"\n"
	"# Administrators only (uid 0 or the service's own uid).\n"
	"method Reload() -> ()\n"
	"\n"
	"error PermissionDenied (message: ?string)\n"
	"error TooLarge (parameter: ?string, message: ?string)\n"
	"error BackendUnavailable (verdict: ?string, reason: ?string, message: ?string,\n"
	"  cert_sha256: ?string)\n"
	"error ReloadFailed (message: string)\n"
	"error TooManyConnections (message: ?string)\n";

static const char service_idl[] =
	"# The varlink service interface.\n"
	"interface org.varlink.service\n"
	"method GetInfo() -> (vendor: string, product: string, version: string,\n"
	"  url: string, interfaces: []string)\n"
	"method GetInterfaceDescription(interface: string) -> (description: string)\n"
	"error InterfaceNotFound (interface: string)\n"
	"error MethodNotFound (method: string)\n"
	"error MethodNotImplemented (method: string)\n"
	"error InvalidParameter (parameter: string)\n";

uint64_t cmd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cmd_now_ms(void)
{
	return cmd_now_us() / 1000u;
}

void cmd_stats_latency(struct cmd_stats *s, uint64_t us)
{
	size_t i = 0;

	while (i < CMD_LAT_BUCKETS && us > cmd_lat_bounds_us[i]) {
		i++;
	}
	cmd_stats_add(s, CMD_C_LATENCY + i, 1);
}

/* ---------------------------------------------------------------- generations */

struct cmd_gen *cmd_gen_load(const char *path, char **errmsg)
{
	struct cmd_gen *g = calloc(1, sizeof(*g));

	*errmsg = NULL;
	if (g == NULL) {
		*errmsg = strdup("out of memory");
		return NULL;
	}
	if (certmap_ctx_new(path, &g->ctx, errmsg) != CERTMAP_OK) {
		free(g);
		return NULL;
	}
	g->cfg = cm_ctx_config(g->ctx);
	g->cache = cm_cache_new(g->cfg->service.cache_size,
				(uint64_t)g->cfg->service.cache_ttl * 1000u);
	if (g->cache == NULL) {
		certmap_ctx_free(g->ctx);
		free(g);
		*errmsg = strdup("out of memory");
		return NULL;
	}
	atomic_init(&g->refs, 1);
	return g;
}

struct cmd_gen *cmd_gen_ref(struct cmd_gen *g)
{
	atomic_fetch_add(&g->refs, 1);
	return g;
}

void cmd_gen_unref(struct cmd_gen *g)
{
	if (g != NULL && atomic_fetch_sub(&g->refs, 1) == 1) {
		cm_cache_free(g->cache);
		certmap_ctx_free(g->ctx);
		free(g);
	}
}

int cmd_reload(struct cmd_loop *lp, char **errmsg)
{
	struct cmd_state *st = lp->st;
	const struct cm_service_conf *old = &lp->gen->cfg->service, *nw;
	struct cmd_gen *g = cmd_gen_load(st->config_path, errmsg);

	if (g == NULL) {
		cmd_stats_add(&lp->stats, CMD_C_RELOAD_FAILURES, 1);
		cmd_log(LOG_ERR, "reload of %s failed, keeping the running configuration: %s",
			st->config_path, *errmsg != NULL ? *errmsg : "unknown error");
		return -1;
	}
	nw = &g->cfg->service;
	if (strcmp(old->socket, nw->socket) != 0 || strcmp(old->user, nw->user) != 0) {
		cmd_log(LOG_WARNING, "service.socket and service.user take effect at the next start");
	}
	/* The new generation brings an empty cache: answers made under the
	 * old rules must not outlive them. */
	cmd_loops_set_gen(st, g);
	cmd_loop_refresh_gen(lp);
	cmd_stats_add(&lp->stats, CMD_C_RELOADS, 1);
	cmd_log(LOG_NOTICE, "configuration %s reloaded", st->config_path);
	return 0;
}

/* ---------------------------------------------------------------- handlers */

static int reply_object(struct cm_buf *out, json_object *o)
{
	const char *s;

	if (o == NULL) {
		out->failed = true;
		return 0;
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	cmp_reply_params(out, s, strlen(s));
	json_object_put(o);
	return 0;
}

static int reply_fail(struct cm_buf *out, const char *error, const char *parameter,
		      const char *message)
{
	struct cmp_fail f = { error, parameter, message };

	cmp_reply_error(out, &f);
	return 0;
}

static int no_parameters(struct cmp_call *call, struct cm_buf *out)
{
	if (json_object_object_length(call->params) != 0) {
		reply_fail(out, CMP_E_INVALID_PARAMETER, NULL, "this method takes no parameters");
		return -1;
	}
	return 0;
}

static int do_get_info(struct cmd_loop *lp, struct conn *c, const struct cmd_peer *peer,
		       struct cmp_call *call, struct cm_buf *out)
{
	json_object *o = json_object_new_object(), *ifs = json_object_new_array();

	(void)lp, (void)c, (void)peer;
	if (no_parameters(call, out) != 0) {
		json_object_put(o);
		json_object_put(ifs);
		return 0;
	}
	json_object_array_add(ifs, json_object_new_string(CMP_IFACE_SERVICE));
	json_object_array_add(ifs, json_object_new_string(CMP_IFACE_MAPPER));
	json_object_object_add(o, "vendor", json_object_new_string("certmap"));
	json_object_object_add(o, "product", json_object_new_string("certmapd"));
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "url", json_object_new_string(PACKAGE_URL));
	json_object_object_add(o, "interfaces", ifs);
	return reply_object(out, o);
}

static int do_get_iface(struct cmd_loop *lp, struct conn *c, const struct cmd_peer *peer,
			struct cmp_call *call, struct cm_buf *out)
{
	json_object *name = NULL, *o;
	const char *idl = NULL, *n;

	(void)lp, (void)c, (void)peer;
	if (!json_object_object_get_ex(call->params, "interface", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    json_object_object_length(call->params) != 1) {
		return reply_fail(out, CMP_E_INVALID_PARAMETER, "interface", "interface must be a string");
	}
	n = json_object_get_string(name);
	if (strcmp(n, CMP_IFACE_MAPPER) == 0) {
		idl = mapper_idl;
	} else if (strcmp(n, CMP_IFACE_SERVICE) == 0) {
		idl = service_idl;
	} else {
		return reply_fail(out, CMP_E_INTERFACE_NOT_FOUND, "interface", "no such interface");
	}
	o = json_object_new_object();
	json_object_object_add(o, "description", json_object_new_string(idl));
	return reply_object(out, o);
}

static void add_count(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static int do_get_stats(struct cmd_loop *lp, struct conn *c, const struct cmd_peer *peer,
			struct cmp_call *call, struct cm_buf *out)
{
	struct cmd_stats sum, *s = &sum;
	json_object *o = json_object_new_object(), *lat = json_object_new_array();

	(void)c, (void)peer;
	if (no_parameters(call, out) != 0) {
		json_object_put(o);
		json_object_put(lat);
		return 0;
	}
	cmd_loops_stats(lp->st, &sum);
	add_count(o, "requests", cmd_stats_get(s, CMD_C_REQUESTS));
	add_count(o, "hits", cmd_stats_get(s, CMD_C_HITS));
	add_count(o, "misses", cmd_stats_get(s, CMD_C_MISSES));
	add_count(o, "errors", cmd_stats_get(s, CMD_C_ERRORS));
	add_count(o, "mapped", cmd_stats_get(s, CMD_C_MAPPED));
	add_count(o, "refused", cmd_stats_get(s, CMD_C_REFUSED));
	add_count(o, "ambiguous", cmd_stats_get(s, CMD_C_AMBIGUOUS));
	add_count(o, "failed", cmd_stats_get(s, CMD_C_FAILED));
	add_count(o, "rejected_peers", cmd_stats_get(s, CMD_C_REJECTED_PEERS));
	add_count(o, "timeouts", cmd_stats_get(s, CMD_C_TIMEOUTS));
	add_count(o, "reloads", cmd_stats_get(s, CMD_C_RELOADS));
	add_count(o, "reload_failures", cmd_stats_get(s, CMD_C_RELOAD_FAILURES));
	add_count(o, "connections", cmd_limits_count());
	add_count(o, "cache_entries", cm_cache_count(lp->gen->cache));
	add_count(o, "uptime_ms", cmd_now_ms() - lp->st->started_ms);
	for (size_t i = 0; i <= CMD_LAT_BUCKETS; i++) {
		json_object *b = json_object_new_object();

		/* le -1 is the overflow bucket: slower than the last bound. */
		json_object_object_add(b, "le", json_object_new_int64(i < CMD_LAT_BUCKETS ?
			(int64_t)cmd_lat_bounds_us[i] : -1));
		add_count(b, "count", cmd_stats_get(s, CMD_C_LATENCY + i));
		json_object_array_add(lat, b);
	}
	json_object_object_add(o, "latency_us", lat);
	return reply_object(out, o);
}

static int do_reload(struct cmd_loop *lp, struct conn *c, const struct cmd_peer *peer,
		     struct cmp_call *call, struct cm_buf *out)
{
	char *err = NULL;

	(void)c;
	if (no_parameters(call, out) != 0) {
		return 0;
	}
	cmd_log(LOG_NOTICE, "reload asked by uid %u pid %d", (unsigned)peer->uid, (int)peer->pid);
	if (cmd_reload(lp, &err) != 0) {
		reply_fail(out, CMP_E_RELOAD_FAILED, NULL, err != NULL ? err : "reload failed");
		free(err);
		return 0;
	}
	cmp_reply_params(out, "{}", 2);
	return 0;
}

static int do_map(struct cmd_loop *lp, struct conn *c, const struct cmd_peer *peer,
		  struct cmp_call *call, struct cm_buf *out)
{
	struct cmd_job *job = calloc(1, sizeof(*job));
	struct cmp_fail fail;

	if (job == NULL) {
		return reply_fail(out, CMP_E_BACKEND_UNAVAILABLE, NULL, "out of memory");
	}
	if (cmp_map_decode(call, &job->map, &fail) != 0) {
		free(job);
		cmp_reply_error(out, &fail);
		return 0;
	}
	/* Traces show the rules: only administrators get them. */
	if (job->map.trace && !peer->admin) {
		job->map.trace = false;
		/* The key still says "trace": flip a bit so that an administrator's
		 * traced answer and this untraced one never share an entry. */
		job->map.key[0] ^= 0x01;
	}
	if (cm_cache_get(lp->gen->cache, job->map.key, cmd_now_ms(), out)) {
		cmd_stats_add(&lp->stats, CMD_C_HITS, 1);
		cmd_job_free(job);
		return 0;
	}
	cmd_stats_add(&lp->stats, CMD_C_MISSES, 1);
	if (cmp_map_decode_certs(&job->map, &fail) != 0) {
		cmd_job_free(job);
		cmp_reply_error(out, &fail);
		return 0;
	}
	job->loop = lp;
	job->conn = c;
	job->gen = cmd_gen_ref(lp->gen);
	job->call = *call;
	memset(call, 0, sizeof(*call)); /* the job owns the strings now */
	job->start_us = cmd_now_us();
	job->peer_uid = peer->uid;
	job->peer_pid = peer->pid;
	job->oneway = job->call.oneway;
	cm_buf_init(&job->reply, CMP_MAX_REPLY);
	cmd_workers_submit(lp->st->workers, job);
	return 1;
}

struct cmd_method {
	const char *name;
	bool admin_only;
	int (*handler)(struct cmd_loop *, struct conn *, const struct cmd_peer *,
		       struct cmp_call *, struct cm_buf *);
};

/* Anything not listed here is refused. */
static const struct cmd_method methods[] = {
	{ CMP_M_GET_INFO, false, do_get_info },
	{ CMP_M_GET_IFACE, false, do_get_iface },
	{ CMP_M_MAP, false, do_map },
	{ CMP_M_GET_STATS, false, do_get_stats },
	{ CMP_M_RELOAD, true, do_reload },
};

static bool known_interface(const char *method)
{
	return strncmp(method, CMP_IFACE_MAPPER ".", sizeof(CMP_IFACE_MAPPER)) == 0 ||
	       strncmp(method, CMP_IFACE_SERVICE ".", sizeof(CMP_IFACE_SERVICE)) == 0;
}

int cmd_dispatch(struct cmd_loop *lp, struct conn *c, const struct cmd_peer *peer,
		 struct cmp_call *call, struct cm_buf *out)
{
	cmd_stats_add(&lp->stats, CMD_C_REQUESTS, 1);
	for (size_t i = 0; i < CM_ARRAY_SIZE(methods); i++) {
		if (strcmp(call->method, methods[i].name) != 0) {
			continue;
		}
		if (methods[i].admin_only && !peer->admin) {
			return reply_fail(out, CMP_E_PERMISSION_DENIED, NULL,
					  "this method is for administrators");
		}
		return methods[i].handler(lp, c, peer, call, out);
	}
	if (!known_interface(call->method)) {
		return reply_fail(out, CMP_E_INTERFACE_NOT_FOUND, "interface", "no such interface");
	}
	return reply_fail(out, CMP_E_METHOD_NOT_FOUND, "method", "no such method");
}

/* ---------------------------------------------------------------- Map, in a worker */

static void log_field(struct cm_buf *b, const char *name, const char *value)
{
	cm_buf_printf(b, " %s=", name);
	if (value == NULL) {
		cm_buf_adds(b, "-");
		return;
	}
	cm_buf_add_quoted(b, (const unsigned char *)value, strlen(value), 128);
}

/* One NOTICE line per decision; every string in it is escaped. */
static void log_decision(const struct cmd_job *job, const struct certmap_answer *a)
{
	struct cm_buf b;
	char *line;

	cm_buf_init(&b, 4096);
	cm_buf_printf(&b, "decision %s", certmap_verdict_name(certmap_answer_verdict(a)));
	if (certmap_answer_verdict(a) == CERTMAP_VERDICT_MAPPED) {
		log_field(&b, "user", certmap_answer_user(a));
		log_field(&b, "rule", certmap_answer_rule(a));
		log_field(&b, "domain", certmap_answer_domain(a));
	} else {
		log_field(&b, "reason", certmap_reason_name(certmap_answer_reason(a)));
		log_field(&b, "message", certmap_answer_message(a));
	}
	cm_buf_printf(&b, " cert_sha256=%s peer_uid=%u peer_pid=%d",
		      certmap_answer_cert_sha256(a)[0] != '\0' ? certmap_answer_cert_sha256(a) : "-",
		      (unsigned)job->peer_uid, (int)job->peer_pid);
	line = cm_buf_steal(&b, NULL);
	syslog(LOG_NOTICE, "%s", line != NULL ? line : "decision (log line too long)");
	free(line);
	cm_buf_free(&b);
}

/* BackendUnavailable carries the refusal's fields so clients can still
 * show why; the answer is never cached. */
static void reply_backend(struct cmd_job *job, const char *answer_json)
{
	cm_buf_adds(&job->reply, "{\"" CMP_F_ERROR "\":\"" CMP_E_BACKEND_UNAVAILABLE "\",\""
			      CMP_F_PARAMETERS "\":");
	cm_buf_adds(&job->reply, answer_json);
	cm_buf_add(&job->reply, "}", 2);
}

void cmd_job_run(struct cmd_job *job)
{
	struct certmap_request req;
	struct certmap_answer *a = NULL;
	char *json = NULL;
	int rc;

	job->verdict = -1;
	cmp_map_request(&job->map, &req);
	rc = certmap_map(job->gen->ctx, &req, &a);
	if (rc != CERTMAP_OK) {
		cmd_log(LOG_ERR, "mapping failed: %s", certmap_strerror(rc));
		reply_fail(&job->reply, CMP_E_BACKEND_UNAVAILABLE, NULL, certmap_strerror(rc));
		goto out;
	}
	log_decision(job, a);
	if ((json = certmap_answer_to_json(a, job->map.trace)) == NULL) {
		reply_fail(&job->reply, CMP_E_BACKEND_UNAVAILABLE, NULL, "out of memory");
		goto out;
	}
	job->verdict = (int)certmap_answer_verdict(a);
	if (certmap_answer_reason(a) == CERTMAP_REASON_BACKEND_UNAVAILABLE) {
		reply_backend(job, json);
		goto out;
	}
	cmp_reply_params(&job->reply, json, strlen(json));
	/* An error verdict may be transient; everything else is stable for the TTL. */
	job->cacheable = certmap_answer_verdict(a) != CERTMAP_VERDICT_ERROR;
	job->valid_until = cm_answer_valid_until(a);
out:
	if (job->reply.failed) {
		cm_buf_free(&job->reply);
		cm_buf_init(&job->reply, CMP_MAX_REPLY);
		reply_fail(&job->reply, CMP_E_TOO_LARGE, NULL, "the reply is over the size limit");
		job->cacheable = false;
	}
	free(json);
	certmap_answer_free(a);
}

void cmd_job_free(struct cmd_job *job)
{
	if (job == NULL) {
		return;
	}
	cmp_map_clear(&job->map);
	cmp_call_clear(&job->call);
	cm_buf_free(&job->reply);
	if (job->gen != NULL) {
		cmd_gen_unref(job->gen);
	}
	free(job);
}
