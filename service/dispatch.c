/*
 * certmapd's methods: one frame in, one reply out. The dispatch table
 * {method, who may call, handler}, the cache in front of Map, and the Map
 * job: its lookup, run by lookups.c (mostly in the caller's own thread).
 * A caller lends what a call needs in a struct cmd_caller, including where
 * a finished job must go: dispatch never calls back into its callers.
 */
#include "config.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "answer.h"
#include "audit.h"
#include "cache.h"
#include "daemon.h"
#include "request_fast.h"

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
    "  upn_hint: ?string, domain_hint: ?string, trace: ?bool,\n"
    "  user_mapping_data: ?string) ->\n"
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

struct cmd_job {
	struct cmd_work work; /* what lookups.c sees */
	struct cmd_job *next; /* the owner's mailbox, once posted */
	void (*post)(struct cmd_job *job, void *post_arg);
	void *post_arg;
	void *owner;
	unsigned int shard; /* the caller's answer-cache shard */
	struct cmd_gen *gen;
	struct cmp_call call;
	char *frame; /* map points into call, or into this copy of the frame */
	struct cmp_map map;
	uid_t peer_uid;
	pid_t peer_pid;
	bool oneway;
	uint64_t start_us;
	/* Filled by the lookup. */
	struct cm_buf reply;
	bool cacheable;
	int64_t valid_until; /* the answer's own cache limit (cm_answer_valid_until) */
	int verdict;	     /* enum certmap_verdict, or -1 for an error reply */
	struct cm_audit_pre *audit; /* the decision's record words, for the cache */
	bool finished;		    /* cmd_job_finish was called */
};

/* ---------------------------------------------------------------- handlers */

static enum cmd_outcome reply_object(struct cm_buf *out, json_object *o)
{
	const char *s;

	if (o == NULL) {
		out->failed = true;
		return CMD_REPLIED;
	}
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	cmp_reply_params(out, s, strlen(s));
	json_object_put(o);
	return CMD_REPLIED;
}

static enum cmd_outcome reply_fail(struct cm_buf *out, const char *error, const char *parameter,
				   const char *message)
{
	struct cmp_fail f = {.error = error, .parameter = parameter, .message = message};

	cmp_reply_error(out, &f);
	return CMD_REPLIED;
}

/* Every parameter must be one of allowed (a NULL-terminated list); the
 * first one that is not is named in the error. */
static int only_params(const struct cmp_call *call, const char *const *allowed, struct cm_buf *out)
{
	json_object_object_foreach(call->params, key, v)
	{
		size_t i = 0;

		(void)v;
		while (allowed[i] != NULL && strcmp(allowed[i], key) != 0) {
			i++;
		}
		if (allowed[i] == NULL) {
			reply_fail(out, CMP_E_INVALID_PARAMETER, key, "unknown parameter");
			return -1;
		}
	}
	return 0;
}

static const char *const no_params[] = {NULL};

static enum cmd_outcome do_get_info(const struct cmd_caller *cl, struct cmp_call *call,
				    struct cm_buf *out)
{
	json_object *o, *ifs;

	(void)cl;
	if (only_params(call, no_params, out) != 0) {
		return CMD_REPLIED;
	}
	o = json_object_new_object();
	ifs = json_object_new_array();
	json_object_array_add(ifs, json_object_new_string(CMP_IFACE_SERVICE));
	json_object_array_add(ifs, json_object_new_string(CMP_IFACE_MAPPER));
	json_object_object_add(o, "vendor", json_object_new_string("certmap"));
	json_object_object_add(o, "product", json_object_new_string("certmapd"));
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "url", json_object_new_string(PACKAGE_URL));
	json_object_object_add(o, "interfaces", ifs);
	return reply_object(out, o);
}

static enum cmd_outcome do_get_iface(const struct cmd_caller *cl, struct cmp_call *call,
				     struct cm_buf *out)
{
	static const char *const allowed[] = {CMP_P_INTERFACE, NULL};
	json_object *name = NULL, *o;
	const char *idl = NULL, *n;
	struct cmp_fail f = {.error = CMP_E_INTERFACE_NOT_FOUND,
			     .name_key = CMP_P_INTERFACE,
			     .message = "no such interface"};

