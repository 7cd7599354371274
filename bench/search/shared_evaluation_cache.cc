#include "bench/search/shared_evaluation_cache.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/search_space/fingerprint.h"
#include "coordinator/core/candidate_identity.h"

namespace unas::bench {
namespace {

std::optional<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Written whole under a temporary name and renamed, so a reader in the other
// process sees either nothing or all of it.
absl::Status WriteWhole(const std::string& path, const std::string& bytes) {
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out.flush()) return absl::InternalError(absl::StrCat(temporary, ": cannot be written"));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return absl::InternalError(absl::StrCat(path, ": ", error.message()));
  return absl::OkStatus();
}

// A lock file holds its owner's pid; one whose owner is gone (a killed run)
// is stale and may be taken over.
bool TryLock(const std::string& path) {
  const int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd >= 0) {
    const std::string pid = std::to_string(getpid());
    const bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
    close(fd);
    return written;
  }
  int owner = 0;
  std::optional<std::string> content = ReadWhole(path);
  if (content && absl::SimpleAtoi(*content, &owner) && owner > 0 && kill(owner, 0) != 0 &&
      errno == ESRCH) {
    std::filesystem::remove(path);
  }
  return false;
}

}  // namespace

SharedEvaluationCache::SharedEvaluationCache(worker::Evaluator& inner, std::string directory,
                                             uint64_t data_seed)
    : inner_(inner), directory_(std::move(directory)), data_seed_(data_seed) {
  std::filesystem::create_directories(directory_);
}

absl::StatusOr<v1::EvaluationResult> SharedEvaluationCache::Evaluate(
    const v1::Task& task, const worker::EvaluationObservers& observers,
    const std::atomic<bool>& stop) {
  const DataShape shape{task.input_shape().height(), task.input_shape().width(),
                        task.input_shape().channels(), task.num_classes()};
  const uint64_t identity = coordinator::CandidateFingerprint(
      task.architecture(), shape,
      task.has_sparsity() ? std::optional<double>(task.sparsity()) : std::nullopt);
  const std::string base = absl::StrCat(directory_, "/", FingerprintHex(identity));
  const std::string result_path = base + ".pb", failure_path = base + ".failed",
                    lock_path = base + ".lock";
  while (true) {
    if (std::optional<std::string> bytes = ReadWhole(result_path)) {
      v1::EvaluationResult result;
      if (!result.ParseFromString(*bytes)) {
        return absl::DataLossError(absl::StrCat(result_path, ": not an EvaluationResult"));
      }
      ++reused_;
      return result;
    }
    if (std::optional<std::string> reason = ReadWhole(failure_path)) {
      ++reused_;
      return absl::InvalidArgumentError(*reason);
    }
    if (TryLock(lock_path)) break;
    // Another process trains this candidate: wait for its result.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  v1::Task fixed = task;
  fixed.set_job_seed(data_seed_);
  fixed.set_seed(identity);
  absl::StatusOr<v1::EvaluationResult> result = inner_.Evaluate(fixed, observers, stop);
  ++trained_;
  absl::Status stored = absl::OkStatus();
  if (result.ok()) {
    v1::EvaluationResult kept = *result;
    kept.clear_trained_weights();  // the comparison needs errors, not megabytes of weights
    kept.clear_quantized_model();
    stored = WriteWhole(result_path, kept.SerializeAsString());
  } else if (absl::IsInvalidArgument(result.status()) ||
             absl::IsFailedPrecondition(result.status())) {
    // The candidate itself cannot be trained: so it is for every run.
    stored = WriteWhole(failure_path, std::string(result.status().message()));
  }
  std::filesystem::remove(lock_path);
  if (!stored.ok()) return stored;
  return result;
}

}  // namespace unas::bench
