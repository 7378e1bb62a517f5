// SPDX-License-Identifier: Apache-2.0
// provision.c: what an importer or uploader does for one volume: resolve,
// size disk.img, write the image, have the agent preallocate the rest.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent.h"
#include "arena.h"
#include "cdiconfig.h" // CDI's filesystemOverhead rules
#include "prealloc/prealloc.h"
#include "prealloc/util.h"

#define PROVISION_MiB (1024ULL * 1024ULL)
#define PROVISION_CHUNK (1024 * 1024)
#define PROVISION_DISK "disk.img"
// How long the agent waits before its first answer.
#define PROVISION_WAIT_MS 1000

int
pa_disk_image_size(
    uint64_t *out, uint64_t capacity, const char *overhead, pa_err *err)
{
	int               milli;
	unsigned __int128 usable;

	if (out == NULL || overhead == NULL)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_disk_image_size needs an out pointer and an overhead");
	if ((milli = overhead_milli(overhead)) < 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "filesystem overhead \"%s\" is not a decimal 0 <= x < 1 "
		    "with at most 3 decimals",
		    overhead);
	// capacity / (1 + milli/1000), exactly: no float rounds it up.
	usable =
	    (unsigned __int128) capacity * 1000u / (1000u + (unsigned) milli);
	*out = (uint64_t) usable / PROVISION_MiB * PROVISION_MiB;
	return PA_OK;
}

// True when the @p n bytes at @p buf are all zero.
static bool
provision_zero(const char *buf, size_t n)
{
	return n == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0);
}

// Write @p n bytes at @p off of @p fd.
static int
provision_write_all(
    int fd, const char *buf, size_t n, uint64_t off, pa_err *err)
{
	size_t done = 0;

	if (pa_write_all(fd, buf, n, (off_t) off, &done) != 0)
		return pa_err_errno(err, errno, "write image at %llu",
		    (unsigned long long) (off + done));
	return PA_OK;
}

// Copy the image at @p image to offset 0 of @p fd. On a file, all-zero
// chunks are skipped and stay holes; on a device every byte is written.
static int
provision_write_image(uint64_t *bytes_out, int fd, const char *image,
    uint64_t room, bool sparse, pa_err *err)
{
	struct stat st;
	char       *buf = NULL;
	uint64_t    pos = 0;
	int         in = -1, rc = PA_OK;

	if ((in = open(image, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in, &st)) {
		rc = pa_err_errno(err, errno, "image %s", image);
		goto done;
	}
	if ((uint64_t) st.st_size > room) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED,
		    "image %s holds %llu bytes, more than the %llu-byte target",
		    image, (unsigned long long) st.st_size,
		    (unsigned long long) room);
		goto done;
	}
	if ((buf = malloc(PROVISION_CHUNK)) == NULL) {
		rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
		goto done;
	}
	for (;;) {
		ssize_t n = pread(in, buf, PROVISION_CHUNK, (off_t) pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pa_err_errno(err, errno, "read %s", image);
			goto done;
		}
		if (n == 0)
			break;
		if (pos + (uint64_t) n > room) { // it grew while we read
			rc = pa_err_set(err, PA_RESOURCE_EXHAUSTED,
			    "image %s grew past the %llu-byte target", image,
			    (unsigned long long) room);
			goto done;
		}
		if (!(sparse && provision_zero(buf, (size_t) n)) &&
		    (rc = provision_write_all(fd, buf, (size_t) n, pos, err)))
			goto done;
		pos += (uint64_t) n;
	}
	if (fdatasync(fd) != 0) {
		rc = pa_err_errno(err, errno, "sync after writing %s", image);
		goto done;
	}
	*bytes_out = pos;
done:
	free(buf);
	if (in >= 0)
		close(in);
	return rc;
}

#define PROVISION_SIZE_MANIFEST "manifest"
#define PROVISION_SIZE_VOLUME "volume"

// What provisioning works out before it calls the agent.
typedef struct provision_plan {
	char        target[PATH_MAX];
	uint64_t    capacity;
	uint64_t    target_size;
	uint64_t    image_bytes;
	const char *size_source; // PROVISION_SIZE_MANIFEST or _VOLUME
	int         fd;
} provision_plan;

// The capacity of a Filesystem volume: the DataVolume's size, or, when it
// gives none (a clone takes its source's), the size of the filesystem the
// directory is on, as the PVC CDI made would be. The overhead is taken
// off afterwards either way.
static int
provision_file_capacity(provision_plan *p, const pa_provision_req *req,
    const char *dir, pa_err *err)
{
	struct statvfs vfs;

	if (req->dv->size != 0) {
		p->capacity    = req->dv->size;
		p->size_source = PROVISION_SIZE_MANIFEST;
		return PA_OK;
	}
	if (statvfs(dir, &vfs) != 0)
		return pa_err_errno(err, errno, "size of the volume %s", dir);
	p->capacity    = (uint64_t) vfs.f_blocks * vfs.f_frsize;
	p->size_source = PROVISION_SIZE_VOLUME;
	if (p->capacity == 0)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "no size: the DataVolume gives no "
		    "resources.requests.storage and the filesystem under %s "
		    "reports 0 bytes",
		    dir);
	return PA_OK;
}

