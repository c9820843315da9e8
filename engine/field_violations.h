#ifndef YIYUAN_ENGINE_FIELD_VIOLATIONS_H_
#define YIYUAN_ENGINE_FIELD_VIOLATIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace yiyuan {

// One invalid input field: its dotted path as the caller wrote it
// ("request.resident.phone") and why it is invalid.
struct FieldViolation {
  std::string field;
  std::string description;
};

// Collects violations while a validator walks an input.
class FieldViolations {
 public:
  // Records that `field` is invalid because `description`.
  void Add(absl::string_view field, absl::string_view description);
  // Records the violations that `status` carries (see ViolationsFromStatus); none for
  // OK or any other kind of status.
  void AddFrom(const absl::Status& status);
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }

  // OkStatus() when nothing was recorded; otherwise INVALID_ARGUMENT whose message is
  // "<field>: <description>" for the first violation (plus a count of the others) and
  // which carries every violation as a payload (see ViolationsFromStatus).
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// The absl::Status payload URL under which ToStatus() stores the violations.
inline constexpr absl::string_view kFieldViolationsPayload =
    "type.yiyuan.dev/yiyuan.FieldViolations";

// The violations carried by a status made by FieldViolations::ToStatus(), or empty.
std::vector<FieldViolation> ViolationsFromStatus(const absl::Status& status);

// A machine-readable reason for a refusal (e.g. "OUT_OF_STOCK"), carried as a payload
// and sent to clients as a google.rpc.ErrorInfo detail, so they need not parse messages.
inline constexpr absl::string_view kErrorReasonPayload = "type.yiyuan.dev/yiyuan.ErrorReason";
absl::Status WithReason(absl::Status status, absl::string_view reason);
// The reason attached by WithReason, or "".
std::string ReasonOf(const absl::Status& status);

// Shorthand for a single-field INVALID_ARGUMENT with the violation payload attached.
absl::Status InvalidField(absl::string_view field, absl::string_view description);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_FIELD_VIOLATIONS_H_
