// SPDX-License-Identifier: BSD-2-Clause
#include "transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "cli.hpp"

namespace mailhook::cli {
namespace {

using Clock = std::chrono::steady_clock;

bool is_ip_address(const std::string& host) {
    unsigned char buffer[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown TLS error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// Closed however the constructor that opened it ends.
class UniqueFd {
  public:
    UniqueFd() = default;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    void reset(int fd) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    int get() const { return fd_; }
    void release() { fd_ = -1; }

  private:
    int fd_ = -1;
};

}  // namespace

Endpoint parse_endpoint(const std::string& address, std::string_view default_port) {
    Endpoint endpoint;
    endpoint.port = std::string(default_port);
    if (address.rfind("unix:", 0) == 0) {
        endpoint.unix_path = address.substr(5);
        if (endpoint.unix_path.empty()) throw UsageError("unix: needs a socket path");
        return endpoint;
    }
    const auto bad = [&] { return UsageError("bad address " + address); };
    std::string rest = address;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string::npos) throw bad();
        endpoint.host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw bad();
            endpoint.port = rest.substr(1);
        }
    } else if (const std::size_t colon = rest.find(':'); colon != std::string::npos) {
        if (rest.find(':', colon + 1) != std::string::npos) {
            throw UsageError("an IPv6 address goes in brackets: [" + address + "]");
        }
        endpoint.host = rest.substr(0, colon);
        endpoint.port = rest.substr(colon + 1);
    } else {
        endpoint.host = rest;
    }
    if (endpoint.host.empty() || endpoint.port.empty()) throw bad();
    return endpoint;
}

// The file descriptor and the TLS session on it.
class Transport::Socket {
  public:
    Socket(const Endpoint& endpoint, const TlsSettings& tls, int timeout_ms, std::string what)
        : timeout_ms_(timeout_ms), what_(std::move(what)) {
        fd_.reset(endpoint.unix_path.empty() ? connect_tcp(endpoint) : connect_unix(endpoint));
        if (tls.enabled) start_tls(tls, endpoint);
    }

    ~Socket() {
        if (ssl_) SSL_shutdown(ssl_.get());
    }

