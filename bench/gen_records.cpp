// Generates the reference benchmark workload: N JSONL records of 10 fields, deterministic.
//
//   gen_records N [SEED] > records.jsonl
//
// About 5% of the records (chosen by the seeded generator, so the same N and SEED always
// give the same file) break one of the reference workflow's validators: a non-positive
// id, a negative amount or an email without '@'.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// splitmix64: tiny, fast, and identical on every platform (unlike std:: distributions).
struct rng {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
};

constexpr const char* currencies[] = {"EUR", "USD", "GBP", "CHF", "SEK"};
constexpr const char* statuses[] = {"new", "paid", "shipped", "cancelled"};
constexpr const char* countries[] = {"de", "fr", "it", "es", "nl", "pl", "se", "us", "gb", "ch"};
constexpr const char* sources[] = {"web", "app", "store", "partner"};

template <typename T, std::size_t N>
const char* pick(rng& r, T (&items)[N]) {
    return items[r.below(static_cast<unsigned>(N))];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s N [SEED] > records.jsonl\n", argv[0]);
        return 2;
    }
    const long long n = std::atoll(argv[1]);
    rng r{argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20260102ULL};

    std::string out;
    out.reserve(1 << 22);
    char line[512];
    for (long long i = 1; i <= n; ++i) {
        long long id = i;
        long long cents = 1 + r.below(100000);  // 0.01 .. 1000.00
        bool email_ok = true;
        if (r.below(100) < 5) {  // the failing ~5%, spread over the three validators
            switch (r.below(3)) {
            case 0: id = -id; break;
            case 1: cents = -cents; break;
            default: email_ok = false; break;
            }
        }
        // One draw per statement: argument evaluation order is unspecified in C++.
        const unsigned user = 1000 + r.below(90000);
        const unsigned quantity = 1 + r.below(9);
        const char* currency = pick(r, currencies);
        const char* status = pick(r, statuses);
        const char* country = pick(r, countries);
        const unsigned month = 1 + r.below(12);
        const unsigned day = 1 + r.below(28);
        const unsigned hour = r.below(24);
        const unsigned minute = r.below(60);
        const unsigned second = r.below(60);
        const char* source = pick(r, sources);
        const unsigned campaign = r.below(100);
        const char* sign = cents < 0 ? "-" : "";
        const long long abs_cents = cents < 0 ? -cents : cents;
        int len =
            std::snprintf(line, sizeof line,
                          "{\"id\":%lld,\"user_id\":%u,\"amount\":%s%lld.%02lld,\"quantity\":%u,\"currency\":\"%s\","
                          "\"status\":\"%s\",\"email\":\"u%u%sexample.com\",\"country\":\"%s\","
                          "\"created\":\"2026-%02u-%02uT%02u:%02u:%02uZ\","
                          "\"meta\":{\"source\":\"%s\",\"campaign\":\"c%u\"}}\n",
                          id, user, sign, abs_cents / 100, abs_cents % 100, quantity, currency, status, user,
                          email_ok ? "@" : ".", country, month, day, hour, minute, second, source, campaign);
        out.append(line, static_cast<std::size_t>(len));
        if (out.size() > (1 << 22) - 1024) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            out.clear();
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
}
