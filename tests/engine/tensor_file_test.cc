// Tests for TensorFile (safetensors parsing): a round trip, exact dtype
// conversions, one test per malformed file, and no-crash sweeps over every
// prefix and random byte flips of a valid file.
#include "engine/tensor_file.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/engine/fifo_guard.h"
#include "tests/engine/safetensors_builder.h"
#include "tests/engine/scratch_dir.h"

namespace attnserve::engine {
namespace {

using test_util::AssembleSafetensors;
using test_util::F32Bytes;
using test_util::F64Bytes;
using test_util::HasError;
using test_util::I32Bytes;
using test_util::I64Bytes;
using test_util::LittleEndian;
using test_util::SafetensorsBuilder;
using test_util::U16Bytes;

constexpr char kLabel[] = "w.safetensors";
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

absl::StatusOr<TensorFile> ParseBytes(std::string bytes) {
  return TensorFile::Parse(std::move(bytes), kLabel);
}

// A file with `header` as its JSON header and `data_size` zero bytes of data.
absl::StatusOr<TensorFile> ParseHeader(const std::string& header, size_t data_size) {
  return ParseBytes(AssembleSafetensors(header, std::string(data_size, '\0')));
}

// One F32 tensor entry "w" with the given shape and offsets text.
std::string OneEntry(const std::string& shape, const std::string& offsets) {
  return "{\"w\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
}

std::vector<float> Floats(const absl::StatusOr<TensorFile>& file, const std::string& name) {
  absl::StatusOr<FloatTensor> tensor = file->GetFloat(name);
  EXPECT_TRUE(tensor.ok()) << tensor.status();
  return tensor.ok() ? tensor->values : std::vector<float>{};
}

// A file with every dtype and metadata, for the sweeps.
SafetensorsBuilder MixedBuilder() {
  return SafetensorsBuilder()
      .AddMetadata("format", "pt")
      .AddF32("a", {2, 3}, {1, 2, 3, 4, 5, 6})
      .Add("b", "F16", {2}, U16Bytes({0x3c00, 0xc000}))
      .Add("c", "BF16", {1, 2}, U16Bytes({0x3f80, 0x4049}))
      .Add("d", "F64", {2}, F64Bytes({0.5, -1.25}))
      .Add("e", "I32", {1}, I32Bytes({-7}))
      .Add("f", "I64", {2}, I64Bytes({1, -1}))
      .Add("g", "F32", {0, 4}, "");
}

TEST(TensorFileTest, RoundTripsF32TensorsAndMetadata) {
  const std::string bytes = SafetensorsBuilder()
                                .AddMetadata("format", "pt")
                                .AddF32("layer.weight", {2, 3}, {0.5f, -1, 2, 3.25f, 4, -5})
                                .AddF32("layer.bias", {2}, {7, 8})
                                .Build();
  absl::StatusOr<TensorFile> file = ParseBytes(bytes);
  ASSERT_TRUE(file.ok()) << file.status();

  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_TRUE(file->Contains("layer.weight"));
  EXPECT_FALSE(file->Contains("layer"));
  const TensorInfo& weight = file->tensors().at("layer.weight");
  EXPECT_EQ(weight.dtype, DType::kF32);
  EXPECT_EQ(weight.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(weight.begin, 0u);
  EXPECT_EQ(weight.end, 24u);
  const TensorInfo& bias = file->tensors().at("layer.bias");
  EXPECT_EQ(bias.begin, 24u);
  EXPECT_EQ(bias.end, 32u);
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));

  absl::StatusOr<FloatTensor> tensor = file->GetFloat("layer.weight");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensor->values, (std::vector<float>{0.5f, -1, 2, 3.25f, 4, -5}));
  EXPECT_EQ(Floats(file, "layer.bias"), (std::vector<float>{7, 8}));
}

