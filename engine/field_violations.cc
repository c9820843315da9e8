#include "engine/field_violations.h"

#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace yiyuan {

void FieldViolations::Add(absl::string_view field, absl::string_view description) {
  violations_.push_back({std::string(field), std::string(description)});
}

void FieldViolations::AddFrom(const absl::Status& status) {
  for (FieldViolation& f : ViolationsFromStatus(status)) violations_.push_back(std::move(f));
}

absl::Status FieldViolations::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  std::string message =
      absl::StrCat(violations_[0].field, ": ", violations_[0].description);
  if (violations_.size() > 1) {
    absl::StrAppend(&message, " (and ", violations_.size() - 1, " more)");
  }
  // Payload: one "field\tdescription" line per violation. Neither part can hold a tab
  // or newline because both are written by validators, not copied from input.
  std::string payload;
  for (const FieldViolation& v : violations_) {
    absl::StrAppend(&payload, v.field, "\t", v.description, "\n");
  }
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kFieldViolationsPayload, absl::Cord(payload));
  return status;
}

std::vector<FieldViolation> ViolationsFromStatus(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kFieldViolationsPayload);
  if (!payload.has_value()) return out;
  for (absl::string_view line :
       absl::StrSplit(std::string(*payload), '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(line, absl::MaxSplits('\t', 1));
    out.push_back({parts.first, parts.second});
  }
  return out;
}

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  if (!status.ok()) status.SetPayload(kErrorReasonPayload, absl::Cord(reason));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorReasonPayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

absl::Status InvalidField(absl::string_view field, absl::string_view description) {
  FieldViolations v;
  v.Add(field, description);
  return v.ToStatus();
}

}  // namespace yiyuan
