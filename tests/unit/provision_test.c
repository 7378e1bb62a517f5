// SPDX-License-Identifier: Apache-2.0
// provision_test.c: disk.img sizes, and pa_provision against an in-process
// policy service (the real resolver) and a recording fake agent: the
// decision and the sizes never depend on the source kind.
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdiconfig.h"
#include "dvtest.h"
#include "loopfs.h"
#include "prealloc/prealloc.h"
#include "prealloc/v1/agent.pb-c.h"
#include "prealloc/v1/policy.pb-c.h"
#include "resolver.h"
#include "rpc_server.h"
#include "rpctest.h"
#include "testlib.h"

typedef Cdi__Prealloc__V1__ResolvePreallocationRequest resolve_req;
typedef Cdi__Prealloc__V1__PreallocateVolumeRequest    prealloc_req;
typedef Cdi__Prealloc__V1__Job                         job_pb;

#define source_kinds dvtest_source_kinds
#define NKINDS DVTEST_NKINDS

static const char *config_yaml = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                                 "kind: CDIConfig\n"
                                 "metadata:\n"
                                 "  name: config\n"
                                 "spec:\n"
                                 "  preallocation:\n"
                                 "    global: false\n"
                                 "    storageClass:\n"
                                 "      fast: true\n"
                                 "  filesystemOverhead:\n"
                                 "    global: \"0.055\"\n"
                                 "    storageClass:\n"
                                 "      fast: \"0.1\"\n";

// What the fake services saw and how the agent answers.
typedef struct fixture {
	char           *dir;
	char            url[512];
	rpc_server     *srv;
	cdiconfig      *cfg;
	pa_client      *c;
	pthread_mutex_t mtx;
	int             resolves, preallocs, probes;
	char            last_data_volume[64];
	char            last_path[512];
	char            last_request_id[64];
	uint64_t        last_size, last_offset;
	int             fail_code; // the job fails with it when set
	uint32_t        sector;    // what ProbeTarget says
} fixture;

static void
fake_resolve(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const resolve_req *req = (const resolve_req *) msg;
	fixture           *f   = arg;
	Cdi__Prealloc__V1__ResolvePreallocationResponse resp =
	    CDI__PREALLOC__V1__RESOLVE_PREALLOCATION_RESPONSE__INIT;
	resolver_result r;
	pa_err          err = PA_ERR_INIT;

	pthread_mutex_lock(&f->mtx);
	f->resolves++;
	snprintf(f->last_data_volume, sizeof(f->last_data_volume), "%s",
	    req->data_volume);
	pthread_mutex_unlock(&f->mtx);
	if (resolver_resolve(&r, f->cfg,
	        (cdiconfig_tristate) req->preallocation, req->storage_class,
	        &err) != PA_OK) {
		rpc_call_fail_err(call, &err);
		return;
	}
	resp.preallocate     = r.preallocate;
	resp.decided_by_name = (char *) resolver_decided_by_name(r.decided_by);
	resp.filesystem_overhead = r.overhead;
	resp.generation          = r.generation;
	rpc_call_reply(call, &resp.base);
}

// The job every agent method answers with: done at once.
static void
fake_job(fixture *f, job_pb *j)
{
	j->id            = "job-1";
	j->request_id    = f->last_request_id;
	j->path          = f->last_path;
	j->size          = f->last_size;
	j->offset        = f->last_offset;
	j->state         = f->fail_code != 0
	            ? CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_FAILED
	            : CDI__PREALLOC__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
	j->error_code    = (Cdi__Prealloc__V1__Code) f->fail_code;
	j->error_message = f->fail_code != 0 ? "no space left" : "";
	j->method_used   = "falloc";
	j->mechanism     = "fallocate";
	j->bytes_done    = f->last_size;
	j->bytes_total   = f->last_size;
}

