// The Delta write path end to end on a local folder with DuckDB's Parquet: transactions commit,
// checkpoints are written as real Parquet (DuckDbParquetWriter) at the checkpoint interval, read
// back by SnapshotBuilder through DuckDbParquetHandler, and have the column names and types of
// PROTOCOL.md, "Checkpoint Schema".
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "delta/checkpoint_writer.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/database.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/duckdb_parquet_writer.h"
#include "engine/sql_text.h"
#include "storage/local_object_store.h"
#include "storage/test_util.h"

namespace medallion::delta {
namespace {

constexpr char kRoot[] = "sales/orders";

Metadata OrdersMetadata() {
  Metadata m;
  m.id = GenerateUuid();
  m.schema_string =
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"region","type":"string","nullable":true,"metadata":{}}]})";
  m.partition_columns = {"region"};
  m.configuration = {{"delta.checkpointInterval", "10"}};
  return m;
}

AddFile Add(int i) {
  AddFile a;
  a.path = "region=" + std::string(i % 3 == 0 ? "__HIVE_DEFAULT_PARTITION__" : "eu") + "/part-" +
           std::to_string(i) + ".parquet";
  a.partition_values["region"] = i % 3 == 0 ? std::nullopt : std::optional<std::string>("eu");
  a.size = 1000 + i;
  a.modification_time = 1700000000000 + i;
  a.stats = R"({"numRecords":)" + std::to_string(i) +
            R"(,"minValues":{"id":1},"maxValues":{"id":)" + std::to_string(i) +
            R"(},"nullCount":{"id":0}})";
  if (i % 5 == 0) a.tags["INSERTION_TIME"] = std::to_string(i);
  return a;
}

class DeltaWriteCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::LocalObjectStore::Make(folder_.path(), {/*sync=*/false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto handler = engine::DuckDbParquetHandler::Make();
    ASSERT_TRUE(handler.ok());
    handler_ = std::move(*handler);
    auto writer = engine::DuckDbParquetWriter::Make();
    ASSERT_TRUE(writer.ok());
    writer_ = std::move(*writer);
  }

  TransactionOptions Options() {
    TransactionOptions o;
    o.checkpoint_writer = writer_.get();
    return o;
  }

  // Version 0 creates; versions 1..25 append file i, every 4th also removes file i-2, and every
  // commit records txn ("ingest", i).
  void Write25Commits() {
    auto create = Transaction::ForTable(*store_, kRoot, nullptr, Options());
    ASSERT_TRUE(create.ok());
    (*create)->UpdateMetadata(OrdersMetadata());
    ASSERT_OK((*create)->Commit(*handler_));
    for (int i = 1; i <= 25; ++i) {
      ASSERT_OK_AND_ASSIGN(auto snapshot, SnapshotBuilder(*store_, kRoot).Build(*handler_));
      ASSERT_OK_AND_ASSIGN(auto txn, Transaction::ForTable(*store_, kRoot, snapshot, Options()));
      txn->SetOperation("WRITE", {{"mode", "Append"}, {"partitionBy", "[\"region\"]"}});
      txn->AddFiles({Add(i)});
      if (i % 4 == 0) {
        RemoveFile r;
        r.path = Add(i - 2).path;
        r.partition_values = Add(i - 2).partition_values;
        r.size = Add(i - 2).size;
        r.extended_file_metadata = true;
        txn->RemoveFiles({r});
      }
      txn->SetTxn("ingest", i);
      ASSERT_OK_AND_ASSIGN(auto committed, txn->Commit(*handler_));
      EXPECT_EQ(committed.version, i);
      EXPECT_EQ(committed.checkpoint_written, i % 10 == 0) << i;
      EXPECT_OK(committed.checkpoint_status);
    }
  }

  storage::TempFolder folder_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<engine::DuckDbParquetHandler> handler_;
  std::unique_ptr<engine::DuckDbParquetWriter> writer_;
};

TEST_F(DeltaWriteCheckpointTest, CheckpointSnapshotEqualsJsonReplay) {
  ASSERT_NO_FATAL_FAILURE(Write25Commits());
  ASSERT_OK_AND_ASSIGN(auto listing, ListLog(*store_, kRoot));
  ASSERT_EQ(listing.checkpoints.size(), 2u);
  EXPECT_EQ(listing.checkpoints[0].version, 10);
  EXPECT_EQ(listing.checkpoints[1].version, 20);
  ASSERT_OK_AND_ASSIGN(auto hint, ReadLastCheckpointHint(*store_, kRoot));
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->version, 20);

  ASSERT_OK_AND_ASSIGN(auto segment, ListLogSegment(*store_, kRoot));
  ASSERT_TRUE(segment.checkpoint().has_value());
  EXPECT_EQ(segment.checkpoint()->version, 20);
  ASSERT_OK_AND_ASSIGN(auto from_checkpoint, SnapshotBuilder(*store_, kRoot).Build(*handler_));

  // The same table with only its JSON commits.
  storage::TempFolder json_folder;
  ASSERT_OK_AND_ASSIGN(auto json_store,
                       storage::LocalObjectStore::Make(json_folder.path(), {/*sync=*/false}));
  for (const auto& c : listing.commits) {
    ASSERT_OK_AND_ASSIGN(auto data, store_->Read(c.meta.key));
    ASSERT_OK(json_store->Write(c.meta.key, data));
  }
  ASSERT_OK_AND_ASSIGN(auto replayed, SnapshotBuilder(*json_store, kRoot).Build(*handler_));

  EXPECT_EQ(from_checkpoint->version(), 25);
  EXPECT_EQ(from_checkpoint->version(), replayed->version());
  EXPECT_EQ(from_checkpoint->protocol(), replayed->protocol());
  EXPECT_EQ(from_checkpoint->metadata(), replayed->metadata());
  EXPECT_EQ(from_checkpoint->txns().size(), 1u);
  EXPECT_EQ(from_checkpoint->TxnVersion("ingest"), 25);
  EXPECT_EQ(from_checkpoint->txns().at("ingest").version, replayed->txns().at("ingest").version);
  EXPECT_EQ(from_checkpoint->num_tombstones(), replayed->num_tombstones());
  ASSERT_EQ(from_checkpoint->files().size(), replayed->files().size());
  EXPECT_EQ(replayed->files().size(), 25u - 6u);
  for (size_t i = 0; i < replayed->files().size(); ++i) {
    AddFile a = from_checkpoint->files()[i];
    AddFile b = replayed->files()[i];
    // A checkpoint's adds carry dataChange=false, as Delta Lake writes them (the files of
    // versions 21..25 come from JSON commits and keep true).
    a.data_change = b.data_change;
    EXPECT_EQ(a, b) << b.path;
  }

  // Time travel to the first checkpoint's version reads it as well.
  SnapshotBuilder at10(*store_, kRoot);
  at10.AtVersion(10);
  ASSERT_OK_AND_ASSIGN(auto v10, at10.Build(*handler_));
  EXPECT_EQ(v10->files().size(), 10u - 2u);
}

