#include "clients/api_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

TEST(EnumNameTest, DropsTheEnumsOwnPrefix) {
  EXPECT_EQ(EnumName(*v1::Role_descriptor(), v1::ROLE_INTAKE), "INTAKE");
  EXPECT_EQ(EnumName(*v1::Channel_descriptor(), v1::WALK_IN), "WALK_IN");
  EXPECT_EQ(EnumName(*v1::RequestState_descriptor(), v1::EN_ROUTE), "EN_ROUTE");
}

TEST(EnumNameTest, DropsThePrefixEveryValueShares) {
  EXPECT_EQ(EnumName(*v1::DutyStatus_descriptor(), v1::DUTY_ON), "ON");
  EXPECT_EQ(EnumName(*v1::Certificate_descriptor(), v1::CERT_LICENSED_SOCIAL_WORKER),
            "LICENSED_SOCIAL_WORKER");
  EXPECT_EQ(EnumName(*v1::UnitKind_descriptor(), v1::UNIT_VAN), "VAN");
  EXPECT_EQ(EnumName(*v1::OfferResponse_descriptor(), v1::RESPONSE_ACCEPT), "ACCEPT");
  EXPECT_EQ(EnumName(*v1::Category_descriptor(), v1::ELDER_VISIT), "ELDER_VISIT");
}

TEST(EnumNameTest, ZeroIsEmptyAndUnknownNumbersShowThemselves) {
  EXPECT_EQ(EnumName(*v1::Urgency_descriptor(), 0), "");
  EXPECT_EQ(EnumName(*v1::Urgency_descriptor(), 42), "42");
}

TEST(EnumChoicesTest, ListsLowerCaseShortNamesWithoutZero) {
  EXPECT_EQ(EnumChoices(*v1::Urgency_descriptor()), "routine, urgent, crisis");
  EXPECT_EQ(EnumChoices(*v1::Role_descriptor()),
            "operator, intake, volunteer_app, resident_app, kiosk, admin");
  EXPECT_EQ(EnumChoices(*v1::DutyStatus_descriptor()), "off, on, busy");
  EXPECT_EQ(EnumChoices(*v1::UnitKind_descriptor()), "station, van, team");
  EXPECT_EQ(EnumChoices(*v1::Recurrence_descriptor()), "once, weekly, monthly");
}

TEST(ParseEnumTest, AcceptsAnyCaseDashesAndThePrefix) {
  EXPECT_EQ(*ParseEnum("channel", "WeChat", *v1::Channel_descriptor()), v1::WECHAT);
  EXPECT_EQ(*ParseEnum("channel", "walk-in", *v1::Channel_descriptor()), v1::WALK_IN);
  EXPECT_EQ(*ParseEnum("role", "intake", *v1::Role_descriptor()), v1::ROLE_INTAKE);
  EXPECT_EQ(*ParseEnum("role", "ROLE_ADMIN", *v1::Role_descriptor()), v1::ROLE_ADMIN);
  EXPECT_EQ(*ParseEnum("urgency", "", *v1::Urgency_descriptor()), 0);
}

TEST(ParseEnumTest, RejectsUnknownNamesAndZeroListingTheChoices) {
  absl::StatusOr<int> fax = ParseEnum("channel", "fax", *v1::Channel_descriptor());
  ASSERT_FALSE(fax.ok());
  EXPECT_EQ(fax.status().message(),
            "--channel: unknown value \"fax\"; valid: hotline, app, wechat, station, sweep, "
            "walk_in, operator");
  EXPECT_FALSE(ParseEnum("urgency", "urgency_unspecified", *v1::Urgency_descriptor()).ok());
}

