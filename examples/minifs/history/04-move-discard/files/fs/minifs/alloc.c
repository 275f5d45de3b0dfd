// SPDX-License-Identifier: GPL-2.0
/*
 * minifs bucket allocator.
 */
#include "minifs.h"
#include "util.h"

struct minifs_bucket *minifs_bucket_alloc(struct minifs_fs *c)
{
	struct minifs_bucket *b;

	for_each_bucket(c, b)
		if (b->data_type == BUCKET_free)
			return b;
	return NULL;
}
