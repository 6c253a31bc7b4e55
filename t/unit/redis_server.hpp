// SPDX-License-Identifier: BSD-2-Clause
// A real redis-server for unit tests that need Redis's own answers (the
// store scripts, CLUSTER KEYSLOT): started on a unix socket in a temporary
// directory (no port to race for), spoken to in RESP, stopped with its
// owner. Tests skip when redis-server is not installed.
#pragma once

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/resp.hpp"

namespace mailhook::test {

// One reply: a status, error, integer, bulk string (nil: is_nil) or array.
struct Reply {
    enum class Kind { status, error, integer, bulk, nil, array };
    Kind kind = Kind::nil;
    std::string text;  // status, error or bulk
    long long integer = 0;
    std::vector<Reply> elements;

    bool is_error() const { return kind == Kind::error; }
};

class RedisServer {
  public:
    // extra: more redis-server options ("--cluster-enabled yes").
    explicit RedisServer(std::vector<std::string> extra = {}) {
        if (std::system("command -v redis-server >/dev/null 2>&1") != 0) return;
        dir_ = make_dir();
        socket_ = dir_ + "/redis.sock";
        std::vector<std::string> argv = {"redis-server", "--port", "0", "--unixsocket", socket_,
                                         "--save", "", "--appendonly", "no", "--dir", dir_,
                                         "--logfile", dir_ + "/redis.log"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        pid_ = fork();
        if (pid_ == 0) {
            std::vector<char*> args;
            for (std::string& arg : argv) args.push_back(arg.data());
            args.push_back(nullptr);
            execvp("redis-server", args.data());
            _exit(127);
        }
        // Up to 15 s: a loaded machine (a landing train) can be that slow.
        for (int i = 0; i < 750 && fd_ < 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            fd_ = try_connect(socket_);
        }
        if (fd_ < 0) throw std::runtime_error("redis-server did not start");
    }
    ~RedisServer() {
        if (fd_ >= 0) close(fd_);
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
        if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
    }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    bool available() const { return fd_ >= 0; }

    Reply command(std::initializer_list<std::string_view> args) {
        return send(resp_command(args));
    }
    // A command given as a head and an already encoded tail (script calls).
    Reply command(std::initializer_list<std::string_view> head, const RespArgs& tail) {
        return send(resp_command(head, tail));
    }

  private:
    static std::string make_dir() {
        char pattern[] = "/tmp/mailhook-unit-redis-XXXXXX";
        if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
        return pattern;
    }
    static int try_connect(const std::string& path) {
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
        close(fd);
        return -1;
    }

    Reply send(const std::string& command) {
        if (fd_ < 0) throw std::runtime_error("redis-server is not running");
        for (std::size_t sent = 0; sent < command.size();) {
            const ssize_t n = write(fd_, command.data() + sent, command.size() - sent);
            if (n <= 0) throw std::runtime_error("write to redis failed");
            sent += static_cast<std::size_t>(n);
        }
        return read_reply();
    }
    char next() {
        if (pos_ == buffer_.size()) {
            buffer_.clear();
            pos_ = 0;
            char chunk[65536];
            const ssize_t n = read(fd_, chunk, sizeof(chunk));
            if (n <= 0) throw std::runtime_error("read from redis failed");
            buffer_.assign(chunk, static_cast<std::size_t>(n));
        }
        return buffer_[pos_++];
    }
    std::string line() {
        std::string out;
        for (char c = next(); c != '\r'; c = next()) out.push_back(c);
        next();  // '\n'
        return out;
    }
    Reply read_reply() {
        Reply reply;
        const char type = next();
        const std::string head = line();
        switch (type) {
            case '+': reply.kind = Reply::Kind::status; reply.text = head; break;
            case '-': reply.kind = Reply::Kind::error; reply.text = head; break;
            case ':': reply.kind = Reply::Kind::integer; reply.integer = std::stoll(head); break;
            case '$': {
                const long long size = std::stoll(head);
                if (size < 0) break;
                reply.kind = Reply::Kind::bulk;
                for (long long i = 0; i < size; ++i) reply.text.push_back(next());
                line();
                break;
            }
            case '*': {
                const long long size = std::stoll(head);
                if (size < 0) break;
                reply.kind = Reply::Kind::array;
                for (long long i = 0; i < size; ++i) reply.elements.push_back(read_reply());
                break;
            }
            default: throw std::runtime_error("unexpected reply type");
        }
        return reply;
    }

    std::string dir_;
    std::string socket_;
    pid_t pid_ = -1;
    int fd_ = -1;
    std::string buffer_;
    std::size_t pos_ = 0;
};

// A test suite with its own redis-server, flushed before each test; with
// kCluster a cluster-enabled node that owns every slot.
template <bool kCluster = false>
class RedisSuite : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (!kCluster) {
            redis_ = new RedisServer();
            return;
        }
        redis_ = new RedisServer({"--cluster-enabled", "yes", "--cluster-config-file",
                                  "nodes.conf"});
        if (!redis_->available()) return;
        redis_->command({"CLUSTER", "ADDSLOTSRANGE", "0", "16383"});
        for (int i = 0; i < 250; ++i) {
            const Reply info = redis_->command({"CLUSTER", "INFO"});
            if (info.text.find("cluster_state:ok") != std::string::npos) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("cluster node did not get ready");
    }
    static void TearDownTestSuite() {
        delete redis_;
        redis_ = nullptr;
    }
    void SetUp() override {
        if (!redis_->available()) GTEST_SKIP() << "redis-server not installed";
        redis_->command({"FLUSHALL"});
    }
    static long long integer(std::initializer_list<std::string_view> command) {
        return redis_->command(command).integer;
    }

    static inline RedisServer* redis_ = nullptr;
};

}  // namespace mailhook::test
