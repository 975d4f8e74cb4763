// Helpers shared by the Google Benchmark programs in bench/ (the io_uring
// load tools have their own, bench/load/load_util.h).
//
// bench_quick(): CR_BENCH_QUICK=1 (set by scripts/test) asks for a smoke run.
// bench_heap_allocated(): bytes this thread has allocated so far, from
// jemalloc (linked into every Release program), for heap-per-op counters.
// RateReporter: console output as usual, plus every run's bytes_per_second
// kept by "name/arg" so Finalize() can print one figure as a share of a
// baseline measured in the same run (medians win when repetitions are on).
#ifndef CR_BENCH_GBENCH_UTIL_H
#define CR_BENCH_GBENCH_UTIL_H

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <jemalloc/jemalloc.h>

inline bool bench_quick()
{
	const char *q = std::getenv("CR_BENCH_QUICK");
	return q != nullptr && std::strcmp(q, "1") == 0;
}

inline uint64_t bench_heap_allocated()
{
	uint64_t v = 0;
	size_t len = sizeof(v);
	if (mallctl("thread.allocated", &v, &len, nullptr, 0) != 0)
		return 0;
	return v;
}

class RateReporter : public benchmark::ConsoleReporter {
public:
	explicit RateReporter(OutputOptions opts) : ConsoleReporter(opts) {}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		ConsoleReporter::ReportRuns(runs);
		for (const Run &r : runs) {
			// With --benchmark_repetitions the median follows the single
			// runs and replaces them; other aggregates are not rates.
			if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median")
				continue;
			auto it = r.counters.find("bytes_per_second");
			if (it != r.counters.end() && !r.error_occurred)
				rates_[r.run_name.function_name + "/" + r.run_name.args] = it->second.value;
		}
	}

protected:
	// The rate of benchmark `name` (with its trailing '/') at `arg`, or 0.
	double rate(const char *name, const char *arg) const
	{
		auto it = rates_.find(std::string(name) + arg);
		return it == rates_.end() ? 0 : it->second;
	}

private:
	std::map<std::string, double> rates_;
};

#endif
