// What every benchmark program under bench/ shares (header only): ending the run when a fixture
// cannot be built, the scratch folder its fixtures live in, and main().
//
// Thread-safety: fixtures are built from the benchmark thread, one at a time; nothing here locks.
#pragma once

#include <benchmark/benchmark.h>
#include <errno.h>  // program_invocation_short_name (glibc)
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/result.h"
#include "common/status.h"
#include "engine/database.h"

namespace medallion::bench {

// Prints "<program>: <what>: <status>" and exits 1: a benchmark without its fixture means nothing.
[[noreturn]] inline void Fail(std::string_view what, const Status& status) {
  std::fprintf(stderr, "%s: %.*s: %s\n", program_invocation_short_name,
               static_cast<int>(what.size()), what.data(), status.ToString().c_str());
  std::exit(1);
}

inline void Check(const Status& status, std::string_view what) {
  if (!status.ok()) Fail(what, status);
}

template <typename T>
T Unwrap(Result<T> result, std::string_view what) {
  if (!result.ok()) Fail(what, result.status());
  return std::move(result).ValueOrDie();
}

struct Scratch {
  std::filesystem::path dir;
  bool keep = false;  // $MEDALLION_BENCH_FIXTURES: left for the next run
};

inline std::optional<Scratch>& ScratchSlot() {
  static std::optional<Scratch> scratch;
  return scratch;
}

// The folder of the program's fixtures, made on first use: with `reusable` and
// $MEDALLION_BENCH_FIXTURES set, that folder, kept after the run so that the next run reuses what
// it finds there; otherwise a fresh folder under $TMPDIR, removed by RunBenchmarks at exit.
inline const std::filesystem::path& ScratchDir(bool reusable = false) {
  std::optional<Scratch>& scratch = ScratchSlot();
  if (!scratch) {
    const char* kept = std::getenv("MEDALLION_BENCH_FIXTURES");
    if (reusable && kept != nullptr && *kept != '\0') {
      scratch = Scratch{std::filesystem::absolute(kept), true};
      std::filesystem::create_directories(scratch->dir);
    } else {
      std::string name = (std::filesystem::temp_directory_path() /
                          (std::string("medallion-") + program_invocation_short_name + "-XXXXXX"))
                             .string();
      if (mkdtemp(name.data()) == nullptr) Fail("mkdtemp " + name, Status::IOError(name));
      scratch = Scratch{std::filesystem::path(name), false};
    }
  }
  return scratch->dir;
}

// main() of a Google Benchmark program: registers with `register_all`, records DuckDB's version in
// the context, runs what the flags select, and removes the scratch folder unless it is kept.
inline int RunBenchmarks(int argc, char** argv, void (*register_all)()) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::AddCustomContext("duckdb_version", engine::Database::LibraryVersion());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (auto& scratch = ScratchSlot(); scratch && !scratch->keep) {
    std::error_code ec;
    std::filesystem::remove_all(scratch->dir, ec);
  }
  return 0;
}

}  // namespace medallion::bench
