#include "engine/phone.h"

#include "gtest/gtest.h"

namespace yiyuan {
namespace {

TEST(NormalizePhone, AcceptsMobileAndLandlineForms) {
  EXPECT_EQ(NormalizePhone("13812341234"), "13812341234");
  EXPECT_EQ(NormalizePhone("138 1234 1234"), "13812341234");
  EXPECT_EQ(NormalizePhone("+86 138-1234-1234"), "13812341234");
  EXPECT_EQ(NormalizePhone("008613812341234"), "13812341234");
  EXPECT_EQ(NormalizePhone("8613812341234"), "13812341234");
  EXPECT_EQ(NormalizePhone("0572-2345678"), "05722345678");
  EXPECT_EQ(NormalizePhone("(0572) 23456789"), "057223456789");
  EXPECT_EQ(NormalizePhone("+86 572 2345678"), "05722345678");
}

TEST(NormalizePhone, RejectsWhatIsNotAPhoneNumber) {
  for (const char* bad : {"", "1381234123", "138123412345", "12812341234", "abc",
                          "1381234123x", "+1 650 555 0100", "0012345678", "00000000000",
                          "++8613812341234", "138.1234.1234"}) {
    EXPECT_EQ(NormalizePhone(bad), std::nullopt) << bad;
  }
}

TEST(MaskPhone, HidesTheMiddle) {
  EXPECT_EQ(MaskPhone("13812341234"), "138****1234");
  EXPECT_EQ(MaskPhone("057223456789"), "0572****6789");
  EXPECT_EQ(MaskPhone("05722345678"), "057****5678");
  EXPECT_EQ(MaskPhone("123"), "****");
}

}  // namespace
}  // namespace yiyuan
