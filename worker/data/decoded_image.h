// Decoding of the image files some datasets ship (PNG, and JPEG where the
// build found libjpeg) to 8-bit RGB, plus the resizing every such dataset
// applies (docs/unas_original.md §9).
#ifndef UNAS_WORKER_DATA_DECODED_IMAGE_H_
#define UNAS_WORKER_DATA_DECODED_IMAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace unas::worker {

// 8-bit RGB, row-major, 3 bytes per pixel.
struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;
};

// Decodes a PNG file to RGB: grey is replicated into the three channels,
// palettes are expanded, 16-bit samples are reduced to 8 bits and an alpha
// channel is dropped (as TensorFlow's decode_png with channels=3 does).
// Errors (missing file, not a PNG, corrupt or truncated data) name the file.
absl::StatusOr<RgbImage> ReadPngRgb(const std::string& path);

// Whether this build decodes JPEG files (libjpeg was found at configure time).
bool JpegSupported();

// Decodes a baseline or progressive JPEG file to RGB (grey replicated).
// UNIMPLEMENTED when the build has no libjpeg; other errors name the file.
absl::StatusOr<RgbImage> ReadJpegRgb(const std::string& path);

// ReadPngRgb or ReadJpegRgb by the file's extension (.png, .jpg, .jpeg; any
// case); an unknown extension is an error naming the file.
absl::StatusOr<RgbImage> ReadImageRgb(const std::string& path);

// Bilinear resize of an 8-bit image with `channels` interleaved channels, as
// TensorFlow 2's tf.image.resize (half-pixel centres, no antialiasing):
// source coordinate (y + 0.5) * in / out - 0.5, neighbours clamped to the
// image. The float result is rounded to the nearest byte.
std::vector<uint8_t> ResizeBilinear(const uint8_t* in, int in_height, int in_width, int channels,
                                    int out_height, int out_width);

// The centre part of an image kept by tf.image.central_crop(image, 0.875):
// h // 16 rows (w // 16 columns) removed on each side.
RgbImage CentralCrop875(const RgbImage& image);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_DECODED_IMAGE_H_
