// SPDX-License-Identifier: Apache-2.0
// agent_bench.c: a full fill through prealloc-agentd against fill_run called
// directly on the same filesystem, and many falloc jobs from many clients,
// in one run.
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcall.h"
#include "daemon.h"
#include "fill.h"
#include "loopfs.h"
#include "rpc_client.h"
#include "testlib.h"

#define LONG_MS (30u * 60u * 1000u)

struct bench_opts {
	uint64_t size;     // the full fill
	int      jobs;     // falloc jobs
	int      clients;  // threads asking for them
	uint64_t job_size; // each falloc job's file
	int      rounds;   // engine/daemon pairs of the full fill
	int      max_jobs; // the daemon's --max-jobs
};

struct bench_env {
	struct bench_opts o;
	struct loopfs    *lf;
	testlib_daemon    d;
	char              url[600];
	char             *dir;
	double            overhead_ms; // summed over the daemon's full fills
};

static void __attribute__((noreturn)) bench_usage(int code)
{
	printf("Usage: agent_bench [--size BYTES] [--jobs N] [--clients N]\n"
	       "                   [--job-size BYTES] [--rounds N] "
	       "[--max-jobs N]\n"
	       "Defaults: --size 2GiB, 500 jobs of 64 MiB from 8 clients, 3 "
	       "rounds,\n"
	       "the daemon's default --max-jobs (2). Sizes take a K, M or G "
	       "suffix.\n");
	exit(code);
}

static uint64_t
bench_bytes(const char *s)
{
	char    *end = NULL;
	uint64_t v   = strtoull(s, &end, 10);

	switch (*end) {
	case 'G':
		return v * GiB;
	case 'M':
		return v * MiB;
	case 'K':
		return v * KiB;
	case '\0':
		return v;
	default:
		bench_usage(2);
	}
}

static void
bench_args(struct bench_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'n' },
		{ "clients", required_argument, NULL, 'c' },
		{ "job-size", required_argument, NULL, 'j' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "max-jobs", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 's')
			o->size = bench_bytes(optarg);
		else if (ch == 'n')
			o->jobs = atoi(optarg);
		else if (ch == 'c')
			o->clients = atoi(optarg);
		else if (ch == 'j')
			o->job_size = bench_bytes(optarg);
		else if (ch == 'r')
			o->rounds = atoi(optarg);
		else if (ch == 'm')
			o->max_jobs = atoi(optarg);
		else
			bench_usage(ch == 'h' ? 0 : 2);
	}
	if (o->size == 0 || o->jobs <= 0 || o->clients <= 0 ||
	    o->job_size == 0 || o->rounds <= 0 || o->max_jobs <= 0)
		bench_usage(2);
}

// Every timed fill starts cold and with nothing dirty.
static void
bench_cold(void)
{
	if (testlib_run("sync; echo 3 > /proc/sys/vm/drop_caches") != 0)
		printf("  (caches could not be dropped: not root?)\n");
}

static double
bench_engine_fill(const char *path, uint64_t size)
{
	struct fill_request req = FILL_REQUEST_INIT;
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	uint64_t            t0;

	snprintf(req.target.path, sizeof(req.target.path), "%s", path);
	req.target.size   = size;
	req.target.method = FILL_FULL;
	bench_cold();
	t0 = testlib_now_ns();
	if (fill_run(&res, &req, &err) != PA_OK) {
		printf("  engine fill failed: %s\n", err.msg);
		return -1;
	}
	return (double) (testlib_now_ns() - t0) / 1e9;
}

// A PreallocateVolume that must end SUCCEEDED. @p job_ms, when not NULL,
// gets the time the job itself ran, as the daemon measured it.
static int
bench_prealloc(uint64_t *job_ms, rpc_client *c, const char *path, uint64_t size,
    int method, uint32_t wait_ms, pa_err *err)
{
	struct agentcall_req req = { path, size, 0, method, NULL, wait_ms,
		false };
	agentcall_job       *job = NULL;
	int                  rc  = agentcall_prealloc(&job, c, &req, err);

	if (rc == PA_OK &&
	    job->state != CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_SUCCEEDED)
		rc = pa_err_set(err, (int) job->error_code, "job ended %d: %s",
		    job->state, job->error_message);
	if (rc == PA_OK && job_ms != NULL)
		*job_ms = job->duration_ms;
	agentcall_job_free(job);
	return rc;
}