TEST(TensorFileTest, ConvertsF16Exactly) {
  const std::vector<uint16_t> bits = {
      0x3c00,  // 1
      0xc000,  // -2
      0x3555,  // 0.333251953125
      0x7bff,  // 65504, the largest finite
      0x0001,  // 2^-24, the smallest subnormal
      0x03ff,  // 1023 * 2^-24, the largest subnormal
      0x0400,  // 2^-14, the smallest normal
      0x8000,  // -0
      0x7c00,  // +inf
      0xfc00,  // -inf
      0x7e00,  // NaN
  };
  absl::StatusOr<TensorFile> file =
      ParseBytes(SafetensorsBuilder()
                     .Add("h", "F16", {static_cast<int64_t>(bits.size())}, U16Bytes(bits))
                     .Build());
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<float> v = Floats(file, "h");
  ASSERT_EQ(v.size(), bits.size());
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[2], 0.333251953125f);
  EXPECT_EQ(v[3], 65504.0f);
  EXPECT_EQ(v[4], std::ldexp(1.0f, -24));
  EXPECT_EQ(v[5], 1023.0f * std::ldexp(1.0f, -24));
  EXPECT_EQ(v[6], std::ldexp(1.0f, -14));
  EXPECT_EQ(v[7], 0.0f);
  EXPECT_TRUE(std::signbit(v[7]));
  EXPECT_EQ(v[8], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[9], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(v[10]));
}

TEST(TensorFileTest, ConvertsBF16Exactly) {
  const std::vector<uint16_t> bits = {
      0x3f80,  // 1
      0xc049,  // -3.140625
      0x4780,  // 65536
      0x0001,  // 2^-133, a subnormal
      0x8000,  // -0
      0x7f80,  // +inf
      0xff80,  // -inf
      0x7fc0,  // NaN
  };
  absl::StatusOr<TensorFile> file =
      ParseBytes(SafetensorsBuilder().Add("b", "BF16", {2, 4}, U16Bytes(bits)).Build());
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<float> v = Floats(file, "b");
  ASSERT_EQ(v.size(), bits.size());
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -3.140625f);
  EXPECT_EQ(v[2], 65536.0f);
  EXPECT_EQ(v[3], std::ldexp(1.0f, -133));
  EXPECT_EQ(v[4], 0.0f);
  EXPECT_TRUE(std::signbit(v[4]));
  EXPECT_EQ(v[5], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[6], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(v[7]));
}

TEST(TensorFileTest, ConvertsF64ToNearestF32) {
  const double max_float = std::numeric_limits<float>::max();
  const std::vector<double> values = {
      0.1,
      -2.5,
      1.0 / 3.0,
      max_float,
      max_float + std::ldexp(1.0, 102),  // below half an ulp above FLT_MAX: rounds down
      max_float + std::ldexp(1.0, 103),  // exactly half an ulp: rounds (to even) to inf
      -1e300,
      1e-50,  // underflows to zero
      std::numeric_limits<double>::quiet_NaN(),
  };
  absl::StatusOr<TensorFile> file =
      ParseBytes(SafetensorsBuilder().Add("d", "F64", {9}, F64Bytes(values)).Build());
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<float> v = Floats(file, "d");
  ASSERT_EQ(v.size(), values.size());
  EXPECT_EQ(v[0], 0.1f);
  EXPECT_EQ(v[1], -2.5f);
  EXPECT_EQ(v[2], 1.0f / 3.0f);
  EXPECT_EQ(v[3], std::numeric_limits<float>::max());
  EXPECT_EQ(v[4], std::numeric_limits<float>::max());
  EXPECT_EQ(v[5], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[6], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[7], 0.0f);
  EXPECT_TRUE(std::isnan(v[8]));
}

TEST(TensorFileTest, ReadsIntegerTensors) {
  absl::StatusOr<TensorFile> file =
      ParseBytes(SafetensorsBuilder()
                     .Add("i32", "I32", {3}, I32Bytes({-1, 7, std::numeric_limits<int32_t>::min()}))
                     .Add("i64", "I64", {2}, I64Bytes({std::numeric_limits<int64_t>::min(), 42}))
                     .Build());
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<std::vector<int64_t>> i32 = file->GetInt("i32");
  ASSERT_TRUE(i32.ok()) << i32.status();
  EXPECT_EQ(*i32, (std::vector<int64_t>{-1, 7, std::numeric_limits<int32_t>::min()}));
  absl::StatusOr<std::vector<int64_t>> i64 = file->GetInt("i64");
  ASSERT_TRUE(i64.ok()) << i64.status();
  EXPECT_EQ(*i64, (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 42}));
}

