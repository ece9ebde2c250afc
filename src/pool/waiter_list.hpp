// An intrusive doubly linked FIFO: queueing a waiter never allocates and removal is O(1).
#pragma once

#include <cstddef>

namespace nexdb::detail {

/// T provides `T* prev` and `T* next`. The list does not own its nodes.
template <class T>
class IntrusiveList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  T* front() const noexcept { return head_; }

  void push_back(T* node) noexcept {
    node->prev = tail_;
    node->next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = node;
    tail_ = node;
    ++size_;
  }

  T* pop_front() noexcept {
    T* node = head_;
    if (node != nullptr) remove(node);
    return node;
  }

  void remove(T* node) noexcept {
    (node->prev != nullptr ? node->prev->next : head_) = node->next;
    (node->next != nullptr ? node->next->prev : tail_) = node->prev;
    node->prev = node->next = nullptr;
    --size_;
  }

  /// Moves every node of `other` to the back of this list.
  void splice_back(IntrusiveList& other) noexcept {
    while (T* node = other.pop_front()) push_back(node);
  }

  template <class Pred>
  T* find_if(Pred pred) const {
    for (T* node = head_; node != nullptr; node = node->next) {
      if (pred(*node)) return node;
    }
    return nullptr;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace nexdb::detail
