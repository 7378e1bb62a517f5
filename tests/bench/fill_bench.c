// SPDX-License-Identifier: Apache-2.0
// fill_bench.c: the fill engine against dd, fallocate(1) and qemu-img, in one
// run.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fill.h"
#include "loopfs.h"
#include "testlib.h"

struct bench_opts {
	uint64_t    size;
	const char *dir;
	bool        device;
};

static bool bench_dropped = true;

// Every run starts cold: nothing it writes is timed against the cache.
static void
bench_drop_caches(void)
{
	FILE *f;

	sync();
	if ((f = fopen("/proc/sys/vm/drop_caches", "w")) == NULL) {
		bench_dropped = false;
		return;
	}
	fputs("3\n", f);
	fclose(f);
}

static double
bench_report(const char *what, uint64_t ns, uint64_t size, int rc)
{
	double s    = (double) ns / 1e9;
	double mbps = (double) size / 1e6 / s;

	if (rc != 0) {
		printf("  %-44s FAILED (%d)\n", what, rc);
		return 0;
	}
	printf("  %-44s %8.3f s %9.1f MB/s\n", what, s, mbps);
	return mbps;
}

// Time a shell command (it must end durable: oflag=direct + sync, or
// qemu-img's own fsync).
static double
bench_cmd(const char *what, uint64_t size, const char *cmd)
{
	uint64_t t0, t1;
	int      rc;

	bench_drop_caches();
	t0 = testlib_now_ns();
	rc = testlib_run("%s", cmd);
	t1 = testlib_now_ns();
	return bench_report(what, t1 - t0, size, rc);
}

static double
bench_fill(const char *what, const char *path, uint64_t size, uint64_t bytes,
    enum fill_method m)
{
	struct fill_request req = FILL_REQUEST_INIT;
	struct fill_result  res;
	pa_err              err = PA_ERR_INIT;
	uint64_t            t0, t1;
	int                 rc;

	snprintf(req.target.path, sizeof(req.target.path), "%s", path);
	req.target.size   = size;
	req.target.method = m;
	req.target.force  = true;
	bench_drop_caches();
	t0 = testlib_now_ns();
	rc = fill_run(&res, &req, &err);
	t1 = testlib_now_ns();
	if (rc != PA_OK)
		fprintf(stderr, "fill %s: %s\n", path, err.msg);
	else
		printf("  (%s: %s on %s)\n", what,
		    fill_mechanism_name(res.mechanism), res.target);
	return bench_report(what, t1 - t0, bytes, rc);
}

static void
bench_verdict(const char *what, bool ok)
{
	printf("  target %-50s %s\n", what, ok ? "met" : "MISSED");
}

// One comparison on a file: the engine, then two commands, each on a
// fresh file. @p rates gets MB/s: the engine's, then each command's.
static void
bench_compare(double rates[3], const char *f, uint64_t size, enum fill_method m,
    const char *const names[3], char cmds[2][1024])
{
	testlib_run("rm -f '%s'", f);
	rates[0] = bench_fill(names[0], f, size, size, m);
	for (int i = 0; i < 2; i++) {
		testlib_run("rm -f '%s'", f);
		rates[i + 1] = bench_cmd(names[i + 1], size, cmds[i]);
	}
	testlib_run("rm -f '%s'", f);
	for (int i = 1; i < 3; i++)
		if (rates[i] > 0)
			printf("  ratio %s / %s: %.2f\n", names[0], names[i],
			    rates[0] / rates[i]);
}

static void
bench_file_full(const char *f, uint64_t size)
{
	static const char *const names[3] = { "fill full",
		"dd bs=4M oflag=direct + sync",
		"qemu-img create preallocation=full" };
	char                     cmds[2][1024];
	double                   r[3];

	printf("\nfull preallocation of a %llu MiB file:\n",
	    (unsigned long long) (size / MiB));
	snprintf(cmds[0], sizeof(cmds[0]),
	    "dd if=/dev/zero of='%s' bs=4M count=%llu oflag=direct "
	    "status=none && sync",
	    f, (unsigned long long) (size / (4 * MiB)));
	snprintf(cmds[1], sizeof(cmds[1]),
	    "qemu-img create -q -f raw -o preallocation=full '%s' %llu", f,
	    (unsigned long long) size);
	bench_compare(r, f, size, FILL_FULL, names, cmds);
	bench_verdict("full >= 0.9 x dd", r[1] > 0 && r[0] >= 0.9 * r[1]);
	bench_verdict(
	    "full faster than qemu-img full", r[2] > 0 && r[0] > r[2]);
}

