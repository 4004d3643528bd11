#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <string>

namespace medallion {
namespace {

std::shared_ptr<spdlog::logger> MakeLogger() {
  auto logger = spdlog::stderr_color_mt("medallion");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%t] %v");
  logger->set_level(spdlog::level::warn);
  if (const char* env = std::getenv("MEDALLION_LOG"); env != nullptr && *env != '\0') {
    auto level = spdlog::level::from_str(env);
    // from_str maps unknown names to "off"; only accept it when asked for.
    if (level != spdlog::level::off || std::string(env) == "off") logger->set_level(level);
  }
  return logger;
}

}  // namespace

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = MakeLogger();
  return *logger;
}

Status SetLogLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + std::string(level) +
                                   "' (use trace, debug, info, warn, error or off)");
  }
  Logger().set_level(parsed);
  return Status::OK();
}

}  // namespace medallion
