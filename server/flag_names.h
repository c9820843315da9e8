#ifndef YIYUAN_SERVER_FLAG_NAMES_H_
#define YIYUAN_SERVER_FLAG_NAMES_H_

#include <string>
#include <vector>

namespace yiyuan {

// Our flags are spelled with dashes (--data-dir) as DESIGN.md and the README show them;
// Abseil's parser knows them with underscores (--data_dir). Returns argv with the dashes
// in each flag's name (not its value) turned into underscores; arguments after "--"
// are left alone. The result owns its strings; use ArgvOf() to get a char** view.
std::vector<std::string> NormalizeFlagNames(int argc, char** argv);

// A char* view of `args` for absl::ParseCommandLine (valid while `args` lives).
std::vector<char*> ArgvOf(std::vector<std::string>& args);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_FLAG_NAMES_H_
