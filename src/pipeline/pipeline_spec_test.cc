#include "pipeline/pipeline_spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/test_util.h"

namespace medallion::pipeline {
namespace {

namespace fs = std::filesystem;
using storage::TempFolder;

void WriteFile(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The error of a Result, which must be one.
template <typename T>
Status ErrorOf(const Result<T>& r) {
  EXPECT_FALSE(r.ok()) << "expected an error";
  return r.status();
}

::testing::AssertionResult StartsWith(const std::string& text, std::string_view prefix) {
  if (text.starts_with(prefix)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not start with \"" << prefix << "\"";
}

::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// ---- ParsePipelineSpec / LoadPipelineSpec ----

TEST(PipelineSpecTest, EveryField) {
  TempFolder tmp;
  fs::path file = fs::path(tmp.path()) / "spark-pipeline.yml";
  WriteFile(file, R"(
name: sales
storage: file:///var/lib/sales
catalog: main
database: bronze
configuration:
  spark.sql.session.timeZone: UTC
  source_path: "/data/raw"
  batch: '5'
libraries:
  - glob:
      include: transformations/**
  - glob:
      include: extra/one.sql
)");
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, LoadPipelineSpec(file));
  EXPECT_EQ(spec.path, file);
  EXPECT_EQ(spec.root_dir, fs::path(tmp.path()));
  EXPECT_EQ(spec.name, "sales");
  EXPECT_EQ(spec.storage, "file:///var/lib/sales");
  EXPECT_EQ(spec.catalog, "main");
  EXPECT_EQ(spec.schema, "bronze");
  std::map<std::string, std::string> want_conf = {
      {"spark.sql.session.timeZone", "UTC"}, {"source_path", "/data/raw"}, {"batch", "5"}};
  EXPECT_EQ(spec.configuration, want_conf);
  EXPECT_EQ(spec.library_globs, (std::vector<std::string>{"transformations/**", "extra/one.sql"}));
  EXPECT_EQ(spec.lakehouse, fs::path(tmp.path()) / "lakehouse");
}

TEST(PipelineSpecTest, OnlyNameIsRequired) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec,
                       ParsePipelineSpec("name: p\n", "/proj/spark-pipeline.yml"));
  EXPECT_EQ(spec.name, "p");
  EXPECT_FALSE(spec.storage.has_value());
  EXPECT_EQ(spec.catalog, "");
  EXPECT_EQ(spec.schema, "");
  EXPECT_TRUE(spec.configuration.empty());
  EXPECT_TRUE(spec.library_globs.empty());
  EXPECT_EQ(spec.root_dir, fs::path("/proj"));
  EXPECT_EQ(spec.lakehouse, fs::path("/proj/lakehouse"));
}

TEST(PipelineSpecTest, JsonSpecsAreYamlToo) {
  // SDP's own tests write the spec as JSON (a subset of YAML).
  ASSERT_OK_AND_ASSIGN(
      PipelineSpec spec,
      ParsePipelineSpec(
          R"({"name": "p", "schema": "s", "libraries": [{"glob": {"include": "a.sql"}}]})",
          "/proj/spark-pipeline.yaml"));
  EXPECT_EQ(spec.schema, "s");
  EXPECT_EQ(spec.library_globs, std::vector<std::string>{"a.sql"});
}

TEST(PipelineSpecTest, SchemaIsAnAliasOfDatabase) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec,
                       ParsePipelineSpec("name: p\nschema: silver\n", "/p/spark-pipeline.yml"));
  EXPECT_EQ(spec.schema, "silver");
  Status both =
      ErrorOf(ParsePipelineSpec("name: p\ndatabase: a\nschema: b\n", "/p/spark-pipeline.yml"));
  EXPECT_TRUE(both.IsInvalidArgument());
  EXPECT_TRUE(StartsWith(both.message(),
                         "[PIPELINE_SPEC_CONFLICTING_FIELDS] Pipeline spec fields "
                         "\"database\" and \"schema\""));
  EXPECT_TRUE(Contains(both.message(), "(/p/spark-pipeline.yml:3)"));
}

TEST(PipelineSpecTest, DefinitionsIsTheOlderNameOfLibraries) {
  ASSERT_OK_AND_ASSIGN(
      PipelineSpec spec,
      ParsePipelineSpec("name: p\ndefinitions:\n  - glob:\n      include: defs/**\n", "/p/x.yml"));
  EXPECT_EQ(spec.library_globs, std::vector<std::string>{"defs/**"});
  Status both = ErrorOf(ParsePipelineSpec("name: p\nlibraries: []\ndefinitions: []\n", "/p/x.yml"));
  EXPECT_TRUE(StartsWith(both.message(), "[PIPELINE_SPEC_CONFLICTING_FIELDS]"));
}

TEST(PipelineSpecTest, NullOptionalFieldsAreAbsent) {
  ASSERT_OK_AND_ASSIGN(
      PipelineSpec spec,
      ParsePipelineSpec("name: p\ncatalog:\nstorage: ~\nlibraries:\n", "/p/x.yml"));
  EXPECT_EQ(spec.catalog, "");
  EXPECT_FALSE(spec.storage.has_value());
  EXPECT_TRUE(spec.library_globs.empty());
}

TEST(PipelineSpecTest, UnexpectedField) {
  Status s = ErrorOf(ParsePipelineSpec("name: p\ntarget: silver\n", "/p/spark-pipeline.yml"));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_TRUE(StartsWith(s.message(),
                         "[PIPELINE_SPEC_UNEXPECTED_FIELD] Pipeline spec field \"target\" is "
                         "unexpected; the fields are name, storage, catalog, database, schema, "
                         "configuration, libraries, definitions"));
  EXPECT_TRUE(Contains(s.message(), "(/p/spark-pipeline.yml:2)"));
}

TEST(PipelineSpecTest, MissingName) {
  for (const char* text : {"catalog: c\n", "", "name:\n", "name: ''\n"}) {
    Status s = ErrorOf(ParsePipelineSpec(text, "/p/spark-pipeline.yml"));
    EXPECT_TRUE(s.IsInvalidArgument()) << text;
    EXPECT_EQ(s.message(),
              "[PIPELINE_SPEC_MISSING_REQUIRED_FIELD] Pipeline spec missing required field "
              "\"name\" (/p/spark-pipeline.yml)")
        << text;
  }
}

TEST(PipelineSpecTest, UnexpectedFieldIsReportedBeforeMissingName) {
  // unpack_pipeline_spec checks the allowed fields first.
  Status s = ErrorOf(ParsePipelineSpec("catalogtypo: c\n", "/p/x.yml"));
  EXPECT_TRUE(StartsWith(s.message(),
                         "[PIPELINE_SPEC_UNEXPECTED_FIELD] Pipeline spec field "
                         "\"catalogtypo\""));
}

TEST(PipelineSpecTest, StringFieldsMustBeScalars) {
  Status s = ErrorOf(ParsePipelineSpec("name: [a, b]\n", "/p/x.yml"));
  EXPECT_TRUE(StartsWith(s.message(),
                         "[PIPELINE_SPEC_FIELD_NOT_STRING] Pipeline spec field "
                         "\"name\" should be a string, got list"));
  s = ErrorOf(ParsePipelineSpec("name: p\ncatalog: {a: b}\n", "/p/x.yml"));
  EXPECT_TRUE(StartsWith(s.message(),
                         "[PIPELINE_SPEC_FIELD_NOT_STRING] Pipeline spec field "
                         "\"catalog\" should be a string, got dict"));
}

TEST(PipelineSpecTest, ConfigurationMustBeADict) {
  Status s = ErrorOf(ParsePipelineSpec("name: p\nconfiguration: not_a_dict\n", "/p/x.yml"));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(),
            "[PIPELINE_SPEC_FIELD_NOT_DICT] Pipeline spec field \"configuration\" should be a "
            "dict, got str (/p/x.yml:2)");
  s = ErrorOf(ParsePipelineSpec("name: p\nconfiguration: [a]\n", "/p/x.yml"));
  EXPECT_TRUE(Contains(s.message(), "should be a dict, got list"));
  s = ErrorOf(ParsePipelineSpec("name: p\nconfiguration:\n", "/p/x.yml"));
  EXPECT_TRUE(Contains(s.message(), "should be a dict, got NoneType"));
}

TEST(PipelineSpecTest, ConfigurationKeysMustBeStrings) {
  Status s = ErrorOf(ParsePipelineSpec("name: p\nconfiguration:\n  1: something\n", "/p/x.yml"));
  EXPECT_EQ(s.message(),
            "[PIPELINE_SPEC_DICT_KEY_NOT_STRING] For pipeline spec field \"configuration\", key "
            "should be a string, got int (/p/x.yml:3)");
}

TEST(PipelineSpecTest, ConfigurationValuesMustBeStringsAsPyYamlReadsThem) {
  struct Case {
    const char* value;
    const char* type;
  };
  for (Case c :
       {Case{"5", "int"}, Case{"-12", "int"}, Case{"0x1F", "int"}, Case{"1_000", "int"},
        Case{"1.5", "float"}, Case{".inf", "float"}, Case{"true", "bool"}, Case{"yes", "bool"},
        Case{"Off", "bool"}, Case{"null", "NoneType"}, Case{"~", "NoneType"}, Case{"", "NoneType"},
        Case{"2024-01-31", "date"}, Case{"2024-01-31 10:00:00", "datetime"}, Case{"[a]", "list"},
        Case{"{a: b}", "dict"}, Case{"!!int '7'", "int"}}) {
    std::string text = std::string("name: p\nconfiguration:\n  k: ") + c.value + "\n";
    Status s = ErrorOf(ParsePipelineSpec(text, "/p/x.yml"));
    EXPECT_TRUE(StartsWith(s.message(),
                           std::string("[PIPELINE_SPEC_DICT_VALUE_NOT_STRING] For pipeline spec "
                                       "field \"configuration\", value for key \"k\" should be a "
                                       "string, got ") +
                               c.type))
        << c.value;
  }
  Status s = ErrorOf(ParsePipelineSpec("name: p\nconfiguration:\n  k: 5\n", "/p/x.yml"));
  EXPECT_EQ(s.message(),
            "[PIPELINE_SPEC_DICT_VALUE_NOT_STRING] For pipeline spec field \"configuration\", "
            "value for key \"k\" should be a string, got int (quote it: \"5\") (/p/x.yml:3)");
  // Strings, including quoted look-alikes and YAML 1.2-only forms that PyYAML reads as str.
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, ParsePipelineSpec(R"(name: p
configuration:
  a: "5"
  b: 'true'
  c: abc
  d: 1e3
  e: 08
  f: |
    multi
  g: !!str 12
)",
                                                            "/p/x.yml"));
  EXPECT_EQ(spec.configuration.at("a"), "5");
  EXPECT_EQ(spec.configuration.at("b"), "true");
  EXPECT_EQ(spec.configuration.at("c"), "abc");
  EXPECT_EQ(spec.configuration.at("d"), "1e3");
  EXPECT_EQ(spec.configuration.at("e"), "08");
  EXPECT_EQ(spec.configuration.at("f"), "multi\n");
  EXPECT_EQ(spec.configuration.at("g"), "12");
}

TEST(PipelineSpecTest, InvalidYamlNamesFileAndLine) {
  Status s = ErrorOf(ParsePipelineSpec("name: p\nconfiguration: {a: b\n", "/p/spark-pipeline.yml"));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_TRUE(StartsWith(s.message(),
                         "[PIPELINE_SPEC_INVALID_YAML] The pipeline spec is not "
                         "valid YAML: "));
  EXPECT_TRUE(Contains(s.message(), "(/p/spark-pipeline.yml:3:")) << s.message();
}

TEST(PipelineSpecTest, SpecMustBeAMapping) {
  Status s = ErrorOf(ParsePipelineSpec("- a\n- b\n", "/p/x.yml"));
  EXPECT_TRUE(StartsWith(s.message(),
                         "[PIPELINE_SPEC_NOT_DICT] The pipeline spec should be a "
                         "dict (a YAML mapping of fields), got list"));
}

TEST(PipelineSpecTest, LibrariesShape) {
  struct Case {
    const char* libraries;
    const char* message_part;
  };
  for (Case c :
       {Case{"libraries: transformations/**", "should be a list, got str"},
        Case{"libraries:\n  - transformations/**", "an entry has no `glob`"},
        Case{"libraries:\n  - file: {path: a.sql}", "`file` and `notebook` entries"},
        Case{"libraries:\n  - glob: a/**", "a `glob` has no `include`"},
        Case{"libraries:\n  - glob: {include: a/**, exclude: b}",
             "a `glob` has keys besides `include`"},
        Case{"libraries:\n  - glob: {include: [a]}", "`include` should be a non-empty string"},
        Case{"libraries:\n  - glob: {include: a.sql}\n    other: 1",
             "an entry has keys besides `glob`"}}) {
    Status s =
        ErrorOf(ParsePipelineSpec(std::string("name: p\n") + c.libraries + "\n", "/p/x.yml"));
    EXPECT_TRUE(StartsWith(s.message(),
                           "[PIPELINE_SPEC_INVALID_LIBRARY] Pipeline spec field "
                           "\"libraries\": "))
        << s.message();
    EXPECT_TRUE(Contains(s.message(), c.message_part)) << c.libraries;
  }
}

TEST(PipelineSpecTest, GlobPatternsAreValidatedAsSdpDoes) {
  for (const char* ok : {"src/main.sql", "data/file.sql", "src/**", "transformations/**",
                         "notebooks/production/**", "./**"}) {
    std::string text =
        std::string("name: p\nlibraries:\n  - glob:\n      include: \"") + ok + "\"\n";
    EXPECT_OK(ParsePipelineSpec(text, "/p/x.yml")) << ok;
  }
  for (const char* bad :
       {"transformations/**/*.py", "src/**/utils/*.py", "*/main.py", "src/*/test/*.py", "**/*.py",
        "data/*/file.sql", "*.sql", "a?.sql", "**"}) {
    std::string text =
        std::string("name: p\nlibraries:\n  - glob:\n      include: \"") + bad + "\"\n";
    Status s = ErrorOf(ParsePipelineSpec(text, "/p/x.yml"));
    EXPECT_TRUE(
        StartsWith(s.message(), std::string("[PIPELINE_SPEC_INVALID_GLOB_PATTERN] Pipeline spec "
                                            "library glob \"") +
                                    bad + "\" is not supported"))
        << s.message();
    EXPECT_TRUE(Contains(s.message(), "(/p/x.yml:4)"));
  }
}

TEST(PipelineSpecTest, LakehouseFromConfiguration) {
  ASSERT_OK_AND_ASSIGN(
      PipelineSpec rel,
      ParsePipelineSpec("name: p\nconfiguration:\n  medallion.lakehouse: ../data/lake\n",
                        "/work/proj/spark-pipeline.yml"));
  EXPECT_EQ(rel.lakehouse, fs::path("/work/data/lake"));
  EXPECT_EQ(rel.configuration.at("medallion.lakehouse"), "../data/lake");  // kept as a conf value
  ASSERT_OK_AND_ASSIGN(
      PipelineSpec abs,
      ParsePipelineSpec("name: p\nconfiguration:\n  medallion.lakehouse: /srv/lake/\n",
                        "/work/proj/spark-pipeline.yml"));
  EXPECT_EQ(abs.lakehouse, fs::path("/srv/lake"));
  Status s = ErrorOf(ParsePipelineSpec("name: p\nconfiguration:\n  medallion.lakehouse: ''\n",
                                       "/work/proj/spark-pipeline.yml"));
  EXPECT_TRUE(StartsWith(s.message(), "[PIPELINE_SPEC_INVALID_LAKEHOUSE]"));
}

TEST(PipelineSpecTest, RelativeSpecPathsAreMadeAbsolute) {
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec,
                       ParsePipelineSpec("name: p\n", "proj/spark-pipeline.yml"));
  EXPECT_TRUE(spec.path.is_absolute());
  EXPECT_EQ(spec.path, fs::current_path() / "proj/spark-pipeline.yml");
  EXPECT_EQ(spec.root_dir, fs::current_path() / "proj");
}

TEST(PipelineSpecTest, LoadMissingFile) {
  TempFolder tmp;
  std::string missing = tmp.path() + "/nope.yml";
  Status s = ErrorOf(LoadPipelineSpec(missing));
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "[PIPELINE_SPEC_FILE_DOES_NOT_EXIST] The pipeline spec file \"" + missing +
                             "\" does not exist");
  Status dir = ErrorOf(LoadPipelineSpec(tmp.path()));
  EXPECT_TRUE(dir.IsNotFound());
}

// ---- FindPipelineSpec ----

TEST(FindPipelineSpecTest, InTheStartFolderForEachName) {
  for (std::string_view name : kPipelineSpecFileNames) {
    TempFolder tmp;
    fs::path spec = fs::path(tmp.path()) / name;
    WriteFile(spec, "name: p\n");
    ASSERT_OK_AND_ASSIGN(fs::path found, FindPipelineSpec(tmp.path()));
    EXPECT_EQ(found, spec);
  }
}

TEST(FindPipelineSpecTest, FromANestedSubfolder) {
  TempFolder tmp;
  fs::path root(tmp.path());
  WriteFile(root / "spark-pipeline.yml", "name: p\n");
  fs::create_directories(root / "transformations/silver/deep");
  ASSERT_OK_AND_ASSIGN(fs::path found, FindPipelineSpec(root / "transformations/silver/deep/"));
  EXPECT_EQ(found, root / "spark-pipeline.yml");
  // The nearest spec wins.
  WriteFile(root / "transformations/spark-pipeline.yaml", "name: q\n");
  ASSERT_OK_AND_ASSIGN(found, FindPipelineSpec(root / "transformations/silver/deep"));
  EXPECT_EQ(found, root / "transformations/spark-pipeline.yaml");
}

TEST(FindPipelineSpecTest, RelativeStartFolder) {
  TempFolder tmp;
  fs::path root(tmp.path());
  WriteFile(root / "spark-pipeline.yml", "name: p\n");
  fs::create_directories(root / "sub");
  fs::path saved = fs::current_path();
  fs::current_path(root / "sub");
  auto found = FindPipelineSpec(".");
  fs::current_path(saved);
  ASSERT_OK(found);
  EXPECT_EQ(fs::weakly_canonical(*found), fs::weakly_canonical(root / "spark-pipeline.yml"));
}

TEST(FindPipelineSpecTest, MultipleInOneFolder) {
  TempFolder tmp;
  WriteFile(fs::path(tmp.path()) / "spark-pipeline.yml", "");
  WriteFile(fs::path(tmp.path()) / "spark-pipeline.yaml", "");
  fs::create_directories(fs::path(tmp.path()) / "sub");
  Status s = ErrorOf(FindPipelineSpec(fs::path(tmp.path()) / "sub"));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(),
            "[MULTIPLE_PIPELINE_SPEC_FILES_FOUND] Multiple pipeline spec files found in the "
            "directory \"" +
                tmp.path() +
                "\" (spark-pipeline.yml, spark-pipeline.yaml); remove all but one, or choose one "
                "with --spec");
  // A legacy name beside a current one is also ambiguous.
  TempFolder tmp2;
  WriteFile(fs::path(tmp2.path()) / "spark-pipeline.yml", "");
  WriteFile(fs::path(tmp2.path()) / "pipeline.yaml", "");
  EXPECT_TRUE(StartsWith(ErrorOf(FindPipelineSpec(tmp2.path())).message(),
                         "[MULTIPLE_PIPELINE_SPEC_FILES_FOUND]"));
}

