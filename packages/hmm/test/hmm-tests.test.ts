// tools/testing/selftests/vm/hmm-tests.c at v5.13: the 21 TEST_F cases run
// on this package's machine, each in its own process, through the harness
// runHmmTests() exposes; every case's assertions are the reference's
// (cpages, faults, errnos, buffer contents, snapshot bytes), and the output
// is the kselftest harness's TAP.
import { beforeAll, describe, expect, it } from 'vitest';
import type { HmmTestsRun } from '../src/index.js';
import { HMM_DMIRROR_READ, dmirrorTaskSpawner, hmmTestsCases, runHmmTests } from '../src/index.js';
import { bootWithTestHmm } from './machine.js';

const SKIPPED: Record<string, string> = {
  // hmm-tests.c's own SKIP reason when gethugepagesizes() finds no size.
  'hmm.anon_write_hugetlbfs': 'Huge page size could not be determined',
};

const ORDER = [
  'hmm.open_close', 'hmm.anon_read', 'hmm.anon_read_prot', 'hmm.anon_write', 'hmm.anon_write_prot',
  'hmm.anon_write_child', 'hmm.anon_write_child_shared', 'hmm.anon_write_huge', 'hmm.anon_write_hugetlbfs',
  'hmm.file_read', 'hmm.file_write', 'hmm.migrate', 'hmm.migrate_fault', 'hmm.migrate_shared',
  'hmm.migrate_multiple', 'hmm.anon_read_multiple', 'hmm.anon_teardown', 'hmm.compound',
  'hmm2.migrate_mixed', 'hmm2.snapshot', 'hmm2.double_map',
];

describe('hmm-tests (v5.13) on a machine with test_hmm loaded', () => {
  let run: HmmTestsRun;
  let m: ReturnType<typeof bootWithTestHmm>;
  let free: number;
  beforeAll(() => {
    m = bootWithTestHmm();
    free = m.mm.nrFreePages();
    run = runHmmTests(dmirrorTaskSpawner(m.testHmm, m.sys));
  }, 120_000);

  it('has the 21 cases in the harness order: fixture hmm as defined, then hmm2', () => {
    expect(hmmTestsCases().map((c) => `${c.fixture}.${c.name}`)).toEqual(ORDER);
  });

  for (const full of ORDER) {
    it(full, () => {
      const r = run.results.find((x) => `${x.fixture}.${x.name}` === full)!;
      expect(r.log.filter((l) => !l.includes('SKIP'))).toEqual([]);
      expect(r.passed).toBe(true);
      expect(r.skip).toBe(SKIPPED[full]);
    });
  }

  it('prints what the v5.13 kselftest harness prints', () => {
    const lines = [
      'TAP version 13',
      '1..21',
      '# Starting 21 tests from 2 test cases.',
      ...ORDER.flatMap((full, i) => {
        const skip = SKIPPED[full];
        return [
          `#  RUN           ${full} ...`,
          ...(skip !== undefined ? [`#      SKIP      ${skip}`] : []),
          `#            OK  ${full}`,
          skip !== undefined ? `ok ${i + 1} # SKIP ${skip}` : `ok ${i + 1} ${full}`,
        ];
      }),
      '# PASSED: 21 / 21 tests passed.',
      '# Totals: pass:20 fail:0 xfail:0 xpass:0 skip:1 error:0',
    ];
    expect(run.output).toBe(`${lines.join('\n')}\n`);
    expect(run.exitStatus).toBe(0);
  });

  it('leaves the machine clean: every process gone, every device page free, the files (tmpfs ones too) closed and evicted', () => {
    expect(m.mm.nrFreePages()).toBe(free);
    expect(m.sys.mms()).toEqual([]);
    expect(m.testHmm.files()).toEqual([]);
    for (const d of m.testHmm.devices) expect(d.nrFreePages).toBe(d.chunks.length * 65536);
  });

  it('a failing case is reported as the harness reports it, and the run fails', () => {
    const spawn = dmirrorTaskSpawner(m.testHmm, m.sys, 5000);
    // A process whose READ ioctl always fails with -EINVAL: anon_read's ASSERT_EQ(ret, 0) aborts it.
    const broken = (): ReturnType<typeof spawn> => {
      const t = spawn();
      const ioctl = t.ioctl.bind(t);
      t.ioctl = (fd, req, cmd) => (req === HMM_DMIRROR_READ ? ioctl(fd, 0, cmd) : ioctl(fd, req, cmd));
      return t;
    };
    const r = runHmmTests(broken, { only: ['hmm.anon_read'] });
    expect(r.output).toBe(
      [
        'TAP version 13',
        '1..1',
        '# Starting 1 tests from 1 test cases.',
        '#  RUN           hmm.anon_read ...',
        '# hmm-tests.c:anon_read:Expected ret (-22) == 0 (0)',
        '# anon_read: Test terminated by assertion',
        '#          FAIL  hmm.anon_read',
        'not ok 1 hmm.anon_read',
        '# FAILED: 0 / 1 tests passed.',
        '# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0',
        '',
      ].join('\n'),
    );
    expect(r.exitStatus).toBe(1);
  });
});

describe('the tmpfs file of file_read and file_write', () => {
  it('is shmem page cache: pwrite, a MAP_SHARED mapping and pread see the same pages; the last close evicts them', () => {
    const m = bootWithTestHmm();
    const free = m.mm.nrFreePages();
    const t = dmirrorTaskSpawner(m.testHmm, m.sys)();
    const fd = t.openTmpfile('/tmp');
    t.ftruncate(fd, 3 * 4096);
    expect(t.pwrite(fd, new Uint8Array([1, 2, 3]), 4094)).toBe(3);
    const p = t.mmap(3 * 4096, 3, 1 /* MAP_SHARED */, fd, 0);
    expect(Array.from(t.load(p + 4094, 3))).toEqual([1, 2, 3]);
    expect(t.mm.procMaps()).toContain('/tmp/#1000 (deleted)');
    t.store(p + 2 * 4096, new Uint8Array([9]));
    expect(Array.from(t.pread(fd, 3 * 4096 + 10, 2 * 4096).subarray(0, 2))).toEqual([9, 0]);
    expect(t.pread(fd, 100, 3 * 4096 - 4).length).toBe(4);
    t.munmap(p, 3 * 4096);
    // the descriptor still holds the inode and its pages
    expect(Array.from(t.pread(fd, 3, 4094))).toEqual([1, 2, 3]);
    expect(m.mm.nrFreePages()).toBeLessThan(free);
    expect(() => t.ioctl(fd, 0, { addr: 0n, ptr: 0n, npages: 1n, cpages: 0n, faults: 0n })).toThrow(/Inappropriate ioctl/);
    expect(() => t.openTmpfile('/var/tmp')).toThrow(/No such file/);
    t.close(fd);
    t.exit();
    expect(m.mm.nrFreePages()).toBe(free);
  });
});
