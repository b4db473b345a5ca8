/* certmapctl query and stats (service/ctl_query.c), for cli/certmapctl.c. */
#ifndef CERTMAP_SERVICE_CTL_QUERY_H
#define CERTMAP_SERVICE_CTL_QUERY_H

/* certmapctl query [--socket S] [--config F] [--user U] [--upn-hint U
 * --domain-hint D] [--timeout SEC] [--json] CERT [CHAIN...]: exit codes as
 * certmapctl test, 3 when the service cannot be reached. */
int cmd_query(int argc, char **argv);
/* certmapctl stats [--socket S] [--config F] [--json]: 0, or 3 unreachable. */
int cmd_stats(int argc, char **argv);

#endif
