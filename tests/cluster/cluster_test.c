// SPDX-License-Identifier: Apache-2.0
// cluster_test.c: one machine standing in for a cluster. Two policy
// replicas, each reading its own ConfigMap-style directory, and three
// agents, each with its node's storage (a loop ext4, ext3 or xfs, and
// loop block devices) and its own address (127.0.0.2-4, the default
// port). Six importers, two per node, provision 60 volumes through
// libprealloc while the config is swapped the way kubelet swaps a
// ConfigMap, one policy replica is killed and restarted, and one agent is
// killed mid-fill and restarted. Then every volume is checked: the
// decision against the config that answered (its filesystemOverhead says
// which), the allocation (st_blocks, qemu-img) against the decision, and
// the image bytes against the image.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "dvtest.h"
#include "loopfs.h"
#include "prealloc/prealloc.h"
#include "testlib.h"

#define NODES 3
#define REPLICAS 2
#define CLIENTS 6 // client t runs on node t % NODES
#define PROVISIONS 60
#define ATTEMPTS 8
#define FS_SIZE (768 * MiB)
#define DEV_SIZE (8 * MiB)
#define MAX_DEVS 8
#define MS 1000000ULL
// How long after the second replica's swap a decision may still come
// from the old config: the watch reads a new file at once; this is slack
// for a resolve already in flight on a loaded machine.
#define PROPAGATION_MS 2000

// Config A and B tell themselves apart by their filesystemOverhead, which
// every decision carries back.
static const char *const configs[2] = {
	"apiVersion: cdi.kubevirt.io/v1beta1\n"
	"kind: CDIConfig\n"
	"metadata:\n"
	"  name: config\n"
	"spec:\n"
	"  preallocation:\n"
	"    storageClass:\n"
	"      fast: true\n"
	"      slow: false\n"
	"  filesystemOverhead:\n"
	"    global: \"0.055\"\n",
	"apiVersion: cdi.kubevirt.io/v1beta1\n"
	"kind: CDIConfig\n"
	"metadata:\n"
	"  name: config\n"
	"spec:\n"
	"  preallocation:\n"
	"    global: true\n"
	"    storageClass:\n"
	"      fast: false\n"
	"      slow: true\n"
	"  filesystemOverhead:\n"
	"    global: \"0.065\"\n",
};
static const char *const overheads[2] = { "0.055", "0.065" };

typedef struct node {
	const char    *fstype;
	struct loopfs *fs;
	struct loopfs *devs[MAX_DEVS];
	int            ndevs;
	int            next_dev; // the next one a Block volume takes
	char           url[64];
	testlib_daemon d;
	int            restarts;
} node;

typedef struct replica {
	char           dir[600]; // the ConfigMap mount
	char           url[64];
	testlib_daemon d;
} replica;

// One volume: what to make, then what happened.
typedef struct prov {
	int      node;
	bool     block;
	char     yaml[1024];
	char     pre[8], sc[8];
	char     image[600], sha[65];
	uint64_t image_len;
	char     volume[600]; // the directory, or the device
	// results
	int      rc, attempts;
	char     err[300];
	uint64_t start_ns, end_ns; // of the attempt that succeeded
	bool     preallocated;
	char     decided_by[32], overhead[16], target[600];
	uint64_t capacity, target_size;
} prov;

typedef struct cluster {
	char           *dir;
	node            nodes[NODES];
	replica         reps[REPLICAS];
	prov            provs[PROVISIONS];
	char            policy_urls[200];
	pthread_mutex_t mtx;
	int             done; // provisions finished, either way
	uint64_t        swap_begin_ns, swap_end_ns;
	bool            agent_killed_mid_fill;
} cluster;

static cluster cl;

