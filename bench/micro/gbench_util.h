// Helpers shared by the Google Benchmark programs in bench/ (the io_uring
// load tools have their own, bench/load/load_util.h).
//
// bench_quick(): CR_BENCH_QUICK=1 (set by scripts/test) asks for a smoke run.
// bench_heap_allocated(): bytes this thread has allocated so far, from
// jemalloc (linked into every Release program), for heap-per-op counters;
// HeapCounter reports them as heap_B/op.
// FailReporter: console output as usual, and every run that reported an
// error (SkipWithError: a failed correctness check) is counted and named on
// stderr, so bench_finish() makes the program exit non-zero and scripts/test
// fails (Google Benchmark itself returns 0 whatever happened).
// RateReporter: a FailReporter that also keeps every run's bytes_per_second
// by "name/arg" so Finalize() can print one figure as a share of a
// baseline measured in the same run (medians win when repetitions are on).
// bench_main(): Initialize, run with a FailReporter, Shutdown, exit status.
#ifndef CR_BENCH_GBENCH_UTIL_H
#define CR_BENCH_GBENCH_UTIL_H

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <jemalloc/jemalloc.h>
#include <unistd.h>

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

// Declared before a benchmark's loop: when the run ends, the heap bytes per
// iteration as the counter heap_B/op.
struct HeapCounter {
	benchmark::State &state;
	uint64_t before = bench_heap_allocated();
	explicit HeapCounter(benchmark::State &s) : state(s) {}
	~HeapCounter()
	{
		uint64_t n = state.iterations();
		state.counters["heap_B/op"] = n ? (double)(bench_heap_allocated() - before) / (double)n : 0;
	}
};

inline benchmark::ConsoleReporter::OutputOptions bench_console_options()
{
	return isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
				     : benchmark::ConsoleReporter::OO_Tabular;
}

class FailReporter : public benchmark::ConsoleReporter {
public:
	explicit FailReporter(OutputOptions opts = bench_console_options()) : ConsoleReporter(opts) {}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		ConsoleReporter::ReportRuns(runs);
		for (const Run &r : runs)
			if (r.error_occurred) {
				failures_++;
				std::fprintf(stderr, "benchmark %s failed: %s\n",
					     r.benchmark_name().c_str(), r.error_message.c_str());
			}
	}

	int failures() const { return failures_; }

private:
	int failures_ = 0;
};

// The exit status for main(): non-zero when any benchmark reported an
// error, or when none ran (a filter that matches nothing is a mistake too).
inline int bench_finish(const FailReporter &rep, size_t ran)
{
	if (ran == 0)
		std::fprintf(stderr, "no benchmark ran\n");
	if (rep.failures())
		std::fprintf(stderr, "%d benchmark(s) failed\n", rep.failures());
	return rep.failures() || ran == 0 ? 1 : 0;
}

inline int bench_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	FailReporter rep;
	size_t ran = benchmark::RunSpecifiedBenchmarks(&rep);
	benchmark::Shutdown();
	return bench_finish(rep, ran);
}

class RateReporter : public FailReporter {
public:
	explicit RateReporter(OutputOptions opts) : FailReporter(opts) {}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		FailReporter::ReportRuns(runs);
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
