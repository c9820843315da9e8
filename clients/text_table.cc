#include "clients/text_table.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace yiyuan {
namespace {

struct CodePointRange {
  char32_t first;
  char32_t last;
};

// East Asian Wide and Fullwidth blocks (Unicode UAX #11), coarse but enough for the
// names, addresses and descriptions residents give.
constexpr CodePointRange kWide[] = {
    {0x1100, 0x115F}, {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF}, {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6}, {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD},
};

// Combining marks draw over the previous character.
constexpr CodePointRange kZeroWidth[] = {
    {0x0300, 0x036F}, {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
};

template <size_t N>
bool InRanges(char32_t c, const CodePointRange (&ranges)[N]) {
  for (const CodePointRange& r : ranges) {
    if (c >= r.first && c <= r.last) return true;
  }
  return false;
}

// Decodes the UTF-8 sequence at the start of `s` into `c` and returns its length, or
// returns 0 when `s` does not start with a valid sequence.
size_t DecodeUtf8(absl::string_view s, char32_t* c) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t lead = byte(0);
  size_t len = lead < 0x80           ? 1
               : (lead >> 5) == 0x6  ? 2
               : (lead >> 4) == 0xE  ? 3
               : (lead >> 3) == 0x1E ? 4
                                     : 0;
  if (len == 0 || len > s.size()) return 0;
  *c = len == 1 ? lead : lead & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    *c = (*c << 6) | (byte(i) & 0x3F);
  }
  return len;
}

std::string PadRight(absl::string_view text, int width) {
  return absl::StrCat(text, std::string(std::max(0, width - DisplayWidth(text)), ' '));
}

std::string OneLine(absl::string_view cell) {
  return absl::StrReplaceAll(cell, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}, {"\t", " "}});
}

}  // namespace

int DisplayWidth(absl::string_view utf8) {
  int width = 0;
  while (!utf8.empty()) {
    char32_t c = 0;
    size_t len = DecodeUtf8(utf8, &c);
    if (len == 0) {
      ++width;
      utf8.remove_prefix(1);
      continue;
    }
    utf8.remove_prefix(len);
    if (InRanges(c, kZeroWidth)) continue;
    width += InRanges(c, kWide) ? 2 : 1;
  }
  return width;
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(rows.size() + 1);
  lines.push_back(header);
  for (const std::vector<std::string>& row : rows) {
    std::vector<std::string> cells(header.size());
    for (size_t i = 0; i < cells.size() && i < row.size(); ++i) cells[i] = OneLine(row[i]);
    lines.push_back(std::move(cells));
  }
  std::vector<int> widths(header.size(), 0);
  for (const std::vector<std::string>& line : lines) {
    for (size_t i = 0; i < line.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(line[i]));
    }
  }
  std::string out;
  for (const std::vector<std::string>& line : lines) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      if (i > 0) text += "  ";
      text += PadRight(line[i], widths[i]);
    }
    text.erase(text.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, text, "\n");
  }
  return out;
}

std::string FormatFields(const std::vector<Field>& fields) {
  int key_width = 0;
  for (const Field& f : fields) {
    if (!f.second.empty()) key_width = std::max(key_width, DisplayWidth(f.first) + 1);
  }
  const std::string indent(key_width + 1, ' ');
  std::string out;
  for (const Field& f : fields) {
    if (f.second.empty()) continue;
    std::string value = absl::StrReplaceAll(f.second, {{"\n", "\n" + indent}});
    absl::StrAppend(&out, PadRight(f.first + ":", key_width), " ", value, "\n");
  }
  return out;
}

}  // namespace yiyuan
