#include "worker/daemon/worker_loop.h"

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/grpc_status.h"
#include "spdlog/spdlog.h"
#include "unas/v1/worker_service.grpc.pb.h"

namespace unas::worker {
namespace {

// RESOURCE_EXHAUSTED is not among them: it means the message is over a
// limit, which the same message will be again.
bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::ABORTED || code == grpc::StatusCode::CANCELLED;
}

// Longest pause between two tries of a report.
constexpr absl::Duration kMaxReportBackoff = absl::Milliseconds(500);

// The coordinator keeps no more of a failure reason (its kMaxReasonBytes).
constexpr size_t kMaxReasonBytes = 1024;

std::string Truncated(std::string text) {
  if (text.size() > kMaxReasonBytes) {
    text.resize(kMaxReasonBytes - 3);
    text += "...";
  }
  return text;
}

std::chrono::system_clock::time_point Deadline(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d);
}

}  // namespace

struct WorkerLoop::Impl {
  WorkerOptions options;
  Evaluator* evaluator;
  std::unique_ptr<v1::WorkerService::Stub> stub;
  absl::Status setup_error;  // the channel's files could not be used
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable wake;  // Stop() wakes sleeping backoffs
  // Long-polls in flight; Stop() cancels them, so an idle worker exits at once
  // instead of after its acquire wait (Slurm sends SIGKILL 30 s after SIGTERM).
  std::set<grpc::ClientContext*> polls;
  // From the last registration; every call carries both (the secret is the
  // worker's proof of identity: worker ids are public).
  std::string worker_id;
  std::string worker_secret;
  int heartbeat_interval_seconds = 5;
  std::atomic<int>* reported = nullptr;
  std::atomic<int>* stopped = nullptr;

  // Sleeps `d` unless stopping; returns false when stopping.
  bool Sleep(absl::Duration d) {
    std::unique_lock<std::mutex> lock(mu);
    wake.wait_for(lock, absl::ToChronoMilliseconds(d), [&] { return stopping.load(); });
    return !stopping.load();
  }

  absl::Duration NextBackoff(absl::Duration current) const {
    return std::min(current * 2, options.max_backoff);
  }

  // Registers, retrying while the coordinator is unreachable.
  bool Register() {
    absl::Duration backoff = options.initial_backoff;
    while (!stopping.load()) {
      v1::RegisterWorkerRequest request;
      request.set_name(options.name);
      request.set_host(options.host);
      request.set_device(options.device);
      request.set_slots(options.slots);
      v1::RegisterWorkerResponse response;
      grpc::ClientContext context;
      context.set_deadline(Deadline(absl::Seconds(10)));
      grpc::Status status = stub->RegisterWorker(&context, request, &response);
      if (status.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        worker_id = response.worker_id();
        worker_secret = response.worker_secret();
        heartbeat_interval_seconds = std::max(1, response.heartbeat_interval_seconds());
        spdlog::info("registered as {} with {}", worker_id, options.coordinator);
        return true;
      }
      spdlog::warn("register with {}: {}; retrying", options.coordinator, status.error_message());
      if (!Sleep(backoff)) return false;
      backoff = NextBackoff(backoff);
    }
    return false;
  }

  // Sets the worker_id and worker_secret of a request to the coordinator.
  template <typename Request>
  void Identify(Request& request) {
    std::lock_guard<std::mutex> lock(mu);
    request.set_worker_id(worker_id);
    request.set_worker_secret(worker_secret);
  }

