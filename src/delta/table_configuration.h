// TableConfiguration: a table's protocol and metadata, checked and interpreted.
//
// Raw `protocol` and `metaData` actions are validated once, here, into a value the rest of
// medallion reads (after delta-kernel-rs's TableConfiguration): the schema parsed, the reader
// protocol checked against what medallion implements, and the table properties medallion acts on
// parsed into typed fields with their defaults.
//
// Spec: PROTOCOL.md, "Protocol Evolution", "Table Features", "Reader Version Requirements",
// "Column Mapping", "Deletion Vectors", "In-Commit Timestamps", "Table Properties"; property names
// and defaults as Delta Lake documents them.
//
// Errors of Make:
//   NotSupported: the table needs a reader version above 3 ("table requires reader version 4, ...")
//     or a reader feature medallion does not implement ("table requires reader feature 'foo', which
//     medallion does not support"), or its schema uses an unknown type.
//   InvalidArgument: a table property medallion reads has a bad value; the message names the
//     property and the value ("delta.checkpointInterval: '0' is not a positive integer").
//   Corruption: the schema string is malformed, or a partition column is not in the schema.
//
// Thread-safety: immutable after Make; may be read from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"
#include "delta/schema.h"

namespace medallion::delta {

// Highest protocol versions medallion reads.
inline constexpr int32_t kMaxReaderVersion = 3;
inline constexpr int32_t kMaxWriterVersion = 7;

enum class ColumnMappingMode { kNone, kId, kName };
enum class CheckpointPolicy { kClassic, kV2 };

std::string_view ColumnMappingModeName(ColumnMappingMode mode);

// Table property names (PROTOCOL.md, "Table Properties" and the features' sections).
namespace props {
inline constexpr std::string_view kColumnMappingMode = "delta.columnMapping.mode";
inline constexpr std::string_view kEnableChangeDataFeed = "delta.enableChangeDataFeed";
inline constexpr std::string_view kCheckpointInterval = "delta.checkpointInterval";
inline constexpr std::string_view kLogRetentionDuration = "delta.logRetentionDuration";
inline constexpr std::string_view kDeletedFileRetentionDuration =
    "delta.deletedFileRetentionDuration";
inline constexpr std::string_view kDataSkippingNumIndexedCols = "delta.dataSkippingNumIndexedCols";
inline constexpr std::string_view kDataSkippingStatsColumns = "delta.dataSkippingStatsColumns";
inline constexpr std::string_view kAppendOnly = "delta.appendOnly";
inline constexpr std::string_view kEnableDeletionVectors = "delta.enableDeletionVectors";
inline constexpr std::string_view kEnableInCommitTimestamps = "delta.enableInCommitTimestamps";
inline constexpr std::string_view kInCommitTimestampEnablementVersion =
    "delta.inCommitTimestampEnablementVersion";
inline constexpr std::string_view kInCommitTimestampEnablementTimestamp =
    "delta.inCommitTimestampEnablementTimestamp";
inline constexpr std::string_view kCheckpointPolicy = "delta.checkpointPolicy";
}  // namespace props

// The properties medallion interprets, with Delta's defaults.
struct TableProperties {
  ColumnMappingMode column_mapping_mode = ColumnMappingMode::kNone;  // as written in the property
  bool enable_change_data_feed = false;
  int64_t checkpoint_interval = 10;                        // commits between checkpoints, > 0
  int64_t log_retention_ms = 30LL * 24 * 3600 * 1000;      // "interval 30 days"
  int64_t deleted_file_retention_ms = 7LL * 24 * 3600 * 1000;  // "interval 1 week"
  int64_t data_skipping_num_indexed_cols = 32;             // -1 means all columns
  std::optional<std::vector<std::string>> data_skipping_stats_columns;  // comma-separated names
  bool append_only = false;
  bool enable_deletion_vectors = false;
  bool enable_in_commit_timestamps = false;
  std::optional<int64_t> in_commit_timestamp_enablement_version;
  std::optional<int64_t> in_commit_timestamp_enablement_timestamp;  // ms since the epoch
  CheckpointPolicy checkpoint_policy = CheckpointPolicy::kClassic;
};

// Parses the interpreted properties out of a configuration map; unknown keys are ignored.
// InvalidArgument naming the property for a bad value.
Result<TableProperties> ParseTableProperties(const StringMap& configuration);

// "interval 7 days", "interval 1 week", "2 hours", "interval 1 day 12 hours", "100 milliseconds"
// -> milliseconds. Units: nanosecond(s), microsecond(s), millisecond(s), second(s), minute(s),
// hour(s), day(s), week(s) (also abbreviated: ms, sec, min, ...); case-insensitive. Months and
// years are rejected (their length varies). InvalidArgument otherwise.
Result<int64_t> ParseIntervalMs(std::string_view text);

// The reader features medallion implements (PROTOCOL.md, "Valid Feature Names in Table Features",
// plus typeWidening). Writer-only feature names are also accepted in readerFeatures.
bool IsSupportedReaderFeature(std::string_view feature);

class TableConfiguration {
 public:
  // Checks and interprets. Errors as in the header comment.
  static Result<TableConfiguration> Make(const Protocol& protocol, const Metadata& metadata);

  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  const Schema& schema() const { return schema_; }
  const TableProperties& properties() const { return properties_; }
  const std::vector<std::string>& partition_columns() const { return metadata_.partition_columns; }

  // Whether the protocol lists `feature` (in readerFeatures or writerFeatures).
  bool IsFeatureSupported(std::string_view feature) const;

  // The effective column mapping mode: the property, honored only when the protocol supports
  // column mapping (reader version 2, or 3 with the columnMapping feature); else kNone.
  ColumnMappingMode column_mapping_mode() const { return column_mapping_mode_; }
  // Deletion vectors may appear in the log (the deletionVectors feature is supported).
  bool deletion_vectors_supported() const { return IsFeatureSupported("deletionVectors"); }
  // In-commit timestamps are enabled (property set and the inCommitTimestamp feature supported).
  bool in_commit_timestamps_enabled() const;
  // The first version whose commit carries an in-commit timestamp (0 when enabled at creation);
  // nullopt when disabled.
  std::optional<int64_t> in_commit_timestamp_enablement_version() const;
  // Change data feed is enabled for writes at this version.
  bool change_data_feed_enabled() const { return properties_.enable_change_data_feed; }

 private:
  TableConfiguration() = default;

  Protocol protocol_;
  Metadata metadata_;
  Schema schema_;
  TableProperties properties_;
  ColumnMappingMode column_mapping_mode_ = ColumnMappingMode::kNone;
};

}  // namespace medallion::delta
