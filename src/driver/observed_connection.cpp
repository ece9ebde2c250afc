#include "driver/observed_connection.hpp"

#include <chrono>

#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

class ObservedConnection final : public Connection {
 public:
  ObservedConnection(std::unique_ptr<Connection> inner, std::shared_ptr<StatementObserver> observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}

  Dialect dialect() const noexcept override { return inner_->dialect(); }
  const std::string& description() const noexcept override { return inner_->description(); }

  Rows execute(const Statement& statement) override {
    return observed(statement.sql, false, [&] { return inner_->execute(statement); });
  }
  void execute_script(std::string_view sql) override {
    observed(sql, false, [&] {
      inner_->execute_script(sql);
      return Rows{};
    });
  }
  void prepare(std::string_view name, std::string_view sql) override { inner_->prepare(name, sql); }
  Rows execute_prepared(std::string_view name, std::span<const Value> params) override {
    return observed(name, true, [&] { return inner_->execute_prepared(name, params); });
  }
  bool ping() noexcept override { return inner_->ping(); }
  Connection& inner() noexcept { return *inner_; }
  const std::shared_ptr<StatementObserver>& observer() const noexcept { return observer_; }
  bool is_broken() const noexcept override { return inner_->is_broken(); }
  TransactionStatus transaction_status() const noexcept override {
    return inner_->transaction_status();
  }

 private:
  template <class Run>
  Rows observed(std::string_view sql, bool by_name, Run&& run) {
    if (!observer_->wants_statements()) return run();
    const auto start = std::chrono::steady_clock::now();
    StatementEvent event{.sql = sql,
                         .host = inner_->description(),
                         .dialect = inner_->dialect(),
                         .prepared_by_name = by_name};
    try {
      Rows rows = run();
      event.duration = std::chrono::steady_clock::now() - start;
      event.rows = rows.empty() && rows.affected_rows() > 0
                       ? static_cast<std::size_t>(rows.affected_rows())
                       : rows.size();
      notify(event);
      return rows;
    } catch (const Error& error) {
      event.duration = std::chrono::steady_clock::now() - start;
      event.sqlstate = error.sqlstate().empty() && dynamic_cast<const ConnectionError*>(&error)
                           ? std::string_view("08006")
                           : std::string_view(error.sqlstate());
      notify(event);
      throw;
    }
  }

  void notify(const StatementEvent& event) noexcept {
    try {
      observer_->on_statement(event);
    } catch (...) {  // an observer must never break the statement it watches
    }
  }

  std::unique_ptr<Connection> inner_;
  std::shared_ptr<StatementObserver> observer_;
};

}  // namespace

Connection& unwrap_observed(Connection& connection) noexcept {
  auto* observed = dynamic_cast<ObservedConnection*>(&connection);
  return observed != nullptr ? observed->inner() : connection;
}

std::unique_ptr<Connection> observe(std::unique_ptr<Connection> connection,
                                    std::shared_ptr<StatementObserver> observer) {
  if (observer == nullptr) return connection;
  return std::make_unique<ObservedConnection>(std::move(connection), std::move(observer));
}

std::shared_ptr<StatementObserver> observer_of(const Connection& connection) noexcept {
  if (auto* observed = dynamic_cast<const ObservedConnection*>(&connection)) {
    return observed->observer();
  }
  return nullptr;
}

}  // namespace nexdb::detail
