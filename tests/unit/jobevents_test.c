// SPDX-License-Identifier: Apache-2.0
// jobevents_test.c: the job log lines and job metrics the agent writes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobevents.h"
#include "prealloc/log.h"
#include "promtext.h"
#include "testlib.h"

struct fixture {
	metrics  *m;
	jobevents e;
	FILE     *log; // pa_log's lines go here during a test
};

static int
jobevents_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || metrics_new(&f->m, NULL) != PA_OK ||
	    jobevents_init(&f->e, f->m, NULL) != PA_OK ||
	    (f->log = tmpfile()) == NULL)
		return -1;
	pa_log_set_level(PA_LOG_INFO);
	pa_log_set_fd(fileno(f->log));
	*state = f;
	return 0;
}

static int
jobevents_teardown(void **state)
{
	struct fixture *f = *state;

	pa_log_set_fd(STDERR_FILENO);
	fclose(f->log);
	metrics_free(f->m);
	free(f);
	return 0;
}

// A job of @p method on /data/disk 1.img, as the table reports it.
static struct jobs_info
job_of(enum fill_method method, enum jobs_state state)
{
	struct jobs_info job;

	memset(&job, 0, sizeof(job));
	snprintf(job.id, sizeof(job.id), "job-7");
	snprintf(job.req.request_id, sizeof(job.req.request_id), "req-7");
	snprintf(job.req.target.path, sizeof(job.req.target.path),
	    "/data/disk 1.img");
	job.req.target.method = method;
	job.req.target.size   = 4096;
	job.req.target.offset = 512;
	job.state             = state;
	job.duration_ms       = 1500;
	return job;
}

// @return what was logged since the last call, without the timestamps
// ("level=... event=..." lines); the caller frees it.
static char *
logged(struct fixture *f)
{
	char  line[2048];
	char *out = calloc(1, 8192);

	assert_non_null(out);
	rewind(f->log);
	while (fgets(line, sizeof(line), f->log) != NULL) {
		char *rest = strstr(line, " level=");

		assert_non_null(rest);
		strncat(out, rest + 1, 8192 - strlen(out) - 1);
	}
	assert_int_equal(ftruncate(fileno(f->log), 0), 0);
	rewind(f->log);
	return out;
}

// @return the value of @p series in the rendered metrics, or -1 when it
// is not there.
static double
series(struct fixture *f, const char *name)
{
	char  *text = NULL;
	char   why[256];
	double v = -1;

	assert_int_equal(metrics_render(&text, f->m, NULL), PA_OK);
	if (promtext_check(why, sizeof(why), text) != 0)
		fail_msg("bad exposition: %s\n%s", why, text);
	if (promtext_value(&v, text, name) != 0)
		v = -1;
	free(text);
	return v;
}

static void
test_jobevents__start_is_one_line_and_no_count(void **state)
{
	struct fixture  *f   = *state;
	struct jobs_info job = job_of(FILL_FULL, JOBS_RUNNING);
	char            *log;

	jobevents_on_event(&f->e, &job);
	log = logged(f);
	assert_string_equal(log,
	    "level=info event=job.started job=job-7 request_id=req-7 "
	    "target=\"/data/disk 1.img\" method=full size=4096 offset=512 "
	    "lane=writer\n");
	free(log);
	assert_true(series(f,
	                "prealloc_agent_jobs_total{method=\"full\","
	                "state=\"running\"}") < 0);
}

static void
test_jobevents__succeeded_auto_fallback_logs_and_counts(void **state)
{
	struct fixture  *f   = *state;
	struct jobs_info job = job_of(FILL_AUTO, JOBS_SUCCEEDED);
	char            *log;

	job.result.method        = FILL_FULL;
	job.result.mechanism     = FILL_MECH_WRITE_ZEROES;
	job.result.bytes_written = 3584;
	snprintf(job.result.target, sizeof(job.result.target), "ext4");
	snprintf(job.result.note, sizeof(job.result.note), "no fallocate");
	jobevents_on_event(&f->e, &job);
	log = logged(f);
	assert_string_equal(log,
	    "level=info event=job.finished job=job-7 request_id=req-7 "
	    "target=\"/data/disk 1.img\" state=succeeded method=full "
	    "mechanism=write-zeroes filesystem=ext4 bytes=3584 ms=1500 "
	    "code=OK error=\"\"\n");
	free(log);
	assert_true(series(f,
	                "prealloc_agent_jobs_total{method=\"auto\","
	                "state=\"succeeded\"}") == 1);
	assert_true(series(f,
	                "prealloc_agent_preallocated_bytes_total{mechanism="
	                "\"write-zeroes\"}") == 3584);
	assert_true(series(f, "prealloc_agent_auto_fallbacks_total") == 1);
	// The duration is by the method used, in seconds.
	assert_true(series(f,
	                "prealloc_agent_job_duration_seconds_count{method="
	                "\"full\"}") == 1);
	assert_true(series(f,
	                "prealloc_agent_job_duration_seconds_sum{method="
	                "\"full\"}") == 1.5);
}

