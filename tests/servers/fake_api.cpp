// FakeApi's routes. Every answer is a pure function of the request (and of per-key
// counters for the flaky and rate-limited routes), so tests can assert exact output.
//
//   GET  /items/N            {"id":N,"name":"item-N","price":N*1.5}; N = 404 answers 404
//   ANY  /echo[?status=N]    the request: method, path, query, headers, body, json
//   GET  /delay/MS           answers {"slept":MS} after MS milliseconds
//   GET  /flaky/KEY?fail=N   500 for KEY's first N calls, then {"ok":true,"attempts":n}
//   GET  /limited/KEY?n=N&after=S   429 + Retry-After: S for the first N calls, then 200
//   GET  /status/CODE        that status, body "status CODE body"
//   GET  /down, /health      500 / 503 while set down, else 200
//   PUT  /kv/KEY  DELETE /kv/KEY  GET /kv   a key-value store (bodies as text; GET: all
//                            of it as one object): effects a saga's compensations undo
//   POST /admin/down?on=1|0  sets down;  POST /admin/reset  clears counters and the store
//   GET  /stats              {"connections":C,"requests":R,"max_concurrent":M} since the last
//                            reset (M: the most /delay requests in progress at once)
//   POST /v1/chat/completions  answers "echo: <last user message>" (JSON mode:
//                            {"answer":...,"words":n}; "BADJSON" in the message: not JSON;
//                            "FENCE": JSON in a ```json fence; an agent's turn: "use tool
//                            NAME with ARG" in it gives {"tool":NAME,"input":ARG}, a message
//                            starting "Observation: X" {"answer":"final: X"}); usage counts words
//   POST /v1/embeddings      8-dim unit vectors from the texts' character classes; for
//                            model nomic-embed-text (examples/rag's Ollama model) 768-dim
//                            unit bags of words (lower-cased words hashed into buckets)
#include "fake_api.hpp"

#include <statenet/value.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <regex>
#include <sstream>
#include <vector>

