#include "delta/vacuum_plan.h"

#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

storage::ObjectMeta Obj(std::string key, int64_t mtime) { return {std::move(key), 10, mtime}; }

AddFile Add(std::string path) {
  AddFile a;
  a.path = std::move(path);
  return a;
}

RemoveFile Remove(std::string path, int64_t deleted_at) {
  RemoveFile r;
  r.path = std::move(path);
  r.deletion_timestamp = deleted_at;
  return r;
}

std::vector<std::string> Keys(const std::vector<storage::ObjectMeta>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.key);
  return out;
}

TEST(VacuumPlanTest, HiddenFoldersAndFilesAreNotOwned) {
  std::vector<std::string> parts = {"_p"};
  EXPECT_TRUE(IsVacuumablePath("part-0.parquet", parts));
  EXPECT_TRUE(IsVacuumablePath("d=1/part-0.parquet", parts));
  EXPECT_TRUE(IsVacuumablePath("_change_data/cdc-0.parquet", parts));
  EXPECT_TRUE(IsVacuumablePath("_p=x/part-0.parquet", parts));
  EXPECT_TRUE(IsVacuumablePath("deletion_vector_abc.bin", parts));
  EXPECT_FALSE(IsVacuumablePath("_delta_log/00000000000000000000.json", parts));
  EXPECT_FALSE(IsVacuumablePath("_other/part-0.parquet", parts));
  EXPECT_FALSE(IsVacuumablePath(".hidden/part-0.parquet", parts));
  EXPECT_FALSE(IsVacuumablePath("d=1/_change_data/x.parquet", parts));
  EXPECT_FALSE(IsVacuumablePath("_q=1/part-0.parquet", parts));
  EXPECT_FALSE(IsVacuumablePath("_SUCCESS", parts));
  EXPECT_FALSE(IsVacuumablePath(".part-0.parquet.crc", parts));
}

TEST(VacuumPlanTest, DeletesUnreferencedFilesOlderThanTheHorizon) {
  VacuumPlanInput in;
  in.horizon_ms = 1000;
  in.listed = {Obj("active.parquet", 1), Obj("fresh-tombstone.parquet", 1),
               Obj("old-tombstone.parquet", 1), Obj("orphan.parquet", 1),
               Obj("new-orphan.parquet", 1000), Obj("_change_data/c.parquet", 5),
               Obj("_delta_log/00000000000000000000.json", 1), Obj("a%20b.parquet", 1),
               Obj("a b.parquet", 1)};
  in.active = {Add("active.parquet"), Add("a%20b.parquet")};
  in.tombstones = {Remove("fresh-tombstone.parquet", 1001), Remove("old-tombstone.parquet", 1000)};
  auto plan = PlanVacuum(in);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(Keys(*plan), (std::vector<std::string>{"_change_data/c.parquet", "a%20b.parquet",
                                                   "old-tombstone.parquet", "orphan.parquet"}));
}

TEST(VacuumPlanTest, DeletionVectorFilesOfActiveFilesAreKept) {
  DeletionVectorDescriptor dv;
  dv.storage_type = "u";
  dv.path_or_inline_dv = "ab^-aqEH.-t@S}K{vb[*k^";  // prefix "ab", then a Z85 UUID
  auto dv_path = DeletionVectorRelativePath(dv);
  ASSERT_TRUE(dv_path.ok()) << dv_path.status().ToString();
  AddFile add = Add("x.parquet");
  add.deletion_vector = dv;
  VacuumPlanInput in;
  in.horizon_ms = 1000;
  in.listed = {Obj("x.parquet", 1), Obj(*dv_path, 1), Obj("ab/deletion_vector_other.bin", 1)};
  in.active = {add};
  auto plan = PlanVacuum(in);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(Keys(*plan), (std::vector<std::string>{"ab/deletion_vector_other.bin"}));
}

TEST(VacuumPlanTest, AbsolutePathsAreNotInTheTable) {
  auto paths = ReferencedPaths("file:///elsewhere/x.parquet", std::nullopt);
  ASSERT_TRUE(paths.ok());
  EXPECT_TRUE(paths->empty());
  EXPECT_FALSE(ReferencedPaths("bad%zz", std::nullopt).ok());
}

}  // namespace
}  // namespace medallion::delta
