// Evaluation of the story-clustering keys (core/textkey.h) on the labelled set: the fixture
// articles of tests/fixtures/sites/*/expected (the TTXVN story on three sites, a revised article)
// and tests/fixtures/clusters/articles.json (distinct stories on one topic, syndicated copies with
// edits, template power-cut notices of different days, print digests of different days, monthly
// reception schedules). Articles are clustered the way the store does it — in arrival order,
// LSH band keys give the candidates, the most similar candidate at or above
// kSameStoryThreshold gives the cluster — and the result is scored over all pairs.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/textkey.h"

namespace baofeed::textkey {
namespace {

namespace fs = std::filesystem;

struct Labelled {
    std::string id;
    std::string story;
    std::string topic;
    Article article;
    Signature signature;
};

Article article_of(const nlohmann::json& j) {
    Article a;
    a.site = j.value("site", "");
    a.title = j.value("title", "");
    a.lead = j.value("lead", "");
    if (j.contains("lead_prefix") && j["lead_prefix"].is_string()) {
        a.lead_prefix = j["lead_prefix"].get<std::string>();
    }
    for (const auto& p : j.at("body")) {
        a.body.push_back(p.get<std::string>());
    }
    return a;
}

nlohmann::json load(const fs::path& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    return nlohmann::json::parse(in);
}

std::vector<Labelled> load_set() {
    std::vector<Labelled> set;
    const fs::path fixtures(BAOFEED_FIXTURES_DIR);
    std::vector<fs::path> files;
    for (const auto& site : fs::directory_iterator(fixtures / "sites")) {
        if (fs::is_directory(site.path() / "expected")) {
            for (const auto& f : fs::directory_iterator(site.path() / "expected")) {
                files.push_back(f.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
        const nlohmann::json j = load(f);
        Labelled l;
        l.id = f.parent_path().parent_path().filename().string() + "/" + f.stem().string();
        // Fixture groups: wire copies and revisions are one story; an alias group is one
        // article anyway. Ungrouped articles are their own story.
        const bool grouped = j.contains("dedup") && j["dedup"]["group"].is_string();
        l.story = grouped ? j["dedup"]["group"].get<std::string>() : l.id;
        l.topic = grouped && l.story.rfind("wire-ttxvn-ret-dam", 0) == 0 ? "weather" : "fixture";
        l.article = article_of(j);
        set.push_back(std::move(l));
    }
    const nlohmann::json generated = load(fixtures / "clusters" / "articles.json");
    for (const auto& j : generated.at("articles")) {
        Labelled l;
        l.id = j.at("id").get<std::string>();
        l.story = j.at("story").get<std::string>();
        l.topic = j.at("topic").get<std::string>();
        l.article = article_of(j);
        set.push_back(std::move(l));
    }
    for (Labelled& l : set) {
        l.signature = signature(l.article);
    }
    return set;
}

// The store's rule: candidates from the LSH index, join the most similar one at or above the
// threshold, else start a new cluster. Returns the cluster of each article.
std::vector<std::size_t> cluster(const std::vector<Labelled>& set) {
    std::unordered_map<std::int64_t, std::vector<std::size_t>> index;
    std::vector<std::size_t> cluster_of(set.size());
    for (std::size_t i = 0; i < set.size(); ++i) {
        const std::vector<std::int64_t> keys = band_keys(set[i].signature);
        std::set<std::size_t> candidates;
        for (std::int64_t k : keys) {
            const auto it = index.find(k);
            if (it != index.end()) {
                candidates.insert(it->second.begin(), it->second.end());
            }
        }
        double best = -1.0;
        std::size_t best_index = i;
        for (std::size_t c : candidates) {
            const double s = similarity(set[i].signature, set[c].signature);
            if (s > best) {
                best = s;
                best_index = c;
            }
        }
        cluster_of[i] = best >= kSameStoryThreshold ? cluster_of[best_index] : i;
        for (std::int64_t k : keys) {
            index[k].push_back(i);
        }
    }
    return cluster_of;
}

struct Scores {
    std::size_t same_pairs = 0;      // pairs labelled the same story
    std::size_t distinct_pairs = 0;  // pairs labelled distinct stories
    std::size_t same_topic_distinct_pairs = 0;
    std::size_t true_merges = 0;   // same story, same cluster
    std::size_t false_merges = 0;  // distinct stories, same cluster
    std::size_t same_topic_false_merges = 0;
    std::vector<std::string> misses;  // same story, different clusters
    std::vector<std::string> merges;  // distinct stories, same cluster
};

Scores score(const std::vector<Labelled>& set, const std::vector<std::size_t>& cluster_of) {
    Scores s;
    for (std::size_t i = 0; i < set.size(); ++i) {
        for (std::size_t j = i + 1; j < set.size(); ++j) {
            const bool same = set[i].story == set[j].story;
            const bool merged = cluster_of[i] == cluster_of[j];
            const std::string pair =
                set[i].id + " ~ " + set[j].id + " (similarity " +
                std::to_string(similarity(set[i].signature, set[j].signature)) + ")";
            if (same) {
                ++s.same_pairs;
                if (merged) {
                    ++s.true_merges;
                } else {
                    s.misses.push_back(pair);
                }
                continue;
            }
            ++s.distinct_pairs;
            const bool same_topic = set[i].topic == set[j].topic && set[i].topic != "fixture";
            s.same_topic_distinct_pairs += same_topic ? 1 : 0;
            if (merged) {
                ++s.false_merges;
                s.same_topic_false_merges += same_topic ? 1 : 0;
                s.merges.push_back(pair);
            }
        }
    }
    return s;
}

class ClusterEval : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        set_ = new std::vector<Labelled>(load_set());
        clusters_ = new std::vector<std::size_t>(cluster(*set_));
        scores_ = new Scores(score(*set_, *clusters_));
    }
    static void TearDownTestSuite() {
        delete scores_;
        delete clusters_;
        delete set_;
    }
    static std::vector<Labelled>* set_;
    static std::vector<std::size_t>* clusters_;
    static Scores* scores_;
};

std::vector<Labelled>* ClusterEval::set_ = nullptr;
std::vector<std::size_t>* ClusterEval::clusters_ = nullptr;
Scores* ClusterEval::scores_ = nullptr;

TEST_F(ClusterEval, ReportsPrecisionAndRecallOverAllPairs) {
    const Scores& s = *scores_;
    std::set<std::string> stories;
    for (const Labelled& l : *set_) {
        stories.insert(l.story);
    }
    const double precision = s.true_merges + s.false_merges == 0
                                 ? 1.0
                                 : static_cast<double>(s.true_merges) /
                                       static_cast<double>(s.true_merges + s.false_merges);
    const double recall =
        s.same_pairs == 0 ? 0.0
                          : static_cast<double>(s.true_merges) / static_cast<double>(s.same_pairs);
    std::printf(
        "cluster-eval: %zu articles, %zu stories, %zu pairs tested: %zu same-story, %zu "
        "distinct (%zu distinct on one topic)\n"
        "cluster-eval: precision %.4f recall %.4f (true merges %zu, missed %zu, false merges %zu, "
        "%zu on one topic) false merges per 1000 distinct pairs %.3f\n",
        set_->size(), stories.size(), s.same_pairs + s.distinct_pairs, s.same_pairs,
        s.distinct_pairs, s.same_topic_distinct_pairs, precision, recall, s.true_merges,
        s.misses.size(), s.false_merges, s.same_topic_false_merges,
        1000.0 * static_cast<double>(s.false_merges) / static_cast<double>(s.distinct_pairs));
    for (const std::string& m : s.misses) {
        std::printf("cluster-eval: missed %s\n", m.c_str());
    }
    for (const std::string& m : s.merges) {
        std::printf("cluster-eval: FALSE MERGE %s\n", m.c_str());
    }
    EXPECT_GE(set_->size(), 170U);
    EXPECT_GE(s.same_pairs, 100U);
    EXPECT_GE(recall, 0.9);
    EXPECT_LT(static_cast<double>(s.false_merges) * 1000.0, static_cast<double>(s.distinct_pairs));
}

TEST_F(ClusterEval, ReportsTheSimilarityMarginBetweenSameAndDistinctStories) {
    // Pairwise, independent of arrival order: the lowest similarity of a same-story pair and
    // the highest of a distinct pair on one topic.
    double lowest_same = 1.0;
    double highest_distinct = 0.0;
    std::string lowest_pair;
    std::string highest_pair;
    for (std::size_t i = 0; i < set_->size(); ++i) {
        for (std::size_t j = i + 1; j < set_->size(); ++j) {
            const Labelled& a = (*set_)[i];
            const Labelled& b = (*set_)[j];
            const double sim = similarity(a.signature, b.signature);
            if (a.story == b.story && sim < lowest_same) {
                lowest_same = sim;
                lowest_pair = a.id + " ~ " + b.id;
            }
            if (a.story != b.story && sim > highest_distinct) {
                highest_distinct = sim;
                highest_pair = a.id + " ~ " + b.id;
            }
        }
    }
    // The pairwise rule (candidates by band key, then similarity >= t) at several thresholds:
    // how the threshold was chosen.
    for (double t = 0.43; t < 0.76; t += 0.05) {
        std::size_t missed = 0;
        std::size_t merged = 0;
        for (std::size_t i = 0; i < set_->size(); ++i) {
            const std::vector<std::int64_t> ki = band_keys((*set_)[i].signature);
            for (std::size_t j = i + 1; j < set_->size(); ++j) {
                const std::vector<std::int64_t> kj = band_keys((*set_)[j].signature);
                bool candidate = false;
                for (std::size_t b = 0; b < ki.size() && b < kj.size(); ++b) {
                    candidate = candidate || ki[b] == kj[b];
                }
                const bool joined =
                    candidate && similarity((*set_)[i].signature, (*set_)[j].signature) >= t;
                const bool same = (*set_)[i].story == (*set_)[j].story;
                missed += same && !joined ? 1 : 0;
                merged += !same && joined ? 1 : 0;
            }
        }
        if (t <= kSameStoryThreshold && kSameStoryThreshold < t + 0.05) {
            EXPECT_LT(static_cast<double>(merged) * 1000.0,
                      static_cast<double>(set_->size() * (set_->size() - 1) / 2));
        }
        std::printf(
            "cluster-eval: pairwise at threshold %.2f: %zu same-story pairs missed, %zu "
            "distinct pairs joined\n",
            t, missed, merged);
    }
    std::printf("cluster-eval: lowest same-story similarity %.3f (%s)\n", lowest_same,
                lowest_pair.c_str());
    std::printf("cluster-eval: highest distinct-story similarity %.3f (%s)\n", highest_distinct,
                highest_pair.c_str());
}

TEST_F(ClusterEval, PutsTheThreeFixtureCopiesOfTheWireStoryInOneCluster) {
    std::set<std::size_t> clusters;
    int copies = 0;
    for (std::size_t i = 0; i < set_->size(); ++i) {
        if ((*set_)[i].story == "wire-ttxvn-ret-dam-2412") {
            clusters.insert((*clusters_)[i]);
            ++copies;
        }
    }
    EXPECT_EQ(copies, 3);
    EXPECT_EQ(clusters.size(), 1U);
}

// Monthly reception schedules ("reception") are not asserted: three short lines change between
// months and the rest is fixed boilerplate; the first test prints their merges.
TEST_F(ClusterEval, NeverMergesDigestsOrPowerCutNoticesOfDifferentDays) {
    for (const char* topic : {"digest", "power-cut"}) {
        std::map<std::size_t, std::set<std::string>> stories_of_cluster;
        for (std::size_t i = 0; i < set_->size(); ++i) {
            if ((*set_)[i].topic == topic) {
                stories_of_cluster[(*clusters_)[i]].insert((*set_)[i].story);
            }
        }
        EXPECT_GE(stories_of_cluster.size(), 8U) << topic;
        for (const auto& [c, stories] : stories_of_cluster) {
            EXPECT_EQ(stories.size(), 1U)
                << topic << ": " << *stories.begin() << " and " << *stories.rbegin();
        }
    }
}

}  // namespace
}  // namespace baofeed::textkey
