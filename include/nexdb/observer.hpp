// A hook that sees every statement a connection runs: how monitoring (query_duration per
// fingerprint, errors by SQLSTATE) and the optimizer learn about the workload without the
// driver knowing about either. Lower layers call it; only upper layers implement it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "nexdb/value.hpp"

namespace nexdb {

/// One finished statement. Views are valid only during the call.
struct StatementEvent {
  std::string_view sql{};   // the SQL text (never its bound values)
  std::string_view host{};  // Connection::description(): no credentials
  Dialect dialect = Dialect::sqlite;
  std::chrono::nanoseconds duration{0};
  std::size_t rows = 0;           // rows returned (or affected, when nothing is returned)
  std::string_view sqlstate{};    // empty on success; "08006" for a lost connection, etc.
  bool prepared_by_name = false;  // execute_prepared(): `sql` is the statement's name
};

class StatementObserver {
 public:
  virtual ~StatementObserver() = default;
  /// Called on the thread that ran the statement, after it finished or failed. Must be cheap
  /// and must not throw (an exception is swallowed).
  virtual void on_statement(const StatementEvent& event) noexcept = 0;
  /// False when on_statement() would do nothing: the connection then skips timing the
  /// statement altogether.
  virtual bool wants_statements() const noexcept { return true; }
};

/// Observers attached and detached at run time, e.g. a DBMonitor watching a Database that is
/// already open. While none is attached a statement costs one atomic load. Thread-safe.
class StatementObserverHub final : public StatementObserver {
 public:
  StatementObserverHub() = default;
  ~StatementObserverHub() override;
  StatementObserverHub(const StatementObserverHub&) = delete;
  StatementObserverHub& operator=(const StatementObserverHub&) = delete;

  /// Keeps `observer` attached until the returned handle is destroyed or reset.
  class Attachment {
   public:
    Attachment() = default;
    Attachment(Attachment&& other) noexcept;
    Attachment& operator=(Attachment&& other) noexcept;
    ~Attachment();
    void reset() noexcept;
    explicit operator bool() const noexcept { return hub_ != nullptr; }

   private:
    friend class StatementObserverHub;
    Attachment(std::shared_ptr<StatementObserverHub> hub, const StatementObserver* observer)
        : hub_(std::move(hub)), observer_(observer) {}
    std::shared_ptr<StatementObserverHub> hub_;
    const StatementObserver* observer_ = nullptr;
  };

  /// Attaches `observer` to `hub`. A detached observer may still receive a statement that
  /// was already being reported; the hub keeps it alive for that.
  [[nodiscard]] static Attachment attach(const std::shared_ptr<StatementObserverHub>& hub,
                                         std::shared_ptr<StatementObserver> observer);

  void on_statement(const StatementEvent& event) noexcept override;
  bool wants_statements() const noexcept override;

 private:
  using List = std::vector<std::shared_ptr<StatementObserver>>;
  void detach(const StatementObserver* observer) noexcept;
  void publish(List list);

  std::atomic<const List*> current_{nullptr};
  std::mutex mutex_;
  // Every list ever published: a reader may still walk an old one, so none is freed before the
  // hub. Attach/detach is rare (a monitor's lifetime), so this stays small.
  std::vector<std::unique_ptr<const List>> published_;
};

}  // namespace nexdb
