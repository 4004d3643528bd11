#include "common/text.h"
#include "pipeline/dataflow_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "common/macros.h"
#include "engine/spark_sql.h"
#include "engine/sql_lexer.h"
#include "engine/sql_references.h"
#include "engine/sql_text.h"

namespace medallion::pipeline {
namespace {

using engine::Token;
using engine::TokenKind;

std::string Where(const SourceLocation& loc) { return fmt::format("{}:{}", loc.file, loc.line); }

bool IsTrivia(const Token& t) {
  return t.kind == TokenKind::kSpace || t.kind == TokenKind::kComment;
}

size_t NextSignificant(const std::vector<Token>& tokens, size_t i) {
  while (i < tokens.size() && IsTrivia(tokens[i])) ++i;
  return i;
}

size_t PrevSignificant(const std::vector<Token>& tokens, size_t i) {
  // Index of the significant token before i, or tokens.size() when none.
  while (i > 0) {
    --i;
    if (!IsTrivia(tokens[i])) return i;
  }
  return tokens.size();
}

bool IsSymbol(const std::vector<Token>& tokens, size_t i, char c) {
  return i < tokens.size() && tokens[i].kind == TokenKind::kSymbol && tokens[i].text[0] == c;
}

bool IsNamePart(const Token& t) {
  return t.kind == TokenKind::kWord || t.kind == TokenKind::kBacktick ||
         t.kind == TokenKind::kDoubleQuoted;
}

std::string NamePart(const Token& t) {
  if (t.kind == TokenKind::kWord) return std::string(t.text);
  if (t.kind == TokenKind::kDoubleQuoted) return std::string(t.text.substr(1, t.text.size() - 2));
  return engine::Unquote(t);
}

// Reads a dotted name starting at token i; returns the parts and sets `end` past the last part.
std::vector<std::string> ReadName(const std::vector<Token>& tokens, size_t i, size_t* end) {
  std::vector<std::string> parts;
  while (i < tokens.size() && IsNamePart(tokens[i])) {
    parts.push_back(NamePart(tokens[i]));
    *end = i + 1;
    size_t dot = NextSignificant(tokens, i + 1);
    if (!IsSymbol(tokens, dot, '.')) break;
    i = NextSignificant(tokens, dot + 1);
  }
  return parts;
}

// Index of the ')' matching the '(' at i (tokens.size() if unbalanced).
size_t MatchingParen(const std::vector<Token>& tokens, size_t open) {
  int depth = 0;
  for (size_t i = open; i < tokens.size(); ++i) {
    if (IsSymbol(tokens, i, '(')) ++depth;
    if (IsSymbol(tokens, i, ')') && --depth == 0) return i;
  }
  return tokens.size();
}

std::string JoinParts(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ".") + p;
  return out;
}

// A source found in the Spark SQL text, before resolution.
struct RawSource {
  bool streaming = false;
  bool files = false;
  bool legacy_cloud_files = false;
  std::vector<std::string> name;  // table sources
  std::string arguments;          // file sources
};

// Replaces STREAM(...) / STREAM name / read_files(...) / cloud_files(...) with placeholders and
// drops LIVE. prefixes. `next_placeholder` numbers placeholders across one flow.
Result<std::string> ExtractSources(std::string_view spark_sql, const std::string& prefix,
                                   std::vector<RawSource>& sources, bool* reads_metadata,
                                   bool* selects_metadata) {
  ASSIGN_OR_RETURN(auto tokens, engine::LexSql(spark_sql));
  std::string out;
  size_t i = 0;
  auto placeholder = [&](RawSource source) {
    sources.push_back(std::move(source));
    // Backticks: Spark SQL's identifier quotes (the query is translated after this).
    return fmt::format("`{}{}`", prefix, sources.size() - 1);
  };
  auto is_files_call = [&](size_t k) {
    return k < tokens.size() &&
           (engine::IsKeyword(tokens[k], "read_files") ||
            engine::IsKeyword(tokens[k], "cloud_files")) &&
           IsSymbol(tokens, NextSignificant(tokens, k + 1), '(');
  };
  // A files call at k: consumes it, returns the placeholder.
  auto take_files = [&](size_t k, bool streaming, size_t* next) -> Result<std::string> {
    size_t open = NextSignificant(tokens, k + 1);
    size_t close = MatchingParen(tokens, open);
    if (close == tokens.size()) {
      return Status::InvalidArgument(
          fmt::format("line {}: unbalanced parentheses after {}", tokens[k].line,
                      tokens[k].text));
    }
    RawSource source;
    source.files = true;
    source.legacy_cloud_files = engine::IsKeyword(tokens[k], "cloud_files");
    source.streaming = streaming || source.legacy_cloud_files;
    size_t from = tokens[open].offset + 1;
    source.arguments = std::string(spark_sql.substr(from, tokens[close].offset - from));
    *next = close + 1;
    return placeholder(std::move(source));
  };
  while (i < tokens.size()) {
    const Token& t = tokens[i];
    if (t.kind == TokenKind::kWord && engine::IsKeyword(t, "_metadata")) {
      *reads_metadata = true;
      if (!IsSymbol(tokens, NextSignificant(tokens, i + 1), '.')) *selects_metadata = true;
    }
    size_t prev = PrevSignificant(tokens, i);
    bool after_dot = IsSymbol(tokens, prev, '.');
    if (t.kind == TokenKind::kWord && !after_dot && engine::IsKeyword(t, "LIVE") &&
        IsSymbol(tokens, NextSignificant(tokens, i + 1), '.')) {
      i = NextSignificant(tokens, NextSignificant(tokens, i + 1) + 1);  // drop "LIVE ."
      continue;
    }
    if (t.kind == TokenKind::kWord && !after_dot && engine::IsKeyword(t, "STREAM")) {
      size_t k = NextSignificant(tokens, i + 1);
      if (IsSymbol(tokens, k, '(')) {
        size_t close = MatchingParen(tokens, k);
        size_t inner = NextSignificant(tokens, k + 1);
        if (is_files_call(inner)) {
          size_t next = 0;
          ASSIGN_OR_RETURN(std::string ph, take_files(inner, true, &next));
          if (NextSignificant(tokens, next) != close) {
            return Status::InvalidArgument(
                fmt::format("line {}: expected ')' after the file source", t.line));
          }
          out += ph;
          i = close + 1;
          continue;
        }
        size_t name_end = inner;
        std::vector<std::string> name = ReadName(tokens, inner, &name_end);
        if (name.size() > 1 && engine::IsKeyword(tokens[inner], "LIVE")) {
          name.erase(name.begin());
        }
        if (name.empty() || NextSignificant(tokens, name_end) != close) {
          return Status::InvalidArgument(fmt::format(
              "line {}: STREAM(...) takes a table name, e.g. STREAM(bronze_orders)", t.line));
        }
        out += placeholder(RawSource{.streaming = true, .name = std::move(name)});
        i = close + 1;
        continue;
      }
      bool in_from = prev < tokens.size() &&
                     (engine::IsKeyword(tokens[prev], "FROM") ||
                      engine::IsKeyword(tokens[prev], "JOIN") || IsSymbol(tokens, prev, ','));
      if (in_from && is_files_call(k)) {
        size_t next = 0;
        ASSIGN_OR_RETURN(std::string ph, take_files(k, true, &next));
        out += ph;
        i = next;
        continue;
      }
      if (in_from && k < tokens.size() && IsNamePart(tokens[k])) {
        size_t name_end = k;
        std::vector<std::string> name = ReadName(tokens, k, &name_end);
        if (name.size() > 1 && AsciiLower(name[0]) == "live") name.erase(name.begin());
        out += placeholder(RawSource{.streaming = true, .name = std::move(name)});
        i = name_end;
        continue;
      }
    }
    if (!after_dot && is_files_call(i)) {
      size_t next = 0;
      ASSIGN_OR_RETURN(std::string ph, take_files(i, false, &next));
      out += ph;
      i = next;
      continue;
    }
    out += t.text;
    ++i;
  }
  return out;
}

}  // namespace

