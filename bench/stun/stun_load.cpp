// STUN Binding load generator used by bench/stun/run.sh.
//
// Keeps a fixed window of plain 20-byte Binding requests in flight on each of several connected
// UDP sockets and counts the success responses that match a request it sent. Several sockets
// matter because servers that shard with SO_REUSEPORT hash on the 4-tuple: one socket would pin
// the whole load on one shard. Nothing is retransmitted; a request unanswered after
// loss_timeout is counted as lost and its window slot reused, so loss never stalls the run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t header_size = 20;
constexpr std::uint32_t magic_cookie = 0x2112A442;
constexpr std::uint16_t binding_request = 0x0001;
constexpr std::uint16_t binding_success = 0x0101;
constexpr std::size_t max_batch = 64;
constexpr std::size_t recv_size = 1500;
constexpr std::size_t max_recv_rounds = 8; // per readiness event, so one socket cannot starve
constexpr auto loss_timeout = std::chrono::milliseconds(200);
constexpr auto drain_time = std::chrono::milliseconds(200);
constexpr std::uint64_t max_iterations = 500'000'000; // backstop; the deadline ends the run

struct Options {
    std::string host = "127.0.0.1";
    std::string bind = "127.0.0.1";
    std::uint16_t port = 3478;
    double seconds = 5.0;
    std::size_t sockets = 8;
    std::size_t window = 64;
};

// The slot index and a per-slot generation travel in the transaction id: responses are matched
// in O(1), and a late answer to a request already written off as lost is not counted.
struct Slot {
    std::uint32_t generation = 0;
    bool outstanding = false;
    Clock::time_point sent_at{};
};

struct Client {
    int fd = -1;
    std::vector<Slot> slots;
    std::vector<std::uint16_t> free_slots;
};

struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t responses = 0;
    std::uint64_t lost = 0;
    std::uint64_t unmatched = 0;
};

void put_u16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
    put_u16(p, static_cast<std::uint16_t>(v >> 16));
    put_u16(p + 2, static_cast<std::uint16_t>(v));
}

std::uint16_t get_u16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t get_u32(const std::uint8_t* p) {
    return (static_cast<std::uint32_t>(get_u16(p)) << 16) | get_u16(p + 2);
}

// Transaction id layout: run nonce (4) | socket index (1) | slot (2) | generation (4) | 0 (1).
// The random nonce keeps answers to a previous run (e.g. the warm-up) from matching.
void write_request(std::uint8_t* p, std::uint32_t nonce, std::size_t sock, std::uint16_t slot,
                   std::uint32_t generation) {
    put_u16(p, binding_request);
    put_u16(p + 2, 0);
    put_u32(p + 4, magic_cookie);
    put_u32(p + 8, nonce);
    p[12] = static_cast<std::uint8_t>(sock);
    put_u16(p + 13, slot);
    put_u32(p + 15, generation);
    p[19] = 0;
}

bool parse_number(const char* text, double lo, double hi, double& out) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) return false;
    out = v;
    return true;
}

bool parse_options(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string key = argv[i];
        if (i + 1 >= argc) return false;
        const char* value = argv[++i];
        double v = 0;
        if (key == "--host") o.host = value;
        else if (key == "--bind") o.bind = value;
        else if (key == "--port" && parse_number(value, 1, 65535, v))
            o.port = static_cast<std::uint16_t>(v);
        else if (key == "--seconds" && parse_number(value, 0.1, 60, v)) o.seconds = v;
        else if (key == "--sockets" && parse_number(value, 1, 255, v))
            o.sockets = static_cast<std::size_t>(v);
        else if (key == "--window" && parse_number(value, 1, 4096, v))
            o.window = static_cast<std::size_t>(v);
        else return false;
    }
    return true;
}

bool make_address(const std::string& host, std::uint16_t port, sockaddr_in& out) {
    out = {};
    out.sin_family = AF_INET;
    out.sin_port = htons(port);
    return inet_pton(AF_INET, host.c_str(), &out.sin_addr) == 1;
}

