// Tests of `attnctl classify --plot`'s plumbing (client/attention_plot.h):
// the JSON document handed to attnserve.plot, and running the interpreter
// with it. A shell script stands in for Python and records its arguments,
// standard input and environment, so these need no Python at all (the real
// drawing is tested in tests/python/attnctl_plot_test.py).
#include "client/attention_plot.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace attnserve::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PlotDocument, CarriesTheResponseAndTheInputs) {
  InputSequence a{{1, 2, 3, 4, 5, 6}, 3, 2, "up", {}};
  InputSequence b{{0.5f}, 1, 1, "", {}};
  const std::vector<InputSequence> inputs = {a, b};
  auto doc = PlotDocument(R"({"model": "demo", "results": [{"label": "up"}]})", inputs);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const auto json = nlohmann::json::parse(*doc);
  EXPECT_EQ(json["response"]["model"], "demo");
  EXPECT_EQ(json["response"]["results"][0]["label"], "up");
  ASSERT_EQ(json["sequences"].size(), 2u);
  EXPECT_EQ(json["sequences"][0]["values"],
            nlohmann::json::parse("[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]"));
  EXPECT_EQ(json["sequences"][0]["label"], "up");
  EXPECT_EQ(json["sequences"][1]["values"], nlohmann::json::parse("[[0.5]]"));
  EXPECT_FALSE(json["sequences"][1].contains("label"));

  EXPECT_EQ(PlotDocument("[1, 2]", inputs).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlotDocument("{nope", inputs).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlotDocument, TokenIdsTravelAsIds) {
  InputSequence tokens;
  tokens.ids = {3, 1, 4};
  tokens.steps = 3;
  tokens.expected = "class_1";
  auto doc = PlotDocument(R"({"model": "tokens", "results": [{}]})", {tokens});
  ASSERT_TRUE(doc.ok()) << doc.status();
  const auto json = nlohmann::json::parse(*doc);
  ASSERT_EQ(json["sequences"].size(), 1u);
  EXPECT_EQ(json["sequences"][0]["ids"], nlohmann::json::parse("[3, 1, 4]"));
  EXPECT_FALSE(json["sequences"][0].contains("values"));
  EXPECT_EQ(json["sequences"][0]["label"], "class_1");
}

// A stand-in interpreter in a fresh directory: records "$@", its standard
// input, PYTHONPATH and PYTHONDONTWRITEBYTECODE, then exits with
// $STANDIN_EXIT (reading no input when $STANDIN_SKIP_INPUT is set).
class DrawAttentionPlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("attnserve-plot-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    python_ = (dir_ / "python").string();
    std::ofstream(python_) << "#!/bin/sh\n"
                           << "printf '%s\\n' \"$@\" > '" << (dir_ / "args").string() << "'\n"
                           << "[ -n \"$STANDIN_SKIP_INPUT\" ] || cat > '"
                           << (dir_ / "stdin").string() << "'\n"
                           << "printf '%s|%s' \"$PYTHONPATH\" \"$PYTHONDONTWRITEBYTECODE\" > '"
                           << (dir_ / "env").string() << "'\n"
                           << "exit ${STANDIN_EXIT:-0}\n";
    ::chmod(python_.c_str(), 0755);
    ::unsetenv("STANDIN_EXIT");
    ::unsetenv("STANDIN_SKIP_INPUT");
    ::unsetenv("PYTHONDONTWRITEBYTECODE");
    ::setenv("PYTHONPATH", "/elsewhere", 1);
  }
  void TearDown() override {
    ::unsetenv("STANDIN_EXIT");
    ::unsetenv("STANDIN_SKIP_INPUT");
    ::unsetenv("PYTHONPATH");
    fs::remove_all(dir_);
  }

  PlotOptions Options() const {
    PlotOptions options;
    options.python = python_;
    options.output = (dir_ / "out.png").string();
    return options;
  }

  fs::path dir_;
  std::string python_;
};

TEST_F(DrawAttentionPlotTest, RunsThePlotModuleWithTheDocumentOnStdin) {
  const std::string document = R"({"response": {"results": []}, "sequences": []})";
  ASSERT_TRUE(DrawAttentionPlot(Options(), document).ok());
  EXPECT_EQ(ReadAll(dir_ / "args"),
            "-m\nattnserve.plot\n-\n-o\n" + (dir_ / "out.png").string() + "\n");
  EXPECT_EQ(ReadAll(dir_ / "stdin"), document);
  // No package source given: PYTHONPATH is left as it was.
  EXPECT_EQ(ReadAll(dir_ / "env"), "/elsewhere|");
}

TEST_F(DrawAttentionPlotTest, PackageSourceGoesFirstOnPythonPath) {
  PlotOptions options = Options();
  options.package_dir = (dir_ / "pkg").string();
  ASSERT_TRUE(DrawAttentionPlot(options, "{}").ok());
  EXPECT_EQ(ReadAll(dir_ / "env"), "/elsewhere|") << "a directory without the package is skipped";

  fs::create_directories(dir_ / "pkg" / "attnserve");
  std::ofstream(dir_ / "pkg" / "attnserve" / "plot.py") << "\n";
  ASSERT_TRUE(DrawAttentionPlot(options, "{}").ok());
  EXPECT_EQ(ReadAll(dir_ / "env"), (dir_ / "pkg").string() + ":/elsewhere|1");
}

TEST_F(DrawAttentionPlotTest, LargeDocumentsArriveWhole) {
  const std::string document(1 << 20, 'x');  // more than a pipe buffer
  ASSERT_TRUE(DrawAttentionPlot(Options(), document).ok());
  EXPECT_EQ(ReadAll(dir_ / "stdin").size(), document.size());
}

TEST_F(DrawAttentionPlotTest, MissingLibrariesAreNamed) {
  ::setenv("STANDIN_EXIT", "3", 1);
  const absl::Status status = DrawAttentionPlot(Options(), "{}");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot import matplotlib or numpy"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("python3-matplotlib"));
}

TEST_F(DrawAttentionPlotTest, OtherFailuresSayWhatIsNeeded) {
  ::setenv("STANDIN_EXIT", "1", 1);
  const absl::Status status = DrawAttentionPlot(Options(), "{}");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()),
              StartsWith(python_ + " -m attnserve.plot failed (exit status 1)"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("pip install ./client/python"));
}

TEST_F(DrawAttentionPlotTest, MissingInterpreterIsNamed) {
  PlotOptions options = Options();
  options.python = (dir_ / "no-such-python").string();
  const absl::Status status = DrawAttentionPlot(options, "{}");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("cannot run " + options.python + ": No such file"));
}

TEST_F(DrawAttentionPlotTest, ChildThatStopsReadingIsReportedNotFatal) {
  ::setenv("STANDIN_SKIP_INPUT", "1", 1);
  const absl::Status status = DrawAttentionPlot(Options(), std::string(1 << 20, 'x'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(status.message()), HasSubstr("did not read the whole response"));
}

TEST_F(DrawAttentionPlotTest, NeedsAnOutput) {
  PlotOptions options = Options();
  options.output.clear();
  EXPECT_EQ(DrawAttentionPlot(options, "{}").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace attnserve::client