TEST(FindPipelineSpecTest, NotFound) {
  TempFolder tmp;
  fs::create_directories(fs::path(tmp.path()) / "a/b");
  // A folder named like a spec does not count.
  fs::create_directories(fs::path(tmp.path()) / "a/spark-pipeline.yml");
  auto r = FindPipelineSpec(fs::path(tmp.path()) / "a/b");
  if (r.ok()) GTEST_SKIP() << "a spec file exists above " << tmp.path() << ": " << *r;
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(),
            "[PIPELINE_SPEC_FILE_NOT_FOUND] No spark-pipeline.yml or spark-pipeline.yaml file "
            "(nor pipeline.yml / pipeline.yaml) found in directory \"" +
                tmp.path() + "/a/b\" or its readable ancestor directories");
}

// ---- ResolveLibraries ----

class ResolveLibrariesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    for (const char* f : {"transformations/bronze.sql", "transformations/silver/orders.sql",
                          "transformations/silver/customers.SQL", "transformations/README.md",
                          "transformations/.hidden.sql", "transformations/.ipynb_checkpoints/x.sql",
                          "transformations/gold/a1.sql", "transformations/gold/a2.sql",
                          "transformations/gold/b1.sql", "extra/one.sql", "py/defs.py",
                          "py/__pycache__/defs.sql", "docs/readme.txt"}) {
      WriteFile(root_ / f, "-- x\n");
    }
  }
  PipelineSpec Spec(std::vector<std::string> globs) {
    PipelineSpec spec;
    spec.path = root_ / "spark-pipeline.yml";
    spec.root_dir = root_;
    spec.name = "p";
    spec.library_globs = std::move(globs);
    return spec;
  }
  std::vector<fs::path> Paths(std::initializer_list<const char*> rel) {
    std::vector<fs::path> out;
    for (const char* r : rel) out.push_back(root_ / r);
    return out;
  }

  TempFolder tmp_;
  fs::path root_;
};

