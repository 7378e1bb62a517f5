// SPDX-License-Identifier: Apache-2.0
// provision_test.c: the importer's flow end to end: pa_provision with the
// real prealloc-policyd and prealloc-agentd, on loop ext4, loop ext3 and a
// loop block device.
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

#define FS_SIZE (256 * MiB)
#define DEV_SIZE (64 * MiB)

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
                                 "    global: \"0.06\"\n";

typedef struct fixture {
	char          *dir;
	struct loopfs *ext4, *ext3, *dev;
	char           policy_url[600], agent_url[600];
	testlib_daemon policyd, agentd;
	pa_client     *c;
	int            n; // volumes made so far, for unique names
} fixture;

static fixture fx;

static int
start_daemons(fixture *f)
{
	char  config[600], plog[600], alog[600];
	char *pargv[] = { (char *) NULL, "--config", config, "--listen",
		f->policy_url, "--http", "none", NULL };
	char *aargv[] = { (char *) NULL, "--root", f->ext4->mnt, "--root",
		f->ext3->mnt, "--device-allow", f->dev->dev, "--listen",
		f->agent_url, "--http", "none", NULL };

	snprintf(config, sizeof(config), "%s/cdiconfig.yaml", f->dir);
	snprintf(plog, sizeof(plog), "%s/policyd.log", f->dir);
	snprintf(alog, sizeof(alog), "%s/agentd.log", f->dir);
	snprintf(f->policy_url, sizeof(f->policy_url), "ipc://%s/policy.sock",
	    f->dir);
	snprintf(
	    f->agent_url, sizeof(f->agent_url), "ipc://%s/agent.sock", f->dir);
	testlib_write_text(config, config_yaml);
	pargv[0] = strdup(testlib_built("service/prealloc-policyd"));
	aargv[0] = strdup(testlib_built("agent/prealloc-agentd"));
	if (testlib_daemon_start(&f->policyd, plog, "policyd.ready", pargv) ||
	    testlib_daemon_start(&f->agentd, alog, "agentd.ready", aargv)) {
		free(pargv[0]);
		free(aargv[0]);
		return -1;
	}
	free(pargv[0]);
	free(aargv[0]);
	return 0;
}