TEST(ParseEnumTest, ReadsVolunteerAndUnitEnumsWithoutTheirPrefix) {
  EXPECT_EQ(*ParseEnum("duty", "on", *v1::DutyStatus_descriptor()), v1::DUTY_ON);
  EXPECT_EQ(*ParseEnum("duty", "BUSY", *v1::DutyStatus_descriptor()), v1::DUTY_BUSY);
  EXPECT_EQ(*ParseEnum("duty", "duty_off", *v1::DutyStatus_descriptor()), v1::DUTY_OFF);
  EXPECT_EQ(*ParseEnum("certificate", "licensed_social_worker", *v1::Certificate_descriptor()),
            v1::CERT_LICENSED_SOCIAL_WORKER);
  EXPECT_EQ(*ParseEnum("certificate", "First-Aid", *v1::Certificate_descriptor()),
            v1::CERT_FIRST_AID);
  EXPECT_EQ(*ParseEnum("certificate", "CERT_MEDICAL", *v1::Certificate_descriptor()),
            v1::CERT_MEDICAL);
  EXPECT_EQ(*ParseEnum("kind", "Van", *v1::UnitKind_descriptor()), v1::UNIT_VAN);
  EXPECT_EQ(*ParseEnum("recurrence", "MONTHLY", *v1::Recurrence_descriptor()), v1::MONTHLY);
}

TEST(ParseEnumTest, NamesTheFlagOrWhatWasTyped) {
  absl::StatusOr<int> doctor = ParseEnum("certificate", "doctor", *v1::Certificate_descriptor());
  ASSERT_FALSE(doctor.ok());
  EXPECT_EQ(doctor.status().message(),
            "--certificate: unknown value \"doctor\"; valid: licensed_social_worker, medical, "
            "nurse, driver, counsellor, electrician, first_aid, elder_care, legal_aid, "
            "sign_language");
  absl::StatusOr<int> status = ParseEnumValue("duty status", "away", *v1::DutyStatus_descriptor());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().message(), "duty status: unknown value \"away\"; valid: off, on, busy");
}

TEST(ParseEnumListTest, ReadsCommaListsSkippingEmptyItems) {
  EXPECT_EQ(*ParseEnumList("certificates", "medical, Driver,,", *v1::Certificate_descriptor()),
            (std::vector<int>{v1::CERT_MEDICAL, v1::CERT_DRIVER}));
  EXPECT_TRUE(ParseEnumList("unit-kinds", "", *v1::UnitKind_descriptor())->empty());
  absl::StatusOr<std::vector<int>> bad =
      ParseEnumList("unit-kinds", "van,bus", *v1::UnitKind_descriptor());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--unit-kinds: unknown value \"bus\"; valid: station, van, team");
}

// "day start-end" per slot, for compact expectations.
std::vector<std::string> SlotTexts(const std::vector<v1::AvailabilitySlot>& slots) {
  std::vector<std::string> out;
  for (const v1::AvailabilitySlot& s : slots) {
    out.push_back(absl::StrCat(s.day_of_week(), " ", s.start_minute(), "-", s.end_minute()));
  }
  return out;
}

TEST(ParseAvailabilityTest, ReadsDaysRangesAndTimes) {
  absl::StatusOr<std::vector<v1::AvailabilitySlot>> slots =
      ParseAvailability("availability", "mon 08:00-12:00,sat 09:00-17:00");
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_EQ(SlotTexts(*slots), (std::vector<std::string>{"1 480-720", "6 540-1020"}));

  slots = ParseAvailability("availability", " Tue-Thu 8:30-9:00 , Sunday 18:00-24:00 ");
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_EQ(SlotTexts(*slots),
            (std::vector<std::string>{"2 510-540", "3 510-540", "4 510-540", "7 1080-1440"}));

  slots = ParseAvailability("availability", "sat-mon 00:00-06:00");  // wraps past Sunday
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_EQ(SlotTexts(*slots), (std::vector<std::string>{"6 0-360", "7 0-360", "1 0-360"}));

  EXPECT_TRUE(ParseAvailability("availability", "")->empty());
}

