// The pipeline verbs of `medallion`, mirroring Spark Declarative Pipelines' `spark-pipelines` CLI
// (init, run, dry-run) plus `graph`:
//   medallion init --name N                 scaffold a working bronze/silver/gold project in ./N
//   medallion run [--spec F] [--full-refresh a,b] [--full-refresh-all] [--refresh a,b]
//                 [--parallelism N]          run one update; exit 1 when a flow failed
//   medallion dry-run [--spec F]            parse, resolve, bind every query; read/write nothing
//   medallion graph [--spec F] [--format text|dot|mermaid]
// Without --spec, the spec is found in the current folder or its parents (pipeline_spec.h).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace medallion::cli {

// Adds the subcommands to `app`. The returned function runs the one that was parsed and returns
// its exit code, or -1 when none of them was.
std::function<int()> AddPipelineCommands(CLI::App& app);

}  // namespace medallion::cli
