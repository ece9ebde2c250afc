// A small async HTTP service over the seed's users and orders: one thread, coroutines, no thread
// per request, every query through nexdb's async API.
//   example_async_http_service [uri] [--port N]    serve on 127.0.0.1:N (default 8080) until killed
//   example_async_http_service [uri] --self-test   serve on a free port, call itself, exit
// Routes:
//   GET  /healthz                200 {"status":"ok","in_flight":N}
//   GET  /users/{id}/orders      200 [{"id":..,"status":..,"total":..}, ...]   (2 s deadline)
//   POST /users/{id}/orders      {"status":"new","total":12.5} -> 201 {"id":..}; 404 unknown user
#include <nexdb/async.hpp>
#include <nexdb/nexdb.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <nlohmann/json.hpp>

#include <charconv>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "shop.hpp"

using namespace nexdb;
using asio::ip::tcp;
using nlohmann::json;

namespace {

struct Request {
  std::string method;
  std::string path;
  std::string body;
  bool keep_alive = true;
};

struct Response {
  int status = 200;
  json body;
};

// --- the service: routes and their queries ---------------------------------------------------

std::optional<std::int64_t> user_of(std::string_view path) {
  constexpr std::string_view prefix = "/users/";
  constexpr std::string_view suffix = "/orders";
  if (!path.starts_with(prefix) || !path.ends_with(suffix)) return std::nullopt;
  const std::string_view digits =
      path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return id;
}

asio::awaitable<Response> list_orders(AsyncDatabase db, std::int64_t user_id) {
  const Rows rows =
      co_await db.with_timeout(std::chrono::seconds(2)).async_run(user_orders_query(user_id));
  json orders = json::array();
  for (Row row : rows) {
    orders.push_back({{"id", row.get<std::int64_t>("id")},
                      {"status", row.get<std::string>("status")},
                      {"total", row.get<double>("total")}});
  }
  co_return Response{200, std::move(orders)};
}

asio::awaitable<Response> add_order(AsyncDatabase db, std::int64_t user_id,
                                    const std::string& body) {
  const json input = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!input.is_object() || !input.value("status", json()).is_string() ||
      !input.value("total", json()).is_number()) {
    co_return Response{400, {{"error", R"(expected {"status": text, "total": number})"}}};
  }
  // Built outside the co_await: g++ 12 mishandles temporaries made inside one (docs/async.md).
  const auto insert =
      insert_into(Order)
          .set(Order.user_id = user_id, Order.status = input["status"].get<std::string>(),
               Order.total = input["total"].get<double>(), Order.created_at = now_utc())
          .returning(Order.id);
  const Rows created = co_await db.async_run(insert);
  co_return Response{201, {{"id", created.scalar<std::int64_t>()}}};
}

asio::awaitable<Response> route(AsyncDatabase db, const Request& request) {
  if (request.method == "GET" && request.path == "/healthz") {
    co_return Response{200, {{"status", "ok"}, {"in_flight", db.stats().in_flight}}};
  }
  const auto user = user_of(request.path);
  if (!user) co_return Response{404, {{"error", "no such route"}}};
  if (request.method == "GET") co_return co_await list_orders(db, *user);
  if (request.method == "POST") co_return co_await add_order(db, *user, request.body);
  co_return Response{405, {{"error", "GET or POST"}}};
}

// Database errors become statuses a client can act on; the message names no password or value.
asio::awaitable<Response> handle(AsyncDatabase db, const Request& request) {
  Response response;
  try {
    response = co_await route(db, request);
  } catch (const ForeignKeyViolation&) {
    response = Response{404, {{"error", "no such user"}}};
  } catch (const TimeoutError& e) {
    response = Response{504, {{"error", e.message()}}};
  } catch (const Error& e) {
    response = Response{500, {{"error", e.message()}}};
  }
  co_return response;
}

// --- HTTP/1.1, just enough ---------------------------------------------------------------------

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 504:
      return "Gateway Timeout";
    default:
      return "Internal Server Error";
  }
}

std::optional<Request> parse_head(const std::string& head, std::size_t& content_length) {
  std::istringstream in(head);
  Request request;
  std::string version;
  if (!(in >> request.method >> request.path >> version)) return std::nullopt;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && line != "\r") {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string value = line.substr(colon + 1);
    if (name == "content-length") content_length = std::stoul(value);
    if (name == "connection" && value.find("close") != std::string::npos)
      request.keep_alive = false;
  }
  return request;
}

