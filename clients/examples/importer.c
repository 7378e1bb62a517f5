// SPDX-License-Identifier: Apache-2.0
// importer.c: what a CDI importer does with libprealloc: read a DataVolume,
// provision its volume (resolve, size, write the image, preallocate), print
// the outcome.
//
//   cc importer.c $(pkg-config --cflags --libs prealloc) -o importer
//   ./importer DV.yaml VOLUME [IMAGE]
//
// PREALLOC_POLICY and PREALLOC_AGENT give the services' URLs; without
// them, libprealloc's defaults: the node's agent socket, then localhost.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <prealloc/prealloc.h>

static int
progress(void *arg, const pa_job *job)
{
	(void) arg;
	fprintf(stderr, "progress: %s %llu/%llu bytes\n",
	    pa_job_state_name(job->state), (unsigned long long) job->bytes_done,
	    (unsigned long long) job->bytes_total);
	return 0; // go on; nonzero would cancel the job
}

static char *
slurp(const char *path, size_t *len_out)
{
	FILE *f   = fopen(path, "rb");
	char *buf = NULL;
	long  len;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t) len + 1)) != NULL &&
	    fread(buf, 1, (size_t) len, f) == (size_t) len) {
		buf[len] = '\0';
		*len_out = (size_t) len;
	} else {
		free(buf);
		buf = NULL;
	}
	if (f != NULL)
		fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	pa_client_opts       opts = PA_CLIENT_OPTS_INIT;
	pa_provision_req     req  = { 0 };
	pa_client           *c    = NULL;
	pa_datavolume       *dv   = NULL;
	pa_provision_result *r    = NULL;
	pa_err               err  = PA_ERR_INIT;
	char                *yaml = NULL;
	size_t               len  = 0;
	int                  rc   = 1;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "Usage: %s DV.yaml VOLUME [IMAGE]\n", argv[0]);
		return 2;
	}
	if ((yaml = slurp(argv[1], &len)) == NULL) {
		pa_err_errno(&err, errno, "read %s", argv[1]);
		goto done;
	}
	if (pa_datavolume_parse(&dv, yaml, len, argv[1], &err) != PA_OK)
		goto done;
	// As the manifests set them; else the node's agent socket.
	opts.policy_urls = pa_default_policy_url();
	opts.agent_urls  = pa_default_agent_url();
	if (pa_client_new(&c, &opts, &err) != PA_OK)
		goto done;
	req.dv     = dv;
	req.volume = argv[2];
	req.image  = argc == 4 ? argv[3] : NULL;
	req.method = PA_METHOD_AUTO;
	if (pa_provision(&r, c, &req, progress, NULL, &err) != PA_OK)
		goto done;
	printf("dataVolume: %s\nsource: %s\n", dv->name, dv->source);
	printf("preallocate: %s\ndecidedBy: %s\nfilesystemOverhead: %s\n",
	    r->decision.preallocate ? "true" : "false", r->decision.decided_by,
	    r->decision.filesystem_overhead);
	printf("target: %s\ncapacity: %llu\ntargetSize: %llu\n"
	       "imageBytes: %llu\n",
	    r->target, (unsigned long long) r->capacity,
	    (unsigned long long) r->target_size,
	    (unsigned long long) r->image_bytes);
	if (r->annotation_value != NULL)
		printf("annotation: cdi.kubevirt.io/storage.preallocation=%s\n",
		    r->annotation_value);
	if (r->job != NULL)
		printf("method: %s\nmechanism: %s\n", r->job->method_used,
		    r->job->mechanism);
	rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "importer: %s: %s\n", pa_status_name(err.code),
		    err.msg);
	pa_provision_result_free(r);
	pa_client_free(c);
	pa_datavolume_free(dv);
	free(yaml);
	return rc;
}
