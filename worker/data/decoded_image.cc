#include "worker/data/decoded_image.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

#ifdef UNAS_HAVE_JPEG
#include <jpeglib.h>

#include <cstdio>  // jpeglib.h needs FILE and size_t first
#endif

namespace unas::worker {
namespace {

absl::StatusOr<std::vector<uint8_t>> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return data;
}

// Everything the libpng callbacks and the setjmp path touch lives here, on
// the heap side of a pointer: after a longjmp back into DecodePng only this
// struct is read, never a local that changed after setjmp.
struct PngState {
  const std::vector<uint8_t>* data = nullptr;
  size_t offset = 0;
  std::string error;
  RgbImage image;
  std::vector<png_bytep> rows;
};

void PngError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  state->error = message != nullptr ? message : "unknown libpng error";
  png_longjmp(png, 1);
}

void PngWarning(png_structp, png_const_charp) {}  // ancillary problems only

void PngRead(png_structp png, png_bytep out, png_size_t length) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (state->data->size() - state->offset < length) {
    png_error(png, "file ends before the image data does (truncated)");
  }
  std::memcpy(out, state->data->data() + state->offset, length);
  state->offset += length;
}

// Returns false with state->error set when libpng reports an error.
bool DecodePng(PngState* state) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, state, PngError, PngWarning);
  if (png == nullptr) {
    state->error = "out of memory";
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    state->error = "out of memory";
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, state, PngRead);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bit_depth == 16) png_set_strip_16(png);
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
    png_set_gray_to_rgb(png);
  }
  if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != size_t{width} * 3) {
    png_error(png, "unexpected row size after conversion to RGB");
  }
  state->image.height = static_cast<int>(height);
  state->image.width = static_cast<int>(width);
  state->image.pixels.resize(size_t{width} * height * 3);
  state->rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) {
    state->rows[y] = state->image.pixels.data() + size_t{y} * width * 3;
  }
  png_read_image(png, state->rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

#ifdef UNAS_HAVE_JPEG
struct JpegError {
  jpeg_error_mgr manager;  // first member: libjpeg passes a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* error = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, error->message);
  std::longjmp(error->jump, 1);
}

void JpegOutputMessage(j_common_ptr) {}  // warnings are counted, not printed

struct JpegState {
  const std::vector<uint8_t>* data = nullptr;
  jpeg_decompress_struct cinfo;
  JpegError error;
  RgbImage image;
  std::string message;
};

bool DecodeJpeg(JpegState* state) {
  jpeg_decompress_struct* cinfo = &state->cinfo;
  cinfo->err = jpeg_std_error(&state->error.manager);
  state->error.manager.error_exit = JpegErrorExit;
  state->error.manager.output_message = JpegOutputMessage;
  if (setjmp(state->error.jump)) {
    state->message = state->error.message;
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, state->data->data(), static_cast<unsigned long>(state->data->size()));
  jpeg_read_header(cinfo, TRUE);
  cinfo->out_color_space = JCS_RGB;
  jpeg_start_decompress(cinfo);
  if (cinfo->output_components != 3) {
    state->message = "cannot convert its colour space to RGB";
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  state->image.height = static_cast<int>(cinfo->output_height);
  state->image.width = static_cast<int>(cinfo->output_width);
  state->image.pixels.resize(size_t{cinfo->output_width} * cinfo->output_height * 3);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row =
        state->image.pixels.data() + size_t{cinfo->output_scanline} * cinfo->output_width * 3;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  // Corrupt or truncated data only raise warnings (the rest is filled in).
  const long warnings = state->error.manager.num_warnings;
  jpeg_destroy_decompress(cinfo);
  if (warnings > 0) {
    state->message = "corrupt or truncated JPEG data";
    return false;
  }
  return true;
}
#endif  // UNAS_HAVE_JPEG

}  // namespace

absl::StatusOr<RgbImage> ReadPngRgb(const std::string& path) {
  UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> data, ReadWholeFile(path));
  if (data.size() < 8 || png_sig_cmp(data.data(), 0, 8) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a PNG file"));
  }
  PngState state;
  state.data = &data;
  if (!DecodePng(&state)) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt PNG (", state.error, ")"));
  }
  if (state.image.height == 0 || state.image.width == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty PNG image"));
  }
  return std::move(state.image);
}