// kubelet's layout: cdiconfig.yaml -> ..data/cdiconfig.yaml, ..data ->
// ..<version>; a swap writes a new version and renames a new ..data link
// over the old one.
static void
configmap_write(const char *dir, int version, const char *yaml)
{
	char path[800];

	assert_int_equal(testlib_run("mkdir -p '%s/..v%d'", dir, version), 0);
	snprintf(path, sizeof(path), "%s/..v%d/cdiconfig.yaml", dir, version);
	testlib_write_text(path, yaml);
	assert_int_equal(testlib_run("cd '%s' && ln -sfn ..v%d ..data_tmp && "
	                             "mv -T ..data_tmp ..data && "
	                             "{ [ -L cdiconfig.yaml ] || "
	                             "ln -s ..data/cdiconfig.yaml "
	                             "cdiconfig.yaml; }",
	                     dir, version),
	    0);
}

static int
replica_start(replica *r)
{
	char  config[700], log[700];
	char *argv[] = { (char *) testlib_built("service/prealloc-policyd"),
		"--config", config, "--listen", r->url, "--http", "none",
		NULL };

	snprintf(config, sizeof(config), "%s/cdiconfig.yaml", r->dir);
	snprintf(log, sizeof(log), "%s.log", r->dir);
	argv[0] = strdup(argv[0]);
	if (testlib_daemon_start(&r->d, log, "policyd.ready", argv) != 0) {
		free(argv[0]);
		return -1;
	}
	free(argv[0]);
	return 0;
}

static int
node_start(node *n, const char *dir, int i)
{
	char  log[700];
	char *argv[12 + 2 * MAX_DEVS];
	int   a = 0, rc;

	snprintf(log, sizeof(log), "%s/agent-%d.log", dir, i);
	argv[a++] = strdup(testlib_built("agent/prealloc-agentd"));
	argv[a++] = "--root";
	argv[a++] = n->fs->mnt;
	for (int d = 0; d < n->ndevs; d++) {
		argv[a++] = "--device-allow";
		argv[a++] = n->devs[d]->dev;
	}
	// Zeros are written at a rate a kill can land inside.
	argv[a++] = "--max-write-rate";
	argv[a++] = "64Mi";
	argv[a++] = "--listen";
	argv[a++] = n->url;
	argv[a++] = "--http";
	argv[a++] = "none";
	argv[a]   = NULL;
	rc        = testlib_daemon_start(&n->d, log, "agentd.ready", argv);
	free(argv[0]);
	return rc;
}

// The volume that provision k asks for: every precedence level, both
// claims, both modes, every source kind, in turn.
static void
prov_plan(cluster *c, int k)
{
	static const char *const pres[4]    = { "true", "false", "", "" };
	static const char *const classes[4] = { "fast", "slow", "other", "" };
	prov                    *p          = &c->provs[k];
	node                    *n;
	char                     size[16];
	dvtest_spec              s;

	p->node  = (k % CLIENTS) % NODES;
	p->block = k % 5 == 2;
	n        = &c->nodes[p->node];
	snprintf(p->pre, sizeof(p->pre), "%s", pres[k % 4]);
	snprintf(p->sc, sizeof(p->sc), "%s", classes[(k / 4) % 4]);
	snprintf(size, sizeof(size), "%dMi", p->block ? 8 : 16 + 8 * (k % 3));
	s = (dvtest_spec) { .source = dvtest_source_kinds[k % DVTEST_NKINDS],
		.preallocation      = p->pre,
		.storage_class      = p->sc,
		.size               = size,
		.mode               = p->block ? "Block" : "Filesystem",
		.claim              = k % 2 ? "pvc" : "storage" };
	dvtest_yaml(p->yaml, sizeof(p->yaml), &s);
	// A device's image ends on a block boundary, so the zeros after it
	// start right there.
	p->image_len = MiB + (uint64_t) k * (p->block ? 4096 : 4099);
	snprintf(p->image, sizeof(p->image), "%s/image-%d.raw", c->dir, k);
	assert_int_equal(
	    testlib_write_random(p->image, 0, p->image_len, 100 + k), 0);
	assert_int_equal(testlib_sha256(p->sha, p->image), 0);
	if (p->block) {
		assert_true(n->next_dev < n->ndevs);
		snprintf(p->volume, sizeof(p->volume), "%s",
		    n->devs[n->next_dev++]->dev);
	} else {
		char *dir, name[32];

		snprintf(name, sizeof(name), "vol-%d", k);
		dir = loopfs_path(n->fs, name);
		snprintf(p->volume, sizeof(p->volume), "%s", dir);
		assert_int_equal(mkdir(dir, 0755), 0);
		free(dir);
	}
}

