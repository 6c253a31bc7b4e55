// SPDX-License-Identifier: BSD-2-Clause
// The Redis limit of `make bench`: the store script with the arguments the
// module would send for the bench's pre-signed requests, built beforehand
// (verify + normalize + store_script_args, as in the module) and then
// driven straight into Redis over one pipelined connection, as fast as Redis
// takes them. What Redis alone can do for mailhook's writes.
//
//   redis_limit PORT FILE MAX_MB DEPTH CONNECTION_ID vendor=... secret=... [k=v ...]
//   (BENCH_TIMESTAMP_TOLERANCE=seconds: as mailhook_timestamp_tolerance)
//
// FILE is bench/run.pl's request file (path \t headers \t body per line).
// BENCH_REDIS_LIMIT_BATCH=N: up to N consecutive small calls (as the module
// batches them: up to 64 arguments each) go as one call of the batch script,
// as the module sends the calls one event-loop iteration collects (default 1).
// Prints: commands, events stored, duplicates, errors, seconds.
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/intake.hpp"
#include "core/resp.hpp"
#include "core/store_script.hpp"
#include "t/unit/test_support.hpp"

using namespace mailhook;

namespace {

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "redis_limit: %s\n", why.c_str());
    std::exit(1);
}

std::string unescaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 'n' || text[i + 1] == 'r')) {
            out += text[++i] == 'n' ? '\n' : '\r';
        } else {
            out += text[i];
        }
    }
    return out;
}

test::MapHeaders headers_of(std::string_view field) {
    test::MapHeaders headers;
    while (!field.empty()) {
        const std::size_t end = std::min(field.find('\x01'), field.size());
        const std::string_view pair = field.substr(0, end);
        const std::size_t colon = pair.find(": ");
        if (colon != std::string_view::npos) {
            headers.set(std::string(pair.substr(0, colon)), std::string(pair.substr(colon + 2)));
        }
        field.remove_prefix(std::min(end + 1, field.size()));
    }
    return headers;
}

struct Commands {
    std::string bytes;              // every EVALSHA, back to back
    std::vector<std::size_t> ends;  // offset just past each command
    std::size_t events = 0;
    std::size_t requests = 0;
};

// The calls of one batch: one EVALSHA, of the batch script when several.
void add_batch(Commands& commands, const std::vector<RespArgs>& calls) {
    if (calls.empty()) return;
    if (calls.size() == 1) {
        commands.bytes += resp_command({"EVALSHA", store_script_sha1()}, calls.front());
    } else {
        std::vector<const RespArgs*> pointers;
        for (const RespArgs& call : calls) pointers.push_back(&call);
        commands.bytes +=
            resp_command({"EVALSHA", store_batch_script_sha1()}, *store_batch_args(pointers));
    }
    commands.ends.push_back(commands.bytes.size());
}

// The module's EVALSHA for each request of the file, until max_bytes.
Commands build(const char* file, std::size_t max_bytes, const Connection& connection,
               const Vendor& vendor) {
    const char* batch_env = std::getenv("BENCH_REDIS_LIMIT_BATCH");
    const std::size_t batch_size = batch_env ? std::max(1, std::atoi(batch_env)) : 1;
    std::vector<RespArgs> batch;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    // as mailhook_timestamp_tolerance (the requests were signed beforehand)
    const char* tolerance_env = std::getenv("BENCH_TIMESTAMP_TOLERANCE");
    const std::int64_t tolerance = tolerance_env ? std::atoll(tolerance_env) : 0;
    std::ifstream in(file);
    if (!in) fail(std::string("cannot read ") + file);
    Commands commands;
    std::string line;
    while (commands.bytes.size() < max_bytes && std::getline(in, line)) {
        const std::size_t tab1 = line.find('\t');
        const std::size_t tab2 = line.find('\t', tab1 + 1);
        if (tab2 == std::string::npos) fail("bad request line");
        const test::MapHeaders headers =
            headers_of(std::string_view(line).substr(tab1 + 1, tab2 - tab1 - 1));
        const std::string body = unescaped(std::string_view(line).substr(tab2 + 1));
        Delivery delivery(body, headers, now);
        if (tolerance) delivery.set_configured_tolerance(tolerance);
        EventOrigin origin;
        origin.vendor = vendor.name();
        origin.connection = connection.id;
        origin.received_at = now;
        const Intake intake = take_in(vendor, delivery, connection, origin);
        if (!intake.verdict.ok()) fail("rejected: " + intake.verdict.reason);
        const StoreTarget target{vendor.name(), connection.id, connection.suppression_scope()};
        RespArgs args = store_script_args(intake, target, StoreKeys{}, StorePolicy{});
        if (args.count() > ScriptCallLimits{}.max_batched_arguments) {
            add_batch(commands, {std::move(args)});
        } else {
            batch.push_back(std::move(args));
            if (batch.size() == batch_size) {
                add_batch(commands, batch);
                batch.clear();
            }
        }
        commands.events += intake.events.size();
        ++commands.requests;
    }
    add_batch(commands, batch);
    return commands;
}