int open_client(const sockaddr_in& local, const sockaddr_in& server) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    // A roomy receive buffer so bursts of answers are not dropped by our own socket.
    const int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    // connect() fixes the 4-tuple (stable shard choice) and filters out foreign datagrams.
    if (bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
        connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void send_batch(Client& c, std::size_t index, std::uint32_t nonce, Clock::time_point now,
                Counters& n) {
    const std::size_t count = std::min(c.free_slots.size(), max_batch);
    if (count == 0) return;
    std::array<std::array<std::uint8_t, header_size>, max_batch> bufs{};
    std::array<iovec, max_batch> iov{};
    std::array<mmsghdr, max_batch> msgs{};
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint16_t slot = c.free_slots[c.free_slots.size() - 1 - i];
        write_request(bufs[i].data(), nonce, index, slot, ++c.slots[slot].generation);
        iov[i] = {bufs[i].data(), header_size};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    // Failures (EAGAIN, ECONNREFUSED before the server is up) just leave the slots free.
    const int sent = sendmmsg(c.fd, msgs.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
    for (int i = 0; i < sent; ++i) {
        Slot& s = c.slots[c.free_slots.back()];
        c.free_slots.pop_back();
        s.outstanding = true;
        s.sent_at = now;
        ++n.sent;
    }
}

bool match(Client& c, std::size_t index, std::uint32_t nonce, const std::uint8_t* p,
           std::size_t len) {
    if (len < header_size || get_u16(p) != binding_success ||
        get_u16(p + 2) + header_size != len || get_u32(p + 4) != magic_cookie ||
        get_u32(p + 8) != nonce || p[12] != index)
        return false;
    const std::uint16_t slot = get_u16(p + 13);
    if (slot >= c.slots.size()) return false;
    Slot& s = c.slots[slot];
    if (!s.outstanding || s.generation != get_u32(p + 15)) return false;
    s.outstanding = false;
    c.free_slots.push_back(slot);
    return true;
}

void receive(Client& c, std::size_t index, std::uint32_t nonce, Counters& n) {
    static std::array<std::array<std::uint8_t, recv_size>, max_batch> bufs{};
    std::array<iovec, max_batch> iov{};
    std::array<mmsghdr, max_batch> msgs{};
    for (std::size_t round = 0; round < max_recv_rounds; ++round) {
        for (std::size_t i = 0; i < max_batch; ++i) {
            iov[i] = {bufs[i].data(), recv_size};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int got = recvmmsg(c.fd, msgs.data(), max_batch, MSG_DONTWAIT, nullptr);
        if (got <= 0) return;
        for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
            if (match(c, index, nonce, bufs[i].data(), msgs[i].msg_len)) ++n.responses;
            else ++n.unmatched;
        }
        if (static_cast<std::size_t>(got) < max_batch) return;
    }
}

void expire(Client& c, Clock::time_point now, Counters& n) {
    for (std::size_t i = 0; i < c.slots.size(); ++i) {
        Slot& s = c.slots[i];
        if (s.outstanding && now - s.sent_at > loss_timeout) {
            s.outstanding = false;
            c.free_slots.push_back(static_cast<std::uint16_t>(i));
            ++n.lost;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    Options opt;
    sockaddr_in server{};
    sockaddr_in local{};
    if (!parse_options(argc, argv, opt) || !make_address(opt.host, opt.port, server) ||
        !make_address(opt.bind, 0, local)) {
        std::fprintf(stderr,
                     "usage: stun_load --port P [--host IPV4] [--bind IPV4] [--seconds 0.1-60]"
                     " [--sockets 1-255] [--window 1-4096]\n");
        return 2;
    }
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    std::vector<Client> clients(opt.sockets);
    for (std::size_t i = 0; i < clients.size(); ++i) {
        Client& c = clients[i];
        c.fd = open_client(local, server);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (ep < 0 || c.fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
            std::perror("stun_load: socket setup");
            return 2;
        }
        c.slots.resize(opt.window);
        for (std::size_t s = opt.window; s > 0; --s)
            c.free_slots.push_back(static_cast<std::uint16_t>(s - 1));
    }

    std::random_device rd;
    const std::uint32_t nonce = rd();
    Counters n;
    std::array<epoll_event, 256> events{};
    const auto start = Clock::now();
    const auto deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                    opt.seconds));
    auto now = start;
    auto last_expire = start;
    // The rate is taken up to the last answer, so time spent waiting out a lost request after
    // the deadline does not dilute it.
    auto last_response = start;
    for (std::uint64_t iter = 0; iter < max_iterations; ++iter) {
        now = Clock::now();
        const bool sending = now < deadline;
        // After the deadline, wait briefly for answers to requests already in flight.
        if (!sending && (n.sent == n.responses + n.lost || now >= deadline + drain_time)) break;
        if (sending)
            for (std::size_t i = 0; i < clients.size(); ++i)
                send_batch(clients[i], i, nonce, now, n);
        const int ready = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
        const std::uint64_t before = n.responses;
        for (int e = 0; e < ready; ++e) {
            const auto i = static_cast<std::size_t>(events[static_cast<std::size_t>(e)].data.u64);
            receive(clients[i], i, nonce, n);
        }
        if (n.responses != before) last_response = Clock::now();
        if (now - last_expire > loss_timeout / 4) {
            for (Client& c : clients) expire(c, now, n);
            last_expire = now;
        }
    }
    n.lost = n.sent - n.responses; // whatever is still unanswered after the drain is lost too

    const double seconds =
        std::chrono::duration<double>((n.responses > 0 ? last_response : now) - start).count();
    std::printf("responses=%llu seconds=%.2f rate=%.1f lost=%llu sent=%llu unmatched=%llu\n",
                static_cast<unsigned long long>(n.responses), seconds,
                static_cast<double>(n.responses) / seconds,
                static_cast<unsigned long long>(n.lost), static_cast<unsigned long long>(n.sent),
                static_cast<unsigned long long>(n.unmatched));
    for (Client& c : clients) close(c.fd);
    close(ep);
    return n.responses > 0 ? 0 : 1;
}
