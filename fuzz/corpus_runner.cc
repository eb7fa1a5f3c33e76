// corpus_runner: runs a fuzz target's LLVMFuzzerTestOneInput once on every
// file of the corpora given as arguments (files, or directories searched
// recursively), without libFuzzer. It is what `make test` runs: every
// committed corpus input must pass in the ordinary build; `make fuzz` links the
// same target with libFuzzer instead (fuzz/README.md).
//
// Exit status: 0 after every input ran; 2 for an unreadable argument; a crash
// or failed check inside the target aborts the process, naming the input last
// printed to stderr.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "corpus_runner: %s\n", path.c_str());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path root(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_regular_file(root, ec)) {
      if (!RunFile(root)) return 2;
      ++inputs;
      continue;
    }
    if (!std::filesystem::is_directory(root, ec)) {
      std::fprintf(stderr, "corpus_runner: %s: not a file or directory\n", argv[i]);
      return 2;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (!RunFile(file)) return 2;
      ++inputs;
    }
  }
  std::printf("corpus_runner: %d inputs passed\n", inputs);
  return inputs > 0 ? 0 : 2;
}