TEST(TensorFileTest, GetFloatRefusesIntegerDtype) {
  absl::StatusOr<TensorFile> file =
      ParseBytes(SafetensorsBuilder().Add("ids", "I32", {1}, I32Bytes({3})).Build());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(HasError(file->GetFloat("ids").status(), kInvalid, {kLabel, "'ids'", "I32"}));
}

TEST(TensorFileTest, GetIntRefusesFloatDtype) {
  absl::StatusOr<TensorFile> file = ParseBytes(SafetensorsBuilder().AddF32("x", {1}, {1}).Build());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(HasError(file->GetInt("x").status(), kInvalid, {kLabel, "'x'", "F32"}));
}

TEST(TensorFileTest, GetOfAbsentTensorIsNotFound) {
  absl::StatusOr<TensorFile> file = ParseBytes(SafetensorsBuilder().AddF32("x", {1}, {1}).Build());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(HasError(file->GetFloat("y").status(), absl::StatusCode::kNotFound, {"'y'"}));
  EXPECT_TRUE(HasError(file->GetInt("y").status(), absl::StatusCode::kNotFound, {"'y'"}));
}

TEST(TensorFileTest, AcceptsZeroElementTensors) {
  absl::StatusOr<TensorFile> file = ParseBytes(SafetensorsBuilder()
                                                   .Add("empty", "F32", {0}, "")
                                                   .Add("empty2d", "F64", {3, 0}, "")
                                                   .AddF32("x", {1}, {2})
                                                   .Build());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(Floats(file, "empty").empty());
  EXPECT_TRUE(Floats(file, "empty2d").empty());
  EXPECT_EQ(Floats(file, "x"), std::vector<float>{2});
}

TEST(TensorFileTest, AcceptsScalarTensor) {
  absl::StatusOr<TensorFile> file = ParseBytes(SafetensorsBuilder().AddF32("s", {}, {4}).Build());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->tensors().at("s").shape.empty());
  EXPECT_EQ(Floats(file, "s"), std::vector<float>{4});
}

TEST(TensorFileTest, AcceptsEmptyHeaderObject) {
  absl::StatusOr<TensorFile> file = ParseHeader("{}", 0);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->tensors().empty());
  EXPECT_TRUE(file->metadata().empty());
}

TEST(TensorFileTest, AcceptsUnpaddedHeader) {
  absl::StatusOr<TensorFile> file =
      ParseBytes(AssembleSafetensors(OneEntry("[1]", "[0,4]"), F32Bytes({1.5f})));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(Floats(file, "w"), std::vector<float>{1.5f});
}

TEST(TensorFileTest, ReadsFileFromDisk) {
  const std::string path =
      ::testing::TempDir() + "tensor_file_test_" + std::to_string(::getpid()) + ".safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    out << SafetensorsBuilder().AddF32("x", {2}, {1, 2}).Build();
  }
  absl::StatusOr<TensorFile> file = TensorFile::Read(path);
  std::remove(path.c_str());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(Floats(file, "x"), (std::vector<float>{1, 2}));
  // The label is the path.
  EXPECT_TRUE(HasError(file->GetInt("x").status(), kInvalid, {path}));
}

TEST(TensorFileTest, ReadOfMissingFileIsNotFound) {
  const std::string path = ::testing::TempDir() + "no_such_dir_attnserve/w.safetensors";
  EXPECT_TRUE(HasError(TensorFile::Read(path).status(), absl::StatusCode::kNotFound, {path}));
}

TEST(TensorFileTest, ReadOfDirectoryFails) {
  const std::string path = ::testing::TempDir();
  const absl::Status status = TensorFile::Read(path).status();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("directory"), absl::string_view::npos) << status;
}

// ---- Malformed files: one defect each. ----

TEST(TensorFileTest, RejectsEmptyFile) {
  EXPECT_TRUE(HasError(ParseBytes("").status(), kInvalid, {kLabel, "0 bytes"}));
}

TEST(TensorFileTest, RejectsFileShorterThanLengthPrefix) {
  EXPECT_TRUE(
      HasError(ParseBytes(std::string("\x02\0\0\0\0", 5)).status(), kInvalid, {kLabel, "5 bytes"}));
}

