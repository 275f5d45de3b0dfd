// SPDX-License-Identifier: GPL-2.0
/*
 * minifs discard: return emptied buckets to the device.
 */
#include "minifs.h"
#include "util.h"

static void discard_submit(struct minifs_fs *c, struct minifs_bucket *b)
{
	pr_debug("minifs: discarding bucket %llu at sector %llu\n",
		 b->nr, bucket_to_sector(b));
}

int minifs_discard_one_bucket(struct minifs_fs *c, struct minifs_bucket *b)
{
	if (b->data_type != BUCKET_need_discard)
		return 0;

	if (!bucket_is_empty(b)) {
		minifs_err(c, "discarded bucket that is no longer need_discard: bucket %llu dirty %u",
			   b->nr, b->dirty_sectors);
		minifs_fs_emergency_read_only(c);
		return -EIO;
	}

	discard_submit(c, b);
	b->data_type = BUCKET_free;
	b->gen++;
	return 0;
}
EXPORT_SYMBOL(minifs_discard_one_bucket);
