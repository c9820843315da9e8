#ifndef YIYUAN_ENGINE_ENUM_NAMES_H_
#define YIYUAN_ENGINE_ENUM_NAMES_H_

#include <array>
#include <cstddef>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

// Name tables for the engine's enums. Every table lists the names by enum number, with
// the unspecified value first and kUnknown (a number this build does not know) last.
namespace yiyuan::enum_names {

template <typename E, size_t N>
absl::string_view NameOf(const std::array<absl::string_view, N>& names, E v) {
  size_t i = static_cast<size_t>(v);
  return i < N ? names[i] : names[N - 1];
}

// Finds `name` (any case) among the specified values: never the first (unspecified)
// or the last (unknown) entry.
template <typename E, size_t N>
std::optional<E> Parse(const std::array<absl::string_view, N>& names, absl::string_view name) {
  for (size_t i = 1; i + 1 < N; ++i) {
    if (absl::EqualsIgnoreCase(names[i], name)) return static_cast<E>(i);
  }
  return std::nullopt;
}

// The value numbered `n`, or the last (unknown) value when `n` is out of range.
template <typename E, size_t N>
E FromNumber(const std::array<absl::string_view, N>&, int n) {
  if (n < 0 || n >= static_cast<int>(N) - 1) return static_cast<E>(N - 1);
  return static_cast<E>(n);
}

}  // namespace yiyuan::enum_names

#endif  // YIYUAN_ENGINE_ENUM_NAMES_H_
