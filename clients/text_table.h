#ifndef YIYUAN_CLIENTS_TEXT_TABLE_H_
#define YIYUAN_CLIENTS_TEXT_TABLE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace yiyuan {

// Plain-text output for a terminal: tables for lists, "key: value" blocks for single
// objects. Widths are counted in terminal columns, so Chinese names line up.

// The number of terminal columns `utf8` takes: East Asian wide and fullwidth characters
// count two, combining marks none, everything else one. A byte that is not valid UTF-8
// counts one.
int DisplayWidth(absl::string_view utf8);

// Returns `header` and `rows` as left-aligned columns two spaces apart, one line each,
// every line ending in '\n'. Rows may be shorter than the header (missing cells are
// empty); line breaks inside a cell become spaces. Trailing spaces are not written.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// A labelled value in a block.
using Field = std::pair<std::string, std::string>;

// Returns one "key: value" line per field with the values aligned in one column.
// Fields with an empty value are left out; continuation lines of a multi-line value are
// indented to the value column.
std::string FormatFields(const std::vector<Field>& fields);

}  // namespace yiyuan

#endif  // YIYUAN_CLIENTS_TEXT_TABLE_H_
