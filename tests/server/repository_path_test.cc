// Messages clients see name model files relative to the repository.
#include "server/lifecycle/repository_path.h"

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace attnserve::server {
namespace {

TEST(RepositoryPathTest, AbsolutePathsBecomeRepositoryRelative) {
  EXPECT_EQ(WithoutRepositoryPath("/srv/models/demo/3/model.json: not valid JSON", "/srv/models"),
            "demo/3/model.json: not valid JSON");
  EXPECT_EQ(WithoutRepositoryPath("/srv/models/demo/3/model.json: x", "/srv/models/"),
            "demo/3/model.json: x");
  EXPECT_EQ(WithoutRepositoryPath("no version directories (positive integers) under /srv/m/demo",
                                  "/srv/m"),
            "no version directories (positive integers) under demo");
  EXPECT_EQ(WithoutRepositoryPath("cannot list model repository '/srv/m': Permission denied",
                                  "/srv/m"),
            "cannot list model repository '<repository>': Permission denied");
  EXPECT_EQ(WithoutRepositoryPath("a: /srv/m/x/1/a; b: /srv/m/y/2/b", "/srv/m"), "a: x/1/a; b: y/2/b");
}

TEST(RepositoryPathTest, OtherPathsAndWordsAreLeftAlone) {
  // A sibling directory sharing the prefix is not the repository.
  EXPECT_EQ(WithoutRepositoryPath("/srv/models2/a", "/srv/models"), "/srv/models2/a");
  EXPECT_EQ(WithoutRepositoryPath("/x/srv/models/a", "/srv/models"), "/x/srv/models/a");
  // A relative repository is removed only as a path prefix.
  EXPECT_EQ(WithoutRepositoryPath("models/demo/1/model.json: bad; known models: demo", "models"),
            "demo/1/model.json: bad; known models: demo");
  EXPECT_EQ(WithoutRepositoryPath("anything", ""), "anything");
  EXPECT_EQ(WithoutRepositoryPath("/a/b", "/"), "/a/b");
}

TEST(RepositoryPathTest, ARelativeRepositoryIsAlsoRecognisedByItsAbsolutePath) {
  const std::string absolute = (std::filesystem::current_path() / "models").string();
  EXPECT_EQ(WithoutRepositoryPath(absolute + "/demo/1/model.json: bad", "models"),
            "demo/1/model.json: bad");
}

TEST(RepositoryPathTest, StatusesKeepTheirCode) {
  const absl::Status status = WithoutRepositoryPath(
      absl::NotFoundError("/srv/m/demo/1/weights.safetensors: no such file"), "/srv/m");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "demo/1/weights.safetensors: no such file");
  EXPECT_TRUE(WithoutRepositoryPath(absl::OkStatus(), "/srv/m").ok());
}

}  // namespace
}  // namespace attnserve::server
