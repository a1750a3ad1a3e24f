#include "base/units.h"

#include <gtest/gtest.h>

namespace zsend {
namespace {

TEST(ParseSize, AcceptsSuffixesCaseInsensitively) {
  EXPECT_EQ(*ParseSize("4096", "-m"), 4096u);
  EXPECT_EQ(*ParseSize("64k", "-m"), 64u << 10);
  EXPECT_EQ(*ParseSize("64K", "-m"), 64u << 10);
  EXPECT_EQ(*ParseSize("256M", "-m"), 256u << 20);
  EXPECT_EQ(*ParseSize("2G", "-m"), 2ull << 30);
  EXPECT_EQ(*ParseSize("1.5G", "-m"), 3ull << 29);
  EXPECT_EQ(*ParseSize("1MiB", "-m"), 1u << 20);
  EXPECT_EQ(*ParseSize("10b", "-m"), 10u);
}

TEST(ParseSize, PercentOfRamOnlyWhenAllowed) {
  EXPECT_FALSE(ParseSize("10%", "-s").ok());
  Result<uint64_t> r = ParseSize("10%", "-m", {.allow_percent_of_ram = true});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(static_cast<double>(*r), PhysicalMemoryBytes() / 10.0, 4096.0);
}

TEST(ParseSize, RejectsGarbageWithTheOptionNameAndAHint) {
  Result<uint64_t> r = ParseSize("12x", "--memory");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--memory"), std::string::npos);
  EXPECT_NE(r.status().message().find("256M"), std::string::npos);
  EXPECT_FALSE(ParseSize("", "-m").ok());
  EXPECT_FALSE(ParseSize("-5", "-m").ok());
  EXPECT_FALSE(ParseSize("M", "-m").ok());
}

TEST(ParseSize, EnforcesBounds) {
  EXPECT_FALSE(ParseSize("100", "-s", {.min = 512}).ok());
  EXPECT_FALSE(ParseSize("2G", "-s", {.max = 1u << 30}).ok());
}

TEST(ParsePercentAndSeconds, Basics) {
  EXPECT_EQ(*ParsePercent("80", "-P"), 80.0);
  EXPECT_EQ(*ParsePercent("80%", "-P"), 80.0);
  EXPECT_FALSE(ParsePercent("101", "-P").ok());
  EXPECT_EQ(*ParseSeconds("1.5", "-W"), 1.5);
  EXPECT_EQ(*ParseSeconds("2m", "-W"), 120.0);
  EXPECT_FALSE(ParseSeconds("soon", "-W").ok());
}

TEST(Format, BytesRatesDurations) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.50 KiB");
  EXPECT_EQ(FormatBytes(300.0 * (1 << 20)), "300 MiB");
  EXPECT_EQ(FormatRate(2.0 * (1 << 30)), "2.00 GiB/s");
  EXPECT_EQ(FormatDuration(65), "1:05");
  EXPECT_EQ(FormatDuration(3725), "1:02:05");
}

}  // namespace
}  // namespace zsend
