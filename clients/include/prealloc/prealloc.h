// SPDX-License-Identifier: Apache-2.0
// prealloc.h: libprealloc, the client library importers, uploaders and
// preallocctl use to reach the policy service and the node agents.
//
// Conventions: every function that can fail returns a gRPC canonical status
// (PA_OK 0, ...) and fills the optional pa_err with a one-line message.
// Results come back through the first parameter, belong to the caller and
// are freed with their own NULL-safe _free function, never with free().
// Strings inside a result live as long as the result. A pa_client may be
// shared by any number of threads.
#ifndef PREALLOC_PREALLOC_H
#define PREALLOC_PREALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prealloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the client ------------------------------------------------------ */

typedef struct pa_client pa_client;

/** How to reach the services. Start from PA_CLIENT_OPTS_INIT. */
typedef struct pa_client_opts {
	/** Policy service URL(s), comma-separated; NULL: no policy calls. */
	const char *policy_urls;
	/** Node agent URL(s), comma-separated; NULL: no agent calls. */
	const char *agent_urls;
	/** Budget of one call, retries included, in ms. */
	uint32_t deadline_ms;
	/** How long a call waits for a connection before UNAVAILABLE. */
	uint32_t connect_ms;
	/** Retries of a call that is safe to repeat, on UNAVAILABLE only. */
	unsigned max_retries;
	/** First backoff in ms; it doubles, with jitter, up to 2 s. */
	uint32_t backoff_ms;
	/** TLS for tls+tcp:// URLs: our certificate and key, and the CA. */
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;
	/** The name the server's certificate must carry; NULL: the host. */
	const char *tls_server_name;
} pa_client_opts;

#define PA_CLIENT_OPTS_INIT                                                    \
	{                                                                      \
		.policy_urls = NULL, .agent_urls = NULL, .deadline_ms = 30000, \
		.connect_ms = 1000, .max_retries = 4, .backoff_ms = 100,       \
		.tls_cert = NULL, .tls_key = NULL, .tls_ca = NULL,             \
		.tls_server_name = NULL                                        \
	}

/**
 * Make a client. It connects in the background and reconnects by itself.
 * @param[out] out  set only on PA_OK; free it with pa_client_free().
 * @param opts      copied, strings too.
 * @return PA_OK; PA_INVALID_ARGUMENT for a bad URL or TLS file, or when
 *         neither URL list is given.
 */
PA_EXPORT int pa_client_new(
    pa_client **out, const pa_client_opts *opts, pa_err *err);

/** Close and free @p c; NULL is a no-op. Calls in flight must be done. */
PA_EXPORT void pa_client_free(pa_client *c);

/** The node's agent socket, where agent/deploy's DaemonSet and systemd
 *  unit make it. */
#define PA_AGENT_NODE_SOCKET "/run/prealloc/agent.sock"
/** The daemons' default listeners. */
#define PA_DEFAULT_POLICY_TCP "tcp://127.0.0.1:9650"
#define PA_DEFAULT_AGENT_TCP "tcp://127.0.0.1:9651"

/**
 * The agent URL(s) for a caller given none, as preallocctl and the
 * example importer choose: $PREALLOC_AGENT when set and not empty; else
 * "ipc://" PA_AGENT_NODE_SOCKET when a socket is there (the agent of the
 * node this runs on); else PA_DEFAULT_AGENT_TCP.
 * @return the environment's string or a static one: not to be freed, and
 *         valid until the environment changes.
 */
PA_EXPORT const char *pa_default_agent_url(void);

/**
 * The policy URL(s) for a caller given none: $PREALLOC_POLICY when set
 * and not empty, else PA_DEFAULT_POLICY_TCP.
 * @return as pa_default_agent_url()'s.
 */
PA_EXPORT const char *pa_default_policy_url(void);

/* ---- the policy service --------------------------------------------- */

/** A setting that may be absent; absent is not false. */
typedef enum pa_tristate {
	PA_UNSET = 0,
	PA_TRUE  = 1,
	PA_FALSE = 2,
} pa_tristate;