TEST(TensorFileTest, RejectsHeaderLongerThanFile) {
  const std::string bytes = LittleEndian(100, 8) + "{}        ";
  EXPECT_TRUE(HasError(ParseBytes(bytes).status(), kInvalid,
                       {kLabel, "header length 100", "longer than the file"}));
}

TEST(TensorFileTest, RejectsAbsurdHeaderLength) {
  const std::string bytes = LittleEndian(uint64_t{1} << 40, 8) + "{}";
  EXPECT_TRUE(HasError(ParseBytes(bytes).status(), kInvalid,
                       {kLabel, "header length 1099511627776", "exceeds the limit"}));
}

TEST(TensorFileTest, RejectsHeaderLengthThatWouldOverflow) {
  const std::string bytes = LittleEndian(std::numeric_limits<uint64_t>::max(), 8) + "{}";
  EXPECT_TRUE(HasError(ParseBytes(bytes).status(), kInvalid, {kLabel, "header length"}));
}

TEST(TensorFileTest, RejectsZeroLengthHeader) {
  EXPECT_TRUE(HasError(ParseHeader("", 0).status(), kInvalid, {kLabel, "not valid JSON"}));
}

TEST(TensorFileTest, RejectsHeaderNotJson) {
  EXPECT_TRUE(HasError(ParseHeader("{\"w\": {", 0).status(), kInvalid, {kLabel, "not valid JSON"}));
}

TEST(TensorFileTest, RejectsHeaderWithTrailingGarbage) {
  EXPECT_TRUE(HasError(ParseHeader("{} {}", 0).status(), kInvalid, {kLabel, "not valid JSON"}));
}

TEST(TensorFileTest, RejectsHeaderWithNulByte) {
  EXPECT_TRUE(HasError(ParseHeader(std::string("{}\0garbage", 10), 0).status(), kInvalid,
                       {kLabel, "not valid JSON", "NUL byte"}));
}

TEST(TensorFileTest, RejectsHeaderWithInvalidUtf8) {
  EXPECT_TRUE(
      HasError(ParseHeader("{\"\xff\":{}}", 0).status(), kInvalid, {kLabel, "not valid JSON"}));
}

TEST(TensorFileTest, RejectsDeeplyNestedHeader) {
  const std::string header = "{\"w\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_TRUE(HasError(ParseHeader(header, 0).status(), kInvalid, {kLabel, "more than 16 deep"}));
}

TEST(TensorFileTest, BracketsAndQuotesInNamesDoNotCountAsNesting) {
  const std::string name = "a\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{\\";
  absl::StatusOr<TensorFile> file = ParseBytes(SafetensorsBuilder().AddF32(name, {1}, {3}).Build());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(Floats(file, name), std::vector<float>{3});
}

TEST(TensorFileTest, RejectsHeaderNotObject) {
  EXPECT_TRUE(HasError(ParseHeader("[1, 2]", 0).status(), kInvalid,
                       {kLabel, "header must be a JSON object", "an array"}));
}

TEST(TensorFileTest, RejectsEntryNotObject) {
  EXPECT_TRUE(HasError(ParseHeader("{\"w\": [0, 4]}", 0).status(), kInvalid,
                       {kLabel, "tensor 'w'", "must be an object"}));
}

