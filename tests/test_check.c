/* The test harness itself (tests/check.h): a test that made no check
 * fails, one that called check_skip() exits with the code ctest reads as
 * skipped (unless a check already failed), a failed check fails, and a
 * passing one passes. Each case runs in a forked child whose exit status
 * the parent checks, so the child's counters are its own. */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Runs body in a child that exits with what body returns (or what it
 * exits with); returns the child's exit status, or -1. The child's output
 * goes to /dev/null: its FAIL lines are expected here. */
static int child_status(int (*body)(void))
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(99);
		check_count = check_failures = 0;
		int rc = body();
		fflush(stdout);
		_exit(rc);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int no_checks(void)
{
	return check_done();
}

static int passing(void)
{
	CHECK(1 + 1 == 2);
	CHECK_EQ(3, 3);
	return check_done();
}

static int failing(void)
{
	CHECK(1 + 1 == 2);
	CHECK_EQ(2, 3);
	return check_done();
}

static int skipped(void)
{
	check_skip("no such device here");
	return 0; /* not reached */
}

static int fail_then_skip(void)
{
	CHECK(0);
	check_skip("too late: a check already failed");
	return 0;
}

static void test_check_zero_checks_fail(void)
{
	CHECK_EQ(child_status(no_checks), 1);
}

static void test_check_outcomes(void)
{
	CHECK_EQ(child_status(passing), 0);
	CHECK_EQ(child_status(failing), 1);
	CHECK_EQ(child_status(skipped), CHECK_SKIP_CODE);
	CHECK_EQ(child_status(fail_then_skip), 1);
}

int main(void)
{
	RUN(test_check_zero_checks_fail);
	RUN(test_check_outcomes);
	return check_done();
}
