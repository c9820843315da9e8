#ifndef YIYUAN_SERVER_LOG_H_
#define YIYUAN_SERVER_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace yiyuan {

// One JSON object per line on stderr: {"ts":...,"level":...,"msg":...,<fields>}.
// Thread-safe. Never pass a phone number or an address: logs are not masked.
enum class LogLevel { kDebug, kInfo, kWarning, kError };

using LogFields = std::vector<std::pair<std::string, std::string>>;

void Log(LogLevel level, absl::string_view msg, const LogFields& fields = {});
// Messages below `level` are dropped.
void SetLogLevel(LogLevel level);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_LOG_H_
