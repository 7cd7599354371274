#include "cli/unasctl/progress_bar.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace unas::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::JobProgress Progress(int done, int training) {
  v1::JobProgress progress;
  progress.set_rounds(40);
  progress.set_evaluations_done(done);
  progress.set_evaluations_in_flight(training);
  return progress;
}

TEST(ProgressBarTest, LineCountsWhatTrains) {
  EXPECT_THAT(ProgressBar::Render(Progress(3, 2), 0, 10),
              HasSubstr("3/40 evaluations, 2 training"));
}

TEST(ProgressBarTest, CandidatesStoppedEarlyCountTowardsTheRounds) {
  v1::JobProgress progress = Progress(30, 1);
  progress.set_candidates_stopped(10);
  const std::string line = ProgressBar::Render(progress, 1, 10);
  EXPECT_THAT(line, HasSubstr("[##########] 40/40 evaluations, 1 training, 10 stopped early"));
  EXPECT_THAT(line, Not(HasSubstr("ETA")));
}

TEST(ProgressBarTest, LogSkipsTheMomentBetweenAResultAndTheSlotsNextCandidate) {
  std::ostringstream log;
  ProgressBar bar(log, /*interactive=*/false);
  bar.Update(Progress(3, 1), /*transient=*/true);  // a result; its slot not yet leased again
  EXPECT_EQ(log.str(), "");
  bar.Update(Progress(3, 2));  // the slot's next candidate
  EXPECT_THAT(log.str(), HasSubstr("3/40 evaluations, 2 training"));
  EXPECT_THAT(log.str(), Not(HasSubstr("1 training")));
}

TEST(ProgressBarTest, TerminalShowsEveryState) {
  std::ostringstream terminal;
  ProgressBar bar(terminal, /*interactive=*/true);
  bar.Update(Progress(3, 1), /*transient=*/true);
  EXPECT_THAT(terminal.str(), HasSubstr("3/40 evaluations, 1 training"));
}

TEST(ProgressBarTest, FinishPrintsTheLastStateEvenIfTransient) {
  std::ostringstream log;
  ProgressBar bar(log, /*interactive=*/false);
  bar.Update(Progress(1, 2));
  bar.Update(Progress(2, 1), /*transient=*/true);
  bar.Finish();
  EXPECT_THAT(log.str(), HasSubstr("2/40 evaluations, 1 training"));
}

}  // namespace
}  // namespace unas::cli
