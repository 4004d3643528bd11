// Propagation macros for Status and Result<T> (after arrow's RETURN_NOT_OK / ASSIGN_OR_RAISE).
//
//   RETURN_NOT_OK(expr);                 // return expr's Status if it is not OK
//   RETURN_NOT_OK_CTX(expr, "ctx");       // the same, with context prepended
//   ASSIGN_OR_RETURN(auto x, expr);       // x = value of a Result, or return its Status
//   ASSIGN_OR_RETURN_CTX(auto x, expr, "ctx");
//
// `expr` may be a Status or a Result<T>; both work in functions returning Status or Result<U>.
#pragma once

#include "common/result.h"
#include "common/status.h"

namespace medallion::internal {
inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace medallion::internal

#define MEDALLION_CONCAT_INNER(a, b) a##b
#define MEDALLION_CONCAT(a, b) MEDALLION_CONCAT_INNER(a, b)

#define RETURN_NOT_OK(expr)                                                   \
  do {                                                                        \
    ::medallion::Status _st = ::medallion::internal::ToStatus((expr));        \
    if (!_st.ok()) return _st;                                                \
  } while (false)

#define RETURN_NOT_OK_CTX(expr, context)                                      \
  do {                                                                        \
    ::medallion::Status _st = ::medallion::internal::ToStatus((expr));        \
    if (!_st.ok()) return _st.WithContext(context);                           \
  } while (false)

#define MEDALLION_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, ...)                  \
  auto tmp = (expr);                                                          \
  if (!tmp.ok()) return tmp.status() __VA_OPT__(.WithContext(__VA_ARGS__));   \
  lhs = std::move(tmp).ValueOrDie()

#define ASSIGN_OR_RETURN(lhs, expr) \
  MEDALLION_ASSIGN_OR_RETURN_IMPL(MEDALLION_CONCAT(_result_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_CTX(lhs, expr, context) \
  MEDALLION_ASSIGN_OR_RETURN_IMPL(MEDALLION_CONCAT(_result_, __LINE__), lhs, expr, context)