static void
fake_preallocate(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	const prealloc_req *req = (const prealloc_req *) msg;
	fixture            *f   = arg;
	job_pb              j   = CDI__PREALLOC__V1__JOB__INIT;
	Cdi__Prealloc__V1__PreallocateVolumeResponse resp =
	    CDI__PREALLOC__V1__PREALLOCATE_VOLUME_RESPONSE__INIT;
	int fd;

	pthread_mutex_lock(&f->mtx);
	f->preallocs++;
	snprintf(f->last_path, sizeof(f->last_path), "%s", req->path);
	snprintf(f->last_request_id, sizeof(f->last_request_id), "%s",
	    req->request_id);
	f->last_size   = req->size;
	f->last_offset = req->offset;
	// A file gets its size and its blocks, as the real agent would.
	if (f->fail_code == 0 && req->size > 0 &&
	    (fd = open(req->path, O_WRONLY)) >= 0) {
		if (fallocate(fd, 0, 0, (off_t) req->size) != 0)
			f->fail_code = PA_INTERNAL;
		close(fd);
	}
	fake_job(f, &j);
	resp.job = &j;
	rpc_call_reply(call, &resp.base);
	pthread_mutex_unlock(&f->mtx);
}

static void
fake_get_job(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	fixture                          *f = arg;
	job_pb                            j = CDI__PREALLOC__V1__JOB__INIT;
	Cdi__Prealloc__V1__GetJobResponse resp =
	    CDI__PREALLOC__V1__GET_JOB_RESPONSE__INIT;

	pthread_mutex_lock(&f->mtx);
	fake_job(f, &j);
	resp.job = &j;
	rpc_call_reply(call, &resp.base);
	pthread_mutex_unlock(&f->mtx);
}

static void
fake_probe(rpc_call *call, const ProtobufCMessage *msg, void *arg)
{
	fixture                               *f = arg;
	Cdi__Prealloc__V1__ProbeTargetResponse resp =
	    CDI__PREALLOC__V1__PROBE_TARGET_RESPONSE__INIT;

	pthread_mutex_lock(&f->mtx);
	f->probes++;
	resp.path                = "";
	resp.kind                = "block";
	resp.exists              = true;
	resp.logical_sector_size = f->sector;
	rpc_call_reply(call, &resp.base);
	pthread_mutex_unlock(&f->mtx);
}

static int
provision_setup(void **state)
{
	fixture       *f    = calloc(1, sizeof(*f));
	pa_client_opts opts = PA_CLIENT_OPTS_INIT;
	pa_err         err  = PA_ERR_INIT;
	cdiconfig_opts co   = CDICONFIG_OPTS_INIT;

	f->dir    = testlib_tmpdir("provision");
	f->sector = 4096;
	pthread_mutex_init(&f->mtx, NULL);
	rpctest_ipc_url(f->url, sizeof(f->url), f->dir, "svc");
	co.generation = 7;
	if (cdiconfig_parse(&f->cfg, config_yaml, strlen(config_yaml),
	        "cdi.yaml", &co, &err) != PA_OK ||
	    rpc_server_new(&f->srv, NULL, &err) != PA_OK ||
	    rpc_server_bind(f->srv,
	        &cdi__prealloc__v1__preallocation_policy__descriptor,
	        "ResolvePreallocation", fake_resolve, f, &err) != PA_OK ||
	    rpc_server_bind(f->srv,
	        &cdi__prealloc__v1__preallocation_agent__descriptor,
	        "PreallocateVolume", fake_preallocate, f, &err) != PA_OK ||
	    rpc_server_bind(f->srv,
	        &cdi__prealloc__v1__preallocation_agent__descriptor, "GetJob",
	        fake_get_job, f, &err) != PA_OK ||
	    rpc_server_bind(f->srv,
	        &cdi__prealloc__v1__preallocation_agent__descriptor,
	        "ProbeTarget", fake_probe, f, &err) != PA_OK ||
	    rpc_server_listen(f->srv, f->url, &err) != PA_OK ||
	    rpc_server_start(f->srv, &err) != PA_OK)
		fail_msg("fake services: %s", err.msg);
	opts.policy_urls = f->url;
	opts.agent_urls  = f->url;
	opts.deadline_ms = 5000;
	assert_int_equal(pa_client_new(&f->c, &opts, &err), PA_OK);
	*state = f;
	return 0;
}

