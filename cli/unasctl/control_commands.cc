// The control commands: cancel (stop a job's search) and workers (the
// workers the coordinator knows).
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/unasctl/job_commands.h"
#include "cli/unasctl/online_command.h"
#include "cli/unasctl/table.h"
#include "google/protobuf/util/time_util.h"

namespace unas::cli {

using google::protobuf::util::TimeUtil;

void AddControlCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<OnlineFlags>();
  auto job = std::make_shared<std::string>();
  auto flag_all = std::make_shared<bool>(false);

  AddJobSubcommand(app, "cancel", "Stop a job's search", job.get(), flags.get(), FormatFlags::kNone)
      ->callback([=] {
        *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
          absl::StatusOr<v1::Job> done = client.Cancel(id);
          if (!done.ok()) return done.status();
          std::cout << "job " << id << " cancelled after " << done->progress().evaluations_done()
                    << " evaluations\n";
          return absl::OkStatus();
        });
      });

  CLI::App* workers = app.add_subcommand("workers", "Workers known to the coordinator");
  workers->add_flag("--all", *flag_all, "include workers not heard from recently");
  AddCoordinatorFlags(workers, flags.get());
  AddFormatFlags(workers, flags.get(), FormatFlags::kJsonOrCsv);
  workers->callback([=] {
    CoordinatorClient client(flags->coordinator, flags->security);
    absl::StatusOr<std::vector<v1::WorkerInfo>> list = client.ListWorkers(*flag_all);
    if (!list.ok()) {
      *exit_code = Fail(list.status());
      return;
    }
    if (flags->json) {
      PrintJsonArray(std::cout, *list);
      return;
    }
    Table table({"ID", "NAME", "HOST", "DEVICE", "SLOTS", "BUSY", "DONE", "LAST SEEN"});
    for (const v1::WorkerInfo& w : *list) {
      table.AddRow({w.worker_id(), w.name(), w.host(), w.device(), absl::StrCat(w.slots()),
                    absl::StrCat(w.busy_slots()), absl::StrCat(w.evaluations_done()),
                    TimeUtil::ToString(w.last_heartbeat()).substr(0, 19)});
    }
    flags->csv ? table.PrintCsv(std::cout) : table.PrintText(std::cout);
  });
}

}  // namespace unas::cli
