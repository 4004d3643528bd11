// SourceSchema: the schema of a file source (the data columns a streaming table's read_files /
// cloud_files source returns), which the pipeline engine persists between runs, as Auto Loader
// keeps its schema in `cloudFiles.schemaLocation` (Databricks, "Configure schema inference and
// evolution in Auto Loader").
//
// The schema holds only the data columns, in order, each with a DuckDB type in DuckDB's spelling
// ("INTEGER", "DECIMAL(10,2)", "TIMESTAMP WITH TIME ZONE", "STRUCT(a BIGINT)", "VARCHAR[]"). The
// rescued data column and `_metadata` are not part of it: they follow from the options
// (ingest/file_source.h).
//
// Persisted form (frozen; version kSourceSchemaFormatVersion):
//   {"version":1,"columns":[{"name":"id","type":"BIGINT"},{"name":"delay","type":"INTEGER"}]}
// Readers accept any version <= theirs and unknown members; a newer version is NotSupported.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/text.h"

namespace medallion::ingest {

inline constexpr int kSourceSchemaFormatVersion = 1;

struct SourceColumn {
  std::string name;  // as in the files (case kept)
  std::string type;  // DuckDB type text

  bool operator==(const SourceColumn&) const = default;
};

struct SourceSchema {
  std::vector<SourceColumn> columns;

  // The column whose name equals `name`, exactly or (case_sensitive = false) ignoring ASCII case;
  // nullptr when there is none.
  const SourceColumn* Find(std::string_view name, bool case_sensitive = false) const;

  // The persisted JSON form (see above).
  std::string ToJson() const;
  // Corruption for malformed JSON or a missing member; NotSupported for a newer version.
  static Result<SourceSchema> FromJson(std::string_view json);

  bool operator==(const SourceSchema&) const = default;
};


}  // namespace medallion::ingest