// A device holds junk before it is provisioned, so zeros show.
static struct loopfs *
junk_device(int seed)
{
	struct loopfs *lf = NULL;
	char           why[256];

	assert_int_equal(loopfs_new(&lf, why, NULL, DEV_SIZE), LOOPFS_OK);
	assert_int_equal(testlib_write_random(lf->dev, 0, DEV_SIZE, seed), 0);
	return lf;
}

static int
cluster_setup(void **state)
{
	static const char *const fstypes[NODES] = { "ext4", "ext3", "xfs" };
	cluster                 *c              = &cl;
	char                     why[256];

	c->dir = testlib_tmpdir("cluster");
	pthread_mutex_init(&c->mtx, NULL);
	for (int i = 0; i < NODES; i++) {
		node *n = &c->nodes[i];

		n->fstype = fstypes[i];
		if (loopfs_new(&n->fs, why, n->fstype, FS_SIZE) != LOOPFS_OK)
			return -1;
		snprintf(
		    n->url, sizeof(n->url), "tcp://127.0.0.%d:9651", i + 2);
	}
	// The devices first: each agent is told its own at start.
	for (int k = 0; k < PROVISIONS; k++)
		if (k % 5 == 2) {
			node *n = &c->nodes[(k % CLIENTS) % NODES];

			assert_true(n->ndevs < MAX_DEVS);
			n->devs[n->ndevs++] = junk_device(k);
		}
	for (int i = 0; i < NODES; i++)
		if (node_start(&c->nodes[i], c->dir, i) != 0)
			return -1;
	for (int r = 0; r < REPLICAS; r++) {
		replica *rp = &c->reps[r];

		snprintf(
		    rp->dir, sizeof(rp->dir), "%s/configmap-%d", c->dir, r);
		configmap_write(rp->dir, 1, configs[0]);
		snprintf(
		    rp->url, sizeof(rp->url), "tcp://127.0.0.%d:9650", r + 6);
		if (replica_start(rp) != 0)
			return -1;
	}
	snprintf(c->policy_urls, sizeof(c->policy_urls), "%.63s,%.63s",
	    c->reps[0].url, c->reps[1].url);
	for (int k = 0; k < PROVISIONS; k++)
		prov_plan(c, k);
	*state = c;
	return 0;
}

static int
cluster_teardown(void **state)
{
	cluster *c = &cl;

	(void) state;
	for (int r = 0; r < REPLICAS; r++)
		if (c->reps[r].d.pid > 0)
			testlib_daemon_stop(&c->reps[r].d);
	for (int i = 0; i < NODES; i++) {
		node *n = &c->nodes[i];

		if (n->d.pid > 0)
			testlib_daemon_stop(&n->d);
		for (int d = 0; d < MAX_DEVS; d++)
			loopfs_free(n->devs[d]);
		loopfs_free(n->fs);
	}
	testlib_rm_rf(c->dir);
	free(c->dir);
	return 0;
}

