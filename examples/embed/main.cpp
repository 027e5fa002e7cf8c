// A C++ host embedding statenet: load a workflow, process records, inspect results.
//
//   embed_example WORKFLOW [JSON...]
//
// Prints one line per record: ok/failed, the final state and the resulting data.
#include <statenet/statenet.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s WORKFLOW [JSON...]\n", argv[0]);
        return 2;
    }
    statenet::Engine engine;
    try {
        statenet::Workflow workflow = engine.load(argv[1]);
        int failures = 0;
        for (int i = 2; i < argc; ++i) {
            statenet::Result result = workflow.process(statenet::Value::from_json(argv[i]));
            if (result.ok) {
                std::printf("ok %s %s\n", result.final_state.c_str(), result.data.to_json().c_str());
            } else {
                ++failures;
                std::printf("failed %s %s: %s\n", result.final_state.c_str(), result.error->name.c_str(),
                            result.error->message.c_str());
            }
        }
        return failures == 0 ? 0 : 1;
    } catch (const statenet::LoadError& e) {
        for (const auto& d : e.diagnostics()) std::fprintf(stderr, "%s\n", d.str().c_str());
        return 2;
    } catch (const statenet::JsonError& e) {
        std::fprintf(stderr, "bad JSON at byte %zu: %s\n", e.offset(), e.what());
        return 2;
    }
}
