#include "server/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshwork::server {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersCountersHistogramsAndCommitOutcomes) {
  Metrics metrics;
  metrics.Record({.method = "GET", .route = "loadTable", .status = 200, .seconds = 0.0007});
  metrics.Record({.method = "GET", .route = "loadTable", .status = 200, .seconds = 0.3});
  metrics.Record({.method = "POST", .route = "updateTable", .status = 409, .seconds = 0.002});
  metrics.Record({.method = "POST", .route = "updateTable", .status = 200, .seconds = 0.004});
  metrics.Record({.method = "GET", .route = "", .status = 404, .seconds = 0.0001});
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("meshwork_http_requests_total{route=\"loadTable\",method=\"GET\","
                              "status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"));
  // Cumulative buckets: 0.0007 s is under 0.001, 0.3 s only under 0.5 and up.
  EXPECT_THAT(text, HasSubstr("meshwork_http_request_duration_seconds_bucket{route=\"loadTable\","
                              "le=\"0.0005\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("meshwork_http_request_duration_seconds_bucket{route=\"loadTable\","
                              "le=\"0.001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("meshwork_http_request_duration_seconds_bucket{route=\"loadTable\","
                              "le=\"0.5\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("meshwork_http_request_duration_seconds_bucket{route=\"loadTable\","
                              "le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("meshwork_http_request_duration_seconds_count{route=\"loadTable\"} 2"));
  EXPECT_THAT(text, HasSubstr("meshwork_catalog_commits_total{outcome=\"committed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("meshwork_catalog_commits_total{outcome=\"conflict\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("meshwork_catalog_commits_total{outcome=\"failed\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE meshwork_http_request_duration_seconds histogram\n"));
}

}  // namespace
}  // namespace meshwork::server
