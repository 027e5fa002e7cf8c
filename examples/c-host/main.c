/* A C host: loads a workflow and runs the records given on the command line through it,
 * printing each result as JSON. Usage: c_host WORKFLOW RECORD_JSON... */
#include <statenet/statenet.h>

#include <stdio.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s WORKFLOW RECORD_JSON...\n", argv[0]);
        return 2;
    }
    statenet_engine* engine = statenet_engine_new();
    statenet_workflow* workflow = NULL;
    char* error = NULL;
    if (statenet_workflow_load(engine, argv[1], &workflow, &error) != STATENET_OK) {
        fprintf(stderr, "%s\n", error); /* every problem, as file:line:col: message lines */
        statenet_free(error);
        statenet_engine_free(engine);
        return 2;
    }
    int status = 0;
    for (int i = 2; i < argc; ++i) {
        char* result = NULL;
        if (statenet_process(workflow, argv[i], &result, &error) != STATENET_OK) {
            fprintf(stderr, "record %d: %s\n", i - 1, error);
            statenet_free(error);
            status = 1;
            continue;
        }
        printf("%s\n", result);
        statenet_free(result);
    }
    statenet_workflow_free(workflow);
    statenet_engine_free(engine);
    return status;
}
