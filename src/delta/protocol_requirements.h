// Protocol requirements of a write: which protocol a table's metadata needs, and whether medallion
// may write a table at a given protocol.
//
// PROTOCOL.md, "Protocol Evolution", "Table Features", "Writer Requirements", "Change Data Files",
// "Deletion Vectors", "Timestamp without timezone (TimestampNtz)".
//
// Protocol selection (`RequiredProtocol`), after what Delta Lake does:
//   - a new table starts at (1,2) (appendOnly and invariants are legacy writer-2 features);
//   - `delta.enableChangeDataFeed=true` needs writer version 4, or the `changeDataFeed` writer
//     feature when the protocol already uses table features (writer 7);
//   - a `timestamp_ntz` column anywhere in the schema needs (3,7) with the `timestampNtz` reader
//     and writer feature; `delta.enableDeletionVectors=true` needs (3,7) with `deletionVectors`;
//   - a CHECK constraint (`delta.constraints.*`) needs writer version 3, or the `checkConstraints`
//     writer feature; a column invariant needs writer version 2 (every table has it), or the
//     `invariants` writer feature;
//   - a protocol is never downgraded; when a legacy protocol must move to table features, every
//     feature its legacy versions implied is listed explicitly (writer 2: appendOnly, invariants;
//     3: + checkConstraints; 4: + changeDataFeed, generatedColumns; 5: + columnMapping;
//     6: + identityColumns; reader 2: columnMapping), as the spec requires.
//
// Write support (`CheckWriteSupported`): medallion's transactions do not see rows. Invariants and
// CHECK constraints are checked by the engine's writers (engine/delta_constraints.h) on every row
// they add; features that oblige a writer to compute values are accepted only while the table does
// not use them (no generated or identity columns; column mapping mode none).
// Features medallion cannot honor at all (rowTracking, inCommitTimestamp, v2Checkpoint, clustering,
// icebergCompat*, typeWidening, allowColumnDefaults, unknown ones) make the table read-only here.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "common/result.h"
#include "delta/actions.h"

namespace medallion::delta {

// Highest legacy writer version (without table features) and the table-features versions.
inline constexpr int32_t kTableFeaturesReaderVersion = 3;
inline constexpr int32_t kTableFeaturesWriterVersion = 7;

// The protocol a table with `metadata` needs, starting from `current` (nullopt: a new table, which
// starts at (1,2)). Returns `current` unchanged when it already suffices. InvalidArgument for a bad
// table property value or schema (naming it).
Result<Protocol> RequiredProtocol(const Metadata& metadata, const std::optional<Protocol>& current);

// OK when medallion may commit to a table with this protocol and metadata. NotSupported naming the
// feature (or the writer version) otherwise, e.g. "table requires writer feature 'rowTracking',
// which medallion cannot write". InvalidArgument for a malformed schema.
Status CheckWriteSupported(const Protocol& protocol, const Metadata& metadata);

// Whether the protocol supports `feature`, by its table-feature lists or, for a legacy protocol,
// by its versions (e.g. changeDataFeed for writer >= 4).
bool ProtocolSupportsFeature(const Protocol& protocol, std::string_view feature);

}  // namespace medallion::delta
