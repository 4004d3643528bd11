#include "pipeline/auto_cdc.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/spark_sql.h"
#include "storage/test_util.h"

namespace medallion::pipeline {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

// The example of Databricks' "The AUTO CDC APIs: Simplify change data capture with pipelines":
// cdc_data.users, and its AUTO CDC statements (COLUMNS * EXCEPT (operation, sequenceNum)).
constexpr std::string_view kUsersColumns =
    "userId INTEGER, name VARCHAR, city VARCHAR, operation VARCHAR, sequenceNum INTEGER";
constexpr std::string_view kUsersRows =
    "(124, 'Raul', 'Oaxaca', 'INSERT', 1), "
    "(123, 'Isabel', 'Monterrey', 'INSERT', 1), "
    "(125, 'Mercedes', 'Tijuana', 'INSERT', 2), "
    "(126, 'Lily', 'Cancun', 'INSERT', 2), "
    "(123, NULL, NULL, 'DELETE', 6), "
    "(125, 'Mercedes', 'Guadalajara', 'UPDATE', 6), "
    "(125, 'Mercedes', 'Mexicali', 'UPDATE', 5), "
    "(123, 'Isabel', 'Chihuahua', 'UPDATE', 5)";
constexpr std::string_view kTruncateRow = "(NULL, NULL, NULL, 'TRUNCATE', 3)";

AutoCdcDefinition UsersCdc(int scd_type) {
  AutoCdcDefinition cdc;
  cdc.source = "cdc_data.users";
  cdc.keys = {"userId"};
  cdc.apply_as_delete_when = "operation = \"DELETE\"";
  if (scd_type == 1) cdc.apply_as_truncate_when = "operation = \"TRUNCATE\"";
  cdc.sequence_by = {"sequenceNum"};
  cdc.columns = ColumnSelection{true, {"operation", "sequenceNum"}};
  cdc.scd_type = scd_type;
  return cdc;
}

class AutoCdcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::DatabaseOptions options;
    options.threads = 1;
    ASSERT_OK_AND_ASSIGN(db_, engine::Database::Open(options));
    ASSERT_OK_AND_ASSIGN(conn_, db_->Connect());
    ASSERT_OK(engine::RegisterSparkFunctions(*conn_));
  }

  Status Exec(const std::string& sql) { return conn_->Execute(sql); }

  // The rows of a query, cells joined by '|', sorted.
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    auto result = conn_->Query(sql);
    EXPECT_OK(result) << sql;
    if (!result.ok()) return rows;
    for (size_t row = 0; row < result->row_count(); ++row) {
      std::string text;
      for (size_t col = 0; col < result->column_count(); ++col) {
        text += (col ? "|" : "") + result->GetText(col, row);
      }
      rows.push_back(text);
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  // A TEMP table `name` with `columns` and `values` ("(1, 'a'), (2, 'b')"; may be empty).
  Status Table(const std::string& name, std::string_view columns, std::string_view values) {
    RETURN_NOT_OK(Exec(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({})", name, columns)));
    if (values.empty()) return Status::OK();
    return Exec(fmt::format("INSERT INTO {} VALUES {}", name, values));
  }

  // Empty target `target` and state `state` for `cdc` over a source shaped like `source`.
  Status Init(const AutoCdcDefinition& cdc, const std::string& source,
              const std::string& target = "t", const std::string& state = "s") {
    RETURN_NOT_OK(CreateAutoCdcTarget(*conn_, cdc, source, target));
    return CreateAutoCdcState(*conn_, cdc, source, state);
  }

  // One batch: ApplyAutoCdc over `changes`, then its output applied to `target` and `state`.
  Result<AutoCdcOutput> Apply(const AutoCdcDefinition& cdc, const std::string& changes,
                              int64_t now_ms = kNow, const AutoCdcOptions& options = {},
                              const std::string& target = "t", const std::string& state = "s") {
    AutoCdcInput input;
    input.target_table = target;
    input.state_table = state;
    input.changes_table = changes;
    input.now_ms = now_ms;
    ASSIGN_OR_RETURN(AutoCdcOutput output, ApplyAutoCdc(*conn_, cdc, input, options));
    RETURN_NOT_OK(ApplyAutoCdcOutput(*conn_, output, target, state));
    return output;
  }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

// ---- The documentation's examples ----

TEST_F(AutoCdcTest, DocumentationScd1) {
  AutoCdcDefinition cdc = UsersCdc(1);
  ASSERT_OK(Table("users", kUsersColumns, kUsersRows));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput out, Apply(cdc, "users"));
  EXPECT_FALSE(out.truncated);
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{
                                         "124|Raul|Oaxaca",
                                         "125|Mercedes|Guadalajara",
                                         "126|Lily|Cancun",
                                     }));
  EXPECT_EQ(out.num_upserted_rows, 3);
  EXPECT_EQ(out.num_deleted_rows, 0);
  // The state: one record per key, 123's a tombstone at 6.
  EXPECT_EQ(Rows("SELECT userId, __cdc_event, __cdc_seq, __cdc_recorded_at_ms = " +
                 std::to_string(kNow) + " FROM s"),
            (std::vector<std::string>{"123|delete|6|true", "124|upsert|1|true", "125|upsert|6|true",
                                      "126|upsert|2|true"}));
}

