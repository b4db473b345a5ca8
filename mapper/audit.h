/*
 * The audit trail: one record per decision by certmapd or pam_certmap.so,
 * formatted here and only here. The record goes to journald as structured
 * fields (when libsystemd was there at build time and journald's socket is
 * there at run time), otherwise as one syslog line with the same words,
 * written by the caller's function (pam_syslog for the PAM module).
 * Repeated refusals of one certificate for one reason are rate-limited.
 */
#ifndef CERTMAP_AUDIT_H
#define CERTMAP_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The MESSAGE_ID of each verdict (documented in certmapd(8)). */
#define CM_AUDIT_ID_MAPPED "6c3f0b2a9d1e4f58a7c2e81b5d9046f1"
#define CM_AUDIT_ID_REFUSED "b81d7e4c02a94f3e9c65d1f0a3e7b264"
#define CM_AUDIT_ID_AMBIGUOUS "4e9a6c1d7b3f42e08d5a9c2f6e1b7d30"
#define CM_AUDIT_ID_ERROR "d2a05f7e8c614b9ea3f1c7d28e4b6a95"

/* At most this many records per (certificate, reason) refusal per window. */
#define CM_AUDIT_BURST 5
#define CM_AUDIT_WINDOW_S 10

/* Every string is borrowed, may be NULL ("-" is logged), and is escaped
 * when it is written: certificate-derived text cannot forge a field. */
struct cm_audit {
	const char *ident;   /* SYSLOG_IDENTIFIER in the journal: "certmapd", "pam_certmap" */
	const char *prefix;  /* words before the verdict (the PAM result), or NULL */
	const char *verdict; /* "mapped", "refused", "ambiguous", "error" */
	const char *reason;
	const char *message;
	const char *user;
	const char *rule;
	const char *domain;
	const char *requested; /* PAM_USER, PAM only */
	const char *cert_sha256;
	const unsigned char *cert; /* DER, for subject and issuer; NULL: remembered by SHA-256 */
	size_t cert_len;
	bool cached;
	bool has_peer; /* certmapd: peer_uid and peer_pid are set */
	uid_t peer_uid;
	pid_t peer_pid;
	const char *service; /* PAM_SERVICE, PAM only */
	const char *rhost;   /* PAM_RHOST, PAM only */
	uint64_t time_us;
};

/* Writes line when journald cannot be used. */
typedef void (*cm_audit_syslog_fn)(void *arg, const char *line);

/* Logs one record (or counts it as suppressed). Thread-safe. */
void cm_audit_log(const struct cm_audit *a, cm_audit_syslog_fn to_syslog, void *arg);

/*
 * The words of a record that depend on the decision alone (verdict to
 * issuer), rendered once: certmapd keeps them with a cached answer and
 * logs each hit with cm_audit_log_pre, so that a hit neither parses its
 * reply nor decodes the certificate. NULL when out of memory.
 */
struct cm_audit_pre;
struct cm_audit_pre *cm_audit_prepare(const struct cm_audit *a);
/* Shared, immutable: another reference (p may be NULL); each one is freed. */
struct cm_audit_pre *cm_audit_pre_ref(struct cm_audit_pre *p);
void cm_audit_pre_free(struct cm_audit_pre *p);
/* Logs p's record with the rest taken from a (peer or PAM service and
 * host, cached, time_us); rate-limited like cm_audit_log. cm_audit_log is
 * cm_audit_prepare and this, so both forms are the same words. */
void cm_audit_log_pre(const struct cm_audit_pre *p, const struct cm_audit *a,
		      cm_audit_syslog_fn to_syslog, void *arg);

/* How a record reaches journald: fn gets the entry's "KEY=value" fields,
 * as sd_journal_sendv does, and returns 0 when journald took it.
 * sd_journal_sendv by default (NULL restores it); certmapd gives its own
 * (service/journal.c). Set before any record is logged. */
struct iovec;
typedef int (*cm_audit_journal_fn)(const struct iovec *fields, size_t n);
void cm_audit_set_journal(cm_audit_journal_fn fn);

/* Monotonic microseconds, for time_us. */
uint64_t cm_audit_now_us(void);

#endif
