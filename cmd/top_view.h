/* connring-top's screen state (sort, filter, selection, prompts) and its
 * drawing; see top_view.c. Screen thread only. */
#ifndef CR_CMD_TOP_VIEW_H
#define CR_CMD_TOP_VIEW_H

#include "cmd/top.h"

struct top_view {
	char target[96];           /* "127.0.0.1:18443" for the title */
	unsigned refresh_ms;
	enum top_sort sort;
	bool reverse;
	char filter[64];
	size_t *idx, nsel;         /* the rows shown, after filter and sort */
	size_t sel, top, page;     /* selected row, first row on screen, rows per page */
	uint64_t sel_id;           /* the selected peer, followed across refreshes */
	char sel_addr[64];
	bool help;
	char prompt[160];          /* filter entry or a confirmation question */
	char message[160];         /* outcome of the last action */
};

void top_view_draw(struct top_view *v, struct top_model *m);

#endif
