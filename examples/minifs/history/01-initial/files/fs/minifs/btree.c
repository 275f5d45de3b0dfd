// SPDX-License-Identifier: GPL-2.0
/*
 * minifs btree: a toy sorted array standing in for the real thing.
 */
#include "minifs.h"

struct btree_node {
	u64	keys[16];
	u64	vals[16];
	u8	nr;
};

static struct btree_node minifs_root;

static int btree_node_search(const struct btree_node *b, u64 key)
{
	int l = 0, r = b->nr - 1;

	while (l <= r) {
		int m = (l + r) / 2;

		if (b->keys[m] == key)
			return m;
		if (b->keys[m] < key)
			l = m + 1;
		else
			r = m - 1;
	}
	return -1;
}

int minifs_btree_lookup(struct minifs_fs *c, u64 key, u64 *val)
{
	int idx = btree_node_search(&minifs_root, key);

	if (idx < 0)
		return -ENOENT;
	*val = minifs_root.vals[idx];
	return 0;
}
