// SPDX-License-Identifier: Apache-2.0
// ctl_config_test.c: `preallocctl config check|apply|get` as a user types
// them, against a real prealloc-policyd on an ipc listener: the one size
// limit of a configuration, met the same way by check, apply and the
// watched file.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdi.h"
#include "daemon.h"
#include "ctltest.h"
#include "testlib.h"

static const char *config_yaml = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                                 "kind: CDIConfig\n"
                                 "metadata:\n"
                                 "  name: config\n"
                                 "spec:\n"
                                 "  preallocation:\n"
                                 "    global: false\n"
                                 "    storageClass:\n"
                                 "      fast: true\n";

// The words every path refuses an over-limit configuration with.
#define LIMIT_WORDS "larger than 524288 bytes, the limit of a configuration"

typedef struct fixture {
	char          *dir;
	char           url[600], config[600], bin[600];
	testlib_daemon policyd;
	int            n; // files made so far, for unique names
} fixture;

static fixture fx;

static void
write_text(const char *path, const char *text)
{
	char  tmp[720];
	FILE *f;

	// Whole files only: the watch must never see half of one.
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_non_null(f = fopen(tmp, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

// A valid CDIConfig padded with a comment to @p len bytes, in a fresh file
// named @p tag in the test's directory; @p path gets its name.
static void
write_padded(char *path, size_t size, const char *tag, size_t len)
{
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	snprintf(path, size, "%s/%d-%s", fx.dir, fx.n++, tag);
	memcpy(buf, config_yaml, strlen(config_yaml));
	memset(buf + strlen(config_yaml), '#', len - strlen(config_yaml));
	buf[len - 1] = '\n';
	buf[len]     = '\0';
	write_text(path, buf);
	free(buf);
}

// Run preallocctl with @p fmt's arguments and the policy URL; its stdout
// and stderr come back malloc'd. @return its exit status.
static int __attribute__((format(printf, 3, 4)))
run(char **out, char **err, const char *fmt, ...)
{
	char    args[2048], errfile[700];
	va_list ap;
	int     st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(errfile, sizeof(errfile), "%s/%d-stderr", fx.dir, fx.n++);
	st = testlib_capture(
	    out, "'%s' --policy '%s' %s 2>'%s'", fx.bin, fx.url, args, errfile);
	fprintf(stderr, "$ preallocctl %s -> %d\n", args, st);
	*err = ctltest_slurp(errfile);
	unlink(errfile);
	return st;
}

static void
test_ctl_config__check_refuses_over_the_limit(void **state)
{
	char  path[700], *out = NULL, *err = NULL;
	char  ok[700], *out2 = NULL, *err2 = NULL;
	char *name;

	(void) state;
	write_padded(path, sizeof(path), "big.yaml", CDI_CONFIG_MAX_BYTES + 1);
	assert_int_not_equal(run(&out, &err, "config check '%s'", path), 0);
	ctltest_assert_has(err, path);
	ctltest_assert_has(err, LIMIT_WORDS);
	// The limit itself is still a valid configuration.
	write_padded(ok, sizeof(ok), "at.yaml", CDI_CONFIG_MAX_BYTES);
	assert_int_equal(run(&out2, &err2, "config check '%s'", ok), 0);
	name = strrchr(ok, '/') + 1;
	ctltest_assert_has(out2, name);
	free(out);
	free(err);
	free(out2);
	free(err2);
}

static void
test_ctl_config__apply_refuses_over_the_limit(void **state)
{
	char path[700], *out = NULL, *err = NULL, *got = NULL, *gerr = NULL;

	(void) state;
	// Past the RPC layer's own 1 MiB too: the configuration's limit, with
	// the user's file, is what the user reads, not the transport's.
	write_padded(path, sizeof(path), "huge.yaml", 5 * 1024 * 1024);
	assert_int_not_equal(run(&out, &err, "config apply '%s'", path), 0);
	ctltest_assert_has(err, path);
	ctltest_assert_has(err, LIMIT_WORDS);
	free(out);
	free(err);
	write_padded(path, sizeof(path), "big.yaml", CDI_CONFIG_MAX_BYTES + 1);
	assert_int_not_equal(run(&out, &err, "config apply '%s'", path), 0);
	ctltest_assert_has(err, LIMIT_WORDS);
	// Nothing was applied.
	assert_int_equal(run(&got, &gerr, "-o json config get"), 0);
	ctltest_assert_has(got, "\"fast\"");
	free(out);
	free(err);
	free(got);
	free(gerr);
}

// The service would name its own config file; the user typed theirs.
static void
test_ctl_config__apply_of_a_broken_file_names_it(void **state)
{
	char  path[700], want[760], *out = NULL, *err = NULL;
	char *got = NULL, *gerr = NULL;

	(void) state;
	snprintf(path, sizeof(path), "%s/%d-broken.yaml", fx.dir, fx.n++);
	write_text(path,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: CDIConfig\n"
	    "spec:\n"
	    "  preallocation:\n"
	    "    global: maybe\n");
	assert_int_not_equal(run(&out, &err, "config apply '%s'", path), 0);
	snprintf(want, sizeof(want), "%s:5:", path);
	ctltest_assert_has(err, want);
	if (strstr(err, fx.config) != NULL)
		fail_msg("the daemon's file named in:\n%s", err);
	assert_int_equal(run(&got, &gerr, "-o json config get"), 0);
	ctltest_assert_has(got, "\"fast\"");
	free(out);
	free(err);
	free(got);
	free(gerr);
}

static void
test_ctl_config__watch_refuses_over_the_limit(void **state)
{
	char   big[700], *out = NULL, *err = NULL;
	char  *text;
	size_t len = CDI_CONFIG_MAX_BYTES + 1;

	(void) state;
	write_padded(big, sizeof(big), "watched.yaml", len);
	text = ctltest_slurp(big);
	assert_int_equal(strlen(text), len);
	write_text(fx.config, text);
	free(text);
	assert_int_equal(
	    testlib_daemon_wait_log(&fx.policyd, LIMIT_WORDS, 10000), 0);
	// policyd keeps serving the last good configuration.
	assert_int_equal(run(&out, &err, "-o json config get"), 0);
	ctltest_assert_has(out, "\"fast\"");
	free(out);
	free(err);
	write_text(fx.config, config_yaml);
}

static int
group_setup(void **state)
{
	fixture *f = &fx;
	char     log[600];
	char    *argv[] = { NULL, "--config", f->config, "--listen", f->url,
		   "--http", "none", NULL };
	int      rc;

	f->dir = testlib_tmpdir("ctl_config_it");
	snprintf(f->bin, sizeof(f->bin), "%s",
	    testlib_built("clients/preallocctl/preallocctl"));
	snprintf(f->url, sizeof(f->url), "ipc://%s/policy.sock", f->dir);
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", f->dir);
	snprintf(log, sizeof(log), "%s/policyd.log", f->dir);
	write_text(f->config, config_yaml);
	argv[0] = strdup(testlib_built("service/prealloc-policyd"));
	rc      = testlib_daemon_start(&f->policyd, log, "policyd.ready", argv);
	free(argv[0]);
	*state = f;
	return rc;
}

static int
group_teardown(void **state)
{
	fixture *f = &fx;

	(void) state;
	if (f->policyd.pid > 0)
		testlib_daemon_stop(&f->policyd);
	testlib_rm_rf(f->dir);
	free(f->dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_config__check_refuses_over_the_limit),
		cmocka_unit_test(test_ctl_config__apply_refuses_over_the_limit),
		cmocka_unit_test(
		    test_ctl_config__apply_of_a_broken_file_names_it),
		cmocka_unit_test(test_ctl_config__watch_refuses_over_the_limit),
	};

	if (access(testlib_built("clients/preallocctl/preallocctl"), X_OK) ||
	    access(testlib_built("service/prealloc-policyd"), X_OK))
		testlib_skip_all("preallocctl or prealloc-policyd not built");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
