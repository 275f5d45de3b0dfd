// SPDX-License-Identifier: GPL-2.0
/* Kernel-style fixture for the parser tests. Do not reformat: tests use lines. */
#include <linux/kernel.h>

#define BCH_ERR_MAX	128
#define bch_min(a, b)					\
({							\
	typeof(a) _a = (a);				\
	typeof(b) _b = (b);				\
	_a < _b ? _a : bch2_pick(_b);			\
})

#define BCH_ERRS()					\
	x(ENOMEM,	no_memory)			\
	x(EIO,		io_failed)

enum bch_errcode {
	BCH_ERR_START = 2048,
#define x(err, name)	BCH_ERR_##name,
	BCH_ERRS()
#undef x
	BCH_ERR_END
};

struct bch_ops {
	int (*read)(void *p, unsigned n);
	struct inner_thing {
		int a;
	} inner;
} __packed;

union bch_val {
	u64 v;
	void *p;
};

typedef int (*bch_cb_fn)(struct bch_ops *);
typedef struct {
	int x;
} bch_anon_t;

static DEFINE_MUTEX(bch_lock);
static DEFINE_PER_CPU(struct bch_ops, bch_pcpu);
EXPORT_SYMBOL(bch_lock);

static const struct bch_ops bch_default_ops = {
	.read	= NULL,
	.inner	= { .a = 1 },
};

unsigned long bch_counter __read_mostly;

int __must_check bch2_proto(struct bch_ops *ops, int flags);
__printf(2, 3) void bch2_log(struct bch_fs *c, const char *fmt, ...);

static __always_inline int bch2_inline_helper(int a)
{
	return bch_min(a, 3);
}

static int __cold bch2_cold_fn(struct bch_fs *c)
	__acquires(c->lock)
{
	bch_err(c, "cold path failed: "
		"%s (%i)", "reason", -EIO);
	pr_err("plain %llu\n", 5ULL);
	return c->ops->read(NULL, 0);
}

noinline void bch2_loops(struct bch_fs *c)
{
	struct bch_dev *ca;
	struct bkey_ptr *ptr;

	for_each_member_device(c, ca) {
		bch2_dev_put(ca);
	}
	list_for_each_entry(ca, &c->list, node)
		bch2_dev_get(ca);
	__bkey_for_each_ptr(start, end, ptr)
		bch2_ptr_visit(ptr);
#ifdef CONFIG_BCACHEFS_DEBUG
	if (c->debug) {
#else
	if (c->nodebug) {
#endif
		bch_info(c, "debug %u", 1);
	}
	BUILD_BUG_ON(sizeof(*c) > 4096);
}

int bch2_trans_things(struct btree_trans *trans)
{
	guard(mutex)(&trans->lock);
	scoped_guard(rcu) {
		bch2_rcu_thing(trans);
	}
	CLASS(btree_iter, iter)(trans, BTREE_ID_extents, POS_MIN, 0);
	int ret = lockrestart_do(trans, bch2_do_thing(trans, &iter));
	ret = for_each_btree_key(trans, iter2, BTREE_ID_inodes, POS_MIN, 0, k, ({
		bch2_check_key(trans, k);
	}));
	darray_for_each(trans->list, i)
		bch2_visit(*i);
	ret = bch2_trans_run(trans->c, bch2_inner(trans));
	fsck_err_on(ret, trans, some_error, "fsck %s", "oops");
	return ret ?: ({ int __r = bch2_last(trans); __r; });
}

SYSCALL_DEFINE2(bch_ioctl, unsigned int, cmd, unsigned long, arg)
{
	return bch2_ioctl(cmd, arg);
}

CLOSURE_CALLBACK(bch2_write_done)
{
	closure_type(op, struct bch_write_op, cl);
	bch2_write_done_inner(op);
}

static void bch2_dup_header(int a
#ifdef CONFIG_FOO
			    , int b
#endif
			    )
{
	WARN_ONCE(a, "dup header %d", a);
}