std::vector<std::string> SplitName(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::optional<size_t> DataflowGraph::FindDataset(const std::string& canonical_name) const {
  for (size_t i = 0; i < datasets_.size(); ++i) {
    if (datasets_[i].canonical_name == canonical_name) return i;
  }
  return std::nullopt;
}

std::vector<size_t> DataflowGraph::FlowsInto(size_t dataset) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < flows_.size(); ++i) {
    if (flows_[i].target == dataset) out.push_back(i);
  }
  return out;
}

std::vector<size_t> DataflowGraph::InputDatasets(size_t dataset) const {
  std::vector<size_t> out;
  for (size_t f : FlowsInto(dataset)) {
    for (const auto& source : flows_[f].sources) {
      if (source.dataset && std::find(out.begin(), out.end(), *source.dataset) == out.end()) {
        out.push_back(*source.dataset);
      }
    }
  }
  return out;
}

Result<DataflowGraph> DataflowGraph::Build(const PipelineDefinitions& definitions,
                                           const Options& options, engine::Connection& conn) {
  DataflowGraph graph;
  std::string default_schema =
      options.default_schema.empty() ? std::string("default") : options.default_schema;

  // Canonical name of a reference written in a statement whose current catalog/schema are given.
  auto canonical = [&](const std::vector<std::string>& parts, const std::string& catalog,
                       const std::string& schema) -> Result<std::string> {
    std::string cat = catalog.empty() ? options.default_catalog : catalog;
    std::string sch = schema.empty() ? default_schema : schema;
    std::string table;
    if (parts.size() == 1) {
      table = parts[0];
    } else if (parts.size() == 2) {
      sch = parts[0];
      table = parts[1];
    } else if (parts.size() == 3) {
      cat = parts[0];
      sch = parts[1];
      table = parts[2];
    } else {
      return Status::InvalidArgument(
          fmt::format("'{}' is not a table name (at most catalog.schema.table)", JoinParts(parts)));
    }
    if (table.empty() || sch.empty()) {
      return Status::InvalidArgument(fmt::format("'{}' is not a table name", JoinParts(parts)));
    }
    return AsciiLower(cat.empty() ? fmt::format("{}.{}", sch, table)
                             : fmt::format("{}.{}.{}", cat, sch, table));
  };
  auto folder_of_canonical = [](const std::string& canonical_name) {
    std::vector<std::string> parts = SplitName(canonical_name);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
    return out;
  };

  // 1. Datasets.
  std::map<std::string, size_t> by_name;
  for (const DatasetDefinition& def : definitions.datasets) {
    auto name = canonical(SplitName(def.name), def.catalog, def.schema);
    if (!name.ok()) {
      return Status::InvalidArgument(fmt::format("{}: {}", Where(def.location),
                                                 name.status().message()));
    }
    if (auto it = by_name.find(*name); it != by_name.end()) {
      return Status::InvalidArgument(fmt::format(
          "{}: dataset '{}' is already defined at {} (each dataset is defined once; add more "
          "writers to a streaming table with CREATE FLOW ... INSERT INTO)",
          Where(def.location), def.name,
          Where(graph.datasets_[it->second].definition.location)));
    }
    Dataset ds;
    ds.definition = def;
    ds.canonical_name = *name;
    if (ds.is_table()) ds.table_folder = folder_of_canonical(*name);
    by_name[*name] = graph.datasets_.size();
    graph.datasets_.push_back(std::move(ds));
  }

  // 2. Flows: implicit ones first (in dataset order), then CREATE FLOW statements.
  struct PendingFlow {
    Flow flow;
    std::string query;  // Spark SQL
    std::string catalog, schema;
  };
  std::vector<PendingFlow> pending;
  std::set<std::string> flow_names;
  for (size_t d = 0; d < graph.datasets_.size(); ++d) {
    const DatasetDefinition& def = graph.datasets_[d].definition;
    if (!def.query) continue;
    PendingFlow p;
    p.flow.name = SplitName(def.name).back();
    p.flow.target = d;
    p.flow.implicit = true;
    p.flow.location = def.location;
    p.query = *def.query;
    p.catalog = def.catalog;
    p.schema = def.schema;
    flow_names.insert(AsciiLower(p.flow.name));
    pending.push_back(std::move(p));
  }
  for (const FlowDefinition& def : definitions.flows) {
    auto target = canonical(SplitName(def.target), def.catalog, def.schema);
    if (!target.ok()) {
      return Status::InvalidArgument(
          fmt::format("{}: {}", Where(def.location), target.status().message()));
    }
    auto it = by_name.find(*target);
    if (it == by_name.end()) {
      return Status::InvalidArgument(fmt::format(
          "{}: flow '{}' writes to '{}', which is not defined in this pipeline (define it with "
          "CREATE STREAMING TABLE {})",
          Where(def.location), def.name, def.target, def.target));
    }
    const Dataset& target_ds = graph.datasets_[it->second];
    if (target_ds.definition.kind != DatasetKind::kStreamingTable) {
      return Status::InvalidArgument(fmt::format(
          "{}: flow '{}' writes to '{}', which is not a streaming table (flows can only write "
          "to streaming tables)",
          Where(def.location), def.name, def.target));
    }
    if (!flow_names.insert(AsciiLower(def.name)).second) {
      return Status::InvalidArgument(
          fmt::format("{}: flow '{}' is defined twice", Where(def.location), def.name));
    }
    PendingFlow p;
    p.flow.name = def.name;
    p.flow.target = it->second;
    p.flow.once = def.once;
    p.flow.kind = def.kind;
    p.flow.auto_cdc = def.auto_cdc;
    p.flow.location = def.location;
    p.catalog = def.catalog;
    p.schema = def.schema;
    if (def.kind == FlowDefinition::Kind::kAutoCdc) {
      const AutoCdcDefinition& cdc = *def.auto_cdc;
      p.query = fmt::format("SELECT * FROM {}{}", cdc.source_is_stream ? "STREAM " : "",
                            cdc.source);
    } else {
      p.query = def.query;
    }
    pending.push_back(std::move(p));
  }
  for (size_t d = 0; d < graph.datasets_.size(); ++d) {
    const Dataset& ds = graph.datasets_[d];
    if (ds.definition.kind == DatasetKind::kStreamingTable && !ds.definition.query &&
        std::none_of(pending.begin(), pending.end(),
                     [&](const PendingFlow& p) { return p.flow.target == d; })) {
      return Status::InvalidArgument(fmt::format(
          "{}: streaming table '{}' has no query and no flow writes to it (add AS <query>, or "
          "CREATE FLOW ... AS INSERT INTO {} BY NAME <query>)",
          Where(ds.definition.location), ds.definition.name, ds.definition.name));
    }
  }

  // 3. Sources of each flow. Every query is extracted and translated first, so that DuckDB
  // parses them all in one statement; errors are still reported in flow order.
  std::vector<std::vector<RawSource>> raw_sources(pending.size());
  std::vector<Status> prepared(pending.size());
  std::vector<std::string> translated_sql(pending.size());
  std::vector<std::string> to_parse;
  for (size_t flow_index = 0; flow_index < pending.size(); ++flow_index) {
    Flow& flow = pending[flow_index].flow;
    auto extracted = ExtractSources(pending[flow_index].query,
                                    fmt::format("__medallion_f{}_s", flow_index),
                                    raw_sources[flow_index], &flow.reads_metadata,
                                    &flow.selects_metadata);
    if (!extracted.ok()) {
      prepared[flow_index] = extracted.status();
      continue;
    }
    auto translated = engine::TranslateSparkSql(*extracted);
    if (!translated.ok()) {
      prepared[flow_index] = translated.status();
      continue;
    }
    translated_sql[flow_index] = std::move(*translated);
    to_parse.push_back(translated_sql[flow_index]);
  }
  ASSIGN_OR_RETURN(auto parsed, engine::FindTableReferences(conn, to_parse));
  size_t next_parsed = 0;
  for (size_t flow_index = 0; flow_index < pending.size(); ++flow_index) {
    PendingFlow& p = pending[flow_index];
    Flow& flow = p.flow;
    const std::string prefix = fmt::format("__medallion_f{}_s", flow_index);
    auto fail = [&](const std::string& message) {
      return Status::InvalidArgument(
          fmt::format("{}: {}: {}", Where(flow.location),
                      graph.datasets_[flow.target].definition.name, message));
    };
    if (!prepared[flow_index].ok()) return fail(prepared[flow_index].message());
    const std::vector<RawSource>& raw = raw_sources[flow_index];
    const std::string& translated = translated_sql[flow_index];
    auto& refs = parsed[next_parsed++];
    if (!refs.ok()) return fail(fmt::format("the query does not parse: {}", refs.status().message()));

    // Resolves a table name to a source.
    auto resolve = [&](const std::vector<std::string>& parts, bool streaming) -> Result<FlowSource> {
      FlowSource source;
      source.streaming = streaming;
      source.display_name = JoinParts(parts);
      auto name = canonical(parts, p.catalog, p.schema);
      if (!name.ok()) return fail(name.status().message());
      if (auto it = by_name.find(*name); it != by_name.end()) {
        const Dataset& ds = graph.datasets_[it->second];
        source.kind = FlowSource::Kind::kDataset;
        source.dataset = it->second;
        source.table_folder = ds.table_folder;
        if (streaming && ds.definition.kind == DatasetKind::kMaterializedView) {
          return fail(fmt::format(
              "cannot stream from materialized view '{}': a materialized view may be rewritten "
              "at every refresh (read it without STREAM, or make it a streaming table)",
              source.display_name));
        }
        return source;
      }
      std::string folder = folder_of_canonical(*name);
      std::filesystem::path log = std::filesystem::path(options.lakehouse) / folder / "_delta_log";
      if (!options.lakehouse.empty() && std::filesystem::is_directory(log)) {
        source.kind = FlowSource::Kind::kExternal;
        source.table_folder = folder;
        return source;
      }
      return fail(fmt::format(
          "table or view '{}' not found: it is not defined in this pipeline, and there is no "
          "Delta table at {}",
          source.display_name, (std::filesystem::path(options.lakehouse) / folder).string()));
    };

    for (size_t k = 0; k < raw.size(); ++k) {
      FlowSource source;
      if (raw[k].files) {
        source.kind = FlowSource::Kind::kFiles;
        source.streaming = raw[k].streaming;
        source.arguments = raw[k].arguments;
        source.legacy_cloud_files = raw[k].legacy_cloud_files;
        source.display_name = raw[k].legacy_cloud_files ? "cloud_files(...)" : "read_files(...)";
      } else {
        ASSIGN_OR_RETURN(source, resolve(raw[k].name, raw[k].streaming));
      }
      source.placeholder = fmt::format("{}{}", prefix, k);
      flow.sources.push_back(std::move(source));
    }
    // Remaining references: batch reads of datasets or external tables. Each gets a placeholder;
    // the placeholders of step one stay as written (with the user's alias, if any).
    std::vector<engine::TableReference> to_replace;
    std::vector<std::string> texts;
    for (const engine::TableReference& ref : *refs) {
      if (ref.catalog.empty() && ref.schema.empty() && ref.table.starts_with(prefix)) continue;
      std::vector<std::string> parts;
      if (!ref.catalog.empty()) parts.push_back(ref.catalog);
      if (!ref.schema.empty()) parts.push_back(ref.schema);
      parts.push_back(ref.table);
      ASSIGN_OR_RETURN(FlowSource source, resolve(parts, false));
      source.placeholder = fmt::format("{}{}", prefix, flow.sources.size());
      to_replace.push_back(ref);
      texts.push_back(engine::QuoteIdentifier(source.placeholder));
      flow.sources.push_back(std::move(source));
    }
    flow.sql = engine::ReplaceTableReferences(translated, to_replace, texts);

    const Dataset& target = graph.datasets_[flow.target];
    bool target_streaming = target.definition.kind == DatasetKind::kStreamingTable;
    if (target_streaming && !flow.once && flow.kind == FlowDefinition::Kind::kAppend) {
      // Streaming sources may also come through views.
      auto has_stream = [](const Flow& f) {
        return std::any_of(f.sources.begin(), f.sources.end(),
                           [](const FlowSource& s) { return s.streaming; });
      };
      bool streams = has_stream(flow);
      for (const auto& s : flow.sources) {
        if (streams) break;
        if (!s.dataset) continue;
        const Dataset& ds = graph.datasets_[*s.dataset];
        if (ds.is_table()) continue;
        for (const PendingFlow& other : pending) {
          if (other.flow.target == *s.dataset && has_stream(other.flow)) streams = true;
        }
      }
      if (!streams) {
        return fail(
            "a streaming table's query must read a streaming source (STREAM(table), STREAM "
            "read_files(...) or cloud_files(...)); for a query that reads its inputs in full "
            "use a materialized view, or a flow with INSERT ONCE");
      }
    }
  }

  for (PendingFlow& p : pending) graph.flows_.push_back(std::move(p.flow));

  // 4. Dependencies (through the flows writing each source dataset) and cycles.
  std::map<size_t, std::vector<size_t>> writers;  // dataset -> flows
  for (size_t f = 0; f < graph.flows_.size(); ++f) writers[graph.flows_[f].target].push_back(f);
  for (Flow& flow : graph.flows_) {
    for (const FlowSource& s : flow.sources) {
      if (!s.dataset) continue;
      for (size_t w : writers[*s.dataset]) {
        if (std::find(flow.upstream_flows.begin(), flow.upstream_flows.end(), w) ==
            flow.upstream_flows.end()) {
          flow.upstream_flows.push_back(w);
        }
      }
    }
  }
  // Kahn's algorithm, ties in definition order; on a cycle, walk it to name it.
  size_t n = graph.flows_.size();
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<size_t>> downstream(n);
  for (size_t f = 0; f < n; ++f) {
    for (size_t u : graph.flows_[f].upstream_flows) {
      ++indegree[f];
      downstream[u].push_back(f);
    }
  }
  std::set<size_t> ready;
  for (size_t f = 0; f < n; ++f) {
    if (indegree[f] == 0) ready.insert(f);
  }
  while (!ready.empty()) {
    size_t f = *ready.begin();
    ready.erase(ready.begin());
    graph.order_.push_back(f);
    for (size_t d : downstream[f]) {
      if (--indegree[d] == 0) ready.insert(d);
    }
  }
  if (graph.order_.size() != n) {
    // Follow upstream edges among the unfinished flows until one repeats.
    size_t start = 0;
    while (indegree[start] == 0) ++start;
    std::vector<size_t> path;
    std::map<size_t, size_t> seen;
    size_t cur = start;
    while (!seen.count(cur)) {
      seen[cur] = path.size();
      path.push_back(cur);
      for (size_t u : graph.flows_[cur].upstream_flows) {
        if (indegree[u] > 0) {
          cur = u;
          break;
        }
      }
    }
    std::vector<size_t> cycle(path.begin() + static_cast<long>(seen[cur]), path.end());
    std::reverse(cycle.begin(), cycle.end());
    // Start the cycle at the flow defined first, so the message does not depend on the walk.
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    std::string names;
    for (size_t f : cycle) {
      names += graph.datasets_[graph.flows_[f].target].definition.name + " -> ";
    }
    names += graph.datasets_[graph.flows_[cycle.front()].target].definition.name;
    return Status::InvalidArgument(fmt::format(
        "{}: the datasets depend on each other in a cycle: {}",
        Where(graph.flows_[cycle.front()].location), names));
  }
  return graph;
}

}  // namespace medallion::pipeline
