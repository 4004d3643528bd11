#include "delta/transaction.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "delta/test_util.h"
#include "delta/write_test_util.h"
#include "storage/fault_injecting_object_store.h"
#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"
#include "storage/test_util.h"

namespace medallion::delta {
namespace {

using storage::FaultInjectingObjectStore;
using testing::TestAdd;
using testing::TestMetadata;
using testing::TestRemove;
using Json = nlohmann::json;

constexpr char kRoot[] = "db/t";

class TransactionTest : public ::testing::Test {
 protected:
  Result<std::shared_ptr<const Snapshot>> Latest(storage::ObjectStore& store) {
    return SnapshotBuilder(store, kRoot).Build(parquet_);
  }
  Result<std::shared_ptr<const Snapshot>> Latest() { return Latest(store_); }

  // Creates the table (version 0) with `metadata`.
  Status Create(storage::ObjectStore& store, Metadata metadata = TestMetadata()) {
    ASSIGN_OR_RETURN(auto txn, Transaction::ForTable(store, kRoot, nullptr));
    txn->UpdateMetadata(std::move(metadata));
    return txn->Commit(parquet_).status();
  }
  Status Create(Metadata metadata = TestMetadata()) { return Create(store_, std::move(metadata)); }

  Result<CommitResult> Append(storage::ObjectStore& store, const std::string& path) {
    ASSIGN_OR_RETURN(auto snapshot, Latest(store));
    ASSIGN_OR_RETURN(auto txn, Transaction::ForTable(store, kRoot, snapshot));
    txn->SetOperation("WRITE", {{"mode", "Append"}, {"partitionBy", "[]"}});
    txn->AddFiles({TestAdd(path)});
    return txn->Commit(parquet_);
  }

  std::vector<Json> CommitLines(int64_t version) {
    auto data = store_.Read(LogPrefix(kRoot) + CommitFileName(version));
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    std::vector<Json> out;
    if (!data.ok()) return out;
    std::istringstream in(*data);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(Json::parse(line));
    }
    return out;
  }

  storage::MemoryObjectStore store_;
  testing::StubParquetHandler parquet_;
};

TEST_F(TransactionTest, CreateAppendAndReadBack) {
  ASSERT_OK(Create());
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto r, Append(store_, "part-" + std::to_string(i) + ".parquet"));
    EXPECT_EQ(r.version, i + 1);
    EXPECT_EQ(r.attempts, 1);
  }
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  EXPECT_EQ(snapshot->version(), 3);
  ASSERT_EQ(snapshot->files().size(), 3u);
  EXPECT_EQ(snapshot->files()[0].path, "part-0.parquet");
  EXPECT_EQ(snapshot->files()[0].stats, R"({"numRecords":10})");
  EXPECT_EQ(snapshot->protocol(), (Protocol{1, 2, std::nullopt, std::nullopt}));
  EXPECT_EQ(snapshot->metadata().id, TestMetadata().id);
  ASSERT_TRUE(snapshot->commit_info().has_value());
  EXPECT_EQ(snapshot->commit_info()->operation, "WRITE");
}

TEST_F(TransactionTest, CreateGeneratesIdAndCreatedTime) {
  Metadata m = TestMetadata();
  m.id.clear();
  m.created_time.reset();
  ASSERT_OK(Create(m));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  EXPECT_EQ(snapshot->metadata().id.size(), 36u);
  EXPECT_TRUE(snapshot->metadata().created_time.has_value());
}