/** The volume to decide for. Only preallocation and storage_class decide. */
typedef struct pa_volume {
	const char *name;          // the DataVolume, for logs; may be NULL
	const char *namespace_;    // may be NULL
	pa_tristate preallocation; // its spec.preallocation
	const char *storage_class; // NULL or "" skips that step
} pa_volume;

/** The policy service's answer. */
typedef struct pa_decision {
	bool        preallocate;
	const char *decided_by; // dataVolume, storageClass, global, default
	const char *filesystem_overhead; // "0.06"
	uint64_t    generation;          // of the config that answered
} pa_decision;

/**
 * Ask the policy service whether a volume is preallocated. Safe to repeat,
 * so UNAVAILABLE is retried.
 * @param[out] out  set only on PA_OK; free it with pa_decision_free().
 * @param vol       read during the call, not kept.
 * @return PA_OK, PA_INVALID_ARGUMENT (a bad storage class name),
 *         PA_UNAVAILABLE, PA_DEADLINE_EXCEEDED, or the service's status.
 */
PA_EXPORT int pa_resolve(
    pa_decision **out, pa_client *c, const pa_volume *vol, pa_err *err);

/** Free a decision; NULL is a no-op. */
PA_EXPORT void pa_decision_free(pa_decision *d);

/** One storage class of the effective config. */
typedef struct pa_class_setting {
	const char *name;
	pa_tristate preallocation;
	const char *filesystem_overhead; // "" when not set
} pa_class_setting;

/** The policy service's effective config. */
typedef struct pa_config {
	const char             *yaml; // a CDIConfig document
	uint64_t                generation;
	const char             *path;       // the file the service reads
	const char             *last_error; // "" when the last load succeeded
	const char *const      *warnings;
	size_t                  n_warnings;
	pa_tristate             global_preallocation;
	const char             *global_filesystem_overhead; // "" when unset
	const pa_class_setting *classes;
	size_t                  n_classes;
	bool                    from_file; // false: the embedded default
	int64_t                 loaded_unix_ms;
} pa_config;

/**
 * Fetch the effective config. Retried on UNAVAILABLE.
 * @param[out] out  set only on PA_OK; free it with pa_config_free().
 */
PA_EXPORT int pa_get_config(pa_config **out, pa_client *c, pa_err *err);

/** Free a config; NULL is a no-op. */
PA_EXPORT void pa_config_free(pa_config *cfg);

/**
 * Apply a CDIConfig YAML stream, like kubectl apply with a resourceVersion.
 * Not retried: a lost answer may mean it was applied.
 * @param[out] generation_out  optional; the new generation on PA_OK.
 * @param expected_generation  0, or the generation the caller saw.
 * @param strict               unknown fields are errors.
 * @return PA_OK; PA_ABORTED for a stale generation; PA_INVALID_ARGUMENT
 *         with file:line:column; PA_FAILED_PRECONDITION for a read-only
 *         config file; PA_UNAVAILABLE; PA_DEADLINE_EXCEEDED.
 */
PA_EXPORT int pa_apply_config(uint64_t *generation_out, pa_client *c,
    const char *yaml, uint64_t expected_generation, bool strict, pa_err *err);

/**
 * Validate a CDIConfig YAML stream here, as the policy service would on
 * ApplyConfig, with no service: `preallocctl config check`.
 * @param[out] out  the effective config the stream gives, set only on
 *                  PA_OK: its classes, warnings ("file:line:column:
 *                  sentence") and yaml as GetConfig would show them;
 *                  path is @p filename, generation and loaded_unix_ms
 *                  are 0. Free it with pa_config_free().
 * @param yaml      the text; read during the call, not kept.
 * @param len       its length in bytes.
 * @param filename  for messages; NULL means "<input>".
 * @param strict    unknown fields are errors, not warnings.
 * @param err       optional; on failure, "file:line:column: sentence".
 * @return PA_OK; PA_INVALID_ARGUMENT for anything wrong in the text or a
 *         NULL @p out; PA_RESOURCE_EXHAUSTED when memory runs out.
 */
