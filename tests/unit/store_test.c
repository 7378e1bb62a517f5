// SPDX-License-Identifier: Apache-2.0
// store_test.c: the CDIConfig store on real files: a failed load forgotten
// once the file is good again, and what it removes at start and what not.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "testlib.h"

static const char *good = "apiVersion: cdi.kubevirt.io/v1beta1\n"
                          "kind: CDIConfig\n"
                          "spec:\n"
                          "  preallocation:\n"
                          "    global: true\n";

typedef struct fixture {
	char *dir;
	char  config[600];
} fixture;

static void
put(const fixture *f, const char *name, const char *text)
{
	char  path[700], tmp[720];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_non_null(fp = fopen(tmp, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static int
exists(const fixture *f, const char *name)
{
	char        path[700];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return lstat(path, &st) == 0;
}

static int
store_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = testlib_tmpdir("store");
	snprintf(f->config, sizeof(f->config), "%s/cdiconfig.yaml", f->dir);
	*state = f;
	return 0;
}

static int
store_teardown(void **state)
{
	fixture *f = *state;

	testlib_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
assert_reload(store *s, int want_rc, bool want_changed)
{
	bool changed = true;

	assert_int_equal(store_reload(s, &changed, NULL), want_rc);
	assert_int_equal(changed, want_changed);
}

static void
test_store__good_bytes_again_clear_the_last_error(void **state)
{
	fixture     *f = *state;
	store       *s = NULL;
	store_status st;

	put(f, "cdiconfig.yaml", good);
	assert_int_equal(store_open(&s, NULL, f->config, NULL), PA_OK);
	put(f, "cdiconfig.yaml", "spec:\n  preallocation: [\n");
	assert_reload(s, PA_INVALID_ARGUMENT, false);
	store_get_status(&st, s);
	assert_non_null(strstr(st.last_error, "cdiconfig.yaml:"));
	put(f, "cdiconfig.yaml", good); // the bad edit undone
	assert_reload(s, PA_OK, false);
	store_get_status(&st, s);
	assert_string_equal(st.last_error, "");
	assert_int_equal(st.reload_failures, 1);
	// The same after the file was gone for a while.
	assert_int_equal(unlink(f->config), 0);
	assert_reload(s, PA_NOT_FOUND, false);
	store_get_status(&st, s);
	assert_non_null(strstr(st.last_error, "cdiconfig.yaml"));
	put(f, "cdiconfig.yaml", good);
	assert_reload(s, PA_OK, false);
	store_get_status(&st, s);
	assert_string_equal(st.last_error, "");
	store_free(s);
}

// The watched file obeys the size limit apply and check obey: a file over
// it is refused in the same words, and the last good config stays.
static void
test_store__over_the_size_limit_keeps_the_last_good(void **state)
{
	fixture     *f   = *state;
	store       *s   = NULL;
	size_t       len = CDI_CONFIG_MAX_BYTES + 100;
	char        *big = malloc(len + 1);
	cdiconfig   *c;
	store_status st;

	assert_non_null(big);
	memcpy(big, good, strlen(good));
	memset(big + strlen(good), '#', len - strlen(good));
	big[strlen(good)] = '\n';
	big[len]          = '\0';
	put(f, "cdiconfig.yaml", good);
	assert_int_equal(store_open(&s, NULL, f->config, NULL), PA_OK);
	put(f, "cdiconfig.yaml", big);
	assert_reload(s, PA_RESOURCE_EXHAUSTED, false);
	store_get_status(&st, s);
	assert_non_null(strstr(st.last_error,
	    "cdiconfig.yaml: larger than 524288 bytes, the limit of a "
	    "configuration"));
	c = store_snapshot(s);
	assert_int_equal(cdiconfig_global(c)->preallocation, CDICONFIG_TRUE);
	cdiconfig_unref(c);
	store_free(s);
	free(big);
}

typedef struct seen {
	int removed, kept;
	int kept_codes[16];
} seen;

static void
on_temp(void *arg, const char *path, int rc, const pa_err *err)
{
	seen *n = arg;

	(void) path;
	(void) err;
	if (rc == PA_OK)
		n->removed++;
	else if (n->kept < 16)
		n->kept_codes[n->kept++] = rc;
}

static int
count_code(const seen *n, int code)
{
	int c = 0;

	for (int i = 0; i < n->kept; i++)
		c += n->kept_codes[i] == code;
	return c;
}

// What test_store__removes_only_its_own_stale_temps must leave.
static const char *const kept[] = { "cdiconfig.yaml", "cdiconfig.yaml.tmpAb12C",
	"cdiconfig.yaml.tmpAb12Cd7", "cdiconfig.yaml.tmpAb-2Cd",
	"other.yaml.tmpAb12Cd", "precious", "cdiconfig.yaml.tmpLINK01",
	"cdiconfig.yaml.tmpHARD01", "cdiconfig.yaml.tmpDIR001",
	"cdiconfig.yaml.tmpFIFO01", "cdiconfig.yaml.tmpUID001",
	"cdiconfig.yaml.tmpLOCK01" };

// Only files named, typed, linked and owned as ApplyConfig's own temp
// files, and not locked by a live apply, are removed.
static void
test_store__removes_only_its_own_stale_temps(void **state)
{
	fixture *f = *state;
	store   *s = NULL;
	seen     n = { 0 };
	char     path[700], link_to[700];
	int      locked;

	put(f, "cdiconfig.yaml", good);
	put(f, "cdiconfig.yaml.tmpAb12Cd", good);   // stale: removed
	put(f, "cdiconfig.yaml.tmpZZ99zz", "half"); // stale: removed
	put(f, "cdiconfig.yaml.tmpAb12C", good);    // five: not the pattern
	put(f, "cdiconfig.yaml.tmpAb12Cd7", good);  // seven
	put(f, "cdiconfig.yaml.tmpAb-2Cd", good);   // not mkstemp's letters
	put(f, "other.yaml.tmpAb12Cd", good);       // another file's
	put(f, "precious", "data\n");
	snprintf(link_to, sizeof(link_to), "%s/precious", f->dir);
	snprintf(path, sizeof(path), "%s/cdiconfig.yaml.tmpLINK01", f->dir);
	assert_int_equal(symlink(link_to, path), 0);
	snprintf(path, sizeof(path), "%s/cdiconfig.yaml.tmpHARD01", f->dir);
	assert_int_equal(link(link_to, path), 0);
	snprintf(path, sizeof(path), "%s/cdiconfig.yaml.tmpDIR001", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/cdiconfig.yaml.tmpFIFO01", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	put(f, "cdiconfig.yaml.tmpUID001", good);
	snprintf(path, sizeof(path), "%s/cdiconfig.yaml.tmpUID001", f->dir);
	assert_int_equal(chown(path, 65534, 65534), 0);
	put(f, "cdiconfig.yaml.tmpLOCK01", good); // a live apply's
	snprintf(path, sizeof(path), "%s/cdiconfig.yaml.tmpLOCK01", f->dir);
	assert_true((locked = open(path, O_RDONLY)) >= 0);
	assert_int_equal(flock(locked, LOCK_EX), 0);

	assert_int_equal(store_open(&s, NULL, f->config, NULL), PA_OK);
	assert_int_equal(store_remove_stale_temps(s, on_temp, &n), 2);
	assert_int_equal(n.removed, 2);
	assert_int_equal(n.kept, 6); // link, hard link, dir, fifo, uid, lock
	assert_int_equal(count_code(&n, PA_ABORTED), 1); // the locked one
	assert_int_equal(count_code(&n, PA_FAILED_PRECONDITION), 5);
	assert_false(exists(f, "cdiconfig.yaml.tmpAb12Cd"));
	assert_false(exists(f, "cdiconfig.yaml.tmpZZ99zz"));
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (!exists(f, kept[i]))
			fail_msg("%s was removed", kept[i]);
	// Unlocked, the last one is stale too.
	close(locked);
	n = (seen) { 0 };
	assert_int_equal(store_remove_stale_temps(s, on_temp, &n), 1);
	assert_false(exists(f, "cdiconfig.yaml.tmpLOCK01"));
	assert_int_equal(
	    testlib_run("test \"$(cat '%s/precious')\" = data", f->dir), 0);
	store_free(s);
}

// An apply leaves no temp file, and what it wrote is whole.
static void
test_store__apply_leaves_only_the_config(void **state)
{
	fixture   *f    = *state;
	store     *s    = NULL;
	cdiconfig *next = NULL;
	char      *text = NULL;
	seen       n    = { 0 };

	put(f, "cdiconfig.yaml", good);
	assert_int_equal(store_open(&s, NULL, f->config, NULL), PA_OK);
	assert_int_equal(
	    store_apply(&next, s, good, strlen(good), 0, false, NULL), PA_OK);
	cdiconfig_unref(next);
	assert_int_equal(store_remove_stale_temps(s, on_temp, &n), 0);
	assert_int_equal(n.removed + n.kept, 0);
	assert_true(testlib_capture(&text, "ls -A '%s'", f->dir) >= 0);
	assert_string_equal(text, "cdiconfig.yaml\n");
	free(text);
	store_free(s);
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, store_setup, store_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_store__good_bytes_again_clear_the_last_error),
		T(test_store__over_the_size_limit_keeps_the_last_good),
		T(test_store__removes_only_its_own_stale_temps),
		T(test_store__apply_leaves_only_the_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
