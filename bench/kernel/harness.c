/*
 * Runs the kernel-comparison workloads through the distribution's drivers/iommu/iova.c (built
 * against shim/) and prints one JSON object per workload. The same workloads, with the same
 * PRNG and seeds, run through the project's allocator in bench/kernel.bench.ts.
 *
 * Usage: harness <pairs> <runs>
 * Times are process CPU time, best of <runs>; figures are per single operation (an alloc or a
 * free counts as one), except the fragmented case, which is one failing request.
 */
#include <linux/iova.h>
#include <time.h>

#define LIVE 4096
#define LIMIT32 ((1UL << 20) - 1)

/* mulberry32, as in the TypeScript side (same sequence for the same seed). */
static uint32_t prng_state;
static double prng(void)
{
	uint32_t t;
	prng_state += 0x6d2b79f5u;
	t = prng_state;
	t = (t ^ (t >> 15)) * (t | 1u);
	t ^= t + (t ^ (t >> 7)) * (t | 61u);
	return (double)(t ^ (t >> 14)) / 4294967296.0;
}

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void new_domain(struct iova_domain *d)
{
	init_iova_domain(d, 4096, 1);
	if (iova_domain_init_rcaches(d)) {
		fprintf(stderr, "rcache init failed\n");
		exit(1);
	}
}

/*
 * LIVE ranges stay allocated; each step frees a random one and allocates a new random size in
 * [1, max_size]: through the fast path (alloc_iova_fast/free_iova_fast) or the tree
 * (alloc_iova size-aligned/free_iova). Returns CPU ns per operation (2 per step).
 */
static double churn(int max_size, int fast, long pairs, double *wall, long *failures)
{
	static unsigned long pfns[LIVE], sizes[LIVE];
	struct iova_domain d;
	int *victims = malloc(sizeof(int) * pairs), *new_sizes = malloc(sizeof(int) * pairs);
	double c0, w0, c;
	long k, fails = 0;
	int i;

	new_domain(&d);
	prng_state = 0x5eed + max_size;
	for (i = 0; i < LIVE; i++) {
		unsigned long size = 1 + (unsigned long)(prng() * max_size);
		if (fast) {
			pfns[i] = alloc_iova_fast(&d, size, LIMIT32, true);
		} else {
			struct iova *n = alloc_iova(&d, size, LIMIT32, true);
			pfns[i] = n ? n->pfn_lo : 0;
		}
		sizes[i] = size;
	}
	for (k = 0; k < pairs; k++) {
		victims[k] = (int)(prng() * LIVE);
		new_sizes[k] = 1 + (int)(prng() * max_size);
	}
	c0 = cpu_ns();
	w0 = wall_ns();
	for (k = 0; k < pairs; k++) {
		i = victims[k];
		if (fast) {
			if (pfns[i]) free_iova_fast(&d, pfns[i], sizes[i]);
			pfns[i] = alloc_iova_fast(&d, new_sizes[k], LIMIT32, true);
		} else {
			struct iova *n;
			if (pfns[i]) free_iova(&d, pfns[i]);
			n = alloc_iova(&d, new_sizes[k], LIMIT32, true);
			pfns[i] = n ? n->pfn_lo : 0;
		}
		if (!pfns[i]) fails++;
		sizes[i] = new_sizes[k];
	}
	c = cpu_ns() - c0;
	*wall = (wall_ns() - w0) / (2.0 * pairs);
	*failures = fails;
	put_iova_domain(&d);
	free(victims);
	free(new_sizes);
	return c / (2.0 * pairs);
}

/*
 * Fills the space below 4 GiB with 1-page ranges, frees every other one, then times the first
 * request for 2 pages (size-aligned), which cannot fit: the walk visits every remaining node.
 */
static double fragmented(double *wall, long *nodes)
{
	struct iova_domain d;
	struct iova *n;
	unsigned long pfn;
	double c0, w0, c;
	long count = 0;

	new_domain(&d);
	while ((n = alloc_iova(&d, 1, LIMIT32, false)) != NULL) count++;
	for (pfn = 1; pfn <= LIMIT32; pfn += 2) free_iova(&d, pfn);
	*nodes = count - (count + 1) / 2;
	c0 = cpu_ns();
	w0 = wall_ns();
	n = alloc_iova(&d, 2, LIMIT32, true);
	c = cpu_ns() - c0;
	*wall = wall_ns() - w0;
	if (n) {
		fprintf(stderr, "2 pages fitted into a 1-page-fragmented space\n");
		exit(1);
	}
	put_iova_domain(&d);
	return c;
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	static const struct { const char *name; int max_size, fast; } w[] = {
		{ "fast-1..64", 64, 1 },
		{ "all-cached-1..32", 32, 1 },
		{ "tree-1..64-aligned", 64, 0 },
	};
	unsigned i;
	int r;

	if (iova_cache_get()) return 1;
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		double best = 1e300, best_wall = 0, wall;
		long fails = 0;
		for (r = 0; r < runs; r++) {
			double ns = churn(w[i].max_size, w[i].fast, pairs, &wall, &fails);
			if (ns < best) { best = ns; best_wall = wall; }
		}
		printf("{\"workload\":\"%s\",\"ns_per_op\":%.2f,\"wall_ns_per_op\":%.2f,\"ops\":%ld,\"failures\":%ld}\n",
		       w[i].name, best, best_wall, 2 * pairs, fails);
	}
	{
		double best = 1e300, best_wall = 0, wall;
		long nodes = 0;
		for (r = 0; r < runs; r++) {
			double ns = fragmented(&wall, &nodes);
			if (ns < best) { best = ns; best_wall = wall; }
		}
		printf("{\"workload\":\"fragmented-4GiB-first-failing-request\",\"ns_per_request\":%.0f,\"wall_ns_per_request\":%.0f,\"nodes\":%ld}\n",
		       best, best_wall, nodes);
	}
	iova_cache_put();
	return 0;
}