TEST_F(DeltaWriteCheckpointTest, CheckpointHasSpecColumnTypes) {
  ASSERT_NO_FATAL_FAILURE(Write25Commits());
  ASSERT_OK_AND_ASSIGN(
      auto path, store_->LocalPath(LogPrefix(kRoot) + "00000000000000000020.checkpoint.parquet"));
  ASSERT_OK_AND_ASSIGN(auto db, engine::Database::Open());
  ASSERT_OK_AND_ASSIGN(auto conn, db->Connect());
  ASSERT_OK_AND_ASSIGN(
      auto described,
      conn->Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(" +
                  engine::QuoteString(path) + "))"));
  std::map<std::string, std::string> types;
  for (size_t r = 0; r < described.row_count(); ++r) {
    ASSERT_OK_AND_ASSIGN(auto name, described.GetString(0, r));
    ASSERT_OK_AND_ASSIGN(auto type, described.GetString(1, r));
    types[name] = type;
  }
  ASSERT_EQ(types.size(), 6u);
  EXPECT_EQ(types["txn"], R"(STRUCT(appId VARCHAR, "version" BIGINT, lastUpdated BIGINT))");
  EXPECT_EQ(types["protocol"],
            "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures "
            "VARCHAR[], writerFeatures VARCHAR[])");
  EXPECT_NE(types["add"].find("partitionValues MAP(VARCHAR, VARCHAR)"), std::string::npos)
      << types["add"];
  EXPECT_NE(types["add"].find("stats VARCHAR"), std::string::npos);
  EXPECT_NE(types["add"].find("size BIGINT, modificationTime BIGINT, dataChange BOOLEAN"),
            std::string::npos)
      << types["add"];
  EXPECT_NE(types["remove"].find("deletionTimestamp BIGINT"), std::string::npos);
  EXPECT_NE(types["metaData"].find("partitionColumns VARCHAR[]"), std::string::npos);
  EXPECT_NE(types["metaData"].find("\"configuration\" MAP(VARCHAR, VARCHAR)"), std::string::npos);
  EXPECT_NE(
      types["metaData"].find("format STRUCT(provider VARCHAR, \"options\" MAP(VARCHAR, VARCHAR))"),
      std::string::npos)
      << types["metaData"];

  // One action per row: protocol, metaData, txn, 15 adds, tombstones; counts as _last_checkpoint.
  ASSERT_OK_AND_ASSIGN(
      auto counts, conn->Query("SELECT count(*), count(\"add\"), count(remove), count(protocol), "
                               "count(\"metaData\"), count(txn) FROM read_parquet(" +
                               engine::QuoteString(path) + ")"));
  ASSERT_OK_AND_ASSIGN(auto last, store_->Read(LogPrefix(kRoot) + "_last_checkpoint"));
  auto hint = nlohmann::json::parse(last);
  EXPECT_EQ(counts.GetText(0, 0), std::to_string(hint["size"].get<int64_t>()));
  EXPECT_EQ(counts.GetText(1, 0), "15");
  EXPECT_EQ(hint["numOfAddFiles"], 15);
  EXPECT_EQ(counts.GetText(2, 0), "5");
  EXPECT_EQ(counts.GetText(3, 0), "1");
  EXPECT_EQ(counts.GetText(4, 0), "1");
  EXPECT_EQ(counts.GetText(5, 0), "1");
  ASSERT_OK_AND_ASSIGN(auto size,
                       store_->Head(LogPrefix(kRoot) + "00000000000000000020.checkpoint.parquet"));
  EXPECT_EQ(hint["sizeInBytes"], size.size);

  // File actions in a checkpoint carry dataChange=false.
  ASSERT_OK_AND_ASSIGN(
      auto changes, conn->Query("SELECT count(*) FROM read_parquet(" + engine::QuoteString(path) +
                                ") WHERE \"add\".dataChange OR remove.dataChange"));
  EXPECT_EQ(changes.GetText(0, 0), "0");

  // A NULL partition value survives as a NULL map value.
  ASSERT_OK_AND_ASSIGN(
      auto nulls,
      conn->Query("SELECT count(*) FROM read_parquet(" + engine::QuoteString(path) +
                  ") WHERE \"add\" IS NOT NULL AND \"add\".partitionValues['region'] IS NULL"));
  EXPECT_EQ(nulls.GetText(0, 0), "4");  // files 3, 9, 12, 15
}

}  // namespace
}  // namespace medallion::delta
