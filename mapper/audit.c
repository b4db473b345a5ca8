/*
 * The audit trail (see audit.h): the one place that knows the words and
 * fields of a decision record, the journal and syslog forms, and the
 * rate limit on repeated refusals.
 */
#include "config.h"

#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "audit.h"
#include "der.h"
#include "name.h"
#include "util.h"

#define VALUE_CAP 128 /* bytes of one string shown, as in every log line */
#define NAME_CAP 1024 /* bytes of a printed subject or issuer before the cap */
#define SLOTS 256     /* certificates tracked by the rate limit at once */
#define MAX_FIELDS 24
#define LINE_CAP 8192 /* bytes of a record's line */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* ------------------------------------------------------------ rate limit */

struct slot {
	char key[65 + 32]; /* sha256 '/' reason; "" when free */
	time_t window_start;
	unsigned int seen;
	unsigned int suppressed;
};

static struct slot slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const char *key)
{
	size_t h = 5381;

	for (const char *p = key; *p != '\0'; p++) {
		h = h * 33 + (unsigned char)*p;
	}
	return h % SLOTS;
}

/* Only refusals of a known certificate are limited: a mapping is always
 * worth a line. Returns false when the record is to be dropped; otherwise
 * *suppressed says how many were dropped since the last one logged. */
static bool rate_allow(const char *verdict, const char *cert_sha256, const char *reason,
		       unsigned int *suppressed)
{
	char key[sizeof(slots[0].key)];
	time_t now = time(NULL);
	struct slot *s;
	bool allow = true;

	*suppressed = 0;
	if (verdict == NULL || strcmp(verdict, "refused") != 0 || cert_sha256 == NULL ||
	    cert_sha256[0] == '\0') {
		return true;
	}
	snprintf(key, sizeof(key), "%.64s/%.30s", cert_sha256, reason != NULL ? reason : "-");
	pthread_mutex_lock(&slots_lock);
	s = &slots[slot_of(key)];
	if (strcmp(s->key, key) != 0 || now - s->window_start >= CM_AUDIT_WINDOW_S ||
	    now < s->window_start) {
		/* A new window (or another certificate takes the slot): what was
		 * suppressed in the old one is reported with this record. */
		*suppressed = strcmp(s->key, key) == 0 ? s->suppressed : 0;
		memcpy(s->key, key, sizeof(key));
		s->window_start = now;
		s->seen = 0;
		s->suppressed = 0;
	}
	if (s->seen >= CM_AUDIT_BURST) {
		s->suppressed++;
		allow = false;
	} else {
		s->seen++;
	}
	pthread_mutex_unlock(&slots_lock);
	return allow;
}

/* ------------------------------------------------------------ values */

/* The escaped form of one value, without its quotes: "-" for none. */
static void add_escaped(struct cm_buf *b, const char *value)
{
	if (value == NULL || value[0] == '\0') {
		cm_buf_addc(b, '-');
		return;
	}
	cm_buf_add_quoted(b, (const unsigned char *)value, strnlen(value, VALUE_CAP + 1), VALUE_CAP);
}

