/*
 * certmapd's HTTP denial page: GET /denied, the page a person sees when a
 * proxy refuses them, and the body of every refused /auth. The page is plain HTML with no script and no external
 * resource, says what happened in words and what to do next, and shows
 * nothing of the configuration (no rule, filter or account name).
 */
#include "config.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http_answer.h"
#include "http_cert.h"

/* A header or query argument's value (NUL-terminated), or NULL. */
static const char *value_of(const struct cmd_hrq *rq, bool arg, const char *name, size_t *len)
{
	const char *v = NULL;
	size_t n = 0;

	if (rq->lookup(rq->ctx, arg, name, &v, &n) == 0 || v == NULL) {
		return NULL;
	}
	if (len != NULL) {
		*len = n;
	}
	return v;
}

/* ---------------------------------------------------------------- /denied */

/* The page's languages, chosen from Accept-Language; English otherwise. */
enum lang { L_EN, L_DE, L_FR, L_COUNT };

static const char *const lang_tags[L_COUNT] = {"en", "de", "fr"};

struct denial {
	const char *code;	     /* the X-Certmap-Reason code, or the page's own */
	const char *title[L_COUNT]; /* what happened */
	const char *next[L_COUNT];  /* what to do */
};

#define NEW_CERT {"Ask for a new certificate.", "Beantragen Sie ein neues Zertifikat.", \
		  "Demandez un nouveau certificat."}
#define NO_ACCOUNT                                                                                 \
	{"No account here belongs to your certificate.",                                          \
	 "Zu Ihrem Zertifikat gehört hier kein Konto.",                                            \
	 "Aucun compte ne correspond ici à votre certificat."},                                    \
	{                                                                                          \
		"If you should have access, ask for an account to be set up for this certificate.", \
		    "Wenn Sie Zugang haben sollten, lassen Sie ein Konto für dieses Zertifikat "       \
		    "einrichten.",                                                                     \
		    "Si vous devriez avoir accès, demandez qu'un compte soit créé pour ce certificat." \
	}

