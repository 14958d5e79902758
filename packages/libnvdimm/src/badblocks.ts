/**
 * The bad-block table of a block device (block/badblocks.c, Linux v5.13).
 *
 * A disk that knows about media errors keeps them in one page of 64-bit
 * entries, sorted by start sector: each entry holds a start sector (54
 * bits), a length of 1..512 sectors (`BB_MAX_LEN`) and an "acknowledged"
 * bit. At most 512 entries fit (`MAX_BADBLOCKS`); a range longer than 512
 * sectors takes several entries, and neighbouring ranges merge when the
 * result still fits in one. The pmem driver keeps one table per disk
 * (`pmem->bb`, filled from the bus's badrange when the disk is attached and
 * whenever the platform reports new poison) and one per enabled namespace
 * (`nsio->bb`, which the BTT and `nsio_rw_bytes()` consult). Reads that
 * touch a listed sector fail; a write that the platform manages to clear
 * takes the sectors out again (`badblocks_clear()`).
 *
 * `/sys/block/<disk>/badblocks` shows the table as "sector length" lines
 * and, being mode 0644, accepts "sector length" to mark more sectors bad:
 * the way a test puts a media error on a running machine without firmware
 * error injection.
 *
 * Sectors are `bigint` here: the kernel's `sector_t` is 64 bits wide and
 * an entry keeps 54 of them, more than a `number` holds exactly.
 */

import { ERRNO, KernelError } from '@zonedev/kernel';

/** `BB_MAX_LEN`: the longest run one entry holds. */
const BB_MAX_LEN = 512n;
/** `MAX_BADBLOCKS`: entries in the table's page (`PAGE_SIZE / 8`). */
const MAX_BADBLOCKS = 512;
/** `BB_OFFSET()` keeps 54 bits of the start sector. */
const BB_OFFSET_MOD = 2n ** 54n;

interface BbEntry {
  /** `BB_OFFSET(p[i])`. */
  offset: bigint;
  /** `BB_LEN(p[i])`, 1..512. */
  len: bigint;
  /** `BB_ACK(p[i])`. */
  ack: boolean;
}

/** `BB_MAKE(a, l, ack)`: the start keeps its low 54 bits. */
function bbMake(offset: bigint, len: bigint, ack: boolean): BbEntry {
  return { offset: BigInt.asUintN(64, offset) % BB_OFFSET_MOD, len, ack };
}

/**
 * `struct badblocks` with `shift` 0 (what `devm_init_badblocks()` sets up):
 * the table and its operations.
 */
export class Badblocks {
  private p: BbEntry[] = [];
  /** `bb->changed`. */
  changed = false;
  /** `bb->unacked_exist`. */
  unackedExist = false;

  /** `bb->count`. */
  get count(): number {
    return this.p.length;
  }

