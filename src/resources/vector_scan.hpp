// The vector store's inner loops: scores of a block of rows against one query.
// Pure functions over float32 rows; thread-safe. On x86-64 each is compiled twice (AVX2
// + FMA and the baseline) and the loader picks one for the CPU it runs on.
#pragma once

#include <cstddef>

namespace statenet::detail {

/// out[r] = dot(rows[r], query) for r < count; rows are `dim` floats each, contiguous.
void dot_rows(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept;
/// out[r] = squared L2 distance between rows[r] and query.
void l2_rows(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept;

/// The same scores by the plain scalar loop (one accumulator): the reference the tests
/// and the benchmark compare against.
void dot_rows_scalar(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept;
void l2_rows_scalar(const float* rows, std::size_t count, std::size_t dim, const float* query, float* out) noexcept;

}  // namespace statenet::detail