static const struct denial denials[] = {
    {"no_certificate",
     {"Your browser did not send a certificate.", "Ihr Browser hat kein Zertifikat gesendet.",
      "Votre navigateur n'a pas envoyé de certificat."},
     {"Make sure your certificate or smart card is available, then reload this page and "
      "choose your certificate when the browser asks for one.",
      "Stellen Sie sicher, dass Ihr Zertifikat oder Ihre Smartcard verfügbar ist, laden Sie "
      "diese Seite neu und wählen Sie Ihr Zertifikat aus, wenn der Browser danach fragt.",
      "Vérifiez que votre certificat ou votre carte à puce est disponible, puis rechargez "
      "cette page et choisissez votre certificat lorsque le navigateur le demande."}},
    {"expired",
     {"Your certificate has expired.", "Ihr Zertifikat ist abgelaufen.",
      "Votre certificat a expiré."},
     {"Ask for a new certificate, then try again with it.",
      "Beantragen Sie ein neues Zertifikat und versuchen Sie es damit erneut.",
      "Demandez un nouveau certificat, puis réessayez avec celui-ci."}},
    {"not_yet_valid",
     {"Your certificate is not valid yet.", "Ihr Zertifikat ist noch nicht gültig.",
      "Votre certificat n'est pas encore valide."},
     {"Check that the date and time of your computer are right, or wait until the "
      "certificate becomes valid.",
      "Prüfen Sie, ob Datum und Uhrzeit Ihres Computers stimmen, oder warten Sie, bis das "
      "Zertifikat gültig wird.",
      "Vérifiez que la date et l'heure de votre ordinateur sont correctes, ou attendez que "
      "le certificat devienne valide."}},
    {"untrusted",
     {"Your certificate is not from an authority this site trusts.",
      "Ihr Zertifikat stammt nicht von einer Stelle, der diese Website vertraut.",
      "Votre certificat ne provient pas d'une autorité reconnue par ce site."},
     {"Use the certificate this organisation gave you.",
      "Verwenden Sie das Zertifikat, das Sie von dieser Organisation erhalten haben.",
      "Utilisez le certificat que cette organisation vous a remis."}},
    {"revoked",
     {"Your certificate has been revoked.", "Ihr Zertifikat wurde widerrufen.",
      "Votre certificat a été révoqué."},
     NEW_CERT},
    {"no_account", NO_ACCOUNT},
    {"no_rule_matched", NO_ACCOUNT},
    {"not_candidate",
     {"Your certificate does not belong to the account you asked for.",
      "Ihr Zertifikat gehört nicht zu dem Konto, das Sie angefragt haben.",
      "Votre certificat ne correspond pas au compte demandé."},
     {"Sign in with the account your certificate belongs to.",
      "Melden Sie sich mit dem Konto an, zu dem Ihr Zertifikat gehört.",
      "Connectez-vous avec le compte auquel appartient votre certificat."}},
    {"uid_refused",
     {"The account of your certificate may not sign in here.",
      "Das Konto Ihres Zertifikats darf sich hier nicht anmelden.",
      "Le compte de votre certificat n'est pas autorisé à se connecter ici."},
     {"If you should have access, contact the administrators.",
      "Wenn Sie Zugang haben sollten, wenden Sie sich an die Administratoren.",
      "Si vous devriez avoir accès, contactez les administrateurs."}},
    {"ambiguous",
     {"Your certificate names several accounts, so this site cannot tell which one is yours.",
      "Ihr Zertifikat nennt mehrere Konten, daher kann diese Website nicht erkennen, welches "
      "Ihres ist.",
      "Votre certificat désigne plusieurs comptes ; ce site ne peut pas savoir lequel est le "
      "vôtre."},
     {"Ask the administrators to make your certificate name only one account.",
      "Bitten Sie die Administratoren, Ihr Zertifikat nur einem Konto zuzuordnen.",
      "Demandez aux administrateurs que votre certificat ne désigne qu'un seul compte."}},
    {"eku_missing",
     {"Your certificate is not meant for signing in to websites.",
      "Ihr Zertifikat ist nicht für die Anmeldung bei Websites vorgesehen.",
      "Votre certificat n'est pas prévu pour se connecter à des sites web."},
     {"Use a certificate made for client authentication.",
      "Verwenden Sie ein Zertifikat für die Client-Authentifizierung.",
      "Utilisez un certificat prévu pour l'authentification client."}},
    {"key_too_small",
     {"Your certificate uses a key that is too weak.",
      "Ihr Zertifikat verwendet einen zu schwachen Schlüssel.",
      "Votre certificat utilise une clé trop faible."},
     NEW_CERT},
    {"invalid_certificate",
     {"Your certificate could not be read.", "Ihr Zertifikat konnte nicht gelesen werden.",
      "Votre certificat n'a pas pu être lu."},
     NEW_CERT},
    {"backend_unavailable",
     {"The sign-in service is unavailable at the moment.",
      "Der Anmeldedienst ist im Moment nicht erreichbar.",
      "Le service de connexion est indisponible pour le moment."},
     {"Try again in a few minutes.", "Versuchen Sie es in einigen Minuten erneut.",
      "Réessayez dans quelques minutes."}},
};

static const struct denial unknown_denial = {
    NULL,
    {"You could not be signed in with your certificate.",
     "Sie konnten nicht mit Ihrem Zertifikat angemeldet werden.",
     "Vous n'avez pas pu être connecté avec votre certificat."},
    {"Try again; if it keeps happening, contact the administrators.",
     "Versuchen Sie es erneut; wenn es wieder passiert, wenden Sie sich an die Administratoren.",
     "Réessayez ; si cela se reproduit, contactez les administrateurs."}};