TEST_F(AutoCdcTest, DocumentationScd1InArrivalOrder) {
  // The first six rows, then the two late updates in a later batch: they change nothing.
  AutoCdcDefinition cdc = UsersCdc(1);
  ASSERT_OK(
      Table("users", kUsersColumns,
            "(124, 'Raul', 'Oaxaca', 'INSERT', 1), (123, 'Isabel', 'Monterrey', 'INSERT', 1), "
            "(125, 'Mercedes', 'Tijuana', 'INSERT', 2), (126, 'Lily', 'Cancun', 'INSERT', 2)"));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput first, Apply(cdc, "users"));
  EXPECT_EQ(first.num_upserted_rows, 4);
  ASSERT_OK(Table("users", kUsersColumns,
                  "(123, NULL, NULL, 'DELETE', 6), (125, 'Mercedes', 'Guadalajara', 'UPDATE', 6)"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput second, Apply(cdc, "users"));
  EXPECT_EQ(second.num_upserted_rows, 1);
  EXPECT_EQ(second.num_deleted_rows, 1);
  EXPECT_EQ(Rows("SELECT * FROM " + second.touched_keys_table),
            (std::vector<std::string>{"123", "125"}));
  ASSERT_OK(Table("users", kUsersColumns,
                  "(125, 'Mercedes', 'Mexicali', 'UPDATE', 5), "
                  "(123, 'Isabel', 'Chihuahua', 'UPDATE', 5)"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput late, Apply(cdc, "users"));
  EXPECT_EQ(late.num_upserted_rows, 0);
  EXPECT_EQ(late.num_deleted_rows, 0);
  EXPECT_TRUE(Rows("SELECT * FROM " + late.touched_keys_table).empty());
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{
                                         "124|Raul|Oaxaca",
                                         "125|Mercedes|Guadalajara",
                                         "126|Lily|Cancun",
                                     }));
}

TEST_F(AutoCdcTest, DocumentationScd1WithTruncate) {
  // "records 124 and 126 are truncated because of the TRUNCATE operation at sequenceNum=3".
  AutoCdcDefinition cdc = UsersCdc(1);
  ASSERT_OK(
      Table("users", kUsersColumns, std::string(kUsersRows) + ", " + std::string(kTruncateRow)));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput out, Apply(cdc, "users"));
  EXPECT_TRUE(out.truncated);
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"125|Mercedes|Guadalajara"}));
  EXPECT_EQ(Rows("SELECT * FROM " + out.target_rows_table),
            (std::vector<std::string>{"125|Mercedes|Guadalajara"}));
  EXPECT_EQ(Rows("SELECT __cdc_event, __cdc_seq FROM s WHERE __cdc_event = 'truncate'"),
            (std::vector<std::string>{"truncate|3"}));
}

TEST_F(AutoCdcTest, DocumentationScd1TruncateArrivesLate) {
  // The same events, the TRUNCATE in a batch of its own after the others: the same table.
  AutoCdcDefinition cdc = UsersCdc(1);
  ASSERT_OK(Table("users", kUsersColumns, kUsersRows));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK(Apply(cdc, "users"));
  ASSERT_OK(Table("users", kUsersColumns, kTruncateRow));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput out, Apply(cdc, "users"));
  EXPECT_TRUE(out.truncated);
  EXPECT_EQ(out.num_deleted_rows, 2);  // 124 and 126
  EXPECT_EQ(out.num_upserted_rows, 0);
  EXPECT_EQ(Rows("SELECT * FROM " + out.touched_keys_table),
            (std::vector<std::string>{"124", "126"}));
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"125|Mercedes|Guadalajara"}));
  // Events at or below the truncate point stay out, later ones apply.
  ASSERT_OK(Table("users", kUsersColumns,
                  "(127, 'Ana', 'Puebla', 'INSERT', 3), (128, 'Luis', 'Merida', 'INSERT', 4)"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput after, Apply(cdc, "users"));
  EXPECT_FALSE(after.truncated);
  EXPECT_EQ(Rows("SELECT * FROM t"),
            (std::vector<std::string>{"125|Mercedes|Guadalajara", "128|Luis|Merida"}));
}

TEST_F(AutoCdcTest, DocumentationScd2) {
  AutoCdcDefinition cdc = UsersCdc(2);
  ASSERT_OK(Table("users", kUsersColumns, kUsersRows));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput out, Apply(cdc, "users"));
  const std::vector<std::string> expected = {
      "123|Isabel|Monterrey|1|5", "123|Isabel|Chihuahua|5|6",  "124|Raul|Oaxaca|1|NULL",
      "125|Mercedes|Tijuana|2|5", "125|Mercedes|Mexicali|5|6", "125|Mercedes|Guadalajara|6|NULL",
      "126|Lily|Cancun|2|NULL",
  };
  std::vector<std::string> sorted = expected;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Rows("SELECT userId, name, city, __START_AT, __END_AT FROM t"), sorted);
  EXPECT_EQ(out.num_upserted_rows, 7);
  EXPECT_EQ(out.num_deleted_rows, 0);
  ASSERT_OK_AND_ASSIGN(auto schema, AutoCdcTargetSchema(*conn_, cdc, "users"));
  ASSERT_EQ(schema.size(), 5u);
  EXPECT_EQ(schema[0].name, "userId");
  EXPECT_EQ(schema[3].name, "__START_AT");
  EXPECT_EQ(schema[3].type.id, engine::TypeId::kInteger);
  EXPECT_EQ(schema[4].name, "__END_AT");
  EXPECT_EQ(schema[4].type.id, engine::TypeId::kInteger);
  // Every delete closed a version: the state keeps nothing the rows do not imply.
  EXPECT_TRUE(Rows("SELECT * FROM s").empty());
}

