/* The C ABI (include/statenet/statenet.h) from a C11 program: statuses, messages,
 * caller-freed buffers, workflows, batches, files and machines.
 * Usage: capi_test SOURCE_ROOT SCRATCH_DIR */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include <statenet/statenet.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        ++checks;                                                                    \
        if (!(cond)) {                                                               \
            ++failures;                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

static int contains(const char* text, const char* part) { return text && strstr(text, part) != NULL; }

static void path(char* out, size_t size, const char* dir, const char* name) {
    const int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "capi_test: path too long: %s/%s\n", dir, name);
        exit(2);
    }
}

static int remove_entry(const char* file, const struct stat* info, int flag, struct FTW* walk) {
    (void)info;
    (void)flag;
    (void)walk;
    return remove(file);
}

static void write_file(const char* file, const char* text) {
    FILE* f = fopen(file, "w");
    fputs(text, f);
    fclose(f);
}

/* The record's data in statenet_process's result, whatever became of the record: failed
 * (copy mode: as of its last successful state), excluded, parked, not an object. */
static void check_result_data(statenet_engine* engine, const char* scratch_root) {
    char scratch[2048], file[4096], passthrough[4096];
    path(scratch, sizeof scratch, scratch_root, "capi_XXXXXX");
    CHECK(mkdtemp(scratch) != NULL);
    path(file, sizeof file, scratch, "data.toml");
    path(passthrough, sizeof passthrough, scratch, "pass.toml");
    write_file(file,
               "name = \"data\"\ndata_mode = \"copy\"\n[history]\ndb = \"history.db\"\nlevel = \"runs\"\n"
               "[networks.main.states.a]\nstart = true\ntransform = { lua = \"data.seen = 'a'\" }\n"
               "[[networks.main.states.a.arcs]]\nto = \"b\"\n"
               "[networks.main.states.b]\n"
               "transform = { lua = \"data.half = 'b'; if data.fail then error('boom') end\" }\n"
               "[[networks.main.states.b.arcs]]\nto = \"waiting\"\nwhen = { lua = \"data.wait == true\" }\n"
               "[[networks.main.states.b.arcs]]\nto = \"hidden\"\nwhen = { lua = \"data.hide == true\" }\n"
               "[[networks.main.states.b.arcs]]\nto = \"done\"\n"
               "[networks.main.states.waiting]\nwait = { signal = \"go\" }\n"
               "[[networks.main.states.waiting.arcs]]\nto = \"done\"\n"
               "[networks.main.states.hidden]\nend = true\nemit = false\n"
               "[networks.main.states.done]\nend = true\n");
    write_file(passthrough, "name = \"pass\"\n[networks.main.states.a]\nstart = true\nend = true\n");
    statenet_workflow* workflow = NULL;
    char* error = NULL;
    char* result = NULL;
    CHECK(statenet_workflow_load(engine, file, &workflow, &error) == STATENET_OK);
    CHECK(statenet_process(workflow, "{\"id\": 1}", &result, &error) == STATENET_OK);
    CHECK(contains(result,
                   "{\"ok\":true,\"final_state\":\"main/done\",\"data\":{\"id\":1,\"half\":\"b\",\"seen\":\"a\"},"));
    CHECK(contains(result, "\"path\":[\"main/a\",\"main/b\",\"main/done\"],\"run_id\":\""));
    statenet_free(result);
    /* Failed in b's transform: the error is b's, the data as a left it. */
    CHECK(statenet_process(workflow, "{\"id\": 2, \"fail\": true}", &result, &error) == STATENET_OK);
    CHECK(
        contains(result, "{\"ok\":false,\"final_state\":\"main/b\",\"data\":{\"id\":2,\"fail\":true,\"seen\":\"a\"},"));
    CHECK(contains(result, "\"error\":{\"name\":\"LuaError\""));
    CHECK(contains(result, "boom"));
    statenet_free(result);
    /* Excluded: ok, not emitted, its data all the same. */
    CHECK(statenet_process(workflow, "{\"id\": 3, \"hide\": true}", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"data\":{\"id\":3,\"hide\":true,\"half\":\"b\",\"seen\":\"a\"}"));
    CHECK(contains(result, "\"emit\":false"));
    statenet_free(result);
    /* Parked: waiting for `go`, with the data it parked with. */
    CHECK(statenet_process(workflow, "{\"id\": 4, \"wait\": true}", &result, &error) == STATENET_OK);
    CHECK(contains(result, "{\"ok\":false,\"final_state\":\"main/waiting\",\"data\":{\"id\":4,\"wait\":true,"));
    CHECK(contains(result, "\"parked\":true,\"signal\":\"go\""));
    CHECK(!contains(result, "\"error\""));
    statenet_free(result);
    /* Not an object: the record itself is the data. */
    CHECK(statenet_process(workflow, "[1, 2]", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"data\":[1,2]"));
    CHECK(contains(result, "\"name\":\"SchemaViolation\""));
    statenet_free(result);
    statenet_workflow_free(workflow);
    /* Fields the run did not change keep their input spelling (the same JSON values). */
    CHECK(statenet_workflow_load(engine, passthrough, &workflow, &error) == STATENET_OK);
    CHECK(statenet_process(workflow, "{ \"a\" : 1.50, \"s\": \"\\u00e9\", \"n\": [1, 2] }", &result, &error) ==
          STATENET_OK);
    CHECK(contains(result, "\"data\":{\"a\":1.50,\"s\":\"\\u00e9\",\"n\":[1, 2]}"));
    statenet_free(result);
    CHECK(statenet_process(workflow, "{\"a\": 1,}", &result, &error) == STATENET_INVALID);
    CHECK(contains(error, "record_json is not valid JSON"));
    statenet_free(error);
    statenet_workflow_free(workflow);
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: capi_test SOURCE_ROOT SCRATCH_DIR\n");
        return 2;
    }
    /* A folder of this run's own under SCRATCH_DIR (two runs at once share nothing), removed at the end. */
    char scratch[2048];
    path(scratch, sizeof scratch, argv[2], "capi_run_XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("capi_test: mkdtemp");
        return 2;
    }
    char orders[4096], chat[4096], in[4096], out[4096], errs[4096], bad[4096], logged[4096], history[4096];
    path(orders, sizeof orders, argv[1], "examples/orders/orders.toml");
    path(chat, sizeof chat, argv[1], "examples/chat-session/chat_session.lua");
    path(in, sizeof in, scratch, "in.jsonl");
    path(out, sizeof out, scratch, "out.jsonl");
    path(errs, sizeof errs, scratch, "errors.jsonl");
    path(bad, sizeof bad, scratch, "bad.toml");
    path(logged, sizeof logged, scratch, "capi_logged.toml");
    path(history, sizeof history, scratch, "capi_history.db");
    remove(history);

    CHECK(strlen(statenet_version()) > 0);
    statenet_engine* engine = statenet_engine_new();
    CHECK(engine != NULL);
    char* error = (char*)1;
    char* result = NULL;

    /* A workflow that does not load: every problem, located. */
    FILE* f = fopen(bad, "w");
    fputs("name = \"bad\"\n[networks.main.states.a]\nstart = true\n[[networks.main.states.a.arcs]]\nto = \"nowhere\"\n",
          f);
    fclose(f);
    statenet_workflow* workflow = (statenet_workflow*)1;
    CHECK(statenet_workflow_load(engine, bad, &workflow, &error) == STATENET_LOAD_ERROR);
    CHECK(workflow == NULL);
    CHECK(contains(error, ":5:6: arc 'to': unknown state 'nowhere'"));
    statenet_free(error);
    CHECK(statenet_workflow_load(engine, NULL, &workflow, &error) == STATENET_INVALID);
    CHECK(contains(error, "path must not be NULL"));
    statenet_free(error);

    /* One record, a failing record, bad JSON. */
    CHECK(statenet_workflow_load(engine, orders, &workflow, &error) == STATENET_OK);
    CHECK(error == NULL);
    CHECK(statenet_process(workflow, "{\"id\": 1, \"amount\": 250}", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"ok\":true"));
    CHECK(contains(result, "\"total\":300"));
    statenet_free(result);
    /* The workflow routes a bad order to its `rejected` state (not emitted)... */
    CHECK(statenet_process(workflow, "{\"id\": 2}", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"final_state\":\"main/rejected\""));
    CHECK(contains(result, "\"emit\":false"));
    statenet_free(result);
    /* ...and a record that is not an object fails: not an API error either. */
    CHECK(statenet_process(workflow, "[1]", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"ok\":false"));
    CHECK(contains(result, "\"name\":\"SchemaViolation\""));
    statenet_free(result);
    CHECK(statenet_process(workflow, "{\"id\": ", &result, &error) == STATENET_INVALID);
    CHECK(contains(error, "record_json is not valid JSON"));
    statenet_free(error);

    /* A batch keeps input order. */
    CHECK(statenet_process_batch(workflow, "[{\"id\": 1, \"amount\": 250}, {\"id\": 2, \"amount\": 20}]", 2, &result,
                                 &error) == STATENET_OK);
    CHECK(contains(result, "\"total\":300"));
    CHECK(strstr(result, "\"total\":300") < strstr(result, "\"total\":24"));
    statenet_free(result);
    CHECK(statenet_process_batch(workflow, "{}", 1, &result, &error) == STATENET_INVALID);
    statenet_free(error);

    /* A file stream: outputs, failures to the errors file, the stats. */
    f = fopen(in, "w");
    fputs("{\"id\": 1, \"amount\": 250}\n{\"id\": 2, \"amount\": -5}\nnot json\n", f);
    fclose(f);
    CHECK(statenet_process_file(workflow, in, out, errs, 1, &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"total\":3"));
    CHECK(contains(result, "\"emitted\":1"));
    CHECK(contains(result, "\"excluded\":1"));
    CHECK(contains(result, "\"failed\":1"));
    statenet_free(result);
    CHECK(statenet_process_file(workflow, "/no/such/file.jsonl", out, NULL, 1, &result, &error) == STATENET_IO_ERROR);
    CHECK(contains(error, "/no/such/file.jsonl"));
    statenet_free(error);
    statenet_workflow_free(workflow);

    /* Machines: a store that cannot be opened, then in memory. */
    statenet_machines* machines = NULL;
    CHECK(statenet_machines_open(engine, chat, "/no/such/dir/m.db", &machines, &error) == STATENET_IO_ERROR);
    CHECK(contains(error, "/no/such/dir/m.db"));
    CHECK(machines == NULL);
    statenet_free(error);
    CHECK(statenet_machines_open(engine, bad, NULL, &machines, &error) == STATENET_LOAD_ERROR);
    CHECK(contains(error, ":5:6: arc 'to': unknown state 'nowhere'"));
    statenet_free(error);
    CHECK(statenet_machines_open(engine, chat, NULL, &machines, &error) == STATENET_OK);
    CHECK(statenet_machines_start(machines, "s1", "{\"user\": \"ana\"}", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"status\":\"applied\""));
    CHECK(contains(result, "\"to\":\"session/IDLE\""));
    statenet_free(result);
    CHECK(statenet_machines_send(machines, "s1", "start_update", NULL, "k1", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"to\":\"session/TASK_SELECTION\""));
    statenet_free(result);
    CHECK(statenet_machines_send(machines, "s1", "start_update", NULL, "k1", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"status\":\"duplicate\""));
    statenet_free(result);

    /* The outbox: the reply start_update emitted, read, acknowledged, gone. */
    CHECK(statenet_machines_outbox(machines, 0, "nothing-like-it", 0, &result, &error) == STATENET_OK);
    CHECK(strcmp(result, "[]") == 0);
    statenet_free(result);
    CHECK(statenet_machines_outbox(machines, 0, NULL, 0, &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"topic\":\"reply\""));
    CHECK(contains(result, "\"instance\":\"s1\""));
    CHECK(contains(result, "Which task are you updating?"));
    const char* seq = strstr(result, "\"seq\":");
    const int64_t first_seq = seq ? (int64_t)strtoll(seq + 6, NULL, 10) : -1;
    statenet_free(result);
    size_t acknowledged = 99;
    CHECK(statenet_machines_ack(machines, &first_seq, 1, &acknowledged, &error) == STATENET_OK);
    CHECK(acknowledged == 1);
    CHECK(statenet_machines_ack(machines, &first_seq, 1, &acknowledged, &error) == STATENET_OK);
    CHECK(acknowledged == 0);
    CHECK(statenet_machines_ack(machines, NULL, 1, &acknowledged, &error) == STATENET_INVALID);
    statenet_free(error);
    CHECK(statenet_machines_outbox(machines, 0, "reply", 0, &result, &error) == STATENET_OK);
    CHECK(!contains(result, "Which task are you updating?"));
    statenet_free(result);
    CHECK(statenet_machines_send(machines, "s1", "confirm", NULL, NULL, &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"status\":\"rejected\""));
    statenet_free(result);
    CHECK(statenet_machines_show(machines, "s1", &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"state\":\"session/TASK_SELECTION\""));
    CHECK(contains(result, "\"user\":\"ana\""));
    statenet_free(result);
    CHECK(statenet_machines_show(machines, "ghost", &result, &error) == STATENET_NOT_FOUND);
    CHECK(contains(error, "no machine instance 'ghost'"));
    statenet_free(error);
    CHECK(statenet_machines_send(machines, "ghost", "x", NULL, NULL, &result, &error) == STATENET_NOT_FOUND);
    statenet_free(error);
    CHECK(statenet_machines_tick(machines, &result, &error) == STATENET_OK);
    CHECK(strcmp(result, "[]") == 0);
    statenet_free(result);
    CHECK(statenet_machines_reload(machines, &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"changed\":false"));
    statenet_free(result);
    statenet_machines_free(machines);

    /* History: a workflow that records its runs, then the runs listed. */
    f = fopen(logged, "w"); /* its history db, relative to it: `history` */
    fputs(
        "name = \"logged\"\n[history]\ndb = \"capi_history.db\"\nlevel = \"runs\"\n"
        "[networks.main.states.a]\nstart = true\nend = true\n",
        f);
    fclose(f);
    CHECK(statenet_workflow_load(engine, logged, &workflow, &error) == STATENET_OK);
    for (int i = 0; i < 3; ++i) {
        CHECK(statenet_process(workflow, "{\"n\": 1}", &result, &error) == STATENET_OK);
        statenet_free(result);
    }
    statenet_workflow_free(workflow); /* commits its history */
    CHECK(statenet_history_runs(history, 2, &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"workflow\":\"logged\""));
    CHECK(contains(result, "\"final_state\":\"main/a\""));
    CHECK(contains(result, "\"id\":2") && contains(result, "\"id\":3") && !contains(result, "\"id\":1,"));
    statenet_free(result);
    CHECK(statenet_history_runs(out, 0, &result, &error) == STATENET_IO_ERROR);
    statenet_free(error);
    CHECK(statenet_history_runs(NULL, 0, &result, &error) == STATENET_INVALID);
    statenet_free(error);

    check_result_data(engine, scratch);

    CHECK(statenet_engine_reload(engine, &result, &error) == STATENET_OK);
    CHECK(contains(result, "\"ok\":true"));
    statenet_free(result);
    statenet_engine_free(engine);
    statenet_free(NULL);
    statenet_engine_free(NULL);

    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