/* The rest of the page, per language. */
static const struct {
	const char *heading;
	const char *help_before, *help_link, *help_after;
	const char *expired_on, *day_suffix, *expired_end; /* "on", 1, ".", March, 2026, "." */
	const char *months[12];
} words[L_COUNT] = {
    {"Access denied",
     "For help, ",
     "contact the administrators",
     ".",
     " It expired on", "", ".",
     {"January", "February", "March", "April", "May", "June", "July", "August", "September",
      "October", "November", "December"}},
    {"Zugriff verweigert",
     "Hilfe erhalten Sie bei den ",
     "Administratoren",
     ".",
     " Es ist am", ".", " abgelaufen.",
     {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
      "Oktober", "November", "Dezember"}},
    {"Accès refusé",
     "Pour obtenir de l'aide, ",
     "contactez les administrateurs",
     ".",
     " Il a expiré le", "", ".",
     {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
      "octobre", "novembre", "décembre"}},
};

static void add_html(struct cm_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': cm_buf_adds(b, "&amp;"); break;
		case '<': cm_buf_adds(b, "&lt;"); break;
		case '>': cm_buf_adds(b, "&gt;"); break;
		case '"': cm_buf_adds(b, "&quot;"); break;
		case '\'': cm_buf_adds(b, "&#39;"); break;
		default: cm_buf_addc(b, *s); break;
		}
	}
}

/* q of one Accept-Language entry ("q=0.8"), 1000ths; 1000 when absent,
 * -1 when it is not a number from 0 to 1. */
static int lang_q(const char *p, const char *end)
{
	int q = 0, scale = 1000;

	while (p < end && *p != ';') {
		p++;
	}
	while (p < end && (*p == ';' || *p == ' ' || *p == '\t')) {
		p++;
	}
	if (p == end) {
		return 1000;
	}
	if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' ||
	    (p[2] != '0' && p[2] != '1')) {
		return -1;
	}
	q = (p[2] - '0') * 1000;
	p += 3;
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9' && scale > 1; p++) {
			scale /= 10;
			q += (*p - '0') * scale;
		}
	}
	return q > 1000 ? -1 : q;
}

/* The best language the browser asks for that the page has. */
static enum lang pick_lang(const struct cmd_hrq *rq)
{
	size_t n = 0;
	const char *al = value_of(rq, false, "Accept-Language", &n);
	enum lang best = L_EN;
	int best_q = 0;

	if (al == NULL) {
		return L_EN;
	}
	n = strnlen(al, n < 1024 ? n : 1024);
	for (size_t i = 0; i < n;) {
		const char *e = al + i, *end = memchr(e, ',', n - i);
		size_t tag;

		end = end != NULL ? end : al + n;
		while (e < end && (*e == ' ' || *e == '\t')) {
			e++;
		}
		tag = strcspn(e, "-;, \t");
		for (int l = 0; l < L_COUNT; l++) {
			int q = lang_q(e, end);

			if (tag == 2 && (size_t)(end - e) >= 2 && strncasecmp(e, lang_tags[l], 2) == 0 &&
			    q > best_q) {
				best = (enum lang)l;
				best_q = q;
			}
		}
		i = (size_t)(end - al) + 1;
	}
	return best;
}

/*
 * The proxy's own verdict when it refused the certificate before asking
 * (nginx's 495 and $ssl_client_verify "FAILED:certificate has expired").
 * Only a few words are looked for; the text itself is never shown.
 */
static const char *reason_of_verify(const char *v)
{
	if (v == NULL || strncmp(v, "FAILED", 6) != 0) {
		return v != NULL && strcmp(v, "NONE") == 0 ? "no_certificate" : NULL;
	}
	if (strstr(v, "expired") != NULL) {
		return "expired";
	}
	if (strstr(v, "not yet valid") != NULL) {
		return "not_yet_valid";
	}
	return strstr(v, "revoked") != NULL ? "revoked" : "untrusted";
}

