// Heartbeat and status (GetJob) round trips of one job, in the coordinator
// core, while another job proposes random architectures from the widest CNN
// space as fast as a synthetic worker takes them (each proposal runs an exact
// peak-memory search). With --reads, instead while other callers read the
// store: exports of a candidate with 64 MiB of weights, Pareto scans over
// --points evaluations and results reused from the store
// (MeasureLatencyUnderReads). Target: p99 under 50 ms.
//
//   build/bench/heartbeat_latency [--seconds 20] [--reads [--points 2000]]
#include <cstdio>
#include <filesystem>

#include "CLI/CLI.hpp"
#include "common/job_spec/loader.h"
#include "common/proto_io/proto_file.h"
#include "tests/coordinator/latency_under_load.h"
#include "tests/util/test_dirs.h"

int main(int argc, char** argv) {
  CLI::App app{"Heartbeat latency while another job proposes from the widest space"};
  int seconds = 20;
  app.add_option("--seconds", seconds, "how long to measure");
  bool reads = false;
  int points = 2000;
  app.add_flag("--reads", reads, "measure under exports, Pareto scans and reuse instead");
  app.add_option("--points", points, "evaluations the Pareto scans read (--reads)");
  CLI11_PARSE(app, argc, argv);

  std::string dir = unas::testing::MakeTestDir("heartbeat_latency");
  absl::StatusOr<std::unique_ptr<unas::store::Store>> store =
      unas::store::Store::Open(dir + "/bench.db");
  if (!store.ok()) return 1;
  absl::StatusOr<std::unique_ptr<unas::coordinator::Coordinator>> coordinator =
      unas::coordinator::Coordinator::Create(*std::move(store));
  if (!coordinator.ok()) return 1;
  unas::v1::JobSpec small, wide;
  absl::Status parsed =
      unas::ParseProto(R"pb(
                         name: "small"
                         dataset { name: DATASET_NAME_FASHION_MNIST }
                         search_space { kind: SEARCH_SPACE_KIND_CNN }
                         algorithm {
                           rounds: 50
                           random_search {}
                         }
                         training {
                           optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.001 }
                           epochs: 1
                         }
                         bounds { error: 0.3 }
                         max_parallel_evaluations: 1
                       )pb",
                       unas::ProtoFormat::kTextproto, "small", &small);
  wide = small;
  wide.set_name("wide");
  wide.clear_max_parallel_evaluations();
  wide.mutable_algorithm()->set_rounds(1000000);
  if (!parsed.ok()) return 1;
  for (const unas::v1::JobSpec* spec : {&small, &wide}) {
    if (absl::StatusOr<unas::v1::JobSpec> checked = unas::PrepareJobSpec(*spec); !checked.ok()) {
      std::fprintf(stderr, "%s: %s\n", spec->name().c_str(),
                   std::string(checked.status().message()).c_str());
      return 1;
    }
  }
  unas::coordinator::testing::LatencyUnderLoad m;
  if (reads) {
    // A small space (many networks repeat) with many rounds.
    unas::v1::JobSpec big = small;
    big.set_name("big");
    big.clear_max_parallel_evaluations();
    big.mutable_algorithm()->set_rounds(1000000);
    big.mutable_search_space()->mutable_cnn()->set_max_conv_blocks(3);
    big.mutable_search_space()->mutable_cnn()->set_max_filters(16);
    m = unas::coordinator::testing::MeasureLatencyUnderReads(
        **coordinator, small, big, points, size_t{64} << 20, absl::Seconds(seconds));
    std::printf(
        "meanwhile: %d exports of 64 MiB, %d Pareto scans over %d+ evaluations, %d evaluations\n",
        m.exports, m.pareto_scans, points, m.proposals);
  } else {
    m = unas::coordinator::testing::MeasureLatencyUnderLoad(**coordinator, small, wide,
                                                            absl::Seconds(seconds));
    std::printf("proposals from the widest space meanwhile: %d (%.0f/s)\n", m.proposals,
                m.proposals / static_cast<double>(seconds));
  }
  using unas::coordinator::testing::Percentile;
  std::printf("heartbeat round trip: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%zu calls)\n",
              Percentile(m.heartbeat_ms, 0.5), Percentile(m.heartbeat_ms, 0.99),
              Percentile(m.heartbeat_ms, 1.0), m.heartbeat_ms.size());
  std::printf("status round trip:    p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              Percentile(m.status_ms, 0.5), Percentile(m.status_ms, 0.99),
              Percentile(m.status_ms, 1.0));
  (*coordinator)->Shutdown();
  coordinator->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
