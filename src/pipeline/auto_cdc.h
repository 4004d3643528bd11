// AUTO CDC (formerly APPLY CHANGES): applying one batch of change events to the current state of
// an AUTO CDC target, stored as SCD type 1 or SCD type 2. This is the semantic core only: it reads
// and writes TEMP tables on one engine::Connection and does no I/O. The flow executor reads the
// target and the hidden state, calls ApplyAutoCdc once per batch, and writes the output to Delta.
//
// Reference: Databricks, "AUTO CDC INTO (pipelines)" and "The AUTO CDC APIs: Simplify change data
// capture with pipelines" (the userId 123..126 examples are the golden tests in auto_cdc_test.cc),
// and the pipeline table property `pipelines.cdc.tombstoneGCThresholdInSeconds`.
//
// Semantics (where Databricks' documentation is silent, the choice is marked "medallion:"):
//
//  * Events. Each source row is one event for the key given by KEYS. It is a TRUNCATE when the
//    APPLY AS TRUNCATE WHEN condition is true, else a DELETE when APPLY AS DELETE WHEN is true,
//    else an upsert (a NULL condition is false). Its sequence is the SEQUENCE BY expression, or
//    for SEQUENCE BY STRUCT(a, b) the struct {a, b}, ordered by a then b (fields are named after
//    the columns, or col<N> for other expressions, as Spark's struct() names them). A NULL
//    sequence, or a NULL field of the struct, is InvalidArgument naming the event's key
//    (Databricks: "NULL sequencing values are unsupported"). NULL key values are ordinary values:
//    keys match with IS NOT DISTINCT FROM.
//  * Ties (medallion:). Databricks expects one event per key and sequence value. Events of one
//    key with equal sequences resolve deterministically: a TRUNCATE wins over everything at its
//    sequence, a DELETE over an upsert, and among upserts the one whose target values are
//    greatest, compared column by column in target order (DESC, NULLS LAST). In SCD type 2 this
//    holds across batches too. In SCD type 1 an upsert whose sequence equals the key's latest
//    applied sequence is ignored (the first applied wins); a DELETE at that sequence still wins.
//  * Columns. COLUMNS (a, b) keeps those source columns, in that order; COLUMNS * EXCEPT (a, b)
//    keeps the others, in source order; without COLUMNS, every source column. Names match
//    case-insensitively and take the source's spelling. medallion: the KEYS must be kept (a
//    COLUMNS list without a key, or an EXCEPT naming one, is InvalidArgument), and an unknown name
//    is InvalidArgument. SCD type 2 appends __START_AT and __END_AT, typed like the sequence.
//  * SCD type 1. A key's row is the latest event's: an upsert writes its values, a DELETE removes
//    the row and leaves a tombstone (key, sequence) in the state. Events of one batch apply in
//    sequence order. An event whose sequence is not above the key's latest applied sequence (a
//    row's or a tombstone's) is late and ignored: it never overwrites newer state. Tombstones
//    recorded more than `tombstone_gc_threshold_seconds` before `now_ms` are purged before the
//    batch applies, after which an older upsert for that key applies again (as on Databricks).
//  * TRUNCATE (SCD type 1 only; InvalidArgument with SCD type 2, as on Databricks). A TRUNCATE at
//    sequence t removes every row whose latest event is at or below t; events above t still
//    apply, events at or below t (in this or a later batch) are ignored. When a batch raises the
//    truncate point, the output replaces the whole target (`truncated`).
//  * SCD type 2. Each key's history is a list of versions [__START_AT, __END_AT); the current one
//    has __END_AT NULL. The history is a pure function of the set of events applied so far, so a
//    late event is spliced in at its place and its neighbours' bounds are rewritten. Replaying the
//    key's events in sequence order: an upsert opens a new version (closing the current one at
//    its sequence) unless its tracked columns equal the current version's, in which case it
//    updates the current version in place (so an identical update opens no version: Databricks
//    keeps history only for changes to tracked columns); a DELETE closes the current version at
//    its sequence (__END_AT = the delete's sequence) and does nothing when there is none.
//    TRACK HISTORY ON cols | * EXCEPT (cols) chooses the tracked columns; by default every
//    non-key target column is tracked.
//  * IGNORE NULL UPDATES [ON cols | * EXCEPT (cols)]. A NULL in an affected column of an upsert
//    keeps the value of the key's current row / version (without ON: every non-key column). After
//    a DELETE or TRUNCATE there is no current row, so NULLs stay NULL. medallion: in SCD type 1 a
//    late partial update is ignored like any late event, so the result can depend on arrival
//    order; in SCD type 2 it does not.
//  * Metrics, as Databricks' flow_progress reports them per batch (medallion: counted on the
//    target rows written): num_upserted_rows = output rows that are new or changed;
//    num_deleted_rows = existing rows removed without a row of the same identity replacing them
//    (SCD1 identity: the key; SCD2: the key and __START_AT). Rows whose content does not change
//    are neither rewritten nor counted.
//
// Hidden state (`state_table`): a TEMP table or view with these columns, one row per record:
//   <key columns>                 typed as in the source; NULL for the truncate record
//   __cdc_event        VARCHAR    'upsert' | 'delete' | 'truncate'
//   __cdc_seq          <sequence> the event's sequence (a STRUCT for SEQUENCE BY STRUCT(...))
//   __cdc_recorded_at_ms BIGINT   `now_ms` of the batch that recorded it (tombstone GC)
//   SCD type 2 only: <non-key target columns>, the event's own values (before IGNORE NULL
//                                 UPDATES merges), NULL for deletes
//  SCD type 1: per key one 'upsert' record (the key has a row; its latest applied sequence) or
//  one 'delete' record (a tombstone), plus at most one 'truncate' record (the highest truncate
//  sequence). Records at or below the truncate point are dropped.
//  SCD type 2: the events a key's target rows cannot reproduce, so that its history can be
//  replayed exactly: every DELETE that closes no version (one that closes a version is implied
//  by the gap after that version), and every upsert that did not open a version or whose values
//  differ from the version it opened (in-place updates, IGNORE NULL UPDATES). A version whose
//  values equal its opening event's stands for that event. Only DELETE records expire (tombstone
//  GC); after that, a late upsert before the expired delete is no longer closed by it.
//  Keep the state with the target: target rows without state records are read as plain events
//  (SCD2) or as rows of unknown sequence (SCD1: any event applies; a truncate removes them).
//
// Thread-safety: the functions use only `conn` (Connection's rules apply: one thread at a time).
// Tables: inputs are read, never modified; outputs are TEMP tables named `<output_prefix>_...`,
// replaced if they exist, and stay until dropped. Scratch tables `<output_prefix>_tmp_...` are
// dropped before returning. On error the output tables are unspecified.
// Translated Spark SQL may call the macros of engine::RegisterSparkFunctions: register them on
// `conn` first.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/column_type.h"
#include "engine/database.h"
#include "pipeline/definitions.h"