/* RFC 2253 text of a name, or NULL. */
static char *name_text(const X509_NAME *name)
{
	char *out = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	if (bio == NULL || name == NULL) {
		goto out;
	}
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		goto out;
	}
	n = BIO_get_mem_data(bio, &p);
	if (n < 0 || p == NULL) {
		goto out;
	}
	if (n > NAME_CAP) {
		n = NAME_CAP;
	}
	if ((out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
out:
	BIO_free(bio);
	return out;
}

/*
 * The Name at DER tlv as RFC 2253 text, or NULL. name.c prints nearly
 * every name itself, the very bytes of OpenSSL below for about a
 * twentieth of the CPU (0.2 against 3.9 us for a usual name, without an
 * X509_NAME or a BIO); the rest (a value that is no string, say) is
 * OpenSSL's.
 */
static char *der_name_text(const struct cm_der *tlv)
{
	const unsigned char *p = tlv->p;
	X509_NAME *name = NULL;
	char *out = cm_name_print_rfc2253(tlv->p, tlv->len, NAME_CAP);

	if (out != NULL) {
		return out;
	}
	name = d2i_X509_NAME(NULL, &p, (long)tlv->len);
	if (name != NULL && p == tlv->p + tlv->len) {
		out = name_text(name);
	}
	X509_NAME_free(name);
	return out;
}

/*
 * The subject and issuer of a certificate. Only the two Names are read
 * (der_name_text: the text is the one OpenSSL prints): d2i_X509 of the
 * whole certificate also decodes the public key through the providers,
 * 100+ us and process-wide locks for every first-seen certificate, which
 * made the log line cost more than an uncached ldap-domain mapping. A
 * certificate that is not DER throughout gets no names, as before.
 */
static void cert_names(const unsigned char *der, size_t len, char **subject, char **issuer)
{
	struct cm_der c = { der, len }, cert, tbs, issuer_tlv, subject_tlv, skip;
	unsigned char tag;

	*subject = NULL;
	*issuer = NULL;
	if (der == NULL || len == 0 || len > 1024 * 1024 || !cm_der_validate(der, len) ||
	    cm_der_expect(&c, 0x30, &cert, NULL) != 0 || c.len != 0 ||
	    cm_der_expect(&cert, 0x30, &tbs, NULL) != 0 ||
	    (cm_der_peek(&tbs) == 0xa0 && cm_der_get(&tbs, &tag, &skip, NULL) != 0) ||
	    cm_der_expect(&tbs, 0x02, &skip, NULL) != 0 ||         /* serialNumber */
	    cm_der_expect(&tbs, 0x30, &skip, NULL) != 0 ||         /* signature */
	    cm_der_expect(&tbs, 0x30, &skip, &issuer_tlv) != 0 ||
	    cm_der_expect(&tbs, 0x30, &skip, NULL) != 0 ||         /* validity */
	    cm_der_expect(&tbs, 0x30, &skip, &subject_tlv) != 0) {
		return;
	}
	*subject = der_name_text(&subject_tlv);
	*issuer = der_name_text(&issuer_tlv);
}

/* ------------------------------------------------------------ names memo */

/* The subject and issuer of recently seen certificates by SHA-256, so
 * that a cached answer is logged without decoding its certificate again. */
struct names {
	char sha256[65];
	char *subject;
	char *issuer;
};

static struct names memo[SLOTS];
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static bool sha256_ok(const char *sha)
{
	return sha != NULL && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64;
}

static void memo_put(const char *sha, const char *subject, const char *issuer)
{
	char *s = subject != NULL ? strdup(subject) : NULL;
	char *i = issuer != NULL ? strdup(issuer) : NULL;
	struct names *m = &memo[slot_of(sha)];

	pthread_mutex_lock(&memo_lock);
	free(m->subject);
	free(m->issuer);
	memcpy(m->sha256, sha, sizeof(m->sha256));
	m->subject = s;
	m->issuer = i;
	pthread_mutex_unlock(&memo_lock);
}

/* Copies of the names remembered for sha (true), or false. */
static bool memo_get(const char *sha, char **subject, char **issuer)
{
	struct names *m = &memo[slot_of(sha)];
	bool found;

	*subject = NULL;
	*issuer = NULL;
	pthread_mutex_lock(&memo_lock);
	found = strcmp(m->sha256, sha) == 0;
	if (found) {
		*subject = m->subject != NULL ? strdup(m->subject) : NULL;
		*issuer = m->issuer != NULL ? strdup(m->issuer) : NULL;
	}
	pthread_mutex_unlock(&memo_lock);
	return found;
}

/* ------------------------------------------------------------ the record */

struct record {
	struct cm_buf line;
	/* The journal's fields one after the other, field i at off[i] for
	 * len[i] bytes: one buffer a record, not one each. */
	struct cm_buf fields;
	size_t off[MAX_FIELDS], len[MAX_FIELDS];
	size_t n;
};

#define FIELD_CAP (4 * VALUE_CAP + 64) /* one field's bytes, at most */
#define TEXT_CAP (4 * VALUE_CAP + 16)  /* one value's text, at most */

static void record_init(struct record *r, size_t line_cap)
{
	memset(r, 0, sizeof(*r));
	cm_buf_init(&r->line, line_cap);
	cm_buf_init(&r->fields, MAX_FIELDS * FIELD_CAP);
	/* Room for the usual record at once, rather than doubling up to it. */
	(void)cm_buf_room(&r->line, 600);
	(void)cm_buf_room(&r->fields, 1000);
}

/* One field: " word=<quoted>" in the line, CERTMAP_KEY=<escaped> in the
 * journal (the same text without its quotes). The value is escaped once,
 * into the field, and the line takes a copy (no printf, no heap block of
 * its own). */
static void put(struct record *r, const char *word, const char *key, const char *value,
		bool quoted)
{
	struct cm_buf *f = &r->fields;
	size_t start = f->len, text, l;

	if (!quoted && value != NULL && strlen(value) > TEXT_CAP) {
		return; /* over the text's cap: left out, line and field */
	}
	cm_buf_adds(f, "CERTMAP_");
	cm_buf_adds(f, key);
	cm_buf_addc(f, '=');
	text = f->len;
	if (quoted) {
		add_escaped(f, value);
	} else {
		cm_buf_adds(f, value != NULL && value[0] != '\0' ? value : "-");
	}
	if (f->failed) {
		return;
	}
	l = f->len - text;
	if (word != NULL) {
		cm_buf_addc(&r->line, ' ');
		cm_buf_adds(&r->line, word);
		cm_buf_addc(&r->line, '=');
		cm_buf_add(&r->line, f->data + text, l);
	}
	if (quoted && l >= 2 && f->data[text] == '"') {
		memmove(f->data + text, f->data + text + 1, l - 2);
		f->len = text + l - 2;
		f->data[f->len] = '\0';
	}
	if (r->n >= MAX_FIELDS || f->len - start > FIELD_CAP) {
		f->len = start;
		f->data[start] = '\0';
		return;
	}
	r->off[r->n] = start;
	r->len[r->n] = f->len - start;
	r->n++;
}

static void put_num(struct record *r, const char *word, const char *key, unsigned long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", v);
	put(r, word, key, num, false);
}

/* The words that depend on the decision alone, up to the issuer. */
static void record_head(struct record *r, const struct cm_audit *a)
{
	char *subject = NULL, *issuer = NULL;
	bool mapped = a->verdict != NULL && strcmp(a->verdict, "mapped") == 0;
	bool parsed = sha256_ok(a->cert_sha256);

	/* Decoding a certificate costs more than the rest of the record. */
	if (!parsed || !memo_get(a->cert_sha256, &subject, &issuer)) {
		cert_names(a->cert, a->cert_len, &subject, &issuer);
		if (a->cert != NULL && parsed) {
			memo_put(a->cert_sha256, subject, issuer);
		}
	}
	record_init(r, LINE_CAP);
	if (a->prefix != NULL) {
		cm_buf_adds(&r->line, a->prefix);
		cm_buf_adds(&r->line, " verdict=");
	} else {
		cm_buf_adds(&r->line, "decision ");
	}
	cm_buf_adds(&r->line, a->verdict != NULL ? a->verdict : "error");
	put(r, NULL, "VERDICT", a->verdict != NULL ? a->verdict : "error", false);
	/* The order of the words is the one certmapd has always logged. */
	if (mapped) {
		put(r, NULL, "REASON", a->reason, false);
		put(r, "user", "USER", a->user, true);
		put(r, "rule", "RULE", a->rule, true);
		put(r, "domain", "DOMAIN", a->domain, true);
	} else {
		put(r, "reason", "REASON", a->reason, true);
		put(r, "message", "MESSAGE", a->message, true);
		put(r, "user", "USER", a->user, true);
		put(r, "rule", "RULE", a->rule, true);
		put(r, "domain", "DOMAIN", a->domain, true);
	}
	if (a->service != NULL || a->rhost != NULL || !a->has_peer) {
		put(r, "requested", "REQUESTED_USER", a->requested, true);
	}
	put(r, "cert_sha256", "CERT_SHA256", a->cert_sha256, false);
	put(r, "subject", "SUBJECT", subject, true);
	put(r, "issuer", "ISSUER", issuer, true);
	free(subject);
	free(issuer);
}

/* The words of this one PAM call (peer_tail puts certmapd's): which
 * service and host asked, whether cached, how long. */
static void record_tail(struct record *r, const struct cm_audit *a, unsigned int suppressed)
{
	record_init(r, 1024);
	put(r, "service", "PAM_SERVICE", a->service, true);
	put(r, "rhost", "PAM_RHOST", a->rhost, true);
	put(r, "cached", "CACHED", a->cached ? "yes" : "no", false);
	put_num(r, "time_us", "TIME_US", (unsigned long long)a->time_us);
	if (suppressed > 0) {
		put_num(r, "suppressed", "SUPPRESSED", suppressed);
	}
}

static void record_free(struct record *r)
{
	cm_buf_free(&r->line);
	cm_buf_free(&r->fields);
}

static const char *message_id(const char *verdict)
{
	if (verdict != NULL && strcmp(verdict, "mapped") == 0) {
		return CM_AUDIT_ID_MAPPED;
	}
	if (verdict != NULL && strcmp(verdict, "refused") == 0) {
		return CM_AUDIT_ID_REFUSED;
	}
	if (verdict != NULL && strcmp(verdict, "ambiguous") == 0) {
		return CM_AUDIT_ID_AMBIGUOUS;
	}
	return CM_AUDIT_ID_ERROR;
}

struct cm_audit_pre {
	atomic_uint refs;
	struct record head;
	char *ident;
	char *verdict;
	char *reason;
	char *cert_sha256;
};

#ifdef HAVE_SYSTEMD
static int sd_sendv(const struct iovec *fields, size_t n)
{
	return sd_journal_sendv(fields, (int)n) >= 0 ? 0 : -1;
}

static _Atomic(cm_audit_journal_fn) journal_send = sd_sendv;

void cm_audit_set_journal(cm_audit_journal_fn fn)
{
	atomic_store(&journal_send, fn != NULL ? fn : sd_sendv);
}

/* Whether journald's socket is there: looked at most once a second, not
 * for every record. */
static bool journal_there(void)
{
	static _Atomic time_t checked;
	static atomic_bool there;
	time_t now = time(NULL);

	if (atomic_load(&checked) != now) {
		atomic_store(&there, access(JOURNAL_SOCKET, F_OK) == 0);
		atomic_store(&checked, now);
	}
	return atomic_load(&there);
}

static void add_fields(struct iovec *iov, size_t *n, const struct record *r)
{
	for (size_t i = 0; i < r->n && !r->fields.failed && r->fields.data != NULL; i++) {
		iov[(*n)++] = (struct iovec){r->fields.data + r->off[i], r->len[i]};
	}
}

/* Returns 0 when journald took the record: p's fields, then tail's. */
static int to_journal(const struct cm_audit_pre *p, const struct iovec *tail, size_t n_tail,
		      const char *line)
{
	struct iovec iov[2 * MAX_FIELDS + 4];
	char msg[8300], id[64], ident[64];
	size_t n = 0;

	snprintf(msg, sizeof(msg), "MESSAGE=%s", line);
	snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id(p->verdict));
	snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s",
		 p->ident != NULL ? p->ident : "certmap");
	iov[n++] = (struct iovec){msg, strlen(msg)};
	iov[n++] = (struct iovec){id, strlen(id)};
	iov[n++] = (struct iovec){(char *)"PRIORITY=5", 10};
	iov[n++] = (struct iovec){ident, strlen(ident)};
	add_fields(iov, &n, &p->head);
	for (size_t i = 0; i < n_tail && i < MAX_FIELDS; i++) {
		iov[n++] = tail[i];
	}
	return atomic_load(&journal_send)(iov, n);
}
#endif

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct cm_audit_pre *cm_audit_prepare(const struct cm_audit *a)
{
	struct cm_audit_pre *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	atomic_init(&p->refs, 1);
	record_head(&p->head, a);
	p->ident = dup_or_null(a->ident);
	p->verdict = dup_or_null(a->verdict);
	p->reason = dup_or_null(a->reason);
	p->cert_sha256 = dup_or_null(a->cert_sha256);
	if (p->head.line.failed || (a->ident != NULL && p->ident == NULL) ||
	    (a->verdict != NULL && p->verdict == NULL) || (a->reason != NULL && p->reason == NULL) ||
	    (a->cert_sha256 != NULL && p->cert_sha256 == NULL)) {
		cm_audit_pre_free(p);
		return NULL;
	}
	return p;
}