// Filesystem: disk.img in the mount directory, sized from the decision.
static int
provision_file(provision_plan *p, const pa_provision_req *req,
    const pa_decision *d, pa_err *err)
{
	char        dir[PATH_MAX];
	struct stat st;
	int         rc;

	if (realpath(req->volume, dir) == NULL)
		return pa_err_errno(err, errno, "volume %s", req->volume);
	if (stat(dir, &st) != 0)
		return pa_err_errno(err, errno, "volume %s", dir);
	if (!S_ISDIR(st.st_mode))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "volume %s is not a directory, as volumeMode Filesystem "
		    "needs",
		    dir);
	if ((size_t) snprintf(p->target, sizeof(p->target), "%s/%s", dir,
	        PROVISION_DISK) >= sizeof(p->target))
		return pa_err_set(
		    err, PA_INVALID_ARGUMENT, "volume path %s too long", dir);
	if ((rc = provision_file_capacity(p, req, dir, err)) != PA_OK)
		return rc;
	if ((rc = pa_disk_image_size(&p->target_size, p->capacity,
	         d->filesystem_overhead, err)) != PA_OK)
		return rc;
	if (p->target_size == 0)
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "a %llu-byte volume leaves no whole MiB for %s",
		    (unsigned long long) p->capacity, PROVISION_DISK);
	p->fd = open(p->target,
	    O_WRONLY | O_CREAT | O_CLOEXEC | (req->image != NULL ? O_TRUNC : 0),
	    0660);
	if (p->fd < 0)
		return pa_err_errno(err, errno, "create %s", p->target);
	if (req->image != NULL &&
	    (rc = provision_write_image(&p->image_bytes, p->fd, req->image,
	         p->target_size, true, err)) != PA_OK)
		return rc;
	return PA_OK;
}

// Block: the device itself, as large as it is.
static int
provision_device(provision_plan *p, const pa_provision_req *req, pa_err *err)
{
	struct stat st;
	uint64_t    size = 0;
	int         rc;

	if (realpath(req->volume, p->target) == NULL)
		return pa_err_errno(err, errno, "volume %s", req->volume);
	// O_EXCL: a mounted or otherwise claimed device is refused.
	p->fd = open(p->target,
	    (req->image != NULL ? O_WRONLY : O_RDONLY) | O_EXCL | O_CLOEXEC);
	if (p->fd < 0)
		return pa_err_errno(err, errno, "open %s", p->target);
	if (fstat(p->fd, &st) != 0)
		return pa_err_errno(err, errno, "stat %s", p->target);
	if (!S_ISBLK(st.st_mode))
		return pa_err_set(err, PA_INVALID_ARGUMENT,
		    "volume %s is not a block device, as volumeMode Block "
		    "needs",
		    p->target);
	if ((rc = pa_blkdev_size(&size, p->fd, p->target, err)) != PA_OK)
		return rc;
	// With no size in the DataVolume (a clone), the device's is the size.
	p->size_source = req->dv->size != 0 ? PROVISION_SIZE_MANIFEST
	                                    : PROVISION_SIZE_VOLUME;
	if (size == 0)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "no size: the DataVolume gives no "
		    "resources.requests.storage and device %s holds 0 bytes",
		    p->target);
	if (size < req->dv->size)
		return pa_err_set(err, PA_FAILED_PRECONDITION,
		    "device %s holds %llu bytes, less than the %llu requested",
		    p->target, (unsigned long long) size,
		    (unsigned long long) req->dv->size);
	p->capacity = p->target_size = size;
	if (req->image != NULL)
		return provision_write_image(
		    &p->image_bytes, p->fd, req->image, size, false, err);
	return PA_OK;
}

