// Spark SQL -> DuckDB SQL: the translation that lets Databricks pipeline SQL (Lakeflow / Spark
// Declarative Pipelines) run on DuckDB, plus the helper macros the translated SQL calls.
//
// The translator works on engine::LexSql tokens and a small recursive parser of bracketed argument
// lists; it does not parse the grammar. It rewrites:
//   - quoting: `ident` -> "ident"; Spark's "text" and 'text' (with Spark's backslash escapes,
//     r'raw' strings, adjacent literals) -> DuckDB '...' literals. A double-quoted token where
//     only a name can stand (after FROM / JOIN / INTO / TABLE, or next to '.') stays an
//     identifier, and a ``delta.`/path` `` file reference keeps its backticks for the session;
//   - types in CAST / TRY_CAST / `::` and in CREATE TABLE/VIEW column lists (TranslateSparkType),
//     typed literals (TIMESTAMP '...' is an instant: TIMESTAMPTZ) and numeric suffixes (10L, 1.5D);
//   - operators: `==`, `<=>`, `DIV`, `x RLIKE p` / `x REGEXP p`, LIKE patterns with `\` escapes;
//   - 0-based array subscripts `arr[0]` -> DuckDB's 1-based `arr[1]`;
//   - Databricks JSON paths `col:a.b[0]` (-> json_extract_string, then `::type` casts as usual);
//   - LATERAL VIEW [OUTER] explode / posexplode -> LATERAL joins over unnest;
//   - Spark functions whose name or result differ in DuckDB, each to a DuckDB expression or to a
//     `spark_<name>` macro (RegisterSparkFunctions). docs/spark_functions.md lists every function,
//     its translation and the differences from Spark that remain.
// Everything else (DuckDB-compatible functions, unknown identifiers, table functions such as
// read_files(..., format => 'csv') and STREAM(x)) is kept as written, comments and spacing too.
// Function names match case-insensitively and only when followed by `(`; a column named `year` is
// untouched. The translation is not idempotent: translate Spark text once.
//
// Thread-safety: TranslateSparkSql and TranslateSparkType are pure functions.
// RegisterSparkFunctions follows Connection's rules (database.h).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/database.h"

namespace medallion::engine {

// Translates Spark SQL text (one statement or expression; several ';'-separated statements work
// too) into DuckDB SQL. The result may call the macros of RegisterSparkFunctions.
// InvalidArgument, with "line N: " first, for text the lexer rejects (an unterminated quote or
// comment), unbalanced brackets, and a Spark function called with arguments that cannot be
// translated; that message names the function and what is supported (e.g. date_format with a
// pattern that is not a string literal).
Result<std::string> TranslateSparkSql(std::string_view spark_sql);

// Translates one Spark data type ("STRING", "DECIMAL(10,2)", "ARRAY<STRUCT<a: INT, b STRING>>",
// "MAP<STRING, BIGINT>", ...) into the DuckDB type that holds the same values: STRING ->
// VARCHAR, TIMESTAMP / TIMESTAMP_LTZ -> TIMESTAMPTZ, TIMESTAMP_NTZ -> TIMESTAMP, BINARY -> BLOB,
// VARIANT -> JSON, bare DECIMAL -> DECIMAL(10,0), ARRAY<T> -> T[], MAP<K,V> -> MAP(K, V),
// STRUCT<a: T> -> STRUCT("a" T) (the NOT NULL and COMMENT of fields are dropped). InvalidArgument
// naming the type for an unknown or malformed type, or a decimal precision outside 1..38.
Result<std::string> TranslateSparkType(std::string_view spark_type);

// Creates the spark_* macros that translated SQL relies on.
//   - kConnection (CREATE OR REPLACE TEMP MACRO): on this connection only, as DuckDB keeps
//     temporary macros per connection; call it on every Connection that runs translated SQL.
//     Concurrent calls on different connections of one Database are safe.
//   - kDatabase (CREATE OR REPLACE MACRO in the database's main schema): once for every
//     connection of the Database, present and future (~10 ms saved per connection). Call it before
//     other connections run translated SQL, not concurrently with them (a catalog write).
// Calling it again replaces them. Errors are DuckDB's, mapped as in database.h.
enum class MacroScope { kConnection, kDatabase };
Status RegisterSparkFunctions(Connection& conn, MacroScope scope = MacroScope::kConnection);

// Whether translated SQL may call a spark_* macro (it names one; a column of that name counts
// too). Registering the macros costs ~15 ms, so a caller that knows all its SQL up front (a
// pipeline) registers them only when this holds for some of it.
bool CallsSparkFunctions(std::string_view translated_sql);

}  // namespace medallion::engine
