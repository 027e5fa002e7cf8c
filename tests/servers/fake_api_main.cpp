// fake_api_server: FakeApi as a process for the CLI tests, the example and the
// benchmark. Prints its port on the first line of stdout, then serves until killed.
#include "fake_api.hpp"

#include <cstdio>

int main() {
    statenet_test::FakeApi api;
    const int port = api.bind();
    if (port <= 0) {
        std::fprintf(stderr, "fake_api_server: cannot bind 127.0.0.1\n");
        return 1;
    }
    std::printf("%d\n", port);
    std::fflush(stdout);
    api.serve();
    return 0;
}