	(void)cl;
	if (only_params(call, allowed, out) != 0) {
		return CMD_REPLIED;
	}
	if (!json_object_object_get_ex(call->params, CMP_P_INTERFACE, &name) ||
	    !json_object_is_type(name, json_type_string)) {
		return reply_fail(out, CMP_E_INVALID_PARAMETER, CMP_P_INTERFACE,
				  "interface must be a string");
	}
	/* The decoder refused strings holding a NUL: strcmp sees all of it. */
	n = json_object_get_string(name);
	if (strcmp(n, CMP_IFACE_MAPPER) == 0) {
		idl = mapper_idl;
	} else if (strcmp(n, CMP_IFACE_SERVICE) == 0) {
		idl = service_idl;
	} else {
		f.name = n;
		f.name_len = strlen(n);
		cmp_reply_error(out, &f);
		return CMD_REPLIED;
	}
	o = json_object_new_object();
	json_object_object_add(o, "description", json_object_new_string(idl));
	return reply_object(out, o);
}

static void add_count(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static enum cmd_outcome do_get_stats(const struct cmd_caller *cl, struct cmp_call *call,
				     struct cm_buf *out)
{
	static const struct {
		const char *name;
		enum cmd_counter c;
	} counters[] = {
	    {"requests", CMD_C_REQUESTS},
	    {"hits", CMD_C_HITS},
	    {"misses", CMD_C_MISSES},
	    {"errors", CMD_C_ERRORS},
	    {"mapped", CMD_C_MAPPED},
	    {"refused", CMD_C_REFUSED},
	    {"ambiguous", CMD_C_AMBIGUOUS},
	    {"failed", CMD_C_FAILED},
	    {"rejected_peers", CMD_C_REJECTED_PEERS},
	    {"timeouts", CMD_C_TIMEOUTS},
	    {"reloads", CMD_C_RELOADS},
	    {"reload_failures", CMD_C_RELOAD_FAILURES},
	};
	struct cmd_stats sum;
	json_object *o, *lat;

	if (only_params(call, no_params, out) != 0) {
		return CMD_REPLIED;
	}
	o = json_object_new_object();
	lat = json_object_new_array();
	cmd_state_stats(cl->st, &sum);
	for (size_t i = 0; i < CM_ARRAY_SIZE(counters); i++) {
		add_count(o, counters[i].name, cmd_stats_get(&sum, counters[i].c));
	}
	add_count(o, "connections", cmd_limits_count());
	add_count(o, "cache_entries", cm_cache_count(cl->gen->cache));
	add_count(o, "uptime_ms", cmd_now_ms() - cl->st->started_ms);
	for (size_t i = 0; i <= CMD_LAT_BUCKETS; i++) {
		json_object *b = json_object_new_object();

		/* le -1 is the overflow bucket: slower than the last bound. */
		json_object_object_add(b, "le",
				       json_object_new_int64(i < CMD_LAT_BUCKETS
								 ? (int64_t)cmd_lat_bounds_us[i]
								 : -1));
		add_count(b, "count", cmd_stats_get(&sum, CMD_C_LATENCY + i));
		json_object_array_add(lat, b);
	}
	json_object_object_add(o, "latency_us", lat);
	return reply_object(out, o);
}

static enum cmd_outcome do_reload(const struct cmd_caller *cl, struct cmp_call *call,
				  struct cm_buf *out)
{
	char *err = NULL;
	int rc;

	if (only_params(call, no_params, out) != 0) {
		return CMD_REPLIED;
	}
	cmd_log(LOG_NOTICE, "reload asked by uid %u pid %d", (unsigned)cl->peer->uid,
		(int)cl->peer->pid);
	/* Loading may take a while: another thread of the set waits meanwhile. */
	cmd_lookups_blocking(cl->st->lookups, true);
	rc = cmd_reload(cl->st, cl->stats, &err);
	cmd_lookups_blocking(cl->st->lookups, false);
	if (rc != 0) {
		reply_fail(out, CMP_E_RELOAD_FAILED, NULL, err != NULL ? err : "reload failed");
		free(err);
		return CMD_REPLIED;
	}
	cmp_reply_params(out, "{}", 2);
	return CMD_REPLIED;
}

static void job_run(struct cmd_work *w);
static void job_done(struct cmd_work *w, bool ran);

static uint64_t log_cached(const struct cmd_caller *cl, const struct cm_audit_pre *audit,
			   uint64_t start_us);

/* Whether the answer cache keeps anything: with cache_size or cache_ttl 0
 * it stores nothing (cm_cache_new), so no lookup can hit and none is made
 * (a key, and a lock per shard for the miss). */
static bool cache_on(const struct cmd_gen *gen)
{
	return gen->cfg->service.cache_size > 0 && gen->cfg->service.cache_ttl > 0;
}

/* When the caller read the frame (a serving thread says), else now. */
static uint64_t frame_start(const struct cmd_caller *cl)
{
	return cl->now_us != 0 ? cl->now_us : cmd_now_us();
}

/* The cached answer for key, if there is one: copied to out, counted and
 * logged. Returns when that was done (cmd_now_us), or 0 on a miss. */
static uint64_t answer_cached(const struct cmd_caller *cl, const unsigned char *key,
			      size_t key_len, uint64_t start_us, struct cm_buf *out)
{
	struct cm_cache_hit hit;
	uint64_t end;

	if (!cache_on(cl->gen) ||
	    !cm_cache_get(cl->gen->cache, cl->shard, key, key_len, start_us / 1000u, &hit)) {
		return 0;
	}
	cmd_stats_add(cl->stats, CMD_C_HITS, 1);
	cm_buf_add(out, hit.frame, hit.len);
	end = log_cached(cl, hit.audit, start_us);
	cm_cache_release(&hit);
	return end;
}

/* Starts the lookup of a Map whose answer is not cached: job's map is
 * decoded, its certificates are decoded by the lookup (job_run), which
 * may run in another thread. */
static enum cmd_outcome start_lookup(const struct cmd_caller *cl, struct cmd_job *job,
				     uint64_t start_us)
{
	cmd_stats_add(cl->stats, CMD_C_MISSES, 1);
	job->work.run = job_run;
	job->work.done = job_done;
	job->post = cl->post;
	job->post_arg = cl->post_arg;
	job->owner = cl->owner;
	job->shard = cl->shard;
	job->gen = cmd_gen_ref(cl->gen);
	job->start_us = start_us;
	job->peer_uid = cl->peer->uid;
	job->peer_pid = cl->peer->pid;
	cm_buf_init(&job->reply, CMP_MAX_REPLY);
	cmd_lookups_submit(cl->st->lookups, &job->work, cl->run_here);
	return CMD_PENDING;
}

static enum cmd_outcome do_map(const struct cmd_caller *cl, struct cmp_call *call,
			       struct cm_buf *out)
{
	struct cmd_job *job = calloc(1, sizeof(*job));
	uint64_t start_us = frame_start(cl);
	struct cmp_fail fail;

	if (job == NULL) {
		return reply_fail(out, CMP_E_BACKEND_UNAVAILABLE, NULL, "out of memory");
	}
	if (cmp_map_decode(call, &job->map, &fail) != 0) {
		free(job);
		cmp_reply_error(out, &fail);
		return CMD_REPLIED;
	}
	/* Traces show the rules: only administrators get them; the key then
	 * says "no trace", as the answer will. */
	if (job->map.trace && !cl->peer->admin) {
		job->map.trace = false;
		if (cmp_map_key(&job->map) != 0) {
			cmd_job_free(job);
			return reply_fail(out, CMP_E_BACKEND_UNAVAILABLE, NULL, "out of memory");
		}
	}
	if (answer_cached(cl, job->map.key, job->map.key_len, start_us, out) != 0) {
		cmd_job_free(job);
		return CMD_REPLIED;
	}
	job->call = *call;
	memset(call, 0, sizeof(*call)); /* the job owns the strings now */
	job->oneway = job->call.oneway;
	return start_lookup(cl, job, start_us);
}

struct cmd_method {
	const char *name;
	bool admin_only;
	enum cmd_outcome (*handler)(const struct cmd_caller *cl, struct cmp_call *call,
				    struct cm_buf *out);
};

/* Anything not listed here is refused. */
static const struct cmd_method methods[] = {
    {CMP_M_GET_INFO, false, do_get_info}, {CMP_M_GET_IFACE, false, do_get_iface},
    {CMP_M_MAP, false, do_map},		  {CMP_M_GET_STATS, false, do_get_stats},
    {CMP_M_RELOAD, true, do_reload},
};

/* Unknown method: MethodNotFound when its interface is ours, else
 * InterfaceNotFound naming the interface (the text before the last dot). */
static void reply_no_method(const char *method, struct cm_buf *out)
{
	const char *dot = strrchr(method, '.');
	size_t iface_len = dot != NULL ? (size_t)(dot - method) : 0;
	struct cmp_fail f = {.error = CMP_E_METHOD_NOT_FOUND,
			     .name_key = CMP_P_METHOD,
			     .name = method,
			     .name_len = strlen(method),
			     .message = "no such method"};

	if (dot == NULL) {
		f.error = CMP_E_INVALID_PARAMETER;
		f.parameter = CMP_F_METHOD;
		f.name_key = NULL;
		f.message = "a method is named interface.Method";
	} else if (!(iface_len == strlen(CMP_IFACE_MAPPER) &&
		     memcmp(method, CMP_IFACE_MAPPER, iface_len) == 0) &&
		   !(iface_len == strlen(CMP_IFACE_SERVICE) &&
		     memcmp(method, CMP_IFACE_SERVICE, iface_len) == 0)) {
		f.error = CMP_E_INTERFACE_NOT_FOUND;
		f.name_key = CMP_P_INTERFACE;
		f.name_len = iface_len;
		f.message = "no such interface";
	}
	cmp_reply_error(out, &f);
}

/* The method is looked up first, so an unknown one is MethodNotFound
 * whatever its envelope holds; then the envelope, then the caller. */
static enum cmd_outcome call_method(const struct cmd_caller *cl, struct cmp_call *call,
				    struct cm_buf *out)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(methods); i++) {
		if (strcmp(call->method, methods[i].name) != 0) {
			continue;
		}
		if (call->invalid.error != NULL) {
			cmp_reply_error(out, &call->invalid);
			return CMD_REPLIED;
		}
		if (methods[i].admin_only && !cl->peer->admin) {
			return reply_fail(out, CMP_E_PERMISSION_DENIED, NULL,
					  "this method is for administrators");
		}
		return methods[i].handler(cl, call, out);
	}
	reply_no_method(call->method, out);
	return CMD_REPLIED;
}

