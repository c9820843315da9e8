#ifndef YIYUAN_SERVER_DEPLOY_FILES_H_
#define YIYUAN_SERVER_DEPLOY_FILES_H_

#include <string_view>

// Files of deploy/ compiled into dispatchd (see embed_files in the top CMakeLists.txt).
namespace yiyuan::deploy_files {
// The text of `file_name` ("redis-embedded.conf"), or empty if there is no such file.
std::string_view Get(std::string_view file_name);
}  // namespace yiyuan::deploy_files

#endif  // YIYUAN_SERVER_DEPLOY_FILES_H_