// One provision, as an importer does it, repeated while it fails: a
// killed replica or agent makes some fail, and an importer pod restarts.
static void
prov_run(cluster *c, pa_client *client, int k)
{
	prov                *p   = &c->provs[k];
	pa_datavolume       *dv  = NULL;
	pa_provision_result *r   = NULL;
	pa_provision_req     req = { 0 };
	pa_err               err = PA_ERR_INIT;

	p->rc  = pa_datavolume_parse(&dv, p->yaml, strlen(p->yaml), "dv", &err);
	req.dv = dv;
	req.volume = p->volume;
	req.image  = p->image;
	req.method = PA_METHOD_AUTO;
	while (p->rc == PA_OK && p->attempts < ATTEMPTS) {
		p->attempts++;
		p->start_ns = testlib_now_ns();
		p->rc       = pa_provision(&r, client, &req, NULL, NULL, &err);
		p->end_ns   = testlib_now_ns();
		if (p->rc == PA_OK)
			break;
		snprintf(p->err, sizeof(p->err), "%s", err.msg);
		usleep(300 * 1000);
	}
	if (p->rc == PA_OK) {
		p->preallocated = r->preallocated;
		p->capacity     = r->capacity;
		p->target_size  = r->target_size;
		snprintf(p->decided_by, sizeof(p->decided_by), "%s",
		    r->decision.decided_by);
		snprintf(p->overhead, sizeof(p->overhead), "%s",
		    r->decision.filesystem_overhead);
		snprintf(p->target, sizeof(p->target), "%s", r->target);
	} else if (p->err[0] == '\0')
		snprintf(p->err, sizeof(p->err), "%s", err.msg);
	pa_provision_result_free(r);
	pa_datavolume_free(dv);
	pthread_mutex_lock(&c->mtx);
	c->done++;
	pthread_mutex_unlock(&c->mtx);
}

static void *
importer(void *arg)
{
	int            t    = (int) (intptr_t) arg;
	pa_client_opts opts = PA_CLIENT_OPTS_INIT;
	pa_client     *client;
	pa_err         err = PA_ERR_INIT;

	opts.policy_urls = cl.policy_urls;
	opts.agent_urls  = cl.nodes[t % NODES].url; // its own node's, only
	opts.deadline_ms = 20000;
	if (pa_client_new(&client, &opts, &err) != PA_OK) {
		fprintf(stderr, "importer %d: %s\n", t, err.msg);
		return NULL;
	}
	for (int k = t; k < PROVISIONS; k += CLIENTS)
		prov_run(&cl, client, k);
	pa_client_free(client);
	return NULL;
}

static int
cluster_done(cluster *c)
{
	int n;

	pthread_mutex_lock(&c->mtx);
	n = c->done;
	pthread_mutex_unlock(&c->mtx);
	return n;
}

static void
wait_done(cluster *c, int n)
{
	while (cluster_done(c) < n)
		usleep(10 * 1000);
}

// Kill node @p n's agent while one of its jobs runs, and start it again.
static void
kill_agent_mid_fill(cluster *c, node *n)
{
	uint64_t until = testlib_now_ns() + 60000 * MS;

	while (testlib_now_ns() < until &&
	    testlib_daemon_count_log(&n->d, "event=job.started") <=
	        testlib_daemon_count_log(&n->d, "event=job.finished"))
		usleep(2 * 1000);
	c->agent_killed_mid_fill =
	    testlib_daemon_count_log(&n->d, "event=job.started") >
	    testlib_daemon_count_log(&n->d, "event=job.finished");
	testlib_daemon_kill(&n->d);
	usleep(300 * 1000);
	n->restarts++;
	assert_int_equal(node_start(n, c->dir, (int) (n - c->nodes)), 0);
}

static void
faults(cluster *c)
{
	// 1. A new config, the way kubelet writes it, on one replica's
	//    mount and then the other's.
	wait_done(c, 15);
	c->swap_begin_ns = testlib_now_ns();
	configmap_write(c->reps[0].dir, 2, configs[1]);
	usleep(200 * 1000);
	configmap_write(c->reps[1].dir, 2, configs[1]);
	c->swap_end_ns = testlib_now_ns();
	// 2. A policy replica dies and its Deployment starts it again.
	wait_done(c, 25);
	testlib_daemon_kill(&c->reps[1].d);
	usleep(500 * 1000);
	assert_int_equal(replica_start(&c->reps[1]), 0);
	// 3. The agent of the ext3 node (whose zeros are written) dies in
	//    a fill and its DaemonSet starts it again.
	wait_done(c, 30);
	kill_agent_mid_fill(c, &c->nodes[1]);
}

