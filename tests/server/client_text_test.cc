// Client-supplied text is echoed bounded and printable, through ClientText,
// at every place a message quotes it (model names, version labels).
#include "server/serving/client_text.h"

#include <string>

#include "gtest/gtest.h"
#include "server/serving/registry_snapshot.h"

namespace attnserve::server {
namespace {

TEST(ClientTextTest, ShortPrintableTextIsUnchanged) {
  EXPECT_EQ(ClientText("demo"), "demo");
  EXPECT_EQ(ClientText(""), "");
  EXPECT_EQ(ClientText("modèle-ü"), "modèle-ü");
  EXPECT_EQ(ClientText(std::string(128, 'a')), std::string(128, 'a'));
}

TEST(ClientTextTest, LongTextIsCutTo128BytesWithAnEllipsis) {
  EXPECT_EQ(ClientText(std::string(129, 'a')), std::string(128, 'a') + "...");
  EXPECT_EQ(ClientText(std::string(1 << 20, 'b')), std::string(128, 'b') + "...");
  EXPECT_EQ(ClientText("abcdef", 3), "abc...");
}

TEST(ClientTextTest, CutsNeverSplitAUtf8Character) {
  // 127 ASCII bytes, then a 2-byte 'é' that would straddle byte 128.
  const std::string text = std::string(127, 'a') + "\xC3\xA9" + "zz";
  EXPECT_EQ(ClientText(text), std::string(127, 'a') + "...");
  // A 4-byte character cut after its first byte.
  EXPECT_EQ(ClientText("ab\xF0\x9F\x98\x80", 3), "ab...");
}

TEST(ClientTextTest, ControlCharactersBecomeQuestionMarks) {
  EXPECT_EQ(ClientText("a\nb\rc\td\x1b[31m\x7f"), "a?b?c?d?[31m?");
  EXPECT_EQ(ClientText(std::string("a\0b", 3)), "a?b");
}

TEST(ClientTextTest, ModelLookupsQuoteTheNameAndLabelBounded) {
  const RegistrySnapshot empty;
  const std::string name(5000, 'n');
  const absl::Status unknown = empty.Resolve({name, 0, ""}).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(),
            "model '" + std::string(128, 'n') + "...' not found; known models: none");
  const absl::Status both = empty.Resolve({"m", 3, std::string(300, 'l') + "\n"}).status();
  EXPECT_EQ(both.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(both.message(), "the request names both version 3 and version label '" +
                                std::string(128, 'l') + "...'; name one");
}

}  // namespace
}  // namespace attnserve::server
