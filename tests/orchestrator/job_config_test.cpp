// Job configuration files: defaults, per-job keys, arrays, flags and errors.
#include "orchestrator/run/job_config.h"

#include <gtest/gtest.h>

namespace zsend::orchestrator {
namespace {

constexpr const char* kConfig = R"({
  "defaults": {"state-dir": "/srv/zsend", "mail-to": ["ops@example.com"], "keep-target": "30"},
  "jobs": {
    "nightly": {"target": "backup/nightly", "ssh-target": "root@nas", "keep-target": "10,1d1w",
                "jobs": 2, "no-holds": true, "readonly": false,
                "mail-to": ["a@example.com", "b@example.com"]},
    "vm": {"backup-name": "smartos01", "vm": ["70a4f69b-b45b-420c-8d32-51ed45c1638a"]}
  }
})";

TEST(JobConfigParse, JobKeysOverrideDefaultsAndKeepTheirShapes) {
  Result<JobConfig> job = ParseJobConfig(kConfig, "nightly", "zsend.json");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->backup_name, "nightly");
  EXPECT_EQ(job->target_path, "backup/nightly");
  EXPECT_EQ(job->options["state-dir"], (std::vector<std::string>{"/srv/zsend"}));
  EXPECT_EQ(job->options["keep-target"], (std::vector<std::string>{"10,1d1w"}));
  EXPECT_EQ(job->options["jobs"], (std::vector<std::string>{"2"}));
  EXPECT_EQ(job->options["no-holds"], (std::vector<std::string>{"true"}));
  EXPECT_EQ(job->options.count("readonly"), 0u);
  EXPECT_EQ(job->options["mail-to"], (std::vector<std::string>{"a@example.com", "b@example.com"}));
  Result<JobConfig> vm = ParseJobConfig(kConfig, "vm", "zsend.json");
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->backup_name, "smartos01");
  EXPECT_EQ(vm->options["keep-target"], (std::vector<std::string>{"30"}));
}

TEST(JobConfigParse, ErrorsNameTheFileAndTheProblem) {
  Result<JobConfig> missing = ParseJobConfig(kConfig, "weekly", "zsend.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "zsend.json: no job 'weekly' (jobs: nightly, vm)");
  EXPECT_FALSE(ParseJobConfig("{\"jobs\": {\"a\": {}},}", "a", "x.json").ok());
  EXPECT_FALSE(ParseJobConfig("{\"defaults\": {}}", "a", "x.json").ok());
  Result<JobConfig> nested = ParseJobConfig(R"({"jobs": {"a": {"x": {"y": 1}}}})", "a", "x.json");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("jobs.a.x"), std::string::npos);
  EXPECT_EQ(LoadJobConfig("/nonexistent/zsend.json", "a").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace zsend::orchestrator