static int
provision_teardown(void **state)
{
	fixture *f = *state;

	pa_client_free(f->c);
	rpc_server_free(f->srv);
	cdiconfig_unref(f->cfg);
	pthread_mutex_destroy(&f->mtx);
	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

// A DataVolume with @p source, @p pre ("" for none), class @p sc ("" for
// none), @p size and @p mode, under spec.storage.
static pa_datavolume *
make_dv(const char *source, const char *pre, const char *sc, const char *size,
    const char *mode)
{
	dvtest_spec spec = { source, pre, sc, size, mode, "storage" };

	return dvtest_parse(&spec);
}

// A fresh volume directory named @p name in the fixture's directory.
static char *
volume_dir(fixture *f, const char *name)
{
	char *dir = NULL;

	assert_true(asprintf(&dir, "%s/%s", f->dir, name) > 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	return dir;
}

static void
test_provision__disk_image_size_is_exact(void **state)
{
	static const struct {
		uint64_t    capacity;
		const char *overhead;
		uint64_t    want;
	} cases[] = {
		// 10Gi / 1.06 = 10129639849.05... -> 9660 MiB
		{ 10 * GiB, "0.06", 9660 * MiB },
		// 10Gi / 1.055 = 10177647620.8... -> 9706 MiB
		{ 10 * GiB, "0.055", 9706 * MiB }, { 10 * GiB, "0", 10 * GiB },
		{ 10 * GiB, "0.0", 10 * GiB },
		{ 10 * GiB, "0.1", 9309 * MiB },   // 9309.09 MiB
		{ 10 * GiB, "0.999", 5122 * MiB }, // 5122.56 MiB
		// 1 MiB / 1.06 is under 1 MiB: nothing whole is left.
		{ MiB, "0.06", 0 },
		{ 1060 * MiB, "0.06", 1000 * MiB }, // exact: no float error
		{ 10 * GiB + 12345, "0", 10 * GiB },
		{ UINT64_MAX, "0", UINT64_MAX / MiB * MiB }, // no overflow
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = 1;
		pa_err   err = PA_ERR_INIT;

		assert_int_equal(pa_disk_image_size(&got, cases[i].capacity,
		                     cases[i].overhead, &err),
		    PA_OK);
		if (got != cases[i].want)
			fail_msg("%llu with %s: got %llu, want %llu",
			    (unsigned long long) cases[i].capacity,
			    cases[i].overhead, (unsigned long long) got,
			    (unsigned long long) cases[i].want);
	}
}

static void
test_provision__bad_overheads_are_invalid_argument(void **state)
{
	static const char *const bad[] = { "1", "1.0", "0.0601", "-0.1", "0.",
		".06", "abc", "", "0.06 ", "6%" };
	uint64_t                 got   = 42;
	pa_err                   err   = PA_ERR_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pa_disk_image_size(&got, GiB, bad[i], &err),
		    PA_INVALID_ARGUMENT);
		assert_non_null(strstr(err.msg, "filesystem overhead"));
	}
	assert_int_equal(got, 42); // untouched on failure
	assert_int_equal(
	    pa_disk_image_size(NULL, GiB, "0.06", NULL), PA_INVALID_ARGUMENT);
	assert_int_equal(
	    pa_disk_image_size(&got, GiB, NULL, NULL), PA_INVALID_ARGUMENT);
}

// Provision one DataVolume per source kind in @p f under the same
// settings, and check every outcome equals the first.
static void
check_every_kind(fixture *f, const char *tag, const char *pre, const char *sc,
    bool want_pre, const char *want_by, const char *want_overhead,
    uint64_t want_size)
{
	for (size_t i = 0; i < NKINDS; i++) {
		pa_datavolume *dv =
		    make_dv(source_kinds[i], pre, sc, "1Gi", "Filesystem");
		pa_provision_req     req = { 0 };
		pa_provision_result *r   = NULL;
		pa_err               err = PA_ERR_INIT;
		char                 name[64];
		char                *dir;
		int                  before = f->preallocs;

		snprintf(name, sizeof(name), "%s-%s", tag, source_kinds[i]);
		dir        = volume_dir(f, name);
		req.dv     = dv;
		req.volume = dir;
		if (pa_provision(&r, f->c, &req, NULL, NULL, &err) != PA_OK)
			fail_msg("%s: %s", name, err.msg);
		if (r->decision.preallocate != want_pre ||
		    strcmp(r->decision.decided_by, want_by) != 0 ||
		    strcmp(r->decision.filesystem_overhead, want_overhead) ||
		    r->target_size != want_size || r->preallocated != want_pre)
			fail_msg("%s: got %d by %s, %s, %llu bytes", name,
			    r->decision.preallocate, r->decision.decided_by,
			    r->decision.filesystem_overhead,
			    (unsigned long long) r->target_size);
		assert_int_equal(r->decision.generation, 7);
		assert_int_equal(r->capacity, GiB);
		assert_int_equal(testlib_file_size(r->target), want_size);
		assert_int_equal(f->preallocs - before, want_pre ? 1 : 0);
		if (want_pre) {
			assert_string_equal(r->annotation_value, "true");
			assert_non_null(r->job);
			assert_int_equal(f->last_size, want_size);
			assert_int_equal(f->last_offset, 0);
			assert_string_equal(f->last_path, r->target);
			assert_true(testlib_allocated_bytes(r->target) >=
			    (int64_t) want_size);
		} else {
			assert_null(r->annotation_value);
			assert_null(r->job);
			assert_true(testlib_allocated_bytes(r->target) <
			    (int64_t) MiB); // sparse
		}
		// The policy service heard the name, never the source.
		snprintf(name, sizeof(name), "dv-%s", source_kinds[i]);
		assert_string_equal(f->last_data_volume, name);
		pa_provision_result_free(r);
		pa_datavolume_free(dv);
		free(dir);
	}
}

