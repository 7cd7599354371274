// Training gradients checked against an independent reference on the CPU the
// test runs on: every random architecture's logits and parameter gradients,
// computed in float32 in the layout CPU training uses (channels-last,
// worker/trainer.cc), must match the same network run in float64.
// Double-precision convolutions do not go through oneDNN's vectorised float
// kernels, so a wrong kernel on one instruction set shows up here.
//
// Why only channels-last: in the default NCHW layout LibTorch 1.13's oneDNN
// AVX2 kernels give gradients off by up to 6 % on some networks (random
// architecture 17 of the 32x32x3 case below, with ONEDNN_MAX_CPU_ISA=AVX2;
// right with oneDNN switched off, and under the AVX-512, AVX and SSE4.1
// caps), which is why the trainer never runs NCHW on a CPU.
//
// CTest runs this binary once per oneDNN ISA cap (ONEDNN_MAX_CPU_ISA, see
// tests/worker/CMakeLists.txt), so a machine with AVX-512 also exercises the
// AVX2, AVX and SSE4.1 code paths that other machines take.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/proto_io/proto_file.h"
#include "common/search_space/random_architecture.h"
#include "gtest/gtest.h"
#include "worker/model.h"

namespace unas::worker {
namespace {

const DataShape kMnist{28, 28, 1, 10};
const DataShape kCifar{32, 32, 3, 10};
constexpr int kArchitecturesPerShape = 40;

struct Pass {
  std::vector<std::string> names;     // "logits", then parameter names
  std::vector<torch::Tensor> values;  // float64 copies, NCHW
};

// One forward and backward pass in training mode (batch statistics, as in
// training), loss = sum(logits^2).
Pass Run(UnasNet& net, const torch::Tensor& input) {
  for (torch::Tensor& p : net->parameters()) p.mutable_grad().reset();
  torch::Tensor logits = net->forward(input);
  logits.pow(2).sum().backward();
  Pass pass;
  pass.names.push_back("logits");
  pass.values.push_back(logits.detach().to(torch::kDouble).contiguous());
  for (const auto& p : net->named_parameters()) {
    pass.names.push_back(p.key());
    pass.values.push_back(p.value().grad().to(torch::kDouble).contiguous());
  }
  return pass;
}

// Float32 against float64: sums in another order and in lower precision
// differ by ~1e-5 relative even in deep batch-normalised networks; a wrong
// kernel differs by whole percents.
constexpr double kRelativeTolerance = 1e-3;

double Error(const torch::Tensor& value, const torch::Tensor& reference) {
  return (value - reference).abs().max().item<double>() /
         (1.0 + reference.abs().max().item<double>());
}

void CheckShape(const DataShape& data, int seed_base) {
  at::set_num_threads(1);
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  for (int i = 0; i < kArchitecturesPerShape; ++i) {
    Rng rng(seed_base + i);
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok()) << arch.status();
    // The same initial weights twice: float channels-last and the float64
    // reference (NCHW: float64 convolutions do not use oneDNN).
    auto build = [&] {
      torch::manual_seed(i);
      absl::StatusOr<UnasNet> net = BuildNetwork(*arch, data);
      EXPECT_TRUE(net.ok()) << net.status();
      return *net;
    };
    UnasNet nhwc = build();
    const torch::Tensor x = torch::randn({3, data.channels, data.height, data.width});
    nhwc->SetMemoryFormat(at::MemoryFormat::ChannelsLast);
    UnasNet reference = build();
    reference->to(torch::kDouble);
    const Pass expected = Run(reference, x.to(torch::kDouble));
    const Pass got_nhwc = Run(nhwc, x.contiguous(at::MemoryFormat::ChannelsLast));
    ASSERT_EQ(got_nhwc.values.size(), expected.values.size());
    for (size_t k = 0; k < expected.values.size(); ++k) {
      const double nhwc_error = Error(got_nhwc.values[k], expected.values[k]);
      EXPECT_LE(nhwc_error, kRelativeTolerance)
          << "channels-last, arch " << i << ", " << expected.names[k] << ":\n"
          << ToTextproto(*arch);
    }
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(GradientReference, RandomCnnsOn28x28x1MatchFloat64) { CheckShape(kMnist, 9000); }
TEST(GradientReference, RandomCnnsOn32x32x3MatchFloat64) { CheckShape(kCifar, 9000); }

}  // namespace
}  // namespace unas::worker