static double
bench_daemon_fill(struct bench_env *e, const char *path, uint64_t size)
{
	rpc_client *c   = NULL;
	pa_err      err = PA_ERR_INIT;
	uint64_t    t0, job_ms = 0;
	int         rc;

	if (rpc_client_new(&c, e->url, NULL, &err) != PA_OK)
		return -1;
	bench_cold();
	t0 = testlib_now_ns();
	rc = bench_prealloc(&job_ms, c, path, size,
	    CDI__PREALLOC__V1__METHOD__METHOD_FULL, LONG_MS, &err);
	t0 = testlib_now_ns() - t0;
	rpc_client_free(c);
	if (rc != PA_OK) {
		printf("  daemon fill failed: %s\n", err.msg);
		return -1;
	}
	// What the daemon adds to its fill: the call, queueing, the answer.
	e->overhead_ms += (double) t0 / 1e6 - (double) job_ms;
	return (double) t0 / 1e9;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

// The median of @p n times, which it sorts.
static double
bench_median(double *t, int n)
{
	qsort(t, (size_t) n, sizeof(*t), bench_cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

// One timed run, removed after. @return seconds, or -1 on failure.
static double
bench_full_once(struct bench_env *e, const char *path, int daemon)
{
	double s = daemon ? bench_daemon_fill(e, path, e->o.size)
	                  : bench_engine_fill(path, e->o.size);

	unlink(path);
	if (s > 0)
		printf("  %-30s %8.3f s %9.1f MB/s\n",
		    daemon ? "daemon over RPC" : "engine fill_run", s,
		    (double) e->o.size / 1e6 / s);
	return s;
}

// Engine and daemon alternate (E D, D E, ...), so neither always runs on
// a fresher filesystem. This machine's figures move a lot from run to
// run: each pair's own ratio (daemon over the engine beside it) cancels
// what drifts between pairs, and their median and spread are the verdict;
// the medians of each series and the best of each are shown beside.
static void
bench_full(struct bench_env *e)
{
	double *t[2] = { calloc((size_t) e->o.rounds, sizeof(double)),
		calloc((size_t) e->o.rounds, sizeof(double)) };
	char   *path = loopfs_path(e->lf, "full.img");
	double *pair = calloc((size_t) e->o.rounds, sizeof(double));
	double  med[2], lo = 1e9, hi = 0, pmed;
	int     n[2] = { 0, 0 };

	printf("full fill of %.2f GiB on %s (%s), %d round(s):\n",
	    (double) e->o.size / GiB, e->lf->fstype, e->lf->dev, e->o.rounds);
	// A first, untimed fill allocates the loop image's blocks on the
	// host: later runs would otherwise be faster only for being later.
	printf("  %-30s %8.3f s (not counted)\n", "warm-up",
	    bench_engine_fill(path, e->o.size));
	unlink(path);
	for (int r = 0; r < 2 * e->o.rounds; r++) {
		int    daemon = !(r % 4 == 0 || r % 4 == 3);
		double s      = bench_full_once(e, path, daemon);

		if (s <= 0)
			goto done;
		t[daemon][n[daemon]++] = s;
		if (r % 2 == 1) { // a pair is done: round r / 2
			pair[r / 2] = t[1][n[1] - 1] / t[0][n[0] - 1];
			lo          = pair[r / 2] < lo ? pair[r / 2] : lo;
			hi          = pair[r / 2] > hi ? pair[r / 2] : hi;
		}
	}
	pmed   = bench_median(pair, e->o.rounds);
	med[0] = bench_median(t[0], n[0]);
	med[1] = bench_median(t[1], n[1]);
	printf("  daemon/engine time, pairs: median %.3f, spread %.3f-%.3f "
	       "(target <= 1.05: %s)\n",
	    pmed, lo, hi, pmed <= 1.05 ? "met" : "MISSED");
	printf("  medians of each: %.3f; best of each: %.3f\n", med[1] / med[0],
	    t[1][0] / t[0][0]);
	printf("  daemon's own cost (call wall time - job duration_ms): "
	       "%.1f ms a call\n",
	    e->overhead_ms / n[1]);
done:
	free(pair);
	free(t[0]);
	free(t[1]);
	free(path);
}

// ---- many falloc jobs from many clients ----

struct bench_load {
	struct bench_env *e;
	atomic_int        next;
	uint64_t         *lat_ns; // one per job
	atomic_int        errors;
};

static void *
bench_client(void *arg)
{
	struct bench_load *l = arg;
	rpc_client        *c = NULL;
	char               name[64];

	if (rpc_client_new(&c, l->e->url, NULL, NULL) != PA_OK)
		return NULL;
	for (int i; (i = atomic_fetch_add(&l->next, 1)) < l->e->o.jobs;) {
		char    *path;
		uint64_t t0;
		pa_err   err = PA_ERR_INIT;

		snprintf(name, sizeof(name), "job-%d.img", i);
		path = loopfs_path(l->e->lf, name);
		t0   = testlib_now_ns();
		if (bench_prealloc(NULL, c, path, l->e->o.job_size,
		        CDI__PREALLOC__V1__METHOD__METHOD_FALLOC, 60000,
		        &err) != PA_OK) {
			if (atomic_fetch_add(&l->errors, 1) == 0)
				printf("  first error: %s\n", err.msg);
		}
		l->lat_ns[i] = testlib_now_ns() - t0;
		unlink(path); // untimed: keeps the filesystem small
		free(path);
	}
	rpc_client_free(c);
	return NULL;
}

static int
bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

static void
bench_jobs(struct bench_env *e)
{
	struct bench_load l  = { .e = e };
	pthread_t        *th = calloc((size_t) e->o.clients, sizeof(*th));
	int               n  = e->o.jobs;
	uint64_t          t0, wall;

	l.lat_ns = calloc((size_t) n, sizeof(*l.lat_ns));
	t0       = testlib_now_ns();
	for (int i = 0; i < e->o.clients; i++)
		pthread_create(&th[i], NULL, bench_client, &l);
	for (int i = 0; i < e->o.clients; i++)
		pthread_join(th[i], NULL);
	wall = testlib_now_ns() - t0;
	qsort(l.lat_ns, (size_t) n, sizeof(*l.lat_ns), bench_cmp_u64);
	printf("%d falloc jobs of %llu MiB from %d clients (--max-jobs %d):\n",
	    n, (unsigned long long) (e->o.job_size / MiB), e->o.clients,
	    e->o.max_jobs);
	printf("  %-30s %8.1f jobs/s  p50 %.2f ms  p99 %.2f ms  errors %d\n",
	    "PreallocateVolume (wait)", (double) n / ((double) wall / 1e9),
	    (double) l.lat_ns[n / 2] / 1e6,
	    (double) l.lat_ns[(size_t) n * 99 / 100] / 1e6,
	    atomic_load(&l.errors));
	free(l.lat_ns);
	free(th);
}

static int
bench_start_daemon(struct bench_env *e)
{
	char  log[600], maxj[16];
	char *argv[] = { (char *) testlib_built("agent/prealloc-agentd"),
		"--root", e->lf->mnt, "--listen", e->url, "--http", "none",
		"--max-jobs", maxj, "--queue", "1024", NULL };

	snprintf(maxj, sizeof(maxj), "%d", e->o.max_jobs);
	snprintf(e->url, sizeof(e->url), "ipc://%s/agent.sock", e->dir);
	snprintf(log, sizeof(log), "%s/agentd.log", e->dir);
	return testlib_daemon_start(&e->d, log, "agentd.ready", argv);
}

// Run by hand, the daemon is found beside this program: it lives in
// <build>/tests/bench/, the daemon in <build>/agent/.
static void
bench_find_build_dir(void)
{
	char    exe[1024];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (getenv("PREALLOC_BUILD_DIR") != NULL || n <= 0)
		return;
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');

		if (slash != NULL)
			*slash = '\0';
	}
	setenv("PREALLOC_BUILD_DIR", exe, 0);
}

int
main(int argc, char **argv)
{
	struct bench_env e = { .o = { 2 * GiB, 500, 8, 64 * MiB, 3, 2 } };
	char             why[256];
	int              rc = 1;

	bench_args(&e.o, argc, argv);
	bench_find_build_dir();
	if (loopfs_new(&e.lf, why, "ext4", e.o.size + 2 * GiB) != LOOPFS_OK) {
		printf("SKIP: %s\n", why);
		return TESTLIB_SKIP_EXIT;
	}
	// The loop device writes its image with direct I/O: both contenders
	// then reach the disk, not the page cache of the image file.
	if (loopfs_direct_io(e.lf) != 0)
		printf("  (%s: no direct I/O to its image)\n", e.lf->dev);
	e.dir = testlib_tmpdir("agent-bench");
	if (bench_start_daemon(&e) != 0) {
		printf("prealloc-agentd did not start (PREALLOC_BUILD_DIR?)\n");
		goto done;
	}
	printf("agent_bench: %s\n", e.lf->dir);
	bench_full(&e);
	bench_jobs(&e);
	rc = testlib_daemon_stop(&e.d) == 0 ? 0 : 1;
done:
	testlib_daemon_kill(&e.d);
	testlib_rm_rf(e.dir);
	free(e.dir);
	loopfs_free(e.lf);
	return rc;
}