static void
test_provision__decision_never_depends_on_the_source_kind(void **state)
{
	fixture *f = *state;

	// The DataVolume says true; class "slow" has no entry: 0.055.
	check_every_kind(f, "dvtrue", "true", "slow", true, "dataVolume",
	    "0.055", 970 * MiB);
	// The DataVolume says false over a class that says true.
	check_every_kind(f, "dvfalse", "false", "fast", false, "dataVolume",
	    "0.1", 930 * MiB);
	// The class entry decides: true, and its overhead 0.1.
	check_every_kind(
	    f, "class", "", "fast", true, "storageClass", "0.1", 930 * MiB);
	// Nothing but the global: false.
	check_every_kind(
	    f, "global", "", "", false, "global", "0.055", 970 * MiB);
	assert_int_equal(f->resolves, 4 * (int) NKINDS);
}

static uint64_t progress_calls;

static int
count_progress(void *arg, const pa_job *job)
{
	progress_calls++;
	assert_string_equal((const char *) arg, "arg");
	assert_non_null(job->id);
	return 0;
}

static void
test_provision__image_is_written_first_and_kept(void **state)
{
	fixture       *f  = *state;
	pa_datavolume *dv = make_dv("upload", "true", "", "64Mi", "Filesystem");
	pa_provision_req     req = { 0 };
	pa_provision_result *r   = NULL;
	pa_err               err = PA_ERR_INIT;
	char                *dir = volume_dir(f, "img");
	char                 image[600], want[65], got[65];

	snprintf(image, sizeof(image), "%s/image.raw", f->dir);
	assert_int_equal(testlib_write_random(image, 0, 5 * MiB + 333, 9), 0);
	assert_int_equal(testlib_sha256(want, image), 0);
	req.dv     = dv;
	req.volume = dir;
	req.image  = image;
	if (pa_provision(&r, f->c, &req, count_progress, "arg", &err))
		fail_msg("%s", err.msg);
	assert_int_equal(r->image_bytes, 5 * MiB + 333);
	// 64Mi / 1.055 = 60.66 MiB -> 60 MiB
	assert_int_equal(r->target_size, 60 * MiB);
	assert_int_equal(testlib_file_size(r->target), 60 * MiB);
	assert_true(progress_calls >= 1);
	assert_int_equal(r->job->state, PA_JOB_SUCCEEDED);
	assert_string_equal(r->job->mechanism, "fallocate");
	// The image's bytes are the head of disk.img.
	dvtest_head_sha256(got, r->target, 5 * MiB + 333);
	assert_string_equal(got, want);
	// A request id of 32 hex digits was made for the agent.
	assert_int_equal(strlen(f->last_request_id), 32);
	assert_int_equal(strspn(f->last_request_id, "0123456789abcdef"), 32);
	free(dir);
	pa_provision_result_free(r);
	pa_datavolume_free(dv);
}