static void
bench_file_falloc(const char *f, uint64_t size)
{
	static const char *const names[3] = { "fill falloc",
		"fallocate -l + sync", "qemu-img create preallocation=falloc" };
	char                     cmds[2][1024];
	double                   r[3];

	printf("\nfallocate of a %llu MiB file:\n",
	    (unsigned long long) (size / MiB));
	snprintf(cmds[0], sizeof(cmds[0]), "fallocate -l %llu '%s' && sync",
	    (unsigned long long) size, f);
	snprintf(cmds[1], sizeof(cmds[1]),
	    "qemu-img create -q -f raw -o preallocation=falloc '%s' %llu", f,
	    (unsigned long long) size);
	bench_compare(r, f, size, FILL_FALLOC, names, cmds);
	// 1.2x the time of fallocate(1) is 1/1.2 of its rate
	bench_verdict("falloc within 1.2x of fallocate(1)",
	    r[1] > 0 && r[0] >= r[1] / 1.2);
}

static void
bench_device(const struct bench_opts *o)
{
	struct loopfs *lf = NULL;
	char           why[256], cmd[1024];
	double         full = 0, dd = 0;

	printf("\nfull zeroing of a %llu MiB loop device (image in %s):\n",
	    (unsigned long long) (o->size / MiB), getenv("TMPDIR") ?: "/tmp");
	if (loopfs_new(&lf, why, NULL, o->size) != LOOPFS_OK) {
		printf("  skipped: %s\n", why);
		return;
	}
	full = bench_fill("fill full (device)", lf->dev, 0, o->size, FILL_FULL);
	loopfs_free(lf);
	if (loopfs_new(&lf, why, NULL, o->size) != LOOPFS_OK) {
		printf("  skipped: %s\n", why);
		return;
	}
	snprintf(cmd, sizeof(cmd),
	    "dd if=/dev/zero of=%s bs=1M count=%llu oflag=direct status=none "
	    "&& sync",
	    lf->dev, (unsigned long long) (o->size / MiB));
	dd = bench_cmd("dd bs=1M oflag=direct + sync (CDI)", o->size, cmd);
	loopfs_free(lf);
	if (dd > 0)
		printf("  ratio full/dd %.2f\n", full / dd);
}

static void __attribute__((noreturn)) bench_usage(const char *prog, int status)
{
	printf("Usage: %s [--size BYTES] [--dir DIR] [--no-device]\n"
	       "  --size BYTES  file and device size (default 2 GiB, "
	       "suffix M or G)\n"
	       "  --dir DIR     where the files go (default $TMPDIR or /tmp)\n"
	       "  --no-device   skip the loop device comparison\n",
	    prog);
	exit(status);
}

static uint64_t
bench_parse_size(const char *s)
{
	char              *end = NULL;
	unsigned long long v   = strtoull(s, &end, 10);

	if (end != NULL && (*end == 'G' || *end == 'g'))
		v *= GiB;
	else if (end != NULL && (*end == 'M' || *end == 'm'))
		v *= MiB;
	return v / (4 * MiB) * (4 * MiB); // whole dd blocks
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "no-device", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { 2 * GiB, NULL, true };
	struct rusage     ru;
	char             *dir = NULL, *f = NULL;
	int               c;

	while ((c = getopt_long(argc, argv, "s:d:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.size = bench_parse_size(optarg);
			break;
		case 'd':
			o.dir = optarg;
			break;
		case 'n':
			o.device = false;
			break;
		case 'h':
			bench_usage(argv[0], 0);
		default:
			bench_usage(argv[0], 2);
		}
	}
	if (o.size == 0)
		bench_usage(argv[0], 2);
	dir = o.dir != NULL ? strdup(o.dir) : testlib_tmpdir("bench");
	if (asprintf(&f, "%s/bench.img", dir) < 0)
		return 1;
	bench_file_full(f, o.size);
	bench_file_falloc(f, o.size);
	if (o.device)
		bench_device(&o);
	getrusage(RUSAGE_SELF, &ru);
	printf("\npeak RSS of this process: %.1f MiB\n", ru.ru_maxrss / 1024.0);
	bench_verdict("peak RSS under 32 MiB", ru.ru_maxrss < 32 * 1024);
	if (!bench_dropped)
		printf("note: could not drop caches (not root?)\n");
	if (o.dir == NULL)
		testlib_rm_rf(dir);
	free(f);
	free(dir);
	return 0;
}
