// PipelineSpec: the pipeline spec file (`spark-pipeline.yml`), as Apache Spark 4.1's Spark
// Declarative Pipelines defines it (the `spark-pipelines` CLI, python/pyspark/pipelines/cli.py:
// find_pipeline_spec, load_pipeline_spec, unpack_pipeline_spec, validate_patch_glob_pattern).
//
// A spec is a YAML mapping in the project's root folder:
//
//   name: sales                        # required
//   storage: /var/lib/sales            # optional here (required by SDP 4.1): checkpoints etc.
//   catalog: main                      # default catalog for one-part and two-part names
//   database: sales                    # default schema; `schema` is an alias (not both)
//   configuration:                     # Spark configuration, string -> string
//     spark.sql.session.timeZone: UTC
//     medallion.lakehouse: /data/lake  # medallion's: where the Delta tables live (see below)
//   libraries:                         # the pipeline's source files
//     - glob:
//         include: transformations/**
//
// Fields and validation follow unpack_pipeline_spec: an unknown top-level field is an error, and
// `configuration` must map strings to strings: YAML scalars that PyYAML (YAML 1.1) reads as another
// type (5, 1.5, true, yes, off, null, 2024-01-01) are rejected as SDP rejects them; quote them.
// `definitions`, the name older SDP previews used for `libraries`, is accepted with the same shape.
// Each library glob must be a file path or a folder path ending in `/**` (SDP's
// validate_patch_glob_pattern: `transformations/**/*.sql` is rejected).
//
// Where the Delta tables live (`lakehouse`): `<root_dir>/lakehouse` unless the configuration key
// `medallion.lakehouse` names another folder (absolute, or relative to root_dir). It is a
// configuration value, not a new field, so the same spec still runs under `spark-pipelines`.
//
// Errors: every message starts with the SDP error class in brackets and ends with the spec file
// (and line, when one is known), e.g.
//   [PIPELINE_SPEC_UNEXPECTED_FIELD] Pipeline spec field "target" is unexpected ...
//   (/p/spark-pipeline.yml:3)
// SDP's classes: PIPELINE_SPEC_FILE_NOT_FOUND, MULTIPLE_PIPELINE_SPEC_FILES_FOUND,
// PIPELINE_SPEC_FILE_DOES_NOT_EXIST, PIPELINE_SPEC_UNEXPECTED_FIELD,
// PIPELINE_SPEC_MISSING_REQUIRED_FIELD, PIPELINE_SPEC_FIELD_NOT_DICT,
// PIPELINE_SPEC_DICT_KEY_NOT_STRING, PIPELINE_SPEC_DICT_VALUE_NOT_STRING,
// PIPELINE_SPEC_INVALID_GLOB_PATTERN. Where SDP fails without a class (a YAML syntax error, a
// malformed `libraries` entry) medallion uses its own: PIPELINE_SPEC_INVALID_YAML,
// PIPELINE_SPEC_NOT_DICT, PIPELINE_SPEC_FIELD_NOT_STRING, PIPELINE_SPEC_INVALID_LIBRARY,
// PIPELINE_SPEC_CONFLICTING_FIELDS, PIPELINE_SPEC_INVALID_LAKEHOUSE.
//
// Thread-safety: plain values and functions without shared state.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medallion::pipeline {

// The file names FindPipelineSpec looks for, in this order: SDP 4.1's two, then the names of the
// earlier SDP previews.
inline constexpr std::string_view kPipelineSpecFileNames[] = {
    "spark-pipeline.yml", "spark-pipeline.yaml", "pipeline.yml", "pipeline.yaml"};

// The configuration key that places the Delta tables, and the default folder (under root_dir).
inline constexpr std::string_view kLakehouseConfigurationKey = "medallion.lakehouse";
inline constexpr std::string_view kDefaultLakehouseFolder = "lakehouse";

struct PipelineSpec {
  std::filesystem::path path;          // the spec file, absolute and normalized
  std::filesystem::path root_dir;      // its folder: library globs and relative paths start here
  std::string name;                    // `name` (required, non-empty)
  std::optional<std::string> storage;  // `storage` as written (a path or URI); absent if not given
  std::string catalog;                 // `catalog`, "" if not given
  std::string schema;                  // `database` or `schema`, "" if not given
  std::map<std::string, std::string> configuration;  // `configuration`, including medallion.*
  std::vector<std::string> library_globs;  // each `glob: {include: ...}`, as written, in order
  std::filesystem::path lakehouse;         // absolute folder of the pipeline's Delta tables
};

// Looks in `start_dir`, then in each parent folder up to the root, for a file named one of
// kPipelineSpecFileNames (find_pipeline_spec). Returns its absolute path. Does I/O (stat).
//   NotFound "[PIPELINE_SPEC_FILE_NOT_FOUND] ...": no folder on the way holds one (or a folder
//     cannot be read), naming start_dir;
//   InvalidArgument "[MULTIPLE_PIPELINE_SPEC_FILES_FOUND] ...": the nearest folder that holds one
//     holds several (e.g. spark-pipeline.yml and spark-pipeline.yaml), naming them.
Result<std::filesystem::path> FindPipelineSpec(const std::filesystem::path& start_dir);

// Reads and validates the spec file (load_pipeline_spec). Does I/O (reads the file).
//   NotFound "[PIPELINE_SPEC_FILE_DOES_NOT_EXIST] ...": no such file (or it is a folder);
//   IOError: the file cannot be read;
//   InvalidArgument: a YAML syntax error (PIPELINE_SPEC_INVALID_YAML, naming file, line and
//     column) or any error of ParsePipelineSpec.
Result<PipelineSpec> LoadPipelineSpec(const std::filesystem::path& spec_file);

// Validates spec text already read (unpack_pipeline_spec), without I/O; `spec_file` is the path it
// came from (made absolute; root_dir is its folder). An empty document is an empty mapping.
// InvalidArgument with one of the classes listed at the top of this file.
Result<PipelineSpec> ParsePipelineSpec(std::string_view yaml_text,
                                       const std::filesystem::path& spec_file);

// Expands the library globs into the pipeline's source files (register_definitions): absolute,
// sorted, without duplicates, only `.sql` and `.py` files (extension case-insensitive; other files
// a glob matches, such as a README.md, are skipped). Does I/O (lists folders).
//   - a pattern without wildcards names a file, or a folder meaning every file under it;
//   - `*` and `?` match within one path component, `[abc]` / `[!abc]` one character of a set, and
//     `**` any number of folders; a trailing `/**` therefore means every file under the folder.
//     (LoadPipelineSpec only lets through what SDP accepts; the general forms serve specs built in
//     code.)
//   - listing a folder skips hidden entries (names starting with '.', e.g. .ipynb_checkpoints) and
//     `__pycache__`; a pattern naming a hidden file literally still finds it.
// Errors:
//   NotFound "library glob "x" matches no .sql or .py file ...": one pattern matches no source
//     file (SDP only logs "Found 0 files"; an empty pattern is almost always a typo);
//   NotSupported "Python pipeline sources are not supported (file ...): write the datasets in SQL";
//   IOError: a folder cannot be listed.
Result<std::vector<std::filesystem::path>> ResolveLibraries(const PipelineSpec& spec);

}  // namespace medallion::pipeline
