#include "engine/scorer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/field_violations.h"

namespace yiyuan {
namespace {

// Fairness and reliability of a candidate without statistics: neither favoured nor
// penalised.
constexpr double kNeutral = 0.5;
// Fairness: this many assignments in 7 days count as fully loaded, and an offer this
// many minutes ago no longer counts against the candidate.
constexpr double kFullLoad = 5;
constexpr double kIdleMinutes = 120;

struct WeightField {
  absl::string_view name;
  double ScoreWeights::*field;
};
// In the order of the components.
constexpr WeightField kWeightFields[kCostComponents] = {
    {kTravelTimeComponent, &ScoreWeights::travel_time},
    {kPreferredSkillFitComponent, &ScoreWeights::preferred_skill_fit},
    {kContinuityComponent, &ScoreWeights::continuity},
    {kFairnessComponent, &ScoreWeights::fairness},
    {kReliabilityComponent, &ScoreWeights::reliability},
    {kUrgencyComponent, &ScoreWeights::urgency},
};

bool FiniteNonNegative(double x) { return std::isfinite(x) && x >= 0; }

// "850 m" or "1.2 km".
std::string FormatDistance(double m) {
  if (!(m >= 0)) return "unknown distance";
  if (m < 999.5) return absl::StrCat(std::llround(m), " m");
  int64_t tenths = std::llround(m / 100);
  return absl::StrCat(tenths / 10, ".", tenths % 10, " km");
}

// "40 min", "3 h", "2 days".
std::string FormatAge(double minutes) {
  if (minutes < 120) return absl::StrCat(std::llround(std::floor(minutes)), " min");
  if (minutes < 48 * 60) return absl::StrCat(std::llround(std::floor(minutes / 60)), " h");
  return absl::StrCat(std::llround(std::floor(minutes / (24 * 60))), " days");
}

const char* Plural(int64_t n, const char* one, const char* many) { return n == 1 ? one : many; }

// Whether a candidate's reported position moves (and so can go stale).
bool Moves(const Candidate& c) { return !c.is_unit || c.unit_kind == UnitKind::kVan; }

CandidateQuery QueryFor(const MatchRequest& r) {
  CandidateQuery q;
  q.required_tokens = r.required_tokens;
  q.required_certificates = r.required_certificates;
  q.available_now = true;
  q.include_volunteers = true;
  q.include_units = r.include_units;
  q.unit_kinds = r.unit_kinds;
  return q;
}

// Everything Check needs besides the request and the candidate, computed once per Rank.
struct CheckContext {
  CandidateQuery query;
  absl::Time now;        // The clock's reading.
  absl::Time judged_at;  // max(now, window_start): when capacity and availability count.
};

CheckContext ContextFor(const MatchRequest& r, absl::Time now) {
  return CheckContext{QueryFor(r), now, std::max(now, r.window_start)};
}

Verdict CheckIn(const ScorerOptions& o, const CheckContext& ctx, const MatchRequest& r,
                const CandidateFacts& f) {
  // Exclusions by history come first: they say more about this request than the
  // candidate's general state does ("declined" rather than "busy").
  struct HistorySet {
    const absl::flat_hash_set<std::string>* ids;
    Exclusion exclusion;
    const char* detail;
  };
  const HistorySet history[] = {
      {&r.assigned, Exclusion::kAlreadyAssigned, "already assigned to this request"},
      {&r.offered, Exclusion::kAlreadyOffered, "already offered this request"},
      {&r.declined, Exclusion::kDeclined, "declined this request"},
      {&r.no_show, Exclusion::kNoShow, "did not show for this request"},
      {&r.conflict, Exclusion::kConflict, "marked as not to be sent"},
  };
  for (const HistorySet& h : history) {
    if (!h.ids->empty() && h.ids->contains(f.id)) return Verdict{h.exclusion, h.detail};
  }
  const Candidate& c = *f.candidate;
  Verdict v = FirstUnmet(f.id, c, ctx.query, ctx.judged_at);
  if (v.exclusion != Exclusion::kNone) return v;
  if (r.max_travel_m > 0 && f.distance_m > r.max_travel_m) {
    return Verdict{Exclusion::kTooFar, absl::StrCat(FormatDistance(f.distance_m), " away, limit ",
                                                    FormatDistance(r.max_travel_m))};
  }
  if (Moves(c)) {
    if (c.location_time_ms == 0) return Verdict{Exclusion::kStaleLocation, "location time unknown"};
    absl::Duration age = ctx.now - absl::FromUnixMillis(c.location_time_ms);
    if (age > o.stale_location) {
      return Verdict{Exclusion::kStaleLocation,
                     absl::StrCat("location ", FormatAge(absl::ToDoubleMinutes(age)), " old")};
    }
  }
  return Verdict{};
}

double SpeedOf(const ScorerOptions& o, const Candidate& c) {
  if (!c.is_unit) return o.volunteer_speed_mps;
  return c.unit_kind == UnitKind::kVan ? o.van_speed_mps : o.team_speed_mps;
}

double UrgencyFactor(const ScorerOptions& o, Urgency u) {
  switch (u) {
    case Urgency::kUrgent:
      return o.urgent_travel_factor;
    case Urgency::kCrisis:
      return o.crisis_travel_factor;
    default:
      return 0;
  }
}

void ScoreInto(const ScorerOptions& o, absl::Time now, const MatchRequest& r,
               const CandidateFacts& f, bool with_details, ScoredCandidate* out) {
  const Candidate& c = *f.candidate;
  const ScoreWeights& w = o.weights;
  out->id = f.id;
  out->distance_m = f.distance_m;
  out->components.clear();
  out->components.resize(kCostComponents);
  CostComponent* comp = out->components.data();
  for (int i = 0; i < kCostComponents; ++i) {
    comp[i].name = std::string(kWeightFields[i].name);
    comp[i].weight = w.*(kWeightFields[i].field);
  }

  // Travel: the value is in seconds (what people and the API show); the weight is per
  // minute so that the default weights read in minutes of travel.
  const double travel_s = f.distance_m * o.detour_factor / SpeedOf(o, c);
  const double travel_min = travel_s / 60;
  out->travel_time_s = static_cast<int>(std::lround(travel_s));
  comp[0].value = travel_s;
  comp[0].weighted = travel_min * w.travel_time;

  int has_preferred = 0;
  for (const std::string& s : r.preferred_skills) has_preferred += c.HasToken(s) ? 1 : 0;
  const int preferred = static_cast<int>(r.preferred_skills.size());
  comp[1].value = preferred == 0 ? 0 : 1.0 - static_cast<double>(has_preferred) / preferred;

  const bool paired = !r.paired.empty() && r.paired.contains(f.id);
  const bool served = !paired && !r.served_before.empty() && r.served_before.contains(f.id);
  out->continuity = paired || served;
  comp[2].value = paired ? 0 : served ? 0.25 : 1;

  const VolunteerStats* st = f.stats;
  double idle_minutes = 0;  // Since the last offer; meaningful when there was one.
  if (st == nullptr) {
    comp[3].value = kNeutral;
    comp[4].value = kNeutral;
  } else {
    const double load = 0.5 * std::min(1.0, std::max(0, st->recent_load) / kFullLoad);
    double recency = 0;  // Never offered: fully idle.
    if (st->last_offer_time_ms > 0) {
      idle_minutes =
          std::max(0.0, absl::ToDoubleMinutes(now - absl::FromUnixMillis(st->last_offer_time_ms)));
      recency = 0.5 * (1 - std::min(1.0, idle_minutes / kIdleMinutes));
    }
    comp[3].value = load + recency;
    // Laplace smoothing: a newcomer counts as one success and one failure on each.
    const double p_accept = (st->offers_accepted + 1.0) / (st->offers_answered + 2.0);
    const double p_complete = (st->completed + 1.0) / (st->assignments_ended + 2.0);
    comp[4].value = 1 - p_accept * p_complete;
  }

  const double factor = UrgencyFactor(o, r.urgency);
  comp[5].value = travel_min * factor;

  double total = 0;
  for (int i = 1; i < kCostComponents; ++i) comp[i].weighted = comp[i].value * comp[i].weight;
  for (int i = 0; i < kCostComponents; ++i) total += comp[i].weighted;
  out->total_cost = total;

  if (!with_details) return;
  const int64_t minutes = std::llround(travel_min);
  comp[0].detail =
      absl::StrCat(FormatDistance(f.distance_m), ", ",
                   minutes == 0 ? "under 1 min" : absl::StrCat("about ", minutes, " min"));
  if (preferred == 0) {
    comp[1].detail = "no preferred skills";
  } else {
    comp[1].detail = absl::StrCat("has ", has_preferred, " of ", preferred, " preferred");
    const char* sep = ": ";
    for (const std::string& s : r.preferred_skills) {
      if (!c.HasToken(s)) continue;
      absl::StrAppend(&comp[1].detail, sep, s);
      sep = ", ";
    }
  }
  comp[2].detail = paired   ? "paired volunteer"
                   : served ? "served this resident before"
                            : "no history";
  if (st == nullptr) {
    comp[3].detail = "no statistics";
    comp[4].detail = "no statistics";
  } else {
    comp[3].detail = absl::StrCat(
        st->recent_load, Plural(st->recent_load, " assignment", " assignments"), " in 7 days, ",
        st->last_offer_time_ms > 0 ? absl::StrCat("last offer ", FormatAge(idle_minutes), " ago")
                                   : std::string("never offered"));
    comp[4].detail = absl::StrCat("accepted ", st->offers_accepted, " of ", st->offers_answered,
                                  ", completed ", st->completed, " of ", st->assignments_ended);
  }
  // How much a travel minute weighs in total compared with a routine request.
  if (w.travel_time > 0) {
    comp[5].detail = absl::StrCat(Name(r.urgency), ": travel counts \xC3\x97",
                                  (w.travel_time + factor * w.urgency) / w.travel_time);
  } else {
    comp[5].detail = absl::StrCat(Name(r.urgency), ": travel minutes \xC3\x97", factor);
  }
}

bool ByCost(const ScoredCandidate& a, const ScoredCandidate& b) {
  return std::tie(a.total_cost, a.id) < std::tie(b.total_cost, b.id);
}

bool ByDistance(const ExcludedCandidate& a, const ExcludedCandidate& b) {
  return std::tie(a.distance_m, a.id) < std::tie(b.distance_m, b.id);
}

}  // namespace

absl::Status ValidateScorerOptions(const ScorerOptions& o) {
  FieldViolations v;
  for (const WeightField& f : kWeightFields) {
    if (!FiniteNonNegative(o.weights.*(f.field))) {
      v.Add(absl::StrCat("weights.", f.name), "must be a finite number >= 0");
    }
  }
  if (!(std::isfinite(o.detour_factor) && o.detour_factor >= 1)) {
    v.Add("detour_factor", "must be a finite number >= 1");
  }
  const std::pair<const char*, double> speeds[] = {{"volunteer_speed_mps", o.volunteer_speed_mps},
                                                   {"van_speed_mps", o.van_speed_mps},
                                                   {"team_speed_mps", o.team_speed_mps}};
  for (const auto& [name, speed] : speeds) {
    if (!(std::isfinite(speed) && speed > 0)) v.Add(name, "must be a finite number > 0");
  }
  if (o.stale_location <= absl::ZeroDuration()) v.Add("stale_location", "must be positive");
  if (!FiniteNonNegative(o.urgent_travel_factor)) {
    v.Add("urgent_travel_factor", "must be a finite number >= 0");
  }
  if (!FiniteNonNegative(o.crisis_travel_factor)) {
    v.Add("crisis_travel_factor", "must be a finite number >= 0");
  }
  return v.ToStatus();
}

Scorer::Scorer(ScorerOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

Verdict Scorer::Check(const MatchRequest& request, const CandidateFacts& facts) const {
  return CheckIn(options_, ContextFor(request, clock_.Now()), request, facts);
}

ScoredCandidate Scorer::Score(const MatchRequest& request, const CandidateFacts& facts) const {
  ScoredCandidate out;
  ScoreInto(options_, clock_.Now(), request, facts, /*with_details=*/true, &out);
  return out;
}

Ranking Scorer::Rank(const MatchRequest& request, absl::Span<const CandidateFacts> candidates,
                     bool with_details) const {
  const CheckContext ctx = ContextFor(request, clock_.Now());
  Ranking out;
  out.ranked.reserve(candidates.size());
  for (const CandidateFacts& f : candidates) {
    Verdict v = CheckIn(options_, ctx, request, f);
    if (v.exclusion != Exclusion::kNone) {
      out.excluded.push_back(ExcludedCandidate{f.id, f.distance_m, v.exclusion,
                                               with_details ? std::move(v.detail) : std::string()});
      continue;
    }
    out.ranked.emplace_back();
    ScoreInto(options_, ctx.now, request, f, with_details, &out.ranked.back());
  }
  std::sort(out.ranked.begin(), out.ranked.end(), ByCost);
  std::sort(out.excluded.begin(), out.excluded.end(), ByDistance);
  return out;
}

absl::StatusOr<ScoreWeights> ParseScoreWeights(absl::string_view spec, ScoreWeights base) {
  bool seen[kCostComponents] = {};
  for (absl::string_view item : absl::StrSplit(spec, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (item.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("score weights: \"", item, "\": expected name=value"));
    }
    absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    int i = 0;
    while (i < kCostComponents && kWeightFields[i].name != key) ++i;
    if (i == kCostComponents) {
      return absl::InvalidArgumentError(absl::StrCat(
          "score weights: unknown name \"", key,
          "\" (known: travel_time, preferred_skill_fit, continuity, fairness, reliability, "
          "urgency)"));
    }
    if (seen[i]) {
      return absl::InvalidArgumentError(absl::StrCat("score weights: ", key, ": given twice"));
    }
    seen[i] = true;
    double x;
    if (!absl::SimpleAtod(value, &x) || !FiniteNonNegative(x)) {
      return absl::InvalidArgumentError(
          absl::StrCat("score weights: ", key, ": \"", value, "\" is not a finite number >= 0"));
    }
    base.*(kWeightFields[i].field) = x;
  }
  return base;
}

}  // namespace yiyuan
