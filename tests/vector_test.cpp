// The vector resource: exact search per metric against a brute-force reference, filters,
// persistence, dimension errors, concurrent searches, and its Lua face in a workflow.
#include "failure_name.hpp"
#include "resources/binding.hpp"
#include "resources/vector_scan.hpp"
#include "resources/vector_store.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using statenet::Engine;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;
using statenet::detail::VectorConfig;
using statenet::detail::VectorMetric;
using statenet::detail::VectorStore;
using statenet_test::failure_name;
using statenet_test::TempDir;

namespace {

constexpr int dim = 37;  // not a multiple of the kernel's 16 lanes: the tail loop counts

std::vector<std::vector<float>> random_vectors(int count, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<std::vector<float>> out(static_cast<std::size_t>(count), std::vector<float>(dim));
    for (auto& v : out)
        for (auto& x : v) x = normal(rng);
    return out;
}

// The reference: every score in double precision, sorted; the ids of the k best.
std::vector<std::string> brute_force(const std::vector<std::vector<float>>& data, const std::vector<float>& q,
                                     VectorMetric metric, std::size_t k, int only_cat = -1) {
    std::vector<std::pair<double, int>> scored;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (only_cat >= 0 && static_cast<int>(i % 3) != only_cat) continue;
        double dot = 0, na = 0, nb = 0, l2 = 0;
        for (int d = 0; d < dim; ++d) {
            dot += double(data[i][d]) * q[d];
            na += double(data[i][d]) * data[i][d];
            nb += double(q[d]) * q[d];
            l2 += (double(data[i][d]) - q[d]) * (double(data[i][d]) - q[d]);
        }
        const double goodness = metric == VectorMetric::cosine ? dot / std::sqrt(na * nb)
                                : metric == VectorMetric::dot  ? dot
                                                               : -l2;
        scored.emplace_back(goodness, static_cast<int>(i));
    }
    std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < std::min(k, scored.size()); ++i) ids.push_back("v" + std::to_string(scored[i].second));
    return ids;
}

std::vector<std::string> ids_of(const std::vector<statenet::detail::VectorHit>& hits) {
    std::vector<std::string> ids;
    for (const auto& h : hits) ids.push_back(h.id);
    return ids;
}

std::shared_ptr<VectorStore> filled_store(const TempDir& dir, VectorMetric metric,
                                          const std::vector<std::vector<float>>& data) {
    auto store = VectorStore::open(VectorConfig{"vec", (dir / "vec.db").string(), dim, metric});
    for (std::size_t i = 0; i < data.size(); ++i)
        store->add("v" + std::to_string(i), data[i], Value::object({{"cat", static_cast<std::int64_t>(i % 3)}}));
    return store;
}

}  // namespace

TEST_CASE("vector - the kernels agree with the scalar loop") {
    auto data = random_vectors(50, 1);
    std::vector<float> rows;
    for (auto& v : data) rows.insert(rows.end(), v.begin(), v.end());
    std::vector<float> fast(50), slow(50);
    for (auto [kernel, reference] : {std::pair{&statenet::detail::dot_rows, &statenet::detail::dot_rows_scalar},
                                     std::pair{&statenet::detail::l2_rows, &statenet::detail::l2_rows_scalar}}) {
        kernel(rows.data(), 50, dim, data[7].data(), fast.data());
        reference(rows.data(), 50, dim, data[7].data(), slow.data());
        for (int i = 0; i < 50; ++i) CHECK(fast[i] == doctest::Approx(slow[i]).epsilon(1e-4));
    }
}