  // Long-polls for a task; nullopt on stop or when none came in time.
  std::optional<v1::Task> Acquire(absl::Duration& backoff) {
    v1::AcquireTaskRequest request;
    Identify(request);
    request.set_wait_seconds(options.acquire_wait_seconds);
    v1::AcquireTaskResponse response;
    grpc::ClientContext context;
    context.set_deadline(Deadline(absl::Seconds(options.acquire_wait_seconds + 10)));
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping.load()) return std::nullopt;
      polls.insert(&context);
    }
    grpc::Status status = stub->AcquireTask(&context, request, &response);
    {
      std::lock_guard<std::mutex> lock(mu);
      polls.erase(&context);
    }
    if (stopping.load() && status.error_code() == grpc::StatusCode::CANCELLED) {
      return std::nullopt;
    }
    if (status.ok()) {
      backoff = options.initial_backoff;
      if (response.has_task()) return response.task();
      return std::nullopt;
    }
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      // The coordinator does not know us (e.g. a new database), or our
      // secret is no longer the name's (it was registered again while we
      // held no lease). Without the secret: a slot still training keeps its
      // lease; registration waits until the name holds none.
      Register();
    } else {
      spdlog::warn("acquire: {}; retrying", status.error_message());
      Sleep(backoff);
      backoff = NextBackoff(backoff);
    }
    return std::nullopt;
  }

  // Reports until acknowledged; gives up only on answers that say retrying
  // cannot help (the report is invalid or the job is gone).
  // Returns the next task when the coordinator handed one out with the
  // acknowledgement.
  std::optional<v1::Task> Report(const v1::Task& task,
                                 const absl::StatusOr<v1::EvaluationResult>& result) {
    absl::Duration backoff = options.initial_backoff;
    // Set when the result itself cannot be delivered (over the message
    // limit): the task is failed with this reason instead.
    std::optional<absl::Status> undeliverable;
    while (true) {
      grpc::ClientContext context;
      context.set_deadline(Deadline(absl::Seconds(60)));
      grpc::Status status;
      if (result.ok() && !undeliverable) {
        v1::CompleteTaskRequest request;
        Identify(request);
        request.set_lease_id(task.lease_id());
        request.set_job_id(task.job_id());
        request.set_candidate_id(task.candidate_id());
        *request.mutable_result() = *result;
        request.set_acquire_next(!stopping.load() && !Exhausted());
        v1::CompleteTaskResponse response;
        status = stub->CompleteTask(&context, request, &response);
        if (status.ok()) {
          reported->fetch_add(1);
          if (!options.ack_log.empty()) {
            std::lock_guard<std::mutex> lock(mu);
            std::ofstream(options.ack_log, std::ios::app)
                << task.job_id() << " " << task.candidate_id() << "\n";
          }
          spdlog::info("job {} candidate {}: val error {:.4f}{}", task.job_id(),
                       task.candidate_id(), result->validation_error(),
                       response.accepted() ? "" : " (already reported)");
          if (response.has_next_task()) return response.next_task();
          return std::nullopt;
        }
        if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          undeliverable = absl::FailedPreconditionError(absl::StrCat(
              "the result (", result->ByteSizeLong(),
              " bytes serialised) was refused as too large: ", status.error_message()));
          spdlog::error("job {} candidate {}: {}", task.job_id(), task.candidate_id(),
                        std::string(undeliverable->message()));
          continue;  // fail the task at once
        }
      } else {
        const absl::Status failure = undeliverable ? *undeliverable : result.status();
        v1::FailTaskRequest request;
        Identify(request);
        request.set_lease_id(task.lease_id());
        request.set_job_id(task.job_id());
        request.set_candidate_id(task.candidate_id());
        request.set_reason(Truncated(failure.ToString()));
        absl::StatusCode code = failure.code();
        request.set_permanent(code == absl::StatusCode::kInvalidArgument ||
                              code == absl::StatusCode::kFailedPrecondition);
        // Shutting down before finishing: give the candidate back without
        // using up one of its attempts.
        request.set_released(stopping.load() && code == absl::StatusCode::kUnavailable);
        v1::FailTaskResponse response;
        status = stub->FailTask(&context, request, &response);
        if (status.ok()) return std::nullopt;
      }
      if (!Retryable(status.error_code())) {
        spdlog::error("job {} candidate {}: report refused: {}", task.job_id(), task.candidate_id(),
                      status.error_message());
        return std::nullopt;
      }
      // Keep the result while the coordinator is away; stop retrying only on
      // shutdown, where the lease will expire and the candidate re-run. The
      // retries stay frequent (at most kMaxReportBackoff apart): a restarted
      // coordinator is back within seconds, and the lease (heartbeated
      // meanwhile by RunTask) must not expire while the result waits.
      spdlog::warn("report: {}; retrying in {}", status.error_message(),
                   absl::FormatDuration(backoff));
      if (!Sleep(backoff)) return std::nullopt;
      backoff = std::min(NextBackoff(backoff), kMaxReportBackoff);
    }
  }

  bool Exhausted() const {
    return options.max_evaluations > 0 && reported->load() >= options.max_evaluations;
  }

  // Runs one task with a heartbeat thread beside it; returns the next task
  // if the coordinator handed one out with the acknowledgement.
  std::optional<v1::Task> RunTask(const v1::Task& task) {
    std::atomic<bool> withdraw{false};
    // Set when the coordinator's automated stopping rule stopped the
    // candidate: it has recorded the candidate as STOPPED from the curve it
    // was sent, so nothing more is reported for this lease.
    std::atomic<bool> stopped_by_rule{false};
    // Set once the evaluation has returned: from then on the report's answer,
    // not a heartbeat, says what became of the candidate. A heartbeat that
    // crosses an accepted report finds the lease already closed.
    std::atomic<bool> reporting{false};
    std::mutex progress_mu;
    std::optional<v1::EpochRecord> latest;
    // The learning curve so far, sent whole with every heartbeat.
    std::vector<v1::CurvePoint> curve;
    // Finished epochs: the coordinator ends a lease whose count stands still
    // for the job's progress_timeout_seconds (a hung training).
    int64_t steps = 0;
    std::mutex done_mu;
    std::condition_variable done_cv;
    bool done = false;
    // A curve point arrived since the last heartbeat: send one now, not at
    // the next tick, so that a hopeless candidate is stopped without delay.
    bool curve_pending = false;
    // What the evaluator polls: set by the watcher below, or at once by the
    // heartbeat thread when the automated stopping rule stopped the candidate.
    std::atomic<bool> stop{false};
    std::thread heartbeat([&] {
      while (true) {
        {
          std::unique_lock<std::mutex> lock(done_mu);
          done_cv.wait_for(lock, std::chrono::seconds(heartbeat_interval_seconds),
                           [&] { return done || curve_pending; });
          if (done) return;
          curve_pending = false;
        }
        if (stopping.load()) withdraw = true;
        v1::HeartbeatRequest request;
        Identify(request);
        request.set_lease_id(task.lease_id());
        {
          std::lock_guard<std::mutex> lock(progress_mu);
          if (latest) *request.mutable_progress() = *latest;
          request.set_progress_steps(steps);
          request.mutable_curve()->Add(curve.begin(), curve.end());
        }
        v1::HeartbeatResponse response;
        grpc::ClientContext context;
        context.set_deadline(Deadline(absl::Seconds(10)));
        grpc::Status status = stub->Heartbeat(&context, request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
          // The coordinator refused what this heartbeat carried (its curve):
          // the lease is not renewed by it, and saying so is all we can do.
          spdlog::warn("job {} candidate {}: heartbeat refused: {}", task.job_id(),
                       task.candidate_id(), status.error_message());
        }
        if (!status.ok() || response.keep_going()) continue;
        if (response.stopped()) {
          // Final whatever the evaluation is doing: the coordinator has
          // recorded the candidate as STOPPED and will take no report, nor
          // any more heartbeats for this lease.
          if (!stopped_by_rule.exchange(true)) {
            spdlog::info(
                "job {} candidate {}: stopped by the coordinator's automated stopping rule: {}",
                task.job_id(), task.candidate_id(), response.reason());
          }
          withdraw = true;
          stop = true;
          return;
        } else if (!reporting.load()) {
          spdlog::info("job {} candidate {}: stopping: {}", task.job_id(), task.candidate_id(),
                       response.reason());
          withdraw = true;
        }
      }
    });
    std::thread watcher([&] {
      // Merges the two reasons to stop into the flag the evaluator polls.
      while (true) {
        {
          std::unique_lock<std::mutex> lock(done_mu);
          if (done_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) return;
        }
        if (withdraw.load() || stopping.load()) stop = true;
      }
    });
    spdlog::info("job {} candidate {} (attempt {}): evaluating", task.job_id(), task.candidate_id(),
                 task.attempt());
    EvaluationObservers observers;
    observers.epoch = [&](const v1::EpochRecord& record) {
      std::lock_guard<std::mutex> lock(progress_mu);
      latest = record;
      ++steps;
    };
    observers.curve = [&](const v1::CurvePoint& point) {
      {
        std::lock_guard<std::mutex> lock(progress_mu);
        curve.push_back(point);
      }
      {
        std::lock_guard<std::mutex> lock(done_mu);
        curve_pending = true;
      }
      done_cv.notify_all();
    };
    absl::StatusOr<v1::EvaluationResult> result = evaluator->Evaluate(task, observers, stop);
    reporting = true;
    // The heartbeats go on while the result is reported: a report retried
    // across a coordinator restart must not lose its lease meanwhile.
    auto finish = [&] {
      {
        std::lock_guard<std::mutex> lock(done_mu);
        done = true;
      }
      done_cv.notify_all();
      heartbeat.join();
      watcher.join();
    };
    if (stopped_by_rule.load()) {  // recorded as STOPPED: report nothing
      finish();
      stopped->fetch_add(1);
      return std::nullopt;
    }
    if (withdraw.load() && !stopping.load()) {  // no longer wanted
      finish();
      return std::nullopt;
    }
    std::optional<v1::Task> next;
    if (stopping.load() && (!result.ok() || stop.load())) {
      // Give the lease back so the candidate is re-run elsewhere at once.
      next = Report(task, absl::UnavailableError("worker stopped before finishing"));
    } else {
      next = Report(task, result);
    }
    finish();
    return next;
  }

  void SlotLoop(int slot) {
    absl::Duration backoff = options.initial_backoff;
    std::optional<v1::Task> next;
    while (!stopping.load()) {
      if (Exhausted()) {
        stopping = true;
        wake.notify_all();
        break;
      }
      std::optional<v1::Task> task = next ? std::move(next) : Acquire(backoff);
      next.reset();
      if (task) next = RunTask(*task);
    }
    if (next) {
      // Stopped while holding a piggy-backed task: give it back.
      Report(*next, absl::UnavailableError("worker stopped before starting"));
    }
    spdlog::debug("slot {} stopped", slot);
  }
};