TEST(ParseAvailabilityTest, NamesTheFlagAndTheBadItem) {
  auto error = [](absl::string_view text) {
    absl::StatusOr<std::vector<v1::AvailabilitySlot>> slots =
        ParseAvailability("availability", text);
    return slots.ok() ? std::string("ok") : std::string(slots.status().message());
  };
  EXPECT_EQ(error("mon 08:00-12:00,tuesday"),
            "--availability: \"tuesday\": expected DAYS HH:MM-HH:MM, e.g. \"mon 08:00-12:00\" or "
            "\"mon-fri 09:00-17:00\"");
  EXPECT_EQ(error("mo 08:00-12:00"),
            "--availability: \"mo 08:00-12:00\": unknown day \"mo\"; days are mon, tue, wed, "
            "thu, fri, sat, sun or a range such as mon-fri");
  EXPECT_EQ(error("mon-xx 08:00-12:00"),
            "--availability: \"mon-xx 08:00-12:00\": unknown day \"xx\"; days are mon, tue, "
            "wed, thu, fri, sat, sun or a range such as mon-fri");
  const std::string bad_time = "times are HH:MM-HH:MM between 00:00 and 24:00, e.g. 08:00-12:00";
  EXPECT_EQ(error("mon 8-12"), "--availability: \"mon 8-12\": " + bad_time);
  EXPECT_EQ(error("mon 08:00"), "--availability: \"mon 08:00\": " + bad_time);
  EXPECT_EQ(error("mon 08:60-09:00"), "--availability: \"mon 08:60-09:00\": " + bad_time);
  EXPECT_EQ(error("mon 24:30-24:45"), "--availability: \"mon 24:30-24:45\": " + bad_time);
  EXPECT_EQ(error("mon 08:00-123:00"), "--availability: \"mon 08:00-123:00\": " + bad_time);
  EXPECT_EQ(error("mon 09:00-09:00"),
            "--availability: \"mon 09:00-09:00\": the end must be after the start");
  EXPECT_EQ(error("fri 22:00-02:00"),
            "--availability: \"fri 22:00-02:00\": the end must be after the start; across "
            "midnight write two items: \"fri 22:00-24:00,sat 00:00-02:00\"");
  EXPECT_EQ(error("sat-sun 20:00-01:30"),
            "--availability: \"sat-sun 20:00-01:30\": the end must be after the start; across "
            "midnight write two items: \"sat-sun 20:00-24:00,sun-mon 00:00-01:30\"");
  EXPECT_EQ(error("mon 22:00-00:00"),
            "--availability: \"mon 22:00-00:00\": the end must be after the start; write "
            "midnight as 24:00");
}

TEST(FormatAvailabilityTest, ReadsBackAsTypedWithRunsOfDaysJoined) {
  absl::StatusOr<std::vector<v1::AvailabilitySlot>> slots = ParseAvailability(
      "availability", "mon-fri 08:00-12:00,sat 09:00-17:00,sun 18:00-24:00,mon 13:00-14:00");
  ASSERT_TRUE(slots.ok()) << slots.status();
  google::protobuf::RepeatedPtrField<v1::AvailabilitySlot> field(slots->begin(), slots->end());
  EXPECT_EQ(FormatAvailability(field),
            "mon-fri 08:00-12:00, sat 09:00-17:00, sun 18:00-24:00, mon 13:00-14:00");
  field.Add()->set_day_of_week(9);
  EXPECT_EQ(FormatAvailability(field),
            "mon-fri 08:00-12:00, sat 09:00-17:00, sun 18:00-24:00, mon 13:00-14:00, "
            "day 9 00:00-00:00");
}

TEST(FormatDistanceTest, MetresWithOneDecimalThenKilometres) {
  EXPECT_EQ(FormatDistance(0), "0.0 m");
  EXPECT_EQ(FormatDistance(850.34), "850.3 m");
  EXPECT_EQ(FormatDistance(999.99), "1.00 km");
  EXPECT_EQ(FormatDistance(1250), "1.25 km");
  EXPECT_EQ(FormatDistance(48000), "48.00 km");
}

