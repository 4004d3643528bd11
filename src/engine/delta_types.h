// The mapping from Delta types (PROTOCOL.md, "Schema Serialization Format") to DuckDB types, used
// wherever engine/ reads or writes Delta data with DuckDB.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "delta/schema.h"

namespace medallion::engine {

// The DuckDB spelling of a Delta type: long -> BIGINT, timestamp -> TIMESTAMP WITH TIME ZONE
// (an instant, as Spark's TIMESTAMP), timestamp_ntz -> TIMESTAMP, struct<a: int> ->
// STRUCT("a" INTEGER), array<string> -> VARCHAR[], map<string,int> -> MAP(VARCHAR, INTEGER).
// Names inside are the logical names. Every Delta type has one.
std::string DuckDbTypeOf(const delta::DataType& type);

}  // namespace medallion::engine
