// server/http/static_files: the attention explorer's files served from a fixed
// set, never from disk. Content types by extension, ETag and 304, the caching
// and security headers, 404 for every name outside the set; then over a real
// HttpServer on loopback: the redirect of /ui, index.html at /ui/, every path
// that tries to leave the set (.., percent-encoded dots and slashes, NUL,
// backslashes, doubled slashes) answered 404 or 400 and never with a file,
// and the server's gate applied to the page like to any route.
#include "server/http/static_files.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/http/http_server.h"
#include "tests/integration/http_get.h"

namespace attnserve::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIndex[] = "<!doctype html><title>explorer</title>";
constexpr char kScript[] = "export const answer = 42;\n";
constexpr char kSample[] = "{\"sequences\": [[[1, 2]]]}\n";

const std::vector<StaticFile>& Files() {
  static const std::vector<StaticFile> files = {
      {"index.html", kIndex},
      {"app.js", kScript},
      {"style.css", "body { color: black; }"},
      {"samples/demo.json", kSample},
      {"samples/steps.csv", "1,2\n3,4\n"},
      {"icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"},
  };
  return files;
}

std::string HeaderOf(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

TEST(StaticFilesTest, ContentTypesByExtension) {
  EXPECT_EQ(StaticFiles::ContentTypeOf("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeOf("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeOf("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeOf("samples/demo.json"), "application/json");
  EXPECT_EQ(StaticFiles::ContentTypeOf("samples/x.csv"), "text/csv; charset=utf-8");
  EXPECT_EQ(StaticFiles::ContentTypeOf("icon.svg"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::ContentTypeOf("shot.PNG"), "image/png");
  EXPECT_EQ(StaticFiles::ContentTypeOf("blob.bin"), "application/octet-stream");
  EXPECT_EQ(StaticFiles::ContentTypeOf("html"), "application/octet-stream");
}

TEST(StaticFilesTest, ServesEachFileWithItsTypeAndHeaders) {
  const StaticFiles files(Files());
  EXPECT_EQ(files.size(), Files().size());
  const HttpResponse index = files.Serve("", "");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, kIndex);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(files.Serve("index.html", "").body, kIndex);
  const HttpResponse script = files.Serve("app.js", "");
  EXPECT_EQ(script.body, kScript);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(files.Serve("samples/demo.json", "").body, kSample);
  EXPECT_EQ(files.Serve("samples/demo.json", "").content_type, "application/json");

  EXPECT_EQ(HeaderOf(index, "Cache-Control"), "no-cache");
  EXPECT_EQ(HeaderOf(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(index, "X-Frame-Options"), "DENY");
  EXPECT_THAT(HeaderOf(index, "Content-Security-Policy"), HasSubstr("script-src 'self'"));
  EXPECT_THAT(HeaderOf(index, "Content-Security-Policy"), HasSubstr("frame-ancestors 'none'"));
  // A strong tag of the content: quoted, differs between files, stable.
  const std::string etag = HeaderOf(index, "ETag");
  EXPECT_TRUE(absl::StartsWith(etag, "\"") && absl::EndsWith(etag, "\"")) << etag;
  EXPECT_NE(etag, HeaderOf(script, "ETag"));
  EXPECT_EQ(etag, HeaderOf(StaticFiles(Files()).Serve("index.html", ""), "ETag"));
}

TEST(StaticFilesTest, RevalidationAnswers304WhileTheFileIsUnchanged) {
  const StaticFiles files(Files());
  const std::string etag = HeaderOf(files.Serve("app.js", ""), "ETag");
  for (const std::string& if_none_match :
       std::vector<std::string>{etag, "W/" + etag, "\"other\", " + etag, "*"}) {
    const HttpResponse cached = files.Serve("app.js", if_none_match);
    EXPECT_EQ(cached.status, 304) << if_none_match;
    EXPECT_EQ(cached.body, "") << if_none_match;
    EXPECT_EQ(HeaderOf(cached, "ETag"), etag);
  }
  const HttpResponse changed = files.Serve("app.js", "\"0000000000000000-1\"");
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, kScript);
  // The tag of another file does not match this one.
  EXPECT_EQ(files.Serve("app.js", HeaderOf(files.Serve("index.html", ""), "ETag")).status, 200);
}

TEST(StaticFilesTest, NamesOutsideTheSetAre404) {
  const StaticFiles files(Files());
  for (const std::string& name : std::vector<std::string>{
           "missing.html", "../index.html", "./index.html", "/index.html", "samples/../index.html",
        "samples", "samples/", "../../etc/passwd", "/etc/passwd", "index.html/",
        std::string("index.html\0.js", 14), "INDEX.HTML", "app.js.map", "samples\\demo.json"}) {
    const HttpResponse response = files.Serve(name, "");
    EXPECT_EQ(response.status, 404) << name;
    EXPECT_EQ(response.content_type, "application/json") << name;
    EXPECT_THAT(response.body, HasSubstr("no such file")) << name;
    EXPECT_THAT(response.body, Not(HasSubstr("doctype"))) << name;
  }
}

// A raw HTTP/1.1 exchange with the server, so that paths reach it exactly as
// written (no client-side normalisation).
struct RawAnswer {
  int status = 0;
  std::string headers;  // lower-cased
  std::string body;
};

RawAnswer Exchange(int port, const std::string& target, const std::string& extra_headers = "") {
  RawAnswer answer;
  const int fd = testing::ConnectTcp("127.0.0.1", port);
  if (fd < 0) return answer;
  const std::string request = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                           extra_headers, "Connection: close\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return answer;
  }
  std::string raw;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) raw.append(buffer, static_cast<size_t>(n));
  close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.size() < 12) return answer;
  absl::SimpleAtoi(raw.substr(9, 3), &answer.status);
  answer.headers = absl::AsciiStrToLower(raw.substr(0, end));
  answer.body = raw.substr(end + 4);
  return answer;
}

class StaticFilesServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    server_ = std::make_unique<HttpServer>(options);
    files_.Register(server_.get(), "/ui");
    // Stands for the access policy: a request carrying "X-Refuse" is refused.
    server_->SetGate([](const HttpRequest& request) {
      return request.Header("X-Refuse").empty()
                 ? absl::OkStatus()
                 : absl::UnauthenticatedError("refused by the gate");
    });
    absl::StatusOr<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  const StaticFiles files_{Files()};
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(StaticFilesServerTest, RedirectsThePrefixAndServesIndexAndFiles) {
  const RawAnswer redirect = Exchange(port_, "/ui");
  EXPECT_EQ(redirect.status, 302);
  EXPECT_THAT(redirect.headers, HasSubstr("\r\nlocation: ui/"));
  const RawAnswer index = Exchange(port_, "/ui/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, kIndex);
  EXPECT_THAT(index.headers, HasSubstr("content-type: text/html; charset=utf-8"));
  EXPECT_THAT(index.headers, HasSubstr("cache-control: no-cache"));
  const RawAnswer script = Exchange(port_, "/ui/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.body, kScript);
  EXPECT_THAT(script.headers, HasSubstr("content-type: text/javascript; charset=utf-8"));
  const RawAnswer sample = Exchange(port_, "/ui/samples/demo.json");
  EXPECT_EQ(sample.status, 200);
  EXPECT_THAT(sample.headers, HasSubstr("content-type: application/json"));
  // Percent-encoding of an ordinary name still finds it.
  EXPECT_EQ(Exchange(port_, "/ui/samples%2Fdemo.json").body, kSample);

  const size_t at = script.headers.find("etag: ");
  ASSERT_NE(at, std::string::npos);
  const std::string etag = script.headers.substr(at + 6, script.headers.find("\r\n", at) - at - 6);
  const RawAnswer cached = Exchange(port_, "/ui/app.js", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(cached.status, 304);
  EXPECT_EQ(cached.body, "");

  const RawAnswer missing = Exchange(port_, "/ui/nope.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("no such file: 'nope.js'"));
  EXPECT_THAT(missing.headers, HasSubstr("content-type: application/json"));
  EXPECT_EQ(Exchange(port_, "/uix").status, 404);
}

TEST_F(StaticFilesServerTest, PathsThatTryToLeaveTheSetNeverAnswerAFile) {
  for (const std::string& target : std::vector<std::string>{
           "/ui/../", "/ui/..", "/ui/../etc/passwd", "/ui/../../../../etc/passwd",
        "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/ui/..%2f..%2fetc%2fpasswd",
        "/ui/samples/../index.html", "/ui/./index.html", "/ui//etc/passwd", "/ui/%2fetc%2fpasswd",
        "/ui/..\\..\\etc\\passwd", "/ui/%5c..%5cindex.html", "/ui/index.html%00.js",
        "/ui/%00", "/ui/samples/", "/ui/samples", "/ui/%252e%252e/etc/passwd",
        "/ui/....//....//etc/passwd", "/ui/index.html/"}) {
    const RawAnswer answer = Exchange(port_, target);
    EXPECT_TRUE(answer.status == 404 || answer.status == 400)
        << target << " answered " << answer.status;
    EXPECT_THAT(answer.body, Not(HasSubstr("root:"))) << target;
    EXPECT_THAT(answer.body, Not(HasSubstr("doctype"))) << target;
  }
}

TEST_F(StaticFilesServerTest, TheGateAppliesToThePage) {
  for (const std::string& target :
       std::vector<std::string>{"/ui", "/ui/", "/ui/app.js", "/ui/nope"}) {
    const RawAnswer refused = Exchange(port_, target, "X-Refuse: 1\r\n");
    EXPECT_EQ(refused.status, 401) << target;
    EXPECT_THAT(refused.body, HasSubstr("refused by the gate")) << target;
  }
}

}  // namespace
}  // namespace attnserve::server
