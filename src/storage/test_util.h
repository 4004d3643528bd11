// Helpers for storage tests (and tests of modules above storage): a temporary folder that removes
// itself, and GoogleTest assertions for Status / Result<T>.
//
// Test-only: include from *_test.cc files, never from library code (it includes gtest).
// Thread-safety: TempFolder is not shared between threads; the macros are as GoogleTest's.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "common/macros.h"
#include "common/result.h"
#include "common/status.h"

namespace medallion::storage {
// For EXPECT_PRED_FORMAT1: success when `status` is OK, else a failure naming the expression.
inline ::testing::AssertionResult AssertStatusOk(const char* expr, const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << ": " << status.ToString();
}
}  // namespace medallion::storage

// Assert / expect that a Status or Result<T> is OK, printing the error otherwise. Messages may be
// streamed after them, as after EXPECT_TRUE.
#define ASSERT_OK(expr) \
  ASSERT_PRED_FORMAT1(::medallion::storage::AssertStatusOk, ::medallion::internal::ToStatus((expr)))
#define EXPECT_OK(expr) \
  EXPECT_PRED_FORMAT1(::medallion::storage::AssertStatusOk, ::medallion::internal::ToStatus((expr)))

// lhs = the value of a Result, or fail the test (fatally) with its error.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                                    \
  auto MEDALLION_CONCAT(_assert_result_, __LINE__) = (expr);                               \
  ASSERT_TRUE(MEDALLION_CONCAT(_assert_result_, __LINE__).ok())                            \
      << #expr << ": " << MEDALLION_CONCAT(_assert_result_, __LINE__).status().ToString(); \
  lhs = std::move(MEDALLION_CONCAT(_assert_result_, __LINE__)).ValueOrDie()

namespace medallion::storage {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempFolder {
 public:
  TempFolder() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/medallion-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    }
    path_ = pattern;
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  // Absolute, without a trailing '/'.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace medallion::storage