TEST_CASE("vector - search finds the brute-force top k for each metric, best first") {
    auto data = random_vectors(600, 2);
    auto queries = random_vectors(5, 3);
    for (VectorMetric metric : {VectorMetric::cosine, VectorMetric::dot, VectorMetric::l2}) {
        TempDir dir("statenet_vector_test");
        auto store = filled_store(dir, metric, data);
        CHECK(store->count() == 600);
        for (const auto& q : queries) {
            auto hits = store->search(q, 10, Value());
            CHECK(ids_of(hits) == brute_force(data, q, metric, 10));
            for (std::size_t i = 1; i < hits.size(); ++i)
                CHECK((metric == VectorMetric::l2 ? hits[i - 1].score <= hits[i].score
                                                  : hits[i - 1].score >= hits[i].score));
        }
        if (metric == VectorMetric::cosine) {  // a stored vector is its own best match, at similarity 1
            auto self = store->search(data[42], 1, Value());
            CHECK(self[0].id == "v42");
            CHECK(self[0].score == doctest::Approx(1.0).epsilon(1e-5));
        }
        if (metric == VectorMetric::l2) CHECK(store->search(data[9], 1, Value())[0].score == doctest::Approx(0.0));
    }
}

TEST_CASE("vector - a filter keeps only rows whose meta has every field equal") {
    TempDir dir("statenet_vector_test");
    auto data = random_vectors(300, 4);
    auto store = filled_store(dir, VectorMetric::dot, data);
    const auto q = random_vectors(1, 5)[0];
    auto hits = store->search(q, 7, Value::object({{"cat", 1}}));
    CHECK(ids_of(hits) == brute_force(data, q, VectorMetric::dot, 7, 1));
    for (const auto& h : hits) CHECK(h.meta["cat"].as_int() == 1);
    CHECK(store->search(q, 7, Value::object({{"cat", 9}})).empty());
    CHECK(store->search(q, 1000, Value()).size() == 300);  // k larger than the store
}

TEST_CASE("vector - adds, upserts and removes persist across a reopen") {
    TempDir dir("statenet_vector_test");
    auto data = random_vectors(50, 6);
    {
        auto store = filled_store(dir, VectorMetric::cosine, data);
        store->add("v3", data[10], Value::object({{"note", "moved"}}));  // upsert: same id, new vector
        CHECK(store->remove("v4"));
        CHECK(!store->remove("v4"));
        CHECK(store->count() == 49);
    }
    auto reopened = VectorStore::open(VectorConfig{"vec", (dir / "vec.db").string(), dim, VectorMetric::cosine});
    CHECK(reopened->count() == 49);
    auto hits = reopened->search(data[10], 2, Value());
    REQUIRE(hits.size() == 2);
    CHECK(((hits[0].id == "v3" && hits[1].id == "v10") || (hits[0].id == "v10" && hits[1].id == "v3")));
    CHECK(reopened->search(data[3], 50, Value::object({{"note", "moved"}}))[0].id == "v3");
    CHECK(ids_of(reopened->search(data[4], 1, Value()))[0] != "v4");
}

TEST_CASE("vector - wrong dimensions and bad vectors are named errors") {
    TempDir dir("statenet_vector_test");
    auto store = VectorStore::open(VectorConfig{"vec", (dir / "vec.db").string(), 3, VectorMetric::cosine});
    const std::vector<float> two = {1, 2}, zero = {0, 0, 0}, nan = {1, NAN, 0}, good = {1, 2, 3};
    CHECK(failure_name([&] { store->add("a", two, Value()); }) == "DimensionMismatch");
    CHECK(failure_name([&] { store->search(two, 1, Value()); }) == "DimensionMismatch");
    CHECK(failure_name([&] { store->add("a", zero, Value()); }) == "InvalidArgument");
    CHECK(failure_name([&] { store->add("a", nan, Value()); }) == "InvalidArgument");
    CHECK(failure_name([&] { store->add("", good, Value()); }) == "InvalidArgument");
    CHECK(failure_name([&] { store->add("a", good, Value(5)); }) == "InvalidArgument");
    store->add("a", good, Value());
    store.reset();
    CHECK(failure_name([&] {
              VectorStore::open(VectorConfig{"vec", (dir / "vec.db").string(), 4, VectorMetric::cosine});
          }) == "DimensionMismatch");
}

