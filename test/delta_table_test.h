// The base fixture of the integration tests that write and read Delta tables through a Session
// (test-only, header only): a temporary folder holding the tables, a Session (DuckDB dialect), a
// LocalObjectStore on the folder (without fsync: these tests do not cut power) and a Parquet
// handler. A table is named by its key in the folder, "t" unless a test says otherwise. MakeTable
// writes "t" and the same rows as the DuckDB table `expected`, which ExpectMatchesDuckDb compares.
//
// Thread-safety: as GoogleTest fixtures, one test at a time.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "delta/snapshot.h"
#include "delta_validity.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "session_rows.h"
#include "storage/local_object_store.h"
#include "storage/test_util.h"

namespace medallion::testutil {

class DeltaTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(session_, engine::Session::Open());
    ASSERT_OK_AND_ASSIGN(store_, storage::LocalObjectStore::Make(folder_.path(), {/*sync=*/false}));
    ASSERT_OK_AND_ASSIGN(parquet_, engine::DuckDbParquetHandler::Make());
  }

  // The table's folder, and its reference in SQL: delta.`<folder>`.
  std::string Path(const std::string& table = "t") const { return folder_.path() + "/" + table; }
  std::string Ref(const std::string& table = "t") const { return "delta.`" + Path(table) + "`"; }

  // The latest snapshot (null, with a test failure, when it does not load).
  std::shared_ptr<const delta::Snapshot> Snapshot(const std::string& table = "t") {
    auto s = delta::SnapshotBuilder(*store_, table).Build(*parquet_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  // The table "t" from `sql`, in files of 10 rows (`options` gives the rest, e.g. partition_by),
  // and the same rows in the DuckDB table `expected`.
  void MakeTable(const std::string& sql, engine::WriteOptions options = {}) {
    options.target_file_rows = 10;
    ASSERT_OK(engine::WriteDelta(session_->connection(), sql, *store_, "t", *parquet_, options).status());
    ASSERT_OK(session_->Query("CREATE OR REPLACE TABLE expected AS " + sql).status());
  }

  // "t" equals the DuckDB table `expected` (as multisets), and is valid Delta.
  void ExpectMatchesDuckDb() {
    testutil::ExpectSameMultiset(*session_, Ref(), "expected");
    EXPECT_OK(validity::ValidateDeltaTable(Path()));
  }

  std::string Text(const std::string& sql) { return testutil::TextOf(*session_, sql); }
  int64_t Count(const std::string& sql) { return testutil::CountOf(*session_, sql); }

  storage::TempFolder folder_;
  std::unique_ptr<engine::Session> session_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<engine::DuckDbParquetHandler> parquet_;
};

}  // namespace medallion::testutil