TEST(RequestTableTest, ShowsResidentAsReturnedAndSkipsUnsetTimes) {
  google::protobuf::RepeatedPtrField<v1::HelpRequest> requests;
  v1::HelpRequest* r = requests.Add();
  r->set_id("wuxing-7");
  r->set_state(v1::SUBMITTED);
  r->set_urgency(v1::URGENT);
  r->set_category(v1::ELDER_VISIT);
  r->set_channel(v1::HOTLINE);
  r->mutable_resident()->set_community_id("wx-aiguo");
  r->mutable_resident()->set_name("张三");
  r->mutable_resident()->set_phone("138****5678");
  EXPECT_EQ(
      RequestTable(requests),
      "ID        STATE      URGENCY  CATEGORY     CHANNEL  COMMUNITY  RESIDENT          CREATED\n"
      "wuxing-7  SUBMITTED  URGENT   ELDER_VISIT  HOTLINE  wx-aiguo   张三 138****5678\n");
}

TEST(TokenFieldsTest, ShowsStatusAndLeavesOutEmptyScope) {
  v1::TokenInfo token;
  token.set_token_id("f8ff2d8082ef");
  token.set_role(v1::ROLE_KIOSK);
  token.set_kiosk_id("k-01");
  token.set_revoked(true);
  std::vector<Field> fields = TokenFields(token);
  EXPECT_EQ(FormatFields(fields),
            "token id: f8ff2d8082ef\n"
            "role:     KIOSK\n"
            "kiosk:    k-01\n"
            "status:   revoked\n");
}

TEST(VolunteerTableTest, ShowsPhoneAsReturnedCertificatesAsTokensAndLoad) {
  google::protobuf::RepeatedPtrField<v1::Volunteer> volunteers;
  v1::Volunteer* v = volunteers.Add();
  v->set_id("wuxing-v3");
  v->set_name("李四");
  v->set_phone("139****1111");
  v->set_home_community_id("wx-aiguo");
  v->set_duty_status(v1::DUTY_ON);
  v->add_skills("cooking");
  v->add_skills("haircut");
  v->add_certificates(v1::CERT_MEDICAL);
  v->add_certificates(v1::CERT_LICENSED_SOCIAL_WORKER);
  v->set_capacity(2);
  v->set_active_assignments(1);
  v->set_points_balance(120);
  EXPECT_EQ(VolunteerTable(volunteers),
            "ID         NAME  PHONE        COMMUNITY  DUTY  SKILLS           CERTIFICATES"
            "                    ACTIVE/CAP  POINTS\n"
            "wuxing-v3  李四  139****1111  wx-aiguo   ON    cooking,haircut  "
            "medical,licensed_social_worker  1/2         120\n");
}

TEST(VolunteerFieldsTest, LeavesOutWhatTheRoleDoesNotSee) {
  v1::Volunteer kiosk_view;
  kiosk_view.set_id("wuxing-v3");
  kiosk_view.set_name("李四");
  kiosk_view.set_phone("139****1111");
  kiosk_view.set_points_balance(120);
  EXPECT_EQ(FormatFields(VolunteerFields(kiosk_view)),
            "id:     wuxing-v3\n"
            "name:   李四\n"
            "phone:  139****1111\n"
            "points: 120\n");

  v1::Volunteer full = kiosk_view;
  full.set_duty_status(v1::DUTY_BUSY);
  full.mutable_reliability();
  full.add_availability()->set_day_of_week(6);
  full.mutable_availability(0)->set_start_minute(540);
  full.mutable_availability(0)->set_end_minute(1020);
  std::vector<Field> fields = VolunteerFields(full);
  EXPECT_EQ(FormatFields(fields),
            "id:           wuxing-v3\n"
            "name:         李四\n"
            "phone:        139****1111\n"
            "duty:         BUSY\n"
            "availability: sat 09:00-17:00\n"
            "reliability:  no history yet\n"
            "points:       120\n");
}

TEST(UnitFieldsTest, ShowsKindStatusAndMembers) {
  v1::Unit unit;
  unit.set_id("wuxing-u7");
  unit.set_kind(v1::UNIT_VAN);
  unit.set_name("Van 3");
  unit.set_community_id("wx-aiguo");
  unit.add_member_volunteer_ids("wuxing-v3");
  unit.add_member_volunteer_ids("wuxing-v4");
  unit.set_leader_volunteer_id("wuxing-v3");
  unit.set_capacity(2);
  unit.add_equipment("wheelchair");
  EXPECT_EQ(FormatFields(UnitFields(unit)),
            "id:        wuxing-u7\n"
            "kind:      VAN\n"
            "name:      Van 3\n"
            "status:    inactive\n"
            "community: wx-aiguo\n"
            "leader:    wuxing-v3\n"
            "members:   wuxing-v3, wuxing-v4\n"
            "capacity:  2\n"
            "equipment: wheelchair\n");
}