TEST_F(ResolveLibrariesTest, FolderGlobIsRecursiveSortedAndSkipsOtherFiles) {
  ASSERT_OK_AND_ASSIGN(auto files, ResolveLibraries(Spec({"transformations/**"})));
  EXPECT_EQ(files,
            Paths({"transformations/bronze.sql", "transformations/gold/a1.sql",
                   "transformations/gold/a2.sql", "transformations/gold/b1.sql",
                   "transformations/silver/customers.SQL", "transformations/silver/orders.sql"}));
}

TEST_F(ResolveLibrariesTest, PlainFileAndPlainFolder) {
  ASSERT_OK_AND_ASSIGN(auto files,
                       ResolveLibraries(Spec({"extra/one.sql", "transformations/gold"})));
  EXPECT_EQ(files, Paths({"extra/one.sql", "transformations/gold/a1.sql",
                          "transformations/gold/a2.sql", "transformations/gold/b1.sql"}));
  // A literal path may name a hidden file.
  ASSERT_OK_AND_ASSIGN(files, ResolveLibraries(Spec({"transformations/.hidden.sql"})));
  EXPECT_EQ(files, Paths({"transformations/.hidden.sql"}));
}

TEST_F(ResolveLibrariesTest, OverlappingGlobsAreDeduplicated) {
  ASSERT_OK_AND_ASSIGN(
      auto files, ResolveLibraries(Spec({"transformations/gold/**", "transformations/gold/a1.sql",
                                         "./transformations/gold/**"})));
  EXPECT_EQ(files, Paths({"transformations/gold/a1.sql", "transformations/gold/a2.sql",
                          "transformations/gold/b1.sql"}));
}

