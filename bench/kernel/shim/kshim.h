/*
 * Userspace stand-ins for the few kernel facilities the IOVA allocator and the red-black tree
 * use, so that the distribution's drivers/iommu/iova.c and lib/rbtree.c build unchanged as one
 * single-threaded program: locks do nothing, there is one CPU, slab caches are malloc.
 * Written for the kernel-comparison benchmark (bench/kernel.bench.ts); not kernel code.
 */
#ifndef IOVA_BENCH_KSHIM_H
#define IOVA_BENCH_KSHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;
typedef u64 dma_addr_t;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;

#define __init
#define __exit
#define __percpu
#define __rcu
#define __always_inline inline __attribute__((always_inline))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define rcu_assign_pointer(p, v) ((p) = (v))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define IS_ENABLED(x) 1
#define IS_REACHABLE(x) 1
#define ENOMEM 12
#define ENOTSUPP 524

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define GFP_KERNEL 0u
#define GFP_ATOMIC 0u
#define __GFP_NOWARN 0u
#define SLAB_HWCACHE_ALIGN 0u

#define BUG_ON(c) do { if (c) { fprintf(stderr, "BUG at %s:%d\n", __FILE__, __LINE__); abort(); } } while (0)
#define WARN_ON(c) ({ int __w = !!(c); if (__w) fprintf(stderr, "WARN at %s:%d\n", __FILE__, __LINE__); __w; })
#define pr_err(...) fprintf(stderr, __VA_ARGS__)
#define EXPORT_SYMBOL(x)
#define EXPORT_SYMBOL_GPL(x)
#define MODULE_AUTHOR(x)
#define MODULE_LICENSE(x)

#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define swap(a, b) do { __typeof__(a) __t = (a); (a) = (b); (b) = __t; } while (0)
#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))

static inline bool is_power_of_2(unsigned long n) { return n != 0 && (n & (n - 1)) == 0; }
static inline unsigned long __ffs(unsigned long w) { return (unsigned long)__builtin_ctzl(w); }
static inline int fls_long(unsigned long x) { return x ? 64 - __builtin_clzl(x) : 0; }
static inline unsigned long roundup_pow_of_two(unsigned long n) { return 1UL << fls_long(n - 1); }
#define order_base_2(n) ((n) > 1 ? fls_long((unsigned long)(n) - 1) : 0)

/* Locks: one thread. */
typedef struct { int unused; } spinlock_t;
struct mutex { int unused; };
#define spin_lock_init(l) ((void)(l))
#define spin_lock(l) ((void)(l))
#define spin_unlock(l) ((void)(l))
#define assert_spin_locked(l) ((void)(l))
#define spin_lock_irqsave(l, f) ((void)(l), (f) = 0)
#define spin_unlock_irqrestore(l, f) ((void)(l), (void)(f))
#define DEFINE_MUTEX(m) struct mutex m
#define mutex_lock(m) ((void)(m))
#define mutex_unlock(m) ((void)(m))

/* Memory: the slab cache is malloc. */
struct kmem_cache { size_t size; };
static inline struct kmem_cache *kmem_cache_create(const char *n, size_t size, size_t a, unsigned int f, void *c)
{
	struct kmem_cache *k = malloc(sizeof(*k));
	(void)n; (void)a; (void)f; (void)c;
	if (k) k->size = size;
	return k;
}
static inline void kmem_cache_destroy(struct kmem_cache *k) { free(k); }
static inline void *kmem_cache_zalloc(struct kmem_cache *k, gfp_t f) { (void)f; return calloc(1, k->size); }
static inline void kmem_cache_free(struct kmem_cache *k, void *p) { (void)k; free(p); }
static inline void *kzalloc(size_t n, gfp_t f) { (void)f; return calloc(1, n); }
static inline void *kcalloc(size_t n, size_t s, gfp_t f) { (void)f; return calloc(n, s); }
static inline void kfree(const void *p) { free((void *)p); }

/* One CPU. */
#define cache_line_size() 64
#define __alloc_percpu(size, align) calloc(1, (size))
#define free_percpu(p) free(p)
#define per_cpu_ptr(p, cpu) ((void)(cpu), (p))
#define raw_cpu_ptr(p) (p)
#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < 1; (cpu)++)
#define for_each_online_cpu(cpu) for ((cpu) = 0; (cpu) < 1; (cpu)++)

/* CPU hotplug: nothing to register. */
struct hlist_node { struct hlist_node *next, **pprev; };
#define hlist_entry_safe(ptr, type, member) ((ptr) ? container_of(ptr, type, member) : NULL)
#define CPUHP_IOMMU_IOVA_DEAD 0
#define cpuhp_setup_state_multi(s, n, a, b) ((void)(b), 0)
#define cpuhp_remove_multi_state(s) ((void)0)
#define cpuhp_state_add_instance_nocalls(s, n) 0
#define cpuhp_state_remove_instance_nocalls(s, n) ((void)0)

#endif
