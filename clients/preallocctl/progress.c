// SPDX-License-Identifier: Apache-2.0
// progress.c: bytes done of total, rate and ETA, redrawn with \r on stderr.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "prealloc/util.h"
#include "progress.h"

#define PROGRESS_WIDTH 24

// Set by the handler only; read by the callback, which does the work a
// handler may not (printing, an RPC).
static volatile sig_atomic_t progress_sigint;

static void
progress_on_sigint(int sig)
{
	(void) sig;
	progress_sigint = 1;
}

void
progress_start(progress *p, bool cancel_on_sigint)
{
	struct sigaction sa;

	memset(p, 0, sizeof(*p));
	p->tty          = isatty(STDERR_FILENO) == 1;
	progress_sigint = 0;
	if (!cancel_on_sigint)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = progress_on_sigint;
	// Once only: a second Ctrl-C stops waiting for the agent.
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

// "1:05" or "-" when the rate is not known yet.
static void
progress_eta(char *buf, size_t size, uint64_t left, double rate)
{
	uint64_t s;

	if (rate <= 0) {
		snprintf(buf, size, "-");
		return;
	}
	s = (uint64_t) ((double) left / rate);
	snprintf(buf, size, "%llu:%02llu", (unsigned long long) (s / 60),
	    (unsigned long long) (s % 60));
}

// One line: [#####-----]  45%  1.2Gi/4.0Gi  350.0Mi/s  ETA 0:08
static void
progress_draw(progress *p, const pa_job *job)
{
	uint64_t total = job->bytes_total, done = job->bytes_done;
	double   secs = (double) (pa_clock_ns() - p->start_ns) / 1e9;
	double   rate = secs > 0.05
	      ? (double) (done -
                  (done > p->start_bytes ? p->start_bytes : done)) /
                secs
	      : 0;
	unsigned pct  = total ? (unsigned) (done * 100 / total) : 0;
	char     bar[PROGRESS_WIDTH + 1], d[OUTPUT_BYTES_SIZE],
	    t[OUTPUT_BYTES_SIZE], r[OUTPUT_BYTES_SIZE + 4], eta[48];

	if (pa_job_state_done(job->state) && job->state == PA_JOB_SUCCEEDED)
		pct = 100;
	for (unsigned i = 0; i < PROGRESS_WIDTH; i++)
		bar[i] = i < pct * PROGRESS_WIDTH / 100 ? '#' : '-';
	bar[PROGRESS_WIDTH] = '\0';
	progress_eta(eta, sizeof(eta), total > done ? total - done : 0, rate);
	if (rate > 0)
		snprintf(
		    r, sizeof(r), "%s/s", output_bytes(t, (uint64_t) rate));
	else
		snprintf(r, sizeof(r), "-/s");
	fprintf(stderr, "\r[%s] %3u%%  %s/%s  %s  ETA %s  %-9s", bar, pct,
	    output_bytes(d, done), output_bytes(t, total), r, eta,
	    pa_job_state_name(job->state));
	fflush(stderr);
	p->drawn = true;
}

int
progress_update(void *arg, const pa_job *job)
{
	progress *p = arg;

	if (p->start_ns == 0) {
		p->start_ns    = pa_clock_ns();
		p->start_bytes = job->bytes_done;
	}
	if (p->tty)
		progress_draw(p, job);
	if (progress_sigint && !p->told && !pa_job_state_done(job->state)) {
		fprintf(stderr,
		    "%scancelling job %s; waiting for the agent to restore "
		    "%s (Ctrl-C again to stop waiting)\n",
		    p->drawn ? "\n" : "", job->id, job->path);
		p->told  = true;
		p->drawn = false;
	}
	return progress_sigint ? 1 : 0;
}

void
progress_stop(progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
	signal(SIGINT, SIG_DFL);
}
