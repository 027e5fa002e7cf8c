// SignalWatch: turns SIGTERM and SIGINT into something a thread can wait for (a
// self-pipe written by the handler). One at a time per process. The handler resets
// itself: a second signal ends the process the default way.
#pragma once

namespace statenet::server {

class SignalWatch {
public:
    SignalWatch();   ///< installs the handlers; throws std::runtime_error without a pipe
    ~SignalWatch();  ///< restores the previous handlers
    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;

    /// Blocks until a signal arrives (true) or cancel() is called (false).
    bool wait();
    /// Ends wait() without a signal.
    void cancel();

private:
    int pipe_[2] = {-1, -1};
};

}  // namespace statenet::server
