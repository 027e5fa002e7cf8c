// The files resource: rooted paths, escapes refused, staged writes that land on commit
// and vanish on rollback (single, retried steps, batch, manual), atomic replacement.
#include "failure_name.hpp"
#include "resources/binding.hpp"
#include "resources/files_resource.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

using statenet::Engine;
using statenet::EngineOptions;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;
using statenet::detail::FilesConfig;
using statenet::detail::FilesResource;
using statenet::detail::glob_match;
using statenet_test::failure_name;
using statenet_test::TempDir;

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

std::string workflow(const fs::path& root, const std::string& extra, const char* transform) {
    return "name = \"files\"\n" + extra + "\n[resources.files]\ntype = \"files\"\nroot = \"" + root.string() +
           "\"\n[networks.main.states.go]\nstart = true\nend = true\nresources = [\"files\"]\ntransform = \"" +
           transform + "\"\n";
}

std::vector<fs::path> files_under(const fs::path& root) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::recursive_directory_iterator(root))
        if (entry.is_regular_file()) found.push_back(fs::relative(entry.path(), root));
    std::sort(found.begin(), found.end());
    return found;
}

}  // namespace

TEST_CASE("files - globs: * and ? stay in a directory, ** crosses them") {
    CHECK(glob_match("*.txt", "a.txt"));
    CHECK(!glob_match("*.txt", "dir/a.txt"));
    CHECK(glob_match("**/*.txt", "a.txt"));
    CHECK(glob_match("**/*.txt", "dir/sub/a.txt"));
    CHECK(glob_match("dir/?.txt", "dir/a.txt"));
    CHECK(!glob_match("dir/?.txt", "dir/ab.txt"));
    CHECK(glob_match("**", "x/y/z"));
    CHECK(!glob_match("*.txt", "a.txt.bak"));
}

TEST_CASE("files - staged work is seen by reads, reaches the disk on commit, and vanishes on discard") {
    TempDir dir("statenet_files_test");
    FilesResource files(FilesConfig{"files", (dir / "root").string(), true});  // created when missing
    REQUIRE(fs::is_directory(dir / "root"));
    spit(dir / "root/keep.txt", "kept");
    files.write("new/a.txt", "A");
    files.append("keep.txt", "+more");
    CHECK(files.read("new/a.txt") == "A");
    CHECK(files.read("keep.txt") == "kept+more");
    CHECK(files.list("**") == std::vector<std::string>{"keep.txt", "new/a.txt"});
    CHECK(!fs::exists(dir / "root/new/a.txt"));
    CHECK(slurp(dir / "root/keep.txt") == "kept");
    files.discard();
    CHECK(!files.exists("new/a.txt"));
    CHECK(files.read("keep.txt") == "kept");

    const auto mark = files.mark();
    files.write("x.txt", "X");
    files.rollback_to(mark);
    CHECK(!files.exists("x.txt"));

    files.write("new/a.txt", "A");
    files.append("log.txt", "1\n");
    files.append("log.txt", "2\n");
    files.move("keep.txt", "moved/keep.txt");
    files.write("gone.txt", "G");
    files.remove("gone.txt");
    files.commit();
    CHECK(files.pending() == 0);
    CHECK(slurp(dir / "root/new/a.txt") == "A");
    CHECK(slurp(dir / "root/log.txt") == "1\n2\n");
    CHECK(slurp(dir / "root/moved/keep.txt") == "kept");
    CHECK(!fs::exists(dir / "root/keep.txt"));
    CHECK(!fs::exists(dir / "root/gone.txt"));
    CHECK(files.list("*.txt") == std::vector<std::string>{"log.txt"});
    CHECK(files.list("**/*.txt") == std::vector<std::string>{"log.txt", "moved/keep.txt", "new/a.txt"});
    CHECK(failure_name([&] { files.read("nope.txt"); }) == "FileNotFound");
    CHECK(failure_name([&] { files.remove("nope.txt"); }) == "FileNotFound");
    CHECK(failure_name([&] { files.move("nope.txt", "b.txt"); }) == "FileNotFound");
    CHECK(failure_name([&] { files.write("moved", "x"); }) == "InvalidArgument");  // a directory
    CHECK(failure_name([&] { files.move("log.txt", "new"); }) == "InvalidArgument");
}