PA_EXPORT int pa_config_check(pa_config **out, const char *yaml, size_t len,
    const char *filename, bool strict, pa_err *err);

/* ---- the node agent -------------------------------------------------- */

typedef enum pa_method {
	PA_METHOD_AUTO   = 0, // fallocate where supported, else full
	PA_METHOD_FALLOC = 1, // fallocate or FAILED_PRECONDITION
	PA_METHOD_FULL   = 2, // zeros really written
} pa_method;

typedef enum pa_job_state {
	PA_JOB_UNSPECIFIED = 0,
	PA_JOB_QUEUED      = 1,
	PA_JOB_RUNNING     = 2,
	PA_JOB_SUCCEEDED   = 3,
	PA_JOB_FAILED      = 4,
	PA_JOB_CANCELLED   = 5,
} pa_job_state;

/** A PreallocateVolume request. */
typedef struct pa_prealloc_req {
	const char *request_id; // NULL: the library makes a unique one
	const char *path;       // absolute: a file under a root, or a device
	uint64_t    size;       // file: final size; device: end, 0 = whole
	uint64_t    offset;     // device: where zeroing starts
	pa_method   method;
	bool        force;   // write over a signature in the range
	uint32_t    wait_ms; // how long the agent waits before answering
	/** Bytes per second the job writes at most; 0: the agent's limit,
	 *  which also caps this one. Added in libprealloc.so.1: the caller
	 *  allocates this struct, so growing it changed the soname. */
	uint64_t max_write_rate;
} pa_prealloc_req;

#define PA_PREALLOC_REQ_INIT                                              \
	{                                                                 \
		.request_id = NULL, .path = NULL, .size = 0, .offset = 0, \
		.method = PA_METHOD_AUTO, .force = false, .wait_ms = 0,   \
		.max_write_rate = 0                                       \
	}

/** A preallocation job on an agent. */
typedef struct pa_job {
	const char  *id;
	const char  *request_id;
	const char  *path;
	uint64_t     size;
	uint64_t     offset;
	pa_method    requested_method;
	bool         force;
	pa_job_state state;
	const char  *method_used; // "falloc", "full", or "" before it is known
	const char  *mechanism;   // "fallocate", "write-zeroes", "blkzeroout"
	const char  *filesystem;  // or a description of the device
	uint64_t     bytes_done;
	uint64_t     bytes_total;
	int          error_code; // PA_OK unless the job failed
	const char  *error_message;
	const char  *fallback_note; // why auto did not use fallocate
	uint64_t     allocated_before;
	uint64_t     allocated_after;
	uint64_t     bytes_written;
	int64_t      created_unix_ms;
	int64_t      started_unix_ms;
	int64_t      finished_unix_ms;
	uint64_t     duration_ms;
	/** The agent's pool that runs it: "fast" (fallocate: it never waits
	 * behind jobs that write data) or "writer"; "" from older agents. */
	const char *lane;
	/** While it waits, 1 for the next to start in its queue (the fast
	 *  lane's, or its disk's); 0 when it is not waiting. */
	unsigned queue_position;
	/** The disk a writer waits for, "MAJ:MIN"; "" for the fast lane, or
	 *  from older agents. */
	const char *disk;
	/** While it waits: when the agent expects it to start, Unix ms (an
	 *  estimate); 0 when not known, not waiting, or an older agent. */
	int64_t expected_start_unix_ms;
	/** Bytes per second it writes at most: the request's, capped by the
	 *  agent's; 0 for no limit. */
	uint64_t max_write_rate;
} pa_job;

/** @return true when @p state is SUCCEEDED, FAILED or CANCELLED. */
PA_EXPORT bool pa_job_state_done(pa_job_state state);

/** @return "queued", "running", "succeeded", "failed", "cancelled"... */
PA_EXPORT const char *pa_job_state_name(pa_job_state state);