static bool is_error_reply(const struct cm_buf *out, size_t mark)
{
	static const char prefix[] = "{\"" CMP_F_ERROR "\":";

	return out->len - mark >= sizeof(prefix) - 1 &&
	       memcmp(out->data + mark, prefix, sizeof(prefix) - 1) == 0;
}

/* A reload may have taken this peer off the allowed lists. */
static bool peer_allowed(const struct cmd_caller *cl)
{
	return cl->groups_given ? cmd_peer_allowed_groups(&cl->gen->cfg->service, cl->peer,
							  cl->groups, cl->n_groups)
				: cl->fd < 0 || cmd_peer_allowed(&cl->gen->cfg->service, cl->peer, cl->fd);
}

/* A Map job for fields cmp_fast_map_fields() read in frame: its own copy
 * of the frame, no JSON tree. NULL when out of memory. */
static struct cmd_job *fast_job(const struct cmp_key_fields *f, const char *frame, size_t len)
{
	struct cmd_job *job = calloc(1, sizeof(*job));

	if (job == NULL || (job->frame = malloc(len + 1)) == NULL) {
		free(job);
		return NULL;
	}
	memcpy(job->frame, frame, len);
	job->frame[len] = '\0';
	if (cmp_map_from_fields(f, frame, job->frame, &job->map) != 0) {
		cmd_job_free(job);
		return NULL;
	}
	return job;
}

