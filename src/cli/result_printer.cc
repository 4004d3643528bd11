#include "cli/result_printer.h"

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace medallion::cli {
namespace {

// Display width of UTF-8 text: code points (continuation bytes do not count).
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80;
  return width;
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void PrintTable(const engine::QueryResult& r, const PrintOptions& options, std::ostream& out) {
  size_t columns = r.column_count();
  size_t rows = r.row_count();
  std::vector<size_t> shown;
  bool elided = options.max_rows > 0 && rows > options.max_rows;
  if (elided) {
    size_t head = (options.max_rows + 1) / 2, tail = options.max_rows / 2;
    for (size_t i = 0; i < head; ++i) shown.push_back(i);
    for (size_t i = rows - tail; i < rows; ++i) shown.push_back(i);
  } else {
    for (size_t i = 0; i < rows; ++i) shown.push_back(i);
  }
  std::vector<std::vector<std::string>> cells(shown.size(), std::vector<std::string>(columns));
  std::vector<size_t> widths(columns);
  std::vector<bool> right(columns);
  for (size_t c = 0; c < columns; ++c) {
    widths[c] = std::max(DisplayWidth(r.column_name(c)), DisplayWidth(r.column_type(c).ToString()));
    right[c] = r.column_type(c).IsNumeric();
  }
  for (size_t i = 0; i < shown.size(); ++i) {
    for (size_t c = 0; c < columns; ++c) {
      cells[i][c] = r.GetText(c, shown[i]);
      widths[c] = std::max(widths[c], DisplayWidth(cells[i][c]));
    }
  }
  auto line = [&](const std::vector<std::string>& values, bool align_numbers) {
    for (size_t c = 0; c < columns; ++c) {
      size_t pad = widths[c] - DisplayWidth(values[c]);
      out << (c == 0 ? "" : " | ");
      if (align_numbers && right[c]) out << std::string(pad, ' ') << values[c];
      else out << values[c] << (c + 1 < columns ? std::string(pad, ' ') : "");
    }
    out << '\n';
  };
  std::vector<std::string> header(columns), types(columns), rule(columns);
  for (size_t c = 0; c < columns; ++c) {
    header[c] = r.column_name(c);
    types[c] = r.column_type(c).ToString();
  }
  line(header, false);
  line(types, false);
  for (size_t c = 0; c < columns; ++c) out << (c == 0 ? "" : "-+-") << std::string(widths[c], '-');
  out << '\n';
  size_t head = elided ? (options.max_rows + 1) / 2 : shown.size();
  for (size_t i = 0; i < shown.size(); ++i) {
    if (elided && i == head) out << "...\n";
    line(cells[i], true);
  }
  out << rows << (rows == 1 ? " row" : " rows");
  if (elided) out << " (" << shown.size() << " shown)";
  out << '\n';
}

void PrintCsv(const engine::QueryResult& r, std::ostream& out) {
  for (size_t c = 0; c < r.column_count(); ++c) out << (c ? "," : "") << CsvField(r.column_name(c));
  out << '\n';
  for (size_t row = 0; row < r.row_count(); ++row) {
    for (size_t c = 0; c < r.column_count(); ++c) {
      out << (c ? "," : "");
      if (!r.IsNull(c, row)) out << CsvField(r.GetText(c, row));
    }
    out << '\n';
  }
}

void PrintJson(const engine::QueryResult& r, std::ostream& out) {
  for (size_t row = 0; row < r.row_count(); ++row) {
    out << '{';
    for (size_t c = 0; c < r.column_count(); ++c) {
      out << (c ? "," : "") << nlohmann::json(r.column_name(c)).dump() << ':'
          << r.GetValue(c, row).ToJson();
    }
    out << "}\n";
  }
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json" || name == "jsonl") return OutputFormat::kJson;
  return Status::InvalidArgument("unknown output format '" + std::string(name) +
                                 "' (use table, csv or json)");
}

void PrintResult(const engine::QueryResult& result, const PrintOptions& options, std::ostream& out) {
  switch (options.format) {
    case OutputFormat::kTable: PrintTable(result, options, out); break;
    case OutputFormat::kCsv: PrintCsv(result, out); break;
    case OutputFormat::kJson: PrintJson(result, out); break;
  }
}

}  // namespace medallion::cli
