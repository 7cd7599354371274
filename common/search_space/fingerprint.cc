#include "common/search_space/fingerprint.h"

#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace unas {
namespace {

void AppendU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

v1::Architecture CanonicalArchitecture(const v1::Architecture& arch) {
  v1::Architecture canonical = arch;
  canonical.DiscardUnknownFields();
  if (!canonical.has_cnn()) return canonical;
  for (v1::ConvBlock& block : *canonical.mutable_cnn()->mutable_conv_blocks()) {
    for (v1::ConvLayer& layer : *block.mutable_layers()) {
      if (layer.type() == v1::CONV_LAYER_TYPE_POINTWISE) {
        layer.clear_kernel_size();
        layer.clear_stride2();
      } else if (layer.type() == v1::CONV_LAYER_TYPE_DEPTHWISE) {
        layer.clear_filters();
      }
    }
    if (block.is_branch() && block.layers_size() > 0) {
      block.mutable_layers(block.layers_size() - 1)->clear_filters();
    }
  }
  return canonical;
}

std::string CanonicalBytes(const v1::Architecture& arch, const DataShape& data) {
  std::string encoded;
  {
    google::protobuf::io::StringOutputStream stream(&encoded);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    CanonicalArchitecture(arch).SerializeToCodedStream(&coded);
  }
  std::string out = "unas-fp-1";
  AppendU32(out, static_cast<uint32_t>(encoded.size()));
  out += encoded;
  AppendU32(out, static_cast<uint32_t>(data.height));
  AppendU32(out, static_cast<uint32_t>(data.width));
  AppendU32(out, static_cast<uint32_t>(data.channels));
  AppendU32(out, static_cast<uint32_t>(data.num_classes));
  return out;
}

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;  // FNV prime
  }
  return hash;
}

uint64_t Fingerprint(const v1::Architecture& arch, const DataShape& data) {
  return Fnv1a64(CanonicalBytes(arch, data));
}

std::string FingerprintHex(uint64_t fingerprint) { return absl::StrFormat("%016x", fingerprint); }

}  // namespace unas