/*
 * A Map of the commonest shape (cmp_fast_map_fields()) is read from the
 * frame's bytes: a cached answer is found with nothing decoded or built,
 * a lookup starts without a JSON tree (fuzz_request_diff checks both
 * against the full decoder). False: the full path decides (any other
 * frame, a peer no longer allowed, a key over 4 KB, out of memory).
 */
static bool fast_map(const struct cmd_caller *cl, const char *frame, size_t len,
		     uint64_t start_us, struct cm_buf *out, enum cmd_outcome *rv)
{
	unsigned char key[4096]; /* a certificate of up to 3 KB of text */
	struct cmp_key_fields f;
	struct cmd_job *job;
	size_t key_len;
	uint64_t end;

	if (!peer_allowed(cl) || !cmp_fast_map_fields(frame, len, &f)) {
		return false;
	}
	f.trace = f.trace && cl->peer->admin; /* as do_map() leaves it */
	if (cache_on(cl->gen)) {
		if ((key_len = cmp_key_write(&f, key, sizeof(key))) > sizeof(key)) {
			return false;
		}
		if ((end = answer_cached(cl, key, key_len, start_us, out)) != 0) {
			cmd_stats_latency(cl->stats, end - start_us);
			*rv = CMD_REPLIED;
			return true;
		}
	}
	if ((job = fast_job(&f, frame, len)) == NULL) {
		return false;
	}
	*rv = start_lookup(cl, job, start_us);
	return true;
}

