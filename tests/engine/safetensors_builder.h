// Test helpers for the model-format tests: SafetensorsBuilder writes valid
// safetensors bytes from (name, dtype, shape, raw bytes) entries, and the free
// functions encode values and assemble a file from an arbitrary header, so a
// test can corrupt exactly one part. HasError() checks a status's code and that
// its message names what it should.
// Ownership: plain values. Thread-safety: none needed (test-only, no shared state).
#ifndef ATTNSERVE_TESTS_ENGINE_SAFETENSORS_BUILDER_H_
#define ATTNSERVE_TESTS_ENGINE_SAFETENSORS_BUILDER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace attnserve::engine::test_util {

// `value` as `bytes` little-endian bytes.
inline std::string LittleEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

inline std::string F32Bytes(const std::vector<float>& values) {
  std::string out;
  for (float value : values) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    out += LittleEndian(bits, 4);
  }
  return out;
}

inline std::string F64Bytes(const std::vector<double>& values) {
  std::string out;
  for (double value : values) {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    out += LittleEndian(bits, 8);
  }
  return out;
}

// F16 and BF16 values given as their bit patterns.
inline std::string U16Bytes(const std::vector<uint16_t>& values) {
  std::string out;
  for (uint16_t value : values) out += LittleEndian(value, 2);
  return out;
}

inline std::string I32Bytes(const std::vector<int32_t>& values) {
  std::string out;
  for (int32_t value : values) out += LittleEndian(static_cast<uint32_t>(value), 4);
  return out;
}

inline std::string I64Bytes(const std::vector<int64_t>& values) {
  std::string out;
  for (int64_t value : values) out += LittleEndian(static_cast<uint64_t>(value), 8);
  return out;
}

// The 8-byte length prefix, then `header`, then `data`: no check of any kind.
inline std::string AssembleSafetensors(absl::string_view header, absl::string_view data) {
  return absl::StrCat(LittleEndian(header.size(), 8), header, data);
}

inline std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

class SafetensorsBuilder {
 public:
  // Appends a tensor; its data follows the previous tensor's.
  SafetensorsBuilder& Add(std::string name, std::string dtype, std::vector<int64_t> shape,
                          std::string bytes) {
    tensors_.push_back({std::move(name), std::move(dtype), std::move(shape), std::move(bytes)});
    return *this;
  }
  SafetensorsBuilder& AddF32(std::string name, std::vector<int64_t> shape,
                             const std::vector<float>& values) {
    return Add(std::move(name), "F32", std::move(shape), F32Bytes(values));
  }
  SafetensorsBuilder& AddMetadata(std::string key, std::string value) {
    metadata_.emplace_back(std::move(key), std::move(value));
    return *this;
  }

  // The JSON header, padded with spaces to a multiple of 8 bytes as the
  // reference writer does.
  std::string HeaderJson() const {
    std::vector<std::string> entries;
    if (!metadata_.empty()) {
      std::vector<std::string> items;
      for (const auto& [key, value] : metadata_) {
        items.push_back(absl::StrCat(JsonString(key), ":", JsonString(value)));
      }
      entries.push_back(absl::StrCat("\"__metadata__\":{", absl::StrJoin(items, ","), "}"));
    }
    uint64_t offset = 0;
    for (const Tensor& tensor : tensors_) {
      entries.push_back(absl::StrCat(JsonString(tensor.name),
                                     ":{\"dtype\":", JsonString(tensor.dtype), ",\"shape\":[",
                                     absl::StrJoin(tensor.shape, ","), "],\"data_offsets\":[",
                                     offset, ",", offset + tensor.bytes.size(), "]}"));
      offset += tensor.bytes.size();
    }
    std::string header = absl::StrCat("{", absl::StrJoin(entries, ","), "}");
    while (header.size() % 8 != 0) header.push_back(' ');
    return header;
  }

  std::string Data() const {
    std::string data;
    for (const Tensor& tensor : tensors_) data += tensor.bytes;
    return data;
  }

  std::string Build() const { return AssembleSafetensors(HeaderJson(), Data()); }

 private:
  struct Tensor {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::string bytes;
  };
  std::vector<Tensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

// Success when `status` has `code` and its message contains every fragment.
inline ::testing::AssertionResult HasError(const absl::Status& status, absl::StatusCode code,
                                           const std::vector<std::string>& fragments) {
  if (status.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code) << ", got " << status;
  }
  for (const std::string& fragment : fragments) {
    if (status.message().find(fragment) == absl::string_view::npos) {
      return ::testing::AssertionFailure()
             << "message \"" << status.message() << "\" does not contain \"" << fragment << "\"";
    }
  }
  return ::testing::AssertionSuccess() << status;
}

}  // namespace attnserve::engine::test_util

#endif  // ATTNSERVE_TESTS_ENGINE_SAFETENSORS_BUILDER_H_
