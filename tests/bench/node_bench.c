// SPDX-License-Identifier: Apache-2.0
// node_bench.c: a node under load, through a real prealloc-agentd on a loop
// ext4 of this machine's disk, every figure a ratio made in this run:
//   1. fast lane: falloc jobs' p99 while two full fills hold the disk,
//      against their p99 on an idle agent (target <= 3x);
//   2. one disk, four 1 GiB full fills at once, against one 4 GiB
//      dd oflag=direct (target: aggregate >= 0.9x dd);
//   3. a 1 GiB fill at --max-write-rate 200Mi (target: within 10 %);
//   4. a neighbour's 4 KiB O_DIRECT random reads: p99 alone, during a
//      fill at the default I/O class, at idle, and at a 200Mi limit
//      (target: the default keeps it within 3x of alone);
//   5. full fills of 2 GiB files with 10, 1,000 and 100,000 scattered
//      4 KiB holes: time per GiB written and per extent.
// Caches are dropped between contenders. Run as root:
//   build/tests/bench/node_bench [--rounds N] [--only SECTION]
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "loopfs.h"
#include "prealloc/prealloc.h"
#include "testlib.h"

#define FS_SIZE (24 * GiB)
#define FAST_JOBS 200
#define LONG_MS (30u * 60u * 1000u)
#define RATE (200 * MiB)

struct env {
	struct loopfs *lf;
	testlib_daemon d;
	char           url[600], log[600];
	pa_client     *c;
	int            rounds;
};

static void
cold(void)
{
	if (testlib_run("sync; echo 3 > /proc/sys/vm/drop_caches") != 0)
		printf("  (caches could not be dropped: not root?)\n");
}

static void __attribute__((noreturn)) die(const char *what, const pa_err *e)
{
	fprintf(stderr, "node_bench: %s: %s\n", what, e != NULL ? e->msg : "");
	exit(1);
}

// (Re)start the agent with @p extra options (NULL-terminated).
static void
agent_start(struct env *e, const char *const *extra)
{
	const char    *argv[16] = { testlib_built("agent/prealloc-agentd"),
		   "--root", e->lf->mnt, "--listen", e->url, "--http", "none" };
	int            a        = 7;
	pa_client_opts o        = PA_CLIENT_OPTS_INIT;
	pa_err         err      = PA_ERR_INIT;
	char          *bin      = strdup(argv[0]);

	argv[0] = bin;
	for (; extra != NULL && *extra != NULL; extra++)
		argv[a++] = *extra;
	argv[a] = NULL;
	if (e->d.pid > 0)
		testlib_daemon_stop(&e->d);
	pa_client_free(e->c);
	e->c = NULL;
	if (testlib_daemon_start(
	        &e->d, e->log, "agentd.ready", (char *const *) argv) != 0)
		die("agent start", NULL);
	free(bin);
	o.agent_urls  = e->url;
	o.deadline_ms = LONG_MS;
	if (pa_client_new(&e->c, &o, &err) != PA_OK)
		die("client", &err);
}

static char *
path_of(const struct env *e, const char *stem, int i)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%d.img", stem, i);
	return loopfs_path(e->lf, name);
}

// A job that must succeed; @return its running time in ms.
static uint64_t
job(struct env *e, const char *path, uint64_t size, pa_method m)
{
	pa_prealloc_req r   = PA_PREALLOC_REQ_INIT;
	pa_job         *j   = NULL;
	pa_err          err = PA_ERR_INIT;
	uint64_t        ms;

	r.path   = path;
	r.size   = size;
	r.method = m;
	if (pa_preallocate_wait(&j, e->c, &r, NULL, NULL, &err) != PA_OK)
		die(path, &err);
	if (j->state != PA_JOB_SUCCEEDED)
		die(j->error_message, NULL);
	ms = j->duration_ms;
	pa_job_free(j);
	return ms;
}

// A job left running; @return its id (the caller frees it).
static char *
job_start(struct env *e, const char *path, uint64_t size)
{
	pa_prealloc_req r   = PA_PREALLOC_REQ_INIT;
	pa_job         *j   = NULL;
	pa_err          err = PA_ERR_INIT;
	char           *id;

	r.path   = path;
	r.size   = size;
	r.method = PA_METHOD_FULL;
	if (pa_preallocate(&j, e->c, &r, &err) != PA_OK)
		die(path, &err);
	id = strdup(j->id);
	pa_job_free(j);
	return id;
}