namespace statenet_test {

namespace {

using statenet::Value;

void reply_json(httplib::Response& res, const Value& v, int status = 200) {
    res.status = status;
    res.set_content(v.to_json(), "application/json");
}

long long words(const std::string& text) {
    std::istringstream in(text);
    std::string word;
    long long n = 0;
    while (in >> word) ++n;
    return n;
}

int int_param(const httplib::Request& req, const char* name, int otherwise) {
    return req.has_param(name) ? std::stoi(req.get_param_value(name)) : otherwise;
}

Value unit_vector(const std::vector<double>& v) {
    double norm = 0;
    for (double x : v) norm += x * x;
    norm = norm > 0 ? std::sqrt(norm) : 1;
    Value out = Value::array();
    for (double x : v) out.push_back(std::round(x / norm * 1e6) / 1e6);
    return out;
}

// Similar texts (sharing words) get similar vectors, so retrieval works as with a model.
Value bag_of_words(const std::string& text, std::size_t dim) {
    std::vector<double> v(dim, 0.0);
    std::string word;
    auto add = [&] {
        if (word.size() < 3) return;       // drops "a", "of", "is": they match everything
        std::uint32_t hash = 2166136261u;  // FNV-1a
        for (unsigned char c : word) hash = (hash ^ c) * 16777619u;
        v[hash % dim] += 1;
    };
    for (unsigned char c : text) {
        if (std::isalnum(c)) {
            word += static_cast<char>(std::tolower(c));
        } else {
            add();
            word.clear();
        }
    }
    add();
    return unit_vector(v);
}

Value embedding(const std::string& text, const std::string& model) {
    if (model == "nomic-embed-text") return bag_of_words(text, 768);
    std::vector<double> v(8, 0.0);
    for (unsigned char c : text) v[c % 8] += 1;
    return unit_vector(v);
}

void chat(const httplib::Request& req, httplib::Response& res) {
    const Value body = Value::from_json(req.body);
    long long prompt_words = 0;
    std::string last;
    for (const Value& m : body["messages"].as_array()) {
        const std::string& content = m["content"].as_string();
        prompt_words += words(content);
        if (m["role"].as_string() == "user") last = content;
    }
    const Value* format = body.find("response_format");
    const bool json_mode = format && (*format)["type"].is_string() && (*format)["type"].as_string() == "json_object";
    std::string content;
    if (last.find("BADJSON") != std::string::npos) {
        content = "this is not json";
    } else if (json_mode && last.rfind("Observation: ", 0) == 0) {
        content = Value::object({{"answer", "final: " + last.substr(13)}, {"words", words(last)}}).to_json();
    } else if (std::smatch call;
               json_mode && std::regex_search(last, call, std::regex(R"(use tool (\w+) with (\S+))"))) {
        content = Value::object({{"tool", call[1].str()}, {"input", call[2].str()}}).to_json();
    } else if (json_mode) {
        content = Value::object({{"answer", last}, {"words", words(last)}}).to_json();
        if (last.find("FENCE") != std::string::npos) content = "```json\n" + content + "\n```";
    } else {
        content = "echo: " + last;
    }
    reply_json(
        res, Value::object({{"id", "chatcmpl-fake"},
                            {"object", "chat.completion"},
                            {"model", body["model"]},
                            {"choices", Value(Value::Array{Value::object(
                                            {{"index", 0},
                                             {"message", Value::object({{"role", "assistant"}, {"content", content}})},
                                             {"finish_reason", "stop"}})})},
                            {"usage", Value::object({{"prompt_tokens", prompt_words},
                                                     {"completion_tokens", words(content)},
                                                     {"total_tokens", prompt_words + words(content)}})}}));
}

void embeddings(const httplib::Request& req, httplib::Response& res) {
    const Value body = Value::from_json(req.body);
    Value::Array texts;
    if (body["input"].is_string()) texts.push_back(body["input"]);
    else texts = body["input"].as_array();
    Value data = Value::array();
    long long tokens = 0;
    const std::string model = body["model"].is_string() ? body["model"].as_string() : "";
    for (std::size_t i = 0; i < texts.size(); ++i) {
        tokens += words(texts[i].as_string());
        data.push_back(Value::object({{"object", "embedding"},
                                      {"index", static_cast<long long>(i)},
                                      {"embedding", embedding(texts[i].as_string(), model)}}));
    }
    reply_json(res, Value::object({{"object", "list"},
                                   {"data", data},
                                   {"model", body["model"]},
                                   {"usage", Value::object({{"prompt_tokens", tokens}, {"total_tokens", tokens}})}}));
}

}  // namespace

FakeApi::FakeApi() {
    server_.set_keep_alive_max_count(100000);
    server_.set_keep_alive_timeout(2);
    server_.set_tcp_nodelay(true);
    // A kept-alive connection holds a server thread: enough for 64 records in flight.
    server_.new_task_queue = [] {
        return new httplib::ThreadPool(160);
    };  // headers and body go out as two writes: no Nagle wait between them
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
        if (req.path != "/stats" && !req.path.starts_with("/admin/")) {
            ++requests_;
            std::lock_guard lock(mutex_);
            peers_.emplace(req.remote_addr, req.remote_port);
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    routes();
}

FakeApi::~FakeApi() { stop(); }

namespace {

// cpp-httplib listens with a backlog of 5: 64 records in flight connecting at once
// overflow it and wait out a SYN retry (1 s). listen() again on the bound socket, found
// by its port, raises the backlog.
void raise_backlog(int port) {
    for (int fd = 3; fd < 1024; ++fd) {
        sockaddr_in address{};
        socklen_t size = sizeof address;
        int listening = 0;
        socklen_t flag_size = sizeof listening;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0 || address.sin_family != AF_INET ||
            ntohs(address.sin_port) != port)
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &flag_size) == 0 && listening) ::listen(fd, 1024);
    }
}

}  // namespace

int FakeApi::bind() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ > 0) raise_backlog(port_);
    return port_;
}

void FakeApi::serve() { server_.listen_after_bind(); }

int FakeApi::start() {
    bind();
    thread_ = std::thread([this] { serve(); });
    // Connections queue on the bound socket until the thread accepts them.
    return port_;
}

void FakeApi::stop() {
    if (server_.is_running()) server_.stop();
    if (thread_.joinable()) thread_.join();
}

int FakeApi::connections() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(peers_.size());
}

void FakeApi::reset() {
    std::lock_guard lock(mutex_);
    peers_.clear();
    counts_.clear();
    kv_.clear();
    requests_ = 0;
    most_delaying_ = 0;
}

int FakeApi::next_count(const std::string& key) {
    std::lock_guard lock(mutex_);
    return ++counts_[key];
}

