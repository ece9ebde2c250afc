// StatementObserverHub: a copy-on-write list of observers. Readers take the current list with
// one atomic load and no lock; writers publish a new list under a mutex.
#include <algorithm>
#include <utility>

#include "nexdb/observer.hpp"

namespace nexdb {

StatementObserverHub::~StatementObserverHub() = default;

StatementObserverHub::Attachment StatementObserverHub::attach(
    const std::shared_ptr<StatementObserverHub>& hub, std::shared_ptr<StatementObserver> observer) {
  const StatementObserver* raw = observer.get();
  std::lock_guard lock(hub->mutex_);
  const List* current = hub->current_.load(std::memory_order_acquire);
  List next = current != nullptr ? *current : List{};
  next.push_back(std::move(observer));
  hub->publish(std::move(next));
  return Attachment(hub, raw);
}

void StatementObserverHub::detach(const StatementObserver* observer) noexcept {
  std::lock_guard lock(mutex_);
  const List* current = current_.load(std::memory_order_acquire);
  if (current == nullptr) return;
  List next;
  for (const auto& o : *current) {
    if (o.get() != observer) next.push_back(o);
  }
  try {
    publish(std::move(next));
  } catch (...) {  // out of memory: stay attached rather than throw from a destructor
  }
}

void StatementObserverHub::publish(List list) {
  if (list.empty()) {
    current_.store(nullptr, std::memory_order_release);
    return;
  }
  published_.push_back(std::make_unique<const List>(std::move(list)));
  current_.store(published_.back().get(), std::memory_order_release);
}

void StatementObserverHub::on_statement(const StatementEvent& event) noexcept {
  const List* list = current_.load(std::memory_order_acquire);
  if (list == nullptr) return;
  for (const auto& observer : *list) {
    try {
      observer->on_statement(event);
    } catch (...) {  // one failing observer must not starve the others
    }
  }
}

bool StatementObserverHub::wants_statements() const noexcept {
  return current_.load(std::memory_order_relaxed) != nullptr;
}

StatementObserverHub::Attachment::Attachment(Attachment&& other) noexcept
    : hub_(std::move(other.hub_)), observer_(std::exchange(other.observer_, nullptr)) {}

StatementObserverHub::Attachment& StatementObserverHub::Attachment::operator=(
    Attachment&& other) noexcept {
  if (this != &other) {
    reset();
    hub_ = std::move(other.hub_);
    observer_ = std::exchange(other.observer_, nullptr);
  }
  return *this;
}

StatementObserverHub::Attachment::~Attachment() { reset(); }

void StatementObserverHub::Attachment::reset() noexcept {
  if (hub_ != nullptr) hub_->detach(observer_);
  hub_.reset();
  observer_ = nullptr;
}

}  // namespace nexdb
