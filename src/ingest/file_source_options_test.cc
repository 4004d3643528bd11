#include "ingest/file_source_options.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"

namespace medallion::ingest {
namespace {

TEST(FileSourceOptionsTest, ReadFilesCallFromTheDocs) {
  ASSERT_OK_AND_ASSIGN(
      FileSourceOptions options,
      ParseReadFilesArguments("'/landing/flights', format => 'csv', header => true, "
                              "schemaHints => 'delay INT', rescuedDataColumn => '_rescued_data'",
                              /*legacy_cloud_files=*/false));
  EXPECT_EQ(options.path, "/landing/flights");
  EXPECT_EQ(options.format, FileFormat::kCsv);
  EXPECT_FALSE(options.legacy_cloud_files);
  EXPECT_TRUE(options.csv.header);
  ASSERT_EQ(options.schema_hints.size(), 1u);
  EXPECT_EQ(options.schema_hints[0], (SourceColumn{"delay", "INTEGER"}));
  EXPECT_EQ(options.rescued_data_column, "_rescued_data");
  EXPECT_TRUE(options.infer_column_types);  // read_files infers types by default
  EXPECT_EQ(options.schema_evolution_mode, SchemaEvolutionMode::kAddNewColumns);
  EXPECT_FALSE(options.has_schema);
}

TEST(FileSourceOptionsTest, LegacyCloudFilesWithMap) {
  ASSERT_OK_AND_ASSIGN(
      FileSourceOptions options,
      ParseReadFilesArguments("'/landing', 'csv', map('header', 'true', 'cloudFiles.schemaHints', "
                              "'a BIGINT, b DECIMAL(10,2)', 'cloudFiles.schemaEvolutionMode', "
                              "'rescue')",
                              /*legacy_cloud_files=*/true));
  EXPECT_EQ(options.path, "/landing");
  EXPECT_TRUE(options.legacy_cloud_files);
  EXPECT_TRUE(options.csv.header);
  EXPECT_FALSE(options.infer_column_types);  // Auto Loader: CSV/JSON columns are strings
  ASSERT_EQ(options.schema_hints.size(), 2u);
  EXPECT_EQ(options.schema_hints[1], (SourceColumn{"b", "DECIMAL(10,2)"}));
  EXPECT_EQ(options.schema_evolution_mode, SchemaEvolutionMode::kRescue);
  EXPECT_EQ(options.rescued_data_column, "_rescued_data");

  ASSERT_OK_AND_ASSIGN(
      options, ParseReadFilesArguments(
                   "'/landing', 'json', map('cloudFiles.inferColumnTypes', 'true')", true));
  EXPECT_EQ(options.format, FileFormat::kJson);
  EXPECT_TRUE(options.infer_column_types);
  ASSERT_OK_AND_ASSIGN(options, ParseReadFilesArguments("'/landing', 'parquet'", true));
  EXPECT_EQ(options.format, FileFormat::kParquet);
}

TEST(FileSourceOptionsTest, NamesAreCaseInsensitiveAndMayCarryThePrefix) {
  ASSERT_OK_AND_ASSIGN(
      FileSourceOptions options,
      ParseReadFilesArguments("'/x', FORMAT => 'JSON', `cloudFiles.SchemaEvolutionMode` => "
                              "'failOnNewColumns', cloudFiles.inferColumnTypes => false, "
                              "MultiLine => TRUE",
                              false));
  EXPECT_EQ(options.format, FileFormat::kJson);
  EXPECT_EQ(options.schema_evolution_mode, SchemaEvolutionMode::kFailOnNewColumns);
  EXPECT_FALSE(options.infer_column_types);
  EXPECT_TRUE(options.json.multi_line);
}

TEST(FileSourceOptionsTest, CsvDialectOptionsAndSparkEscapes) {
  ASSERT_OK_AND_ASSIGN(
      FileSourceOptions options,
      ParseReadFilesArguments("'/x', format => 'csv', sep => '\\t', quote => \"'\", escape => "
                              "'\\\\', nullValue => 'NA', comment => '#', skipRows => 2, "
                              "ignoreLeadingWhiteSpace => true, encoding => 'ISO-8859-1'",
                              false));
  EXPECT_EQ(options.csv.delimiter, "\t");
  EXPECT_EQ(options.csv.quote, "'");
  EXPECT_EQ(options.csv.escape, "\\");
  EXPECT_EQ(options.csv.null_value, "NA");
  EXPECT_EQ(options.csv.comment, "#");
  EXPECT_EQ(options.csv.skip_rows, 2);
  EXPECT_TRUE(options.csv.ignore_leading_white_space);
  EXPECT_EQ(options.csv.encoding, "latin-1");
}

TEST(FileSourceOptionsTest, SchemaOptionChangesTheDefaults) {
  ASSERT_OK_AND_ASSIGN(
      FileSourceOptions options,
      ParseReadFilesArguments("'/x.csv', schema => 'id INT, name STRING'", false));
  EXPECT_EQ(options.format, FileFormat::kCsv);  // from the extension
  EXPECT_TRUE(options.has_schema);
  ASSERT_EQ(options.schema.size(), 2u);
  EXPECT_EQ(options.schema[1], (SourceColumn{"name", "VARCHAR"}));
  // A given schema: mode none, no rescued data column unless asked for.
  EXPECT_EQ(options.schema_evolution_mode, SchemaEvolutionMode::kNone);
  EXPECT_EQ(options.rescued_data_column, "");

  ASSERT_OK_AND_ASSIGN(options,
                       ParseReadFilesArguments(
                           "'/x.csv', schema => 'id INT', rescuedDataColumn => 'bad'", false));
  EXPECT_EQ(options.rescued_data_column, "bad");
  ASSERT_OK_AND_ASSIGN(options, ParseReadFilesArguments(
                                    "'/x.csv', schema => 'id INT', schemaEvolutionMode => 'rescue'",
                                    false));
  EXPECT_EQ(options.rescued_data_column, "_rescued_data");

  auto bad = ParseReadFilesArguments(
      "'/x.csv', schema => 'id INT', schemaEvolutionMode => 'addNewColumns'", false);
  EXPECT_TRUE(bad.status().IsInvalidArgument()) << bad.status().ToString();
}

TEST(FileSourceOptionsTest, ModeNoneAddsNoRescuedColumnUnlessAsked) {
  ASSERT_OK_AND_ASSIGN(
      FileSourceOptions options,
      ParseReadFilesArguments("'/x.csv', schemaEvolutionMode => 'none'", false));
  EXPECT_EQ(options.rescued_data_column, "");
  ASSERT_OK_AND_ASSIGN(options, ParseReadFilesArguments(
                                    "'/x.csv', schemaEvolutionMode => 'none', "
                                    "rescuedDataColumn => '_rescued_data'",
                                    false));
  EXPECT_EQ(options.rescued_data_column, "_rescued_data");
}

TEST(FileSourceOptionsTest, UnknownOptionListsTheSupportedOnes) {
  auto result = ParseReadFilesArguments("'/x.csv', hedaer => true", false);
  ASSERT_TRUE(result.status().IsInvalidArgument());
  EXPECT_NE(result.status().message().find("unknown option hedaer"), std::string::npos);
  EXPECT_NE(result.status().message().find("pathGlobFilter"), std::string::npos);
  EXPECT_NE(result.status().message().find("schemaEvolutionMode"), std::string::npos);
}

TEST(FileSourceOptionsTest, OperationalAutoLoaderOptionsAreAcceptedAndListed) {
  ASSERT_OK_AND_ASSIGN(
      FileSourceOptions options,
      ParseReadFilesArguments("'/x.csv', `cloudFiles.schemaLocation` => '/chk', "
                              "`cloudFiles.useNotifications` => false, "
                              "`cloudFiles.maxFilesPerTrigger` => 10, "
                              "`cloudFiles.includeExistingFiles` => false",
                              false));
  ASSERT_EQ(options.ignored_options.size(), 2u);
  EXPECT_EQ(options.max_files_per_trigger, 10);
  EXPECT_FALSE(options.include_existing_files);
}

TEST(FileSourceOptionsTest, SyntaxErrors) {
  EXPECT_TRUE(ParseReadFilesArguments("", false).status().IsInvalidArgument());
  EXPECT_TRUE(ParseReadFilesArguments("'/x.csv', 'csv'", false).status().IsInvalidArgument());
  EXPECT_TRUE(
      ParseReadFilesArguments("'/x.csv', header = true", false).status().IsInvalidArgument());
  EXPECT_TRUE(ParseReadFilesArguments("'/x.csv', header => lower('x')", false)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(ParseReadFilesArguments("'/x.csv', header => true, HEADER => false", false)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(ParseReadFilesArguments("'/x', 'csv', named_struct('a', 1)", true)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(ParseReadFilesArguments("'/x'", true).status().IsInvalidArgument());
  EXPECT_TRUE(ParseReadFilesArguments("'/landing'", false).status().IsInvalidArgument())
      << "no format and no extension";
  EXPECT_TRUE(ParseReadFilesArguments("'/x', format => 'avro'", false).status().IsNotSupported());
  EXPECT_TRUE(ParseReadFilesArguments("'/x.csv', header => 'maybe'", false)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(ParseReadFilesArguments("'/x.csv', schemaEvolutionMode => 'sometimes'", false)
                  .status()
                  .IsInvalidArgument());
}

TEST(FileSourceOptionsTest, FileSchemeIsRemoved) {
  ASSERT_OK_AND_ASSIGN(FileSourceOptions options,
                       ParseReadFilesArguments("'file:/data/in.json'", false));
  EXPECT_EQ(options.path, "/data/in.json");
  EXPECT_EQ(options.format, FileFormat::kJson);
}

}  // namespace
}  // namespace medallion::ingest
