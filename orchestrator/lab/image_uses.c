/* Which labs use which image trees, from their saved plans. */
#define _GNU_SOURCE
#include "lab/image_uses.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "lab/state.h"
#include "model/topology.h"
#include "plan/plan.h"

int lab_image_uses(const void *state_dir, struct image_uses *u, struct tb_err *e)
{
	const char *root = state_root(state_dir);
	int has = state_root_check(root, e);
	if (has <= 0)
		return has;
	DIR *d = opendir(root);
	if (!d)
		return tb_fail(e, "reading %s: %s", root, strerror(errno));
	for (struct dirent *de; (de = readdir(d));) {
		const char *lab = de->d_name;
		if (lab[0] == '.' || !topology_is_lab_name(lab))
			continue;
		autofree char *path = xasprintf("%s/%s", root, lab);
		struct plan p;
		struct tb_err why;
		if (lab_load_plan(path, &p, &why) < 0) {
			/* An up between writing its state and saving its plan
			 * (it is unpacking), or state this testbed cannot read. */
			image_uses_add_unknown(u, lab, why.msg);
			continue;
		}
		for (size_t i = 0; i < p.n_images; i++) {
			if (!p.images[i].sha256[0]) {
				image_uses_add_unknown(u, lab, "its saved plan has no sha256 for an image");
				break;
			}
			image_uses_add(u, p.images[i].sha256, lab);
		}
		plan_free(&p);
	}
	closedir(d);
	return 0;
}