int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        fail("cannot connect to redis");
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

struct ReaderFree {
    void operator()(redisReader* reader) const { redisReaderFree(reader); }
};
struct ReplyFree {
    void operator()(void* reply) const { freeReplyObject(reply); }
};

struct Tally {
    std::size_t replies = 0, stored = 0, duplicates = 0, errors = 0;
};

void count(const redisReply& reply, Tally& tally) {
    tally.replies += 1;
    if (reply.type == REDIS_REPLY_ARRAY && reply.elements > 0 &&
        reply.element[0]->type == REDIS_REPLY_ARRAY) {  // a batch's
        for (std::size_t i = 0; i < reply.elements; ++i) {
            count(*reply.element[i], tally);
            tally.replies -= 1;
        }
        return;
    }
    if (reply.type == REDIS_REPLY_ARRAY && reply.elements == 2) {
        tally.stored += static_cast<std::size_t>(reply.element[0]->integer);
        tally.duplicates += static_cast<std::size_t>(reply.element[1]->integer);
    } else if (reply.type != REDIS_REPLY_STATUS && reply.type != REDIS_REPLY_STRING) {
        if (tally.errors++ == 0 && reply.type == REDIS_REPLY_ERROR) {
            std::fprintf(stderr, "redis_limit: %s\n", reply.str);
        }
    }
}

// Sends `bytes` (commands ending at `ends`), at most `depth` unanswered at a time.
Tally drive(int fd, const std::string& bytes, const std::vector<std::size_t>& ends,
            std::size_t depth) {
    std::unique_ptr<redisReader, ReaderFree> reader(redisReaderCreate());
    Tally tally;
    std::size_t sent_bytes = 0, sent = 0;
    char buffer[1 << 16];
    while (tally.replies < ends.size()) {
        const std::size_t window = std::min(ends.size(), tally.replies + depth);
        if (sent < window) {
            const ssize_t n = write(fd, bytes.data() + sent_bytes, ends[window - 1] - sent_bytes);
            if (n < 0) fail("write failed");
            sent_bytes += static_cast<std::size_t>(n);
            while (sent < ends.size() && ends[sent] <= sent_bytes) ++sent;
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, sent < window ? 0 : 10000) < 0) fail("poll failed");
        if (!(p.revents & POLLIN)) continue;
        const ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n <= 0) fail("redis closed the connection");
        redisReaderFeed(reader.get(), buffer, static_cast<std::size_t>(n));
        void* reply = nullptr;
        while (redisReaderGetReply(reader.get(), &reply) == REDIS_OK && reply) {
            std::unique_ptr<void, ReplyFree> owned(reply);
            count(*static_cast<redisReply*>(reply), tally);
        }
    }
    return tally;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 7) fail("usage: redis_limit PORT FILE MAX_MB DEPTH CONNECTION_ID k=v...");
    FieldList fields;
    for (int i = 6; i < argc; ++i) {
        const std::string_view pair = argv[i];
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) fail("fields are key=value");
        fields.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    }
    std::string error;
    auto connection = connection_from_fields(argv[5], fields, error);
    if (!connection) fail(error);
    const Vendor* vendor = find_vendor(connection->vendor);
    if (!vendor) fail("unknown vendor");
    if (const Verdict v = vendor->prepare(*connection); !v.ok()) fail(v.reason);

    const std::size_t max_bytes = std::strtoull(argv[3], nullptr, 10) << 20;
    const std::size_t depth = std::strtoull(argv[4], nullptr, 10);
    const Commands commands = build(argv[2], max_bytes, *connection, *vendor);

    const int fd = connect_to(std::atoi(argv[1]));
    // SCRIPT LOAD first, as the module does after connecting.
    for (const std::string_view source : {store_script_source(), store_batch_script_source()}) {
        const std::string load = resp_command({"SCRIPT", "LOAD", source});
        if (drive(fd, load, {load.size()}, 1).errors) fail("SCRIPT LOAD failed");
    }
    const auto start = std::chrono::steady_clock::now();
    const Tally tally = drive(fd, commands.bytes, commands.ends, depth ? depth : 1);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    close(fd);
    std::printf("commands %zu requests %zu events %zu stored %zu duplicates %zu errors %zu "
                "seconds %.3f\n",
                commands.ends.size(), commands.requests, commands.events, tally.stored,
                tally.duplicates, tally.errors, seconds.count());
    return tally.errors ? 1 : 0;
}
