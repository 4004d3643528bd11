// Status: the outcome of a fallible operation, as a value.
//
// Every fallible function in medallion returns `Status` or `Result<T>` (result.h); exceptions are not
// used across module boundaries. A Status is either OK or carries a `StatusCode` and a message. As an
// error rises through the layers, callers add context with `WithContext` ("table silver.orders v42: "
// + the cause), so the message a person finally sees names the file, table, version or column involved.
//
// Codes are part of the contract of each API: a function documents which codes it returns and what each
// means for the caller (e.g. `Conflict` from a Delta commit means "another writer won; re-read and
// decide", `NotFound` from a storage read means "no such object"). Only cli/ and serve/ format a Status
// for people (`ToString`).
//
// Thread-safety: a Status is an immutable value; copies may be used from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace medallion {

// The kind of failure. Values are stable (they may be persisted in run records): never renumber.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // the caller's input is malformed or violates a precondition
  kNotFound = 2,         // a named object (file, table, column, version) does not exist
  kAlreadyExists = 3,    // an object that must be new exists (e.g. put-if-absent lost)
  kIOError = 4,          // the operating system or a remote store failed; may be transient
  kCorruption = 5,       // persisted data violates its format (a bad Delta log, a torn file)
  kNotSupported = 6,     // valid input that uses a feature medallion does not implement
  kConflict = 7,         // a concurrent writer won (Delta optimistic concurrency)
  kCancelled = 8,        // the operation was interrupted on request
  kInternal = 9,         // a bug: an invariant of medallion itself does not hold
  kAborted = 10,         // stopped before committing because a check of its own input failed;
                         // nothing was changed and the caller may retry another way
};

// "OK", "InvalidArgument", ... as used in messages.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // OK.
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {StatusCode::kNotSupported, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  // An IOError carrying strerror(errno_value) after `what` ("open /x/y: No such file or directory").
  static Status FromErrno(int errno_value, std::string_view what);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message without the code name; empty when OK.
  const std::string& message() const;

  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }
  bool IsIOError() const { return code() == StatusCode::kIOError; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsNotSupported() const { return code() == StatusCode::kNotSupported; }
  bool IsConflict() const { return code() == StatusCode::kConflict; }
  bool IsCancelled() const { return code() == StatusCode::kCancelled; }
  bool IsInternal() const { return code() == StatusCode::kInternal; }

  // The same code with "<context>: <message>". OK stays OK.
  Status WithContext(std::string_view context) const;

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  bool operator==(const Status& other) const {
    return code() == other.code() && message() == other.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  // nullptr when OK, so an OK Status costs one pointer and no allocation.
  std::shared_ptr<const State> state_;
};

}  // namespace medallion