enum cmd_outcome cmd_dispatch_frame(const struct cmd_caller *cl, const char *frame, size_t len,
				    struct cm_buf *out)
{
	struct cmp_call call;
	struct cmp_fail fail;
	uint64_t start = frame_start(cl);
	size_t mark = out->len;
	enum cmd_outcome rv;

	cmd_stats_add(cl->stats, CMD_C_REQUESTS, 1);
	if (fast_map(cl, frame, len, start, out, &rv)) {
		return rv;
	}
	if (cmp_call_decode(frame, len, &call, &fail) != 0) {
		/* After a malformed frame the stream cannot be trusted: say why, then close. */
		cmd_stats_add(cl->stats, CMD_C_ERRORS, 1);
		cmp_reply_error(out, &fail);
		return CMD_REPLIED_CLOSE;
	}
	if (!peer_allowed(cl)) {
		cmd_stats_add(cl->stats, CMD_C_ERRORS, 1);
		reply_fail(out, CMP_E_PERMISSION_DENIED, NULL,
			   "this peer is no longer allowed by service.allowed_uids/allowed_gids");
		cmp_call_clear(&call);
		return CMD_REPLIED_CLOSE;
	}
	rv = call_method(cl, &call, out);
	if (rv == CMD_PENDING) {
		return rv;
	}
	if (is_error_reply(out, mark)) {
		cmd_stats_add(cl->stats, CMD_C_ERRORS, 1);
	}
	if (call.oneway) {
		out->len = mark;
	}
	cmp_call_clear(&call);
	cmd_stats_latency(cl->stats, cmd_now_us() - start);
	return rv;
}

/* ---------------------------------------------------------------- Map, the lookup */

static void audit_syslog(void *arg, const char *line)
{
	(void)arg;
	cmd_log_line(LOG_NOTICE, line);
}

/* One record per decision (mapper/audit.c words it); its fixed words are
 * kept in job->audit for the cache entry. */
static void log_decision(struct cmd_job *job, const struct certmap_answer *a)
{
	struct cm_audit r = {
	    .ident = "certmapd",
	    .verdict = certmap_verdict_name(certmap_answer_verdict(a)),
	    .reason = certmap_reason_name(certmap_answer_reason(a)),
	    .message = certmap_answer_message(a),
	    .user = certmap_answer_user(a),
	    .rule = certmap_answer_rule(a),
	    .domain = certmap_answer_domain(a),
	    .cert_sha256 = certmap_answer_cert_sha256(a),
	    .cert = job->map.cert,
	    .cert_len = job->map.cert_len,
	    .has_peer = true,
	    .peer_uid = job->peer_uid,
	    .peer_pid = job->peer_pid,
	    .time_us = cmd_now_us() - job->start_us,
	};

	job->audit = cm_audit_prepare(&r);
	cm_audit_log_pre(job->audit, &r, audit_syslog, NULL);
	/* Only an answer cache keeps the words; freed by the thread that made them. */
	if (!cache_on(job->gen)) {
		cm_audit_pre_free(job->audit);
		job->audit = NULL;
	}
}