static void
test_provision__failures_have_their_codes(void **state)
{
	fixture         *f  = *state;
	pa_datavolume   *dv = make_dv("blank", "true", "", "8Mi", "Filesystem");
	pa_datavolume   *blk     = make_dv("blank", "", "", "8Mi", "Block");
	pa_provision_req req     = { 0 };
	pa_provision_result *r   = NULL;
	pa_err               err = PA_ERR_INIT;
	char                *dir = volume_dir(f, "fail");
	char                 image[600], file[600];

	req.dv = dv;
	// No such volume.
	req.volume = "/nonexistent/volume";
	assert_int_equal(
	    pa_provision(&r, f->c, &req, NULL, NULL, &err), PA_NOT_FOUND);
	// A file is not a mount directory.
	snprintf(file, sizeof(file), "%s/plain", f->dir);
	assert_int_equal(testlib_write_random(file, 0, 10, 1), 0);
	req.volume = file;
	assert_int_equal(pa_provision(&r, f->c, &req, NULL, NULL, &err),
	    PA_INVALID_ARGUMENT);
	// A directory is not a block device.
	req.dv     = blk;
	req.volume = dir;
	assert_int_equal(pa_provision(&r, f->c, &req, NULL, NULL, &err),
	    PA_INVALID_ARGUMENT);
	// An image larger than disk.img (8Mi / 1.055 -> 7 MiB).
	req.dv = dv;
	snprintf(image, sizeof(image), "%s/big.raw", f->dir);
	assert_int_equal(testlib_write_random(image, 0, 7 * MiB + 1, 2), 0);
	req.image = image;
	assert_int_equal(pa_provision(&r, f->c, &req, NULL, NULL, &err),
	    PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "more than the 7340032-byte target"));
	// A job that fails gives its code and message.
	req.image    = NULL;
	f->fail_code = PA_RESOURCE_EXHAUSTED;
	assert_int_equal(pa_provision(&r, f->c, &req, NULL, NULL, &err),
	    PA_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "no space left"));
	assert_null(r);
	// Bad arguments.
	assert_int_equal(pa_provision(&r, f->c, NULL, NULL, NULL, &err),
	    PA_INVALID_ARGUMENT);
	assert_int_equal(pa_provision(NULL, f->c, &req, NULL, NULL, NULL),
	    PA_INVALID_ARGUMENT);
	pa_provision_result_free(NULL);
	free(dir);
	pa_datavolume_free(dv);
	pa_datavolume_free(blk);
}

static void
test_provision__block_device_is_preallocated_after_the_image(void **state)
{
	fixture             *f   = *state;
	struct loopfs       *lf  = loopfs_new_or_skip(NULL, 64 * MiB);
	pa_datavolume       *dv  = make_dv("http", "true", "", "32Mi", "Block");
	pa_provision_req     req = { 0 };
	pa_provision_result *r   = NULL;
	pa_err               err = PA_ERR_INIT;
	char                 image[600], want[65], got[65];

	snprintf(image, sizeof(image), "%s/image.raw", f->dir);
	assert_int_equal(testlib_write_random(image, 0, MiB + 100, 5), 0);
	assert_int_equal(testlib_sha256(want, image), 0);
	req.dv     = dv;
	req.volume = lf->dev;
	req.image  = image;
	if (pa_provision(&r, f->c, &req, NULL, NULL, &err) != PA_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(r->target, lf->dev);
	assert_int_equal(r->capacity, 64 * MiB); // the device, not 32Mi
	assert_int_equal(r->target_size, 64 * MiB);
	assert_int_equal(r->image_bytes, MiB + 100);
	assert_int_equal(f->probes, 1);
	// The image's end rounded up to the 4096-byte sector; 0 = the end.
	assert_int_equal(f->last_offset, MiB + 4096);
	assert_int_equal(f->last_size, 0);
	dvtest_head_sha256(got, lf->dev, MiB + 100);
	assert_string_equal(got, want);
	pa_provision_result_free(r);
	// A device smaller than the request is refused.
	pa_datavolume_free(dv);
	dv     = make_dv("http", "true", "", "65Mi", "Block");
	req.dv = dv;
	assert_int_equal(pa_provision(&r, f->c, &req, NULL, NULL, &err),
	    PA_FAILED_PRECONDITION);
	pa_datavolume_free(dv);
	loopfs_free(lf);
}

#define TEST(name)                       \
	cmocka_unit_test_setup_teardown( \
	    name, provision_setup, provision_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provision__disk_image_size_is_exact),
		cmocka_unit_test(
		    test_provision__bad_overheads_are_invalid_argument),
		TEST(test_provision__decision_never_depends_on_the_source_kind),
		TEST(test_provision__image_is_written_first_and_kept),
		TEST(test_provision__failures_have_their_codes),
		TEST(
		    test_provision__block_device_is_preallocated_after_the_image),
	};

	return loopfs_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