TEST_F(TransactionTest, CommitJsonMatchesSpec) {
  ASSERT_OK(Create());
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::ForTable(store_, kRoot, snapshot));
  txn->SetOperation("WRITE", {{"mode", "Append"}, {"partitionBy", "[]"}});
  txn->SetOperationMetrics({{"numFiles", 1}, {"numOutputRows", 10}});
  txn->AddFiles({TestAdd("part-0.parquet", 123)});
  ASSERT_OK(txn->Commit(parquet_));

  // Version 0: commitInfo, protocol, metaData.
  auto create = CommitLines(0);
  ASSERT_EQ(create.size(), 3u);
  EXPECT_EQ(create[0]["commitInfo"]["operation"], "CREATE TABLE");
  EXPECT_FALSE(create[0]["commitInfo"].contains("readVersion"));
  EXPECT_EQ(create[1], Json::parse(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"));
  const Json& md = create[2]["metaData"];
  EXPECT_EQ(md["id"], TestMetadata().id);
  EXPECT_EQ(md["format"], Json::parse(R"({"provider":"parquet","options":{}})"));
  EXPECT_EQ(md["schemaString"], TestMetadata().schema_string);
  EXPECT_EQ(md["partitionColumns"], Json::array());
  EXPECT_EQ(md["configuration"], Json::object());
  EXPECT_EQ(md["createdTime"], 1000);

  // Version 1: commitInfo first, then the add.
  auto lines = CommitLines(1);
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_TRUE(lines[0].contains("commitInfo"));
  const Json& ci = lines[0]["commitInfo"];
  EXPECT_TRUE(ci["timestamp"].is_number_integer());
  EXPECT_GT(ci["timestamp"].get<int64_t>(), 1600000000000);
  EXPECT_EQ(ci["operation"], "WRITE");
  EXPECT_EQ(ci["operationParameters"], Json::parse(R"({"mode":"Append","partitionBy":"[]"})"));
  EXPECT_EQ(ci["readVersion"], 0);
  EXPECT_EQ(ci["isolationLevel"], "Serializable");
  EXPECT_EQ(ci["isBlindAppend"], true);
  EXPECT_EQ(ci["operationMetrics"], Json::parse(R"({"numFiles":"1","numOutputRows":"10"})"));
  EXPECT_EQ(ci["engineInfo"], "medallion/0.1.0");
  EXPECT_EQ(ci["txnId"], txn->txn_id());
  EXPECT_EQ(ci["txnId"].get<std::string>().size(), 36u);

  ASSERT_TRUE(lines[1].contains("add"));
  const Json& add = lines[1]["add"];
  EXPECT_EQ(add["path"], "part-0.parquet");
  EXPECT_EQ(add["partitionValues"], Json::object());
  EXPECT_EQ(add["size"], 123);
  EXPECT_EQ(add["modificationTime"], 1000);
  EXPECT_EQ(add["dataChange"], true);
  EXPECT_EQ(add["stats"], R"({"numRecords":10})");
}

TEST_F(TransactionTest, RemoveCommitHasDeletionTimestampAndIsNotBlind) {
  ASSERT_OK(Create());
  ASSERT_OK(Append(store_, "a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::ForTable(store_, kRoot, snapshot));
  txn->SetOperation("DELETE", {{"predicate", "[\"true\"]"}});
  txn->RemoveFiles({TestRemove("a.parquet")});
  EXPECT_FALSE(txn->is_blind_append());
  ASSERT_OK(txn->Commit(parquet_));
  auto lines = CommitLines(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["commitInfo"]["isBlindAppend"], false);
  EXPECT_EQ(lines[1]["remove"]["path"], "a.parquet");
  EXPECT_TRUE(lines[1]["remove"]["deletionTimestamp"].is_number_integer());
  EXPECT_EQ(lines[1]["remove"]["dataChange"], true);
  ASSERT_OK_AND_ASSIGN(auto after, Latest());
  EXPECT_TRUE(after->files().empty());
}

TEST_F(TransactionTest, BlindAppendRaceOnLocalStore) {
  storage::TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto local,
                       storage::LocalObjectStore::Make(folder.path(), {/*sync=*/false}));
  ASSERT_OK(Create(*local));
  constexpr int kThreads = 8;
  constexpr int kAppends = 25;
  std::atomic<int> failures{0};
  std::atomic<int> retried{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        auto r = Append(*local, "t" + std::to_string(t) + "-" + std::to_string(i) + ".parquet");
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          ++failures;
        } else if (r->attempts > 1) {
          ++retried;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  ASSERT_OK_AND_ASSIGN(auto listing, ListLog(*local, kRoot));
  ASSERT_EQ(listing.commits.size(), static_cast<size_t>(kThreads * kAppends + 1));
  for (size_t v = 0; v < listing.commits.size(); ++v) {
    EXPECT_EQ(listing.commits[v].name.version, static_cast<int64_t>(v));
  }
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest(*local));
  EXPECT_EQ(snapshot->version(), kThreads * kAppends);
  std::multiset<std::string> paths;
  for (const auto& f : snapshot->files()) paths.insert(f.path);
  EXPECT_EQ(paths.size(), static_cast<size_t>(kThreads * kAppends));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kAppends; ++i) {
      EXPECT_EQ(paths.count("t" + std::to_string(t) + "-" + std::to_string(i) + ".parquet"), 1u);
    }
  }
  // Every commit holds exactly one add.
  for (int64_t v = 1; v <= kThreads * kAppends; ++v) {
    ASSERT_OK_AND_ASSIGN(auto data, local->Read(LogPrefix(kRoot) + CommitFileName(v)));
    ASSERT_OK_AND_ASSIGN(auto actions, ParseActions(data, "commit"));
    int adds = 0;
    for (const auto& a : actions) adds += std::holds_alternative<AddFile>(a) ? 1 : 0;
    EXPECT_EQ(adds, 1) << "version " << v;
  }
}

