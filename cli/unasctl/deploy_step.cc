#include "cli/unasctl/deploy_step.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/unasctl/export_command.h"
#include "common/status/status_macros.h"
#include "worker/data/dataset.h"

namespace unas::cli {
namespace {

// Runs a shell command; an error naming it unless it exits with 0.
absl::Status Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command));
  }
  return absl::OkStatus();
}

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

// Builds the C project in `c_dir` for the host and classifies the test
// images with it: the fraction it gets wrong.
absl::StatusOr<double> CompiledTestError(const std::string& c_dir, const v1::JobSpec& spec) {
  UNAS_ASSIGN_OR_RETURN(const worker::Dataset data,
                        worker::LoadDataset(spec.dataset(), spec.seed()));
  const worker::ImageSet& test = data.test;
  if (test.pixels.empty() || test.size() == 0) {
    return absl::FailedPreconditionError("the test set holds no raw images");
  }
  UNAS_RETURN_IF_ERROR(Shell(absl::StrCat("make -s -C ", Quoted(c_dir), " host > ",
                                          Quoted(c_dir + "/build.log"), " 2>&1")));
  const std::string images = c_dir + "/test_images.bin";
  const std::string classes = c_dir + "/test_classes.bin";
  {
    std::ofstream out(images, std::ios::binary);
    out.write(reinterpret_cast<const char*>(test.pixels.data()),
              static_cast<std::streamsize>(test.pixels.size()));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", images));
  }
  UNAS_RETURN_IF_ERROR(Shell(absl::StrCat("cd ", Quoted(c_dir), " && ./unas_run classify < ",
                                          "test_images.bin > test_classes.bin")));
  std::ifstream in(classes, std::ios::binary);
  const std::vector<char> predicted((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
  std::filesystem::remove(images);
  std::filesystem::remove(classes);
  if (static_cast<int64_t>(predicted.size()) != test.size()) {
    return absl::InternalError("unas_run classified a different number of images");
  }
  int64_t wrong = 0;
  for (int64_t i = 0; i < test.size(); ++i) wrong += predicted[i] != test.labels[i] ? 1 : 0;
  return static_cast<double>(wrong) / static_cast<double>(test.size());
}

}  // namespace

absl::Status ExportDeployable(CoordinatorClient& client, int64_t job_id, const v1::JobSpec& spec,
                              const std::string& exports_dir, std::ostream& out) {
  UNAS_ASSIGN_OR_RETURN(const std::vector<v1::Candidate> front, client.FeasibleParetoFront(job_id));
  if (front.empty()) {
    out << "\nno feasible candidate: nothing to deploy\n";
    return absl::OkStatus();
  }
  // The front is sorted by error: the first is the most accurate.
  std::string best_dir;
  codegen::CProjectInfo best_info;
  double stored_error = 0;
  for (const v1::Candidate& c : front) {
    UNAS_ASSIGN_OR_RETURN(const v1::ExportCandidateResponse r,
                          client.Export(job_id, c.candidate_id()));
    const std::string dir = absl::StrCat(exports_dir, "/candidate-", c.candidate_id());
    std::ostringstream quiet;
    codegen::CProjectInfo info;
    UNAS_RETURN_IF_ERROR(WriteCandidateExport(r, dir, "all", quiet, quiet, &info));
    if (!best_dir.empty() || !std::filesystem::exists(dir + "/c/unas_model.c")) continue;
    best_info = info;
    best_dir = dir;
    stored_error = r.candidate().evaluation().int8_test_error();
  }
  out << "\nexports of the " << front.size() << " Pareto candidates: " << exports_dir << "\n";
  if (best_dir.empty()) {
    out << "no Pareto candidate has a stored int8 model: nothing to compile\n";
    return absl::OkStatus();
  }
  std::string error_text = "not measured (real-valued inputs)";
  if (best_info.raw_image_input) {
    absl::StatusOr<double> error = CompiledTestError(best_dir + "/c", spec);
    if (!error.ok()) return error.status();
    error_text = absl::StrFormat("%.4f (stored %.4f)", *error, stored_error);
  }
  out << "deployable: " << best_dir << "/c: int8 test error of the compiled C " << error_text
      << ", arena " << best_info.arena_bytes << " B (predicted peak memory with the input "
      << best_info.pmu_with_input_bytes << " B), flash " << best_info.flash_bytes << " B\n";
  return absl::OkStatus();
}

}  // namespace unas::cli
