// SPDX-License-Identifier: GPL-2.0
/*
 * minifs superblock: mount, start and shutdown.
 */
#include <linux/module.h>
#include "minifs.h"
#include "util.h"

static DEFINE_MUTEX(minifs_list_lock);

void minifs_fs_emergency_read_only(struct minifs_fs *c)
{
	if (test_and_set_bit(MINIFS_FS_EMERGENCY_RO, &c->flags))
		return;

	minifs_err(c, "emergency read only");
}
EXPORT_SYMBOL(minifs_fs_emergency_read_only);

static int __cold minifs_check_buckets(struct minifs_fs *c)
{
	struct minifs_bucket *b;

	for_each_bucket(c, b) {
		if (b->data_type == BUCKET_need_discard &&
		    !bucket_is_empty(b)) {
			minifs_err(c, "bucket %llu needs discard but has %u dirty sectors",
				   b->nr, b->dirty_sectors);
			return -EINVAL;
		}
	}
	return 0;
}

int __must_check minifs_fs_start(struct minifs_fs *c)
{
	int ret;

	mutex_lock(&minifs_list_lock);
	ret = minifs_check_buckets(c);
	mutex_unlock(&minifs_list_lock);
	if (ret)
		return ret;

	pr_info("minifs (%s): started\n", c->name);
	return 0;
}
EXPORT_SYMBOL(minifs_fs_start);