TEST_F(TransactionTest, ConcurrentRemovesOfOneFileConflict) {
  ASSERT_OK(Create());
  ASSERT_OK(Append(store_, "a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto t1, Transaction::ForTable(store_, kRoot, snapshot));
  ASSERT_OK_AND_ASSIGN(auto t2, Transaction::ForTable(store_, kRoot, snapshot));
  t1->RemoveFiles({TestRemove("a.parquet")});
  t2->RemoveFiles({TestRemove("a.parquet")});
  t2->AddFiles({TestAdd("b.parquet")});
  ASSERT_OK_AND_ASSIGN(auto r1, t1->Commit(parquet_));
  EXPECT_EQ(r1.version, 2);
  auto r2 = t2->Commit(parquet_);
  ASSERT_TRUE(r2.status().IsConflict()) << r2.status().ToString();
  EXPECT_NE(r2.status().message().find("version 2"), std::string::npos) << r2.status().message();
  EXPECT_NE(r2.status().message().find("concurrent update"), std::string::npos);
  EXPECT_NE(r2.status().message().find("a.parquet"), std::string::npos);
  // Nothing of t2 landed.
  ASSERT_OK_AND_ASSIGN(auto after, Latest());
  EXPECT_EQ(after->version(), 2);
  EXPECT_TRUE(after->files().empty());
}

TEST_F(TransactionTest, RemovedFileThatWasReadConflicts) {
  ASSERT_OK(Create());
  ASSERT_OK(Append(store_, "a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto reader, Transaction::ForTable(store_, kRoot, snapshot));
  reader->RecordReadFiles({"a.parquet"});
  reader->AddFiles({TestAdd("derived.parquet")});
  ASSERT_OK_AND_ASSIGN(auto deleter, Transaction::ForTable(store_, kRoot, snapshot));
  deleter->RemoveFiles({TestRemove("a.parquet")});
  ASSERT_OK(deleter->Commit(parquet_));
  auto r = reader->Commit(parquet_);
  ASSERT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("concurrent delete"), std::string::npos);
  EXPECT_NE(r.status().message().find("version 2"), std::string::npos);
}

TEST_F(TransactionTest, WholeTableReadConflictsWithConcurrentAppend) {
  ASSERT_OK(Create());
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto overwrite, Transaction::ForTable(store_, kRoot, snapshot));
  overwrite->RecordReadWholeTable();
  overwrite->AddFiles({TestAdd("summary.parquet")});
  ASSERT_OK(Append(store_, "late.parquet"));
  auto r = overwrite->Commit(parquet_);
  ASSERT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("concurrent append"), std::string::npos);
  EXPECT_NE(r.status().message().find("version 1"), std::string::npos);
}

TEST_F(TransactionTest, DisjointChangesRebase) {
  ASSERT_OK(Create());
  ASSERT_OK(Append(store_, "a.parquet"));
  ASSERT_OK(Append(store_, "b.parquet"));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  // Removes a; meanwhile b is removed and c appended by others: no overlap, so it rebases.
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(store_, kRoot, snapshot));
  t->RemoveFiles({TestRemove("a.parquet")});
  {
    ASSERT_OK_AND_ASSIGN(auto other, Transaction::ForTable(store_, kRoot, snapshot));
    other->RemoveFiles({TestRemove("b.parquet")});
    ASSERT_OK(other->Commit(parquet_));
  }
  ASSERT_OK(Append(store_, "c.parquet"));
  ASSERT_OK_AND_ASSIGN(auto r, t->Commit(parquet_));
  EXPECT_EQ(r.version, 5);
  EXPECT_EQ(r.attempts, 2);
  ASSERT_OK_AND_ASSIGN(auto after, Latest());
  ASSERT_EQ(after->files().size(), 1u);
  EXPECT_EQ(after->files()[0].path, "c.parquet");
  // readVersion stays the version read.
  auto lines = CommitLines(5);
  EXPECT_EQ(lines[0]["commitInfo"]["readVersion"], 2);
}

