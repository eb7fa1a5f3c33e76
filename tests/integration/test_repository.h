// TestRepository: the model repository the integration tests serve, built in a
// fresh temporary directory and removed with the object:
//   demo/         -> models/demo (symlink; version 1)
//   bi/1/         -> tests/fixtures/parity/bi2_addres_d12_h32_c4_softmax (symlink)
//   broken/1/     a version whose model.json is not valid JSON (must load FAILED)
// Thread-safety: immutable after Create().
#ifndef ATTNSERVE_TESTS_INTEGRATION_TEST_REPOSITORY_H_
#define ATTNSERVE_TESTS_INTEGRATION_TEST_REPOSITORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace attnserve::testing {

// The parity fixture served as model `bi`.
inline constexpr char kBiFixture[] = "bi2_addres_d12_h32_c4_softmax";

// Source directories of the served versions (for in-process engine references).
std::string DemoVersionDir();  // models/demo/1
std::string DemoRepository();  // models/ (the demo alone; never written to)
std::string BiVersionDir();    // tests/fixtures/parity/<kBiFixture>

class TestRepository {
 public:
  static absl::StatusOr<std::unique_ptr<TestRepository>> Create();
  ~TestRepository();
  TestRepository(const TestRepository&) = delete;
  TestRepository& operator=(const TestRepository&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit TestRepository(std::string path) : path_(std::move(path)) {}
  const std::string path_;
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_TEST_REPOSITORY_H_