TEST(UnitTableTest, OneRowPerUnit) {
  google::protobuf::RepeatedPtrField<v1::Unit> units;
  v1::Unit* u = units.Add();
  u->set_id("station-07");
  u->set_kind(v1::UNIT_STATION);
  u->set_name("爱国社区服务站");
  u->set_community_id("wx-aiguo");
  u->set_active(true);
  u->set_capacity(3);
  u->add_skills("haircut");
  u->add_member_volunteer_ids("wuxing-v3");
  EXPECT_EQ(UnitTable(units),
            "ID          KIND     NAME            COMMUNITY  STATUS  ACTIVE/CAP  MEMBERS  SKILLS"
            "   EQUIPMENT\n"
            "station-07  STATION  爱国社区服务站  wx-aiguo   active  0/3         1        "
            "haircut\n");
}

TEST(NearbyTableTest, RanksVolunteersAndUnitsWithTheirSkillsAndDistance) {
  google::protobuf::RepeatedPtrField<v1::NearbyCandidate> candidates;
  v1::NearbyCandidate* near = candidates.Add();
  near->mutable_volunteer()->set_id("wuxing-v3");
  near->mutable_volunteer()->set_name("李四");
  near->mutable_volunteer()->add_skills("cooking");
  near->mutable_volunteer()->add_certificates(v1::CERT_MEDICAL);
  near->set_distance_m(182.46);
  near->set_capacity_left(1);
  v1::NearbyCandidate* far = candidates.Add();
  far->mutable_unit()->set_id("wuxing-u7");
  far->mutable_unit()->set_kind(v1::UNIT_VAN);
  far->mutable_unit()->set_name("Van 3");
  far->mutable_unit()->add_skills("driver");
  far->mutable_unit()->add_equipment("wheelchair");
  far->set_distance_m(2345);
  far->set_capacity_left(2);
  EXPECT_EQ(NearbyTable(candidates),
            "RANK  ID         KIND       NAME   DISTANCE  CAP_LEFT  SKILLS\n"
            "1     wuxing-v3  volunteer  李四   182.5 m   1         cooking,medical\n"
            "2     wuxing-u7  van        Van 3  2.35 km   2         driver,wheelchair\n");
}

TEST(PairingFieldsTest, ShowsResidentAsReturnedAndRecurrence) {
  v1::Pairing pairing;
  pairing.set_id("wuxing-p12");
  pairing.set_volunteer_id("wuxing-v3");
  pairing.set_active(true);
  pairing.set_recurrence(v1::MONTHLY);
  v1::Resident& resident = *pairing.mutable_resident();
  resident.set_name("王桂芬");
  resident.set_phone("138****1234");
  resident.set_community_id("wx-aiguo");
  resident.set_high_age(true);
  resident.set_lives_alone(true);
  EXPECT_EQ(FormatFields(PairingFields(pairing)),
            "id:         wuxing-p12\n"
            "status:     active\n"
            "volunteer:  wuxing-v3\n"
            "resident:   王桂芬 138****1234\n"
            "community:  wx-aiguo\n"
            "needs:      lives alone, high age (80+)\n"
            "recurrence: MONTHLY\n");
}

TEST(ParseAssigneeTest, ReadsVolunteersAndUnitsByKind) {
  absl::StatusOr<v1::Assignee> v = ParseAssignee("--from", "v:wuxing-v1");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->volunteer_id(), "wuxing-v1");
  absl::StatusOr<v1::Assignee> u = ParseAssignee("--to", "Unit:wuxing-van-3");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->unit_id(), "wuxing-van-3");
  EXPECT_EQ(ParseAssignee("--to", "volunteer: wuxing-v2")->volunteer_id(), "wuxing-v2");
  EXPECT_EQ(AssigneeText(*v), "v:wuxing-v1");
  EXPECT_EQ(AssigneeText(*u), "u:wuxing-van-3");
  EXPECT_EQ(AssigneeText(v1::Assignee()), "");
}

