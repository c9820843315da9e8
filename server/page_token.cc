#include "server/page_token.h"

#include <algorithm>
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

absl::StatusOr<Paging> PagingOf(const google::protobuf::Message& request, int default_size,
                                int max_size) {
  const google::protobuf::Descriptor* d = request.GetDescriptor();
  const google::protobuf::Reflection* r = request.GetReflection();
  const auto* size_field = d->FindFieldByName("page_size");
  const auto* token_field = d->FindFieldByName("page_token");
  Paging paging;
  int requested = size_field != nullptr ? r->GetInt32(request, size_field) : 0;
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  paging.page_size = requested == 0 ? default_size : std::min(requested, max_size);
  paging.fingerprint = FilterFingerprint(request);
  std::string token = token_field != nullptr ? r->GetString(request, token_field) : "";
  if (!token.empty()) {
    absl::StatusOr<int64_t> c = DecodePageToken(token, paging.fingerprint);
    if (!c.ok()) return c.status();
    paging.cursor = *c;
  }
  return paging;
}

}  // namespace yiyuan
