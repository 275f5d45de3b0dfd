/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MINIFS_H
#define _MINIFS_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/mutex.h>

#define MINIFS_BUCKET_SECTORS	128
#define MINIFS_MAX_DEVS		8

#define minifs_err(c, fmt, ...)						\
	pr_err("minifs (%s): " fmt "\n", (c)->name, ##__VA_ARGS__)

#define for_each_bucket(c, b)						\
	for ((b) = (c)->buckets; (b) < (c)->buckets + (c)->nr_buckets; (b)++)

enum bucket_data_type {
	BUCKET_free,
	BUCKET_need_discard,
	BUCKET_user,
	BUCKET_btree,
};

struct minifs_bucket {
	u64			nr;
	enum bucket_data_type	data_type;
	u32			dirty_sectors;
	u8			gen;
};

struct minifs_fs {
	char			name[32];
	struct mutex		lock;
	struct minifs_bucket	*buckets;
	u64			nr_buckets;
	unsigned long		flags;
};

#define MINIFS_FS_EMERGENCY_RO	0

int minifs_fs_start(struct minifs_fs *c) __must_check;
void minifs_fs_emergency_read_only(struct minifs_fs *c);
int minifs_discard_one_bucket(struct minifs_fs *c, struct minifs_bucket *b);
int minifs_btree_lookup(struct minifs_fs *c, u64 key, u64 *val);

#endif /* _MINIFS_H */
