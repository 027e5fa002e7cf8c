// The smallest statenet host: runs one JSON record through a workflow and prints the
// outcome. tests/install_test.sh builds it against an installed statenet with
// pkg-config, CMake and as a meson subproject.
#include <statenet/statenet.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s WORKFLOW RECORD_JSON\n", argv[0]);
        return 2;
    }
    try {
        statenet::Engine engine;
        statenet::Workflow workflow = engine.load(argv[1]);
        statenet::Result result = workflow.process(statenet::Value::from_json(argv[2]));
        std::string_view version = statenet::version();
        if (result.ok) {
            std::printf("statenet %.*s: ok %s %s\n", int(version.size()), version.data(), result.final_state.c_str(),
                        result.data.to_json().c_str());
            return 0;
        }
        std::printf("statenet %.*s: failed %s %s\n", int(version.size()), version.data(), result.final_state.c_str(),
                    result.error->name.c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
}
