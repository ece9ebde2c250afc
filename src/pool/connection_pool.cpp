// ConnectionPool and Lease: thin handles over detail::PoolState.
#include <spdlog/spdlog.h>

#include "nexdb/error.hpp"
#include "nexdb/pool.hpp"
#include "pool/pool_state.hpp"

namespace nexdb {

Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      entry_(std::exchange(other.entry_, nullptr)),
      connection_(std::exchange(other.connection_, nullptr)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    entry_ = std::exchange(other.entry_, nullptr);
    connection_ = std::exchange(other.connection_, nullptr);
  }
  return *this;
}

Lease::~Lease() { release(); }

void Lease::release() noexcept {
  if (entry_ == nullptr) return;
  connection_ = nullptr;
  std::exchange(pool_, nullptr)->release(std::exchange(entry_, nullptr));
}

ConnectionPool::ConnectionPool(ConnectOptions options, PoolSettings settings)
    : ConnectionPool(Factory([options] { return connect(options); }), std::move(settings),
                     redact_password(options.uri)) {}

ConnectionPool::ConnectionPool(Factory factory, PoolSettings settings, std::string description) {
  detail::validate_settings(settings);
  if (!factory) throw ConfigError("pool '" + settings.name + "': the connection factory is empty");
  state_ = std::make_shared<detail::PoolState>(std::move(factory), std::move(settings),
                                               std::move(description));
  state_->start(state_);
}

ConnectionPool::~ConnectionPool() {
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::error("pool '{}': close failed: {}", state_->settings().name, e.what());
  }
  state_->orphan(state_);  // leases still out keep the state alive until they return
}

Lease ConnectionPool::acquire(std::source_location where) {
  return state_->acquire(state_->settings().acquire_timeout, where);
}

Lease ConnectionPool::acquire(std::chrono::milliseconds timeout, std::source_location where) {
  return state_->acquire(timeout, where);
}

std::optional<Lease> ConnectionPool::try_acquire(std::source_location where) {
  return state_->try_acquire(where);
}

std::uint64_t ConnectionPool::acquire_async(AcquireCallback done, std::source_location where) {
  if (!done) throw UsageError("acquire_async needs a callback");
  return state_->acquire_async(std::move(done), where);
}

bool ConnectionPool::cancel_waiter(std::uint64_t ticket) { return state_->cancel_waiter(ticket); }

bool ConnectionPool::expire_waiter(std::uint64_t ticket) {
  return state_->cancel_waiter(ticket, /*timed_out=*/true);
}

void ConnectionPool::close(std::chrono::milliseconds grace) { state_->close(grace); }

void ConnectionPool::run_housekeeping() { state_->run_housekeeping(); }

PoolStats ConnectionPool::stats() const { return state_->stats(); }

const PoolSettings& ConnectionPool::settings() const noexcept { return state_->settings(); }

const std::string& ConnectionPool::description() const noexcept { return state_->description(); }

}  // namespace nexdb
