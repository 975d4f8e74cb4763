/* connring-top's screen: header with totals and rates, one row per worker,
 * recent connect/disconnect events, and the scrolling peer table, laid out
 * for 80x24 and using more room when there is more. Screen thread only. */
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/top_view.h"

static void human(char *out, size_t cap, double v, const char *unit)
{
	static const char *const pfx[] = {"", "k", "M", "G", "T"};
	int i = 0;
	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, cap, i ? "%.1f%s%s" : "%.0f%s%s", v, pfx[i], unit);
}

static void age(char *out, size_t cap, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 3600)
		snprintf(out, cap, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else if (s < 86400)
		snprintf(out, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60 % 60));
	else
		snprintf(out, cap, "%dd%02dh", (int)(s / 86400), (int)(s / 3600 % 24));
}

static void header(const struct top_view *v, const struct top_snapshot *s, int w)
{
	char up[16], sr[16], rr[16], mr[16], ts[16], tr[16];
	attron(A_REVERSE);
	mvhline(0, 0, ' ', w);
	age(up, sizeof(up), s ? s->uptime : 0);
	mvprintw(0, 0, " connring-top  %s  up %s  refresh %.1fs (fetch %.0f ms)", v->target, up,
		 v->refresh_ms / 1000.0, s ? s->fetch_ms : 0.0);
	if (w > 12)
		mvprintw(0, w - 12, " h:help q:quit");
	attroff(A_REVERSE);
	if (!s) {
		mvprintw(1, 0, "waiting for connringd ...");
		return;
	}
	human(sr, sizeof(sr), s->sent_rate, "B/s");
	human(rr, sizeof(rr), s->recv_rate, "B/s");
	human(mr, sizeof(mr), s->msg_rate, "/s");
	human(ts, sizeof(ts), (double)s->sent, "B");
	human(tr, sizeof(tr), (double)s->recv, "B");
	mvprintw(1, 0, "peers %zu  in %u  out %u  v1 %u  v2 %u", s->n, s->nin, s->nout, s->nv1, s->nv2);
	mvprintw(2, 0, "sent %s (%s)  recv %s (%s)  msgs %s", sr, ts, rr, tr, mr);
}

/* Rows for workers and events at this height. */
static void budget(int h, unsigned nworkers, int *wrows, int *erows)
{
	int spare = h - 24;
	*wrows = 2 + (spare > 0 ? spare / 3 : 0);
	if (*wrows > (int)nworkers)
		*wrows = nworkers ? (int)nworkers : 1;
	*erows = 3 + (spare > 0 ? spare / 3 : 0);
}

static int workers(const struct top_snapshot *s, int y, int rows)
{
	if (!s || !s->nworkers) {
		mvprintw(y, 0, "workers: per-worker figures not offered by this connringd");
		return y + 1;
	}
	for (int i = 0; i < rows && i < (int)s->nworkers; i++)
		mvprintw(y++, 0, "%s", s->workers[i]);
	return y;
}

static int events(const struct top_model *m, int y, int rows, int w)
{
	attron(A_BOLD);
	mvprintw(y++, 0, "recent events");
	attroff(A_BOLD);
	unsigned n = m->nevents < TOP_EVENTS ? m->nevents : TOP_EVENTS;
	for (int i = 0; i < rows; i++) {
		if ((unsigned)i >= n) {
			y++;
			continue;
		}
		const struct top_event *e = &m->events[(m->nevents - 1 - (unsigned)i) % TOP_EVENTS];
		time_t t = (time_t)e->time;
		struct tm tm;
		gmtime_r(&t, &tm);
		mvprintw(y++, 0, "%02d:%02d:%02d %.*s", tm.tm_hour, tm.tm_min, tm.tm_sec, w - 10, e->text);
	}
	return y;
}

static void peer_row(const struct top_snapshot *s, const struct top_peer *p, int y, int w, bool sel)
{
	char ag[16], by[16], ra[16], ms[16], pi[16] = "-";
	age(ag, sizeof(ag), s->time - p->conntime);
	human(by, sizeof(by), (double)p->bytes, "B");
	human(ra, sizeof(ra), p->rate, "B/s");
	human(ms, sizeof(ms), (double)p->msgs, "");
	if (p->ping_us >= 0)
		snprintf(pi, sizeof(pi), "%.0fms", p->ping_us / 1000.0);
	if (sel)
		attron(A_REVERSE);
	mvhline(y, 0, ' ', w);
	mvprintw(y, 0, "%-21.21s %-5.5s %-6.6s %-2.2s %6.6s %8.8s %8.8s %7.7s %6.6s", p->addr, p->net,
		 p->type, p->tp, ag, by, ra, ms, pi);
	if (w >= 100)
		mvprintw(y, 80, " %-12.12s %-.*s", p->gtext, w - 95, p->subver);
	if (sel)
		attroff(A_REVERSE);
}

