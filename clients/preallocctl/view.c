// SPDX-License-Identifier: Apache-2.0
// view.c: libprealloc's results as output trees with lowerCamelCase keys.
#include <stdio.h>

#include "prealloc/util.h"
#include "view.h"

// The job's progress in a table: "42%" of its bytes.
static void
view_percent(json_t *obj, const pa_job *job)
{
	char buf[16];

	// A job that ended before it knew its size did all of nothing,
	// unless it succeeded (a device of zero bytes left to fill).
	if (job->bytes_total == 0)
		snprintf(buf, sizeof(buf), "%s",
		    job->state == PA_JOB_SUCCEEDED ? "100%" : "-");
	else
		snprintf(buf, sizeof(buf), "%u%%",
		    (unsigned) (job->bytes_done * 100 / job->bytes_total));
	output_str(obj, "progress", buf);
}

// The job's error, when it has one: {"code": "NAME", "message": "..."}.
static json_t *
view_error(const pa_job *job)
{
	json_t *e;

	if (job->error_code == PA_OK)
		return NULL;
	if ((e = json_object()) != NULL) {
		output_str(e, "code", pa_status_name(job->error_code));
		output_str(e, "message", job->error_message);
	}
	return e;
}

// When a waiting job is expected to start, as a table says it: " in
// ~14s", " in ~3m"; "" when the agent does not know.
static void
view_expected(char *buf, size_t size, const pa_job *job)
{
	int64_t in_s;

	buf[0] = '\0';
	if (job->expected_start_unix_ms <= 0)
		return;
	in_s = (job->expected_start_unix_ms - pa_clock_unix_ms() + 999) / 1000;
	if (in_s < 0)
		in_s = 0;
	if (in_s < 120)
		snprintf(buf, size, " in ~%llds", (long long) in_s);
	else
		snprintf(
		    buf, size, " in ~%lldm", (long long) ((in_s + 59) / 60));
}

// Where a job waits, in a table: "#2 disk 8:0 in ~14s", "#1 fast"; its
// lane once it runs; "-" from an agent that does not say.
static void
view_queue(json_t *obj, const pa_job *job)
{
	char buf[80], eta[32];

	view_expected(eta, sizeof(eta), job);
	if (job->queue_position > 0 && job->disk[0] != '\0')
		snprintf(buf, sizeof(buf), "#%u disk %s%s", job->queue_position,
		    job->disk, eta);
	else if (job->queue_position > 0)
		snprintf(buf, sizeof(buf), "#%u %s%s", job->queue_position,
		    job->lane[0] != '\0' ? job->lane : "queue", eta);
	else
		snprintf(buf, sizeof(buf), "%s",
		    job->lane[0] != '\0' ? job->lane : "-");
	output_str(obj, "queue", buf);
}

// The columns `jobs` shows in a table.
static json_t *
view_job_brief(json_t *o, const pa_job *job, output_format f)
{
	output_str(o, "id", job->id);
	output_str(o, "state", pa_job_state_name(job->state));
	view_percent(o, job);
	output_size(o, f, "size", job->size);
	output_str(o, "method",
	    job->method_used[0] != '\0'
	        ? job->method_used
	        : pa_method_name(job->requested_method));
	view_queue(o, job);
	output_str(o, "path", job->path);
	return o;
}

json_t *
view_job(const pa_job *job, output_format f, bool brief)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (brief && f == OUTPUT_TABLE)
		return view_job_brief(o, job, f);
	output_str(o, "id", job->id);
	output_str(o, "requestId", job->request_id);
	output_str(o, "path", job->path);
	output_str(o, "state", pa_job_state_name(job->state));
	output_size(o, f, "size", job->size);
	output_size(o, f, "offset", job->offset);
	output_str(o, "requestedMethod", pa_method_name(job->requested_method));
	output_bool(o, "force", job->force);
	output_str(o, "methodUsed", job->method_used);
	output_str(o, "mechanism", job->mechanism);
	output_str(o, "filesystem", job->filesystem);
	output_str(o, "lane", job->lane);
	output_str(o, "disk", job->disk);
	output_u64(o, "queuePosition", job->queue_position);
	output_time(o, "expectedStartAt", job->expected_start_unix_ms);
	output_u64(o, "maxWriteRate", job->max_write_rate);
	output_str(o, "fallbackNote", job->fallback_note);
	output_size(o, f, "bytesDone", job->bytes_done);
	output_size(o, f, "bytesTotal", job->bytes_total);
	output_size(o, f, "bytesWritten", job->bytes_written);
	output_size(o, f, "allocatedBefore", job->allocated_before);
	output_size(o, f, "allocatedAfter", job->allocated_after);
	output_set(o, "error", view_error(job));
	output_time(o, "createdAt", job->created_unix_ms);
	output_time(o, "startedAt", job->started_unix_ms);
	output_time(o, "finishedAt", job->finished_unix_ms);
	output_u64(o, "durationMs", job->duration_ms);
	return o;
}

json_t *
view_jobs(const pa_job_list *list, output_format f)
{
	json_t *o = json_object(), *a = json_array();

	if (o == NULL || a == NULL) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	for (size_t i = 0; i < list->n; i++)
		json_array_append_new(a, view_job(&list->jobs[i], f, true));
	output_set(o, "jobs", a);
	return o;
}

