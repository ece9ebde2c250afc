#include "shard/errors.hpp"

#include "nexdb/error.hpp"
#include "nexdb/shard.hpp"

namespace nexdb::shard_detail {
namespace {

template <class E>
[[noreturn]] void again(const E& e, std::string_view where) {
  throw E(std::string(where) + e.message(),
          {.sqlstate = e.sqlstate(), .host = e.host(), .statement = e.statement()});
}

}  // namespace

void rethrow_for(std::exception_ptr error, std::string_view where) {
  try {
    std::rethrow_exception(error);
  } catch (const SqlError& e) {
    // The SQLSTATE picks the same subtype (UniqueViolation, SerializationFailure, ...).
    throw_sql_error(std::string(where) + e.message(),
                    {.sqlstate = e.sqlstate(), .host = e.host(), .statement = e.statement()});
  } catch (const TransactionInDoubt& e) {
    again(e, where);
  } catch (const ConnectionLost& e) {
    again(e, where);
  } catch (const AuthenticationError& e) {
    again(e, where);
  } catch (const ConnectTimeout& e) {
    again(e, where);
  } catch (const ConnectionError& e) {
    again(e, where);
  } catch (const PoolExhausted& e) {
    again(e, where);
  } catch (const TimeoutError& e) {
    again(e, where);
  } catch (const PoolClosed& e) {
    again(e, where);
  } catch (const UnroutableStatement& e) {
    again(e, where);
  } catch (const ColumnNotFound& e) {
    again(e, where);
  } catch (const TypeMismatch& e) {
    again(e, where);
  } catch (const UsageError& e) {
    again(e, where);
  } catch (const ConfigError& e) {
    again(e, where);
  } catch (const Error& e) {
    again(e, where);
  } catch (const std::exception& e) {
    throw Error(std::string(where) + e.what());
  }
}

}  // namespace nexdb::shard_detail