bool JpegSupported() {
#ifdef UNAS_HAVE_JPEG
  return true;
#else
  return false;
#endif
}

absl::StatusOr<RgbImage> ReadJpegRgb(const std::string& path) {
#ifdef UNAS_HAVE_JPEG
  UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> data, ReadWholeFile(path));
  if (data.size() < 3 || data[0] != 0xff || data[1] != 0xd8) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JPEG file"));
  }
  auto state = std::make_unique<JpegState>();
  state->data = &data;
  if (!DecodeJpeg(state.get())) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt JPEG (", state->message, ")"));
  }
  return std::move(state->image);
#else
  return absl::UnimplementedError(
      absl::StrCat(path, ": this worker was built without libjpeg; convert the images to PNG"));
#endif
}

absl::StatusOr<RgbImage> ReadImageRgb(const std::string& path) {
  const std::string lower = absl::AsciiStrToLower(path);
  auto ends_with = [&lower](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return lower.size() >= n && lower.compare(lower.size() - n, n, suffix) == 0;
  };
  if (ends_with(".png")) return ReadPngRgb(path);
  if (ends_with(".jpg") || ends_with(".jpeg")) return ReadJpegRgb(path);
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": not an image file this worker reads (.png, .jpg, .jpeg)"));
}

std::vector<uint8_t> ResizeBilinear(const uint8_t* in, int in_height, int in_width, int channels,
                                    int out_height, int out_width) {
  struct Tap {
    int lower, upper;
    float lerp;
  };
  // TensorFlow's compute_interpolation_weights with half-pixel centres.
  auto taps = [](int in_size, int out_size) {
    std::vector<Tap> t(out_size);
    const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
    for (int i = 0; i < out_size; ++i) {
      const float src = (static_cast<float>(i) + 0.5f) * scale - 0.5f;
      const float floor = std::floor(src);
      t[i].lower = std::max(static_cast<int>(floor), 0);
      t[i].upper = std::min(static_cast<int>(std::ceil(src)), in_size - 1);
      t[i].lerp = src - floor;
    }
    return t;
  };
  const std::vector<Tap> ys = taps(in_height, out_height);
  const std::vector<Tap> xs = taps(in_width, out_width);
  std::vector<uint8_t> out(size_t{static_cast<size_t>(out_height)} * out_width * channels);
  for (int y = 0; y < out_height; ++y) {
    const uint8_t* top_row = in + size_t{static_cast<size_t>(ys[y].lower)} * in_width * channels;
    const uint8_t* bottom_row = in + size_t{static_cast<size_t>(ys[y].upper)} * in_width * channels;
    for (int x = 0; x < out_width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const float tl = top_row[xs[x].lower * channels + c];
        const float tr = top_row[xs[x].upper * channels + c];
        const float bl = bottom_row[xs[x].lower * channels + c];
        const float br = bottom_row[xs[x].upper * channels + c];
        const float top = tl + (tr - tl) * xs[x].lerp;
        const float bottom = bl + (br - bl) * xs[x].lerp;
        const float value = top + (bottom - top) * ys[y].lerp;
        out[(size_t{static_cast<size_t>(y)} * out_width + x) * channels + c] =
            static_cast<uint8_t>(std::clamp(std::lround(value), 0L, 255L));
      }
    }
  }
  return out;
}

RgbImage CentralCrop875(const RgbImage& image) {
  // tf.image.central_crop: fraction_offset = int(1 / ((1 - 0.875) / 2)) = 16.
  const int top = image.height / 16;
  const int left = image.width / 16;
  RgbImage out;
  out.height = image.height - 2 * top;
  out.width = image.width - 2 * left;
  out.pixels.resize(size_t{static_cast<size_t>(out.height)} * out.width * 3);
  for (int y = 0; y < out.height; ++y) {
    std::memcpy(
        out.pixels.data() + size_t{static_cast<size_t>(y)} * out.width * 3,
        image.pixels.data() + (size_t{static_cast<size_t>(y + top)} * image.width + left) * 3,
        size_t{static_cast<size_t>(out.width)} * 3);
  }
  return out;
}

}  // namespace unas::worker
