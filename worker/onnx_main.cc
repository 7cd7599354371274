// unas-onnx: the float ONNX model (model.onnx, codegen/onnx_float.h) of a
// trained candidate, from its architecture and LibTorch weights. `unasctl
// export` runs it (unasctl itself links no LibTorch):
//   unas-onnx --arch architecture.textproto --weights weights.pt
//             --input-shape H,W,C --classes K [--candidate candidate.json]
//             --out model.onnx
// --candidate supplies the pruned layer sizes of a pruning job's compacted
// weights (evaluation.pruning). This file includes no LibTorch header (the
// LibTorch half is FloatNetworkFromWeights, worker/train_candidate.h): it
// compiles in seconds.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "codegen/onnx_float.h"
#include "common/proto_io/proto_file.h"
#include "common/status/status_macros.h"
#include "unas/v1/job.pb.h"
#include "worker/train_candidate.h"

namespace unas::worker {
namespace {

absl::Status Run(const std::string& arch_path, const std::string& weights_path,
                 const std::string& shape_text, int classes, const std::string& candidate_path,
                 const std::string& out_path) {
  v1::Architecture arch;
  UNAS_RETURN_IF_ERROR(ReadProtoFile(arch_path, &arch));
  std::vector<int> shape;
  for (absl::string_view part : absl::StrSplit(shape_text, ',')) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v) || v < 1) {
      return absl::InvalidArgumentError(absl::StrCat("--input-shape: not H,W,C: ", shape_text));
    }
    shape.push_back(v);
  }
  if (shape.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat("--input-shape: not H,W,C: ", shape_text));
  }
  v1::Candidate candidate;
  const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning = nullptr;
  if (!candidate_path.empty()) {
    UNAS_RETURN_IF_ERROR(ReadProtoFile(candidate_path, &candidate));
    pruning = &candidate.evaluation().pruning();
  }
  UNAS_ASSIGN_OR_RETURN(const std::string weights, ReadTextFile(weights_path));
  if (weights.empty()) return absl::InvalidArgumentError(absl::StrCat(weights_path, ": empty"));
  absl::StatusOr<int8::FloatNetwork> net = FloatNetworkFromWeights(
      arch, DataShape{shape[0], shape[1], shape[2], classes}, weights, pruning);
  if (!net.ok()) {
    return absl::Status(net.status().code(),
                        absl::StrCat(weights_path, ": ", net.status().message()));
  }
  UNAS_ASSIGN_OR_RETURN(const std::string onnx, codegen::FloatOnnxModel(*net));
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out.write(onnx.data(), static_cast<std::streamsize>(onnx.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat(out_path, ": write failed"));
  return absl::OkStatus();
}

}  // namespace
}  // namespace unas::worker

int main(int argc, char** argv) {
  CLI::App app{"unas-onnx: the float ONNX model of a trained candidate"};
  std::string arch, weights, shape, candidate, out;
  int classes = 0;
  app.add_option("--arch", arch, "architecture (textproto or JSON)")->required();
  app.add_option("--weights", weights, "trained weights (LibTorch archive)")->required();
  app.add_option("--input-shape", shape, "H,W,C of the input")->required();
  app.add_option("--classes", classes, "number of classes")->required()->check(CLI::PositiveNumber);
  app.add_option("--candidate", candidate, "candidate.json (pruned layer sizes)");
  app.add_option("--out", out, "model.onnx to write")->required();
  CLI11_PARSE(app, argc, argv);
  const absl::Status status = unas::worker::Run(arch, weights, shape, classes, candidate, out);
  if (!status.ok()) {
    std::cerr << "unas-onnx: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
