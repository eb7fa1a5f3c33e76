// V2 datatypes: see datatype.h.
#include "server/kserve/datatype.h"

namespace attnserve::server {
namespace {

struct TypeRow {
  DataType type;
  const char* name;
};

constexpr TypeRow kTypes[] = {
    {DataType::kBool, "BOOL"},     {DataType::kUint8, "UINT8"}, {DataType::kUint16, "UINT16"},
    {DataType::kUint32, "UINT32"}, {DataType::kUint64, "UINT64"}, {DataType::kInt8, "INT8"},
    {DataType::kInt16, "INT16"},   {DataType::kInt32, "INT32"}, {DataType::kInt64, "INT64"},
    {DataType::kFp16, "FP16"},     {DataType::kFp32, "FP32"},   {DataType::kFp64, "FP64"},
    {DataType::kBytes, "BYTES"},   {DataType::kBf16, "BF16"},
};

}  // namespace

std::optional<DataType> ParseDataType(absl::string_view name) {
  for (const TypeRow& row : kTypes) {
    if (name == row.name) return row.type;
  }
  return std::nullopt;
}

const char* DataTypeName(DataType type) {
  for (const TypeRow& row : kTypes) {
    if (row.type == type) return row.name;
  }
  return "UNKNOWN";
}

}  // namespace attnserve::server