static void
test_jobevents__fallocate_counts_growth_in_blocks(void **state)
{
	struct fixture  *f   = *state;
	struct jobs_info job = job_of(FILL_FALLOC, JOBS_SUCCEEDED);
	char            *log;

	job.result.method           = FILL_FALLOC;
	job.result.mechanism        = FILL_MECH_FALLOCATE;
	job.result.allocated_before = 8192;
	job.result.allocated_after  = 12288;
	snprintf(job.result.target, sizeof(job.result.target), "xfs");
	jobevents_on_event(&f->e, &job);
	log = logged(f);
	assert_non_null(strstr(log, " bytes=4096 "));
	free(log);
	assert_true(series(f,
	                "prealloc_agent_preallocated_bytes_total{mechanism="
	                "\"fallocate\"}") == 4096);
	assert_true(series(f, "prealloc_agent_auto_fallbacks_total") < 1);
}

static void
test_jobevents__failed_warns_with_code_and_counts_no_bytes(void **state)
{
	struct fixture  *f   = *state;
	struct jobs_info job = job_of(FILL_FULL, JOBS_FAILED);
	char            *log;

	job.error_code = PA_RESOURCE_EXHAUSTED;
	snprintf(job.error, sizeof(job.error), "no space left on ext4");
	jobevents_on_event(&f->e, &job);
	log = logged(f);
	assert_string_equal(log,
	    "level=warn event=job.finished job=job-7 request_id=req-7 "
	    "target=\"/data/disk 1.img\" state=failed method=full "
	    "mechanism=none filesystem=\"\" bytes=0 ms=1500 "
	    "code=RESOURCE_EXHAUSTED error=\"no space left on ext4\"\n");
	free(log);
	assert_true(series(f,
	                "prealloc_agent_jobs_total{method=\"full\","
	                "state=\"failed\"}") == 1);
	assert_true(series(f,
	                "prealloc_agent_job_duration_seconds_count{method="
	                "\"full\"}") == 1);
	assert_true(series(f,
	                "prealloc_agent_preallocated_bytes_total{mechanism="
	                "\"none\"}") < 0);
}

static void
test_jobevents__cancelled_is_info_by_requested_method(void **state)
{
	struct fixture  *f   = *state;
	struct jobs_info job = job_of(FILL_AUTO, JOBS_CANCELLED);
	char            *log;

	job.error_code = PA_CANCELLED;
	snprintf(job.error, sizeof(job.error), "cancelled");
	jobevents_on_event(&f->e, &job);
	log = logged(f);
	assert_string_equal(log,
	    "level=info event=job.finished job=job-7 request_id=req-7 "
	    "target=\"/data/disk 1.img\" state=cancelled method=auto "
	    "mechanism=none filesystem=\"\" bytes=0 ms=1500 "
	    "code=CANCELLED error=cancelled\n");
	free(log);
	assert_true(series(f,
	                "prealloc_agent_jobs_total{method=\"auto\","
	                "state=\"cancelled\"}") == 1);
	assert_true(series(f,
	                "prealloc_agent_job_duration_seconds_count{method="
	                "\"auto\"}") == 1);
	assert_true(series(f, "prealloc_agent_auto_fallbacks_total") < 1);
}

static void
test_jobevents__collect_sets_gauges_from_the_table(void **state)
{
	struct fixture  *f    = *state;
	struct jobs_opts opts = JOBS_OPTS_INIT;
	jobs            *j    = NULL;

	assert_int_equal(jobs_new(&j, &opts, NULL), PA_OK);
	jobevents_collect(&f->e, j);
	jobs_free(j);
	assert_true(series(f, "prealloc_agent_jobs{state=\"queued\"}") == 0);
	assert_true(series(f, "prealloc_agent_jobs{state=\"cancelled\"}") == 0);
	assert_true(series(f, "prealloc_agent_queue_depth") == 0);
}

static void
test_jobevents__no_registry_still_logs(void **state)
{
	struct fixture  *f   = *state;
	struct jobs_info job = job_of(FILL_FULL, JOBS_FAILED);
	jobevents        e;
	char            *log;

	assert_int_equal(jobevents_init(&e, NULL, NULL), PA_OK);
	jobevents_on_event(&e, &job);
	log = logged(f);
	assert_non_null(strstr(log, "event=job.finished job=job-7 "));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_jobevents__start_is_one_line_and_no_count,
		    jobevents_setup, jobevents_teardown),
		cmocka_unit_test_setup_teardown(
		    test_jobevents__succeeded_auto_fallback_logs_and_counts,
		    jobevents_setup, jobevents_teardown),
		cmocka_unit_test_setup_teardown(
		    test_jobevents__fallocate_counts_growth_in_blocks,
		    jobevents_setup, jobevents_teardown),
		cmocka_unit_test_setup_teardown(
		    test_jobevents__failed_warns_with_code_and_counts_no_bytes,
		    jobevents_setup, jobevents_teardown),
		cmocka_unit_test_setup_teardown(
		    test_jobevents__cancelled_is_info_by_requested_method,
		    jobevents_setup, jobevents_teardown),
		cmocka_unit_test_setup_teardown(
		    test_jobevents__collect_sets_gauges_from_the_table,
		    jobevents_setup, jobevents_teardown),
		cmocka_unit_test_setup_teardown(
		    test_jobevents__no_registry_still_logs, jobevents_setup,
		    jobevents_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