/* A cached answer is a decision too: the words its decision was logged
 * with, and this caller's peer, cached=yes and time. Returns the time it
 * took the answer to (cmd_now_us), for the latency counters too. */
static uint64_t log_cached(const struct cmd_caller *cl, const struct cm_audit_pre *audit,
			   uint64_t start_us)
{
	uint64_t end = cmd_now_us();
	struct cm_audit r = {.ident = "certmapd",
			     .cached = true,
			     .has_peer = true,
			     .peer_uid = cl->peer->uid,
			     .peer_pid = cl->peer->pid,
			     .time_us = end - start_us};

	cm_audit_log_pre(audit, &r, audit_syslog, NULL);
	return end;
}

/* BackendUnavailable carries the refusal's fields so clients can still
 * show why; the answer is never cached. */
static void reply_backend(struct cmd_job *job, const char *answer_json)
{
	static const char head[] =
	    "{\"" CMP_F_ERROR "\":\"" CMP_E_BACKEND_UNAVAILABLE "\",\"" CMP_F_PARAMETERS "\":";

	cmp_reply_raw(&job->reply, head, answer_json, strlen(answer_json));
}

static void job_run(struct cmd_work *w)
{
	struct cmd_job *job = (struct cmd_job *)((char *)w - offsetof(struct cmd_job, work));
	struct certmap_request req;
	struct certmap_answer *a = NULL;
	struct cmp_fail fail;
	char *json = NULL;
	int rc;

	job->verdict = -1;
	if (cmp_map_decode_certs(&job->map, &fail) != 0) {
		cmp_reply_error(&job->reply, &fail);
		goto out;
	}
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
	/* Needed by the lookup alone: freed where they were allocated (a block
	 * freed by another thread goes back through the lock of the allocating
	 * thread's arena). */
	cmp_map_drop_decoded(&job->map);
}

static void job_done(struct cmd_work *w, bool ran)
{
	struct cmd_job *job = (struct cmd_job *)((char *)w - offsetof(struct cmd_job, work));

	if (!ran) {
		job->verdict = -1;
		job->cacheable = false;
		reply_fail(&job->reply, CMP_E_BACKEND_UNAVAILABLE, NULL, "the service is stopping");
	}
	job->post(job, job->post_arg);
}

void cmd_job_finish(struct cmd_job *job, struct cmd_stats *stats, struct cm_buf *out)
{
	enum cmd_counter verdict;

	if (job->finished) {
		return;
	}
	job->finished = true;
	switch (job->verdict) {
	case CERTMAP_VERDICT_MAPPED: verdict = CMD_C_MAPPED; break;
	case CERTMAP_VERDICT_REFUSED: verdict = CMD_C_REFUSED; break;
	case CERTMAP_VERDICT_AMBIGUOUS: verdict = CMD_C_AMBIGUOUS; break;
	case CERTMAP_VERDICT_ERROR: verdict = CMD_C_FAILED; break;
	default: verdict = CMD_C_ERRORS; break;
	}
	cmd_stats_add(stats, verdict, 1);
	cmd_stats_latency(stats, cmd_now_us() - job->start_us);
	/* The cache belongs to the job's generation: an answer made under
	 * rules a reload has replaced goes away with them. */
	if (job->cacheable && !job->reply.failed && cache_on(job->gen)) {
		cm_cache_put(job->gen->cache, job->shard, job->map.key, job->map.key_len,
			     job->reply.data, job->reply.len, cmd_now_ms(), job->valid_until,
			     job->audit);
		job->audit = NULL;
	}
	if (out != NULL && !job->oneway) {
		cm_buf_add(out, job->reply.data, job->reply.len);
	}
}

void *cmd_job_owner(const struct cmd_job *job)
{
	return job->owner;
}

struct cmd_job **cmd_job_link(struct cmd_job *job)
{
	return &job->next;
}

void cmd_job_free(struct cmd_job *job)
{
	if (job == NULL) {
		return;
	}
	cmp_map_clear(&job->map);
	cmp_call_clear(&job->call);
	free(job->frame);
	cm_buf_free(&job->reply);
	cm_audit_pre_free(job->audit);
	if (job->gen != NULL) {
		cmd_gen_unref(job->gen);
	}
	free(job);
}
