// The demo's replica step (--postgres): reads spread over the streaming replicas, and a session
// that reads its own write.
#include <fmt/format.h>

#include "demo_models.hpp"
#include "demo_step.hpp"
#include "nexdb/replica.hpp"

namespace nexdb::cli {

void demo_replicas(DemoContext& demo) {
  demo.heading("Reads spread over the streaming replicas; a session reads its own write");
  ReplicaManager replicas({.primary = local_cluster_uri(),
                           .replicas = local_replica_uris(),
                           .read_preference = ReadPreference::replica,
                           .ryw_wait = std::chrono::seconds(5)});
  replicas.refresh();
  // The sample data was written a moment ago: the reads carry a token of the primary's position
  // after it and wait (up to ryw_wait) for a replica that has replayed that far.
  Session loaded = replicas.session();
  loaded.record(*replicas.write());
  for (std::size_t i = 0; i < 300; ++i) {
    const auto id = static_cast<std::int64_t>(i % demo.options.users) + 1;
    (void)loaded.read(select(User.email).from(User).where(User.id == id));
  }
  Json hosts = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const HostStats& h : replicas.hosts()) {
    rows.push_back({h.host, std::string(to_string(h.role)), std::to_string(h.reads),
                    std::to_string(h.writes)});
    hosts.push_back({{"host", h.host}, {"role", to_string(h.role)}, {"reads", h.reads}});
  }
  Session session = replicas.session();
  session.write(update(User).set(User.status = "vip").where(User.id == 42));
  const Rows read = session.read(select(User.status).from(User).where(User.id == 42));
  const auto status = read[0].get<std::optional<std::string>>("status").value_or("NULL");
  if (demo.text()) {
    demo.line("    300 reads with read preference `replica`:");
    demo.term.table({"host", "role", "reads", "writes"}, rows);
    demo.line(fmt::format(
        "    session: UPDATE users SET status = 'vip' WHERE id = 42, then a read in the same "
        "session sees status = '{}' (consistency token {})",
        status, session.token().to_string()));
  }
  demo.report["replicas"] = {
      {"hosts", hosts}, {"read_your_writes", status}, {"token", session.token().to_string()}};
}

}  // namespace nexdb::cli
