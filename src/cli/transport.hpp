// SPDX-License-Identifier: BSD-2-Clause
// One client socket for the command's Redis and HTTP clients: TCP (any
// address family) or a unix socket, optionally TLS through OpenSSL with CA
// and name verification and a client certificate; every step bounded by a
// timeout.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace mailhook::cli {

// Where to connect: a host and port, or a unix socket.
struct Endpoint {
    std::string host;
    std::string port;
    std::string unix_path;
};

// "host:port", "host", "[v6]:port", "[v6]" or "unix:/path"; throws
// UsageError.
Endpoint parse_endpoint(const std::string& address, std::string_view default_port);

struct TlsSettings {
    bool enabled = false;
    std::string trusted_certificate;  // CA file; empty: the system's CAs
    bool verify = true;
    std::string server_name;  // empty: the endpoint's host
    std::string certificate;  // client certificate and its key, PEM
    std::string certificate_key;
};

class Transport {
  public:
    // Connects (and handshakes TLS); throws Failure whose message starts
    // with `what` ("redis", "http").
    Transport(const Endpoint& endpoint, const TlsSettings& tls, int timeout_ms,
              std::string what);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    void write_all(std::string_view bytes);
    // At least one byte, or 0 when the peer closed; throws Failure after
    // the timeout.
    std::size_t read_some(char* buffer, std::size_t size);
    void set_timeout_ms(int timeout_ms);

  private:
    class Socket;
    std::unique_ptr<Socket> socket_;
};

}  // namespace mailhook::cli
