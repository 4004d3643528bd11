// Result<T>: either a value of type T or a non-OK Status (after arrow::Result).
//
// Use for fallible functions that produce a value. Propagate with the macros in macros.h:
//
//   Result<Snapshot> LoadSnapshot(...);
//   ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(...));
//
// Accessing the value of an error Result is a bug and aborts (it is checked in every build).
// Thread-safety: as for T.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/status.h"

namespace medallion {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "use Status, not Result<Status>");

 public:
  // A value.
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  // An error. Passing an OK status is a bug: it becomes an Internal error.
  Result(Status status)  // NOLINT: implicit by design
      : data_(std::in_place_index<1>,
              status.ok() ? Status::Internal("Result constructed from an OK Status") : std::move(status)) {}
  // Converting from a Result of a convertible type (e.g. unique_ptr<Derived> to unique_ptr<Base>).
  template <typename U>
    requires(std::is_convertible_v<U, T> && !std::is_same_v<U, T>)
  Result(Result<U> other)  // NOLINT: implicit by design
      : data_(other.ok() ? Data(std::in_place_index<0>, std::move(other).ValueOrDie())
                         : Data(std::in_place_index<1>, other.status())) {}

  bool ok() const { return data_.index() == 0; }
  // OK when holding a value.
  Status status() const { return ok() ? Status::OK() : std::get<1>(data_); }

  const T& ValueOrDie() const& {
    CheckOk();
    return std::get<0>(data_);
  }
  T& ValueOrDie() & {
    CheckOk();
    return std::get<0>(data_);
  }
  T ValueOrDie() && {
    CheckOk();
    return std::move(std::get<0>(data_));
  }
  const T& operator*() const& { return ValueOrDie(); }
  T& operator*() & { return ValueOrDie(); }
  T operator*() && { return std::move(*this).ValueOrDie(); }
  const T* operator->() const { return &ValueOrDie(); }
  T* operator->() { return &ValueOrDie(); }

  T ValueOr(T fallback) && { return ok() ? std::move(std::get<0>(data_)) : std::move(fallback); }

  // Adds context to an error (see Status::WithContext); a value passes through.
  Result<T> WithContext(std::string_view context) && {
    if (ok()) return std::move(*this);
    return std::get<1>(data_).WithContext(context);
  }

 private:
  using Data = std::variant<T, Status>;
  void CheckOk() const {
    if (!ok()) {
      std::fprintf(stderr, "medallion: value of an error Result accessed: %s\n",
                   std::get<1>(data_).ToString().c_str());
      std::abort();
    }
  }
  Data data_;
};

}  // namespace medallion