TEST(ParseAssigneeTest, NamesWhatWasTypedAndTheFix) {
  EXPECT_EQ(ParseAssignee("--from", "wuxing-v1").status().message(),
            "--from: \"wuxing-v1\": no kind; write v:VOLUNTEER_ID or u:UNIT_ID");
  EXPECT_EQ(ParseAssignee("--from", "v:").status().message(),
            "--from: \"v:\": no id; write v:VOLUNTEER_ID or u:UNIT_ID");
  EXPECT_EQ(ParseAssignee("--to", "x:wuxing-v1").status().message(),
            "--to: \"x:wuxing-v1\": unknown kind \"x\"; write v:VOLUNTEER_ID or u:UNIT_ID");
}

TEST(ParseEnumTest, ReadsDispatchEnumsWithoutTheirPrefix) {
  EXPECT_EQ(*ParseEnumValue("progress", "en-route", *v1::ProgressKind_descriptor()),
            v1::PROGRESS_EN_ROUTE);
  EXPECT_EQ(*ParseEnumValue("progress", "no-show", *v1::ProgressKind_descriptor()),
            v1::PROGRESS_NO_SHOW);
  EXPECT_EQ(*ParseEnumValue("answer", "Accept", *v1::OfferResponse_descriptor()),
            v1::RESPONSE_ACCEPT);
  EXPECT_EQ(*ParseEnum("reason", "busy", *v1::DeclineReason_descriptor()), v1::DECLINE_BUSY);
  absl::StatusOr<std::vector<int>> types =
      ParseEnumList("types", "offer_made,offer-accepted", *v1::EventType_descriptor());
  ASSERT_TRUE(types.ok()) << types.status();
  EXPECT_EQ(*types, (std::vector<int>{v1::EVENT_OFFER_MADE, v1::EVENT_OFFER_ACCEPTED}));
  EXPECT_EQ(ParseEnumValue("progress", "done", *v1::ProgressKind_descriptor()).status().message(),
            "progress: unknown value \"done\"; valid: en_route, arrived, completed, rated, "
            "no_show");
}

TEST(FormatAgeTest, RoundsDownToTheLargestUsefulUnit) {
  EXPECT_EQ(FormatAge(-5000), "0 s");
  EXPECT_EQ(FormatAge(45999), "45 s");
  EXPECT_EQ(FormatAge(12 * 60000 + 59000), "12 min");
  EXPECT_EQ(FormatAge(3 * 3600000 + 5 * 60000), "3 h 05 min");
  EXPECT_EQ(FormatAge(2 * 86400000LL + 4 * 3600000 + 59 * 60000), "2 d 4 h");
}

v1::CostComponent* AddComponent(v1::RankedCandidate* c, const std::string& name, double weighted,
                                const std::string& detail = "") {
  v1::CostComponent* part = c->add_components();
  part->set_name(name);
  part->set_weighted(weighted);
  part->set_detail(detail);
  return part;
}