// Have the agent preallocate the rest of the target and wait for it.
static int
provision_preallocate(pa_job **out, pa_client *c, const provision_plan *p,
    const pa_provision_req *req, pa_progress_fn progress, void *arg,
    pa_err *err)
{
	pa_prealloc_req pr    = PA_PREALLOC_REQ_INIT;
	pa_probe       *probe = NULL;
	pa_job         *job   = NULL;
	int             rc;

	pr.path           = p->target;
	pr.method         = req->method;
	pr.force          = req->force;
	pr.wait_ms        = PROVISION_WAIT_MS;
	pr.max_write_rate = req->max_write_rate;
	if (req->dv->volume_mode == PA_VOLUME_FILESYSTEM) {
		pr.size = p->target_size;
	} else {
		uint64_t sector;

		if ((rc = pa_probe_target(&probe, c, p->target, err)) != PA_OK)
			goto done;
		sector = probe->logical_sector_size ? probe->logical_sector_size
		                                    : 512;
		pr.offset = (p->image_bytes + sector - 1) / sector * sector;
		pr.size   = 0; // to the end of the device
		if (pr.offset >= p->target_size) {
			*out = NULL; // the image filled the device
			goto done;
		}
	}
	if ((rc = pa_preallocate_wait(&job, c, &pr, progress, arg, err)))
		goto done;
	if (job->state == PA_JOB_CANCELLED)
		rc = pa_err_set(err, PA_CANCELLED,
		    "preallocation of %s cancelled", p->target);
	else if (job->state != PA_JOB_SUCCEEDED)
		rc = pa_err_set(err,
		    job->error_code != PA_OK ? job->error_code : PA_INTERNAL,
		    "preallocate %s: %s", p->target, job->error_message);
	if (rc != PA_OK)
		goto done;
	*out = job;
	job  = NULL;
done:
	pa_probe_free(probe);
	pa_job_free(job);
	return rc;
}

// The result, in one arena.
static int
provision_result(pa_provision_result **out, const provision_plan *p,
    const pa_decision *d, const pa_job *job, bool preallocated, pa_err *err)
{
	pa_provision_result *r = arena_new(sizeof(*r));
	pa_job              *j = NULL;

	if (r == NULL || (r->target = arena_strdup(r, p->target)) == NULL ||
	    (r->decision.decided_by = arena_strdup(r, d->decided_by)) == NULL ||
	    (r->decision.filesystem_overhead =
	            arena_strdup(r, d->filesystem_overhead)) == NULL ||
	    (job != NULL &&
	        ((j = arena_alloc(r, sizeof(*j))) == NULL ||
	            !agent_job_clone(r, j, job)))) {
		pa_provision_result_free(r);
		return pa_err_set(err, PA_RESOURCE_EXHAUSTED, "out of memory");
	}
	r->decision.preallocate = d->preallocate;
	r->decision.generation  = d->generation;
	r->capacity             = p->capacity;
	r->target_size          = p->target_size;
	r->image_bytes          = p->image_bytes;
	r->preallocated         = preallocated;
	r->annotation_value     = preallocated ? "true" : NULL;
	r->job                  = j;
	r->size_source          = p->size_source;
	// What CDI's controller writes on the PVC: whether preallocation
	// should be performed, from the DataVolume or else its configuration;
	// here the decision, whoever made it.
	r->requested_annotation_value = d->preallocate ? "true" : "false";
	*out                          = r;
	return PA_OK;
}

int
pa_provision(pa_provision_result **out, pa_client *c,
    const pa_provision_req *req, pa_progress_fn progress, void *arg,
    pa_err *err)
{
	provision_plan p   = { .fd = -1 };
	pa_volume      vol = { 0 };
	pa_decision   *d   = NULL;
	pa_job        *job = NULL;
	int            rc;

	if (out == NULL || c == NULL || req == NULL || req->dv == NULL ||
	    req->volume == NULL ||
	    (unsigned) req->dv->volume_mode > PA_VOLUME_BLOCK) {
		rc = pa_err_set(err, PA_INVALID_ARGUMENT,
		    "pa_provision needs an out pointer, a client, a DataVolume "
		    "and a volume");
		goto done;
	}
	// 1. The decision: the source kind is not even sent.
	vol.name          = req->dv->name;
	vol.namespace_    = req->dv->namespace_;
	vol.preallocation = req->dv->preallocation;
	vol.storage_class = req->dv->storage_class;
	if ((rc = pa_resolve(&d, c, &vol, err)) != PA_OK)
		goto done;
	// 2 and 3. The target, its size, and the image written first.
	rc = req->dv->volume_mode == PA_VOLUME_FILESYSTEM
	    ? provision_file(&p, req, d, err)
	    : provision_device(&p, req, err);
	if (rc != PA_OK)
		goto done;
	// Without preallocation disk.img still gets its size, sparse.
	if (req->dv->volume_mode == PA_VOLUME_FILESYSTEM && !d->preallocate &&
	    ftruncate(p.fd, (off_t) p.target_size) != 0) {
		rc = pa_err_errno(err, errno, "size %s", p.target);
		goto done;
	}
	// The agent opens the device itself, with O_EXCL too.
	close(p.fd);
	p.fd = -1;
	// 4. The rest, by the agent.
	if (d->preallocate &&
	    (rc = provision_preallocate(
	         &job, c, &p, req, progress, arg, err)) != PA_OK)
		goto done;
	// 5. The outcome.
	rc = provision_result(out, &p, d, job, d->preallocate, err);
done:
	if (p.fd >= 0)
		close(p.fd);
	pa_job_free(job);
	pa_decision_free(d);
	return rc;
}

void
pa_provision_result_free(pa_provision_result *r)
{
	arena_free(r);
}
