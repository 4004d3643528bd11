// Actions: the records of the Delta log (PROTOCOL.md, "Actions").
//
// A commit file (`_delta_log/<version>.json`) holds one action per line, each a JSON object with one
// key naming the action ({"add": {...}}). A checkpoint row read through ParquetHandler has the same
// shape but one key per action column, all but one of them `null` (PROTOCOL.md, "Checkpoint
// Schema"). `ParseAction` reads both: `null` fields are absent, unknown fields and unknown actions
// are ignored (PROTOCOL.md, "Protocol Evolution": readers must ignore unrecognized fields and
// actions), and a row whose action columns are all null is no action.
//
// Parsing uses simdjson (log replay reads every action of a table); serialization
// (`SerializeAction`) writes one JSON line with the spec's field names, in the spec's order,
// omitting absent optional fields, so that ParseAction(SerializeAction(a)) == a.
//
// Errors: Corruption naming the file and line ("_delta_log/00000000000000000003.json line 2: add:
// missing required field 'size'") for malformed JSON, a required field that is missing or null, or a
// field of the wrong JSON type.
//
// Thread-safety: the action structs are plain values; the functions may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "delta/deletion_vector.h"

namespace medallion::delta {

// A partition value as stored: absent (std::nullopt) means SQL NULL (PROTOCOL.md, "Partition Value
// Serialization"; an empty string is also NULL there, but is kept as written here).
using PartitionValues = std::map<std::string, std::optional<std::string>>;
using StringMap = std::map<std::string, std::string>;

// PROTOCOL.md, "Protocol Evolution". Feature sets exist only for reader version 3 / writer version
// 7; absent otherwise.
struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  std::optional<std::set<std::string>> reader_features;
  std::optional<std::set<std::string>> writer_features;

  bool operator==(const Protocol&) const = default;
};

// PROTOCOL.md, "Change Metadata", "Format Specification".
struct Metadata {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string format_provider = "parquet";
  StringMap format_options;
  std::string schema_string;  // the schema as JSON text (schema.h parses it)
  std::vector<std::string> partition_columns;
  StringMap configuration;    // table properties (table_configuration.h interprets them)
  std::optional<int64_t> created_time;  // ms since the Unix epoch

  bool operator==(const Metadata&) const = default;
};

// PROTOCOL.md, "Add File and Remove File".
struct AddFile {
  std::string path;  // as in the log: a URI reference (see file_path.h)
  PartitionValues partition_values;
  int64_t size = 0;               // bytes
  int64_t modification_time = 0;  // ms since the Unix epoch
  bool data_change = true;
  std::optional<std::string> stats;  // the statistics JSON text ("Per-file Statistics")
  StringMap tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;

  bool operator==(const AddFile&) const = default;
};

struct RemoveFile {
  std::string path;
  std::optional<int64_t> deletion_timestamp;  // ms since the Unix epoch
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size;
  std::optional<std::string> stats;
  std::optional<StringMap> tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;

  bool operator==(const RemoveFile&) const = default;
};

// PROTOCOL.md, "Add CDC File".
struct AddCdcFile {
  std::string path;
  PartitionValues partition_values;
  int64_t size = 0;
  bool data_change = false;
  StringMap tags;

  bool operator==(const AddCdcFile&) const = default;
};

// PROTOCOL.md, "Transaction Identifiers".
struct Txn {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;  // ms since the Unix epoch

  bool operator==(const Txn&) const = default;
};

// PROTOCOL.md, "Commit Provenance Information". Free-form: the whole object is kept as JSON text;
// the fields medallion reads are also extracted.
struct CommitInfo {
  std::string raw_json = "{}";                // the commitInfo object, minified
  std::optional<int64_t> timestamp;           // ms since the Unix epoch, as the writer recorded
  std::optional<int64_t> in_commit_timestamp;  // PROTOCOL.md, "In-Commit Timestamps"
  std::optional<std::string> operation;       // "WRITE", "MERGE", ...

  bool operator==(const CommitInfo&) const = default;
};

// PROTOCOL.md, "Domain Metadata".
struct DomainMetadata {
  std::string domain;
  std::string configuration;
  bool removed = false;

  bool operator==(const DomainMetadata&) const = default;
};

// PROTOCOL.md, "Checkpoint Metadata" (V2 checkpoints only).
struct CheckpointMetadata {
  int64_t version = 0;
  StringMap tags;

  bool operator==(const CheckpointMetadata&) const = default;
};

// PROTOCOL.md, "Sidecar File Information" (V2 checkpoints only).
struct Sidecar {
  std::string path;  // usually a bare file name in _delta_log/_sidecars/
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;  // ms since the Unix epoch
  StringMap tags;

  bool operator==(const Sidecar&) const = default;
};

using Action = std::variant<Protocol, Metadata, AddFile, RemoveFile, AddCdcFile, Txn, CommitInfo,
                            DomainMetadata, CheckpointMetadata, Sidecar>;

// Where an action came from, for error messages: "<file> line <line>" (line is 1-based; 0 leaves
// the line out).
struct ActionSource {
  std::string_view file;
  int64_t line = 0;
};

// Parses one action line or checkpoint row. std::nullopt for a line/row that holds no action medallion
// knows (all action columns null, or only unknown actions). Whitespace-only lines are no action.
// Corruption as in the header comment.
Result<std::optional<Action>> ParseAction(std::string_view json, ActionSource source);

// Parses a whole newline-delimited commit file (or V2 JSON checkpoint), skipping empty lines and
// lines with no known action. Corruption as in the header comment, with the line number.
Result<std::vector<Action>> ParseActions(std::string_view ndjson, std::string_view file);

// The first commitInfo action of a commit file, or nullopt when it has none. Only the commitInfo
// line is validated (history must stay readable when another action of an old commit is invalid);
// Corruption for a malformed commitInfo line.
Result<std::optional<CommitInfo>> ParseFirstCommitInfo(std::string_view ndjson,
                                                       std::string_view file);

// One JSON line (no trailing newline), e.g. {"txn":{"appId":"a","version":3}}.
std::string SerializeAction(const Action& action);

// The action's key in the log ("add", "metaData", ...).
std::string_view ActionName(const Action& action);

}  // namespace medallion::delta
