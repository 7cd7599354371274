// A terminal progress bar for a running job: a bar, evaluations done of
// rounds, failures, the best feasible error and an ETA. On a terminal it
// redraws one line; into a file or pipe it prints a line per change at most
// every few seconds.
#ifndef UNAS_CLI_UNASCTL_PROGRESS_BAR_H_
#define UNAS_CLI_UNASCTL_PROGRESS_BAR_H_

#include <ostream>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "unas/v1/job.pb.h"

namespace unas::cli {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool interactive);
  // `transient`: a state about to change (a result just arrived and its
  // slot is being given the next candidate). Into a file or pipe such a line
  // is not printed, so a log does not show one slot fewer training than run.
  void Update(const v1::JobProgress& progress, bool transient = false);
  // Ends the line (on a terminal).
  void Finish();

  // The line itself, for a given elapsed time and evaluations done since
  // start (exposed for tests).
  static std::string Render(const v1::JobProgress& progress, double evaluations_per_second,
                            int width);

 private:
  std::ostream& out_;
  bool interactive_;
  absl::Time start_ = absl::Now();
  int start_done_ = -1;
  absl::Time last_print_ = absl::InfinitePast();
  std::string last_line_;
};

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_PROGRESS_BAR_H_
