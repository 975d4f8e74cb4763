/* connring-top: a live full-screen view of a connringd (ncurses), refreshed
 * from its RPC every second: totals and rates, one row per worker, recent
 * connects and disconnects, and a scrolling, sortable, filterable table of
 * every peer; 'd' disconnects the selected peer after a 'y'. Takes
 * connring-cli's connection options plus -refresh=<ms>. Fits 80x24. The
 * main thread draws and reads keys; a second thread fetches (top_data.c). */
#include <locale.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <connring/version.h>

#include "cmd/top_view.h"

static int own_option(struct cr_client_opts *o, const char *name, const char *v)
{
	if (strcmp(name, "refresh") == 0) {
		long ms = v ? atol(v) : 0;
		if (ms < 100 || ms > 60000)
			return -1;
		o->refresh_ms = (unsigned)ms;
		return 1;
	}
	if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
		o->help = true;
		return 1;
	}
	return 0;
}

/* Filter entry: returns true while still typing. */
static bool filter_key(struct top_view *v, char *buf, size_t cap, int ch)
{
	size_t n = strlen(buf);
	if (ch == '\n' || ch == KEY_ENTER) {
		snprintf(v->filter, sizeof(v->filter), "%s", buf);
		return false;
	}
	if (ch == 27) { /* Esc */
		v->filter[0] = '\0';
		return false;
	}
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n)
		buf[n - 1] = '\0';
	else if (ch >= 32 && ch < 127 && n + 1 < cap) {
		buf[n] = (char)ch;
		buf[n + 1] = '\0';
	}
	return true;
}

static void move_sel(struct top_view *v, long delta)
{
	long s = (long)v->sel + delta;
	if (s < 0)
		s = 0;
	if (v->nsel && s >= (long)v->nsel)
		s = (long)v->nsel - 1;
	v->sel = (size_t)s;
	v->sel_id = 0; /* the next draw picks the peer now under the cursor */
}

enum mode { NORMAL, FILTER, CONFIRM };

int main(int argc, char **argv)
{
	struct cr_client_opts o;
	char err[1024] = "";
	cr_client_opts_init(&o);
	int first = cr_client_opts_argv(&o, argc, argv, own_option, err, sizeof(err));
	if (first < 0 || first != argc) {
		fprintf(stderr, "Error: %s\n", first < 0 ? err : "unexpected argument");
		return 1;
	}
	if (o.help) {
		printf("connring-top %s: live view of connringd\n"
		       "Usage: connring-top [-datadir=..] [-chain=..|-regtest] [-rpcconnect=..] [-rpcport=..]\n"
		       "                    [-rpcuser=.. -rpcpassword=..] [-rpccookiefile=..] [-refresh=<ms>]\n"
		       "Keys: s/S sort, r reverse, / filter, c clear, arrows scroll, d disconnect, h help, q quit\n",
		       CR_VERSION);
		return 0;
	}
	struct cr_client c;
	if (cr_client_opts_conf(&o, err, sizeof(err)) != 0 || cr_client_connect(&c, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	static struct top_model m;
	static struct top_view v;
	snprintf(v.target, sizeof(v.target), "%.90s", c.url + 7);
	v.target[strcspn(v.target, "/")] = '\0';
	v.refresh_ms = o.refresh_ms;
	if (top_model_start(&m, &c, o.refresh_ms) != 0) {
		fprintf(stderr, "Error: cannot start the fetch thread\n");
		return 1;
	}
	setlocale(LC_ALL, "");
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(50);
	timeout(200);
	enum mode mode = NORMAL;
	char typed[64] = "";
	uint64_t confirm_id = 0;
	for (;;) {
		top_view_draw(&v, &m);
		int ch = getch();
		if (ch == ERR)
			continue;
		if (v.help) {
			v.help = false;
			continue;
		}
		if (mode == FILTER) {
			if (!filter_key(&v, typed, sizeof(typed), ch)) {
				mode = NORMAL;
				v.prompt[0] = '\0';
			} else {
				snprintf(v.prompt, sizeof(v.prompt), "filter: %s_", typed);
			}
			continue;
		}
		if (mode == CONFIRM) {
			if (ch == 'y' || ch == 'Y')
				top_disconnect(&m, &o, confirm_id, v.message, sizeof(v.message));
			else
				snprintf(v.message, sizeof(v.message), "not disconnected");
			mode = NORMAL;
			v.prompt[0] = '\0';
			continue;
		}
		switch (ch) {
		case 'q': case 'Q': goto out;
		case 'h': case '?': v.help = true; break;
		case 's': v.sort = (v.sort + 1) % SORT_COUNT; break;
		case 'S': v.sort = (v.sort + SORT_COUNT - 1) % SORT_COUNT; break;
		case 'r': v.reverse = !v.reverse; break;
		case 'c': v.filter[0] = '\0'; break;
		case '/':
			mode = FILTER;
			snprintf(typed, sizeof(typed), "%s", v.filter);
			snprintf(v.prompt, sizeof(v.prompt), "filter: %s_", typed);
			break;
		case 'd':
			if (v.nsel && v.sel_id) {
				confirm_id = v.sel_id;
				snprintf(v.prompt, sizeof(v.prompt), "disconnect peer %s (id %llu)? y/n", v.sel_addr,
					 (unsigned long long)confirm_id);
				mode = CONFIRM;
			}
			break;
		case KEY_UP: case 'k': move_sel(&v, -1); break;
		case KEY_DOWN: case 'j': move_sel(&v, 1); break;
		case KEY_PPAGE: move_sel(&v, -(long)v.page); break;
		case KEY_NPAGE: case ' ': move_sel(&v, (long)v.page); break;
		case KEY_HOME: case 'g': move_sel(&v, -(long)v.nsel); break;
		case KEY_END: case 'G': move_sel(&v, (long)v.nsel); break;
		default: break;
		}
	}
out:
	endwin();
	top_model_stop(&m);
	free(v.idx);
	return 0;
}
