// TensorFile implementation: safetensors validation and dtype conversion.
//
// Contract: see tensor_file.h. Every check happens in FromHeader(), which
// Parse() and Read() call once the header length is known to be within the
// limits and the file; the accessors only read ranges it proved to lie inside
// the data section, from memory or, for Read(), from the open file in chunks.
// JSON is parsed with exceptions disabled (nlohmann's allow_exceptions = false)
// and every value is type-checked before it is read; a failed allocation is
// caught where it can happen and becomes ResourceExhausted, so no exception
// leaves this file. Values are decoded byte by byte as little-endian, whatever
// the host's byte order.
// Thread-safety: free functions without shared state; TensorFile is immutable.
#include "engine/tensor_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/json_fields.h"
#include "nlohmann/json.hpp"

namespace attnserve::engine {
namespace {

using Json = nlohmann::json;
using json_fields::Describe;

static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "f16/bf16/f64 conversion assumes IEEE-754 float and double");

// The reference implementation's limit; real headers are kilobytes
// (ModelFileLimits::max_header_bytes may lower it).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kLengthPrefixBytes = 8;
constexpr size_t kMaxNesting = 16;

struct DTypeEntry {
  const char* name;
  DType dtype;
  uint64_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {"F32", DType::kF32, 4},   {"F64", DType::kF64, 8}, {"F16", DType::kF16, 2},
    {"BF16", DType::kBF16, 2}, {"I32", DType::kI32, 4}, {"I64", DType::kI64, 8},
};

const DTypeEntry& EntryFor(DType dtype) {
  for (const DTypeEntry& entry : kDTypes) {
    if (entry.dtype == dtype) return entry;
  }
  return kDTypes[0];  // unreachable: every DType is in the table
}

// Escapes control characters so a hostile name cannot garble a log line.
std::string Printable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status FileError(absl::string_view label, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(label, ": ", what));
}

absl::Status TensorError(absl::string_view label, absl::string_view name, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(label, ": tensor '", Printable(name), "': ", what));
}

// A JSON integer as uint64 when it is one and is >= 0.
bool AsUnsigned(const Json& value, uint64_t* out) {
  if (value.is_number_unsigned()) {
    *out = value.get<uint64_t>();
    return true;
  }
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(value.get<int64_t>());
    return true;
  }
  return false;
}

uint64_t LoadLE(const unsigned char* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

float BitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half >> 15) << 31;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  const uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0x1f) {  // inf or NaN: keep the payload's top bits
    return BitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  }
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in f32
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return BitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

float BFloat16ToFloat(uint16_t bits) { return BitsToFloat(static_cast<uint32_t>(bits) << 16); }

// IEEE round-to-nearest double -> float, without the undefined behaviour of
// static_cast on out-of-range values: overflow gives +-inf, as the hardware would.
float DoubleToFloat(double value) {
  constexpr float kMax = std::numeric_limits<float>::max();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  if (std::isnan(value)) return std::signbit(value) ? -kNaN : kNaN;
  // FLT_MAX plus half an ulp (2^103) rounds to even, that is to infinity.
  const double magnitude = std::fabs(value);
  float result = static_cast<float>(std::min(magnitude, static_cast<double>(kMax)));
  if (magnitude >= static_cast<double>(kMax) + std::ldexp(1.0, 103)) result = kInf;
  return std::signbit(value) ? -result : result;
}

// The deepest nesting of arrays and objects in `text`, found with a scan that
// knows JSON strings. Legal headers nest 3 deep; checking before parsing keeps
// a hostile header from making the parser allocate per level of nesting.
size_t NestingDepth(absl::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Records keys that occur twice in one JSON object (nlohmann keeps the last one
// silently; a duplicated tensor name must not be resolved by accident).
class DuplicateKeyFinder {
 public:
  bool OnEvent(int depth, Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        keys_.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys_.empty()) keys_.pop_back();
        break;
      case Json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (depth == 1) top_key_ = key;
        if (!keys_.empty() && !keys_.back().insert(key).second && !found_) {
          found_ = true;
          depth_ = depth;
          key_ = key;
          owner_ = top_key_;
        }
        break;
      }
      default:
        break;
    }
    return true;  // keep everything
  }

  // OK, or the error naming the first duplicated key.
  absl::Status Result(absl::string_view label) const {
    if (!found_) return absl::OkStatus();
    if (depth_ == 1) {
      if (key_ == "__metadata__") return FileError(label, "__metadata__ appears more than once");
      return TensorError(label, key_, "appears more than once in the header");
    }
    const std::string what = absl::StrCat("key '", Printable(key_), "' appears more than once");
    if (owner_ == "__metadata__") return FileError(label, absl::StrCat("__metadata__: ", what));
    return TensorError(label, owner_, what);
  }

 private:
  std::vector<std::set<std::string>> keys_;  // one set per open object
  std::string top_key_;                      // the header entry being parsed
  bool found_ = false;
  int depth_ = 0;
  std::string key_;
  std::string owner_;
};