TEST_F(TransactionTest, MetadataChangeByWinnerConflicts) {
  ASSERT_OK(Create());
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto append, Transaction::ForTable(store_, kRoot, snapshot));
  append->AddFiles({TestAdd("a.parquet")});
  ASSERT_OK_AND_ASSIGN(auto alter, Transaction::ForTable(store_, kRoot, snapshot));
  alter->UpdateMetadata(TestMetadata({{"delta.appendOnly", "true"}}));
  ASSERT_OK(alter->Commit(parquet_));
  auto r = append->Commit(parquet_);
  ASSERT_TRUE(r.status().IsConflict());
  EXPECT_NE(r.status().message().find("metadata changed"), std::string::npos);
}

TEST_F(TransactionTest, ConcurrentCreateConflicts) {
  ASSERT_OK_AND_ASSIGN(auto t1, Transaction::ForTable(store_, kRoot, nullptr));
  ASSERT_OK_AND_ASSIGN(auto t2, Transaction::ForTable(store_, kRoot, nullptr));
  t1->UpdateMetadata(TestMetadata());
  t2->UpdateMetadata(TestMetadata());
  ASSERT_OK(t1->Commit(parquet_));
  auto r = t2->Commit(parquet_);
  ASSERT_TRUE(r.status().IsConflict());
  EXPECT_NE(r.status().message().find("created concurrently"), std::string::npos);
}

TEST_F(TransactionTest, CreateWithoutMetadataIsInvalid) {
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(store_, kRoot, nullptr));
  EXPECT_TRUE(t->Commit(parquet_).status().IsInvalidArgument());
}

TEST_F(TransactionTest, CommitTwiceIsInvalid) {
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(store_, kRoot, nullptr));
  t->UpdateMetadata(TestMetadata());
  ASSERT_OK(t->Commit(parquet_));
  EXPECT_TRUE(t->Commit(parquet_).status().IsInvalidArgument());
}

TEST_F(TransactionTest, TxnIdempotence) {
  ASSERT_OK(Create());
  ASSERT_OK_AND_ASSIGN(auto s0, Latest());
  EXPECT_FALSE(s0->TxnVersion("flow-1").has_value());
  {
    ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(store_, kRoot, s0));
    t->SetTxn("flow-1", 7);
    t->AddFiles({TestAdd("batch7.parquet")});
    ASSERT_OK(t->Commit(parquet_));
  }
  ASSERT_OK_AND_ASSIGN(auto s1, Latest());
  EXPECT_EQ(s1->TxnVersion("flow-1"), 7);
  auto lines = CommitLines(1);
  ASSERT_TRUE(lines[1].contains("txn"));
  EXPECT_EQ(lines[1]["txn"]["appId"], "flow-1");
  EXPECT_EQ(lines[1]["txn"]["version"], 7);
  EXPECT_TRUE(lines[1]["txn"]["lastUpdated"].is_number_integer());

  // Two writers of batch 8 race: the loser conflicts, re-reads, and sees batch 8 is done.
  ASSERT_OK_AND_ASSIGN(auto a, Transaction::ForTable(store_, kRoot, s1));
  ASSERT_OK_AND_ASSIGN(auto b, Transaction::ForTable(store_, kRoot, s1));
  a->SetTxn("flow-1", 8);
  a->AddFiles({TestAdd("batch8-a.parquet")});
  b->SetTxn("flow-1", 8);
  b->AddFiles({TestAdd("batch8-b.parquet")});
  ASSERT_OK(a->Commit(parquet_));
  auto rb = b->Commit(parquet_);
  ASSERT_TRUE(rb.status().IsConflict());
  EXPECT_NE(rb.status().message().find("concurrent transaction for app flow-1"), std::string::npos)
      << rb.status().message();
  ASSERT_OK_AND_ASSIGN(auto s2, Latest());
  EXPECT_GE(*s2->TxnVersion("flow-1"), 8);  // the caller skips batch 8
  EXPECT_EQ(s2->files().size(), 2u);
}