/** @return "auto", "falloc" or "full"; "unknown" otherwise. */
PA_EXPORT const char *pa_method_name(pa_method method);

/**
 * Parse "auto", "falloc" or "full".
 * @return PA_OK, or PA_INVALID_ARGUMENT naming the input.
 */
PA_EXPORT int pa_method_parse(pa_method *out, const char *name, pa_err *err);

/**
 * Start (or join) a preallocation job and wait up to req->wait_ms for it.
 * A request id is made when the request has none, so that a retry after
 * UNAVAILABLE returns the same job instead of starting a second one.
 * @param[out] out  the job as it stands, set only on PA_OK; free it with
 *                  pa_job_free(). A job that failed is still PA_OK here:
 *                  look at its state and error_code.
 * @return PA_OK; PA_INVALID_ARGUMENT, PA_PERMISSION_DENIED,
 *         PA_ABORTED (another job holds the target), PA_RESOURCE_EXHAUSTED
 *         (queue full), PA_UNAVAILABLE, PA_DEADLINE_EXCEEDED.
 */
PA_EXPORT int pa_preallocate(
    pa_job **out, pa_client *c, const pa_prealloc_req *req, pa_err *err);

/**
 * Told of a job's progress while pa_preallocate_wait() or pa_wait_job()
 * waits. @p job is borrowed for the call.
 * @return 0 to go on waiting; nonzero to cancel the job (the wait goes on
 *         until the agent reports it ended, so its file is restored).
 */
typedef int (*pa_progress_fn)(void *arg, const pa_job *job);

/**
 * pa_preallocate(), then wait for the job to end by long-polling GetJob,
 * telling @p progress (may be NULL) at each answer.
 * @param[out] out  the finished job, set only on PA_OK; see pa_preallocate().
 * @return as pa_preallocate().
 */
PA_EXPORT int pa_preallocate_wait(pa_job **out, pa_client *c,
    const pa_prealloc_req *req, pa_progress_fn progress, void *arg,
    pa_err *err);

/** Wait for job @p id to end, as pa_preallocate_wait() does. */
PA_EXPORT int pa_wait_job(pa_job **out, pa_client *c, const char *id,
    pa_progress_fn progress, void *arg, pa_err *err);

/**
 * Fetch job @p id, waiting up to @p wait_ms for it to end.
 * @return PA_OK, PA_NOT_FOUND, PA_UNAVAILABLE, PA_DEADLINE_EXCEEDED.
 */
PA_EXPORT int pa_get_job(
    pa_job **out, pa_client *c, const char *id, uint32_t wait_ms, pa_err *err);

/**
 * Ask the agent to stop job @p id at its next chunk.
 * @param[out] out  optional; the job as the agent answered.
 * @return PA_OK, PA_NOT_FOUND, PA_UNAVAILABLE.
 */
PA_EXPORT int pa_cancel_job(
    pa_job **out, pa_client *c, const char *id, pa_err *err);

/** What a cancel found (pa_cancel_job_outcome()). */
typedef enum pa_cancel_outcome {
	PA_CANCEL_UNKNOWN   = 0, // an agent too old to say
	PA_CANCEL_CANCELLED = 1, // the job was queued: it never ran
	PA_CANCEL_STOPPING  = 2, // it runs: it stops at its next chunk
	PA_CANCEL_HAD_ENDED = 3, // it had ended before: nothing changed
} pa_cancel_outcome;

/**
 * As pa_cancel_job(), and say what the agent found.
 * @param[out] outcome  optional; set on PA_OK. A cancel retried after a
 *                      lost answer may find the job its first try
 *                      cancelled, and say PA_CANCEL_HAD_ENDED.
 * @return as pa_cancel_job().
 */
PA_EXPORT int pa_cancel_job_outcome(pa_job **out, pa_cancel_outcome *outcome,
    pa_client *c, const char *id, pa_err *err);

/** Free a job; NULL is a no-op. */
PA_EXPORT void pa_job_free(pa_job *job);