TEST(ExplainTextTest, RanksWithEveryComponentThenWhyThenExcluded) {
  v1::ExplainMatchResponse e;
  e.set_request_id("wuxing-12");
  e.set_urgency(v1::CRISIS);
  e.set_state(v1::OFFERED);
  e.set_searched_radius_m(2000);
  v1::RankedCandidate* c = e.add_candidates();
  c->set_rank(1);
  c->mutable_assignee()->set_volunteer_id("wuxing-v1");
  c->set_name("沈爱英");
  c->set_distance_m(220);
  c->set_travel_time_s(204);
  c->set_total_cost(10.2);
  c->set_offer_state(v1::OFFER_PENDING);
  AddComponent(c, "travel_time", 3.4, "220 m, about 3 min");
  AddComponent(c, "preferred_skill_fit", 0);
  AddComponent(c, "continuity", 0, "paired volunteer");
  AddComponent(c, "fairness", 1.5);
  AddComponent(c, "reliability", 2.5);
  AddComponent(c, "urgency", 2.8);
  v1::ExcludedCandidate* x = e.add_excluded();
  x->mutable_assignee()->set_unit_id("wuxing-van-1");
  x->set_name("Van 1");
  x->set_distance_m(450);
  x->set_reason(v1::EXCLUDED_MISSING_SKILL);
  x->set_detail("missing skill: driver");
  EXPECT_EQ(ExplainText(e),
            "request:         wuxing-12\n"
            "urgency:         CRISIS\n"
            "state:           OFFERED\n"
            "searched radius: 2.00 km\n"
            "\n"
            "Ranked (lower cost is better; travel in minutes):\n"
            "RANK  ID           NAME    DISTANCE  TRAVEL  COST   TRAVEL_TIME  SKILL_FIT  "
            "CONTINUITY  FAIRNESS  RELIABILITY  URGENCY  OFFER\n"
            "1     v:wuxing-v1  沈爱英  220.0 m   3.4     10.20  3.40         0.00       "
            "0.00        1.50      2.50         2.80     PENDING\n"
            "\n"
            "Why:\n"
            "  1 v:wuxing-v1: travel_time 220 m, about 3 min; continuity paired volunteer\n"
            "\n"
            "Excluded (nearest first):\n"
            "ID              NAME   DISTANCE  REASON         DETAIL\n"
            "u:wuxing-van-1  Van 1  450.0 m   MISSING_SKILL  missing skill: driver\n");
}

TEST(ExplainTextTest, SaysSoWhenNobodyIsEligible) {
  v1::ExplainMatchResponse e;
  e.set_request_id("wuxing-13");
  e.set_urgency(v1::URGENT);
  e.set_state(v1::ESCALATED);
  EXPECT_EQ(ExplainText(e),
            "request: wuxing-13\n"
            "urgency: URGENT\n"
            "state:   ESCALATED\n"
            "\n"
            "No eligible candidates.\n");
}

TEST(EscalationTableTest, ShowsReasonCountsAndHowLongItWaited) {
  google::protobuf::RepeatedPtrField<v1::Escalation> escalations;
  v1::Escalation* e = escalations.Add();
  e->mutable_request()->set_id("wuxing-12");
  e->mutable_request()->set_urgency(v1::CRISIS);
  e->mutable_request()->set_category(v1::ESCORT);
  e->mutable_request()->mutable_resident()->set_community_id("wx-aiguo");
  e->mutable_request()->mutable_resident()->set_name("李梅");
  e->set_reason(v1::ESCALATION_ROUNDS_EXHAUSTED);
  e->set_rounds(4);
  e->set_declined(2);
  e->set_expired(10);
  e->set_escalate_time_ms(1000000);
  e->set_detail("4 rounds without an acceptance");
  EXPECT_EQ(EscalationTable(escalations, 1000000 + 7 * 60000),
            "REQUEST    URGENCY  CATEGORY  COMMUNITY  RESIDENT  REASON            ROUNDS  "
            "DECLINED  EXPIRED  WAITING  DETAIL\n"
            "wuxing-12  CRISIS   ESCORT    wx-aiguo   李梅      ROUNDS_EXHAUSTED  4       "
            "2         10       7 min    4 rounds without an acceptance\n");
}

TEST(AssignmentFieldsTest, ShowsWhoHowAndProgress) {
  v1::Assignment a;
  a.set_request_id("wuxing-12");
  a.mutable_assignee()->set_volunteer_id("wuxing-v1");
  a.set_category(v1::ESCORT);
  a.set_assigned_by("f8ff2d8082ef");
  a.set_assign_reason("called her directly");
  a.set_progress(v1::PROGRESS_COMPLETED);
  a.set_minutes_served(45);
  a.set_rating(5);
  a.mutable_resident()->set_name("李梅");
  a.mutable_resident()->set_phone("13905721111");
  EXPECT_EQ(FormatFields(AssignmentFields(a)),
            "request:        wuxing-12\n"
            "assignee:       v:wuxing-v1\n"
            "category:       ESCORT\n"
            "assigned by:    f8ff2d8082ef\n"
            "reason:         called her directly\n"
            "progress:       COMPLETED\n"
            "minutes served: 45\n"
            "rating:         5\n"
            "resident:       李梅 13905721111\n");
}