TEST_F(AutoCdcTest, DocumentationScd2InArrivalOrder) {
  // The late updates of 125 and 123 (sequence 5) arrive after the events at 6: spliced in.
  AutoCdcDefinition cdc = UsersCdc(2);
  ASSERT_OK(
      Table("users", kUsersColumns,
            "(124, 'Raul', 'Oaxaca', 'INSERT', 1), (123, 'Isabel', 'Monterrey', 'INSERT', 1), "
            "(125, 'Mercedes', 'Tijuana', 'INSERT', 2), (126, 'Lily', 'Cancun', 'INSERT', 2), "
            "(123, NULL, NULL, 'DELETE', 6), (125, 'Mercedes', 'Guadalajara', 'UPDATE', 6)"));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK(Apply(cdc, "users"));
  EXPECT_EQ(Rows("SELECT userId, name, city, __START_AT, __END_AT FROM t"),
            (std::vector<std::string>{"123|Isabel|Monterrey|1|6", "124|Raul|Oaxaca|1|NULL",
                                      "125|Mercedes|Guadalajara|6|NULL", "125|Mercedes|Tijuana|2|6",
                                      "126|Lily|Cancun|2|NULL"}));
  ASSERT_OK(Table("users", kUsersColumns,
                  "(125, 'Mercedes', 'Mexicali', 'UPDATE', 5), "
                  "(123, 'Isabel', 'Chihuahua', 'UPDATE', 5)"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput late, Apply(cdc, "users"));
  // Each key: the closed version's __END_AT rewritten (6 -> 5) and a version inserted.
  EXPECT_EQ(late.num_upserted_rows, 4);
  EXPECT_EQ(late.num_deleted_rows, 0);
  EXPECT_EQ(Rows("SELECT * FROM " + late.touched_keys_table),
            (std::vector<std::string>{"123", "125"}));
  EXPECT_EQ(Rows("SELECT userId, name, city, __START_AT, __END_AT FROM t"),
            (std::vector<std::string>{"123|Isabel|Chihuahua|5|6", "123|Isabel|Monterrey|1|5",
                                      "124|Raul|Oaxaca|1|NULL", "125|Mercedes|Guadalajara|6|NULL",
                                      "125|Mercedes|Mexicali|5|6", "125|Mercedes|Tijuana|2|5",
                                      "126|Lily|Cancun|2|NULL"}));
}

TEST_F(AutoCdcTest, DocumentationScd2TrackHistoryExceptCity) {
  AutoCdcDefinition cdc = UsersCdc(2);
  cdc.track_history_on = ColumnSelection{true, {"city"}};
  ASSERT_OK(Table("users", kUsersColumns, kUsersRows));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK(Apply(cdc, "users"));
  EXPECT_EQ(Rows("SELECT userId, name, city, __START_AT, __END_AT FROM t"),
            (std::vector<std::string>{
                "123|Isabel|Chihuahua|1|6",
                "124|Raul|Oaxaca|1|NULL",
                "125|Mercedes|Guadalajara|2|NULL",
                "126|Lily|Cancun|2|NULL",
            }));
}

TEST_F(AutoCdcTest, DocumentationScd2TrackHistoryInArrivalOrder) {
  // In-place updates are kept in the state, so the late ones replay exactly.
  AutoCdcDefinition cdc = UsersCdc(2);
  cdc.track_history_on = ColumnSelection{true, {"city"}};
  ASSERT_OK(
      Table("users", kUsersColumns,
            "(124, 'Raul', 'Oaxaca', 'INSERT', 1), (123, 'Isabel', 'Monterrey', 'INSERT', 1), "
            "(125, 'Mercedes', 'Tijuana', 'INSERT', 2), (126, 'Lily', 'Cancun', 'INSERT', 2), "
            "(123, NULL, NULL, 'DELETE', 6), (125, 'Mercedes', 'Guadalajara', 'UPDATE', 6)"));
  ASSERT_OK(Init(cdc, "users"));
  ASSERT_OK(Apply(cdc, "users"));
  ASSERT_OK(Table("users", kUsersColumns,
                  "(125, 'Mercedes', 'Mexicali', 'UPDATE', 5), "
                  "(123, 'Isabel', 'Chihuahua', 'UPDATE', 5)"));
  ASSERT_OK(Apply(cdc, "users"));
  EXPECT_EQ(Rows("SELECT userId, name, city, __START_AT, __END_AT FROM t"),
            (std::vector<std::string>{
                "123|Isabel|Chihuahua|1|6",
                "124|Raul|Oaxaca|1|NULL",
                "125|Mercedes|Guadalajara|2|NULL",
                "126|Lily|Cancun|2|NULL",
            }));
  // A later tracked change between 2 and 6 splits 125's version, with the right cities.
  ASSERT_OK(Table("users", kUsersColumns, "(125, 'Merche', 'Tijuana', 'UPDATE', 4)"));
  ASSERT_OK(Apply(cdc, "users"));
  EXPECT_EQ(Rows("SELECT name, city, __START_AT, __END_AT FROM t WHERE userId = 125"),
            (std::vector<std::string>{"Mercedes|Guadalajara|5|NULL", "Mercedes|Tijuana|2|4",
                                      "Merche|Tijuana|4|5"}));
}

// ---- Clauses ----

constexpr std::string_view kSimpleColumns =
    "id INTEGER, a VARCHAR, b VARCHAR, op VARCHAR, seq BIGINT";

AutoCdcDefinition SimpleCdc(int scd_type) {
  AutoCdcDefinition cdc;
  cdc.source = "src";
  cdc.keys = {"id"};
  cdc.apply_as_delete_when = "op = 'D'";
  cdc.sequence_by = {"seq"};
  cdc.columns = ColumnSelection{true, {"op", "seq"}};
  cdc.scd_type = scd_type;
  return cdc;
}

TEST_F(AutoCdcTest, IgnoreNullUpdatesScd1) {
  AutoCdcDefinition cdc = SimpleCdc(1);
  cdc.ignore_null_updates = true;
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a1', 'b1', 'U', 1), (2, 'a2', 'b2', 'U', 1)"));
  ASSERT_OK(Init(cdc, "src"));
  ASSERT_OK(Apply(cdc, "src"));
  // Across batches and within one: NULLs keep the current values.
  ASSERT_OK(Table("src", kSimpleColumns,
                  "(1, NULL, 'b1x', 'U', 2), (2, 'a2x', NULL, 'U', 2), (2, NULL, NULL, 'U', 3)"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput out, Apply(cdc, "src"));
  EXPECT_EQ(out.num_upserted_rows, 2);
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|a1|b1x", "2|a2x|b2"}));
  // After a delete there is nothing to keep: NULLs stay NULL, in one batch and across batches.
  ASSERT_OK(Table("src", kSimpleColumns, "(1, NULL, NULL, 'D', 4), (1, NULL, 'b', 'U', 5)"));
  ASSERT_OK(Apply(cdc, "src"));
  ASSERT_OK(Table("src", kSimpleColumns, "(2, NULL, NULL, 'D', 4)"));
  ASSERT_OK(Apply(cdc, "src"));
  ASSERT_OK(Table("src", kSimpleColumns, "(2, 'a', NULL, 'U', 5)"));
  ASSERT_OK(Apply(cdc, "src"));
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|NULL|b", "2|a|NULL"}));
}

TEST_F(AutoCdcTest, IgnoreNullUpdatesOnColumns) {
  for (bool except : {false, true}) {
    SCOPED_TRACE(except ? "ON * EXCEPT (b)" : "ON (a)");
    AutoCdcDefinition cdc = SimpleCdc(1);
    cdc.ignore_null_updates = true;
    cdc.ignore_null_updates_on =
        except ? ColumnSelection{true, {"b"}} : ColumnSelection{false, {"a"}};
    ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a1', 'b1', 'U', 1)"));
    ASSERT_OK(Init(cdc, "src"));
    ASSERT_OK(Apply(cdc, "src"));
    ASSERT_OK(Table("src", kSimpleColumns, "(1, NULL, NULL, 'U', 2)"));
    ASSERT_OK(Apply(cdc, "src"));
    // a keeps its value, b takes the explicit NULL.
    EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|a1|NULL"}));
  }
}

TEST_F(AutoCdcTest, IgnoreNullUpdatesScd2) {
  AutoCdcDefinition cdc = SimpleCdc(2);
  cdc.ignore_null_updates = true;
  ASSERT_OK(Table("src", kSimpleColumns,
                  "(1, 'a1', 'b1', 'U', 1), (1, NULL, 'b2', 'U', 3), (1, NULL, NULL, 'U', 4)"));
  ASSERT_OK(Init(cdc, "src"));
  ASSERT_OK(Apply(cdc, "src"));
  // The update at 4 changes nothing: no version.
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|a1|b1|1|3", "1|a1|b2|3|NULL"}));
  // A late update at 2 sets a: the later NULLs now keep a2.
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a2', NULL, 'U', 2)"));
  ASSERT_OK(Apply(cdc, "src"));
  EXPECT_EQ(Rows("SELECT * FROM t"),
            (std::vector<std::string>{"1|a1|b1|1|2", "1|a2|b1|2|3", "1|a2|b2|3|NULL"}));
}

TEST_F(AutoCdcTest, ColumnsListAndExcept) {
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a1', 'b1', 'U', 1)"));
  AutoCdcDefinition cdc = SimpleCdc(1);
  cdc.columns = ColumnSelection{false, {"B", "ID"}};  // names match case-insensitively
  ASSERT_OK_AND_ASSIGN(auto schema, AutoCdcTargetSchema(*conn_, cdc, "src"));
  ASSERT_EQ(schema.size(), 2u);
  EXPECT_EQ(schema[0].name, "b");
  EXPECT_EQ(schema[1].name, "id");
  ASSERT_OK(Init(cdc, "src"));
  ASSERT_OK(Apply(cdc, "src"));
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"b1|1"}));

  cdc.columns = ColumnSelection{true, {"a", "op"}};
  ASSERT_OK_AND_ASSIGN(schema, AutoCdcTargetSchema(*conn_, cdc, "src"));
  std::vector<std::string> names;
  for (const auto& c : schema) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "b", "seq"}));
  EXPECT_EQ(schema[2].type.id, engine::TypeId::kBigInt);

  // Without COLUMNS: every source column.
  cdc.columns.reset();
  ASSERT_OK_AND_ASSIGN(schema, AutoCdcTargetSchema(*conn_, cdc, "src"));
  EXPECT_EQ(schema.size(), 5u);

  auto error = [&](ColumnSelection columns) {
    AutoCdcDefinition bad = SimpleCdc(1);
    bad.columns = std::move(columns);
    auto result = AutoCdcTargetSchema(*conn_, bad, "src");
    EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
    return result.status().message();
  };
  EXPECT_EQ(error(ColumnSelection{false, {"a"}}),
            "AUTO CDC: COLUMNS must include the KEYS column 'id'; the target keeps its keys");
  EXPECT_EQ(error(ColumnSelection{true, {"id"}}),
            "AUTO CDC: COLUMNS * EXCEPT excludes the KEYS column 'id'; the target keeps its keys");
  EXPECT_EQ(error(ColumnSelection{true, {"nope"}}),
            "AUTO CDC: COLUMNS * EXCEPT names 'nope', which is not a source column (source "
            "columns: id, a, b, op, seq)");
}