TEST_F(ResolveLibrariesTest, GeneralWildcardsForSpecsBuiltInCode) {
  ASSERT_OK_AND_ASSIGN(auto files, ResolveLibraries(Spec({"transformations/gold/a?.sql"})));
  EXPECT_EQ(files, Paths({"transformations/gold/a1.sql", "transformations/gold/a2.sql"}));
  ASSERT_OK_AND_ASSIGN(files, ResolveLibraries(Spec({"transformations/*/*1.sql"})));
  EXPECT_EQ(files, Paths({"transformations/gold/a1.sql", "transformations/gold/b1.sql"}));
  ASSERT_OK_AND_ASSIGN(files, ResolveLibraries(Spec({"**/orders.sql"})));
  EXPECT_EQ(files, Paths({"transformations/silver/orders.sql"}));
  ASSERT_OK_AND_ASSIGN(files, ResolveLibraries(Spec({"transformations/**/b*.sql"})));
  EXPECT_EQ(files, Paths({"transformations/bronze.sql", "transformations/gold/b1.sql"}));
  ASSERT_OK_AND_ASSIGN(files, ResolveLibraries(Spec({"transformations/gold/[!a]1.sql"})));
  EXPECT_EQ(files, Paths({"transformations/gold/b1.sql"}));
  ASSERT_OK_AND_ASSIGN(files, ResolveLibraries(Spec({"transformations/gold/[a-b]2.sql"})));
  EXPECT_EQ(files, Paths({"transformations/gold/a2.sql"}));
}