static int
group_setup(void **state)
{
	fixture       *f    = &fx;
	pa_client_opts opts = PA_CLIENT_OPTS_INIT;
	pa_err         err  = PA_ERR_INIT;
	char           why[256];

	f->dir = testlib_tmpdir("provision_it");
	if (loopfs_new(&f->ext4, why, "ext4", FS_SIZE) != LOOPFS_OK ||
	    loopfs_new(&f->ext3, why, "ext3", FS_SIZE) != LOOPFS_OK ||
	    loopfs_new(&f->dev, why, NULL, DEV_SIZE) != LOOPFS_OK)
		return -1; // main() checked that loop devices work
	if (start_daemons(f) != 0)
		return -1;
	opts.policy_urls = f->policy_url;
	opts.agent_urls  = f->agent_url;
	opts.deadline_ms = 10000;
	if (pa_client_new(&f->c, &opts, &err) != PA_OK) {
		fprintf(stderr, "pa_client_new: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	fixture *f = &fx;

	pa_client_free(f->c);
	testlib_daemon_stop(&f->agentd);
	testlib_daemon_stop(&f->policyd);
	loopfs_free(f->ext4);
	loopfs_free(f->ext3);
	loopfs_free(f->dev);
	testlib_rm_rf(f->dir);
	free(f->dir);
	return 0;
}

// A DataVolume under spec.pvc; see dvtest_spec.
static pa_datavolume *
make_dv(const char *source, const char *pre, const char *sc, const char *size,
    const char *mode)
{
	dvtest_spec spec = { source, pre, sc, size, mode, "pvc" };

	return dvtest_parse(&spec);
}

// A fresh directory for one volume beneath @p lf's mount.
static char *
volume_dir(fixture *f, const struct loopfs *lf)
{
	char  name[32];
	char *dir;

	snprintf(name, sizeof(name), "vol%d", f->n++);
	dir = loopfs_path(lf, name);
	assert_int_equal(mkdir(dir, 0755), 0);
	return dir;
}

// qemu-img's view of a disk image: actual-size >= virtual-size when the
// image is fully allocated.
static void
qemu_sizes(const char *path, uint64_t *actual, uint64_t *virt)
{
	char *out = NULL, *p;

	assert_int_equal(testlib_capture(&out,
	                     "qemu-img info --output=json -f raw '%s'", path),
	    0);
	assert_non_null(p = strstr(out, "\"actual-size\":"));
	*actual = strtoull(p + strlen("\"actual-size\":"), NULL, 10);
	assert_non_null(p = strstr(out, "\"virtual-size\":"));
	*virt = strtoull(p + strlen("\"virtual-size\":"), NULL, 10);
	free(out);
}

static int progress_seen;

static int
note_progress(void *arg, const pa_job *job)
{
	progress_seen++;
	return 0;
}

// Provision a preallocated volume with an image on @p lf and check it.
static void
provision_fs(fixture *f, struct loopfs *lf)
{
	pa_datavolume *dv = make_dv("http", "true", "", "128Mi", "Filesystem");
	pa_provision_req     req = { 0 };
	pa_provision_result *r   = NULL;
	pa_err               err = PA_ERR_INIT;
	char                *dir = volume_dir(f, lf);
	char                 image[600], want[65], got[65];
	uint64_t             actual = 0, virt = 0;

	snprintf(image, sizeof(image), "%s/image-%s.raw", f->dir, lf->fstype);
	assert_int_equal(testlib_write_random(image, 0, 3 * MiB + 77, 11), 0);
	assert_int_equal(testlib_sha256(want, image), 0);
	req.dv        = dv;
	req.volume    = dir;
	req.image     = image;
	progress_seen = 0;
	if (pa_provision(&r, f->c, &req, note_progress, NULL, &err) != PA_OK)
		fail_msg("%s: %s", lf->fstype, err.msg);
	assert_true(r->preallocated);
	assert_string_equal(r->annotation_value, "true");
	assert_string_equal(r->decision.decided_by, "dataVolume");
	assert_string_equal(r->decision.filesystem_overhead, "0.06");
	assert_int_equal(r->capacity, 128 * MiB);
	assert_int_equal(r->target_size, 120 * MiB); // 128 / 1.06 = 120.75
	assert_int_equal(r->image_bytes, 3 * MiB + 77);
	assert_non_null(r->job);
	assert_int_equal(r->job->state, PA_JOB_SUCCEEDED);
	assert_true(progress_seen >= 1);
	fprintf(stderr, "%s: method %s, mechanism %s, %s\n", lf->fstype,
	    r->job->method_used, r->job->mechanism, r->job->fallback_note);
	assert_int_equal(testlib_file_size(r->target), 120 * MiB);
	dvtest_head_sha256(got, r->target, 3 * MiB + 77);
	assert_string_equal(got, want);
	qemu_sizes(r->target, &actual, &virt);
	assert_int_equal(virt, 120 * MiB);
	if (actual < virt)
		fail_msg("%s: actual-size %llu < virtual-size %llu", lf->fstype,
		    (unsigned long long) actual, (unsigned long long) virt);
	pa_provision_result_free(r);
	pa_datavolume_free(dv);
	free(dir);
}

static void
test_provision__ext4_volume_keeps_the_image_and_is_allocated(void **state)
{
	provision_fs(*state, fx.ext4);
}

static void
test_provision__ext3_volume_keeps_the_image_and_is_allocated(void **state)
{
	provision_fs(*state, fx.ext3);
}

static void
test_provision__block_volume_is_zeroed_after_the_image(void **state)
{
	fixture         *f   = *state;
	pa_datavolume   *dv  = make_dv("registry", "", "fast", "32Mi", "Block");
	pa_provision_req req = { 0 };
	pa_provision_result *r   = NULL;
	pa_err               err = PA_ERR_INIT;
	char                 image[600], want[65], got[65];

	// Old data past the image must be zeroed.
	assert_int_equal(testlib_write_random(f->dev->dev, 0, DEV_SIZE, 3), 0);
	snprintf(image, sizeof(image), "%s/image-dev.raw", f->dir);
	assert_int_equal(testlib_write_random(image, 0, MiB + 100, 12), 0);
	assert_int_equal(testlib_sha256(want, image), 0);
	req.dv     = dv;
	req.volume = f->dev->dev;
	req.image  = image;
	if (pa_provision(&r, f->c, &req, NULL, NULL, &err) != PA_OK)
		fail_msg("%s", err.msg);
	assert_true(r->preallocated);
	assert_string_equal(r->decision.decided_by, "storageClass");
	assert_int_equal(r->capacity, DEV_SIZE);
	assert_int_equal(r->image_bytes, MiB + 100);
	assert_int_equal(r->job->state, PA_JOB_SUCCEEDED);
	assert_true(
	    r->job->offset >= MiB + 100 && r->job->offset < MiB + 100 + 4096);
	dvtest_head_sha256(got, f->dev->dev, MiB + 100);
	assert_string_equal(got, want);
	// From the job's offset on, the device reads as zeros.
	assert_int_equal(testlib_run("cmp -s -n %llu -i %llu:0 %s /dev/zero",
	                     (unsigned long long) (DEV_SIZE - r->job->offset),
	                     (unsigned long long) r->job->offset, f->dev->dev),
	    0);
	pa_provision_result_free(r);
	pa_datavolume_free(dv);
}

// GetConfig shows what ApplyConfig stored.
static void
check_config(fixture *f, uint64_t gen)
{
	pa_config *cfg  = NULL;
	pa_err     err  = PA_ERR_INIT;
	bool       gold = false;

	if (pa_get_config(&cfg, f->c, &err) != PA_OK)
		fail_msg("get config: %s", err.msg);
	assert_int_equal(cfg->generation, gen);
	assert_true(cfg->from_file);
	assert_string_equal(cfg->last_error, "");
	assert_int_equal(cfg->global_preallocation, PA_FALSE);
	assert_string_equal(cfg->global_filesystem_overhead, "0.06");
	for (size_t i = 0; i < cfg->n_classes; i++)
		if (strcmp(cfg->classes[i].name, "gold") == 0) {
			gold = true;
			assert_int_equal(
			    cfg->classes[i].preallocation, PA_TRUE);
			assert_string_equal(
			    cfg->classes[i].filesystem_overhead, "0.1");
		}
	assert_true(gold);
	assert_non_null(strstr(cfg->yaml, "gold"));
	pa_config_free(cfg);
}

static void
test_provision__config_apply_changes_the_next_decision(void **state)
{
	fixture       *f  = *state;
	pa_datavolume *dv = make_dv("blank", "", "gold", "64Mi", "Filesystem");
	pa_provision_req     req = { 0 };
	pa_provision_result *r   = NULL;
	pa_err               err = PA_ERR_INIT;
	char                *dir = volume_dir(f, f->ext4), yaml[1024];
	uint64_t             gen0, gen1 = 0, actual = 0, virt = 0;

	req.dv     = dv;
	req.volume = dir;
	if (pa_provision(&r, f->c, &req, NULL, NULL, &err) != PA_OK)
		fail_msg("%s", err.msg);
	assert_false(r->preallocated);
	assert_null(r->annotation_value);
	assert_string_equal(r->decision.decided_by, "global");
	qemu_sizes(r->target, &actual, &virt);
	assert_true(actual < virt); // sparse
	gen0 = r->decision.generation;
	pa_provision_result_free(r);
	free(dir);

	snprintf(yaml, sizeof(yaml),
	    "%s    storageClass:\n      gold: \"0.1\"\n", config_yaml);
	memcpy(strstr(yaml, "      fast: true"), "      gold: true", 16);
	if (pa_apply_config(&gen1, f->c, yaml, gen0, true, &err) != PA_OK)
		fail_msg("apply: %s", err.msg);
	assert_true(gen1 > gen0);
	check_config(f, gen1);
	// A stale generation is refused.
	assert_int_equal(
	    pa_apply_config(NULL, f->c, yaml, gen0, true, &err), PA_ABORTED);

	dir        = volume_dir(f, f->ext4);
	req.volume = dir;
	if (pa_provision(&r, f->c, &req, NULL, NULL, &err) != PA_OK)
		fail_msg("%s", err.msg);
	assert_true(r->preallocated);
	assert_string_equal(r->decision.decided_by, "storageClass");
	assert_string_equal(r->decision.filesystem_overhead, "0.1");
	assert_int_equal(r->decision.generation, gen1);
	assert_int_equal(r->target_size, 58 * MiB); // 64 / 1.1 = 58.18
	qemu_sizes(r->target, &actual, &virt);
	assert_true(actual >= virt);
	pa_provision_result_free(r);
	pa_datavolume_free(dv);
	free(dir);
}

static void
test_provision__every_source_kind_gets_the_same_outcome(void **state)
{
	const char *const *kinds = dvtest_source_kinds;
	fixture           *f     = *state;

	for (size_t i = 0; i < DVTEST_NKINDS; i++) {
		pa_datavolume *dv =
		    make_dv(kinds[i], "", "", "8Mi", "Filesystem");
		pa_provision_req     req = { 0 };
		pa_provision_result *r   = NULL;
		pa_err               err = PA_ERR_INIT;
		char                *dir = volume_dir(f, f->ext4);

		req.dv     = dv;
		req.volume = dir;
		if (pa_provision(&r, f->c, &req, NULL, NULL, &err) != PA_OK)
			fail_msg("%s: %s", kinds[i], err.msg);
		// Neither the DataVolume nor a class decides: the global does.
		assert_string_equal(r->decision.decided_by, "global");
		assert_false(r->preallocated);
		assert_int_equal(r->target_size, 7 * MiB);
		pa_provision_result_free(r);
		pa_datavolume_free(dv);
		free(dir);
	}
}

static void
test_provision__agent_probes_and_lists_what_it_did(void **state)
{
	fixture     *f    = *state;
	pa_probe    *p    = NULL;
	pa_job_list *list = NULL;
	pa_job      *job  = NULL;
	pa_err       err  = PA_ERR_INIT;

	if (pa_probe_target(&p, f->c, f->dev->dev, &err) != PA_OK)
		fail_msg("probe: %s", err.msg);
	assert_string_equal(p->kind, "block");
	assert_true(p->exists);
	assert_int_equal(p->size, DEV_SIZE);
	assert_true(p->logical_sector_size >= 512);
	pa_probe_free(p);
	// The earlier tests' jobs are there, and each can be fetched.
	if (pa_list_jobs(&list, f->c, &err) != PA_OK)
		fail_msg("list: %s", err.msg);
	assert_true(list->n >= 1);
	assert_int_equal(
	    pa_get_job(&job, f->c, list->jobs[0].id, 0, &err), PA_OK);
	assert_string_equal(job->id, list->jobs[0].id);
	assert_true(pa_job_state_done(job->state));
	pa_job_free(job);
	job = NULL;
	pa_job_list_free(list);
	assert_int_equal(
	    pa_get_job(&job, f->c, "no-such-job", 0, &err), PA_NOT_FOUND);
	assert_null(job);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_provision__ext4_volume_keeps_the_image_and_is_allocated),
		cmocka_unit_test(
		    test_provision__ext3_volume_keeps_the_image_and_is_allocated),
		cmocka_unit_test(
		    test_provision__block_volume_is_zeroed_after_the_image),
		cmocka_unit_test(
		    test_provision__config_apply_changes_the_next_decision),
		cmocka_unit_test(
		    test_provision__every_source_kind_gets_the_same_outcome),
		cmocka_unit_test(
		    test_provision__agent_probes_and_lists_what_it_did),
	};
	struct loopfs *lf = NULL;
	char           why[256];

	if (access(testlib_built("agent/prealloc-agentd"), X_OK) != 0)
		testlib_skip_all("prealloc-agentd not built");
	if (!testlib_have_program("qemu-img"))
		testlib_skip_all("qemu-img not installed (apt-get install "
		                 "qemu-utils)");
	// A machine without loop devices or mkfs skips the file, visibly.
	if (loopfs_new(&lf, why, "ext3", MiB * 16) == LOOPFS_CANNOT)
		testlib_skip_all("%s", why);
	loopfs_free(lf);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
