#include "engine/points.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/field_checks.h"
#include "engine/field_violations.h"
#include "engine/volunteer_validator.h"

namespace yiyuan {
namespace {

constexpr absl::string_view kKindNames[] = {"", "EARN", "REDEEM", "ADJUST", "REVERSAL", "FUND"};

// "0.2" -> 200; at most three decimal places, no sign.
bool ParseMilli(absl::string_view text, int64_t& out) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('.', 1));
  int64_t whole = 0;
  if (parts.first.empty() || !absl::ascii_isdigit(parts.first[0]) ||
      !absl::SimpleAtoi(parts.first, &whole) || whole > 1000000) {
    return false;
  }
  std::string frac(parts.second);
  if (frac.size() > 3) return false;
  for (char c : frac) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  if (text.find('.') != absl::string_view::npos && frac.empty()) return false;
  frac.resize(3, '0');
  out = whole * 1000 + std::stoi(frac);
  return true;
}

// 200 -> "0.2", 1500 -> "1.5", 2000 -> "2".
std::string MilliText(int64_t milli) {
  std::string out = absl::StrCat(milli / 1000);
  int64_t frac = milli % 1000;
  if (frac == 0) return out;
  std::string digits = absl::StrCat(1000 + frac).substr(1);
  while (digits.back() == '0') digits.pop_back();
  return absl::StrCat(out, ".", digits);
}

int64_t BonusOf(const PointsRule& r, Urgency u) {
  switch (u) {
    case Urgency::kUrgent:
      return r.urgent_bonus;
    case Urgency::kCrisis:
      return r.crisis_bonus;
    default:
      return r.routine_bonus;
  }
}

}  // namespace

std::string PointsAccount::Name() const {
  switch (kind) {
    case Kind::kFund:
      return "fund";
    case Kind::kVolunteer:
      return absl::StrCat("volunteer:", id);
    case Kind::kKiosk:
      return absl::StrCat("kiosk:", id);
    case Kind::kExternal:
      return "external";
  }
  return "";
}

absl::StatusOr<PointsAccount> ParsePointsAccount(absl::string_view field, absl::string_view name,
                                                 absl::string_view district) {
  if (name.empty()) return InvalidField(field, "is required");
  if (name == "fund") return PointsAccount::Fund();
  if (absl::ConsumePrefix(&name, "volunteer:")) {
    absl::StatusOr<std::string> d = DistrictOfVolunteerId(field, name);
    if (!d.ok()) return d.status();
    if (*d != district) {
      return InvalidField(field, absl::StrCat("volunteer ", name, " is not of district ", district));
    }
    return PointsAccount::Volunteer(name);
  }
  if (absl::ConsumePrefix(&name, "kiosk:")) {
    if (absl::Status s = ValidatePointsId(field, name, /*required=*/true); !s.ok()) return s;
    return PointsAccount::Kiosk(name);
  }
  return InvalidField(field, "must be \"fund\", \"volunteer:<id>\" or \"kiosk:<id>\"");
}

absl::string_view Name(LedgerKind k) {
  int i = static_cast<int>(k);
  return i >= 0 && i < 6 ? kKindNames[i] : "";
}

LedgerKind ParseLedgerKind(absl::string_view name) {
  for (int i = 1; i < 6; ++i) {
    if (kKindNames[i] == name) return static_cast<LedgerKind>(i);
  }
  return LedgerKind::kUnspecified;
}

int64_t PointsRule::Amount(int minutes, Urgency urgency) const {
  int64_t paid = std::clamp(minutes, 0, max_minutes);
  return (base * 1000 + paid * per_minute_milli + BonusOf(*this, urgency) * 1000) / 1000;
}

std::string PointsRule::Explain(int minutes, Urgency urgency) const {
  int paid = std::clamp(minutes, 0, max_minutes);
  std::string out = absl::StrCat("base ", base, " + ", paid, " min × ", MilliText(per_minute_milli));
  if (paid < minutes) absl::StrAppend(&out, " (of ", minutes, ", capped)");
  int64_t bonus = BonusOf(*this, urgency);
  if (bonus > 0) {
    std::string level = absl::AsciiStrToLower(Name(urgency));
    absl::StrAppend(&out, " + ", level, " ", bonus);
  }
  return out;
}

absl::StatusOr<PointsRule> ParsePointsRule(absl::string_view spec, PointsRule base) {
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    size_t eq = item.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("points rule: \"", item, "\": expected name=value"));
    }
    absl::string_view key = absl::StripAsciiWhitespace(item.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(item.substr(eq + 1));
    int64_t n = 0;
    bool ok;
    if (key == "per_minute") {
      ok = ParseMilli(value, base.per_minute_milli);
    } else {
      ok = !value.empty() && absl::ascii_isdigit(value[0]) && absl::SimpleAtoi(value, &n) &&
           n <= kMaxAdjustPoints;
      if (!ok) {
      } else if (key == "base") {
        base.base = n;
      } else if (key == "routine") {
        base.routine_bonus = n;
      } else if (key == "urgent") {
        base.urgent_bonus = n;
      } else if (key == "crisis") {
        base.crisis_bonus = n;
      } else if (key == "max_minutes") {
        base.max_minutes = static_cast<int>(n);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "points rule: unknown name \"", key,
            "\" (known: base, per_minute, routine, urgent, crisis, max_minutes)"));
      }
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "points rule: ", key, ": \"", value, "\" is not a number from 0 to 1000000",
          key == "per_minute" ? " with at most 3 decimal places" : ""));
    }
  }
  return base;
}

absl::Status ValidateIdempotencyKey(absl::string_view field, absl::string_view key) {
  FieldViolations v;
  checks::Id(v, field, key, 64, /*required=*/true);
  if (v.empty() && key.size() < 8) v.Add(field, "must be at least 8 characters");
  return v.ToStatus();
}

absl::Status ValidatePointsId(absl::string_view field, absl::string_view id, bool required) {
  FieldViolations v;
  checks::Id(v, field, id, 64, required);
  return v.ToStatus();
}

absl::Status ValidateReason(absl::string_view field, absl::string_view reason) {
  FieldViolations v;
  checks::Text(v, field, reason, 500, /*required=*/true);
  return v.ToStatus();
}

absl::Status ValidateCatalogFields(absl::string_view prefix, const CatalogItem& item) {
  FieldViolations v;
  checks::Text(v, absl::StrCat(prefix, ".name"), item.name, 64, /*required=*/true);
  checks::Text(v, absl::StrCat(prefix, ".description"), item.description, 500,
               /*required=*/false);
  if (item.price_points < 1 || item.price_points > kMaxPricePoints) {
    v.Add(absl::StrCat(prefix, ".price_points"),
          absl::StrCat("must be from 1 to ", kMaxPricePoints));
  }
  if (item.stock < 0) v.Add(absl::StrCat(prefix, ".stock"), "must not be negative");
  return v.ToStatus();
}

}  // namespace yiyuan