// Which config answered, by its overhead; -1 for neither.
static int
config_of(const prov *p)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(p->overhead, overheads[i]) == 0)
			return i;
	return -1;
}

// What config @p cfg decides for @p p, and who decides.
static bool
expected(const prov *p, int cfg, const char **who)
{
	if (p->pre[0] != '\0') {
		*who = "dataVolume";
		return strcmp(p->pre, "true") == 0;
	}
	if (strcmp(p->sc, "fast") == 0 || strcmp(p->sc, "slow") == 0) {
		*who = "storageClass";
		return (strcmp(p->sc, "fast") == 0) == (cfg == 0);
	}
	*who = cfg == 0 ? "default" : "global";
	return cfg == 1;
}

static void
check_decision(const cluster *c, const prov *p, int k)
{
	const char *who;
	int         cfg = config_of(p);
	bool        want;

	if (cfg < 0)
		fail_msg("volume %d: overhead %s is neither config's", k,
		    p->overhead);
	// Before the swap only A is in force; after it and the propagation
	// slack, only B.
	if (p->start_ns < c->swap_begin_ns && cfg != 0)
		fail_msg("volume %d: config B answered before the swap", k);
	if (p->start_ns > c->swap_end_ns + PROPAGATION_MS * MS && cfg != 1)
		fail_msg("volume %d: config A answered %llu ms after the swap",
		    k,
		    (unsigned long long) ((p->start_ns - c->swap_end_ns) / MS));
	want = expected(p, cfg, &who);
	if (p->preallocated != want || strcmp(p->decided_by, who) != 0)
		fail_msg("volume %d (pre '%s', class '%s', config %c): %s by "
		         "%s, want %s by %s",
		    k, p->pre, p->sc, 'A' + cfg, p->preallocated ? "yes" : "no",
		    p->decided_by, want ? "yes" : "no", who);
}

// qemu-img's view of a raw image: fully allocated when actual-size >=
// virtual-size.
static bool
qemu_allocated(const char *path, uint64_t *virt)
{
	char    *out = NULL, *a, *v;
	uint64_t actual;

	assert_int_equal(testlib_capture(&out,
	                     "qemu-img info --output=json -f raw '%s'", path),
	    0);
	assert_non_null(a = strstr(out, "\"actual-size\":"));
	assert_non_null(v = strstr(out, "\"virtual-size\":"));
	actual = strtoull(a + strlen("\"actual-size\":"), NULL, 10);
	*virt  = strtoull(v + strlen("\"virtual-size\":"), NULL, 10);
	free(out);
	return actual >= *virt;
}

static void
check_file(const prov *p, int k)
{
	uint64_t want_size = 0, virt = 0;
	int64_t  allocated = testlib_allocated_bytes(p->target);
	char     got[65];
	pa_err   err = PA_ERR_INIT;

	assert_int_equal(
	    pa_disk_image_size(&want_size, p->capacity, p->overhead, &err),
	    PA_OK);
	assert_int_equal(p->target_size, want_size);
	assert_int_equal(testlib_file_size(p->target), (int64_t) want_size);
	if (p->preallocated != (allocated >= (int64_t) want_size))
		fail_msg("volume %d: %lld of %llu bytes allocated, decision %d",
		    k, (long long) allocated, (unsigned long long) want_size,
		    p->preallocated);
	assert_int_equal(qemu_allocated(p->target, &virt), p->preallocated);
	assert_int_equal(virt, want_size);
	dvtest_head_sha256(got, p->target, p->image_len);
	assert_string_equal(got, p->sha);
}

static void
check_device(const prov *p, int k)
{
	uint64_t rest = DEV_SIZE - p->image_len;
	char     got[65];
	int      zeros;

	dvtest_head_sha256(got, p->target, p->image_len);
	assert_string_equal(got, p->sha);
	// After the image: zeros when preallocated, else the junk it held.
	zeros = testlib_run("tail -c %llu '%s' | cmp -s - /dev/zero -n %llu",
	    (unsigned long long) rest, p->target, (unsigned long long) rest);
	if ((zeros == 0) != p->preallocated)
		fail_msg("volume %d: tail all zeros %d, decision %d", k,
		    zeros == 0, p->preallocated);
}