absl::Status ParseMetadata(absl::string_view label, const Json& value,
                           std::map<std::string, std::string>* metadata) {
  if (!value.is_object()) {
    return FileError(
        label, absl::StrCat("__metadata__ must be an object of strings, got ", Describe(value)));
  }
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      return FileError(label, absl::StrCat("__metadata__: value of '", Printable(key),
                                           "' must be a string, got ", Describe(item)));
    }
    (*metadata)[key] = item.get<std::string>();
  }
  return absl::OkStatus();
}

// Parses one tensor entry; checks its offsets against the data section size.
absl::Status ParseEntry(absl::string_view label, const std::string& name, const Json& entry,
                        uint64_t data_size, TensorInfo* info) {
  if (!entry.is_object()) {
    return TensorError(label, name, absl::StrCat("entry must be an object, got ", Describe(entry)));
  }
  for (const auto& item : entry.items()) {
    const std::string& key = item.key();
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      return TensorError(label, name,
                         absl::StrCat("unknown field '", Printable(key),
                                      "' (expected dtype, shape, data_offsets)"));
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) {
      return TensorError(label, name, absl::StrCat("missing field '", key, "'"));
    }
  }

  const Json& dtype = entry["dtype"];
  if (!dtype.is_string()) {
    return TensorError(label, name, absl::StrCat("dtype must be a string, got ", Describe(dtype)));
  }
  const DTypeEntry* dtype_entry = nullptr;
  for (const DTypeEntry& candidate : kDTypes) {
    if (dtype.get_ref<const std::string&>() == candidate.name) dtype_entry = &candidate;
  }
  if (dtype_entry == nullptr) {
    return TensorError(label, name,
                       absl::StrCat("unsupported dtype '", Printable(dtype.get<std::string>()),
                                    "' (supported: F32, F64, F16, BF16, I32, I64)"));
  }
  info->dtype = dtype_entry->dtype;

  const Json& shape = entry["shape"];
  if (!shape.is_array()) {
    return TensorError(
        label, name,
        absl::StrCat("shape must be an array of non-negative integers, got ", Describe(shape)));
  }
  info->shape.clear();
  for (size_t i = 0; i < shape.size(); ++i) {
    uint64_t dim = 0;
    if (!AsUnsigned(shape[i], &dim) ||
        dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return TensorError(label, name,
                         absl::StrCat("shape[", i, "] must be a non-negative integer, got ",
                                      shape[i].is_number() ? shape[i].dump() : Describe(shape[i])));
    }
    info->shape.push_back(static_cast<int64_t>(dim));
  }
  // Element count, refusing any product of the non-zero dimensions that does
  // not fit in int64 (later stages multiply dimensions freely).
  uint64_t nonzero_product = 1;
  bool has_zero = false;
  for (int64_t dim : info->shape) {
    const auto udim = static_cast<uint64_t>(dim);
    if (udim == 0) {
      has_zero = true;
    } else if (nonzero_product >
               static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / udim) {
      return TensorError(
          label, name, absl::StrCat("shape ", ShapeString(info->shape), " has too many elements"));
    } else {
      nonzero_product *= udim;
    }
  }
  const uint64_t numel = has_zero ? 0 : nonzero_product;
  if (numel > std::numeric_limits<uint64_t>::max() / dtype_entry->size) {
    return TensorError(label, name,
                       absl::StrCat("shape ", ShapeString(info->shape), " of ", dtype_entry->name,
                                    " is too large"));
  }
  const uint64_t byte_size = numel * dtype_entry->size;

  const Json& offsets = entry["data_offsets"];
  uint64_t begin = 0;
  uint64_t end = 0;
  if (!offsets.is_array() || offsets.size() != 2 || !AsUnsigned(offsets[0], &begin) ||
      !AsUnsigned(offsets[1], &end)) {
    return TensorError(label, name, "data_offsets must be [begin, end] with non-negative integers");
  }
  if (begin > end) {
    return TensorError(label, name,
                       absl::StrCat("data_offsets [", begin, ", ", end, "]: begin is after end"));
  }
  if (end > data_size) {
    return TensorError(label, name,
                       absl::StrCat("data_offsets [", begin, ", ", end,
                                    "] end beyond the data section (", data_size, " bytes)"));
  }
  if (end - begin != byte_size) {
    return TensorError(label, name,
                       absl::StrCat("data_offsets [", begin, ", ", end, "] hold ", end - begin,
                                    " bytes but shape ", ShapeString(info->shape), " of ",
                                    dtype_entry->name, " needs ", byte_size));
  }
  info->begin = begin;
  info->end = end;
  return absl::OkStatus();
}