WorkerLoop::WorkerLoop(WorkerOptions options, Evaluator* evaluator)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->evaluator = evaluator;
  impl_->reported = &reported_;
  impl_->stopped = &stopped_;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(128 << 20);
  args.SetMaxSendMessageSize(128 << 20);
  // Reconnect within about a second of a coordinator restart: gRPC's own
  // reconnect back-off would otherwise grow to minutes, and its minimum
  // connect timeout is 20 s.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      rpc::MakeChannel(impl_->options.coordinator, impl_->options.security, args);
  if (!channel.ok()) {
    impl_->setup_error = channel.status();  // Run() reports it
    channel = grpc::CreateCustomChannel(impl_->options.coordinator,
                                        grpc::InsecureChannelCredentials(), args);
  }
  impl_->stub = v1::WorkerService::NewStub(*channel);
}

WorkerLoop::~WorkerLoop() = default;

void WorkerLoop::Stop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stopping = true;
  for (grpc::ClientContext* context : impl_->polls) context->TryCancel();
  impl_->wake.notify_all();
}

absl::Status WorkerLoop::Run() {
  if (!impl_->setup_error.ok()) return impl_->setup_error;
  if (impl_->options.name.empty()) return absl::InvalidArgumentError("worker name is required");
  if (impl_->options.slots < 1) return absl::InvalidArgumentError("slots must be >= 1");
  if (!impl_->Register()) return absl::OkStatus();  // stopped before registering
  std::vector<std::thread> slots;
  for (int i = 0; i < impl_->options.slots; ++i) {
    slots.emplace_back([this, i] { impl_->SlotLoop(i); });
  }
  for (std::thread& t : slots) t.join();
  return absl::OkStatus();
}

}  // namespace unas::worker
