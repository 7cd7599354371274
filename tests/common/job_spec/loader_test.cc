// Reading spec files: formats, parse errors that point at the line, base
// specs and their override semantics, and lossless textproto/JSON round trips.
#include "common/job_spec/loader.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "common/proto_io/proto_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace unas {
namespace {

using ::testing::HasSubstr;

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("loader_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::filesystem::path path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
};

constexpr char kBase[] = R"pb(
  name: "base"
  dataset { name: DATASET_NAME_FASHION_MNIST }
  search_space { kind: SEARCH_SPACE_KIND_CNN dropout: 0.15 }
  algorithm {
    aging_evolution { population_size: 10 sample_size: 5 }
    rounds: 20
  }
  training {
    optimizer { kind: OPTIMIZER_KIND_SGDW learning_rate: 0.01 momentum: 0.9 }
    lr_schedule {
      piecewise_constant {
        boundaries: [ 5, 8 ]
        values: [ 0.01, 0.005, 0.001 ]
      }
    }
    epochs: 10
  }
  bounds { error: 0.2 peak_memory_bytes: 1000 macs: 50000 }
)pb";

TEST_F(LoaderTest, LoadsTextprotoAndJson) {
  std::string text_path = Write("a.textproto", kBase);
  absl::StatusOr<v1::JobSpec> from_text = LoadJobSpecFile(text_path);
  ASSERT_TRUE(from_text.ok()) << from_text.status();

  std::string json_path = Write("a.json", ToJson(*from_text));
  absl::StatusOr<v1::JobSpec> from_json = LoadJobSpecFile(json_path);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_text, *from_json));
}

TEST_F(LoaderTest, UnknownFieldInTextprotoNamesFileLineAndField) {
  std::string path = Write("bad.textproto", "name: \"x\"\ntraining {\n  epocs: 3\n}\n");
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(path);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("bad.textproto:3:"));
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("epocs"));
}

TEST_F(LoaderTest, UnknownFieldInJsonIsAnError) {
  std::string path = Write("bad.json", R"({"name": "x", "trainng": {"epochs": 3}})");
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(path);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("bad.json"));
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("trainng"));
}

TEST_F(LoaderTest, MissingFileAndUnknownExtension) {
  absl::StatusOr<v1::JobSpec> missing = LoadJobSpecFile((dir_ / "nope.textproto").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope.textproto"));
  absl::StatusOr<v1::JobSpec> yaml = LoadJobSpecFile(Write("spec.yaml", "name: x"));
  EXPECT_THAT(std::string(yaml.status().message()), HasSubstr("unknown file type '.yaml'"));
}

TEST_F(LoaderTest, ValidationErrorsNameTheFile) {
  std::string text = kBase;
  text.replace(text.find("epochs: 10"), 10, "epochs: 0");
  std::string path = Write("invalid.textproto", text);
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(path);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("invalid.textproto"));
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("training.epochs (0) must be > 0"));
}

TEST_F(LoaderTest, VariantOverridesItsBase) {
  Write("specs/base.textproto", kBase);
  std::string path = Write("specs/variant.textproto", R"pb(
    base: "base.textproto"
    name: "variant"
    search_space { dropout: 0 }  # explicit zero replaces 0.15
    training {
      optimizer { momentum: 0 kind: OPTIMIZER_KIND_ADAMW }
      lr_schedule {
        piecewise_constant {
          boundaries: [ 3 ]
          values: [ 0.1, 0.2 ]
        }
      }
      pruning { start_epoch: 2 finish_epoch: 4 }
    }
    bounds { error: 0.1 }
  )pb");
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "variant");
  EXPECT_TRUE(spec->base().empty());
  EXPECT_DOUBLE_EQ(spec->search_space().dropout(), 0);
  EXPECT_EQ(spec->training().optimizer().kind(), v1::OPTIMIZER_KIND_ADAMW);
  EXPECT_DOUBLE_EQ(spec->training().optimizer().learning_rate(), 0.01);  // kept from base
  // Repeated fields replace, they are not appended.
  const v1::PiecewiseConstantSchedule& pc = spec->training().lr_schedule().piecewise_constant();
  ASSERT_EQ(pc.boundaries_size(), 1);
  EXPECT_EQ(pc.boundaries(0), 3);
  ASSERT_EQ(pc.values_size(), 2);
  EXPECT_DOUBLE_EQ(pc.values(1), 0.2);
  EXPECT_EQ(spec->training().pruning().finish_epoch(), 4);
  EXPECT_DOUBLE_EQ(spec->bounds().error(), 0.1);
  EXPECT_EQ(spec->bounds().peak_memory_bytes(), 1000);  // kept from base
  EXPECT_EQ(spec->algorithm().rounds(), 20);
}