asio::awaitable<void> serve_connection(tcp::socket socket, AsyncDatabase db) {
  asio::streambuf buffer;
  try {
    for (;;) {
      const std::size_t head_size =
          co_await asio::async_read_until(socket, buffer, "\r\n\r\n", asio::use_awaitable);
      std::string head(asio::buffers_begin(buffer.data()),
                       asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(head_size));
      buffer.consume(head_size);
      std::size_t length = 0;
      auto request = parse_head(head, length);
      if (!request || length > (1u << 20)) co_return;
      if (buffer.size() < length) {
        co_await asio::async_read(socket, buffer, asio::transfer_exactly(length - buffer.size()),
                                  asio::use_awaitable);
      }
      request->body.assign(
          asio::buffers_begin(buffer.data()),
          asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(length));
      buffer.consume(length);
      const Response response = co_await handle(db, *request);
      const std::string body = response.body.dump();
      std::string out =
          "HTTP/1.1 " + std::to_string(response.status) + " " +
          std::string(reason(response.status)) +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          (request->keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n") + body;
      co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
      if (!request->keep_alive) co_return;
    }
  } catch (const std::exception&) {
    // The client went away or sent something unreadable: drop the connection.
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, AsyncDatabase db) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), db),
                   asio::detached);
  }
}

// --- --self-test: the service calls itself -----------------------------------------------------

asio::awaitable<std::string> call(tcp::endpoint server, std::string method, std::string path,
                                  std::string body = {}) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, asio::use_awaitable);
  const std::string request = method + " " + path +
                              " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  std::string response;
  asio::error_code ec;
  co_await asio::async_read(socket, asio::dynamic_buffer(response),
                            asio::redirect_error(asio::use_awaitable, ec));
  const auto status = response.substr(9, 3);
  const auto body_at = response.find("\r\n\r\n");
  co_return status + " " + (body_at == std::string::npos ? "" : response.substr(body_at + 4));
}

asio::awaitable<void> self_test(tcp::endpoint server) {
  const auto executor = co_await asio::this_coro::executor;
  auto show = [](const std::string& what, const std::string& outcome) {
    std::cout << what << " -> " << outcome << "\n";
  };
  show("POST /users/2/orders",
       co_await call(server, "POST", "/users/2/orders", R"({"status":"new","total":7.5})"));
  const std::string orders = co_await call(server, "GET", "/users/2/orders");
  show("GET /users/2/orders", orders);
  std::cout << "user 2 has " << json::parse(orders.substr(4)).size() << " orders\n";
  show("POST /users/9/orders",
       co_await call(server, "POST", "/users/9/orders", R"({"status":"new","total":1})"));
  show("POST /users/2/orders (bad body)", co_await call(server, "POST", "/users/2/orders", "{}"));
  show("GET /nope", co_await call(server, "GET", "/nope"));

  int ok = 0;
  int pending = 200;
  for (int i = 0; i < 200; ++i) {
    asio::co_spawn(
        executor,
        [&ok, &pending, server, i]() -> asio::awaitable<void> {
          const std::string path = "/users/" + std::to_string(1 + i % 2) + "/orders";
          const std::string outcome = co_await call(server, "GET", path);
          ok += outcome.starts_with("200") ? 1 : 0;
          --pending;
        },
        asio::detached);
  }
  while (pending > 0) {
    asio::steady_timer pause(executor, std::chrono::milliseconds(5));
    co_await pause.async_wait(asio::use_awaitable);
  }
  std::cout << "200 concurrent requests: " << ok << " ok\n";
}

asio::awaitable<void> load(AsyncDatabase db) {
  // [&], not [db]: g++ 12 destroys a lambda's by-value captures twice when the lambda is made
  // inside a co_await expression (docs/async.md, "Limits").
  co_await db.async_transaction([&](AsyncTransaction& tx) -> asio::awaitable<void> {
    for (const std::string& sql : schema_statements(db.dialect())) co_await tx.async_run(sql);
    Pipeline rows = tx.pipeline();
    const Timestamp now = now_utc();
    rows.add(sample_users(now));
    rows.add(sample_orders(now));
    co_await rows.async_run();
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string uri;
  unsigned short port = 8080;
  bool self_testing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--self-test") {
      self_testing = true;
    } else if (arg == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::stoi(argv[++i]));
    } else {
      uri = arg;
    }
  }
  try {
    asio::io_context io;
    AsyncDatabase db(io.get_executor(), Database::open(uri));
    asio::co_spawn(io, load(db), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    io.run();
    io.restart();
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"),
                                static_cast<unsigned short>(self_testing ? 0 : port)});
    asio::co_spawn(io, listen(acceptor, db), asio::detached);
    if (self_testing) {
      asio::co_spawn(io, self_test(acceptor.local_endpoint()), [&io](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        io.stop();
      });
    } else {
      std::cout << "serving users/orders on http://" << acceptor.local_endpoint() << "\n";
    }
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
