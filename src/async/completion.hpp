// Resuming a suspended coroutine from wherever its operation finished. Asio 1.22 has no
// any_completion_handler, so a small type-erased, move-only holder keeps the handler, keeps its
// executor's work counted (io_context::run() does not return while a call is pending) and
// resumes it on that executor.
#pragma once

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace nexdb::detail {

class Completion {
 public:
  Completion() = default;
  template <class Handler>
  requires(!std::is_same_v<Handler, Completion>) explicit Completion(Handler handler)
      : impl_(std::make_unique<Impl<Handler>>(std::move(handler))) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  /// The caller's cancellation slot (unconnected when the caller cannot cancel).
  asio::cancellation_slot slot() const noexcept {
    return impl_ ? impl_->slot : asio::cancellation_slot();
  }

  /// Resumes the caller on its executor, throwing `error` there if set. At most once.
  void operator()(std::exception_ptr error) {
    if (impl_) impl_.release()->complete(error);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void complete(std::exception_ptr error) = 0;  // takes ownership of itself
    asio::cancellation_slot slot;
  };
  template <class Handler>
  struct Impl final : Base {
    explicit Impl(Handler h)
        : handler(std::move(h)),
          executor(asio::prefer(asio::get_associated_executor(handler),
                                asio::execution::outstanding_work.tracked)) {
      slot = asio::get_associated_cancellation_slot(handler);
    }
    void complete(std::exception_ptr error) override {
      auto executor_copy = executor;
      asio::post(executor_copy, [self = std::unique_ptr<Impl>(this), error]() mutable {
        // Asio's rule: the slot is cleared before the handler runs (on the caller's executor).
        if (self->slot.is_connected()) self->slot.clear();
        std::move(self->handler)(error);
      });
    }
    Handler handler;
    decltype(asio::prefer(std::declval<asio::associated_executor_t<Handler>>(),
                          asio::execution::outstanding_work.tracked)) executor;
  };
  std::unique_ptr<Base> impl_;
};

/// Suspends the calling coroutine, hands `start` a Completion, and resumes when it is called
/// (rethrowing its error). `start` runs on the caller's thread.
template <class Start>
auto suspend(Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
      [start = std::move(start)](auto handler) mutable { start(Completion(std::move(handler))); },
      asio::use_awaitable);
}

}  // namespace nexdb::detail
