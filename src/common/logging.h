// Logging: a thin layer over spdlog so every module logs the same way.
//
// Log lines go to stderr (stdout is for query results and summaries). The level comes from the
// environment variable MEDALLION_LOG (trace, debug, info, warn, error, off; default warn) or
// SetLogLevel. Thread-safety: all functions may be called from any thread (spdlog's mt sinks).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace medallion {

// The process-wide logger, created on first use.
spdlog::logger& Logger();

// Sets the level by name; InvalidArgument names the accepted levels when `level` is unknown.
Status SetLogLevel(std::string_view level);

}  // namespace medallion

#define MLOG_TRACE(...) ::medallion::Logger().trace(__VA_ARGS__)
#define MLOG_DEBUG(...) ::medallion::Logger().debug(__VA_ARGS__)
#define MLOG_INFO(...) ::medallion::Logger().info(__VA_ARGS__)
#define MLOG_WARN(...) ::medallion::Logger().warn(__VA_ARGS__)
#define MLOG_ERROR(...) ::medallion::Logger().error(__VA_ARGS__)
