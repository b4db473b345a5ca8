/* Helpers shared by the service load generators (bench_client.c,
 * bench_http.c). Benchmark tools: failures print and exit. */
#ifndef CERTMAP_BENCH_BENCHLIB_H
#define CERTMAP_BENCH_BENCHLIB_H

#include <stdatomic.h>
#include <stddef.h>

/* The whole file (at most 1 MiB) in a malloc'd buffer; exits 2 on error. */
char *bench_load(const char *path, size_t *len);
/* CLOCK_MONOTONIC in seconds. */
double bench_now_s(void);
/* A connected Unix stream socket, or -1 (with perror) on failure. */
int bench_connect(const char *path);

/* What every load-generator thread shares with its driver; a runner
 * struct starts with one. */
struct bench_thread {
	double until;    /* stop then (bench_now_s) */
	atomic_bool *go; /* set once every thread had time to connect */
	long done;       /* requests answered */
	int failed;
};

/* Runs fn on n runners (stride bytes apart, each starting with a struct
 * bench_thread) for seconds: they get 0.2 s to connect, then the clock
 * starts and go is set. Returns the seconds measured once all joined. */
double bench_run_threads(void *runners, size_t stride, int n, void *(*fn)(void *),
			 double seconds);
/* In a runner: waits for go. */
void bench_wait_go(const struct bench_thread *t);
#endif