TEST(TensorFileTest, RejectsUnknownDtype) {
  EXPECT_TRUE(HasError(
      ParseHeader("{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4).status(),
      kInvalid, {kLabel, "tensor 'w'", "unsupported dtype 'U8'", "F32"}));
}

TEST(TensorFileTest, RejectsLowercaseDtype) {
  EXPECT_TRUE(HasError(
      ParseHeader("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4).status(),
      kInvalid, {"tensor 'w'", "'f32'"}));
}

TEST(TensorFileTest, RejectsDtypeNotString) {
  EXPECT_TRUE(HasError(
      ParseHeader("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4).status(),
      kInvalid, {"tensor 'w'", "dtype must be a string"}));
}

TEST(TensorFileTest, RejectsMissingDtype) {
  EXPECT_TRUE(HasError(ParseHeader("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4).status(),
                       kInvalid, {"tensor 'w'", "missing field 'dtype'"}));
}

TEST(TensorFileTest, RejectsMissingShape) {
  EXPECT_TRUE(
      HasError(ParseHeader("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4).status(),
               kInvalid, {"tensor 'w'", "missing field 'shape'"}));
}

TEST(TensorFileTest, RejectsMissingDataOffsets) {
  EXPECT_TRUE(HasError(ParseHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4).status(),
                       kInvalid, {"tensor 'w'", "missing field 'data_offsets'"}));
}

TEST(TensorFileTest, RejectsUnknownEntryField) {
  EXPECT_TRUE(HasError(ParseHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,"
                                   "4],\"strides\":[1]}}",
                                   4)
                           .status(),
                       kInvalid, {"tensor 'w'", "unknown field 'strides'"}));
}

TEST(TensorFileTest, RejectsShapeNotArray) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("4", "[0,16]"), 16).status(), kInvalid,
                       {"tensor 'w'", "shape must be an array"}));
}

TEST(TensorFileTest, RejectsNegativeDimension) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[2,-1]", "[0,8]"), 8).status(), kInvalid,
                       {"tensor 'w'", "shape[1]", "-1"}));
}

TEST(TensorFileTest, RejectsFractionalDimension) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[2.5]", "[0,8]"), 8).status(), kInvalid,
                       {"tensor 'w'", "shape[0]", "2.5"}));
}

TEST(TensorFileTest, RejectsNonNumericDimension) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[\"2\"]", "[0,8]"), 8).status(), kInvalid,
                       {"tensor 'w'", "shape[0]", "a string"}));
}

TEST(TensorFileTest, RejectsDimensionAboveInt64) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[18446744073709551615]", "[0,8]"), 8).status(),
                       kInvalid, {"tensor 'w'", "shape[0]"}));
}

TEST(TensorFileTest, RejectsElementCountOverflow) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[4294967296,4294967296]", "[0,8]"), 8).status(),
                       kInvalid, {"tensor 'w'", "too many elements"}));
}

TEST(TensorFileTest, RejectsElementCountOverflowEvenWithZeroDimension) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[4294967296,4294967296,0]", "[0,0]"), 0).status(),
                       kInvalid, {"tensor 'w'", "too many elements"}));
}

TEST(TensorFileTest, RejectsByteSizeOverflow) {
  // 2^62 elements fit in int64, but 2^62 * 8 bytes does not fit in 64 bits.
  EXPECT_TRUE(HasError(ParseHeader("{\"w\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],"
                                   "\"data_offsets\":[0,0]}}",
                                   0)
                           .status(),
                       kInvalid, {"tensor 'w'", "too large"}));
}

TEST(TensorFileTest, RejectsDataOffsetsNotArray) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[1]", "4"), 4).status(), kInvalid,
                       {"tensor 'w'", "data_offsets must be [begin, end]"}));
}

TEST(TensorFileTest, RejectsDataOffsetsNotPair) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[1]", "[0,4,8]"), 4).status(), kInvalid,
                       {"tensor 'w'", "data_offsets must be [begin, end]"}));
}

TEST(TensorFileTest, RejectsNegativeDataOffset) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[1]", "[-4,0]"), 4).status(), kInvalid,
                       {"tensor 'w'", "data_offsets"}));
}

TEST(TensorFileTest, RejectsFractionalDataOffset) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[1]", "[0,4.0]"), 4).status(), kInvalid,
                       {"tensor 'w'", "data_offsets"}));
}

TEST(TensorFileTest, RejectsBeginAfterEnd) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[1]", "[8,4]"), 8).status(), kInvalid,
                       {"tensor 'w'", "[8, 4]", "begin is after end"}));
}

TEST(TensorFileTest, RejectsEndBeyondDataSection) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[4]", "[0,16]"), 8).status(), kInvalid,
                       {"tensor 'w'", "beyond the data section (8 bytes)"}));
}

TEST(TensorFileTest, RejectsSizeNotMatchingShape) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[3]", "[0,8]"), 8).status(), kInvalid,
                       {"tensor 'w'", "hold 8 bytes", "needs 12"}));
}

