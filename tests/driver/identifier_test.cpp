#include <gtest/gtest.h>

#include "nexdb/error.hpp"
#include "nexdb/identifier.hpp"

namespace nexdb {
namespace {

TEST(Identifier, QuotedAndEmbeddedQuotesDoubled) {
  EXPECT_EQ(quote_identifier("users"), "\"users\"");
  EXPECT_EQ(quote_identifier("select"), "\"select\"");
  EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_identifier("x\"; DROP TABLE users; --"), "\"x\"\"; DROP TABLE users; --\"");
}

TEST(Identifier, InvalidNamesAreRejected) {
  EXPECT_THROW(quote_identifier(""), UsageError);
  EXPECT_THROW(quote_identifier(std::string(64, 'a')), UsageError);
  EXPECT_THROW(quote_identifier(std::string("a\0b", 3)), UsageError);
  EXPECT_THROW(quote_identifier("a\nb"), UsageError);
  EXPECT_NO_THROW(quote_identifier(std::string(63, 'a')));
}

}  // namespace
}  // namespace nexdb
