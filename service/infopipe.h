/*
 * certmapd's D-Bus face: the part of SSSD's InfoPipe (bus name
 * org.freedesktop.sssd.infopipe) that Cockpit's certificate login and
 * Apache's mod_lookup_identity call, answered with certmap's rules.
 * Enabled by service.infopipe; see certmapd(8), "D-BUS INFOPIPE".
 */
#ifndef CERTMAP_SERVICE_INFOPIPE_H
#define CERTMAP_SERVICE_INFOPIPE_H

#include "daemon.h"

struct cmd_infopipe;

/* After the loops and workers exist and privileges are dropped: connects
 * to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the standard socket),
 * takes the name and starts the bus thread. NULL on failure (logged). */
struct cmd_infopipe *cmd_infopipe_start(struct cmd_state *st);
/* Stops and joins the bus thread; NULL is a no-op. */
void cmd_infopipe_stop(struct cmd_infopipe *ip);
/* After cmd_workers_stop: frees the jobs still in the mailbox, then the
 * rest. NULL is a no-op. */
void cmd_infopipe_free(struct cmd_infopipe *ip);

#endif
