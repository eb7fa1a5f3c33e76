// V2 datatypes: the tensor element types of the Open Inference Protocol
// ("BOOL", "UINT8" ... "FP64", "BYTES", "BF16") and their names.
// Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_KSERVE_DATATYPE_H_
#define ATTNSERVE_SERVER_KSERVE_DATATYPE_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace attnserve::server {

enum class DataType {
  kBool, kUint8, kUint16, kUint32, kUint64, kInt8, kInt16, kInt32, kInt64,
  kFp16, kFp32, kFp64, kBytes, kBf16
};

// nullopt for a name the protocol does not define (names are upper case).
std::optional<DataType> ParseDataType(absl::string_view name);
const char* DataTypeName(DataType type);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_DATATYPE_H_
