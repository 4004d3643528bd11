// FaultInjectingObjectStore: an ObjectStore wrapper that fails calls on request, for tests.
//
// It forwards every call to a wrapped store, except the calls that a programmed `Fault` selects
// (by operation, key prefix and position in the sequence of matching calls). A selected call can:
// - fail outright (kFail): the wrapped store is not called; the fault's status is returned;
// - fail after it happened (kFailAfter): the wrapped store is called, then the fault's status is
//   returned whatever it answered, as when a network drops the reply to a request the server
//   carried out. After such a Write or PutIfAbsent the object exists although the caller saw an
//   error: a Delta committer must cope (re-read the log and find its own commit);
// - write partially (kPartialWrite, Write and PutIfAbsent only): only the first `partial_bytes`
//   bytes reach the wrapped store (with the same operation), then the fault's status is returned.
//   This models a crash mid-write on a store without atomic writes. No real store medallion ships
//   behaves so (LocalObjectStore writes to a temporary file and renames or links it into place, so
//   it never exposes a partial object); it exists so readers' handling of torn objects (e.g. a
//   truncated commit JSON, a torn checkpoint) can be tested.
// It also counts calls per operation, failed or not.
//
// Faults count from when they are added: `nth` = 1 selects the next matching call. LocalPath and
// Describe are forwarded unchanged and are neither counted nor faultable.
//
// Ownership: either non-owning (the wrapped store must outlive this object) or owning (constructed
// from a unique_ptr); `base()` gives the wrapped store either way, e.g. to inspect what a failed
// write left behind without going through the faults.
//
// Thread-safety: every method may be called from any number of threads at once (the wrapped store
// must allow that too, as every ObjectStore does). Programming faults and reading counters are
// safe while other threads make calls; which call is "the nth" among concurrent ones is the order
// in which they reach the injector. The wrapped store is called without holding the injector's
// lock.
//
// Errors: a selected call returns its fault's status (which must not be OK); every other call
// returns what the wrapped store returns.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/object_store.h"

namespace medallion::storage {

class FaultInjectingObjectStore final : public ObjectStore {
 public:
  // The calls that can be counted and failed. Values index counters; not persisted.
  enum class Operation : int {
    kList = 0,
    kRead,
    kReadRange,
    kWrite,
    kPutIfAbsent,
    kDelete,
    kHead,
  };
  static constexpr int kNumOperations = 7;
  // "List", "Read", ... as in messages.
  static std::string_view OperationName(Operation op);

  enum class Action {
    kFail,          // return `status` without calling the wrapped store
    kFailAfter,     // call the wrapped store, then return `status` (a lost reply)
    kPartialWrite,  // store the first `partial_bytes` bytes, then return `status`
  };

  // `Fault::times` for a fault that never wears out.
  static constexpr int64_t kEveryCall = std::numeric_limits<int64_t>::max();

  struct Fault {
    // The operation it selects calls of; nullopt: any operation (kPartialWrite: Write and
    // PutIfAbsent only).
    std::optional<Operation> operation;
    // Only calls whose key (for List, whose prefix) starts with this; "" for every key.
    std::string key_prefix;
    // The nth matching call after AddFault is the first selected (1: the next one). >= 1.
    int64_t nth = 1;
    // How many matching calls in a row, from the nth, are selected; kEveryCall for all. >= 1.
    int64_t times = 1;
    Action action = Action::kFail;
    // What a selected call returns. Must not be OK.
    Status status = Status::IOError("injected fault");
    // kPartialWrite: how many leading bytes of the data reach the wrapped store (capped at its
    // size).
    int64_t partial_bytes = 0;
  };

  // Non-owning: `base` must outlive this object.
  explicit FaultInjectingObjectStore(ObjectStore* base);
  // Owning.
  explicit FaultInjectingObjectStore(std::unique_ptr<ObjectStore> base);
  FaultInjectingObjectStore(const FaultInjectingObjectStore&) = delete;
  FaultInjectingObjectStore& operator=(const FaultInjectingObjectStore&) = delete;

  // Programs a fault. When several faults select one call, the earliest added applies; each
  // counts every call it matches either way.
  void AddFault(Fault fault);
  // The nth call from now, of any operation, fails with `status` (kFail).
  void FailNthCall(int64_t nth, Status status);
  // The nth call of `op` from now fails with `status` (kFail).
  void FailNthCall(Operation op, int64_t nth, Status status);
  // The nth call of `op` from now (meant for kWrite, kPutIfAbsent, kDelete) is carried out, then
  // returns IOError (kFailAfter).
  void FailAfterWrite(Operation op, int64_t nth = 1);
  // The nth call of `op` (kWrite or kPutIfAbsent) from now stores only the first `bytes` bytes,
  // then returns IOError (kPartialWrite).
  void PartialWrite(Operation op, int64_t nth, int64_t bytes);
  // Removes every programmed fault (counters stay).
  void ClearFaults();

  // Calls of `op` since construction or ResetCounters, including failed ones.
  int64_t CallCount(Operation op) const;
  // Calls of every operation.
  int64_t TotalCallCount() const;
  // Calls a fault selected.
  int64_t InjectedFaultCount() const;
  void ResetCounters();

  // The wrapped store.
  ObjectStore* base() const { return base_; }

  Result<std::vector<ObjectMeta>> List(std::string_view prefix) override;
  // Counted and faulted as a List of `prefix` (Operation::kList).
  Result<std::vector<ObjectMeta>> ListAfter(std::string_view prefix,
                                            std::string_view start_after) override;
  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override;
  Status Write(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Status Delete(std::string_view key) override;
  Result<ObjectMeta> Head(std::string_view key) override;
  // Forwarded; not counted.
  Result<std::string> LocalPath(std::string_view key) const override;
  // The wrapped store's.
  std::string Describe() const override;

 private:
  struct ArmedFault {
    Fault fault;
    int64_t seen = 0;  // matching calls so far
  };
  // What a selected call must do.
  struct Selected {
    Action action;
    Status status;
    int64_t partial_bytes;
  };

  // Counts the call and returns the fault that selects it, if any.
  std::optional<Selected> Select(Operation op, std::string_view key);
  // Runs `call` (a call of the wrapped store) under the faults of kFail/kFailAfter kind.
  template <typename Call>
  auto Run(Operation op, std::string_view key, Call call) -> decltype(call());
  // Write and PutIfAbsent, which may also be partial.
  template <typename WriteFn>
  Status RunWrite(Operation op, std::string_view key, std::string_view data, WriteFn write);

  std::unique_ptr<ObjectStore> owned_;  // null when non-owning
  ObjectStore* const base_;

  mutable std::mutex mu_;
  std::vector<ArmedFault> faults_;                  // guarded by mu_, in the order added
  std::array<int64_t, kNumOperations> calls_ = {};  // guarded by mu_
  int64_t injected_ = 0;                            // guarded by mu_
};

}  // namespace medallion::storage
