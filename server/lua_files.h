#ifndef YIYUAN_SERVER_LUA_FILES_H_
#define YIYUAN_SERVER_LUA_FILES_H_

#include <string_view>

// The Lua scripts in server/lua/, embedded at build time (see embed_files in the
// top-level CMakeLists.txt).
namespace yiyuan::lua_files {
// The text of `file_name` ("submit_request.lua"), or empty if there is no such file.
std::string_view Get(std::string_view file_name);
}  // namespace yiyuan::lua_files

#endif  // YIYUAN_SERVER_LUA_FILES_H_
