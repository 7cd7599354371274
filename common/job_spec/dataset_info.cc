#include "common/job_spec/dataset_info.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace unas {
namespace {

// Default image sizes of the datasets whose size is configurable.
constexpr int kChars74kDefaultSize = 48;  // the μNAS configs' 48x48
constexpr int kVwwDefaultSize = 96;  // the usual MCU setting (the original's 192x220 is a quirk)

v1::TensorShape Shape(int height, int width, int channels) {
  v1::TensorShape shape;
  shape.set_height(height);
  shape.set_width(width);
  shape.set_channels(channels);
  return shape;
}

v1::TensorShape ImageShape(const v1::DatasetSpec& spec, int default_size) {
  int height = spec.has_image_size() ? spec.image_size().height() : default_size;
  int width = spec.has_image_size() ? spec.image_size().width() : default_size;
  return Shape(height, width, 3);
}

}  // namespace

std::string DatasetDisplayName(v1::DatasetName name) {
  return std::string(absl::StripPrefix(v1::DatasetName_Name(name), "DATASET_NAME_"));
}

absl::StatusOr<DatasetInfo> DescribeDataset(const v1::DatasetSpec& spec) {
  DatasetInfo info;
  switch (spec.name()) {
    case v1::DATASET_NAME_MNIST:
      info.input_shape = Shape(28, 28, 1);
      info.num_classes = 10;
      info.has_binary_variant = true;
      break;
    case v1::DATASET_NAME_FASHION_MNIST:
      info.input_shape = Shape(28, 28, 1);
      info.num_classes = 10;
      info.default_data_dir = std::string(kFashionMnistDebianDir);
      break;
    case v1::DATASET_NAME_CIFAR10:
      info.input_shape = Shape(32, 32, 3);
      info.num_classes = 10;
      info.has_binary_variant = true;
      break;
    case v1::DATASET_NAME_CHARS74K:
      info.input_shape = ImageShape(spec, kChars74kDefaultSize);
      info.num_classes = 62;
      info.has_binary_variant = true;
      break;
    case v1::DATASET_NAME_SPEECH_COMMANDS:
      // 98 frames of 30 ms every 10 ms over one second, 40 MFCCs (§9).
      info.input_shape = Shape(98, 40, 1);
      info.num_classes = 12;
      break;
    case v1::DATASET_NAME_VISUAL_WAKE_WORDS:
      info.input_shape = ImageShape(spec, kVwwDefaultSize);
      info.num_classes = 2;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("dataset.name: unknown dataset (", static_cast<int>(spec.name()), ")"));
  }
  if (spec.binary() && info.has_binary_variant) info.num_classes = 2;
  return info;
}

}  // namespace unas
