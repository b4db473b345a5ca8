/* Helpers shared by the service load generators (bench_client.c,
 * bench_http.c). Benchmark tools: failures print and exit. */
#ifndef CERTMAP_BENCH_BENCHLIB_H
#define CERTMAP_BENCH_BENCHLIB_H

#include <stddef.h>

/* The whole file (at most 1 MiB) in a malloc'd buffer; exits 2 on error. */
char *bench_load(const char *path, size_t *len);
/* CLOCK_MONOTONIC in seconds. */
double bench_now_s(void);
/* A connected Unix stream socket, or -1 (with perror) on failure. */
int bench_connect(const char *path);

#endif
