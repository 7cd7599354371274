// Canonical form and identity of a candidate network: a canonical byte
// serialisation and a stable 64-bit fingerprint of (architecture, input
// shape, class count), so the coordinator can recognise a network it has
// already evaluated. docs/search_space.md ("Identity") specifies the bytes.
#ifndef UNAS_COMMON_SEARCH_SPACE_FINGERPRINT_H_
#define UNAS_COMMON_SEARCH_SPACE_FINGERPRINT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"

namespace unas {

// A copy with every value that does not change the built network reset:
// kernel_size and stride2 of 1x1 layers, filters of depthwise layers, filters
// of a branch block's last (non-depthwise) layer (the build replaces them),
// unknown fields. Two architectures describe the same network iff their
// canonical forms are equal. Not meant to be validated or stored.
v1::Architecture CanonicalArchitecture(const v1::Architecture& arch);

// "unas-fp-1", then the deterministic protobuf encoding of the canonical
// architecture (length-prefixed), then height, width, channels and classes,
// each as 4 little-endian bytes.
std::string CanonicalBytes(const v1::Architecture& arch, const DataShape& data);

// FNV-1a (64 bit) of CanonicalBytes: the same value on every machine, build
// and run.
uint64_t Fingerprint(const v1::Architecture& arch, const DataShape& data);

// 16 lower-case hex digits.
std::string FingerprintHex(uint64_t fingerprint);

uint64_t Fnv1a64(absl::string_view bytes);

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_FINGERPRINT_H_