TEST_F(TransactionTest, AppendOnlyRefusesDataRemoval) {
  ASSERT_OK(Create(TestMetadata({{"delta.appendOnly", "true"}})));
  ASSERT_OK(Append(store_, "a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(store_, kRoot, snapshot));
  t->RemoveFiles({TestRemove("a.parquet", /*data_change=*/true)});
  auto r = t->Commit(parquet_);
  ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("delta.appendOnly"), std::string::npos);
  // Rearranging data (dataChange=false, e.g. compaction) is allowed.
  ASSERT_OK_AND_ASSIGN(auto compact, Transaction::ForTable(store_, kRoot, snapshot));
  compact->SetOperation("OPTIMIZE");
  compact->RemoveFiles({TestRemove("a.parquet", /*data_change=*/false)});
  AddFile merged = TestAdd("merged.parquet");
  merged.data_change = false;
  compact->AddFiles({merged});
  ASSERT_OK(compact->Commit(parquet_));
}

TEST_F(TransactionTest, RefusesUnsupportedWriterFeature) {
  auto lines = testing::CreateTableLines(
      "{}",
      R"({"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":[],"writerFeatures":["rowTracking","domainMetadata"]})");
  ASSERT_OK(testing::WriteCommit(store_, kRoot, 0, lines));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  auto t = Transaction::ForTable(store_, kRoot, snapshot);
  ASSERT_TRUE(t.status().IsNotSupported()) << t.status().ToString();
  EXPECT_NE(t.status().message().find("rowTracking"), std::string::npos);
}

TEST_F(TransactionTest, EnablingChangeDataFeedUpgradesProtocol) {
  ASSERT_OK(Create());
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(store_, kRoot, snapshot));
  t->SetOperation("SET TBLPROPERTIES");
  t->UpdateMetadata(TestMetadata({{"delta.enableChangeDataFeed", "true"}}));
  ASSERT_OK(t->Commit(parquet_));
  ASSERT_OK_AND_ASSIGN(auto after, Latest());
  EXPECT_EQ(after->protocol(), (Protocol{1, 4, std::nullopt, std::nullopt}));
  // cdc files are now accepted.
  ASSERT_OK_AND_ASSIGN(auto w, Transaction::ForTable(store_, kRoot, after));
  AddCdcFile cdc;
  cdc.path = "_change_data/cdc-0.parquet";
  cdc.size = 10;
  w->AddCdcFiles({cdc});
  ASSERT_OK(w->Commit(parquet_));
  auto lines = CommitLines(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["cdc"]["path"], "_change_data/cdc-0.parquet");
}

TEST_F(TransactionTest, CdcFilesNeedChangeDataFeed) {
  ASSERT_OK(Create());
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto w, Transaction::ForTable(store_, kRoot, snapshot));
  AddCdcFile cdc;
  cdc.path = "_change_data/cdc-0.parquet";
  w->AddCdcFiles({cdc});
  EXPECT_TRUE(w->Commit(parquet_).status().IsInvalidArgument());
}

TEST_F(TransactionTest, TimestampNtzTableIsCreatedWithTableFeatures) {
  Metadata m = TestMetadata();
  m.schema_string = testing::SchemaJson({{"id", "long"}, {"ts", "timestamp_ntz"}});
  ASSERT_OK(Create(m));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  EXPECT_EQ(snapshot->protocol().min_reader_version, 3);
  EXPECT_EQ(snapshot->protocol().min_writer_version, 7);
  EXPECT_EQ(snapshot->protocol().reader_features, (std::set<std::string>{"timestampNtz"}));
  EXPECT_EQ(snapshot->protocol().writer_features,
            (std::set<std::string>{"appendOnly", "invariants", "timestampNtz"}));
}

TEST_F(TransactionTest, PartitionValuesMustMatchPartitionColumns) {
  ASSERT_OK(Create(TestMetadata({}, {"p"})));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  ASSERT_OK_AND_ASSIGN(auto bad, Transaction::ForTable(store_, kRoot, snapshot));
  bad->AddFiles({TestAdd("x.parquet")});
  EXPECT_TRUE(bad->Commit(parquet_).status().IsInvalidArgument());
  ASSERT_OK_AND_ASSIGN(auto good, Transaction::ForTable(store_, kRoot, snapshot));
  AddFile a = TestAdd("p=1/x.parquet");
  a.partition_values["p"] = "1";
  good->AddFiles({a});
  ASSERT_OK(good->Commit(parquet_));
}