static void help_screen(int h, int w)
{
	static const char *const lines[] = {
		"connring-top keys",
		"",
		"  s / S      next / previous sort key (bytes, rate, msgs, ping, age,",
		"             netgroup, transport, type)",
		"  r          reverse the order",
		"  /          filter: type text, Enter to apply, Esc to clear",
		"  c          clear the filter",
		"  Up Down PgUp PgDn Home End (or k j)   move the selection",
		"  d          disconnect the selected peer (asks to confirm with y)",
		"  h ?        this help;  q  quit",
		"",
		"The filter matches address, network, type, transport, netgroup and user agent.",
		"press any key",
	};
	int n = (int)(sizeof(lines) / sizeof(lines[0]));
	int y0 = h > n + 2 ? (h - n) / 2 : 0;
	for (int i = 0; i < n && y0 + i < h; i++) {
		mvhline(y0 + i, 0, ' ', w);
		mvprintw(y0 + i, 2, "%.*s", w - 4, lines[i]);
	}
}

void top_view_draw(struct top_view *v, struct top_model *m)
{
	int h, w;
	getmaxyx(stdscr, h, w);
	erase();
	pthread_mutex_lock(&m->mu);
	const struct top_snapshot *s = m->cur;
	header(v, s, w);
	int wrows, erows;
	budget(h, s ? s->nworkers : 0, &wrows, &erows);
	int y = workers(s, 3, wrows);
	y = events(m, y, erows, w);
	free(v->idx);
	v->idx = NULL;
	v->nsel = s ? top_select(s, v->filter, v->sort, v->reverse, &v->idx) : 0;
	/* keep the selected peer selected across refreshes */
	for (size_t i = 0; s && v->sel_id && i < v->nsel; i++)
		if (s->peers[v->idx[i]].id == v->sel_id)
			v->sel = i;
	if (v->sel >= v->nsel)
		v->sel = v->nsel ? v->nsel - 1 : 0;
	int rows = h - y - 2;
	if (rows < 1)
		rows = 1;
	v->page = (size_t)rows;
	if (v->sel < v->top)
		v->top = v->sel;
	if (v->sel >= v->top + (size_t)rows)
		v->top = v->sel - (size_t)rows + 1;
	attron(A_REVERSE);
	mvhline(y, 0, ' ', w);
	mvprintw(y, 0, "%-21s %-5s %-6s %-2s %6s %8s %8s %7s %6s", "ADDRESS", "NET", "TYPE", "TP", "AGE",
		 "BYTES", "RATE", "MSGS", "PING");
	if (w >= 100)
		mvprintw(y, 80, " %-12s %s", "NETGROUP", "AGENT");
	attroff(A_REVERSE);
	y++;
	for (int i = 0; i < rows && v->top + (size_t)i < v->nsel; i++)
		peer_row(s, &s->peers[v->idx[v->top + (size_t)i]], y + i, w, v->top + (size_t)i == v->sel);
	v->sel_id = v->nsel ? s->peers[v->idx[v->sel]].id : 0;
	if (v->nsel)
		snprintf(v->sel_addr, sizeof(v->sel_addr), "%s", s->peers[v->idx[v->sel]].addr);
	char foot[512];
	if (v->prompt[0])
		snprintf(foot, sizeof(foot), "%s", v->prompt);
	else if (m->status[0])
		snprintf(foot, sizeof(foot), "error: %s", m->status);
	else
		snprintf(foot, sizeof(foot), "sort: %s %s  filter: \"%s\"  %zu-%zu of %zu (%zu peers)  %s",
			 top_sort_name(v->sort), v->reverse ? "(reversed)" : "", v->filter,
			 v->nsel ? v->top + 1 : 0, v->top + (size_t)rows < v->nsel ? v->top + (size_t)rows : v->nsel,
			 v->nsel, s ? s->n : 0, v->message);
	pthread_mutex_unlock(&m->mu);
	attron(A_BOLD);
	mvprintw(h - 1, 0, "%.*s", w - 1, foot);
	attroff(A_BOLD);
	if (v->help)
		help_screen(h, w);
	refresh();
}