static pa_job *
job_wait(struct env *e, const char *id)
{
	pa_job *j   = NULL;
	pa_err  err = PA_ERR_INIT;

	if (pa_wait_job(&j, e->c, id, NULL, NULL, &err) != PA_OK)
		die(id, &err);
	return j;
}

static void
job_cancel(struct env *e, char *id)
{
	pa_err err = PA_ERR_INIT;

	pa_cancel_job(NULL, e->c, id, &err);
	pa_job_free(job_wait(e, id));
	free(id);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

// The @p q quantile of @p n values, which it sorts.
static double
quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t) (q * (double) (n - 1))];
}

static void __attribute__((format(printf, 3, 4)))
verdict(const char *what, bool met, const char *fmt, ...)
{
	va_list ap;

	printf("  %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("  %s\n", met ? "met" : "MISSED");
}

// ---- 1. the fast lane ----

// p99 in ms of FAST_JOBS falloc jobs one after another.
static double
fast_p99(struct env *e, double *p50)
{
	double lat[FAST_JOBS];

	for (int i = 0; i < FAST_JOBS; i++) {
		char    *p  = path_of(e, "fast", i);
		uint64_t t0 = testlib_now_ns();

		job(e, p, 64 * MiB, PA_METHOD_FALLOC);
		lat[i] = (double) (testlib_now_ns() - t0) / 1e6;
		unlink(p);
		free(p);
	}
	*p50 = quantile(lat, FAST_JOBS, 0.50);
	return quantile(lat, FAST_JOBS, 0.99);
}

static void
bench_fast_lane(struct env *e)
{
	double idle50, idle99, load50, load99;
	char  *a = path_of(e, "load", 0), *b = path_of(e, "load", 1);
	char  *ja, *jb;

	printf("1. fast lane: %d falloc jobs of 64 MiB, idle and while two "
	       "2 GiB full fills hold the disk\n",
	    FAST_JOBS);
	idle99 = fast_p99(e, &idle50);
	ja     = job_start(e, a, 2 * GiB);
	jb     = job_start(e, b, 2 * GiB);
	usleep(200 * 1000); // the first fill is writing
	load99 = fast_p99(e, &load50);
	job_cancel(e, ja);
	job_cancel(e, jb);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
	printf("  idle: p50 %.2f ms, p99 %.2f ms; under load: p50 %.2f ms, "
	       "p99 %.2f ms\n",
	    idle50, idle99, load50, load99);
	verdict("p99 under load / p99 idle (target <= 3)", load99 <= 3 * idle99,
	    "%.2f (%.2f ms)", load99 / idle99, load99);
}

// ---- 2. one disk, many fills ----

static double
dd_rate(struct env *e, uint64_t bytes)
{
	char    *p = path_of(e, "dd", 0);
	uint64_t t0;

	cold();
	t0 = testlib_now_ns();
	if (testlib_run("dd if=/dev/zero of='%s' bs=4M count=%llu "
	                "oflag=direct conv=fsync status=none",
	        p, (unsigned long long) (bytes / (4 * MiB))) != 0)
		die("dd", NULL);
	t0 = testlib_now_ns() - t0;
	unlink(p);
	free(p);
	return (double) bytes / ((double) t0 / 1e9);
}

// Four fills submitted at once; @return the aggregate rate.
static double
four_fills(struct env *e, bool print)
{
	char    *ids[4], *paths[4];
	uint64_t t0, last = 0;

	cold();
	t0 = testlib_now_ns();
	for (int i = 0; i < 4; i++) {
		paths[i] = path_of(e, "four", i);
		ids[i]   = job_start(e, paths[i], GiB);
	}
	for (int i = 0; i < 4; i++) {
		pa_job  *j    = job_wait(e, ids[i]);
		uint64_t done = testlib_now_ns() - t0;

		if (j->state != PA_JOB_SUCCEEDED)
			die(j->error_message, NULL);
		if (print)
			printf("    job %d ended after %.2f s\n", i,
			    (double) done / 1e9);
		last = done > last ? done : last;
		pa_job_free(j);
		free(ids[i]);
	}
	for (int i = 0; i < 4; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	return 4.0 * GiB / ((double) last / 1e9);
}

static void
bench_one_disk(struct env *e)
{
	double r[16], lo = 1e9, hi = 0, med;

	printf("2. one disk: four 1 GiB full fills at once, against one 4 GiB "
	       "dd oflag=direct (%d rounds, interleaved)\n",
	    e->rounds);
	for (int i = 0; i < e->rounds; i++) {
		double dd  = dd_rate(e, 4 * GiB);
		double agg = four_fills(e, i == 0);

		r[i] = agg / dd;
		lo   = r[i] < lo ? r[i] : lo;
		hi   = r[i] > hi ? r[i] : hi;
		printf("  round %d: fills %.0f MB/s, dd %.0f MB/s\n", i + 1,
		    agg / 1e6, dd / 1e6);
	}
	med = quantile(r, (size_t) e->rounds, 0.5);
	verdict("aggregate / dd (target >= 0.9)", med >= 0.9,
	    "median %.2f, spread %.2f-%.2f", med, lo, hi);
}

// ---- 3. the rate limit ----

static void
bench_rate(struct env *e)
{
	const char *extra[] = { "--max-write-rate", "200Mi", NULL };
	char       *p       = path_of(e, "rate", 0);
	double      rate;
	uint64_t    ms;

	printf("3. rate limit: a 1 GiB full fill at --max-write-rate 200Mi\n");
	agent_start(e, extra);
	cold();
	ms   = job(e, p, GiB, PA_METHOD_FULL);
	rate = (double) GiB / ((double) ms / 1e3);
	unlink(p);
	free(p);
	verdict("measured / 200 MiB/s (target 0.9-1.1)",
	    rate >= 0.9 * RATE && rate <= 1.1 * RATE, "%.3f (%.0f MiB/s)",
	    rate / RATE, rate / MiB);
	agent_start(e, NULL);
}

// ---- 4. the neighbour ----

struct reader {
	const char *path;
	double      seconds;
	double      p99_ms;
	size_t      n;
};

// 4 KiB O_DIRECT reads at random offsets for r->seconds.
static void *
reader_run(void *arg)
{
	struct reader *r   = arg;
	size_t         cap = 1 << 20, n = 0;
	double        *lat  = malloc(cap * sizeof(*lat));
	void          *buf  = NULL;
	int            fd   = open(r->path, O_RDONLY | O_DIRECT);
	uint64_t       end  = testlib_now_ns() + (uint64_t) (r->seconds * 1e9);
	unsigned       seed = 7;

	if (fd < 0 || lat == NULL || posix_memalign(&buf, 4096, 4096) != 0)
		die("reader", NULL);
	while (testlib_now_ns() < end && n < cap) {
		off_t    off = (off_t) (rand_r(&seed) % (GiB / 4096)) * 4096;
		uint64_t t0  = testlib_now_ns();

		if (pread(fd, buf, 4096, off) != 4096)
			die("reader pread", NULL);
		lat[n++] = (double) (testlib_now_ns() - t0) / 1e6;
	}
	r->n      = n;
	r->p99_ms = n > 0 ? quantile(lat, n, 0.99) : 0;
	close(fd);
	free(buf);
	free(lat);
	return NULL;
}

// The reader's p99 while a 4 GiB fill runs under @p extra (NULL: alone).
static double
neighbour(struct env *e, const char *vm, const char *const *extra, bool fill)
{
	struct reader r = { vm, 4.0, 0, 0 };
	pthread_t     t;
	char         *p  = path_of(e, "nfill", 0);
	char         *id = NULL;

	agent_start(e, extra);
	cold();
	if (fill) {
		id = job_start(e, p, 4 * GiB);
		usleep(300 * 1000);
	}
	pthread_create(&t, NULL, reader_run, &r);
	pthread_join(t, NULL);
	if (id != NULL)
		job_cancel(e, id);
	unlink(p);
	free(p);
	return r.p99_ms;
}

static void
bench_neighbour(struct env *e)
{
	const char *idle[] = { "--io-class", "idle", NULL };
	const char *rate[] = { "--max-write-rate", "200Mi", NULL };
	char       *vm     = path_of(e, "vm", 0);
	char       *sched  = NULL;
	double      alone, def, idl, lim;

	// The disk under the loop device's backing file: a partition's
	// parent, or the device itself.
	testlib_capture(&sched,
	    "s=$(df --output=source '%s' | tail -n1); "
	    "d=$(lsblk -no pkname \"$s\" 2>/dev/null | head -n1); "
	    "cat /sys/block/${d:-${s##*/}}/queue/scheduler 2>/dev/null || "
	    "echo unknown",
	    e->lf->image);
	printf("4. neighbour: 4 KiB O_DIRECT random reads for 4 s; the disk's "
	       "scheduler: %s",
	    sched != NULL ? sched : "unknown\n");
	free(sched);
	if (testlib_run("dd if=/dev/urandom of='%s' bs=4M count=256 "
	                "status=none && sync",
	        vm) != 0)
		die("vm image", NULL);
	alone = neighbour(e, vm, NULL, false);
	def   = neighbour(e, vm, NULL, true);
	idl   = neighbour(e, vm, idle, true);
	lim   = neighbour(e, vm, rate, true);
	agent_start(e, NULL);
	unlink(vm);
	free(vm);
	printf("  p99 alone %.2f ms; during a fill: default class %.2f ms, "
	       "idle %.2f ms, 200Mi limit %.2f ms\n",
	    alone, def, idl, lim);
	verdict("default / alone (target <= 3)", def <= 3 * alone,
	    "%.2f; idle %.2f, 200Mi %.2f", def / alone, idl / alone,
	    lim / alone);
}

// ---- 5. holes ----

// A 2 GiB file of data with @p holes 4 KiB holes punched across it.
static void
holey_file(const char *path, int holes)
{
	int      fd     = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char    *buf    = malloc(4 * MiB);
	uint64_t stride = 2 * GiB / (uint64_t) holes;

	if (fd < 0 || buf == NULL)
		die("holey file", NULL);
	memset(buf, 0x5a, 4 * MiB);
	for (uint64_t off = 0; off < 2 * GiB; off += 4 * MiB)
		if (pwrite(fd, buf, 4 * MiB, (off_t) off) != 4 * MiB)
			die("holey write", NULL);
	// Written back first: a hole punched in dirty pages ext4 has not
	// allocated yet leaves them allocated at writeback.
	if (fsync(fd) != 0)
		die("holey fsync", NULL);
	for (int i = 0; i < holes; i++) {
		// Block-aligned: a punch inside a block only zeroes it.
		uint64_t at =
		    ((uint64_t) i * stride + stride / 2) / 4096 * 4096;

		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		        (off_t) at, 4096) != 0)
			die("punch", NULL);
	}
	fsync(fd);
	close(fd);
	free(buf);
}