// Tensors must tile the data section: no overlap, no gap, no trailing bytes.
absl::Status CheckCoverage(absl::string_view label,
                           const std::map<std::string, TensorInfo>& tensors, uint64_t data_size) {
  std::vector<std::tuple<uint64_t, uint64_t, const std::string*>> ranges;
  ranges.reserve(tensors.size());
  for (const auto& [name, info] : tensors) ranges.emplace_back(info.begin, info.end, &name);
  std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a), *std::get<2>(a)) <
           std::tie(std::get<0>(b), std::get<1>(b), *std::get<2>(b));
  });
  uint64_t covered = 0;  // bytes [0, covered) belong to the tensors seen so far
  const std::string* last = nullptr;
  for (const auto& [begin, end, name] : ranges) {
    if (begin < covered) {
      return TensorError(label, *name,
                         absl::StrCat("data_offsets [", begin, ", ", end, "] overlap tensor '",
                                      Printable(*last), "' (which ends at ", covered, ")"));
    }
    if (begin > covered) {
      return TensorError(
          label, *name,
          absl::StrCat("starts at byte ", begin, " of the data section, leaving bytes [", covered,
                       ", ", begin, ") unused"));
    }
    covered = end;
    last = name;
  }
  if (covered != data_size) {
    return FileError(label, absl::StrCat("data section has ", data_size - covered,
                                         " trailing bytes not covered by any tensor (", data_size,
                                         " bytes, tensors cover ", covered, ")"));
  }
  return absl::OkStatus();
}

// The length prefix's claim against the limits and against the `after_prefix`
// bytes that follow the prefix.
absl::Status CheckHeaderLength(absl::string_view label, uint64_t header_size, uint64_t after_prefix,
                               const ModelFileLimits& limits) {
  const uint64_t limit = std::min(kMaxHeaderBytes, limits.max_header_bytes);
  if (header_size > limit) {
    return FileError(label, absl::StrCat("header length ", header_size, " exceeds the limit of ",
                                         limit, " bytes"));
  }
  if (header_size > after_prefix) {
    return FileError(label,
                     absl::StrCat("header length ", header_size, " is longer than the file (",
                                  after_prefix, " bytes follow the length)"));
  }
  return absl::OkStatus();
}

absl::Status TooShort(absl::string_view label, uint64_t size) {
  return FileError(
      label, absl::StrCat("file is ", size, " bytes, too short for the 8-byte header length"));
}

// Runs `body`; a failed allocation inside it gives ResourceExhausted with the
// message `describe()` returns (composed only then, once the memory the failed
// allocation asked for is known not to be taken).
template <typename T, typename Body, typename Describe>
absl::StatusOr<T> GuardAllocation(Body body, Describe describe) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(describe());
  }
}

// One element of a floating dtype at `p`, as f32.
float DecodeFloat(DType dtype, const unsigned char* p) {
  switch (dtype) {
    case DType::kF32:
      return BitsToFloat(static_cast<uint32_t>(LoadLE(p, 4)));
    case DType::kF64: {
      const uint64_t bits = LoadLE(p, 8);
      double value;
      std::memcpy(&value, &bits, sizeof(value));
      return DoubleToFloat(value);
    }
    case DType::kF16:
      return HalfToFloat(static_cast<uint16_t>(LoadLE(p, 2)));
    case DType::kBF16:
      return BFloat16ToFloat(static_cast<uint16_t>(LoadLE(p, 2)));
    default:
      return 0.0f;  // unreachable: callers refuse integer dtypes first
  }
}

}  // namespace

uint64_t TensorInfo::num_elements() const {
  uint64_t count = 1;
  for (int64_t dim : shape) count *= static_cast<uint64_t>(dim);
  return count;
}

