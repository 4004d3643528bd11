#include "storage/fault_injecting_object_store.h"

#include <algorithm>
#include <utility>

namespace medallion::storage {

std::string_view FaultInjectingObjectStore::OperationName(Operation op) {
  switch (op) {
    case Operation::kList:
      return "List";
    case Operation::kRead:
      return "Read";
    case Operation::kReadRange:
      return "ReadRange";
    case Operation::kWrite:
      return "Write";
    case Operation::kPutIfAbsent:
      return "PutIfAbsent";
    case Operation::kDelete:
      return "Delete";
    case Operation::kHead:
      return "Head";
  }
  return "Unknown";
}

FaultInjectingObjectStore::FaultInjectingObjectStore(ObjectStore* base) : base_(base) {}

FaultInjectingObjectStore::FaultInjectingObjectStore(std::unique_ptr<ObjectStore> base)
    : owned_(std::move(base)), base_(owned_.get()) {}

void FaultInjectingObjectStore::AddFault(Fault fault) {
  fault.nth = std::max<int64_t>(fault.nth, 1);
  fault.times = std::max<int64_t>(fault.times, 1);
  if (fault.status.ok()) fault.status = Status::Internal("fault programmed with an OK status");
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(ArmedFault{std::move(fault)});
}

void FaultInjectingObjectStore::FailNthCall(int64_t nth, Status status) {
  Fault fault;
  fault.nth = nth;
  fault.status = std::move(status);
  AddFault(std::move(fault));
}

void FaultInjectingObjectStore::FailNthCall(Operation op, int64_t nth, Status status) {
  Fault fault;
  fault.operation = op;
  fault.nth = nth;
  fault.status = std::move(status);
  AddFault(std::move(fault));
}

void FaultInjectingObjectStore::FailAfterWrite(Operation op, int64_t nth) {
  Fault fault;
  fault.operation = op;
  fault.nth = nth;
  fault.action = Action::kFailAfter;
  fault.status = Status::IOError("injected fault: reply to " + std::string(OperationName(op)) +
                                 " lost after it was carried out");
  AddFault(std::move(fault));
}

void FaultInjectingObjectStore::PartialWrite(Operation op, int64_t nth, int64_t bytes) {
  Fault fault;
  fault.operation = op;
  fault.nth = nth;
  fault.action = Action::kPartialWrite;
  fault.partial_bytes = bytes;
  fault.status = Status::IOError("injected fault: " + std::string(OperationName(op)) +
                                 " interrupted after " + std::to_string(bytes) + " bytes");
  AddFault(std::move(fault));
}

void FaultInjectingObjectStore::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

int64_t FaultInjectingObjectStore::CallCount(Operation op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

int64_t FaultInjectingObjectStore::TotalCallCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t total = 0;
  for (int64_t n : calls_) total += n;
  return total;
}

int64_t FaultInjectingObjectStore::InjectedFaultCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_;
}

void FaultInjectingObjectStore::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.fill(0);
  injected_ = 0;
}

std::optional<FaultInjectingObjectStore::Selected> FaultInjectingObjectStore::Select(
    Operation op, std::string_view key) {
  const bool is_write = op == Operation::kWrite || op == Operation::kPutIfAbsent;
  std::lock_guard<std::mutex> lock(mu_);
  ++calls_[static_cast<size_t>(op)];
  std::optional<Selected> selected;
  for (ArmedFault& armed : faults_) {
    const Fault& fault = armed.fault;
    if (fault.operation.has_value() && *fault.operation != op) continue;
    if (fault.action == Action::kPartialWrite && !is_write) continue;
    if (!key.starts_with(fault.key_prefix)) continue;
    ++armed.seen;
    if (!selected.has_value() && armed.seen >= fault.nth && armed.seen - fault.nth < fault.times) {
      selected = Selected{fault.action, fault.status, fault.partial_bytes};
    }
  }
  // Drop the faults that are used up.
  std::erase_if(faults_, [](const ArmedFault& armed) {
    return armed.fault.times != kEveryCall && armed.seen - armed.fault.nth + 1 >= armed.fault.times;
  });
  if (selected.has_value()) ++injected_;
  return selected;
}

template <typename Call>
auto FaultInjectingObjectStore::Run(Operation op, std::string_view key, Call call)
    -> decltype(call()) {
  std::optional<Selected> selected = Select(op, key);
  if (!selected.has_value()) return call();
  if (selected->action == Action::kFailAfter) {
    auto ignored = call();  // carried out; its reply is "lost"
    (void)ignored;
  }
  return selected->status;
}

template <typename WriteFn>
Status FaultInjectingObjectStore::RunWrite(Operation op, std::string_view key,
                                           std::string_view data, WriteFn write) {
  std::optional<Selected> selected = Select(op, key);
  if (!selected.has_value()) return write(data);
  switch (selected->action) {
    case Action::kFail:
      break;
    case Action::kFailAfter:
      (void)write(data);
      break;
    case Action::kPartialWrite: {
      auto bytes = static_cast<size_t>(
          std::clamp<int64_t>(selected->partial_bytes, 0, static_cast<int64_t>(data.size())));
      (void)write(data.substr(0, bytes));
      break;
    }
  }
  return selected->status;
}

Result<std::vector<ObjectMeta>> FaultInjectingObjectStore::List(std::string_view prefix) {
  return Run(Operation::kList, prefix, [&] { return base_->List(prefix); });
}

Result<std::vector<ObjectMeta>> FaultInjectingObjectStore::ListAfter(
    std::string_view prefix, std::string_view start_after) {
  return Run(Operation::kList, prefix, [&] { return base_->ListAfter(prefix, start_after); });
}

Result<std::string> FaultInjectingObjectStore::Read(std::string_view key) {
  return Run(Operation::kRead, key, [&] { return base_->Read(key); });
}

Result<std::string> FaultInjectingObjectStore::ReadRange(std::string_view key, int64_t offset,
                                                         int64_t length) {
  return Run(Operation::kReadRange, key, [&] { return base_->ReadRange(key, offset, length); });
}

Status FaultInjectingObjectStore::Write(std::string_view key, std::string_view data) {
  return RunWrite(Operation::kWrite, key, data,
                  [&](std::string_view bytes) { return base_->Write(key, bytes); });
}

Status FaultInjectingObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  return RunWrite(Operation::kPutIfAbsent, key, data,
                  [&](std::string_view bytes) { return base_->PutIfAbsent(key, bytes); });
}

Status FaultInjectingObjectStore::Delete(std::string_view key) {
  return Run(Operation::kDelete, key, [&] { return base_->Delete(key); });
}

Result<ObjectMeta> FaultInjectingObjectStore::Head(std::string_view key) {
  return Run(Operation::kHead, key, [&] { return base_->Head(key); });
}

Result<std::string> FaultInjectingObjectStore::LocalPath(std::string_view key) const {
  return base_->LocalPath(key);
}

std::string FaultInjectingObjectStore::Describe() const { return base_->Describe(); }

}  // namespace medallion::storage