TEST_CASE("vector - concurrent searches see consistent results while another thread writes") {
    TempDir dir("statenet_vector_test");
    auto data = random_vectors(2000, 7);
    auto store = filled_store(dir, VectorMetric::cosine, data);
    auto queries = random_vectors(8, 8);
    std::vector<std::vector<std::string>> expected;
    for (const auto& q : queries) expected.push_back(ids_of(store->search(q, 5, Value())));
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int round = 0; round < 20; ++round) {
                const auto i = static_cast<std::size_t>((t + round) % 8);
                if (ids_of(store->search(queries[i], 5, Value())) != expected[i]) ++mismatches;
            }
        });
    threads.emplace_back([&] {  // writes far from every query's answers: the opposite directions
        for (int i = 0; i < 50; ++i) {
            std::vector<float> away = queries[static_cast<std::size_t>(i % 8)];
            for (auto& x : away) x = -x;
            store->add("w" + std::to_string(i), away, Value());
        }
    });
    for (auto& t : threads) t.join();
    CHECK(mismatches == 0);
    CHECK(store->count() == 2050);
}

TEST_CASE("vector - a workflow adds and searches through ctx.resources; workers share the store") {
    TempDir dir("statenet_vector_test");
    const std::string wf_text = "name = \"vec\"\n[resources.vec]\ntype = \"vector\"\npath = \"" +
                                (dir / "wf.db").string() +
                                "\"\ndim = 3\nmetric = \"l2\"\n"
                                "[networks.main.states.go]\nstart = true\nend = true\nresources = [\"vec\"]\n"
                                "transform = { lua = \"require('vecwork')[data.op](data, ctx)\" }\n";
    Engine engine;
    Workflow wf = engine.load_string(wf_text, statenet_test::exec_dir / "vec.toml");
    std::vector<Value> adds;
    for (int i = 0; i < 20; ++i)
        adds.push_back(Value::object({{"op", "add"},
                                      {"id", "p" + std::to_string(i)},
                                      {"vec", Value(Value::Array{Value(i), Value(0), Value(0)})},
                                      {"meta", Value::object({{"cat", i % 2}})}}));
    for (const auto& r : wf.process_batch(adds, {.workers = 2})) REQUIRE(r.ok);

    std::vector<Value> searches;
    for (int i = 0; i < 40; ++i)
        searches.push_back(Value::from_json(R"({"op": "search", "vec": [5.2, 0, 0], "k": 3, "filter": {"cat": 1}})"));
    for (const auto& r : wf.process_batch(searches, {.workers = 2})) {
        REQUIRE(r.ok);
        CHECK(r.data["ids"] == Value::from_json(R"(["p5", "p7", "p3"])"));
        CHECK(r.data["cats"] == Value::from_json("[1, 1, 1]"));
        CHECK(r.data["scores"][0].as_number() == doctest::Approx(0.2).epsilon(1e-5));
    }
    Result removed = wf.process(Value::from_json(R"({"op": "remove", "id": "p5"})"));
    REQUIRE(removed.ok);
    CHECK(removed.data["removed"].as_bool());
    CHECK(removed.data["count"].as_int() == 19);

    Result bad_dim = wf.process(Value::from_json(R"({"op": "bad_dim"})"));
    REQUIRE(bad_dim.ok);
    CHECK(bad_dim.data["name"].as_string() == "DimensionMismatch");
    // located at the calling line
    CHECK(bad_dim.data["message"].as_string().find(
              "vecwork.lua:28: vec: the vector has 2 numbers, the store has dim 3") != std::string::npos);
    Result bad_id = wf.process(Value::from_json(R"({"op": "bad_id", "vec": [1, 2, 3]})"));
    REQUIRE(!bad_id.ok);
    CHECK(bad_id.error->name == "InvalidArgument");
    CHECK(bad_id.error->message.find("the id must be a string or an integer, not table") != std::string::npos);
}

TEST_CASE("vector - declarations are checked at load") {
    Engine engine;
    try {
        engine.load_string(
            "name = \"v\"\n[resources.vec]\ntype = \"vector\"\npath = \"x.db\"\nmetric = \"cosin\"\n"
            "size = 3\n[networks.main.states.s]\nstart = true\nend = true\n",
            "/tmp/v.toml");
        FAIL("the load should fail");
    } catch (const statenet::LoadError& e) {
        const std::string text = e.what();
        CHECK(text.find("needs 'dim'") != std::string::npos);
        CHECK(text.find("unknown metric 'cosin'") != std::string::npos);
        CHECK(text.find("size") != std::string::npos);
    }
}
