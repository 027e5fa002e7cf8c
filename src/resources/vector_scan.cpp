// Vectorised exact-search kernels. Sixteen independent accumulators let g++ -O3 turn
// the inner loop into packed multiply-adds without -ffast-math (a single accumulator is
// a reduction it may not reorder).
#include "resources/vector_scan.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STATENET_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define STATENET_MULTIVERSION
#endif

namespace statenet::detail {

namespace {

constexpr std::size_t lanes = 16;

// `term(a, b)` summed over a row, for each row; inlined into each target's copy.
template <typename Term>
[[gnu::always_inline]] inline void scan_rows(const float* rows, std::size_t count, std::size_t dim, const float* query,
                                             float* out, Term term) noexcept {
    for (std::size_t r = 0; r < count; ++r) {
        const float* row = rows + r * dim;
        float acc[lanes] = {};
        std::size_t i = 0;
        for (; i + lanes <= dim; i += lanes)
            for (std::size_t j = 0; j < lanes; ++j) acc[j] += term(row[i + j], query[i + j]);
        float sum = 0;
        for (; i < dim; ++i) sum += term(row[i], query[i]);
        for (std::size_t j = 0; j < lanes; ++j) sum += acc[j];
        out[r] = sum;
    }
}

// The multiversioned copies have internal linkage: g++ gives a target_clones
// dispatcher of an external function default visibility whatever -fvisibility says, so
// it would be exported from libstatenet.
STATENET_MULTIVERSION
void dot_kernel(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept {
    scan_rows(rows, count, dim, query, out, [](float a, float b) { return a * b; });
}

STATENET_MULTIVERSION
void l2_kernel(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept {
    scan_rows(rows, count, dim, query, out, [](float a, float b) { return (a - b) * (a - b); });
}

}  // namespace

void dot_rows(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept {
    dot_kernel(rows, count, dim, query, out);
}

void l2_rows(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept {
    l2_kernel(rows, count, dim, query, out);
}

void dot_rows_scalar(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) {
        double sum = 0;
        for (std::size_t i = 0; i < dim; ++i) sum += double(rows[r * dim + i]) * double(query[i]);
        out[r] = static_cast<float>(sum);
    }
}

void l2_rows_scalar(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) {
        double sum = 0;
        for (std::size_t i = 0; i < dim; ++i) {
            const double d = double(rows[r * dim + i]) - double(query[i]);
            sum += d * d;
        }
        out[r] = static_cast<float>(sum);
    }
}

}  // namespace statenet::detail