TEST_F(AutoCdcTest, SequenceByStruct) {
  AutoCdcDefinition cdc = SimpleCdc(2);
  cdc.sequence_by = {"seq", "`minor`"};
  cdc.columns = ColumnSelection{true, {"op", "seq", "minor"}};
  constexpr std::string_view kColumns =
      "id INTEGER, a VARCHAR, b VARCHAR, op VARCHAR, seq BIGINT, minor INTEGER";
  // (1, 2) < (1, 10) < (2, 0): ordered by seq, then minor.
  ASSERT_OK(Table("src", kColumns,
                  "(1, 'x', 'b', 'U', 2, 0), (1, 'y', 'b', 'U', 1, 10), (1, 'z', 'b', 'U', 1, 2)"));
  ASSERT_OK_AND_ASSIGN(auto schema, AutoCdcTargetSchema(*conn_, cdc, "src"));
  ASSERT_EQ(schema.size(), 5u);
  EXPECT_EQ(schema[3].type.ToString(), "STRUCT(seq BIGINT, minor INTEGER)");
  ASSERT_OK(Init(cdc, "src"));
  ASSERT_OK(Apply(cdc, "src"));
  EXPECT_EQ(Rows("SELECT a, __START_AT, __END_AT FROM t"),
            (std::vector<std::string>{"x|{'seq': 2, 'minor': 0}|NULL",
                                      "y|{'seq': 1, 'minor': 10}|{'seq': 2, 'minor': 0}",
                                      "z|{'seq': 1, 'minor': 2}|{'seq': 1, 'minor': 10}"}));
  // SCD type 1 with a struct: a late event (1, 11) loses to (2, 0).
  AutoCdcDefinition scd1 = cdc;
  scd1.scd_type = 1;
  ASSERT_OK(Init(scd1, "src"));
  ASSERT_OK(Apply(scd1, "src"));
  ASSERT_OK(Table("src", kColumns, "(1, 'late', 'b', 'U', 1, 11), (2, 'n', 'b', 'U', 1, 1)"));
  ASSERT_OK(Apply(scd1, "src"));
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|x|b", "2|n|b"}));
  // Other expressions are fields col<N>, as Spark's struct() names them.
  cdc.sequence_by = {"seq", "minor * 2"};
  ASSERT_OK_AND_ASSIGN(schema, AutoCdcTargetSchema(*conn_, cdc, "src"));
  EXPECT_EQ(schema[3].type.ToString(), "STRUCT(seq BIGINT, col2 INTEGER)");
}