static void
bench_holes(struct env *e)
{
	static const int counts[3] = { 10, 1000, 100000 };

	printf("5. holes: full fills of 2 GiB files with 4 KiB holes between "
	       "data\n");
	for (int i = 0; i < 3; i++) {
		char    *p = path_of(e, "holes", counts[i]);
		uint64_t ms;
		double   gib = (double) counts[i] * 4096 / GiB;

		holey_file(p, counts[i]);
		cold();
		ms = job(e, p, 2 * GiB, PA_METHOD_FULL);
		printf("  %6d holes: %7.1f ms; %8.1f s per GiB written, %.3f "
		       "ms per extent\n",
		    counts[i], (double) ms, (double) ms / 1e3 / gib,
		    (double) ms / counts[i]);
		unlink(p);
		free(p);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static void (*const sections[])(struct env *) = { bench_fast_lane,
		bench_one_disk, bench_rate, bench_neighbour, bench_holes };
	struct env e                                  = { .rounds = 3 };
	char       why[256];
	int        ch, only = 0;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'r' && atoi(optarg) > 0 && atoi(optarg) <= 16)
			e.rounds = atoi(optarg);
		else if (ch == 'o' && atoi(optarg) >= 1 && atoi(optarg) <= 5)
			only = atoi(optarg);
		else {
			printf("Usage: node_bench [--rounds N (1-16, default "
			       "3)] [--only SECTION (1-5)]\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (loopfs_new(&e.lf, why, "ext4", FS_SIZE) != LOOPFS_OK) {
		fprintf(stderr, "node_bench: %s\n", why);
		return 1;
	}
	// The loop device's I/O goes to the disk, not to the page cache of
	// its backing file: what the neighbour reads must reach the disk.
	if (loopfs_direct_io(e.lf) != 0)
		printf("node_bench: %s: no direct I/O to its backing file; the "
		       "neighbour's reads may hit the page cache\n",
		    e.lf->dev);
	snprintf(e.url, sizeof(e.url), "ipc://%s/agent.sock", e.lf->dir);
	snprintf(e.log, sizeof(e.log), "%s/agentd.log", e.lf->dir);
	printf("node_bench: agent on a loop ext4 at %s\n", e.lf->mnt);
	agent_start(&e, NULL);
	for (int i = 0; i < 5; i++)
		if (only == 0 || only == i + 1)
			sections[i](&e);
	testlib_daemon_stop(&e.d);
	pa_client_free(e.c);
	loopfs_free(e.lf);
	return 0;
}