TEST_CASE("files - a write replaces the file through a temp file and a rename") {
    TempDir dir("statenet_files_test");
    FilesResource files(FilesConfig{"files", dir.path().string(), true});
    spit(dir / "doc.txt", "old content");
    std::ifstream reader(dir / "doc.txt", std::ios::binary);  // holds the old file open
    files.write("doc.txt", "new content");
    files.commit();
    // A rename swaps in a new file: an open reader keeps the old one whole (an in-place
    // rewrite would have truncated what it reads).
    CHECK(std::string(std::istreambuf_iterator<char>(reader), std::istreambuf_iterator<char>()) == "old content");
    CHECK(slurp(dir / "doc.txt") == "new content");
    CHECK(files_under(dir.path()) == std::vector<fs::path>{"doc.txt"});  // no temp file left behind
}

TEST_CASE("files - absolute paths, '..' and symbolic links out of the root are refused") {
    TempDir dir("statenet_files_test");
    spit(dir / "outside/secret.txt", "secret");
    spit(dir / "root/inside.txt", "in");
    fs::create_directory_symlink(dir / "outside", dir / "root/link_out");
    fs::create_symlink(dir / "root/inside.txt", dir / "root/link_in.txt");
    FilesResource files(FilesConfig{"files", (dir / "root").string(), false});
    for (const char* path :
         {"../outside/secret.txt", "/etc/passwd", "a/../../outside/secret.txt", "..", "link_out/secret.txt"}) {
        CAPTURE(path);
        CHECK(failure_name([&] { files.read(path); }) == "PathEscape");
        CHECK(failure_name([&] { files.write(path, "x"); }) == "PathEscape");
    }
    CHECK(failure_name([&] { files.write("link_out/new.txt", "x"); }) == "PathEscape");
    CHECK(failure_name([&] { files.move("inside.txt", "link_out/stolen.txt"); }) == "PathEscape");
    CHECK(failure_name([&] { files.append("link_out/secret.txt", "x"); }) == "PathEscape");
    CHECK(files.read("link_in.txt") == "in");  // a link that stays inside is fine
    CHECK(files.read("./inside.txt") == "in");
    CHECK(failure_name([&] { files.read("./sub/../inside.txt"); }) == "PathEscape");
    files.commit();
    CHECK(slurp(dir / "outside/secret.txt") == "secret");
    CHECK(!fs::exists(dir / "outside/new.txt"));
    CHECK(failure_name([&] {
              FilesResource(FilesConfig{"files", (dir / "missing").string(), false});
          }) == "ResourceError");
}

TEST_CASE("files - single strategy: a record's writes land when it succeeds and vanish when it fails") {
    TempDir dir("statenet_files_test");
    Engine engine;
    Workflow wf = engine.load_string(workflow(dir.path(), "", "filework.write"), statenet_test::exec_dir / "f.toml");
    Result ok = wf.process(Value::from_json(R"({"id": 1})"));
    REQUIRE(ok.ok);
    CHECK(ok.data["seen"].as_string() == "record 1");  // read back through the stage
    CHECK(slurp(dir / "out/1.txt") == "record 1");
    Result failed = wf.process(Value::from_json(R"({"id": 2, "fail": true})"));
    REQUIRE(!failed.ok);
    CHECK(!fs::exists(dir / "out/2.txt"));
    CHECK(files_under(dir.path()) == std::vector<fs::path>{"out/1.txt"});
}

TEST_CASE("files - a failed step's writes are undone before its retry") {
    TempDir dir("statenet_files_test");
    Engine engine;
    std::string text = workflow(dir.path(), "", "filework.flaky") +
                       "[[networks.main.states.go.retry]]\nerrors = [\"*\"]\nattempts = 1\ninterval_ms = 0\n";
    Workflow wf = engine.load_string(text, statenet_test::exec_dir / "f.toml");
    REQUIRE(wf.process(Value::object()).ok);
    CHECK(files_under(dir.path()) == std::vector<fs::path>{"attempt1.txt"});
}

