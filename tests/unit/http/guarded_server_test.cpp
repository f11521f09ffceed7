// ConnectionPool: one thread per connection up to the cap, then refusal on
// the enqueuing thread instead of a queue.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/guarded_server.hpp"

using namespace mailer::http;

namespace {

// Tasks that block until release(), counting how many run at once.
class Gate {
 public:
  std::function<void()> task() {
    return [this] {
      std::unique_lock lock(m_mutex);
      ++m_running;
      m_changed.notify_all();
      m_changed.wait(lock, [&] { return m_open; });
    };
  }
  bool wait_running(int count) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, std::chrono::seconds(5), [&] { return m_running == count; });
  }
  void release() {
    std::scoped_lock lock(m_mutex);
    m_open = true;
    m_changed.notify_all();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  int m_running = 0;
  bool m_open = false;
};

}  // namespace

TEST_CASE("ConnectionPool runs every connection on its own thread up to the cap", "[http]") {
  ConnectionPool pool(64);
  Gate gate;
  for (int i = 0; i < 50; ++i) pool.enqueue(gate.task());
  CHECK(gate.wait_running(50));  // cpp-httplib's ThreadPool would run 8 and queue the rest
  CHECK(pool.thread_count() == 50);
  gate.release();
  pool.shutdown();
}

TEST_CASE("ConnectionPool refuses on the caller's thread when every thread is busy", "[http]") {
  ConnectionPool pool(2);
  Gate gate;
  pool.enqueue(gate.task());
  pool.enqueue(gate.task());
  REQUIRE(gate.wait_running(2));
  std::thread::id ran_on;
  bool refused = false;
  pool.enqueue([&] {
    ran_on = std::this_thread::get_id();
    refused = refusing_connection();
  });
  CHECK(ran_on == std::this_thread::get_id());
  CHECK(refused);
  CHECK_FALSE(refusing_connection());
  gate.release();
  pool.shutdown();
  pool.shutdown();  // idempotent, as the destructor calls it again
}

TEST_CASE("ConnectionPool reuses idle threads", "[http]") {
  ConnectionPool pool(4);
  std::atomic<int> done{0};
  for (int i = 0; i < 20; ++i) {
    pool.enqueue([&] { ++done; });
    while (done != i + 1) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the thread is idle again
  }
  CHECK(pool.thread_count() == 1);
  pool.shutdown();
  CHECK(done == 20);
}
