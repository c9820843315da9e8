#include "server/page_token.h"

#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/field_violations.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/crypto.h"

namespace yiyuan {

std::string FilterFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const google::protobuf::Descriptor* d = copy->GetDescriptor();
  for (const char* name : {"page_token", "page_size"}) {
    if (const auto* f = d->FindFieldByName(name)) copy->GetReflection()->ClearField(copy.get(), f);
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  return Sha256Hex(bytes).substr(0, 16);
}

std::string EncodePageToken(int64_t cursor, const std::string& fingerprint) {
  std::string out;
  absl::WebSafeBase64Escape(absl::StrCat("1.", cursor, ".", fingerprint), &out);
  return out;
}

absl::StatusOr<int64_t> DecodePageToken(const std::string& token,
                                        const std::string& fingerprint) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return InvalidField("page_token", "is not a token this server issued");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, '.');
  int64_t cursor = 0;
  if (parts.size() != 3 || parts[0] != "1" || !absl::SimpleAtoi(parts[1], &cursor)) {
    return InvalidField("page_token", "is not a token this server issued");
  }
  if (parts[2] != fingerprint) {
    return InvalidField("page_token", "was issued for different filters");
  }
  return cursor;
}

}  // namespace yiyuan