    void write_all(std::string_view bytes) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
        while (!bytes.empty()) {
            const long written = ssl_ ? ssl_write(bytes)
                                      : ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (written > 0) {
                bytes.remove_prefix(static_cast<std::size_t>(written));
            } else if (written < 0 && errno != EAGAIN && errno != EINTR) {
                fail(std::string("write failed: ") + std::strerror(errno));
            } else {
                wait(POLLOUT, deadline);
            }
        }
    }

    std::size_t read_some(char* buffer, std::size_t size) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
        for (;;) {
            if (ssl_) {
                const int rc = SSL_read(ssl_.get(), buffer, static_cast<int>(size));
                if (rc > 0) return static_cast<std::size_t>(rc);
                const int error = SSL_get_error(ssl_.get(), rc);
                if (error == SSL_ERROR_ZERO_RETURN) return 0;
                if (error == SSL_ERROR_WANT_READ) {
                    wait(POLLIN, deadline);
                } else if (error == SSL_ERROR_WANT_WRITE) {
                    wait(POLLOUT, deadline);
                } else if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
                    return 0;
                } else {
                    fail("TLS read failed: " + openssl_error());
                }
                continue;
            }
            const long got = ::recv(fd_.get(), buffer, size, 0);
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EAGAIN && errno != EINTR) {
                fail(std::string("read failed: ") + std::strerror(errno));
            }
            wait(POLLIN, deadline);
        }
    }

    void set_timeout_ms(int timeout_ms) { timeout_ms_ = timeout_ms; }

  private:
    [[noreturn]] void fail(const std::string& message) const {
        throw Failure(what_ + ": " + message);
    }

    // Non-blocking connect bounded by the timeout.
    int connect_fd(int family, const sockaddr* address, socklen_t length,
                   const std::string& where) {
        UniqueFd fd;
        fd.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (fd.get() < 0) fail(std::string("socket: ") + std::strerror(errno));
        if (::connect(fd.get(), address, length) != 0 && errno != EINPROGRESS) {
            fail("cannot connect to " + where + ": " + std::strerror(errno));
        }
        pollfd p{fd.get(), POLLOUT, 0};
        const int ready = ::poll(&p, 1, timeout_ms_);
        int error = 0;
        socklen_t size = sizeof error;
        if (ready <= 0 || getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0 ||
            error != 0) {
            fail("cannot connect to " + where + ": " +
                 (ready <= 0 ? std::string("timed out") : std::strerror(error)));
        }
        const int connected = fd.get();
        fd.release();
        return connected;
    }

    int connect_tcp(const Endpoint& endpoint) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        const std::string where = endpoint.host + ":" + endpoint.port;
        if (const int rc = getaddrinfo(endpoint.host.c_str(), endpoint.port.c_str(), &hints,
                                       &found);
            rc != 0) {
            fail("cannot resolve " + where + ": " + gai_strerror(rc));
        }
        std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, freeaddrinfo);
        std::string last_error;
        for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
            try {
                return connect_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen, where);
            } catch (const Failure& e) {
                last_error = e.what();
            }
        }
        throw Failure(last_error);
    }

    int connect_unix(const Endpoint& endpoint) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (endpoint.unix_path.size() >= sizeof address.sun_path) {
            throw UsageError("unix socket path too long");
        }
        std::memcpy(address.sun_path, endpoint.unix_path.c_str(), endpoint.unix_path.size() + 1);
        return connect_fd(AF_UNIX, reinterpret_cast<const sockaddr*>(&address), sizeof address,
                          "unix:" + endpoint.unix_path);
    }

    void start_tls(const TlsSettings& tls, const Endpoint& endpoint) {
        ctx_.reset(SSL_CTX_new(TLS_client_method()));
        if (!ctx_) fail("TLS: " + openssl_error());
        SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
        const bool loaded = tls.trusted_certificate.empty()
                                ? SSL_CTX_set_default_verify_paths(ctx_.get()) == 1
                                : SSL_CTX_load_verify_locations(
                                      ctx_.get(), tls.trusted_certificate.c_str(), nullptr) == 1;
        if (!loaded) {
            fail("TLS: cannot load trusted certificates " + tls.trusted_certificate + ": " +
                 openssl_error());
        }
        if (!tls.certificate.empty() &&
            (SSL_CTX_use_certificate_chain_file(ctx_.get(), tls.certificate.c_str()) != 1 ||
             SSL_CTX_use_PrivateKey_file(ctx_.get(), tls.certificate_key.c_str(),
                                         SSL_FILETYPE_PEM) != 1)) {
            fail("TLS: cannot load the client certificate: " + openssl_error());
        }
        ssl_.reset(SSL_new(ctx_.get()));
        if (!ssl_) fail("TLS: " + openssl_error());
        const std::string name = tls.server_name.empty() ? endpoint.host : tls.server_name;
        if (tls.verify) verify_name(name);
        if (!name.empty() && !is_ip_address(name)) {
            SSL_set_tlsext_host_name(ssl_.get(), name.c_str());
        }
        SSL_set_fd(ssl_.get(), fd_.get());
        handshake(name);
    }

    void verify_name(const std::string& name) {
        if (name.empty()) {
            throw UsageError("TLS over a unix socket needs the server's name to verify "
                             "(--redis-ssl-name), or verification off");
        }
        SSL_set_verify(ssl_.get(), SSL_VERIFY_PEER, nullptr);
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
        const int set = is_ip_address(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                            : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
        if (set != 1) fail("TLS: bad name " + name);
    }

    void handshake(const std::string& name) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
        const std::string failed = "TLS handshake with " + name + " failed: ";
        for (;;) {
            const int rc = SSL_connect(ssl_.get());
            if (rc == 1) return;
            const int error = SSL_get_error(ssl_.get(), rc);
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
                if (!ready(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
                    fail(failed + "no answer within the timeout (not a TLS port?)");
                }
                continue;
            }
            const long verify = SSL_get_verify_result(ssl_.get());
            fail(failed + (verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                               : openssl_error()));
        }
    }

    // False when the deadline passes first.
    bool ready(short events, Clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - Clock::now())
                                  .count();
            if (left <= 0) return false;
            pollfd p{fd_.get(), events, 0};
            const int rc = ::poll(&p, 1, static_cast<int>(left));
            if (rc > 0) return true;
            if (rc < 0 && errno != EINTR) fail(std::string("poll: ") + std::strerror(errno));
        }
    }

    void wait(short events, Clock::time_point deadline) {
        if (!ready(events, deadline)) fail("no answer within the timeout");
    }

    long ssl_write(std::string_view bytes) {
        const int rc = SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size()));
        if (rc > 0) return rc;
        const int error = SSL_get_error(ssl_.get(), rc);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            errno = EAGAIN;
            return -1;
        }
        fail("TLS write failed: " + openssl_error());
    }

    UniqueFd fd_;
    int timeout_ms_;
    std::string what_;
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
    std::unique_ptr<SSL, SslFree> ssl_;
};

Transport::Transport(const Endpoint& endpoint, const TlsSettings& tls, int timeout_ms,
                     std::string what)
    : socket_(std::make_unique<Socket>(endpoint, tls, timeout_ms, std::move(what))) {}

Transport::~Transport() = default;

void Transport::write_all(std::string_view bytes) { socket_->write_all(bytes); }

std::size_t Transport::read_some(char* buffer, std::size_t size) {
    return socket_->read_some(buffer, size);
}

void Transport::set_timeout_ms(int timeout_ms) { socket_->set_timeout_ms(timeout_ms); }

}  // namespace mailhook::cli