absl::StatusOr<TensorFile> TensorFile::FromHeader(absl::string_view label,
                                                  absl::string_view header_text,
                                                  uint64_t data_start, uint64_t data_size,
                                                  const ModelFileLimits& limits) {
  // nlohmann stops at a NUL byte as if the input ended there; JSON never
  // contains a raw NUL, so refuse it rather than ignore what follows.
  if (const size_t nul = header_text.find('\0'); nul != absl::string_view::npos) {
    return FileError(
        label, absl::StrCat("header is not valid JSON (NUL byte at header offset ", nul, ")"));
  }
  if (NestingDepth(header_text) > kMaxNesting) {
    return FileError(label, absl::StrCat("header nests arrays/objects more than ", kMaxNesting,
                                         " deep; a safetensors header needs 3"));
  }
  DuplicateKeyFinder duplicates;
  const Json header = Json::parse(
      header_text.begin(), header_text.end(),
      [&duplicates](int depth, Json::parse_event_t event, Json& parsed) {
        return duplicates.OnEvent(depth, event, parsed);
      },
      /*allow_exceptions=*/false);
  if (header.is_discarded()) return FileError(label, "header is not valid JSON");
  if (absl::Status status = duplicates.Result(label); !status.ok()) return status;
  if (!header.is_object()) {
    return FileError(label, absl::StrCat("header must be a JSON object, got ", Describe(header)));
  }

  const uint64_t tensor_count = header.size() - (header.contains("__metadata__") ? 1 : 0);
  if (tensor_count > limits.max_tensors) {
    return FileError(label, absl::StrCat("header lists ", tensor_count,
                                         " tensors, more than the limit of ", limits.max_tensors));
  }

  TensorFile file;
  file.label_ = std::string(label);
  file.data_start_ = data_start;
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      if (absl::Status status = ParseMetadata(label, item.value(), &file.metadata_); !status.ok()) {
        return status;
      }
      continue;
    }
    TensorInfo info;
    if (absl::Status status = ParseEntry(label, item.key(), item.value(), data_size, &info);
        !status.ok()) {
      return status;
    }
    file.tensors_.emplace(item.key(), std::move(info));
  }
  if (absl::Status status = CheckCoverage(label, file.tensors_, data_size); !status.ok()) {
    return status;
  }
  return file;
}

absl::StatusOr<TensorFile> TensorFile::Parse(std::string bytes, absl::string_view label,
                                             const ModelFileLimits& limits) {
  if (bytes.size() > limits.max_weights_file_bytes) {
    return FileError(label,
                     absl::StrCat("file is ", bytes.size(), " bytes, more than the limit of ",
                                  limits.max_weights_file_bytes));
  }
  if (bytes.size() < kLengthPrefixBytes) return TooShort(label, bytes.size());
  const uint64_t header_size =
      LoadLE(reinterpret_cast<const unsigned char*>(bytes.data()), kLengthPrefixBytes);
  const uint64_t after_prefix = bytes.size() - kLengthPrefixBytes;
  if (absl::Status status = CheckHeaderLength(label, header_size, after_prefix, limits);
      !status.ok()) {
    return status;
  }
  return GuardAllocation<TensorFile>(
      [&]() -> absl::StatusOr<TensorFile> {
        const absl::string_view header_text(bytes.data() + kLengthPrefixBytes, header_size);
        absl::StatusOr<TensorFile> file =
            FromHeader(label, header_text, kLengthPrefixBytes + header_size,
                       after_prefix - header_size, limits);
        if (!file.ok()) return file.status();
        file->bytes_ = std::move(bytes);
        return file;
      },
      [&] { return absl::StrCat(label, ": out of memory parsing the header"); });
}

absl::StatusOr<TensorFile> TensorFile::Read(const std::string& path,
                                            const ModelFileLimits& limits) {
  absl::StatusOr<RegularFile> opened = RegularFile::Open(path, limits.max_weights_file_bytes);
  if (!opened.ok()) return opened.status();
  const uint64_t size = opened->size();
  if (size < kLengthPrefixBytes) return TooShort(path, size);
  unsigned char prefix[kLengthPrefixBytes];
  if (absl::Status status = opened->ReadAt(0, prefix, sizeof(prefix)); !status.ok()) {
    return status;
  }
  const uint64_t header_size = LoadLE(prefix, kLengthPrefixBytes);
  const uint64_t after_prefix = size - kLengthPrefixBytes;
  if (absl::Status status = CheckHeaderLength(path, header_size, after_prefix, limits);
      !status.ok()) {
    return status;
  }
  // Only the header is read here, and its length is bounded above; the data
  // section is read tensor by tensor, in chunks, by GetFloat()/GetInt().
  return GuardAllocation<TensorFile>(
      [&]() -> absl::StatusOr<TensorFile> {
        std::string header(static_cast<size_t>(header_size), '\0');
        if (absl::Status status = opened->ReadAt(kLengthPrefixBytes, header.data(), header.size());
            !status.ok()) {
          return status;
        }
        absl::StatusOr<TensorFile> file = FromHeader(path, header, kLengthPrefixBytes + header_size,
                                                     after_prefix - header_size, limits);
        if (!file.ok()) return file.status();
        file->file_ = std::make_shared<const RegularFile>(*std::move(opened));
        return file;
      },
      [&] {
        return absl::StrCat(path, ": out of memory reading the header (", header_size, " bytes)");
      });
}