struct cm_audit_pre *cm_audit_pre_ref(struct cm_audit_pre *p)
{
	if (p != NULL) {
		atomic_fetch_add(&p->refs, 1);
	}
	return p;
}

void cm_audit_pre_free(struct cm_audit_pre *p)
{
	if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1) {
		return;
	}
	record_free(&p->head);
	free(p->ident);
	free(p->verdict);
	free(p->reason);
	free(p->cert_sha256);
	free(p);
}

/*
 * certmapd's tail words (peer numbers, no strings to escape), at the speed
 * of a cache hit: formatted on the stack, for the journal or syslog.
 * record_tail puts PAM's.
 */
struct peer_tail {
	char line[160];
	size_t line_len;
	char field[5][48];
	struct iovec iov[5];
	size_t n;
};

static void peer_field(struct peer_tail *t, const char *word, const char *key,
		       unsigned long long v, const char *text)
{
	char num[CM_U64_TEXT], *f = t->field[t->n], *l = t->line + t->line_len;
	size_t kl = strlen(key), wl = strlen(word), tl;

	/* Copied, not printed: the sizes are the few words below. */
	tl = text != NULL ? strlen(text) : cm_u64_text(num, v);
	if (text == NULL) {
		text = num;
	}
	memcpy(f, "CERTMAP_", 8);
	memcpy(f + 8, key, kl);
	f[8 + kl] = '=';
	memcpy(f + 9 + kl, text, tl);
	t->iov[t->n++] = (struct iovec){f, 9 + kl + tl};
	l[0] = ' ';
	memcpy(l + 1, word, wl);
	l[1 + wl] = '=';
	memcpy(l + 2 + wl, text, tl);
	t->line_len += 2 + wl + tl;
	t->line[t->line_len] = '\0';
}

