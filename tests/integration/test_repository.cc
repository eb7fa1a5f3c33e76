#include "tests/integration/test_repository.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace attnserve::testing {
namespace fs = std::filesystem;

std::string DemoVersionDir() { return std::string(ATTNSERVE_SOURCE_DIR) + "/models/demo/1"; }

std::string DemoRepository() { return std::string(ATTNSERVE_SOURCE_DIR) + "/models"; }

std::string BiVersionDir() {
  return absl::StrCat(ATTNSERVE_SOURCE_DIR, "/tests/fixtures/parity/", kBiFixture);
}

absl::StatusOr<std::unique_ptr<TestRepository>> TestRepository::Create() {
  std::string dir = (fs::temp_directory_path() / "attnserve-repo-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a temporary directory from ", dir));
  }
  std::unique_ptr<TestRepository> repository(new TestRepository(dir));
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directory_symlink(fs::path(DemoVersionDir()).parent_path(), root / "demo", ec);
  if (!ec) fs::create_directories(root / "bi", ec);
  if (!ec) fs::create_directory_symlink(BiVersionDir(), root / "bi" / "1", ec);
  if (!ec) fs::create_directories(root / "broken" / "1", ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("building the model repository in ", dir, ": ", ec.message()));
  }
  std::ofstream broken(root / "broken" / "1" / "model.json");
  broken << "{\"format\": \"attnserve.model\", \"format_version\": 1,";  // cut short
  broken.close();
  if (!broken) return absl::InternalError("cannot write broken/1/model.json");
  return repository;
}

TestRepository::~TestRepository() {
  std::error_code ec;
  fs::remove_all(path_, ec);  // removes the symlinks, never what they point to
}

}  // namespace attnserve::testing
