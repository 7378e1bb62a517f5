// SPDX-License-Identifier: Apache-2.0
// store.h: the CDIConfig file: load, reload, atomic persist, snapshot swap.
#ifndef PREALLOC_STORE_H
#define PREALLOC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdiconfig.h"
#include "prealloc/status.h"

typedef struct store store;

/** What a reader may want to know besides the snapshot. */
typedef struct store_status {
	bool    from_file;      // false: the embedded default is served
	bool    ever_loaded;    // a valid config has loaded from the file
	bool    dir_missing;    // its directory does not exist (yet): watched
	int64_t loaded_unix_ms; // when the snapshot served now was made
	char    last_error[PA_ERR_MSG_SIZE]; // the newest load's failure, or ""
	uint64_t reloads;                    // successful loads and applies
	uint64_t reload_failures;            // rejected loads and applies
} store_status;

/**
 * Open the store for @p path and load it. A missing file is not an error:
 * the embedded default is served and @p missing_out says so. A file that
 * does not validate is an error, so a daemon never starts on a bad config.
 * @param[out] out  set only on PA_OK; free it with store_free().
 * @param[out] missing_out  optional; true when the file does not exist.
 * @return PA_OK; PA_INVALID_ARGUMENT with "file:line:column: ..." for a bad
 *         config; PA_PERMISSION_DENIED or PA_INTERNAL when unreadable.
 */
int store_open(store **out, bool *missing_out, const char *path, pa_err *err);

/** Stop watching and free the store; NULL is a no-op. */
void store_free(store *s);

/**
 * The snapshot served now, with a reference the caller drops with
 * cdiconfig_unref(). Never blocks on a reload: a reload parses outside the
 * lock and only swaps the pointer under it.
 */
cdiconfig *store_snapshot(store *s);

/**
 * Read the file again. A config that does not validate keeps the last good
 * snapshot and is recorded as the last error; the bytes already served
 * change nothing (the generation stays) but clear that error: the file
 * is good again.
 * @param[out] changed_out  optional; true when a new snapshot is served.
 * @return PA_OK, or the load's failure (the old snapshot is still served).
 */
int store_reload(store *s, bool *changed_out, pa_err *err);

/**
 * ApplyConfig: validate @p yaml, persist it atomically (temp file, fsync,
 * rename, fsync of the directory) and serve it.
 * @param[out] out  the new snapshot with a reference for the caller, set
 *                  only on PA_OK; drop it with cdiconfig_unref().
 * @param expected_generation  0, or the generation the caller saw.
 * @return PA_OK; PA_ABORTED for a stale generation; PA_INVALID_ARGUMENT
 *         with positions for an invalid config; PA_FAILED_PRECONDITION
 *         when the file is read-only (a ConfigMap mount); PA_INTERNAL or
 *         PA_RESOURCE_EXHAUSTED when writing fails (the old file stays).
 */
int store_apply(cdiconfig **out, store *s, const char *yaml, size_t len,
    uint64_t expected_generation, bool strict, pa_err *err);

/**
 * Told of each temp file store_remove_stale_temps() found: @p rc is PA_OK
 * when it was removed, else why it was kept (in @p err). @p path is
 * borrowed for the call.
 */
typedef void (*store_temp_fn)(
    void *arg, const char *path, int rc, const pa_err *err);

/**
 * Remove what an ApplyConfig killed mid-write left beside the config: a
 * file named as its temp files are ("<config>.tmp" and six letters or
 * digits) that is a regular file, has one link, is owned by this
 * process's user and is not locked by a live apply (every apply holds
 * its temp file locked until the rename). Nothing else is touched: not
 * another name, a symlink, a directory, a hard-linked or foreign file.
 * Call it at start, before serving.
 * @param on_temp  optional; told of each temp-named entry.
 * @return how many files were removed.
 */
unsigned store_remove_stale_temps(store *s, store_temp_fn on_temp, void *arg);

/** Copy out the store's status. */
void store_get_status(store_status *out, store *s);

/** @return the config file's path (borrowed). */
const char *store_path(const store *s);

/**
 * Watch the file's directory (Kubernetes swaps a ConfigMap's `..data`
 * symlink rather than writing the file) and reload on every change, from
 * a thread of the store's. @p on_reload, when given, is told each outcome.
 * A directory that does not exist yet is waited for (its nearest existing
 * ancestor is watched; store_status.dir_missing says so), and so is one
 * that is removed later: when it appears, the file is loaded.
 * @return PA_OK, or the errno's code when inotify is unavailable.
 */
int store_watch(store *s,
    void (*on_reload)(void *arg, int rc, bool changed, const pa_err *err),
    void *arg, pa_err *err);

#endif // PREALLOC_STORE_H
