#ifndef YIYUAN_SERVER_EMBEDDED_FILES_H_
#define YIYUAN_SERVER_EMBEDDED_FILES_H_

#include <string_view>

// Files compiled into dispatchd by embed_files() in the top-level CMakeLists.txt. Each
// Get returns the text of `file_name`, or empty when no such file was embedded.

// server/lua/*.lua, e.g. "submit_request.lua".
namespace yiyuan::lua_files {
std::string_view Get(std::string_view file_name);
}  // namespace yiyuan::lua_files

// deploy/redis-embedded.conf.
namespace yiyuan::deploy_files {
std::string_view Get(std::string_view file_name);
}  // namespace yiyuan::deploy_files

#endif  // YIYUAN_SERVER_EMBEDDED_FILES_H_