  /**
   * `badblocks_check()`: 0 when no sector of `[s, s + sectors)` is listed,
   * 1 when the overlapping ranges are all acknowledged, -1 otherwise.
   */
  check(s: bigint, sectors: bigint): number {
    const p = this.p;
    const target = s + sectors;
    let lo = 0;
    let hi = p.length;
    let rv = 0;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (p[mid]!.offset < target) lo = mid;
      else hi = mid;
    }
    if (hi > lo) {
      while (lo >= 0 && p[lo]!.offset + p[lo]!.len > s) {
        if (p[lo]!.offset < target) rv = rv !== -1 && p[lo]!.ack ? 1 : -1;
        lo--;
      }
    }
    return rv;
  }

  /**
   * `badblocks_set()`: adds `[s, s + sectors)` (`sectors` > 0), merging
   * with the ranges it touches. Returns 0, or 1 when the table ran out of
   * room (what was added before that stays).
   */
  set(s: bigint, sectors: bigint, acknowledged: boolean): number {
    const p = this.p;
    let rv = 0;
    let lo = 0;
    let hi = p.length;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (p[mid]!.offset <= s) lo = mid;
      else hi = mid;
    }
    if (hi > lo && p[lo]!.offset > s) hi = lo;
    if (hi > lo) {
      const a = p[lo]!.offset;
      let e = a + p[lo]!.len;
      let ack = p[lo]!.ack;
      if (e >= s) {
        ack = s === a && s + sectors >= e ? acknowledged : ack && acknowledged;
        if (e < s + sectors) e = s + sectors;
        if (e - a <= BB_MAX_LEN) {
          p[lo] = bbMake(a, e - a, ack);
          s = e;
        } else {
          if (p[lo]!.len !== BB_MAX_LEN) p[lo] = bbMake(a, BB_MAX_LEN, ack);
          s = a + BB_MAX_LEN;
        }
        sectors = e - s;
      }
    }
    if (sectors !== 0n && hi < p.length) {
      let a = p[hi]!.offset;
      let e = a + p[hi]!.len;
      let ack = p[hi]!.ack;
      if (a <= s + sectors) {
        if (e <= s + sectors) {
          e = s + sectors;
          ack = acknowledged;
        } else ack = ack && acknowledged;
        a = s;
        if (e - a <= BB_MAX_LEN) {
          p[hi] = bbMake(a, e - a, ack);
          s = e;
        } else {
          p[hi] = bbMake(a, BB_MAX_LEN, ack);
          s = a + BB_MAX_LEN;
        }
        sectors = e - s;
        lo = hi;
        hi++;
      }
    }
    if (sectors === 0n && hi < p.length) {
      const a = p[hi]!.offset;
      const newlen = p[lo]!.len + p[hi]!.len - (s - a);
      if (s >= a && newlen < BB_MAX_LEN) {
        p[lo] = bbMake(p[lo]!.offset, newlen, p[lo]!.ack && p[hi]!.ack);
        p.splice(hi, 1);
      }
    }
    while (sectors > 0n) {
      if (p.length >= MAX_BADBLOCKS) {
        rv = 1;
        break;
      }
      const n = sectors > BB_MAX_LEN ? BB_MAX_LEN : sectors;
      p.splice(hi, 0, bbMake(s, n, acknowledged));
      sectors -= n;
      s += n;
    }
    this.changed = true;
    if (!acknowledged) this.unackedExist = true;
    else this.updateAcked();
    return rv;
  }

  /**
   * `badblocks_clear()`: removes `[s, s + sectors)`, splitting a range it
   * cuts in the middle. Returns 0, or -ENOSPC (-28) when a split found the
   * table full (nothing is removed then).
   */
  clear(s: bigint, sectors: bigint): number {
    const p = this.p;
    const target = s + sectors;
    let lo = 0;
    let hi = p.length;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (p[mid]!.offset < target) lo = mid;
      else hi = mid;
    }
    if (hi > lo) {
      if (p[lo]!.offset + p[lo]!.len > target && p[lo]!.offset < target) {
        const { ack, offset: a } = p[lo]!;
        const end = a + p[lo]!.len;
        if (a < s) {
          if (p.length >= MAX_BADBLOCKS) return -ERRNO.ENOSPC;
          p.splice(lo, 0, bbMake(a, s - a, ack));
          lo++;
        }
        p[lo] = bbMake(target, end - target, ack);
        hi = lo;
        lo--;
      }
      while (lo >= 0 && p[lo]!.offset + p[lo]!.len > s && p[lo]!.offset < target) {
        if (p[lo]!.offset < s) {
          p[lo] = bbMake(p[lo]!.offset, s - p[lo]!.offset, p[lo]!.ack);
          break;
        }
        lo--;
      }
      if (hi - lo > 1) p.splice(lo + 1, hi - lo - 1);
    }
    this.updateAcked();
    this.changed = true;
    return 0;
  }

  /** `badblocks_update_acked()`. */
  private updateAcked(): void {
    if (!this.unackedExist) return;
    if (this.p.every((e) => e.ack)) this.unackedExist = false;
  }

  /** `badblocks_show(bb, page, 0)`: one "sector length" line per entry (a page at most). */
  show(): string {
    let out = '';
    for (const e of this.p) {
      if (out.length >= 4096) break;
      out += `${e.offset} ${e.len}\n`;
    }
    return out.length > 4096 ? out.slice(0, 4095) : out;
  }

  /**
   * `badblocks_store(bb, page, len, 0)`: parses "sector length" as the
   * kernel's `sscanf("%llu %d%c")` does (an optional trailing newline, and
   * nothing else after the length) and adds the range, acknowledged. Throws
   * KernelError EINVAL for anything else or a length below 1 (the table is
   * unchanged), ENOSPC when the table is full.
   */
  store(text: string): void {
    const parsed = scanSectorLength(text);
    if (parsed === undefined) throw new KernelError('EINVAL', 'badblocks_store: Invalid argument');
    const { sector, length } = parsed;
    if (length <= 0n) throw new KernelError('EINVAL', 'badblocks_store: Invalid argument');
    if (this.set(sector, length, true) !== 0) throw new KernelError('ENOSPC', 'badblocks_store: No space left on device');
  }

  /** A copy of the entries, for tests and dumps: `[sector, length, acknowledged]`. */
  entries(): readonly (readonly [bigint, bigint, boolean])[] {
    return this.p.map((e) => [e.offset, e.len, e.ack] as const);
  }
}

const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * The kernel's `vsscanf(buf, "%llu %d%c")` as `badblocks_store()` uses it:
 * undefined unless both numbers are there and, when a character follows the
 * length, it is a newline. The sector wraps to 64 bits and the length to a
 * signed int, as `simple_strtoull()`/`simple_strtol()` assign them.
 */
function scanSectorLength(text: string): { sector: bigint; length: bigint } | undefined {
  let i = 0;
  while (isSpace(text[i])) i++;
  if (!isDigit(text[i])) return undefined;
  let j = i;
  while (isDigit(text[j])) j++;
  const sector = BigInt.asUintN(64, BigInt(text.slice(i, j)));
  i = j;
  while (isSpace(text[i])) i++;
  let neg = false;
  if (text[i] === '-') {
    neg = true;
    i++;
  }
  if (!isDigit(text[i])) return undefined;
  j = i;
  while (isDigit(text[j])) j++;
  const mag = BigInt(text.slice(i, j));
  const length = BigInt.asIntN(32, neg ? -mag : mag);
  if (j < text.length && text[j] !== '\n') return undefined;
  return { sector, length };
}

/**
 * `__add_badblock_range()` (drivers/nvdimm/badrange.c): the sectors of
 * `[offset, offset + len)` bytes, partial sectors included, added
 * acknowledged.
 */
export function addBadblockRange(bb: Badblocks, offset: number, len: number): void {
  const start = Math.floor(offset / 512);
  const end = Math.floor((offset + len - 1) / 512);
  bb.set(BigInt(start), BigInt(end - start + 1), true);
}

/**
 * `is_bad_pmem()` (drivers/nvdimm/nd.h) for a byte range: whether any
 * sector it touches is listed.
 */
export function isBadPmem(bb: Badblocks | undefined, offset: number, len: number): boolean {
  if (bb === undefined || bb.count === 0 || len <= 0) return false;
  const s = Math.floor(offset / 512);
  const e = Math.ceil((offset + len) / 512);
  return bb.check(BigInt(s), BigInt(e - s)) !== 0;
}