TEST_F(TransactionTest, PutIfAbsentFailureLeavesTableUnchanged) {
  ASSERT_OK(Create());
  ASSERT_OK(Append(store_, "a.parquet"));
  FaultInjectingObjectStore faulty(&store_);
  faulty.FailNthCall(FaultInjectingObjectStore::Operation::kPutIfAbsent, 1,
                     Status::IOError("disk on fire"));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest(faulty));
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(faulty, kRoot, snapshot));
  t->AddFiles({TestAdd("b.parquet")});
  auto r = t->Commit(parquet_);
  ASSERT_TRUE(r.status().IsIOError()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("disk on fire"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(auto after, Latest());
  EXPECT_EQ(after->version(), 1);
  EXPECT_EQ(after->files().size(), 1u);
  // A retry of the same transaction then succeeds, once.
  ASSERT_OK_AND_ASSIGN(auto ok, t->Commit(parquet_));
  EXPECT_EQ(ok.version, 2);
  EXPECT_FALSE(ok.recovered_own_commit);
}

TEST_F(TransactionTest, LostReplyIsRecognizedAsOwnCommit) {
  ASSERT_OK(Create());
  FaultInjectingObjectStore faulty(&store_);
  faulty.FailAfterWrite(FaultInjectingObjectStore::Operation::kPutIfAbsent);
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest(faulty));
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(faulty, kRoot, snapshot));
  t->AddFiles({TestAdd("a.parquet")});
  ASSERT_OK_AND_ASSIGN(auto r, t->Commit(parquet_));
  EXPECT_EQ(r.version, 1);
  EXPECT_TRUE(r.recovered_own_commit);
  ASSERT_OK_AND_ASSIGN(auto listing, ListLog(store_, kRoot));
  EXPECT_EQ(listing.commits.size(), 2u);
}

TEST_F(TransactionTest, RetryAfterUnconfirmedCommitDoesNotCommitTwice) {
  ASSERT_OK(Create());
  FaultInjectingObjectStore faulty(&store_);
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest(faulty));
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(faulty, kRoot, snapshot));
  t->AddFiles({TestAdd("a.parquet")});
  // The commit lands but the reply is lost, and the read-back fails too.
  faulty.FailAfterWrite(FaultInjectingObjectStore::Operation::kPutIfAbsent);
  faulty.FailNthCall(FaultInjectingObjectStore::Operation::kRead, 1, Status::IOError("timeout"));
  auto first = t->Commit(parquet_);
  ASSERT_TRUE(first.status().IsIOError()) << first.status().ToString();
  // Meanwhile another writer appends.
  ASSERT_OK(Append(store_, "other.parquet"));
  ASSERT_OK_AND_ASSIGN(auto second, t->Commit(parquet_));
  EXPECT_EQ(second.version, 1);
  EXPECT_TRUE(second.recovered_own_commit);
  ASSERT_OK_AND_ASSIGN(auto after, Latest());
  EXPECT_EQ(after->version(), 2);
  ASSERT_EQ(after->files().size(), 2u);
  EXPECT_EQ(after->files()[0].path, "a.parquet");
}

TEST_F(TransactionTest, GivesUpAfterMaxAttempts) {
  ASSERT_OK(Create());
  FaultInjectingObjectStore faulty(&store_);
  FaultInjectingObjectStore::Fault fault;
  fault.operation = FaultInjectingObjectStore::Operation::kPutIfAbsent;
  fault.times = FaultInjectingObjectStore::kEveryCall;
  fault.status = Status::AlreadyExists("busy");
  faulty.AddFault(fault);
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest(faulty));
  TransactionOptions options;
  options.max_attempts = 3;
  options.initial_backoff_ms = 0;
  ASSERT_OK_AND_ASSIGN(auto t, Transaction::ForTable(faulty, kRoot, snapshot, options));
  t->AddFiles({TestAdd("a.parquet")});
  auto r = t->Commit(parquet_);
  ASSERT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("3 attempts"), std::string::npos);
}

}  // namespace
}  // namespace medallion::delta
