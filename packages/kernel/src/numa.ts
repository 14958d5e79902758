/**
 * NUMA node numbers (include/linux/numa.h).
 *
 * A node id is a small non-negative integer; the one negative value a node
 * argument may carry is `NUMA_NO_NODE`, which means "no affinity": a device
 * that is attached to no particular node, an allocation that may come from
 * the running CPU's node, a notifier argument that names no node. Every
 * package above the kernel uses this one definition.
 */

/**
 * `NUMA_NO_NODE` (include/linux/numa.h): no node affinity.
 * @public
 */
export const NUMA_NO_NODE = -1;
