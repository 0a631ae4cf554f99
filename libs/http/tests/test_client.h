// A tiny blocking HTTP/1.1 client over a raw socket, for server tests. Every read has a 5 s
// socket timeout so a broken server fails the test instead of hanging it.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace switchboard::http::testing {

class TestClient {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  explicit TestClient(int port) : socket_(ioc_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(port));
    socket_.connect(endpoint);
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  void Send(const std::string& raw) { boost::asio::write(socket_, boost::asio::buffer(raw)); }

  // Reads one response; `ec` is set on EOF/timeout instead of throwing.
  Response Read(boost::beast::error_code& ec) {
    Response response;
    boost::beast::http::read(socket_, buffer_, response, ec);
    return response;
  }

  Response Read() {
    boost::beast::error_code ec;
    Response response = Read(ec);
    if (ec) throw boost::beast::system_error(ec);
    return response;
  }

  // True when the server closed the connection (EOF or reset) before sending anything more.
  bool ClosedByServer() {
    char byte;
    boost::beast::error_code ec;
    if (buffer_.size() > 0) return false;
    socket_.read_some(boost::asio::buffer(&byte, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

  static std::string Get(const std::string& target, const std::string& extra_headers = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
  }
  static std::string Post(const std::string& target, const std::string& body,
                          const std::string& extra_headers = "") {
    return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace switchboard::http::testing
