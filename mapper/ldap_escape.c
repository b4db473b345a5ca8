/*
 * LDAP filter-value escaping, byte for byte as SSSD's sss_filter_sanitize()
 * does it: the RFC 4515 specials ('*', '(', ')', '\') plus space, TAB, CR
 * and LF become "\xx" with lower-case hex; every other byte, including
 * bytes above 0x7f, is copied. SSSD never sees a NUL (it works on C
 * strings); certmap escapes one as "\00", as RFC 4515 requires, although
 * no usable value contains it.
 */
#include "config.h"

#include "rules.h"

static bool ldap_special(unsigned char c)
{
	switch (c) {
	case '\0':
	case '\t':
	case '\n':
	case '\r':
	case ' ':
	case '(':
	case ')':
	case '*':
	case '\\':
		return true;
	default:
		return false;
	}
}

void cm_ldap_escape(struct cm_buf *b, const unsigned char *p, size_t len)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		if (!ldap_special(p[i])) {
			continue;
		}
		cm_buf_add(b, p + run, i - run);
		cm_buf_addc(b, '\\');
		cm_buf_hex(b, p + i, 1, false, '\0');
		run = i + 1;
	}
	cm_buf_add(b, p + run, len - run);
}
