// SPDX-License-Identifier: Apache-2.0
// dvtest.c: DataVolume manifests and head checksums for libprealloc tests.
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

// libprealloc's public header, from the source tree: this helper library
// is not otherwise built against clients/.
#include "../../clients/include/prealloc/prealloc.h"
#include "dvtest.h"
#include "testlib.h"

const char *const dvtest_source_kinds[DVTEST_NKINDS] = { "http", "registry",
	"s3", "gcs", "imageio", "vddk", "upload", "blank", "pvc" };

char *
dvtest_yaml(char *buf, size_t size, const dvtest_spec *s)
{
	const char *pre = s->preallocation, *sc = s->storage_class;
	int         n;

	n = snprintf(buf, size,
	    "apiVersion: cdi.kubevirt.io/v1beta1\n"
	    "kind: DataVolume\n"
	    "metadata:\n"
	    "  name: dv-%s\n"
	    "spec:\n"
	    "%s%s%s"
	    "  source:\n"
	    "    %s: {}\n"
	    "  %s:\n"
	    "    volumeMode: %s\n"
	    "%s%s%s"
	    "    resources:\n"
	    "      requests:\n"
	    "        storage: %s\n",
	    s->source, *pre ? "  preallocation: " : "", pre, *pre ? "\n" : "",
	    s->source, s->claim, s->mode, *sc ? "    storageClassName: " : "",
	    sc, *sc ? "\n" : "", s->size);
	assert_true(n > 0 && (size_t) n < size);
	return buf;
}

pa_datavolume *
dvtest_parse(const dvtest_spec *s)
{
	pa_datavolume *dv  = NULL;
	pa_err         err = PA_ERR_INIT;
	char           yaml[1024];

	dvtest_yaml(yaml, sizeof(yaml), s);
	if (pa_datavolume_parse(&dv, yaml, strlen(yaml), "dv.yaml", &err))
		fail_msg("%s", err.msg);
	return dv;
}

void
dvtest_head_sha256(char hex[65], const char *path, uint64_t n)
{
	char *out = NULL;

	assert_int_equal(
	    testlib_capture(&out, "head -c %llu '%s' | sha256sum | cut -c1-64",
	        (unsigned long long) n, path),
	    0);
	snprintf(hex, 65, "%.64s", out);
	free(out);
}