/** The agent's running, queued and recently finished jobs. */
typedef struct pa_job_list {
	const pa_job *jobs;
	size_t        n;
} pa_job_list;

/** @param[out] out  free it with pa_job_list_free(). */
PA_EXPORT int pa_list_jobs(pa_job_list **out, pa_client *c, pa_err *err);

/** Free a list; NULL is a no-op. */
PA_EXPORT void pa_job_list_free(pa_job_list *list);

/** A filesystem or partition table signature on a device. */
typedef struct pa_signature {
	const char *type;  // "ext4", "xfs", "dos", "gpt", ...
	const char *usage; // "filesystem", "partition table", ...
	const char *uuid;
	const char *label;
	uint64_t    offset; // where the magic sits
} pa_signature;

/** What the agent finds at a path. It writes nothing to learn it. */
typedef struct pa_probe {
	const char         *path;
	const char         *kind; // "file" or "block"
	bool                exists;
	const char         *filesystem;
	uint64_t            size;
	uint64_t            allocated;
	uint64_t            free;
	pa_tristate         fallocate; // PA_UNSET: not known yet
	uint32_t            logical_sector_size;
	uint32_t            physical_sector_size;
	uint64_t            optimal_io_size;
	uint64_t            alignment_offset;
	bool                busy;
	const pa_signature *signatures;
	size_t              n_signatures;
	uint64_t            write_zeroes_max_bytes;
} pa_probe;

/** @param[out] out  free it with pa_probe_free(). */
PA_EXPORT int pa_probe_target(
    pa_probe **out, pa_client *c, const char *path, pa_err *err);

/** Free a probe; NULL is a no-op. */
PA_EXPORT void pa_probe_free(pa_probe *p);

/* ---- DataVolumes and the importer's flow ----------------------------- */

typedef enum pa_volume_mode {
	PA_VOLUME_FILESYSTEM = 0,
	PA_VOLUME_BLOCK      = 1,
} pa_volume_mode;

/** What a DataVolume manifest says that provisioning needs. */
typedef struct pa_datavolume {
	const char *name;
	const char *namespace_; // "" when absent
	pa_tristate preallocation;
	const char *storage_class; // spec.pvc or spec.storage; "" when absent
	/** resources.requests.storage, in bytes; 0 when the manifest gives
	    none (spec.storage of a clone: pvc, snapshot or sourceRef), and
	    pa_provision() then reads it from the volume. */
	uint64_t       size;
	pa_volume_mode volume_mode;
	/** the kind under spec.source: http, registry, s3, gcs, imageio,
	    vddk, upload, blank, pvc or snapshot; "sourceRef" for a
	    DataSource (not resolved); "dataSourceRef" or "dataSource" for
	    an external populator named in the claim. */
	const char *source;
	/** Added at the end, so older callers keep their layout: the
	    fields CDI does not define, "file:line:column: unknown field
	    P.K (ignored)", in order. */
	const char *const *warnings;
	size_t             n_warnings;
} pa_datavolume;

/**
 * Parse a DataVolume manifest (apiVersion cdi.kubevirt.io/v1beta1, kind
 * DataVolume).
 * @param[out] out   set only on PA_OK; free it with pa_datavolume_free().
 * @param filename   for messages; NULL means "<input>".
 * @return PA_OK, or PA_INVALID_ARGUMENT with "file:line:column: sentence".
 */
PA_EXPORT int pa_datavolume_parse(pa_datavolume **out, const char *yaml,
    size_t len, const char *filename, pa_err *err);

/**
 * pa_datavolume_parse(), with a choice for the fields CDI does not define
 * (`prealocation: true` under spec), as pa_config_check() has for a
 * CDIConfig's: warnings in out->warnings, or, when @p strict, an error.
 * pa_datavolume_parse() is this with @p strict false.
 * @param[out] out   set only on PA_OK; free it with pa_datavolume_free().
 * @param filename   for messages; NULL means "<input>".
 * @return PA_OK, or PA_INVALID_ARGUMENT with "file:line:column: sentence"
 *         ("unknown field spec.prealocation" when strict);
 *         PA_RESOURCE_EXHAUSTED when memory runs out.
 */