json_t *
view_decision(const pa_decision *d)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	output_bool(o, "preallocation", d->preallocate);
	output_str(o, "decidedBy", d->decided_by);
	output_str(o, "filesystemOverhead", d->filesystem_overhead);
	output_u64(o, "generation", d->generation);
	return o;
}

// The signatures libblkid found, as rows.
static json_t *
view_signatures(const pa_probe *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->n_signatures; i++) {
		const pa_signature *s = &p->signatures[i];
		json_t             *o = json_object();

		if (o == NULL)
			break;
		output_str(o, "type", s->type);
		output_str(o, "usage", s->usage);
		output_str(o, "uuid", s->uuid);
		output_str(o, "label", s->label);
		output_u64(o, "offset", s->offset);
		json_array_append_new(a, o);
	}
	return a;
}

json_t *
view_probe(const pa_probe *p, output_format f)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	output_str(o, "path", p->path);
	output_str(o, "kind", p->kind);
	output_bool(o, "exists", p->exists);
	output_str(o, "filesystem", p->filesystem);
	output_size(o, f, "size", p->size);
	output_size(o, f, "allocated", p->allocated);
	output_size(o, f, "free", p->free);
	output_tristate(o, "fallocate", p->fallocate);
	output_bool(o, "busy", p->busy);
	output_u64(o, "logicalSectorSize", p->logical_sector_size);
	output_u64(o, "physicalSectorSize", p->physical_sector_size);
	output_u64(o, "optimalIoSize", p->optimal_io_size);
	output_u64(o, "alignmentOffset", p->alignment_offset);
	output_size(o, f, "writeZeroesMaxBytes", p->write_zeroes_max_bytes);
	output_set(o, "signatures", view_signatures(p));
	return o;
}

// spec: {preallocation: {global, storageClass}, filesystemOverhead: {...}}
static json_t *
view_config_spec(const pa_config *cfg)
{
	json_t *spec = json_object(), *pre = json_object(),
	       *ovh = json_object(), *pre_sc = json_object(),
	       *ovh_sc = json_object();

	output_tristate(pre, "global", cfg->global_preallocation);
	output_str(ovh, "global", cfg->global_filesystem_overhead);
	for (size_t i = 0; i < cfg->n_classes; i++) {
		const pa_class_setting *s = &cfg->classes[i];

		output_tristate(pre_sc, s->name, s->preallocation);
		output_str(ovh_sc, s->name, s->filesystem_overhead);
	}
	if (json_object_size(pre_sc) > 0)
		json_object_set(pre, "storageClass", pre_sc);
	if (json_object_size(ovh_sc) > 0)
		json_object_set(ovh, "storageClass", ovh_sc);
	json_decref(pre_sc);
	json_decref(ovh_sc);
	output_set(spec, "preallocation", pre);
	output_set(spec, "filesystemOverhead", ovh);
	return spec;
}

// status: where the config came from and how its last load went.
static json_t *
view_config_status(const pa_config *cfg)
{
	json_t *st = json_object(), *w = json_array();

	output_str(st, "path", cfg->path);
	output_bool(st, "fromFile", cfg->from_file);
	output_time(st, "loadedAt", cfg->loaded_unix_ms);
	output_str(st, "lastError", cfg->last_error);
	for (size_t i = 0; w != NULL && i < cfg->n_warnings; i++)
		json_array_append_new(w, json_string(cfg->warnings[i]));
	if (json_array_size(w) > 0)
		output_set(st, "warnings", w);
	else
		json_decref(w);
	return st;
}

// A table shows the storage classes as rows, by name, and the status
// first: what an operator looks at.
static json_t *
view_config_table(const pa_config *cfg)
{
	json_t *o = view_config_status(cfg), *rows = json_array();

	output_u64(o, "generation", cfg->generation);
	output_tristate(o, "globalPreallocation", cfg->global_preallocation);
	output_str(
	    o, "globalFilesystemOverhead", cfg->global_filesystem_overhead);
	for (size_t i = 0; rows != NULL && i < cfg->n_classes; i++) {
		const pa_class_setting *s   = &cfg->classes[i];
		json_t                 *row = json_object();

		output_str(row, "name", s->name);
		output_str(row, "preallocation",
		    s->preallocation == PA_UNSET      ? "-"
		        : s->preallocation == PA_TRUE ? "true"
		                                      : "false");
		output_str(row, "filesystemOverhead",
		    s->filesystem_overhead[0] ? s->filesystem_overhead : "-");
		json_array_append_new(rows, row);
	}
	output_set(o, "storageClasses", rows);
	return o;
}

json_t *
view_config(const pa_config *cfg, output_format f)
{
	json_t *o, *meta;

	if (f == OUTPUT_TABLE)
		return view_config_table(cfg);
	o    = json_object();
	meta = json_object();

	if (o == NULL || meta == NULL) {
		json_decref(o);
		json_decref(meta);
		return NULL;
	}
	output_str(o, "apiVersion", "cdi.kubevirt.io/v1beta1");
	output_str(o, "kind", "CDIConfig");
	output_str(meta, "name", "config");
	output_u64(meta, "generation", cfg->generation);
	output_set(o, "metadata", meta);
	output_set(o, "spec", view_config_spec(cfg));
	output_set(o, "status", view_config_status(cfg));
	return o;
}
