// Positive control of the compile-fail tests: the same compiler command on valid uses of the
// builder must succeed, so a broken include path or flag cannot make every compile-fail test
// pass for the wrong reason. Mirrors each compile_fail/ snippet with its correct form.
#include "models.hpp"

using namespace nexdb;
using namespace nexdb::test;

Statement snippet(std::int64_t user_id) {
  auto seed = select(Order.id, Order.status, Order.total)
                  .from(Order)
                  .join(User, Order.user_id == User.id)
                  .where(User.id == user_id)
                  .order_by(Order.created_at.desc())
                  .limit(100);
  auto conditions = User.id == 5 && User.email == "x" && User.created_at > Timestamp{} &&
                    User.status.is_null() && User.email.like("1%") && User.id.in({1, 2}) &&
                    Order.total > 10 && User.id == 5.0;
  auto grouped =
      select(count()).from(User).where(conditions).group_by(User.email).having(count() > 1);
  auto updated = update(User).set(User.id = 7, User.status = std::nullopt, User.email = "x");
  auto inserted = insert_into(User).columns(User.email, User.status).values("a@x", "x");
  auto expr = sum(Order.total * 2 + 1);
  (void)grouped;
  (void)updated;
  (void)inserted;
  (void)expr;
  return seed.render(Dialect::postgres);
}
