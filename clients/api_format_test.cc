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

}  // namespace
}  // namespace yiyuan
