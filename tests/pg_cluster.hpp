// A throwaway PostgreSQL cluster for the doctest cases (tests/pg_cluster.sh): started on
// first use, stopped when the test program exits. A test that needs it fails — never
// skips — when it cannot start.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace statenet_test {

class PgCluster {
public:
    PgCluster() {
        char dir[] = "/tmp/statenet-pg.XXXXXX";
        if (!::mkdtemp(dir)) throw std::runtime_error("cannot create a directory for the PostgreSQL cluster");
        dir_ = dir;
        const std::string command = script() + " start " + dir_ + " 2>&1";
        std::FILE* out = ::popen(command.c_str(), "r");
        if (!out) throw std::runtime_error("cannot run " + script());
        std::string text;
        char buffer[512];
        while (std::fgets(buffer, sizeof buffer, out)) text += buffer;
        const int status = ::pclose(out);
        while (!text.empty() && text.back() == '\n') text.pop_back();
        if (status != 0) {
            stop();
            throw std::runtime_error("cannot start a PostgreSQL cluster for the tests:\n" + text);
        }
        dsn_ = text;
    }
    ~PgCluster() { stop(); }
    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;

    /// libpq conninfo of the cluster's `postgres` database.
    const std::string& dsn() const noexcept { return dsn_; }

private:
    std::string dir_;
    std::string dsn_;

    static std::string script() { return std::string(STATENET_SOURCE_DIR) + "/tests/pg_cluster.sh"; }
    void stop() noexcept {
        const std::string command = script() + " stop " + dir_ + " >/dev/null 2>&1";
        [[maybe_unused]] const int ignored = std::system(command.c_str());
    }
};

/// The test program's cluster; throws (failing the calling test) when it cannot start.
inline const PgCluster& pg_cluster() {
    static const PgCluster cluster;
    return cluster;
}

}  // namespace statenet_test
