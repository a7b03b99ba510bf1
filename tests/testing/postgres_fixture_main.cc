// `postgres_fixture start|stop DIR`: the CTest fixture that runs one PostgreSQL server for every
// test of a build (see postgres_server.h). Without PostgreSQL installed, `start` succeeds and
// leaves no server: the tests that need one then skip and say why.

#include <cstdio>
#include <cstring>

#include "testing/postgres_server.h"

int main(int argc, char** argv) {
  using meshwork::testing::PostgresServer;
  if (argc != 3 || (std::strcmp(argv[1], "start") != 0 && std::strcmp(argv[1], "stop") != 0)) {
    std::fprintf(stderr, "usage: postgres_fixture start|stop DIR\n");
    return 2;
  }
  std::string error;
  if (std::strcmp(argv[1], "stop") == 0) {
    if (!PostgresServer::Stop(argv[2], error)) {
      std::fprintf(stderr, "cannot stop PostgreSQL in %s: %s\n", argv[2], error.c_str());
      return 1;
    }
    return 0;
  }
  PostgresServer::Stop(argv[2], error);  // a server a killed run left behind
  if (!PostgresServer::BinaryDirectory()) {
    std::printf("PostgreSQL is not installed: PostgreSQL tests will skip\n");
    return 0;
  }
  auto server = PostgresServer::Start(argv[2], error);
  if (!server) {
    std::fprintf(stderr, "cannot start PostgreSQL in %s: %s\n", argv[2], error.c_str());
    return 1;
  }
  std::printf("PostgreSQL for the tests: %s\n", server->Url().c_str());
  // Keep it running after this process exits; the `stop` fixture stops it.
  server->KeepRunning();
  return 0;
}
