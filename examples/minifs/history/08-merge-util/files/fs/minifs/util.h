/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MINIFS_UTIL_H
#define _MINIFS_UTIL_H

#include "minifs.h"

static inline bool bucket_is_empty(const struct minifs_bucket *b)
{
	return !b->dirty_sectors;
}

static inline bool bucket_is_dirty(const struct minifs_bucket *b)
{
	return b->dirty_sectors != 0;
}

static __always_inline u64 bucket_to_sector(const struct minifs_bucket *b)
{
	return b->nr * MINIFS_BUCKET_SECTORS;
}

#endif /* _MINIFS_UTIL_H */