TEST(TensorFileTest, RejectsOverlappingTensors) {
  const std::string header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
  EXPECT_TRUE(HasError(ParseHeader(header, 12).status(), kInvalid,
                       {kLabel, "tensor 'b'", "overlap tensor 'a'"}));
}

TEST(TensorFileTest, RejectsTensorsSharingBytes) {
  const std::string header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  EXPECT_TRUE(
      HasError(ParseHeader(header, 8).status(), kInvalid, {"tensor 'b'", "overlap tensor 'a'"}));
}

TEST(TensorFileTest, RejectsEmptyTensorInsideAnother) {
  const std::string header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}";
  EXPECT_TRUE(
      HasError(ParseHeader(header, 8).status(), kInvalid, {"tensor 'z'", "overlap tensor 'a'"}));
}

TEST(TensorFileTest, RejectsGapBetweenTensors) {
  const std::string header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}";
  EXPECT_TRUE(HasError(ParseHeader(header, 20).status(), kInvalid,
                       {kLabel, "tensor 'b'", "leaving bytes [8, 12) unused"}));
}

TEST(TensorFileTest, RejectsGapAtStartOfData) {
  EXPECT_TRUE(HasError(ParseHeader(OneEntry("[1]", "[4,8]"), 8).status(), kInvalid,
                       {"tensor 'w'", "leaving bytes [0, 4) unused"}));
}

TEST(TensorFileTest, RejectsTrailingBytes) {
  const std::string bytes = SafetensorsBuilder().AddF32("x", {1}, {1}).Build() + "junk";
  EXPECT_TRUE(HasError(ParseBytes(bytes).status(), kInvalid, {kLabel, "4 trailing bytes"}));
}

TEST(TensorFileTest, RejectsDataWithoutTensors) {
  EXPECT_TRUE(HasError(ParseHeader("{}", 4).status(), kInvalid, {kLabel, "4 trailing bytes"}));
}

TEST(TensorFileTest, RejectsTruncatedData) {
  std::string bytes = SafetensorsBuilder().AddF32("x", {1}, {1}).AddF32("y", {2}, {1, 2}).Build();
  bytes.pop_back();
  EXPECT_TRUE(HasError(ParseBytes(bytes).status(), kInvalid,
                       {kLabel, "tensor 'y'", "beyond the data section"}));
}

TEST(TensorFileTest, RejectsMetadataNotObject) {
  EXPECT_TRUE(HasError(ParseHeader("{\"__metadata__\": \"pt\"}", 0).status(), kInvalid,
                       {kLabel, "__metadata__ must be an object of strings"}));
}

TEST(TensorFileTest, RejectsMetadataValueNotString) {
  EXPECT_TRUE(HasError(ParseHeader("{\"__metadata__\": {\"epoch\": 3}}", 0).status(), kInvalid,
                       {"__metadata__", "'epoch'", "must be a string"}));
}

TEST(TensorFileTest, RejectsDuplicateTensorName) {
  const std::string header =
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  EXPECT_TRUE(HasError(ParseHeader(header, 4).status(), kInvalid,
                       {kLabel, "tensor 'w'", "appears more than once"}));
}

TEST(TensorFileTest, RejectsDuplicateEntryField) {
  const std::string header =
      "{\"w\":{\"dtype\":\"F16\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  EXPECT_TRUE(HasError(ParseHeader(header, 4).status(), kInvalid,
                       {"tensor 'w'", "key 'dtype' appears more than once"}));
}

