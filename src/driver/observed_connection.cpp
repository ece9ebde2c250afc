#include "driver/observed_connection.hpp"

#include <chrono>

#include "nexdb/error.hpp"

namespace nexdb::detail {
namespace {

/// What an event reports as its rows: those returned, else those affected.
std::size_t rows_reported(const Rows& rows) noexcept {
  return rows.empty() && rows.affected_rows() > 0 ? static_cast<std::size_t>(rows.affected_rows())
                                                  : rows.size();
}

std::string_view sqlstate_reported(const Error& error) noexcept {
  return error.sqlstate().empty() && dynamic_cast<const ConnectionError*>(&error) != nullptr
             ? std::string_view("08006")
             : std::string_view(error.sqlstate());
}

void notify(StatementObserver& observer, const StatementEvent& event) noexcept {
  try {
    observer.on_statement(event);
  } catch (...) {  // an observer must never break the statement it watches
  }
}

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
      event.rows = rows_reported(rows);
      notify(*observer_, event);
      return rows;
    } catch (const Error& error) {
      event.duration = std::chrono::steady_clock::now() - start;
      event.sqlstate = sqlstate_reported(error);
      notify(*observer_, event);
      throw;
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

void report_statement(StatementObserver& observer, const Connection& connection,
                      std::string_view sql, std::chrono::nanoseconds duration, const Rows* rows,
                      const std::exception_ptr& error) noexcept {
  StatementEvent event{.sql = sql,
                       .host = connection.description(),
                       .dialect = connection.dialect(),
                       .duration = duration};
  if (rows != nullptr) event.rows = rows_reported(*rows);
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      event.sqlstate = sqlstate_reported(e);
      notify(observer, event);
      return;
    } catch (...) {
      event.sqlstate = "XX000";
    }
  }
  notify(observer, event);
}

}  // namespace nexdb::detail