static void peer_tail(struct peer_tail *t, const struct cm_audit *a, unsigned int suppressed)
{
	t->line[0] = '\0';
	t->line_len = 0;
	t->n = 0;
	peer_field(t, "peer_uid", "PEER_UID", (unsigned long long)a->peer_uid, NULL);
	peer_field(t, "peer_pid", "PEER_PID", (unsigned long long)a->peer_pid, NULL);
	peer_field(t, "cached", "CACHED", 0, a->cached ? "yes" : "no");
	peer_field(t, "time_us", "TIME_US", (unsigned long long)a->time_us, NULL);
	if (suppressed > 0) {
		peer_field(t, "suppressed", "SUPPRESSED", suppressed, NULL);
	}
}

static void peer_record(const struct cm_audit_pre *p, const struct cm_audit *a,
			unsigned int suppressed, cm_audit_syslog_fn to_syslog, void *arg)
{
	struct peer_tail t;
	char line[LINE_CAP + 1];
	size_t hl = p->head.line.data != NULL ? p->head.line.len : 0;

	peer_tail(&t, a, suppressed);
	if (hl + t.line_len > LINE_CAP) {
		to_syslog(arg, "decision (log line too long)");
		return;
	}
	memcpy(line, p->head.line.data != NULL ? p->head.line.data : "", hl);
	memcpy(line + hl, t.line, t.line_len + 1);
#ifdef HAVE_SYSTEMD
	if (journal_there() && to_journal(p, t.iov, t.n, line) == 0) {
		return;
	}
#endif
	to_syslog(arg, line);
}

