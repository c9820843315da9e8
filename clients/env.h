#ifndef YIYUAN_CLIENTS_ENV_H_
#define YIYUAN_CLIENTS_ENV_H_

#include <cstdlib>
#include <string>

namespace yiyuan {

// The value of environment variable `name`, or `fallback` when it is unset or empty; for
// flag defaults such as --server=$YIYUAN_SERVER.
inline std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace yiyuan

#endif  // YIYUAN_CLIENTS_ENV_H_
