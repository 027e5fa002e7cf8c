/* statenet's C ABI: engines, workflows and machines behind opaque handles, JSON text in
 * and out, for hosts that cannot use the C++ API (C, game engines, Rust, Go, C#...).
 *
 * Conventions
 * - Every function that can fail returns a statenet_status; STATENET_OK is 0. On failure
 *   `*error` (when `error` is not NULL) receives a message the caller frees with
 *   statenet_free; on success it is set to NULL. No exception crosses this boundary.
 * - Strings are UTF-8, NUL-terminated. Every `char**` output is a buffer the caller
 *   frees with statenet_free. Handles are freed with their own *_free function; freeing
 *   NULL does nothing.
 * - A record that fails in the workflow is not an API failure: the result JSON says
 *   "ok": false with its "error" (name, message, state).
 * - Thread safety: an engine may be used from several threads; a workflow's process,
 *   process_batch and process_file may run concurrently (each call gets its own Lua VM);
 *   a machines handle serializes its calls itself. Free a handle only when no call on it
 *   runs, and free workflows and machines before the engine they came from.
 */
#ifndef STATENET_H
#define STATENET_H

#if defined(_WIN32)
#if defined(STATENET_BUILDING)
#define STATENET_C_API __declspec(dllexport)
#else
#define STATENET_C_API __declspec(dllimport)
#endif
#else
#define STATENET_C_API __attribute__((visibility("default")))
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum statenet_status {
    STATENET_OK = 0,
    STATENET_LOAD_ERROR = 1, /* the workflow does not load: every problem as file:line:col: message lines */
    STATENET_INVALID = 2,    /* bad arguments or JSON text */
    STATENET_NOT_FOUND = 3,  /* no such machine instance */
    STATENET_IO_ERROR = 4,   /* a file or store cannot be opened, read or written */
    STATENET_FAILED = 5      /* anything else (the message says what) */
} statenet_status;

typedef struct statenet_engine statenet_engine;
typedef struct statenet_workflow statenet_workflow;
typedef struct statenet_machines statenet_machines;

/* The library's version, e.g. "0.1.0" (static storage: do not free). Thread-safe. */
STATENET_C_API const char* statenet_version(void);

/* Frees a buffer this library returned (NULL does nothing). Thread-safe. */
STATENET_C_API void statenet_free(void* buffer);

/* A new engine with default options (sandboxed Lua). Returns NULL only when out of memory. */
STATENET_C_API statenet_engine* statenet_engine_new(void);
STATENET_C_API void statenet_engine_free(statenet_engine* engine);

/* Reloads every workflow and machine set loaded from files whose sources changed.
 * `*report_json`: {"ok": bool, "errors": ["file:line:col: message", ...]}. */
STATENET_C_API statenet_status statenet_engine_reload(statenet_engine* engine, char** report_json, char** error);

/* Loads a workflow file (.toml or .lua). */
STATENET_C_API statenet_status statenet_workflow_load(statenet_engine* engine, const char* path,
                                                      statenet_workflow** workflow, char** error);
STATENET_C_API void statenet_workflow_free(statenet_workflow* workflow);

/* Runs one record (a JSON object). `*result_json`: {"ok", "data", "final_state", "path",
 * "error"?, ...} as Result::to_value writes it. Thread-safe. */
STATENET_C_API statenet_status statenet_process(statenet_workflow* workflow, const char* record_json,
                                                char** result_json, char** error);

/* Runs a JSON array of records on `workers` threads (0 = one per core); `*results_json`
 * is the array of their results, in input order. Thread-safe. */
STATENET_C_API statenet_status statenet_process_batch(statenet_workflow* workflow, const char* records_json,
                                                      unsigned workers, char** results_json, char** error);

/* Streams a file of records (format from the extension: .jsonl .json .csv .txt, .gz/.zst)
 * into an output file; failed records go to `errors_path` (NULL: none kept).
 * `*stats_json`: {"total", "emitted", "excluded", "failed", "parked", "seconds"}. Thread-safe. */
STATENET_C_API statenet_status statenet_process_file(statenet_workflow* workflow, const char* input_path,
                                                     const char* output_path, const char* errors_path, unsigned workers,
                                                     char** stats_json, char** error);

/* Opens machine instances of a workflow over a SQLite store (`store_path`; NULL = in
 * memory, with a manual clock at 0). */
STATENET_C_API statenet_status statenet_machines_open(statenet_engine* engine, const char* workflow_path,
                                                      const char* store_path, statenet_machines** machines,
                                                      char** error);
STATENET_C_API void statenet_machines_free(statenet_machines* machines);

/* Starts instance `id` with `data_json` (a JSON object; NULL = {}). `*result_json`:
 * {"instance", "event", "status": "applied"|"rejected"|"duplicate", "from", "to", ...}. */
STATENET_C_API statenet_status statenet_machines_start(statenet_machines* machines, const char* id,
                                                       const char* data_json, char** result_json, char** error);

/* Sends `event` with `payload_json` (NULL = none) and an idempotency `key` (NULL = none).
 * STATENET_NOT_FOUND for an unknown instance. */
STATENET_C_API statenet_status statenet_machines_send(statenet_machines* machines, const char* id, const char* event,
                                                      const char* payload_json, const char* key, char** result_json,
                                                      char** error);

/* The instance: {"id", "state", "completed", "version", "since_ms", "data", ...}.
 * STATENET_NOT_FOUND for an unknown instance. */
STATENET_C_API statenet_status statenet_machines_show(statenet_machines* machines, const char* id, char** instance_json,
                                                      char** error);

/* Fires the timers due now; `*results_json` is the array of their results. */
STATENET_C_API statenet_status statenet_machines_tick(statenet_machines* machines, char** results_json, char** error);

/* Reloads the workflow when its files changed; `*report_json` as statenet_engine_reload
 * ({"ok": true, "changed": false} when nothing changed). */
STATENET_C_API statenet_status statenet_machines_reload(statenet_machines* machines, char** report_json, char** error);

/* Unacknowledged outbox messages (what transitions emitted with ctx.emit), oldest first:
 * those with a seq above `after_seq`, of `topic` only when it is not NULL, at most `limit`
 * (0 = all). `*messages_json`: [{"seq", "instance", "topic", "payload", "event", "time_ms"}, ...]. */
STATENET_C_API statenet_status statenet_machines_outbox(statenet_machines* machines, int64_t after_seq,
                                                        const char* topic, size_t limit, char** messages_json,
                                                        char** error);

/* Acknowledges the `count` outbox messages `seqs` (NULL when count is 0): they are no longer
 * listed, and pruning removes them. `*acknowledged` (when not NULL): how many of them were
 * unacknowledged before. */
STATENET_C_API statenet_status statenet_machines_ack(statenet_machines* machines, const int64_t* seqs, size_t count,
                                                     size_t* acknowledged, char** error);

/* The runs recorded in the execution history database `db_path`, oldest first; with a
 * `limit` (0 = all), the newest `limit`. `*runs_json`: [{"id", "run_id", "workflow", "ok",
 * "final_state", "error"?, "started_us", "duration_ns", "transitions", ...}, ...] as
 * `statenet history list --format json` writes them. STATENET_IO_ERROR when the database is
 * missing or is not a statenet history. Thread-safe (opens the database for the call). */
STATENET_C_API statenet_status statenet_history_runs(const char* db_path, size_t limit, char** runs_json, char** error);

#ifdef __cplusplus
}
#endif

#endif /* STATENET_H */