TEST_F(ResolveLibrariesTest, APatternThatMatchesNothingIsAnError) {
  for (const char* pattern :
       {"nope/**", "missing.sql", "docs/**", "docs", "transformations/*.py"}) {
    Status s = ErrorOf(ResolveLibraries(Spec({"extra/one.sql", pattern})));
    EXPECT_TRUE(s.IsNotFound()) << pattern;
    EXPECT_EQ(s.message(), std::string("library glob \"") + pattern +
                               "\" matches no .sql or .py file under " + root_.string() +
                               " (pipeline spec " + (root_ / "spark-pipeline.yml").string() + ")");
  }
}

TEST_F(ResolveLibrariesTest, PythonSourcesAreNotSupported) {
  Status s = ErrorOf(ResolveLibraries(Spec({"py/**"})));
  EXPECT_TRUE(s.IsNotSupported());
  EXPECT_EQ(s.message(), "Python pipeline sources are not supported (file " +
                             (root_ / "py/defs.py").string() + "): write the datasets in SQL");
}

TEST_F(ResolveLibrariesTest, EndToEndFromALoadedSpec) {
  WriteFile(root_ / "spark-pipeline.yml",
            "name: p\nlibraries:\n  - glob:\n      include: transformations/silver/**\n");
  ASSERT_OK_AND_ASSIGN(fs::path spec_file, FindPipelineSpec(root_ / "transformations/gold"));
  ASSERT_OK_AND_ASSIGN(PipelineSpec spec, LoadPipelineSpec(spec_file));
  ASSERT_OK_AND_ASSIGN(auto files, ResolveLibraries(spec));
  EXPECT_EQ(files,
            Paths({"transformations/silver/customers.SQL", "transformations/silver/orders.sql"}));
}

}  // namespace
}  // namespace medallion::pipeline