PA_EXPORT int pa_datavolume_check(pa_datavolume **out, const char *yaml,
    size_t len, const char *filename, bool strict, pa_err *err);

/** Free a DataVolume; NULL is a no-op. */
PA_EXPORT void pa_datavolume_free(pa_datavolume *dv);

/**
 * Parse a Kubernetes quantity of bytes, as a DataVolume's size is written:
 * digits with an optional fraction, then one optional suffix (Ki Mi Gi Ti
 * Pi Ei, k M G T P E, or an exponent e<n>). A fraction of a byte rounds up.
 * @param[out] out  bytes; set only on PA_OK.
 * @param s         the text; NUL-terminated.
 * @return PA_OK, or PA_INVALID_ARGUMENT naming the input (junk, a negative
 *         value, more than 2^64 - 1 bytes, or a NULL argument).
 */
PA_EXPORT int pa_parse_quantity(uint64_t *out, const char *s, pa_err *err);

/**
 * CDI's size for disk.img on a Filesystem volume:
 * floor(capacity / (1 + overhead)), rounded down to 1 MiB.
 * @param overhead  a decimal string, 0 <= x < 1, at most 3 decimals.
 * @return PA_OK, or PA_INVALID_ARGUMENT for a bad overhead.
 */
PA_EXPORT int pa_disk_image_size(
    uint64_t *out, uint64_t capacity, const char *overhead, pa_err *err);

/** What to provision. */
typedef struct pa_provision_req {
	const pa_datavolume *dv;
	const char *volume; // the mount directory (disk.img goes inside) or
	                    // the block device
	const char *image;  // optional raw image to write first
	pa_method   method;
	bool        force;
	/** Bytes per second the agent writes at most for it; 0: the
	 *  agent's limit (so.1, as pa_prealloc_req's). */
	uint64_t max_write_rate;
} pa_provision_req;

/** What provisioning did. */
typedef struct pa_provision_result {
	pa_decision decision;
	const char *target;      // disk.img's path, or the device
	uint64_t    capacity;    // the volume: requested or device size
	uint64_t    target_size; // disk.img's size, or the device's
	uint64_t    image_bytes; // bytes of image written first
	bool        preallocated;
	/** CDI's annotation, "cdi.kubevirt.io/storage.preallocation",
	    with "true" when preallocated, else NULL. */
	const char   *annotation_value;
	const pa_job *job; // the agent's job; NULL when not preallocated
	/** Added at the end, as the next one, so older callers keep their
	    layout: where capacity came from: "manifest" (the
	    DataVolume's resources.requests.storage) or "volume" (none
	    given: the size of the filesystem under the volume directory,
	    or the device's). */
	const char *size_source;
	/** CDI's "cdi.kubevirt.io/storage.preallocation.requested", never
	    NULL: whether preallocation should be performed, as CDI's
	    controller writes it on every PVC: "true" or "false", the
	    decision, whoever made it (the DataVolume, a storage class, the
	    global setting). */
	const char *requested_annotation_value;
} pa_provision_result;

/**
 * Do what an importer or uploader does for one volume: resolve the
 * decision, size disk.img on a Filesystem volume, write the image when
 * given, and when the decision is true have the agent preallocate the
 * rest (the whole disk.img, or the device from the end of the image).
 * The decision never depends on the source kind.
 * @param[out] out  set only on PA_OK; free it with
 *                  pa_provision_result_free().
 * @return PA_OK, or the first failing step's status.
 */
PA_EXPORT int pa_provision(pa_provision_result **out, pa_client *c,
    const pa_provision_req *req, pa_progress_fn progress, void *arg,
    pa_err *err);

/** Free a result; NULL is a no-op. */
PA_EXPORT void pa_provision_result_free(pa_provision_result *r);

#ifdef __cplusplus
}
#endif

#endif // PREALLOC_PREALLOC_H