void FakeApi::routes() {
    server_.Get(R"(/items/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
        const long long id = std::stoll(req.matches[1]);
        if (id == 404) return reply_json(res, Value::object({{"error", "not found"}}), 404);
        reply_json(res, Value::object({{"id", id}, {"name", "item-" + std::to_string(id)}, {"price", id * 1.5}}));
    });
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
        Value headers = Value::object();
        for (const auto& [name, value] : req.headers) {
            std::string key = name;
            for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            headers.set(key, value);
        }
        Value query = Value::object();
        for (const auto& [name, value] : req.params) query.set(name, value);
        Value json;
        try {
            if (!req.body.empty()) json = Value::from_json(req.body);
        } catch (const std::exception&) {}
        reply_json(res,
                   Value::object({{"method", req.method},
                                  {"path", req.path},
                                  {"query", query},
                                  {"headers", headers},
                                  {"body", req.body},
                                  {"json", json}}),
                   int_param(req, "status", 200));
    };
    server_.Get("/echo", echo);
    server_.Post("/echo", echo);
    server_.Put("/echo", echo);
    server_.Patch("/echo", echo);
    server_.Delete("/echo", echo);
    server_.Get(R"(/delay/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
        const int ms = std::stoi(req.matches[1]);
        const int now = ++delaying_;
        for (int seen = most_delaying_.load(); now > seen && !most_delaying_.compare_exchange_weak(seen, now);) {}
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        --delaying_;
        reply_json(res, Value::object({{"slept", ms}}));
    });
    server_.Get(R"(/flaky/(\w+))", [this](const httplib::Request& req, httplib::Response& res) {
        const int n = next_count("flaky/" + std::string(req.matches[1]));
        if (n <= int_param(req, "fail", 1)) {
            res.status = 500;
            res.set_content("flaky failure " + std::to_string(n), "text/plain");
            return;
        }
        reply_json(res, Value::object({{"ok", true}, {"attempts", n}}));
    });
    server_.Get(R"(/limited/(\w+))", [this](const httplib::Request& req, httplib::Response& res) {
        const int n = next_count("limited/" + std::string(req.matches[1]));
        if (n <= int_param(req, "n", 1)) {
            res.status = 429;
            res.set_header("Retry-After", std::to_string(int_param(req, "after", 1)));
            res.set_content("slow down", "text/plain");
            return;
        }
        reply_json(res, Value::object({{"ok", true}, {"attempts", n}}));
    });
    server_.Get(R"(/status/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
        res.status = std::stoi(req.matches[1]);
        res.set_content("status " + std::string(req.matches[1]) + " body", "text/plain");
    });
    server_.Get("/down", [this](const httplib::Request&, httplib::Response& res) {
        if (down_) {
            res.status = 500;
            res.set_content("down", "text/plain");
        } else {
            reply_json(res, Value::object({{"ok", true}}));
        }
    });
    server_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
        res.status = down_ ? 503 : 200;
        res.set_content(down_ ? "unhealthy" : "healthy", "text/plain");
    });
    server_.Post("/admin/down", [this](const httplib::Request& req, httplib::Response& res) {
        down_ = int_param(req, "on", 1) != 0;
        reply_json(res, Value::object({{"down", down_.load()}}));
    });
    server_.Post("/admin/reset", [this](const httplib::Request&, httplib::Response& res) {
        reset();
        reply_json(res, Value::object({{"reset", true}}));
    });
    server_.Get("/stats", [this](const httplib::Request&, httplib::Response& res) {
        reply_json(res, Value::object({{"connections", connections()},
                                       {"requests", requests()},
                                       {"max_concurrent", most_delaying_.load()}}));
    });
    server_.Put(R"(/kv/([\w.-]+))", [this](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mutex_);
        kv_[req.matches[1]] = req.body;
        reply_json(res, Value::object({{"stored", std::string(req.matches[1])}}));
    });
    server_.Delete(R"(/kv/([\w.-]+))", [this](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mutex_);
        const bool found = kv_.erase(req.matches[1]) > 0;
        reply_json(res, Value::object({{"deleted", found}}), found ? 200 : 404);
    });
    server_.Get("/kv", [this](const httplib::Request&, httplib::Response& res) {
        std::lock_guard lock(mutex_);
        Value all = Value::object();
        for (const auto& [key, value] : kv_) all.set(key, value);
        reply_json(res, all);
    });
    server_.Post("/v1/chat/completions", [](const httplib::Request& req, httplib::Response& res) { chat(req, res); });
    server_.Post("/v1/embeddings", [](const httplib::Request& req, httplib::Response& res) { embeddings(req, res); });
}

}  // namespace statenet_test