TEST(OfferTableTest, ShowsTimeLeftAndExpired) {
  std::vector<v1::Offer> offers(2);
  offers[0].set_offer_id("wuxing-12-o1");
  offers[0].set_request_id("wuxing-12");
  offers[0].set_urgency(v1::CRISIS);
  offers[0].set_category(v1::ESCORT);
  offers[0].set_community_id("wx-aiguo");
  offers[0].set_distance_m(220);
  offers[0].set_travel_time_s(204);
  offers[0].set_round(1);
  offers[0].set_expire_time_ms(100000);
  offers[0].set_summary("Needs escort to hospital now");
  offers[1] = offers[0];
  offers[1].set_offer_id("wuxing-12-o2");
  offers[1].set_expire_time_ms(50000);
  EXPECT_EQ(OfferTable(offers, 55000),
            "OFFER         REQUEST    URGENCY  CATEGORY  COMMUNITY  DISTANCE  TRAVEL  ROUND  "
            "EXPIRES_IN  SUMMARY\n"
            "wuxing-12-o1  wuxing-12  CRISIS   ESCORT    wx-aiguo   220.0 m   3.4     1      "
            "45 s        Needs escort to hospital now\n"
            "wuxing-12-o2  wuxing-12  CRISIS   ESCORT    wx-aiguo   220.0 m   3.4     1      "
            "expired     Needs escort to hospital now\n");
}

TEST(OfferLineTest, OneLinePerChangeWithTheDeclineReason) {
  v1::Offer o;
  o.set_offer_id("wuxing-12-o1");
  o.set_request_id("wuxing-12");
  o.set_urgency(v1::URGENT);
  o.set_category(v1::REPAIR);
  o.set_distance_m(1250);
  o.set_state(v1::OFFER_DECLINED);
  o.set_decline_reason(v1::DECLINE_BUSY);
  o.set_state_time_ms(1718000592000);
  EXPECT_EQ(OfferLine(o), absl::StrCat(LocalTime(1718000592000, true),
                                       "  DECLINED   wuxing-12-o1  wuxing-12  URGENT  REPAIR  "
                                       "1.25 km  BUSY"));
}

TEST(EventLineTest, SortsAttributesQuotesSpacesAndEndsWithTheId) {
  v1::Event e;
  e.set_event_id("1718000592000-0");
  e.set_type(v1::EVENT_OFFER_DECLINED);
  e.set_request_id("wuxing-12");
  e.set_volunteer_id("wuxing-v1");
  e.set_offer_id("wuxing-12-o1");
  e.set_time_ms(1718000592000);
  (*e.mutable_attributes())["reason"] = "DECLINE_BUSY";
  (*e.mutable_attributes())["note"] = "at work until 6";
  (*e.mutable_attributes())["type"] = "offer.declined";
  EXPECT_EQ(EventLine(e), absl::StrCat(LocalTime(1718000592000, true),
                                       "  OFFER_DECLINED        wuxing-12     v:wuxing-v1     "
                                       "offer=wuxing-12-o1 note=\"at work until 6\" "
                                       "reason=DECLINE_BUSY  [1718000592000-0]"));
  v1::Event bare;
  bare.set_event_id("1718000592001-0");
  bare.set_type(v1::EVENT_DUTY_CHANGED);
  bare.set_time_ms(1718000592001);
  EXPECT_EQ(EventLine(bare),
            absl::StrCat(LocalTime(1718000592001, true), "  DUTY_CHANGED  [1718000592001-0]"));
  v1::Event unknown = bare;
  unknown.set_type(v1::EVENT_TYPE_UNSPECIFIED);
  (*unknown.mutable_attributes())["type"] = "shift.swapped";
  EXPECT_EQ(EventLine(unknown),
            absl::StrCat(LocalTime(1718000592001, true), "  shift.swapped  [1718000592001-0]"));
}

}  // namespace
}  // namespace yiyuan
