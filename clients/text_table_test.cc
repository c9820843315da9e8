#include "clients/text_table.h"

#include "gtest/gtest.h"

namespace yiyuan {
namespace {

TEST(DisplayWidthTest, CountsTerminalColumns) {
  EXPECT_EQ(DisplayWidth(""), 0);
  EXPECT_EQ(DisplayWidth("wuxing-3"), 8);
  EXPECT_EQ(DisplayWidth("张三"), 4);
  EXPECT_EQ(DisplayWidth("张三 138****5678"), 16);
  EXPECT_EQ(DisplayWidth("ＡＢ"), 4);       // fullwidth Latin
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1);  // e + combining acute
  EXPECT_EQ(DisplayWidth("\xFF\xFE"), 2);   // not UTF-8: one column per byte
}

TEST(FormatTableTest, AlignsColumnsByDisplayWidth) {
  std::string table =
      FormatTable({"ID", "RESIDENT", "STATE"},
                  {{"wuxing-10", "张三", "SUBMITTED"}, {"wuxing-9", "Li Si", "CANCELLED"}});
  EXPECT_EQ(table,
            "ID         RESIDENT  STATE\n"
            "wuxing-10  张三      SUBMITTED\n"
            "wuxing-9   Li Si     CANCELLED\n");
}

TEST(FormatTableTest, FillsShortRowsAndFlattensLineBreaks) {
  EXPECT_EQ(FormatTable({"A", "B"}, {{"x"}, {"two\nlines", "y"}}),
            "A          B\n"
            "x\n"
            "two lines  y\n");
}

TEST(FormatTableTest, HeaderOnlyWhenNoRows) {
  EXPECT_EQ(FormatTable({"ID", "STATE"}, {}), "ID  STATE\n");
}

TEST(FormatFieldsTest, AlignsValuesAndSkipsEmptyOnes) {
  EXPECT_EQ(FormatFields({{"id", "wuxing-3"}, {"cancel reason", ""}, {"description", "a\nb"}}),
            "id:          wuxing-3\n"
            "description: a\n"
            "             b\n");
}

}  // namespace
}  // namespace yiyuan