void cm_audit_log_pre(const struct cm_audit_pre *p, const struct cm_audit *a,
		      cm_audit_syslog_fn to_syslog, void *arg)
{
	struct record tail = {0};
	unsigned int suppressed = 0;
	struct cm_buf line;
	char *text = NULL;

	if (p == NULL) {
		to_syslog(arg, "decision (log line too long)");
		return;
	}
	if (!rate_allow(p->verdict, p->cert_sha256, p->reason, &suppressed)) {
		return;
	}
	if (a->has_peer) {
		peer_record(p, a, suppressed, to_syslog, arg);
		return;
	}
	record_tail(&tail, a, suppressed);
	cm_buf_init(&line, LINE_CAP);
	cm_buf_add(&line, p->head.line.data, p->head.line.len);
	cm_buf_add(&line, tail.line.data, tail.line.len);
	text = cm_buf_steal(&line, NULL);
	cm_buf_free(&line);
	if (text == NULL || tail.line.failed) {
		to_syslog(arg, "decision (log line too long)");
		goto out;
	}
#ifdef HAVE_SYSTEMD
	if (journal_there()) {
		struct iovec iov[MAX_FIELDS];
		size_t n = 0;

		add_fields(iov, &n, &tail);
		if (to_journal(p, iov, n, text) == 0) {
			goto out;
		}
	}
#endif
	to_syslog(arg, text);
out:
	free(text);
	record_free(&tail);
}

void cm_audit_log(const struct cm_audit *a, cm_audit_syslog_fn to_syslog, void *arg)
{
	struct cm_audit_pre *p = cm_audit_prepare(a);

	cm_audit_log_pre(p, a, to_syslog, arg);
	cm_audit_pre_free(p);
}

uint64_t cm_audit_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
