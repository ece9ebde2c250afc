#include "archive/lag.hpp"

#include "cluster/replica_state.hpp"

namespace nexdb::archive_detail {

LagProbe::LagProbe(LagLimit limit)
    : limit_(std::move(limit)), connections_(limit_.replicas.size()) {}

LagProbe::~LagProbe() = default;

std::optional<LagReading> LagProbe::over_limit(Connection& primary) {
  const std::uint64_t primary_lsn = detail::probe(primary).lsn;
  for (std::size_t i = 0; i < limit_.replicas.size(); ++i) {
    LagReading reading{.replica = redact_password(limit_.replicas[i])};
    try {
      auto& connection = connections_[i];
      if (!connection || connection->is_broken()) {
        connection = connect(ConnectOptions{.uri = limit_.replicas[i],
                                            .connect_timeout = std::chrono::seconds(2),
                                            .statement_timeout = std::chrono::seconds(2),
                                            .application_name = "nexdb-archive-lag"});
      }
      const detail::ProbeResult replica = detail::probe(*connection);
      reading.bytes = primary_lsn > replica.lsn ? primary_lsn - replica.lsn : 0;
      // The age of the last replayed commit is lag only while the replica is behind.
      reading.delay = reading.bytes > 0 ? replica.replay_age : std::chrono::milliseconds{0};
    } catch (const Error& e) {
      connections_[i].reset();
      reading.error = e.what();
      return reading;
    }
    const bool over_bytes = limit_.max_bytes > 0 && reading.bytes > limit_.max_bytes;
    const bool over_delay = limit_.max_delay.count() > 0 && reading.delay > limit_.max_delay;
    if (over_bytes || over_delay) return reading;
  }
  return std::nullopt;
}

}  // namespace nexdb::archive_detail