TEST_CASE("files - batch strategy: failed records drop their writes, the rest land at the batch's commit") {
    TempDir dir("statenet_files_test");
    Engine engine;
    Workflow wf = engine.load_string(
        workflow(dir.path(), "[transaction]\nstrategy = \"batch\"\nbatch_size = 4", "filework.write"),
        statenet_test::exec_dir / "f.toml");
    REQUIRE(wf.process(Value::from_json(R"({"id": 1})")).ok);
    REQUIRE(!wf.process(Value::from_json(R"({"id": 2, "fail": true})")).ok);
    REQUIRE(wf.process(Value::from_json(R"({"id": 3})")).ok);
    CHECK(!fs::exists(dir / "out"));  // the batch is still open
    REQUIRE(wf.process(Value::from_json(R"({"id": 4})")).ok);
    CHECK(files_under(dir.path()) == std::vector<fs::path>{"out/1.txt", "out/3.txt", "out/4.txt"});
    REQUIRE(wf.process(Value::from_json(R"({"id": 5})")).ok);
    CHECK(!fs::exists(dir / "out/5.txt"));
    wf.flush();
    CHECK(slurp(dir / "out/5.txt") == "record 5");
}

TEST_CASE("files - manual strategy: ctx.commit() lands the writes, the rest is dropped and logged") {
    TempDir dir("statenet_files_test");
    std::vector<std::string> warnings;
    std::mutex mutex;
    EngineOptions options;
    options.log = [&](const statenet::LogRecord& record) {
        std::lock_guard lock(mutex);
        if (record.level == statenet::LogLevel::warn) warnings.emplace_back(record.message);
    };
    Engine engine(options);
    Workflow wf =
        engine.load_string(workflow(dir.path(), "[transaction]\nstrategy = \"manual\"", "filework.commit_then_write"),
                           statenet_test::exec_dir / "f.toml");
    REQUIRE(wf.process(Value::object()).ok);
    CHECK(files_under(dir.path()) == std::vector<fs::path>{"first.txt"});
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("1 uncommitted file operation(s) on resource 'files' rolled back") != std::string::npos);
}

TEST_CASE("files - the Lua face: list, move, remove, and named, located errors") {
    TempDir dir("statenet_files_test");
    spit(dir / "docs/a.md", "a");
    spit(dir / "docs/b.txt", "b");
    Engine engine;
    auto run = [&](const char* transform, const char* json) {
        Workflow wf = engine.load_string(workflow(dir.path(), "", transform), statenet_test::exec_dir / "f.toml");
        return wf.process(Value::from_json(json));
    };
    Result listed = run("filework.list", R"({"glob": "docs/*.md"})");
    REQUIRE(listed.ok);
    CHECK(listed.data["listed"] == Value::from_json(R"(["docs/a.md"])"));
    Result moved = run("filework.move_and_remove", "{}");
    REQUIRE(moved.ok);
    CHECK(moved.data["b"].as_string() == "A");
    CHECK(!moved.data["a_exists"].as_bool());
    CHECK(!moved.data["c_exists"].as_bool());
    CHECK(slurp(dir / "sub/b.txt") == "A");
    CHECK(!fs::exists(dir / "a.txt"));
    Result escape = run("filework.try_read", R"({"path": "../etc/passwd"})");
    REQUIRE(escape.ok);
    CHECK(escape.data["name"].as_string() == "PathEscape");
    CHECK(escape.data["message"].as_string().find(
              "filework.lua:44: files: path '../etc/passwd' climbs out with '..'") != std::string::npos);
    Result missing = run("filework.try_read", R"({"path": "none.txt"})");
    CHECK(missing.data["name"].as_string() == "FileNotFound");
    Result absolute = run("filework.try_write", R"({"path": "/tmp/x"})");
    CHECK(absolute.data["name"].as_string() == "PathEscape");
}

TEST_CASE("files - declarations are checked at load; 'filesystem' points to 'files'") {
    Engine engine;
    try {
        engine.load_string(
            "name = \"f\"\n[resources.a]\ntype = \"filesystem\"\n[resources.b]\ntype = \"files\"\n"
            "create = 1\n[networks.main.states.s]\nstart = true\nend = true\n",
            "/tmp/f.toml");
        FAIL("the load should fail");
    } catch (const statenet::LoadError& e) {
        const std::string text = e.what();
        CHECK(text.find("unknown resource type 'filesystem' (did you mean 'files'?)") != std::string::npos);
        CHECK(text.find("'root'") != std::string::npos);
        CHECK(text.find("create") != std::string::npos);
    }
}
