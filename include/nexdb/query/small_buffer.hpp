// Small inline buffers for the query builder's expressions: composing a typical condition
// must not allocate, since one is composed for every query built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nexdb/value.hpp"

namespace nexdb::detail {

/// Text with inline room for `kInline` bytes; longer text moves to the heap.
template <std::size_t kInline>
class SmallText {
 public:
  // User-provided, so that value-initialisation does not zero the inline buffer.
  SmallText() noexcept {}
  SmallText(const SmallText& other) : size_(other.size_), heap_(other.heap_) { copy_inline(other); }
  SmallText(SmallText&& other) noexcept : size_(other.size_), heap_(std::move(other.heap_)) {
    copy_inline(other);
  }
  SmallText& operator=(const SmallText& other) {
    if (this != &other) {
      size_ = other.size_;
      heap_ = other.heap_;
      copy_inline(other);
    }
    return *this;
  }
  SmallText& operator=(SmallText&& other) noexcept {
    size_ = other.size_;
    heap_ = std::move(other.heap_);
    copy_inline(other);
    return *this;
  }
  ~SmallText() = default;

  std::string_view view() const noexcept { return {data(), size_}; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void append(std::string_view s) {
    const std::size_t size = size_ + s.size();
    if (size <= kInline && !s.empty()) {
      std::memcpy(inline_ + size_, s.data(), s.size());
      size_ = static_cast<std::uint32_t>(size);
    } else if (size > kInline) {
      append_heap(s, size);
    }
  }
  void push_back(char c) { append({&c, 1}); }

 private:
  const char* data() const noexcept { return size_ <= kInline ? inline_ : heap_.data(); }
  void append_heap(std::string_view s, std::size_t size) {
    if (size_ <= kInline) {
      heap_.reserve(2 * size);
      heap_.assign(inline_, size_);
    }
    heap_.append(s);
    size_ = static_cast<std::uint32_t>(size);
  }
  void copy_inline(const SmallText& other) noexcept {
    if (size_ > kInline || size_ == 0) return;
    // A fixed-size copy compiles to a few vector moves; a variable one to a library call.
    if constexpr (kInline <= 256) {
      std::memcpy(inline_, other.inline_, kInline);
    } else {
      std::memcpy(inline_, other.inline_, size_);
    }
  }

  std::uint32_t size_ = 0;
  char inline_[kInline];  // only the first size_ bytes are meaningful
  std::string heap_{};
};

/// Bound values with inline room for `kInline`; contiguous either way. Inline slots hold a
/// Value only while in use, so an expression without values costs nothing.
template <std::uint32_t kInline>
class SmallParams {
 public:
  SmallParams() noexcept {}
  SmallParams(const SmallParams& other) : heap_(other.heap_) {
    if (other.size_ <= kInline) {
      for (std::uint32_t i = 0; i < other.size_; ++i) new (slot(i)) Value(other.inline_value(i));
    }
    size_ = other.size_;
  }
  SmallParams(SmallParams&& other) noexcept : heap_(std::move(other.heap_)) { take(other); }
  SmallParams& operator=(const SmallParams& other) {
    if (this != &other) {
      SmallParams copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  SmallParams& operator=(SmallParams&& other) noexcept {
    if (this != &other) {
      destroy_inline();
      heap_ = std::move(other.heap_);
      take(other);
    }
    return *this;
  }
  ~SmallParams() { destroy_inline(); }

  const Value* data() const noexcept {
    return size_ <= kInline ? std::launder(reinterpret_cast<const Value*>(storage_)) : heap_.data();
  }
  std::size_t size() const noexcept { return size_; }
  void push_back(Value value) {
    if (size_ < kInline) {
      new (slot(size_)) Value(std::move(value));
    } else {
      if (size_ == kInline) spill();
      heap_.push_back(std::move(value));
    }
    ++size_;
  }

 private:
  void* slot(std::uint32_t i) noexcept { return storage_ + i * sizeof(Value); }
  Value& inline_value(std::uint32_t i) noexcept {
    return *std::launder(reinterpret_cast<Value*>(storage_ + i * sizeof(Value)));
  }
  const Value& inline_value(std::uint32_t i) const noexcept {
    return *std::launder(reinterpret_cast<const Value*>(storage_ + i * sizeof(Value)));
  }
  // Moves other's values here (its heap part already moved) and leaves it empty.
  void take(SmallParams& other) noexcept {
    if (other.size_ <= kInline) {
      for (std::uint32_t i = 0; i < other.size_; ++i) {
        new (slot(i)) Value(std::move(other.inline_value(i)));
      }
      other.destroy_inline();
    }
    size_ = other.size_;
    other.size_ = 0;
  }
  void spill() {
    heap_.reserve(2 * kInline + 2);
    for (std::uint32_t i = 0; i < kInline; ++i) heap_.push_back(std::move(inline_value(i)));
    destroy_inline();
  }
  // Ends the lifetime of the inline values; size_ is left to the caller.
  void destroy_inline() noexcept {
    if (size_ > kInline) return;
    for (std::uint32_t i = 0; i < size_; ++i) inline_value(i).~Value();
  }

  std::uint32_t size_ = 0;
  alignas(Value) unsigned char storage_[kInline * sizeof(Value)];
  std::vector<Value> heap_{};
};

}  // namespace nexdb::detail
