/* Helpers shared by the service load generators. */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define BENCH_FILE_MAX (1 << 20)

char *bench_load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(BENCH_FILE_MAX);

	if (f == NULL || buf == NULL) {
		perror(path);
		exit(2);
	}
	*len = fread(buf, 1, BENCH_FILE_MAX, f);
	fclose(f);
	return buf;
}

double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

double bench_run_threads(void *runners, size_t stride, int n, void *(*fn)(void *),
			 double seconds)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	atomic_bool go = false;
	double start = bench_now_s();

	if (t == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		exit(2);
	}
	for (int i = 0; i < n; i++) {
		struct bench_thread *h = (void *)((char *)runners + (size_t)i * stride);

		h->until = start + 0.2 + seconds;
		h->go = &go;
		pthread_create(&t[i], NULL, fn, h);
	}
	usleep(200000);
	start = bench_now_s();
	atomic_store(&go, true);
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
	}
	free(t);
	return bench_now_s() - start;
}

void bench_wait_go(const struct bench_thread *t)
{
	while (!atomic_load(t->go)) {
		sched_yield();
	}
}
