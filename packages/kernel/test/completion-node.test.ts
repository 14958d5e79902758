import { describe, expect, it } from 'vitest';
import { Completion, Device, NUMA_NO_NODE, devToNode, setDevNode } from '@zonedev/kernel';

describe('struct completion (kernel/sched/completion.c)', () => {
  it('settles waiters when completed, and at once afterwards', async () => {
    const c = new Completion();
    const order: string[] = [];
    const w1 = c.wait().then(() => order.push('w1'));
    const w2 = c.wait().then(() => order.push('w2'));
    expect(c.completionDone()).toBe(false);
    expect(c.nrWaiters).toBe(2);
    await Promise.resolve();
    expect(order).toEqual([]);
    c.complete();
    await Promise.all([w1, w2]);
    expect(order).toEqual(['w1', 'w2']);
    expect(c.completionDone()).toBe(true);
    await c.wait();
    c.reinit();
    expect(c.completionDone()).toBe(false);
  });
});

describe('dev_to_node / set_dev_node', () => {
  it('defaults to NUMA_NO_NODE and follows set_dev_node', () => {
    const dev = new Device({ name: 'pmem0' });
    expect(NUMA_NO_NODE).toBe(-1);
    expect(devToNode(dev)).toBe(-1);
    setDevNode(dev, 1);
    expect(devToNode(dev)).toBe(1);
    expect(devToNode(new Device({ name: 'dax0.0', numaNode: 2 }))).toBe(2);
  });
});