TEST_F(LoaderTest, VariantCanSwitchOneofAndClearBaseFields) {
  Write("base.textproto", kBase);
  std::string path = Write("variant.textproto", R"pb(
    base: "base.textproto"
    clear_from_base: "bounds.macs"
    clear_from_base: "training.lr_schedule"
    algorithm { bayesian_optimization { starting_points: 4 } }
  )pb");
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->algorithm().has_bayesian_optimization());
  EXPECT_FALSE(spec->algorithm().has_aging_evolution());
  EXPECT_EQ(spec->algorithm().bayesian_optimization().starting_points(), 4);
  EXPECT_FALSE(spec->bounds().has_macs());
  EXPECT_EQ(spec->bounds().peak_memory_bytes(), 1000);
  EXPECT_FALSE(spec->training().has_lr_schedule());
  EXPECT_TRUE(spec->clear_from_base().empty());
}

TEST_F(LoaderTest, ChainsOfBasesResolveInOrder) {
  Write("a.textproto", kBase);
  Write("b.textproto", R"pb(base: "a.textproto"
                            name: "b"
                            training { epochs: 7 })pb");
  std::string path = Write("c.textproto", R"pb(base: "b.textproto"
                                               name: "c"
                                               training { batch_size: 32 })pb");
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "c");
  EXPECT_EQ(spec->training().epochs(), 7);
  EXPECT_EQ(spec->training().batch_size(), 32);
  EXPECT_DOUBLE_EQ(spec->search_space().dropout(), 0.15);
}

TEST_F(LoaderTest, BaseErrors) {
  std::string missing = Write("m.textproto", R"pb(base: "gone.textproto" name: "m")pb");
  absl::StatusOr<v1::JobSpec> spec = ReadJobSpecFile(missing);
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("base \"gone.textproto\""));

  Write("x.textproto", R"pb(base: "y.textproto")pb");
  std::string y = Write("y.textproto", R"pb(base: "x.textproto")pb");
  spec = ReadJobSpecFile(y);
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("specs include each other"));

  Write("ok.textproto", kBase);
  std::string bad_clear = Write("c.textproto", R"pb(base: "ok.textproto"
                                                    clear_from_base: "bounds.flops")pb");
  spec = ReadJobSpecFile(bad_clear);
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("clear_from_base[0] (\"bounds.flops\"): Bounds has no field 'flops'"));

  std::string no_base = Write("n.textproto", R"pb(clear_from_base: "bounds")pb");
  spec = ReadJobSpecFile(no_base);
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("clear_from_base: needs a base"));
}

TEST_F(LoaderTest, ParseJobSpecRefusesBase) {
  absl::StatusOr<v1::JobSpec> spec =
      ParseJobSpec(R"pb(base: "a.textproto")pb", ProtoFormat::kTextproto, "request");
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("only spec files can name a base"));
}

// Every shipped config survives textproto -> message -> JSON -> message and
// back to textproto without losing a field, explicit zeros included.
TEST(RoundTripTest, TextprotoJsonTextprotoIsLossless) {
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(UNAS_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".textproto") continue;
    absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(entry.path().string());
    ASSERT_TRUE(spec.ok()) << spec.status();

    v1::JobSpec from_json;
    ASSERT_TRUE(ParseProto(ToJson(*spec), ProtoFormat::kJson, "json", &from_json).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*spec, from_json))
        << entry.path();

    v1::JobSpec from_text;
    ASSERT_TRUE(
        ParseProto(ToTextproto(from_json), ProtoFormat::kTextproto, "text", &from_text).ok());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*spec, from_text))
        << entry.path();
    ++checked;
  }
  EXPECT_EQ(checked, 31);  // every shipped config
}

TEST(RoundTripTest, ExplicitZeroesSurviveJson) {
  v1::JobSpec spec;
  spec.mutable_search_space()->set_dropout(0);
  spec.mutable_training()->mutable_optimizer()->set_momentum(0);
  spec.set_seed(0);
  std::string json = ToJson(spec);
  v1::JobSpec back;
  ASSERT_TRUE(ParseProto(json, ProtoFormat::kJson, "json", &back).ok());
  EXPECT_TRUE(back.search_space().has_dropout()) << json;
  EXPECT_TRUE(back.training().optimizer().has_momentum()) << json;
  EXPECT_TRUE(back.has_seed()) << json;
}

}  // namespace
}  // namespace unas