TEST(TensorFileTest, RejectsDuplicateMetadataKey) {
  EXPECT_TRUE(HasError(ParseHeader("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0).status(),
                       kInvalid, {"__metadata__", "'k'", "more than once"}));
}

TEST(TensorFileTest, EscapesControlCharactersInNames) {
  const std::string header =
      "{\"a\\u0001b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  EXPECT_TRUE(HasError(ParseHeader(header, 1).status(), kInvalid, {"tensor 'a\\x01b'"}));
}

// ---- Read(): from a path, within limits, data read in chunks. ----

// Tensors of every dtype, each larger than Read()'s 64 KiB chunk and none a
// multiple of it, starting at offsets that are not multiples of it either.
SafetensorsBuilder LargeBuilder() {
  std::vector<uint16_t> halves;
  for (int i = 0; i < 40001; ++i) halves.push_back(static_cast<uint16_t>(i % 0x7c00));
  std::vector<float> floats;
  for (int i = 0; i < 20001; ++i) floats.push_back(static_cast<float>(i) * 0.5f - 7.0f);
  std::vector<double> doubles;
  for (int i = 0; i < 10001; ++i) doubles.push_back(static_cast<double>(i) * -0.25);
  std::vector<int32_t> i32;
  for (int i = 0; i < 20003; ++i) i32.push_back(i * -3);
  std::vector<int64_t> i64;
  for (int i = 0; i < 9001; ++i) i64.push_back(int64_t{i} * 1000000000000);
  return SafetensorsBuilder()
      .Add("a_f16", "F16", {40001}, U16Bytes(halves))
      .Add("b_bf16", "BF16", {40001}, U16Bytes(halves))
      .AddF32("c_f32", {3, 6667}, floats)
      .Add("d_f64", "F64", {10001}, F64Bytes(doubles))
      .Add("e_i32", "I32", {20003}, I32Bytes(i32))
      .Add("f_i64", "I64", {9001}, I64Bytes(i64));
}

TEST(TensorFileTest, ReadGivesTheSameValuesAsParseAcrossChunks) {
  test_util::ScratchDir dir;
  const std::string bytes = LargeBuilder().Build();
  dir.Write("w.safetensors", bytes);
  absl::StatusOr<TensorFile> read = TensorFile::Read(dir.File("w.safetensors"));
  absl::StatusOr<TensorFile> parsed = ParseBytes(bytes);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(read->tensors().size(), 6u);
  for (const char* name : {"a_f16", "b_bf16", "c_f32", "d_f64"}) {
    const std::vector<float> values = Floats(read, name);
    EXPECT_EQ(values.size(), read->tensors().at(name).num_elements()) << name;
    EXPECT_EQ(values, Floats(parsed, name)) << name;
  }
  EXPECT_EQ(Floats(read, "c_f32")[20000], 20000 * 0.5f - 7.0f);
  EXPECT_EQ(Floats(read, "d_f64")[10000], -2500.0f);
  for (const char* name : {"e_i32", "f_i64"}) {
    absl::StatusOr<std::vector<int64_t>> values = read->GetInt(name);
    ASSERT_TRUE(values.ok()) << values.status();
    EXPECT_EQ(*values, *parsed->GetInt(name)) << name;
  }
  EXPECT_EQ(read->GetInt("e_i32")->back(), -60006);
  EXPECT_EQ(read->GetInt("f_i64")->back(), int64_t{9000} * 1000000000000);
  // A copy shares the open file and reads the same.
  const TensorFile copy = *read;
  EXPECT_EQ(Floats(copy, "a_f16"), Floats(parsed, "a_f16"));
}

TEST(TensorFileTest, ReadOfFileThatShrankGivesDataLoss) {
  test_util::ScratchDir dir;
  dir.Write("w.safetensors", LargeBuilder().Build());
  absl::StatusOr<TensorFile> file = TensorFile::Read(dir.File("w.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(::truncate(dir.File("w.safetensors").c_str(), 1000), 0);
  EXPECT_TRUE(HasError(file->GetFloat("c_f32").status(), absl::StatusCode::kDataLoss,
                       {dir.File("w.safetensors"),
                        "nothing to read at byte 160436 although the file had 472468 bytes"}));
}

TEST(TensorFileTest, ReadAndParseApplyTheLimits) {
  test_util::ScratchDir dir;
  const std::string bytes = SafetensorsBuilder()
                                .AddMetadata("format", "pt")
                                .AddF32("a", {2}, {1, 2})
                                .AddF32("b", {1}, {3})
                                .Build();
  dir.Write("w.safetensors", bytes);
  const std::string path = dir.File("w.safetensors");
  const uint64_t header_size = bytes.size() - 8 - 12;
  struct Case {
    ModelFileLimits limits;
    std::string error;  // empty: loads
  };
  std::vector<Case> cases(6);
  cases[0].limits.max_weights_file_bytes = bytes.size();
  cases[1].limits.max_weights_file_bytes = bytes.size() - 1;
  cases[1].error =
      absl::StrCat("file is ", bytes.size(), " bytes, more than the limit of ", bytes.size() - 1);
  cases[2].limits.max_header_bytes = header_size;
  cases[3].limits.max_header_bytes = header_size - 1;
  cases[3].error = absl::StrCat("header length ", header_size, " exceeds the limit of ",
                                header_size - 1, " bytes");
  cases[4].limits.max_tensors = 2;  // __metadata__ is not a tensor
  cases[5].limits.max_tensors = 1;
  cases[5].error = "header lists 2 tensors, more than the limit of 1";
  for (const Case& c : cases) {
    const absl::Status read = TensorFile::Read(path, c.limits).status();
    const absl::Status parsed = TensorFile::Parse(bytes, kLabel, c.limits).status();
    if (c.error.empty()) {
      EXPECT_TRUE(read.ok()) << read;
      EXPECT_TRUE(parsed.ok()) << parsed;
    } else {
      EXPECT_TRUE(HasError(read, kInvalid, {path + ": " + c.error}));
      EXPECT_TRUE(HasError(parsed, kInvalid, {std::string(kLabel) + ": " + c.error}));
    }
  }
}

TEST(TensorFileTest, ReadRefusesWhatIsNotARegularFile) {
  test_util::ScratchDir dir;
  dir.MakeFifo("pipe");
  dir.Symlink("/dev/zero", "zero");
  test_util::FifoGuard guard(dir.File("pipe"), std::chrono::seconds(10));
  const absl::Status fifo = TensorFile::Read(dir.File("pipe")).status();
  guard.Release();
  EXPECT_FALSE(guard.rescued());
  EXPECT_TRUE(HasError(fifo, kInvalid, {dir.File("pipe") + ": is a FIFO (named pipe)"}));
  EXPECT_TRUE(HasError(TensorFile::Read(dir.File("zero")).status(), kInvalid,
                       {dir.File("zero") + ": is a character device"}));
}

// ---- Robustness sweeps: only statuses, never a crash or an out-of-bounds read. ----

// Reads every tensor of a file that parsed, as both kinds.
void ReadEverything(const TensorFile& file) {
  for (const auto& [name, info] : file.tensors()) {
    absl::StatusOr<FloatTensor> floats = file.GetFloat(name);
    absl::StatusOr<std::vector<int64_t>> ints = file.GetInt(name);
    EXPECT_NE(floats.ok(), ints.ok()) << name;
  }
}

TEST(TensorFileTest, EveryPrefixOfValidFileIsRefused) {
  const std::string bytes = MixedBuilder().Build();
  ASSERT_TRUE(ParseBytes(bytes).ok());
  for (size_t length = 0; length < bytes.size(); ++length) {
    absl::StatusOr<TensorFile> file = ParseBytes(bytes.substr(0, length));
    EXPECT_EQ(file.status().code(), kInvalid) << "prefix of " << length << " bytes";
    EXPECT_NE(file.status().message().find(kLabel), absl::string_view::npos);
  }
}

TEST(TensorFileTest, RandomByteFlipsGiveStatusesOnly) {
  const std::string bytes = MixedBuilder().Build();
  const size_t header_end = bytes.size() - MixedBuilder().Data().size();
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> byte_value(0, 255);
  std::uniform_int_distribution<int> flips(1, 3);
  int parsed = 0;
  for (int trial = 0; trial < 600; ++trial) {
    std::string mutated = bytes;
    // Most flips land in the length prefix and the JSON header, where parsing
    // decisions are made; the rest anywhere.
    const size_t limit = trial % 4 == 0 ? mutated.size() : header_end;
    std::uniform_int_distribution<size_t> position(0, limit - 1);
    for (int i = flips(rng); i > 0; --i) {
      mutated[position(rng)] = static_cast<char>(byte_value(rng));
    }
    absl::StatusOr<TensorFile> file = ParseBytes(mutated);
    if (file.ok()) {
      ++parsed;
      ReadEverything(*file);
    } else {
      EXPECT_EQ(file.status().code(), kInvalid) << file.status();
    }
  }
  // Flips inside tensor data keep the file valid, so some must parse.
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace attnserve::engine
