/*
 * The certmapd wire protocol, shared by the service and the client
 * library: varlink (https://varlink.org), JSON objects each terminated by a
 * NUL byte over a Unix stream socket. doc/PROTOCOL.md is its description;
 * every name and limit here appears there.
 */
#ifndef CERTMAP_PROTOCOL_H
#define CERTMAP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Interfaces. A breaking change gets a new interface name. */
#define CMP_IFACE_SERVICE "org.varlink.service"
#define CMP_IFACE_MAPPER "org.certmap.Mapper"

/* Methods. */
#define CMP_M_GET_INFO CMP_IFACE_SERVICE ".GetInfo"
#define CMP_M_GET_IFACE CMP_IFACE_SERVICE ".GetInterfaceDescription"
#define CMP_M_MAP CMP_IFACE_MAPPER ".Map"
#define CMP_M_GET_STATS CMP_IFACE_MAPPER ".GetStats"
#define CMP_M_RELOAD CMP_IFACE_MAPPER ".Reload"

/* Errors. */
#define CMP_E_METHOD_NOT_FOUND CMP_IFACE_SERVICE ".MethodNotFound"
#define CMP_E_INTERFACE_NOT_FOUND CMP_IFACE_SERVICE ".InterfaceNotFound"
#define CMP_E_INVALID_PARAMETER CMP_IFACE_SERVICE ".InvalidParameter"
#define CMP_E_PERMISSION_DENIED CMP_IFACE_MAPPER ".PermissionDenied"
#define CMP_E_TOO_LARGE CMP_IFACE_MAPPER ".TooLarge"
#define CMP_E_BACKEND_UNAVAILABLE CMP_IFACE_MAPPER ".BackendUnavailable"
#define CMP_E_RELOAD_FAILED CMP_IFACE_MAPPER ".ReloadFailed"
#define CMP_E_TOO_MANY_CONNECTIONS CMP_IFACE_MAPPER ".TooManyConnections"

/* Message envelope fields. */
#define CMP_F_METHOD "method"
#define CMP_F_PARAMETERS "parameters"
#define CMP_F_ONEWAY "oneway"
#define CMP_F_MORE "more"
#define CMP_F_UPGRADE "upgrade"
#define CMP_F_ERROR "error"
#define CMP_F_CONTINUES "continues"

/* Map parameters. */
#define CMP_P_CERTIFICATE "certificate"
#define CMP_P_CHAIN "chain"
#define CMP_P_USER "user"
#define CMP_P_UPN_HINT "upn_hint"
#define CMP_P_DOMAIN_HINT "domain_hint"
#define CMP_P_TRACE "trace"
/* RFC 4681 UserMappingDataList as received, base64 (added in 0.1.1). */
#define CMP_P_USER_MAPPING_DATA "user_mapping_data"
/* Error parameters. */
#define CMP_P_PARAMETER "parameter"   /* InvalidParameter: which one */
#define CMP_P_MESSAGE "message"
#define CMP_P_LIMIT "limit"           /* TooLarge: the limit in bytes */
#define CMP_P_METHOD "method"         /* MethodNotFound: the method asked */
#define CMP_P_INTERFACE "interface"   /* InterfaceNotFound; GetInterfaceDescription */

/* Limits. A frame is one JSON object plus its NUL terminator. */
#define CMP_MAX_REQUEST (256 * 1024)   /* bytes of one request frame */
#define CMP_MAX_REPLY (4 * 1024 * 1024) /* bytes of one reply frame */
#define CMP_MAX_CERT (64 * 1024)       /* bytes of one decoded certificate */
#define CMP_MAX_CHAIN 8                /* certificates in "chain" */
#define CMP_MAX_NAME 256               /* bytes of user / upn_hint / domain_hint */
#define CMP_MAX_JSON_DEPTH 8           /* nesting of a request */
#define CMP_MAX_HINT_DATA 65537        /* decoded bytes of user_mapping_data */

/* A certificate parameter that starts so is PEM text; any other is base64
 * of DER. */
#define CMP_PEM_PREFIX "-----BEGIN "

static inline bool cmp_is_pem(const void *text, size_t len)
{
	return len >= sizeof(CMP_PEM_PREFIX) - 1 &&
	       memcmp(text, CMP_PEM_PREFIX, sizeof(CMP_PEM_PREFIX) - 1) == 0;
}

#endif