static const struct denial *denial_of(const char *r)
{
	for (size_t i = 0; r != NULL && i < CM_ARRAY_SIZE(denials); i++) {
		if (strcmp(r, denials[i].code) == 0) {
			return &denials[i];
		}
	}
	return &unknown_denial;
}

static const struct denial *find_denial(const struct cmd_hrq *rq)
{
	const char *r = value_of(rq, true, "reason", NULL);

	if (r == NULL || r[0] == '\0') {
		r = value_of(rq, false, "X-Certmap-Reason", NULL);
	}
	if (r == NULL || r[0] == '\0') {
		r = reason_of_verify(value_of(rq, false, "X-Certmap-Verify", NULL));
	}
	return denial_of(r);
}

/* The expiry date of the certificate the proxy passed, if any. */
static void expiry_date(const struct cm_http_conf *hc, const struct cmd_hrq *rq, enum lang l,
			struct cm_buf *b)
{
	const char *v = NULL, *why = NULL;
	size_t len = 0;
	struct cmh_certs certs;
	const unsigned char *p;
	X509 *x = NULL;
	struct tm tm;

	if ((v = value_of(rq, false, hc->cert_header, &len)) == NULL ||
	    cmh_decode(hc->cert_format, v, len, &certs, &why) != CMH_OK) {
		return;
	}
	p = certs.der[0];
	if ((x = d2i_X509(NULL, &p, (long)certs.len[0])) != NULL &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 && tm.tm_mon >= 0 && tm.tm_mon < 12) {
		cm_buf_printf(b, "%s %d%s %s %d%s", words[l].expired_on, tm.tm_mday,
			      words[l].day_suffix, words[l].months[tm.tm_mon], tm.tm_year + 1900,
			      words[l].expired_end);
	}
	X509_free(x);
	cmh_certs_clear(&certs);
}

static void denial_page(const struct cm_http_conf *hc, const struct cmd_hrq *rq,
			const struct denial *d, enum lang l, struct cm_buf *b)
{
	cm_buf_printf(b,
		      "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>%s</title>\n</head>\n<body>\n<main>\n<h1>%s</h1>\n<p id=\"reason\">",
		      lang_tags[l], words[l].heading, words[l].heading);
	add_html(b, d->title[l]);
	if (d->code != NULL && strcmp(d->code, "expired") == 0) {
		expiry_date(hc, rq, l, b);
	}
	cm_buf_adds(b, "</p>\n<p id=\"next\">");
	add_html(b, d->next[l]);
	cm_buf_adds(b, "</p>\n");
	if (hc->contact_url != NULL) {
		cm_buf_adds(b, "<p id=\"contact\">");
		add_html(b, words[l].help_before);
		cm_buf_adds(b, "<a href=\"");
		add_html(b, hc->contact_url);
		cm_buf_adds(b, "\">");
		add_html(b, words[l].help_link);
		cm_buf_adds(b, "</a>");
		add_html(b, words[l].help_after);
		cm_buf_adds(b, "</p>\n");
	}
	cm_buf_adds(b, "</main>\n</body>\n</html>\n");
}

const char *cmd_http_denial_body(const struct cm_http_conf *hc, const struct cmd_hrq *rq,
				 const char *reason, struct cm_buf *b)
{
	enum lang l = pick_lang(rq);

	denial_page(hc, rq, denial_of(reason), l, b);
	return lang_tags[l];
}

void cmd_http_denied(const struct cm_http_conf *hc, const struct cmd_hrq *rq, struct cmd_hans *a)
{
	enum lang l = pick_lang(rq);

	a->code = 403;
	a->type = "text/html; charset=utf-8";
	a->body.len = 0;
	denial_page(hc, rq, find_denial(rq), l, &a->body);
	if (a->body.failed) {
		cmd_hans_text(a, 500, "");
		return;
	}
	cmd_hans_header(a, "Content-Language", lang_tags[l]);
	cmd_hans_header(a, "Vary", "Accept-Language");
}