namespace medallion::pipeline {

// pipelines.cdc.tombstoneGCThresholdInSeconds: Databricks' default keeps tombstones two days.
inline constexpr int64_t kDefaultTombstoneGcThresholdSeconds = 2 * 24 * 60 * 60;
inline constexpr std::string_view kTombstoneGcThresholdProperty =
    "pipelines.cdc.tombstoneGCThresholdInSeconds";
// The SCD type 2 columns.
inline constexpr std::string_view kStartAtColumn = "__START_AT";
inline constexpr std::string_view kEndAtColumn = "__END_AT";

struct AutoCdcOptions {
  // How long a DELETE's tombstone stays in the hidden state, in seconds of `now_ms` (>= 0).
  int64_t tombstone_gc_threshold_seconds = kDefaultTombstoneGcThresholdSeconds;
};

// Options from a target's TBLPROPERTIES (pipelines.cdc.tombstoneGCThresholdInSeconds; other keys
// are ignored). InvalidArgument naming the property for a value that is not an integer >= 0.
Result<AutoCdcOptions> AutoCdcOptionsFromProperties(
    const std::map<std::string, std::string>& table_properties);

struct AutoCdcColumn {
  std::string name;
  engine::ColumnType type;
};

// The target's columns for a source with the columns of `source_table` (a table or view name):
// the selected columns (see "Columns" above), then for SCD type 2 __START_AT and __END_AT typed
// like the sequence. InvalidArgument for an unknown or excluded key, an unknown column in any
// clause, a selected column named __START_AT / __END_AT (SCD2) or starting with "__cdc_", a
// sequence or condition expression that does not translate or bind (DuckDB's message), TRACK
// HISTORY with SCD type 1, TRUNCATE with SCD type 2.
Result<std::vector<AutoCdcColumn>> AutoCdcTargetSchema(engine::Connection& conn,
                                                       const AutoCdcDefinition& cdc,
                                                       std::string_view source_table);

// Creates (or replaces) the empty TEMP table `table` with the target's columns, resp. the hidden
// state's columns (see above), for a source shaped like `source_table`. Errors as
// AutoCdcTargetSchema.
Status CreateAutoCdcTarget(engine::Connection& conn, const AutoCdcDefinition& cdc,
                           std::string_view source_table, std::string_view table);
Status CreateAutoCdcState(engine::Connection& conn, const AutoCdcDefinition& cdc,
                          std::string_view source_table, std::string_view table);

struct AutoCdcInput {
  // The target's current rows (its columns by name; extra columns are ignored), or "" for none.
  // Only the rows of the keys in changes_table are read unless the definition has APPLY AS
  // TRUNCATE WHEN, so a caller may pass just those (e.g. a key-filtered scan).
  std::string target_table;
  // The hidden state as the previous batch left it (its new_state_table), or "" for none.
  std::string state_table;
  // This batch's source rows (every source column), in any order, any number of events per key.
  std::string changes_table;
  // The batch's time, in milliseconds since the epoch: recorded with new tombstones and compared
  // with old ones (GC). Record it in the batch plan so that a re-run computes the same output.
  int64_t now_ms = 0;
  // Output (and scratch) tables are named `<output_prefix>_...`. It must not be a prefix of an
  // input's name.
  std::string output_prefix = "__auto_cdc";
};

struct AutoCdcOutput {
  // The keys whose target rows change (one row per key; the key columns, target spelling).
  std::string touched_keys_table;
  // Not truncated: every new target row of the touched keys (a touched key without rows was
  // deleted). Truncated: the complete new target. Target columns, in target order.
  std::string target_rows_table;
  // True when the batch raised the truncate point (SCD type 1): replace the whole target with
  // target_rows_table. Otherwise delete every row of a touched key and insert target_rows_table.
  bool truncated = false;
  // The complete new hidden state; it replaces the old one.
  std::string new_state_table;
  int64_t num_upserted_rows = 0;  // see "Metrics" above
  int64_t num_deleted_rows = 0;
};

// Applies the events in `input.changes_table` to the target and state, as described above.
// InvalidArgument for definition errors (see AutoCdcTargetSchema), a NULL sequence (naming the
// key: "SEQUENCE BY sequenceNum is NULL for the change with key userId=123"), an output prefix
// that collides with an input, or a target/state table without the expected columns (DuckDB's
// message); other DuckDB errors as engine/database.h maps them.
Result<AutoCdcOutput> ApplyAutoCdc(engine::Connection& conn, const AutoCdcDefinition& cdc,
                                   const AutoCdcInput& input, const AutoCdcOptions& options = {});

// Applies an output to TEMP (or other DuckDB) tables the way a caller applies it to Delta:
// deletes the touched keys' rows from `target_table` (every row when truncated), inserts
// target_rows_table, and replaces the rows of `state_table` with new_state_table. For tests and
// in-memory use; errors are DuckDB's.
Status ApplyAutoCdcOutput(engine::Connection& conn, const AutoCdcOutput& output,
                          std::string_view target_table, std::string_view state_table);

}  // namespace medallion::pipeline