// Requests an agent started more than once: libprealloc sends an
// interrupted one again, with its request id, to the restarted agent.
static int
requests_resent(const cluster *c)
{
	char *out = NULL;
	int   n;

	assert_int_equal(
	    testlib_capture(&out,
	        "cat '%s'/agent-*.log | grep 'event=job.started' | "
	        "grep -o 'request_id=[0-9a-f]*' | sort | uniq -d | "
	        "wc -l",
	        c->dir),
	    0);
	n = atoi(out);
	free(out);
	return n;
}

static void
print_table(const cluster *c, uint64_t wall_ns, int resent)
{
	int      retries = 0, failures = 0, slowest = 0, by_config[2] = { 0 };
	uint64_t worst = 0;

	for (int k = 0; k < PROVISIONS; k++) {
		const prov *p = &c->provs[k];

		retries += p->attempts > 0 ? p->attempts - 1 : 0;
		failures += p->rc != PA_OK;
		if (config_of(p) >= 0)
			by_config[config_of(p)]++;
		if (p->end_ns - p->start_ns > worst) {
			worst   = p->end_ns - p->start_ns;
			slowest = k;
		}
	}
	fprintf(stderr,
	    "\n%-12s %8s %8s %8s %9s %10s %s\n"
	    "%-12s %8d %8d %8d %9d %9.1fs %.0f ms (volume %d, %s, node %d)\n"
	    "decided by config A %d, by config B %d; agent restarts %d "
	    "(killed mid-fill: %s)\n\n",
	    "", "volumes", "retries", "resent", "failures", "wall", "slowest",
	    "cluster", PROVISIONS, retries, resent, failures,
	    (double) wall_ns / 1e9, (double) worst / 1e6, slowest,
	    c->provs[slowest].block ? "Block" : "Filesystem",
	    c->provs[slowest].node, by_config[0], by_config[1],
	    c->nodes[1].restarts, c->agent_killed_mid_fill ? "yes" : "no");
}

static void
test_cluster__provisions_survive_swaps_and_kills(void **state)
{
	cluster  *c = *state;
	pthread_t th[CLIENTS];
	uint64_t  t0 = testlib_now_ns();
	int       resent;

	for (int t = 0; t < CLIENTS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, importer,
		                     (void *) (intptr_t) t),
		    0);
	faults(c);
	for (int t = 0; t < CLIENTS; t++)
		pthread_join(th[t], NULL);
	resent = requests_resent(c);
	print_table(c, testlib_now_ns() - t0, resent);
	// The fill the kill interrupted was asked for again: by libprealloc
	// (resent) or by its importer (retries).
	assert_true(c->agent_killed_mid_fill);
	for (int k = 0; k < PROVISIONS; k++)
		resent += c->provs[k].attempts - 1;
	assert_true(resent >= 1);
	for (int k = 0; k < PROVISIONS; k++) {
		const prov *p = &c->provs[k];

		if (p->rc != PA_OK)
			fail_msg("volume %d failed after %d attempts: %s", k,
			    p->attempts, p->err);
		check_decision(c, p, k);
		if (p->block)
			check_device(p, k);
		else
			check_file(p, k);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_cluster__provisions_survive_swaps_and_kills),
	};
	char           why[256];
	struct loopfs *probe = NULL;

	if (geteuid() != 0 || !testlib_have_program("qemu-img") ||
	    loopfs_new(&probe, why, "xfs", 300 * MiB) != LOOPFS_OK)
		testlib_skip_all("needs root, qemu-img and loop filesystems");
	loopfs_free(probe);
	return cmocka_run_group_tests(tests, cluster_setup, cluster_teardown);
}
