/* Which labs use which image trees, for the image cache's `images` and
 * `prune` (image/image_cache.h): the lab layer reads its state; the cache
 * only hears the answer. */
#ifndef TESTBED_IMAGE_USES_H
#define TESTBED_IMAGE_USES_H

#include "image/image_cache.h"
#include "util/util.h"

/* An image_uses_fn: the labs under the state root STATE_DIR (a const char
 * *, as --state-dir gives it: NULL or "" for the default), each with the
 * sha256 of every image its saved plan names. A lab without a saved plan
 * this testbed can read, or whose plan lacks an image's sha256, is
 * unknown. No state root: no labs. */
int lab_image_uses(const void *state_dir, struct image_uses *u, struct tb_err *e);

#endif
