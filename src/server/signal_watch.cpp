// SignalWatch: SIGTERM and SIGINT through a self-pipe.
#include "server/signal_watch.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <stdexcept>

namespace statenet::server {

namespace {

int write_end = -1;
struct sigaction previous_term {};
struct sigaction previous_int {};

constexpr char signalled = 's';
constexpr char cancelled = 'c';

extern "C" void on_signal(int) {
    const int saved = errno;
    const char byte = signalled;
    // Async-signal-safe; a full pipe already holds a wake-up.
    [[maybe_unused]] const auto written = ::write(write_end, &byte, 1);
    errno = saved;
}

}  // namespace

SignalWatch::SignalWatch() {
    if (::pipe2(pipe_, O_CLOEXEC) != 0) throw std::runtime_error("cannot create the signal pipe");
    write_end = pipe_[1];
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND | SA_RESTART;
    ::sigaction(SIGTERM, &action, &previous_term);
    ::sigaction(SIGINT, &action, &previous_int);
}

SignalWatch::~SignalWatch() {
    ::sigaction(SIGTERM, &previous_term, nullptr);
    ::sigaction(SIGINT, &previous_int, nullptr);
    write_end = -1;
    ::close(pipe_[0]);
    ::close(pipe_[1]);
}

bool SignalWatch::wait() {
    char byte = 0;
    for (;;) {
        const auto n = ::read(pipe_[0], &byte, 1);
        if (n == 1) return byte == signalled;
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
}

void SignalWatch::cancel() {
    const char byte = cancelled;
    [[maybe_unused]] const auto written = ::write(pipe_[1], &byte, 1);
}

}  // namespace statenet::server
