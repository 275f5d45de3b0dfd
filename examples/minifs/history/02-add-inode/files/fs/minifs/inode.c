// SPDX-License-Identifier: GPL-2.0
/*
 * minifs inodes.
 */
#include <linux/slab.h>
#include "minifs.h"
#include "util.h"

struct minifs_inode {
	u64			ino;
	struct minifs_bucket	*bucket;
};

struct minifs_inode *minifs_inode_create(struct minifs_fs *c, u64 ino)
{
	struct minifs_inode *inode;
	u64 existing;

	if (!minifs_btree_lookup(c, ino, &existing)) {
		minifs_err(c, "inode %llu already exists", ino);
		return ERR_PTR(-EEXIST);
	}

	inode = kzalloc(sizeof(*inode), GFP_KERNEL);
	if (!inode)
		return ERR_PTR(-ENOMEM);

	inode->ino = ino;
	inode->bucket = minifs_bucket_alloc(c);
	if (!inode->bucket) {
		minifs_err(c, "no free bucket for inode %llu", ino);
		return ERR_PTR(-ENOSPC);
	}
	inode->bucket->data_type = BUCKET_user;
	return inode;
}