template <typename Decode>
absl::Status TensorFile::VisitData(const TensorInfo& info, uint64_t element_size,
                                   Decode decode) const {
  const uint64_t total = info.end - info.begin;
  if (file_ == nullptr) {
    decode(reinterpret_cast<const unsigned char*>(bytes_.data() + data_start_ + info.begin),
           static_cast<size_t>(total / element_size));
    return absl::OkStatus();
  }
  // A multiple of every element size, so that no element straddles two chunks.
  constexpr uint64_t kChunkBytes = uint64_t{1} << 16;
  std::vector<unsigned char> chunk(static_cast<size_t>(std::min(total, kChunkBytes)));
  for (uint64_t done = 0; done < total;) {
    const auto length = static_cast<size_t>(std::min(total - done, kChunkBytes));
    if (absl::Status status = file_->ReadAt(data_start_ + info.begin + done, chunk.data(), length);
        !status.ok()) {
      return status;
    }
    decode(chunk.data(), length / static_cast<size_t>(element_size));
    done += length;
  }
  return absl::OkStatus();
}

absl::StatusOr<FloatTensor> TensorFile::GetFloat(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return absl::NotFoundError(
        absl::StrCat(label_, ": tensor '", Printable(name), "': not in the file"));
  }
  const TensorInfo& info = it->second;
  const DTypeEntry& dtype = EntryFor(info.dtype);
  if (info.dtype == DType::kI32 || info.dtype == DType::kI64) {
    return TensorError(label_, name,
                       absl::StrCat("dtype ", dtype.name, " is not a floating-point type"));
  }
  const uint64_t count = (info.end - info.begin) / dtype.size;
  return GuardAllocation<FloatTensor>(
      [&]() -> absl::StatusOr<FloatTensor> {
        FloatTensor tensor;
        tensor.shape = info.shape;
        tensor.values.resize(static_cast<size_t>(count));
        float* out = tensor.values.data();
        const absl::Status status =
            VisitData(info, dtype.size, [&out, &info, &dtype](const unsigned char* p, size_t n) {
              for (size_t i = 0; i < n; ++i, p += dtype.size) *out++ = DecodeFloat(info.dtype, p);
            });
        if (!status.ok()) return status;
        return tensor;
      },
      [&] {
        return absl::StrCat(label_, ": tensor '", Printable(name), "': out of memory for its ",
                            count, " values as f32 (", count * sizeof(float), " bytes)");
      });
}

absl::StatusOr<std::vector<int64_t>> TensorFile::GetInt(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return absl::NotFoundError(
        absl::StrCat(label_, ": tensor '", Printable(name), "': not in the file"));
  }
  const TensorInfo& info = it->second;
  const DTypeEntry& dtype = EntryFor(info.dtype);
  if (info.dtype != DType::kI32 && info.dtype != DType::kI64) {
    return TensorError(label_, name, absl::StrCat("dtype ", dtype.name, " is not an integer type"));
  }
  const uint64_t count = (info.end - info.begin) / dtype.size;
  return GuardAllocation<std::vector<int64_t>>(
      [&]() -> absl::StatusOr<std::vector<int64_t>> {
        std::vector<int64_t> values(static_cast<size_t>(count));
        int64_t* out = values.data();
        const absl::Status status =
            VisitData(info, dtype.size, [&out, &info](const unsigned char* p, size_t n) {
              for (size_t i = 0; i < n; ++i) {
                if (info.dtype == DType::kI32) {
                  *out++ = static_cast<int32_t>(static_cast<uint32_t>(LoadLE(p, 4)));
                  p += 4;
                } else {
                  *out++ = static_cast<int64_t>(LoadLE(p, 8));
                  p += 8;
                }
              }
            });
        if (!status.ok()) return status;
        return values;
      },
      [&] {
        return absl::StrCat(label_, ": tensor '", Printable(name), "': out of memory for its ",
                            count, " values as int64 (", count * sizeof(int64_t), " bytes)");
      });
}

}  // namespace attnserve::engine