TEST_F(AutoCdcTest, NullSequenceNamesTheKey) {
  AutoCdcDefinition cdc = SimpleCdc(1);
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a', 'b', 'U', 1), (7, 'a', 'b', 'U', NULL)"));
  ASSERT_OK(Init(cdc, "src"));
  auto result = Apply(cdc, "src");
  ASSERT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
  EXPECT_EQ(result.status().message(),
            "AUTO CDC: SEQUENCE BY seq is NULL for the change with key id=7 (NULL sequence values "
            "are not supported)");
  // A NULL field of SEQUENCE BY STRUCT(...) too.
  cdc.sequence_by = {"seq", "coalesce(a, b)"};
  cdc.keys = {"id", "b"};
  ASSERT_OK(Table("src", kSimpleColumns, "(3, NULL, NULL, 'U', 1)"));
  result = Apply(cdc, "src");
  ASSERT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
  EXPECT_EQ(result.status().message(),
            "AUTO CDC: SEQUENCE BY STRUCT(seq, coalesce(a, b)) is NULL for the change with key "
            "id=3, b=NULL (NULL sequence values are not supported)");
}

TEST_F(AutoCdcTest, TombstoneGc) {
  ASSERT_OK_AND_ASSIGN(
      AutoCdcOptions options,
      AutoCdcOptionsFromProperties(
          {{"pipelines.cdc.tombstoneGCThresholdInSeconds", "60"}, {"other", "x"}}));
  EXPECT_EQ(options.tombstone_gc_threshold_seconds, 60);
  EXPECT_EQ(AutoCdcOptions{}.tombstone_gc_threshold_seconds, 2 * 24 * 3600);
  EXPECT_TRUE(AutoCdcOptionsFromProperties({{"pipelines.cdc.tombstoneGCThresholdInSeconds", "1h"}})
                  .status()
                  .IsInvalidArgument());

  AutoCdcDefinition cdc = SimpleCdc(1);
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a', 'b', 'U', 1), (1, NULL, NULL, 'D', 5)"));
  ASSERT_OK(Init(cdc, "src"));
  ASSERT_OK(Apply(cdc, "src", kNow, options));
  EXPECT_EQ(Rows("SELECT id, __cdc_event, __cdc_seq FROM s"),
            (std::vector<std::string>{"1|delete|5"}));
  // Within the threshold, the tombstone keeps a late upsert out.
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'late', 'b', 'U', 3)"));
  ASSERT_OK(Apply(cdc, "src", kNow + 60'000, options));
  EXPECT_TRUE(Rows("SELECT * FROM t").empty());
  EXPECT_EQ(Rows("SELECT id, __cdc_event, __cdc_seq FROM s"),
            (std::vector<std::string>{"1|delete|5"}));
  // Past it, the tombstone is gone and the late upsert applies.
  ASSERT_OK(Apply(cdc, "src", kNow + 60'001, options));
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|late|b"}));
  EXPECT_EQ(Rows("SELECT id, __cdc_event, __cdc_seq FROM s"),
            (std::vector<std::string>{"1|upsert|3"}));
}

TEST_F(AutoCdcTest, TombstoneGcScd2) {
  // A delete that closes no version stays in the state until it expires; until then it closes
  // a late upsert before it.
  AutoCdcDefinition cdc = SimpleCdc(2);
  AutoCdcOptions options;
  options.tombstone_gc_threshold_seconds = 60;
  for (int64_t later : {60'000, 60'001}) {
    SCOPED_TRACE(later);
    ASSERT_OK(Table("src", kSimpleColumns, "(1, NULL, NULL, 'D', 5)"));
    ASSERT_OK(Init(cdc, "src"));
    ASSERT_OK(Apply(cdc, "src", kNow, options));
    EXPECT_TRUE(Rows("SELECT * FROM t").empty());
    EXPECT_EQ(Rows("SELECT id, __cdc_event, __cdc_seq FROM s"),
              (std::vector<std::string>{"1|delete|5"}));
    ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a', 'b', 'U', 3)"));
    ASSERT_OK(Apply(cdc, "src", kNow + later, options));
    EXPECT_EQ(Rows("SELECT * FROM t"),
              (std::vector<std::string>{later == 60'000 ? "1|a|b|3|5" : "1|a|b|3|NULL"}));
    // A delete that closes a version is implied by the rows: the state is empty.
    EXPECT_TRUE(Rows("SELECT * FROM s").empty());
  }
}

TEST_F(AutoCdcTest, TrackHistoryOnColumns) {
  AutoCdcDefinition cdc = SimpleCdc(2);
  cdc.track_history_on = ColumnSelection{false, {"a"}};
  ASSERT_OK(Table("src", kSimpleColumns,
                  "(1, 'a1', 'b1', 'U', 1), (1, 'a1', 'b2', 'U', 2), (1, 'a2', 'b2', 'U', 3), "
                  "(1, 'a2', 'b3', 'U', 4)"));
  ASSERT_OK(Init(cdc, "src"));
  ASSERT_OK(Apply(cdc, "src"));
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|a1|b2|1|3", "1|a2|b3|3|NULL"}));
  // Unknown columns and SCD type 1 are refused.
  cdc.track_history_on = ColumnSelection{false, {"op"}};
  EXPECT_EQ(AutoCdcTargetSchema(*conn_, cdc, "src").status().message(),
            "AUTO CDC: TRACK HISTORY ON names 'op', which is not a column of the target");
  cdc.scd_type = 1;
  EXPECT_TRUE(AutoCdcTargetSchema(*conn_, cdc, "src").status().IsInvalidArgument());
}

TEST_F(AutoCdcTest, IdenticalUpdateOpensNoVersion) {
  AutoCdcDefinition cdc = SimpleCdc(2);
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'a', 'b', 'U', 1), (1, 'a', 'b', 'U', 3)"));
  ASSERT_OK(Init(cdc, "src"));
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput out, Apply(cdc, "src"));
  EXPECT_EQ(Rows("SELECT * FROM t"), (std::vector<std::string>{"1|a|b|1|NULL"}));
  EXPECT_EQ(out.num_upserted_rows, 1);
  // The identical update is remembered: after a late change at 2, it opens a version at 3.
  ASSERT_OK(Table("src", kSimpleColumns, "(1, 'c', 'b', 'U', 2)"));
  ASSERT_OK(Apply(cdc, "src"));
  EXPECT_EQ(Rows("SELECT * FROM t"),
            (std::vector<std::string>{"1|a|b|1|2", "1|a|b|3|NULL", "1|c|b|2|3"}));
}

TEST_F(AutoCdcTest, TiesAreDeterministic) {
  for (int scd_type : {1, 2}) {
    SCOPED_TRACE(scd_type);
    AutoCdcDefinition cdc = SimpleCdc(scd_type);
    // A delete wins over an upsert at its sequence, in one batch and across batches.
    ASSERT_OK(Table("src", kSimpleColumns,
                    "(1, 'a', 'b', 'U', 1), (1, 'z', 'z', 'U', 2), "
                    "(1, NULL, NULL, 'D', 2)"));
    ASSERT_OK(Init(cdc, "src"));
    ASSERT_OK(Apply(cdc, "src"));
    ASSERT_OK(Table("src", kSimpleColumns, "(1, 'y', 'y', 'U', 2)"));
    ASSERT_OK(Apply(cdc, "src"));
    EXPECT_EQ(Rows("SELECT a FROM t"),
              scd_type == 1 ? std::vector<std::string>{} : std::vector<std::string>{"a"});
    // The delete after the upsert it ties with.
    ASSERT_OK(Table("src", kSimpleColumns, "(3, 'a', 'b', 'U', 1)"));
    ASSERT_OK(Apply(cdc, "src"));
    ASSERT_OK(Table("src", kSimpleColumns, "(3, NULL, NULL, 'D', 1)"));
    ASSERT_OK(Apply(cdc, "src"));
    EXPECT_TRUE(Rows("SELECT * FROM t WHERE id = 3").empty());
    // Among upserts, the greatest values win.
    ASSERT_OK(Table("src", kSimpleColumns,
                    "(2, 'a', 'c', 'U', 1), (2, 'b', NULL, 'U', 1), "
                    "(2, 'b', 'a', 'U', 1)"));
    ASSERT_OK(Apply(cdc, "src"));
    EXPECT_EQ(Rows("SELECT a, b FROM t WHERE id = 2"), (std::vector<std::string>{"b|a"}));
  }
}

TEST_F(AutoCdcTest, DefinitionErrors) {
  ASSERT_OK(Table("src", kSimpleColumns, ""));
  AutoCdcDefinition cdc = SimpleCdc(2);
  cdc.apply_as_truncate_when = "op = 'T'";
  EXPECT_EQ(AutoCdcTargetSchema(*conn_, cdc, "src").status().message(),
            "AUTO CDC: APPLY AS TRUNCATE WHEN is only supported with STORED AS SCD TYPE 1");
  cdc = SimpleCdc(1);
  cdc.keys = {"missing"};
  EXPECT_EQ(AutoCdcTargetSchema(*conn_, cdc, "src").status().message(),
            "AUTO CDC: KEYS names 'missing', which is not a source column (source columns: id, "
            "a, b, op, seq)");
  cdc = SimpleCdc(1);
  cdc.sequence_by = {"no_such_column + 1"};
  EXPECT_TRUE(AutoCdcTargetSchema(*conn_, cdc, "src").status().IsInvalidArgument());
  // Outputs must not overwrite inputs.
  AutoCdcInput input;
  input.changes_table = "__auto_cdc_state";
  EXPECT_TRUE(ApplyAutoCdc(*conn_, SimpleCdc(1), input).status().IsInvalidArgument());
}

TEST_F(AutoCdcTest, EmptyTargetAndStateNames) {
  // "" stands for an empty target and state.
  AutoCdcDefinition cdc = UsersCdc(2);
  ASSERT_OK(Table("users", kUsersColumns, kUsersRows));
  AutoCdcInput input;
  input.changes_table = "users";
  input.now_ms = kNow;
  ASSERT_OK_AND_ASSIGN(AutoCdcOutput out, ApplyAutoCdc(*conn_, cdc, input));
  EXPECT_EQ(Rows("SELECT * FROM " + out.target_rows_table).size(), 7u);
  EXPECT_EQ(Rows("SELECT * FROM " + out.touched_keys_table).size(), 4u);
  // Scratch tables are gone.
  EXPECT_EQ(Rows("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%_tmp_%'"),
            std::vector<std::string>{});
}

// ---- Order independence ----

// One change event of a random stream over (id, a, b, op, seq).
struct Event {
  int key = 0;
  int seq = 0;
  char op = 'U';  // U, D or T
  std::optional<std::string> a, b;

  std::string Sql() const {
    auto text = [](const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "NULL"; };
    return fmt::format("({}, {}, {}, '{}', {})", op == 'T' ? "NULL" : std::to_string(key), text(a),
                       text(b), op, seq);
  }
};

// The expected target, computed directly from the definitions in auto_cdc.h, one key at a time.
// `ignore_nulls`: IGNORE NULL UPDATES on every column; `track_a`: TRACK HISTORY ON (a).
std::vector<std::string> Model(int scd_type, const std::vector<Event>& events, bool ignore_nulls,
                               bool track_a) {
  using Values = std::pair<std::optional<std::string>, std::optional<std::string>>;
  auto text = [](const std::optional<std::string>& v) { return v ? *v : "NULL"; };
  // Ties: a delete last (it wins), then upserts by values, NULL lowest (the greatest wins).
  auto before = [](const Event& x, const Event& y) {
    if (x.seq != y.seq) return x.seq < y.seq;
    if (x.op != y.op) return x.op == 'U';
    auto rank = [](const Event& e) {
      return std::make_tuple(e.a.has_value(), e.a, e.b.has_value(), e.b);
    };
    return rank(x) < rank(y);
  };
  int truncate_at = -1;
  std::map<int, std::vector<Event>> by_key;
  for (const Event& e : events) {
    if (e.op == 'T') truncate_at = std::max(truncate_at, e.seq);
  }
  for (const Event& e : events) {
    if (e.op != 'T' && e.seq > truncate_at) by_key[e.key].push_back(e);
  }
  std::vector<std::string> rows;
  for (auto& [key, mine] : by_key) {
    std::sort(mine.begin(), mine.end(), before);
    std::vector<Event> applied;  // one per sequence: the last of each run of equal sequences
    for (size_t i = 0; i < mine.size(); ++i) {
      if (i + 1 < mine.size() && mine[i + 1].seq == mine[i].seq) continue;
      applied.push_back(mine[i]);
    }
    if (scd_type == 1) {
      std::optional<Values> row;
      for (const Event& e : applied) {
        if (e.op == 'D') {
          row.reset();
        } else {
          row = Values{ignore_nulls && row && !e.a ? row->first : e.a,
                       ignore_nulls && row && !e.b ? row->second : e.b};
        }
      }
      if (row) rows.push_back(fmt::format("{}|{}|{}", key, text(row->first), text(row->second)));
      continue;
    }
    struct Version {
      Values values;
      int start;
      std::optional<int> end;
    };
    std::vector<Version> versions;
    bool current = false;
    for (const Event& e : applied) {
      if (e.op == 'D') {
        if (current) versions.back().end = e.seq;
        current = false;
        continue;
      }
      Values merged{e.a, e.b};
      if (current && ignore_nulls) {
        if (!merged.first) merged.first = versions.back().values.first;
        if (!merged.second) merged.second = versions.back().values.second;
      }
      if (current && merged.first == versions.back().values.first &&
          (track_a || merged.second == versions.back().values.second)) {
        versions.back().values = merged;  // no tracked change: in place
        continue;
      }
      if (current) versions.back().end = e.seq;
      versions.push_back(Version{merged, e.seq, std::nullopt});
      current = true;
    }
    for (const Version& v : versions) {
      rows.push_back(fmt::format("{}|{}|{}|{}|{}", key, text(v.values.first), text(v.values.second),
                                 v.start, v.end ? std::to_string(*v.end) : "NULL"));
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::string ValuesSql(const std::vector<Event>& events) {
  std::string sql;
  for (const Event& e : events) sql += (sql.empty() ? "" : ", ") + e.Sql();
  return sql;
}

// 1,000 random change streams (a few keys; upserts, deletes, late events, ties, and TRUNCATEs
// for SCD type 1), each applied all at once and again shuffled and split into 1..4 batches,
// carrying the target and state forward as a caller does: the targets must be equal, and equal
// to Model. For speed, 50 streams run together: each has its own keys, and an SCD1 group's
// TRUNCATE events are shared by its streams (each lands in one batch of the group).
TEST_F(AutoCdcTest, OrderIndependence) {
  constexpr int kStreams = 1000;
  constexpr int kStreamsPerGroup = 50;
  constexpr int kMaxBatches = 4;
  constexpr int kKeysPerStream = 10;
  std::mt19937 rng(20240611);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const std::vector<std::optional<std::string>> as = {"a", "b", std::nullopt};
  const std::vector<std::optional<std::string>> bs = {"x", "y", std::nullopt};
  for (int group = 0; group < kStreams / kStreamsPerGroup; ++group) {
    const int scd_type = 1 + group % 2;
    const bool ignore_nulls = scd_type == 2 && pick(2) == 0;
    const bool track_a = scd_type == 2 && pick(2) == 0;
    AutoCdcDefinition cdc = SimpleCdc(scd_type);
    if (scd_type == 1) cdc.apply_as_truncate_when = "op = 'T'";
    cdc.ignore_null_updates = ignore_nulls;
    if (track_a) cdc.track_history_on = ColumnSelection{false, {"a"}};

    std::vector<std::vector<Event>> streams(kStreamsPerGroup);
    std::vector<Event> all;                                // every event of the group
    std::vector<std::vector<Event>> batches(kMaxBatches);  // the same, shuffled and split
    for (int stream = 0; stream < kStreamsPerGroup; ++stream) {
      std::vector<Event>& events = streams[stream];
      const int keys = 1 + pick(4);
      const int n = 1 + pick(12);
      while (static_cast<int>(events.size()) < n) {
        Event e;
        e.key = stream * kKeysPerStream + pick(keys);
        e.seq = 1 + pick(12);
        e.op = pick(5) == 0 ? 'D' : 'U';
        e.a = as[pick(3)];
        e.b = bs[pick(3)];
        // SCD1: no two upserts of one key at one sequence (the first applied wins).
        if (scd_type == 1 && e.op == 'U' &&
            std::any_of(events.begin(), events.end(), [&](const Event& o) {
              return o.op == 'U' && o.key == e.key && o.seq == e.seq;
            })) {
          continue;
        }
        events.push_back(e);
      }
      all.insert(all.end(), events.begin(), events.end());
      std::vector<Event> shuffled = events;
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      const int parts = 1 + pick(kMaxBatches);
      for (size_t i = 0; i < shuffled.size(); ++i) {
        batches[std::min<size_t>(parts - 1, i * parts / shuffled.size())].push_back(shuffled[i]);
      }
    }
    std::vector<Event> truncates;
    for (int i = scd_type == 1 ? pick(3) : 0; i > 0; --i) {
      Event t;
      t.op = 'T';
      t.seq = 1 + pick(12);
      truncates.push_back(t);
      all.push_back(t);
      batches[pick(kMaxBatches)].push_back(t);
    }
    for (auto& batch : batches) std::shuffle(batch.begin(), batch.end(), rng);

    std::vector<std::string> expected;
    for (const std::vector<Event>& events : streams) {
      std::vector<Event> with_truncates = events;
      with_truncates.insert(with_truncates.end(), truncates.begin(), truncates.end());
      for (std::string& row : Model(scd_type, with_truncates, ignore_nulls, track_a)) {
        expected.push_back(std::move(row));
      }
    }
    std::sort(expected.begin(), expected.end());
    const std::string select =
        scd_type == 1 ? "SELECT * FROM {}" : "SELECT id, a, b, __START_AT, __END_AT FROM {}";
    // On a failure: the first stream whose rows differ, with its events and batches.
    auto explain = [&](const std::vector<std::string>& actual) {
      for (int stream = 0; stream < kStreamsPerGroup; ++stream) {
        auto of_stream = [&](const std::vector<std::string>& rows) {
          std::vector<std::string> out;
          for (const std::string& row : rows) {
            if (std::stoi(row.substr(0, row.find('|'))) / kKeysPerStream == stream) {
              out.push_back(row);
            }
          }
          return out;
        };
        if (of_stream(actual) == of_stream(expected)) continue;
        std::string text = fmt::format(
            "group {} (scd {}, ignore nulls {}, track a {}), stream {}: "
            "events {}; truncates {}; batches:",
            group, scd_type, ignore_nulls, track_a, stream, ValuesSql(streams[stream]),
            ValuesSql(truncates));
        for (const auto& batch : batches) {
          std::vector<Event> mine;
          for (const Event& e : batch) {
            if (e.op == 'T' || e.key / kKeysPerStream == stream) mine.push_back(e);
          }
          text += " [" + ValuesSql(mine) + "]";
        }
        return text;
      }
      return std::string("no stream differs");
    };

    ASSERT_OK(Table("chg", kSimpleColumns, ValuesSql(all)));
    ASSERT_OK(Init(cdc, "chg", "t1", "s1"));
    ASSERT_OK(Apply(cdc, "chg", kNow, {}, "t1", "s1"));
    const std::vector<std::string> all_at_once = Rows(fmt::format(fmt::runtime(select), "t1"));
    ASSERT_EQ(all_at_once, expected) << explain(all_at_once);

    ASSERT_OK(Init(cdc, "chg", "t2", "s2"));
    for (const std::vector<Event>& batch : batches) {
      if (batch.empty()) continue;
      ASSERT_OK(Table("chg", kSimpleColumns, ValuesSql(batch)));
      ASSERT_OK(Apply(cdc, "chg", kNow, {}, "t2", "s2"));
    }
    const std::vector<std::string> batched = Rows(fmt::format(fmt::runtime(select), "t2"));
    ASSERT_EQ(batched, expected) << explain(batched);
  }
}

}  // namespace
}  // namespace medallion::pipeline
